//! The backup job as a sans-IO state machine (in the style of quinn-proto's `Connection`).
//!
//! A driver owns the sockets, the clock and the sink. It repeatedly:
//! 1. drains [`Job::poll_event`] (what front ends show) and takes the next [`Job::poll_action`];
//! 2. performs it (send a request, read a small body, stream a body into a sink, commit, sleep);
//! 3. reports what happened through the `handle_*` method that answers that action, with the
//!    current time.
//!
//! Each action has its answer (quinn-proto's pairing of a `poll_*` with the `handle_*` that reports
//! back):
//!
//! | [`Action`] | answered by |
//! |---|---|
//! | `Prepare` | [`Job::handle_prepare`] |
//! | `Send` | [`Job::handle_response`], or [`Job::handle_transport_error`] |
//! | `ReadBody` | [`Job::handle_body`], or [`Job::handle_transport_error`] |
//! | `Receive` | [`Job::handle_progress`] while bytes arrive, then [`Job::handle_received`] (unless the job abandoned the body: [`Job::is_receiving`] turned false) |
//! | `Commit` | [`Job::handle_commit`] |
//! | `Discard` | nothing |
//! | `Sleep` | [`Job::handle_timeout`] once [`Job::poll_timeout`] is reached |
//!
//! [`Job::cancel`] may be called at any time (Ctrl-C, an abort signal); the job then queues what is
//! left to do (a `Discard`) and ends.
//!
//! The job never sleeps, reads a clock or touches a socket, so a four-hour backup can be simulated in
//! microseconds and every front end behaves the same. It encodes the rules that protect data:
//! - **one-shot download**: after a 200 the GUID is spent. If the stream breaks, the only way to get
//!   that backup is a new POST, and only within the restart budget the caller granted;
//! - **no silent second backup**: a POST that may have reached the server is never re-sent;
//! - **never lose a finished package**: a name clash on commit picks another name, it never
//!   overwrites unless asked, and a complete download is not thrown away by a late cancel.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use super::content_disposition::{is_safe_file_name, MAX_FILE_NAME_BYTES};
use super::download_guard::{Abandon, DownloadGuard, DownloadLimits};
use super::messages;
use super::polling::{Jitter, PollPolicy};
use super::response::{
    classify_get, classify_ready, classify_start, GetAnswer, ReadyDownload, ResponseHead, StartAnswer, SMALL_BODY_LIMIT,
};
use super::shape::Shape;
use super::sidecar::{sidecar_file_name, tool_id, Sidecar, SIDECAR_FORMAT};
use super::time::format_rfc3339_millis;
use super::url::EnvUrl;
use crate::error::{Error, ErrorKind};
use crate::naming::validate_database_name;

/// Progress events are throttled to this interval so every front end shows the same cadence.
pub const PROGRESS_INTERVAL_MS: u64 = 250;
/// Name clashes resolved by picking another name before giving up.
const MAX_COMMIT_ATTEMPTS: u32 = 5;

/// What a job does with the MES backup API: start a backup, download one, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// POST, wait, download.
    Backup,
    /// POST only; the outcome is the GUID.
    StartOnly,
    /// Wait for and download a job started earlier.
    Download,
    /// Exactly one GET: the package if ready, otherwise "still pending".
    DownloadIfReady,
}

/// What the caller asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobSpec {
    /// What the job does: start and download, start only, or download a backup started earlier.
    pub mode: Mode,
    /// Base URL of the MES environment whose backup endpoints are called.
    pub env: EnvUrl,
    /// Needed to start (and restart) a backup; optional when downloading a known GUID.
    pub database: Option<String>,
    /// GUID of a backup started earlier (e.g. by `StartOnly`); required by `Download` and `DownloadIfReady`.
    /// Once a POST is accepted, the job follows the server's new GUID instead.
    pub guid: Option<String>,
    /// Polling delays, retry back-off and timeouts (request, overall wait, download stall).
    #[serde(default)]
    pub policy: PollPolicy,
    /// New POSTs allowed after a lost one-shot download. 0: never start a backup the caller did not ask for.
    #[serde(default)]
    pub restart_budget: u32,
    /// Save under this name (e.g. an installer package name) instead of the server's.
    #[serde(default)]
    pub file_name: Option<String>,
    /// Replace an existing file of the package's name instead of saving under another name (see
    /// [`Action::Commit`]). Never applies to the `<guid>.zip` rescue copy.
    #[serde(default)]
    pub overwrite: bool,
    /// Seed of the jitter sequence; drivers take it from the OS, tests fix it.
    #[serde(default)]
    pub jitter_seed: u64,
    /// When the SQL Server backups completed (RFC 3339), recorded in the sidecar for the backup window.
    #[serde(default)]
    pub sql_backup_finished_at: Option<String>,
    /// Bounds on each download: low-speed limit, overall timeout, size cap.
    #[serde(default)]
    pub download_limits: DownloadLimits,
}

impl JobSpec {
    /// A spec for `mode` against `env` with every option at its default: no database or GUID, default
    /// policy and download limits, no restarts, no overwrite, jitter seed 0. Set what the mode needs.
    pub fn new(mode: Mode, env: EnvUrl) -> JobSpec {
        JobSpec {
            mode,
            env,
            database: None,
            guid: None,
            policy: PollPolicy::default(),
            restart_budget: 0,
            file_name: None,
            overwrite: false,
            jitter_seed: 0,
            sql_backup_finished_at: None,
            download_limits: DownloadLimits::default(),
        }
    }

    /// A spec that backs up `database` (POST, wait, download), other options at their defaults.
    pub fn backup(env: EnvUrl, database: &str) -> JobSpec {
        JobSpec { database: Some(database.to_owned()), ..JobSpec::new(Mode::Backup, env) }
    }

    /// A spec that waits for and downloads the backup started earlier under `guid`, other options at
    /// their defaults.
    pub fn download(env: EnvUrl, guid: &str) -> JobSpec {
        JobSpec { guid: Some(guid.to_owned()), ..JobSpec::new(Mode::Download, env) }
    }
}

