//! `mesbackup run` through the real binary against mock-mes instances: several environments with
//! one failing, hooks (a failing before hook sends nothing; its end time lands in every sidecar and
//! in `window`), the folder lock, bad configs refused before anything is sent, the dry run, metrics,
//! and retention keeping exactly the expected generations.
//!
//! Hooks are `sh` commands and the lock is taken by this (Linux) test process, so those tests are
//! skipped, saying so, when the binary runs through a launcher (Wine).

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{command, finish_json, mock, run, spawn_json, validate_events, wait_for_event, Run};
use mesbackup_core::mes::{format_rfc3339_millis, parse_rfc3339, sidecar_file_name, tool_id, Sidecar, SIDECAR_FORMAT};
use serde_json::{json, Value};

const TOKEN_VAR: &str = "NIGHTLY_MES_TOKEN";

/// True (after saying why) when the binary runs through a launcher: hooks are `sh` scripts and the
/// lock test holds a Linux lock, neither of which a Windows binary under Wine shares.
fn skipped_under_launcher(test: &str) -> bool {
    if common::program().0.is_some() {
        eprintln!(
            "{test}: skipped under MESBACKUP_LAUNCHER (hooks are sh commands; locks are held by this Linux process)"
        );
        return true;
    }
    false
}

/// One `[[environment]]` for a mock, saving into `out`, polling fast (the poll keys), plus `extra`
/// lines.
fn environment(name: &str, url: &str, out: &Path, extra: &str) -> String {
    format!(
        "[[environment]]\nname = \"{name}\"\nurl = \"{url}\"\nsystem = \"MES\"\nout = \"{}\"\ntoken_env = \"{TOKEN_VAR}\"\n\
         min_poll_delay = \"10ms\"\nmax_poll_delay = \"100ms\"\nretry_delay = \"10ms\"\n{extra}\n",
        out.display()
    )
}

fn write_config(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("mesbackup.toml");
    fs::write(&path, text).unwrap();
    path
}

fn mesbackup_run(config: &Path, args: &[&str]) -> Run {
    let mut c = command();
    c.arg("run").arg("--config").arg(config).args(args).env(TOKEN_VAR, "admin-token");
    run(c)
}

fn summary(r: &Run) -> &Value {
    let s = r.events.iter().rev().find(|e| e["event"] == "run_summary");
    s.unwrap_or_else(|| panic!("no run_summary:\n{}\n{}", r.stdout, r.stderr))
}

fn env_report<'a>(summary: &'a Value, name: &str) -> &'a Value {
    summary["environments"].as_array().unwrap().iter().find(|e| e["name"] == name).unwrap()
}

/// A fake package (one byte) with its sidecar, finished at `finished_at`.
fn fake_package(dir: &Path, database: &str, finished_at: &str) -> String {
    let ms = parse_rfc3339(finished_at).unwrap();
    let name = format!("{database}_{ms}.zip");
    fs::write(dir.join(&name), b"x").unwrap();
    let time = Some(format_rfc3339_millis(ms));
    let sidecar = Sidecar {
        format: SIDECAR_FORMAT.into(),
        tool: tool_id(),
        file_name: name.clone(),
        database: Some(database.into()),
        guid: format!("00000000-0000-0000-0000-{ms:012}"),
        environment_url: "https://mes.example".into(),
        size: 1,
        sha256: "00".repeat(32),
        started_at: time.clone(),
        ready_at: time.clone(),
        finished_at: time,
        server_file_name: None,
        sql_backup_finished_at: None,
    };
    fs::write(dir.join(sidecar_file_name(&name)), sidecar.to_json()).unwrap();
    name
}

fn sidecars(dir: &Path) -> Vec<Sidecar> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".mesbackup.json") {
            out.push(Sidecar::from_json(&fs::read_to_string(dir.join(&name)).unwrap()).unwrap());
        }
    }
    out
}

fn packages(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = common::names(dir).into_iter().filter(|n| n.ends_with(".zip")).collect();
    v.sort();
    v
}

