//! Names: systems, databases, versions and the installer's backup package file names.
//!
//! The MES installer restores ClickHouse from a backup only when it finds a file with exactly the
//! right name in its custom installation packages folder:
//!
//! 1. `<System>.Cmf.ClickHouse.FullBackup.<Kind>.<version>.zip` (system-specific, preferred), then
//! 2. `Cmf.ClickHouse.FullBackup.<Kind>.<version>.zip` (generic),
//!
//! with `<Kind>` one of `Online`, `CDM`, `ODS`, `DWH`. Any other file is silently ignored and the
//! installer creates an empty database instead, which an administrator may only notice weeks later.
//! That is why this module does not stop at "valid / invalid": [`parse_package_name`] explains every
//! near miss (wrong case, a browser's ` (1)`, a `.7z` repack, a renamed file…) and, where it can be
//! inferred, gives the exact name the file should have; [`check_folder`] predicts which file the
//! installer would pick for each database.
//!
//! Everything here is pure string work (no file system), so the CLI, the bindings and a browser page
//! can run the same checks on a directory listing they obtained themselves.

use crate::error::{quote_untrusted, Error};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The fixed middle part of every package name. The installer compares it exactly (case included).
pub const PACKAGE_STEM: &str = "Cmf.ClickHouse.FullBackup";

/// The only extension the installer reads.
pub const PACKAGE_EXTENSION: &str = ".zip";

/// Longest accepted system name. MES itself has no documented limit; 64 keeps database names,
/// URL paths and file names comfortably short and catches pasted garbage early.
pub const MAX_SYSTEM_LEN: usize = 64;

/// Longest accepted database name: a maximal system name plus a three-letter suffix.
pub const MAX_DATABASE_NAME_LEN: usize = MAX_SYSTEM_LEN + 3;

/// File names are untrusted (a folder listing may contain anything): quote them bounded.
const QUOTE_MAX: usize = 160;

// ---------------------------------------------------------------------------------------------
// Database kinds
// ---------------------------------------------------------------------------------------------

/// The four ClickHouse databases of one MES system.
///
/// Serialized as the installer's package token (`"Online"`, `"CDM"`, `"ODS"`, `"DWH"`) because that
/// is the spelling administrators see in file names and documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum DatabaseKind {
    /// The main (online) database, named like the system itself (e.g. `MES`).
    #[serde(rename = "Online")]
    Online,
    /// The CDM database (`<System>CDM`).
    #[serde(rename = "CDM")]
    Cdm,
    /// The ODS database (`<System>ODS`).
    #[serde(rename = "ODS")]
    Ods,
    /// The data warehouse database (`<System>DWH`).
    #[serde(rename = "DWH")]
    Dwh,
}

impl DatabaseKind {
    /// All kinds, in the order reports list them.
    pub const ALL: [DatabaseKind; 4] = [
        DatabaseKind::Online,
        DatabaseKind::Cdm,
        DatabaseKind::Ods,
        DatabaseKind::Dwh,
    ];

    /// The token in installer package names (`Cmf.ClickHouse.FullBackup.<token>.<version>.zip`).
    pub fn package_token(self) -> &'static str {
        match self {
            DatabaseKind::Online => "Online",
            DatabaseKind::Cdm => "CDM",
            DatabaseKind::Ods => "ODS",
            DatabaseKind::Dwh => "DWH",
        }
    }

    /// What MES appends to the system name to name this database (the online database has none).
    pub fn database_suffix(self) -> &'static str {
        match self {
            DatabaseKind::Online => "",
            DatabaseKind::Cdm => "CDM",
            DatabaseKind::Ods => "ODS",
            DatabaseKind::Dwh => "DWH",
        }
    }

    /// Exact-case lookup, because the installer matches file names exactly: `cdm` is not `CDM`.
    pub fn from_package_token(token: &str) -> Option<DatabaseKind> {
        DatabaseKind::ALL
            .into_iter()
            .find(|k| k.package_token() == token)
    }

    /// Case-insensitive lookup, only used to diagnose near misses.
    fn from_token_ignore_case(token: &str) -> Option<DatabaseKind> {
        DatabaseKind::ALL
            .into_iter()
            .find(|k| k.package_token().eq_ignore_ascii_case(token))
    }
}

impl fmt::Display for DatabaseKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.package_token())
    }
}

/// "Online (the main database), CDM, ODS or DWH": used in every message about kinds.
const KIND_LIST: &str = "Online (the main database), CDM, ODS or DWH";

// ---------------------------------------------------------------------------------------------
// Systems and databases
// ---------------------------------------------------------------------------------------------

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Why `system` is not a valid system name, in words; `None` when it is valid.
fn system_problem(system: &str) -> Option<String> {
    let Some(first) = system.chars().next() else {
        return Some("it is empty".to_owned());
    };
    let len = system.chars().count();
    if len > MAX_SYSTEM_LEN {
        return Some(format!(
            "it is {len} characters long (at most {MAX_SYSTEM_LEN})"
        ));
    }
    if let Some(bad) = system.chars().find(|&c| !is_name_char(c)) {
        return Some(format!(
            "it contains {}",
            quote_untrusted(&bad.to_string(), 4)
        ));
    }
    if !first.is_ascii_alphabetic() {
        return Some("it does not start with a letter".to_owned());
    }
    None
}

/// Checks a system name (the MES system, e.g. `MES`).
///
/// System names become database names (which go into a URL path) and file name prefixes, so only
/// ASCII letters, digits and underscores are accepted, starting with a letter, at most 64 characters.
pub fn validate_system(system: &str) -> Result<(), Error> {
    match system_problem(system) {
        None => Ok(()),
        Some(problem) => Err(Error::invalid_argument(format!(
            "invalid system name {}: {problem}; a system name is 1 to {MAX_SYSTEM_LEN} ASCII letters, \
             digits or underscores, starting with a letter (e.g. MES)",
            quote_untrusted(system, QUOTE_MAX)
        ))),
    }
}

/// The ClickHouse database name of one kind: the system name plus the kind's suffix
/// (`MES` + CDM -> `MESCDM`, `MES` + Online -> `MES`). Does not validate; see [`system_databases`].
pub fn database_name(system: &str, kind: DatabaseKind) -> String {
    format!("{system}{}", kind.database_suffix())
}

