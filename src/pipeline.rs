//! The whole job, top to bottom, in the order of the contract.

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::animate::{render_animated, BYTES_PER_OUTPUT_PIXEL};
use crate::cancel::Checks;
use crate::canvas::{compose_owned, Square};
use crate::colour;
use crate::decode::{decode, decode_budget, Pixels};
use crate::encode::encode;
use crate::error::{Error, ErrorKind, Limit};
use crate::geometry::{place, Placement};
use crate::orient::Orientation;
use crate::policy::Policy;
use crate::probe::{probe_capped, SourceInfo};
use crate::resize::render_all;
use crate::sniff::{check_content_type, sniff, Format};
use crate::upload::Upload;

/// One finished rendition: a `size`×`size` image encoded as `format`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Rendition {
    /// Side in pixels.
    pub size: u32,
    /// JPEG for opaque stills, PNG when any pixel is transparent, GIF for animations.
    pub format: Format,
    /// Frames in the file: 1 for stills, the source's frame count for animations.
    pub frames: u32,
    /// The encoded file, with no metadata.
    pub bytes: Vec<u8>,
}

/// The result of a successful job: what the source was and one rendition per size.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Avatar {
    /// The header facts of the upload.
    pub source: SourceInfo,
    /// One rendition per [`Policy::sizes`] entry, in that order: animated GIFs for an
    /// animated source, stills otherwise.
    pub renditions: Vec<Rendition>,
    /// For an animated source with [`Policy::still_posters`]: the first frame as a
    /// still rendition per size. Empty otherwise.
    pub posters: Vec<Rendition>,
    /// See [`Avatar::transparent`].
    transparent: bool,
}

impl Avatar {
    /// Whether the renditions may show through: for stills, whether some source pixel
    /// is not opaque (they are then PNG rather than JPEG); for an animation, whether
    /// its GIF declares a transparent colour or it is letterboxed (its bars are
    /// transparent).
    pub fn transparent(&self) -> bool {
        self.transparent
    }

    /// Whether the renditions are animated GIFs.
    pub fn is_animated(&self) -> bool {
        self.renditions
            .first()
            .is_some_and(|r| r.format == Format::Gif)
    }

    /// The rendition of side `size`, if the policy asked for it.
    pub fn rendition(&self, size: u32) -> Option<&Rendition> {
        self.renditions.iter().find(|r| r.size == size)
    }
}

/// Turns one upload into its renditions under `policy`: [`probe_upload`], then
/// [`process_probed`].
///
/// In order: size cap, format sniff, Content-Type check, header probe, side limits,
/// memory budget, structural defects (truncation), frame limit, crop box; only then
/// decode, orient + crop/letterbox, resize every size in parallel on the current rayon
/// pool, encode. A panic inside a codec is caught and returned as `internal_error`.
///
/// # Errors
/// A [`Error`] whose [`code`](Error::code) is the Slack wire error.
///
/// ```
/// use avatar_engine::{process, Policy, Upload};
/// let bytes = std::fs::read("testdata/photo_landscape_800x600.jpg").unwrap();
/// let avatar = process(&Policy::default(), &Upload::new(&bytes)).unwrap();
/// let sizes: Vec<u32> = avatar.renditions.iter().map(|r| r.size).collect();
/// assert_eq!(sizes, [1024, 512, 192, 72, 48, 32, 24]);
///
/// let err = process(&Policy::default(), &Upload::new(b"GIF89a")).unwrap_err();
/// assert_eq!(err.code(), "bad_image");
/// ```
pub fn process(policy: &Policy, upload: &Upload<'_>) -> Result<Avatar, Error> {
    guarded(|| run(policy, upload))
}

/// Already-decoded pixels handed to the engine instead of a file (see
/// [`process_pixels`]): 8-bit sRGB, RGB or RGBA (straight alpha), rows top to bottom
/// without padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RawImage<'a> {
    /// Width, in pixels.
    pub width: u32,
    /// Height, in pixels.
    pub height: u32,
    /// 3 (RGB) or 4 (RGBA).
    pub channels: u8,
    /// `width × height × channels` bytes.
    pub data: &'a [u8],
}

