//! The native file sink: stream into a hidden temporary file in the target folder, make it durable,
//! then give it its final name atomically, never replacing an existing file unless asked.
//!
//! Memory stays flat whatever the package size: two 1 MiB buffers, one filling while the other is
//! written on tokio's blocking pool. Every 16 MiB the kernel is asked to start writing the file out
//! (without waiting), so that the fsync before the rename has little left to flush, and what was
//! written out a window earlier leaves the page cache (see [`write_behind`]). A temporary
//! file is removed on every failure path, including a dropped future (task cancelled, panic), by
//! `Drop`.
//!
//! Every file is created with exactly the mode of [`FileModes`] (0600 unless the user chose wider),
//! and a temporary file stays open and exclusively locked (see [`crate::private_files`]) from its
//! creation until its name is gone (given to the package, or removed): the lock is what tells
//! another run's cleanup that it is in use, even from another PID namespace.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use mesbackup_core::file_modes::FileModes;
use mesbackup_core::mes::human_bytes;
use mesbackup_core::mes::is_safe_file_name;
use mesbackup_core::mes::CommitFailure;
use mesbackup_core::mes::{sidecar_file_name, Sidecar};
use mesbackup_core::Error;

use crate::private_files::{self, OwnerLock};
use crate::sink::{PackageSink, SinkFactory};

const BUFFER: usize = 1 << 20;
/// Every this many bytes, the kernel is asked to start writing what is dirty (see `start_writeback`).
const WRITEBACK_EVERY: u64 = 16 << 20;
/// Temporary files end with this, so a later run can recognise (and clean up) its own leftovers.
pub const PARTIAL_SUFFIX: &str = ".mesbackup-partial";
/// The write probe of an output folder starts with this (and ends with [`PARTIAL_SUFFIX`]): a left-over
/// probe holds no package data, so its removal is no lost download.
pub const PROBE_PREFIX: &str = ".mesbackup-probe.";

/// Opens file sinks in one folder.
#[derive(Debug, Clone)]
pub struct FileSinkFactory {
    dir: PathBuf,
    modes: FileModes,
}

impl FileSinkFactory {
    /// Sinks whose files are private (0600): see [`FileSinkFactory::with_modes`].
    pub fn new(dir: impl Into<PathBuf>) -> FileSinkFactory {
        FileSinkFactory { dir: dir.into(), modes: FileModes::default() }
    }

    /// The permission bits of the packages, sidecars and temporary files written (Unix; on Windows
    /// they inherit the folder's ACL).
    pub fn with_modes(mut self, modes: FileModes) -> FileSinkFactory {
        self.modes = modes;
        self
    }

    /// The permission bits its files are created with.
    pub fn modes(&self) -> FileModes {
        self.modes
    }

