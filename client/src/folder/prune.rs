//! Retention: per database, the generations core's planner keeps (`mesbackup_core::retention`:
//! keep_last, daily, weekly, monthly), by the sidecar times.

use std::collections::BTreeMap;
use std::fs::{self};
use std::io::{self};
use std::path::{Path, PathBuf};

use mesbackup_core::mes::parse_rfc3339;
use mesbackup_core::mes::sidecar_file_name;
use mesbackup_core::retention::{plan_retention, Generation, KeepReason, RetentionPolicy};
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
    /// Kept by the policy: stays.
    pub keep: bool,
    /// Why it stays (empty when it goes): last, daily, weekly, monthly, newest_verified, undated,
    /// backup_failed.
    pub reasons: Vec<KeepReason>,
}

/// The retention decision for a folder.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PrunePlan {
    /// The policy's keep_last (the `--keep` of `prune`).
    pub keep: usize,
    /// The whole policy the plan follows.
    pub policy: RetentionPolicy,
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
    plan_retention_in(dir, &RetentionPolicy::last(u32::try_from(keep).unwrap_or(u32::MAX)), &|_| false)
}

/// Retention by `policy` over the packages in `dir` that have a mesbackup sidecar, per database
/// (core's [`plan_retention`]). A package counts as verified when its file is there with the size
/// its sidecar records (this run's verified packages pass that too); the newest such one is never
/// deleted. For a database where `backup_failed(database)` is true nothing is deleted. Anything
/// without a sidecar is never touched.
pub fn plan_retention_in(
    dir: &Path,
    policy: &RetentionPolicy,
    backup_failed: &dyn Fn(Option<&str>) -> bool,
) -> Result<PrunePlan, Error> {
    policy.check("retention")?;
    let sidecars = read_sidecars(dir)?;
    let mut by_db: BTreeMap<Option<String>, Vec<(PruneEntry, Generation)>> = BTreeMap::new();
    for (package_name, s) in sidecars {
        let package = dir.join(&package_name);
        let time = s.finished_at.clone().or(s.ready_at.clone()).or(s.started_at.clone());
        let size = fs::metadata(&package).map(|m| m.len()).unwrap_or(0);
        let generation = Generation {
            time_ms: time.as_deref().and_then(parse_rfc3339),
            verified: size == s.size && fs::metadata(&package).is_ok(),
        };
        let entry = PruneEntry {
            sidecar: dir.join(sidecar_file_name(&package_name)),
            package,
            database: s.database,
            finished_at: time,
            size,
            keep: true,
            reasons: Vec::new(),
        };
        by_db.entry(entry.database.clone()).or_default().push((entry, generation));
    }
    let mut entries = Vec::new();
    for (database, mut group) in by_db {
        group.sort_by_key(|(_, g)| std::cmp::Reverse(g.time_ms.unwrap_or(0)));
        let generations: Vec<Generation> = group.iter().map(|(_, g)| *g).collect();
        let decisions = plan_retention(&generations, policy, backup_failed(database.as_deref()));
        for ((mut entry, _), decision) in group.into_iter().zip(decisions) {
            entry.keep = decision.keep();
            entry.reasons = decision.reasons;
            entries.push(entry);
        }
    }
    Ok(PrunePlan { keep: policy.keep_last as usize, policy: *policy, entries })
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
