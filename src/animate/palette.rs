//! Palettes for animated renditions: one per source frame, shared by every size.
//!
//! A GIF frame as shown almost always uses at most 256 colours (its palette), so the
//! palette of each composited source frame is taken exactly; only when compositing
//! mixed palettes to more than 255 colours is a median cut run. Resized pixels are
//! mapped to their nearest palette colour with no dithering: dither noise changes
//! between frames and defeats the unchanged-pixel optimisation, ballooning files.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::nearest::Nearest;

/// The most opaque colours a palette holds; one index more is kept for transparency.
pub const MAX_COLOURS: usize = 255;

/// How far (Euclidean, in 8-bit RGB) a colour may be from a shared palette's nearest
/// entry and still count as covered by it.
pub const COVER_DISTANCE: u32 = 8;

/// The most any colour of a frame may differ, in any channel, from its nearest entry
/// of a shared palette that stands in for the frame's own: a new colour over a small
/// area (a red square appearing over a photo) must not come out grey.
pub const COVER_MAX_CHANNEL_ERROR: u8 = 16;

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
        let mut counts: HashMap<u32, u32, BuildHasherDefault<ColourHasher>> = HashMap::default();
        for px in rgba.chunks_exact(4) {
            if px[3] >= ALPHA_THRESHOLD {
                let key = u32::from(px[0]) << 16 | u32::from(px[1]) << 8 | u32::from(px[2]);
                *counts.entry(key).or_insert(0) += 1;
            }
        }
        let mut colours: Vec<([u8; 3], u32)> = counts
            .into_iter()
            .map(|(k, n)| ([(k >> 16) as u8, (k >> 8) as u8, k as u8], n))
            .collect();
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

    /// Whether this palette can stand in for `other`: every colour of `other` lies
    /// within [`COVER_MAX_CHANNEL_ERROR`] per channel of its nearest colour here,
    /// whatever its area, and at most 1 in 20 lie further than [`COVER_DISTANCE`].
    /// An empty palette (a wholly transparent frame) covers only another empty one.
    pub fn covers(&self, other: &Palette) -> bool {
        if self.colours.is_empty() {
            return other.colours.is_empty();
        }
        let mut mapper = Mapper::new(self);
        let mut far = 0;
        for c in &other.colours {
            let n = self.colours[usize::from(mapper.index(c[0], c[1], c[2]))];
            if (0..3).any(|k| n[k].abs_diff(c[k]) > COVER_MAX_CHANNEL_ERROR) {
                return false;
            }
            let d2: u32 = (0..3).map(|k| u32::from(n[k].abs_diff(c[k])).pow(2)).sum();
            far += usize::from(d2 > COVER_DISTANCE * COVER_DISTANCE);
        }
        far * 20 <= other.colours.len()
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

/// A multiplicative hash for 24-bit colour keys: the default SipHash costs more than
/// the rest of palette building.
#[derive(Default)]
struct ColourHasher(u64);

impl Hasher for ColourHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01B3);
        }
    }
    fn write_u32(&mut self, v: u32) {
        self.0 = u64::from(v).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// Median cut: split the box with the widest channel range at its weighted median
/// until there are `n` boxes; each box gives its weighted mean colour. Each box's
/// range is measured once, when it is made, so a cut costs its own box's size:
/// O(colours · log n) in all, even for a screen of a million colours.
fn median_cut(colours: Vec<([u8; 3], u32)>, n: usize) -> Vec<[u8; 3]> {
    /// The widest channel's range and that channel.
    fn range(b: &[([u8; 3], u32)]) -> (u8, usize) {
        (0..3)
            .map(|ch| {
                let (lo, hi) = b.iter().fold((255u8, 0u8), |(lo, hi), (c, _)| {
                    (lo.min(c[ch]), hi.max(c[ch]))
                });
                (hi.saturating_sub(lo), ch)
            })
            .max()
            .unwrap_or((0, 0))
    }
    let first = range(&colours);
    let mut boxes = vec![(colours, first)];
    while boxes.len() < n {
        let Some((i, _)) = boxes
            .iter()
            .enumerate()
            .filter(|(_, (b, _))| b.len() > 1)
            .max_by_key(|(_, (_, (r, _)))| *r)
        else {
            break;
        };
        let (mut b, (_, ch)) = boxes.swap_remove(i);
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
        let (rb, rr) = (range(&b), range(&rest));
        boxes.push((b, rb));
        boxes.push((rest, rr));
    }
    boxes
        .iter()
        .map(|(b, _)| {
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

/// Nearest-colour mapping: a direct-mapped cache of recent colours in front of a
/// [`Nearest`] index, which bounds what one look-up costs whatever the palette.
/// Results depend only on the palette and the pixel, never on visiting order, so one
/// mapper serves every frame that has its palette (see [`Mapper::serves`]).
pub(crate) struct Mapper {
    palette: Palette,
    nearest: Nearest,
    /// Key `0x01RRGGBB` (0 = empty) and its index.
    cache: Vec<(u32, u8)>,
}

const CACHE_BITS: u32 = 14;

impl Mapper {
    pub fn new(palette: &Palette) -> Self {
        Mapper {
            palette: palette.clone(),
            nearest: Nearest::new(&palette.colours),
            cache: vec![(0, 0); 1 << CACHE_BITS],
        }
    }

    /// Whether this mapper maps to `palette`: then it is kept for the next frame,
    /// with what it has learnt.
    pub fn serves(&self, palette: &Palette) -> bool {
        self.palette == *palette
    }

    /// Maps RGBA pixels to palette indices (the transparent index below the alpha
    /// threshold).
    pub fn map(&mut self, rgba: &[u8], out: &mut [u8]) {
        let t = self.palette.transparent();
        for (px, o) in rgba.chunks_exact(4).zip(out.iter_mut()) {
            *o = if px[3] < ALPHA_THRESHOLD {
                t
            } else {
                self.index(px[0], px[1], px[2])
            };
        }
    }

    #[inline]
    fn index(&mut self, r: u8, g: u8, b: u8) -> u8 {
        let key = 0x0100_0000 | u32::from(r) << 16 | u32::from(g) << 8 | u32::from(b);
        let slot = (key.wrapping_mul(0x9E37_79B1) >> (32 - CACHE_BITS)) as usize;
        let (k, i) = self.cache[slot];
        if k == key {
            return i;
        }
        let i = self.nearest.find([r, g, b]);
        self.cache[slot] = (key, i);
        i
    }
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
    fn an_empty_palette_covers_only_an_empty_one() {
        let empty = Palette::of_screen(&[0, 0, 0, 0, 9, 9, 9, 0]);
        let red = Palette::of_screen(&[255, 0, 0, 255]);
        assert!(empty.colours.is_empty());
        assert!(empty.covers(&empty));
        assert!(!empty.covers(&red));
        assert!(red.covers(&empty));
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
