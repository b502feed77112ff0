//! mesbackup's sans-IO core as a WebAssembly component (`wit/mesbackup.wit`, world `core`).
//!
//! This crate only translates between the WIT types and the core's: every decision stays in
//! `mesbackup-core`. The host (wasmtime in Python, .NET, Go; jco in JavaScript) does the I/O.
//! On a native target the crate is empty, so the workspace keeps building there.

#[cfg(target_arch = "wasm32")]
mod component;