#[test]
fn three_environments_one_failing_one_with_a_slow_hook() {
    if skipped_under_launcher("three_environments_one_failing_one_with_a_slow_hook") {
        return;
    }
    let healthy = mock(json!({}));
    let broken =
        mock(json!({"faults": [{"method": "POST", "nth": "all", "status": 500, "body": "ClickHouse is down"}]}));
    let slow = mock(json!({}));
    let dir = tempfile::tempdir().unwrap();
    let (out_a, out_b, out_c) = (dir.path().join("a"), dir.path().join("b"), dir.path().join("c"));
    fs::create_dir_all(&out_a).unwrap();
    fs::create_dir_all(&out_b).unwrap();
    // Old packages: the healthy environment's retention (keep_last 2) deletes the oldest of MES;
    // the broken one's keeps everything, because its backups failed tonight.
    let old_a =
        [fake_package(&out_a, "MES", "2026-01-01T02:00:00Z"), fake_package(&out_a, "MES", "2026-01-02T02:00:00Z")];
    let old_b = [
        fake_package(&out_b, "MESCDM", "2026-01-01T02:00:00Z"),
        fake_package(&out_b, "MESCDM", "2026-01-02T02:00:00Z"),
    ];
    let marker = dir.path().join("on_error.txt");
    let ping = PingReceiver::start();
    let text = format!(
        "concurrency = 3\n[ping]\nurl = \"{}\"\n{}{}{}",
        ping.url,
        environment("a", &healthy.base_url(), &out_a, "[environment.retention]\nkeep_last = 2\n"),
        environment(
            "b",
            &broken.base_url(),
            &out_b,
            &format!(
                "[environment.retention]\nkeep_last = 1\n[environment.hooks]\non_error = [[\"sh\", \"-c\", \"echo \
                 $MESBACKUP_ENVIRONMENT $MESBACKUP_RESULT > {}\"]]\n",
                marker.display()
            )
        ),
        environment("c", &slow.base_url(), &out_c, "[environment.hooks]\nbefore = [[\"sh\", \"-c\", \"sleep 2\"]]\n"),
    );
    let config = write_config(dir.path(), &text);
    let metrics = dir.path().join("mesbackup.prom");
    let r = mesbackup_run(&config, &["--json", "--metrics-file", metrics.to_str().unwrap()]);
    validate_events(&r.events).unwrap();
    assert_eq!(r.code, 7, "server_error of b decides the exit code:\n{}\n{}", r.stdout, r.stderr);
    let s = summary(&r);
    assert_eq!((s["ok"].as_bool(), s["exit_code"].as_u64()), (Some(false), Some(7)));
    let (a, b, c) = (env_report(s, "a"), env_report(s, "b"), env_report(s, "c"));
    assert_eq!((a["result"].as_str(), c["result"].as_str()), (Some("ok"), Some("ok")), "{s}");
    assert_eq!((b["result"].as_str(), b["failed_step"].as_str()), (Some("failed"), Some("backup")), "{s}");
    assert!(b["message"].as_str().unwrap().contains("ClickHouse is down") || b["exit_code"] == 7, "{b}");
    for e in [a, c] {
        let dbs = e["databases"].as_array().unwrap();
        assert_eq!(dbs.len(), 4);
        assert!(dbs.iter().all(|d| d["outcome"] == "saved" && d["verified"] == true), "{e}");
    }
    assert!(b["databases"].as_array().unwrap().iter().all(|d| d["outcome"] == "failed"), "{b}");
    // Job events say which environment they belong to (all three back up a system named MES).
    let saved: Vec<&str> =
        r.events.iter().filter(|e| e["event"] == "saved").map(|e| e["environment"].as_str().unwrap()).collect();
    assert_eq!(saved.iter().filter(|e| **e == "a").count(), 4, "{saved:?}");
    assert_eq!(saved.iter().filter(|e| **e == "c").count(), 4, "{saved:?}");
    let failed = r.events.iter().filter(|e| e["event"] == "failed").collect::<Vec<_>>();
    assert_eq!(failed.len(), 4);
    assert!(failed.iter().all(|e| e["environment"] == "b" && e["error"]["kind"] == "server_error"), "{failed:?}");

    // Retention: a kept tonight's MES and the newer old one; b deleted nothing.
    let a_packages = packages(&out_a);
    assert!(!a_packages.contains(&old_a[0]) && a_packages.contains(&old_a[1]), "{a_packages:?}");
    assert_eq!(a_packages.len(), 5, "4 new + 1 old: {a_packages:?}");
    assert_eq!(packages(&out_b), old_b.to_vec());
    assert_eq!(fs::read_to_string(&marker).unwrap().trim(), "b failed", "on_error hook ran with the result");

    // The slow hook's end time is the SQL Server completion in every sidecar of c, and in window.
    let sql = c["sql_backup_finished_at"].as_str().expect("c had a before hook").to_owned();
    let c_sidecars = sidecars(&out_c);
    assert_eq!(c_sidecars.len(), 4);
    assert!(c_sidecars.iter().all(|s| s.sql_backup_finished_at.as_deref() == Some(sql.as_str())));
    assert!(c_sidecars.iter().all(|s| parse_rfc3339(s.started_at.as_deref().unwrap()) >= parse_rfc3339(&sql)));
    assert_eq!(c["backup_window"]["sql_backup_finished_at"].as_str(), Some(sql.as_str()));
    assert!(a["sql_backup_finished_at"].is_null(), "no before hook, nothing recorded");
    let mut w = command();
    w.args(["window", "--json"]).arg(&out_c);
    let w = run(w);
    assert_eq!(w.code, 0, "{}", w.stderr);
    assert_eq!(w.events[0]["sql_backup_finished_at"].as_str(), Some(sql.as_str()));
    assert_eq!(w.events[0]["reprocess_from"].as_str(), Some(sql.as_str()));

    // Metrics: the text format, one sample per environment and database.
    let text = fs::read_to_string(&metrics).unwrap();
    for line in [
        "mesbackup_run_success 0",
        "mesbackup_environment_success{environment=\"a\"} 1",
        "mesbackup_environment_success{environment=\"b\"} 0",
        "mesbackup_backup_success{environment=\"b\",database=\"MESCDM\"} 0",
        "mesbackup_backup_success{environment=\"c\",database=\"MESDWH\"} 1",
        "# TYPE mesbackup_backup_last_success_timestamp_seconds gauge",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} missing from\n{text}");
    }
    assert!(text.contains("mesbackup_backup_last_success_timestamp_seconds{environment=\"b\",database=\"MESCDM\"} "));
    promtool_check(&metrics);

    // The monitor heard the start, then the failure naming b (and the healthy ones as ok).
    let got = ping.requests();
    let paths: Vec<&str> = got.iter().map(|(_, p, _)| p.as_str()).collect();
    assert_eq!(paths, ["/ping/0f1e2d3c-uuid/start", "/ping/0f1e2d3c-uuid/fail"], "{got:?}");
    let body = &got[1].2;
    assert!(body.contains("b: failed at backup: ") && body.contains("a: ok") && body.contains("c: ok"), "{body}");
    assert!(body.contains("exit code 7"), "{body}");
    // The slow hook held c for its 2 s while a and b went on (concurrency 3).
    let hook_ms = c["hooks"][0]["duration_ms"].as_u64().unwrap();
    assert!(hook_ms >= 2000, "{c}");

    // The human summary names the failure.
    let r = mesbackup_run(&config, &["--only", "b"]);
    assert_eq!(r.code, 7);
    assert!(r.stdout.contains("ENVIRONMENT") && r.stdout.lines().any(|l| l.starts_with("b ") && l.contains("FAILED")));
    assert!(r.stderr.contains("FAILED: b"), "{}", r.stderr);
}

