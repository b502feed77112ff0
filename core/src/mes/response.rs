//! What an answer of the MES backup API means.
//!
//! Drivers hand over the status, the headers and (except for a ready download) a bounded prefix of
//! the body; this module turns them into what happens next. Every message names the next step for
//! the administrator and quotes server text only through `quote_untrusted`.

use serde::{Deserialize, Serialize};

use super::content_disposition::{choose_file_name, FileNameChoice};
use super::guid::parse_guid_body;
use super::polling::parse_retry_after;
use crate::error::{quote_untrusted, Error, ErrorKind};

/// How much of a non-package body a driver needs to read (for GUIDs and error messages).
pub const SMALL_BODY_LIMIT: usize = 16 * 1024;

/// Status line and headers of a response, as the driver received them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseHead {
    /// HTTP status code, e.g. 202.
    pub status: u16,
    /// Header (name, value) pairs in the order received; names in any case, repeated names kept.
    pub headers: Vec<(String, String)>,
}

impl ResponseHead {
    /// A head with this status and no headers; add them with [`with_header`](Self::with_header).
    pub fn new(status: u16) -> ResponseHead {
        ResponseHead { status, headers: Vec::new() }
    }

    /// Appends one header (builder style), keeping any earlier header of the same name.
    pub fn with_header(mut self, name: &str, value: &str) -> ResponseHead {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// First value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The declared body length in bytes; `None` when `Content-Length` is absent or not a number.
    pub fn content_length(&self) -> Option<u64> {
        self.header("content-length").and_then(|v| v.trim().parse().ok())
    }

    fn retry_after_ms(&self, now_ms: u64) -> Option<u64> {
        self.header("retry-after").and_then(|v| parse_retry_after(v, now_ms))
    }
}

/// What a POST (start a backup) answer means.
#[derive(Debug, Clone, PartialEq)]
pub enum StartAnswer {
    /// The MES accepted the request (202, or 200/201) and started a backup job.
    Started {
        /// The job's GUID, to poll with `GET …/backup/{guid}` (or to resume the download later).
        guid: String,
    },
    /// The server refused for now without starting anything (429, 503): safe to ask again.
    RetryLater {
        /// The server's Retry-After in ms from now, if it sent a usable one (not yet clamped).
        after_ms: Option<u64>,
        /// Short description of the refusal for retry messages, e.g. "the server is busy (503)".
        reason: String,
    },
    /// The request failed and is not retried automatically; the error tells the administrator what to do next.
    Failed(Error),
}

/// What an answer to the GET of a backup means. A 200 is handled by [`classify_ready`] without reading
/// its body here: that body is the package, and it must go straight to a sink.
#[derive(Debug, Clone, PartialEq)]
pub enum GetAnswer {
    /// The package is ready. Never returned by [`classify_get`]: a 200 goes to [`classify_ready`].
    Ready(ReadyDownload),
    /// The backup is still running (202, 204): poll again later.
    Pending {
        /// The server's Retry-After in ms from now, if it sent a usable one (not yet clamped).
        retry_after_ms: Option<u64>,
    },
    /// A gateway or overload answer (429, 502, 503, 504): the job is untouched; ask again later.
    RetryLater {
        /// The server's Retry-After in ms from now, if it sent a usable one (not yet clamped).
        after_ms: Option<u64>,
        /// Short description of the refusal for retry messages, e.g. "the server or a gateway is busy (503)".
        reason: String,
    },
    /// The job failed, is unknown or gone, or access was refused; the error carries the job's GUID.
    Failed(Error),
}

/// What a 200 to the GET of a backup announces about the package, read from its headers only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReadyDownload {
    /// Safe base name to save the package under: the server's, sanitised, or the fallback.
    pub file_name: String,
    /// False when the server's Content-Disposition was absent or unsafe and a fallback was used.
    pub name_from_server: bool,
    /// Why the server's name was not used or how it was changed, for a warning in the log.
    pub name_note: Option<String>,
    /// The declared package size in bytes (`Content-Length`), checked against the size cap before receiving.
    pub content_length: Option<u64>,
    /// The `Content-Type` header as sent by the server (untrusted; not used to judge the body).
    pub content_type: Option<String>,
}

fn body_excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        String::new()
    } else {
        format!(" Server said: {}.", quote_untrusted(text, 200))
    }
}

fn unauthorized(body: &[u8]) -> Error {
    Error::new(
        ErrorKind::Unauthorized,
        format!(
            "The MES rejected the credentials (401).{} A Bearer token copied from the MES GUI expires with \
             its session: copy a fresh one, or use a personal access token (MES_USER + MES_PAT) for automation.",
            body_excerpt(body)
        ),
    )
}

