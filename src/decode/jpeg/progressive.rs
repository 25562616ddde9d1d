//! Progressive JPEG (SOF2): every scan Huffman-decoded into one coefficient buffer per
//! component, then inverse-transformed and converted to RGB in two halves at once.
//!
//! A progressive file sends the coefficients in several scans: DC first (often all
//! components interleaved), then bands of AC coefficients per component, each possibly
//! in two passes — a first one with the high bits (`Al` low bits dropped) and
//! refinement passes adding one bit each (T.81 G.1.2). Nothing can be shown until the
//! last scan, so unlike the sequential path ([`pipelined`](super::pipelined)) the
//! Huffman half runs alone; what follows it (IDCT, upsampling, colour) is split in two
//! bands of rows and runs on two threads.
//!
//! Taken: the frames the sequential path takes (gray, or YCbCr with luma at 1–2× the
//! chroma each way; no Adobe APP14, no `R`, `G`, `B` ids), 8-bit, with quantisation
//! tables defined before the first scan. Anything else, and any scan that does not
//! decode cleanly to its end, returns `None`: zune-jpeg decides what the file gets,
//! as it did before this path existed.
//!
//! Memory at its peak, while the planes are filled: the coefficients (2 bytes per
//! sample: 3 B/px at 4:2:0, 6 at 4:4:4) and the planes (1.5 / 3 B/px), so at most
//! 9 B/px. Each component's coefficients are freed once transformed, before the RGB
//! output (3 B/px) is allocated. Inside [`decode_budget`](crate::decode::decode_budget)'s
//! 12.

use super::color::{convert_rows, Planes, RowScratch};
use super::entropy::{extend, Bits, Block, Huffman, Restarts, ScanError};
use super::frame::{
    read_frame, read_huffman_tables, read_quant_tables, read_restart_interval, FrameComponents,
    ZIGZAG,
};
use super::idct::{idct_block, Portable, Transform};
#[cfg(target_arch = "x86_64")]
use super::idct_avx2::Avx2;
use crate::alloc::{try_filled, try_zeroed};
use crate::decode::Pixels;
use crate::error::Rejection;
use crate::probe::jpeg::marker::{APP14, COM, DHT, DQT, DRI, EOI, SOS};
use crate::probe::jpeg_segments::Segments;

/// A quantisation table, natural order.
type Quant = [u16; 64];

/// SOF2: progressive DCT, Huffman coding.
const SOF2: u8 = 0xC2;

/// One component's coefficients, for every block of its MCU-padded plane.
struct Component {
    id: u8,
    /// Blocks per MCU across and down (1, 1 for every component of a gray frame).
    h: usize,
    v: usize,
    quant_slot: usize,
    /// Blocks across and down the padded plane.
    across: usize,
    down: usize,
    /// Blocks across and down that hold image samples: what a scan of this component
    /// alone codes.
    used_across: usize,
    used_down: usize,
    blocks: Vec<Block>,
}

/// The frame and everything the scans have decoded so far.
struct Image {
    width: usize,
    height: usize,
    mcus_across: usize,
    mcu_rows: usize,
    components: Vec<Component>,
}

/// A scan's parameters (T.81 B.2.3).
struct Scan {
    /// (index into the frame's components, DC table slot, AC table slot)
    components: Vec<(usize, usize, usize)>,
    /// Spectral selection: first and last coefficient, zig-zag order.
    start: usize,
    end: usize,
    /// Successive approximation: bit position of the previous pass (0 on a first pass)
    /// and of this one.
    high: u32,
    low: u32,
}

struct Tables {
    dc: [Option<Box<Huffman>>; 4],
    ac: [Option<Box<Huffman>>; 4],
    restart_interval: usize,
}

/// Decodes `bytes` if it is a progressive JPEG this path takes and `width`×`height`;
/// `Ok(None)` if it is not, or a scan does not decode cleanly.
///
/// # Errors
/// `too_large` if a buffer cannot be allocated.
pub(crate) fn decode(bytes: &[u8], width: u32, height: u32) -> Result<Option<Pixels>, Rejection> {
    let Some((image, quant)) = decode_scans(bytes, (width as usize, height as usize))? else {
        return Ok(None);
    };
    render(image, &quant).map(Some)
}

