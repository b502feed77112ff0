//! The HTTP layer in WebAssembly: the JavaScript global `fetch` (browsers, workers, Node >= 18).
//!
//! - The POST is sent with `redirect: "manual"`, so it is never re-sent to another address (as
//!   natively). Node's fetch then returns the 3xx itself; a browser returns an opaque redirect
//!   (status 0, no headers), which is reported as status 300 without `Location`: the core refuses
//!   it like any redirect on the POST. GETs follow redirects (the browser, or Node's fetch, drops
//!   `Authorization` when the redirect leaves the origin). No request carries a `Referer`
//!   (`referrerPolicy: "no-referrer"`): a browser would otherwise send the page's address.
//! - An answer Node's fetch cannot parse (undici: a header block over its 16 KiB default, a broken
//!   status line) is `TransportPhase::Malformed`, as natively. Browsers report such an answer as a
//!   plain network failure ("Failed to fetch"), which cannot be told apart: there it stays a
//!   connection problem.
//! - The body is read chunk by chunk from the response's `ReadableStream`. A chunk stays in
//!   JavaScript memory ([`JsChunk`]): the JS sink gets it as it came, and only what wasm must read
//!   is copied in (the first bytes and the tail, for the shape probe; the whole chunk only when the
//!   driver hashes it). Nothing is buffered beyond the chunk at hand and the probe's tail window.
//! - Dropping a response or its body stream before the end aborts the fetch (`AbortController`):
//!   the driver's cancellation and timeouts drop what they abandon.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use mesbackup_core::mes::Credentials;
use mesbackup_core::mes::ResponseHead;
use mesbackup_core::mes::{Method, Request, TransportError, TransportPhase};
use mesbackup_core::Error;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::body::{BodyChunks, JsChunk};
use super::config::HttpConfig;

#[wasm_bindgen]
extern "C" {
    /// fetch() itself may throw (a malformed URL, a forbidden header value): an error, as a rejection.
    #[wasm_bindgen(js_name = fetch, catch)]
    fn js_fetch(url: &str, init: &js_sys::Object) -> Result<js_sys::Promise, JsValue>;

    type AbortController;
    #[wasm_bindgen(constructor, catch)]
    fn new() -> Result<AbortController, JsValue>;
    #[wasm_bindgen(method, getter)]
    fn signal(this: &AbortController) -> JsValue;
    #[wasm_bindgen(method)]
    fn abort(this: &AbortController);

    type FetchResponse;
    #[wasm_bindgen(method, getter)]
    fn status(this: &FetchResponse) -> u16;
    #[wasm_bindgen(method, getter, js_name = type)]
    fn kind(this: &FetchResponse) -> JsValue;
    #[wasm_bindgen(method, getter)]
    fn headers(this: &FetchResponse) -> JsValue;
    #[wasm_bindgen(method, getter)]
    fn body(this: &FetchResponse) -> Option<BodyStream>;

    type BodyStream;
    #[wasm_bindgen(method, catch, js_name = getReader)]
    fn get_reader(this: &BodyStream) -> Result<Reader, JsValue>;

    type Reader;
    #[wasm_bindgen(method)]
    fn read(this: &Reader) -> js_sys::Promise;

    type ReadResult;
    #[wasm_bindgen(method, getter)]
    fn done(this: &ReadResult) -> bool;
    #[wasm_bindgen(method, getter)]
    fn value(this: &ReadResult) -> JsValue;
}

/// Aborts the fetch when dropped (after a complete body this changes nothing).
struct AbortOnDrop(AbortController);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The MES connection in WebAssembly: `fetch` with no referrer, the POST with `redirect: "manual"`,
/// and the Authorization header for every request.
#[derive(Clone)]
pub struct Http {
    authorization: Option<String>,
    /// What the driver redacts from server text.
    secrets: Vec<String>,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http").field("authorization", &self.authorization.as_ref().map(|_| "<redacted>")).finish()
    }
}

