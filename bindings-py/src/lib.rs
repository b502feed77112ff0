//! `mesbackup._mesbackup`: the native half of the Python package `mesbackup`.
//!
//! This crate only translates. Arguments become `mesbackup-core` / `mesbackup-client` types, the
//! shared driver (`MesClient::run`, `system::backup_system`) runs the job on a tokio runtime, and its
//! outcome becomes Python objects; `ErrorKind` codes become the exception classes defined in
//! `python/mesbackup/_errors.py`. There is no protocol, polling or naming logic here.
//!
//! Every job runs as a tokio task with its own `CancellationToken`, reported through an
//! [`Operation`]. The synchronous API waits on it in slices of at most 100 ms with the GIL released,
//! delivering progress on the caller's thread and checking for signals in between, so Ctrl-C cancels
//! the job (the core discards the temporary file) and is re-raised once the job has cleaned up.
//! The asyncio API awaits the same messages (`Operation.next`), see `python/mesbackup/__init__.py`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mesbackup_client::clock::TokioClock;
use mesbackup_client::driver::ClientOptions;
use mesbackup_client::file_sink::FileSinkFactory;
use mesbackup_client::http::HttpConfig;
use mesbackup_client::{CancellationToken, MesClient};
use mesbackup_core::file_modes::FileModes;
use mesbackup_core::mes::DownloadLimits;
use mesbackup_core::mes::EnvUrl;
use mesbackup_core::mes::PollPolicy;
use mesbackup_core::mes::{resolve_credentials, Credentials, GivenCredentials};
use mesbackup_core::mes::{JobEvent, Mode, Outcome, Phase, SavedPackage};
use mesbackup_core::naming::{self, DatabaseKind};
use mesbackup_core::{Error, ErrorKind};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};
use pyo3::IntoPyObjectExt;
use tokio::sync::mpsc;

mod async_bridge;
mod restore;

/// How long the calling thread waits, GIL released, before it looks at signals and progress again.
const WAIT_SLICE: Duration = Duration::from_millis(100);
/// After a cancel, how long the caller waits for the job to clean up before giving up on it.
const CLEANUP_WAIT: Duration = Duration::from_secs(10);

/// The one multi-threaded runtime every job of this process runs on, started on first use.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .thread_name("mesbackup")
            .enable_all()
            .build()
            .expect("mesbackup: cannot start the tokio runtime")
    })
}

// ---- errors -------------------------------------------------------------------------------------

/// Removes any secret from a message before it reaches Python (defence in depth: the driver
/// already redacts server text before the core quotes it). The core's one redaction.
fn scrub(text: &str, secrets: &[String]) -> String {
    mesbackup_core::error::redact(text, secrets)
}

/// The Python exception for a core error: `mesbackup.<Kind>(message, kind=..., guid=...)`.
fn error_instance<'py>(py: Python<'py>, e: &Error, secrets: &[String]) -> PyResult<Bound<'py, PyAny>> {
    let message = scrub(&e.message, secrets);
    let module = py.import("mesbackup._errors")?;
    module.getattr("_from_core")?.call1((e.kind.code(), message, e.guid.clone()))
}

fn to_py_err(py: Python<'_>, e: &Error, secrets: &[String]) -> PyErr {
    match error_instance(py, e, secrets) {
        Ok(instance) => PyErr::from_value(instance),
        Err(err) => err,
    }
}

/// For errors raised before any secret is known (argument checking).
fn arg_err(py: Python<'_>, e: Error) -> PyErr {
    to_py_err(py, &e, &[])
}

// ---- result objects -----------------------------------------------------------------------------

