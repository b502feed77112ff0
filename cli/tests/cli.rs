//! Behaviour of the binary beyond the scenario files: secrets, folder commands, Ctrl-C and kill -9,
//! the demo, help and completions. Every `--json` output is validated against the schema.

mod common;

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use common::{assert_no_secret, command, run, validate_events, Run};
use mock_mes::MockMes;
use serde_json::json;

const TOKEN: &str = "tok-SECRET-4f1c9a7e";
const PAT: &str = "pat-SECRET-b83d2e61";

fn mock(server: serde_json::Value) -> MockMes {
    let m = MockMes::start_in_background("127.0.0.1:0".parse().unwrap());
    m.set_scenario(server).unwrap();
    m
}

fn fast(cmd: &mut Command) {
    cmd.args(["--min-poll-delay", "10ms", "--retry-delay", "10ms", "--max-poll-delay", "100ms"]);
}

fn json_ok(r: &Run) {
    validate_events(&r.events).unwrap();
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

#[test]
fn secrets_never_appear_in_any_output() {
    let m = mock(json!({}));
    let out = tempfile::tempdir().unwrap();
    let basic_b64 = "YWRtaW46cGF0LVNFQ1JFVC1iODNkMmU2MQ"; // base64("admin:pat-SECRET-b83d2e61") prefix
    let secrets = [TOKEN, PAT, basic_b64];
    let mut cases: Vec<(&str, Command, i32)> = Vec::new();

    // 401 with an unknown bearer token, JSON and human.
    for json in [true, false] {
        let mut c = command();
        c.args(["backup", "MESCDM", "--env", &m.base_url()]).arg("--out").arg(out.path()).env("MES_TOKEN", TOKEN);
        if json {
            c.arg("--json");
        }
        cases.push(("401 bearer", c, 3));
    }
    // 401 with a wrong PAT.
    let mut c = command();
    c.args(["backup", "MESCDM", "--json", "--env", &m.base_url()]).arg("--out").arg(out.path());
    c.env("MES_USER", "admin").env("MES_PAT", PAT);
    cases.push(("401 basic", c, 3));
    // An invalid URL, a URL with credentials in it, clear-text http to another host.
    for (url, code) in
        [("ht!tp://mes", 2), (&*format!("https://admin:{PAT}@mes.example"), 2), ("http://mes.example.invalid", 2)]
    {
        for json in [true, false] {
            let mut c = command();
            c.args(["start", "MESCDM", "--env", url]).env("MES_TOKEN", TOKEN);
            if json {
                c.arg("--json");
            }
            cases.push(("bad url", c, code));
        }
    }
    // A server that echoes something back, and success, JSON and human.
    let mut c = command();
    c.args(["backup", "MESCDM", "--env", &m.base_url()]).arg("--out").arg(out.path()).env("MES_USER", "admin");
    c.env("MES_PAT", "admin-pat");
    fast(&mut c);
    cases.push(("success human", c, 0));
    // A token file with a secret, unreadable by the mock (401), human output.
    let tf = out.path().join("token");
    fs::write(&tf, format!("{TOKEN}\n")).unwrap();
    let mut c = command();
    c.args(["start", "MES", "--env", &m.base_url()]).arg("--token-file").arg(&tf);
    cases.push(("token file", c, 3));

    for (what, c, code) in cases {
        let r = run(c);
        assert_eq!(r.code, code, "{what}: stdout {} stderr {}", r.stdout, r.stderr);
        assert_no_secret(&r, &secrets).unwrap_or_else(|e| panic!("{what}: {e}"));
        json_ok(&r);
        if code != 0 {
            let text = format!("{}{}", r.stdout, r.stderr);
            assert!(!text.trim().is_empty(), "{what}: no error output");
        }
    }
    // The pass-through secret in the token file is the only place it lives: never in argv.
    assert!(!std::env::args().any(|a| a.contains(TOKEN)));
}

#[test]
fn no_credentials_without_a_terminal_is_an_invalid_argument() {
    let mut c = command();
    c.args(["start", "MES", "--json", "--env", "https://mes.example"]);
    let r = run(c);
    assert_eq!(r.code, 2);
    json_ok(&r);
    // Core's one sentence, the same in every front end.
    let failed = r.events.iter().find(|e| e["event"] == "failed").expect("a failed event");
    assert_eq!(failed["error"]["message"], mesbackup_core::mes::NO_CREDENTIALS, "{}", r.stdout);
    assert_eq!(failed["error"]["kind"], "invalid_argument");
}

fn near_miss_folder(dir: &Path) {
    for name in [
        "Cmf.ClickHouse.FullBackup.Online.11.3.0.zip",
        "MES.Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip",
        "Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip",
        "Cmf.ClickHouse.FullBackup.ODS.11.3.0 (1).zip",
        "cmf.clickhouse.fullbackup.dwh.11.3.0.zip",
        "Cmf.ClickHouse.FullBackup.DWH.11.2.0.zip",
        "notes.txt",
    ] {
        fs::write(dir.join(name), b"x").unwrap();
    }
}

#[test]
fn check_folder_explains_near_misses() {
    let dir = tempfile::tempdir().unwrap();
    near_miss_folder(dir.path());
    let mut c = command();
    c.arg("check-folder").arg(dir.path()).args(["--system", "MES", "--version", "11.3.0", "--json"]);
    let r = run(c);
    assert_eq!(r.code, 20, "{}", r.stderr);
    json_ok(&r);
    let report = &r.events[0]["report"];
    assert_eq!(report["missing"], json!(["ODS", "DWH"]));
    assert_eq!(report["kinds"][1]["chosen"], "MES.Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip");
    assert_eq!(report["kinds"][1]["also_present_but_shadowed"], "Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip");
    let misses: Vec<(&str, &str)> = report["near_misses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["file"].as_str().unwrap(), n["reason"].as_str().unwrap()))
        .collect();
    assert!(misses.contains(&("Cmf.ClickHouse.FullBackup.ODS.11.3.0 (1).zip", "extra_suffix")), "{misses:?}");
    assert!(misses.contains(&("cmf.clickhouse.fullbackup.dwh.11.3.0.zip", "wrong_case")), "{misses:?}");
    assert_eq!(report["ignored"][0]["reason"], "other_version");

    // Human output names the problems and the fix.
    let mut c = command();
    c.arg("check-folder").arg(dir.path()).args(["--system", "MES", "--version", "11.3.0"]);
    let r = run(c);
    assert_eq!(r.code, 20);
    assert!(r.stdout.contains("rename to Cmf.ClickHouse.FullBackup.ODS.11.3.0.zip"), "{}", r.stdout);
    assert!(r.stdout.contains("MISSING"), "{}", r.stdout);
}

/// Backs up the four databases of MES into `dir` through the binary.
fn backup_system(dir: &Path) {
    let m = mock(json!({"payload": {"size": 100_000, "seed": 3}}));
    let mut c = command();
    c.args(["backup", "--system", "MES", "--json", "--env", &m.base_url()]).arg("--out").arg(dir);
    c.env("MES_TOKEN", "admin-token");
    fast(&mut c);
    let r = run(c);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    json_ok(&r);
    let summary = r.events.last().unwrap();
    assert_eq!(summary["event"], "summary");
    assert!(summary["backup_window"]["started_at"].is_string());
}

#[test]
fn stage_places_packages_atomically_and_never_clobbers() {
    let src = tempfile::tempdir().unwrap();
    backup_system(src.path());
    let into = tempfile::tempdir().unwrap();
    near_miss_folder(into.path());
    // CDM's generic name exists already: refused (io, exit 12) without --overwrite, nothing else changed.
    let packages = ["MES.zip", "MESCDM.zip", "MESODS.zip", "MESDWH.zip"].map(|n| src.path().join(n));
    let mut c = command();
    c.arg("stage").args(&packages).arg("--into").arg(into.path());
    c.args(["--system", "MES", "--version", "11.3.0", "--generic-names", "--json"]);
    let r = run(c);
    assert_eq!(r.code, 12, "{}", r.stdout);
    json_ok(&r);
    let staged: Vec<&str> =
        r.events.iter().filter(|e| e["event"] == "staged").map(|e| e["file_name"].as_str().unwrap()).collect();
    assert_eq!(staged.len(), 2, "{staged:?}"); // ODS and DWH; Online and CDM names are taken
    assert_eq!(fs::read(into.path().join("Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip")).unwrap(), b"x");
    assert!(!names(into.path()).iter().any(|n| n.ends_with(".mesbackup-partial")));

    // System-specific names (the default) win in the installer's search; --move removes the sources.
    let mut c = command();
    c.arg("stage").args(&packages).arg("--into").arg(into.path());
    c.args(["--system", "MES", "--version", "11.3.0", "--move", "--overwrite"]);
    let r = run(c);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("moved"), "{}", r.stdout);
    assert!(names(src.path()).iter().all(|n| !n.ends_with(".zip")), "{:?}", names(src.path()));
    let mut c = command();
    c.arg("check-folder").arg(into.path()).args(["--system", "MES", "--version", "11.3.0", "--json"]);
    let r = run(c);
    json_ok(&r);
    let report = &r.events[0]["report"];
    assert_eq!(report["missing"], json!([]));
    for k in report["kinds"].as_array().unwrap() {
        assert!(k["chosen"].as_str().unwrap().starts_with("MES.Cmf."), "{k}");
    }
    // The near misses remain reported: exit 20 although complete.
    assert_eq!(r.code, 20);
}

#[test]
fn prune_is_a_dry_run_unless_yes() {
    let dir = tempfile::tempdir().unwrap();
    backup_system(dir.path());
    backup_system(dir.path()); // same names: saved under alternative names
    let count = |d: &Path| names(d).iter().filter(|n| n.ends_with(".zip")).count();
    assert_eq!(count(dir.path()), 8);
    let mut c = command();
    c.arg("prune").arg(dir.path()).args(["--keep", "1", "--json"]);
    let r = run(c);
    assert_eq!(r.code, 0);
    json_ok(&r);
    assert_eq!(count(dir.path()), 8);
    let doomed = r.events[0]["entries"].as_array().unwrap().iter().filter(|e| e["keep"] == false).count();
    assert_eq!(doomed, 4);
    let mut c = command();
    c.arg("prune").arg(dir.path()).args(["--keep", "1", "--yes"]);
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(count(dir.path()), 4);
    assert_eq!(names(dir.path()).len(), 8);
}

/// Spawns the binary and returns the child plus a reader of its stdout lines.
fn spawn_json(mut c: Command) -> (Child, std::sync::mpsc::Receiver<serde_json::Value>) {
    let mut child = c.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
                if tx.send(v).is_err() {
                    break;
                }
            }
        }
    });
    (child, rx)
}

