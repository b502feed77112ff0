//! ClickHouse's HTTP interface as a [`SqlExecutor`]: how the restore flow talks to the server, with
//! the same rules as the MES connection (no redirect followed, https or loopback unless allowed, no
//! credentials in the URL, every message redacted before it is quoted).

use std::time::Duration;

use async_trait::async_trait;
use mesbackup_core::error::{quote_untrusted, redact};
use mesbackup_core::restore::ClickHouseUrl;
use mesbackup_core::{Error, ErrorKind};
use serde_json::Value;

/// Runs one SQL statement and returns its result rows (JSONEachRow, parsed).
#[async_trait]
pub trait SqlExecutor: Send + Sync {
    /// Runs `sql` and returns its result rows, one JSON object each; a statement that fails on the
    /// server, or cannot reach it, is an error.
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
    /// ClickHouse user, sent as `X-ClickHouse-User`; none: the server's default user.
    pub user: Option<String>,
    /// That user's password, sent as `X-ClickHouse-Key` (hidden in `Debug`); none: no password.
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
    pub fn new(
        url: &str,
        credentials: ClickHouseCredentials,
        options: &ClickHouseOptions,
    ) -> Result<HttpExecutor, Error> {
        let url = ClickHouseUrl::parse(url, options.allow_insecure_http)?;
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .referer(false)
            .connect_timeout(options.connect_timeout)
            .timeout(options.request_timeout);
        if url.is_loopback() {
            builder = builder.no_proxy();
        }
        let client =
            builder.build().map_err(|e| Error::invalid_argument(format!("cannot build the HTTP client: {e}")))?;
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
        let mut req =
            self.client.post(self.url.as_str()).query(&[("default_format", "JSONEachRow")]).body(sql.to_owned());
        if let Some(u) = &self.credentials.user {
            req = req.header("X-ClickHouse-User", u);
        }
        if let Some(p) = &self.credentials.password {
            let mut value = reqwest::header::HeaderValue::from_str(p).map_err(|_| {
                Error::invalid_argument("CLICKHOUSE_PASSWORD holds characters that cannot be sent in an HTTP header")
            })?;
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
        let body = resp
            .text()
            .await
            .map_err(|e| Error::network(format!("ClickHouse at {url}: the answer broke off: {}", describe(&e))))?;
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