/// HTTP method of a [`Request`]; serialised in upper case (`"POST"`, `"GET"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    /// Start a backup: `POST {env}/environment/clickhouse/backup/{database}`.
    Post,
    /// Ask for a started backup, which answers "pending" or the one-shot package itself:
    /// `GET {env}/environment/clickhouse/backup/{guid}`.
    Get,
}

/// An HTTP request the driver must send (it has no body); carried by [`Action::Send`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// `POST` to start a backup, `GET` to poll for or download it.
    pub method: Method,
    /// Complete URL, built from the spec's environment URL, its path segment percent-encoded.
    pub url: String,
    /// Deadline for the status line and headers.
    pub timeout_ms: u64,
}

/// What the driver must do next.
// `Commit` carries the sidecar and is much larger than the other variants. One action exists at a
// time (the driver takes it, acts, reports back), so boxing would add an allocation per step to save
// bytes nobody keeps.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Check that a package could be stored (`SinkFactory::prepare`: the folder exists, is writable,
    /// is not read-only) before the request that cannot be undone; report `handle_prepare`.
    Prepare,
    /// Send this request; report `handle_response` or `handle_transport_error`.
    Send(Request),
    /// Read at most `limit` bytes of the current response's body; report `handle_body`.
    ReadBody {
        /// Most bytes to read ([`SMALL_BODY_LIMIT`]); a longer body is cut there.
        limit: usize,
    },
    /// Open a temporary sink for `file_name` and stream the current body into it, reporting
    /// `handle_progress` along the way and `handle_received` at the end. Keep one timer armed for
    /// `poll_timeout` and report `handle_timeout` when it fires; once `is_receiving` turns false
    /// (the job abandoned the download: too slow, stalled, too long, too large) stop reading, drop
    /// the body and go on with the next action, without `handle_received`.
    Receive {
        /// Name the package is to be saved under (the caller's, the server's or a fallback); the sink
        /// names its temporary file after it.
        file_name: String,
        /// Size in bytes the server announced (Content-Length), if it did.
        expected_len: Option<u64>,
    },
    /// Give the complete temporary file its final name (never replacing an existing file unless
    /// `overwrite`) and write `sidecar` beside it; report `handle_commit`.
    Commit {
        /// Final name to give the file; differs from the `Receive` name after a clash, or when a
        /// complete package is kept as `<guid>.zip` because its own name failed.
        file_name: String,
        /// Whether an existing file of that name may be replaced; if not, report `CommitFailure::Exists`.
        overwrite: bool,
        /// Record to write beside the package as `<file_name>.mesbackup.json`.
        sidecar: Sidecar,
    },
    /// Drop the temporary file (or keep it under `keep_as` for diagnosis). Nothing to report.
    Discard {
        /// Name to keep the file under for diagnosis (`<guid>.not-a-package.<ext>`, for a 200 that was
        /// not a package); `None`: delete it.
        keep_as: Option<String>,
    },
    /// Wait until this time, then report `handle_timeout`.
    Sleep {
        /// Time to wake up, in ms on the clock the driver passes as `now_ms`.
        until_ms: u64,
    },
}

/// Where a transport failure happened; it decides whether a request may be repeated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransportPhase {
    /// Before the request left (DNS, connect, TLS handshake): the server saw nothing.
    Connect,
    /// After the request may have been sent, before a complete status line and headers arrived.
    Response,
    /// While reading a body.
    Body,
    /// An answer arrived that the HTTP library cannot read (a header block over its size limit, a
    /// broken status line). The server did answer, so the request may have been acted on; asking
    /// again would not make the answer readable.
    Malformed,
}

/// A request or body that failed without a usable HTTP answer; reported through
/// [`Job::handle_transport_error`], or inside [`ReceiveFailure::Transport`] while receiving.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransportError {
    /// How far the exchange got; decides whether the request may be sent again.
    pub phase: TransportPhase,
    /// Short, secret-free description from the HTTP library.
    pub detail: String,
}

/// What a sink reports once a body has been streamed into it completely.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceivedBody {
    /// Bytes written to the sink.
    pub size: u64,
    /// Lowercase hex SHA-256 of those bytes.
    pub sha256: String,
    /// Whether the bytes form a whole zip, a truncated one or no zip at all (the sink's shape probe).
    pub shape: Shape,
}

/// Why a `Receive` ended without a complete body; reported through [`Job::handle_received`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "failure", rename_all = "snake_case")]
pub enum ReceiveFailure {
    /// The stream broke before its end. The one-shot download is lost (restarted within the budget).
    Transport(TransportError),
    /// Writing to the sink failed (disk full, permissions, a closed WritableStream).
    Sink(Error),
}

/// Why a `Commit` could not give the package its final name; reported through [`Job::handle_commit`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "failure", rename_all = "snake_case")]
pub enum CommitFailure {
    /// A file with that name exists and `overwrite` was false.
    Exists,
    /// Renaming the file or writing its sidecar failed (I/O error, unsafe name); the job then tries to
    /// keep the complete package as `<guid>.zip`.
    Sink(Error),
}

/// A package saved under its final name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SavedPackage {
    /// GUID of the server backup the package came from (the last one, after restarts).
    pub guid: String,
    /// Database backed up; `None` when the package was downloaded from a bare GUID.
    pub database: Option<String>,
    /// Final name of the package; differs from the one asked for after a name clash (see `notes`).
    pub file_name: String,
    /// Where the sink put it (a path for file sinks; the name for stream sinks).
    pub location: String,
    /// Name of the sidecar written beside the package (`<file_name>.mesbackup.json`).
    pub sidecar_file_name: String,
    /// Size of the package in bytes.
    pub size: u64,
    /// Lowercase hex SHA-256 of the package.
    #[cfg_attr(feature = "schema", schemars(pattern(r"^[0-9a-f]{64}$")))]
    pub sha256: String,
    /// When the MES accepted the POST (ms, the driver's clock); `None` when resumed from a GUID.
    pub started_at_ms: Option<u64>,
    /// When the package's 200 answer arrived and its download began (ms).
    pub ready_at_ms: Option<u64>,
    /// When the package got its final name (ms).
    pub finished_at_ms: u64,
    /// Things the administrator should know (fallback name used, name clash resolved, restarts).
    pub notes: Vec<String>,
}

