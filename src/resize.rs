//! Stage 6: every rendition size from the square, in parallel, with fast_image_resize.
//!
//! Sizes are planned as a small tree ("hybrid" resizing) for opaque squares: a size
//! is resized from the smallest already-planned rendition at least [`MIN_RATIO`]
//! times larger, at most [`MAX_DEPTH_OPAQUE`] resizes from the square, never from one
//! as large as the square (a copy or an enlargement), otherwise from the square. For
//! the default sizes that is 1024 and 512 from the square, 192 from 512, and
//! 72/48/32/24 from 192: about half the work of resizing each from the square, at the
//! same SSIMULACRA2 score (`bench/quality`). Squares with alpha resize every size from
//! the square ([`MAX_DEPTH_ALPHA`]): an 8-bit unpremultiplied intermediate loses the
//! colour of low-alpha pixels, 1.4–3.5 points at 192…24 on the bench PNGs. Each
//! planned node is a rayon task that resizes, then spawns its children, then hands its
//! pixels to the encoder, so the tree runs on as many threads as the pool has.

use std::sync::{Arc, Mutex};

use fast_image_resize::images::{CroppedImage, CroppedImageMut, Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

use crate::alloc::try_zeroed;
use crate::cancel::Checks;
use crate::canvas::{Rect, Square};
use crate::error::Error;
use crate::policy::Filter;

/// A child is resized from a parent only when the parent is at least this many times
/// larger; closer ratios lose sharpness to the second resampling.
pub const MIN_RATIO: f64 = 2.5;

/// Most resizes between an opaque square and any rendition. Three gives the measured
/// hybrid (square → 512 → 192 → 24); a longer cascade measurably softens the small
/// sizes. On the bench JPEGs each-from-the-square scored no better (−0.4…+0.05).
pub const MAX_DEPTH_OPAQUE: usize = 3;

/// Most resizes between a square with alpha and any rendition: each from the square.
pub const MAX_DEPTH_ALPHA: usize = 1;

/// Where each size is resized from: `Some(i)` is `sizes[i]`, `None` the square (of
/// `square` pixels a side). A size as large as the square or larger is a copy or an
/// enlargement and is never a parent: resampling it again only loses detail.
pub fn plan(sizes: &[u32], square: u32, max_depth: usize) -> Vec<Option<usize>> {
    let mut parents: Vec<Option<usize>> = Vec::with_capacity(sizes.len());
    let mut depth = vec![0usize; sizes.len()];
    // Plan largest first so every parent is planned before its children.
    let mut order: Vec<usize> = (0..sizes.len()).collect();
    order.sort_by(|&a, &b| sizes[b].cmp(&sizes[a]));
    parents.resize(sizes.len(), None);
    for (k, &i) in order.iter().enumerate() {
        let parent = order[..k].iter().rev().copied().find(|&j| {
            depth[j] < max_depth
                && sizes[j] < square
                && f64::from(sizes[j]) >= MIN_RATIO * f64::from(sizes[i])
        });
        depth[i] = parent.map_or(1, |j| depth[j] + 1);
        parents[i] = parent;
    }
    parents
}

/// Resizes `square` to every size and passes each result to `finish` (the encoder),
/// returning `finish`'s results in the order of `sizes`.
pub(crate) fn render_all<T, F>(
    square: &Square,
    sizes: &[u32],
    filter: Filter,
    checks: Checks,
    finish: F,
) -> Vec<Result<T, Error>>
where
    T: Send,
    F: Fn(&Square) -> Result<T, Error> + Sync,
{
    let depth = if square.channels == 4 {
        MAX_DEPTH_ALPHA
    } else {
        MAX_DEPTH_OPAQUE
    };
    let parents = plan(sizes, square.side, depth);
    let results: Vec<Mutex<Option<Result<T, Error>>>> =
        sizes.iter().map(|_| Mutex::new(None)).collect();
    let job = Job {
        sizes,
        parents: &parents,
        filter,
        checks,
        finish: &finish,
        results: &results,
    };
    rayon::scope(|s| {
        for i in (0..sizes.len()).filter(|&i| parents[i].is_none()) {
            let job = &job;
            s.spawn(move |s| job.run(s, i, Source::Square(square)));
        }
    });
    results
        .into_iter()
        .map(|m| {
            m.into_inner()
                .unwrap_or_else(|p| p.into_inner())
                .unwrap_or_else(|| Err(Error::internal("a rendition task did not finish")))
        })
        .collect()
}

struct Job<'a, T, F> {
    sizes: &'a [u32],
    parents: &'a [Option<usize>],
    filter: Filter,
    /// Checked before each resize: a cancelled job starts no more of them.
    checks: Checks<'a>,
    finish: &'a F,
    results: &'a [Mutex<Option<Result<T, Error>>>],
}

