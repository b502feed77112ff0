//! The payload is a valid zip (read back here, and by Python's zipfile when python3 is there) whose
//! manifest and checksums.txt files agree with the files' contents.

use std::collections::HashMap;

use mesbackup_core::package::{chained_checksum, checksum_hex};
use mock_mes::payload::{Payload, MIN_SIZE};

/// Entries of a stored zip, read through its central directory.
fn read_zip(z: &[u8]) -> Vec<(String, Vec<u8>)> {
    let u16_at = |at: usize| u16::from_le_bytes([z[at], z[at + 1]]) as usize;
    let u32_at = |at: usize| u32::from_le_bytes(z[at..at + 4].try_into().unwrap()) as usize;
    let end = z.len() - 22;
    assert_eq!(u32_at(end), 0x0605_4b50, "end record");
    let (count, mut at) = (u16_at(end + 10), u32_at(end + 16));
    let mut out = Vec::new();
    for _ in 0..count {
        assert_eq!(u32_at(at), 0x0201_4b50, "central header");
        assert_eq!(u16_at(at + 8) & 0x8, 0x8, "flag bit 3");
        let (crc, size, name_len, local) = (u32_at(at + 16), u32_at(at + 24), u16_at(at + 28), u32_at(at + 42));
        let name = String::from_utf8(z[at + 46..at + 46 + name_len].to_vec()).unwrap();
        assert_eq!(u32_at(local), 0x0403_4b50, "local header");
        let data_at = local + 30 + u16_at(local + 26) + u16_at(local + 28);
        let data = z[data_at..data_at + size].to_vec();
        assert_eq!(crc32fast::hash(&data), crc as u32, "{name}");
        assert_eq!(u32_at(data_at + size), 0x0807_4b50, "data descriptor");
        out.push((name, data));
        at += 46 + name_len;
    }
    out
}

fn check(database: &str, size: u64, seed: u64) {
    let p = Payload::new(database, size, seed).unwrap();
    let mut zip = Vec::new();
    assert_eq!(p.write_to(&mut zip).unwrap(), size.max(MIN_SIZE));
    assert_eq!(zip.len() as u64, size.max(MIN_SIZE));
    let files = read_zip(&zip);
    assert_eq!(files.last().unwrap().0, ".backup", "manifest last");
    let by_name: HashMap<&str, &[u8]> = files.iter().map(|(n, d)| (n.as_str(), d.as_slice())).collect();

    // Every file but the manifest is in the manifest, with its size and checksum.
    let manifest = String::from_utf8(files.last().unwrap().1.clone()).unwrap();
    let listed: Vec<&str> = manifest.split("<file>").skip(1).collect();
    assert_eq!(listed.len(), files.len() - 1);
    let tag = |s: &str, t: &str| {
        s.split(&format!("<{t}>")).nth(1).map(|r| r.split(&format!("</{t}>")).next().unwrap().to_owned())
    };
    for entry in listed {
        let name = tag(entry, "name").unwrap();
        let data = by_name[name.as_str()];
        assert_eq!(tag(entry, "size").unwrap(), data.len().to_string(), "{name}");
        assert_eq!(tag(entry, "checksum").unwrap(), checksum_hex(chained_checksum(data)), "{name}");
    }

    // Each part's checksums.txt gives the same hashes (uncompressed block, low 64 bits first).
    for (name, data) in &files {
        let Some(part) = name.strip_suffix("/checksums.txt") else {
            continue;
        };
        let body = &data[b"checksums format version: 4\n".len() + 16 + 9..];
        let mut at = 1;
        let var = |at: &mut usize| {
            let (mut v, mut shift) = (0u64, 0);
            loop {
                let b = body[*at];
                *at += 1;
                v |= u64::from(b & 0x7f) << shift;
                shift += 7;
                if b & 0x80 == 0 {
                    return v;
                }
            }
        };
        for _ in 0..body[0] {
            let len = var(&mut at) as usize;
            let file = std::str::from_utf8(&body[at..at + len]).unwrap().to_owned();
            at += len;
            let fsize = var(&mut at);
            let low = u64::from_le_bytes(body[at..at + 8].try_into().unwrap());
            let high = u64::from_le_bytes(body[at + 8..at + 16].try_into().unwrap());
            at += 17;
            let content = by_name[format!("{part}/{file}").as_str()];
            assert_eq!(fsize, content.len() as u64);
            assert_eq!((u128::from(high) << 64) | u128::from(low), chained_checksum(content), "{part}/{file}");
        }
        assert_eq!(at, body.len());
    }

    python_testzip(&zip);
}

/// `zipfile.ZipFile(path).testzip()`; skipped (with a note) where python3 is missing.
fn python_testzip(zip: &[u8]) {
    let path = std::env::temp_dir().join(format!("mock-mes-payload-{}-{}.zip", std::process::id(), zip.len()));
    std::fs::write(&path, zip).unwrap();
    let out = std::process::Command::new("python3")
        .args(["-c", "import zipfile,sys; z=zipfile.ZipFile(sys.argv[1]); r=z.testzip(); assert r is None, r; print(len(z.namelist()))"])
        .arg(&path)
        .output();
    let _ = std::fs::remove_file(&path);
    match out {
        Ok(o) => assert!(o.status.success(), "python zipfile: {}", String::from_utf8_lossy(&o.stderr)),
        Err(e) => eprintln!("python3 not available ({e}): zipfile check skipped"),
    }
}

#[test]
fn small_payloads() {
    check("MESCDM", 65536, 1);
    check("MES", 0, 2);
    check("MESDWH", MIN_SIZE + 17, 3);
}

#[test]
fn ten_mib_payload() {
    check("MESODS", 10 << 20, 1);
}
