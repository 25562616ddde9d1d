//! GIF via the `gif` crate, composited frame by frame onto the logical screen exactly
//! as a browser shows it: frame rectangles clipped to the screen (never trusted for
//! allocation beyond the decoder's memory limit), transparent pixels showing what is
//! below, and each frame's disposal (keep, clear to transparent, restore previous)
//! applied before the next is drawn. Uncovered pixels are transparent.

use gif::DisposalMethod;

use super::{decode_budget, Pixels};
use crate::alloc::try_zeroed;
use crate::error::Error;
use crate::probe::SourceInfo;

pub(super) fn decode_first_frame(bytes: &[u8], info: &SourceInfo) -> Result<Pixels, Error> {
    let mut frames = GifFrames::new(bytes, info)?;
    frames
        .next_frame()?
        .ok_or_else(|| Error::bad_image("GIF: no frames"))?;
    Ok(Pixels {
        width: frames.width,
        height: frames.height,
        channels: 4,
        data: frames.screen,
    })
}

/// A clipped rectangle on the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Rect {
    x: usize,
    y: usize,
    w: usize,
    h: usize,
}

/// One displayed frame's timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FrameTiming {
    /// Delay after this frame, in hundredths of a second, as stored.
    pub delay: u16,
}

/// Streams the composited screen, frame by frame, holding one screen (plus the saved
/// area of a "restore previous" frame) however many frames there are.
pub(crate) struct GifFrames<'a> {
    decoder: gif::Decoder<&'a [u8]>,
    /// Screen width in pixels.
    pub width: u32,
    /// Screen height in pixels.
    pub height: u32,
    /// The screen as displayed after the last frame, RGBA.
    pub screen: Vec<u8>,
    saved: Vec<u8>,
    pending: Option<(DisposalMethod, Rect)>,
}

impl<'a> GifFrames<'a> {
    pub fn new(bytes: &'a [u8], info: &SourceInfo) -> Result<Self, Error> {
        let mut options = gif::DecodeOptions::new();
        options.set_color_output(gif::ColorOutput::RGBA);
        if let Some(limit) = std::num::NonZeroU64::new(decode_budget(info)) {
            options.set_memory_limit(gif::MemoryLimit::Bytes(limit));
        }
        let decoder = options.read_info(bytes).map_err(fail)?;
        let (width, height) = (u32::from(decoder.width()), u32::from(decoder.height()));
        let screen = try_zeroed(width as usize * height as usize * 4, "GIF screen")?;
        Ok(GifFrames {
            decoder,
            width,
            height,
            screen,
            saved: Vec::new(),
            pending: None,
        })
    }

    /// How many times the animation plays: `None` forever, `Some(n)` n extra loops
    /// (the NETSCAPE2.0 count), absent meaning play once.
    pub fn repeat(&self) -> gif::Repeat {
        self.decoder.repeat()
    }

    /// Composites the next frame onto [`screen`](Self::screen); `None` after the last.
    pub fn next_frame(&mut self) -> Result<Option<FrameTiming>, Error> {
        let (sw, sh) = (self.width as usize, self.height as usize);
        match self.pending.take() {
            Some((DisposalMethod::Background, r)) => fill_rect(&mut self.screen, sw, r, None),
            Some((DisposalMethod::Previous, r)) => {
                fill_rect(&mut self.screen, sw, r, Some(&self.saved))
            }
            _ => {}
        }
        let Some(frame) = self.decoder.read_next_frame().map_err(fail)? else {
            return Ok(None);
        };
        let rect = Rect {
            x: usize::from(frame.left).min(sw),
            y: usize::from(frame.top).min(sh),
            w: usize::from(frame.width).min(sw.saturating_sub(usize::from(frame.left))),
            h: usize::from(frame.height).min(sh.saturating_sub(usize::from(frame.top))),
        };
        if frame.dispose == DisposalMethod::Previous {
            self.saved.clear();
            for row in 0..rect.h {
                let start = ((rect.y + row) * sw + rect.x) * 4;
                self.saved
                    .extend_from_slice(&self.screen[start..start + rect.w * 4]);
            }
        }
        let fw = usize::from(frame.width);
        for row in 0..rect.h {
            let src_start = row * fw * 4;
            let Some(src) = frame.buffer.get(src_start..src_start + rect.w * 4) else {
                break;
            };
            let dst_start = ((rect.y + row) * sw + rect.x) * 4;
            let dst = &mut self.screen[dst_start..dst_start + rect.w * 4];
            for (d, s) in dst.chunks_exact_mut(4).zip(src.chunks_exact(4)) {
                if s[3] != 0 {
                    d.copy_from_slice(s);
                }
            }
        }
        let timing = FrameTiming { delay: frame.delay };
        self.pending = Some((frame.dispose, rect));
        Ok(Some(timing))
    }
}

/// Clears `r` to transparent (`from` = `None`) or copies `from` (rows of `r.w`) into it.
fn fill_rect(screen: &mut [u8], sw: usize, r: Rect, from: Option<&[u8]>) {
    for row in 0..r.h {
        let start = ((r.y + row) * sw + r.x) * 4;
        let dst = &mut screen[start..start + r.w * 4];
        match from.and_then(|f| f.get(row * r.w * 4..(row + 1) * r.w * 4)) {
            Some(src) => dst.copy_from_slice(src),
            None => dst.fill(0),
        }
    }
}

fn fail(e: gif::DecodingError) -> Error {
    Error::bad_image(format!("GIF: {e}")).with_source(e)
}
