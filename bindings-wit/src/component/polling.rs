//! Interface `polling`: the polling policy's delays, as every driver of the core computes them.

use mesbackup_core::mes::{parse_retry_after, PollPolicy as Core};

use super::exports::cmf::mesbackup::polling::{Error, Guest, PollPolicy};
use super::{error, Component};

pub(super) fn policy_from_wit(p: PollPolicy) -> Core {
    Core {
        min_delay_ms: p.min_delay_ms,
        max_delay_ms: p.max_delay_ms,
        lag_ratio: p.lag_ratio,
        jitter: p.jitter,
        retry_base_ms: p.retry_base_ms,
        max_consecutive_failures: p.max_consecutive_failures,
        timeout_ms: p.timeout_ms,
        stall_timeout_ms: p.stall_timeout_ms,
        request_timeout_ms: p.request_timeout_ms,
    }
}

pub(super) fn policy_to_wit(p: &Core) -> PollPolicy {
    PollPolicy {
        min_delay_ms: p.min_delay_ms,
        max_delay_ms: p.max_delay_ms,
        lag_ratio: p.lag_ratio,
        jitter: p.jitter,
        retry_base_ms: p.retry_base_ms,
        max_consecutive_failures: p.max_consecutive_failures,
        timeout_ms: p.timeout_ms,
        stall_timeout_ms: p.stall_timeout_ms,
        request_timeout_ms: p.request_timeout_ms,
    }
}

impl Guest for Component {
    fn default_policy() -> PollPolicy {
        policy_to_wit(&Core::default())
    }

    fn validate(policy: PollPolicy) -> Result<(), Error> {
        policy_from_wit(policy).validate().map_err(error)
    }

    fn pending_delay(policy: PollPolicy, waited_ms: u64, random: u64, retry_after_ms: Option<u64>) -> u64 {
        policy_from_wit(policy).pending_delay(waited_ms, random, retry_after_ms)
    }

    fn failure_delay(policy: PollPolicy, failures: u32, random: u64, retry_after_ms: Option<u64>) -> u64 {
        policy_from_wit(policy).failure_delay(failures, random, retry_after_ms)
    }

    fn parse_retry_after(value: String, now_ms: u64) -> Option<u64> {
        parse_retry_after(&value, now_ms)
    }
}
