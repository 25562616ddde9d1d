//! Differential: the engine's own matrix/TRC kernel (used on CPUs with AVX-512 VBMI)
//! against moxcms, on profiles made from the input (primaries, white point and a
//! pure-gamma curve, each anywhere in a wide range) and on the input's pixels. Every
//! byte the kernel writes must be within 2 levels of moxcms'. Where the kernel is not
//! used (another CPU, a matrix too wide for it) there is nothing to compare.
#![no_main]

use moxcms::{
    Chromaticity, ColorPrimaries, ColorProfile, Layout, ToneReprCurve, TransformOptions, XyY,
};

/// Bytes of the input read as the profile: 9 numbers of 2 bytes.
const KNOBS: usize = 18;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if data.len() < KNOBS + 3 {
        return;
    }
    let (knobs, pixels) = data.split_at(KNOBS);
    let knob = |i: usize, lo: f32, hi: f32| {
        let v = u16::from_le_bytes([knobs[2 * i], knobs[2 * i + 1]]);
        lo + (hi - lo) * f32::from(v) / 65535.0
    };
    let mut profile = ColorProfile::new_srgb();
    profile.cicp = None;
    profile.update_rgb_colorimetry(
        XyY::new(
            f64::from(knob(0, 0.25, 0.40)),
            f64::from(knob(1, 0.25, 0.40)),
            1.0,
        ),
        ColorPrimaries {
            red: Chromaticity::new(knob(2, 0.40, 0.75), knob(3, 0.20, 0.45)),
            green: Chromaticity::new(knob(4, 0.10, 0.40), knob(5, 0.40, 0.85)),
            blue: Chromaticity::new(knob(6, 0.05, 0.25), knob(7, 0.01, 0.20)),
        },
    );
    let curve = ToneReprCurve::Parametric(vec![knob(8, 1.0, 3.0)]);
    profile.red_trc = Some(curve.clone());
    profile.green_trc = Some(curve.clone());
    profile.blue_trc = Some(curve);
    let Some(kernel) = avatar_engine::stages::matrix_kernel(&profile) else {
        return;
    };
    // At least one whole 64-pixel step: the input's pixels repeated.
    let len = (pixels.len() / 3 * 3).max(192).div_ceil(192) * 192;
    let src: Vec<u8> = pixels.iter().copied().cycle().take(len).collect();
    let mut ours = vec![0u8; len];
    assert_eq!(kernel(&src, &mut ours), len);
    let Ok(transform) = profile.create_transform_8bit(
        Layout::Rgb,
        &ColorProfile::new_srgb(),
        Layout::Rgb,
        TransformOptions::default(),
    ) else {
        panic!("moxcms refuses a profile the kernel took");
    };
    let mut theirs = vec![0u8; len];
    transform.transform(&src, &mut theirs).unwrap();
    for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        assert!(
            a.abs_diff(*b) <= 2,
            "byte {i} (pixel {:?}): ours {a}, moxcms {b}",
            &src[i / 3 * 3..i / 3 * 3 + 3]
        );
    }
});
