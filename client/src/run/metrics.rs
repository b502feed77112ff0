//! `--metrics-file`: the run's outcome in Prometheus text format, for node_exporter's textfile
//! collector. Written atomically (a temporary file in the same folder, then rename), so the
//! collector never reads half a file.
//!
//! The last success time of each database comes from the sidecars in its output folder (the newest
//! package's finish time), not from this run: after a failed night the metric still says when the
//! last good backup was, which is what an alert on its age needs.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use mesbackup_core::mes::parse_rfc3339;
use mesbackup_core::Error;

use super::{DatabaseOutcome, EnvironmentResult, RunReport};
use crate::folder::read_sidecars;

/// Per (environment, database): the newest package's finish time (Unix seconds) and how many
/// packages with a sidecar the output folder holds.
pub type FolderState = BTreeMap<(String, String), (Option<f64>, usize)>;

/// Reads the output folders of the report's environments for [`render_metrics`].
pub fn folder_state(report: &RunReport) -> FolderState {
    let mut state = FolderState::new();
    for env in &report.environments {
        let Ok(sidecars) = read_sidecars(Path::new(&env.out)) else { continue };
        for db in &env.databases {
            let mine = sidecars.values().filter(|s| s.database.as_deref() == Some(db.database.as_str()));
            let mut newest: Option<u64> = None;
            let mut count = 0;
            for s in mine {
                count += 1;
                if let Some(t) = s.finished_at.as_deref().and_then(parse_rfc3339) {
                    newest = Some(newest.map_or(t, |n| n.max(t)));
                }
            }
            state.insert((env.name.clone(), db.database.clone()), (newest.map(|ms| ms as f64 / 1000.0), count));
        }
    }
    state
}

/// The metrics text (exposition format 0.0.4): families with HELP and TYPE, one sample per
/// environment or database.
pub fn render_metrics(report: &RunReport, state: &FolderState) -> String {
    let mut out = String::new();
    let mut family = |name: &str, help: &str, samples: Vec<(String, f64)>| {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} gauge");
        for (labels, value) in samples {
            let _ = writeln!(out, "{name}{labels} {value}");
        }
    };
    let finished = report.finished_at.as_str();
    let finished_s = parse_rfc3339(finished).map_or(0.0, |ms| ms as f64 / 1000.0);
    family(
        "mesbackup_run_timestamp_seconds",
        "When the last mesbackup run finished.",
        vec![(String::new(), finished_s)],
    );
    family(
        "mesbackup_run_duration_seconds",
        "Wall time of the last mesbackup run.",
        vec![(String::new(), report.duration_ms as f64 / 1000.0)],
    );
    family(
        "mesbackup_run_success",
        "1 when every environment of the last run succeeded.",
        vec![(String::new(), f64::from(u8::from(report.ok)))],
    );
    let env_label = |name: &str| format!("{{environment=\"{}\"}}", escape(name));
    let db_label = |env: &str, db: &str| format!("{{environment=\"{}\",database=\"{}\"}}", escape(env), escape(db));
    family(
        "mesbackup_environment_success",
        "1 when every step of the environment succeeded in the last run.",
        report
            .environments
            .iter()
            .map(|e| (env_label(&e.name), f64::from(u8::from(e.result == EnvironmentResult::Ok))))
            .collect(),
    );
    family(
        "mesbackup_environment_duration_seconds",
        "Wall time of the environment in the last run.",
        report.environments.iter().map(|e| (env_label(&e.name), e.duration_ms as f64 / 1000.0)).collect(),
    );
    let per_db = |f: &dyn Fn(&super::EnvironmentReport, &super::DatabaseReport) -> Option<f64>| -> Vec<(String, f64)> {
        report
            .environments
            .iter()
            .flat_map(|e| e.databases.iter().filter_map(move |d| f(e, d).map(|v| (db_label(&e.name, &d.database), v))))
            .collect()
    };
    family(
        "mesbackup_backup_success",
        "1 when the database was saved (and verified) in the last run.",
        per_db(&|_, d| Some(f64::from(u8::from(d.outcome == DatabaseOutcome::Saved)))),
    );
    family(
        "mesbackup_backup_bytes",
        "Size of the package saved in the last run.",
        per_db(&|_, d| d.size.filter(|_| d.outcome == DatabaseOutcome::Saved).map(|s| s as f64)),
    );
    family(
        "mesbackup_backup_last_success_timestamp_seconds",
        "Finish time of the newest package in the output folder.",
        per_db(&|e, d| state.get(&(e.name.clone(), d.database.clone())).and_then(|(t, _)| *t)),
    );
    family(
        "mesbackup_packages_kept",
        "Packages of the database in the output folder after retention.",
        per_db(&|e, d| state.get(&(e.name.clone(), d.database.clone())).map(|(_, n)| *n as f64)),
    );
    family(
        "mesbackup_test_restore_success",
        "1 when the package of the last run restored on the test server with every row count matching.",
        per_db(&|_, d| d.test_restore.as_ref().map(|t| f64::from(u8::from(t.ok)))),
    );
    family(
        "mesbackup_test_restore_duration_seconds",
        "Time the last run's test restore of the package took (verify, restore, row counts, drop).",
        per_db(&|_, d| d.test_restore.as_ref().map(|t| t.elapsed_ms as f64 / 1000.0)),
    );
    let role = |r: super::storage::FolderRole| match r {
        super::storage::FolderRole::Out => "out",
        super::storage::FolderRole::StageInto => "stage_into",
    };
    family(
        "mesbackup_folder_free_bytes",
        "Bytes available on the file system of the folder after the last run.",
        report
            .storage
            .iter()
            .filter_map(|f| {
                f.free_bytes.map(|b| {
                    (
                        format!(
                            "{{environment=\"{}\",folder=\"{}\",role=\"{}\"}}",
                            escape(&f.environment),
                            escape(&f.folder),
                            role(f.role)
                        ),
                        b as f64,
                    )
                })
            })
            .collect(),
    );
    family(
        "mesbackup_packages_bytes",
        "Bytes of the database's packages in the folder after the last run.",
        report
            .storage
            .iter()
            .flat_map(|f| {
                f.databases.iter().map(move |d| {
                    (
                        format!(
                            "{{environment=\"{}\",database=\"{}\",role=\"{}\"}}",
                            escape(&f.environment),
                            escape(&d.database),
                            role(f.role)
                        ),
                        d.bytes as f64,
                    )
                })
            })
            .collect(),
    );
    out
}

