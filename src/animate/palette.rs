//! Palettes for animated renditions: one per source frame, shared by every size.
//!
//! A GIF frame as shown almost always uses at most 256 colours (its palette), so the
//! palette of each composited source frame is taken exactly; only when compositing
//! mixed palettes to more than 255 colours is a median cut run. Resized pixels are
//! mapped to their nearest palette colour with no dithering: dither noise changes
//! between frames and defeats the unchanged-pixel optimisation, ballooning files.

use std::collections::HashMap;

/// The most opaque colours a palette holds; one index more is kept for transparency.
pub const MAX_COLOURS: usize = 255;

/// Alpha below this is written as the transparent index.
pub const ALPHA_THRESHOLD: u8 = 128;

/// Up to 255 opaque colours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Palette {
    pub colours: Vec<[u8; 3]>,
}

impl Palette {
    /// The palette of an RGBA screen: its exact opaque colours if there are at most
    /// 255, else a median cut of them to 255.
    pub fn of_screen(rgba: &[u8]) -> Palette {
        let mut counts: HashMap<[u8; 3], u32> = HashMap::new();
        for px in rgba.chunks_exact(4) {
            if px[3] >= ALPHA_THRESHOLD {
                *counts.entry([px[0], px[1], px[2]]).or_insert(0) += 1;
            }
        }
        let mut colours: Vec<([u8; 3], u32)> = counts.into_iter().collect();
        colours.sort_unstable();
        if colours.len() <= MAX_COLOURS {
            return Palette {
                colours: colours.into_iter().map(|(c, _)| c).collect(),
            };
        }
        Palette {
            colours: median_cut(colours, MAX_COLOURS),
        }
    }

    /// Bytes for a GIF colour table: the colours, then black for the transparent index.
    pub fn table(&self) -> Vec<u8> {
        let mut t: Vec<u8> = self.colours.iter().flatten().copied().collect();
        t.extend_from_slice(&[0, 0, 0]);
        t
    }

    /// The transparent index: one past the last colour.
    pub fn transparent(&self) -> u8 {
        self.colours.len() as u8
    }
}

/// Median cut: split the box with the widest channel range at its weighted median
/// until there are `n` boxes; each box gives its weighted mean colour.
fn median_cut(colours: Vec<([u8; 3], u32)>, n: usize) -> Vec<[u8; 3]> {
    let range = |b: &[([u8; 3], u32)]| -> (u8, usize) {
        (0..3)
            .map(|ch| {
                let (lo, hi) = b.iter().fold((255u8, 0u8), |(lo, hi), (c, _)| {
                    (lo.min(c[ch]), hi.max(c[ch]))
                });
                (hi - lo, ch)
            })
            .max()
            .unwrap_or((0, 0))
    };
    let mut boxes = vec![colours];
    while boxes.len() < n {
        let Some((i, (_, ch))) = boxes
            .iter()
            .enumerate()
            .filter(|(_, b)| b.len() > 1)
            .map(|(i, b)| (i, range(b)))
            .max_by_key(|(_, (r, _))| *r)
        else {
            break;
        };
        let mut b = boxes.swap_remove(i);
        b.sort_unstable_by_key(|(c, _)| c[ch]);
        let total: u64 = b.iter().map(|(_, w)| u64::from(*w)).sum();
        let mut acc = 0u64;
        let mut cut = b.len() / 2;
        for (k, (_, w)) in b.iter().enumerate() {
            acc += u64::from(*w);
            if acc * 2 >= total {
                cut = (k + 1).clamp(1, b.len() - 1);
                break;
            }
        }
        let rest = b.split_off(cut);
        boxes.push(b);
        boxes.push(rest);
    }
    boxes
        .iter()
        .map(|b| {
            let total: u64 = b.iter().map(|(_, w)| u64::from(*w)).sum::<u64>().max(1);
            let mean = |ch: usize| {
                (b.iter()
                    .map(|(c, w)| u64::from(c[ch]) * u64::from(*w))
                    .sum::<u64>()
                    / total) as u8
            };
            [mean(0), mean(1), mean(2)]
        })
        .collect()
}