    /// The folder the packages are written to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

fn io_error(what: &str, path: &Path, e: &io::Error) -> Error {
    Error::io(format!("{what} {}: {e}", path.display()))
}

/// What keeps `dir` from taking a new file, in words an administrator acts on.
fn folder_error(what: &str, dir: &Path, e: &io::Error) -> Error {
    let d = dir.display();
    match e.kind() {
        io::ErrorKind::ReadOnlyFilesystem => Error::io(format!("{d} is on a read-only file system ({e})")),
        io::ErrorKind::PermissionDenied => Error::io(format!(
            "{d} does not accept new files ({e}): check its owner and permissions, and whether it is immutable \
             (`lsattr -d {d}`)"
        )),
        io::ErrorKind::StorageFull => Error::io(format!("the file system of {d} is full ({e})")),
        _ => io_error(what, dir, e),
    }
}

/// Checks that `dir` can take a package: it exists (created, owner-only, when missing), is a
/// folder, and a new file can be created in it. The probe is hidden and named like this tool's
/// temporary files (`….mesbackup-partial`), so a crash between its creation and removal leaves
/// nothing a later run cannot clean up.
fn check_folder_takes_files(dir: &Path, modes: FileModes) -> Result<(), Error> {
    private_files::create_dir_all_with_mode(dir, modes.dir)
        .map_err(|e| folder_error("cannot create the output folder", dir, &e))?;
    let meta = fs::metadata(dir).map_err(|e| folder_error("cannot use the output folder", dir, &e))?;
    if !meta.is_dir() {
        return Err(Error::io(format!("{} is not a folder", dir.display())));
    }
    let probe = dir.join(format!("{PROBE_PREFIX}{:08x}{PARTIAL_SUFFIX}", crate::clock::random_seed() as u32));
    let file = private_files::create_new_options(modes.file)
        .open(&probe)
        .map_err(|e| folder_error("cannot create a file in", dir, &e))?;
    // Locked like a download's temporary file, so that another job's clean-up of the same folder
    // (four databases at once, or another run) leaves it alone while it exists.
    private_files::register_own_temporary(&probe);
    let _ = private_files::lock_new_temporary(&file, &probe);
    // A package file gets its mode the same way: a folder whose file system refuses it must say so
    // now, before the one-shot download starts, not after.
    let mode_set = private_files::set_file_mode(&file, modes.file);
    // Another run's clean-up may have removed it already: either way it is gone.
    let _ = fs::remove_file(&probe);
    private_files::forget_own_temporary(&probe);
    drop(file);
    mode_set.map_err(|e| Error::io(format!("cannot give new files in {} their permissions: {e}", dir.display())))
}

/// Room beyond the package itself for its sidecar and the file system's own bookkeeping.
const FREE_SPACE_MARGIN: u64 = 1 << 20;

/// Refuses at once a package that cannot fit, instead of writing until the disk is full.
fn ensure_room(dir: &Path, needed: u64, free: Option<u64>) -> Result<(), Error> {
    let Some(free) = free else { return Ok(()) };
    if needed.saturating_add(FREE_SPACE_MARGIN) <= free {
        return Ok(());
    }
    Err(Error::io(format!(
        "the package is {needed} bytes ({}) but {} has {free} bytes ({}) free, so nothing was written; it needs \
         at least {} more",
        human_bytes(needed),
        dir.display(),
        human_bytes(free),
        human_bytes(needed.saturating_add(FREE_SPACE_MARGIN) - free)
    )))
}

/// Bytes an unprivileged process may still write in the file system of `dir`.
#[cfg(unix)]
fn free_bytes(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    // SAFETY: statvfs is plain old data, filled by the call; the path is NUL-terminated.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(path.as_ptr(), &mut st) } != 0 {
        return None;
    }
    #[allow(clippy::unnecessary_cast)] // the field types differ between platforms
    Some((st.f_bavail as u64).saturating_mul(st.f_frsize as u64))
}

/// Not checked on Windows: GetDiskFreeSpaceExW would need the windows-sys bindings for this one
/// call; there a full disk is found by the write that fails, as before.
#[cfg(not(unix))]
fn free_bytes(_dir: &Path) -> Option<u64> {
    None
}

#[async_trait]
impl SinkFactory for FileSinkFactory {
    type Sink = FileSink;

    async fn prepare(&self) -> Result<(), Error> {
        let dir = self.dir.clone();
        let modes = self.modes;
        tokio::task::spawn_blocking(move || check_folder_takes_files(&dir, modes))
            .await
            .map_err(|e| Error::io(format!("file task failed: {e}")))?
    }

    async fn open(&self, file_name: &str, expected_len: Option<u64>) -> Result<FileSink, Error> {
        if !is_safe_file_name(file_name) {
            return Err(Error::invalid_argument(format!("unsafe file name {file_name:?}")));
        }
        let dir = self.dir.clone();
        let name = file_name.to_owned();
        let file_mode = self.modes.file;
        let (file, temp) = tokio::task::spawn_blocking(move || -> Result<(File, PathBuf), Error> {
            let meta = fs::metadata(&dir).map_err(|e| io_error("cannot use the output folder", &dir, &e))?;
            if !meta.is_dir() {
                return Err(Error::io(format!("{} is not a folder", dir.display())));
            }
            if let Some(needed) = expected_len {
                ensure_room(&dir, needed, free_bytes(&dir))?;
            }
            create_temp(&dir, &name, file_mode)
        })
        .await
        .map_err(|e| Error::io(format!("file task failed: {e}")))??;
        Ok(FileSink {
            dir: self.dir.clone(),
            file_mode: self.modes.file,
            temp: Some(temp),
            file: Some(file),
            buffer: Vec::with_capacity(BUFFER),
            spare: Some(Vec::with_capacity(BUFFER)),
            in_flight: None,
            written: 0,
        })
    }
}

type WriteTask = tokio::task::JoinHandle<(File, Vec<u8>, io::Result<()>)>;