/// Waits for an event named `name`, collecting everything seen.
fn wait_for(rx: &std::sync::mpsc::Receiver<serde_json::Value>, name: &str, seen: &mut Vec<serde_json::Value>) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(v) = rx.recv_timeout(Duration::from_millis(100)) {
            let hit = v["event"] == name;
            seen.push(v);
            if hit {
                return;
            }
        }
    }
    panic!("no {name} event within 60 s: {seen:?}");
}

fn finish(
    child: Child,
    rx: std::sync::mpsc::Receiver<serde_json::Value>,
    mut seen: Vec<serde_json::Value>,
) -> (i32, Vec<serde_json::Value>) {
    let (code, _) = common::wait4(child.id() as libc::pid_t);
    while let Ok(v) = rx.recv_timeout(Duration::from_secs(5)) {
        seen.push(v);
    }
    (code, seen)
}

fn signal(child: &Child, sig: libc::c_int) {
    // SAFETY: sending a signal to our own child.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, sig) }, 0);
}

#[test]
fn ctrl_c_while_waiting_prints_the_guid_and_exits_130() {
    let m = mock(json!({"pending_ms": 120_000}));
    let out = tempfile::tempdir().unwrap();
    for json in [true, false] {
        let mut c = command();
        c.args(["backup", "MESCDM", "--env", &m.base_url()])
            .arg("--out")
            .arg(out.path())
            .env("MES_TOKEN", "admin-token");
        fast(&mut c);
        if json {
            c.arg("--json");
            let (child, rx) = spawn_json(c);
            let mut seen = Vec::new();
            wait_for(&rx, "pending", &mut seen);
            signal(&child, libc::SIGINT);
            let (code, seen) = finish(child, rx, seen);
            assert_eq!(code, 130, "{seen:?}");
            validate_events(&seen).unwrap();
            let failed = seen.iter().find(|e| e["event"] == "failed").expect("failed event");
            assert_eq!(failed["error"]["kind"], "cancelled");
            assert!(failed["error"]["guid"].is_string());
            assert!(failed["error"]["message"].as_str().unwrap().contains("mesbackup download"));
        } else {
            // Human: the GUID and the resume command on stderr.
            c.stderr(std::process::Stdio::piped());
            let child = c.spawn().unwrap();
            std::thread::sleep(Duration::from_millis(1500));
            signal(&child, libc::SIGINT);
            let out_text = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&out_text.stderr);
            assert_eq!(out_text.status.code(), Some(130), "{stderr}");
            assert!(stderr.contains("00000000-0000-4000-8000-000000000002"), "{stderr}");
            assert!(stderr.contains("mesbackup download"), "{stderr}");
        }
        assert!(names(out.path()).is_empty(), "{:?}", names(out.path()));
    }
}

