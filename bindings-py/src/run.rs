//! `mesbackup.run`, `mesbackup.RunConfig` and `Client.for_environment`: a mesbackup.toml through
//! client's run engine (what `mesbackup run` does), translated to Python. No run logic here: the one
//! function [`run_config`] calls `client::run` as the CLI's `run_cmd` does.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use mesbackup_client::run::{self, EnvironmentPlan, PlannedDatabase, RunEvent, RunReport};
use mesbackup_client::CancellationToken;
use mesbackup_core::retention::RetentionPolicy;
use mesbackup_core::run_config::{CredentialRef, Hooks, OnLocked, TestRestoreConfig};
use mesbackup_core::Error;
use pyo3::prelude::*;
use tokio::sync::mpsc;

use crate::client::Client;
use crate::errors::arg_err;
use crate::operations::{progress_of, Finished, LogLevel, Msg, Operation};
use crate::results::to_plain;
use crate::runtime;

/// How a run ended (a failed environment is in the report, not an error).
pub(crate) enum RunResult {
    /// Every selected environment ran; the report says how each went.
    Report(RunReport),
    /// `dry_run`: what each environment would do.
    Plan(Vec<EnvironmentPlan>),
    /// Another run holds an output folder and `on_locked = "exit"`: the message names it.
    Locked(String),
}

/// A run's result and the secrets its credentials hold (scrubbed from whatever reaches Python).
pub(crate) struct RunOutcome {
    pub(crate) result: RunResult,
    pub(crate) secrets: Vec<String>,
}

