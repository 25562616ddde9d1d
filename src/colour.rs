//! Stage 4b: the decoded pixels converted to sRGB from the colours their file
//! describes (ICC profile, or PNG `cHRM`/`gAMA`), with moxcms, and with our own
//! kernel ([`matrix_kernel`]) for plain matrix/TRC RGB profiles on CPUs with AVX-512
//! VBMI.
//!
//! Applied before resizing, so every later stage works on sRGB: an upright colour
//! picture as [`canvas`](crate::canvas) copies it into the square ([`ToSrgb::copy`]),
//! anything else in place right after decoding ([`ToSrgb::in_place`]). Output is
//! untagged sRGB (renditions carry no metadata).
//!
//! - A description that is sRGB in content (whatever its name) is detected by running
//!   a set of probe colours through the transform: when none moves by more than one
//!   level, the pixels are left alone and nothing is spent on them.
//! - A malformed, truncated or unsupported profile, or one whose colour space does not
//!   match the pixels (a gray profile on colour pixels, an RGB one on gray), is ignored:
//!   the pixels are taken as sRGB, as browsers take untagged images. Never an error.
//! - CMYK and YCCK JPEGs with a CMYK profile are converted from their inks by that
//!   profile ([`inks`], applied by the JPEG decoder as it hands over its pixels); without
//!   one (or with a broken one) the decoder's naive inversion stands, as browsers do.

mod cache;
mod embedded;
mod matrix_kernel;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use moxcms::{
    Chromaticity, ColorPrimaries, ColorProfile, DataColorSpace, Layout, ParsingOptions,
    ToneReprCurve, TransformExecutor, TransformOptions, XyY,
};
use rayon::prelude::*;

use crate::decode::Pixels;
pub(crate) use matrix_kernel::MatrixKernel;

pub use embedded::MAX_PROFILE_BYTES;
pub(crate) use embedded::{read, Described, Embedded};

/// Bytes moxcms may hold for one profile beyond its own bytes: the parsed curves and
/// lookup tables (capped by the `ParsingOptions` given to moxcms) and the 8-bit
/// transform's tables (our matrix kernel's, 2 KiB, fit in the same allowance).
pub(crate) const TRANSFORM_ALLOWANCE: u64 = 3 << 20;

/// Rows per parallel task.
const BAND_ROWS: usize = 32;

type Transform = Arc<dyn TransformExecutor<u8> + Send + Sync>;

/// The conversion of one decoded image's pixels to sRGB, applied either as they are
/// copied into the square ([`ToSrgb::copy`], by [`canvas`](crate::canvas)) or in place.
#[derive(Clone)]
pub(crate) struct ToSrgb {
    converter: Converter,
    /// 3 (RGB) or 4 (RGBA), as decoded.
    channels: usize,
    /// Gray in the file, decoded as R = G = B: the transform takes one channel.
    gray: bool,
}

impl ToSrgb {
    /// The conversion `pixels` need, or `None` when they are sRGB already (untagged,
    /// sRGB in content, unusable or mismatched description).
    pub(crate) fn for_pixels(embedded: &Embedded, pixels: &Pixels) -> Option<ToSrgb> {
        let source = if embedded.gray {
            Source::Gray
        } else {
            Source::Rgb
        };
        let converter = converter_for(embedded, source, pixels.channels)?;
        Some(ToSrgb {
            converter,
            channels: pixels.channels,
            gray: embedded.gray,
        })
    }

    /// Whether [`copy`](Self::copy) can write converted pixels straight into another
    /// buffer (colour sources of `channels` channels); gray ones are converted in place.
    pub(crate) fn copies(&self, channels: usize) -> bool {
        !self.gray && channels == self.channels
    }

    /// Writes `src` (whole pixels) converted into `dst`, of the same length; only when
    /// [`copies`](Self::copies).
    pub(crate) fn copy(&self, src: &[u8], dst: &mut [u8]) {
        self.converter.transform(src, dst);
    }

    /// Converts `pixels` in place, in parallel bands of rows.
    pub(crate) fn in_place(&self, pixels: &mut Pixels) {
        let line = pixels.width as usize * self.channels;
        if line == 0 {
            return;
        }
        pixels.data.par_chunks_mut(BAND_ROWS * line).for_each_init(
            Vec::new,
            |scratch: &mut Vec<u8>, band| {
                for row in band.chunks_exact_mut(line) {
                    self.converter
                        .convert(row, self.channels, self.gray, scratch);
                }
            },
        );
    }
}

/// What the decoded pixels are, for choosing and caching a transform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// Gray in the file (decoded as R = G = B): a gray profile fits.
    Gray,
    /// RGB in the file: an RGB profile fits.
    Rgb,
    /// CMYK or YCCK in the JPEG: a CMYK profile fits.
    Cmyk,
}

