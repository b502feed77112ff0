//! `mesbackup run`: every environment of a mesbackup.toml. The client's `run::load` and
//! `LoadedRun::execute` do all the work (the same calls as Python's); this module only shows
//! progress, the plan and the summary.

use std::path::{Path, PathBuf};

use indicatif::HumanBytes;
use mesbackup_client::run::{self, DatabaseOutcome, EnvironmentResult, RunEvent, RunOutcome, RunReport};
use mesbackup_client::CancellationToken;
use mesbackup_core::Error;

use crate::events::CliEvent;
use crate::output::{human_ms, Ui};
use crate::stop_signals::cancel_on_stop_signals;

pub struct RunOpts {
    pub config: PathBuf,
    pub only: Vec<String>,
    pub dry_run: bool,
    pub metrics_file: Option<PathBuf>,
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

pub async fn run(ui: &Ui, opts: RunOpts) -> Result<u8, Error> {
    // Reading, checking, credentials, CA files and --only: all before anything is sent.
    let loaded = run::load(&opts.config, &opts.only, &env_var)?;
    ui.add_secrets(loaded.secrets());
    if opts.dry_run {
        let plans = loaded.plan()?;
        if ui.is_json() {
            ui.emit(&CliEvent::RunPlan { environments: plans });
        } else {
            print_plan(ui, &plans, loaded.config.concurrency, loaded.ping_url.is_some());
        }
        return Ok(0);
    }

    let on_event = |e: RunEvent<'_>| match e {
        RunEvent::Job { environment, database, event } if ui.is_json() => {
            ui.emit(&CliEvent::job(event, Some(database)).in_environment(environment))
        }
        RunEvent::Job { environment, database, event } => {
            ui.job_event(&format!("{environment}/{database}"), Some(database), event)
        }
        RunEvent::Step { environment: "", message } | RunEvent::Warning { environment: "", message } => {
            ui.warning(None, &message)
        }
        RunEvent::Step { environment, message } => ui.info(&format!("{environment}: {message}")),
        RunEvent::Warning { environment, message } => ui.warning(None, &format!("{environment}: {message}")),
        RunEvent::FoldersLocked => {
            for p in &loaded.prepared {
                for (_, db, _) in p.config.databases().unwrap_or_default() {
                    ui.job_line(&format!("{}/{db}", p.config.name), "waiting…");
                }
            }
        }
    };
    let cancel = CancellationToken::new();
    cancel_on_stop_signals(&cancel, ui.is_json());
    let report = match loaded.execute(opts.metrics_file.as_deref(), &cancel, &on_event).await? {
        RunOutcome::Locked(message) => {
            ui.error(None, &Error::io(message));
            return Ok(run::EXIT_LOCKED);
        }
        RunOutcome::Finished(report) => report,
    };
    ui.clear_bars();
    if ui.is_json() {
        ui.emit(&CliEvent::RunSummary { report: Box::new(report.clone()) });
    } else {
        print_summary(ui, &report);
    }
    Ok(report.exit_code)
}

