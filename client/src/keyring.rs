//! The operating system's credential store: `keyring` in mesbackup.toml and `mesbackup credential`.
//!
//! Native stores only, one per platform: the Windows Credential Manager (a generic credential named
//! `<entry>.<service>`, persisted on this machine for the current Windows user), the macOS login
//! Keychain, and on Linux the kernel keyring (keyutils: the user's session and persistent
//! keyrings, description `keyring:<entry>@<service>`; kept in memory only, so it does not survive a
//! reboot). No Secret Service: it needs a D-Bus session and an unlocked collection, which a nightly
//! job on a server does not have.
//!
//! Every store is per user: a secret stored by one account is invisible to another. Errors name the
//! store, service and entry, never the secret (a store's "bad encoding" error carries the secret's
//! bytes: they are dropped here).

use std::sync::{Arc, OnceLock};

use keyring_core::{CredentialStore, Entry};
use mesbackup_core::Error;

/// One entry of the store: the keyring's service and "user" (called entry here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyringEntry {
    /// The service (e.g. `mesbackup`).
    pub service: String,
    /// The entry within the service (e.g. `prod`).
    pub entry: String,
}

impl KeyringEntry {
    /// `service` and `entry`, checked: non-empty, no surrounding spaces or control characters.
    pub fn new(service: &str, entry: &str) -> Result<KeyringEntry, Error> {
        for (what, value) in [("service", service), ("entry", entry)] {
            if value.trim().is_empty() || value.trim() != value || value.chars().any(char::is_control) {
                return Err(Error::invalid_argument(format!(
                    "the keyring {what} {value:?} must be a non-empty name without surrounding spaces or control characters"
                )));
            }
        }
        Ok(KeyringEntry { service: service.to_owned(), entry: entry.to_owned() })
    }

    /// How the user names it again: `service "mesbackup", entry "prod"`.
    pub fn describe(&self) -> String {
        format!("service {:?}, entry {:?}", self.service, self.entry)
    }

    /// The command that stores it (the secret is read from standard input, never an argument).
    pub fn set_command(&self) -> String {
        format!("mesbackup credential set --service {} --entry {}", quote(&self.service), quote(&self.entry))
    }

    /// Where the store keeps it, as its own tools show it (Credential Manager's target name, the
    /// keyutils description, the Keychain item).
    pub fn location(&self) -> String {
        if cfg!(windows) {
            format!("generic credential {}.{}", self.entry, self.service)
        } else if cfg!(target_os = "linux") {
            format!("user key keyring:{}@{}", self.entry, self.service)
        } else {
            format!("item of service {:?}, account {:?}", self.service, self.entry)
        }
    }

    /// The stored secret; `None` when there is no such entry.
    pub fn get(&self) -> Result<Option<String>, Error> {
        match self.open()?.get_password() {
            Ok(secret) => Ok(Some(secret)),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(self.failed("read", &e)),
        }
    }

    /// Stores `secret`, replacing any previous one.
    pub fn set(&self, secret: &str) -> Result<(), Error> {
        self.open()?.set_password(secret).map_err(|e| self.failed("store", &e))
    }

    /// Removes the entry; false when there was none.
    pub fn delete(&self) -> Result<bool, Error> {
        match self.open()?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring_core::Error::NoEntry) => Ok(false),
            Err(e) => Err(self.failed("delete", &e)),
        }
    }

    fn open(&self) -> Result<Entry, Error> {
        let store = store()?;
        #[cfg(windows)]
        let made = {
            // Local: kept on this machine, not roamed with the profile to other machines of the domain.
            let modifiers = std::collections::HashMap::from([("persistence", "Local")]);
            Entry::new_in_store_with_modifiers(&store, &self.service, &self.entry, &modifiers)
        };
        #[cfg(not(windows))]
        let made = Entry::new_in_store(&store, &self.service, &self.entry);
        made.map_err(|e| self.failed("open", &e))
    }

    fn failed(&self, what: &str, e: &keyring_core::Error) -> Error {
        let detail = describe_error(e);
        Error::io(format!("cannot {what} {} in the {}: {detail}{}", self.describe(), store_name(), access_hint(e)))
    }
}