/// Walks the file and decodes every scan into the coefficient buffers; returns them
/// with each component's quantisation table (natural order).
fn decode_scans(
    bytes: &[u8],
    size: (usize, usize),
) -> Result<Option<(Image, Vec<Quant>)>, Rejection> {
    let mut quant: [Option<[u16; 64]>; 4] = [None; 4];
    let mut tables = Tables {
        dc: Default::default(),
        ac: Default::default(),
        restart_interval: 0,
    };
    let mut image: Option<Image> = None;
    let mut scans = 0;
    let Some(mut segments) = Segments::after_soi(bytes) else {
        return Ok(None);
    };
    loop {
        let Ok(segment) = segments.read() else {
            return Ok(None);
        };
        let body = segment.body;
        let taken = match segment.marker {
            // Tables may change between scans, except quantisation: the IDCT runs once
            // at the end with the tables then in force.
            DQT if scans == 0 => read_quant_tables(body, &mut quant),
            DHT => read_huffman_tables(body, &mut tables.dc, &mut tables.ac),
            DRI => read_restart_interval(body).map(|n| tables.restart_interval = n),
            SOF2 if image.is_none() => match read_frame(body) {
                Some((w, h, frame)) if (w, h) == size => {
                    image = Some(Image::new(w, h, &frame)?);
                    Some(())
                }
                _ => None,
            },
            SOS => match image.as_mut() {
                Some(image) => {
                    scans += 1;
                    read_scan(body, image, &tables)
                        .and_then(|scan| image.decode(&scan, &tables, segment.data).ok())
                }
                None => None,
            },
            EOI => break,
            APP14 => None,
            0xE0..=0xEF | COM => Some(()),
            _ => None,
        };
        if taken.is_none() {
            return Ok(None);
        }
    }
    let Some(image) = image.filter(|_| scans > 0) else {
        return Ok(None);
    };
    // The IDCT needs every component's table.
    let tables: Option<Vec<Quant>> = image
        .components
        .iter()
        .map(|c| quant.get(c.quant_slot).copied().flatten())
        .collect();
    Ok(tables.map(|tables| (image, tables)))
}

impl Image {
    fn new(width: usize, height: usize, frame: &FrameComponents) -> Result<Image, Rejection> {
        let gray = frame.len() == 1;
        let (hmax, vmax) = if gray {
            (1, 1)
        } else {
            (frame[0].1, frame[0].2)
        };
        let (mcus_across, mcu_rows) = (width.div_ceil(8 * hmax), height.div_ceil(8 * vmax));
        let mut components = Vec::with_capacity(frame.len());
        for &(id, h, v, quant_slot) in frame {
            let (h, v) = if gray { (1, 1) } else { (h, v) };
            let (across, down) = (mcus_across * h, mcu_rows * v);
            let blocks = try_filled(across * down, [0; 64], "JPEG coefficient blocks")?;
            components.push(Component {
                id,
                h,
                v,
                quant_slot,
                across,
                down,
                used_across: (width * h).div_ceil(hmax).div_ceil(8),
                used_down: (height * v).div_ceil(vmax).div_ceil(8),
                blocks,
            });
        }
        Ok(Image {
            width,
            height,
            mcus_across,
            mcu_rows,
            components,
        })
    }

