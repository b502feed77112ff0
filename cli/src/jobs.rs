//! `backup`, `start` and `download`: run core jobs through the client driver and report them.

use std::path::{Path, PathBuf};

use futures::future::join_all;
use indicatif::HumanBytes;
use mesbackup_client::clock::TokioClock;
use mesbackup_client::file_sink::FileSinkFactory;
use mesbackup_client::folder::prepare_output_folder;
use mesbackup_client::system::backup_system;
use mesbackup_client::{CancellationToken, MesClient};
use mesbackup_core::file_modes::FileModes;
use mesbackup_core::mes::format_rfc3339_millis;
use mesbackup_core::mes::{JobEvent, JobSpec, Mode, Outcome, SavedPackage};
use mesbackup_core::naming::{installer_package_name, parse_database_name, system_databases, validate_database_name};
use mesbackup_core::Error;

use crate::config::{connect, ConnOpts};
use crate::events::{CliEvent, JobSummary, OutcomeKind, SavedWindow};
use crate::output::Ui;
use crate::stop_signals::cancel_on_stop_signals;
use crate::{exit_code_of, EXIT_PENDING};

pub struct Targets {
    pub databases: Vec<String>,
    pub system: Option<String>,
}

pub struct Save {
    pub out: PathBuf,
    pub file_name: Option<String>,
    pub overwrite: bool,
    pub sql_backup_finished: Option<String>,
    /// Permission bits of the files written and the folders created.
    pub modes: FileModes,
}

pub struct Naming {
    pub installer_names: bool,
    pub version: Option<String>,
    pub system_specific: bool,
}

pub struct JobResult {
    pub key: String,
    pub database: Option<String>,
    pub outcome: Outcome,
}

/// The databases to back up, in order, validated.
fn resolve(targets: &Targets) -> Result<Vec<String>, Error> {
    match &targets.system {
        Some(system) => Ok(system_databases(system)?.into_iter().map(|(_, db)| db).collect()),
        None => {
            let mut out: Vec<String> = Vec::new();
            for db in &targets.databases {
                validate_database_name(db)?;
                if out.contains(db) {
                    return Err(Error::invalid_argument(format!("{db} is listed twice")));
                }
                out.push(db.clone());
            }
            Ok(out)
        }
    }
}

/// The installer name of each database (core's naming), when asked for.
fn installer_names(databases: &[String], system: Option<&str>, naming: &Naming) -> Result<Vec<Option<String>>, Error> {
    if !naming.installer_names {
        return Ok(vec![None; databases.len()]);
    }
    let version = naming.version.as_deref().unwrap_or_default();
    databases
        .iter()
        .map(|db| {
            let (db_system, kind) = parse_database_name(db, system)?;
            let prefix = naming.system_specific.then_some(db_system.as_str());
            installer_package_name(kind, version, prefix).map(Some)
        })
        .collect()
}

/// Creates the output folder (with `modes.dir` when missing) and removes this tool's stale temporary
/// files from it, saying that the one-shot downloads they belonged to were lost.
pub fn prepare_out(ui: &Ui, out: &Path, modes: FileModes) -> Result<(), Error> {
    for p in prepare_output_folder(out, modes)? {
        let message = p.message();
        if ui.is_json() {
            ui.emit(&CliEvent::StalePartialRemoved { lost_download: !p.is_sidecar, message, partial: p });
        } else {
            ui.info(&format!("warning: {message}"));
        }
    }
    Ok(())
}

async fn run_specs(
    ui: &Ui,
    client: &MesClient,
    sinks: &FileSinkFactory,
    cancel: &CancellationToken,
    jobs: Vec<(String, Option<String>, mesbackup_core::mes::JobSpec)>,
) -> Vec<JobResult> {
    let clock = TokioClock;
    for (key, _, _) in &jobs {
        ui.job_line(key, "starting…");
    }
    let futures = jobs.into_iter().map(|(key, database, spec)| {
        let clock = &clock;
        async move {
            let forward = |e: &JobEvent| ui.job_event(&key, database.as_deref(), e);
            let outcome = client.run(spec, sinks, clock, cancel, &forward).await;
            JobResult { key, database, outcome }
        }
    });
    join_all(futures).await
}

