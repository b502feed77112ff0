//! `_restore` / `_test_restore`: client's `restore::flow` with a Python callable (or ClickHouse's HTTP
//! interface) as the SQL executor. Only translation: the flow, the plan and the checks are Rust.
//!
//! The flow runs on the calling thread (`block_on`), so an executor that must stay on its thread (a
//! chdb session) is called where it was made. Before each statement the executor wrapper looks at
//! signals: Ctrl-C stops following the restore and `KeyboardInterrupt` reaches the caller unchanged.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use mesbackup_client::restore::{
    parse_json_each_row, ClickHouseCredentials, ClickHouseOptions, HttpExecutor, SqlExecutor,
};
use mesbackup_client::restore::{
    restore_package, test_restore_package, RestoreRequest, RestoreStep, TestRestoreOptions,
};
use mesbackup_core::file_modes::FileModes;
use mesbackup_core::{Error, ErrorKind};
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyString};
use serde_json::Value;

use crate::errors::to_py_err;
use crate::results::to_plain;
use crate::runtime;

/// Where SQL goes: a Python callable `(sql: str) -> str | bytes | list[dict] | None`, or HTTP.
enum Target {
    Callable(Py<PyAny>),
    Http(HttpExecutor),
}

/// The executor the flow sees. A Python exception that is not an `Exception` (KeyboardInterrupt,
/// SystemExit) is kept here and re-raised as is once the flow has returned.
struct PyExecutor {
    target: Target,
    interrupted: Mutex<Option<PyErr>>,
}

impl PyExecutor {
    fn interrupt(&self, err: PyErr) -> Error {
        let message = format!("interrupted: {err}");
        *self.interrupted.lock().unwrap() = Some(err);
        Error::new(ErrorKind::Cancelled, message)
    }

    fn call(&self, callable: &Py<PyAny>, sql: &str) -> Result<Vec<Value>, Error> {
        Python::attach(|py| {
            let result = match callable.call1(py, (sql,)) {
                Ok(r) => r.into_bound(py),
                Err(e) if e.is_instance_of::<PyException>(py) => {
                    return Err(Error::new(ErrorKind::ServerError, format!("the SQL executor raised {e}")));
                }
                Err(e) => return Err(self.interrupt(e)),
            };
            rows_of(py, &result)
        })
    }
}

/// Rows from what a Python executor returned.
fn rows_of(py: Python<'_>, result: &Bound<'_, PyAny>) -> Result<Vec<Value>, Error> {
    let bad = |what: &str| {
        Error::new(
            ErrorKind::UnexpectedResponse,
            format!(
                "the SQL executor returned {what}: return JSONEachRow text (str or bytes), a list of dicts, or None"
            ),
        )
    };
    if result.is_none() {
        return Ok(Vec::new());
    }
    if let Ok(s) = result.cast::<PyString>() {
        return parse_json_each_row(&s.to_string_lossy());
    }
    if let Ok(b) = result.cast::<PyBytes>() {
        return parse_json_each_row(&String::from_utf8_lossy(b.as_bytes()));
    }
    if let Ok(b) = result.cast::<PyByteArray>() {
        return parse_json_each_row(&String::from_utf8_lossy(&b.to_vec()));
    }
    if result.is_instance_of::<pyo3::types::PyList>() || result.is_instance_of::<pyo3::types::PyTuple>() {
        let text: String = py
            .import("json")
            .and_then(|json| json.call_method1("dumps", (result,)))
            .and_then(|t| t.extract())
            .map_err(|_| bad("a list that is not plain JSON data"))?;
        return match serde_json::from_str::<Value>(&text) {
            Ok(Value::Array(rows)) if rows.iter().all(Value::is_object) => Ok(rows),
            _ => Err(bad("a list whose items are not dicts")),
        };
    }
    let type_name = result.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into());
    Err(bad(&format!("a {type_name}")))
}