/// `promtool check metrics` (Prometheus' own linter of the text format). scripts/suites/20-cli.sh
/// sets MESBACKUP_PROMTOOL (taken from Debian's prometheus package); then it must pass. Without it,
/// a promtool on PATH is used, else the check is skipped saying so (the format test in
/// client/src/run/metrics.rs still parses the output).
fn promtool_check(path: &Path) {
    let given = std::env::var("MESBACKUP_PROMTOOL").ok().filter(|p| !p.is_empty());
    let program = given.clone().unwrap_or_else(|| "promtool".to_owned());
    let out =
        std::process::Command::new(&program).args(["check", "metrics"]).stdin(fs::File::open(path).unwrap()).output();
    let out = match out {
        Ok(out) => out,
        Err(e) if given.is_none() => {
            eprintln!("promtool not found ({e}): metrics checked only by client/src/run/metrics.rs's format test");
            return;
        }
        Err(e) => panic!("MESBACKUP_PROMTOOL={program} cannot run: {e}"),
    };
    assert!(
        out.status.success(),
        "promtool check metrics: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_failing_before_hook_sends_nothing_for_its_environment() {
    if skipped_under_launcher("a_failing_before_hook_sends_nothing_for_its_environment") {
        return;
    }
    let m = mock(json!({}));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let after = dir.path().join("after.txt");
    let text = environment(
        "sql-first",
        &m.base_url(),
        &out,
        &format!(
            "[environment.hooks]\nbefore = [[\"sh\", \"-c\", \"exit 3\"]]\nafter = [[\"touch\", \"{}\"]]\n",
            after.display()
        ),
    );
    let config = write_config(dir.path(), &text);
    let r = mesbackup_run(&config, &["--json"]);
    validate_events(&r.events).unwrap();
    assert_eq!(r.code, 21, "{}\n{}", r.stdout, r.stderr);
    let e = env_report(summary(&r), "sql-first");
    assert_eq!(e["failed_step"], "before_hook");
    assert_eq!(e["hooks"][0]["exit_code"], 3);
    assert!(e["databases"].as_array().unwrap().iter().all(|d| d["outcome"] == "not_started"));
    assert!(m.log().is_empty(), "nothing may be sent: {:?}", m.log());
    assert!(!after.exists(), "after hooks run only on success");
    assert!(packages(&out).is_empty());
}

#[test]
fn hooks_never_see_the_mes_credentials() {
    if skipped_under_launcher("hooks_never_see_the_mes_credentials") {
        return;
    }
    let m = mock(json!({}));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let (before, after) = (dir.path().join("before.env"), dir.path().join("after.env"));
    let text = environment(
        "sql-first",
        &m.base_url(),
        &out,
        &format!(
            "[environment.hooks]\nbefore = [[\"sh\", \"-c\", \"env > {}\"]]\nafter = [[\"sh\", \"-c\", \"env > {}\"]]\n",
            before.display(),
            after.display()
        ),
    );
    let config = write_config(dir.path(), &text);
    let mut c = command();
    c.arg("run").arg("--config").arg(&config).arg("--json");
    c.env(TOKEN_VAR, "admin-token").env("MES_TOKEN", "admin-token").env("MES_PAT", "a-pat").env("UNRELATED", "kept");
    let r = run(c);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    for file in [&before, &after] {
        let seen = fs::read_to_string(file).unwrap();
        assert!(!seen.contains("admin-token") && !seen.contains("a-pat"), "a credential reached a hook: {seen}");
        assert!(!seen.contains(&format!("{TOKEN_VAR}=")), "{seen}");
        assert!(seen.contains("MESBACKUP_ENVIRONMENT=sql-first") && seen.contains("UNRELATED=kept"), "{seen}");
    }
}

#[test]
fn a_second_run_waits_for_or_leaves_a_held_folder() {
    if skipped_under_launcher("a_second_run_waits_for_or_leaves_a_held_folder") {
        return;
    }
    let m = mock(json!({}));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    fs::create_dir_all(&out).unwrap();
    // This process plays the first run: it holds the folder's lock.
    let lock =
        fs::OpenOptions::new().create(true).truncate(false).write(true).open(out.join(".mesbackup-run.lock")).unwrap();
    lock.lock().unwrap();

    let config =
        write_config(dir.path(), &format!("on_locked = \"exit\"\n{}", environment("e", &m.base_url(), &out, "")));
    let r = mesbackup_run(&config, &[]);
    assert_eq!(r.code, 75, "{}", r.stderr);
    assert!(
        r.stderr.contains("another mesbackup run holds") && r.stderr.contains(out.to_str().unwrap()),
        "{}",
        r.stderr
    );
    assert!(m.log().is_empty());

    let config =
        write_config(dir.path(), &format!("on_locked = \"wait\"\n{}", environment("e", &m.base_url(), &out, "")));
    let mut c = command();
    c.arg("run").arg("--config").arg(&config).arg("--json").env(TOKEN_VAR, "admin-token");
    let (child, rx) = spawn_json(c);
    let mut seen = Vec::new();
    wait_for_event(&rx, "warning", &mut seen);
    assert!(seen.last().unwrap()["message"].as_str().unwrap().contains("waiting for the mesbackup run"), "{seen:?}");
    assert!(m.log().is_empty(), "nothing is sent while waiting");
    lock.unlock().unwrap();
    let (code, events) = finish_json(child, rx, seen);
    assert_eq!(code, 0, "{events:?}");
    assert_eq!(packages(&out).len(), 4);
}

#[test]
fn bad_configs_are_refused_naming_the_key_and_nothing_is_sent() {
    let m = mock(json!({}));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let env = environment("e", &m.base_url(), &out, "");
    let token_file = dir.path().join("token");
    fs::write(&token_file, "admin-token\n").unwrap();
    let with_file = |path: &Path| {
        environment("e", &m.base_url(), &out, "")
            .replace(&format!("token_env = \"{TOKEN_VAR}\""), &format!("token_file = \"{}\"", path.display()))
    };
    let mut cases: Vec<(&str, String, &str, bool)> = vec![
        ("unknown key", format!("{env}verfy = true\n"), "verfy", true),
        ("inline secret", format!("{env}token = \"tok-SECRET-123\"\n"), "environment[1].token", true),
        (
            "missing variable",
            env.replace(TOKEN_VAR, "NIGHTLY_UNSET_VARIABLE"),
            "token_env: the environment variable NIGHTLY_UNSET_VARIABLE is not set",
            true,
        ),
        (
            "unreadable token file",
            with_file(&dir.path().join("missing")),
            "token_file: cannot read the token file",
            true,
        ),
    ];
    #[cfg(unix)]
    if common::program().0.is_none() {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&token_file, fs::Permissions::from_mode(0o644)).unwrap();
        cases.push(("token file 0644", with_file(&token_file), "mode 0644", false));
    }
    for (what, text, key, _) in &cases {
        let config = write_config(dir.path(), text);
        let r = mesbackup_run(&config, &[]);
        assert_eq!(r.code, 2, "{what}: {}", r.stderr);
        assert!(r.stderr.contains(key), "{what}: {key:?} not in {}", r.stderr);
        assert!(!r.stderr.contains("tok-SECRET") && !r.stdout.contains("tok-SECRET"), "{what}: secret echoed");
        let r = mesbackup_run(&config, &["--json"]);
        assert_eq!(r.code, 2);
        assert_eq!(r.events.last().unwrap()["error"]["kind"], "invalid_argument", "{what}");
        validate_events(&r.events).unwrap();
    }
    assert!(m.log().is_empty(), "nothing may be sent: {:?}", m.log());
    assert!(!out.exists(), "nothing is created either");
}