impl<'a> RawImage<'a> {
    /// RGB pixels, 3 bytes each.
    ///
    /// # Errors
    /// `invalid_arguments` if `data` is not `width × height × 3` bytes.
    pub fn rgb8(width: u32, height: u32, data: &'a [u8]) -> Result<Self, Error> {
        Self::new(width, height, 3, data)
    }

    /// RGBA pixels (straight, not premultiplied alpha), 4 bytes each.
    ///
    /// # Errors
    /// `invalid_arguments` if `data` is not `width × height × 4` bytes.
    pub fn rgba8(width: u32, height: u32, data: &'a [u8]) -> Result<Self, Error> {
        Self::new(width, height, 4, data)
    }

    fn new(width: u32, height: u32, channels: u8, data: &'a [u8]) -> Result<Self, Error> {
        let want = u64::from(width) * u64::from(height) * u64::from(channels);
        if data.len() as u64 != want {
            return Err(Error::invalid_arguments(format!(
                "{width}x{height} pixels of {channels} bytes are {want} bytes, not {}",
                data.len()
            )));
        }
        Ok(RawImage {
            width,
            height,
            channels,
            data,
        })
    }
}

/// Renders already-decoded pixels (an identicon, a frame the caller drew, an `image`
/// crate buffer) into every size of `policy`, as [`process`] renders a decoded upload:
/// the same side limits and memory budget, crop box or letterbox, resizing and
/// encoders (JPEG when every pixel is opaque, PNG otherwise). No sniffing, no
/// Content-Type, no decode; the pixels are taken as sRGB and copied once.
///
/// # Errors
/// `too_small` / `too_large` for the sides or the budget, `invalid_arguments` for the
/// crop box or the policy, `cancelled` through `cancel`.
///
/// ```
/// use avatar_engine::{process_pixels, Format, Policy, RawImage};
/// let grey = vec![128u8; 600 * 600 * 3];
/// let image = RawImage::rgb8(600, 600, &grey).unwrap();
/// let renditions = process_pixels(&Policy::default(), &image, None, None).unwrap();
/// assert_eq!(renditions[0].size, 1024);
/// assert_eq!(renditions[0].format, Format::Jpeg);
/// ```
pub fn process_pixels(
    policy: &Policy,
    image: &RawImage<'_>,
    crop: Option<crate::CropBox>,
    cancel: Option<&crate::Cancel>,
) -> Result<Vec<Rendition>, Error> {
    guarded(|| {
        let checks = Checks(cancel);
        let (pixels, placement) = take_pixels(policy, image, crop, checks)?;
        render_pixels(
            Decoded::srgb(pixels),
            Orientation::Normal,
            &placement,
            policy,
            checks,
            None,
        )
    })
}

/// [`squares`] from pixels handed in, under [`process_pixels`]' checks.
#[cfg_attr(not(feature = "image"), allow(dead_code))]
pub(crate) fn squares_from_pixels(
    policy: &Policy,
    image: &RawImage<'_>,
    crop: Option<crate::CropBox>,
    cancel: Option<&crate::Cancel>,
) -> Result<Vec<Square>, Error> {
    guarded(|| {
        let checks = Checks(cancel);
        let (pixels, placement) = take_pixels(policy, image, crop, checks)?;
        squares_of(
            Decoded::srgb(pixels),
            Orientation::Normal,
            &placement,
            policy,
            checks,
        )
    })
}

/// Checks pixels handed in as [`process`] checks a decoded upload, and copies them.
fn take_pixels(
    policy: &Policy,
    image: &RawImage<'_>,
    crop: Option<crate::CropBox>,
    checks: Checks,
) -> Result<(Pixels, Placement), Error> {
    checks.check()?;
    policy.validate()?;
    check_sides(policy, image.width, image.height)?;
    // The copy of the pixels stands where a decode's budget would.
    let need = (image.data.len() as u64).saturating_add(placed_bytes(
        policy,
        image.width.max(image.height),
        false,
    ));
    within_budget(policy, need)?;
    let placement = place(image.width, image.height, crop)?;
    let mut data = crate::alloc::try_zeroed(image.data.len(), "pixels handed in")?;
    data.copy_from_slice(image.data);
    let pixels = Pixels {
        width: image.width,
        height: image.height,
        channels: usize::from(image.channels),
        data,
    };
    Ok((pixels, placement))
}

