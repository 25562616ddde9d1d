//! The project's own test images, made from integer arithmetic only (so the bytes
//! are the same on every machine). `cargo run --example gen_testdata` writes them to
//! `testdata/`; the test suite checks the committed files still match.
//!
//! Orientation fixtures are stored with their own rotation code here, written
//! independently of the engine's `Orientation` mapping so one cannot hide a bug in
//! the other.

#![allow(dead_code)]

use std::borrow::Cow;

/// A plain RGB or RGBA image used while generating.
#[derive(Clone, Debug, PartialEq)]
pub struct Img {
    pub w: u32,
    pub h: u32,
    pub c: usize,
    pub data: Vec<u8>,
}

impl Img {
    pub fn new(w: u32, h: u32, c: usize, f: impl Fn(u32, u32) -> [u8; 4]) -> Img {
        let mut data = Vec::with_capacity(w as usize * h as usize * c);
        for y in 0..h {
            for x in 0..w {
                data.extend_from_slice(&f(x, y)[..c]);
            }
        }
        Img { w, h, c, data }
    }

    pub fn px(&self, x: u32, y: u32) -> &[u8] {
        let i = (y as usize * self.w as usize + x as usize) * self.c;
        &self.data[i..i + self.c]
    }

    /// A new image of size `w`×`h` whose pixel (x, y) is `self.px(src(x, y))`.
    fn remap(&self, w: u32, h: u32, src: impl Fn(u32, u32) -> (u32, u32)) -> Img {
        let mut data = Vec::with_capacity(self.data.len());
        for y in 0..h {
            for x in 0..w {
                let (sx, sy) = src(x, y);
                data.extend_from_slice(self.px(sx, sy));
            }
        }
        Img {
            w,
            h,
            c: self.c,
            data,
        }
    }

    pub fn flip_h(&self) -> Img {
        self.remap(self.w, self.h, |x, y| (self.w - 1 - x, y))
    }
    pub fn flip_v(&self) -> Img {
        self.remap(self.w, self.h, |x, y| (x, self.h - 1 - y))
    }
    pub fn rot180(&self) -> Img {
        self.flip_h().flip_v()
    }
    /// Quarter turn clockwise.
    pub fn rot_cw(&self) -> Img {
        self.remap(self.h, self.w, |x, y| (y, self.h - 1 - x))
    }
    /// Quarter turn counter-clockwise.
    pub fn rot_ccw(&self) -> Img {
        self.remap(self.h, self.w, |x, y| (self.w - 1 - y, x))
    }
    pub fn transpose(&self) -> Img {
        self.remap(self.h, self.w, |x, y| (y, x))
    }
    pub fn transverse(&self) -> Img {
        self.rot_cw().flip_v()
    }

    /// The stored grid that, shown with EXIF orientation `o`, displays as `self`.
    pub fn stored_for_orientation(&self, o: u16) -> Img {
        match o {
            1 => self.clone(),
            2 => self.flip_h(),
            3 => self.rot180(),
            4 => self.flip_v(),
            5 => self.transpose(),
            6 => self.rot_ccw(), // shown after a clockwise turn
            7 => self.transverse(),
            8 => self.rot_cw(), // shown after a counter-clockwise turn
            _ => panic!("orientation {o}"),
        }
    }
}

/// A small deterministic PRNG (xorshift32).
pub struct Rng(pub u32);
impl Rng {
    pub fn next(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        self.0
    }
}

fn tri(v: u32, period: u32) -> u32 {
    let p = v % period;
    let half = period / 2;
    if p < half {
        p * 255 / half
    } else {
        (period - p) * 255 / half
    }
}

/// Photo-like content: smooth gradients, three soft discs and (when `noise`) grain.
pub fn photo(w: u32, h: u32, seed: u32, noise: u32) -> Img {
    let discs = [
        (w / 3, h / 3, w.min(h) / 5, [220u32, 60, 40]),
        (w * 2 / 3, h / 2, w.min(h) / 4, [40, 160, 220]),
        (w / 2, h * 4 / 5, w.min(h) / 6, [250, 220, 60]),
    ];
    let rng = std::cell::RefCell::new(Rng(0x9E37_79B9 ^ seed.wrapping_mul(2_654_435_761) | 1));
    Img::new(w, h, 3, |x, y| {
        let mut c = [
            x * 200 / w + 30,
            tri(y * 3 + seed * 17, 700) * 180 / 255 + 40,
            tri(x + y * 2 + seed * 31, 900) * 200 / 255 + 20,
        ];
        for &(cx, cy, r, col) in &discs {
            let d2 = (x.abs_diff(cx)).pow(2) + (y.abs_diff(cy)).pow(2);
            let r2 = r * r;
            if d2 < r2 {
                let k = 256 - d2 * 256 / r2; // soft edge weight
                for i in 0..3 {
                    c[i] = (c[i] * (256 - k) + col[i] * k) / 256;
                }
            }
        }
        let mut out = [0u8; 4];
        for i in 0..3 {
            let n = if noise > 0 {
                rng.borrow_mut().next() % (2 * noise + 1)
            } else {
                noise
            };
            out[i] = (c[i] + n).saturating_sub(noise).min(255) as u8;
        }
        out[3] = 255;
        out
    })
}

