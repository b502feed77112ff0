//! Packages on disk: verify, inspect, backup window, stage, prune (plain data for `python/mesbackup/_files.py`).

use std::path::PathBuf;

use mesbackup_core::file_modes::FileModes;
use mesbackup_core::Error;
use pyo3::prelude::*;

use crate::errors::arg_err;
use crate::results::to_plain;

/// The file or zip entry a problem names, if any.
fn problem_file(p: &mesbackup_core::package::Problem) -> Option<String> {
    match serde_json::to_value(p) {
        Ok(serde_json::Value::Object(m)) => {
            m.get("file").or_else(|| m.get("entry")).and_then(|v| v.as_str()).map(str::to_owned)
        }
        _ => None,
    }
}

/// One pass over a package on disk (client's `verify_file`, GIL released): plain data for
/// `mesbackup.verify` / `mesbackup.inspect` to wrap.
#[pyfunction]
pub(crate) fn _verify_file(py: Python<'_>, path: PathBuf) -> PyResult<Py<PyAny>> {
    let result = py.detach(|| mesbackup_client::verify_file::verify_file(&path, &mut |_| {}, &mut |_| {}));
    let v = result.map_err(|e| arg_err(py, e))?;
    let problems = v
        .report
        .problems
        .iter()
        .map(|p| {
            let mut detail = serde_json::to_value(p).unwrap_or(serde_json::Value::Null);
            let kind = detail.get("kind").and_then(|k| k.as_str()).unwrap_or("unknown").to_owned();
            if let serde_json::Value::Object(m) = &mut detail {
                m.remove("kind");
            }
            ProblemData { kind, message: p.message(), file: problem_file(p), detail }
        })
        .collect();
    let data = VerifyData {
        path: path.display().to_string(),
        report: &v.report,
        problems,
        inspection: &v.inspection,
        sidecar_matched: v.has_sidecar && v.report.ok(),
        has_sidecar: v.has_sidecar,
        size: v.size,
        error: v.failure(&path).map(|e| e.message),
    };
    to_plain(py, &data)
}

/// What `_verify_file` hands to `mesbackup.verify` / `inspect` (serialised once, as typed here).
#[derive(serde::Serialize)]
struct VerifyData<'a> {
    path: String,
    report: &'a mesbackup_core::package::VerifyReport,
    problems: Vec<ProblemData>,
    inspection: &'a mesbackup_core::package::Inspection,
    sidecar_matched: bool,
    has_sidecar: bool,
    size: u64,
    error: Option<String>,
}

/// One problem: its kind, its message, the file it names, and the rest of core's fields.
#[derive(serde::Serialize)]
struct ProblemData {
    kind: String,
    message: String,
    file: Option<String>,
    detail: serde_json::Value,
}

/// The backup window over the sidecars in `folder` (None when unknown).
#[pyfunction]
pub(crate) fn _backup_window(py: Python<'_>, folder: PathBuf) -> PyResult<Py<PyAny>> {
    let result = py.detach(|| {
        if !folder.is_dir() {
            return Err(Error::io(format!("{} is not a folder", folder.display())));
        }
        let sidecars = mesbackup_client::folder::read_sidecars(&folder)?;
        let window = mesbackup_core::mes::backup_window(sidecars.values());
        let packages = sidecars
            .iter()
            .map(|(file, s)| WindowPackageData {
                file: file.clone(),
                database: s.database.clone(),
                started_at: s.started_at.clone(),
                finished_at: s.finished_at.clone(),
            })
            .collect();
        Ok(window.map(|window| WindowData { window, packages }))
    });
    match result.map_err(|e| arg_err(py, e))? {
        Some(v) => to_plain(py, &v),
        None => Ok(py.None()),
    }
}

/// What `_backup_window` hands to `mesbackup.backup_window`: core's window and each sidecar's times.
#[derive(serde::Serialize)]
struct WindowData {
    window: mesbackup_core::mes::BackupWindow,
    packages: Vec<WindowPackageData>,
}

#[derive(serde::Serialize)]
struct WindowPackageData {
    file: String,
    database: Option<String>,
    started_at: Option<String>,
    finished_at: Option<String>,
}

/// Copies (or moves) a package into an installer's custom packages folder (client's `stage_package`).
#[pyfunction]
#[pyo3(signature = (package, into, system, version, system_specific, r#move, force, file_mode=None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn _stage(
    py: Python<'_>,
    package: PathBuf,
    into: PathBuf,
    system: String,
    version: String,
    system_specific: bool,
    r#move: bool,
    force: bool,
    file_mode: Option<String>,
) -> PyResult<Py<PyAny>> {
    use mesbackup_client::folder::{stage_package, StageMode};
    let mode = if r#move { StageMode::Move } else { StageMode::Copy };
    let modes =
        FileModes::parse_named(file_mode.as_deref(), None, ["file_mode", "dir_mode"]).map_err(|e| arg_err(py, e))?;
    let staged = py
        .detach(|| stage_package(&package, &into, &system, &version, system_specific, mode, force, modes))
        .map_err(|e| arg_err(py, e))?;
    // The client's one serialised shape, as the CLI's `staged` event carries it.
    to_plain(py, &staged)
}

/// Retention by sidecar times: plan (and, with `execute`, delete) all but the `keep` newest per database.
#[pyfunction]
pub(crate) fn _prune(py: Python<'_>, folder: PathBuf, keep: usize, execute: bool) -> PyResult<Py<PyAny>> {
    use mesbackup_client::folder::{execute_prune, plan_prune};
    let result = py.detach(|| -> Result<_, Error> {
        let plan = plan_prune(&folder, keep)?;
        let deleted = if execute { execute_prune(&plan)? } else { Vec::new() };
        Ok((plan, deleted))
    });
    let (plan, deleted) = result.map_err(|e| arg_err(py, e))?;
    let deleted = deleted.iter().map(|p| p.display().to_string()).collect();
    // The plan as the client serialises it (the CLI's `prune` event carries the same), plus what went.
    to_plain(py, &PruneData { keep: plan.keep, entries: &plan.entries, deleted })
}

#[derive(serde::Serialize)]
struct PruneData<'a> {
    keep: usize,
    entries: &'a [mesbackup_client::folder::PruneEntry],
    deleted: Vec<String>,
}