/// The pixels a task resizes from and hands on: the square itself (borrowed, never
/// copied: a rendition as large as the square *is* the square) or a resized rendition
/// shared with its children.
#[derive(Clone)]
enum Source<'a> {
    Square(&'a Square),
    Rendition(Arc<Square>),
}

impl Source<'_> {
    fn pixels(&self) -> &Square {
        match self {
            Source::Square(sq) => sq,
            Source::Rendition(sq) => sq,
        }
    }
}

impl<T, F> Job<'_, T, F>
where
    T: Send,
    F: Fn(&Square) -> Result<T, Error> + Sync,
{
    fn run<'s>(&'s self, s: &rayon::Scope<'s>, i: usize, src: Source<'s>) {
        let img = if let Err(e) = self.checks.check() {
            Err(e)
        } else if src.pixels().side == self.sizes[i] {
            Ok(src)
        } else {
            resize(src.pixels(), self.sizes[i], self.filter).map(|r| Source::Rendition(Arc::new(r)))
        };
        let children = (0..self.sizes.len()).filter(|&c| self.parents[c] == Some(i));
        let result = match img {
            Ok(img) => {
                for child in children {
                    let img = img.clone();
                    s.spawn(move |s| self.run(s, child, img));
                }
                (self.finish)(img.pixels())
            }
            Err(e) => {
                for child in children {
                    self.store(child, Err(e.clone()));
                }
                Err(e)
            }
        };
        self.store(i, result);
    }

    fn store(&self, i: usize, r: Result<T, Error>) {
        *self.results[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(r);
    }
}

/// `src` resized to `side`×`side` (a copy when the sizes are equal).
pub(crate) fn resize(src: &Square, side: u32, filter: Filter) -> Result<Square, Error> {
    let mut data = try_zeroed(side as usize * side as usize * src.channels, "rendition")?;
    resize_into(&mut Resizer::new(), src, side, &mut data, filter)?;
    Ok(Square {
        side,
        channels: src.channels,
        data,
        letterbox: src.letterbox,
    })
}

/// Resizes `src` into `dst`, a `side`×`side` buffer with `src`'s channels, using
/// `resizer`'s scratch buffers (a copy when the sides are equal).
///
/// Only the picture is resampled, from the picture alone, into its fitted rectangle
/// ([`Letterbox::picture_at`](crate::canvas::Letterbox::picture_at)); every other pixel
/// is set to the bar colour exactly. So no filter runs across the picture's edge: bars
/// stay the background (or alpha 0) and the picture's edge keeps its colour.
pub(crate) fn resize_into(
    resizer: &mut Resizer,
    src: &Square,
    side: u32,
    dst: &mut [u8],
    filter: Filter,
) -> Result<(), Error> {
    if side == src.side {
        dst.copy_from_slice(&src.data);
        return Ok(());
    }
    let (from_rect, to_rect) = (src.picture(), src.letterbox.picture_at(side));
    fill_bars(dst, side, src.channels, to_rect, src.letterbox.bar);
    let pixel_type = if src.channels == 4 {
        PixelType::U8x4
    } else {
        PixelType::U8x3
    };
    let internal = |e: &dyn std::fmt::Display| Error::internal(format!("resize: {e}"));
    let from =
        ImageRef::new(src.side, src.side, &src.data, pixel_type).map_err(|e| internal(&e))?;
    let mut to = Image::from_slice_u8(side, side, dst, pixel_type).map_err(|e| internal(&e))?;
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(filter_type(filter)));
    if from_rect == whole(src.side) && to_rect == whole(side) {
        return resizer
            .resize(&from, &mut to, &options)
            .map_err(|e| internal(&e));
    }
    // Views of just the pictures: the filter's window is clamped to the source
    // picture's edges, and nothing is written outside the destination picture.
    let from = CroppedImage::new(&from, from_rect.x, from_rect.y, from_rect.w, from_rect.h)
        .map_err(|e| internal(&e))?;
    let mut to = CroppedImageMut::new(&mut to, to_rect.x, to_rect.y, to_rect.w, to_rect.h)
        .map_err(|e| internal(&e))?;
    resizer
        .resize(&from, &mut to, &options)
        .map_err(|e| internal(&e))
}

