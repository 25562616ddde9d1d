//! Animated renditions: an animated GIF in, one animated GIF per size out.
//!
//! Streams frame by frame — memory is bounded by the canvas and the sizes, never by
//! the frame count. For each source frame: composite it as a browser shows it
//! ([`GifFrames`]), place it on the square (the same crop or letterbox for every frame,
//! transparent bars), take the frame's palette once, then in parallel for every size
//! resize, map to the palette and hand the frame to that size's [`AnimatedGif`] writer,
//! which writes only the rectangle that changed.

mod nearest;
mod palette;
mod writer;

use fast_image_resize::Resizer;
use rayon::prelude::*;

use crate::alloc::try_zeroed;
use crate::cancel::Checks;
use crate::canvas::compose;
use crate::decode::gif::GifFrames;
use crate::decode::Pixels;
use crate::error::Error;
use crate::geometry::Placement;
use crate::orient::Orientation;
use crate::policy::Filter;
use crate::policy::Policy;
use crate::probe::SourceInfo;
use crate::resize::resize_into;

use palette::{Mapper, Palette};
use writer::{AnimatedGif, KEEP_MIN_SIDE};

/// Bytes one size's streaming state holds per pixel: resized RGBA (4), the mapped
/// frame (1), the writer's shown, base and spare planes (3), the frame being written
/// (1) and its encoded output (at most ~1 per frame held, bounded here by 2).
pub(crate) const BYTES_PER_OUTPUT_PIXEL: u64 = 4 + 1 + 3 + 1 + 2;

/// Renders every size of an animated GIF, returning each size's file and frame count.
pub(crate) fn render_animated(
    bytes: &[u8],
    info: &SourceInfo,
    placement: &Placement,
    policy: &Policy,
    checks: Checks,
) -> Result<Vec<(Vec<u8>, u32)>, Error> {
    let mut frames = GifFrames::new(bytes, info)?;
    let repeat = frames.repeat();
    let mut sizes: Vec<SizeJob> = policy
        .sizes
        .iter()
        .map(|&side| SizeJob::new(side, repeat, policy.max_output_bytes))
        .collect::<Result<_, _>>()?;
    let filter = policy.filter;
    let mut count = 0u32;
    // Large sizes (most of the bytes) keep one palette while it still covers each
    // frame's colours, so the writer can leave near-identical pixels unchanged (see
    // `writer`); small sizes take each frame's own palette, exactly.
    let mut palette: Option<Palette> = None;
    while let Some(timing) = frames.next_frame()? {
        checks.check()?;
        count += 1;
        if count > policy.max_frames {
            return Err(Error::too_many_frames(policy.max_frames));
        }
        let screen = Pixels {
            width: frames.width,
            height: frames.height,
            channels: 4,
            data: std::mem::take(&mut frames.screen),
        };
        let square = compose(&screen, Orientation::Normal, placement, true, [0; 3]);
        frames.screen = screen.data;
        let square = square?;
        let own = Palette::of_screen(&frames.screen);
        let shared = match palette.take() {
            Some(shared) if shared.covers(&own) => shared,
            _ => own.clone(),
        };
        sizes
            .par_iter_mut()
            .map(|job| {
                checks.check()?;
                let p = if job.side >= KEEP_MIN_SIDE as u32 {
                    &shared
                } else {
                    &own
                };
                job.push(&square, p, timing.delay, filter)
            })
            .collect::<Result<(), Error>>()?;
        palette = Some(shared);
    }
    sizes
        .into_iter()
        .map(|job| job.finish().map(|b| (b, count)))
        .collect()
}

/// One output size: its resizer, buffers and writer.
struct SizeJob {
    side: u32,
    resizer: Resizer,
    rgba: Vec<u8>,
    indices: Vec<u8>,
    /// The last frame's mapper, kept while frames share its palette.
    mapper: Option<Mapper>,
    out: AnimatedGif,
}

impl SizeJob {
    fn new(side: u32, repeat: gif::Repeat, max_bytes: usize) -> Result<Self, Error> {
        let n = side as usize * side as usize;
        Ok(SizeJob {
            side,
            resizer: Resizer::new(),
            rgba: try_zeroed(n * 4, "animated rendition frame")?,
            indices: try_zeroed(n, "animated rendition indices")?,
            mapper: None,
            out: AnimatedGif::new(side, repeat, max_bytes)?,
        })
    }

    fn push(
        &mut self,
        square: &crate::canvas::Square,
        palette: &Palette,
        delay: u16,
        filter: Filter,
    ) -> Result<(), Error> {
        resize_into(&mut self.resizer, square, self.side, &mut self.rgba, filter)?;
        let mapper = match self.mapper.take() {
            Some(m) if m.serves(palette) => m,
            _ => Mapper::new(palette),
        };
        self.mapper
            .insert(mapper)
            .map(&self.rgba, &mut self.indices);
        self.out.push(&self.indices, palette, delay)
    }

    fn finish(self) -> Result<Vec<u8>, Error> {
        self.out.finish()
    }
}