/// One package being written by [`FileSinkFactory`]: a locked temporary file in the target folder,
/// written in the background, made durable by `finish`, named by `commit`; removed if it is dropped uncommitted.
pub struct FileSink {
    dir: PathBuf,
    file_mode: u32,
    /// The temporary path while the bytes have no final name; `None` once committed or discarded.
    temp: Option<PathBuf>,
    /// The temporary file, open (and locked) until its name is gone: closing it earlier would let
    /// another run's cleanup take the lock and remove a complete download before its commit.
    file: Option<File>,
    buffer: Vec<u8>,
    spare: Option<Vec<u8>>,
    in_flight: Option<WriteTask>,
    written: u64,
}

impl FileSink {
    fn temp_path(&self) -> &Path {
        self.temp.as_deref().unwrap_or(Path::new("?"))
    }

    /// Waits for the buffer being written, getting the file and the spare buffer back.
    async fn settle(&mut self) -> Result<(), Error> {
        if let Some(task) = self.in_flight.take() {
            let (file, mut spare, result) = task.await.map_err(|e| Error::io(format!("file task failed: {e}")))?;
            self.file = Some(file);
            spare.clear();
            self.spare = Some(spare);
            result.map_err(|e| io_error("cannot write", self.temp_path(), &e))?;
        }
        Ok(())
    }

    /// Hands the full buffer to the blocking pool and continues with the spare one.
    async fn flush_buffer(&mut self) -> Result<(), Error> {
        self.settle().await?;
        if self.buffer.is_empty() {
            return Ok(());
        }
        let mut file = self.file.take().ok_or_else(|| Error::io("internal error: file closed"))?;
        let spare = self.spare.take().unwrap_or_else(|| Vec::with_capacity(BUFFER));
        let full = std::mem::replace(&mut self.buffer, spare);
        let before = self.written;
        self.written += full.len() as u64;
        let written = self.written;
        let kick_writeback = passes_writeback_mark(before, written);
        self.in_flight = Some(tokio::task::spawn_blocking(move || {
            let result = file.write_all(&full);
            if kick_writeback && result.is_ok() {
                write_behind(&file, written);
            }
            (file, full, result)
        }));
        Ok(())
    }
}

#[async_trait]
impl PackageSink for FileSink {
    async fn write(&mut self, mut chunk: &[u8]) -> Result<(), Error> {
        while !chunk.is_empty() {
            let room = BUFFER - self.buffer.len();
            let take = room.min(chunk.len());
            self.buffer.extend_from_slice(&chunk[..take]);
            chunk = &chunk[take..];
            if self.buffer.len() == BUFFER {
                self.flush_buffer().await?;
            }
        }
        Ok(())
    }

    async fn finish(&mut self) -> Result<u64, Error> {
        self.flush_buffer().await?;
        self.settle().await?;
        let file = self.file.take().ok_or_else(|| Error::io("internal error: file closed"))?;
        let temp = self.temp_path().to_owned();
        let file = tokio::task::spawn_blocking(move || {
            file.sync_all()?;
            drop_from_cache(&file);
            Ok::<_, io::Error>(file)
        })
        .await
        .map_err(|e| Error::io(format!("file task failed: {e}")))?
        .map_err(|e| io_error("cannot make durable", &temp, &e))?;
        self.file = Some(file);
        Ok(self.written)
    }

    async fn commit(&mut self, file_name: &str, overwrite: bool, sidecar: &Sidecar) -> Result<String, CommitFailure> {
        if !is_safe_file_name(file_name) {
            return Err(CommitFailure::Sink(Error::invalid_argument(format!("unsafe file name {file_name:?}"))));
        }
        let Some(temp) = self.temp.clone() else {
            return Err(CommitFailure::Sink(Error::io("internal error: nothing to commit")));
        };
        let dir = self.dir.clone();
        let name = file_name.to_owned();
        let sidecar_json = sidecar.to_json();
        let file_mode = self.file_mode;
        let held = self.file.take();
        let (held, result) = tokio::task::spawn_blocking(move || {
            commit_blocking(&dir, &temp, &name, overwrite, &sidecar_json, file_mode, held)
        })
        .await
        .map_err(|e| CommitFailure::Sink(Error::io(format!("file task failed: {e}"))))?;
        // Kept (and locked) for another attempt under another name, or gone with the temporary name.
        self.file = held;
        if result.is_ok() {
            self.temp = None;
        }
        result
    }

