//! Colour management: uploads tagged with ICC profiles (or PNG `cHRM`/`gAMA`) come out
//! as sRGB. Profiles are generated from their published primaries and curves (by
//! moxcms' own constructors, then encoded to bytes), and every converted pixel is held
//! to an independent float conversion written here from the same published numbers.

use avatar_engine::{process, CropBox, Format, Policy, Upload};
use moxcms::ColorProfile;

use crate::support::generate::{insert_segments, jpeg, photo, png, with_alpha, Img};
use crate::support::{decode_rendition, policy_with};

/// A colour space by its published definition: xy primaries, white, and decoding curve.
struct Space {
    red: [f64; 2],
    green: [f64; 2],
    blue: [f64; 2],
    white: [f64; 2],
    decode: fn(f64) -> f64,
}

const D65: [f64; 2] = [0.3127, 0.3290];

fn srgb_decode(v: f64) -> f64 {
    if v <= 0.04045 {
        v / 12.92
    } else {
        ((v + 0.055) / 1.055).powf(2.4)
    }
}

fn srgb_encode(v: f64) -> f64 {
    if v <= 0.003_130_8 {
        v * 12.92
    } else {
        1.055 * v.powf(1.0 / 2.4) - 0.055
    }
}

const SRGB: Space = Space {
    red: [0.64, 0.33],
    green: [0.30, 0.60],
    blue: [0.15, 0.06],
    white: D65,
    decode: srgb_decode,
};

/// Adobe RGB (1998): its own primaries, D65, pure gamma 563/256.
const ADOBE_RGB: Space = Space {
    red: [0.64, 0.33],
    green: [0.21, 0.71],
    blue: [0.15, 0.06],
    white: D65,
    decode: |v| v.powf(563.0 / 256.0),
};

/// Display P3: DCI-P3 primaries, D65, the sRGB curve.
const DISPLAY_P3: Space = Space {
    red: [0.680, 0.320],
    green: [0.265, 0.690],
    blue: [0.150, 0.060],
    white: D65,
    decode: srgb_decode,
};

type M3 = [[f64; 3]; 3];

fn mul(a: &M3, b: &M3) -> M3 {
    let mut m = [[0.0; 3]; 3];
    for i in 0..3 {
        for j in 0..3 {
            m[i][j] = (0..3).map(|k| a[i][k] * b[k][j]).sum();
        }
    }
    m
}

fn apply(m: &M3, v: [f64; 3]) -> [f64; 3] {
    [0, 1, 2].map(|i| m[i][0] * v[0] + m[i][1] * v[1] + m[i][2] * v[2])
}

fn invert(m: &M3) -> M3 {
    let det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
        - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    let c =
        |r0: usize, r1: usize, c0: usize, c1: usize| m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0];
    [
        [
            c(1, 2, 1, 2) / det,
            -c(0, 2, 1, 2) / det,
            c(0, 1, 1, 2) / det,
        ],
        [
            -c(1, 2, 0, 2) / det,
            c(0, 2, 0, 2) / det,
            -c(0, 1, 0, 2) / det,
        ],
        [
            c(1, 2, 0, 1) / det,
            -c(0, 2, 0, 1) / det,
            c(0, 1, 0, 1) / det,
        ],
    ]
}

/// Linear RGB → XYZ from xy primaries and white (the SMPTE RP 177 construction).
fn rgb_to_xyz(s: &Space) -> M3 {
    let xyz = |c: [f64; 2]| [c[0] / c[1], 1.0, (1.0 - c[0] - c[1]) / c[1]];
    let (r, g, b) = (xyz(s.red), xyz(s.green), xyz(s.blue));
    let p = [[r[0], g[0], b[0]], [r[1], g[1], b[1]], [r[2], g[2], b[2]]];
    let k = apply(&invert(&p), xyz(s.white));
    [0, 1, 2].map(|i| [p[i][0] * k[0], p[i][1] * k[1], p[i][2] * k[2]])
}

