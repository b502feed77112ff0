//! A push-based, streaming zip reader: bytes in (any chunking), events out, bounded memory.
//!
//! [`ZipStream::feed`] takes the archive's bytes as they arrive (a download, a file read in
//! chunks, a browser stream) and calls a [`ZipVisitor`] with each entry's start, its uncompressed
//! bytes (in pieces, never a whole entry at once) and its end (size, CRC-32 and whether the CRC
//! matched). [`ZipStream::finish`] says the input is over. Nothing is seeked: local headers are
//! read in order, so the reader also works on a stream that is still being downloaded.
//!
//! Supported: stored (0) and deflated (8) entries; data descriptors (flag bit 3) with or without
//! their signature, 32- or 64-bit sizes; zip64 extra fields, zip64 end records; the central
//! directory, which is checked against what the stream contained (names, CRCs, sizes, offsets).
//! A stored entry with a data descriptor has no size up front: its end is found by looking for
//! a descriptor (signature, then sizes that both equal the bytes so far; or, without signature,
//! such sizes right before the next record's signature). A corrupted entry therefore still ends in
//! the right place and its CRC mismatch is reported by name.
//!
//! Memory: a few small buffers (32 KiB inflate window, the current header, at most ~200 KiB for
//! the longest possible header) plus one small record per entry for the central-directory check.
//!
//! Never panics on any input: problems are reported through [`ZipVisitor::problem`]; a structural
//! problem that makes the rest unreadable stops the parse (the report says where).

use std::collections::BTreeMap;

use miniz_oxide::inflate::core::{decompress, inflate_flags, DecompressorOxide};
use miniz_oxide::inflate::TINFLStatus;
use serde::{Deserialize, Serialize};

use super::entry_path::{check_entry_path, PathFault};

const SIG_LOCAL: u32 = 0x0403_4b50;
const SIG_CENTRAL: u32 = 0x0201_4b50;
const SIG_DESCRIPTOR: u32 = 0x0807_4b50;
const SIG_EOCD: u32 = 0x0605_4b50;
const SIG_ZIP64_EOCD: u32 = 0x0606_4b50;
const SIG_ZIP64_LOCATOR: u32 = 0x0706_4b50;

const FLAG_ENCRYPTED: u16 = 0x0001;
const FLAG_DESCRIPTOR: u16 = 0x0008;

const METHOD_STORED: u16 = 0;
const METHOD_DEFLATED: u16 = 8;

/// Inflate's sliding window (must be a power of two of at least 32 KiB).
const WINDOW: usize = 32 * 1024;
/// A zip64 end record larger than this is treated as corrupt (real ones are 56 bytes).
const MAX_ZIP64_EOCD: u64 = 64 * 1024;
/// How many bytes of input are copied at a time when a record spans two `feed` calls.
const TOP_UP: usize = 4096;

/// An entry's local header, as the visitor sees it when the entry starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryHeader {
    /// Position of the entry in the archive (0-based).
    pub index: usize,
    /// The entry's name as stored in the local header (bytes that are not UTF-8 replaced by U+FFFD).
    pub name: String,
    /// 0 stored, 8 deflated.
    pub method: u16,
    /// The local header's general-purpose flags (bit 3: sizes and CRC follow the data in a data descriptor).
    pub flags: u16,
    /// Offset of the local header in the archive.
    pub offset: u64,
    /// Why the name is not a plain relative path (the package's entry-path rule), if it is not: such an
    /// entry is reported and must never be extracted.
    pub path_fault: Option<PathFault>,
}

/// An entry once all its bytes went by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryEnd {
    /// Position of the entry in the archive (0-based), the same as in its [`EntryHeader`].
    pub index: usize,
    /// The entry's name, the same as in its [`EntryHeader`].
    pub name: String,
    /// Uncompressed size (bytes handed to [`ZipVisitor::entry_data`]).
    pub size: u64,
    /// Bytes the entry's data took in the archive (equal to `size` for a stored entry).
    pub compressed_size: u64,
    /// CRC-32 of the uncompressed bytes.
    pub crc: u32,
    /// The CRC the archive declared (local header or data descriptor).
    pub expected_crc: u32,
    /// `crc == expected_crc`; when false a [`ZipProblem::CrcMismatch`] was reported just before.
    pub crc_ok: bool,
}

