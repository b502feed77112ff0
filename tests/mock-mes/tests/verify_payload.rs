//! The mock's generated package passes the same verifier as real ClickHouse backups
//! (core/tests/verify_packages.rs), and a flipped byte in it is named.

use mesbackup_core::package::Inspector;
use mesbackup_core::package::{Problem, Verifier, VerifyOptions};
use mock_mes::payload::Payload;

fn bytes_of(p: &Payload) -> Vec<u8> {
    let mut v = Vec::new();
    p.write_to(&mut v).unwrap();
    v
}

#[test]
fn generated_payloads_verify_ok() {
    for (db, size, seed) in [("MESCDM", 0, 1), ("MESODS", 300_000, 2), ("MESDWH", 1 << 20, 3), ("MES", 5 << 20, 4)] {
        let p = Payload::new(db, size, seed).unwrap();
        let mut v = Verifier::with_options(VerifyOptions { sha256: true, expected_sha256: None }).unwrap();
        for chunk in p.stream() {
            v.feed(&chunk);
        }
        let (r, ins) = v.finish_with_inspection();
        assert!(r.ok(), "{db} {size}: {:#?}", r.problems);
        assert_eq!(r.bytes, p.len());
        assert_eq!(r.entries as usize, p.entries().len());
        assert_eq!(r.backup_root.as_deref(), Some(""));
        assert_eq!(r.parts_checked, 3, "{db}: the mock's checksums.txt (NONE-compressed block) decoded");
        assert_eq!(r.part_files_checked, 15);
        assert_eq!(r.files_checked as usize, p.entries().len() - 1);
        assert_eq!(ins.databases.len(), 1);
        assert_eq!(ins.databases[0].name, db);
        assert_eq!(ins.tables, 3);
        assert_eq!(ins.parts, 3);
        assert!(ins.rows > 0);
        assert_eq!(ins.storage_policies, vec!["default".to_owned()]);
        for t in &ins.databases[0].tables {
            assert!(t.engine_name.as_deref().unwrap().ends_with("MergeTree"), "{t:?}");
            assert!(t.order_by.is_some() && t.parts == 1 && t.rows > 0, "{t:?}");
        }
    }
}

#[test]
fn byte_at_a_time_gives_the_same_report() {
    let p = Payload::new("MESCDM", 40_000, 7).unwrap();
    let zip = bytes_of(&p);
    let mut whole = Verifier::new();
    whole.feed(&zip);
    let whole = whole.finish();
    let mut bytewise = Verifier::new();
    for b in &zip {
        bytewise.feed(std::slice::from_ref(b));
    }
    assert_eq!(bytewise.finish(), whole);
    assert!(whole.ok());
    let mut i = Inspector::new();
    i.feed(&zip);
    assert_eq!(i.finish().tables, 3);
}

#[test]
fn a_flipped_byte_in_the_payload_is_named() {
    let p = Payload::new("MESODS", 200_000, 5).unwrap();
    let mut zip = bytes_of(&p);
    // The first table's data.bin is the largest entry: flip a byte in its middle.
    let (name, _) = p.entries().into_iter().max_by_key(|(_, s)| *s).unwrap();
    let at = zip.windows(name.len()).position(|w| w == name.as_bytes()).unwrap() + name.len() + 1000;
    zip[at] ^= 0x10;
    let mut v = Verifier::new();
    v.feed(&zip);
    let r = v.finish();
    assert!(!r.ok());
    assert!(
        r.problems.iter().any(|p| matches!(p, Problem::ChecksumMismatch { file, .. } if *file == name)),
        "{:#?}",
        r.problems
    );
    assert!(
        r.problems.iter().any(|p| matches!(p, Problem::CrcMismatch { entry, .. } if *entry == name)),
        "{:#?}",
        r.problems
    );
    assert!(
        r.problems.iter().any(|p| matches!(p, Problem::PartChecksumMismatch { file, .. } if *file == name)),
        "{:#?}",
        r.problems
    );
    assert!(r.to_error().unwrap().message.contains(&name));
}