/// Runs `job`, turning a panic inside it (a codec's) into `internal_error`.
fn guarded<T>(job: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
    match catch_unwind(AssertUnwindSafe(job)) {
        Ok(result) => result,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(Error::internal(format!("the engine panicked: {what}")))
        }
    }
}

/// An upload whose headers have been read and checked against a policy by
/// [`probe_upload`]: the format, sides, frames and colour description, known before
/// any pixel is decoded. [`process_probed`] finishes the job from here without reading
/// the headers again.
#[derive(Debug, Clone)]
pub struct Probed<'a> {
    upload: Upload<'a>,
    info: SourceInfo,
    colours: colour::Embedded,
}

impl<'a> Probed<'a> {
    /// The header facts.
    pub fn info(&self) -> &SourceInfo {
        &self.info
    }

    /// The upload that was probed.
    pub fn upload(&self) -> &Upload<'a> {
        &self.upload
    }
}

/// The first half of [`process`]: size cap, format sniff, Content-Type check, header
/// probe, side limits, memory budget, structural defects (truncation) and frame limit,
/// under `policy`. Nothing is decoded. A server that needs the header facts to choose
/// its policy (the upload's own side among the sizes, say) probes once with this, then
/// calls [`process_probed`].
///
/// # Errors
/// What [`process`] would reject the upload with before decoding.
///
/// ```
/// use avatar_engine::{probe_upload, process_probed, Policy, Upload};
/// let bytes = std::fs::read("testdata/photo_landscape_800x600.jpg").unwrap();
/// let mut policy = Policy::default();
/// let probed = probe_upload(&policy, Upload::new(&bytes)).unwrap();
/// let side = probed.info().width.max(probed.info().height);
/// policy.sizes.push(side);
/// let avatar = process_probed(&policy, &probed).unwrap();
/// assert!(avatar.rendition(800).is_some());
/// ```
pub fn probe_upload<'a>(policy: &Policy, upload: Upload<'a>) -> Result<Probed<'a>, Error> {
    guarded(|| probe_checked(policy, upload))
}

/// The second half of [`process`]: crop box or letterbox, decode, orient, resize and
/// encode `probed` under `policy`. The header facts are not read again, but checked
/// against `policy` again: it may differ from the one `probed` was made under. (Frame
/// counts are exact: a count the probing policy cut short was refused there.)
///
/// # Errors
/// As [`process`].
pub fn process_probed(policy: &Policy, probed: &Probed<'_>) -> Result<Avatar, Error> {
    guarded(|| {
        check_probed(policy, &probed.upload, &probed.info, &probed.colours)?;
        render(policy, probed)
    })
}

fn run(policy: &Policy, upload: &Upload<'_>) -> Result<Avatar, Error> {
    let probed = probe_checked(policy, *upload)?;
    render(policy, &probed)
}

/// [`probe_upload`], unguarded.
fn probe_checked<'a>(policy: &Policy, upload: Upload<'a>) -> Result<Probed<'a>, Error> {
    check_upload(policy, &upload)?;
    let bytes = upload.bytes;
    check_content_type(sniff(bytes)?, upload.content_type)?;
    let probed = probe_capped(bytes, policy.max_frames)?;
    let info = probed.info;
    // The colour description is header data too: read before anything is decoded, and
    // its size counted in the budget.
    let colours = colour::read(bytes, info.format);
    check_facts(policy, &info, &colours, probed.defect)?;
    Ok(Probed {
        upload,
        info,
        colours,
    })
}

/// The policy's header-level limits, for facts already read.
fn check_probed(
    policy: &Policy,
    upload: &Upload<'_>,
    info: &SourceInfo,
    colours: &colour::Embedded,
) -> Result<(), Error> {
    check_upload(policy, upload)?;
    check_facts(policy, info, colours, None)
}

