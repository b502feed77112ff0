//! The driver loop: performs the core job's actions over HTTP (reqwest natively, `fetch` in
//! WebAssembly), with an injected sink and clock.
//!
//! It holds no protocol logic: every decision (what to send, how long to wait, what a status means,
//! whether a broken stream may be restarted) is the job's. The loop only does I/O, measures time,
//! hashes the bytes it streams, and reports back.

use std::future::Future;
use std::task::Poll;

use std::pin::Pin;

use futures::StreamExt;
use mesbackup_core::error::redact;
use mesbackup_core::mes::DownloadLimits;
use mesbackup_core::mes::EnvUrl;
use mesbackup_core::mes::PollPolicy;
use mesbackup_core::mes::ResponseHead;
use mesbackup_core::mes::{check_transport, Credentials};
use mesbackup_core::mes::{
    Action, CommitFailure, Job, JobEvent, JobSpec, Mode, Outcome, ReceiveFailure, ReceivedBody, TransportError,
    TransportPhase,
};
use mesbackup_core::mes::{HeldBytes, HeldShapeProbe};
use mesbackup_core::{Error, ErrorKind};
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

use crate::clock::{random_seed, Clock};
use crate::http::{BodyChunk, ChunkAccess, Http, HttpConfig, Response};
use crate::sink::{PackageSink, SinkFactory};

/// How a [`MesClient`] polls, restarts lost downloads, connects and bounds its downloads.
#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
    /// Polling delays, retry back-off and timeouts (request, overall wait, download stall), in ms.
    pub policy: PollPolicy,
    /// New backups (POSTs) allowed after a one-shot download was lost; 0 (the default) never
    /// starts a backup the caller did not ask for.
    pub restart_budget: u32,
    /// HTTP settings: an extra trusted CA certificate, the connect timeout.
    pub http: HttpConfig,
    /// Send credentials over plain http:// to a non-loopback host.
    pub allow_insecure_http: bool,
    /// Bounds on each download (low-speed limit, overall timeout, size cap).
    pub download_limits: DownloadLimits,
}

/// A configured connection to one MES environment.
#[derive(Debug, Clone)]
pub struct MesClient {
    env: EnvUrl,
    http: Http,
    options: ClientOptions,
}

impl MesClient {
    /// Checks the transport (no credentials over plain http:// to another host unless
    /// `allow_insecure_http`), the policy and the download limits, and sets up HTTP; an invalid setting is an error.
    pub fn new(env: EnvUrl, credentials: Credentials, options: ClientOptions) -> Result<MesClient, Error> {
        check_transport(&env, &credentials, options.allow_insecure_http)?;
        options.policy.validate()?;
        options.download_limits.validate()?;
        let http = Http::new(&credentials, &options.http)?;
        Ok(MesClient { env, http, options })
    }

    /// The MES environment this client talks to.
    pub fn env(&self) -> &EnvUrl {
        &self.env
    }

    /// A job spec with this client's policy and restart budget.
    pub fn spec(&self, mode: Mode, database: Option<&str>, guid: Option<&str>) -> JobSpec {
        JobSpec {
            database: database.map(str::to_owned),
            guid: guid.map(str::to_owned),
            policy: self.options.policy.clone(),
            restart_budget: self.options.restart_budget,
            download_limits: self.options.download_limits.clone(),
            jitter_seed: random_seed(),
            ..JobSpec::new(mode, self.env.clone())
        }
    }

    /// Runs one job to its end. Never panics on server behaviour; every failure is an `Outcome::Failed`.
    pub async fn run<F, C, E>(
        &self,
        spec: JobSpec,
        sinks: &F,
        clock: &C,
        cancel: &CancellationToken,
        on_event: &E,
    ) -> Outcome
    where
        F: SinkFactory + ?Sized,
        C: Clock + ?Sized,
        E: Fn(&JobEvent) + ?Sized,
    {
        let mut job = match Job::new(spec, clock.now_ms()) {
            Ok(job) => job,
            Err(e) => return Outcome::Failed(e),
        };
        run_job(&self.http, &mut job, sinks, clock, cancel, on_event).await
    }
}

