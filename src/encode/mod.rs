//! Stage 7: renditions to bytes. Nothing but pixels is written: no EXIF, no text
//! chunks, no comments, no ICC profile — so metadata is stripped by construction.
//!
//! JPEG: our own baseline encoder ([`jpeg`]), 4:2:0 with box-averaged chroma, the
//! standard Huffman tables (see DESIGN.md for why not progressive or optimised tables).
//! PNG: our own encoder ([`png`]): per-row adaptive filters, strips deflated in
//! parallel.

mod jpeg;
pub(crate) mod png;

use crate::canvas::Square;
use crate::error::Rejection;
use crate::sniff::Format;

/// Encodes a square as `format` (JPEG for RGB, PNG for RGBA; GIF is not a still
/// rendition format).
pub(crate) fn encode(sq: &Square, format: Format, quality: u8) -> Result<Vec<u8>, Rejection> {
    match format {
        Format::Jpeg => jpeg::encode(sq, quality),
        Format::Png => png::encode(sq),
        Format::Gif => Err(Rejection::internal("GIF is not a still rendition format")),
    }
}