/// The independent reference: `from`'s 8-bit RGB as sRGB, in floats, clipped, rounded.
fn convert(from: &Space, px: [u8; 3]) -> [u8; 3] {
    let m = mul(&invert(&rgb_to_xyz(&SRGB)), &rgb_to_xyz(from));
    let lin = apply(&m, px.map(|v| (from.decode)(f64::from(v) / 255.0)));
    lin.map(|v| (srgb_encode(v.clamp(0.0, 1.0)) * 255.0).round() as u8)
}

/// Renders at the source's own size (no resize), so output pixels are the converted
/// source pixels.
fn same_size(side: u32) -> Policy {
    policy_with(|p| {
        p.min_side = 1;
        p.sizes = vec![side];
    })
}

/// An RGBA PNG (one pixel 1/255 transparent, so the output is lossless PNG) with
/// `chunks` before its image data.
fn tagged_png(img: &Img, chunks: &[(&[u8; 4], Vec<u8>)]) -> Vec<u8> {
    let rgba = with_alpha(img, |x, y| if (x, y) == (0, 0) { 254 } else { 255 });
    png(&rgba, png::ColorType::Rgba, png::BitDepth::Eight, chunks)
}

fn iccp(profile: &[u8]) -> (&'static [u8; 4], Vec<u8>) {
    let mut body = b"test profile\0\0".to_vec();
    body.extend(miniz_oxide::deflate::compress_to_vec_zlib(profile, 6));
    (b"iCCP", body)
}

/// The profile as APP2 `ICC_PROFILE` segments of at most `chunk` bytes each.
fn app2(profile: &[u8], chunk: usize) -> Vec<(u8, Vec<u8>)> {
    let n = profile.len().div_ceil(chunk) as u8;
    profile
        .chunks(chunk)
        .enumerate()
        .map(|(i, part)| {
            let mut body = b"ICC_PROFILE\0".to_vec();
            body.extend([i as u8 + 1, n]);
            body.extend_from_slice(part);
            (0xE2, body)
        })
        .collect()
}

fn rendered(policy: &Policy, bytes: &[u8]) -> crate::support::Decoded {
    let avatar = process(policy, &Upload::new(bytes)).unwrap();
    decode_rendition(&avatar.renditions[0])
}

/// Every pixel within 2 levels of the float reference, mean error under 0.6.
fn assert_matches_reference(space: &Space, src: &Img, out: &crate::support::Decoded, what: &str) {
    assert_matches_reference_at(space, src, out, (0, 0), what);
}

/// [`assert_matches_reference`] for `src` placed at `at` in `out`.
fn assert_matches_reference_at(
    space: &Space,
    src: &Img,
    out: &crate::support::Decoded,
    at: (u32, u32),
    what: &str,
) {
    let (mut worst, mut total) = (0u8, 0u64);
    for y in 0..src.h {
        for x in 0..src.w {
            let s = src.px(x, y);
            let want = convert(space, [s[0], s[1], s[2]]);
            let got = out.px(x + at.0, y + at.1);
            for c in 0..3 {
                let d = got[c].abs_diff(want[c]);
                worst = worst.max(d);
                total += u64::from(d);
            }
        }
    }
    let mean = total as f64 / f64::from(src.w * src.h * 3);
    assert!(
        worst <= 2 && mean < 0.6,
        "{what}: worst {worst}, mean {mean:.3}"
    );
}

#[test]
fn png_iccp_profiles_are_converted_to_srgb() {
    let src = photo(96, 96, 3, 0);
    for (name, profile, space) in [
        ("Adobe RGB", ColorProfile::new_adobe_rgb(), &ADOBE_RGB),
        ("Display P3", ColorProfile::new_display_p3(), &DISPLAY_P3),
    ] {
        let bytes = tagged_png(&src, &[iccp(&profile.encode().unwrap())]);
        let out = rendered(&same_size(96), &bytes);
        assert_matches_reference(space, &src, &out, name);
        // The untagged reading is far off: the conversion is not a no-op.
        let untagged = rendered(&same_size(96), &tagged_png(&src, &[]));
        let moved = (0..src.h)
            .flat_map(|y| (0..src.w).map(move |x| (x, y)))
            .filter(|&(x, y)| untagged.px(x, y) != out.px(x, y))
            .count();
        assert!(
            moved > (src.w * src.h / 2) as usize,
            "{name}: {moved} pixels changed"
        );
    }
    // Bytes after the profile's declared size (alignment padding) are left off.
    let adobe = ColorProfile::new_adobe_rgb().encode().unwrap();
    let padded = [&adobe[..], &[0; 3]].concat();
    let a = process(
        &same_size(96),
        &Upload::new(&tagged_png(&src, &[iccp(&adobe)])),
    );
    let b = process(
        &same_size(96),
        &Upload::new(&tagged_png(&src, &[iccp(&padded)])),
    );
    assert!(
        a.unwrap().renditions == b.unwrap().renditions,
        "padded profile"
    );
}

