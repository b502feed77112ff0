//! `mesbackup credential set|delete|test`: the secret a config's `keyring = "service/entry"` names,
//! in the OS credential store of the account running the command. The secret is read from standard
//! input (without echo on a terminal), never from the command line, and never printed.

use std::io::{IsTerminal, Read};

use mesbackup_client::keyring::{store_name, KeyringEntry};
use mesbackup_core::mes::Credentials;
use mesbackup_core::Error;

use crate::events::{CliEvent, CredentialAction};
use crate::output::Ui;

/// Exit code of `credential test` when the entry does not exist (the scheme of the command-specific
/// codes: 20 check-folder, 21 run).
pub const EXIT_ABSENT: u8 = 22;

pub fn set(ui: &Ui, service: &str, entry: &str) -> Result<u8, Error> {
    let key = KeyringEntry::new(service, entry)?;
    let secret = read_secret(&key)?;
    // Refuse what the run could not use: it would only fail at night.
    let creds = Credentials::from_stored_secret(&secret).map_err(|e| {
        Error::invalid_argument(format!(
            "not stored: {}; the secret is a bearer token, or user:pat for a personal access token",
            e.message
        ))
    })?;
    ui.add_secrets(creds.secrets());
    key.set(secret.trim_end_matches(['\r', '\n']))?;
    report(ui, &key, CredentialAction::Set, true, &format!("stored {} in the {}", key.describe(), store_name()));
    Ok(0)
}

pub fn delete(ui: &Ui, service: &str, entry: &str) -> Result<u8, Error> {
    let key = KeyringEntry::new(service, entry)?;
    let existed = key.delete()?;
    let message = if existed {
        format!("deleted {} from the {}", key.describe(), store_name())
    } else {
        format!("nothing to delete: no {} in the {}", key.describe(), store_name())
    };
    report(ui, &key, CredentialAction::Delete, existed, &message);
    Ok(0)
}

pub fn test(ui: &Ui, service: &str, entry: &str) -> Result<u8, Error> {
    let key = KeyringEntry::new(service, entry)?;
    let secret = key.get()?;
    let (present, message) = match &secret {
        Some(s) => {
            let usable = Credentials::from_stored_secret(s).map(|c| {
                ui.add_secrets(c.secrets());
                matches!(c, Credentials::Basic { .. })
            });
            match usable {
                Ok(true) => (true, format!("present: {} holds user:pat (HTTP Basic)", key.describe())),
                Ok(false) => (true, format!("present: {} holds a bearer token", key.describe())),
                Err(e) => {
                    return Err(Error::invalid_argument(format!(
                        "{} is present but unusable: {}; store it again with `{}`",
                        key.describe(),
                        e.message,
                        key.set_command()
                    )))
                }
            }
        }
        None => (
            false,
            format!("absent: no {} in the {}; store it with `{}`", key.describe(), store_name(), key.set_command()),
        ),
    };
    report(ui, &key, CredentialAction::Test, present, &message);
    Ok(if present { 0 } else { EXIT_ABSENT })
}

fn report(ui: &Ui, key: &KeyringEntry, action: CredentialAction, present: bool, message: &str) {
    if ui.is_json() {
        ui.emit(&CliEvent::Credential {
            action,
            service: key.service.clone(),
            entry: key.entry.clone(),
            store: store_name().into(),
            location: key.location(),
            present,
        });
    } else {
        ui.result(message);
    }
}

fn read_secret(key: &KeyringEntry) -> Result<String, Error> {
    let stdin = std::io::stdin();
    let secret = if stdin.is_terminal() {
        let prompt = format!("Token (or user:pat) for {}: ", key.describe());
        rpassword::prompt_password(prompt)
            .map_err(|e| Error::invalid_argument(format!("cannot read the secret: {e}")))?
    } else {
        let mut text = String::new();
        stdin
            .lock()
            .take(64 * 1024)
            .read_to_string(&mut text)
            .map_err(|e| Error::invalid_argument(format!("cannot read the secret from standard input: {e}")))?;
        text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or_default().to_owned()
    };
    if secret.trim().is_empty() {
        return Err(Error::invalid_argument(
            "no secret on standard input: pipe the token (or user:pat) in, e.g. `printf '%s' \"$TOKEN\" | mesbackup credential set ...`",
        ));
    }
    Ok(secret)
}
