//! The exact extent of a sequential scan's coded data: every block Huffman-decoded
//! (its coefficients thrown away), restart markers checked where the interval puts
//! them, and for each restart interval the bytes its blocks came from.
//!
//! No library decoder reports which bytes it decoded (zune-jpeg and jpeg-decoder both
//! skip whatever lies between an interval's last block and the next marker), and the
//! pass-through must serve nothing else: bytes hidden there (an HTML payload, say)
//! would otherwise reach every viewer of the avatar. The walk runs after zune-jpeg has
//! decoded the file, and only for a file that would be passed through; a scan it
//! cannot finish cleanly (a bad code, a missing restart marker, data that ends early)
//! means no pass-through, never a rejection.

use std::ops::Range;

use super::entropy::{decode_block, Bits, Block, Restarts};
use super::frame;

/// The byte ranges of `jpeg` that its one scan's restart intervals were coded in, in
/// order (restart markers, fill bytes and anything after each interval's last block
/// left out), if its frame is `width`×`height` and a layout [`frame`] takes, and every
/// block of its scan decodes cleanly; `None` otherwise.
///
/// Time: a Huffman decode of the whole scan, about a third of a full decode; memory:
/// the Huffman tables and one block.
pub(crate) fn scan_ranges(jpeg: &[u8], width: u32, height: u32) -> Option<Vec<Range<usize>>> {
    let layout = frame::parse(jpeg)?;
    if (layout.width, layout.height) != (width as usize, height as usize) {
        return None;
    }
    let (mcus_across, mcu_rows) = layout.mcus();
    let mut bits = Bits::new(layout.scan);
    let mut restarts = Restarts::new(layout.restart_interval);
    let mut predictors = [0i32; 3];
    let mut block: Block = [0; 64];
    for _ in 0..mcus_across * mcu_rows {
        if restarts.before_mcu(&mut bits).ok()? {
            predictors = [0; 3];
        }
        for (c, component) in layout.components.iter().enumerate() {
            // Present: checked when the layout was read.
            let dc = layout.dc_tables[component.dc].as_deref()?;
            let ac = layout.ac_tables[component.ac].as_deref()?;
            for _ in 0..component.h * component.v {
                decode_block(&mut bits, &mut block, dc, ac, &mut predictors[c]).ok()?;
            }
        }
        if bits.overran() {
            return None;
        }
    }
    // The scan's data is a slice of `jpeg`: its ranges, made absolute.
    let offset = layout.scan.as_ptr() as usize - jpeg.as_ptr() as usize;
    let ranges = restarts.finish(&bits)?;
    Some(
        ranges
            .into_iter()
            .map(|r| r.start + offset..r.end + offset)
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use jpeg_encoder::{ColorType, Encoder, SamplingFactor};

    use super::scan_ranges;

    /// A noisy `side`² picture as a baseline JPEG (jpeg-encoder, quality 85).
    fn jpeg(side: u16, sampling: SamplingFactor, restart: Option<u16>, gray: bool) -> Vec<u8> {
        let mut state = 0x9E37_79B9u32;
        let pixels: Vec<u8> = (0..usize::from(side) * usize::from(side) * 3)
            .map(|i| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                ((i / 3 % usize::from(side)) as u32 * 2 + state % 32) as u8
            })
            .collect();
        let mut out = Vec::new();
        let mut encoder = Encoder::new(&mut out, 85);
        encoder.set_sampling_factor(sampling);
        if let Some(interval) = restart {
            encoder.set_restart_interval(interval);
        }
        if gray {
            let luma: Vec<u8> = pixels.chunks_exact(3).map(|p| p[1]).collect();
            encoder.encode(&luma, side, side, ColorType::Luma).unwrap();
        } else {
            encoder.encode(&pixels, side, side, ColorType::Rgb).unwrap();
        }
        out
    }

    /// Where each restart interval's data ends in a file as its encoder wrote it: at
    /// the next `RSTn` or at EOI (the encoder pads the last byte and adds nothing).
    fn markers(jpeg: &[u8]) -> Vec<usize> {
        let sos = jpeg.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
        (sos..jpeg.len() - 1)
            .filter(|&i| jpeg[i] == 0xFF && matches!(jpeg[i + 1], 0xD0..=0xD7 | 0xD9))
            .collect()
    }

    #[test]
    fn every_interval_ends_where_the_encoder_ended_it() {
        let layouts = [
            (SamplingFactor::R_4_2_0, false),
            (SamplingFactor::R_4_2_2, false),
            (SamplingFactor::F_1_2, false),
            (SamplingFactor::R_4_4_4, false),
            (SamplingFactor::R_4_4_4, true),
        ];
        for (sampling, gray) in layouts {
            for restart in [None, Some(1), Some(5)] {
                for side in [8, 17, 64] {
                    let file = jpeg(side, sampling, restart, gray);
                    let label = format!("{sampling:?} gray {gray} restart {restart:?} {side}");
                    let ranges = scan_ranges(&file, side.into(), side.into())
                        .unwrap_or_else(|| panic!("{label}: refused"));
                    let ends: Vec<usize> = ranges.iter().map(|r| r.end).collect();
                    assert_eq!(ends, markers(&file), "{label}");
                    // Each interval starts right after the marker before it.
                    for pair in ranges.windows(2) {
                        assert_eq!(pair[1].start, pair[0].end + 2, "{label}");
                    }
                }
            }
        }
    }

    #[test]
    fn fill_bytes_and_payloads_after_the_last_block_are_left_out() {
        let file = jpeg(64, SamplingFactor::R_4_2_0, Some(4), false);
        let clean = scan_ranges(&file, 64, 64).unwrap();
        let ends = markers(&file);
        let (first_rst, eoi) = (ends[0], *ends.last().unwrap());
        // Fill bytes before a restart marker (T.81 B.1.1.2) and a payload before EOI.
        let mut hidden = file.clone();
        hidden.splice(eoi..eoi, *b"<script>");
        hidden.splice(first_rst..first_rst, [0xFF, 0xFF, 0xFF]);
        let ranges = scan_ranges(&hidden, 64, 64).unwrap();
        assert_eq!(ranges.len(), clean.len());
        for (r, c) in ranges.iter().zip(&clean) {
            assert_eq!(hidden[r.clone()], file[c.clone()]);
        }
        // A payload before a restart marker: the walk finds no marker where one is
        // due, and the file is not passed through.
        let mut before_rst = file.clone();
        before_rst.splice(first_rst..first_rst, *b"<script>");
        assert_eq!(scan_ranges(&before_rst, 64, 64), None);
    }

    #[test]
    fn refuses_scans_it_cannot_finish_and_frames_of_another_size() {
        let file = jpeg(64, SamplingFactor::R_4_2_0, Some(2), false);
        assert!(scan_ranges(&file, 64, 64).is_some());
        assert!(scan_ranges(&file, 64, 63).is_none());
        // Cut anywhere: the frame is gone, or the scan ends early.
        for cut in 0..file.len() - 2 {
            assert!(scan_ranges(&file[..cut], 64, 64).is_none(), "cut at {cut}");
        }
        // A restart marker out of sequence.
        let mut wrong = file.clone();
        let at = markers(&file)[0];
        wrong[at + 1] = 0xD3;
        assert!(scan_ranges(&wrong, 64, 64).is_none());
        // Damaged data never panics, whatever the walk makes of it.
        let sos = file.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
        for i in (sos + 14..file.len() - 2).step_by(7) {
            let mut damaged = file.clone();
            damaged[i] ^= 0x5A;
            let _ = scan_ranges(&damaged, 64, 64);
        }
    }
}
