//! Writes GIFs that the default policy admits and that are built to cost the most CPU
//! per upload, beside the heaviest legitimate animation, for `avatar bench` to time:
//!
//! ```sh
//! cargo run --release --example gif_bombs -- /tmp/gif-bombs [PHOTO.jpg]
//! target/release/avatar bench /tmp/gif-bombs --threads 1 --iterations 3 --warmup 1
//! ```
//!
//! `PHOTO.jpg` (say `../shared/bench-inputs/jpeg_1024x1024_q90.jpg`) is the picture the
//! legitimate animation pans over; without it a generated photo-like picture is used.
//! Every file stays within the default policy (1024² screen at most, 50 frames,
//! 16 MiB): where a generator's frames would not fit, it writes as many as fit.

#[path = "../tests/support/generate.rs"]
mod generate;

use std::borrow::Cow;
use std::path::Path;

use avatar_engine::{Policy, Upload};
use generate::Rng;

/// One frame to write: where it lies, its local palette and its indices.
struct Frame {
    left: u16,
    top: u16,
    width: u16,
    height: u16,
    palette: Vec<[u8; 3]>,
    transparent: Option<u8>,
    indices: Vec<u8>,
}

/// Encodes frames on a `side`² screen, as many as fit in `max_bytes` (at most 50).
fn gif(side: u16, max_bytes: usize, next: impl FnMut(usize) -> Frame) -> (Vec<u8>, usize) {
    gif_capped(side, max_bytes, Policy::default().max_frames as usize, next)
}

/// [`gif`] of at most `max_frames` frames.
fn gif_capped(
    side: u16,
    max_bytes: usize,
    max_frames: usize,
    mut next: impl FnMut(usize) -> Frame,
) -> (Vec<u8>, usize) {
    let mut enc = gif::Encoder::new(Vec::new(), side, side, &[]).expect("screen");
    enc.set_repeat(gif::Repeat::Infinite).expect("repeat");
    let mut written = 0;
    for i in 0..max_frames {
        let f = next(i);
        let frame = gif::Frame {
            left: f.left,
            top: f.top,
            width: f.width,
            height: f.height,
            delay: 5,
            palette: Some(f.palette.iter().flatten().copied().collect()),
            transparent: f.transparent,
            buffer: Cow::Owned(f.indices),
            ..gif::Frame::default()
        };
        let before = enc.get_ref().len();
        enc.write_frame(&frame).expect("frame");
        if enc.get_ref().len() + 1 > max_bytes {
            // Leave off the frame that crossed the limit.
            let mut bytes = enc.into_inner().expect("trailer");
            bytes.truncate(before);
            bytes.push(0x3B);
            return (bytes, written);
        }
        written += 1;
    }
    (enc.into_inner().expect("trailer"), written)
}

fn random_palette(rng: &mut Rng, n: usize, f: impl Fn(&mut Rng) -> [u8; 3]) -> Vec<[u8; 3]> {
    (0..n).map(|_| f(rng)).collect()
}

fn noise(rng: &mut Rng, n: usize, colours: u32) -> Vec<u8> {
    (0..n).map(|_| (rng.next() % colours) as u8).collect()
}

fn full(side: u16, palette: Vec<[u8; 3]>, indices: Vec<u8>) -> Frame {
    Frame {
        left: 0,
        top: 0,
        width: side,
        height: side,
        palette,
        transparent: None,
        indices,
    }
}

/// 256 colours on a sphere of radius `r` around mid grey: resized pixels (blends of
/// them) land near the centre, where every entry is about as near as every other.
fn shell(rng: &mut Rng, r: f32) -> [u8; 3] {
    loop {
        let v = [0, 1, 2].map(|_| (rng.next() % 2001) as f32 / 1000.0 - 1.0);
        let len = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
        if (0.2..=1.0).contains(&len) {
            return v.map(|c| (128.0 + c / len * r).round().clamp(0.0, 255.0) as u8);
        }
    }
}

