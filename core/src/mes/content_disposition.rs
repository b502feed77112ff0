//! The file name the server proposes in `Content-Disposition` (RFC 6266), and whether it is safe
//! to create in the user's output folder.
//!
//! The server is not trusted: its name is reduced to a base name and refused when it could escape
//! the folder, name a device, hide itself, or not be creatable on Windows. A refused or missing
//! name falls back to a name the caller chooses, with a note that says why.

use crate::error::quote_untrusted;

/// The longest file name accepted, in UTF-8 bytes (below the 255 of common file systems, leaving
/// room for a temporary suffix).
pub const MAX_FILE_NAME_BYTES: usize = 200;

/// Extracts the file name from a `Content-Disposition` header value (RFC 6266).
///
/// `filename*` (RFC 8187 ext-value, `UTF-8''…` or `ISO-8859-1''…`, optional language tag) takes
/// precedence over `filename`; a malformed `filename*` falls back to `filename`. Parameter names
/// are case-insensitive; values are tokens or quoted strings with backslash escapes. When a
/// parameter is repeated, the first occurrence counts. The result is the raw, unsanitised name:
/// pass it to [`sanitize_file_name`].
pub fn parse_filename(header_value: &str) -> Option<String> {
    let params = parse_params(header_value);
    let find = |name: &str| params.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str());
    if let Some(decoded) = find("filename*").and_then(decode_ext_value) {
        return Some(decoded);
    }
    find("filename").map(str::to_owned)
}

/// The parameters of a `Content-Disposition` value, in order (the disposition type is skipped).
fn parse_params(value: &str) -> Vec<(String, String)> {
    let chars: Vec<char> = value.chars().collect();
    let mut params = Vec::new();
    let mut i = 0;
    let skip_ws = |i: &mut usize| {
        while *i < chars.len() && matches!(chars[*i], ' ' | '\t' | '\r' | '\n') {
            *i += 1;
        }
    };
    loop {
        skip_ws(&mut i);
        if i >= chars.len() {
            break;
        }
        if chars[i] == ';' {
            i += 1;
            continue;
        }
        // A name (or the disposition type): up to '=', ';' or whitespace.
        let start = i;
        while i < chars.len() && !matches!(chars[i], '=' | ';' | ' ' | '\t' | '\r' | '\n') {
            i += 1;
        }
        let name: String = chars[start..i].iter().collect();
        skip_ws(&mut i);
        if i >= chars.len() || chars[i] != '=' {
            // The disposition type, or a malformed item: skip to the next ';'.
            while i < chars.len() && chars[i] != ';' {
                i += 1;
            }
            continue;
        }
        i += 1; // '='
        skip_ws(&mut i);
        let mut val = String::new();
        if i < chars.len() && chars[i] == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' && i + 1 < chars.len() {
                    i += 1;
                }
                val.push(chars[i]);
                i += 1;
            }
            i += 1; // closing quote (or past the end when unterminated)
                    // Anything after the quoted string up to ';' is ignored.
            while i < chars.len() && chars[i] != ';' {
                i += 1;
            }
        } else {
            // A token; leniently, anything up to ';' (some servers send unquoted spaces).
            while i < chars.len() && chars[i] != ';' {
                val.push(chars[i]);
                i += 1;
            }
            let trimmed_len = val.trim_end_matches([' ', '\t', '\r', '\n']).len();
            val.truncate(trimmed_len);
        }
        if !name.is_empty() {
            params.push((name, val));
        }
    }
    params
}

