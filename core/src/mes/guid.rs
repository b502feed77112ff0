//! Backup job GUIDs: from the user (`download <guid>`) and from the server's `POST` 202 body.
//!
//! Both return the canonical form: 36 characters, lowercase, hyphenated (8-4-4-4-12).

use crate::error::{quote_untrusted, Error, ErrorKind};

const EXAMPLE: &str = "3f2504e0-4f89-11d3-9a0c-0305e82c3301";

/// Parses a GUID typed by a user: 8-4-4-4-12 hexadecimal digits, any case, optionally in braces,
/// with surrounding whitespace ignored. Returns the canonical lowercase hyphenated form.
pub fn parse_guid(text: &str) -> Result<String, Error> {
    let trimmed = text.trim();
    canonical(strip_braces(trimmed), false).ok_or_else(|| {
        Error::invalid_argument(format!(
            "{} is not a backup GUID; expected 8-4-4-4-12 hexadecimal digits, like {EXAMPLE}",
            quote_untrusted(text, 60)
        ))
    })
}

/// Parses the body of the `POST …/backup/{database}` 202 answer: the job GUID.
///
/// Tolerates a UTF-8 byte order mark, surrounding whitespace, a JSON string (`"…"`, with
/// whitespace inside the quotes too), braces, any case, and 32 hexadecimal digits without
/// hyphens. Anything else is `UnexpectedResponse`, quoting (a bounded part of) the body.
pub fn parse_guid_body(body: &[u8]) -> Result<String, Error> {
    parse_body(body).ok_or_else(|| {
        let shown = if body.is_empty() {
            "an empty body".to_owned()
        } else {
            quote_untrusted(&String::from_utf8_lossy(body), 200)
        };
        Error::new(
            ErrorKind::UnexpectedResponse,
            format!(
                "the server accepted the backup request but answered {shown} where a job GUID \
                 was expected (8-4-4-4-12 hexadecimal digits, like {EXAMPLE})"
            ),
        )
    })
}

fn parse_body(body: &[u8]) -> Option<String> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let text = std::str::from_utf8(body).ok()?.trim();
    let owned;
    let text = if text.len() >= 2 && text.starts_with('"') && text.ends_with('"') {
        // A JSON string; decode escapes properly when it is valid JSON, else just unquote.
        owned = serde_json::from_str::<String>(text).unwrap_or_else(|_| text[1..text.len() - 1].to_owned());
        owned.trim()
    } else {
        text
    };
    canonical(strip_braces(text), true)
}

/// Removes one pair of matching braces (and whitespace just inside them).
fn strip_braces(text: &str) -> &str {
    match text.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
        Some(inner) => inner.trim(),
        None => text,
    }
}

