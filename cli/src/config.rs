//! Connection options, credentials and durations: from arguments and the environment to a
//! `MesClient`. Secrets come only from the environment, a file or a no-echo prompt.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::Args;
use mesbackup_client::driver::ClientOptions;
use mesbackup_client::http::HttpConfig;
use mesbackup_client::MesClient;
use mesbackup_core::file_modes::FileModes;
use mesbackup_core::mes::DownloadLimits;
use mesbackup_core::mes::EnvUrl;
use mesbackup_core::mes::PollPolicy;
use mesbackup_core::mes::{resolve_credentials, Credentials, GivenCredentials, Unresolved};
use mesbackup_core::Error;

#[derive(Args, Clone, Debug)]
pub struct ConnOpts {
    /// The MES environment URL (e.g. https://mes.example.com).
    #[arg(long = "env", value_name = "URL", env = "MES_URL")]
    pub env: Option<String>,
    /// Read the bearer token from this file (first line; keep it readable only by you).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Send no credentials at all (only for a test server).
    #[arg(long)]
    pub no_auth: bool,
    /// Also trust the CA certificate(s) in this PEM file (an in-house CA in front of the MES).
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// Allow credentials over plain http:// to another machine (they travel in clear text).
    #[arg(long)]
    pub allow_insecure_http: bool,
    /// How long a backup may take to be prepared before giving up (it continues on the server).
    #[arg(long, value_name = "DURATION", default_value = "24h", value_parser = parse_duration)]
    pub timeout: u64,
    /// Longest wait between two status checks of a pending backup.
    #[arg(long, value_name = "DURATION", default_value = "30m", value_parser = parse_duration)]
    pub max_poll_delay: u64,
    /// Shortest wait between two status checks (the wait grows with the time already waited).
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_duration)]
    pub min_poll_delay: u64,
    /// First wait after a transient failure (503, connection refused), doubling each time.
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_duration)]
    pub retry_delay: u64,
    /// Time allowed for the status line and headers of one answer.
    #[arg(long, value_name = "DURATION", default_value = "2m", value_parser = parse_duration)]
    pub request_timeout: u64,
    /// A download that receives nothing for this long is abandoned (and then lost: one-shot).
    #[arg(long, value_name = "DURATION", default_value = "2m", value_parser = parse_duration)]
    pub stall_timeout: u64,
    /// Abandon a download that averages less than this per second over --speed-time (as curl's
    /// --speed-limit; 0 disables). A size with a unit: 1KiB, 100KB, 1MiB, or bytes.
    #[arg(long, value_name = "SIZE", default_value = "1KiB", value_parser = parse_speed)]
    pub speed_limit: u64,
    /// The window over which --speed-limit is averaged.
    #[arg(long, value_name = "DURATION", default_value = "2m", value_parser = parse_duration)]
    pub speed_time: u64,
    /// Abandon a download still arriving this long after it started (default: no limit).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub download_timeout: Option<u64>,
    /// Refuse a package larger than this: a Content-Length over it before any byte is written, a
    /// body without one as soon as it passes it. A size with a unit: 500GiB, 2TiB, or bytes.
    #[arg(long, value_name = "SIZE", default_value = "1TiB", value_parser = parse_size)]
    pub max_size: u64,
    /// New backups allowed after a lost one-shot download (0: never start a backup you did not ask for).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub restart_budget: u32,
}

/// The permission bits of what a command writes. One struct for every command that writes files
/// (flattened into each), so the options read the same everywhere.
#[derive(Args, Clone, Debug, Default)]
pub struct FileModeArgs {
    /// Permission bits (octal) of every file written: packages, sidecars, temporary files, staged
    /// copies. Default 0600: only you. 0640 lets your group read them (e.g. ClickHouse's user or the
    /// installer's service account). Set exactly, whatever the umask. Unix only: on Windows files
    /// inherit the ACL of the folder they are written to.
    #[arg(long, value_name = "MODE")]
    pub file_mode: Option<String>,
    /// Permission bits (octal) of the folders mesbackup creates (a missing output folder and its
    /// missing parents; an existing folder is left as it is). Default 0700; 0750 for a group.
    /// Unix only: on Windows folders inherit their parent's ACL.
    #[arg(long, value_name = "MODE")]
    pub dir_mode: Option<String>,
}

impl FileModeArgs {
    /// The modes asked for, checked (an invalid_argument error says what to use instead).
    pub fn modes(&self) -> Result<FileModes, Error> {
        FileModes::parse(self.file_mode.as_deref(), self.dir_mode.as_deref())
    }
}

pub use mesbackup_core::units::parse_duration;

