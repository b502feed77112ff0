//! The files and folders mesbackup writes are its own: created with exactly the permission bits of
//! [`FileModes`](mesbackup_core::file_modes::FileModes) (not whatever the process umask leaves), and, while a temporary file has no final
//! name, held under an exclusive advisory lock that tells every other process "in use".
//!
//! Why a lock and not a look at the processes: `/proc/*/fd` cannot see a run in another PID
//! namespace (two containers sharing a volume), under `hidepid`, or of another user, so a cleanup
//! that trusted it removed a live download. A lock lives with the file itself: whoever can open the
//! file sees it. `flock` on Unix (kept by the open file description, released by the kernel when
//! the process dies, however it dies), `LockFileEx` on Windows.
//!
//! A stale temporary file is one whose lock can be taken: the cleanup takes it, checks the name
//! still refers to the file it locked, and removes the name while holding the lock. The owner, for
//! its part, locks its file right after creating it and checks the name still refers to it (a
//! cleanup could have taken the lock in between), so at no point can both believe they own it.
//!
//! Where locking is not supported (some network file systems), the owner writes without a lock and
//! the cleanup, unable to prove anything, keeps the file.
//!
//! On Windows files and folders inherit the ACL of the folder they are created in; the Unix bits
//! are not used there.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// Temporary files this process created and has not yet named or removed. Its own cleanup never
/// opens them: where `flock` is emulated with POSIX record locks (NFS), a second descriptor in the
/// same process would neither conflict with the owner's lock nor leave it in place once closed.
fn own_temporaries() -> &'static Mutex<HashSet<PathBuf>> {
    static OWN: OnceLock<Mutex<HashSet<PathBuf>>> = OnceLock::new();
    OWN.get_or_init(|| Mutex::new(HashSet::new()))
}

pub(crate) fn register_own_temporary(path: &Path) {
    if let Ok(mut own) = own_temporaries().lock() {
        own.insert(path.to_owned());
    }
}

/// The name `path` is gone (given to the package, or removed): forget it.
pub(crate) fn forget_own_temporary(path: &Path) {
    if let Ok(mut own) = own_temporaries().lock() {
        own.remove(path);
    }
}

/// Removes every temporary file this process still holds (for a process about to exit at once, on a
/// second stop signal): nothing it was writing stays behind. A complete file that was being given
/// its name keeps that name (only the temporary one goes).
pub fn remove_own_temporaries() {
    if let Ok(own) = own_temporaries().lock() {
        for path in own.iter() {
            let _ = fs::remove_file(path);
        }
    }
}

fn is_own_temporary(path: &Path) -> bool {
    own_temporaries().lock().map(|own| own.contains(path)).unwrap_or(true)
}

/// Gives the open `file` exactly `mode` (fchmod), whatever the umask did at creation.
///
/// Some file systems keep permissions of their own and refuse a chmod: FAT and exFAT (a USB disk,
/// fusefat), SMB shares without Unix extensions, some FUSE mounts. There the mode the mount gives
/// is accepted when it lets group and others do no more than `mode` would (the owner's own bits
/// are the owner's business); otherwise the error says how to mount or what to ask for instead.
#[cfg(unix)]
pub fn set_file_mode(file: &File, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    match file.set_permissions(fs::Permissions::from_mode(mode)) {
        Err(e) if refuses_chmod(&e) => accept_mount_mode(file.metadata()?.permissions().mode(), mode, false, e),
        other => other,
    }
}

/// The errors of a file system that does not store Unix permission bits (not a missing right:
/// the file or folder was just created by this process, so it owns it).
#[cfg(unix)]
fn refuses_chmod(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::ENOSYS | libc::EOPNOTSUPP | libc::EPERM))
}

/// Keeps a mount's own `actual` mode where the core's rule accepts it.
#[cfg(unix)]
fn accept_mount_mode(actual: u32, wanted: u32, is_folder: bool, refused: io::Error) -> io::Result<()> {
    match mesbackup_core::file_modes::mount_mode_problem(actual, wanted, is_folder, &refused.to_string()) {
        None => Ok(()),
        Some(problem) => Err(io::Error::new(io::ErrorKind::PermissionDenied, problem)),
    }
}

/// Windows: the file keeps the ACL it inherited from its folder.
#[cfg(not(unix))]
pub fn set_file_mode(_file: &File, _mode: u32) -> io::Result<()> {
    Ok(())
}