/// What can be wrong with an archive. `entry` names the entry when there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ZipProblem {
    /// The bytes of `entry` do not have the CRC-32 the archive declares.
    CrcMismatch {
        /// Name of the entry.
        entry: String,
        /// CRC-32 the archive declares (local header or data descriptor).
        expected: u32,
        /// CRC-32 of the uncompressed bytes actually read.
        actual: u32,
    },
    /// A declared size (`against`: "local header", "data descriptor", "central directory")
    /// differs from the real one.
    SizeMismatch {
        /// Name of the entry.
        entry: String,
        /// Size in bytes the record named by `against` declares.
        expected: u64,
        /// Size in bytes actually read (for a stored entry whose local header declares two different
        /// sizes: the declared compressed size, `expected` being the uncompressed one).
        actual: u64,
        /// Which record declared `expected`; "(compressed size)" is appended when the uncompressed size
        /// matched and the compressed one did not.
        against: String,
    },
    /// A name that is not a plain relative path: absolute, `..`, an empty component, `\\`, `:`,
    /// a control character, a Windows device name... (`reason` says which).
    UnsafeName {
        /// The entry's name as stored.
        entry: String,
        /// Which rule of [`check_entry_path`] the name breaks.
        reason: PathFault,
    },
    /// The central directory says the entry is not a regular file or folder (a symbolic link, a
    /// device, a FIFO): a ClickHouse backup holds none, and extracting one could redirect writes.
    SpecialEntry {
        /// Name of the entry, from the central directory.
        entry: String,
        /// What kind of file it is ("symbolic link", "FIFO", "reparse point (...)"...).
        detail: String,
    },
    /// Encryption or a compression method other than stored/deflated.
    Unsupported {
        /// Name of the entry; its data is skipped (no entry events are sent for it).
        entry: String,
        /// "encrypted entry" or the compression method found.
        detail: String,
    },
    /// The central directory disagrees with the entries that were in the stream.
    CentralDirectoryMismatch {
        /// Name of the entry, as the central directory lists it (or as the stream had it when the
        /// central directory leaves it out).
        entry: String,
        /// Every difference found (name, CRC-32, sizes, listed twice, missing), separated by "; ".
        detail: String,
    },
    /// Bytes that are not a valid zip structure (bad signature, bad deflate data...).
    Corrupt {
        /// Offset in the archive (bytes from its start) of the bad record, or of the entry's data.
        offset: u64,
        /// What is wrong, for a human.
        detail: String,
    },
    /// The input ended before the archive did.
    Truncated {
        /// Offset in the archive (bytes from its start) where the input ended.
        offset: u64,
        /// Where the archive was cut (inside which entry, in the central directory...), for a human.
        detail: String,
    },
    /// Bytes after the end-of-central-directory record.
    TrailingData {
        /// Offset in the archive of the first byte after the end record.
        offset: u64,
        /// How many bytes follow the end record.
        bytes: u64,
    },
}

impl ZipProblem {
    /// Whether the parse could not go on after this problem.
    pub fn is_fatal(&self) -> bool {
        matches!(self, ZipProblem::Corrupt { .. } | ZipProblem::Truncated { .. })
    }
}

/// Receives the events of a [`ZipStream`]. Every method has an empty default.
pub trait ZipVisitor {
    /// Called when a supported entry's local header has been read, before any of its data. An entry with an
    /// unsafe name still starts (after its [`ZipProblem::UnsafeName`]); an unsupported one never does.
    fn entry_start(&mut self, _header: &EntryHeader) {}
    /// The next uncompressed bytes of the current entry.
    fn entry_data(&mut self, _data: &[u8]) {}
    /// Called when the current entry's data is over, after any CRC or size problem it has. An entry the
    /// archive ends inside never ends (the [`ZipProblem::Truncated`] names it instead).
    fn entry_end(&mut self, _end: &EntryEnd) {}
    /// Called for each problem found, as soon as it is found; see [`ZipProblem::is_fatal`].
    fn problem(&mut self, _problem: ZipProblem) {}
}

/// What [`ZipStream::finish`] returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZipSummary {
    /// Entries read from the stream.
    pub entries: u64,
    /// Entries listed in the central directory.
    pub central_entries: u64,
    /// Bytes fed.
    pub bytes: u64,
    /// The end-of-central-directory record was read and the archive ended cleanly.
    pub complete: bool,
    /// The parse stopped on a structural problem (reported).
    pub failed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Expecting a record signature.
    Signature,
    /// Stored data of known length.
    Stored { remaining: u64 },
    /// Stored data followed by a data descriptor: length unknown, found by scanning.
    StoredScan,
    /// Deflated data.
    Inflate,
    /// A data descriptor (after the data of a flag-bit-3 entry).
    Descriptor,
    /// Skipping data of an unsupported entry of known length.
    Skip { remaining: u64 },
    /// After the end record (and its comment).
    Done,
    /// Stopped on a fatal problem.
    Failed,
}

/// The entry whose data is streaming.
struct Current {
    index: usize,
    name: String,
    flags: u16,
    zip64: bool,
    /// CRC and sizes from the local header (meaningful unless flag bit 3).
    local_crc: u32,
    local_csize: u64,
    local_usize: u64,
    crc: crc32fast::Hasher,
    size: u64,
    csize: u64,
    /// Offset of the entry's (compressed) data: where bad deflate data is reported, because how
    /// far the inflater reads before it notices depends on how the input was chunked.
    data_start: u64,
}

/// What the stream held for an entry, kept for the central-directory check.
#[derive(Debug, Clone)]
struct Seen {
    name: String,
    crc: u32,
    csize: u64,
    usize_: u64,
    in_central: bool,
}

struct Inflater {
    state: Box<DecompressorOxide>,
    window: Vec<u8>,
    pos: usize,
}

/// The reader. See the module documentation.
pub struct ZipStream {
    state: State,
    /// Bytes of a record split across `feed` calls.
    buf: Vec<u8>,
    /// Offset in the archive of the next byte to parse.
    offset: u64,
    fed: u64,
    cur: Option<Current>,
    inflater: Option<Inflater>,
    seen: Vec<Seen>,
    by_offset: BTreeMap<u64, usize>,
    central_start: Option<u64>,
    central_entries: u64,
    zip64_eocd: Option<(u64, u64)>,
    trailing: u64,
}

impl Default for ZipStream {
    fn default() -> Self {
        Self::new()
    }
}

/// Result of one parse step.
enum Step {
    /// Consumed this many bytes (> 0, or 0 when the state changed without consuming).
    Advanced(usize),
    /// Needs at least this many bytes from the start of the data to go on.
    NeedMore,
}