/// `1024`, `1KiB`, `1K` (1024), `1KB` (1000), `1.5MiB`, `2TiB`, to bytes.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let hint = "use a number of bytes or a number with a unit, e.g. 1024, 1KiB, 100KB, 1.5MiB, 2TiB";
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (number, unit) = (&t[..split], t[split..].trim());
    let value: f64 = number.parse().map_err(|_| format!("{t:?} is not a size; {hint}"))?;
    let factor: u64 = match unit {
        "" | "B" | "b" => 1,
        "k" | "K" | "KiB" | "kiB" => 1 << 10,
        "M" | "MiB" => 1 << 20,
        "G" | "GiB" => 1 << 30,
        "T" | "TiB" => 1 << 40,
        "kB" | "KB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "TB" => 1_000_000_000_000,
        other => return Err(format!("unknown unit {other:?} in {t:?}; {hint}")),
    };
    let bytes = value * factor as f64;
    if !bytes.is_finite() || bytes >= u64::MAX as f64 {
        return Err(format!("{t:?} is too large"));
    }
    if bytes.fract() != 0.0 {
        return Err(format!("{t:?} is not a whole number of bytes; {hint}"));
    }
    Ok(bytes as u64)
}

/// A duration of an option that once took bare seconds: a duration with a unit, or (deprecated for
/// one release) a bare number of seconds, which the command warns about when it runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecondsOrDuration {
    pub ms: u64,
    /// Given as a bare number of seconds (the old spelling).
    pub bare_seconds: bool,
}

/// `1h`, `90s`, `1h30m` (see `parse_duration`), or a bare number of seconds (deprecated).
pub fn parse_duration_or_seconds(text: &str) -> Result<SecondsOrDuration, String> {
    let t = text.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        let secs: u64 = t.parse().map_err(|_| format!("{t:?} is too large"))?;
        if secs == 0 {
            return Err(format!("{t:?} is zero; use a duration such as 30m or 1h"));
        }
        return Ok(SecondsOrDuration { ms: secs.saturating_mul(1000), bare_seconds: true });
    }
    parse_duration(t).map(|ms| SecondsOrDuration { ms, bare_seconds: false })
}

/// Says on stderr that a deprecated spelling was used and what to write instead. Old spellings are
/// kept for one release and hidden from --help.
pub fn warn_deprecated(old: &str, instead: &str) {
    eprintln!("warning: {old} is deprecated and will be removed in the next release: {instead}");
}

/// A size per second: `1KiB`, `1KiB/s`, `0` (disabled).
pub fn parse_speed(text: &str) -> Result<u64, String> {
    let t = text.trim();
    parse_size(t.strip_suffix("/s").unwrap_or(t))
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The bearer token of `--token-file`: its first non-empty line, checked (an error names the file).
fn read_token_file(path: &std::path::Path, ui: &crate::output::Ui) -> Result<String, Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::invalid_argument(format!("cannot read the token file {}: {e}", path.display())))?;
    warn_if_shared(path, ui);
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    Credentials::bearer(first)
        .map_err(|e| Error::invalid_argument(format!("token file {}: {}", path.display(), e.message)))?;
    Ok(first.to_owned())
}

/// Credentials by core's one rule (`--token-file` is the explicit token; then MES_TOKEN, then
/// MES_USER + MES_PAT); on a terminal, what is missing is asked for without echo.
pub fn credentials(opts: &ConnOpts, env_url: &str, ui: &crate::output::Ui) -> Result<Credentials, Error> {
    let token = match &opts.token_file {
        Some(path) => Some(read_token_file(path, ui)?),
        None => None,
    };
    let given = GivenCredentials { token: token.as_deref(), no_auth: opts.no_auth, ..GivenCredentials::default() };
    let interactive = std::io::stdin().is_terminal();
    match resolve_credentials(given, env_var) {
        Ok(c) => Ok(c),
        Err(Unresolved::PatMissing { user, explicit: false }) if interactive => {
            let pat = prompt_secret(&format!("Personal access token for {user} at {env_url}: "))?;
            Credentials::basic(&user, &pat)
        }
        Err(Unresolved::NoneGiven) if interactive => {
            eprint!("MES user for a personal access token (leave empty to paste a bearer token instead): ");
            let _ = std::io::stderr().flush();
            let mut user = String::new();
            std::io::stdin()
                .read_line(&mut user)
                .map_err(|e| Error::invalid_argument(format!("cannot read the user name: {e}")))?;
            let user = user.trim();
            if user.is_empty() {
                let token = prompt_secret(&format!("Bearer token for {env_url}: "))?;
                Credentials::bearer(&token)
            } else {
                let pat = prompt_secret(&format!("Personal access token for {user} at {env_url}: "))?;
                Credentials::basic(user, &pat)
            }
        }
        Err(unresolved) => Err(unresolved.into()),
    }
}

