//! What is inside a package: databases, tables and engines (from the backup's `metadata/*.sql`),
//! parts, rows (from each part's `count.txt`), bytes, and the storage policies and disks the
//! tables need at restore time (ClickHouse fails a RESTORE with UNKNOWN_POLICY / UNKNOWN_DISK
//! late; we name them up front).
//!
//! Built from the same single pass as [`crate::verify`]: [`Verifier::finish_with_inspection`]
//! returns both, or use an [`Inspector`] (which skips SHA-256) on its own.
//!
//! [`Verifier::finish_with_inspection`]: crate::verify::Verifier::finish_with_inspection

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::error::quote_untrusted;
use crate::verify::{PackageContents, Verifier};

/// A table (or view, dictionary) of the backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableInfo {
    pub database: String,
    pub name: String,
    /// "table", "view", "materialized_view", "live_view", "window_view" or "dictionary".
    pub kind: String,
    /// The engine as written (`ReplacingMergeTree(ModifiedOn)`), when there is one.
    pub engine: Option<String>,
    /// The engine's name alone (`ReplacingMergeTree`).
    pub engine_name: Option<String>,
    pub order_by: Option<String>,
    pub partition_by: Option<String>,
    pub primary_key: Option<String>,
    /// `SETTINGS storage_policy = '...'`, when set.
    pub storage_policy: Option<String>,
    /// `SETTINGS disk = '...'`, when set (`disk(...)` definitions are shown as written).
    pub disk: Option<String>,
    /// The policy the table needs on the target: its own, or `default` for a MergeTree table
    /// without one (None for engines without storage, or a table pinned to a disk).
    pub required_policy: Option<String>,
    pub uuid: Option<String>,
    /// Data parts in the backup.
    pub parts: u64,
    /// Rows: sum of the parts' `count.txt`.
    pub rows: u64,
    /// Bytes of the table's data files in the backup (logical sizes, before deduplication).
    pub bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseInfo {
    pub name: String,
    /// `Atomic`, `Replicated(...)`...
    pub engine: Option<String>,
    pub uuid: Option<String>,
    pub tables: Vec<TableInfo>,
    pub parts: u64,
    pub rows: u64,
    pub bytes: u64,
}

/// The result of an inspection.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Inspection {
    /// Folder of the `.backup` manifest inside the zip.
    pub backup_root: Option<String>,
    /// From the manifest.
    pub timestamp: Option<String>,
    pub uuid: Option<String>,
    pub databases: Vec<DatabaseInfo>,
    /// Every storage policy the tables need at restore time (sorted; includes `default` when a
    /// MergeTree table has no explicit policy).
    pub storage_policies: Vec<String>,
    /// Every disk named explicitly by a table (`SETTINGS disk = '...'`).
    pub disks: Vec<String>,
    pub tables: u64,
    pub parts: u64,
    pub rows: u64,
    pub bytes: u64,
    /// Things that could not be read.
    pub notes: Vec<String>,
}

impl Inspection {
    /// The table `database.name`, if present.
    pub fn table(&self, database: &str, name: &str) -> Option<&TableInfo> {
        self.databases
            .iter()
            .filter(|d| d.name == database)
            .flat_map(|d| &d.tables)
            .find(|t| t.name == name)
    }
}

/// Inspection alone: feed the package, then [`finish`](Inspector::finish).
#[derive(Default)]
pub struct Inspector {
    inner: Verifier,
}

impl Inspector {
    pub fn new() -> Inspector {
        Inspector {
            inner: Verifier::new(),
        }
    }
    pub fn feed(&mut self, data: &[u8]) {
        self.inner.feed(data);
    }
    pub fn finish(self) -> Inspection {
        inspect(&self.inner.finish_contents().0)
    }
}

