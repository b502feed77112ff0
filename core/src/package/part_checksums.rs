//! A data part's own `checksums.txt` (format 4): ClickHouse compressed blocks (NONE, LZ4, ZSTD)
//! listing every file of the part with its size and checksum, a second, independent check beside
//! the manifest.

use serde::{Deserialize, Serialize};

use super::cityhash::city_hash128;
use crate::error::quote_untrusted;

/// Largest `checksums.txt` read.
pub const MAX_PART_CHECKSUMS: usize = 16 << 20;
/// Largest decompressed `checksums.txt` body.
const MAX_DECOMPRESSED: usize = 64 << 20;

/// A file listed in a part's `checksums.txt`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartChecksum {
    /// The file's name relative to the part folder (`data.bin`, `count.txt`...); invalid UTF-8 becomes U+FFFD.
    pub name: String,
    /// The file's size in bytes as stored, compared with the manifest's `size`.
    pub file_size: u64,
    /// Chained CityHash128 of the file, `(high << 64) | low` like the manifest's.
    pub file_hash: u128,
    /// Whether the file is made of ClickHouse compressed blocks (column data); then the two fields below
    /// describe its decompressed content.
    pub is_compressed: bool,
    /// Size in bytes of the decompressed content; 0 when `is_compressed` is false. Not checked.
    pub uncompressed_size: u64,
    /// Chained CityHash128 of the decompressed content, `(high << 64) | low`; 0 when `is_compressed` is false.
    /// Not checked.
    pub uncompressed_hash: u128,
}

/// Decodes a part's `checksums.txt`, format version 4: the line `checksums format version: 4`,
/// then a stream of ClickHouse compressed blocks (16-byte CityHash128 of the block, method byte
/// 0x02 NONE / 0x82 LZ4 / 0x90 ZSTD, u32 compressed size including the 9-byte header, u32
/// uncompressed size, payload) whose concatenated content is: varuint count, then per file
/// (string name, varuint size, u128 hash as two little-endian u64 low first, u8 is_compressed,
/// and when compressed: varuint uncompressed size, u128 uncompressed hash).
pub fn parse_part_checksums(bytes: &[u8]) -> Result<Vec<PartChecksum>, String> {
    let nl = bytes.iter().position(|&b| b == b'\n').ok_or("no header line")?;
    let header = std::str::from_utf8(&bytes[..nl]).map_err(|_| "header is not text")?;
    let version = header
        .strip_prefix("checksums format version: ")
        .and_then(|v| v.trim().parse::<u32>().ok())
        .ok_or_else(|| format!("unexpected header {}", quote_untrusted(header, 60)))?;
    if version != 4 {
        return Err(format!("checksums format version {version} is not supported (only 4)"));
    }
    let body = decompress_blocks(&bytes[nl + 1..])?;
    let mut r = Reader { d: &body, at: 0 };
    let count = r.var_uint()?;
    if count > body.len() as u64 {
        return Err(format!("{count} files in {} bytes", body.len()));
    }
    let mut out = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let name_len = r.var_uint()? as usize;
        let name = String::from_utf8_lossy(r.take(name_len)?).into_owned();
        let file_size = r.var_uint()?;
        let file_hash = r.u128()?;
        let is_compressed = r.take(1)?[0] != 0;
        let (uncompressed_size, uncompressed_hash) = if is_compressed { (r.var_uint()?, r.u128()?) } else { (0, 0) };
        out.push(PartChecksum { name, file_size, file_hash, is_compressed, uncompressed_size, uncompressed_hash });
    }
    Ok(out)
}

