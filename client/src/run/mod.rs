//! `mesbackup run`: every environment of a `mesbackup.toml`, unattended. One implementation for
//! every front end (the CLI now; Python and PowerShell later call the same [`run`]).
//!
//! Per environment, in order: `before` hooks (all must succeed, else nothing is sent for that
//! environment; the end of the last is recorded as the SQL Server backup completion in every
//! sidecar), the backups of the system's four databases (concurrently), verify, stage, retention,
//! the test restores, then `after` hooks on success or `on_error` hooks on failure. Environments run with bounded
//! concurrency and a failure in one does not stop the others. Everything that can be checked
//! without sending is checked first ([`prepare`]): credentials, CA files, the selection.

pub mod credentials;
pub mod hooks;
pub mod lock;
pub mod metrics;
pub mod ping;
pub mod storage;
pub mod test_restore;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use futures::stream::{self, StreamExt};
use mesbackup_core::mes::{backup_window, format_rfc3339_millis, BackupWindow, JobEvent, Outcome, PollPolicy};
use mesbackup_core::retention::RetentionPolicy;
use mesbackup_core::run_config::{parse_run_config, CredentialRef, EnvironmentConfig, Hooks, OnLocked, RunConfig};
use mesbackup_core::{EnvUrl, Error};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::clock::TokioClock;
use crate::driver::{ClientOptions, MesClient};
use crate::file_sink::FileSinkFactory;
use crate::folder::{self, PrunePlan, StageMode};
use crate::http::HttpConfig;
use crate::restore::TestRestoreResult;
use crate::system::backup_system;
use hooks::{run_hook, HookPhase, HookReport};
use lock::FolderLock;
use test_restore::TestRestoreTarget;

/// Exit code of `run` when a hook (or the wait_until check) failed: the scheme of the CLI's
/// command-specific codes (20 check-folder, 75 pending).
pub const EXIT_HOOK_FAILED: u8 = mesbackup_core::run_outcome::EXIT_HOOK_FAILED;
/// Exit code when another run holds an output folder and `on_locked = "exit"` (EX_TEMPFAIL: the
/// next timer run will do it).
pub const EXIT_LOCKED: u8 = 75;

/// What [`run`] tells its front end while it works.
#[derive(Debug)]
pub enum RunEvent<'a> {
    /// A backup job's event (started, pending, progress, saved, failed...).
    Job {
        /// The environment's name.
        environment: &'a str,
        /// The database the job backs up.
        database: &'a str,
        /// The core's event.
        event: &'a JobEvent,
    },
    /// A step of an environment, for people (hooks, verify, stage, retention, waiting for a lock).
    Step {
        /// The environment's name, or empty for the run as a whole.
        environment: &'a str,
        /// What happened.
        message: String,
    },
    /// Something an administrator should look at that does not fail the run (a metrics file that
    /// could not be written, a ping that did not arrive, little free space).
    Warning {
        /// The environment's name, or empty for the run as a whole.
        environment: &'a str,
        /// What happened and what to do.
        message: String,
    },
    /// Every output folder is locked: the environments start now ([`LoadedRun::execute`]).
    FoldersLocked,
}

/// A config read, checked and prepared ([`load`]): what every front end (the CLI, Python,
/// PowerShell through the CLI) runs with [`LoadedRun::execute`] or shows with [`LoadedRun::plan`].
pub struct LoadedRun {
    /// The whole config (concurrency, on_locked, every environment).
    pub config: RunConfig,
    /// The selected environments, credentials resolved.
    pub prepared: Vec<PreparedEnvironment>,
    /// The `[ping]` URL, resolved and checked.
    pub ping_url: Option<String>,
}

/// How [`LoadedRun::execute`] ended.
#[derive(Debug, Clone)]
pub enum RunOutcome {
    /// Another run holds an output folder and `on_locked = "exit"`: nothing was done. The message
    /// names the folder.
    Locked(String),
    /// The environments ran (each succeeded or failed).
    Finished(RunReport),
}

impl RunOutcome {
    /// The process exit code: [`EXIT_LOCKED`], or the report's.
    pub fn exit_code(&self) -> u8 {
        match self {
            RunOutcome::Locked(_) => EXIT_LOCKED,
            RunOutcome::Finished(r) => r.exit_code,
        }
    }
}

/// Reads the config file at `config_path`, checks it and prepares the environments `only` names (all
/// when empty): credentials resolved with `var`, CA files read. Nothing is sent or created.
pub fn load(config_path: &Path, only: &[String], var: &dyn Fn(&str) -> Option<String>) -> Result<LoadedRun, Error> {
    let config = read_config(config_path)?;
    let prepared = prepare(&config, only, var)?;
    let ping_url = config.ping.as_ref().map(|p| p.resolve(var)).transpose()?;
    Ok(LoadedRun { config, prepared, ping_url })
}

