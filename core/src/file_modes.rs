//! Permission bits for everything mesbackup writes: packages, sidecars, temporary files, staged
//! copies, kept diagnostics (files) and the folders it creates (output folders, restore extraction
//! folders).
//!
//! A production database backup is private by default, as restic keeps its repository: files
//! `0600`, folders `0700`. A wider mode is a choice the administrator makes explicitly, typically
//! `--file-mode 0640 --dir-mode 0750` so that ClickHouse's user (in the same group) can read an
//! extracted backup. The modes are applied exactly (not through the umask), so what was asked is
//! what is on disk.
//!
//! Unix only: on Windows files inherit the folder's ACL and these bits are not used.

use serde::{Deserialize, Serialize};

use crate::error::{quote_untrusted, Error};

/// The default mode of files mesbackup writes: owner read and write only.
pub const DEFAULT_FILE_MODE: u32 = 0o600;
/// The default mode of folders mesbackup creates: owner only.
pub const DEFAULT_DIR_MODE: u32 = 0o700;

/// The modes for files and for folders mesbackup creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileModes {
    /// Permission bits of every file mesbackup writes (e.g. `0o600`); checked only when parsed from text.
    pub file: u32,
    /// Permission bits of every folder mesbackup creates (e.g. `0o700`); checked only when parsed from text.
    pub dir: u32,
}

impl Default for FileModes {
    fn default() -> Self {
        FileModes { file: DEFAULT_FILE_MODE, dir: DEFAULT_DIR_MODE }
    }
}

impl FileModes {
    /// Modes from the administrator's text (`"0640"`, `"640"`, `"0o640"`); `None` keeps a default.
    /// Errors name the CLI's options (`--file-mode`, `--dir-mode`).
    pub fn parse(file: Option<&str>, dir: Option<&str>) -> Result<FileModes, Error> {
        FileModes::parse_named(file, dir, ["--file-mode", "--dir-mode"])
    }

    /// [`FileModes::parse`], with errors that name the options as the caller's front end spells
    /// them (`["file_mode", "dir_mode"]` in Python, `["fileMode", "dirMode"]` in JavaScript).
    pub fn parse_named(file: Option<&str>, dir: Option<&str>, names: [&str; 2]) -> Result<FileModes, Error> {
        let mut modes = FileModes::default();
        if let Some(text) = file {
            modes.file = file_mode_named(text, names[0])?;
        }
        if let Some(text) = dir {
            modes.dir = dir_mode_named(text, names[1])?;
        }
        Ok(modes)
    }

    /// `0640` style, for messages.
    pub fn file_octal(&self) -> String {
        format!("{:04o}", self.file)
    }

    /// `0750` style, for messages.
    pub fn dir_octal(&self) -> String {
        format!("{:04o}", self.dir)
    }
}

fn parse_octal(text: &str, option: &str) -> Result<u32, Error> {
    let t = text.trim();
    let digits = t.strip_prefix("0o").or_else(|| t.strip_prefix("0O")).unwrap_or(t);
    let valid = !digits.is_empty() && digits.len() <= 4 && digits.bytes().all(|b| (b'0'..=b'7').contains(&b));
    let value = if valid { u32::from_str_radix(digits, 8).ok() } else { None };
    value.ok_or_else(|| {
        Error::invalid_argument(format!(
            "{option} {} is not an octal permission mode: use for example 0640",
            quote_untrusted(text, 20)
        ))
    })
}

/// A file mode: owner read and write required; no execute, set-id or sticky bit; never writable by
/// others.
pub fn parse_file_mode(text: &str) -> Result<u32, Error> {
    file_mode_named(text, "--file-mode")
}

fn file_mode_named(text: &str, option: &str) -> Result<u32, Error> {
    let mode = parse_octal(text, option)?;
    let fail = |why: &str| {
        Err(Error::invalid_argument(format!(
            "{option} {mode:04o} {why}: use 0600 (private, the default) or 0640 (readable by the group)"
        )))
    };
    if mode & 0o600 != 0o600 {
        return fail("does not let the owner read and write the file");
    }
    if mode & 0o7111 != 0 {
        return fail("has an execute, set-id or sticky bit");
    }
    if mode & 0o002 != 0 {
        return fail("lets every user change a database backup");
    }
    Ok(mode)
}

/// A folder mode: owner read, write and search required; no set-id or sticky bit; never writable
/// by the group or others.
pub fn parse_dir_mode(text: &str) -> Result<u32, Error> {
    dir_mode_named(text, "--dir-mode")
}

