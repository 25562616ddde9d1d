//! PNG: a chunk walk from the signature to IEND, reading IHDR, tRNS and eXIf, and
//! checking that PLTE is whole entries.
//!
//! Chunk data is skipped by length (no inflate, no CRC: the decoder checks those).
//! The walk must reach IEND, which is how a file cut short inside IDAT is caught.

use super::RawHeader;
use crate::error::Error;
use crate::exif::orientation_from_tiff;

pub(super) fn probe(bytes: &[u8]) -> Result<RawHeader, Error> {
    let mut pos = 8; // after the signature
    let (width, height, has_alpha_channel) = match chunk_at(bytes, pos) {
        Some((b"IHDR", data)) if data.len() == 13 => parse_ihdr(data)?,
        Some((b"IHDR", _)) => return Err(Error::bad_image("PNG: IHDR is not 13 bytes")),
        Some(_) => return Err(Error::bad_image("PNG: first chunk is not IHDR")),
        None => return Err(Error::bad_image("PNG: truncated before the end of IHDR")),
    };
    pos += 12 + 13;
    let mut has_trns = false;
    let mut orientation = None;
    let mut idat = false;
    let defect = loop {
        let Some((kind, data)) = chunk_at(bytes, pos) else {
            break Some(Error::bad_image(if idat {
                "PNG: truncated: the file ends inside the image data (no IEND chunk)"
            } else {
                "PNG: truncated: the file ends before the image data"
            }));
        };
        pos += 12 + data.len();
        match kind {
            b"IEND" => {
                break (!idat).then(|| Error::bad_image("PNG: no image data (IDAT) before IEND"))
            }
            b"IDAT" => idat = true,
            // Whole RGB entries, 1 to 256 of them (PNG spec 11.2.3; libpng refuses
            // anything else, and the png crate panicked on a partial last entry).
            b"PLTE" if data.is_empty() || data.len() % 3 != 0 || data.len() > 3 * 256 => {
                break Some(Error::bad_image(format!(
                    "PNG: PLTE is {} bytes; a palette is 1 to 256 entries of 3 bytes",
                    data.len()
                )))
            }
            b"tRNS" => has_trns = true,
            b"eXIf" if orientation.is_none() => orientation = Some(orientation_from_tiff(data)),
            b"IHDR" => break Some(Error::bad_image("PNG: second IHDR chunk")),
            _ => {}
        }
    };
    Ok(RawHeader {
        width,
        height,
        frames: 1,
        orientation: orientation.unwrap_or_default(),
        has_alpha: has_alpha_channel || has_trns,
        defect,
    })
}

/// The chunk at `pos`: its type and data, if all of it (and its CRC) is present.
pub(crate) fn chunk_at(bytes: &[u8], pos: usize) -> Option<(&[u8; 4], &[u8])> {
    let header = bytes.get(pos..pos.checked_add(8)?)?;
    let len = usize::try_from(u32::from_be_bytes(header[..4].try_into().ok()?)).ok()?;
    if len > 0x7FFF_FFFF {
        return None;
    }
    let kind: &[u8; 4] = header[4..8].try_into().ok()?;
    let start = pos + 8;
    let data = bytes.get(start..start.checked_add(len)?)?;
    bytes.get(start + len..start.checked_add(len)?.checked_add(4)?)?;
    Some((kind, data))
}

fn parse_ihdr(d: &[u8]) -> Result<(u32, u32, bool), Error> {
    let width = u32::from_be_bytes([d[0], d[1], d[2], d[3]]);
    let height = u32::from_be_bytes([d[4], d[5], d[6], d[7]]);
    let (depth, color) = (d[8], d[9]);
    let depth_ok = match color {
        0 => matches!(depth, 1 | 2 | 4 | 8 | 16),
        3 => matches!(depth, 1 | 2 | 4 | 8),
        2 | 4 | 6 => matches!(depth, 8 | 16),
        _ => {
            return Err(Error::bad_image(format!(
                "PNG: colour type {color} does not exist"
            )))
        }
    };
    if !depth_ok {
        return Err(Error::bad_image(format!(
            "PNG: bit depth {depth} is not allowed for colour type {color}"
        )));
    }
    if d[10] != 0 || d[11] != 0 || d[12] > 1 {
        return Err(Error::bad_image(
            "PNG: unknown compression, filter or interlace method in IHDR",
        ));
    }
    Ok((width, height, matches!(color, 4 | 6)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut c = (data.len() as u32).to_be_bytes().to_vec();
        c.extend_from_slice(kind);
        c.extend_from_slice(data);
        c.extend_from_slice(&[0; 4]); // CRC is the decoder's business
        c
    }

    fn skeleton(w: u32, h: u32, color: u8, extra: &[Vec<u8>]) -> Vec<u8> {
        let mut p = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut ihdr = w.to_be_bytes().to_vec();
        ihdr.extend_from_slice(&h.to_be_bytes());
        ihdr.extend_from_slice(&[8, color, 0, 0, 0]);
        p.extend(chunk(b"IHDR", &ihdr));
        for c in extra {
            p.extend_from_slice(c);
        }
        p.extend(chunk(b"IDAT", &[1, 2, 3]));
        p.extend(chunk(b"IEND", &[]));
        p
    }

    #[test]
    fn reads_size_alpha_and_exif() {
        let exif = chunk(
            b"eXIf",
            b"MM\0*\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0\x05\0\0",
        );
        let h = probe(&skeleton(700, 500, 2, &[exif])).unwrap();
        assert_eq!((h.width, h.height, h.has_alpha), (700, 500, false));
        assert_eq!(h.orientation.exif_value(), 5);
        assert!(probe(&skeleton(1, 1, 6, &[])).unwrap().has_alpha);
        let trns = chunk(b"tRNS", &[0, 0]);
        assert!(probe(&skeleton(1, 1, 0, &[trns])).unwrap().has_alpha);
    }

    #[test]
    fn every_truncation_is_refused() {
        let p = skeleton(600, 600, 2, &[]);
        for cut in 8..p.len() {
            let failed = match probe(&p[..cut]) {
                Err(e) => e.code() == "bad_image",
                Ok(h) => h.defect.is_some(),
            };
            assert!(failed, "cut at {cut} passed");
        }
    }

    #[test]
    fn invalid_ihdr_is_named() {
        let e = probe(&skeleton(600, 600, 5, &[])).unwrap_err();
        assert!(e.detail().contains("colour type 5"));
    }
}
