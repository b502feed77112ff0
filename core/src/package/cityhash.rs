//! CityHash **v1.0.2** and ClickHouse's chained 2048-byte-block checksum.
//!
//! ClickHouse vendors CityHash v1.0.2 (namespace `CityHash_v1_0_2` in `contrib/cityhash102`) and
//! keeps it frozen because its values are persisted: part checksums, backup manifests and the SQL
//! function `cityHash64`. Later releases changed the algorithm (1.0.3, then 1.1): `CityHash64`
//! (its short-input helpers and its long loop), and for 128 bits the 64-byte round, the
//! finalization and tail (an extra `z` accumulator) of `CityHash128WithSeed` and the seed that
//! `CityHash128` derives from its first 16 bytes. Only `CityMurmur`, used for inputs shorter than
//! 128 bytes, is shared: a short vector such as `count.txt` cannot tell the versions apart, the
//! 2048-byte blocks of the chained checksum can. A generic CityHash crate therefore does **not**
//! give ClickHouse's values. This module is a port of the v1.0.2 algorithm as ClickHouse ships
//! it; ClickHouse's manually unrolled 128-byte loop in `CityHash128WithSeed` computes exactly the
//! same function as Google's original two 64-byte rounds, which is what is written here.
//!
//! All loads are little-endian (`from_le_bytes`), as on the x86-64 and AArch64 hosts that
//! produce ClickHouse backups, so results are the same on every target, wasm32 included.
//!
//! The 128-bit values are `(low64, high64)` pairs, like CityHash's `uint128` (`first`, `second`).
//!
//! # The backup checksum
//! [`ChainedChecksum`] is ClickHouse's `IHashingBuffer` with its default block size of 2048
//! (`DBMS_DEFAULT_HASHING_BLOCK_SIZE`): the state starts at `(0, 0)`, every full 2048-byte block
//! replaces it with `CityHash128WithSeed(block, state)`, and a final partial block, if any, is
//! hashed the same way. A backup manifest prints the result as 32 lowercase hex digits, high 64
//! bits first ([`checksum_hex`]). The empty input yields `0` (state `(0, 0)` untouched); the
//! manifest gives zero-size files no checksum at all, so that value never appears there.

/// Block size of ClickHouse's hashing buffers (`DBMS_DEFAULT_HASHING_BLOCK_SIZE`).
pub const BLOCK_SIZE: usize = 2048;

// Some primes between 2^63 and 2^64 (CityHash's k0..k3).
const K0: u64 = 0xc3a5_c85c_97cb_3127;
const K1: u64 = 0xb492_b66f_be98_f273;
const K2: u64 = 0x9ae1_6a3b_2f90_404f;
const K3: u64 = 0xc949_d7c7_509e_6557;
/// Multiplier of `Hash128to64`.
const K_MUL: u64 = 0x9ddf_ea08_eb38_2d69;

#[inline(always)]
fn fetch64(s: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&s[at..at + 8]);
    u64::from_le_bytes(b)
}

#[inline(always)]
fn fetch32(s: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&s[at..at + 4]);
    u64::from(u32::from_le_bytes(b))
}

/// Loads word `i` (8 bytes at `8 * i`) of a 128-byte chunk; the index is checked at compile time.
#[inline(always)]
fn word(chunk: &[u8; 128], i: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&chunk[8 * i..8 * i + 8]);
    u64::from_le_bytes(b)
}

/// `Rotate` / `RotateByAtLeast1` of v1.0.2: a right rotation (a shift of 0 leaves the value).
#[inline(always)]
fn rotate(val: u64, shift: u32) -> u64 {
    val.rotate_right(shift)
}

#[inline(always)]
fn shift_mix(val: u64) -> u64 {
    val ^ (val >> 47)
}

/// `Hash128to64(uint128(u, v))`, Murmur-inspired.
#[inline(always)]
fn hash_len16(u: u64, v: u64) -> u64 {
    let mut a = (u ^ v).wrapping_mul(K_MUL);
    a ^= a >> 47;
    let mut b = (v ^ a).wrapping_mul(K_MUL);
    b ^= b >> 47;
    b.wrapping_mul(K_MUL)
}

fn hash_len0to16(s: &[u8]) -> u64 {
    let len = s.len();
    if len > 8 {
        let a = fetch64(s, 0);
        let b = fetch64(s, len - 8);
        // RotateByAtLeast1(b + len, len), len in 9..=16.
        return hash_len16(a, rotate(b.wrapping_add(len as u64), len as u32)) ^ b;
    }
    if len >= 4 {
        let a = fetch32(s, 0);
        return hash_len16((len as u64).wrapping_add(a << 3), fetch32(s, len - 4));
    }
    if len > 0 {
        let a = u32::from(s[0]);
        let b = u32::from(s[len >> 1]);
        let c = u32::from(s[len - 1]);
        let y = a.wrapping_add(b << 8);
        let z = (len as u32).wrapping_add(c << 2);
        return shift_mix(u64::from(y).wrapping_mul(K2) ^ u64::from(z).wrapping_mul(K3)).wrapping_mul(K2);
    }
    K2
}

