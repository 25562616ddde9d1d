//! The common JPEG — one sequential Huffman scan, gray or YCbCr (see [`frame`]) —
//! decoded in two overlapped tasks: one Huffman-decodes a row of MCUs at a time and
//! hands the coefficients on; the other dequantises, inverse-transforms, upsamples
//! and converts them to RGB. Huffman decoding is about half of such a decode, so on
//! two threads the serial part of a JPEG job shrinks by about half. On one thread
//! each MCU row goes through both halves in turn.
//!
//! The file's own layout decides nothing unsafe: every buffer is sized from the frame
//! header (which the probe and policy already bounded) and every read is checked. A
//! scan this decoder cannot finish (a bad code, a missing restart marker, data that
//! ends early) returns `None` so that zune-jpeg decides what the file gets, exactly
//! as for files this path does not take.
//!
//! [`frame`]: super::frame

use std::ops::Range;
use std::sync::mpsc;

use super::color::{convert_rows, Planes, RowScratch};
use super::entropy::{decode_block, Bits, Block, Restarts};
use super::frame::{self, Layout};
use super::idct::{idct_block, Portable, Transform};
#[cfg(target_arch = "x86_64")]
use super::idct_avx2::Avx2;
use crate::alloc::{try_filled, try_zeroed};
use crate::decode::{Consumed, Pixels};
use crate::error::Rejection;

/// What a coefficient buffer is, when it cannot be allocated.
const BLOCKS: &str = "JPEG coefficient blocks";

/// Why the entropy task stopped early.
enum Stop {
    Scan,
    Rejected(Rejection),
}

/// Decodes `bytes` if the two-task decoder takes it and it is `width`×`height`;
/// `Ok(None)` if it does not take it or cannot finish its scan. With the pixels come
/// the byte ranges of `bytes` that the scan's MCUs were decoded from, one per restart
/// interval (see [`Restarts::finish`]).
///
/// Memory: the RGB output, the component planes padded to whole MCUs (1.5 bytes per
/// pixel at 4:2:0, 3 at 4:4:4) and the coefficients of the MCU rows in flight (at
/// most all of them, 2 bytes per sample): within
/// [`decode_budget`](crate::decode::decode_budget).
///
/// # Errors
/// `too_large` if a buffer cannot be allocated.
pub(crate) fn decode(
    bytes: &[u8],
    width: u32,
    height: u32,
) -> Result<Option<(Pixels, Consumed)>, Rejection> {
    let Some(layout) = frame::parse(bytes) else {
        return Ok(None);
    };
    if (layout.width, layout.height) != (width as usize, height as usize) {
        return Ok(None);
    }
    let (mcus_across, mcu_rows) = layout.mcus();
    let (h, v) = layout.max_sampling();
    let blocks_per_row = mcus_across * layout.blocks_per_mcu();
    let gray = layout.components.len() == 1;
    let planes = Planes::allocate(
        (layout.width, layout.height),
        (h, v),
        (mcus_across, mcu_rows),
        gray,
    )?;
    let scratch = RowScratch::new(&planes);
    let mut renderer = Renderer {
        layout: &layout,
        out: try_zeroed(layout.width * layout.height * 3, "decoded JPEG")?,
        planes,
        scratch,
    };
    #[cfg(target_arch = "x86_64")]
    let avx2 = Avx2::detect();
    // Turns MCU row `row`'s coefficients into samples, then converts the rows of the
    // MCU row before it, whose chroma neighbours below are now decoded.
    let mut render = |row: usize, blocks: &mut [Block], last: bool| {
        #[cfg(target_arch = "x86_64")]
        if let Some(avx2) = avx2 {
            return renderer.row_avx2(avx2, row, blocks, last);
        }
        renderer.row(Portable, row, blocks, last);
    };

    let mut entropy = Entropy::new(&layout);
    let finished = if rayon::current_num_threads() < 2 {
        let mut blocks = try_filled(blocks_per_row, [0; 64], BLOCKS)?;
        (0..mcu_rows)
            .try_for_each(|row| {
                entropy.decode_row(&mut blocks)?;
                render(row, &mut blocks, row + 1 == mcu_rows);
                Ok::<(), Stop>(())
            })
            .and_then(|()| entropy.consumed())
    } else {
        let (send, receive) = mpsc::channel::<(usize, Vec<Block>)>();
        let (give_back, take_back) = mpsc::channel::<Vec<Block>>();
        let (decoded, rendered) = rayon::join(
            move || {
                for row in 0..mcu_rows {
                    // Never waits for the other task: it may not have started.
                    let mut blocks = match take_back.try_recv() {
                        Ok(blocks) => blocks,
                        Err(_) => {
                            try_filled(blocks_per_row, [0; 64], BLOCKS).map_err(Stop::Rejected)?
                        }
                    };
                    entropy.decode_row(&mut blocks)?;
                    // The receiver only hangs up when it is done.
                    let _ = send.send((row, blocks));
                }
                entropy.consumed()
            },
            move || {
                let mut rendered = 0;
                for (row, mut blocks) in receive {
                    render(row, &mut blocks, row + 1 == mcu_rows);
                    let _ = give_back.send(blocks);
                    rendered = row + 1;
                }
                rendered
            },
        );
        if decoded.is_ok() && rendered != mcu_rows {
            return Err(Rejection::internal(
                "JPEG: MCU rows went missing between tasks",
            ));
        }
        decoded
    };
    // The scan's data is a slice of `bytes`: its ranges, made absolute.
    let offset = layout.scan.as_ptr() as usize - bytes.as_ptr() as usize;
    match finished {
        Ok(consumed) => Ok(Some((
            Pixels {
                width: layout.width as u32,
                height: layout.height as u32,
                channels: 3,
                data: renderer.out,
            },
            consumed
                .into_iter()
                .map(|r| r.start + offset..r.end + offset)
                .collect(),
        ))),
        Err(Stop::Scan) => Ok(None),
        Err(Stop::Rejected(e)) => Err(e),
    }
}

