//! The MES side: the backup job as a state machine, how the MES answers are read, the polling
//! policy, the environment URL and credentials, file names from the server, the download's bounds,
//! the sidecar that records the backup window.

pub mod content_disposition;
pub mod credentials;
pub mod download_guard;
pub mod guid;
pub mod job;
pub mod polling;
pub mod response;
pub mod shape;
pub mod sidecar;
pub mod time;
pub mod url;
