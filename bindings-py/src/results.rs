//! Result objects of the native module (`Package`, `Job`) and what they share: reprs, datetimes, paths.

use std::path::Path;

use mesbackup_core::mes::SavedPackage;
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

fn utc_datetime(py: Python<'_>, ms: Option<u64>) -> PyResult<Py<PyAny>> {
    let Some(ms) = ms else { return Ok(py.None()) };
    let datetime = py.import("datetime")?;
    let utc = datetime.getattr("timezone")?.getattr("utc")?;
    let secs = (ms / 1000) as f64;
    let dt = datetime.getattr("datetime")?.call_method1("fromtimestamp", (secs, utc))?;
    let dt = dt.call_method1("__add__", (datetime.getattr("timedelta")?.call1((0, 0, 0, ms % 1000))?,))?;
    Ok(dt.unbind())
}

fn py_path(py: Python<'_>, path: &Path) -> PyResult<Py<PyAny>> {
    Ok(py.import("pathlib")?.getattr("Path")?.call1((path.to_path_buf(),))?.unbind())
}

/// A backup package saved under its final name, with its sidecar beside it.
#[pyclass(frozen, module = "mesbackup", name = "Package")]
pub(crate) struct Package {
    pub(crate) inner: SavedPackage,
}

#[pymethods]
impl Package {
    /// Where the package is (`pathlib.Path`).
    #[getter]
    fn path(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        py_path(py, Path::new(&self.inner.location))
    }
    #[getter]
    fn file_name(&self) -> &str {
        &self.inner.file_name
    }
    #[getter]
    fn size(&self) -> u64 {
        self.inner.size
    }
    #[getter]
    fn sha256(&self) -> &str {
        &self.inner.sha256
    }
    #[getter]
    fn guid(&self) -> &str {
        &self.inner.guid
    }
    #[getter]
    fn database(&self) -> Option<&str> {
        self.inner.database.as_deref()
    }
    /// When the MES accepted the backup request (None when the download was resumed from a GUID).
    #[getter]
    fn started_at(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        utc_datetime(py, self.inner.started_at_ms)
    }
    #[getter]
    fn ready_at(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        utc_datetime(py, self.inner.ready_at_ms)
    }
    #[getter]
    fn finished_at(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        utc_datetime(py, Some(self.inner.finished_at_ms))
    }
    /// Things the administrator should know (fallback name, name clash resolved, restarts).
    #[getter]
    fn notes(&self) -> Vec<String> {
        self.inner.notes.clone()
    }
    /// The JSON sidecar beside the package (database, GUID, backup window, size, SHA-256).
    #[getter]
    fn sidecar(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let location = Path::new(&self.inner.location);
        let dir = location.parent().unwrap_or(Path::new(""));
        py_path(py, &dir.join(&self.inner.sidecar_file_name))
    }
    fn __repr__(&self) -> String {
        format!(
            "Package(file_name={}, size={}, sha256={}, guid={}, database={})",
            pyrepr(&self.inner.file_name),
            self.inner.size,
            pyrepr(&self.inner.sha256),
            pyrepr(&self.inner.guid),
            pyrepr_opt(self.inner.database.as_deref())
        )
    }
    fn __fspath__(&self) -> &str {
        &self.inner.location
    }
    /// The fields as plain data (datetimes as ISO 8601 text, paths as text).
    fn to_dict(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        display(slf.py(), "package_dict", slf.as_any())
    }
    fn _repr_html_(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        display(slf.py(), "package_html", slf.as_any())
    }
}

/// Presentation lives once, in `mesbackup._display`, for the native results and the dataclasses alike.
pub(crate) fn display(py: Python<'_>, function: &str, value: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    Ok(py.import("mesbackup._display")?.call_method1(function, (value,))?.unbind())
}

/// A backup started on the server (`Client.start`); download it later with its GUID.
#[pyclass(frozen, module = "mesbackup", name = "Job")]
pub(crate) struct Job {
    #[pyo3(get)]
    pub(crate) guid: String,
    #[pyo3(get)]
    pub(crate) database: String,
}

#[pymethods]
impl Job {
    fn __repr__(&self) -> String {
        format!("Job(guid={}, database={})", pyrepr(&self.guid), pyrepr(&self.database))
    }
    fn __str__(&self) -> String {
        self.guid.clone()
    }
}
