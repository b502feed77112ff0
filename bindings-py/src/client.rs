//! `_ClientCore`: the connection under the Python `Client` and `AsyncClient`, and the operations it starts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

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
use mesbackup_core::mes::{JobEvent, Mode, Phase};
use mesbackup_core::naming;
use mesbackup_core::Error;
use pyo3::prelude::*;
use tokio::sync::mpsc;

use crate::errors::{arg_err, to_py_err};
use crate::operations::{progress_of, DbProgress, Finished, Msg, Operation};
use crate::results::pyrepr;
use crate::runtime;

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
pub(crate) fn credentials(
    token: Option<&str>,
    user: Option<&str>,
    pat: Option<&str>,
    no_auth: bool,
) -> Result<Credentials, Error> {
    resolve_credentials(GivenCredentials { token, user, pat, no_auth }, env_var).map_err(Error::from)
}

/// The native core of `mesbackup.Client` and `mesbackup.AsyncClient` (Python classes over it, as
/// polars' `DataFrame` over `PyDataFrame`): the connection and the operations; waiting, progress bars
/// and deprecated spellings are the Python classes' part.
#[pyclass(frozen, module = "mesbackup._mesbackup", name = "_ClientCore")]
pub(crate) struct Client {
    pub(crate) client: Arc<MesClient>,
    pub(crate) secrets: Arc<Vec<String>>,
    pub(crate) scheme: &'static str,
    /// Permission bits of the files written and the folders created (core's checks and defaults).
    pub(crate) modes: FileModes,
}

struct JobArgs {
    pub(crate) mode: Mode,
    pub(crate) database: Option<String>,
    pub(crate) guid: Option<String>,
    pub(crate) file_name: Option<String>,
    pub(crate) overwrite: bool,
    /// When the SQL Server backups finished (RFC 3339), recorded in the sidecar.
    pub(crate) sql_backup_finished_at: Option<String>,
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
        if matches!(args.mode, Mode::Download | Mode::DownloadIfReady) {
            // A database given to a download names what it holds; it must not let a lost download
            // POST a new backup the caller did not ask for.
            spec.restart_budget = 0;
        }
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
        let scheme = creds.scheme();
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

    /// The client `mesbackup run` would use for environment `name` of the config file at `config`
    /// (client's `run::prepare`: credentials resolved as the config names them).
    #[staticmethod]
    fn _for_environment(py: Python<'_>, config: PathBuf, name: String) -> PyResult<Client> {
        crate::run::client_for_environment(py, config, name)
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

    #[pyo3(signature = (guid, out_dir, *, file_name=None, overwrite=false, if_ready=false, database=None, sql_backup_finished=None))]
    #[allow(clippy::too_many_arguments)]
    fn _download_op(
        &self,
        py: Python<'_>,
        guid: Bound<'_, PyAny>,
        out_dir: PathBuf,
        file_name: Option<String>,
        overwrite: bool,
        if_ready: bool,
        database: Option<String>,
        sql_backup_finished: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Operation> {
        // A GUID, or a `mesbackup.Job` (a dataclass: its `guid`, and its `database` unless given).
        let (guid, job_database): (String, Option<String>) = match guid.extract::<String>() {
            Ok(g) => (g, None),
            Err(_) => (guid.getattr("guid")?.extract()?, guid.getattr("database").ok().and_then(|d| d.extract().ok())),
        };
        let sql_backup_finished_at = rfc3339_arg(py, "sql_backup_finished", sql_backup_finished.as_ref())?;
        let mode = if if_ready { Mode::DownloadIfReady } else { Mode::Download };
        // The database only labels the sidecar (retention and `window` group by it); a download
        // never POSTs, so it never restarts a lost backup either (see `spawn_job`).
        let database = database.or(job_database);
        let args = JobArgs { mode, database, guid: Some(guid), file_name, overwrite, sql_backup_finished_at };
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
