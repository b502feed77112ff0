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
//! See `shared/clickhouse-backup-format.md` for the format.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::cityhash::{checksum_hex, city_hash128, ChainedChecksum};
use crate::entry_path::{check_entry_path, PathFault};
use crate::error::{quote_untrusted, Error, ErrorKind};
use crate::zipstream::{EntryEnd, EntryHeader, ZipProblem, ZipStream, ZipSummary, ZipVisitor};

/// Name of the ClickHouse backup manifest.
pub const MANIFEST_NAME: &str = ".backup";
/// Largest manifest read (bytes). ~150 bytes per file: room for over a million files.
pub const MAX_MANIFEST: usize = 256 << 20;
/// Largest `checksums.txt` read.
pub const MAX_PART_CHECKSUMS: usize = 16 << 20;
/// Largest `.sql` read.
pub const MAX_SQL: usize = 4 << 20;
/// Largest decompressed `checksums.txt` body.
const MAX_DECOMPRESSED: usize = 64 << 20;

/// One problem found; every variant names the file or entry concerned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Problem {
    /// The zip entry's bytes do not have the CRC-32 the archive declares.
    CrcMismatch {
        entry: String,
        expected: String,
        actual: String,
    },
    /// A declared size differs from the real one; `against` says who declared it (manifest,
    /// checksums.txt, data descriptor, local header, central directory).
    SizeMismatch {
        file: String,
        expected: u64,
        actual: u64,
        against: String,
    },
    /// The file's ClickHouse checksum differs from the manifest's.
    ChecksumMismatch {
        file: String,
        expected: String,
        actual: String,
    },
    /// Listed in the manifest, not in the package.
    Missing { file: String },
    /// In the package, not listed in the manifest.
    Unlisted { file: String },
    /// A part's `checksums.txt` (`part_checksums`) gives another hash than the file has
    /// (`against` = "content"), or than the manifest lists (`against` = "manifest").
    PartChecksumMismatch {
        file: String,
        part_checksums: String,
        expected: String,
        actual: String,
        against: String,
    },
    /// A part's `checksums.txt` could not be read.
    BadPartChecksums { file: String, detail: String },
    /// No `.backup` manifest anywhere in the package.
    NoManifest,
    /// The manifest could not be read.
    BadManifest { file: String, detail: String },
    /// The package ends early.
    Truncated { detail: String },
    /// The package's SHA-256 differs from the expected one (the sidecar's).
    Sha256Mismatch { expected: String, actual: String },
    /// A zip entry name that is not a plain relative path: extracting it could write outside the
    /// extraction folder. `reason` says what is wrong.
    UnsafeName { entry: String, reason: PathFault },
    /// A file the manifest lists (its name or `data_file`) that is not a plain relative path: it
    /// could make ClickHouse's RESTORE read outside the backup folder.
    UnsafeManifestPath { file: String, reason: PathFault },
    /// A zip entry that is a symbolic link, device, FIFO or socket, not a file or folder.
    SpecialEntry { entry: String, detail: String },
    /// A non-empty file the manifest lists without a checksum: nothing proves its content.
    NoChecksum { file: String },
    /// The same name twice in the zip.
    DuplicateEntry { entry: String },
    /// Zip structure damage (bad signature, bad deflate stream, inconsistent end record).
    Corrupt { detail: String },
    /// Central directory and stream disagree.
    CentralDirectoryMismatch { entry: String, detail: String },
    /// Encryption or an unsupported compression method.
    Unsupported { entry: String, detail: String },
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
            Problem::Missing { file } => format!("{} is listed in the backup manifest but missing from the package", q(file)),
            Problem::Unlisted { file } => format!("{} is in the package but not in the backup manifest", q(file)),
            Problem::PartChecksumMismatch { file, part_checksums, expected, actual, against } => format!(
                "{} does not match its part's {}: {expected} there, {actual} in the {against}",
                q(file),
                q(part_checksums)
            ),
            Problem::BadPartChecksums { file, detail } => format!("{} cannot be read: {detail}", q(file)),
            Problem::NoManifest => "no ClickHouse backup manifest (.backup) in the package: not a ClickHouse backup, or cut short".to_owned(),
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
                format!("zip entry {} is a {detail}, not a file: a ClickHouse backup holds only files and folders", q(entry))
            }
            Problem::NoChecksum { file } => {
                format!("{} is listed in the backup manifest without a checksum: its content cannot be verified", q(file))
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
pub struct ManifestInfo {
    /// Path of the manifest in the zip.
    pub path: String,
    pub version: Option<String>,
    pub timestamp: Option<String>,
    pub uuid: Option<String>,
    /// Files listed.
    pub files: u64,
    /// Sum of the listed sizes.
    pub bytes: u64,
}

/// The result of [`Verifier::finish`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    /// No problem found.
    pub ok: bool,
    /// Bytes of the package.
    pub bytes: u64,
    /// Zip entries.
    pub entries: u64,
    /// Folder of the manifest inside the zip ("" at the root, else ending with '/').
    pub backup_root: Option<String>,
    pub manifest: Option<ManifestInfo>,
    /// Listed files whose size and checksum were compared.
    pub files_checked: u64,
    /// Part files compared with their part's `checksums.txt`.
    pub part_files_checked: u64,
    /// Parts whose `checksums.txt` was read.
    pub parts_checked: u64,
    /// Lowercase hex SHA-256 of the package, when computed.
    pub sha256: Option<String>,
    pub problems: Vec<Problem>,
    /// Things not checked, and why (incremental backups, nested archives...).
    pub notes: Vec<String>,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// The first problem as an [`ErrorKind::Integrity`] error (the message names the file and
    /// counts the others), or `None` when the package is sound.
    pub fn to_error(&self) -> Option<Error> {
        let first = self.problems.first()?;
        let mut e = first.to_error();
        if self.problems.len() > 1 {
            e.message
                .push_str(&format!(" (and {} more problems)", self.problems.len() - 1));
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

/// What the scan keeps per zip entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryFacts {
    pub size: u64,
    /// ClickHouse chained CityHash128.
    pub checksum: u128,
    pub crc_ok: bool,
}

/// Everything one pass over a package collected: small, whatever the package size.
#[derive(Debug, Clone, Default)]
pub struct PackageContents {
    /// Every file entry (not directories), by name.
    pub entries: BTreeMap<String, EntryFacts>,
    /// Entry names in archive order.
    pub order: Vec<String>,
    /// Contents of the small files kept: manifests, `checksums.txt`, `*.sql`, `count.txt`.
    pub captured: BTreeMap<String, Vec<u8>>,
    /// Problems of the zip layer.
    pub zip_problems: Vec<ZipProblem>,
    pub duplicates: Vec<String>,
    pub summary: Option<ZipSummary>,
    /// Notes about files not kept (too large).
    pub notes: Vec<String>,
}

impl PackageContents {
    /// The manifest chosen: the shallowest entry named `.backup` (ties: the first).
    pub fn manifest_path(&self) -> Option<&str> {
        self.order
            .iter()
            .filter(|n| n.as_str() == MANIFEST_NAME || n.ends_with("/.backup"))
            .min_by_key(|n| n.matches('/').count())
            .map(String::as_str)
    }

    /// The backup root ("" or "folder/") of the chosen manifest.
    pub fn backup_root(&self) -> Option<String> {
        self.manifest_path()
            .map(|p| p[..p.len() - MANIFEST_NAME.len()].to_owned())
    }

    /// The parsed manifest, if there is one and it parses.
    pub fn manifest(&self) -> Option<Result<Manifest, String>> {
        let path = self.manifest_path()?;
        match self.captured.get(path) {
            Some(bytes) => Some(parse_manifest(bytes)),
            None => Some(Err("the manifest is too large to read".to_owned())),
        }
    }
}

/// A file of the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ManifestFile {
    pub name: String,
    pub size: u64,
    pub checksum: Option<u128>,
    pub use_base: bool,
    pub base_size: Option<u64>,
    pub base_checksum: Option<u128>,
    /// Where the bytes are stored when not under `name` (deduplicated files).
    pub data_file: Option<String>,
    pub archive_suffix: Option<String>,
    pub pos_in_archive: Option<u64>,
}

/// The `.backup` manifest.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Manifest {
    pub version: Option<String>,
    pub timestamp: Option<String>,
    pub uuid: Option<String>,
    pub files: Vec<ManifestFile>,
}

