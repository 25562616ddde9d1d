//! Shared helpers: fixtures, and decoding renditions with decoders independent of the
//! engine's own (jpeg-decoder for JPEG, zune-png for PNG).

pub mod fuzz_input;
pub mod generate;
pub mod invariants;

use avatar_engine::{process, Avatar, Format, Policy, Rendition, Upload};

pub fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The default policy changed by `f` (`Policy` is `#[non_exhaustive]`).
pub fn policy_with(f: impl FnOnce(&mut Policy)) -> Policy {
    let mut p = Policy::default();
    f(&mut p);
    p
}

pub fn render(name: &str) -> Avatar {
    render_with(&Policy::default(), &fixture(name))
}

pub fn render_with(policy: &Policy, bytes: &[u8]) -> Avatar {
    process(policy, &Upload::new(bytes)).unwrap_or_else(|e| panic!("rejected: {e}"))
}

/// Decoded pixels, always RGBA.
pub struct Decoded {
    pub w: u32,
    pub h: u32,
    pub rgba: Vec<u8>,
}

impl Decoded {
    pub fn px(&self, x: u32, y: u32) -> [u8; 4] {
        let i = (y as usize * self.w as usize + x as usize) * 4;
        self.rgba[i..i + 4].try_into().unwrap()
    }
}

pub fn decode(bytes: &[u8], format: Format) -> Decoded {
    match format {
        Format::Jpeg => {
            let mut d = jpeg_decoder::Decoder::new(bytes);
            let data = d.decode().expect("jpeg-decoder");
            let info = d.info().unwrap();
            assert_eq!(info.pixel_format, jpeg_decoder::PixelFormat::RGB24);
            let rgba = data
                .chunks_exact(3)
                .flat_map(|p| [p[0], p[1], p[2], 255])
                .collect();
            Decoded {
                w: info.width.into(),
                h: info.height.into(),
                rgba,
            }
        }
        Format::Png => {
            use zune_core::colorspace::ColorSpace;
            let mut d = zune_png::PngDecoder::new(zune_core::bytestream::ZCursor::new(bytes));
            let data = d.decode_raw().expect("zune-png");
            let (w, h) = d.dimensions().unwrap();
            let rgba = match d.colorspace().unwrap() {
                ColorSpace::RGBA => data,
                ColorSpace::RGB => data
                    .chunks_exact(3)
                    .flat_map(|p| [p[0], p[1], p[2], 255])
                    .collect(),
                other => panic!("unexpected PNG colour space {other:?}"),
            };
            Decoded {
                w: w as u32,
                h: h as u32,
                rgba,
            }
        }
        Format::Gif => {
            let anim = gifref::decode(bytes);
            let (rgba, _) = anim.frames.into_iter().next().expect("a GIF frame");
            Decoded {
                w: anim.w as u32,
                h: anim.h as u32,
                rgba,
            }
        }
        other => panic!("no test decoder for {other}"),
    }
}

pub fn decode_rendition(r: &Rendition) -> Decoded {
    let d = decode(&r.bytes, r.format);
    assert_eq!(
        (d.w, d.h),
        (r.size, r.size),
        "rendition {} decodes at another size",
        r.size
    );
    d
}

/// Whether two colours are within `tol` on every channel.
pub fn near(a: &[u8], b: &[u8], tol: u8) -> bool {
    a.iter().zip(b).all(|(x, y)| x.abs_diff(*y) <= tol)
}

/// PSNR in dB between two equal-length RGBA buffers, over RGB.
pub fn psnr(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    let (mut sum, mut n) = (0f64, 0f64);
    for (p, q) in a.chunks_exact(4).zip(b.chunks_exact(4)) {
        for i in 0..3 {
            let d = f64::from(p[i]) - f64::from(q[i]);
            sum += d * d;
            n += 1.0;
        }
    }
    if sum == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (255.0f64.powi(2) / (sum / n)).log10()
    }
}

pub use invariants::CODES;

pub mod gifref;
