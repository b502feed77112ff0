//! `mesbackup`: back up the ClickHouse databases of a Critical Manufacturing MES through its Web API.
//!
//! A thin layer over `mesbackup-client` (the driver) and `mesbackup-core` (every protocol, polling and
//! naming decision): this crate parses arguments, gathers credentials, shows progress and maps
//! outcomes to exit codes.

mod config;
mod credential_cmd;
mod demo;
mod events;
mod folder_cmds;
mod jobs;
mod output;
mod package_cmds;
mod restore_cmd;
mod run_cmd;
mod stop_signals;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand};
use mesbackup_core::{Error, ErrorKind};

use crate::config::{parse_duration, ConnOpts, FileModeArgs};
use crate::output::Ui;

/// Exit status when `download --no-wait` finds the backup still being prepared (EX_TEMPFAIL).
pub const EXIT_PENDING: u8 = 75;
/// Exit status when `check-folder` finds that the installer would not restore all four databases.
pub const EXIT_INCOMPLETE: u8 = 20;
/// Exit status for an internal error (a bug): never used for a server or user problem.
pub const EXIT_INTERNAL: u8 = 1;

const AFTER_HELP: &str = "\
Credentials (never as a command-line value, which every user could read in `ps`), the first found:
  --token-file FILE                   a file holding the bearer token
  MES_TOKEN=<bearer token>            a session token copied from the MES GUI
  MES_USER=<user> MES_PAT=<token>     a personal access token (HTTP Basic), for automation
  otherwise, on a terminal, a prompt that does not echo; --no-auth for a test server.
A token and a PAT from the same place are refused, not picked from.
The MES address: --env URL or MES_URL. Credentials over plain http:// are refused unless
--allow-insecure-http (http://localhost and 127.0.0.1 are allowed).

Exit codes (stable; the same kinds appear as \"kind\" in --json errors):
    0  success
    1  internal error (a bug: please report it)
    2  invalid_argument      a bad option, URL, database name or version
    3  unauthorized          the token or PAT was rejected (401)
    4  forbidden             the user lacks the SysAdministrators role (403)
    5  invalid_database      the MES does not know that database (POST 400)
    6  backup_not_found      unknown GUID, or already downloaded (GET 400)
    7  server_error          the MES reported a failure (5xx)
    8  unexpected_response   an answer that is not a backup (e.g. an HTML error page)
    9  timeout               still being prepared at the deadline: resume with its GUID
   10  download_lost         the one-shot download broke; the server deleted the file
   11  integrity             a package is damaged or does not match its sidecar
   12  io                    local file problem (disk full, permission, name taken)
   13  network               the MES could not be reached
   20  check-folder: the installer would not restore all four databases
   21  run: a hook failed
   22  credential test: the entry is not in the OS credential store
   75  download --no-wait: the backup is still being prepared (try again later);
       run: another run holds an output folder (on_locked = \"exit\")
  130  cancelled (Ctrl-C, SIGTERM, SIGHUP; Windows: Ctrl-Break, console closed): the GUID
       is printed so the job can be resumed; nothing half-written is left

Start with `mesbackup demo`: a complete backup against a built-in mock MES, no setup needed.";

#[derive(Parser)]
#[command(
    name = "mesbackup",
    version = env!("MESBACKUP_VERSION_LINE"),
    about = "Back up the ClickHouse databases of a Critical Manufacturing MES through its Web API",
    long_about = "Back up the ClickHouse databases of a Critical Manufacturing MES through its asynchronous Web API: \
                  start the backup, wait for it, download the one-shot package safely (temporary file, SHA-256, \
                  atomic rename, sidecar with the backup window), and stage it under the names the MES installer \
                  looks for.",
    after_help = AFTER_HELP,
    propagate_version = false
)]
struct Cli {
    /// Write NDJSON events to stdout (one object per line with an "event" field; schema:
    /// cli/events.schema.json) instead of human output.
    #[arg(long, global = true)]
    json: bool,
    /// Plain lines instead of progress bars, even on a terminal.
    #[arg(long, global = true)]
    no_progress: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Back up databases: start, wait, download each package into --out, print where it landed.
    #[command(after_help = "Examples:
  MES_URL=https://mes.example.com MES_USER=admin MES_PAT=... mesbackup backup --system MES --out /backups
  mesbackup backup MESCDM MESODS --out /backups
  mesbackup backup --system MES --version 11.3.0 --out /packages")]
    Backup(BackupArgs),
    /// Start backups only and print their GUIDs (download them later with `download`).
    #[command(after_help = "Example:
  guid=$(mesbackup start MESCDM) && ... && mesbackup download \"$guid\" --out /backups")]
    Start(StartArgs),
    /// Wait for and download backups started earlier, by GUID.
    #[command(after_help = "Every GET of a finished backup is its one-shot download: there is no separate status
