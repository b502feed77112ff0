//! `names`, `check-folder`, `stage` and `prune`: thin wrappers over core naming and client folder ops.

use std::path::{Path, PathBuf};

use indicatif::HumanBytes;
use mesbackup_client::folder::{self, StageMode};
use mesbackup_core::file_modes::FileModes;
use mesbackup_core::naming::{database_name, installer_package_name, validate_system, DatabaseKind, FolderReport};
use mesbackup_core::retention::RetentionPolicy;
use mesbackup_core::Error;

use crate::events::{CliEvent, PackageNames};
use crate::output::Ui;
use crate::{exit_code_of, EXIT_INCOMPLETE};

pub fn names(ui: &Ui, system: &str, version: &str) -> Result<u8, Error> {
    validate_system(system)?;
    let mut rows = Vec::new();
    for kind in DatabaseKind::ALL {
        let generic = installer_package_name(kind, version, None)?;
        let specific = installer_package_name(kind, version, Some(system))?;
        rows.push((kind, database_name(system, kind), generic, specific));
    }
    if ui.is_json() {
        let packages = rows
            .into_iter()
            .map(|(kind, database, generic, system_specific)| PackageNames { kind, database, generic, system_specific })
            .collect();
        ui.emit(&CliEvent::Names { system: system.to_owned(), version: version.to_owned(), packages });
        return Ok(0);
    }
    let w = rows.iter().map(|r| r.2.len()).max().unwrap_or(0);
    ui.result(&format!(
        "{:<8} {:<8} {:<w$}  SYSTEM-SPECIFIC (preferred by the installer)",
        "KIND", "DATABASE", "GENERIC"
    ));
    for (k, db, g, s) in &rows {
        ui.result(&format!("{:<8} {:<8} {g:<w$}  {s}", k.to_string(), db));
    }
    Ok(0)
}

fn print_report(ui: &Ui, dir: &Path, report: &FolderReport) {
    ui.result(&format!(
        "Custom packages folder {} for system {} version {}:",
        dir.display(),
        report.system,
        report.version
    ));
    for k in &report.kinds {
        match &k.chosen {
            Some(file) => {
                let which = if k.system_specific { "system-specific" } else { "generic" };
                ui.result(&format!("  {:<7} restores from {file} ({which})", k.kind.to_string()));
                if let Some(shadowed) = &k.also_present_but_shadowed {
                    ui.result(&format!(
                        "          {shadowed} is present too but ignored (the system-specific name wins)"
                    ));
                }
            }
            None => ui.result(&format!(
                "  {:<7} MISSING: the installer would create this database empty. Expected {} or {}",
                k.kind.to_string(),
                k.expected_names[0],
                k.expected_names[1]
            )),
        }
    }
    for n in &report.near_misses {
        let fix = n.expected.as_deref().map(|e| format!(" -> rename to {e}")).unwrap_or_default();
        ui.result(&format!("  ignored  {} [{}]: {}{fix}", n.file, n.reason.code(), n.message));
    }
    for i in &report.ignored {
        ui.result(&format!("  skipped  {}: {}", i.file, i.message));
    }
    if report.complete() && report.near_misses.is_empty() {
        ui.result("All four databases would be restored.");
    } else if report.complete() {
        ui.result("All four databases would be restored, but some files look like packages and would be ignored.");
    } else {
        ui.result(&format!(
            "{} of 4 databases would NOT be restored: place correctly named packages (see `mesbackup names`) or use `mesbackup stage`.",
            report.missing.len()
        ));
    }
}

pub fn folder_report_event(ui: &Ui, dir: &Path, report: &FolderReport) {
    ui.emit(&CliEvent::FolderReport {
        folder: dir.display().to_string(),
        complete: report.complete(),
        report: report.clone(),
    });
}

pub fn check_folder(ui: &Ui, dir: &Path, system: &str, version: &str) -> Result<u8, Error> {
    let report = folder::check_folder(dir, system, version)?;
    if ui.is_json() {
        folder_report_event(ui, dir, &report);
    } else {
        print_report(ui, dir, &report);
    }
    Ok(if report.complete() && report.near_misses.is_empty() { 0 } else { EXIT_INCOMPLETE })
}

#[allow(clippy::too_many_arguments)]
pub fn stage(
    ui: &Ui,
    packages: &[PathBuf],
    into: &Path,
    system: &str,
    version: &str,
    system_specific: bool,
    move_: bool,
    force: bool,
    modes: FileModes,
) -> Result<u8, Error> {
    let mode = if move_ { StageMode::Move } else { StageMode::Copy };
    let mut code = 0;
    for p in packages {
        match folder::stage_package(p, into, system, version, system_specific, mode, force, modes) {
            Ok(s) => {
                if ui.is_json() {
                    ui.emit(&CliEvent::Staged { package: s });
                } else {
                    let verb = if move_ { "moved" } else { "copied" };
                    let replaced = if s.replaced { " (replaced the existing file)" } else { "" };
                    ui.result(&format!(
                        "{verb} {} -> {} ({}){replaced}",
                        s.source.display(),
                        s.target.display(),
                        HumanBytes(s.size)
                    ));
                }
            }
            Err(e) => {
                ui.error(None, &Error::new(e.kind, format!("{}: {}", p.display(), e.message)));
                if code == 0 {
                    code = exit_code_of(e.kind);
                }
            }
        }
    }
    if code == 0 && !ui.is_json() {
        if let Ok(report) = folder::check_folder(into, system, version) {
            if !report.complete() {
                ui.info(&format!(
                    "note: the folder still lacks {} package(s); `mesbackup check-folder {} --system {system} --version {version}` shows which",
                    report.missing.len(),
                    into.display()
                ));
            }
        }
    }
    Ok(code)
}

pub fn prune(ui: &Ui, dir: &Path, policy: RetentionPolicy, yes: bool) -> Result<u8, Error> {
    let keep_last_only = policy == RetentionPolicy::last(policy.keep_last);
    let plan = if keep_last_only {
        folder::plan_prune(dir, policy.keep_last as usize)?
    } else {
        policy.check("prune: --keep, --keep-daily, --keep-weekly, --keep-monthly")?;
        folder::plan_retention_in(dir, &policy, &|_| false)?
    };
    let deleted = if yes { Some(folder::execute_prune(&plan)?) } else { None };
    if ui.is_json() {
        ui.emit(&CliEvent::Prune {
            folder: dir.display().to_string(),
            plan,
            applied: yes,
            deleted: deleted.map(|d| d.iter().map(|p| p.display().to_string()).collect()),
        });
        return Ok(0);
    }
    let doomed: Vec<_> = plan.to_delete().collect();
    if doomed.is_empty() {
        ui.result(&format!(
            "Nothing to prune: retention ({}) keeps every backup in {}.",
            policy.describe(),
            dir.display()
        ));
        return Ok(0);
    }
    let total: u64 = doomed.iter().map(|e| e.size).sum();
    for e in &doomed {
        let verb = if yes { "deleted" } else { "would delete" };
        ui.result(&format!(
            "{verb} {} ({}, {}, finished {})",
            e.package.display(),
            e.database.as_deref().unwrap_or("unknown database"),
            HumanBytes(e.size),
            e.finished_at.as_deref().unwrap_or("?")
        ));
    }
    if yes {
        ui.info(&format!("Freed {} ({} backup(s)).", HumanBytes(total), doomed.len()));
    } else {
        ui.info(&format!(
            "Dry run: {} backup(s), {}. Run again with --yes to delete them.",
            doomed.len(),
            HumanBytes(total)
        ));
    }
    Ok(0)
}
