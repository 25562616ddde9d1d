//! Criterion benches of each stage on its own: sniff + probe, decode, compose (orient +
//! letterbox), the hot resize path (one square → every size; RGB and RGBA; per
//! filter), and encode (JPEG and PNG at the largest and a middle size).
//!
//! Inputs are the generated `testdata/` files, plus one real photo per kind from
//! `../shared/bench-inputs/` when that folder exists. Every iteration checks its
//! result; `cargo bench --features benchmarks --bench stages -- --test` runs each once as
//! a test (the `benchmarks` feature makes `avatar_engine::stages` public).
//!
//! ```sh
//! cargo bench --features benchmarks --bench stages                 # measure
//! cargo bench --features benchmarks --bench stages -- resize       # just the resize path
//! ```

use std::hint::black_box;
use std::path::{Path, PathBuf};

use avatar_engine::stages::{self, Square};
use avatar_engine::{probe, sniff, Filter, Format, Policy};
use criterion::{criterion_group, criterion_main, Criterion};

/// (label, path) of one input per kind: generated, and real when present.
fn inputs() -> Vec<(String, PathBuf)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let generated = [
        "size_1024x1024_max.jpg",
        "photo_landscape_800x600.jpg",
        "jpeg_progressive_700x700.jpg",
        "png_rgba8_circle_600x600.png",
        "gif_still_600x600.gif",
    ];
    let real = [
        "jpeg_1024x1024_q90.jpg",
        "jpeg_1024x768_landscape.jpg",
        "jpeg_progressive_1000x750.jpg",
        "png_rgba_800x600.png",
        "png_palette_640x640.png",
    ];
    let shared = root.join("../shared/bench-inputs");
    generated
        .iter()
        .map(|n| (format!("testdata/{n}"), root.join("testdata").join(n)))
        .chain(
            real.iter()
                .map(|n| (format!("shared/{n}"), shared.join(n)))
                .filter(|(_, p)| p.exists()),
        )
        .collect()
}

/// The real 1024² photo when present, else the generated one.
fn square_path() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let real = root.join("../shared/bench-inputs/jpeg_1024x1024_q90.jpg");
    if real.exists() {
        real
    } else {
        root.join("testdata/size_1024x1024_max.jpg")
    }
}

/// The 1024² square every resize and encode bench starts from: the real 1024² photo
/// when present, else the generated one; RGB, and RGBA with a soft alpha ramp.
fn squares() -> [(&'static str, Square); 2] {
    let bytes = std::fs::read(square_path()).unwrap();
    let (info, pixels) = stages::decode(&bytes).unwrap();
    let rgb = stages::compose(&pixels, &info, None, &Policy::default()).unwrap();
    assert_eq!((rgb.side, rgb.channels), (1024, 3));
    let rgba_data = rgb
        .data
        .chunks_exact(3)
        .enumerate()
        .flat_map(|(i, p)| [p[0], p[1], p[2], (i % 1024 / 4) as u8])
        .collect();
    let rgba = Square::new(1024, 4, rgba_data);
    [("rgb", rgb), ("rgba", rgba)]
}

fn sniff_and_probe(c: &mut Criterion) {
    let mut group = c.benchmark_group("probe");
    for (label, path) in inputs() {
        let bytes = std::fs::read(&path).unwrap();
        group.bench_function(&label, |b| {
            b.iter(|| {
                let format = sniff(black_box(&bytes)).unwrap();
                let info = probe(black_box(&bytes)).unwrap();
                assert_eq!(info.format, format);
                info
            })
        });
    }
    group.finish();
}

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode");
    group.sample_size(30);
    for (label, path) in inputs() {
        let bytes = std::fs::read(&path).unwrap();
        group.bench_function(&label, |b| {
            b.iter(|| {
                let (info, pixels) = stages::decode(black_box(&bytes)).unwrap();
                assert_eq!(
                    pixels.data.len(),
                    (info.stored_width * info.stored_height) as usize * pixels.channels
                );
                pixels
            })
        });
    }
    group.finish();
}

