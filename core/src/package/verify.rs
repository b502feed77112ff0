//! One-pass verification of an MES package: zip CRCs, the ClickHouse `.backup` manifest, each
//! data part's own `checksums.txt`, and optionally SHA-256 — all while the bytes stream by.
//!
//! The manifest usually comes last in the zip, so the [`Verifier`] computes, for every entry,
//! its size and ClickHouse checksum (chained CityHash128, [`ChainedChecksum`]) as it streams and
//! keeps only that (name → size, checksum) plus the few small files it must read: the manifests,
//! the parts' `checksums.txt`, the `metadata/*.sql` and `count.txt` files (for
//! [`crate::inspect`]). At [`Verifier::finish`] it finds the manifest at any depth (its folder
//! is the backup root) and compares:
//!
//! - every listed file: present (following `data_file` for deduplicated files), same size, same
//!   checksum (zero-size files carry none);
//! - every file in the zip is listed (else `unlisted`);
//! - every part's `checksums.txt` (format 4: ClickHouse compressed blocks, NONE/LZ4/ZSTD) against
//!   the files' real checksums: a second, independent check;
//! - the SHA-256 of the whole package against an expected value (the sidecar's), when given.
//!
//! See `docs/clickhouse-backup-format.md` for the format.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::cityhash::checksum_hex;
use super::entry_path::{check_entry_path, PathFault};
use super::zip::ZipProblem;
use crate::error::{quote_untrusted, Error, ErrorKind};

use super::inspect::{inspect, Inspection};
use super::manifest::ManifestFile;
use super::part_checksums::parse_part_checksums;
use super::scan::{PackageContents, Scanner};