/// How a job ended; read it from [`Job::outcome`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// The package was saved under its final name, with its sidecar.
    Saved(SavedPackage),
    /// StartOnly: the backup runs on the server under this GUID.
    Started {
        /// GUID to download the backup with later (`Mode::Download`).
        guid: String,
        /// Database being backed up.
        database: String,
    },
    /// DownloadIfReady: not ready yet; nothing was downloaded.
    Pending {
        /// GUID of the backup still being prepared; ask again later.
        guid: String,
    },
    /// The job failed; the error carries the GUID when there is one, so the backup can be resumed.
    Failed(Error),
}

/// What front ends show. Stable, serialised as the CLI's `--json` events (`"event": "<name>"`).
/// New kinds of event may be added in a minor release (hence `non_exhaustive`): a front end that
/// matches on it shows an event it does not know generically instead of failing to build.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum JobEvent {
    /// The MES accepted the backup (POST 202) under this GUID.
    Started {
        /// Database being backed up.
        database: String,
        /// GUID the server gave the backup; a download can be resumed from it.
        guid: String,
        /// When the acceptance was handled (ms, the driver's clock).
        at_ms: u64,
    },
    /// The backup is still being prepared; the next check is scheduled.
    Pending {
        /// GUID of the backup being waited for.
        guid: String,
        /// Pending answers received so far in this wait.
        polls: u32,
        /// Time waited so far, from the POST's acceptance (or from resuming the GUID), in ms.
        waited_ms: u64,
        /// Delay until the next GET, in ms; 0 for `DownloadIfReady`, which does not ask again.
        next_poll_in_ms: u64,
    },
    /// A transient failure (503, connection refused); the request is retried after delay_ms.
    Retrying {
        /// GUID of the backup, once there is one; `None` while starting it.
        guid: Option<String>,
        /// What failed, in words for the administrator.
        reason: String,
        /// Consecutive transient failures so far (the policy's `max_consecutive_failures` bounds them).
        failures: u32,
        /// Wait before the next attempt, in ms.
        delay_ms: u64,
    },
    /// The backup is ready and its one-shot download has started.
    Ready {
        /// GUID of the backup being downloaded.
        guid: String,
        /// Name the package is to be saved under.
        file_name: String,
        /// Size in bytes the server announced (Content-Length), if it did.
        size: Option<u64>,
    },
    /// Bytes received so far (at most about four per second per job, and once at the end).
    Progress {
        /// GUID of the backup being downloaded.
        guid: String,
        /// Bytes received so far.
        bytes: u64,
        /// Size in bytes the server announced (Content-Length), if it did.
        total: Option<u64>,
    },
    /// Something the administrator should know; the job goes on.
    Warning {
        /// GUID of the backup concerned, when there is one.
        guid: Option<String>,
        /// What happened, in words for the administrator.
        message: String,
    },
    /// A one-shot download was lost; a new backup is started within the restart budget.
    Restarting {
        /// GUID of the backup whose download was lost (the server no longer has it).
        lost_guid: String,
        /// New backups started so far, this one included.
        restarts_used: u32,
        /// New backups the caller allowed ([`JobSpec::restart_budget`]).
        restart_budget: u32,
        /// Why the download was lost, in words for the administrator.
        reason: String,
    },
    /// A package was saved under its final name, with its sidecar.
    Saved {
        /// The saved package: name, location, size, SHA-256 and times.
        package: SavedPackage,
    },
    /// The job failed; the error carries the GUID when there is one.
    Failed {
        /// What went wrong and what to do about it.
        error: Error,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Next {
    Post,
    Get,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
enum State {
    Preparing {
        next: Next,
    },
    PostInFlight,
    PostBody {
        head: ResponseHead,
    },
    GetInFlight,
    GetBody {
        head: ResponseHead,
    },
    Waiting {
        until_ms: u64,
        next: Next,
    },
    Receiving {
        ready: ReadyDownload,
        file_name: String,
        bytes: u64,
        last_progress_ms: u64,
        guard: DownloadGuard,
    },
    Committing {
        received: ReceivedBody,
        file_name: String,
        attempt: u32,
        /// Set when this commit keeps a complete package under `<guid>.zip` after its own name
        /// failed: (that name, why it failed).
        #[serde(default)]
        rescue_of: Option<(String, String)>,
    },
    Finished {
        outcome: Outcome,
    },
}

/// Coarse phase, for front ends (spinners, progress bars).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Checking the output folder before the POST, or starting the backup (POST and its answer).
    Starting,
    /// Waiting for the backup to be ready: checking the folder before a GET, the GETs and the waits between.
    Waiting,
    /// Streaming the package into the sink.
    Downloading,
    /// Giving the complete package its final name and writing its sidecar.
    Saving,
    /// The job has an outcome (a last `Discard` may still be queued: see [`Job::is_finished`]).
    Finished,
}

/// When this job's backup was accepted, became ready and was saved (Unix ms). The sidecar records
/// them; a set of sidecars adds up to the [`BackupWindow`](super::sidecar::BackupWindow) to re-run data
/// processing over.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobTimes {
    /// When the MES accepted the POST; `None` before that, and when a download was resumed from a GUID.
    pub started_at_ms: Option<u64>,
    /// When the package's 200 answer arrived and its download began.
    pub ready_at_ms: Option<u64>,
    /// When the package was saved under its final name.
    pub finished_at_ms: Option<u64>,
}

/// One backup job (see the module docs): create it with [`Job::new`], then take its actions, report
/// their results through the `handle_*` methods and show its events until [`Job::is_finished`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    spec: JobSpec,
    state: State,
    actions: VecDeque<Action>,
    events: VecDeque<JobEvent>,
    guid: Option<String>,
    jitter: Jitter,
    waiting_since_ms: u64,
    deadline_ms: u64,
    polls: u32,
    failures: u32,
    restarts_used: u32,
    /// A GET of this GUID failed before its answer arrived: the server may have answered 200 and
    /// deleted the file, so a later 400 means "lost", not "never existed".
    maybe_consumed: bool,
    times: JobTimes,
    notes: Vec<String>,
}

