//! The MES side: the backup job as a state machine, how the MES answers are read, the polling
//! policy, the environment URL and credentials, file names from the server, the download's bounds,
//! the sidecar that records the backup window.

mod content_disposition;
mod credentials;
mod download_guard;
mod guid;
mod job;
mod messages;
mod polling;
mod response;
mod shape;
mod sidecar;
mod time;
mod url;

pub(crate) use content_disposition::is_windows_device_name;
pub use content_disposition::{
    choose_file_name, is_safe_file_name, parse_filename, sanitize_file_name, FileNameChoice, MAX_FILE_NAME_BYTES,
};
pub use credentials::{
    check_transport, resolve_credentials, Credentials, GivenCredentials, Unresolved, NO_CREDENTIALS,
};
pub use download_guard::{
    human_bytes, human_duration, Abandon, DownloadGuard, DownloadLimits, DEFAULT_MAX_SIZE, DEFAULT_SPEED_LIMIT,
    DEFAULT_SPEED_TIME_MS,
};
pub use guid::{parse_guid, parse_guid_body};
pub use job::{
    Action, CommitFailure, Job, JobEvent, JobSpec, JobTimes, Method, Mode, Outcome, Phase, ReceiveFailure,
    ReceivedBody, Request, SavedPackage, TransportError, TransportPhase, PROGRESS_INTERVAL_MS,
};
pub use polling::{parse_retry_after, Jitter, PollPolicy};
pub use response::{
    classify_get, classify_ready, classify_start, GetAnswer, ReadyDownload, ResponseHead, StartAnswer, SMALL_BODY_LIMIT,
};
pub use shape::{HeldBytes, HeldShapeProbe, Shape, ShapeProbe};
pub use sidecar::{backup_window, sidecar_file_name, tool_id, BackupWindow, Sidecar, SIDECAR_FORMAT, SIDECAR_SUFFIX};
pub use time::{civil_date, format_http_date, format_rfc3339_millis, parse_http_date, parse_rfc3339};
pub(crate) use url::is_loopback_host;
pub use url::{encode_segment, EnvUrl, BACKUP_PATH};
