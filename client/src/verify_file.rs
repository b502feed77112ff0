//! Verifying a package on disk: one pass over the file through core's [`Verifier`] (zip CRCs,
//! manifest checksums, part checksums, SHA-256), compared with the sidecar beside it when there is
//! one, plus the inspection gathered on the way. Shared by the CLI (`verify`, `inspect`) and the
//! Python binding; front ends only print or translate the result.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use mesbackup_core::package::Inspection;
use mesbackup_core::package::{Verifier, VerifyOptions, VerifyReport};
use mesbackup_core::{Error, ErrorKind};

use crate::folder;

/// Read size of each chunk fed to the verifier.
const CHUNK: usize = 1 << 20;

/// The outcome of [`verify_file`].
#[derive(Debug, Clone)]
pub struct FileVerification {
    /// What the verifier checked and found (problems, checksums, SHA-256).
    pub report: VerifyReport,
    /// What the package holds: backup root, databases, tables, parts, rows.
    pub inspection: Inspection,
    /// A sidecar was found beside the package and its SHA-256 was compared.
    pub has_sidecar: bool,
    /// Size of the file in bytes.
    pub size: u64,
}

impl FileVerification {
    /// The canonical error of a failed verification, its message prefixed with the package path.
    pub fn failure(&self, path: &Path) -> Option<Error> {
        self.report.to_error().map(|e| Error::new(e.kind, format!("{}: {}", path.display(), e.message)))
    }
}

/// One pass over `path`: the verify report (SHA-256 on, compared with the sidecar's when there is
/// one) and the inspection. `on_start(size)` is called once the file is open, `on_progress(bytes)`
/// after each chunk. Errors are about reaching the file (io) or reading its sidecar; a damaged
/// package is a report with problems, not an error.
pub fn verify_file(
    path: &Path,
    on_start: &mut dyn FnMut(u64),
    on_progress: &mut dyn FnMut(u64),
) -> Result<FileVerification, Error> {
    let shown = path.display().to_string();
    let sidecar = folder::read_sidecar(path)?;
    let has_sidecar = sidecar.is_some();
    let mut file = File::open(path).map_err(|e| Error::io(format!("cannot open {shown}: {e}")))?;
    let meta = file.metadata().map_err(|e| Error::io(format!("cannot read {shown}: {e}")))?;
    if meta.is_dir() {
        return Err(Error::io(format!("{shown} is a folder, not a package")));
    }
    let options = VerifyOptions { sha256: true, expected_sha256: sidecar.map(|s| s.sha256) };
    let mut verifier = Verifier::with_options(options)
        .map_err(|e| Error::new(ErrorKind::Integrity, format!("{shown}: its sidecar is damaged: {}", e.message)))?;
    on_start(meta.len());
    let mut buf = vec![0u8; CHUNK];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                verifier.feed(&buf[..n]);
                on_progress(verifier.bytes_fed());
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io(format!("cannot read {shown}: {e}"))),
        }
    }
    let (report, inspection) = verifier.finish_with_inspection();
    Ok(FileVerification { report, inspection, has_sidecar, size: meta.len() })
}
