//! A [`Clock`] for wasm32 on the JavaScript globals `setTimeout` / `clearTimeout` / `Date.now`, which
//! browsers, web workers and Node all provide. Not specific to any binding.
//!
//! A dropped sleep (the driver races every read against a stall timer) clears its timer, so a Node
//! process is not kept alive by thousands of forgotten timeouts after a download.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use async_trait::async_trait;
use futures::channel::oneshot;
use wasm_bindgen::prelude::*;

use crate::clock::Clock;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &js_sys::Function, ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(handle: &JsValue);
}

/// `setTimeout` accepts at most 2^31 - 1 ms; longer sleeps are done in steps.
const MAX_TIMEOUT_MS: u64 = 0x7fff_ffff;

/// Wall-clock time from `Date.now()`, sleeps on `setTimeout`.
#[derive(Debug, Clone, Copy, Default)]
pub struct WasmClock;

#[async_trait(?Send)]
impl Clock for WasmClock {
    fn now_ms(&self) -> u64 {
        js_sys::Date::now() as u64
    }

    async fn sleep_until(&self, until_ms: u64) {
        loop {
            let now = self.now_ms();
            if now >= until_ms {
                return;
            }
            Sleep::new((until_ms - now).min(MAX_TIMEOUT_MS)).await;
        }
    }
}

/// One `setTimeout`, cleared when dropped before it fires.
struct Sleep {
    rx: oneshot::Receiver<()>,
    handle: JsValue,
    fired: bool,
    _callback: Closure<dyn FnMut()>,
}

impl Sleep {
    fn new(ms: u64) -> Sleep {
        let (tx, rx) = oneshot::channel();
        let mut tx = Some(tx);
        let callback = Closure::<dyn FnMut()>::new(move || {
            if let Some(tx) = tx.take() {
                let _ = tx.send(());
            }
        });
        let handle = set_timeout(callback.as_ref().unchecked_ref(), ms as f64);
        Sleep { rx, handle, fired: false, _callback: callback }
    }
}

impl Future for Sleep {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match Pin::new(&mut self.rx).poll(cx) {
            Poll::Ready(_) => {
                self.fired = true;
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if !self.fired {
            clear_timeout(&self.handle);
        }
    }
}
