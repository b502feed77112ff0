//! `restore`: verify the package (core's verifier), ask the target ClickHouse for its storage
//! policies, disks and databases, print core's restore plan; unless --dry-run, extract the backup
//! root to a folder the server can read, run `RESTORE ... ASYNC`, follow `system.backups`, and
//! compare per-table row counts with the package. The steps live in `mesbackup_client::restore`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use mesbackup_client::restore::{self, HttpExecutor, SqlExecutor};
use mesbackup_client::verify_file;
use mesbackup_core::restore_plan::plan_restore;
use mesbackup_core::{Error, ErrorKind};
use serde_json::json;

use crate::output::Ui;

pub struct RestoreOpts {
    pub package: PathBuf,
    pub clickhouse: String,
    pub target_name: Option<String>,
    pub storage_policy: Option<String>,
    pub dry_run: bool,
    pub server_backup_path: Option<PathBuf>,
    pub timeout_secs: u64,
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

pub async fn restore(ui: &Ui, o: RestoreOpts) -> Result<u8, Error> {
    let shown = o.package.display().to_string();
    if !o.dry_run && o.server_backup_path.is_none() {
        return Err(Error::invalid_argument(
            "restore needs --server-backup-path DIR (a folder the server may read, under its backups.allowed_path), or --dry-run",
        ));
    }
    // 1. Verify first.
    let v = verify_file::verify_file(&o.package, &mut |_| {}, &mut |_| {})?;
    if let Some(e) = v.failure(&o.package) {
        return Err(Error::new(
            e.kind,
            format!("{}; not restoring from a damaged package", e.message),
        ));
    }
    let inspection = v.inspection;
    let database = restore::package_database(&inspection)?;
    ui.info(&format!(
        "Verified {shown}: database {database}, {} table(s), {} row(s)",
        inspection.tables, inspection.rows
    ));

    // 2. The target's facts and the plan.
    let password = env_nonempty("CLICKHOUSE_PASSWORD");
    if let Some(p) = &password {
        ui.add_secrets(vec![p.clone()]);
    }
    let exec = HttpExecutor::new(&o.clickhouse, env_nonempty("CLICKHOUSE_USER"), password)?;
    let exec: &dyn SqlExecutor = &exec;
    let facts = restore::target_facts(exec).await?;
    let plan = plan_restore(
        &inspection,
        &database,
        o.target_name.as_deref(),
        o.storage_policy.as_deref(),
        &facts,
    );
    let dest = o
        .server_backup_path
        .as_ref()
        .map(|b| restore::unique_dir(b, &plan.target_database));
    let server_path = dest
        .as_ref()
        .map(|d| {
            std::path::absolute(d)
                .unwrap_or_else(|_| d.clone())
                .display()
                .to_string()
        })
        .unwrap_or_else(|| "<server-backup-path>/<unique>".to_owned());
    let sql = plan.sql(&server_path);
    if ui.is_json() {
        ui.emit(json!({"event": "restore_plan", "path": shown, "dry_run": o.dry_run, "plan": plan, "sql": sql}));
    } else {
        ui.result(&format!(
            "Restore plan: {} from {shown} as {} on {}",
            plan.source_database, plan.target_database, o.clickhouse
        ));
        for (k, val) in &plan.settings {
            ui.result(&format!("  setting {k} = {val}"));
        }
        for n in &plan.notes {
            ui.result(&format!("  note: {n}"));
        }
        if plan.is_ok() {
            ui.result("  no problems found");
        } else {
            ui.result(&format!("  {} problem(s):", plan.problems.len()));
            for p in &plan.problems {
                ui.result(&format!(
                    "  - [{}] {}",
                    serde_json::to_value(p.kind)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                    p.message
                ));
            }
        }
        ui.result(&format!("  SQL: {sql}"));
    }
    if !plan.is_ok() {
        return Err(Error::invalid_argument(format!(
            "the restore would fail: {}{}",
            plan.problems_message(),
            if o.dry_run { "" } else { " (nothing was run)" }
        )));
    }
    if o.dry_run {
        return Ok(0);
    }

    // 3. Extract, restore, follow.
    let dest = dest.expect("checked above");
    let root = inspection.backup_root.clone().unwrap_or_default();
    let started = std::time::Instant::now();
    let (files, bytes) = restore::extract_backup_root(&o.package, &root, &dest)?;
    ui.info(&format!(
        "Extracted {files} file(s), {bytes} bytes to {}",
        dest.display()
    ));
    let id = restore::start_restore(exec, &sql).await?;
    ui.info(&format!("RESTORE started: operation {id}"));
    let mut last = String::new();
    let mut on_progress = |p: &restore::RestoreProgress| {
        let line = format!("{} {}/{} files", p.status, p.files_read, p.num_files);
        if line != last {
            ui.info(&format!("  {line}"));
            last = line;
        }
    };
    let outcome = restore::follow_restore(
        exec,
        &id,
        Duration::from_millis(250),
        Duration::from_secs(o.timeout_secs),
        &mut on_progress,
    )
    .await;
    if let Err(e) = outcome {
        return Err(Error::new(
            e.kind,
            format!(
                "{}; the extracted backup is left in {}",
                e.message,
                dest.display()
            ),
        ));
    }
    let checks = restore::compare_row_counts(exec, &plan.target_database, &plan.tables).await?;
    remove_quietly(&dest);
    let bad: Vec<_> = checks.iter().filter(|c| !c.ok).collect();
    let rows: u64 = checks.iter().filter_map(|c| c.actual).sum();
    if ui.is_json() {
        let tables: Vec<_> = checks
            .iter()
            .map(|c| json!({"table": c.table, "expected_rows": c.expected, "rows": c.actual, "ok": c.ok}))
            .collect();
        ui.emit(json!({
            "event": "restored",
            "path": shown,
            "database": plan.source_database,
            "target_database": plan.target_database,
            "operation_id": id,
            "tables": tables,
            "rows": rows,
            "ok": bad.is_empty(),
            "elapsed_ms": started.elapsed().as_millis() as u64,
        }));
    } else {
        for c in &checks {
            ui.result(&format!(
                "  {:<8} {}.{}: {} row(s), package {}",
                if c.ok { "OK" } else { "MISMATCH" },
                plan.target_database,
                c.table,
                c.actual
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| "?".into()),
                c.expected
            ));
        }
        ui.result(&format!(
            "Restored {} as {}: {} table(s), {rows} row(s){}",
            plan.source_database,
            plan.target_database,
            checks.len(),
            if bad.is_empty() {
                ", row counts match the package".to_owned()
            } else {
                format!(", {} table(s) differ", bad.len())
            }
        ));
    }
    if !bad.is_empty() {
        let names: Vec<&str> = bad.iter().map(|c| c.table.as_str()).collect();
        return Err(Error::new(
            ErrorKind::Integrity,
            format!(
                "row counts after the restore differ from the package for: {}",
                names.join(", ")
            ),
        ));
    }
    Ok(0)
}

