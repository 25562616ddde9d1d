//! Stage 7: renditions to bytes. Nothing but pixels is written: no EXIF, no text
//! chunks, no comments, no ICC profile — so metadata is stripped by construction.
//!
//! JPEG: our own baseline encoder ([`jpeg`]), 4:2:0 with box-averaged chroma, the
//! standard Huffman tables (see DESIGN.md for why not progressive or optimised tables).
//! PNG: the `png` crate with `Compression::Fast` (fdeflate) and adaptive filtering.

mod jpeg;

use crate::alloc::try_with_capacity;
use crate::canvas::Square;
use crate::error::Rejection;
use crate::sniff::Format;

/// Encodes a square as `format` (JPEG for RGB, PNG for RGBA; GIF is not a still
/// rendition format).
pub(crate) fn encode(sq: &Square, format: Format, quality: u8) -> Result<Vec<u8>, Rejection> {
    match format {
        Format::Jpeg => jpeg::encode(sq, quality),
        Format::Png => png(sq),
        Format::Gif => Err(Rejection::internal("GIF is not a still rendition format")),
    }
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