fn dripping_mock() -> MockMes {
    mock(
        json!({"payload": {"size": 2_000_000, "seed": 5}, "download": {"drip": {"chunk": 8192, "interval_ms": 20}, "every": true}}),
    )
}

#[test]
fn ctrl_c_mid_download_leaves_no_partial_file() {
    let m = dripping_mock();
    let out = tempfile::tempdir().unwrap();
    let mut c = command();
    c.args(["backup", "MESCDM", "--json", "--env", &m.base_url()]).arg("--out").arg(out.path());
    c.env("MES_TOKEN", "admin-token");
    fast(&mut c);
    let (child, rx) = spawn_json(c);
    let mut seen = Vec::new();
    wait_for(&rx, "progress", &mut seen);
    assert!(names(out.path()).iter().any(|n| n.ends_with(".mesbackup-partial")));
    signal(&child, libc::SIGINT);
    let (code, seen) = finish(child, rx, seen);
    assert_eq!(code, 130, "{seen:?}");
    validate_events(&seen).unwrap();
    let failed = seen.iter().find(|e| e["event"] == "failed").unwrap();
    assert_eq!(failed["error"]["guid"], "00000000-0000-4000-8000-000000000001");
    assert!(names(out.path()).is_empty(), "{:?}", names(out.path()));
}