/// Python's repr of a str (single quotes, controls escaped), for `__repr__`.
fn pyrepr(s: &str) -> String {
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

fn pyrepr_opt(s: Option<&str>) -> String {
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
struct Package {
    inner: SavedPackage,
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
fn display(py: Python<'_>, function: &str, value: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    Ok(py.import("mesbackup._display")?.call_method1(function, (value,))?.unbind())
}

/// A backup started on the server (`Client.start`); download it later with its GUID.
#[pyclass(frozen, module = "mesbackup", name = "Job")]
struct Job {
    #[pyo3(get)]
    guid: String,
    #[pyo3(get)]
    database: String,
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

// ---- operations ---------------------------------------------------------------------------------

enum Finished {
    Outcome(Outcome),
    System(Result<Vec<(String, Outcome)>, Error>),
}

enum Msg {
    Progress(u64, Option<u64>, Phase),
    /// One database of a system backup (sent besides the summed `Progress`): one bar per database.
    DatabaseProgress(String, u64, Option<u64>, Phase),
    Done(Finished),
}

/// Where a `wait` hands progress: the summed callback and, for a system backup, the per-database one.
struct Progress<'a, 'py> {
    total: &'a Option<Bound<'py, PyAny>>,
    database: &'a Option<Bound<'py, PyAny>>,
}

impl Progress<'_, '_> {
    fn deliver(&self, msg: Msg) -> PyResult<Option<Finished>> {
        match msg {
            Msg::Done(f) => return Ok(Some(f)),
            Msg::Progress(d, t, phase) => {
                if let Some(cb) = self.total {
                    cb.call1((d, t, phase_name(phase)))?;
                }
            }
            Msg::DatabaseProgress(db, d, t, phase) => {
                if let Some(cb) = self.database {
                    cb.call1((db, d, t, phase_name(phase)))?;
                }
            }
        }
        Ok(None)
    }
}

fn phase_name(phase: Phase) -> String {
    match serde_json::to_value(phase) {
        Ok(serde_json::Value::String(s)) => s,
        _ => format!("{phase:?}").to_lowercase(),
    }
}

/// What a job event means for a progress bar: (bytes done, total if known, phase).
fn progress_of(event: &JobEvent) -> Option<(u64, Option<u64>, Phase)> {
    match event {
        JobEvent::Started { .. } | JobEvent::Pending { .. } => Some((0, None, Phase::Waiting)),
        JobEvent::Retrying { guid, .. } => {
            Some((0, None, if guid.is_some() { Phase::Waiting } else { Phase::Starting }))
        }
        JobEvent::Restarting { .. } => Some((0, None, Phase::Starting)),
        JobEvent::Ready { size, .. } => Some((0, *size, Phase::Downloading)),
        JobEvent::Progress { bytes, total, .. } => Some((*bytes, *total, Phase::Downloading)),
        JobEvent::Saved { package } => Some((package.size, Some(package.size), Phase::Finished)),
        JobEvent::Warning { .. } | JobEvent::Failed { .. } => None,
        // A kind of event added to core later moves no bar until this binding knows what it means.
        _ => None,
    }
}

/// Per database of a system backup: bytes done, total if known, phase.
type DbProgress = (u64, Option<u64>, Phase);

type JobFuture = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// A running job: its cancellation token and the messages it sends (progress, then its end).
#[pyclass(frozen, module = "mesbackup._mesbackup", name = "_Operation")]
struct Operation {
    /// The job, until someone runs it: `wait` drives it on the calling thread (as the CLI does, no
    /// hop to a worker thread), `next` spawns it on the runtime.
    job: Arc<Mutex<Option<JobFuture>>>,
    cancel: CancellationToken,
    rx: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<Msg>>>,
    secrets: Arc<Vec<String>>,
    return_exceptions: bool,
}

impl Operation {
    /// Receives the next message, waiting at most `slice` (GIL released by the caller).
    fn recv_for(&self, slice: Duration) -> Result<Option<Msg>, ()> {
        let rx = self.rx.clone();
        runtime().block_on(async move {
            match tokio::time::timeout(slice, async { rx.lock().await.recv().await }).await {
                Ok(Some(msg)) => Ok(Some(msg)),
                Ok(None) => Err(()),
                Err(_) => Ok(None),
            }
        })
    }

    fn set_job(&self, job: impl std::future::Future<Output = ()> + Send + 'static) {
        if let Ok(mut j) = self.job.lock() {
            *j = Some(Box::pin(job));
        }
    }

    fn take_job(&self) -> Option<JobFuture> {
        self.job.lock().ok().and_then(|mut j| j.take())
    }

    /// Makes sure the job runs on the runtime (for the asyncio API).
    fn ensure_spawned(&self) {
        if let Some(job) = self.take_job() {
            runtime().spawn(job);
        }
    }

    /// Runs the job on this thread in slices (GIL released), handing progress to `progress`
    /// between slices and checking for signals. Returns the job's end message.
    fn drive_here(&self, py: Python<'_>, mut job: JobFuture, progress: &Progress<'_, '_>) -> PyResult<Py<PyAny>> {
        let rx = self.rx.clone();
        loop {
            let finished = py
                .detach(|| runtime().block_on(async { tokio::time::timeout(WAIT_SLICE, job.as_mut()).await.is_ok() }));
            let mut interrupted = Ok(());
            let mut done = None;
            while let Ok(msg) = rx.try_lock().map_err(|_| ()).and_then(|mut r| r.try_recv().map_err(|_| ())) {
                match msg {
                    Msg::Done(f) => done = Some(f),
                    msg if interrupted.is_ok() => match progress.deliver(msg) {
                        Ok(f) => done = done.or(f),
                        Err(e) => interrupted = Err(e),
                    },
                    _ => {}
                }
            }
            if let Some(f) = done {
                interrupted?;
                return self.finish(py, f);
            }
            if finished {
                return Err(PyRuntimeError::new_err("mesbackup: the job ended without a result"));
            }
            if let Err(e) = interrupted.and_then(|_| py.check_signals()) {
                // Cancel, and let the job clean up (discard its temporary file) before re-raising.
                self.cancel.cancel();
                py.detach(|| {
                    runtime().block_on(async {
                        let _ = tokio::time::timeout(CLEANUP_WAIT, job.as_mut()).await;
                    })
                });
                return Err(e);
            }
        }
    }

    /// Cancels the job and waits (GIL released) until it has cleaned up.
    fn cancel_and_settle(&self, py: Python<'_>) {
        self.cancel.cancel();
        let deadline = std::time::Instant::now() + CLEANUP_WAIT;
        py.detach(|| {
            while std::time::Instant::now() < deadline {
                match self.recv_for(WAIT_SLICE) {
                    Ok(Some(Msg::Done(_))) | Err(()) => return,
                    Ok(_) => {}
                }
            }
        });
    }

    fn finish(&self, py: Python<'_>, finished: Finished) -> PyResult<Py<PyAny>> {
        let secrets: &[String] = &self.secrets;
        match finished {
            Finished::Outcome(outcome) => outcome_to_py(py, outcome, secrets),
            Finished::System(Err(e)) => Err(to_py_err(py, &e, secrets)),
            Finished::System(Ok(outcomes)) => {
                let mut results: Vec<Py<PyAny>> = Vec::new();
                let mut first_error: Option<PyErr> = None;
                for (_, outcome) in outcomes {
                    match outcome_to_py(py, outcome, secrets) {
                        Ok(v) => results.push(v),
                        Err(e) => {
                            results.push(e.value(py).clone().into_any().unbind());
                            if first_error.is_none() {
                                first_error = Some(e);
                            }
                        }
                    }
                }
                let list = PyList::new(py, &results)?;
                match first_error {
                    Some(e) if !self.return_exceptions => {
                        // Every database has finished; the caller still learns what was saved.
                        e.value(py).setattr("results", list)?;
                        Err(e)
                    }
                    _ => Ok(list.into_any().unbind()),
                }
            }
        }
    }
}

fn outcome_to_py(py: Python<'_>, outcome: Outcome, secrets: &[String]) -> PyResult<Py<PyAny>> {
    match outcome {
        Outcome::Saved(p) => Package { inner: p }.into_py_any(py),
        Outcome::Started { guid, database } => Job { guid, database }.into_py_any(py),
        Outcome::Pending { .. } => Ok(py.None()),
        Outcome::Failed(e) => Err(to_py_err(py, &e, secrets)),
    }
}

#[pymethods]
impl Operation {
    /// Waits for the job (GIL released), calling `progress(bytes_done, bytes_total, phase)` on this
    /// thread. KeyboardInterrupt (or an exception from `progress`) cancels the job, waits for it to
    /// remove its temporary file, and is then re-raised.
    /// A system backup also calls `database_progress(database, bytes_done, bytes_total, phase)`.
    #[pyo3(signature = (progress=None, database_progress=None))]
    fn wait(
        &self,
        py: Python<'_>,
        progress: Option<Bound<'_, PyAny>>,
        database_progress: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let progress = Progress { total: &progress, database: &database_progress };
        if let Some(job) = self.take_job() {
            return self.drive_here(py, job, &progress);
        }
        loop {
            let msg = py.detach(|| self.recv_for(WAIT_SLICE));
            let result = match msg {
                Ok(Some(msg)) => match progress.deliver(msg) {
                    Ok(Some(finished)) => return self.finish(py, finished),
                    other => other.map(|_| ()),
                },
                Ok(None) => Ok(()),
                Err(()) => return Err(PyRuntimeError::new_err("mesbackup: the job ended without a result")),
            };
            if let Err(e) = result.and_then(|_| py.check_signals()) {
                self.cancel_and_settle(py);
                return Err(e);
            }
        }
    }

    /// Asks the job to stop; it discards any partial download. Idempotent.
    fn cancel(&self) {
        self.cancel.cancel();
        // A job never started still has to end (it reports `cancelled` at once).
        self.ensure_spawned();
    }

    /// Awaitable of the next message: `("progress", (done, total, phase))` or `("done", result)`;
    /// raises the job's exception if it failed.
    fn next<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.ensure_spawned();
        let rx = self.rx.clone();
        let op = Operation {
            job: self.job.clone(),
            cancel: self.cancel.clone(),
            rx: self.rx.clone(),
            secrets: self.secrets.clone(),
            return_exceptions: self.return_exceptions,
        };
        async_bridge::future_from(
            py,
            runtime(),
            async move { rx.lock().await.recv().await },
            move |py, msg| match msg {
                Some(Msg::Progress(done, total, phase)) => {
                    ("progress", (done, total, phase_name(phase))).into_py_any(py)
                }
                Some(Msg::DatabaseProgress(db, done, total, phase)) => {
                    ("database_progress", (db, done, total, phase_name(phase))).into_py_any(py)
                }
                Some(Msg::Done(finished)) => {
                    let value = op.finish(py, finished)?;
                    ("done", value).into_py_any(py)
                }
                None => Err(PyRuntimeError::new_err("mesbackup: the job ended without a result")),
            },
        )
    }
}

// ---- the client ---------------------------------------------------------------------------------

fn seconds_to_ms(py: Python<'_>, name: &str, value: Option<&Bound<'_, PyAny>>) -> PyResult<Option<u64>> {
    let Some(value) = value else { return Ok(None) };
    if value.is_none() {
        return Ok(None);
    }
    let secs: f64 = if value.hasattr("total_seconds")? {
        value.call_method0("total_seconds")?.extract()?
    } else {
        value.extract().map_err(|_| {
            arg_err(py, Error::invalid_argument(format!("{name} must be a number of seconds or a timedelta")))
        })?
    };
    if !secs.is_finite() || secs <= 0.0 {
        return Err(arg_err(py, Error::invalid_argument(format!("{name} must be a positive number of seconds"))));
    }
    Ok(Some(((secs * 1000.0).round() as u64).max(1)))
}

/// A whole number of bytes (`int`), or None.
fn bytes_arg(py: Python<'_>, name: &str, value: Option<&Bound<'_, PyAny>>) -> PyResult<Option<u64>> {
    let Some(value) = value.filter(|v| !v.is_none()) else { return Ok(None) };
    if value.is_instance_of::<pyo3::types::PyBool>() {
        return Err(arg_err(
            py,
            Error::invalid_argument(format!("{name} must be a whole number of bytes, not a bool")),
        ));
    }
    value.extract::<u64>().map(Some).map_err(|_| {
        arg_err(py, Error::invalid_argument(format!("{name} must be a whole, non-negative number of bytes (an int)")))
    })
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Core's one rule: explicit token, explicit user + PAT, MES_TOKEN, MES_USER + MES_PAT.
fn credentials(
    token: Option<&str>,
    user: Option<&str>,
    pat: Option<&str>,
    no_auth: bool,
) -> Result<Credentials, Error> {
    resolve_credentials(GivenCredentials { token, user, pat, no_auth }, env_var).map_err(Error::from)
}

/// A deprecated spelling was used: a `DeprecationWarning` naming what to write instead. Old
/// spellings are kept one release. `stacklevel` 1 points at the caller of a native method.
fn warn_deprecated(py: Python<'_>, old: &str, instead: &str, stacklevel: i32) -> PyResult<()> {
    let category = py.get_type::<pyo3::exceptions::PyDeprecationWarning>();
    let message = format!("{old} is deprecated and will be removed in the next release: {instead}");
    py.import("warnings")?.call_method1("warn", (message, category, stacklevel))?;
    Ok(())
}

/// The native core of `mesbackup.Client` and `mesbackup.AsyncClient` (Python classes over it, as
/// polars' `DataFrame` over `PyDataFrame`): the connection and the operations; waiting, progress bars
/// and deprecated spellings are the Python classes' part.
#[pyclass(frozen, module = "mesbackup._mesbackup", name = "_ClientCore")]
struct Client {
    client: Arc<MesClient>,
    secrets: Arc<Vec<String>>,
    scheme: &'static str,
    /// Permission bits of the files written and the folders created (core's checks and defaults).
    modes: FileModes,
}

struct JobArgs {
    mode: Mode,
    database: Option<String>,
    guid: Option<String>,
    file_name: Option<String>,
    overwrite: bool,
    /// When the SQL Server backups finished (RFC 3339), recorded in the sidecar.
    sql_backup_finished_at: Option<String>,
}

/// `datetime` (timezone-aware) or RFC 3339 `str` -> RFC 3339 string; core validates the text.
fn rfc3339_arg(py: Python<'_>, name: &str, value: Option<&Bound<'_, PyAny>>) -> PyResult<Option<String>> {
    let Some(v) = value.filter(|v| !v.is_none()) else { return Ok(None) };
    if let Ok(s) = v.extract::<String>() {
        return Ok(Some(s));
    }
    let datetime = py.import("datetime")?.getattr("datetime")?;
    if v.is_instance(&datetime)? {
        if v.call_method0("utcoffset")?.is_none() {
            return Err(arg_err(py, Error::invalid_argument(format!("{name} must be a timezone-aware datetime"))));
        }
        return Ok(Some(v.call_method0("isoformat")?.extract()?));
    }
    Err(arg_err(py, Error::invalid_argument(format!("{name} must be a datetime, an RFC 3339 str or None"))))
}

/// Creates the output folder and removes stale temporary files of interrupted runs from it (client's
/// `prepare_output_folder`, as the CLI does); each lost download becomes a `RuntimeWarning`.
fn prepare_out(py: Python<'_>, out: &Path, modes: FileModes) -> PyResult<()> {
    let stale =
        py.detach(|| mesbackup_client::folder::prepare_output_folder(out, modes)).map_err(|e| arg_err(py, e))?;
    let warnings = py.import("warnings")?;
    for p in stale {
        let category = py.get_type::<pyo3::exceptions::PyRuntimeWarning>();
        warnings.call_method1("warn", (p.message(), category, 3))?;
    }
    Ok(())
}

impl Client {
    fn operation(&self, return_exceptions: bool) -> (Operation, mpsc::UnboundedSender<Msg>, CancellationToken) {
        let (tx, rx) = mpsc::unbounded_channel();
        let cancel = CancellationToken::new();
        let op = Operation {
            job: Arc::new(Mutex::new(None)),
            cancel: cancel.clone(),
            rx: Arc::new(tokio::sync::Mutex::new(rx)),
            secrets: self.secrets.clone(),
            return_exceptions,
        };
        (op, tx, cancel)
    }

    fn spawn_job(&self, py: Python<'_>, args: JobArgs, out_dir: Option<PathBuf>) -> PyResult<Operation> {
        let mut spec = self.client.spec(args.mode, args.database.as_deref(), args.guid.as_deref());
        spec.file_name = args.file_name;
        spec.overwrite = args.overwrite;
        spec.sql_backup_finished_at = args.sql_backup_finished_at;
        // Reject bad arguments now, as a Python exception from the call itself.
        mesbackup_core::mes::Job::new(spec.clone(), 0).map_err(|e| to_py_err(py, &e, &self.secrets))?;
        if let Some(out) = &out_dir {
            prepare_out(py, out, self.modes)?;
        }
        let (op, tx, cancel) = self.operation(false);
        let client = self.client.clone();
        let modes = self.modes;
        let first_phase =
            if matches!(args.mode, Mode::Backup | Mode::StartOnly) { Phase::Starting } else { Phase::Waiting };
        let _ = tx.send(Msg::Progress(0, None, first_phase));
        op.set_job(async move {
            let sinks = FileSinkFactory::new(out_dir.unwrap_or_else(|| PathBuf::from("."))).with_modes(modes);
            let on_event = |e: &JobEvent| {
                if let Some((done, total, phase)) = progress_of(e) {
                    let _ = tx.send(Msg::Progress(done, total, phase));
                }
            };
            let outcome = client.run(spec, &sinks, &TokioClock, &cancel, &on_event).await;
            let _ = tx.send(Msg::Done(Finished::Outcome(outcome)));
        });
        Ok(op)
    }

    fn installer_name_for(
        py: Python<'_>,
        database: &str,
        system: Option<&str>,
        version: &str,
        generic_names: bool,
    ) -> PyResult<String> {
        let (system, kind) = naming::parse_database_name(database, system).map_err(|e| arg_err(py, e))?;
        let prefix = (!generic_names).then_some(system.as_str());
        naming::installer_package_name(kind, version, prefix).map_err(|e| arg_err(py, e))
    }
}

#[pymethods]
#[allow(clippy::too_many_arguments)]
impl Client {
    #[new]
    #[pyo3(signature = (env_url=None, *, token=None, user=None, pat=None, ca_cert=None, timeout=None,
        max_poll_delay=None, restart_budget=0, min_poll_delay=None, retry_delay=None, stall_timeout=None,
        request_timeout=None, connect_timeout=None, allow_insecure_http=false, file_mode=None, dir_mode=None,
        speed_limit=None, speed_time=None, download_timeout=None, max_size=None, no_auth=false))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        env_url: Option<String>,
        token: Option<String>,
        user: Option<String>,
        pat: Option<String>,
        ca_cert: Option<PathBuf>,
        timeout: Option<Bound<'_, PyAny>>,
        max_poll_delay: Option<Bound<'_, PyAny>>,
        restart_budget: u32,
        min_poll_delay: Option<Bound<'_, PyAny>>,
        retry_delay: Option<Bound<'_, PyAny>>,
        stall_timeout: Option<Bound<'_, PyAny>>,
        request_timeout: Option<Bound<'_, PyAny>>,
        connect_timeout: Option<Bound<'_, PyAny>>,
        allow_insecure_http: bool,
        file_mode: Option<String>,
        dir_mode: Option<String>,
        speed_limit: Option<Bound<'_, PyAny>>,
        speed_time: Option<Bound<'_, PyAny>>,
        download_timeout: Option<Bound<'_, PyAny>>,
        max_size: Option<Bound<'_, PyAny>>,
        no_auth: bool,
    ) -> PyResult<Client> {
        let modes = FileModes::parse_named(file_mode.as_deref(), dir_mode.as_deref(), ["file_mode", "dir_mode"])
            .map_err(|e| arg_err(py, e))?;
        let url = match env_url.or_else(|| env_var("MES_URL")) {
            Some(u) => u,
            None => {
                return Err(arg_err(
                    py,
                    Error::invalid_argument(
                        "no MES environment URL: pass it (Client(\"https://mes.example.com\")) or set MES_URL",
                    ),
                ))
            }
        };
        let env = EnvUrl::parse(&url).map_err(|e| arg_err(py, e))?;
        let creds =
            credentials(token.as_deref(), user.as_deref(), pat.as_deref(), no_auth).map_err(|e| arg_err(py, e))?;
        let secrets = creds.secrets();
        let scheme = match creds {
            Credentials::Bearer(_) => "bearer",
            Credentials::Basic { .. } => "basic",
            Credentials::None => "none",
        };
        let mut policy = PollPolicy::default();
        if let Some(ms) = seconds_to_ms(py, "timeout", timeout.as_ref())? {
            policy.timeout_ms = ms;
        }
        if let Some(ms) = seconds_to_ms(py, "max_poll_delay", max_poll_delay.as_ref())? {
            policy.max_delay_ms = ms;
        }
        if let Some(ms) = seconds_to_ms(py, "min_poll_delay", min_poll_delay.as_ref())? {
            policy.min_delay_ms = ms;
        }
        if let Some(ms) = seconds_to_ms(py, "retry_delay", retry_delay.as_ref())? {
            policy.retry_base_ms = ms;
        }
        if let Some(ms) = seconds_to_ms(py, "stall_timeout", stall_timeout.as_ref())? {
            policy.stall_timeout_ms = ms;
        }
        if let Some(ms) = seconds_to_ms(py, "request_timeout", request_timeout.as_ref())? {
            policy.request_timeout_ms = ms;
        }
        let mut download_limits = DownloadLimits::default();
        if let Some(n) = bytes_arg(py, "speed_limit", speed_limit.as_ref())? {
            download_limits.speed_limit = n;
        }
        if let Some(ms) = seconds_to_ms(py, "speed_time", speed_time.as_ref())? {
            download_limits.speed_time_ms = ms;
        }
        download_limits.download_timeout_ms = seconds_to_ms(py, "download_timeout", download_timeout.as_ref())?;
        if let Some(n) = bytes_arg(py, "max_size", max_size.as_ref())? {
            download_limits.max_size = n;
        }
        let ca_cert_pem = match ca_cert {
            Some(path) => Some(std::fs::read(&path).map_err(|e| {
                arg_err(py, Error::invalid_argument(format!("cannot read the CA certificate {}: {e}", path.display())))
            })?),
            None => None,
        };
        let options = ClientOptions {
            policy,
            restart_budget,
            http: HttpConfig {
                ca_cert_pem,
                connect_timeout_ms: seconds_to_ms(py, "connect_timeout", connect_timeout.as_ref())?,
            },
            allow_insecure_http,
            download_limits,
        };
        // reqwest's TLS set-up needs a runtime context on some platforms; building is quick.
        let _guard = runtime().enter();
        let client = MesClient::new(env, creds, options).map_err(|e| to_py_err(py, &e, &secrets))?;
        Ok(Client { client: Arc::new(client), secrets: Arc::new(secrets), scheme, modes })
    }

    /// The normalised environment URL (never contains credentials).
    #[getter]
    fn env_url(&self) -> String {
        self.client.env().as_str().to_owned()
    }

    /// "bearer", "basic" or "none".
    #[getter]
    fn auth_scheme(&self) -> &'static str {
        self.scheme
    }

    /// The permission bits of the files written, as octal text ("0600").
    #[getter]
    fn file_mode(&self) -> String {
        self.modes.file_octal()
    }

    /// The permission bits of the folders created, as octal text ("0700").
    #[getter]
    fn dir_mode(&self) -> String {
        self.modes.dir_octal()
    }

    fn __repr__(&self) -> String {
        format!("Client({}, auth={})", pyrepr(self.client.env().as_str()), pyrepr(self.scheme))
    }

    // -- operations: `Client` waits on them (`_Operation.wait`), `AsyncClient` awaits them (`next`) --

    #[pyo3(signature = (database, out_dir, *, version=None, generic_names=false, file_name=None, overwrite=false, sql_backup_finished=None))]
    fn _backup_op(
        &self,
        py: Python<'_>,
        database: String,
        out_dir: PathBuf,
        version: Option<String>,
        generic_names: bool,
        file_name: Option<String>,
        overwrite: bool,
        sql_backup_finished: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Operation> {
        let sql_backup_finished_at = rfc3339_arg(py, "sql_backup_finished", sql_backup_finished.as_ref())?;
        let file_name = match (version, file_name) {
            (Some(_), Some(_)) => {
                return Err(arg_err(
                    py,
                    Error::invalid_argument("give version (installer names) or file_name, not both"),
                ))
            }
            (Some(version), None) => Some(Client::installer_name_for(py, &database, None, &version, generic_names)?),
            (None, _) if generic_names => {
                return Err(arg_err(
                    py,
                    Error::invalid_argument("generic_names applies to installer names: give version too"),
                ))
            }
            (None, f) => f,
        };
        let args = JobArgs {
            mode: Mode::Backup,
            database: Some(database),
            guid: None,
            file_name,
            overwrite,
            sql_backup_finished_at,
        };
        self.spawn_job(py, args, Some(out_dir))
    }

    fn _start_op(&self, py: Python<'_>, database: String) -> PyResult<Operation> {
        let args = JobArgs {
            mode: Mode::StartOnly,
            database: Some(database),
            guid: None,
            file_name: None,
            overwrite: false,
            sql_backup_finished_at: None,
        };
        self.spawn_job(py, args, None)
    }

    #[pyo3(signature = (guid, out_dir, *, file_name=None, overwrite=false, if_ready=false))]
    fn _download_op(
        &self,
        py: Python<'_>,
        guid: Bound<'_, PyAny>,
        out_dir: PathBuf,
        file_name: Option<String>,
        overwrite: bool,
        if_ready: bool,
    ) -> PyResult<Operation> {
        let guid: String = match guid.cast::<Job>() {
            Ok(job) => job.get().guid.clone(),
            Err(_) => guid.extract()?,
        };
        let mode = if if_ready { Mode::DownloadIfReady } else { Mode::Download };
        let args =
            JobArgs { mode, database: None, guid: Some(guid), file_name, overwrite, sql_backup_finished_at: None };
        self.spawn_job(py, args, Some(out_dir))
    }

    #[pyo3(signature = (system, out_dir, *, version=None, generic_names=false, return_exceptions=false, overwrite=false, sql_backup_finished=None))]
    #[allow(clippy::too_many_arguments)]
    fn _backup_system_op(
        &self,
        py: Python<'_>,
        system: String,
        out_dir: PathBuf,
        version: Option<String>,
        generic_names: bool,
        return_exceptions: bool,
        overwrite: bool,
        sql_backup_finished: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Operation> {
        let sql_backup_finished_at = rfc3339_arg(py, "sql_backup_finished", sql_backup_finished.as_ref())?;
        let databases = naming::system_databases(&system).map_err(|e| arg_err(py, e))?;
        let mut names: BTreeMap<String, String> = BTreeMap::new();
        if generic_names && version.is_none() {
            return Err(arg_err(
                py,
                Error::invalid_argument("generic_names applies to installer names: give version too"),
            ));
        }
        if let Some(version) = &version {
            for (_, db) in &databases {
                names.insert(db.clone(), Client::installer_name_for(py, db, Some(&system), version, generic_names)?);
            }
        }
        prepare_out(py, &out_dir, self.modes)?;
        let (op, tx, cancel) = self.operation(return_exceptions);
        let client = self.client.clone();
        let modes = self.modes;
        let _ = tx.send(Msg::Progress(0, None, Phase::Starting));
        op.set_job(async move {
            let sinks = FileSinkFactory::new(out_dir).with_modes(modes);
            // One progress line for the whole system: bytes summed over the databases.
            // The phase shown is the least advanced one, so "finished" means all four are.
            let state: Mutex<BTreeMap<String, DbProgress>> = Mutex::new(BTreeMap::new());
            let rank = |p: Phase| {
                [Phase::Starting, Phase::Waiting, Phase::Downloading, Phase::Saving, Phase::Finished]
                    .iter()
                    .position(|&q| q == p)
                    .unwrap_or(0)
            };
            let on_event = |db: &str, e: &JobEvent| {
                let Some((done, total, phase)) = progress_of(e) else { return };
                let Ok(mut s) = state.lock() else { return };
                s.insert(db.to_owned(), (done, total, phase));
                let sum: u64 = s.values().map(|v| v.0).sum();
                let all = s.len() == 4;
                let totals: Option<u64> = if all { s.values().map(|v| v.1).sum::<Option<u64>>() } else { None };
                let least = if all {
                    s.values().map(|v| v.2).min_by_key(|&p| rank(p)).unwrap_or(phase)
                } else {
                    if rank(phase) < rank(Phase::Waiting) {
                        phase
                    } else {
                        Phase::Waiting
                    }
                };
                let _ = tx.send(Msg::DatabaseProgress(db.to_owned(), done, total, phase));
                let _ = tx.send(Msg::Progress(sum, totals, least));
            };
            let customise = |db: &str, spec: &mut mesbackup_core::mes::JobSpec| {
                spec.file_name = names.get(db).cloned();
                spec.overwrite = overwrite;
                spec.sql_backup_finished_at = sql_backup_finished_at.clone();
            };
            let result = mesbackup_client::system::backup_system(
                &client,
                &system,
                &sinks,
                &TokioClock,
                &cancel,
                customise,
                &on_event,
            )
            .await;
            let _ = tx.send(Msg::Done(Finished::System(result)));
        });
        Ok(op)
    }
}

// ---- naming helpers -----------------------------------------------------------------------------

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
struct PackageName {
    #[pyo3(get)]
    system: Option<String>,
    #[pyo3(get)]
    kind: String,
    #[pyo3(get)]
    version: String,
    #[pyo3(get)]
    file_name: String,
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
    fn from_core(p: naming::PackageName) -> PackageName {
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
struct NameCheck {
    #[pyo3(get)]
    file_name: String,
    /// The parsed name when the installer accepts it, else None.
    #[pyo3(get)]
    package: Option<Py<PackageName>>,
    /// The near-miss code (`wrong_case`, `extra_suffix`, ...), None when valid.
    #[pyo3(get)]
    reason: Option<String>,
    #[pyo3(get)]
    message: String,
    /// The exact name the file should have, when it can be inferred.
    #[pyo3(get)]
    expected: Option<String>,
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
fn installer_package_name(py: Python<'_>, kind: &str, version: &str, system: Option<&str>) -> PyResult<String> {
    let kind = kind_from_str(py, kind)?;
    naming::installer_package_name(kind, version, system).map_err(|e| arg_err(py, e))
}

/// The installer package name for a database (`MESCDM`, `11.3.0` -> `MES.Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip`;
/// with `generic_names=True`, `Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip`).
#[pyfunction]
#[pyo3(signature = (database, version, *, system=None, generic_names=false, generic=None))]
fn installer_name_for_database(
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
    let (system, kind) = naming::parse_database_name(database, system).map_err(|e| arg_err(py, e))?;
    let system = if generic { None } else { Some(system.as_str()) };
    naming::installer_package_name(kind, version, system).map_err(|e| arg_err(py, e))
}

/// The four database names of a system, in the order online, CDM, ODS, DWH.
#[pyfunction]
fn system_databases(py: Python<'_>, system: &str) -> PyResult<Vec<String>> {
    let dbs = naming::system_databases(system).map_err(|e| arg_err(py, e))?;
    Ok(dbs.into_iter().map(|(_, db)| db).collect())
}

/// Parses a file name as the installer does; raises `InvalidArgument` explaining a near miss.
#[pyfunction]
fn parse_package_name(py: Python<'_>, file_name: &str) -> PyResult<PackageName> {
    naming::parse_package_name(file_name).map(PackageName::from_core).map_err(|n| arg_err(py, n.into()))
}

/// Explains what the installer makes of a file name (never raises).
#[pyfunction]
fn explain_package_name(py: Python<'_>, file_name: &str) -> PyResult<NameCheck> {
    Ok(match naming::parse_package_name(file_name) {
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

/// What the MES installer would restore from a custom packages folder (the CLI's `check-folder`).
#[pyclass(frozen, module = "mesbackup", name = "FolderReport")]
struct FolderReport {
    inner: naming::FolderReport,
}

impl FolderReport {
    fn json<'py, T: serde::Serialize>(py: Python<'py>, value: &T) -> PyResult<Py<PyAny>> {
        let text = serde_json::to_string(value).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        Ok(py.import("json")?.call_method1("loads", (text,))?.unbind())
    }
}

#[pymethods]
impl FolderReport {
    #[getter]
    fn system(&self) -> &str {
        &self.inner.system
    }
    #[getter]
    fn version(&self) -> &str {
        &self.inner.version
    }
    /// Whether every database would be restored.
    #[getter]
    fn complete(&self) -> bool {
        self.inner.complete()
    }
    /// Kinds ("Online", "CDM", "ODS", "DWH") the installer would create empty.
    #[getter]
    fn missing(&self) -> Vec<&'static str> {
        self.inner.missing.iter().map(|k| k.package_token()).collect()
    }
    /// Per kind: the file the installer would pick, the names it looks for, a shadowed generic file.
    #[getter]
    fn kinds(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        FolderReport::json(py, &self.inner.kinds)
    }
    /// Valid package names for another version or system.
    #[getter]
    fn ignored(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        FolderReport::json(py, &self.inner.ignored)
    }
    /// Files meant as packages but named wrongly, with the reason and the name to rename them to.
    #[getter]
    fn near_misses(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        FolderReport::json(py, &self.inner.near_misses)
    }
    /// The whole report as plain data (the same JSON the CLI prints).
    fn to_dict(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let d = FolderReport::json(py, &self.inner)?;
        d.bind(py).set_item("complete", self.inner.complete())?;
        Ok(d)
    }
    fn __bool__(&self) -> bool {
        self.inner.complete()
    }
    fn _repr_html_(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        display(slf.py(), "folder_html", slf.as_any())
    }
    fn __repr__(&self) -> String {
        format!(
            "FolderReport(system={}, version={}, complete={}, missing={:?}, near_misses={})",
            pyrepr(&self.inner.system),
            pyrepr(&self.inner.version),
            if self.inner.complete() { "True" } else { "False" },
            self.missing(),
            self.inner.near_misses.len()
        )
    }
}

/// Checks a custom packages folder on disk: which file the installer would restore for each
/// database of `system` at `version`, and which files it would silently ignore.
#[pyfunction]
fn check_folder(py: Python<'_>, folder: PathBuf, system: &str, version: &str) -> PyResult<FolderReport> {
    let report = py.detach(|| mesbackup_client::folder::check_folder(&folder, system, version));
    report.map(|inner| FolderReport { inner }).map_err(|e| arg_err(py, e))
}

// ---- package files: verify, inspect, window, stage, prune ------------------------------------

fn to_plain<T: serde::Serialize>(py: Python<'_>, value: &T) -> PyResult<Py<PyAny>> {
    FolderReport::json(py, value)
}

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
fn _verify_file(py: Python<'_>, path: PathBuf) -> PyResult<Py<PyAny>> {
    let result = py.detach(|| mesbackup_client::verify_file::verify_file(&path, &mut |_| {}, &mut |_| {}));
    let v = result.map_err(|e| arg_err(py, e))?;
    let failure = v.failure(&path);
    let problems: Vec<serde_json::Value> = v
        .report
        .problems
        .iter()
        .map(|p| {
            let mut detail = serde_json::to_value(p).unwrap_or(serde_json::Value::Null);
            let kind = detail.get("kind").and_then(|k| k.as_str()).unwrap_or("unknown").to_owned();
            if let serde_json::Value::Object(m) = &mut detail {
                m.remove("kind");
            }
            serde_json::json!({"kind": kind, "message": p.message(), "file": problem_file(p), "detail": detail})
        })
        .collect();
    let plain = serde_json::json!({
        "path": path.display().to_string(),
        "report": v.report,
        "problems": problems,
        "inspection": v.inspection,
        "sidecar_matched": v.has_sidecar && v.report.ok(),
        "has_sidecar": v.has_sidecar,
        "size": v.size,
        "error": failure.map(|e| e.message),
    });
    to_plain(py, &plain)
}

/// The backup window over the sidecars in `folder` (None when unknown).
#[pyfunction]
fn _backup_window(py: Python<'_>, folder: PathBuf) -> PyResult<Py<PyAny>> {
    let result = py.detach(|| {
        if !folder.is_dir() {
            return Err(Error::io(format!("{} is not a folder", folder.display())));
        }
        let sidecars = mesbackup_client::folder::read_sidecars(&folder)?;
        let window = mesbackup_core::mes::backup_window(sidecars.values());
        let packages: Vec<serde_json::Value> = sidecars
            .iter()
            .map(|(file, s)| {
                serde_json::json!({"file": file, "database": s.database, "started_at": s.started_at, "finished_at": s.finished_at})
            })
            .collect();
        Ok(window.map(|w| serde_json::json!({"window": w, "packages": packages})))
    });
    match result.map_err(|e| arg_err(py, e))? {
        Some(v) => to_plain(py, &v),
        None => Ok(py.None()),
    }
}

/// Copies (or moves) a package into an installer's custom packages folder (client's `stage_package`).
#[pyfunction]
#[pyo3(signature = (package, into, system, version, system_specific, r#move, force, file_mode=None))]
#[allow(clippy::too_many_arguments)]
fn _stage(
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
fn _prune(py: Python<'_>, folder: PathBuf, keep: usize, execute: bool) -> PyResult<Py<PyAny>> {
    use mesbackup_client::folder::{execute_prune, plan_prune};
    let result = py.detach(|| -> Result<_, Error> {
        let plan = plan_prune(&folder, keep)?;
        let deleted = if execute { execute_prune(&plan)? } else { Vec::new() };
        Ok((plan, deleted))
    });
    let (plan, deleted) = result.map_err(|e| arg_err(py, e))?;
    let deleted: Vec<String> = deleted.iter().map(|p| p.display().to_string()).collect();
    // The plan as the client serialises it (the CLI's `prune` event carries the same), plus what went.
    to_plain(py, &serde_json::json!({"keep": plan.keep, "entries": plan.entries, "deleted": deleted}))
}

/// The canonical error kind codes, in `ErrorKind::ALL` order (the exception classes must match).
fn error_kinds<'py>(py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
    PyTuple::new(py, ErrorKind::ALL.iter().map(|k| k.code()))
}

#[pymodule]
fn _mesbackup(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // Before the interpreter finalizes, wait for (then bar) tokio threads handing results to asyncio.
    m.py().import("atexit")?.call_method1("register", (wrap_pyfunction!(async_bridge::_close_exit_gate, m)?,))?;
    m.add_class::<Client>()?;
    m.add_class::<Package>()?;
    m.add_class::<Job>()?;
    m.add_class::<Operation>()?;
    m.add_class::<PackageName>()?;
    m.add_class::<NameCheck>()?;
    m.add_class::<FolderReport>()?;
    m.add_function(wrap_pyfunction!(check_folder, m)?)?;
    m.add_function(wrap_pyfunction!(_verify_file, m)?)?;
    m.add_function(wrap_pyfunction!(_backup_window, m)?)?;
    m.add_function(wrap_pyfunction!(_stage, m)?)?;
    m.add_function(wrap_pyfunction!(_prune, m)?)?;
    m.add_function(wrap_pyfunction!(restore::_restore, m)?)?;
    m.add_function(wrap_pyfunction!(restore::_test_restore, m)?)?;
    m.add_function(wrap_pyfunction!(installer_package_name, m)?)?;
    m.add_function(wrap_pyfunction!(installer_name_for_database, m)?)?;
    m.add_function(wrap_pyfunction!(system_databases, m)?)?;
    m.add_function(wrap_pyfunction!(parse_package_name, m)?)?;
    m.add_function(wrap_pyfunction!(explain_package_name, m)?)?;
    m.add("ERROR_KINDS", error_kinds(m.py())?)?;
    m.add("SIDECAR_SUFFIX", mesbackup_core::mes::SIDECAR_SUFFIX)?;
    m.add("PARTIAL_SUFFIX", mesbackup_client::file_sink::PARTIAL_SUFFIX)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
