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
}

impl CliEvent {
    /// A core job event of the job backing up `database` (when known).
    pub fn job(event: &JobEvent, database: Option<&str>) -> CliEvent {
        let database = database.map(str::to_owned);
        match event {
            JobEvent::Failed { error } => CliEvent::Failed { error: error.clone(), database, path: None },
            // It names its database itself.
            JobEvent::Started { .. } => CliEvent::Job(JobLine { event: event.clone(), database: None }),
            // A download by GUID learns the database from the package.
            JobEvent::Saved { package } => {
                CliEvent::Job(JobLine { event: event.clone(), database: database.or_else(|| package.database.clone()) })
            }
            _ => CliEvent::Job(JobLine { event: event.clone(), database }),
        }
    }

    /// Something the administrator should know that belongs to no job event (the job goes on).
    pub fn warning(database: Option<&str>, message: &str) -> CliEvent {
        CliEvent::job(&JobEvent::Warning { guid: None, message: message.to_owned() }, database)
    }
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