/// Quadrant colours of the orientation picture, as displayed: top-left, top-right,
/// bottom-left, bottom-right.
pub const QUADRANTS: [[u8; 3]; 4] = [[230, 30, 30], [30, 200, 30], [30, 30, 230], [240, 240, 40]];

/// An asymmetric 640×512 picture: four coloured quadrants and a white marker bar
/// along the top-left quadrant's top edge.
pub fn quadrants() -> Img {
    let (w, h) = (640, 512);
    Img::new(w, h, 3, |x, y| {
        let q = (y >= h / 2) as usize * 2 + (x >= w / 2) as usize;
        let [r, g, b] = if y < 24 && x < w / 4 {
            [255, 255, 255]
        } else {
            QUADRANTS[q]
        };
        [r, g, b, 255]
    })
}

/// Adds an alpha channel from `alpha(x, y)`.
pub fn with_alpha(img: &Img, alpha: impl Fn(u32, u32) -> u8) -> Img {
    let mut data = Vec::with_capacity(img.w as usize * img.h as usize * 4);
    for y in 0..img.h {
        for x in 0..img.w {
            data.extend_from_slice(&img.px(x, y)[..3]);
            data.push(alpha(x, y));
        }
    }
    Img {
        w: img.w,
        h: img.h,
        c: 4,
        data,
    }
}

/// Alpha 255 inside the inscribed circle, 0 outside, with a 16-pixel ramp.
pub fn circle_alpha(w: u32, h: u32) -> impl Fn(u32, u32) -> u8 {
    move |x, y| {
        let r = w.min(h) / 2;
        let d2 = x.abs_diff(w / 2).pow(2) + y.abs_diff(h / 2).pow(2);
        if d2 <= (r - 16).pow(2) {
            255
        } else if d2 >= r * r {
            0
        } else {
            // integer sqrt by search, ramp over the 16 pixels
            let d = (0..=r).find(|&d| d * d >= d2).unwrap_or(r);
            ((r - d) * 255 / 16).min(255) as u8
        }
    }
}

// ---------------------------------------------------------------- JPEG

pub fn jpeg(
    img: &Img,
    quality: u8,
    tweak: impl FnOnce(&mut jpeg_encoder::Encoder<&mut Vec<u8>>),
) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = jpeg_encoder::Encoder::new(&mut out, quality);
    enc.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
    tweak(&mut enc);
    let color = match img.c {
        1 => jpeg_encoder::ColorType::Luma,
        3 => jpeg_encoder::ColorType::Rgb,
        _ => jpeg_encoder::ColorType::Cmyk,
    };
    enc.encode(&img.data, img.w as u16, img.h as u16, color)
        .unwrap();
    out
}

