//! Stages 4–5 applied: orientation, crop and letterbox in one pass over the pixels.
//!
//! Every output pixel is read from its stored position through
//! [`Orientation::stored_position`], so rotating, mirroring, cropping and centring
//! cost one copy into the square, whatever the combination. Upright images take a
//! row-copy fast path.

use crate::alloc::try_filled;
use crate::decode::Pixels;
use crate::error::Rejection;
use crate::geometry::Placement;
use crate::orient::Orientation;

/// A square 8-bit image, RGB (3 channels) or RGBA (4), rows with no padding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Square {
    /// Width and height, in pixels.
    pub side: u32,
    /// 3 (RGB) or 4 (RGBA).
    pub channels: usize,
    /// `side * side * channels` bytes.
    pub data: Vec<u8>,
}

/// Builds the square: bars (`background` when `alpha` is false, transparent when it
/// is true) and the placed, upright image. `alpha` chooses RGBA output; an RGBA source
/// drawn to RGB output loses its (all-opaque) alpha.
pub(crate) fn compose(
    src: &Pixels,
    orientation: Orientation,
    place: &Placement,
    alpha: bool,
    background: [u8; 3],
) -> Result<Square, Rejection> {
    let oc = if alpha { 4 } else { 3 };
    let side = place.side as usize;
    let mut data = try_filled(side * side * oc, 0, "square canvas")?;
    if !alpha && place.is_letterboxed() && background != [0, 0, 0] {
        for px in data.chunks_exact_mut(3) {
            px.copy_from_slice(&background);
        }
    }
    match (src.channels, oc) {
        (3, 3) => draw::<3, 3>(src, orientation, place, &mut data),
        (3, 4) => draw::<3, 4>(src, orientation, place, &mut data),
        (4, 3) => draw::<4, 3>(src, orientation, place, &mut data),
        _ => draw::<4, 4>(src, orientation, place, &mut data),
    }
    Ok(Square {
        side: place.side,
        channels: oc,
        data,
    })
}

fn draw<const IC: usize, const OC: usize>(
    src: &Pixels,
    orientation: Orientation,
    p: &Placement,
    out: &mut [u8],
) {
    let (sw, sh) = (src.width, src.height);
    let side = p.side as usize;
    let row_len = p.src_w as usize * OC;
    for row in 0..p.src_h {
        let start = ((p.dst_y + row) as usize * side + p.dst_x as usize) * OC;
        let dst = &mut out[start..start + row_len];
        let dy = p.src_y + row;
        if orientation == Orientation::Normal && IC == OC {
            let s = (dy as usize * sw as usize + p.src_x as usize) * IC;
            dst.copy_from_slice(&src.data[s..s + row_len]);
            continue;
        }
        for (i, d) in dst.chunks_exact_mut(OC).enumerate() {
            let (sx, sy) = orientation.stored_position(p.src_x + i as u32, dy, sw, sh);
            let s = (sy as usize * sw as usize + sx as usize) * IC;
            let px = &src.data[s..s + IC];
            d[..3].copy_from_slice(&px[..3]);
            if OC == 4 {
                d[3] = if IC == 4 { px[3] } else { 255 };
            }
        }
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
}
