//! Installer package names: built for a kind and version, parsed back, and every near miss
//! explained (wrong case, a browser's ` (1)`, a `.7z` repack, a renamed file), with the exact name
//! the file should have where it can be inferred.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{quote_untrusted, Error};

use super::database::*;
use super::version::*;

/// The fixed middle part of every package name. The installer compares it exactly (case included).
pub const PACKAGE_STEM: &str = "Cmf.ClickHouse.FullBackup";

/// The only extension the installer reads.
pub const PACKAGE_EXTENSION: &str = ".zip";

/// Builds a package name from parts already known to be valid.
pub(super) fn canonical_name(system: Option<&str>, kind: DatabaseKind, version: &str) -> String {
    match system {
        Some(system) => format!("{system}.{PACKAGE_STEM}.{kind}.{version}{PACKAGE_EXTENSION}"),
        None => format!("{PACKAGE_STEM}.{kind}.{version}{PACKAGE_EXTENSION}"),
    }
}

/// The file name the MES installer looks for: `Cmf.ClickHouse.FullBackup.<Kind>.<version>.zip`, or
/// with a system, `<System>.Cmf.ClickHouse.FullBackup.<Kind>.<version>.zip` (which the installer
/// prefers, so one packages folder can hold backups for several systems).
pub fn installer_package_name(kind: DatabaseKind, version: &str, system: Option<&str>) -> Result<String, Error> {
    validate_version(version)?;
    if let Some(system) = system {
        validate_system(system)?;
    }
    Ok(canonical_name(system, kind, version))
}

/// A file name the installer accepts, split into its parts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PackageName {
    /// The system prefix, `None` for a generic package.
    pub system: Option<String>,
    /// The database the package restores (the `<Kind>` token).
    pub kind: DatabaseKind,
    /// The MES version, verbatim from the name (e.g. `11.3.0`).
    pub version: String,
}

impl PackageName {
    /// The file name again (parsing only accepts canonical names, so this is the name parsed).
    pub fn file_name(&self) -> String {
        canonical_name(self.system.as_deref(), self.kind, &self.version)
    }
}

impl fmt::Display for PackageName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file_name())
    }
}

/// Why a file name is not (exactly) a package name the installer accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum NearMissReason {
    /// Unrelated to ClickHouse backups; callers usually skip these silently.
    NotAPackage,
    /// Right name, wrong upper/lower case somewhere (`cdm`, `.ZIP`, `cmf.clickhouse…`).
    WrongCase,
    /// The database kind is not one of Online, CDM, ODS, DWH (or is missing).
    UnknownKind,
    /// No version after the kind.
    MissingVersion,
    /// The version is not 2 to 4 dot-separated numbers (`v11.3.0`, `11.x.0`).
    BadVersion,
    /// Text added around the name by a browser or file manager: ` (1)`, ` - Copy`, `.zip.zip`,
    /// `.zip.part`, `.crdownload`…
    ExtraSuffix,
    /// Not `.zip` (`.7z`, `.tar.gz`, none).
    WrongExtension,
    /// Looks like one of our backups, but renamed, reordered, abbreviated or with whitespace.
    Renamed,
    /// Something before `Cmf.ClickHouse.FullBackup` that is not `<System>.`.
    BadSystemPrefix,
}

impl NearMissReason {
    /// The stable string code (same as the serde form).
    pub fn code(self) -> &'static str {
        match self {
            NearMissReason::NotAPackage => "not_a_package",
            NearMissReason::WrongCase => "wrong_case",
            NearMissReason::UnknownKind => "unknown_kind",
            NearMissReason::MissingVersion => "missing_version",
            NearMissReason::BadVersion => "bad_version",
            NearMissReason::ExtraSuffix => "extra_suffix",
            NearMissReason::WrongExtension => "wrong_extension",
            NearMissReason::Renamed => "renamed",
            NearMissReason::BadSystemPrefix => "bad_system_prefix",
        }
    }
}

impl fmt::Display for NearMissReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A file name the installer would ignore, with why and, when it can be inferred, the name it
/// should have. `expected`, when present, always parses as a [`PackageName`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NearMiss {
    /// The most specific, most actionable problem (others are listed in `message`).
    pub reason: NearMissReason,
    /// Plain English: what is wrong and what to do.
    pub message: String,
    /// The exact name the file should have, when kind and version can be inferred.
    pub expected: Option<String>,
}

