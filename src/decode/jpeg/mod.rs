//! JPEG, always to RGB: the common sequential YCbCr or gray file by our own two-task
//! decoder ([`pipelined`]), the same frames coded progressively by [`progressive`],
//! everything else by zune-jpeg (pinned to a release that
//! decodes optimised-Huffman files correctly; see PITFALLS in DESIGN.md).
//!
//! Grayscale is expanded to RGB. CMYK and YCCK (Adobe APP14) frames are decoded by
//! zune-jpeg: to their inks and through their embedded CMYK profile when the caller
//! has one ([`Inks`]), else to RGB by zune's naive inversion (Adobe's inverted-CMYK
//! convention, as browsers show untagged CMYK).

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

use super::{Consumed, Pixels};
use crate::alloc::try_zeroed;
use crate::colour::Inks;
use crate::error::Rejection;
use crate::probe::SourceInfo;

/// The pixels, and for the common sequential file that our own decoder took, the byte
/// ranges of `bytes` its scan was decoded from (one per restart interval): what a
/// pass-through may copy, and nothing else.
pub(super) fn decode(
    bytes: &[u8],
    info: &SourceInfo,
    inks: Option<&Inks>,
) -> Result<(Pixels, Option<Consumed>), Rejection> {
    let (width, height) = (info.stored_width, info.stored_height);
    if let Some((pixels, consumed)) = pipelined::decode(bytes, width, height)? {
        return Ok((pixels, Some(consumed)));
    }
    if let Some(pixels) = progressive::decode(bytes, width, height)? {
        return Ok((pixels, None));
    }
    Ok((decode_with_zune(bytes, info, inks)?, None))
}

/// Any JPEG the probe accepted, by zune-jpeg. A four-component frame is decoded to its
/// inks and converted by `inks` when given.
fn decode_with_zune(
    bytes: &[u8],
    info: &SourceInfo,
    inks: Option<&Inks>,
) -> Result<Pixels, Rejection> {
    let decoder = |out: ColorSpace| {
        let options = DecoderOptions::default()
            .set_max_width(info.stored_width as usize)
            .set_max_height(info.stored_height as usize)
            .set_strict_mode(true)
            .jpeg_set_out_colorspace(out);
        JpegDecoder::new_with_options(ZCursor::new(bytes), options)
    };
    let mut rgb = decoder(ColorSpace::RGB);
    rgb.decode_headers().map_err(zune_error)?;
    let (width, height) = rgb
        .info()
        .map(|i| (usize::from(i.width), usize::from(i.height)))
        .ok_or_else(|| Rejection::bad_image("JPEG: decoder found no frame header"))?;
    let four = matches!(
        rgb.input_colorspace(),
        Some(ColorSpace::CMYK | ColorSpace::YCCK)
    );
    if let (Some(inks), true) = (inks, four) {
        let mut cmyk = decoder(ColorSpace::CMYK);
        let stored = decode_all(&mut cmyk, width * height * 4, "CMYK")?;
        // The decoder's own buffers are gone before the RGB one is taken.
        drop(cmyk);
        let mut data = try_zeroed(width * height * 3, "decoded JPEG")?;
        inks.to_rgb(&stored, &mut data, width);
        return Ok(Pixels {
            width: width as u32,
            height: height as u32,
            channels: 3,
            data,
        });
    }
    let data = decode_all(&mut rgb, width * height * 3, "RGB")?;
    Ok(Pixels {
        width: width as u32,
        height: height as u32,
        channels: 3,
        data,
    })
}

/// zune-jpeg's error as the upload's fault.
fn zune_error(e: zune_jpeg::errors::DecodeErrors) -> Rejection {
    Rejection::bad_image(format!("JPEG: {e}")).with_source(e)
}

/// Decodes the whole frame of `decoder` (headers read or not) into a new buffer, which
/// must be `len` bytes of 8-bit `what`.
fn decode_all(
    decoder: &mut JpegDecoder<ZCursor<&[u8]>>,
    len: usize,
    what: &str,
) -> Result<Vec<u8>, Rejection> {
    decoder.decode_headers().map_err(zune_error)?;
    let size = decoder
        .output_buffer_size()
        .ok_or_else(|| Rejection::bad_image("JPEG: decoder could not size its output"))?;
    if size != len {
        return Err(Rejection::bad_image(format!(
            "JPEG: decoder output is not 8-bit {what}"
        )));
    }
    let mut data = try_zeroed(len, "decoded JPEG")?;
    decoder.decode_into(&mut data).map_err(zune_error)?;
    Ok(data)
}
