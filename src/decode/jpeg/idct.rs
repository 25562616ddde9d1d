//! Dequantisation and the inverse DCT of one 8×8 block to 8-bit samples.
//!
//! The integer algorithm is the one libjpeg calls "islow" (Loeffler–Ligtenberg–
//! Moschytz, 12-bit fixed-point constants), in the arrangement stb_image uses: a column
//! pass keeping two extra bits, then a row pass that rounds, re-centres on 128 and
//! clamps. Each pass works on eight columns (or rows) at once as eight-lane arrays, so
//! the compiler turns it into vector arithmetic; a block whose AC coefficients are all
//! zero is filled with its DC value directly.

type Lanes = [i32; 8];

/// `x` as a 12-bit fixed-point constant.
pub(super) const fn fixed(x: f64) -> i32 {
    (x * 4096.0 + 0.5) as i32
}

#[inline(always)]
fn map(f: impl Fn(usize) -> i32) -> Lanes {
    // A plain loop: `array::from_fn` is not always inlined, and this must be.
    let mut lanes = [0; 8];
    for (i, lane) in lanes.iter_mut().enumerate() {
        *lane = f(i);
    }
    lanes
}

#[inline(always)]
fn rows(f: impl Fn(usize) -> Lanes) -> [Lanes; 8] {
    let mut rows = [[0; 8]; 8];
    for (k, row) in rows.iter_mut().enumerate() {
        *row = f(k);
    }
    rows
}

// Hostile files can hold coefficients whose products overflow 32 bits; the
// arithmetic wraps (as it does anyway in release builds) rather than panic, and such
// blocks come out as garbage, as they would from any decoder.
#[inline(always)]
fn add(a: &Lanes, b: &Lanes) -> Lanes {
    map(|i| a[i].wrapping_add(b[i]))
}

#[inline(always)]
fn sub(a: &Lanes, b: &Lanes) -> Lanes {
    map(|i| a[i].wrapping_sub(b[i]))
}

#[inline(always)]
fn mul(a: &Lanes, c: i32) -> Lanes {
    map(|i| a[i].wrapping_mul(c))
}

/// The 1-D IDCT of eight lanes at once: `s[k]` holds coefficient k of each lane.
/// Returns `(even, odd)` with outputs `k` and `7 - k` being `even[k] ± odd[3 - k]`
/// (scaled by 2^12).
#[inline(always)]
fn idct_1d(s: &[Lanes; 8]) -> ([Lanes; 4], [Lanes; 4]) {
    let p1 = mul(&add(&s[2], &s[6]), fixed(0.541_196_1));
    let t2 = add(&p1, &mul(&s[6], fixed(-1.847_759_065)));
    let t3 = add(&p1, &mul(&s[2], fixed(0.765_366_865)));
    let t0 = mul(&add(&s[0], &s[4]), 1 << 12);
    let t1 = mul(&sub(&s[0], &s[4]), 1 << 12);
    let even = [add(&t0, &t3), add(&t1, &t2), sub(&t1, &t2), sub(&t0, &t3)];

    let (o0, o1, o2, o3) = (&s[7], &s[5], &s[3], &s[1]);
    let p3 = add(o0, o2);
    let p4 = add(o1, o3);
    let p5 = mul(&add(&p3, &p4), fixed(1.175_875_602));
    let p1 = add(&p5, &mul(&add(o0, o3), fixed(-0.899_976_223)));
    let p2 = add(&p5, &mul(&add(o1, o2), fixed(-2.562_915_447)));
    let p3 = mul(&p3, fixed(-1.961_570_560));
    let p4 = mul(&p4, fixed(-0.390_180_644));
    let odd = [
        add(&mul(o0, fixed(0.298_631_336)), &add(&p1, &p3)),
        add(&mul(o1, fixed(2.053_119_869)), &add(&p2, &p4)),
        add(&mul(o2, fixed(3.072_711_026)), &add(&p2, &p3)),
        add(&mul(o3, fixed(1.501_321_110)), &add(&p1, &p4)),
    ];
    (even, odd)
}

/// Outputs of [`idct_1d`] in order 0..8, each `(even ± odd + bias) >> shift`.
#[inline(always)]
fn finish(even: &[Lanes; 4], odd: &[Lanes; 4], bias: i32, shift: u32) -> [Lanes; 8] {
    rows(|k| {
        let (e, o) = if k < 4 { (k, 3 - k) } else { (7 - k, k - 4) };
        let biased = map(|i| even[e][i].wrapping_add(bias));
        let sum = if k < 4 {
            add(&biased, &odd[o])
        } else {
            sub(&biased, &odd[o])
        };
        map(|i| sum[i] >> shift)
    })
}

#[inline(always)]
fn transpose(m: &[Lanes; 8]) -> [Lanes; 8] {
    rows(|c| map(|r| m[r][c]))
}

/// How a block with AC coefficients is inverse-transformed: [`Portable`] or, where the
/// CPU has it, [`Avx2`](super::idct_avx2::Avx2). Chosen once per image, so the block
/// loop does not ask the CPU again.
pub(super) trait Transform: Copy {
    /// Dequantises `coefficients` (natural order) with `quant` and writes the 8×8
    /// samples to `out`, rows `stride` bytes apart.
    fn ac(self, coefficients: &[i16; 64], quant: &[u16; 64], out: &mut [u8], stride: usize);
}

/// The transform in portable Rust.
#[derive(Clone, Copy)]
pub(super) struct Portable;

impl Transform for Portable {
    #[inline(always)]
    fn ac(self, coefficients: &[i16; 64], quant: &[u16; 64], out: &mut [u8], stride: usize) {
        idct_portable(coefficients, quant, out, stride);
    }
}

