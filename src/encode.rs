//! Stage 7: renditions to bytes. Nothing but pixels is written: no EXIF, no text
//! chunks, no comments, no ICC profile — so metadata is stripped by construction.
//!
//! JPEG: jpeg-encoder, baseline, 4:2:0 (box-averaged chroma), standard Huffman tables (see DESIGN.md for why
//! not progressive or optimised tables). PNG: the `png` crate with
//! `Compression::Fast` (fdeflate) and adaptive filtering, RGBA 8-bit.

use jpeg_encoder::{ChromaSubsamplingMethod, ColorType, Encoder, SamplingFactor};

use rayon::prelude::*;

use crate::alloc::try_with_capacity;
use crate::canvas::Square;
use crate::error::Rejection;
use crate::sniff::Format;

/// Encodes a square as `format` (JPEG for RGB, PNG for RGBA; GIF is not a still
/// rendition format).
pub(crate) fn encode(sq: &Square, format: Format, quality: u8) -> Result<Vec<u8>, Rejection> {
    match format {
        Format::Jpeg => jpeg(sq, quality),
        Format::Png => png(sq),
        Format::Gif => Err(Rejection::internal("GIF is not a still rendition format")),
    }
}

/// Rows per independently encoded JPEG strip: a multiple of the 16-row 4:2:0 MCU.
/// Squares taller than this are cut into strips that encode in parallel and are
/// spliced at restart markers (see [`splice_strips`]); the output does not depend on
/// the thread count.
pub const JPEG_STRIP_ROWS: u32 = 256;

fn jpeg(sq: &Square, quality: u8) -> Result<Vec<u8>, Rejection> {
    let side = u16::try_from(sq.side)
        .map_err(|_| Rejection::internal(format!("JPEG side {} exceeds 65535", sq.side)))?;
    if sq.side <= JPEG_STRIP_ROWS {
        return jpeg_rows(sq, 0, side, quality, None);
    }
    // Restart interval = MCUs per strip: at most 1024 columns × 16 rows for a 16384
    // side, well inside u16.
    let mcus_per_strip = (sq.side.div_ceil(16) * (JPEG_STRIP_ROWS / 16)) as u16;
    let strips: Vec<(u16, u16)> = (0..side)
        .step_by(JPEG_STRIP_ROWS as usize)
        .map(|y| (y, (side - y).min(JPEG_STRIP_ROWS as u16)))
        .collect();
    let parts: Vec<Result<Vec<u8>, Rejection>> = strips
        .par_iter()
        .map(|&(y, rows)| jpeg_rows(sq, y, rows, quality, Some(mcus_per_strip)))
        .collect();
    let parts = parts.into_iter().collect::<Result<Vec<_>, _>>()?;
    splice_strips(&parts, side)
}

/// Encodes rows `y..y + rows` of `sq` as a complete JPEG of `rows` lines, with
/// `restart` MCUs between restart markers if given.
fn jpeg_rows(
    sq: &Square,
    y: u16,
    rows: u16,
    quality: u8,
    restart: Option<u16>,
) -> Result<Vec<u8>, Rejection> {
    let color = match sq.channels {
        3 => ColorType::Rgb,
        _ => ColorType::Rgba,
    };
    let row_bytes = sq.side as usize * sq.channels;
    let data = &sq.data[usize::from(y) * row_bytes..usize::from(y + rows) * row_bytes];
    // A q85 4:2:0 photo is ~1 bit per pixel; reserve 1.5 to rarely grow.
    let pixels = sq.side as usize * usize::from(rows);
    let mut out = try_with_capacity(pixels * 3 / 16 + 1024, "JPEG output")?;
    let mut encoder = Encoder::new(&mut out, quality);
    encoder.set_sampling_factor(SamplingFactor::F_2_2);
    // Box-average chroma like libjpeg: +0.6–2 dB over the default Nearest, most
    // visible at the small sizes, for ~20% more encode time.
    encoder.set_chroma_subsampling_method(ChromaSubsamplingMethod::Average);
    if let Some(interval) = restart {
        encoder.set_restart_interval(interval);
    }
    encoder
        .encode(data, sq.side as u16, rows, color)
        .map_err(|e| Rejection::internal(format!("JPEG encoder: {e}")))?;
    Ok(out)
}

