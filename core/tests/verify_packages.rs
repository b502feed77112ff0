//! Verify and inspect real ClickHouse 26.9 backups (tests/fixtures/clickhouse, made by chdb), and
//! variants of them rebuilt with every zip layout the streaming reader must handle.

use std::collections::BTreeMap;
use std::path::PathBuf;

use mesbackup_core::package::PathFault;
use mesbackup_core::package::{verify_bytes, Problem, Verifier, VerifyOptions, VerifyReport};
use mesbackup_core::package::{EntryEnd, EntryHeader, ZipProblem, ZipStream, ZipVisitor};
use mesbackup_core::package::{Inspection, Inspector};
use mesbackup_core::ErrorKind;
use proptest::prelude::*;
use serde_json::Value;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/clickhouse")
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixtures().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn expected() -> Value {
    serde_json::from_slice(&fixture("expected.json")).unwrap()
}

fn verify_chunked(zip: &[u8], chunk: usize) -> VerifyReport {
    let mut v = Verifier::with_options(VerifyOptions { sha256: true, expected_sha256: None }).unwrap();
    for c in zip.chunks(chunk.max(1)) {
        v.feed(c);
    }
    v.finish()
}

fn verify(zip: &[u8]) -> VerifyReport {
    verify_chunked(zip, zip.len().max(1))
}

/// Every entry of a zip, read with our own reader (which these tests also check).
#[derive(Default)]
struct Collect {
    entries: Vec<(String, Vec<u8>)>,
    ends: Vec<EntryEnd>,
    problems: Vec<ZipProblem>,
}

impl ZipVisitor for Collect {
    fn entry_start(&mut self, h: &EntryHeader) {
        self.entries.push((h.name.clone(), Vec::new()));
    }
    fn entry_data(&mut self, d: &[u8]) {
        self.entries.last_mut().unwrap().1.extend_from_slice(d);
    }
    fn entry_end(&mut self, e: &EntryEnd) {
        self.ends.push(e.clone());
    }
    fn problem(&mut self, p: ZipProblem) {
        self.problems.push(p);
    }
}

fn read_entries(zip: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut c = Collect::default();
    let mut z = ZipStream::new();
    z.feed(zip, &mut c);
    let s = z.finish(&mut c);
    assert!(s.complete && c.problems.is_empty(), "{:?}", c.problems);
    c.entries
}

#[derive(Clone, Copy, Debug)]
struct Layout {
    deflate: bool,
    descriptor: bool,
    signature: bool,
    zip64: bool,
}

