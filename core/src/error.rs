//! The canonical error kinds, shared by every front end.
//!
//! A kind's string code (`ErrorKind::code`) is part of the public contract: the CLI's `--json`
//! events, Python's `MesBackupError.kind`, JS `Error.kind` and PowerShell's FullyQualifiedErrorId all
//! carry it verbatim, and the CLI's exit code is derived from it. Never rename a code; add new ones.
//!
//! Messages say what happened and what to do next. They are built only from values that are not
//! secret (URLs are stored without credentials, tokens never reach this module).

use serde::{Deserialize, Serialize};
use std::fmt;

/// What kind of failure an [`Error`] is: decides the stable string code (`code`), the CLI's exit
/// code and, in the bindings, the exception class. Serialized as its code (`"invalid_argument"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// The caller gave something unusable (bad URL, bad database name, bad option).
    InvalidArgument,
    /// 401: the token or personal access token was rejected.
    Unauthorized,
    /// 403: authenticated, but the user lacks the SysAdministrators role.
    Forbidden,
    /// POST answered 400: the server does not know that database.
    InvalidDatabase,
    /// GET answered 400: unknown GUID, or a backup already downloaded (the server deletes it).
    BackupNotFound,
    /// The server reported a failure (5xx that is not a transient gateway answer).
    ServerError,
    /// An answer this tool does not understand (status, body or header).
    UnexpectedResponse,
    /// The overall deadline passed while the backup was still being prepared. Carries the GUID.
    Timeout,
    /// The one-shot download stream broke: the server has already deleted the file.
    DownloadLost,
    /// The saved bytes are not a complete, consistent package.
    Integrity,
    /// Local file system failure (disk full, permission, name clash).
    Io,
    /// The server could not be reached, or the connection failed.
    Network,
    /// The caller cancelled (Ctrl-C, AbortSignal, task cancellation).
    Cancelled,
    /// A bug in mesbackup itself (a driver used the job out of order): never a server or user problem.
    Internal,
}

impl ErrorKind {
    /// Every kind, in declaration order: what the bindings list their exception classes and codes from.
    pub const ALL: [ErrorKind; 14] = [
        ErrorKind::InvalidArgument,
        ErrorKind::Unauthorized,
        ErrorKind::Forbidden,
        ErrorKind::InvalidDatabase,
        ErrorKind::BackupNotFound,
        ErrorKind::ServerError,
        ErrorKind::UnexpectedResponse,
        ErrorKind::Timeout,
        ErrorKind::DownloadLost,
        ErrorKind::Integrity,
        ErrorKind::Io,
        ErrorKind::Network,
        ErrorKind::Cancelled,
        ErrorKind::Internal,
    ];

    /// The stable string code.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::InvalidArgument => "invalid_argument",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::InvalidDatabase => "invalid_database",
            ErrorKind::BackupNotFound => "backup_not_found",
            ErrorKind::ServerError => "server_error",
            ErrorKind::UnexpectedResponse => "unexpected_response",
            ErrorKind::Timeout => "timeout",
            ErrorKind::DownloadLost => "download_lost",
            ErrorKind::Integrity => "integrity",
            ErrorKind::Io => "io",
            ErrorKind::Network => "network",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Internal => "internal",
        }
    }

    /// The kind whose [`ErrorKind::code`] is `code` (exact match); `None` for an unknown code, such as
    /// one from a newer mesbackup.
    pub fn from_code(code: &str) -> Option<ErrorKind> {
        ErrorKind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// The process exit code a command-line front end uses for this kind. Stable, like `code`.
    /// 0 is success, 1 is reserved for internal errors, 75 (EX_TEMPFAIL) for "still pending".
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorKind::InvalidArgument => 2,
            ErrorKind::Unauthorized => 3,
            ErrorKind::Forbidden => 4,
            ErrorKind::InvalidDatabase => 5,
            ErrorKind::BackupNotFound => 6,
            ErrorKind::ServerError => 7,
            ErrorKind::UnexpectedResponse => 8,
            ErrorKind::Timeout => 9,
            ErrorKind::DownloadLost => 10,
            ErrorKind::Integrity => 11,
            ErrorKind::Io => 12,
            ErrorKind::Network => 13,
            ErrorKind::Cancelled => 130,
            ErrorKind::Internal => 1,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An error any front end can show: a kind, a message that says what to do next, and the job's
/// GUID when one exists (so a timed-out or cancelled job can be resumed with `download <guid>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Error {
    /// What kind of failure this is; decides the stable code and the CLI's exit code.
    pub kind: ErrorKind,
    /// For the administrator: what happened and what to do next (no secrets). Also the `Display` text.
    pub message: String,
    /// The GUID of the MES backup job this error belongs to, when the server had assigned one; left
    /// out of the JSON form when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guid: Option<String>,
}