impl Job {
    /// Checks the spec and queues the first request.
    pub fn new(mut spec: JobSpec, now_ms: u64) -> Result<Job, Error> {
        spec.policy.validate()?;
        spec.download_limits.validate()?;
        if let Some(t) = &spec.sql_backup_finished_at {
            let ms = super::time::parse_rfc3339(t)
                .ok_or_else(|| Error::invalid_argument(messages::sql_time_not_rfc3339(t)))?;
            spec.sql_backup_finished_at = Some(format_rfc3339_millis(ms));
        }
        if let Some(db) = &spec.database {
            validate_database_name(db)?;
        }
        if let Some(name) = &spec.file_name {
            if !is_safe_file_name(name) {
                return Err(Error::invalid_argument(messages::unsafe_file_name(name)));
            }
        }
        let needs_guid = matches!(spec.mode, Mode::Download | Mode::DownloadIfReady);
        if needs_guid && spec.guid.is_none() {
            return Err(Error::invalid_argument("a download needs the GUID of a backup started earlier"));
        }
        if !needs_guid && spec.database.is_none() {
            return Err(Error::invalid_argument("starting a backup needs a database name"));
        }
        let mut job = Job {
            jitter: Jitter::new(spec.jitter_seed),
            // A job that starts a backup has no GUID until the POST is accepted: a GUID left in its
            // spec would otherwise reach its events and errors, and a front end would offer to
            // resume a backup that is not this one.
            guid: if needs_guid { spec.guid.clone() } else { None },
            spec,
            state: State::PostInFlight,
            actions: VecDeque::new(),
            events: VecDeque::new(),
            waiting_since_ms: now_ms,
            deadline_ms: 0,
            polls: 0,
            failures: 0,
            restarts_used: 0,
            maybe_consumed: false,
            times: JobTimes::default(),
            notes: Vec::new(),
        };
        if needs_guid {
            job.begin_waiting(now_ms);
            job.prepare_then(Next::Get);
        } else if job.spec.mode == Mode::Backup {
            job.prepare_then(Next::Post);
        } else {
            // Start only: nothing will be stored, so there is nothing to check.
            job.send(Next::Post);
        }
        Ok(job)
    }

    // ---- getters -------------------------------------------------------------------------------

    /// The spec as checked by `new` (`sql_backup_finished_at` normalised to RFC 3339 with milliseconds).
    pub fn spec(&self) -> &JobSpec {
        &self.spec
    }

    /// GUID of the backup this job follows: the spec's until a POST is accepted, then the server's.
    /// `None` while a backup is being started without one (also after a lost download is restarted).
    pub fn guid(&self) -> Option<&str> {
        self.guid.as_deref()
    }

    /// When the current backup was accepted, became ready and was saved; reset when a lost download is
    /// restarted.
    pub fn times(&self) -> JobTimes {
        self.times
    }

    /// New backups started so far after a lost one-shot download (at most the spec's `restart_budget`).
    pub fn restarts_used(&self) -> u32 {
        self.restarts_used
    }

    /// Coarse phase of the job, for spinners and progress bars.
    pub fn phase(&self) -> Phase {
        match self.state {
            State::Preparing { next: Next::Post } => Phase::Starting,
            State::Preparing { next: Next::Get } => Phase::Waiting,
            State::PostInFlight | State::PostBody { .. } => Phase::Starting,
            State::GetInFlight | State::GetBody { .. } | State::Waiting { .. } => Phase::Waiting,
            State::Receiving { .. } => Phase::Downloading,
            State::Committing { .. } => Phase::Saving,
            State::Finished { .. } => Phase::Finished,
        }
    }

    /// How the job ended, once it has; `None` while it runs. Queued actions (a last `Discard`) may
    /// remain: keep driving until [`Job::is_finished`].
    pub fn outcome(&self) -> Option<&Outcome> {
        match &self.state {
            State::Finished { outcome } => Some(outcome),
            _ => None,
        }
    }

    /// True once the job has an outcome and the driver has taken every queued action; stop driving then.
    pub fn is_finished(&self) -> bool {
        matches!(self.state, State::Finished { .. }) && self.actions.is_empty()
    }

    /// True while the body of a `Receive` is wanted; false once the job abandoned it (or it ended).
    pub fn is_receiving(&self) -> bool {
        matches!(self.state, State::Receiving { .. })
    }

    /// A spec that resumes this job from its GUID in another process (after a timeout or Ctrl-C).
    pub fn resume_spec(&self) -> Option<JobSpec> {
        let guid = self.guid.clone()?;
        Some(JobSpec { mode: Mode::Download, guid: Some(guid), ..self.spec.clone() })
    }

    // ---- polls ---------------------------------------------------------------------------------

    /// The next thing the driver must do; call it after `new` and after every `handle_*` or
    /// `cancel`, until it answers `None`. Each action names the `handle_*` that answers it.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// What front ends show (started, pending, progress, saved, failed...); drain it after every
    /// `handle_*` or `cancel`, before taking the next action.
    pub fn poll_event(&mut self) -> Option<JobEvent> {
        self.events.pop_front()
    }

    /// When the job next needs `handle_timeout`: the end of a wait, or the nearest deadline of a
    /// download's guard (stall, low-speed sample, overall timeout).
    pub fn poll_timeout(&self) -> Option<u64> {
        match &self.state {
            State::Waiting { until_ms, .. } => Some(*until_ms),
            State::Receiving { guard, .. } => Some(guard.next_deadline()),
            _ => None,
        }
    }

    // ---- events from the driver ----------------------------------------------------------------

    /// Answers `Prepare`: whether a package could be stored where it is to go.
    pub fn handle_prepare(&mut self, result: Result<(), Error>, _now_ms: u64) {
        let State::Preparing { next } = self.state else {
            return self.misuse("handle_prepare");
        };
        let e = match result {
            Ok(()) => return self.send(next),
            Err(e) => e,
        };
        let message = match (next, self.guid.as_deref()) {
            (Next::Get, Some(guid)) => messages::folder_refused_before_download(guid, &e.message),
            _ => messages::folder_refused_before_backup(&e.message),
        };
        self.fail(Error::new(ErrorKind::Io, message));
    }

