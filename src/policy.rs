//! What the engine accepts and produces: one data type with Slack-compatible defaults.

use crate::error::Error;

/// The resampling filter used to make every rendition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Filter {
    /// Lanczos with a 3-lobe window: the sharpest of the set, what libvips, sharp and
    /// Pillow use for thumbnails. The default (see DESIGN.md for why).
    #[default]
    Lanczos3,
    /// Catmull-Rom cubic: a little softer than Lanczos3, with less ringing.
    CatmullRom,
    /// Mitchell-Netravali cubic: softer still, no visible ringing.
    Mitchell,
    /// Box (area average): fastest, soft, blocky when upscaling.
    Box,
}

impl Filter {
    /// Every filter, in the order of their names in [`Filter::name`].
    pub const ALL: [Filter; 4] = [
        Filter::Lanczos3,
        Filter::CatmullRom,
        Filter::Mitchell,
        Filter::Box,
    ];

    /// The filter's name as configuration and the command line spell it:
    /// `lanczos3`, `catmull-rom`, `mitchell` or `box`.
    pub fn name(self) -> &'static str {
        match self {
            Filter::Lanczos3 => "lanczos3",
            Filter::CatmullRom => "catmull-rom",
            Filter::Mitchell => "mitchell",
            Filter::Box => "box",
        }
    }
}

/// Parses a filter by its [`name`](Filter::name), case-insensitively.
///
/// ```
/// use avatar_engine::Filter;
/// assert_eq!("catmull-rom".parse::<Filter>(), Ok(Filter::CatmullRom));
/// assert!("bicubic".parse::<Filter>().is_err());
/// ```
impl std::str::FromStr for Filter {
    type Err = String;

    fn from_str(s: &str) -> Result<Filter, String> {
        Filter::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("{s:?} is not one of lanczos3, catmull-rom, mitchell, box"))
    }
}

/// The rules one upload is held to, and the shape of what it produces.
///
/// Every field is public; [`Policy::default`] is Slack's `users.setPhoto` contract.
/// Validate a hand-built policy with [`Policy::validate`] (the pipeline does so too).
///
/// The struct is `#[non_exhaustive]` (fields will be added), so change the defaults
/// field by field:
///
/// ```
/// let mut policy = avatar_engine::Policy::default();
/// policy.jpeg_quality = 90;
/// policy.sizes = vec![256, 64];
/// assert!(policy.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Policy {
    /// Smallest accepted side of the image as displayed (after EXIF orientation), in
    /// pixels; either side below it is `too_small`. Default: 512.
    pub min_side: u32,
    /// Largest accepted side of the image as displayed, in pixels; either side above it
    /// is `too_large`. Default: 1024.
    pub max_side: u32,
    /// Most frames an animated GIF may have; more is `too_many_frames`. Default: 50.
    pub max_frames: u32,
    /// The rendition sides to produce, in pixels, each giving a `size`×`size` square.
    /// Order is kept in the output. Default: `[1024, 512, 192, 72, 48, 32, 24]`.
    pub sizes: Vec<u32>,
    /// JPEG quality for opaque renditions, 1–100. Default: 85.
    pub jpeg_quality: u8,
    /// Largest accepted upload, in bytes; more is `too_large` before any parsing.
    /// Default: 16 MiB (16 777 216), well above any 1024×1024 JPEG, PNG or GIF of
    /// `max_frames` frames that is not padded.
    pub max_input_bytes: usize,
    /// Most memory one job may plan to hold at once for pixels (decoded source, square
    /// canvas, every rendition, encoder output estimates), in bytes. Checked from the
    /// headers before any pixel buffer is allocated; more is `too_large`.
    /// Default: 256 MiB (268 435 456), several times what a 1024×1024 job needs.
    pub max_alloc: u64,
    /// Colour of the letterbox bars of an opaque rendition, as sRGB `[r, g, b]`.
    /// Renditions with transparency always get transparent bars. Default: black.
    pub background: [u8; 3],
    /// Resampling filter. Default: [`Filter::Lanczos3`].
    pub filter: Filter,
    /// For an animated GIF, also produce a still poster set: the first frame at every
    /// size, as PNG/JPEG (like Mastodon's `avatar_static`), in
    /// [`Avatar::posters`](crate::Avatar::posters), for clients that turn animation
    /// off. Default: `true` — it costs about one still job, a few percent of the
    /// animated one.
    pub still_posters: bool,
    /// For a baseline JPEG source that is already square at a rendition's size, with
    /// no EXIF rotation and no crop, emit that rendition as the source's own
    /// entropy-coded data with every metadata segment removed, instead of decoding
    /// and re-encoding it: no generation loss and no encode cost. Sources coded at
    /// more than [`MAX_PASSTHROUGH_BITS_PER_PIXEL`] are re-encoded anyway, so a
    /// near-lossless upload does not make every viewer download it. Default: `true`.
    pub jpeg_passthrough: bool,
    /// Largest encoded rendition, in bytes. An animated rendition that grows past it is
    /// `too_large` at the frame that crosses it (the rest of the work is not spent):
    /// a noise GIF of 50 frames otherwise makes a 1024 rendition of ~70 MB, more than
    /// any client should be sent for an avatar. Stills cannot come near it (a 1024²
    /// RGBA PNG is at most ~4 MiB). Default: 16 MiB (16 777 216), the upload limit.
    pub max_output_bytes: usize,
}