/// The legitimate animation: a 1024² picture panned 8 pixels a frame, each frame
/// quantised to its own 256-colour palette (NeuQuant), as GIF makers do; as many
/// frames as the default policy admits, in the upload (`max_input_bytes`) and in
/// every rendition (`max_output_bytes`: the engine is asked, one frame fewer each
/// time it refuses).
fn photo_pan(picture: &[u8], max_bytes: usize) -> (Vec<u8>, usize) {
    let mut cap = Policy::default().max_frames as usize;
    loop {
        let (bytes, frames) = photo_pan_capped(picture, max_bytes, cap);
        let refused = avatar_engine::process(&Policy::default(), &Upload::new(&bytes))
            .is_err_and(|e| e.code() == "too_large");
        if !refused || frames <= 1 {
            return (bytes, frames);
        }
        cap = frames - 1;
    }
}

fn photo_pan_capped(picture: &[u8], max_bytes: usize, max_frames: usize) -> (Vec<u8>, usize) {
    gif_capped(1024, max_bytes, max_frames, |i| {
        let mut rgba = Vec::with_capacity(1024 * 1024 * 4);
        for y in 0..1024usize {
            for x in 0..1024usize {
                let sx = (x + i * 8) % 2048;
                let sx = if sx < 1024 { sx } else { 2047 - sx };
                let p = &picture[(y * 1024 + sx) * 3..][..3];
                rgba.extend_from_slice(&[p[0], p[1], p[2], 255]);
            }
        }
        let f = gif::Frame::from_rgba_speed(1024, 1024, &mut rgba, 10);
        let palette = f
            .palette
            .as_deref()
            .unwrap_or_default()
            .chunks_exact(3)
            .map(|c| [c[0], c[1], c[2]])
            .collect();
        Frame {
            left: 0,
            top: 0,
            width: 1024,
            height: 1024,
            palette,
            transparent: f.transparent,
            indices: f.buffer.into_owned(),
        }
    })
}

