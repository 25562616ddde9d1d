//! Component planes to interleaved RGB: chroma upsampling and YCbCr → RGB.
//!
//! Chroma sampled at half the luma rate is upsampled with the triangle ("fancy")
//! filter libjpeg uses by default: each output sample is ¾ of the nearest chroma
//! sample and ¼ of the next one beyond it, in each direction that was subsampled;
//! edges repeat the outermost sample. The colour conversion is JFIF's (BT.601 full
//! range) in 16-bit fixed point, as libjpeg computes it.

use crate::alloc::try_zeroed;
use crate::error::Rejection;

/// The decoded planes of one image, padded to whole MCUs.
pub(super) struct Planes {
    pub luma: Vec<u8>,
    pub luma_stride: usize,
    /// Cb and Cr; empty for a gray image.
    pub chroma: [Vec<u8>; 2],
    pub chroma_stride: usize,
    /// Chroma samples that belong to the image (not MCU padding), across and down.
    pub chroma_width: usize,
    pub chroma_height: usize,
    /// Luma samples per chroma sample across and down: 1 or 2.
    pub h: usize,
    pub v: usize,
}

impl Planes {
    /// Zeroed planes for a `width`×`height` image of `mcus` (across, down) MCUs whose
    /// luma is sampled `sampling` (h, v: 1 or 2 each) times the chroma; no chroma
    /// planes when `gray`.
    ///
    /// # Errors
    /// `too_large` if a plane cannot be allocated.
    pub fn allocate(
        (width, height): (usize, usize),
        (h, v): (usize, usize),
        (mcus_across, mcu_rows): (usize, usize),
        gray: bool,
    ) -> Result<Planes, Rejection> {
        let luma_stride = mcus_across * h * 8;
        let chroma_stride = mcus_across * 8;
        Ok(Planes {
            luma: try_zeroed(luma_stride * mcu_rows * v * 8, "JPEG luma plane")?,
            luma_stride,
            chroma: if gray {
                Default::default()
            } else {
                let len = chroma_stride * mcu_rows * 8;
                [
                    try_zeroed(len, "JPEG Cb plane")?,
                    try_zeroed(len, "JPEG Cr plane")?,
                ]
            },
            chroma_stride,
            chroma_width: width.div_ceil(h),
            chroma_height: height.div_ceil(v),
            h,
            v,
        })
    }
}

/// Scratch for one row: vertically filtered chroma (scaled by 4) and upsampled.
pub(super) struct RowScratch {
    sums: Vec<u16>,
    upsampled: [Vec<u8>; 2],
}

impl RowScratch {
    pub fn new(planes: &Planes) -> Self {
        let wide = planes.chroma_width * planes.h;
        RowScratch {
            sums: vec![0; planes.chroma_width],
            upsampled: [vec![0; wide], vec![0; wide]],
        }
    }
}

const fn fixed16(x: f64) -> i32 {
    (x * 65536.0 + 0.5) as i32
}

/// Writes image rows `rows` of `width` pixels as RGB into `out` (which holds just
/// those rows). The chroma rows they need must be decoded.
#[inline(always)]
pub(super) fn convert_rows(
    planes: &Planes,
    scratch: &mut RowScratch,
    width: usize,
    rows: std::ops::Range<usize>,
    out: &mut [u8],
) {
    for (y, out) in rows.zip(out.chunks_exact_mut(3 * width)) {
        let luma = &planes.luma[y * planes.luma_stride..][..width];
        if planes.chroma[0].is_empty() {
            for (px, &l) in out.chunks_exact_mut(3).zip(luma) {
                px.fill(l);
            }
            continue;
        }
        for (plane, upsampled) in planes.chroma.iter().zip(&mut scratch.upsampled) {
            upsample_row(planes, plane, y, &mut scratch.sums, upsampled);
        }
        ycbcr_row(
            luma,
            &scratch.upsampled[0][..width],
            &scratch.upsampled[1][..width],
            out,
        );
    }
}

/// The chroma of image row `y` from `plane`, at luma resolution.
#[inline(always)]
fn upsample_row(planes: &Planes, plane: &[u8], y: usize, sums: &mut [u16], out: &mut [u8]) {
    let row = |cy: usize| &plane[cy * planes.chroma_stride..][..planes.chroma_width];
    // Vertical: 3·nearest + next beyond, or 4·same.
    if planes.v == 2 {
        let cy = y / 2;
        let beyond = if y.is_multiple_of(2) {
            cy.saturating_sub(1)
        } else {
            (cy + 1).min(planes.chroma_height - 1)
        };
        for ((s, &n), &b) in sums.iter_mut().zip(row(cy)).zip(row(beyond)) {
            *s = 3 * u16::from(n) + u16::from(b);
        }
    } else {
        for (s, &n) in sums.iter_mut().zip(row(y)) {
            *s = 4 * u16::from(n);
        }
    }
    // Horizontal: the same, then /16 rounding (alternately down and up, as libjpeg).
    if planes.h == 2 {
        let last = sums.len() - 1;
        let left = |i: usize| sums[i.saturating_sub(1)];
        let right = |i: usize| sums[(i + 1).min(last)];
        let (first_pair, rest) = out.split_at_mut(2);
        first_pair[0] = ((3 * sums[0] + left(0) + 8) >> 4) as u8;
        first_pair[1] = ((3 * sums[0] + right(0) + 7) >> 4) as u8;
        if last > 0 {
            for (pair, w) in rest.chunks_exact_mut(2).zip(sums.windows(3)) {
                pair[0] = ((3 * w[1] + w[0] + 8) >> 4) as u8;
                pair[1] = ((3 * w[1] + w[2] + 7) >> 4) as u8;
            }
            let pair = &mut out[2 * last..2 * last + 2];
            pair[0] = ((3 * sums[last] + left(last) + 8) >> 4) as u8;
            pair[1] = ((3 * sums[last] + right(last) + 7) >> 4) as u8;
        }
    } else {
        for (o, &s) in out.iter_mut().zip(sums.iter()) {
            *o = ((s + 2) >> 2) as u8;
        }
    }
}

/// One row of YCbCr samples to RGB.
#[inline(always)]
fn ycbcr_row(luma: &[u8], cb: &[u8], cr: &[u8], out: &mut [u8]) {
    const CR_R: i32 = fixed16(1.402);
    const CB_G: i32 = -fixed16(0.344_136);
    const CR_G: i32 = -fixed16(0.714_136);
    const CB_B: i32 = fixed16(1.772);
    const HALF: i32 = 1 << 15;
    for (((px, &y), &cb), &cr) in out.chunks_exact_mut(3).zip(luma).zip(cb).zip(cr) {
        let (y, cb, cr) = (i32::from(y), i32::from(cb) - 128, i32::from(cr) - 128);
        px[0] = (y + ((CR_R * cr + HALF) >> 16)).clamp(0, 255) as u8;
        px[1] = (y + ((CB_G * cb + CR_G * cr + HALF) >> 16)).clamp(0, 255) as u8;
        px[2] = (y + ((CB_B * cb + HALF) >> 16)).clamp(0, 255) as u8;
    }
}