fn dir_mode_named(text: &str, option: &str) -> Result<u32, Error> {
    let mode = parse_octal(text, option)?;
    let fail = |why: &str| {
        Err(Error::invalid_argument(format!(
            "{option} {mode:04o} {why}: use 0700 (private, the default) or 0750 (readable by the group)"
        )))
    };
    if mode & 0o700 != 0o700 {
        return fail("does not let the owner use the folder");
    }
    if mode & 0o7000 != 0 {
        return fail("has a set-id or sticky bit");
    }
    if mode & 0o022 != 0 {
        return fail("lets other users add or remove files in it");
    }
    Ok(mode)
}

/// Judges the mode a file system gave a new file or folder when it refused to change it: FAT and
/// exFAT (a USB disk), SMB shares without Unix extensions and some FUSE mounts keep permissions of
/// their own. That mode is fine when group and others may do no more than `wanted` lets them: read
/// and write for a file (an x bit on a data file grants nothing), read, write and enter for a
/// folder; the owner's own bits are the owner's business. Otherwise the problem in words, with the
/// mode seen and how to fix it. `refused` is the file system's error.
pub fn mount_mode_problem(actual: u32, wanted: u32, is_folder: bool, refused: &str) -> Option<String> {
    let others = if is_folder { 0o077 } else { 0o066 };
    if actual & others & !wanted == 0 {
        return None;
    }
    let (what, option) = if is_folder { ("folder", "--dir-mode") } else { ("file", "--file-mode") };
    Some(format!(
        "this file system does not take permission bits ({refused}) and gives every new {what} mode {:04o}, \
         which lets group or others do more than the {wanted:04o} asked for: mount it with a narrower \
         umask/fmask (e.g. fmask=0077,dmask=0077 for FAT or SMB), or ask for {:04o} with {option} if that \
         is intended",
        actual & 0o7777,
        wanted | (actual & others),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_private() {
        let m = FileModes::default();
        assert_eq!((m.file, m.dir), (0o600, 0o700));
        assert_eq!(FileModes::parse(None, None).unwrap(), m);
    }

    #[test]
    fn accepts_the_usual_spellings() {
        for t in ["0640", "640", "0o640", " 0640 "] {
            assert_eq!(parse_file_mode(t).unwrap(), 0o640, "{t}");
        }
        assert_eq!(parse_dir_mode("0750").unwrap(), 0o750);
        assert_eq!(parse_file_mode("0644").unwrap(), 0o644, "world-readable is an explicit choice, allowed");
        assert_eq!(FileModes::parse(Some("0640"), Some("0750")).unwrap().file_octal(), "0640");
    }

    #[test]
    fn refuses_modes_that_lose_or_expose_data() {
        for bad in ["", "8", "06400", "rw-r-----", "0400", "0700", "0755", "0666", "4600", "0o"] {
            let e = parse_file_mode(bad).err().unwrap_or_else(|| panic!("{bad:?} accepted"));
            assert_eq!(e.kind, crate::ErrorKind::InvalidArgument);
            assert!(e.message.contains("--file-mode"), "{}", e.message);
        }
        for bad in ["0600", "0770", "0777", "1700", "0500"] {
            assert!(parse_dir_mode(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn errors_name_the_option_as_the_front_end_spells_it() {
        let e = FileModes::parse_named(Some("0666"), None, ["fileMode", "dirMode"]).unwrap_err();
        assert!(e.message.starts_with("fileMode 0666 "), "{}", e.message);
        let e = FileModes::parse_named(None, Some("x"), ["file_mode", "dir_mode"]).unwrap_err();
        assert!(e.message.starts_with("dir_mode \"x\""), "{}", e.message);
    }

    /// A FAT, exFAT or SMB mount refuses chmod and gives every file its own mode: kept when group
    /// and others get no more than asked (x bits on a file grant nothing), refused otherwise.
    #[test]
    fn a_mount_mode_is_judged_by_what_group_and_others_may_do() {
        assert_eq!(mount_mode_problem(0o100700, 0o600, false, "ENOSYS"), None);
        assert_eq!(mount_mode_problem(0o100711, 0o600, false, "ENOSYS"), None);
        assert_eq!(mount_mode_problem(0o40750, 0o750, true, "EPERM"), None);
        assert!(mount_mode_problem(0o40711, 0o700, true, "EPERM").is_some(), "others may enter the folder");
        let problem = mount_mode_problem(0o100755, 0o600, false, "Function not implemented").unwrap();
        assert!(problem.contains("new file mode 0755") && problem.contains("0600 asked"), "{problem}");
        assert!(problem.contains("fmask") && problem.contains("ask for 0644 with --file-mode"), "{problem}");
        assert!(problem.contains("(Function not implemented)"), "{problem}");
        assert_eq!(mount_mode_problem(0o100755, 0o644, false, "ENOSYS"), None, "what it suggests is accepted");
    }
}
