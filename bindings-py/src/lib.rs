//! `mesbackup._mesbackup`: the native half of the Python package `mesbackup`.
//!
//! This crate only translates. Arguments become `mesbackup-core` / `mesbackup-client` types, the
//! shared driver (`MesClient::run`, `system::backup_system`) runs the job on a tokio runtime, and its
//! outcome becomes Python objects; `ErrorKind` codes become the exception classes defined in
//! `python/mesbackup/_errors.py`. There is no protocol, polling or naming logic here.
//!
//! Every job runs as a tokio task with its own `CancellationToken`, reported through an
//! `operations::Operation`. The synchronous API waits on it in slices of at most 100 ms with the GIL
//! released, delivering progress on the caller's thread and checking for signals in between, so
//! Ctrl-C cancels the job (the core discards the temporary file) and is re-raised once the job has
//! cleaned up.
//! The asyncio API awaits the same messages (`Operation.next`), see `python/mesbackup/_client.py`.
//!
//! One file per concern: `errors`, `results`, `operations`, `client`, `naming`, `files`, `restore`, `run`
//! (and `async_bridge`, the hand-over to asyncio); the module itself is declared below, as a list.

use pyo3::prelude::*;

mod async_bridge;
mod client;
mod errors;
mod files;
mod naming;
mod operations;
mod restore;
mod results;
mod run;

/// The one multi-threaded runtime every job of this process runs on, started on first use.
pub(crate) fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .thread_name("mesbackup")
            .enable_all()
            .build()
            .expect("mesbackup: cannot start the tokio runtime")
    })
}

#[pymodule]
mod _mesbackup {
    use pyo3::types::PyTuple;

    #[pymodule_export]
    use crate::client::Client;
    #[pymodule_export]
    use crate::files::{_backup_window, _prune, _stage, _verify_file};
    #[pymodule_export]
    use crate::naming::{
        _check_folder, explain_package_name, installer_name_for_database, installer_package_name, parse_package_name,
        system_databases, NameCheck, PackageName,
    };
    #[pymodule_export]
    use crate::operations::Operation;
    #[pymodule_export]
    use crate::restore::{_restore, _test_restore};
    #[pymodule_export]
    use crate::run::{_load_run_config, _run_op};

    use super::*;

    #[pymodule_init]
    fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
        // Before the interpreter finalizes, wait for (then bar) tokio threads handing results to asyncio.
        let gate = wrap_pyfunction!(crate::async_bridge::_close_exit_gate, m)?;
        m.py().import("atexit")?.call_method1("register", (gate,))?;
        // The canonical error kind codes, in `ErrorKind::ALL` order (the exception classes must match).
        let kinds = mesbackup_core::ErrorKind::ALL.iter().map(|k| k.code());
        m.add("ERROR_KINDS", PyTuple::new(m.py(), kinds)?)?;
        m.add("SIDECAR_SUFFIX", mesbackup_core::mes::SIDECAR_SUFFIX)?;
        m.add("PARTIAL_SUFFIX", mesbackup_client::file_sink::PARTIAL_SUFFIX)?;
        m.add("__version__", env!("CARGO_PKG_VERSION"))?;
        Ok(())
    }
}