/// How one profile's pixels become sRGB: moxcms' 8-bit transform (matrix/TRC,
/// LUT-based or gray, whichever the profile is), and for plain matrix/TRC RGB on
/// CPUs with AVX-512 VBMI our own faster kernel ([`matrix_kernel`]) for all but the
/// pixels left over after its 64-pixel steps.
#[derive(Clone)]
struct Converter {
    transform: Transform,
    kernel: Option<Arc<MatrixKernel>>,
}

/// How a CMYK or YCCK JPEG's inks become sRGB, by its embedded CMYK profile (always a
/// LUT profile): moxcms' 8-bit transform, perceptual intent.
#[derive(Clone)]
pub(crate) struct Inks(Converter);

impl Inks {
    /// Converts `cmyk` (4 bytes a pixel, as zune-jpeg hands a CMYK or YCCK frame over:
    /// Adobe's inverted storage, 255 = no ink) into `rgb` (3 bytes a pixel), rows of
    /// `width` pixels, in parallel bands.
    pub(crate) fn to_rgb(&self, cmyk: &[u8], rgb: &mut [u8], width: usize) {
        if width == 0 {
            return;
        }
        rgb.par_chunks_mut(BAND_ROWS * width * 3)
            .zip(cmyk.par_chunks(BAND_ROWS * width * 4))
            .for_each_init(Vec::new, |ink: &mut Vec<u8>, (out, stored)| {
                for (out, stored) in out
                    .chunks_exact_mut(width * 3)
                    .zip(stored.chunks_exact(width * 4))
                {
                    // Profiles take ink amounts: 0 = none.
                    ink.clear();
                    ink.extend(stored.iter().map(|&v| 255 - v));
                    self.0.transform(ink, out);
                }
            });
    }
}

/// The conversion of a CMYK or YCCK JPEG's inks to sRGB by its embedded profile, or
/// `None` (not a 4-component JPEG, no profile, not a CMYK profile, or unusable): the
/// decoder's naive inversion is used then.
pub(crate) fn inks(embedded: &Embedded) -> Option<Inks> {
    converter_for(embedded, Source::Cmyk, 4).map(Inks)
}

impl Converter {
    /// Converts `src` into `dst` (whole pixels of the layouts it was built for, the
    /// same number of each).
    fn transform(&self, src: &[u8], dst: &mut [u8]) {
        let done = match &self.kernel {
            Some(kernel) => kernel.convert(src, dst),
            None => 0,
        };
        // The lengths always match, so the transform cannot refuse; if it did, the
        // pixels would stay as they were.
        let _ = self.transform.transform(&src[done..], &mut dst[done..]);
    }

    /// Converts one row of decoded pixels (RGB or RGBA; gray sources arrive as
    /// R = G = B) in place; `scratch` is reused between rows.
    fn convert(&self, row: &mut [u8], channels: usize, gray: bool, scratch: &mut Vec<u8>) {
        scratch.clear();
        if gray {
            // The transform takes one channel (+ alpha).
            for px in row.chunks_exact(channels) {
                scratch.push(px[0]);
                if channels == 4 {
                    scratch.push(px[3]);
                }
            }
        } else {
            scratch.extend_from_slice(row);
        }
        self.transform(scratch, row);
    }
}

/// The conversion to sRGB for `source` pixels decoded with `channels` (3 or 4; for
/// CMYK, 4 ink channels to 3), or `None` when nothing is to be done (untagged, sRGB in
/// content, unusable or mismatched).
fn converter_for(embedded: &Embedded, source: Source, channels: usize) -> Option<Converter> {
    // A CMYK or YCCK JPEG's colours are converted from its inks as it is decoded (see
    // [`inks`]), never afterwards from the decoder's naive RGB.
    if (embedded.jpeg_components == 4) != (source == Source::Cmyk) {
        return None;
    }
    match &embedded.described {
        Described::Untagged | Described::Srgb => None,
        Described::Icc(bytes) => {
            let key = (bytes.as_slice(), source, channels);
            cache::get_or_insert(key, || build(parse(bytes)?, source, channels))
        }
        Described::Chromaticities { primaries, gamma } => {
            build(from_chunks(*primaries, *gamma)?, source, channels)
        }
    }
}

