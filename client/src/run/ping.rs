//! `[ping]`: a push monitor (Healthchecks, Uptime Kuma's push monitors and the like) told when a run
//! starts (`POST {url}/start`) and how it ended (`POST {url}` on success, `POST {url}/fail` on
//! failure) with a short plain-text summary: one line per environment, no secret. Short timeouts
//! (connect 10 s, total 30 s), no redirect followed, no `Referer`; a ping that fails is a warning
//! and a line in the report, never the run's failure.

use std::time::Duration;

use mesbackup_core::Error;

use super::{EnvironmentResult, RunReport};
use crate::http::{build_reqwest_client, HttpConfig};

/// Connect timeout of a ping.
pub const PING_CONNECT_TIMEOUT_MS: u64 = 10_000;
/// Whole-request timeout of a ping.
pub const PING_TIMEOUT_MS: u64 = 30_000;

/// The monitor of a run.
pub struct Pinger {
    client: reqwest::Client,
    url: String,
}

impl Pinger {
    /// For the checked URL (`PingConfig::resolve`).
    pub fn new(url: &str) -> Result<Pinger, Error> {
        let config = HttpConfig { ca_cert_pem: None, connect_timeout_ms: Some(PING_CONNECT_TIMEOUT_MS) };
        Ok(Pinger { client: build_reqwest_client(&config, false)?, url: url.trim_end_matches('/').to_owned() })
    }

    /// `POST {url}/start`.
    pub async fn start(&self) -> Result<(), String> {
        self.post("/start", String::new()).await.map_err(|m| format!("ping at the start of the run failed: {m}"))
    }

    /// `POST {url}` (ok) or `POST {url}/fail` with [`summary`].
    pub async fn finish(&self, report: &RunReport) -> Result<(), String> {
        let suffix = if report.ok { "" } else { "/fail" };
        self.post(suffix, summary(report)).await.map_err(|m| format!("ping at the end of the run failed: {m}"))
    }

    async fn post(&self, suffix: &str, body: String) -> Result<(), String> {
        let response = self
            .client
            .post(format!("{}{suffix}", self.url))
            .timeout(Duration::from_millis(PING_TIMEOUT_MS))
            .header(reqwest::header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .body(body)
            .send()
            .await
            // Without the URL: it embeds the monitor's id.
            .map_err(|e| format!("{}; the run's outcome is unchanged", e.without_url()))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else if status.is_redirection() {
            Err(format!("the monitor answered HTTP {status} (a redirect, not followed): give its final URL"))
        } else {
            Err(format!("the monitor answered HTTP {status}; check the ping URL"))
        }
    }
}

/// The body of the last ping: one line per environment (name, result, failed step and message),
/// then the exit code.
pub fn summary(report: &RunReport) -> String {
    let mut out = String::new();
    for e in &report.environments {
        match e.result {
            EnvironmentResult::Ok => out.push_str(&format!("{}: ok\n", e.name)),
            EnvironmentResult::Failed => {
                let step = e
                    .failed_step
                    .and_then(|s| serde_json::to_value(s).ok())
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                let message: String =
                    e.message.as_deref().unwrap_or("").replace(['\n', '\r'], " ").chars().take(300).collect();
                out.push_str(&format!("{}: failed at {step}: {message}\n", e.name));
            }
        }
    }
    out.push_str(&format!("exit code {}\n", report.exit_code));
    out
}
