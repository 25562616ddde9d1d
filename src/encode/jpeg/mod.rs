//! The JPEG rendition encoder: baseline, 8-bit YCbCr, 4:2:0 with box-averaged chroma
//! (4:4:4 for squares of at most [`FULL_CHROMA_MAX_SIDE`], its chroma quantised more
//! coarsely above [`FINE_CHROMA_MAX_SIDE`]), libjpeg's quality scaling
//! of the Annex K quantisation tables, and the Annex K Huffman tables, or, for squares
//! of at most [`OPTIMAL_TABLES_MAX_SIDE`], tables made for the image (two passes, as
//! libjpeg's `optimize_coding`). Written for this job (see DESIGN.md): about 3× faster than jpeg-encoder on
//! the same output format, and squares taller than [`STRIP_ROWS`] encode as strips in
//! parallel joined by restart markers.
//!
//! Data flow per 16-row MCU row: [`color`] (RGB → YCbCr planes, chroma averaged) →
//! [`dct`] (per 8×8 block: DCT, quantise, zig-zag) → [`entropy`] (Huffman codes into
//! bytes). Only the markers a decoder needs are written: SOI, JFIF APP0, DQT, SOF0, DHT,
//! DRI when strips are used, SOS, EOI.

mod color;
mod dct;
mod entropy;
mod tables;

use crate::alloc::try_with_capacity;
use crate::canvas::Square;
use crate::error::Error;
use crate::probe::jpeg_segments::marker::{DHT, DQT, DRI, EOI, RST0, SOF0, SOI, SOS};

use color::McuRow;
use entropy::{BitWriter, Frequencies};
use tables::{optimal_table, HuffmanCodes, Tables, CHROMA_AC, CHROMA_DC, LUMA_AC, LUMA_DC};

/// Rows per independently encoded strip: a multiple of the 16-row MCU. Each strip is
/// one restart interval, so the file does not depend on how many threads encoded it.
const STRIP_ROWS: u32 = 256;

/// Squares of at most this side get Huffman tables made for them: at 24–192 pixels the
/// four Annex K tables (418 bytes of DHT) are a large part of the file (926 bytes at
/// 24², 333 of them coded data), and a table fitted to the image also codes the data
/// in fewer bits. Larger squares keep the one-pass Annex K tables, where the DHT is
/// under 1% of the file and a second pass would cost more than it saves.
pub const OPTIMAL_TABLES_MAX_SIDE: u32 = 256;

/// Squares of at most this side keep chroma at full resolution (4:4:4). At 24 and 32
/// pixels 4:2:0 leaves a 12–16 pixel colour image whose edges smear across a visible
/// share of the avatar. Measured with SSIMULACRA2 against a float reference
/// (bench/quality, 9 photos): 4:4:4 raised the mean score by 15 points at 24 and 8 at
/// 32 for 6% and 13% more bytes, still fewer than Pillow's (the image's own Huffman
/// tables pay for them). At 48 and 72 it gained 10 points, but for 103% and 107% of
/// Pillow's bytes; quantising their chroma more coarsely
/// ([`COARSE_CHROMA_STEP`]) keeps most of the gain within Pillow's bytes. At 192
/// 4:2:0 already scores level with Pillow at fewer bytes.
pub const FULL_CHROMA_MAX_SIDE: u32 = 72;

/// 4:4:4 squares larger than this quantise chroma at [`COARSE_CHROMA_STEP`] below the
/// requested quality; up to this side chroma gets the requested quality.
pub const FINE_CHROMA_MAX_SIDE: u32 = 32;

/// How far below the requested quality (libjpeg's 1–100 scale, at least 1) the chroma
/// of 4:4:4 squares larger than [`FINE_CHROMA_MAX_SIDE`] is quantised: 65 at the
/// default 85. Four times the chroma samples of 4:2:0 at coarser steps: on the bench
/// photos (`bench/quality`), 48 scored +2.5 and 72 +3.7 over Pillow at 94% and 99% of
/// its bytes (a step of 15 went to 100.4% at 72; 25 scored +1.8 and +2.8).
pub const COARSE_CHROMA_STEP: u8 = 20;

/// How chroma is sampled, as written in SOF0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chroma {
    /// 4:2:0: one Cb and one Cr sample per 2×2 pixels; MCU 16×16.
    Half,
    /// 4:4:4: every pixel; MCU 8×8.
    Full,
}

/// The four DHT tables in the order written: (class and id, counts, symbols).
type DhtTables<'a> = [(u8, [u8; 16], &'a [u8]); 4];

/// Encodes an RGB (or RGBA, alpha ignored) square at `quality` (1–100, libjpeg's scale).
pub(crate) fn encode(sq: &Square, quality: u8) -> Result<Vec<u8>, Error> {
    encode_in_strips(
        sq,
        quality,
        STRIP_ROWS,
        OPTIMAL_TABLES_MAX_SIDE,
        FULL_CHROMA_MAX_SIDE,
    )
}