/// A tagged picture that is letterboxed or cropped is converted as it is placed (one
/// copy): every placed pixel matches the reference conversion of the source pixel
/// that lands there, and the bars stay exactly transparent.
#[test]
fn letterboxed_and_cropped_pictures_are_converted_where_they_are_placed() {
    let src = photo(96, 64, 7, 0);
    let profile = ColorProfile::new_adobe_rgb().encode().unwrap();
    let bytes = tagged_png(&src, &[iccp(&profile)]);

    // Letterboxed: a 96² square, the picture on rows 16..80.
    let out = rendered(&same_size(96), &bytes);
    assert_matches_reference_at(&ADOBE_RGB, &src, &out, (0, 16), "letterboxed");
    for y in (0..16).chain(80..96) {
        assert!((0..96).all(|x| out.px(x, y)[3] == 0), "bar row {y}");
    }

    // Cropped: the 40² square at (30, 10).
    let crop = CropBox::new(30, 10, 40);
    let avatar = process(&same_size(40), &Upload::new(&bytes).with_crop(crop)).unwrap();
    let out = decode_rendition(&avatar.renditions[0]);
    let shown = Img::new(40, 40, 3, |x, y| {
        let p = src.px(x + 30, y + 10);
        [p[0], p[1], p[2], 255]
    });
    assert_matches_reference(&ADOBE_RGB, &shown, &out, "cropped");
}

/// A JPEG carrying its profile in several APP2 segments: the box-averaged output (the
/// JPEG re-encode blurs single pixels) matches the reference conversion of the decoded
/// source, and is far from the untagged reading.
#[test]
fn jpeg_multi_segment_profiles_are_converted_to_srgb() {
    let src = photo(512, 512, 5, 0);
    let plain = jpeg(&src, 95, |_| {});
    let profile = ColorProfile::new_adobe_rgb().encode().unwrap();
    let tagged = insert_segments(&plain, &app2(&profile, profile.len() / 3 + 1));
    let policy = policy_with(|p| {
        p.sizes = vec![512];
        p.jpeg_quality = 95;
    });
    let decoded = crate::support::decode(&plain, Format::Jpeg);
    let out = rendered(&policy, &tagged);
    let untagged = rendered(&policy, &plain);
    let (mut err, mut err_untagged) = (0.0f64, 0.0f64);
    let boxes = (512 / 32) * (512 / 32);
    for by in 0..16 {
        for bx in 0..16 {
            let (mut want, mut got, mut was) = ([0f64; 3], [0f64; 3], [0f64; 3]);
            for y in by * 32..by * 32 + 32 {
                for x in bx * 32..bx * 32 + 32 {
                    let s = decoded.px(x, y);
                    let w = convert(&ADOBE_RGB, [s[0], s[1], s[2]]);
                    for c in 0..3 {
                        want[c] += f64::from(w[c]) / 1024.0;
                        got[c] += f64::from(out.px(x, y)[c]) / 1024.0;
                        was[c] += f64::from(untagged.px(x, y)[c]) / 1024.0;
                    }
                }
            }
            for c in 0..3 {
                err += (got[c] - want[c]).abs() / f64::from(boxes * 3);
                err_untagged += (was[c] - want[c]).abs() / f64::from(boxes * 3);
            }
        }
    }
    assert!(err < 1.0, "tagged: mean box error {err:.2} levels");
    assert!(err_untagged > 3.0, "untagged: {err_untagged:.2}");
}