/// Checks a database name before it is put into `POST …/clickhouse/backup/{database-name}`.
///
/// Same character set as system names, so the name needs no URL escaping and cannot smuggle a
/// `/`, `?` or `..` into the path. A leading letter is not required here: the server is the judge of
/// which databases exist, this only keeps the URL safe.
pub fn validate_database_name(name: &str) -> Result<(), Error> {
    let problem = if name.is_empty() {
        Some("it is empty".to_owned())
    } else if name.chars().count() > MAX_DATABASE_NAME_LEN {
        Some(format!(
            "it is longer than {MAX_DATABASE_NAME_LEN} characters"
        ))
    } else {
        name.chars()
            .find(|&c| !is_name_char(c))
            .map(|bad| format!("it contains {}", quote_untrusted(&bad.to_string(), 4)))
    };
    match problem {
        None => Ok(()),
        Some(problem) => Err(Error::invalid_argument(format!(
            "invalid database name {}: {problem}; database names are the system name, optionally \
             followed by CDM, ODS or DWH (e.g. MES, MESCDM), and contain only ASCII letters, digits \
             and underscores",
            quote_untrusted(name, QUOTE_MAX)
        ))),
    }
}

/// Splits a database name into its system and kind.
///
/// With `system` given, `name` must be exactly one of that system's four databases; a name that
/// differs only in case is refused with the right spelling, because ClickHouse database names are
/// case-sensitive and the server would answer a bare 400.
///
/// Without a system, a trailing `CDM`, `ODS` or `DWH` (upper case, as MES writes it) marks that kind
/// and the rest is the system; anything else is an online database named like its system.
pub fn parse_database_name(
    name: &str,
    system: Option<&str>,
) -> Result<(String, DatabaseKind), Error> {
    validate_database_name(name)?;
    if let Some(system) = system {
        validate_system(system)?;
        let databases = DatabaseKind::ALL.map(|k| (k, database_name(system, k)));
        if let Some((kind, _)) = databases.iter().find(|(_, db)| db == name) {
            return Ok((system.to_owned(), *kind));
        }
        let all = databases
            .iter()
            .map(|(_, db)| db.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        if let Some((_, right)) = databases
            .iter()
            .find(|(_, db)| db.eq_ignore_ascii_case(name))
        {
            return Err(Error::invalid_argument(format!(
                "database name {} has the wrong case: database names are case-sensitive, use {right}",
                quote_untrusted(name, QUOTE_MAX)
            )));
        }
        return Err(Error::invalid_argument(format!(
            "{} is not a database of system {system}; its databases are {all}",
            quote_untrusted(name, QUOTE_MAX)
        )));
    }
    for kind in [DatabaseKind::Cdm, DatabaseKind::Ods, DatabaseKind::Dwh] {
        if let Some(head) = name.strip_suffix(kind.database_suffix()) {
            if system_problem(head).is_none() {
                return Ok((head.to_owned(), kind));
            }
        }
    }
    match system_problem(name) {
        None => Ok((name.to_owned(), DatabaseKind::Online)),
        Some(problem) => Err(Error::invalid_argument(format!(
            "cannot tell the system of database {}: {problem} for a system name; pass the system \
             explicitly",
            quote_untrusted(name, QUOTE_MAX)
        ))),
    }
}

/// The four databases of `system`, in [`DatabaseKind::ALL`] order.
pub fn system_databases(system: &str) -> Result<[(DatabaseKind, String); 4], Error> {
    validate_system(system)?;
    Ok(DatabaseKind::ALL.map(|k| (k, database_name(system, k))))
}

// ---------------------------------------------------------------------------------------------
// Versions
// ---------------------------------------------------------------------------------------------

/// Why `version` is not a valid MES version, in words; `None` when it is valid.
fn version_problem(version: &str) -> Option<String> {
    if version.is_empty() {
        return Some("it is empty; use the MES version, e.g. 11.3.0".to_owned());
    }
    if let Some(rest) = version.strip_prefix(['v', 'V']) {
        if version_problem(rest).is_none() {
            return Some(format!(
                "use {rest}, not {}",
                quote_untrusted(version, QUOTE_MAX)
            ));
        }
    }
    if version.chars().any(char::is_whitespace) {
        return Some("it contains whitespace; use only digits and dots, e.g. 11.3.0".to_owned());
    }
    let parts: Vec<&str> = version.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Some(
            "it has an empty part (a dot at the start or end, or two dots in a row); use e.g. 11.3.0"
                .to_owned(),
        );
    }
    if parts.iter().any(|p| !p.bytes().all(|b| b.is_ascii_digit())) {
        return Some(
            "each part must be a number; use only digits and dots, e.g. 11.3.0".to_owned(),
        );
    }
    if !(2..=4).contains(&parts.len()) {
        return Some(format!(
            "it has {} part{}; use 2 to 4 numbers separated by dots, e.g. 11.3.0",
            parts.len(),
            if parts.len() == 1 { "" } else { "s" }
        ));
    }
    if parts.iter().any(|p| p.len() > 9) {
        return Some("a part has more than 9 digits".to_owned());
    }
    None
}

fn is_valid_version(version: &str) -> bool {
    version_problem(version).is_none()
}

/// Checks an MES version as it appears in package names: 2 to 4 dot-separated numbers of 1 to 9
/// digits (`11.3.0`), without a `v` prefix, because the installer looks for the version verbatim.
pub fn validate_version(version: &str) -> Result<(), Error> {
    match version_problem(version) {
        None => Ok(()),
        Some(problem) => Err(Error::invalid_argument(format!(
            "invalid MES version {}: {problem}",
            quote_untrusted(version, QUOTE_MAX)
        ))),
    }
}

// ---------------------------------------------------------------------------------------------
// Package names
// ---------------------------------------------------------------------------------------------

/// Builds a package name from parts already known to be valid.
fn canonical_name(system: Option<&str>, kind: DatabaseKind, version: &str) -> String {
    match system {
        Some(system) => format!("{system}.{PACKAGE_STEM}.{kind}.{version}{PACKAGE_EXTENSION}"),
        None => format!("{PACKAGE_STEM}.{kind}.{version}{PACKAGE_EXTENSION}"),
    }
}

