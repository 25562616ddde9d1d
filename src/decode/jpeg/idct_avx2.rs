//! [`idct_block`](super::idct::idct_block) with AVX2 intrinsics: the same arithmetic
//! (32-bit lanes, wrapping), eight columns or rows per instruction, with the two
//! transposes done in registers. Output is identical to the portable version (a test
//! compares them).

#![allow(unsafe_code)]

use std::arch::x86_64::*;

use super::idct::{fixed, Transform};

/// Proof that this CPU has AVX2: only [`Avx2::detect`] makes one.
#[derive(Clone, Copy)]
pub(super) struct Avx2(());

impl Avx2 {
    /// `Some` if this CPU has AVX2.
    pub fn detect() -> Option<Self> {
        std::arch::is_x86_feature_detected!("avx2").then_some(Avx2(()))
    }
}

impl Transform for Avx2 {
    #[inline(always)]
    fn ac(self, coefficients: &[i16; 64], quant: &[u16; 64], out: &mut [u8], stride: usize) {
        // SAFETY: an `Avx2` exists only where `detect` found AVX2.
        unsafe { idct_block(coefficients, quant, out, stride) }
    }
}

#[inline]
#[target_feature(enable = "avx2")]
fn set(c: i32) -> __m256i {
    _mm256_set1_epi32(c)
}

/// The 1-D IDCT of eight lanes: `s[k]` holds coefficient k of each lane. Returns the
/// eight outputs, each `(x ± t + bias) >> SHIFT`.
#[inline]
#[target_feature(enable = "avx2")]
fn idct_1d<const SHIFT: i32>(s: &[__m256i; 8], bias: i32) -> [__m256i; 8] {
    let p1 = _mm256_mullo_epi32(_mm256_add_epi32(s[2], s[6]), set(fixed(0.541_196_1)));
    let t2 = _mm256_add_epi32(p1, _mm256_mullo_epi32(s[6], set(fixed(-1.847_759_065))));
    let t3 = _mm256_add_epi32(p1, _mm256_mullo_epi32(s[2], set(fixed(0.765_366_865))));
    let t0 = _mm256_slli_epi32::<12>(_mm256_add_epi32(s[0], s[4]));
    let t1 = _mm256_slli_epi32::<12>(_mm256_sub_epi32(s[0], s[4]));
    let bias = set(bias);
    let t0 = _mm256_add_epi32(t0, bias);
    let t1 = _mm256_add_epi32(t1, bias);
    let x0 = _mm256_add_epi32(t0, t3);
    let x3 = _mm256_sub_epi32(t0, t3);
    let x1 = _mm256_add_epi32(t1, t2);
    let x2 = _mm256_sub_epi32(t1, t2);

    let (o0, o1, o2, o3) = (s[7], s[5], s[3], s[1]);
    let p3 = _mm256_add_epi32(o0, o2);
    let p4 = _mm256_add_epi32(o1, o3);
    let p5 = _mm256_mullo_epi32(_mm256_add_epi32(p3, p4), set(fixed(1.175_875_602)));
    let p1 = _mm256_add_epi32(
        p5,
        _mm256_mullo_epi32(_mm256_add_epi32(o0, o3), set(fixed(-0.899_976_223))),
    );
    let p2 = _mm256_add_epi32(
        p5,
        _mm256_mullo_epi32(_mm256_add_epi32(o1, o2), set(fixed(-2.562_915_447))),
    );
    let p3 = _mm256_mullo_epi32(p3, set(fixed(-1.961_570_560)));
    let p4 = _mm256_mullo_epi32(p4, set(fixed(-0.390_180_644)));
    let u0 = _mm256_add_epi32(
        _mm256_mullo_epi32(o0, set(fixed(0.298_631_336))),
        _mm256_add_epi32(p1, p3),
    );
    let u1 = _mm256_add_epi32(
        _mm256_mullo_epi32(o1, set(fixed(2.053_119_869))),
        _mm256_add_epi32(p2, p4),
    );
    let u2 = _mm256_add_epi32(
        _mm256_mullo_epi32(o2, set(fixed(3.072_711_026))),
        _mm256_add_epi32(p2, p3),
    );
    let u3 = _mm256_add_epi32(
        _mm256_mullo_epi32(o3, set(fixed(1.501_321_110))),
        _mm256_add_epi32(p1, p4),
    );
    [
        _mm256_srai_epi32::<SHIFT>(_mm256_add_epi32(x0, u3)),
        _mm256_srai_epi32::<SHIFT>(_mm256_add_epi32(x1, u2)),
        _mm256_srai_epi32::<SHIFT>(_mm256_add_epi32(x2, u1)),
        _mm256_srai_epi32::<SHIFT>(_mm256_add_epi32(x3, u0)),
        _mm256_srai_epi32::<SHIFT>(_mm256_sub_epi32(x3, u0)),
        _mm256_srai_epi32::<SHIFT>(_mm256_sub_epi32(x2, u1)),
        _mm256_srai_epi32::<SHIFT>(_mm256_sub_epi32(x1, u2)),
        _mm256_srai_epi32::<SHIFT>(_mm256_sub_epi32(x0, u3)),
    ]
}