/// One problem found; every variant names the file or entry concerned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Problem {
    /// The zip entry's bytes do not have the CRC-32 the archive declares.
    CrcMismatch {
        /// Name of the zip entry, as stored in the archive.
        entry: String,
        /// CRC-32 the archive declares (local header or data descriptor), 8 lowercase hex digits.
        expected: String,
        /// CRC-32 of the entry's uncompressed bytes, 8 lowercase hex digits.
        actual: String,
    },
    /// A declared size differs from the real one; `against` says who declared it (manifest,
    /// checksums.txt, data descriptor, local header, central directory).
    SizeMismatch {
        /// The file or zip entry concerned: its path in the zip, with " (stored as ...)" for a deduplicated file.
        file: String,
        /// Size in bytes that `against` declares.
        expected: u64,
        /// Size in bytes found: the entry's uncompressed bytes, or the manifest's size when checked against
        /// a part's `checksums.txt`.
        actual: u64,
        /// Who declared `expected`: "manifest", "part's `path` (vs manifest)", "local header", "data
        /// descriptor", "central directory"...
        against: String,
    },
    /// The file's ClickHouse checksum differs from the manifest's.
    ChecksumMismatch {
        /// Its path in the zip, with " (stored as ...)" when its bytes are stored under another name.
        file: String,
        /// Checksum the manifest lists, 32 lowercase hex digits (high 64 bits first).
        expected: String,
        /// Chained CityHash128 of the stored bytes, in the same form.
        actual: String,
    },
    /// Listed in the manifest, not in the package.
    Missing {
        /// Its path in the zip, with " (stored as ...)" when its bytes should be under another name.
        file: String,
    },
    /// In the package, not listed in the manifest.
    Unlisted {
        /// Path of the entry in the zip; no file of the manifest is stored there.
        file: String,
    },
    /// A part's `checksums.txt` (`part_checksums`) gives another hash than the file has
    /// (`against` = "content"), or than the manifest lists (`against` = "manifest").
    PartChecksumMismatch {
        /// Path in the zip of the part file concerned (backup root + logical name).
        file: String,
        /// Path in the zip of the part's `checksums.txt` that lists the file.
        part_checksums: String,
        /// Hash the part's `checksums.txt` gives, 32 lowercase hex digits (high 64 bits first).
        expected: String,
        /// Hash the manifest lists or the stored bytes have (see `against`), in the same form.
        actual: String,
        /// "manifest" or "content": where `actual` comes from.
        against: String,
    },
    /// A part's `checksums.txt` could not be read.
    BadPartChecksums {
        /// Path in the zip of the unreadable `checksums.txt`.
        file: String,
        /// Why it could not be decoded (header, block checksum, decompression, truncated list...).
        detail: String,
    },
    /// No `.backup` manifest anywhere in the package.
    NoManifest,
    /// The manifest could not be read.
    BadManifest {
        /// Path in the zip of the `.backup` manifest.
        file: String,
        /// Why it could not be read: an XML error, or too large (over 256 MiB).
        detail: String,
    },
    /// The package ends early.
    Truncated {
        /// What was being read when the input ended, and after how many bytes.
        detail: String,
    },
    /// The package's SHA-256 differs from the expected one (the sidecar's).
    Sha256Mismatch {
        /// The expected SHA-256, 64 lowercase hex digits.
        expected: String,
        /// The SHA-256 of the bytes fed, 64 lowercase hex digits.
        actual: String,
    },
    /// A zip entry name that is not a plain relative path: extracting it could write outside the
    /// extraction folder. `reason` says what is wrong.
    UnsafeName {
        /// Name of the zip entry, as stored in the archive.
        entry: String,
        /// Which path rule the name breaks.
        reason: PathFault,
    },
    /// A file the manifest lists (its name or `data_file`) that is not a plain relative path: it
    /// could make ClickHouse's RESTORE read outside the backup folder.
    UnsafeManifestPath {
        /// The name or `data_file` as the manifest lists it (relative to the backup root).
        file: String,
        /// Which path rule it breaks.
        reason: PathFault,
    },
    /// A zip entry that is a symbolic link, device, FIFO or socket, not a file or folder.
    SpecialEntry {
        /// Name of the zip entry, as stored in the archive.
        entry: String,
        /// What the entry is, as the central directory says ("symbolic link", "FIFO"...).
        detail: String,
    },
    /// A non-empty file the manifest lists without a checksum: nothing proves its content.
    NoChecksum {
        /// Its path in the zip, with " (stored as ...)" when its bytes are stored under another name.
        file: String,
    },
    /// The same name twice in the zip.
    DuplicateEntry {
        /// The repeated entry name; reported once per extra copy, and the last copy is the one checked.
        entry: String,
    },
    /// Zip structure damage (bad signature, bad deflate stream, inconsistent end record).
    Corrupt {
        /// What is wrong, with the byte offset in the package where it was found.
        detail: String,
    },
    /// Central directory and stream disagree.
    CentralDirectoryMismatch {
        /// Name of the zip entry, as stored in the archive.
        entry: String,
        /// The differences between the central directory and the stream ("; "-separated).
        detail: String,
    },
    /// Encryption or an unsupported compression method.
    Unsupported {
        /// Name of the zip entry, as stored in the archive.
        entry: String,
        /// "encrypted entry", or the compression method found (only stored and deflated are read).
        detail: String,
    },
}