/// The colour stage on the 1024² photo tagged Display P3 (APP2 inserted after SOI):
/// what a tagged job pays over an untagged one, whose colour stage costs nothing.
fn colour(c: &mut Criterion) {
    let (_, square) = &squares()[0];
    let untagged = std::fs::read(square_path()).unwrap();
    let profile = moxcms::ColorProfile::new_display_p3().encode().unwrap();
    let mut app2 = vec![0xFF, 0xE2];
    app2.extend_from_slice(&(profile.len() as u16 + 16).to_be_bytes());
    app2.extend_from_slice(b"ICC_PROFILE\0\x01\x01");
    app2.extend_from_slice(&profile);
    let tagged = [&untagged[..2], &app2, &untagged[2..]].concat();
    let (info, pixels) = stages::decode(&tagged).unwrap();
    assert_eq!(pixels.width, square.side);
    let mut group = c.benchmark_group("colour");
    group.sample_size(30);
    for (label, bytes) in [("display_p3", &tagged), ("untagged", &untagged)] {
        group.bench_function(format!("{label}/1024"), |b| {
            b.iter_batched_ref(
                || pixels.clone(),
                |p| {
                    let changed = stages::to_srgb(p, bytes, &info);
                    assert_eq!(changed, label == "display_p3");
                },
                criterion::BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

fn compose(c: &mut Criterion) {
    let policy = Policy::default();
    let mut group = c.benchmark_group("compose");
    group.sample_size(30);
    for (label, path) in inputs() {
        let bytes = std::fs::read(&path).unwrap();
        let (info, pixels) = stages::decode(&bytes).unwrap();
        group.bench_function(&label, |b| {
            b.iter(|| {
                let square = stages::compose(black_box(&pixels), &info, None, &policy).unwrap();
                assert_eq!(square.side, info.width.max(info.height));
                square
            })
        });
    }
    group.finish();
}

fn resize(c: &mut Criterion) {
    let sizes = Policy::default().sizes;
    let mut group = c.benchmark_group("resize");
    group.sample_size(20);
    for (kind, square) in squares() {
        for (name, filter) in [
            ("lanczos3", Filter::Lanczos3),
            ("catmull_rom", Filter::CatmullRom),
            ("mitchell", Filter::Mitchell),
            ("box", Filter::Box),
        ] {
            group.bench_function(format!("all_sizes/{kind}/{name}"), |b| {
                b.iter(|| {
                    let sides = stages::resize_all(black_box(&square), &sizes, filter, |r| {
                        assert_eq!(r.data.len(), (r.side * r.side) as usize * r.channels);
                        Ok(r.side)
                    });
                    let sides: Vec<u32> = sides.into_iter().map(Result::unwrap).collect();
                    assert_eq!(sides, sizes);
                })
            });
        }
    }
    group.finish();
}

fn encode(c: &mut Criterion) {
    let policy = Policy::default();
    let mut group = c.benchmark_group("encode");
    group.sample_size(20);
    for (kind, square) in squares() {
        let format = if square.channels == 4 {
            Format::Png
        } else {
            Format::Jpeg
        };
        let mut renditions =
            stages::resize_all(&square, &[1024, 192], policy.filter, |r| Ok(r.clone()))
                .into_iter()
                .map(Result::unwrap);
        for r in [renditions.next().unwrap(), renditions.next().unwrap()] {
            group.bench_function(format!("{format}/{kind}/{}", r.side), |b| {
                b.iter(|| {
                    let bytes = stages::encode(black_box(&r), format, policy.jpeg_quality).unwrap();
                    assert_eq!(sniff(&bytes).unwrap(), format);
                    bytes
                })
            });
        }
    }
    group.finish();
}

criterion_group!(
    benches,
    sniff_and_probe,
    decode,
    colour,
    compose,
    resize,
    encode
);
criterion_main!(benches);
