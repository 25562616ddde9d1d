//! JPEG, always to RGB: the common sequential YCbCr or gray file by our own two-task
//! decoder ([`pipelined`]), the same frames coded progressively by [`progressive`],
//! everything else by zune-jpeg (pinned to a release that
//! decodes optimised-Huffman files correctly; see PITFALLS in DESIGN.md).
//!
//! Grayscale is expanded to RGB; CMYK and YCCK (Adobe APP14) are converted to RGB by
//! zune-jpeg, which follows Adobe's inverted-CMYK convention.

mod color;
mod entropy;
mod frame;
mod idct;
#[cfg(target_arch = "x86_64")]
mod idct_avx2;
mod pipelined;
mod progressive;
#[cfg(test)]
mod progressive_tests;
#[cfg(test)]
mod tests;

use zune_core::bytestream::ZCursor;
use zune_core::colorspace::ColorSpace;
use zune_core::options::DecoderOptions;
use zune_jpeg::JpegDecoder;

use super::Pixels;
use crate::alloc::try_zeroed;
use crate::error::Rejection;
use crate::probe::SourceInfo;

pub(super) fn decode(bytes: &[u8], info: &SourceInfo) -> Result<Pixels, Rejection> {
    let (width, height) = (info.stored_width, info.stored_height);
    if let Some(pixels) = pipelined::decode(bytes, width, height)? {
        return Ok(pixels);
    }
    if let Some(pixels) = progressive::decode(bytes, width, height)? {
        return Ok(pixels);
    }
    decode_with_zune(bytes, info)
}

/// Any JPEG the probe accepted, by zune-jpeg.
fn decode_with_zune(bytes: &[u8], info: &SourceInfo) -> Result<Pixels, Rejection> {
    let options = DecoderOptions::default()
        .set_max_width(info.stored_width as usize)
        .set_max_height(info.stored_height as usize)
        .set_strict_mode(true)
        .jpeg_set_out_colorspace(ColorSpace::RGB);
    let mut decoder = JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    let fail = |e: zune_jpeg::errors::DecodeErrors| Rejection::bad_image(format!("JPEG: {e}"));
    decoder.decode_headers().map_err(fail)?;
    let (width, height) = decoder
        .info()
        .map(|i| (usize::from(i.width), usize::from(i.height)))
        .ok_or_else(|| Rejection::bad_image("JPEG: decoder found no frame header"))?;
    let len = decoder
        .output_buffer_size()
        .ok_or_else(|| Rejection::bad_image("JPEG: decoder could not size its output"))?;
    if len != width * height * 3 {
        return Err(Rejection::bad_image(
            "JPEG: decoder output is not 8-bit RGB",
        ));
    }
    let mut data = try_zeroed(len, "decoded JPEG")?;
    decoder.decode_into(&mut data).map_err(fail)?;
    Ok(Pixels {
        width: width as u32,
        height: height as u32,
        channels: 3,
        data,
    })
}
