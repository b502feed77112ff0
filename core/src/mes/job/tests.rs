//! State-machine tests: no server, no clock, only events in and actions out.

use super::*;

const G1: &str = "00000000-0000-4000-8000-000000000001";
const G2: &str = "00000000-0000-4000-8000-000000000002";

fn env() -> EnvUrl {
    EnvUrl::parse("https://mes.example/mes/").unwrap()
}

fn fast_policy() -> PollPolicy {
    PollPolicy { min_delay_ms: 10, max_delay_ms: 1_000, timeout_ms: 60_000, ..PollPolicy::default() }
}

fn backup_job(budget: u32) -> Job {
    let spec = JobSpec { policy: fast_policy(), restart_budget: budget, ..JobSpec::backup(env(), "MESCDM") };
    prepared(Job::new(spec, 0).unwrap())
}

/// The folder check a job asks for before its first request, answered "fine".
fn prepared(mut job: Job) -> Job {
    expect_prepare(&mut job);
    job
}

fn expect_prepare(job: &mut Job) {
    assert_eq!(job.poll_action(), Some(Action::Prepare));
    job.handle_prepare(Ok(()), 0);
}

fn zip_body(size: u64) -> ReceivedBody {
    ReceivedBody { size, sha256: "ab".repeat(32), shape: Shape::Zip }
}

fn expect_send(job: &mut Job, method: Method) -> String {
    match job.poll_action() {
        Some(Action::Send(r)) => {
            assert_eq!(r.method, method);
            r.url
        }
        other => panic!("expected {method:?}, got {other:?}"),
    }
}

fn expect_read_body(job: &mut Job) {
    assert!(matches!(job.poll_action(), Some(Action::ReadBody { .. })));
}

fn expect_sleep(job: &mut Job) -> u64 {
    match job.poll_action() {
        Some(Action::Sleep { until_ms }) => until_ms,
        other => panic!("expected sleep, got {other:?}"),
    }
}

/// POST answered 202 with `guid`; returns the time the first GET is due.
fn accept(job: &mut Job, guid: &str, now: u64) -> u64 {
    expect_send(job, Method::Post);
    job.handle_response(ResponseHead::new(202), now);
    expect_read_body(job);
    job.handle_body(guid.as_bytes(), now);
    expect_sleep(job)
}

fn answer_get(job: &mut Job, status: u16, now: u64) {
    expect_send(job, Method::Get);
    job.handle_response(ResponseHead::new(status), now);
    if status != 200 {
        expect_read_body(job);
        job.handle_body(b"", now);
    }
}

fn failed_kind(job: &Job) -> Option<ErrorKind> {
    match job.outcome() {
        Some(Outcome::Failed(e)) => Some(e.kind),
        _ => None,
    }
}

#[test]
fn happy_path_post_poll_receive_commit() {
    let mut job = backup_job(0);
    let t = accept(&mut job, G1, 100);
    assert_eq!(job.guid(), Some(G1));
    job.handle_timeout(t);
    answer_get(&mut job, 202, t);
    let t2 = expect_sleep(&mut job);
    assert!(t2 > t);
    job.handle_timeout(t2);
    expect_send(&mut job, Method::Get);
    let head = ResponseHead::new(200)
        .with_header("Content-Disposition", "attachment; filename=\"MESCDM_2026.zip\"")
        .with_header("Content-Length", "1000");
    job.handle_response(head, t2 + 1);
    match job.poll_action() {
        Some(Action::Receive { file_name, expected_len, .. }) => {
            assert_eq!(file_name, "MESCDM_2026.zip");
            assert_eq!(expected_len, Some(1000));
        }
        other => panic!("{other:?}"),
    }
    job.handle_progress(500, t2 + 2);
    job.handle_received(Ok(zip_body(1000)), t2 + 3);
    let sidecar = match job.poll_action() {
        Some(Action::Commit { file_name, overwrite: false, sidecar }) => {
            assert_eq!(file_name, "MESCDM_2026.zip");
            sidecar
        }
        other => panic!("{other:?}"),
    };
    assert_eq!(sidecar.guid, G1);
    assert_eq!(sidecar.environment_url, "https://mes.example/mes");
    assert!(sidecar.started_at.is_some() && sidecar.ready_at.is_some());
    job.handle_commit(Ok("/out/MESCDM_2026.zip".into()), t2 + 4);
    assert!(job.is_finished());
    match job.outcome() {
        Some(Outcome::Saved(p)) => {
            assert_eq!(p.size, 1000);
            assert_eq!(p.started_at_ms, Some(100));
            assert_eq!(p.ready_at_ms, Some(t2 + 1));
            assert_eq!(p.finished_at_ms, t2 + 4);
        }
        other => panic!("{other:?}"),
    }
    let events: Vec<JobEvent> = std::iter::from_fn(|| job.poll_event()).collect();
    assert!(matches!(events.first(), Some(JobEvent::Started { .. })));
    assert!(matches!(events.last(), Some(JobEvent::Saved { .. })));
}

