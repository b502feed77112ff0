//! Helpers shared by the CLI's integration tests: run the real binary, read its NDJSON, measure its
//! peak memory, validate events against cli/events.schema.json.
#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_mesbackup");

/// The program the tests run: this build's binary, or `MESBACKUP_CLI` when set (e.g. the cross-built
/// `mesbackup.exe`), started through `MESBACKUP_LAUNCHER` when set (e.g. `wine`), so the same
/// scenarios prove a binary built for another platform.
pub fn program() -> (Option<String>, String) {
    let launcher = std::env::var("MESBACKUP_LAUNCHER").ok().filter(|l| !l.is_empty());
    let bin = std::env::var("MESBACKUP_CLI").ok().filter(|b| !b.is_empty()).unwrap_or_else(|| BIN.to_owned());
    (launcher, bin)
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub events: Vec<serde_json::Value>,
    /// Peak resident memory of the child, KiB (from wait4's rusage).
    pub max_rss_kib: u64,
}

/// A command for the binary with no MES_* variables inherited.
pub fn command() -> Command {
    let (launcher, bin) = program();
    let mut c = match launcher {
        Some(launcher) => {
            let mut c = Command::new(launcher);
            c.arg(bin);
            c
        }
        None => Command::new(bin),
    };
    for (k, _) in std::env::vars() {
        if k.starts_with("MES_") {
            c.env_remove(k);
        }
    }
    c.env("NO_COLOR", "1").stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    c
}

/// Runs to completion, reaping the child with wait4 to get its peak RSS.
pub fn run(mut cmd: Command) -> Run {
    let json = cmd.get_args().any(|a| a == "--json");
    // Reaped below by wait4 (for its peak RSS), which clippy cannot see.
    #[allow(clippy::zombie_processes)]
    let mut child = cmd.spawn().expect("spawn mesbackup");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let (code, max_rss_kib) = wait4(child.id() as libc::pid_t);
    let stdout = t_out.join().unwrap();
    let stderr = t_err.join().unwrap();
    let events = if json { parse_events(&stdout) } else { Vec::new() };
    Run { code, stdout, stderr, events, max_rss_kib }
}

pub fn wait4(pid: libc::pid_t) -> (i32, u64) {
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain old data; wait4 fills it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            break;
        }
        if r == -1 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
            continue;
        }
        panic!("wait4 failed: {}", std::io::Error::last_os_error());
    }
    let code = if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { 128 + libc::WTERMSIG(status) };
    (code, usage.ru_maxrss as u64)
}

/// Every stdout line must be a JSON object with an "event" field.
pub fn parse_events(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("--json line is not JSON ({e}): {l}"));
            assert!(v.get("event").and_then(|e| e.as_str()).is_some(), "no \"event\" field: {l}");
            v
        })
        .collect()
}

pub fn schema_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("events.schema.json")
}

/// Validates events against the published schema with Python's `jsonschema` (the interpreter is
/// `MESBACKUP_PYTHON`, set by scripts/suites/20-cli.sh to a venv that has it, else `python3`).
pub fn validate_events(events: &[serde_json::Value]) -> Result<(), String> {
    if events.is_empty() {
        return Ok(());
    }
    let python = std::env::var("MESBACKUP_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/validate_events.py");
    let mut child = Command::new(&python)
        .arg(&script)
        .arg(schema_path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {python} to validate the JSON events: {e}"))?;
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        for e in events {
            writeln!(stdin, "{e}").unwrap();
        }
    }
    let out = child.wait_with_output().unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "events do not validate against cli/events.schema.json (python: {python}; run scripts/suites/20-cli.sh, which \
             installs jsonschema):\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Fails if any of `secrets` appears in the run's output.
pub fn assert_no_secret(run: &Run, secrets: &[&str]) -> Result<(), String> {
    for s in secrets {
        if run.stdout.contains(s) || run.stderr.contains(s) {
            return Err(format!(
                "secret {s:?} leaked into the output:\nstdout: {}\nstderr: {}",
                run.stdout, run.stderr
            ));
        }
    }
    Ok(())
}

// ---- running the binary against the mock, watching it, stopping it ------------------------------

/// A mock MES on loopback, serving `server` (a scenario's `server` object).
pub fn mock(server: serde_json::Value) -> mock_mes::MockMes {
    let m = mock_mes::MockMes::start_in_background("127.0.0.1:0".parse().unwrap());
    m.set_scenario(server).unwrap();
    m
}

/// Polls fast, so that tests do not wait for the production delays.
pub fn fast(cmd: &mut Command) {
    cmd.args(["--min-poll-delay", "10ms", "--retry-delay", "10ms", "--max-poll-delay", "100ms"]);
}

/// A mock whose every download takes about 5 s (2 MB in 8 KiB pieces, 20 ms apart).
pub fn dripping_mock() -> mock_mes::MockMes {
    mock(serde_json::json!({
        "payload": {"size": 2_000_000, "seed": 5},
        "download": {"drip": {"chunk": 8192, "interval_ms": 20}, "every": true}
    }))
}

/// The entries of `dir`, sorted.
pub fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

/// Runs the child under `mask` as its umask (set between fork and exec).
pub fn with_umask(cmd: &mut Command, mask: libc::mode_t) {
    use std::os::unix::process::CommandExt;
    // SAFETY: umask is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            libc::umask(mask);
            Ok(())
        });
    }
}

/// Permission bits of `path` (not following a link).
pub fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
}

/// Spawns the command and returns the child plus its stdout parsed line by line as JSON.
pub fn spawn_json(mut c: Command) -> (std::process::Child, std::sync::mpsc::Receiver<serde_json::Value>) {
    use std::io::BufRead;
    let mut child = c.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
                if tx.send(v).is_err() {
                    break;
                }
            }
        }
    });
    (child, rx)
}

/// Waits (at most 60 s) for an event named `name`, collecting everything seen.
pub fn wait_for_event(
    rx: &std::sync::mpsc::Receiver<serde_json::Value>,
    name: &str,
    seen: &mut Vec<serde_json::Value>,
) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::time::Instant::now() < deadline {
        if let Ok(v) = rx.recv_timeout(std::time::Duration::from_millis(100)) {
            let hit = v["event"] == name;
            seen.push(v);
            if hit {
                return;
            }
        }
    }
    panic!("no {name} event within 60 s: {seen:?}");
}

/// Reaps the child and collects the rest of its events: (exit code, every event).
pub fn finish_json(
    child: std::process::Child,
    rx: std::sync::mpsc::Receiver<serde_json::Value>,
    mut seen: Vec<serde_json::Value>,
) -> (i32, Vec<serde_json::Value>) {
    let (code, _) = wait4(child.id() as libc::pid_t);
    while let Ok(v) = rx.recv_timeout(std::time::Duration::from_secs(5)) {
        seen.push(v);
    }
    (code, seen)
}

/// Sends `sig` to the child.
pub fn send_signal(child: &std::process::Child, sig: libc::c_int) {
    // SAFETY: sending a signal to our own child.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, sig) }, 0);
}
