//! SIGTERM and SIGHUP (systemd stop, `timeout`, Kubernetes, a closed session) stop a run the way
//! Ctrl-C does: the job is cancelled, the partial file removed, the GUID printed (with the command to
//! resume while the backup is still being prepared; mid-download the one-shot file is gone and the
//! message says so), exit code 130.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{
    command, dripping_mock, fast, finish_json, mock, names, send_signal, spawn_json, validate_events, wait_for_event,
};
use serde_json::json;

const GUID_1: &str = "00000000-0000-4000-8000-000000000001";

/// Backs up MESCDM with --json into a fresh folder, sends `signals` once the job reached `event`,
/// and checks the cancelled ending: exit 130, the GUID and the resume command, an empty folder.
fn stopped_with_json(m: &mock_mes::MockMes, event: &str, signals: &[libc::c_int]) {
    let out = tempfile::tempdir().unwrap();
    let mut c = command();
    c.args(["backup", "MESCDM", "--json", "--env", &m.base_url()]).arg("--out").arg(out.path());
    c.env("MES_TOKEN", "admin-token");
    fast(&mut c);
    let (child, rx) = spawn_json(c);
    let mut seen = Vec::new();
    wait_for_event(&rx, event, &mut seen);
    if event == "progress" {
        assert!(names(out.path()).iter().any(|n| n.ends_with(".mesbackup-partial")), "{:?}", names(out.path()));
    }
    let sent = Instant::now();
    for &s in signals {
        send_signal(&child, s);
    }
    let (code, seen) = finish_json(child, rx, seen);
    assert_eq!(code, 130, "signals {signals:?} at {event}: {seen:?}");
    assert!(sent.elapsed() < Duration::from_secs(5), "took {:?} to stop", sent.elapsed());
    validate_events(&seen).unwrap();
    assert!(names(out.path()).is_empty(), "left behind: {:?}", names(out.path()));
    if signals.len() == 1 {
        let failed =
            seen.iter().find(|e| e["event"] == "failed").unwrap_or_else(|| panic!("no failed event: {seen:?}"));
        assert_eq!(failed["error"]["kind"], "cancelled");
        assert_eq!(failed["error"]["guid"], GUID_1);
        let message = failed["error"]["message"].as_str().unwrap();
        let next_step =
            if event == "pending" { format!("mesbackup download {GUID_1}") } else { "start a new backup".into() };
        assert!(message.contains(&next_step), "{failed}");
    } else {
        // Quit at once: the GUID was already told when the backup started.
        let started =
            seen.iter().find(|e| e["event"] == "started").unwrap_or_else(|| panic!("no started event: {seen:?}"));
        assert_eq!(started["guid"], GUID_1);
    }
}

#[test]
fn sigterm_mid_download_removes_the_partial_and_prints_the_guid() {
    stopped_with_json(&dripping_mock(), "progress", &[libc::SIGTERM]);
}

#[test]
fn sighup_mid_download_removes_the_partial_and_prints_the_guid() {
    stopped_with_json(&dripping_mock(), "progress", &[libc::SIGHUP]);
}

#[test]
fn sigterm_while_waiting_prints_the_guid() {
    stopped_with_json(&mock(json!({"pending_ms": 120_000})), "pending", &[libc::SIGTERM]);
}

#[test]
fn a_second_signal_quits_at_once_and_still_leaves_nothing() {
    stopped_with_json(&dripping_mock(), "progress", &[libc::SIGTERM, libc::SIGHUP]);
}

#[test]
fn sighup_ignored_at_start_stays_ignored_as_nohup_promises() {
    use std::os::unix::process::CommandExt;
    let m = mock(
        json!({"payload": {"size": 400_000, "seed": 5}, "download": {"drip": {"chunk": 8192, "interval_ms": 20}}}),
    );
    let out = tempfile::tempdir().unwrap();
    let mut c = command();
    c.args(["backup", "MESCDM", "--json", "--env", &m.base_url()]).arg("--out").arg(out.path());
    c.env("MES_TOKEN", "admin-token");
    fast(&mut c);
    // SAFETY: signal() is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        c.pre_exec(|| {
            libc::signal(libc::SIGHUP, libc::SIG_IGN);
            Ok(())
        });
    }
    let (child, rx) = spawn_json(c);
    let mut seen = Vec::new();
    wait_for_event(&rx, "progress", &mut seen);
    send_signal(&child, libc::SIGHUP);
    let (code, seen) = finish_json(child, rx, seen);
    assert_eq!(code, 0, "{seen:?}");
    assert_eq!(names(out.path()), vec!["MESCDM.zip", "MESCDM.zip.mesbackup.json"]);
}

#[test]
fn sigint_ignored_at_start_still_stops_the_run() {
    // A script's background job starts with SIGINT ignored; `kill -INT` must still stop it cleanly.
    use std::os::unix::process::CommandExt;
    let m = mock(json!({"pending_ms": 120_000}));
    let out = tempfile::tempdir().unwrap();
    let mut c = command();
    c.args(["backup", "MESCDM", "--json", "--env", &m.base_url()]).arg("--out").arg(out.path());
    c.env("MES_TOKEN", "admin-token");
    fast(&mut c);
    // SAFETY: signal() is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        c.pre_exec(|| {
            libc::signal(libc::SIGINT, libc::SIG_IGN);
            Ok(())
        });
    }
    let (child, rx) = spawn_json(c);
    let mut seen = Vec::new();
    wait_for_event(&rx, "pending", &mut seen);
    send_signal(&child, libc::SIGINT);
    let (code, seen) = finish_json(child, rx, seen);
    assert_eq!(code, 130, "{seen:?}");
    assert!(seen.iter().any(|e| e["event"] == "failed" && e["error"]["guid"] == GUID_1), "{seen:?}");
}

#[test]
fn sigterm_human_output_names_the_guid() {
    let m = dripping_mock();
    let out = tempfile::tempdir().unwrap();
    let mut c = command();
    c.args(["backup", "MESCDM", "--no-progress", "--env", &m.base_url()]).arg("--out").arg(out.path());
    c.env("MES_TOKEN", "admin-token").stderr(Stdio::piped());
    fast(&mut c);
    let child = c.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !names(out.path()).iter().any(|n| n.ends_with(".mesbackup-partial")) {
        assert!(Instant::now() < deadline, "the download never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    send_signal(&child, libc::SIGTERM);
    let done = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert_eq!(done.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("SIGTERM: cancelling"), "{stderr}");
    assert!(stderr.contains(GUID_1) && stderr.contains("start a new backup"), "{stderr}");
    assert!(names(out.path()).is_empty(), "{:?}", names(out.path()));
}
