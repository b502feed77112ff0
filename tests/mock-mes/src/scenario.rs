//! The `server` object of a scenario file (tests/scenarios/README.md): parsed with serde, every
//! field optional with the documented default, then validated once so that the request path never
//! meets a nonsensical setting. Unknown fields are rejected: a typo in a scenario must not silently
//! turn into the default behaviour.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use crate::payload;

/// Database suffixes of one MES system: `MES`, `MESCDM`, `MESODS`, `MESDWH` for system `MES`.
pub const DATABASE_SUFFIXES: [&str; 4] = ["", "CDM", "ODS", "DWH"];

/// Longest accepted `system` name (database names appear in every path of the payload).
pub const MAX_SYSTEM_LEN: usize = 32;

/// Largest `faults[].header_bytes` (16 MiB: far over any client's header limit).
pub const MAX_HEADER_BYTES: usize = 16 << 20;

/// The validated `server` object.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub system: String,
    /// Empty, or `/segment[/segment…]` without a trailing slash.
    pub path_prefix: String,
    pub pending_polls: u64,
    pub pending_ms: u64,
    pub pending_status: u16,
    pub retry_after: Option<RetryAfter>,
    pub guid_body: GuidBody,
    pub guids: Vec<String>,
    pub payload: PayloadConfig,
    pub content_disposition: ContentDisposition,
    pub download: Option<DownloadFault>,
    pub faults: Vec<Fault>,
    pub redirect_get: Option<RedirectGet>,
    /// POST on the primary host answers 307 to the other host (a client must not follow it).
    pub redirect_post: Option<RedirectGet>,
    pub ready_body: Option<ReadyBody>,
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario::from_json(serde_json::json!({})).expect("the default scenario is valid")
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default = "default_system")]
    system: String,
    #[serde(default)]
    path_prefix: String,
    #[serde(default)]
    pending_polls: u64,
    #[serde(default)]
    pending_ms: u64,
    #[serde(default = "default_pending_status")]
    pending_status: u16,
    #[serde(default)]
    retry_after: Option<RetryAfter>,
    #[serde(default)]
    guid_body: GuidBody,
    #[serde(default)]
    guids: Vec<String>,
    #[serde(default)]
    payload: RawPayload,
    #[serde(default, deserialize_with = "de_content_disposition")]
    content_disposition: ContentDisposition,
    #[serde(default)]
    download: Option<DownloadFault>,
    #[serde(default)]
    faults: Vec<Fault>,
    #[serde(default)]
    redirect_get: Option<RedirectGet>,
    #[serde(default)]
    redirect_post: Option<RedirectGet>,
    #[serde(default)]
    ready_body: Option<ReadyBody>,
}

fn default_system() -> String {
    "MES".to_owned()
}

fn default_pending_status() -> u16 {
    202
}

/// `retry_after`: a header value sent verbatim, or an HTTP-date some seconds ahead of the response.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RetryAfter {
    Verbatim(String),
    /// A bare number is taken as its decimal text (`1` = `"1"`).
    Seconds(u64),
    HttpDate {
        http_date_in_s: i64,
    },
}

/// How the POST's 202 body carries the GUID.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GuidBody {
    #[default]
    Plain,
    Json,
    Braces,
    Bom,
    Whitespace,
    Garbage,
}

/// `payload`: a generated package (`size`, `seed`), or a file served as it is (`file`).
#[derive(Debug, Clone)]
pub struct PayloadConfig {
    /// The generated package's size; for `file`, the file's length when the scenario was loaded
    /// (each download serves the length the file has when that download opens it).
    pub size: u64,
    pub seed: u64,
    /// `payload.file`: an absolute path; its bytes are the body of every package download, whatever
    /// the database (read from disk in chunks at each download; `size` and `seed` do not apply).
    pub file: Option<PathBuf>,
}

