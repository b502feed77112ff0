//! The JSON record saved beside every package: what it is, where it came from, and the backup window.
//!
//! The seed's best practice is to re-run MES data processing over the backup window after a restore;
//! the window (start, ready, finish) is only known at backup time, so it is written down here.
//! It never contains credentials: the environment URL is stored as `EnvUrl` renders it.

use serde::{Deserialize, Serialize};

/// Appended to a package's file name to name its sidecar (see [`sidecar_file_name`]).
pub const SIDECAR_SUFFIX: &str = ".mesbackup.json";
/// Value of [`Sidecar::format`] written by this version: identifies the file and its schema version.
pub const SIDECAR_FORMAT: &str = "mesbackup-sidecar/1";

/// `Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip` -> `Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip.mesbackup.json`
pub fn sidecar_file_name(package_file_name: &str) -> String {
    format!("{package_file_name}{SIDECAR_SUFFIX}")
}

/// The record saved as `<package>.mesbackup.json` next to a downloaded package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sidecar {
    /// Schema identifier, [`SIDECAR_FORMAT`] when written by this version.
    pub format: String,
    /// Tool and version that wrote the file, as [`tool_id`] renders it (`mesbackup/<version>`).
    pub tool: String,
    /// Name of the package file this sidecar describes, in the same directory.
    pub file_name: String,
    /// Unknown when a download was resumed from a bare GUID.
    pub database: Option<String>,
    /// GUID of the backup job on the MES that produced the package.
    pub guid: String,
    /// The MES environment URL the package was downloaded from, without credentials.
    pub environment_url: String,
    /// Size of the package file in bytes.
    pub size: u64,
    /// Lowercase hex SHA-256 of the package file, for checking it later.
    pub sha256: String,
    /// RFC 3339 UTC times. `started_at` is when the MES accepted the POST (unknown when resumed).
    pub started_at: Option<String>,
    /// When the MES answered the GET with the package, i.e. the backup was ready and the download began.
    pub ready_at: Option<String>,
    /// When the download completed, just before the package was committed under `file_name`.
    pub finished_at: Option<String>,
    /// The name the server proposed, when it differs from `file_name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_file_name: Option<String>,
    /// When the SQL Server backups of the same environment completed (RFC 3339), if the operator
    /// recorded it: ClickHouse backups follow them, and messages in flight in between are recovered by
    /// re-running data processing from this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql_backup_finished_at: Option<String>,
}

impl Sidecar {
    /// Renders the sidecar as pretty-printed JSON with a trailing newline, ready to write to disk.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a sidecar always serialises");
        s.push('\n');
        s
    }

    /// Parses a sidecar file's text; fails with an invalid-argument error when it is not a sidecar.
    pub fn from_json(text: &str) -> Result<Sidecar, crate::Error> {
        serde_json::from_str(text)
            .map_err(|e| crate::Error::invalid_argument(format!("not a mesbackup sidecar file: {e}")))
    }
}

/// The range to re-run MES data processing over after restoring a set of packages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BackupWindow {
    /// Earliest ClickHouse backup start.
    pub started_at: String,
    /// Latest ClickHouse backup finish.
    pub finished_at: String,
    /// Latest SQL Server backup completion recorded in the sidecars, if any.
    pub sql_backup_finished_at: Option<String>,
    /// Where data processing should start: the SQL Server completion when it is earlier than the
    /// first ClickHouse start (it normally is), else the first start.
    pub reprocess_from: String,
}

/// Earliest start to latest finish over a set of sidecars (RFC 3339 times); `None` when no sidecar
/// records both a start and a finish (downloads resumed from a bare GUID do not know their start).
pub fn backup_window<'a>(sidecars: impl IntoIterator<Item = &'a Sidecar>) -> Option<BackupWindow> {
    use super::time::{format_rfc3339_millis, parse_rfc3339};
    let (mut start, mut finish, mut sql): (Option<u64>, Option<u64>, Option<u64>) = (None, None, None);
    let earliest = |acc: Option<u64>, t: u64| Some(acc.map_or(t, |v| v.min(t)));
    let latest = |acc: Option<u64>, t: u64| Some(acc.map_or(t, |v| v.max(t)));
    for s in sidecars {
        if let Some(t) = s.started_at.as_deref().and_then(parse_rfc3339) {
            start = earliest(start, t);
        }
        if let Some(t) = s.finished_at.as_deref().and_then(parse_rfc3339) {
            finish = latest(finish, t);
        }
        if let Some(t) = s.sql_backup_finished_at.as_deref().and_then(parse_rfc3339) {
            sql = latest(sql, t);
        }
    }
    let (start, finish) = (start?, finish?);
    Some(BackupWindow {
        started_at: format_rfc3339_millis(start),
        finished_at: format_rfc3339_millis(finish),
        sql_backup_finished_at: sql.map(format_rfc3339_millis),
        reprocess_from: format_rfc3339_millis(sql.map_or(start, |q| q.min(start))),
    })
}

/// The tool name and version written into sidecars and user agents.
pub fn tool_id() -> String {
    format!("mesbackup/{}", env!("CARGO_PKG_VERSION"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sidecar(start: Option<&str>, finish: Option<&str>, sql: Option<&str>) -> Sidecar {
        Sidecar {
            format: SIDECAR_FORMAT.into(),
            tool: tool_id(),
            file_name: "x.zip".into(),
            database: None,
            guid: "g".into(),
            environment_url: "https://mes".into(),
            size: 1,
            sha256: String::new(),
            started_at: start.map(str::to_owned),
            ready_at: None,
            finished_at: finish.map(str::to_owned),
            server_file_name: None,
            sql_backup_finished_at: sql.map(str::to_owned),
        }
    }

    #[test]
    fn window_spans_all_and_starts_at_the_sql_backup() {
        let a = sidecar(Some("2026-11-25T10:00:00.000Z"), Some("2026-11-25T10:30:00.000Z"), None);
        let b =
            sidecar(Some("2026-11-25T10:05:00.000Z"), Some("2026-11-25T11:00:00.000Z"), Some("2026-11-25T09:40:00Z"));
        let w = backup_window([&a, &b]).unwrap();
        assert_eq!(w.started_at, "2026-11-25T10:00:00.000Z");
        assert_eq!(w.finished_at, "2026-11-25T11:00:00.000Z");
        assert_eq!(w.sql_backup_finished_at.as_deref(), Some("2026-11-25T09:40:00.000Z"));
        assert_eq!(w.reprocess_from, "2026-11-25T09:40:00.000Z");
        let w = backup_window([&a]).unwrap();
        assert_eq!(w.reprocess_from, w.started_at);
        assert!(backup_window([&sidecar(None, Some("2026-11-25T10:30:00Z"), None)]).is_none());
    }

    #[test]
    fn old_sidecars_without_the_new_field_still_parse() {
        let json = sidecar(None, None, None).to_json();
        assert!(!json.contains("sql_backup_finished_at"));
        assert_eq!(Sidecar::from_json(&json).unwrap().sql_backup_finished_at, None);
    }
}
