//! The scenario model and its checks, shared by the Rust runners (library client, CLI binary).
//!
//! A front end turns a step into a [`StepResult`]; everything after that (outcome, GUID, files in the
//! output folder, requests the mock saw) is compared here, once.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use libtest_mimic::Failed;

use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Deserialize)]
pub struct Scenario {
    #[serde(skip)]
    pub name: String,
    pub description: String,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub server: Value,
    pub steps: Vec<Step>,
    #[serde(default)]
    pub expect_requests: Option<RequestExpect>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Step {
    pub op: String,
    #[serde(default)]
    pub database: Option<String>,
    #[serde(default)]
    pub system: Option<String>,
    #[serde(default)]
    pub guid: Option<String>,
    #[serde(default)]
    pub auth: Auth,
    #[serde(default)]
    pub env_suffix: String,
    /// Files (name -> text) put in the output folder before the step.
    #[serde(default)]
    pub existing_files: BTreeMap<String, String>,
    /// `"read_only"`: the output folder takes no new file during the step.
    #[serde(default)]
    pub out_dir: Option<String>,
    #[serde(default)]
    pub options: StepOptions,
    pub expect: StepExpect,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Auth {
    pub token: Option<String>,
    pub user: Option<String>,
    pub pat: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct StepOptions {
    pub timeout_ms: Option<u64>,
    pub min_poll_ms: Option<u64>,
    pub max_poll_ms: Option<u64>,
    pub stall_timeout_ms: Option<u64>,
    pub speed_limit: Option<u64>,
    pub speed_time_ms: Option<u64>,
    pub download_timeout_ms: Option<u64>,
    pub max_size: Option<u64>,
    pub restart_budget: Option<u32>,
    pub file_name: Option<String>,
    #[serde(default)]
    pub overwrite: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct StepExpect {
    pub outcome: String,
    #[serde(default)]
    pub guid: Option<String>,
    #[serde(default)]
    pub files: Option<BTreeMap<String, FileExpect>>,
    #[serde(default)]
    pub max_rss_growth_mib: Option<u64>,
    /// Strings the error message must contain.
    #[serde(default)]
    pub message_contains: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct FileExpect {
    pub size: Option<u64>,
    pub sha256: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RequestExpect {
    #[serde(default)]
    pub exact: Option<Vec<BTreeMap<String, Value>>>,
    #[serde(default)]
    pub counts: BTreeMap<String, u64>,
    #[serde(default)]
    pub min_gap_ms_between_gets: Option<u64>,
}

/// What a front end reports for one step.
#[derive(Debug, Clone, Default)]
pub struct StepResult {
    /// "ok", "pending" or an error kind code.
    pub outcome: String,
    pub guid: Option<String>,
    pub message: Option<String>,
    /// Peak memory growth during the step, when the front end could measure it.
    pub rss_growth_mib: Option<u64>,
}

pub fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

pub fn load_all(dir: &Path) -> Result<Vec<Scenario>, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
            let mut s: Scenario = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))?;
            s.name = p.file_stem().unwrap().to_string_lossy().into_owned();
            Ok(s)
        })
        .collect()
}

/// `"$guid"` stands for the GUID the previous step produced.
pub fn resolve_guid(value: Option<&str>, previous: Option<&str>) -> Option<String> {
    match value {
        Some("$guid") => previous.map(str::to_owned),
        other => other.map(str::to_owned),
    }
}

/// Every entry of the folder, hidden ones included (a leftover temporary file must fail a test).
pub fn dir_listing(dir: &Path) -> BTreeMap<String, (u64, String)> {
    let mut out = BTreeMap::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let size = e.metadata().map(|m| m.len()).unwrap_or(0);
            out.insert(name, (size, sha256_file(&e.path())));
        }
    }
    out
}