/// Reads and checks the config file at `config_path` (errors name the file, key and line).
pub fn read_config(config_path: &Path) -> Result<RunConfig, Error> {
    let text = std::fs::read_to_string(config_path).map_err(|e| {
        Error::invalid_argument(format!(
            "cannot read the config file {}: {e}; give the path of a mesbackup.toml (the CLI's --config FILE; \
             docs/config.md describes it)",
            config_path.display()
        ))
    })?;
    parse_run_config(&text, &config_path.display().to_string())
}

impl LoadedRun {
    /// Every secret the prepared credentials hold, for front ends that scrub their output.
    pub fn secrets(&self) -> Vec<String> {
        // The ping URL embeds the monitor's id: kept out of every output too.
        self.prepared.iter().flat_map(|p| p.secrets().iter().cloned()).chain(self.ping_url.clone()).collect()
    }

    /// What a dry run shows: nothing is sent or deleted.
    pub fn plan(&self) -> Result<Vec<EnvironmentPlan>, Error> {
        plan(&self.prepared)
    }

    /// The run: locks the output folders (or returns [`RunOutcome::Locked`]), pings the start,
    /// runs every environment, writes `metrics_file` when given, pings the end. A metrics file
    /// that cannot be written or a ping that fails is a [`RunEvent::Warning`] (pings also in
    /// `ping_errors`), never the run's failure.
    pub async fn execute(
        &self,
        metrics_file: Option<&Path>,
        cancel: &CancellationToken,
        on_event: &(dyn Fn(RunEvent<'_>) + Sync),
    ) -> Result<RunOutcome, Error> {
        let _locks = match lock_output_folders(&self.prepared, self.config.on_locked, on_event).await? {
            Locks::Held(locks) => locks,
            Locks::Busy(message) => return Ok(RunOutcome::Locked(message)),
        };
        on_event(RunEvent::FoldersLocked);
        let mut ping_errors = Vec::new();
        let pinger = match self.ping_url.as_deref().map(ping::Pinger::new).transpose() {
            Ok(p) => p,
            Err(e) => {
                ping_errors.push(format!("cannot set up the ping: {}", e.message));
                None
            }
        };
        if let Some(p) = &pinger {
            if let Err(m) = p.start().await {
                ping_errors.push(m);
            }
        }
        for m in &ping_errors {
            on_event(RunEvent::Warning { environment: "", message: m.clone() });
        }
        let mut report = run(&self.prepared, self.config.concurrency, cancel, on_event).await;
        if let Some(p) = &pinger {
            if let Err(m) = p.finish(&report).await {
                on_event(RunEvent::Warning { environment: "", message: m.clone() });
                ping_errors.push(m);
            }
        }
        report.ping_errors = ping_errors;
        if let Some(path) = metrics_file {
            let text = metrics::render_metrics(&report, &metrics::folder_state(&report));
            if let Err(e) = metrics::write_metrics_file(path, &text) {
                on_event(RunEvent::Warning { environment: "", message: e.message });
            }
        }
        Ok(RunOutcome::Finished(report))
    }
}

/// An environment ready to run: its config, resolved credentials inside its client.
pub struct PreparedEnvironment {
    /// The config.
    pub config: EnvironmentConfig,
    client: MesClient,
    secrets: Vec<String>,
    auth_scheme: &'static str,
    test_restore: Option<TestRestoreTarget>,
}

impl PreparedEnvironment {
    /// The secrets its credentials hold, for front ends that scrub their output.
    pub fn secrets(&self) -> &[String] {
        &self.secrets
    }

    /// How its resolved credentials authenticate: "bearer", "basic" or "none" (a keyring entry or
    /// the MES_* variables decide only when resolved).
    pub fn auth_scheme(&self) -> &'static str {
        self.auth_scheme
    }

    /// The client built from its config and resolved credentials, for front ends that run single
    /// steps themselves (the Airflow DAG's start and download tasks through Python's
    /// `Client.for_environment`).
    pub fn client(&self) -> &MesClient {
        &self.client
    }
}

/// The selected environments with credentials resolved and clients built: nothing is sent, and
/// every error (missing variable, shared token file, bad CA file, unknown `--only` name) names its
/// environment and key.
pub fn prepare(
    config: &RunConfig,
    only: &[String],
    var: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<PreparedEnvironment>, Error> {
    let mut out = Vec::new();
    for env in config.select(only)? {
        let creds = credentials::resolve_credentials(env, var)?;
        let ca_cert_pem = match &env.ca_cert {
            Some(path) => Some(std::fs::read(path).map_err(|e| {
                Error::invalid_argument(format!("environment {:?}, ca_cert: cannot read {path}: {e}", env.name))
            })?),
            None => None,
        };
        let options = ClientOptions {
            policy: env.poll.apply(PollPolicy { timeout_ms: env.timeout_ms, ..PollPolicy::default() }),
            http: HttpConfig { ca_cert_pem, connect_timeout_ms: Some(30_000) },
            allow_insecure_http: env.allow_insecure_http,
            ..ClientOptions::default()
        };
        let url = EnvUrl::parse(&env.url)
            .map_err(|e| Error::invalid_argument(format!("environment {:?}, url: {}", env.name, e.message)))?;
        let mut secrets = creds.secrets();
        let auth_scheme = creds.scheme();
        let client = MesClient::new(url, creds, options)
            .map_err(|e| Error::new(e.kind, format!("environment {:?}: {}", env.name, e.message)))?;
        let test_restore =
            env.test_restore.as_ref().map(|t| TestRestoreTarget::prepare(&env.name, t, env.modes, var)).transpose()?;
        secrets.extend(test_restore.iter().flat_map(|t| t.secrets().iter().cloned()));
        out.push(PreparedEnvironment { config: env.clone(), client, secrets, auth_scheme, test_restore });
    }
    Ok(out)
}

/// How an environment's run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum EnvironmentResult {
    /// Every step succeeded.
    Ok,
    /// A step failed; failed_step says which.
    Failed,
}

/// The steps of an environment's run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum RunStep {
    /// Preparing the output folder.
    Folder,
    /// The wait_until check did not succeed by its deadline: nothing was sent.
    WaitUntil,
    /// A before hook: nothing was sent.
    BeforeHook,
    /// A backup (start, wait, download).
    Backup,
    /// Verifying a saved package.
    Verify,
    /// Staging a package into the installer folder.
    Stage,
    /// Retention over the output folder.
    Retention,
    /// Test-restoring a new package on the `[environment.test_restore]` server.
    TestRestore,
    /// An after hook.
    AfterHook,
}