/// What is checked before the bytes are looked at: cancellation, the policy itself,
/// the upload's size.
fn check_upload(policy: &Policy, upload: &Upload<'_>) -> Result<(), Error> {
    Checks(upload.cancel).check()?;
    policy.validate()?;
    check_input_bytes(policy, upload.bytes)
}

/// The header facts against the policy, in the order that decides which code a file
/// with several faults gets: sides, planned memory, then a `defect` the probe found
/// (a truncation it read past), then the frame count.
fn check_facts(
    policy: &Policy,
    info: &SourceInfo,
    colours: &colour::Embedded,
    defect: Option<Error>,
) -> Result<(), Error> {
    check_sides(policy, info.width, info.height)?;
    check_budget(policy, info, colours)?;
    if let Some(defect) = defect {
        return Err(defect);
    }
    if info.frames > policy.max_frames {
        return Err(Error::too_many_frames(policy.max_frames));
    }
    Ok(())
}

fn check_input_bytes(policy: &Policy, bytes: &[u8]) -> Result<(), Error> {
    if bytes.len() > policy.max_input_bytes {
        return Err(Error::too_large(
            Limit::InputBytes,
            format!(
                "upload is {} bytes; the limit is {}",
                bytes.len(),
                policy.max_input_bytes
            ),
        ));
    }
    Ok(())
}

/// Everything after the header checks: placement, decode, render.
fn render(policy: &Policy, probed: &Probed<'_>) -> Result<Avatar, Error> {
    let (upload, info, colours) = (&probed.upload, probed.info, &probed.colours);
    let (bytes, checks) = (upload.bytes, Checks(upload.cancel));
    let placement = place(info.width, info.height, upload.crop)?;

    if info.format == Format::Gif && info.frames > 1 {
        let files = render_animated(bytes, &info, &placement, policy, checks)?;
        let renditions = policy
            .sizes
            .iter()
            .zip(files)
            .map(|(&size, (bytes, frames))| Rendition {
                size,
                format: Format::Gif,
                frames,
                bytes,
            })
            .collect();
        let posters = if policy.still_posters {
            render_still(bytes, &info, colours, &placement, policy, checks)?
        } else {
            Vec::new()
        };
        return Ok(Avatar {
            source: info,
            renditions,
            posters,
            transparent: info.has_alpha || placement.is_letterboxed(),
        });
    }
    let renditions = render_still(bytes, &info, colours, &placement, policy, checks)?;
    Ok(Avatar {
        source: info,
        transparent: renditions.first().is_some_and(|r| r.format == Format::Png),
        renditions,
        posters: Vec::new(),
    })
}

/// A still decoded for placing: its pixels as decoded (CMYK inks already converted by
/// their profile), the conversion to sRGB still to be made as they are placed
/// ([`compose_owned`]), and whether any conversion is made at all.
struct Decoded {
    pixels: Pixels,
    to_srgb: Option<colour::ToSrgb>,
    converted: bool,
}

impl Decoded {
    /// Pixels that are sRGB already (handed in by the caller).
    fn srgb(pixels: Pixels) -> Decoded {
        Decoded {
            pixels,
            to_srgb: None,
            converted: false,
        }
    }

    /// The composed square ([`compose_owned`]), converted to sRGB as it is placed, and
    /// whether it has transparency.
    fn compose(
        self,
        orientation: Orientation,
        placement: &Placement,
        background: [u8; 3],
    ) -> Result<(Square, bool), Error> {
        let alpha = self.pixels.has_transparency();
        // Moves the decoded buffer when it already is the square; copies otherwise.
        let square = compose_owned(
            self.pixels,
            orientation,
            placement,
            alpha,
            background,
            self.to_srgb.as_ref(),
        )?;
        Ok((square, alpha))
    }

