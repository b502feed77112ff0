//! Polling simulation on a virtual clock: the real `Job` state machine from mesbackup-core, fed by a
//! simulated server whose backup becomes ready after a given duration. No sockets, no sleeping: a
//! four-hour job runs in microseconds, which is the point of the sans-IO core.
//!
//! For each duration it prints the GETs sent and the detection lag (time from "ready on the server"
//! to the GET that fetched it), for mesbackup's default policy (worst case over many jitter seeds)
//! and for the naive fixed 5-second loop admins write by hand.
//! Targets: lag <= max(1 s, 10 % of the duration); at most 100 GETs for a 4-hour job.

use mesbackup_core::mes::EnvUrl;
use mesbackup_core::mes::PollPolicy;
use mesbackup_core::mes::ResponseHead;
use mesbackup_core::mes::Shape;
use mesbackup_core::mes::{Action, Job, JobSpec, Method, Outcome, ReceivedBody};

struct Run {
    gets: u32,
    lag_ms: u64,
    /// The lag target for this run's actual duration: max(1 s, 10 %).
    target_ms: u64,
}

/// Runs one job against a server that is ready `duration_ms` after the POST.
fn simulate(policy: &PollPolicy, duration_ms: u64, seed: u64) -> Run {
    let env = EnvUrl::parse("https://mes.example").unwrap();
    let spec = JobSpec { policy: policy.clone(), jitter_seed: seed, ..JobSpec::backup(env, "MES") };
    let start = 1_000_000u64;
    let mut now = start;
    let mut job = Job::new(spec, now).unwrap();
    let mut gets = 0;
    let mut lag_ms = 0;
    let mut last_status = 0u16;
    while let Some(action) = job.poll_action() {
        match action {
            Action::Prepare => job.handle_prepare(Ok(()), now),
            Action::Send(r) if r.method == Method::Post => {
                last_status = 202;
                job.handle_response(ResponseHead::new(202), now);
            }
            Action::Send(_) => {
                gets += 1;
                if now >= start + duration_ms {
                    lag_ms = now - (start + duration_ms);
                    job.handle_response(ResponseHead::new(200).with_header("content-length", "10"), now);
                } else {
                    last_status = 202;
                    job.handle_response(ResponseHead::new(202), now);
                }
            }
            Action::ReadBody { .. } => {
                let body: &[u8] =
                    if last_status == 202 && gets == 0 { b"00000000-0000-4000-8000-000000000001" } else { b"" };
                job.handle_body(body, now);
            }
            Action::Receive { .. } => {
                job.handle_received(Ok(ReceivedBody { size: 10, sha256: String::new(), shape: Shape::Zip }), now)
            }
            Action::Commit { .. } => job.handle_commit(Ok("x".into()), now),
            Action::Discard { .. } => {}
            Action::Sleep { until_ms } => {
                now = now.max(until_ms);
                job.handle_timeout(now);
            }
        }
    }
    match job.outcome() {
        Some(Outcome::Saved(_)) => Run { gets, lag_ms, target_ms: (duration_ms / 10).max(1_000) },
        other => panic!("simulation of {duration_ms} ms did not save: {other:?}"),
    }
}

fn human(ms: u64) -> String {
    if ms >= 3_600_000 {
        format!("{:.1} h", ms as f64 / 3_600_000.0)
    } else if ms >= 60_000 {
        format!("{:.1} min", ms as f64 / 60_000.0)
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

fn main() {
    let ours = PollPolicy::default();
    let naive = PollPolicy { min_delay_ms: 5_000, max_delay_ms: 5_000, jitter: 0.0, ..PollPolicy::default() };
    let durations = [10_000u64, 60_000, 600_000, 3_600_000, 4 * 3_600_000];
    let seeds: u64 = 200;
    println!("Polling simulation (virtual clock, real core Job; worst case over {seeds} jitter seeds and job ends spread over 5 s)");
    println!();
    println!("| job duration (+0-5 s) | mesbackup GETs | mesbackup max lag | lag target | naive 5 s GETs | naive 5 s lag | GETs ratio (naive/ours) | within target |");
    println!("|---|---|---|---|---|---|---|---|");
    let mut all_ok = true;
    for d in durations {
        // The job's real end is not aligned with anyone's polling grid: sweep it over 5 s.
        let offset = |s: u64| (s * 997) % 5_000;
        let runs: Vec<Run> = (0..seeds).map(|s| simulate(&ours, d + offset(s), s)).collect();
        let gets = runs.iter().map(|r| r.gets).max().unwrap();
        let lag = runs.iter().map(|r| r.lag_ms).max().unwrap();
        let target = (d / 10).max(1_000);
        let naive_runs: Vec<Run> = (0..seeds).map(|s| simulate(&naive, d + offset(s), 0)).collect();
        let n = Run {
            gets: naive_runs.iter().map(|r| r.gets).max().unwrap(),
            lag_ms: naive_runs.iter().map(|r| r.lag_ms).max().unwrap(),
            target_ms: 0,
        };
        let ok = runs.iter().all(|r| r.lag_ms <= r.target_ms) && (d < 4 * 3_600_000 || gets <= 100);
        all_ok &= ok;
        println!(
            "| {} | {} | {} | {} | {} | {} | {:.1}x | {} |",
            human(d),
            gets,
            human(lag),
            human(target),
            n.gets,
            human(n.lag_ms),
            n.gets as f64 / gets as f64,
            if ok { "yes" } else { "NO" }
        );
    }
    println!();
    println!(
        "targets: lag <= max(1 s, 10 % of duration); <= 100 GETs for a 4 h job: {}",
        if all_ok { "met" } else { "MISSED" }
    );
    if !all_ok {
        std::process::exit(1);
    }
}
