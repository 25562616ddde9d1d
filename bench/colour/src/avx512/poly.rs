//! No gathers: linearise with permutes over the 256-entry float tables (8 two-register
//! permutes and 7 blends a channel), the matrix in float, and encode arithmetically:
//! `getexp`/`getmant` split linear light into 2^e × m, m^(1/2.4) is a degree-4
//! polynomial on [1, 2) and 2^(e/2.4) a 16-entry permute; below 0.0031308 the linear
//! segment.

use std::arch::x86_64::*;

use super::Shuffles;
use crate::Pieces;

pub struct Kernel {
    lin: [[f32; 256]; 3],
    matrix: [[f32; 3]; 3],
    /// m^(1/2.4) on [1, 2], highest power first.
    poly: [f32; 5],
    /// 255 × 1.055 × 2^(e/2.4) for e = i − 9 (0.0031308 > 2^−9).
    octave: [f32; 16],
}

impl Kernel {
    pub fn new(p: &Pieces) -> Kernel {
        Kernel {
            lin: p.lin,
            matrix: p.matrix,
            poly: chebyshev_fit(),
            octave: std::array::from_fn(|i| {
                (255.0 * 1.055 * 2f64.powf((i as f64 - 9.0) / 2.4)) as f32
            }),
        }
    }

    /// # Safety
    /// The CPU must have AVX-512 F, BW and VBMI; `src` and `dst` the same whole number
    /// of 16-pixel steps.
    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
    pub unsafe fn run(&self, src: &[u8], dst: &mut [u8]) {
        assert!(src.len() == dst.len() && src.len().is_multiple_of(48));
        let shuffles = Shuffles::new();
        let m = self.matrix.map(|row| row.map(|v| _mm512_set1_ps(v)));
        for (s, d) in src.chunks_exact(48).zip(dst.chunks_exact_mut(48)) {
            let idx = shuffles.split(s.as_ptr());
            // Written out: closures here are not inlined.
            let r = self.linearise(idx[0], 0);
            let g = self.linearise(idx[1], 1);
            let b = self.linearise(idx[2], 2);
            let mix = |row: &[__m512; 3]| {
                _mm512_fmadd_ps(
                    row[2],
                    b,
                    _mm512_fmadd_ps(row[1], g, _mm512_mul_ps(row[0], r)),
                )
            };
            let out = [
                self.encode(mix(&m[0])),
                self.encode(mix(&m[1])),
                self.encode(mix(&m[2])),
            ];
            shuffles.join(out, d.as_mut_ptr());
        }
    }

    #[inline]
    #[target_feature(enable = "avx512f")]
    fn linearise(&self, idx: __m512i, channel: usize) -> __m512 {
        let t = self.lin[channel].as_ptr();
        let mut part = [_mm512_setzero_ps(); 8];
        for (j, p) in part.iter_mut().enumerate() {
            // SAFETY: both loads read 16 floats inside the 256-entry table.
            *p = unsafe {
                _mm512_permutex2var_ps(
                    _mm512_loadu_ps(t.add(32 * j)),
                    idx,
                    _mm512_loadu_ps(t.add(32 * j + 16)),
                )
            };
        }
        let b5 = _mm512_test_epi32_mask(idx, _mm512_set1_epi32(32));
        let b6 = _mm512_test_epi32_mask(idx, _mm512_set1_epi32(64));
        let b7 = _mm512_test_epi32_mask(idx, _mm512_set1_epi32(128));
        let q0 = _mm512_mask_blend_ps(b5, part[0], part[1]);
        let q1 = _mm512_mask_blend_ps(b5, part[2], part[3]);
        let q2 = _mm512_mask_blend_ps(b5, part[4], part[5]);
        let q3 = _mm512_mask_blend_ps(b5, part[6], part[7]);
        let h0 = _mm512_mask_blend_ps(b6, q0, q1);
        let h1 = _mm512_mask_blend_ps(b6, q2, q3);
        _mm512_mask_blend_ps(b7, h0, h1)
    }

    #[inline]
    #[target_feature(enable = "avx512f")]
    fn encode(&self, x: __m512) -> __m512i {
        let x = _mm512_min_ps(_mm512_max_ps(x, _mm512_setzero_ps()), _mm512_set1_ps(1.0));
        let e = _mm512_getexp_ps(x);
        let mant = _mm512_getmant_ps::<_MM_MANT_NORM_1_2, _MM_MANT_SIGN_ZERO>(x);
        let p = self.poly[1..]
            .iter()
            .fold(_mm512_set1_ps(self.poly[0]), |p, &c| {
                _mm512_fmadd_ps(p, mant, _mm512_set1_ps(c))
            });
        let octave = _mm512_add_epi32(_mm512_cvttps_epi32(e), _mm512_set1_epi32(9));
        // SAFETY: `octave` is 16 floats.
        let scale = _mm512_permutexvar_ps(octave, unsafe { _mm512_loadu_ps(self.octave.as_ptr()) });
        let curve = _mm512_fmadd_ps(p, scale, _mm512_set1_ps(-255.0 * 0.055));
        let linear = _mm512_mul_ps(x, _mm512_set1_ps(255.0 * 12.92));
        let low = _mm512_cmp_ps_mask::<_CMP_LE_OQ>(x, _mm512_set1_ps(0.0031308));
        _mm512_cvtps_epi32(_mm512_mask_blend_ps(low, curve, linear))
    }
}

/// m^(1/2.4) interpolated at the 5 Chebyshev nodes of [1, 2], as monomial
/// coefficients, highest power first (error below 1e-5).
fn chebyshev_fit() -> [f32; 5] {
    const N: usize = 5;
    let mut rows: Vec<[f64; N + 1]> = (0..N)
        .map(|i| {
            let angle = (2 * i + 1) as f64 * std::f64::consts::PI / (2 * N) as f64;
            let x = 1.5 + 0.5 * angle.cos();
            let mut row = [0.0; N + 1];
            for (j, v) in row.iter_mut().take(N).enumerate() {
                *v = x.powi((N - 1 - j) as i32);
            }
            row[N] = x.powf(1.0 / 2.4);
            row
        })
        .collect();
    // Gauss-Jordan with partial pivoting.
    for col in 0..N {
        let pivot = (col..N)
            .max_by(|&a, &b| rows[a][col].abs().total_cmp(&rows[b][col].abs()))
            .unwrap();
        rows.swap(col, pivot);
        for r in 0..N {
            if r != col {
                let f = rows[r][col] / rows[col][col];
                let pivot_row = rows[col];
                for (v, p) in rows[r].iter_mut().zip(pivot_row).skip(col) {
                    *v -= f * p;
                }
            }
        }
    }
    std::array::from_fn(|i| (rows[i][N] / rows[i][i]) as f32)
}
