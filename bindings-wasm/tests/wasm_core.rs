//! The core and the shared driver's wasm32 glue, compiled to WebAssembly and run under Node by
//! wasm-bindgen-test-runner:
//! CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner cargo test --target wasm32-unknown-unknown -p mesbackup-wasm
#![cfg(target_arch = "wasm32")]

use mesbackup_client::clock::Clock;
use mesbackup_client::clock::WasmClock;
use mesbackup_core::mes::is_safe_file_name;
use mesbackup_core::mes::Credentials;
use mesbackup_core::mes::EnvUrl;
use mesbackup_core::mes::PollPolicy;
use mesbackup_core::mes::ResponseHead;
use mesbackup_core::mes::{Action, Job, JobSpec, Method};
use mesbackup_core::naming::{
    installer_package_name, parse_package_name, system_databases, DatabaseKind, NearMissReason,
};
use mesbackup_core::ErrorKind;
use wasm_bindgen_test::*;

#[wasm_bindgen_test]
fn installer_names_and_near_misses() {
    assert_eq!(
        installer_package_name(DatabaseKind::Cdm, "11.3.0", Some("MES")).unwrap(),
        "MES.Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip"
    );
    assert_eq!(parse_package_name("Cmf.ClickHouse.FullBackup.Online.11.3.0.zip").unwrap().kind, DatabaseKind::Online);
    let miss = parse_package_name("Cmf.ClickHouse.FullBackup.CDM.11.3.0 (1).zip").unwrap_err();
    assert_eq!(miss.reason, NearMissReason::ExtraSuffix);
    assert_eq!(miss.expected.as_deref(), Some("Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip"));
    let dbs: Vec<String> = system_databases("MES").unwrap().iter().map(|(_, d)| d.clone()).collect();
    assert_eq!(dbs, ["MES", "MESCDM", "MESODS", "MESDWH"]);
}

#[wasm_bindgen_test]
fn urls_credentials_and_names() {
    let env = EnvUrl::parse("https://mes.example/api/").unwrap();
    assert_eq!(env.backup_start_url("MESCDM"), "https://mes.example/api/environment/clickhouse/backup/MESCDM");
    assert_eq!(Credentials::bearer("Bearer abc").unwrap().authorization().unwrap(), "Bearer abc");
    assert!(Credentials::basic("jörg", "pässwörd-✓-ü").unwrap().authorization().unwrap().starts_with("Basic "));
    assert!(!is_safe_file_name("../x.zip"));
    assert!(is_safe_file_name("MESCDM.zip"));
}

#[wasm_bindgen_test]
fn job_posts_then_polls_with_retry_after() {
    let env = EnvUrl::parse("http://127.0.0.1:1").unwrap();
    let mut spec = JobSpec::backup(env, "MESCDM");
    spec.policy = PollPolicy { min_delay_ms: 10, ..PollPolicy::default() };
    let mut job = Job::new(spec, 1_000).unwrap();
    assert_eq!(job.poll_action(), Some(Action::Prepare), "the folder is checked before the POST");
    job.handle_prepare(Ok(()), 1_000);
    let Some(Action::Send(req)) = job.poll_action() else { panic!("expected a POST") };
    assert_eq!(req.method, Method::Post);
    job.handle_response(ResponseHead { status: 202, headers: vec![] }, 1_010);
    if let Some(Action::ReadBody { .. }) = job.poll_action() {
        job.handle_body(b"00000000-0000-4000-8000-000000000001", 1_020);
    }
    let mut saw_get = false;
    for _ in 0..4 {
        match job.poll_action() {
            Some(Action::Send(r)) => {
                assert_eq!(r.method, Method::Get);
                saw_get = true;
                job.handle_response(ResponseHead { status: 401, headers: vec![] }, 1_030);
            }
            Some(Action::Sleep { until_ms }) => job.handle_timeout(until_ms),
            Some(Action::ReadBody { .. }) => job.handle_body(b"", 1_040),
            _ => break,
        }
    }
    assert!(saw_get);
    assert_eq!(job.guid(), Some("00000000-0000-4000-8000-000000000001"));
    let outcome = job.outcome().expect("finished");
    let mesbackup_core::mes::Outcome::Failed(e) = outcome else { panic!("{outcome:?}") };
    assert_eq!(e.kind, ErrorKind::Unauthorized);
}

#[wasm_bindgen_test]
async fn wasm_clock_sleeps_on_set_timeout() {
    let clock = WasmClock;
    let start = clock.now_ms();
    clock.sleep_until(start + 30).await;
    assert!(clock.now_ms() >= start + 30);
}
