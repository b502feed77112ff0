//! The credentials a config names (`token_env`, `token_file`, `user_env` + `pat_env`, `keyring`),
//! resolved before anything is sent: a missing variable, an unreadable or shared token file or a
//! missing keyring entry is an error that names the environment and the key, never the secret.

use std::path::{Path, PathBuf};

use mesbackup_core::mes::Credentials;
use mesbackup_core::run_config::{CredentialRef, EnvironmentConfig};
use mesbackup_core::Error;

use crate::keyring::{store_name, KeyringEntry};

/// Reads a keyring entry: `Ok(None)` when it does not exist.
pub type KeyringLookup<'a> = &'a dyn Fn(&KeyringEntry) -> Result<Option<String>, Error>;

/// The credentials of `env`, with `var` looking up environment variables (empty counts as unset)
/// and `keyring` entries read from the OS credential store.
pub fn resolve_credentials(
    env: &EnvironmentConfig,
    var: &dyn Fn(&str) -> Option<String>,
) -> Result<Credentials, Error> {
    resolve_credentials_with(env, var, &|entry| entry.get())
}

/// [`resolve_credentials`] with the keyring lookup given (tests).
pub fn resolve_credentials_with(
    env: &EnvironmentConfig,
    var: &dyn Fn(&str) -> Option<String>,
    keyring: KeyringLookup<'_>,
) -> Result<Credentials, Error> {
    let at =
        |key: &str, message: String| Error::invalid_argument(format!("environment {:?}, {key}: {message}", env.name));
    let required = |key: &str, name: &str| -> Result<String, Error> {
        var(name).filter(|v| !v.is_empty()).ok_or_else(|| {
            at(
                key,
                format!("the environment variable {name} is not set (or empty): set it in the service's environment"),
            )
        })
    };
    match &env.credentials {
        CredentialRef::None => Ok(Credentials::None),
        CredentialRef::MesVariables => {
            use mesbackup_core::mes::{resolve_credentials as by_rule, GivenCredentials, Unresolved};
            by_rule(GivenCredentials::default(), |n| var(n)).map_err(|u| match u {
                Unresolved::NoneGiven => at(
                    "token_env",
                    "no credential key, and neither MES_TOKEN nor MES_USER + MES_PAT is set: set MES_TOKEN (a bearer \
                     token) or MES_USER and MES_PAT (a personal access token) in the service's environment, or name \
                     where the credentials are with token_env, token_file, user_env and pat_env, or keyring (the OS \
                     credential store)"
                        .into(),
                ),
                other => {
                    let e = Error::from(other);
                    at("MES_TOKEN/MES_USER/MES_PAT (no credential key)", e.message)
                }
            })
        }
        CredentialRef::TokenEnv(name) => Credentials::bearer(&required("token_env", name)?)
            .map_err(|e| at("token_env", format!("{name}: {}", e.message))),
        CredentialRef::UserPat { user_env, pat_env } => {
            let user = required("user_env", user_env)?;
            let pat = required("pat_env", pat_env)?;
            Credentials::basic(&user, &pat).map_err(|e| at("pat_env", e.message))
        }
        CredentialRef::Keyring { service, entry } => {
            let entry = KeyringEntry::new(service, entry).map_err(|e| at("keyring", e.message))?;
            let secret = keyring(&entry).map_err(|e| at("keyring", e.message))?.ok_or_else(|| {
                at(
                    "keyring",
                    format!(
                        "nothing is stored under {} in the {} of the account running mesbackup: store the token \
                         (or user:pat) with `{}` run as that account",
                        entry.describe(),
                        store_name(),
                        entry.set_command()
                    ),
                )
            })?;
            Credentials::from_stored_secret(&secret).map_err(|e| {
                at(
                    "keyring",
                    format!("the secret under {} is unusable: {}; store it again", entry.describe(), e.message),
                )
            })
        }
        CredentialRef::TokenFile(raw) => {
            let path = expand_variables(raw, var).map_err(|m| at("token_file", m))?;
            let token = read_private_token(&path).map_err(|m| at("token_file", m))?;
            Credentials::bearer(&token).map_err(|e| at("token_file", format!("{}: {}", path.display(), e.message)))
        }
    }
}

/// `${VAR}` replaced by the variable's value (systemd's `${CREDENTIALS_DIRECTORY}`); an unset one is
/// an error, not an empty string that would point somewhere else.
fn expand_variables(raw: &str, var: &dyn Fn(&str) -> Option<String>) -> Result<PathBuf, String> {
    let mut out = String::new();
    let mut rest = raw;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err(format!("{raw:?}: `${{` without a closing `}}`"));
        };
        let name = &after[..end];
        let value = var(name).filter(|v| !v.is_empty()).ok_or_else(|| {
            format!("{raw:?} uses ${{{name}}}, which is not set (under systemd it is set by LoadCredential=)")
        })?;
        out.push_str(&value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(PathBuf::from(out))
}

