//! The layout of a JPEG whose scan [`walk`](super::walk) can measure, read from its
//! segments.
//!
//! Taken: one sequential Huffman scan (SOF0 or SOF1, 8-bit) holding every component
//! of the frame, and either one component (gray) or three read as YCbCr (no Adobe
//! APP14, whose transform flag decides that, and not the component ids `R`, `G`, `B`)
//! with luma sampled 1 or 2 times the chroma in each direction and chroma at 1×1.
//! Everything else — progressive, CMYK, other samplings, several scans, tables that
//! are missing or malformed, any marker this reader does not know — returns `None`,
//! and the file is not passed through.

use super::entropy::Huffman;
use crate::probe::jpeg_segments::marker::{is_metadata, APP14, DHT, DQT, DRI, EOI, SOF0, SOS};
use crate::probe::jpeg_segments::Segments;

/// SOF1: extended sequential Huffman, the same coding as SOF0 for 8-bit samples.
const SOF1: u8 = 0xC1;

/// One component of the frame, in scan order.
#[derive(Debug, Clone, Copy)]
pub(super) struct Component {
    /// Horizontal and vertical sampling factors: blocks per MCU across and down.
    pub h: usize,
    pub v: usize,
    /// DC and AC Huffman table slots (0–3).
    pub dc: usize,
    pub ac: usize,
}

/// What the walk needs of a file it takes.
pub(super) struct Layout<'a> {
    pub width: usize,
    pub height: usize,
    /// 1 (gray) or 3 (Y, Cb, Cr), in scan order.
    pub components: Vec<Component>,
    pub dc_tables: [Option<Box<Huffman>>; 4],
    pub ac_tables: [Option<Box<Huffman>>; 4],
    /// MCUs between restart markers; 0 for none.
    pub restart_interval: usize,
    /// The entropy-coded data of the one scan, up to the EOI marker.
    pub scan: &'a [u8],
}

impl Layout<'_> {
    /// The largest sampling factors (luma's): an MCU is `8·h_max × 8·v_max` pixels.
    pub fn max_sampling(&self) -> (usize, usize) {
        (self.components[0].h, self.components[0].v)
    }

    /// MCUs across and down.
    pub fn mcus(&self) -> (usize, usize) {
        let (h, v) = self.max_sampling();
        (self.width.div_ceil(8 * h), self.height.div_ceil(8 * v))
    }
}

/// The frame header's components: (id, h, v, quantisation table slot).
type FrameComponents = Vec<(u8, usize, usize, usize)>;

/// The layout of `bytes` if the walk takes it (see the module docs).
pub(super) fn parse(bytes: &[u8]) -> Option<Layout<'_>> {
    let mut quant = [false; 4];
    let mut dc_tables: [Option<Box<Huffman>>; 4] = Default::default();
    let mut ac_tables: [Option<Box<Huffman>>; 4] = Default::default();
    let mut restart_interval = 0;
    let mut frame: Option<(usize, usize, FrameComponents)> = None;
    let mut segments = Segments::after_soi(bytes)?;
    loop {
        let segment = segments.read().ok()?;
        let body = segment.body;
        match segment.marker {
            DQT => read_quant_tables(body, &mut quant)?,
            DHT => read_huffman_tables(body, &mut dc_tables, &mut ac_tables)?,
            DRI => restart_interval = read_restart_interval(body)?,
            SOF0 | SOF1 if frame.is_none() => frame = Some(read_frame(body)?),
            APP14 => return None,
            m if is_metadata(m) => {}
            SOS => {
                let (width, height, frame_components) = frame?;
                // The one scan must be the last thing before EOI.
                if bytes.get(segment.end + 1) != Some(&EOI) {
                    return None;
                }
                let components = read_scan(body, &frame_components, &quant)?;
                for c in &components {
                    dc_tables[c.dc].as_ref()?;
                    ac_tables[c.ac].as_ref()?;
                }
                return Some(Layout {
                    width,
                    height,
                    components,
                    dc_tables,
                    ac_tables,
                    restart_interval,
                    scan: segment.data,
                });
            }
            // Standalone markers (RSTn, TEM, SOI) and EOI have no place before the
            // scan; other segments are not ones this reader knows.
            _ => return None,
        }
    }
}

