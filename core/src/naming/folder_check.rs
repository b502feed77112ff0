//! Which file the installer would restore for each database of a custom packages folder listing.

use serde::{Deserialize, Serialize};

use crate::error::{quote_untrusted, Error};

use super::database::*;
use super::package_name::*;
use super::version::*;

/// Per database kind: what the installer would restore from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct KindReport {
    /// The database this entry is about.
    pub kind: DatabaseKind,
    /// The file the installer would pick, if any.
    pub chosen: Option<String>,
    /// Whether `chosen` is the `<System>.`-prefixed name.
    pub system_specific: bool,
    /// A generic file that is present but loses to the system-specific one; worth knowing when it
    /// is newer or was meant to win.
    pub also_present_but_shadowed: Option<String>,
    /// The names the installer looks for, in its search order: system-specific, then generic.
    pub expected_names: [String; 2],
}

/// Why a valid package name is not used for this system and version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum IgnoredReason {
    /// The package is for another MES version: the installer uses only packages of its own version.
    OtherVersion,
    /// The package has another system's `<System>.` prefix (one differing only in case is a near miss instead).
    OtherSystem,
}

/// A correctly named package the installer skips because it is for something else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct IgnoredFile {
    /// The file name, as listed.
    pub file: String,
    /// Whether it is for another version or another system.
    pub reason: IgnoredReason,
    /// Plain English: which version or system the file is for and why the installer skips it.
    pub message: String,
}

/// A file that was probably meant as a package but is not named exactly right.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct NearMissFile {
    /// The file name, as listed.
    pub file: String,
    /// The most specific, most actionable problem with the name.
    pub reason: NearMissReason,
    /// Plain English: what is wrong and what to do, including a note when the file is for another version.
    pub message: String,
    /// The exact name to rename it to, when it can be inferred (using the folder's version when
    /// the file names none).
    pub expected: Option<String>,
}

/// What the installer would do with a custom packages folder for one system and version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct FolderReport {
    /// The system checked for, as given: the `<System>.` prefix of system-specific names.
    pub system: String,
    /// The MES version checked for, as given (e.g. `11.3.0`).
    pub version: String,
    /// One entry per kind, in [`DatabaseKind::ALL`] order.
    pub kinds: Vec<KindReport>,
    /// Kinds with no usable file: the installer would create these databases empty.
    pub missing: Vec<DatabaseKind>,
    /// Valid package names for another version or system, sorted by file name.
    pub ignored: Vec<IgnoredFile>,
    /// Files that look like packages but would be ignored, sorted by file name.
    pub near_misses: Vec<NearMissFile>,
}

impl FolderReport {
    /// Whether every database would be restored.
    pub fn complete(&self) -> bool {
        self.missing.is_empty()
    }
}

/// Predicts, from the names in the installer's custom packages folder, which backup the installer
/// would restore for each database of `system` at `version`.
///
/// Pure: the caller lists the folder. Files ending in `.mesbackup.json` (our sidecars) and hidden
/// or temporary files starting with `.` are skipped, as are files unrelated to ClickHouse backups.
pub fn check_folder(file_names: &[&str], system: &str, version: &str) -> Result<FolderReport, Error> {
    validate_system(system)?;
    validate_version(version)?;
    let mut names: Vec<&str> = file_names.to_vec();
    names.sort_unstable();
    names.dedup();

    let mut specific: [Option<String>; 4] = Default::default();
    let mut generic: [Option<String>; 4] = Default::default();
    let mut ignored = Vec::new();
    let mut near_misses = Vec::new();
    let index = |kind: DatabaseKind| DatabaseKind::ALL.iter().position(|&k| k == kind).unwrap_or(0);

    for name in names {
        if name.starts_with('.') || name.ends_with(".mesbackup.json") {
            continue;
        }
        match analyze(name) {
            Ok(package) => {
                let q = quote_untrusted(name, QUOTE_MAX);
                if package.version != version {
                    ignored.push(IgnoredFile {
                        file: name.to_owned(),
                        reason: IgnoredReason::OtherVersion,
                        message: format!(
                            "{q} is for version {}; the installer of version {version} uses only \
                             {version} packages",
                            package.version
                        ),
                    });
                    continue;
                }
                match package.system.as_deref() {
                    None => generic[index(package.kind)] = Some(name.to_owned()),
                    Some(s) if s == system => specific[index(package.kind)] = Some(name.to_owned()),
                    Some(s) if s.eq_ignore_ascii_case(system) => {
                        let expected = canonical_name(Some(system), package.kind, version);
                        near_misses.push(NearMissFile {
                            file: name.to_owned(),
                            reason: NearMissReason::WrongCase,
                            message: format!(
                                "{q} is ignored by the MES installer for system {system}: the system \
                                 prefix must be written exactly like the system name. Rename it to \
                                 {expected}."
                            ),
                            expected: Some(expected),
                        });
                    }
                    Some(s) => ignored.push(IgnoredFile {
                        file: name.to_owned(),
                        reason: IgnoredReason::OtherSystem,
                        message: format!("{q} is for system {s}; the installer for system {system} ignores it"),
                    }),
                }
            }
            Err(d) if d.near_miss.reason == NearMissReason::NotAPackage => {}
            Err(d) => near_misses.push(near_miss_in_folder(name, d, version)),
        }
    }

    let kinds: Vec<KindReport> = DatabaseKind::ALL
        .into_iter()
        .enumerate()
        .map(|(i, kind)| {
            let (chosen, system_specific, shadowed) = match (&specific[i], &generic[i]) {
                (Some(s), g) => (Some(s.clone()), true, g.clone()),
                (None, g) => (g.clone(), false, None),
            };
            KindReport {
                kind,
                chosen,
                system_specific,
                also_present_but_shadowed: shadowed,
                expected_names: [canonical_name(Some(system), kind, version), canonical_name(None, kind, version)],
            }
        })
        .collect();
    let missing = kinds.iter().filter(|k| k.chosen.is_none()).map(|k| k.kind).collect();
    Ok(FolderReport { system: system.to_owned(), version: version.to_owned(), kinds, missing, ignored, near_misses })
}

/// A near miss in the context of a folder: when the kind is known but the version is not, the
/// folder's version completes the suggestion; a file for another version gets a note, since
/// renaming alone would still leave it ignored.
fn near_miss_in_folder(name: &str, d: Diagnosis, version: &str) -> NearMissFile {
    let NearMiss { reason, mut message, mut expected } = d.near_miss;
    match (expected.is_some(), d.kind, d.version.as_deref()) {
        (false, Some(kind), None) => {
            let name_for_folder = canonical_name(d.system.as_deref(), kind, version);
            message.push_str(&format!(
                " If it is the {kind} backup for version {version}, rename it to {name_for_folder}."
            ));
            expected = Some(name_for_folder);
        }
        (true, _, Some(v)) if v != version => {
            message.push_str(&format!(" Note that it is for version {v}, not {version}."));
        }
        _ => {}
    }
    NearMissFile { file: name.to_owned(), reason, message, expected }
}