/// A small zip writer for the variants (APPNOTE 6.3): local headers, optional data descriptors
/// (with or without signature), optional zip64 extras and end records.
fn write_zip(entries: &[(String, Vec<u8>)], l: Layout) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    let le16 = |v: &mut Vec<u8>, x: u16| v.extend_from_slice(&x.to_le_bytes());
    let le32 = |v: &mut Vec<u8>, x: u32| v.extend_from_slice(&x.to_le_bytes());
    let le64 = |v: &mut Vec<u8>, x: u64| v.extend_from_slice(&x.to_le_bytes());
    for (name, data) in entries {
        let crc = crc32fast::hash(data);
        let body = if l.deflate { miniz_oxide::deflate::compress_to_vec(data, 6) } else { data.clone() };
        let method: u16 = if l.deflate { 8 } else { 0 };
        let flags: u16 = if l.descriptor { 8 } else { 0 };
        let offset = out.len() as u64;
        le32(&mut out, 0x0403_4b50);
        le16(&mut out, 45);
        le16(&mut out, flags);
        le16(&mut out, method);
        le32(&mut out, 0);
        let (hcrc, hc, hu) = if l.descriptor { (0, 0, 0) } else { (crc, body.len() as u64, data.len() as u64) };
        le32(&mut out, hcrc);
        if l.zip64 {
            le32(&mut out, 0xFFFF_FFFF);
            le32(&mut out, 0xFFFF_FFFF);
        } else {
            le32(&mut out, hc as u32);
            le32(&mut out, hu as u32);
        }
        le16(&mut out, name.len() as u16);
        le16(&mut out, if l.zip64 { 20 } else { 0 });
        out.extend_from_slice(name.as_bytes());
        if l.zip64 {
            le16(&mut out, 1);
            le16(&mut out, 16);
            le64(&mut out, hu);
            le64(&mut out, hc);
        }
        out.extend_from_slice(&body);
        if l.descriptor {
            if l.signature {
                le32(&mut out, 0x0807_4b50);
            }
            le32(&mut out, crc);
            if l.zip64 {
                le64(&mut out, body.len() as u64);
                le64(&mut out, data.len() as u64);
            } else {
                le32(&mut out, body.len() as u32);
                le32(&mut out, data.len() as u32);
            }
        }
        le32(&mut central, 0x0201_4b50);
        le16(&mut central, 45);
        le16(&mut central, 45);
        le16(&mut central, flags);
        le16(&mut central, method);
        le32(&mut central, 0);
        le32(&mut central, crc);
        if l.zip64 {
            le32(&mut central, 0xFFFF_FFFF);
            le32(&mut central, 0xFFFF_FFFF);
        } else {
            le32(&mut central, body.len() as u32);
            le32(&mut central, data.len() as u32);
        }
        le16(&mut central, name.len() as u16);
        le16(&mut central, if l.zip64 { 28 } else { 0 });
        le16(&mut central, 0);
        le16(&mut central, 0);
        le16(&mut central, 0);
        le32(&mut central, 0);
        le32(&mut central, if l.zip64 { 0xFFFF_FFFF } else { offset as u32 });
        central.extend_from_slice(name.as_bytes());
        if l.zip64 {
            le16(&mut central, 1);
            le16(&mut central, 24);
            le64(&mut central, data.len() as u64);
            le64(&mut central, body.len() as u64);
            le64(&mut central, offset);
        }
    }
    let cd_offset = out.len() as u64;
    out.extend_from_slice(&central);
    let n = entries.len() as u64;
    if l.zip64 {
        let z64 = out.len() as u64;
        le32(&mut out, 0x0606_4b50);
        le64(&mut out, 44);
        le16(&mut out, 45);
        le16(&mut out, 45);
        le32(&mut out, 0);
        le32(&mut out, 0);
        le64(&mut out, n);
        le64(&mut out, n);
        le64(&mut out, central.len() as u64);
        le64(&mut out, cd_offset);
        le32(&mut out, 0x0706_4b50);
        le32(&mut out, 0);
        le64(&mut out, z64);
        le32(&mut out, 1);
    }
    le32(&mut out, 0x0605_4b50);
    le32(&mut out, 0);
    le16(&mut out, if l.zip64 { 0xFFFF } else { n as u16 });
    le16(&mut out, if l.zip64 { 0xFFFF } else { n as u16 });
    le32(&mut out, central.len() as u32);
    le32(&mut out, if l.zip64 { 0xFFFF_FFFF } else { cd_offset as u32 });
    le16(&mut out, 0);
    out
}

fn all_layouts() -> Vec<Layout> {
    let mut v = Vec::new();
    for deflate in [false, true] {
        for (descriptor, signature) in [(false, false), (true, true), (true, false)] {
            for zip64 in [false, true] {
                v.push(Layout { deflate, descriptor, signature, zip64 });
            }
        }
    }
    v
}

fn kinds(r: &VerifyReport) -> Vec<&'static str> {
    r.problems
        .iter()
        .map(|p| match p {
            Problem::CrcMismatch { .. } => "crc_mismatch",
            Problem::SizeMismatch { .. } => "size_mismatch",
            Problem::ChecksumMismatch { .. } => "checksum_mismatch",
            Problem::Missing { .. } => "missing",
            Problem::Unlisted { .. } => "unlisted",
            Problem::PartChecksumMismatch { .. } => "part_checksum_mismatch",
            Problem::BadPartChecksums { .. } => "bad_part_checksums",
            Problem::NoManifest => "no_manifest",
            Problem::BadManifest { .. } => "bad_manifest",
            Problem::Truncated { .. } => "truncated",
            Problem::Sha256Mismatch { .. } => "sha256_mismatch",
            Problem::UnsafeName { .. } => "unsafe_name",
            Problem::UnsafeManifestPath { .. } => "unsafe_manifest_path",
            Problem::SpecialEntry { .. } => "special_entry",
            Problem::NoChecksum { .. } => "no_checksum",
            Problem::DuplicateEntry { .. } => "duplicate_entry",
            Problem::Corrupt { .. } => "corrupt",
            Problem::CentralDirectoryMismatch { .. } => "central_directory_mismatch",
            Problem::Unsupported { .. } => "unsupported",
        })
        .collect()
}

