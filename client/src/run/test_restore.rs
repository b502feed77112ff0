//! `[environment.test_restore]` in a run: each new package of the chosen databases goes through the
//! same flow as `mesbackup test-restore` ([`crate::restore::test_restore_package`]): verify,
//! restore into a throwaway database, compare row counts, drop it only if it is still ours.
//!
//! The ClickHouse credentials are resolved with the MES ones, before anything is sent, so a missing
//! variable fails the environment at load time and not after a night of backups.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mesbackup_core::file_modes::FileModes;
use mesbackup_core::naming::DatabaseKind;
use mesbackup_core::run_config::TestRestoreConfig;
use mesbackup_core::{Error, ErrorKind};
use tokio_util::sync::CancellationToken;

use crate::restore::{
    test_restore_package, ClickHouseCredentials, ClickHouseOptions, HttpExecutor, RestoreStep, TestRestoreOptions,
    TestRestoreResult,
};

/// The ClickHouse server an environment's packages are test-restored on, ready to use.
pub struct TestRestoreTarget {
    executor: Arc<HttpExecutor>,
    options: TestRestoreOptions,
    databases: Vec<DatabaseKind>,
    secrets: Vec<String>,
}

impl TestRestoreTarget {
    /// Resolves the credentials (`var` looks variables up) and checks the address; errors name the
    /// environment and key. Nothing is sent.
    pub fn prepare(
        environment: &str,
        config: &TestRestoreConfig,
        modes: FileModes,
        var: &dyn Fn(&str) -> Option<String>,
    ) -> Result<TestRestoreTarget, Error> {
        // Checked now, not after a night of backups: every package would fail on it.
        if !Path::new(&config.backup_path).is_dir() {
            return Err(Error::invalid_argument(format!(
                "environment {environment:?}, test_restore.backup_path: {} is not a folder on this machine: create it \
                 where ClickHouse can read it (under its <backups><allowed_path>), or fix the path",
                config.backup_path
            )));
        }
        let value = |name: &str| var(name).filter(|v| !v.is_empty());
        let credentials =
            ClickHouseCredentials { user: value(&config.user_env), password: value(&config.password_env) };
        let secrets = credentials.secrets();
        let options =
            ClickHouseOptions { allow_insecure_http: config.allow_insecure_http, ..ClickHouseOptions::default() };
        let executor = HttpExecutor::new(&config.clickhouse_url, credentials, &options).map_err(|e| {
            Error::new(e.kind, format!("environment {environment:?}, test_restore.clickhouse_url: {}", e.message))
        })?;
        Ok(TestRestoreTarget {
            executor: Arc::new(executor),
            options: TestRestoreOptions {
                prefix: config.prefix.clone(),
                keep: false,
                storage_policy: config.storage_policy.clone(),
                server_backup_path: PathBuf::from(&config.backup_path),
                path_on_server: config.path_on_server.clone(),
                modes,
                timeout: Duration::from_millis(config.timeout_ms),
            },
            databases: config.databases.clone(),
            secrets,
        })
    }

    /// Whether packages of `kind` are test-restored.
    pub fn covers(&self, kind: DatabaseKind) -> bool {
        self.databases.contains(&kind)
    }

    /// The ClickHouse password, for front ends that scrub their output.
    pub fn secrets(&self) -> &[String] {
        &self.secrets
    }

    /// ClickHouse's address as shown (no credentials).
    pub fn url(&self) -> &str {
        self.executor.url()
    }

    /// Test-restores `package` off the async threads (verification reads the whole file), until it
    /// is done or `cancel` fires. A cancelled test removes its extracted folder and names the
    /// throwaway database that may be left.
    pub async fn test(&self, package: &Path, cancel: &CancellationToken) -> TestRestoreResult {
        let executor = Arc::clone(&self.executor);
        let options = self.options.clone();
        let path = package.to_path_buf();
        let cancel = cancel.clone();
        let handle = tokio::runtime::Handle::current();
        let shown = package.display().to_string();
        tokio::task::spawn_blocking(move || {
            // What the flow reached, for the cancelled case: its throwaway database and folder.
            let reached: Arc<Mutex<(Option<String>, Option<String>)>> = Arc::default();
            let seen = Arc::clone(&reached);
            let mut on_step = move |step: RestoreStep| {
                let mut r = seen.lock().unwrap_or_else(|p| p.into_inner());
                match step {
                    RestoreStep::Planned { plan, .. } => r.0 = Some(plan.target_database),
                    RestoreStep::Extracted { dir, .. } => r.1 = Some(dir),
                    _ => {}
                }
            };
            handle.block_on(async {
                tokio::select! {
                    r = test_restore_package(executor.as_ref(), &path, &options, &mut on_step) => r,
                    () = cancel.cancelled() => {
                        let (database, dir) = reached.lock().unwrap_or_else(|p| p.into_inner()).clone();
                        if let Some(dir) = &dir {
                            let _ = std::fs::remove_dir_all(dir);
                        }
                        let left = database.map_or(String::new(), |d| {
                            format!("; the throwaway database '{d}' may be left on the server: drop it by hand")
                        });
                        TestRestoreResult {
                            path: path.display().to_string(),
                            error: Some(Error::new(ErrorKind::Cancelled, format!("the test restore was cancelled{left}"))),
                            ..TestRestoreResult::default()
                        }
                    }
                }
            })
        })
        .await
        .unwrap_or_else(|e| TestRestoreResult {
            path: shown,
            error: Some(Error::new(ErrorKind::Internal, format!("test-restore task: {e}"))),
            ..TestRestoreResult::default()
        })
    }
}