/// Inserts marker segments right after SOI.
pub fn insert_segments(jpeg: &[u8], segments: &[(u8, Vec<u8>)]) -> Vec<u8> {
    let mut out = jpeg[..2].to_vec();
    for (marker, body) in segments {
        out.extend_from_slice(&[0xFF, *marker]);
        out.extend_from_slice(&(body.len() as u16 + 2).to_be_bytes());
        out.extend_from_slice(body);
    }
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// A little-endian TIFF block for EXIF: Make, Software, optional Orientation and an
/// optional GPS IFD (latitude/longitude of a made-up place).
pub fn exif_tiff(orientation: Option<u16>, gps: bool) -> Vec<u8> {
    // Layout: header(8) | IFD0 | GPS IFD | string/rational data
    let mut entries: Vec<(u16, u16, u32, Vec<u8>)> = vec![
        (0x010F, 2, 10, b"GenCamera\0".to_vec()),
        (0x0131, 2, 14, b"avatar-engine\0".to_vec()),
    ];
    if let Some(o) = orientation {
        entries.push((0x0112, 3, 1, o.to_le_bytes().to_vec()));
    }
    let gps_entries: Vec<(u16, u16, u32, Vec<u8>)> = vec![
        (0x0001, 2, 2, b"N\0".to_vec()),
        (
            0x0002,
            5,
            3,
            [48u32, 1, 51, 1, 2999, 100]
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect(),
        ),
        (0x0003, 2, 2, b"E\0".to_vec()),
        (
            0x0004,
            5,
            3,
            [2u32, 1, 17, 1, 4012, 100]
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect(),
        ),
    ];
    if gps {
        entries.push((0x8825, 4, 1, vec![0; 4])); // offset patched below
    }
    entries.sort_by_key(|e| e.0);
    let ifd_len = |n: usize| 2 + n * 12 + 4;
    let ifd0 = 8usize;
    let gps_ifd = ifd0 + ifd_len(entries.len());
    let mut data_at = gps_ifd + if gps { ifd_len(gps_entries.len()) } else { 0 };
    let mut tiff = b"II*\0".to_vec();
    tiff.extend_from_slice(&(ifd0 as u32).to_le_bytes());
    let mut extra = Vec::new();
    let mut write_ifd =
        |tiff: &mut Vec<u8>, list: &[(u16, u16, u32, Vec<u8>)], extra: &mut Vec<u8>| {
            tiff.extend_from_slice(&(list.len() as u16).to_le_bytes());
            for (tag, ty, count, value) in list {
                tiff.extend_from_slice(&tag.to_le_bytes());
                tiff.extend_from_slice(&ty.to_le_bytes());
                tiff.extend_from_slice(&count.to_le_bytes());
                if *tag == 0x8825 {
                    tiff.extend_from_slice(&(gps_ifd as u32).to_le_bytes());
                } else if value.len() <= 4 {
                    let mut v = value.clone();
                    v.resize(4, 0);
                    tiff.extend_from_slice(&v);
                } else {
                    tiff.extend_from_slice(&(data_at as u32).to_le_bytes());
                    extra.extend_from_slice(value);
                    data_at += value.len();
                }
            }
            tiff.extend_from_slice(&0u32.to_le_bytes());
        };
    write_ifd(&mut tiff, &entries, &mut extra);
    if gps {
        write_ifd(&mut tiff, &gps_entries, &mut extra);
    }
    tiff.extend_from_slice(&extra);
    tiff
}

pub fn exif_app1(orientation: Option<u16>, gps: bool) -> (u8, Vec<u8>) {
    let mut body = b"Exif\0\0".to_vec();
    body.extend(exif_tiff(orientation, gps));
    (0xE1, body)
}

// ---------------------------------------------------------------- PNG

pub fn png(
    img: &Img,
    color: png::ColorType,
    depth: png::BitDepth,
    extra: &[(&[u8; 4], Vec<u8>)],
) -> Vec<u8> {
    png_with(img.w, img.h, color, depth, &img.data, None, None, extra)
}

#[allow(clippy::too_many_arguments)]
pub fn png_with(
    w: u32,
    h: u32,
    color: png::ColorType,
    depth: png::BitDepth,
    data: &[u8],
    palette: Option<&[u8]>,
    trns: Option<&[u8]>,
    extra: &[(&[u8; 4], Vec<u8>)],
) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(color);
    enc.set_depth(depth);
    enc.set_compression(png::Compression::High);
    if let Some(p) = palette {
        enc.set_palette(Cow::Owned(p.to_vec()));
    }
    if let Some(t) = trns {
        enc.set_trns(Cow::Owned(t.to_vec()));
    }
    let mut wr = enc.write_header().unwrap();
    for (kind, body) in extra {
        wr.write_chunk(png::chunk::ChunkType(**kind), body).unwrap();
    }
    wr.write_image_data(data).unwrap();
    wr.finish().unwrap();
    out
}

pub fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32fast::hash(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// An Adam7-interlaced 8-bit RGB PNG, written by hand (the `png` crate only writes
/// non-interlaced files).
pub fn png_interlaced_rgb(img: &Img) -> Vec<u8> {
    assert_eq!(img.c, 3);
    const PASSES: [(u32, u32, u32, u32); 7] = [
        (0, 0, 8, 8),
        (4, 0, 8, 8),
        (0, 4, 4, 8),
        (2, 0, 4, 4),
        (0, 2, 2, 4),
        (1, 0, 2, 2),
        (0, 1, 1, 2),
    ];
    let mut raw = Vec::new();
    for (x0, y0, dx, dy) in PASSES {
        if x0 >= img.w || y0 >= img.h {
            continue;
        }
        for y in (y0..img.h).step_by(dy as usize) {
            raw.push(1); // filter: Sub (each byte minus the one a pixel to its left)
            let mut left = [0u8; 3];
            for x in (x0..img.w).step_by(dx as usize) {
                let p = img.px(x, y);
                raw.extend((0..3).map(|i| p[i].wrapping_sub(left[i])));
                left.copy_from_slice(p);
            }
        }
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = img.w.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&img.h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 1]);
    png_chunk(&mut out, b"IHDR", &ihdr);
    png_chunk(
        &mut out,
        b"IDAT",
        &miniz_oxide::deflate::compress_to_vec_zlib(&raw, 9),
    );
    png_chunk(&mut out, b"IEND", &[]);
    out
}

// ---------------------------------------------------------------- GIF

/// A 16-colour palette: black, white, and 14 distinct hues.
pub const GIF_PALETTE: [[u8; 3]; 16] = [
    [0, 0, 0],
    [255, 255, 255],
    [230, 30, 30],
    [30, 200, 30],
    [30, 30, 230],
    [240, 240, 40],
    [240, 130, 20],
    [150, 40, 200],
    [20, 200, 200],
    [200, 20, 140],
    [120, 80, 40],
    [128, 128, 128],
    [60, 60, 60],
    [190, 190, 190],
    [100, 160, 60],
    [250, 180, 200],
];

pub struct GifFrame {
    pub left: u16,
    pub top: u16,
    pub w: u16,
    pub h: u16,
    pub indices: Vec<u8>,
    pub delay: u16,
    pub dispose: gif::DisposalMethod,
    pub transparent: Option<u8>,
}