fn u16_at(d: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([d[at], d[at + 1]])
}
fn u32_at(d: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([d[at], d[at + 1], d[at + 2], d[at + 3]])
}
fn u64_at(d: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[at..at + 8]);
    u64::from_le_bytes(b)
}

/// What the central directory's "version made by" and external attributes say an entry is, when
/// it is neither a regular file nor a folder: `Some("symbolic link")`, a device, a FIFO, a socket.
fn special_entry_kind(version_made_by: u16, external_attributes: u32) -> Option<&'static str> {
    const HOST_MSDOS: u16 = 0;
    const HOST_UNIX: u16 = 3;
    const HOST_NTFS: u16 = 10;
    const HOST_VFAT: u16 = 14;
    const HOST_OSX: u16 = 19;
    const REPARSE_POINT: u32 = 0x400;
    match version_made_by >> 8 {
        HOST_UNIX | HOST_OSX => match (external_attributes >> 16) & 0o170_000 {
            0 | 0o100_000 | 0o040_000 => None,
            0o120_000 => Some("symbolic link"),
            0o020_000 => Some("character device"),
            0o060_000 => Some("block device"),
            0o010_000 => Some("FIFO"),
            0o140_000 => Some("socket"),
            _ => Some("special file"),
        },
        HOST_MSDOS | HOST_NTFS | HOST_VFAT if external_attributes & REPARSE_POINT != 0 => {
            Some("reparse point (a symbolic link or junction)")
        }
        _ => None,
    }
}

/// Finds the next position `>= from` where a zip record signature ("PK" + one of the record
/// kinds that may follow an entry's data) starts with all 4 bytes inside `d`.
fn find_signature(d: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    let end = d.len().saturating_sub(3);
    const P: u64 = 0x5050_5050_5050_5050;
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    while i < end {
        // 8 bytes at a time: skip words without a 'P'.
        if i + 8 <= end {
            let w = u64_at(d, i) ^ P;
            if (w.wrapping_sub(LO) & !w & HI) == 0 {
                i += 8;
                continue;
            }
        }
        if d[i] == b'P' && d[i + 1] == b'K' {
            match (d[i + 2], d[i + 3]) {
                (7, 8) | (3, 4) | (1, 2) | (5, 6) | (6, 6) => return Some(i),
                _ => {}
            }
        }
        i += 1;
    }
    None
}

impl ZipStream {
    /// A reader at the start of an archive; call [`feed`](Self::feed) with its bytes, then [`finish`](Self::finish).
    pub fn new() -> ZipStream {
        ZipStream {
            state: State::Signature,
            buf: Vec::new(),
            offset: 0,
            fed: 0,
            cur: None,
            inflater: None,
            seen: Vec::new(),
            by_offset: BTreeMap::new(),
            central_start: None,
            central_entries: 0,
            zip64_eocd: None,
            trailing: 0,
        }
    }

    /// Bytes fed so far.
    pub fn bytes_fed(&self) -> u64 {
        self.fed
    }

    /// Feeds the next bytes of the archive.
    pub fn feed(&mut self, input: &[u8], v: &mut impl ZipVisitor) {
        self.fed += input.len() as u64;
        let mut at = 0;
        while !self.buf.is_empty() && at < input.len() {
            // A record spans feeds: top the buffer up and parse from it, until the parse has
            // consumed everything that was buffered before; the rest is parsed in place.
            let old = self.buf.len();
            let take = (input.len() - at).min(TOP_UP.max(old));
            self.buf.extend_from_slice(&input[at..at + take]);
            at += take;
            let buf = std::mem::take(&mut self.buf);
            let n = self.process(&buf, false, v);
            if n >= old {
                // Give back the appended bytes that were not consumed: parse them in place.
                at -= buf.len() - n;
                self.buf = buf;
                self.buf.clear();
            } else {
                self.buf = buf;
                self.buf.drain(..n);
            }
        }
        if self.buf.is_empty() && at < input.len() {
            let n = self.process(&input[at..], false, v);
            self.buf.extend_from_slice(&input[at + n..]);
        }
    }

    /// Ends the input; reports a truncated archive; returns the summary.
    pub fn finish(&mut self, v: &mut impl ZipVisitor) -> ZipSummary {
        let buf = std::mem::take(&mut self.buf);
        let n = self.process(&buf, true, v);
        let left = buf.len() - n;
        match self.state {
            State::Done | State::Failed => {}
            _ => {
                let detail = match (self.state, &self.cur) {
                    (_, Some(c)) => format!("the archive ends inside entry {:?}", c.name),
                    (State::Signature, None) if self.central_start.is_some() => {
                        "the archive ends inside its central directory".to_owned()
                    }
                    (State::Signature, None) if self.fed == 0 => "the input is empty".to_owned(),
                    _ => "the archive ends before its central directory".to_owned(),
                };
                let detail = if left > 0 { format!("{detail} ({left} bytes of an incomplete record)") } else { detail };
                v.problem(ZipProblem::Truncated { offset: self.offset + left as u64, detail });
                self.state = State::Failed;
            }
        }
        if self.trailing > 0 {
            v.problem(ZipProblem::TrailingData { offset: self.fed - self.trailing, bytes: self.trailing });
        }
        ZipSummary {
            entries: self.seen.len() as u64,
            central_entries: self.central_entries,
            bytes: self.fed,
            complete: self.state == State::Done,
            failed: self.state == State::Failed,
        }
    }

