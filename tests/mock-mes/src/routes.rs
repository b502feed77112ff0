//! HTTP routes: the two control endpoints and the backup API behind `path_prefix`.
//!
//! An API request goes through, in order:
//! 1. the path: `{prefix}/environment/clickhouse/backup/{segment}` with one non-empty segment, else 404;
//! 2. `faults`: the request is counted among its method's and may get a canned answer;
//! 3. the method: POST or GET, else 405;
//! 4. authentication (401 / 403), except a GET on the "other" host when `redirect_get` is set;
//! 5. POST: a database of the system starts a job (202 + GUID), anything else is 400;
//!    GET on the primary host with `redirect_get`: 307 to the other host (POST: `redirect_post`);
//!    GET: unknown GUID 400, pending 202/204, ready 200 (the job is gone from then on).
//!
//! Every API request (not the control endpoints) gets one log entry.

use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, put};
use axum::Router;

use crate::auth::{self, Access};
use crate::conn::ConnShared;
use crate::download::{DownloadBody, PackageBody};
use crate::faults::{self, DownloadPlan};
use crate::log::{EntryRef, LogEntry};
use crate::payload::Payload;
use crate::scenario::{ContentDisposition, GuidBody, RetryAfter, Scenario};
use crate::state::{App, Lookup, State as ScenarioState};

/// The API's path after the prefix, up to the GUID or database segment.
pub const API_PATH: &str = "/environment/clickhouse/backup/";

pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/_mock/scenario", put(put_scenario))
        .route("/_mock/log", get(get_log))
        .route("/panel", get(static_file))
        .route("/panel/", get(static_file))
        .route("/panel/{*path}", get(static_file))
        .fallback(api)
        .with_state(app)
}

async fn put_scenario(State(app): State<Arc<App>>, body: Bytes) -> Response {
    let loaded = serde_json::from_slice::<serde_json::Value>(&body)
        .map_err(|e| format!("scenario body is not JSON: {e}"))
        .and_then(Scenario::from_json);
    match loaded {
        Ok(s) => {
            app.load(s);
            json_response(StatusCode::OK, b"{\"ok\":true}".to_vec())
        }
        Err(e) => text(StatusCode::BAD_REQUEST, e),
    }
}

/// `--static DIR`: a file of DIR under `/panel/` (`/panel/` itself is `index.html`).
async fn static_file(State(app): State<Arc<App>>, req: Request) -> Response {
    let Some(dir) = app.static_dir.get() else {
        return text(StatusCode::NOT_FOUND, "no static folder (mock-mes --static DIR)".into());
    };
    let path = req.uri().path();
    let rel = path.strip_prefix("/panel").unwrap_or(path).trim_start_matches('/');
    let rel = if rel.is_empty() { "index.html" } else { rel };
    if rel.split('/').any(|p| p.is_empty() || p == "." || p == ".." || p.contains('\\')) {
        return text(StatusCode::NOT_FOUND, "not found".into());
    }
    // Small files, read in place (the mock has no tokio "fs" feature).
    let Ok(body) = std::fs::read(dir.join(rel)) else {
        return text(StatusCode::NOT_FOUND, "not found".into());
    };
    let kind = match rel.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        _ => "application/octet-stream",
    };
    let mut resp = Response::new(Body::from(body));
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

async fn get_log(State(app): State<Arc<App>>) -> Response {
    let body = serde_json::to_vec(&app.log()).expect("log entries serialize");
    json_response(StatusCode::OK, body)
}

/// `"primary"` or `"other"`, from the Host header (or the absolute-form target).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostKind {
    Primary,
    Other,
}

impl HostKind {
    fn of(req: &Request) -> HostKind {
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned)
            .or_else(|| req.uri().authority().map(|a| a.to_string()))
            .unwrap_or_default();
        let name = if host.starts_with('[') {
            host.split(']').next().map(|h| format!("{h}]")).unwrap_or_default()
        } else {
            host.split(':').next().unwrap_or_default().to_owned()
        };
        if name.eq_ignore_ascii_case("localhost") {
            HostKind::Other
        } else {
            HostKind::Primary
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            HostKind::Primary => "primary",
            HostKind::Other => "other",
        }
    }
}

/// What the API answers, before it becomes a response.
enum Answer {
    Plain { status: StatusCode, headers: HeaderMap, body: Bytes },
    Package { headers: HeaderMap, package: PackageBody, plan: DownloadPlan },
}

