//! Native folder operations shared by the native front ends (CLI, Python binding): listing a custom
//! packages folder for the installer check, staging packages into it atomically, pruning old backups
//! by their sidecar times, and cleaning up this tool's own stale temporary files.
//!
//! All naming decisions are the core's (`mesbackup_core::naming`); this module only reads and
//! writes files. Every operation that creates a file in a target folder writes a hidden temporary
//! file (`.<name>.<tag>.mesbackup-partial`) first and gives it its final name atomically, without
//! replacing an existing file unless asked. Files are written with exactly the file mode of
//! [`FileModes`] (0600 by default) and folders this module creates get its folder mode (0700);
//! on Windows both inherit the folder's ACL instead.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use mesbackup_core::error::quote_untrusted;
use mesbackup_core::file_modes::FileModes;
use mesbackup_core::httpdate::parse_rfc3339;
use mesbackup_core::naming::{
    check_folder as check_names, installer_package_name, parse_database_name, parse_package_name, DatabaseKind,
    FolderReport,
};
use mesbackup_core::package_shape::{Shape, ShapeProbe};
use mesbackup_core::sidecar::{sidecar_file_name, Sidecar, SIDECAR_SUFFIX};
use mesbackup_core::{Error, ErrorKind};
use sha2::{Digest, Sha256};

use crate::file_sink::{self, find_stale_partials, PARTIAL_SUFFIX};
use crate::private_files;
use mesbackup_core::job::CommitFailure;

fn io_error(what: &str, path: &Path, e: &io::Error) -> Error {
    Error::io(format!("{what} {}: {e}", path.display()))
}

/// The names of the entries of `dir` (non-UTF-8 names are converted lossily, so they show up as
/// near misses instead of disappearing).
pub fn list_file_names(dir: &Path) -> Result<Vec<String>, Error> {
    let entries = fs::read_dir(dir).map_err(|e| io_error("cannot read the folder", dir, &e))?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| io_error("cannot read the folder", dir, &e))?;
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    Ok(names)
}

/// What the MES installer would restore from the custom packages folder `dir` for `system` at
/// `version` (see [`mesbackup_core::naming::check_folder`]).
pub fn check_folder(dir: &Path, system: &str, version: &str) -> Result<FolderReport, Error> {
    let names = list_file_names(dir)?;
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    check_names(&refs, system, version)
}

// ---------------------------------------------------------------------------------------------
// Stale temporary files
// ---------------------------------------------------------------------------------------------

/// A temporary file a killed run left behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StalePartial {
    pub path: PathBuf,
    /// The temporary file's own name (`.MESCDM.zip.1a2b3c4d.mesbackup-partial`).
    pub file_name: String,
    /// The name the file would have had (`MESCDM.zip`), when it can be read back.
    pub target_name: Option<String>,
    pub size: u64,
    /// A sidecar being written (no package data was lost with it).
    pub is_sidecar: bool,
}

impl StalePartial {
    /// What its removal means, for the person running the tool: a package temporary file is a
    /// one-shot download that was lost.
    pub fn message(&self) -> String {
        let target = self.target_name.as_deref().unwrap_or("?");
        if self.is_sidecar {
            return format!("removed {}, an unfinished sidecar of {target} left by an interrupted run", self.file_name);
        }
        format!(
            "removed {} ({} bytes), left by an interrupted run (killed or powered off) while downloading {target}. \
             That one-shot download was lost: the server deleted the backup when the stream closed. Start a new \
             backup of that database.",
            self.file_name, self.size
        )
    }
}

/// Makes `out` ready to receive packages: creates it (with its parents, each created folder with
/// exactly `modes.dir`; an existing folder keeps its permissions) and removes this tool's stale
/// temporary files from it, returning them so the caller can say which downloads were lost.
pub fn prepare_output_folder(out: &Path, modes: FileModes) -> Result<Vec<StalePartial>, Error> {
    private_files::create_dir_all_with_mode(out, modes.dir)
        .map_err(|e| io_error("cannot create the output folder", out, &e))?;
    remove_stale_partials(out)
}

