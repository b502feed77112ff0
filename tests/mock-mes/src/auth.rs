//! The built-in users and how an `Authorization` header maps onto them.
//!
//! | credentials                          | user     | access                          |
//! |--------------------------------------|----------|---------------------------------|
//! | `Bearer admin-token`                 | `admin`  | SysAdministrators               |
//! | `Bearer viewer-token`                | `viewer` | signed in, no SysAdministrators (403) |
//! | `Basic base64("admin:admin-pat")`    | `admin`  | SysAdministrators               |
//! | `Basic base64("jörg:pässwörd-✓-ü")` (UTF-8) | `jörg` | SysAdministrators          |
//!
//! The scheme name is matched case-insensitively (RFC 9110); tokens, user names and PATs exactly.
//! The raw header value never leaves this module: the log gets only [`AuthInfo::kind`] and the user.

use axum::http::header::AUTHORIZATION;
use axum::http::HeaderMap;
use base64::Engine;

pub const ADMIN_TOKEN: &str = "admin-token";
pub const VIEWER_TOKEN: &str = "viewer-token";

/// `(user, pat)` pairs accepted with Basic authentication (all SysAdministrators).
pub const BASIC_USERS: [(&str, &str); 2] = [("admin", "admin-pat"), ("jörg", "pässwörd-✓-ü")];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Known user with the SysAdministrators role.
    Admin,
    /// Known user without the role: 403.
    NoRole,
    /// Missing, malformed or unknown credentials: 401.
    Unauthenticated,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthInfo {
    /// `"bearer"`, `"basic"` (well-formed header of that scheme, known or not), `"none"` (no header)
    /// or `"invalid"` (another scheme, several headers, bad base64, not UTF-8, no `:`).
    pub kind: &'static str,
    /// The known user the credentials belong to; `None` for unknown credentials.
    pub user: Option<String>,
    pub access: Access,
}

impl AuthInfo {
    fn unauthenticated(kind: &'static str) -> AuthInfo {
        AuthInfo { kind, user: None, access: Access::Unauthenticated }
    }

    fn known(kind: &'static str, user: &str, access: Access) -> AuthInfo {
        AuthInfo { kind, user: Some(user.to_owned()), access }
    }
}

pub fn authenticate(headers: &HeaderMap) -> AuthInfo {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return AuthInfo::unauthenticated("none");
    };
    if values.next().is_some() {
        return AuthInfo::unauthenticated("invalid");
    }
    let Ok(value) = std::str::from_utf8(value.as_bytes()) else {
        return AuthInfo::unauthenticated("invalid");
    };
    let (scheme, rest) = match value.split_once(' ') {
        Some((s, r)) => (s, r.trim_start_matches(' ')),
        None => (value, ""),
    };
    if scheme.eq_ignore_ascii_case("bearer") {
        return match rest {
            ADMIN_TOKEN => AuthInfo::known("bearer", "admin", Access::Admin),
            VIEWER_TOKEN => AuthInfo::known("bearer", "viewer", Access::NoRole),
            _ => AuthInfo::unauthenticated("bearer"),
        };
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(rest.trim_end()) else {
            return AuthInfo::unauthenticated("invalid");
        };
        let Ok(decoded) = String::from_utf8(decoded) else {
            return AuthInfo::unauthenticated("invalid");
        };
        let Some((user, pat)) = decoded.split_once(':') else {
            return AuthInfo::unauthenticated("invalid");
        };
        return if BASIC_USERS.contains(&(user, pat)) {
            AuthInfo::known("basic", user, Access::Admin)
        } else {
            AuthInfo::unauthenticated("basic")
        };
    }
    AuthInfo::unauthenticated("invalid")
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn auth(v: Option<&[u8]>) -> AuthInfo {
        let mut h = HeaderMap::new();
        if let Some(v) = v {
            h.insert(AUTHORIZATION, HeaderValue::from_bytes(v).unwrap());
        }
        authenticate(&h)
    }

    fn basic(s: &[u8]) -> Vec<u8> {
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(s)).into_bytes()
    }

    #[test]
    fn users() {
        assert_eq!(auth(None).kind, "none");
        assert_eq!(auth(Some(b"Bearer admin-token")).access, Access::Admin);
        assert_eq!(auth(Some(b"bearer admin-token")).user.as_deref(), Some("admin"));
        let v = auth(Some(b"Bearer viewer-token"));
        assert_eq!((v.kind, v.user.as_deref(), v.access), ("bearer", Some("viewer"), Access::NoRole));
        let u = auth(Some(b"Bearer nope"));
        assert_eq!((u.kind, u.user, u.access), ("bearer", None, Access::Unauthenticated));
        assert_eq!(auth(Some(&basic(b"admin:admin-pat"))).access, Access::Admin);
        let j = auth(Some(&basic("jörg:pässwörd-✓-ü".as_bytes())));
        assert_eq!((j.kind, j.user.as_deref(), j.access), ("basic", Some("jörg"), Access::Admin));
        // Latin-1 instead of UTF-8: not a valid UTF-8 string, so malformed.
        assert_eq!(auth(Some(&basic(b"j\xf6rg:p\xe4ssw\xf6rd"))).kind, "invalid");
        assert_eq!(auth(Some(&basic(b"admin:wrong"))).kind, "basic");
        assert_eq!(auth(Some(&basic(b"admin:wrong"))).access, Access::Unauthenticated);
        assert_eq!(auth(Some(&basic(b"no-colon"))).kind, "invalid");
        assert_eq!(auth(Some(b"Basic !!!")).kind, "invalid");
        assert_eq!(auth(Some(b"admin-token")).kind, "invalid");
        assert_eq!(auth(Some(b"Token admin-token")).kind, "invalid");
    }
}
