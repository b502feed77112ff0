//! Installer names and the custom packages folder: thin calls into `mesbackup_core::naming` and the client's folder check.

use std::path::PathBuf;

use mesbackup_core::naming::{self as core_naming, DatabaseKind};
use mesbackup_core::Error;
use pyo3::prelude::*;

use crate::errors::{arg_err, warn_deprecated};
use crate::results::{pyrepr, pyrepr_opt, to_plain, FolderData};

fn kind_from_str(py: Python<'_>, kind: &str) -> PyResult<DatabaseKind> {
    DatabaseKind::from_package_token(kind).ok_or_else(|| {
        arg_err(
            py,
            Error::invalid_argument(format!(
                "unknown database kind {}: use \"Online\", \"CDM\", \"ODS\" or \"DWH\"",
                mesbackup_core::error::quote_untrusted(kind, 40)
            )),
        )
    })
}

/// A file name the MES installer accepts, split into its parts.
#[pyclass(frozen, module = "mesbackup", name = "PackageName")]
pub(crate) struct PackageName {
    #[pyo3(get)]
    pub(crate) system: Option<String>,
    #[pyo3(get)]
    pub(crate) kind: String,
    #[pyo3(get)]
    pub(crate) version: String,
    #[pyo3(get)]
    pub(crate) file_name: String,
}

#[pymethods]
impl PackageName {
    fn __repr__(&self) -> String {
        format!(
            "PackageName(system={}, kind={}, version={}, file_name={})",
            pyrepr_opt(self.system.as_deref()),
            pyrepr(&self.kind),
            pyrepr(&self.version),
            pyrepr(&self.file_name)
        )
    }
}

impl PackageName {
    fn from_core(p: core_naming::PackageName) -> PackageName {
        PackageName {
            file_name: p.file_name(),
            system: p.system,
            kind: p.kind.package_token().to_owned(),
            version: p.version,
        }
    }
}

/// What the installer makes of a file name: valid (with its parts) or a near miss explained.
#[pyclass(frozen, module = "mesbackup", name = "NameCheck")]
pub(crate) struct NameCheck {
    #[pyo3(get)]
    pub(crate) file_name: String,
    /// The parsed name when the installer accepts it, else None.
    #[pyo3(get)]
    pub(crate) package: Option<Py<PackageName>>,
    /// The near-miss code (`wrong_case`, `extra_suffix`, ...), None when valid.
    #[pyo3(get)]
    pub(crate) reason: Option<String>,
    #[pyo3(get)]
    pub(crate) message: String,
    /// The exact name the file should have, when it can be inferred.
    #[pyo3(get)]
    pub(crate) expected: Option<String>,
}

#[pymethods]
impl NameCheck {
    #[getter]
    fn valid(&self) -> bool {
        self.package.is_some()
    }
    fn __bool__(&self) -> bool {
        self.package.is_some()
    }
    fn __repr__(&self) -> String {
        format!(
            "NameCheck(file_name={}, valid={}, reason={}, expected={})",
            pyrepr(&self.file_name),
            if self.package.is_some() { "True" } else { "False" },
            pyrepr_opt(self.reason.as_deref()),
            pyrepr_opt(self.expected.as_deref())
        )
    }
}

/// `<System>.Cmf.ClickHouse.FullBackup.<Kind>.<version>.zip` (or the generic name without system).
#[pyfunction]
#[pyo3(signature = (kind, version, system=None))]
pub(crate) fn installer_package_name(
    py: Python<'_>,
    kind: &str,
    version: &str,
    system: Option<&str>,
) -> PyResult<String> {
    let kind = kind_from_str(py, kind)?;
    core_naming::installer_package_name(kind, version, system).map_err(|e| arg_err(py, e))
}

/// The installer package name for a database (`MESCDM`, `11.3.0` -> `MES.Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip`;
/// with `generic_names=True`, `Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip`).
#[pyfunction]
#[pyo3(signature = (database, version, *, system=None, generic_names=false, generic=None))]
pub(crate) fn installer_name_for_database(
    py: Python<'_>,
    database: &str,
    version: &str,
    system: Option<&str>,
    generic_names: bool,
    generic: Option<bool>,
) -> PyResult<String> {
    let generic = match generic {
        Some(g) => {
            warn_deprecated(py, "generic=", "use generic_names=", 1)?;
            g || generic_names
        }
        None => generic_names,
    };
    let (system, kind) = core_naming::parse_database_name(database, system).map_err(|e| arg_err(py, e))?;
    let system = if generic { None } else { Some(system.as_str()) };
    core_naming::installer_package_name(kind, version, system).map_err(|e| arg_err(py, e))
}

/// The four database names of a system, in the order online, CDM, ODS, DWH.
#[pyfunction]
pub(crate) fn system_databases(py: Python<'_>, system: &str) -> PyResult<Vec<String>> {
    let dbs = core_naming::system_databases(system).map_err(|e| arg_err(py, e))?;
    Ok(dbs.into_iter().map(|(_, db)| db).collect())
}

/// Parses a file name as the installer does; raises `InvalidArgument` explaining a near miss.
#[pyfunction]
pub(crate) fn parse_package_name(py: Python<'_>, file_name: &str) -> PyResult<PackageName> {
    core_naming::parse_package_name(file_name).map(PackageName::from_core).map_err(|n| arg_err(py, n.into()))
}

/// Explains what the installer makes of a file name (never raises).
#[pyfunction]
pub(crate) fn explain_package_name(py: Python<'_>, file_name: &str) -> PyResult<NameCheck> {
    Ok(match core_naming::parse_package_name(file_name) {
        Ok(p) => {
            let message = format!("{} is a valid installer package name", p.file_name());
            NameCheck {
                file_name: file_name.to_owned(),
                package: Some(Py::new(py, PackageName::from_core(p))?),
                reason: None,
                message,
                expected: None,
            }
        }
        Err(n) => NameCheck {
            file_name: file_name.to_owned(),
            package: None,
            reason: Some(n.reason.code().to_owned()),
            message: n.message,
            expected: n.expected,
        },
    })
}

/// Checks a custom packages folder on disk: which file the installer would restore for each
/// database of `system` at `version`, and which files it would silently ignore
/// (`mesbackup.check_folder` makes it a `FolderReport`).
#[pyfunction]
pub(crate) fn _check_folder(py: Python<'_>, folder: PathBuf, system: &str, version: &str) -> PyResult<Py<PyAny>> {
    let report = py.detach(|| mesbackup_client::folder::check_folder(&folder, system, version));
    let report = report.map_err(|e| arg_err(py, e))?;
    let complete = report.complete();
    to_plain(py, &FolderData { report, complete })
}
