//! One 8×8 block: forward DCT, quantisation and zig-zag order.
//!
//! The DCT is Arai, Agui and Nakajima's scaled float algorithm (libjpeg's `jfdctflt`):
//! 5 multiplications per 8 points, the remaining per-frequency scale folded into the
//! quantisation multipliers. Each pass transforms the eight columns at once as
//! element-wise operations on rows of eight `f32`, which the compiler turns into SIMD;
//! between the passes the block is transposed, and left so: the multipliers and the
//! zig-zag gather are laid out for the transposed result.

use super::tables::ZIGZAG_TRANSPOSED;

type Block = [[f32; 8]; 8];

/// Transforms, quantises and zig-zags the block whose top-left sample is `plane[at]`,
/// rows `stride` samples apart, into `out`.
#[inline(always)]
pub(super) fn block(
    plane: &[f32],
    at: usize,
    stride: usize,
    multipliers: &[f32; 64],
    out: &mut [i16; 64],
) {
    let mut b: Block = [[0.0; 8]; 8];
    for (r, row) in b.iter_mut().enumerate() {
        row.copy_from_slice(&plane[at + r * stride..at + r * stride + 8]);
    }
    columns(&mut b);
    b = transpose(&b);
    columns(&mut b);
    let mut q = [0i32; 64];
    for ((q, &v), &m) in q.iter_mut().zip(b.as_flattened()).zip(multipliers) {
        *q = round(v * m);
    }
    for (o, &k) in out.iter_mut().zip(&ZIGZAG_TRANSPOSED) {
        *o = q[usize::from(k)] as i16;
    }
}

/// Round to nearest (ties to even) for |x| < 2²²: adding 1.5·2²³ leaves the integer in
/// the low mantissa bits. Branch-free and vectorisable, unlike `f32::round` on SSE2.
#[inline(always)]
fn round(x: f32) -> i32 {
    const MAGIC: f32 = 12_582_912.0;
    (x + MAGIC).to_bits() as i32 - MAGIC.to_bits() as i32
}

#[inline(always)]
fn transpose(b: &Block) -> Block {
    let mut t: Block = [[0.0; 8]; 8];
    for (r, row) in b.iter().enumerate() {
        for (c, &v) in row.iter().enumerate() {
            t[c][r] = v;
        }
    }
    t
}

/// The 1-D AAN DCT down each of the eight columns at once.
#[inline(always)]
fn columns(b: &mut Block) {
    const C4: f32 = std::f64::consts::FRAC_1_SQRT_2 as f32; // cos(4π/16)
    const C6: f32 = 0.382_683_433_f64 as f32; // cos(6π/16)
    const C2_C6: f32 = 0.541_196_100_f64 as f32; // cos(2π/16) − cos(6π/16)
    const C2_PLUS_C6: f32 = 1.306_562_965_f64 as f32; // cos(2π/16) + cos(6π/16)
    let d = *b;
    for c in 0..8 {
        let tmp0 = d[0][c] + d[7][c];
        let tmp7 = d[0][c] - d[7][c];
        let tmp1 = d[1][c] + d[6][c];
        let tmp6 = d[1][c] - d[6][c];
        let tmp2 = d[2][c] + d[5][c];
        let tmp5 = d[2][c] - d[5][c];
        let tmp3 = d[3][c] + d[4][c];
        let tmp4 = d[3][c] - d[4][c];

        // Even part.
        let tmp10 = tmp0 + tmp3;
        let tmp13 = tmp0 - tmp3;
        let tmp11 = tmp1 + tmp2;
        let tmp12 = tmp1 - tmp2;
        b[0][c] = tmp10 + tmp11;
        b[4][c] = tmp10 - tmp11;
        let z1 = (tmp12 + tmp13) * C4;
        b[2][c] = tmp13 + z1;
        b[6][c] = tmp13 - z1;

        // Odd part.
        let tmp10 = tmp4 + tmp5;
        let tmp11 = tmp5 + tmp6;
        let tmp12 = tmp6 + tmp7;
        let z5 = (tmp10 - tmp12) * C6;
        let z2 = C2_C6 * tmp10 + z5;
        let z4 = C2_PLUS_C6 * tmp12 + z5;
        let z3 = tmp11 * C4;
        let z11 = tmp7 + z3;
        let z13 = tmp7 - z3;
        b[5][c] = z13 + z2;
        b[3][c] = z13 - z2;
        b[1][c] = z11 + z4;
        b[7][c] = z11 - z4;
    }
}

#[cfg(test)]
mod tests {
    use super::super::tables::{AAN_SCALE, ZIGZAG};
    use super::*;
    use std::f64::consts::PI;

    /// The DCT of T.81 A.3.3 straight from its definition, natural order.
    fn reference(px: &[f32; 64]) -> [f64; 64] {
        let c = |k: usize| if k == 0 { 1.0 / 2f64.sqrt() } else { 1.0 };
        let mut out = [0.0; 64];
        for v in 0..8 {
            for u in 0..8 {
                let mut s = 0.0;
                for y in 0..8 {
                    for x in 0..8 {
                        s += f64::from(px[y * 8 + x])
                            * ((2 * x + 1) as f64 * u as f64 * PI / 16.0).cos()
                            * ((2 * y + 1) as f64 * v as f64 * PI / 16.0).cos();
                    }
                }
                out[v * 8 + u] = 0.25 * c(u) * c(v) * s;
            }
        }
        out
    }

    #[test]
    fn matches_the_definition_for_any_quantiser() {
        // A quantiser of all ones, expressed as AAN multipliers.
        let ones: [f32; 64] =
            std::array::from_fn(|i| (1.0 / (8.0 * AAN_SCALE[i / 8] * AAN_SCALE[i % 8])) as f32);
        let mut seed = 7u32;
        for _ in 0..50 {
            let px: [f32; 64] = std::array::from_fn(|_| {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                f32::from((seed >> 16) as u8) - 128.0
            });
            let want = reference(&px);
            let mut got = [0i16; 64];
            // Embedded in a wider plane to exercise the stride.
            let mut plane = vec![0.0f32; 8 * 20];
            for r in 0..8 {
                plane[r * 20 + 5..r * 20 + 13].copy_from_slice(&px[r * 8..r * 8 + 8]);
            }
            block(&plane, 5, 20, &ones, &mut got);
            for k in 0..64 {
                let w = want[usize::from(ZIGZAG[k])];
                assert!(
                    (f64::from(got[k]) - w).abs() <= 0.5 + 1e-3,
                    "k {k}: {} vs {w}",
                    got[k]
                );
            }
        }
    }

    #[test]
    fn rounding_is_to_nearest() {
        for (x, want) in [
            (0.4, 0),
            (0.6, 1),
            (-0.6, -1),
            (-1.4, -1),
            (1023.7, 1024),
            (-2047.2, -2047),
        ] {
            assert_eq!(round(x), want, "{x}");
        }
    }
}
