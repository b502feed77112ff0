//! The MES environment URL, and the backup endpoint URLs built from it.
//!
//! An [`EnvUrl`] is the base address of a Critical Manufacturing MES Web API (for example
//! `https://mes.example.com` or `https://host:8443/mes`). It is validated once, normalised (no
//! trailing slash, no default port) and never holds credentials: a URL with `user:password@` is
//! refused, with a message that does not repeat the credentials.
//!
//! The endpoint builders percent-encode the caller's segment (a database name or a job GUID) so
//! that no input can add a path segment, a query or a fragment, or climb to a parent path.

use crate::error::{quote_untrusted, Error};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// The path, below the environment URL, of the ClickHouse backup endpoints.
pub const BACKUP_PATH: &str = "/environment/clickhouse/backup/";

/// A validated, normalised MES environment base URL: `http` or `https`, a host, an optional port
/// and path prefix; no credentials, query, fragment or trailing slash.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EnvUrl {
    /// The normalised URL, e.g. `https://h:8443/a/b`.
    base: String,
    /// The host as the `url` crate serialises it (lowercase, punycode; IPv6 in brackets).
    host: String,
    /// `scheme://host[:port]`.
    origin: String,
    https: bool,
    loopback: bool,
}

impl EnvUrl {
    /// Parses and validates an environment URL given by a user (command line, config, binding).
    ///
    /// Surrounding whitespace is ignored. Errors are `InvalidArgument` and say how to fix the URL.
    pub fn parse(input: &str) -> Result<EnvUrl, Error> {
        let text = input.trim();
        if text.is_empty() {
            return Err(Error::invalid_argument(
                "the MES environment URL is empty; pass it like https://mes.example.com",
            ));
        }
        match ::url::Url::parse(text) {
            Ok(url) if url.scheme() == "http" || url.scheme() == "https" => from_url(text, &url),
            Ok(url) if !text.contains("://") => {
                // `mes.example.com:443` or `user:pw@host` parse as a URL with an odd scheme.
                let _ = url;
                missing_scheme(text)
            }
            Ok(url) => Err(Error::invalid_argument(format!(
                "the MES environment URL {} uses the scheme {}; only http:// and https:// are supported",
                shown(text),
                quote_untrusted(url.scheme(), 20),
            ))),
            Err(::url::ParseError::RelativeUrlWithoutBase) => missing_scheme(text),
            Err(err) => Err(Error::invalid_argument(format!(
                "the MES environment URL {} is not a valid URL ({err}); pass it like https://mes.example.com",
                shown(text),
            ))),
        }
    }

    /// The normalised URL, without credentials and without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.base
    }

    /// The host name or address (lowercase; an IPv6 address is in brackets, e.g. `[::1]`).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// `scheme://host[:port]` (the port only when it is not the scheme's default).
    pub fn origin(&self) -> String {
        self.origin.clone()
    }

    /// True when the scheme is `https`; over plain `http` credentials are refused unless allowed or loopback.
    pub fn is_https(&self) -> bool {
        self.https
    }

    /// True for `localhost`, `127.0.0.0/8`, `::1` (and the IPv4-mapped `::ffff:127.x.y.z`).
    pub fn is_loopback(&self) -> bool {
        self.loopback
    }

    /// `POST {env}/environment/clickhouse/backup/{database}`, the database name percent-encoded.
    pub fn backup_start_url(&self, database: &str) -> String {
        format!("{}{}{}", self.base, BACKUP_PATH, encode_segment(database))
    }

    /// `GET {env}/environment/clickhouse/backup/{guid}`, the GUID percent-encoded.
    pub fn backup_get_url(&self, guid: &str) -> String {
        format!("{}{}{}", self.base, BACKUP_PATH, encode_segment(guid))
    }
}

impl fmt::Display for EnvUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.base)
    }
}

impl std::str::FromStr for EnvUrl {
    type Err = Error;
    fn from_str(s: &str) -> Result<EnvUrl, Error> {
        EnvUrl::parse(s)
    }
}