/// The file name the MES installer looks for: `Cmf.ClickHouse.FullBackup.<Kind>.<version>.zip`, or
/// with a system, `<System>.Cmf.ClickHouse.FullBackup.<Kind>.<version>.zip` (which the installer
/// prefers, so one packages folder can hold backups for several systems).
pub fn installer_package_name(
    kind: DatabaseKind,
    version: &str,
    system: Option<&str>,
) -> Result<String, Error> {
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
    pub kind: DatabaseKind,
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

// ---------------------------------------------------------------------------------------------
// Near-miss analysis
// ---------------------------------------------------------------------------------------------

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
struct Diagnosis {
    near_miss: NearMiss,
    kind: Option<DatabaseKind>,
    /// The system the name should carry (`None`: generic, or not inferable).
    system: Option<String>,
    /// The (possibly corrected) version, when known.
    version: Option<String>,
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
    let base = if no_digits.len() < s.len() && no_digits.ends_with(char::is_whitespace) {
        no_digits.trim_end()
    } else {
        s
    };
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
    let stripped = version
        .strip_prefix(['v', 'V'])
        .unwrap_or(version)
        .trim_matches('.');
    let dotted: String = stripped
        .chars()
        .map(|c| if c == '_' || c == '-' { '.' } else { c })
        .collect();
    is_valid_version(&dotted).then_some(dotted)
}

/// `MESCDM` used where the kind `CDM` belongs (or the system name where `Online` belongs).
fn kind_from_database_name(token: &str, system: Option<&str>) -> Option<DatabaseKind> {
    if let Some(system) = system {
        if let Some(kind) = DatabaseKind::ALL
            .into_iter()
            .find(|&k| database_name(system, k) == token)
        {
            return Some(kind);
        }
    }
    [DatabaseKind::Cdm, DatabaseKind::Ods, DatabaseKind::Dwh]
        .into_iter()
        .find(|k| {
            token
                .strip_suffix(k.database_suffix())
                .is_some_and(|head| system_problem(head).is_none())
        })
}

/// Marks of a download still in progress (Firefox `.part`, Chrome `.crdownload`, Safari
/// `.download`, Opera `.opdownload`, wget/curl style `.partial`/`.tmp`).
fn is_unfinished_download_tail(tail: &str) -> bool {
    let lower = tail.to_ascii_lowercase();
    [
        ".part",
        ".crdownload",
        ".download",
        ".opdownload",
        ".partial",
        ".tmp",
    ]
    .iter()
    .any(|m| lower.contains(m))
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
    let reason = problems
        .first()
        .map_or(NearMissReason::Renamed, |p| p.reason);
    let expected = match (kind, &version) {
        (Some(kind), Some(version)) => Some(canonical_name(system.as_deref(), kind, version)),
        _ => None,
    };
    let clauses = problems
        .iter()
        .map(|p| p.text.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    let mut message = format!(
        "{} is ignored by the MES installer: {clauses}.",
        quote_untrusted(file_name, QUOTE_MAX)
    );
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
    Diagnosis {
        near_miss: NearMiss {
            reason,
            message,
            expected,
        },
        kind,
        system,
        version,
    }
}

fn analyze(file_name: &str) -> Result<PackageName, Diagnosis> {
    let mut problems = Problems::default();

    let trimmed = file_name.trim();
    if trimmed.len() != file_name.len() {
        problems.add(
            Rank::Whitespace,
            NearMissReason::Renamed,
            "it starts or ends with whitespace".to_owned(),
        );
    }
    let mut work = trimmed;
    if let Some(rest) = strip_copy_of_prefix(work) {
        let added = &work[..work.len() - rest.len()];
        problems.add(
            Rank::CopySuffix,
            NearMissReason::ExtraSuffix,
            format!(
                "{} was added in front by a file manager's copy",
                quote_untrusted(added, QUOTE_MAX)
            ),
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
        match prefix
            .strip_suffix('.')
            .filter(|s| system_problem(s).is_none())
        {
            Some(system) => Some(system.to_owned()),
            None => {
                let candidate = prefix.trim_end_matches(['.', '-', '_', ' ', '+', '~']);
                let fixed = system_problem(candidate)
                    .is_none()
                    .then(|| candidate.to_owned());
                let q = quote_untrusted(prefix, QUOTE_MAX);
                let text = match (&fixed, prefix.strip_suffix('.')) {
                    (Some(fixed), _) => format!(
                        "the prefix {q} must be the system name followed by exactly one dot ({fixed}.)"
                    ),
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
                    format!(
                        "the extension must be lower-case .zip, not {}",
                        quote_untrusted(ext, 8)
                    ),
                );
            }
            (
                if at == 0 { "" } else { &dotted[1..at] },
                &dotted[at + PACKAGE_EXTENSION.len()..],
            )
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
            problems.add(
                Rank::CopySuffix,
                NearMissReason::ExtraSuffix,
                format!("{q} follows the .zip extension"),
            );
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
        problems.add(
            Rank::Whitespace,
            NearMissReason::Renamed,
            "it contains whitespace".to_owned(),
        );
        compact = body.chars().filter(|c| !c.is_whitespace()).collect();
        compact.as_str()
    } else {
        body
    };

    if stem_text != PACKAGE_STEM {
        problems.add(
            Rank::Case,
            NearMissReason::WrongCase,
            format!(
                "{PACKAGE_STEM} must be spelled with exactly this case, not {}",
                quote_untrusted(stem_text, 40)
            ),
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
            format!(
                "the database kind must be written {kind}, not {}",
                quote_untrusted(token, QUOTE_MAX)
            ),
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
            format!(
                "{} is not a database kind; use {KIND_LIST}",
                quote_untrusted(token, QUOTE_MAX)
            ),
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
                None => format!(
                    "{q} is not a valid version ({})",
                    version_problem(v).unwrap_or_default()
                ),
            };
            problems.add(Rank::Version, NearMissReason::BadVersion, text);
            fixed
        }
    };

    match (kind, version) {
        (Some(kind), Some(version)) if problems.0.is_empty() => Ok(PackageName {
            system,
            kind,
            version,
        }),
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
    let tokens: Vec<&str> = file_name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| !t.is_empty())
        .collect();
    let mut kinds: Vec<DatabaseKind> = tokens
        .iter()
        .filter_map(|t| DatabaseKind::from_token_ignore_case(t))
        .collect();
    if kinds.is_empty() {
        // "MESCDM_backup.zip": the database name instead of the kind. Upper case only, so words
        // such as "methods" do not count as ODS.
        kinds = tokens
            .iter()
            .filter_map(|t| kind_from_database_name(t, None))
            .collect();
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

// ---------------------------------------------------------------------------------------------
// Folder check
// ---------------------------------------------------------------------------------------------

/// Per database kind: what the installer would restore from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindReport {
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
#[serde(rename_all = "snake_case")]
pub enum IgnoredReason {
    OtherVersion,
    OtherSystem,
}

/// A correctly named package the installer skips because it is for something else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IgnoredFile {
    pub file: String,
    pub reason: IgnoredReason,
    pub message: String,
}

/// A file that was probably meant as a package but is not named exactly right.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NearMissFile {
    pub file: String,
    pub reason: NearMissReason,
    pub message: String,
    /// The exact name to rename it to, when it can be inferred (using the folder's version when
    /// the file names none).
    pub expected: Option<String>,
}

/// What the installer would do with a custom packages folder for one system and version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FolderReport {
    pub system: String,
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
pub fn check_folder(
    file_names: &[&str],
    system: &str,
    version: &str,
) -> Result<FolderReport, Error> {
    validate_system(system)?;
    validate_version(version)?;
    let mut names: Vec<&str> = file_names.to_vec();
    names.sort_unstable();
    names.dedup();

    let mut specific: [Option<String>; 4] = Default::default();
    let mut generic: [Option<String>; 4] = Default::default();
    let mut ignored = Vec::new();
    let mut near_misses = Vec::new();
    let index = |kind: DatabaseKind| {
        DatabaseKind::ALL
            .iter()
            .position(|&k| k == kind)
            .unwrap_or(0)
    };

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
                        message: format!(
                            "{q} is for system {s}; the installer for system {system} ignores it"
                        ),
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
                expected_names: [
                    canonical_name(Some(system), kind, version),
                    canonical_name(None, kind, version),
                ],
            }
        })
        .collect();
    let missing = kinds
        .iter()
        .filter(|k| k.chosen.is_none())
        .map(|k| k.kind)
        .collect();
    Ok(FolderReport {
        system: system.to_owned(),
        version: version.to_owned(),
        kinds,
        missing,
        ignored,
        near_misses,
    })
}

