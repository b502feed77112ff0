//! The four databases of an MES system, and the system and database names that reach URLs and
//! file names.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{quote_untrusted, Error};

/// Longest accepted system name. MES itself has no documented limit; 64 keeps database names,
/// URL paths and file names comfortably short and catches pasted garbage early.
pub const MAX_SYSTEM_LEN: usize = 64;

/// Longest accepted database name: a maximal system name plus a three-letter suffix.
pub const MAX_DATABASE_NAME_LEN: usize = MAX_SYSTEM_LEN + 3;

/// File names are untrusted (a folder listing may contain anything): quote them bounded.
pub(super) const QUOTE_MAX: usize = 160;

/// The four ClickHouse databases of one MES system.
///
/// Serialized as the installer's package token (`"Online"`, `"CDM"`, `"ODS"`, `"DWH"`) because that
/// is the spelling administrators see in file names and documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
    pub const ALL: [DatabaseKind; 4] = [DatabaseKind::Online, DatabaseKind::Cdm, DatabaseKind::Ods, DatabaseKind::Dwh];

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
        DatabaseKind::ALL.into_iter().find(|k| k.package_token() == token)
    }

    /// Case-insensitive lookup, only used to diagnose near misses.
    pub(super) fn from_token_ignore_case(token: &str) -> Option<DatabaseKind> {
        DatabaseKind::ALL.into_iter().find(|k| k.package_token().eq_ignore_ascii_case(token))
    }
}

impl fmt::Display for DatabaseKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.package_token())
    }
}

/// "Online (the main database), CDM, ODS or DWH": used in every message about kinds.
pub(super) const KIND_LIST: &str = "Online (the main database), CDM, ODS or DWH";

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Why `system` is not a valid system name, in words; `None` when it is valid.
pub(super) fn system_problem(system: &str) -> Option<String> {
    let Some(first) = system.chars().next() else {
        return Some("it is empty".to_owned());
    };
    let len = system.chars().count();
    if len > MAX_SYSTEM_LEN {
        return Some(format!("it is {len} characters long (at most {MAX_SYSTEM_LEN})"));
    }
    if let Some(bad) = system.chars().find(|&c| !is_name_char(c)) {
        return Some(format!("it contains {}", quote_untrusted(&bad.to_string(), 4)));
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
        Some(format!("it is longer than {MAX_DATABASE_NAME_LEN} characters"))
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
pub fn parse_database_name(name: &str, system: Option<&str>) -> Result<(String, DatabaseKind), Error> {
    validate_database_name(name)?;
    if let Some(system) = system {
        validate_system(system)?;
        let databases = DatabaseKind::ALL.map(|k| (k, database_name(system, k)));
        if let Some((kind, _)) = databases.iter().find(|(_, db)| db == name) {
            return Ok((system.to_owned(), *kind));
        }
        let all = databases.iter().map(|(_, db)| db.as_str()).collect::<Vec<_>>().join(", ");
        if let Some((_, right)) = databases.iter().find(|(_, db)| db.eq_ignore_ascii_case(name)) {
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
