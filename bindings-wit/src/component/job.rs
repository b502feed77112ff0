//! Interface `job`: the core's backup job, its credentials rules and the body probe.

use std::cell::RefCell;

use mesbackup_core::error::redact;
use mesbackup_core::mes::{
    self as core, check_transport, Credentials as CoreCredentials, DownloadLimits as CoreLimits, EnvUrl,
    JobSpec as CoreSpec, ShapeProbe,
};
use sha2::{Digest, Sha256};

use super::convert::error_from_wit;
use super::exports::cmf::mesbackup::job::{
    Action, Authorization, BackupJob, Commit, CommitFailure, Credentials, DownloadLimits, Error, Guest, GuestBackupJob,
    GuestBodyProbe, JobEvent, JobSpec, Method, Mode, Outcome, Phase, Receive, ReceiveFailure, ReceivedBody, Request,
    ResponseHead, SavedPackage, Shape, Started, TransportError, TransportPhase,
};
use super::polling::{policy_from_wit, policy_to_wit};
use super::{error, Component};

fn credentials(c: Credentials) -> Result<CoreCredentials, Error> {
    match c {
        Credentials::None => Ok(CoreCredentials::None),
        Credentials::Token(t) => CoreCredentials::bearer(&t).map_err(error),
        Credentials::Basic((user, pat)) => CoreCredentials::basic(&user, &pat).map_err(error),
    }
}

fn mode_from_wit(m: Mode) -> core::Mode {
    match m {
        Mode::Backup => core::Mode::Backup,
        Mode::StartOnly => core::Mode::StartOnly,
        Mode::Download => core::Mode::Download,
        Mode::DownloadIfReady => core::Mode::DownloadIfReady,
    }
}

fn mode_to_wit(m: core::Mode) -> Mode {
    match m {
        core::Mode::Backup => Mode::Backup,
        core::Mode::StartOnly => Mode::StartOnly,
        core::Mode::Download => Mode::Download,
        core::Mode::DownloadIfReady => Mode::DownloadIfReady,
    }
}

fn spec_from_wit(s: JobSpec) -> Result<CoreSpec, Error> {
    let env = EnvUrl::parse(&s.env_url).map_err(error)?;
    Ok(CoreSpec {
        database: s.database,
        guid: s.guid,
        policy: s.policy.map(policy_from_wit).unwrap_or_default(),
        restart_budget: s.restart_budget,
        file_name: s.file_name,
        overwrite: s.overwrite,
        jitter_seed: s.jitter_seed,
        sql_backup_finished_at: s.sql_backup_finished_at,
        download_limits: s
            .download_limits
            .map(|l| CoreLimits {
                speed_limit: l.speed_limit,
                speed_time_ms: l.speed_time_ms,
                download_timeout_ms: l.download_timeout_ms,
                max_size: l.max_size,
            })
            .unwrap_or_default(),
        ..CoreSpec::new(mode_from_wit(s.mode), env)
    })
}

fn limits_to_wit(l: &CoreLimits) -> DownloadLimits {
    DownloadLimits {
        speed_limit: l.speed_limit,
        speed_time_ms: l.speed_time_ms,
        download_timeout_ms: l.download_timeout_ms,
        max_size: l.max_size,
    }
}

fn spec_to_wit(s: &CoreSpec) -> JobSpec {
    JobSpec {
        mode: mode_to_wit(s.mode),
        env_url: s.env.as_str().to_owned(),
        database: s.database.clone(),
        guid: s.guid.clone(),
        policy: Some(policy_to_wit(&s.policy)),
        restart_budget: s.restart_budget,
        file_name: s.file_name.clone(),
        overwrite: s.overwrite,
        jitter_seed: s.jitter_seed,
        sql_backup_finished_at: s.sql_backup_finished_at.clone(),
        download_limits: Some(limits_to_wit(&s.download_limits)),
    }
}

fn action_to_wit(a: core::Action) -> Action {
    match a {
        core::Action::Prepare => Action::Prepare,
        core::Action::Send(r) => Action::Send(Request {
            method: match r.method {
                core::Method::Post => Method::Post,
                core::Method::Get => Method::Get,
            },
            url: r.url,
            timeout_ms: r.timeout_ms,
        }),
        // SMALL_BODY_LIMIT is a few KiB: it always fits.
        core::Action::ReadBody { limit } => Action::ReadBody(u32::try_from(limit).unwrap_or(u32::MAX)),
        core::Action::Receive { file_name, expected_len } => Action::Receive(Receive { file_name, expected_len }),
        core::Action::Commit { file_name, overwrite, sidecar } => Action::Commit(Commit {
            sidecar_file_name: core::sidecar_file_name(&file_name),
            sidecar_json: sidecar.to_json(),
            file_name,
            overwrite,
        }),
        core::Action::Discard { keep_as } => Action::Discard(keep_as),
        core::Action::Sleep { until_ms } => Action::Sleep(until_ms),
    }
}

