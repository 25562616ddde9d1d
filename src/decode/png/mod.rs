//! PNG, every kind, through the `png` crate: palette and tRNS expanded, 16-bit
//! stripped to 8, gray widened to RGB here; interlaced images are de-interlaced by the
//! decoder. (An own two-task decoder for photo PNGs was removed: on one thread the
//! crate decodes them 11–17% faster; DESIGN.md has the figures.)

use std::io::Cursor;

use png::{ColorType, Transformations};

use super::{decode_budget, Pixels};
use crate::alloc::{try_with_capacity, try_zeroed};
use crate::error::{Error, Limit};
use crate::probe::SourceInfo;

/// Any PNG the probe accepted, to 8-bit RGB or RGBA.
pub(super) fn decode(bytes: &[u8], info: &SourceInfo) -> Result<Pixels, Error> {
    let fail = |e: png::DecodingError| Error::bad_image(format!("PNG: {e}")).with_source(e);
    let limits = png::Limits {
        bytes: usize::try_from(decode_budget(info)).unwrap_or(usize::MAX),
    };
    let mut decoder = png::Decoder::new_with_limits(Cursor::new(bytes), limits);
    decoder.set_transformations(Transformations::normalize_to_color8());
    decoder.set_ignore_text_chunk(true);
    decoder.set_ignore_iccp_chunk(true);
    // A mutated chunk fails its CRC, so a fuzzer's PNGs stopped at the first chunk it
    // touched and never reached the decoder's own parsing (the PLTE panic of issue
    // #16 went unfound for 46 minutes). Fuzz builds skip the checksums.
    #[cfg(fuzzing)]
    decoder.ignore_checksums(true);
    let mut reader = decoder.read_info().map_err(fail)?;
    let len = reader
        .output_buffer_size()
        .ok_or_else(|| Error::too_large(Limit::Memory, "PNG: output size overflows"))?;
    let mut raw = try_zeroed(len, "decoded PNG")?;
    let frame = reader.next_frame(&mut raw).map_err(fail)?;
    raw.truncate(frame.buffer_size());
    let (width, height) = (frame.width, frame.height);
    let (channels, data) = match frame.color_type {
        ColorType::Rgb => (3, raw),
        ColorType::Rgba => (4, raw),
        ColorType::Grayscale => (3, widen_gray(&raw, 1)?),
        ColorType::GrayscaleAlpha => (4, widen_gray(&raw, 2)?),
        ColorType::Indexed => {
            return Err(Error::bad_image("PNG: palette was not expanded"));
        }
    };
    Ok(Pixels {
        width,
        height,
        channels,
        data,
    })
}

/// Gray (`step` 1) to RGB, or gray+alpha (`step` 2) to RGBA.
fn widen_gray(raw: &[u8], step: usize) -> Result<Vec<u8>, Error> {
    let mut out = try_with_capacity(raw.len() / step * (step + 2), "widened gray PNG")?;
    for px in raw.chunks_exact(step) {
        out.extend_from_slice(&[px[0], px[0], px[0]]);
        if step == 2 {
            out.push(px[1]);
        }
    }
    Ok(out)
}