    /// Decodes one scan's entropy-coded `data` into the coefficient buffers.
    fn decode(&mut self, scan: &Scan, tables: &Tables, data: &[u8]) -> Result<(), ScanError> {
        let mut bits = Bits::new(data);
        let mut state = ScanState::default();
        let mut restarts = Restarts::new(tables.restart_interval);
        let mut next_mcu = |bits: &mut Bits, state: &mut ScanState| {
            if restarts.before_mcu(bits)? {
                *state = ScanState::default();
            }
            Ok::<(), ScanError>(())
        };
        if let [(c, dc, ac)] = scan.components[..] {
            // One component: its blocks in raster order, one block per MCU.
            let component = &mut self.components[c];
            for by in 0..component.used_down {
                for bx in 0..component.used_across {
                    next_mcu(&mut bits, &mut state)?;
                    let block = &mut component.blocks[by * component.across + bx];
                    decode_block(&mut bits, &mut state, scan, 0, block, tables, dc, ac)?;
                }
            }
        } else {
            // Interleaved (DC only): MCU by MCU, each component's h × v blocks.
            for my in 0..self.mcu_rows {
                for mx in 0..self.mcus_across {
                    next_mcu(&mut bits, &mut state)?;
                    for (k, &(c, dc, ac)) in scan.components.iter().enumerate() {
                        let component = &mut self.components[c];
                        for y in 0..component.v {
                            for x in 0..component.h {
                                let at = (my * component.v + y) * component.across
                                    + mx * component.h
                                    + x;
                                let block = &mut component.blocks[at];
                                decode_block(
                                    &mut bits, &mut state, scan, k, block, tables, dc, ac,
                                )?;
                            }
                        }
                    }
                }
            }
        }
        if bits.overran() {
            return Err(ScanError::Short);
        }
        Ok(())
    }
}

/// What carries over from block to block within a scan (reset at restart markers).
#[derive(Default)]
struct ScanState {
    /// DC predictors, by position in the scan.
    predictors: [i32; 4],
    /// Blocks left in the current end-of-band run (AC scans).
    eob_run: u32,
}

/// Decodes one block's share of `scan` into `block`; `k` is the component's position
/// in the scan (for its DC predictor).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn decode_block(
    bits: &mut Bits,
    state: &mut ScanState,
    scan: &Scan,
    k: usize,
    block: &mut Block,
    tables: &Tables,
    dc: usize,
    ac: usize,
) -> Result<(), ScanError> {
    if bits.count < 32 {
        bits.refill();
    }
    match (scan.start, scan.high) {
        (0, 0) => {
            let table = tables.dc[dc].as_deref().ok_or(ScanError::BadCode)?;
            let size = u32::from(table.decode(bits)?);
            if size > 11 {
                return Err(ScanError::BadValue);
            }
            let predictor = &mut state.predictors[k];
            if size > 0 {
                *predictor = predictor.wrapping_add(extend(bits.take(size), size));
            }
            block[0] = predictor.wrapping_mul(1 << scan.low) as i16;
        }
        (0, _) => {
            if bits.take(1) != 0 {
                block[0] |= 1 << scan.low;
            }
        }
        (_, 0) => {
            let table = tables.ac[ac].as_deref().ok_or(ScanError::BadCode)?;
            ac_first(bits, state, scan, block, table)?;
        }
        _ => {
            let table = tables.ac[ac].as_deref().ok_or(ScanError::BadCode)?;
            ac_refine(bits, state, scan, block, table)?;
        }
    }
    Ok(())
}

/// The first pass over a band of AC coefficients (T.81 G.1.2.2).
#[inline(always)]
fn ac_first(
    bits: &mut Bits,
    state: &mut ScanState,
    scan: &Scan,
    block: &mut Block,
    table: &Huffman,
) -> Result<(), ScanError> {
    if state.eob_run > 0 {
        state.eob_run -= 1;
        return Ok(());
    }
    let mut k = scan.start;
    while k <= scan.end {
        if bits.count < 32 {
            bits.refill();
        }
        let symbol = table.decode(bits)?;
        let (run, size) = (usize::from(symbol >> 4), u32::from(symbol & 15));
        if size == 0 {
            if run < 15 {
                // End of band here and in the next 2^run - 1 + (run bits) blocks.
                state.eob_run = (1 << run) - 1;
                if run > 0 {
                    state.eob_run += bits.take(run as u32);
                }
                break;
            }
            k += 16;
            continue;
        }
        k += run;
        if k > scan.end {
            return Err(ScanError::BadValue);
        }
        let value = extend(bits.take(size), size);
        block[usize::from(ZIGZAG[k])] = value.wrapping_mul(1 << scan.low) as i16;
        k += 1;
    }
    Ok(())
}

