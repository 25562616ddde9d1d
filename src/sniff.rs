//! Stage 1: what the bytes are, from their magic numbers alone; and whether the
//! declared Content-Type agrees.

use std::fmt;

use crate::error::Error;

/// An image container format the engine reads or writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// JPEG (JFIF/EXIF), baseline or progressive.
    Jpeg,
    /// PNG, any colour type and bit depth.
    Png,
    /// GIF87a or GIF89a, still or animated.
    Gif,
}

impl Format {
    /// The lower-case short name used on the wire and in file names: `jpeg`, `png`, `gif`.
    pub const fn name(self) -> &'static str {
        match self {
            Format::Jpeg => "jpeg",
            Format::Png => "png",
            Format::Gif => "gif",
        }
    }

    /// The file extension for renditions: `jpg`, `png`, `gif`.
    pub const fn extension(self) -> &'static str {
        match self {
            Format::Jpeg => "jpg",
            Format::Png => "png",
            Format::Gif => "gif",
        }
    }

    /// The canonical MIME type, e.g. `image/jpeg`.
    pub const fn mime(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Gif => "image/gif",
        }
    }

    /// Whether a declared MIME type names this format. Parameters (`; charset=…`),
    /// case and surrounding spaces are ignored; the common aliases `image/jpg`,
    /// `image/pjpeg` and `image/x-png` are accepted.
    pub fn matches_mime(self, declared: &str) -> bool {
        let essence = declared.split(';').next().unwrap_or("").trim();
        let accepted: &[&str] = match self {
            Format::Jpeg => &["image/jpeg", "image/jpg", "image/pjpeg"],
            Format::Png => &["image/png", "image/x-png"],
            Format::Gif => &["image/gif"],
        };
        accepted.iter().any(|m| m.eq_ignore_ascii_case(essence))
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

const PNG_SIGNATURE: &[u8; 8] = b"\x89PNG\r\n\x1a\n";

/// Names the format of `bytes` from its magic numbers.
///
/// # Errors
/// `bad_image` for anything but JPEG (`FF D8 FF`), PNG (the 8-byte signature) or GIF
/// (`GIF87a`/`GIF89a`), naming what was seen where it is recognisable.
pub fn sniff(bytes: &[u8]) -> Result<Format, Error> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Ok(Format::Jpeg)
    } else if bytes.starts_with(PNG_SIGNATURE) {
        Ok(Format::Png)
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Ok(Format::Gif)
    } else {
        Err(Error::bad_image(format!(
            "not a JPEG, PNG or GIF ({})",
            describe_unknown(bytes)
        )))
    }
}

/// Checks the declared Content-Type, if any, against the sniffed format.
///
/// # Errors
/// `bad_image` when a type is declared and does not name `format`.
pub fn check_content_type(format: Format, declared: Option<&str>) -> Result<(), Error> {
    match declared {
        Some(d) if !format.matches_mime(d) => Err(Error::bad_image(format!(
            "declared Content-Type {:?} does not match the data, which is {}",
            d.chars().take(64).collect::<String>(),
            format.mime()
        ))),
        _ => Ok(()),
    }
}

fn describe_unknown(bytes: &[u8]) -> &'static str {
    const KNOWN: &[(&[u8], &str)] = &[
        (b"RIFF", "looks like RIFF/WebP"),
        (b"BM", "looks like BMP"),
        (b"II*\0", "looks like TIFF"),
        (b"MM\0*", "looks like TIFF"),
        (b"%PDF", "looks like PDF"),
        (b"<?xml", "looks like XML/SVG"),
        (b"<svg", "looks like SVG"),
        (b"\0\0\0", "looks like an ISO media file (HEIC/AVIF)"),
        (b"\xFF\x0A", "looks like JPEG XL"),
        (b"\xFF\xD8", "a truncated JPEG signature"),
        (b"\x89PNG", "a truncated PNG signature"),
        (b"GIF8", "a truncated GIF signature"),
    ];
    if bytes.is_empty() {
        return "empty input";
    }
    KNOWN
        .iter()
        .find(|(magic, _)| bytes.starts_with(magic))
        .map_or("unrecognised signature", |(_, what)| what)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_the_three_formats() {
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0rest"), Ok(Format::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nrest"), Ok(Format::Png));
        assert_eq!(sniff(b"GIF89a...."), Ok(Format::Gif));
        assert_eq!(sniff(b"GIF87a...."), Ok(Format::Gif));
    }

    #[test]
    fn refuses_everything_else_naming_it() {
        for (bytes, words) in [
            (&b""[..], "empty input"),
            (b"RIFF\0\0\0\0WEBPVP8 ", "WebP"),
            (b"BM6\0\0\0", "BMP"),
            (b"<svg xmlns=", "SVG"),
            (b"%PDF-1.7", "PDF"),
            (b"\xFF\xD8", "truncated JPEG"),
            (b"hello", "unrecognised"),
        ] {
            let e = sniff(bytes).unwrap_err();
            assert_eq!(e.code(), "bad_image");
            assert!(e.detail().contains(words), "{}", e);
        }
    }

    #[test]
    fn content_type_must_agree() {
        assert!(check_content_type(Format::Png, None).is_ok());
        assert!(check_content_type(Format::Png, Some("IMAGE/PNG; charset=binary")).is_ok());
        assert!(check_content_type(Format::Jpeg, Some(" image/jpg ")).is_ok());
        for bad in [
            "image/jpeg",
            "image/svg+xml",
            "application/octet-stream",
            "",
            "image/png2",
        ] {
            let e = check_content_type(Format::Png, Some(bad)).unwrap_err();
            assert_eq!(e.code(), "bad_image", "{bad}");
        }
    }
}
