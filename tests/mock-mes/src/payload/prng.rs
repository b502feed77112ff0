//! Deterministic pseudo-random bytes, fast enough that a 4 GiB payload is limited by hashing.
//!
//! A pool of [`POOL_LEN`] bytes is filled once per stream with SplitMix64 from the payload's key;
//! a random file reads the pool cyclically from an offset of its own, so producing its bytes is a
//! `memcpy` (fast even in an unoptimised build).

/// 1 MiB plus an odd tail, so that the period is not a multiple of any chunk or block size.
pub const POOL_LEN: usize = (1 << 20) + 4093;

pub fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

pub fn pool(key: u64) -> Box<[u8]> {
    let mut out = vec![0u8; POOL_LEN];
    let mut state = splitmix64(key ^ 0x9001);
    for word in out.chunks_mut(8) {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        word.copy_from_slice(&z.to_le_bytes()[..word.len()]);
    }
    out.into_boxed_slice()
}

/// A version-4 UUID spelled from 128 pseudo-random bits derived from `x`.
pub fn uuid_from(x: u64) -> String {
    let a = splitmix64(x);
    let b = splitmix64(a);
    let v = (u128::from(a) << 64 | u128::from(b)) & !(0xf << 76 | 0x3 << 62) | (0x4 << 76) | (0x2 << 62);
    let h = format!("{v:032x}");
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_shape() {
        let u = uuid_from(1);
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"));
        assert_ne!(uuid_from(1), uuid_from(2));
    }
}