/// A refinement pass over a band of AC coefficients (T.81 G.1.2.3): one more bit of
/// every coefficient already non-zero, and the coefficients that become non-zero.
#[inline(always)]
fn ac_refine(
    bits: &mut Bits,
    state: &mut ScanState,
    scan: &Scan,
    block: &mut Block,
    table: &Huffman,
) -> Result<(), ScanError> {
    let plus = 1i16 << scan.low;
    let minus = (-1i16).wrapping_shl(scan.low);
    // One correction bit for a coefficient already non-zero.
    let refine = |bits: &mut Bits, coefficient: &mut i16| {
        if bits.count < 16 {
            bits.refill();
        }
        if bits.take(1) != 0 && *coefficient & plus == 0 {
            let step = if *coefficient >= 0 { plus } else { minus };
            *coefficient = coefficient.wrapping_add(step);
        }
    };
    let mut k = scan.start;
    if state.eob_run == 0 {
        while k <= scan.end {
            if bits.count < 32 {
                bits.refill();
            }
            let symbol = table.decode(bits)?;
            let (mut run, size) = (i32::from(symbol >> 4), symbol & 15);
            let mut value = 0;
            match size {
                0 if run < 15 => {
                    state.eob_run = 1 << run;
                    if run > 0 {
                        state.eob_run += bits.take(run as u32);
                    }
                    break;
                }
                0 => {} // sixteen zero coefficients (with corrections between)
                1 => value = if bits.take(1) != 0 { plus } else { minus },
                _ => return Err(ScanError::BadValue),
            }
            // Skip `run` zero coefficients, correcting the non-zero ones passed; stop
            // at the next zero one.
            loop {
                let Some(&natural) = ZIGZAG.get(k).filter(|_| k <= scan.end) else {
                    if value != 0 {
                        return Err(ScanError::BadValue);
                    }
                    break;
                };
                let coefficient = &mut block[usize::from(natural)];
                if *coefficient != 0 {
                    refine(bits, coefficient);
                } else {
                    if run == 0 {
                        if value != 0 {
                            *coefficient = value;
                        }
                        break;
                    }
                    run -= 1;
                }
                k += 1;
            }
            k += 1;
        }
    }
    if state.eob_run > 0 {
        // In an end-of-band run: only corrections for the non-zero coefficients left.
        while k <= scan.end {
            let coefficient = &mut block[usize::from(ZIGZAG[k])];
            if *coefficient != 0 {
                refine(bits, coefficient);
            }
            k += 1;
        }
        state.eob_run -= 1;
    }
    Ok(())
}

/// The scan header in `body`, checked against the frame and the tables in force.
fn read_scan(body: &[u8], image: &Image, tables: &Tables) -> Option<Scan> {
    let count = usize::from(*body.first()?);
    let selectors = body.get(1..1 + 2 * count)?;
    let &[start, end, approximation] = body.get(1 + 2 * count..4 + 2 * count)? else {
        return None;
    };
    let scan = Scan {
        components: Vec::new(),
        start: usize::from(start),
        end: usize::from(end),
        high: u32::from(approximation >> 4),
        low: u32::from(approximation & 15),
    };
    // T.81 G.1.1.1.1: DC scans 0..=0, AC scans one component within 1..=63; a
    // refinement pass refines by one bit.
    let shape_ok = if scan.start == 0 {
        scan.end == 0
    } else {
        scan.start <= scan.end && scan.end <= 63 && count == 1
    };
    let bits_ok = scan.low <= 13 && (scan.high == 0 || scan.high == scan.low + 1);
    if !shape_ok || !bits_ok || count == 0 || count > image.components.len() {
        return None;
    }
    let mut components: Vec<(usize, usize, usize)> = Vec::with_capacity(count);
    for sel in selectors.chunks_exact(2) {
        let c = image.components.iter().position(|c| c.id == sel[0])?;
        let (dc, ac) = (usize::from(sel[1] >> 4), usize::from(sel[1] & 15));
        let needs_dc = scan.start == 0 && scan.high == 0;
        let needs_ac = scan.start > 0;
        let missing = (needs_dc && tables.dc.get(dc)?.is_none())
            || (needs_ac && tables.ac.get(ac)?.is_none());
        if missing || components.iter().any(|&(seen, ..)| seen == c) {
            return None;
        }
        components.push((c, dc.min(3), ac.min(3)));
    }
    Some(Scan { components, ..scan })
}

