//! The HTTP layer: sends the core's requests and maps failures to the core's terms.
//!
//! Natively, two reqwest clients: the POST client never follows redirects (a POST re-sent elsewhere
//! could start a backup we cannot see); the GET client follows a few, never from https to http.
//! reqwest removes the Authorization header itself when a redirect leaves the original host; the
//! scenario suite checks that. No `Referer` is ever sent (it would carry the MES address and the
//! GUID to the redirect's target), and proxies from the environment are never used for this machine
//! (a token meant for `http://localhost` must not reach a proxy). An answer hyper cannot parse (a
//! header block over its limit) is `TransportPhase::Malformed`. In WebAssembly, `fetch` itself
//! (`fetch.rs`), with the same rules: the POST with `redirect: "manual"`, no referrer, the body read
//! chunk by chunk from the response's `ReadableStream`.

mod body;
mod config;
#[cfg(target_arch = "wasm32")]
mod fetch;
#[cfg(not(target_arch = "wasm32"))]
mod native;

#[cfg(target_arch = "wasm32")]
pub use body::JsChunk;
pub use body::{BodyChunk, BodyChunks, ChunkAccess, SinkChunk};
pub use config::HttpConfig;
#[cfg(target_arch = "wasm32")]
pub use fetch::{Http, Response};
#[cfg(not(target_arch = "wasm32"))]
pub(crate) use native::build as build_reqwest_client;
#[cfg(not(target_arch = "wasm32"))]
pub use native::{Http, Response};
