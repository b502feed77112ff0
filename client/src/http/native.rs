//! The native HTTP backend: reqwest, with the rules the facade's documentation states.

use futures::StreamExt;
use mesbackup_core::mes::tool_id;
use mesbackup_core::mes::Credentials;
use mesbackup_core::mes::ResponseHead;
use mesbackup_core::mes::{Method, Request, TransportError, TransportPhase};
use mesbackup_core::Error;
use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION, USER_AGENT};

use super::body::BodyChunks;
use super::config::HttpConfig;

/// A response whose status line and headers are in; the body is still to be read.
#[derive(Debug)]
pub struct Response(reqwest::Response);

impl Response {
    /// The status code and headers (headers whose value is not visible ASCII are left out).
    pub fn head(&self) -> ResponseHead {
        head_of(&self.0)
    }

    /// The body, chunk by chunk.
    pub fn chunks(self) -> impl BodyChunks {
        self.0.bytes_stream().map(|c| c.map_err(|e| transport_error(&e, TransportPhase::Body)))
    }
}

/// The MES connection natively: a POST client that never follows redirects, a GET client that
/// follows a few (never from https to http), and the Authorization header for every request.
#[derive(Clone)]
pub struct Http {
    post: reqwest::Client,
    get: reqwest::Client,
    authorization: Option<HeaderValue>,
    /// What the driver redacts from server text.
    secrets: Vec<String>,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http").field("authorization", &self.authorization.as_ref().map(|_| "<redacted>")).finish()
    }
}

impl Http {
    /// Sets up both clients from `config` (extra CA, connect timeout) and environment proxies; credentials
    /// that cannot be sent in a header, or an unreadable CA file, are an `invalid_argument` error.
    pub fn new(credentials: &Credentials, config: &HttpConfig) -> Result<Http, Error> {
        let authorization = match credentials.authorization() {
            Some(value) => {
                let mut v = HeaderValue::from_str(&value).map_err(|_| {
                    Error::invalid_argument("the credentials contain characters that cannot be sent in an HTTP header")
                })?;
                v.set_sensitive(true);
                Some(v)
            }
            None => None,
        };
        let secrets = credentials.secrets();
        Ok(Http { post: build(config, false)?, get: build(config, true)?, authorization, secrets })
    }

    /// The credentials' secrets, to redact from anything the server sends back.
    pub fn secrets(&self) -> &[String] {
        &self.secrets
    }

    /// Sends a request and returns once the status line and headers are in.
    pub async fn send(&self, request: &Request) -> Result<Response, TransportError> {
        let client = match request.method {
            Method::Post => &self.post,
            Method::Get => &self.get,
        };
        let method = match request.method {
            Method::Post => reqwest::Method::POST,
            Method::Get => reqwest::Method::GET,
        };
        let mut builder =
            client.request(method, &request.url).header(ACCEPT, "application/zip, application/json;q=0.5, */*;q=0.1");
        builder = builder.header(USER_AGENT, tool_id());
        if let Some(auth) = &self.authorization {
            builder = builder.header(AUTHORIZATION, auth.clone());
        }
        if request.method == Method::Post {
            // An explicit empty body: some proxies reject a POST without Content-Length.
            builder = builder.body(Vec::new());
        }
        builder.send().await.map(Response).map_err(|e| transport_error(&e, TransportPhase::Response))
    }
}

pub(crate) fn build(config: &HttpConfig, follow_redirects: bool) -> Result<reqwest::Client, Error> {
    use reqwest::redirect::Policy;
    let policy = if follow_redirects {
        Policy::custom(|attempt| {
            let downgrade = attempt.previous().last().is_some_and(|prev| prev.scheme() == "https")
                && attempt.url().scheme() == "http";
            if attempt.previous().len() >= 5 {
                attempt.error("too many redirects")
            } else if downgrade {
                attempt.error("refusing to follow a redirect from https to plain http")
            } else {
                attempt.follow()
            }
        })
    } else {
        Policy::none()
    };
    let mut b = reqwest::Client::builder().redirect(policy).referer(false).use_rustls_tls().no_proxy();
    for proxy in env_proxies() {
        b = b.proxy(proxy);
    }
    if let Some(ms) = config.connect_timeout_ms {
        b = b.connect_timeout(std::time::Duration::from_millis(ms));
    }
    if let Some(pem) = &config.ca_cert_pem {
        let certs = reqwest::Certificate::from_pem_bundle(pem)
            .map_err(|e| Error::invalid_argument(format!("cannot read the CA certificate file: {e}")))?;
        if certs.is_empty() {
            return Err(Error::invalid_argument("the CA certificate file contains no PEM certificate"));
        }
        for c in certs {
            b = b.add_root_certificate(c);
        }
    }
    b.build().map_err(|e| Error::invalid_argument(format!("cannot set up HTTPS: {e}")))
}

fn head_of(response: &reqwest::Response) -> ResponseHead {
    ResponseHead {
        status: response.status().as_u16(),
        headers: response
            .headers()
            .iter()
            .filter_map(|(n, v)| v.to_str().ok().map(|v| (n.as_str().to_owned(), v.to_owned())))
            .collect(),
    }
}

/// Proxies from the environment as curl and reqwest read them (`HTTP_PROXY`, `HTTPS_PROXY`,
/// `ALL_PROXY`, `NO_PROXY`, upper or lower case; none in a CGI process, where `HTTP_PROXY` may come
/// from a request header; values that are not URLs ignored), except that this machine is always
/// reached directly: reqwest's own reading has no such exception.
fn env_proxies() -> Vec<reqwest::Proxy> {
    let var = |names: [&str; 2]| names.iter().find_map(|n| std::env::var(n).ok()).filter(|v| !v.trim().is_empty());
    if std::env::var_os("REQUEST_METHOD").is_some() {
        return Vec::new();
    }
    let mut no_proxy = var(["NO_PROXY", "no_proxy"]).unwrap_or_default();
    no_proxy.push_str(",localhost,127.0.0.0/8,::1");
    type MakeProxy = fn(String) -> reqwest::Result<reqwest::Proxy>;
    let candidates: [(Option<String>, MakeProxy); 3] = [
        (var(["HTTP_PROXY", "http_proxy"]), reqwest::Proxy::http),
        (var(["HTTPS_PROXY", "https_proxy"]), reqwest::Proxy::https),
        (var(["ALL_PROXY", "all_proxy"]), reqwest::Proxy::all),
    ];
    candidates
        .into_iter()
        .filter_map(|(url, make)| make(url?).ok())
        .map(|p| p.no_proxy(reqwest::NoProxy::from_string(&no_proxy)))
        .collect()
}

/// Maps a reqwest failure. `is_connect` is the only case where the request certainly did not leave;
/// an answer hyper could not parse did arrive, and is not worth asking for again.
fn transport_error(e: &reqwest::Error, otherwise: TransportPhase) -> TransportError {
    let phase = if e.is_connect() {
        TransportPhase::Connect
    } else if unparseable_answer(e) {
        TransportPhase::Malformed
    } else {
        otherwise
    };
    TransportError { phase, detail: describe(e) }
}

fn unparseable_answer(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(e);
    while let Some(s) = source {
        if s.downcast_ref::<hyper::Error>().is_some_and(hyper::Error::is_parse) {
            return true;
        }
        source = s.source();
    }
    false
}

/// A one-line description: the error and its causes, without the URL's query (there is none) and
/// without any header (reqwest never prints them).
fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}