fn hash_len17to32(s: &[u8]) -> u64 {
    let len = s.len();
    let a = fetch64(s, 0).wrapping_mul(K1);
    let b = fetch64(s, 8);
    let c = fetch64(s, len - 8).wrapping_mul(K2);
    let d = fetch64(s, len - 16).wrapping_mul(K0);
    hash_len16(
        rotate(a.wrapping_sub(b), 43).wrapping_add(rotate(c, 30)).wrapping_add(d),
        a.wrapping_add(rotate(b ^ K3, 20)).wrapping_sub(c).wrapping_add(len as u64),
    )
}

/// `WeakHashLen32WithSeeds(w, x, y, z, a, b)`: a 16-byte hash of 48 bytes, quick and dirty.
#[inline(always)]
fn weak_hash_len32_with_seeds_words(w: u64, x: u64, y: u64, z: u64, mut a: u64, mut b: u64) -> (u64, u64) {
    a = a.wrapping_add(w);
    b = rotate(b.wrapping_add(a).wrapping_add(z), 21);
    let c = a;
    a = a.wrapping_add(x);
    a = a.wrapping_add(y);
    b = b.wrapping_add(rotate(a, 44));
    (a.wrapping_add(z), b.wrapping_add(c))
}

/// `WeakHashLen32WithSeeds(s + at, a, b)`: the 32 bytes at `at`, and two seeds.
#[inline(always)]
fn weak_hash_len32_with_seeds(s: &[u8], at: usize, a: u64, b: u64) -> (u64, u64) {
    weak_hash_len32_with_seeds_words(fetch64(s, at), fetch64(s, at + 8), fetch64(s, at + 16), fetch64(s, at + 24), a, b)
}

fn hash_len33to64(s: &[u8]) -> u64 {
    let len = s.len();
    let mut z = fetch64(s, 24);
    let mut a = fetch64(s, 0).wrapping_add((len as u64).wrapping_add(fetch64(s, len - 16)).wrapping_mul(K0));
    let mut b = rotate(a.wrapping_add(z), 52);
    let mut c = rotate(a, 37);
    a = a.wrapping_add(fetch64(s, 8));
    c = c.wrapping_add(rotate(a, 7));
    a = a.wrapping_add(fetch64(s, 16));
    let vf = a.wrapping_add(z);
    let vs = b.wrapping_add(rotate(a, 31)).wrapping_add(c);
    a = fetch64(s, 16).wrapping_add(fetch64(s, len - 32));
    z = fetch64(s, len - 8);
    b = rotate(a.wrapping_add(z), 52);
    c = rotate(a, 37);
    a = a.wrapping_add(fetch64(s, len - 24));
    c = c.wrapping_add(rotate(a, 7));
    a = a.wrapping_add(fetch64(s, len - 16));
    let wf = a.wrapping_add(z);
    let ws = b.wrapping_add(rotate(a, 31)).wrapping_add(c);
    let r = shift_mix(vf.wrapping_add(ws).wrapping_mul(K2).wrapping_add(wf.wrapping_add(vs).wrapping_mul(K0)));
    shift_mix(r.wrapping_mul(K0).wrapping_add(vs)).wrapping_mul(K2)
}

/// `CityHash_v1_0_2::CityHash64`: ClickHouse's `cityHash64` of a single string.
pub fn city_hash64(s: &[u8]) -> u64 {
    let len = s.len();
    if len <= 32 {
        if len <= 16 {
            return hash_len0to16(s);
        }
        return hash_len17to32(s);
    } else if len <= 64 {
        return hash_len33to64(s);
    }

    // For strings over 64 bytes we hash the end first, and then as we
    // loop we keep 56 bytes of state: v, w, x, y, and z.
    let len64 = len as u64;
    let mut x = fetch64(s, 0);
    let mut y = fetch64(s, len - 16) ^ K1;
    let mut z = fetch64(s, len - 56) ^ K0;
    let mut v = weak_hash_len32_with_seeds(s, len - 64, len64, y);
    let mut w = weak_hash_len32_with_seeds(s, len - 32, len64.wrapping_mul(K1), K0);
    z = z.wrapping_add(shift_mix(v.1).wrapping_mul(K1));
    x = rotate(z.wrapping_add(x), 39).wrapping_mul(K1);
    y = rotate(y, 33).wrapping_mul(K1);

    // The original sets `len = (len - 1) & ~63` and runs `do { ...; len -= 64 } while (len)`:
    // (len - 1) / 64 rounds (at least one, as len > 64) over the 64-byte chunks from the start.
    let chunks = (len - 1) / 64;
    for i in 0..chunks {
        let at = 64 * i;
        x = rotate(x.wrapping_add(y).wrapping_add(v.0).wrapping_add(fetch64(s, at + 16)), 37).wrapping_mul(K1);
        y = rotate(y.wrapping_add(v.1).wrapping_add(fetch64(s, at + 48)), 42).wrapping_mul(K1);
        x ^= w.1;
        y ^= v.0;
        z = rotate(z ^ w.0, 33);
        v = weak_hash_len32_with_seeds(s, at, v.1.wrapping_mul(K1), x.wrapping_add(w.0));
        w = weak_hash_len32_with_seeds(s, at + 32, z.wrapping_add(w.1), y);
        core::mem::swap(&mut z, &mut x);
    }
    hash_len16(
        hash_len16(v.0, w.0).wrapping_add(shift_mix(y).wrapping_mul(K1)).wrapping_add(z),
        hash_len16(v.1, w.1).wrapping_add(x),
    )
}