/// Options for creating a new file with "must not exist" semantics and `mode` (still to be set
/// exactly with [`set_file_mode`]: the umask applies here), never through a symbolic link
/// (`O_EXCL` refuses one at the last component already; `O_NOFOLLOW` says it twice).
pub(crate) fn create_new_options(mode: u32) -> OpenOptions {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode).custom_flags(libc::O_NOFOLLOW);
    }
    #[cfg(not(unix))]
    let _ = mode;
    options
}

/// Creates `path` and any missing parent, each folder created here with exactly `mode`; folders
/// that exist already are left as they are (someone chose their permissions).
pub fn create_dir_all_with_mode(path: &Path, mode: u32) -> io::Result<()> {
    if path.as_os_str().is_empty() || path.is_dir() {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        create_dir_all_with_mode(parent, mode)?;
    }
    match create_dir_with_mode(path, mode) {
        // Another process created it meanwhile: its folder, its permissions.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && path.is_dir() => Ok(()),
        other => other,
    }
}

/// Creates the one folder `path` (its parent must exist; `AlreadyExists` when anything is there)
/// with exactly `mode`.
pub fn create_dir_with_mode(path: &Path, mode: u32) -> io::Result<()> {
    #[cfg_attr(not(unix), allow(unused_mut))]
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(mode);
    }
    builder.create(path)?;
    set_dir_mode(path, mode)
}

/// Gives the folder just created at `path` exactly `mode`, through a descriptor opened without
/// following a link (so a link planted in its place is refused, not chmod-ed). A set-group-ID bit
/// the folder inherited from its parent is kept: an administrator's `chmod g+s` on the backup
/// folder is how the group (ClickHouse's, the installer's) gets the files.
#[cfg(unix)]
fn set_dir_mode(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let dir = OpenOptions::new().read(true).custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW).open(path)?;
    let actual = dir.metadata()?.permissions().mode();
    let inherited_setgid = actual & 0o2000;
    match dir.set_permissions(fs::Permissions::from_mode(mode | inherited_setgid)) {
        Err(e) if refuses_chmod(&e) => accept_mount_mode(actual, mode, true, e),
        other => other,
    }
}

#[cfg(not(unix))]
fn set_dir_mode(_path: &Path, _mode: u32) -> io::Result<()> {
    Ok(())
}

/// Whether the open `file` is still the file named `path` (not removed, not replaced).
fn still_named(file: &File, path: &Path) -> bool {
    let Ok(named) = fs::symlink_metadata(path) else { return false };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match file.metadata() {
            Ok(open) => open.dev() == named.dev() && open.ino() == named.ino(),
            Err(_) => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        named.is_file()
    }
}

/// What locking a temporary file this process just created at `path` gave.
pub(crate) enum OwnerLock {
    /// Locked, and the name is still ours.
    Held,
    /// The file system cannot lock: written without one (a cleanup there cannot prove a file
    /// stale either, so it keeps it).
    Unsupported,
    /// A cleanup got to the new file first and removes it: create another.
    Lost,
}

/// Locks the temporary file this process has just created at `path`.
pub(crate) fn lock_new_temporary(file: &File, path: &Path) -> OwnerLock {
    match file.try_lock() {
        Ok(()) if still_named(file, path) => OwnerLock::Held,
        Ok(()) | Err(TryLockError::WouldBlock) => OwnerLock::Lost,
        Err(TryLockError::Error(_)) => OwnerLock::Unsupported,
    }
}

/// A stale temporary file, locked by this process: remove it with [`ClaimedStale::remove`].
pub(crate) struct ClaimedStale {
    file: File,
    path: PathBuf,
}

impl ClaimedStale {
    pub(crate) fn metadata(&self) -> io::Result<fs::Metadata> {
        self.file.metadata()
    }

    /// Removes the name while still holding the lock, then lets the file go.
    pub(crate) fn remove(self) -> io::Result<()> {
        let result = fs::remove_file(&self.path);
        drop(self.file);
        result
    }
}