request. With --no-wait exactly one GET is sent: exit code 75 if the backup is still being prepared,
otherwise the package is saved.")]
    Download(DownloadArgs),
    /// Print the four installer package names of a system and version.
    Names(NamesArgs),
    /// Predict which package the MES installer would restore from a custom packages folder.
    #[command(name = "check-folder")]
    CheckFolder(CheckFolderArgs),
    /// Copy (or move) packages into the installer's custom packages folder under the right names.
    Stage(StageArgs),
    /// Delete old backups by their sidecar times: keep the newest N per database, and daily, weekly,
    /// monthly generations (dry run unless --yes).
    Prune(PruneArgs),
    /// Check packages in one pass: zip CRCs, the ClickHouse manifest's sizes and checksums, each part's
    /// checksums.txt, and the SHA-256 recorded in the sidecar beside the package, if any.
    #[command(
        after_help = "Exit code 0 only when every package verifies; 11 (integrity) when one is damaged or does not
match its sidecar, naming the file; 12 (io) when one cannot be read.
Example:
  mesbackup verify /backups/*.zip"
    )]
    Verify(VerifyArgs),
    /// Show what a package holds: databases, tables (engine, parts, rows, bytes), and the storage
    /// policies and disks the target needs at restore; verifies it in the same pass.
    #[command(
        after_help = "Exit code 11 (integrity) when the package fails verification (the contents are still shown)."
    )]
    Inspect(InspectArgs),
    /// Restore a package into a ClickHouse server: verify, plan against the target's storage policies,
    /// disks and databases, RESTORE ... ASYNC, follow system.backups, compare row counts.
    #[command(after_help = "Credentials for ClickHouse: CLICKHOUSE_USER and CLICKHOUSE_PASSWORD (environment only).
Exit code 2 (invalid_argument) when the plan finds a problem (missing storage policy or disk, non-empty
target database, name clash): nothing is run. 11 (integrity) when the package is damaged or row counts differ.
Examples:
  mesbackup restore MESCDM.zip --clickhouse http://localhost:8123 --as MESCDM_check --dry-run
  mesbackup restore MESCDM.zip --clickhouse http://localhost:8123 --as MESCDM_check --server-backup-path /var/lib/clickhouse/backups")]
    Restore(RestoreArgs),
    /// Prove packages restore: verify, restore each into a throwaway database (<prefix><db>), compare
    /// every table's row count with the package, drop it; one result per package.
    #[command(
        name = "test-restore",
        after_help = "Credentials for ClickHouse: CLICKHOUSE_USER and CLICKHOUSE_PASSWORD (environment only).
Exit code 0 only when every package verifies, restores and matches its row counts.
Example:
  mesbackup test-restore /backups/*.zip --clickhouse http://localhost:8123 --server-backup-path /var/lib/clickhouse/backups"
    )]
    TestRestore(TestRestoreArgs),
    /// Back up every environment of a config file, unattended: before hooks, backups, verify, stage,
    /// retention, after/on_error hooks; a summary and the worst outcome as exit code.
    #[command(after_help = "The config file (every key: docs/config.md):
  [[environment]]
  name = \"prod\"
  url = \"https://mes.example.com\"
  system = \"MES\"
  out = \"/var/backups/mes\"
  token_env = \"MES_TOKEN\"

Exit code: 0 when every environment succeeded; else the worst environment's (cancelled, then a lost
or unsound backup, then server/network/timeout, then refused credentials or settings, then a hook,
then stage/retention; docs/config.md): an error kind's code (see mesbackup --help), or 21 when a hook
or the wait_until check failed; 75 when another run holds an
output folder and on_locked = \"exit\"; 2 for a bad config (nothing is sent).
Examples:
  mesbackup run --config /etc/mesbackup/mesbackup.toml --dry-run
  mesbackup run --config /etc/mesbackup/mesbackup.toml --metrics-file /var/lib/node_exporter/mesbackup.prom")]
    Run(RunArgs),
    /// Print the backup window of a folder of packages: earliest start to latest finish over their
    /// sidecars, the range to re-run MES data processing over after a restore.
    Window(WindowArgs),
    /// Store, check or remove the secret a config's `keyring = "service/entry"` names, in the OS
    /// credential store of the account running this command (Windows Credential Manager, macOS
    /// Keychain, Linux kernel keyring).
    #[command(
        after_help = "The secret is a bearer token, or user:pat for a personal access token (HTTP Basic). `set` reads
it from standard input (a prompt without echo on a terminal), never from the command line; nothing
prints it. Each store is per user: run the command as the account that runs the backups.
Exit code of `test`: 0 present, 22 absent.
Examples:
  mesbackup credential set --service mesbackup --entry prod
  printf '%s' \"svc-backup:$PAT\" | mesbackup credential set --service mesbackup --entry prod
  mesbackup credential test --service mesbackup --entry prod --json"
    )]
    Credential {
        #[command(subcommand)]
        action: CredentialCommand,
    },
    /// Run the whole flow against a built-in mock MES on this machine: no setup, no network.
    Demo(DemoArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions { shell: clap_complete::Shell },
}

#[derive(Subcommand)]
enum CredentialCommand {
    /// Store the secret read from standard input (replacing an existing one).
    Set(CredentialArgs),
    /// Remove the entry (nothing to do when it does not exist).
    Delete(CredentialArgs),
    /// Say whether the entry exists (exit code 1 when not), without printing the secret.
    #[command(visible_alias = "check")]
    Test(CredentialArgs),
}

#[derive(Args)]
struct CredentialArgs {
    /// The keyring service (the part before `/` in `keyring = "mesbackup/prod"`).
    #[arg(long, value_name = "SERVICE")]
    service: String,
    /// The entry within the service (the part after the `/`).
    #[arg(long, value_name = "ENTRY")]
    entry: String,
}

#[derive(Args)]
struct BackupArgs {
    /// Databases to back up (e.g. MES MESCDM). Or use --system.
    #[arg(required_unless_present = "system", conflicts_with = "system")]
    databases: Vec<String>,
    /// Back up all four databases of this system concurrently (S, SCDM, SODS, SDWH).
    #[arg(long, value_name = "SYSTEM")]
    system: Option<String>,
    #[command(flatten)]
    save: SaveOpts,
    /// Save each package under the MES installer's name for this MES version (e.g. 11.3.0): the
    /// system-specific name (<System>.Cmf.ClickHouse.FullBackup.<Kind>.<VERSION>.zip), which the
    /// installer prefers, unless --generic-names. The system is --system, or read from the database name.
    #[arg(long = "version", value_name = "VERSION", id = "mes_version")]
    mes_version: Option<String>,
    /// With --version: the generic installer names (Cmf.ClickHouse.FullBackup.<Kind>.<VERSION>.zip)
    /// instead of the system-specific ones.
    #[arg(long, requires = "mes_version")]
    generic_names: bool,
    /// Deprecated (one release): --version alone saves under the installer names. Without
    /// --system-specific it keeps its old meaning, the generic names.
    #[arg(long, requires = "mes_version", hide = true)]
    installer_names: bool,
    /// Deprecated (one release): the system-specific names are the default.
    #[arg(long, requires = "mes_version", conflicts_with = "generic_names", hide = true)]
    system_specific: bool,
    #[command(flatten)]
    conn: ConnOpts,
}

#[derive(Args)]
struct SaveOpts {
    /// Folder to save packages into (created if missing).
    #[arg(long, value_name = "DIR", default_value = ".")]
    out: PathBuf,
    /// Save a single package under this name instead of the server's.
    #[arg(long, value_name = "NAME")]
    file_name: Option<String>,
    /// Replace an existing file of the same name (otherwise another name is chosen).
    #[arg(long)]
    overwrite: bool,
    /// When the SQL Server backups of this environment completed (RFC 3339, e.g. 2026-11-25T09:40:00Z).
    /// Recorded in each sidecar, so `mesbackup window` gives the range to re-run data processing over.
    #[arg(long, value_name = "TIME")]
    sql_backup_finished: Option<String>,
    #[command(flatten)]
    modes: FileModeArgs,
}

#[derive(Args)]
struct StartArgs {
    #[arg(required_unless_present = "system", conflicts_with = "system")]
    databases: Vec<String>,
    /// Start all four databases of this system.
    #[arg(long, value_name = "SYSTEM")]
    system: Option<String>,
    #[command(flatten)]
    conn: ConnOpts,
}

#[derive(Args)]
struct DownloadArgs {
    /// GUIDs printed by `start` (or by a cancelled or timed-out `backup`).
    #[arg(required = true)]
    guids: Vec<String>,
    /// Send exactly one GET: exit 75 if still being prepared, else save the package.
    #[arg(long)]
    no_wait: bool,
    /// The database each backup is of, one per GUID in the same order (repeat the option), recorded
    /// in the sidecar as `backup` records it: retention and `window` group packages by database. The
    /// download never POSTs.
    #[arg(long, value_name = "DATABASE")]
    database: Vec<String>,
    #[command(flatten)]
    save: SaveOpts,
    #[command(flatten)]
    conn: ConnOpts,
}

#[derive(Args)]
struct NamesArgs {
    #[arg(long, value_name = "SYSTEM")]
    system: String,
    #[arg(long = "version", value_name = "VERSION", id = "mes_version")]
    mes_version: String,
}

#[derive(Args)]
#[command(
    after_help = "Exit code 0 when all four databases would be restored and no file is a near miss; 20 otherwise."
)]
struct CheckFolderArgs {
    /// The MES custom installation packages folder.
    dir: PathBuf,
    #[arg(long, value_name = "SYSTEM")]
    system: String,
    #[arg(long = "version", value_name = "VERSION", id = "mes_version")]
    mes_version: String,
}

#[derive(Args)]
struct StageArgs {
    /// Packages saved by `backup` (their sidecars tell which database they hold).
    #[arg(required = true)]
    packages: Vec<PathBuf>,
    /// The MES custom installation packages folder.
    #[arg(long, value_name = "DIR")]
    into: PathBuf,
    #[arg(long, value_name = "SYSTEM")]
    system: String,
    #[arg(long = "version", value_name = "VERSION", id = "mes_version")]
    mes_version: String,
    /// The generic installer names (Cmf.ClickHouse.FullBackup.<Kind>.<VERSION>.zip) instead of the
    /// system-specific ones (<System>.Cmf.…), which the installer prefers.
    #[arg(long)]
    generic_names: bool,
    /// Deprecated (one release): the system-specific names are the default.
    #[arg(long, conflicts_with = "generic_names", hide = true)]
    system_specific: bool,
    /// Move instead of copy.
    #[arg(long = "move")]
    move_: bool,
    /// Replace a file of the same name (otherwise the package is not staged).
    #[arg(long)]
    overwrite: bool,
    /// Deprecated (one release): --overwrite.
    #[arg(long, hide = true)]
    force: bool,
    #[command(flatten)]
    modes: FileModeArgs,
}

#[derive(Args)]
struct RunArgs {
    /// The config file.
    #[arg(long, value_name = "FILE", env = "MESBACKUP_CONFIG", default_value = "mesbackup.toml")]
    config: PathBuf,
    /// Only these environments (by name; repeat or list several).
    #[arg(long, value_name = "NAME", num_args = 1..)]
    only: Vec<String>,
    /// Print the plan (what would be backed up where, which hooks, what retention would delete) and
    /// stop: nothing is sent, nothing deleted.
    #[arg(long)]
    dry_run: bool,
    /// Write Prometheus text-format metrics here when the run ends (atomically, for node_exporter's
    /// textfile collector; name it *.prom).
    #[arg(long, value_name = "PATH")]
    metrics_file: Option<PathBuf>,
}

#[derive(Args)]
#[command(group = clap::ArgGroup::new("policy").required(true).multiple(true))]
struct PruneArgs {
    /// Folder of backups saved by mesbackup (only files with a sidecar are considered).
    dir: PathBuf,
    /// Backups to keep per database, newest first (by the sidecar's finish time).
    #[arg(long, visible_alias = "keep-last", value_name = "N", group = "policy")]
    keep: Option<u32>,
    /// Also keep the newest backup of each of the last N days that have one (UTC).
    #[arg(long, value_name = "N", group = "policy")]
    keep_daily: Option<u32>,
    /// Also keep the newest backup of each of the last N ISO weeks that have one (UTC).
    #[arg(long, value_name = "N", group = "policy")]
    keep_weekly: Option<u32>,
    /// Also keep the newest backup of each of the last N months that have one (UTC).
    #[arg(long, value_name = "N", group = "policy")]
    keep_monthly: Option<u32>,
    /// Actually delete (otherwise only print what would be deleted).
    #[arg(long)]
    yes: bool,
}

#[derive(Args)]
struct VerifyArgs {
    /// Package files (zip). A sidecar <package>.mesbackup.json beside one supplies its expected SHA-256.
    #[arg(required = true, value_name = "PACKAGE")]
    packages: Vec<PathBuf>,
}

#[derive(Args)]
struct InspectArgs {
    /// A package file (zip).
    #[arg(value_name = "PACKAGE")]
    package: PathBuf,
}

#[derive(Args)]
struct RestoreArgs {
    /// A package file (zip).
    #[arg(value_name = "PACKAGE")]
    package: PathBuf,
    #[command(flatten)]
    clickhouse: restore_cmd::ClickHouseArgs,
    /// Restore under this database name.
    #[arg(long = "as", value_name = "NAME")]
    as_name: Option<String>,
    /// Restore every table with this storage policy (RESTORE ... SETTINGS storage_policy=).
    #[arg(long, value_name = "POLICY")]
    storage_policy: Option<String>,
    /// Restore into a database that already exists on the target and is empty (an existing target
    /// is refused otherwise; a restore never drops anything).
    #[arg(long)]
    into_existing: bool,
    /// Print the plan and stop: nothing is extracted or run.
    #[arg(long)]
    dry_run: bool,
    /// A folder the server can read (under its backups.allowed_path), written from this machine.
    #[arg(long, value_name = "DIR")]
    server_backup_path: Option<PathBuf>,
}

#[derive(Args)]
struct TestRestoreArgs {
    /// Package files (zip).
    #[arg(required = true, value_name = "PACKAGE")]
    packages: Vec<PathBuf>,
    #[command(flatten)]
    clickhouse: restore_cmd::ClickHouseArgs,
    /// Prefix of the throwaway database names (<prefix><database>_<random>); never empty.
    #[arg(long, value_name = "PREFIX", default_value = mesbackup_core::restore::DEFAULT_THROWAWAY_PREFIX)]
    prefix: String,
    /// Keep the restored databases instead of dropping them.
    #[arg(long)]
    keep: bool,
    /// Restore every table with this storage policy.
    #[arg(long, value_name = "POLICY")]
    storage_policy: Option<String>,
    /// A folder the server can read (under its backups.allowed_path), written from this machine.
    #[arg(long, value_name = "DIR")]
    server_backup_path: PathBuf,
}

#[derive(Args)]
struct WindowArgs {
    /// Folder of packages saved by mesbackup (their *.mesbackup.json sidecars are read).
    dir: PathBuf,
}

#[derive(Args)]
pub struct DemoArgs {
    /// A new or empty folder for the demo packages (default: ./mesbackup-demo-<timestamp>).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Size of each demo package, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 4)]
    size_mib: u64,
    /// How long the mock MES takes to prepare each backup.
    #[arg(long, value_name = "DURATION", default_value = "3s", value_parser = parse_duration)]
    pending: u64,
    #[command(flatten)]
    modes: FileModeArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let ui = Ui::new(cli.json, cli.no_progress);
    let code = match run(cli.command, &ui) {
        Ok(code) => code,
        Err(e) => {
            ui.error(None, &e);
            exit_code_of(e.kind)
        }
    };
    ExitCode::from(code)
}

pub fn exit_code_of(kind: ErrorKind) -> u8 {
    u8::try_from(kind.exit_code()).unwrap_or(EXIT_INTERNAL)
}

fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::io(format!("cannot start the async runtime: {e}")))
}

fn run(command: Command, ui: &Ui) -> Result<u8, Error> {
    match command {
        Command::Backup(a) => {
            if a.installer_names {
                let keep = if a.system_specific || a.generic_names {
                    ""
                } else {
                    "; add --generic-names for the generic names it chose so far"
                };
                config::warn_deprecated(
                    "--installer-names",
                    &format!("--version alone saves under the installer names, system-specific by default{keep}"),
                );
            }
            if a.system_specific {
                config::warn_deprecated(
                    "--system-specific",
                    "the system-specific names are the default (--generic-names for the others)",
                );
            }
            // The old spelling keeps its old default (generic names) for its last release.
            let generic = a.generic_names || (a.installer_names && !a.system_specific);
            let naming = jobs::Naming {
                installer_names: a.mes_version.is_some(),
                version: a.mes_version,
                system_specific: !generic,
            };
            let targets = jobs::Targets { databases: a.databases, system: a.system };
            let rt = runtime()?;
            rt.block_on(jobs::backup(ui, &a.conn, targets, &a.save.try_into()?, naming))
        }
        Command::Start(a) => {
            let rt = runtime()?;
            rt.block_on(jobs::start(ui, &a.conn, jobs::Targets { databases: a.databases, system: a.system }))
        }
        Command::Download(a) => {
            let rt = runtime()?;
            rt.block_on(jobs::download(ui, &a.conn, a.guids, a.database, &a.save.try_into()?, a.no_wait))
        }
        Command::Names(a) => folder_cmds::names(ui, &a.system, &a.mes_version),
        Command::CheckFolder(a) => folder_cmds::check_folder(ui, &a.dir, &a.system, &a.mes_version),
        Command::Stage(a) => {
            if a.system_specific {
                config::warn_deprecated(
                    "--system-specific",
                    "the system-specific names are the default (--generic-names for the others)",
                );
            }
            if a.force {
                config::warn_deprecated("--force", "use --overwrite");
            }
            folder_cmds::stage(
                ui,
                &a.packages,
                &a.into,
                &a.system,
                &a.mes_version,
                !a.generic_names,
                a.move_,
                a.overwrite || a.force,
                a.modes.modes()?,
            )
        }
        Command::Prune(a) => {
            let policy = mesbackup_core::retention::RetentionPolicy {
                keep_last: a.keep.unwrap_or(0),
                keep_daily: a.keep_daily.unwrap_or(0),
                keep_weekly: a.keep_weekly.unwrap_or(0),
                keep_monthly: a.keep_monthly.unwrap_or(0),
            };
            folder_cmds::prune(ui, &a.dir, policy, a.yes)
        }
        Command::Run(a) => {
            let rt = runtime()?;
            rt.block_on(run_cmd::run(
                ui,
                run_cmd::RunOpts { config: a.config, only: a.only, dry_run: a.dry_run, metrics_file: a.metrics_file },
            ))
        }
        Command::Verify(a) => package_cmds::verify(ui, &a.packages),
        Command::Inspect(a) => package_cmds::inspect(ui, &a.package),
        Command::Restore(a) => {
            a.clickhouse.warn_deprecated();
            let rt = runtime()?;
            rt.block_on(restore_cmd::restore(
                ui,
                restore_cmd::RestoreOpts {
                    package: a.package,
                    clickhouse: a.clickhouse,
                    target_name: a.as_name,
                    storage_policy: a.storage_policy,
                    into_existing: a.into_existing,
                    dry_run: a.dry_run,
                    server_backup_path: a.server_backup_path,
                },
            ))
        }
        Command::TestRestore(a) => {
            a.clickhouse.warn_deprecated();
            let rt = runtime()?;
            rt.block_on(restore_cmd::test_restore(
                ui,
                restore_cmd::TestRestoreOpts {
                    packages: a.packages,
                    clickhouse: a.clickhouse,
                    prefix: a.prefix,
                    keep: a.keep,
                    storage_policy: a.storage_policy,
                    server_backup_path: a.server_backup_path,
                },
            ))
        }
        Command::Window(a) => package_cmds::window(ui, &a.dir),
        Command::Credential { action } => match action {
            CredentialCommand::Set(a) => credential_cmd::set(ui, &a.service, &a.entry),
            CredentialCommand::Delete(a) => credential_cmd::delete(ui, &a.service, &a.entry),
            CredentialCommand::Test(a) => credential_cmd::test(ui, &a.service, &a.entry),
        },
        Command::Demo(a) => {
            let rt = runtime()?;
            rt.block_on(demo::run(ui, a))
        }
        Command::Completions { shell } => {
            let mut cmd = Cli::command();
            clap_complete::generate(shell, &mut cmd, "mesbackup", &mut std::io::stdout());
            Ok(0)
        }
    }
}

impl TryFrom<SaveOpts> for jobs::Save {
    type Error = Error;
    fn try_from(s: SaveOpts) -> Result<jobs::Save, Error> {
        Ok(jobs::Save {
            modes: s.modes.modes()?,
            out: s.out,
            file_name: s.file_name,
            overwrite: s.overwrite,
            sql_backup_finished: s.sql_backup_finished,
        })
    }
}