#[test]
fn dry_run_shows_the_plan_with_retention_and_sends_nothing() {
    let m = mock(json!({}));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    fs::create_dir_all(&out).unwrap();
    let old = fake_package(&out, "MESODS", "2026-01-01T02:00:00Z");
    let newer = fake_package(&out, "MESODS", "2026-01-02T02:00:00Z");
    let text = environment(
        "e",
        &m.base_url(),
        &out,
        "version = \"11.3.0\"\n[environment.retention]\nkeep_last = 1\n[environment.hooks]\nbefore = [[\"sqlcmd\", \"-Q\", \"BACKUP\"]]\n",
    );
    let config = write_config(dir.path(), &text);
    let r = mesbackup_run(&config, &["--dry-run"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("before hook: sqlcmd -Q BACKUP"), "{}", r.stdout);
    assert!(r.stdout.contains("MES.Cmf.ClickHouse.FullBackup.ODS.11.3.0.zip"), "{}", r.stdout);
    // By file name: under a launcher (Wine) the folder is shown with Windows separators.
    let doomed_lines: Vec<&str> = r.stdout.lines().filter(|l| l.trim_start().starts_with("would delete")).collect();
    assert!(doomed_lines.len() == 1 && doomed_lines[0].contains(&old), "{}", r.stdout);

    let r = mesbackup_run(&config, &["--dry-run", "--json"]);
    assert_eq!(r.code, 0);
    validate_events(&r.events).unwrap();
    let plan = &r.events.last().unwrap()["environments"][0];
    let entries = plan["retention"]["entries"].as_array().unwrap();
    let doomed: Vec<&Value> = entries.iter().filter(|e| e["keep"] == false).collect();
    assert_eq!(doomed.len(), 1);
    assert!(doomed[0]["package"].as_str().unwrap().ends_with(&old));
    assert!(m.log().is_empty(), "a dry run sends nothing");
    assert_eq!(packages(&out), {
        let mut v = vec![old, newer];
        v.sort();
        v
    });
}

#[test]
fn prune_keeps_exactly_the_grandfather_father_son_generations() {
    let dir = tempfile::tempdir().unwrap();
    // A nightly backup at 02:00 UTC from 2026-01-01 to 2026-03-31 (90 nights), and one of another
    // database that retention of the first must not touch.
    let start = parse_rfc3339("2026-01-01T02:00:00Z").unwrap();
    for day in 0..90 {
        fake_package(dir.path(), "MESDWH", &format_rfc3339_millis(start + day * 86_400_000));
    }
    let other = fake_package(dir.path(), "MESCDM", "2025-06-01T02:00:00Z");
    let expected_days = [
        "2026-01-31",
        "2026-02-28",
        "2026-03-15",
        "2026-03-22",
        "2026-03-25",
        "2026-03-26",
        "2026-03-27",
        "2026-03-28",
        "2026-03-29",
        "2026-03-30",
        "2026-03-31",
    ];
    let mut expected: Vec<String> = expected_days
        .iter()
        .map(|d| format!("MESDWH_{}.zip", parse_rfc3339(&format!("{d}T02:00:00Z")).unwrap()))
        .chain([other])
        .collect();
    expected.sort();
    let policy = ["--keep-last", "2", "--keep-daily", "7", "--keep-weekly", "4", "--keep-monthly", "3"];

    let mut c = command();
    c.arg("prune").arg(dir.path()).args(policy).arg("--json");
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    validate_events(&r.events).unwrap();
    let kept: Vec<&Value> = r.events[0]["entries"].as_array().unwrap().iter().filter(|e| e["keep"] == true).collect();
    assert_eq!(kept.len(), expected.len(), "dry run plans the same");
    assert_eq!(packages(dir.path()).len(), 91, "a dry run deletes nothing");
    let newest = kept.iter().find(|e| e["finished_at"] == "2026-03-31T02:00:00.000Z").unwrap();
    assert_eq!(newest["reasons"], json!(["last", "daily", "weekly", "monthly", "newest_verified"]));

    let mut c = command();
    c.arg("prune").arg(dir.path()).args(policy).arg("--yes");
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(packages(dir.path()), expected);
}

#[test]
fn sigterm_during_a_before_hook_stops_the_hook_and_sends_nothing() {
    if skipped_under_launcher("sigterm_during_a_before_hook_stops_the_hook_and_sends_nothing") {
        return;
    }
    let m = mock(json!({}));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let pid_file = dir.path().join("hook.pid");
    let grandchild_file = dir.path().join("started-by-hook.pid");
    let marker = dir.path().join("on_error.txt");
    let hooks = format!(
        "[environment.hooks]\nbefore = [[\"sh\", \"-c\", \"sleep 600 & echo $! > {}; echo $$ > {}; wait\"]]\non_error = \
         [[\"sh\", \"-c\", \"echo $MESBACKUP_RESULT > {}\"]]\n",
        grandchild_file.display(),
        pid_file.display(),
        marker.display()
    );
    let config = write_config(dir.path(), &environment("e", &m.base_url(), &out, &hooks));
    let mut c = command();
    c.arg("run").arg("--config").arg(&config).arg("--json").env(TOKEN_VAR, "admin-token");
    let (child, rx) = spawn_json(c);
    // The hook is running once it wrote its PID (after starting a process of its own, as a script
    // running sqlcmd does).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let pid: i32 = loop {
        if let Some(pid) = fs::read_to_string(&pid_file).ok().and_then(|t| t.trim().parse().ok()) {
            break pid;
        }
        assert!(std::time::Instant::now() < deadline, "the before hook never started");
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    common::send_signal(&child, libc::SIGTERM);
    let (code, events) = finish_json(child, rx, Vec::new());
    assert_eq!(code, 130, "{events:?}");
    validate_events(&events).unwrap();
    let e = env_report(events.iter().rev().find(|e| e["event"] == "run_summary").unwrap(), "e");
    assert_eq!(e["failed_step"], "before_hook");
    assert!(!alive(pid), "the hook (pid {pid}) was left running");
    let grandchild: i32 = fs::read_to_string(&grandchild_file).unwrap().trim().parse().unwrap();
    assert!(!alive(grandchild), "what the hook started (pid {grandchild}) was left running");
    assert!(m.log().is_empty(), "nothing may be sent: {:?}", m.log());
    assert_eq!(fs::read_to_string(&marker).unwrap().trim(), "failed", "on_error hooks still run");
}

/// Whether `pid` runs (a zombie waiting for a parent that does not reap it is not running).
fn alive(pid: i32) -> bool {
    for _ in 0..100 {
        match fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => return false,
            Ok(stat) if stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')) => return false,
            Ok(_) => std::thread::sleep(std::time::Duration::from_millis(20)),
        }
    }
    true
}