    async fn discard(&mut self, keep_as: Option<&str>) {
        if let Some(task) = self.in_flight.take() {
            if let Ok((file, _, _)) = task.await {
                self.file = Some(file);
            }
        }
        if let Some(temp) = self.temp.take() {
            let keep = keep_as.filter(|n| is_safe_file_name(n)).map(|n| self.dir.join(n));
            let kept = match keep {
                Some(target) if !target.exists() => fs::rename(&temp, &target).is_ok(),
                _ => false,
            };
            if !kept {
                let _ = fs::remove_file(&temp);
            }
            private_files::forget_own_temporary(&temp);
        }
        // Only now that the temporary name is gone: until then the lock said "in use".
        self.file = None;
    }
}

impl Drop for FileSink {
    fn drop(&mut self) {
        // A dropped sink that was neither committed nor discarded: a cancelled task or a panic.
        // The name goes first; the file (and its lock) is closed after this body.
        if let Some(temp) = self.temp.take() {
            let _ = fs::remove_file(&temp);
            private_files::forget_own_temporary(&temp);
        }
    }
}

/// Names the package and writes its sidecar. `held` is the temporary file, open and locked: closed
/// once the package has its name (the final file then carries no lock), handed back on failure so
/// that it stays locked for another attempt.
fn commit_blocking(
    dir: &Path,
    temp: &Path,
    name: &str,
    overwrite: bool,
    sidecar_json: &str,
    file_mode: u32,
    held: Option<File>,
) -> (Option<File>, Result<String, CommitFailure>) {
    let target = dir.join(name);
    if let Err(failure) = place(temp, &target, overwrite) {
        return (held, Err(failure));
    }
    drop(held);
    private_files::forget_own_temporary(temp);
    if let Err(e) = write_sidecar(dir, name, sidecar_json, file_mode) {
        return (None, Err(CommitFailure::Sink(e)));
    }
    sync_dir(dir);
    (None, Ok(target.display().to_string()))
}

/// Called each time a file being written passes a writeback mark, with the bytes written so far.
/// Starts writing everything dirty to disk without waiting (Linux `sync_file_range(WRITE)`), so that
/// the download and the disk work at once and the fsync before the rename finds little left; then
/// waits for the window started one mark earlier (long since on its way) and drops it from the page
/// cache (`posix_fadvise(DONTNEED)`). A multi-GiB package would otherwise push out the cache of the
/// host it is saved on (often the MES or database server itself): now at most about two windows of
/// it stay cached. Elsewhere a no-op.
#[cfg(target_os = "linux")]
pub fn write_behind(file: &File, written: u64) {
    use std::os::fd::AsRawFd;
    let fd = file.as_raw_fd();
    let settled_end = (written / WRITEBACK_EVERY).saturating_sub(1) * WRITEBACK_EVERY;
    let settled_start = settled_end.saturating_sub(WRITEBACK_EVERY);
    // SAFETY: a valid open descriptor; offset 0 and length 0 mean "to the end of the file".
    // Failure only costs the early writeback or the cache drop: the fsync still makes the file durable.
    unsafe {
        libc::sync_file_range(fd, 0, 0, libc::SYNC_FILE_RANGE_WRITE);
        if settled_end > settled_start {
            let (start, len) = (settled_start as libc::off64_t, (settled_end - settled_start) as libc::off64_t);
            // Dirty or under-writeback pages are not dropped: wait for them first.
            let wait =
                libc::SYNC_FILE_RANGE_WAIT_BEFORE | libc::SYNC_FILE_RANGE_WRITE | libc::SYNC_FILE_RANGE_WAIT_AFTER;
            if libc::sync_file_range(fd, start, len, wait) == 0 {
                libc::posix_fadvise(fd, start, len, libc::POSIX_FADV_DONTNEED);
            }
        }
    }
}

/// Elsewhere than Linux: nothing (no `sync_file_range`); the fsync before the rename does it all.
#[cfg(not(target_os = "linux"))]
pub fn write_behind(_file: &File, _written: u64) {}

/// After the fsync: the file is clean, so all of it can leave the page cache (see [`write_behind`]).
#[cfg(target_os = "linux")]
pub fn drop_from_cache(file: &File) {
    use std::os::fd::AsRawFd;
    // SAFETY: a valid open descriptor; length 0 means "to the end of the file". Advice only.
    unsafe {
        libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED);
    }
}

/// Elsewhere than Linux: nothing (the operating system's own cache policy applies).
#[cfg(not(target_os = "linux"))]
pub fn drop_from_cache(_file: &File) {}