impl Http {
    /// Keeps the credentials' header value; a custom CA (the runtime decides which CAs to trust) or
    /// credentials that cannot be sent in a header are an `invalid_argument` error.
    pub fn new(credentials: &Credentials, config: &HttpConfig) -> Result<Http, Error> {
        if config.ca_cert_pem.is_some() {
            return Err(Error::invalid_argument(
                "a custom CA certificate cannot be set from WebAssembly: the browser or Node decides which CAs to trust",
            ));
        }
        let authorization = credentials.authorization();
        // fetch takes header values as byte strings; keep to what every runtime sends unchanged.
        if let Some(value) = &authorization {
            if !value.bytes().all(|b| b == b'\t' || (b' '..=b'~').contains(&b)) {
                return Err(Error::invalid_argument(
                    "the credentials contain characters that cannot be sent in an HTTP header",
                ));
            }
        }
        Ok(Http { authorization, secrets: credentials.secrets() })
    }

    /// The credentials' secrets, to redact from anything the server sends back.
    pub fn secrets(&self) -> &[String] {
        &self.secrets
    }

    /// Sends a request and returns once the status line and headers are in.
    pub async fn send(&self, request: &Request) -> Result<Response, TransportError> {
        let fail = |e: JsValue| {
            let phase = if never_sent(&e) {
                TransportPhase::Connect
            } else if unparseable_answer(&e) {
                TransportPhase::Malformed
            } else {
                TransportPhase::Response
            };
            TransportError { phase, detail: describe(&e) }
        };
        let abort = AbortOnDrop(AbortController::new().map_err(fail)?);
        let headers = js_sys::Object::new();
        set(&headers, "accept", &"application/zip, application/json;q=0.5, */*;q=0.1".into());
        if let Some(auth) = &self.authorization {
            set(&headers, "authorization", &auth.as_str().into());
        }
        let init = js_sys::Object::new();
        let (method, redirect) = match request.method {
            // No body: fetch sends `Content-Length: 0` with a bodiless POST.
            Method::Post => ("POST", "manual"),
            Method::Get => ("GET", "follow"),
        };
        set(&init, "method", &method.into());
        set(&init, "redirect", &redirect.into());
        set(&init, "referrerPolicy", &"no-referrer".into());
        set(&init, "headers", &headers);
        set(&init, "signal", &abort.0.signal());
        let promise = js_fetch(&request.url, &init).map_err(fail)?;
        let response: FetchResponse = JsFuture::from(promise).await.map_err(fail)?.unchecked_into();
        let head = if response.kind().as_string().as_deref() == Some("opaqueredirect") {
            // A browser hides a redirect's status and target from the page.
            ResponseHead::new(300)
        } else {
            ResponseHead { status: response.status(), headers: header_list(&response.headers()) }
        };
        Ok(Response { response, head, abort })
    }
}

fn set(obj: &js_sys::Object, key: &str, value: &JsValue) {
    let _ = js_sys::Reflect::set(obj, &JsValue::from_str(key), value);
}

fn header_list(headers: &JsValue) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Ok(Some(entries)) = js_sys::try_iter(headers) {
        for entry in entries.flatten() {
            let pair: js_sys::Array = entry.unchecked_into();
            if let (Some(name), Some(value)) = (pair.get(0).as_string(), pair.get(1).as_string()) {
                out.push((name.to_ascii_lowercase(), value));
            }
        }
    }
    out
}

/// Node's fetch (undici) names why a connection was never made in its error's `cause.code`: then
/// the request certainly did not leave, and the core may re-send a POST (as natively with reqwest's
/// `is_connect`). Browsers say nothing of the kind, so there every failure stays "maybe sent".
const NOT_CONNECTED_CODES: [&str; 7] = [
    "ECONNREFUSED",
    "ENOTFOUND",
    "EAI_AGAIN",
    "EHOSTUNREACH",
    "ENETUNREACH",
    "EADDRNOTAVAIL",
    "UND_ERR_CONNECT_TIMEOUT",
];

