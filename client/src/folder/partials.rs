//! The output folder before a run: created when missing, and this tool's stale temporary files
//! removed (only those whose lock can be taken: a live download holds its lock).

use std::io;
use std::path::{Path, PathBuf};

use mesbackup_core::file_modes::FileModes;
use mesbackup_core::mes::SIDECAR_SUFFIX;
use mesbackup_core::Error;

use super::io_error;
use crate::file_sink::{find_stale_partials, PARTIAL_SUFFIX, PROBE_PREFIX};
use crate::private_files;

/// A temporary file a killed run left behind.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct StalePartial {
    /// The temporary file that was removed.
    #[serde(serialize_with = "super::path_text::lossy")]
    pub path: PathBuf,
    /// The temporary file's own name (`.MESCDM.zip.1a2b3c4d.mesbackup-partial`).
    #[serde(rename = "file")]
    pub file_name: String,
    /// The name the file would have had (`MESCDM.zip`), when it can be read back.
    pub target_name: Option<String>,
    /// Bytes the temporary file held.
    pub size: u64,
    /// A sidecar being written (no package data was lost with it). Serialised as its consequence
    /// by the front ends that show it (the CLI's `lost_download`).
    #[serde(skip)]
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
pub(super) fn partial_target(file_name: &str) -> Option<String> {
    let inner = file_name.strip_prefix('.')?.strip_suffix(PARTIAL_SUFFIX)?;
    let (name, tag) = inner.rsplit_once('.')?;
    (!name.is_empty() && tag.len() == 8 && tag.bytes().all(|b| b.is_ascii_hexdigit())).then(|| name.to_owned())
}

/// Finds this tool's temporary files in `dir` that no process is writing and removes them. A
/// writer holds an exclusive lock on its temporary file for as long as the file has no final name
/// (see [`crate::private_files`]): a file whose lock can be taken is stale; it is removed while
/// locked. A file that cannot be locked for any other reason (another user's, a file system
/// without locks) is kept. A package temporary file means a one-shot download was interrupted
/// (kill -9, power loss): that backup is gone on the server. A stale write probe of a folder check is
/// removed without a report: it never held data. A missing folder has nothing to clean.
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
        if file_name.starts_with(PROBE_PREFIX) {
            continue; // a folder check's empty probe: nothing was lost with it
        }
        let target_name = partial_target(&file_name);
        let is_sidecar = target_name.as_deref().is_some_and(|n| n.ends_with(SIDECAR_SUFFIX));
        removed.push(StalePartial { path, file_name, target_name, size: meta.len(), is_sidecar });
    }
    Ok(removed)
}

// ---------------------------------------------------------------------------------------------
// Sidecars and the backup window
// ---------------------------------------------------------------------------------------------