/// A frame filled by `f(x, y) -> palette index`.
pub fn gif_frame(left: u16, top: u16, w: u16, h: u16, f: impl Fn(u32, u32) -> u8) -> GifFrame {
    let indices = (0..h as u32)
        .flat_map(|y| (0..w as u32).map(move |x| (y, x)))
        .map(|(y, x)| f(x, y))
        .collect();
    GifFrame {
        left,
        top,
        w,
        h,
        indices,
        delay: 10,
        dispose: gif::DisposalMethod::Keep,
        transparent: None,
    }
}

/// `frames` full 900² frames of changing tiles: a heavy animation (24 frames take over
/// a second in a test build), for jobs that must overlap, be abandoned or be cancelled.
pub fn slow_gif(frames: u8) -> Vec<u8> {
    let frames: Vec<_> = (0..frames)
        .map(|i| gif_frame(0, 0, 900, 900, tiles(7 + u32::from(i), i)))
        .collect();
    gif(900, 900, &frames, None)
}

pub fn gif(w: u16, h: u16, frames: &[GifFrame], repeat: Option<gif::Repeat>) -> Vec<u8> {
    let palette: Vec<u8> = GIF_PALETTE.iter().flatten().copied().collect();
    let mut out = Vec::new();
    {
        let mut enc = gif::Encoder::new(&mut out, w, h, &palette).unwrap();
        if let Some(r) = repeat {
            enc.set_repeat(r).unwrap();
        }
        for f in frames {
            let frame = gif::Frame {
                left: f.left,
                top: f.top,
                width: f.w,
                height: f.h,
                delay: f.delay,
                dispose: f.dispose,
                transparent: f.transparent,
                buffer: Cow::Borrowed(&f.indices),
                ..gif::Frame::default()
            };
            enc.write_frame(&frame).unwrap();
        }
    }
    out
}

/// Palette index pattern: coloured tiles of `tile` pixels.
pub fn tiles(tile: u32, offset: u8) -> impl Fn(u32, u32) -> u8 {
    move |x, y| 2 + ((x / tile + y / tile) as u8).wrapping_add(offset) % 14
}

// ---------------------------------------------------------------- the set

