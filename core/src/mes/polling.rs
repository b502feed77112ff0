//! When to ask again: the polling policy, as pure functions.
//!
//! A backup may take ten seconds or four hours, and every GET on a *finished* job is the one-shot
//! download, so we cannot ask "how far along are you?" cheaply. The policy therefore keeps the delay
//! between GETs proportional to the time already waited: the detection lag stays within
//! `lag_ratio` of the job's duration (never less than `min_delay`), while the number of GETs grows only
//! logarithmically with the duration. Jitter only ever *shortens* a delay, so it can spread the GETs of
//! many clients without breaking the lag bound. Randomness is an argument, so tests are deterministic.

use serde::{Deserialize, Serialize};

use super::time::parse_http_date;

/// Timing of a backup job: how often to poll a pending job, how to back off after transient
/// failures, and when to give up. All durations are in milliseconds; missing fields take their defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PollPolicy {
    /// Shortest wait between two GETs of a pending job.
    pub min_delay_ms: u64,
    /// Longest wait between two GETs of a pending job (also caps a server's Retry-After).
    pub max_delay_ms: u64,
    /// Target detection lag as a fraction of the time waited so far (0.1 = 10 %).
    pub lag_ratio: f64,
    /// Largest fraction by which jitter shortens a delay (0.2 = up to 20 % shorter).
    pub jitter: f64,
    /// First wait after a transient failure (503, connection refused); doubles each time.
    pub retry_base_ms: u64,
    /// Consecutive transient failures tolerated before giving up with the last error.
    pub max_consecutive_failures: u32,
    /// Overall deadline for a backup to become ready, from its POST (or from resuming its GUID).
    pub timeout_ms: u64,
    /// A download that receives no byte for this long is abandoned (and is then lost: one-shot).
    pub stall_timeout_ms: u64,
    /// How long to wait for the status line and headers of one response.
    pub request_timeout_ms: u64,
}

impl Default for PollPolicy {
    fn default() -> PollPolicy {
        PollPolicy {
            min_delay_ms: 1_000,
            max_delay_ms: 30 * 60_000,
            lag_ratio: 0.10,
            jitter: 0.20,
            retry_base_ms: 1_000,
            max_consecutive_failures: 8,
            timeout_ms: 24 * 3_600_000,
            stall_timeout_ms: 120_000,
            request_timeout_ms: 120_000,
        }
    }
}

/// Maps a random u64 to [0, 1).
fn unit(random: u64) -> f64 {
    (random >> 11) as f64 / (1u64 << 53) as f64
}

impl PollPolicy {
    /// Checks the values make sense together; front ends call this on user-supplied options.
    pub fn validate(&self) -> Result<(), crate::Error> {
        let bad = |m: &str| Err(crate::Error::invalid_argument(m.to_owned()));
        if self.min_delay_ms == 0 {
            return bad("the minimum poll delay must be at least 1 ms");
        }
        if self.max_delay_ms < self.min_delay_ms {
            return bad("the maximum poll delay must not be shorter than the minimum poll delay");
        }
        if !(self.lag_ratio > 0.0 && self.lag_ratio <= 1.0) {
            return bad("the lag ratio must be in (0, 1]");
        }
        if !(0.0..1.0).contains(&self.jitter) {
            return bad("the jitter must be in [0, 1)");
        }
        if self.timeout_ms == 0 || self.stall_timeout_ms == 0 || self.request_timeout_ms == 0 {
            return bad("timeouts must be positive");
        }
        Ok(())
    }

    /// Delay before the next GET of a job that answered "pending" after `waited_ms` of waiting.
    /// A server's Retry-After is honoured as a lower bound, clamped to `max_delay_ms`.
    pub fn pending_delay(&self, waited_ms: u64, random: u64, retry_after_ms: Option<u64>) -> u64 {
        let target = (waited_ms as f64 * self.lag_ratio).max(self.min_delay_ms as f64);
        let jittered = target * (1.0 - self.jitter * unit(random));
        let mut delay = (jittered as u64).clamp(self.min_delay_ms, self.max_delay_ms);
        if let Some(server) = retry_after_ms {
            delay = delay.max(server.min(self.max_delay_ms));
        }
        delay
    }