/// `CityMurmur`: the v1.0.2 128-bit hash used for inputs shorter than 128 bytes.
fn city_murmur(s: &[u8], seed: (u64, u64)) -> (u64, u64) {
    let len = s.len();
    let mut a = seed.0;
    let mut b = seed.1;
    let mut c;
    let mut d;
    if len <= 16 {
        a = shift_mix(a.wrapping_mul(K1)).wrapping_mul(K1);
        c = b.wrapping_mul(K1).wrapping_add(hash_len0to16(s));
        d = shift_mix(a.wrapping_add(if len >= 8 { fetch64(s, 0) } else { c }));
    } else {
        c = hash_len16(fetch64(s, len - 8).wrapping_add(K1), a);
        d = hash_len16(b.wrapping_add(len as u64), c.wrapping_add(fetch64(s, len - 16)));
        a = a.wrapping_add(d);
        // `do { ... s += 16; l -= 16; } while (l > 0)` with l = len - 16 at the start:
        // the 16-byte words starting at 0, 16, ... while fewer than len - 16 bytes were consumed.
        let mut at = 0;
        while at + 16 < len {
            a ^= shift_mix(fetch64(s, at).wrapping_mul(K1)).wrapping_mul(K1);
            a = a.wrapping_mul(K1);
            b ^= a;
            c ^= shift_mix(fetch64(s, at + 8).wrapping_mul(K1)).wrapping_mul(K1);
            c = c.wrapping_mul(K1);
            d ^= c;
            at += 16;
        }
    }
    a = hash_len16(a, c);
    b = hash_len16(d, b);
    (a ^ b, hash_len16(b, a))
}