/// `.MESCDM.zip.1a2b3c4d.mesbackup-partial` -> `MESCDM.zip`
fn partial_target(file_name: &str) -> Option<String> {
    let inner = file_name.strip_prefix('.')?.strip_suffix(PARTIAL_SUFFIX)?;
    let (name, tag) = inner.rsplit_once('.')?;
    (!name.is_empty() && tag.len() == 8 && tag.bytes().all(|b| b.is_ascii_hexdigit())).then(|| name.to_owned())
}

/// Finds this tool's temporary files in `dir` that no process is writing and removes them. A
/// writer holds an exclusive lock on its temporary file for as long as the file has no final name
/// (see [`crate::private_files`]): a file whose lock can be taken is stale; it is removed while
/// locked. A file that cannot be locked for any other reason (another user's, a file system
/// without locks) is kept. A package temporary file means a one-shot download was interrupted
/// (kill -9, power loss): that backup is gone on the server. A missing folder has nothing to clean.
pub fn remove_stale_partials(dir: &Path) -> Result<Vec<StalePartial>, Error> {
    let found = match find_stale_partials(dir) {
        Ok(found) => found,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_error("cannot read the folder", dir, &e)),
    };
    if found.is_empty() {
        return Ok(Vec::new());
    }
    let mut removed = Vec::new();
    for path in found {
        let Some(stale) = private_files::claim_if_stale(&path) else { continue };
        let Ok(meta) = stale.metadata() else { continue };
        if stale.remove().is_err() {
            continue;
        }
        let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let target_name = partial_target(&file_name);
        let is_sidecar = target_name.as_deref().is_some_and(|n| n.ends_with(SIDECAR_SUFFIX));
        removed.push(StalePartial { path, file_name, target_name, size: meta.len(), is_sidecar });
    }
    Ok(removed)
}

// ---------------------------------------------------------------------------------------------
// Sidecars and the backup window
// ---------------------------------------------------------------------------------------------

/// Reads the sidecar beside `package`, if there is one.
pub fn read_sidecar(package: &Path) -> Result<Option<Sidecar>, Error> {
    let name = package.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let path = package.with_file_name(sidecar_file_name(&name));
    match fs::read_to_string(&path) {
        Ok(text) => Sidecar::from_json(&text)
            .map(Some)
            .map_err(|e| Error::new(e.kind, format!("{}: {}", path.display(), e.message))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error("cannot read", &path, &e)),
    }
}

/// Every sidecar in `dir` (unreadable ones are skipped), keyed by the package file name derived from
/// the sidecar's own file name (never from its content, which could name another folder).
pub fn read_sidecars(dir: &Path) -> Result<BTreeMap<String, Sidecar>, Error> {
    let mut out = BTreeMap::new();
    for name in list_file_names(dir)? {
        let Some(package) = name.strip_suffix(SIDECAR_SUFFIX) else { continue };
        if package.is_empty() || name.starts_with('.') {
            continue;
        }
        if let Ok(text) = fs::read_to_string(dir.join(&name)) {
            if let Ok(sidecar) = Sidecar::from_json(&text) {
                out.insert(package.to_owned(), sidecar);
            }
        }
    }
    Ok(out)
}

/// Earliest start and latest finish over `sidecars` (RFC 3339): the window to re-run MES data
/// processing over after a restore. `None` when no sidecar records both.
pub fn backup_window<'a>(sidecars: impl IntoIterator<Item = &'a Sidecar>) -> Option<(String, String)> {
    mesbackup_core::sidecar::backup_window(sidecars).map(|w| (w.started_at, w.finished_at))
}

// ---------------------------------------------------------------------------------------------
// Staging into the installer's custom packages folder
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageMode {
    Copy,
    Move,
}

