//! One vocabulary: the spellings the CLI shares with Python, JavaScript and PowerShell, and the old
//! spellings it still accepts for one release. Each old spelling must still do what it did, say on
//! stderr that it is deprecated and what to write instead, and stay out of `--help`.

mod common;

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{command, fast, mock, names, run, Run};

const DEPRECATED: &str = "is deprecated and will be removed in the next release";

fn backup(out: &Path, extra: &[&str]) -> Run {
    let m = mock(serde_json::json!({}));
    let mut c = command();
    c.args(["backup", "MESCDM", "--env", &m.base_url()]).arg("--out").arg(out).args(extra);
    c.env("MES_TOKEN", "admin-token");
    fast(&mut c);
    let r = run(c);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    r
}

fn zips(dir: &Path) -> Vec<String> {
    names(dir).into_iter().filter(|n| n.ends_with(".zip")).collect()
}

fn warnings(r: &Run) -> Vec<&str> {
    r.stderr.lines().filter(|l| l.contains(DEPRECATED)).collect()
}

#[test]
fn version_alone_saves_under_the_system_specific_installer_name() {
    let out = tempfile::tempdir().unwrap();
    let r = backup(out.path(), &["--version", "11.3.0"]);
    assert_eq!(zips(out.path()), ["MES.Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip"]);
    assert!(warnings(&r).is_empty(), "{}", r.stderr);

    let out = tempfile::tempdir().unwrap();
    let r = backup(out.path(), &["--version", "11.3.0", "--generic-names"]);
    assert_eq!(zips(out.path()), ["Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip"]);
    assert!(warnings(&r).is_empty(), "{}", r.stderr);
}

#[test]
fn installer_names_still_works_as_before_and_warns() {
    // The old spelling keeps its old default, the generic names, for its last release.
    let out = tempfile::tempdir().unwrap();
    let r = backup(out.path(), &["--installer-names", "--version", "11.3.0"]);
    assert_eq!(zips(out.path()), ["Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip"]);
    let w = warnings(&r);
    assert_eq!(w.len(), 1, "{}", r.stderr);
    assert!(w[0].contains("--installer-names") && w[0].contains("--generic-names"), "{}", w[0]);

    let out = tempfile::tempdir().unwrap();
    let r = backup(out.path(), &["--installer-names", "--version", "11.3.0", "--system-specific"]);
    assert_eq!(zips(out.path()), ["MES.Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip"]);
    let w = warnings(&r);
    assert_eq!(w.len(), 2, "{}", r.stderr);
    assert!(w.iter().any(|l| l.contains("--system-specific") && l.contains("default")), "{}", r.stderr);
}

fn backed_up_package() -> (tempfile::TempDir, PathBuf) {
    let src = tempfile::tempdir().unwrap();
    backup(src.path(), &[]);
    let package = src.path().join("MESCDM.zip");
    assert!(package.is_file());
    (src, package)
}

fn stage(package: &Path, into: &Path, extra: &[&str]) -> Run {
    let mut c = command();
    c.arg("stage").arg(package).arg("--into").arg(into).args(["--system", "MES", "--version", "11.3.0"]).args(extra);
    run(c)
}

#[test]
fn stage_defaults_to_system_specific_names_and_overwrite_replaces() {
    let (_src, package) = backed_up_package();
    let into = tempfile::tempdir().unwrap();
    let r = stage(&package, into.path(), &[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(zips(into.path()), ["MES.Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip"]);
    let r = stage(&package, into.path(), &[]);
    assert_eq!(r.code, 12, "an existing file is never replaced unless asked: {}{}", r.stdout, r.stderr);
    let r = stage(&package, into.path(), &["--overwrite"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(warnings(&r).is_empty(), "{}", r.stderr);
    let r = stage(&package, into.path(), &["--generic-names"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(
        zips(into.path()),
        ["Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip", "MES.Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip"]
    );
}

#[test]
fn stage_force_and_system_specific_still_work_and_warn() {
    let (_src, package) = backed_up_package();
    let into = tempfile::tempdir().unwrap();
    std::fs::write(into.path().join("MES.Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip"), b"old").unwrap();
    let r = stage(&package, into.path(), &["--system-specific", "--force"]);
    assert_eq!(r.code, 0, "--force still replaces: {}{}", r.stdout, r.stderr);
    assert_eq!(
        std::fs::metadata(into.path().join("MES.Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip")).unwrap().len(),
        std::fs::metadata(&package).unwrap().len()
    );
    let w = warnings(&r);
    assert!(w.iter().any(|l| l.contains("--force") && l.contains("--overwrite")), "{}", r.stderr);
    assert!(w.iter().any(|l| l.contains("--system-specific")), "{}", r.stderr);
    let r = stage(&package, into.path(), &["--system-specific", "--generic-names"]);
    assert_eq!(r.code, 2, "contradictory spellings are refused: {}", r.stderr);
}

/// A "ClickHouse" that accepts connections and never answers: only the restore's timeout ends a
/// restore against it.
fn silent_clickhouse() -> (String, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().take(4) {
            let Ok(mut s) = stream else { break };
            let mut buf = [0u8; 1024];
            let _ = s.set_read_timeout(Some(std::time::Duration::from_millis(50)));
            let _ = s.read(&mut buf);
            held.push(s);
        }
        std::thread::sleep(std::time::Duration::from_secs(10));
    });
    (url, handle)
}

fn restore_with_timeout(timeout: &str) -> (Run, std::time::Duration) {
    let package = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/clickhouse/mesfix_stored.zip");
    let (url, _server) = silent_clickhouse();
    let mut c: Command = command();
    c.arg("restore").arg(&package).args(["--clickhouse", &url, "--dry-run", "--timeout", timeout, "--json"]);
    let started = std::time::Instant::now();
    let r = run(c);
    (r, started.elapsed())
}

#[test]
fn restore_timeout_takes_a_duration_and_for_now_bare_seconds_with_a_warning() {
    let (r, took) = restore_with_timeout("1500ms");
    assert_eq!(r.code, 9, "the timeout ends it (kind timeout): {}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("timeout (1.5 s)"), "{}", r.stdout);
    assert!(took < std::time::Duration::from_secs(8), "{took:?}");
    assert!(warnings(&r).is_empty(), "{}", r.stderr);

    let (r, took) = restore_with_timeout("1");
    assert_eq!(r.code, 9, "a bare number is still seconds: {}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("timeout (1 s)"), "{}", r.stdout);
    assert!(took < std::time::Duration::from_secs(8), "{took:?}");
    let w = warnings(&r);
    assert_eq!(w.len(), 1, "{}", r.stderr);
    assert!(w[0].contains("--timeout 1s"), "{}", w[0]);
}

#[test]
fn old_spellings_stay_out_of_help_and_the_shared_ones_are_in_it() {
    let help = |cmd: &str| {
        let mut c = command();
        c.args([cmd, "--help"]);
        let r = run(c);
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.stdout
    };
    let backup = help("backup");
    for shown in
        ["--version", "--generic-names", "--overwrite", "--min-poll-delay", "--retry-delay", "--request-timeout"]
    {
        assert!(backup.contains(shown), "backup --help lacks {shown}");
    }
    for hidden in ["--installer-names", "--system-specific"] {
        assert!(!backup.contains(hidden), "backup --help shows the deprecated {hidden}");
    }
    let stage = help("stage");
    assert!(stage.contains("--overwrite") && stage.contains("--generic-names"));
    assert!(!stage.contains("--force") && !stage.contains("--system-specific"), "{stage}");
    let restore = help("restore");
    assert!(restore.contains("--timeout <DURATION>"), "{restore}");
}
