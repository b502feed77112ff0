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

pub use content_disposition::{FileNameChoice, MAX_FILE_NAME_BYTES, choose_file_name, is_safe_file_name, parse_filename, sanitize_file_name};
pub use credentials::{Credentials, GivenCredentials, NO_CREDENTIALS, Unresolved, check_transport, resolve_credentials};
pub use download_guard::{Abandon, DEFAULT_MAX_SIZE, DEFAULT_SPEED_LIMIT, DEFAULT_SPEED_TIME_MS, DownloadGuard, DownloadLimits, human_bytes, human_duration};
pub use guid::{parse_guid, parse_guid_body};
pub use job::{Action, CommitFailure, Job, JobEvent, JobSpec, JobTimes, Method, Mode, Outcome, PROGRESS_INTERVAL_MS, Phase, ReceiveFailure, ReceivedBody, Request, SavedPackage, TransportError, TransportPhase};
pub use polling::{Jitter, PollPolicy, parse_retry_after};
pub use response::{GetAnswer, ReadyDownload, ResponseHead, SMALL_BODY_LIMIT, StartAnswer, classify_get, classify_ready, classify_start};
pub use shape::{HeldBytes, HeldShapeProbe, Shape, ShapeProbe};
pub use sidecar::{BackupWindow, SIDECAR_FORMAT, SIDECAR_SUFFIX, Sidecar, backup_window, sidecar_file_name, tool_id};
pub use time::{format_http_date, format_rfc3339_millis, parse_http_date, parse_rfc3339};
pub use url::{BACKUP_PATH, EnvUrl, encode_segment};
pub(crate) use content_disposition::is_windows_device_name;
pub(crate) use url::is_loopback_host;
