//! Bounds on one package download, as pure rules over "bytes so far" and "now".
//!
//! A one-shot download must end: one byte every few seconds would keep the stall timer happy for
//! days, and a body without `Content-Length` could fill the disk. The guard applies, from the
//! moment the `200` arrives:
//! - a **stall timeout**: no byte for `stall_timeout_ms`;
//! - a **low-speed limit** in the spirit of curl's `--speed-limit`/`--speed-time`: the transfer is
//!   abandoned once it averaged under `speed_limit` bytes per second over (at least) the last
//!   `speed_time_ms`. A slow but healthy transfer above the limit is never cut;
//! - an optional **overall download timeout**;
//! - a **size cap**: a `Content-Length` over `max_size` is refused before any byte is written, and a
//!   body without one is abandoned as soon as it passes the cap.
//!
//! The job owns a guard while it receives; the driver only reports progress and the time and keeps
//! one timer armed for [`DownloadGuard::next_deadline`]. Rates are measured against a handful of
//! samples (one per eighth of `speed_time_ms`), so memory stays constant and per-chunk work is a
//! comparison.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// Default low-speed limit: 1 KiB/s…
pub const DEFAULT_SPEED_LIMIT: u64 = 1024;
/// …averaged over 2 minutes.
pub const DEFAULT_SPEED_TIME_MS: u64 = 120_000;
/// Default size cap: 1 TiB, far above any ClickHouse backup of an MES, far below a disk-filling stream.
pub const DEFAULT_MAX_SIZE: u64 = 1 << 40;
/// Samples taken per low-speed window: the window measured is between `speed_time_ms` and
/// `speed_time_ms * (1 + 1/8)` long, and a transfer that stops is caught within an eighth of it.
const SAMPLES_PER_WINDOW: u64 = 8;

// The option names of every front end, so that each message names the knob to turn.
const SPEED_KNOB: &str = "--speed-limit/--speed-time; Python speed_limit/speed_time, JS speedLimit/speedTimeMs";
const TIMEOUT_KNOB: &str = "--download-timeout; Python download_timeout, JS downloadTimeoutMs";
const SIZE_KNOB: &str = "--max-size; Python max_size, JS maxSize";
const STALL_KNOB: &str = "--stall-timeout; Python stall_timeout, JS stallTimeoutMs";

/// The bounds a caller sets on every download of a job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DownloadLimits {
    /// Bytes per second a download must average over `speed_time_ms`; 0 disables the rule.
    pub speed_limit: u64,
    /// The window of the low-speed rule.
    pub speed_time_ms: u64,
    /// Longest time from the `200` to the last byte; `None`: no limit.
    pub download_timeout_ms: Option<u64>,
    /// Largest package accepted, in bytes.
    pub max_size: u64,
}

impl Default for DownloadLimits {
    fn default() -> DownloadLimits {
        DownloadLimits {
            speed_limit: DEFAULT_SPEED_LIMIT,
            speed_time_ms: DEFAULT_SPEED_TIME_MS,
            download_timeout_ms: None,
            max_size: DEFAULT_MAX_SIZE,
        }
    }
}

impl DownloadLimits {
    /// Checks values given by a user; front ends call this on their options.
    pub fn validate(&self) -> Result<(), Error> {
        if self.speed_limit > 0 && self.speed_time_ms == 0 {
            return Err(Error::invalid_argument(format!(
                "the low-speed time must be positive ({SPEED_KNOB}); to disable the rule, set the speed limit to 0"
            )));
        }
        if self.download_timeout_ms == Some(0) {
            return Err(Error::invalid_argument(format!(
                "the download timeout must be positive ({TIMEOUT_KNOB}); leave it unset for no limit"
            )));
        }
        if self.max_size == 0 {
            return Err(Error::invalid_argument(format!(
                "the size cap must be at least 1 byte ({SIZE_KNOB}); the default is 1 TiB"
            )));
        }
        Ok(())
    }

    /// A declared `Content-Length` over the cap: refused before any byte is written.
    pub fn check_declared_length(&self, content_length: Option<u64>) -> Option<Abandon> {
        let declared = content_length?;
        (declared > self.max_size).then_some(Abandon::TooLargeDeclared { declared, max_size: self.max_size })
    }
}