/// Whether a file that grew from `before` to `after` bytes passed a writeback mark.
pub fn passes_writeback_mark(before: u64, after: u64) -> bool {
    before / WRITEBACK_EVERY != after / WRITEBACK_EVERY
}

/// Creates a new hidden temporary file for `name` in `dir` (never an existing one), with exactly
/// `file_mode`, and locks it: the lock (held until the returned file is closed) is what keeps
/// another run's cleanup away from it. Close it only once the temporary name is gone, then call
/// [`private_files::forget_own_temporary`].
pub(crate) fn create_temp(dir: &Path, name: &str, file_mode: u32) -> Result<(File, PathBuf), Error> {
    for attempt in 0..16u32 {
        let tag = crate::clock::random_seed() as u32;
        let temp = dir.join(format!(".{name}.{tag:08x}{PARTIAL_SUFFIX}"));
        let last = attempt == 15;
        let file = match private_files::create_new_options(file_mode).open(&temp) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && !last => continue,
            Err(e) => return Err(io_error("cannot create a file in", dir, &e)),
        };
        private_files::register_own_temporary(&temp);
        if let Err(e) = private_files::set_file_mode(&file, file_mode) {
            let _ = fs::remove_file(&temp);
            private_files::forget_own_temporary(&temp);
            return Err(io_error("cannot set the permissions of a file in", dir, &e));
        }
        match private_files::lock_new_temporary(&file, &temp) {
            OwnerLock::Held | OwnerLock::Unsupported => return Ok((file, temp)),
            // Another run's cleanup took it between our create and our lock: it removes it.
            OwnerLock::Lost if !last => private_files::forget_own_temporary(&temp),
            OwnerLock::Lost => {
                private_files::forget_own_temporary(&temp);
                return Err(Error::io(format!(
                    "cannot keep a temporary file in {}: another process removed each one created",
                    dir.display()
                )));
            }
        }
    }
    unreachable!("the last attempt returns")
}

/// Gives the complete file `temp` the name `target`, atomically, never replacing an existing file
/// unless `overwrite`. Returns whether a file was replaced; `temp` is gone on success.
pub(crate) fn place(temp: &Path, target: &Path, overwrite: bool) -> Result<bool, CommitFailure> {
    if overwrite {
        let existed = target.exists();
        fs::rename(temp, target).map_err(|e| CommitFailure::Sink(io_error("cannot rename to", target, &e)))?;
        return Ok(existed);
    }
    // A hard link is an atomic "create only if absent"; rename would silently replace.
    match fs::hard_link(temp, target) {
        Ok(()) => {
            let _ = fs::remove_file(temp);
            Ok(false)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(CommitFailure::Exists),
        Err(_) => {
            // File systems without hard links: check, then rename (a small race, documented).
            if target.exists() {
                return Err(CommitFailure::Exists);
            }
            fs::rename(temp, target).map_err(|e| CommitFailure::Sink(io_error("cannot rename to", target, &e)))?;
            Ok(false)
        }
    }
}

/// Writes `text` to `path` (with exactly `file_mode`) through a temporary file, fsync and rename:
/// never half a file.
pub(crate) fn write_atomically(path: &Path, text: &str, file_mode: u32) -> Result<(), Error> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let (mut f, temp) = create_temp(dir, &name, file_mode)?;
    let result = f.write_all(text.as_bytes()).and_then(|_| f.sync_all()).and_then(|_| fs::rename(&temp, path));
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    drop(f);
    private_files::forget_own_temporary(&temp);
    result.map_err(|e| io_error("cannot write", path, &e))
}

fn write_sidecar(dir: &Path, package: &str, json: &str, file_mode: u32) -> Result<(), Error> {
    write_atomically(&dir.join(sidecar_file_name(package)), json, file_mode)
        .map_err(|e| Error::io(format!("the package was saved, but its sidecar could not be written: {}", e.message)))
}