fn forbidden(body: &[u8]) -> Error {
    Error::new(
        ErrorKind::Forbidden,
        format!(
            "The MES accepted the credentials but refused the request (403).{} ClickHouse backups need a user \
             with the SysAdministrators role: ask an administrator to grant it, or use such a user's token.",
            body_excerpt(body)
        ),
    )
}

fn not_found(status: u16, body: &[u8]) -> Error {
    Error::new(
        ErrorKind::UnexpectedResponse,
        format!(
            "The server answered {status}: there is no ClickHouse backup API at this address.{} Check the \
             environment URL, including any path prefix (for example https://host/mes).",
            body_excerpt(body)
        ),
    )
}

fn redirect_on_post(head: &ResponseHead) -> Error {
    let location = head.header("location").unwrap_or("(none)");
    Error::new(
        ErrorKind::UnexpectedResponse,
        format!(
            "The server answered the backup request with a redirect ({}, to {}). A POST that starts a backup \
             is never re-sent to another address; use the final environment URL directly.",
            head.status,
            quote_untrusted(location, 200)
        ),
    )
}

fn unexpected(head: &ResponseHead, body: &[u8], what: &str) -> Error {
    Error::new(
        ErrorKind::UnexpectedResponse,
        format!(
            "Unexpected answer {} to the {what}.{} Check the environment URL and any proxy in between.",
            head.status,
            body_excerpt(body)
        ),
    )
}

/// Classifies the answer to `POST …/backup/{database}` given its (bounded) body.
pub fn classify_start(head: &ResponseHead, body: &[u8], database: &str, now_ms: u64) -> StartAnswer {
    match head.status {
        // 202 is documented; 200/201 carrying a GUID mean the same and are harmless to accept.
        200..=202 => match parse_guid_body(body) {
            Ok(guid) => StartAnswer::Started { guid },
            Err(e) => StartAnswer::Failed(e),
        },
        400 => StartAnswer::Failed(Error::new(
            ErrorKind::InvalidDatabase,
            format!(
                "The MES refused to back up database {}.{} Use one of the four ClickHouse databases of the \
                 system: <SYSTEM>, <SYSTEM>CDM, <SYSTEM>ODS, <SYSTEM>DWH (for example MES, MESCDM, MESODS, MESDWH).",
                quote_untrusted(database, 100),
                body_excerpt(body)
            ),
        )),
        401 => StartAnswer::Failed(unauthorized(body)),
        403 => StartAnswer::Failed(forbidden(body)),
        404 | 405 => StartAnswer::Failed(not_found(head.status, body)),
        300..=399 => StartAnswer::Failed(redirect_on_post(head)),
        // The server refused before doing anything: asking again cannot start a second backup.
        429 | 503 => StartAnswer::RetryLater {
            after_ms: head.retry_after_ms(now_ms),
            reason: format!("the server is busy ({})", head.status),
        },
        500..=599 => StartAnswer::Failed(Error::new(
            ErrorKind::ServerError,
            format!(
                "The MES failed to start the backup ({}).{} Check the Environment Manager and ClickHouse \
                 service logs, then try again.",
                head.status,
                body_excerpt(body)
            ),
        )),
        _ => StartAnswer::Failed(unexpected(head, body, "backup request")),
    }
}

/// Classifies a non-200 answer to `GET …/backup/{guid}` given its (bounded) body.
/// `guid` is attached to every error so the administrator knows which job it was.
pub fn classify_get(head: &ResponseHead, body: &[u8], guid: &str, now_ms: u64) -> GetAnswer {
    let with_guid = |e: Error| GetAnswer::Failed(e.with_guid(Some(guid)));
    match head.status {
        202 | 204 => GetAnswer::Pending { retry_after_ms: head.retry_after_ms(now_ms) },
        400 | 410 => with_guid(Error::new(
            ErrorKind::BackupNotFound,
            format!(
                "The MES does not know backup {guid}.{} Either the GUID is wrong, or this backup was already \
                 downloaded (the server deletes the file once it has been downloaded), or it failed (see the \
                 Environment Manager logs). Start a new backup.",
                body_excerpt(body)
            ),
        )),
        401 => with_guid(unauthorized(body)),
        403 => with_guid(forbidden(body)),
        404 | 405 => with_guid(not_found(head.status, body)),
        429 | 502..=504 => GetAnswer::RetryLater {
            after_ms: head.retry_after_ms(now_ms),
            reason: format!("the server or a gateway is busy ({})", head.status),
        },
        500..=599 => with_guid(Error::new(
            ErrorKind::ServerError,
            format!(
                "The backup failed on the server ({}).{} Check the MES Environment Manager and ClickHouse \
                 service status and logs, then start a new backup.",
                head.status,
                body_excerpt(body)
            ),
        )),
        _ => with_guid(unexpected(head, body, "download request")),
    }
}

