//! Linearise with three gathers from the 256-entry float tables, the matrix in float,
//! and encode with three gathers from an 8192-entry table of output levels.

use std::arch::x86_64::*;

use super::Shuffles;
use crate::{srgb_encode, Pieces};

/// Entries of the encode table: linear light 0..=1 in `ENCODE - 1` steps.
const ENCODE: usize = 8192;

pub struct Kernel {
    lin: [[f32; 256]; 3],
    /// The matrix scaled to encode-table steps.
    matrix: [[f32; 3]; 3],
    encode: Vec<i32>,
}

impl Kernel {
    pub fn new(p: &Pieces) -> Kernel {
        let steps = (ENCODE - 1) as f32;
        Kernel {
            lin: p.lin,
            matrix: p.matrix.map(|row| row.map(|m| m * steps)),
            encode: (0..ENCODE)
                .map(|i| (srgb_encode(i as f64 / steps as f64) * 255.0).round() as i32)
                .collect(),
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
        let top = _mm512_set1_ps((ENCODE - 1) as f32);
        for (s, d) in src.chunks_exact(48).zip(dst.chunks_exact_mut(48)) {
            let idx = shuffles.split(s.as_ptr());
            let [r, g, b]: [__m512; 3] =
                std::array::from_fn(|k| _mm512_i32gather_ps::<4>(idx[k], self.lin[k].as_ptr()));
            let out = m.map(|row| {
                let x = _mm512_fmadd_ps(
                    row[2],
                    b,
                    _mm512_fmadd_ps(row[1], g, _mm512_mul_ps(row[0], r)),
                );
                let x = _mm512_min_ps(_mm512_max_ps(x, _mm512_setzero_ps()), top);
                _mm512_i32gather_epi32::<4>(_mm512_cvtps_epi32(x), self.encode.as_ptr())
            });
            shuffles.join(out, d.as_mut_ptr());
        }
    }
}
