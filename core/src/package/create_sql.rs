//! The `CREATE` statements a backup keeps in `metadata/*.sql`, read just enough to say what each
//! object is: kind, engine and its arguments, sorting key, storage policy and disk settings. A small
//! tokenizer, not a SQL parser: unknown syntax gives fewer facts, never an error.

/// What a CREATE statement says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateInfo {
    /// "database", "table", "view", "materialized_view", "live_view", "window_view", "dictionary".
    pub kind: String,
    /// The database: the `db` of `db.name`, or the name itself for a CREATE DATABASE (unquoted).
    pub database: Option<String>,
    /// The object's name without its database (unquoted); None for a CREATE DATABASE.
    pub name: Option<String>,
    /// The `UUID '...'` clause's value, when present.
    pub uuid: Option<String>,
    /// The engine with its arguments, as written after `ENGINE [=]` (`ReplacingMergeTree(ModifiedOn)`).
    pub engine: Option<String>,
    /// The `ORDER BY` expression as written (never a view's SELECT's).
    pub order_by: Option<String>,
    /// The `PARTITION BY` expression as written.
    pub partition_by: Option<String>,
    /// The `PRIMARY KEY` expression as written.
    pub primary_key: Option<String>,
    /// SETTINGS as (key, value) with string literals unquoted.
    pub settings: Vec<(String, String)>,
}

impl CreateInfo {
    /// The value of setting `key` (ASCII case-insensitive), e.g. `storage_policy`; the first one if repeated.
    pub fn setting(&self, key: &str) -> Option<&str> {
        self.settings.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v.as_str())
    }
    /// The engine's name without its arguments (`ReplacingMergeTree`), when there is an engine.
    pub fn engine_name(&self) -> Option<String> {
        let e = self.engine.as_deref()?;
        let end = e.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(e.len());
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
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] >= 0x80) {
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
        toks.get(i).filter(|t| t.0 == Tok::Word).map(|t| sql[t.1..t.2].to_ascii_uppercase())
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
    let ident =
        |i: usize| toks.get(i).filter(|t| matches!(t.0, Tok::Word | Tok::Quoted)).map(|t| unquote(&sql[t.1..t.2]));
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
                let a = if toks.get(a).map(|t| t.0) == Some(Tok::Eq) { a + 1 } else { a };
                info.engine = text(a, b);
            }
            "ORDER BY" => info.order_by = text(a, b),
            "PARTITION BY" => info.partition_by = text(a, b),
            "PRIMARY KEY" => info.primary_key = text(a, b),
            "UUID" => info.uuid = toks.get(a).filter(|t| t.0 == Tok::Str).map(|t| unquote(&sql[t.1..t.2])),
            "SETTINGS" => {
                let mut k = a;
                while k < b {
                    // key = value[, ...]
                    let key_end = (k..b).find(|&x| toks[x].0 == Tok::Eq).unwrap_or(b);
                    let val_end = (key_end..b).find(|&x| toks[x].0 == Tok::Comma && toks[x].3 == 0).unwrap_or(b);
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

pub(crate) fn is_storage_engine(engine_name: &str) -> bool {
    engine_name.ends_with("MergeTree")
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
        assert_eq!(i.uuid.as_deref(), Some("535ddc56-3e9c-4a78-8901-1eda60f209b9"));
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
}