/// Reads a 200 answer's headers: where to save the package and how big it claims to be.
pub fn classify_ready(head: &ResponseHead, fallback_name: &str) -> ReadyDownload {
    let FileNameChoice { name, from_server, note } =
        choose_file_name(head.header("content-disposition"), fallback_name);
    ReadyDownload {
        file_name: name,
        name_from_server: from_server,
        name_note: note,
        content_length: head.content_length(),
        content_type: head.header("content-type").map(str::to_owned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const G: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";

    fn kind_of_start(a: StartAnswer) -> Option<ErrorKind> {
        match a {
            StartAnswer::Failed(e) => Some(e.kind),
            _ => None,
        }
    }

    #[test]
    fn start_answers() {
        let ok = classify_start(&ResponseHead::new(202), G.as_bytes(), "MES", 0);
        assert_eq!(ok, StartAnswer::Started { guid: G.into() });
        assert_eq!(
            kind_of_start(classify_start(&ResponseHead::new(400), b"bad", "X", 0)),
            Some(ErrorKind::InvalidDatabase)
        );
        assert_eq!(
            kind_of_start(classify_start(&ResponseHead::new(401), b"", "MES", 0)),
            Some(ErrorKind::Unauthorized)
        );
        assert_eq!(kind_of_start(classify_start(&ResponseHead::new(403), b"", "MES", 0)), Some(ErrorKind::Forbidden));
        assert_eq!(kind_of_start(classify_start(&ResponseHead::new(500), b"", "MES", 0)), Some(ErrorKind::ServerError));
        assert_eq!(
            kind_of_start(classify_start(&ResponseHead::new(302), b"", "MES", 0)),
            Some(ErrorKind::UnexpectedResponse)
        );
        assert_eq!(
            kind_of_start(classify_start(&ResponseHead::new(418), b"", "MES", 0)),
            Some(ErrorKind::UnexpectedResponse)
        );
        assert_eq!(
            kind_of_start(classify_start(&ResponseHead::new(202), b"<html>", "MES", 0)),
            Some(ErrorKind::UnexpectedResponse)
        );
        let busy = classify_start(&ResponseHead::new(503).with_header("Retry-After", "3"), b"", "MES", 0);
        assert!(matches!(busy, StartAnswer::RetryLater { after_ms: Some(3000), .. }));
    }

    #[test]
    fn get_answers_carry_the_guid() {
        for (status, kind) in [
            (400, ErrorKind::BackupNotFound),
            (401, ErrorKind::Unauthorized),
            (403, ErrorKind::Forbidden),
            (500, ErrorKind::ServerError),
            (404, ErrorKind::UnexpectedResponse),
            (302, ErrorKind::UnexpectedResponse),
        ] {
            match classify_get(&ResponseHead::new(status), b"", G, 0) {
                GetAnswer::Failed(e) => {
                    assert_eq!(e.kind, kind, "{status}");
                    assert_eq!(e.guid.as_deref(), Some(G));
                }
                other => panic!("{status}: {other:?}"),
            }
        }
        assert!(matches!(
            classify_get(&ResponseHead::new(204), b"", G, 0),
            GetAnswer::Pending { retry_after_ms: None }
        ));
        assert!(matches!(
            classify_get(&ResponseHead::new(202).with_header("retry-after", "1"), b"", G, 0),
            GetAnswer::Pending { retry_after_ms: Some(1000) }
        ));
        assert!(matches!(classify_get(&ResponseHead::new(503), b"", G, 0), GetAnswer::RetryLater { .. }));
    }

    #[test]
    fn server_text_is_quoted_not_trusted() {
        let body = "line1\n\u{1b}[2Jfake prompt".repeat(100);
        match classify_get(&ResponseHead::new(500), body.as_bytes(), G, 0) {
            GetAnswer::Failed(e) => {
                assert!(!e.message.contains('\u{1b}'));
                assert!(!e.message.contains('\n'));
                assert!(e.message.len() < 1200);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn ready_uses_a_safe_name() {
        let head = ResponseHead::new(200)
            .with_header("Content-Disposition", "attachment; filename=\"../../etc/passwd\"")
            .with_header("Content-Length", "42");
        let r = classify_ready(&head, "MESCDM.zip");
        assert_eq!(r.content_length, Some(42));
        assert!(!r.file_name.contains('/'));
        let r = classify_ready(&ResponseHead::new(200), "MESCDM.zip");
        assert_eq!(r.file_name, "MESCDM.zip");
        assert!(!r.name_from_server);
    }
}
