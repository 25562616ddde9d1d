//! PNG row filters (PNG §9), chosen per row like libpng's default heuristic: the filter
//! whose output has the smallest sum of absolute values, read as signed bytes. Small
//! values are what the Huffman stage codes shortest.

/// The filter types, in PNG's numbering.
const NONE: u8 = 0;
const SUB: u8 = 1;
const UP: u8 = 2;
const AVERAGE: u8 = 3;
const PAETH: u8 = 4;

/// Writes the filter-type byte and the filtered bytes of `row` (whose previous row is
/// `prev`, all zeros for the first row) to `out`, `1 + row.len()` bytes. `bpp` is
/// bytes per pixel; `scratch` holds the candidates, `4 × row.len()` bytes.
#[inline(always)]
pub(super) fn filter_row(row: &[u8], prev: &[u8], bpp: usize, scratch: &mut [u8], out: &mut [u8]) {
    let n = row.len();
    let (sub, rest) = scratch.split_at_mut(n);
    let (up, rest) = rest.split_at_mut(n);
    let (avg, paeth) = rest.split_at_mut(n);
    let paeth = &mut paeth[..n];

    for i in 0..bpp.min(n) {
        sub[i] = row[i];
        avg[i] = row[i].wrapping_sub(prev[i] >> 1);
        paeth[i] = row[i].wrapping_sub(prev[i]);
    }
    for ((o, &x), &a) in sub[bpp..].iter_mut().zip(&row[bpp..]).zip(row) {
        *o = x.wrapping_sub(a);
    }
    for ((o, &x), &b) in up.iter_mut().zip(row).zip(prev) {
        *o = x.wrapping_sub(b);
    }
    for ((o, &x), (&a, &b)) in avg[bpp..]
        .iter_mut()
        .zip(&row[bpp..])
        .zip(row.iter().zip(&prev[bpp..]))
    {
        *o = x.wrapping_sub(((u16::from(a) + u16::from(b)) >> 1) as u8);
    }
    for ((o, &x), ((&a, &b), &c)) in paeth[bpp..]
        .iter_mut()
        .zip(&row[bpp..])
        .zip(row.iter().zip(&prev[bpp..]).zip(prev))
    {
        *o = x.wrapping_sub(predict(a, b, c));
    }

    let candidates: [(u8, &[u8]); 5] = [
        (NONE, row),
        (SUB, sub),
        (UP, up),
        (AVERAGE, avg),
        (PAETH, paeth),
    ];
    let (kind, best) = candidates
        .into_iter()
        .min_by_key(|(_, bytes)| cost(bytes))
        .expect("five candidates");
    out[0] = kind;
    out[1..].copy_from_slice(best);
}

/// The Paeth predictor of left `a`, above `b` and upper-left `c`, branch-free.
#[inline(always)]
fn predict(a: u8, b: u8, c: u8) -> u8 {
    let (a16, b16, c16) = (i16::from(a), i16::from(b), i16::from(c));
    let pa = (b16 - c16).abs();
    let pb = (a16 - c16).abs();
    let pc = (a16 + b16 - 2 * c16).abs();
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

/// Sum of the bytes' magnitudes as signed values.
#[inline(always)]
fn cost(bytes: &[u8]) -> u32 {
    bytes
        .iter()
        .map(|&b| u32::from((b as i8).unsigned_abs()))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Undoes a filtered row, as a decoder does.
    fn unfilter(kind: u8, filtered: &[u8], prev: &[u8], bpp: usize) -> Vec<u8> {
        let mut row = vec![0u8; filtered.len()];
        for i in 0..filtered.len() {
            let a = if i >= bpp { row[i - bpp] } else { 0 };
            let c = if i >= bpp { prev[i - bpp] } else { 0 };
            let b = prev[i];
            let p = match kind {
                NONE => 0,
                SUB => a,
                UP => b,
                AVERAGE => ((u16::from(a) + u16::from(b)) / 2) as u8,
                PAETH => predict(a, b, c),
                _ => panic!("filter {kind}"),
            };
            row[i] = filtered[i].wrapping_add(p);
        }
        row
    }

    #[test]
    fn every_chosen_filter_round_trips() {
        let mut seed = 5u32;
        let mut byte = || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (seed >> 24) as u8
        };
        let mut kinds = [0; 5];
        for bpp in [3, 4] {
            let mut prev = vec![0u8; 13 * bpp];
            for y in 0..200 {
                // Rows that favour different filters: noise, ramps, copies, flat.
                let row: Vec<u8> = (0..13 * bpp)
                    .map(|i| match y % 5 {
                        0 => byte(),
                        1 => (i * 3) as u8,
                        2 => prev[i],
                        3 => 9,
                        _ => prev[i].wrapping_add((i / bpp) as u8),
                    })
                    .collect();
                let mut scratch = vec![0; 4 * row.len()];
                let mut out = vec![0; row.len() + 1];
                filter_row(&row, &prev, bpp, &mut scratch, &mut out);
                kinds[usize::from(out[0])] += 1;
                assert_eq!(
                    unfilter(out[0], &out[1..], &prev, bpp),
                    row,
                    "bpp {bpp} y {y}"
                );
                prev = row;
            }
        }
        assert!(kinds.iter().filter(|&&k| k > 0).count() >= 3, "{kinds:?}");
    }

    #[test]
    fn paeth_matches_the_spec_definition() {
        for (a, b, c) in [
            (0, 0, 0),
            (10, 200, 30),
            (255, 0, 128),
            (7, 7, 9),
            (100, 50, 75),
        ] {
            let p = i16::from(a) + i16::from(b) - i16::from(c);
            let (pa, pb, pc) = (
                (p - i16::from(a)).abs(),
                (p - i16::from(b)).abs(),
                (p - i16::from(c)).abs(),
            );
            let want = if pa <= pb && pa <= pc {
                a
            } else if pb <= pc {
                b
            } else {
                c
            };
            assert_eq!(predict(a, b, c), want);
        }
    }
}
