//! `WasmVerifier`: the core's one-pass package verifier (`mesbackup_core::package::Verifier`) for JS.
//! Bytes are pushed chunk by chunk (`feed`), so a browser `Blob` or a Node file is never held whole.

use mesbackup_core::package::{Problem, Verifier, VerifyOptions};
use wasm_bindgen::prelude::*;

use crate::js::{error_to_js, opt_string, to_js};

/// The low-level verifier; JS code uses `Verifier` / `verify()` of the npm package, which wrap it.
#[wasm_bindgen]
pub struct WasmVerifier {
    inner: Option<Verifier>,
}

#[wasm_bindgen]
impl WasmVerifier {
    /// `options`: `{expectedSha256?: string}` (the sidecar's). SHA-256 is always computed.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<WasmVerifier, JsValue> {
        let expected_sha256 = opt_string(&options, "expectedSha256").map_err(|e| error_to_js(&e))?;
        let inner =
            Verifier::with_options(VerifyOptions { sha256: true, expected_sha256 }).map_err(|e| error_to_js(&e))?;
        Ok(WasmVerifier { inner: Some(inner) })
    }

    /// Feeds the next bytes of the package (any chunking).
    pub fn feed(&mut self, data: &[u8]) -> Result<(), JsValue> {
        self.inner.as_mut().ok_or_else(finished)?.feed(data);
        Ok(())
    }

    /// Bytes fed so far.
    #[wasm_bindgen(getter, js_name = bytesFed)]
    pub fn bytes_fed(&self) -> f64 {
        self.inner.as_ref().map(|v| v.bytes_fed() as f64).unwrap_or(0.0)
    }

    /// Ends the input: `{report, inspection}` (serde names, snake_case). Each problem also gets
    /// `message`, the core's one-line description naming the file.
    pub fn finish(&mut self) -> Result<JsValue, JsValue> {
        let (report, inspection) = self.inner.take().ok_or_else(finished)?.finish_with_inspection();
        let messages: Vec<String> = report.problems.iter().map(Problem::message).collect();
        let error = report.to_error().map(|e| e.message);
        Ok(to_js(&serde_json::json!({
            "report": report,
            "inspection": inspection,
            "messages": messages,
            "error": error,
        })))
    }
}

fn finished() -> JsValue {
    error_to_js(&mesbackup_core::Error::invalid_argument("the verifier has already finished"))
}
