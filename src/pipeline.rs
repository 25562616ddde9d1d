//! The whole job, top to bottom, in the order of the contract.

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::canvas::compose;
use crate::decode::{decode, decode_budget};
use crate::encode::encode;
use crate::error::{Rejection, RejectionKind};
use crate::geometry::place;
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
    /// JPEG for opaque sources, PNG when any pixel is transparent.
    pub format: Format,
    /// The encoded file, with no metadata.
    pub bytes: Vec<u8>,
}

/// The result of a successful job: what the source was and one rendition per size.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Avatar {
    /// The header facts of the upload.
    pub source: SourceInfo,
    /// One rendition per [`Policy::sizes`] entry, in that order.
    pub renditions: Vec<Rendition>,
}

impl Avatar {
    /// Whether the renditions carry transparency (some source pixel is not opaque, or
    /// letterbox bars were added to such an image).
    pub fn transparent(&self) -> bool {
        self.renditions
            .first()
            .is_some_and(|r| r.format == Format::Png)
    }

    /// The rendition of side `size`, if the policy asked for it.
    pub fn rendition(&self, size: u32) -> Option<&Rendition> {
        self.renditions.iter().find(|r| r.size == size)
    }
}

/// Turns one upload into its renditions under `policy`.
///
/// In order: size cap, format sniff, Content-Type check, header probe, side limits,
/// memory budget, structural defects (truncation), frame limit, crop box; only then
/// decode, orient + crop/letterbox, resize every size in parallel on the current rayon
/// pool, encode. A panic inside a codec is caught and returned as `internal_error`.
///
/// # Errors
/// A [`Rejection`] whose [`code`](Rejection::code) is the Slack wire error.
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
pub fn process(policy: &Policy, upload: &Upload<'_>) -> Result<Avatar, Rejection> {
    match catch_unwind(AssertUnwindSafe(|| run(policy, upload))) {
        Ok(result) => result,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(Rejection::internal(format!("the engine panicked: {what}")))
        }
    }
}

fn run(policy: &Policy, upload: &Upload<'_>) -> Result<Avatar, Rejection> {
    policy.validate()?;
    let bytes = upload.bytes;
    if bytes.len() > policy.max_input_bytes {
        return Err(Rejection::too_large(format!(
            "upload is {} bytes; the limit is {}",
            bytes.len(),
            policy.max_input_bytes
        )));
    }
    check_content_type(sniff(bytes)?, upload.content_type)?;
    let probed = probe_capped(bytes, policy.max_frames)?;
    let info = probed.info;
    check_sides(policy, &info)?;
    check_budget(policy, &info)?;
    if let Some(defect) = probed.defect {
        return Err(defect);
    }
    if info.frames > policy.max_frames {
        return Err(Rejection::new(
            RejectionKind::TooManyFrames,
            format!("GIF has more than {} frames", policy.max_frames),
        ));
    }
    let placement = place(info.width, info.height, upload.crop)?;

    let pixels = decode(bytes, &info)?;
    let alpha = pixels.has_transparency();
    let square = compose(
        &pixels,
        info.orientation,
        &placement,
        alpha,
        policy.background,
    )?;
    drop(pixels);
    let format = if alpha { Format::Png } else { Format::Jpeg };
    let encoded = render_all(&square, &policy.sizes, policy.filter, |r| {
        encode(r, format, policy.jpeg_quality)
    });
    let renditions = policy
        .sizes
        .iter()
        .zip(encoded)
        .map(|(&size, bytes)| {
            Ok(Rendition {
                size,
                format,
                bytes: bytes?,
            })
        })
        .collect::<Result<_, Rejection>>()?;
    Ok(Avatar {
        source: info,
        renditions,
    })
}

fn check_sides(policy: &Policy, info: &SourceInfo) -> Result<(), Rejection> {
    let (w, h) = (info.width, info.height);
    if w.max(h) > policy.max_side {
        return Err(Rejection::too_large(format!(
            "image is {w}x{h} as displayed; the largest side allowed is {}",
            policy.max_side
        )));
    }
    if w.min(h) < policy.min_side {
        return Err(Rejection::new(
            RejectionKind::TooSmall,
            format!(
                "image is {w}x{h} as displayed; the smallest side allowed is {}",
                policy.min_side
            ),
        ));
    }
    Ok(())
}

/// Bytes the job will hold at its peak, from the headers alone: the decoder's budget,
/// the square (at most the letterbox square; a crop is smaller), and every rendition
/// with its encoded output (bounded by its raw size).
pub(crate) fn planned_bytes(policy: &Policy, info: &SourceInfo) -> u64 {
    let square = u64::from(info.width.max(info.height)).pow(2) * 4;
    let renditions: u64 = policy
        .sizes
        .iter()
        .map(|&s| u64::from(s).pow(2) * 4 * 2)
        .sum();
    decode_budget(info)
        .saturating_add(square)
        .saturating_add(renditions)
}

fn check_budget(policy: &Policy, info: &SourceInfo) -> Result<(), Rejection> {
    let need = planned_bytes(policy, info);
    if need > policy.max_alloc {
        return Err(Rejection::too_large(format!(
            "the job would need about {} MiB; the budget (max_alloc) is {} MiB",
            need >> 20,
            policy.max_alloc >> 20
        )));
    }
    Ok(())
}
