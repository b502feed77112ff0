//! What is inside a package: databases, tables and engines (from the backup's `metadata/*.sql`),
//! parts, rows (from each part's `count.txt`), bytes, and the storage policies and disks the
//! tables need at restore time (ClickHouse fails a RESTORE with UNKNOWN_POLICY / UNKNOWN_DISK
//! late; we name them up front).
//!
//! Built from the same single pass as verify: [`Verifier::finish_with_inspection`]
//! returns both, or use an [`Inspector`] (which skips SHA-256) on its own.
//!
//! [`Verifier::finish_with_inspection`]: super::verify::Verifier::finish_with_inspection

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::create_sql::{is_storage_engine, parse_create};
use super::scan::{PackageContents, Scanner};
use crate::error::quote_untrusted;

/// A table (or view, dictionary) of the backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TableInfo {
    /// The database it belongs to (file name in the backup, `%XX` unescaped).
    pub database: String,
    /// The table's name (file name in the backup, `%XX` unescaped).
    pub name: String,
    /// "table", "view", "materialized_view", "live_view", "window_view" or "dictionary".
    pub kind: String,
    /// The engine as written (`ReplacingMergeTree(ModifiedOn)`), when there is one.
    pub engine: Option<String>,
    /// The engine's name alone (`ReplacingMergeTree`).
    pub engine_name: Option<String>,
    /// The `ORDER BY` (sorting key) expression as written, when there is one.
    pub order_by: Option<String>,
    /// The `PARTITION BY` expression as written, when there is one.
    pub partition_by: Option<String>,
    /// The `PRIMARY KEY` expression as written, when given apart from `ORDER BY`.
    pub primary_key: Option<String>,
    /// `SETTINGS storage_policy = '...'`, when set.
    pub storage_policy: Option<String>,
    /// `SETTINGS disk = '...'`, when set (`disk(...)` definitions are shown as written).
    pub disk: Option<String>,
    /// The policy the table needs on the target: its own, or `default` for a MergeTree table
    /// without one (None for engines without storage, or a table pinned to a disk).
    pub required_policy: Option<String>,
    /// The `UUID '...'` of the table's CREATE statement, when it has one.
    pub uuid: Option<String>,
    /// Data parts in the backup.
    pub parts: u64,
    /// Rows: sum of the parts' `count.txt`.
    pub rows: u64,
    /// Bytes of the table's data files in the backup (logical sizes, before deduplication).
    pub bytes: u64,
}

/// A database of the backup, with its tables and their totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DatabaseInfo {
    /// The database's name (file name in the backup, `%XX` unescaped).
    pub name: String,
    /// `Atomic`, `Replicated(...)`...
    pub engine: Option<String>,
    /// The `UUID '...'` of the database's CREATE statement, when it has one.
    pub uuid: Option<String>,
    /// Its tables, views and dictionaries, sorted by name (also those with data but no metadata).
    pub tables: Vec<TableInfo>,
    /// Data parts of all its tables.
    pub parts: u64,
    /// Rows of all its tables (saturating at `u64::MAX`).
    pub rows: u64,
    /// Bytes of all its tables' data files (logical sizes, saturating at `u64::MAX`).
    pub bytes: u64,
}

/// The result of an inspection.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Inspection {
    /// Folder of the `.backup` manifest inside the zip.
    pub backup_root: Option<String>,
    /// From the manifest.
    pub timestamp: Option<String>,
    /// The backup's UUID, from the manifest.
    pub uuid: Option<String>,
    /// Every database of the backup, sorted by name.
    pub databases: Vec<DatabaseInfo>,
    /// Every storage policy the tables need at restore time (sorted; includes `default` when a
    /// MergeTree table has no explicit policy).
    pub storage_policies: Vec<String>,
    /// Every disk named explicitly by a table (`SETTINGS disk = '...'`).
    pub disks: Vec<String>,
    /// Tables, views and dictionaries in all databases.
    pub tables: u64,
    /// Data parts in all tables.
    pub parts: u64,
    /// Rows in all tables (sum of the parts' `count.txt`, saturating at `u64::MAX`).
    pub rows: u64,
    /// Bytes of all tables' data files (logical sizes, saturating at `u64::MAX`).
    pub bytes: u64,
    /// Things that could not be read.
    pub notes: Vec<String>,
}

impl Inspection {
    /// The table `database.name`, if present.
    pub fn table(&self, database: &str, name: &str) -> Option<&TableInfo> {
        self.databases.iter().filter(|d| d.name == database).flat_map(|d| &d.tables).find(|t| t.name == name)
    }
}

/// Inspection alone: feed the package, then [`finish`](Inspector::finish).
pub struct Inspector {
    scanner: Scanner,
}

impl Default for Inspector {
    fn default() -> Self {
        Self::new()
    }
}

impl Inspector {
    /// An inspector at the start of a package (computes no SHA-256).
    pub fn new() -> Inspector {
        Inspector { scanner: Scanner::new(false) }
    }
    /// Call this with the package's next bytes, in order, in chunks of any size.
    pub fn feed(&mut self, data: &[u8]) {
        self.scanner.feed(data);
    }
    /// Call this when the whole package was fed; returns what it holds. A damaged or truncated zip still
    /// gives what could be read; the zip's problems themselves are the verifier's to report.
    pub fn finish(self) -> Inspection {
        inspect(&self.scanner.finish().0)
    }
}

/// ClickHouse's `unescapeForFileName`: `%XX` back to the byte.
pub fn unescape_file_name(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let h = std::str::from_utf8(&b[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
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

/// Builds the inspection from what one pass collected.
pub fn inspect(c: &PackageContents) -> Inspection {
    let mut ins = Inspection { backup_root: c.backup_root(), ..Inspection::default() };
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
                ins.notes.push(format!("the manifest cannot be read ({e}): using the zip's entries"));
            }
            for name in &c.order {
                if let Some(rel) = name.strip_prefix(root.as_str()) {
                    let size = c.entries.get(name).map_or(0, |e| e.size);
                    files.push((rel.to_owned(), size, name.clone()));
                }
            }
        }
    }
    let content = |stored: &str| c.captured.get(stored).map(|b| String::from_utf8_lossy(b).into_owned());

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
                let e = tables.entry((db.clone(), t.clone())).or_insert_with(|| new_table(&db, &t));
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
                let e = tables.entry((db.clone(), t.clone())).or_insert_with(|| new_table(&db, &t));
                // Sizes and counts come from the package: saturate, never overflow.
                e.bytes = e.bytes.saturating_add(*size);
                parts.insert((db.clone(), t.clone(), (*part).to_owned()));
                if rest == ["count.txt"] {
                    match content(stored).as_deref().map(str::trim).map(str::parse::<u64>) {
                        Some(Ok(n)) => e.rows = e.rows.saturating_add(n),
                        _ => ins.notes.push(format!("{}: row count not readable", quote_untrusted(rel, 300))),
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
        let r = crate::package::report(&c, None, None);
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