#[test]
fn a_three_line_config_is_named_after_its_system_and_uses_the_mes_variables() {
    let m = mock(json!({}));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let three_lines =
        format!("[[environment]]\nurl = \"{}\"\nsystem = \"MES\"\nout = \"{}\"\n", m.base_url(), out.display());
    let config = write_config(dir.path(), &three_lines);

    // Neither MES_TOKEN nor MES_USER + MES_PAT: refused, naming both ways and the keys; nothing sent.
    let mut c = command();
    c.arg("run").arg("--config").arg(&config);
    let r = run(c);
    assert_eq!(r.code, 2, "{}", r.stderr);
    for needle in ["environment \"MES\"", "MES_TOKEN", "MES_USER", "MES_PAT", "token_env", "token_file"] {
        assert!(r.stderr.contains(needle), "{needle} not in {}", r.stderr);
    }
    assert!(m.log().is_empty(), "nothing may be sent: {:?}", m.log());

    let mut c = command();
    c.arg("run").arg("--config").arg(&config).arg("--json").env("MES_TOKEN", "admin-token");
    let r = run(c);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    validate_events(&r.events).unwrap();
    let e = env_report(summary(&r), "MES");
    assert_eq!(e["result"], "ok", "{e}");
    assert_eq!(packages(&out).len(), 4);

    // The PAT way, and a hook of such an environment sees neither variable.
    if skipped_under_launcher("a_three_line_config (hooks)") {
        return;
    }
    let seen = dir.path().join("hook.env");
    let with_hook =
        format!("{three_lines}[environment.hooks]\nbefore = [[\"sh\", \"-c\", \"env > {}\"]]\n", seen.display());
    let config = write_config(dir.path(), &with_hook);
    let mut c = command();
    c.arg("run").arg("--config").arg(&config).arg("--json");
    c.env("MES_USER", "admin").env("MES_PAT", "admin-pat");
    let r = run(c);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let seen = fs::read_to_string(&seen).unwrap();
    assert!(!seen.contains("admin-pat") && !seen.contains("MES_USER=") && !seen.contains("MES_PAT="), "{seen}");
    assert!(seen.contains("MESBACKUP_ENVIRONMENT=MES"), "{seen}");
}

