//! `verify-bench PACKAGE [--expected-sha256 HEX] [--no-sha256] [--chunk BYTES]`
//!
//! Verifies one package in a single streaming pass with mesbackup-core's `Verifier` (zip CRC-32 of
//! every entry, the ClickHouse `.backup` manifest's sizes and chained CityHash128 checksums, every
//! part's `checksums.txt`, and SHA-256 of the whole file), reading the file in chunks, and prints
//! one line: `seconds bytes MB/s ok problems sha256`. `bench/verify.sh` compares it with
//! `sha256sum` followed by `unzip -t` on the same file.

use std::io::Read;
use std::time::Instant;

use mesbackup_core::package::{Verifier, VerifyOptions};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut path = None;
    let mut expected = None;
    let mut sha = true;
    let mut chunk = 1 << 20;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--expected-sha256" => {
                i += 1;
                expected = args.get(i).cloned();
            }
            "--no-sha256" => sha = false,
            "--chunk" => {
                i += 1;
                chunk = args.get(i).and_then(|s| s.parse().ok()).expect("--chunk BYTES");
            }
            p => path = Some(p.to_owned()),
        }
        i += 1;
    }
    let path = path.expect("usage: verify-bench PACKAGE [--expected-sha256 HEX] [--no-sha256] [--chunk BYTES]");
    let start = Instant::now();
    let mut file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut v = Verifier::with_options(VerifyOptions { sha256: sha, expected_sha256: expected }).expect("options");
    let mut buf = vec![0u8; chunk];
    loop {
        let n = file.read(&mut buf).expect("read");
        if n == 0 {
            break;
        }
        v.feed(&buf[..n]);
    }
    let report = v.finish();
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{secs:.3} {} {:.0} {} {} {}",
        report.bytes,
        report.bytes as f64 / secs / 1e6,
        report.ok(),
        report.problems.len(),
        report.sha256.as_deref().unwrap_or("-")
    );
    for p in report.problems.iter().take(5) {
        eprintln!("problem: {}", p.message());
    }
    if !report.ok() {
        std::process::exit(11);
    }
}
