//! Error kinds between the core and WIT: one table, both directions.

use mesbackup_core::ErrorKind as Core;

use super::exports::cmf::mesbackup::types::ErrorKind as Wit;

const PAIRS: [(Core, Wit); 14] = [
    (Core::InvalidArgument, Wit::InvalidArgument),
    (Core::Unauthorized, Wit::Unauthorized),
    (Core::Forbidden, Wit::Forbidden),
    (Core::InvalidDatabase, Wit::InvalidDatabase),
    (Core::BackupNotFound, Wit::BackupNotFound),
    (Core::ServerError, Wit::ServerError),
    (Core::UnexpectedResponse, Wit::UnexpectedResponse),
    (Core::Timeout, Wit::Timeout),
    (Core::DownloadLost, Wit::DownloadLost),
    (Core::Integrity, Wit::Integrity),
    (Core::Io, Wit::Io),
    (Core::Network, Wit::Network),
    (Core::Cancelled, Wit::Cancelled),
    (Core::Internal, Wit::Internal),
];

// A core kind added later without a WIT case is reported as `internal` rather than trapping; the
// suite's WIT dump and the kinds test (every ErrorKind::ALL code has a case) catch the omission.
pub(super) fn kind_to_wit(kind: Core) -> Wit {
    PAIRS.iter().find(|(c, _)| *c == kind).map(|(_, w)| *w).unwrap_or(Wit::Internal)
}

pub(super) fn kind_from_wit(kind: Wit) -> Core {
    PAIRS.iter().find(|(_, w)| *w == kind).map(|(c, _)| *c).unwrap_or(Core::Internal)
}

pub(super) fn error_from_wit(e: super::Error) -> mesbackup_core::Error {
    mesbackup_core::Error::new(kind_from_wit(e.kind), e.message).with_guid(e.guid.as_deref())
}
