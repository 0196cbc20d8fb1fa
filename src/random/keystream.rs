//! The first four ChaCha8 blocks of several consecutive patient streams, computed together;
//! and the blocks of the reserved regions, one or four at a time.
//!
//! A patient's primary words are the first four blocks of its ChaCha8 stream (block counter
//! 0 to 3, stream number = patient index). Computed one patient at a time, the generator's
//! 4-block refill and its stream switch were about a fifth of the time of a reference patient.
//! On a CPU with AVX-512, the 16 blocks of four consecutive patients are computed side by side,
//! one block per 32-bit lane of a 512-bit register, then transposed in registers. Elsewhere the
//! blocks come from rand_chacha one patient at a time: its own vectorized refill is faster than
//! the 16-lane code compiled for narrower registers.
//!
//! The words are the ChaCha8 words `rand_chacha` gives (the tests below compare them), so the
//! layout of the streams and every published result are the same on every CPU.

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Patients whose primary blocks are computed together.
pub const PATIENTS: usize = 4;
/// ChaCha blocks per patient (the primary words: 4 × 16 32-bit words = 32 64-bit words).
pub const BLOCKS: usize = 4;
#[cfg(target_arch = "x86_64")]
const LANES: usize = PATIENTS * BLOCKS;
/// 64-bit words per patient.
pub const WORDS: usize = BLOCKS * 8;

/// ChaCha's constant, "expand 32-byte k".
const SIGMA: [u32; 4] = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574];
/// ChaCha8: four double rounds.
const DOUBLE_ROUNDS: usize = 4;

/// One double round: the quarter-rounds of the four columns, then of the four diagonals, of
/// the 4 × 4 state, whatever a state word is (a word, or the same word of several blocks).
#[inline(always)]
fn double_round(mut quarter: impl FnMut(usize, usize, usize, usize)) {
    quarter(0, 4, 8, 12);
    quarter(1, 5, 9, 13);
    quarter(2, 6, 10, 14);
    quarter(3, 7, 11, 15);
    quarter(0, 5, 10, 15);
    quarter(1, 6, 11, 12);
    quarter(2, 7, 8, 13);
    quarter(3, 4, 9, 14);
}

