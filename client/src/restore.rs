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
use mesbackup_core::clickhouse_url::ClickHouseUrl;
use mesbackup_core::entry_path::entry_components;
use mesbackup_core::error::quote_untrusted;
use mesbackup_core::file_modes::FileModes;
use mesbackup_core::zipstream::{EntryEnd, EntryHeader, ZipProblem, ZipStream, ZipVisitor};
use mesbackup_core::{Error, ErrorKind};
use serde_json::Value;

/// Runs one SQL statement and returns its result rows (JSONEachRow, parsed).
#[async_trait]
pub trait SqlExecutor: Send + Sync {
    async fn query(&self, sql: &str) -> Result<Vec<Value>, Error>;
}

/// How mesbackup talks to ClickHouse's HTTP interface.
#[derive(Debug, Clone)]
pub struct ClickHouseOptions {
    /// Allow plain `http://` to a server that is not on this machine (`--allow-insecure-http`).
    pub allow_insecure_http: bool,
    /// Time to establish a connection.
    pub connect_timeout: Duration,
    /// Time one statement may take to answer completely (the restore flow's own deadline bounds
    /// it further).
    pub request_timeout: Duration,
}

impl Default for ClickHouseOptions {
    fn default() -> Self {
        ClickHouseOptions {
            allow_insecure_http: false,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(600),
        }
    }
}

/// ClickHouse's user and password: given, else `CLICKHOUSE_USER` / `CLICKHOUSE_PASSWORD` from the
/// environment (never from a command line, which every user can read).
#[derive(Clone, Default)]
pub struct ClickHouseCredentials {
    pub user: Option<String>,
    pub password: Option<String>,
}

impl std::fmt::Debug for ClickHouseCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClickHouseCredentials")
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl ClickHouseCredentials {
    /// The given values, each falling back to its environment variable.
    pub fn given_or_from_env(user: Option<String>, password: Option<String>) -> ClickHouseCredentials {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        ClickHouseCredentials {
            user: user.filter(|u| !u.is_empty()).or_else(|| env("CLICKHOUSE_USER")),
            password: password.filter(|p| !p.is_empty()).or_else(|| env("CLICKHOUSE_PASSWORD")),
        }
    }

    /// What every front end must scrub from anything it shows.
    pub fn secrets(&self) -> Vec<String> {
        self.password.iter().cloned().collect()
    }
}

/// ClickHouse's HTTP interface: the statement is the POST body, `default_format=JSONEachRow`.
/// Redirects are never followed (the password header would go along, and reqwest strips only
/// `Authorization` on a cross-host redirect); no proxy is used for a server on this machine.
pub struct HttpExecutor {
    url: ClickHouseUrl,
    credentials: ClickHouseCredentials,
    client: reqwest::Client,
}

impl HttpExecutor {
    /// `credentials` are sent as `X-ClickHouse-User` / `X-ClickHouse-Key` headers.
    pub fn new(url: &str, credentials: ClickHouseCredentials, options: &ClickHouseOptions) -> Result<HttpExecutor, Error> {
        let url = ClickHouseUrl::parse(url, options.allow_insecure_http)?;
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .referer(false)
            .connect_timeout(options.connect_timeout)
            .timeout(options.request_timeout);
        if url.is_loopback() {
            builder = builder.no_proxy();
        }
        let client = builder
            .build()
            .map_err(|e| Error::invalid_argument(format!("cannot build the HTTP client: {e}")))?;
        Ok(HttpExecutor { url, credentials, client })
    }

    /// The address statements go to (without anything secret).
    pub fn url(&self) -> &str {
        self.url.as_str()
    }