/// [`encode`] with `strip_rows` rows per strip, tables made for the image when it is
/// one strip of at most `optimal_max_side` (0: always the Annex K tables), and then
/// 4:4:4 when it is at most `full_chroma_max_side`.
fn encode_in_strips(
    sq: &Square,
    quality: u8,
    strip_rows: u32,
    optimal_max_side: u32,
    full_chroma_max_side: u32,
) -> Result<Vec<u8>, Error> {
    let side = u16::try_from(sq.side)
        .ok()
        .filter(|&s| s > 0)
        .ok_or_else(|| Error::internal(format!("JPEG side {} not in 1..=65535", sq.side)))?;
    let expected = sq.side as usize * sq.side as usize * sq.channels;
    if !matches!(sq.channels, 3 | 4) || sq.data.len() != expected {
        return Err(Error::internal(format!(
            "JPEG encoder given {} bytes for a {}² square of {} channels",
            sq.data.len(),
            sq.side,
            sq.channels
        )));
    }
    let tables = Tables::new(quality);
    let strips = super::strips(sq.side as usize, strip_rows as usize);
    // MCUs per strip: at most 4096 columns × 16 rows for a 65535 side and 256-row
    // strips; wider squares than a u16 interval allows are encoded in one pass.
    let interval = sq
        .side
        .div_ceil(16)
        .checked_mul(strip_rows.div_ceil(16))
        .and_then(|mcus| u16::try_from(mcus).ok())
        .filter(|_| strips.len() > 1);
    let strips = if interval.is_some() {
        strips
    } else {
        vec![(0, sq.side as usize)]
    };

    if strips.len() == 1 && sq.side <= optimal_max_side {
        let chroma = if sq.side <= full_chroma_max_side {
            Chroma::Full
        } else {
            Chroma::Half
        };
        let tables = if chroma == Chroma::Full && sq.side > FINE_CHROMA_MAX_SIDE {
            Tables::split(quality, quality.saturating_sub(COARSE_CHROMA_STEP).max(1))
        } else {
            tables
        };
        return optimised(sq, side, &tables, chroma);
    }

    let scan = |top: usize, rows: usize| -> Result<Vec<u8>, Error> {
        // A q85 4:2:0 photo is ~1 bit per pixel; reserve 1.5 to rarely grow.
        let out = try_with_capacity(sq.side as usize * rows * 3 / 16 + 64, "JPEG output")?;
        let rows = Rows {
            sq,
            top,
            rows,
            tables: &tables,
        };
        Ok(match sq.channels {
            3 => crate::simd::widest(Strip::<3>(&rows, out)),
            _ => crate::simd::widest(Strip::<4>(&rows, out)),
        })
    };
    let parts = super::each_strip(&strips, scan)?;

    let data: usize = parts.iter().map(|p| p.len() + 2).sum();
    let mut out = try_with_capacity(data + 700, "JPEG output")?;
    let annex_k: DhtTables = [
        (0x00, LUMA_DC.counts, LUMA_DC.symbols),
        (0x10, LUMA_AC.counts, LUMA_AC.symbols),
        (0x01, CHROMA_DC.counts, CHROMA_DC.symbols),
        (0x11, CHROMA_AC.counts, CHROMA_AC.symbols),
    ];
    headers(&mut out, side, &tables, &annex_k, interval, Chroma::Half);
    for (k, part) in parts.iter().enumerate() {
        if k > 0 {
            out.extend_from_slice(&[0xFF, RST0 + ((k - 1) % 8) as u8]);
        }
        out.extend_from_slice(part);
    }
    out.extend_from_slice(&[0xFF, EOI]);
    Ok(out)
}

