//! The folder operations together, on real folders.

use std::fs::{self, File};

use std::path::Path;

use mesbackup_core::file_modes::FileModes;

use mesbackup_core::mes::{sidecar_file_name, Sidecar, SIDECAR_FORMAT};
use mesbackup_core::ErrorKind;
use sha2::{Digest, Sha256};

use super::partials::partial_target;
use super::*;

/// A tiny valid zip: an empty archive's end-of-central-directory record.
fn empty_zip() -> Vec<u8> {
    let mut v = b"PK\x05\x06".to_vec();
    v.extend_from_slice(&[0u8; 18]);
    v
}

fn sha(data: &[u8]) -> String {
    crate::driver::hex(&Sha256::digest(data))
}

fn sidecar(file: &str, db: &str, data: &[u8], finished: &str) -> Sidecar {
    Sidecar {
        format: SIDECAR_FORMAT.into(),
        tool: "t".into(),
        file_name: file.into(),
        database: Some(db.into()),
        guid: "g".into(),
        environment_url: "https://x".into(),
        size: data.len() as u64,
        sha256: sha(data),
        started_at: Some("2026-01-01T00:00:00.000Z".into()),
        ready_at: None,
        finished_at: Some(finished.into()),
        server_file_name: None,
        sql_backup_finished_at: None,
    }
}

fn write_package(dir: &Path, name: &str, db: &str, finished: &str) -> Vec<u8> {
    let data = empty_zip();
    fs::write(dir.join(name), &data).unwrap();
    fs::write(dir.join(sidecar_file_name(name)), sidecar(name, db, &data, finished).to_json()).unwrap();
    data
}

fn names(dir: &Path) -> Vec<String> {
    list_file_names(dir).unwrap()
}

#[test]
fn partial_names_read_back() {
    assert_eq!(partial_target(".MESCDM.zip.0a1b2c3d.mesbackup-partial").as_deref(), Some("MESCDM.zip"));
    assert_eq!(partial_target(".x.zip.nothex!!.mesbackup-partial"), None);
    assert_eq!(partial_target("MESCDM.zip"), None);
}

#[test]
fn stale_partials_are_removed_unless_locked() {
    let dir = tempfile::tempdir().unwrap();
    let stale = dir.path().join(".MES.zip.0000abcd.mesbackup-partial");
    fs::write(&stale, b"abc").unwrap();
    // A live download: locked, as another process's writer holds it (another descriptor).
    let live = dir.path().join(".MESCDM.zip.0000beef.mesbackup-partial");
    let writer = File::create(&live).unwrap();
    writer.try_lock().unwrap();
    // Open but not locked proves nothing: a reader (backup software, an indexer) is no writer.
    let opened = dir.path().join(".MESODS.zip.0000cafe.mesbackup-partial");
    fs::write(&opened, b"").unwrap();
    let _reader = File::open(&opened).unwrap();
    fs::write(dir.path().join("keep.zip"), b"x").unwrap();
    // Node's fileSink cannot lock: its temporary files have a name of their own, never removed here.
    fs::write(dir.path().join(".MESDWH.zip.0000f00d.mesbackup-node-partial"), b"").unwrap();
    // A folder check's probe left by a killed run, or met by another job's clean-up: removed, and
    // never reported as a lost download.
    fs::write(dir.path().join(".mesbackup-probe.0badf00d.mesbackup-partial"), b"").unwrap();
    let mut removed = remove_stale_partials(dir.path()).unwrap();
    removed.sort_by(|a, b| a.file_name.cmp(&b.file_name));
    assert_eq!(removed.len(), 2, "{removed:?}");
    assert_eq!(removed[1].target_name.as_deref(), Some("MESODS.zip"));
    assert_eq!(removed[0].target_name.as_deref(), Some("MES.zip"));
    assert_eq!(removed[0].size, 3);
    assert!(!removed[0].is_sidecar);
    assert_eq!(
        names(dir.path()),
        vec![".MESCDM.zip.0000beef.mesbackup-partial", ".MESDWH.zip.0000f00d.mesbackup-node-partial", "keep.zip"]
    );
    assert!(remove_stale_partials(&dir.path().join("missing")).unwrap().is_empty());
}