impl Error {
    /// An error of `kind` with `message` and no GUID (add one with [`Error::with_guid`]).
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error { kind, message: message.into(), guid: None }
    }

    /// Attaches the job's GUID, so the job can be resumed with `download <guid>`; keeps a GUID already
    /// set, and `None` changes nothing.
    pub fn with_guid(mut self, guid: Option<&str>) -> Error {
        if self.guid.is_none() {
            self.guid = guid.map(str::to_owned);
        }
        self
    }

    /// Shorthand for an [`ErrorKind::InvalidArgument`] error: the caller gave something unusable.
    pub fn invalid_argument(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::InvalidArgument, message)
    }

    /// Shorthand for an [`ErrorKind::Io`] error: a local file system failure.
    pub fn io(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Io, message)
    }

    /// Shorthand for an [`ErrorKind::Network`] error: the server could not be reached or the connection failed.
    pub fn network(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Network, message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// Quotes untrusted text (a server body, a file name) for an error message: printable, bounded,
/// control characters escaped, so a hostile server cannot forge terminal output or flood a log.
pub fn quote_untrusted(text: &str, max_chars: usize) -> String {
    let mut out = String::from("\"");
    for (count, c) in text.chars().enumerate() {
        if count >= max_chars {
            out.push_str("\"… (truncated)");
            return out;
        }
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&c.escape_default().to_string()),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// What [`redact`] puts in place of a secret.
pub const REDACTED: &str = "<redacted>";

/// Secrets shorter than this are not redacted: replacing every "a" or "12" would garble a message
/// and hide nothing worth hiding (credentials that short are refused where they are read).
pub const MIN_REDACTED_LEN: usize = 4;

/// Replaces every occurrence of each secret in `text` with `<redacted>`.
///
/// The one redaction of every front end. Apply it to server text before anything shortens or
/// quotes it (a secret cut at a truncation boundary, or escaped by [`quote_untrusted`], would no
/// longer match and would be printed in part), and to whatever is printed, as a second line of
/// defence. Longer secrets go first, so a secret that contains another is hidden whole.
pub fn redact<S: AsRef<str>>(text: &str, secrets: &[S]) -> String {
    let mut ordered: Vec<&str> = secrets.iter().map(AsRef::as_ref).filter(|s| s.len() >= MIN_REDACTED_LEN).collect();
    ordered.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut out = text.to_owned();
    for secret in ordered {
        if out.contains(secret) {
            out = out.replace(secret, REDACTED);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for kind in ErrorKind::ALL {
            assert_eq!(ErrorKind::from_code(kind.code()), Some(kind));
            assert!(seen.insert(kind.exit_code()), "exit code reused by {kind}");
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.code()));
        }
    }

    #[test]
    fn quoting_escapes_controls_and_truncates() {
        assert_eq!(quote_untrusted("a\nb\u{1b}[31m", 100), "\"a\\nb\\u{1b}[31m\"");
        assert_eq!(quote_untrusted("abcdef", 3), "\"abc\"… (truncated)");
    }

    #[test]
    fn redaction_hides_whole_secrets_longest_first_and_ignores_tiny_ones() {
        let secrets = ["tok-123456", "tok-123456789", "ab"];
        assert_eq!(redact("x tok-123456789 y tok-123456 ab", &secrets), "x <redacted> y <redacted> ab");
        assert_eq!(redact("nothing here", &secrets), "nothing here");
        let none: [String; 0] = [];
        assert_eq!(redact("tok-123456", &none), "tok-123456");
    }

    #[test]
    fn redacting_before_quoting_leaves_no_piece_of_a_secret_at_the_cut() {
        let secret = "Zq7kP9xW4mR2vT8n";
        let body = format!("{}{secret} and more", "x".repeat(192));
        // Quoting first and redacting after would print "Zq7kP9xW" (cut at 200 characters).
        let leaked = redact(&quote_untrusted(&body, 200), &[secret]);
        assert!(leaked.contains("Zq7kP9xW"), "{leaked}");
        let safe = quote_untrusted(&redact(&body, &[secret]), 200);
        for piece in secret.as_bytes().windows(6) {
            assert!(!safe.contains(std::str::from_utf8(piece).unwrap()), "{safe}");
        }
    }
}
