//! Every sentence the backup job says to an administrator, in one place: what happened, what it
//! means for the backup on the server (still there, resumable by GUID, or gone), and what to do next.
//! The job decides; this module words it. Front ends print these as they are, in every language the
//! project speaks, so a message reads the same from the CLI, Python, JavaScript and PowerShell.

use crate::error::quote_untrusted;

/// `--sql-backup-finished` (or its spelling elsewhere) is not a time.
pub(super) fn sql_time_not_rfc3339(text: &str) -> String {
    format!(
        "the SQL Server backup completion time {} is not an RFC 3339 time: use for example \
         2026-11-25T09:40:00Z or 2026-11-25T10:40:00+01:00",
        quote_untrusted(text, 60)
    )
}

/// The name asked for a package cannot be a file name.
pub(super) fn unsafe_file_name(name: &str) -> String {
    format!(
        "{} is not a safe file name: use a plain name without folders, control characters or characters \
         Windows forbids",
        quote_untrusted(name, 100)
    )
}

/// The folder check before the first GET of a download by GUID failed: nothing was sent.
pub(super) fn folder_refused_before_download(guid: &str, why: &str) -> String {
    format!(
        "The package of backup {guid} could not be stored: {why}. Nothing was sent to the MES, so the backup \
         continues on the server: fix the folder, then resume it with `mesbackup download {guid}`."
    )
}

/// The folder check before the POST failed: no backup was started.
pub(super) fn folder_refused_before_backup(why: &str) -> String {
    format!(
        "A package could not be stored: {why}. Nothing was sent to the MES (no backup was started): fix the \
         folder (permissions, free space, a read-only or immutable file system) and run again."
    )
}

/// Why a request is tried again: the MES could not be reached (nothing was sent).
pub(super) fn unreachable(detail: &str) -> String {
    format!("cannot reach the MES ({detail})")
}

/// Why a GET is tried again: the connection failed.
pub(super) fn connection_problem(detail: &str) -> String {
    format!("connection problem ({detail})")
}

/// The POST may have reached the server, and no answer came: it is not sent again.
pub(super) fn backup_request_unanswered(detail: &str) -> String {
    format!(
        "The backup request was sent but no answer came back ({detail}). A backup may have been started on the \
         server; it was not re-sent, to avoid starting a second one. Check the Environment Manager, then start \
         again if needed."
    )
}

/// The answer to the POST could not be read as HTTP.
pub(super) fn backup_answer_unreadable(detail: &str) -> String {
    format!(
        "The answer to the backup request could not be read ({detail}). A backup may have been started on the \
         server; the request was not re-sent, to avoid starting a second one. Check any proxy or gateway in front \
         of the MES and the Environment Manager, then start again if needed."
    )
}

/// The answer to a GET could not be read as HTTP: it may have been the one-shot package.
pub(super) fn download_answer_unreadable(guid: &str, detail: &str) -> String {
    format!(
        "The answer to the download request for backup {guid} could not be read ({detail}). It was not asked \
         again: if that answer was the package, the server has deleted it. Check any proxy or gateway in front of \
         the MES, then try `mesbackup download {guid}` once: a 400 then means the backup is gone."
    )
}

/// Why a download is lost: fewer bytes than Content-Length.
pub(super) fn stream_ended_short(received: u64, expected: u64) -> String {
    format!("the stream ended after {received} of {expected} bytes")
}

/// Why a download is lost: the stream ended cleanly but the zip has no end.
pub(super) fn zip_incomplete(received: u64) -> String {
    format!("the stream ended cleanly after {received} bytes but the zip is incomplete (no end record)")
}

/// Why a download is lost: the connection broke.
pub(super) fn stream_broke(received: u64, detail: &str) -> String {
    format!("the stream broke after {received} bytes ({detail})")
}

/// The 200 carried something else than a package (a proxy's error page, typically).
pub(super) fn not_a_package(guid: &str, looks_like: &str, size: u64, kept_as: &str) -> String {
    format!(
        "The server answered 200 for backup {guid} but sent {looks_like} ({size} bytes) instead of a zip package; \
         it was kept as {kept_as} for diagnosis, not as a package. This is usually a proxy or gateway error page. \
         Try downloading {guid} once more; if the MES then answers 400, the backup is gone: start a new one."
    )
}

/// Writing the package failed during the download: the server's copy is gone.
pub(super) fn sink_failed(guid: &str, received: u64, why: &str) -> String {
    format!(
        "Saving backup {guid} failed after {received} bytes: {why}. The server deletes the file once a download \
         has started, so this backup is gone: fix the problem (free space, permissions) and start a new backup."
    )
}

