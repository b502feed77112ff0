//! Errors: core `Error`s become the exception classes of `python/mesbackup/_errors.py`, secrets scrubbed.

use mesbackup_core::Error;
use pyo3::prelude::*;

/// Removes any secret from a message before it reaches Python (defence in depth: the driver
/// already redacts server text before the core quotes it). The core's one redaction.
pub(crate) fn scrub(text: &str, secrets: &[String]) -> String {
    mesbackup_core::error::redact(text, secrets)
}

/// The Python exception for a core error: `mesbackup.<Kind>(message, kind=..., guid=...)`.
fn error_instance<'py>(py: Python<'py>, e: &Error, secrets: &[String]) -> PyResult<Bound<'py, PyAny>> {
    let message = scrub(&e.message, secrets);
    let module = py.import("mesbackup._errors")?;
    module.getattr("_from_core")?.call1((e.kind.code(), message, e.guid.clone()))
}

pub(crate) fn to_py_err(py: Python<'_>, e: &Error, secrets: &[String]) -> PyErr {
    match error_instance(py, e, secrets) {
        Ok(instance) => PyErr::from_value(instance),
        Err(err) => err,
    }
}

/// For errors raised before any secret is known (argument checking).
pub(crate) fn arg_err(py: Python<'_>, e: Error) -> PyErr {
    to_py_err(py, &e, &[])
}

/// A deprecated spelling was used: a `DeprecationWarning` naming what to write instead. Old
/// spellings are kept one release. `stacklevel` 1 points at the caller of a native method.
pub(crate) fn warn_deprecated(py: Python<'_>, old: &str, instead: &str, stacklevel: i32) -> PyResult<()> {
    let category = py.get_type::<pyo3::exceptions::PyDeprecationWarning>();
    let message = format!("{old} is deprecated and will be removed in the next release: {instead}");
    py.import("warnings")?.call_method1("warn", (message, category, stacklevel))?;
    Ok(())
}
