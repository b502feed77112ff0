//! `mesbackup.toml`: the config of `mesbackup run`, parsed and validated without I/O.
//!
//! Every key is documented in docs/config.md. Unknown keys are errors (a typo must not silently
//! turn into a default), and so is a secret written into the file: credentials are named by
//! reference only (an environment variable, a token file), and the client resolves them
//! (`mesbackup_client::run::credentials`) before anything is sent. Every error names the key path
//! (`environment[2].hooks.before`, environments counted from 1) and the line it is on.

use serde::{Deserialize, Serialize};
use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::error::Error;
use crate::file_modes::FileModes;
use crate::mes::EnvUrl;
use crate::naming::{installer_package_name, system_databases, DatabaseKind};
use crate::retention::RetentionPolicy;
use crate::units::{parse_duration, parse_size};

/// Keys that would hold a secret inline. Refused with a pointer to the reference keys, so a secret
/// never sits in a file that is copied, backed up and shown in reviews.
const INLINE_SECRET_KEYS: [&str; 5] = ["token", "pat", "password", "secret", "api_key"];

/// What a run does when another run holds the lock of an output folder.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum OnLocked {
    /// Wait until the other run releases it (the default: an overlapping timer run follows).
    #[default]
    Wait,
    /// Give up at once with a message naming the folder.
    Exit,
}

/// Where an environment's credentials come from. Never the secret itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialRef {
    /// `token_env`: a bearer token in this environment variable.
    TokenEnv(String),
    /// `token_file`: a bearer token in this file (first non-empty line), readable by its owner only.
    /// `${VAR}` in the path is replaced from the environment (systemd's `${CREDENTIALS_DIRECTORY}`).
    TokenFile(String),
    /// `user_env` + `pat_env`: a personal access token (HTTP Basic).
    UserPat {
        /// The variable holding the MES user name.
        user_env: String,
        /// The variable holding the personal access token.
        pat_env: String,
    },
    /// `keyring`: a secret in the operating system's credential store (Windows Credential Manager,
    /// macOS Keychain, the Linux kernel keyring), under this service and entry. The stored secret
    /// is a bearer token, or `user:pat` for a personal access token (HTTP Basic).
    Keyring {
        /// The keyring service (e.g. `mesbackup`).
        service: String,
        /// The entry (the keyring's "user") within the service (e.g. `prod`).
        entry: String,
    },
    /// `no_auth = true`: no credentials (a test server only).
    None,
    /// No credential key: the CLI's own variables, `MES_TOKEN` or `MES_USER` + `MES_PAT`.
    MesVariables,
}

/// Commands run around an environment's backups. Each is an argv array: no shell is involved
/// unless the command is one (`["sh", "-c", "..."]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Hooks {
    /// Must all succeed before any backup is started (the SQL Server backups); the end of the last
    /// is recorded as the SQL Server backup completion in every sidecar.
    pub before: Vec<Vec<String>>,
    /// After every step succeeded.
    pub after: Vec<Vec<String>>,
    /// After any step failed.
    pub on_error: Vec<Vec<String>>,
    /// Each command is stopped (killed) after this many milliseconds, and counts as failed.
    pub timeout_ms: u64,
}

/// `[environment.wait_until]`: a check command retried until it exits 0, before the `before` hooks
/// (the seed: start the SQL Server backup only when Kafka's Work Queue Lag is 0).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct WaitUntil {
    /// The check, an argv array like a hook's.
    pub command: Vec<String>,
    /// Time between the end of one attempt and the start of the next, milliseconds.
    pub interval_ms: u64,
    /// From the first attempt: no attempt starts after this, and a running one is stopped at it;
    /// then the environment fails at step wait_until. Milliseconds.
    pub deadline_ms: u64,
    /// One attempt is stopped after this long (and counts as not yet); null: until the deadline.
    pub timeout_ms: Option<u64>,
}

/// `[environment.test_restore]`: after the backups, each new package (of the databases named) is
/// restored into a throwaway database on a ClickHouse server, its row counts compared with the
/// package, and the throwaway database dropped: the seed's "test restores", every night.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TestRestoreConfig {
    /// ClickHouse's HTTP address (checked as `--clickhouse` is: no credentials in it, https unless
    /// loopback or `allow_insecure_http`).
    pub clickhouse_url: String,
    /// Plain http:// to a ClickHouse server on another machine is allowed.
    pub allow_insecure_http: bool,
    /// The variable holding ClickHouse's user (default `CLICKHOUSE_USER`; unset: the server's
    /// default user).
    pub user_env: String,
    /// The variable holding that user's password (default `CLICKHOUSE_PASSWORD`; unset: none).
    pub password_env: String,
    /// A folder ClickHouse can read (under its `backups.allowed_path`), as this machine sees it:
    /// each package is extracted into a new folder under it, removed afterwards.
    pub backup_path: String,
    /// The same folder as the server sees it, when that differs (ClickHouse in a container).
    pub path_on_server: Option<String>,
    /// Throwaway databases are `<prefix><database>_<random>`.
    pub prefix: String,
    /// Restore every table with this storage policy.
    pub storage_policy: Option<String>,
    /// The databases whose packages are test-restored (default all four).
    pub databases: Vec<DatabaseKind>,
    /// One package's test ends within this many milliseconds.
    pub timeout_ms: u64,
}

/// Default `test_restore.prefix`: the CLI's `test-restore --prefix`.
pub const DEFAULT_TEST_RESTORE_PREFIX: &str = "mesbackup_testrestore_";
/// Default `test_restore.timeout`, per package.
pub const DEFAULT_TEST_RESTORE_TIMEOUT_MS: u64 = 4 * 3_600_000;

/// Default `wait_until.interval`.
pub const DEFAULT_WAIT_INTERVAL_MS: u64 = 60_000;
/// Default `wait_until.deadline`.
pub const DEFAULT_WAIT_DEADLINE_MS: u64 = 2 * 3_600_000;

/// `[ping]`: a Healthchecks / Uptime Kuma style push monitor told when a run starts and how it
/// ended. The URL embeds a secret-ish id, so it may come from a variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PingConfig {
    /// Where the URL is.
    pub url: PingUrl,
    /// Plain http:// to a host other than this machine is allowed.
    pub allow_insecure_http: bool,
}

/// `ping.url` or `ping.url_env`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PingUrl {
    /// Written in the file (checked at parse time).
    Literal(String),
    /// In this environment variable (checked when the run is loaded).
    Env(String),
}

impl PingConfig {
    /// The ping URL, checked (http(s), no user:password, https unless loopback or
    /// `allow_insecure_http`), without a trailing slash; `var` looks variables up. Errors name the
    /// key and never repeat the URL.
    pub fn resolve(&self, var: &dyn Fn(&str) -> Option<String>) -> Result<String, Error> {
        match &self.url {
            PingUrl::Literal(u) => check_ping_url(u, self.allow_insecure_http)
                .map_err(|m| Error::invalid_argument(format!("ping.url: {m}"))),
            PingUrl::Env(name) => {
                let u = var(name).filter(|v| !v.trim().is_empty()).ok_or_else(|| {
                    Error::invalid_argument(format!(
                        "ping.url_env: the environment variable {name} is not set (or empty): set it to the ping URL \
                         in the service's environment, or remove [ping]"
                    ))
                })?;
                check_ping_url(&u, self.allow_insecure_http)
                    .map_err(|m| Error::invalid_argument(format!("ping.url_env ({name}): {m}")))
            }
        }
    }
}

