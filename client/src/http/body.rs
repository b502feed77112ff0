//! A response body's pieces as the HTTP layer hands them to the driver and the sinks: natively a
//! refcounted `Bytes`; in WebAssembly the `Uint8Array` fetch delivered ([`JsChunk`]), left in
//! JavaScript memory.

#[cfg(not(target_arch = "wasm32"))]
use bytes::Bytes;
use futures::Stream;
use mesbackup_core::mes::HeldBytes;
use mesbackup_core::mes::TransportError;

/// One piece of a response body as the HTTP layer received it: natively a `Bytes` (refcounted);
/// in WebAssembly the `Uint8Array` fetch delivered, left in JavaScript memory, so that a body
/// crosses into wasm memory only where something there must read it (a sink without its own
/// SHA-256, the probe's first and last bytes).
#[cfg(not(target_arch = "wasm32"))]
pub type BodyChunk = Bytes;
/// In WebAssembly: the `Uint8Array` fetch delivered (see the native definition).
#[cfg(target_arch = "wasm32")]
pub type BodyChunk = JsChunk;

/// What [`PackageSink::write`](crate::sink::PackageSink::write) is given: natively a byte slice; in
/// WebAssembly the chunk itself, which the JS sink receives as a `Uint8Array`.
#[cfg(not(target_arch = "wasm32"))]
pub type SinkChunk = [u8];
/// In WebAssembly: the chunk itself, passed to the JS sink as a `Uint8Array`.
#[cfg(target_arch = "wasm32")]
pub type SinkChunk = JsChunk;

/// What the driver does with a [`BodyChunk`] besides probing it (`HeldBytes`: its length, copies
/// of its head and tail).
pub trait ChunkAccess: HeldBytes + Clone {
    /// The chunk as the sink takes it.
    fn for_sink(&self) -> &SinkChunk;
    /// Runs `f` over the chunk's bytes; a chunk outside this memory is first copied into `scratch`.
    fn with_bytes<R>(&self, scratch: &mut Vec<u8>, f: impl FnOnce(&[u8]) -> R) -> R;
}

#[cfg(not(target_arch = "wasm32"))]
impl ChunkAccess for Bytes {
    fn for_sink(&self) -> &SinkChunk {
        self
    }
    fn with_bytes<R>(&self, _scratch: &mut Vec<u8>, f: impl FnOnce(&[u8]) -> R) -> R {
        f(self)
    }
}

/// A response body, chunk by chunk; dropping it before the end aborts the transfer.
pub trait BodyChunks: Stream<Item = Result<BodyChunk, TransportError>> + Unpin {}
impl<T: Stream<Item = Result<BodyChunk, TransportError>> + Unpin> BodyChunks for T {}

#[cfg(target_arch = "wasm32")]
/// A body chunk as fetch delivered it: a `Uint8Array` in JavaScript memory that nothing modifies
/// (the JS sink gets it only when it promises to copy it and leave it alone, see
/// bindings-wasm/src/sink.rs), with its length read once.
#[derive(Clone, Debug)]
pub struct JsChunk {
    array: js_sys::Uint8Array,
    len: usize,
}

#[cfg(target_arch = "wasm32")]
impl JsChunk {
    pub(super) fn new(array: js_sys::Uint8Array, len: usize) -> JsChunk {
        JsChunk { array, len }
    }

    /// The `Uint8Array`, in JavaScript memory; it must not be modified.
    pub fn array(&self) -> &js_sys::Uint8Array {
        &self.array
    }
}

#[cfg(target_arch = "wasm32")]
impl HeldBytes for JsChunk {
    fn len(&self) -> usize {
        self.len
    }
    fn copy_range_to(&self, start: usize, end: usize, out: &mut Vec<u8>) {
        let at = out.len();
        out.resize(at + (end - start), 0);
        self.array.subarray(start as u32, end as u32).copy_to(&mut out[at..]);
    }
}

#[cfg(target_arch = "wasm32")]
impl ChunkAccess for JsChunk {
    fn for_sink(&self) -> &SinkChunk {
        self
    }
    fn with_bytes<R>(&self, scratch: &mut Vec<u8>, f: impl FnOnce(&[u8]) -> R) -> R {
        // Chunks mostly have one size: the scratch buffer is zeroed only when it grows.
        scratch.resize(self.len, 0);
        self.array.copy_to(scratch);
        f(scratch)
    }
}