/// Why the guard abandoned a download. [`Abandon::describe`] says it, naming the option to change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Abandon {
    /// The `Content-Length` of the `200` exceeds the size cap; nothing was written.
    TooLargeDeclared {
        /// The announced `Content-Length`, in bytes.
        declared: u64,
        /// The size cap in force, in bytes.
        max_size: u64,
    },
    /// The body received so far exceeds the size cap.
    TooLarge {
        /// Bytes received when the cap was passed.
        bytes: u64,
        /// The size cap in force, in bytes.
        max_size: u64,
    },
    /// The transfer averaged under the low-speed limit over a full low-speed window.
    TooSlow {
        /// Bytes received during the measured window.
        bytes_in_window: u64,
        /// Length of the measured window in ms (at least `speed_time_ms`).
        window_ms: u64,
        /// The low-speed limit in force, in bytes per second.
        speed_limit: u64,
        /// The configured low-speed window, in ms.
        speed_time_ms: u64,
    },
    /// No byte arrived for the stall timeout.
    Stalled {
        /// Time since the last byte arrived, in ms.
        idle_ms: u64,
        /// Bytes received before the stall.
        bytes: u64,
        /// The stall timeout in force, in ms.
        stall_timeout_ms: u64,
    },
    /// The download was still running when the overall download timeout passed.
    TimedOut {
        /// Time since the `200` arrived, in ms.
        elapsed_ms: u64,
        /// Bytes received so far.
        bytes: u64,
        /// The download timeout in force, in ms.
        download_timeout_ms: u64,
    },
}

impl Abandon {
    /// What happened, for "the download … did not complete: …".
    pub fn describe(&self) -> String {
        match *self {
            Abandon::TooLargeDeclared { declared, max_size } => format!(
                "the server announced {} (Content-Length {declared}), more than the size cap of {} ({SIZE_KNOB}), \
                 so it was refused before any byte was written. If a package that large is expected, raise the cap",
                human_bytes(declared),
                human_bytes(max_size)
            ),
            Abandon::TooLarge { bytes, max_size } => format!(
                "the package, sent without a Content-Length, passed the size cap of {} after {bytes} bytes \
                 ({SIZE_KNOB}). If a package that large is expected, raise the cap",
                human_bytes(max_size)
            ),
            Abandon::TooSlow { bytes_in_window, window_ms, speed_limit, speed_time_ms } => {
                let rate = (u128::from(bytes_in_window) * 1000 / u128::from(window_ms.max(1))) as u64;
                format!(
                    "it averaged {}/s over the last {}, under the low-speed limit of {}/s over {} ({SPEED_KNOB}). \
                     If the network to the MES is really that slow, lower the limit (0 disables it)",
                    human_bytes(rate),
                    human_duration(window_ms),
                    human_bytes(speed_limit),
                    human_duration(speed_time_ms)
                )
            }
            Abandon::Stalled { idle_ms, bytes, stall_timeout_ms } => format!(
                "no data arrived for {} after {bytes} bytes (stall timeout {}: {STALL_KNOB})",
                human_duration(idle_ms),
                human_duration(stall_timeout_ms)
            ),
            Abandon::TimedOut { elapsed_ms, bytes, download_timeout_ms } => format!(
                "it was still arriving {} after it started ({bytes} bytes so far), past the download timeout of {} \
                 ({TIMEOUT_KNOB}). Allow a longer download timeout",
                human_duration(elapsed_ms),
                human_duration(download_timeout_ms)
            ),
        }
    }
}

/// The rules applied to one download, from its `200` on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DownloadGuard {
    limits: DownloadLimits,
    stall_timeout_ms: u64,
    started_ms: u64,
    last_data_ms: u64,
    bytes: u64,
    /// (time, bytes so far), oldest first: the oldest is the newest sample at least one low-speed
    /// window old once there is one, so the average is taken over a full window.
    samples: VecDeque<(u64, u64)>,
}

