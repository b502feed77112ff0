//! Everything the binary writes is private by default, set exactly (not through the umask): files
//! 0600, folders it creates 0700; `--file-mode` / `--dir-mode` give exactly the wider modes asked for.
//! Every run here is under umask 022, the usual one, which would otherwise leave 0644 / 0755.

mod common;

use std::fs;
use std::path::Path;

use common::{
    command, fast, finish_json, mock, mode_of, names, run, spawn_json, validate_events, wait_for_event, with_umask,
};
use serde_json::json;

/// `mesbackup <args> --env <mock>` with a token, fast polling and umask 022.
fn cli(m: &mock_mes::MockMes, args: &[&str]) -> std::process::Command {
    let mut c = command();
    c.args(args).args(["--env", &m.base_url()]).env("MES_TOKEN", "admin-token");
    fast(&mut c);
    with_umask(&mut c, 0o022);
    c
}

/// Every file and folder under `dir` (not `dir` itself) with its mode.
fn modes_under(dir: &Path) -> Vec<(String, u32)> {
    let mut out = Vec::new();
    for name in names(dir) {
        let path = dir.join(&name);
        out.push((name.clone(), mode_of(&path)));
        if path.is_dir() {
            out.extend(modes_under(&path).into_iter().map(|(n, m)| (format!("{name}/{n}"), m)));
        }
    }
    out
}

fn assert_modes(dir: &Path, file: u32, folder: u32) {
    let all = modes_under(dir);
    assert!(!all.is_empty());
    for (name, mode) in &all {
        let want = if dir.join(name).is_dir() { folder } else { file };
        assert_eq!(*mode, want, "{name}: {mode:o}, expected {want:o}; all: {all:?}");
    }
}

#[test]
fn backup_download_stage_and_kept_diagnostics_are_private_by_default() {
    let tmp = tempfile::tempdir().unwrap();
    // A slow download, to look at the temporary file while it is written.
    let m = mock(
        json!({"payload": {"size": 400_000, "seed": 2}, "download": {"drip": {"chunk": 8192, "interval_ms": 20}}}),
    );
    let out = tmp.path().join("new").join("backups");
    let mut c = cli(&m, &["backup", "MESCDM", "--json"]);
    c.arg("--out").arg(&out);
    let (child, rx) = spawn_json(c);
    let mut seen = Vec::new();
    wait_for_event(&rx, "progress", &mut seen);
    let partial: Vec<String> = names(&out).into_iter().filter(|n| n.ends_with(".mesbackup-partial")).collect();
    assert_eq!(partial.len(), 1, "{:?}", names(&out));
    assert_eq!(mode_of(&out.join(&partial[0])), 0o600, "the temporary file");
    let (code, seen) = finish_json(child, rx, seen);
    assert_eq!(code, 0, "{seen:?}");
    validate_events(&seen).unwrap();

    // download of a backup started earlier, into the same folder.
    m.set_scenario(json!({})).unwrap();
    let r = run(cli(&m, &["start", "MESODS"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut c = cli(&m, &["download", r.stdout.trim()]);
    c.arg("--out").arg(&out);
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);

    // A 200 that is not a zip is kept for diagnosis, as privately as a package.
    m.set_scenario(json!({"ready_body": {"content_type": "text/html", "body": "<html>502 Bad Gateway</html>"}}))
        .unwrap();
    let mut c = cli(&m, &["backup", "MESDWH"]);
    c.arg("--out").arg(&out);
    assert_eq!(run(c).code, 8);

    let files = names(&out);
    assert_eq!(files.len(), 5, "{files:?}");
    assert!(files.iter().any(|n| n.ends_with(".not-a-package.html")), "{files:?}");
    // "new" and "new/backups" were created by mesbackup: 0700; everything in them 0600.
    assert_modes(tmp.path(), 0o600, 0o700);

    // stage into an existing folder (0755, chosen by someone): the folder stays, the copies are 0600.
    let into = tmp.path().join("installer");
    fs::create_dir(&into).unwrap();
    fs::set_permissions(&into, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut c = command();
    c.arg("stage").arg(out.join("MESCDM.zip")).arg(out.join("MESODS.zip")).arg("--into").arg(&into);
    c.args(["--system", "MES", "--version", "11.3.0"]);
    with_umask(&mut c, 0o022);
    let r = run(c);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(mode_of(&into), 0o755);
    assert_eq!(names(&into).len(), 4);
    assert_modes(&into, 0o600, 0o700);
}

#[test]
fn file_mode_and_dir_mode_are_applied_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let m = mock(json!({"payload": {"size": 50_000, "seed": 3}}));
    let out = tmp.path().join("group").join("backups");
    let mut c = cli(&m, &["backup", "--system", "MES", "--file-mode", "0640", "--dir-mode", "0750"]);
    c.arg("--out").arg(&out);
    // Under umask 077 too: the modes asked for are set, not filtered by the umask.
    with_umask(&mut c, 0o077);
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(names(&out).len(), 8);
    assert_modes(tmp.path(), 0o640, 0o750);

    let into = tmp.path().join("installer");
    fs::create_dir(&into).unwrap();
    let mut c = command();
    c.arg("stage").arg(out.join("MESCDM.zip")).arg("--into").arg(&into).arg("--move");
    c.args(["--system", "MES", "--version", "11.3.0", "--file-mode", "0644"]);
    with_umask(&mut c, 0o022);
    assert_eq!(run(c).code, 0);
    assert_modes(&into, 0o644, 0o700);

    // The demo's folder and packages too.
    let demo = tmp.path().join("demo");
    let mut c = command();
    c.args(["demo", "--pending", "1s", "--size-mib", "1", "--file-mode", "0640", "--dir-mode", "0750"])
        .arg("--out")
        .arg(&demo);
    with_umask(&mut c, 0o022);
    let r = run(c);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(mode_of(&demo), 0o750);
    assert_modes(&demo, 0o640, 0o750);
}

#[test]
fn a_mode_that_would_expose_or_lose_data_is_refused_before_anything_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let m = mock(json!({}));
    for (option, value) in
        [("--file-mode", "0666"), ("--file-mode", "rw-r-----"), ("--dir-mode", "0777"), ("--dir-mode", "0600")]
    {
        let out = tmp.path().join("never");
        let mut c = cli(&m, &["backup", "MESCDM", "--json", option, value]);
        c.arg("--out").arg(&out);
        let r = run(c);
        assert_eq!(r.code, 2, "{option} {value}: {}", r.stdout);
        validate_events(&r.events).unwrap();
        let message = r.events.last().unwrap()["error"]["message"].as_str().unwrap().to_owned();
        assert!(message.contains(option) && message.contains("use"), "{message}");
        assert!(!out.exists(), "{option} {value}: the folder was created");
    }
    assert!(m.log().is_empty(), "a request reached the MES: {:?}", m.log());
}