/// A profile that swaps red and green (sRGB's colorants exchanged) swaps them.
#[test]
fn a_profile_that_swaps_channels_swaps_them() {
    let mut swapped = ColorProfile::new_srgb();
    std::mem::swap(&mut swapped.red_colorant, &mut swapped.green_colorant);
    swapped.cicp = None;
    let src = photo(64, 64, 1, 0);
    let out = rendered(
        &same_size(64),
        &tagged_png(&src, &[iccp(&swapped.encode().unwrap())]),
    );
    for (x, y) in [(5, 5), (20, 40), (60, 10), (33, 33)] {
        let (s, o) = (src.px(x, y), out.px(x, y));
        assert!(
            o[0].abs_diff(s[1]) <= 2 && o[1].abs_diff(s[0]) <= 2 && o[2].abs_diff(s[2]) <= 2,
            "({x},{y}): source {s:?}, output {o:?}"
        );
    }
}

/// sRGB by content, under another name, changes nothing: the same bytes as untagged,
/// and a square JPEG keeps its pass-through.
#[test]
fn an_srgb_profile_under_any_name_changes_nothing() {
    let mut renamed = ColorProfile::new_srgb();
    renamed.description = None;
    renamed.cicp = None;
    let profile = renamed.encode().unwrap();
    let src = photo(64, 64, 2, 0);
    let tagged = process(
        &same_size(64),
        &Upload::new(&tagged_png(&src, &[iccp(&profile)])),
    );
    let untagged = process(&same_size(64), &Upload::new(&tagged_png(&src, &[])));
    assert!(tagged.unwrap().renditions == untagged.unwrap().renditions);

    let plain = jpeg(&photo(512, 512, 2, 0), 85, |_| {});
    let tagged = insert_segments(&plain, &app2(&profile, 60_000));
    let policy = policy_with(|p| p.sizes = vec![512]);
    let a = process(&policy, &Upload::new(&tagged)).unwrap();
    let b = process(&policy, &Upload::new(&plain)).unwrap();
    assert!(a.renditions == b.renditions, "pass-through kept");
}