/// Claims the temporary file at `path` if no process holds it: `None` when it is in use (locked),
/// gone, not a regular file, this process's own, or when its lock cannot be taken for any other
/// reason (nothing proves it stale, so it stays).
pub(crate) fn claim_if_stale(path: &Path) -> Option<ClaimedStale> {
    if is_own_temporary(path) {
        return None;
    }
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = options.open(path).ok()?;
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    file.try_lock().ok()?;
    // The owner may have given the file its final name (or removed it) between our open and our lock.
    still_named(&file, path).then(|| ClaimedStale { file, path: path.to_owned() })
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode_of(path: &Path) -> u32 {
        fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
    }

    /// Which errors mean "this file system keeps its own permissions" (the rule itself is the core's).
    #[test]
    fn a_mount_that_refuses_chmod_is_judged_by_the_cores_rule() {
        let refused = || io::Error::from_raw_os_error(libc::ENOSYS);
        assert!(accept_mount_mode(0o100700, 0o600, false, refused()).is_ok());
        let e = accept_mount_mode(0o100755, 0o600, false, refused()).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::PermissionDenied);
        assert!(e.to_string().contains("0755"), "{e}");
        assert!(refuses_chmod(&refused()) && refuses_chmod(&io::Error::from_raw_os_error(libc::EPERM)));
        assert!(!refuses_chmod(&io::Error::from_raw_os_error(libc::EIO)));
    }

    /// The umask is process-wide: one test sets it, and checks every mode under two of them.
    #[test]
    fn modes_are_exact_whatever_the_umask() {
        let dir = tempfile::tempdir().unwrap();
        for (umask, file_mode, dir_mode) in [(0o022, 0o600, 0o700), (0o077, 0o640, 0o750), (0o000, 0o600, 0o700)] {
            // SAFETY: umask only swaps the process's creation mask.
            let before = unsafe { libc::umask(umask) };
            let nested = dir.path().join(format!("u{umask:o}")).join("a").join("b");
            create_dir_all_with_mode(&nested, dir_mode).unwrap();
            let path = nested.join("f");
            let file = create_new_options(file_mode).open(&path).unwrap();
            set_file_mode(&file, file_mode).unwrap();
            unsafe { libc::umask(before) };
            assert_eq!(mode_of(&path), file_mode, "file under umask {umask:o}");
            for d in [nested.as_path(), nested.parent().unwrap(), nested.parent().unwrap().parent().unwrap()] {
                assert_eq!(mode_of(d), dir_mode, "{} under umask {umask:o}", d.display());
            }
        }
        // An existing folder is left as it is.
        let existing = dir.path().join("existing");
        fs::create_dir(&existing).unwrap();
        fs::set_permissions(&existing, fs::Permissions::from_mode(0o755)).unwrap();
        create_dir_all_with_mode(&existing.join("new"), 0o700).unwrap();
        assert_eq!(mode_of(&existing), 0o755);
        assert_eq!(mode_of(&existing.join("new")), 0o700);
    }

    #[test]
    fn a_link_in_place_of_a_new_folder_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("elsewhere");
        fs::create_dir(&target).unwrap();
        fs::set_permissions(&target, fs::Permissions::from_mode(0o755)).unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(set_dir_mode(&link, 0o700).is_err());
        assert_eq!(mode_of(&target), 0o755);
    }

    #[test]
    fn a_locked_temporary_is_not_claimed_an_unlocked_one_is() {
        let dir = tempfile::tempdir().unwrap();
        let live = dir.path().join(".a.zip.00000001.mesbackup-partial");
        let file = create_new_options(0o600).open(&live).unwrap();
        assert!(matches!(lock_new_temporary(&file, &live), OwnerLock::Held));
        assert!(claim_if_stale(&live).is_none(), "a locked file is in use");
        drop(file);
        let claimed = claim_if_stale(&live).expect("unlocked: stale");
        // While claimed, nobody else (another descriptor, as another process would have) can lock it.
        let other = File::open(&live).unwrap();
        assert!(matches!(other.try_lock(), Err(TryLockError::WouldBlock)));
        claimed.remove().unwrap();
        assert!(!live.exists());
    }

    #[test]
    fn a_name_given_away_after_the_open_is_not_removed() {
        let dir = tempfile::tempdir().unwrap();
        let temp = dir.path().join(".a.zip.00000002.mesbackup-partial");
        fs::write(&temp, b"x").unwrap();
        let opened = File::open(&temp).unwrap();
        // The owner commits (link to the final name, unlink the temporary name) ...
        fs::hard_link(&temp, dir.path().join("a.zip")).unwrap();
        fs::remove_file(&temp).unwrap();
        // ... and a file of the same temporary name appears again: not the one that was opened.
        fs::write(&temp, b"y").unwrap();
        assert!(!still_named(&opened, &temp));
    }

    #[test]
    fn this_process_never_claims_its_own_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let temp = dir.path().join(".b.zip.00000003.mesbackup-partial");
        fs::write(&temp, b"x").unwrap();
        register_own_temporary(&temp);
        assert!(claim_if_stale(&temp).is_none());
        forget_own_temporary(&temp);
        assert!(claim_if_stale(&temp).is_some());
    }
}
