//! Staging packages into the installer's custom packages folder under the names it looks for:
//! copied (or moved) through a temporary file, checked, and named atomically without replacing
//! anything unless asked.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use mesbackup_core::error::quote_untrusted;
use mesbackup_core::file_modes::FileModes;
use mesbackup_core::mes::{sidecar_file_name, Sidecar};
use mesbackup_core::mes::{Shape, ShapeProbe};
use mesbackup_core::naming::{installer_package_name, parse_database_name, parse_package_name, DatabaseKind};
use mesbackup_core::{Error, ErrorKind};
use sha2::{Digest, Sha256};

use super::io_error;
use super::sidecars::read_sidecar;
use crate::file_sink::{self};
use crate::private_files;
use mesbackup_core::mes::CommitFailure;

/// How a package is placed: copied (the source stays) or moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum StageMode {
    /// Copied through a temporary file and checked; the source stays.
    Copy,
    /// Moved without copying when on the same file system (hard link or rename), else copied, checked
    /// and the source removed.
    Move,
}

/// A package placed in the custom packages folder under its installer name. Serialised in one shape
/// for every front end (the CLI's `staged` event, Python's `stage`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct StagedPackage {
    /// The package as given.
    #[serde(serialize_with = "super::path_text::lossy")]
    pub source: PathBuf,
    /// Where it now is: the installer folder joined with `file_name`.
    #[serde(serialize_with = "super::path_text::lossy")]
    pub target: PathBuf,
    /// The installer package name it was given.
    pub file_name: String,
    /// Which of the system's databases the package holds (Online, CDM, ODS, DWH).
    pub kind: DatabaseKind,
    /// Size of the staged package in bytes.
    pub size: u64,
    /// Computed while copying (not when a move was a rename).
    pub sha256: Option<String>,
    /// Whether it was copied or moved.
    pub mode: StageMode,
    /// An existing file of that name was replaced (`force`).
    pub replaced: bool,
    /// The sidecar written beside the target, when the source had one.
    #[serde(serialize_with = "super::path_text::lossy_option")]
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
        "{} already exists; it was not replaced. Remove it first, or stage with overwrite to replace it (--overwrite; Python overwrite=True, PowerShell -Overwrite).",
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
fn copy_to_temp(
    source: &Path,
    dir: &Path,
    name: &str,
    file_mode: u32,
) -> Result<(CopiedTemp, u64, String, Shape), Error> {
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
                file_sink::write_behind(&out, total + n as u64);
            }
            total += n as u64;
        }
        out.sync_all().map_err(|e| io_error("cannot make durable", &temp, &e))?;
        file_sink::drop_from_cache(&out);
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
    Ok(StagedPackage {
        source: source.to_owned(),
        target,
        file_name,
        kind,
        size,
        sha256,
        mode,
        replaced,
        sidecar: sidecar_path,
    })
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