#[test]
fn after_kill_9_the_next_run_removes_stale_partials_and_says_so() {
    let m = dripping_mock();
    let out = tempfile::tempdir().unwrap();
    let mut c = command();
    c.args(["backup", "MESCDM", "--json", "--env", &m.base_url()]).arg("--out").arg(out.path());
    c.env("MES_TOKEN", "admin-token");
    fast(&mut c);
    let (child, rx) = spawn_json(c);
    let mut seen = Vec::new();
    wait_for(&rx, "progress", &mut seen);
    signal(&child, libc::SIGKILL);
    let (code, _) = finish(child, rx, seen);
    assert_eq!(code, 128 + libc::SIGKILL);
    let left = names(out.path());
    assert!(left.len() == 1 && left[0].ends_with(".mesbackup-partial"), "{left:?}");

    // Next run (human): removes it, says the one-shot download was lost, then backs up normally.
    m.set_scenario(json!({})).unwrap();
    let mut c = command();
    c.args(["backup", "MESODS", "--env", &m.base_url()]).arg("--out").arg(out.path()).env("MES_TOKEN", "admin-token");
    fast(&mut c);
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains(&left[0]) && r.stderr.contains("lost"), "{}", r.stderr);
    assert_eq!(names(out.path()), vec!["MESODS.zip", "MESODS.zip.mesbackup.json"]);

    // JSON: a stale_partial_removed event.
    fs::write(out.path().join(".MESCDM.zip.0badf00d.mesbackup-partial"), b"partial").unwrap();
    let mut c = command();
    c.args(["download", "--no-wait", "00000000-0000-4000-8000-000000000009", "--json", "--env", &m.base_url()]);
    c.arg("--out").arg(out.path()).env("MES_TOKEN", "admin-token");
    let r = run(c);
    assert_eq!(r.code, 6);
    json_ok(&r);
    assert_eq!(r.events[0]["event"], "stale_partial_removed");
    assert_eq!(r.events[0]["target_name"], "MESCDM.zip");
    assert_eq!(r.events[0]["lost_download"], true);
}

