//! Backs up the four databases of a demo system from an embedded mock MES into a new folder,
//! using only the library API. (`mesbackup demo` does the same with progress bars and checks.)
//!
//! cargo run -p mesbackup-client --example backup_from_mock [-- OUT_DIR]

use mesbackup_client::clock::TokioClock;
use mesbackup_client::driver::ClientOptions;
use mesbackup_client::file_sink::FileSinkFactory;
use mesbackup_client::system::backup_system;
use mesbackup_client::{CancellationToken, MesClient};
use mesbackup_core::mes::Credentials;
use mesbackup_core::mes::EnvUrl;
use mesbackup_core::mes::PollPolicy;
use mesbackup_core::mes::{JobEvent, Outcome};

#[tokio::main]
async fn main() {
    let out = std::env::args().nth(1).unwrap_or_else(|| "mesbackup-example".into());
    std::fs::create_dir_all(&out).expect("create the output folder");

    let mock = mock_mes::MockMes::start("127.0.0.1:0".parse().unwrap()).await.expect("start the mock MES");
    mock.set_scenario(serde_json::json!({"system": "DEMO", "pending_polls": 3, "payload": {"size": 4 << 20}}))
        .expect("scenario");
    println!("mock MES at {}", mock.base_url());

    let env = EnvUrl::parse(&mock.base_url()).unwrap();
    let policy = PollPolicy { min_delay_ms: 200, ..PollPolicy::default() };
    let client = MesClient::new(
        env,
        Credentials::bearer("admin-token").unwrap(),
        ClientOptions { policy, ..Default::default() },
    )
    .expect("client");
    let on_event = |db: &str, e: &JobEvent| match e {
        JobEvent::Started { guid, .. } => println!("{db:>8}: started {guid}"),
        JobEvent::Pending { polls, .. } => println!("{db:>8}: still being prepared (poll {polls})"),
        JobEvent::Saved { package } => {
            println!("{db:>8}: saved {} ({} bytes, sha256 {})", package.location, package.size, package.sha256)
        }
        JobEvent::Failed { error } => println!("{db:>8}: failed: {error}"),
        _ => {}
    };
    let outcomes = backup_system(
        &client,
        "DEMO",
        &FileSinkFactory::new(&out),
        &TokioClock,
        &CancellationToken::new(),
        |_, _| {},
        &on_event,
    )
    .await
    .expect("valid system name");
    let failed = outcomes.iter().filter(|(_, o)| matches!(o, Outcome::Failed(_))).count();
    println!("{} of 4 databases saved in {out}/", 4 - failed);
    std::process::exit(if failed == 0 { 0 } else { 1 });
}
