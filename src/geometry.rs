//! Stage 5 (the arithmetic only): where the displayed image lands on the square.
//!
//! Pure integer math in `u64`, so crop boxes up to `u32::MAX` cannot overflow.

use crate::error::Error;
use crate::upload::CropBox;

/// Which displayed rectangle goes where on a `side`×`side` square.
///
/// With a crop box the rectangle is the box and fills the square; without one it is
/// the whole image, centred (letterboxed) on a square of side `max(width, height)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    /// Side of the square, in pixels.
    pub side: u32,
    /// Left edge of the source rectangle, in displayed pixels.
    pub src_x: u32,
    /// Top edge of the source rectangle, in displayed pixels.
    pub src_y: u32,
    /// Width of the source rectangle (and of its copy on the square).
    pub src_w: u32,
    /// Height of the source rectangle (and of its copy on the square).
    pub src_h: u32,
    /// Left edge of the copy on the square.
    pub dst_x: u32,
    /// Top edge of the copy on the square.
    pub dst_y: u32,
}

impl Placement {
    /// Whether the square has bars (pixels not covered by the image).
    pub fn is_letterboxed(&self) -> bool {
        self.src_w != self.side || self.src_h != self.side
    }

    /// Whether the square is the whole displayed `width`×`height` image as it is: not
    /// cropped, not letterboxed (so the image is itself square).
    pub fn is_whole(&self, width: u32, height: u32) -> bool {
        !self.is_letterboxed()
            && self.src_x == 0
            && self.src_y == 0
            && self.side == width
            && self.side == height
    }
}

/// Places a displayed `width`×`height` image on a square, cropped by `crop` if given.
///
/// # Errors
/// `invalid_arguments` if the crop box is empty or does not lie wholly inside the image.
pub fn place(width: u32, height: u32, crop: Option<CropBox>) -> Result<Placement, Error> {
    let Some(c) = crop else {
        let side = width.max(height);
        return Ok(Placement {
            side,
            src_x: 0,
            src_y: 0,
            src_w: width,
            src_h: height,
            dst_x: (side - width) / 2,
            dst_y: (side - height) / 2,
        });
    };
    if c.w == 0 {
        return Err(Error::invalid_arguments("crop_w must be at least 1"));
    }
    let fits = |at: u32, extent: u32| u64::from(at) + u64::from(c.w) <= u64::from(extent);
    if !fits(c.x, width) || !fits(c.y, height) {
        return Err(Error::invalid_arguments(format!(
            "crop box {}x{} at ({}, {}) does not fit inside the {}x{} image as displayed",
            c.w, c.w, c.x, c.y, width, height
        )));
    }
    Ok(Placement {
        side: c.w,
        src_x: c.x,
        src_y: c.y,
        src_w: c.w,
        src_h: c.w,
        dst_x: 0,
        dst_y: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn letterbox_centres_on_the_long_side() {
        let p = place(800, 600, None).unwrap();
        assert_eq!(
            (p.side, p.dst_x, p.dst_y, p.src_w, p.src_h),
            (800, 0, 100, 800, 600)
        );
        let p = place(601, 1024, None).unwrap();
        assert_eq!((p.side, p.dst_x, p.dst_y), (1024, 211, 0));
        assert!(!place(512, 512, None).unwrap().is_letterboxed());
    }

    #[test]
    fn crop_edges() {
        assert!(place(
            800,
            600,
            Some(CropBox {
                x: 200,
                y: 0,
                w: 600
            })
        )
        .is_ok());
        for c in [
            CropBox {
                x: 201,
                y: 0,
                w: 600,
            },
            CropBox { x: 0, y: 1, w: 600 },
            CropBox { x: 0, y: 0, w: 0 },
            CropBox {
                x: u32::MAX,
                y: u32::MAX,
                w: u32::MAX,
            },
            CropBox {
                x: 1,
                y: 0,
                w: u32::MAX,
            },
        ] {
            assert_eq!(
                place(800, 600, Some(c)).unwrap_err().code(),
                "invalid_arguments"
            );
        }
    }

    proptest! {
        /// The copied rectangle lies inside both the image and the square, is centred
        /// (bars differ by at most one pixel) and the square is as small as it can be.
        #[test]
        fn letterbox_invariants(w in 1u32..5000, h in 1u32..5000) {
            let p = place(w, h, None).unwrap();
            prop_assert_eq!(p.side, w.max(h));
            prop_assert_eq!((p.src_w, p.src_h), (w, h));
            prop_assert!(p.dst_x + p.src_w <= p.side && p.dst_y + p.src_h <= p.side);
            let (left, right) = (p.dst_x, p.side - p.dst_x - p.src_w);
            let (top, bottom) = (p.dst_y, p.side - p.dst_y - p.src_h);
            prop_assert!(right - left <= 1 && bottom - top <= 1);
            prop_assert!(left == 0 || top == 0);
        }

        /// A crop is accepted exactly when the square fits, and then fills the square.
        #[test]
        fn crop_invariants(w in 1u32..5000, h in 1u32..5000,
                           x in any::<u32>(), y in any::<u32>(), s in any::<u32>()) {
            let fits = s >= 1 && u64::from(x) + u64::from(s) <= u64::from(w)
                && u64::from(y) + u64::from(s) <= u64::from(h);
            match place(w, h, Some(CropBox { x, y, w: s })) {
                Ok(p) => {
                    prop_assert!(fits);
                    prop_assert_eq!((p.side, p.src_w, p.src_h, p.dst_x, p.dst_y), (s, s, s, 0, 0));
                    prop_assert!(!p.is_letterboxed());
                }
                Err(e) => {
                    prop_assert!(!fits);
                    prop_assert_eq!(e.code(), "invalid_arguments");
                }
            }
        }
    }
}