/// Joins JPEG strips of one image, each a whole file encoded with the restart interval
/// equal to its MCU count, into one file of `height` lines: the first strip with its
/// frame height patched, then for every later strip `RSTn` and its entropy-coded data.
/// Restart markers reset the DC predictors, so each strip's data decodes exactly as if
/// the image had been encoded in one pass with that restart interval.
fn splice_strips(parts: &[Vec<u8>], height: u16) -> Result<Vec<u8>, Rejection> {
    let bad = || Rejection::internal("JPEG strip splice: unexpected encoder output");
    let first = parts.first().ok_or_else(bad)?;
    let total: usize = parts.iter().map(Vec::len).sum();
    let mut out = try_with_capacity(total, "JPEG output")?;
    let (sof, data) = frame_and_scan(first).ok_or_else(bad)?;
    out.extend_from_slice(&first[..data.end]);
    // SOF0: FF C0, length (2), precision (1), height (2).
    out[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    for (k, part) in parts.iter().enumerate().skip(1) {
        let (_, data) = frame_and_scan(part).ok_or_else(bad)?;
        out.extend_from_slice(&[0xFF, 0xD0 + ((k - 1) % 8) as u8]);
        out.extend_from_slice(&part[data]);
    }
    out.extend_from_slice(&[0xFF, 0xD9]);
    Ok(out)
}

/// In one encoder-written JPEG: the offset of its SOF0 marker and the range of its
/// single scan's entropy-coded data (from after the SOS header to before EOI).
fn frame_and_scan(jpeg: &[u8]) -> Option<(usize, std::ops::Range<usize>)> {
    let mut sof = None;
    let mut pos = 2;
    while jpeg.get(pos)? == &0xFF {
        let marker = *jpeg.get(pos + 1)?;
        let len = usize::from(u16::from_be_bytes([
            *jpeg.get(pos + 2)?,
            *jpeg.get(pos + 3)?,
        ]));
        match marker {
            0xC0 => sof = Some(pos),
            0xDA => {
                let end = jpeg.len().checked_sub(2)?;
                let start = pos + 2 + len;
                return (jpeg.get(end..)? == [0xFF, 0xD9] && start <= end)
                    .then_some((sof?, start..end));
            }
            _ => {}
        }
        pos += 2 + len;
    }
    None
}

fn png(sq: &Square) -> Result<Vec<u8>, Rejection> {
    let fail = |e: png::EncodingError| Rejection::internal(format!("PNG encoder: {e}"));
    let mut out = try_with_capacity(sq.data.len() / 2 + 1024, "PNG output")?;
    let mut encoder = png::Encoder::new(&mut out, sq.side, sq.side);
    encoder.set_color(if sq.channels == 4 {
        png::ColorType::Rgba
    } else {
        png::ColorType::Rgb
    });
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder.write_header().map_err(fail)?;
    writer.write_image_data(&sq.data).map_err(fail)?;
    writer.finish().map_err(fail)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A square of smooth ramps and a sharp-edged checker, so every strip has detail.
    fn square(side: u32) -> Square {
        let mut data = Vec::with_capacity((side * side * 3) as usize);
        for y in 0..side {
            for x in 0..side {
                let check = if (x / 7 + y / 5) % 2 == 0 { 0 } else { 90 };
                data.extend_from_slice(&[
                    (x * 255 / side) as u8,
                    (y * 255 / side) as u8,
                    (check + (x ^ y) % 100) as u8,
                ]);
            }
        }
        Square {
            side,
            channels: 3,
            data,
        }
    }

    fn decode(jpeg: &[u8]) -> Vec<u8> {
        jpeg_decoder::Decoder::new(jpeg).decode().unwrap()
    }

    #[test]
    fn strips_splice_into_exactly_the_one_pass_file_with_restarts() {
        // 1024: four whole strips; 600: two whole strips and one of 88 rows, whose last
        // MCU row is padded; 257: one row past a strip.
        for side in [1024, 600, 257] {
            let sq = square(side);
            let strips = jpeg(&sq, 85).unwrap();
            let interval = (side.div_ceil(16) * JPEG_STRIP_ROWS / 16) as u16;
            let one_pass = jpeg_rows(&sq, 0, side as u16, 85, Some(interval)).unwrap();
            assert!(strips == one_pass, "side {side}");
            let plain = jpeg_rows(&sq, 0, side as u16, 85, None).unwrap();
            assert_eq!(decode(&strips), decode(&plain), "side {side}");
            let restarts = strips
                .windows(2)
                .filter(|w| w[0] == 0xFF && (0xD0..=0xD7).contains(&w[1]))
                .count();
            assert_eq!(restarts, side.div_ceil(JPEG_STRIP_ROWS) as usize - 1);
            // Restart markers and DC resets cost bytes, not percent.
            assert!(strips.len() < plain.len() * 1001 / 1000, "side {side}");
        }
    }

    #[test]
    fn small_squares_are_one_pass() {
        let sq = square(JPEG_STRIP_ROWS);
        assert_eq!(
            jpeg(&sq, 85).unwrap(),
            jpeg_rows(&sq, 0, JPEG_STRIP_ROWS as u16, 85, None).unwrap()
        );
    }
}
