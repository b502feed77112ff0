//! Runs every scenario file through `mesbackup-client` (the library every native front end uses)
//! against an in-process `mock-mes`. One test per file, named after it.

use std::path::Path;

use mesbackup_client::clock::TokioClock;
use mesbackup_client::driver::ClientOptions;
use mesbackup_client::file_sink::FileSinkFactory;
use mesbackup_client::system::backup_system;
use mesbackup_client::{CancellationToken, MesClient};
use mesbackup_core::mes::Credentials;
use mesbackup_core::mes::DownloadLimits;
use mesbackup_core::mes::EnvUrl;
use mesbackup_core::mes::PollPolicy;
use mesbackup_core::mes::{Mode, Outcome};
use scenario_runner::{
    peak_rss, resolve_guid, run_all_scenarios, run_steps, verdict, Failed, Scenario, Step, StepResult,
};

fn main() {
    // Memory is measured per step as the process's peak: steps must never overlap.
    run_all_scenarios(run_scenario, true)
}

fn run_scenario(scenario: &Scenario) -> Result<(), Failed> {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let problems = run_steps(scenario, |step, env, previous_guid, out| {
        (rt.block_on(run_step(step, env, previous_guid, out)), Vec::new())
    })?;
    verdict(scenario, problems)
}

fn credentials(step: &Step) -> Credentials {
    match (&step.auth.token, &step.auth.user, &step.auth.pat) {
        (Some(t), _, _) => Credentials::bearer(t).expect("scenario token"),
        (None, Some(u), Some(p)) => Credentials::basic(u, p).expect("scenario user"),
        _ => Credentials::None,
    }
}

fn policy(step: &Step) -> PollPolicy {
    let o = &step.options;
    let d = PollPolicy::default();
    let min = o.min_poll_ms.unwrap_or(10);
    PollPolicy {
        min_delay_ms: min,
        max_delay_ms: o.max_poll_ms.unwrap_or(200).max(min),
        retry_base_ms: min,
        timeout_ms: o.timeout_ms.unwrap_or(30_000),
        stall_timeout_ms: o.stall_timeout_ms.unwrap_or(10_000),
        request_timeout_ms: 10_000,
        ..d
    }
}

fn download_limits(step: &Step) -> DownloadLimits {
    let o = &step.options;
    let d = DownloadLimits::default();
    DownloadLimits {
        speed_limit: o.speed_limit.unwrap_or(d.speed_limit),
        speed_time_ms: o.speed_time_ms.unwrap_or(d.speed_time_ms),
        download_timeout_ms: o.download_timeout_ms.or(d.download_timeout_ms),
        max_size: o.max_size.unwrap_or(d.max_size),
    }
}

async fn run_step(step: &Step, env: &str, previous_guid: Option<&str>, out: &Path) -> StepResult {
    let env = match EnvUrl::parse(env) {
        Ok(e) => e,
        Err(e) => return failed(e),
    };
    let options = ClientOptions {
        policy: policy(step),
        restart_budget: step.options.restart_budget.unwrap_or(0),
        download_limits: download_limits(step),
        ..ClientOptions::default()
    };
    let client = match MesClient::new(env, credentials(step), options) {
        Ok(c) => c,
        Err(e) => return failed(e),
    };
    let sinks = FileSinkFactory::new(out);
    let clock = TokioClock;
    let cancel = CancellationToken::new();
    let guid = resolve_guid(step.guid.as_deref(), previous_guid);

    let rss_before = peak_rss::reset().then(peak_rss::read_kib).flatten();
    let mut result = if step.op == "backup_system" {
        let system = step.system.as_deref().unwrap_or("MES");
        match backup_system(&client, system, &sinks, &clock, &cancel, |_, _| {}, &|_: &str, _: &_| {}).await {
            Err(e) => failed(e),
            // The first failure decides the step's outcome; all four must succeed for "ok".
            Ok(outcomes) => outcomes
                .into_iter()
                .map(|(_, o)| to_result(o))
                .find(|r| r.outcome != "ok")
                .unwrap_or(StepResult { outcome: "ok".into(), ..StepResult::default() }),
        }
    } else {
        let mode = match step.op.as_str() {
            "backup" => Mode::Backup,
            "start" => Mode::StartOnly,
            "download" => Mode::Download,
            "download_if_ready" => Mode::DownloadIfReady,
            other => return StepResult { outcome: format!("unknown op {other}"), ..StepResult::default() },
        };
        let mut spec = client.spec(mode, step.database.as_deref(), guid.as_deref());
        spec.jitter_seed = 42;
        spec.file_name = step.options.file_name.clone();
        spec.overwrite = step.options.overwrite;
        to_result(client.run(spec, &sinks, &clock, &cancel, &|_| {}).await)
    };
    if let (Some(before), Some(after)) = (rss_before, peak_rss::read_kib()) {
        result.rss_growth_mib = Some(after.saturating_sub(before) / 1024);
    }
    result
}

fn failed(e: mesbackup_core::Error) -> StepResult {
    StepResult { outcome: e.kind.code().into(), guid: e.guid.clone(), message: Some(e.message), rss_growth_mib: None }
}

fn to_result(outcome: Outcome) -> StepResult {
    match outcome {
        Outcome::Saved(p) => StepResult { outcome: "ok".into(), guid: Some(p.guid), ..StepResult::default() },
        Outcome::Started { guid, .. } => StepResult { outcome: "ok".into(), guid: Some(guid), ..StepResult::default() },
        Outcome::Pending { guid } => {
            StepResult { outcome: "pending".into(), guid: Some(guid), ..StepResult::default() }
        }
        Outcome::Failed(e) => failed(e),
    }
}
