//! Pixels of one MCU row (16 image rows) to level-shifted YCbCr planes, chroma
//! box-averaged over 2×2 pixels for 4:2:0.
//!
//! JFIF's conversion (BT.601 full range), in `f32` straight into the DCT: no rounding to
//! 8 bits in between. Chroma is converted from the 2×2 average of R, G and B, which
//! equals the average of the four pixels' Cb and Cr because the conversion is linear.
//! Columns and rows past the image edge repeat the last ones, as libjpeg pads.

/// 16 luma rows and 8 rows of each chroma plane for one MCU row, `Y − 128`, `Cb − 128`
/// and `Cr − 128`.
pub(super) struct McuRow {
    /// Padded width in pixels: the image width rounded up to 16.
    pub width: usize,
    /// `16 × width` luma samples, row-major.
    pub y: Vec<f32>,
    /// `8 × width / 2` blue-difference samples.
    pub cb: Vec<f32>,
    /// `8 × width / 2` red-difference samples.
    pub cr: Vec<f32>,
    /// One source row widened to `width` pixels, for images whose width is not a
    /// multiple of 16.
    padded: [Vec<u8>; 2],
    /// Vertical sums of two rows, per byte.
    sums: Vec<u16>,
}

impl McuRow {
    /// Buffers for an image `width` pixels wide with `channels` bytes per pixel.
    pub(super) fn new(width: usize, channels: usize) -> Self {
        let width = width.next_multiple_of(16);
        let row_buffer = || vec![0; width * channels];
        McuRow {
            width,
            y: vec![0.0; 16 * width],
            cb: vec![0.0; 8 * width / 2],
            cr: vec![0.0; 8 * width / 2],
            padded: [row_buffer(), row_buffer()],
            sums: vec![0; width * channels],
        }
    }

    /// Fills the planes from rows `top..top + 16` of `pixels`, an image `side` pixels
    /// wide and tall with `C` bytes per pixel (R, G, B first).
    #[inline(always)]
    pub(super) fn fill<const C: usize>(&mut self, pixels: &[u8], side: usize, top: usize) {
        let half = self.width / 2;
        let row_bytes = side * C;
        for pair in 0..8 {
            let [pad_a, pad_b] = &mut self.padded;
            let rows = [(top + 2 * pair, pad_a), (top + 2 * pair + 1, pad_b)];
            let [a, b] = rows.map(|(y, pad)| {
                let y = y.min(side - 1);
                let row = &pixels[y * row_bytes..(y + 1) * row_bytes];
                if row_bytes == pad.len() {
                    row
                } else {
                    pad[..row_bytes].copy_from_slice(row);
                    let mut last = [0; C];
                    last.copy_from_slice(&row[row_bytes - C..]);
                    for px in pad[row_bytes..].chunks_exact_mut(C) {
                        px.copy_from_slice(&last);
                    }
                    &pad[..]
                }
            });
            let (y_a, y_b) =
                self.y[2 * pair * self.width..(2 * pair + 2) * self.width].split_at_mut(self.width);
            let cb = &mut self.cb[pair * half..(pair + 1) * half];
            let cr = &mut self.cr[pair * half..(pair + 1) * half];
            convert_pair::<C>(a, b, y_a, y_b, cb, cr, &mut self.sums);
        }
    }
}

/// Two image rows `a` and `b` (equal length, a multiple of `2 × C` bytes) to their luma
/// rows and one row of each subsampled chroma plane. Plain loops over one output each,
/// which the compiler vectorises; `sums` is scratch as long as a row.
#[inline(always)]
fn convert_pair<const C: usize>(
    a: &[u8],
    b: &[u8],
    y_a: &mut [f32],
    y_b: &mut [f32],
    cb: &mut [f32],
    cr: &mut [f32],
    sums: &mut [u16],
) {
    for (row, y) in [(a, y_a), (b, y_b)] {
        for (p, y) in row.chunks_exact(C).zip(y.iter_mut()) {
            *y =
                0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2]) - 128.0;
        }
    }
    for ((s, &a), &b) in sums.iter_mut().zip(a).zip(b) {
        *s = u16::from(a) + u16::from(b);
    }
    for ((quad, cb), cr) in sums
        .chunks_exact(2 * C)
        .zip(cb.iter_mut())
        .zip(cr.iter_mut())
    {
        let r = f32::from(quad[0] + quad[C]) * 0.25;
        let g = f32::from(quad[1] + quad[C + 1]) * 0.25;
        let b = f32::from(quad[2] + quad[C + 2]) * 0.25;
        *cb = -0.168_736 * r - 0.331_264 * g + 0.5 * b;
        *cr = 0.5 * r - 0.418_688 * g - 0.081_312 * b;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grey_is_zero_chroma_and_pads_repeat_the_edge() {
        // 3×3 RGB: a white column on the right, the rest mid grey; 16 rows of MCU from
        // 3 image rows, 16 columns from 3.
        let mut px = [128u8; 27];
        for y in 0..3 {
            px[y * 9 + 6..y * 9 + 9].copy_from_slice(&[255, 255, 255]);
        }
        let mut mcu = McuRow::new(3, 3);
        mcu.fill::<3>(&px, 3, 0);
        assert_eq!(mcu.width, 16);
        for row in mcu.y.chunks_exact(16) {
            assert_eq!(&row[..2], &[0.0, 0.0]);
            // Column 2 is white and columns 3..16 repeat it.
            for &v in &row[2..] {
                assert!((v - 127.0).abs() < 1e-3, "{v}");
            }
        }
        for v in mcu.cb.iter().chain(&mcu.cr) {
            assert!(v.abs() < 1e-3, "{v}");
        }
    }

    #[test]
    fn chroma_is_the_average_of_four_pixels_and_alpha_is_ignored() {
        // 16×16 RGBA: red on even columns, blue on odd ones, alpha varying.
        let px: Vec<u8> = (0..256)
            .flat_map(|i| {
                if i % 2 == 0 {
                    [255, 0, 0, i as u8]
                } else {
                    [0, 0, 255, 7]
                }
            })
            .collect();
        let mut mcu = McuRow::new(16, 4);
        mcu.fill::<4>(&px, 16, 0);
        let (r, b) = (127.5f32, 127.5f32);
        let cb = -0.168_736 * r + 0.5 * b;
        let cr = 0.5 * r - 0.081_312 * b;
        assert!(mcu.cb.iter().all(|v| (v - cb).abs() < 1e-3));
        assert!(mcu.cr.iter().all(|v| (v - cr).abs() < 1e-3));
        assert!((mcu.y[0] - (0.299 * 255.0 - 128.0)).abs() < 1e-3);
        assert!((mcu.y[1] - (0.114 * 255.0 - 128.0)).abs() < 1e-3);
    }
}