fn event_to_wit(e: core::JobEvent) -> JobEvent {
    let value = serde_json::to_value(&e).unwrap_or_default();
    let text = |v: Option<&serde_json::Value>| v.and_then(|v| v.as_str()).map(str::to_owned);
    let guid = text(value.get("guid"))
        .or_else(|| text(value.get("lost_guid")))
        .or_else(|| text(value.pointer("/package/guid")))
        .or_else(|| text(value.pointer("/error/guid")));
    JobEvent { name: text(value.get("event")).unwrap_or_default(), guid, json: value.to_string() }
}

fn saved_to_wit(p: core::SavedPackage) -> SavedPackage {
    SavedPackage {
        guid: p.guid,
        database: p.database,
        file_name: p.file_name,
        location: p.location,
        sidecar_file_name: p.sidecar_file_name,
        size: p.size,
        sha256: p.sha256,
        started_at_ms: p.started_at_ms,
        ready_at_ms: p.ready_at_ms,
        finished_at_ms: p.finished_at_ms,
        notes: p.notes,
    }
}

fn outcome_to_wit(o: core::Outcome) -> Outcome {
    match o {
        core::Outcome::Saved(p) => Outcome::Saved(saved_to_wit(p)),
        core::Outcome::Started { guid, database } => Outcome::Started(Started { guid, database }),
        core::Outcome::Pending { guid } => Outcome::Pending(guid),
        core::Outcome::Failed(e) => Outcome::Failed(error(e)),
    }
}

fn transport_from_wit(t: TransportError) -> core::TransportError {
    core::TransportError {
        phase: match t.phase {
            TransportPhase::Connect => core::TransportPhase::Connect,
            TransportPhase::Response => core::TransportPhase::Response,
            TransportPhase::Body => core::TransportPhase::Body,
            TransportPhase::Malformed => core::TransportPhase::Malformed,
        },
        detail: t.detail,
    }
}

fn shape_to_wit(s: core::Shape) -> Shape {
    match s {
        core::Shape::Zip => Shape::Zip,
        core::Shape::TruncatedZip => Shape::TruncatedZip,
        core::Shape::NotZip { looks_like } => Shape::NotZip(looks_like),
    }
}

fn shape_from_wit(s: Shape) -> core::Shape {
    match s {
        Shape::Zip => core::Shape::Zip,
        Shape::TruncatedZip => core::Shape::TruncatedZip,
        Shape::NotZip(looks_like) => core::Shape::NotZip { looks_like },
    }
}

/// The core's job behind a WIT resource (methods take `&self`).
pub struct JobResource {
    job: RefCell<core::Job>,
}

impl JobResource {
    fn wrap(job: core::Job) -> BackupJob {
        BackupJob::new(JobResource { job: RefCell::new(job) })
    }
}

impl GuestBackupJob for JobResource {
    fn create(spec: JobSpec, now_ms: u64) -> Result<BackupJob, Error> {
        let job = core::Job::new(spec_from_wit(spec)?, now_ms).map_err(error)?;
        Ok(JobResource::wrap(job))
    }

    fn resume(saved: String) -> Result<BackupJob, Error> {
        let job: core::Job = serde_json::from_str(&saved)
            .map_err(|e| error(mesbackup_core::Error::invalid_argument(format!("not a saved mesbackup job: {e}"))))?;
        Ok(JobResource::wrap(job))
    }

    fn save(&self) -> String {
        // A Job is plain data: serialising it cannot fail.
        serde_json::to_string(&*self.job.borrow()).unwrap_or_default()
    }

    fn resume_spec(&self) -> Option<JobSpec> {
        self.job.borrow().resume_spec().as_ref().map(spec_to_wit)
    }

    fn poll_action(&self) -> Option<Action> {
        self.job.borrow_mut().poll_action().map(action_to_wit)
    }

    fn poll_event(&self) -> Option<JobEvent> {
        self.job.borrow_mut().poll_event().map(event_to_wit)
    }

    fn poll_timeout(&self) -> Option<u64> {
        self.job.borrow().poll_timeout()
    }

    fn handle_prepare(&self, result: Result<(), Error>, now_ms: u64) {
        self.job.borrow_mut().handle_prepare(result.map_err(error_from_wit), now_ms);
    }

