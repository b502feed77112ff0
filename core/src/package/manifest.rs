//! The ClickHouse backup manifest (`.backup`): the list of files a backup holds, with sizes and
//! checksums. See `docs/clickhouse-backup-format.md`.

use serde::{Deserialize, Serialize};

use crate::error::quote_untrusted;

/// Name of the ClickHouse backup manifest.
pub const MANIFEST_NAME: &str = ".backup";
/// Largest manifest read (bytes). ~150 bytes per file: room for over a million files.
pub const MAX_MANIFEST: usize = 256 << 20;

/// A file of the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ManifestFile {
    /// `<name>`: the file's path relative to the backup root (`data/...`, `metadata/...`); the parser
    /// refuses an empty one.
    pub name: String,
    /// `<size>`: the whole file's size in bytes, base part included for an incremental backup.
    pub size: u64,
    /// `<checksum>`: chained CityHash128 of the whole file, as `(high << 64) | low`; ClickHouse writes
    /// none for zero-size files.
    pub checksum: Option<u128>,
    /// `<use_base>` is "true" or "1": the first `base_size` bytes are in the base backup (incremental
    /// backup) and only the rest is stored here.
    pub use_base: bool,
    /// `<base_size>`: bytes of the file held by the base backup; absent with `use_base` means all of it.
    pub base_size: Option<u64>,
    /// `<base_checksum>`: checksum of those first `base_size` bytes; read but not checked (the base
    /// backup is not at hand).
    pub base_checksum: Option<u128>,
    /// Where the bytes are stored when not under `name` (deduplicated files).
    pub data_file: Option<String>,
    /// `<archive_suffix>`: set when the backup is a series of archives and the file is in one of them;
    /// a non-empty value makes the verifier skip the file (noted, not checked).
    pub archive_suffix: Option<String>,
    /// `<pos_in_archive>`: the file's position inside that archive, as ClickHouse wrote it.
    pub pos_in_archive: Option<u64>,
}

/// The `.backup` manifest.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Manifest {
    /// `<config><version>`: the manifest format version ("1" in the backups seen).
    pub version: Option<String>,
    /// `<config><timestamp>`: when ClickHouse made the backup, as it wrote it (`YYYY-MM-DD hh:mm:ss`).
    pub timestamp: Option<String>,
    /// `<config><uuid>`: the backup's UUID.
    pub uuid: Option<String>,
    /// `<contents><file>` entries, in manifest order.
    pub files: Vec<ManifestFile>,
}

impl Manifest {
    /// The path (relative to the backup root) whose bytes hold `file`.
    pub fn storage_of<'a>(&self, file: &'a ManifestFile) -> &'a str {
        file.data_file.as_deref().filter(|d| !d.is_empty()).unwrap_or(&file.name)
    }
}

/// A tolerant reader of the manifest's fixed XML shape: elements, text, entities; attributes,
/// comments, processing instructions and unknown elements are skipped.
pub fn parse_manifest(bytes: &[u8]) -> Result<Manifest, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "not UTF-8".to_owned())?;
    let mut m = Manifest::default();
    let mut stack: Vec<String> = Vec::new();
    let mut file: Option<ManifestFile> = None;
    let mut text_buf = String::new();
    let mut rest = text;
    let mut saw_config = false;
    while !rest.is_empty() {
        match rest.find('<') {
            None => {
                text_buf.push_str(rest);
                break;
            }
            Some(i) => {
                text_buf.push_str(&rest[..i]);
                rest = &rest[i..];
            }
        }
        // rest starts with '<'
        if let Some(r) = rest.strip_prefix("<!--") {
            let end = r.find("-->").ok_or("unterminated comment")?;
            rest = &r[end + 3..];
            continue;
        }
        if rest.starts_with("<?") || rest.starts_with("<!") {
            let end = rest.find('>').ok_or("unterminated declaration")?;
            rest = &rest[end + 1..];
            continue;
        }
        let end = rest.find('>').ok_or("unterminated tag")?;
        let tag = &rest[1..end];
        rest = &rest[end + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            let name = name.trim();
            let open = stack
                .pop()
                .ok_or_else(|| format!("closing tag {} without an opening tag", quote_untrusted(name, 60)))?;
            if open != name {
                return Err(format!(
                    "closing tag {} does not match the open {}",
                    quote_untrusted(name, 60),
                    quote_untrusted(&open, 60)
                ));
            }
            let value = unescape(text_buf.trim())?;
            text_buf.clear();
            let depth = stack.len();
            let parent = stack.last().map(String::as_str);
            match (depth, parent, name) {
                (1, Some("config"), "version") => m.version = Some(value),
                (1, Some("config"), "timestamp") => m.timestamp = Some(value),
                (1, Some("config"), "uuid") => m.uuid = Some(value),
                (2, Some("contents"), "file") => {
                    if let Some(f) = file.take() {
                        if f.name.is_empty() {
                            return Err("a <file> without <name>".to_owned());
                        }
                        m.files.push(f);
                    }
                }
                (3, Some("file"), field) => {
                    let f = file.as_mut().ok_or("field outside <file>")?;
                    let num = |v: &str| v.parse::<u64>().map_err(|_| format!("<{field}> is not a number: {v:?}"));
                    let hash =
                        |v: &str| parse_hex128(v).ok_or_else(|| format!("<{field}> is not 32 hex digits: {v:?}"));
                    match field {
                        "name" => f.name = value,
                        "size" => f.size = num(&value)?,
                        "checksum" => f.checksum = Some(hash(&value)?),
                        "use_base" => f.use_base = value == "true" || value == "1",
                        "base_size" => f.base_size = Some(num(&value)?),
                        "base_checksum" => f.base_checksum = Some(hash(&value)?),
                        "data_file" => f.data_file = Some(value),
                        "archive_suffix" => f.archive_suffix = Some(value),
                        "pos_in_archive" => f.pos_in_archive = Some(num(&value)?),
                        _ => {}
                    }
                }
                _ => {}
            }
            continue;
        }
        text_buf.clear();
        let self_closing = tag.ends_with('/');
        let name = tag.trim_end_matches('/').split_whitespace().next().unwrap_or("").to_owned();
        if name.is_empty() {
            return Err("empty tag".to_owned());
        }
        if self_closing {
            continue;
        }
        if stack.is_empty() {
            if name != "config" {
                return Err(format!("root element is {}, expected config", quote_untrusted(&name, 60)));
            }
            saw_config = true;
        }
        if stack.len() == 2 && name == "file" && stack[1] == "contents" {
            file = Some(ManifestFile::default());
        }
        stack.push(name);
        if stack.len() > 64 {
            return Err("nested too deeply".to_owned());
        }
    }
    if !saw_config {
        return Err("no <config> element".to_owned());
    }
    if !stack.is_empty() {
        return Err(format!("unclosed {}", quote_untrusted(stack.last().map(String::as_str).unwrap_or(""), 60)));
    }
    Ok(m)
}