/// The first non-empty line of a token file only its owner can read (Unix: no group or other
/// permission bits; systemd's credential files are 0400).
fn read_private_token(path: &Path) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read the token file {}: {e}", path.display()))?;
    if !meta.is_file() {
        return Err(format!("{} is not a file", path.display()));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(format!(
                "the token file {} has mode {mode:04o}, readable by other users: restrict it with `chmod 600 {}`",
                path.display(),
                path.display()
            ));
        }
    }
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("cannot read the token file {}: {e}", path.display()))?;
    let first = text.lines().map(str::trim).find(|l| !l.is_empty());
    first.map(str::to_owned).ok_or_else(|| format!("the token file {} is empty", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesbackup_core::run_config::parse_run_config;

    fn env_with(creds: &str) -> EnvironmentConfig {
        let text =
            format!("[[environment]]\nname = \"e\"\nurl = \"https://m\"\nsystem = \"MES\"\nout = \"/o\"\n{creds}\n");
        parse_run_config(&text, "t").unwrap().environments.remove(0)
    }

    #[test]
    fn variables_are_named_when_missing() {
        let e = env_with("token_env = \"NIGHTLY_TOKEN\"");
        let m = resolve_credentials(&e, &|_| None).unwrap_err().message;
        assert!(m.contains("token_env") && m.contains("NIGHTLY_TOKEN") && m.contains("\"e\""), "{m}");
        assert!(resolve_credentials(&e, &|_| Some("t0k".into())).is_ok());
        let e = env_with("user_env = \"U\"\npat_env = \"P\"");
        let m = resolve_credentials(&e, &|n| (n == "U").then(|| "admin".into())).unwrap_err().message;
        assert!(m.contains("pat_env") && m.contains(" P "), "{m}");
    }

    #[test]
    fn without_a_credential_key_the_mes_variables_are_used() {
        let e = env_with("");
        let m = resolve_credentials(&e, &|_| None).unwrap_err().message;
        for needle in ["MES_TOKEN", "MES_USER", "MES_PAT", "token_env", "token_file", "user_env", "\"e\""] {
            assert!(m.contains(needle), "{needle} not in {m}");
        }
        let token = |n: &str| (n == "MES_TOKEN").then(|| "t0k".to_owned());
        assert_eq!(resolve_credentials(&e, &token).unwrap(), Credentials::bearer("t0k").unwrap());
        let pat = |n: &str| match n {
            "MES_USER" => Some("admin".to_owned()),
            "MES_PAT" => Some("p4t".to_owned()),
            _ => None,
        };
        assert_eq!(resolve_credentials(&e, &pat).unwrap(), Credentials::basic("admin", "p4t").unwrap());
        let m = resolve_credentials(&e, &|n| (n == "MES_USER").then(|| "admin".to_owned())).unwrap_err().message;
        assert!(m.contains("MES_PAT") && !m.contains("admin"), "{m}");
    }

    #[test]
    fn keyring_entries_are_read_and_a_missing_one_says_how_to_store_it() {
        let e = env_with("keyring = \"mesbackup/prod\"");
        let lookup = |stored: Option<&'static str>| {
            move |k: &KeyringEntry| -> Result<Option<String>, Error> {
                assert_eq!((k.service.as_str(), k.entry.as_str()), ("mesbackup", "prod"));
                Ok(stored.map(str::to_owned))
            }
        };
        let m = resolve_credentials_with(&e, &|_| None, &lookup(None)).unwrap_err().message;
        assert!(m.contains("\"e\", keyring") && m.contains("service \"mesbackup\", entry \"prod\""), "{m}");
        assert!(m.contains("mesbackup credential set --service mesbackup --entry prod"), "{m}");
        let c = resolve_credentials_with(&e, &|_| None, &lookup(Some("tok.en"))).unwrap();
        assert_eq!(c, Credentials::bearer("tok.en").unwrap());
        let c = resolve_credentials_with(&e, &|_| None, &lookup(Some("svc-backup:the-pat"))).unwrap();
        assert_eq!(c, Credentials::basic("svc-backup", "the-pat").unwrap());
        let m = resolve_credentials_with(&e, &|_| None, &lookup(Some("svc-backup:"))).unwrap_err().message;
        assert!(m.contains("keyring") && m.contains("unusable") && m.contains("store it again"), "{m}");
        let failing = |_: &KeyringEntry| -> Result<Option<String>, Error> { Err(Error::io("store locked")) };
        let m = resolve_credentials_with(&e, &|_| None, &failing).unwrap_err().message;
        assert!(m.contains("keyring") && m.contains("store locked"), "{m}");
    }

    #[cfg(unix)]
    #[test]
    fn token_files_must_be_private_and_readable() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("tok");
        std::fs::write(&file, "\n  secret-token-value \n").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = env_with("token_file = \"${CREDS}/tok\"");
        let dir_text = dir.path().to_string_lossy().into_owned();
        let var = move |n: &str| (n == "CREDS").then(|| dir_text.clone());
        let m = resolve_credentials(&e, &var).unwrap_err().message;
        assert!(m.contains("token_file") && m.contains("0644") && m.contains("chmod 600"), "{m}");
        assert!(!m.contains("secret-token-value"));
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(resolve_credentials(&e, &var).unwrap(), Credentials::bearer("secret-token-value").unwrap());
        let m = resolve_credentials(&e, &|_| None).unwrap_err().message;
        assert!(m.contains("${CREDS}") && m.contains("not set"), "{m}");
        let e = env_with("token_file = \"/nonexistent/tok\"");
        let m = resolve_credentials(&e, &|_| None).unwrap_err().message;
        assert!(m.contains("token_file") && m.contains("cannot read"), "{m}");
    }
}