impl Manifest {
    /// The path (relative to the backup root) whose bytes hold `file`.
    pub fn storage_of<'a>(&self, file: &'a ManifestFile) -> &'a str {
        file.data_file
            .as_deref()
            .filter(|d| !d.is_empty())
            .unwrap_or(&file.name)
    }
}

/// A tolerant reader of the manifest's fixed XML shape: elements, text, entities; attributes,
/// comments, processing instructions and unknown elements are skipped.
pub fn parse_manifest(bytes: &[u8]) -> Result<Manifest, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "not UTF-8".to_owned())?;
    let mut m = Manifest::default();
    let mut stack: Vec<String> = Vec::new();
    let mut file: Option<ManifestFile> = None;
    let mut text_buf = String::new();
    let mut rest = text;
    let mut saw_config = false;
    while !rest.is_empty() {
        match rest.find('<') {
            None => {
                text_buf.push_str(rest);
                break;
            }
            Some(i) => {
                text_buf.push_str(&rest[..i]);
                rest = &rest[i..];
            }
        }
        // rest starts with '<'
        if let Some(r) = rest.strip_prefix("<!--") {
            let end = r.find("-->").ok_or("unterminated comment")?;
            rest = &r[end + 3..];
            continue;
        }
        if rest.starts_with("<?") || rest.starts_with("<!") {
            let end = rest.find('>').ok_or("unterminated declaration")?;
            rest = &rest[end + 1..];
            continue;
        }
        let end = rest.find('>').ok_or("unterminated tag")?;
        let tag = &rest[1..end];
        rest = &rest[end + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            let name = name.trim();
            let open = stack
                .pop()
                .ok_or_else(|| format!("closing tag {} without an opening tag", quote_untrusted(name, 60)))?;
            if open != name {
                return Err(format!(
                    "closing tag {} does not match the open {}",
                    quote_untrusted(name, 60),
                    quote_untrusted(&open, 60)
                ));
            }
            let value = unescape(text_buf.trim())?;
            text_buf.clear();
            let depth = stack.len();
            let parent = stack.last().map(String::as_str);
            match (depth, parent, name) {
                (1, Some("config"), "version") => m.version = Some(value),
                (1, Some("config"), "timestamp") => m.timestamp = Some(value),
                (1, Some("config"), "uuid") => m.uuid = Some(value),
                (2, Some("contents"), "file") => {
                    if let Some(f) = file.take() {
                        if f.name.is_empty() {
                            return Err("a <file> without <name>".to_owned());
                        }
                        m.files.push(f);
                    }
                }
                (3, Some("file"), field) => {
                    let f = file.as_mut().ok_or("field outside <file>")?;
                    let num = |v: &str| {
                        v.parse::<u64>()
                            .map_err(|_| format!("<{field}> is not a number: {v:?}"))
                    };
                    let hash = |v: &str| {
                        parse_hex128(v)
                            .ok_or_else(|| format!("<{field}> is not 32 hex digits: {v:?}"))
                    };
                    match field {
                        "name" => f.name = value,
                        "size" => f.size = num(&value)?,
                        "checksum" => f.checksum = Some(hash(&value)?),
                        "use_base" => f.use_base = value == "true" || value == "1",
                        "base_size" => f.base_size = Some(num(&value)?),
                        "base_checksum" => f.base_checksum = Some(hash(&value)?),
                        "data_file" => f.data_file = Some(value),
                        "archive_suffix" => f.archive_suffix = Some(value),
                        "pos_in_archive" => f.pos_in_archive = Some(num(&value)?),
                        _ => {}
                    }
                }
                _ => {}
            }
            continue;
        }
        text_buf.clear();
        let self_closing = tag.ends_with('/');
        let name = tag
            .trim_end_matches('/')
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_owned();
        if name.is_empty() {
            return Err("empty tag".to_owned());
        }
        if self_closing {
            continue;
        }
        if stack.is_empty() {
            if name != "config" {
                return Err(format!(
                    "root element is {}, expected config",
                    quote_untrusted(&name, 60)
                ));
            }
            saw_config = true;
        }
        if stack.len() == 2 && name == "file" && stack[1] == "contents" {
            file = Some(ManifestFile::default());
        }
        stack.push(name);
        if stack.len() > 64 {
            return Err("nested too deeply".to_owned());
        }
    }
    if !saw_config {
        return Err("no <config> element".to_owned());
    }
    if !stack.is_empty() {
        return Err(format!(
            "unclosed {}",
            quote_untrusted(stack.last().map(String::as_str).unwrap_or(""), 60)
        ));
    }
    Ok(m)
}

