//! Extraction of a package's backup root into a new private folder the server can read, refusing
//! anything that could write elsewhere (the second line after `verify`).

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use mesbackup_core::error::quote_untrusted;
use mesbackup_core::file_modes::FileModes;
use mesbackup_core::package::entry_components;
use mesbackup_core::package::{EntryEnd, EntryHeader, ZipProblem, ZipStream, ZipVisitor};
use mesbackup_core::{Error, ErrorKind};

use crate::private_files;

/// Streams the backup root of a package into a folder of our own, refusing anything that could
/// write elsewhere. `verify` runs first and refuses such a package; this is the second line, for a
/// package that changed between the two passes or a rule `verify` missed: every entry path is
/// checked component by component ([`entry_path`]), the joined path must lie under the folder,
/// folders are created one level at a time and must be real folders (not links), and files are
/// created with "must not exist" semantics without following a link.
struct Extractor<'a> {
    root: String,
    dest: &'a Path,
    modes: FileModes,
    file: Option<File>,
    files: u64,
    bytes: u64,
    error: Option<Error>,
}

impl Extractor<'_> {
    fn fail(&mut self, e: Error) {
        if self.error.is_none() {
            self.error = Some(e);
        }
        self.file = None;
    }

    fn refuse(&mut self, entry: &str, why: &str) {
        self.fail(Error::new(
            ErrorKind::Integrity,
            format!(
                "zip entry {} {why}; extraction stopped, nothing is written outside {}",
                quote_untrusted(entry, 300),
                self.dest.display()
            ),
        ));
    }

    /// Where `entry` goes under `dest`, with its parent folders created; `None` (and the error set)
    /// when it must not be extracted.
    fn place(&mut self, entry: &str, components: &[&str]) -> Option<PathBuf> {
        let mut path = self.dest.to_path_buf();
        for (i, c) in components.iter().enumerate() {
            path.push(c);
            if i + 1 == components.len() {
                break;
            }
            match make_private_dir(&path, self.modes.dir) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    self.refuse(entry, "needs a folder where the package put a file (or a link)");
                    return None;
                }
                Err(e) => {
                    self.fail(Error::io(format!("cannot create {}: {e}", path.display())));
                    return None;
                }
            }
        }
        // Belt and braces: the components were checked, so this cannot fail; if it ever does, the
        // rule above has a hole, and nothing is written.
        if !path.starts_with(self.dest)
            || path.components().count() != self.dest.components().count() + components.len()
        {
            self.refuse(entry, "would be written outside the extraction folder");
            return None;
        }
        Some(path)
    }
}

impl ZipVisitor for Extractor<'_> {
    fn entry_start(&mut self, h: &EntryHeader) {
        self.file = None;
        if self.error.is_some() {
            return;
        }
        if let Some(fault) = h.path_fault {
            return self.refuse(&h.name, &format!("is not a safe path ({})", fault.describe()));
        }
        let Some(rel) = h.name.strip_prefix(self.root.as_str()) else {
            return;
        };
        if rel.is_empty() {
            return;
        }
        let components = match entry_components(rel) {
            Ok(c) => c,
            Err(fault) => {
                return self
                    .refuse(&h.name, &format!("is not a safe path below the backup root ({})", fault.describe()))
            }
        };
        let Some(path) = self.place(&h.name, &components) else { return };
        if h.name.ends_with('/') {
            if let Err(e) = make_private_dir(&path, self.modes.dir) {
                self.fail(Error::io(format!("cannot create {}: {e}", path.display())));
            }
            return;
        }
        match create_new_private(&path, self.modes.file) {
            Ok(f) => {
                self.file = Some(f);
                self.files += 1;
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                self.refuse(&h.name, "appears twice, or collides with a folder or link of the same name")
            }
            Err(e) => self.fail(Error::io(format!("cannot create {}: {e}", path.display()))),
        }
    }
    fn entry_data(&mut self, data: &[u8]) {
        if let Some(f) = &mut self.file {
            if let Err(e) = f.write_all(data) {
                self.fail(Error::io(format!("cannot write under {}: {e}", self.dest.display())));
            } else {
                self.bytes += data.len() as u64;
            }
        }
    }
    fn entry_end(&mut self, end: &EntryEnd) {
        if self.file.take().is_some() && !end.crc_ok {
            self.fail(Error::new(ErrorKind::Integrity, format!("{}: CRC mismatch while extracting", end.name)));
        }
    }
    fn problem(&mut self, problem: ZipProblem) {
        // The package verified a moment ago: any problem now means it changed under us.
        let detail = match &problem {
            ZipProblem::SpecialEntry { entry, detail } => {
                format!("zip entry {} is a {detail}", quote_untrusted(entry, 300))
            }
            other => format!("{other:?}"),
        };
        self.fail(Error::new(
            ErrorKind::Integrity,
            format!("the package changed or is damaged ({}); extraction stopped", quote_untrusted(&detail, 400)),
        ));
    }
}

