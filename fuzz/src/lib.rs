//! The bodies of mesbackup's fuzz targets: one function per input mesbackup takes from outside.
//!
//! Each function panics when a property fails, which is what libFuzzer reports as a crash.
//! `fuzz_targets/<name>.rs` hands libFuzzer's input to the function of the same name, and
//! `core/tests/fuzz_corpus.rs` includes this file and runs the same functions, on stable, over
//! every file of `fuzz/corpus/<name>/` and `fuzz/regressions/<name>/` in every `./scripts/test`:
//! the targets cannot rot, and a crash once fixed stays fixed.
//!
//! Only `mesbackup_core` and crates it already uses (plus `arbitrary`) appear here, so the file
//! compiles in both places.

use std::path::{Component, Path};

use arbitrary::{Arbitrary, Unstructured};
use mesbackup_core::mes::{choose_file_name, is_safe_file_name, parse_filename, sanitize_file_name};
use mesbackup_core::mes::{classify_get, classify_ready, classify_start, GetAnswer, ResponseHead, StartAnswer};
use mesbackup_core::naming::{
    check_folder, database_name, installer_package_name, parse_database_name, parse_package_name, DatabaseKind,
    PackageName,
};
use mesbackup_core::package::{check_entry_path, entry_components};
use mesbackup_core::package::{
    decompress_blocks, parse_manifest, parse_part_checksums, report, Manifest, PartChecksum, Verifier, VerifyOptions,
};
use mesbackup_core::package::{inspect, Inspection};
use mesbackup_core::package::{EntryEnd, EntryHeader, ZipProblem, ZipStream, ZipSummary, ZipVisitor};
use mesbackup_core::ErrorKind;
use sha2::{Digest, Sha256};

/// A target's body: libFuzzer's input in, a panic when a property fails.
pub type Body = fn(&[u8]);

/// Every target: its name (also the folder of its corpus and regressions) and its body.
pub const TARGETS: &[(&str, Body)] = &[
    ("zipstream", zipstream),
    ("verifier", verifier),
    ("manifest", manifest),
    ("part_checksums", part_checksums),
    ("content_disposition", content_disposition),
    ("response", response),
    ("naming", naming),
    ("entry_path", entry_path),
];

/// Text shown to a user (error messages, notes) must not carry raw control characters: a hostile
/// package or server could otherwise rewrite the terminal (`\x1b[2J`) or forge lines.
fn assert_printable(what: &str, text: &str) {
    assert!(!text.chars().any(char::is_control), "{what} carries a raw control character: {text:?}");
}

// ---------------------------------------------------------------------------------------------
// Chunking
// ---------------------------------------------------------------------------------------------

