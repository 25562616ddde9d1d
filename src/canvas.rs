//! Stages 4–5 applied: orientation, crop and letterbox in one pass over the pixels.
//!
//! Every output pixel is read from its stored position through
//! [`Orientation::stored_position`], so rotating, mirroring, cropping and centring
//! cost one copy into the square, whatever the combination. Upright images take a
//! row-copy fast path, which also converts their colours to sRGB as it copies (stage 4b
//! fused into this copy: a tagged, letterboxed or cropped photo is read once, and only
//! the part that is shown is converted).

use rayon::prelude::*;

use crate::alloc::try_zeroed;
use crate::colour::ToSrgb;
use crate::decode::Pixels;
use crate::error::Error;
use crate::geometry::Placement;
use crate::orient::Orientation;

/// A square 8-bit image, RGB (3 channels) or RGBA (4), rows with no padding, and which
/// part of it is picture (the rest is letterbox bars).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Square {
    /// Width and height, in pixels.
    pub side: u32,
    /// 3 (RGB) or 4 (RGBA).
    pub channels: usize,
    /// `side * side * channels` bytes.
    pub data: Vec<u8>,
    /// Where the picture lies, so a resize samples only the picture and draws exact
    /// bars ([`Letterbox::none`] for a square that is all picture).
    pub letterbox: Letterbox,
}

impl Square {
    /// A square that is all picture (no bars).
    pub fn new(side: u32, channels: usize, data: Vec<u8>) -> Square {
        Square {
            side,
            channels,
            data,
            letterbox: Letterbox::none(side),
        }
    }

    /// Where the picture lies on this square.
    pub fn picture(&self) -> Rect {
        self.letterbox.picture_at(self.side)
    }
}

/// A rectangle of whole pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width.
    pub w: u32,
    /// Height.
    pub h: u32,
}

/// The picture's place on the composed square and the colour of the bars around it;
/// carried by every rendition made from that square.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Letterbox {
    /// Side of the composed square, in pixels.
    pub side: u32,
    /// The picture on the composed square, in its pixels.
    pub picture: Rect,
    /// Every bar pixel, as RGB (first 3 bytes) or RGBA: `Policy::background` for opaque
    /// output, `[0, 0, 0, 0]` (transparent) for RGBA output.
    pub bar: [u8; 4],
}

impl Letterbox {
    /// A `side`² square that is all picture.
    pub fn none(side: u32) -> Letterbox {
        Letterbox {
            side,
            picture: Rect {
                x: 0,
                y: 0,
                w: side,
                h: side,
            },
            bar: [0; 4],
        }
    }

    /// Where the picture lies on a `side`² rendition of the square.
    ///
    /// Rounding, as Pillow's `ImageOps.pad` does: each picture side is scaled by
    /// `side / self.side` and rounded to the nearest pixel (halves up, at least 1, at
    /// most `side`); a side that fills the square still fills it; the picture is then
    /// centred, the odd bar pixel (if any) going after it (right or bottom), as
    /// [`place`](crate::geometry::place) centres it on the composed square.
    pub fn picture_at(&self, side: u32) -> Rect {
        if side == self.side {
            return self.picture;
        }
        let fit = |extent: u32| -> u32 {
            if extent == self.side {
                return side;
            }
            let num = 2 * u64::from(extent) * u64::from(side) + u64::from(self.side);
            let scaled = num / (2 * u64::from(self.side).max(1));
            scaled.clamp(1, u64::from(side)) as u32
        };
        let (w, h) = (fit(self.picture.w), fit(self.picture.h));
        Rect {
            x: (side - w) / 2,
            y: (side - h) / 2,
            w,
            h,
        }
    }
}

/// Output rows per parallel task: 32 rows of a 1024² RGBA square are 128 KiB.
const BAND_ROWS: usize = 32;

/// Builds the square: bars (`background` when `alpha` is false, transparent when it
/// is true) and the placed, upright image. `alpha` chooses RGBA output; an RGBA source
/// drawn to RGB output loses its (all-opaque) alpha. Bands of rows are drawn in
/// parallel on the current rayon pool.
pub(crate) fn compose(
    src: &Pixels,
    orientation: Orientation,
    place: &Placement,
    alpha: bool,
    background: [u8; 3],
) -> Result<Square, Error> {
    compose_converting(src, orientation, place, alpha, background, None)
}