impl Problem {
    /// A one-line, human description naming the file.
    pub fn message(&self) -> String {
        let q = |s: &str| quote_untrusted(s, 300);
        match self {
            Problem::CrcMismatch { entry, expected, actual } => {
                format!("zip entry {} is corrupt: CRC-32 {actual}, the archive says {expected}", q(entry))
            }
            Problem::SizeMismatch { file, expected, actual, against } => {
                format!("{} has {actual} bytes, the {against} says {expected}", q(file))
            }
            Problem::ChecksumMismatch { file, expected, actual } => {
                format!("{} is corrupt: checksum {actual}, the backup manifest says {expected}", q(file))
            }
            Problem::Missing { file } => {
                format!("{} is listed in the backup manifest but missing from the package", q(file))
            }
            Problem::Unlisted { file } => format!("{} is in the package but not in the backup manifest", q(file)),
            Problem::PartChecksumMismatch { file, part_checksums, expected, actual, against } => format!(
                "{} does not match its part's {}: {expected} there, {actual} in the {against}",
                q(file),
                q(part_checksums)
            ),
            Problem::BadPartChecksums { file, detail } => format!("{} cannot be read: {detail}", q(file)),
            Problem::NoManifest => {
                "no ClickHouse backup manifest (.backup) in the package: not a ClickHouse backup, or cut short"
                    .to_owned()
            }
            Problem::BadManifest { file, detail } => format!("backup manifest {} cannot be read: {detail}", q(file)),
            Problem::Truncated { detail } => format!("the package is truncated: {detail}"),
            Problem::Sha256Mismatch { expected, actual } => {
                format!("the package's SHA-256 is {actual}, its sidecar says {expected}")
            }
            Problem::UnsafeName { entry, reason } => {
                format!("zip entry {} is not a safe path: {}; it is never extracted", q(entry), reason.describe())
            }
            Problem::UnsafeManifestPath { file, reason } => {
                format!("the backup manifest lists {}, not a safe path: {}", q(file), reason.describe())
            }
            Problem::SpecialEntry { entry, detail } => {
                format!(
                    "zip entry {} is a {detail}, not a file: a ClickHouse backup holds only files and folders",
                    q(entry)
                )
            }
            Problem::NoChecksum { file } => {
                format!(
                    "{} is listed in the backup manifest without a checksum: its content cannot be verified",
                    q(file)
                )
            }
            Problem::DuplicateEntry { entry } => format!("zip entry {} appears more than once", q(entry)),
            Problem::Corrupt { detail } => format!("the zip structure is damaged: {detail}"),
            Problem::CentralDirectoryMismatch { entry, detail } => {
                format!("zip entry {}: central directory disagrees: {detail}", q(entry))
            }
            Problem::Unsupported { entry, detail } => format!("zip entry {}: unsupported: {detail}", q(entry)),
        }
    }

    /// The error a front end raises for this problem (always [`ErrorKind::Integrity`]).
    pub fn to_error(&self) -> Error {
        Error::new(ErrorKind::Integrity, self.message())
    }
}

/// Facts read from the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ManifestInfo {
    /// Path of the manifest in the zip.
    pub path: String,
    /// The manifest's `<version>` (format version, "1" in the backups seen), if present.
    pub version: Option<String>,
    /// The manifest's `<timestamp>`: when ClickHouse made the backup, as it wrote it (`YYYY-MM-DD hh:mm:ss`).
    pub timestamp: Option<String>,
    /// The manifest's `<uuid>`: the backup's UUID, as ClickHouse wrote it.
    pub uuid: Option<String>,
    /// Files listed.
    pub files: u64,
    /// Sum of the listed sizes.
    pub bytes: u64,
}

/// The result of [`Verifier::finish`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct VerifyReport {
    /// No problem found.
    pub ok: bool,
    /// Bytes of the package.
    pub bytes: u64,
    /// Zip entries.
    pub entries: u64,
    /// Folder of the manifest inside the zip ("" at the root, else ending with '/').
    pub backup_root: Option<String>,
    /// Facts read from the manifest; `None` when there is none or it could not be read (see `problems`).
    pub manifest: Option<ManifestInfo>,
    /// Listed files whose size and checksum were compared.
    pub files_checked: u64,
    /// Part files compared with their part's `checksums.txt`.
    pub part_files_checked: u64,
    /// Parts whose `checksums.txt` was read.
    pub parts_checked: u64,
    /// Lowercase hex SHA-256 of the package, when computed.
    #[cfg_attr(feature = "schema", schemars(pattern(r"^[0-9a-f]{64}$")))]
    pub sha256: Option<String>,
    /// Every problem found, zip-layer ones first; empty when the package is sound.
    pub problems: Vec<Problem>,
    /// Things not checked, and why (incremental backups, nested archives...).
    pub notes: Vec<String>,
}

