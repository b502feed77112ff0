//! The one rule for paths that come from inside a package (zip entry names, the files a `.backup`
//! manifest lists): before such a path touches a file system it must be relative and made of plain
//! names only, checked component by component.
//!
//! Checking the whole string is not enough. Once the backup root `R/` is stripped from the entry
//! `R//etc/x`, what is left is the absolute `/etc/x`, and `Path::join` with an absolute path throws
//! the extraction folder away. So every component is checked, the same way for verify, inspect,
//! restore and the browser verifier: the rule lives here once.
//!
//! A component is refused when it is empty (`a//b`, a leading `/`), `.` or `..`, or contains `\`
//! (a separator on Windows), `:` (drive letters, NTFS streams), NUL or another control character,
//! when it is a Windows device name (`CON`, `nul.txt`, `COM1`...), or ends with a space or a dot
//! (Windows drops those, so `.. ` would become `..`). A directory entry may end with one `/`.

use serde::{Deserialize, Serialize};

use crate::content_disposition::is_windows_device_name;

/// Why a path from a package is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PathFault {
    /// The path is empty.
    Empty,
    /// The path starts with `/`: absolute.
    Absolute,
    /// Two `/` in a row: an empty component (what is left after stripping a root can be absolute).
    EmptyComponent,
    /// A `.` component.
    CurrentFolder,
    /// A `..` component: climbs out of the folder.
    ParentFolder,
    /// A `\`: a folder separator on Windows.
    Backslash,
    /// A `:`: a drive letter or an NTFS stream on Windows.
    Colon,
    /// NUL or another control character.
    ControlCharacter,
    /// A Windows device name (`CON`, `NUL.txt`, `COM1`...).
    DeviceName,
    /// A component ending with a space or a dot, which Windows silently drops.
    TrailingDotOrSpace,
}

impl PathFault {
    /// What is wrong, in words, for a problem message.
    pub fn describe(self) -> &'static str {
        match self {
            PathFault::Empty => "the path is empty",
            PathFault::Absolute => "the path is absolute",
            PathFault::EmptyComponent => "the path has an empty component ('//')",
            PathFault::CurrentFolder => "the path has a '.' component",
            PathFault::ParentFolder => "the path climbs out of its folder ('..')",
            PathFault::Backslash => "the path contains '\\', a folder separator on Windows",
            PathFault::Colon => "the path contains ':', a drive letter or stream on Windows",
            PathFault::ControlCharacter => "the path contains NUL or a control character",
            PathFault::DeviceName => "the path names a Windows device (CON, NUL, COM1...)",
            PathFault::TrailingDotOrSpace => "a component ends with a space or a dot, which Windows drops",
        }
    }
}

/// Checks one component (a plain name between two `/`).
fn check_component(c: &str) -> Result<(), PathFault> {
    match c {
        "" => return Err(PathFault::EmptyComponent),
        "." => return Err(PathFault::CurrentFolder),
        ".." => return Err(PathFault::ParentFolder),
        _ => {}
    }
    if c.contains('\\') {
        return Err(PathFault::Backslash);
    }
    if c.contains(':') {
        return Err(PathFault::Colon);
    }
    if c.chars().any(char::is_control) {
        return Err(PathFault::ControlCharacter);
    }
    if is_windows_device_name(c) {
        return Err(PathFault::DeviceName);
    }
    if c.ends_with(' ') || c.ends_with('.') {
        return Err(PathFault::TrailingDotOrSpace);
    }
    Ok(())
}

/// The components of a safe relative path, in order (a directory's trailing `/` gives no empty
/// last component), or the first fault found.
pub fn entry_components(path: &str) -> Result<Vec<&str>, PathFault> {
    if path.is_empty() {
        return Err(PathFault::Empty);
    }
    if path.starts_with('/') {
        return Err(PathFault::Absolute);
    }
    let body = path.strip_suffix('/').unwrap_or(path);
    let parts: Vec<&str> = body.split('/').collect();
    for c in &parts {
        check_component(c)?;
    }
    Ok(parts)
}

/// Checks a path from a package: `Ok` when every component is a plain name (see the module
/// documentation), so that the path joined under any folder stays under it.
pub fn check_entry_path(path: &str) -> Result<(), PathFault> {
    entry_components(path).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn plain_relative_paths_pass() {
        for ok in [
            ".backup",
            "data/MES/t/all_1_1_0/data.bin",
            "metadata/MES.sql",
            "MES_backup/",
            "a..b/c..d",
            "x/.hidden",
            "%2E%2E/x",
            "COM10/x",
            "données/é.bin",
        ] {
            assert_eq!(check_entry_path(ok), Ok(()), "{ok:?}");
        }
        assert_eq!(entry_components("a/b/").unwrap(), vec!["a", "b"]);
    }

    #[test]
    fn every_escape_is_refused_with_its_reason() {
        use PathFault::*;
        let cases: &[(&str, PathFault)] = &[
            ("", Empty),
            ("/etc/x", Absolute),
            ("R//etc/x", EmptyComponent),
            ("a//", EmptyComponent),
            ("./x", CurrentFolder),
            ("a/./b", CurrentFolder),
            ("..", ParentFolder),
            ("a/../../b", ParentFolder),
            ("R/..", ParentFolder),
            ("R/\\x", Backslash),
            ("a\\..\\b", Backslash),
            ("C:/x", Colon),
            ("c:x", Colon),
            ("R/C:\\x", Backslash),
            ("R/file.bin:stream", Colon),
            ("a\0b", ControlCharacter),
            ("a/\nb", ControlCharacter),
            ("a/\u{7f}", ControlCharacter),
            ("R/CON", DeviceName),
            ("R/nul.zip", DeviceName),
            ("R/com1/x", DeviceName),
            ("R/LPT¹", DeviceName),
            ("R/.. /x", TrailingDotOrSpace),
            ("R/.../x", TrailingDotOrSpace),
            ("R/a./b", TrailingDotOrSpace),
        ];
        for (path, fault) in cases {
            assert_eq!(check_entry_path(path), Err(*fault), "{path:?}");
            assert!(!fault.describe().is_empty());
        }
    }

    /// Joins the components under a folder the way the extractor does.
    fn joined(path: &str) -> Option<std::path::PathBuf> {
        let base = std::path::Path::new("/base/folder");
        let mut p = base.to_path_buf();
        for c in entry_components(path).ok()? {
            p.push(c);
        }
        Some(p)
    }

    proptest! {
        #[test]
        fn accepted_paths_stay_under_the_folder(s in "[a-zA-Z0-9./\\\\:\0 ]{0,24}") {
            if let Some(p) = joined(&s) {
                prop_assert!(p.starts_with("/base/folder"));
                prop_assert!(p.components().all(|c| matches!(c, std::path::Component::Normal(_) | std::path::Component::RootDir)));
                prop_assert!(p.components().count() > 3, "a plain name was added");
            }
        }

        #[test]
        fn never_panics(s in ".*") {
            let _ = check_entry_path(&s);
        }
    }
}