#[test]
fn demo_runs_to_completion_in_a_clean_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("demo");
    let mut c = command();
    c.args(["demo", "--pending", "1s", "--size-mib", "1"]).arg("--out").arg(&out);
    let r = run(c);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("SHA-256") && r.stdout.contains("Backup window"), "{}", r.stdout);
    // Each package read back and verified against the manifest and its sidecar.
    assert_eq!(r.stdout.matches("SHA-256 matches the sidecar").count(), 4, "{}", r.stdout);
    assert_eq!(names(&out).len(), 8, "{:?}", names(&out));
    for kind in ["Online", "CDM", "ODS", "DWH"] {
        assert!(out.join(format!("Cmf.ClickHouse.FullBackup.{kind}.11.3.0.zip")).exists());
    }
    // A non-empty folder is refused.
    let mut c = command();
    c.args(["demo"]).arg("--out").arg(&out);
    assert_eq!(run(c).code, 2);
    // JSON, into a folder created by the demo itself; the default folder name is used from cwd.
    let mut c = command();
    c.args(["demo", "--json", "--pending", "1s", "--size-mib", "1"]).current_dir(tmp.path());
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    json_ok(&r);
    let kinds: Vec<&str> = r.events.iter().map(|e| e["event"].as_str().unwrap()).collect();
    for k in [
        "demo",
        "started",
        "pending",
        "ready",
        "progress",
        "saved",
        "summary",
        "folder_report",
        "verified",
        "backup_window",
    ] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
    assert!(names(tmp.path()).iter().any(|n| n.starts_with("mesbackup-demo-")));
    let verified: Vec<_> = r.events.iter().filter(|e| e["event"] == "verified").collect();
    assert!(verified.len() == 4 && verified.iter().all(|e| e["report"]["ok"] == true), "{verified:?}");
}

#[test]
fn help_lists_exit_codes_and_completions_work() {
    let mut c = command();
    c.arg("--help");
    let r = run(c);
    assert_eq!(r.code, 0);
    for kind in mesbackup_core::ErrorKind::ALL {
        let line = format!("{:>3}  {}", kind.exit_code(), kind.code());
        assert!(r.stdout.contains(&line), "--help lacks {line:?}");
    }
    assert!(r.stdout.contains(" 75 ") && r.stdout.contains("MES_TOKEN"));
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let mut c = command();
        c.args(["completions", shell]);
        let r = run(c);
        assert_eq!(r.code, 0);
        assert!(r.stdout.contains("check-folder"), "{shell}");
    }
    let mut c = command();
    c.args(["names", "--system", "MES", "--version", "11.3.0", "--json"]);
    let r = run(c);
    json_ok(&r);
    assert_eq!(r.events[0]["packages"][2]["system_specific"], "MES.Cmf.ClickHouse.FullBackup.ODS.11.3.0.zip");
}

#[test]
fn not_a_zip_is_reported_clearly() {
    let m = mock(json!({"ready_body": {"content_type": "text/html", "body": "<html>502 Bad Gateway</html>"}}));
    let out = tempfile::tempdir().unwrap();
    let mut c = command();
    c.args(["backup", "MESCDM", "--env", &m.base_url()]).arg("--out").arg(out.path()).env("MES_TOKEN", "admin-token");
    fast(&mut c);
    let r = run(c);
    assert_eq!(r.code, 8);
    assert!(r.stderr.contains("not-a-package.html") && r.stderr.contains("instead of a zip"), "{}", r.stderr);
}

/// A server that echoes the token into an error body, placed so that the 200-character quote of
/// the body ends inside it: redacting after the quote would print its first 8 characters.
#[test]
fn a_secret_echoed_across_the_truncation_boundary_never_shows_in_part() {
    let token = "Zq7kP9xW4mR2vT8nL5cJ";
    let body = format!("{}{token} was not accepted here", "x".repeat(192));
    // Faults answer before authentication: any token reaches the echo.
    let m = mock(json!({"faults": [{"method": "POST", "nth": "all", "status": 500, "body": body}]}));
    let out = tempfile::tempdir().unwrap();
    for json in [true, false] {
        let mut c = command();
        c.args(["backup", "MESCDM", "--env", &m.base_url()]).arg("--out").arg(out.path()).env("MES_TOKEN", token);
        if json {
            c.arg("--json");
        }
        let r = run(c);
        assert_eq!(r.code, 7, "server_error: {} {}", r.stdout, r.stderr);
        let text = format!("{}{}", r.stdout, r.stderr);
        assert!(text.contains("xxxxxxxx<redacte"), "the quote shows the redaction where the token was: {text}");
        for piece in token.as_bytes().windows(6) {
            let piece = std::str::from_utf8(piece).unwrap();
            assert!(!text.contains(piece), "{piece:?} of the token in the output (json {json}): {text}");
        }
        json_ok(&r);
    }
}