/// Decodes an RFC 8187 ext-value: `charset'[language]'percent-encoded`.
fn decode_ext_value(value: &str) -> Option<String> {
    let mut parts = value.splitn(3, '\'');
    let charset = parts.next()?.trim();
    let _language = parts.next()?;
    let encoded = parts.next()?;
    let mut bytes = Vec::with_capacity(encoded.len());
    let raw = encoded.as_bytes();
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'%' {
            let hex = raw.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            bytes.push(raw[i]);
            i += 1;
        }
    }
    if charset.eq_ignore_ascii_case("UTF-8") {
        String::from_utf8(bytes).ok()
    } else if charset.eq_ignore_ascii_case("ISO-8859-1") || charset.eq_ignore_ascii_case("latin1") {
        // Raw (unencoded) non-ASCII input is not allowed in an ext-value.
        if !encoded.is_ascii() {
            return None;
        }
        Some(bytes.into_iter().map(char::from).collect())
    } else if charset.eq_ignore_ascii_case("US-ASCII") {
        if bytes.is_ascii() {
            String::from_utf8(bytes).ok()
        } else {
            None
        }
    } else {
        None
    }
}

/// Reduces a server-proposed name to a safe base name, or says why it cannot be used.
///
/// Keeps only what follows the last `/` or `\`, then refuses: empty, `.`, `..`, NUL or other
/// control characters (and Unicode bidirectional controls), Windows device names (`CON`, `PRN`,
/// `AUX`, `NUL`, `COM0`-`COM9`, `LPT0`-`LPT9`, with superscript digits too, any case, with or
/// without an extension), hidden names (leading `.`), a trailing space or dot, any of `<>:"|?*`,
/// and names longer than [`MAX_FILE_NAME_BYTES`] bytes.
pub fn sanitize_file_name(raw: &str) -> Result<String, String> {
    let base = match raw.rfind(['/', '\\']) {
        Some(pos) => &raw[pos + 1..],
        None => raw,
    };
    if base.is_empty() {
        return Err(if raw.is_empty() { "it is empty" } else { "it names a folder, not a file" }.into());
    }
    if base == "." || base == ".." {
        return Err("it names a folder, not a file".into());
    }
    if base.contains('\0') {
        return Err("it contains a NUL character".into());
    }
    if base.chars().any(char::is_control) {
        return Err("it contains a control character".into());
    }
    if base.chars().any(is_bidi_control) {
        return Err("it contains a bidirectional text control character".into());
    }
    if is_windows_device_name(base) {
        return Err("it is a reserved Windows device name".into());
    }
    if base.starts_with('.') {
        return Err("it is a hidden name (starts with a dot)".into());
    }
    if base.ends_with(' ') || base.ends_with('.') {
        return Err("it ends with a space or a dot".into());
    }
    if base.contains(['<', '>', ':', '"', '|', '?', '*']) {
        return Err("it contains a character not allowed in Windows file names (<>:\"|?*)".into());
    }
    if base.len() > MAX_FILE_NAME_BYTES {
        return Err(format!("it is longer than {MAX_FILE_NAME_BYTES} bytes"));
    }
    Ok(base.to_owned())
}

/// True when `name` is already a safe base name (sanitising returns it unchanged).
pub fn is_safe_file_name(name: &str) -> bool {
    matches!(sanitize_file_name(name), Ok(clean) if clean == name)
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

pub(crate) fn is_windows_device_name(name: &str) -> bool {
    // Windows ignores everything from the first dot, and trailing spaces before it.
    let stem = name.split('.').next().unwrap_or(name).trim_end_matches(' ');
    let upper = stem.to_ascii_uppercase();
    if matches!(upper.as_str(), "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$") {
        return true;
    }
    let mut chars = upper.chars();
    let prefix: String = chars.by_ref().take(3).collect();
    if prefix != "COM" && prefix != "LPT" {
        return false;
    }
    let rest: Vec<char> = chars.collect();
    matches!(rest.as_slice(), [c] if c.is_ascii_digit() || matches!(c, '¹' | '²' | '³'))
}

/// The name a download is saved under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileNameChoice {
    /// A safe base name.
    pub name: String,
    /// True when `name` came from the server's `Content-Disposition`.
    pub from_server: bool,
    /// Why the server's name was not used, or how it was changed; for the user's log.
    pub note: Option<String>,
}