/// Cuts `payload` the way the first input byte says: its low 3 bits pick the largest chunk (1, 2,
/// 7, 31, 256, 4096 or 65536 bytes, or everything at once), the others seed the sizes; an empty
/// feed is slipped in now and then. A download hands the reader whatever the network delivers.
fn chunks(spec: u8, payload: &[u8]) -> Vec<&[u8]> {
    const LARGEST: [usize; 8] = [1, 2, 7, 31, 256, 4096, 65536, usize::MAX];
    let largest = LARGEST[usize::from(spec & 7)];
    let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ u64::from(spec >> 3);
    let mut next = || {
        // xorshift64*: deterministic, so a crash input replays the same chunking.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    let mut out = Vec::new();
    let mut rest = payload;
    while !rest.is_empty() {
        let r = next();
        if r % 13 == 0 {
            out.push(&rest[..0]);
        }
        let size = if largest == usize::MAX { rest.len() } else { 1 + (r >> 8) as usize % largest };
        let (head, tail) = rest.split_at(size.min(rest.len()));
        out.push(head);
        rest = tail;
    }
    out
}

/// The chunking byte and the payload of a zipstream or verifier input.
fn split_spec(data: &[u8]) -> (u8, &[u8]) {
    match data.split_first() {
        Some((&spec, payload)) => (spec, payload),
        None => (7, data),
    }
}

// ---------------------------------------------------------------------------------------------
// zipstream
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum ZipEvent {
    Start(EntryHeader),
    /// An entry's end, with the length and CRC-32 of the bytes the visitor really received.
    End(EntryEnd, u64, u32),
    Problem(ZipProblem),
}

/// A visitor that checks the order and the contents of the reader's events as they come.
#[derive(Default)]
struct ZipLog {
    events: Vec<ZipEvent>,
    open: Option<(EntryHeader, u64, crc32fast::Hasher)>,
    stopped: bool,
}

impl ZipVisitor for ZipLog {
    fn entry_start(&mut self, h: &EntryHeader) {
        assert!(!self.stopped, "entry {:?} starts after a fatal problem", h.name);
        if let Some((open, _, _)) = &self.open {
            panic!("entry {:?} starts inside entry {:?}", h.name, open.name);
        }
        assert_eq!(h.path_fault, check_entry_path(&h.name).err(), "path_fault of {:?}", h.name);
        if let Some(fault) = h.path_fault {
            assert!(
                matches!(self.events.last(), Some(ZipEvent::Problem(ZipProblem::UnsafeName { entry, reason })) if *entry == h.name && *reason == fault),
                "unsafe entry {:?} started without its UnsafeName problem",
                h.name
            );
        }
        let started = self.events.iter().filter(|e| matches!(e, ZipEvent::Start(_))).count();
        assert!(h.index >= started, "entry index {} after {started} entries", h.index);
        self.events.push(ZipEvent::Start(h.clone()));
        self.open = Some((h.clone(), 0, crc32fast::Hasher::new()));
    }

    fn entry_data(&mut self, data: &[u8]) {
        match self.open.as_mut() {
            Some((_, n, crc)) => {
                *n += data.len() as u64;
                crc.update(data);
            }
            None => panic!("{} bytes of entry data outside any entry", data.len()),
        }
    }

    fn entry_end(&mut self, end: &EntryEnd) {
        let Some((h, n, crc)) = self.open.take() else { panic!("entry {:?} ends without having started", end.name) };
        assert_eq!((end.index, &end.name), (h.index, &h.name), "the entry that ends is not the one that started");
        let crc = crc.finalize();
        assert_eq!(end.size, n, "{:?}: size is not the bytes handed over", end.name);
        assert_eq!(end.crc, crc, "{:?}: crc is not the bytes' CRC-32", end.name);
        assert_eq!(end.crc_ok, end.crc == end.expected_crc, "{:?}: crc_ok", end.name);
        if !end.crc_ok {
            let reported = self.events.iter().rev().take_while(|e| !matches!(e, ZipEvent::Start(_))).any(|e| {
                matches!(e, ZipEvent::Problem(ZipProblem::CrcMismatch { entry, expected, actual })
                    if *entry == end.name && *expected == end.expected_crc && *actual == end.crc)
            });
            assert!(reported, "{:?}: CRC mismatch without a CrcMismatch problem", end.name);
        }
        self.events.push(ZipEvent::End(end.clone(), n, crc));
    }

    fn problem(&mut self, problem: ZipProblem) {
        if problem.is_fatal() {
            // The reader drops the entry it was in; no event of it may follow.
            self.open = None;
            self.stopped = true;
        }
        self.events.push(ZipEvent::Problem(problem));
    }
}

fn read_zip<'a>(pieces: impl IntoIterator<Item = &'a [u8]>, len: usize) -> (ZipLog, ZipSummary) {
    let mut log = ZipLog::default();
    let mut zip = ZipStream::new();
    for piece in pieces {
        zip.feed(piece, &mut log);
    }
    assert_eq!(zip.bytes_fed(), len as u64);
    let summary = zip.finish(&mut log);
    (log, summary)
}

/// The streaming zip reader, fed in chunks drawn from the input: never panics, its events are
/// well formed (data only inside an entry, sizes and CRCs of what it handed over), its summary
/// agrees with its events, and the chunking changes nothing.
pub fn zipstream(data: &[u8]) {
    let (spec, payload) = split_spec(data);
    let (log, summary) = read_zip(chunks(spec, payload), payload.len());

    assert_eq!(summary.bytes, payload.len() as u64);
    assert_ne!(summary.complete, summary.failed, "complete and failed: {summary:?}");
    let problems = || {
        log.events.iter().filter_map(|e| match e {
            ZipEvent::Problem(p) => Some(p),
            _ => None,
        })
    };
    if summary.failed {
        assert!(problems().any(ZipProblem::is_fatal), "failed without a fatal problem");
    } else {
        assert!(log.open.is_none(), "complete with an entry still open");
    }
    let started = log.events.iter().filter(|e| matches!(e, ZipEvent::Start(_))).count() as u64;
    let unsupported = problems().filter(|p| matches!(p, ZipProblem::Unsupported { .. })).count() as u64;
    assert_eq!(summary.entries, started + unsupported, "entries counted: {summary:?}");

    let (whole, whole_summary) = read_zip([payload], payload.len());
    assert_eq!(summary, whole_summary, "the chunking changed the summary");
    assert_eq!(log.events, whole.events, "the chunking changed the events");
}