impl Serialize for EnvUrl {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.base)
    }
}

impl<'de> Deserialize<'de> for EnvUrl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<EnvUrl, D::Error> {
        let text = String::deserialize(deserializer)?;
        EnvUrl::parse(&text).map_err(|e| serde::de::Error::custom(e.message))
    }
}

const CREDENTIALS_MESSAGE: &str = "the MES environment URL contains credentials (user:password@); \
     remove the credentials from the URL and pass them via MES_TOKEN or MES_USER/MES_PAT";

fn from_url(text: &str, url: &::url::Url) -> Result<EnvUrl, Error> {
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid_argument(CREDENTIALS_MESSAGE));
    }
    let host = match url.host_str() {
        Some(h) if !h.is_empty() => h.to_owned(),
        _ => {
            return Err(Error::invalid_argument(format!(
                "the MES environment URL {} has no host; pass it like https://mes.example.com",
                shown(text)
            )))
        }
    };
    if url.query().is_some() {
        return Err(Error::invalid_argument(format!(
            "the MES environment URL {} has a query (?...); pass only the base address, like https://mes.example.com/mes",
            shown(text)
        )));
    }
    if url.fragment().is_some() {
        return Err(Error::invalid_argument(format!(
            "the MES environment URL {} has a fragment (#...); pass only the base address, like https://mes.example.com/mes",
            shown(text)
        )));
    }
    let scheme = url.scheme();
    let origin = match url.port() {
        Some(port) => format!("{scheme}://{host}:{port}"),
        None => format!("{scheme}://{host}"),
    };
    let path = url.path().trim_end_matches('/');
    let loopback = is_loopback_host(url.host());
    Ok(EnvUrl { base: format!("{origin}{path}"), host, origin, https: scheme == "https", loopback })
}

/// Whether traffic to `host` stays on this machine: `localhost`, 127.0.0.0/8, `::1` (also as an
/// IPv4-mapped address).
pub(crate) fn is_loopback_host(host: Option<::url::Host<&str>>) -> bool {
    match host {
        Some(::url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(::url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(::url::Host::Ipv6(ip)) => ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
        None => false,
    }
}

fn missing_scheme(text: &str) -> Result<EnvUrl, Error> {
    let candidate = format!("https://{text}");
    if let Ok(url) = ::url::Url::parse(&candidate) {
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Error::invalid_argument(CREDENTIALS_MESSAGE));
        }
        if let Ok(env) = from_url(&candidate, &url) {
            return Err(Error::invalid_argument(format!(
                "the MES environment URL {} has no scheme; did you mean {}?",
                shown(text),
                env.as_str()
            )));
        }
    }
    Err(Error::invalid_argument(format!(
        "the MES environment URL {} has no scheme; it must start with https:// (or http://), like https://mes.example.com",
        shown(text)
    )))
}

/// The user's input, quoted for a message, with anything up to the last `@` hidden so that a
/// malformed URL with credentials never has them echoed.
fn shown(text: &str) -> String {
    match text.rfind('@') {
        Some(at) => {
            let start = text.find("://").map(|i| i + 3).filter(|&i| i <= at).unwrap_or(0);
            let redacted = format!("{}***{}", &text[..start], &text[at..]);
            quote_untrusted(&redacted, 200)
        }
        None => quote_untrusted(text, 200),
    }
}