#[async_trait]
impl SqlExecutor for PyExecutor {
    async fn query(&self, sql: &str) -> Result<Vec<Value>, Error> {
        if let Err(e) = Python::attach(|py| py.check_signals()) {
            return Err(self.interrupt(e));
        }
        match &self.target {
            Target::Callable(f) => self.call(f, sql),
            Target::Http(h) => h.query(sql).await,
        }
    }
}

/// How SQL reaches ClickHouse: an executor callable, or its HTTP address with credentials given or
/// from `CLICKHOUSE_USER` / `CLICKHOUSE_PASSWORD` (whose secret is then scrubbed like a given one).
struct Connection {
    executor: Option<Py<PyAny>>,
    clickhouse: Option<String>,
    credentials: ClickHouseCredentials,
    allow_insecure_http: bool,
}

impl Connection {
    fn new(
        executor: Option<Py<PyAny>>,
        clickhouse: Option<String>,
        user: Option<String>,
        password: Option<String>,
        allow_insecure_http: bool,
    ) -> Connection {
        let credentials = if clickhouse.is_some() {
            ClickHouseCredentials::given_or_from_env(user, password)
        } else {
            ClickHouseCredentials { user, password }
        };
        Connection { executor, clickhouse, credentials, allow_insecure_http }
    }

    /// What no message may show.
    fn secrets(&self) -> Vec<String> {
        self.credentials.secrets()
    }
}

fn executor(py: Python<'_>, connection: Connection) -> PyResult<PyExecutor> {
    let Connection { executor, clickhouse, credentials, allow_insecure_http } = connection;
    let target = match (executor, clickhouse) {
        (Some(f), None) => {
            if !f.bind(py).is_callable() {
                return Err(crate::errors::arg_err(
                    py,
                    Error::invalid_argument("executor must be callable: (sql: str) -> rows"),
                ));
            }
            Target::Callable(f)
        }
        (None, Some(url)) => {
            let options = ClickHouseOptions { allow_insecure_http, ..ClickHouseOptions::default() };
            Target::Http(HttpExecutor::new(&url, credentials, &options).map_err(|e| crate::errors::arg_err(py, e))?)
        }
        _ => {
            return Err(crate::errors::arg_err(
                py,
                Error::invalid_argument("give either clickhouse (an http:// URL) or executor (a callable), not both"),
            ))
        }
    };
    Ok(PyExecutor { target, interrupted: Mutex::new(None) })
}

/// Calls `on_step(dict)` for every step; an exception from it is kept and re-raised afterwards.
fn step_reporter<'a>(on_step: &'a Option<Py<PyAny>>, failed: &'a Mutex<Option<PyErr>>) -> impl FnMut(RestoreStep) + 'a {
    move |step| {
        let Some(f) = on_step else { return };
        if failed.lock().unwrap().is_some() {
            return;
        }
        Python::attach(|py| {
            let result = to_plain(py, &step).and_then(|d| f.call1(py, (d,)));
            if let Err(e) = result {
                *failed.lock().unwrap() = Some(e);
            }
        });
    }
}

/// Runs a flow on this thread with the GIL released, reporting its steps to `on_step`. An interrupt
/// seen by the executor, or an exception raised by `on_step`, is re-raised unchanged afterwards.
fn run_flow<T: Send>(
    py: Python<'_>,
    exec: &PyExecutor,
    on_step: &Option<Py<PyAny>>,
    flow: impl FnOnce(&mut dyn FnMut(RestoreStep)) -> T + Send,
) -> PyResult<T> {
    let step_failed = Mutex::new(None);
    let result = py.detach(|| flow(&mut step_reporter(on_step, &step_failed)));
    if let Some(e) = exec.interrupted.lock().unwrap().take().or_else(|| step_failed.lock().unwrap().take()) {
        return Err(e);
    }
    Ok(result)
}

fn modes(py: Python<'_>, file_mode: Option<String>, dir_mode: Option<String>) -> PyResult<FileModes> {
    FileModes::parse(file_mode.as_deref(), dir_mode.as_deref()).map_err(|e| crate::errors::arg_err(py, e))
}