/// A package placed in the custom packages folder under its installer name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedPackage {
    pub source: PathBuf,
    pub target: PathBuf,
    pub file_name: String,
    pub kind: DatabaseKind,
    pub size: u64,
    /// Computed while copying (not when a move was a rename).
    pub sha256: Option<String>,
    pub mode: StageMode,
    /// An existing file of that name was replaced (`force`).
    pub replaced: bool,
    /// The sidecar written beside the target, when the source had one.
    pub sidecar: Option<PathBuf>,
}

/// Which database kind the package at `path` holds, for `system`: from its sidecar's database, else
/// from its file name (an installer name, or a server name like `MESCDM.zip`).
pub fn package_kind(path: &Path, system: &str, sidecar: Option<&Sidecar>) -> Result<DatabaseKind, Error> {
    if let Some(db) = sidecar.and_then(|s| s.database.as_deref()) {
        return parse_database_name(db, Some(system)).map(|(_, kind)| kind);
    }
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if let Ok(package) = parse_package_name(&name) {
        return Ok(package.kind);
    }
    if let Some(stem) = name.strip_suffix(".zip") {
        if let Ok((_, kind)) = parse_database_name(stem, Some(system)) {
            return Ok(kind);
        }
    }
    Err(Error::invalid_argument(format!(
        "cannot tell which database {} holds: it has no sidecar and its name is neither an installer package \
         name nor <database>.zip of system {system}; rename it or stage it from the folder it was backed up to",
        quote_untrusted(&name, 160)
    )))
}

/// Gives `temp` the name `target`: atomically, and without replacing an existing file unless `force`.
/// Returns whether a file was replaced. `temp` is gone afterwards on success.
fn place(temp: &Path, target: &Path, force: bool) -> Result<bool, Error> {
    file_sink::place(temp, target, force).map_err(|f| match f {
        CommitFailure::Exists => exists_error(target),
        CommitFailure::Sink(e) => e,
    })
}

fn exists_error(target: &Path) -> Error {
    Error::io(format!(
        "{} already exists; it was not replaced. Remove it first, or stage with --force to replace it.",
        target.display()
    ))
}

/// A temporary file holding a complete copy, open and locked until its name is gone.
struct CopiedTemp {
    path: PathBuf,
    held: File,
}

impl CopiedTemp {
    /// Gives the copy its final name (see [`place`]), then lets the file and its lock go.
    fn place(self, target: &Path, force: bool) -> Result<bool, Error> {
        let result = place(&self.path, target, force);
        self.discard_if(result.is_err());
        result
    }

    fn discard_if(self, remove: bool) {
        if remove {
            let _ = fs::remove_file(&self.path);
        }
        drop(self.held);
        private_files::forget_own_temporary(&self.path);
    }
}

/// Copies `source` into a temporary file in `dir` (with exactly `file_mode`), hashing and probing it.
fn copy_to_temp(source: &Path, dir: &Path, name: &str, file_mode: u32) -> Result<(CopiedTemp, u64, String, Shape), Error> {
    let mut input = File::open(source).map_err(|e| io_error("cannot open", source, &e))?;
    let (mut out, temp) = file_sink::create_temp(dir, name, file_mode)?;
    let result = (|| -> Result<(u64, String, Shape), Error> {
        let mut sha = Sha256::new();
        let mut probe = ShapeProbe::new();
        let mut buf = vec![0u8; 1 << 20];
        let mut total = 0u64;
        loop {
            let n = input.read(&mut buf).map_err(|e| io_error("cannot read", source, &e))?;
            if n == 0 {
                break;
            }
            sha.update(&buf[..n]);
            probe.update(&buf[..n]);
            out.write_all(&buf[..n]).map_err(|e| io_error("cannot write", &temp, &e))?;
            if file_sink::passes_writeback_mark(total, total + n as u64) {
                file_sink::start_writeback(&out);
            }
            total += n as u64;
        }
        out.sync_all().map_err(|e| io_error("cannot make durable", &temp, &e))?;
        Ok((total, crate::driver::hex(&sha.finalize()), probe.verdict()))
    })();
    let copied = CopiedTemp { path: temp, held: out };
    match result {
        Ok((size, sha, shape)) => Ok((copied, size, sha, shape)),
        Err(e) => {
            copied.discard_if(true);
            Err(e)
        }
    }
}

