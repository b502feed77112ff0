//! mesbackup-wasm: the WebAssembly binding (wasm-bindgen) behind the npm package `mesbackup`.
//!
//! It only translates: JS options become core/client types, the shared driver
//! (`MesClient::run`, `system::backup_system`) does the work, outcomes become plain JS objects and
//! failures become `Error` objects carrying the canonical `kind` and the `guid`. The ergonomic JS API
//! (`Client`, sinks, `AbortSignal`) is the thin ESM layer in `pkg-src/`.
//!
//! On the native host this crate is empty, so the workspace builds everywhere.

//!
//! Two cargo features pick what one build exports, so the npm package ships two modules and a
//! download never loads the verifier: `download` (default: `WasmClient`, names, sinks) and `verify`
//! (`WasmVerifier`, with the core's zipstream/verify/inspect and the zstd/deflate/lz4 decoders).
//! `bindings-wasm/build.sh` builds the crate once per feature set (`--no-default-features
//! --features verify` for the verifier module); LTO drops what the other module's code does not reach.

#[cfg(all(target_arch = "wasm32", feature = "download"))]
mod client;
#[cfg(all(target_arch = "wasm32", feature = "download"))]
mod file_modes;
#[cfg(target_arch = "wasm32")]
#[cfg_attr(not(feature = "download"), allow(dead_code))]
mod js;
#[cfg(all(target_arch = "wasm32", feature = "download"))]
mod naming;
#[cfg(all(target_arch = "wasm32", feature = "download"))]
mod sink;
#[cfg(all(target_arch = "wasm32", feature = "verify"))]
mod verify;
