//! The `image` crate's types in and out (cargo feature `image`): what Rust callers
//! already hold.
//!
//! In: a [`DynamicImage`] is rendered as [`process_pixels`] renders pixels, taken as
//! sRGB (an `image` buffer carries no colour profile). 8-bit RGB and RGBA buffers are
//! read in place; other layouts are converted to one of them first (by `image`, with
//! alpha kept when the layout has it), which costs one copy.
//!
//! Out: the renditions as resized pixels instead of files, RGBA8 if any source pixel is
//! transparent and RGB8 otherwise, for callers who draw them, compose them or encode
//! them their own way. The same checks, placement and resizing as [`process`]; no
//! encoder runs.
//!
//! [`process`]: crate::process

use image::{DynamicImage, RgbImage, RgbaImage};

use crate::canvas::Square;
use crate::pipeline::{process_pixels, squares, squares_from_pixels, RawImage, Rendition};
use crate::{Cancel, CropBox, Error, Policy, Upload};

/// One size of an avatar as pixels.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ImageRendition {
    /// Side, in pixels.
    pub size: u32,
    /// `size`×`size`, [`DynamicImage::ImageRgb8`] or [`DynamicImage::ImageRgba8`].
    pub image: DynamicImage,
}

/// [`process_pixels`] for an `image` crate buffer: every size of `policy` as encoded
/// files (JPEG when every pixel is opaque, PNG otherwise).
///
/// # Errors
/// As [`process_pixels`].
///
/// ```
/// let photo = image::RgbImage::from_fn(700, 600, |x, y| image::Rgb([x as u8, y as u8, 90]));
/// let renditions = avatar_engine::process_image(
///     &avatar_engine::Policy::default(),
///     &photo.into(),
///     None,
///     None,
/// )?;
/// assert_eq!(renditions[0].size, 1024);
/// # Ok::<(), avatar_engine::Error>(())
/// ```
pub fn process_image(
    policy: &Policy,
    image: &DynamicImage,
    crop: Option<CropBox>,
    cancel: Option<&Cancel>,
) -> Result<Vec<Rendition>, Error> {
    with_raw(image, |raw| process_pixels(policy, raw, crop, cancel))
}

/// The renditions of an upload as pixels (see the module docs): what [`process`]
/// would encode, in the order of `policy.sizes`. An animated GIF gives its first
/// frame.
///
/// # Errors
/// As [`process`].
///
/// [`process`]: crate::process
///
/// ```
/// use avatar_engine::{render_images, Policy, Upload};
/// let bytes = std::fs::read("testdata/photo_landscape_800x600.jpg")?;
/// let renditions = render_images(&Policy::default(), &Upload::new(&bytes))?;
/// let small = &renditions[renditions.len() - 1];
/// assert_eq!((small.size, small.image.width(), small.image.height()), (24, 24, 24));
/// assert!(small.image.as_rgb8().is_some());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn render_images(policy: &Policy, upload: &Upload<'_>) -> Result<Vec<ImageRendition>, Error> {
    squares(policy, upload).and_then(into_images)
}

/// The renditions of an `image` crate buffer as pixels: [`process_image`] without
/// the encoders.
///
/// # Errors
/// As [`process_pixels`].
pub fn render_image(
    policy: &Policy,
    image: &DynamicImage,
    crop: Option<CropBox>,
    cancel: Option<&Cancel>,
) -> Result<Vec<ImageRendition>, Error> {
    with_raw(image, |raw| squares_from_pixels(policy, raw, crop, cancel)).and_then(into_images)
}

/// Runs `job` on `image`'s 8-bit RGB or RGBA pixels, converting other layouts first.
fn with_raw<T>(
    image: &DynamicImage,
    job: impl FnOnce(&RawImage<'_>) -> Result<T, Error>,
) -> Result<T, Error> {
    let (width, height) = (image.width(), image.height());
    match image {
        DynamicImage::ImageRgb8(rgb) => job(&RawImage::rgb8(width, height, rgb.as_raw())?),
        DynamicImage::ImageRgba8(rgba) => job(&RawImage::rgba8(width, height, rgba.as_raw())?),
        other if other.color().has_alpha() => {
            let rgba = other.to_rgba8();
            job(&RawImage::rgba8(width, height, rgba.as_raw())?)
        }
        other => {
            let rgb = other.to_rgb8();
            job(&RawImage::rgb8(width, height, rgb.as_raw())?)
        }
    }
}

/// The squares as `image` buffers, moved, not copied.
fn into_images(squares: Vec<Square>) -> Result<Vec<ImageRendition>, Error> {
    squares
        .into_iter()
        .map(|sq| {
            let (side, data) = (sq.side, sq.data);
            let image = match sq.channels {
                4 => RgbaImage::from_raw(side, side, data).map(DynamicImage::ImageRgba8),
                _ => RgbImage::from_raw(side, side, data).map(DynamicImage::ImageRgb8),
            }
            .ok_or_else(|| Error::internal("a square does not hold side × side pixels"))?;
            Ok(ImageRendition { size: side, image })
        })
        .collect()
}