/// Four patients' blocks with AVX-512 intrinsics: a state word is one register (16 lanes), and
/// the word-by-lane matrix is transposed in registers. (Plain array code that the compiler
/// vectorized was slower: the state went through memory and the transposition became gathers
/// and scatters, which cost more than the rounds.)
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn blocks_avx512(seed: &[u8; 32], first_patient: u64, out: &mut [[u64; WORDS]; PATIENTS]) {
    use std::arch::x86_64::*;
    #[inline(always)]
    fn quarter(x: &mut [__m512i; 16], a: usize, b: usize, c: usize, d: usize) {
        // SAFETY: called only from `blocks_avx512`, which runs only where avx512f is present.
        unsafe {
            x[a] = _mm512_add_epi32(x[a], x[b]);
            x[d] = _mm512_rol_epi32::<16>(_mm512_xor_si512(x[d], x[a]));
            x[c] = _mm512_add_epi32(x[c], x[d]);
            x[b] = _mm512_rol_epi32::<12>(_mm512_xor_si512(x[b], x[c]));
            x[a] = _mm512_add_epi32(x[a], x[b]);
            x[d] = _mm512_rol_epi32::<8>(_mm512_xor_si512(x[d], x[a]));
            x[c] = _mm512_add_epi32(x[c], x[d]);
            x[b] = _mm512_rol_epi32::<7>(_mm512_xor_si512(x[b], x[c]));
        }
    }
    let lanes = |f: &dyn Fn(usize) -> u32| -> __m512i {
        let v: [u32; LANES] = std::array::from_fn(f);
        // SAFETY: 64 bytes, read unaligned.
        unsafe { _mm512_loadu_si512(v.as_ptr().cast()) }
    };
    let mut init = [_mm512_setzero_si512(); 16];
    for (i, &s) in SIGMA.iter().enumerate() {
        init[i] = _mm512_set1_epi32(s as i32);
    }
    // The key: the seed as eight little-endian 32-bit words.
    for (i, k) in seed.chunks_exact(4).enumerate() {
        init[4 + i] = _mm512_set1_epi32(i32::from_le_bytes([k[0], k[1], k[2], k[3]]));
    }
    // Lane l: block l % 4 of patient first_patient + l / 4. Words 12-13 are the 64-bit block
    // counter (its high word 0), 14-15 the 64-bit stream number, as rand_chacha lays them out.
    let stream = |l: usize| first_patient.wrapping_add((l / BLOCKS) as u64);
    init[12] = lanes(&|l| (l % BLOCKS) as u32);
    init[14] = lanes(&|l| stream(l) as u32);
    init[15] = lanes(&|l| (stream(l) >> 32) as u32);
    let mut x = init;
    for _ in 0..DOUBLE_ROUNDS {
        double_round(|a, b, c, d| quarter(&mut x, a, b, c, d));
    }
    let r: [__m512i; 16] = std::array::from_fn(|i| _mm512_add_epi32(x[i], init[i]));
    // Rows are words, columns lanes. After the 32- and 64-bit interleaves, 128-bit lane q of
    // b[g][k] holds column 4q + k of rows 4g .. 4g + 3.
    let mut b = [[_mm512_setzero_si512(); 4]; 4];
    for g in 0..4 {
        let lo01 = _mm512_unpacklo_epi32(r[4 * g], r[4 * g + 1]);
        let hi01 = _mm512_unpackhi_epi32(r[4 * g], r[4 * g + 1]);
        let lo23 = _mm512_unpacklo_epi32(r[4 * g + 2], r[4 * g + 3]);
        let hi23 = _mm512_unpackhi_epi32(r[4 * g + 2], r[4 * g + 3]);
        b[g][0] = _mm512_unpacklo_epi64(lo01, lo23);
        b[g][1] = _mm512_unpackhi_epi64(lo01, lo23);
        b[g][2] = _mm512_unpacklo_epi64(hi01, hi23);
        b[g][3] = _mm512_unpackhi_epi64(hi01, hi23);
    }
    // Column c = 4q + k gathers 128-bit lane q of b[0][k] .. b[3][k]; it is lane c's block,
    // stored at 64-byte row c of `out`.
    let dst: *mut __m512i = out.as_mut_ptr().cast();
    #[allow(clippy::needless_range_loop)] // k is a column of the transposition, not only an index
    for k in 0..4 {
        let even01 = _mm512_shuffle_i32x4::<0x88>(b[0][k], b[1][k]);
        let odd01 = _mm512_shuffle_i32x4::<0xDD>(b[0][k], b[1][k]);
        let even23 = _mm512_shuffle_i32x4::<0x88>(b[2][k], b[3][k]);
        let odd23 = _mm512_shuffle_i32x4::<0xDD>(b[2][k], b[3][k]);
        let rows = [
            _mm512_shuffle_i32x4::<0x88>(even01, even23),
            _mm512_shuffle_i32x4::<0x88>(odd01, odd23),
            _mm512_shuffle_i32x4::<0xDD>(even01, even23),
            _mm512_shuffle_i32x4::<0xDD>(odd01, odd23),
        ];
        for (q, row) in rows.into_iter().enumerate() {
            // SAFETY: `out` is 16 rows of 64 bytes; row 4q + k is inside it.
            unsafe { _mm512_storeu_si512(dst.add(4 * q + k), row) };
        }
    }
}

/// Elsewhere, one patient at a time with rand_chacha's own vectorized refill.
fn blocks_by_patient(seed: &[u8; 32], first_patient: u64, out: &mut [[u64; WORDS]; PATIENTS]) {
    let mut rng = ChaCha8Rng::from_seed(*seed);
    for (p, words) in out.iter_mut().enumerate() {
        rng.set_stream(first_patient.wrapping_add(p as u64));
        rng.set_word_pos(0);
        for w in words.iter_mut() {
            *w = rng.next_u64();
        }
    }
}