#[test]
fn urls_are_joined_under_the_prefix() {
    let mut job = backup_job(0);
    assert_eq!(expect_send(&mut job, Method::Post), "https://mes.example/mes/environment/clickhouse/backup/MESCDM");
}

#[test]
fn lost_stream_without_budget_fails_and_discards() {
    let mut job = backup_job(0);
    let t = accept(&mut job, G1, 0);
    job.handle_timeout(t);
    answer_get(&mut job, 200, t);
    assert!(matches!(job.poll_action(), Some(Action::Receive { .. })));
    job.handle_received(
        Err(ReceiveFailure::Transport(TransportError { phase: TransportPhase::Body, detail: "reset".into() })),
        t + 5,
    );
    assert_eq!(job.poll_action(), Some(Action::Discard { keep_as: None }));
    assert_eq!(failed_kind(&job), Some(ErrorKind::DownloadLost));
    match job.outcome() {
        Some(Outcome::Failed(e)) => assert_eq!(e.guid.as_deref(), Some(G1)),
        _ => unreachable!(),
    }
}

#[test]
fn lost_stream_within_budget_posts_again_once() {
    let mut job = backup_job(1);
    let t = accept(&mut job, G1, 0);
    job.handle_timeout(t);
    answer_get(&mut job, 200, t);
    job.poll_action();
    job.handle_received(
        Err(ReceiveFailure::Transport(TransportError { phase: TransportPhase::Body, detail: "x".into() })),
        t,
    );
    assert_eq!(job.poll_action(), Some(Action::Discard { keep_as: None }));
    // A new POST: a new backup, because the first one is gone; the folder is checked again first.
    expect_prepare(&mut job);
    let t = accept(&mut job, G2, t + 1);
    assert_eq!(job.guid(), Some(G2));
    job.handle_timeout(t);
    answer_get(&mut job, 200, t);
    job.poll_action();
    job.handle_received(
        Err(ReceiveFailure::Transport(TransportError { phase: TransportPhase::Body, detail: "x".into() })),
        t,
    );
    job.poll_action();
    // Budget spent: no third POST.
    assert_eq!(failed_kind(&job), Some(ErrorKind::DownloadLost));
    assert_eq!(job.poll_action(), None);
    assert_eq!(job.restarts_used(), 1);
}

#[test]
fn post_sent_without_answer_is_never_retried() {
    let mut job = backup_job(5);
    expect_send(&mut job, Method::Post);
    job.handle_transport_error(TransportError { phase: TransportPhase::Response, detail: "reset".into() }, 0);
    assert_eq!(failed_kind(&job), Some(ErrorKind::Network));
    assert_eq!(job.poll_action(), None);
}

#[test]
fn post_not_sent_is_retried_then_gives_up() {
    let mut job = backup_job(0);
    let max = job.spec().policy.max_consecutive_failures;
    let mut now = 0;
    for _ in 0..max {
        expect_send(&mut job, Method::Post);
        job.handle_transport_error(TransportError { phase: TransportPhase::Connect, detail: "refused".into() }, now);
        now = expect_sleep(&mut job);
        job.handle_timeout(now);
    }
    expect_send(&mut job, Method::Post);
    job.handle_transport_error(TransportError { phase: TransportPhase::Connect, detail: "refused".into() }, now);
    assert_eq!(failed_kind(&job), Some(ErrorKind::Network));
}