const FIXTURES: [&str; 2] = ["mesfix_stored.zip", "mesfix_deflated.zip"];

#[test]
fn real_engine_fixtures_verify_ok() {
    let exp = expected();
    for name in FIXTURES {
        let zip = fixture(name);
        let r = verify(&zip);
        assert!(r.ok(), "{name}: {:#?}", r.problems);
        assert!(r.ok);
        assert_eq!(r.backup_root.as_deref(), exp["packages"][name]["backup_root"].as_str(), "{name}");
        let files = exp["backup_files"].as_u64().unwrap();
        assert_eq!(r.entries, files, "{name}");
        let m = r.manifest.as_ref().unwrap();
        assert_eq!(m.version.as_deref(), Some("1"));
        assert!(m.files > files, "{name}: deduplicated files are listed but not stored");
        assert!(r.files_checked >= files - 1);
        assert_eq!(r.parts_checked, 8, "{name}: every part's checksums.txt (ZSTD-compressed) decoded");
        assert!(r.part_files_checked > 50, "{name}: {}", r.part_files_checked);
        assert_eq!(r.sha256.as_ref().unwrap().len(), 64);
        assert!(r.to_error().is_none());
        // The serde shape front ends print.
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["ok"], true);
    }
}

#[test]
fn chunking_does_not_change_the_report() {
    for name in FIXTURES {
        let zip = fixture(name);
        let whole = verify(&zip);
        for chunk in [1, 2, 3, 7, 13, 64, 1000, 4096, 65536] {
            assert_eq!(verify_chunked(&zip, chunk), whole, "{name} in chunks of {chunk}");
        }
    }
}

