//! The whole `restore` and `test-restore` flows over the steps in [`crate::restore`]: verify the
//! package, ask the target for its facts, plan (core), extract, `RESTORE ... ASYNC`, follow it, and
//! compare row counts. Written once here so the CLI and the Python binding only translate: the CLI
//! turns [`RestoreStep`]s into lines or `--json` events, Python into a progress callback.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use mesbackup_core::inspect::Inspection;
use mesbackup_core::restore_plan::{plan_restore, quote_ident, PlanProblem, RestorePlan};
use mesbackup_core::{Error, ErrorKind};
use serde::Serialize;

use crate::restore::{self, RestoreProgress, RowCheck, SqlExecutor};
use crate::verify_file;

/// How often `system.backups` is asked about a running restore.
pub const FOLLOW_INTERVAL: Duration = Duration::from_millis(250);

/// What to restore, where, and how.
#[derive(Debug, Clone)]
pub struct RestoreRequest {
    pub package: PathBuf,
    /// Restore under this name (`--as`); the package's own name otherwise.
    pub target_name: Option<String>,
    /// Restore every table with this storage policy (`--storage-policy`).
    pub storage_policy: Option<String>,
    /// Plan only: verify, ask the target, print the plan, run nothing.
    pub dry_run: bool,
    /// A folder the server can read (under its `backups.allowed_path`); required unless `dry_run`.
    pub server_backup_path: Option<PathBuf>,
    /// The same folder as the server sees it, when that differs (ClickHouse in a container, or on
    /// another host with the folder shared): the RESTORE statement names this path.
    pub path_on_server: Option<String>,
    /// Give up following the restore after this long.
    pub timeout: Duration,
}

/// One step of a restore, reported as it happens.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum RestoreStep {
    /// The package verified; what it holds.
    Verified { database: String, tables: u64, rows: u64 },
    /// Core's plan against the target's facts, and the statement that will run (a placeholder path
    /// on a dry run without a server backup path).
    Planned { plan: RestorePlan, sql: String },
    /// The backup root was extracted for the server to read.
    Extracted { dir: String, files: u64, bytes: u64 },
    /// `RESTORE ... ASYNC` accepted: ClickHouse's operation id.
    Started { operation_id: String },
    /// One look at `system.backups` (sent only when status or counts changed).
    Restoring(RestoreProgress),
}

/// What a finished restore did.
#[derive(Debug, Clone, Serialize)]
pub struct RestoreReport {
    pub database: String,
    pub target_database: String,
    pub dry_run: bool,
    /// Absent on a dry run.
    pub operation_id: Option<String>,
    /// Each table's row count against the package (empty on a dry run).
    pub tables: Vec<RowCheck>,
    pub rows: u64,
    pub elapsed_ms: u64,
}

impl RestoreReport {
    pub fn ok(&self) -> bool {
        self.tables.iter().all(|c| c.ok)
    }

    /// An integrity error naming the tables whose row count differs from the package, if any.
    pub fn mismatch(&self) -> Option<Error> {
        row_mismatch(&self.tables)
    }
}

/// An integrity error naming the tables whose row count differs from the package, if any.
fn row_mismatch(checks: &[RowCheck]) -> Option<Error> {
    let bad: Vec<&str> = checks.iter().filter(|c| !c.ok).map(|c| c.table.as_str()).collect();
    (!bad.is_empty()).then(|| {
        Error::new(
            ErrorKind::Integrity,
            format!("row counts after the restore differ from the package for: {}", bad.join(", ")),
        )
    })
}

/// Verifies `package` and returns what it holds; a damaged package is an error naming the files.
fn verified_inspection(package: &Path) -> Result<(Inspection, u64), Error> {
    let started = Instant::now();
    let v = verify_file::verify_file(package, &mut |_| {}, &mut |_| {})?;
    if let Some(e) = v.failure(package) {
        return Err(Error::new(e.kind, format!("{}; not restoring from a damaged package", e.message)));
    }
    Ok((v.inspection, started.elapsed().as_millis() as u64))
}

fn absolute(dir: &Path) -> String {
    std::path::absolute(dir).unwrap_or_else(|_| dir.to_owned()).display().to_string()
}