fn never_sent(e: &JsValue) -> bool {
    has_code(e, |c| NOT_CONNECTED_CODES.contains(&c))
}

/// undici's codes for an answer it could not parse: its own for a header block over its limit,
/// llhttp's (`HPE_…`) for the rest.
fn unparseable_answer(e: &JsValue) -> bool {
    has_code(e, |c| c == "UND_ERR_HEADERS_OVERFLOW" || c.starts_with("HPE_"))
}

/// Whether the error or one of its causes carries a `code` that `matches`.
fn has_code(e: &JsValue, matches: impl Fn(&str) -> bool) -> bool {
    let mut current = e.clone();
    for _ in 0..4 {
        let code = js_sys::Reflect::get(&current, &JsValue::from_str("code")).ok().and_then(|c| c.as_string());
        if code.is_some_and(|c| matches(&c)) {
            return true;
        }
        current = js_sys::Reflect::get(&current, &JsValue::from_str("cause")).unwrap_or(JsValue::UNDEFINED);
        if !current.is_object() {
            return false;
        }
    }
    false
}

/// A JS failure (usually `TypeError: fetch failed` with a `cause`) as one line.
fn describe(e: &JsValue) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = e.clone();
    for _ in 0..4 {
        let text = match current.dyn_ref::<js_sys::Error>() {
            Some(err) => String::from(err.message()),
            None => match current.as_string() {
                Some(s) => s,
                None => break,
            },
        };
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = js_sys::Reflect::get(&current, &JsValue::from_str("cause")).unwrap_or(JsValue::UNDEFINED);
        if current.is_undefined() || current.is_null() {
            break;
        }
    }
    if parts.is_empty() {
        parts.push(format!("{e:?}"));
    }
    parts.join(": ")
}

/// A response whose status line and headers are in; the body is still to be read.
pub struct Response {
    response: FetchResponse,
    head: ResponseHead,
    abort: AbortOnDrop,
}

impl std::fmt::Debug for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Response").field("status", &self.head.status).finish()
    }
}

impl Response {
    /// The status code and headers.
    pub fn head(&self) -> ResponseHead {
        self.head.clone()
    }

    /// The body, chunk by chunk.
    pub fn chunks(self) -> impl BodyChunks {
        let reader = match self.response.body().map(|b| b.get_reader()) {
            Some(Ok(reader)) => Some(reader),
            Some(Err(e)) => {
                return Chunks {
                    reader: None,
                    pending: None,
                    error: Some(TransportError { phase: TransportPhase::Body, detail: describe(&e) }),
                    _abort: self.abort,
                }
            }
            None => None,
        };
        Chunks { reader, pending: None, error: None, _abort: self.abort }
    }
}

struct Chunks {
    reader: Option<Reader>,
    pending: Option<JsFuture>,
    error: Option<TransportError>,
    _abort: AbortOnDrop,
}

impl Stream for Chunks {
    type Item = Result<JsChunk, TransportError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if let Some(e) = this.error.take() {
            return Poll::Ready(Some(Err(e)));
        }
        let Some(reader) = &this.reader else {
            return Poll::Ready(None);
        };
        let pending = this.pending.get_or_insert_with(|| JsFuture::from(reader.read()));
        let result = match Pin::new(pending).poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(result) => result,
        };
        this.pending = None;
        match result {
            Ok(r) => {
                let r: ReadResult = r.unchecked_into();
                if r.done() {
                    this.reader = None;
                    return Poll::Ready(None);
                }
                let array = js_sys::Uint8Array::unchecked_from_js(r.value());
                let len = array.length() as usize;
                Poll::Ready(Some(Ok(JsChunk::new(array, len))))
            }
            Err(e) => {
                this.reader = None;
                Poll::Ready(Some(Err(TransportError { phase: TransportPhase::Body, detail: describe(&e) })))
            }
        }
    }
}
