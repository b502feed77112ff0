//! The systemd units shipped in docs/schedulers/systemd verify with `systemd-analyze verify` (with
//! ExecStart= pointed at this build's binary, which verify requires to exist), without a single
//! warning (verify only warns about an unknown key), keep the scheduling and hardening options the
//! docs promise, and their ExecStart= command line is one this binary accepts.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

const INSTALLED_BIN: &str = "/usr/local/bin/mesbackup";

fn unit(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/schedulers/systemd").join(name);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn units_verify_without_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let service = unit("mesbackup.service");
    assert!(service.contains(INSTALLED_BIN));
    fs::write(dir.path().join("mesbackup.service"), service.replace(INSTALLED_BIN, common::BIN)).unwrap();
    fs::write(dir.path().join("mesbackup.timer"), unit("mesbackup.timer")).unwrap();
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(dir.path().join("mesbackup.service"))
        .arg(dir.path().join("mesbackup.timer"))
        .output()
        .unwrap_or_else(|e| panic!("systemd-analyze (package systemd) is needed for this test: {e}"));
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "systemd-analyze verify failed:\n{said}");
    let ours: Vec<&str> = said.lines().filter(|l| l.contains("mesbackup")).collect();
    assert!(ours.is_empty(), "systemd-analyze verify warned about the units:\n{}", ours.join("\n"));
}

#[test]
fn units_keep_their_scheduling_and_hardening() {
    let timer = unit("mesbackup.timer");
    for line in ["Persistent=true", "RandomizedDelaySec=", "OnCalendar=", "WantedBy=timers.target"] {
        assert!(timer.lines().any(|l| l.starts_with(line)), "mesbackup.timer lacks {line}");
    }
    let service = unit("mesbackup.service");
    for line in [
        "Type=oneshot",
        "ProtectSystem=strict",
        "ReadWritePaths=",
        "NoNewPrivileges=yes",
        "LoadCredential=mes-token:",
        "ExecStart=",
    ] {
        assert!(service.lines().any(|l| l.starts_with(line)), "mesbackup.service lacks {line}");
    }
    // The example config reads the token where LoadCredential= puts it.
    let example =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/examples/mesbackup.toml")).unwrap();
    assert!(example.contains("token_file = \"${CREDENTIALS_DIRECTORY}/mes-token\""));
}

#[test]
fn exec_start_is_a_command_line_the_binary_accepts() {
    let service = unit("mesbackup.service");
    let exec = service.lines().find_map(|l| l.strip_prefix("ExecStart=")).unwrap();
    let mut args: Vec<String> = exec.split_whitespace().skip(1).map(str::to_owned).collect();
    // The same command line with a config of this test's, as a dry run: it must parse and plan.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("mesbackup.toml");
    fs::write(
        &config,
        format!(
            "[[environment]]\nname = \"p\"\nurl = \"http://127.0.0.1:9\"\nsystem = \"MES\"\nout = \"{}\"\nno_auth = true\n",
            dir.path().join("out").display()
        ),
    )
    .unwrap();
    let at = args.iter().position(|a| a == "--config").expect("ExecStart passes --config") + 1;
    args[at] = config.to_string_lossy().into_owned();
    let mut c = common::command();
    c.args(&args).arg("--dry-run");
    let r = common::run(c);
    assert_eq!(r.code, 0, "{exec} --dry-run: {}", r.stderr);
    assert!(r.stdout.contains("Dry run"), "{}", r.stdout);
}