/// One ChaCha8 block, portable scalar code: block `counter` of stream `stream` under `key` (the
/// seed as eight little-endian 32-bit words), as 64-bit words in rand_chacha's order (the lower
/// 32-bit word first). For the reserved regions, where a purpose usually needs one or two
/// words: rand_chacha would compute four blocks and reset its state to get there. Written for
/// one block, not as [`wide_blocks`]' lane code with one lane: that was 2–3% slower on the
/// reference bench.
#[inline]
pub fn block(key: &[u32; 8], counter: u64, stream: u64) -> [u64; 8] {
    #[inline(always)]
    fn quarter(x: &mut [u32; 16], a: usize, b: usize, c: usize, d: usize) {
        x[a] = x[a].wrapping_add(x[b]);
        x[d] = (x[d] ^ x[a]).rotate_left(16);
        x[c] = x[c].wrapping_add(x[d]);
        x[b] = (x[b] ^ x[c]).rotate_left(12);
        x[a] = x[a].wrapping_add(x[b]);
        x[d] = (x[d] ^ x[a]).rotate_left(8);
        x[c] = x[c].wrapping_add(x[d]);
        x[b] = (x[b] ^ x[c]).rotate_left(7);
    }
    let mut init = [0u32; 16];
    init[..4].copy_from_slice(&SIGMA);
    init[4..12].copy_from_slice(key);
    init[12] = counter as u32;
    init[13] = (counter >> 32) as u32;
    init[14] = stream as u32;
    init[15] = (stream >> 32) as u32;
    let mut x = init;
    for _ in 0..DOUBLE_ROUNDS {
        double_round(|a, b, c, d| quarter(&mut x, a, b, c, d));
    }
    std::array::from_fn(|i| {
        let lo = x[2 * i].wrapping_add(init[2 * i]);
        let hi = x[2 * i + 1].wrapping_add(init[2 * i + 1]);
        (hi as u64) << 32 | lo as u64
    })
}

/// Blocks computed together by [`wide_blocks`].
pub const WIDE_BLOCKS: usize = 4;

/// Blocks `counter .. counter + 4` of stream `stream`, side by side: each state word holds the
/// four blocks in four 32-bit lanes, which the compiler keeps in one vector register. For a
/// purpose that draws many words past its slot (the clinical study's tumours and follow-up).
#[inline]
pub fn wide_blocks(key: &[u32; 8], counter: u64, stream: u64) -> [u64; 8 * WIDE_BLOCKS] {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512vl") {
            // SAFETY: the CPU has the feature the function was compiled for.
            return unsafe { wide_blocks_avx512vl(key, counter, stream) };
        }
    }
    wide_blocks_portable(key, counter, stream)
}