async fn api(State(app): State<Arc<App>>, req: Request) -> Response {
    let now = Instant::now();
    let host = HostKind::of(&req);
    let who = auth::authenticate(req.headers());
    let conn = req.extensions().get::<Arc<ConnShared>>().cloned();
    let cors = req.headers().contains_key(header::ORIGIN);
    let referer = req.headers().contains_key(header::REFERER);
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().map(str::to_owned);

    let mut st = app.lock();
    let at_ms = st.at_ms(now);
    let answer = decide(&mut st, app.port, &method, &path, query.as_deref(), host, who.access, now);
    let mut entry = LogEntry {
        method,
        path,
        host: host.as_str().to_owned(),
        auth: who.kind.to_owned(),
        user: who.user,
        status: 0,
        body_bytes_sent: 0,
        body_complete: false,
        at_ms,
        referer,
    };
    match answer {
        Answer::Plain { status, headers, body } => {
            entry.status = status.as_u16();
            entry.body_bytes_sent = body.len() as u64;
            entry.body_complete = true;
            st.log.push(entry);
            drop(st);
            let mut resp = Response::new(Body::from(body));
            *resp.status_mut() = status;
            *resp.headers_mut() = headers;
            with_cors(resp, cors)
        }
        Answer::Package { headers, package, plan } => {
            entry.status = 200;
            let index = st.log.push(entry);
            let at = EntryRef { epoch: st.epoch, index };
            drop(st);
            let body = DownloadBody::new(app.clone(), at, conn, package, plan).into_body();
            let mut resp = Response::new(body);
            *resp.headers_mut() = headers;
            with_cors(resp, cors)
        }
    }
}

/// A browser request (it has `Origin`) may read the answer from any origin, headers included: the
/// cross-host redirect takes a page's download to the other host name.
fn with_cors(mut resp: Response, cors: bool) -> Response {
    if cors {
        let h = resp.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("Content-Disposition, Retry-After, Content-Length"),
        );
    }
    resp
}

#[allow(clippy::too_many_arguments)]
fn decide(
    st: &mut ScenarioState,
    port: u16,
    method: &str,
    path: &str,
    query: Option<&str>,
    host: HostKind,
    access: Access,
    now: Instant,
) -> Answer {
    let sc = st.scenario.clone();
    let Some(segment) = api_segment(&sc.path_prefix, path) else {
        return plain(StatusCode::NOT_FOUND, "Not Found");
    };
    let nth = st.count_request(method);
    if let Some(f) = faults::request_fault(&sc, method, nth) {
        let mut headers = HeaderMap::new();
        for (name, value) in &f.headers {
            // Validated when the scenario was loaded.
            if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_bytes(value.as_bytes()))
            {
                headers.append(n, v);
            }
        }
        if let Some(n) = f.header_bytes {
            if let Ok(v) = HeaderValue::from_bytes(&vec![b'a'; n]) {
                headers.insert(HeaderName::from_static("x-mock-padding"), v);
            }
        }
        if !f.body.is_empty() && !headers.contains_key(header::CONTENT_TYPE) {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
        }
        let status = StatusCode::from_u16(f.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return Answer::Plain { status, headers, body: Bytes::from(f.body.clone()) };
    }
    let (is_get, is_post) = (method == "GET", method == "POST");
    if !is_get && !is_post {
        let mut a = plain(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
        if let Answer::Plain { headers, .. } = &mut a {
            headers.insert(header::ALLOW, HeaderValue::from_static("GET, POST"));
        }
        return a;
    }
    let presigned = is_get && host == HostKind::Other && sc.redirect_get.is_some();
    if !presigned {
        match access {
            Access::Admin => {}
            Access::NoRole => {
                return plain(StatusCode::FORBIDDEN, "The user does not have the SysAdministrators role.");
            }
            Access::Unauthenticated => {
                let mut a = plain(StatusCode::UNAUTHORIZED, "Unauthorized");
                if let Answer::Plain { headers, .. } = &mut a {
                    headers.insert(
                        header::WWW_AUTHENTICATE,
                        HeaderValue::from_static("Bearer, Basic realm=\"mock-mes\", charset=\"UTF-8\""),
                    );
                }
                return a;
            }
        }
    }
    if is_post && host == HostKind::Primary && sc.redirect_post.is_some() {
        return redirect_to_other_host(port, path, query);
    }
    if is_post {
        if !sc.is_database(segment) {
            return plain(StatusCode::BAD_REQUEST, &format!("Invalid database name '{segment}'."));
        }
        let guid = st.create_job(segment, now);
        return guid_answer(sc.guid_body, &guid);
    }
    if host == HostKind::Primary && sc.redirect_get.is_some() {
        return redirect_to_other_host(port, path, query);
    }
    match st.lookup(segment, now) {
        Lookup::Unknown => plain(StatusCode::BAD_REQUEST, "Invalid GUID or backup not found."),
        Lookup::Pending => {
            let mut headers = HeaderMap::new();
            if let Some(v) = sc.retry_after.as_ref().and_then(retry_after_value) {
                headers.insert(header::RETRY_AFTER, v);
            }
            let status = StatusCode::from_u16(sc.pending_status).unwrap_or(StatusCode::ACCEPTED);
            Answer::Plain { status, headers, body: Bytes::new() }
        }
        Lookup::Ready(job) => {
            if let Some(rb) = &sc.ready_body {
                let mut headers = HeaderMap::new();
                if let Ok(v) = HeaderValue::from_bytes(rb.content_type.as_bytes()) {
                    headers.insert(header::CONTENT_TYPE, v);
                }
                return Answer::Plain { status: StatusCode::OK, headers, body: Bytes::from(rb.body.clone()) };
            }
            let package = match &sc.payload.file {
                // Checked when the scenario was loaded; it may have gone since.
                Some(path) => match PackageBody::open_file(path) {
                    Ok(p) => p,
                    Err(e) => {
                        return plain(
                            StatusCode::INTERNAL_SERVER_ERROR,
                            &format!("mock-mes: payload.file {}: {e}", path.display()),
                        )
                    }
                },
                None => match Payload::new(&job.database, sc.payload.size, sc.payload.seed) {
                    Ok(p) => PackageBody::Generated(p),
                    Err(e) => return plain(StatusCode::INTERNAL_SERVER_ERROR, &e),
                },
            };
            let nth = st.count_package_download();
            let plan = DownloadPlan::for_download(&sc, nth);
            let mut headers = HeaderMap::new();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/zip"));
            if !plan.chunked {
                headers.insert(header::CONTENT_LENGTH, HeaderValue::from(package.len()));
            }
            let disposition = match &sc.content_disposition {
                ContentDisposition::Default => Some(format!("attachment; filename=\"{}.zip\"", job.database)),
                ContentDisposition::None => None,
                ContentDisposition::Raw(v) => Some(v.clone()),
            };
            if let Some(v) = disposition.and_then(|d| HeaderValue::from_bytes(d.as_bytes()).ok()) {
                headers.insert(header::CONTENT_DISPOSITION, v);
            }
            Answer::Package { headers, package, plan }
        }
    }
}

/// The GUID or database segment of an API path, if `path` is one.
pub fn api_segment<'a>(prefix: &str, path: &'a str) -> Option<&'a str> {
    let rest = path.strip_prefix(prefix)?.strip_prefix(API_PATH)?;
    (!rest.is_empty() && !rest.contains('/')).then_some(rest)
}