    /// Answers `Send`: call it with the status line and headers as soon as they have arrived (the
    /// body stays unread until the next action says how to read it).
    pub fn handle_response(&mut self, head: ResponseHead, now_ms: u64) {
        match self.state {
            State::PostInFlight => {
                self.state = State::PostBody { head };
                self.actions.push_back(Action::ReadBody { limit: SMALL_BODY_LIMIT });
            }
            State::GetInFlight if head.status == 200 => self.begin_receiving(&head, now_ms),
            State::GetInFlight => {
                self.state = State::GetBody { head };
                self.actions.push_back(Action::ReadBody { limit: SMALL_BODY_LIMIT });
            }
            _ => self.misuse("handle_response"),
        }
    }

    /// Answers `ReadBody`: the body of the current answer, at most `limit` bytes of it.
    pub fn handle_body(&mut self, body: &[u8], now_ms: u64) {
        match std::mem::replace(&mut self.state, State::PostInFlight) {
            State::PostBody { head } => {
                let database = self.spec.database.clone().unwrap_or_default();
                match classify_start(&head, body, &database, now_ms) {
                    StartAnswer::Started { guid } => self.on_started(guid, database, now_ms),
                    StartAnswer::RetryLater { after_ms, reason } => {
                        self.retry(Next::Post, ErrorKind::ServerError, reason, after_ms, now_ms)
                    }
                    StartAnswer::Failed(e) => self.fail(e),
                }
            }
            State::GetBody { head } => {
                let guid = self.guid.clone().unwrap_or_default();
                match classify_get(&head, body, &guid, now_ms) {
                    GetAnswer::Pending { retry_after_ms } => self.on_pending(retry_after_ms, now_ms),
                    GetAnswer::RetryLater { after_ms, reason } => {
                        self.retry(Next::Get, ErrorKind::ServerError, reason, after_ms, now_ms)
                    }
                    GetAnswer::Failed(e) if e.kind == ErrorKind::BackupNotFound && self.maybe_consumed => self
                        .lose_download(
                            "an earlier request for it failed before its answer arrived, and the server now \
                             reports it gone: it was most likely sent then and deleted"
                                .into(),
                            now_ms,
                            false,
                        ),
                    // A 200 is received (handle_response), never classified from a small body.
                    GetAnswer::Ready(_) => self.misuse("handle_body with a 200"),
                    GetAnswer::Failed(e) => self.fail(e),
                }
            }
            other => {
                self.state = other;
                self.misuse("handle_body");
            }
        }
    }

    /// Answers `Send` or `ReadBody` when it failed without a usable answer (no connection, no
    /// status line in time, the body of a small answer broke off, an unreadable answer).
    pub fn handle_transport_error(&mut self, error: TransportError, now_ms: u64) {
        if error.phase == TransportPhase::Malformed {
            return self.unreadable_answer(&error);
        }
        match self.state {
            State::PostInFlight | State::PostBody { .. } => {
                let nothing_sent = error.phase == TransportPhase::Connect;
                if nothing_sent {
                    self.retry(Next::Post, ErrorKind::Network, messages::unreachable(&error.detail), None, now_ms);
                } else {
                    // The server may have started a backup: re-sending could start a second one.
                    self.fail(Error::network(messages::backup_request_unanswered(&error.detail)));
                }
            }
            State::GetInFlight | State::GetBody { .. } => {
                if matches!(self.state, State::GetInFlight) && error.phase != TransportPhase::Connect {
                    self.maybe_consumed = true;
                }
                self.retry(Next::Get, ErrorKind::Network, messages::connection_problem(&error.detail), None, now_ms);
            }
            _ => self.misuse("handle_transport_error"),
        }
    }

    /// During `Receive`: call it as bytes reach the sink, with the total so far. The download's
    /// guard may abandon it here (over the size cap, too slow): then `is_receiving` turns false.
    pub fn handle_progress(&mut self, bytes: u64, now_ms: u64) {
        if let State::Receiving { bytes: b, last_progress_ms, ready, guard, .. } = &mut self.state {
            *b = bytes;
            if let Some(why) = guard.on_progress(bytes, now_ms) {
                return self.abandon_download(why, now_ms);
            }
            if now_ms.saturating_sub(*last_progress_ms) >= PROGRESS_INTERVAL_MS {
                *last_progress_ms = now_ms;
                let event = JobEvent::Progress {
                    guid: self.guid.clone().unwrap_or_default(),
                    bytes,
                    total: ready.content_length,
                };
                self.events.push_back(event);
            }
        }
    }

    /// Answers `Receive`: call it once the body has ended, completely (with the sink's summary) or
    /// not (the stream broke, or the sink failed). Not called when the job abandoned the body itself
    /// (`is_receiving` turned false during `handle_progress` or `handle_timeout`).
    pub fn handle_received(&mut self, result: Result<ReceivedBody, ReceiveFailure>, now_ms: u64) {
        let state = std::mem::replace(&mut self.state, State::PostInFlight);
        let State::Receiving { ready, file_name, bytes, .. } = state else {
            self.state = state;
            return self.misuse("handle_received");
        };
        let guid = self.guid.clone().unwrap_or_default();
        match result {
            Ok(received) => {
                self.events.push_back(JobEvent::Progress {
                    guid: guid.clone(),
                    bytes: received.size,
                    total: ready.content_length,
                });
                if let Some(expected) = ready.content_length.filter(|&n| n != received.size) {
                    let why = messages::stream_ended_short(received.size, expected);
                    return self.lose_download(why, now_ms, true);
                }
                match &received.shape {
                    Shape::Zip => {
                        self.state =
                            State::Committing { received, file_name: file_name.clone(), attempt: 0, rescue_of: None };
                        self.queue_commit(file_name, self.spec.overwrite, now_ms);
                    }
                    Shape::TruncatedZip => {
                        let why = messages::zip_incomplete(received.size);
                        self.lose_download(why, now_ms, true)
                    }
                    Shape::NotZip { looks_like } => {
                        let keep_as = diagnostic_name(&guid, looks_like);
                        self.actions.push_back(Action::Discard { keep_as: Some(keep_as.clone()) });
                        self.fail(Error::new(
                            ErrorKind::UnexpectedResponse,
                            messages::not_a_package(&guid, looks_like, received.size, &keep_as),
                        ));
                    }
                }
            }
            Err(ReceiveFailure::Transport(e)) => {
                self.lose_download(messages::stream_broke(bytes, &e.detail), now_ms, true)
            }
            Err(ReceiveFailure::Sink(e)) => {
                self.actions.push_back(Action::Discard { keep_as: None });
                self.fail(Error::new(ErrorKind::Io, messages::sink_failed(&guid, bytes, &e.message)));
            }
        }
    }

