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
pub mod retention;
pub mod run_config;
pub mod run_outcome;
pub mod units;

pub use error::{Error, ErrorKind};
pub use file_modes::FileModes;
pub use mes::{Action, Credentials, EnvUrl, Job, JobEvent, JobSpec, Mode, Outcome, PollPolicy, SavedPackage};
pub use package::{Inspection, Inspector, Verifier, VerifyReport};
