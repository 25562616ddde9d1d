//! Stage 7: renditions to bytes. Nothing but pixels is written: no EXIF, no text
//! chunks, no comments, no ICC profile — so metadata is stripped by construction.
//!
//! JPEG: jpeg-encoder, baseline, 4:2:0 (box-averaged chroma), standard Huffman tables (see DESIGN.md for why
//! not progressive or optimised tables). PNG: the `png` crate with
//! `Compression::Fast` (fdeflate) and adaptive filtering, RGBA 8-bit.

use jpeg_encoder::{ChromaSubsamplingMethod, ColorType, Encoder, SamplingFactor};

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

fn jpeg(sq: &Square, quality: u8) -> Result<Vec<u8>, Rejection> {
    let side = u16::try_from(sq.side)
        .map_err(|_| Rejection::internal(format!("JPEG side {} exceeds 65535", sq.side)))?;
    let color = match sq.channels {
        3 => ColorType::Rgb,
        _ => ColorType::Rgba,
    };
    // A q85 4:2:0 photo is ~1 bit per pixel; reserve 1.5 to rarely grow.
    let pixels = sq.side as usize * sq.side as usize;
    let mut out = try_with_capacity(pixels * 3 / 16 + 1024, "JPEG output")?;
    let mut encoder = Encoder::new(&mut out, quality);
    encoder.set_sampling_factor(SamplingFactor::F_2_2);
    // Box-average chroma like libjpeg: +0.6–2 dB over the default Nearest, most
    // visible at the small sizes, for ~20% more encode time.
    encoder.set_chroma_subsampling_method(ChromaSubsamplingMethod::Average);
    encoder
        .encode(&sq.data, side, side, color)
        .map_err(|e| Rejection::internal(format!("JPEG encoder: {e}")))?;
    Ok(out)
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