/// [`compose`], the upright row copies converted by `to_srgb` as they are written
/// (only when [`ToSrgb::copies`] for this source and output).
fn compose_converting(
    src: &Pixels,
    orientation: Orientation,
    place: &Placement,
    alpha: bool,
    background: [u8; 3],
    to_srgb: Option<&ToSrgb>,
) -> Result<Square, Error> {
    let oc = if alpha { 4 } else { 3 };
    let side = place.side as usize;
    let mut data = try_zeroed(side * side * oc, "square canvas")?;
    let bar = if alpha {
        [0; 4]
    } else {
        [background[0], background[1], background[2], 0]
    };
    match (src.channels, oc) {
        (3, 3) => draw::<3, 3>(src, orientation, place, bar, to_srgb, &mut data),
        (3, 4) => draw::<3, 4>(src, orientation, place, bar, None, &mut data),
        (4, 3) => draw::<4, 3>(src, orientation, place, bar, None, &mut data),
        _ => draw::<4, 4>(src, orientation, place, bar, to_srgb, &mut data),
    }
    Ok(Square {
        side: place.side,
        channels: oc,
        data,
        letterbox: letterbox(place, bar),
    })
}

/// The square's picture rectangle and bar colour for `place`.
fn letterbox(place: &Placement, bar: [u8; 4]) -> Letterbox {
    Letterbox {
        side: place.side,
        picture: Rect {
            x: place.dst_x,
            y: place.dst_y,
            w: place.src_w,
            h: place.src_h,
        },
        bar,
    }
}

/// The square of `src` (decoded, not yet converted to sRGB), converted by `to_srgb`
/// when given. When the square is `src` itself (upright, uncropped, not letterboxed,
/// same channels), `src`'s buffer is moved, not copied, and converted in place. An
/// upright colour source is converted as its rows are copied into the square; any
/// other is converted in place first, then composed as [`compose`] does.
pub(crate) fn compose_owned(
    mut src: Pixels,
    orientation: Orientation,
    place: &Placement,
    alpha: bool,
    background: [u8; 3],
    to_srgb: Option<&ToSrgb>,
) -> Result<Square, Error> {
    let oc = if alpha { 4 } else { 3 };
    let upright = orientation.stored_step() == (1, 0);
    let whole = place.is_whole(src.width, src.height);
    if whole && orientation == Orientation::Normal && src.channels == oc {
        if let Some(to_srgb) = to_srgb {
            to_srgb.in_place(&mut src);
        }
        return Ok(Square::new(place.side, oc, src.data));
    }
    let copying = to_srgb.filter(|c| upright && src.channels == oc && c.copies(oc));
    if let (Some(to_srgb), None) = (to_srgb, copying) {
        to_srgb.in_place(&mut src);
    }
    compose_converting(&src, orientation, place, alpha, background, copying)
}

/// Fills `out` (a zeroed `side`² square) in bands of [`BAND_ROWS`] rows.
fn draw<const IC: usize, const OC: usize>(
    src: &Pixels,
    orientation: Orientation,
    p: &Placement,
    bar: [u8; 4],
    to_srgb: Option<&ToSrgb>,
    out: &mut [u8],
) {
    let line = p.side as usize * OC;
    if line == 0 {
        return;
    }
    out.par_chunks_mut(BAND_ROWS * line)
        .enumerate()
        .for_each(|(band, rows)| {
            for (k, row) in rows.chunks_exact_mut(line).enumerate() {
                let y = (band * BAND_ROWS + k) as u32;
                draw_row::<IC, OC>(src, orientation, p, bar, to_srgb, y, row);
            }
        });
}