fn check_inspection(ins: &Inspection, what: &str) {
    let exp = expected();
    let db = exp["database"].as_str().unwrap();
    assert_eq!(ins.databases.len(), 1, "{what}");
    assert_eq!(ins.databases[0].name, db);
    assert_eq!(ins.databases[0].engine.as_deref(), exp["engine"].as_str());
    let tables = exp["tables"].as_object().unwrap();
    assert_eq!(ins.tables as usize, tables.len(), "{what}");
    let mut total_rows = 0;
    for (name, t) in tables {
        let got = ins.table(db, name).unwrap_or_else(|| panic!("{what}: table {name}"));
        assert_eq!(got.engine_name.as_deref(), t["engine"].as_str(), "{what} {name}");
        if let Some(ob) = t["order_by"].as_str() {
            // system.tables.sorting_key has no parentheses.
            let o = got.order_by.as_deref().unwrap();
            assert_eq!(o.trim_start_matches('(').trim_end_matches(')'), ob, "{what} {name}");
        }
        if let Some(rows) = t["rows"].as_u64() {
            assert_eq!(got.rows, rows, "{what} {name} rows");
            assert_eq!(got.parts, t["parts"].as_u64().unwrap(), "{what} {name} parts");
            assert_eq!(got.required_policy.as_deref(), t["storage_policy"].as_str(), "{what} {name}");
            assert_eq!(got.bytes > 0, rows > 0, "{what} {name}");
            total_rows += rows;
        } else {
            assert_eq!(got.kind, "view");
            assert_eq!(got.required_policy, None);
        }
    }
    assert_eq!(ins.rows, total_rows);
    let explicit: Vec<&str> =
        exp["explicit_storage_policies"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    let rsh = ins.table(db, "ResourceStateHistory").unwrap();
    assert_eq!(rsh.storage_policy.as_deref(), Some(explicit[0]));
    assert_eq!(ins.table(db, "MaterialHistory").unwrap().storage_policy, None);
    assert_eq!(ins.storage_policies, vec!["default".to_owned()]);
    assert!(ins.disks.is_empty());
    assert!(ins.notes.is_empty(), "{what}: {:?}", ins.notes);
}

#[test]
fn inspect_matches_the_engine() {
    for name in FIXTURES {
        let zip = fixture(name);
        let mut i = Inspector::new();
        for c in zip.chunks(10_000) {
            i.feed(c);
        }
        check_inspection(&i.finish(), name);
        let mut v = Verifier::new();
        v.feed(&zip);
        let (r, ins) = v.finish_with_inspection();
        assert!(r.ok());
        check_inspection(&ins, name);
        serde_json::to_string(&ins).unwrap();
    }
}

#[test]
fn every_zip_layout_verifies() {
    let entries = read_entries(&fixture("mesfix_stored.zip"));
    for l in all_layouts() {
        let zip = write_zip(&entries, l);
        let r = verify(&zip);
        assert!(r.ok(), "{l:?}: {:#?}", r.problems);
        assert_eq!(read_entries(&zip), entries, "{l:?}");
        // Byte-at-a-time feeding finds the same ends of stored entries with descriptors.
        assert_eq!(verify_chunked(&zip, 1), r, "{l:?}");
    }
}

/// Data offset and length of a stored entry, through the central directory.
fn stored_entry_span(zip: &[u8], wanted: &str) -> (usize, usize) {
    let u16_at = |at: usize| u16::from_le_bytes([zip[at], zip[at + 1]]) as usize;
    let u32_at = |at: usize| u32::from_le_bytes(zip[at..at + 4].try_into().unwrap()) as usize;
    let end = zip.len() - 22;
    let (count, mut at) = (u16_at(end + 10), u32_at(end + 16));
    for _ in 0..count {
        let (size, nlen, elen, clen, local) =
            (u32_at(at + 20), u16_at(at + 28), u16_at(at + 30), u16_at(at + 32), u32_at(at + 42));
        if &zip[at + 46..at + 46 + nlen] == wanted.as_bytes() {
            return (local + 30 + u16_at(local + 26) + u16_at(local + 28), size);
        }
        at += 46 + nlen + elen + clen;
    }
    panic!("{wanted} not in zip");
}

#[test]
fn a_flipped_byte_is_named() {
    let zip = fixture("mesfix_stored.zip");
    let file = "MESFIX_backup/data/MESFIX/MaterialHistory/all_2_2_0/data.bin";
    let (at, len) = stored_entry_span(&zip, file);
    let mut bad = zip.clone();
    bad[at + len / 2] ^= 0x01;
    let r = verify(&bad);
    assert!(!r.ok());
    let k = kinds(&r);
    assert!(
        k.contains(&"crc_mismatch") && k.contains(&"checksum_mismatch") && k.contains(&"part_checksum_mismatch"),
        "{:#?}",
        r.problems
    );
    for p in &r.problems {
        let m = p.message();
        assert!(m.contains(file), "{m}");
        assert_eq!(p.to_error().kind, ErrorKind::Integrity);
    }
    assert!(matches!(&r.problems[..], [Problem::CrcMismatch { entry, .. }, ..] if entry == file));
    let err = r.to_error().unwrap();
    assert_eq!(err.kind, ErrorKind::Integrity);
    assert!(err.message.contains(file), "{}", err.message);
    assert_eq!(verify_chunked(&bad, 1), r);

    // The same flip inside a deflated package (re-zipped): the CRC and the checksums catch it.
    let mut entries = read_entries(&zip);
    let e = entries.iter_mut().find(|(n, _)| n == file).unwrap();
    e.1[10] ^= 0x80;
    for l in all_layouts() {
        let r = verify(&write_zip(&entries, l));
        let k = kinds(&r);
        assert!(k.contains(&"checksum_mismatch") && k.contains(&"part_checksum_mismatch"), "{l:?}: {:#?}", r.problems);
        // Re-zipped after the flip, so the zip CRC is right: the ClickHouse checksums catch it.
        assert!(!k.contains(&"truncated") && !k.contains(&"crc_mismatch"), "{l:?}: {:#?}", r.problems);
        assert!(r.problems.iter().all(|p| p.message().contains(file)), "{l:?}: {:#?}", r.problems);
    }
}

#[test]
fn a_flipped_byte_in_a_stored_entry_with_descriptor_ends_in_place() {
    // The end of such an entry is found by its descriptor; a wrong CRC must not hide it.
    let entries = read_entries(&fixture("mesfix_stored.zip"));
    let file = "MESFIX_backup/data/MESFIX/MaterialHistory/all_1_1_0/data.bin";
    for l in all_layouts().into_iter().filter(|l| !l.deflate) {
        let mut zip = write_zip(&entries, l);
        let at = zip.windows(file.len()).position(|w| w == file.as_bytes()).unwrap()
            + file.len()
            + if l.zip64 { 20 } else { 0 };
        zip[at + 100] ^= 0x04;
        let r = verify(&zip);
        let k = kinds(&r);
        assert!(
            k.contains(&"crc_mismatch") && k.contains(&"checksum_mismatch") && k.contains(&"part_checksum_mismatch"),
            "{l:?}: {:#?}",
            r.problems
        );
        assert!(r.problems.iter().all(|p| p.message().contains(file)), "{l:?}: {:#?}", r.problems);
        assert_eq!(verify_chunked(&zip, 1), r, "{l:?}");
    }
}

#[test]
fn a_corrupt_part_checksums_txt_is_reported() {
    let zip = fixture("mesfix_stored.zip");
    let file = "MESFIX_backup/data/MESFIX/IoTEventData/202503_1_1_0/checksums.txt";
    let (at, len) = stored_entry_span(&zip, file);
    let mut bad = zip.clone();
    bad[at + len - 3] ^= 0x40;
    let r = verify(&bad);
    let k = kinds(&r);
    assert!(k.contains(&"bad_part_checksums") && k.contains(&"checksum_mismatch"), "{:#?}", r.problems);
}

#[test]
fn truncation_is_reported() {
    for name in FIXTURES {
        let zip = fixture(name);
        for cut in [0, 1, 3, 30, 100, zip.len() / 3, zip.len() / 2, zip.len() - 200, zip.len() - 23, zip.len() - 1] {
            let r = verify(&zip[..cut]);
            assert!(kinds(&r).contains(&"truncated"), "{name} cut at {cut}: {:#?}", r.problems);
            assert!(!r.ok());
            assert_eq!(r.to_error().unwrap().kind, ErrorKind::Integrity);
        }
    }
}

#[test]
fn missing_and_unlisted_files_are_named() {
    let mut entries = read_entries(&fixture("mesfix_stored.zip"));
    let gone = "MESFIX_backup/data/MESFIX/ResourceStateHistory/all_1_1_1/primary.cidx";
    entries.retain(|(n, _)| n != gone);
    let extra = "MESFIX_backup/data/MESFIX/ResourceStateHistory/all_1_1_1/stray.bin";
    entries.insert(3, (extra.to_owned(), b"hello".to_vec()));
    for l in [all_layouts()[0], all_layouts()[9]] {
        let r = verify(&write_zip(&entries, l));
        assert_eq!(
            r.problems,
            vec![Problem::Missing { file: gone.to_owned() }, Problem::Unlisted { file: extra.to_owned() }],
            "{l:?}"
        );
    }
    // A dedup target (data_file) missing: the listed file that points to it is named.
    let mut entries = read_entries(&fixture("mesfix_stored.zip"));
    let target = "MESFIX_backup/data/MESFIX/IoTEventData/202503_1_1_0/Data.size.cmrk2";
    entries.retain(|(n, _)| n != target);
    let r = verify(&write_zip(&entries, all_layouts()[0]));
    assert!(r.problems.iter().any(|p| matches!(p, Problem::Missing { file } if file.contains("EventTime.cmrk2 (stored as data/MESFIX/IoTEventData/202503_1_1_0/Data.size.cmrk2)"))), "{:#?}", r.problems);
}

#[test]
fn no_manifest_unsafe_names_and_sha256() {
    let mut entries = read_entries(&fixture("mesfix_stored.zip"));
    entries.retain(|(n, _)| !n.ends_with(".backup"));
    entries.push(("../evil.sh".to_owned(), b"rm -rf /".to_vec()));
    let r = verify(&write_zip(&entries, all_layouts()[0]));
    assert!(kinds(&r).contains(&"no_manifest") && kinds(&r).contains(&"unsafe_name"), "{:#?}", r.problems);

    let zip = fixture("mesfix_deflated.zip");
    let good = verify(&zip).sha256.unwrap();
    let r = verify_bytes(&zip, VerifyOptions { sha256: false, expected_sha256: Some(good.to_uppercase()) }).unwrap();
    assert!(r.ok(), "{:#?}", r.problems);
    let wrong = format!("{}0", &good[..63]);
    let wrong = if wrong == good { format!("{}1", &good[..63]) } else { wrong };
    let r = verify_bytes(&zip, VerifyOptions { sha256: false, expected_sha256: Some(wrong.clone()) }).unwrap();
    assert_eq!(r.problems, vec![Problem::Sha256Mismatch { expected: wrong, actual: good }]);
    assert!(verify_bytes(&zip, VerifyOptions { sha256: false, expected_sha256: Some("xyz".into()) }).is_err());
}

#[test]
fn garbage_and_empty_input() {
    for input in
        [&b""[..], b"<html>502 Bad Gateway</html>", b"PK\x03\x04", b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"]
    {
        let r = verify(input);
        assert!(!r.ok(), "{input:?}");
    }
}

fn mutate(zip: &[u8], flips: &[(usize, u8)], cut: Option<usize>) -> Vec<u8> {
    let mut z = zip.to_vec();
    for &(at, x) in flips {
        let i = at % z.len();
        z[i] ^= x;
    }
    if let Some(c) = cut {
        z.truncate(c % (z.len() + 1));
    }
    z
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..4096), chunk in 1usize..300) {
        let r = verify_chunked(&data, chunk);
        prop_assert!(!r.ok());
        let mut prefixed = b"PK\x03\x04".to_vec();
        prefixed.extend_from_slice(&data);
        verify_chunked(&prefixed, chunk);
    }

    #[test]
    fn mutated_packages_never_panic(
        which in 0usize..4,
        flips in proptest::collection::vec((any::<usize>(), 1u8..=255), 0..8),
        cut in proptest::option::of(any::<usize>()),
        chunk in 1usize..5000,
    ) {
        thread_local! {
            static ZIPS: Vec<Vec<u8>> = {
                let stored = fixture("mesfix_stored.zip");
                let entries = read_entries(&stored);
                vec![
                    stored,
                    fixture("mesfix_deflated.zip"),
                    write_zip(&entries, Layout { deflate: false, descriptor: true, signature: false, zip64: true }),
                    write_zip(&entries, Layout { deflate: true, descriptor: true, signature: false, zip64: false }),
                ]
            };
        }
        let zip = ZIPS.with(|z| z[which].clone());
        let bad = mutate(&zip, &flips, cut);
        let r = verify_chunked(&bad, chunk);
        if bad != zip {
            // Most mutations are caught; a flip in an unchecked field (a timestamp, a version)
            // may not be, but nothing may panic and a reported problem must have a message.
            for p in &r.problems {
                prop_assert!(!p.message().is_empty());
            }
        } else {
            prop_assert!(r.ok());
        }
    }
}

