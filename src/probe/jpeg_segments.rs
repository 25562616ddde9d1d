//! The JPEG marker walk that the probe, the pass-through and the JPEG decoder share.
//!
//! A JPEG after SOI is a run of markers, each `FF xx` after any number of `FF` fill
//! bytes: standalone ones (EOI, RSTn, TEM, and a stray SOI) and segments with a 16-bit
//! big-endian length that counts itself. After an SOS segment comes entropy-coded data,
//! which runs to the next real marker (`FF` not followed by `00`, `FF` or `D0`–`D7`).
//! Every read is checked; a walk never reads past the input or loops.

/// JPEG marker codes (the byte after `FF`), as named in ITU T.81 table B.1.
pub(crate) mod marker {
    pub const SOF0: u8 = 0xC0;
    pub const DHT: u8 = 0xC4;
    pub const JPG: u8 = 0xC8;
    pub const DAC: u8 = 0xCC;
    /// RST0; RSTn is `RST0 + n` for n in 0..8.
    pub const RST0: u8 = 0xD0;
    pub const SOI: u8 = 0xD8;
    pub const EOI: u8 = 0xD9;
    pub const SOS: u8 = 0xDA;
    pub const DQT: u8 = 0xDB;
    pub const DRI: u8 = 0xDD;
    pub const APP0: u8 = 0xE0;
    pub const APP1: u8 = 0xE1;
    pub const APP14: u8 = 0xEE;
    pub const COM: u8 = 0xFE;

    /// Whether `marker` starts a segment that only carries metadata for a decoder's
    /// caller (APP0–APP15, COM): what the engine strips from everything it serves.
    /// APP0 (JFIF) and APP14 (Adobe, whose transform flag says how to read the
    /// components) are among them; callers that need those match them first.
    pub fn is_metadata(marker: u8) -> bool {
        matches!(marker, 0xE0..=0xEF | COM)
    }
}
use marker::{EOI, SOI, SOS};

/// One marker with what belongs to it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Segment<'a> {
    /// The marker code: the byte after `FF`.
    pub marker: u8,
    /// Offset of the marker's `FF` (the last one, after any fill bytes).
    pub start: usize,
    /// The body after the length field; empty for a standalone marker.
    pub body: &'a [u8],
    /// For SOS, the entropy-coded data after the header; empty otherwise.
    pub data: &'a [u8],
    /// Offset just past the segment and its entropy-coded data.
    pub end: usize,
}

/// Where the input ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Inside {
    /// Before a marker or inside a length field.
    Between,
    /// Inside the body of a segment with this marker.
    Segment(u8),
    /// Inside the entropy-coded data after an SOS (no marker follows it).
    ScanData,
}

/// Why the walk cannot go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// The input ends.
    End(Inside),
    /// A byte other than `FF` where a marker must start.
    NotMarker { at: usize, byte: u8 },
    /// A segment length below 2 (it counts its own two bytes).
    Length { marker: u8, at: usize, len: usize },
}

/// A walk over the markers of `bytes` (a whole JPEG file) from just after SOI.
pub(crate) struct Segments<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Segments<'a> {
    /// A walk from just after the SOI `bytes` start with; `None` if they do not.
    pub fn after_soi(bytes: &'a [u8]) -> Option<Self> {
        (bytes.get(..2)? == [0xFF, SOI]).then_some(Segments { bytes, pos: 2 })
    }

    /// The code of the next marker, without reading it (or the scan data after an SOS);
    /// `None` if no marker starts here.
    pub fn peek_marker(&self) -> Option<u8> {
        let rest = self.bytes.get(self.pos..)?;
        let fill = rest.iter().take_while(|&&b| b == 0xFF).count();
        if fill == 0 {
            return None;
        }
        rest.get(fill).copied()
    }

    /// The next marker and what belongs to it. After an error or EOI, the caller stops.
    pub fn read(&mut self) -> Result<Segment<'a>, Fault> {
        let bytes = self.bytes;
        let mut pos = self.pos;
        match bytes.get(pos) {
            None => return Err(Fault::End(Inside::Between)),
            Some(0xFF) => {}
            Some(&byte) => return Err(Fault::NotMarker { at: pos, byte }),
        }
        while bytes.get(pos) == Some(&0xFF) {
            pos += 1;
        }
        let &marker = bytes.get(pos).ok_or(Fault::End(Inside::Between))?;
        let start = pos - 1;
        pos += 1;
        let mut segment = Segment {
            marker,
            start,
            body: &[],
            data: &[],
            end: pos,
        };
        if !matches!(marker, EOI | SOI | 0xD0..=0xD7 | 0x01) {
            let len = bytes.get(pos..pos + 2).ok_or(Fault::End(Inside::Between))?;
            let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
            if len < 2 {
                return Err(Fault::Length {
                    marker,
                    at: start,
                    len,
                });
            }
            segment.body = bytes
                .get(pos + 2..pos + len)
                .ok_or(Fault::End(Inside::Segment(marker)))?;
            pos += len;
            if marker == SOS {
                let next = next_marker_after_entropy_data(bytes, pos)
                    .ok_or(Fault::End(Inside::ScanData))?;
                segment.data = &bytes[pos..next];
                pos = next;
            }
            segment.end = pos;
        }
        self.pos = pos;
        Ok(segment)
    }
}