#[test]
fn a_guid_left_in_a_backup_spec_is_not_this_jobs_guid() {
    for mode in [Mode::Backup, Mode::StartOnly] {
        let spec = JobSpec { mode, guid: Some(G2.into()), policy: fast_policy(), ..JobSpec::backup(env(), "MESCDM") };
        let mut job = Job::new(spec, 0).unwrap();
        if mode == Mode::Backup {
            expect_prepare(&mut job); // a start-only job writes nothing, so checks no folder
        }
        assert_eq!(job.guid(), None);
        expect_send(&mut job, Method::Post);
        job.handle_transport_error(TransportError { phase: TransportPhase::Connect, detail: "refused".into() }, 0);
        let retrying = std::iter::from_fn(|| job.poll_event()).find(|e| matches!(e, JobEvent::Retrying { .. }));
        assert!(matches!(retrying, Some(JobEvent::Retrying { guid: None, .. })), "{retrying:?}");
        job.cancel(1);
        let Some(Outcome::Failed(e)) = job.outcome() else { panic!("not failed: {:?}", job.outcome()) };
        assert_eq!((e.kind, e.guid.as_deref()), (ErrorKind::Cancelled, None));
    }
}

#[test]
fn busy_post_is_retried() {
    let mut job = backup_job(0);
    expect_send(&mut job, Method::Post);
    job.handle_response(ResponseHead::new(503).with_header("Retry-After", "2"), 0);
    expect_read_body(&mut job);
    job.handle_body(b"", 0);
    assert!(expect_sleep(&mut job) >= 2_000.min(fast_policy().max_delay_ms));
}

#[test]
fn deadline_gives_timeout_with_guid() {
    let mut job = backup_job(0);
    let mut t = accept(&mut job, G1, 0);
    let mut gets = 0;
    loop {
        job.handle_timeout(t);
        answer_get(&mut job, 204, t);
        gets += 1;
        if let Some(Outcome::Failed(e)) = job.outcome() {
            assert_eq!(e.kind, ErrorKind::Timeout);
            assert_eq!(e.guid.as_deref(), Some(G1));
            assert!(e.message.contains(G1));
            break;
        }
        t = expect_sleep(&mut job);
        assert!(t <= 60_000, "never sleeps past the deadline");
    }
    assert!(gets > 5 && gets < 200, "{gets}");
}

#[test]
fn get_400_after_a_failed_get_is_a_lost_download() {
    let mut job = backup_job(0);
    let t = accept(&mut job, G1, 0);
    job.handle_timeout(t);
    expect_send(&mut job, Method::Get);
    job.handle_transport_error(TransportError { phase: TransportPhase::Response, detail: "reset".into() }, t);
    let t = expect_sleep(&mut job);
    job.handle_timeout(t);
    answer_get(&mut job, 400, t);
    assert_eq!(failed_kind(&job), Some(ErrorKind::DownloadLost));
}

#[test]
fn plain_get_400_is_backup_not_found() {
    let spec = JobSpec { policy: fast_policy(), ..JobSpec::download(env(), G1) };
    let mut job = prepared(Job::new(spec, 0).unwrap());
    answer_get(&mut job, 400, 0);
    assert_eq!(failed_kind(&job), Some(ErrorKind::BackupNotFound));
}

#[test]
fn download_if_ready_sends_exactly_one_get() {
    let spec = JobSpec { policy: fast_policy(), ..JobSpec::new(Mode::DownloadIfReady, env()) };
    let spec = JobSpec { guid: Some(G1.into()), ..spec };
    let mut job = prepared(Job::new(spec.clone(), 0).unwrap());
    answer_get(&mut job, 202, 0);
    assert_eq!(job.outcome(), Some(&Outcome::Pending { guid: G1.into() }));
    assert_eq!(job.poll_action(), None);

    let mut job = prepared(Job::new(spec, 0).unwrap());
    expect_send(&mut job, Method::Get);
    job.handle_transport_error(TransportError { phase: TransportPhase::Connect, detail: "refused".into() }, 0);
    assert_eq!(failed_kind(&job), Some(ErrorKind::Network));
    assert_eq!(job.poll_action(), None);
}

