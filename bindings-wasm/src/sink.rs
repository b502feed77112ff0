//! The driver's `SinkFactory` / `PackageSink` over a JS object. The contract (pkg-src/index.d.ts,
//! `SinkFactory`): an optional `prepare()`, called before the backup request and before the first
//! download request, rejects when no package could be stored (Node's `fileSink`: the folder is
//! missing, read-only or refuses new files); absent means nothing to check (browser sinks).
//! `open(fileName, expectedLength)` resolves to a sink with `write(chunk)`,
//! `finish()` (resolves to the byte count), `commit(fileName, overwrite, sidecarJson)` (resolves to
//! where the package now is, or `null` when that name is taken and `overwrite` is false) and
//! `discard(keepAs)`. Every method may return a value or a promise.
//!
//! A sink with `computesSha256: true` hashes (SHA-256) exactly the bytes given to `write()` itself
//! (Node's fileSink, with the hardware-accelerated `node:crypto`); its `finish()` resolves to
//! `{bytes, sha256}` (64 lowercase hex digits) and the driver skips its own, slower, wasm hashing.
//! A sink with `copiesChunks: true` copies each chunk before `write()` returns, keeps no reference
//! to it and neither modifies nor transfers it; it is then given the `Uint8Array` fetch delivered
//! itself (the driver keeps the last ones to probe the package's tail). Any other sink gets a copy
//! of its own, which it may keep, modify or transfer.

use async_trait::async_trait;
use mesbackup_client::http::SinkChunk as JsChunk;
use mesbackup_client::sink::{PackageSink, SinkFactory};
use mesbackup_core::job::CommitFailure;
use mesbackup_core::sidecar::Sidecar;
use mesbackup_core::Error;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::js::{call_method, error_from_js, get, settle};

pub struct JsSinkFactory(pub JsValue);

pub struct JsSink {
    sink: JsValue,
    /// `sink.write`, looked up once: it is called for every chunk.
    write: js_sys::Function,
    computes_sha256: bool,
    /// `copiesChunks: true`: write() copies the bytes before it returns and keeps no reference.
    copies_chunks: bool,
    sha256: Option<String>,
}

#[async_trait(?Send)]
impl SinkFactory for JsSinkFactory {
    type Sink = JsSink;

    async fn prepare(&self) -> Result<(), Error> {
        if !get(&self.0, "prepare").is_function() {
            return Ok(());
        }
        call_method(&self.0, "prepare", &[]).await.map_err(|e| error_from_js(&e, "the sink cannot store a package"))?;
        Ok(())
    }

    async fn open(&self, file_name: &str, expected_len: Option<u64>) -> Result<JsSink, Error> {
        let len = expected_len.map(|n| JsValue::from_f64(n as f64)).unwrap_or(JsValue::NULL);
        let sink = call_method(&self.0, "open", &[file_name.into(), len])
            .await
            .map_err(|e| error_from_js(&e, "cannot open the sink"))?;
        if !sink.is_object() {
            return Err(Error::invalid_argument("the sink factory's open() must return a sink object"));
        }
        let write = get(&sink, "write")
            .dyn_into::<js_sys::Function>()
            .map_err(|_| Error::invalid_argument("the sink has no write() method"))?;
        let computes_sha256 = get(&sink, "computesSha256").as_bool() == Some(true);
        let copies_chunks = get(&sink, "copiesChunks").as_bool() == Some(true);
        Ok(JsSink { sink, write, computes_sha256, copies_chunks, sha256: None })
    }
}

#[async_trait(?Send)]
impl PackageSink for JsSink {
    async fn write(&mut self, chunk: &JsChunk) -> Result<(), Error> {
        let result = if self.copies_chunks {
            self.write.call1(&self.sink, chunk.array())
        } else {
            // The sink may keep, modify or transfer what it gets, and the driver still reads the
            // last chunks at the end: a copy of its own.
            self.write.call1(&self.sink, &chunk.array().slice(0, chunk.array().length()))
        };
        let result = result.map_err(|e| error_from_js(&e, "cannot write"))?;
        settle(result).await.map_err(|e| error_from_js(&e, "cannot write"))?;
        Ok(())
    }

    async fn finish(&mut self) -> Result<u64, Error> {
        let n = call_method(&self.sink, "finish", &[]).await.map_err(|e| error_from_js(&e, "cannot finish"))?;
        if self.computes_sha256 {
            self.sha256 = get(&n, "sha256").as_string();
            return Ok(get(&n, "bytes").as_f64().unwrap_or(-1.0) as u64);
        }
        Ok(n.as_f64().unwrap_or(0.0) as u64)
    }

    fn computes_sha256(&self) -> bool {
        self.computes_sha256
    }

    fn sha256(&self) -> Option<String> {
        self.sha256.clone()
    }

    async fn commit(&mut self, file_name: &str, overwrite: bool, sidecar: &Sidecar) -> Result<String, CommitFailure> {
        let args = [file_name.into(), overwrite.into(), sidecar.to_json().into()];
        match call_method(&self.sink, "commit", &args).await {
            Ok(v) if v.is_null() || v.is_undefined() || v == JsValue::FALSE => Err(CommitFailure::Exists),
            Ok(v) => Ok(v.as_string().unwrap_or_else(|| file_name.to_owned())),
            Err(e) => Err(CommitFailure::Sink(error_from_js(&e, "cannot save"))),
        }
    }

    async fn discard(&mut self, keep_as: Option<&str>) {
        let keep = keep_as.map(JsValue::from_str).unwrap_or(JsValue::NULL);
        let _ = call_method(&self.sink, "discard", &[keep]).await;
    }
}