fn print_summary(ui: &Ui, report: &RunReport) {
    let w = report.environments.iter().map(|e| e.name.chars().count()).max().unwrap_or(0).max(11);
    ui.result(&format!(
        "{:<w$}  {:<6}  {:<9}  {:>10}  {:>8}  PROBLEM",
        "ENVIRONMENT", "RESULT", "SAVED", "BYTES", "TIME"
    ));
    for e in &report.environments {
        let saved = e.databases.iter().filter(|d| d.outcome == DatabaseOutcome::Saved).count();
        let bytes: u64 = e.databases.iter().filter_map(|d| d.size).sum();
        let result = if e.result == EnvironmentResult::Ok { "ok" } else { "FAILED" };
        let problem = match (&e.failed_step, &e.message) {
            (Some(step), Some(m)) => {
                format!("{}: {m}", serde_json::to_value(step).unwrap_or_default().as_str().unwrap_or(""))
            }
            _ => String::new(),
        };
        ui.result(&format!(
            "{:<w$}  {result:<6}  {:<9}  {:>10}  {:>8}  {problem}",
            e.name,
            format!("{saved}/{}", e.databases.len()),
            HumanBytes(bytes).to_string(),
            human_ms(e.duration_ms),
        ));
    }
    for e in &report.environments {
        if let Some(w) = &e.backup_window {
            ui.info(&format!(
                "{}: after a restore, re-run MES data processing from {} to {}{}",
                e.name,
                w.reprocess_from,
                w.finished_at,
                e.sql_backup_finished_at
                    .as_deref()
                    .map(|t| format!(" (SQL Server backups finished at {t})"))
                    .unwrap_or_default()
            ));
        }
        let tested: Vec<_> = e.databases.iter().filter_map(|d| d.test_restore.as_ref().map(|t| (d, t))).collect();
        if !tested.is_empty() {
            let ok = tested.iter().filter(|(_, t)| t.ok).count();
            let rows: u64 = tested.iter().filter_map(|(_, t)| t.rows_checked).sum();
            let failed: Vec<&str> = tested.iter().filter(|(_, t)| !t.ok).map(|(d, _)| d.database.as_str()).collect();
            ui.info(&format!(
                "{}: test restore {ok}/{} package(s) OK ({rows} row(s) matched){}",
                e.name,
                tested.len(),
                if failed.is_empty() { String::new() } else { format!("; FAILED: {}", failed.join(", ")) }
            ));
        }
        if let Some(r) = &e.retention {
            if !r.deleted.is_empty() {
                ui.info(&format!(
                    "{}: retention ({}) deleted {} file(s)",
                    e.name,
                    r.policy.describe(),
                    r.deleted.len()
                ));
            }
        }
    }
    for f in &report.storage {
        let packages: usize = f.databases.iter().map(|d| d.packages).sum();
        let bytes: u64 = f.databases.iter().map(|d| d.bytes).sum();
        let free = match (f.free_bytes, f.total_bytes) {
            (Some(free), Some(total)) => format!("{} free of {}", HumanBytes(free), HumanBytes(total)),
            _ => "free space unknown".to_owned(),
        };
        let role = match f.role {
            run::storage::FolderRole::Out => "out",
            run::storage::FolderRole::StageInto => "stage_into",
        };
        ui.info(&format!(
            "{}: {role} {}: {packages} package(s), {}; {free}{}",
            f.environment,
            f.folder,
            HumanBytes(bytes),
            if f.low { " — LOW (below warn_free_below)" } else { "" }
        ));
    }
    let failed: Vec<&str> =
        report.environments.iter().filter(|e| e.result != EnvironmentResult::Ok).map(|e| e.name.as_str()).collect();
    if failed.is_empty() {
        ui.info(&format!("All {} environment(s) backed up.", report.environments.len()));
    } else {
        ui.info(&format!("FAILED: {} (exit code {}).", failed.join(", "), report.exit_code));
    }
}

fn print_plan(ui: &Ui, plans: &[run::EnvironmentPlan], concurrency: usize, ping: bool) {
    ui.result(&format!("Dry run: nothing is sent and nothing deleted. {concurrency} environment(s) at once."));
    if ping {
        ui.result("The [ping] monitor would be told of the start and of the end (success or failure).");
    }
    for p in plans {
        ui.result("");
        ui.result(&format!("{} ({}, system {}) -> {}", p.name, p.url, p.system, p.out));
        if let Some(w) = &p.wait_until {
            ui.result(&format!(
                "  wait until {} exits 0 (every {}, at most {}{})",
                w.command.join(" "),
                human_ms(w.interval_ms),
                human_ms(w.deadline_ms),
                w.timeout_ms.map(|t| format!(", each attempt at most {}", human_ms(t))).unwrap_or_default()
            ));
        }
        for argv in &p.hooks.before {
            ui.result(&format!("  before hook: {}", argv.join(" ")));
        }
        for d in &p.databases {
            let name = d.file_name.as_deref().unwrap_or("(the server's file name)");
            ui.result(&format!("  back up {:<10} as {name}", d.database));
        }
        if p.verify {
            ui.result("  verify each package");
        }
        if let Some(into) = &p.stage_into {
            ui.result(&format!("  stage into {into}"));
        }
        match &p.retention {
            Some(plan) => {
                let doomed: Vec<_> = plan.to_delete().collect();
                ui.result(&format!(
                    "  retention ({}): {} package(s) now, would delete {}",
                    plan.policy.describe(),
                    plan.entries.len(),
                    doomed.len()
                ));
                for e in doomed {
                    ui.result(&format!(
                        "    would delete {} ({}, finished {})",
                        display(&e.package),
                        e.database.as_deref().unwrap_or("unknown database"),
                        e.finished_at.as_deref().unwrap_or("?")
                    ));
                }
            }
            None => ui.result("  no retention: nothing is deleted"),
        }
        if let Some(t) = &p.test_restore {
            let kinds: Vec<String> = t.databases.iter().map(ToString::to_string).collect();
            ui.result(&format!(
                "  test restore the new {} package(s) on {} (extracted under {}, throwaway databases {}*, dropped after)",
                kinds.join("/"),
                t.clickhouse_url,
                t.backup_path,
                t.prefix
            ));
        }
        for argv in &p.hooks.after {
            ui.result(&format!("  after hook: {}", argv.join(" ")));
        }
        for argv in &p.hooks.on_error {
            ui.result(&format!("  on_error hook: {}", argv.join(" ")));
        }
    }
}

fn display(p: &Path) -> String {
    p.display().to_string()
}