    /// The secrets this executor sends, for front ends to scrub from what they show.
    pub fn secrets(&self) -> Vec<String> {
        self.credentials.secrets()
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
            .post(self.url.as_str())
            .query(&[("default_format", "JSONEachRow")])
            .body(sql.to_owned());
        if let Some(u) = &self.credentials.user {
            req = req.header("X-ClickHouse-User", u);
        }
        if let Some(p) = &self.credentials.password {
            let mut value = reqwest::header::HeaderValue::from_str(p)
                .map_err(|_| Error::invalid_argument("CLICKHOUSE_PASSWORD holds characters that cannot be sent in an HTTP header"))?;
            value.set_sensitive(true);
            req = req.header("X-ClickHouse-Key", value);
        }
        let url = self.url.as_str();
        let resp = req.send().await.map_err(|e| {
            if e.is_timeout() {
                Error::new(ErrorKind::Timeout, format!("ClickHouse at {url} did not answer in time ({})", describe(&e)))
            } else {
                Error::network(format!("cannot reach ClickHouse at {url}: {}", describe(&e)))
            }
        })?;
        let status = resp.status();
        if status.is_redirection() {
            let to = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(|l| l.split(['?', '#']).next().unwrap_or(""))
                .unwrap_or("?");
            return Err(Error::new(
                ErrorKind::UnexpectedResponse,
                format!(
                    "ClickHouse at {url} answered {status}, a redirect to {}: mesbackup never follows a redirect with \
                     ClickHouse credentials. Point --clickhouse at the server itself.",
                    quote_untrusted(to, 200)
                ),
            ));
        }
        let body = resp.text().await.map_err(|e| {
            Error::network(format!("ClickHouse at {url}: the answer broke off: {}", describe(&e)))
        })?;
        // Redact before anything is shortened or quoted: a password cut in half is still a leak.
        let body = redact(&body, &self.credentials.secrets());
        if !status.is_success() {
            let kind = match status.as_u16() {
                401 => ErrorKind::Unauthorized,
                403 => ErrorKind::Forbidden,
                _ => ErrorKind::ServerError,
            };
            return Err(Error::new(
                kind,
                format!("ClickHouse answered {status}: {}", quote_untrusted(body.trim(), 600)),
            ));
        }
        parse_json_each_row(&body)
    }
}

/// A reqwest error and its causes in one line (the URL it names is our own checked one).
fn describe(e: &reqwest::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

/// `text` with every occurrence of every secret replaced by `<redacted>`.
fn redact(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_owned();
    for s in secrets.iter().filter(|s| !s.is_empty()) {
        out = out.replace(s.as_str(), "<redacted>");
    }
    out
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

/// Streams the backup root of a package into a folder of our own, refusing anything that could
/// write elsewhere. `verify` runs first and refuses such a package; this is the second line, for a
/// package that changed between the two passes or a rule `verify` missed: every entry path is
/// checked component by component ([`entry_path`]), the joined path must lie under the folder,
/// folders are created one level at a time and must be real folders (not links), and files are
/// created with "must not exist" semantics without following a link.
struct Extractor<'a> {
    root: String,
    dest: &'a Path,
    modes: FileModes,
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

    fn refuse(&mut self, entry: &str, why: &str) {
        self.fail(Error::new(
            ErrorKind::Integrity,
            format!(
                "zip entry {} {why}; extraction stopped, nothing is written outside {}",
                quote_untrusted(entry, 300),
                self.dest.display()
            ),
        ));
    }

    /// Where `entry` goes under `dest`, with its parent folders created; `None` (and the error set)
    /// when it must not be extracted.
    fn place(&mut self, entry: &str, components: &[&str]) -> Option<PathBuf> {
        let mut path = self.dest.to_path_buf();
        for (i, c) in components.iter().enumerate() {
            path.push(c);
            if i + 1 == components.len() {
                break;
            }
            match make_private_dir(&path, self.modes.dir) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    self.refuse(entry, "needs a folder where the package put a file (or a link)");
                    return None;
                }
                Err(e) => {
                    self.fail(Error::io(format!("cannot create {}: {e}", path.display())));
                    return None;
                }
            }
        }
        // Belt and braces: the components were checked, so this cannot fail; if it ever does, the
        // rule above has a hole, and nothing is written.
        if !path.starts_with(self.dest) || path.components().count() != self.dest.components().count() + components.len() {
            self.refuse(entry, "would be written outside the extraction folder");
            return None;
        }
        Some(path)
    }
}