impl VerifyReport {
    /// Whether no problem was found, computed from `problems` (so still right after a caller edits them).
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// The first problem as an [`ErrorKind::Integrity`] error (the message names the file and
    /// counts the others), or `None` when the package is sound.
    pub fn to_error(&self) -> Option<Error> {
        let first = self.problems.first()?;
        let mut e = first.to_error();
        if self.problems.len() > 1 {
            e.message.push_str(&format!(" (and {} more problems)", self.problems.len() - 1));
        }
        Some(e)
    }
}

/// Options of a [`Verifier`].
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// Compute the package's SHA-256 in the same pass.
    pub sha256: bool,
    /// Expected SHA-256 (hex, from the sidecar); implies `sha256`.
    pub expected_sha256: Option<String>,
}

/// One-pass verifier: feed the package's bytes, then [`finish`](Verifier::finish).
pub struct Verifier {
    scanner: Scanner,
    expected_sha256: Option<String>,
}

impl Default for Verifier {
    fn default() -> Self {
        Self::new()
    }
}

impl Verifier {
    /// A verifier without SHA-256.
    pub fn new() -> Verifier {
        Verifier { scanner: Scanner::new(false), expected_sha256: None }
    }

    /// A verifier with options; an expected SHA-256 must be 64 hex digits.
    pub fn with_options(options: VerifyOptions) -> Result<Verifier, Error> {
        let expected = match options.expected_sha256 {
            Some(h) => {
                let h = h.trim().to_ascii_lowercase();
                if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(Error::invalid_argument(format!(
                        "expected SHA-256 {} is not 64 hex digits",
                        quote_untrusted(&h, 80)
                    )));
                }
                Some(h)
            }
            None => None,
        };
        let scanner = Scanner::new(options.sha256 || expected.is_some());
        Ok(Verifier { scanner, expected_sha256: expected })
    }

    /// Feeds the next bytes of the package (any chunking).
    pub fn feed(&mut self, data: &[u8]) {
        self.scanner.feed(data);
    }

    /// Bytes fed so far.
    pub fn bytes_fed(&self) -> u64 {
        self.scanner.bytes_fed()
    }

    /// Ends the input and returns the collected contents and the SHA-256 (hex).
    pub fn finish_contents(self) -> (PackageContents, Option<String>) {
        self.scanner.finish()
    }

    /// Ends the input and returns the report.
    pub fn finish(self) -> VerifyReport {
        let expected = self.expected_sha256.clone();
        let (contents, sha) = self.finish_contents();
        report(&contents, sha, expected.as_deref())
    }

    /// Ends the input and returns the report and the inspection, from the same pass.
    pub fn finish_with_inspection(self) -> (VerifyReport, Inspection) {
        let expected = self.expected_sha256.clone();
        let (contents, sha) = self.finish_contents();
        let r = report(&contents, sha, expected.as_deref());
        let i = inspect(&contents);
        (r, i)
    }
}

