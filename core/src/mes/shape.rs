//! Is this stream a whole zip package? A cheap check made while the bytes go by.
//!
//! A 200 answer is not always the package: a proxy or a misconfigured server may answer 200 with an
//! HTML or JSON error page, and a connection may end cleanly but early. A sink feeds every chunk to a
//! [`ShapeProbe`] (it keeps the first bytes and the last 64 KiB, nothing more) and the job reads its
//! verdict before giving the file a package name. Full verification (CRCs, manifest checksums) is a
//! separate, later pass.
//!
//! Two probes, one verdict: [`ShapeProbe`] copies what it keeps out of borrowed slices;
//! [`HeldShapeProbe`] keeps handles to the last chunks instead (a refcounted buffer, a JavaScript
//! `Uint8Array`) and copies their tail out once, when asked for the verdict. A driver whose chunks
//! live outside its own memory (WebAssembly) then never copies the body just to probe it.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

const LOCAL_HEADER: [u8; 4] = *b"PK\x03\x04";
const END_OF_CENTRAL_DIR: [u8; 4] = *b"PK\x05\x06";
const EOCD_LEN: usize = 22;
/// The end record plus the longest possible zip comment.
const TAIL_KEEP: usize = EOCD_LEN + u16::MAX as usize;
const HEAD_KEEP: usize = 64;

/// What a received body looks like, judged from its first bytes, its last bytes and its length.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "shape", rename_all = "snake_case")]
pub enum Shape {
    /// Starts like a zip and ends with a consistent end-of-central-directory record.
    Zip,
    /// Starts like a zip but its end record is missing or inconsistent: cut short.
    TruncatedZip,
    /// Not a zip at all; `looks_like` is a short human description (HTML page, JSON, text, empty).
    NotZip {
        /// What the body appears to be, e.g. "an HTML page", "a JSON document", "an empty body".
        looks_like: String,
    },
}

/// Watches a stream of borrowed chunks and gives its [`Shape`], keeping only the first bytes and
/// the last (about 64 KiB) window.
#[derive(Debug, Clone, Default)]
pub struct ShapeProbe {
    head: Vec<u8>,
    tail: Vec<u8>,
    total: u64,
}

impl ShapeProbe {
    /// A probe that has seen no byte yet.
    pub fn new() -> ShapeProbe {
        ShapeProbe::default()
    }

    /// Call this with every chunk of the body, in order, as it is written to the sink.
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

    /// Total bytes passed to [`update`](Self::update) so far.
    pub fn bytes_seen(&self) -> u64 {
        self.total
    }

    /// Call this once the body has ended; returns its shape. Cheap, and may be called more than once.
    pub fn verdict(&self) -> Shape {
        verdict(&self.head, &self.tail[self.tail.len().saturating_sub(TAIL_KEEP)..], self.total)
    }
}

/// A chunk of a stream held by handle: the probe asks for its length and, at the end, for a copy
/// of some of its bytes. Every `AsRef<[u8]>` (`Vec<u8>`, `bytes::Bytes`) is one.
pub trait HeldBytes {
    /// Length of the chunk in bytes.
    fn len(&self) -> usize;
    /// True when the chunk has no bytes (the probe skips such chunks).
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Appends bytes `start..end` of the chunk to `out`.
    fn copy_range_to(&self, start: usize, end: usize, out: &mut Vec<u8>);
}

impl<T: AsRef<[u8]>> HeldBytes for T {
    fn len(&self) -> usize {
        self.as_ref().len()
    }
    fn copy_range_to(&self, start: usize, end: usize, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.as_ref()[start..end]);
    }
}

/// [`ShapeProbe`] over chunks it may keep (cheap clones of immutable buffers): it copies the first
/// bytes of the stream and otherwise only holds the fewest last chunks that cover the tail window.
/// Chunks smaller than `SMALL_CHUNK` are copied instead (into pieces of at most that size), so that
/// a stream of tiny chunks (a slow drip) cannot make it hold thousands of handles: it never holds
/// more than about `2 * TAIL_KEEP / SMALL_CHUNK` pieces.
#[derive(Debug, Clone)]
pub struct HeldShapeProbe<C> {
    head: Vec<u8>,
    recent: VecDeque<Piece<C>>,
    /// Total length of `recent`.
    recent_len: usize,
    total: u64,
}

/// Chunks below this size are copied rather than held.
const SMALL_CHUNK: usize = 8 << 10;

#[derive(Debug, Clone)]
enum Piece<C> {
    Held(C),
    /// Copies of consecutive small chunks, at most `SMALL_CHUNK` bytes.
    Copied(Vec<u8>),
}

