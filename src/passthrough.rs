//! Stage 7, shortcut: a baseline JPEG whose rendition would be its own pixels is
//! re-emitted as it was coded, with every metadata segment removed and nothing of its
//! scan but the bytes its MCUs were decoded from.
//!
//! Re-encoding a JPEG that needs no pixel change costs the biggest encode of the job
//! (~45% of a 1024² job on one thread) and adds a generation of loss. Instead the
//! source's own tables, frame header, scans and entropy-coded data are copied, and
//! everything that is not needed to decode the pixels (APPn, COM, trailing bytes after
//! EOI) is dropped; a plain JFIF APP0 is written so decoders read the three components
//! as YCbCr, as they would have.
//!
//! Only the simplest, unambiguous case is taken: sequential Huffman (SOF0), 8-bit, one
//! component or three with YCbCr component ids (1, 2, 3 or 0, 1, 2), no Adobe APP14 (whose colour
//! transform flag would change how the components are read), and nothing but DQT, DHT,
//! DRI, SOS and their scan data between SOI and EOI. Anything else returns `None` and
//! the rendition is encoded as usual. The caller has already decoded the file (so its
//! pixels are known) and checked that the rendition is the source's pixels unchanged:
//! same side, no orientation, no crop, no letterbox, no colour conversion.
//!
//! The scan is rebuilt from the byte ranges [`walk`] found each restart interval's
//! blocks coded in, joined by fresh `RSTn` markers: bytes a file hides between its
//! last coded block and a restart marker or EOI (an HTML payload, say) are not served,
//! nor are fill bytes. What survives of the source's scan is its coded blocks and
//! the padding bits of each interval's last byte.

mod entropy;
mod frame;
mod walk;

use std::ops::Range;

use crate::policy::MAX_PASSTHROUGH_BITS_PER_PIXEL as MAX_BITS_PER_PIXEL;
use crate::probe::jpeg_segments::marker::{
    is_metadata, APP14, DHT, DQT, DRI, EOI, RST0, SOF0, SOI, SOS,
};
use crate::probe::jpeg_segments::Segments;

/// `RST0` to `RST7`, the markers that join the rebuilt scan's intervals.
const RESTART_MARKERS: [[u8; 2]; 8] = {
    let mut markers = [[0xFF, RST0]; 8];
    let mut n = 1;
    while n < 8 {
        markers[n][1] = RST0 + n as u8;
        n += 1;
    }
    markers
};

/// JFIF 1.01, 1:1 pixel aspect, no thumbnail: the APP0 every rendition starts with.
pub(crate) const JFIF_APP0: [u8; 18] = [
    0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01,
    0x00, 0x00,
];

/// `jpeg` (of `side`×`side` pixels) without its metadata segments and with nothing of
/// its scan but its coded blocks, if it can be passed through (see the module docs);
/// `None` otherwise.
pub(crate) fn passthrough(jpeg: &[u8], side: u32) -> Option<Vec<u8>> {
    let ranges = walk::scan_ranges(jpeg, side, side)?;
    strip_baseline(jpeg, side, &ranges)
}

/// `jpeg` without its metadata segments, if it is a baseline JPEG of `side`×`side`
/// pixels that can be passed through (see the module docs) and is at most
/// [`MAX_BITS_PER_PIXEL`](crate::MAX_PASSTHROUGH_BITS_PER_PIXEL) once stripped; `None` otherwise.
/// `consumed` are the byte ranges of `jpeg` that its one scan's restart intervals
/// were decoded from, in order.
pub(crate) fn strip_baseline(jpeg: &[u8], side: u32, consumed: &[Range<usize>]) -> Option<Vec<u8>> {
    // Pieces to keep, in order, after SOI and the fresh APP0.
    let mut keep: Vec<&[u8]> = Vec::new();
    let mut frame = false;
    let mut scanned = false;
    let mut segments = Segments::after_soi(jpeg)?;
    loop {
        let segment = segments.read().ok()?;
        let whole = &jpeg[segment.start..segment.end];
        match segment.marker {
            EOI => break,
            SOF0 => {
                if frame || !frame_is_plain(segment.body, side) {
                    return None;
                }
                frame = true;
                keep.push(whole);
            }
            DQT | DHT | DRI => keep.push(whole),
            SOS => {
                if !frame || scanned || consumed.is_empty() {
                    return None;
                }
                scanned = true;
                let header_end = segment.start + 4 + segment.body.len();
                keep.push(&jpeg[segment.start..header_end]);
                for (i, range) in consumed.iter().enumerate() {
                    if range.start < header_end || range.end > segment.end {
                        return None;
                    }
                    if i > 0 {
                        keep.push(&RESTART_MARKERS[(i - 1) % 8]);
                    }
                    keep.push(&jpeg[range.clone()]);
                }
            }
            APP14 => return None,
            m if is_metadata(m) => {}
            _ => return None,
        }
    }
    if !scanned {
        return None;
    }
    let len = 2 + JFIF_APP0.len() + keep.iter().map(|k| k.len()).sum::<usize>() + 2;
    if len as u64 * 8 > MAX_BITS_PER_PIXEL * u64::from(side) * u64::from(side) {
        return None;
    }
    let mut out = Vec::new();
    out.try_reserve_exact(len).ok()?;
    out.extend_from_slice(&[0xFF, SOI]);
    out.extend_from_slice(&JFIF_APP0);
    for k in keep {
        out.extend_from_slice(k);
    }
    out.extend_from_slice(&[0xFF, EOI]);
    Some(out)
}