    /// Delay before retrying after the `failures`-th consecutive transient failure (1-based):
    /// exponential from `retry_base_ms`, jittered into [50 %, 100 %], capped, Retry-After honoured.
    pub fn failure_delay(&self, failures: u32, random: u64, retry_after_ms: Option<u64>) -> u64 {
        let exp = failures.saturating_sub(1).min(30);
        let full = self.retry_base_ms.saturating_mul(1u64 << exp).min(self.max_delay_ms);
        let jittered = (full as f64 * (0.5 + 0.5 * unit(random))) as u64;
        let mut delay = jittered.max(1);
        if let Some(server) = retry_after_ms {
            delay = delay.max(server.min(self.max_delay_ms));
        }
        delay
    }
}

/// Parses a Retry-After value (delay-seconds or an HTTP-date) into milliseconds from `now_ms`.
/// A date in the past means "now" (0). Unparseable values are ignored (None), as RFC 9110 allows.
pub fn parse_retry_after(value: &str, now_ms: u64) -> Option<u64> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Absurd values saturate; the caller clamps to its maximum delay anyway.
        return Some(value.parse::<u64>().unwrap_or(u64::MAX / 1000).saturating_mul(1000));
    }
    let at_secs = parse_http_date(value)?;
    Some(at_secs.saturating_mul(1000).saturating_sub(now_ms))
}

/// A small deterministic generator (splitmix64) for jitter. The job stores its state, so a saved
/// and resumed job continues the same sequence; drivers seed it from the OS, tests from a constant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jitter {
    state: u64,
}

impl Jitter {
    /// Starts the sequence from `seed` (from the OS in drivers, a constant in tests).
    pub fn new(seed: u64) -> Jitter {
        Jitter { state: seed }
    }

    /// Advances the state and returns the next random value, to pass as `random` to the delay functions.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn early_polls_use_the_minimum_delay() {
        let p = PollPolicy::default();
        assert_eq!(p.pending_delay(0, 0, None), 1_000);
        assert_eq!(p.pending_delay(5_000, u64::MAX, None), 1_000);
    }

    #[test]
    fn delay_grows_with_time_waited_and_is_capped() {
        let p = PollPolicy::default();
        assert_eq!(p.pending_delay(600_000, 0, None), 60_000);
        assert_eq!(p.pending_delay(100 * 3_600_000, 0, None), p.max_delay_ms);
    }

    #[test]
    fn retry_after_is_a_clamped_lower_bound() {
        let p = PollPolicy { max_delay_ms: 10_000, ..PollPolicy::default() };
        assert_eq!(p.pending_delay(0, 0, Some(3_000)), 3_000);
        assert_eq!(p.pending_delay(0, 0, Some(3_600_000)), 10_000);
    }

    #[test]
    fn failure_backoff_doubles() {
        let p = PollPolicy::default();
        // random = u64::MAX gives the top of the jitter range, i.e. (almost) the full delay.
        let d: Vec<u64> = (1..=4).map(|n| p.failure_delay(n, u64::MAX, None)).collect();
        assert!(d[0] > 990 && d[0] <= 1_000, "{d:?}");
        assert!(d[3] > 7_900 && d[3] <= 8_000, "{d:?}");
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("2", 0), Some(2_000));
        assert_eq!(parse_retry_after(" 0 ", 0), Some(0));
        // Sun, 06 Nov 1994 08:49:37 GMT = 784111777
        let now = 784_111_777_000 - 5_500;
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now), Some(5_500));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now + 60_000), Some(0));
        assert_eq!(parse_retry_after("soon", 0), None);
        assert_eq!(parse_retry_after("-1", 0), None);
        assert!(parse_retry_after("99999999999999999999999", 0).is_some());
    }

    #[test]
    fn jitter_is_deterministic() {
        let (mut a, mut b) = (Jitter::new(7), Jitter::new(7));
        for _ in 0..10 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
    }

    proptest! {
        #[test]
        fn pending_delay_respects_bounds_and_lag(waited in 0u64..10_000_000_000, r: u64, ra in proptest::option::of(0u64..u64::MAX / 2)) {
            let p = PollPolicy::default();
            let d = p.pending_delay(waited, r, ra);
            prop_assert!(d >= p.min_delay_ms && d <= p.max_delay_ms);
            if ra.is_none() {
                // The lag bound: never wait longer than max(min, ratio * waited).
                let bound = ((waited as f64 * p.lag_ratio) as u64).max(p.min_delay_ms);
                prop_assert!(d <= bound + 1);
            }
        }

        #[test]
        fn retry_after_never_panics(s in "\\PC*", now: u64) {
            let _ = parse_retry_after(&s, now);
        }
    }
}
