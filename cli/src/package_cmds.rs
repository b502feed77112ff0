//! `verify`, `inspect` and `window`: thin wrappers over core's one-pass verifier/inspector and the
//! client's sidecar functions. No verification logic lives here: this module reads files, feeds
//! bytes, prints reports and maps them to exit codes.

use std::collections::BTreeMap;
use std::path::Path;

use indicatif::HumanBytes;
use mesbackup_client::{folder, verify_file};
use mesbackup_core::mes::Sidecar;
use mesbackup_core::package::Inspection;
use mesbackup_core::package::VerifyReport;
use mesbackup_core::Error;

use crate::events::{CliEvent, WindowPackage};
use crate::exit_code_of;
use crate::output::Ui;

/// Files at least this large get a progress bar on a terminal.
const BAR_FROM: u64 = 16 << 20;

/// One pass over `path` (client's `verify_file`) with a progress bar for large files.
fn scan(ui: &Ui, path: &Path) -> Result<(VerifyReport, Inspection, bool), Error> {
    let shown = path.display().to_string();
    let key = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| shown.clone());
    let bar = std::cell::RefCell::new(None);
    let result = verify_file::verify_file(
        path,
        &mut |size| {
            if size >= BAR_FROM {
                *bar.borrow_mut() = ui.file_bar(&key, size);
            }
        },
        &mut |done| {
            if let Some(b) = bar.borrow().as_ref() {
                b.set_position(done);
            }
        },
    );
    if bar.borrow().is_some() {
        ui.drop_bar(&key);
    }
    let v = result?;
    Ok((v.report, v.inspection, v.has_sidecar))
}

/// The canonical error of a failed verification, its message prefixed with the package path.
fn failure_of(path: &Path, report: &VerifyReport) -> Option<Error> {
    report.to_error().map(|e| Error::new(e.kind, format!("{}: {}", path.display(), e.message)))
}

fn emit_failed(ui: &Ui, path: &Path, e: &Error) {
    ui.emit(&CliEvent::Failed {
        error: e.clone(),
        database: None,
        path: Some(path.display().to_string()),
        environment: None,
    });
}

fn print_problems(ui: &Ui, report: &VerifyReport) {
    for p in &report.problems {
        ui.result(&format!("        - {}", p.message()));
    }
    for n in &report.notes {
        ui.result(&format!("        note: {n}"));
    }
}

fn ok_summary(report: &VerifyReport, has_sidecar: bool) -> String {
    let sha = match (&report.sha256, has_sidecar) {
        (_, true) => "SHA-256 matches the sidecar".to_owned(),
        (Some(h), false) => format!("SHA-256 {h} (no sidecar to compare with)"),
        (None, false) => "no sidecar, SHA-256 not compared".to_owned(),
    };
    format!(
        "{}, {} files checked against the manifest, {} part files in {} parts against checksums.txt; {sha}",
        HumanBytes(report.bytes),
        report.files_checked,
        report.part_files_checked,
        report.parts_checked
    )
}

pub fn verify(ui: &Ui, packages: &[std::path::PathBuf]) -> Result<u8, Error> {
    let mut code = 0;
    for path in packages {
        let shown = path.display().to_string();
        match scan(ui, path) {
            Ok((report, _, has_sidecar)) => {
                let failure = failure_of(path, &report);
                if ui.is_json() {
                    ui.emit(&CliEvent::Verified { path: shown, report });
                    if let Some(e) = &failure {
                        emit_failed(ui, path, e);
                    }
                } else if failure.is_none() {
                    ui.result(&format!("OK      {shown}  ({})", ok_summary(&report, has_sidecar)));
                    for n in &report.notes {
                        ui.result(&format!("        note: {n}"));
                    }
                } else {
                    ui.result(&format!("FAILED  {shown}  ({} problem(s))", report.problems.len()));
                    print_problems(ui, &report);
                }
                if let Some(e) = failure {
                    if code == 0 {
                        code = exit_code_of(e.kind);
                    }
                }
            }
            Err(e) => {
                if ui.is_json() {
                    emit_failed(ui, path, &e);
                } else {
                    ui.result(&format!("FAILED  {shown}"));
                    ui.error(None, &e);
                }
                if code == 0 {
                    code = exit_code_of(e.kind);
                }
            }
        }
    }
    Ok(code)
}