/// Malformed, truncated, mis-numbered or mismatched profiles are ignored: the output is
/// the untagged output, never an error.
#[test]
fn broken_profiles_are_ignored() {
    let src = photo(48, 48, 4, 0);
    let policy = same_size(48);
    let untagged = process(&policy, &Upload::new(&tagged_png(&src, &[]))).unwrap();
    let good = ColorProfile::new_adobe_rgb().encode().unwrap();
    let mut garbage = good.clone();
    for (i, b) in garbage.iter_mut().enumerate().skip(128) {
        *b = (i as u8).wrapping_mul(151);
    }
    let gray = ColorProfile::new_gray_with_gamma(1.0).encode().unwrap();
    type Chunks = Vec<(&'static [u8; 4], Vec<u8>)>;
    let mut cases: Vec<(String, Chunks)> = vec![
        ("garbage tags".into(), vec![iccp(&garbage)]),
        ("gray profile on colour pixels".into(), vec![iccp(&gray)]),
        (
            "not zlib".into(),
            vec![(b"iCCP", b"name\0\0not zlib at all".to_vec())],
        ),
        (
            "no name terminator".into(),
            vec![(b"iCCP", vec![b'a'; 100])],
        ),
        (
            "unknown method".into(),
            vec![(b"iCCP", b"n\0\x01xx".to_vec())],
        ),
        ("empty".into(), vec![iccp(&[])]),
    ];
    for cut in [1, 20, 127, 128, 200, good.len() / 2, good.len() - 1] {
        cases.push((format!("cut at {cut}"), vec![iccp(&good[..cut])]));
    }
    for (what, chunks) in cases {
        let got = process(&policy, &Upload::new(&tagged_png(&src, &chunks)))
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(
            got.renditions == untagged.renditions,
            "{what}: output differs"
        );
    }

    // JPEG: chunks missing, duplicated or numbered past their count.
    let plain = jpeg(&photo(512, 512, 4, 0), 85, |_| {});
    let policy = policy_with(|p| p.sizes = vec![64]);
    let reference = process(&policy, &Upload::new(&plain)).unwrap();
    let parts = app2(&good, good.len() / 3 + 1);
    let numbered = |seq: u8, count: u8, part: usize| {
        let mut body = b"ICC_PROFILE\0".to_vec();
        body.extend([seq, count]);
        body.extend_from_slice(&parts[part].1[14..]);
        (0xE2, body)
    };
    for (what, segments) in [
        (
            "second of three missing",
            vec![parts[0].clone(), parts[2].clone()],
        ),
        (
            "one chunk twice",
            vec![parts[0].clone(), parts[0].clone(), parts[2].clone()],
        ),
        ("sequence 0", vec![numbered(0, 1, 0)]),
        ("count 0", vec![numbered(1, 0, 0)]),
        ("first chunk alone", vec![numbered(1, 1, 0)]),
    ] {
        let got = process(&policy, &Upload::new(&insert_segments(&plain, &segments)))
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(
            got.renditions == reference.renditions,
            "{what}: output differs"
        );
    }
}

/// A gray PNG with a linear gray profile: each gray v becomes the sRGB encoding of
/// v/255.
#[test]
fn gray_profiles_are_applied_to_gray_pixels() {
    let profile = ColorProfile::new_gray_with_gamma(1.0).encode().unwrap();
    let (w, h) = (64u32, 4u32);
    let gray: Vec<u8> = (0..w * h).map(|i| (i % 64 * 4) as u8).collect();
    // Gray + alpha, one pixel 1/255 transparent: the output stays lossless PNG.
    let la: Vec<u8> = gray
        .iter()
        .enumerate()
        .flat_map(|(i, &v)| [v, if i == 0 { 254 } else { 255 }])
        .collect();
    let bytes = crate::support::generate::png_with(
        w,
        h,
        png::ColorType::GrayscaleAlpha,
        png::BitDepth::Eight,
        &la,
        None,
        None,
        &[iccp(&profile)],
    );
    let avatar = process(
        &policy_with(|p| {
            p.min_side = 1;
            p.sizes = vec![64];
        }),
        &Upload::new(&bytes),
    );
    // 64x4 letterboxed onto 64x64: rows 30..34 are the picture.
    let out = decode_rendition(&avatar.unwrap().renditions[0]);
    for x in 0..w {
        let v = gray[x as usize];
        let want = (srgb_encode(f64::from(v) / 255.0) * 255.0).round() as u8;
        let got = out.px(x, 30);
        assert!(
            got[..3].iter().all(|&c| c.abs_diff(want) <= 2),
            "gray {v}: got {got:?}, want {want}"
        );
    }
}

/// PNG `gAMA` 1.0 (linear data, sRGB primaries) is encoded to sRGB; `gAMA` 0.45455
/// alone, or an `sRGB` chunk, leaves the pixels alone; `cHRM` with Adobe RGB's
/// primaries and its gamma converts as Adobe RGB does.
#[test]
fn png_gama_and_chrm_are_honoured() {
    let src = photo(64, 64, 6, 0);
    let policy = same_size(64);
    let untagged = process(&policy, &Upload::new(&tagged_png(&src, &[]))).unwrap();
    let gama = |g: u32| (b"gAMA", g.to_be_bytes().to_vec());
    for (what, chunks) in [
        ("gAMA 0.45455", vec![gama(45_455)]),
        ("sRGB", vec![(b"sRGB", vec![0u8])]),
        (
            "sRGB beside gAMA 1.0",
            vec![(b"sRGB", vec![0u8]), gama(100_000)],
        ),
    ] {
        let got = process(&policy, &Upload::new(&tagged_png(&src, &chunks))).unwrap();
        assert!(
            got.renditions == untagged.renditions,
            "{what}: output differs"
        );
    }
    let linear = rendered(&policy, &tagged_png(&src, &[gama(100_000)]));
    const LINEAR_SRGB: Space = Space {
        decode: |v| v,
        ..SRGB
    };
    assert_matches_reference(&LINEAR_SRGB, &src, &linear, "gAMA 1.0");

    let chrm: Vec<u8> = [D65, ADOBE_RGB.red, ADOBE_RGB.green, ADOBE_RGB.blue]
        .iter()
        .flatten()
        .flat_map(|&v| ((v * 100_000.0).round() as u32).to_be_bytes())
        .collect();
    let adobe = rendered(
        &policy,
        &tagged_png(
            &src,
            &[
                (b"cHRM", chrm),
                gama((100_000.0 * 256.0 / 563.0_f64).round() as u32),
            ],
        ),
    );
    assert_matches_reference(&ADOBE_RGB, &src, &adobe, "cHRM + gAMA");
}

/// A CMYK and a YCCK JPEG (Adobe's inverted storage) tagged with a CMYK profile come
/// out as the profile prints them: every flat patch, box-averaged, within 3 levels of
/// the float reference (the test press in float, encoded as sRGB), where the untagged
/// files (zune's naive inversion) are far off.
#[test]
fn cmyk_and_ycck_jpegs_are_converted_by_their_profile() {
    use crate::support::generate::{test_press, test_press_profile};
    const PATCH: u32 = 96;
    const SIDE: u32 = PATCH * 6;
    let levels = [0u8, 51, 102, 153, 204, 255];
    // 36 patches, each a different mix of all four inks.
    let ink_of = |px: u32, py: u32| -> [u8; 4] {
        let i = (py * 6 + px) as usize;
        [
            levels[i % 6],
            levels[(i / 6 + i) % 6],
            levels[(i * 5 / 3) % 6],
            levels[(i * 7 / 5) % 4],
        ]
    };
    let inks = Img::new(SIDE, SIDE, 4, |x, y| ink_of(x / PATCH, y / PATCH));
    let profile = test_press_profile(9);
    let policy = policy_with(|p| {
        p.sizes = vec![SIDE];
        p.jpeg_quality = 95;
    });
    let mut ycck = Vec::new();
    jpeg_encoder::Encoder::new(&mut ycck, 95)
        .encode(
            &inks.data,
            SIDE as u16,
            SIDE as u16,
            jpeg_encoder::ColorType::CmykAsYcck,
        )
        .unwrap();
    for (name, plain) in [("CMYK", jpeg(&inks, 95, |_| {})), ("YCCK", ycck)] {
        let tagged = insert_segments(&plain, &app2(&profile, profile.len() / 2 + 1));
        let out = rendered(&policy, &tagged);
        let untagged = rendered(&policy, &plain);
        let (mut worst, mut worst_untagged) = (0f64, 0f64);
        for py in 0..6 {
            for px in 0..6 {
                let ink = ink_of(px, py).map(|v| f64::from(v) / 255.0);
                let want = test_press(ink).map(|v| srgb_encode(v.clamp(0.0, 1.0)) * 255.0);
                // The patch's middle 32x32, away from its edges.
                let (mut got, mut was) = ([0f64; 3], [0f64; 3]);
                for y in py * PATCH + 32..py * PATCH + 64 {
                    for x in px * PATCH + 32..px * PATCH + 64 {
                        for c in 0..3 {
                            got[c] += f64::from(out.px(x, y)[c]) / 1024.0;
                            was[c] += f64::from(untagged.px(x, y)[c]) / 1024.0;
                        }
                    }
                }
                for c in 0..3 {
                    worst = worst.max((got[c] - want[c]).abs());
                    worst_untagged = worst_untagged.max((was[c] - want[c]).abs());
                }
            }
        }
        assert!(worst <= 3.0, "{name}: worst patch {worst:.2} levels off");
        assert!(
            worst_untagged > 20.0,
            "{name}: the untagged file is only {worst_untagged:.2} off; the test cannot tell"
        );
        // An RGB profile on CMYK pixels does not fit: ignored.
        let adobe = ColorProfile::new_adobe_rgb().encode().unwrap();
        let mismatched = insert_segments(&plain, &app2(&adobe, 60_000));
        assert!(
            rendered(&policy, &mismatched).rgba == untagged.rgba,
            "{name}: RGB profile"
        );
    }
    // Nor does a CMYK profile on RGB pixels.
    let rgb = photo(SIDE, SIDE, 7, 0);
    let plain = jpeg(&rgb, 90, |_| {});
    let mismatched = insert_segments(&plain, &app2(&profile, 60_000));
    assert!(
        process(&policy, &Upload::new(&mismatched))
            .unwrap()
            .renditions
            == process(&policy, &Upload::new(&plain)).unwrap().renditions,
        "CMYK profile on an RGB JPEG"
    );
}