impl DownloadGuard {
    /// Call this when the `200` of a download arrives, at `now_ms`; every timer and rate counts from then.
    /// `stall_timeout_ms` comes from the job's [`PollPolicy`](crate::PollPolicy).
    pub fn new(limits: DownloadLimits, stall_timeout_ms: u64, now_ms: u64) -> DownloadGuard {
        DownloadGuard {
            limits,
            stall_timeout_ms,
            started_ms: now_ms,
            last_data_ms: now_ms,
            bytes: 0,
            samples: VecDeque::from([(now_ms, 0)]),
        }
    }

    /// Bytes received so far, as last reported to [`on_progress`](Self::on_progress).
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// `bytes` have arrived in all (a running total) at `now_ms`.
    pub fn on_progress(&mut self, bytes: u64, now_ms: u64) -> Option<Abandon> {
        if bytes > self.bytes {
            self.last_data_ms = now_ms;
        }
        self.bytes = bytes;
        if bytes > self.limits.max_size {
            return Some(Abandon::TooLarge { bytes, max_size: self.limits.max_size });
        }
        if now_ms >= self.next_sample_ms() {
            return self.check(now_ms);
        }
        None
    }

    /// The timer armed for [`next_deadline`](Self::next_deadline) fired (or any time passed).
    pub fn on_timeout(&mut self, now_ms: u64) -> Option<Abandon> {
        self.check(now_ms)
    }

    /// When the rules next need to look at the time, if no byte arrives before then.
    pub fn next_deadline(&self) -> u64 {
        let mut at = self.last_data_ms.saturating_add(self.stall_timeout_ms);
        if let Some(limit) = self.limits.download_timeout_ms {
            at = at.min(self.started_ms.saturating_add(limit));
        }
        if self.limits.speed_limit > 0 {
            at = at.min(self.next_sample_ms());
        }
        at
    }

    fn step_ms(&self) -> u64 {
        self.limits.speed_time_ms.div_ceil(SAMPLES_PER_WINDOW).max(1)
    }

    fn next_sample_ms(&self) -> u64 {
        let last = self.samples.back().map_or(self.started_ms, |s| s.0);
        last.saturating_add(self.step_ms())
    }

    fn check(&mut self, now_ms: u64) -> Option<Abandon> {
        let idle_ms = now_ms.saturating_sub(self.last_data_ms);
        if idle_ms >= self.stall_timeout_ms {
            return Some(Abandon::Stalled { idle_ms, bytes: self.bytes, stall_timeout_ms: self.stall_timeout_ms });
        }
        if let Some(limit) = self.limits.download_timeout_ms {
            let elapsed_ms = now_ms.saturating_sub(self.started_ms);
            if elapsed_ms >= limit {
                return Some(Abandon::TimedOut { elapsed_ms, bytes: self.bytes, download_timeout_ms: limit });
            }
        }
        if self.limits.speed_limit == 0 {
            return None;
        }
        if now_ms >= self.next_sample_ms() {
            self.samples.push_back((now_ms, self.bytes));
        }
        let window = self.limits.speed_time_ms;
        while self.samples.len() >= 2 && self.samples[1].0.saturating_add(window) <= now_ms {
            self.samples.pop_front();
        }
        let (base_ms, base_bytes) = *self.samples.front()?;
        let window_ms = now_ms.saturating_sub(base_ms);
        if window_ms < window {
            return None;
        }
        let bytes_in_window = self.bytes.saturating_sub(base_bytes);
        let too_slow = u128::from(bytes_in_window) * 1000 < u128::from(self.limits.speed_limit) * u128::from(window_ms);
        too_slow.then_some(Abandon::TooSlow {
            bytes_in_window,
            window_ms,
            speed_limit: self.limits.speed_limit,
            speed_time_ms: window,
        })
    }
}

/// `1536` -> `1.5 KiB`, `1099511627776` -> `1 TiB`, `100` -> `100 bytes`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if n < 1024 {
        return if n == 1 { "1 byte".to_owned() } else { format!("{n} bytes") };
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    let text = format!("{value:.1}");
    let text = text.strip_suffix(".0").unwrap_or(&text);
    format!("{text} {}", UNITS[unit])
}

