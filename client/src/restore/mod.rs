//! Restoring a package into a ClickHouse server: the target's facts for core's restore plan,
//! extraction of the backup root to a folder the server can read, `RESTORE ... ASYNC`, following
//! `system.backups` until RESTORED or RESTORE_FAILED, and per-table row counts compared with the
//! package. [`flow`] puts the steps together once for every front end.
//!
//! SQL goes through [`SqlExecutor`], so a front end can pass another executor (the Python binding:
//! any callable, e.g. a chdb session). [`HttpExecutor`] speaks ClickHouse's HTTP interface.

mod clickhouse;
mod extract;
pub mod flow;
mod steps;

pub use clickhouse::{parse_json_each_row, ClickHouseCredentials, ClickHouseOptions, HttpExecutor, SqlExecutor};
pub use extract::{extract_backup_root, unique_dir};
pub use flow::{
    restore_package, server_view, test_restore_package, RestoreReport, RestoreRequest, RestoreStep, TestRestoreOptions,
    TestRestoreResult, FOLLOW_INTERVAL,
};
pub use steps::{
    compare_row_counts, follow_restore, package_database, start_restore, target_facts, RestoreProgress, RowCheck,
};
