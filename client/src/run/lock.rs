//! One run per output folder: an advisory lock on `<out>/.mesbackup-run.lock`, held for the whole
//! run, released by the operating system when the process ends (even on kill -9). The file is left
//! in place: removing a lock file lets a third run lock a new file while the second still waits on
//! the old one.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use mesbackup_core::Error;

/// The lock file's name inside an output folder.
pub const LOCK_FILE_NAME: &str = ".mesbackup-run.lock";

/// A held folder lock; dropping it releases the lock.
#[derive(Debug)]
pub struct FolderLock {
    _file: File,
    /// The lock file.
    pub path: PathBuf,
}

/// Tries once to lock `folder`: `Ok(None)` when another process holds it.
pub fn try_lock_folder(folder: &Path) -> Result<Option<FolderLock>, Error> {
    let (file, path) = open(folder)?;
    match file.try_lock() {
        Ok(()) => Ok(Some(FolderLock { _file: file, path })),
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(e)) => Err(Error::io(format!("cannot lock {}: {e}", path.display()))),
    }
}

/// Waits until `folder` can be locked (blocks the calling thread).
pub fn lock_folder(folder: &Path) -> Result<FolderLock, Error> {
    let (file, path) = open(folder)?;
    file.lock().map_err(|e| Error::io(format!("cannot lock {}: {e}", path.display())))?;
    Ok(FolderLock { _file: file, path })
}

fn open(folder: &Path) -> Result<(File, PathBuf), Error> {
    let path = folder.join(LOCK_FILE_NAME);
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    let file =
        options.open(&path).map_err(|e| Error::io(format!("cannot open the lock file {}: {e}", path.display())))?;
    Ok((file, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_folder_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let first = try_lock_folder(dir.path()).unwrap().expect("free");
        assert!(try_lock_folder(dir.path()).unwrap().is_none());
        drop(first);
        assert!(try_lock_folder(dir.path()).unwrap().is_some());
    }
}
