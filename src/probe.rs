//! Stage 2: the facts in the headers — format, size as displayed, frame count,
//! orientation, transparency — read without allocating or decoding any pixel.

mod gif;
pub(crate) mod jpeg;
pub(crate) mod jpeg_segments;
pub(crate) mod png;

use crate::error::Error;
use crate::orient::Orientation;
use crate::sniff::{sniff, Format};

/// What the headers say about an upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SourceInfo {
    /// The container format.
    pub format: Format,
    /// Width as displayed (after EXIF orientation), in pixels.
    pub width: u32,
    /// Height as displayed (after EXIF orientation), in pixels.
    pub height: u32,
    /// Width of the stored pixel grid, in pixels.
    pub stored_width: u32,
    /// Height of the stored pixel grid, in pixels.
    pub stored_height: u32,
    /// Number of frames: the frames of a GIF, 1 for JPEG and PNG (an APNG counts as its
    /// default image). When counting stopped at a policy's limit this is `max_frames + 1`.
    pub frames: u32,
    /// EXIF orientation (JPEG APP1 `Exif`, PNG `eXIf`); `Normal` when absent.
    pub orientation: Orientation,
    /// Whether the headers allow transparency: an alpha channel, a `tRNS` chunk, a GIF
    /// transparent colour index, or GIF frames that leave part of the screen uncovered.
    /// Whether any pixel *is* transparent is known only after decoding; see
    /// [`Avatar::transparent`](crate::Avatar::transparent).
    pub has_alpha: bool,
}

/// Reads the header facts of `bytes` without decoding pixel data.
///
/// JPEG and PNG are walked segment by segment (the entropy-coded JPEG data is only
/// scanned for markers); GIF frames are walked with LZW decoding skipped. Cost is
/// linear in the input's length with a small constant and no allocation that depends
/// on the image's dimensions.
///
/// # Errors
/// `bad_image` when the bytes are not a JPEG, PNG or GIF, or are corrupt or truncated
/// (a JPEG with no EOI, a PNG with no IEND, a GIF cut short inside a frame).
///
/// ```
/// let bytes = std::fs::read("testdata/photo_landscape_800x600.jpg").unwrap();
/// let info = avatar_engine::probe(&bytes).unwrap();
/// assert_eq!((info.width, info.height, info.frames), (800, 600, 1));
/// ```
pub fn probe(bytes: &[u8]) -> Result<SourceInfo, Error> {
    let probed = probe_capped(bytes, u32::MAX)?;
    match probed.defect {
        Some(defect) => Err(defect),
        None => Ok(probed.info),
    }
}

/// Header facts plus the first structural defect found after the dimensions were
/// known. Keeping the defect apart lets the pipeline answer `too_large` for a huge
/// header on a short file, as Slack does, before it answers `bad_image`.
#[derive(Debug)]
pub(crate) struct Probed {
    pub info: SourceInfo,
    pub defect: Option<Error>,
}

/// [`probe`], counting GIF frames only up to `frame_cap + 1`.
pub(crate) fn probe_capped(bytes: &[u8], frame_cap: u32) -> Result<Probed, Error> {
    let format = sniff(bytes)?;
    let raw = match format {
        Format::Jpeg => jpeg::probe(bytes)?,
        Format::Png => png::probe(bytes)?,
        Format::Gif => gif::probe(bytes, frame_cap)?,
    };
    if raw.width == 0 || raw.height == 0 {
        return Err(Error::bad_image(format!(
            "{format} header declares an empty image ({}x{})",
            raw.width, raw.height
        )));
    }
    let (width, height) = raw.orientation.displayed_size(raw.width, raw.height);
    Ok(Probed {
        info: SourceInfo {
            format,
            width,
            height,
            stored_width: raw.width,
            stored_height: raw.height,
            frames: raw.frames,
            orientation: raw.orientation,
            has_alpha: raw.has_alpha,
        },
        defect: raw.defect,
    })
}

/// What one format's header reader found, in stored coordinates.
#[derive(Debug)]
struct RawHeader {
    width: u32,
    height: u32,
    frames: u32,
    orientation: Orientation,
    has_alpha: bool,
    defect: Option<Error>,
}