    /// Answers `Commit`: where the package now is, or why it could not be given its name.
    pub fn handle_commit(&mut self, result: Result<String, CommitFailure>, now_ms: u64) {
        let state = std::mem::replace(&mut self.state, State::PostInFlight);
        let State::Committing { received, file_name, attempt, rescue_of } = state else {
            self.state = state;
            return self.misuse("handle_commit");
        };
        let guid = self.guid.clone().unwrap_or_default();
        if let Some((wanted, why)) = rescue_of {
            return self.end_rescue(result, &guid, &wanted, &why, &file_name);
        }
        match result {
            Ok(location) => {
                self.times.finished_at_ms = Some(now_ms);
                let package = SavedPackage {
                    guid,
                    database: self.spec.database.clone(),
                    sidecar_file_name: sidecar_file_name(&file_name),
                    file_name,
                    location,
                    size: received.size,
                    sha256: received.sha256,
                    started_at_ms: self.times.started_at_ms,
                    ready_at_ms: self.times.ready_at_ms,
                    finished_at_ms: now_ms,
                    notes: self.notes.clone(),
                };
                self.events.push_back(JobEvent::Saved { package: package.clone() });
                self.state = State::Finished { outcome: Outcome::Saved(package) };
            }
            Err(CommitFailure::Exists) if attempt + 1 < MAX_COMMIT_ATTEMPTS => {
                let other = alternative_name(&file_name, &guid, attempt + 1);
                let note = messages::saved_under_another_name(&file_name, &other);
                self.events.push_back(JobEvent::Warning { guid: Some(guid), message: note.clone() });
                self.notes.push(note);
                self.state =
                    State::Committing { received, file_name: other.clone(), attempt: attempt + 1, rescue_of: None };
                self.queue_commit(other, self.spec.overwrite, now_ms);
            }
            Err(failure) => {
                let why = match failure {
                    CommitFailure::Exists => messages::name_and_alternatives_taken(&file_name),
                    CommitFailure::Sink(e) => e.message,
                };
                // The package is complete and the server's copy is gone: keep it under a name the
                // installer never picks up rather than throw it away.
                let keep = rescue_name(&guid);
                self.state = State::Committing {
                    received,
                    file_name: keep.clone(),
                    attempt: attempt + 1,
                    rescue_of: Some((file_name, why)),
                };
                self.queue_commit(keep, false, now_ms);
            }
        }
    }

    /// The result of keeping a complete package as `<guid>.zip` after its own name failed: either
    /// way the job fails (the package is not where it was asked to be), saying where it is.
    fn end_rescue(&mut self, result: Result<String, CommitFailure>, guid: &str, wanted: &str, why: &str, kept: &str) {
        let message = match result {
            Ok(location) => messages::kept_under_rescue_name(guid, wanted, why, &location),
            Err(failure) => {
                let also = match failure {
                    CommitFailure::Exists => messages::already_exists(kept),
                    CommitFailure::Sink(e) => e.message,
                };
                self.actions.push_back(Action::Discard { keep_as: None });
                messages::rescue_failed(guid, wanted, why, kept, &also)
            }
        };
        self.fail(Error::new(ErrorKind::Io, message));
    }

    /// Answers `Sleep`, and the timer of `poll_timeout` during `Receive`: call it when that time has
    /// come. Wakes the job when its `Sleep` is over, or lets a download's guard look at the clock (it
    /// may abandon the download: then `is_receiving` turns false).
    pub fn handle_timeout(&mut self, now_ms: u64) {
        match &mut self.state {
            State::Waiting { until_ms, next } => {
                let (until_ms, next) = (*until_ms, *next);
                if now_ms >= until_ms {
                    self.send(next);
                } else {
                    self.actions.push_back(Action::Sleep { until_ms });
                }
            }
            State::Receiving { guard, .. } => {
                if let Some(why) = guard.on_timeout(now_ms) {
                    self.abandon_download(why, now_ms);
                }
            }
            _ => {}
        }
    }

    /// A command, not an answer: the caller gave up (Ctrl-C, AbortSignal, task cancelled). Call it at
    /// any time; the job queues what is left to do (a `Discard` of a partial download) and ends.
    pub fn cancel(&mut self, _now_ms: u64) {
        let guid = self.guid.clone();
        let message = match &self.state {
            State::Finished { .. } => return,
            // The package is complete: finishing the rename is safer than throwing it away.
            State::Committing { .. } => return,
            State::Preparing { next: Next::Post } => messages::cancelled_before_request(),
            State::PostInFlight | State::PostBody { .. } => messages::cancelled_while_starting(),
            State::Receiving { bytes, .. } => {
                messages::cancelled_while_downloading(guid.as_deref().unwrap_or("?"), *bytes)
            }
            State::Preparing { next: Next::Get }
            | State::GetInFlight
            | State::GetBody { .. }
            | State::Waiting { .. } => messages::cancelled_while_waiting(guid.as_deref().unwrap_or("?")),
        };
        let receiving = matches!(self.state, State::Receiving { .. });
        self.actions.clear();
        if receiving {
            self.actions.push_back(Action::Discard { keep_as: None });
        }
        self.fail(Error::new(ErrorKind::Cancelled, message));
    }

    // ---- transitions ---------------------------------------------------------------------------

    fn send(&mut self, next: Next) {
        let (state, method, url) = match next {
            Next::Post => {
                let db = self.spec.database.as_deref().unwrap_or_default();
                (State::PostInFlight, Method::Post, self.spec.env.backup_start_url(db))
            }
            Next::Get => {
                let guid = self.guid.as_deref().unwrap_or_default();
                (State::GetInFlight, Method::Get, self.spec.env.backup_get_url(guid))
            }
        };
        self.state = state;
        self.actions.push_back(Action::Send(Request { method, url, timeout_ms: self.spec.policy.request_timeout_ms }));
    }

