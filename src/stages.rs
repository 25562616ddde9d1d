//! The pipeline's stages one at a time, for the per-stage benches and for profiling.
//!
//! Only with the `benchmarks` feature, and outside the semver promise:
//! [`process`](crate::process) is the API. Each function is the stage the pipeline runs, with nothing added, so a
//! bench of it measures what a job spends there.

use crate::error::Error;
use crate::policy::{Filter, Policy};
use crate::probe::SourceInfo;
use crate::sniff::Format;
use crate::upload::CropBox;

pub use crate::canvas::{Letterbox, Rect, Square};
pub use crate::decode::Pixels;

/// Probes and decodes the first (or only) image of `bytes` under `policy`'s checks (a
/// CMYK JPEG through its embedded profile, as the pipeline does).
///
/// # Errors
/// Whatever [`process`](crate::process) would reject the upload with before decoding,
/// or the decoder's `bad_image`.
pub fn decode(bytes: &[u8]) -> Result<(SourceInfo, Pixels), Error> {
    let info = crate::probe::probe(bytes)?;
    let inks = crate::colour::inks(&crate::colour::read(bytes, info.format));
    let pixels = crate::decode::decode(bytes, &info, inks.as_ref())?;
    Ok((info, pixels))
}

/// The engine's own matrix/TRC kernel from `profile`'s 8-bit RGB to sRGB, as the colour
/// stage uses it, or `None` where moxcms does the whole conversion (a CPU without
/// AVX-512 VBMI, a LUT-based or gray profile, a matrix too wide for it). The function
/// converts the whole 64-pixel steps of its first argument into its second and returns
/// how many bytes that was.
pub fn matrix_kernel(profile: &moxcms::ColorProfile) -> Option<impl Fn(&[u8], &mut [u8]) -> usize> {
    let kernel = crate::colour::MatrixKernel::for_profile(profile)?;
    Some(move |src: &[u8], dst: &mut [u8]| kernel.convert(src, dst))
}

/// Converts decoded `pixels` of `bytes` to sRGB as the file's embedded ICC profile (or
/// PNG `cHRM`/`gAMA`) describes; returns whether any pixel changed.
pub fn to_srgb(pixels: &mut Pixels, bytes: &[u8], info: &SourceInfo) -> bool {
    let embedded = crate::colour::read(bytes, info.format);
    match crate::colour::ToSrgb::for_pixels(&embedded, pixels) {
        Some(to_srgb) => {
            to_srgb.in_place(pixels);
            true
        }
        None => false,
    }
}

/// Orients, crops or letterboxes decoded pixels onto the square, RGBA if any pixel is
/// transparent, RGB on `policy.background` otherwise.
///
/// # Errors
/// `invalid_arguments` for a crop box outside the image; `too_large` if the square
/// cannot be allocated.
pub fn compose(
    pixels: &Pixels,
    info: &SourceInfo,
    crop: Option<CropBox>,
    policy: &Policy,
) -> Result<Square, Error> {
    let placement = crate::geometry::place(info.width, info.height, crop)?;
    let alpha = pixels.has_transparency();
    crate::canvas::compose(
        pixels,
        info.orientation,
        &placement,
        alpha,
        policy.background,
    )
}

/// Resizes `square` to every size (the pipeline's parallel plan) and returns what
/// `each` makes of each rendition, in the order of `sizes`.
pub fn resize_all<T, F>(
    square: &Square,
    sizes: &[u32],
    filter: Filter,
    each: F,
) -> Vec<Result<T, Error>>
where
    T: Send,
    F: Fn(&Square) -> Result<T, Error> + Sync,
{
    crate::resize::render_all(square, sizes, filter, crate::cancel::Checks(None), each)
}

/// Encodes one rendition as JPEG (RGB) or PNG (RGB or RGBA), as the pipeline does.
///
/// # Errors
/// `internal_error` if the encoder fails, or for [`Format::Gif`].
pub fn encode(square: &Square, format: Format, jpeg_quality: u8) -> Result<Vec<u8>, Error> {
    crate::encode::encode(square, format, jpeg_quality)
}

/// The file the JPEG pass-through would serve in place of the rendition of `bytes`'s
/// own side, if its frame (`info`, from [`decode`]) is square and the pass-through
/// takes it; `None` otherwise. For the differential fuzz target: whatever this returns
/// must decode to exactly the pixels `bytes` decodes to.
pub fn passthrough(bytes: &[u8], info: &SourceInfo) -> Option<Vec<u8>> {
    let square = info.stored_width == info.stored_height;
    (info.format == Format::Jpeg && square)
        .then(|| crate::passthrough::passthrough(bytes, info.stored_width))
        .flatten()
}
