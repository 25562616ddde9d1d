//! The two-task decoder against zune-jpeg (what decoded these files before) and
//! jpeg-decoder (a third, independent decoder).

use jpeg_encoder::{ColorType, Encoder, SamplingFactor};

use super::{decode_with_zune, frame, pipelined};
use crate::probe::probe;

/// A busy test picture: gradients, a hard diagonal edge and noise.
pub(super) fn picture(width: usize, height: usize, seed: u32) -> Vec<u8> {
    let mut state = seed.wrapping_mul(2_654_435_761) | 1;
    let mut noise = move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        (state % 41) as i32 - 20
    };
    let mut rgb = Vec::with_capacity(width * height * 3);
    for y in 0..height {
        for x in 0..width {
            let edge = if x * 3 > y * 2 + width / 3 { 90 } else { 0 };
            let r = (x * 255 / width) as i32 + edge / 2;
            let g = (y * 255 / height) as i32 - edge / 3;
            let b = ((x + y) % 64 * 4) as i32;
            for c in [r, g, b] {
                rgb.push((c + noise()).clamp(0, 255) as u8);
            }
        }
    }
    rgb
}

/// The samplings both paths take: 4:2:0, 4:2:2, 4:4:0, 4:4:4.
pub(super) const SAMPLINGS: [SamplingFactor; 4] = [
    SamplingFactor::R_4_2_0,
    SamplingFactor::R_4_2_2,
    SamplingFactor::F_1_2,
    SamplingFactor::R_4_4_4,
];

struct Options {
    sampling: SamplingFactor,
    gray: bool,
    restart: Option<u16>,
    optimized: bool,
    quality: u8,
}

const PLAIN: Options = Options {
    sampling: SamplingFactor::R_4_2_0,
    gray: false,
    restart: None,
    optimized: false,
    quality: 85,
};

fn encode(width: usize, height: usize, options: &Options) -> Vec<u8> {
    let rgb = picture(width, height, (width * 31 + height) as u32);
    let mut out = Vec::new();
    let mut encoder = Encoder::new(&mut out, options.quality);
    encoder.set_sampling_factor(options.sampling);
    encoder.set_optimized_huffman_tables(options.optimized);
    if let Some(interval) = options.restart {
        encoder.set_restart_interval(interval);
    }
    if options.gray {
        let luma: Vec<u8> = rgb.chunks_exact(3).map(|p| p[1]).collect();
        encoder
            .encode(&luma, width as u16, height as u16, ColorType::Luma)
            .unwrap();
    } else {
        encoder
            .encode(&rgb, width as u16, height as u16, ColorType::Rgb)
            .unwrap();
    }
    out
}

/// Our decode of `jpeg` on `threads` threads; panics if the two-task path refuses it.
fn ours(jpeg: &[u8], threads: usize) -> Vec<u8> {
    let info = probe(jpeg).unwrap();
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(|| pipelined::decode(jpeg, info.stored_width, info.stored_height))
        .unwrap()
        .expect("the two-task decoder takes this file")
        .0
        .data
}

pub(super) fn zune(jpeg: &[u8]) -> Vec<u8> {
    decode_with_zune(jpeg, &probe(jpeg).unwrap(), None)
        .unwrap()
        .data
}

/// (largest difference of one sample, mean absolute difference).
pub(super) fn difference(a: &[u8], b: &[u8]) -> (u8, f64) {
    assert_eq!(a.len(), b.len());
    let max = a
        .iter()
        .zip(b)
        .map(|(x, y)| x.abs_diff(*y))
        .max()
        .unwrap_or(0);
    let sum: u64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    (max, sum as f64 / a.len() as f64)
}

fn psnr(a: &[u8], b: &[u8]) -> f64 {
    let sum: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| (f64::from(*x) - f64::from(*y)).powi(2))
        .sum();
    let mse = sum / a.len() as f64;
    10.0 * (255.0 * 255.0 / mse.max(1e-9)).log10()
}

pub(super) fn jpeg_decoder(jpeg: &[u8]) -> Vec<u8> {
    let mut decoder = jpeg_decoder::Decoder::new(jpeg);
    let pixels = decoder.decode().unwrap();
    match decoder.info().unwrap().pixel_format {
        jpeg_decoder::PixelFormat::L8 => pixels.iter().flat_map(|&l| [l, l, l]).collect(),
        _ => pixels,
    }
}

/// Asserts that `decoded`, our decode of `jpeg`, is zune-jpeg's and jpeg-decoder's to
/// within rounding; returns zune-jpeg's.
pub(super) fn assert_agrees_with_both(label: &str, decoded: &[u8], jpeg: &[u8]) -> Vec<u8> {
    let zune = zune(jpeg);
    let (max, mean) = difference(decoded, &zune);
    // Both upsample chroma with a triangle filter; they round differently.
    assert!(
        max <= 6 && mean < 0.6,
        "{label}: vs zune-jpeg max {max} mean {mean:.3}"
    );
    let (max, mean) = difference(decoded, &jpeg_decoder(jpeg));
    assert!(
        max <= 8 && mean < 0.8,
        "{label}: vs jpeg-decoder max {max} mean {mean:.3}"
    );
    zune
}

/// Checks our decode of `jpeg` (made from `source` RGB, if known) on one and two
/// threads against zune-jpeg and jpeg-decoder.
fn check(label: &str, jpeg: &[u8], source: Option<&[u8]>) {
    let one = ours(jpeg, 1);
    let two = ours(jpeg, 2);
    assert!(one == two, "{label}: one and two threads differ");
    let zune = assert_agrees_with_both(label, &one, jpeg);
    if let Some(source) = source {
        let (ours, theirs) = (psnr(&one, source), psnr(&zune, source));
        assert!(
            ours > theirs - 0.05,
            "{label}: {ours:.2} dB vs zune-jpeg's {theirs:.2}"
        );
    }
}