fn unescape(s: &str) -> Result<String, String> {
    if !s.contains('&') {
        return Ok(s.to_owned());
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let r = &rest[i + 1..];
        let end = r.find(';').ok_or("unterminated entity")?;
        let ent = &r[..end];
        let c = match ent {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code =
                    if let Some(h) = ent.strip_prefix("#x").or_else(|| ent.strip_prefix("#X")) {
                        u32::from_str_radix(h, 16).ok()
                    } else if let Some(d) = ent.strip_prefix('#') {
                        d.parse().ok()
                    } else {
                        None
                    };
                code.and_then(char::from_u32)
                    .ok_or_else(|| format!("unknown entity {}", quote_untrusted(&format!("&{ent};"), 60)))?
            }
        };
        out.push(c);
        rest = &r[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn parse_hex128(s: &str) -> Option<u128> {
    if s.is_empty() || s.len() > 32 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u128::from_str_radix(s, 16).ok()
}

/// A file listed in a part's `checksums.txt`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartChecksum {
    pub name: String,
    pub file_size: u64,
    /// Chained CityHash128 of the file, `(high << 64) | low` like the manifest's.
    pub file_hash: u128,
    pub is_compressed: bool,
    pub uncompressed_size: u64,
    pub uncompressed_hash: u128,
}

/// Decodes a part's `checksums.txt`, format version 4: the line `checksums format version: 4`,
/// then a stream of ClickHouse compressed blocks (16-byte CityHash128 of the block, method byte
/// 0x02 NONE / 0x82 LZ4 / 0x90 ZSTD, u32 compressed size including the 9-byte header, u32
/// uncompressed size, payload) whose concatenated content is: varuint count, then per file
/// (string name, varuint size, u128 hash as two little-endian u64 low first, u8 is_compressed,
/// and when compressed: varuint uncompressed size, u128 uncompressed hash).
pub fn parse_part_checksums(bytes: &[u8]) -> Result<Vec<PartChecksum>, String> {
    let nl = bytes
        .iter()
        .position(|&b| b == b'\n')
        .ok_or("no header line")?;
    let header = std::str::from_utf8(&bytes[..nl]).map_err(|_| "header is not text")?;
    let version = header
        .strip_prefix("checksums format version: ")
        .and_then(|v| v.trim().parse::<u32>().ok())
        .ok_or_else(|| format!("unexpected header {}", quote_untrusted(header, 60)))?;
    if version != 4 {
        return Err(format!(
            "checksums format version {version} is not supported (only 4)"
        ));
    }
    let body = decompress_blocks(&bytes[nl + 1..])?;
    let mut r = Reader { d: &body, at: 0 };
    let count = r.var_uint()?;
    if count > body.len() as u64 {
        return Err(format!("{count} files in {} bytes", body.len()));
    }
    let mut out = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let name_len = r.var_uint()? as usize;
        let name = String::from_utf8_lossy(r.take(name_len)?).into_owned();
        let file_size = r.var_uint()?;
        let file_hash = r.u128()?;
        let is_compressed = r.take(1)?[0] != 0;
        let (uncompressed_size, uncompressed_hash) = if is_compressed {
            (r.var_uint()?, r.u128()?)
        } else {
            (0, 0)
        };
        out.push(PartChecksum {
            name,
            file_size,
            file_hash,
            is_compressed,
            uncompressed_size,
            uncompressed_hash,
        });
    }
    Ok(out)
}

