//! One animated GIF being written, one frame behind the frames it is given.
//!
//! Every output frame shows exactly the mapped source frame. To keep files small, a
//! frame is written as the bounding rectangle of the pixels that differ from what is
//! already on screen, with unchanged pixels inside it set to the transparent index
//! (long runs that LZW compresses to almost nothing). A pixel that must become
//! transparent again cannot be drawn: the *previous* frame is then disposed to
//! background over a rectangle grown to cover every such pixel. Deciding that needs
//! the next frame, so each frame is written when its successor arrives.

use gif::{DisposalMethod, Encoder, Frame, Repeat};

use super::palette::Palette;
use crate::alloc::{try_filled, try_with_capacity, try_zeroed};
use crate::error::{Error, Limit};

/// A rectangle in output pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Rect {
    x0: usize,
    y0: usize,
    x1: usize, // exclusive
    y1: usize, // exclusive
}

impl Rect {
    fn union(self, o: Rect) -> Rect {
        Rect {
            x0: self.x0.min(o.x0),
            y0: self.y0.min(o.y0),
            x1: self.x1.max(o.x1),
            y1: self.y1.max(o.y1),
        }
    }
}

/// The bounding box of the pixels where `hit(i)` holds, on a `side`-wide grid.
fn bbox(side: usize, len: usize, hit: impl Fn(usize) -> bool) -> Option<Rect> {
    let mut r: Option<Rect> = None;
    for y in 0..len / side {
        let row = y * side;
        let Some(first) = (0..side).find(|&x| hit(row + x)) else {
            continue;
        };
        let last = (first..side).rev().find(|&x| hit(row + x)).unwrap_or(first);
        let this = Rect {
            x0: first,
            y0: y,
            x1: last + 1,
            y1: y + 1,
        };
        r = Some(r.map_or(this, |r| r.union(this)));
    }
    r
}

/// Palette indices of every output pixel, with the colours they stand for (packed
/// `0xFFRRGGBB`; 0 for the transparent index). One byte per pixel: colours are
/// compared through the palettes, since consecutive frames may use different ones.
struct Plane {
    indices: Vec<u8>,
    colours: Vec<u32>,
}

impl Plane {
    #[inline]
    fn colour(&self, q: usize) -> u32 {
        self.colours[usize::from(self.indices[q])]
    }
}

/// A frame waiting for its successor.
struct Pending {
    /// As shown once this frame is drawn.
    shown: Plane,
    /// On screen before it is drawn.
    base: Plane,
    table: Vec<u8>,
    transparent: u8,
    rect: Rect,
    delay: u16,
}

pub(crate) struct AnimatedGif {
    side: usize,
    repeat: Repeat,
    /// Created with the first frame written, whose colour table becomes the global
    /// one: later frames with the same table carry none of their own.
    encoder: Option<(Encoder<Vec<u8>>, Vec<u8>)>,
    /// Most bytes the file may grow to (`Policy::max_output_bytes`).
    max_bytes: usize,
    /// Frames written so far.
    written: u32,
    pending: Option<Pending>,
    spare: Vec<u8>,
}

fn fail(e: gif::EncodingError) -> Error {
    Error::internal(format!("GIF encoder: {e}")).with_source(e)
}

/// Packed colours of a palette's 256 indices; unused and transparent ones are 0.
fn packed(palette: &Palette) -> Vec<u32> {
    let mut c: Vec<u32> = palette
        .colours
        .iter()
        .map(|p| 0xFF00_0000 | u32::from(p[0]) << 16 | u32::from(p[1]) << 8 | u32::from(p[2]))
        .collect();
    c.resize(256, 0);
    c
}

/// Two opaque colours at most this far apart (Euclidean, 8-bit RGB) count as
/// unchanged between frames that share a palette.
pub const KEEP_DISTANCE: u32 = 6;

/// Sizes below this are redrawn exactly: they are a few percent of the bytes, and at
/// small sizes every pixel's error shows.
pub const KEEP_MIN_SIDE: usize = 256;

/// Where the new frame's colour is within [`KEEP_DISTANCE`] of what is already shown,
/// shows the old pixel instead, so it need not be redrawn. `shown` records what is
/// really displayed, so the error never accumulates past one step.
fn keep_near_pixels(shown: &mut Plane, base: &Plane) {
    let near = |a: u32, b: u32| {
        let d2: u32 = [16, 8, 0]
            .iter()
            .map(|&sh| ((a >> sh) & 0xFF).abs_diff((b >> sh) & 0xFF).pow(2))
            .sum();
        d2 <= KEEP_DISTANCE * KEEP_DISTANCE
    };
    for (i, &b) in shown.indices.iter_mut().zip(&base.indices) {
        let (cs, cb) = (shown.colours[usize::from(*i)], base.colours[usize::from(b)]);
        if cs != 0 && cb != 0 && cs != cb && near(cs, cb) {
            *i = b;
        }
    }
}