pub fn sha256_file(path: &Path) -> String {
    let Ok(mut f) = std::fs::File::open(path) else { return String::new() };
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        match f.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => h.update(&buf[..n]),
        }
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares one step's result and output folder with its expectations.
pub fn check_step(step: &Step, result: &StepResult, out_dir: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    let e = &step.expect;
    if result.outcome != e.outcome {
        problems.push(format!(
            "outcome: expected {}, got {} ({})",
            e.outcome,
            result.outcome,
            result.message.as_deref().unwrap_or("")
        ));
    }
    if let Some(g) = &e.guid {
        if result.guid.as_deref() != Some(g.as_str()) {
            problems.push(format!("guid: expected {g}, got {:?}", result.guid));
        }
    }
    for part in &e.message_contains {
        if !result.message.as_deref().is_some_and(|m| m.contains(part.as_str())) {
            problems.push(format!("message: expected it to contain {part:?}, got {:?}", result.message));
        }
    }
    if let Some(files) = &e.files {
        let listing = dir_listing(out_dir);
        let expected: Vec<&String> = files.keys().collect();
        let actual: Vec<&String> = listing.keys().collect();
        if expected != actual {
            problems.push(format!("files: expected {expected:?}, got {actual:?}"));
        }
        for (name, fe) in files {
            if let Some((size, sha)) = listing.get(name) {
                if fe.size.is_some_and(|s| s != *size) {
                    problems.push(format!("{name}: size expected {:?}, got {size}", fe.size));
                }
                if fe.sha256.as_ref().is_some_and(|s| s != sha) {
                    problems.push(format!("{name}: sha256 expected {:?}, got {sha}", fe.sha256));
                }
            }
        }
    }
    if let (Some(limit), Some(got)) = (e.max_rss_growth_mib, result.rss_growth_mib) {
        if got > limit {
            problems.push(format!("memory: peak grew by {got} MiB, limit {limit} MiB"));
        }
    }
    problems
}

/// Compares the mock's request log with the scenario's expectations.
pub fn check_requests(expect: &RequestExpect, log: &[Value]) -> Vec<String> {
    let mut problems = Vec::new();
    let summary: Vec<String> = log
        .iter()
        .map(|r| format!("{} {} {} {}", r["method"], r["path"], r["status"], r["host"]).replace('"', ""))
        .collect();
    if let Some(exact) = &expect.exact {
        if exact.len() != log.len() {
            problems.push(format!("requests: expected {} entries, got {}: {summary:?}", exact.len(), log.len()));
        }
        for (i, (want, got)) in exact.iter().zip(log).enumerate() {
            for (field, value) in want {
                if &got[field] != value {
                    problems.push(format!("request #{i} {field}: expected {value}, got {} ({summary:?})", got[field]));
                }
            }
        }
    }
    for (key, want) in &expect.counts {
        let got =
            log.iter().filter(|r| format!("{} {}", r["method"].as_str().unwrap_or(""), r["status"]) == *key).count()
                as u64;
        if got != *want {
            problems.push(format!("requests \"{key}\": expected {want}, got {got} ({summary:?})"));
        }
    }
    if let Some(gap) = expect.min_gap_ms_between_gets {
        let times: Vec<u64> = log.iter().filter(|r| r["method"] == "GET").filter_map(|r| r["at_ms"].as_u64()).collect();
        for w in times.windows(2) {
            if w[1] - w[0] < gap {
                problems.push(format!("GETs {} ms apart, expected at least {gap} ms", w[1] - w[0]));
            }
        }
    }
    problems
}

/// The test binary's `main`: one libtest-mimic trial per scenario file, named after it. Scenarios
/// run one at a time (some use deadlines of a few hundred milliseconds, and memory may be measured
/// per step); `force_one_thread` also overrides an explicit `--test-threads`.
pub fn run_all_scenarios(run: fn(&Scenario) -> Result<(), Failed>, force_one_thread: bool) -> ! {
    let mut args = libtest_mimic::Arguments::from_args();
    if force_one_thread || args.test_threads.is_none() {
        args.test_threads = Some(1);
    }
    let scenarios = load_all(&scenarios_dir()).expect("scenario files load");
    assert!(!scenarios.is_empty(), "no scenario files found");
    let trials = scenarios
        .into_iter()
        .map(|s| {
            let name = s.name.clone();
            let s = Arc::new(s);
            libtest_mimic::Trial::test(name, move || run(&s))
        })
        .collect();
    libtest_mimic::run(&args, trials).exit()
}

