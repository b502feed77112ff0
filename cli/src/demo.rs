//! `mesbackup demo`: the whole flow against the mock MES, in this process, on loopback.

use std::path::PathBuf;

use mesbackup_client::clock::{Clock, TokioClock};
use mesbackup_client::driver::ClientOptions;
use mesbackup_client::file_sink::FileSinkFactory;
use mesbackup_client::folder;
use mesbackup_client::system::backup_system;
use mesbackup_client::{CancellationToken, MesClient};
use mesbackup_core::mes::format_rfc3339_millis;
use mesbackup_core::mes::Credentials;
use mesbackup_core::mes::EnvUrl;
use mesbackup_core::mes::PollPolicy;
use mesbackup_core::mes::{JobEvent, JobSpec};
use mesbackup_core::naming::{installer_package_name, parse_database_name};
use mesbackup_core::Error;
use serde_json::json;

use crate::events::CliEvent;
use crate::jobs::{report, JobResult};
use crate::output::Ui;
use crate::{DemoArgs, EXIT_INCOMPLETE};

const SYSTEM: &str = "MES";
const VERSION: &str = "11.3.0";

fn default_dir(clock: &TokioClock) -> PathBuf {
    // 2026-11-25T14:09:38.123Z -> 20261125-140938
    let stamp: String = format_rfc3339_millis(clock.now_ms())[..19]
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == 'T')
        .map(|c| if c == 'T' { '-' } else { c })
        .collect();
    PathBuf::from(format!("mesbackup-demo-{stamp}"))
}