/// `CityHash_v1_0_2::CityHash128WithSeed`; `seed` and the result are `(low64, high64)`.
pub fn city_hash128_with_seed(s: &[u8], seed: (u64, u64)) -> (u64, u64) {
    let len = s.len();
    if len < 128 {
        return city_murmur(s, seed);
    }

    // We expect len >= 128 to be the common case. Keep 56 bytes of state: v, w, x, y, and z.
    let mut x = seed.0;
    let mut y = seed.1;
    let mut z = (len as u64).wrapping_mul(K1);
    let v0 = rotate(y ^ K1, 49).wrapping_mul(K1).wrapping_add(fetch64(s, 0));
    let mut v = (v0, rotate(v0, 42).wrapping_mul(K1).wrapping_add(fetch64(s, 8)));
    let mut w = (
        rotate(y.wrapping_add(z), 35).wrapping_mul(K1).wrapping_add(x),
        rotate(x.wrapping_add(fetch64(s, 88)), 53).wrapping_mul(K1),
    );

    // The CityHash64 inner loop, two 64-byte rounds per 128-byte chunk (the second round has the
    // roles of x and z swapped, which is the original's `std::swap(z, x)`).
    let mut chunks = s.chunks_exact(128);
    for chunk in &mut chunks {
        let chunk: &[u8; 128] = chunk.try_into().expect("chunks_exact(128)");
        let p = |i: usize| word(chunk, i);

        x = rotate(x.wrapping_add(y).wrapping_add(v.0).wrapping_add(p(2)), 37).wrapping_mul(K1);
        y = rotate(y.wrapping_add(v.1).wrapping_add(p(6)), 42).wrapping_mul(K1);
        x ^= w.1;
        y ^= v.0;
        z = rotate(z ^ w.0, 33);
        v = weak_hash_len32_with_seeds_words(p(0), p(1), p(2), p(3), v.1.wrapping_mul(K1), x.wrapping_add(w.0));
        w = weak_hash_len32_with_seeds_words(p(4), p(5), p(6), p(7), z.wrapping_add(w.1), y);

        z = rotate(z.wrapping_add(y).wrapping_add(v.0).wrapping_add(p(10)), 37).wrapping_mul(K1);
        y = rotate(y.wrapping_add(v.1).wrapping_add(p(14)), 42).wrapping_mul(K1);
        z ^= w.1;
        y ^= v.0;
        x = rotate(x ^ w.0, 33);
        v = weak_hash_len32_with_seeds_words(p(8), p(9), p(10), p(11), v.1.wrapping_mul(K1), z.wrapping_add(w.0));
        w = weak_hash_len32_with_seeds_words(p(12), p(13), p(14), p(15), x.wrapping_add(w.1), y);
    }
    let rest = chunks.remainder().len();

    y = y.wrapping_add(rotate(w.0, 37).wrapping_mul(K0).wrapping_add(z));
    x = x.wrapping_add(rotate(v.0.wrapping_add(z), 49).wrapping_mul(K0));
    // If 0 < rest < 128, hash up to 4 chunks of 32 bytes each from the end of the input (these
    // may reach back into bytes the loop already consumed; len >= 128 keeps them in bounds).
    let mut tail_done = 0;
    while tail_done < rest {
        tail_done += 32;
        let at = len - tail_done;
        y = rotate(y.wrapping_sub(x), 42).wrapping_mul(K0).wrapping_add(v.1);
        w.0 = w.0.wrapping_add(fetch64(s, at + 16));
        x = rotate(x, 49).wrapping_mul(K0).wrapping_add(w.0);
        w.0 = w.0.wrapping_add(v.0);
        v = weak_hash_len32_with_seeds(s, at, v.0, v.1);
    }
    // At this point our 48 bytes of state should contain more than enough information for a
    // strong 128-bit hash. Two different 48-byte-to-8-byte hashes give the 16-byte result.
    x = hash_len16(x, v.0);
    y = hash_len16(y, w.0);
    (hash_len16(x.wrapping_add(v.1), w.1).wrapping_add(y), hash_len16(x.wrapping_add(w.1), y.wrapping_add(v.1)))
}

/// `CityHash_v1_0_2::CityHash128`; the result is `(low64, high64)`.
pub fn city_hash128(s: &[u8]) -> (u64, u64) {
    let len = s.len();
    if len >= 16 {
        city_hash128_with_seed(&s[16..], (fetch64(s, 0) ^ K3, fetch64(s, 8)))
    } else if len >= 8 {
        city_hash128_with_seed(&[], (fetch64(s, 0) ^ (len as u64).wrapping_mul(K0), fetch64(s, len - 8) ^ K1))
    } else {
        city_hash128_with_seed(s, (K0, K1))
    }
}

/// `(low64, high64)` as one `u128`: `(high64 << 64) | low64`.
#[inline]
fn to_u128(v: (u64, u64)) -> u128 {
    (u128::from(v.1) << 64) | u128::from(v.0)
}

/// ClickHouse's `IHashingBuffer` checksum (block size 2048), fed in chunks of any size.
///
/// Full blocks are hashed straight from the caller's slices; only a block split across
/// `update` calls is gathered in the internal 2048-byte buffer. No heap allocation.
#[derive(Clone)]
pub struct ChainedChecksum {
    state: (u64, u64),
    /// Bytes of a block not yet complete; only `buf[..pending]` is meaningful.
    buf: [u8; BLOCK_SIZE],
    pending: usize,
}

impl Default for ChainedChecksum {
    fn default() -> Self {
        Self::new()
    }
}

impl core::fmt::Debug for ChainedChecksum {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ChainedChecksum")
            .field("state", &format_args!("{:#x}", to_u128(self.state)))
            .field("pending", &self.pending)
            .finish()
    }
}

impl ChainedChecksum {
    /// The state of an empty input: `(0, 0)`.
    pub fn new() -> Self {
        Self { state: (0, 0), buf: [0; BLOCK_SIZE], pending: 0 }
    }

    /// Feeds the next bytes; the result does not depend on how the input is split.
    pub fn update(&mut self, mut data: &[u8]) {
        if self.pending > 0 {
            let take = (BLOCK_SIZE - self.pending).min(data.len());
            self.buf[self.pending..self.pending + take].copy_from_slice(&data[..take]);
            self.pending += take;
            data = &data[take..];
            if self.pending < BLOCK_SIZE {
                return;
            }
            self.state = city_hash128_with_seed(&self.buf, self.state);
            self.pending = 0;
        }
        let mut blocks = data.chunks_exact(BLOCK_SIZE);
        for block in &mut blocks {
            self.state = city_hash128_with_seed(block, self.state);
        }
        let rest = blocks.remainder();
        self.buf[..rest.len()].copy_from_slice(rest);
        self.pending = rest.len();
    }