/// Creates the folder `path` with `mode`, or accepts it when it is already a real folder (not a
/// link to one, not a file).
fn make_private_dir(path: &Path, mode: u32) -> io::Result<()> {
    match private_files::create_dir_with_mode(path, mode) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            if fs::symlink_metadata(path)?.is_dir() {
                Ok(())
            } else {
                Err(io::Error::new(io::ErrorKind::AlreadyExists, "exists and is not a folder"))
            }
        }
        other => other,
    }
}

/// Creates a new file with exactly `mode`: never an existing file, never through a link.
fn create_new_private(path: &Path, mode: u32) -> io::Result<File> {
    let file = private_files::create_new_options(mode).open(path)?;
    private_files::set_file_mode(&file, mode)?;
    Ok(file)
}

/// Extracts the files under `backup_root` (the folder of the `.backup` manifest inside the zip) of
/// `package` into `dest`, a new folder (it must not exist; its parent is created if missing) with
/// `modes`. Returns (files, bytes). On any failure `dest` is removed: it held only what this call
/// wrote.
pub fn extract_backup_root(
    package: &Path,
    backup_root: &str,
    dest: &Path,
    modes: FileModes,
) -> Result<(u64, u64), Error> {
    if let Some(parent) = dest.parent() {
        private_files::create_dir_all_with_mode(parent, modes.dir)
            .map_err(|e| Error::io(format!("cannot create {}: {e}", parent.display())))?;
    }
    private_files::create_dir_with_mode(dest, modes.dir)
        .map_err(|e| Error::io(format!("cannot create the extraction folder {}: {e}", dest.display())))?;
    let result = extract_into(package, backup_root, dest, modes);
    if result.is_err() {
        let _ = fs::remove_dir_all(dest);
    }
    result
}

fn extract_into(package: &Path, backup_root: &str, dest: &Path, modes: FileModes) -> Result<(u64, u64), Error> {
    let mut f = File::open(package).map_err(|e| Error::io(format!("cannot open {}: {e}", package.display())))?;
    let mut x = Extractor { root: backup_root.to_owned(), dest, modes, file: None, files: 0, bytes: 0, error: None };
    let mut zs = ZipStream::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => zs.feed(&buf[..n], &mut x),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io(format!("cannot read {}: {e}", package.display()))),
        }
        if let Some(e) = x.error.take() {
            return Err(e);
        }
    }
    zs.finish(&mut x);
    if let Some(e) = x.error.take() {
        return Err(e);
    }
    if !dest.join(".backup").is_file() {
        return Err(Error::new(
            ErrorKind::Integrity,
            format!("{}: no .backup manifest under {backup_root:?}", package.display()),
        ));
    }
    Ok((x.files, x.bytes))
}

/// A fresh folder name under `base` for one restore.
pub fn unique_dir(base: &Path, database: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let safe: String =
        database.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' }).collect();
    base.join(format!("mesbackup-restore-{safe}-{}-{nanos}", std::process::id()))
}

#[cfg(test)]
mod extraction_tests {
    //! The extractor on its own, without `verify` in front: the second line must hold by itself.

    use super::extract_backup_root;
    use mesbackup_core::file_modes::FileModes;
    use mesbackup_core::ErrorKind;
    use std::path::Path;

    const FILE: u32 = 0o100_644 << 16;
    const LINK: u32 = 0o120_777 << 16;

    /// A stored zip of (name, data, external attributes), names as given (any bytes).
    fn zip(entries: &[(&str, &[u8], u32)]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut central = Vec::new();
        for (name, data, attrs) in entries {
            let crc = crc32(data);
            let offset = out.len() as u32;
            out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
            for v in [20u16, 0, 0, 0, 0] {
                out.extend_from_slice(&v.to_le_bytes());
            }
            for v in [crc, data.len() as u32, data.len() as u32] {
                out.extend_from_slice(&v.to_le_bytes());
            }
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(&0u16.to_le_bytes());
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(data);
            central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
            for v in [(3u16 << 8) | 20, 20, 0, 0, 0, 0] {
                central.extend_from_slice(&v.to_le_bytes());
            }
            for v in [crc, data.len() as u32, data.len() as u32] {
                central.extend_from_slice(&v.to_le_bytes());
            }
            for v in [name.len() as u16, 0, 0, 0, 0] {
                central.extend_from_slice(&v.to_le_bytes());
            }
            central.extend_from_slice(&attrs.to_le_bytes());
            central.extend_from_slice(&offset.to_le_bytes());
            central.extend_from_slice(name.as_bytes());
        }
        let cd_offset = out.len() as u32;
        out.extend_from_slice(&central);
        out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        for v in [0u16, 0, entries.len() as u16, entries.len() as u16] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&(central.len() as u32).to_le_bytes());
        out.extend_from_slice(&cd_offset.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }

