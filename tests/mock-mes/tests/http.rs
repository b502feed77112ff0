//! The mock over real sockets, with a minimal HTTP/1.1 client (one request per connection), so
//! that what is checked is what is on the wire.

use std::io;
use std::net::SocketAddr;

use base64::Engine;
use mock_mes::{LogEntry, MockMes};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const API: &str = "/environment/clickhouse/backup/";
const ADMIN: (&str, &str) = ("Authorization", "Bearer admin-token");

#[derive(Debug)]
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// The error that ended reading, if the connection did not end cleanly.
    read_error: Option<io::ErrorKind>,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

async fn request(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)]) -> Resp {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
        head.push_str(&format!("Host: {addr}\r\n"));
    }
    for (n, v) in headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    if method == "POST" || method == "PUT" {
        head.push_str("Content-Length: 0\r\n");
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut read_error = None;
    loop {
        match s.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e) => {
                read_error = Some(e.kind());
                break;
            }
        }
    }
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a response head") + 4;
    let head = String::from_utf8(raw[..end].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers = lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (n, v) = l.split_once(':').unwrap();
            (n.to_owned(), v.trim().to_owned())
        })
        .collect();
    Resp { status, headers, body: raw[end..].to_vec(), read_error }
}

async fn put_scenario(addr: SocketAddr, server: serde_json::Value) {
    let body = server.to_string();
    let mut s = TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "PUT /_mock/scenario HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
}

async fn http_log(addr: SocketAddr) -> Vec<LogEntry> {
    let r = request(addr, "GET", "/_mock/log", &[]).await;
    assert_eq!(r.status, 200);
    serde_json::from_slice(&r.body).unwrap()
}