/// Every committed fixture: file name and bytes. Names say what each file is.
pub fn all() -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = Vec::new();
    let mut add = |name: &str, bytes: Vec<u8>| v.push((name.to_string(), bytes));

    // JPEG: the bundled photo, sizes at the policy's edges, modes and colour models.
    let landscape = photo(800, 600, 1, 6);
    add("photo_landscape_800x600.jpg", jpeg(&landscape, 82, |_| {}));
    add(
        "photo_portrait_600x900.jpg",
        jpeg(&photo(600, 900, 2, 6), 82, |_| {}),
    );
    add(
        "size_512x512_min.jpg",
        jpeg(&photo(512, 512, 3, 0), 70, |_| {}),
    );
    add(
        "size_1024x1024_max.jpg",
        jpeg(&photo(1024, 1024, 4, 0), 60, |_| {}),
    );
    add(
        "size_511x700_too_small.jpg",
        jpeg(&photo(511, 700, 5, 0), 50, |_| {}),
    );
    add(
        "size_1025x800_too_large.jpg",
        jpeg(&photo(1025, 800, 6, 0), 50, |_| {}),
    );
    add(
        "jpeg_progressive_700x700.jpg",
        jpeg(&photo(700, 700, 7, 6), 80, |e| e.set_progressive(true)),
    );
    add(
        "jpeg_optimized_huffman_700x700.jpg",
        jpeg(&photo(700, 700, 8, 6), 80, |e| {
            e.set_optimized_huffman_tables(true)
        }),
    );
    add(
        "jpeg_restart_interval_600x600.jpg",
        jpeg(&photo(600, 600, 9, 6), 80, |e| e.set_restart_interval(4)),
    );
    let gray = photo(600, 600, 10, 4);
    let luma = Img {
        w: 600,
        h: 600,
        c: 1,
        data: gray.data.chunks_exact(3).map(|p| p[1]).collect(),
    };
    add("jpeg_gray_600x600.jpg", jpeg(&luma, 80, |_| {}));
    add(
        "jpeg_cmyk_600x600.jpg",
        jpeg(&cmyk_quadrants(600), 85, |_| {}),
    );
    let mut ycck = Vec::new();
    jpeg_encoder::Encoder::new(&mut ycck, 85)
        .encode(
            &cmyk_quadrants(600).data,
            600,
            600,
            jpeg_encoder::ColorType::CmykAsYcck,
        )
        .unwrap();
    add("jpeg_ycck_600x600.jpg", ycck);
    add(
        "jpeg_exif_gps_comment_640x640.jpg",
        insert_segments(
            &jpeg(&photo(640, 640, 11, 4), 80, |_| {}),
            &[
                exif_app1(Some(1), true),
                (0xFE, b"secret comment: 221B Baker Street".to_vec()),
            ],
        ),
    );
    // EXIF orientations 1-8 of the asymmetric picture.
    let q = quadrants();
    for o in 1..=8 {
        let stored = q.stored_for_orientation(o);
        let bytes = insert_segments(&jpeg(&stored, 85, |_| {}), &[exif_app1(Some(o), false)]);
        add(&format!("orientation_{o}.jpg"), bytes);
    }

    // PNG: every colour type and depth, transparency kinds, interlacing, eXIf.
    let smooth = photo(600, 600, 12, 0);
    let rgba = with_alpha(&smooth, circle_alpha(600, 600));
    use png::{BitDepth as D, ColorType as C};
    add("png_rgb8_600x600.png", png(&smooth, C::Rgb, D::Eight, &[]));
    add(
        "png_rgba8_circle_600x600.png",
        png(&rgba, C::Rgba, D::Eight, &[]),
    );
    add(
        "png_rgba8_all_opaque_600x600.png",
        png(&with_alpha(&smooth, |_, _| 255), C::Rgba, D::Eight, &[]),
    );
    let g: Vec<u8> = smooth.data.chunks_exact(3).map(|p| p[0]).collect();
    add(
        "png_gray8_600x600.png",
        png_with(600, 600, C::Grayscale, D::Eight, &g, None, None, &[]),
    );
    let ga: Vec<u8> = g
        .iter()
        .zip(rgba.data.chunks_exact(4))
        .flat_map(|(&l, p)| [l, p[3]])
        .collect();
    add(
        "png_gray_alpha8_600x600.png",
        png_with(600, 600, C::GrayscaleAlpha, D::Eight, &ga, None, None, &[]),
    );
    let rgb16: Vec<u8> = smooth.data.iter().flat_map(|&b| [b, b]).collect();
    add(
        "png_rgb16_600x600.png",
        png_with(600, 600, C::Rgb, D::Sixteen, &rgb16, None, None, &[]),
    );
    let palette: Vec<u8> = GIF_PALETTE.iter().flatten().copied().collect();
    let idx: Vec<u8> = (0..600 * 600u32)
        .map(|i| tiles(40, 0)(i % 600, i / 600))
        .collect();
    add(
        "png_palette_600x600.png",
        png_with(
            600,
            600,
            C::Indexed,
            D::Eight,
            &idx,
            Some(&palette),
            None,
            &[],
        ),
    );
    let idx_t: Vec<u8> = idx
        .iter()
        .enumerate()
        .map(|(i, &p)| if (i % 600) < 100 { 0 } else { p })
        .collect();
    let mut trns = vec![255u8; 16];
    trns[0] = 0;
    add(
        "png_palette_trns_600x600.png",
        png_with(
            600,
            600,
            C::Indexed,
            D::Eight,
            &idx_t,
            Some(&palette),
            Some(&trns),
            &[],
        ),
    );
    add(
        "png_interlaced_rgb8_600x600.png",
        png_interlaced_rgb(&smooth),
    );
    add(
        "png_exif_orientation6_text_600x520.png",
        png(
            &quadrants_small().stored_for_orientation(6),
            C::Rgb,
            D::Eight,
            &[
                (b"eXIf", exif_tiff(Some(6), true)),
                (b"tEXt", b"Comment\0secret text".to_vec()),
            ],
        ),
    );

    // GIF: still, transparent, a first frame smaller than the screen, animated.
    add(
        "gif_still_600x600.gif",
        gif(600, 600, &[gif_frame(0, 0, 600, 600, tiles(50, 0))], None),
    );
    let mut t = gif_frame(
        0,
        0,
        600,
        600,
        |x, y| if x < 150 { 0 } else { tiles(50, 3)(x, y) },
    );
    t.transparent = Some(0);
    add("gif_transparent_600x600.gif", gif(600, 600, &[t], None));
    add(
        "gif_small_first_frame_600x600.gif",
        gif(
            600,
            600,
            &[gif_frame(100, 100, 300, 300, tiles(30, 5))],
            None,
        ),
    );
    let anim: Vec<GifFrame> = (0..3)
        .map(|i| gif_frame(0, 0, 600, 600, tiles(60, i * 4)))
        .collect();
    add(
        "gif_animated_3_frames_600x600.gif",
        gif(600, 600, &anim, Some(gif::Repeat::Infinite)),
    );
    v
}

/// The orientation picture at 600×520 (for the PNG eXIf fixture).
pub fn quadrants_small() -> Img {
    let q = quadrants();
    q.remap(600, 520, |x, y| (x * 640 / 600, y * 512 / 520))
}

/// A CMYK image (ink amounts, 0 = none) of four quadrants: cyan, magenta, yellow, and
/// red (magenta + yellow). Shown as RGB they must come out cyan, magenta, yellow, red.
pub fn cmyk_quadrants(side: u32) -> Img {
    const INK: [[u8; 4]; 4] = [
        [255, 0, 0, 0],
        [0, 255, 0, 0],
        [0, 0, 255, 0],
        [0, 255, 255, 0],
    ];
    Img::new(side, side, 4, |x, y| {
        INK[(y >= side / 2) as usize * 2 + (x >= side / 2) as usize]
    })
}

