//! PNG row filters undone (PNG §9): each filtered row (its filter-type byte, then the
//! filtered bytes) plus the row above, already undone, gives the row's pixels.

use crate::error::Rejection;

/// Undoes one filtered `row` (type byte first) of `BPP`-byte pixels into `out`, given
/// the previous unfiltered row `prev` (all zeros above the first row). `out` and
/// `prev` are `row.len() - 1` bytes.
///
/// # Errors
/// `bad_image` for a filter type above 4.
#[inline(always)]
pub(super) fn unfilter_row<const BPP: usize>(
    row: &[u8],
    prev: &[u8],
    out: &mut [u8],
) -> Result<(), Rejection> {
    let (&kind, data) = row
        .split_first()
        .ok_or_else(|| Rejection::internal("PNG: empty filtered row"))?;
    let n = data.len();
    let (prev, out) = (&prev[..n], &mut out[..n]);
    match kind {
        0 => out.copy_from_slice(data),
        1 => {
            out[..BPP].copy_from_slice(&data[..BPP]);
            for i in BPP..n {
                out[i] = data[i].wrapping_add(out[i - BPP]);
            }
        }
        2 => {
            for ((o, &d), &b) in out.iter_mut().zip(data).zip(prev) {
                *o = d.wrapping_add(b);
            }
        }
        3 => {
            for i in 0..BPP {
                out[i] = data[i].wrapping_add(prev[i] >> 1);
            }
            for i in BPP..n {
                let avg = (u16::from(out[i - BPP]) + u16::from(prev[i])) >> 1;
                out[i] = data[i].wrapping_add(avg as u8);
            }
        }
        4 => paeth::<BPP>(data, prev, out),
        _ => {
            return Err(Rejection::bad_image(format!(
                "PNG: row filter type {kind} does not exist"
            )))
        }
    }
    Ok(())
}

/// Paeth, one pixel at a time: left `a`, above `b`, upper-left `c`, as whole pixels so
/// the channels' arithmetic runs side by side, branch-free ([`predict`]).
#[inline(always)]
fn paeth<const BPP: usize>(data: &[u8], prev: &[u8], out: &mut [u8]) {
    let mut a = [0i16; BPP];
    let mut c = [0i16; BPP];
    for ((o, d), p) in out
        .chunks_exact_mut(BPP)
        .zip(data.chunks_exact(BPP))
        .zip(prev.chunks_exact(BPP))
    {
        let mut x = [0u8; BPP];
        for k in 0..BPP {
            let b = i16::from(p[k]);
            x[k] = d[k].wrapping_add(predict(a[k], b, c[k]) as u8);
            a[k] = i16::from(x[k]);
            c[k] = b;
        }
        o.copy_from_slice(&x);
    }
}

/// The Paeth predictor without branches. Of a, b, c it picks the one nearest to
/// a + b − c: with lo/hi the smaller/larger of a and b, that is lo when hi is at most
/// 3c − (a + b), hi when 3c − (a + b) is at most lo, and c otherwise (the spec's ties
/// included: a before b before c).
#[inline(always)]
fn predict(a: i16, b: i16, c: i16) -> i16 {
    let threshold = 3 * c - (a + b);
    let (lo, hi) = (a.min(b), a.max(b));
    let near = if hi <= threshold { lo } else { c };
    if threshold <= lo {
        hi
    } else {
        near
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The predictor as PNG §9.4 writes it, for one byte.
    fn predictor(kind: u8, a: u8, b: u8, c: u8) -> u8 {
        let (ia, ib, ic) = (i16::from(a), i16::from(b), i16::from(c));
        match kind {
            0 => 0,
            1 => a,
            2 => b,
            3 => ((u16::from(a) + u16::from(b)) / 2) as u8,
            _ => {
                let p = ia + ib - ic;
                let (pa, pb, pc) = ((p - ia).abs(), (p - ib).abs(), (p - ic).abs());
                if pa <= pb && pa <= pc {
                    a
                } else if pb <= pc {
                    b
                } else {
                    c
                }
            }
        }
    }

    #[test]
    fn every_filter_undoes_what_the_spec_filter_does() {
        let mut seed = 11u32;
        let mut byte = || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (seed >> 24) as u8
        };
        for bpp in [3usize, 4] {
            let n = 7 * bpp;
            let prev: Vec<u8> = (0..n).map(|_| byte()).collect();
            let pixels: Vec<u8> = (0..n).map(|_| byte()).collect();
            for kind in 0..5u8 {
                // Filter per the spec, then undo with ours.
                let mut row = vec![kind];
                for i in 0..n {
                    let a = if i >= bpp { pixels[i - bpp] } else { 0 };
                    let c = if i >= bpp { prev[i - bpp] } else { 0 };
                    row.push(pixels[i].wrapping_sub(predictor(kind, a, prev[i], c)));
                }
                let mut out = vec![0; n];
                match bpp {
                    3 => unfilter_row::<3>(&row, &prev, &mut out).unwrap(),
                    _ => unfilter_row::<4>(&row, &prev, &mut out).unwrap(),
                }
                assert_eq!(out, pixels, "filter {kind}, {bpp} bytes per pixel");
            }
        }
    }

    #[test]
    fn the_branch_free_predictor_is_the_spec_one() {
        for a in (0..=255u8).step_by(3) {
            for b in 0..=255u8 {
                for c in (0..=255u8).step_by(5) {
                    let want = predictor(4, a, b, c);
                    let got = predict(i16::from(a), i16::from(b), i16::from(c)) as u8;
                    assert_eq!(got, want, "a {a}, b {b}, c {c}");
                }
            }
        }
    }

    #[test]
    fn an_unknown_filter_type_is_refused() {
        let err = unfilter_row::<3>(&[5, 1, 2, 3], &[0; 3], &mut [0; 3]).unwrap_err();
        assert_eq!(err.code(), "bad_image");
    }
}