pub async fn backup(ui: &Ui, conn: &ConnOpts, targets: Targets, save: &Save, naming: Naming) -> Result<u8, Error> {
    let databases = resolve(&targets)?;
    let names = installer_names(&databases, targets.system.as_deref(), &naming)?;
    if save.file_name.is_some() && (databases.len() != 1 || naming.installer_names) {
        return Err(Error::invalid_argument(
            "--file-name names a single package: use it with one database and without --version",
        ));
    }
    let (client, _) = connect(conn, ui)?;
    prepare_out(ui, &save.out, save.modes)?;
    let sinks = FileSinkFactory::new(&save.out).with_modes(save.modes);
    let cancel = CancellationToken::new();
    cancel_on_stop_signals(&cancel, ui.is_json());

    let results = match &targets.system {
        Some(system) => {
            for db in &databases {
                ui.job_line(db, "starting…");
            }
            let customise = |db: &str, spec: &mut JobSpec| {
                spec.file_name = databases.iter().position(|d| d == db).and_then(|i| names[i].clone());
                spec.overwrite = save.overwrite;
                spec.sql_backup_finished_at = save.sql_backup_finished.clone();
            };
            let on_event = |db: &str, e: &JobEvent| ui.job_event(db, Some(db), e);
            backup_system(&client, system, &sinks, &TokioClock, &cancel, customise, &on_event)
                .await?
                .into_iter()
                .map(|(db, outcome)| JobResult { key: db.clone(), database: Some(db), outcome })
                .collect()
        }
        None => {
            let specs = databases
                .iter()
                .zip(&names)
                .map(|(db, name)| {
                    let mut spec = client.spec(Mode::Backup, Some(db), None);
                    spec.file_name = name.clone().or_else(|| save.file_name.clone());
                    spec.overwrite = save.overwrite;
                    spec.sql_backup_finished_at = save.sql_backup_finished.clone();
                    (db.clone(), Some(db.clone()), spec)
                })
                .collect();
            run_specs(ui, &client, &sinks, &cancel, specs).await
        }
    };
    Ok(report(ui, &results, true))
}

pub async fn start(ui: &Ui, conn: &ConnOpts, targets: Targets) -> Result<u8, Error> {
    let databases = resolve(&targets)?;
    let (client, _) = connect(conn, ui)?;
    let cancel = CancellationToken::new();
    cancel_on_stop_signals(&cancel, ui.is_json());
    // Start-only jobs never open a sink; the factory is only there to satisfy the driver.
    let sinks = FileSinkFactory::new(".");
    let specs = databases
        .iter()
        .map(|db| (db.clone(), Some(db.clone()), client.spec(Mode::StartOnly, Some(db), None)))
        .collect();
    let results = run_specs(ui, &client, &sinks, &cancel, specs).await;
    Ok(report(ui, &results, false))
}

pub async fn download(
    ui: &Ui,
    conn: &ConnOpts,
    guids: Vec<String>,
    databases: Vec<String>,
    save: &Save,
    no_wait: bool,
) -> Result<u8, Error> {
    if save.file_name.is_some() && guids.len() != 1 {
        return Err(Error::invalid_argument("--file-name names a single package: use it with one GUID"));
    }
    if !databases.is_empty() && databases.len() != guids.len() {
        return Err(Error::invalid_argument(format!(
            "{} --database for {} GUID(s): give one per GUID, in the same order",
            databases.len(),
            guids.len()
        )));
    }
    let (client, _) = connect(conn, ui)?;
    prepare_out(ui, &save.out, save.modes)?;
    let sinks = FileSinkFactory::new(&save.out).with_modes(save.modes);
    let cancel = CancellationToken::new();
    cancel_on_stop_signals(&cancel, ui.is_json());
    let mode = if no_wait { Mode::DownloadIfReady } else { Mode::Download };
    let specs = guids
        .iter()
        .enumerate()
        .map(|(i, guid)| {
            let mut spec = client.spec(mode, databases.get(i).map(String::as_str), Some(guid.trim()));
            // The database only labels the sidecar: a download never POSTs a new backup.
            spec.restart_budget = 0;
            spec.file_name = save.file_name.clone();
            spec.overwrite = save.overwrite;
            spec.sql_backup_finished_at = save.sql_backup_finished.clone();
            (guid.trim().to_owned(), None, spec)
        })
        .collect();
    let results = run_specs(ui, &client, &sinks, &cancel, specs).await;
    Ok(report(ui, &results, true))
}