/// The clock's sleep future, as async_trait boxes it (Send natively, not in WebAssembly).
#[cfg(not(target_arch = "wasm32"))]
type Sleep<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;
#[cfg(target_arch = "wasm32")]
type Sleep<'a> = Pin<Box<dyn Future<Output = ()> + 'a>>;

enum Race<T> {
    Done(T),
    TimedOut,
    Cancelled,
}

/// How the streaming of a package body ended.
enum Received {
    /// The body ended (completely or not), or the sink failed: for `handle_received`.
    Ended(Result<ReceivedBody, ReceiveFailure>),
    /// The job gave up on it (its guard: too slow, stalled, too long, too large); it said so itself.
    Abandoned,
    Cancelled,
}

/// Runs `fut` until it completes, `until_ms` passes, or `cancel` fires (checked first).
async fn race<T, C: Clock + ?Sized>(
    fut: impl Future<Output = T>,
    clock: &C,
    until_ms: Option<u64>,
    cancel: &CancellationToken,
) -> Race<T> {
    let timer = async {
        match until_ms {
            Some(u) => clock.sleep_until(u).await,
            None => futures::future::pending::<()>().await,
        }
    };
    let cancelled = cancel.cancelled();
    futures::pin_mut!(fut, timer, cancelled);
    futures::future::poll_fn(|cx| {
        if cancelled.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Race::Cancelled);
        }
        if let Poll::Ready(v) = fut.as_mut().poll(cx) {
            return Poll::Ready(Race::Done(v));
        }
        if timer.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Race::TimedOut);
        }
        Poll::Pending
    })
    .await
}

/// Drives `job` until it finishes and returns its outcome.
pub async fn run_job<F, C, E>(
    http: &Http,
    job: &mut Job,
    sinks: &F,
    clock: &C,
    cancel: &CancellationToken,
    on_event: &E,
) -> Outcome
where
    F: SinkFactory + ?Sized,
    C: Clock + ?Sized,
    E: Fn(&JobEvent) + ?Sized,
{
    let mut response: Option<Response> = None;
    let mut sink: Option<F::Sink> = None;
    // Server text loses the credentials' secrets before the job quotes or shortens any of it.
    let secrets = http.secrets();
    loop {
        while let Some(event) = job.poll_event() {
            on_event(&event);
        }
        let Some(action) = job.poll_action() else {
            if let Some(outcome) = job.outcome() {
                return outcome.clone();
            }
            return Outcome::Failed(Error::new(ErrorKind::UnexpectedResponse, "internal error: the job stalled"));
        };
        match action {
            Action::Prepare => match race(sinks.prepare(), clock, None, cancel).await {
                Race::Done(result) => job.handle_prepare(result, clock.now_ms()),
                Race::TimedOut | Race::Cancelled => job.cancel(clock.now_ms()),
            },
            Action::Send(request) => {
                response = None;
                let until = clock.now_ms().saturating_add(request.timeout_ms);
                match race(http.send(&request), clock, Some(until), cancel).await {
                    Race::Done(Ok(r)) => {
                        let head = redact_head(r.head(), secrets);
                        response = Some(r);
                        job.handle_response(head, clock.now_ms());
                    }
                    Race::Done(Err(e)) => job.handle_transport_error(e, clock.now_ms()),
                    Race::TimedOut => job.handle_transport_error(
                        TransportError {
                            phase: TransportPhase::Response,
                            detail: format!("no answer within {} s", request.timeout_ms / 1000),
                        },
                        clock.now_ms(),
                    ),
                    Race::Cancelled => job.cancel(clock.now_ms()),
                }
            }
            Action::ReadBody { limit } => {
                let Some(r) = response.take() else {
                    job.handle_body(b"", clock.now_ms());
                    continue;
                };
                let until = clock.now_ms().saturating_add(job.spec().policy.request_timeout_ms);
                match race(read_limited(r, limit), clock, Some(until), cancel).await {
                    Race::Done(Ok(body)) => job.handle_body(&redact_body(body, secrets), clock.now_ms()),
                    Race::Done(Err(e)) => job.handle_transport_error(e, clock.now_ms()),
                    Race::TimedOut => job.handle_transport_error(
                        TransportError {
                            phase: TransportPhase::Body,
                            detail: "the answer's body did not arrive".into(),
                        },
                        clock.now_ms(),
                    ),
                    Race::Cancelled => job.cancel(clock.now_ms()),
                }
            }
            Action::Receive { file_name, expected_len } => {
                let Some(r) = response.take() else {
                    let e = TransportError { phase: TransportPhase::Body, detail: "no response to read".into() };
                    job.handle_received(Err(ReceiveFailure::Transport(e)), clock.now_ms());
                    continue;
                };
                let mut s = match race(sinks.open(&file_name, expected_len), clock, None, cancel).await {
                    Race::Done(Ok(s)) => s,
                    Race::Done(Err(e)) => {
                        job.handle_received(Err(ReceiveFailure::Sink(e)), clock.now_ms());
                        continue;
                    }
                    Race::TimedOut | Race::Cancelled => {
                        job.cancel(clock.now_ms());
                        continue;
                    }
                };
                match receive(r, &mut s, job, clock, cancel, on_event).await {
                    Received::Ended(result) => job.handle_received(result, clock.now_ms()),
                    Received::Abandoned => {}
                    Received::Cancelled => job.cancel(clock.now_ms()),
                }
                sink = Some(s);
            }
            Action::Commit { file_name, overwrite, sidecar } => {
                let result = match sink.as_mut() {
                    Some(s) => s.commit(&file_name, overwrite, &sidecar).await,
                    None => Err(CommitFailure::Sink(Error::io("internal error: no open sink"))),
                };
                job.handle_commit(result, clock.now_ms());
            }
            Action::Discard { keep_as } => {
                if let Some(mut s) = sink.take() {
                    s.discard(keep_as.as_deref()).await;
                }
            }
            Action::Sleep { until_ms } => match race(clock.sleep_until(until_ms), clock, None, cancel).await {
                Race::Done(()) | Race::TimedOut => job.handle_timeout(clock.now_ms().max(until_ms)),
                Race::Cancelled => job.cancel(clock.now_ms()),
            },
        }
    }
}