struct Reader<'a> {
    d: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.d.len()).ok_or("ends early")?;
        let s = &self.d[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn var_uint(&mut self) -> Result<u64, String> {
        let mut v = 0u64;
        for i in 0..10 {
            let b = self.take(1)?[0];
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("bad varint".to_owned())
    }
    fn u128(&mut self) -> Result<u128, String> {
        let b = self.take(16)?;
        let mut lo = [0u8; 8];
        let mut hi = [0u8; 8];
        lo.copy_from_slice(&b[..8]);
        hi.copy_from_slice(&b[8..]);
        Ok((u128::from(u64::from_le_bytes(hi)) << 64) | u128::from(u64::from_le_bytes(lo)))
    }
}

/// Decompresses a stream of ClickHouse compressed blocks, checking each block's CityHash128.
pub fn decompress_blocks(mut d: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    while !d.is_empty() {
        if d.len() < 16 + 9 {
            return Err("a compressed block is cut short".to_owned());
        }
        let lo = u64::from_le_bytes(d[0..8].try_into().unwrap_or([0; 8]));
        let hi = u64::from_le_bytes(d[8..16].try_into().unwrap_or([0; 8]));
        let method = d[16];
        let csize = u32::from_le_bytes(d[17..21].try_into().unwrap_or([0; 4])) as usize;
        let usize_ = u32::from_le_bytes(d[21..25].try_into().unwrap_or([0; 4])) as usize;
        if csize < 9 || csize > d.len() - 16 {
            return Err(format!("compressed block size {csize} does not fit"));
        }
        let block = &d[16..16 + csize];
        if city_hash128(block) != (lo, hi) {
            return Err("a compressed block's checksum does not match (corrupt)".to_owned());
        }
        // Sizes are compared by subtraction: a sum of u32 sizes wraps where usize is 32 bits
        // (wasm32), and the slicing below would then panic.
        if usize_ > MAX_DECOMPRESSED - out.len() {
            return Err("decompressed size too large".to_owned());
        }
        let payload = &block[9..];
        let start = out.len();
        out.resize(start + usize_, 0);
        let dst = &mut out[start..];
        match method {
            0x02 => {
                if payload.len() != usize_ {
                    return Err("uncompressed block sizes disagree".to_owned());
                }
                dst.copy_from_slice(payload);
            }
            0x82 => {
                let n = lz4_flex::block::decompress_into(payload, dst).map_err(|e| format!("LZ4: {e}"))?;
                if n != usize_ {
                    return Err("LZ4 block decompressed to the wrong size".to_owned());
                }
            }
            0x90 => {
                let mut dec = ruzstd::decoding::FrameDecoder::new();
                let n = dec.decode_all(payload, dst).map_err(|e| format!("ZSTD: {e}"))?;
                if n != usize_ {
                    return Err("ZSTD block decompressed to the wrong size".to_owned());
                }
            }
            m => return Err(format!("compression method {m:#04x} is not supported")),
        }
        d = &d[16 + csize..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::city_hash128;
    fn block(method: u8, payload: &[u8], raw_len: usize) -> Vec<u8> {
        let mut b = vec![method];
        b.extend_from_slice(&((9 + payload.len()) as u32).to_le_bytes());
        b.extend_from_slice(&(raw_len as u32).to_le_bytes());
        b.extend_from_slice(payload);
        let (lo, hi) = city_hash128(&b);
        let mut out = lo.to_le_bytes().to_vec();
        out.extend_from_slice(&hi.to_le_bytes());
        out.extend_from_slice(&b);
        out
    }

    fn var_uint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    /// The binary body of a checksums.txt listing `data.bin` (compressed) and `count.txt`.
    fn body() -> Vec<u8> {
        let mut body = vec![2u8];
        for (name, size, hash, compressed) in
            [("data.bin", 300u64, 0x0102u128 | (7u128 << 64), true), ("count.txt", 4, 5, false)]
        {
            var_uint(&mut body, name.len() as u64);
            body.extend_from_slice(name.as_bytes());
            var_uint(&mut body, size);
            body.extend_from_slice(&(hash as u64).to_le_bytes());
            body.extend_from_slice(&((hash >> 64) as u64).to_le_bytes());
            body.push(u8::from(compressed));
            if compressed {
                var_uint(&mut body, 9);
                body.extend_from_slice(&[0xab; 16]);
            }
        }
        body
    }

    #[test]
    fn a_declared_size_past_the_limit_is_refused_on_any_usize_width() {
        // On wasm32 (32-bit usize) the limit check `out.len() + declared` wrapped: one byte of
        // output, then a block declaring u32::MAX bytes, passed the check, and the resize wrapped
        // to a shorter buffer and panicked (a trap in the browser verifier) instead of an error.
        let mut blocks = block(0x02, b"x", 1);
        blocks.extend_from_slice(&block(0x02, b"y", u32::MAX as usize));
        assert_eq!(decompress_blocks(&blocks), Err("decompressed size too large".to_owned()));
        // Same with a block whose own size is u32::MAX: `16 + csize` wrapped to 15.
        let mut huge = vec![0u8; 16];
        huge.push(0x02);
        huge.extend_from_slice(&u32::MAX.to_le_bytes());
        huge.extend_from_slice(&1u32.to_le_bytes());
        assert!(decompress_blocks(&huge).is_err());
    }

    #[test]
    fn part_checksums_none_and_lz4_blocks() {
        let body = body();
        let mut none = b"checksums format version: 4\n".to_vec();
        none.extend_from_slice(&block(0x02, &body, body.len()));
        let mut lz4 = b"checksums format version: 4\n".to_vec();
        // Two blocks: the stream may be split anywhere.
        let (a, b) = body.split_at(10);
        lz4.extend_from_slice(&block(0x82, &lz4_flex::block::compress(a), a.len()));
        lz4.extend_from_slice(&block(0x82, &lz4_flex::block::compress(b), b.len()));
        for bytes in [none, lz4] {
            let l = parse_part_checksums(&bytes).unwrap();
            assert_eq!(l.len(), 2);
            assert_eq!((l[0].name.as_str(), l[0].file_size, l[0].file_hash), ("data.bin", 300, 0x0102 | (7 << 64)));
            assert!(l[0].is_compressed && l[0].uncompressed_size == 9);
            assert_eq!((l[1].name.as_str(), l[1].file_hash, l[1].is_compressed), ("count.txt", 5, false));
            // Any corrupted byte after the header is caught by the block checksum or the decoder.
            for i in 28..bytes.len() {
                let mut bad = bytes.clone();
                bad[i] ^= 0x10;
                assert!(parse_part_checksums(&bad).is_err(), "byte {i}");
            }
        }
        assert!(parse_part_checksums(b"checksums format version: 3\n1 files:\n").is_err());
        assert!(parse_part_checksums(b"").is_err());
    }
}