    fn tree(dir: &Path) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                out.push(p.strip_prefix(dir).unwrap().display().to_string());
                if p.is_dir() {
                    stack.push(p);
                }
            }
        }
        out.sort();
        out
    }

    #[test]
    fn every_escape_is_refused_and_nothing_lands_outside() {
        let work = tempfile::tempdir().unwrap();
        let outside = work.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        let abs = format!("R/{}/pwned", outside.display());
        let cases: Vec<(String, Vec<(String, u32)>)> = vec![
            ("empty component".into(), vec![(abs.clone(), FILE)]),
            ("parent".into(), vec![("R/../../outside/pwned".into(), FILE)]),
            ("nested parent".into(), vec![("R/a/../../../outside/pwned".into(), FILE)]),
            ("backslash".into(), vec![("R/..\\..\\outside\\pwned".into(), FILE)]),
            ("drive".into(), vec![("R/C:/pwned".into(), FILE)]),
            ("device".into(), vec![("R/data/NUL.bin".into(), FILE)]),
            ("symlink then through it".into(), vec![("R/link".into(), LINK), ("R/link/pwned".into(), FILE)]),
            ("duplicate".into(), vec![("R/data/x".into(), FILE), ("R/data/x".into(), FILE)]),
        ];
        for (what, hostile) in cases {
            let mut entries: Vec<(&str, &[u8], u32)> = vec![("R/.backup", b"<config/>", FILE)];
            for (name, attrs) in &hostile {
                let data: &[u8] = if *attrs == LINK { outside.to_str().unwrap().as_bytes() } else { b"pwned" };
                entries.push((name.as_str(), data, *attrs));
            }
            let package = work.path().join("p.zip");
            std::fs::write(&package, zip(&entries)).unwrap();
            let base = work.path().join("server-backups");
            let dest = base.join("extract");
            let err = extract_backup_root(&package, "R/", &dest, FileModes::default())
                .expect_err(&format!("{what}: extracted"));
            assert_eq!(err.kind, ErrorKind::Integrity, "{what}: {err:?}");
            assert!(!dest.exists(), "{what}: the extraction folder is removed on failure");
            assert!(tree(&outside).is_empty(), "{what}: wrote outside: {:?}", tree(&outside));
            assert!(tree(work.path()).iter().all(|p| !p.contains("pwned")), "{what}: {:?}", tree(work.path()));
        }
    }

    #[test]
    fn a_sound_package_is_extracted_with_private_modes() {
        let work = tempfile::tempdir().unwrap();
        let package = work.path().join("p.zip");
        let entries: Vec<(&str, &[u8], u32)> = vec![
            ("R/.backup", b"<config/>", FILE),
            ("R/data/db/t/all_1_1_0/", b"", 0o040_755 << 16),
            ("R/data/db/t/all_1_1_0/data.bin", b"rows", FILE),
            ("R/metadata/db.sql", b"CREATE", FILE),
            ("elsewhere/ignored.txt", b"not under the root", FILE),
        ];
        std::fs::write(&package, zip(&entries)).unwrap();
        for (modes, file, dir) in [
            (FileModes::default(), 0o600, 0o700),
            (FileModes::parse(Some("0640"), Some("0750")).unwrap(), 0o640, 0o750),
        ] {
            let dest = work.path().join(format!("x{file:o}"));
            let (files, bytes) = extract_backup_root(&package, "R/", &dest, modes).unwrap();
            assert_eq!((files, bytes), (3, 9 + 4 + 6));
            assert_eq!(
                tree(&dest),
                vec![
                    ".backup",
                    "data",
                    "data/db",
                    "data/db/t",
                    "data/db/t/all_1_1_0",
                    "data/db/t/all_1_1_0/data.bin",
                    "metadata",
                    "metadata/db.sql"
                ]
            );
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
                assert_eq!(mode(&dest), dir);
                for p in tree(&dest) {
                    let p = dest.join(p);
                    assert_eq!(mode(&p), if p.is_dir() { dir } else { file }, "{}", p.display());
                }
            }
            // The folder must be new: an existing one (someone else's, or a link) is refused.
            let again = extract_backup_root(&package, "R/", &dest, modes).unwrap_err();
            assert_eq!(again.kind, ErrorKind::Io);
            assert!(dest.join(".backup").is_file(), "the existing folder is left as it was");
        }
    }
}