/// The header values of an answer, without the credentials' secrets.
fn redact_head(mut head: ResponseHead, secrets: &[String]) -> ResponseHead {
    if !secrets.is_empty() {
        for (_, value) in &mut head.headers {
            *value = redact(value, secrets);
        }
    }
    head
}

/// A small body (an error page, a GUID), without the credentials' secrets; left as it came when
/// there is none in it.
fn redact_body(body: Vec<u8>, secrets: &[String]) -> Vec<u8> {
    if secrets.is_empty() {
        return body;
    }
    let text = String::from_utf8_lossy(&body);
    let clean = redact(&text, secrets);
    if clean == text {
        body
    } else {
        clean.into_bytes()
    }
}

/// A timer for the job's next deadline, or one that never fires.
fn timer_for<'a, C: Clock + ?Sized>(clock: &'a C, deadline: Option<u64>) -> Sleep<'a> {
    match deadline {
        Some(at) => clock.sleep_until(at),
        None => Box::pin(futures::future::pending()),
    }
}

async fn read_limited(response: Response, limit: usize) -> Result<Vec<u8>, TransportError> {
    let mut body = Vec::new();
    let mut stream = response.chunks();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        let room = limit.saturating_sub(body.len());
        chunk.copy_range_to(0, chunk.len().min(room), &mut body);
        if body.len() >= limit {
            break;
        }
    }
    Ok(body)
}