async fn start() -> (MockMes, SocketAddr) {
    let mock = MockMes::start("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let addr = mock.addr();
    assert_eq!(mock.base_url(), format!("http://127.0.0.1:{}", addr.port()));
    (mock, addr)
}

fn basic(user: &str, pat: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pat}")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn happy_flow_is_one_shot_and_logged() {
    let (mock, addr) = start().await;
    put_scenario(addr, json!({"pending_polls": 1, "retry_after": "1"})).await;

    let post = request(addr, "POST", &format!("{API}MESCDM"), &[ADMIN]).await;
    assert_eq!(post.status, 202);
    let guid = post.text();
    assert_eq!(guid, "00000000-0000-4000-8000-000000000001");

    let pending = request(addr, "GET", &format!("{API}{guid}"), &[ADMIN]).await;
    assert_eq!((pending.status, pending.header("retry-after")), (202, Some("1")));

    let ready = request(addr, "GET", &format!("{API}{guid}"), &[ADMIN]).await;
    assert_eq!(ready.status, 200);
    assert_eq!(ready.header("content-type"), Some("application/zip"));
    assert_eq!(ready.header("content-length"), Some("65536"));
    assert_eq!(ready.header("content-disposition"), Some("attachment; filename=\"MESCDM.zip\""));
    assert_eq!(ready.body.len(), 65536);
    assert_eq!(ready.read_error, None);
    let mut expected = Vec::new();
    mock_mes::Payload::new("MESCDM", 65536, 1).unwrap().write_to(&mut expected).unwrap();
    assert!(ready.body == expected, "served bytes differ from `mock-mes payload`");

    let again = request(addr, "GET", &format!("{API}{guid}"), &[ADMIN]).await;
    assert_eq!(again.status, 400);

    let log = http_log(addr).await;
    assert_eq!(log, mock.log());
    let summary: Vec<_> =
        log.iter().map(|e| (e.method.as_str(), e.status, e.body_bytes_sent, e.body_complete)).collect();
    assert_eq!(
        summary,
        [
            ("POST", 202, 36, true),
            ("GET", 202, 0, true),
            ("GET", 200, 65536, true),
            ("GET", 400, log[3].body_bytes_sent, true)
        ]
    );
    for e in &log {
        assert_eq!((e.host.as_str(), e.auth.as_str(), e.user.as_deref()), ("primary", "bearer", Some("admin")));
    }
    assert!(log.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
    assert!(!serde_json::to_string(&log).unwrap().contains("admin-token"));
}

#[tokio::test]
async fn auth_databases_and_prefix() {
    let (mock, addr) = start().await;
    mock.set_scenario(json!({"path_prefix": "/mes", "system": "PROD"})).unwrap();
    let p = |db: &str| format!("/mes{API}{db}");
    let jorg = basic("jörg", "pässwörd-✓-ü");
    type Case<'a> = (String, Vec<(&'a str, &'a str)>, u16);
    let cases: Vec<Case> = vec![
        (p("PROD"), vec![], 401),
        (p("PROD"), vec![("Authorization", "Bearer nope")], 401),
        (p("PROD"), vec![("Authorization", "Bearer viewer-token")], 403),
        (p("PROD"), vec![("Authorization", "Basic !!")], 401),
        (p("PRODODS"), vec![("Authorization", &jorg)], 202),
        (format!("{API}PRODODS"), vec![ADMIN], 404),
        (p("PRODXYZ"), vec![ADMIN], 400),
        (p("MESCDM"), vec![ADMIN], 400),
    ];
    let admin_basic = basic("admin", "admin-pat");
    let mut all = cases;
    all.push((p("PRODDWH"), vec![("Authorization", &admin_basic)], 202));
    for (path, headers, status) in &all {
        let r = request(addr, "POST", path, headers).await;
        assert_eq!(r.status, *status, "POST {path} {headers:?}: {}", r.text());
        if r.status == 401 {
            assert!(r.header("www-authenticate").is_some());
        }
    }
    let log = mock.log();
    let seen: Vec<_> = log.iter().map(|e| (e.auth.as_str(), e.user.as_deref(), e.status)).collect();
    assert_eq!(
        seen,
        [
            ("none", None, 401),
            ("bearer", None, 401),
            ("bearer", Some("viewer"), 403),
            ("invalid", None, 401),
            ("basic", Some("jörg"), 202),
            ("bearer", Some("admin"), 404),
            ("bearer", Some("admin"), 400),
            ("bearer", Some("admin"), 400),
            ("basic", Some("admin"), 202),
        ]
    );
    // The two accepted POSTs got the first two GUIDs of the sequence.
    let r = request(addr, "GET", &p("00000000-0000-4000-8000-000000000002"), &[ADMIN]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-disposition"), Some("attachment; filename=\"PRODDWH.zip\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncate_and_reset_end_the_connection_and_the_job() {
    let (mock, addr) = start().await;
    for (fault, kind) in [("truncate_at", None), ("reset_at", Some(io::ErrorKind::ConnectionReset))] {
        mock.set_scenario(json!({"payload": {"size": 1_000_000}, "download": {fault: 300_000}})).unwrap();
        let guid = request(addr, "POST", &format!("{API}MES"), &[ADMIN]).await.text();
        let r = request(addr, "GET", &format!("{API}{guid}"), &[ADMIN]).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-length"), Some("1000000"));
        assert_eq!(r.body.len(), 300_000, "{fault}");
        assert_eq!(r.read_error, kind, "{fault}");
        let again = request(addr, "GET", &format!("{API}{guid}"), &[ADMIN]).await;
        assert_eq!(again.status, 400);
        let log = mock.log();
        assert_eq!((log[1].status, log[1].body_bytes_sent, log[1].body_complete), (200, 300_000, false));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirect_to_other_host_faults_and_pending_204() {
    let (mock, addr) = start().await;
    mock.set_scenario(json!({
        "redirect_get": "other_host", "pending_polls": 1, "pending_status": 204,
        "faults": [{"method": "POST", "nth": 1, "status": 503, "body": "busy", "headers": {"Retry-After": "2"}}],
        "content_disposition": null
    }))
    .unwrap();
    let busy = request(addr, "POST", &format!("{API}MES"), &[ADMIN]).await;
    assert_eq!((busy.status, busy.text().as_str(), busy.header("retry-after")), (503, "busy", Some("2")));
    let guid = request(addr, "POST", &format!("{API}MES"), &[ADMIN]).await.text();
    let path = format!("{API}{guid}");
    let redirect = request(addr, "GET", &path, &[ADMIN]).await;
    assert_eq!(redirect.status, 307);
    let location = format!("http://localhost:{}{path}", addr.port());
    assert_eq!(redirect.header("location"), Some(location.as_str()));
    let other = format!("localhost:{}", addr.port());
    let pending = request(addr, "GET", &path, &[("Host", &other)]).await;
    assert_eq!((pending.status, pending.body.len()), (204, 0));
    let ready = request(addr, "GET", &path, &[("Host", &other)]).await;
    assert_eq!((ready.status, ready.body.len()), (200, 65536));
    assert_eq!(ready.header("content-disposition"), None);
    let log = mock.log();
    let seen: Vec<_> = log.iter().map(|e| (e.method.as_str(), e.status, e.host.as_str(), e.auth.as_str())).collect();
    assert_eq!(
        seen,
        [
            ("POST", 503, "primary", "bearer"),
            ("POST", 202, "primary", "bearer"),
            ("GET", 307, "primary", "bearer"),
            ("GET", 204, "other", "none"),
            ("GET", 200, "other", "none"),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_databases_at_once() {
    let (mock, addr) = start().await;
    mock.set_scenario(json!({"pending_ms": 50, "payload": {"size": 3_000_000, "seed": 5}})).unwrap();
    let mut tasks = Vec::new();
    for db in ["MES", "MESCDM", "MESODS", "MESDWH"] {
        tasks.push(tokio::spawn(async move {
            let guid = request(addr, "POST", &format!("{API}{db}"), &[ADMIN]).await.text();
            loop {
                let r = request(addr, "GET", &format!("{API}{guid}"), &[ADMIN]).await;
                match r.status {
                    202 => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
                    200 => return (db, r.body),
                    s => panic!("{db}: status {s}"),
                }
            }
        }));
    }
    for t in tasks {
        let (db, body) = t.await.unwrap();
        let mut expected = Vec::new();
        mock_mes::Payload::new(db, 3_000_000, 5).unwrap().write_to(&mut expected).unwrap();
        assert!(body == expected, "{db}");
    }
    assert_eq!(mock.log().iter().filter(|e| e.status == 200 && e.body_complete).count(), 4);
}

#[test]
fn background_server_for_sync_tests() {
    let mock = MockMes::start_in_background("127.0.0.1:0".parse().unwrap());
    mock.set_scenario(json!({"guid_body": "json", "guids": ["11111111-2222-4333-8444-555555555555"]})).unwrap();
    let addr = mock.addr();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let r = rt.block_on(request(addr, "POST", &format!("{API}MESODS"), &[ADMIN]));
    assert_eq!(r.text(), "\"11111111-2222-4333-8444-555555555555\"");
    assert_eq!(mock.log().len(), 1);
    mock.shutdown();
    assert!(std::net::TcpStream::connect(addr).is_err(), "still listening after shutdown");
}

/// A folder of its own under the system's temporary folder, removed on drop.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("mock-mes-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payload_file_is_served_as_is() {
    let (mock, addr) = start().await;
    let dir = TempDir::new("payload-file");
    // Not a multiple of the chunk size, several chunks long, and not something the mock generates.
    let len = 3 * mock_mes::payload::CHUNK_SIZE + 12_345;
    let mut bytes = Vec::with_capacity(len);
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    while bytes.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    bytes.truncate(len);
    let file = dir.0.join("source.zip");
    std::fs::write(&file, &bytes).unwrap();
    let name = file.to_str().unwrap();

    put_scenario(addr, json!({"system": "E2EMES", "pending_polls": 1, "payload": {"file": name}})).await;
    let guid = request(addr, "POST", &format!("{API}E2EMES"), &[ADMIN]).await.text();
    assert_eq!(request(addr, "GET", &format!("{API}{guid}"), &[ADMIN]).await.status, 202);
    let ready = request(addr, "GET", &format!("{API}{guid}"), &[ADMIN]).await;
    assert_eq!(ready.status, 200);
    assert_eq!(ready.header("content-type"), Some("application/zip"));
    assert_eq!(ready.header("content-length"), Some(len.to_string().as_str()));
    assert_eq!(ready.header("content-disposition"), Some("attachment; filename=\"E2EMES.zip\""));
    assert_eq!(ready.read_error, None);
    assert!(ready.body == bytes, "served bytes differ from the file");
    let log = mock.log();
    assert_eq!((log[2].status, log[2].body_bytes_sent, log[2].body_complete), (200, len as u64, true));
    // One-shot as ever.
    assert_eq!(request(addr, "GET", &format!("{API}{guid}"), &[ADMIN]).await.status, 400);

    // Download faults apply to the file's bytes.
    put_scenario(addr, json!({"system": "E2EMES", "payload": {"file": name}, "download": {"truncate_at": 300_000}}))
        .await;
    let guid = request(addr, "POST", &format!("{API}E2EMES"), &[ADMIN]).await.text();
    let cut = request(addr, "GET", &format!("{API}{guid}"), &[ADMIN]).await;
    assert_eq!(cut.header("content-length"), Some(len.to_string().as_str()));
    assert!(cut.body == bytes[..300_000], "truncated body is not the file's first bytes");
    let log = mock.log();
    assert_eq!((log[1].body_bytes_sent, log[1].body_complete), (300_000, false));

    // A file that went away after the scenario was loaded: a 500 that says so, not a hang.
    let guid = request(addr, "POST", &format!("{API}E2EMES"), &[ADMIN]).await.text();
    std::fs::remove_file(&file).unwrap();
    let gone = request(addr, "GET", &format!("{API}{guid}"), &[ADMIN]).await;
    assert_eq!(gone.status, 500);
    assert!(gone.text().contains(name), "{}", gone.text());

    // A missing file is a scenario error naming it, in process and over HTTP.
    let e = mock.set_scenario(json!({"payload": {"file": name}})).unwrap_err();
    assert!(e.contains(name) && e.contains("payload.file"), "{e}");
    let body = json!({"payload": {"file": name}}).to_string();
    let mut s = TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "PUT /_mock/scenario HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    assert!(out.starts_with("HTTP/1.1 400"), "{out}");
    assert!(out.contains(name) && out.contains("cannot be read"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunked_bodies_oversized_headers_and_referers() {
    let (mock, addr) = start().await;
    mock.set_scenario(json!({
        "download": {"chunked": true},
        "faults": [{"method": "GET", "nth": 1, "status": 202, "header_bytes": 1_048_576}]
    }))
    .unwrap();
    let guid = request(addr, "POST", &format!("{API}MES"), &[ADMIN, ("Referer", "http://x/")]).await.text();
    let padded = request(addr, "GET", &format!("{API}{guid}"), &[ADMIN]).await;
    assert_eq!(padded.status, 202);
    assert_eq!(padded.header("x-mock-padding").map(str::len), Some(1_048_576));
    let r = request(addr, "GET", &format!("{API}{guid}"), &[ADMIN]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length"), None);
    assert_eq!(r.header("transfer-encoding"), Some("chunked"));
    let log = mock.log();
    assert_eq!(log.iter().map(|e| e.referer).collect::<Vec<_>>(), [true, false, false]);
    assert!(log[2].body_complete);
    assert_eq!(log[2].body_bytes_sent, 65536);
}
