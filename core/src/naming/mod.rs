//! Names: systems, databases, versions and the installer's backup package file names.
//!
//! The MES installer restores ClickHouse from a backup only when it finds a file with exactly the
//! right name in its custom installation packages folder:
//!
//! 1. `<System>.Cmf.ClickHouse.FullBackup.<Kind>.<version>.zip` (system-specific, preferred), then
//! 2. `Cmf.ClickHouse.FullBackup.<Kind>.<version>.zip` (generic),
//!
//! with `<Kind>` one of `Online`, `CDM`, `ODS`, `DWH`. Any other file is silently ignored and the
//! installer creates an empty database instead, which an administrator may only notice weeks later.
//! That is why this module does not stop at "valid / invalid": [`parse_package_name`] explains every
//! near miss (wrong case, a browser's ` (1)`, a `.7z` repack, a renamed file…) and, where it can be
//! inferred, gives the exact name the file should have; [`check_folder`] predicts which file the
//! installer would pick for each database.
//!
//! Everything here is pure string work (no file system), so the CLI, the bindings and a browser page
//! can run the same checks on a directory listing they obtained themselves.

mod database;
mod folder_check;
mod package_name;
#[cfg(test)]
mod tests;
mod version;

pub use database::{
    database_name, parse_database_name, system_databases, validate_database_name, validate_system, DatabaseKind,
    MAX_DATABASE_NAME_LEN, MAX_SYSTEM_LEN,
};
pub use folder_check::{check_folder, FolderReport, IgnoredFile, IgnoredReason, KindReport, NearMissFile};
pub use package_name::{
    installer_package_name, parse_package_name, NearMiss, NearMissReason, PackageName, PACKAGE_EXTENSION, PACKAGE_STEM,
};
pub use version::validate_version;
