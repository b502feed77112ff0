//! Credentials and the Authorization header they become.
//!
//! Secrets live only inside [`Credentials`]: its `Debug` is redacted and nothing here formats a
//! secret into an error message. The transport rule (no credentials over plain HTTP except to this
//! machine) is decided here so every front end enforces the same thing.

use base64::Engine;

use super::url::EnvUrl;
use crate::error::Error;

/// How requests to the MES authenticate. Build it with [`Credentials::bearer`] or [`Credentials::basic`],
/// which clean up pasted values, or with [`resolve_credentials`]; its `Debug` never shows a secret.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// A session token copied from the MES GUI (with or without its `Bearer ` prefix).
    Bearer(String),
    /// A user name and personal access token, sent as HTTP Basic.
    Basic {
        /// The MES user name (never contains `:`).
        user: String,
        /// The user's personal access token; secret.
        pat: String,
    },
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
            return Err(Error::invalid_argument(
                "the user name must not contain ':' (HTTP Basic separates user and token with it)",
            ));
        }
        if pat.is_empty() {
            return Err(Error::invalid_argument("the personal access token is empty"));
        }
        Ok(Credentials::Basic { user: user.to_owned(), pat: pat.to_owned() })
    }

    /// A secret as stored in an OS credential store (`mesbackup credential set`): `user:pat` (split
    /// at the first `:`, as HTTP Basic does) is a personal access token; anything else is a bearer
    /// token (optionally with its `Bearer ` prefix). A bearer token never contains `:` (RFC 6750's
    /// token68), so the two cannot be confused. Errors never quote the secret.
    pub fn from_stored_secret(secret: &str) -> Result<Credentials, Error> {
        let secret = secret.trim_end_matches(['\r', '\n']);
        match secret.split_once(':') {
            Some((user, pat)) => Credentials::basic(user, pat),
            None => Credentials::bearer(secret),
        }
    }

    /// How the Authorization header authenticates: "bearer", "basic" or "none" (what front ends show).
    pub fn scheme(&self) -> &'static str {
        match self {
            Credentials::Bearer(_) => "bearer",
            Credentials::Basic { .. } => "basic",
            Credentials::None => "none",
        }
    }

    /// True for [`Credentials::None`]: no Authorization header is sent, so the transport rule does not apply.
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

/// Credentials a caller gave explicitly (arguments, options, a token file), before the environment
/// is consulted. Every front end fills this in its own spelling and calls [`resolve_credentials`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GivenCredentials<'a> {
    /// A bearer token (CLI `--token-file`, Python `token=`, JavaScript `token`, PowerShell `-Token`).
    pub token: Option<&'a str>,
    /// A user name for a personal access token (Python `user=`, JavaScript `user`, PowerShell `-Credential`).
    pub user: Option<&'a str>,
    /// That user's personal access token.
    pub pat: Option<&'a str>,
    /// The caller said, explicitly, to send no credentials at all (a test server).
    pub no_auth: bool,
}

/// Why [`resolve_credentials`] found no credentials to use. The two "missing" cases are told apart
/// so a front end on a terminal can ask for what is missing (the CLI's prompt); any other front end
/// turns them into their `invalid_argument` [`Error`] with `Error::from`.
#[derive(Debug, Clone, PartialEq)]
pub enum Unresolved {
    /// Nothing given anywhere: no explicit value, no `MES_TOKEN`, no `MES_USER`/`MES_PAT`.
    NoneGiven,
    /// A user name without its personal access token (explicitly, or in `MES_USER`).
    PatMissing {
        /// The user name that was given, trimmed, so a prompt can name it.
        user: String,
        /// True when the user name was given explicitly, false when it came from `MES_USER`.
        explicit: bool,
    },
    /// A conflict or an invalid value: nothing to ask for.
    Invalid(Error),
}

/// What every front end says when no credentials were given: every way to give them, in every front
/// end's spelling, so the sentence is the same wherever it is read.
pub const NO_CREDENTIALS: &str = "no MES credentials: give a bearer token, or a user name and its personal \
     access token (PAT). Looked for, in this order: a token given explicitly (CLI --token-file FILE, Python \
     token=, JavaScript token, PowerShell -Token), a user and PAT given explicitly (Python user= and pat=, \
     JavaScript user and pat, PowerShell -Credential), the environment variable MES_TOKEN, the environment \
     variables MES_USER and MES_PAT. The CLI also asks on a terminal. For a test server without \
     authentication, say so explicitly (CLI --no-auth, Python no_auth=True, JavaScript noAuth: true).";