/// How one database's backup ended in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum DatabaseOutcome {
    /// Saved (and verified when verify is on). A staging failure leaves it saved, with `error` set.
    Saved,
    /// The backup or its verification failed.
    Failed,
    /// Not started: a before hook failed, or the folder could not be prepared.
    NotStarted,
}

/// One database of an environment in the run summary.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DatabaseReport {
    /// The database name (e.g. MESCDM).
    pub database: String,
    /// How its backup ended.
    pub outcome: DatabaseOutcome,
    /// The saved package's path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Lowercase hex SHA-256.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Verified after the download (null when verify is off or it was not saved).
    pub verified: Option<bool>,
    /// Where it was staged, when stage_into is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub staged_as: Option<String>,
    /// The test restore of this package, when `[environment.test_restore]` covers its database and
    /// the package was saved and sound.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_restore: Option<TestRestoreResult>,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Error>,
}

/// How the wait_until check went.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct WaitUntilReport {
    /// The program (argv[0]).
    pub program: String,
    /// It exited 0 before the deadline.
    pub ok: bool,
    /// Attempts made.
    pub attempts: u32,
    /// From the first attempt's start to the end of the last, milliseconds.
    pub duration_ms: u64,
    /// The last failed attempt's outcome, or why it stopped (deadline, cancellation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// What retention did in an environment's output folder.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RetentionReport {
    /// The policy applied.
    pub policy: RetentionPolicy,
    /// Packages (and their sidecars) deleted; on a dry run, what would be.
    pub deleted: Vec<String>,
    /// Packages left in the folder.
    pub kept: usize,
}

/// One environment in the run summary.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct EnvironmentReport {
    /// The environment's name in the config.
    pub name: String,
    /// The MES system whose four databases are backed up.
    pub system: String,
    /// The output folder.
    pub out: String,
    /// ok or failed.
    pub result: EnvironmentResult,
    /// The first step that failed.
    pub failed_step: Option<RunStep>,
    /// What went wrong first, for people.
    pub message: Option<String>,
    /// This environment's exit code: 0, an error kind's code, or 21 for a hook.
    pub exit_code: u8,
    /// The end of the before hooks, recorded in every sidecar as the SQL Server backup completion.
    pub sql_backup_finished_at: Option<String>,
    /// The range to re-run data processing over after restoring this run's packages.
    pub backup_window: Option<BackupWindow>,
    /// Each of the four databases.
    pub databases: Vec<DatabaseReport>,
    /// The hooks that ran, in order.
    pub hooks: Vec<HookReport>,
    /// The wait_until check, when configured and reached.
    pub wait_until: Option<WaitUntilReport>,
    /// Null when no retention is configured, or it was not reached.
    pub retention: Option<RetentionReport>,
    /// Wall time of this environment, milliseconds.
    pub duration_ms: u64,
}

/// The outcome of a whole run.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RunReport {
    /// Every environment succeeded.
    pub ok: bool,
    /// The worst environment's exit code (the order of `mesbackup_core::run_outcome`, documented in
    /// docs/config.md); 0 when all succeeded.
    pub exit_code: u8,
    /// When the run finished (RFC 3339).
    pub finished_at: String,
    /// Wall time, milliseconds.
    pub duration_ms: u64,
    /// In file order.
    pub environments: Vec<EnvironmentReport>,
    /// Pings to the `[ping]` monitor that failed (they never change the exit code).
    pub ping_errors: Vec<String>,
    /// Each environment's folders after the run: packages per database and free space (`low`
    /// below warn_free_below: a warning, never a failure).
    pub storage: Vec<storage::FolderStorage>,
}

