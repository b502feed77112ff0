//! mesbackup-client: the async driver that runs `mesbackup_core::mes::Job` against a real MES.
//!
//! Written once for native targets and wasm32: the HTTP layer is reqwest natively and `fetch` in
//! WebAssembly ([`http`]), while the byte sink ([`sink::SinkFactory`]), the clock ([`clock::Clock`]) and
//! cancellation are injected by the front end. The native file sink lives in [`file_sink`].

pub mod clock;
pub mod driver;
#[cfg(not(target_arch = "wasm32"))]
pub mod file_sink;
#[cfg(not(target_arch = "wasm32"))]
pub mod folder;
pub mod http;
#[cfg(not(target_arch = "wasm32"))]
pub mod keyring;
#[cfg(not(target_arch = "wasm32"))]
pub mod private_files;
#[cfg(not(target_arch = "wasm32"))]
pub mod restore;
#[cfg(not(target_arch = "wasm32"))]
pub mod run;
pub mod sink;
pub mod system;
#[cfg(not(target_arch = "wasm32"))]
pub mod verify_file;

pub use driver::{run_job, MesClient};
pub use mesbackup_core as core;
pub use tokio_util::sync::CancellationToken;
