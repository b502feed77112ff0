//! Restoring a package into a ClickHouse server: the target's facts for core's restore plan,
//! extraction of the backup root to a folder the server can read, `RESTORE ... ASYNC`, following
//! `system.backups` until RESTORED or RESTORE_FAILED, and per-table row counts compared with the
//! package.
//!
//! SQL goes through [`SqlExecutor`], so a front end can pass another executor (the Python binding:
//! any callable, e.g. a chdb session). [`HttpExecutor`] speaks ClickHouse's HTTP interface.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use mesbackup_core::inspect::Inspection;
use mesbackup_core::restore_plan::{
    json_u64, quote_ident, quote_string, TargetFacts, FACTS_QUERIES,
};
use mesbackup_core::zipstream::{EntryEnd, EntryHeader, ZipStream, ZipVisitor};
use mesbackup_core::{Error, ErrorKind};
use serde_json::Value;

/// Runs one SQL statement and returns its result rows (JSONEachRow, parsed).
#[async_trait]
pub trait SqlExecutor: Send + Sync {
    async fn query(&self, sql: &str) -> Result<Vec<Value>, Error>;
}

/// ClickHouse's HTTP interface: the statement is the POST body, `default_format=JSONEachRow`.
pub struct HttpExecutor {
    url: String,
    user: Option<String>,
    password: Option<String>,
    client: reqwest::Client,
}

impl HttpExecutor {
    /// `user`/`password` are sent as `X-ClickHouse-User` / `X-ClickHouse-Key` headers.
    pub fn new(
        url: &str,
        user: Option<String>,
        password: Option<String>,
    ) -> Result<HttpExecutor, Error> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| Error::invalid_argument(format!("cannot build the HTTP client: {e}")))?;
        let authority = url.split("://").nth(1).unwrap_or("").split('/').next().unwrap_or("");
        if authority.contains('@') {
            // Never echo it: the part before '@' is a credential.
            return Err(Error::invalid_argument(
                "the ClickHouse URL contains credentials: remove user:password@ and set CLICKHOUSE_USER / CLICKHOUSE_PASSWORD",
            ));
        }
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(Error::invalid_argument(
                "--clickhouse must be an http:// or https:// URL (for example http://127.0.0.1:8123)",
            ));
        }
        Ok(HttpExecutor {
            url: url.to_owned(),
            user,
            password,
            client,
        })
    }
}

/// Rows of a JSONEachRow body.
pub fn parse_json_each_row(body: &str) -> Result<Vec<Value>, Error> {
    body.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str(l).map_err(|e| {
                Error::new(
                    ErrorKind::UnexpectedResponse,
                    format!(
                        "ClickHouse answered a line that is not JSON ({e}): {}",
                        mesbackup_core::error::quote_untrusted(l, 200)
                    ),
                )
            })
        })
        .collect()
}

#[async_trait]
impl SqlExecutor for HttpExecutor {
    async fn query(&self, sql: &str) -> Result<Vec<Value>, Error> {
        let mut req = self
            .client
            .post(&self.url)
            .query(&[("default_format", "JSONEachRow")])
            .body(sql.to_owned());
        if let Some(u) = &self.user {
            req = req.header("X-ClickHouse-User", u);
        }
        if let Some(p) = &self.password {
            req = req.header("X-ClickHouse-Key", p);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| Error::network(format!("cannot reach ClickHouse at {}: {e}", self.url)))?;
        let status = resp.status();
        let body = resp.text().await.map_err(|e| {
            Error::network(format!(
                "ClickHouse at {}: the answer broke off: {e}",
                self.url
            ))
        })?;
        if !status.is_success() {
            let kind = match status.as_u16() {
                401 => ErrorKind::Unauthorized,
                403 => ErrorKind::Forbidden,
                _ => ErrorKind::ServerError,
            };
            return Err(Error::new(
                kind,
                format!(
                    "ClickHouse answered {status}: {}",
                    mesbackup_core::error::quote_untrusted(body.trim(), 600)
                ),
            ));
        }
        parse_json_each_row(&body)
    }
}

/// Queries the target's storage policies, disks and databases.
pub async fn target_facts(exec: &dyn SqlExecutor) -> Result<TargetFacts, Error> {
    let mut rows = Vec::new();
    for q in FACTS_QUERIES {
        rows.push(exec.query(q).await?);
    }
    Ok(TargetFacts::from_rows(
        &rows[0], &rows[1], &rows[2], &rows[3],
    ))
}

struct Extractor<'a> {
    root: String,
    dest: &'a Path,
    file: Option<File>,
    files: u64,
    bytes: u64,
    error: Option<Error>,
}

impl Extractor<'_> {
    fn fail(&mut self, e: Error) {
        if self.error.is_none() {
            self.error = Some(e);
        }
        self.file = None;
    }
}