// ---------------------------------------------------------------------------------------------
// verifier (and inspect)
// ---------------------------------------------------------------------------------------------

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn check_inspection_totals(ins: &Inspection) {
    // Sizes and counts come from the package: totals saturate.
    let sum = |f: fn(&mesbackup_core::package::DatabaseInfo) -> u64| {
        ins.databases.iter().map(f).fold(0u64, u64::saturating_add)
    };
    assert_eq!(ins.tables, sum(|d| d.tables.len() as u64), "tables total");
    assert_eq!(ins.parts, sum(|d| d.parts), "parts total");
    assert_eq!(ins.rows, sum(|d| d.rows), "rows total");
    assert_eq!(ins.bytes, sum(|d| d.bytes), "bytes total");
    for note in &ins.notes {
        assert_printable("an inspection note", note);
    }
}

/// The whole one-pass verifier and the inspection it drives: never panics; the same report and
/// inspection whatever the chunking; the SHA-256 is the package's; every problem has a printable
/// message; a package called OK has a manifest, is complete, and has no unsafe or duplicate entry.
pub fn verifier(data: &[u8]) {
    let (spec, package) = split_spec(data);
    let mut chunked = Verifier::with_options(VerifyOptions { sha256: true, expected_sha256: None })
        .expect("options without an expected SHA-256 are valid");
    for piece in chunks(spec, package) {
        chunked.feed(piece);
    }
    assert_eq!(chunked.bytes_fed(), package.len() as u64);
    let (r, ins) = chunked.finish_with_inspection();

    let mut whole = Verifier::new();
    whole.feed(package);
    let (contents, sha) = whole.finish_contents();
    assert_eq!(sha, None, "SHA-256 computed without being asked for");
    assert_eq!(report(&contents, r.sha256.clone(), None), r, "the chunking changed the report");
    assert_eq!(inspect(&contents), ins, "the chunking changed the inspection");

    assert_eq!(r.sha256.as_deref(), Some(hex(&Sha256::digest(package)).as_str()));
    assert_eq!(r.bytes, package.len() as u64);
    assert_eq!(r.ok, r.problems.is_empty());
    assert_eq!(r.ok(), r.to_error().is_none());
    for p in &r.problems {
        let message = p.message();
        assert!(!message.is_empty(), "{p:?} has no message");
        assert_printable("a problem message", &message);
        assert_eq!(p.to_error().kind, ErrorKind::Integrity);
    }
    for note in &r.notes {
        assert_printable("a verify note", note);
    }
    if r.ok {
        assert!(r.manifest.is_some(), "OK without a manifest");
        let summary = contents.summary.as_ref().expect("finish sets the summary");
        assert!(summary.complete && !summary.failed, "OK but incomplete: {summary:?}");
        assert!(contents.duplicates.is_empty(), "OK with duplicates");
        // Nothing that extraction would write can leave its folder (issue 13): every entry, and
        // every path the manifest names, is a plain relative path, also below the backup root.
        let root = r.backup_root.clone().unwrap_or_default();
        for name in &contents.order {
            assert_eq!(check_entry_path(name), Ok(()), "OK with the unsafe entry {name:?}");
            if let Some(rest) = name.strip_prefix(root.as_str()) {
                assert_eq!(check_entry_path(rest), Ok(()), "OK with {name:?}, {rest:?} below the root");
                stays_below(rest);
            }
        }
        if let Some(Ok(m)) = contents.manifest() {
            for f in &m.files {
                assert_eq!(check_entry_path(&f.name), Ok(()), "OK with the listed path {:?}", f.name);
                if f.size > 0 && !f.use_base && f.archive_suffix.as_deref().unwrap_or("").is_empty() {
                    assert!(f.checksum.is_some(), "OK with {:?} listed without a checksum", f.name);
                }
            }
        }
    }
    check_inspection_totals(&ins);
}

// ---------------------------------------------------------------------------------------------
// manifest
// ---------------------------------------------------------------------------------------------