impl AnimatedGif {
    /// A writer for `side`² frames that refuses (`too_large`) to grow past
    /// `max_bytes`.
    pub fn new(side: u32, repeat: Repeat, max_bytes: usize) -> Result<Self, Error> {
        let s = u16::try_from(side)
            .map_err(|_| Error::internal(format!("GIF side {side} exceeds 65535")))?;
        let n = usize::from(s) * usize::from(s);
        Ok(AnimatedGif {
            side: side as usize,
            repeat,
            encoder: None,
            max_bytes,
            written: 0,
            pending: None,
            spare: try_zeroed(n, "animation frame indices")?,
        })
    }

    /// Adds the next frame: palette indices for every output pixel.
    pub fn push(&mut self, indices: &[u8], palette: &Palette, delay: u16) -> Result<(), Error> {
        let n = self.side * self.side;
        let t = palette.transparent();
        let mut own = std::mem::take(&mut self.spare);
        if own.len() != n {
            own = try_zeroed(n, "animation frame indices")?;
        }
        own.copy_from_slice(indices);
        let mut shown = Plane {
            indices: own,
            colours: packed(palette),
        };
        let base = match self.pending.take() {
            None => Plane {
                indices: try_filled(n, 0, "animation frame indices")?,
                colours: vec![0; 256],
            },
            Some(mut prev) => {
                let must_clear = bbox(self.side, n, |q| {
                    shown.colour(q) == 0 && prev.shown.colour(q) != 0
                });
                let dispose = match must_clear {
                    Some(r) => {
                        prev.rect = prev.rect.union(r);
                        DisposalMethod::Background
                    }
                    None => DisposalMethod::Keep,
                };
                self.write(&prev, dispose)?;
                let mut base = prev.shown;
                if dispose == DisposalMethod::Background {
                    let r = prev.rect;
                    let clear = prev.transparent;
                    for y in r.y0..r.y1 {
                        base.indices[y * self.side + r.x0..y * self.side + r.x1].fill(clear);
                    }
                }
                self.spare = prev.base.indices;
                base
            }
        };
        if shown.colours == base.colours && self.side >= KEEP_MIN_SIDE {
            keep_near_pixels(&mut shown, &base);
        }
        let rect = bbox(self.side, n, |q| shown.colour(q) != base.colour(q)).unwrap_or(Rect {
            x0: 0,
            y0: 0,
            x1: 1,
            y1: 1,
        });
        self.pending = Some(Pending {
            shown,
            base,
            table: palette.table(),
            transparent: t,
            rect,
            delay,
        });
        Ok(())
    }

    fn write(&mut self, p: &Pending, dispose: DisposalMethod) -> Result<(), Error> {
        let r = p.rect;
        let mut buffer = try_with_capacity((r.x1 - r.x0) * (r.y1 - r.y0), "animation frame")?;
        for y in r.y0..r.y1 {
            for q in y * self.side + r.x0..y * self.side + r.x1 {
                buffer.push(if p.shown.colour(q) == p.base.colour(q) {
                    p.transparent
                } else {
                    p.shown.indices[q]
                });
            }
        }
        if self.encoder.is_none() {
            let n = self.side * self.side;
            let out = try_with_capacity(n / 2 + 1024, "animated GIF output")?;
            let side = self.side as u16;
            let mut encoder = Encoder::new(out, side, side, &p.table).map_err(fail)?;
            encoder.set_repeat(self.repeat).map_err(fail)?;
            self.encoder = Some((encoder, p.table.clone()));
        }
        let Some((encoder, global)) = self.encoder.as_mut() else {
            return Err(Error::internal("GIF encoder missing"));
        };
        let frame = Frame {
            left: r.x0 as u16,
            top: r.y0 as u16,
            width: (r.x1 - r.x0) as u16,
            height: (r.y1 - r.y0) as u16,
            delay: p.delay,
            dispose,
            transparent: Some(p.transparent),
            palette: (p.table != *global).then(|| p.table.clone()),
            buffer: std::borrow::Cow::Owned(buffer),
            ..Frame::default()
        };
        encoder.write_frame(&frame).map_err(fail)?;
        self.written += 1;
        let len = encoder.get_ref().len();
        if len > self.max_bytes {
            return Err(Error::too_large(
                Limit::OutputBytes,
                format!(
                    "the {side}x{side} animated rendition passed {len} bytes at frame {n}; \
                 the most one rendition may hold (max_output_bytes) is {max}",
                    side = self.side,
                    n = self.written,
                    max = self.max_bytes
                ),
            ));
        }
        Ok(())
    }

    /// Writes the last frame and the trailer.
    pub fn finish(mut self) -> Result<Vec<u8>, Error> {
        if let Some(p) = self.pending.take() {
            self.write(&p, DisposalMethod::Keep)?;
        }
        match self.encoder {
            Some((encoder, _)) => encoder.into_inner().map_err(fail),
            None => Err(Error::internal("animated GIF without frames")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bbox_finds_the_changed_rectangle() {
        let hit = |q: usize| q == 7 || q == 13;
        assert_eq!(
            bbox(5, 25, hit),
            Some(Rect {
                x0: 2,
                y0: 1,
                x1: 4,
                y1: 3
            })
        );
        assert_eq!(bbox(5, 25, |_| false), None);
    }
}
