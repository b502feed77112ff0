//! Stamps the commit into `mesbackup --version` ("mesbackup 0.1.0 (commit abc123def456)"), so a
//! binary found on a server says which sources it was built from. Outside a git checkout (a source
//! archive) the commit is "unknown"; MESBACKUP_COMMIT overrides both.

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=MESBACKUP_COMMIT");
    let commit = std::env::var("MESBACKUP_COMMIT").ok().filter(|c| !c.is_empty()).or_else(|| {
        // A commit or a checkout moves HEAD or the ref it names: stamp again then. Only files that
        // exist are watched (cargo would rebuild every time for a missing one).
        for name in ["HEAD", "packed-refs"].into_iter().map(str::to_owned).chain(git(&["symbolic-ref", "-q", "HEAD"])) {
            if let Some(path) = git(&["rev-parse", "--git-path", &name]).filter(|p| Path::new(p).exists()) {
                println!("cargo:rerun-if-changed={path}");
            }
        }
        git(&["rev-parse", "--short=12", "HEAD"])
    });
    let version = std::env::var("CARGO_PKG_VERSION").unwrap();
    let commit = commit.unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=MESBACKUP_VERSION_LINE={version} (commit {commit})");
}

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (out.status.success() && !text.is_empty()).then_some(text)
}