/// The Huffman-decoding task's state.
struct Entropy<'a> {
    layout: &'a Layout<'a>,
    bits: Bits<'a>,
    predictors: [i32; 3],
    restarts: Restarts,
}

impl<'a> Entropy<'a> {
    fn new(layout: &'a Layout<'a>) -> Self {
        Entropy {
            layout,
            bits: Bits::new(layout.scan),
            predictors: [0; 3],
            restarts: Restarts::new(layout.restart_interval),
        }
    }

    /// Decodes the next row of MCUs into `blocks` (all zero), in scan order: per MCU,
    /// per component, its `h × v` blocks row by row.
    fn decode_row(&mut self, blocks: &mut [Block]) -> Result<(), Stop> {
        let layout = self.layout;
        let per_mcu = layout.blocks_per_mcu();
        for mcu in blocks.chunks_exact_mut(per_mcu) {
            let restarted = self.restarts.before_mcu(&mut self.bits);
            if restarted.map_err(|_| Stop::Scan)? {
                self.predictors = [0; 3];
            }
            let mut blocks = mcu.iter_mut();
            for (c, component) in layout.components.iter().enumerate() {
                // Present: checked when the layout was read.
                let (Some(dc), Some(ac)) = (
                    &layout.dc_tables[component.dc],
                    &layout.ac_tables[component.ac],
                ) else {
                    return Err(Stop::Scan);
                };
                for block in blocks.by_ref().take(component.h * component.v) {
                    decode_block(&mut self.bits, block, dc, ac, &mut self.predictors[c])
                        .map_err(|_| Stop::Scan)?;
                }
            }
        }
        if self.bits.overran() {
            return Err(Stop::Scan);
        }
        Ok(())
    }

    /// After the last row: the byte ranges the scan was decoded from.
    fn consumed(self) -> Result<Vec<Range<usize>>, Stop> {
        self.restarts.finish(&self.bits).ok_or(Stop::Scan)
    }
}

/// The rendering task's state: the image's planes and its RGB output.
struct Renderer<'a> {
    layout: &'a Layout<'a>,
    planes: Planes,
    scratch: RowScratch,
    out: Vec<u8>,
}

impl Renderer<'_> {
    /// [`Renderer::row`] compiled for AVX2 (which `avx2` shows the CPU has).
    #[cfg(target_arch = "x86_64")]
    fn row_avx2(&mut self, avx2: Avx2, row: usize, blocks: &mut [Block], last: bool) {
        #[target_feature(enable = "avx2")]
        fn compiled(r: &mut Renderer, avx2: Avx2, row: usize, blocks: &mut [Block], last: bool) {
            r.row(avx2, row, blocks, last);
        }
        #[allow(unsafe_code)]
        // SAFETY: an `Avx2` exists only where the CPU has AVX2.
        unsafe {
            compiled(self, avx2, row, blocks, last)
        }
    }

    /// Inverse-transforms MCU row `row` (`blocks`, zeroed afterwards) into the
    /// planes, then writes the RGB rows of MCU row `row - 1`, and of `row` too if it
    /// is the `last`.
    #[inline(always)]
    fn row(&mut self, transform: impl Transform, row: usize, blocks: &mut [Block], last: bool) {
        let (layout, planes) = (self.layout, &mut self.planes);
        let per_mcu = layout.blocks_per_mcu();
        for (mx, mcu) in blocks.chunks_exact_mut(per_mcu).enumerate() {
            let mut blocks = mcu.iter_mut();
            for (c, component) in layout.components.iter().enumerate() {
                let (plane, stride) = match c {
                    0 => (&mut planes.luma, planes.luma_stride),
                    _ => (&mut planes.chroma[c - 1], planes.chroma_stride),
                };
                for by in 0..component.v {
                    for bx in 0..component.h {
                        let Some(block) = blocks.next() else { return };
                        let x = (mx * component.h + bx) * 8;
                        let y = (row * component.v + by) * 8;
                        idct_block(
                            transform,
                            block,
                            &component.quant,
                            &mut plane[y * stride + x..],
                            stride,
                        );
                    }
                }
            }
        }
        let band = 8 * layout.max_sampling().1;
        let (width, height) = (layout.width, layout.height);
        let first = if row > 0 { row - 1 } else { row };
        let end = if last { row + 1 } else { row };
        // (Not a closure: closures do not inherit `row_avx2`'s target features.)
        for mcu_row in first..end {
            let rows = mcu_row * band..((mcu_row + 1) * band).min(height);
            let out = &mut self.out[rows.start * width * 3..rows.end * width * 3];
            convert_rows(planes, &mut self.scratch, width, rows, out);
        }
    }
}