fn remove_quietly(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
}

pub struct TestRestoreOpts {
    pub packages: Vec<PathBuf>,
    pub clickhouse: String,
    pub prefix: String,
    pub keep: bool,
    pub storage_policy: Option<String>,
    pub server_backup_path: PathBuf,
    pub timeout_secs: u64,
}

/// One package of `test-restore`: verify, restore into `<prefix><db>`, compare row counts, drop.
async fn test_one(
    exec: &dyn SqlExecutor,
    path: &Path,
    o: &TestRestoreOpts,
    result: &mut serde_json::Map<String, serde_json::Value>,
) -> Result<(), Error> {
    let t0 = std::time::Instant::now();
    let v = verify_file::verify_file(path, &mut |_| {}, &mut |_| {})?;
    result.insert("verify_ms".into(), json!(t0.elapsed().as_millis() as u64));
    let failure = v.failure(path);
    result.insert("verified".into(), json!(failure.is_none()));
    if let Some(e) = failure {
        return Err(e);
    }
    let database = restore::package_database(&v.inspection)?;
    let target = format!("{}{}", o.prefix, database);
    result.insert("database".into(), json!(database));
    result.insert("target_database".into(), json!(target));
    let facts = restore::target_facts(exec).await?;
    let plan = plan_restore(
        &v.inspection,
        &database,
        Some(&target),
        o.storage_policy.as_deref(),
        &facts,
    );
    if !plan.is_ok() {
        result.insert("problems".into(), json!(plan.problems));
        return Err(Error::invalid_argument(format!(
            "the restore would fail: {}",
            plan.problems_message()
        )));
    }
    let dest = restore::unique_dir(&o.server_backup_path, &target);
    let abs = std::path::absolute(&dest).unwrap_or_else(|_| dest.clone());
    let t1 = std::time::Instant::now();
    restore::extract_backup_root(
        path,
        v.inspection.backup_root.as_deref().unwrap_or(""),
        &dest,
    )?;
    let outcome = async {
        let id = restore::start_restore(exec, &plan.sql(&abs.display().to_string())).await?;
        restore::follow_restore(
            exec,
            &id,
            Duration::from_millis(250),
            Duration::from_secs(o.timeout_secs),
            &mut |_| {},
        )
        .await
    }
    .await;
    remove_quietly(&dest);
    outcome?;
    result.insert("restore_ms".into(), json!(t1.elapsed().as_millis() as u64));
    let checks = restore::compare_row_counts(exec, &target, &plan.tables).await;
    if !o.keep {
        let dropped = exec
            .query(&format!(
                "DROP DATABASE IF EXISTS {} SYNC",
                mesbackup_core::restore_plan::quote_ident(&target)
            ))
            .await;
        result.insert("dropped".into(), json!(dropped.is_ok()));
    }
    let checks = checks?;
    let bad: Vec<&str> = checks
        .iter()
        .filter(|c| !c.ok)
        .map(|c| c.table.as_str())
        .collect();
    result.insert("tables_checked".into(), json!(checks.len()));
    result.insert(
        "rows_checked".into(),
        json!(checks.iter().filter_map(|c| c.actual).sum::<u64>()),
    );
    result.insert(
        "tables".into(),
        json!(checks.iter().map(|c| json!({"table": c.table, "expected_rows": c.expected, "rows": c.actual, "ok": c.ok})).collect::<Vec<_>>()),
    );
    if !bad.is_empty() {
        return Err(Error::new(
            ErrorKind::Integrity,
            format!("row counts differ from the package for: {}", bad.join(", ")),
        ));
    }
    Ok(())
}