/// A clash was resolved with another name (a note on the saved package).
pub(super) fn saved_under_another_name(wanted: &str, other: &str) -> String {
    format!(
        "A file named {wanted} already exists; this backup was saved as {other} so that nothing is overwritten. \
         Rename it when ready, or allow overwriting."
    )
}

/// Why a name could not be committed: it and its alternatives exist.
pub(super) fn name_and_alternatives_taken(wanted: &str) -> String {
    format!("{wanted} and its alternatives already exist")
}

/// Why the rescue name could not be committed: it exists.
pub(super) fn already_exists(name: &str) -> String {
    format!("{name} already exists")
}

/// The complete package was kept as `<guid>.zip` after its own name failed.
pub(super) fn kept_under_rescue_name(guid: &str, wanted: &str, why: &str, location: &str) -> String {
    format!(
        "Backup {guid} was downloaded completely but could not be saved as {wanted}: {why}. It was kept as \
         {location} instead, with its sidecar (a name the installer does not pick up): check it with \
         `mesbackup verify`, then rename it."
    )
}

/// Neither the wanted name nor the rescue name could be committed: the package is removed.
pub(super) fn rescue_failed(guid: &str, wanted: &str, why: &str, kept: &str, also: &str) -> String {
    format!(
        "Backup {guid} was downloaded completely but could not be saved as {wanted}: {why}; keeping it as {kept} \
         failed too ({also}), so it was removed. The server has deleted its copy: fix the folder and start a new \
         backup."
    )
}

/// Cancelled before anything was sent.
pub(super) fn cancelled_before_request() -> String {
    "Cancelled before the backup was requested: nothing was sent to the MES.".to_owned()
}

/// Cancelled while the POST was out: a backup may be running without a known GUID.
pub(super) fn cancelled_while_starting() -> String {
    "Cancelled while starting the backup. If the request reached the MES, a backup may be running on the \
     server; its GUID is unknown."
        .to_owned()
}

/// Cancelled during the one-shot download: the backup is gone.
pub(super) fn cancelled_while_downloading(guid: &str, received: u64) -> String {
    format!(
        "Cancelled during the download of backup {guid} after {received} bytes. The server deletes the file once \
         a download has started, so this backup is gone: start a new backup."
    )
}

/// Cancelled while waiting: the backup continues on the server.
pub(super) fn cancelled_while_waiting(guid: &str) -> String {
    format!(
        "Cancelled while waiting. The backup continues on the server: resume it later with its GUID {guid} (for \
         example `mesbackup download {guid}`)."
    )
}

/// Still pending at the deadline: resumable.
pub(super) fn still_preparing(guid: &str, waited: &str) -> String {
    format!(
        "Backup {guid} was still being prepared after {waited}. It continues on the server: resume with its GUID \
         (for example `mesbackup download {guid}`), or allow a longer timeout."
    )
}

/// Too many failures in a row.
pub(super) fn giving_up(attempts: u32, reason: &str, resumable_guid: Option<&str>, maybe_consumed: bool) -> String {
    let resume = resumable_guid
        .map(|g| format!(" The backup may still be on the server: resume with its GUID {g}."))
        .unwrap_or_default();
    let lost = if maybe_consumed {
        " A request failed after it may have been answered, so the one-shot file may already be gone."
    } else {
        ""
    };
    format!("Giving up after {attempts} attempts: {reason}.{resume}{lost}")
}

/// Why a backup is started again within the restart budget.
pub(super) fn restart_reason(lost_guid: &str, why: &str) -> String {
    format!("backup {lost_guid} was lost: {why}")
}

/// The note a restart leaves on the saved package.
pub(super) fn restarted_note(reason: &str) -> String {
    format!("Restarted after a lost download: {reason}.")
}

/// The one-shot download is gone and no restart is allowed.
pub(super) fn download_lost(lost_guid: &str, why: &str, can_restart_with_budget: bool) -> String {
    let hint = if can_restart_with_budget {
        "Start a new backup (or allow automatic restarts with a restart budget)."
    } else {
        "Start a new backup of the same database."
    };
    format!(
        "The download of backup {lost_guid} did not complete: {why}. The server deletes the file as soon as a \
         download stream closes, so this backup is gone; nothing was saved under a package name. {hint}"
    )
}

/// A driver called a `handle_*` the job's state does not expect: a bug in that driver.
pub(super) fn misuse(call: &str, state: &str) -> String {
    format!(
        "internal error: the driver reported {call} while the job was {state}; the job was stopped so that nothing \
         happens that nobody designed. Please report this."
    )
}