/// Nearest-colour mapping with a lazily filled 15-bit cache (5 bits per channel).
///
/// The cache is keyed by the colour's top five bits and answers with the palette entry
/// nearest the bucket's own colour, so the result depends only on the palette and the
/// pixel — never on the order pixels are seen. Exact palette colours are checked first
/// so unscaled areas keep their exact colours.
pub(crate) struct Mapper<'p> {
    palette: &'p Palette,
    exact: HashMap<[u8; 3], u8>,
    cache: Vec<u16>,
}

const UNKNOWN: u16 = u16::MAX;

impl<'p> Mapper<'p> {
    pub fn new(palette: &'p Palette) -> Self {
        let exact = palette
            .colours
            .iter()
            .enumerate()
            .map(|(i, c)| (*c, i as u8))
            .collect();
        Mapper {
            palette,
            exact,
            cache: vec![UNKNOWN; 1 << 15],
        }
    }

    /// Maps RGBA pixels to palette indices (the transparent index below the alpha
    /// threshold).
    pub fn map(&mut self, rgba: &[u8], out: &mut [u8]) {
        let t = self.palette.transparent();
        for (px, o) in rgba.chunks_exact(4).zip(out.iter_mut()) {
            *o = if px[3] < ALPHA_THRESHOLD {
                t
            } else {
                self.index([px[0], px[1], px[2]])
            };
        }
    }

    fn index(&mut self, c: [u8; 3]) -> u8 {
        let key =
            (usize::from(c[0] >> 3) << 10) | (usize::from(c[1] >> 3) << 5) | usize::from(c[2] >> 3);
        let cached = self.cache[key];
        if cached != UNKNOWN {
            // A bucket's answer is exact for its own palette colours too, unless the
            // pixel is itself a palette colour different from the answer.
            if let Some(&i) = self.exact.get(&c) {
                return i;
            }
            return cached as u8;
        }
        let centre = c.map(|v| (v & 0xF8) | 4);
        let best = nearest(&self.palette.colours, centre);
        self.cache[key] = u16::from(best);
        self.exact.get(&c).copied().unwrap_or(best)
    }
}

fn nearest(colours: &[[u8; 3]], c: [u8; 3]) -> u8 {
    let mut best = (u32::MAX, 0u8);
    for (i, p) in colours.iter().enumerate() {
        let d: u32 = (0..3).map(|k| u32::from(p[k].abs_diff(c[k])).pow(2)).sum();
        if d < best.0 {
            best = (d, i as u8);
            if d == 0 {
                break;
            }
        }
    }
    best.1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn few_colours_are_kept_exactly() {
        let rgba = [
            [10, 20, 30, 255],
            [200, 0, 0, 255],
            [0, 0, 0, 0],
            [10, 20, 30, 255],
        ]
        .concat();
        let p = Palette::of_screen(&rgba);
        assert_eq!(p.colours, [[10, 20, 30], [200, 0, 0]]);
        let mut out = [0u8; 4];
        Mapper::new(&p).map(&rgba, &mut out);
        assert_eq!(out, [0, 1, 2, 0]);
        assert_eq!(p.table().len(), 9);
    }

    #[test]
    fn many_colours_are_cut_to_255_and_mapped_close() {
        let rgba: Vec<u8> = (0..4096u32)
            .flat_map(|i| [(i % 64 * 4) as u8, (i / 64 * 4) as u8, 128, 255])
            .collect();
        let p = Palette::of_screen(&rgba);
        assert_eq!(p.colours.len(), MAX_COLOURS);
        let mut out = vec![0u8; 4096];
        Mapper::new(&p).map(&rgba, &mut out);
        let worst = rgba
            .chunks_exact(4)
            .zip(&out)
            .map(|(px, &i)| {
                (0..3)
                    .map(|k| px[k].abs_diff(p.colours[i as usize][k]))
                    .max()
                    .unwrap()
            })
            .max()
            .unwrap();
        assert!(worst <= 24, "worst channel error {worst}");
    }
}