/// The whole square in one pass with tables made for it: the quantised blocks are
/// kept (1.5 blocks of 128 bytes per 64 pixels at 4:2:0: 192 KiB at 256²; 3 at
/// 4:4:4), their symbols counted, optimal tables built, and the blocks coded with them.
fn optimised(sq: &Square, side: u16, tables: &Tables, chroma: Chroma) -> Result<Vec<u8>, Error> {
    let job = Rows {
        sq,
        top: 0,
        rows: sq.side as usize,
        tables,
    };
    let count = match chroma {
        Chroma::Half => (sq.side as usize).div_ceil(16).pow(2) * 6,
        Chroma::Full => (sq.side as usize).div_ceil(8).pow(2) * 3,
    };
    let mut blocks: Vec<([i16; 64], u8)> = try_with_capacity(count, "JPEG blocks")?;
    let mut keep = |c: &[i16; 64], component: usize| blocks.push((*c, component as u8));
    match (chroma, sq.channels) {
        (Chroma::Half, 3) => crate::simd::widest(Walk::<3, _>(&job, &mut keep)),
        (Chroma::Half, _) => crate::simd::widest(Walk::<4, _>(&job, &mut keep)),
        (Chroma::Full, 3) => walk_full_chroma::<3, _>(sq, tables, &mut keep),
        (Chroma::Full, _) => walk_full_chroma::<4, _>(sq, tables, &mut keep),
    }
    let mut freqs = Frequencies([[0; 256]; 4]);
    let mut dc = [0i16; 3];
    for (c, component) in &blocks {
        let k = usize::from(*component);
        freqs.block(c, &mut dc[k], k.min(1));
    }
    let made = freqs.0.map(|f| optimal_table(&f));
    let codes = made
        .each_ref()
        .map(|(counts, symbols)| HuffmanCodes::from_counts(counts, symbols));
    let data = try_with_capacity(sq.side as usize * sq.side as usize / 4 + 64, "JPEG output")?;
    let mut bits = BitWriter::new(data);
    let mut dc = [0i16; 3];
    for (c, component) in &blocks {
        let k = usize::from(*component);
        let t = k.min(1);
        bits.block(c, &mut dc[k], &codes[t * 2], &codes[t * 2 + 1]);
    }
    let data = bits.into_bytes();
    let mut out = try_with_capacity(data.len() + 700, "JPEG output")?;
    let dht: DhtTables = [
        (0x00, made[0].0, &made[0].1),
        (0x10, made[1].0, &made[1].1),
        (0x01, made[2].0, &made[2].1),
        (0x11, made[3].0, &made[3].1),
    ];
    headers(&mut out, side, tables, &dht, None, chroma);
    out.extend_from_slice(&data);
    out.extend_from_slice(&[0xFF, EOI]);
    Ok(out)
}

/// [`strip`] and its arguments, for [`widest`](crate::simd::widest).
struct Strip<'a, const C: usize>(&'a Rows<'a>, Vec<u8>);

impl<const C: usize> crate::simd::Kernel for Strip<'_, C> {
    type Output = Vec<u8>;
    #[inline(always)]
    fn run(self) -> Vec<u8> {
        strip::<C>(self.0, self.1)
    }
}

/// [`walk`] and its arguments, for [`widest`](crate::simd::widest).
struct Walk<'a, 'e, const C: usize, F>(&'a Rows<'a>, &'e mut F);

impl<const C: usize, F: FnMut(&[i16; 64], usize)> crate::simd::Kernel for Walk<'_, '_, C, F> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        walk::<C, F>(self.0, self.1)
    }
}

/// One strip to encode: rows `top..top + rows` of `sq` with `tables`.
struct Rows<'a> {
    sq: &'a Square,
    top: usize,
    rows: usize,
    tables: &'a Tables,
}

/// The quantised blocks of rows `top..top + rows` (a whole number of MCU rows unless
/// it ends the image), in scan order, each with its component (0 Y, 1 Cb, 2 Cr).
#[inline(always)]
fn walk<const C: usize, F: FnMut(&[i16; 64], usize)>(job: &Rows<'_>, emit: &mut F) {
    let &Rows {
        sq,
        top,
        rows,
        tables,
    } = job;
    let side = sq.side as usize;
    let mut mcu = McuRow::new(side, C);
    let width = mcu.width;
    let mut coefficients = [0i16; 64];
    let [luma, chroma] = &tables.quant;
    for y in (top..top + rows).step_by(16) {
        mcu.fill::<C>(&sq.data, side, y);
        for x in (0..width).step_by(16) {
            for at in [x, x + 8, 8 * width + x, 8 * width + x + 8] {
                dct::block(&mcu.y, at, width, &luma.multipliers, &mut coefficients);
                emit(&coefficients, 0);
            }
            for (plane, c) in [(&mcu.cb, 1), (&mcu.cr, 2)] {
                dct::block(
                    plane,
                    x / 2,
                    width / 2,
                    &chroma.multipliers,
                    &mut coefficients,
                );
                emit(&coefficients, c);
            }
        }
    }
}