/// [`wide_blocks`] with AVX-512VL, written with its intrinsics: one 128-bit register per state
/// word, one block per 32-bit lane, each rotation one instruction. (Left to the compiler, the
/// same code was vectorized in some builds and not in others, three times slower.)
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl")]
fn wide_blocks_avx512vl(key: &[u32; 8], counter: u64, stream: u64) -> [u64; 8 * WIDE_BLOCKS] {
    use std::arch::x86_64::*;
    let splat = |w: u32| _mm_set1_epi32(w as i32);
    let mut init = [_mm_setzero_si128(); 16];
    for (w, &s) in init.iter_mut().zip(&SIGMA) {
        *w = splat(s);
    }
    for (w, &k) in init[4..12].iter_mut().zip(key) {
        *w = splat(k);
    }
    let c: [u64; WIDE_BLOCKS] = std::array::from_fn(|l| counter.wrapping_add(l as u64));
    init[12] = _mm_setr_epi32(c[0] as i32, c[1] as i32, c[2] as i32, c[3] as i32);
    init[13] = _mm_setr_epi32(
        (c[0] >> 32) as i32,
        (c[1] >> 32) as i32,
        (c[2] >> 32) as i32,
        (c[3] >> 32) as i32,
    );
    init[14] = splat(stream as u32);
    init[15] = splat((stream >> 32) as u32);
    let mut x = init;
    macro_rules! quarter {
        ($a:expr, $b:expr, $c:expr, $d:expr) => {
            x[$a] = _mm_add_epi32(x[$a], x[$b]);
            x[$d] = _mm_rol_epi32::<16>(_mm_xor_si128(x[$d], x[$a]));
            x[$c] = _mm_add_epi32(x[$c], x[$d]);
            x[$b] = _mm_rol_epi32::<12>(_mm_xor_si128(x[$b], x[$c]));
            x[$a] = _mm_add_epi32(x[$a], x[$b]);
            x[$d] = _mm_rol_epi32::<8>(_mm_xor_si128(x[$d], x[$a]));
            x[$c] = _mm_add_epi32(x[$c], x[$d]);
            x[$b] = _mm_rol_epi32::<7>(_mm_xor_si128(x[$b], x[$c]));
        };
    }
    for _ in 0..DOUBLE_ROUNDS {
        quarter!(0, 4, 8, 12);
        quarter!(1, 5, 9, 13);
        quarter!(2, 6, 10, 14);
        quarter!(3, 7, 11, 15);
        quarter!(0, 5, 10, 15);
        quarter!(1, 6, 11, 12);
        quarter!(2, 7, 8, 13);
        quarter!(3, 4, 9, 14);
    }
    // Word i of block b is (r[2i + 1] lane b) << 32 | (r[2i] lane b): interleaving the two
    // words' lanes gives blocks 0 and 1 in the low half, 2 and 3 in the high half.
    let mut out = [0u64; 8 * WIDE_BLOCKS];
    for i in 0..8 {
        let lo = _mm_add_epi32(x[2 * i], init[2 * i]);
        let hi = _mm_add_epi32(x[2 * i + 1], init[2 * i + 1]);
        let blocks01 = _mm_unpacklo_epi32(lo, hi);
        let blocks23 = _mm_unpackhi_epi32(lo, hi);
        out[i] = _mm_extract_epi64::<0>(blocks01) as u64;
        out[8 + i] = _mm_extract_epi64::<1>(blocks01) as u64;
        out[16 + i] = _mm_extract_epi64::<0>(blocks23) as u64;
        out[24 + i] = _mm_extract_epi64::<1>(blocks23) as u64;
    }
    out
}

#[inline(always)]
fn wide_blocks_portable(key: &[u32; 8], counter: u64, stream: u64) -> [u64; 8 * WIDE_BLOCKS] {
    type Lanes = [u32; WIDE_BLOCKS];
    #[inline(always)]
    fn add(a: Lanes, b: Lanes) -> Lanes {
        std::array::from_fn(|l| a[l].wrapping_add(b[l]))
    }
    #[inline(always)]
    fn xor_rotate(a: Lanes, b: Lanes, r: u32) -> Lanes {
        std::array::from_fn(|l| (a[l] ^ b[l]).rotate_left(r))
    }
    #[inline(always)]
    fn quarter(x: &mut [Lanes; 16], a: usize, b: usize, c: usize, d: usize) {
        x[a] = add(x[a], x[b]);
        x[d] = xor_rotate(x[d], x[a], 16);
        x[c] = add(x[c], x[d]);
        x[b] = xor_rotate(x[b], x[c], 12);
        x[a] = add(x[a], x[b]);
        x[d] = xor_rotate(x[d], x[a], 8);
        x[c] = add(x[c], x[d]);
        x[b] = xor_rotate(x[b], x[c], 7);
    }
    let mut init = [[0u32; WIDE_BLOCKS]; 16];
    for (w, &s) in init.iter_mut().zip(&SIGMA) {
        *w = [s; WIDE_BLOCKS];
    }
    for (w, &k) in init[4..12].iter_mut().zip(key) {
        *w = [k; WIDE_BLOCKS];
    }
    let counters: [u64; WIDE_BLOCKS] = std::array::from_fn(|l| counter.wrapping_add(l as u64));
    init[12] = counters.map(|c| c as u32);
    init[13] = counters.map(|c| (c >> 32) as u32);
    init[14] = [stream as u32; WIDE_BLOCKS];
    init[15] = [(stream >> 32) as u32; WIDE_BLOCKS];
    let mut x = init;
    for _ in 0..DOUBLE_ROUNDS {
        double_round(|a, b, c, d| quarter(&mut x, a, b, c, d));
    }
    let r: [Lanes; 16] = std::array::from_fn(|i| add(x[i], init[i]));
    std::array::from_fn(|j| {
        let (b, i) = (j / 8, j % 8);
        (r[2 * i + 1][b] as u64) << 32 | r[2 * i][b] as u64
    })
}