/// A 1024² RGB picture: the given photo's top-left 1024², or a generated one.
fn picture(path: Option<&str>) -> Vec<u8> {
    if let Some(path) = path {
        let bytes = std::fs::read(path).expect("read the photo");
        let (_, px) = avatar_engine::stages::decode(&bytes).expect("decode the photo");
        assert!(
            px.width >= 1024 && px.height >= 1024,
            "the photo must be 1024² or more"
        );
        let c = px.channels;
        let mut out = Vec::with_capacity(1024 * 1024 * 3);
        for y in 0..1024usize {
            for x in 0..1024usize {
                let p = &px.data[(y * px.width as usize + x) * c..][..c];
                if c >= 3 {
                    out.extend_from_slice(&p[..3]);
                } else {
                    out.extend_from_slice(&[p[0]; 3]);
                }
            }
        }
        return out;
    }
    let img = generate::photo(1024, 1024, 7, 6);
    img.data
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().expect("usage: gif_bombs OUT_DIR [PHOTO.jpg]");
    let photo = args.next();
    let dir = Path::new(&dir);
    std::fs::create_dir_all(dir)?;
    let max = Policy::default().max_input_bytes;
    let mut rng = Rng(0x2545_F491);
    let mut files: Vec<(&str, (Vec<u8>, usize))> = Vec::new();

    files.push((
        "legit_photo_pan_1024.gif",
        photo_pan(&picture(photo.as_deref()), max),
    ));
    let s = 1024usize * 1024;
    files.push((
        "noise_local_palettes_1024.gif",
        gif(1024, max, |_| {
            let p = random_palette(&mut rng, 256, |r| [0, 1, 2].map(|_| r.next() as u8));
            full(1024, p, noise(&mut rng, s, 256))
        }),
    ));
    // Every colour shares one green: sorting by one channel prunes nothing.
    files.push((
        "noise_one_green_1024.gif",
        gif(1024, max, |_| {
            let p = random_palette(&mut rng, 256, |r| [r.next() as u8, 128, r.next() as u8]);
            full(1024, p, noise(&mut rng, s, 256))
        }),
    ));
    files.push((
        "noise_shell_1024.gif",
        gif(1024, max, |_| {
            let p = random_palette(&mut rng, 256, |r| shell(r, 110.0));
            full(1024, p, noise(&mut rng, s, 256))
        }),
    ));
    // Fewer bits per pixel: more frames fit in the input limit.
    files.push((
        "noise_16_colours_1024.gif",
        gif(1024, max, |_| {
            let p = random_palette(&mut rng, 16, |r| [0, 1, 2].map(|_| r.next() as u8));
            full(1024, p, noise(&mut rng, s, 16))
        }),
    ));
    // Small screens: the 1024 rendition is enlarged, so almost every output pixel is a
    // colour not seen before.
    for (name, side) in [
        ("noise_one_green_512.gif", 512u16),
        ("noise_one_green_700.gif", 700),
    ] {
        let n = usize::from(side).pow(2);
        files.push((
            name,
            gif(side, max, |_| {
                let p = random_palette(&mut rng, 256, |r| [r.next() as u8, 128, r.next() as u8]);
                full(side, p, noise(&mut rng, n, 256))
            }),
        ));
    }
    files.push((
        "noise_shell_512.gif",
        gif(512, max, |_| {
            let p = random_palette(&mut rng, 256, |r| shell(r, 110.0));
            full(512, p, noise(&mut rng, 512 * 512, 256))
        }),
    ));
    // The same noise frame over and over: the output hardly grows (nothing changes
    // after the first frame), so the output bound never stops the work.
    for (name, side, on_shell) in [
        ("same_frame_shell_512.gif", 512u16, true),
        ("same_frame_one_green_512.gif", 512, false),
        ("same_frame_shell_700.gif", 700, true),
    ] {
        let n = usize::from(side).pow(2);
        let p = random_palette(&mut rng, 256, |r| {
            if on_shell {
                shell(r, 110.0)
            } else {
                [r.next() as u8, 128, r.next() as u8]
            }
        });
        let indices = noise(&mut rng, n, 256);
        files.push((
            name,
            gif(side, max, |_| full(side, p.clone(), indices.clone())),
        ));
    }
    // Half of each frame transparent: the composite mixes every earlier frame's
    // palette, so the screen holds far more than 256 colours.
    files.push((
        "noise_mixed_palettes_512.gif",
        gif(512, max, |_| {
            let p = random_palette(&mut rng, 256, |r| [0, 1, 2].map(|_| r.next() as u8));
            let mut f = full(512, p, noise(&mut rng, 512 * 512, 256));
            f.transparent = Some(0);
            f
        }),
    ));
    // One pixel per frame: each still composites, resizes and maps a whole screen.
    files.push((
        "one_pixel_frames_1024.gif",
        gif(1024, max, |i| Frame {
            left: (i * 37 % 1024) as u16,
            top: (i * 91 % 1024) as u16,
            width: 1,
            height: 1,
            palette: vec![[(i * 5) as u8, 200, 40], [0, 0, 0]],
            transparent: None,
            indices: vec![0],
        }),
    ));
    // Frames that claim more than the screen: decoded in full, then clipped.
    files.push((
        "oversized_frames_1024.gif",
        gif(1024, max, |i| {
            let p = random_palette(&mut rng, 256, |r| [0, 1, 2].map(|_| r.next() as u8));
            let (w, h) = (1800u16, 1800u16);
            Frame {
                left: 0,
                top: 0,
                width: w,
                height: h,
                palette: p,
                transparent: None,
                indices: vec![(i % 256) as u8; usize::from(w) * usize::from(h)],
            }
        }),
    ));

    for (name, (bytes, frames)) in &files {
        std::fs::write(dir.join(name), bytes)?;
        println!("{:>9} bytes {frames:>3} frames  {name}", bytes.len());
    }
    Ok(())
}
