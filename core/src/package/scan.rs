//! One pass over a package: the zip stream read once, each entry's size and ClickHouse checksum
//! (chained CityHash128) kept, and the few small files the reports read captured (manifests, the
//! parts' `checksums.txt`, `metadata/*.sql`, `count.txt`). Small, whatever the package size.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use super::cityhash::ChainedChecksum;
use super::zip::{EntryEnd, EntryHeader, ZipProblem, ZipStream, ZipSummary, ZipVisitor};
use crate::error::quote_untrusted;

use super::manifest::{parse_manifest, Manifest, MANIFEST_NAME, MAX_MANIFEST};
use super::part_checksums::MAX_PART_CHECKSUMS;

/// Largest `.sql` read.
pub const MAX_SQL: usize = 4 << 20;

/// What the scan keeps per zip entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryFacts {
    /// Uncompressed size in bytes (what extraction writes).
    pub size: u64,
    /// ClickHouse chained CityHash128.
    pub checksum: u128,
    /// Whether the bytes' CRC-32 matches the one the archive declares (a mismatch is also in `zip_problems`).
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
    /// Names met again after their first entry, once per extra copy; `entries` keeps the last copy's facts.
    pub duplicates: Vec<String>,
    /// Counts and end state of the zip stream; set by [`Scanner::finish`], `None` before.
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
        self.manifest_path().map(|p| p[..p.len() - MANIFEST_NAME.len()].to_owned())
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
                    self.contents
                        .notes
                        .push(format!("{} is over {limit} bytes: not read", quote_untrusted(&c.name, 300)));
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
        let facts = EntryFacts { size: end.size, checksum: c.hasher.finish(), crc_ok: end.crc_ok };
        if self.contents.entries.insert(c.name.clone(), facts).is_some() {
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

/// One pass over a package that keeps what the reports need: each entry's size and ClickHouse
/// checksum, the few small files the reports read, the zip layer's problems, and optionally the
/// package's SHA-256. [`super::verify::Verifier`] and [`super::inspect::Inspector`] both stand on it.
pub struct Scanner {
    zip: ZipStream,
    scan: Scan,
    sha: Option<Sha256>,
}

impl Scanner {
    /// A scanner; `sha256` computes the package's SHA-256 in the same pass.
    pub fn new(sha256: bool) -> Scanner {
        Scanner { zip: ZipStream::new(), scan: Scan::default(), sha: sha256.then(Sha256::new) }
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

    /// Ends the input and returns the collected contents and the SHA-256 (hex), if computed.
    pub fn finish(mut self) -> (PackageContents, Option<String>) {
        let summary = self.zip.finish(&mut self.scan);
        self.scan.contents.summary = Some(summary);
        let sha = self.sha.map(|s| hex(&s.finalize()));
        (self.scan.contents, sha)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
