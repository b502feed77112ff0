//! Credentials and the Authorization header they become.
//!
//! Secrets live only inside [`Credentials`]: its `Debug` is redacted and nothing here formats a
//! secret into an error message. The transport rule (no credentials over plain HTTP except to this
//! machine) is decided here so every front end enforces the same thing.

use base64::Engine;

use crate::error::Error;
use crate::url::EnvUrl;

#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// A session token copied from the MES GUI (with or without its `Bearer ` prefix).
    Bearer(String),
    /// A user name and personal access token, sent as HTTP Basic.
    Basic { user: String, pat: String },
    /// No Authorization header (only useful against a test server).
    None,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Bearer(_) => f.write_str("Credentials::Bearer(<redacted>)"),
            Credentials::Basic { user, .. } => write!(f, "Credentials::Basic {{ user: {user:?}, pat: <redacted> }}"),
            Credentials::None => f.write_str("Credentials::None"),
        }
    }
}

impl Credentials {
    /// A bearer token as users paste it: surrounding whitespace (a token file's newline) and a
    /// leading `Bearer ` (copied with the header name's value from the browser) are removed.
    pub fn bearer(token: &str) -> Result<Credentials, Error> {
        let mut t = token.trim();
        if t.len() >= 7 && t[..7].eq_ignore_ascii_case("bearer ") {
            t = t[7..].trim_start();
        } else if t.eq_ignore_ascii_case("bearer") {
            t = "";
        }
        if t.is_empty() {
            return Err(Error::invalid_argument("the bearer token is empty"));
        }
        if t.chars().any(|c| c.is_control() || c == ' ') {
            return Err(Error::invalid_argument(
                "the bearer token contains spaces or control characters: copy only the token itself",
            ));
        }
        Ok(Credentials::Bearer(t.to_owned()))
    }

    /// A user name and personal access token. The PAT may contain any character (it is base64-encoded
    /// as UTF-8); the user name may not contain `:`, which Basic authentication uses as separator.
    pub fn basic(user: &str, pat: &str) -> Result<Credentials, Error> {
        let user = user.trim();
        let pat = pat.trim_end_matches(['\r', '\n']);
        if user.is_empty() {
            return Err(Error::invalid_argument("the user name is empty"));
        }
        if user.contains(':') {
            return Err(Error::invalid_argument("the user name must not contain ':' (HTTP Basic separates user and token with it)"));
        }
        if pat.is_empty() {
            return Err(Error::invalid_argument("the personal access token is empty"));
        }
        Ok(Credentials::Basic { user: user.to_owned(), pat: pat.to_owned() })
    }

    pub fn is_none(&self) -> bool {
        matches!(self, Credentials::None)
    }

    /// The value of the Authorization header; callers must mark it sensitive and never log it.
    pub fn authorization(&self) -> Option<String> {
        match self {
            Credentials::Bearer(t) => Some(format!("Bearer {t}")),
            Credentials::Basic { user, pat } => {
                let raw = format!("{user}:{pat}");
                Some(format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(raw.as_bytes())))
            }
            Credentials::None => None,
        }
    }

    /// The secret strings, so front ends can scrub them from anything they print (defence in depth).
    pub fn secrets(&self) -> Vec<String> {
        match self {
            Credentials::Bearer(t) => vec![t.clone()],
            Credentials::Basic { pat, .. } => {
                let mut v = vec![pat.clone()];
                v.extend(self.authorization().map(|a| a.trim_start_matches("Basic ").to_owned()));
                v
            }
            Credentials::None => vec![],
        }
    }
}

/// Credentials travel in clear over `http://`. Refuse that unless the caller explicitly allows it,
/// or the server is on this machine (loopback traffic never leaves it).
pub fn check_transport(env: &EnvUrl, credentials: &Credentials, allow_insecure_http: bool) -> Result<(), Error> {
    if env.is_https() || credentials.is_none() || allow_insecure_http || env.is_loopback() {
        return Ok(());
    }
    Err(Error::invalid_argument(format!(
        "refusing to send credentials in clear text to {} (plain http). Use the https:// address of the MES, \
         or allow insecure HTTP explicitly (--allow-insecure-http) on a network you trust.",
        env.as_str()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_prefix_and_whitespace_are_tolerated() {
        for raw in ["abc.def", "Bearer abc.def", "bearer  abc.def\n", "  BEARER abc.def  "] {
            assert_eq!(Credentials::bearer(raw).unwrap().authorization().unwrap(), "Bearer abc.def");
        }
        assert!(Credentials::bearer("Bearer ").is_err());
        assert!(Credentials::bearer("a b").is_err());
    }

    #[test]
    fn basic_is_base64_of_utf8() {
        let c = Credentials::basic("jörg", "pässwörd-✓-ü").unwrap();
        let expected = base64::engine::general_purpose::STANDARD.encode("jörg:pässwörd-✓-ü".as_bytes());
        assert_eq!(c.authorization().unwrap(), format!("Basic {expected}"));
        // Seed example: echo -n "username:your_pat_token" | base64
        let c = Credentials::basic("username", "your_pat_token").unwrap();
        assert_eq!(c.authorization().unwrap(), "Basic dXNlcm5hbWU6eW91cl9wYXRfdG9rZW4=");
        assert!(Credentials::basic("a:b", "x").is_err());
    }

    #[test]
    fn debug_never_shows_secrets() {
        let c = Credentials::basic("admin", "s3cr3t-pat").unwrap();
        assert!(!format!("{c:?}").contains("s3cr3t"));
        let c = Credentials::bearer("tok-123").unwrap();
        assert!(!format!("{c:?}").contains("tok-123"));
    }

    #[test]
    fn clear_text_credentials_need_consent() {
        let remote = EnvUrl::parse("http://mes.example").unwrap();
        let local = EnvUrl::parse("http://127.0.0.1:8080").unwrap();
        let tls = EnvUrl::parse("https://mes.example").unwrap();
        let c = Credentials::bearer("t").unwrap();
        assert!(check_transport(&remote, &c, false).is_err());
        assert!(check_transport(&remote, &c, true).is_ok());
        assert!(check_transport(&local, &c, false).is_ok());
        assert!(check_transport(&tls, &c, false).is_ok());
        assert!(check_transport(&remote, &Credentials::None, false).is_ok());
    }
}