/// Streams the body into the sink, hashing and probing as it goes, until it ends, the job abandons
/// it, or the caller cancels.
async fn receive<S, C, E>(
    response: Response,
    sink: &mut S,
    job: &mut Job,
    clock: &C,
    cancel: &CancellationToken,
    on_event: &E,
) -> Received
where
    S: PackageSink + ?Sized,
    C: Clock + ?Sized,
    E: Fn(&JobEvent) + ?Sized,
{
    let mut stream = response.chunks();
    // A sink that hashes what it stores (with a faster SHA-256 than ours) saves the work here.
    let mut sha = (!sink.computes_sha256()).then(Sha256::new);
    // Holds the last chunks by handle (no copy); the body is copied into this memory only to hash
    // it here, into `scratch`, when it lives elsewhere (WebAssembly).
    let mut probe: HeldShapeProbe<BodyChunk> = HeldShapeProbe::new();
    let mut scratch = Vec::new();
    let mut bytes: u64 = 0;
    // One timer for the job's nearest deadline (stall, low-speed sample, overall timeout), re-armed
    // only when it fires: arming a timer per chunk costs more than the chunk itself on some
    // platforms (WebAssembly's setTimeout). The job decides what the time means.
    let mut timer: Sleep<'_> = timer_for(clock, job.poll_timeout());
    let cancelled = cancel.cancelled();
    futures::pin_mut!(cancelled);
    loop {
        let next = futures::future::poll_fn(|cx| {
            if cancelled.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Race::Cancelled);
            }
            if let Poll::Ready(item) = stream.poll_next_unpin(cx) {
                return Poll::Ready(Race::Done(item));
            }
            if timer.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Race::TimedOut);
            }
            Poll::Pending
        })
        .await;
        let chunk = match next {
            Race::Done(Some(Ok(chunk))) => chunk,
            Race::Done(Some(Err(e))) => return Received::Ended(Err(ReceiveFailure::Transport(e))),
            Race::Done(None) => break,
            Race::TimedOut => {
                job.handle_timeout(clock.now_ms());
                if !job.is_receiving() {
                    return Received::Abandoned;
                }
                timer = timer_for(clock, job.poll_timeout());
                continue;
            }
            Race::Cancelled => return Received::Cancelled,
        };
        if let Some(sha) = sha.as_mut() {
            chunk.with_bytes(&mut scratch, |b| sha.update(b));
        }
        let len = chunk.len() as u64;
        match race(sink.write(chunk.for_sink()), clock, None, cancel).await {
            Race::Done(Ok(())) => {}
            Race::Done(Err(e)) => return Received::Ended(Err(ReceiveFailure::Sink(e))),
            Race::TimedOut | Race::Cancelled => return Received::Cancelled,
        }
        probe.update(chunk);
        bytes += len;
        job.handle_progress(bytes, clock.now_ms());
        while let Some(event) = job.poll_event() {
            on_event(&event);
        }
        if !job.is_receiving() {
            return Received::Abandoned;
        }
    }
    let stored = match sink.finish().await {
        Ok(stored) => stored,
        Err(e) => return Received::Ended(Err(ReceiveFailure::Sink(e))),
    };
    let sha256 = match sha {
        Some(sha) => hex(&sha.finalize()),
        None => match sink_digest(stored, bytes, sink.sha256()) {
            Ok(digest) => digest,
            Err(e) => return Received::Ended(Err(ReceiveFailure::Sink(e))),
        },
    };
    Received::Ended(Ok(ReceivedBody { size: bytes, sha256, shape: probe.verdict() }))
}

/// The digest reported by a sink that hashes itself, checked: it must cover as many bytes as the
/// stream carried and be a SHA-256 in hex (returned in lowercase).
fn sink_digest(stored: u64, received: u64, digest: Option<String>) -> Result<String, Error> {
    if stored != received {
        return Err(Error::io(format!("the sink stored {stored} bytes of the {received} it was given")));
    }
    match digest {
        Some(d) if d.len() == 64 && d.bytes().all(|b| b.is_ascii_hexdigit()) => Ok(d.to_ascii_lowercase()),
        _ => Err(Error::io("the sink did not report the SHA-256 of the bytes it stored")),
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::sink_digest;

    #[test]
    fn a_hashing_sink_must_report_a_digest_of_every_byte() {
        let d = "AB".repeat(32);
        assert_eq!(sink_digest(10, 10, Some(d)).unwrap(), "ab".repeat(32));
        assert!(sink_digest(9, 10, Some("ab".repeat(32))).is_err(), "a byte count that differs");
        assert!(sink_digest(10, 10, None).is_err(), "no digest");
        assert!(sink_digest(10, 10, Some("ab".repeat(31))).is_err(), "too short");
        assert!(sink_digest(10, 10, Some("zz".repeat(32))).is_err(), "not hex");
    }
}
