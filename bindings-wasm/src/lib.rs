//! mesbackup-wasm: the WebAssembly binding (wasm-bindgen) behind the npm package `mesbackup`.
//!
//! It only translates: JS options become core/client types, the shared driver
//! (`MesClient::run`, `system::backup_system`) does the work, outcomes become plain JS objects and
//! failures become `Error` objects carrying the canonical `kind` and the `guid`. The ergonomic JS API
//! (`Client`, sinks, `AbortSignal`) is the thin ESM layer in `pkg-src/`.
//!
//! On the native host this crate is empty, so the workspace builds everywhere.

#[cfg(target_arch = "wasm32")]
mod js;
#[cfg(target_arch = "wasm32")]
mod naming;
#[cfg(target_arch = "wasm32")]
mod sink;
#[cfg(target_arch = "wasm32")]
mod client;
#[cfg(target_arch = "wasm32")]
mod verify;