/// Environment variables as the CLI reads them (empty counts as unset).
fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// `mesbackup run --config PATH [--only ...] [--dry-run] [--metrics-file ...]` without its printing:
/// client's [`run::load`] then [`run::LoadedRun::plan`] or [`run::LoadedRun::execute`], as the CLI.
pub(crate) async fn run_config(
    path: PathBuf,
    only: Vec<String>,
    dry_run: bool,
    metrics_file: Option<PathBuf>,
    cancel: CancellationToken,
    on_event: &(dyn Fn(RunEvent<'_>) + Sync),
) -> Result<RunOutcome, Error> {
    let loaded = run::load(&path, &only, &env_var)?;
    let secrets = loaded.secrets();
    if dry_run {
        return Ok(RunOutcome { result: RunResult::Plan(loaded.plan()?), secrets });
    }
    let result = match loaded.execute(metrics_file.as_deref(), &cancel, on_event).await? {
        run::RunOutcome::Locked(message) => RunResult::Locked(message),
        run::RunOutcome::Finished(report) => RunResult::Report(report),
    };
    Ok(RunOutcome { result, secrets })
}

/// The operation behind `mesbackup.run` / `run_async`: progress per `environment/DATABASE`, steps as
/// log records (logger `mesbackup`), and at the end a `RunReport`, a `RunPlan` or `RunLocked`.
#[pyfunction]
#[pyo3(signature = (config, *, only=None, dry_run=false, metrics_file=None))]
pub(crate) fn _run_op(
    config: PathBuf,
    only: Option<Vec<String>>,
    dry_run: bool,
    metrics_file: Option<PathBuf>,
) -> Operation {
    let (tx, rx) = mpsc::unbounded_channel();
    let cancel = CancellationToken::new();
    let op = Operation {
        job: Arc::new(Mutex::new(None)),
        cancel: cancel.clone(),
        rx: Arc::new(tokio::sync::Mutex::new(rx)),
        secrets: Arc::new(Vec::new()),
        return_exceptions: false,
    };
    // client's `run` future is not `Send` (a higher-ranked lifetime in its stream of environments), so
    // it is driven by `block_on` on a blocking thread of the runtime; cancelling goes through `cancel`.
    op.set_job(async move {
        let handle = tokio::runtime::Handle::current();
        let events = tx.clone();
        let outcome = tokio::task::spawn_blocking(move || {
            let on_event = |e: RunEvent<'_>| {
                let msg = match e {
                    RunEvent::Job { environment, database, event } => match progress_of(event) {
                        Some((done, total, phase)) => {
                            Msg::DatabaseProgress(format!("{environment}/{database}"), done, total, phase)
                        }
                        None => return,
                    },
                    RunEvent::Step { environment: "", message } | RunEvent::Warning { environment: "", message } => {
                        Msg::Log(LogLevel::Warning, message)
                    }
                    RunEvent::Warning { environment, message } => {
                        Msg::Log(LogLevel::Warning, format!("{environment}: {message}"))
                    }
                    RunEvent::FoldersLocked => return,
                    RunEvent::Step { environment, message } => {
                        Msg::Log(LogLevel::Info, format!("{environment}: {message}"))
                    }
                };
                let _ = events.send(msg);
            };
            handle.block_on(run_config(config, only.unwrap_or_default(), dry_run, metrics_file, cancel, &on_event))
        })
        .await
        .unwrap_or_else(|e| Err(Error::new(mesbackup_core::ErrorKind::Internal, format!("run task: {e}"))));
        let _ = tx.send(Msg::Done(Finished::Run(outcome)));
    });
    op
}

/// The result of a finished run as Python: `RunReport` / `RunPlan` (mesbackup._run), or the
/// `RunLocked` exception.
pub(crate) fn outcome_to_py(py: Python<'_>, outcome: Result<RunOutcome, Error>) -> PyResult<Py<PyAny>> {
    let outcome = outcome.map_err(|e| arg_err(py, e))?;
    let secrets = &outcome.secrets;
    let module = py.import("mesbackup._run")?;
    match outcome.result {
        RunResult::Report(report) => {
            let data = scrubbed_plain(py, &report, secrets)?;
            Ok(module.getattr("RunReport")?.call_method1("_from_data", (data,))?.unbind())
        }
        RunResult::Plan(environments) => {
            let data = scrubbed_plain(py, &PlanData { environments }, secrets)?;
            Ok(module.getattr("RunPlan")?.call_method1("_from_data", (data,))?.unbind())
        }
        RunResult::Locked(message) => {
            let message = crate::errors::scrub(&message, secrets);
            let e = py.import("mesbackup._errors")?.getattr("_from_core")?.call1(("run_locked", message, py.None()))?;
            Err(PyErr::from_value(e))
        }
    }
}

/// Plain data with every secret removed (defence in depth: messages are redacted before they
/// reach a report).
fn scrubbed_plain<T: serde::Serialize>(py: Python<'_>, value: &T, secrets: &[String]) -> PyResult<Py<PyAny>> {
    let text = serde_json::to_string(value).map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(e.to_string()))?;
    let text = crate::errors::scrub(&text, secrets);
    Ok(py.import("json")?.call_method1("loads", (text,))?.unbind())
}

#[derive(serde::Serialize)]
struct PlanData {
    environments: Vec<EnvironmentPlan>,
}

/// One `[[environment]]` as Python sees it (`mesbackup.EnvironmentConfig`): every key, the
/// credentials by reference (variable names, a file path; never a secret), and the databases with
/// the file names they are saved under.
#[derive(serde::Serialize)]
struct EnvironmentData {
    name: String,
    url: String,
    system: String,
    out: String,
    version: Option<String>,
    generic_names: bool,
    stage_into: Option<String>,
    credentials: CredentialData,
    ca_cert: Option<String>,
    allow_insecure_http: bool,
    file_mode: String,
    dir_mode: String,
    timeout_ms: u64,
    verify: bool,
    retention: Option<RetentionPolicy>,
    hooks: Hooks,
    test_restore: Option<TestRestoreConfig>,
    databases: Vec<PlannedDatabase>,
}

#[derive(serde::Serialize)]
struct CredentialData {
    /// "token_env", "token_file", "user_env+pat_env", "keyring", "mes_variables" (no key: MES_TOKEN
    /// or MES_USER + MES_PAT) or "no_auth".
    source: &'static str,
    token_env: Option<String>,
    token_file: Option<String>,
    user_env: Option<String>,
    pat_env: Option<String>,
    keyring_service: Option<String>,
    keyring_entry: Option<String>,
}