pub fn inspect(ui: &Ui, path: &Path) -> Result<u8, Error> {
    let shown = path.display().to_string();
    let (report, inspection, has_sidecar) = scan(ui, path)?;
    let failure = failure_of(path, &report);
    if ui.is_json() {
        ui.emit(&CliEvent::Inspected { path: shown, verified: failure.is_none(), inspection });
        if let Some(e) = &failure {
            emit_failed(ui, path, e);
        }
        return Ok(failure.map_or(0, |e| exit_code_of(e.kind)));
    }
    let i = &inspection;
    ui.result(&format!(
        "Package {shown}: backup root {:?}{}{}",
        i.backup_root.as_deref().unwrap_or("?"),
        i.timestamp.as_deref().map(|t| format!(", made {t}")).unwrap_or_default(),
        i.uuid.as_deref().map(|u| format!(", backup {u}")).unwrap_or_default(),
    ));
    for db in &i.databases {
        ui.result("");
        ui.result(&format!(
            "Database {} ({}): {} table(s), {} part(s), {} row(s), {}",
            db.name,
            db.engine.as_deref().unwrap_or("engine unknown"),
            db.tables.len(),
            db.parts,
            db.rows,
            HumanBytes(db.bytes)
        ));
        let wt = db.tables.iter().map(|t| t.name.len()).max().unwrap_or(0).max(5);
        let we = db.tables.iter().map(|t| t.engine_name.as_deref().unwrap_or("-").len()).max().unwrap_or(0).max(6);
        ui.result(&format!(
            "  {:<wt$}  {:<we$}  {:>6}  {:>12}  {:>10}  STORAGE",
            "TABLE", "ENGINE", "PARTS", "ROWS", "BYTES"
        ));
        for t in &db.tables {
            let storage = match (&t.required_policy, &t.disk) {
                (_, Some(d)) => format!("disk {d}"),
                (Some(p), None) => format!("policy {p}"),
                (None, None) => "-".to_owned(),
            };
            ui.result(&format!(
                "  {:<wt$}  {:<we$}  {:>6}  {:>12}  {:>10}  {storage}",
                t.name,
                t.engine_name.as_deref().unwrap_or("-"),
                t.parts,
                t.rows,
                HumanBytes(t.bytes).to_string()
            ));
        }
    }
    ui.result("");
    ui.result(&format!(
        "Total: {} table(s), {} part(s), {} row(s), {}",
        i.tables,
        i.parts,
        i.rows,
        HumanBytes(i.bytes)
    ));
    let list = |v: &[String]| if v.is_empty() { "(none)".to_owned() } else { v.join(", ") };
    ui.result(&format!("Storage policies the target needs at restore: {}", list(&i.storage_policies)));
    ui.result(&format!("Disks the target needs at restore: {}", list(&i.disks)));
    for n in &i.notes {
        ui.result(&format!("note: {n}"));
    }
    match &failure {
        None => ui.result(&format!("Verification: OK ({})", ok_summary(&report, has_sidecar))),
        Some(_) => {
            ui.result(&format!(
                "Verification: FAILED ({} problem(s)); do not restore from this package",
                report.problems.len()
            ));
            print_problems(ui, &report);
        }
    }
    Ok(failure.map_or(0, |e| exit_code_of(e.kind)))
}

pub fn window(ui: &Ui, dir: &Path) -> Result<u8, Error> {
    if !dir.is_dir() {
        return Err(Error::io(format!("{} is not a folder", dir.display())));
    }
    let sidecars = folder::read_sidecars(dir)?;
    if sidecars.is_empty() {
        return Err(Error::invalid_argument(format!(
            "no mesbackup sidecar (*.mesbackup.json) in {}: the window is only known for packages saved by mesbackup",
            dir.display()
        )));
    }
    let full = mesbackup_core::mes::backup_window(sidecars.values());
    let window = full.as_ref().map(|w| (w.started_at.clone(), w.finished_at.clone()));
    if ui.is_json() {
        ui.emit(&window_event(dir, &sidecars));
        return Ok(0);
    }
    let wf = sidecars.keys().map(String::len).max().unwrap_or(0).max(7);
    ui.result(&format!("{:<wf$}  {:<10}  {:<24}  FINISHED", "PACKAGE", "DATABASE", "STARTED"));
    for (file, s) in &sidecars {
        ui.result(&format!(
            "{file:<wf$}  {:<10}  {:<24}  {}",
            s.database.as_deref().unwrap_or("?"),
            s.started_at.as_deref().unwrap_or("?"),
            s.finished_at.as_deref().unwrap_or("?")
        ));
    }
    ui.result("");
    match &window {
        Some((s, f)) => {
            ui.result(&format!("Backup window: {s} to {f}"));
            if let Some(w) = full.as_ref().filter(|w| w.sql_backup_finished_at.is_some()) {
                ui.result(&format!(
                    "SQL Server backups finished at {}: re-run data processing from {} to {f}.",
                    w.sql_backup_finished_at.as_deref().unwrap_or("?"),
                    w.reprocess_from
                ));
            }
            ui.result("  After a restore, re-run MES data processing over this window for messages that were in flight.");
        }
        None => ui.result(
            "Backup window unknown: no sidecar records both a start and a finish time (downloads resumed from a bare GUID do not know their start).",
        ),
    }
    Ok(0)
}

/// The `backup_window` event of a folder: the window over its sidecars, and each sidecar read.
pub fn window_event(dir: &Path, sidecars: &BTreeMap<String, Sidecar>) -> CliEvent {
    let window = mesbackup_core::mes::backup_window(sidecars.values());
    let packages = sidecars
        .iter()
        .map(|(file, s)| WindowPackage {
            file: file.clone(),
            database: s.database.clone(),
            started_at: s.started_at.clone(),
            finished_at: s.finished_at.clone(),
        })
        .collect();
    let (started_at, finished_at, sql_backup_finished_at, reprocess_from) = match window {
        Some(w) => (Some(w.started_at), Some(w.finished_at), w.sql_backup_finished_at, Some(w.reprocess_from)),
        None => (None, None, None, None),
    };
    CliEvent::BackupWindow {
        folder: dir.display().to_string(),
        started_at,
        finished_at,
        sql_backup_finished_at,
        reprocess_from,
        packages,
    }
}