/// Offset of the `FF` that starts the next marker after entropy-coded data starting
/// at `from`, or `None` if the data runs to the end of the input.
fn next_marker_after_entropy_data(bytes: &[u8], from: usize) -> Option<usize> {
    let mut pos = from;
    loop {
        pos += bytes.get(pos..)?.iter().position(|&b| b == 0xFF)?;
        // Skip fill bytes: FF FF ... xx.
        let mut next = pos + 1;
        while bytes.get(next) == Some(&0xFF) {
            next += 1;
        }
        match bytes.get(next)? {
            0x00 | 0xD0..=0xD7 => pos = next + 1, // stuffed byte or restart marker
            _ => return Some(next - 1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Marker, start, body length, data length, end.
    type Seen = (u8, usize, usize, usize, usize);

    fn walk(bytes: &[u8]) -> Vec<Result<Seen, Fault>> {
        let mut segments = Segments::after_soi(bytes).unwrap();
        let mut seen = Vec::new();
        loop {
            let item = segments.read();
            let stop = !matches!(item, Ok(s) if s.marker != EOI);
            seen.push(item.map(|s| (s.marker, s.start, s.body.len(), s.data.len(), s.end)));
            if stop {
                return seen;
            }
        }
    }

    #[test]
    fn segments_fill_bytes_scan_data_and_eoi() {
        let j = [
            0xFF, 0xD8, // SOI
            0xFF, 0xFF, 0xFE, 0x00, 0x03, b'x', // fill byte, COM
            0xFF, 0xDA, 0x00, 0x02, // SOS with an empty header
            0x12, 0xFF, 0x00, 0xFF, 0xD3, 0xFF, 0xFF, 0x00, 0x34, // data
            0xFF, 0xD9, // EOI
        ];
        assert_eq!(
            walk(&j),
            vec![
                Ok((0xFE, 3, 1, 0, 8)),
                Ok((0xDA, 8, 0, 9, 21)),
                Ok((0xD9, 21, 0, 0, 23)),
            ]
        );
    }

    #[test]
    fn faults_name_where_the_walk_stopped() {
        let last = |j: &[u8]| *walk(j).last().unwrap();
        assert_eq!(last(&[0xFF, 0xD8]), Err(Fault::End(Inside::Between)));
        assert_eq!(
            last(&[0xFF, 0xD8, 0xFF, 0xFF]),
            Err(Fault::End(Inside::Between))
        );
        assert_eq!(
            last(&[0xFF, 0xD8, 0xFF, 0xE1, 0x00]),
            Err(Fault::End(Inside::Between))
        );
        assert_eq!(
            last(&[0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x05, 1]),
            Err(Fault::End(Inside::Segment(0xE1)))
        );
        assert_eq!(
            last(&[0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02, 1, 0xFF, 0x00]),
            Err(Fault::End(Inside::ScanData))
        );
        assert_eq!(
            last(&[0xFF, 0xD8, 0x12]),
            Err(Fault::NotMarker { at: 2, byte: 0x12 })
        );
        assert_eq!(
            last(&[0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x01]),
            Err(Fault::Length {
                marker: 0xDB,
                at: 2,
                len: 1
            })
        );
    }

    #[test]
    fn standalone_markers_have_no_length() {
        let j = [0xFF, 0xD8, 0xFF, 0xD0, 0xFF, 0x01, 0xFF, 0xD8, 0xFF, 0xD9];
        let markers: Vec<u8> = walk(&j).into_iter().map(|s| s.unwrap().0).collect();
        assert_eq!(markers, [0xD0, 0x01, 0xD8, 0xD9]);
    }
}
