//! What a caller hands the engine: the bytes, the declared type, an optional crop box.

use crate::cancel::Cancel;
use crate::error::Error;

/// A square crop box in the coordinates of the image *as displayed* (after EXIF
/// orientation): the `w`×`w` square whose top-left corner is at (`x`, `y`).
///
/// These are Slack's `crop_x`, `crop_y` and `crop_w`. A box that does not lie wholly
/// inside the image is `invalid_arguments`; coordinates up to `u32::MAX` are checked
/// without overflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct CropBox {
    /// Left edge, in displayed pixels.
    pub x: u32,
    /// Top edge, in displayed pixels.
    pub y: u32,
    /// Side of the square, in displayed pixels; at least 1.
    pub w: u32,
}

impl CropBox {
    /// The `w`×`w` square whose top-left corner is at (`x`, `y`).
    pub const fn new(x: u32, y: u32, w: u32) -> Self {
        CropBox { x, y, w }
    }

    /// Builds a crop box from three optional parts, as they arrive from a form: all
    /// three or none.
    ///
    /// # Errors
    /// `invalid_arguments` when only some parts are given.
    ///
    /// ```
    /// use avatar_engine::CropBox;
    /// assert_eq!(CropBox::from_parts(None, None, None), Ok(None));
    /// assert!(CropBox::from_parts(Some(1), None, Some(5)).is_err());
    /// ```
    pub fn from_parts(
        x: Option<u32>,
        y: Option<u32>,
        w: Option<u32>,
    ) -> Result<Option<CropBox>, Error> {
        match (x, y, w) {
            (None, None, None) => Ok(None),
            (Some(x), Some(y), Some(w)) => Ok(Some(CropBox::new(x, y, w))),
            _ => Err(Error::invalid_arguments(
                "crop_x, crop_y and crop_w must be given all together or not at all",
            )),
        }
    }
}

/// One upload: borrowed bytes (never copied), the Content-Type the client declared,
/// and an optional crop box.
///
/// ```
/// use avatar_engine::{CropBox, Upload};
/// let bytes = std::fs::read("testdata/photo_landscape_800x600.jpg").unwrap();
/// let upload = Upload::new(&bytes)
///     .with_content_type("image/jpeg")
///     .with_crop(CropBox::new(100, 0, 600));
/// assert_eq!(upload.crop.unwrap().w, 600);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Upload<'a> {
    /// The file as uploaded.
    pub bytes: &'a [u8],
    /// The declared MIME type (`image/jpeg`, `image/png; charset=binary`, …), if any.
    /// When present it must name the format the bytes really are, or the upload is
    /// `bad_image`. Default: `None` (format from the bytes alone).
    pub content_type: Option<&'a str>,
    /// Square crop in displayed coordinates. Default: `None` (letterbox to a square).
    pub crop: Option<CropBox>,
    /// A handle that stops the job (see [`Cancel`]). Default: `None` (the job runs to
    /// its end).
    pub cancel: Option<&'a Cancel>,
}

impl<'a> Upload<'a> {
    /// An upload of `bytes` with no declared type and no crop box.
    pub fn new(bytes: &'a [u8]) -> Self {
        Upload {
            bytes,
            content_type: None,
            crop: None,
            cancel: None,
        }
    }

    /// Sets the declared Content-Type.
    pub fn with_content_type(mut self, content_type: &'a str) -> Self {
        self.content_type = Some(content_type);
        self
    }

    /// Sets the crop box.
    pub fn with_crop(mut self, crop: CropBox) -> Self {
        self.crop = Some(crop);
        self
    }

    /// Attaches a cancellation handle (with or without a deadline).
    pub fn with_cancel(mut self, cancel: &'a Cancel) -> Self {
        self.cancel = Some(cancel);
        self
    }
}