#[derive(serde::Serialize)]
struct ConfigData {
    path: String,
    concurrency: usize,
    on_locked: OnLocked,
    environments: Vec<EnvironmentData>,
}

fn credential_data(c: &CredentialRef) -> CredentialData {
    let mut d = CredentialData {
        source: "no_auth",
        token_env: None,
        token_file: None,
        user_env: None,
        pat_env: None,
        keyring_service: None,
        keyring_entry: None,
    };
    match c {
        CredentialRef::TokenEnv(v) => {
            d.source = "token_env";
            d.token_env = Some(v.clone());
        }
        CredentialRef::TokenFile(f) => {
            d.source = "token_file";
            d.token_file = Some(f.clone());
        }
        CredentialRef::UserPat { user_env, pat_env } => {
            d.source = "user_env+pat_env";
            d.user_env = Some(user_env.clone());
            d.pat_env = Some(pat_env.clone());
        }
        CredentialRef::Keyring { service, entry } => {
            d.source = "keyring";
            d.keyring_service = Some(service.clone());
            d.keyring_entry = Some(entry.clone());
        }
        CredentialRef::MesVariables => d.source = "mes_variables",
        CredentialRef::None => {}
    }
    d
}

/// `RunConfig.load(path)`: the file read and checked as `mesbackup run` does (errors name the key
/// and line); credentials are not resolved here (`Client.for_environment` does).
#[pyfunction]
pub(crate) fn _load_run_config(py: Python<'_>, path: PathBuf) -> PyResult<Py<PyAny>> {
    let config = py.detach(|| run::read_config(&path)).map_err(|e| arg_err(py, e))?;
    let mut environments = Vec::new();
    for env in &config.environments {
        let databases = env
            .databases()
            .map_err(|e| arg_err(py, e))?
            .into_iter()
            .map(|(_, database, file_name)| PlannedDatabase { database, file_name })
            .collect();
        environments.push(EnvironmentData {
            name: env.name.clone(),
            url: env.url.clone(),
            system: env.system.clone(),
            out: env.out.clone(),
            version: env.version.clone(),
            generic_names: env.generic_names,
            stage_into: env.stage_into.clone(),
            credentials: credential_data(&env.credentials),
            ca_cert: env.ca_cert.clone(),
            allow_insecure_http: env.allow_insecure_http,
            file_mode: env.modes.file_octal(),
            dir_mode: env.modes.dir_octal(),
            timeout_ms: env.timeout_ms,
            verify: env.verify,
            retention: env.retention,
            hooks: env.hooks.clone(),
            test_restore: env.test_restore.clone(),
            databases,
        });
    }
    let data = ConfigData {
        path: path.display().to_string(),
        concurrency: config.concurrency,
        on_locked: config.on_locked,
        environments,
    };
    to_plain(py, &data)
}

/// `Client.for_environment(config, name)`: the client `mesbackup run` would use for that
/// environment (client's `run::prepare`: its credentials resolved from the variables or token file
/// the config names, its CA file, timeout and transport checks).
pub(crate) fn client_for_environment(py: Python<'_>, path: PathBuf, name: String) -> PyResult<Client> {
    let config = run::read_config(&path).map_err(|e| arg_err(py, e))?;
    let _guard = runtime().enter();
    let mut prepared = run::prepare(&config, std::slice::from_ref(&name), &env_var).map_err(|e| arg_err(py, e))?;
    let p = prepared.pop().ok_or_else(|| {
        arg_err(py, Error::invalid_argument(format!("{}: no environment named {name:?}", path.display())))
    })?;
    let scheme = p.auth_scheme();
    Ok(Client {
        client: Arc::new(p.client().clone()),
        secrets: Arc::new(p.secrets().to_vec()),
        scheme,
        modes: p.config.modes,
    })
}