/// Square row `y`: bars, then the image's displayed row `y - dst_y` if it has one
/// (converted by `to_srgb`, given only for upright sources of `OC` channels).
#[inline(always)]
fn draw_row<const IC: usize, const OC: usize>(
    src: &Pixels,
    orientation: Orientation,
    p: &Placement,
    bar: [u8; 4],
    to_srgb: Option<&ToSrgb>,
    y: u32,
    row: &mut [u8],
) {
    let (left, right) = (p.dst_x as usize * OC, (p.dst_x + p.src_w) as usize * OC);
    let inside = (p.dst_y..p.dst_y + p.src_h).contains(&y);
    if bar[..OC] != [0; 4][..OC] {
        // The buffer is zeroed, so black or transparent bars need no writes.
        let (before, after) = if inside {
            (left, right)
        } else {
            (row.len(), row.len())
        };
        let (head, rest) = row.split_at_mut(before);
        let tail = &mut rest[after - before..];
        for px in head.chunks_exact_mut(OC).chain(tail.chunks_exact_mut(OC)) {
            px.copy_from_slice(&bar[..OC]);
        }
    }
    if !inside {
        return;
    }
    let dst = &mut row[left..right];
    let dy = p.src_y + y - p.dst_y;
    let (sw, sh) = (src.width, src.height);
    let (sx, sy) = orientation.stored_position(p.src_x, dy, sw, sh);
    let mut s = (sy as usize * sw as usize + sx as usize) * IC;
    // Each displayed pixel to the right is one stored pixel away, in a fixed direction.
    let (step_x, step_y) = orientation.stored_step();
    if (step_x, step_y) == (1, 0) && IC == OC {
        let from = &src.data[s..s + dst.len()];
        match to_srgb {
            Some(to_srgb) => to_srgb.copy(from, dst),
            None => dst.copy_from_slice(from),
        }
        return;
    }
    let step = (step_x as isize + step_y as isize * sw as isize) * IC as isize;
    for d in dst.chunks_exact_mut(OC) {
        let px = &src.data[s..s + IC];
        d[..3].copy_from_slice(&px[..3]);
        if OC == 4 {
            d[3] = if IC == 4 { px[3] } else { 255 };
        }
        s = s.wrapping_add_signed(step);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::place;
    use crate::upload::CropBox;

    /// A 3x2 RGB image whose pixel values name their stored position.
    fn tiny() -> Pixels {
        let data = (0..6u8).flat_map(|i| [i, 10 * i, 100 + i]).collect();
        Pixels {
            width: 3,
            height: 2,
            channels: 3,
            data,
        }
    }

    #[test]
    fn letterbox_bars_and_centring() {
        let sq = compose(
            &tiny(),
            Orientation::Normal,
            &place(3, 2, None).unwrap(),
            false,
            [9, 9, 9],
        )
        .unwrap();
        assert_eq!(sq.side, 3);
        // Row 0 holds the image's first row (bars: one row below, since 1 bar row
        // rounds down to the top getting 0).
        assert_eq!(&sq.data[..9], &[0, 0, 100, 1, 10, 101, 2, 20, 102]);
        assert_eq!(&sq.data[18..], &[9; 9]);
    }

    #[test]
    fn rotate90_with_crop() {
        // Orientation 6: displayed is 2x3; displayed (0,0) is stored (0,1) = index 3.
        let p = place(2, 3, Some(CropBox { x: 0, y: 1, w: 2 })).unwrap();
        let sq = compose(&tiny(), Orientation::Rotate90, &p, true, [0; 3]).unwrap();
        // Displayed row 1: stored (1,1)=4, (1,0)=1. Row 2: stored (2,1)=5, (2,0)=2.
        let firsts: Vec<u8> = sq.data.chunks_exact(4).map(|px| px[0]).collect();
        assert_eq!(firsts, [4, 1, 5, 2]);
        assert!(sq.data.chunks_exact(4).all(|px| px[3] == 255));
    }

    /// The square as the contract defines it, one pixel at a time through
    /// `stored_position`: what the banded, stepped drawing must reproduce.
    fn reference(src: &Pixels, o: Orientation, p: &Placement, alpha: bool, bg: [u8; 3]) -> Vec<u8> {
        let oc = if alpha { 4 } else { 3 };
        let side = p.side as usize;
        let mut out = Vec::with_capacity(side * side * oc);
        for y in 0..p.side {
            for x in 0..p.side {
                let inside = (p.dst_x..p.dst_x + p.src_w).contains(&x)
                    && (p.dst_y..p.dst_y + p.src_h).contains(&y);
                let px: [u8; 4] = if inside {
                    let (dx, dy) = (p.src_x + x - p.dst_x, p.src_y + y - p.dst_y);
                    let (sx, sy) = o.stored_position(dx, dy, src.width, src.height);
                    let i = (sy * src.width + sx) as usize * src.channels;
                    let a = if src.channels == 4 {
                        src.data[i + 3]
                    } else {
                        255
                    };
                    [src.data[i], src.data[i + 1], src.data[i + 2], a]
                } else if alpha {
                    [0; 4]
                } else {
                    [bg[0], bg[1], bg[2], 0]
                };
                out.extend_from_slice(&px[..oc]);
            }
        }
        out
    }

    #[test]
    fn every_orientation_crop_and_channel_mix_matches_the_reference() {
        // 37×70 stored: odd sizes, taller than one band, so bands split mid-image.
        let (w, h) = (37u32, 70u32);
        for channels in [3usize, 4] {
            let data = (0..w * h * channels as u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect();
            let src = Pixels {
                width: w,
                height: h,
                channels,
                data,
            };
            for v in 1..=8 {
                let o = Orientation::from_exif(v).unwrap();
                let (dw, dh) = o.displayed_size(w, h);
                let crops = [
                    None,
                    Some(CropBox { x: 0, y: 0, w: 1 }),
                    Some(CropBox { x: 3, y: 5, w: 30 }),
                    Some(CropBox {
                        x: dw - 20,
                        y: dh - 20,
                        w: 20,
                    }),
                ];
                for crop in crops {
                    let p = place(dw, dh, crop).unwrap();
                    for (alpha, bg) in [(false, [0; 3]), (false, [250, 7, 33]), (true, [9; 3])] {
                        let got = compose(&src, o, &p, alpha, bg).unwrap();
                        assert_eq!(
                            got.data,
                            reference(&src, o, &p, alpha, bg),
                            "orientation {v}, {channels} channels, crop {crop:?}, alpha {alpha}"
                        );
                        let owned = compose_owned(src.clone(), o, &p, alpha, bg, None).unwrap();
                        assert_eq!(owned, got);
                    }
                }
            }
        }
    }
}
