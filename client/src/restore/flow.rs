//! The whole `restore` and `test-restore` flows over the steps in [`crate::restore`]: verify the
//! package, ask the target for its facts, plan (core), extract, `RESTORE ... ASYNC`, follow it, and
//! compare row counts. Written once here so the CLI and the Python binding only translate: the CLI
//! turns [`RestoreStep`]s into lines or `--json` events, Python into a progress callback.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use mesbackup_core::file_modes::FileModes;
use mesbackup_core::package::Inspection;
use mesbackup_core::restore::{
    json_u64, plan_restore, quote_ident, quote_string, throwaway_database_name, PlanOptions, PlanProblem, RestorePlan,
};
use mesbackup_core::{Error, ErrorKind};
use serde::Serialize;
use serde_json::Value;

use super::extract;
use super::steps::{self as restore, RestoreProgress, RowCheck};
use super::SqlExecutor;
use crate::verify_file;

/// How often `system.backups` is asked about a running restore.
pub const FOLLOW_INTERVAL: Duration = Duration::from_millis(250);

/// What to restore, where, and how.
#[derive(Debug, Clone)]
pub struct RestoreRequest {
    /// The package (.zip) to restore; it is verified first, and a damaged one is refused.
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
    /// Restore into a database that already exists and is empty (`--into-existing`); without it an
    /// existing target is refused. A restore never drops anything.
    pub into_existing: bool,
    /// Modes of the extracted files and folders (private by default; ClickHouse's group may need
    /// 0640/0750).
    pub modes: FileModes,
    /// The whole restore, every ClickHouse statement included, ends within this.
    pub timeout: Duration,
}

/// One step of a restore, reported as it happens.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum RestoreStep {
    /// The package verified; what it holds.
    Verified {
        /// The database the package holds (a package with several databases is refused).
        database: String,
        /// Tables, views and dictionaries in the package.
        tables: u64,
        /// Rows in the package's tables (the sum of its parts' `count.txt`).
        rows: u64,
    },
    /// Core's plan against the target's facts, and the statement that will run (a placeholder path
    /// on a dry run without a server backup path).
    Planned {
        /// Target database, settings, expected row counts, and any problems that stop the restore.
        plan: RestorePlan,
        /// The `RESTORE ... ASYNC` statement that runs (on a dry run: would run).
        sql: String,
    },
    /// The backup root was extracted for the server to read.
    Extracted {
        /// Absolute path of the extracted folder on this machine (removed again after a successful restore).
        dir: String,
        /// Files written into it.
        files: u64,
        /// Bytes written into it.
        bytes: u64,
    },
    /// `RESTORE ... ASYNC` accepted: ClickHouse's operation id.
    Started {
        /// The restore's id in `system.backups`: look it up there if the flow is cut off.
        operation_id: String,
    },
    /// One look at `system.backups` (sent only when status or counts changed).
    Restoring(RestoreProgress),
}

/// What a finished restore did.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RestoreReport {
    /// The database the package holds, under its name in the package.
    pub database: String,
    /// The database restored into: `target_name` when given, else the package's own name.
    pub target_database: String,
    /// Only planned ([`RestoreRequest::dry_run`]): nothing was extracted or run on the server.
    pub dry_run: bool,
    /// Absent on a dry run.
    pub operation_id: Option<String>,
    /// Each table's row count against the package (empty on a dry run).
    pub tables: Vec<RowCheck>,
    /// Rows counted in the restored tables after the restore (0 on a dry run).
    pub rows: u64,
    /// Time the whole flow took, verification included, in milliseconds.
    pub elapsed_ms: u64,
}

impl RestoreReport {
    /// True when every table's row count matches the package (also on a dry run, where nothing was
    /// compared); see [`RestoreReport::mismatch`] for the error to report otherwise.
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

/// Every statement of one flow ends by the flow's deadline: a server that accepts and never answers
/// cannot hold a restore (or a nightly job) forever. The inner executor may bound each statement
/// more tightly (the HTTP executor's request timeout); a synchronous executor that blocks its thread
/// (a Python callable) is only stopped between statements.
struct Deadline<'a> {
    exec: &'a dyn SqlExecutor,
    at: Instant,
    timeout: Duration,
}

impl Deadline<'_> {
    fn left(&self) -> Duration {
        self.at.saturating_duration_since(Instant::now())
    }

    fn expired(&self) -> Error {
        Error::new(
            ErrorKind::Timeout,
            format!(
                "ClickHouse did not finish within the restore's timeout ({}); a statement already sent may still \
                 run on the server (look at system.backups). Allow more time with the timeout (--timeout; Python \
                 timeout=, PowerShell -Timeout).",
                mesbackup_core::mes::human_duration(self.timeout.as_millis().min(u64::MAX as u128) as u64)
            ),
        )
    }
}