/// The path the RESTORE statement names for the extracted folder `dest`: `dest` itself, or its
/// name under `path_on_server` (the server's view of the same folder; the server is a Unix host).
pub fn server_view(dest: &Path, path_on_server: Option<&str>) -> String {
    match path_on_server {
        None => absolute(dest),
        Some(base) => {
            let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            format!("{}/{name}", base.trim_end_matches('/'))
        }
    }
}

/// Which backup root of which package goes where, and how the server names that place.
#[derive(Clone, Copy)]
struct Extraction<'a> {
    package: &'a Path,
    backup_root: &'a str,
    dest: &'a Path,
    path_on_server: Option<&'a str>,
}

/// Extracts, runs the restore statement and follows it to RESTORED; the extracted folder is removed
/// on success and kept (named in the error) on failure, for whoever investigates.
async fn extract_and_restore(
    exec: &dyn SqlExecutor,
    x: &Extraction<'_>,
    plan: &RestorePlan,
    timeout: Duration,
    on_step: &mut dyn FnMut(RestoreStep),
) -> Result<String, Error> {
    let Extraction { package, backup_root, dest, path_on_server } = *x;
    let (files, bytes) = restore::extract_backup_root(package, backup_root, dest)?;
    on_step(RestoreStep::Extracted { dir: absolute(dest), files, bytes });
    let run = async {
        let id = restore::start_restore(exec, &plan.sql(&server_view(dest, path_on_server))).await?;
        on_step(RestoreStep::Started { operation_id: id.clone() });
        let mut last: Option<RestoreProgress> = None;
        let mut on_progress = |p: &RestoreProgress| {
            if last.as_ref() != Some(p) {
                last = Some(p.clone());
                on_step(RestoreStep::Restoring(p.clone()));
            }
        };
        restore::follow_restore(exec, &id, FOLLOW_INTERVAL, timeout, &mut on_progress).await?;
        Ok::<String, Error>(id)
    }
    .await;
    match run {
        Ok(id) => {
            let _ = std::fs::remove_dir_all(dest);
            Ok(id)
        }
        Err(e) => Err(Error::new(e.kind, format!("{}; the extracted backup is left in {}", e.message, dest.display()))),
    }
}

/// Restores one package: verify, plan against the target (problems are an `invalid_argument` error
/// naming them, before anything runs), then unless `dry_run` extract, restore, follow and compare
/// row counts. A row-count mismatch is in the report (`mismatch()`), not an error, so the caller can
/// show the tables first.
pub async fn restore_package(
    exec: &dyn SqlExecutor,
    request: &RestoreRequest,
    on_step: &mut dyn FnMut(RestoreStep),
) -> Result<RestoreReport, Error> {
    let started = Instant::now();
    if !request.dry_run && request.server_backup_path.is_none() {
        return Err(Error::invalid_argument(
            "a restore needs a server backup path (a folder the server may read, under its backups.allowed_path), or a dry run",
        ));
    }
    let (inspection, _) = verified_inspection(&request.package)?;
    let database = restore::package_database(&inspection)?;
    on_step(RestoreStep::Verified { database: database.clone(), tables: inspection.tables, rows: inspection.rows });

    let facts = restore::target_facts(exec).await?;
    let plan = plan_restore(
        &inspection,
        &database,
        request.target_name.as_deref(),
        request.storage_policy.as_deref(),
        &facts,
    );
    let dest = request.server_backup_path.as_ref().map(|b| restore::unique_dir(b, &plan.target_database));
    let shown_path = dest
        .as_deref()
        .map(|d| server_view(d, request.path_on_server.as_deref()))
        .unwrap_or_else(|| "<server-backup-path>/<unique>".to_owned());
    on_step(RestoreStep::Planned { plan: plan.clone(), sql: plan.sql(&shown_path) });
    if !plan.is_ok() {
        return Err(Error::invalid_argument(format!(
            "the restore would fail: {}{}",
            plan.problems_message(),
            if request.dry_run { "" } else { " (nothing was run)" }
        )));
    }
    let mut report = RestoreReport {
        database,
        target_database: plan.target_database.clone(),
        dry_run: request.dry_run,
        operation_id: None,
        tables: Vec::new(),
        rows: 0,
        elapsed_ms: 0,
    };
    if !request.dry_run {
        let dest = dest.expect("checked above: not a dry run, so there is a server backup path");
        let root = inspection.backup_root.clone().unwrap_or_default();
        let x = Extraction {
            package: &request.package,
            backup_root: &root,
            dest: &dest,
            path_on_server: request.path_on_server.as_deref(),
        };
        let id = extract_and_restore(exec, &x, &plan, request.timeout, on_step).await?;
        report.operation_id = Some(id);
        report.tables = restore::compare_row_counts(exec, &plan.target_database, &plan.tables).await?;
        report.rows = report.tables.iter().filter_map(|c| c.actual).sum();
    }
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    Ok(report)
}