    fn fail(&mut self, v: &mut impl ZipVisitor, detail: String) {
        v.problem(ZipProblem::Corrupt { offset: self.offset, detail });
        self.state = State::Failed;
        self.cur = None;
    }

    /// Parses as much of `data` as possible; returns how many bytes were consumed.
    fn process(&mut self, data: &[u8], eof: bool, v: &mut impl ZipVisitor) -> usize {
        let mut at = 0;
        loop {
            if matches!(self.state, State::Failed) {
                return data.len();
            }
            if matches!(self.state, State::Done) {
                self.trailing += (data.len() - at) as u64;
                return data.len();
            }
            let before = self.state_tag();
            match self.step(&data[at..], eof, v) {
                Step::Advanced(n) => {
                    at += n;
                    self.offset += n as u64;
                    if n == 0 && self.state_tag() == before && !matches!(self.state, State::Failed | State::Done) {
                        // No progress and no state change: wait for more input.
                        return at;
                    }
                }
                Step::NeedMore => return at,
            }
        }
    }

    fn state_tag(&self) -> u8 {
        match self.state {
            State::Signature => 0,
            State::Stored { .. } => 1,
            State::StoredScan => 2,
            State::Inflate => 3,
            State::Descriptor => 4,
            State::Skip { .. } => 5,
            State::Done => 6,
            State::Failed => 7,
        }
    }

    fn step(&mut self, d: &[u8], eof: bool, v: &mut impl ZipVisitor) -> Step {
        match self.state {
            State::Signature => self.step_record(d, eof, v),
            State::Stored { remaining } => {
                if d.is_empty() {
                    return Step::NeedMore;
                }
                let n = (remaining.min(d.len() as u64)) as usize;
                self.emit(&d[..n], v);
                if let Some(c) = self.cur.as_mut() {
                    c.csize += n as u64;
                }
                let remaining = remaining - n as u64;
                if remaining == 0 {
                    self.end_of_data(v);
                } else {
                    self.state = State::Stored { remaining };
                }
                Step::Advanced(n)
            }
            State::Skip { remaining } => {
                if d.is_empty() {
                    return Step::NeedMore;
                }
                let n = (remaining.min(d.len() as u64)) as usize;
                let remaining = remaining - n as u64;
                if remaining == 0 {
                    self.cur = None;
                    self.state = State::Signature;
                } else {
                    self.state = State::Skip { remaining };
                }
                Step::Advanced(n)
            }
            State::StoredScan => self.step_scan(d, v),
            State::Inflate => self.step_inflate(d, eof, v),
            State::Descriptor => self.step_descriptor(d, eof, v),
            State::Done | State::Failed => Step::Advanced(d.len()),
        }
    }

    fn emit(&mut self, data: &[u8], v: &mut impl ZipVisitor) {
        if data.is_empty() {
            return;
        }
        if let Some(c) = self.cur.as_mut() {
            c.crc.update(data);
            c.size += data.len() as u64;
        }
        v.entry_data(data);
    }

    /// The entry's data is over: read a descriptor, or finish with the local header's values.
    fn end_of_data(&mut self, v: &mut impl ZipVisitor) {
        let Some(c) = self.cur.as_ref() else {
            self.state = State::Signature;
            return;
        };
        if c.flags & FLAG_DESCRIPTOR != 0 {
            self.state = State::Descriptor;
            return;
        }
        let (crc, csize, usize_) = (c.local_crc, c.local_csize, c.local_usize);
        self.finish_entry(crc, Some((csize, usize_)), "local header", v);
    }

    /// Reports the entry's end, checking it against the declared CRC and sizes.
    fn finish_entry(&mut self, expected_crc: u32, sizes: Option<(u64, u64)>, against: &str, v: &mut impl ZipVisitor) {
        self.state = State::Signature;
        let Some(c) = self.cur.take() else { return };
        let crc = c.crc.finalize();
        if crc != expected_crc {
            v.problem(ZipProblem::CrcMismatch { entry: c.name.clone(), expected: expected_crc, actual: crc });
        }
        if let Some((csize, usize_)) = sizes {
            if usize_ != c.size {
                v.problem(ZipProblem::SizeMismatch {
                    entry: c.name.clone(),
                    expected: usize_,
                    actual: c.size,
                    against: against.to_owned(),
                });
            } else if csize != c.csize {
                v.problem(ZipProblem::SizeMismatch {
                    entry: c.name.clone(),
                    expected: csize,
                    actual: c.csize,
                    against: format!("{against} (compressed size)"),
                });
            }
        }
        let end = EntryEnd {
            index: c.index,
            name: c.name.clone(),
            size: c.size,
            compressed_size: c.csize,
            crc,
            expected_crc,
            crc_ok: crc == expected_crc,
        };
        if let Some(s) = self.seen.get_mut(c.index) {
            s.crc = crc;
            s.csize = c.csize;
            s.usize_ = c.size;
        }
        v.entry_end(&end);
    }