/// Copies (or moves) the package `source` into the custom packages folder `into` under the installer
/// name for `system` and `version` (system-specific when asked). Atomic: the file appears complete
/// under its final name or not at all; an existing file is never replaced unless `force`. A copy is
/// hashed on the way and checked against the source's sidecar (integrity error on mismatch) and for
/// being a zip at all. The sidecar, when present, follows the package with its new name. The staged
/// package and sidecar get exactly `modes.file` (a moved file too, before it moves).
#[allow(clippy::too_many_arguments)]
pub fn stage_package(
    source: &Path,
    into: &Path,
    system: &str,
    version: &str,
    system_specific: bool,
    mode: StageMode,
    force: bool,
    modes: FileModes,
) -> Result<StagedPackage, Error> {
    let meta = fs::metadata(source).map_err(|e| io_error("cannot read", source, &e))?;
    if !meta.is_file() {
        return Err(Error::invalid_argument(format!("{} is not a file", source.display())));
    }
    let into_meta = fs::metadata(into).map_err(|e| io_error("cannot use the target folder", into, &e))?;
    if !into_meta.is_dir() {
        return Err(Error::invalid_argument(format!("{} is not a folder", into.display())));
    }
    let sidecar = read_sidecar(source)?;
    let kind = package_kind(source, system, sidecar.as_ref())?;
    let file_name = installer_package_name(kind, version, system_specific.then_some(system))?;
    let target = into.join(&file_name);
    let same = fs::canonicalize(source).ok().zip(fs::canonicalize(&target).ok()).is_some_and(|(a, b)| a == b);
    if same {
        return Err(Error::invalid_argument(format!("{} is already staged under that name", source.display())));
    }
    if !force && target.exists() {
        return Err(exists_error(&target));
    }

    let (size, sha256, replaced) = match mode {
        StageMode::Move => {
            // Same file system: a hard link (no clobber) or rename (force) moves without copying.
            // The file keeps its inode, so its mode is set first: nothing moves if that fails.
            set_path_mode(source, modes.file)?;
            let linked = if force {
                let existed = target.exists();
                fs::rename(source, &target).ok().map(|_| existed)
            } else {
                match fs::hard_link(source, &target) {
                    Ok(()) => {
                        fs::remove_file(source).map_err(|e| io_error("moved, but cannot remove", source, &e))?;
                        Some(false)
                    }
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Err(exists_error(&target)),
                    Err(_) => None,
                }
            };
            match linked {
                Some(replaced) => (meta.len(), None, replaced),
                None => {
                    let (size, sha, replaced) =
                        copy_checked(source, into, &file_name, &target, sidecar.as_ref(), force, modes.file)?;
                    fs::remove_file(source).map_err(|e| io_error("copied, but cannot remove", source, &e))?;
                    (size, Some(sha), replaced)
                }
            }
        }
        StageMode::Copy => {
            let (size, sha, replaced) =
                copy_checked(source, into, &file_name, &target, sidecar.as_ref(), force, modes.file)?;
            (size, Some(sha), replaced)
        }
    };

    let mut sidecar_path = None;
    if let Some(mut s) = sidecar {
        if s.file_name != file_name && s.server_file_name.is_none() {
            s.server_file_name = Some(s.file_name.clone());
        }
        s.file_name = file_name.clone();
        let path = into.join(sidecar_file_name(&file_name));
        file_sink::write_atomically(&path, &s.to_json(), modes.file)?;
        if mode == StageMode::Move {
            let name = source.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let _ = fs::remove_file(source.with_file_name(sidecar_file_name(&name)));
        }
        sidecar_path = Some(path);
    }
    file_sink::sync_dir(into);
    Ok(StagedPackage { source: source.to_owned(), target, file_name, kind, size, sha256, mode, replaced, sidecar: sidecar_path })
}

