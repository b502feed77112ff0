//! The driver's `SinkFactory` / `PackageSink` over a JS object. The contract (pkg-src/index.d.ts,
//! `SinkFactory`): `open(fileName, expectedLength)` resolves to a sink with `write(chunk)`,
//! `finish()` (resolves to the byte count), `commit(fileName, overwrite, sidecarJson)` (resolves to
//! where the package now is, or `null` when that name is taken and `overwrite` is false) and
//! `discard(keepAs)`. Every method may return a value or a promise.

use async_trait::async_trait;
use mesbackup_client::sink::{PackageSink, SinkFactory};
use mesbackup_core::job::CommitFailure;
use mesbackup_core::sidecar::Sidecar;
use mesbackup_core::Error;
use wasm_bindgen::prelude::*;

use crate::js::{call_method, error_from_js};

pub struct JsSinkFactory(pub JsValue);

pub struct JsSink(JsValue);

#[async_trait(?Send)]
impl SinkFactory for JsSinkFactory {
    type Sink = JsSink;

    async fn open(&self, file_name: &str, expected_len: Option<u64>) -> Result<JsSink, Error> {
        let len = expected_len.map(|n| JsValue::from_f64(n as f64)).unwrap_or(JsValue::NULL);
        let sink = call_method(&self.0, "open", &[file_name.into(), len])
            .await
            .map_err(|e| error_from_js(&e, "cannot open the sink"))?;
        if !sink.is_object() {
            return Err(Error::invalid_argument("the sink factory's open() must return a sink object"));
        }
        Ok(JsSink(sink))
    }
}

#[async_trait(?Send)]
impl PackageSink for JsSink {
    async fn write(&mut self, chunk: &[u8]) -> Result<(), Error> {
        // A copy on the JS heap: the sink may keep it while wasm memory moves.
        let array = js_sys::Uint8Array::from(chunk);
        call_method(&self.0, "write", &[array.into()]).await.map_err(|e| error_from_js(&e, "cannot write"))?;
        Ok(())
    }

    async fn finish(&mut self) -> Result<u64, Error> {
        let n = call_method(&self.0, "finish", &[]).await.map_err(|e| error_from_js(&e, "cannot finish"))?;
        Ok(n.as_f64().unwrap_or(0.0) as u64)
    }

    async fn commit(&mut self, file_name: &str, overwrite: bool, sidecar: &Sidecar) -> Result<String, CommitFailure> {
        let args = [file_name.into(), overwrite.into(), sidecar.to_json().into()];
        match call_method(&self.0, "commit", &args).await {
            Ok(v) if v.is_null() || v.is_undefined() || v == JsValue::FALSE => Err(CommitFailure::Exists),
            Ok(v) => Ok(v.as_string().unwrap_or_else(|| file_name.to_owned())),
            Err(e) => Err(CommitFailure::Sink(error_from_js(&e, "cannot save"))),
        }
    }

    async fn discard(&mut self, keep_as: Option<&str>) {
        let keep = keep_as.map(JsValue::from_str).unwrap_or(JsValue::NULL);
        let _ = call_method(&self.0, "discard", &[keep]).await;
    }
}