fn guid_answer(style: GuidBody, guid: &str) -> Answer {
    let (body, content_type) = match style {
        GuidBody::Plain => (guid.to_owned(), "text/plain; charset=utf-8"),
        GuidBody::Json => (format!("\"{guid}\""), "application/json; charset=utf-8"),
        GuidBody::Braces => (format!("{{{guid}}}"), "text/plain; charset=utf-8"),
        GuidBody::Bom => (format!("\u{feff}{guid}"), "text/plain; charset=utf-8"),
        GuidBody::Whitespace => (format!("\r\n  {guid}  \n"), "text/plain; charset=utf-8"),
        GuidBody::Garbage => (
            "<!DOCTYPE html><html><head><title>Backup</title></head><body><h1>Request accepted</h1>\
             <p>Your request is being processed.</p></body></html>"
                .to_owned(),
            "text/html; charset=utf-8",
        ),
    };
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    Answer::Plain { status: StatusCode::ACCEPTED, headers, body: Bytes::from(body) }
}

fn retry_after_value(r: &RetryAfter) -> Option<HeaderValue> {
    let text = match r {
        RetryAfter::Verbatim(s) => s.clone(),
        RetryAfter::Seconds(n) => n.to_string(),
        RetryAfter::HttpDate { http_date_in_s } => {
            let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
            let at = (now as i64).saturating_add(*http_date_in_s).max(0) as u64;
            mesbackup_core::mes::format_http_date(at)
        }
    };
    HeaderValue::from_str(&text).ok()
}

fn plain(status: StatusCode, body: &str) -> Answer {
    let mut headers = HeaderMap::new();
    if !body.is_empty() {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    }
    Answer::Plain { status, headers, body: Bytes::from(body.to_owned()) }
}

fn text(status: StatusCode, body: String) -> Response {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    resp
}

fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

/// 307 to the same path and query on the other host (`localhost` instead of `127.0.0.1`).
fn redirect_to_other_host(port: u16, path: &str, query: Option<&str>) -> Answer {
    let mut location = format!("http://localhost:{port}{path}");
    if let Some(q) = query {
        location.push('?');
        location.push_str(q);
    }
    let mut a = plain(StatusCode::TEMPORARY_REDIRECT, "");
    if let Answer::Plain { headers, .. } = &mut a {
        headers.remove(header::CONTENT_TYPE);
        if let Ok(v) = HeaderValue::from_str(&location) {
            headers.insert(header::LOCATION, v);
        }
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments() {
        let p = "/environment/clickhouse/backup/MESCDM";
        assert_eq!(api_segment("", p), Some("MESCDM"));
        assert_eq!(api_segment("/mes", &format!("/mes{p}")), Some("MESCDM"));
        assert_eq!(api_segment("/mes", p), None);
        assert_eq!(api_segment("", &format!("/{p}")), None);
        assert_eq!(api_segment("", "/environment/clickhouse/backup/"), None);
        assert_eq!(api_segment("", "/environment/clickhouse/backup/a/b"), None);
        assert_eq!(api_segment("", "/environment/clickhouse/backup/a/"), None);
    }
}