impl From<Unresolved> for Error {
    fn from(u: Unresolved) -> Error {
        match u {
            Unresolved::NoneGiven => Error::invalid_argument(NO_CREDENTIALS),
            Unresolved::PatMissing { explicit: true, .. } => Error::invalid_argument(
                "a user name was given without its personal access token: give the PAT too (Python pat=, \
                 JavaScript pat), or a bearer token instead",
            ),
            Unresolved::PatMissing { explicit: false, .. } => Error::invalid_argument(
                "MES_USER is set but MES_PAT is not: set MES_PAT to the user's personal access token",
            ),
            Unresolved::Invalid(e) => e,
        }
    }
}

/// The one rule for which credentials a front end uses. The first source that holds anything wins,
/// in this order: a token given explicitly; a user and PAT given explicitly; `MES_TOKEN`;
/// `MES_USER` and `MES_PAT`. An explicit `no_auth` means no credentials (only with no explicit token
/// or user). Within one source, a token and a user or PAT together are refused, naming both, rather
/// than one being picked silently. Environment values that are empty or only whitespace count as
/// unset; `env` looks a variable up (a browser passes one that finds nothing).
pub fn resolve_credentials(
    given: GivenCredentials<'_>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Credentials, Unresolved> {
    let invalid = |m: &str| Unresolved::Invalid(Error::invalid_argument(m));
    let explicit = given.token.is_some() || given.user.is_some() || given.pat.is_some();
    if given.no_auth {
        if explicit {
            return Err(invalid(
                "no authentication was asked for, and credentials were given too: drop one or the other",
            ));
        }
        return Ok(Credentials::None);
    }
    if explicit {
        return match (given.token, given.user, given.pat) {
            (Some(_), _, _) if given.user.is_some() || given.pat.is_some() => Err(invalid(
                "both a bearer token and a user / personal access token were given explicitly: give one or the other",
            )),
            (Some(t), None, None) => Credentials::bearer(t).map_err(Unresolved::Invalid),
            (None, Some(u), Some(p)) => Credentials::basic(u, p).map_err(Unresolved::Invalid),
            (None, Some(u), None) => Err(Unresolved::PatMissing { user: u.trim().to_owned(), explicit: true }),
            _ => Err(invalid(
                "a personal access token was given without its user name: give the user too (Python user=, \
                 JavaScript user)",
            )),
        };
    }
    let var = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    match (var("MES_TOKEN"), var("MES_USER"), var("MES_PAT")) {
        (Some(_), Some(_), _) => Err(both_in_environment("MES_USER")),
        (Some(_), None, Some(_)) => Err(both_in_environment("MES_PAT")),
        (Some(t), None, None) => Credentials::bearer(&t)
            .map_err(|e| Unresolved::Invalid(Error::invalid_argument(format!("MES_TOKEN: {}", e.message)))),
        (None, Some(u), Some(p)) => Credentials::basic(&u, &p)
            .map_err(|e| Unresolved::Invalid(Error::invalid_argument(format!("MES_USER/MES_PAT: {}", e.message)))),
        (None, Some(u), None) => Err(Unresolved::PatMissing { user: u.trim().to_owned(), explicit: false }),
        (None, None, Some(_)) => {
            Err(invalid("MES_PAT is set but MES_USER is not: set MES_USER to the user the token belongs to"))
        }
        (None, None, None) => Err(Unresolved::NoneGiven),
    }
}