    fn step_record(&mut self, d: &[u8], eof: bool, v: &mut impl ZipVisitor) -> Step {
        if d.len() < 4 {
            // At the end of the input, finish() reports the leftover bytes as a truncation.
            let _ = eof;
            return Step::NeedMore;
        }
        let sig = u32_at(d, 0);
        match sig {
            SIG_LOCAL => self.local_header(d, v),
            SIG_CENTRAL => self.central_header(d, v),
            SIG_ZIP64_EOCD => {
                if d.len() < 12 {
                    return Step::NeedMore;
                }
                let size = u64_at(d, 4);
                if !(44..=MAX_ZIP64_EOCD).contains(&size) {
                    self.fail(v, format!("zip64 end record of implausible size {size}"));
                    return Step::Advanced(0);
                }
                let total = 12 + size as usize;
                if d.len() < total {
                    return Step::NeedMore;
                }
                let entries = u64_at(d, 32);
                let cd_offset = u64_at(d, 48);
                self.zip64_eocd = Some((entries, cd_offset));
                Step::Advanced(total)
            }
            SIG_ZIP64_LOCATOR => {
                if d.len() < 20 {
                    return Step::NeedMore;
                }
                Step::Advanced(20)
            }
            SIG_EOCD => self.end_record(d, eof, v),
            SIG_DESCRIPTOR if self.offset == 0 => Step::Advanced(4), // spanned-archive marker
            _ => {
                let what = if self.offset == 0 {
                    "the input does not start like a zip archive"
                } else {
                    "unexpected bytes where a zip record should start"
                };
                self.fail(v, format!("{what} (signature {sig:#010x})"));
                Step::Advanced(0)
            }
        }
    }

    fn local_header(&mut self, d: &[u8], v: &mut impl ZipVisitor) -> Step {
        if d.len() < 30 {
            return Step::NeedMore;
        }
        let name_len = u16_at(d, 26) as usize;
        let extra_len = u16_at(d, 28) as usize;
        let total = 30 + name_len + extra_len;
        if d.len() < total {
            return Step::NeedMore;
        }
        if self.central_start.is_some() {
            self.fail(v, "a local header after the central directory".to_owned());
            return Step::Advanced(0);
        }
        let flags = u16_at(d, 6);
        let method = u16_at(d, 8);
        let crc = u32_at(d, 14);
        let mut csize = u64::from(u32_at(d, 18));
        let mut usize_ = u64::from(u32_at(d, 22));
        let name = String::from_utf8_lossy(&d[30..30 + name_len]).into_owned();
        let extra = &d[30 + name_len..total];
        let mut zip64 = false;
        if let Some(z) = find_extra(extra, 0x0001) {
            zip64 = true;
            let mut fields = z.chunks_exact(8).map(|c| u64_at(c, 0));
            // The local header's zip64 field holds both sizes when either overflows.
            if usize_ == 0xFFFF_FFFF || csize == 0xFFFF_FFFF || z.len() >= 16 {
                if let Some(u) = fields.next() {
                    usize_ = u;
                }
                if let Some(c) = fields.next() {
                    csize = c;
                }
            }
        }
        let index = self.seen.len();
        let path_fault = check_entry_path(&name).err();
        let header = EntryHeader { index, name: name.clone(), method, flags, offset: self.offset, path_fault };
        if let Some(reason) = path_fault {
            v.problem(ZipProblem::UnsafeName { entry: name.clone(), reason });
        }
        self.by_offset.insert(self.offset, index);
        self.seen.push(Seen { name: name.clone(), crc, csize, usize_, in_central: false });
        let descriptor = flags & FLAG_DESCRIPTOR != 0;
        let size_known = !descriptor || (csize != 0 && csize != 0xFFFF_FFFF);
        let supported = flags & FLAG_ENCRYPTED == 0 && (method == METHOD_STORED || method == METHOD_DEFLATED);
        if !supported {
            let detail = if flags & FLAG_ENCRYPTED != 0 {
                "encrypted entry".to_owned()
            } else {
                format!("compression method {method} (only stored and deflated are supported)")
            };
            v.problem(ZipProblem::Unsupported { entry: name.clone(), detail });
            if size_known && !descriptor {
                self.cur = None;
                self.state = if csize == 0 { State::Signature } else { State::Skip { remaining: csize } };
                return Step::Advanced(total);
            }
            self.fail(v, format!("cannot find the end of unsupported entry {name:?}"));
            return Step::Advanced(total);
        }
        v.entry_start(&header);
        self.cur = Some(Current {
            index,
            name,
            flags,
            zip64,
            local_crc: crc,
            local_csize: csize,
            local_usize: usize_,
            crc: crc32fast::Hasher::new(),
            size: 0,
            csize: 0,
            data_start: self.offset + total as u64,
        });
        self.state = if method == METHOD_DEFLATED {
            let inf = self.inflater.get_or_insert_with(|| Inflater {
                state: Box::default(),
                window: vec![0; WINDOW],
                pos: 0,
            });
            inf.state.init();
            inf.pos = 0;
            State::Inflate
        } else if size_known {
            if method == METHOD_STORED && !descriptor && csize != usize_ {
                v.problem(ZipProblem::SizeMismatch {
                    entry: header.name.clone(),
                    expected: usize_,
                    actual: csize,
                    against: "local header (stored entry's two sizes differ)".to_owned(),
                });
            }
            if csize == 0 {
                // Zero-length entry: no data; its end comes right away.
                self.end_of_data(v);
                return Step::Advanced(total);
            }
            State::Stored { remaining: csize }
        } else {
            State::StoredScan
        };
        Step::Advanced(total)
    }

    /// Length of the data descriptor body (without signature) of the current entry.
    fn descriptor_len(&self) -> usize {
        match &self.cur {
            Some(c) if c.zip64 => 20,
            _ => 12,
        }
    }