/// Sets the mode of the file at `path` (a package about to be moved into place), refusing a link.
fn set_path_mode(path: &Path, file_mode: u32) -> Result<(), Error> {
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(|e| io_error("cannot open", path, &e))?;
    private_files::set_file_mode(&file, file_mode).map_err(|e| io_error("cannot set the permissions of", path, &e))
}

#[allow(clippy::too_many_arguments)]
fn copy_checked(
    source: &Path,
    into: &Path,
    file_name: &str,
    target: &Path,
    sidecar: Option<&Sidecar>,
    force: bool,
    file_mode: u32,
) -> Result<(u64, String, bool), Error> {
    let (temp, size, sha, shape) = copy_to_temp(source, into, file_name, file_mode)?;
    let problem = match (&shape, sidecar) {
        (Shape::Zip, Some(s)) if s.sha256 != sha || s.size != size => Some(format!(
            "{} does not match its sidecar (size {size}, SHA-256 {sha}; the sidecar says size {}, SHA-256 {}): \
             the file was changed or damaged after the backup. Do not restore from it.",
            source.display(),
            s.size,
            s.sha256
        )),
        (Shape::Zip, _) => None,
        (Shape::TruncatedZip, _) => {
            Some(format!("{} is an incomplete zip (cut short): do not restore from it.", source.display()))
        }
        (Shape::NotZip { looks_like }, _) => {
            Some(format!("{} is not a zip package (it looks like {looks_like}).", source.display()))
        }
    };
    if let Some(message) = problem {
        temp.discard_if(true);
        return Err(Error::new(ErrorKind::Integrity, message));
    }
    temp.place(target, force).map(|replaced| (size, sha, replaced))
}

// ---------------------------------------------------------------------------------------------
// Retention
// ---------------------------------------------------------------------------------------------

/// One package known by its sidecar, with the retention decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PruneEntry {
    pub package: PathBuf,
    pub sidecar: PathBuf,
    pub database: Option<String>,
    pub finished_at: Option<String>,
    /// 0 when the package itself is missing.
    pub size: u64,
    pub keep: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrunePlan {
    pub keep: usize,
    /// Per database, newest first.
    pub entries: Vec<PruneEntry>,
}

impl PrunePlan {
    pub fn to_delete(&self) -> impl Iterator<Item = &PruneEntry> {
        self.entries.iter().filter(|e| !e.keep)
    }
}

/// Retention by the sidecar times: per database, the `keep` newest backups (by finish time) stay, the
/// rest are listed for deletion. Only packages with a mesbackup sidecar are considered; anything else
/// in the folder is never touched.
pub fn plan_prune(dir: &Path, keep: usize) -> Result<PrunePlan, Error> {
    if keep == 0 {
        return Err(Error::invalid_argument("--keep must be at least 1: pruning never deletes every backup"));
    }
    let sidecars = read_sidecars(dir)?;
    let mut by_db: BTreeMap<Option<String>, Vec<PruneEntry>> = BTreeMap::new();
    for (package_name, s) in sidecars {
        let package = dir.join(&package_name);
        let time = s.finished_at.clone().or(s.ready_at.clone()).or(s.started_at.clone());
        let size = fs::metadata(&package).map(|m| m.len()).unwrap_or(0);
        by_db.entry(s.database.clone()).or_default().push(PruneEntry {
            sidecar: dir.join(sidecar_file_name(&package_name)),
            package,
            database: s.database,
            finished_at: time,
            size,
            keep: true,
        });
    }
    let mut entries = Vec::new();
    for (_, mut group) in by_db {
        group.sort_by_key(|e| std::cmp::Reverse(e.finished_at.as_deref().and_then(parse_rfc3339).unwrap_or(0)));
        for (i, e) in group.iter_mut().enumerate() {
            e.keep = i < keep;
        }
        entries.extend(group);
    }
    Ok(PrunePlan { keep, entries })
}

