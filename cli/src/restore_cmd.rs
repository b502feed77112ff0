//! `restore` and `test-restore`: the flows are `mesbackup_client::restore::flow`; this module only
//! turns their steps and results into human lines or `--json` events (`restore_plan`,
//! `restore_progress`, `restored`, `test_restore`).

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use mesbackup_client::restore::{
    restore_package, test_restore_package, RestoreReport, RestoreRequest, RestoreStep, TestRestoreOptions,
};
use mesbackup_client::restore::{ClickHouseCredentials, ClickHouseOptions, HttpExecutor};
use mesbackup_core::Error;

use crate::config::{parse_duration_or_seconds, warn_deprecated, FileModeArgs, SecondsOrDuration};
use crate::events::CliEvent;
use crate::output::Ui;

/// How to reach ClickHouse and how to leave the extracted files: shared by restore and test-restore.
#[derive(Args)]
pub struct ClickHouseArgs {
    /// ClickHouse's HTTP interface: its https:// address, or http:// on this machine
    /// (e.g. http://127.0.0.1:8123). Credentials: CLICKHOUSE_USER / CLICKHOUSE_PASSWORD.
    #[arg(long, value_name = "URL")]
    pub clickhouse: String,
    /// Allow plain http:// to a ClickHouse on another machine: its password and the data then
    /// cross the network in clear text.
    #[arg(long)]
    pub allow_insecure_http: bool,
    /// The same folder as the server sees it, when the path differs there (ClickHouse in a container,
    /// or on another host sharing the folder). Default: the same path as --server-backup-path.
    #[arg(long, value_name = "PATH")]
    pub path_on_server: Option<String>,
    /// Modes of the extracted files and folders (default 0600 / 0700: this user only). ClickHouse
    /// running as another user needs its group to read them: --file-mode 0640 --dir-mode 0750.
    #[command(flatten)]
    pub modes: FileModeArgs,
    /// The whole restore of one package, every ClickHouse statement included, ends within this long
    /// (e.g. 30m, 4h). A bare number of seconds is deprecated (accepted for one release).
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = parse_duration_or_seconds)]
    pub timeout: SecondsOrDuration,
}

impl ClickHouseArgs {
    /// Warns on stderr about deprecated spellings among these options.
    pub fn warn_deprecated(&self) {
        if self.timeout.bare_seconds {
            warn_deprecated(
                "--timeout with a bare number of seconds",
                &format!("give a unit, e.g. --timeout {}s", self.timeout.ms / 1000),
            );
        }
    }

    /// The ClickHouse HTTP executor, with CLICKHOUSE_USER / CLICKHOUSE_PASSWORD from the environment
    /// (never from argv); the password is registered with the output so no line can show it.
    fn executor(&self, ui: &Ui) -> Result<HttpExecutor, Error> {
        let credentials = ClickHouseCredentials::given_or_from_env(None, None);
        ui.add_secrets(credentials.secrets());
        let options =
            ClickHouseOptions { allow_insecure_http: self.allow_insecure_http, ..ClickHouseOptions::default() };
        HttpExecutor::new(&self.clickhouse, credentials, &options)
    }
}

pub struct RestoreOpts {
    pub package: PathBuf,
    pub clickhouse: ClickHouseArgs,
    pub target_name: Option<String>,
    pub storage_policy: Option<String>,
    pub into_existing: bool,
    pub dry_run: bool,
    pub server_backup_path: Option<PathBuf>,
}

fn snake(value: impl serde::Serialize) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// Shows one step: `--json` events, or lines for people.
fn show_step(ui: &Ui, path: &str, clickhouse: &str, dry_run: Option<bool>, step: RestoreStep) {
    if ui.is_json() {
        match step {
            RestoreStep::Verified { .. } => {}
            RestoreStep::Planned { plan, sql } => {
                if let Some(dry_run) = dry_run {
                    ui.emit(&CliEvent::RestorePlan { path: path.to_owned(), dry_run, plan, sql });
                }
            }
            step => ui.emit(&CliEvent::RestoreProgress { path: path.to_owned(), step }),
        }
        return;
    }
    match step {
        RestoreStep::Verified { database, tables, rows } => {
            ui.info(&format!("Verified {path}: database {database}, {tables} table(s), {rows} row(s)"))
        }
        RestoreStep::Planned { plan, sql } => {
            // test-restore (dry_run None) shows problems in its result line only.
            if dry_run.is_none() {
                return;
            }
            ui.result(&format!(
                "Restore plan: {} from {path} as {} on {clickhouse}",
                plan.source_database, plan.target_database
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
                    ui.result(&format!("  - [{}] {}", snake(p.kind), p.message));
                }
            }
            ui.result(&format!("  SQL: {sql}"));
        }
        RestoreStep::Extracted { dir, files, bytes } => {
            ui.info(&format!("Extracted {files} file(s), {bytes} bytes to {dir}"))
        }
        RestoreStep::Started { operation_id } => ui.info(&format!("RESTORE started: operation {operation_id}")),
        RestoreStep::Restoring(p) => ui.info(&format!(
            "  {} {}/{} files, {}/{} bytes",
            p.status, p.files_read, p.num_files, p.bytes_read, p.total_size
        )),
    }
}