fn both_in_environment(other: &str) -> Unresolved {
    Unresolved::Invalid(Error::invalid_argument(format!(
        "both MES_TOKEN and {other} are set: use either a bearer token (MES_TOKEN) or a user and personal \
         access token (MES_USER and MES_PAT), and unset the other"
    )))
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
    fn a_stored_secret_is_a_token_or_user_colon_pat() {
        assert_eq!(Credentials::from_stored_secret("eyJ.abc\n").unwrap(), Credentials::Bearer("eyJ.abc".into()));
        assert_eq!(Credentials::from_stored_secret("Bearer eyJ.abc").unwrap(), Credentials::Bearer("eyJ.abc".into()));
        assert_eq!(
            Credentials::from_stored_secret("svc-backup:p:a:t").unwrap(),
            Credentials::Basic { user: "svc-backup".into(), pat: "p:a:t".into() }
        );
        let m = Credentials::from_stored_secret(":hunter2").unwrap_err().message;
        assert!(m.contains("user name is empty") && !m.contains("hunter2"), "{m}");
        assert!(Credentials::from_stored_secret("svc:").is_err());
        assert!(Credentials::from_stored_secret("").is_err());
    }

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

    fn resolve(given: GivenCredentials<'_>, vars: &[(&str, &str)]) -> Result<Credentials, Unresolved> {
        resolve_credentials(given, |name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned()))
    }

    fn message(r: Result<Credentials, Unresolved>) -> String {
        Error::from(r.expect_err("refused")).message
    }

    #[test]
    fn the_first_source_that_holds_anything_wins() {
        let env_token = [("MES_TOKEN", "env-tok")];
        let env_basic = [("MES_USER", "u"), ("MES_PAT", "env-pat")];
        let token = GivenCredentials { token: Some("given-tok"), ..Default::default() };
        let basic = GivenCredentials { user: Some("g"), pat: Some("given-pat"), ..Default::default() };
        // explicit token, over everything in the environment
        assert_eq!(resolve(token, &env_basic).ok(), Credentials::bearer("given-tok").ok());
        assert_eq!(resolve(token, &env_token).ok(), Credentials::bearer("given-tok").ok());
        // explicit user + PAT, over everything in the environment
        assert_eq!(resolve(basic, &env_token).ok(), Credentials::basic("g", "given-pat").ok());
        // then MES_TOKEN, then MES_USER + MES_PAT
        assert_eq!(resolve(GivenCredentials::default(), &env_token).ok(), Credentials::bearer("env-tok").ok());
        assert_eq!(resolve(GivenCredentials::default(), &env_basic).ok(), Credentials::basic("u", "env-pat").ok());
        // an explicit "no authentication" also wins over the environment
        let none = GivenCredentials { no_auth: true, ..Default::default() };
        assert_eq!(resolve(none, &env_token), Ok(Credentials::None));
    }

    #[test]
    fn a_token_and_a_pat_from_one_source_are_refused_naming_both() {
        let m = message(resolve(GivenCredentials { token: Some("t"), pat: Some("p"), ..Default::default() }, &[]));
        assert!(m.contains("bearer token") && m.contains("personal access token") && m.contains("explicitly"), "{m}");
        let m = message(resolve(GivenCredentials { token: Some("t"), user: Some("u"), ..Default::default() }, &[]));
        assert!(m.contains("bearer token") && m.contains("user"), "{m}");
        let m = message(resolve(GivenCredentials::default(), &[("MES_TOKEN", "t"), ("MES_PAT", "p")]));
        assert!(m.contains("MES_TOKEN") && m.contains("MES_PAT"), "{m}");
        let m =
            message(resolve(GivenCredentials::default(), &[("MES_TOKEN", "t"), ("MES_USER", "u"), ("MES_PAT", "p")]));
        assert!(m.contains("MES_TOKEN") && m.contains("MES_USER"), "{m}");
        let m = message(resolve(GivenCredentials { token: Some("t"), no_auth: true, ..Default::default() }, &[]));
        assert!(m.contains("no authentication"), "{m}");
    }

    #[test]
    fn nothing_given_is_one_error_naming_every_way() {
        let blank = [("MES_TOKEN", "  "), ("MES_USER", ""), ("MES_PAT", "\n")];
        for r in [resolve(GivenCredentials::default(), &[]), resolve(GivenCredentials::default(), &blank)] {
            assert_eq!(r, Err(Unresolved::NoneGiven));
            let e = Error::from(r.unwrap_err());
            assert_eq!(e.kind, crate::ErrorKind::InvalidArgument);
            assert_eq!(e.message, NO_CREDENTIALS);
        }
        for way in [
            "--token-file",
            "token=",
            "-Token",
            "user= and pat=",
            "-Credential",
            "MES_TOKEN",
            "MES_USER and MES_PAT",
            "--no-auth",
            "noAuth",
        ] {
            assert!(NO_CREDENTIALS.contains(way), "{way} missing from: {NO_CREDENTIALS}");
        }
    }

    #[test]
    fn half_a_user_and_pat_says_what_is_missing() {
        assert_eq!(
            resolve(GivenCredentials::default(), &[("MES_USER", "svc ")]),
            Err(Unresolved::PatMissing { user: "svc".into(), explicit: false })
        );
        assert_eq!(
            resolve(GivenCredentials { user: Some("svc"), ..Default::default() }, &[("MES_PAT", "env-pat")]),
            Err(Unresolved::PatMissing { user: "svc".into(), explicit: true }),
            "an explicit user is not completed from the environment"
        );
        assert!(message(resolve(GivenCredentials::default(), &[("MES_PAT", "p")])).contains("MES_USER"));
        assert!(message(resolve(GivenCredentials { pat: Some("p"), ..Default::default() }, &[])).contains("user name"));
    }

    #[test]
    fn invalid_values_say_where_they_came_from() {
        let m = message(resolve(GivenCredentials::default(), &[("MES_TOKEN", "a b")]));
        assert!(m.starts_with("MES_TOKEN: "), "{m}");
        let m = message(resolve(GivenCredentials { token: Some("Bearer "), ..Default::default() }, &[]));
        assert!(m.contains("empty"), "{m}");
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