    /// Stored data of unknown length: emit everything up to the first valid data descriptor.
    fn step_scan(&mut self, d: &[u8], v: &mut impl ZipVisitor) -> Step {
        let dl = self.descriptor_len();
        let hold = dl + 4;
        let mut committed = 0usize;
        let mut from = 0usize;
        while let Some(j) = find_signature(d, from) {
            from = j + 1;
            let sig = u32_at(d, j);
            // Candidate 1: a descriptor without signature that ends right before this record.
            if sig != SIG_DESCRIPTOR && j >= dl + committed {
                let e = j - dl;
                self.emit(&d[committed..e], v);
                committed = e;
                if self.descriptor_matches(&d[e..j]) {
                    if let Some(c) = self.cur.as_mut() {
                        c.csize = c.size;
                    }
                    self.state = State::Descriptor;
                    return Step::Advanced(e);
                }
            }
            // Candidate 2: a descriptor with its signature.
            if sig == SIG_DESCRIPTOR {
                if j + 4 + dl > d.len() {
                    // Not all of it here yet: emit what is surely data, wait for the rest.
                    let safe = j.saturating_sub(dl).max(committed);
                    self.emit(&d[committed..safe], v);
                    return if safe > 0 { Step::Advanced(safe) } else { Step::NeedMore };
                }
                self.emit(&d[committed..j], v);
                committed = j;
                if self.descriptor_matches(&d[j + 4..j + 4 + dl]) {
                    if let Some(c) = self.cur.as_mut() {
                        c.csize = c.size;
                    }
                    self.state = State::Descriptor;
                    return Step::Advanced(j);
                }
            }
        }
        let safe = d.len().saturating_sub(hold).max(committed);
        self.emit(&d[committed..safe], v);
        if safe == 0 {
            Step::NeedMore
        } else {
            Step::Advanced(safe)
        }
    }

    /// Whether `body` (crc, csize, usize; 4- or 8-byte sizes) can end the current stored entry:
    /// both sizes equal the bytes so far. The CRC is not required to match here, so that a
    /// corrupted entry still ends where it should (and its CRC mismatch is reported by name)
    /// instead of swallowing the rest of the archive; two exact sizes right after a signature
    /// are as unlikely to appear by chance as a matching CRC.
    fn descriptor_matches(&self, body: &[u8]) -> bool {
        let Some(c) = self.cur.as_ref() else {
            return false;
        };
        if body.len() < 12 {
            return false;
        }
        let size = c.size;
        if body.len() >= 20 {
            u64_at(body, 4) == size && u64_at(body, 12) == size
        } else {
            u64::from(u32_at(body, 4)) == size && u64::from(u32_at(body, 8)) == size
        }
    }

    fn step_inflate(&mut self, d: &[u8], eof: bool, v: &mut impl ZipVisitor) -> Step {
        let Some(mut inf) = self.inflater.take() else {
            self.fail(v, "internal: no inflater".to_owned());
            return Step::Advanced(0);
        };
        let flags = if eof { 0 } else { inflate_flags::TINFL_FLAG_HAS_MORE_INPUT };
        let mut consumed = 0usize;
        let result = loop {
            let (status, used, written) = decompress(&mut inf.state, &d[consumed..], &mut inf.window, inf.pos, flags);
            consumed += used;
            if written > 0 {
                let start = inf.pos;
                // `decompress` never writes past the end of the window in one call.
                let end = (start + written).min(inf.window.len());
                let out = &inf.window[start..end];
                if let Some(c) = self.cur.as_mut() {
                    c.crc.update(out);
                    c.size += out.len() as u64;
                }
                v.entry_data(out);
                inf.pos = (start + written) & (WINDOW - 1);
            }
            match status {
                TINFLStatus::Done => break Ok(true),
                TINFLStatus::HasMoreOutput => {
                    if used == 0 && written == 0 {
                        break Err("inflate made no progress".to_owned());
                    }
                    continue;
                }
                TINFLStatus::NeedsMoreInput => {
                    if eof {
                        break Err("truncated".to_owned());
                    }
                    break Ok(false);
                }
                TINFLStatus::FailedCannotMakeProgress => {
                    if eof || consumed < d.len() {
                        break Err("truncated".to_owned());
                    }
                    break Ok(false);
                }
                other => break Err(format!("invalid deflate data ({other:?})")),
            }
        };
        self.inflater = Some(inf);
        if let Some(c) = self.cur.as_mut() {
            c.csize += consumed as u64;
        }
        match result {
            Ok(true) => {
                self.end_of_data(v);
                Step::Advanced(consumed)
            }
            Ok(false) => {
                if consumed == 0 {
                    Step::NeedMore
                } else {
                    Step::Advanced(consumed)
                }
            }
            Err(e) if e == "truncated" => {
                // finish() reports the truncation with the entry's name.
                Step::Advanced(consumed)
            }
            Err(e) => {
                let (name, start) = self.cur.as_ref().map(|c| (c.name.clone(), c.data_start)).unwrap_or_default();
                let here = self.offset;
                self.offset = start;
                self.fail(v, format!("entry {name:?}: {e} in its compressed data"));
                self.offset = here;
                Step::Advanced(consumed)
            }
        }
    }