/// Deletes what `plan` marks for deletion (package, then its sidecar). Returns the deleted paths.
pub fn execute_prune(plan: &PrunePlan) -> Result<Vec<PathBuf>, Error> {
    let mut deleted = Vec::new();
    for e in plan.to_delete() {
        for path in [&e.package, &e.sidecar] {
            match fs::remove_file(path) {
                Ok(()) => deleted.push(path.clone()),
                Err(err) if err.kind() == io::ErrorKind::NotFound => {}
                Err(err) => return Err(io_error("cannot delete", path, &err)),
            }
        }
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesbackup_core::sidecar::SIDECAR_FORMAT;

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

    #[test]
    fn stage_copies_under_the_installer_name_without_clobbering() {
        let src = tempfile::tempdir().unwrap();
        let into = tempfile::tempdir().unwrap();
        let data = write_package(src.path(), "MESCDM.zip", "MESCDM", "2026-01-01T01:00:00.000Z");
        let p = src.path().join("MESCDM.zip");
        let staged = stage_package(&p, into.path(), "MES", "11.3.0", false, StageMode::Copy, false, FileModes::default()).unwrap();
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
        let err = stage_package(&p, into.path(), "MES", "11.3.0", false, StageMode::Copy, false, FileModes::default()).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Io);
        assert_eq!(names(into.path()).len(), 2);
        // With force: replaced.
        let again = stage_package(&p, into.path(), "MES", "11.3.0", false, StageMode::Copy, true, FileModes::default()).unwrap();
        assert!(again.replaced);
        // System-specific name.
        let s = stage_package(&p, into.path(), "MES", "11.3.0", true, StageMode::Copy, false, FileModes::default()).unwrap();
        assert_eq!(s.file_name, "MES.Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip");
        assert!(p.exists());
    }

    #[test]
    fn stage_move_and_integrity() {
        let src = tempfile::tempdir().unwrap();
        let into = tempfile::tempdir().unwrap();
        write_package(src.path(), "MESODS.zip", "MESODS", "2026-01-01T01:00:00.000Z");
        let p = src.path().join("MESODS.zip");
        let staged = stage_package(&p, into.path(), "MES", "11.3.0", false, StageMode::Move, false, FileModes::default()).unwrap();
        assert_eq!(staged.file_name, "Cmf.ClickHouse.FullBackup.ODS.11.3.0.zip");
        assert!(names(src.path()).is_empty());
        // A damaged package (sidecar mismatch) is refused and leaves nothing behind.
        write_package(src.path(), "MESDWH.zip", "MESDWH", "2026-01-01T01:00:00.000Z");
        let mut bytes = empty_zip();
        bytes[20] = 1; // a one-byte zip comment: still a valid zip, different bytes
        bytes.push(b'x');
        fs::write(src.path().join("MESDWH.zip"), &bytes).unwrap();
        let err = stage_package(&src.path().join("MESDWH.zip"), into.path(), "MES", "11.3.0", false, StageMode::Copy, false, FileModes::default())
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Integrity, "{err}");
        // Not a zip at all.
        fs::write(src.path().join("MES.zip"), b"<html>error</html>").unwrap();
        let err = stage_package(&src.path().join("MES.zip"), into.path(), "MES", "11.3.0", false, StageMode::Copy, false, FileModes::default())
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Integrity);
        // A name that tells nothing.
        fs::write(src.path().join("backup (1).zip"), empty_zip()).unwrap();
        let err =
            stage_package(&src.path().join("backup (1).zip"), into.path(), "MES", "11.3.0", false, StageMode::Copy, false, FileModes::default())
                .unwrap_err();
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
        let window = backup_window(read_sidecars(dir.path()).unwrap().values()).unwrap();
        assert_eq!(window, ("2026-01-01T00:00:00.000Z".into(), "2026-01-03T01:00:00.000Z".into()));
    }
}