fn prompt_secret(prompt: &str) -> Result<String, Error> {
    rpassword::prompt_password(prompt).map_err(|e| Error::invalid_argument(format!("cannot read the secret: {e}")))
}

fn warn_if_shared(path: &std::path::Path, ui: &crate::output::Ui) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                ui.warning(
                    None,
                    &format!(
                        "the token file {} is readable by other users; restrict it with `chmod 600 {}`",
                        path.display(),
                        path.display()
                    ),
                );
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (path, ui);
}

/// The environment URL, credentials and client for a command that talks to the MES.
pub fn connect(opts: &ConnOpts, ui: &crate::output::Ui) -> Result<(MesClient, Credentials), Error> {
    let Some(raw) = opts.env.as_deref() else {
        return Err(Error::invalid_argument("no MES address: pass --env https://mes.example.com or set MES_URL"));
    };
    let env = EnvUrl::parse(raw)?;
    let credentials = credentials(opts, env.as_str(), ui)?;
    ui.add_secrets(credentials.secrets());
    let ca_cert_pem = match &opts.ca_cert {
        Some(path) => Some(std::fs::read(path).map_err(|e| {
            Error::invalid_argument(format!("cannot read the CA certificate file {}: {e}", path.display()))
        })?),
        None => None,
    };
    let policy = PollPolicy {
        min_delay_ms: opts.min_poll_delay,
        max_delay_ms: opts.max_poll_delay.max(opts.min_poll_delay),
        retry_base_ms: opts.retry_delay,
        timeout_ms: opts.timeout,
        stall_timeout_ms: opts.stall_timeout,
        request_timeout_ms: opts.request_timeout,
        ..PollPolicy::default()
    };
    let download_limits = DownloadLimits {
        speed_limit: opts.speed_limit,
        speed_time_ms: opts.speed_time,
        download_timeout_ms: opts.download_timeout,
        max_size: opts.max_size,
    };
    let options = ClientOptions {
        policy,
        restart_budget: opts.restart_budget,
        http: HttpConfig { ca_cert_pem, connect_timeout_ms: Some(30_000) },
        allow_insecure_http: opts.allow_insecure_http,
        download_limits,
    };
    let client = MesClient::new(env, credentials.clone(), options)?;
    Ok((client, credentials))
}

#[cfg(test)]
mod tests {
    use super::{parse_duration, parse_size, parse_speed};

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1024"), Ok(1024));
        assert_eq!(parse_size("1KiB"), Ok(1024));
        assert_eq!(parse_size("1k"), Ok(1024));
        assert_eq!(parse_size("100KB"), Ok(100_000));
        assert_eq!(parse_size("1.5MiB"), Ok(1_572_864));
        assert_eq!(parse_size("1TiB"), Ok(1 << 40));
        assert_eq!(parse_size("2 GiB"), Ok(2 << 30));
        assert_eq!(parse_size("0"), Ok(0));
        assert_eq!(parse_speed("1KiB/s"), Ok(1024));
        assert!(parse_size("1.5").is_err(), "half a byte");
        assert!(parse_size("1XB").is_err());
        assert!(parse_size("").is_err());
        assert!(parse_size("KiB").is_err());
        assert!(parse_size("99999999EiB").is_err());
    }

    #[test]
    fn restore_timeouts_take_units_and_for_now_bare_seconds() {
        use super::{parse_duration_or_seconds, SecondsOrDuration};
        assert_eq!(parse_duration_or_seconds("1h"), Ok(SecondsOrDuration { ms: 3_600_000, bare_seconds: false }));
        assert_eq!(parse_duration_or_seconds("90s"), Ok(SecondsOrDuration { ms: 90_000, bare_seconds: false }));
        assert_eq!(parse_duration_or_seconds("3600"), Ok(SecondsOrDuration { ms: 3_600_000, bare_seconds: true }));
        assert!(parse_duration_or_seconds("0").is_err());
        assert!(parse_duration_or_seconds("").is_err());
        assert!(parse_duration_or_seconds("5x").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("250ms"), Ok(250));
        assert_eq!(parse_duration("30s"), Ok(30_000));
        assert_eq!(parse_duration("5m"), Ok(300_000));
        assert_eq!(parse_duration("4h"), Ok(14_400_000));
        assert_eq!(parse_duration("1h30m"), Ok(5_400_000));
        assert_eq!(parse_duration("1d"), Ok(86_400_000));
        assert!(parse_duration("30").is_err());
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("5x").is_err());
        assert!(parse_duration("").is_err());
    }
}