fn whole(side: u32) -> Rect {
    Rect {
        x: 0,
        y: 0,
        w: side,
        h: side,
    }
}

/// Sets every pixel of the `side`² image `dst` outside `picture` to `bar`.
fn fill_bars(dst: &mut [u8], side: u32, channels: usize, picture: Rect, bar: [u8; 4]) {
    let line = side as usize * channels;
    let bar = &bar[..channels];
    let (left, right) = (
        picture.x as usize * channels,
        (picture.x + picture.w) as usize * channels,
    );
    for (y, row) in dst.chunks_exact_mut(line).enumerate() {
        let inside = (picture.y..picture.y + picture.h).contains(&(y as u32));
        let (head, tail) = if inside {
            let (head, rest) = row.split_at_mut(left);
            (head, &mut rest[right - left..])
        } else {
            (row, &mut [][..])
        };
        for px in head
            .chunks_exact_mut(channels)
            .chain(tail.chunks_exact_mut(channels))
        {
            px.copy_from_slice(bar);
        }
    }
}

fn filter_type(filter: Filter) -> FilterType {
    match filter {
        Filter::Lanczos3 => FilterType::Lanczos3,
        Filter::CatmullRom => FilterType::CatmullRom,
        Filter::Mitchell => FilterType::Mitchell,
        Filter::Box => FilterType::Box,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_sizes_plan_is_the_measured_hybrid_or_direct_with_alpha() {
        let sizes = [1024, 512, 192, 72, 48, 32, 24];
        assert_eq!(
            plan(&sizes, 1024, MAX_DEPTH_OPAQUE),
            [None, None, Some(1), Some(2), Some(2), Some(2), Some(2)]
        );
        assert_eq!(plan(&sizes, 1024, MAX_DEPTH_ALPHA), [None; 7]);
    }

    #[test]
    fn plan_chains_at_most_three_resizes_and_never_from_an_enlargement() {
        let sizes = [24, 4000, 1600, 640, 256, 100];
        for square in [5000, 1024, 300] {
            let parents = plan(&sizes, square, MAX_DEPTH_OPAQUE);
            for (i, p) in parents.iter().enumerate() {
                if let Some(j) = *p {
                    assert!(f64::from(sizes[j]) >= MIN_RATIO * f64::from(sizes[i]));
                    assert!(sizes[j] < square, "{} from {}", sizes[i], sizes[j]);
                    let grandparent = parents[j].and_then(|k| parents[k]);
                    assert_eq!(grandparent, None, "size {}", sizes[i]);
                }
            }
        }
        // From a 600² square the 1024 rendition is an enlargement: 192 is not taken
        // from it.
        assert_eq!(plan(&[1024, 192], 600, MAX_DEPTH_OPAQUE), [None, None]);
    }

    #[test]
    fn every_size_is_exact_and_flat_colour_stays_flat() {
        let sq = Square::new(300, 4, [10, 200, 30, 255].repeat(300 * 300));
        let sizes = [1000, 300, 100, 40, 7, 1];
        let out = render_all(&sq, &sizes, Filter::Lanczos3, Checks(None), |r| {
            Ok(r.clone())
        });
        for (r, &s) in out.into_iter().zip(&sizes) {
            let r = r.unwrap();
            assert_eq!((r.side, r.data.len()), (s, (s * s * 4) as usize));
            assert!(
                r.data.chunks_exact(4).all(|p| p == [10, 200, 30, 255]),
                "size {s}"
            );
        }
    }
}