struct Reader<'a> {
    d: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.d.len())
            .ok_or("ends early")?;
        let s = &self.d[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn var_uint(&mut self) -> Result<u64, String> {
        let mut v = 0u64;
        for i in 0..10 {
            let b = self.take(1)?[0];
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("bad varint".to_owned())
    }
    fn u128(&mut self) -> Result<u128, String> {
        let b = self.take(16)?;
        let mut lo = [0u8; 8];
        let mut hi = [0u8; 8];
        lo.copy_from_slice(&b[..8]);
        hi.copy_from_slice(&b[8..]);
        Ok((u128::from(u64::from_le_bytes(hi)) << 64) | u128::from(u64::from_le_bytes(lo)))
    }
}

/// Decompresses a stream of ClickHouse compressed blocks, checking each block's CityHash128.
pub fn decompress_blocks(mut d: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    while !d.is_empty() {
        if d.len() < 16 + 9 {
            return Err("a compressed block is cut short".to_owned());
        }
        let lo = u64::from_le_bytes(d[0..8].try_into().unwrap_or([0; 8]));
        let hi = u64::from_le_bytes(d[8..16].try_into().unwrap_or([0; 8]));
        let method = d[16];
        let csize = u32::from_le_bytes(d[17..21].try_into().unwrap_or([0; 4])) as usize;
        let usize_ = u32::from_le_bytes(d[21..25].try_into().unwrap_or([0; 4])) as usize;
        if csize < 9 || csize > d.len() - 16 {
            return Err(format!("compressed block size {csize} does not fit"));
        }
        let block = &d[16..16 + csize];
        if city_hash128(block) != (lo, hi) {
            return Err("a compressed block's checksum does not match (corrupt)".to_owned());
        }
        // Sizes are compared by subtraction: a sum of u32 sizes wraps where usize is 32 bits
        // (wasm32), and the slicing below would then panic.
        if usize_ > MAX_DECOMPRESSED - out.len() {
            return Err("decompressed size too large".to_owned());
        }
        let payload = &block[9..];
        let start = out.len();
        out.resize(start + usize_, 0);
        let dst = &mut out[start..];
        match method {
            0x02 => {
                if payload.len() != usize_ {
                    return Err("uncompressed block sizes disagree".to_owned());
                }
                dst.copy_from_slice(payload);
            }
            0x82 => {
                let n = lz4_flex::block::decompress_into(payload, dst)
                    .map_err(|e| format!("LZ4: {e}"))?;
                if n != usize_ {
                    return Err("LZ4 block decompressed to the wrong size".to_owned());
                }
            }
            0x90 => {
                let mut dec = ruzstd::decoding::FrameDecoder::new();
                let n = dec
                    .decode_all(payload, dst)
                    .map_err(|e| format!("ZSTD: {e}"))?;
                if n != usize_ {
                    return Err("ZSTD block decompressed to the wrong size".to_owned());
                }
            }
            m => return Err(format!("compression method {m:#04x} is not supported")),
        }
        d = &d[16 + csize..];
    }
    Ok(out)
}

/// Which small files a scan keeps, and up to which size.
fn capture_limit(name: &str) -> Option<usize> {
    let base = name.rsplit('/').next().unwrap_or(name);
    if base == MANIFEST_NAME {
        Some(MAX_MANIFEST)
    } else if base == "checksums.txt" {
        Some(MAX_PART_CHECKSUMS)
    } else if base == "count.txt" {
        Some(64)
    } else if base.ends_with(".sql") && name.contains("metadata/") {
        Some(MAX_SQL)
    } else {
        None
    }
}

struct CurrentEntry {
    name: String,
    hasher: ChainedChecksum,
    capture: Option<(Vec<u8>, usize)>,
    dir: bool,
}

/// The visitor that fills [`PackageContents`].
#[derive(Default)]
struct Scan {
    contents: PackageContents,
    cur: Option<CurrentEntry>,
}

impl ZipVisitor for Scan {
    fn entry_start(&mut self, h: &EntryHeader) {
        let dir = h.name.ends_with('/');
        self.cur = Some(CurrentEntry {
            name: h.name.clone(),
            hasher: ChainedChecksum::new(),
            capture: capture_limit(&h.name).map(|l| (Vec::new(), l)),
            dir,
        });
    }

    fn entry_data(&mut self, data: &[u8]) {
        if let Some(c) = self.cur.as_mut() {
            c.hasher.update(data);
            if let Some((buf, limit)) = c.capture.as_mut() {
                if buf.len() + data.len() > *limit {
                    self.contents.notes.push(format!(
                        "{} is over {limit} bytes: not read",
                        quote_untrusted(&c.name, 300)
                    ));
                    c.capture = None;
                } else {
                    buf.extend_from_slice(data);
                }
            }
        }
    }

    fn entry_end(&mut self, end: &EntryEnd) {
        let Some(c) = self.cur.take() else { return };
        if c.dir && end.size == 0 {
            return;
        }
        let facts = EntryFacts {
            size: end.size,
            checksum: c.hasher.finish(),
            crc_ok: end.crc_ok,
        };
        if self
            .contents
            .entries
            .insert(c.name.clone(), facts)
            .is_some()
        {
            self.contents.duplicates.push(c.name.clone());
        } else {
            self.contents.order.push(c.name.clone());
        }
        if let Some((buf, _)) = c.capture {
            self.contents.captured.insert(c.name, buf);
        }
    }

    fn problem(&mut self, problem: ZipProblem) {
        if problem.is_fatal() {
            self.cur = None;
        }
        self.contents.zip_problems.push(problem);
    }
}

/// One-pass verifier: feed the package's bytes, then [`finish`](Verifier::finish).
pub struct Verifier {
    zip: ZipStream,
    scan: Scan,
    sha: Option<Sha256>,
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
        Verifier {
            zip: ZipStream::new(),
            scan: Scan::default(),
            sha: None,
            expected_sha256: None,
        }
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
        let sha = (options.sha256 || expected.is_some()).then(Sha256::new);
        Ok(Verifier {
            zip: ZipStream::new(),
            scan: Scan::default(),
            sha,
            expected_sha256: expected,
        })
    }

    /// Feeds the next bytes of the package (any chunking).
    pub fn feed(&mut self, data: &[u8]) {
        if let Some(s) = self.sha.as_mut() {
            s.update(data);
        }
        self.zip.feed(data, &mut self.scan);
    }

    /// Bytes fed so far.
    pub fn bytes_fed(&self) -> u64 {
        self.zip.bytes_fed()
    }

    /// Ends the input and returns the collected contents and the SHA-256 (hex).
    pub fn finish_contents(mut self) -> (PackageContents, Option<String>) {
        let summary = self.zip.finish(&mut self.scan);
        self.scan.contents.summary = Some(summary);
        let sha = self.sha.map(|s| hex(&s.finalize()));
        (self.scan.contents, sha)
    }

    /// Ends the input and returns the report.
    pub fn finish(self) -> VerifyReport {
        let expected = self.expected_sha256.clone();
        let (contents, sha) = self.finish_contents();
        report(&contents, sha, expected.as_deref())
    }

    /// Ends the input and returns the report and the inspection, from the same pass.
    pub fn finish_with_inspection(self) -> (VerifyReport, crate::inspect::Inspection) {
        let expected = self.expected_sha256.clone();
        let (contents, sha) = self.finish_contents();
        let r = report(&contents, sha, expected.as_deref());
        let i = crate::inspect::inspect(&contents);
        (r, i)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Builds the report from what one pass collected.
pub fn report(
    c: &PackageContents,
    sha256: Option<String>,
    expected_sha256: Option<&str>,
) -> VerifyReport {
    let mut problems = Vec::new();
    let mut notes = c.notes.clone();
    for p in &c.zip_problems {
        problems.push(match p.clone() {
            ZipProblem::CrcMismatch {
                entry,
                expected,
                actual,
            } => Problem::CrcMismatch {
                entry,
                expected: format!("{expected:08x}"),
                actual: format!("{actual:08x}"),
            },
            ZipProblem::SizeMismatch {
                entry,
                expected,
                actual,
                against,
            } => Problem::SizeMismatch {
                file: entry,
                expected,
                actual,
                against,
            },
            ZipProblem::UnsafeName { entry, reason } => Problem::UnsafeName { entry, reason },
            ZipProblem::SpecialEntry { entry, detail } => Problem::SpecialEntry { entry, detail },
            ZipProblem::Unsupported { entry, detail } => Problem::Unsupported { entry, detail },
            ZipProblem::CentralDirectoryMismatch { entry, detail } => {
                Problem::CentralDirectoryMismatch { entry, detail }
            }
            ZipProblem::Corrupt { offset, detail } => Problem::Corrupt {
                detail: format!("{detail} (at byte {offset})"),
            },
            ZipProblem::Truncated { offset, detail } => Problem::Truncated {
                detail: format!("{detail} (after {offset} bytes)"),
            },
            ZipProblem::TrailingData { offset, bytes } => Problem::Corrupt {
                detail: format!("{bytes} bytes after the end of the archive (at byte {offset})"),
            },
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
        (Some(path), Some(Err(detail))) => problems.push(Problem::BadManifest {
            file: path.to_owned(),
            detail,
        }),
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
                let base = if f.use_base {
                    f.base_size.unwrap_or(f.size)
                } else {
                    0
                };
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
                let shown = if stored == f.name {
                    full.clone()
                } else {
                    format!("{root}{} (stored as {stored})", f.name)
                };
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
                notes.push(format!(
                    "{from_base} files are in the base backup (incremental backup): not checked"
                ));
            }
            if in_archive > 0 {
                notes.push(format!(
                    "{in_archive} files are inside nested archives: not checked"
                ));
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
                        problems.push(Problem::BadPartChecksums {
                            file: name.clone(),
                            detail,
                        });
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
            problems.push(Problem::Sha256Mismatch {
                expected: expected.to_ascii_lowercase(),
                actual: actual.to_owned(),
            });
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_parser_reads_the_fixed_shape() {
        let xml = br#"<?xml version="1.0"?>
<!-- comment -->
<config><version>1</version><deduplicate_files>1</deduplicate_files><timestamp>2026-11-25 14:41:35</timestamp>
<uuid>50e7e7e8-316d-43f7-a856-a5c9ee8cb6e5</uuid><contents>
 <file><name>data/D/t/all_1_1_0/count.txt</name><size>4</size><checksum>7640227c8f3a7e28c8e03d5b74b199f1</checksum></file>
 <file><name>metadata/a&amp;b.sql</name><size>0</size></file>
 <file><name>x</name><size>10</size><checksum>00000000000000000000000000000001</checksum><use_base>true</use_base><base_size>4</base_size><base_checksum>00000000000000000000000000000002</base_checksum></file>
 <file><name>y</name><size>3</size><checksum>3</checksum><data_file>x</data_file><archive_suffix>.zip</archive_suffix><pos_in_archive>7</pos_in_archive><unknown_field/></file>
</contents></config>"#;
        let m = parse_manifest(xml).unwrap();
        assert_eq!(m.version.as_deref(), Some("1"));
        assert_eq!(m.timestamp.as_deref(), Some("2026-11-25 14:41:35"));
        assert_eq!(m.files.len(), 4);
        assert_eq!(
            m.files[0].checksum,
            Some(0x7640227c8f3a7e28c8e03d5b74b199f1)
        );
        // The test vector of shared/clickhouse-backup-format.md.
        assert_eq!(
            crate::cityhash::chained_checksum(b"5000"),
            m.files[0].checksum.unwrap()
        );
        assert_eq!(m.files[1].name, "metadata/a&b.sql");
        assert_eq!(m.files[1].checksum, None);
        assert!(
            m.files[2].use_base
                && m.files[2].base_size == Some(4)
                && m.files[2].base_checksum == Some(2)
        );
        assert_eq!(m.storage_of(&m.files[3]), "x");
        assert_eq!(m.files[3].pos_in_archive, Some(7));
        for bad in [
            &b""[..],
            b"<config>",
            b"<x></x>",
            b"<config><contents><file><size>1</size></file></contents></config>",
            b"<config><a></b></config>",
            b"\xff",
        ] {
            assert!(parse_manifest(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn manifest_errors_do_not_echo_control_characters() {
        // Found by the fuzz target `manifest` (fuzz/regressions/manifest/): a hostile manifest's
        // tag and entity names reached `verify`'s output raw, terminal escape sequences included.
        for bad in [
            &b"<config></\x1b[2J>"[..],
            b"<config><a></a\x1b[2J\x07>",
            b"</\x1b]0;title\x07>",
            b"<\x1b[31m>",
            b"<config><\x1b[31m>",
            b"<config><version>&\x1b[2J;</version></config>",
        ] {
            let e = parse_manifest(bad).unwrap_err();
            assert!(!e.chars().any(char::is_control), "{e:?}");
        }
    }

    fn block(method: u8, payload: &[u8], raw_len: usize) -> Vec<u8> {
        let mut b = vec![method];
        b.extend_from_slice(&((9 + payload.len()) as u32).to_le_bytes());
        b.extend_from_slice(&(raw_len as u32).to_le_bytes());
        b.extend_from_slice(payload);
        let (lo, hi) = city_hash128(&b);
        let mut out = lo.to_le_bytes().to_vec();
        out.extend_from_slice(&hi.to_le_bytes());
        out.extend_from_slice(&b);
        out
    }

    fn var_uint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    /// The binary body of a checksums.txt listing `data.bin` (compressed) and `count.txt`.
    fn body() -> Vec<u8> {
        let mut body = vec![2u8];
        for (name, size, hash, compressed) in [
            ("data.bin", 300u64, 0x0102u128 | (7u128 << 64), true),
            ("count.txt", 4, 5, false),
        ] {
            var_uint(&mut body, name.len() as u64);
            body.extend_from_slice(name.as_bytes());
            var_uint(&mut body, size);
            body.extend_from_slice(&(hash as u64).to_le_bytes());
            body.extend_from_slice(&((hash >> 64) as u64).to_le_bytes());
            body.push(u8::from(compressed));
            if compressed {
                var_uint(&mut body, 9);
                body.extend_from_slice(&[0xab; 16]);
            }
        }
        body
    }

    #[test]
    fn a_declared_size_past_the_limit_is_refused_on_any_usize_width() {
        // On wasm32 (32-bit usize) the limit check `out.len() + declared` wrapped: one byte of
        // output, then a block declaring u32::MAX bytes, passed the check, and the resize wrapped
        // to a shorter buffer and panicked (a trap in the browser verifier) instead of an error.
        let mut blocks = block(0x02, b"x", 1);
        blocks.extend_from_slice(&block(0x02, b"y", u32::MAX as usize));
        assert_eq!(
            decompress_blocks(&blocks),
            Err("decompressed size too large".to_owned())
        );
        // Same with a block whose own size is u32::MAX: `16 + csize` wrapped to 15.
        let mut huge = vec![0u8; 16];
        huge.push(0x02);
        huge.extend_from_slice(&u32::MAX.to_le_bytes());
        huge.extend_from_slice(&1u32.to_le_bytes());
        assert!(decompress_blocks(&huge).is_err());
    }

    #[test]
    fn part_checksums_none_and_lz4_blocks() {
        let body = body();
        let mut none = b"checksums format version: 4\n".to_vec();
        none.extend_from_slice(&block(0x02, &body, body.len()));
        let mut lz4 = b"checksums format version: 4\n".to_vec();
        // Two blocks: the stream may be split anywhere.
        let (a, b) = body.split_at(10);
        lz4.extend_from_slice(&block(0x82, &lz4_flex::block::compress(a), a.len()));
        lz4.extend_from_slice(&block(0x82, &lz4_flex::block::compress(b), b.len()));
        for bytes in [none, lz4] {
            let l = parse_part_checksums(&bytes).unwrap();
            assert_eq!(l.len(), 2);
            assert_eq!(
                (l[0].name.as_str(), l[0].file_size, l[0].file_hash),
                ("data.bin", 300, 0x0102 | (7 << 64))
            );
            assert!(l[0].is_compressed && l[0].uncompressed_size == 9);
            assert_eq!(
                (l[1].name.as_str(), l[1].file_hash, l[1].is_compressed),
                ("count.txt", 5, false)
            );
            // Any corrupted byte after the header is caught by the block checksum or the decoder.
            for i in 28..bytes.len() {
                let mut bad = bytes.clone();
                bad[i] ^= 0x10;
                assert!(parse_part_checksums(&bad).is_err(), "byte {i}");
            }
        }
        assert!(parse_part_checksums(b"checksums format version: 3\n1 files:\n").is_err());
        assert!(parse_part_checksums(b"").is_err());
    }
}
