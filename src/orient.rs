//! Stage 4 (the mapping only): how a stored pixel grid is shown, per EXIF orientation.
//!
//! The copy that applies it lives in [`crate::canvas`], fused with the crop or
//! letterbox, so the pixels are moved once.

/// EXIF orientation: how the stored pixels must be transformed to be shown upright.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Orientation {
    /// 1: shown as stored.
    #[default]
    Normal,
    /// 2: mirrored left–right.
    FlipHorizontal,
    /// 3: turned half a turn.
    Rotate180,
    /// 4: mirrored top–bottom.
    FlipVertical,
    /// 5: mirrored across the top-left to bottom-right diagonal.
    Transpose,
    /// 6: turned a quarter turn clockwise to be shown.
    Rotate90,
    /// 7: mirrored across the top-right to bottom-left diagonal.
    Transverse,
    /// 8: turned a quarter turn counter-clockwise to be shown.
    Rotate270,
}

impl Orientation {
    /// The orientation for an EXIF tag value 1–8; `None` for anything else.
    pub fn from_exif(value: u16) -> Option<Orientation> {
        use Orientation::*;
        Some(match value {
            1 => Normal,
            2 => FlipHorizontal,
            3 => Rotate180,
            4 => FlipVertical,
            5 => Transpose,
            6 => Rotate90,
            7 => Transverse,
            8 => Rotate270,
            _ => return None,
        })
    }

    /// The EXIF tag value, 1–8.
    pub fn exif_value(self) -> u16 {
        use Orientation::*;
        match self {
            Normal => 1,
            FlipHorizontal => 2,
            Rotate180 => 3,
            FlipVertical => 4,
            Transpose => 5,
            Rotate90 => 6,
            Transverse => 7,
            Rotate270 => 8,
        }
    }

    /// Whether showing the image swaps its width and height (values 5–8).
    pub fn swaps_axes(self) -> bool {
        self.exif_value() >= 5
    }

    /// Displayed `(width, height)` of a stored `width`×`height` grid.
    pub fn displayed_size(self, width: u32, height: u32) -> (u32, u32) {
        if self.swaps_axes() {
            (height, width)
        } else {
            (width, height)
        }
    }

    /// Where the displayed pixel (`dx`, `dy`) lives in a stored grid of `width`×`height`
    /// (stored dimensions). `dx`, `dy` must lie inside the displayed grid.
    #[inline]
    pub fn stored_position(self, dx: u32, dy: u32, width: u32, height: u32) -> (u32, u32) {
        use Orientation::*;
        let (w1, h1) = (width - 1, height - 1);
        match self {
            Normal => (dx, dy),
            FlipHorizontal => (w1 - dx, dy),
            Rotate180 => (w1 - dx, h1 - dy),
            FlipVertical => (dx, h1 - dy),
            Transpose => (dy, dx),
            Rotate90 => (dy, h1 - dx),
            Transverse => (w1 - dy, h1 - dx),
            Rotate270 => (w1 - dy, dx),
        }
    }

    /// How [`stored_position`](Self::stored_position) moves, in stored (x, y), when
    /// the displayed x grows by one.
    pub(crate) fn stored_step(self) -> (i32, i32) {
        use Orientation::*;
        match self {
            Normal | FlipVertical => (1, 0),
            FlipHorizontal | Rotate180 => (-1, 0),
            Transpose | Rotate270 => (0, 1),
            Rotate90 | Transverse => (0, -1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exif_values_round_trip() {
        for v in 1..=8 {
            assert_eq!(Orientation::from_exif(v).unwrap().exif_value(), v);
        }
        assert_eq!(Orientation::from_exif(0), None);
        assert_eq!(Orientation::from_exif(9), None);
    }

    /// Each orientation maps the displayed grid one-to-one onto the stored grid, and
    /// the displayed top-left corner comes from the corner the EXIF spec names.
    #[test]
    fn mapping_is_a_bijection_onto_the_named_corner() {
        let (w, h) = (5u32, 3u32);
        // (orientation, stored corner shown at displayed top-left)
        let corners = [
            (1, (0, 0)),
            (2, (w - 1, 0)),
            (3, (w - 1, h - 1)),
            (4, (0, h - 1)),
            (5, (0, 0)),
            (6, (0, h - 1)),
            (7, (w - 1, h - 1)),
            (8, (w - 1, 0)),
        ];
        for (v, corner) in corners {
            let o = Orientation::from_exif(v).unwrap();
            let (dw, dh) = o.displayed_size(w, h);
            let mut seen = vec![false; (w * h) as usize];
            for dy in 0..dh {
                for dx in 0..dw {
                    let (sx, sy) = o.stored_position(dx, dy, w, h);
                    assert!(sx < w && sy < h);
                    assert!(!std::mem::replace(&mut seen[(sy * w + sx) as usize], true));
                }
            }
            assert_eq!(o.stored_position(0, 0, w, h), corner, "orientation {v}");
        }
    }

    #[test]
    fn stored_step_is_the_move_to_the_next_displayed_pixel() {
        let (w, h) = (5u32, 3u32);
        for v in 1..=8 {
            let o = Orientation::from_exif(v).unwrap();
            let (dw, dh) = o.displayed_size(w, h);
            for dy in 0..dh {
                for dx in 0..dw - 1 {
                    let (x0, y0) = o.stored_position(dx, dy, w, h);
                    let (x1, y1) = o.stored_position(dx + 1, dy, w, h);
                    let moved = (x1 as i32 - x0 as i32, y1 as i32 - y0 as i32);
                    assert_eq!(moved, o.stored_step(), "orientation {v}");
                }
            }
        }
    }
}