fn unescape(s: &str) -> Result<String, String> {
    if !s.contains('&') {
        return Ok(s.to_owned());
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let r = &rest[i + 1..];
        let end = r.find(';').ok_or("unterminated entity")?;
        let ent = &r[..end];
        let c = match ent {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(h) = ent.strip_prefix("#x").or_else(|| ent.strip_prefix("#X")) {
                    u32::from_str_radix(h, 16).ok()
                } else if let Some(d) = ent.strip_prefix('#') {
                    d.parse().ok()
                } else {
                    None
                };
                code.and_then(char::from_u32)
                    .ok_or_else(|| format!("unknown entity {}", quote_untrusted(&format!("&{ent};"), 60)))?
            }
        };
        out.push(c);
        rest = &r[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn parse_hex128(s: &str) -> Option<u128> {
    if s.is_empty() || s.len() > 32 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u128::from_str_radix(s, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_parser_reads_the_fixed_shape() {
        let xml = br#"<?xml version="1.0"?>
<!-- comment -->
<config><version>1</version><deduplicate_files>1</deduplicate_files><timestamp>2026-11-25 14:41:35</timestamp>
<uuid>50e7e7e8-316d-43f7-a856-a5c9ee8cb6e5</uuid><contents>
 <file><name>data/D/t/all_1_1_0/count.txt</name><size>4</size><checksum>7640227c8f3a7e28c8e03d5b74b199f1</checksum></file>
 <file><name>metadata/a&amp;b.sql</name><size>0</size></file>
 <file><name>x</name><size>10</size><checksum>00000000000000000000000000000001</checksum><use_base>true</use_base><base_size>4</base_size><base_checksum>00000000000000000000000000000002</base_checksum></file>
 <file><name>y</name><size>3</size><checksum>3</checksum><data_file>x</data_file><archive_suffix>.zip</archive_suffix><pos_in_archive>7</pos_in_archive><unknown_field/></file>
</contents></config>"#;
        let m = parse_manifest(xml).unwrap();
        assert_eq!(m.version.as_deref(), Some("1"));
        assert_eq!(m.timestamp.as_deref(), Some("2026-11-25 14:41:35"));
        assert_eq!(m.files.len(), 4);
        assert_eq!(m.files[0].checksum, Some(0x7640227c8f3a7e28c8e03d5b74b199f1));
        // The test vector of docs/clickhouse-backup-format.md.
        assert_eq!(crate::package::chained_checksum(b"5000"), m.files[0].checksum.unwrap());
        assert_eq!(m.files[1].name, "metadata/a&b.sql");
        assert_eq!(m.files[1].checksum, None);
        assert!(m.files[2].use_base && m.files[2].base_size == Some(4) && m.files[2].base_checksum == Some(2));
        assert_eq!(m.storage_of(&m.files[3]), "x");
        assert_eq!(m.files[3].pos_in_archive, Some(7));
        for bad in [
            &b""[..],
            b"<config>",
            b"<x></x>",
            b"<config><contents><file><size>1</size></file></contents></config>",
            b"<config><a></b></config>",
            b"\xff",
        ] {
            assert!(parse_manifest(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn manifest_errors_do_not_echo_control_characters() {
        // Found by the fuzz target `manifest` (fuzz/regressions/manifest/): a hostile manifest's
        // tag and entity names reached `verify`'s output raw, terminal escape sequences included.
        for bad in [
            &b"<config></\x1b[2J>"[..],
            b"<config><a></a\x1b[2J\x07>",
            b"</\x1b]0;title\x07>",
            b"<\x1b[31m>",
            b"<config><\x1b[31m>",
            b"<config><version>&\x1b[2J;</version></config>",
        ] {
            let e = parse_manifest(bad).unwrap_err();
            assert!(!e.chars().any(char::is_control), "{e:?}");
        }
    }
}
