//! The JSON record saved beside every package: what it is, where it came from, and the backup window.
//!
//! The seed's best practice is to re-run MES data processing over the backup window after a restore;
//! the window (start, ready, finish) is only known at backup time, so it is written down here.
//! It never contains credentials: the environment URL is stored as `EnvUrl` renders it.

use serde::{Deserialize, Serialize};

pub const SIDECAR_SUFFIX: &str = ".mesbackup.json";
pub const SIDECAR_FORMAT: &str = "mesbackup-sidecar/1";

/// `Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip` -> `Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip.mesbackup.json`
pub fn sidecar_file_name(package_file_name: &str) -> String {
    format!("{package_file_name}{SIDECAR_SUFFIX}")
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sidecar {
    pub format: String,
    pub tool: String,
    pub file_name: String,
    /// Unknown when a download was resumed from a bare GUID.
    pub database: Option<String>,
    pub guid: String,
    pub environment_url: String,
    pub size: u64,
    pub sha256: String,
    /// RFC 3339 UTC times. `started_at` is when the MES accepted the POST (unknown when resumed).
    pub started_at: Option<String>,
    pub ready_at: Option<String>,
    pub finished_at: Option<String>,
    /// The name the server proposed, when it differs from `file_name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_file_name: Option<String>,
}

impl Sidecar {
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a sidecar always serialises");
        s.push('\n');
        s
    }

    pub fn from_json(text: &str) -> Result<Sidecar, crate::Error> {
        serde_json::from_str(text)
            .map_err(|e| crate::Error::invalid_argument(format!("not a mesbackup sidecar file: {e}")))
    }
}

/// The tool name and version written into sidecars and user agents.
pub fn tool_id() -> String {
    format!("mesbackup/{}", env!("CARGO_PKG_VERSION"))
}
