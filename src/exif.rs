//! The one EXIF fact the engine needs: the orientation tag of IFD0.
//!
//! A deliberately tiny, bounds-checked TIFF reader: it looks at the TIFF header, the
//! first IFD's entry count and at most that many 12-byte entries, and never follows
//! any other offset. Anything malformed reads as "no orientation" (1), which is what
//! browsers do, rather than refusing the image.

use crate::orient::Orientation;

const TAG_ORIENTATION: u16 = 0x0112;
const TYPE_SHORT: u16 = 3;

/// Reads the orientation from a TIFF structure (the body of a JPEG `Exif\0\0` APP1
/// segment after those six bytes, or a PNG `eXIf` chunk).
pub fn orientation_from_tiff(tiff: &[u8]) -> Orientation {
    read_orientation(tiff)
        .and_then(Orientation::from_exif)
        .unwrap_or_default()
}

fn read_orientation(tiff: &[u8]) -> Option<u16> {
    let big_endian = match tiff.get(..4)? {
        b"II*\0" => false,
        b"MM\0*" => true,
        _ => return None,
    };
    let u16_at = |at: usize| -> Option<u16> {
        let b: [u8; 2] = tiff.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(if big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b: [u8; 4] = tiff.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    };
    let ifd = usize::try_from(u32_at(4)?).ok()?;
    let count = usize::from(u16_at(ifd)?);
    (0..count).find_map(|i| {
        let entry = ifd.checked_add(2)?.checked_add(i.checked_mul(12)?)?;
        (u16_at(entry)? == TAG_ORIENTATION && u16_at(entry + 2)? == TYPE_SHORT)
            .then(|| u16_at(entry + 8))
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiff_le(value: u16) -> Vec<u8> {
        let mut t = b"II*\0\x08\0\0\0".to_vec();
        t.extend_from_slice(&2u16.to_le_bytes());
        // An unrelated entry first (Make, ASCII), then orientation.
        t.extend_from_slice(&[0x0F, 0x01, 2, 0, 4, 0, 0, 0, b'a', b'b', b'c', 0]);
        t.extend_from_slice(&[0x12, 0x01, 3, 0, 1, 0, 0, 0]);
        t.extend_from_slice(&value.to_le_bytes());
        t.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        t
    }

    #[test]
    fn reads_little_and_big_endian() {
        assert_eq!(orientation_from_tiff(&tiff_le(6)), Orientation::Rotate90);
        let be = b"MM\0*\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0\x08\0\0";
        assert_eq!(orientation_from_tiff(be), Orientation::Rotate270);
    }

    #[test]
    fn malformed_reads_as_normal() {
        assert_eq!(orientation_from_tiff(&tiff_le(9)), Orientation::Normal);
        assert_eq!(orientation_from_tiff(&tiff_le(0)), Orientation::Normal);
        assert_eq!(
            orientation_from_tiff(b"II*\0\xff\xff\xff\xff"),
            Orientation::Normal
        );
        assert_eq!(orientation_from_tiff(b"XX"), Orientation::Normal);
        let t = tiff_le(6);
        for cut in 0..t.len() - 6 {
            assert_eq!(
                orientation_from_tiff(&t[..cut]),
                Orientation::Normal,
                "cut {cut}"
            );
        }
    }
}