/// The output folders' locks, or why the run must not start.
#[derive(Debug)]
pub enum Locks {
    /// Every folder is locked for this run until these are dropped.
    Held(Vec<FolderLock>),
    /// Another run holds a folder and `on_locked = "exit"`: the message names it.
    Busy(String),
}

/// Locks the output folder of every prepared environment (each folder once, in sorted order, so two
/// runs never hold one each and wait for the other). `on_locked` decides between waiting and
/// [`Locks::Busy`].
pub async fn lock_output_folders(
    prepared: &[PreparedEnvironment],
    on_locked: OnLocked,
    on_event: &(dyn Fn(RunEvent<'_>) + Sync),
) -> Result<Locks, Error> {
    let folders: BTreeSet<PathBuf> = prepared.iter().map(|p| PathBuf::from(&p.config.out)).collect();
    let mut locks = Vec::new();
    for folder in folders {
        crate::private_files::create_dir_all_with_mode(&folder, 0o700)
            .map_err(|e| Error::io(format!("cannot create the output folder {}: {e}", folder.display())))?;
        if let Some(lock) = lock::try_lock_folder(&folder)? {
            locks.push(lock);
            continue;
        }
        let held = folder.join(lock::LOCK_FILE_NAME);
        match on_locked {
            OnLocked::Exit => {
                return Ok(Locks::Busy(format!(
                    "another mesbackup run holds {} (its lock {}): this run stops without doing anything \
                     (on_locked = \"exit\"); the next scheduled run will back up",
                    folder.display(),
                    held.display()
                )))
            }
            OnLocked::Wait => {
                on_event(RunEvent::Warning {
                    environment: "",
                    message: format!("waiting for the mesbackup run that holds {}", held.display()),
                });
                let f = folder.clone();
                let lock = tokio::task::spawn_blocking(move || lock::lock_folder(&f))
                    .await
                    .map_err(|e| Error::new(mesbackup_core::ErrorKind::Internal, format!("lock task: {e}")))??;
                locks.push(lock);
            }
        }
    }
    Ok(Locks::Held(locks))
}

/// Runs every prepared environment (at most `concurrency` at once) and returns the summary. The
/// caller holds the folder locks ([`lock_output_folders`]).
pub async fn run(
    prepared: &[PreparedEnvironment],
    concurrency: usize,
    cancel: &CancellationToken,
    on_event: &(dyn Fn(RunEvent<'_>) + Sync),
) -> RunReport {
    let started = Instant::now();
    let hidden = credential_variables(prepared);
    let mut reports: Vec<(usize, EnvironmentReport)> = stream::iter(prepared.iter().enumerate())
        .map(|(i, p)| {
            let hidden = &hidden;
            async move { (i, run_environment(p, hidden, cancel, on_event).await) }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    reports.sort_by_key(|(i, _)| *i);
    let environments: Vec<EnvironmentReport> = reports.into_iter().map(|(_, r)| r).collect();
    let exit_code =
        mesbackup_core::run_outcome::worst_exit_code(environments.iter().map(|e| (e.exit_code, after_save(e))));
    // The storage report (reads the folders: off the async threads).
    let envs: Vec<EnvironmentConfig> = prepared.iter().map(|p| p.config.clone()).collect();
    let storage: Vec<storage::FolderStorage> =
        tokio::task::spawn_blocking(move || envs.iter().flat_map(storage::environment_storage).collect())
            .await
            .unwrap_or_default();
    for f in storage.iter().filter(|f| f.low) {
        on_event(RunEvent::Warning {
            environment: &f.environment,
            message: format!(
                "little free space in {} ({} of {} bytes free, below warn_free_below): delete old packages \
                 (retention) or grow the volume before the next run",
                f.folder,
                f.free_bytes.unwrap_or(0),
                f.total_bytes.unwrap_or(0)
            ),
        });
    }
    RunReport {
        ok: exit_code == 0,
        exit_code,
        finished_at: format_rfc3339_millis(now_ms()),
        duration_ms: elapsed_ms(started),
        environments,
        ping_errors: Vec::new(),
        storage,
    }
}

/// Whether an environment's failure came after its packages were saved and found sound: stage,
/// retention, or a test restore that could not run (the ClickHouse server, its settings). A test
/// restore that found the package unsound (integrity: a damaged file, row counts that differ) keeps
/// its own rank: the night's backup is not one to restore from.
fn after_save(e: &EnvironmentReport) -> bool {
    let integrity = u8::try_from(mesbackup_core::ErrorKind::Integrity.exit_code()).ok() == Some(e.exit_code);
    match e.failed_step {
        Some(RunStep::Stage | RunStep::Retention) => true,
        Some(RunStep::TestRestore) => !integrity,
        _ => false,
    }
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

fn elapsed_ms(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// The variables every hook gets (never credentials).
fn hook_vars(env: &EnvironmentConfig, phase: HookPhase, failure: Option<&str>) -> Vec<(&'static str, String)> {
    let mut vars = vec![
        ("MESBACKUP_ENVIRONMENT", env.name.clone()),
        ("MESBACKUP_SYSTEM", env.system.clone()),
        ("MESBACKUP_URL", env.url.clone()),
        ("MESBACKUP_OUT", env.out.clone()),
        ("MESBACKUP_HOOK", phase.key().to_owned()),
    ];
    if matches!(phase, HookPhase::After | HookPhase::OnError) {
        vars.push(("MESBACKUP_RESULT", if failure.is_some() { "failed" } else { "ok" }.to_owned()));
        if let Some(message) = failure {
            vars.push(("MESBACKUP_ERROR", message.to_owned()));
        }
    }
    vars
}

/// The first failure of an environment, which decides its result and exit code.
struct Failure {
    step: RunStep,
    message: String,
    exit_code: u8,
}

fn exit_code_of(e: &Error) -> u8 {
    u8::try_from(e.kind.exit_code()).unwrap_or(1)
}

/// The variables that hold MES (and ClickHouse) credentials, for any environment of the run: none
/// reaches a hook.
fn credential_variables(prepared: &[PreparedEnvironment]) -> Vec<String> {
    let mut names: Vec<String> = ["MES_TOKEN", "MES_USER", "MES_PAT"].map(String::from).to_vec();
    for p in prepared {
        match &p.config.credentials {
            CredentialRef::TokenEnv(name) => names.push(name.clone()),
            CredentialRef::UserPat { user_env, pat_env } => names.extend([user_env.clone(), pat_env.clone()]),
            CredentialRef::TokenFile(_)
            | CredentialRef::Keyring { .. }
            | CredentialRef::None
            | CredentialRef::MesVariables => {}
        }
        // ClickHouse's password (test restores) is a credential too.
        names.extend(p.config.test_restore.iter().map(|t| t.password_env.clone()));
    }
    names.sort();
    names.dedup();
    names
}

async fn run_environment(
    prepared: &PreparedEnvironment,
    hidden: &[String],
    cancel: &CancellationToken,
    on_event: &(dyn Fn(RunEvent<'_>) + Sync),
) -> EnvironmentReport {
    let started = Instant::now();
    let env = &prepared.config;
    let step = |message: String| on_event(RunEvent::Step { environment: &env.name, message });
    let out = PathBuf::from(&env.out);
    let mut failure: Option<Failure> = None;
    let mut hook_reports = Vec::new();
    let mut sql_backup_finished_at = None;
    let databases = env.databases().unwrap_or_default();
    let mut db_reports: Vec<DatabaseReport> = databases
        .iter()
        .map(|(_, db, _)| DatabaseReport {
            database: db.clone(),
            outcome: DatabaseOutcome::NotStarted,
            file: None,
            size: None,
            sha256: None,
            verified: None,
            staged_as: None,
            test_restore: None,
            error: None,
        })
        .collect();

    match folder::prepare_output_folder(&out, env.modes) {
        Ok(stale) => {
            for p in stale {
                step(format!("warning: {}", p.message()));
            }
        }
        Err(e) => {
            failure = Some(Failure { step: RunStep::Folder, message: e.message.clone(), exit_code: exit_code_of(&e) })
        }
    }

    // The wait_until check (the Work Queue Lag is 0), retried until its deadline; before the SQL
    // Server backups, and nothing is sent until it succeeds.
    let mut wait_report = None;
    if let (None, Some(wait)) = (&failure, &env.wait_until) {
        let r = wait_until(env, wait, hidden, cancel, &step).await;
        if !r.ok {
            let message = r.message.clone().unwrap_or_default();
            step(format!("{message}: no backup is started for this environment"));
            let exit_code = if cancel.is_cancelled() {
                exit_code_of(&Error::new(mesbackup_core::ErrorKind::Cancelled, ""))
            } else {
                EXIT_HOOK_FAILED
            };
            failure = Some(Failure { step: RunStep::WaitUntil, message, exit_code });
        }
        wait_report = Some(r);
    }

    // Before hooks: the SQL Server backups. All must succeed before anything is sent.
    if failure.is_none() {
        for argv in &env.hooks.before {
            step(format!("before hook {:?} running", argv[0]));
            let r = run_hook(
                HookPhase::Before,
                argv,
                &hook_vars(env, HookPhase::Before, None),
                hidden,
                env.hooks.timeout_ms,
                cancel,
            )
            .await;
            let failed = r.message.clone().filter(|_| !r.ok);
            hook_reports.push(r);
            if let Some(message) = failed {
                step(format!("{message}: no backup is started for this environment"));
                // A hook stopped by a cancellation is the cancellation's outcome (130), not a hook's.
                let exit_code = if cancel.is_cancelled() {
                    exit_code_of(&Error::new(mesbackup_core::ErrorKind::Cancelled, ""))
                } else {
                    EXIT_HOOK_FAILED
                };
                failure = Some(Failure { step: RunStep::BeforeHook, message, exit_code });
                break;
            }
        }
        if failure.is_none() && !env.hooks.before.is_empty() {
            let at = format_rfc3339_millis(now_ms());
            step(format!("before hooks done at {at} (recorded as the SQL Server backup completion)"));
            sql_backup_finished_at = Some(at);
        }
    }

    // The backups, the four databases at once.
    let mut saved: Vec<(usize, PathBuf)> = Vec::new();
    if failure.is_none() {
        let sinks = FileSinkFactory::new(&out).with_modes(env.modes);
        let customise = |db: &str, spec: &mut mesbackup_core::JobSpec| {
            spec.file_name = databases.iter().find(|(_, d, _)| d == db).and_then(|(_, _, name)| name.clone());
            // A nightly run replaces the previous night's installer-named package.
            spec.overwrite = env.version.is_some();
            spec.sql_backup_finished_at = sql_backup_finished_at.clone();
        };
        let on_job =
            |db: &str, e: &JobEvent| on_event(RunEvent::Job { environment: &env.name, database: db, event: e });
        match backup_system(&prepared.client, &env.system, &sinks, &TokioClock, cancel, customise, &on_job).await {
            Ok(outcomes) => {
                for (db, outcome) in outcomes {
                    let Some(i) = db_reports.iter().position(|r| r.database == db) else { continue };
                    match outcome {
                        Outcome::Saved(p) => {
                            let path = out.join(&p.file_name);
                            let r = &mut db_reports[i];
                            r.outcome = DatabaseOutcome::Saved;
                            r.file = Some(path.display().to_string());
                            r.size = Some(p.size);
                            r.sha256 = Some(p.sha256.clone());
                            saved.push((i, path));
                        }
                        Outcome::Failed(e) => {
                            if failure.is_none() {
                                failure = Some(Failure {
                                    step: RunStep::Backup,
                                    message: format!("{db}: {}", e.message),
                                    exit_code: exit_code_of(&e),
                                });
                            }
                            db_reports[i].outcome = DatabaseOutcome::Failed;
                            db_reports[i].error = Some(e);
                        }
                        other => {
                            let e = Error::new(
                                mesbackup_core::ErrorKind::Internal,
                                format!("{db}: unexpected outcome of a backup: {other:?}"),
                            );
                            failure.get_or_insert(Failure {
                                step: RunStep::Backup,
                                message: e.message.clone(),
                                exit_code: 1,
                            });
                            db_reports[i].outcome = DatabaseOutcome::Failed;
                            db_reports[i].error = Some(e);
                        }
                    }
                }
            }
            Err(e) => {
                failure =
                    Some(Failure { step: RunStep::Backup, message: e.message.clone(), exit_code: exit_code_of(&e) })
            }
        }
    }

    // Verify each saved package (CPU and disk: off the async threads, so other environments go on).
    if env.verify {
        for (i, path) in &saved {
            let p = path.clone();
            let result = tokio::task::spawn_blocking(move || {
                crate::verify_file::verify_file(&p, &mut |_| {}, &mut |_| {})
                    .and_then(|v| v.failure(&p).map_or(Ok(()), Err))
            })
            .await
            .unwrap_or_else(|e| Err(Error::new(mesbackup_core::ErrorKind::Internal, format!("verify task: {e}"))));
            let r = &mut db_reports[*i];
            match result {
                Ok(()) => r.verified = Some(true),
                Err(e) => {
                    step(format!("{}: verification failed: {}", r.database, e.message));
                    failure.get_or_insert(Failure {
                        step: RunStep::Verify,
                        message: e.message.clone(),
                        exit_code: exit_code_of(&e),
                    });
                    r.verified = Some(false);
                    r.outcome = DatabaseOutcome::Failed;
                    r.error = Some(e);
                }
            }
        }
    }

    // Stage the sound packages under the installer's names.
    if let (Some(into), Some(version)) = (&env.stage_into, &env.version) {
        for (i, path) in &saved {
            if db_reports[*i].outcome != DatabaseOutcome::Saved {
                continue;
            }
            let staged = folder::stage_package(
                path,
                Path::new(into),
                &env.system,
                version,
                !env.generic_names,
                StageMode::Copy,
                true,
                env.modes,
            );
            match staged {
                Ok(s) => db_reports[*i].staged_as = Some(s.target.display().to_string()),
                Err(e) => {
                    // The package itself is saved and sound: it stays "saved" (and counts for
                    // retention); the environment fails at the stage step.
                    failure.get_or_insert(Failure {
                        step: RunStep::Stage,
                        message: format!("{}: {}", db_reports[*i].database, e.message),
                        exit_code: exit_code_of(&e),
                    });
                    db_reports[*i].error = Some(e);
                }
            }
        }
    }

    // Retention: only when the backups ran (a failed before hook or folder leaves the folder alone),
    // and never for a database whose backup failed tonight.
    let mut retention = None;
    let backups_ran = db_reports.iter().any(|r| r.outcome != DatabaseOutcome::NotStarted);
    if let (Some(policy), true) = (&env.retention, backups_ran) {
        let failed: Vec<String> =
            db_reports.iter().filter(|r| r.outcome != DatabaseOutcome::Saved).map(|r| r.database.clone()).collect();
        let backup_failed = |db: Option<&str>| db.is_none_or(|d| failed.iter().any(|f| f == d));
        match folder::plan_retention_in(&out, policy, &backup_failed).and_then(|plan| apply_retention(&plan)) {
            Ok(r) => {
                if !r.deleted.is_empty() {
                    step(format!("retention deleted {} file(s)", r.deleted.len()));
                }
                retention = Some(r);
            }
            Err(e) => {
                failure.get_or_insert(Failure {
                    step: RunStep::Retention,
                    message: e.message.clone(),
                    exit_code: exit_code_of(&e),
                });
            }
        }
    }

    // Test restores: each saved, sound package of the databases named, one after another (each is a
    // RESTORE on the same server; a failure does not stop the others).
    if let Some(target) = &prepared.test_restore {
        for (i, path) in &saved {
            let r = &db_reports[*i];
            let kind = databases.iter().find(|(_, d, _)| *d == r.database).map(|(k, _, _)| *k);
            if r.outcome != DatabaseOutcome::Saved || !kind.is_some_and(|k| target.covers(k)) || cancel.is_cancelled() {
                continue;
            }
            step(format!("{}: test restore on {}", r.database, target.url()));
            let result = target.test(path, cancel).await;
            let r = &mut db_reports[*i];
            match &result.error {
                None => step(format!(
                    "{}: test restore OK: {} table(s), {} row(s) match the package in {} (dropped)",
                    r.database,
                    result.tables_checked.unwrap_or(0),
                    result.rows_checked.unwrap_or(0),
                    result.target_database.as_deref().unwrap_or("?"),
                )),
                Some(e) => {
                    step(format!("{}: test restore failed: {}", r.database, e.message));
                    failure.get_or_insert(Failure {
                        step: RunStep::TestRestore,
                        message: format!("{}: test restore: {}", r.database, e.message),
                        exit_code: exit_code_of(e),
                    });
                }
            }
            r.test_restore = Some(result);
        }
    }

    // After hooks on success, on_error hooks on failure.
    let after_phase = if failure.is_none() { HookPhase::After } else { HookPhase::OnError };
    let commands = if failure.is_none() { &env.hooks.after } else { &env.hooks.on_error };
    for argv in commands {
        let failure_message = failure.as_ref().map(|f| f.message.as_str());
        // on_error hooks run even after a cancellation (they report it); a fresh token lets them.
        let hook_cancel = if after_phase == HookPhase::OnError { CancellationToken::new() } else { cancel.clone() };
        let r = run_hook(
            after_phase,
            argv,
            &hook_vars(env, after_phase, failure_message),
            hidden,
            env.hooks.timeout_ms,
            &hook_cancel,
        )
        .await;
        if !r.ok {
            let message = r.message.clone().unwrap_or_default();
            step(message.clone());
            if after_phase == HookPhase::After {
                failure.get_or_insert(Failure { step: RunStep::AfterHook, message, exit_code: EXIT_HOOK_FAILED });
            }
        }
        hook_reports.push(r);
    }

    let sidecars: Vec<_> = saved.iter().filter_map(|(_, p)| folder::read_sidecar(p).ok().flatten()).collect();
    EnvironmentReport {
        name: env.name.clone(),
        system: env.system.clone(),
        out: env.out.clone(),
        result: if failure.is_none() { EnvironmentResult::Ok } else { EnvironmentResult::Failed },
        failed_step: failure.as_ref().map(|f| f.step),
        message: failure.as_ref().map(|f| f.message.clone()),
        exit_code: failure.as_ref().map_or(0, |f| f.exit_code),
        sql_backup_finished_at,
        backup_window: backup_window(&sidecars),
        databases: db_reports,
        hooks: hook_reports,
        wait_until: wait_report,
        retention,
        duration_ms: elapsed_ms(started),
    }
}

/// Runs the check until it exits 0 (a Step event per attempt), or until its deadline or a
/// cancellation. Each attempt is a hook run (same environment, same hidden credentials,
/// MESBACKUP_HOOK=wait_until), stopped at the attempt timeout or the deadline, whichever is first.
async fn wait_until(
    env: &EnvironmentConfig,
    wait: &mesbackup_core::run_config::WaitUntil,
    hidden: &[String],
    cancel: &CancellationToken,
    step: &dyn Fn(String),
) -> WaitUntilReport {
    let started = Instant::now();
    let deadline = started + std::time::Duration::from_millis(wait.deadline_ms);
    let program = wait.command[0].clone();
    let mut attempts = 0;
    let vars = hook_vars(env, HookPhase::WaitUntil, None);
    let report = |ok: bool, attempts: u32, message: Option<String>| WaitUntilReport {
        program: program.clone(),
        ok,
        attempts,
        duration_ms: elapsed_ms(started),
        message,
    };
    loop {
        attempts += 1;
        let left = deadline.saturating_duration_since(Instant::now());
        let left_ms = u64::try_from(left.as_millis()).unwrap_or(u64::MAX).max(1);
        let timeout_ms = wait.timeout_ms.map_or(left_ms, |t| t.min(left_ms));
        let r = run_hook(HookPhase::WaitUntil, &wait.command, &vars, hidden, timeout_ms, cancel).await;
        if r.ok {
            step(format!("wait_until {program:?} succeeded at attempt {attempts}"));
            return report(true, attempts, None);
        }
        let why = r.message.unwrap_or_default();
        if cancel.is_cancelled() {
            return report(false, attempts, Some(why));
        }
        let next = Instant::now() + std::time::Duration::from_millis(wait.interval_ms);
        if next >= deadline {
            return report(
                false,
                attempts,
                Some(format!(
                    "wait_until {program:?} did not succeed within its deadline ({} ms, {attempts} attempt(s); \
                     last: {why})",
                    wait.deadline_ms
                )),
            );
        }
        step(format!("wait_until attempt {attempts}: {why}; next in {} ms", wait.interval_ms));
        tokio::select! {
            () = tokio::time::sleep(std::time::Duration::from_millis(wait.interval_ms)) => {}
            () = cancel.cancelled() => {
                return report(false, attempts, Some(format!("wait_until {program:?} was stopped: the run was cancelled")));
            }
        }
    }
}

fn apply_retention(plan: &PrunePlan) -> Result<RetentionReport, Error> {
    let deleted = folder::execute_prune(plan)?;
    Ok(RetentionReport {
        policy: plan.policy,
        deleted: deleted.iter().map(|p| p.display().to_string()).collect(),
        kept: plan.entries.iter().filter(|e| e.keep).count(),
    })
}

/// What `run --dry-run` shows for one environment: nothing is sent, nothing deleted.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct EnvironmentPlan {
    /// The environment's name in the config.
    pub name: String,
    /// The MES address.
    pub url: String,
    /// The MES system whose four databases are backed up.
    pub system: String,
    /// The output folder.
    pub out: String,
    /// The installer's custom packages folder, when staging.
    pub stage_into: Option<String>,
    /// Each database and the file name it would be saved under (null: the server's name).
    pub databases: Vec<PlannedDatabase>,
    /// The hooks it would run.
    pub hooks: Hooks,
    /// The check it would wait for before the before hooks.
    pub wait_until: Option<mesbackup_core::run_config::WaitUntil>,
    /// Packages are verified after the download.
    pub verify: bool,
    /// Where and which new packages would be test-restored; null without `[environment.test_restore]`.
    pub test_restore: Option<mesbackup_core::run_config::TestRestoreConfig>,
    /// Retention over the folder as it is now (tonight's packages come on top); null without a
    /// retention policy.
    pub retention: Option<PrunePlan>,
}

/// A database `run` would back up.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PlannedDatabase {
    /// The database name (e.g. MESCDM).
    pub database: String,
    /// The file name it would be saved under (null: the server's name).
    pub file_name: Option<String>,
}

/// The plan of a run: what each environment would do. Reads the output folders (for retention),
/// sends nothing.
pub fn plan(prepared: &[PreparedEnvironment]) -> Result<Vec<EnvironmentPlan>, Error> {
    prepared
        .iter()
        .map(|p| {
            let env = &p.config;
            let databases = env
                .databases()?
                .into_iter()
                .map(|(_, database, file_name)| PlannedDatabase { database, file_name })
                .collect();
            let retention = match &env.retention {
                Some(policy) if Path::new(&env.out).is_dir() => {
                    Some(folder::plan_retention_in(Path::new(&env.out), policy, &|_| false)?)
                }
                Some(policy) => {
                    Some(PrunePlan { keep: policy.keep_last as usize, policy: *policy, entries: Vec::new() })
                }
                None => None,
            };
            Ok(EnvironmentPlan {
                name: env.name.clone(),
                url: env.url.clone(),
                system: env.system.clone(),
                out: env.out.clone(),
                stage_into: env.stage_into.clone(),
                databases,
                hooks: env.hooks.clone(),
                wait_until: env.wait_until.clone(),
                verify: env.verify,
                test_restore: env.test_restore.clone(),
                retention,
            })
        })
        .collect()
}