/// An 8-bit `side`×`side` frame of one component, or of three with the ids of the two
/// YCbCr conventions in the wild: 1, 2, 3 (JFIF, libjpeg) or 0, 1, 2.
fn frame_is_plain(sof: &[u8], side: u32) -> bool {
    let [precision, h0, h1, w0, w1, n, ref components @ ..] = *sof else {
        return false;
    };
    let (h, w) = (u16::from_be_bytes([h0, h1]), u16::from_be_bytes([w0, w1]));
    let ids: Vec<u8> = components.chunks_exact(3).map(|c| c[0]).collect();
    precision == 8
        && u32::from(h) == side
        && u32::from(w) == side
        && components.len() == 3 * usize::from(n)
        && (ids.len() == 1 || ids == [1, 2, 3] || ids == [0, 1, 2])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::jpeg_segments::marker::COM;

    /// SOI, APP1 "Exif", COM, DQT, SOF0 (3 components, ids `ids`), DHT, SOS + data, EOI,
    /// trailing bytes.
    fn jpeg(side: u16, ids: [u8; 3], sof: u8) -> Vec<u8> {
        let mut j = vec![0xFF, 0xD8];
        j.extend_from_slice(&[0xFF, 0xE1, 0x00, 0x08, b'E', b'x', b'i', b'f', 0, 0]);
        j.extend_from_slice(&[0xFF, COM, 0x00, 0x06, b'h', b'e', b'l', b'o']);
        j.extend_from_slice(&[0xFF, DQT, 0x00, 0x03, 0x00]);
        j.extend_from_slice(&[0xFF, sof, 0x00, 17, 8]);
        j.extend_from_slice(&side.to_be_bytes());
        j.extend_from_slice(&side.to_be_bytes());
        j.push(3);
        for id in ids {
            j.extend_from_slice(&[id, 0x11, 0]);
        }
        j.extend_from_slice(&[0xFF, DHT, 0x00, 0x03, 0x00]);
        j.extend_from_slice(&[0xFF, SOS, 0x00, 0x03, 0x00]);
        j.extend_from_slice(&[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56]);
        j.extend_from_slice(&[0xFF, EOI, b't', b'a', b'i', b'l']);
        j
    }

    /// The two restart intervals of [`jpeg`]'s scan, as a decoder would have consumed
    /// them: `12 FF00 34` and `56`.
    fn intervals(src: &[u8]) -> Vec<Range<usize>> {
        let first = src
            .windows(3)
            .position(|w| w == [0x12, 0xFF, 0x00])
            .unwrap();
        let second = src.windows(2).position(|w| w == [0xFF, 0xD0]).unwrap() + 2;
        vec![first..first + 4, second..second + 1]
    }

    #[test]
    fn keeps_tables_frame_and_scan_and_drops_metadata_and_trailer() {
        let src = jpeg(64, [1, 2, 3], SOF0);
        let out = strip_baseline(&src, 64, &intervals(&src)).unwrap();
        assert_eq!(&out[..2], &[0xFF, 0xD8]);
        assert_eq!(&out[2..20], &JFIF_APP0);
        let body_start = src.windows(2).position(|w| w == [0xFF, DQT]).unwrap();
        let eoi = src.windows(2).rposition(|w| w == [0xFF, EOI]).unwrap();
        assert_eq!(&out[20..], &src[body_start..eoi + 2]);
        for needle in [&b"Exif"[..], b"helo", b"tail"] {
            assert!(!out.windows(needle.len()).any(|w| w == needle));
        }
    }

    #[test]
    fn bytes_the_decoder_did_not_consume_are_not_kept() {
        let clean = jpeg(64, [1, 2, 3], SOF0);
        let mut src = clean.clone();
        // After each interval's coded data: a payload, and fill bytes before RST0.
        let rst = src.windows(2).position(|w| w == [0xFF, 0xD0]).unwrap();
        src.splice(rst..rst, *b"<script>\xFF\xFF");
        let eoi = src.windows(2).rposition(|w| w == [0xFF, EOI]).unwrap();
        src.splice(eoi..eoi, *b"<script>");
        let first = src
            .windows(3)
            .position(|w| w == [0x12, 0xFF, 0x00])
            .unwrap();
        let second = src.windows(2).position(|w| w == [0xFF, 0xD0]).unwrap() + 2;
        let consumed = [first..first + 4, second..second + 1];
        let out = strip_baseline(&src, 64, &consumed).unwrap();
        assert_eq!(out, strip_baseline(&clean, 64, &intervals(&clean)).unwrap());
        // Ranges outside the scan are refused.
        assert!(strip_baseline(&src, 64, &[0..2, 2..4]).is_none());
        assert!(strip_baseline(&src, 64, &[]).is_none());
    }

    #[test]
    fn refuses_what_it_cannot_pass_through_unchanged() {
        let strip = |src: &[u8], side| strip_baseline(src, side, &intervals(src));
        // Wrong side, progressive, RGB component ids.
        assert!(strip(&jpeg(64, [1, 2, 3], SOF0), 32).is_none());
        assert!(strip(&jpeg(64, [1, 2, 3], 0xC2), 64).is_none());
        assert!(strip(&jpeg(64, [b'R', b'G', b'B'], SOF0), 64).is_none());
        // Adobe APP14 anywhere.
        let mut adobe = jpeg(64, [1, 2, 3], SOF0);
        adobe.splice(2..2, [0xFF, APP14, 0x00, 0x04, 0x00, 0x00]);
        assert!(strip(&adobe, 64).is_none());
        // Too many bits per pixel: 4×4 leaves room for 4 bytes.
        assert!(strip(&jpeg(4, [1, 2, 3], SOF0), 4).is_none());
        // Truncated anywhere.
        let whole = jpeg(64, [1, 2, 3], SOF0);
        let consumed = intervals(&whole);
        for cut in 0..whole.len() - 6 {
            assert!(
                strip_baseline(&whole[..cut], 64, &consumed).is_none(),
                "cut at {cut}"
            );
        }
    }
}