/// ClickHouse's `unescapeForFileName`: `%XX` back to the byte.
pub fn unescape_file_name(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let h = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(v) = h {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What a CREATE statement says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateInfo {
    /// "database", "table", "view", "materialized_view", "live_view", "window_view", "dictionary".
    pub kind: String,
    pub database: Option<String>,
    pub name: Option<String>,
    pub uuid: Option<String>,
    pub engine: Option<String>,
    pub order_by: Option<String>,
    pub partition_by: Option<String>,
    pub primary_key: Option<String>,
    /// SETTINGS as (key, value) with string literals unquoted.
    pub settings: Vec<(String, String)>,
}

impl CreateInfo {
    pub fn setting(&self, key: &str) -> Option<&str> {
        self.settings
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }
    pub fn engine_name(&self) -> Option<String> {
        let e = self.engine.as_deref()?;
        let end = e
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(e.len());
        (end > 0).then(|| e[..end].to_owned())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Word,
    Str,
    Quoted,
    Open,
    Close,
    Comma,
    Dot,
    Eq,
    Other,
}

/// Tokens of a statement: (kind, start, end, paren depth before the token).
fn tokens(sql: &str) -> Vec<(Tok, usize, usize, usize)> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut depth = 0usize;
    while i < b.len() {
        let c = b[i];
        let start = i;
        let kind = match c {
            c if c.is_ascii_whitespace() => {
                i += 1;
                continue;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i = (i + 2).min(b.len());
                continue;
            }
            b'\'' | b'`' | b'"' => {
                i += 1;
                while i < b.len() {
                    if b[i] == b'\\' {
                        i += 2;
                        continue;
                    }
                    if b[i] == c {
                        if b.get(i + 1) == Some(&c) {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                i = (i + 1).min(b.len());
                if c == b'\'' {
                    Tok::Str
                } else {
                    Tok::Quoted
                }
            }
            b'(' | b'[' => {
                i += 1;
                out.push((Tok::Open, start, i, depth));
                depth += 1;
                continue;
            }
            b')' | b']' => {
                i += 1;
                depth = depth.saturating_sub(1);
                out.push((Tok::Close, start, i, depth));
                continue;
            }
            b',' => {
                i += 1;
                Tok::Comma
            }
            b'.' => {
                i += 1;
                Tok::Dot
            }
            b'=' => {
                i += 1;
                Tok::Eq
            }
            c if c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80 => {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] >= 0x80)
                {
                    i += 1;
                }
                Tok::Word
            }
            _ => {
                i += 1;
                Tok::Other
            }
        };
        out.push((kind, start, i, depth));
    }
    out
}

/// The value of an identifier or string token, unquoted.
fn unquote(raw: &str) -> String {
    let Some(q) = raw.chars().next().filter(|c| matches!(c, '\'' | '`' | '"')) else {
        return raw.to_owned();
    };
    let inner = raw.strip_prefix(q).unwrap_or(raw);
    let inner = inner.strip_suffix(q).unwrap_or(inner);
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(match n {
                    'n' => '\n',
                    't' => '\t',
                    '0' => '\0',
                    other => other,
                });
            }
        } else if c == q && chars.peek() == Some(&q) {
            chars.next();
            out.push(q);
        } else {
            out.push(c);
        }
    }
    out
}