#[test]
fn wait_until_retries_the_check_then_the_backups_run() {
    if skipped_under_launcher("wait_until_retries_the_check_then_the_backups_run") {
        return;
    }
    let m = mock(json!({}));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let count = dir.path().join("attempts");
    let seen = dir.path().join("seen");
    // Succeeds at its 3rd attempt (the Work Queue Lag reaching 0), counting attempts in a file.
    let check = format!(
        "n=$(cat {c} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {c}; echo \"$MESBACKUP_HOOK ${{MES_TOKEN:-none}} \
         ${{{TOKEN_VAR}:-none}}\" > {s}; [ $n -ge 3 ]",
        c = count.display(),
        s = seen.display()
    );
    let before = dir.path().join("before-ran");
    let text = environment(
        "e",
        &m.base_url(),
        &out,
        &format!(
            "[environment.wait_until]\ncommand = [\"sh\", \"-c\", {check:?}]\ninterval = \"100ms\"\ndeadline = \"1m\"\n\
             [environment.hooks]\nbefore = [[\"sh\", \"-c\", \"cat {c} > {b}\"]]\n",
            c = count.display(),
            b = before.display()
        ),
    );
    let config = write_config(dir.path(), &text);
    let mut c = command();
    c.arg("run").arg("--config").arg(&config).arg("--json").env(TOKEN_VAR, "admin-token").env("MES_TOKEN", "x-tok");
    let r = run(c);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    validate_events(&r.events).unwrap();
    assert_eq!(fs::read_to_string(&count).unwrap().trim(), "3");
    assert_eq!(fs::read_to_string(&before).unwrap().trim(), "3", "the before hook ran after the 3rd attempt");
    assert_eq!(fs::read_to_string(&seen).unwrap().trim(), "wait_until none none", "no credential reaches the check");
    let e = env_report(summary(&r), "e");
    assert_eq!((e["wait_until"]["ok"].as_bool(), e["wait_until"]["attempts"].as_u64()), (Some(true), Some(3)), "{e}");
    assert_eq!(packages(&out).len(), 4);
}

