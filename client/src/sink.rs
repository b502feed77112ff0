//! Where a package's bytes go. The driver hashes (SHA-256) and probes the zip shape itself, so a sink
//! only stores bytes: a file (temp-then-rename), a browser `WritableStream`, a Node path.

use async_trait::async_trait;
use mesbackup_core::job::CommitFailure;
use mesbackup_core::sidecar::Sidecar;
use mesbackup_core::Error;

#[cfg_attr(not(target_arch = "wasm32"), async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait(?Send))]
pub trait SinkFactory {
    type Sink: PackageSink;
    /// Opens a temporary destination for a package that will be called `file_name`.
    async fn open(&self, file_name: &str, expected_len: Option<u64>) -> Result<Self::Sink, Error>;
}

#[cfg_attr(not(target_arch = "wasm32"), async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait(?Send))]
pub trait PackageSink {
    async fn write(&mut self, chunk: &[u8]) -> Result<(), Error>;
    /// All bytes are in: flush and make them durable. Returns the number of bytes stored.
    async fn finish(&mut self) -> Result<u64, Error>;
    /// Gives the finished bytes their final name (without replacing an existing file unless
    /// `overwrite`) and stores the sidecar beside them. Returns where the package now is.
    /// May be called again with another name after `CommitFailure::Exists`.
    async fn commit(&mut self, file_name: &str, overwrite: bool, sidecar: &Sidecar) -> Result<String, CommitFailure>;
    /// Removes the temporary bytes, or keeps them under `keep_as` (a diagnostic name).
    async fn discard(&mut self, keep_as: Option<&str>);
}