/// Reads enough of a `CREATE`/`ATTACH` statement: kind, name, engine, ORDER BY, PARTITION BY,
/// PRIMARY KEY and SETTINGS. Tolerant: unknown parts are skipped, never an error.
pub fn parse_create(sql: &str) -> CreateInfo {
    let toks = tokens(sql);
    let word = |i: usize| -> Option<String> {
        toks.get(i)
            .filter(|t| t.0 == Tok::Word)
            .map(|t| sql[t.1..t.2].to_ascii_uppercase())
    };
    let mut info = CreateInfo::default();
    let mut i = 0;
    if !matches!(word(0).as_deref(), Some("CREATE") | Some("ATTACH")) {
        return info;
    }
    i += 1;
    // Modifiers and kind.
    loop {
        match word(i).as_deref() {
            Some("OR") | Some("REPLACE") | Some("TEMPORARY") => i += 1,
            Some("DATABASE") => {
                info.kind = "database".into();
                i += 1;
                break;
            }
            Some("TABLE") => {
                info.kind = "table".into();
                i += 1;
                break;
            }
            Some("DICTIONARY") => {
                info.kind = "dictionary".into();
                i += 1;
                break;
            }
            Some("VIEW") => {
                info.kind = "view".into();
                i += 1;
                break;
            }
            Some("MATERIALIZED") | Some("LIVE") | Some("WINDOW") => {
                info.kind = format!("{}_view", word(i).unwrap_or_default().to_ascii_lowercase());
                i += 2;
                break;
            }
            _ => return info,
        }
    }
    if word(i).as_deref() == Some("IF") {
        i += 3; // IF NOT EXISTS
    }
    // [db.]name
    let ident = |i: usize| {
        toks.get(i)
            .filter(|t| matches!(t.0, Tok::Word | Tok::Quoted))
            .map(|t| unquote(&sql[t.1..t.2]))
    };
    if let Some(first) = ident(i) {
        i += 1;
        if toks.get(i).map(|t| t.0) == Some(Tok::Dot) {
            if let Some(second) = ident(i + 1) {
                info.database = Some(first);
                info.name = Some(second);
                i += 2;
            }
        } else {
            info.name = Some(first);
        }
    }
    if info.kind == "database" {
        info.database = info.name.take();
    }
    // Clauses at paren depth 0, each until the next clause keyword.
    let is_clause = |j: usize| -> Option<(&'static str, usize)> {
        let t = toks.get(j)?;
        if t.3 != 0 || t.0 != Tok::Word {
            return None;
        }
        let w = sql[t.1..t.2].to_ascii_uppercase();
        let next = word(j + 1);
        match (w.as_str(), next.as_deref()) {
            ("ENGINE", _) => Some(("ENGINE", 1)),
            ("ORDER", Some("BY")) => Some(("ORDER BY", 2)),
            ("PARTITION", Some("BY")) => Some(("PARTITION BY", 2)),
            ("PRIMARY", Some("KEY")) => Some(("PRIMARY KEY", 2)),
            ("SAMPLE", Some("BY")) => Some(("SAMPLE BY", 2)),
            ("TTL", _) => Some(("TTL", 1)),
            ("SETTINGS", _) => Some(("SETTINGS", 1)),
            ("COMMENT", _) => Some(("COMMENT", 1)),
            ("UUID", _) => Some(("UUID", 1)),
            ("AS", _) => Some(("AS", 1)),
            ("TO", _) => Some(("TO", 1)),
            ("EMPTY", _) | ("POPULATE", _) => Some(("EMPTY", 1)),
            ("SOURCE", _) | ("LAYOUT", _) | ("LIFETIME", _) | ("RANGE", _) => Some(("DICT", 1)),
            _ => None,
        }
    };
    let mut clauses: Vec<(&'static str, usize, usize)> = Vec::new(); // (name, first token, end token)
    let mut j = i;
    while j < toks.len() {
        if let Some((name, len)) = is_clause(j) {
            if let Some(last) = clauses.last_mut() {
                last.2 = j;
            }
            clauses.push((name, j + len, toks.len()));
            if name == "AS" && info.kind != "table" {
                break; // the SELECT of a view: its ORDER BY is not the table's
            }
            j += len;
            continue;
        }
        j += 1;
    }
    let text = |a: usize, b: usize| -> Option<String> {
        if a >= b || a >= toks.len() {
            return None;
        }
        let s = sql[toks[a].1..toks[b - 1].2].trim();
        (!s.is_empty()).then(|| s.to_owned())
    };
    for &(name, a, b) in &clauses {
        match name {
            "ENGINE" => {
                let a = if toks.get(a).map(|t| t.0) == Some(Tok::Eq) {
                    a + 1
                } else {
                    a
                };
                info.engine = text(a, b);
            }
            "ORDER BY" => info.order_by = text(a, b),
            "PARTITION BY" => info.partition_by = text(a, b),
            "PRIMARY KEY" => info.primary_key = text(a, b),
            "UUID" => {
                info.uuid = toks
                    .get(a)
                    .filter(|t| t.0 == Tok::Str)
                    .map(|t| unquote(&sql[t.1..t.2]))
            }
            "SETTINGS" => {
                let mut k = a;
                while k < b {
                    // key = value[, ...]
                    let key_end = (k..b).find(|&x| toks[x].0 == Tok::Eq).unwrap_or(b);
                    let val_end = (key_end..b)
                        .find(|&x| toks[x].0 == Tok::Comma && toks[x].3 == 0)
                        .unwrap_or(b);
                    if let (Some(key), true) = (text(k, key_end), key_end < b) {
                        let value = if val_end == key_end + 2 && toks[key_end + 1].0 == Tok::Str {
                            unquote(&sql[toks[key_end + 1].1..toks[key_end + 1].2])
                        } else {
                            text(key_end + 1, val_end).unwrap_or_default()
                        };
                        info.settings.push((key, value));
                    }
                    k = val_end + 1;
                }
            }
            _ => {}
        }
    }
    info
}

fn is_storage_engine(engine_name: &str) -> bool {
    engine_name.ends_with("MergeTree")
}

/// Builds the inspection from what one pass collected.
pub fn inspect(c: &PackageContents) -> Inspection {
    let mut ins = Inspection {
        backup_root: c.backup_root(),
        ..Inspection::default()
    };
    let root = ins.backup_root.clone().unwrap_or_default();
    // Logical files: (path relative to root, size, path of the stored bytes in the zip).
    let mut files: Vec<(String, u64, String)> = Vec::new();
    match c.manifest() {
        Some(Ok(m)) => {
            ins.timestamp = m.timestamp.clone();
            ins.uuid = m.uuid.clone();
            for f in &m.files {
                files.push((f.name.clone(), f.size, format!("{root}{}", m.storage_of(f))));
            }
        }
        other => {
            if let Some(Err(e)) = other {
                ins.notes.push(format!(
                    "the manifest cannot be read ({e}): using the zip's entries"
                ));
            }
            for name in &c.order {
                if let Some(rel) = name.strip_prefix(root.as_str()) {
                    let size = c.entries.get(name).map_or(0, |e| e.size);
                    files.push((rel.to_owned(), size, name.clone()));
                }
            }
        }
    }
    let content = |stored: &str| {
        c.captured
            .get(stored)
            .map(|b| String::from_utf8_lossy(b).into_owned())
    };

    let mut dbs: BTreeMap<String, DatabaseInfo> = BTreeMap::new();
    let mut tables: BTreeMap<(String, String), TableInfo> = BTreeMap::new();
    let mut parts: BTreeSet<(String, String, String)> = BTreeSet::new();
    let new_db = |name: &str| DatabaseInfo {
        name: name.to_owned(),
        engine: None,
        uuid: None,
        tables: Vec::new(),
        parts: 0,
        rows: 0,
        bytes: 0,
    };
    let new_table = |db: &str, name: &str| TableInfo {
        database: db.to_owned(),
        name: name.to_owned(),
        kind: "table".into(),
        engine: None,
        engine_name: None,
        order_by: None,
        partition_by: None,
        primary_key: None,
        storage_policy: None,
        disk: None,
        required_policy: None,
        uuid: None,
        parts: 0,
        rows: 0,
        bytes: 0,
    };
    for (rel, size, stored) in &files {
        let comps: Vec<&str> = rel.split('/').collect();
        match comps.as_slice() {
            ["metadata", db_file] if db_file.ends_with(".sql") => {
                let db = unescape_file_name(&db_file[..db_file.len() - 4]);
                let d = dbs.entry(db.clone()).or_insert_with(|| new_db(&db));
                match content(stored) {
                    Some(sql) => {
                        let info = parse_create(&sql);
                        d.engine = info.engine.clone();
                        d.uuid = info.uuid.clone();
                    }
                    None => ins.notes.push(format!("{}: not read", quote_untrusted(rel, 300))),
                }
            }
            ["metadata", db, t_file] if t_file.ends_with(".sql") => {
                let db = unescape_file_name(db);
                let t = unescape_file_name(&t_file[..t_file.len() - 4]);
                dbs.entry(db.clone()).or_insert_with(|| new_db(&db));
                let e = tables
                    .entry((db.clone(), t.clone()))
                    .or_insert_with(|| new_table(&db, &t));
                match content(stored) {
                    Some(sql) => {
                        let info = parse_create(&sql);
                        if !info.kind.is_empty() {
                            e.kind = info.kind.clone();
                        }
                        // Like system.tables: views and dictionaries have an engine name too.
                        e.engine_name = info.engine_name().or_else(|| {
                            match info.kind.as_str() {
                                "view" => Some("View"),
                                "materialized_view" => Some("MaterializedView"),
                                "live_view" => Some("LiveView"),
                                "window_view" => Some("WindowView"),
                                "dictionary" => Some("Dictionary"),
                                _ => None,
                            }
                            .map(str::to_owned)
                        });
                        e.engine = info.engine.clone();
                        e.order_by = info.order_by.clone();
                        e.partition_by = info.partition_by.clone();
                        e.primary_key = info.primary_key.clone();
                        e.storage_policy = info.setting("storage_policy").map(str::to_owned);
                        e.disk = info.setting("disk").map(str::to_owned);
                        e.uuid = info.uuid.clone();
                        let storage = e.engine_name.as_deref().is_some_and(is_storage_engine);
                        e.required_policy = match (&e.storage_policy, &e.disk) {
                            (Some(p), _) => Some(p.clone()),
                            (None, None) if storage => Some("default".into()),
                            _ => None,
                        };
                    }
                    None => ins.notes.push(format!("{}: not read", quote_untrusted(rel, 300))),
                }
            }
            ["data", db, t, part, rest @ ..] if !rest.is_empty() => {
                let db = unescape_file_name(db);
                let t = unescape_file_name(t);
                let e = tables
                    .entry((db.clone(), t.clone()))
                    .or_insert_with(|| new_table(&db, &t));
                // Sizes and counts come from the package: saturate, never overflow.
                e.bytes = e.bytes.saturating_add(*size);
                parts.insert((db.clone(), t.clone(), (*part).to_owned()));
                if rest == ["count.txt"] {
                    match content(stored)
                        .as_deref()
                        .map(str::trim)
                        .map(str::parse::<u64>)
                    {
                        Some(Ok(n)) => e.rows = e.rows.saturating_add(n),
                        _ => ins.notes.push(format!(
                            "{}: row count not readable",
                            quote_untrusted(rel, 300)
                        )),
                    }
                }
            }
            _ => {}
        }
    }
    for (db, t, _) in &parts {
        if let Some(e) = tables.get_mut(&(db.clone(), t.clone())) {
            e.parts += 1;
        }
    }
    let mut policies = BTreeSet::new();
    let mut disks = BTreeSet::new();
    for ((db, _), t) in tables {
        if let Some(p) = &t.required_policy {
            policies.insert(p.clone());
        }
        if let Some(d) = &t.disk {
            disks.insert(d.clone());
        }
        let d = dbs.entry(db.clone()).or_insert_with(|| new_db(&db));
        d.parts = d.parts.saturating_add(t.parts);
        d.rows = d.rows.saturating_add(t.rows);
        d.bytes = d.bytes.saturating_add(t.bytes);
        d.tables.push(t);
    }
    for d in dbs.into_values() {
        ins.tables += d.tables.len() as u64;
        ins.parts = ins.parts.saturating_add(d.parts);
        ins.rows = ins.rows.saturating_add(d.rows);
        ins.bytes = ins.bytes.saturating_add(d.bytes);
        ins.databases.push(d);
    }
    ins.storage_policies = policies.into_iter().collect();
    ins.disks = disks.into_iter().collect();
    ins
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_create_statements() {
        let sql = "CREATE TABLE MESFIX.ResourceStateHistory UUID '535ddc56-3e9c-4a78-8901-1eda60f209b9' (`ResourceId` Int64, `State` LowCardinality(String), `ModifiedOn` DateTime64(3, 'UTC'), `Duration` Nullable(Float64)) ENGINE = ReplacingMergeTree(ModifiedOn) ORDER BY ResourceId SETTINGS storage_policy = 'default', index_granularity = 1024";
        let i = parse_create(sql);
        assert_eq!(i.kind, "table");
        assert_eq!(i.database.as_deref(), Some("MESFIX"));
        assert_eq!(i.name.as_deref(), Some("ResourceStateHistory"));
        assert_eq!(
            i.uuid.as_deref(),
            Some("535ddc56-3e9c-4a78-8901-1eda60f209b9")
        );
        assert_eq!(i.engine.as_deref(), Some("ReplacingMergeTree(ModifiedOn)"));
        assert_eq!(i.engine_name().as_deref(), Some("ReplacingMergeTree"));
        assert_eq!(i.order_by.as_deref(), Some("ResourceId"));
        assert_eq!(i.setting("storage_policy"), Some("default"));
        assert_eq!(i.setting("index_granularity"), Some("1024"));

        let v = parse_create("CREATE VIEW MESFIX.MaterialNames UUID 'x' (`MaterialId` Int64) AS SELECT MaterialId FROM t ORDER BY MaterialId SETTINGS max_threads = 1");
        assert_eq!(v.kind, "view");
        assert_eq!(v.order_by, None);
        assert_eq!(v.engine, None);

        let p = parse_create("ATTACH TABLE `we.ird``t` (a Int32 DEFAULT 1, b Array(String) CODEC(ZSTD(3))) ENGINE MergeTree PARTITION BY toYYYYMM(d) ORDER BY (a, b) -- c\n SETTINGS disk = 's3', storage_policy='hot_cold'");
        assert_eq!(p.name.as_deref(), Some("we.ird`t"));
        assert_eq!(p.engine.as_deref(), Some("MergeTree"));
        assert_eq!(p.partition_by.as_deref(), Some("toYYYYMM(d)"));
        assert_eq!(p.order_by.as_deref(), Some("(a, b)"));
        assert_eq!(p.setting("disk"), Some("s3"));
        assert_eq!(p.setting("storage_policy"), Some("hot_cold"));

        let d = parse_create("CREATE DATABASE MESFIX UUID '4f81' ENGINE = Atomic");
        assert_eq!(
            (d.kind.as_str(), d.database.as_deref(), d.engine.as_deref()),
            ("database", Some("MESFIX"), Some("Atomic"))
        );
        // Never panics on junk.
        for junk in [
            "",
            "CREATE",
            "CREATE TABLE",
            "CREATE TABLE a.",
            "CREATE TABLE a ENGINE",
            "CREATE TABLE 'x",
            "SETTINGS =",
            "CREATE TABLE t SETTINGS a =, = b",
        ] {
            let _ = parse_create(junk);
        }
    }

    #[test]
    fn sizes_and_row_counts_from_the_package_saturate() {
        // Seen while writing the verifier fuzz target and reproduced with it (input in
        // fuzz/regressions/verifier/): a hostile manifest's sizes and count.txt files overflowed
        // the totals: a panic where overflow checks are on (debug builds, tests), a wrong total
        // where they are off.
        let manifest = b"<config><contents>\
            <file><name>data/D/t/p/a.bin</name><size>18446744073709551615</size></file>\
            <file><name>data/D/t/p/b.bin</name><size>1</size></file>\
            <file><name>data/D/t/p/count.txt</name><size>20</size></file>\
            <file><name>data/D/u/p/count.txt</name><size>20</size></file>\
            </contents></config>";
        let mut c = PackageContents::default();
        c.order.push(".backup".into());
        c.captured.insert(".backup".into(), manifest.to_vec());
        for count in ["data/D/t/p/count.txt", "data/D/u/p/count.txt"] {
            c.captured.insert(count.into(), b"18446744073709551615".to_vec());
        }
        let r = crate::verify::report(&c, None, None);
        assert_eq!(r.manifest.map(|m| m.bytes), Some(u64::MAX));
        let i = inspect(&c);
        assert_eq!((i.bytes, i.rows, i.tables, i.parts), (u64::MAX, u64::MAX, 2, 2));
    }

    #[test]
    fn notes_quote_the_paths_they_name() {
        // Found by the verifier fuzz target (input in fuzz/regressions/verifier/): a listed path
        // with control characters went raw into the inspection's notes, which front ends print.
        let manifest = b"<config><contents>\
            <file><name>metadata/D/t\x1b[2J.sql</name><size>5</size></file>\
            <file><name>data/D/t/p\x07/count.txt</name><size>5</size></file>\
            </contents></config>";
        let mut c = PackageContents::default();
        c.order.push(".backup".into());
        c.captured.insert(".backup".into(), manifest.to_vec());
        let i = inspect(&c);
        assert_eq!(i.notes.len(), 2, "{:?}", i.notes);
        for note in &i.notes {
            assert!(!note.chars().any(char::is_control), "{note:?}");
        }
    }

    #[test]
    fn unescapes_file_names() {
        assert_eq!(unescape_file_name("a%2Eb%20c"), "a.b c");
        assert_eq!(unescape_file_name("%"), "%");
        assert_eq!(unescape_file_name("%4"), "%4");
        assert_eq!(unescape_file_name("x%zz"), "x%zz");
    }
}
