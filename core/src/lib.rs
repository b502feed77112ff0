//! mesbackup-core: everything mesbackup knows about the MES ClickHouse backup API, with no I/O.
//!
//! Drivers (the async `client`, the CLI, the bindings) feed this crate what happened (responses,
//! bytes written, time passing) and do what it says (send a request, sleep, open or commit a sink).
//! Nothing here reads a clock, touches a socket or the file system, so the same logic runs natively,
//! in WebAssembly and in a virtual-clock simulation.

pub mod error;
pub mod file_modes;
pub mod mes;
pub mod naming;
pub mod package;
pub mod restore;

pub use error::{Error, ErrorKind};
// The paths before the modules were grouped by concern (transitional: removed once every user
// names the new ones).
pub use mes::{content_disposition, credentials, download_guard, guid, job, polling, response, sidecar, url};
pub use mes::shape as package_shape;
pub use mes::time as httpdate;
pub use package::zip as zipstream;
pub use package::{cityhash, entry_path, inspect, verify};
pub use restore::clickhouse_url;
pub use restore::plan as restore_plan;