impl<C: HeldBytes> Piece<C> {
    fn len(&self) -> usize {
        match self {
            Piece::Held(c) => c.len(),
            Piece::Copied(v) => v.len(),
        }
    }
}

impl<C> Default for HeldShapeProbe<C> {
    fn default() -> Self {
        HeldShapeProbe { head: Vec::new(), recent: VecDeque::new(), recent_len: 0, total: 0 }
    }
}

impl<C: HeldBytes> HeldShapeProbe<C> {
    /// A probe that has seen no chunk yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Call this with every chunk of the body, in order; the probe may keep the handle until a later
    /// chunk pushes it out of the tail window. Empty chunks are ignored.
    pub fn update(&mut self, chunk: C) {
        let len = chunk.len();
        if len == 0 {
            return;
        }
        self.total += len as u64;
        if self.head.len() < HEAD_KEEP {
            let take = (HEAD_KEEP - self.head.len()).min(len);
            chunk.copy_range_to(0, take, &mut self.head);
        }
        if len >= SMALL_CHUNK {
            self.recent.push_back(Piece::Held(chunk));
        } else {
            match self.recent.back_mut() {
                Some(Piece::Copied(v)) if v.len() + len <= SMALL_CHUNK => chunk.copy_range_to(0, len, v),
                _ => {
                    let mut v = Vec::with_capacity(SMALL_CHUNK);
                    chunk.copy_range_to(0, len, &mut v);
                    self.recent.push_back(Piece::Copied(v));
                }
            }
        }
        self.recent_len += len;
        // Drop the oldest piece while the others still cover the window.
        while let Some(oldest) = self.recent.front() {
            let rest = self.recent_len - oldest.len();
            if rest < TAIL_KEEP {
                break;
            }
            self.recent_len = rest;
            self.recent.pop_front();
        }
    }

    /// Total bytes passed to [`update`](Self::update) so far.
    pub fn bytes_seen(&self) -> u64 {
        self.total
    }

    /// Call this once the body has ended; copies the tail out of the held chunks and returns the shape.
    pub fn verdict(&self) -> Shape {
        let mut tail = Vec::with_capacity(self.recent_len.min(TAIL_KEEP));
        let mut skip = self.recent_len.saturating_sub(TAIL_KEEP);
        for piece in &self.recent {
            let len = piece.len();
            if skip >= len {
                skip -= len;
                continue;
            }
            match piece {
                Piece::Held(c) => c.copy_range_to(skip, len, &mut tail),
                Piece::Copied(v) => tail.extend_from_slice(&v[skip..]),
            }
            skip = 0;
        }
        verdict(&self.head, &tail, self.total)
    }
}

/// The verdict on a stream of `total` bytes that starts with `head` and ends with `tail` (at most
/// the last `TAIL_KEEP` bytes).
fn verdict(head: &[u8], tail: &[u8], total: u64) -> Shape {
    if total == 0 {
        return Shape::NotZip { looks_like: "an empty body".into() };
    }
    let starts_like_zip = head.starts_with(&LOCAL_HEADER) || head.starts_with(&END_OF_CENTRAL_DIR);
    if !starts_like_zip {
        return Shape::NotZip { looks_like: describe(head) };
    }
    if end_record_is_consistent(tail, total) {
        Shape::Zip
    } else {
        Shape::TruncatedZip
    }
}

