//! The storage report of a run: per environment and folder (`out`, and `stage_into` when set), the
//! packages of each database (count and bytes) and the file system's free space, with the
//! environment's `warn_free_below` threshold. Low space is a warning, never a failure.

use std::path::Path;

use mesbackup_core::run_config::EnvironmentConfig;
use serde::Serialize;

use crate::folder::read_sidecars;

/// Which folder of an environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum FolderRole {
    /// The output folder.
    Out,
    /// The installer's custom packages folder.
    StageInto,
}

/// The packages of one database in a folder.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DatabaseStorage {
    /// The database name (e.g. MESCDM).
    pub database: String,
    /// Packages of it present in the folder (out: those with a sidecar; stage_into: its installer name).
    pub packages: usize,
    /// Their bytes on disk.
    pub bytes: u64,
}

/// One folder of an environment after the run.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct FolderStorage {
    /// The environment's name.
    pub environment: String,
    /// out or stage_into.
    pub role: FolderRole,
    /// The folder.
    pub folder: String,
    /// Bytes available to this process on its file system (null: could not be read).
    pub free_bytes: Option<u64>,
    /// Size of its file system (null: could not be read).
    pub total_bytes: Option<u64>,
    /// Free space is below the environment's warn_free_below.
    pub low: bool,
    /// Per database.
    pub databases: Vec<DatabaseStorage>,
}

/// The folders of `env` as they are now.
pub fn environment_storage(env: &EnvironmentConfig) -> Vec<FolderStorage> {
    let databases = env.databases().unwrap_or_default();
    let mut out = Vec::new();
    let size_of = |p: &Path| std::fs::symlink_metadata(p).ok().filter(|m| m.is_file()).map(|m| m.len());
    // out: the packages with a mesbackup sidecar, by the sidecar's database.
    let sidecars = read_sidecars(Path::new(&env.out)).unwrap_or_default();
    let dbs = databases
        .iter()
        .map(|(_, db, _)| {
            let mut d = DatabaseStorage { database: db.clone(), packages: 0, bytes: 0 };
            for (package, s) in &sidecars {
                if s.database.as_deref() != Some(db.as_str()) {
                    continue;
                }
                if let Some(size) = size_of(&Path::new(&env.out).join(package)) {
                    d.packages += 1;
                    d.bytes += size;
                }
            }
            d
        })
        .collect();
    out.push(folder(env, FolderRole::Out, &env.out, dbs));
    // stage_into: the installer-named package of each database.
    if let Some(into) = &env.stage_into {
        let dbs = databases
            .iter()
            .map(|(_, db, name)| {
                let size = name.as_ref().and_then(|n| size_of(&Path::new(into).join(n)));
                DatabaseStorage {
                    database: db.clone(),
                    packages: usize::from(size.is_some()),
                    bytes: size.unwrap_or(0),
                }
            })
            .collect();
        out.push(folder(env, FolderRole::StageInto, into, dbs));
    }
    out
}

fn folder(env: &EnvironmentConfig, role: FolderRole, path: &str, databases: Vec<DatabaseStorage>) -> FolderStorage {
    let space = free_space(Path::new(path));
    let low = match (env.warn_free_below, space) {
        (Some(t), Some((free, total))) => t.is_low(free, total),
        _ => false,
    };
    FolderStorage {
        environment: env.name.clone(),
        role,
        folder: path.to_owned(),
        free_bytes: space.map(|s| s.0),
        total_bytes: space.map(|s| s.1),
        low,
        databases,
    }
}

/// (available to this user, total) bytes of the file system holding `path`.
#[cfg(unix)]
pub fn free_space(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    // SAFETY: statvfs writes into the zeroed struct we own; `c` is a valid NUL-terminated path.
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c.as_ptr(), &mut s) } != 0 {
        return None;
    }
    #[allow(clippy::unnecessary_cast, clippy::useless_conversion)]
    let frsize = u64::from(s.f_frsize as u64);
    #[allow(clippy::unnecessary_cast, clippy::useless_conversion)]
    let (avail, blocks) = (u64::from(s.f_bavail as u64), u64::from(s.f_blocks as u64));
    Some((avail.saturating_mul(frsize), blocks.saturating_mul(frsize)))
}

/// (available to this user, total) bytes of the volume holding `path`.
#[cfg(windows)]
pub fn free_space(path: &Path) -> Option<(u64, u64)> {
    use std::os::windows::ffi::OsStrExt;
    use windows_sys::Win32::Storage::FileSystem::GetDiskFreeSpaceExW;
    let wide: Vec<u16> = path.as_os_str().encode_wide().chain(std::iter::once(0)).collect();
    let (mut avail, mut total, mut free) = (0u64, 0u64, 0u64);
    // SAFETY: a NUL-terminated wide path and three u64 out-parameters we own.
    let ok = unsafe { GetDiskFreeSpaceExW(wide.as_ptr(), &mut avail, &mut total, &mut free) };
    (ok != 0).then_some((avail, total))
}

/// Neither Unix nor Windows: unknown.
#[cfg(not(any(unix, windows)))]
pub fn free_space(_path: &Path) -> Option<(u64, u64)> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_space_of_a_real_folder_is_known_and_below_its_total() {
        let dir = tempfile::tempdir().unwrap();
        let (free, total) = free_space(dir.path()).expect("statvfs");
        assert!(total > 0 && free <= total, "{free} {total}");
        assert!(free_space(&dir.path().join("missing")).is_none());
    }
}