impl ZipVisitor for Extractor<'_> {
    fn entry_start(&mut self, h: &EntryHeader) {
        self.file = None;
        if self.error.is_some() {
            return;
        }
        if let Some(fault) = h.path_fault {
            return self.refuse(&h.name, &format!("is not a safe path ({})", fault.describe()));
        }
        let Some(rel) = h.name.strip_prefix(self.root.as_str()) else {
            return;
        };
        if rel.is_empty() {
            return;
        }
        let components = match entry_components(rel) {
            Ok(c) => c,
            Err(fault) => return self.refuse(&h.name, &format!("is not a safe path below the backup root ({})", fault.describe())),
        };
        let Some(path) = self.place(&h.name, &components) else { return };
        if h.name.ends_with('/') {
            if let Err(e) = make_private_dir(&path, self.modes.dir) {
                self.fail(Error::io(format!("cannot create {}: {e}", path.display())));
            }
            return;
        }
        match create_new_private(&path, self.modes.file) {
            Ok(f) => {
                self.file = Some(f);
                self.files += 1;
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                self.refuse(&h.name, "appears twice, or collides with a folder or link of the same name")
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
    fn problem(&mut self, problem: ZipProblem) {
        // The package verified a moment ago: any problem now means it changed under us.
        let detail = match &problem {
            ZipProblem::SpecialEntry { entry, detail } => format!("zip entry {} is a {detail}", quote_untrusted(entry, 300)),
            other => format!("{other:?}"),
        };
        self.fail(Error::new(
            ErrorKind::Integrity,
            format!("the package changed or is damaged ({}); extraction stopped", quote_untrusted(&detail, 400)),
        ));
    }
}

/// Creates the folder `path` with `mode` (Unix), or accepts it when it is already a real folder
/// (not a link to one). A set-group-ID bit the folder inherits from its parent is kept, so an
/// administrator's `chmod g+s` on the server backup path still gives ClickHouse's group the files.
fn make_private_dir(path: &Path, mode: u32) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, mode);
    match builder.create(path) {
        Ok(()) => set_exact_mode(path, mode, true),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            let meta = fs::symlink_metadata(path)?;
            if meta.is_dir() {
                Ok(())
            } else {
                Err(io::Error::new(io::ErrorKind::AlreadyExists, "exists and is not a folder"))
            }
        }
        Err(e) => Err(e),
    }
}

/// Gives `path` exactly `mode` (the umask only narrows at creation; a chosen 0640 must be 0640).
fn set_exact_mode(path: &Path, mode: u32, keep_setgid: bool) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let current = fs::symlink_metadata(path)?.permissions().mode();
        let setgid = if keep_setgid { current & 0o2000 } else { 0 };
        fs::set_permissions(path, fs::Permissions::from_mode(mode | setgid))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode, keep_setgid);
    Ok(())
}

/// Creates a new file with `mode`: never an existing file, never through a symbolic link.
fn create_new_private(path: &Path, mode: u32) -> io::Result<File> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode).custom_flags(libc_nofollow());
    }
    let file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    Ok(file)
}

/// `O_NOFOLLOW` where the platform has it (`create_new`'s `O_EXCL` already refuses a link at the
/// last component; this says it twice).
#[cfg(unix)]
fn libc_nofollow() -> i32 {
    #[cfg(target_os = "linux")]
    {
        libc::O_NOFOLLOW
    }
    #[cfg(not(target_os = "linux"))]
    {
        0
    }
}

/// Extracts the files under `backup_root` (the folder of the `.backup` manifest inside the zip) of
/// `package` into `dest`, a new folder (it must not exist; its parent is created if missing) with
/// `modes`. Returns (files, bytes). On any failure `dest` is removed: it held only what this call
/// wrote.
pub fn extract_backup_root(
    package: &Path,
    backup_root: &str,
    dest: &Path,
    modes: FileModes,
) -> Result<(u64, u64), Error> {
    if let Some(parent) = dest.parent() {
        fs::create_dir_all(parent).map_err(|e| Error::io(format!("cannot create {}: {e}", parent.display())))?;
    }
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, modes.dir);
    builder
        .create(dest)
        .and_then(|()| set_exact_mode(dest, modes.dir, true))
        .map_err(|e| Error::io(format!("cannot create the extraction folder {}: {e}", dest.display())))?;
    let result = extract_into(package, backup_root, dest, modes);
    if result.is_err() {
        let _ = fs::remove_dir_all(dest);
    }
    result
}

