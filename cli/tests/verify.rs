//! `verify`, `inspect` and `window` through the binary: real ClickHouse backups (the committed
//! fixtures), a package downloaded from the mock, damaged copies, sidecars. Every `--json` output is
//! validated against cli/events.schema.json.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{command, run, validate_events, Run};
use mesbackup_core::ErrorKind;
use mock_mes::MockMes;
use serde_json::{json, Value};

const INTEGRITY: i32 = 11;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/clickhouse")
}

fn fixture(name: &str) -> PathBuf {
    fixtures().join(name)
}

fn mesbackup(args: &[&str], paths: &[&Path]) -> Run {
    let mut c = command();
    c.args(args);
    for p in paths {
        c.arg(p);
    }
    let r = run(c);
    validate_events(&r.events).unwrap();
    r
}

fn sha256_hex(path: &Path) -> String {
    // The binary computes it; read it back from a verify run without a sidecar.
    let r = mesbackup(&["verify", "--json"], &[path]);
    r.events[0]["report"]["sha256"].as_str().unwrap().to_owned()
}

fn write_sidecar(package: &Path, sha256: &str, database: &str, started: &str, finished: &str) {
    let name = package.file_name().unwrap().to_string_lossy().into_owned();
    let size = fs::metadata(package).map(|m| m.len()).unwrap_or(0);
    let sidecar = json!({
        "format": "mesbackup-sidecar/1",
        "tool": "mesbackup/test",
        "file_name": name,
        "database": database,
        "guid": "5b1c0f9e-2d7a-4c1e-9a53-0c6f1b2d3e4f",
        "environment_url": "https://mes.example/",
        "size": size,
        "sha256": sha256,
        "started_at": started,
        "ready_at": finished,
        "finished_at": finished,
    });
    fs::write(package.with_file_name(format!("{name}.mesbackup.json")), sidecar.to_string()).unwrap();
}

/// Offset and name of the data of the first stored `.bin` entry with content, in a zip written with
/// sizes in its local headers (as the stored fixture is).
fn first_bin_entry(zip: &[u8]) -> (usize, String) {
    let mut i = 0;
    while i + 30 <= zip.len() {
        if zip[i..i + 4] == *b"PK\x03\x04" {
            let u16_at = |o: usize| u16::from_le_bytes([zip[i + o], zip[i + o + 1]]) as usize;
            let csize = u32::from_le_bytes(zip[i + 18..i + 22].try_into().unwrap()) as usize;
            let (n, m) = (u16_at(26), u16_at(28));
            let name = String::from_utf8_lossy(&zip[i + 30..i + 30 + n]).into_owned();
            let data = i + 30 + n + m;
            if name.ends_with(".bin") && csize > 8 && u16_at(8) == 0 {
                return (data + csize / 2, name);
            }
            i = data + csize;
        } else {
            i += 1;
        }
    }
    panic!("no stored .bin entry in the fixture");
}

#[test]
fn real_engine_fixtures_verify() {
    let stored = fixture("mesfix_stored.zip");
    let deflated = fixture("mesfix_deflated.zip");
    let r = mesbackup(&["verify"], &[&stored, &deflated]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.stdout.lines().filter(|l| l.starts_with("OK ")).count(), 2, "{}", r.stdout);

    let r = mesbackup(&["verify", "--json"], &[&stored, &deflated]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.events.len(), 2);
    for e in &r.events {
        assert_eq!(e["event"], "verified");
        assert_eq!(e["report"]["ok"], true, "{e}");
        assert!(e["report"]["files_checked"].as_u64().unwrap() > 0);
        assert_eq!(e["report"]["sha256"].as_str().unwrap().len(), 64);
    }
}