/// The primary words of patients `first_patient .. first_patient + PATIENTS` (stream numbers
/// wrap around 2^64, as stream numbers do).
#[inline]
pub fn primary_words(seed: &[u8; 32], first_patient: u64, out: &mut [[u64; WORDS]; PATIENTS]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has the feature the function was compiled for.
            return unsafe { blocks_avx512(seed, first_patient, out) };
        }
    }
    blocks_by_patient(seed, first_patient, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(seed: [u8; 32], patient: u64) -> [u64; WORDS] {
        let mut rng = ChaCha8Rng::from_seed(seed);
        rng.set_stream(patient);
        std::array::from_fn(|_| rng.next_u64())
    }

    /// Protects every word drawn past a purpose's slot: one block, and four blocks side by side,
    /// must be the blocks rand_chacha gives at that position, for counters across the 32-bit boundary and at the reserved
    /// regions' starts, and for any stream number.
    #[test]
    fn one_block_equals_rand_chacha() {
        let seed: [u8; 32] = std::array::from_fn(|i| (i as u8).wrapping_mul(91).wrapping_add(5));
        let key: [u32; 8] =
            std::array::from_fn(|i| u32::from_le_bytes(seed[4 * i..4 * i + 4].try_into().unwrap()));
        for stream in [0u64, 3, (1 << 32) + 7, u64::MAX] {
            for counter in [0u64, 1, 5, (1 << 32) - 1, 1 << 32, 17 << 36, u64::MAX >> 4] {
                let mut rng = ChaCha8Rng::from_seed(seed);
                rng.set_stream(stream);
                rng.set_word_pos(counter as u128 * 16);
                let expected: [u64; 8] = std::array::from_fn(|_| rng.next_u64());
                assert_eq!(
                    block(&key, counter, stream),
                    expected,
                    "stream {stream}, block {counter}"
                );
                let mut rng = ChaCha8Rng::from_seed(seed);
                rng.set_stream(stream);
                rng.set_word_pos(counter as u128 * 16);
                let expected: [u64; 8 * WIDE_BLOCKS] = std::array::from_fn(|_| rng.next_u64());
                let wide = wide_blocks(&key, counter, stream);
                assert_eq!(wide, expected, "wide, stream {stream}, block {counter}");
                assert_eq!(wide_blocks_portable(&key, counter, stream), expected);
            }
        }
    }

    /// Protects every published result: each variant must give rand_chacha's ChaCha8 words,
    /// including across the 32-bit boundary of the stream number and its wrap-around. (The
    /// AVX-512 variant is checked only on a CPU that has it.)
    #[test]
    fn every_variant_gives_the_words_of_rand_chacha() {
        let seed: [u8; 32] = std::array::from_fn(|i| (i as u8).wrapping_mul(37).wrapping_add(11));
        type Variant = fn(&[u8; 32], u64, &mut [[u64; WORDS]; PATIENTS]);
        let mut variants: Vec<(&str, Variant)> = vec![("by patient", blocks_by_patient)];
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has the feature.
            variants.push(("avx512", |s, f, o| unsafe { blocks_avx512(s, f, o) }));
        }
        variants.push(("dispatched", primary_words));
        for (name, variant) in variants {
            for first in [0u64, 1, 999, (1 << 32) - 2, u64::MAX - 1] {
                let mut out = [[0; WORDS]; PATIENTS];
                variant(&seed, first, &mut out);
                for (p, words) in out.iter().enumerate() {
                    let patient = first.wrapping_add(p as u64);
                    assert_eq!(
                        *words,
                        reference(seed, patient),
                        "{name}, patient {patient}"
                    );
                }
            }
        }
    }
}