/// How `test-restore` treats every package.
#[derive(Debug, Clone)]
pub struct TestRestoreOptions {
    /// Throwaway databases are called `<prefix><database>`.
    pub prefix: String,
    /// Keep the restored databases instead of dropping them.
    pub keep: bool,
    pub storage_policy: Option<String>,
    pub server_backup_path: PathBuf,
    /// See [`RestoreRequest::path_on_server`].
    pub path_on_server: Option<String>,
    pub timeout: Duration,
}

/// One package's `test-restore` result. Fields after `ok` are present once their step ran.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TestRestoreResult {
    pub path: String,
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verify_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_database: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problems: Option<Vec<PlanProblem>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restore_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dropped: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tables_checked: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows_checked: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tables: Option<Vec<RowCheck>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Error>,
    pub elapsed_ms: u64,
}

/// What dbatools' `Test-DbaLastBackup` is to SQL Server: verify, restore into a throwaway database,
/// compare every table's row count with the package, drop it. Never fails: the result says how far
/// it got and carries the error.
pub async fn test_restore_package(
    exec: &dyn SqlExecutor,
    package: &Path,
    options: &TestRestoreOptions,
    on_step: &mut dyn FnMut(RestoreStep),
) -> TestRestoreResult {
    let started = Instant::now();
    let mut result = TestRestoreResult { path: package.display().to_string(), ..Default::default() };
    let outcome = test_one(exec, package, options, &mut result, on_step).await;
    result.ok = outcome.is_ok();
    result.error = outcome.err();
    result.elapsed_ms = started.elapsed().as_millis() as u64;
    result
}

async fn test_one(
    exec: &dyn SqlExecutor,
    package: &Path,
    o: &TestRestoreOptions,
    result: &mut TestRestoreResult,
    on_step: &mut dyn FnMut(RestoreStep),
) -> Result<(), Error> {
    let verified = verified_inspection(package);
    result.verified = Some(verified.is_ok());
    let (inspection, verify_ms) = verified?;
    result.verify_ms = Some(verify_ms);
    let database = restore::package_database(&inspection)?;
    on_step(RestoreStep::Verified { database: database.clone(), tables: inspection.tables, rows: inspection.rows });
    let target = format!("{}{}", o.prefix, database);
    result.database = Some(database.clone());
    result.target_database = Some(target.clone());
    let facts = restore::target_facts(exec).await?;
    let plan = plan_restore(&inspection, &database, Some(&target), o.storage_policy.as_deref(), &facts);
    let dest = restore::unique_dir(&o.server_backup_path, &target);
    let on_server = o.path_on_server.as_deref();
    on_step(RestoreStep::Planned { plan: plan.clone(), sql: plan.sql(&server_view(&dest, on_server)) });
    if !plan.is_ok() {
        result.problems = Some(plan.problems.clone());
        return Err(Error::invalid_argument(format!("the restore would fail: {}", plan.problems_message())));
    }
    let restore_started = Instant::now();
    let root = inspection.backup_root.clone().unwrap_or_default();
    let x = Extraction { package, backup_root: &root, dest: &dest, path_on_server: on_server };
    let restored = extract_and_restore(exec, &x, &plan, o.timeout, on_step).await;
    // A failed test leaves nothing behind: the extracted copy is only evidence of a bad package,
    // which the result already names.
    let _ = std::fs::remove_dir_all(&dest);
    restored?;
    result.restore_ms = Some(restore_started.elapsed().as_millis() as u64);
    let checks = restore::compare_row_counts(exec, &target, &plan.tables).await;
    if !o.keep {
        let dropped = exec.query(&format!("DROP DATABASE IF EXISTS {} SYNC", quote_ident(&target))).await;
        result.dropped = Some(dropped.is_ok());
    }
    let checks = checks?;
    result.tables_checked = Some(checks.len() as u64);
    result.rows_checked = Some(checks.iter().filter_map(|c| c.actual).sum());
    let mismatch = row_mismatch(&checks);
    result.tables = Some(checks);
    match mismatch {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