    fn step_descriptor(&mut self, d: &[u8], eof: bool, v: &mut impl ZipVisitor) -> Step {
        let want = 4 + 20;
        if d.len() < want && !eof {
            return Step::NeedMore;
        }
        let Some(c) = self.cur.as_ref() else {
            self.state = State::Signature;
            return Step::Advanced(0);
        };
        let crc = c.crc.clone().finalize();
        let (size, csize) = (c.size, c.csize);
        let zip64 = c.zip64;
        // Possible layouts: (signature?, size width). Prefer the one whose values match.
        let mut layouts: Vec<(usize, bool)> = Vec::with_capacity(4);
        let has_sig = d.len() >= 4 && u32_at(d, 0) == SIG_DESCRIPTOR;
        let widths = if zip64 { [true, false] } else { [false, true] };
        for &sig in if has_sig { &[4usize, 0][..] } else { &[0usize][..] } {
            for &w in &widths {
                layouts.push((sig, w));
            }
        }
        let parse = |skip: usize, wide: bool| -> Option<(u32, u64, u64, usize)> {
            let len = skip + if wide { 20 } else { 12 };
            if d.len() < len {
                return None;
            }
            let b = &d[skip..];
            Some(if wide {
                (u32_at(b, 0), u64_at(b, 4), u64_at(b, 12), len)
            } else {
                (u32_at(b, 0), u64::from(u32_at(b, 4)), u64::from(u32_at(b, 8)), len)
            })
        };
        let mut chosen = None;
        for &(skip, wide) in &layouts {
            if let Some(p) = parse(skip, wide) {
                if p.0 == crc && p.1 == csize && p.2 == size {
                    chosen = Some(p);
                    break;
                }
            }
        }
        if chosen.is_none() {
            // The CRC differs (reported below): prefer the layout whose sizes match.
            chosen = layouts.iter().find_map(|&(s, w)| parse(s, w).filter(|p| p.1 == csize && p.2 == size));
        }
        if chosen.is_none() {
            // Nothing matches: take the first complete layout and report the differences.
            chosen = layouts.iter().find_map(|&(s, w)| parse(s, w));
        }
        let Some((dcrc, dcsize, dsize, len)) = chosen else {
            return Step::NeedMore;
        };
        self.finish_entry(dcrc, Some((dcsize, dsize)), "data descriptor", v);
        Step::Advanced(len)
    }

    fn central_header(&mut self, d: &[u8], v: &mut impl ZipVisitor) -> Step {
        if d.len() < 46 {
            return Step::NeedMore;
        }
        let total = 46 + u16_at(d, 28) as usize + u16_at(d, 30) as usize + u16_at(d, 32) as usize;
        if d.len() < total {
            return Step::NeedMore;
        }
        if self.central_start.is_none() {
            self.central_start = Some(self.offset);
        }
        self.central_entries += 1;
        let name_len = u16_at(d, 28) as usize;
        let extra_len = u16_at(d, 30) as usize;
        let crc = u32_at(d, 16);
        let mut csize = u64::from(u32_at(d, 20));
        let mut usize_ = u64::from(u32_at(d, 24));
        let mut offset = u64::from(u32_at(d, 42));
        let name = String::from_utf8_lossy(&d[46..46 + name_len]).into_owned();
        if let Some(kind) = special_entry_kind(u16_at(d, 4), u32_at(d, 38)) {
            v.problem(ZipProblem::SpecialEntry { entry: name.clone(), detail: kind.to_owned() });
        }
        if let Some(z) = find_extra(&d[46 + name_len..46 + name_len + extra_len], 0x0001) {
            let mut fields = z.chunks_exact(8).map(|c| u64_at(c, 0));
            if usize_ == 0xFFFF_FFFF {
                usize_ = fields.next().unwrap_or(usize_);
            }
            if csize == 0xFFFF_FFFF {
                csize = fields.next().unwrap_or(csize);
            }
            if offset == 0xFFFF_FFFF {
                offset = fields.next().unwrap_or(offset);
            }
        }
        match self.by_offset.get(&offset).copied() {
            None => v.problem(ZipProblem::CentralDirectoryMismatch {
                entry: name,
                detail: format!("listed at offset {offset}, where the stream had no entry"),
            }),
            Some(i) => {
                let s = &mut self.seen[i];
                let mut diffs = Vec::new();
                if s.in_central {
                    diffs.push("listed twice".to_owned());
                }
                s.in_central = true;
                if s.name != name {
                    diffs.push(format!("name {:?} in the stream", s.name));
                }
                if s.crc != crc {
                    diffs.push(format!("CRC-32 {crc:08x}, the data has {:08x}", s.crc));
                }
                if s.usize_ != usize_ {
                    diffs.push(format!("size {usize_}, the data has {}", s.usize_));
                }
                if s.csize != csize {
                    diffs.push(format!("compressed size {csize}, the stream had {}", s.csize));
                }
                if !diffs.is_empty() {
                    v.problem(ZipProblem::CentralDirectoryMismatch { entry: name, detail: diffs.join("; ") });
                }
            }
        }
        Step::Advanced(total)
    }

    fn end_record(&mut self, d: &[u8], eof: bool, v: &mut impl ZipVisitor) -> Step {
        if d.len() < 22 {
            return Step::NeedMore;
        }
        let comment = u16_at(d, 20) as usize;
        if d.len() < 22 + comment {
            if eof {
                // A cut comment: the archive itself is complete.
                v.problem(ZipProblem::Truncated {
                    offset: self.offset + d.len() as u64,
                    detail: "the archive comment is cut short".to_owned(),
                });
                self.check_central(d, v);
                self.state = State::Done;
                return Step::Advanced(d.len());
            }
            return Step::NeedMore;
        }
        self.check_central(d, v);
        self.state = State::Done;
        Step::Advanced(22 + comment)
    }