#[test]
fn agrees_with_two_other_decoders_on_every_layout_it_takes() {
    for (width, height) in [(1, 1), (17, 9), (67, 45), (333, 251)] {
        for (s, sampling) in SAMPLINGS.into_iter().enumerate() {
            for gray in [false, true] {
                let options = Options {
                    sampling,
                    gray,
                    // Restart intervals of 1 and 7 MCUs, optimised tables, q 60 and 95.
                    restart: [None, Some(1), Some(7), None][s],
                    // jpeg-encoder writes a scan per component when it optimises
                    // tables, which is left to zune-jpeg; one gray scan is not. (With
                    // restart markers too, it wrote a DC code its own table lacks for
                    // a 17×9 gray image, found by reading the bits by hand.)
                    optimized: gray && s == 3,
                    quality: [85, 60, 95, 75][s],
                };
                let jpeg = encode(width, height, &options);
                let source = picture(width, height, (width * 31 + height) as u32);
                let source = match gray {
                    false => source,
                    true => source.chunks_exact(3).flat_map(|p| [p[1]; 3]).collect(),
                };
                check(
                    &format!("{width}x{height} {sampling:?} gray {gray}"),
                    &jpeg,
                    Some(&source),
                );
            }
        }
    }
}

#[test]
fn agrees_on_the_bundled_and_real_photos() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut taken = 0;
    for dir in [root.join("testdata"), root.join("../shared/bench-inputs")] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "jpg") {
                continue;
            }
            let jpeg = std::fs::read(&path).unwrap();
            let Ok(info) = probe(&jpeg) else { continue };
            if info.stored_width.max(info.stored_height) > 2048
                || info.format != crate::sniff::Format::Jpeg
            {
                continue;
            }
            if frame::parse(&jpeg).is_some() {
                check(&path.display().to_string(), &jpeg, None);
                taken += 1;
            }
        }
    }
    assert!(taken >= 10, "only {taken} files took the two-task path");
}

#[test]
fn other_layouts_are_left_to_zune() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
    for name in [
        "jpeg_progressive_700x700.jpg",
        "jpeg_cmyk_600x600.jpg",
        "jpeg_ycck_600x600.jpg",
    ] {
        let jpeg = std::fs::read(root.join(name)).unwrap();
        assert!(frame::parse(&jpeg).is_none(), "{name}");
    }
    for sampling in [
        SamplingFactor::R_4_1_1,
        SamplingFactor::F_4_1,
        SamplingFactor::F_2_4,
    ] {
        let jpeg = encode(64, 64, &Options { sampling, ..PLAIN });
        assert!(frame::parse(&jpeg).is_none(), "{sampling:?}");
    }
    // A scan per component.
    let jpeg = encode(
        64,
        64,
        &Options {
            optimized: true,
            ..PLAIN
        },
    );
    assert!(frame::parse(&jpeg).is_none(), "non-interleaved scans");
}

/// The file split around its scan data: (headers, scan, EOI).
fn split_scan(jpeg: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let layout = frame::parse(jpeg).unwrap();
    let start = layout.scan.as_ptr() as usize - jpeg.as_ptr() as usize;
    (jpeg[..start].to_vec(), layout.scan.to_vec())
}

fn with_scan(headers: &[u8], scan: &[u8]) -> Vec<u8> {
    [headers, scan, &[0xFF, 0xD9]].concat()
}

#[test]
fn short_or_broken_scans_are_left_to_zune() {
    let jpeg = encode(
        96,
        80,
        &Options {
            restart: Some(4),
            ..PLAIN
        },
    );
    let (headers, scan) = split_scan(&jpeg);
    // Cut short anywhere: never decoded as if complete.
    for cut in (0..scan.len() - 2).step_by(7) {
        let file = with_scan(&headers, &scan[..cut]);
        let decoded = pipelined::decode(&file, 96, 80).unwrap();
        assert!(decoded.is_none(), "scan cut at {cut} of {}", scan.len());
    }
    // A restart marker removed.
    let rst = scan.windows(2).position(|w| w == [0xFF, 0xD3]).unwrap();
    let file = with_scan(&headers, &[&scan[..rst], &scan[rst + 2..]].concat());
    assert!(pipelined::decode(&file, 96, 80).unwrap().is_none());
    // Any byte changed: no panic, and the size is right whenever it decodes.
    let pools = [1, 2].map(|n| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .unwrap()
    });
    let mut decoded = 0;
    for at in 0..scan.len() {
        for value in [0x00, 0x5A, 0xFF] {
            let mut broken = scan.clone();
            broken[at] = value;
            let file = with_scan(&headers, &broken);
            for pool in &pools {
                if let Some(p) = pool.install(|| pipelined::decode(&file, 96, 80)).unwrap() {
                    assert_eq!(p.0.data.len(), 96 * 80 * 3);
                    decoded += 1;
                }
            }
        }
    }
    // Most changes leave a decodable (if wrong) scan; some do not.
    assert!(decoded > 0 && decoded < 6 * scan.len(), "{decoded} decoded");
}

#[test]
fn a_different_size_than_the_probe_read_is_left_to_zune() {
    let jpeg = encode(64, 48, &PLAIN);
    assert!(pipelined::decode(&jpeg, 64, 48).unwrap().is_some());
    assert!(pipelined::decode(&jpeg, 48, 64).unwrap().is_none());
}