/// Makes the renames themselves durable (POSIX); a no-op where folders cannot be opened.
pub(crate) fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// Temporary files left by a run that was killed (kill -9, power loss) in `dir`.
pub fn find_stale_partials(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') && name.ends_with(PARTIAL_SUFFIX) {
            found.push(entry.path());
        }
    }
    found.sort();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesbackup_core::mes::SIDECAR_FORMAT;

    fn sidecar(name: &str) -> Sidecar {
        Sidecar {
            format: SIDECAR_FORMAT.into(),
            tool: "t".into(),
            file_name: name.into(),
            database: None,
            guid: "g".into(),
            environment_url: "https://x".into(),
            size: 3,
            sha256: "s".into(),
            started_at: None,
            ready_at: None,
            finished_at: None,
            server_file_name: None,
            sql_backup_finished_at: None,
        }
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> =
            fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    }

    #[tokio::test]
    async fn writes_large_data_through_both_buffers() {
        let dir = tempfile::tempdir().unwrap();
        let f = FileSinkFactory::new(dir.path());
        let mut s = f.open("a.zip", None).await.unwrap();
        // Chunks that straddle the 1 MiB buffers, and more than two writeback intervals in all.
        let chunk: Vec<u8> = (0..1_000_003u32).map(|i| (i % 251) as u8).collect();
        let count = (2 * WRITEBACK_EVERY as usize) / chunk.len() + 3;
        for _ in 0..count {
            s.write(&chunk).await.unwrap();
        }
        assert_eq!(s.finish().await.unwrap(), (count * chunk.len()) as u64);
        s.commit("a.zip", false, &sidecar("a.zip")).await.unwrap();
        let data = fs::read(dir.path().join("a.zip")).unwrap();
        assert_eq!(data.len(), count * chunk.len());
        assert!(data.chunks(chunk.len()).all(|c| c == chunk.as_slice()), "every byte as written, in order");
        assert_eq!(names(dir.path()), vec!["a.zip", "a.zip.mesbackup.json"]);
    }

    #[tokio::test]
    async fn never_replaces_an_existing_file_unless_asked() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a.zip"), b"old").unwrap();
        let f = FileSinkFactory::new(dir.path());
        let mut s = f.open("a.zip", None).await.unwrap();
        s.write(b"new").await.unwrap();
        s.finish().await.unwrap();
        assert!(matches!(s.commit("a.zip", false, &sidecar("a.zip")).await, Err(CommitFailure::Exists)));
        assert_eq!(fs::read(dir.path().join("a.zip")).unwrap(), b"old");
        s.commit("a.zip", true, &sidecar("a.zip")).await.unwrap();
        assert_eq!(fs::read(dir.path().join("a.zip")).unwrap(), b"new");
    }

    #[tokio::test]
    async fn discard_and_drop_leave_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let f = FileSinkFactory::new(dir.path());
        let mut s = f.open("a.zip", None).await.unwrap();
        s.write(&[1; 3_000_000]).await.unwrap();
        s.discard(None).await;
        let s2 = f.open("b.zip", None).await.unwrap();
        assert_eq!(find_stale_partials(dir.path()).unwrap().len(), 1);
        drop(s2);
        assert!(names(dir.path()).is_empty());
        let mut s3 = f.open("c.zip", None).await.unwrap();
        s3.write(b"<html>").await.unwrap();
        s3.finish().await.unwrap();
        s3.discard(Some("g.not-a-package.html")).await;
        assert_eq!(names(dir.path()), vec!["g.not-a-package.html"]);
    }

    #[cfg(unix)]
    fn mode_of(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    /// Whether another descriptor (as another process would open it) can lock the file at `path`.
    fn lockable(path: &Path) -> bool {
        File::open(path).unwrap().try_lock().is_ok()
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn files_are_private_and_the_temporary_file_locked_until_named() {
        // SAFETY: umask only swaps the process's creation mask; 022 is the usual one.
        unsafe { libc::umask(0o022) };
        let dir = tempfile::tempdir().unwrap();
        for (modes, want) in [(FileModes::default(), 0o600), (FileModes::parse(Some("0640"), None).unwrap(), 0o640)] {
            let f = FileSinkFactory::new(dir.path()).with_modes(modes);
            let mut s = f.open("a.zip", None).await.unwrap();
            let temp = s.temp.clone().unwrap();
            assert_eq!(mode_of(&temp), want);
            s.write(&[7; 3_000_000]).await.unwrap();
            assert!(!lockable(&temp), "locked while writing");
            s.finish().await.unwrap();
            assert!(!lockable(&temp), "still locked between finish and commit");
            fs::write(dir.path().join("taken.zip"), b"x").unwrap();
            assert!(matches!(s.commit("taken.zip", false, &sidecar("taken.zip")).await, Err(CommitFailure::Exists)));
            assert!(!lockable(&temp), "still locked after a name clash, for the next name");
            let name = format!("a{want:o}.zip");
            s.commit(&name, false, &sidecar(&name)).await.unwrap();
            let package = dir.path().join(&name);
            assert_eq!(mode_of(&package), want);
            assert_eq!(mode_of(&dir.path().join(sidecar_file_name(&name))), want);
            assert!(lockable(&package), "the final package carries no lock");
            fs::remove_file(dir.path().join("taken.zip")).unwrap();
        }
        // A kept "not a package" diagnostic is private too.
        let mut s = FileSinkFactory::new(dir.path()).open("c.zip", None).await.unwrap();
        s.write(b"<html>").await.unwrap();
        s.finish().await.unwrap();
        s.discard(Some("g.not-a-package.html")).await;
        assert_eq!(mode_of(&dir.path().join("g.not-a-package.html")), 0o600);
        assert!(find_stale_partials(dir.path()).unwrap().is_empty());
    }

    #[tokio::test]
    async fn prepare_creates_a_missing_folder_and_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("a/b");
        FileSinkFactory::new(&out).prepare().await.unwrap();
        assert!(out.is_dir());
        assert!(names(&out).is_empty(), "the probe is gone: {:?}", names(&out));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&out).unwrap().permissions().mode() & 0o077, 0, "created owner-only");
        }
        let file = dir.path().join("f");
        fs::write(&file, b"x").unwrap();
        let e = FileSinkFactory::new(&file).prepare().await.unwrap_err();
        assert_eq!(e.kind, mesbackup_core::ErrorKind::Io);
    }

    /// A folder that refuses new files: immutable (`chattr +i`) when running as root, where
    /// permissions do not stop writes; read-only permissions otherwise.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn prepare_refuses_a_folder_that_takes_no_files() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let root = unsafe { libc::geteuid() } == 0;
        let locked = if root {
            let s = std::process::Command::new("chattr").arg("+i").arg(dir.path()).status();
            assert!(
                s.is_ok_and(|s| s.success()),
                "chattr +i failed: this test needs a file system with attributes (ext4)"
            );
            true
        } else {
            fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o500)).unwrap();
            false
        };
        let result = FileSinkFactory::new(dir.path()).prepare().await;
        if locked {
            let _ = std::process::Command::new("chattr").arg("-i").arg(dir.path()).status();
        } else {
            fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700)).unwrap();
        }
        let e = result.unwrap_err();
        assert_eq!(e.kind, mesbackup_core::ErrorKind::Io);
        assert!(e.message.contains("does not accept new files"), "{}", e.message);
    }

    #[test]
    fn a_read_only_file_system_is_named_in_words() {
        let e = folder_error("x", Path::new("/mnt/ro"), &io::Error::from(io::ErrorKind::ReadOnlyFilesystem));
        assert!(e.message.contains("/mnt/ro is on a read-only file system"), "{}", e.message);
    }

    #[tokio::test]
    async fn a_package_larger_than_the_free_space_is_refused_before_any_byte() {
        let dir = tempfile::tempdir().unwrap();
        let f = FileSinkFactory::new(dir.path());
        let free = free_bytes(dir.path());
        assert!(free.is_some_and(|n| n > 0), "statvfs works here");
        let e = f.open("a.zip", Some(u64::MAX / 2)).await.err().unwrap();
        assert_eq!(e.kind, mesbackup_core::ErrorKind::Io);
        assert!(e.message.contains("nothing was written") && e.message.contains("free"), "{}", e.message);
        assert!(names(dir.path()).is_empty(), "no temporary file");
        // A package that fits is opened as before.
        f.open("a.zip", Some(1_000)).await.unwrap().discard(None).await;
        assert!(ensure_room(dir.path(), 1, Some(FREE_SPACE_MARGIN + 1)).is_ok());
        assert!(ensure_room(dir.path(), 2, Some(FREE_SPACE_MARGIN + 1)).is_err());
        assert!(ensure_room(dir.path(), u64::MAX, None).is_ok(), "unknown free space is not a refusal");
    }

    #[tokio::test]
    async fn refuses_unsafe_names_and_missing_folders() {
        let dir = tempfile::tempdir().unwrap();
        assert!(FileSinkFactory::new(dir.path()).open("../x.zip", None).await.is_err());
        let err = FileSinkFactory::new(dir.path().join("nope")).open("x.zip", None).await.err().unwrap();
        assert_eq!(err.kind, mesbackup_core::ErrorKind::Io);
    }
}
