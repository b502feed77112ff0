//! Results: typed Rust values serialised once and handed to the frozen dataclasses of
//! `python/mesbackup/_results.py`; and Python reprs for the few native classes left.

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

/// Python's repr of a str (single quotes, controls escaped), for `__repr__`.
pub(crate) fn pyrepr(s: &str) -> String {
    let mut out = String::from("'");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            c if c.is_control() => out.push_str(&c.escape_default().to_string()),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

pub(crate) fn pyrepr_opt(s: Option<&str>) -> String {
    s.map(pyrepr).unwrap_or_else(|| "None".to_owned())
}

/// A value as plain Python data (dicts, lists, str, int, bool, None): serialised once by serde.
pub(crate) fn to_plain<T: serde::Serialize>(py: Python<'_>, value: &T) -> PyResult<Py<PyAny>> {
    let text = serde_json::to_string(value).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    Ok(py.import("json")?.call_method1("loads", (text,))?.unbind())
}

/// A result object: one of the frozen dataclasses of `mesbackup._results` (every result type of
/// the package is one), built from the typed Rust value serialised once.
pub(crate) fn result<T: serde::Serialize>(py: Python<'_>, class: &str, value: &T) -> PyResult<Py<PyAny>> {
    let data = to_plain(py, value)?;
    Ok(py.import("mesbackup._results")?.getattr(class)?.call_method1("_from_data", (data,))?.unbind())
}

/// What a started job is: its GUID and database (`mesbackup.Job`).
#[derive(serde::Serialize)]
pub(crate) struct JobData {
    pub(crate) guid: String,
    pub(crate) database: String,
}

/// A folder check with its verdict (`mesbackup.FolderReport`).
#[derive(serde::Serialize)]
pub(crate) struct FolderData {
    #[serde(flatten)]
    pub(crate) report: mesbackup_core::naming::FolderReport,
    pub(crate) complete: bool,
}