    /// Checks the destination before `next`, whose answer may be the one-shot package (a GET) or
    /// start a backup that a full or read-only folder would then destroy (a POST).
    fn prepare_then(&mut self, next: Next) {
        self.state = State::Preparing { next };
        self.actions.push_back(Action::Prepare);
    }

    fn sleep(&mut self, until_ms: u64, next: Next) {
        self.state = State::Waiting { until_ms, next };
        self.actions.push_back(Action::Sleep { until_ms });
    }

    fn begin_waiting(&mut self, now_ms: u64) {
        self.waiting_since_ms = now_ms;
        self.deadline_ms = now_ms.saturating_add(self.spec.policy.timeout_ms);
        self.polls = 0;
        self.failures = 0;
        self.maybe_consumed = false;
    }

    fn on_started(&mut self, guid: String, database: String, now_ms: u64) {
        self.guid = Some(guid.clone());
        self.times.started_at_ms = Some(now_ms);
        self.events.push_back(JobEvent::Started { database: database.clone(), guid: guid.clone(), at_ms: now_ms });
        if self.spec.mode == Mode::StartOnly {
            self.state = State::Finished { outcome: Outcome::Started { guid, database } };
            return;
        }
        self.begin_waiting(now_ms);
        // A backup is never ready the instant it is accepted: the first GET waits the minimum delay.
        let delay = self.spec.policy.pending_delay(0, self.jitter.next_u64(), None);
        self.sleep(now_ms.saturating_add(delay).min(self.deadline_ms), Next::Get);
    }

    fn on_pending(&mut self, retry_after_ms: Option<u64>, now_ms: u64) {
        self.polls += 1;
        self.failures = 0;
        let guid = self.guid.clone().unwrap_or_default();
        let waited = now_ms.saturating_sub(self.waiting_since_ms);
        if self.spec.mode == Mode::DownloadIfReady {
            // Front ends show it like any pending answer; there is no next poll.
            self.events.push_back(JobEvent::Pending {
                guid: guid.clone(),
                polls: self.polls,
                waited_ms: waited,
                next_poll_in_ms: 0,
            });
            self.state = State::Finished { outcome: Outcome::Pending { guid } };
            return;
        }
        if now_ms >= self.deadline_ms {
            return self.fail(self.timeout_error(waited));
        }
        let delay = self.spec.policy.pending_delay(waited, self.jitter.next_u64(), retry_after_ms);
        let until = now_ms.saturating_add(delay).min(self.deadline_ms);
        self.events.push_back(JobEvent::Pending {
            guid,
            polls: self.polls,
            waited_ms: waited,
            next_poll_in_ms: until - now_ms,
        });
        self.sleep(until, Next::Get);
    }

    fn timeout_error(&self, waited_ms: u64) -> Error {
        let guid = self.guid.as_deref().unwrap_or("?");
        Error::new(ErrorKind::Timeout, messages::still_preparing(guid, &human_duration(waited_ms)))
            .with_guid(self.guid.as_deref())
    }

    /// A request failed in a way worth repeating; `kind` is the failure's if it is not repeated.
    fn retry(&mut self, next: Next, kind: ErrorKind, reason: String, after_ms: Option<u64>, now_ms: u64) {
        self.failures += 1;
        let policy = &self.spec.policy;
        let out_of_time = next == Next::Get && now_ms >= self.deadline_ms;
        if self.failures > policy.max_consecutive_failures || out_of_time || self.spec.mode == Mode::DownloadIfReady {
            let resumable = if next == Next::Get { self.guid.as_deref() } else { None };
            let message = messages::giving_up(self.failures, &reason, resumable, self.maybe_consumed);
            return self.fail(Error::new(kind, message));
        }
        let mut delay = policy.failure_delay(self.failures, self.jitter.next_u64(), after_ms);
        if next == Next::Get {
            delay = delay.min(self.deadline_ms.saturating_sub(now_ms));
        }
        self.events.push_back(JobEvent::Retrying {
            guid: self.guid.clone(),
            reason,
            failures: self.failures,
            delay_ms: delay,
        });
        self.sleep(now_ms.saturating_add(delay), next);
    }

    fn begin_receiving(&mut self, head: &ResponseHead, now_ms: u64) {
        let guid = self.guid.clone().unwrap_or_default();
        let fallback = match &self.spec.database {
            Some(db) => format!("{db}.zip"),
            None => format!("{guid}.zip"),
        };
        let ready = classify_ready(head, &fallback);
        if let Some(note) = &ready.name_note {
            if self.spec.file_name.is_none() {
                self.notes.push(note.clone());
                self.events.push_back(JobEvent::Warning { guid: Some(guid.clone()), message: note.clone() });
            }
        }
        let file_name = self.spec.file_name.clone().unwrap_or_else(|| ready.file_name.clone());
        self.times.ready_at_ms = Some(now_ms);
        self.events.push_back(JobEvent::Ready { guid, file_name: file_name.clone(), size: ready.content_length });
        if let Some(why) = self.spec.download_limits.check_declared_length(ready.content_length) {
            // Nothing is opened: dropping the answer closes the stream, and the server's copy with it.
            return self.lose_download(why.describe(), now_ms, false);
        }
        self.actions.push_back(Action::Receive { file_name: file_name.clone(), expected_len: ready.content_length });
        let guard = DownloadGuard::new(self.spec.download_limits.clone(), self.spec.policy.stall_timeout_ms, now_ms);
        self.state = State::Receiving { ready, file_name, bytes: 0, last_progress_ms: now_ms, guard };
    }

    /// The guard gave up on the download in progress: it is lost like a broken stream.
    fn abandon_download(&mut self, why: Abandon, now_ms: u64) {
        self.state = State::PostInFlight;
        self.lose_download(why.describe(), now_ms, true);
    }