#[test]
fn a_flipped_byte_in_a_data_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = fs::read(fixture("mesfix_stored.zip")).unwrap();
    let (offset, entry) = first_bin_entry(&bytes);
    bytes[offset] ^= 0x01;
    let bad = dir.path().join("flipped.zip");
    fs::write(&bad, &bytes).unwrap();

    let r = mesbackup(&["verify"], &[&bad]);
    assert_eq!(r.code, INTEGRITY);
    assert_eq!(r.code, ErrorKind::Integrity.exit_code());
    assert!(r.stdout.contains("FAILED") && r.stdout.contains(&entry), "{entry}: {}", r.stdout);

    let r = mesbackup(&["verify", "--json"], &[&fixture("mesfix_deflated.zip"), &bad]);
    assert_eq!(r.code, INTEGRITY);
    assert_eq!(r.events[0]["report"]["ok"], true);
    assert_eq!(r.events[1]["event"], "verified");
    assert_eq!(r.events[1]["report"]["ok"], false);
    let failed = &r.events[2];
    assert_eq!(failed["event"], "failed");
    assert_eq!(failed["error"]["kind"], "integrity");
    assert_eq!(failed["path"], bad.display().to_string());
    assert!(failed["error"]["message"].as_str().unwrap().contains(&entry), "{failed}");
}

#[test]
fn a_truncated_package_fails() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = fs::read(fixture("mesfix_deflated.zip")).unwrap();
    let cut = dir.path().join("cut.zip");
    fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let r = mesbackup(&["verify", "--json"], &[&cut]);
    assert_eq!(r.code, INTEGRITY, "{}", r.stdout);
    assert_eq!(r.events[0]["report"]["ok"], false);
    assert_eq!(r.events.last().unwrap()["error"]["kind"], "integrity");
    let r = mesbackup(&["verify"], &[&cut]);
    assert_eq!(r.code, INTEGRITY);
    assert!(r.stdout.contains("FAILED"), "{}", r.stdout);
}

#[test]
fn the_sidecar_sha256_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let pkg = dir.path().join("MESFIX.zip");
    fs::copy(fixture("mesfix_deflated.zip"), &pkg).unwrap();
    let sha = sha256_hex(&pkg);

    write_sidecar(&pkg, &sha, "MESFIX", "2026-11-25T14:00:00.000Z", "2026-11-25T14:05:00.000Z");
    let r = mesbackup(&["verify"], &[&pkg]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("matches the sidecar"), "{}", r.stdout);

    write_sidecar(&pkg, &"0".repeat(64), "MESFIX", "2026-11-25T14:00:00.000Z", "2026-11-25T14:05:00.000Z");
    let r = mesbackup(&["verify", "--json"], &[&pkg]);
    assert_eq!(r.code, INTEGRITY);
    let problems = r.events[0]["report"]["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0]["kind"], "sha256_mismatch");
    assert_eq!(problems[0]["actual"], sha.as_str());
    let r = mesbackup(&["verify"], &[&pkg]);
    assert_eq!(r.code, INTEGRITY);
    assert!(r.stdout.contains("sidecar says"), "{}", r.stdout);
}

#[test]
fn a_missing_file_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.zip");
    let r = mesbackup(&["verify", "--json"], &[&fixture("mesfix_stored.zip"), &missing]);
    assert_eq!(r.code, ErrorKind::Io.exit_code());
    assert_eq!(r.events[1]["event"], "failed");
    assert_eq!(r.events[1]["error"]["kind"], "io");
    let r = mesbackup(&["verify"], &[&missing]);
    assert_eq!(r.code, 12);
    assert!(r.stderr.contains("nope.zip"), "{}", r.stderr);
}