    /// The checksum, `(high64 << 64) | low64`: the running state, after hashing the final
    /// partial block with it if there is one. An empty input gives `0`.
    pub fn finish(self) -> u128 {
        let state =
            if self.pending > 0 { city_hash128_with_seed(&self.buf[..self.pending], self.state) } else { self.state };
        to_u128(state)
    }
}

/// The checksum of a whole input at once (same value as [`ChainedChecksum`]).
pub fn chained_checksum(data: &[u8]) -> u128 {
    let mut c = ChainedChecksum::new();
    c.update(data);
    c.finish()
}

/// The manifest's spelling of a checksum: 32 lowercase hex digits, high 64 bits first.
pub fn checksum_hex(value: u128) -> String {
    format!("{value:032x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pseudo-random buffer of CityHash's `city-test.cc` (seeded with a = 9, b = 777).
    fn test_data(size: usize) -> Vec<u8> {
        let mut a: u64 = 9;
        let mut b: u64 = 777;
        let mut out = Vec::with_capacity(size);
        for i in 0..size {
            a = a.wrapping_add(b);
            b = b.wrapping_add(a);
            a = (a ^ (a >> 41)).wrapping_mul(K0);
            b = (b ^ (b >> 41)).wrapping_mul(K0).wrapping_add(i as u64);
            out.push((b >> 37) as u8);
        }
        out
    }

    /// Reference loop of ClickHouse's `src/IO/tests/hashing_buffer.h` (`referenceHash`).
    fn reference_chain(data: &[u8]) -> u128 {
        let mut state = (0u64, 0u64);
        let mut pos = 0;
        while pos + BLOCK_SIZE <= data.len() {
            state = city_hash128_with_seed(&data[pos..pos + BLOCK_SIZE], state);
            pos += BLOCK_SIZE;
        }
        if pos < data.len() {
            state = city_hash128_with_seed(&data[pos..], state);
        }
        to_u128(state)
    }

    #[test]
    fn cityhash_real_engine_count_txt_vector() {
        // count.txt containing "5000", from a real ClickHouse backup manifest.
        assert_eq!(checksum_hex(chained_checksum(b"5000")), "7640227c8f3a7e28c8e03d5b74b199f1");
    }

    #[test]
    fn cityhash_empty_input() {
        assert_eq!(chained_checksum(b""), 0);
        assert_eq!(checksum_hex(0), "00000000000000000000000000000000");
        assert_eq!(ChainedChecksum::new().finish(), 0);
        assert_eq!(city_hash64(b""), K2);
    }

    #[test]
    fn cityhash_hex_is_high_first() {
        assert_eq!(
            checksum_hex(to_u128((0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210))),
            "fedcba98765432100123456789abcdef"
        );
        assert_eq!(checksum_hex(1), "00000000000000000000000000000001");
    }

    /// ClickHouse 26.9's SQL `cityHash64` (chdb-core) on a few strings. CityHash v1.1 gives
    /// `0xb48be5a931380ce8` for "hello": the versions really differ.
    #[test]
    fn cityhash_v102_city_hash64_engine_strings() {
        assert_eq!(city_hash64(b""), 11_160_318_154_034_397_263);
        assert_eq!(city_hash64(b"hello"), 2_578_220_239_953_316_063);
        assert_eq!(city_hash64(b"abc"), 4_220_206_313_085_259_313);
        assert_ne!(city_hash64(b"hello"), 0xb48b_e5a9_3138_0ce8);
    }

    /// CityHash64 / CityHash128 of slices of the `city-test.cc` buffer, covering every length
    /// branch (0, 1..3, 4..8, 9..16, 17..32, 33..64, > 64; < 128 and >= 128 with 0..127 tail).
    #[test]
    fn cityhash_v102_test_buffer_vectors() {
        let data = test_data(1 << 16);
        for &(off, len, h64, lo, hi) in BUFFER_VECTORS {
            let s = &data[off..off + len];
            assert_eq!(city_hash64(s), h64, "CityHash64 off={off} len={len}");
            assert_eq!(city_hash128(s), (lo, hi), "CityHash128 off={off} len={len}");
        }
    }

    /// Seeded vectors; also checks the identity `CityHash128(s) == CityHash128WithSeed(s[16..],
    /// (Fetch64(s) ^ k3, Fetch64(s + 8)))` that links the two functions for `s.len() >= 16`.
    #[test]
    fn cityhash_v102_with_seed_vectors() {
        let data = test_data(1 << 16);
        for &(seed_lo, seed_hi, off, len, lo, hi) in SEEDED_VECTORS {
            let got = city_hash128_with_seed(&data[off..off + len], (seed_lo, seed_hi));
            assert_eq!(got, (lo, hi), "seed=({seed_lo:#x},{seed_hi:#x}) off={off} len={len}");
            let mut prefixed = Vec::with_capacity(16 + len);
            prefixed.extend_from_slice(&(seed_lo ^ K3).to_le_bytes());
            prefixed.extend_from_slice(&seed_hi.to_le_bytes());
            prefixed.extend_from_slice(&data[off..off + len]);
            assert_eq!(city_hash128(&prefixed), got);
        }
    }

    #[test]
    fn cityhash_chained_reference_vectors() {
        let data = test_data(1 << 16);
        for &(len, hex) in CHAINED_VECTORS {
            assert_eq!(checksum_hex(chained_checksum(&data[..len])), hex, "len={len}");
            assert_eq!(checksum_hex(reference_chain(&data[..len])), hex, "len={len}");
        }
    }

    /// Files of a real backup (ClickHouse 26.9 via chdb-core: `CREATE TABLE MESCDM.t (id UInt32
    /// CODEC(NONE)) ENGINE = MergeTree ORDER BY id SETTINGS min_bytes_for_wide_part = 0`, `INSERT
    /// ... SELECT number FROM numbers(5000)`, `BACKUP DATABASE MESCDM TO File(...)`) whose bytes
    /// can be rebuilt here, with the checksums its `.backup` manifest gave them.
    #[test]
    fn cityhash_real_engine_manifest_vectors() {
        let small: &[(&[u8], &str)] = &[
            (b"5000", "7640227c8f3a7e28c8e03d5b74b199f1"),       // count.txt
            (b"0", "1d5952e8223ea966def237d6e7e216f1"),          // metadata_version.txt
            (b"CODEC(LZ4)", "557036eda0fb0a277a7caf9b9c8d4dd6"), // default_compression_codec.txt
            (
                b"columns format version: 1\n1 columns:\n`id` UInt32\n",
                "af97594fb70c24cca7d341339373595d", // columns.txt
            ),
            (
                b"columns substreams version: 1\n1 columns:\n1 substreams for column `id`:\n\tid\n",
                "92daa9dc891e61a5809177cdbc43de69", // columns_substreams.txt
            ),
        ];
        for (bytes, hex) in small {
            assert_eq!(checksum_hex(chained_checksum(bytes)), *hex);
        }

        // id.bin, 20025 bytes (10 blocks): one compressed block with codec NONE. Its header is
        // the block's CityHash128 (low64 LE, high64 LE) over method byte 0x02, compressed size
        // (9 + 20000, u32 LE), uncompressed size (u32 LE) and the 5000 values as u32 LE.
        let mut block = Vec::with_capacity(20_009);
        block.push(0x02);
        block.extend_from_slice(&20_009u32.to_le_bytes());
        block.extend_from_slice(&20_000u32.to_le_bytes());
        for v in 0u32..5000 {
            block.extend_from_slice(&v.to_le_bytes());
        }
        let (lo, hi) = city_hash128(&block);
        assert_eq!((lo, hi), (0xd7ad_ad29_c17e_b136, 0xfe55_bc29_2352_d22b), "block checksum as ClickHouse wrote it");
        let mut file = Vec::with_capacity(20_025);
        file.extend_from_slice(&lo.to_le_bytes());
        file.extend_from_slice(&hi.to_le_bytes());
        file.extend_from_slice(&block);
        assert_eq!(file.len(), 20_025);
        assert_eq!(checksum_hex(chained_checksum(&file)), "4f45f271daf16e2f9c5bd8ad26fc9b56");
    }

    #[test]
    fn cityhash_chunking_invariance() {
        let data = test_data(20_000);
        // xorshift for split points; deterministic.
        let mut rng: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move |bound: usize| -> usize {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            if bound == 0 {
                0
            } else {
                (rng % bound as u64) as usize
            }
        };
        for &len in &[0usize, 1, 15, 16, 17, 127, 128, 129, 2047, 2048, 2049, 4095, 4096, 4097, 6144, 10000, 20000] {
            let input = &data[..len];
            let one_shot = chained_checksum(input);
            assert_eq!(one_shot, reference_chain(input), "len={len}");

            // Byte by byte.
            let mut c = ChainedChecksum::new();
            for b in input {
                c.update(core::slice::from_ref(b));
            }
            assert_eq!(c.finish(), one_shot, "bytewise len={len}");

            // Fixed awkward chunk sizes, with empty updates in between.
            for &step in &[3usize, 100, 2047, 2048, 2049, 5000] {
                let mut c = ChainedChecksum::new();
                for piece in input.chunks(step) {
                    c.update(&[]);
                    c.update(piece);
                }
                assert_eq!(c.finish(), one_shot, "step={step} len={len}");
            }

            // Random split points.
            for _ in 0..20 {
                let mut c = ChainedChecksum::new();
                let mut pos = 0;
                while pos < len {
                    let n = 1 + next((len - pos).min(5000));
                    c.update(&input[pos..pos + n]);
                    pos += n;
                }
                assert_eq!(c.finish(), one_shot, "random len={len}");
            }
        }
    }

    #[test]
    fn cityhash_state_is_cloneable_mid_stream() {
        let data = test_data(5000);
        let mut c = ChainedChecksum::default();
        c.update(&data[..3000]);
        let fork = c.clone();
        c.update(&data[3000..]);
        assert_eq!(c.finish(), chained_checksum(&data));
        assert_eq!(fork.finish(), chained_checksum(&data[..3000]));
    }

    /// A few MiB through the streaming path, as a package verifier feeds it; asserts only that
    /// it agrees with the one-shot value (no timing here; see the bench crate for speed).
    #[test]
    fn cityhash_large_input_smoke() {
        let data = test_data(4 << 20);
        let one_shot = chained_checksum(&data);
        let mut c = ChainedChecksum::new();
        for piece in data.chunks(64 * 1024 + 7) {
            c.update(piece);
        }
        assert_eq!(c.finish(), one_shot);
        assert_ne!(one_shot, 0);
    }

    // ---- vectors ----
    // `(offset, len, CityHash64, CityHash128 low64, CityHash128 high64)` of `test_data` slices.
    // CityHash64 column: ClickHouse 26.9's SQL `cityHash64` (chdb-core). Both columns also from
    // Google's v1.0.2 `city.cc` as shipped in the PyPI sdist `clickhouse-cityhash` 1.0.2.6.
    #[rustfmt::skip]
    const BUFFER_VECTORS: &[(usize, usize, u64, u64, u64)] = &[
        (0, 0, 0x9ae16a3b2f90404f, 0x3df09dfc64c09a2b, 0x3cb540c392e51e29),
        (7, 1, 0xa34964a2a96b201f, 0xceb2427132116d2d, 0xc3bd4c8db1d7bcb3),
        (14, 2, 0x9e2917da9b9ff21, 0x55016edd6c446fb0, 0x8721e6a15f1bbd83),
        (21, 3, 0xe7bbe97ad5ee52f9, 0x20001680e4c074f4, 0xe68e3314a238fdd1),
        (28, 4, 0x643713c97628f95b, 0xa7b227ecce14b0a4, 0x74770e3c790fe6d6),
        (49, 7, 0xe067868dc58fd396, 0x93c93a1af22dc970, 0x809dd5b41b66c5e6),
        (56, 8, 0xbd5f8659cbe38cef, 0x3b928a1f8097d342, 0x46c09aa3a26ea760),
        (63, 9, 0x4b2e9f3a1ed1ab22, 0xcceed45cd1a71b09, 0x4147e6a3895431ae),
        (105, 15, 0x3781c5f87162fa92, 0x31485dbf3c6f9133, 0xcde3a2ca247e3b66),
        (112, 16, 0xc4906c5e5e7a63d3, 0xfbc04268c12be05e, 0x375de8b2b7aecf99),
        (119, 17, 0x1e151be1e51d416d, 0xe4b31c43ca247bfd, 0x3d7fcbc0da2610f3),
        (217, 31, 0x709bbbec100d6f10, 0x56dc116adc4fe9c2, 0x6de5f31e45355781),
        (224, 32, 0xac7297ddb1444113, 0xa00563ceeb6bb7d, 0xef40ce1bcb179104),
        (231, 33, 0x949fc580b3a57d5d, 0x687e6ecffd875a41, 0x353ee2f482036450),
        (441, 63, 0x13be4ba5f58cd1d4, 0x505e56601505f971, 0x997ac7fd576fbe05),
        (448, 64, 0xd713eb4cf097276c, 0x6c7c36f5c1d05de4, 0x7a711519f2970209),
        (455, 65, 0xac7375af2bda031f, 0xde7863555da094f2, 0x8be7660cdc316e8),
        (700, 100, 0xb7efcf2024adede6, 0x2dc9017a93b13ff2, 0xaa1e901f698c43dd),
        (889, 127, 0xadc02604df76699e, 0x9176a85df06aefbe, 0xad730ee9b4b847db),
        (896, 128, 0x36125165e8ff01dd, 0xd03990b6286535, 0xf34685119d3115d2),
        (903, 129, 0x1c130110b6b781b0, 0xef4dd05d05dafc4c, 0x53afaac267ad8dce),
        (1, 143, 0xfb82bed491a00bc9, 0x5519716cb56185e0, 0x44944157ea95dc1f),
        (8, 144, 0x46ca30b7e17c1947, 0x7b619e20fd792338, 0xfb485ec9c761f51d),
        (15, 145, 0xede465bdda6bd076, 0xb56afb7f81fd07c4, 0x77cb9cd8f2331351),
        (785, 255, 0x35f1518f9fd0ca90, 0x9b5e13dc86d780da, 0x1973f139e47a3556),
        (792, 256, 0xf930c717ae1ac141, 0x6d45259cbd202a1f, 0xbd9b8cc66e239b24),
        (799, 257, 0x27c7b31af6d5b428, 0x133915cec4678efc, 0xb187a4003937b360),
        (100, 300, 0xf763058aed296ea6, 0x752b3f75b8732749, 0x99a9613b6d5b9d51),
        (0, 1000, 0xaa32eeb3eb22940e, 0x95f958f7ab9caa8a, 0xdd2f84a4d2a31916),
        (400, 1200, 0x5e48bc67d33c5e81, 0x30d689e2099465c5, 0xd24c7708096f9c83),
    ];

    // `(seed low64, seed high64, offset, len, low64, high64)`: `CityHash128WithSeed` of
    // `test_data` slices, from the same v1.0.2 `city.cc` called directly with the seed.
    #[rustfmt::skip]
    const SEEDED_VECTORS: &[(u64, u64, usize, usize, u64, u64)] = &[
        (0x3f2800d6569e01b4, 0x606f949a3cebd0b7, 0, 0, 0x3203f0e52bd39cd0, 0x1754063a021002f2),
        (0xd7eda3f877c2f515, 0x73e1da3f024c95bf, 35, 5, 0xf7efc9c16bddeac3, 0x66ddad6445589a3b),
        (0x2c3d52d8a36b3439, 0x931bd6f73645cc11, 112, 16, 0xd85d2a640a86e4b9, 0xf03598a87d8ee926),
        (0x9ca95bef374a63c9, 0x9e43fbf63d59254e, 119, 17, 0x9ddfbd488f7b9537, 0x710ad29e1dd1c714),
        (0x42e49eb6889cb1bf, 0x86e482165aae071c, 350, 50, 0x6789e18e6a2baf3, 0xf2326bcb65d7bde5),
        (0xc7efe39f5aa3eec2, 0x5a5e52b0020b599f, 889, 127, 0x955e233e6604dc63, 0xa04df7aab1bd10a6),
        (0x158155811a32c8ec, 0x171a8f78e153167d, 896, 128, 0x460f703720e76f7c, 0xfd5130b4954e4b62),
        (0xb690354338b98f11, 0xf4b9606291d7184f, 903, 129, 0x7943178720964859, 0xe317873561c9826e),
        (0x60c26c534ae4c67, 0xd17190e18ea6e93f, 400, 200, 0x77ac1d8924beb064, 0x4d7a523886ba4612),
        (0x927c7ef90edd3e20, 0x2ea1c10af4f30c5c, 785, 255, 0xcec7a84bf4711b65, 0x89e29e328c4dfc44),
        (0x2bfae60f46da7d44, 0x86463a09901c18be, 792, 256, 0x2a5c712f8e1b4e2f, 0xca5b1893d7a6bea),
        (0x7859aa2223c28cd4, 0xe68a58ffbf26bccd, 100, 300, 0x855b4d276d29e75d, 0x5b857c262e881196),
        (0x1cf125dc401a5cf8, 0x493353a019105641, 0, 1000, 0xe6595477c6e5fbc, 0x76e7e22effc94e3f),
        (0xf5147d6d99313a73, 0x1e2efd0608da4c7, 400, 1200, 0xcb41bee9d06cfdf4, 0xdafc8ca229aaf965),
    ];

    // `(len, manifest hex)`: `referenceHash` of `hashing_buffer.h` over `test_data[..len]`,
    // compiled against the same v1.0.2 `city.cc`.
    #[rustfmt::skip]
    const CHAINED_VECTORS: &[(usize, &str)] = &[
        (0, "00000000000000000000000000000000"),
        (1, "48650937395ed64669ab1d45d3711f7a"),
        (4, "4015f889ec0ae397073bb7095fe7e8ad"),
        (127, "2facc5c41d9b1bd6086312f29c27392a"),
        (128, "7557d5d04dd1e05a90b9f58d81319f10"),
        (2047, "2f5082907f646b77949f1dc6442533fc"),
        (2048, "c9f96ed14f21623cd60028b9b20af1a6"),
        (2049, "68c5687e50768bf466a866208d01e200"),
        (4096, "5b16189dae4c81ad51cb6d932e2f8f92"),
        (5000, "0bd85553e56ace9b7cfa9f9c852d2853"),
        (10000, "82ff7ce20315675bf1947746029ddd08"),
        (65536, "16853e1a5747c5ffb715845afb13695d"),
    ];
}
