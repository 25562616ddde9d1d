//! Stage 7: renditions to bytes. Nothing but pixels is written: no EXIF, no text
//! chunks, no comments, no ICC profile — so metadata is stripped by construction.
//!
//! JPEG: our own baseline encoder ([`jpeg`]): 4:2:0 with box-averaged chroma and the
//! standard Huffman tables for large squares, coded in strips in parallel; 4:4:4 and
//! tables made for the image for small ones (see DESIGN.md for why not progressive).
//! PNG: our own encoder ([`png`]): per-row adaptive filters, strips deflated in
//! parallel. Both cut the square into strips of rows with [`strips`] and run them with
//! [`each_strip`].

mod jpeg;
pub(crate) mod png;

use rayon::prelude::*;

use crate::canvas::Square;
use crate::error::Error;
use crate::sniff::Format;

/// Encodes a square as `format` (JPEG for RGB, PNG for RGBA; GIF is not a still
/// rendition format).
pub(crate) fn encode(sq: &Square, format: Format, quality: u8) -> Result<Vec<u8>, Error> {
    match format {
        Format::Jpeg => jpeg::encode(sq, quality),
        Format::Png => png::encode(sq),
        Format::Gif => Err(Error::internal("GIF is not a still rendition format")),
    }
}

/// The strips of a `height`-row image cut every `strip_rows` rows: (top row, rows).
pub(crate) fn strips(height: usize, strip_rows: usize) -> Vec<(usize, usize)> {
    (0..height)
        .step_by(strip_rows.max(1))
        .map(|top| (top, (height - top).min(strip_rows)))
        .collect()
}

/// `encode_strip(top, rows)` for every strip, in parallel on the current rayon pool
/// when there are several; the results in strip order, or the first failure.
pub(crate) fn each_strip<T: Send>(
    strips: &[(usize, usize)],
    encode_strip: impl Fn(usize, usize) -> Result<T, Error> + Sync,
) -> Result<Vec<T>, Error> {
    match strips {
        [(top, rows)] => Ok(vec![encode_strip(*top, *rows)?]),
        _ => strips
            .par_iter()
            .map(|&(top, rows)| encode_strip(top, rows))
            .collect(),
    }
}