/// The canonical form of `8-4-4-4-12` hex (or, when `allow_plain`, 32 hex digits).
fn canonical(text: &str, allow_plain: bool) -> Option<String> {
    let bytes = text.as_bytes();
    let hex: Vec<u8> = match bytes.len() {
        36 => {
            let mut digits = Vec::with_capacity(32);
            for (i, &b) in bytes.iter().enumerate() {
                if matches!(i, 8 | 13 | 18 | 23) {
                    if b != b'-' {
                        return None;
                    }
                } else if b.is_ascii_hexdigit() {
                    digits.push(b.to_ascii_lowercase());
                } else {
                    return None;
                }
            }
            digits
        }
        32 if allow_plain && bytes.iter().all(u8::is_ascii_hexdigit) => {
            bytes.iter().map(u8::to_ascii_lowercase).collect()
        }
        _ => return None,
    };
    let mut out = String::with_capacity(36);
    for (i, &b) in hex.iter().enumerate() {
        if matches!(i, 8 | 12 | 16 | 20) {
            out.push('-');
        }
        out.push(b as char);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const G: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";

    #[test]
    fn guid_user_input() {
        for s in [
            G,
            "0F8FAD5B-D9CB-469F-A165-70867728950E",
            "{0f8fad5b-d9cb-469f-a165-70867728950e}",
            "  {0F8FAD5B-d9cb-469f-A165-70867728950e}\n",
            "\t0f8fad5b-d9cb-469f-a165-70867728950e ",
        ] {
            assert_eq!(parse_guid(s).unwrap(), G, "{s:?}");
        }
        for s in [
            "",
            "0f8fad5bd9cb469fa16570867728950e",
            "0f8fad5b-d9cb-469f-a165-70867728950",
            "0f8fad5b-d9cb-469f-a165-70867728950e0",
            "0f8fad5b-d9cb-469f-a165_70867728950e",
            "0g8fad5b-d9cb-469f-a165-70867728950e",
            "{0f8fad5b-d9cb-469f-a165-70867728950e",
            "\"0f8fad5b-d9cb-469f-a165-70867728950e\"",
            "０f8fad5b-d9cb-469f-a165-70867728950e",
        ] {
            let e = parse_guid(s).expect_err(s);
            assert_eq!(e.kind, ErrorKind::InvalidArgument);
            assert!(e.message.contains("8-4-4-4-12"), "{}", e.message);
        }
        let long = "x".repeat(1000);
        let e = parse_guid(&long).unwrap_err();
        assert!(e.message.len() < 300, "{}", e.message);
        let e = parse_guid("a\u{1b}[31mb").unwrap_err();
        assert!(!e.message.contains('\u{1b}'), "{}", e.message);
    }

    #[test]
    fn guid_body_variants() {
        for body in [
            &b"0f8fad5b-d9cb-469f-a165-70867728950e"[..],
            b"0F8FAD5B-D9CB-469F-A165-70867728950E",
            b"\"0f8fad5b-d9cb-469f-a165-70867728950e\"",
            b"\"0F8FAD5B-D9CB-469F-A165-70867728950E\"\r\n",
            b"\" 0f8fad5b-d9cb-469f-a165-70867728950e \"",
            b"{0f8fad5b-d9cb-469f-a165-70867728950e}",
            b"\"{0F8FAD5B-D9CB-469F-A165-70867728950E}\"",
            b"\xEF\xBB\xBF\"0f8fad5b-d9cb-469f-a165-70867728950e\"",
            b"\xEF\xBB\xBF0f8fad5b-d9cb-469f-a165-70867728950e\r\n",
            b"  \r\n0f8fad5b-d9cb-469f-a165-70867728950e\r\n\r\n",
            b"0f8fad5bd9cb469fa16570867728950e",
            b"\"0F8FAD5BD9CB469FA16570867728950E\"",
            b"\"\\u0030f8fad5b-d9cb-469f-a165-70867728950e\"",
        ] {
            assert_eq!(parse_guid_body(body).unwrap(), G, "{:?}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn guid_body_rejects_other_answers() {
        for body in [
            &b""[..],
            b"   ",
            b"\"\"",
            b"\"",
            b"{}",
            b"null",
            b"{\"guid\":\"0f8fad5b-d9cb-469f-a165-70867728950e\"}",
            b"<html><body>Service Unavailable</body></html>",
            b"0f8fad5b-d9cb-469f-a165-70867728950e0f8fad5b-d9cb-469f-a165-70867728950e",
            b"0f8fad5b-d9cb-469f-a165-70867728950",
            b"\xff\xfe0\x00f\x00",
            b"\xEF\xBB\xBF",
        ] {
            let e = parse_guid_body(body).expect_err(&String::from_utf8_lossy(body));
            assert_eq!(e.kind, ErrorKind::UnexpectedResponse);
            assert!(e.message.contains("job GUID"), "{}", e.message);
        }
        let e = parse_guid_body(b"").unwrap_err();
        assert!(e.message.contains("an empty body"), "{}", e.message);
        let e = parse_guid_body(b"<html>\x1b[2J</html>").unwrap_err();
        assert!(e.message.contains("\"<html>\\u{1b}[2J</html>\""), "{}", e.message);
        let big = vec![b'a'; 100_000];
        let e = parse_guid_body(&big).unwrap_err();
        assert!(e.message.len() < 500, "{}", e.message.len());
        assert!(e.message.contains("(truncated)"));
    }

    proptest! {
        #[test]
        fn guid_body_never_panics(body in proptest::collection::vec(any::<u8>(), 0..120)) {
            if let Ok(g) = parse_guid_body(&body) {
                prop_assert_eq!(parse_guid(&g).unwrap(), g);
            }
        }

        #[test]
        fn guid_user_never_panics(s in ".*") {
            if let Ok(g) = parse_guid(&s) {
                prop_assert_eq!(g.len(), 36);
                prop_assert_eq!(parse_guid_body(g.as_bytes()).unwrap(), g);
            }
        }

        #[test]
        fn guid_round_trips_any_case(bytes in any::<[u8; 16]>(), upper in any::<bool>(), braces in any::<bool>()) {
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            let canon = format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32]);
            let mut s = if upper { canon.to_uppercase() } else { canon.clone() };
            if braces { s = format!("{{{s}}}"); }
            prop_assert_eq!(parse_guid(&s).unwrap(), canon.clone());
            prop_assert_eq!(parse_guid_body(format!("\"{s}\"").as_bytes()).unwrap(), canon.clone());
            prop_assert_eq!(parse_guid_body(hex.to_uppercase().as_bytes()).unwrap(), canon);
        }
    }
}
