//! What `mesbackup --json` prints: one [`CliEvent`] per line. The variants carry the result types of
//! `mesbackup-core` and `mesbackup-client` as they serialise, so a field exists once, in its type;
//! `cli/events.schema.json` is generated from this enum and its doc comments (regenerate it with
//! `MESBACKUP_WRITE_SCHEMA=1 cargo test -p mesbackup-cli --bin mesbackup event_schema`; a test fails
//! while the committed file differs).

use mesbackup_client::folder::{PrunePlan, StagedPackage, StalePartial};
use mesbackup_client::restore::{RestoreReport, RestoreStep, TestRestoreResult};
use mesbackup_core::mes::JobEvent;
use mesbackup_core::naming::DatabaseKind;
use mesbackup_core::package::{Inspection, VerifyReport};
use mesbackup_core::Error;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Serialize;

/// RFC 3339 with a UTC offset, as every time mesbackup writes.
const RFC3339: &str = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$";

/// One JSON object per line on stdout with `mesbackup --json`, its kind in "event". Consumers must
/// ignore events they do not know; fields are only ever added in a new schema version.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(tag = "event", rename_all = "snake_case")]
#[schemars(
    title = "mesbackup --json events",
    extend("$id" = "https://github.com/mesbackup/mesbackup/cli/events.schema.json")
)]
pub enum CliEvent {
    /// A job or the command failed. The process exit code is the kind's (see mesbackup --help).
    Failed {
        error: Error,
        /// The database of the job that failed, when known.
        #[serde(skip_serializing_if = "Option::is_none")]
        database: Option<String>,
        /// The package concerned (verify, inspect).
        #[serde(skip_serializing_if = "Option::is_none")]
        path: Option<String>,
        /// mesbackup run: the environment (config name) of the job that failed.
        #[serde(skip_serializing_if = "Option::is_none")]
        environment: Option<String>,
    },
    /// A temporary file left by an interrupted run was removed; if lost_download, that one-shot
    /// download is gone.
    StalePartialRemoved {
        #[serde(flatten)]
        partial: StalePartial,
        /// The file held package data (not a sidecar): that backup is lost on the server.
        lost_download: bool,
        /// What the removal means, for the person running the tool.
        message: String,
    },
    /// The last event of backup, start and download: one result per job, in argument order.
    Summary {
        /// exit_code is 0.
        ok: bool,
        /// The process exit code: the first failure's kind in argument order, else 75 when a
        /// backup is still being prepared, else 0.
        exit_code: u8,
        results: Vec<JobSummary>,
        /// Earliest start to latest finish over the packages saved; null when none records both.
        backup_window: Option<SavedWindow>,
    },
    /// mesbackup names: the installer package names of a system and version.
    Names { system: String, version: String, packages: Vec<PackageNames> },
    /// mesbackup check-folder: what the MES installer would restore.
    FolderReport {
        folder: String,
        /// Every database would be restored.
        complete: bool,
        report: mesbackup_core::naming::FolderReport,
    },
    /// mesbackup stage: a package placed in the custom packages folder under its installer name.
    Staged {
        #[serde(flatten)]
        package: StagedPackage,
    },
    /// mesbackup prune: the retention plan (keep = true stays), and what was deleted when applied.
    Prune {
        folder: String,
        #[serde(flatten)]
        plan: PrunePlan,
        /// --yes: the plan was carried out.
        applied: bool,
        /// The files deleted (packages and their sidecars); null on a dry run.
        deleted: Option<Vec<String>>,
    },
    /// mesbackup run: the last event, one result per environment in file order. exit_code is the
    /// process's: the worst environment's (docs/config.md orders them), 0 when all succeeded.
    RunSummary {
        #[serde(flatten)]
        report: Box<mesbackup_client::run::RunReport>,
    },
    /// mesbackup run --dry-run: what each environment would do. Nothing is sent or deleted.
    RunPlan { environments: Vec<mesbackup_client::run::EnvironmentPlan> },
    /// mesbackup credential set|delete|test: an entry of the OS credential store (never its secret).
    Credential {
        action: CredentialAction,
        service: String,
        entry: String,
        /// The store used (Windows Credential Manager, macOS Keychain, Linux kernel keyring).
        store: String,
        /// How the store's own tools name the entry.
        location: String,
        /// test: the entry exists; set: true; delete: the entry existed (and is now gone).
        present: bool,
    },
    /// mesbackup demo: the in-process mock MES is up.
    Demo { server: String, folder: String, system: String, version: String },
    /// mesbackup window (and mesbackup demo, at its end): earliest start to latest finish over the
    /// sidecars in the folder, each null when no sidecar records it.
    BackupWindow {
        folder: String,
        /// Earliest ClickHouse backup start.
        #[schemars(pattern(RFC3339))]
        started_at: Option<String>,
        /// Latest ClickHouse backup finish.
        #[schemars(pattern(RFC3339))]
        finished_at: Option<String>,
        /// Latest SQL Server backup completion recorded in the sidecars (backup --sql-backup-finished).
        #[schemars(pattern(RFC3339))]
        sql_backup_finished_at: Option<String>,
        /// Where to start re-running data processing: the SQL Server completion when recorded and
        /// earlier, else the first start.
        #[schemars(pattern(RFC3339))]
        reprocess_from: Option<String>,
        /// Each sidecar read.
        packages: Vec<WindowPackage>,
    },
    /// mesbackup verify: one package's report. A failed one is followed by a failed event (kind
    /// integrity) with the same path.
    Verified { path: String, report: VerifyReport },
    /// mesbackup inspect: what the package holds; verified says whether the same pass found it sound
    /// (if not, a failed event follows).
    Inspected { path: String, verified: bool, inspection: Inspection },
    /// mesbackup restore: the plan, checked against the target's storage policies, disks and
    /// databases before anything runs. With problems, a failed event (invalid_argument) follows and
    /// nothing is run.
    RestorePlan {
        path: String,
        dry_run: bool,
        plan: mesbackup_core::restore::RestorePlan,
        /// The RESTORE statement (with a placeholder path on --dry-run without --server-backup-path).
        sql: String,
    },
    /// mesbackup restore / test-restore: a step of a running restore.
    RestoreProgress {
        path: String,
        #[serde(flatten)]
        #[schemars(schema_with = "restore_steps_shown")]
        step: RestoreStep,
    },
    /// mesbackup restore: RESTORED on the server, and each table's row count against the package.
    Restored {
        path: String,
        #[serde(flatten)]
        report: RestoreReport,
        /// Every table's row count matches the package.
        ok: bool,
    },
    /// mesbackup test-restore: one result per package, emitted as soon as it is done.
    TestRestore {
        #[serde(flatten)]
        result: TestRestoreResult,
    },
    /// The events of a backup job (core's JobEvent): started, pending, retrying, ready, progress,
    /// warning, restarting, saved. A job's failure is a `failed` event.
    #[serde(untagged)]
    Job(JobLine),
}