/// Dequantises `coefficients` (natural order) with `quant` and writes the 8×8
/// samples to `out`, rows `stride` bytes apart, with `transform` unless the block is
/// DC-only; then zeroes `coefficients` for the next block.
#[inline(always)]
pub(super) fn idct_block(
    transform: impl Transform,
    coefficients: &mut [i16; 64],
    quant: &[u16; 64],
    out: &mut [u8],
    stride: usize,
) {
    let ac = coefficients[1..].iter().fold(0, |acc, &c| acc | c);
    if ac == 0 {
        let dc = i32::from(coefficients[0]) * i32::from(quant[0]);
        let value = (((dc + 4) >> 3) + 128).clamp(0, 255) as u8;
        for row in out.chunks_mut(stride).take(8) {
            row[..8].fill(value);
        }
        coefficients[0] = 0;
        return;
    }
    transform.ac(coefficients, quant, out, stride);
    *coefficients = [0; 64];
}

/// [`Portable`]'s transform of a block with AC coefficients.
#[inline(always)]
fn idct_portable(coefficients: &[i16; 64], quant: &[u16; 64], out: &mut [u8], stride: usize) {
    // Columns: lane = column, s[k] = coefficient row k.
    // i16 × u16 fits in i32.
    let s: [Lanes; 8] =
        rows(|k| map(|u| i32::from(coefficients[8 * k + u]) * i32::from(quant[8 * k + u])));
    let (even, odd) = idct_1d(&s);
    let columns = finish(&even, &odd, 512, 10);
    // Rows: lane = row, s[k] = column k.
    let (even, odd) = idct_1d(&transpose(&columns));
    // Undo 2^12 and the 2^2 kept from the column pass and the 2^3 of two 1-D passes,
    // rounding, and move from -128..127 to 0..255.
    let by_column = finish(&even, &odd, (1 << 16) + (128 << 17), 17);
    for (r, row) in out.chunks_mut(stride).take(8).enumerate() {
        for (c, sample) in row[..8].iter_mut().enumerate() {
            *sample = by_column[c][r].clamp(0, 255) as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The inverse DCT by its definition (T.81 A.3.3), in floating point.
    fn reference(coefficients: &[i32; 64]) -> [f64; 64] {
        let c = |u: usize| {
            if u == 0 {
                std::f64::consts::FRAC_1_SQRT_2
            } else {
                1.0
            }
        };
        std::array::from_fn(|i| {
            let (y, x) = (i / 8, i % 8);
            let mut sum = 0.0;
            for v in 0..8 {
                for u in 0..8 {
                    sum += c(u)
                        * c(v)
                        * f64::from(coefficients[8 * v + u])
                        * ((2 * x + 1) as f64 * u as f64 * std::f64::consts::PI / 16.0).cos()
                        * ((2 * y + 1) as f64 * v as f64 * std::f64::consts::PI / 16.0).cos();
                }
            }
            (sum / 4.0 + 128.0).clamp(0.0, 255.0)
        })
    }

    /// A deterministic stream of test values (xorshift64) from a non-zero `state`.
    fn xorshift64(mut state: u64) -> impl FnMut() -> u64 {
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        }
    }

    #[test]
    fn matches_the_definition_within_one_level() {
        let mut next = xorshift64(0x2545_F491_4F6C_DD1Du64);
        let quant: [u16; 64] = std::array::from_fn(|i| 1 + (i as u16 % 7));
        for trial in 0..2000 {
            let mut coefficients = [0i16; 64];
            // Sparse like real blocks, with a few large values.
            let count = 1 + (next() % 20) as usize;
            for _ in 0..count {
                let at = if trial % 5 == 0 {
                    0
                } else {
                    (next() % 64) as usize
                };
                coefficients[at] = ((next() % 301) as i16 - 150) * if at == 0 { 4 } else { 1 };
            }
            let dequantised: [i32; 64] =
                std::array::from_fn(|i| i32::from(coefficients[i]) * i32::from(quant[i]));
            let expected = reference(&dequantised);
            let mut out = [0u8; 8 * 10];
            let mut block = coefficients;
            idct_block(Portable, &mut block, &quant, &mut out, 10);
            assert_eq!(block, [0; 64], "coefficients are zeroed");
            for i in 0..64 {
                let got = f64::from(out[(i / 8) * 10 + i % 8]);
                assert!(
                    (got - expected[i]).abs() <= 1.0,
                    "trial {trial} sample {i}: {got} vs {}",
                    expected[i]
                );
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_writes_what_the_portable_code_writes() {
        let Some(avx2) = super::super::idct_avx2::Avx2::detect() else {
            return;
        };
        let mut next = xorshift64(0x9E37_79B9_7F4A_7C15u64);
        for trial in 0..5000 {
            // Ordinary blocks, and blocks of extreme values whose arithmetic wraps.
            let extreme = trial % 4 == 0;
            let coefficients: [i16; 64] = std::array::from_fn(|_| match next() % 3 {
                0 if !extreme => 0,
                _ if extreme => next() as i16,
                _ => (next() % 512) as i16 - 256,
            });
            let quant: [u16; 64] = std::array::from_fn(|_| {
                if extreme {
                    next() as u16
                } else {
                    1 + (next() % 64) as u16
                }
            });
            let (mut a, mut b) = ([0u8; 80], [0u8; 80]);
            Portable.ac(&coefficients, &quant, &mut a, 10);
            avx2.ac(&coefficients, &quant, &mut b, 10);
            assert_eq!(a, b, "trial {trial}");
        }
    }
}