#[async_trait]
impl SqlExecutor for Deadline<'_> {
    async fn query(&self, sql: &str) -> Result<Vec<Value>, Error> {
        let left = self.left();
        if left.is_zero() {
            return Err(self.expired());
        }
        match tokio::time::timeout(left, self.exec.query(sql)).await {
            Ok(result) => result,
            Err(_) => Err(self.expired()),
        }
    }
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
    modes: FileModes,
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
    let Extraction { package, backup_root, dest, path_on_server, modes } = *x;
    let (files, bytes) = extract::extract_backup_root(package, backup_root, dest, modes)?;
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
        restore::follow_restore(exec, &id, FOLLOW_INTERVAL, timeout, &mut on_progress)
            .await
            .map_err(|e| with_permission_hint(e, modes))?;
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

/// When the server could not read the extracted files, says why that is likely and what to do:
/// they are private to this user by default.
fn with_permission_hint(e: Error, modes: FileModes) -> Error {
    let m = e.message.to_ascii_lowercase();
    let denied = m.contains("permission denied") || m.contains("access denied") || m.contains("errno: 13");
    if !denied || modes.file & 0o040 != 0 {
        return e;
    }
    Error::new(
        e.kind,
        format!(
            "{}. The extracted files are private to this user ({} files, {} folders): if ClickHouse runs as another \
             user, let its group read them with --file-mode 0640 --dir-mode 0750, and give the server backup path \
             to that group (chgrp clickhouse DIR; chmod g+s DIR).",
            e.message,
            modes.file_octal(),
            modes.dir_octal()
        ),
    )
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
    let exec = &Deadline { exec, at: started + request.timeout, timeout: request.timeout };
    if !request.dry_run && request.server_backup_path.is_none() {
        return Err(Error::invalid_argument(
            "a restore needs a server backup path (a folder the server may read, under its backups.allowed_path), or a dry run",
        ));
    }
    let (inspection, _) = verified_inspection(&request.package)?;
    let database = restore::package_database(&inspection)?;
    on_step(RestoreStep::Verified { database: database.clone(), tables: inspection.tables, rows: inspection.rows });

    let facts = restore::target_facts(exec).await?;
    let options = PlanOptions {
        target_name: request.target_name.as_deref(),
        storage_policy: request.storage_policy.as_deref(),
        into_existing: request.into_existing,
    };
    let plan = plan_restore(&inspection, &database, options, &facts);
    let dest = request.server_backup_path.as_ref().map(|b| extract::unique_dir(b, &plan.target_database));
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
            modes: request.modes,
        };
        let id = extract_and_restore(exec, &x, &plan, exec.left(), on_step).await?;
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
    /// Throwaway databases are called `<prefix><database>_<random>`, fresh for every package and
    /// run; the prefix may not be empty.
    pub prefix: String,
    /// Keep the restored databases instead of dropping them.
    pub keep: bool,
    /// See [`RestoreRequest::storage_policy`].
    pub storage_policy: Option<String>,
    /// A folder the server can read (under its `backups.allowed_path`); each package is extracted
    /// into a new folder under it for its RESTORE, and that folder is removed afterwards.
    pub server_backup_path: PathBuf,
    /// See [`RestoreRequest::path_on_server`].
    pub path_on_server: Option<String>,
    /// See [`RestoreRequest::modes`].
    pub modes: FileModes,
    /// Each package's test ends within this.
    pub timeout: Duration,
}

