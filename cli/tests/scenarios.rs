//! Runs every tests/scenarios/*.json through the real `mesbackup` binary against an in-process
//! mock-mes: one process per step, credentials in environment variables, `--json` output. The exit
//! code and the events decide the outcome; the checks are the shared ones of scenario-runner. Each
//! scenario's events are also validated against cli/events.schema.json, and no credential may
//! appear in any output.

mod common;

use std::path::Path;

use mesbackup_core::ErrorKind;
use scenario_runner::{resolve_guid, run_all_scenarios, run_steps, verdict, Failed, Scenario, Step, StepResult};

fn main() {
    // One scenario at a time: some use deadlines of a few hundred milliseconds, and the machines
    // that run the suite have two cores (peak memory is measured per child, so it is not the reason).
    run_all_scenarios(run_scenario, false)
}

fn run_scenario(scenario: &Scenario) -> Result<(), Failed> {
    let mut all_events = Vec::new();
    let mut problems = run_steps(scenario, |step, env, previous_guid, out| {
        let (result, events, problems) = run_step(step, env, previous_guid, out);
        all_events.extend(events);
        (result, problems)
    })?;
    if let Err(e) = common::validate_events(&all_events) {
        problems.push(e);
    }
    verdict(scenario, problems)
}

fn ms(v: u64) -> String {
    format!("{v}ms")
}

fn run_step(
    step: &Step,
    env: &str,
    previous_guid: Option<&str>,
    out: &Path,
) -> (StepResult, Vec<serde_json::Value>, Vec<String>) {
    let mut cmd = common::command();
    let o = &step.options;
    let guid = resolve_guid(step.guid.as_deref(), previous_guid);
    match step.op.as_str() {
        "backup" => {
            cmd.arg("backup").arg(step.database.as_deref().unwrap_or(""));
        }
        "backup_system" => {
            cmd.args(["backup", "--system", step.system.as_deref().unwrap_or("MES")]);
        }
        "start" => {
            cmd.arg("start").arg(step.database.as_deref().unwrap_or(""));
        }
        "download" => {
            cmd.arg("download").arg(guid.as_deref().unwrap_or(""));
        }
        "download_if_ready" => {
            cmd.args(["download", "--no-wait"]).arg(guid.as_deref().unwrap_or(""));
        }
        other => return (StepResult { outcome: format!("unknown op {other}"), ..Default::default() }, vec![], vec![]),
    }
    cmd.arg("--json").arg("--env").arg(env);
    if step.op != "start" {
        cmd.arg("--out").arg(out);
    }
    let min = o.min_poll_ms.unwrap_or(10);
    cmd.arg("--min-poll-delay").arg(ms(min));
    cmd.arg("--retry-delay").arg(ms(min));
    cmd.arg("--max-poll-delay").arg(ms(o.max_poll_ms.unwrap_or(200).max(min)));
    cmd.arg("--timeout").arg(ms(o.timeout_ms.unwrap_or(30_000)));
    cmd.arg("--stall-timeout").arg(ms(o.stall_timeout_ms.unwrap_or(10_000)));
    cmd.arg("--request-timeout").arg(ms(10_000));
    cmd.arg("--restart-budget").arg(o.restart_budget.unwrap_or(0).to_string());
    if let Some(n) = o.speed_limit {
        cmd.arg("--speed-limit").arg(n.to_string());
    }
    if let Some(t) = o.speed_time_ms {
        cmd.arg("--speed-time").arg(ms(t));
    }
    if let Some(t) = o.download_timeout_ms {
        cmd.arg("--download-timeout").arg(ms(t));
    }
    if let Some(n) = o.max_size {
        cmd.arg("--max-size").arg(n.to_string());
    }
    if let Some(name) = &o.file_name {
        cmd.arg("--file-name").arg(name);
    }
    if o.overwrite {
        cmd.arg("--overwrite");
    }
    let mut secrets = Vec::new();
    match (&step.auth.token, &step.auth.user, &step.auth.pat) {
        (Some(t), _, _) => {
            cmd.env("MES_TOKEN", t);
            secrets.push(t.clone());
        }
        (None, Some(u), Some(p)) => {
            cmd.env("MES_USER", u).env("MES_PAT", p);
            secrets.push(p.clone());
        }
        _ => {
            cmd.arg("--no-auth");
        }
    }

    let run = common::run(cmd);
    let mut problems = Vec::new();
    let secret_refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
    if let Err(e) = common::assert_no_secret(&run, &secret_refs) {
        problems.push(e);
    }
    let summary = run.events.iter().rev().find(|e| e["event"] == "summary");
    let failed = run.events.iter().rev().find(|e| e["event"] == "failed");
    let outcome = match run.code {
        0 => "ok".to_owned(),
        75 => "pending".to_owned(),
        code => match failed.and_then(|f| f["error"]["kind"].as_str()) {
            Some(kind) => {
                let expected = ErrorKind::from_code(kind).map(|k| k.exit_code());
                if expected != Some(code) {
                    problems.push(format!("exit code {code} does not match the failed event's kind {kind}"));
                }
                kind.to_owned()
            }
            None => format!("exit code {code} without a failed event; stderr: {}", run.stderr),
        },
    };
    // The GUID: the first failed result's, else the first result's; or the failed event's.
    let results = summary.and_then(|s| s["results"].as_array()).cloned().unwrap_or_default();
    let chosen = results.iter().find(|r| r["outcome"] == "failed").or(results.first());
    let guid = chosen
        .and_then(|r| r["guid"].as_str())
        .or_else(|| failed.and_then(|f| f["error"]["guid"].as_str()))
        .map(str::to_owned);
    let message = failed
        .and_then(|f| f["error"]["message"].as_str())
        .map(str::to_owned)
        .or_else(|| (!run.stderr.is_empty()).then(|| run.stderr.clone()));
    if summary.is_none() && failed.is_none() {
        problems.push(format!("neither a summary nor a failed event; stdout: {} stderr: {}", run.stdout, run.stderr));
    }
    let result = StepResult { outcome, guid, message, rss_growth_mib: Some(run.max_rss_kib / 1024) };
    (result, run.events, problems)
}