/// A job event as printed: core's serialisation, tagged with the database when known.
#[derive(Debug, Serialize, JsonSchema)]
pub struct JobLine {
    #[serde(flatten)]
    #[schemars(schema_with = "job_events_shown")]
    event: JobEvent,
    /// The database the job event belongs to, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    database: Option<String>,
    /// mesbackup run: the environment (config name) the job belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    environment: Option<String>,
}

impl CliEvent {
    /// A core job event of the job backing up `database` (when known).
    pub fn job(event: &JobEvent, database: Option<&str>) -> CliEvent {
        let database = database.map(str::to_owned);
        match event {
            JobEvent::Failed { error } => {
                CliEvent::Failed { error: error.clone(), database, path: None, environment: None }
            }
            // It names its database itself.
            JobEvent::Started { .. } => {
                CliEvent::Job(JobLine { event: event.clone(), database: None, environment: None })
            }
            // A download by GUID learns the database from the package.
            JobEvent::Saved { package } => CliEvent::Job(JobLine {
                event: event.clone(),
                database: database.or_else(|| package.database.clone()),
                environment: None,
            }),
            _ => CliEvent::Job(JobLine { event: event.clone(), database, environment: None }),
        }
    }

    /// The same event tagged with the environment of `mesbackup run` it belongs to (job events and
    /// failures; other events are returned as they are).
    pub fn in_environment(mut self, name: &str) -> CliEvent {
        match &mut self {
            CliEvent::Job(line) => line.environment = Some(name.to_owned()),
            CliEvent::Failed { environment, .. } => *environment = Some(name.to_owned()),
            _ => {}
        }
        self
    }

    /// Something the administrator should know that belongs to no job event (the job goes on).
    pub fn warning(database: Option<&str>, message: &str) -> CliEvent {
        CliEvent::job(&JobEvent::Warning { guid: None, message: message.to_owned() }, database)
    }
}

/// What `mesbackup credential` did.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CredentialAction {
    /// Stored the secret read from standard input.
    Set,
    /// Removed the entry.
    Delete,
    /// Checked whether the entry exists.
    Test,
}

/// One job of backup, start or download in the summary.
#[derive(Debug, Serialize, JsonSchema)]
pub struct JobSummary {
    pub database: Option<String>,
    pub guid: Option<String>,
    pub outcome: OutcomeKind,
    /// saved: where the package is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// saved: bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// saved: lowercase hex SHA-256 of the package.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// failed: why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Error>,
}

/// How a job ended (core's Outcome).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    /// The package is saved under its final name.
    Saved,
    /// start: the backup runs on the server under its GUID.
    Started,
    /// download --no-wait: still being prepared; nothing was downloaded.
    Pending,
    /// The job failed; error says why.
    Failed,
}

