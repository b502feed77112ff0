//! Is this stream a whole zip package? A cheap check made while the bytes go by.
//!
//! A 200 answer is not always the package: a proxy or a misconfigured server may answer 200 with an
//! HTML or JSON error page, and a connection may end cleanly but early. A sink feeds every chunk to a
//! [`ShapeProbe`] (it keeps the first bytes and the last 64 KiB, nothing more) and the job reads its
//! verdict before giving the file a package name. Full verification (CRCs, manifest checksums) is a
//! separate, later pass.

use serde::{Deserialize, Serialize};

const LOCAL_HEADER: [u8; 4] = *b"PK\x03\x04";
const END_OF_CENTRAL_DIR: [u8; 4] = *b"PK\x05\x06";
const EOCD_LEN: usize = 22;
/// The end record plus the longest possible zip comment.
const TAIL_KEEP: usize = EOCD_LEN + u16::MAX as usize;
const HEAD_KEEP: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "shape", rename_all = "snake_case")]
pub enum Shape {
    /// Starts like a zip and ends with a consistent end-of-central-directory record.
    Zip,
    /// Starts like a zip but its end record is missing or inconsistent: cut short.
    TruncatedZip,
    /// Not a zip at all; `looks_like` is a short human description (HTML page, JSON, text, empty).
    NotZip { looks_like: String },
}

#[derive(Debug, Clone, Default)]
pub struct ShapeProbe {
    head: Vec<u8>,
    tail: Vec<u8>,
    total: u64,
}

impl ShapeProbe {
    pub fn new() -> ShapeProbe {
        ShapeProbe::default()
    }

    pub fn update(&mut self, chunk: &[u8]) {
        self.total += chunk.len() as u64;
        if self.head.len() < HEAD_KEEP {
            let take = (HEAD_KEEP - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        if chunk.len() >= TAIL_KEEP {
            self.tail.clear();
            self.tail.extend_from_slice(&chunk[chunk.len() - TAIL_KEEP..]);
        } else {
            // Let the window grow to twice its size before compacting: one 64 KiB move per
            // ~64 KiB of input instead of one per (often small) network chunk.
            if self.tail.len() + chunk.len() > 2 * TAIL_KEEP {
                let excess = self.tail.len() - TAIL_KEEP;
                self.tail.drain(..excess);
            }
            self.tail.extend_from_slice(chunk);
        }
    }

    pub fn bytes_seen(&self) -> u64 {
        self.total
    }

    pub fn verdict(&self) -> Shape {
        if self.total == 0 {
            return Shape::NotZip { looks_like: "an empty body".into() };
        }
        let starts_like_zip = self.head.starts_with(&LOCAL_HEADER) || self.head.starts_with(&END_OF_CENTRAL_DIR);
        if !starts_like_zip {
            return Shape::NotZip { looks_like: describe(&self.head) };
        }
        if self.end_record_is_consistent() {
            Shape::Zip
        } else {
            Shape::TruncatedZip
        }
    }

    /// Finds the end record (searching back over a possible comment) and checks that the central
    /// directory it describes ends exactly where the record starts.
    fn end_record_is_consistent(&self) -> bool {
        let tail = &self.tail[self.tail.len().saturating_sub(TAIL_KEEP)..];
        if tail.len() < EOCD_LEN {
            return false;
        }
        let tail_start = self.total - tail.len() as u64;
        for pos in (0..=tail.len() - EOCD_LEN).rev() {
            if tail[pos..pos + 4] != END_OF_CENTRAL_DIR {
                continue;
            }
            let comment_len = u16::from_le_bytes([tail[pos + 20], tail[pos + 21]]) as usize;
            if pos + EOCD_LEN + comment_len != tail.len() {
                continue;
            }
            let cd_size = u32::from_le_bytes(tail[pos + 12..pos + 16].try_into().unwrap()) as u64;
            let cd_offset = u32::from_le_bytes(tail[pos + 16..pos + 20].try_into().unwrap()) as u64;
            if cd_size == 0xFFFF_FFFF || cd_offset == 0xFFFF_FFFF {
                // Zip64: the real values live in another record; the signature position is enough.
                return true;
            }
            return cd_offset + cd_size == tail_start + pos as u64;
        }
        false
    }
}

fn describe(head: &[u8]) -> String {
    let text = String::from_utf8_lossy(head).trim_start().to_ascii_lowercase();
    if text.starts_with("<!doctype html") || text.starts_with("<html") || text.starts_with("<head") {
        "an HTML page".into()
    } else if text.starts_with('{') || text.starts_with('[') {
        "a JSON document".into()
    } else if text.starts_with("<?xml") {
        "an XML document".into()
    } else if head.iter().all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace()) {
        "plain text".into()
    } else {
        "binary data that is not a zip".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal valid zip: one stored, empty entry "a".
    fn tiny_zip() -> Vec<u8> {
        let mut z = Vec::new();
        z.extend_from_slice(b"PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00");
        z.extend_from_slice(&[0; 12]); // crc, sizes
        z.extend_from_slice(&[1, 0, 0, 0]); // name len 1, extra 0
        z.push(b'a');
        let cd_offset = z.len() as u32;
        z.extend_from_slice(b"PK\x01\x02\x14\x00\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00");
        z.extend_from_slice(&[0; 12]);
        z.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        z.push(b'a');
        let cd_size = z.len() as u32 - cd_offset;
        z.extend_from_slice(b"PK\x05\x06\x00\x00\x00\x00\x01\x00\x01\x00");
        z.extend_from_slice(&cd_size.to_le_bytes());
        z.extend_from_slice(&cd_offset.to_le_bytes());
        z.extend_from_slice(&[0, 0]);
        z
    }

    fn verdict_of(chunks: &[&[u8]]) -> Shape {
        let mut p = ShapeProbe::new();
        for c in chunks {
            p.update(c);
        }
        p.verdict()
    }

    #[test]
    fn whole_zip_in_any_chunking() {
        let z = tiny_zip();
        assert_eq!(verdict_of(&[&z]), Shape::Zip);
        for split in 1..z.len() {
            assert_eq!(verdict_of(&[&z[..split], &z[split..]]), Shape::Zip, "split {split}");
        }
    }

    #[test]
    fn cut_short_zip_is_truncated() {
        let z = tiny_zip();
        for cut in 4..z.len() {
            assert_eq!(verdict_of(&[&z[..cut]]), Shape::TruncatedZip, "cut {cut}");
        }
    }

    #[test]
    fn error_pages_are_named() {
        assert_eq!(verdict_of(&[b"<!DOCTYPE html><html>502</html>"]), Shape::NotZip { looks_like: "an HTML page".into() });
        assert_eq!(verdict_of(&[b" {\"error\":1}"]), Shape::NotZip { looks_like: "a JSON document".into() });
        assert_eq!(verdict_of(&[]), Shape::NotZip { looks_like: "an empty body".into() });
    }

    #[test]
    fn large_stream_keeps_bounded_memory() {
        let mut p = ShapeProbe::new();
        p.update(&tiny_zip()[..30]);
        let filler = vec![7u8; 100_000];
        for _ in 0..20 {
            p.update(&filler[..12_345]);
            p.update(&filler);
        }
        assert!(p.tail.len() <= 2 * TAIL_KEEP && p.head.len() <= HEAD_KEEP);
        assert_eq!(p.verdict(), Shape::TruncatedZip);
    }
}
