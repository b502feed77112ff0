//! Two runs saving into one folder from different PID namespaces (two containers sharing a volume):
//! neither can see the other's processes, so only the lock on a temporary file tells the second run
//! that the first one's download is live. Both packages must be saved, and nothing removed under the
//! other's feet (a cleanup that looked at /proc removed the first run's partial, which then lost its
//! one-shot download at the rename).
//!
//! Needs `unshare --pid --fork --mount-proc` (util-linux; root or user namespaces). This test fails,
//! saying why, where it cannot run: it is never skipped quietly.

mod common;

use std::process::{Command, Stdio};

use common::{dripping_mock, finish_json, names, spawn_json, validate_events, wait_for_event, BIN};

/// `mesbackup <args>` in a PID namespace of its own, with its own /proc.
fn in_own_pid_namespace(args: &[&str]) -> Command {
    let mut c = Command::new("unshare");
    c.args(["--pid", "--fork", "--mount-proc", "--", BIN]).args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("MES_") {
            c.env_remove(k);
        }
    }
    c.env("NO_COLOR", "1").env("MES_TOKEN", "admin-token");
    c.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::inherit());
    c
}

fn require_pid_namespaces() {
    let probe =
        Command::new("unshare").args(["--pid", "--fork", "--mount-proc", "--", "sh", "-c", "test $$ = 1"]).output();
    match probe {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!(
            "cannot run this test: `unshare --pid --fork --mount-proc` failed ({}): {}. It needs root or user \
             namespaces (CI runs it as root).",
            o.status,
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => panic!("cannot run this test: `unshare` (util-linux) could not be started: {e}"),
    }
}

#[test]
fn two_runs_in_different_pid_namespaces_share_a_folder_without_harm() {
    require_pid_namespaces();
    let m = dripping_mock(); // every download takes about 5 s
    let out = tempfile::tempdir().unwrap();
    let out_arg = out.path().to_str().unwrap();
    let fast = ["--min-poll-delay", "10ms", "--retry-delay", "10ms", "--max-poll-delay", "100ms"];
    let url = m.base_url();

    let mut a = in_own_pid_namespace(&["backup", "MESCDM", "--json", "--env", &url, "--out", out_arg]);
    a.args(fast);
    let (run_a, rx_a) = spawn_json(a);
    let mut seen_a = Vec::new();
    wait_for_event(&rx_a, "progress", &mut seen_a);
    let live: Vec<String> = names(out.path()).into_iter().filter(|n| n.ends_with(".mesbackup-partial")).collect();
    assert_eq!(live.len(), 1, "{:?}", names(out.path()));

    // B starts while A downloads: its cleanup of the folder runs now, and A's partial must survive it.
    let mut b = in_own_pid_namespace(&["backup", "MESODS", "--json", "--env", &url, "--out", out_arg]);
    b.args(fast);
    let (run_b, rx_b) = spawn_json(b);
    let mut seen_b = Vec::new();
    wait_for_event(&rx_b, "progress", &mut seen_b);
    assert!(out.path().join(&live[0]).exists(), "B removed A's live partial {}", live[0]);

    let (code_a, seen_a) = finish_json(run_a, rx_a, seen_a);
    let (code_b, seen_b) = finish_json(run_b, rx_b, seen_b);
    validate_events(&seen_a).unwrap();
    validate_events(&seen_b).unwrap();
    assert_eq!(code_a, 0, "A: {seen_a:?}");
    assert_eq!(code_b, 0, "B: {seen_b:?}");
    for seen in [&seen_a, &seen_b] {
        assert!(!seen.iter().any(|e| e["event"] == "stale_partial_removed"), "{seen:?}");
    }
    assert_eq!(
        names(out.path()),
        vec!["MESCDM.zip", "MESCDM.zip.mesbackup.json", "MESODS.zip", "MESODS.zip.mesbackup.json"]
    );
    for db in ["MESCDM", "MESODS"] {
        assert_eq!(std::fs::metadata(out.path().join(format!("{db}.zip"))).unwrap().len(), 2_000_000);
    }
}

#[test]
fn a_partial_left_by_a_killed_run_in_another_pid_namespace_is_removed() {
    require_pid_namespaces();
    let m = dripping_mock();
    let out = tempfile::tempdir().unwrap();
    let out_arg = out.path().to_str().unwrap();
    let url = m.base_url();
    let mut a = in_own_pid_namespace(&["backup", "MESCDM", "--json", "--env", &url, "--out", out_arg]);
    a.args(["--min-poll-delay", "10ms", "--max-poll-delay", "100ms"]);
    let (run_a, rx_a) = spawn_json(a);
    let mut seen_a = Vec::new();
    wait_for_event(&rx_a, "progress", &mut seen_a);
    // SIGKILL to unshare's child, the namespace's init (mesbackup): the kernel ends it, releasing its lock.
    let children = std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", run_a.id())).unwrap();
    let init: libc::pid_t = children.split_whitespace().next().expect("unshare has a child").parse().unwrap();
    // SAFETY: a signal to our own grandchild, by its id.
    assert_eq!(unsafe { libc::kill(init, libc::SIGKILL) }, 0);
    let (code, _) = finish_json(run_a, rx_a, seen_a);
    assert_ne!(code, 0);
    let left = names(out.path());
    assert!(left.len() == 1 && left[0].ends_with(".mesbackup-partial"), "{left:?}");

    m.set_scenario(serde_json::json!({})).unwrap();
    let b = in_own_pid_namespace(&[
        "download",
        "--no-wait",
        "00000000-0000-4000-8000-000000000009",
        "--json",
        "--env",
        &url,
        "--out",
        out_arg,
    ]);
    let (run_b, rx_b) = spawn_json(b);
    let (code, seen) = finish_json(run_b, rx_b, Vec::new());
    assert_eq!(code, 6, "{seen:?}"); // that GUID is unknown: only the cleanup matters here
    let removed: Vec<_> = seen.iter().filter(|e| e["event"] == "stale_partial_removed").collect();
    assert_eq!(removed.len(), 1, "{seen:?}");
    assert_eq!(removed[0]["file"], left[0]);
    assert!(names(out.path()).is_empty(), "{:?}", names(out.path()));
}