/// The backup window of the packages a run saved.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SavedWindow {
    /// Earliest start.
    #[schemars(pattern(RFC3339))]
    pub started_at: String,
    /// Latest finish.
    #[schemars(pattern(RFC3339))]
    pub finished_at: String,
}

/// The installer package names of one database of a system.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PackageNames {
    pub kind: DatabaseKind,
    pub database: String,
    /// `Cmf.ClickHouse.FullBackup.<Kind>.<Version>.zip`.
    pub generic: String,
    /// `<System>.Cmf.ClickHouse.FullBackup.<Kind>.<Version>.zip`, which the installer prefers.
    pub system_specific: String,
}

/// One sidecar of the folder `window` read.
#[derive(Debug, Serialize, JsonSchema)]
pub struct WindowPackage {
    /// The package the sidecar describes.
    pub file: String,
    pub database: Option<String>,
    #[schemars(pattern(RFC3339))]
    pub started_at: Option<String>,
    #[schemars(pattern(RFC3339))]
    pub finished_at: Option<String>,
}

/// The `oneOf` of an internally tagged enum's schema without the variants whose `tag` is in `left_out`.
/// Panics when one of them is not a variant: the schema test then names the stale name.
fn without_variants(mut schema: Schema, tag: &str, left_out: &[&str]) -> Schema {
    let variants = schema.get_mut("oneOf").and_then(|v| v.as_array_mut()).expect("an internally tagged enum");
    let tag_of = |v: &serde_json::Value| {
        v.pointer(&format!("/properties/{tag}/const")).and_then(|c| c.as_str()).unwrap_or_default().to_owned()
    };
    for name in left_out {
        assert!(variants.iter().any(|v| tag_of(v) == *name), "no variant {tag} = {name} to leave out");
    }
    variants.retain(|v| !left_out.contains(&tag_of(v).as_str()));
    schema
}

/// Core's job events as job lines: a failure is printed as [`CliEvent::Failed`] (which can name a path).
fn job_events_shown(generator: &mut SchemaGenerator) -> Schema {
    without_variants(JobEvent::json_schema(generator), "event", &["failed"])
}

/// The restore steps printed as `restore_progress`: `verified` is only shown to people, `planned` is
/// the `restore_plan` event.
fn restore_steps_shown(generator: &mut SchemaGenerator) -> Schema {
    without_variants(RestoreStep::json_schema(generator), "step", &["verified", "planned"])
}

/// `cli/events.schema.json`: generated from [`CliEvent`], then made exact in a few passes over
/// what schemars derives, and compared with the committed file.
#[cfg(test)]
mod schema {
    use std::path::Path;

    use schemars::transform::{RecursiveTransform, Transform};
    use serde_json::{json, Map, Value};

    use super::*;

    /// The schema of every event, as committed.
    fn generate() -> Value {
        let generator = schemars::generate::SchemaSettings::draft2020_12().for_serialize().into_generator();
        let mut root = generator.into_root_schema_for::<CliEvent>();
        let defs = root.get("$defs").and_then(Value::as_object).cloned().unwrap_or_default();
        RecursiveTransform(|s: &mut Schema| inline_ref_beside_properties(s, &defs)).transform(&mut root);
        RecursiveTransform(close_object).transform(&mut root);
        let mut root = root.to_value();
        list_every_event(&mut root);
        drop_unused_defs(&mut root);
        root
    }

