//! JPEG: a marker walk from SOI to EOI.
//!
//! Segments are skipped by their length fields; entropy-coded data after each SOS is
//! scanned for the next real marker (both in [`jpeg_segments`](super::jpeg_segments)).
//! The walk must reach EOI: decoders fill a truncated scan with invented data, so
//! missing EOI is how a cut-short upload is caught.

use super::jpeg_segments::{Fault, Inside, Segments};
use super::RawHeader;
use crate::error::Error;
use crate::exif::orientation_from_tiff;
use crate::orient::Orientation;

use super::jpeg_segments::marker::*;

/// The most scans a JPEG may have: zune-jpeg's own limit. Each scan is a pass over up
/// to every block of the image; 500 near-empty refinement scans of a 1024² image (an
/// 8 KB file) took a decoder 0.36 s, 100 take a fifth of that. Encoders write one (sequential) to
/// a few dozen (libjpeg's default progressive script has 10).
pub(crate) const MAX_SCANS: u32 = 100;

struct Frame {
    width: u32,
    height: u32,
}

pub(super) fn probe(bytes: &[u8]) -> Result<RawHeader, Error> {
    let mut frame: Option<Frame> = None;
    let mut orientation: Option<Orientation> = None;
    let mut scans = 0u32;
    let Some(mut segments) = Segments::after_soi(bytes) else {
        return Err(Error::bad_image("JPEG: does not start with SOI"));
    };
    let defect = loop {
        let segment = match segments.read() {
            Ok(segment) => segment,
            Err(fault) => break Some(defect_of(fault, frame.is_some(), scans)?),
        };
        let (marker, body) = (segment.marker, segment.body);
        match marker {
            EOI => break None,
            SOI => {
                break Some(Error::bad_image(format!(
                    "JPEG: second SOI at offset {}",
                    segment.start
                )))
            }
            0xC0..=0xCF if marker != DHT && marker != JPG && marker != DAC => {
                if frame.is_some() {
                    break Some(Error::bad_image(
                        "JPEG: more than one frame header (hierarchical JPEG is not supported)",
                    ));
                }
                frame = Some(parse_sof(marker, body)?);
            }
            APP1 if orientation.is_none() => {
                if let Some(tiff) = body.strip_prefix(b"Exif\0\0") {
                    orientation = Some(orientation_from_tiff(tiff));
                }
            }
            SOS => {
                if frame.is_none() {
                    return Err(Error::bad_image("JPEG: scan data before any frame header"));
                }
                scans += 1;
                if scans > MAX_SCANS {
                    break Some(Error::bad_image(format!(
                        "JPEG: more than {MAX_SCANS} scans"
                    )));
                }
            }
            // RSTn, TEM and every other segment: skipped.
            _ => {}
        }
    };
    let Some(frame) = frame else {
        return Err(defect.unwrap_or_else(|| Error::bad_image("JPEG: no frame header (SOF)")));
    };
    let defect = defect
        .or_else(|| (scans == 0).then(|| Error::bad_image("JPEG: no scan data (SOS) before EOI")));
    Ok(RawHeader {
        width: frame.width,
        height: frame.height,
        frames: 1,
        orientation: orientation.unwrap_or_default(),
        has_alpha: false,
        defect,
    })
}

/// What a walk `fault` makes of the file, after `scans` scans and with or without a
/// frame header read: a defect found once the size is known (`Ok`, reported after the
/// size checks), or a refusal before it (`Err`, reported at once).
fn defect_of(fault: Fault, has_frame: bool, scans: u32) -> Result<Error, Error> {
    match fault {
        Fault::End(Inside::Segment(marker)) if !has_frame => Err(Error::bad_image(format!(
            "JPEG: file ends inside segment 0x{marker:02X}, before the image size"
        ))),
        Fault::End(Inside::ScanData) if !has_frame => {
            Err(Error::bad_image("JPEG: scan data before any frame header"))
        }
        Fault::End(Inside::ScanData) => Ok(truncated(true, scans + 1)),
        Fault::End(_) => Ok(truncated(has_frame, scans)),
        Fault::NotMarker { at, byte } => Ok(Error::bad_image(format!(
            "JPEG: expected a marker at offset {at}, found byte 0x{byte:02X}"
        ))),
        Fault::Length { marker, at, len } => Ok(Error::bad_image(format!(
            "JPEG: segment 0x{marker:02X} at offset {at} has length {len}"
        ))),
    }
}