/// The store this build uses, for messages.
pub fn store_name() -> &'static str {
    if cfg!(windows) {
        "Windows Credential Manager"
    } else if cfg!(target_os = "macos") {
        "macOS Keychain"
    } else if cfg!(target_os = "linux") {
        "Linux kernel keyring (keyutils)"
    } else {
        "OS credential store"
    }
}

fn store() -> Result<Arc<CredentialStore>, Error> {
    static STORE: OnceLock<Result<Arc<CredentialStore>, String>> = OnceLock::new();
    STORE
        .get_or_init(|| open_native_store().map_err(|e| describe_error(&e)))
        .clone()
        .map_err(|m| Error::io(format!("cannot open the {}: {m}", store_name())))
}

#[cfg(windows)]
fn open_native_store() -> keyring_core::Result<Arc<CredentialStore>> {
    Ok(windows_native_keyring_store::Store::new()?)
}

#[cfg(target_os = "macos")]
fn open_native_store() -> keyring_core::Result<Arc<CredentialStore>> {
    Ok(apple_native_keyring_store::keychain::Store::new()?)
}

#[cfg(target_os = "linux")]
fn open_native_store() -> keyring_core::Result<Arc<CredentialStore>> {
    Ok(linux_keyutils_keyring_store::Store::new()?)
}

#[cfg(not(any(windows, target_os = "macos", target_os = "linux")))]
fn open_native_store() -> keyring_core::Result<Arc<CredentialStore>> {
    Err(keyring_core::Error::NotSupportedByStore(
        "mesbackup has no OS credential store for this platform: use token_file or token_env".into(),
    ))
}

/// The error without the secret bytes some variants carry.
fn describe_error(e: &keyring_core::Error) -> String {
    use keyring_core::Error as E;
    match e {
        E::BadEncoding(_) => "the stored secret is not UTF-8 text: store it again".into(),
        E::BadDataFormat(_, inner) => {
            format!("the stored secret is not in the expected format ({inner}): store it again")
        }
        E::Ambiguous(found) => format!("{} credentials match: delete the extra ones", found.len()),
        E::NoEntry => "no such entry".into(),
        other => other.to_string(),
    }
}

fn access_hint(e: &keyring_core::Error) -> &'static str {
    if !matches!(e, keyring_core::Error::NoStorageAccess(_)) {
        return "";
    }
    if cfg!(target_os = "linux") {
        " (the kernel refused access to the session keyring: under sudo, su or a container without a \
         login session it may belong to another user; run the command in the account's own session, or \
         under `keyctl session -`)"
    } else if cfg!(windows) {
        " (the Credential Manager needs the account's own profile: run the command as that account, \
         e.g. a scheduled task or `runas /user:...`)"
    } else {
        " (the keychain may be locked: unlock it, or run the command in the user's login session)"
    }
}

fn quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./@:".contains(c)) {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_checked_and_named() {
        let e = KeyringEntry::new("mesbackup", "prod").unwrap();
        assert_eq!(e.set_command(), "mesbackup credential set --service mesbackup --entry prod");
        assert_eq!(e.describe(), "service \"mesbackup\", entry \"prod\"");
        let e = KeyringEntry::new("mes backup", "it's").unwrap();
        assert_eq!(e.set_command(), "mesbackup credential set --service 'mes backup' --entry 'it'\\''s'");
        assert!(KeyringEntry::new("", "prod").is_err());
        assert!(KeyringEntry::new("mesbackup", " prod").is_err());
        assert!(KeyringEntry::new("mesbackup", "a\nb").is_err());
    }

    #[test]
    fn errors_never_carry_the_secret_bytes() {
        let m = describe_error(&keyring_core::Error::BadEncoding(b"hunter2\xff".to_vec()));
        assert!(!m.contains("hunter2") && m.contains("not UTF-8"), "{m}");
    }
}
