//! The statements of a restore, one function each: the target's facts, `RESTORE ... ASYNC`,
//! following `system.backups`, and the row counts compared with the package.

use std::time::Duration;

use mesbackup_core::package::Inspection;
use mesbackup_core::restore::{json_u64, quote_ident, quote_string, TargetFacts, FACTS_QUERIES};
use mesbackup_core::{Error, ErrorKind};

use super::clickhouse::SqlExecutor;

/// Queries the target's storage policies, disks and databases.
pub async fn target_facts(exec: &dyn SqlExecutor) -> Result<TargetFacts, Error> {
    let mut rows = Vec::new();
    for q in FACTS_QUERIES {
        rows.push(exec.query(q).await?);
    }
    Ok(TargetFacts::from_rows(&rows[0], &rows[1], &rows[2], &rows[3]))
}

/// One look at the restore in `system.backups`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RestoreProgress {
    /// ClickHouse's id of the restore operation (serialised as `operation_id`).
    #[serde(rename = "operation_id")]
    pub id: String,
    /// The `system.backups` status, e.g. `RESTORING`, `RESTORED`, `RESTORE_FAILED`; empty if absent.
    pub status: String,
    /// ClickHouse's error text after RESTORE_FAILED, as the server sent it (untrusted); else empty.
    pub error: String,
    /// Files in the backup being restored (0 if absent).
    pub num_files: u64,
    /// Files of the backup read so far.
    pub files_read: u64,
    /// Total size of the backup's files, in bytes.
    pub total_size: u64,
    /// Bytes of the backup read so far.
    pub bytes_read: u64,
}

/// Runs the `RESTORE ... ASYNC` statement and returns the operation id.
pub async fn start_restore(exec: &dyn SqlExecutor, sql: &str) -> Result<String, Error> {
    let rows = exec.query(sql).await?;
    rows.first()
        .and_then(|r| r.get("id"))
        .and_then(|v| v.as_str())
        .map(str::to_owned)
        .ok_or_else(|| Error::new(ErrorKind::UnexpectedResponse, "RESTORE ... ASYNC returned no operation id"))
}

/// Polls `system.backups` for `id` every `interval` until RESTORED (Ok) or RESTORE_FAILED (Err,
/// with ClickHouse's error), calling `progress` on every look.
pub async fn follow_restore(
    exec: &dyn SqlExecutor,
    id: &str,
    interval: Duration,
    timeout: Duration,
    progress: &mut dyn FnMut(&RestoreProgress),
) -> Result<RestoreProgress, Error> {
    let sql = format!("SELECT * FROM system.backups WHERE id = {}", quote_string(id));
    let started = std::time::Instant::now();
    loop {
        let rows = exec.query(&sql).await?;
        if let Some(r) = rows.first() {
            let s = |k: &str| r.get(k).and_then(|v| v.as_str()).unwrap_or("").to_owned();
            let n = |k: &str| r.get(k).and_then(json_u64).unwrap_or(0);
            let p = RestoreProgress {
                id: id.to_owned(),
                status: s("status"),
                error: s("error"),
                num_files: n("num_files"),
                files_read: n("files_read"),
                total_size: n("total_size"),
                bytes_read: n("bytes_read"),
            };
            progress(&p);
            match p.status.as_str() {
                "RESTORED" => return Ok(p),
                "RESTORE_FAILED" => {
                    return Err(Error::new(
                        ErrorKind::ServerError,
                        format!(
                            "RESTORE failed on the server: {}",
                            mesbackup_core::error::quote_untrusted(&p.error, 1000)
                        ),
                    ))
                }
                _ => {}
            }
        }
        if started.elapsed() > timeout {
            return Err(Error::new(
                ErrorKind::Timeout,
                format!("restore {id} still running after {}s", timeout.as_secs()),
            ));
        }
        tokio::time::sleep(interval).await;
    }
}

/// One table's row count after the restore, against the package.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RowCheck {
    /// Table name in the restored database.
    pub table: String,
    /// Rows the package holds for the table (serialised as `expected_rows`).
    #[serde(rename = "expected_rows")]
    pub expected: u64,
    /// Rows `SELECT count()` found after the restore (serialised as `rows`); `None` when the
    /// server's answer held no readable count.
    #[serde(rename = "rows")]
    pub actual: Option<u64>,
    /// The two counts are equal (false when the count is unknown).
    pub ok: bool,
}

/// `SELECT count()` of every table in `expected` (name, rows) in `database`.
pub async fn compare_row_counts(
    exec: &dyn SqlExecutor,
    database: &str,
    expected: &[(String, u64)],
) -> Result<Vec<RowCheck>, Error> {
    let mut out = Vec::new();
    for (t, want) in expected {
        let sql = format!("SELECT count() AS c FROM {}.{}", quote_ident(database), quote_ident(t));
        let rows = exec.query(&sql).await?;
        let actual = rows.first().and_then(|r| r.get("c")).and_then(json_u64);
        out.push(RowCheck { table: t.clone(), expected: *want, actual, ok: actual == Some(*want) });
    }
    Ok(out)
}

/// The single database of a package, or an error naming them when there are several.
pub fn package_database(inspection: &Inspection) -> Result<String, Error> {
    match inspection.databases.as_slice() {
        [one] => Ok(one.name.clone()),
        [] => Err(Error::new(ErrorKind::Integrity, "the package holds no database")),
        many => Err(Error::invalid_argument(format!(
            "the package holds several databases ({}): not supported yet",
            many.iter().map(|d| d.name.as_str()).collect::<Vec<_>>().join(", ")
        ))),
    }
}