/// Marks the slots of the quantisation tables in a DQT segment's `body` as defined
/// (their values do not matter to the walk); `None` if it is malformed.
fn read_quant_tables(mut body: &[u8], quant: &mut [bool; 4]) -> Option<()> {
    while let [pq_tq, rest @ ..] = body {
        let size = match pq_tq >> 4 {
            0 => 64,
            1 => 128,
            _ => return None,
        };
        rest.get(..size)?;
        *quant.get_mut(usize::from(pq_tq & 15))? = true;
        body = &rest[size..];
    }
    Some(())
}

/// The DRI segment's interval: MCUs between restart markers, 0 for none.
fn read_restart_interval(body: &[u8]) -> Option<usize> {
    let n = body.get(..2)?;
    Some(usize::from(u16::from_be_bytes([n[0], n[1]])))
}

fn read_huffman_tables(
    mut body: &[u8],
    dc: &mut [Option<Box<Huffman>>; 4],
    ac: &mut [Option<Box<Huffman>>; 4],
) -> Option<()> {
    while let [tc_th, rest @ ..] = body {
        let counts: [u8; 16] = rest.get(..16)?.try_into().ok()?;
        let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
        let symbols = rest.get(16..16 + total)?;
        let slot = usize::from(tc_th & 15);
        let table = Huffman::new(&counts, symbols, tc_th >> 4 == 1)?;
        match tc_th >> 4 {
            0 => *dc.get_mut(slot)? = Some(Box::new(table)),
            1 => *ac.get_mut(slot)? = Some(Box::new(table)),
            _ => return None,
        }
        body = &rest[16 + total..];
    }
    Some(())
}

fn read_frame(body: &[u8]) -> Option<(usize, usize, FrameComponents)> {
    let [precision, h1, h0, w1, w0, count, rest @ ..] = body else {
        return None;
    };
    let height = usize::from(u16::from_be_bytes([*h1, *h0]));
    let width = usize::from(u16::from_be_bytes([*w1, *w0]));
    if *precision != 8 || width == 0 || height == 0 {
        return None;
    }
    let components: FrameComponents = rest
        .get(..3 * usize::from(*count))?
        .chunks_exact(3)
        .map(|c| {
            (
                c[0],
                usize::from(c[1] >> 4),
                usize::from(c[1] & 15),
                usize::from(c[2]),
            )
        })
        .collect();
    match components[..] {
        [_] => {}
        [(b'R', ..), (b'G', ..), (b'B', ..)] => return None,
        [(_, yh, yv, _), (_, 1, 1, _), (_, 1, 1, _)]
            if (1..=2).contains(&yh) && (1..=2).contains(&yv) => {}
        _ => return None,
    }
    Some((width, height, components))
}

fn read_scan(
    body: &[u8],
    frame: &[(u8, usize, usize, usize)],
    quant: &[bool; 4],
) -> Option<Vec<Component>> {
    let count = usize::from(*body.first()?);
    if count != frame.len() {
        return None;
    }
    let selectors = body.get(1..1 + 2 * count)?;
    // Spectral selection 0..=63 and no successive approximation: a sequential scan.
    if body.get(1 + 2 * count..4 + 2 * count)? != [0, 63, 0] {
        return None;
    }
    let gray = count == 1;
    frame
        .iter()
        .zip(selectors.chunks_exact(2))
        .map(|(&(id, h, v, tq), sel)| {
            let (dc, ac) = (usize::from(sel[1] >> 4), usize::from(sel[1] & 15));
            if sel[0] != id || !*quant.get(tq)? || dc >= 4 || ac >= 4 {
                return None;
            }
            Some(Component {
                // A single-component scan codes one block per MCU whatever the factors.
                h: if gray { 1 } else { h },
                v: if gray { 1 } else { v },
                dc,
                ac,
            })
        })
        .collect()
}
