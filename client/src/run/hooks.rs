//! Hook commands: run as argv (no shell unless the command is one), with a timeout, their output on
//! our stderr (stdout may be the `--json` event stream). They get the environment's name, folder and
//! phase in `MESBACKUP_*` variables, never credentials: the variables that hold MES credentials (the
//! ones the config names, and MES_TOKEN / MES_USER / MES_PAT) are removed from a hook's environment,
//! so a SQL Server script or a notifier never sees an MES token.

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio_util::sync::CancellationToken;

/// When a hook runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum HookPhase {
    /// Before the backups; must succeed.
    Before,
    /// After every step succeeded.
    After,
    /// After a step failed.
    OnError,
    /// One attempt of the `wait_until` check (before the `before` hooks).
    WaitUntil,
}

impl HookPhase {
    /// The config key (`before`, `after`, `on_error`).
    pub fn key(self) -> &'static str {
        match self {
            HookPhase::Before => "before",
            HookPhase::After => "after",
            HookPhase::OnError => "on_error",
            HookPhase::WaitUntil => "wait_until",
        }
    }
}

/// How one hook command ended.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct HookReport {
    /// before, after, on_error (or wait_until).
    pub phase: HookPhase,
    /// The program (argv[0]); its arguments are not repeated here.
    pub program: String,
    /// Exited with status 0.
    pub ok: bool,
    /// The exit status, when it exited (not when it could not start or was stopped).
    pub exit_code: Option<i32>,
    /// How long it ran, milliseconds.
    pub duration_ms: u64,
    /// Why it failed, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Runs `argv` with `vars` added to the environment, killing it after `timeout_ms` or when `cancel`
/// fires (Ctrl-C, SIGTERM: a stopped run must not leave a SQL Server backup script behind).
pub async fn run_hook(
    phase: HookPhase,
    argv: &[String],
    vars: &[(&str, String)],
    hidden: &[String],
    timeout_ms: u64,
    cancel: &CancellationToken,
) -> HookReport {
    let started = Instant::now();
    let program = argv.first().cloned().unwrap_or_default();
    let report = |ok: bool, exit_code: Option<i32>, message: Option<String>| HookReport {
        phase,
        program: program.clone(),
        ok,
        exit_code,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        message,
    };
    let mut command = tokio::process::Command::new(&program);
    command.args(&argv[1..]).stdin(Stdio::null()).stdout(Stdio::from(std::io::stderr())).kill_on_drop(true);
    for name in hidden {
        command.env_remove(name);
    }
    // Its own process group, so that stopping it stops what it started too (a script's `sqlcmd`, a
    // backgrounded job), not only the shell.
    #[cfg(unix)]
    command.process_group(0);
    for (k, v) in vars {
        command.env(k, v);
    }
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => return report(false, None, Some(format!("{} hook {program:?} could not start: {e}", phase.key()))),
    };
    let waited = tokio::select! {
        waited = tokio::time::timeout(Duration::from_millis(timeout_ms), child.wait()) => waited,
        () = cancel.cancelled() => {
            kill_group(&child);
            let _ = child.kill().await;
            return report(false, None, Some(format!("{} hook {program:?} was stopped: the run was cancelled", phase.key())));
        }
    };
    match waited {
        Ok(Ok(status)) if status.success() => report(true, status.code(), None),
        Ok(Ok(status)) => {
            let how = match status.code() {
                Some(code) => format!("exited with status {code}"),
                None => "was killed by a signal".to_owned(),
            };
            report(false, status.code(), Some(format!("{} hook {program:?} {how}", phase.key())))
        }
        Ok(Err(e)) => report(false, None, Some(format!("{} hook {program:?}: {e}", phase.key()))),
        Err(_) => {
            kill_group(&child);
            let _ = child.kill().await;
            report(
                false,
                None,
                Some(format!("{} hook {program:?} was stopped after the hooks timeout ({timeout_ms} ms)", phase.key())),
            )
        }
    }
}

/// Kills the hook's whole process group (it leads its own: see `process_group(0)`).
#[cfg(unix)]
fn kill_group(child: &tokio::process::Child) {
    if let Some(pid) = child.id().and_then(|p| i32::try_from(p).ok()) {
        // SAFETY: a signal to the process group this child leads; nothing else is in it.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
}

#[cfg(not(unix))]
fn kill_group(_child: &tokio::process::Child) {}