pub async fn test_restore(ui: &Ui, o: TestRestoreOpts) -> Result<u8, Error> {
    let password = env_nonempty("CLICKHOUSE_PASSWORD");
    if let Some(p) = &password {
        ui.add_secrets(vec![p.clone()]);
    }
    let exec = HttpExecutor::new(&o.clickhouse, env_nonempty("CLICKHOUSE_USER"), password)?;
    let mut code = 0u8;
    for path in &o.packages {
        let t0 = std::time::Instant::now();
        let mut result = serde_json::Map::new();
        let outcome = test_one(&exec, path, &o, &mut result).await;
        result.insert("elapsed_ms".into(), json!(t0.elapsed().as_millis() as u64));
        let shown = path.display().to_string();
        let ok = outcome.is_ok();
        if let Err(e) = &outcome {
            result.insert("error".into(), json!(e));
            if code == 0 {
                code = crate::exit_code_of(e.kind);
            }
        }
        if ui.is_json() {
            let mut ev = serde_json::Map::new();
            ev.insert("event".into(), json!("test_restore"));
            ev.insert("path".into(), json!(shown));
            ev.insert("ok".into(), json!(ok));
            ev.extend(result);
            ui.emit(serde_json::Value::Object(ev));
        } else {
            let get = |k: &str| result.get(k).cloned().unwrap_or(json!(null));
            match &outcome {
                Ok(()) => ui.result(&format!(
                    "OK      {shown}  {} -> {}: {} table(s), {} row(s) match the package{} ({} ms)",
                    get("database").as_str().unwrap_or("?"),
                    get("target_database").as_str().unwrap_or("?"),
                    get("tables_checked"),
                    get("rows_checked"),
                    if o.keep { ", kept" } else { ", dropped" },
                    get("elapsed_ms")
                )),
                Err(e) => ui.result(&format!(
                    "FAILED  {shown}  [{}] {}",
                    e.kind.code(),
                    e.message
                )),
            }
        }
    }
    Ok(code)
}
