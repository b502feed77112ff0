//! Which outcome decides the exit code of a run over several environments: the worst one, by one
//! documented order (docs/config.md, "Exit code"), not the first in file order.
//!
//! Worst first:
//! 1. cancelled (130): the run was stopped; everything after is unknown.
//! 2. a backup is lost or unsound: download_lost (10), integrity (11), io (12) while saving. The
//!    server's one-shot package may be gone; it needs a person now.
//! 3. the server or the way to it: server_error (7), unexpected_response (8), timeout (9),
//!    network (13), backup_not_found (6), internal (1). Nothing was saved; the next night may work.
//! 4. refused: unauthorized (3), forbidden (4), invalid_database (5), invalid_argument (2): a
//!    credential or setting to fix.
//! 5. a hook or the wait_until check failed (21): the SQL Server side, nothing was sent.
//! 6. housekeeping after the packages were saved: stage or retention failed (any code). The
//!    backups are safe.
//!
//! Within one rank the first environment in file order decides.

use crate::error::ErrorKind;

/// Exit code of `run` when a hook or the `wait_until` check failed.
pub const EXIT_HOOK_FAILED: u8 = 21;

/// How bad an environment's outcome is; the derived order is the severity (worst last).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Succeeded.
    Ok,
    /// Stage or retention failed after the packages were saved.
    Housekeeping,
    /// A hook or the wait_until check failed.
    Hook,
    /// Credentials or a setting were refused.
    Refused,
    /// The server, the network or a timeout.
    Server,
    /// A backup was lost or is unsound.
    Lost,
    /// The run was cancelled.
    Cancelled,
}

/// The severity of an environment that ended with `exit_code`; `after_save` is true when the
/// failure came after its packages were saved (stage, retention).
pub fn severity(exit_code: u8, after_save: bool) -> Severity {
    let code = i32::from(exit_code);
    if code == 0 {
        return Severity::Ok;
    }
    if code == ErrorKind::Cancelled.exit_code() {
        return Severity::Cancelled;
    }
    if after_save {
        return Severity::Housekeeping;
    }
    if exit_code == EXIT_HOOK_FAILED {
        return Severity::Hook;
    }
    match ErrorKind::ALL.into_iter().find(|k| k.exit_code() == code) {
        Some(ErrorKind::DownloadLost | ErrorKind::Integrity | ErrorKind::Io) => Severity::Lost,
        Some(
            ErrorKind::Unauthorized | ErrorKind::Forbidden | ErrorKind::InvalidDatabase | ErrorKind::InvalidArgument,
        ) => Severity::Refused,
        _ => Severity::Server,
    }
}

/// The exit code of a run: the worst of its environments' `(exit_code, after_save)`, the first in
/// order among equals; 0 when all succeeded.
pub fn worst_exit_code(outcomes: impl IntoIterator<Item = (u8, bool)>) -> u8 {
    let mut worst: Option<(Severity, u8)> = None;
    for (code, after_save) in outcomes {
        let s = severity(code, after_save);
        if worst.is_none_or(|(w, _)| s > w) {
            worst = Some((s, code));
        }
    }
    worst.map_or(0, |(_, code)| code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_order_is_the_documented_one() {
        let ranked = [
            severity(12, true),
            severity(21, false),
            severity(3, false),
            severity(7, false),
            severity(10, false),
            severity(130, false),
        ];
        assert!(ranked.windows(2).all(|w| w[0] < w[1]), "{ranked:?}");
        assert_eq!(severity(0, false), Severity::Ok);
        assert_eq!(severity(11, false), Severity::Lost);
        assert_eq!(severity(12, false), Severity::Lost);
        assert_eq!(severity(13, false), Severity::Server);
        assert_eq!(severity(9, false), Severity::Server);
        assert_eq!(severity(2, false), Severity::Refused);
        assert_eq!(severity(130, true), Severity::Cancelled, "a cancellation is never housekeeping");
    }

    #[test]
    fn the_worst_decides_not_the_first() {
        assert_eq!(worst_exit_code([]), 0);
        assert_eq!(worst_exit_code([(0, false), (0, false)]), 0);
        assert_eq!(worst_exit_code([(21, false), (7, false)]), 7);
        assert_eq!(worst_exit_code([(7, false), (10, false), (13, false)]), 10);
        assert_eq!(worst_exit_code([(12, true), (21, false)]), 21, "a failed retention ranks below a hook");
        assert_eq!(worst_exit_code([(13, false), (7, false)]), 13, "among equals, the first");
        assert_eq!(worst_exit_code([(11, false), (130, false)]), 130);
    }
}
