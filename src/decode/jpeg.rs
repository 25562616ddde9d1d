//! JPEG, always to RGB, by zune-jpeg in strict mode (pinned to a release that decodes
//! optimised-Huffman files correctly; see the decoders section of DESIGN.md).
//!
//! Grayscale is expanded to RGB. CMYK and YCCK (Adobe APP14) frames are decoded by
//! zune-jpeg: to their inks and through their embedded CMYK profile when the caller
//! has one ([`Inks`]), else to RGB by zune's naive inversion (Adobe's inverted-CMYK
//! convention, as browsers show untagged CMYK).

use zune_core::bytestream::ZCursor;
use zune_core::colorspace::ColorSpace;
use zune_core::options::DecoderOptions;
use zune_jpeg::JpegDecoder;

use super::Pixels;
use crate::alloc::{try_with_capacity, try_zeroed};
use crate::colour::Inks;
use crate::error::Error;
use crate::probe::jpeg_segments::marker::{is_metadata, APP0, APP14, SOS};
use crate::probe::jpeg_segments::Segments;
use crate::probe::SourceInfo;

/// Decodes any JPEG the probe accepted. A four-component frame is decoded to its inks
/// and converted by `inks` when given.
///
/// zune-jpeg refuses a whole file for metadata it cannot read (an `ICC_PROFILE` chunk
/// numbered 0, say, where libjpeg only ignores the profile). The engine reads every
/// profile itself and ignores a broken one, so a file whose headers zune refuses is
/// decoded again without its metadata segments (a copy of the file, within the
/// allowance of [`decode_budget`](crate::decode::decode_budget)).
pub(super) fn decode(
    bytes: &[u8],
    info: &SourceInfo,
    inks: Option<&Inks>,
) -> Result<Pixels, Error> {
    match decode_with_zune(bytes, info, inks) {
        Err(Failed::Headers(e)) => match without_metadata(bytes)? {
            Some(plain) => decode_with_zune(&plain, info, inks).map_err(Failed::rejection),
            None => Err(e),
        },
        decoded => decoded.map_err(Failed::rejection),
    }
}

/// Where zune-jpeg failed.
enum Failed {
    /// Reading the segments before the first scan.
    Headers(Error),
    /// Anywhere else.
    Decoding(Error),
}

impl Failed {
    fn rejection(self) -> Error {
        match self {
            Failed::Headers(e) | Failed::Decoding(e) => e,
        }
    }
}

/// `bytes` without the segments no decoder needs (APP1–APP13, APP15 and COM: EXIF,
/// ICC, XMP, MPF, comments), if it has any; APP0 (JFIF) and APP14 (Adobe's colour
/// transform flag) are kept, and everything from the first scan on is copied as is.
///
/// # Errors
/// `too_large` if the copy cannot be allocated.
fn without_metadata(bytes: &[u8]) -> Result<Option<Vec<u8>>, Error> {
    let Some(mut segments) = Segments::after_soi(bytes) else {
        return Ok(None);
    };
    let mut dropped = Vec::new();
    while let Ok(segment) = segments.read() {
        match segment.marker {
            SOS => break,
            APP0 | APP14 => {}
            m if is_metadata(m) => dropped.push(segment.start..segment.end),
            _ => {}
        }
    }
    if dropped.is_empty() {
        return Ok(None);
    }
    let mut plain = try_with_capacity(bytes.len(), "JPEG without metadata")?;
    let mut from = 0;
    for range in dropped {
        plain.extend_from_slice(&bytes[from..range.start]);
        from = range.end;
    }
    plain.extend_from_slice(&bytes[from..]);
    Ok(Some(plain))
}

/// [`decode`] by zune-jpeg alone.
fn decode_with_zune(
    bytes: &[u8],
    info: &SourceInfo,
    inks: Option<&Inks>,
) -> Result<Pixels, Failed> {
    let decoder = |out: ColorSpace| {
        let options = DecoderOptions::default()
            .set_max_width(info.stored_width as usize)
            .set_max_height(info.stored_height as usize)
            .set_strict_mode(true)
            .jpeg_set_out_colorspace(out);
        JpegDecoder::new_with_options(ZCursor::new(bytes), options)
    };
    let mut rgb = decoder(ColorSpace::RGB);
    rgb.decode_headers()
        .map_err(|e| Failed::Headers(zune_error(e)))?;
    let (width, height) = rgb
        .info()
        .map(|i| (usize::from(i.width), usize::from(i.height)))
        .ok_or_else(|| Failed::Headers(Error::bad_image("JPEG: decoder found no frame header")))?;
    let four = matches!(
        rgb.input_colorspace(),
        Some(ColorSpace::CMYK | ColorSpace::YCCK)
    );
    if let (Some(inks), true) = (inks, four) {
        let mut cmyk = decoder(ColorSpace::CMYK);
        let stored = decode_all(&mut cmyk, width * height * 4, "CMYK").map_err(Failed::Decoding)?;
        // The decoder's own buffers are gone before the RGB one is taken.
        drop(cmyk);
        let mut data = try_zeroed(width * height * 3, "decoded JPEG").map_err(Failed::Decoding)?;
        inks.to_rgb(&stored, &mut data, width);
        return Ok(Pixels {
            width: width as u32,
            height: height as u32,
            channels: 3,
            data,
        });
    }
    let data = decode_all(&mut rgb, width * height * 3, "RGB").map_err(Failed::Decoding)?;
    Ok(Pixels {
        width: width as u32,
        height: height as u32,
        channels: 3,
        data,
    })
}

/// zune-jpeg's error as the upload's fault.
fn zune_error(e: zune_jpeg::errors::DecodeErrors) -> Error {
    Error::bad_image(format!("JPEG: {e}")).with_source(e)
}

/// Decodes the whole frame of `decoder` (headers read or not) into a new buffer, which
/// must be `len` bytes of 8-bit `what`.
fn decode_all(
    decoder: &mut JpegDecoder<ZCursor<&[u8]>>,
    len: usize,
    what: &str,
) -> Result<Vec<u8>, Error> {
    decoder.decode_headers().map_err(zune_error)?;
    let size = decoder
        .output_buffer_size()
        .ok_or_else(|| Error::bad_image("JPEG: decoder could not size its output"))?;
    if size != len {
        return Err(Error::bad_image(format!(
            "JPEG: decoder output is not 8-bit {what}"
        )));
    }
    let mut data = try_zeroed(len, "decoded JPEG")?;
    decoder.decode_into(&mut data).map_err(zune_error)?;
    Ok(data)
}
