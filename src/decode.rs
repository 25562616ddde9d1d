//! Stage 4: pixels, decoded under limits the probe and policy already fixed.
//!
//! Every decoder is told the exact stored size the probe read; a decoder that
//! disagrees (a second frame header, a lying IHDR) is `bad_image`. Output is always
//! 8-bit sRGB-ordered RGB or RGBA.

pub(crate) mod gif;
mod jpeg;
mod png;

use crate::colour::Inks;
use crate::error::Error;
use crate::probe::SourceInfo;
use crate::sniff::Format;

/// A decoded image in stored orientation: 8-bit RGB (3 channels) or RGBA (4), rows
/// top to bottom with no padding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pixels {
    /// Stored width, in pixels.
    pub width: u32,
    /// Stored height, in pixels.
    pub height: u32,
    /// 3 (RGB) or 4 (RGBA).
    pub channels: usize,
    /// `width * height * channels` bytes.
    pub data: Vec<u8>,
}

impl Pixels {
    /// Whether any pixel is not fully opaque.
    pub fn has_transparency(&self) -> bool {
        self.channels == 4 && self.data.chunks_exact(4).any(|p| p[3] != 255)
    }
}

/// Bytes one decoded RGBA pixel grid of the stored size takes: what each decoder may
/// spend on its output, plus an allowance for its own state.
pub(crate) fn decode_budget(info: &SourceInfo) -> u64 {
    let pixels = u64::from(info.stored_width) * u64::from(info.stored_height);
    // Output (<= 4 B/px) plus decoder-internal planes or coefficients (<= 8 B/px for
    // progressive JPEG and interlaced PNG), plus 1 MiB of tables and buffers.
    pixels * 12 + (1 << 20)
}

/// Decodes the first (or only) image of `bytes`, whose header facts are `info`. A CMYK
/// or YCCK JPEG's inks become RGB by `inks` (its embedded profile) when given, else by
/// the decoder's naive inversion.
///
/// # Errors
/// `bad_image` for corrupt data or a decoder that disagrees with the header;
/// `too_large` if a buffer cannot be allocated.
pub(crate) fn decode(
    bytes: &[u8],
    info: &SourceInfo,
    inks: Option<&Inks>,
) -> Result<Pixels, Error> {
    let pixels = match info.format {
        Format::Jpeg => jpeg::decode(bytes, info, inks)?,
        Format::Png => png::decode(bytes, info)?,
        Format::Gif => gif::decode_first_frame(bytes, info)?,
    };
    if (pixels.width, pixels.height) != (info.stored_width, info.stored_height) {
        return Err(Error::bad_image(format!(
            "{}: decoder produced {}x{} where the header says {}x{}",
            info.format, pixels.width, pixels.height, info.stored_width, info.stored_height
        )));
    }
    debug_assert_eq!(
        pixels.data.len(),
        pixels.width as usize * pixels.height as usize * pixels.channels
    );
    Ok(pixels)
}