/// Picks the file name: the server's, sanitised, when acceptable, else `fallback` (e.g.
/// `MESCDM.zip`) with a note that says why. `fallback` is used as given.
pub fn choose_file_name(header_value: Option<&str>, fallback: &str) -> FileNameChoice {
    let fall = |note: String| FileNameChoice { name: fallback.to_owned(), from_server: false, note: Some(note) };
    let Some(header) = header_value else {
        return fall(format!(
            "the server sent no Content-Disposition header; saving as {}",
            quote_untrusted(fallback, 100)
        ));
    };
    let Some(raw) = parse_filename(header) else {
        return fall(format!(
            "the server's Content-Disposition {} names no file; saving as {}",
            quote_untrusted(header, 100),
            quote_untrusted(fallback, 100)
        ));
    };
    match sanitize_file_name(&raw) {
        Ok(clean) if clean == raw => FileNameChoice { name: clean, from_server: true, note: None },
        Ok(clean) => FileNameChoice {
            note: Some(format!(
                "the server's file name {} has a folder part; saving as {}",
                quote_untrusted(&raw, 100),
                quote_untrusted(&clean, 100)
            )),
            name: clean,
            from_server: true,
        },
        Err(reason) => fall(format!(
            "the server's file name {} was not used because {reason}; saving as {}",
            quote_untrusted(&raw, 100),
            quote_untrusted(fallback, 100)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pf(s: &str) -> Option<String> {
        parse_filename(s)
    }

    #[test]
    fn content_disposition_rfc6266_examples() {
        // RFC 6266 section 5 / appendix D.
        assert_eq!(pf("Attachment; filename=example.html").as_deref(), Some("example.html"));
        assert_eq!(pf("INLINE; FILENAME= \"an example.html\"").as_deref(), Some("an example.html"));
        assert_eq!(pf("attachment; filename*= UTF-8''%e2%82%ac%20rates").as_deref(), Some("€ rates"));
        assert_eq!(
            pf("attachment; filename=\"EURO rates\"; filename*=utf-8''%e2%82%ac%20rates").as_deref(),
            Some("€ rates")
        );
        // filename* wins even when it comes first.
        assert_eq!(
            pf("attachment; filename*=UTF-8''%E2%82%AC%20rates.zip; filename=\"EUR rates.zip\"").as_deref(),
            Some("€ rates.zip")
        );
    }

    #[test]
    fn content_disposition_parsing_details() {
        assert_eq!(pf("attachment; filename=\"a\\\"b\\\\c.zip\"").as_deref(), Some("a\"b\\c.zip"));
        assert_eq!(pf("attachment;filename=MESCDM_2026.zip").as_deref(), Some("MESCDM_2026.zip"));
        assert_eq!(pf("attachment; size=10; FileName=\"x.zip\" ;").as_deref(), Some("x.zip"));
        assert_eq!(pf("attachment; filename=x.zip; filename=y.zip").as_deref(), Some("x.zip"));
        assert_eq!(pf("attachment; filename=my backup.zip ").as_deref(), Some("my backup.zip"));
        assert_eq!(pf("attachment; filename=\"a;b.zip\"; x=1").as_deref(), Some("a;b.zip"));
        assert_eq!(pf("filename=bare.zip").as_deref(), Some("bare.zip"));
        assert_eq!(pf("attachment; filename=\"unterminated.zip").as_deref(), Some("unterminated.zip"));
        assert_eq!(pf("attachment; filename*=ISO-8859-1'en'%A3%20rates.zip").as_deref(), Some("£ rates.zip"));
        assert_eq!(pf("attachment; filename*=UTF-8'de-DE'%C3%BCber.zip").as_deref(), Some("über.zip"));
        // Malformed filename* falls back to filename.
        for bad in [
            "UTF-8''%E2%82",   // invalid UTF-8
            "UTF-8''%ZZ.zip",  // bad escape
            "UTF-8''%E",       // truncated escape
            "KOI8-R''%C1.zip", // unsupported charset
            "noquotes.zip",    // not an ext-value
            "UTF-8'only-one.zip",
        ] {
            let header = format!("attachment; filename*={bad}; filename=\"fallback.zip\"");
            assert_eq!(pf(&header).as_deref(), Some("fallback.zip"), "{header}");
        }
        assert_eq!(pf("attachment; filename*=UTF-8''%E2%82"), None);
        assert_eq!(pf("attachment"), None);
        assert_eq!(pf(""), None);
        assert_eq!(pf("inline; name=\"x.zip\""), None);
        assert_eq!(pf("attachment; filename=").as_deref(), Some(""));
        // The ASP.NET Core form.
        assert_eq!(pf("attachment; filename=MESCDM.zip; filename*=UTF-8''MESCDM.zip").as_deref(), Some("MESCDM.zip"));
    }

    #[test]
    fn content_disposition_sanitize() {
        assert_eq!(sanitize_file_name("MESCDM_20261125.zip").unwrap(), "MESCDM_20261125.zip");
        assert_eq!(sanitize_file_name("€ rates.zip").unwrap(), "€ rates.zip");
        assert_eq!(sanitize_file_name("../../etc/passwd").unwrap(), "passwd");
        assert_eq!(sanitize_file_name("..\\..\\x.zip").unwrap(), "x.zip");
        assert_eq!(sanitize_file_name("C:\\Windows\\x.zip").unwrap(), "x.zip");
        assert_eq!(sanitize_file_name("/abs/y.zip").unwrap(), "y.zip");
        assert_eq!(sanitize_file_name("CONSOLE.zip").unwrap(), "CONSOLE.zip");
        assert_eq!(sanitize_file_name("COM10.zip").unwrap(), "COM10.zip");
        assert_eq!(sanitize_file_name("my.con.zip").unwrap(), "my.con.zip");
        for bad in [
            "",
            ".",
            "..",
            "a/",
            "a\\",
            "../..",
            "a\u{0}b.zip",
            "a\nb.zip",
            "a\u{7f}.zip",
            "a\u{85}.zip",
            "x\u{202E}piz.exe",
            "CON",
            "con.zip",
            "CON.zip",
            "Nul.tar.gz",
            "aux",
            "prn.txt",
            "COM1",
            "com9.zip",
            "LPT0.zip",
            "lpt¹.zip",
            "COM².zip",
            "CON .zip",
            "conin$",
            ".bashrc",
            ".hidden.zip",
            "a.zip.",
            "a.zip ",
            "a<b.zip",
            "a>b",
            "c:x.zip",
            "a\"b",
            "a|b",
            "what?.zip",
            "*.zip",
        ] {
            assert!(sanitize_file_name(bad).is_err(), "{bad:?}");
        }
        let long = format!("{}.zip", "a".repeat(196));
        assert_eq!(sanitize_file_name(&long).unwrap(), long);
        let too_long = format!("{}.zip", "a".repeat(197));
        assert!(sanitize_file_name(&too_long).unwrap_err().contains("200 bytes"));
        let multibyte = "€".repeat(67); // 201 bytes
        assert!(sanitize_file_name(&multibyte).is_err());
        assert!(is_safe_file_name("MESCDM.zip"));
        assert!(!is_safe_file_name("x/MESCDM.zip"));
        assert!(!is_safe_file_name("CON.zip"));
    }

    #[test]
    fn content_disposition_choose() {
        let c = choose_file_name(Some("attachment; filename=\"MESCDM_1.zip\""), "MESCDM.zip");
        assert_eq!(c, FileNameChoice { name: "MESCDM_1.zip".into(), from_server: true, note: None });

        let c = choose_file_name(Some("attachment; filename*=UTF-8''%E2%82%AC%20rates.zip"), "MESCDM.zip");
        assert_eq!(c.name, "€ rates.zip");
        assert!(c.from_server && c.note.is_none());

        let c = choose_file_name(Some("attachment; filename=\"../../etc/passwd\""), "MESCDM.zip");
        assert_eq!(c.name, "passwd");
        assert!(c.from_server);
        assert!(c.note.unwrap().contains("\"../../etc/passwd\""));

        let c = choose_file_name(Some("attachment; filename=\"..\\\\..\\\\x.zip\""), "MESCDM.zip");
        assert_eq!(c.name, "x.zip");

        let c = choose_file_name(Some("attachment; filename=\"a\u{0}b.zip\""), "MESCDM.zip");
        assert_eq!(c.name, "MESCDM.zip");
        assert!(!c.from_server);
        let note = c.note.unwrap();
        assert!(note.contains("NUL") && note.contains("\"a\\u{0}b.zip\""), "{note}");

        let c = choose_file_name(Some("attachment; filename=\"CON.zip\""), "MESCDM.zip");
        assert_eq!(c.name, "MESCDM.zip");
        assert!(c.note.unwrap().contains("device name"));

        let c = choose_file_name(Some("attachment; filename=\"..\""), "MESCDM.zip");
        assert_eq!(c.name, "MESCDM.zip");

        let c = choose_file_name(Some("attachment"), "MESCDM.zip");
        assert_eq!(c.name, "MESCDM.zip");
        assert!(c.note.unwrap().contains("names no file"));

        let c = choose_file_name(None, "MESCDM.zip");
        assert!(!c.from_server && c.name == "MESCDM.zip");
        assert!(c.note.unwrap().contains("no Content-Disposition"));

        let c = choose_file_name(Some("attachment; filename=\"\u{1b}]0;pwned\u{7}.zip\""), "MESCDM.zip");
        assert!(!c.note.unwrap().contains('\u{1b}'));
    }

    fn check_sanitised(name: &str) -> Result<(), TestCaseError> {
        prop_assert!(!name.is_empty());
        prop_assert!(!name.contains('/') && !name.contains('\\') && !name.contains('\0'));
        prop_assert!(!name.chars().any(char::is_control));
        prop_assert!(name != "." && name != "..");
        prop_assert!(name.len() <= MAX_FILE_NAME_BYTES);
        let joined = std::path::Path::new("/base").join(name);
        prop_assert_eq!(joined.parent(), Some(std::path::Path::new("/base")));
        prop_assert!(is_safe_file_name(name));
        Ok(())
    }

    proptest! {
        #[test]
        fn content_disposition_parse_never_panics(s in ".*") {
            let _ = parse_filename(&s);
            let _ = choose_file_name(Some(&s), "MESCDM.zip");
        }

        #[test]
        fn content_disposition_parse_structured(
            ty in "(attachment|inline|)",
            name in "(filename|FILENAME|filename\\*|x)",
            value in "[\"'%\\\\;= a-zA-Z0-9\u{0}\u{80}-\u{10FFFF}./]{0,30}",
        ) {
            let header = format!("{ty}; {name}={value}");
            if let Some(raw) = parse_filename(&header) {
                if let Ok(clean) = sanitize_file_name(&raw) {
                    check_sanitised(&clean)?;
                }
            }
        }

        #[test]
        fn content_disposition_sanitized_stays_in_folder(s in ".*") {
            if let Ok(clean) = sanitize_file_name(&s) {
                check_sanitised(&clean)?;
            }
        }

        #[test]
        fn content_disposition_sanitized_path_like(s in "[./\\\\a-zA-Z\u{0}:]{0,12}") {
            if let Ok(clean) = sanitize_file_name(&s) {
                check_sanitised(&clean)?;
            }
        }

        #[test]
        fn content_disposition_choice_is_safe(s in ".*") {
            let c = choose_file_name(Some(&s), "MESCDM.zip");
            check_sanitised(&c.name)?;
            if c.from_server {
                let raw = parse_filename(&s).unwrap();
                prop_assert_eq!(sanitize_file_name(&raw), Ok(c.name.clone()));
                prop_assert_eq!(c.note.is_none(), raw == c.name);
            } else {
                prop_assert_eq!(c.name.as_str(), "MESCDM.zip");
                prop_assert!(c.note.is_some());
            }
        }
    }
}