    /// The answer to the last request could not be read as HTTP. Not asked again: the server did
    /// answer, and another request would not make its answer readable (a POST may have started a
    /// backup; a GET may have been answered with the one-shot package).
    fn unreadable_answer(&mut self, error: &TransportError) {
        let message = match (&self.state, self.guid.as_deref()) {
            (State::GetInFlight | State::GetBody { .. }, Some(guid)) => {
                messages::download_answer_unreadable(guid, &error.detail)
            }
            _ => messages::backup_answer_unreadable(&error.detail),
        };
        self.fail(Error::new(ErrorKind::UnexpectedResponse, message));
    }

    fn queue_commit(&mut self, file_name: String, overwrite: bool, now_ms: u64) {
        let State::Committing { received, .. } = &self.state else { return };
        let ts = |ms: Option<u64>| ms.map(format_rfc3339_millis);
        let sidecar = Sidecar {
            format: SIDECAR_FORMAT.into(),
            tool: tool_id(),
            file_name: file_name.clone(),
            database: self.spec.database.clone(),
            guid: self.guid.clone().unwrap_or_default(),
            environment_url: self.spec.env.as_str().to_owned(),
            size: received.size,
            sha256: received.sha256.clone(),
            started_at: ts(self.times.started_at_ms),
            ready_at: ts(self.times.ready_at_ms),
            finished_at: ts(Some(now_ms)),
            server_file_name: None,
            sql_backup_finished_at: self.spec.sql_backup_finished_at.clone(),
        };
        self.actions.push_back(Action::Commit { file_name, overwrite, sidecar });
    }

    /// The one-shot download is gone. Restart within the budget, or fail with `download_lost`.
    fn lose_download(&mut self, why: String, now_ms: u64, discard: bool) {
        if discard {
            self.actions.push_back(Action::Discard { keep_as: None });
        }
        let lost = self.guid.clone().unwrap_or_default();
        let can_restart = self.restarts_used < self.spec.restart_budget && self.spec.database.is_some();
        if can_restart {
            self.restarts_used += 1;
            let reason = messages::restart_reason(&lost, &why);
            self.notes.push(messages::restarted_note(&reason));
            self.events.push_back(JobEvent::Restarting {
                lost_guid: lost,
                restarts_used: self.restarts_used,
                restart_budget: self.spec.restart_budget,
                reason,
            });
            self.guid = None;
            self.times = JobTimes::default();
            let _ = now_ms;
            self.prepare_then(Next::Post);
            return;
        }
        let message = messages::download_lost(&lost, &why, self.spec.database.is_some());
        self.fail(Error::new(ErrorKind::DownloadLost, message).with_guid(Some(&lost)));
    }

    /// The driver reported something this state does not expect: a bug in that driver. The job
    /// ends as an internal failure, in release builds too (as h11 turns a misuse into a protocol
    /// error), rather than carry on in a state nobody designed. A temporary file still open is
    /// discarded; a finished job keeps its outcome (its answer was given already).
    fn misuse(&mut self, call: &str) {
        let state = match &self.state {
            State::Finished { .. } => return,
            State::Preparing { .. } => "checking the output folder",
            State::PostInFlight | State::PostBody { .. } => "starting the backup",
            State::GetInFlight | State::GetBody { .. } => "asking for the backup",
            State::Waiting { .. } => "waiting",
            State::Receiving { .. } => "receiving the package",
            State::Committing { .. } => "saving the package",
        };
        let had_sink = matches!(self.state, State::Receiving { .. } | State::Committing { .. });
        self.actions.clear();
        if had_sink {
            self.actions.push_back(Action::Discard { keep_as: None });
        }
        self.fail(Error::new(ErrorKind::Internal, messages::misuse(call, state)));
    }

    fn fail(&mut self, error: Error) {
        let error = error.with_guid(self.guid.as_deref());
        self.events.push_back(JobEvent::Failed { error: error.clone() });
        self.state = State::Finished { outcome: Outcome::Failed(error) };
    }
}

/// Longest extension kept whole by [`alternative_name`]; anything longer is part of the stem.
const MAX_EXTENSION_BYTES: usize = 16;

/// `MESCDM.zip` -> `MESCDM.0f8fad5b.zip` (then `-2`, `-3`…): distinct, still a `.zip`, and traceable
/// to its GUID. A long name gives up the end of its stem (never half a UTF-8 character) so that the
/// result stays within [`MAX_FILE_NAME_BYTES`], like every name the job commits, which keeps its
/// sidecar's temporary file (`.<name>.mesbackup.json.<tag>.mesbackup-partial`, 43 bytes more)
/// within the 255 bytes of common file systems.
fn alternative_name(file_name: &str, guid: &str, attempt: u32) -> String {
    let short: String = guid.chars().filter(|c| c.is_ascii_hexdigit()).take(8).collect();
    let tag = if attempt <= 1 { short } else { format!("{short}-{attempt}") };
    let (stem, suffix) = match file_name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && ext.len() <= MAX_EXTENSION_BYTES => (stem, format!(".{tag}.{ext}")),
        _ => (file_name, format!(".{tag}")),
    };
    let mut room = MAX_FILE_NAME_BYTES.saturating_sub(suffix.len()).min(stem.len());
    while !stem.is_char_boundary(room) {
        room -= 1;
    }
    format!("{}{suffix}", &stem[..room])
}

/// Where a complete package is kept when its own name fails: never an installer package name.
fn rescue_name(guid: &str) -> String {
    format!("{guid}.zip")
}

/// A name that can never be mistaken for a package (nor picked up by the installer).
fn diagnostic_name(guid: &str, looks_like: &str) -> String {
    let ext = if looks_like.contains("HTML") {
        "html"
    } else if looks_like.contains("JSON") {
        "json"
    } else if looks_like.contains("text") || looks_like.contains("XML") {
        "txt"
    } else {
        "bin"
    };
    format!("{guid}.not-a-package.{ext}")
}

fn human_duration(ms: u64) -> String {
    let s = ms / 1000;
    match s {
        0 => format!("{ms} ms"),
        1..=119 => format!("{s} s"),
        120..=7199 => format!("{} min", s / 60),
        _ => format!("{:.1} h", s as f64 / 3600.0),
    }
}

#[cfg(test)]
mod tests;