#[test]
fn wait_until_that_never_succeeds_fails_at_its_deadline_and_sends_nothing() {
    if skipped_under_launcher("wait_until_that_never_succeeds_fails_at_its_deadline_and_sends_nothing") {
        return;
    }
    let m = mock(json!({}));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let marker = dir.path().join("on_error.txt");
    let before = dir.path().join("before-ran");
    let text = environment(
        "e",
        &m.base_url(),
        &out,
        &format!(
            "[environment.wait_until]\ncommand = [\"false\"]\ninterval = \"100ms\"\ndeadline = \"700ms\"\n\
             [environment.hooks]\nbefore = [[\"touch\", \"{}\"]]\non_error = [[\"sh\", \"-c\", \"echo \
             $MESBACKUP_RESULT > {}\"]]\n",
            before.display(),
            marker.display()
        ),
    );
    let config = write_config(dir.path(), &text);
    let started = std::time::Instant::now();
    let r = mesbackup_run(&config, &["--json"]);
    assert_eq!(r.code, 21, "{}\n{}", r.stdout, r.stderr);
    assert!(started.elapsed() >= std::time::Duration::from_millis(600), "it waited for the deadline");
    validate_events(&r.events).unwrap();
    let e = env_report(summary(&r), "e");
    assert_eq!(e["failed_step"], "wait_until", "{e}");
    assert!(e["message"].as_str().unwrap().contains("deadline"), "{e}");
    assert_eq!(e["wait_until"]["ok"], false);
    assert!(e["wait_until"]["attempts"].as_u64().unwrap() >= 3, "{e}");
    assert!(e["databases"].as_array().unwrap().iter().all(|d| d["outcome"] == "not_started"));
    assert!(m.log().is_empty(), "nothing may be sent: {:?}", m.log());
    assert!(!before.exists(), "the before hooks never ran");
    assert_eq!(fs::read_to_string(&marker).unwrap().trim(), "failed", "on_error hooks ran");
    // Without --json, each attempt is a line for people.
    let r = mesbackup_run(&config, &[]);
    assert_eq!(r.code, 21);
    assert!(r.stderr.matches("e: wait_until attempt").count() >= 2, "a step per attempt:\n{}", r.stderr);
    assert!(r.stdout.lines().any(|l| l.starts_with("e ") && l.contains("wait_until: ")), "{}", r.stdout);

    let r = mesbackup_run(&config, &["--dry-run"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("wait until false exits 0 (every 100 ms, at most 700 ms)"), "{}", r.stdout);
}

/// A push monitor on this machine (Healthchecks style): records each request's method, path and
/// body, answers 200.
struct PingReceiver {
    url: String,
    got: std::sync::Arc<std::sync::Mutex<Vec<(String, String, String)>>>,
}

impl PingReceiver {
    fn start() -> PingReceiver {
        use std::io::{BufRead, BufReader, Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/ping/0f1e2d3c-uuid", listener.local_addr().unwrap());
        let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let record = got.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut first = String::new();
                if reader.read_line(&mut first).is_err() {
                    continue;
                }
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                        break;
                    }
                    if let Some((k, v)) = line.split_once(':') {
                        if k.eq_ignore_ascii_case("content-length") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let mut parts = first.split_whitespace();
                let (method, path) = (parts.next().unwrap_or("").to_owned(), parts.next().unwrap_or("").to_owned());
                record.lock().unwrap().push((method, path, String::from_utf8_lossy(&body).into_owned()));
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nOK");
            }
        });
        PingReceiver { url, got }
    }

    fn requests(&self) -> Vec<(String, String, String)> {
        self.got.lock().unwrap().clone()
    }
}

#[test]
fn the_ping_url_hears_start_then_success_or_failure_with_the_summary() {
    let healthy = mock(json!({}));
    let broken =
        mock(json!({"faults": [{"method": "POST", "nth": "all", "status": 500, "body": "ClickHouse is down"}]}));
    let dir = tempfile::tempdir().unwrap();
    let ping = PingReceiver::start();
    let text = format!(
        "[ping]\nurl_env = \"NIGHTLY_PING_URL\"\n{}{}",
        environment("good", &healthy.base_url(), &dir.path().join("good"), ""),
        environment("bad", &broken.base_url(), &dir.path().join("bad"), "")
    );
    let config = write_config(dir.path(), &text);
    let ping_run = |args: &[&str], url: &str| {
        let mut c = command();
        c.arg("run").arg("--config").arg(&config).args(args).env(TOKEN_VAR, "admin-token");
        c.env("NIGHTLY_PING_URL", url);
        run(c)
    };

    let r = ping_run(&["--json", "--only", "good"], &ping.url);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let got = ping.requests();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!((got[0].0.as_str(), got[0].1.as_str()), ("POST", "/ping/0f1e2d3c-uuid/start"));
    assert_eq!((got[1].0.as_str(), got[1].1.as_str()), ("POST", "/ping/0f1e2d3c-uuid"));
    assert!(got[1].2.contains("good: ok"), "{got:?}");
    assert!(!got[1].2.contains("admin-token"));
    assert_eq!(summary(&r)["ping_errors"], json!([]));

    let r = ping_run(&["--json"], &ping.url);
    assert_eq!(r.code, 7, "{}\n{}", r.stdout, r.stderr);
    let got = ping.requests();
    assert_eq!(got.len(), 4, "{got:?}");
    assert_eq!(got[2].1, "/ping/0f1e2d3c-uuid/start");
    assert_eq!(got[3].1, "/ping/0f1e2d3c-uuid/fail");
    assert!(got[3].2.contains("good: ok") && got[3].2.contains("bad: failed at backup: "), "{}", got[3].2);
    assert!(got[3].2.contains("ClickHouse is down") || got[3].2.contains("500"), "{}", got[3].2);

    // A monitor that cannot be reached: a warning and ping_errors, the same exit code.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let down = format!("http://{}/ping/x", closed.local_addr().unwrap());
    drop(closed);
    let r = ping_run(&["--json", "--only", "good"], &down);
    assert_eq!(r.code, 0, "a failed ping never fails the run: {}\n{}", r.stdout, r.stderr);
    validate_events(&r.events).unwrap();
    let errors = summary(&r)["ping_errors"].as_array().unwrap().clone();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(r.events.iter().any(|e| e["event"] == "warning" && e["message"].as_str().unwrap().contains("ping")));

    // Plain http:// to another machine is refused before anything is sent.
    let r = ping_run(&[], "http://hc-ping.example/s3cret-id");
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("ping.url_env") && !r.stderr.contains("s3cret-id"), "{}", r.stderr);
}