/// A ping URL as the monitors give them: `https://hc-ping.com/<uuid>`.
pub fn check_ping_url(text: &str, allow_insecure_http: bool) -> Result<String, String> {
    let url = ::url::Url::parse(text.trim())
        .map_err(|e| format!("not a URL ({e}): give the monitor's ping URL, like https://hc-ping.com/<uuid>"))?;
    if url.scheme() != "https" && url.scheme() != "http" {
        return Err(format!("the scheme {} is not http:// or https://", url.scheme()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("a user or password in the URL is not supported: use the monitor's token URL".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("a query or fragment is not supported: /start and /fail are appended to the URL".into());
    }
    let loopback = match url.host() {
        Some(::url::Host::Ipv4(a)) => a.is_loopback(),
        Some(::url::Host::Ipv6(a)) => a.is_loopback(),
        Some(::url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    if url.scheme() == "http" && !loopback && !allow_insecure_http {
        return Err("plain http:// to another machine is refused (the URL's id would travel in clear text): use \
                    https://, or set allow_insecure_http = true in [ping] on a network you trust"
            .into());
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// `warn_free_below`: when a folder's free space is below this, the run warns (it does not fail).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum FreeSpaceThreshold {
    /// Fewer free bytes than this.
    Bytes(u64),
    /// Less free than this percentage of the file system's size (1 to 99).
    Percent(u8),
}

impl FreeSpaceThreshold {
    /// `"50GiB"` or `"10%"`.
    pub fn parse(text: &str) -> Result<FreeSpaceThreshold, String> {
        let t = text.trim();
        if let Some(p) = t.strip_suffix('%') {
            return match p.trim().parse::<u8>() {
                Ok(n) if (1..=99).contains(&n) => Ok(FreeSpaceThreshold::Percent(n)),
                _ => Err(format!("{t:?}: a percentage is a whole number from 1% to 99%")),
            };
        }
        parse_size(t).map(FreeSpaceThreshold::Bytes)
    }

    /// True when `free` of `total` bytes is below the threshold.
    pub fn is_low(self, free: u64, total: u64) -> bool {
        match self {
            FreeSpaceThreshold::Bytes(n) => free < n,
            FreeSpaceThreshold::Percent(p) => u128::from(free) * 100 < u128::from(total) * u128::from(p),
        }
    }
}

/// The polling keys of an environment (as the CLI's flags of the same names), milliseconds;
/// `None`: `PollPolicy`'s default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PollKeys {
    /// `min_poll_delay`: shortest wait between two status checks of a pending backup.
    pub min_poll_delay_ms: Option<u64>,
    /// `max_poll_delay`: longest wait between two status checks.
    pub max_poll_delay_ms: Option<u64>,
    /// `retry_delay`: first wait after a transient failure, doubling each time.
    pub retry_delay_ms: Option<u64>,
    /// `request_timeout`: time for the status line and headers of one answer.
    pub request_timeout_ms: Option<u64>,
    /// `stall_timeout`: a download that receives nothing for this long is abandoned.
    pub stall_timeout_ms: Option<u64>,
}

impl PollKeys {
    /// `policy` with these keys applied.
    pub fn apply(&self, mut policy: crate::mes::PollPolicy) -> crate::mes::PollPolicy {
        policy.min_delay_ms = self.min_poll_delay_ms.unwrap_or(policy.min_delay_ms);
        policy.max_delay_ms = self.max_poll_delay_ms.unwrap_or(policy.max_delay_ms).max(policy.min_delay_ms);
        policy.retry_base_ms = self.retry_delay_ms.unwrap_or(policy.retry_base_ms);
        policy.request_timeout_ms = self.request_timeout_ms.unwrap_or(policy.request_timeout_ms);
        policy.stall_timeout_ms = self.stall_timeout_ms.unwrap_or(policy.stall_timeout_ms);
        policy
    }
}

/// One MES environment of the config, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentConfig {
    /// Unique in the file; `--only NAME` selects by it. Defaults to `system`.
    pub name: String,
    /// The MES address (as `--env`).
    pub url: String,
    /// The system whose four databases are backed up (as `backup --system`).
    pub system: String,
    /// With a version, packages are saved under the installer names (as `backup --version`).
    pub version: Option<String>,
    /// The generic installer names instead of the system-specific ones (as `--generic-names`).
    pub generic_names: bool,
    /// Where the credentials come from (resolved by the client before anything is sent).
    pub credentials: CredentialRef,
    /// A PEM file of an in-house CA (as `--ca-cert`).
    pub ca_cert: Option<String>,
    /// As `--allow-insecure-http`.
    pub allow_insecure_http: bool,
    /// The folder the packages are saved in (as `--out`); locked for the run.
    pub out: String,
    /// The installer's custom packages folder to stage the new packages into (as `stage --into`);
    /// needs `version`.
    pub stage_into: Option<String>,
    /// As `--file-mode` / `--dir-mode`.
    pub modes: FileModes,
    /// How long a backup may take to be prepared (as `--timeout`), milliseconds.
    pub timeout_ms: u64,
    /// Verify each package after the download (default true).
    pub verify: bool,
    /// Retention over `out`, per database; `None`: nothing is deleted.
    pub retention: Option<RetentionPolicy>,
    /// Commands run before and after the backups.
    pub hooks: Hooks,
    /// A check retried until it succeeds, before the `before` hooks.
    pub wait_until: Option<WaitUntil>,
    /// Test-restore the new packages after retention.
    pub test_restore: Option<TestRestoreConfig>,
    /// Warn when `out` or `stage_into` has less free space than this.
    pub warn_free_below: Option<FreeSpaceThreshold>,
    /// Polling and request timing.
    pub poll: PollKeys,
}

impl EnvironmentConfig {
    /// The four databases, each with the file name it is saved under (`None`: the server's name).
    pub fn databases(&self) -> Result<Vec<(DatabaseKind, String, Option<String>)>, Error> {
        system_databases(&self.system)?
            .into_iter()
            .map(|(kind, db)| {
                let name = match &self.version {
                    Some(v) => Some(installer_package_name(kind, v, (!self.generic_names).then_some(&*self.system))?),
                    None => None,
                };
                Ok((kind, db, name))
            })
            .collect()
    }
}

/// The whole config, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunConfig {
    /// Environments backed up at once (the four databases of one always go concurrently).
    pub concurrency: usize,
    /// What to do when another run holds an output folder's lock.
    pub on_locked: OnLocked,
    /// In file order.
    pub environments: Vec<EnvironmentConfig>,
    /// The push monitor told about each run.
    pub ping: Option<PingConfig>,
}

impl RunConfig {
    /// The environments `only` names (all when empty), in file order; an unknown name is an error
    /// that lists the known ones.
    pub fn select(&self, only: &[String]) -> Result<Vec<&EnvironmentConfig>, Error> {
        for name in only {
            if !self.environments.iter().any(|e| &e.name == name) {
                let known: Vec<&str> = self.environments.iter().map(|e| e.name.as_str()).collect();
                return Err(Error::invalid_argument(format!(
                    "--only {name}: no environment of that name in the config (known: {})",
                    known.join(", ")
                )));
            }
        }
        Ok(self.environments.iter().filter(|e| only.is_empty() || only.contains(&e.name)).collect())
    }
}

// ---- the file as written ---------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    concurrency: Option<i64>,
    #[serde(default)]
    on_locked: OnLocked,
    #[serde(default)]
    environment: Vec<RawEnvironment>,
    #[serde(default)]
    ping: Option<RawPing>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPing {
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    url_env: Option<String>,
    #[serde(default)]
    allow_insecure_http: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnvironment {
    #[serde(default)]
    name: Option<String>,
    url: String,
    system: String,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    generic_names: bool,
    #[serde(default)]
    token_env: Option<String>,
    #[serde(default)]
    token_file: Option<String>,
    #[serde(default)]
    user_env: Option<String>,
    #[serde(default)]
    pat_env: Option<String>,
    #[serde(default)]
    keyring: Option<RawKeyring>,
    #[serde(default)]
    no_auth: bool,
    #[serde(default)]
    ca_cert: Option<String>,
    #[serde(default)]
    allow_insecure_http: bool,
    out: String,
    #[serde(default)]
    stage_into: Option<String>,
    #[serde(default)]
    file_mode: Option<String>,
    #[serde(default)]
    dir_mode: Option<String>,
    #[serde(default)]
    timeout: Option<String>,
    #[serde(default = "yes")]
    verify: bool,
    #[serde(default)]
    retention: Option<RawRetention>,
    #[serde(default)]
    hooks: Option<RawHooks>,
    #[serde(default)]
    wait_until: Option<RawWaitUntil>,
    #[serde(default)]
    test_restore: Option<RawTestRestore>,
    #[serde(default)]
    warn_free_below: Option<String>,
    #[serde(default)]
    min_poll_delay: Option<String>,
    #[serde(default)]
    max_poll_delay: Option<String>,
    #[serde(default)]
    retry_delay: Option<String>,
    #[serde(default)]
    request_timeout: Option<String>,
    #[serde(default)]
    stall_timeout: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWaitUntil {
    command: Vec<String>,
    #[serde(default)]
    interval: Option<String>,
    #[serde(default)]
    deadline: Option<String>,
    #[serde(default)]
    timeout: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTestRestore {
    clickhouse_url: String,
    #[serde(default)]
    allow_insecure_http: bool,
    #[serde(default)]
    user_env: Option<String>,
    #[serde(default)]
    password_env: Option<String>,
    backup_path: String,
    #[serde(default)]
    path_on_server: Option<String>,
    #[serde(default)]
    prefix: Option<String>,
    #[serde(default)]
    storage_policy: Option<String>,
    #[serde(default)]
    databases: Option<Vec<String>>,
    #[serde(default)]
    timeout: Option<String>,
}

fn yes() -> bool {
    true
}

/// `keyring = "service/entry"` or `keyring = { service = "...", entry = "..." }`.
enum RawKeyring {
    Short(String),
    Table { service: String, entry: String },
}

impl<'de> Deserialize<'de> for RawKeyring {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Table {
            service: String,
            entry: String,
        }
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = RawKeyring;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(r#""service/entry" (e.g. "mesbackup/prod") or a table { service = "...", entry = "..." }"#)
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawKeyring, E> {
                Ok(RawKeyring::Short(v.to_owned()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<RawKeyring, A::Error> {
                let t = Table::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(RawKeyring::Table { service: t.service, entry: t.entry })
            }
        }
        d.deserialize_any(Visitor)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRetention {
    #[serde(default)]
    keep_last: u32,
    #[serde(default)]
    keep_daily: u32,
    #[serde(default)]
    keep_weekly: u32,
    #[serde(default)]
    keep_monthly: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHooks {
    #[serde(default)]
    before: Vec<Vec<String>>,
    #[serde(default)]
    after: Vec<Vec<String>>,
    #[serde(default)]
    on_error: Vec<Vec<String>>,
    #[serde(default)]
    timeout: Option<String>,
}

/// Default time a hook may run: long enough for a full SQL Server backup.
pub const DEFAULT_HOOK_TIMEOUT_MS: u64 = 4 * 3_600_000;
/// Default `timeout` of a backup (as the CLI's `--timeout`).
pub const DEFAULT_BACKUP_TIMEOUT_MS: u64 = 24 * 3_600_000;

/// Parses and validates `text`, the content of the config file `source` (named in errors).
pub fn parse_run_config(text: &str, source: &str) -> Result<RunConfig, Error> {
    let doc = match DeTable::parse(text) {
        Ok(doc) => doc,
        Err(e) => return Err(located(source, text, e.span(), None, e.message())),
    };
    refuse_inline_secrets(doc.get_ref(), text, source)?;
    let raw: RawConfig = toml::from_str(text).map_err(|e| {
        let path = e.span().and_then(|span| path_at(doc.get_ref(), &span));
        located(source, text, e.span(), path.as_deref(), e.message())
    })?;
    let fail = |path: String, message: String| -> Error {
        let span = span_of(doc.get_ref(), &path);
        located(source, text, span, Some(&path), &message)
    };

    let concurrency = match raw.concurrency {
        None => 1,
        Some(n) if (1..=64).contains(&n) => n as usize,
        Some(n) => return Err(fail("concurrency".into(), format!("{n} is not between 1 and 64"))),
    };
    if raw.environment.is_empty() {
        return Err(located(
            source,
            text,
            None,
            None,
            "no [[environment]]: add one with name, url, system, out and credentials (see docs/config.md)",
        ));
    }
    let mut environments = Vec::new();
    for (i, env) in raw.environment.into_iter().enumerate() {
        let at = |key: &str| format!("environment[{}].{key}", i + 1);
        let named = env.name.is_some();
        let name = env.name.clone().unwrap_or_else(|| env.system.clone());
        if environments.iter().any(|e: &EnvironmentConfig| e.name == name) {
            let (key, message) = if named {
                ("name", format!("{name:?} is used by another environment: names must be unique"))
            } else {
                (
                    "system",
                    format!(
                        "without name, the environment is named after its system, and {name:?} is used by another \
                         environment: add name = \"...\" (names must be unique)"
                    ),
                )
            };
            return Err(fail(at(key), message));
        }
        if let Some(other) = environments.iter().find(|e: &&EnvironmentConfig| {
            e.out.trim_end_matches('/') == env.out.trim_end_matches('/') && e.system.eq_ignore_ascii_case(&env.system)
        }) {
            return Err(fail(
                at("out"),
                format!(
                    "environment {:?} already saves system {} into {}: their packages and retention would mix; \
                     give each its own folder",
                    other.name, env.system, env.out
                ),
            ));
        }
        if name.trim().is_empty() || name.chars().any(char::is_control) {
            return Err(fail(at("name"), "must be a non-empty name without control characters".into()));
        }
        EnvUrl::parse(&env.url).map_err(|e| fail(at("url"), e.message))?;
        system_databases(&env.system).map_err(|e| fail(at("system"), e.message))?;
        if let Some(v) = &env.version {
            installer_package_name(DatabaseKind::Online, v, None).map_err(|e| fail(at("version"), e.message))?;
        }
        if env.generic_names && env.version.is_none() {
            return Err(fail(at("generic_names"), "needs version (the installer names are per MES version)".into()));
        }
        if env.stage_into.is_some() && env.version.is_none() {
            return Err(fail(at("stage_into"), "needs version: staging names packages for one MES version".into()));
        }
        let credentials = credential_ref(&env).map_err(|(key, message)| fail(at(key), message))?;
        let modes =
            FileModes::parse_named(env.file_mode.as_deref(), env.dir_mode.as_deref(), ["file_mode", "dir_mode"])
                .map_err(|e| {
                    let key = if e.message.contains("dir_mode") { "dir_mode" } else { "file_mode" };
                    fail(at(key), e.message)
                })?;
        for (key, value) in [("out", &env.out)].into_iter().chain(env.stage_into.as_ref().map(|s| ("stage_into", s))) {
            if value.trim().is_empty() {
                return Err(fail(at(key), "must name a folder".into()));
            }
        }
        let timeout_ms = match &env.timeout {
            Some(t) => parse_duration(t).map_err(|m| fail(at("timeout"), m))?,
            None => DEFAULT_BACKUP_TIMEOUT_MS,
        };
        let retention = match env.retention {
            Some(r) => {
                let policy = RetentionPolicy {
                    keep_last: r.keep_last,
                    keep_daily: r.keep_daily,
                    keep_weekly: r.keep_weekly,
                    keep_monthly: r.keep_monthly,
                };
                policy.check(&at("retention")).map_err(|e| fail(at("retention"), e.message))?;
                Some(policy)
            }
            None => None,
        };
        let hooks = match env.hooks {
            Some(h) => {
                for (key, commands) in [("before", &h.before), ("after", &h.after), ("on_error", &h.on_error)] {
                    if let Some(n) = commands.iter().position(|argv| argv.first().is_none_or(|p| p.trim().is_empty())) {
                        return Err(fail(
                            at(&format!("hooks.{key}")),
                            format!("command {} is empty: each command is [\"program\", \"arg\", ...]", n + 1),
                        ));
                    }
                }
                let timeout_ms = match &h.timeout {
                    Some(t) => parse_duration(t).map_err(|m| fail(at("hooks.timeout"), m))?,
                    None => DEFAULT_HOOK_TIMEOUT_MS,
                };
                Hooks { before: h.before, after: h.after, on_error: h.on_error, timeout_ms }
            }
            None => Hooks { timeout_ms: DEFAULT_HOOK_TIMEOUT_MS, ..Hooks::default() },
        };
        let wait_until = match env.wait_until {
            Some(w) => {
                if w.command.first().is_none_or(|p| p.trim().is_empty()) {
                    return Err(fail(
                        at("wait_until.command"),
                        "is empty: the check is [\"program\", \"arg\", ...], e.g. [\"sh\", \"-c\", \"...\"]".into(),
                    ));
                }
                let duration = |key: &str, v: &Option<String>, default: Option<u64>| -> Result<Option<u64>, Error> {
                    match v {
                        Some(t) => parse_duration(t).map(Some).map_err(|m| fail(at(&format!("wait_until.{key}")), m)),
                        None => Ok(default),
                    }
                };
                let interval_ms =
                    duration("interval", &w.interval, Some(DEFAULT_WAIT_INTERVAL_MS))?.unwrap_or_default();
                let deadline_ms =
                    duration("deadline", &w.deadline, Some(DEFAULT_WAIT_DEADLINE_MS))?.unwrap_or_default();
                let timeout_ms = duration("timeout", &w.timeout, None)?;
                if interval_ms >= deadline_ms {
                    return Err(fail(
                        at("wait_until.interval"),
                        format!(
                            "{interval_ms} ms is not shorter than the deadline ({deadline_ms} ms): the check would run \
                             once; shorten interval or lengthen deadline"
                        ),
                    ));
                }
                Some(WaitUntil { command: w.command, interval_ms, deadline_ms, timeout_ms })
            }
            None => None,
        };
        let test_restore = match env.test_restore {
            Some(t) => Some(test_restore_config(t).map_err(|(key, m)| fail(at(&format!("test_restore.{key}")), m))?),
            None => None,
        };
        let warn_free_below = match &env.warn_free_below {
            Some(t) => Some(FreeSpaceThreshold::parse(t).map_err(|m| fail(at("warn_free_below"), m))?),
            None => None,
        };
        let mut poll = PollKeys::default();
        for (key, raw, slot) in [
            ("min_poll_delay", &env.min_poll_delay, &mut poll.min_poll_delay_ms),
            ("max_poll_delay", &env.max_poll_delay, &mut poll.max_poll_delay_ms),
            ("retry_delay", &env.retry_delay, &mut poll.retry_delay_ms),
            ("request_timeout", &env.request_timeout, &mut poll.request_timeout_ms),
            ("stall_timeout", &env.stall_timeout, &mut poll.stall_timeout_ms),
        ] {
            if let Some(t) = raw {
                *slot = Some(parse_duration(t).map_err(|m| fail(at(key), m))?);
            }
        }
        let defaults = crate::mes::PollPolicy::default();
        let (min, max) = (
            poll.min_poll_delay_ms.unwrap_or(defaults.min_delay_ms),
            poll.max_poll_delay_ms.unwrap_or(defaults.max_delay_ms),
        );
        if min > max {
            let key = if poll.max_poll_delay_ms.is_some() { "max_poll_delay" } else { "min_poll_delay" };
            return Err(fail(
                at(key),
                format!("min_poll_delay ({min} ms) is longer than max_poll_delay ({max} ms): make min the shorter"),
            ));
        }
        if min > timeout_ms {
            return Err(fail(
                at("min_poll_delay"),
                format!("{min} ms is longer than the backup timeout ({timeout_ms} ms): no status check would be made"),
            ));
        }
        environments.push(EnvironmentConfig {
            name,
            url: env.url,
            system: env.system,
            version: env.version,
            generic_names: env.generic_names,
            credentials,
            ca_cert: env.ca_cert,
            allow_insecure_http: env.allow_insecure_http,
            out: env.out,
            stage_into: env.stage_into,
            modes,
            timeout_ms,
            verify: env.verify,
            retention,
            hooks,
            wait_until,
            test_restore,
            warn_free_below,
            poll,
        });
    }
    let ping = match raw.ping {
        None => None,
        Some(p) => {
            let url = match (p.url, p.url_env) {
                (Some(_), Some(_)) => {
                    return Err(fail("ping.url_env".into(), "give url or url_env, not both".into()));
                }
                (None, None) => {
                    return Err(fail(
                        "ping".into(),
                        "needs url (the monitor's ping URL) or url_env (a variable holding it)".into(),
                    ));
                }
                (Some(u), None) => {
                    check_ping_url(&u, p.allow_insecure_http).map_err(|m| fail("ping.url".into(), m))?;
                    PingUrl::Literal(u)
                }
                (None, Some(name)) => {
                    if name.is_empty() || name.contains('=') || name.contains('\0') {
                        return Err(fail(
                            "ping.url_env".into(),
                            format!("{name:?} is not an environment variable name"),
                        ));
                    }
                    PingUrl::Env(name)
                }
            };
            Some(PingConfig { url, allow_insecure_http: p.allow_insecure_http })
        }
    };
    Ok(RunConfig { concurrency, on_locked: raw.on_locked, environments, ping })
}

/// `[environment.test_restore]` checked; an error names its key (under `test_restore.`).
fn test_restore_config(t: RawTestRestore) -> Result<TestRestoreConfig, (&'static str, String)> {
    crate::restore::ClickHouseUrl::parse(&t.clickhouse_url, t.allow_insecure_http)
        .map_err(|e| ("clickhouse_url", e.message.replace("--allow-insecure-http", "allow_insecure_http = true")))?;
    let var = |key: &'static str, v: Option<String>, default: &str| match v {
        Some(name) if name.is_empty() || name.contains('=') || name.contains('\0') => {
            Err((key, format!("{name:?} is not an environment variable name")))
        }
        Some(name) => Ok(name),
        None => Ok(default.to_owned()),
    };
    let user_env = var("user_env", t.user_env, "CLICKHOUSE_USER")?;
    let password_env = var("password_env", t.password_env, "CLICKHOUSE_PASSWORD")?;
    if t.backup_path.trim().is_empty() {
        return Err(("backup_path", "must name a folder ClickHouse can read (under its backups.allowed_path)".into()));
    }
    let prefix = t.prefix.unwrap_or_else(|| DEFAULT_TEST_RESTORE_PREFIX.to_owned());
    if prefix.is_empty() {
        return Err((
            "prefix",
            "may not be empty: the throwaway databases must not be named like real ones (leave it out for the \
             default mesbackup_testrestore_)"
                .into(),
        ));
    }
    let databases = match t.databases {
        None => DatabaseKind::ALL.to_vec(),
        Some(list) if list.is_empty() => {
            return Err(("databases", "is empty: leave it out to test all four, or name some".into()));
        }
        Some(list) => {
            let mut kinds = Vec::new();
            for token in &list {
                let kind = DatabaseKind::from_package_token(token).ok_or_else(|| {
                    ("databases", format!("{token:?} is not a database kind: use Online, CDM, ODS or DWH (exact case)"))
                })?;
                if !kinds.contains(&kind) {
                    kinds.push(kind);
                }
            }
            kinds
        }
    };
    let timeout_ms = match &t.timeout {
        Some(v) => parse_duration(v).map_err(|m| ("timeout", m))?,
        None => DEFAULT_TEST_RESTORE_TIMEOUT_MS,
    };
    Ok(TestRestoreConfig {
        clickhouse_url: t.clickhouse_url,
        allow_insecure_http: t.allow_insecure_http,
        user_env,
        password_env,
        backup_path: t.backup_path,
        path_on_server: t.path_on_server,
        prefix,
        storage_policy: t.storage_policy,
        databases,
        timeout_ms,
    })
}

/// Exactly one way to authenticate; the error names the key to fix.
fn credential_ref(env: &RawEnvironment) -> Result<CredentialRef, (&'static str, String)> {
    let env_name = |key: &'static str, v: &Option<String>| -> Result<Option<String>, (&'static str, String)> {
        match v {
            Some(name) if name.is_empty() || name.contains('=') || name.contains('\0') => {
                Err((key, format!("{name:?} is not an environment variable name")))
            }
            other => Ok(other.clone()),
        }
    };
    let token_env = env_name("token_env", &env.token_env)?;
    let user_env = env_name("user_env", &env.user_env)?;
    let pat_env = env_name("pat_env", &env.pat_env)?;
    let mut ways = Vec::new();
    if token_env.is_some() {
        ways.push("token_env");
    }
    if env.token_file.is_some() {
        ways.push("token_file");
    }
    if user_env.is_some() || pat_env.is_some() {
        ways.push("user_env/pat_env");
    }
    if env.keyring.is_some() {
        ways.push("keyring");
    }
    if env.no_auth {
        ways.push("no_auth");
    }
    match ways.as_slice() {
        [] => Ok(CredentialRef::MesVariables),
        [_, second, ..] => {
            let key = match *second {
                "token_file" => "token_file",
                "keyring" => "keyring",
                "no_auth" => "no_auth",
                _ => "user_env",
            };
            Err((key, format!("use one way to authenticate, not {}", ways.join(" and "))))
        }
        ["no_auth"] => Ok(CredentialRef::None),
        ["token_env"] => Ok(CredentialRef::TokenEnv(token_env.unwrap_or_default())),
        ["keyring"] => keyring_ref(env.keyring.as_ref()),
        ["token_file"] => {
            let path = env.token_file.clone().unwrap_or_default();
            if path.trim().is_empty() {
                return Err(("token_file", "must name a file".into()));
            }
            Ok(CredentialRef::TokenFile(path))
        }
        _ => match (user_env, pat_env) {
            (Some(user_env), Some(pat_env)) => Ok(CredentialRef::UserPat { user_env, pat_env }),
            (None, _) => Err(("user_env", "pat_env needs user_env (the variable holding the MES user name)".into())),
            (_, None) => {
                Err(("pat_env", "user_env needs pat_env (the variable holding the personal access token)".into()))
            }
        },
    }
}

/// The service and entry of `keyring`, both non-empty and printable.
fn keyring_ref(raw: Option<&RawKeyring>) -> Result<CredentialRef, (&'static str, String)> {
    let (service, entry) = match raw {
        Some(RawKeyring::Short(s)) => match s.split_once('/') {
            Some((service, entry)) => (service.to_owned(), entry.to_owned()),
            None => {
                return Err((
                    "keyring",
                    format!(
                        "{s:?} is not \"service/entry\": write e.g. keyring = \"mesbackup/prod\" or a table \
                             keyring = {{ service = \"mesbackup\", entry = \"prod\" }}"
                    ),
                ))
            }
        },
        Some(RawKeyring::Table { service, entry }) => (service.clone(), entry.clone()),
        None => return Err(("keyring", "missing".into())),
    };
    for (what, value) in [("service", &service), ("entry", &entry)] {
        if value.trim().is_empty() || value.trim() != value || value.chars().any(char::is_control) {
            return Err((
                "keyring",
                format!(
                    "the {what} {value:?} must be a non-empty name without surrounding spaces or control characters"
                ),
            ));
        }
    }
    Ok(CredentialRef::Keyring { service, entry })
}

fn refuse_inline_secrets(doc: &DeTable<'_>, text: &str, source: &str) -> Result<(), Error> {
    let Some(envs) = doc.get("environment") else { return Ok(()) };
    let DeValue::Array(envs) = envs.get_ref() else { return Ok(()) };
    for (i, env) in envs.iter().enumerate() {
        let DeValue::Table(table) = env.get_ref() else { continue };
        // The environment's own keys and those of its tables ([environment.test_restore] has a
        // ClickHouse password to name by reference too).
        let nested = table.iter().filter_map(|(k, v)| match v.get_ref() {
            DeValue::Table(t) => Some((format!("{}.", k.get_ref()), t)),
            _ => None,
        });
        for (prefix, table) in std::iter::once((String::new(), table)).chain(nested) {
            for (key, _) in table.iter() {
                if !INLINE_SECRET_KEYS.contains(&key.get_ref().as_ref()) {
                    continue;
                }
                let path = format!("environment[{}].{prefix}{}", i + 1, key.get_ref());
                let message = if prefix == "test_restore." {
                    "a secret is never written in the config file: name the variable that holds ClickHouse's \
                     password with password_env (default CLICKHOUSE_PASSWORD); then remove this key"
                } else {
                    "a secret is never written in the config file: name where it is instead, with token_env \
                     (an environment variable), token_file (a file only its owner can read), user_env and \
                     pat_env, or keyring (the OS credential store: `mesbackup credential set`); then remove \
                     this key"
                };
                // The span of the key, never of the value: the message must not quote the secret.
                return Err(located(source, text, Some(key.span()), Some(&path), message));
            }
        }
    }
    Ok(())
}

/// The key path of the key at `span` (an unknown key), or else of the smallest value containing it
/// (a wrong type). Every key is visited: the spans of `[[environment]]` tables cover only their
/// headers, so containment cannot prune the walk.
fn path_at(doc: &DeTable<'_>, span: &std::ops::Range<usize>) -> Option<String> {
    type Range = std::ops::Range<usize>;
    fn visit(table: &DeTable<'_>, prefix: &str, out: &mut Vec<(String, Range, Range)>) {
        for (k, v) in table.iter() {
            let path = if prefix.is_empty() { k.get_ref().to_string() } else { format!("{prefix}.{}", k.get_ref()) };
            out.push((path.clone(), k.span(), v.span()));
            visit_value(v, &path, out);
        }
    }
    fn visit_value(v: &Spanned<DeValue<'_>>, path: &str, out: &mut Vec<(String, Range, Range)>) {
        match v.get_ref() {
            DeValue::Table(t) => visit(t, path, out),
            DeValue::Array(a) => {
                for (i, item) in a.iter().enumerate() {
                    let item_path = format!("{path}[{}]", i + 1);
                    if let DeValue::Table(t) = item.get_ref() {
                        visit(t, &item_path, out);
                    }
                }
            }
            _ => {}
        }
    }
    let mut all = Vec::new();
    visit(doc, "", &mut all);
    if let Some((path, _, _)) = all.iter().find(|(_, k, _)| k.start <= span.start && span.end <= k.end) {
        return Some(path.clone());
    }
    all.iter()
        .filter(|(_, _, v)| v.start <= span.start && span.end <= v.end)
        .min_by_key(|(_, _, v)| v.end - v.start)
        .map(|(path, _, _)| path.clone())
}

/// The span of the key at `path` (`environment[2].hooks.before`), for validation errors.
fn span_of(doc: &DeTable<'_>, path: &str) -> Option<std::ops::Range<usize>> {
    let mut table = doc;
    let mut found = None;
    for segment in path.split('.') {
        let (key, index) = match segment.split_once('[') {
            Some((k, rest)) => (k, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (segment, None),
        };
        let (k, v) = table.iter().find(|(k, _)| k.get_ref() == key)?;
        found = Some(k.span());
        let mut value = v;
        if let Some(i) = index {
            let DeValue::Array(a) = value.get_ref() else { return found };
            value = a.get(i.checked_sub(1)?)?;
            found = Some(value.span());
        }
        match value.get_ref() {
            DeValue::Table(t) => table = t,
            _ => return found,
        }
    }
    found
}

/// `mesbackup.toml line 7, environment[2].token_file: message`.
fn located(source: &str, text: &str, span: Option<std::ops::Range<usize>>, path: Option<&str>, message: &str) -> Error {
    let line = span.map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
    let mut out = source.to_owned();
    if let Some(line) = line {
        out.push_str(&format!(" line {line}"));
    }
    if let Some(path) = path {
        out.push_str(&format!(", {path}"));
    }
    out.push_str(": ");
    out.push_str(message.trim_end());
    Error::invalid_argument(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[[environment]]
name = "prod"
url = "https://mes.example.com"
system = "MES"
out = "/backups/prod"
token_env = "MES_TOKEN"
"#;

    fn err(text: &str) -> String {
        parse_run_config(text, "mesbackup.toml").unwrap_err().message
    }

    #[test]
    fn a_minimal_config_gets_the_defaults() {
        let c = parse_run_config(MINIMAL, "mesbackup.toml").unwrap();
        assert_eq!(c.concurrency, 1);
        assert_eq!(c.on_locked, OnLocked::Wait);
        let e = &c.environments[0];
        assert_eq!(e.credentials, CredentialRef::TokenEnv("MES_TOKEN".into()));
        assert!(e.verify);
        assert_eq!(e.retention, None);
        assert_eq!(e.hooks.timeout_ms, DEFAULT_HOOK_TIMEOUT_MS);
        assert_eq!(e.modes, FileModes::default());
        assert_eq!(e.databases().unwrap()[1], (DatabaseKind::Cdm, "MESCDM".into(), None));
    }

    #[test]
    fn a_three_line_config_names_the_environment_after_its_system_and_uses_the_mes_variables() {
        let text = "[[environment]]\nurl = \"https://mes.example.com\"\nsystem = \"MES\"\nout = \"/var/backups/mes\"\n";
        let c = parse_run_config(text, "mesbackup.toml").unwrap();
        let e = &c.environments[0];
        assert_eq!(e.name, "MES");
        assert_eq!(e.credentials, CredentialRef::MesVariables);
        assert_eq!(c.select(&["MES".into()]).unwrap().len(), 1);
        // Two unnamed environments of one system collide by their default name, and the error says
        // how to fix it.
        let twice = format!("{text}{}", text.replace("/var/backups/mes", "/other"));
        let m = err(&twice);
        assert!(m.contains("environment[2].system") && m.contains("add name") && m.contains("line 7"), "{m}");
        let named =
            format!("{text}{}", text.replace("/var/backups/mes", "/other").replace("url", "name = \"qa\"\nurl"));
        assert!(parse_run_config(&named, "t").is_ok());
    }

    #[test]
    fn the_example_in_docs_parses() {
        let text = include_str!("../../docs/examples/mesbackup.toml");
        let c = parse_run_config(text, "mesbackup.toml").unwrap();
        assert!(c.environments.len() >= 2);
    }

    #[test]
    fn every_key_is_read() {
        let text = r#"
concurrency = 2
on_locked = "exit"
[[environment]]
name = "qa"
url = "https://qa.example.com"
system = "QA"
version = "11.3.0"
generic_names = true
user_env = "QA_USER"
pat_env = "QA_PAT"
ca_cert = "/etc/ssl/ca.pem"
allow_insecure_http = true
out = "/b/qa"
stage_into = "/packages"
warn_free_below = "50GiB"
file_mode = "0640"
dir_mode = "0750"
timeout = "2h"
min_poll_delay = "5s"
max_poll_delay = "5m"
retry_delay = "2s"
request_timeout = "1m"
stall_timeout = "3m"
verify = false
[environment.retention]
keep_last = 2
keep_daily = 7
keep_weekly = 4
keep_monthly = 6
[environment.hooks]
before = [["sqlcmd", "-Q", "BACKUP"], ["true"]]
after = [["echo", "ok"]]
on_error = [["echo", "failed"]]
timeout = "30m"
[environment.wait_until]
command = ["check-lag", "--max", "0"]
interval = "30s"
deadline = "1h"
timeout = "10s"
"#;
        let c = parse_run_config(text, "x").unwrap();
        assert_eq!((c.concurrency, c.on_locked), (2, OnLocked::Exit));
        let e = &c.environments[0];
        assert_eq!(e.credentials, CredentialRef::UserPat { user_env: "QA_USER".into(), pat_env: "QA_PAT".into() });
        assert_eq!(e.modes, FileModes { file: 0o640, dir: 0o750 });
        assert_eq!(e.warn_free_below, Some(FreeSpaceThreshold::Bytes(50 << 30)));
        assert_eq!(e.timeout_ms, 7_200_000);
        let p = e.poll.apply(crate::mes::PollPolicy::default());
        assert_eq!(
            (p.min_delay_ms, p.max_delay_ms, p.retry_base_ms, p.request_timeout_ms, p.stall_timeout_ms),
            (5_000, 300_000, 2_000, 60_000, 180_000)
        );
        assert!(!e.verify);
        assert_eq!(e.retention, Some(RetentionPolicy { keep_last: 2, keep_daily: 7, keep_weekly: 4, keep_monthly: 6 }));
        assert_eq!(e.hooks.before.len(), 2);
        assert_eq!(e.hooks.timeout_ms, 1_800_000);
        let w = e.wait_until.as_ref().unwrap();
        assert_eq!((w.command.len(), w.interval_ms, w.deadline_ms, w.timeout_ms), (3, 30_000, 3_600_000, Some(10_000)));
        assert_eq!(e.databases().unwrap()[0].2.as_deref(), Some("Cmf.ClickHouse.FullBackup.Online.11.3.0.zip"));
    }

    #[test]
    fn an_unknown_key_is_named_with_its_line() {
        let text = format!("{MINIMAL}verfy = true\n");
        let m = err(&text);
        assert!(m.contains("line 8") && m.contains("verfy") && m.contains("environment[1]"), "{m}");
        let m = err("concurrency = 1\nretries = 3\n");
        assert!(m.contains("line 2") && m.contains("retries"), "{m}");
    }

    #[test]
    fn an_inline_secret_is_refused_without_quoting_it() {
        let text = format!("{MINIMAL}token = \"s3cr3t-value\"\n");
        let m = err(&text);
        assert!(m.contains("environment[1].token") && m.contains("token_env") && m.contains("line 8"), "{m}");
        assert!(!m.contains("s3cr3t"), "{m}");
    }

    #[test]
    fn validation_errors_name_key_and_line() {
        let m = err(&MINIMAL.replace("system = \"MES\"", "system = \"M-E-S\""));
        assert!(m.contains("environment[1].system") && m.contains("line 5"), "{m}");
        let m = err(&MINIMAL.replace("token_env = \"MES_TOKEN\"", "token_env = \"A\"\ntoken_file = \"/t\""));
        assert!(m.contains("token_file") && m.contains("one way"), "{m}");
        let m = err(&format!("{MINIMAL}[environment.retention]\nkeep_last = 0\n"));
        assert!(m.contains("environment[1].retention") && m.contains("line 8"), "{m}");
        let m = err(&format!("{MINIMAL}[environment.hooks]\nbefore = [[]]\n"));
        assert!(m.contains("environment[1].hooks.before") && m.contains("line 9"), "{m}");
        let m = err(&format!("{MINIMAL}{}", MINIMAL.replace("/backups/prod", "/b2")));
        assert!(m.contains("environment[2].name") && m.contains("unique"), "{m}");
        let m = err(&format!("{MINIMAL}{}", MINIMAL.replace("name = \"prod\"", "name = \"qa\"")));
        assert!(m.contains("environment[2].out") && m.contains("own folder") && m.contains("line 13"), "{m}");
        let other_system = MINIMAL.replace("name = \"prod\"", "name = \"qa\"").replace("\"MES\"", "\"QA\"");
        assert!(parse_run_config(&format!("{MINIMAL}{other_system}"), "t").is_ok(), "another system may share it");
        let m = err(&MINIMAL.replace("out = \"/backups/prod\"", "out = \"/b\"\nstage_into = \"/p\""));
        assert!(m.contains("stage_into") && m.contains("needs version"), "{m}");
        let m = err(&format!("{MINIMAL}timeout = \"soon\"\n"));
        assert!(m.contains("environment[1].timeout"), "{m}");
        let m = err(&format!("{MINIMAL}file_mode = \"0666\"\n"));
        assert!(m.contains("environment[1].file_mode"), "{m}");
        let m = err(&format!("{MINIMAL}[environment.wait_until]\ncommand = []\n"));
        assert!(m.contains("environment[1].wait_until.command") && m.contains("line 9"), "{m}");
        let m = err(&format!("{MINIMAL}[environment.wait_until]\ncommand = [\"true\"]\ninterval = \"3h\"\n"));
        assert!(m.contains("wait_until.interval") && m.contains("deadline"), "{m}");
        let c = parse_run_config(&format!("{MINIMAL}[environment.wait_until]\ncommand = [\"true\"]\n"), "t").unwrap();
        let w = c.environments[0].wait_until.clone().unwrap();
        assert_eq!((w.interval_ms, w.deadline_ms, w.timeout_ms), (60_000, 7_200_000, None), "the defaults");
        let m = err(&format!("{MINIMAL}min_poll_delay = \"10m\"\nmax_poll_delay = \"1m\"\n"));
        assert!(m.contains("environment[1].max_poll_delay") && m.contains("line 9"), "{m}");
        let m = err(&format!("{MINIMAL}min_poll_delay = \"2h\"\ntimeout = \"1h\"\nmax_poll_delay = \"3h\"\n"));
        assert!(m.contains("environment[1].min_poll_delay") && m.contains("timeout"), "{m}");
        let m = err(&format!("{MINIMAL}retry_delay = \"soon\"\n"));
        assert!(m.contains("environment[1].retry_delay"), "{m}");
        assert_eq!(parse_run_config(MINIMAL, "t").unwrap().environments[0].poll, PollKeys::default());
        let m = err(&format!("{MINIMAL}warn_free_below = \"150%\"\n"));
        assert!(m.contains("environment[1].warn_free_below") && m.contains("99%"), "{m}");
        let m = err(&format!("{MINIMAL}warn_free_below = \"lots\"\n"));
        assert!(m.contains("environment[1].warn_free_below") && m.contains("GiB"), "{m}");
        let m = err("on_locked = \"maybe\"\n");
        assert!(m.contains("on_locked") && m.contains("line 1"), "{m}");
        let m = err("");
        assert!(m.contains("no [[environment]]"), "{m}");
        let m = err("[[environment]\n");
        assert!(m.contains("line 1"), "{m}");
    }

    #[test]
    fn a_wrong_type_names_the_key() {
        let m = err(&MINIMAL.replace("name = \"prod\"", "name = 7"));
        assert!(m.contains("environment[1].name") || m.contains("line 3"), "{m}");
        let m = err(&format!("{MINIMAL}[environment.hooks]\nbefore = \"sqlcmd\"\n"));
        assert!(m.contains("line 9") && m.contains("before"), "{m}");
    }

    #[test]
    fn ping_urls_are_checked_without_repeating_them() {
        let c = parse_run_config(&format!("[ping]\nurl = \"https://hc-ping.com/abc-123/\"\n{MINIMAL}"), "t").unwrap();
        assert_eq!(c.ping.as_ref().unwrap().resolve(&|_| None).unwrap(), "https://hc-ping.com/abc-123");
        let m = err(&format!("[ping]\nurl = \"http://hc-ping.com/abc-123\"\n{MINIMAL}"));
        assert!(m.contains("ping.url") && m.contains("line 2") && m.contains("allow_insecure_http"), "{m}");
        assert!(!m.contains("abc-123"), "{m}");
        let ok = format!("[ping]\nurl = \"http://hc.lan/abc\"\nallow_insecure_http = true\n{MINIMAL}");
        assert!(parse_run_config(&ok, "t").is_ok());
        assert!(parse_run_config(&format!("[ping]\nurl = \"http://127.0.0.1:9/p\"\n{MINIMAL}"), "t").is_ok());
        let m = err(&format!("[ping]\nallow_insecure_http = true\n{MINIMAL}"));
        assert!(m.contains("ping") && m.contains("url_env"), "{m}");
        let m = err(&format!("[ping]\nurl = \"https://a/b\"\nurl_env = \"P\"\n{MINIMAL}"));
        assert!(m.contains("ping.url_env") && m.contains("not both"), "{m}");
        let c = parse_run_config(&format!("[ping]\nurl_env = \"PING_URL\"\n{MINIMAL}"), "t").unwrap();
        let p = c.ping.unwrap();
        let m = p.resolve(&|_| None).unwrap_err().message;
        assert!(m.contains("ping.url_env") && m.contains("PING_URL"), "{m}");
        let m = p.resolve(&|_| Some("http://hc-ping.com/s3cret-uuid".into())).unwrap_err().message;
        assert!(m.contains("https") && !m.contains("s3cret"), "{m}");
        assert_eq!(p.resolve(&|_| Some("https://hc-ping.com/u".into())).unwrap(), "https://hc-ping.com/u");
    }

    #[test]
    fn free_space_thresholds() {
        assert_eq!(FreeSpaceThreshold::parse("10%"), Ok(FreeSpaceThreshold::Percent(10)));
        assert!(FreeSpaceThreshold::Percent(10).is_low(9, 100));
        assert!(!FreeSpaceThreshold::Percent(10).is_low(10, 100));
        assert!(FreeSpaceThreshold::Bytes(50 << 30).is_low(1 << 30, u64::MAX));
        assert!(!FreeSpaceThreshold::Bytes(1).is_low(1, 2));
        assert!(FreeSpaceThreshold::parse("0%").is_err());
    }

    #[test]
    fn keyring_takes_service_slash_entry_or_a_table() {
        let with = |line: &str| MINIMAL.replace("token_env = \"MES_TOKEN\"", line);
        let keyring =
            |service: &str, entry: &str| CredentialRef::Keyring { service: service.into(), entry: entry.into() };
        let c = parse_run_config(&with("keyring = \"mesbackup/prod/site-1\""), "t").unwrap();
        assert_eq!(c.environments[0].credentials, keyring("mesbackup", "prod/site-1"));
        let c = parse_run_config(&with("keyring = { service = \"mes backup\", entry = \"prod\" }"), "t").unwrap();
        assert_eq!(c.environments[0].credentials, keyring("mes backup", "prod"));
        let m = err(&with("keyring = \"mesbackup\""));
        assert!(m.contains("environment[1].keyring") && m.contains("line 7") && m.contains("service/entry"), "{m}");
        let m = err(&with("keyring = \"mesbackup/\""));
        assert!(m.contains("environment[1].keyring") && m.contains("entry"), "{m}");
        let m = err(&with("keyring = { service = \"mesbackup\" }"));
        assert!(m.contains("keyring") && m.contains("entry") && m.contains("line 7"), "{m}");
        let m = err(&with("keyring = { service = \"s\", entry = \"e\", secret = \"x\" }"));
        // A secret in the keyring's table is refused as a secret (the value never echoed).
        assert!(m.contains("environment[1].keyring.secret") && m.contains("never written"), "{m}");
        let m = err(&with("keyring = 3"));
        assert!(m.contains("environment[1].keyring") && m.contains("service/entry"), "{m}");
        let m = err(&with("keyring = \"a/b\"\ntoken_env = \"T\""));
        assert!(m.contains("one way") && m.contains("keyring"), "{m}");
    }

    #[test]
    fn only_selects_by_name() {
        let c = parse_run_config(MINIMAL, "x").unwrap();
        assert_eq!(c.select(&[]).unwrap().len(), 1);
        assert!(c.select(&["nope".into()]).unwrap_err().message.contains("known: prod"));
    }

    #[test]
    fn test_restore_gets_its_defaults_and_names_its_keys() {
        let c = parse_run_config(
            &format!(
                "{MINIMAL}[environment.test_restore]\nclickhouse_url = \"http://127.0.0.1:8123\"\n\
                 backup_path = \"/var/lib/clickhouse/backups/mesbackup\"\n"
            ),
            "t",
        )
        .unwrap();
        let t = c.environments[0].test_restore.clone().unwrap();
        assert_eq!(t.databases, DatabaseKind::ALL.to_vec());
        assert_eq!((t.user_env.as_str(), t.password_env.as_str()), ("CLICKHOUSE_USER", "CLICKHOUSE_PASSWORD"));
        assert_eq!(t.prefix, DEFAULT_TEST_RESTORE_PREFIX);
        assert_eq!(t.timeout_ms, DEFAULT_TEST_RESTORE_TIMEOUT_MS);
        let c = parse_run_config(
            &format!(
                "{MINIMAL}[environment.test_restore]\nclickhouse_url = \"https://ch.example.com:8443\"\n\
                 backup_path = \"/b\"\ndatabases = [\"CDM\", \"Online\", \"CDM\"]\ntimeout = \"30m\"\n\
                 password_env = \"CH_PW\"\n"
            ),
            "t",
        )
        .unwrap();
        let t = c.environments[0].test_restore.clone().unwrap();
        assert_eq!(t.databases, vec![DatabaseKind::Cdm, DatabaseKind::Online]);
        assert_eq!((t.timeout_ms, t.password_env.as_str()), (1_800_000, "CH_PW"));

        let bad = |extra: &str| err(&format!("{MINIMAL}[environment.test_restore]\n{extra}"));
        let m = bad("clickhouse_url = \"http://ch.example.com:8123\"\nbackup_path = \"/b\"\n");
        assert!(m.contains("test_restore.clickhouse_url") && m.contains("allow_insecure_http = true"), "{m}");
        let m = bad("clickhouse_url = \"https://u:secretpw@ch:8443\"\nbackup_path = \"/b\"\n");
        assert!(m.contains("test_restore.clickhouse_url") && !m.contains("secretpw"), "{m}");
        let m = bad("clickhouse_url = \"https://ch:8443\"\nbackup_path = \"/b\"\ndatabases = [\"cdm\"]\n");
        assert!(m.contains("test_restore.databases") && m.contains("exact case"), "{m}");
        let m = bad("clickhouse_url = \"https://ch:8443\"\nbackup_path = \"/b\"\nprefix = \"\"\n");
        assert!(m.contains("test_restore.prefix"), "{m}");
        let m = bad("clickhouse_url = \"https://ch:8443\"\n");
        assert!(m.contains("backup_path"), "{m}");
        let m = bad("clickhouse_url = \"https://ch:8443\"\nbackup_path = \"/b\"\nkeep = true\n");
        assert!(m.contains("keep") && m.contains("line 11"), "{m}");
        // ClickHouse's password in the file: refused by key and line, the value never echoed.
        let m = bad("clickhouse_url = \"https://ch:8443\"\nbackup_path = \"/b\"\npassword = \"hunter22\"\n");
        assert!(m.contains("environment[1].test_restore.password") && m.contains("password_env"), "{m}");
        assert!(m.contains("line 11") && !m.contains("hunter22"), "{m}");
    }
}
