//! Time as the driver sees it. The core never reads a clock; the driver asks an injected `Clock`
//! (tokio natively, `setTimeout`/`Date.now` in WebAssembly, a virtual clock in simulations).

#[cfg(target_arch = "wasm32")]
mod wasm;
#[cfg(target_arch = "wasm32")]
pub use wasm::WasmClock;

use async_trait::async_trait;

/// Wall-clock time and sleeping, injected into the driver by the front end.
#[cfg_attr(not(target_arch = "wasm32"), async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait(?Send))]
pub trait Clock {
    /// Wall-clock time in Unix milliseconds (recorded in the backup window).
    fn now_ms(&self) -> u64;
    /// Resolves once `now_ms() >= until_ms`.
    async fn sleep_until(&self, until_ms: u64);
}

/// Tokio's timer and the system clock.
#[cfg(not(target_arch = "wasm32"))]
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioClock;

#[cfg(not(target_arch = "wasm32"))]
#[async_trait]
impl Clock for TokioClock {
    fn now_ms(&self) -> u64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
    }

    async fn sleep_until(&self, until_ms: u64) {
        let now = self.now_ms();
        if until_ms > now {
            tokio::time::sleep(std::time::Duration::from_millis(until_ms - now)).await;
        }
    }
}

/// A random seed for the polling jitter, from the OS.
pub fn random_seed() -> u64 {
    let mut b = [0u8; 8];
    if getrandom::getrandom(&mut b).is_err() {
        return 0x5EED;
    }
    u64::from_le_bytes(b)
}