#[test]
fn the_exit_code_is_the_worst_outcome_not_the_first() {
    if skipped_under_launcher("the_exit_code_is_the_worst_outcome_not_the_first") {
        return;
    }
    let healthy = mock(json!({}));
    let broken = mock(json!({"faults": [{"method": "POST", "nth": "all", "status": 500, "body": "down"}]}));
    let dir = tempfile::tempdir().unwrap();
    // First in file: a failing before hook (21); second: a server error (7), which is worse.
    let text = format!(
        "{}{}",
        environment(
            "hook",
            &healthy.base_url(),
            &dir.path().join("h"),
            "[environment.hooks]\nbefore = [[\"false\"]]\n"
        ),
        environment("server", &broken.base_url(), &dir.path().join("s"), "")
    );
    let config = write_config(dir.path(), &text);
    let r = mesbackup_run(&config, &["--json"]);
    assert_eq!(r.code, 7, "{}\n{}", r.stdout, r.stderr);
    let s = summary(&r);
    assert_eq!(s["exit_code"], 7);
    assert_eq!(env_report(s, "hook")["exit_code"], 21, "each environment keeps its own code");
    assert_eq!(env_report(s, "server")["exit_code"], 7);
}

#[test]
fn the_storage_report_counts_packages_and_warns_on_little_free_space_without_failing() {
    let m = mock(json!({}));
    let dir = tempfile::tempdir().unwrap();
    let (low_out, ok_out) = (dir.path().join("low"), dir.path().join("ok"));
    fs::create_dir_all(&low_out).unwrap();
    let old = fake_package(&low_out, "MESCDM", "2026-01-01T02:00:00Z");
    assert!(!old.is_empty());
    // A threshold above any real free space, and one no real disk is under.
    let text = format!(
        "{}{}",
        environment("low", &m.base_url(), &low_out, "warn_free_below = \"1000000TiB\""),
        environment("roomy", &m.base_url(), &ok_out, "warn_free_below = \"1B\"")
    );
    let config = write_config(dir.path(), &text);
    let metrics = dir.path().join("m.prom");
    let r = mesbackup_run(&config, &["--json", "--metrics-file", metrics.to_str().unwrap()]);
    assert_eq!(r.code, 0, "low space never fails the run: {}\n{}", r.stdout, r.stderr);
    validate_events(&r.events).unwrap();
    let s = summary(&r);
    let storage = s["storage"].as_array().unwrap();
    let low = storage.iter().find(|f| f["environment"] == "low").unwrap();
    let roomy = storage.iter().find(|f| f["environment"] == "roomy").unwrap();
    assert_eq!((low["low"].as_bool(), roomy["low"].as_bool()), (Some(true), Some(false)), "{storage:?}");
    assert_eq!(low["role"], "out");
    assert!(low["free_bytes"].as_u64().unwrap() > 0 && low["total_bytes"].as_u64() >= low["free_bytes"].as_u64());
    let cdm = low["databases"].as_array().unwrap().iter().find(|d| d["database"] == "MESCDM").unwrap();
    let new_cdm = fs::metadata(env_report(s, "low")["databases"][1]["file"].as_str().unwrap()).unwrap().len();
    assert_eq!(cdm["packages"], 2, "tonight's and the old one: {cdm}");
    assert_eq!(cdm["bytes"].as_u64().unwrap(), new_cdm + 1, "{cdm}");
    let warnings: Vec<&str> =
        r.events.iter().filter(|e| e["event"] == "warning").filter_map(|e| e["message"].as_str()).collect();
    assert!(
        warnings.iter().any(|w| w.contains("low: little free space") && w.contains("warn_free_below")),
        "{warnings:?}"
    );
    assert!(!warnings.iter().any(|w| w.contains("roomy")), "{warnings:?}");
    let text = fs::read_to_string(&metrics).unwrap();
    assert!(text.contains("mesbackup_folder_free_bytes{environment=\"low\",folder="), "{text}");
    assert!(text.contains("mesbackup_packages_bytes{environment=\"low\",database=\"MESCDM\",role=\"out\"} "), "{text}");
    promtool_check(&metrics);

    let r = mesbackup_run(&config, &["--only", "low"]);
    assert_eq!(r.code, 0);
    assert!(r.stderr.lines().any(|l| l.starts_with("low: out ") && l.contains("LOW")), "{}", r.stderr);
}