/// A label value escaped as the format requires (backslash, double quote, line feed).
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Writes `text` to `path` atomically: a temporary file beside it, flushed, then renamed over it.
/// The file is readable by all (0644): metrics hold no secret, and node_exporter runs as another user.
pub fn write_metrics_file(path: &Path, text: &str) -> Result<(), Error> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    // node_exporter reads only *.prom: the temporary name must not end so.
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o644);
        }
        let mut f = options.open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(format!("cannot write the metrics file {}: {e}", path.display()))
    })
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use super::*;

    /// A minimal reader of the text format: every sample line is `name{labels} value` of a family
    /// declared before it with HELP and TYPE, values parse as floats, label values are quoted.
    fn parse(text: &str) -> Vec<(String, String, f64)> {
        let mut declared = std::collections::BTreeSet::new();
        let mut samples = Vec::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').unwrap();
                assert_eq!(kind, "gauge");
                assert!(declared.insert(name.to_owned()), "{name} declared twice");
                continue;
            }
            if line.starts_with("# HELP ") {
                continue;
            }
            let (series, value) = line.rsplit_once(' ').unwrap();
            let (name, labels) = match series.find('{') {
                Some(i) => {
                    assert!(series.ends_with('}'), "{line}");
                    (&series[..i], series[i..].to_owned())
                }
                None => (series, String::new()),
            };
            assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "{line}");
            assert!(declared.contains(name), "{name} has no TYPE before it");
            for pair in labels.trim_matches(|c| c == '{' || c == '}').split("\",").filter(|p| !p.is_empty()) {
                let (k, v) = pair.split_once('=').unwrap();
                assert!(k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "{line}");
                assert!(v.starts_with('"'), "{line}");
            }
            samples.push((name.to_owned(), labels, value.parse::<f64>().unwrap()));
        }
        samples
    }

    fn db(name: &str, outcome: DatabaseOutcome, size: Option<u64>) -> DatabaseReport {
        DatabaseReport {
            database: name.into(),
            outcome,
            file: None,
            size,
            sha256: None,
            verified: None,
            staged_as: None,
            test_restore: None,
            error: None,
        }
    }

    #[test]
    fn metrics_parse_and_carry_each_database() {
        let env = |name: &str, ok: bool| EnvironmentReport {
            name: name.into(),
            system: "MES".into(),
            out: "/nonexistent".into(),
            result: if ok { EnvironmentResult::Ok } else { EnvironmentResult::Failed },
            failed_step: None,
            message: None,
            exit_code: if ok { 0 } else { 7 },
            sql_backup_finished_at: None,
            backup_window: None,
            databases: vec![
                db("MES", if ok { DatabaseOutcome::Saved } else { DatabaseOutcome::Failed }, Some(1234)),
                DatabaseReport {
                    test_restore: Some(crate::restore::TestRestoreResult {
                        ok,
                        elapsed_ms: 2_250,
                        ..Default::default()
                    }),
                    ..db("MESCDM", DatabaseOutcome::Saved, Some(99))
                },
            ],
            hooks: vec![],
            wait_until: None,
            retention: None,
            duration_ms: 1500,
        };
        let report = RunReport {
            ok: false,
            exit_code: 7,
            finished_at: "2026-12-05T02:00:00.000Z".into(),
            duration_ms: 2500,
            environments: vec![env("prod \"a\"", true), env("qa", false)],
            ping_errors: vec![],
            storage: vec![super::super::storage::FolderStorage {
                environment: "qa".into(),
                role: super::super::storage::FolderRole::Out,
                folder: "/b/qa".into(),
                free_bytes: Some(5_000),
                total_bytes: Some(10_000),
                low: true,
                databases: vec![super::super::storage::DatabaseStorage {
                    database: "MES".into(),
                    packages: 3,
                    bytes: 3_702,
                }],
            }],
        };
        let mut state = FolderState::new();
        state.insert(("qa".into(), "MES".into()), (Some(1_764_900_000.5), 3));
        let text = render_metrics(&report, &state);
        let samples = parse(&text);
        let get =
            |name: &str, labels: &str| samples.iter().find(|(n, l, _)| n == name && l == labels).map(|(_, _, v)| *v);
        assert_eq!(get("mesbackup_run_success", ""), Some(0.0));
        assert_eq!(get("mesbackup_run_timestamp_seconds", ""), Some(1_796_436_000.0));
        assert_eq!(get("mesbackup_environment_success", "{environment=\"qa\"}"), Some(0.0));
        assert_eq!(get("mesbackup_environment_success", "{environment=\"prod \\\"a\\\"\"}"), Some(1.0));
        assert_eq!(get("mesbackup_backup_success", "{environment=\"qa\",database=\"MES\"}"), Some(0.0));
        assert_eq!(get("mesbackup_backup_bytes", "{environment=\"qa\",database=\"MES\"}"), None, "not saved");
        assert_eq!(get("mesbackup_backup_bytes", "{environment=\"qa\",database=\"MESCDM\"}"), Some(99.0));
        assert_eq!(
            get("mesbackup_backup_last_success_timestamp_seconds", "{environment=\"qa\",database=\"MES\"}"),
            Some(1_764_900_000.5)
        );
        assert_eq!(get("mesbackup_packages_kept", "{environment=\"qa\",database=\"MES\"}"), Some(3.0));
        assert_eq!(get("mesbackup_test_restore_success", "{environment=\"qa\",database=\"MESCDM\"}"), Some(0.0));
        assert_eq!(
            get("mesbackup_test_restore_duration_seconds", "{environment=\"qa\",database=\"MESCDM\"}"),
            Some(2.25)
        );
        assert_eq!(get("mesbackup_test_restore_success", "{environment=\"qa\",database=\"MES\"}"), None, "not tested");
        assert_eq!(
            get("mesbackup_folder_free_bytes", "{environment=\"qa\",folder=\"/b/qa\",role=\"out\"}"),
            Some(5_000.0)
        );
        assert_eq!(
            get("mesbackup_packages_bytes", "{environment=\"qa\",database=\"MES\",role=\"out\"}"),
            Some(3_702.0)
        );

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mesbackup.prom");
        write_metrics_file(&path, &text).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file left");
    }
}