#[test]
fn reader_events_match_the_central_directory() {
    let zip = fixture("mesfix_deflated.zip");
    let mut c = Collect::default();
    let mut z = ZipStream::new();
    for piece in zip.chunks(333) {
        z.feed(piece, &mut c);
    }
    let s = z.finish(&mut c);
    assert!(s.complete && !s.failed);
    assert_eq!(s.entries, s.central_entries);
    assert!(c.ends.iter().all(|e| e.crc_ok && e.compressed_size > 0));
    let sizes: BTreeMap<_, _> = c.ends.iter().map(|e| (e.name.clone(), e.size)).collect();
    assert_eq!(sizes.len(), c.entries.len());
}

/// Sets the central-directory external attributes of `entry` (a Unix mode in the high 16 bits),
/// and says the entry was made on Unix.
fn mark_central(zip: &mut [u8], entry: &str, unix_mode: u32) {
    let name = entry.as_bytes();
    let mut i = 0;
    while i + 46 <= zip.len() {
        if zip[i..i + 4] == 0x0201_4b50u32.to_le_bytes() {
            let n = u16::from_le_bytes([zip[i + 28], zip[i + 29]]) as usize;
            if zip.get(i + 46..i + 46 + n) == Some(name) {
                zip[i + 5] = 3;
                zip[i + 38..i + 42].copy_from_slice(&(unix_mode << 16).to_le_bytes());
                return;
            }
        }
        i += 1;
    }
    panic!("{entry} not in the central directory");
}

