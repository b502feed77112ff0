//! Which injected fault applies: a canned answer to the nth request of a method (`faults`), or a
//! misbehaving package body (`download`).

use std::time::Duration;

use crate::scenario::{Fault, Nth, Scenario};

/// The `faults` entry answering request number `nth` (1-based) of `method`, if any; the first
/// matching entry wins.
pub fn request_fault<'a>(scenario: &'a Scenario, method: &str, nth: u64) -> Option<&'a Fault> {
    scenario.faults.iter().find(|f| {
        f.method == method
            && match f.nth {
                Nth::All => true,
                Nth::Index(i) => i == nth,
            }
    })
}

/// How one package body misbehaves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DownloadPlan {
    /// End the body (FIN) after this many bytes, Content-Length still saying the full size.
    pub truncate_at: Option<u64>,
    /// Reset the connection (RST) after this many bytes.
    pub reset_at: Option<u64>,
    /// Pause this long once this many bytes are out.
    pub stall: Option<(u64, Duration)>,
    /// Send pieces of this many bytes, this long apart.
    pub drip: Option<(u64, Duration)>,
    /// Send no Content-Length (a chunked body).
    pub chunked: bool,
}

impl DownloadPlan {
    /// The plan for package download number `nth` (1-based) of the scenario: `download` applies to
    /// the first one, or to all of them with `"every": true`.
    pub fn for_download(scenario: &Scenario, nth: u64) -> DownloadPlan {
        match &scenario.download {
            Some(d) if nth == 1 || d.every => DownloadPlan {
                truncate_at: d.truncate_at,
                reset_at: d.reset_at,
                stall: d.stall_at.zip(d.stall_ms.map(Duration::from_millis)),
                drip: d.drip.as_ref().map(|dr| (dr.chunk, Duration::from_millis(dr.interval_ms))),
                chunked: d.chunked,
            },
            _ => DownloadPlan::default(),
        }
    }

    /// Where the body ends early, and whether with a reset.
    pub fn cut(&self) -> Option<(u64, bool)> {
        self.truncate_at.map(|n| (n, false)).or(self.reset_at.map(|n| (n, true)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nth_and_every() {
        let s = Scenario::from_json(json!({
            "faults": [{"method": "GET", "nth": 2, "status": 500}, {"method": "POST", "nth": "all", "status": 503}],
            "download": {"truncate_at": 10}
        }))
        .unwrap();
        assert!(request_fault(&s, "GET", 1).is_none());
        assert_eq!(request_fault(&s, "GET", 2).unwrap().status, 500);
        assert_eq!(request_fault(&s, "POST", 7).unwrap().status, 503);
        assert_eq!(DownloadPlan::for_download(&s, 1).cut(), Some((10, false)));
        assert_eq!(DownloadPlan::for_download(&s, 2), DownloadPlan::default());
    }
}