/// The quantised blocks of the whole square with chroma at full resolution (4:4:4),
/// in scan order: per 8×8 MCU, Y, Cb, Cr. The same conversion as [`color`]'s, per
/// pixel; plain scalar code, since only small squares take it.
fn walk_full_chroma<const C: usize, F: FnMut(&[i16; 64], usize)>(
    sq: &Square,
    tables: &Tables,
    emit: &mut F,
) {
    let side = sq.side as usize;
    let width = side.next_multiple_of(8);
    let mut planes = [0; 3].map(|_| vec![0f32; 8 * width]);
    let mut coefficients = [0i16; 64];
    for y in (0..side).step_by(8) {
        for r in 0..8 {
            // Rows and columns past the edge repeat the last ones, as libjpeg pads.
            let row = (y + r).min(side - 1) * side * C;
            for x in 0..width {
                let p = &sq.data[row + x.min(side - 1) * C..][..3];
                let [red, green, blue] = [p[0], p[1], p[2]].map(f32::from);
                let at = r * width + x;
                planes[0][at] = 0.299 * red + 0.587 * green + 0.114 * blue - 128.0;
                planes[1][at] = -0.168_736 * red - 0.331_264 * green + 0.5 * blue;
                planes[2][at] = 0.5 * red - 0.418_688 * green - 0.081_312 * blue;
            }
        }
        for x in (0..width).step_by(8) {
            for (c, plane) in planes.iter().enumerate() {
                let quant = &tables.quant[c.min(1)];
                dct::block(plane, x, width, &quant.multipliers, &mut coefficients);
                emit(&coefficients, c);
            }
        }
    }
}

/// Entropy-coded data for rows `top..top + rows` (a whole number of MCU rows unless it
/// ends the image), DC predictors starting from zero, padded to a byte, with the Annex
/// K tables. The same loop as [`walk`] with the coder written in: through a closure
/// the coder was not inlined into the AVX2 code and a job took 15% more
/// instructions (callgrind).
#[inline(always)]
fn strip<const C: usize>(job: &Rows<'_>, out: Vec<u8>) -> Vec<u8> {
    let &Rows {
        sq,
        top,
        rows,
        tables,
    } = job;
    let side = sq.side as usize;
    let mut mcu = McuRow::new(side, C);
    let width = mcu.width;
    let mut bits = BitWriter::new(out);
    let mut dc = [0i16; 3];
    let mut coefficients = [0i16; 64];
    let [luma, chroma] = &tables.quant;
    for y in (top..top + rows).step_by(16) {
        mcu.fill::<C>(&sq.data, side, y);
        for x in (0..width).step_by(16) {
            for at in [x, x + 8, 8 * width + x, 8 * width + x + 8] {
                dct::block(&mcu.y, at, width, &luma.multipliers, &mut coefficients);
                bits.block(&coefficients, &mut dc[0], &tables.dc[0], &tables.ac[0]);
            }
            for (plane, c) in [(&mcu.cb, 1), (&mcu.cr, 2)] {
                dct::block(
                    plane,
                    x / 2,
                    width / 2,
                    &chroma.multipliers,
                    &mut coefficients,
                );
                bits.block(&coefficients, &mut dc[c], &tables.dc[1], &tables.ac[1]);
            }
        }
    }
    bits.into_bytes()
}

/// SOI through SOS for a `side`² YCbCr image sampled as `chroma`, with Huffman tables
/// `dht`.
fn headers(
    out: &mut Vec<u8>,
    side: u16,
    tables: &Tables,
    dht: &DhtTables,
    restart_interval: Option<u16>,
    chroma: Chroma,
) {
    out.extend_from_slice(&[0xFF, SOI]);
    out.extend_from_slice(&crate::passthrough::JFIF_APP0);
    // DQT: two 8-bit tables, luma 0 and chroma 1.
    out.extend_from_slice(&[0xFF, DQT, 0x00, 132]);
    for (id, q) in tables.quant.iter().enumerate() {
        out.extend_from_slice(&[id as u8]);
        out.extend_from_slice(&q.zigzag);
    }
    // SOF0: 8-bit, Y sampled 2×2 (4:2:0) or 1×1 (4:4:4) with table 0, Cb and Cr 1×1
    // with table 1.
    let [h, l] = side.to_be_bytes();
    let luma = match chroma {
        Chroma::Half => 0x22,
        Chroma::Full => 0x11,
    };
    out.extend_from_slice(&[0xFF, SOF0, 0x00, 17, 8, h, l, h, l, 3]);
    out.extend_from_slice(&[1, luma, 0, 2, 0x11, 1, 3, 0x11, 1]);
    // DHT: DC and AC tables 0 (luma) and 1 (chroma).
    let len = 2 + dht.iter().map(|(_, _, s)| 17 + s.len()).sum::<usize>();
    out.extend_from_slice(&[0xFF, DHT]);
    out.extend_from_slice(&(len as u16).to_be_bytes());
    for (class_id, counts, symbols) in dht {
        out.extend_from_slice(&[*class_id]);
        out.extend_from_slice(counts);
        out.extend_from_slice(symbols);
    }
    if let Some(interval) = restart_interval {
        out.extend_from_slice(&[0xFF, DRI, 0x00, 0x04]);
        out.extend_from_slice(&interval.to_be_bytes());
    }
    // SOS: three components, tables (0,0), (1,1), (1,1); full spectral range.
    out.extend_from_slice(&[0xFF, SOS, 0x00, 12, 3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0]);
}

#[cfg(test)]
mod tests;