    /// Composes the square ([`Decoded::compose`]), resizes it to every size of
    /// `policy` and hands each rendition to `finish` (the encoder, or a copy), checking
    /// `checks` between; `finish`'s results in the order of `policy.sizes`, and whether
    /// the square has transparency (RGBA).
    fn render_each<T: Send>(
        self,
        orientation: Orientation,
        placement: &Placement,
        policy: &Policy,
        checks: Checks,
        finish: impl Fn(&Square) -> Result<T, Error> + Sync,
    ) -> Result<(Vec<Result<T, Error>>, bool), Error> {
        let (square, alpha) = self.compose(orientation, placement, policy.background)?;
        checks.check()?;
        let results = render_all(&square, &policy.sizes, policy.filter, checks, |r| {
            checks.check()?;
            finish(r)
        });
        Ok((results, alpha))
    }
}

/// Decodes the first (or only) image of `bytes` and finds how it becomes sRGB.
fn decode_still(
    bytes: &[u8],
    info: &SourceInfo,
    colours: &colour::Embedded,
    checks: Checks,
) -> Result<Decoded, Error> {
    checks.check()?;
    let inks = colour::inks(colours);
    let pixels = decode(bytes, info, inks.as_ref())?;
    checks.check()?;
    let to_srgb = colour::ToSrgb::for_pixels(colours, &pixels);
    let converted = to_srgb.is_some() || inks.is_some();
    Ok(Decoded {
        pixels,
        to_srgb,
        converted,
    })
}

/// The squares of every size of `policy`, resized but not encoded, in the order of
/// `policy.sizes`: RGBA if any pixel of the source is transparent, RGB otherwise. An
/// animated GIF gives its first frame. For callers who want pixels, not files.
#[cfg_attr(not(feature = "image"), allow(dead_code))]
pub(crate) fn squares(policy: &Policy, upload: &Upload<'_>) -> Result<Vec<Square>, Error> {
    guarded(|| {
        let probed = probe_checked(policy, *upload)?;
        let (info, checks) = (probed.info, Checks(upload.cancel));
        let placement = place(info.width, info.height, upload.crop)?;
        let decoded = decode_still(upload.bytes, &info, &probed.colours, checks)?;
        squares_of(decoded, info.orientation, &placement, policy, checks)
    })
}

/// [`squares`] from a still already decoded (in stored orientation).
fn squares_of(
    decoded: Decoded,
    orientation: Orientation,
    placement: &Placement,
    policy: &Policy,
    checks: Checks,
) -> Result<Vec<Square>, Error> {
    let (squares, _) =
        decoded.render_each(orientation, placement, policy, checks, |r| Ok(r.clone()))?;
    squares.into_iter().collect()
}

/// Decode (first frame), orient + place + convert to sRGB, resize every size, encode as
/// JPEG or PNG.
fn render_still(
    bytes: &[u8],
    info: &SourceInfo,
    colours: &colour::Embedded,
    placement: &Placement,
    policy: &Policy,
    checks: Checks,
) -> Result<Vec<Rendition>, Error> {
    let decoded = decode_still(bytes, info, colours, checks)?;
    // The source may stand in for the rendition of its own size, unless its colours
    // have to be converted.
    let original = match decoded.converted {
        false => passthrough(bytes, info, placement, policy),
        true => None,
    };
    render_pixels(
        decoded,
        info.orientation,
        placement,
        policy,
        checks,
        original,
    )
}

/// Orient + place + convert to sRGB a `decoded` still, resize every size, encode as
/// JPEG or PNG; `original` (side, file) stands in for the rendition of its side.
fn render_pixels(
    decoded: Decoded,
    orientation: Orientation,
    placement: &Placement,
    policy: &Policy,
    checks: Checks,
    original: Option<(u32, Vec<u8>)>,
) -> Result<Vec<Rendition>, Error> {
    let format = |alpha| if alpha { Format::Png } else { Format::Jpeg };
    let (encoded, alpha) =
        decoded.render_each(
            orientation,
            placement,
            policy,
            checks,
            |r| match &original {
                Some((side, jpeg)) if *side == r.side => Ok(jpeg.clone()),
                _ => encode(r, format(r.channels == 4), policy.jpeg_quality),
            },
        )?;
    let format = format(alpha);
    policy
        .sizes
        .iter()
        .zip(encoded)
        .map(|(&size, bytes)| {
            let bytes = bytes?;
            if bytes.len() > policy.max_output_bytes {
                return Err(Error::too_large(
                    Limit::OutputBytes,
                    format!(
                        "the {size}x{size} rendition is {} bytes; the most one rendition may \
                     hold (max_output_bytes) is {}",
                        bytes.len(),
                        policy.max_output_bytes
                    ),
                ));
            }
            Ok(Rendition {
                size,
                format,
                frames: 1,
                bytes,
            })
        })
        .collect()
}

