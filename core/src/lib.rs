//! mesbackup-core: everything mesbackup knows about the MES ClickHouse backup API, with no I/O.
//!
//! Drivers (the async `client`, the CLI, the bindings) feed this crate what happened (responses,
//! bytes written, time passing) and do what it says (send a request, sleep, open or commit a sink).
//! Nothing here reads a clock, touches a socket or the file system, so the same logic runs natively,
//! in WebAssembly and in a virtual-clock simulation.

pub mod cityhash;
pub mod clickhouse_url;
pub mod content_disposition;
pub mod credentials;
pub mod entry_path;
pub mod error;
pub mod file_modes;
pub mod guid;
pub mod httpdate;
pub mod inspect;
pub mod job;
pub mod naming;
pub mod package_shape;
pub mod polling;
pub mod response;
pub mod restore_plan;
pub mod sidecar;
pub mod url;
pub mod verify;
pub mod zipstream;

pub use error::{Error, ErrorKind};
