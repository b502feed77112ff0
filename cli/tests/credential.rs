//! `mesbackup credential set|test|delete` and `run` with `keyring = "service/entry"`, through the
//! real binary and the OS credential store: on Linux the kernel keyring (keyutils), on Windows (the
//! .exe under Wine, tests/windows) the Credential Manager.
//!
//! Linux: the test process first joins a new anonymous session keyring (keyctl
//! JOIN_SESSION_KEYRING), which the binaries it starts inherit, so the test neither sees nor leaves
//! anything in the session of whoever runs it. Where the kernel keyring cannot be used (no keyutils
//! in the kernel, a seccomp filter refusing keyctl), the test fails saying why: it never passes
//! without having stored and read a secret.

mod common;

use std::path::Path;

use common::{command, mock, run, validate_events, Run};
use serde_json::json;

const SERVICE: &str = "mesbackup-test";

#[cfg(target_os = "linux")]
fn own_session_keyring() {
    const KEYCTL_JOIN_SESSION_KEYRING: libc::c_long = 1;
    // SAFETY: keyctl(JOIN_SESSION_KEYRING, NULL) takes no pointer but a null name.
    let id = unsafe { libc::syscall(libc::SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, std::ptr::null::<libc::c_char>()) };
    assert!(
        id >= 0,
        "the Linux kernel keyring cannot be used here (keyctl JOIN_SESSION_KEYRING: {}): the keyring tests \
         need keyutils in the kernel and keyctl allowed by the container's seccomp profile",
        std::io::Error::last_os_error()
    );
}

fn credential(action: &str, entry: &str, stdin: Option<&str>, json: bool) -> Run {
    let mut c = command();
    if json {
        c.arg("--json");
    }
    c.args(["credential", action, "--service", SERVICE, "--entry", entry]);
    match stdin {
        None => run(c),
        Some(text) => {
            let dir = tempfile::tempdir().unwrap();
            let file = dir.path().join("secret");
            std::fs::write(&file, text).unwrap();
            c.stdin(std::fs::File::open(&file).unwrap());
            run(c)
        }
    }
}

fn config(dir: &Path, url: &str, keyring: &str) -> std::path::PathBuf {
    let path = dir.join("mesbackup.toml");
    std::fs::write(
        &path,
        format!(
            "[[environment]]\nname = \"prod\"\nurl = \"{url}\"\nsystem = \"MES\"\nout = \"{}\"\nkeyring = {keyring}\n",
            dir.join("out").display()
        ),
    )
    .unwrap();
    path
}

#[test]
fn set_test_run_delete_through_the_os_credential_store() {
    #[cfg(target_os = "linux")]
    own_session_keyring();
    let entry = format!("prod-{}", std::process::id());

    // Absent at first: exit 22, says how to store it.
    let r = credential("test", &entry, None, false);
    assert_eq!(r.code, 22, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("absent") && r.stdout.contains("mesbackup credential set"), "{}", r.stdout);

    // set from standard input; the secret is never printed.
    let r = credential("set", &entry, Some("admin-token\n"), true);
    assert_eq!(r.code, 0, "credential set failed:\n{}\n{}", r.stdout, r.stderr);
    validate_events(&r.events).unwrap();
    assert_eq!(r.events[0]["event"], "credential");
    assert_eq!((r.events[0]["action"].as_str(), r.events[0]["present"].as_bool()), (Some("set"), Some(true)));
    common::assert_no_secret(&r, &["admin-token"]).unwrap();

    let r = credential("check", &entry, None, true);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.events[0]["present"], true);
    common::assert_no_secret(&r, &["admin-token"]).unwrap();

    // A run with keyring = "service/entry" authenticates with it (the mock accepts only admin-token).
    let dir = tempfile::tempdir().unwrap();
    let m = mock(json!({}));
    let url = m.base_url();
    for keyring in [format!("\"{SERVICE}/{entry}\""), format!("{{ service = \"{SERVICE}\", entry = \"{entry}\" }}")] {
        let mut c = command();
        c.args(["--json", "run", "--config"]).arg(config(dir.path(), &url, &keyring));
        let r = run(c);
        assert_eq!(r.code, 0, "run with keyring = {keyring} failed:\n{}\n{}", r.stdout, r.stderr);
        let summary = r.events.iter().rev().find(|e| e["event"] == "run_summary").unwrap();
        assert_eq!(summary["environments"][0]["result"], "ok", "{summary}");
        common::assert_no_secret(&r, &["admin-token"]).unwrap();
    }

    // user:pat is a personal access token, sent as HTTP Basic (the mock's admin:admin-pat).
    let r = credential("set", &entry, Some("admin:admin-pat"), false);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let r = credential("test", &entry, None, false);
    assert!(r.stdout.contains("user:pat"), "{}", r.stdout);
    let mut c = command();
    c.args(["run", "--config"]).arg(config(dir.path(), &url, &format!("\"{SERVICE}/{entry}\"")));
    let r = run(c);
    assert_eq!(r.code, 0, "a run with user:pat from the keyring failed:\n{}\n{}", r.stdout, r.stderr);
    common::assert_no_secret(&r, &["admin-pat"]).unwrap();

    // delete; then the run refuses before sending anything, naming the key and the command.
    let r = credential("delete", &entry, None, false);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("deleted"), "{}", r.stdout);
    let r = credential("test", &entry, None, false);
    assert_eq!(r.code, 22, "{}\n{}", r.stdout, r.stderr);
    let requests_before = m.log().len();
    let mut c = command();
    c.args(["run", "--config"]).arg(config(dir.path(), &url, &format!("\"{SERVICE}/{entry}\"")));
    let r = run(c);
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("keyring")
            && r.stderr.contains(&entry)
            && r.stderr.contains(&format!("mesbackup credential set --service {SERVICE} --entry {entry}")),
        "{}",
        r.stderr
    );
    assert_eq!(m.log().len(), requests_before, "nothing may be sent without credentials");
}

#[test]
fn set_refuses_an_empty_or_unusable_secret_and_never_takes_it_from_argv() {
    #[cfg(target_os = "linux")]
    own_session_keyring();
    let r = credential("set", "never", Some("\n\n"), false);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("standard input"), "{}", r.stderr);
    let r = credential("set", "never", Some("user-without-pat:"), false);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("not stored") && r.stderr.contains("user:pat"), "{}", r.stderr);
    let mut c = command();
    c.args(["credential", "set", "--service", SERVICE, "--entry", "never", "--secret", "x"]);
    assert_eq!(run(c).code, 2, "there is no option that takes the secret");
    assert_eq!(credential("test", "never", None, false).code, 22);
}