/// Finds the end record (searching back over a possible comment) and checks that the central
/// directory it describes ends exactly where the record starts.
fn end_record_is_consistent(tail: &[u8], total: u64) -> bool {
    if tail.len() < EOCD_LEN {
        return false;
    }
    let tail_start = total - tail.len() as u64;
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
        assert_eq!(
            verdict_of(&[b"<!DOCTYPE html><html>502</html>"]),
            Shape::NotZip { looks_like: "an HTML page".into() }
        );
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

    /// A stream the probe calls a zip: a local header, `body` filler bytes, a central directory of
    /// `cd` bytes, then an end record with a `comment` of that many bytes.
    fn big_zip(body: usize, cd: usize, comment: usize) -> Vec<u8> {
        let mut z = b"PK\x03\x04".to_vec();
        z.extend((0..body).map(|i| (i % 251) as u8));
        let cd_offset = z.len() as u32;
        z.extend(std::iter::repeat_n(b'c', cd));
        z.extend_from_slice(b"PK\x05\x06\x00\x00\x00\x00\x01\x00\x01\x00");
        z.extend_from_slice(&(cd as u32).to_le_bytes());
        z.extend_from_slice(&cd_offset.to_le_bytes());
        z.extend_from_slice(&(comment as u16).to_le_bytes());
        z.extend(std::iter::repeat_n(b'#', comment));
        z
    }

    fn held_verdict(data: &[u8], cuts: &[usize]) -> (Shape, usize) {
        let mut p: HeldShapeProbe<Vec<u8>> = HeldShapeProbe::new();
        let mut at = 0;
        let mut most_held = 0;
        for &cut in cuts.iter().chain(std::iter::once(&data.len())) {
            let cut = cut.clamp(at, data.len());
            p.update(data[at..cut].to_vec());
            most_held = most_held.max(p.recent_len);
            assert!(p.recent.len() <= 2 * TAIL_KEEP / SMALL_CHUNK + 3, "{} pieces", p.recent.len());
            at = cut;
        }
        assert_eq!(p.bytes_seen(), data.len() as u64);
        (p.verdict(), most_held)
    }

    #[test]
    fn held_probe_agrees_on_the_basic_cases() {
        let z = tiny_zip();
        for split in 0..=z.len() {
            assert_eq!(held_verdict(&z, &[split]).0, Shape::Zip, "split {split}");
        }
        for cut in 4..z.len() {
            assert_eq!(held_verdict(&z[..cut], &[cut / 2]).0, Shape::TruncatedZip, "cut {cut}");
        }
        assert_eq!(held_verdict(b"<html>502</html>", &[3]).0, Shape::NotZip { looks_like: "an HTML page".into() });
        assert_eq!(held_verdict(b"", &[]).0, Shape::NotZip { looks_like: "an empty body".into() });
    }

    #[test]
    fn held_probe_copies_tiny_chunks_into_few_pieces() {
        // 300 KB of 1..=7-byte chunks: a bounded number of pieces, the same verdict.
        let z = big_zip(300_000, 50, 1000);
        let mut cuts = Vec::new();
        let mut at = 0;
        while at < z.len() {
            at += 1 + at % 7;
            cuts.push(at);
        }
        let (shape, most_held) = held_verdict(&z, &cuts);
        assert_eq!(shape, Shape::Zip);
        assert!(most_held < TAIL_KEEP + SMALL_CHUNK, "held {most_held} bytes");
    }

    #[test]
    fn held_probe_holds_only_what_covers_the_tail() {
        // A 1 MB zip with the longest comment, in 10 KB chunks: at most the window plus one chunk.
        let z = big_zip(1_000_000, 300, u16::MAX as usize);
        let cuts: Vec<usize> = (1..z.len() / 10_000 + 1).map(|i| i * 10_000).collect();
        let (shape, most_held) = held_verdict(&z, &cuts);
        assert_eq!(shape, Shape::Zip);
        assert!(most_held < TAIL_KEEP + 10_000, "held {most_held} bytes");
    }

    proptest::proptest! {
        /// Both probes give the same verdict for any stream in any chunking; whole zips (with or
        /// without a comment, small or larger than the tail window) are zips, cut ones are not.
        #[test]
        fn held_probe_matches_the_copying_probe(
            body in 0usize..200_000,
            cd in 0usize..2_000,
            comment in proptest::prop_oneof![0usize..100, 65_000usize..=65_535],
            cut_back in proptest::prop_oneof![proptest::strategy::Just(0usize), 1usize..70_000],
            mut cuts in proptest::collection::vec(0usize..300_000, 0..12),
            drip in proptest::prop_oneof![proptest::strategy::Just(0usize), 1usize..3_000],
        ) {
            let mut z = big_zip(body, cd, comment);
            let whole = cut_back == 0 || cut_back >= z.len();
            if !whole {
                z.truncate(z.len() - cut_back);
            }
            // Optionally a drip of small chunks over the last 80 KB (copied pieces and held chunks
            // mixed in the tail window).
            if drip > 0 {
                cuts.extend((z.len().saturating_sub(80_000)..z.len()).step_by(drip));
            }
            cuts.sort_unstable();
            let mut copying = ShapeProbe::new();
            let mut at = 0;
            for &cut in cuts.iter().chain(std::iter::once(&z.len())) {
                let cut = cut.clamp(at, z.len());
                copying.update(&z[at..cut]);
                at = cut;
            }
            let (held, _) = held_verdict(&z, &cuts);
            proptest::prop_assert_eq!(&held, &copying.verdict());
            proptest::prop_assert_eq!(held == Shape::Zip, whole);
        }
    }
}