fn parse_sof(marker: u8, body: &[u8]) -> Result<Frame, Error> {
    if body.len() < 6 {
        return Err(Error::bad_image("JPEG: frame header shorter than 6 bytes"));
    }
    let precision = body[0];
    let height = u32::from(u16::from_be_bytes([body[1], body[2]]));
    let width = u32::from(u16::from_be_bytes([body[3], body[4]]));
    let components = body[5];
    let kind = match marker {
        0xC0 | 0xC1 => "baseline",
        0xC2 => "progressive",
        0xC3 => return Err(unsupported("lossless")),
        0xC9..=0xCB => return Err(unsupported("arithmetic-coded")),
        _ => return Err(unsupported("hierarchical")),
    };
    if precision != 8 {
        return Err(unsupported(&format!("{precision}-bit {kind}")));
    }
    if !matches!(components, 1 | 3 | 4) {
        return Err(Error::bad_image(format!(
            "JPEG: {components} colour components (1, 3 or 4 are supported)"
        )));
    }
    if body.len() < 6 + 3 * usize::from(components) {
        return Err(Error::bad_image(
            "JPEG: frame header lists fewer components than it declares",
        ));
    }
    if height == 0 {
        return Err(unsupported("height-in-DNL"));
    }
    Ok(Frame { width, height })
}

fn unsupported(what: &str) -> Error {
    Error::bad_image(format!("JPEG: {what} JPEG is not supported"))
}

fn truncated(has_frame: bool, scans: u32) -> Error {
    Error::bad_image(if has_frame && scans > 0 {
        "JPEG: truncated: the file ends inside the image data (no EOI marker)"
    } else {
        "JPEG: truncated: the file ends before the image data"
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A structurally valid JPEG skeleton: SOI, APP1 (optional), SOF0, SOS, data, EOI.
    fn skeleton(w: u16, h: u16, exif: Option<u16>) -> Vec<u8> {
        let mut j = vec![0xFF, SOI];
        if let Some(o) = exif {
            let mut tiff = b"Exif\0\0MM\0*\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01".to_vec();
            tiff.extend_from_slice(&o.to_be_bytes());
            tiff.extend_from_slice(&[0, 0]);
            j.extend_from_slice(&[0xFF, APP1]);
            j.extend_from_slice(&(tiff.len() as u16 + 2).to_be_bytes());
            j.extend_from_slice(&tiff);
        }
        j.extend_from_slice(&[0xFF, 0xC0, 0, 11, 8]);
        j.extend_from_slice(&h.to_be_bytes());
        j.extend_from_slice(&w.to_be_bytes());
        j.extend_from_slice(&[1, 1, 0x11, 0]);
        j.extend_from_slice(&[0xFF, SOS, 0, 8, 1, 1, 0, 0, 63, 0]);
        j.extend_from_slice(&[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56]);
        j.extend_from_slice(&[0xFF, EOI]);
        j
    }

    #[test]
    fn reads_size_and_orientation() {
        let h = probe(&skeleton(640, 480, Some(6))).unwrap();
        assert_eq!((h.width, h.height), (640, 480));
        assert_eq!(h.orientation, Orientation::Rotate90);
        assert!(h.defect.is_none());
    }

    #[test]
    fn huge_header_on_short_file_reports_size_then_defect() {
        let mut j = skeleton(65535, 65535, None);
        j.truncate(j.len() - 6);
        let h = probe(&j).unwrap();
        assert_eq!((h.width, h.height), (65535, 65535));
        assert!(h.defect.unwrap().detail().contains("truncated"));
    }

    #[test]
    fn every_truncation_is_refused() {
        let j = skeleton(600, 600, Some(3));
        for cut in 2..j.len() - 1 {
            let r = probe(&j[..cut]);
            let failed = match r {
                Err(e) => e.code() == "bad_image",
                Ok(h) => h.defect.is_some(),
            };
            assert!(failed, "cut at {cut} passed");
        }
    }

    #[test]
    fn too_many_scans_are_refused() {
        let j = skeleton(600, 600, None);
        let sos = j.windows(2).position(|w| w == [0xFF, SOS]).unwrap();
        let eoi = j.len() - 2;
        let scan = &j[sos..eoi];
        for (count, refused) in [(MAX_SCANS, false), (MAX_SCANS + 1, true)] {
            let many = [&j[..sos], &scan.repeat(count as usize), &j[eoi..]].concat();
            let h = probe(&many).unwrap();
            assert_eq!(h.defect.is_some(), refused, "{count} scans");
        }
    }

    #[test]
    fn unsupported_kinds_are_named() {
        let mut j = skeleton(600, 600, None);
        let sof = j.iter().position(|&b| b == 0xC0).unwrap();
        j[sof] = 0xC9;
        assert!(probe(&j).unwrap_err().detail().contains("arithmetic"));
    }
}