/// Escapes text for the manifest: markup characters, and whitespace and control characters
/// (which the parser would trim or a terminal would act on) as numeric references.
fn xml_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c if c.is_whitespace() || c.is_control() => out.push_str(&format!("&#x{:x};", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn render_manifest(m: &Manifest) -> String {
    let mut s = String::from("<?xml version=\"1.0\"?>\n<config>");
    let field = |s: &mut String, tag: &str, v: Option<String>| {
        if let Some(v) = v {
            s.push_str(&format!("<{tag}>{}</{tag}>", xml_text(&v)));
        }
    };
    field(&mut s, "version", m.version.clone());
    field(&mut s, "timestamp", m.timestamp.clone());
    field(&mut s, "uuid", m.uuid.clone());
    s.push_str("<contents>");
    for f in &m.files {
        s.push_str("<file>");
        field(&mut s, "name", Some(f.name.clone()));
        field(&mut s, "size", Some(f.size.to_string()));
        field(&mut s, "checksum", f.checksum.map(|c| format!("{c:032x}")));
        field(&mut s, "use_base", Some(f.use_base.to_string()));
        field(&mut s, "base_size", f.base_size.map(|v| v.to_string()));
        field(&mut s, "base_checksum", f.base_checksum.map(|c| format!("{c:032x}")));
        field(&mut s, "data_file", f.data_file.clone());
        field(&mut s, "archive_suffix", f.archive_suffix.clone());
        field(&mut s, "pos_in_archive", f.pos_in_archive.map(|v| v.to_string()));
        s.push_str("</file>");
    }
    s.push_str("</contents></config>");
    s
}

/// The `.backup` parser: never panics; its errors are printable; what it reads, written back
/// as XML, reads back the same.
pub fn manifest(data: &[u8]) {
    match parse_manifest(data) {
        Err(e) => {
            assert!(!e.is_empty());
            assert_printable("a manifest error", &e);
        }
        Ok(m) => {
            for f in &m.files {
                assert!(!f.name.is_empty(), "a file without a name");
                let _ = m.storage_of(f);
            }
            let xml = render_manifest(&m);
            let again = parse_manifest(xml.as_bytes())
                .unwrap_or_else(|e| panic!("the manifest written back does not parse: {e}\n{xml}"));
            assert_eq!(again, m, "the manifest written back reads differently\n{xml}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// part_checksums
// ---------------------------------------------------------------------------------------------

const CHECKSUMS_HEADER: &[u8] = b"checksums format version: 4\n";

#[derive(Arbitrary, Debug)]
struct ChecksumEntry {
    name: String,
    file_size: u64,
    file_hash: u128,
    uncompressed: Option<(u64, u128)>,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Codec {
    None,
    Lz4,
    Zstd,
    /// The bytes as they are, under any method byte and declared size.
    Raw {
        method: u8,
        declared: u16,
    },
    /// A declared size far beyond what the bytes hold (the decompression limit).
    Huge {
        method: u8,
        declared: u32,
    },
}

#[derive(Arbitrary, Debug)]
struct ChecksumsInput {
    files: Vec<ChecksumEntry>,
    /// Where the body is cut into blocks, and how each block is stored.
    blocks: Vec<(u16, Codec)>,
    /// A byte after the header line to flip: (position, xor mask).
    damage: Option<(u16, u8)>,
}

fn var_uint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// ClickHouse's compressed block: CityHash128 of (method, sizes, payload), then those.
fn block(method: u8, payload: &[u8], declared: u32) -> Vec<u8> {
    let mut b = vec![method];
    b.extend_from_slice(&((9 + payload.len()) as u32).to_le_bytes());
    b.extend_from_slice(&declared.to_le_bytes());
    b.extend_from_slice(payload);
    let (lo, hi) = mesbackup_core::package::city_hash128(&b);
    let mut out = lo.to_le_bytes().to_vec();
    out.extend_from_slice(&hi.to_le_bytes());
    out.extend_from_slice(&b);
    out
}

/// Builds a checksums.txt the way ClickHouse writes it (any block split, any codec) and checks
/// the parser reads back exactly the entries; damaged, it must refuse.
fn structured_part_checksums(input: ChecksumsInput) {
    let mut body = Vec::new();
    var_uint(&mut body, input.files.len() as u64);
    let mut expected = Vec::new();
    for f in &input.files {
        var_uint(&mut body, f.name.len() as u64);
        body.extend_from_slice(f.name.as_bytes());
        var_uint(&mut body, f.file_size);
        body.extend_from_slice(&(f.file_hash as u64).to_le_bytes());
        body.extend_from_slice(&((f.file_hash >> 64) as u64).to_le_bytes());
        body.push(u8::from(f.uncompressed.is_some()));
        if let Some((size, hash)) = f.uncompressed {
            var_uint(&mut body, size);
            body.extend_from_slice(&(hash as u64).to_le_bytes());
            body.extend_from_slice(&((hash >> 64) as u64).to_le_bytes());
        }
        expected.push(PartChecksum {
            name: f.name.clone(),
            file_size: f.file_size,
            file_hash: f.file_hash,
            is_compressed: f.uncompressed.is_some(),
            uncompressed_size: f.uncompressed.map_or(0, |u| u.0),
            uncompressed_hash: f.uncompressed.map_or(0, |u| u.1),
        });
    }

    let mut blocks = Vec::new();
    let mut faithful = true;
    let mut rest = &body[..];
    let mut plan = input.blocks.iter().copied();
    while !rest.is_empty() {
        let (len, codec) = plan.next().unwrap_or((u16::MAX, Codec::None));
        // ClickHouse never writes an empty block.
        let len = (usize::from(len).max(1)).min(rest.len());
        let (raw, tail) = rest.split_at(len);
        rest = tail;
        blocks.extend_from_slice(&match codec {
            Codec::None => block(0x02, raw, raw.len() as u32),
            Codec::Lz4 => block(0x82, &lz4_flex::block::compress(raw), raw.len() as u32),
            Codec::Zstd => block(
                0x90,
                &ruzstd::encoding::compress_to_vec(raw, ruzstd::encoding::CompressionLevel::Fastest),
                raw.len() as u32,
            ),
            Codec::Raw { method, declared } => {
                faithful &= method == 0x02 && usize::from(declared) == raw.len();
                block(method, raw, u32::from(declared))
            }
            Codec::Huge { method, declared } => {
                faithful = false;
                block(method, raw, declared)
            }
        });
    }
    if faithful {
        assert_eq!(decompress_blocks(&blocks).as_deref(), Ok(&body[..]), "blocks do not decompress to the body");
    } else {
        let _ = decompress_blocks(&blocks);
    }
    let mut file = CHECKSUMS_HEADER.to_vec();
    file.extend_from_slice(&blocks);
    if let Some((at, mask)) = input.damage.filter(|&(_, mask)| mask != 0 && !blocks.is_empty()) {
        let at = CHECKSUMS_HEADER.len() + usize::from(at) % blocks.len();
        file[at] ^= mask;
        // Every byte after the header is under a block's CityHash128.
        assert!(parse_part_checksums(&file).is_err(), "a flipped byte at {at} went unnoticed");
    } else if faithful {
        assert_eq!(parse_part_checksums(&file).as_ref(), Ok(&expected), "entries read back differently");
    } else {
        let _ = parse_part_checksums(&file);
    }
}

/// A part's `checksums.txt` (and the LZ4/ZSTD block decompression under it): raw bytes never make
/// it panic; files built like ClickHouse's read back exactly; damaged ones are refused.
pub fn part_checksums(data: &[u8]) {
    if data.starts_with(b"checksums") {
        if let Err(e) = parse_part_checksums(data) {
            assert_printable("a checksums.txt error", &e);
        }
        return;
    }
    let _ = decompress_blocks(data);
    if let Ok(input) = ChecksumsInput::arbitrary_take_rest(Unstructured::new(data)) {
        structured_part_checksums(input);
    }
}

// ---------------------------------------------------------------------------------------------
// content_disposition
// ---------------------------------------------------------------------------------------------

const FALLBACK: &str = "MESCDM.zip";

/// `name` joined under a folder names a file directly in that folder.
fn stays_in_folder(name: &str) {
    let folder = Path::new("/backups/out");
    let joined = folder.join(name);
    assert_eq!(joined.parent(), Some(folder), "{name:?} leaves the folder: {joined:?}");
    let added: Vec<_> = joined.strip_prefix(folder).map(|p| p.components().collect()).unwrap_or_default();
    assert!(
        matches!(added.as_slice(), [Component::Normal(n)] if *n == std::ffi::OsStr::new(name)),
        "{name:?} is not one plain component under the folder"
    );
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The server's `Content-Disposition`: whatever file name comes out is the fallback or a safe
/// base name that stays in the output folder; sanitising is idempotent; a safe name the server
/// sends (plain or RFC 8187) is kept exactly.
pub fn content_disposition(data: &[u8]) {
    let Ok(header) = std::str::from_utf8(data) else { return };
    let raw = parse_filename(header);
    let choice = choose_file_name(Some(header), FALLBACK);
    if choice.from_server {
        assert!(is_safe_file_name(&choice.name), "unsafe name {:?} from {header:?}", choice.name);
        stays_in_folder(&choice.name);
        let raw = raw.as_deref().expect("a name from the server was parsed from the header");
        assert!(raw.ends_with(&choice.name), "{:?} is not the base of {raw:?}", choice.name);
        assert_eq!(choice.note.is_none(), raw == choice.name, "note {:?}", choice.note);
    } else {
        assert_eq!(choice.name, FALLBACK);
        assert!(choice.note.is_some(), "fell back without saying why");
    }
    if let Some(note) = &choice.note {
        assert_printable("a file name note", note);
    }
    for candidate in [Some(header), raw.as_deref()].into_iter().flatten() {
        match sanitize_file_name(candidate) {
            Ok(clean) => {
                assert!(is_safe_file_name(&clean), "sanitised {candidate:?} to unsafe {clean:?}");
                stays_in_folder(&clean);
            }
            Err(why) => assert_printable("a refusal reason", &why),
        }
    }
    if is_safe_file_name(header) {
        stays_in_folder(header);
        for value in [
            format!("attachment; filename*=UTF-8''{}", percent_encode(header)),
            format!("attachment; filename=\"x.zip\"; filename*=utf-8'en'{}", percent_encode(header)),
            format!("attachment; filename=\"{header}\""),
        ] {
            let c = choose_file_name(Some(&value), FALLBACK);
            assert_eq!((c.name.as_str(), c.from_server), (header, true), "from {value:?}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// response
// ---------------------------------------------------------------------------------------------

const GUID: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";
/// 2026-11-25T14:41:35Z, for HTTP-date Retry-After values.
const NOW_MS: u64 = 1_795_617_695_000;

/// Reads an input as an HTTP answer: the status on the first line, `Name: value` lines, a blank
/// line, the body (a readable form that seeds and libFuzzer's mutations both handle well).
fn parse_answer(data: &[u8]) -> (ResponseHead, &[u8]) {
    let (head, body) = match data.windows(2).position(|w| w == b"\n\n") {
        Some(i) => (&data[..i], &data[i + 2..]),
        None => (data, &data[data.len()..]),
    };
    let head = String::from_utf8_lossy(head);
    let mut lines = head.split('\n');
    let status = lines.next().unwrap_or("").trim().parse::<u32>().map_or(0, |s| s as u16);
    let mut h = ResponseHead::new(status);
    for line in lines {
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        h = h.with_header(name.trim(), value.trim_start());
    }
    (h, body)
}

/// Classification of the MES's answers: total; a 200 is never "pending" and never "retry";
/// each status gets its error kind; a started job's GUID is canonical; errors of a GET carry
/// its GUID; messages are printable; a ready download's name is safe or the fallback.
pub fn response(data: &[u8]) {
    let (head, body) = parse_answer(data);
    let status = head.status;

    match classify_start(&head, body, "MESCDM", NOW_MS) {
        StartAnswer::Started { guid } => {
            assert!((200..=202).contains(&status), "{status} started a backup");
            assert_eq!(
                mesbackup_core::mes::parse_guid_body(guid.as_bytes()).as_deref(),
                Ok(guid.as_str()),
                "GUID not canonical"
            );
        }
        StartAnswer::RetryLater { reason, .. } => {
            assert!(matches!(status, 429 | 503), "{status} is 'retry later' for a POST");
            assert_printable("a retry reason", &reason);
        }
        StartAnswer::Failed(e) => {
            let expected = match status {
                400 => ErrorKind::InvalidDatabase,
                401 => ErrorKind::Unauthorized,
                403 => ErrorKind::Forbidden,
                500..=599 => ErrorKind::ServerError,
                _ => ErrorKind::UnexpectedResponse,
            };
            assert_eq!(e.kind, expected, "POST answered {status}");
            assert!(!e.message.is_empty());
            assert_printable("a start error", &e.message);
        }
    }

    match classify_get(&head, body, GUID, NOW_MS) {
        GetAnswer::Pending { .. } => {
            assert!(matches!(status, 202 | 204), "{status} classified as pending");
        }
        GetAnswer::RetryLater { reason, .. } => {
            assert!(matches!(status, 429 | 502..=504), "{status} is 'retry later' for a GET");
            assert_printable("a retry reason", &reason);
        }
        GetAnswer::Ready(_) => panic!("classify_get answered Ready to {status}"),
        GetAnswer::Failed(e) => {
            assert!(!matches!(status, 202 | 204 | 429 | 502..=504), "{status} failed a GET");
            assert_eq!(e.guid.as_deref(), Some(GUID), "the error lost the GUID");
            let expected = match status {
                400 | 410 => ErrorKind::BackupNotFound,
                401 => ErrorKind::Unauthorized,
                403 => ErrorKind::Forbidden,
                500..=599 => ErrorKind::ServerError,
                _ => ErrorKind::UnexpectedResponse,
            };
            assert_eq!(e.kind, expected, "GET answered {status}");
            assert_printable("a GET error", &e.message);
        }
    }

    let ready = classify_ready(&head, FALLBACK);
    if ready.name_from_server {
        assert!(is_safe_file_name(&ready.file_name), "unsafe download name {:?}", ready.file_name);
        stays_in_folder(&ready.file_name);
    } else {
        assert_eq!(ready.file_name, FALLBACK);
    }
    assert_eq!(ready.content_length, head.content_length());
    if let Some(note) = &ready.name_note {
        assert_printable("a download name note", note);
    }
}

// ---------------------------------------------------------------------------------------------
// naming
// ---------------------------------------------------------------------------------------------

fn check_package_name(name: &str) {
    match parse_package_name(name) {
        Ok(p) => assert_eq!(p.file_name(), name, "accepted a non-canonical name"),
        Err(m) => {
            assert!(!m.message.is_empty());
            assert_printable("a near-miss message", &m.message);
            if let Some(expected) = &m.expected {
                assert_ne!(expected, name, "suggests the name itself");
                let p = parse_package_name(expected)
                    .unwrap_or_else(|e| panic!("suggested {expected:?} for {name:?} does not parse: {e}"));
                assert_eq!(&p.file_name(), expected);
            }
        }
    }
    if let Ok((system, kind)) = parse_database_name(name, None) {
        assert_eq!(database_name(&system, kind), name, "database name split wrongly");
    }
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_";

#[derive(Arbitrary, Debug)]
enum Edit {
    Insert(u16, char),
    Remove(u16),
    Replace(u16, char),
    FlipCase(u16),
    Append(String),
    Prepend(String),
}

#[derive(Arbitrary, Debug)]
struct BuiltName {
    system: Option<(u8, Vec<u8>)>,
    kind: u8,
    version: (u32, u32, Option<u32>, Option<u32>),
    edits: Vec<Edit>,
}

impl BuiltName {
    fn parts(&self) -> (Option<String>, DatabaseKind, String) {
        let system = self.system.as_ref().map(|(first, rest)| {
            let mut s = String::from(ALNUM[usize::from(*first) % 52] as char);
            s.extend(rest.iter().take(63).map(|&b| ALNUM[usize::from(b) % ALNUM.len()] as char));
            s
        });
        let kind = DatabaseKind::ALL[usize::from(self.kind) % 4];
        let (a, b, c, d) = self.version;
        let version = [Some(a), Some(b), c, d]
            .into_iter()
            .flatten()
            .map(|n| (n % 1_000_000_000).to_string())
            .collect::<Vec<_>>()
            .join(".");
        (system, kind, version)
    }
}

fn edit(name: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = name.chars().collect();
    for e in edits {
        let at = |i: u16, len: usize| usize::from(i) % len.max(1);
        match e {
            Edit::Insert(i, c) => chars.insert(at(*i, chars.len() + 1), *c),
            Edit::Remove(i) if !chars.is_empty() => {
                chars.remove(at(*i, chars.len()));
            }
            Edit::Replace(i, c) if !chars.is_empty() => {
                let i = at(*i, chars.len());
                chars[i] = *c;
            }
            Edit::FlipCase(i) if !chars.is_empty() => {
                let i = at(*i, chars.len());
                let c = chars[i];
                chars[i] = if c.is_ascii_uppercase() { c.to_ascii_lowercase() } else { c.to_ascii_uppercase() };
            }
            Edit::Append(s) => chars.extend(s.chars()),
            Edit::Prepend(s) => chars.splice(0..0, s.chars()).for_each(drop),
            _ => {}
        }
    }
    chars.into_iter().collect()
}

/// Package and database names, and the installer-folder check: every name parses or gets a
/// printable explanation whose suggested name parses; a name built by `naming` parses back to
/// the same system, kind and version (and with edits, still behaves); a folder report is sound.
pub fn naming(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let listing: Vec<&str> = text.split('\n').take(64).collect();
    for name in &listing {
        check_package_name(name);
    }
    let report = check_folder(&listing, "MES", "11.3.0").expect("MES and 11.3.0 are valid");
    assert_eq!(report.kinds.len(), 4);
    for k in &report.kinds {
        match &k.chosen {
            Some(chosen) => {
                assert!(k.expected_names.contains(chosen), "chose {chosen:?} for {:?}", k.kind);
                assert!(listing.contains(&chosen.as_str()), "chose a file not in the folder");
                assert!(!report.missing.contains(&k.kind));
            }
            None => assert!(report.missing.contains(&k.kind)),
        }
    }
    for n in &report.near_misses {
        assert_printable("a near-miss message", &n.message);
        if let Some(e) = &n.expected {
            assert!(parse_package_name(e).is_ok(), "suggested {e:?} does not parse");
        }
    }
    for i in &report.ignored {
        assert_printable("an ignored-file message", &i.message);
    }

    if let Ok(built) = BuiltName::arbitrary_take_rest(Unstructured::new(data)) {
        let (system, kind, version) = built.parts();
        let name = installer_package_name(kind, &version, system.as_deref())
            .unwrap_or_else(|e| panic!("{system:?} {kind} {version:?} refused: {e}"));
        let parsed = parse_package_name(&name).unwrap_or_else(|e| panic!("built {name:?} does not parse: {e}"));
        assert_eq!(parsed, PackageName { system: system.clone(), kind, version });
        if let Some(system) = &system {
            let db = database_name(system, kind);
            assert_eq!(parse_database_name(&db, Some(system)).map_err(|e| e.message), Ok((system.clone(), kind)));
        }
        check_package_name(&edit(&name, &built.edits));
    }
}

// ---------------------------------------------------------------------------------------------
// entry_path
// ---------------------------------------------------------------------------------------------

/// `path` joined under a folder stays under it: only plain components are added, one per
/// component of the path, and nothing replaces or climbs out of the folder.
fn stays_below(path: &str) {
    let folder = Path::new("/srv/restore/extract");
    let joined = folder.join(path);
    let added =
        joined.strip_prefix(folder).unwrap_or_else(|_| panic!("{path:?} joined under {folder:?} gives {joined:?}"));
    let parts = entry_components(path).expect("only accepted paths are joined");
    let added: Vec<Component> = added.components().collect();
    assert_eq!(added.len(), parts.len(), "{path:?} adds {added:?}");
    for (c, part) in added.iter().zip(&parts) {
        assert!(
            matches!(c, Component::Normal(n) if *n == std::ffi::OsStr::new(part)),
            "{path:?}: component {part:?} became {c:?}"
        );
    }
}

/// The entry-path rule (`core::entry_path`): a path it accepts, joined under a folder, never
/// leaves that folder; it accepts a path exactly when it accepts each component (so a path that
/// passes keeps passing once a backup root is stripped from it); its components are the path's.
pub fn entry_path(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for path in std::iter::once(text.as_ref()).chain(text.split('\n').take(16)) {
        let result = entry_components(path);
        assert_eq!(check_entry_path(path), result.as_ref().map(|_| ()).map_err(|e| *e));
        let body = path.strip_suffix('/').unwrap_or(path);
        let each = !path.is_empty()
            && !path.starts_with('/')
            && body.split('/').all(|c| !c.is_empty() && check_entry_path(c).is_ok());
        assert_eq!(result.is_ok(), each, "{path:?}: the whole and its components disagree");
        let Ok(parts) = result else { continue };
        assert_eq!(parts.join("/"), body, "components of {path:?}");
        for part in &parts {
            assert!(!part.is_empty() && *part != "." && *part != "..", "{path:?}: {part:?}");
            assert!(!part.contains(['/', '\\', ':']), "{path:?}: {part:?} has a separator");
            assert!(!part.chars().any(char::is_control), "{path:?}: {part:?} has a control character");
        }
        stays_below(path);
        // A root stripped from an accepted entry leaves an accepted path (issue 13: `R//etc/x`).
        for (i, _) in body.match_indices('/') {
            let rest = &path[i + 1..];
            assert_eq!(check_entry_path(rest), Ok(()), "{path:?} accepted, {rest:?} below its root refused");
            stays_below(rest);
        }
    }
}