#[test]
fn not_a_zip_is_kept_under_a_diagnostic_name() {
    let mut job = backup_job(3);
    let t = accept(&mut job, G1, 0);
    job.handle_timeout(t);
    answer_get(&mut job, 200, t);
    job.poll_action();
    job.handle_received(
        Ok(ReceivedBody {
            size: 50,
            sha256: String::new(),
            shape: Shape::NotZip { looks_like: "an HTML page".into() },
        }),
        t,
    );
    assert_eq!(job.poll_action(), Some(Action::Discard { keep_as: Some(format!("{G1}.not-a-package.html")) }));
    assert_eq!(failed_kind(&job), Some(ErrorKind::UnexpectedResponse));
}

#[test]
fn short_body_against_content_length_is_lost() {
    let mut job = backup_job(0);
    let t = accept(&mut job, G1, 0);
    job.handle_timeout(t);
    expect_send(&mut job, Method::Get);
    job.handle_response(ResponseHead::new(200).with_header("content-length", "100"), t);
    job.poll_action();
    job.handle_received(Ok(zip_body(99)), t);
    assert_eq!(failed_kind(&job), Some(ErrorKind::DownloadLost));
}

#[test]
fn name_clash_picks_another_name_and_never_overwrites() {
    let mut job = backup_job(0);
    let t = accept(&mut job, G1, 0);
    job.handle_timeout(t);
    answer_get(&mut job, 200, t);
    job.poll_action();
    job.handle_received(Ok(zip_body(10)), t);
    assert!(matches!(job.poll_action(), Some(Action::Commit { .. })));
    job.handle_commit(Err(CommitFailure::Exists), t);
    match job.poll_action() {
        Some(Action::Commit { file_name, overwrite: false, sidecar }) => {
            assert_eq!(file_name, "MESCDM.00000000.zip");
            assert_eq!(sidecar.file_name, file_name);
        }
        other => panic!("{other:?}"),
    }
    job.handle_commit(Ok("x".into()), t);
    match job.outcome() {
        Some(Outcome::Saved(p)) => assert!(p.notes.iter().any(|n| n.contains("already exists")), "{:?}", p.notes),
        other => panic!("{other:?}"),
    }
}

#[test]
fn cancel_while_waiting_keeps_guid_and_while_receiving_discards() {
    let mut job = backup_job(0);
    let t = accept(&mut job, G1, 0);
    job.cancel(t);
    assert_eq!(failed_kind(&job), Some(ErrorKind::Cancelled));
    match job.outcome() {
        Some(Outcome::Failed(e)) => assert!(e.message.contains(G1) && e.guid.as_deref() == Some(G1)),
        _ => unreachable!(),
    }
    assert_eq!(job.poll_action(), None);

    let mut job = backup_job(0);
    let t = accept(&mut job, G1, 0);
    job.handle_timeout(t);
    answer_get(&mut job, 200, t);
    job.poll_action();
    job.cancel(t);
    assert_eq!(job.poll_action(), Some(Action::Discard { keep_as: None }));
    assert_eq!(failed_kind(&job), Some(ErrorKind::Cancelled));
}

#[test]
fn cancel_during_commit_does_not_throw_a_package_away() {
    let mut job = backup_job(0);
    let t = accept(&mut job, G1, 0);
    job.handle_timeout(t);
    answer_get(&mut job, 200, t);
    job.poll_action();
    job.handle_received(Ok(zip_body(10)), t);
    job.cancel(t);
    assert!(matches!(job.poll_action(), Some(Action::Commit { .. })));
}

#[test]
fn start_only_finishes_with_the_guid() {
    let spec = JobSpec { database: Some("MES".into()), ..JobSpec::new(Mode::StartOnly, env()) };
    let mut job = Job::new(spec, 0).unwrap();
    expect_send(&mut job, Method::Post);
    job.handle_response(ResponseHead::new(202), 0);
    expect_read_body(&mut job);
    job.handle_body(format!("\"{G1}\"").as_bytes(), 0);
    assert_eq!(job.outcome(), Some(&Outcome::Started { guid: G1.into(), database: "MES".into() }));
    assert!(job.is_finished());
}

#[test]
fn job_round_trips_through_serde_mid_wait() {
    let mut job = backup_job(1);
    let t = accept(&mut job, G1, 0);
    let saved = serde_json::to_string(&job).unwrap();
    let mut restored: Job = serde_json::from_str(&saved).unwrap();
    assert_eq!(restored, job);
    restored.handle_timeout(t);
    assert!(matches!(restored.poll_action(), Some(Action::Send(Request { method: Method::Get, .. }))));
    let resume = job.resume_spec().unwrap();
    assert_eq!(resume.mode, Mode::Download);
    assert_eq!(resume.guid.as_deref(), Some(G1));
}