/// One package's `test-restore` result. Fields after `ok` are present once their step ran.
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TestRestoreResult {
    /// The package's path, as given.
    pub path: String,
    /// Verified, restored, every row count matched and (unless `keep`) the throwaway database was
    /// dropped; otherwise `error` says what failed.
    pub ok: bool,
    /// Whether the package passed verification (false: nothing was restored).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified: Option<bool>,
    /// Time the verification took, in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verify_ms: Option<u64>,
    /// The database the package holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    /// The throwaway database restored into (`<prefix><database>_<random>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_database: Option<String>,
    /// Why the restore plan was refused (nothing was run on the server then).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problems: Option<Vec<PlanProblem>>,
    /// Time extraction and RESTORE took until ClickHouse reported RESTORED, in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restore_ms: Option<u64>,
    /// Whether the throwaway database was dropped; absent with `keep` or when the test stopped before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dropped: Option<bool>,
    /// Tables whose row count was compared with the package.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tables_checked: Option<u64>,
    /// Rows counted in the restored tables.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows_checked: Option<u64>,
    /// Each table's row count against the package.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tables: Option<Vec<RowCheck>>,
    /// What failed, when `ok` is false (a row-count mismatch is reported rather than a failed drop).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Error>,
    /// Time this package's whole test took, in milliseconds.
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

/// The UUID ClickHouse gave `database`, if it exists.
async fn database_uuid(exec: &dyn SqlExecutor, database: &str) -> Result<Option<String>, Error> {
    let sql = format!("SELECT toString(uuid) AS uuid FROM system.databases WHERE name = {}", quote_string(database));
    let rows = exec.query(&sql).await?;
    Ok(rows
        .first()
        .and_then(|r| r.get("uuid"))
        .and_then(|v| v.as_str().map(str::to_owned).or_else(|| json_u64(v).map(|n| n.to_string()))))
}

/// A short random tag that makes a throwaway name this run's own.
fn run_suffix() -> String {
    format!("{:08x}", crate::clock::random_seed() as u32)
}

/// Drops the throwaway database `target` only while it is still the one this run restored (same
/// UUID): something else under that name, made after ours was dropped or renamed, is not ours.
async fn drop_own_database(exec: &dyn SqlExecutor, target: &str, created_uuid: &str) -> Result<(), Error> {
    match database_uuid(exec, target).await? {
        Some(now) if now == created_uuid => {
            exec.query(&format!("DROP DATABASE {} SYNC", quote_ident(target))).await?;
            Ok(())
        }
        Some(other) => Err(Error::new(
            ErrorKind::Integrity,
            format!(
                "the throwaway database '{target}' is no longer the one this run restored (UUID {other}, restored as \
                 {created_uuid}): not dropped"
            ),
        )),
        None => Ok(()),
    }
}

async fn test_one(
    exec: &dyn SqlExecutor,
    package: &Path,
    o: &TestRestoreOptions,
    result: &mut TestRestoreResult,
    on_step: &mut dyn FnMut(RestoreStep),
) -> Result<(), Error> {
    let started = Instant::now();
    let exec = &Deadline { exec, at: started + o.timeout, timeout: o.timeout };
    let verified = verified_inspection(package);
    result.verified = Some(verified.is_ok());
    let (inspection, verify_ms) = verified?;
    result.verify_ms = Some(verify_ms);
    let database = restore::package_database(&inspection)?;
    on_step(RestoreStep::Verified { database: database.clone(), tables: inspection.tables, rows: inspection.rows });
    let in_package: Vec<&str> = inspection.databases.iter().map(|d| d.name.as_str()).collect();
    let target = throwaway_database_name(&o.prefix, &database, &run_suffix(), &in_package)?;
    result.database = Some(database.clone());
    result.target_database = Some(target.clone());
    let facts = restore::target_facts(exec).await?;
    if facts.database(&target).is_some() {
        return Err(Error::invalid_argument(format!(
            "the throwaway database '{target}' already exists on the target: it is not this run's, so test-restore \
             neither restores into it nor drops it. Run again (a new name is drawn), or choose another --prefix."
        )));
    }
    let options =
        PlanOptions { target_name: Some(&target), storage_policy: o.storage_policy.as_deref(), into_existing: false };
    let plan = plan_restore(&inspection, &database, options, &facts);
    let dest = extract::unique_dir(&o.server_backup_path, &target);
    let on_server = o.path_on_server.as_deref();
    on_step(RestoreStep::Planned { plan: plan.clone(), sql: plan.sql(&server_view(&dest, on_server)) });
    if !plan.is_ok() {
        result.problems = Some(plan.problems.clone());
        return Err(Error::invalid_argument(format!("the restore would fail: {}", plan.problems_message())));
    }
    let restore_started = Instant::now();
    let root = inspection.backup_root.clone().unwrap_or_default();
    let x = Extraction { package, backup_root: &root, dest: &dest, path_on_server: on_server, modes: o.modes };
    let restored = extract_and_restore(exec, &x, &plan, exec.left(), on_step).await;
    // A failed test leaves nothing behind: the extracted copy is only evidence of a bad package,
    // which the result already names.
    let _ = std::fs::remove_dir_all(&dest);
    if let Err(e) = restored {
        // RESTORE ran with create_database = 'create', so a database under this fresh name was made
        // by it; but it failed, and nothing proves which statement made what: it is left, named.
        return Err(Error::new(
            e.kind,
            format!(
                "{}; if the throwaway database '{target}' exists now, it may hold a partial restore: drop it by hand",
                e.message
            ),
        ));
    }
    result.restore_ms = Some(restore_started.elapsed().as_millis() as u64);
    let created_uuid = database_uuid(exec, &target).await;
    let checks = restore::compare_row_counts(exec, &target, &plan.tables).await;
    let mut drop_error = None;
    if !o.keep {
        let dropped = match &created_uuid {
            Ok(Some(uuid)) => drop_own_database(exec, &target, uuid).await,
            Ok(None) => Err(Error::new(
                ErrorKind::UnexpectedResponse,
                format!("the restored database '{target}' is not listed in system.databases: nothing dropped"),
            )),
            Err(e) => Err(e.clone()),
        };
        result.dropped = Some(dropped.is_ok());
        drop_error = dropped.err();
    }
    let checks = checks?;
    result.tables_checked = Some(checks.len() as u64);
    result.rows_checked = Some(checks.iter().filter_map(|c| c.actual).sum());
    let mismatch = row_mismatch(&checks);
    result.tables = Some(checks);
    match mismatch.or(drop_error) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