/// Builds the report from what one pass collected.
pub fn report(c: &PackageContents, sha256: Option<String>, expected_sha256: Option<&str>) -> VerifyReport {
    let mut problems = Vec::new();
    let mut notes = c.notes.clone();
    for p in &c.zip_problems {
        problems.push(match p.clone() {
            ZipProblem::CrcMismatch { entry, expected, actual } => {
                Problem::CrcMismatch { entry, expected: format!("{expected:08x}"), actual: format!("{actual:08x}") }
            }
            ZipProblem::SizeMismatch { entry, expected, actual, against } => {
                Problem::SizeMismatch { file: entry, expected, actual, against }
            }
            ZipProblem::UnsafeName { entry, reason } => Problem::UnsafeName { entry, reason },
            ZipProblem::SpecialEntry { entry, detail } => Problem::SpecialEntry { entry, detail },
            ZipProblem::Unsupported { entry, detail } => Problem::Unsupported { entry, detail },
            ZipProblem::CentralDirectoryMismatch { entry, detail } => {
                Problem::CentralDirectoryMismatch { entry, detail }
            }
            ZipProblem::Corrupt { offset, detail } => {
                Problem::Corrupt { detail: format!("{detail} (at byte {offset})") }
            }
            ZipProblem::Truncated { offset, detail } => {
                Problem::Truncated { detail: format!("{detail} (after {offset} bytes)") }
            }
            ZipProblem::TrailingData { offset, bytes } => {
                Problem::Corrupt { detail: format!("{bytes} bytes after the end of the archive (at byte {offset})") }
            }
        });
    }
    for d in &c.duplicates {
        problems.push(Problem::DuplicateEntry { entry: d.clone() });
    }

    let mut files_checked = 0u64;
    let mut part_files_checked = 0u64;
    let mut parts_checked = 0u64;
    let root = c.backup_root();
    let mut manifest_info = None;
    match (c.manifest_path(), c.manifest()) {
        (None, _) | (_, None) => problems.push(Problem::NoManifest),
        (Some(path), Some(Err(detail))) => problems.push(Problem::BadManifest { file: path.to_owned(), detail }),
        (Some(path), Some(Ok(m))) => {
            let root = root.clone().unwrap_or_default();
            manifest_info = Some(ManifestInfo {
                path: path.to_owned(),
                version: m.version.clone(),
                timestamp: m.timestamp.clone(),
                uuid: m.uuid.clone(),
                files: m.files.len() as u64,
                bytes: m.files.iter().fold(0u64, |sum, f| sum.saturating_add(f.size)),
            });
            let mut referenced: BTreeSet<String> = BTreeSet::new();
            referenced.insert(path.to_owned());
            let mut listed: BTreeMap<&str, &ManifestFile> = BTreeMap::new();
            let (mut from_base, mut in_archive) = (0u64, 0u64);
            for f in &m.files {
                listed.insert(f.name.as_str(), f);
                // ClickHouse's RESTORE opens these paths under the backup folder: a name that climbs
                // out of it is a problem even though nothing of ours extracts it.
                for path in std::iter::once(&f.name).chain(f.data_file.iter().filter(|d| !d.is_empty())) {
                    if let Err(reason) = check_entry_path(path) {
                        problems.push(Problem::UnsafeManifestPath { file: path.clone(), reason });
                    }
                }
                if f.archive_suffix.as_deref().is_some_and(|s| !s.is_empty()) {
                    in_archive += 1;
                    continue;
                }
                let base = if f.use_base { f.base_size.unwrap_or(f.size) } else { 0 };
                if f.use_base && base >= f.size {
                    from_base += 1;
                    continue;
                }
                if f.size == 0 {
                    // Zero-size files carry no checksum; they may or may not be stored.
                    let full = format!("{root}{}", m.storage_of(f));
                    if let Some(e) = c.entries.get(&full) {
                        referenced.insert(full.clone());
                        if e.size != 0 {
                            problems.push(Problem::SizeMismatch {
                                file: full,
                                expected: 0,
                                actual: e.size,
                                against: "manifest".into(),
                            });
                        }
                    }
                    files_checked += 1;
                    continue;
                }
                let stored = m.storage_of(f);
                let full = format!("{root}{stored}");
                let Some(e) = c.entries.get(&full) else {
                    let file = if stored == f.name {
                        format!("{root}{}", f.name)
                    } else {
                        format!("{root}{} (stored as {stored})", f.name)
                    };
                    problems.push(Problem::Missing { file });
                    continue;
                };
                referenced.insert(full.clone());
                files_checked += 1;
                let shown =
                    if stored == f.name { full.clone() } else { format!("{root}{} (stored as {stored})", f.name) };
                if f.use_base {
                    // Incremental: only the bytes after the base are stored; the checksum covers
                    // the whole file and cannot be checked here.
                    if e.size != f.size - base {
                        problems.push(Problem::SizeMismatch {
                            file: shown,
                            expected: f.size - base,
                            actual: e.size,
                            against: "manifest (bytes after the base backup)".into(),
                        });
                    }
                    continue;
                }
                if e.size != f.size {
                    problems.push(Problem::SizeMismatch {
                        file: shown,
                        expected: f.size,
                        actual: e.size,
                        against: "manifest".into(),
                    });
                } else if f.checksum.is_none() {
                    problems.push(Problem::NoChecksum { file: shown });
                } else if let Some(sum) = f.checksum {
                    if sum != e.checksum {
                        problems.push(Problem::ChecksumMismatch {
                            file: shown,
                            expected: checksum_hex(sum),
                            actual: checksum_hex(e.checksum),
                        });
                    }
                }
            }
            if from_base > 0 {
                notes.push(format!("{from_base} files are in the base backup (incremental backup): not checked"));
            }
            if in_archive > 0 {
                notes.push(format!("{in_archive} files are inside nested archives: not checked"));
            }
            for name in &c.order {
                if !referenced.contains(name) && !name.ends_with('/') {
                    problems.push(Problem::Unlisted { file: name.clone() });
                }
            }
            // Second, independent check: each part's own checksums.txt.
            for (name, bytes) in &c.captured {
                let Some(rel) = name.strip_prefix(root.as_str()) else {
                    continue;
                };
                let Some(part_dir) = rel.strip_suffix("checksums.txt") else {
                    continue;
                };
                if !(part_dir.is_empty() || part_dir.ends_with('/')) || !rel.starts_with("data/") {
                    continue;
                }
                let list = match parse_part_checksums(bytes) {
                    Ok(l) => l,
                    Err(detail) => {
                        problems.push(Problem::BadPartChecksums { file: name.clone(), detail });
                        continue;
                    }
                };
                parts_checked += 1;
                for pc in list {
                    let logical = format!("{part_dir}{}", pc.name);
                    let Some(mf) = listed.get(logical.as_str()) else {
                        // Projections (`p.proj`) are folders; other names are reported as
                        // missing by the manifest check when they matter.
                        continue;
                    };
                    let file = format!("{root}{logical}");
                    let mut mismatch = |expected: u128, actual: u128, against: &str| {
                        problems.push(Problem::PartChecksumMismatch {
                            file: file.clone(),
                            part_checksums: name.clone(),
                            expected: checksum_hex(expected),
                            actual: checksum_hex(actual),
                            against: against.to_owned(),
                        })
                    };
                    if mf.size != pc.file_size {
                        problems.push(Problem::SizeMismatch {
                            file: file.clone(),
                            expected: pc.file_size,
                            actual: mf.size,
                            against: format!("part's {name} (vs manifest)"),
                        });
                        continue;
                    }
                    if pc.file_size == 0 {
                        part_files_checked += 1;
                        continue;
                    }
                    if let Some(sum) = mf.checksum {
                        if sum != pc.file_hash {
                            mismatch(pc.file_hash, sum, "manifest");
                            continue;
                        }
                    }
                    if mf.use_base || mf.archive_suffix.is_some() {
                        continue;
                    }
                    if let Some(e) = c.entries.get(&format!("{root}{}", m.storage_of(mf))) {
                        part_files_checked += 1;
                        if e.size == pc.file_size && e.checksum != pc.file_hash {
                            mismatch(pc.file_hash, e.checksum, "content");
                        }
                    }
                }
            }
        }
    }
    if let (Some(expected), Some(actual)) = (expected_sha256, sha256.as_deref()) {
        if !expected.eq_ignore_ascii_case(actual) {
            problems
                .push(Problem::Sha256Mismatch { expected: expected.to_ascii_lowercase(), actual: actual.to_owned() });
        }
    }
    let summary = c.summary.clone();
    VerifyReport {
        ok: problems.is_empty(),
        bytes: summary.as_ref().map_or(0, |s| s.bytes),
        entries: summary.as_ref().map_or(0, |s| s.entries),
        backup_root: root,
        manifest: manifest_info,
        files_checked,
        part_files_checked,
        parts_checked,
        sha256,
        problems,
        notes,
    }
}

/// Verifies a whole package held in memory (tests, small files).
pub fn verify_bytes(package: &[u8], options: VerifyOptions) -> Result<VerifyReport, Error> {
    let mut v = Verifier::with_options(options)?;
    v.feed(package);
    Ok(v.finish())
}