/// Small images of every kind the fixtures cover, for the fuzzers' seed corpus: each
/// format, colour type and depth, the JPEG modes, EXIF orientations, metadata,
/// transparency, a first frame smaller than the screen, animation; then each of them
/// cut short at a third, two thirds and one byte before its end.
pub fn seeds() -> Vec<(String, Vec<u8>)> {
    use png::{BitDepth as D, ColorType as C};
    let (w, h) = (40u32, 32u32);
    let p = photo(w, h, 1, 6);
    let mut v: Vec<(String, Vec<u8>)> = vec![
        ("baseline.jpg".into(), jpeg(&p, 80, |_| {})),
        (
            "progressive.jpg".into(),
            jpeg(&p, 80, |e| e.set_progressive(true)),
        ),
        (
            "optimized_huffman.jpg".into(),
            jpeg(&p, 80, |e| e.set_optimized_huffman_tables(true)),
        ),
        (
            "restart_interval.jpg".into(),
            jpeg(&p, 80, |e| e.set_restart_interval(2)),
        ),
        ("cmyk.jpg".into(), jpeg(&cmyk_quadrants(32), 85, |_| {})),
        (
            "square_passthrough.jpg".into(),
            jpeg(&photo(32, 32, 2, 6), 80, |_| {}),
        ),
    ];
    let luma = Img {
        w,
        h,
        c: 1,
        data: p.data.chunks_exact(3).map(|px| px[1]).collect(),
    };
    v.push(("gray.jpg".into(), jpeg(&luma, 80, |_| {})));
    for o in 1..=8 {
        let tagged = insert_segments(
            &jpeg(&p, 80, |_| {}),
            &[exif_app1(Some(o), true), (0xFE, b"comment".to_vec())],
        );
        v.push((format!("exif_orientation_{o}.jpg"), tagged));
    }
    let rgba = with_alpha(&p, circle_alpha(w, h));
    let g: Vec<u8> = p.data.chunks_exact(3).map(|px| px[0]).collect();
    let ga: Vec<u8> = g
        .iter()
        .zip(rgba.data.chunks_exact(4))
        .flat_map(|(&l, px)| [l, px[3]])
        .collect();
    let rgb16: Vec<u8> = p.data.iter().flat_map(|&b| [b, b]).collect();
    let palette: Vec<u8> = GIF_PALETTE.iter().flatten().copied().collect();
    let idx: Vec<u8> = (0..w * h).map(|i| tiles(8, 0)(i % w, i / w)).collect();
    let mut trns = vec![255u8; 16];
    trns[0] = 0;
    v.extend([
        ("rgb8.png".into(), png(&p, C::Rgb, D::Eight, &[])),
        ("rgba8.png".into(), png(&rgba, C::Rgba, D::Eight, &[])),
        (
            "gray8.png".into(),
            png_with(w, h, C::Grayscale, D::Eight, &g, None, None, &[]),
        ),
        (
            "gray_alpha8.png".into(),
            png_with(w, h, C::GrayscaleAlpha, D::Eight, &ga, None, None, &[]),
        ),
        (
            "rgb16.png".into(),
            png_with(w, h, C::Rgb, D::Sixteen, &rgb16, None, None, &[]),
        ),
        (
            "palette_trns.png".into(),
            png_with(
                w,
                h,
                C::Indexed,
                D::Eight,
                &idx,
                Some(&palette),
                Some(&trns),
                &[],
            ),
        ),
        ("interlaced.png".into(), png_interlaced_rgb(&p)),
        (
            "exif_text.png".into(),
            png(
                &p,
                C::Rgb,
                D::Eight,
                &[
                    (b"eXIf", exif_tiff(Some(6), true)),
                    (b"tEXt", b"Comment\0secret".to_vec()),
                ],
            ),
        ),
    ]);
    // Colour descriptions, so the fuzzers reach the profile reader and moxcms' parser.
    let p3 = icc(moxcms::ColorProfile::new_display_p3());
    let adobe = icc(moxcms::ColorProfile::new_adobe_rgb());
    let gray_linear = icc(moxcms::ColorProfile::new_gray_with_gamma(1.0));
    let mut app2 = b"ICC_PROFILE\0\x01\x01".to_vec();
    app2.extend_from_slice(&p3);
    let iccp = |profile: &[u8]| {
        let mut body = b"seed\0\0".to_vec();
        body.extend(miniz_oxide::deflate::compress_to_vec_zlib(profile, 6));
        body
    };
    v.extend([
        (
            "icc_display_p3.jpg".into(),
            insert_segments(&jpeg(&p, 80, |_| {}), &[(0xE2, app2.clone())]),
        ),
        (
            // Rows of 72 pixels: one 64-pixel step of the AVX-512 colour kernel and a
            // tail for moxcms.
            "icc_display_p3_72px.jpg".into(),
            insert_segments(&jpeg(&photo(72, 24, 3, 6), 80, |_| {}), &[(0xE2, app2)]),
        ),
        (
            // A small (3-point grid) CMYK profile on a CMYK JPEG.
            "icc_cmyk.jpg".into(),
            insert_segments(
                &jpeg(&cmyk_quadrants(32), 85, |_| {}),
                &[(
                    0xE2,
                    [&b"ICC_PROFILE\0\x01\x01"[..], &test_press_profile(3)].concat(),
                )],
            ),
        ),
        (
            "iccp_adobe_rgb.png".into(),
            png(&p, C::Rgb, D::Eight, &[(b"iCCP", iccp(&adobe))]),
        ),
        (
            "iccp_gray_linear.png".into(),
            png_with(
                w,
                h,
                C::Grayscale,
                D::Eight,
                &g,
                None,
                None,
                &[(b"iCCP", iccp(&gray_linear))],
            ),
        ),
        (
            "chrm_gama.png".into(),
            png(
                &p,
                C::Rgb,
                D::Eight,
                &[
                    (
                        b"cHRM",
                        [31270u32, 32900, 64000, 33000, 21000, 71000, 15000, 6000]
                            .iter()
                            .flat_map(|v| v.to_be_bytes())
                            .collect(),
                    ),
                    (b"gAMA", 45470u32.to_be_bytes().to_vec()),
                ],
            ),
        ),
    ]);
    let (gw, gh) = (w as u16, h as u16);
    let mut transparent = gif_frame(0, 0, gw, gh, tiles(6, 3));
    transparent.transparent = Some(0);
    let mut anim: Vec<GifFrame> = (0..3)
        .map(|i| gif_frame(i * 4, i * 2, gw - 8, gh - 4, tiles(5, i as u8 * 4)))
        .collect();
    anim[1].dispose = gif::DisposalMethod::Background;
    anim[2].dispose = gif::DisposalMethod::Previous;
    anim[2].transparent = Some(1);
    v.extend([
        (
            "still.gif".into(),
            gif(gw, gh, &[gif_frame(0, 0, gw, gh, tiles(6, 0))], None),
        ),
        ("transparent.gif".into(), gif(gw, gh, &[transparent], None)),
        (
            "small_first_frame.gif".into(),
            gif(gw, gh, &[gif_frame(5, 5, 20, 16, tiles(4, 5))], None),
        ),
        (
            "animated.gif".into(),
            gif(gw, gh, &anim, Some(gif::Repeat::Infinite)),
        ),
    ]);
    let cuts: Vec<(String, Vec<u8>)> = v
        .iter()
        .flat_map(|(name, bytes)| {
            let n = bytes.len();
            [n / 3, n * 2 / 3, n - 1].map(|at| (format!("cut{at}_{name}"), bytes[..at].to_vec()))
        })
        .collect();
    v.extend(cuts);
    v
}

