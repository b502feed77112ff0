//! The fuzz targets' bodies (fuzz/src/lib.rs) on stable, in every `./scripts/test`: over each
//! target's seed corpus (fuzz/corpus/<target>/), every crash input kept in
//! fuzz/regressions/<target>/, and a few hundred deterministic mutations of the seeds. The
//! fuzzing itself (nightly, libFuzzer) runs by hand: bench/fuzz.sh.

#[allow(dead_code)]
#[path = "../../fuzz/src/lib.rs"]
mod fuzz_bodies;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use fuzz_bodies::TARGETS;
use mesbackup_core::package::verify_bytes;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// The files of `dir` (none when it does not exist), sorted by name.
fn inputs(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries.map(|e| e.expect("readable folder").path()).filter(|p| p.is_file()).collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let data = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, data)
        })
        .collect()
}

fn seeds(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    inputs(&fuzz_dir().join("corpus").join(target))
}

/// Runs `body` on `data`; a panic becomes a line naming the input instead of ending the test.
fn run(body: fuzz_bodies::Body, data: &[u8], what: &str, failures: &mut Vec<String>) {
    if let Err(e) = catch_unwind(AssertUnwindSafe(|| body(data))) {
        let why = e
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        failures.push(format!("{what}: {why}"));
    }
}

#[test]
fn every_fuzz_target_has_a_body_and_a_seed_corpus() {
    let mut binaries: Vec<String> = std::fs::read_dir(fuzz_dir().join("fuzz_targets"))
        .expect("fuzz/fuzz_targets")
        .map(|e| e.unwrap().path())
        .filter_map(|p| Some(p.file_stem()?.to_str()?.to_owned()))
        .collect();
    binaries.sort();
    let mut bodies: Vec<String> = TARGETS.iter().map(|(n, _)| n.to_string()).collect();
    bodies.sort();
    assert_eq!(binaries, bodies, "fuzz_targets/*.rs and TARGETS in fuzz/src/lib.rs differ");
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).unwrap();
    for (name, _) in TARGETS {
        assert!(manifest.contains(&format!("name = \"{name}\"")), "no [[bin]] {name} in fuzz/Cargo.toml");
        assert!(!seeds(name).is_empty(), "fuzz/corpus/{name}/ is empty");
    }
}

#[test]
fn fuzz_targets_hold_on_their_seeds_and_regressions() {
    let mut failures = Vec::new();
    let mut count = 0;
    for (name, body) in TARGETS {
        let kept = inputs(&fuzz_dir().join("regressions").join(name));
        for (path, data) in seeds(name).into_iter().chain(kept) {
            count += 1;
            run(*body, &data, &path.display().to_string(), &mut failures);
        }
    }
    assert!(failures.is_empty(), "{} of {count} inputs fail:\n{}", failures.len(), failures.join("\n"));
    println!("{count} corpus and regression inputs hold");
}

/// A few cheap mutations per seed (byte flips, cuts, repeats), the same every run: not fuzzing,
/// but enough to catch a property broken by a change to the code or to the bodies.
#[test]
fn fuzz_targets_hold_on_mutated_seeds() {
    const PER_SEED: usize = 60;
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    };
    let mut failures = Vec::new();
    let mut count = 0;
    for (name, body) in TARGETS {
        for (path, seed) in seeds(name) {
            for i in 0..PER_SEED {
                let mut data = seed.clone();
                let at = |r: u64, len: usize| (r % len.max(1) as u64) as usize;
                match i % 4 {
                    0 if !data.is_empty() => {
                        let k = at(next(), data.len());
                        data[k] ^= 1 << (next() % 8);
                    }
                    1 => data.truncate(at(next(), data.len() + 1)),
                    2 if !data.is_empty() => {
                        let k = at(next(), data.len());
                        let v = next() as u8;
                        data[k] = v;
                        let j = at(next(), data.len());
                        data[j] = v;
                    }
                    _ => {
                        let from = at(next(), data.len());
                        let to = (from + at(next(), 64)).min(data.len());
                        let piece = data[from..to].to_vec();
                        let k = at(next(), data.len() + 1);
                        data.splice(k..k, piece);
                    }
                }
                count += 1;
                run(*body, &data, &format!("{} mutation {i}", path.display()), &mut failures);
            }
        }
    }
    assert!(failures.is_empty(), "{} of {count} mutants fail:\n{}", failures.len(), failures.join("\n"));
    println!("{count} mutated inputs hold");
}

/// The verifier's seeds start the fuzzer inside a sound package: at least one verifies OK
/// with its part checked against its checksums.txt.
#[test]
fn the_verifier_corpus_holds_a_sound_package() {
    let sound = seeds("verifier")
        .into_iter()
        .filter(|(_, data)| {
            let r = verify_bytes(&data[1..], Default::default()).unwrap();
            r.ok && r.files_checked > 0 && r.parts_checked > 0 && r.part_files_checked > 0
        })
        .count();
    assert!(sound >= 1, "no seed of fuzz/corpus/verifier verifies OK");
}