/// The conversion from `profile` to sRGB, unless it is mismatched, fails, or is the
/// identity.
fn build(profile: ColorProfile, source: Source, channels: usize) -> Option<Converter> {
    let (src_layout, dst_layout) = match (profile.color_space, source, channels) {
        (DataColorSpace::Rgb, Source::Rgb, 3) => (Layout::Rgb, Layout::Rgb),
        (DataColorSpace::Rgb, Source::Rgb, 4) => (Layout::Rgba, Layout::Rgba),
        (DataColorSpace::Gray, Source::Gray, 3) => (Layout::Gray, Layout::Rgb),
        (DataColorSpace::Gray, Source::Gray, 4) => (Layout::GrayAlpha, Layout::Rgba),
        // moxcms takes 8-bit CMYK in its RGBA layout.
        (DataColorSpace::Cmyk, Source::Cmyk, 4) => (Layout::Rgba, Layout::Rgb),
        _ => return None,
    };
    let make = || -> Option<Converter> {
        let transform = profile
            .create_transform_8bit(
                src_layout,
                &ColorProfile::new_srgb(),
                dst_layout,
                TransformOptions::default(),
            )
            .ok()?;
        // Our kernel takes RGB to RGB only; with four channels moxcms keeps alpha.
        let kernel = (src_layout == Layout::Rgb && dst_layout == Layout::Rgb)
            .then(|| MatrixKernel::for_profile(&profile))
            .flatten()
            .map(Arc::new);
        Some(Converter { transform, kernel })
    };
    let converter = unless_it_panics(make)?;
    let gray = source == Source::Gray;
    (source == Source::Cmyk || !is_identity(&converter, channels, gray)).then_some(converter)
}

/// `f()`, or `None` if the colour engine panics in it: a profile it chokes on is
/// ignored like a malformed one. Under the fuzzer the panic is let through, so it gets
/// found and reported upstream.
fn unless_it_panics<T>(f: impl FnOnce() -> Option<T>) -> Option<T> {
    if cfg!(fuzzing) {
        f()
    } else {
        catch_unwind(AssertUnwindSafe(f)).ok()?
    }
}

/// Parses an ICC profile with limits fit for an upload: its curves and lookup tables
/// bounded so parsing stays within [`TRANSFORM_ALLOWANCE`].
fn parse(bytes: &[u8]) -> Option<ColorProfile> {
    // A profile cut short is ignored whole, not read as far as it goes: the header's
    // size field (bytes 0..4) must not exceed the bytes we have. Padding after the
    // declared size (some writers align chunks) is left off.
    let declared = usize::try_from(u32::from_be_bytes(bytes.get(..4)?.try_into().ok()?)).ok()?;
    let bytes = bytes.get(..declared)?;
    let options = ParsingOptions {
        max_profile_size: MAX_PROFILE_BYTES + 1,
        max_allowed_clut_size: 1 << 20,
        max_allowed_trc_size: 40_000,
    };
    unless_it_panics(|| ColorProfile::new_from_slice_with_options(bytes, options).ok())
}

/// sRGB with the PNG's `cHRM` primaries and white point and its `gAMA` curve, each
/// left as sRGB's when absent.
fn from_chunks(primaries: Option<[[f64; 2]; 4]>, gamma: Option<f64>) -> Option<ColorProfile> {
    let mut profile = ColorProfile::new_srgb();
    profile.cicp = None;
    if let Some([w, r, g, b]) = primaries {
        let valid = |c: [f64; 2]| c[0] > 0.0 && c[1] > 0.0 && c[0] + c[1] <= 1.0;
        if ![w, r, g, b].into_iter().all(valid) {
            return None;
        }
        let chroma = |c: [f64; 2]| Chromaticity::new(c[0] as f32, c[1] as f32);
        profile.update_rgb_colorimetry(
            XyY::new(w[0], w[1], 1.0),
            ColorPrimaries {
                red: chroma(r),
                green: chroma(g),
                blue: chroma(b),
            },
        );
    }
    if let Some(gamma) = gamma {
        // gAMA is the encoding exponent: decoding raises to 1/gamma. A lone gAMA of
        // 1/2.2 (0.45455) is how many encoders say "sRGB", and it is shown as sRGB;
        // beside cHRM it is taken literally (pure gamma, as Adobe RGB's is).
        if (0.454..=0.456).contains(&gamma) && primaries.is_none() {
            return None;
        }
        if (0.01..=10.0).contains(&gamma) {
            let curve = ToneReprCurve::Parametric(vec![(1.0 / gamma) as f32]);
            profile.red_trc = Some(curve.clone());
            profile.green_trc = Some(curve.clone());
            profile.blue_trc = Some(curve);
        } else {
            return None;
        }
    }
    Some(profile)
}

/// Whether `converter` moves no colour of a probe set by more than one level: every
/// gray, and (for colour layouts) a 9-level cube of colours.
fn is_identity(converter: &Converter, channels: usize, gray: bool) -> bool {
    let mut colours: Vec<[u8; 3]> = (0..=255).map(|v| [v; 3]).collect();
    if !gray {
        let steps = [0u8, 32, 64, 96, 128, 160, 192, 224, 255];
        for r in steps {
            for g in steps {
                for b in steps {
                    colours.push([r, g, b]);
                }
            }
        }
    }
    let original: Vec<u8> = colours
        .iter()
        .flat_map(|c| [c[0], c[1], c[2], 255].into_iter().take(channels))
        .collect();
    let mut converted = original.clone();
    converter.convert(&mut converted, channels, gray, &mut Vec::new());
    converted
        .iter()
        .zip(&original)
        .all(|(&a, &b)| a.abs_diff(b) <= 1)
}
