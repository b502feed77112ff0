//! Where a package's bytes go. The driver hashes (SHA-256) and probes the zip shape itself, so a sink
//! only stores bytes: a file (temp-then-rename), a browser `WritableStream`, a Node path.
//!
//! One exception, for speed: a sink whose platform has a faster SHA-256 than the driver's (Node's
//! `node:crypto` is hardware-accelerated; SHA-256 compiled to WebAssembly is not) may hash what it
//! stores itself: it says so with [`PackageSink::computes_sha256`] and reports the digest of exactly
//! the bytes it was given from [`PackageSink::sha256`] after `finish()`. The driver then does not
//! hash, and checks that the sink's byte count matches the stream's. Native sinks keep the default
//! (the driver hashes).

use async_trait::async_trait;
use mesbackup_core::mes::CommitFailure;
use mesbackup_core::mes::Sidecar;
use mesbackup_core::Error;

use crate::http::SinkChunk;

/// `Sync` natively, where the driver's future may move between threads (and a default `async`
/// method borrows `&self` across an await); no bound in WebAssembly, where nothing is `Sync`.
#[cfg(not(target_arch = "wasm32"))]
pub trait MaybeSync: Sync {}
#[cfg(not(target_arch = "wasm32"))]
impl<T: Sync + ?Sized> MaybeSync for T {}
/// No bound in WebAssembly (see the native definition).
#[cfg(target_arch = "wasm32")]
pub trait MaybeSync {}
#[cfg(target_arch = "wasm32")]
impl<T: ?Sized> MaybeSync for T {}

/// Opens a [`PackageSink`] for each package a job downloads; given by the front end to the
/// driver ([`crate::run_job`]).
#[cfg_attr(not(target_arch = "wasm32"), async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait(?Send))]
pub trait SinkFactory: MaybeSync {
    /// The sink this factory opens.
    type Sink: PackageSink;
    /// Checks, before the step that cannot be undone, that a package could be stored: called
    /// before the backup request (POST) and before the first GET of a download, whose `200` would
    /// be the one-shot stream. A file sink checks that its folder exists (or can be created), is
    /// writable and not on a read-only file system. The default does nothing.
    async fn prepare(&self) -> Result<(), Error> {
        Ok(())
    }
    /// Opens a temporary destination for a package that will be called `file_name`.
    async fn open(&self, file_name: &str, expected_len: Option<u64>) -> Result<Self::Sink, Error>;
}

/// Where one package's bytes go: written chunk by chunk, finished, then committed under the
/// package's name or discarded.
#[cfg_attr(not(target_arch = "wasm32"), async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait(?Send))]
pub trait PackageSink {
    /// Stores the next chunk. Natively a byte slice; in WebAssembly the JS chunk (see [`SinkChunk`]).
    async fn write(&mut self, chunk: &SinkChunk) -> Result<(), Error>;
    /// All bytes are in: flush and make them durable. Returns the number of bytes stored.
    async fn finish(&mut self) -> Result<u64, Error>;
    /// True when this sink computes the SHA-256 of exactly the bytes passed to `write()`, in order,
    /// and reports it from [`sha256`](PackageSink::sha256) once `finish()` has succeeded. Asked once,
    /// before the first write. The default is false: the driver hashes.
    fn computes_sha256(&self) -> bool {
        false
    }
    /// For a sink that [`computes_sha256`](PackageSink::computes_sha256): after a successful
    /// `finish()`, the digest as 64 lowercase hex digits. `None` (or anything else) fails the download.
    fn sha256(&self) -> Option<String> {
        None
    }
    /// Gives the finished bytes their final name (without replacing an existing file unless
    /// `overwrite`) and stores the sidecar beside them. Returns where the package now is.
    /// May be called again with another name after `CommitFailure::Exists`.
    async fn commit(&mut self, file_name: &str, overwrite: bool, sidecar: &Sidecar) -> Result<String, CommitFailure>;
    /// Removes the temporary bytes, or keeps them under `keep_as` (a diagnostic name).
    async fn discard(&mut self, keep_as: Option<&str>);
}