impl ZipVisitor for Extractor<'_> {
    fn entry_start(&mut self, h: &EntryHeader) {
        self.file = None;
        if self.error.is_some() || h.unsafe_name || h.name.ends_with('/') {
            return;
        }
        let Some(rel) = h.name.strip_prefix(self.root.as_str()) else {
            return;
        };
        if rel.is_empty() {
            return;
        }
        let path = self.dest.join(rel);
        if let Some(parent) = path.parent() {
            if let Err(e) = fs::create_dir_all(parent) {
                return self.fail(Error::io(format!(
                    "cannot create {}: {e}",
                    parent.display()
                )));
            }
        }
        match File::create(&path) {
            Ok(f) => {
                self.file = Some(f);
                self.files += 1;
            }
            Err(e) => self.fail(Error::io(format!("cannot create {}: {e}", path.display()))),
        }
    }
    fn entry_data(&mut self, data: &[u8]) {
        if let Some(f) = &mut self.file {
            if let Err(e) = f.write_all(data) {
                self.fail(Error::io(format!(
                    "cannot write under {}: {e}",
                    self.dest.display()
                )));
            } else {
                self.bytes += data.len() as u64;
            }
        }
    }
    fn entry_end(&mut self, end: &EntryEnd) {
        if self.file.take().is_some() && !end.crc_ok {
            self.fail(Error::new(
                ErrorKind::Integrity,
                format!("{}: CRC mismatch while extracting", end.name),
            ));
        }
    }
}

/// Extracts the files under `backup_root` (the folder of the `.backup` manifest inside the zip) of
/// `package` into `dest` (created). Returns (files, bytes).
pub fn extract_backup_root(
    package: &Path,
    backup_root: &str,
    dest: &Path,
) -> Result<(u64, u64), Error> {
    fs::create_dir_all(dest)
        .map_err(|e| Error::io(format!("cannot create {}: {e}", dest.display())))?;
    let mut f = File::open(package)
        .map_err(|e| Error::io(format!("cannot open {}: {e}", package.display())))?;
    let mut x = Extractor {
        root: backup_root.to_owned(),
        dest,
        file: None,
        files: 0,
        bytes: 0,
        error: None,
    };
    let mut zs = ZipStream::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => zs.feed(&buf[..n], &mut x),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io(format!("cannot read {}: {e}", package.display()))),
        }
        if let Some(e) = x.error.take() {
            return Err(e);
        }
    }
    zs.finish(&mut x);
    if let Some(e) = x.error.take() {
        return Err(e);
    }
    if !dest.join(".backup").is_file() {
        return Err(Error::new(
            ErrorKind::Integrity,
            format!(
                "{}: no .backup manifest under {backup_root:?}",
                package.display()
            ),
        ));
    }
    Ok((x.files, x.bytes))
}

/// A fresh folder name under `base` for one restore.
pub fn unique_dir(base: &Path, database: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let safe: String = database
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    base.join(format!(
        "mesbackup-restore-{safe}-{}-{nanos}",
        std::process::id()
    ))
}

/// One look at the restore in `system.backups`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RestoreProgress {
    #[serde(rename = "operation_id")]
    pub id: String,
    pub status: String,
    pub error: String,
    pub num_files: u64,
    pub files_read: u64,
    pub total_size: u64,
    pub bytes_read: u64,
}

/// Runs the `RESTORE ... ASYNC` statement and returns the operation id.
pub async fn start_restore(exec: &dyn SqlExecutor, sql: &str) -> Result<String, Error> {
    let rows = exec.query(sql).await?;
    rows.first()
        .and_then(|r| r.get("id"))
        .and_then(|v| v.as_str())
        .map(str::to_owned)
        .ok_or_else(|| {
            Error::new(
                ErrorKind::UnexpectedResponse,
                "RESTORE ... ASYNC returned no operation id",
            )
        })
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
    let sql = format!(
        "SELECT * FROM system.backups WHERE id = {}",
        quote_string(id)
    );
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
pub struct RowCheck {
    pub table: String,
    #[serde(rename = "expected_rows")]
    pub expected: u64,
    #[serde(rename = "rows")]
    pub actual: Option<u64>,
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
        let sql = format!(
            "SELECT count() AS c FROM {}.{}",
            quote_ident(database),
            quote_ident(t)
        );
        let rows = exec.query(&sql).await?;
        let actual = rows.first().and_then(|r| r.get("c")).and_then(json_u64);
        out.push(RowCheck {
            table: t.clone(),
            expected: *want,
            actual,
            ok: actual == Some(*want),
        });
    }
    Ok(out)
}

/// The single database of a package, or an error naming them when there are several.
pub fn package_database(inspection: &Inspection) -> Result<String, Error> {
    match inspection.databases.as_slice() {
        [one] => Ok(one.name.clone()),
        [] => Err(Error::new(
            ErrorKind::Integrity,
            "the package holds no database",
        )),
        many => Err(Error::invalid_argument(format!(
            "the package holds several databases ({}): not supported yet",
            many.iter()
                .map(|d| d.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

#[cfg(test)]
mod url_tests {
    use super::HttpExecutor;

    #[test]
    fn credentials_in_the_url_are_refused_without_echo() {
        let err = HttpExecutor::new("http://admin:s3cret@127.0.0.1:8123", None, None).err().unwrap();
        assert!(!err.message.contains("s3cret"));
        let err = HttpExecutor::new("ftp://admin:s3cret@host", None, None).err().unwrap();
        assert!(!err.message.contains("s3cret"));
        assert!(HttpExecutor::new("ftp://host", None, None).is_err());
        assert!(HttpExecutor::new("http://127.0.0.1:8123", None, None).is_ok());
    }
}