/// Restores one package (see `mesbackup.restore`). Returns the report as plain data.
#[pyfunction]
#[pyo3(signature = (package, *, executor=None, clickhouse=None, user=None, password=None, allow_insecure_http=false, target_name=None, storage_policy=None, into_existing=false, dry_run=false, server_backup_path=None, path_on_server=None, file_mode=None, dir_mode=None, timeout_ms=3_600_000, on_step=None))]
#[allow(clippy::too_many_arguments)]
pub fn _restore(
    py: Python<'_>,
    package: PathBuf,
    executor: Option<Py<PyAny>>,
    clickhouse: Option<String>,
    user: Option<String>,
    password: Option<String>,
    allow_insecure_http: bool,
    target_name: Option<String>,
    storage_policy: Option<String>,
    into_existing: bool,
    dry_run: bool,
    server_backup_path: Option<PathBuf>,
    path_on_server: Option<String>,
    file_mode: Option<String>,
    dir_mode: Option<String>,
    timeout_ms: u64,
    on_step: Option<Py<PyAny>>,
) -> PyResult<Py<PyAny>> {
    let connection = Connection::new(executor, clickhouse, user, password, allow_insecure_http);
    let hidden = connection.secrets();
    let exec = self::executor(py, connection)?;
    let request = RestoreRequest {
        package,
        target_name,
        storage_policy,
        dry_run,
        server_backup_path,
        path_on_server,
        into_existing,
        modes: modes(py, file_mode, dir_mode)?,
        timeout: Duration::from_millis(timeout_ms),
    };
    let result = run_flow(py, &exec, &on_step, |report| runtime().block_on(restore_package(&exec, &request, report)))?;
    let report = result.map_err(|e| to_py_err(py, &e, &hidden))?;
    let plain = to_plain(py, &report)?;
    plain.bind(py).set_item("ok", report.ok())?;
    if let Some(e) = report.mismatch() {
        plain.bind(py).set_item("error", e.message)?;
    }
    Ok(plain)
}

/// Test-restores one package (see `mesbackup.test_restore`). Returns the result as plain data;
/// failures are in it, not raised (except an interrupt).
#[pyfunction]
#[pyo3(signature = (package, *, server_backup_path, executor=None, clickhouse=None, user=None, password=None, allow_insecure_http=false, prefix=mesbackup_core::restore::DEFAULT_THROWAWAY_PREFIX.to_owned(), keep=false, storage_policy=None, path_on_server=None, file_mode=None, dir_mode=None, timeout_ms=3_600_000, on_step=None))]
#[allow(clippy::too_many_arguments)]
pub fn _test_restore(
    py: Python<'_>,
    package: PathBuf,
    server_backup_path: PathBuf,
    executor: Option<Py<PyAny>>,
    clickhouse: Option<String>,
    user: Option<String>,
    password: Option<String>,
    allow_insecure_http: bool,
    prefix: String,
    keep: bool,
    storage_policy: Option<String>,
    path_on_server: Option<String>,
    file_mode: Option<String>,
    dir_mode: Option<String>,
    timeout_ms: u64,
    on_step: Option<Py<PyAny>>,
) -> PyResult<Py<PyAny>> {
    let connection = Connection::new(executor, clickhouse, user, password, allow_insecure_http);
    let hidden = connection.secrets();
    let exec = self::executor(py, connection)?;
    let timeout = Duration::from_millis(timeout_ms);
    let modes = modes(py, file_mode, dir_mode)?;
    let options =
        TestRestoreOptions { prefix, keep, storage_policy, server_backup_path, path_on_server, modes, timeout };
    let result = run_flow(py, &exec, &on_step, |report| {
        runtime().block_on(test_restore_package(&exec, &package, &options, report))
    })?;
    let mut value =
        serde_json::to_value(&result).map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(e.to_string()))?;
    if let (Some(e), Value::Object(m)) = (&result.error, &mut value) {
        let message = crate::errors::scrub(&e.message, &hidden);
        m.insert("error".into(), serde_json::json!({"kind": e.kind.code(), "message": message}));
    }
    to_plain(py, &value)
}
