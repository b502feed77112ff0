//! Retention: the newest N packages per database are kept, by their sidecar times.

use std::collections::BTreeMap;
use std::fs::{self};
use std::io::{self};
use std::path::{Path, PathBuf};

use mesbackup_core::mes::parse_rfc3339;
use mesbackup_core::mes::sidecar_file_name;
use mesbackup_core::Error;

use super::io_error;
use super::sidecars::read_sidecars;

/// One package known by its sidecar, with the retention decision.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PruneEntry {
    /// The package file (it may be missing: then only its sidecar is left).
    #[serde(serialize_with = "super::path_text::lossy")]
    pub package: PathBuf,
    /// The mesbackup sidecar beside it, whose times order the backups.
    #[serde(serialize_with = "super::path_text::lossy")]
    pub sidecar: PathBuf,
    /// The database the sidecar names (unknown for a download resumed from a bare GUID).
    pub database: Option<String>,
    /// The sidecar's finish time (else its ready or start time) that orders the backups, RFC 3339.
    pub finished_at: Option<String>,
    /// 0 when the package itself is missing.
    pub size: u64,
    /// Among the newest `keep` of its database: stays.
    pub keep: bool,
}

/// The retention decision for a folder.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PrunePlan {
    /// Backups kept per database.
    pub keep: usize,
    /// Per database, newest first.
    pub entries: Vec<PruneEntry>,
}

impl PrunePlan {
    /// The entries outside the newest `keep` of their database: what [`execute_prune`] deletes.
    pub fn to_delete(&self) -> impl Iterator<Item = &PruneEntry> {
        self.entries.iter().filter(|e| !e.keep)
    }
}

/// Retention by the sidecar times: per database, the `keep` newest backups (by finish time) stay, the
/// rest are listed for deletion. Only packages with a mesbackup sidecar are considered; anything else
/// in the folder is never touched.
pub fn plan_prune(dir: &Path, keep: usize) -> Result<PrunePlan, Error> {
    if keep == 0 {
        return Err(Error::invalid_argument("--keep must be at least 1: pruning never deletes every backup"));
    }
    let sidecars = read_sidecars(dir)?;
    let mut by_db: BTreeMap<Option<String>, Vec<PruneEntry>> = BTreeMap::new();
    for (package_name, s) in sidecars {
        let package = dir.join(&package_name);
        let time = s.finished_at.clone().or(s.ready_at.clone()).or(s.started_at.clone());
        let size = fs::metadata(&package).map(|m| m.len()).unwrap_or(0);
        by_db.entry(s.database.clone()).or_default().push(PruneEntry {
            sidecar: dir.join(sidecar_file_name(&package_name)),
            package,
            database: s.database,
            finished_at: time,
            size,
            keep: true,
        });
    }
    let mut entries = Vec::new();
    for (_, mut group) in by_db {
        group.sort_by_key(|e| std::cmp::Reverse(e.finished_at.as_deref().and_then(parse_rfc3339).unwrap_or(0)));
        for (i, e) in group.iter_mut().enumerate() {
            e.keep = i < keep;
        }
        entries.extend(group);
    }
    Ok(PrunePlan { keep, entries })
}

/// Deletes what `plan` marks for deletion (package, then its sidecar). Returns the deleted paths.
pub fn execute_prune(plan: &PrunePlan) -> Result<Vec<PathBuf>, Error> {
    let mut deleted = Vec::new();
    for e in plan.to_delete() {
        for path in [&e.package, &e.sidecar] {
            match fs::remove_file(path) {
                Ok(()) => deleted.push(path.clone()),
                Err(err) if err.kind() == io::ErrorKind::NotFound => {}
                Err(err) => return Err(io_error("cannot delete", path, &err)),
            }
        }
    }
    Ok(deleted)
}