#[test]
fn bad_specs_are_rejected() {
    assert!(Job::new(JobSpec::new(Mode::Download, env()), 0).is_err());
    assert!(Job::new(JobSpec::new(Mode::Backup, env()), 0).is_err());
    let spec = JobSpec { file_name: Some("../x.zip".into()), ..JobSpec::backup(env(), "MES") };
    assert_eq!(Job::new(spec, 0).unwrap_err().kind, ErrorKind::InvalidArgument);
    let spec = JobSpec::backup(env(), "MES/../x");
    assert_eq!(Job::new(spec, 0).unwrap_err().kind, ErrorKind::InvalidArgument);
    let spec = JobSpec { sql_backup_finished_at: Some("yesterday".into()), ..JobSpec::backup(env(), "MES") };
    assert_eq!(Job::new(spec, 0).unwrap_err().kind, ErrorKind::InvalidArgument);
}

#[test]
fn the_sql_backup_time_reaches_the_sidecar_normalised() {
    let spec = JobSpec {
        policy: fast_policy(),
        sql_backup_finished_at: Some("2026-11-25T10:40:00+01:00".into()),
        ..JobSpec::backup(env(), "MESCDM")
    };
    let mut job = prepared(Job::new(spec, 0).unwrap());
    let t = accept(&mut job, G1, 0);
    job.handle_timeout(t);
    answer_get(&mut job, 200, t);
    job.poll_action();
    job.handle_received(Ok(zip_body(10)), t);
    match job.poll_action() {
        Some(Action::Commit { sidecar, .. }) => {
            assert_eq!(sidecar.sql_backup_finished_at.as_deref(), Some("2026-11-25T09:40:00.000Z"))
        }
        other => panic!("{other:?}"),
    }
}

// ---- the folder check before the step that cannot be undone ------------------------------------

