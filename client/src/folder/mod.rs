//! Native folder operations shared by the native front ends (CLI, Python binding): listing a custom
//! packages folder for the installer check, staging packages into it atomically, pruning old backups
//! by their sidecar times, and cleaning up this tool's own stale temporary files.
//!
//! All naming decisions are the core's (`mesbackup_core::naming`); this module only reads and
//! writes files. Every operation that creates a file in a target folder writes a hidden temporary
//! file (`.<name>.<tag>.mesbackup-partial`) first and gives it its final name atomically, without
//! replacing an existing file unless asked. Files are written with exactly the file mode of
//! [`FileModes`](mesbackup_core::file_modes::FileModes) (0600 by default) and folders this module creates get its folder mode (0700);
//! on Windows both inherit the folder's ACL instead.

mod partials;
mod path_text;
mod prune;
mod sidecars;
mod stage;
#[cfg(test)]
mod tests;

pub use partials::{prepare_output_folder, remove_stale_partials, StalePartial};
pub use prune::{execute_prune, plan_prune, plan_retention_in, PruneEntry, PrunePlan};
pub use sidecars::{read_sidecar, read_sidecars};
pub use stage::{package_kind, stage_package, StageMode, StagedPackage};

use std::fs;
use std::io;
use std::path::Path;

use mesbackup_core::naming::{check_folder as check_names, FolderReport};
use mesbackup_core::Error;

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