/// Percent-encodes one path segment: only RFC 3986 unreserved characters (`A-Z a-z 0-9 - . _ ~`)
/// are kept, every other byte of the UTF-8 form becomes `%XX`.
///
/// A segment that would be empty, `.` or `..` cannot be sent as itself (it would name the
/// collection or climb a level, and WHATWG URL parsers treat `%2E` like `.`), so it is prefixed
/// with `%00`: the request then stays on the backup endpoint and names nothing that exists.
/// Callers validate database names and GUIDs first; this only keeps bad input harmless.
pub fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len() + 6);
    if segment.is_empty() || segment == "." || segment == ".." {
        out.push_str("%00");
    }
    for &b in segment.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 0x0f) as usize] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use proptest::prelude::*;

    fn ok(s: &str) -> EnvUrl {
        EnvUrl::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn err(s: &str) -> Error {
        let e = EnvUrl::parse(s).expect_err(s);
        assert_eq!(e.kind, ErrorKind::InvalidArgument, "{s}");
        e
    }

    #[test]
    fn url_normalises_path_prefixes() {
        for (input, base) in [
            ("https://h", "https://h"),
            ("https://h/", "https://h"),
            ("https://h/mes", "https://h/mes"),
            ("https://h/mes/", "https://h/mes"),
            ("https://h:8443/a/b/", "https://h:8443/a/b"),
            ("  https://H.Example.COM//  ", "https://h.example.com"),
            ("https://h:443/", "https://h"),
            ("http://h:80", "http://h"),
            ("HTTP://h:8080/x", "http://h:8080/x"),
        ] {
            let env = ok(input);
            assert_eq!(env.as_str(), base, "{input}");
            assert_eq!(env.backup_start_url("MESCDM"), format!("{base}/environment/clickhouse/backup/MESCDM"));
            assert_eq!(
                env.backup_get_url("0f8fad5b-d9cb-469f-a165-70867728950e"),
                format!("{base}/environment/clickhouse/backup/0f8fad5b-d9cb-469f-a165-70867728950e")
            );
        }
    }

    #[test]
    fn url_accessors() {
        let env = ok("https://mes.example.com:8443/mes/");
        assert_eq!(env.host(), "mes.example.com");
        assert_eq!(env.origin(), "https://mes.example.com:8443");
        assert!(env.is_https());
        assert!(!env.is_loopback());
        assert_eq!(env.to_string(), "https://mes.example.com:8443/mes");

        let env = ok("http://[::1]:5000");
        assert_eq!(env.host(), "[::1]");
        assert_eq!(env.origin(), "http://[::1]:5000");
        assert!(!env.is_https());
        assert!(env.is_loopback());

        for l in ["http://localhost", "http://LOCALHOST:8080/x", "http://127.0.0.1", "http://127.1.2.3:9"] {
            assert!(ok(l).is_loopback(), "{l}");
        }
        for l in ["http://localhost.example.com", "http://128.0.0.1", "http://[::2]", "http://10.0.0.1"] {
            assert!(!ok(l).is_loopback(), "{l}");
        }
    }

    #[test]
    fn url_rejects_credentials_without_echoing_them() {
        for s in [
            "https://alice:s3cr3t@h/mes",
            "https://alice@h",
            "https://:s3cr3t@h",
            "alice:s3cr3t@h.example.com",
            "http://alice:s3cr3t@h:8080",
        ] {
            let e = err(s);
            assert!(!e.message.contains("s3cr3t"), "{}", e.message);
            assert!(!e.message.contains("alice"), "{}", e.message);
            assert!(e.message.contains("MES_TOKEN"), "{}", e.message);
            assert!(e.message.contains("MES_USER/MES_PAT"), "{}", e.message);
        }
        // Malformed URLs that contain an '@' never show what precedes it.
        let e = err("https://alice:s3/cr3t@");
        assert!(!e.message.contains("cr3t") && !e.message.contains("alice"), "{}", e.message);
    }

    #[test]
    fn url_rejects_bad_schemes_queries_fragments() {
        let e = err("mes.example.com");
        assert!(e.message.contains("did you mean https://mes.example.com?"), "{}", e.message);
        let e = err("mes.example.com:8443/mes/");
        assert!(e.message.contains("did you mean https://mes.example.com:8443/mes?"), "{}", e.message);
        let e = err("localhost:8080");
        assert!(e.message.contains("did you mean https://localhost:8080?"), "{}", e.message);
        err("ftp://h/x");
        err("file:///etc/passwd");
        err("https://h/mes?x=1");
        err("https://h/mes?");
        err("https://h/#frag");
        err("https://");
        err("http://h:99999");
        err("");
        err("   ");
        err("https://exa mple.com");
    }

    #[test]
    fn url_serde_is_the_string() {
        let env = ok("https://h:8443/a/b/");
        let json = serde_json::to_string(&env).unwrap();
        assert_eq!(json, "\"https://h:8443/a/b\"");
        let back: EnvUrl = serde_json::from_str(&json).unwrap();
        assert_eq!(back, env);
        assert!(serde_json::from_str::<EnvUrl>("\"https://u:p@h\"").is_err());
    }

    #[test]
    fn url_segments_are_encoded() {
        let env = ok("https://h/mes");
        let p = "https://h/mes/environment/clickhouse/backup/";
        assert_eq!(env.backup_start_url("a/b"), format!("{p}a%2Fb"));
        assert_eq!(env.backup_start_url("x?y#z"), format!("{p}x%3Fy%23z"));
        assert_eq!(env.backup_start_url("café"), format!("{p}caf%C3%A9"));
        assert_eq!(env.backup_start_url("..\\.."), format!("{p}..%5C.."));
        assert_eq!(env.backup_start_url(".."), format!("{p}%00.."));
        assert_eq!(env.backup_start_url("."), format!("{p}%00."));
        assert_eq!(env.backup_start_url(""), format!("{p}%00"));
        assert_eq!(env.backup_start_url("A-z_0.9~"), format!("{p}A-z_0.9~"));
        // The url crate (as used by HTTP clients) keeps the request on the endpoint.
        for seg in ["..", ".", "", "%2e%2e", "../..", "a/../../b"] {
            let built = ::url::Url::parse(&env.backup_get_url(seg)).unwrap();
            assert!(built.path().starts_with("/mes/environment/clickhouse/backup/"), "{seg}: {built}");
            assert_eq!(built.path_segments().unwrap().count(), 5, "{seg}: {built}");
            assert!(built.query().is_none() && built.fragment().is_none());
        }
    }

    proptest! {
        #[test]
        fn url_parse_never_panics(s in ".*") {
            if let Ok(env) = EnvUrl::parse(&s) {
                prop_assert!(!env.as_str().contains('@'));
                prop_assert!(!env.as_str().ends_with('/'));
                prop_assert!(EnvUrl::parse(env.as_str()).as_ref() == Ok(&env));
            }
        }

        #[test]
        fn url_parse_never_panics_on_url_like_input(
            scheme in "(https?|ftp|)(://)?",
            user in "([a-z]{0,5}(:[a-z]{0,5})?@)?",
            host in "[a-zA-Z0-9.\\[\\]:-]{0,20}",
            rest in "[/a-z0-9?#%.]{0,20}",
        ) {
            let s = format!("{scheme}{user}{host}{rest}");
            if let Ok(env) = EnvUrl::parse(&s) {
                prop_assert!(!env.as_str().contains('@'));
                prop_assert!(!env.as_str().contains('?') && !env.as_str().contains('#'));
            }
        }

        #[test]
        fn url_builders_stay_on_the_endpoint(
            base in prop::sample::select(vec![
                "https://h", "https://h/", "https://h/mes", "https://h/mes/", "https://h:8443/a/b/",
            ]),
            seg in ".*",
        ) {
            let env = EnvUrl::parse(base).unwrap();
            let prefix = format!("{}/environment/clickhouse/backup/", env.as_str());
            for built in [env.backup_start_url(&seg), env.backup_get_url(&seg)] {
                prop_assert!(built.starts_with(&prefix));
                let rest = &built[prefix.len()..];
                prop_assert!(!rest.is_empty());
                prop_assert!(!rest.contains('/') && !rest.contains('?') && !rest.contains('#'));
                prop_assert!(rest.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)));
                let parsed = ::url::Url::parse(&built).unwrap();
                prop_assert!(parsed.as_str().starts_with(&prefix));
            }
        }
    }
}