impl fmt::Display for NearMiss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for NearMiss {}

impl From<NearMiss> for Error {
    /// A near miss given where a package name was required is the caller's mistake.
    fn from(near_miss: NearMiss) -> Error {
        Error::invalid_argument(near_miss.message)
    }
}

/// Parses a file name as the installer would, explaining near misses.
///
/// Only the canonical spelling is accepted (so [`PackageName::file_name`] gives back `file_name`);
/// everything else gets a [`NearMiss`]. Never panics, whatever the input.
pub fn parse_package_name(file_name: &str) -> Result<PackageName, NearMiss> {
    analyze(file_name).map_err(|d| d.near_miss)
}

/// When a name has several problems, the one reported as `reason` is the first in this order.
/// Unfinished downloads come first (renaming will not help, the bytes are incomplete); then
/// problems that change what the file *is* (system, kind, version); then cosmetic damage
/// (whitespace, copy suffixes, extension); plain case errors last, since they are reported only
/// when nothing more specific is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Rank {
    UnfinishedDownload,
    SystemPrefix,
    Kind,
    MissingVersion,
    Version,
    Whitespace,
    CopySuffix,
    Extension,
    Case,
}

struct Problem {
    rank: Rank,
    reason: NearMissReason,
    text: String,
}

/// The problems found in one name, in discovery order.
#[derive(Default)]
struct Problems(Vec<Problem>);

impl Problems {
    fn add(&mut self, rank: Rank, reason: NearMissReason, text: String) {
        self.0.push(Problem { rank, reason, text });
    }
}

/// Everything learned about a near miss; `check_folder` uses the inferred parts to complete
/// `expected` with the folder's version.
pub(super) struct Diagnosis {
    pub(super) near_miss: NearMiss,
    pub(super) kind: Option<DatabaseKind>,
    /// The system the name should carry (`None`: generic, or not inferable).
    pub(super) system: Option<String>,
    /// The (possibly corrected) version, when known.
    pub(super) version: Option<String>,
}

/// Byte offset of the first ASCII-case-insensitive match of ASCII `needle` at or after `from`.
/// Matches start and end on ASCII bytes, so the offsets are always char boundaries.
fn find_ignore_case(haystack: &str, needle: &str, from: usize) -> Option<usize> {
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    if n.len() > h.len() {
        return None;
    }
    (from..=h.len() - n.len()).find(|&i| h[i..i + n.len()].eq_ignore_ascii_case(n))
}

fn ends_with_ignore_case(text: &str, suffix: &str) -> bool {
    let (t, s) = (text.as_bytes(), suffix.as_bytes());
    t.len() >= s.len() && t[t.len() - s.len()..].eq_ignore_ascii_case(s)
}