#[inline]
#[target_feature(enable = "avx2")]
fn transpose(m: [__m256i; 8]) -> [__m256i; 8] {
    let a0 = _mm256_unpacklo_epi32(m[0], m[1]);
    let a1 = _mm256_unpackhi_epi32(m[0], m[1]);
    let a2 = _mm256_unpacklo_epi32(m[2], m[3]);
    let a3 = _mm256_unpackhi_epi32(m[2], m[3]);
    let a4 = _mm256_unpacklo_epi32(m[4], m[5]);
    let a5 = _mm256_unpackhi_epi32(m[4], m[5]);
    let a6 = _mm256_unpacklo_epi32(m[6], m[7]);
    let a7 = _mm256_unpackhi_epi32(m[6], m[7]);
    let b0 = _mm256_unpacklo_epi64(a0, a2);
    let b1 = _mm256_unpackhi_epi64(a0, a2);
    let b2 = _mm256_unpacklo_epi64(a1, a3);
    let b3 = _mm256_unpackhi_epi64(a1, a3);
    let b4 = _mm256_unpacklo_epi64(a4, a6);
    let b5 = _mm256_unpackhi_epi64(a4, a6);
    let b6 = _mm256_unpacklo_epi64(a5, a7);
    let b7 = _mm256_unpackhi_epi64(a5, a7);
    [
        _mm256_permute2x128_si256::<0x20>(b0, b4),
        _mm256_permute2x128_si256::<0x20>(b1, b5),
        _mm256_permute2x128_si256::<0x20>(b2, b6),
        _mm256_permute2x128_si256::<0x20>(b3, b7),
        _mm256_permute2x128_si256::<0x31>(b0, b4),
        _mm256_permute2x128_si256::<0x31>(b1, b5),
        _mm256_permute2x128_si256::<0x31>(b2, b6),
        _mm256_permute2x128_si256::<0x31>(b3, b7),
    ]
}

/// Dequantises and inverse-transforms a block with AC coefficients (the caller
/// handles DC-only blocks), writing 8 rows of 8 samples `stride` apart in `out`.
#[target_feature(enable = "avx2")]
fn idct_block(coefficients: &[i16; 64], quant: &[u16; 64], out: &mut [u8], stride: usize) {
    let mut s = [_mm256_setzero_si256(); 8];
    for (k, lanes) in s.iter_mut().enumerate() {
        // SAFETY: 8 i16 / u16 (16 bytes) read from inside the 64-element arrays.
        let (c, q) = unsafe {
            (
                _mm_loadu_si128(coefficients.as_ptr().add(8 * k).cast()),
                _mm_loadu_si128(quant.as_ptr().add(8 * k).cast()),
            )
        };
        *lanes = _mm256_mullo_epi32(_mm256_cvtepi16_epi32(c), _mm256_cvtepu16_epi32(q));
    }
    // Columns (lane = column), keeping two extra bits.
    let columns = idct_1d::<10>(&s, 512);
    // Rows (lane = row): round, drop 2^17, re-centre on 128.
    let by_column = idct_1d::<17>(&transpose(columns), (1 << 16) + (128 << 17));
    let rows = transpose(by_column);
    // Saturating packs clamp to 0..=255; the permute puts each row's 8 bytes together.
    let order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for half in 0..2 {
        let r = &rows[4 * half..4 * half + 4];
        let words = (
            _mm256_packs_epi32(r[0], r[1]),
            _mm256_packs_epi32(r[2], r[3]),
        );
        let bytes = _mm256_permutevar8x32_epi32(_mm256_packus_epi16(words.0, words.1), order);
        let lines = [
            _mm256_extract_epi64::<0>(bytes),
            _mm256_extract_epi64::<1>(bytes),
            _mm256_extract_epi64::<2>(bytes),
            _mm256_extract_epi64::<3>(bytes),
        ];
        for (i, line) in lines.into_iter().enumerate() {
            out[(4 * half + i) * stride..][..8].copy_from_slice(&line.to_le_bytes());
        }
    }
}