#[test]
fn entries_that_would_escape_or_go_unproven_are_problems() {
    let base = read_entries(&fixture("mesfix_stored.zip"));
    let manifest_name = "MESFIX_backup/.backup";
    let manifest = String::from_utf8(base.iter().find(|(n, _)| n == manifest_name).unwrap().1.clone()).unwrap();
    // The attack that motivated the rule: an entry whose path, once the root is stripped, is
    // absolute, listed in the manifest by name and size only.
    let cases: &[(&str, &str, &str)] = &[
        ("MESFIX_backup//tmp/x", "/tmp/x", "unsafe_name"),
        ("MESFIX_backup/..\\x", "..\\x", "unsafe_name"),
        ("MESFIX_backup/C:/x", "C:/x", "unsafe_name"),
        ("MESFIX_backup/data/AUX", "data/AUX", "unsafe_name"),
        ("MESFIX_backup/data/unproven.bin", "data/unproven.bin", "no_checksum"),
    ];
    for (entry, listed, kind) in cases {
        let mut entries = base.clone();
        let text =
            manifest.replace("</contents>", &format!("<file><name>{listed}</name><size>5</size></file></contents>"));
        for (n, d) in entries.iter_mut() {
            if n == manifest_name {
                *d = text.clone().into_bytes();
            }
        }
        entries.push((entry.to_string(), b"pwned".to_vec()));
        for layout in all_layouts() {
            let r = verify(&write_zip(&entries, layout));
            assert!(!r.ok(), "{entry} {layout:?}");
            assert!(kinds(&r).contains(kind), "{entry} {layout:?}: {:#?}", r.problems);
        }
    }
    // A manifest name that climbs out, without any entry.
    let mut entries = base.clone();
    let text = manifest.replace("</contents>", "<file><name>../../etc/passwd</name><size>5</size><checksum>00000000000000000000000000000001</checksum></file></contents>");
    for (n, d) in entries.iter_mut() {
        if n == manifest_name {
            *d = text.clone().into_bytes();
        }
    }
    let r = verify(&write_zip(&entries, all_layouts()[0]));
    assert!(kinds(&r).contains(&"unsafe_manifest_path"), "{:#?}", r.problems);
    assert!(r
        .problems
        .iter()
        .any(|p| matches!(p, Problem::UnsafeManifestPath { reason: PathFault::ParentFolder, .. })));
}

#[test]
fn a_symbolic_link_entry_is_a_problem() {
    let mut entries = read_entries(&fixture("mesfix_stored.zip"));
    entries.push(("MESFIX_backup/data/link".to_owned(), b"/etc".to_vec()));
    let mut zip = write_zip(&entries, all_layouts()[0]);
    assert!(verify(&zip).problems.iter().all(|p| !matches!(p, Problem::SpecialEntry { .. })));
    mark_central(&mut zip, "MESFIX_backup/data/link", 0o120_777);
    let r = verify(&zip);
    assert!(
        r.problems.iter().any(|p| matches!(p, Problem::SpecialEntry { entry, detail } if entry == "MESFIX_backup/data/link" && detail == "symbolic link")),
        "{:#?}",
        r.problems
    );
}