/// Largest JPEG source [`Policy::jpeg_passthrough`] keeps, in bits per pixel once its
/// metadata is stripped (q85 photos are about 1).
pub const MAX_PASSTHROUGH_BITS_PER_PIXEL: u64 = 2;

impl Default for Policy {
    fn default() -> Self {
        Policy {
            min_side: 512,
            max_side: 1024,
            max_frames: 50,
            sizes: vec![1024, 512, 192, 72, 48, 32, 24],
            jpeg_quality: 85,
            max_input_bytes: 16 << 20,
            max_alloc: 256 << 20,
            background: [0, 0, 0],
            filter: Filter::Lanczos3,
            still_posters: true,
            jpeg_passthrough: true,
            max_output_bytes: 16 << 20,
        }
    }
}

/// Largest rendition side accepted in [`Policy::sizes`]: JPEG and the resizer index
/// with 16-bit sides.
pub const MAX_RENDITION_SIDE: u32 = 16384;

impl Policy {
    /// Checks that the policy itself is usable: `1 <= min_side <= max_side`, at least
    /// one size, every size in `1..=16384` and none repeated, quality in `1..=100`.
    ///
    /// # Errors
    /// `invalid_arguments`, naming the field.
    pub fn validate(&self) -> Result<(), Error> {
        if self.min_side == 0 || self.min_side > self.max_side {
            return Err(Error::invalid_arguments(format!(
                "policy: min_side {} must be at least 1 and at most max_side {}",
                self.min_side, self.max_side
            )));
        }
        if self.sizes.is_empty() {
            return Err(Error::invalid_arguments("policy: sizes is empty"));
        }
        for (i, &s) in self.sizes.iter().enumerate() {
            if s == 0 || s > MAX_RENDITION_SIDE {
                return Err(Error::invalid_arguments(format!(
                    "policy: size {s} is outside 1..={MAX_RENDITION_SIDE}"
                )));
            }
            if self.sizes[..i].contains(&s) {
                return Err(Error::invalid_arguments(format!(
                    "policy: size {s} is listed twice"
                )));
            }
        }
        if self.max_output_bytes == 0 {
            return Err(Error::invalid_arguments(
                "policy: max_output_bytes must be at least 1",
            ));
        }
        if !(1..=100).contains(&self.jpeg_quality) {
            return Err(Error::invalid_arguments(format!(
                "policy: jpeg_quality {} is outside 1..=100",
                self.jpeg_quality
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_slack_contract_and_valid() {
        let p = Policy::default();
        assert_eq!((p.min_side, p.max_side, p.max_frames), (512, 1024, 50));
        assert_eq!(p.jpeg_quality, 85);
        assert!(p.validate().is_ok());
    }

    #[test]
    fn validate_names_the_bad_field() {
        let bad = [
            Policy {
                min_side: 0,
                ..Default::default()
            },
            Policy {
                min_side: 2000,
                ..Default::default()
            },
            Policy {
                sizes: vec![],
                ..Default::default()
            },
            Policy {
                sizes: vec![0],
                ..Default::default()
            },
            Policy {
                sizes: vec![64, 64],
                ..Default::default()
            },
            Policy {
                sizes: vec![MAX_RENDITION_SIDE + 1],
                ..Default::default()
            },
            Policy {
                jpeg_quality: 0,
                ..Default::default()
            },
            Policy {
                jpeg_quality: 101,
                ..Default::default()
            },
        ];
        for p in bad {
            let e = p.validate().unwrap_err();
            assert_eq!(e.code(), "invalid_arguments", "{p:?}");
            assert!(e.detail().starts_with("policy: "));
        }
    }
}