fn extract_into(package: &Path, backup_root: &str, dest: &Path, modes: FileModes) -> Result<(u64, u64), Error> {
    let mut f = File::open(package)
        .map_err(|e| Error::io(format!("cannot open {}: {e}", package.display())))?;
    let mut x = Extractor {
        root: backup_root.to_owned(),
        dest,
        modes,
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
    use super::{ClickHouseCredentials, ClickHouseOptions, HttpExecutor};

    #[test]
    fn credentials_in_the_url_are_refused_without_echo() {
        let o = ClickHouseOptions::default();
        let none = ClickHouseCredentials::default;
        let err = HttpExecutor::new("http://admin:s3cret@127.0.0.1:8123", none(), &o).err().unwrap();
        assert!(!err.message.contains("s3cret"));
        let err = HttpExecutor::new("http://127.0.0.1:8123/?password=s3cret", none(), &o).err().unwrap();
        assert!(!err.message.contains("s3cret"));
        assert!(HttpExecutor::new("ftp://host", none(), &o).is_err());
        assert!(HttpExecutor::new("http://ch.example.com:8123", none(), &o).is_err());
        assert!(HttpExecutor::new("http://127.0.0.1:8123", none(), &o).is_ok());
    }

    #[test]
    fn credentials_debug_hides_the_password() {
        let c = ClickHouseCredentials { user: Some("u".into()), password: Some("s3cret".into()) };
        assert!(!format!("{c:?}").contains("s3cret"));
        assert_eq!(c.secrets(), vec!["s3cret".to_owned()]);
    }
}

#[cfg(test)]
mod extraction_tests {
    //! The extractor on its own, without `verify` in front: the second line must hold by itself.

    use super::extract_backup_root;
    use mesbackup_core::file_modes::FileModes;
    use mesbackup_core::ErrorKind;
    use std::path::Path;

    const FILE: u32 = 0o100_644 << 16;
    const LINK: u32 = 0o120_777 << 16;

    /// A stored zip of (name, data, external attributes), names as given (any bytes).
    fn zip(entries: &[(&str, &[u8], u32)]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut central = Vec::new();
        for (name, data, attrs) in entries {
            let crc = crc32(data);
            let offset = out.len() as u32;
            out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
            for v in [20u16, 0, 0, 0, 0] {
                out.extend_from_slice(&v.to_le_bytes());
            }
            for v in [crc, data.len() as u32, data.len() as u32] {
                out.extend_from_slice(&v.to_le_bytes());
            }
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(&0u16.to_le_bytes());
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(data);
            central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
            for v in [(3u16 << 8) | 20, 20, 0, 0, 0, 0] {
                central.extend_from_slice(&v.to_le_bytes());
            }
            for v in [crc, data.len() as u32, data.len() as u32] {
                central.extend_from_slice(&v.to_le_bytes());
            }
            for v in [name.len() as u16, 0, 0, 0, 0] {
                central.extend_from_slice(&v.to_le_bytes());
            }
            central.extend_from_slice(&attrs.to_le_bytes());
            central.extend_from_slice(&offset.to_le_bytes());
            central.extend_from_slice(name.as_bytes());
        }
        let cd_offset = out.len() as u32;
        out.extend_from_slice(&central);
        out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        for v in [0u16, 0, entries.len() as u16, entries.len() as u16] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&(central.len() as u32).to_le_bytes());
        out.extend_from_slice(&cd_offset.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }

    fn tree(dir: &Path) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                out.push(p.strip_prefix(dir).unwrap().display().to_string());
                if p.is_dir() {
                    stack.push(p);
                }
            }
        }
        out.sort();
        out
    }

    #[test]
    fn every_escape_is_refused_and_nothing_lands_outside() {
        let work = tempfile::tempdir().unwrap();
        let outside = work.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        let abs = format!("R/{}/pwned", outside.display());
        let cases: Vec<(String, Vec<(String, u32)>)> = vec![
            ("empty component".into(), vec![(abs.clone(), FILE)]),
            ("parent".into(), vec![("R/../../outside/pwned".into(), FILE)]),
            ("nested parent".into(), vec![("R/a/../../../outside/pwned".into(), FILE)]),
            ("backslash".into(), vec![("R/..\\..\\outside\\pwned".into(), FILE)]),
            ("drive".into(), vec![("R/C:/pwned".into(), FILE)]),
            ("device".into(), vec![("R/data/NUL.bin".into(), FILE)]),
            ("symlink then through it".into(), vec![("R/link".into(), LINK), ("R/link/pwned".into(), FILE)]),
            ("duplicate".into(), vec![("R/data/x".into(), FILE), ("R/data/x".into(), FILE)]),
        ];
        for (what, hostile) in cases {
            let mut entries: Vec<(&str, &[u8], u32)> = vec![("R/.backup", b"<config/>", FILE)];
            for (name, attrs) in &hostile {
                let data: &[u8] = if *attrs == LINK { outside.to_str().unwrap().as_bytes() } else { b"pwned" };
                entries.push((name.as_str(), data, *attrs));
            }
            let package = work.path().join("p.zip");
            std::fs::write(&package, zip(&entries)).unwrap();
            let base = work.path().join("server-backups");
            let dest = base.join("extract");
            let err = extract_backup_root(&package, "R/", &dest, FileModes::default())
                .expect_err(&format!("{what}: extracted"));
            assert_eq!(err.kind, ErrorKind::Integrity, "{what}: {err:?}");
            assert!(!dest.exists(), "{what}: the extraction folder is removed on failure");
            assert!(tree(&outside).is_empty(), "{what}: wrote outside: {:?}", tree(&outside));
            assert!(tree(work.path()).iter().all(|p| !p.contains("pwned")), "{what}: {:?}", tree(work.path()));
        }
    }

    #[test]
    fn a_sound_package_is_extracted_with_private_modes() {
        let work = tempfile::tempdir().unwrap();
        let package = work.path().join("p.zip");
        let entries: Vec<(&str, &[u8], u32)> = vec![
            ("R/.backup", b"<config/>", FILE),
            ("R/data/db/t/all_1_1_0/", b"", 0o040_755 << 16),
            ("R/data/db/t/all_1_1_0/data.bin", b"rows", FILE),
            ("R/metadata/db.sql", b"CREATE", FILE),
            ("elsewhere/ignored.txt", b"not under the root", FILE),
        ];
        std::fs::write(&package, zip(&entries)).unwrap();
        for (modes, file, dir) in [(FileModes::default(), 0o600, 0o700), (FileModes::parse(Some("0640"), Some("0750")).unwrap(), 0o640, 0o750)] {
            let dest = work.path().join(format!("x{file:o}"));
            let (files, bytes) = extract_backup_root(&package, "R/", &dest, modes).unwrap();
            assert_eq!((files, bytes), (3, 9 + 4 + 6));
            assert_eq!(tree(&dest), vec![".backup", "data", "data/db", "data/db/t", "data/db/t/all_1_1_0", "data/db/t/all_1_1_0/data.bin", "metadata", "metadata/db.sql"]);
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
                assert_eq!(mode(&dest), dir);
                for p in tree(&dest) {
                    let p = dest.join(p);
                    assert_eq!(mode(&p), if p.is_dir() { dir } else { file }, "{}", p.display());
                }
            }
            // The folder must be new: an existing one (someone else's, or a link) is refused.
            let again = extract_backup_root(&package, "R/", &dest, modes).unwrap_err();
            assert_eq!(again.kind, ErrorKind::Io);
            assert!(dest.join(".backup").is_file(), "the existing folder is left as it was");
        }
    }
}