/// Earliest start and latest finish over the saved packages, RFC 3339.
pub fn window_of<'a>(saved: impl Iterator<Item = &'a SavedPackage>) -> Option<(String, String)> {
    let mut start: Option<u64> = None;
    let mut finish: Option<u64> = None;
    for p in saved {
        if let Some(s) = p.started_at_ms {
            start = Some(start.map_or(s, |v| v.min(s)));
        }
        finish = Some(finish.map_or(p.finished_at_ms, |v| v.max(p.finished_at_ms)));
    }
    Some((format_rfc3339_millis(start?), format_rfc3339_millis(finish?)))
}

/// Prints results (human table or `summary` event) and returns the exit code: the first failure's
/// kind in argument order, else 75 if any backup is still pending, else 0.
pub fn report(ui: &Ui, results: &[JobResult], show_window: bool) -> u8 {
    let mut code = 0u8;
    let mut pending = false;
    for r in results {
        if let Outcome::Failed(e) = &r.outcome {
            if code == 0 {
                code = exit_code_of(e.kind);
            }
        }
        pending |= matches!(r.outcome, Outcome::Pending { .. });
    }
    if code == 0 && pending {
        code = EXIT_PENDING;
    }
    let saved: Vec<&SavedPackage> = results
        .iter()
        .filter_map(|r| match &r.outcome {
            Outcome::Saved(p) => Some(p),
            _ => None,
        })
        .collect();
    let window = if show_window { window_of(saved.iter().copied()) } else { None };

    if ui.is_json() {
        ui.emit(&CliEvent::Summary {
            ok: code == 0,
            exit_code: code,
            results: results.iter().map(summary_of).collect(),
            backup_window: window.map(|(started_at, finished_at)| SavedWindow { started_at, finished_at }),
        });
        return code;
    }

    let started: Vec<(&str, &str)> = results
        .iter()
        .filter_map(|r| match &r.outcome {
            Outcome::Started { guid, database } => Some((database.as_str(), guid.as_str())),
            _ => None,
        })
        .collect();
    for (db, guid) in &started {
        if results.len() == 1 {
            ui.result(guid);
        } else {
            ui.result(&format!("{db}\t{guid}"));
        }
        ui.info(&format!("{db}: backup {guid} started; download it with `mesbackup download {guid}`"));
    }
    if !saved.is_empty() {
        let w = saved.iter().map(|p| p.location.chars().count()).max().unwrap_or(4).max(4);
        ui.result(&format!("{:<w$}  {:>10}  SHA-256", "FILE", "SIZE"));
        for p in &saved {
            ui.result(&format!("{:<w$}  {:>10}  {}", p.location, HumanBytes(p.size).to_string(), p.sha256));
        }
        for p in &saved {
            for note in &p.notes {
                ui.info(&format!("note: {}: {note}", p.file_name));
            }
        }
    }
    if let Some((s, f)) = &window {
        ui.info(&format!(
            "Backup window: {s} to {f}. After a restore, re-run MES data processing over this window to reconcile \
             messages that were in flight."
        ));
    }
    for r in results {
        match &r.outcome {
            Outcome::Pending { guid } => ui.info(&format!(
                "{}: backup {guid} is still being prepared; nothing was downloaded. Try again later (exit code {EXIT_PENDING}).",
                r.key
            )),
            Outcome::Failed(e) => {
                let who = r.database.as_deref().or(Some(r.key.as_str())).filter(|k| Some(*k) != e.guid.as_deref());
                ui.error(who, e);
            }
            _ => {}
        }
    }
    code
}

fn summary_of(r: &JobResult) -> JobSummary {
    let only = |outcome, database: Option<&String>, guid: Option<&String>| JobSummary {
        database: database.cloned(),
        guid: guid.cloned(),
        outcome,
        file: None,
        size: None,
        sha256: None,
        error: None,
    };
    match &r.outcome {
        Outcome::Saved(p) => JobSummary {
            file: Some(p.location.clone()),
            size: Some(p.size),
            sha256: Some(p.sha256.clone()),
            ..only(OutcomeKind::Saved, p.database.as_ref().or(r.database.as_ref()), Some(&p.guid))
        },
        Outcome::Started { guid, database } => only(OutcomeKind::Started, Some(database), Some(guid)),
        Outcome::Pending { guid } => only(OutcomeKind::Pending, r.database.as_ref(), Some(guid)),
        Outcome::Failed(e) => {
            JobSummary { error: Some(e.clone()), ..only(OutcomeKind::Failed, r.database.as_ref(), e.guid.as_ref()) }
        }
    }
}