impl Default for PayloadConfig {
    fn default() -> Self {
        PayloadConfig { size: default_payload_size(), seed: default_payload_seed(), file: None }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPayload {
    #[serde(default)]
    size: Option<u64>,
    #[serde(default)]
    seed: Option<u64>,
    #[serde(default)]
    file: Option<String>,
}

impl RawPayload {
    fn validate(self) -> Result<PayloadConfig, String> {
        let Some(file) = self.file else {
            let size = self.size.unwrap_or_else(default_payload_size);
            if size > payload::MAX_SIZE {
                return Err(format!(
                    "payload.size {size} is over the mock's limit of {} bytes (4 GiB - 1: no zip64)",
                    payload::MAX_SIZE
                ));
            }
            return Ok(PayloadConfig { size, seed: self.seed.unwrap_or_else(default_payload_seed), file: None });
        };
        if self.size.is_some() || self.seed.is_some() {
            return Err("payload.file is served as it is: payload.size and payload.seed do not go with it".into());
        }
        let path = PathBuf::from(&file);
        if !path.is_absolute() {
            return Err(format!(
                "payload.file {file:?} must be an absolute path (the mock's working folder is not the caller's)"
            ));
        }
        // Open it now so that a typo is a scenario error, not a 500 at the download.
        let meta = std::fs::File::open(&path)
            .and_then(|f| f.metadata())
            .map_err(|e| format!("payload.file {file:?} cannot be read: {e}"))?;
        if !meta.is_file() {
            return Err(format!("payload.file {file:?} is not a regular file"));
        }
        Ok(PayloadConfig { size: meta.len(), seed: default_payload_seed(), file: Some(path) })
    }
}

fn default_payload_size() -> u64 {
    65536
}

fn default_payload_seed() -> u64 {
    1
}

/// `content_disposition`: absent or `"default"`, `null` (no header), or a raw header value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ContentDisposition {
    #[default]
    Default,
    None,
    Raw(String),
}

fn de_content_disposition<'de, D: Deserializer<'de>>(d: D) -> Result<ContentDisposition, D::Error> {
    Ok(match Option::<String>::deserialize(d)? {
        None => ContentDisposition::None,
        Some(s) if s == "default" => ContentDisposition::Default,
        Some(s) => ContentDisposition::Raw(s),
    })
}

/// `download`: what goes wrong while a package body streams.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DownloadFault {
    /// Content-Length says the full size; the connection is closed (FIN) after this many bytes.
    #[serde(default)]
    pub truncate_at: Option<u64>,
    /// The connection is reset (RST) after this many bytes.
    #[serde(default)]
    pub reset_at: Option<u64>,
    /// Pause `stall_ms` after this many bytes, then go on.
    #[serde(default)]
    pub stall_at: Option<u64>,
    #[serde(default)]
    pub stall_ms: Option<u64>,
    /// The whole body, `chunk` bytes every `interval_ms`.
    #[serde(default)]
    pub drip: Option<Drip>,
    /// No Content-Length: the body is sent chunked (Transfer-Encoding: chunked), its size unknown
    /// to the client until it ends.
    #[serde(default)]
    pub chunked: bool,
    /// Apply to every package download, not only the first 200 of the scenario.
    #[serde(default)]
    pub every: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Drip {
    pub chunk: u64,
    pub interval_ms: u64,
}

/// One entry of `faults`: the nth request of `method` (or all of them) gets this answer instead.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    pub method: String,
    pub nth: Nth,
    pub status: u16,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Adds a header `X-Mock-Padding` of this many bytes (a header block over a client's limit).
    #[serde(default)]
    pub header_bytes: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Nth {
    Index(u64),
    All,
}

impl<'de> Deserialize<'de> for Nth {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Nth, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum N {
            I(u64),
            S(String),
        }
        match N::deserialize(d)? {
            N::I(0) => Err(serde::de::Error::custom("nth is 1-based: 0 never matches")),
            N::I(i) => Ok(Nth::Index(i)),
            N::S(s) if s == "all" => Ok(Nth::All),
            N::S(s) => Err(serde::de::Error::custom(format!("nth must be a positive integer or \"all\", not {s:?}"))),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RedirectGet {
    OtherHost,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadyBody {
    pub content_type: String,
    pub body: String,
}

impl Scenario {
    /// Parses and validates a `server` object.
    pub fn from_json(value: serde_json::Value) -> Result<Scenario, String> {
        let raw: Raw = serde_json::from_value(value).map_err(|e| format!("server object: {e}"))?;
        Scenario::validate(raw)
    }

    fn validate(raw: Raw) -> Result<Scenario, String> {
        if raw.system.is_empty()
            || raw.system.len() > MAX_SYSTEM_LEN
            || !raw.system.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            return Err(format!(
                "system must be 1-{MAX_SYSTEM_LEN} ASCII letters, digits or '_', not {:?}",
                raw.system
            ));
        }
        let path_prefix = normalize_prefix(&raw.path_prefix)?;
        if !matches!(raw.pending_status, 202 | 204) {
            return Err(format!("pending_status must be 202 or 204, not {}", raw.pending_status));
        }
        if let Some(RetryAfter::Verbatim(v)) = &raw.retry_after {
            check_header_value("retry_after", v)?;
        }
        let payload = raw.payload.validate()?;
        if payload.file.is_some() && raw.ready_body.is_some() {
            return Err("payload.file and ready_body exclude each other: ready_body replaces the package".into());
        }
        if let ContentDisposition::Raw(v) = &raw.content_disposition {
            check_header_value("content_disposition", v)?;
        }
        if let Some(d) = &raw.download {
            if d.truncate_at.is_some() && d.reset_at.is_some() {
                return Err("download: truncate_at and reset_at exclude each other".into());
            }
            if d.stall_at.is_some() != d.stall_ms.is_some() {
                return Err("download: stall_at and stall_ms go together".into());
            }
            if let Some(drip) = &d.drip {
                if drip.chunk == 0 {
                    return Err("download.drip.chunk must be at least 1".into());
                }
            }
        }
        for (i, f) in raw.faults.iter().enumerate() {
            if f.method.is_empty() || !f.method.bytes().all(|b| b.is_ascii_alphabetic()) {
                return Err(format!("faults[{i}].method {:?} is not an HTTP method", f.method));
            }
            if !(100..=599).contains(&f.status) {
                return Err(format!("faults[{i}].status {} is not an HTTP status", f.status));
            }
            if f.header_bytes.is_some_and(|n| n > MAX_HEADER_BYTES) {
                return Err(format!("faults[{i}].header_bytes: at most {MAX_HEADER_BYTES}"));
            }
            for (name, value) in &f.headers {
                if axum::http::HeaderName::from_bytes(name.as_bytes()).is_err() {
                    return Err(format!("faults[{i}].headers: bad header name {name:?}"));
                }
                check_header_value(&format!("faults[{i}].headers.{name}"), value)?;
            }
        }
        if let Some(rb) = &raw.ready_body {
            check_header_value("ready_body.content_type", &rb.content_type)?;
        }
        let faults = raw
            .faults
            .into_iter()
            .map(|mut f| {
                f.method.make_ascii_uppercase();
                f
            })
            .collect();
        Ok(Scenario {
            system: raw.system,
            path_prefix,
            pending_polls: raw.pending_polls,
            pending_ms: raw.pending_ms,
            pending_status: raw.pending_status,
            retry_after: raw.retry_after,
            guid_body: raw.guid_body,
            guids: raw.guids,
            payload,
            content_disposition: raw.content_disposition,
            download: raw.download,
            faults,
            redirect_get: raw.redirect_get,
            redirect_post: raw.redirect_post,
            ready_body: raw.ready_body,
        })
    }

    /// The four databases of the system, e.g. `["MES", "MESCDM", "MESODS", "MESDWH"]`.
    pub fn databases(&self) -> Vec<String> {
        DATABASE_SUFFIXES.iter().map(|s| format!("{}{s}", self.system)).collect()
    }

    pub fn is_database(&self, name: &str) -> bool {
        name.strip_prefix(self.system.as_str()).is_some_and(|suffix| DATABASE_SUFFIXES.contains(&suffix))
    }

    pub fn pending_duration(&self) -> Duration {
        Duration::from_millis(self.pending_ms)
    }
}

/// `""` and `"/"` mean no prefix; `"mes"` and `"/mes/"` both mean `"/mes"`.
fn normalize_prefix(p: &str) -> Result<String, String> {
    let trimmed = p.trim_matches('/');
    if trimmed.is_empty() {
        return Ok(String::new());
    }
    if trimmed.contains("//") || trimmed.contains(['?', '#', ' ']) {
        return Err(format!("path_prefix {p:?} is not a plain path"));
    }
    Ok(format!("/{trimmed}"))
}

fn check_header_value(what: &str, v: &str) -> Result<(), String> {
    axum::http::HeaderValue::from_bytes(v.as_bytes())
        .map(|_| ())
        .map_err(|_| format!("{what}: {v:?} cannot be sent as a header value"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults() {
        let s = Scenario::default();
        assert_eq!(s.system, "MES");
        assert_eq!(s.path_prefix, "");
        assert_eq!(s.pending_status, 202);
        assert_eq!(s.payload.size, 65536);
        assert_eq!(s.payload.seed, 1);
        assert_eq!(s.content_disposition, ContentDisposition::Default);
        assert_eq!(s.databases(), ["MES", "MESCDM", "MESODS", "MESDWH"]);
        assert!(s.is_database("MESDWH"));
        assert!(!s.is_database("MESXYZ"));
        assert!(!s.is_database("mescdm"));
    }

    #[test]
    fn parses_every_field() {
        let s = Scenario::from_json(json!({
            "system": "PROD", "path_prefix": "mes/", "pending_polls": 2, "pending_ms": 10,
            "pending_status": 204, "retry_after": {"http_date_in_s": 2}, "guid_body": "bom",
            "guids": ["a"], "payload": {"size": 100000, "seed": 7}, "content_disposition": null,
            "download": {"stall_at": 10, "stall_ms": 5, "every": true, "chunked": true},
            "faults": [{"method": "get", "nth": "all", "status": 503, "headers": {"Retry-After": "1"}, "header_bytes": 1024}],
            "redirect_get": "other_host",
            "ready_body": {"content_type": "text/html", "body": "<html></html>"}
        }))
        .unwrap();
        assert_eq!(s.path_prefix, "/mes");
        assert_eq!(s.content_disposition, ContentDisposition::None);
        assert_eq!(s.faults[0].method, "GET");
        assert_eq!(s.faults[0].nth, Nth::All);
        assert!(matches!(s.retry_after, Some(RetryAfter::HttpDate { http_date_in_s: 2 })));
        assert_eq!(s.redirect_get, Some(RedirectGet::OtherHost));
    }

    #[test]
    fn rejects_nonsense() {
        for bad in [
            json!({"pending_statu": 202}),
            json!({"pending_status": 200}),
            json!({"system": "M E S"}),
            json!({"payload": {"size": 4294967296u64}}),
            json!({"faults": [{"method": "GET", "nth": 0, "status": 500}]}),
            json!({"faults": [{"method": "GET", "nth": "first", "status": 500}]}),
            json!({"download": {"truncate_at": 1, "reset_at": 2}}),
            json!({"download": {"stall_at": 1}}),
            json!({"faults": [{"method": "GET", "nth": 1, "status": 202, "header_bytes": 16777217}]}),
            json!({"guid_body": "xml"}),
            json!({"payload": {"file": "relative/package.zip"}}),
            json!({"payload": {"file": "/"}}),
            json!({"payload": {"path": "/x.zip"}}),
        ] {
            assert!(Scenario::from_json(bad.clone()).is_err(), "{bad}");
        }
    }

    #[test]
    fn payload_file() {
        let dir = std::env::temp_dir().join(format!("mock-mes-scenario-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("E2EMES.zip");
        std::fs::write(&file, b"PK\x05\x06 not much of a zip").unwrap();
        let name = file.to_str().unwrap();
        let s = Scenario::from_json(json!({"payload": {"file": name}})).unwrap();
        assert_eq!(s.payload.file.as_deref(), Some(file.as_path()));
        assert_eq!(s.payload.size, 22);
        for (bad, says) in [
            (json!({"payload": {"file": name, "size": 100}}), "do not go with it"),
            (json!({"payload": {"file": name, "seed": 2}}), "do not go with it"),
            (
                json!({"payload": {"file": name}, "ready_body": {"content_type": "text/html", "body": "x"}}),
                "exclude each other",
            ),
            (json!({"payload": {"file": "E2EMES.zip"}}), "absolute path"),
            (json!({"payload": {"file": dir.to_str().unwrap()}}), "not a regular file"),
        ] {
            let e = Scenario::from_json(bad.clone()).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
        let e = Scenario::from_json(json!({"payload": {"file": name}})).unwrap_err();
        assert!(e.contains(name) && e.contains("cannot be read"), "{e}");
    }
}