fn show_report(ui: &Ui, path: &str, r: &RestoreReport) {
    if ui.is_json() {
        ui.emit(&CliEvent::Restored { path: path.to_owned(), ok: r.ok(), report: r.clone() });
        return;
    }
    for c in &r.tables {
        ui.result(&format!(
            "  {:<8} {}.{}: {} row(s), package {}",
            if c.ok { "OK" } else { "MISMATCH" },
            r.target_database,
            c.table,
            c.actual.map(|n| n.to_string()).unwrap_or_else(|| "?".into()),
            c.expected
        ));
    }
    let bad = r.tables.iter().filter(|c| !c.ok).count();
    ui.result(&format!(
        "Restored {} as {}: {} table(s), {} row(s){}",
        r.database,
        r.target_database,
        r.tables.len(),
        r.rows,
        if bad == 0 { ", row counts match the package".to_owned() } else { format!(", {bad} table(s) differ") }
    ));
}

pub async fn restore(ui: &Ui, o: RestoreOpts) -> Result<u8, Error> {
    if !o.dry_run && o.server_backup_path.is_none() {
        return Err(Error::invalid_argument(
            "restore needs --server-backup-path DIR (a folder the server may read, under its backups.allowed_path), or --dry-run",
        ));
    }
    let shown = o.package.display().to_string();
    let exec = o.clickhouse.executor(ui)?;
    let request = RestoreRequest {
        package: o.package,
        target_name: o.target_name,
        storage_policy: o.storage_policy,
        dry_run: o.dry_run,
        server_backup_path: o.server_backup_path,
        path_on_server: o.clickhouse.path_on_server.clone(),
        into_existing: o.into_existing,
        modes: o.clickhouse.modes.modes()?,
        timeout: Duration::from_millis(o.clickhouse.timeout.ms),
    };
    let mut on_step = |step| show_step(ui, &shown, exec.url(), Some(o.dry_run), step);
    let report = restore_package(&exec, &request, &mut on_step).await?;
    if report.dry_run {
        return Ok(0);
    }
    show_report(ui, &shown, &report);
    match report.mismatch() {
        Some(e) => Err(e),
        None => Ok(0),
    }
}

pub struct TestRestoreOpts {
    pub packages: Vec<PathBuf>,
    pub clickhouse: ClickHouseArgs,
    pub prefix: String,
    pub keep: bool,
    pub storage_policy: Option<String>,
    pub server_backup_path: PathBuf,
}

pub async fn test_restore(ui: &Ui, o: TestRestoreOpts) -> Result<u8, Error> {
    let exec = o.clickhouse.executor(ui)?;
    let options = TestRestoreOptions {
        prefix: o.prefix,
        keep: o.keep,
        storage_policy: o.storage_policy,
        server_backup_path: o.server_backup_path,
        path_on_server: o.clickhouse.path_on_server.clone(),
        modes: o.clickhouse.modes.modes()?,
        timeout: Duration::from_millis(o.clickhouse.timeout.ms),
    };
    let mut code = 0u8;
    for path in &o.packages {
        let shown = path.display().to_string();
        let mut on_step = |step| show_step(ui, &shown, exec.url(), None, step);
        let r = test_restore_package(&exec, path, &options, &mut on_step).await;
        if let (Some(e), 0) = (&r.error, code) {
            code = crate::exit_code_of(e.kind);
        }
        if ui.is_json() {
            ui.emit(&CliEvent::TestRestore { result: r });
            continue;
        }
        match &r.error {
            None => ui.result(&format!(
                "OK      {shown}  {} -> {}: {} table(s), {} row(s) match the package{} ({} ms)",
                r.database.as_deref().unwrap_or("?"),
                r.target_database.as_deref().unwrap_or("?"),
                r.tables_checked.unwrap_or(0),
                r.rows_checked.unwrap_or(0),
                if options.keep { ", kept" } else { ", dropped" },
                r.elapsed_ms
            )),
            Some(e) => ui.result(&format!("FAILED  {shown}  [{}] {}", e.kind.code(), e.message)),
        }
    }
    Ok(code)
}