    fn handle_response(&self, head: ResponseHead, now_ms: u64) {
        let head = core::ResponseHead { status: head.status, headers: head.headers };
        self.job.borrow_mut().handle_response(head, now_ms);
    }

    fn handle_body(&self, body: Vec<u8>, now_ms: u64) {
        self.job.borrow_mut().handle_body(&body, now_ms);
    }

    fn handle_transport_error(&self, e: TransportError, now_ms: u64) {
        self.job.borrow_mut().handle_transport_error(transport_from_wit(e), now_ms);
    }

    fn handle_progress(&self, bytes: u64, now_ms: u64) {
        self.job.borrow_mut().handle_progress(bytes, now_ms);
    }

    fn handle_received(&self, result: Result<ReceivedBody, ReceiveFailure>, now_ms: u64) {
        let result = match result {
            Ok(b) => Ok(core::ReceivedBody { size: b.size, sha256: b.sha256, shape: shape_from_wit(b.shape) }),
            Err(ReceiveFailure::Transport(t)) => Err(core::ReceiveFailure::Transport(transport_from_wit(t))),
            Err(ReceiveFailure::Sink(e)) => Err(core::ReceiveFailure::Sink(error_from_wit(e))),
        };
        self.job.borrow_mut().handle_received(result, now_ms);
    }

    fn handle_commit(&self, result: Result<String, CommitFailure>, now_ms: u64) {
        let result = result.map_err(|f| match f {
            CommitFailure::Exists => core::CommitFailure::Exists,
            CommitFailure::Sink(e) => core::CommitFailure::Sink(error_from_wit(e)),
        });
        self.job.borrow_mut().handle_commit(result, now_ms);
    }

    fn handle_timeout(&self, now_ms: u64) {
        self.job.borrow_mut().handle_timeout(now_ms);
    }

    fn cancel(&self, now_ms: u64) {
        self.job.borrow_mut().cancel(now_ms);
    }

    fn guid(&self) -> Option<String> {
        self.job.borrow().guid().map(str::to_owned)
    }

    fn phase(&self) -> Phase {
        match self.job.borrow().phase() {
            core::Phase::Starting => Phase::Starting,
            core::Phase::Waiting => Phase::Waiting,
            core::Phase::Downloading => Phase::Downloading,
            core::Phase::Saving => Phase::Saving,
            core::Phase::Finished => Phase::Finished,
        }
    }

    fn is_receiving(&self) -> bool {
        self.job.borrow().is_receiving()
    }

    fn is_finished(&self) -> bool {
        self.job.borrow().is_finished()
    }

    fn outcome(&self) -> Option<Outcome> {
        self.job.borrow().outcome().cloned().map(outcome_to_wit)
    }
}

/// SHA-256 and shape of a body, as the native driver computes them while it streams.
pub struct ProbeResource {
    state: RefCell<(Sha256, ShapeProbe)>,
}

impl GuestBodyProbe for ProbeResource {
    fn new() -> Self {
        ProbeResource { state: RefCell::new((Sha256::new(), ShapeProbe::new())) }
    }

    fn update(&self, chunk: Vec<u8>) {
        let mut state = self.state.borrow_mut();
        state.0.update(&chunk);
        state.1.update(&chunk);
    }

    fn bytes_seen(&self) -> u64 {
        self.state.borrow().1.bytes_seen()
    }

    fn finish(&self) -> ReceivedBody {
        let (sha, probe) = &*self.state.borrow();
        let digest = sha.clone().finalize();
        let sha256 = digest.iter().map(|b| format!("{b:02x}")).collect();
        ReceivedBody { size: probe.bytes_seen(), sha256, shape: shape_to_wit(probe.verdict()) }
    }
}

impl Guest for Component {
    type BackupJob = JobResource;
    type BodyProbe = ProbeResource;

    fn default_limits() -> DownloadLimits {
        limits_to_wit(&CoreLimits::default())
    }

    fn authorize(credentials: Credentials) -> Result<Authorization, Error> {
        let c = self::credentials(credentials)?;
        Ok(Authorization { header: c.authorization(), secrets: c.secrets() })
    }

    fn check_transport(env_url: String, credentials: Credentials, allow_insecure_http: bool) -> Result<(), Error> {
        let env = EnvUrl::parse(&env_url).map_err(error)?;
        check_transport(&env, &self::credentials(credentials)?, allow_insecure_http).map_err(error)
    }

    fn redact(text: String, secrets: Vec<String>) -> String {
        redact(&text, &secrets)
    }
}