pub async fn run(ui: &Ui, args: DemoArgs) -> Result<u8, Error> {
    let modes = args.modes.modes()?;
    let clock = TokioClock;
    let out = args.out.clone().unwrap_or_else(|| default_dir(&clock));
    match std::fs::read_dir(&out) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(Error::invalid_argument(format!(
                    "{} exists and is not empty: the demo only writes into a new or empty folder",
                    out.display()
                )));
            }
        }
        Err(_) => mesbackup_client::private_files::create_dir_all_with_mode(&out, modes.dir)
            .map_err(|e| Error::io(format!("cannot create {}: {e}", out.display())))?,
    }
    if args.size_mib == 0 || args.size_mib > 4000 {
        return Err(Error::invalid_argument("--size-mib must be between 1 and 4000"));
    }

    let mock = mock_mes::MockMes::start("127.0.0.1:0".parse().expect("literal"))
        .await
        .map_err(|e| Error::network(format!("cannot start the demo server on 127.0.0.1: {e}")))?;
    mock.set_scenario(json!({
        "system": SYSTEM,
        "pending_ms": args.pending,
        "pending_status": 202,
        "payload": {"size": args.size_mib * 1024 * 1024, "seed": 1},
    }))
    .map_err(|e| Error::invalid_argument(format!("demo scenario: {e}")))?;
    let env = EnvUrl::parse(&mock.base_url())?;

    if ui.is_json() {
        ui.emit(&CliEvent::Demo {
            server: env.as_str().to_owned(),
            folder: out.display().to_string(),
            system: SYSTEM.to_owned(),
            version: VERSION.to_owned(),
        });
    } else {
        ui.info(&format!(
            "mesbackup demo: a mock MES is running inside this process at {} (loopback only, nothing leaves this machine).\n\
             Backing up the four ClickHouse databases of system {SYSTEM} concurrently into {}/,\n\
             saved under the MES {VERSION} installer names. Each backup takes the mock about {} to prepare.\n",
            env.as_str(),
            out.display(),
            crate::output::human_ms(args.pending)
        ));
    }

    let policy =
        PollPolicy { min_delay_ms: 500, max_delay_ms: 2_000, timeout_ms: 10 * 60_000, ..PollPolicy::default() };
    let options = ClientOptions { policy, ..ClientOptions::default() };
    let client = MesClient::new(env, Credentials::bearer("admin-token")?, options)?;
    let sinks = FileSinkFactory::new(&out).with_modes(modes);
    let cancel = CancellationToken::new();
    crate::stop_signals::cancel_on_stop_signals(&cancel, ui.is_json());
    let databases = mesbackup_core::naming::system_databases(SYSTEM)?;
    for (_, db) in &databases {
        ui.job_line(db, "starting…");
    }
    let name_of = |db: &str, spec: &mut JobSpec| {
        spec.file_name = parse_database_name(db, Some(SYSTEM))
            .ok()
            .and_then(|(_, kind)| installer_package_name(kind, VERSION, None).ok());
    };
    let on_event = |db: &str, e: &JobEvent| ui.job_event(db, Some(db), e);
    let results: Vec<JobResult> = backup_system(&client, SYSTEM, &sinks, &clock, &cancel, name_of, &on_event)
        .await?
        .into_iter()
        .map(|(db, outcome)| JobResult { key: db.clone(), database: Some(db), outcome })
        .collect();
    drop(mock);
    ui.clear_bars();
    ui.info("");
    let code = report(ui, &results, false);
    if code != 0 {
        return Ok(code);
    }

    let folder_report = folder::check_folder(&out, SYSTEM, VERSION)?;
    let sidecars = folder::read_sidecars(&out)?;
    let window = mesbackup_core::mes::backup_window(sidecars.values());
    if ui.is_json() {
        crate::folder_cmds::folder_report_event(ui, &out, &folder_report);
        ui.emit(&crate::package_cmds::window_event(&out, &sidecars));
    } else {
        ui.result("");
        ui.result(&format!(
            "Installer check (mesbackup check-folder {} --system {SYSTEM} --version {VERSION}):",
            shell_word(&out.display().to_string())
        ));
        for k in &folder_report.kinds {
            match &k.chosen {
                Some(f) => ui.result(&format!("  {:<7} ✔ restores from {f}", k.kind.to_string())),
                None => ui.result(&format!("  {:<7} ✘ missing", k.kind.to_string())),
            }
        }
        ui.result("");
        // Only the folder is quoted: the shell must still expand the pattern.
        let folder = shell_word(&out.display().to_string());
        ui.result(&format!("Verify (mesbackup verify {folder}{}*.zip):", std::path::MAIN_SEPARATOR));
    }
    // Every package read back and checked: zip CRCs, the ClickHouse manifest, part checksums, and
    // the SHA-256 recorded in its sidecar while downloading.
    let packages: Vec<PathBuf> =
        folder_report.kinds.iter().filter_map(|k| k.chosen.as_ref()).map(|f| out.join(f)).collect();
    let verify_code = crate::package_cmds::verify(ui, &packages)?;
    if !ui.is_json() {
        if let Some(w) = &window {
            ui.result("");
            ui.result(&format!("Backup window (from the sidecars): {} to {}", w.started_at, w.finished_at));
            ui.result(
                "  After a restore, re-run MES data processing over this window for messages that were in flight.",
            );
        }
        ui.result("");
        ui.result("Next: against your MES, with a SysAdministrators user and a personal access token:");
        for line in next_steps() {
            ui.result(&line);
        }
        ui.result("The mock server has stopped; nothing is left running.");
    }
    if verify_code != 0 {
        return Ok(verify_code);
    }
    Ok(if folder_report.complete() { 0 } else { EXIT_INCOMPLETE })
}

/// The first commands against a real MES, in the shell this platform's administrators use.
fn next_steps() -> [String; 2] {
    if cfg!(windows) {
        [
            "  $env:MES_URL = 'https://your-mes'; $env:MES_USER = 'you'; $env:MES_PAT = Read-Host -MaskInput 'PAT'"
                .to_owned(),
            format!("  mesbackup backup --system {SYSTEM} --version {VERSION} --out D:\\Backups"),
        ]
    } else {
        [
            "  export MES_URL=https://your-mes MES_USER=you; read -rs MES_PAT; export MES_PAT   # never on the command line"
                .to_owned(),
            format!("  mesbackup backup --system {SYSTEM} --version {VERSION} --out /path/to/packages"),
        ]
    }
}

/// A path as one word of a command line to copy: quoted when it holds a space (a folder under
/// "C:\\Users\\Jane Doe" or a demo folder named with one).
fn shell_word(path: &str) -> String {
    if path.contains(char::is_whitespace) {
        format!("\"{path}\"")
    } else {
        path.to_owned()
    }
}