#[test]
fn a_folder_that_cannot_take_a_package_fails_before_the_post() {
    let spec = JobSpec { policy: fast_policy(), ..JobSpec::backup(env(), "MESCDM") };
    let mut job = Job::new(spec, 0).unwrap();
    assert_eq!(job.phase(), Phase::Starting);
    assert_eq!(job.poll_action(), Some(Action::Prepare));
    job.handle_prepare(Err(Error::io("/out is on a read-only file system")), 0);
    assert_eq!(job.poll_action(), None, "no request at all");
    match job.outcome() {
        Some(Outcome::Failed(e)) => {
            assert_eq!(e.kind, ErrorKind::Io);
            assert!(e.message.contains("read-only") && e.message.contains("Nothing was sent"), "{}", e.message);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_download_into_a_bad_folder_sends_no_get_and_says_how_to_resume() {
    let spec = JobSpec { policy: fast_policy(), ..JobSpec::download(env(), G1) };
    let mut job = Job::new(spec, 0).unwrap();
    assert_eq!(job.poll_action(), Some(Action::Prepare));
    job.handle_prepare(Err(Error::io("permission denied")), 0);
    assert_eq!(job.poll_action(), None);
    match job.outcome() {
        Some(Outcome::Failed(e)) => {
            assert_eq!(e.kind, ErrorKind::Io);
            assert_eq!(e.guid.as_deref(), Some(G1));
            assert!(e.message.contains(&format!("mesbackup download {G1}")), "{}", e.message);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn cancel_during_the_folder_check_sends_nothing() {
    let mut job = Job::new(JobSpec::backup(env(), "MESCDM"), 0).unwrap();
    assert_eq!(job.poll_action(), Some(Action::Prepare));
    job.cancel(0);
    assert_eq!(failed_kind(&job), Some(ErrorKind::Cancelled));
    assert_eq!(job.poll_action(), None);
}

// ---- bounded downloads --------------------------------------------------------------------------

fn limited_job(budget: u32, limits: DownloadLimits, stall_ms: u64) -> Job {
    let policy = PollPolicy { stall_timeout_ms: stall_ms, ..fast_policy() };
    let spec = JobSpec { policy, restart_budget: budget, download_limits: limits, ..JobSpec::backup(env(), "MESCDM") };
    prepared(Job::new(spec, 0).unwrap())
}

/// Accepts the POST and answers the first GET 200 with `content_length`; returns the time.
fn receiving(job: &mut Job, content_length: Option<u64>) -> u64 {
    let t = accept(job, G1, 0);
    job.handle_timeout(t);
    expect_send(job, Method::Get);
    let mut head = ResponseHead::new(200);
    if let Some(n) = content_length {
        head = head.with_header("Content-Length", &n.to_string());
    }
    job.handle_response(head, t);
    t
}

fn lost_message(job: &Job) -> String {
    match job.outcome() {
        Some(Outcome::Failed(e)) if e.kind == ErrorKind::DownloadLost => e.message.clone(),
        other => panic!("expected download_lost, got {other:?}"),
    }
}

#[test]
fn a_drip_under_the_low_speed_limit_is_abandoned_by_the_timer() {
    let limits = DownloadLimits { speed_limit: 1024, speed_time_ms: 8_000, ..DownloadLimits::default() };
    let mut job = limited_job(0, limits, 60_000);
    let t = receiving(&mut job, Some(1_000_000));
    assert!(matches!(job.poll_action(), Some(Action::Receive { .. })));
    assert!(job.is_receiving());
    let mut now = t;
    let mut bytes = 0;
    while job.is_receiving() {
        let deadline = job.poll_timeout().expect("a receiving job has a deadline");
        assert!(deadline > now);
        // One byte per second, and the timer when it is due.
        if deadline <= now + 1_000 {
            now = deadline;
            job.handle_timeout(now);
        } else {
            now += 1_000;
            bytes += 1;
            job.handle_progress(bytes, now);
        }
        assert!(now < t + 20_000, "never abandoned");
    }
    assert!(now >= t + 8_000);
    assert_eq!(job.poll_action(), Some(Action::Discard { keep_as: None }));
    let m = lost_message(&job);
    assert!(m.contains("--speed-limit/--speed-time") && m.contains("this backup is gone"), "{m}");
}

#[test]
fn the_overall_download_timeout_abandons_even_a_fast_download() {
    let limits = DownloadLimits { download_timeout_ms: Some(5_000), ..DownloadLimits::default() };
    let mut job = limited_job(0, limits, 60_000);
    let t = receiving(&mut job, None);
    job.poll_action();
    assert!(job.poll_timeout().is_some_and(|d| d <= t + 5_000), "the timer covers the overall timeout");
    job.handle_progress(10_000_000, t + 4_999);
    assert!(job.is_receiving());
    job.handle_timeout(t + 5_000);
    assert!(!job.is_receiving());
    assert!(lost_message(&job).contains("--download-timeout"));
}

#[test]
fn a_stall_is_now_the_jobs_own_rule() {
    let mut job = limited_job(0, DownloadLimits { speed_limit: 0, ..DownloadLimits::default() }, 2_000);
    let t = receiving(&mut job, None);
    job.poll_action();
    job.handle_progress(100, t + 500);
    assert_eq!(job.poll_timeout(), Some(t + 2_500));
    job.handle_timeout(t + 2_499);
    assert!(job.is_receiving(), "not yet");
    job.handle_timeout(t + 2_500);
    assert!(lost_message(&job).contains("no data arrived for 2 s after 100 bytes"));
}

#[test]
fn a_content_length_over_the_cap_is_refused_before_anything_is_opened() {
    let limits = DownloadLimits { max_size: 1_000, ..DownloadLimits::default() };
    let mut job = limited_job(1, limits, 60_000);
    receiving(&mut job, Some(1_001));
    // No Receive, nothing to discard: the answer is dropped unread. The budget applies as to any loss.
    expect_prepare(&mut job);
    expect_send(&mut job, Method::Post);
    let events: Vec<JobEvent> = std::iter::from_fn(|| job.poll_event()).collect();
    let restart = events.iter().find_map(|e| match e {
        JobEvent::Restarting { reason, .. } => Some(reason.clone()),
        _ => None,
    });
    assert!(restart.is_some_and(|r| r.contains("--max-size") && r.contains("before any byte")), "{events:?}");
}

#[test]
fn a_body_without_length_is_abandoned_once_past_the_cap() {
    let limits = DownloadLimits { max_size: 1_000, ..DownloadLimits::default() };
    let mut job = limited_job(0, limits, 60_000);
    let t = receiving(&mut job, None);
    assert!(matches!(job.poll_action(), Some(Action::Receive { expected_len: None, .. })));
    job.handle_progress(1_000, t + 1);
    assert!(job.is_receiving());
    job.handle_progress(1_500, t + 2);
    assert!(!job.is_receiving());
    assert_eq!(job.poll_action(), Some(Action::Discard { keep_as: None }));
    assert!(lost_message(&job).contains("--max-size"));
}

#[test]
fn a_job_receiving_survives_serde_with_its_guard() {
    let limits = DownloadLimits { speed_limit: 10, speed_time_ms: 1_000, ..DownloadLimits::default() };
    let mut job = limited_job(0, limits, 60_000);
    let t = receiving(&mut job, None);
    job.poll_action();
    job.handle_progress(5, t + 10);
    let restored: Job = serde_json::from_str(&serde_json::to_string(&job).unwrap()).unwrap();
    assert_eq!(restored, job);
    assert_eq!(restored.poll_timeout(), job.poll_timeout());
}

// ---- answers that cannot be read -----------------------------------------------------------------

#[test]
fn an_unreadable_answer_to_the_post_is_not_resent() {
    let mut job = backup_job(3);
    expect_send(&mut job, Method::Post);
    job.handle_transport_error(
        TransportError { phase: TransportPhase::Malformed, detail: "message head is too large".into() },
        0,
    );
    assert_eq!(failed_kind(&job), Some(ErrorKind::UnexpectedResponse));
    assert_eq!(job.poll_action(), None);
}

#[test]
fn an_unreadable_answer_to_a_get_is_not_retried_and_keeps_the_guid() {
    let mut job = backup_job(3);
    let t = accept(&mut job, G1, 0);
    job.handle_timeout(t);
    expect_send(&mut job, Method::Get);
    job.handle_transport_error(
        TransportError { phase: TransportPhase::Malformed, detail: "message head is too large".into() },
        t,
    );
    assert_eq!(job.poll_action(), None, "no retry, no new backup");
    match job.outcome() {
        Some(Outcome::Failed(e)) => {
            assert_eq!(e.kind, ErrorKind::UnexpectedResponse);
            assert_eq!(e.guid.as_deref(), Some(G1));
            assert!(e.message.contains("message head is too large") && e.message.contains(G1), "{}", e.message);
        }
        other => panic!("{other:?}"),
    }
}

// ---- names and commits ---------------------------------------------------------------------------

#[test]
fn a_long_name_gives_up_the_end_of_its_stem_for_the_clash_tag() {
    let stem = "ü".repeat(98); // 196 bytes
    let name = format!("{stem}.zip");
    assert_eq!(name.len(), MAX_FILE_NAME_BYTES);
    let other = alternative_name(&name, G1, 1);
    assert!(other.len() <= MAX_FILE_NAME_BYTES, "{}", other.len());
    assert_eq!(other, format!("{}.00000000.zip", "ü".repeat(93)));
    assert!(is_safe_file_name(&other));
    let third = alternative_name(&name, G1, 3);
    assert!(third.ends_with(".00000000-3.zip") && third.len() <= MAX_FILE_NAME_BYTES);
    // A name whose "extension" is most of it keeps its start instead.
    let odd = format!("a.{}", "b".repeat(190));
    let other = alternative_name(&odd, G1, 1);
    assert!(other.starts_with("a.bbb") && other.ends_with(".00000000") && other.len() <= MAX_FILE_NAME_BYTES);
    assert_eq!(alternative_name("MESCDM.zip", G1, 1), "MESCDM.00000000.zip");
}

proptest::proptest! {
    #[test]
    fn clash_names_of_safe_names_are_safe_and_fit(name in "[a-zA-Z0-9äöü€ _.-]{1,200}", attempt in 1u32..5) {
        proptest::prop_assume!(is_safe_file_name(&name));
        let other = alternative_name(&name, G1, attempt);
        proptest::prop_assert!(other.len() <= MAX_FILE_NAME_BYTES, "{} bytes", other.len());
        proptest::prop_assert!(is_safe_file_name(&other), "{other:?}");
        proptest::prop_assert!(other != name);
    }
}

/// A job whose package is complete and whose first commit is about to be answered.
fn committing() -> (Job, u64) {
    let mut job = backup_job(0);
    let t = accept(&mut job, G1, 0);
    job.handle_timeout(t);
    answer_get(&mut job, 200, t);
    job.poll_action();
    job.handle_received(Ok(zip_body(10)), t);
    assert!(matches!(job.poll_action(), Some(Action::Commit { .. })));
    (job, t)
}

#[test]
fn a_failed_commit_keeps_the_complete_package_as_guid_zip() {
    let (mut job, t) = committing();
    job.handle_commit(Err(CommitFailure::Sink(Error::io("File name too long"))), t);
    match job.poll_action() {
        Some(Action::Commit { file_name, overwrite: false, sidecar }) => {
            assert_eq!(file_name, format!("{G1}.zip"));
            assert_eq!(sidecar.file_name, file_name);
        }
        other => panic!("{other:?}"),
    }
    job.handle_commit(Ok(format!("/out/{G1}.zip")), t + 1);
    match job.outcome() {
        Some(Outcome::Failed(e)) => {
            assert_eq!(e.kind, ErrorKind::Io);
            assert!(
                e.message.contains("File name too long") && e.message.contains(&format!("kept as /out/{G1}.zip")),
                "{}",
                e.message
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(job.poll_action(), None, "nothing discarded");
}

#[test]
fn only_when_keeping_it_fails_too_is_the_package_removed() {
    let (mut job, t) = committing();
    job.handle_commit(Err(CommitFailure::Sink(Error::io("Input/output error"))), t);
    job.poll_action();
    job.handle_commit(Err(CommitFailure::Exists), t + 1);
    assert_eq!(job.poll_action(), Some(Action::Discard { keep_as: None }));
    match job.outcome() {
        Some(Outcome::Failed(e)) => {
            assert_eq!(e.kind, ErrorKind::Io);
            assert!(e.message.contains("was removed"), "{}", e.message);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn clashes_beyond_the_alternatives_end_in_the_rescue_name_too() {
    let (mut job, t) = committing();
    for _ in 1..MAX_COMMIT_ATTEMPTS {
        job.handle_commit(Err(CommitFailure::Exists), t);
        assert!(matches!(job.poll_action(), Some(Action::Commit { .. })));
    }
    job.handle_commit(Err(CommitFailure::Exists), t);
    match job.poll_action() {
        Some(Action::Commit { file_name, .. }) => assert_eq!(file_name, format!("{G1}.zip")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_driver_that_reports_out_of_order_ends_the_job_as_an_internal_failure() {
    // A body end while the POST is still out: a bug in the driver, in release builds too.
    let mut job = backup_job(0);
    expect_send(&mut job, Method::Post);
    job.handle_received(Ok(zip_body(10)), 5);
    assert_eq!(failed_kind(&job), Some(ErrorKind::Internal));
    let Some(Outcome::Failed(e)) = job.outcome() else { panic!("{:?}", job.outcome()) };
    assert!(e.message.contains("handle_received") && e.message.contains("starting the backup"), "{}", e.message);
    assert_eq!(job.poll_action(), None, "nothing else is done after a misuse");

    // A commit result while waiting; then a late response to the finished job changes nothing.
    let mut job = backup_job(0);
    let due = accept(&mut job, G1, 0);
    assert!(due > 0);
    job.handle_commit(Ok("/x/MESCDM.zip".into()), 1);
    assert_eq!(failed_kind(&job), Some(ErrorKind::Internal));
    let before = job.outcome().cloned();
    job.handle_response(ResponseHead::new(200), 2);
    assert_eq!(job.outcome().cloned(), before, "a finished job keeps its answer");
    assert_eq!(ErrorKind::Internal.exit_code(), 1);
}

#[test]
fn a_misuse_while_receiving_discards_the_temporary_file() {
    let mut job = backup_job(0);
    let due = accept(&mut job, G1, 0);
    job.handle_timeout(due);
    expect_send(&mut job, Method::Get);
    job.handle_response(ResponseHead::new(200), due + 1);
    assert!(matches!(job.poll_action(), Some(Action::Receive { .. })));
    job.handle_prepare(Ok(()), due + 2);
    assert_eq!(failed_kind(&job), Some(ErrorKind::Internal));
    assert_eq!(job.poll_action(), Some(Action::Discard { keep_as: None }));
}
