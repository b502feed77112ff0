//! `mesbackup run`: every environment of a mesbackup.toml (the client's `run` does the work; this
//! module reads the file, shows progress and the summary, writes metrics and picks the exit code).

use std::path::{Path, PathBuf};

use indicatif::HumanBytes;
use mesbackup_client::run::{self, metrics, DatabaseOutcome, EnvironmentResult, Locks, RunEvent, RunReport};
use mesbackup_client::CancellationToken;
use mesbackup_core::run_config::parse_run_config;
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
    let text = std::fs::read_to_string(&opts.config).map_err(|e| {
        Error::invalid_argument(format!(
            "cannot read the config file {}: {e}; pass --config FILE (docs/config.md describes it)",
            opts.config.display()
        ))
    })?;
    let config = parse_run_config(&text, &opts.config.display().to_string())?;
    // Credentials, CA files and --only are all checked here, before anything is sent.
    let prepared = run::prepare(&config, &opts.only, &env_var)?;
    for p in &prepared {
        ui.add_secrets(p.secrets().to_vec());
    }
    if opts.dry_run {
        let plans = run::plan(&prepared)?;
        if ui.is_json() {
            ui.emit(&CliEvent::RunPlan { environments: plans });
        } else {
            print_plan(ui, &plans, config.concurrency);
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
        RunEvent::Step { environment: "", message } => ui.warning(None, &message),
        RunEvent::Step { environment, message } => ui.info(&format!("{environment}: {message}")),
    };
    let _locks = match run::lock_output_folders(&prepared, config.on_locked, &on_event).await? {
        Locks::Held(locks) => locks,
        Locks::Busy(message) => {
            ui.error(None, &Error::io(message));
            return Ok(run::EXIT_LOCKED);
        }
    };
    for p in &prepared {
        for (_, db, _) in p.config.databases()? {
            ui.job_line(&format!("{}/{db}", p.config.name), "waiting…");
        }
    }
    let cancel = CancellationToken::new();
    cancel_on_stop_signals(&cancel, ui.is_json());
    let report = run::run(&prepared, config.concurrency, &cancel, &on_event).await;
    ui.clear_bars();

    if let Some(path) = &opts.metrics_file {
        let text = metrics::render_metrics(&report, &metrics::folder_state(&report));
        if let Err(e) = metrics::write_metrics_file(path, &text) {
            ui.warning(None, &e.message);
        }
    }
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
    let failed: Vec<&str> =
        report.environments.iter().filter(|e| e.result != EnvironmentResult::Ok).map(|e| e.name.as_str()).collect();
    if failed.is_empty() {
        ui.info(&format!("All {} environment(s) backed up.", report.environments.len()));
    } else {
        ui.info(&format!("FAILED: {} (exit code {}).", failed.join(", "), report.exit_code));
    }
}

fn print_plan(ui: &Ui, plans: &[run::EnvironmentPlan], concurrency: usize) {
    ui.result(&format!("Dry run: nothing is sent and nothing deleted. {concurrency} environment(s) at once."));
    for p in plans {
        ui.result("");
        ui.result(&format!("{} ({}, system {}) -> {}", p.name, p.url, p.system, p.out));
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