/// Runs a scenario's steps against a fresh in-process mock-mes and checks everything the scenario
/// expects. `run_step(step, env_url, previous_guid, out_dir)` executes one step through a front end
/// and returns its result plus any problems of its own. Returns all problems found.
pub fn run_steps(
    scenario: &Scenario,
    mut run_step: impl FnMut(&Step, &str, Option<&str>, &Path) -> (StepResult, Vec<String>),
) -> Result<Vec<String>, Failed> {
    let mock = mock_mes::MockMes::start_in_background("127.0.0.1:0".parse().unwrap());
    mock.set_scenario(scenario.server.clone()).map_err(|e| format!("mock rejected the scenario: {e}"))?;
    let prefix = scenario.server.get("path_prefix").and_then(|v| v.as_str()).unwrap_or("").to_owned();
    let mut problems = Vec::new();
    let mut previous_guid: Option<String> = None;
    let out = tempfile::tempdir().unwrap();
    for (i, step) in scenario.steps.iter().enumerate() {
        let env = format!("{}{}{}", mock.base_url(), prefix, step.env_suffix);
        for (name, text) in &step.existing_files {
            std::fs::write(out.path().join(name), text).map_err(|e| format!("step {i}: cannot create {name}: {e}"))?;
        }
        let lock = match step.out_dir.as_deref() {
            None => None,
            Some("read_only") => Some(ReadOnlyFolder::new(out.path()).map_err(|e| format!("step {i}: {e}"))?),
            Some(other) => return Err(format!("step {i}: unknown out_dir {other:?} (only \"read_only\")").into()),
        };
        let (result, own) = run_step(step, &env, previous_guid.as_deref(), out.path());
        drop(lock);
        for p in own.into_iter().chain(check_step(step, &result, out.path())) {
            problems.push(format!("step {i} ({}): {p}", step.op));
        }
        if result.guid.is_some() {
            previous_guid = result.guid.clone();
        }
    }
    if let Some(expect) = &scenario.expect_requests {
        let log: Vec<Value> = mock.log().into_iter().map(|e| serde_json::to_value(e).unwrap()).collect();
        problems.extend(check_requests(expect, &log));
    }
    Ok(problems)
}

/// A folder that takes no new file while this lives: the immutable attribute (`chattr +i`), since
/// the suites run as root, where permissions do not stop writes. Never silently skipped: when the
/// attribute cannot be set (not Linux, not root, a file system without attributes), the reason is
/// the error.
pub struct ReadOnlyFolder(PathBuf);

impl ReadOnlyFolder {
    pub fn new(dir: &Path) -> Result<ReadOnlyFolder, String> {
        let out = std::process::Command::new("chattr").arg("+i").arg(dir).output().map_err(|e| {
            format!("cannot make {} read-only: chattr: {e} (needs Linux with e2fsprogs)", dir.display())
        })?;
        if !out.status.success() {
            return Err(format!(
                "cannot make {} read-only with chattr +i (needs root and a file system with attributes, e.g. ext4): {}",
                dir.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(ReadOnlyFolder(dir.to_owned()))
    }
}

impl Drop for ReadOnlyFolder {
    fn drop(&mut self) {
        let _ = std::process::Command::new("chattr").arg("-i").arg(&self.0).status();
    }
}

/// A scenario's verdict from its problems.
pub fn verdict(scenario: &Scenario, problems: Vec<String>) -> Result<(), Failed> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{}\n  {}", scenario.description, problems.join("\n  ")).into())
    }
}

/// Peak resident memory of this process (Linux), resettable so a step's own peak can be measured.
pub mod peak_rss {
    /// Resets the kernel's high-water mark to the current RSS (Linux >= 4.0).
    pub fn reset() -> bool {
        std::fs::write("/proc/self/clear_refs", "5").is_ok()
    }

    /// VmHWM in KiB.
    pub fn read_kib() -> Option<u64> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }
}