#[test]
fn folder_check_reads_the_listing() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip"), b"").unwrap();
    fs::write(dir.path().join("Cmf.ClickHouse.FullBackup.ODS.11.3.0 (1).zip"), b"").unwrap();
    let r = check_folder(dir.path(), "MES", "11.3.0").unwrap();
    assert_eq!(r.missing.len(), 3);
    assert_eq!(r.near_misses.len(), 1);
    assert!(check_folder(&dir.path().join("nope"), "MES", "11.3.0").is_err());
}

/// Stages `package` into `into` as MES 11.3.0 under the plain installer name, by copy, without force.
fn stage_plain_copy(package: &Path, into: &Path) -> Result<StagedPackage, Error> {
    stage_package(package, into, "MES", "11.3.0", false, StageMode::Copy, false, FileModes::default())
}

#[test]
fn stage_copies_under_the_installer_name_without_clobbering() {
    let src = tempfile::tempdir().unwrap();
    let into = tempfile::tempdir().unwrap();
    let data = write_package(src.path(), "MESCDM.zip", "MESCDM", "2026-01-01T01:00:00.000Z");
    let p = src.path().join("MESCDM.zip");
    let staged =
        stage_package(&p, into.path(), "MES", "11.3.0", false, StageMode::Copy, false, FileModes::default()).unwrap();
    assert_eq!(staged.file_name, "Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip");
    assert_eq!(staged.sha256.as_deref(), Some(sha(&data).as_str()));
    assert_eq!(
        names(into.path()),
        vec!["Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip", "Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip.mesbackup.json"]
    );
    let moved_sidecar = read_sidecar(&staged.target).unwrap().unwrap();
    assert_eq!(moved_sidecar.file_name, staged.file_name);
    assert_eq!(moved_sidecar.server_file_name.as_deref(), Some("MESCDM.zip"));
    // Again: refused, nothing changed, no temp left.
    let err = stage_plain_copy(&p, into.path()).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Io);
    assert_eq!(names(into.path()).len(), 2);
    // With force: replaced.
    let again =
        stage_package(&p, into.path(), "MES", "11.3.0", false, StageMode::Copy, true, FileModes::default()).unwrap();
    assert!(again.replaced);
    // System-specific name.
    let s =
        stage_package(&p, into.path(), "MES", "11.3.0", true, StageMode::Copy, false, FileModes::default()).unwrap();
    assert_eq!(s.file_name, "MES.Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip");
    assert!(p.exists());
}

#[test]
fn stage_move_and_integrity() {
    let src = tempfile::tempdir().unwrap();
    let into = tempfile::tempdir().unwrap();
    write_package(src.path(), "MESODS.zip", "MESODS", "2026-01-01T01:00:00.000Z");
    let p = src.path().join("MESODS.zip");
    let staged =
        stage_package(&p, into.path(), "MES", "11.3.0", false, StageMode::Move, false, FileModes::default()).unwrap();
    assert_eq!(staged.file_name, "Cmf.ClickHouse.FullBackup.ODS.11.3.0.zip");
    assert!(names(src.path()).is_empty());
    // A damaged package (sidecar mismatch) is refused and leaves nothing behind.
    write_package(src.path(), "MESDWH.zip", "MESDWH", "2026-01-01T01:00:00.000Z");
    let mut bytes = empty_zip();
    bytes[20] = 1; // a one-byte zip comment: still a valid zip, different bytes
    bytes.push(b'x');
    fs::write(src.path().join("MESDWH.zip"), &bytes).unwrap();
    let err = stage_plain_copy(&src.path().join("MESDWH.zip"), into.path()).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Integrity, "{err}");
    // Not a zip at all.
    fs::write(src.path().join("MES.zip"), b"<html>error</html>").unwrap();
    let err = stage_plain_copy(&src.path().join("MES.zip"), into.path()).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Integrity);
    // A name that tells nothing.
    fs::write(src.path().join("backup (1).zip"), empty_zip()).unwrap();
    let err = stage_plain_copy(&src.path().join("backup (1).zip"), into.path()).unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidArgument);
    assert_eq!(
        names(into.path()),
        vec!["Cmf.ClickHouse.FullBackup.ODS.11.3.0.zip", "Cmf.ClickHouse.FullBackup.ODS.11.3.0.zip.mesbackup.json"]
    );
}