/// Inverse-transforms every component into its plane (freeing its coefficients as it
/// goes), then converts the planes to RGB; each step in two bands of rows at once.
fn render(mut image: Image, quant: &[Quant]) -> Result<Pixels, Rejection> {
    let gray = image.components.len() == 1;
    let sampling = (image.components[0].h, image.components[0].v);
    let (width, height) = (image.width, image.height);
    let mut planes = Planes::allocate(
        (width, height),
        sampling,
        (image.mcus_across, image.mcu_rows),
        gray,
    )?;
    let two = rayon::current_num_threads() > 1;
    for (c, component) in image.components.iter_mut().enumerate() {
        let mut blocks = std::mem::take(&mut component.blocks);
        let (plane, stride) = match c {
            0 => (&mut planes.luma[..], planes.luma_stride),
            _ => (&mut planes.chroma[c - 1][..], planes.chroma_stride),
        };
        let (across, quant) = (component.across, &quant[c]);
        // Split at a block row: the halves write disjoint rows of the plane.
        let middle = if two { component.down / 2 } else { 0 };
        let (top_blocks, bottom_blocks) = blocks.split_at_mut(middle * across);
        let (top_plane, bottom_plane) = plane.split_at_mut(middle * 8 * stride);
        rayon::join(
            || transform(top_blocks, across, quant, top_plane, stride),
            || transform(bottom_blocks, across, quant, bottom_plane, stride),
        );
    }
    let mut out = try_zeroed(width * height * 3, "decoded JPEG")?;
    // Split at any image row: each half upsamples its own rows from the shared planes.
    let middle = if two { height / 2 } else { 0 };
    let (top, bottom) = out.split_at_mut(middle * width * 3);
    let planes = &planes;
    rayon::join(
        || convert(planes, width, 0..middle, top),
        || convert(planes, width, middle..height, bottom),
    );
    Ok(Pixels {
        width: width as u32,
        height: height as u32,
        channels: 3,
        data: out,
    })
}

/// Inverse-transforms `blocks` (rows of `across`, zeroed afterwards) into `plane`,
/// rows `stride` apart, with the widest vector instructions this CPU has.
fn transform(
    blocks: &mut [Block],
    across: usize,
    quant: &[u16; 64],
    plane: &mut [u8],
    stride: usize,
) {
    #[cfg(target_arch = "x86_64")]
    if let Some(avx2) = Avx2::detect() {
        #[target_feature(enable = "avx2")]
        fn compiled(avx2: Avx2, b: &mut [Block], a: usize, q: &[u16; 64], p: &mut [u8], s: usize) {
            transform_with(avx2, b, a, q, p, s);
        }
        #[allow(unsafe_code)]
        // SAFETY: an `Avx2` exists only where the CPU has AVX2.
        return unsafe { compiled(avx2, blocks, across, quant, plane, stride) };
    }
    transform_with(Portable, blocks, across, quant, plane, stride);
}

#[inline(always)]
fn transform_with(
    t: impl Transform,
    blocks: &mut [Block],
    across: usize,
    quant: &[u16; 64],
    plane: &mut [u8],
    stride: usize,
) {
    for (by, row) in blocks.chunks_exact_mut(across).enumerate() {
        for (bx, block) in row.iter_mut().enumerate() {
            idct_block(
                t,
                block,
                quant,
                &mut plane[by * 8 * stride + bx * 8..],
                stride,
            );
        }
    }
}

/// Writes image `rows` as RGB into `out` (just those rows), compiled for AVX2 where
/// the CPU has it.
fn convert(planes: &Planes, width: usize, rows: std::ops::Range<usize>, out: &mut [u8]) {
    let mut scratch = RowScratch::new(planes);
    #[cfg(target_arch = "x86_64")]
    if Avx2::detect().is_some() {
        #[target_feature(enable = "avx2")]
        fn compiled(
            p: &Planes,
            s: &mut RowScratch,
            w: usize,
            r: std::ops::Range<usize>,
            o: &mut [u8],
        ) {
            convert_rows(p, s, w, r, o);
        }
        #[allow(unsafe_code)]
        // SAFETY: `detect` found AVX2 on this CPU.
        return unsafe { compiled(planes, &mut scratch, width, rows, out) };
    }
    convert_rows(planes, &mut scratch, width, rows, out);
}