#[test]
fn a_package_downloaded_from_the_mock_verifies_and_has_a_window() {
    let m = MockMes::start_in_background("127.0.0.1:0".parse().unwrap());
    m.set_scenario(json!({"payload": {"size": 300_000, "seed": 7}})).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut c = command();
    c.args(["backup", "MESCDM", "--json", "--env", &m.base_url()]).arg("--out").arg(dir.path());
    c.args(["--min-poll-delay", "10ms", "--retry-delay", "10ms", "--max-poll-delay", "100ms"]);
    c.env("MES_TOKEN", "admin-token");
    let r = run(c);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let pkg = dir.path().join("MESCDM.zip");
    assert!(pkg.exists());

    let r = mesbackup(&["verify", "--json"], &[&pkg]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(r.events[0]["report"]["ok"], true);
    let r = mesbackup(&["verify"], &[&pkg]);
    assert!(r.stdout.contains("matches the sidecar"), "{}", r.stdout);

    let r = mesbackup(&["inspect", "--json"], &[&pkg]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(r.events[0]["verified"], true);
    assert!(r.events[0]["inspection"]["tables"].as_u64().unwrap() > 0);

    let r = mesbackup(&["window", "--json"], &[dir.path()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.events[0]["event"], "backup_window");
    assert!(r.events[0]["started_at"].is_string() && r.events[0]["finished_at"].is_string());
    assert_eq!(r.events[0]["packages"][0]["database"], "MESCDM");
}

#[test]
fn the_sql_server_backup_time_sets_where_reprocessing_starts() {
    let m = MockMes::start_in_background("127.0.0.1:0".parse().unwrap());
    m.set_scenario(json!({})).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let backup = |extra: &str| {
        let mut c = command();
        c.args(["backup", "--system", "MES", "--json", "--env", &m.base_url()]).arg("--out").arg(dir.path());
        c.args(["--min-poll-delay", "10ms", "--retry-delay", "10ms", "--max-poll-delay", "100ms"]);
        c.args(["--sql-backup-finished", extra]);
        c.env("MES_TOKEN", "admin-token");
        run(c)
    };
    let r = backup("yesterday");
    assert_eq!(r.code, 2, "a time that is not RFC 3339 is refused: {}{}", r.stdout, r.stderr);
    assert!(m.log().is_empty(), "nothing may be sent when an argument is bad");
    let r = backup("2026-01-02T03:04:05+01:00");
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let sidecar: Value =
        serde_json::from_str(&fs::read_to_string(dir.path().join("MESCDM.zip.mesbackup.json")).unwrap()).unwrap();
    assert_eq!(sidecar["sql_backup_finished_at"], "2026-01-02T02:04:05.000Z");

    let r = mesbackup(&["window", "--json"], &[dir.path()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.events[0]["sql_backup_finished_at"], "2026-01-02T02:04:05.000Z");
    assert_eq!(r.events[0]["reprocess_from"], "2026-01-02T02:04:05.000Z");
    let r = mesbackup(&["window"], &[dir.path()]);
    assert!(r.stdout.contains("re-run data processing from 2026-01-02T02:04:05.000Z"), "{}", r.stdout);
}

#[test]
fn inspect_reports_the_fixture_tables() {
    let expected: Value = serde_json::from_str(&fs::read_to_string(fixtures().join("expected.json")).unwrap()).unwrap();
    let db = expected["database"].as_str().unwrap();
    for name in ["mesfix_stored.zip", "mesfix_deflated.zip"] {
        let r = mesbackup(&["inspect", "--json"], &[&fixture(name)]);
        assert_eq!(r.code, 0, "{name}: {}", r.stdout);
        assert_eq!(r.events.len(), 1);
        let e = &r.events[0];
        assert_eq!(e["event"], "inspected");
        assert_eq!(e["verified"], true);
        let i = &e["inspection"];
        assert_eq!(i["backup_root"], expected["packages"][name]["backup_root"], "{name}");
        let dbs = i["databases"].as_array().unwrap();
        assert_eq!(dbs.len(), 1);
        assert_eq!(dbs[0]["name"], db);
        assert_eq!(dbs[0]["engine"], expected["engine"]);
        let tables = dbs[0]["tables"].as_array().unwrap();
        let want = expected["tables"].as_object().unwrap();
        assert_eq!(tables.len(), want.len());
        for (tname, t) in want {
            let got = tables.iter().find(|x| x["name"] == tname.as_str()).unwrap_or_else(|| panic!("{tname} missing"));
            assert_eq!(got["engine_name"], t["engine"], "{tname}");
            if let Some(rows) = t.get("rows") {
                assert_eq!(got["rows"], *rows, "{name} {tname}");
                assert_eq!(got["parts"], t["parts"], "{name} {tname}");
            }
            assert_eq!(got["required_policy"], t["storage_policy"], "{tname}");
        }
        assert!(i["storage_policies"].as_array().unwrap().contains(&json!("default")));
    }

    let r = mesbackup(&["inspect"], &[&fixture("mesfix_stored.zip")]);
    assert_eq!(r.code, 0);
    for line in ["IoTEventData", "1007", "MaterialHistory", "2121", "ResourceStateHistory", "1207", "Verification: OK"]
    {
        assert!(r.stdout.contains(line), "{line}: {}", r.stdout);
    }
    assert!(r.stdout.contains("Storage policies the target needs at restore: default"), "{}", r.stdout);
}

#[test]
fn inspect_says_when_verification_fails() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = fs::read(fixture("mesfix_stored.zip")).unwrap();
    let (offset, entry) = first_bin_entry(&bytes);
    bytes[offset] ^= 0x80;
    let bad = dir.path().join("bad.zip");
    fs::write(&bad, &bytes).unwrap();
    let r = mesbackup(&["inspect", "--json"], &[&bad]);
    assert_eq!(r.code, INTEGRITY);
    assert_eq!(r.events[0]["event"], "inspected");
    assert_eq!(r.events[0]["verified"], false);
    assert_eq!(r.events[1]["error"]["kind"], "integrity");
    let r = mesbackup(&["inspect"], &[&bad]);
    assert_eq!(r.code, INTEGRITY);
    assert!(r.stdout.contains("Verification: FAILED") && r.stdout.contains(&entry), "{}", r.stdout);
}

#[test]
fn window_spans_the_sidecars_of_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    let times = [
        ("MES.zip", "MES", "2026-11-25T14:00:05.000Z", "2026-11-25T14:20:00.000Z"),
        ("MESCDM.zip", "MESCDM", "2026-11-25T13:59:58.250Z", "2026-11-25T14:03:00.000Z"),
        ("MESODS.zip", "MESODS", "2026-11-25T14:00:01.000Z", "2026-11-25T14:31:12.500Z"),
    ];
    for (file, db, s, f) in times {
        let p = dir.path().join(file);
        fs::write(&p, b"PK").unwrap();
        write_sidecar(&p, &"a".repeat(64), db, s, f);
    }
    fs::write(dir.path().join("junk.mesbackup.json"), "not json").unwrap();
    let r = mesbackup(&["window", "--json"], &[dir.path()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let e = &r.events[0];
    assert_eq!(e["started_at"], "2026-11-25T13:59:58.250Z");
    assert_eq!(e["finished_at"], "2026-11-25T14:31:12.500Z");
    assert_eq!(e["packages"].as_array().unwrap().len(), 3);

    let r = mesbackup(&["window"], &[dir.path()]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("Backup window: 2026-11-25T13:59:58.250Z to 2026-11-25T14:31:12.500Z"), "{}", r.stdout);

    let empty = tempfile::tempdir().unwrap();
    let r = mesbackup(&["window", "--json"], &[empty.path()]);
    assert_eq!(r.code, 2);
    assert_eq!(r.events[0]["error"]["kind"], "invalid_argument");
    let r = mesbackup(&["window"], &[&empty.path().join("absent")]);
    assert_eq!(r.code, 12);
}

#[test]
fn help_lists_the_new_commands() {
    let r = mesbackup(&["--help"], &[]);
    for c in ["verify", "inspect", "window"] {
        assert!(r.stdout.contains(c), "{c}: {}", r.stdout);
    }
}