/// `250` -> `250 ms`, `90000` -> `90 s`, `600000` -> `10 min`, from two hours on hours (`7200000` -> `2.0 h`).
pub fn human_duration(ms: u64) -> String {
    let s = ms / 1000;
    match s {
        0 => format!("{ms} ms"),
        1..=119 => {
            if ms.is_multiple_of(1000) {
                format!("{s} s")
            } else {
                format!("{:.1} s", ms as f64 / 1000.0)
            }
        }
        120..=7199 => format!("{} min", s / 60),
        _ => format!("{:.1} h", s as f64 / 3600.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn limits(speed_limit: u64, speed_time_ms: u64) -> DownloadLimits {
        DownloadLimits { speed_limit, speed_time_ms, ..DownloadLimits::default() }
    }

    /// Feeds `rate` bytes per second in chunks every `every_ms`, firing the timer whenever it is due,
    /// until the guard abandons or `until_ms` passes. Returns the verdict and when it came.
    fn run(guard: &mut DownloadGuard, rate: u64, every_ms: u64, until_ms: u64) -> Option<(u64, Abandon)> {
        let mut now = 0;
        let mut bytes = 0;
        let mut next_chunk = every_ms;
        while now <= until_ms {
            let deadline = guard.next_deadline();
            if deadline < next_chunk {
                now = deadline;
                if let Some(a) = guard.on_timeout(now) {
                    return Some((now, a));
                }
                continue;
            }
            now = next_chunk;
            next_chunk += every_ms;
            bytes += rate * every_ms / 1000;
            if let Some(a) = guard.on_progress(bytes, now) {
                return Some((now, a));
            }
        }
        None
    }

    #[test]
    fn a_steady_transfer_above_the_limit_is_never_cut() {
        let mut g = DownloadGuard::new(limits(1024, 10_000), 60_000, 0);
        assert_eq!(run(&mut g, 2048, 100, 3_600_000), None);
        // Far below the limit in bursts that still average above it over every window.
        let mut g = DownloadGuard::new(limits(1024, 10_000), 60_000, 0);
        assert_eq!(run(&mut g, 1100, 5_000, 3_600_000), None);
    }

    #[test]
    fn a_drip_under_the_limit_is_cut_after_one_window() {
        let mut g = DownloadGuard::new(limits(1024, 10_000), 60_000, 0);
        let (at, why) = run(&mut g, 100, 100, 3_600_000).expect("abandoned");
        assert!((10_000..=11_250).contains(&at), "{at}");
        assert!(matches!(why, Abandon::TooSlow { .. }), "{why:?}");
        assert!(why.describe().contains("--speed-limit/--speed-time"), "{}", why.describe());
    }

    #[test]
    fn a_transfer_that_slows_down_is_cut_within_a_window_and_an_eighth() {
        let mut g = DownloadGuard::new(limits(1024, 8_000), 600_000, 0);
        let mut bytes = 0;
        let mut now = 0;
        // Fast for a minute, then 10 bytes per second.
        while now < 60_000 {
            now += 100;
            bytes += 100_000;
            assert_eq!(g.on_progress(bytes, now), None);
        }
        let slow_from = now;
        let verdict = loop {
            now += 1_000;
            bytes += 10;
            if let Some(a) = g.on_progress(bytes, now) {
                break a;
            }
            assert!(now < slow_from + 20_000, "never cut");
        };
        assert!(matches!(verdict, Abandon::TooSlow { .. }));
        assert!(now - slow_from <= 8_000 + 1_000 + 1_000, "{}", now - slow_from);
    }

    #[test]
    fn silence_is_caught_by_the_timer_alone() {
        let mut g = DownloadGuard::new(limits(1024, 8_000), 600_000, 0);
        assert_eq!(g.on_progress(1_000_000, 100), None);
        let mut now = 100;
        let verdict = loop {
            let d = g.next_deadline();
            assert!(d > now, "the deadline moves on");
            now = d;
            if let Some(a) = g.on_timeout(now) {
                break a;
            }
        };
        assert!(matches!(verdict, Abandon::TooSlow { bytes_in_window: 0, .. }), "{verdict:?}");
        assert!(now <= 100 + 8_000 + 1_000, "{now}");
    }

    #[test]
    fn zero_disables_the_low_speed_rule() {
        let mut g = DownloadGuard::new(limits(0, 10_000), 60_000, 0);
        assert_eq!(run(&mut g, 1, 1_000, 600_000), None);
        assert_eq!(g.next_deadline(), g.last_data_ms + 60_000);
    }

    #[test]
    fn stall_and_overall_timeout_name_their_knobs() {
        let mut g = DownloadGuard::new(limits(0, 1), 5_000, 0);
        assert_eq!(g.on_progress(10, 1_000), None);
        assert_eq!(g.next_deadline(), 6_000);
        let why = g.on_timeout(6_000).unwrap();
        assert!(matches!(why, Abandon::Stalled { idle_ms: 5_000, bytes: 10, .. }));
        assert!(why.describe().contains("--stall-timeout"));

        let l = DownloadLimits { download_timeout_ms: Some(3_000), ..limits(0, 1) };
        let mut g = DownloadGuard::new(l, 60_000, 1_000);
        assert_eq!(g.next_deadline(), 4_000);
        assert_eq!(g.on_progress(10, 3_999), None);
        let why = g.on_progress(20, 4_000).or_else(|| g.on_timeout(4_000)).unwrap();
        assert!(matches!(why, Abandon::TimedOut { elapsed_ms: 3_000, .. }), "{why:?}");
        assert!(why.describe().contains("--download-timeout"));
    }

    #[test]
    fn the_size_cap_applies_to_declared_and_streamed_lengths() {
        let l = DownloadLimits { max_size: 1_000, ..DownloadLimits::default() };
        assert_eq!(l.check_declared_length(None), None);
        assert_eq!(l.check_declared_length(Some(1_000)), None);
        let why = l.check_declared_length(Some(1_001)).unwrap();
        assert!(why.describe().contains("--max-size") && why.describe().contains("before any byte"));
        let mut g = DownloadGuard::new(l, 60_000, 0);
        assert_eq!(g.on_progress(1_000, 1), None);
        let why = g.on_progress(1_001, 2).unwrap();
        assert_eq!(why, Abandon::TooLarge { bytes: 1_001, max_size: 1_000 });
        assert!(why.describe().contains("--max-size"));
    }

    #[test]
    fn nonsense_limits_are_refused() {
        assert!(DownloadLimits::default().validate().is_ok());
        assert!(limits(0, 0).validate().is_ok(), "a disabled rule needs no window");
        assert!(limits(1, 0).validate().is_err());
        assert!(DownloadLimits { max_size: 0, ..DownloadLimits::default() }.validate().is_err());
        assert!(DownloadLimits { download_timeout_ms: Some(0), ..DownloadLimits::default() }.validate().is_err());
    }

    #[test]
    fn human_units() {
        assert_eq!(human_bytes(100), "100 bytes");
        assert_eq!(human_bytes(1024), "1 KiB");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(DEFAULT_MAX_SIZE), "1 TiB");
        assert_eq!(human_duration(250), "250 ms");
        assert_eq!(human_duration(1_500), "1.5 s");
        assert_eq!(human_duration(120_000), "2 min");
    }

    proptest! {
        /// Memory stays bounded and the verdict only ever says "too slow" for a transfer that
        /// really averaged under the limit over the window it names.
        #[test]
        fn samples_stay_few_and_verdicts_are_true(
            limit in 1u64..10_000,
            window in 1u64..100_000,
            steps in proptest::collection::vec((0u64..5_000, 0u64..20_000), 1..300),
        ) {
            let mut g = DownloadGuard::new(limits(limit, window), u64::MAX / 4, 0);
            let (mut now, mut bytes) = (0u64, 0u64);
            for (dt, db) in steps {
                now += dt;
                bytes += db;
                let verdict = g.on_progress(bytes, now);
                prop_assert!(g.samples.len() as u64 <= SAMPLES_PER_WINDOW + 3);
                if let Some(Abandon::TooSlow { bytes_in_window, window_ms, .. }) = verdict {
                    prop_assert!(window_ms >= window);
                    prop_assert!(u128::from(bytes_in_window) * 1000 < u128::from(limit) * u128::from(window_ms));
                    break;
                }
            }
        }
    }
}