    /// A newtype variant of an internally tagged enum (`Restoring(RestoreProgress)`) is a `$ref`
    /// beside the tag's properties; the variant is one object, so the referenced properties are
    /// taken in and the object can be closed as a whole.
    fn inline_ref_beside_properties(schema: &mut Schema, defs: &Map<String, Value>) {
        let Some(obj) = schema.as_object_mut() else { return };
        if !obj.contains_key("properties") {
            return;
        }
        let Some(name) = obj.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/$defs/")) else {
            return;
        };
        let target = defs.get(name).and_then(Value::as_object).cloned().expect("a $ref into $defs");
        obj.remove("$ref");
        merge_object(obj, &target);
    }

    /// Adds `from`'s properties and required names to `into` (what `into` already has wins), and its
    /// description when `into` has none.
    fn merge_object(into: &mut Map<String, Value>, from: &Map<String, Value>) {
        let properties = into.entry("properties").or_insert_with(|| json!({}));
        for (name, property) in from.get("properties").and_then(Value::as_object).into_iter().flatten() {
            properties.as_object_mut().expect("properties").entry(name.clone()).or_insert(property.clone());
        }
        let mut required: Vec<Value> = into.get("required").and_then(Value::as_array).cloned().unwrap_or_default();
        for name in from.get("required").and_then(Value::as_array).into_iter().flatten() {
            if !required.contains(name) {
                required.push(name.clone());
            }
        }
        into.insert("required".into(), required.into());
        if let Some(d) = from.get("description").filter(|_| !into.contains_key("description")) {
            into.insert("description".into(), d.clone());
        }
        into.insert("type".into(), "object".into());
    }

    /// An event is exactly its type: an unknown field is an error, so a schema check catches a field
    /// renamed or added without the schema. Where an enum was flattened into a struct (`properties`
    /// beside a `oneOf`), the struct's properties move into each variant first, so that each
    /// variant is one object that can be closed. An optional property is never null.
    fn close_object(schema: &mut Schema) {
        let Some(obj) = schema.as_object_mut() else { return };
        if obj.contains_key("properties") && obj.get("oneOf").is_some_and(Value::is_array) {
            let properties = obj.remove("properties").and_then(|p| p.as_object().cloned()).unwrap_or_default();
            let required = obj.remove("required").and_then(|r| r.as_array().cloned()).unwrap_or_default();
            obj.remove("type");
            for variant in obj.get_mut("oneOf").and_then(Value::as_array_mut).into_iter().flatten() {
                let Some(v) = variant.as_object_mut() else { continue };
                let own = v.entry("properties").or_insert_with(|| json!({})).as_object_mut().expect("properties");
                for (name, property) in &properties {
                    own.entry(name.clone()).or_insert(property.clone());
                }
                // The struct's required fields (the event tag first) before the variant's.
                let mut all = required.clone();
                for name in v.get("required").and_then(Value::as_array).into_iter().flatten() {
                    if !all.contains(name) {
                        all.push(name.clone());
                    }
                }
                v.insert("required".into(), all.into());
                v.insert("type".into(), "object".into());
            }
            return;
        }
        let composed = ["oneOf", "anyOf", "allOf", "$ref"].iter().any(|k| obj.contains_key(*k));
        if obj.contains_key("properties") && !composed {
            obj.entry("additionalProperties").or_insert(false.into());
        }
        never_null_when_optional(obj);
    }

    /// A property outside `required` is an `Option` that serde skips when it is `None`
    /// (`skip_serializing_if = "Option::is_none"` on every such field): when present, never null.
    fn never_null_when_optional(obj: &mut Map<String, Value>) {
        let required: Vec<Value> = obj.get("required").and_then(Value::as_array).cloned().unwrap_or_default();
        let Some(properties) = obj.get_mut("properties").and_then(Value::as_object_mut) else { return };
        for (name, property) in properties.iter_mut() {
            if required.contains(&Value::from(name.as_str())) {
                continue;
            }
            let Some(p) = property.as_object_mut() else { continue };
            if let Some(Value::Array(types)) = p.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    p.insert("type".into(), only);
                }
            }
            // Option<SomeType>: anyOf [{$ref}, {type: null}].
            if let Some(Value::Array(alternatives)) = p.get_mut("anyOf") {
                alternatives.retain(|a| a.get("type").and_then(Value::as_str) != Some("null"));
                if alternatives.len() == 1 {
                    let only = alternatives.remove(0);
                    p.remove("anyOf");
                    for (k, v) in only.as_object().into_iter().flatten() {
                        p.entry(k.clone()).or_insert(v.clone());
                    }
                }
            }
        }
    }

    /// One flat `oneOf` of every event at the root: the job events (the untagged [`CliEvent::Job`],
    /// a `$ref` to their own `oneOf`) join the others. Exactly one schema matches a line, by its
    /// "event".
    fn list_every_event(root: &mut Value) {
        let name = JobLine::schema_name();
        let job_line = format!("#/$defs/{name}");
        let job_events = root["$defs"].as_object_mut().and_then(|defs| defs.remove(&*name));
        let job_events =
            job_events.and_then(|s| s.get("oneOf").and_then(Value::as_array).cloned()).expect("job events");
        let root = root.as_object_mut().expect("an object schema");
        let listed = root.remove("anyOf").or_else(|| root.remove("oneOf"));
        let mut events = Vec::new();
        for event in listed.as_ref().and_then(Value::as_array).into_iter().flatten() {
            if event.get("$ref").and_then(Value::as_str) == Some(job_line.as_str()) {
                events.extend(job_events.iter().cloned());
            } else {
                events.push(event.clone());
            }
        }
        root.insert("oneOf".into(), events.into());
    }

    /// Removes the `$defs` nothing refers to any more (their properties were taken in).
    fn drop_unused_defs(root: &mut Value) {
        loop {
            let text = root.to_string();
            let defs = root["$defs"].as_object_mut().expect("$defs");
            let unused: Vec<String> =
                defs.keys().filter(|name| !text.contains(&format!("\"#/$defs/{name}\""))).cloned().collect();
            if unused.is_empty() {
                return;
            }
            for name in unused {
                defs.remove(&name);
            }
        }
    }

    /// One event of every kind (and every job event, restore step and outcome), built from the
    /// real result types, each as the CLI prints it.
    fn one_of_each() -> Vec<CliEvent> {
        use std::path::PathBuf;

        use mesbackup_client::folder::{PruneEntry, StageMode};
        use mesbackup_client::restore::{RestoreProgress, RowCheck};
        use mesbackup_core::mes::SavedPackage;
        use mesbackup_core::package::{Verifier, VerifyOptions};
        use mesbackup_core::restore::{PlanProblem, ProblemKind};
        use mesbackup_core::ErrorKind;

        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/clickhouse/mesfix_stored.zip");
        let bytes = std::fs::read(&fixture).expect("the committed fixture");
        let scan = |data: &[u8]| {
            let mut v = Verifier::with_options(VerifyOptions { sha256: true, expected_sha256: None }).unwrap();
            v.feed(data);
            v.finish_with_inspection()
        };
        let (sound, inspection) = scan(&bytes);
        let mut damaged = bytes.clone();
        damaged[4000..4007].copy_from_slice(b"garbage");
        let (damaged, _) = scan(&damaged);
        assert!(sound.ok && !damaged.ok, "the fixture verifies and the damaged copy does not");
        let guid = "00000000-0000-4000-8000-000000000001".to_owned();
        let error = Error::new(ErrorKind::Timeout, "still pending").with_guid(Some(&guid));
        let sha = "ab".repeat(32);
        let package = SavedPackage {
            guid: guid.clone(),
            database: Some("MESCDM".into()),
            file_name: "MESCDM.zip".into(),
            location: "/b/MESCDM.zip".into(),
            sidecar_file_name: "MESCDM.zip.mesbackup.json".into(),
            size: 10,
            sha256: sha.clone(),
            started_at_ms: Some(1),
            ready_at_ms: None,
            finished_at_ms: 3,
            notes: vec!["a note".into()],
        };
        let jobs = [
            JobEvent::Started { database: "MESCDM".into(), guid: guid.clone(), at_ms: 1 },
            JobEvent::Pending { guid: guid.clone(), polls: 1, waited_ms: 2, next_poll_in_ms: 3 },
            JobEvent::Retrying { guid: None, reason: "503".into(), failures: 1, delay_ms: 5 },
            JobEvent::Ready { guid: guid.clone(), file_name: "MESCDM.zip".into(), size: None },
            JobEvent::Progress { guid: guid.clone(), bytes: 5, total: Some(10) },
            JobEvent::Warning { guid: Some(guid.clone()), message: "careful".into() },
            JobEvent::Restarting {
                lost_guid: guid.clone(),
                restarts_used: 1,
                restart_budget: 2,
                reason: "lost".into(),
            },
            JobEvent::Saved { package: package.clone() },
            JobEvent::Failed { error: error.clone() },
        ];
        let mut events: Vec<CliEvent> = jobs.iter().map(|e| CliEvent::job(e, Some("MESCDM"))).collect();
        events.push(CliEvent::job(&jobs[1], None));
        events.push(CliEvent::warning(None, "the token file is readable by other users"));
        events.push(CliEvent::Failed {
            error: error.clone(),
            database: None,
            path: Some("/b/x.zip".into()),
            environment: None,
        });
        events.push(CliEvent::job(&JobEvent::Failed { error: error.clone() }, Some("MESCDM")).in_environment("prod"));
        events.push(
            CliEvent::job(&JobEvent::Warning { guid: None, message: "w".into() }, Some("MESCDM"))
                .in_environment("prod"),
        );
        events.push(CliEvent::StalePartialRemoved {
            partial: StalePartial {
                path: PathBuf::from("/b/.MESCDM.zip.1a2b3c4d.mesbackup-partial"),
                file_name: ".MESCDM.zip.1a2b3c4d.mesbackup-partial".into(),
                target_name: Some("MESCDM.zip".into()),
                size: 7,
                is_sidecar: false,
            },
            lost_download: true,
            message: "removed".into(),
        });
        let summary = |outcome, file: Option<&str>, error: Option<Error>| JobSummary {
            database: Some("MESCDM".into()),
            guid: Some(guid.clone()),
            outcome,
            file: file.map(Into::into),
            size: file.map(|_| 10),
            sha256: file.map(|_| sha.clone()),
            error,
        };
        events.push(CliEvent::Summary {
            ok: false,
            exit_code: 9,
            results: vec![
                summary(OutcomeKind::Saved, Some("/b/MESCDM.zip"), None),
                summary(OutcomeKind::Started, None, None),
                summary(OutcomeKind::Pending, None, None),
                summary(OutcomeKind::Failed, None, Some(error.clone())),
            ],
            backup_window: Some(SavedWindow {
                started_at: "2026-11-25T09:40:00.000Z".into(),
                finished_at: "2026-11-25T10:40:00.000+01:00".into(),
            }),
        });
        events.push(CliEvent::Summary { ok: true, exit_code: 0, results: vec![], backup_window: None });
        events.push(CliEvent::Names {
            system: "MES".into(),
            version: "11.3.0".into(),
            packages: vec![PackageNames {
                kind: DatabaseKind::Cdm,
                database: "MESCDM".into(),
                generic: "Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip".into(),
                system_specific: "MES.Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip".into(),
            }],
        });
        let names = [
            "MES.Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip",
            "Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip",
            "Cmf.ClickHouse.FullBackup.ODS.11.2.0.zip",
            "cmf.clickhouse.fullbackup.dwh.11.3.0.zip",
        ];
        let report = mesbackup_core::naming::check_folder(&names, "MES", "11.3.0").unwrap();
        assert!(!report.ignored.is_empty() && !report.near_misses.is_empty());
        events.push(CliEvent::FolderReport { folder: "/i".into(), complete: report.complete(), report });
        for (mode, sha256, sidecar) in
            [(StageMode::Copy, Some(sha.clone()), Some("/i/x.json")), (StageMode::Move, None, None)]
        {
            events.push(CliEvent::Staged {
                package: StagedPackage {
                    source: "/b/MESCDM.zip".into(),
                    target: "/i/Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip".into(),
                    file_name: "Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip".into(),
                    kind: DatabaseKind::Cdm,
                    size: 10,
                    sha256,
                    mode,
                    replaced: false,
                    sidecar: sidecar.map(PathBuf::from),
                },
            });
        }
        let entry = PruneEntry {
            package: "/b/MESCDM.zip".into(),
            sidecar: "/b/MESCDM.zip.mesbackup.json".into(),
            database: None,
            finished_at: Some("2026-11-25T09:40:00.000Z".into()),
            size: 10,
            keep: false,
            reasons: vec![],
        };
        for deleted in [None, Some(vec!["/b/MESCDM.zip".to_owned()])] {
            let policy = mesbackup_core::retention::RetentionPolicy::last(1);
            let plan = PrunePlan { keep: 1, policy, entries: vec![entry.clone()] };
            events.push(CliEvent::Prune { folder: "/b".into(), plan, applied: deleted.is_some(), deleted });
        }
        {
            use mesbackup_client::run::hooks::{HookPhase, HookReport};
            use mesbackup_client::run::{
                DatabaseOutcome, DatabaseReport, EnvironmentPlan, EnvironmentReport, EnvironmentResult,
                PlannedDatabase, RetentionReport, RunReport, RunStep, WaitUntilReport,
            };
            use mesbackup_core::run_config::Hooks;
            let policy =
                mesbackup_core::retention::RetentionPolicy { keep_last: 2, keep_daily: 7, ..Default::default() };
            let saved = DatabaseReport {
                database: "MES".into(),
                outcome: DatabaseOutcome::Saved,
                file: Some("/b/MES.zip".into()),
                size: Some(10),
                sha256: Some("ab".repeat(32)),
                verified: Some(true),
                staged_as: Some("/p/MES.Cmf.ClickHouse.FullBackup.Online.11.3.0.zip".into()),
                test_restore: Some(TestRestoreResult {
                    path: "/b/MES.zip".into(),
                    ok: true,
                    verified: Some(true),
                    verify_ms: Some(3),
                    database: Some("MES".into()),
                    target_database: Some("mesbackup_testrestore_MES_0badc0de".into()),
                    restore_ms: Some(40),
                    dropped: Some(true),
                    tables_checked: Some(1),
                    rows_checked: Some(5),
                    elapsed_ms: 50,
                    ..Default::default()
                }),
                error: None,
            };
            let failed = DatabaseReport {
                database: "MESCDM".into(),
                outcome: DatabaseOutcome::Failed,
                file: None,
                size: None,
                sha256: None,
                verified: None,
                staged_as: None,
                test_restore: None,
                error: Some(Error::new(ErrorKind::ServerError, "500")),
            };
            let hook = HookReport {
                phase: HookPhase::Before,
                program: "sqlcmd".into(),
                ok: false,
                exit_code: Some(1),
                duration_ms: 5,
                message: Some("before hook \"sqlcmd\" exited with status 1".into()),
            };
            let window = mesbackup_core::mes::BackupWindow {
                started_at: "2026-11-25T09:40:00.000Z".into(),
                finished_at: "2026-11-25T09:45:00.000Z".into(),
                sql_backup_finished_at: Some("2026-11-25T09:39:00.000Z".into()),
                reprocess_from: "2026-11-25T09:39:00.000Z".into(),
            };
            let environment = EnvironmentReport {
                name: "prod".into(),
                system: "MES".into(),
                out: "/b".into(),
                result: EnvironmentResult::Failed,
                failed_step: Some(RunStep::Backup),
                message: Some("MESCDM: 500".into()),
                exit_code: 7,
                sql_backup_finished_at: Some("2026-11-25T09:39:00.000Z".into()),
                backup_window: Some(window),
                databases: vec![saved, failed],
                hooks: vec![hook],
                wait_until: Some(WaitUntilReport {
                    program: "check-lag".into(),
                    ok: true,
                    attempts: 3,
                    duration_ms: 120_000,
                    message: None,
                }),
                retention: Some(RetentionReport { policy, deleted: vec!["/b/old.zip".into()], kept: 3 }),
                duration_ms: 9,
            };
            let report = RunReport {
                ok: false,
                exit_code: 7,
                finished_at: "2026-11-25T09:46:00.000Z".into(),
                duration_ms: 10,
                environments: vec![environment],
                ping_errors: vec!["ping at the end of the run failed: HTTP 404".into()],
                storage: vec![mesbackup_client::run::storage::FolderStorage {
                    environment: "prod".into(),
                    role: mesbackup_client::run::storage::FolderRole::Out,
                    folder: "/b".into(),
                    free_bytes: Some(1 << 30),
                    total_bytes: Some(10 << 30),
                    low: false,
                    databases: vec![mesbackup_client::run::storage::DatabaseStorage {
                        database: "MES".into(),
                        packages: 1,
                        bytes: 10,
                    }],
                }],
            };
            events.push(CliEvent::RunSummary { report: Box::new(report) });
            let plan = EnvironmentPlan {
                name: "prod".into(),
                url: "https://mes.example.com".into(),
                system: "MES".into(),
                out: "/b".into(),
                stage_into: None,
                databases: vec![PlannedDatabase { database: "MES".into(), file_name: None }],
                hooks: Hooks { before: vec![vec!["true".into()]], timeout_ms: 1000, ..Hooks::default() },
                wait_until: Some(mesbackup_core::run_config::WaitUntil {
                    command: vec!["check-lag".into()],
                    interval_ms: 60_000,
                    deadline_ms: 7_200_000,
                    timeout_ms: None,
                }),
                verify: true,
                test_restore: Some(mesbackup_core::run_config::TestRestoreConfig {
                    clickhouse_url: "http://127.0.0.1:8123".into(),
                    allow_insecure_http: false,
                    user_env: "CLICKHOUSE_USER".into(),
                    password_env: "CLICKHOUSE_PASSWORD".into(),
                    backup_path: "/var/lib/clickhouse/backups/mesbackup".into(),
                    path_on_server: None,
                    prefix: "mesbackup_testrestore_".into(),
                    storage_policy: None,
                    databases: vec![mesbackup_core::naming::DatabaseKind::Cdm],
                    timeout_ms: 3_600_000,
                }),
                retention: Some(PrunePlan { keep: 2, policy, entries: vec![entry.clone()] }),
            };
            events.push(CliEvent::RunPlan { environments: vec![plan] });
        }
        for action in [CredentialAction::Set, CredentialAction::Delete, CredentialAction::Test] {
            events.push(CliEvent::Credential {
                action,
                service: "mesbackup".into(),
                entry: "prod".into(),
                store: "Linux kernel keyring (keyutils)".into(),
                location: "user key keyring:prod@mesbackup".into(),
                present: true,
            });
        }
        events.push(CliEvent::Demo {
            server: "http://127.0.0.1:1/".into(),
            folder: "d".into(),
            system: "MES".into(),
            version: "11.3.0".into(),
        });
        let time = Some("2026-11-25T09:40:00.000Z".to_owned());
        events.push(CliEvent::BackupWindow {
            folder: "/b".into(),
            started_at: time.clone(),
            finished_at: time.clone(),
            sql_backup_finished_at: time.clone(),
            reprocess_from: time.clone(),
            packages: vec![WindowPackage {
                file: "MESCDM.zip".into(),
                database: None,
                started_at: time,
                finished_at: None,
            }],
        });
        events.push(CliEvent::BackupWindow {
            folder: "/b".into(),
            started_at: None,
            finished_at: None,
            sql_backup_finished_at: None,
            reprocess_from: None,
            packages: vec![],
        });
        events.push(CliEvent::Verified { path: "/b/a.zip".into(), report: sound });
        events.push(CliEvent::Verified { path: "/b/b.zip".into(), report: damaged });
        events.push(CliEvent::Inspected { path: "/b/a.zip".into(), verified: true, inspection });
        let plan = mesbackup_core::restore::RestorePlan {
            source_database: "MESFIX".into(),
            target_database: "MESFIX_x".into(),
            problems: vec![PlanProblem {
                kind: ProblemKind::MissingPolicy,
                name: "tiered".into(),
                tables: vec!["MESFIX.t".into()],
                message: "no policy".into(),
            }],
            notes: vec!["a note".into()],
            settings: vec![("storage_policy".into(), "default".into())],
            tables: vec![("t".into(), 5)],
        };
        events.push(CliEvent::RestorePlan { path: "/b/a.zip".into(), dry_run: true, plan, sql: "RESTORE".into() });
        for step in [
            RestoreStep::Extracted { dir: "/s/x".into(), files: 3, bytes: 4 },
            RestoreStep::Started { operation_id: "op".into() },
            RestoreStep::Restoring(RestoreProgress {
                id: "op".into(),
                status: "RESTORING".into(),
                ..Default::default()
            }),
        ] {
            events.push(CliEvent::RestoreProgress { path: "/b/a.zip".into(), step });
        }
        let tables = vec![
            RowCheck { table: "t".into(), expected: 5, actual: Some(5), ok: true },
            RowCheck { table: "u".into(), expected: 5, actual: None, ok: false },
        ];
        let report = RestoreReport {
            database: "MESFIX".into(),
            target_database: "MESFIX_x".into(),
            dry_run: false,
            operation_id: Some("op".into()),
            tables: tables.clone(),
            rows: 5,
            elapsed_ms: 9,
        };
        events.push(CliEvent::Restored { path: "/b/a.zip".into(), ok: report.ok(), report });
        events.push(CliEvent::TestRestore {
            result: TestRestoreResult { path: "/b/missing.zip".into(), error: Some(error), ..Default::default() },
        });
        events.push(CliEvent::TestRestore {
            result: TestRestoreResult {
                path: "/b/a.zip".into(),
                ok: true,
                verified: Some(true),
                verify_ms: Some(1),
                database: Some("MESFIX".into()),
                target_database: Some("mesbackup_check_MESFIX_0a1b2c3d".into()),
                problems: Some(vec![]),
                restore_ms: Some(2),
                dropped: Some(true),
                tables_checked: Some(2),
                rows_checked: Some(5),
                tables: Some(tables),
                error: None,
                elapsed_ms: 3,
            },
        });
        events
    }

    /// Runs cli/tests/validate_events.py (Python's jsonschema, Draft 2020-12) over `lines`; returns
    /// its findings, one "line N: ..." per event that does not validate.
    fn validate(schema: &Value, lines: &[String]) -> String {
        use std::io::Write;
        use std::process::{Command, Stdio};
        let dir = tempfile::tempdir().unwrap();
        let schema_path = dir.path().join("events.schema.json");
        std::fs::write(&schema_path, schema.to_string()).unwrap();
        let python = std::env::var("MESBACKUP_PYTHON").unwrap_or_else(|_| "python3".into());
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/validate_events.py");
        let mut child = Command::new(&python)
            .arg(script)
            .arg(&schema_path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {python} (set MESBACKUP_PYTHON to a Python with jsonschema): {e}"));
        child.stdin.take().unwrap().write_all((lines.join("\n") + "\n").as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{python} could not validate (scripts/suites/20-cli.sh installs jsonschema): {text}"
        );
        text
    }

    /// Every event kind validates as printed, and adding a field to any of them, at the top or in a
    /// nested object, makes it invalid: the generated schema is neither unsatisfiable nor open.
    #[test]
    fn every_event_matches_the_schema_exactly() {
        let schema = generate();
        let lines: Vec<String> = one_of_each().iter().map(|e| serde_json::to_string(e).unwrap()).collect();
        let kinds: std::collections::BTreeSet<String> = lines
            .iter()
            .map(|l| serde_json::from_str::<Value>(l).unwrap()["event"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(kinds.len(), schema["oneOf"].as_array().unwrap().len(), "one sample per event kind: {kinds:?}");
        let found = validate(&schema, &lines);
        assert!(found.is_empty(), "events as printed do not validate:\n{found}");

        // An unknown field: at the top of each event, and inside a nested object of a few.
        let mut widened: Vec<String> = Vec::new();
        for line in &lines {
            let mut v: Value = serde_json::from_str(line).unwrap();
            v["unexpected"] = json!(1);
            widened.push(v.to_string());
        }
        for (event, pointer) in [
            ("saved", "/package"),
            ("verified", "/report"),
            ("inspected", "/inspection"),
            ("folder_report", "/report"),
            ("restore_plan", "/plan"),
            ("failed", "/error"),
        ] {
            let line = lines.iter().find(|l| l.contains(&format!("\"event\":\"{event}\""))).unwrap();
            let mut v: Value = serde_json::from_str(line).unwrap();
            v.pointer_mut(pointer).unwrap()["unexpected"] = json!(1);
            widened.push(v.to_string());
        }
        let found = validate(&schema, &widened);
        let rejected = found.lines().filter(|l| l.starts_with("line ")).count();
        assert_eq!(rejected, widened.len(), "every widened event must be rejected; the validator said:\n{found}");
    }

    /// The committed schema is the one generated from [`CliEvent`].
    #[test]
    fn event_schema() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("events.schema.json");
        let generated = serde_json::to_string_pretty(&generate()).unwrap() + "\n";
        if std::env::var_os("MESBACKUP_WRITE_SCHEMA").is_some() {
            std::fs::write(&path, &generated).unwrap();
            return;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "cli/events.schema.json differs from the schema generated from cli/src/events.rs: regenerate it with\n  \
             MESBACKUP_WRITE_SCHEMA=1 cargo test -p mesbackup-cli --bin mesbackup event_schema\nand commit it"
        );
    }
}