#[cfg(unix)]
fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[cfg(unix)]
#[test]
fn staged_copies_and_moves_and_created_folders_get_exact_modes() {
    use std::os::unix::fs::PermissionsExt;
    // SAFETY: umask only swaps the process's creation mask; 022 is the usual one.
    unsafe { libc::umask(0o022) };
    let src = tempfile::tempdir().unwrap();
    let into = tempfile::tempdir().unwrap();
    for (modes, want) in [(FileModes::default(), 0o600), (FileModes::parse(Some("0640"), None).unwrap(), 0o640)] {
        write_package(src.path(), "MESCDM.zip", "MESCDM", "2026-01-01T01:00:00.000Z");
        write_package(src.path(), "MESODS.zip", "MESODS", "2026-01-01T01:00:00.000Z");
        fs::set_permissions(src.path().join("MESODS.zip"), fs::Permissions::from_mode(0o644)).unwrap();
        let copy = src.path().join("MESCDM.zip");
        let moved = src.path().join("MESODS.zip");
        for (p, mode) in [(&copy, StageMode::Copy), (&moved, StageMode::Move)] {
            let staged = stage_package(p, into.path(), "MES", "11.3.0", false, mode, true, modes).unwrap();
            assert_eq!(mode_of(&staged.target), want, "{mode:?}");
            assert_eq!(mode_of(staged.sidecar.as_ref().unwrap()), want, "{mode:?} sidecar");
        }
    }
    // The output folder and its missing parents get the folder mode; an existing one is kept.
    let out = src.path().join("new").join("out");
    prepare_output_folder(&out, FileModes::default()).unwrap();
    assert_eq!((mode_of(&out), mode_of(out.parent().unwrap())), (0o700, 0o700));
    fs::set_permissions(&out, fs::Permissions::from_mode(0o755)).unwrap();
    prepare_output_folder(&out, FileModes::default()).unwrap();
    assert_eq!(mode_of(&out), 0o755);
    let wide = src.path().join("wide");
    prepare_output_folder(&wide, FileModes::parse(None, Some("0750")).unwrap()).unwrap();
    assert_eq!(mode_of(&wide), 0o750);
}

#[test]
fn prune_keeps_the_newest_per_database() {
    let dir = tempfile::tempdir().unwrap();
    write_package(dir.path(), "a.zip", "MES", "2026-01-01T01:00:00.000Z");
    write_package(dir.path(), "b.zip", "MES", "2026-01-03T01:00:00.000Z");
    write_package(dir.path(), "c.zip", "MES", "2026-01-02T01:00:00.000Z");
    write_package(dir.path(), "d.zip", "MESCDM", "2026-01-01T01:00:00.000Z");
    fs::write(dir.path().join("unrelated.zip"), b"x").unwrap();
    assert!(plan_prune(dir.path(), 0).is_err());
    let plan = plan_prune(dir.path(), 2).unwrap();
    let doomed: Vec<_> = plan.to_delete().map(|e| e.package.file_name().unwrap().to_owned()).collect();
    assert_eq!(doomed, vec!["a.zip"]);
    let deleted = execute_prune(&plan).unwrap();
    assert_eq!(deleted.len(), 2);
    assert!(!dir.path().join("a.zip").exists());
    assert!(dir.path().join("unrelated.zip").exists());
    let window = mesbackup_core::mes::backup_window(read_sidecars(dir.path()).unwrap().values()).unwrap();
    assert_eq!(
        (window.started_at.as_str(), window.finished_at.as_str()),
        ("2026-01-01T00:00:00.000Z", "2026-01-03T01:00:00.000Z")
    );
}