/// Proxies from the environment are for other hosts: a token meant for this machine never goes to
/// a proxy (here one on a closed port, which would fail every request sent through it).
#[test]
fn environment_proxies_are_not_used_for_loopback() {
    let m = mock(json!({}));
    let out = tempfile::tempdir().unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy = format!("http://127.0.0.1:{}", closed.local_addr().unwrap().port());
    drop(closed);
    let mut c = command();
    c.args(["backup", "MESCDM", "--json", "--env", &m.base_url()]).arg("--out").arg(out.path());
    for var in ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"] {
        c.env(var, &proxy);
    }
    c.env_remove("NO_PROXY").env_remove("no_proxy").env("MES_TOKEN", "admin-token");
    fast(&mut c);
    let r = run(c);
    assert_eq!(r.code, 0, "{} {}", r.stdout, r.stderr);
    json_ok(&r);
    assert_eq!(names(out.path()), ["MESCDM.zip", "MESCDM.zip.mesbackup.json"]);
}

#[test]
fn download_limits_are_checked_and_named() {
    for (args, says) in [
        (vec!["--max-size", "0"], "--max-size"),
        (vec!["--max-size", "12XB"], "unknown unit"),
        (vec!["--speed-limit", "1KiB/s", "--speed-time", "0s"], "zero"),
        (vec!["--download-timeout", "soon"], "not a duration"),
    ] {
        let mut c = command();
        c.args(["backup", "MESCDM", "--env", "http://127.0.0.1:9", "--no-auth"]).args(&args);
        let r = run(c);
        assert_eq!(r.code, 2, "{args:?}: {} {}", r.stdout, r.stderr);
        assert!(r.stderr.contains(says), "{args:?}: {}", r.stderr);
    }
}

#[test]
fn a_download_by_guid_records_the_database_it_names_and_never_posts() {
    // The first download is cut: lost. With --database and a restart budget, it must still not POST.
    let m = mock(json!({"download": {"reset_at": 3000}}));
    let out = tempfile::tempdir().unwrap();
    let start = |db: &str| {
        let mut c = command();
        c.args(["start", db, "--env", &m.base_url()]).env("MES_TOKEN", "admin-token");
        let r = run(c);
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.stdout.split_whitespace().find(|w| w.len() == 36 && w.matches('-').count() == 4).unwrap().to_owned()
    };
    let download = |guid: &str, extra: &[&str]| {
        let mut c = command();
        c.args(["download", guid, "--json", "--env", &m.base_url(), "--restart-budget", "1"]).args(extra);
        c.arg("--out").arg(out.path()).env("MES_TOKEN", "admin-token");
        fast(&mut c);
        run(c)
    };
    let lost = download(&start("MESCDM"), &["--database", "MESCDM"]);
    assert_eq!(lost.code, 10, "{}", lost.stderr);
    json_ok(&lost);
    let posts = |m: &MockMes| m.log().iter().filter(|e| e.method == "POST").count();
    assert_eq!(posts(&m), 1, "a download with --database POSTed a new backup");

    let guid = start("MESCDM");
    let r = download(&guid, &["--database", "MESCDM", "--sql-backup-finished", "2026-11-25T03:00:00Z"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    json_ok(&r);
    let sidecar: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.path().join("MESCDM.zip.mesbackup.json")).unwrap()).unwrap();
    assert_eq!(sidecar["database"], "MESCDM", "{sidecar}");
    assert!(sidecar["sql_backup_finished_at"].as_str().unwrap().starts_with("2026-11-25T03:00:00"), "{sidecar}");

    // One database per GUID, in order: two downloads, each sidecar with its own database.
    let (cdm, ods) = (start("MESCDM"), start("MESODS"));
    let both = tempfile::tempdir().unwrap();
    let mut c = command();
    c.args(["download", &cdm, &ods, "--database", "MESCDM", "--database", "MESODS", "--env", &m.base_url()]);
    c.arg("--out").arg(both.path()).env("MES_TOKEN", "admin-token");
    fast(&mut c);
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for db in ["MESCDM", "MESODS"] {
        let text = fs::read_to_string(both.path().join(format!("{db}.zip.mesbackup.json"))).unwrap();
        assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap()["database"], db, "{text}");
    }
    // A count that does not match the GUIDs is refused before anything is sent.
    let sent = m.log().len();
    let r = download(&guid, &["--database", "MESCDM", "--database", "MESODS"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stdout.contains("one per GUID"), "{}{}", r.stdout, r.stderr);
    assert_eq!(m.log().len(), sent, "a refused download sent something");
    assert_eq!(posts(&m), 4);
}