/// A profile's bytes, dated 1 January 2026 so the seeds do not change with the clock
/// (moxcms stamps new profiles with the time they were made).
pub fn icc(mut profile: moxcms::ColorProfile) -> Vec<u8> {
    profile.creation_date_time = moxcms::ColorDateTime {
        year: 2026,
        month: 1,
        day_of_the_month: 1,
        hours: 0,
        minutes: 0,
        seconds: 0,
    };
    profile.encode().unwrap()
}

/// Bytes of knobs in front of every `process` seed (`fuzz_input::KNOBS_LEN`); zero
/// knobs are the fuzzers' loose default policy.
pub const PROCESS_KNOBS_LEN: usize = 24;

/// The fuzzers' seed corpus, as (target, file name, bytes): every [`seeds`] image for
/// `probe`, the same behind zero knobs for `process`, and pictures of several shapes,
/// formats and alpha modes for `roundtrip` (width − 1, height − 1, format, alpha, then
/// pixel bytes).
pub fn corpus() -> Vec<(&'static str, String, Vec<u8>)> {
    let seeds = seeds();
    let mut v: Vec<(&'static str, String, Vec<u8>)> = Vec::new();
    for (name, bytes) in &seeds {
        v.push(("probe", name.clone(), bytes.clone()));
        let mut job = vec![0u8; PROCESS_KNOBS_LEN];
        job.extend_from_slice(bytes);
        v.push(("process", name.clone(), job));
    }
    for (name, bytes) in passthrough_seeds() {
        v.push(("passthrough", name, bytes));
    }
    let pattern: Vec<u8> = (0..96u32).map(|i| (i * 37 % 251) as u8).collect();
    for (w, h, format, alpha) in [
        (31, 31, 0, 0),
        (31, 31, 1, 1),
        (31, 31, 1, 0),
        (39, 19, 1, 1),
        (19, 39, 0, 0),
        (23, 23, 2, 0),
        (0, 0, 1, 1),
        (255, 255, 1, 1),
    ] {
        let mut bytes = vec![w, h, format, alpha];
        bytes.extend_from_slice(&pattern);
        v.push((
            "roundtrip",
            format!(
                "{}x{}_format{format}_alpha{alpha}",
                w as u32 + 1,
                h as u32 + 1
            ),
            bytes,
        ));
    }
    v
}

/// Seeds for the pass-through target: small square baseline JPEGs of every layout the
/// walk takes, with restart intervals, fill bytes, metadata and a payload after the
/// last block.
fn passthrough_seeds() -> Vec<(String, Vec<u8>)> {
    use jpeg_encoder::SamplingFactor as S;
    let mut v = Vec::new();
    for (side, sampling, restart) in [
        (64, S::F_2_2, 0),
        (96, S::F_1_1, 1),
        (80, S::F_2_1, 3),
        (81, S::F_1_2, 2),
    ] {
        // Plain pictures at q50: at most 2 bits a pixel with the headers, or the
        // pass-through would not take them.
        let bytes = jpeg(&photo(side, side, side, 0), 50, |e| {
            e.set_sampling_factor(sampling);
            if restart > 0 {
                e.set_restart_interval(restart);
            }
        });
        v.push((format!("{side}_{sampling:?}_restart{restart}.jpg"), bytes));
    }
    let p = photo(64, 64, 3, 0);
    let luma = Img {
        w: 64,
        h: 64,
        c: 1,
        data: p.data.chunks_exact(3).map(|px| px[1]).collect(),
    };
    v.push((
        "64_gray_restart1.jpg".into(),
        jpeg(&luma, 50, |e| e.set_restart_interval(1)),
    ));
    // Fill bytes before the first RST, a payload before EOI, and an APP1 and a COM.
    let clean = jpeg(&photo(64, 64, 4, 0), 50, |e| e.set_restart_interval(1));
    let sos = clean.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
    let rst = sos
        + clean[sos..]
            .windows(2)
            .position(|w| w == [0xFF, 0xD0])
            .unwrap();
    let mut hidden = clean.clone();
    hidden.splice(hidden.len() - 2..hidden.len() - 2, *b"<b>hi</b>");
    hidden.splice(rst..rst, [0xFF, 0xFF]);
    let hidden = insert_segments(
        &hidden,
        &[(0xE1, b"Exif\0\0MM".to_vec()), (0xFE, b"note".to_vec())],
    );
    v.push(("64_fill_payload_metadata.jpg".into(), hidden));
    v
}

/// The "test press": the linear-light sRGB colour that ink amounts `ink` (C, M, Y, K,
/// each 0 = none … 1 = full) print as. Each ink mostly absorbs its own primary with a
/// little crosstalk into the others, so the colours are smooth but far from the naive
/// inversion (`(1 - c)(1 - k)` in *encoded* sRGB) decoders fall back to. Multilinear
/// in the inks, so a grid of samples interpolates it closely.
pub fn test_press(ink: [f64; 4]) -> [f64; 3] {
    let [c, m, y, k] = ink;
    let paper = 1.0 - 0.97 * k;
    [
        (1.0 - 0.95 * c) * (1.0 - 0.12 * m) * paper,
        (1.0 - 0.9 * m) * (1.0 - 0.1 * c) * (1.0 - 0.08 * y) * paper,
        (1.0 - 0.92 * y) * (1.0 - 0.2 * m) * (1.0 - 0.05 * c) * paper,
    ]
}

/// A CMYK output profile of [`test_press`]: one `lut16` A2B table (perceptual and
/// colorimetric) sampled on a `grid`-point grid per ink, PCS XYZ (D50) through moxcms'
/// sRGB colorants, made and encoded by moxcms.
pub fn test_press_profile(grid: usize) -> Vec<u8> {
    use moxcms::{
        ColorProfile, DataColorSpace, LutDataType, LutStore, LutType, LutWarehouse, Matrix3d,
        ProfileClass,
    };
    let srgb = ColorProfile::new_srgb();
    let colorants = [srgb.red_colorant, srgb.green_colorant, srgb.blue_colorant];
    let mut clut = Vec::with_capacity(grid.pow(4) * 3);
    let step = |i: usize| i as f64 / (grid - 1) as f64;
    // ICC order: the first input channel varies slowest.
    for c in 0..grid {
        for m in 0..grid {
            for y in 0..grid {
                for k in 0..grid {
                    let rgb = test_press([step(c), step(m), step(y), step(k)]);
                    let xyz = [0, 1, 2].map(|i| {
                        let col = |j: usize| [colorants[j].x, colorants[j].y, colorants[j].z][i];
                        rgb[0] * col(0) + rgb[1] * col(1) + rgb[2] * col(2)
                    });
                    // lut16 XYZ: 1.0 is 0x8000.
                    clut.extend(xyz.map(|v| (v * 32768.0).round().clamp(0.0, 65535.0) as u16));
                }
            }
        }
    }
    let identity = |n: usize| LutStore::Store16((0..n).flat_map(|_| [0, 65535]).collect());
    let table = LutWarehouse::Lut(LutDataType {
        num_input_channels: 4,
        num_output_channels: 3,
        num_clut_grid_points: grid as u8,
        matrix: Matrix3d {
            v: [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
        },
        num_input_table_entries: 2,
        num_output_table_entries: 2,
        input_table: identity(4),
        clut_table: LutStore::Store16(clut),
        output_table: identity(3),
        lut_type: LutType::Lut16,
    });
    let mut profile = ColorProfile::default();
    profile.profile_class = ProfileClass::OutputDevice;
    profile.color_space = DataColorSpace::Cmyk;
    profile.pcs = DataColorSpace::Xyz;
    profile.white_point = srgb.white_point;
    profile.media_white_point = srgb.media_white_point;
    profile.lut_a_to_b_perceptual = Some(table.clone());
    profile.lut_a_to_b_colorimetric = Some(table);
    icc(profile)
}