/// Where `Cmf.ClickHouse.FullBackup.` (any case) starts.
fn find_stem(name: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(at) = find_ignore_case(name, PACKAGE_STEM, from) {
        if name.as_bytes().get(at + PACKAGE_STEM.len()) == Some(&b'.') {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// Windows Explorer's "Copy of X" / "Copy (2) of X" (older Windows versions).
fn strip_copy_of_prefix(name: &str) -> Option<&str> {
    let b = name.as_bytes();
    if b.len() >= 8 && b[..8].eq_ignore_ascii_case(b"copy of ") {
        return Some(&name[8..]);
    }
    if b.len() >= 6 && b[..6].eq_ignore_ascii_case(b"copy (") {
        let digits = b[6..].iter().take_while(|c| c.is_ascii_digit()).count();
        let end = 6 + digits;
        if digits > 0 && b.len() >= end + 5 && b[end..end + 5].eq_ignore_ascii_case(b") of ") {
            return Some(&name[end + 5..]);
        }
    }
    None
}

/// Removes one copy marker from the end: ` (1)`, `(2)`, `-copy`, ` - Copy`, `_copy`, ` copy 2`.
fn strip_one_copy_suffix(s: &str) -> Option<&str> {
    if let Some(open) = s.strip_suffix(')').and_then(|t| t.rfind('(')) {
        let digits = &s[open + 1..s.len() - 1];
        if (1..=4).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
            return Some(s[..open].trim_end());
        }
    }
    // macOS numbers further copies "X copy 2".
    let no_digits = s.trim_end_matches(|c: char| c.is_ascii_digit());
    let base =
        if no_digits.len() < s.len() && no_digits.ends_with(char::is_whitespace) { no_digits.trim_end() } else { s };
    if ends_with_ignore_case(base, "copy") {
        let before = base[..base.len() - 4].trim_end();
        return Some(before.strip_suffix(['-', '_']).unwrap_or(before).trim_end());
    }
    None
}

/// Removes all copy markers from the end; returns the rest and what was removed.
fn strip_copy_suffixes(s: &str) -> (&str, Option<&str>) {
    let mut current = s;
    while let Some(next) = strip_one_copy_suffix(current) {
        if next.len() >= current.len() {
            break;
        }
        current = next;
    }
    if current.len() < s.len() {
        (current, Some(&s[current.len()..]))
    } else {
        (s, None)
    }
}

/// Where `.zip` (any case, as a whole extension, not `.zipx`) first occurs in `s`.
fn find_zip(s: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(at) = find_ignore_case(s, PACKAGE_EXTENSION, from) {
        match s.as_bytes().get(at + PACKAGE_EXTENSION.len()) {
            Some(b) if b.is_ascii_alphanumeric() => from = at + 1,
            _ => return Some(at),
        }
    }
    None
}

/// Splits a trailing non-zip extension off: `.tar.gz` and friends, or a short alphanumeric last
/// component with at least one letter (`.7z`, `.rar`, `.bak`). Version parts are all digits, so
/// `CDM.11.3.0` has no extension.
fn split_other_extension(s: &str) -> (&str, Option<&str>) {
    for multi in [".tar.gz", ".tar.bz2", ".tar.xz", ".tar.zst"] {
        if ends_with_ignore_case(s, multi) {
            let at = s.len() - multi.len();
            return (&s[..at], Some(&s[at..]));
        }
    }
    if let Some(dot) = s.rfind('.') {
        let ext = &s[dot + 1..];
        if (1..=10).contains(&ext.len())
            && ext.bytes().all(|b| b.is_ascii_alphanumeric())
            && ext.bytes().any(|b| b.is_ascii_alphabetic())
        {
            return (&s[..dot], Some(&s[dot..]));
        }
    }
    (s, None)
}

/// A version that is wrong only in an obvious, mechanical way: `v11.3.0`, `11.3.0.`, `11_3_0`.
fn fix_version(version: &str) -> Option<String> {
    let stripped = version.strip_prefix(['v', 'V']).unwrap_or(version).trim_matches('.');
    let dotted: String = stripped.chars().map(|c| if c == '_' || c == '-' { '.' } else { c }).collect();
    is_valid_version(&dotted).then_some(dotted)
}

/// `MESCDM` used where the kind `CDM` belongs (or the system name where `Online` belongs).
fn kind_from_database_name(token: &str, system: Option<&str>) -> Option<DatabaseKind> {
    if let Some(system) = system {
        if let Some(kind) = DatabaseKind::ALL.into_iter().find(|&k| database_name(system, k) == token) {
            return Some(kind);
        }
    }
    [DatabaseKind::Cdm, DatabaseKind::Ods, DatabaseKind::Dwh]
        .into_iter()
        .find(|k| token.strip_suffix(k.database_suffix()).is_some_and(|head| system_problem(head).is_none()))
}

/// Marks of a download still in progress (Firefox `.part`, Chrome `.crdownload`, Safari
/// `.download`, Opera `.opdownload`, wget/curl style `.partial`/`.tmp`).
fn is_unfinished_download_tail(tail: &str) -> bool {
    let lower = tail.to_ascii_lowercase();
    [".part", ".crdownload", ".download", ".opdownload", ".partial", ".tmp"].iter().any(|m| lower.contains(m))
}

/// The pattern with whatever is known filled in, for messages without an exact suggestion.
fn name_pattern(system: Option<&str>, kind: Option<DatabaseKind>, version: Option<&str>) -> String {
    let kind = kind.map_or("<Kind>".to_owned(), |k| k.package_token().to_owned());
    let version = version.unwrap_or("<version>");
    match system {
        Some(s) => format!("{s}.{PACKAGE_STEM}.{kind}.{version}{PACKAGE_EXTENSION}"),
        None => format!("{PACKAGE_STEM}.{kind}.{version}{PACKAGE_EXTENSION}"),
    }
}

fn diagnosis(
    file_name: &str,
    mut problems: Vec<Problem>,
    system: Option<String>,
    kind: Option<DatabaseKind>,
    version: Option<String>,
) -> Diagnosis {
    problems.sort_by_key(|p| p.rank); // stable: equal ranks keep their discovery order
    let reason = problems.first().map_or(NearMissReason::Renamed, |p| p.reason);
    let expected = match (kind, &version) {
        (Some(kind), Some(version)) => Some(canonical_name(system.as_deref(), kind, version)),
        _ => None,
    };
    let clauses = problems.iter().map(|p| p.text.as_str()).collect::<Vec<_>>().join("; ");
    let mut message = format!("{} is ignored by the MES installer: {clauses}.", quote_untrusted(file_name, QUOTE_MAX));
    match &expected {
        Some(expected) => message.push_str(&format!(" Rename it to {expected}.")),
        None => {
            let mut legend = Vec::new();
            if kind.is_none() {
                legend.push("<Kind> is Online, CDM, ODS or DWH");
            }
            if version.is_none() {
                legend.push("<version> is the MES version, e.g. 11.3.0");
            }
            message.push_str(&format!(
                " The installer looks for {} ({}).",
                name_pattern(system.as_deref(), kind, version.as_deref()),
                legend.join("; ")
            ));
        }
    }
    Diagnosis { near_miss: NearMiss { reason, message, expected }, kind, system, version }
}

pub(super) fn analyze(file_name: &str) -> Result<PackageName, Diagnosis> {
    let mut problems = Problems::default();

    let trimmed = file_name.trim();
    if trimmed.len() != file_name.len() {
        problems.add(Rank::Whitespace, NearMissReason::Renamed, "it starts or ends with whitespace".to_owned());
    }
    let mut work = trimmed;
    if let Some(rest) = strip_copy_of_prefix(work) {
        let added = &work[..work.len() - rest.len()];
        problems.add(
            Rank::CopySuffix,
            NearMissReason::ExtraSuffix,
            format!("{} was added in front by a file manager's copy", quote_untrusted(added, QUOTE_MAX)),
        );
        work = rest;
    }
    let Some(stem_at) = find_stem(work) else {
        return Err(diagnose_unrecognised(file_name));
    };

    let prefix = &work[..stem_at];
    let stem_text = &work[stem_at..stem_at + PACKAGE_STEM.len()];
    // Starts with the dot that ends the stem.
    let dotted = &work[stem_at + PACKAGE_STEM.len()..];

    // System prefix.
    let system: Option<String> = if prefix.is_empty() {
        None
    } else {
        match prefix.strip_suffix('.').filter(|s| system_problem(s).is_none()) {
            Some(system) => Some(system.to_owned()),
            None => {
                let candidate = prefix.trim_end_matches(['.', '-', '_', ' ', '+', '~']);
                let fixed = system_problem(candidate).is_none().then(|| candidate.to_owned());
                let q = quote_untrusted(prefix, QUOTE_MAX);
                let text = match (&fixed, prefix.strip_suffix('.')) {
                    (Some(fixed), _) => {
                        format!("the prefix {q} must be the system name followed by exactly one dot ({fixed}.)")
                    }
                    (None, Some(system)) => format!(
                        "the prefix {q} is not a valid system name ({}); system names are ASCII \
                         letters, digits and underscores starting with a letter, or drop the prefix \
                         to use the generic name",
                        system_problem(system).unwrap_or_default()
                    ),
                    (None, None) => format!(
                        "the prefix {q} must be a system name followed by one dot (e.g. MES.), using \
                         only ASCII letters, digits and underscores, or nothing at all for the \
                         generic name"
                    ),
                };
                problems.add(Rank::SystemPrefix, NearMissReason::BadSystemPrefix, text);
                fixed
            }
        }
    };

    // Extension, and whatever follows it.
    let (body, tail): (&str, &str) = match find_zip(dotted) {
        Some(at) => {
            let ext = &dotted[at..at + PACKAGE_EXTENSION.len()];
            if ext != PACKAGE_EXTENSION {
                problems.add(
                    Rank::Case,
                    NearMissReason::WrongCase,
                    format!("the extension must be lower-case .zip, not {}", quote_untrusted(ext, 8)),
                );
            }
            (if at == 0 { "" } else { &dotted[1..at] }, &dotted[at + PACKAGE_EXTENSION.len()..])
        }
        None => {
            let (body, ext) = split_other_extension(&dotted[1..]);
            let text = match ext {
                Some(ext) => format!(
                    "it has the extension {} but the installer reads only .zip packages (if it was \
                     repacked, use the original .zip downloaded from MES: renaming does not convert it)",
                    quote_untrusted(ext, QUOTE_MAX)
                ),
                None => "it has no .zip extension".to_owned(),
            };
            problems.add(Rank::Extension, NearMissReason::WrongExtension, text);
            (body, "")
        }
    };
    if !tail.is_empty() {
        let q = quote_untrusted(tail, QUOTE_MAX);
        if is_unfinished_download_tail(tail) {
            problems.add(
                Rank::UnfinishedDownload,
                NearMissReason::ExtraSuffix,
                format!(
                    "it ends with {q} after .zip, which marks an unfinished download: let the \
                     download finish (or download it again) before using it"
                ),
            );
        } else {
            problems.add(Rank::CopySuffix, NearMissReason::ExtraSuffix, format!("{q} follows the .zip extension"));
        }
    }

    let (body, copy_suffix) = strip_copy_suffixes(body);
    if let Some(suffix) = copy_suffix {
        problems.add(
            Rank::CopySuffix,
            NearMissReason::ExtraSuffix,
            format!(
                "{} was added before the extension (browsers and file managers do this for a second copy)",
                quote_untrusted(suffix, QUOTE_MAX)
            ),
        );
    }
    let compact: String;
    let body = if body.chars().any(char::is_whitespace) {
        problems.add(Rank::Whitespace, NearMissReason::Renamed, "it contains whitespace".to_owned());
        compact = body.chars().filter(|c| !c.is_whitespace()).collect();
        compact.as_str()
    } else {
        body
    };

    if stem_text != PACKAGE_STEM {
        problems.add(
            Rank::Case,
            NearMissReason::WrongCase,
            format!("{PACKAGE_STEM} must be spelled with exactly this case, not {}", quote_untrusted(stem_text, 40)),
        );
    }

    // Kind, then version.
    let (token, version_part) = match body.split_once('.') {
        Some((token, version)) => (token, Some(version)),
        None => (body, None),
    };
    let token_is_number = !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit());
    let (kind, version_part) = if token.is_empty() {
        problems.add(
            Rank::Kind,
            NearMissReason::UnknownKind,
            format!("it names no database kind after {PACKAGE_STEM}; use {KIND_LIST}"),
        );
        (None, version_part)
    } else if token_is_number {
        // "Cmf.ClickHouse.FullBackup.11.3.0.zip": the version is there, the kind is not.
        problems.add(
            Rank::Kind,
            NearMissReason::UnknownKind,
            format!("the database kind is missing between {PACKAGE_STEM} and the version; use {KIND_LIST}"),
        );
        (None, Some(body))
    } else if let Some(kind) = DatabaseKind::from_package_token(token) {
        (Some(kind), version_part)
    } else if let Some(kind) = DatabaseKind::from_token_ignore_case(token) {
        problems.add(
            Rank::Case,
            NearMissReason::WrongCase,
            format!("the database kind must be written {kind}, not {}", quote_untrusted(token, QUOTE_MAX)),
        );
        (Some(kind), version_part)
    } else if let Some(kind) = kind_from_database_name(token, system.as_deref()) {
        problems.add(
            Rank::Kind,
            NearMissReason::UnknownKind,
            format!(
                "{} is a database name, but the package names the database kind: {kind}",
                quote_untrusted(token, QUOTE_MAX)
            ),
        );
        (Some(kind), version_part)
    } else {
        problems.add(
            Rank::Kind,
            NearMissReason::UnknownKind,
            format!("{} is not a database kind; use {KIND_LIST}", quote_untrusted(token, QUOTE_MAX)),
        );
        (None, version_part)
    };

    let version: Option<String> = match version_part {
        None | Some("") => {
            problems.add(
                Rank::MissingVersion,
                NearMissReason::MissingVersion,
                "it has no MES version after the database kind".to_owned(),
            );
            None
        }
        Some(v) if is_valid_version(v) => Some(v.to_owned()),
        Some(v) => {
            let q = quote_untrusted(v, QUOTE_MAX);
            let fixed = fix_version(v);
            let text = match &fixed {
                Some(fixed) => format!("the version must be written {fixed}, not {q}"),
                None => format!("{q} is not a valid version ({})", version_problem(v).unwrap_or_default()),
            };
            problems.add(Rank::Version, NearMissReason::BadVersion, text);
            fixed
        }
    };

    match (kind, version) {
        (Some(kind), Some(version)) if problems.0.is_empty() => Ok(PackageName { system, kind, version }),
        (kind, version) => {
            if problems.0.is_empty() {
                // Unreachable by construction (a missing kind or version always adds a problem);
                // kept so a future edit cannot turn into a panic or a silent accept.
                problems.add(
                    Rank::Whitespace,
                    NearMissReason::Renamed,
                    "it does not follow the naming convention".to_owned(),
                );
            }
            Err(diagnosis(file_name, problems.0, system, kind, version))
        }
    }
}

/// Names without `Cmf.ClickHouse.FullBackup.` anywhere: either unrelated (`not_a_package`) or one
/// of our backups renamed (`renamed`), told apart by what the name mentions.
fn diagnose_unrecognised(file_name: &str) -> Diagnosis {
    let lower = file_name.to_ascii_lowercase();
    let tokens: Vec<&str> = file_name.split(|c: char| !c.is_ascii_alphanumeric()).filter(|t| !t.is_empty()).collect();
    let mut kinds: Vec<DatabaseKind> = tokens.iter().filter_map(|t| DatabaseKind::from_token_ignore_case(t)).collect();
    if kinds.is_empty() {
        // "MESCDM_backup.zip": the database name instead of the kind. Upper case only, so words
        // such as "methods" do not count as ODS.
        kinds = tokens.iter().filter_map(|t| kind_from_database_name(t, None)).collect();
    }
    kinds.sort();
    kinds.dedup();
    let mentions_clickhouse = lower.contains("clickhouse");
    let mentions_full_backup = lower.contains("fullbackup") || lower.contains("full_backup");
    let mentions_backup = lower.contains("backup");
    let has_zip = lower.contains(".zip");
    // Other Cmf packages mentioning ClickHouse may legitimately sit in the same folder, so
    // "ClickHouse" alone is not enough: it also needs "backup" or a kind.
    let related = mentions_full_backup
        || (mentions_clickhouse && (mentions_backup || !kinds.is_empty()))
        || (mentions_backup && !kinds.is_empty() && has_zip);
    if !related {
        return Diagnosis {
            near_miss: NearMiss {
                reason: NearMissReason::NotAPackage,
                message: format!(
                    "{} is not a ClickHouse backup package (its name does not mention a ClickHouse \
                     full backup)",
                    quote_untrusted(file_name, QUOTE_MAX)
                ),
                expected: None,
            },
            kind: None,
            system: None,
            version: None,
        };
    }
    let kind = match kinds.as_slice() {
        [kind] => Some(*kind),
        _ => None,
    };
    let version = infer_version(file_name);
    let problem = Problem {
        rank: Rank::Whitespace,
        reason: NearMissReason::Renamed,
        text: "it looks like a ClickHouse backup package that was renamed, but the installer \
               recognises only the exact package name"
            .to_owned(),
    };
    diagnosis(file_name, vec![problem], None, kind, version)
}

/// The one valid version written in `name` (runs of digits and dots), if exactly one.
fn infer_version(name: &str) -> Option<String> {
    let mut found: Vec<&str> = name
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .map(|run| run.trim_matches('.'))
        .filter(|run| is_valid_version(run))
        .collect();
    found.sort_unstable();
    found.dedup();
    match found.as_slice() {
        [version] => Some((*version).to_owned()),
        _ => None,
    }
}