/// A near miss in the context of a folder: when the kind is known but the version is not, the
/// folder's version completes the suggestion; a file for another version gets a note, since
/// renaming alone would still leave it ignored.
fn near_miss_in_folder(name: &str, d: Diagnosis, version: &str) -> NearMissFile {
    let NearMiss {
        reason,
        mut message,
        mut expected,
    } = d.near_miss;
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
    NearMissFile {
        file: name.to_owned(),
        reason,
        message,
        expected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SEED_NAMES: [(&str, DatabaseKind); 4] = [
        (
            "Cmf.ClickHouse.FullBackup.Online.11.3.0.zip",
            DatabaseKind::Online,
        ),
        (
            "Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip",
            DatabaseKind::Cdm,
        ),
        (
            "Cmf.ClickHouse.FullBackup.DWH.11.3.0.zip",
            DatabaseKind::Dwh,
        ),
        (
            "Cmf.ClickHouse.FullBackup.ODS.11.3.0.zip",
            DatabaseKind::Ods,
        ),
    ];

    fn miss(name: &str) -> NearMiss {
        match parse_package_name(name) {
            Ok(p) => panic!("{name:?} parsed as {p:?}"),
            Err(m) => m,
        }
    }

    fn assert_miss(name: &str, reason: NearMissReason, expected: Option<&str>) -> NearMiss {
        let m = miss(name);
        assert_eq!(m.reason, reason, "{name:?}: {}", m.message);
        assert_eq!(m.expected.as_deref(), expected, "{name:?}: {}", m.message);
        if let Some(e) = expected {
            assert!(
                m.message.contains(&format!("Rename it to {e}.")),
                "{}",
                m.message
            );
        }
        m
    }

    // --- kinds -----------------------------------------------------------------------------

    #[test]
    fn kind_tokens_suffixes_serde_and_display() {
        let tokens: Vec<&str> = DatabaseKind::ALL
            .iter()
            .map(|k| k.package_token())
            .collect();
        assert_eq!(tokens, ["Online", "CDM", "ODS", "DWH"]);
        let suffixes: Vec<&str> = DatabaseKind::ALL
            .iter()
            .map(|k| k.database_suffix())
            .collect();
        assert_eq!(suffixes, ["", "CDM", "ODS", "DWH"]);
        for kind in DatabaseKind::ALL {
            assert_eq!(
                DatabaseKind::from_package_token(kind.package_token()),
                Some(kind)
            );
            assert_eq!(kind.to_string(), kind.package_token());
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.package_token()));
            assert_eq!(serde_json::from_str::<DatabaseKind>(&json).unwrap(), kind);
        }
        assert_eq!(DatabaseKind::from_package_token("cdm"), None);
        assert_eq!(DatabaseKind::from_package_token("online"), None);
        assert_eq!(DatabaseKind::from_package_token("MAIN"), None);
        assert!(serde_json::from_str::<DatabaseKind>("\"Cdm\"").is_err());
    }

    // --- systems and databases ------------------------------------------------------------------

    #[test]
    fn system_names() {
        for ok in ["MES", "mes", "Plant_1", "A", &"A".repeat(64)] {
            assert!(validate_system(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "1MES",
            "_MES",
            "MES-1",
            "MES.",
            "MÉS",
            "MES 2",
            "a/b",
            &"A".repeat(65),
        ] {
            let e = validate_system(bad).unwrap_err();
            assert_eq!(e.kind, crate::ErrorKind::InvalidArgument);
            assert!(
                e.message.contains("ASCII letters, digits or underscores"),
                "{}",
                e.message
            );
        }
        assert!(validate_system("MES-1")
            .unwrap_err()
            .message
            .contains("\"-\""));
    }

    #[test]
    fn database_names() {
        assert_eq!(database_name("MES", DatabaseKind::Cdm), "MESCDM");
        assert_eq!(database_name("MES", DatabaseKind::Online), "MES");
        assert!(validate_database_name("MESCDM").is_ok());
        for bad in [
            "",
            "MES/../x",
            "MES CDM",
            "MES?x",
            "MES%2F",
            &"A".repeat(68),
        ] {
            assert!(validate_database_name(bad).is_err(), "{bad}");
        }
        let all = system_databases("MES").unwrap();
        assert_eq!(
            all,
            [
                (DatabaseKind::Online, "MES".to_owned()),
                (DatabaseKind::Cdm, "MESCDM".to_owned()),
                (DatabaseKind::Ods, "MESODS".to_owned()),
                (DatabaseKind::Dwh, "MESDWH".to_owned()),
            ]
        );
        assert!(system_databases("1x").is_err());
    }

    #[test]
    fn parse_database_names() {
        let p = |n: &str, s: Option<&str>| parse_database_name(n, s);
        assert_eq!(
            p("MESCDM", Some("MES")).unwrap(),
            ("MES".to_owned(), DatabaseKind::Cdm)
        );
        assert_eq!(
            p("MES", Some("MES")).unwrap(),
            ("MES".to_owned(), DatabaseKind::Online)
        );
        assert_eq!(
            p("MESDWH", None).unwrap(),
            ("MES".to_owned(), DatabaseKind::Dwh)
        );
        assert_eq!(
            p("MESODS", None).unwrap(),
            ("MES".to_owned(), DatabaseKind::Ods)
        );
        assert_eq!(
            p("MES", None).unwrap(),
            ("MES".to_owned(), DatabaseKind::Online)
        );
        assert_eq!(
            p("CDM", None).unwrap(),
            ("CDM".to_owned(), DatabaseKind::Online)
        );
        assert_eq!(
            p("MEScdm", None).unwrap(),
            ("MEScdm".to_owned(), DatabaseKind::Online)
        );
        let e = p("mescdm", Some("MES")).unwrap_err();
        assert!(e.message.contains("use MESCDM"), "{}", e.message);
        let e = p("OTHERCDM", Some("MES")).unwrap_err();
        assert!(
            e.message.contains("MES, MESCDM, MESODS, MESDWH"),
            "{}",
            e.message
        );
        assert!(p("1CDM", None).is_err());
        assert!(p("MES/CDM", None).is_err());
        assert!(p("MESCDM", Some("bad-system")).is_err());
    }

    // --- versions -------------------------------------------------------------------------------

    #[test]
    fn versions() {
        for ok in ["11.3.0", "11.3", "11.3.0.1234", "0.1", "123456789.1"] {
            assert!(validate_version(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "11",
            "1.2.3.4.5",
            "11.x.0",
            "11..0",
            ".11.3",
            "11.3.",
            "1234567890.1",
            " 11.3.0",
            "11.3.0-rc1",
        ] {
            assert!(validate_version(bad).is_err(), "{bad}");
        }
        let e = validate_version("v11.3.0").unwrap_err();
        assert!(
            e.message.contains("use 11.3.0, not \"v11.3.0\""),
            "{}",
            e.message
        );
        assert!(validate_version("11")
            .unwrap_err()
            .message
            .contains("2 to 4"));
    }

    // --- building and parsing names -------------------------------------------------------------

    #[test]
    fn seed_examples() {
        for (name, kind) in SEED_NAMES {
            let p = parse_package_name(name).unwrap();
            assert_eq!(
                p,
                PackageName {
                    system: None,
                    kind,
                    version: "11.3.0".to_owned()
                }
            );
            assert_eq!(installer_package_name(kind, "11.3.0", None).unwrap(), name);
        }
        let p = parse_package_name("MES.Cmf.ClickHouse.FullBackup.Online.11.3.0.zip").unwrap();
        assert_eq!(p.system.as_deref(), Some("MES"));
        assert_eq!(p.kind, DatabaseKind::Online);
        assert_eq!(
            installer_package_name(DatabaseKind::Online, "11.3.0", Some("MES")).unwrap(),
            "MES.Cmf.ClickHouse.FullBackup.Online.11.3.0.zip"
        );
    }

    #[test]
    fn round_trip_all_kinds() {
        for system in [None, Some("MES"), Some("Plant_2")] {
            for kind in DatabaseKind::ALL {
                for version in ["11.3.0", "11.3", "12.0.1.7"] {
                    let name = installer_package_name(kind, version, system).unwrap();
                    let p = parse_package_name(&name).unwrap();
                    assert_eq!(p.system.as_deref(), system);
                    assert_eq!(p.kind, kind);
                    assert_eq!(p.version, version);
                    assert_eq!(p.file_name(), name);
                    let json = serde_json::to_string(&p).unwrap();
                    assert_eq!(serde_json::from_str::<PackageName>(&json).unwrap(), p);
                }
            }
        }
        assert!(installer_package_name(DatabaseKind::Cdm, "v11.3.0", None).is_err());
        assert!(installer_package_name(DatabaseKind::Cdm, "11.3.0", Some("MES-1")).is_err());
    }

    // --- near misses, one reason at a time ---------------------------------------------------------

    #[test]
    fn not_a_package() {
        for name in [
            "readme.txt",
            "Cmf.Custom.Package.11.3.0.zip",
            "MES_full.bak",
            "Cmf.Custom.ClickHouse.Dashboards.1.0.0.zip",
            "clickhouse-notes.txt",
            "",
        ] {
            let m = assert_miss(name, NearMissReason::NotAPackage, None);
            assert!(
                m.message.contains("not a ClickHouse backup package"),
                "{}",
                m.message
            );
        }
    }

    #[test]
    fn wrong_case() {
        assert_miss(
            "cmf.clickhouse.fullbackup.online.11.3.0.zip",
            NearMissReason::WrongCase,
            Some("Cmf.ClickHouse.FullBackup.Online.11.3.0.zip"),
        );
        let m = assert_miss(
            "Cmf.ClickHouse.FullBackup.cdm.11.3.0.zip",
            NearMissReason::WrongCase,
            Some("Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip"),
        );
        assert!(
            m.message.contains("must be written CDM, not \"cdm\""),
            "{}",
            m.message
        );
        assert_miss(
            "Cmf.ClickHouse.FullBackup.ODS.11.3.0.ZIP",
            NearMissReason::WrongCase,
            Some("Cmf.ClickHouse.FullBackup.ODS.11.3.0.zip"),
        );
        assert_miss(
            "MES.CMF.CLICKHOUSE.FULLBACKUP.DWH.11.3.0.Zip",
            NearMissReason::WrongCase,
            Some("MES.Cmf.ClickHouse.FullBackup.DWH.11.3.0.zip"),
        );
    }

    #[test]
    fn unknown_kind() {
        for name in [
            "Cmf.ClickHouse.FullBackup.MAIN.11.3.0.zip",
            "Cmf.ClickHouse.FullBackup.Full.11.3.0.zip",
            "Cmf.ClickHouse.FullBackup.11.3.0.zip",
            "Cmf.ClickHouse.FullBackup.zip",
            "Cmf.ClickHouse.FullBackup.CDM-11.3.0.zip",
        ] {
            let m = assert_miss(name, NearMissReason::UnknownKind, None);
            assert!(
                m.message
                    .contains("Online (the main database), CDM, ODS or DWH"),
                "{}",
                m.message
            );
        }
        // A database name where the kind belongs can be mapped back.
        assert_miss(
            "Cmf.ClickHouse.FullBackup.MESCDM.11.3.0.zip",
            NearMissReason::UnknownKind,
            Some("Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip"),
        );
        assert_miss(
            "MES.Cmf.ClickHouse.FullBackup.MES.11.3.0.zip",
            NearMissReason::UnknownKind,
            Some("MES.Cmf.ClickHouse.FullBackup.Online.11.3.0.zip"),
        );
    }

    #[test]
    fn missing_version() {
        let m = assert_miss(
            "Cmf.ClickHouse.FullBackup.CDM.zip",
            NearMissReason::MissingVersion,
            None,
        );
        assert!(
            m.message
                .contains("Cmf.ClickHouse.FullBackup.CDM.<version>.zip"),
            "{}",
            m.message
        );
        assert_miss(
            "Cmf.ClickHouse.FullBackup.Online..zip",
            NearMissReason::MissingVersion,
            None,
        );
    }

    #[test]
    fn bad_version() {
        let m = assert_miss(
            "Cmf.ClickHouse.FullBackup.CDM.v11.3.0.zip",
            NearMissReason::BadVersion,
            Some("Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip"),
        );
        assert!(
            m.message.contains("must be written 11.3.0"),
            "{}",
            m.message
        );
        assert_miss(
            "Cmf.ClickHouse.FullBackup.CDM.11.x.0.zip",
            NearMissReason::BadVersion,
            None,
        );
        assert_miss(
            "Cmf.ClickHouse.FullBackup.CDM.11.zip",
            NearMissReason::BadVersion,
            None,
        );
        assert_miss(
            "Cmf.ClickHouse.FullBackup.CDM.1.2.3.4.5.zip",
            NearMissReason::BadVersion,
            None,
        );
        assert_miss(
            "Cmf.ClickHouse.FullBackup.CDM.11_3_0.zip",
            NearMissReason::BadVersion,
            Some("Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip"),
        );
        // 11.3 is a valid version on its own.
        assert!(parse_package_name("Cmf.ClickHouse.FullBackup.CDM.11.3.zip").is_ok());
    }

    #[test]
    fn extra_suffix() {
        let right = "Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip";
        for name in [
            "Cmf.ClickHouse.FullBackup.CDM.11.3.0 (1).zip",
            "Cmf.ClickHouse.FullBackup.CDM.11.3.0(2).zip",
            "Cmf.ClickHouse.FullBackup.CDM.11.3.0-copy.zip",
            "Cmf.ClickHouse.FullBackup.CDM.11.3.0 - Copy.zip",
            "Cmf.ClickHouse.FullBackup.CDM.11.3.0 - Copy (2).zip",
            "Cmf.ClickHouse.FullBackup.CDM.11.3.0 copy 2.zip",
            "Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip.zip",
            "Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip (1)",
            "Copy of Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip",
        ] {
            assert_miss(name, NearMissReason::ExtraSuffix, Some(right));
        }
        for name in [
            "Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip.part",
            "Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip.crdownload",
            "Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip.download",
        ] {
            let m = assert_miss(name, NearMissReason::ExtraSuffix, Some(right));
            assert!(m.message.contains("unfinished download"), "{}", m.message);
        }
    }

    #[test]
    fn wrong_extension() {
        let right = Some("Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip");
        let m = assert_miss(
            "Cmf.ClickHouse.FullBackup.CDM.11.3.0.7z",
            NearMissReason::WrongExtension,
            right,
        );
        assert!(
            m.message.contains("renaming does not convert it"),
            "{}",
            m.message
        );
        assert_miss(
            "Cmf.ClickHouse.FullBackup.CDM.11.3.0.tar.gz",
            NearMissReason::WrongExtension,
            right,
        );
        let m = assert_miss(
            "Cmf.ClickHouse.FullBackup.CDM.11.3.0",
            NearMissReason::WrongExtension,
            right,
        );
        assert!(m.message.contains("no .zip extension"), "{}", m.message);
        assert_miss(
            "Cmf.ClickHouse.FullBackup.CDM.11.3.0.zipx",
            NearMissReason::WrongExtension,
            right,
        );
    }

    #[test]
    fn renamed() {
        let right = Some("Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip");
        assert_miss(
            "ClickHouse.FullBackup.CDM.11.3.0.zip",
            NearMissReason::Renamed,
            right,
        );
        assert_miss(
            "Cmf.Clickhouse.Backup.CDM.11.3.0.zip",
            NearMissReason::Renamed,
            right,
        );
        assert_miss(
            "Cmf_ClickHouse_FullBackup_CDM_11.3.0.zip",
            NearMissReason::Renamed,
            right,
        );
        assert_miss(
            "Cmf.ClickHouse.FullBackup.CDM.11.3.0 .zip",
            NearMissReason::Renamed,
            right,
        );
        assert_miss(
            " Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip",
            NearMissReason::Renamed,
            right,
        );
        assert_miss(
            "Cmf.ClickHouse.FullBackup. CDM.11.3.0.zip",
            NearMissReason::Renamed,
            right,
        );
        let m = assert_miss("MES_CDM_backup.zip", NearMissReason::Renamed, None);
        assert!(
            m.message
                .contains("Cmf.ClickHouse.FullBackup.CDM.<version>.zip"),
            "{}",
            m.message
        );
        assert_miss(
            "MESODS_backup_11.3.0.zip",
            NearMissReason::Renamed,
            Some("Cmf.ClickHouse.FullBackup.ODS.11.3.0.zip"),
        );
        // Two kinds mentioned: no guess.
        assert_miss(
            "clickhouse_backup_cdm_ods.zip",
            NearMissReason::Renamed,
            None,
        );
    }

    #[test]
    fn bad_system_prefix() {
        let right = Some("MES.Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip");
        assert_miss(
            "MES-Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip",
            NearMissReason::BadSystemPrefix,
            right,
        );
        assert_miss(
            "MES..Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip",
            NearMissReason::BadSystemPrefix,
            right,
        );
        assert_miss(
            "MES_Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip",
            NearMissReason::BadSystemPrefix,
            right,
        );
        assert_miss(
            "MESCmf.ClickHouse.FullBackup.CDM.11.3.0.zip",
            NearMissReason::BadSystemPrefix,
            right,
        );
        // Not fixable: the generic name is offered instead.
        let generic = Some("Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip");
        let m = assert_miss(
            "My-Plant.Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip",
            NearMissReason::BadSystemPrefix,
            generic,
        );
        assert!(m.message.contains("generic name"), "{}", m.message);
        assert_miss(
            "MÉS.Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip",
            NearMissReason::BadSystemPrefix,
            generic,
        );
        assert_miss(
            "1MES.Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip",
            NearMissReason::BadSystemPrefix,
            generic,
        );
    }

    #[test]
    fn several_problems_report_the_most_specific_and_fix_all() {
        let m = assert_miss(
            "cmf.clickhouse.fullbackup.cdm.v11.3.0 (1).ZIP",
            NearMissReason::BadVersion,
            Some("Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip"),
        );
        assert!(
            m.message.contains("(1)") && m.message.contains("lower-case .zip"),
            "{}",
            m.message
        );
        assert_miss(
            "cmf.clickhouse.fullbackup.cdm.11.3.0.zip.crdownload",
            NearMissReason::ExtraSuffix,
            Some("Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip"),
        );
        assert_miss(
            "Cmf.ClickHouse.FullBackup.CDM (1).zip",
            NearMissReason::MissingVersion,
            None,
        );
        assert_miss(
            "MES-Cmf.ClickHouse.FullBackup.Full.11.3.0.zip",
            NearMissReason::BadSystemPrefix,
            None,
        );
    }

    #[test]
    fn messages_quote_hostile_names() {
        let m = miss("Cmf.ClickHouse.FullBackup.CDM.11.3.0\u{1b}[31m.zip");
        assert!(!m.message.contains('\u{1b}'), "{}", m.message);
        let m = miss("Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip\n");
        assert!(!m.message.contains('\n'), "{}", m.message);
        let reason = serde_json::to_string(&NearMissReason::BadSystemPrefix).unwrap();
        assert_eq!(reason, "\"bad_system_prefix\"");
    }

    // --- folder check -------------------------------------------------------------------------

    #[test]
    fn folder_with_seed_names_is_complete() {
        let names: Vec<&str> = SEED_NAMES.iter().map(|(n, _)| *n).collect();
        let r = check_folder(&names, "MES", "11.3.0").unwrap();
        assert!(r.complete());
        assert!(r.missing.is_empty() && r.ignored.is_empty() && r.near_misses.is_empty());
        let kinds: Vec<DatabaseKind> = r.kinds.iter().map(|k| k.kind).collect();
        assert_eq!(kinds, DatabaseKind::ALL);
        for k in &r.kinds {
            assert!(!k.system_specific);
            assert_eq!(k.chosen.as_ref(), Some(&k.expected_names[1]));
        }
        assert_eq!(
            r.kinds[0].expected_names,
            [
                "MES.Cmf.ClickHouse.FullBackup.Online.11.3.0.zip".to_owned(),
                "Cmf.ClickHouse.FullBackup.Online.11.3.0.zip".to_owned()
            ]
        );
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<FolderReport>(&json).unwrap(), r);
    }

    #[test]
    fn folder_prefers_system_specific_and_lists_missing() {
        let names = [
            "Cmf.ClickHouse.FullBackup.Online.11.3.0.zip",
            "MES.Cmf.ClickHouse.FullBackup.Online.11.3.0.zip",
            "Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip",
        ];
        let r = check_folder(&names, "MES", "11.3.0").unwrap();
        let online = &r.kinds[0];
        assert_eq!(
            online.chosen.as_deref(),
            Some("MES.Cmf.ClickHouse.FullBackup.Online.11.3.0.zip")
        );
        assert!(online.system_specific);
        assert_eq!(
            online.also_present_but_shadowed.as_deref(),
            Some("Cmf.ClickHouse.FullBackup.Online.11.3.0.zip")
        );
        let cdm = &r.kinds[1];
        assert_eq!(
            cdm.chosen.as_deref(),
            Some("Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip")
        );
        assert!(!cdm.system_specific && cdm.also_present_but_shadowed.is_none());
        assert_eq!(r.missing, [DatabaseKind::Ods, DatabaseKind::Dwh]);
        assert!(!r.complete());
    }

    #[test]
    fn folder_ignored_and_near_misses() {
        let names = [
            "readme.txt",
            ".Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip.swp",
            "Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip.mesbackup.json",
            "Cmf.ClickHouse.FullBackup.CDM.11.2.0.zip",
            "OTHER.Cmf.ClickHouse.FullBackup.ODS.11.3.0.zip",
            "mes.Cmf.ClickHouse.FullBackup.DWH.11.3.0.zip",
            "Cmf.ClickHouse.FullBackup.Online.11.3.0 (1).zip",
            "MES_CDM_backup.zip",
            "cmf.clickhouse.fullbackup.ods.11.2.0.zip",
            "Cmf.ClickHouse.FullBackup.MAIN.11.3.0.zip",
        ];
        let r = check_folder(&names, "MES", "11.3.0").unwrap();
        assert_eq!(r.missing, DatabaseKind::ALL);
        let ignored: Vec<(&str, IgnoredReason)> = r
            .ignored
            .iter()
            .map(|i| (i.file.as_str(), i.reason))
            .collect();
        assert_eq!(
            ignored,
            [
                (
                    "Cmf.ClickHouse.FullBackup.CDM.11.2.0.zip",
                    IgnoredReason::OtherVersion
                ),
                (
                    "OTHER.Cmf.ClickHouse.FullBackup.ODS.11.3.0.zip",
                    IgnoredReason::OtherSystem
                ),
            ]
        );
        let near: Vec<(&str, NearMissReason, Option<&str>)> = r
            .near_misses
            .iter()
            .map(|n| (n.file.as_str(), n.reason, n.expected.as_deref()))
            .collect();
        assert_eq!(
            near,
            [
                (
                    "Cmf.ClickHouse.FullBackup.MAIN.11.3.0.zip",
                    NearMissReason::UnknownKind,
                    None
                ),
                (
                    "Cmf.ClickHouse.FullBackup.Online.11.3.0 (1).zip",
                    NearMissReason::ExtraSuffix,
                    Some("Cmf.ClickHouse.FullBackup.Online.11.3.0.zip")
                ),
                (
                    "MES_CDM_backup.zip",
                    NearMissReason::Renamed,
                    Some("Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip")
                ),
                (
                    "cmf.clickhouse.fullbackup.ods.11.2.0.zip",
                    NearMissReason::WrongCase,
                    Some("Cmf.ClickHouse.FullBackup.ODS.11.2.0.zip")
                ),
                (
                    "mes.Cmf.ClickHouse.FullBackup.DWH.11.3.0.zip",
                    NearMissReason::WrongCase,
                    Some("MES.Cmf.ClickHouse.FullBackup.DWH.11.3.0.zip")
                ),
            ]
        );
        assert!(r.near_misses[2]
            .message
            .contains("If it is the CDM backup for version 11.3.0"));
        assert!(r.near_misses[3]
            .message
            .contains("Note that it is for version 11.2.0, not 11.3.0"));
        assert!(r.ignored[0].message.contains("version 11.2.0"));
    }

    #[test]
    fn folder_rejects_bad_arguments_and_is_order_independent() {
        assert!(check_folder(&[], "bad system", "11.3.0").is_err());
        assert!(check_folder(&[], "MES", "v11.3.0").is_err());
        let a = [
            "MES.Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip",
            "x.zip",
            "Cmf.ClickHouse.FullBackup.CDM.11.3.zip",
        ];
        let mut b = a;
        b.reverse();
        assert_eq!(
            check_folder(&a, "MES", "11.3.0").unwrap(),
            check_folder(&b, "MES", "11.3.0").unwrap()
        );
    }

    // --- properties -----------------------------------------------------------------------------

    /// Names assembled from realistic damaged pieces, so every branch of the analysis is reached.
    fn piecewise_name() -> impl Strategy<Value = String> {
        use prop::sample::select;
        (
            select(vec![
                "",
                "MES.",
                "mes.",
                "MES-",
                "MES..",
                "My Plant.",
                "Copy of ",
                " ",
                "Site_2.",
                "É.",
                ".",
            ]),
            select(vec![
                "Cmf.ClickHouse.FullBackup",
                "cmf.clickhouse.fullbackup",
                "CMF.CLICKHOUSE.FULLBACKUP",
                "ClickHouse.FullBackup",
                "Cmf.Clickhouse.Backup",
                "Cmf_ClickHouse_FullBackup",
                "MES_backup",
            ]),
            select(vec![
                ".Online", ".CDM", ".ods", ".Dwh", ".MAIN", ".Full", ".MESCDM", ".MES", "", ".",
                "_CDM",
            ]),
            select(vec![
                ".11.3.0",
                ".v11.3.0",
                ".11.x.0",
                "",
                ".11",
                ".11.3",
                ".1.2.3.4.5",
                ".11.3.0.",
                ". 11.3.0",
                ".11_3_0",
            ]),
            select(vec!["", " (1)", "-copy", " - Copy", " copy 2", " ", "(12)"]),
            select(vec![
                ".zip",
                ".ZIP",
                ".zip.zip",
                ".zip.part",
                ".zip.crdownload",
                ".7z",
                ".tar.gz",
                "",
                ".zip (1)",
                ".zipx",
            ]),
        )
            .prop_map(|(a, b, c, d, e, f)| format!("{a}{b}{c}{d}{e}{f}"))
    }

    /// A piecewise name with one arbitrary character inserted somewhere.
    fn mutated_name() -> impl Strategy<Value = String> {
        (
            piecewise_name(),
            any::<char>(),
            any::<prop::sample::Index>(),
        )
            .prop_map(|(name, c, at)| {
                let boundaries: Vec<usize> = name
                    .char_indices()
                    .map(|(i, _)| i)
                    .chain([name.len()])
                    .collect();
                let at = boundaries[at.index(boundaries.len())];
                let mut out = name;
                out.insert(at, c);
                out
            })
    }

    fn any_name() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "\\PC{0,60}",
            "[\\x00-\\x7f]{0,60}",
            piecewise_name(),
            mutated_name()
        ]
    }

    fn check_parse_invariants(name: &str) {
        match parse_package_name(name) {
            // Only canonical names are accepted.
            Ok(p) => assert_eq!(p.file_name(), name),
            Err(m) => {
                assert!(!m.message.is_empty());
                if let Some(expected) = &m.expected {
                    assert_ne!(expected, name);
                    let p = parse_package_name(expected).unwrap_or_else(|e| {
                        panic!("expected {expected:?} for {name:?} does not parse: {e}")
                    });
                    assert_eq!(&p.file_name(), expected);
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn parse_never_panics_and_expected_parses(name in any_name()) {
            check_parse_invariants(&name);
        }

        #[test]
        fn built_names_parse_back(
            system in proptest::option::of("[A-Za-z][A-Za-z0-9_]{0,63}"),
            kind in prop::sample::select(DatabaseKind::ALL.to_vec()),
            version in "[0-9]{1,9}(\\.[0-9]{1,9}){1,3}",
        ) {
            let name = installer_package_name(kind, &version, system.as_deref()).unwrap();
            let p = parse_package_name(&name).unwrap();
            prop_assert_eq!(p, PackageName { system, kind, version });
        }

        #[test]
        fn check_folder_never_panics(names in prop::collection::vec(any_name(), 0..12)) {
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            let r = check_folder(&refs, "MES", "11.3.0").unwrap();
            prop_assert_eq!(r.kinds.len(), 4);
            for k in &r.kinds {
                if let Some(chosen) = &k.chosen {
                    prop_assert!(k.expected_names.contains(chosen));
                }
            }
            for n in &r.near_misses {
                if let Some(e) = &n.expected {
                    prop_assert!(parse_package_name(e).is_ok());
                }
            }
        }
    }
}