    fn check_central(&mut self, d: &[u8], v: &mut impl ZipVisitor) {
        let mut entries = u64::from(u16_at(d, 10));
        let mut cd_offset = u64::from(u32_at(d, 16));
        if let Some((e, o)) = self.zip64_eocd {
            if entries == 0xFFFF {
                entries = e;
            }
            if cd_offset == 0xFFFF_FFFF {
                cd_offset = o;
            }
        }
        let start = self.central_start.unwrap_or(self.offset);
        if cd_offset != start {
            v.problem(ZipProblem::Corrupt {
                offset: self.offset,
                detail: format!("the end record puts the central directory at {cd_offset}, it is at {start}"),
            });
        }
        if entries != self.central_entries {
            v.problem(ZipProblem::Corrupt {
                offset: self.offset,
                detail: format!(
                    "the end record counts {entries} entries, the central directory has {}",
                    self.central_entries
                ),
            });
        }
        for s in &self.seen {
            if !s.in_central {
                v.problem(ZipProblem::CentralDirectoryMismatch {
                    entry: s.name.clone(),
                    detail: "in the stream but not in the central directory".to_owned(),
                });
            }
        }
    }
}

/// The data of extra field `id`, if present.
fn find_extra(mut extra: &[u8], id: u16) -> Option<&[u8]> {
    while extra.len() >= 4 {
        let tag = u16_at(extra, 0);
        let len = u16_at(extra, 2) as usize;
        let body = extra.get(4..4 + len)?;
        if tag == id {
            return Some(body);
        }
        extra = &extra[4 + len..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_entries_from_the_central_directory() {
        let unix = 3 << 8;
        assert_eq!(special_entry_kind(unix, 0o120_777 << 16), Some("symbolic link"));
        assert_eq!(special_entry_kind(unix, 0o100_644 << 16), None);
        assert_eq!(special_entry_kind(unix, 0o040_755 << 16), None);
        assert_eq!(special_entry_kind(unix, 0), None, "no mode recorded");
        assert_eq!(special_entry_kind(unix, 0o010_644 << 16), Some("FIFO"));
        assert_eq!(special_entry_kind(19 << 8, 0o120_755 << 16), Some("symbolic link"));
        assert!(special_entry_kind(10 << 8, 0x400).is_some(), "NTFS reparse point");
        assert_eq!(special_entry_kind(0, 0x20), None, "MS-DOS archive bit");
        assert_eq!(special_entry_kind(0x0b << 8, 0o120_777 << 16), None, "another host's bits mean nothing");
    }

    /// The problems of `zip` fed in pieces of `size` bytes.
    fn problems_in_pieces(zip: &[u8], size: usize) -> Vec<ZipProblem> {
        struct Problems(Vec<ZipProblem>);
        impl ZipVisitor for Problems {
            fn problem(&mut self, p: ZipProblem) {
                self.0.push(p);
            }
        }
        let mut problems = Problems(Vec::new());
        let mut z = ZipStream::new();
        for piece in zip.chunks(size) {
            z.feed(piece, &mut problems);
        }
        z.finish(&mut problems);
        problems.0
    }

    #[test]
    fn bad_deflate_data_is_reported_at_the_same_offset_in_any_chunking() {
        // Found by the zipstream fuzz target (input in fuzz/regressions/zipstream/): how far the
        // inflater reads before it notices bad data depends on how much input it holds, and the
        // reported offset moved with the chunking of the download.
        let zip: &[u8] = b"PK\x03\x04-\x00\x08\x00\x08\x00\x01\x00\x00\xbd\x00\x00\x00\x00#\x00\x00\x00\x00\x00\
            \x00\x00\x05\x00\x09\x00a.txt=H\xcd\xc9\xc9\xd7Q\xa8~,\xe0\x02\x00\x1b8\xc6\xcb\x00\
            \x00l\xff\xff\xff\xff\xff\x01\x00\x00\x00\x00\x00\x00\x00\xff\x7f\xff\xff\x00\x05\
            \x00\x09\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\
            \xff\xff\xff(\x00>\x00\x00\x00\x00\x00\x00\x00\x84\xff\xff\xff\x16\x00\xff\x0a\x00";
        let whole = problems_in_pieces(zip, zip.len());
        assert!(matches!(whole.as_slice(), [ZipProblem::Corrupt { .. }]), "{whole:?}");
        for size in 1..=16 {
            assert_eq!(problems_in_pieces(zip, size), whole, "in pieces of {size}");
        }
    }

    #[test]
    fn signature_search_finds_every_kind_at_every_alignment() {
        for sig in [[7u8, 8], [3, 4], [1, 2], [5, 6], [6, 6]] {
            for at in 0..40 {
                let mut d = vec![b'P'; 48];
                d[at] = b'P';
                d[at + 1] = b'K';
                d[at + 2] = sig[0];
                d[at + 3] = sig[1];
                assert_eq!(find_signature(&d, 0), Some(at));
                assert_eq!(find_signature(&d, at + 1), None);
                assert_eq!(find_signature(&d[..at + 3], 0), None, "needs all 4 bytes");
            }
        }
        assert_eq!(find_signature(b"PK\x09\x09PK\x03", 0), None);
    }
}
