//! The sidecars beside packages, and the backup window they add up to.

use std::collections::BTreeMap;
use std::fs::{self};
use std::io::{self};
use std::path::Path;

use mesbackup_core::sidecar::{sidecar_file_name, Sidecar, SIDECAR_SUFFIX};
use mesbackup_core::Error;

use super::{io_error, list_file_names};

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