/// The source JPEG stripped of metadata, with its side, when the policy allows it and
/// the square is the source's pixels unchanged (see [`Policy::jpeg_passthrough`]).
fn passthrough(
    bytes: &[u8],
    info: &SourceInfo,
    placement: &Placement,
    policy: &Policy,
) -> Option<(u32, Vec<u8>)> {
    let unchanged = info.format == Format::Jpeg
        && info.orientation == Orientation::Normal
        && placement.is_whole(info.width, info.height);
    let wanted = policy.jpeg_passthrough && policy.sizes.contains(&placement.side);
    if !(unchanged && wanted) {
        return None;
    }
    crate::passthrough::passthrough(bytes, placement.side).map(|jpeg| (placement.side, jpeg))
}

/// The sides `w`×`h` (as displayed) against the policy's smallest and largest.
fn check_sides(policy: &Policy, w: u32, h: u32) -> Result<(), Error> {
    if w.max(h) > policy.max_side {
        return Err(Error::too_large(
            Limit::Side,
            format!(
                "image is {w}x{h} as displayed; the largest side allowed is {}",
                policy.max_side
            ),
        ));
    }
    if w.min(h) < policy.min_side {
        return Err(Error::new(
            ErrorKind::TooSmall,
            format!(
                "image is {w}x{h} as displayed; the smallest side allowed is {}",
                policy.min_side
            ),
        )
        .with_limit(Limit::Side));
    }
    Ok(())
}

/// Bytes the job will hold at its peak, from the headers alone: the decoder's budget,
/// the square (at most the letterbox square; a crop is smaller), every rendition with
/// its encoded output (bounded by its raw size), and an embedded colour profile with
/// the colour engine's tables for it.
pub(crate) fn planned_bytes(policy: &Policy, info: &SourceInfo, colours: &colour::Embedded) -> u64 {
    let animated = info.format == Format::Gif && info.frames > 1;
    let profile = match colours.bytes() {
        0 => 0,
        n => n + colour::TRANSFORM_ALLOWANCE,
    };
    decode_budget(info)
        .saturating_add(placed_bytes(policy, info.width.max(info.height), animated))
        .saturating_add(profile)
}

/// Bytes held after decoding a picture whose longest side is `long_side`: the square
/// (RGBA at most) and every rendition with its encoded output (bounded by its raw
/// size), plus the animation encoder's per-pixel state when `animated`.
fn placed_bytes(policy: &Policy, long_side: u32, animated: bool) -> u64 {
    let square = u64::from(long_side).pow(2) * 4;
    let mut per_pixel = 4 * 2;
    if animated {
        per_pixel += BYTES_PER_OUTPUT_PIXEL;
    }
    let renditions: u64 = policy
        .sizes
        .iter()
        .map(|&s| u64::from(s).pow(2) * per_pixel)
        .sum();
    square.saturating_add(renditions)
}

fn check_budget(
    policy: &Policy,
    info: &SourceInfo,
    colours: &colour::Embedded,
) -> Result<(), Error> {
    within_budget(policy, planned_bytes(policy, info, colours))
}

/// `too_large` (memory) when `need` bytes exceed the policy's `max_alloc`.
fn within_budget(policy: &Policy, need: u64) -> Result<(), Error> {
    if need > policy.max_alloc {
        return Err(Error::too_large(
            Limit::Memory,
            format!(
                "the job would need about {} MiB; the budget (max_alloc) is {} MiB",
                need >> 20,
                policy.max_alloc >> 20
            ),
        ));
    }
    Ok(())
}
