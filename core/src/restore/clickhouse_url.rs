//! The address of a ClickHouse server's HTTP interface, checked the way the MES address is: a
//! password must never end up somewhere it was not meant for.
//!
//! Refused: a scheme other than http/https; credentials in the URL (`user:password@`, or a query
//! such as `?user=…&password=…`, which ClickHouse accepts and every log and error message would
//! echo); plain `http://` to a host that is not this machine, unless the administrator allows it
//! explicitly (`--allow-insecure-http`). Messages never repeat the part of the URL that may hold a
//! secret: only `scheme://host:port/path` is ever shown.

use crate::error::{quote_untrusted, Error};

/// A checked ClickHouse HTTP address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClickHouseUrl {
    /// `scheme://host[:port]/path`, without query or fragment: what is sent and what is shown.
    url: String,
    loopback: bool,
    https: bool,
}

impl ClickHouseUrl {
    /// Parses and checks `text`; `allow_insecure_http` permits plain http to another machine.
    pub fn parse(text: &str, allow_insecure_http: bool) -> Result<ClickHouseUrl, Error> {
        let text = text.trim();
        let parsed = ::url::Url::parse(text).ok().filter(|u| u.scheme() == "http" || u.scheme() == "https");
        let Some(url) = parsed else {
            // Never echo the input: it may be `user:password@host` without a scheme.
            return Err(Error::invalid_argument(
                "--clickhouse must be ClickHouse's HTTP address, like https://clickhouse.example.com:8443 or \
                 http://127.0.0.1:8123",
            ));
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Error::invalid_argument(
                "the ClickHouse URL contains credentials: remove user:password@ and set CLICKHOUSE_USER / \
                 CLICKHOUSE_PASSWORD in the environment",
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(Error::invalid_argument(
                "the ClickHouse URL has a query or fragment (?… or #…), where ClickHouse also accepts user= and \
                 password=: pass only the address (scheme://host:port) and set CLICKHOUSE_USER / CLICKHOUSE_PASSWORD \
                 in the environment",
            ));
        }
        let Some(host) = url.host_str().filter(|h| !h.is_empty()) else {
            return Err(Error::invalid_argument("the ClickHouse URL has no host: pass it like http://127.0.0.1:8123"));
        };
        let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
        let shown = format!("{}://{host}{port}{}", url.scheme(), url.path());
        let loopback = crate::mes::is_loopback_host(url.host());
        let https = url.scheme() == "https";
        if !https && !loopback && !allow_insecure_http {
            return Err(Error::invalid_argument(format!(
                "refusing to talk to ClickHouse at {} over plain http: its password and the restored data would \
                 cross the network in clear text. Use its https:// address, or allow plain http explicitly with \
                 --allow-insecure-http on a network you trust.",
                quote_untrusted(&shown, 200)
            )));
        }
        Ok(ClickHouseUrl { url: shown, loopback, https })
    }

    /// The address, safe to send and to show.
    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// Whether the server is on this machine (no proxy is ever used for it).
    pub fn is_loopback(&self) -> bool {
        self.loopback
    }

    /// Whether the address is https; plain http passed the check only for this machine or with
    /// `--allow-insecure-http`.
    pub fn is_https(&self) -> bool {
        self.https
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_and_https_pass_plain_http_elsewhere_needs_consent() {
        for ok in
            ["http://127.0.0.1:8123", "http://localhost:8123/", "http://[::1]:8123", "https://ch.example.com:8443"]
        {
            let u = ClickHouseUrl::parse(ok, false).unwrap();
            assert!(u.is_loopback() || u.is_https(), "{ok}");
        }
        let e = ClickHouseUrl::parse("http://ch.example.com:8123", false).unwrap_err();
        assert!(e.message.contains("--allow-insecure-http"), "{}", e.message);
        assert!(ClickHouseUrl::parse("http://ch.example.com:8123", true).is_ok());
        assert_eq!(
            ClickHouseUrl::parse("http://127.0.0.1:8123/ch/", false).unwrap().as_str(),
            "http://127.0.0.1:8123/ch/"
        );
    }

    #[test]
    fn credentials_in_the_url_are_refused_and_never_echoed() {
        for bad in [
            "http://admin:s3cret@127.0.0.1:8123",
            "http://127.0.0.1:8123/?user=admin&password=s3cret",
            "http://127.0.0.1:8123/#s3cret",
            "admin:s3cret@127.0.0.1:8123",
            "ftp://admin:s3cret@host",
            "127.0.0.1:8123?password=s3cret",
        ] {
            let e = ClickHouseUrl::parse(bad, true).unwrap_err();
            assert_eq!(e.kind, crate::ErrorKind::InvalidArgument);
            assert!(!e.message.contains("s3cret"), "{bad}: {}", e.message);
        }
    }
}
