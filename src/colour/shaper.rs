//! The common case, fast: an RGB matrix/TRC profile (every camera, phone and editor
//! profile: Display P3, Adobe RGB, ProPhoto) to sRGB, 8 bits in and out, in place.
//!
//! moxcms supplies the colour science — each channel's linearisation table (from the
//! profile's curves, or its CICP transfer as moxcms prefers) and the matrix from the
//! profile's linear RGB to sRGB's (through the D50 connection space) — and this file
//! only lays the arithmetic out for speed: each channel's 256 values pre-multiplied by
//! its matrix column in Q14 fixed point, so a pixel is three table rows added, clamped,
//! and three look-ups in a 16 385-entry sRGB encoding table (~28 KiB of tables in all).
//! moxcms' own 8-bit matrix path measured 2.3–3.6 ms per megapixel on one thread here;
//! this one is measured by `cargo bench --bench stages -- colour`.
//!
//! Precision: the linear sum is kept to 1/16384, a step of at most 0.2 sRGB levels (in
//! the darkest tones, where the sRGB curve is steepest); tests hold it within one level
//! of moxcms' own transform.

use moxcms::{ColorProfile, DataColorSpace};

/// Fixed-point one: linear 1.0.
const ONE: i32 = 1 << 14;

/// A matrix/TRC profile's conversion to sRGB.
pub(super) struct Shaper {
    /// Per channel, per 8-bit value: that value's contribution to linear sRGB R, G, B
    /// (Q14; the fourth lane pads to 16 bytes).
    columns: [[[i32; 4]; 256]; 3],
    /// Linear sRGB (Q14, 0..=ONE) to its 8-bit sRGB encoding.
    encode: Vec<u8>,
}

impl Shaper {
    /// The shaper for `profile`, when moxcms would itself convert it by matrix and
    /// curves: RGB data, XYZ connection space, three colorants and three curves, no
    /// device-to-PCS lookup tables (which moxcms would prefer). `None` otherwise.
    pub fn new(profile: &ColorProfile) -> Option<Shaper> {
        let luts = [
            &profile.lut_a_to_b_perceptual,
            &profile.lut_a_to_b_colorimetric,
            &profile.lut_a_to_b_saturation,
        ];
        if profile.color_space != DataColorSpace::Rgb
            || profile.pcs != DataColorSpace::Xyz
            || !profile.is_matrix_shaper()
            || luts.iter().any(|l| l.is_some())
        {
            return None;
        }
        let lin = [
            profile.build_r_linearize_table::<u8, 256, 8>(true).ok()?,
            profile.build_g_linearize_table::<u8, 256, 8>(true).ok()?,
            profile.build_b_linearize_table::<u8, 256, 8>(true).ok()?,
        ];
        let m = profile.transform_matrix(&ColorProfile::new_srgb()).v;
        if m.iter().flatten().any(|v| !v.is_finite() || v.abs() > 64.0) {
            return None;
        }
        let mut columns = [[[0i32; 4]; 256]; 3];
        for (c, table) in columns.iter_mut().enumerate() {
            for (v, row) in table.iter_mut().enumerate() {
                let l = f64::from(lin[c][v]);
                if !l.is_finite() {
                    return None;
                }
                for (k, out) in row.iter_mut().take(3).enumerate() {
                    *out = (m[k][c] * l * f64::from(ONE)).round() as i32;
                }
            }
        }
        let encode = (0..=ONE)
            .map(|i| (srgb_encode(f64::from(i) / f64::from(ONE)) * 255.0).round() as u8)
            .collect();
        Some(Shaper { columns, encode })
    }

    /// Converts RGB (`channels` 3) or RGBA (4, alpha kept) pixels in place.
    #[inline]
    pub fn apply(&self, pixels: &mut [u8], channels: usize) {
        let [r, g, b] = &self.columns;
        let encode = &self.encode[..=ONE as usize];
        for px in pixels.chunks_exact_mut(channels) {
            let (a, bb, c) = (&r[px[0] as usize], &g[px[1] as usize], &b[px[2] as usize]);
            for k in 0..3 {
                let s = (a[k] + bb[k] + c[k]).clamp(0, ONE);
                px[k] = encode[s as usize];
            }
        }
    }
}

/// The sRGB transfer function (IEC 61966-2-1), linear to encoded, on [0, 1].
fn srgb_encode(v: f64) -> f64 {
    if v <= 0.003_130_8 {
        v * 12.92
    } else {
        1.055 * v.powf(1.0 / 2.4) - 0.055
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use moxcms::{Layout, TransformOptions};

    /// Every gray and a 16-step cube: within one level of moxcms' own 8-bit transform,
    /// for RGB and RGBA (alpha untouched).
    #[test]
    fn agrees_with_moxcms_within_one_level() {
        let mut swapped = ColorProfile::new_srgb();
        std::mem::swap(&mut swapped.red_colorant, &mut swapped.blue_colorant);
        swapped.cicp = None;
        let profiles = [
            ("Display P3", ColorProfile::new_display_p3()),
            ("Adobe RGB", ColorProfile::new_adobe_rgb()),
            ("ProPhoto", ColorProfile::new_pro_photo_rgb()),
            ("BT.2020", ColorProfile::new_bt2020()),
            ("swapped", swapped),
        ];
        let mut rgb: Vec<u8> = (0..=255u8).flat_map(|v| [v; 3]).collect();
        for r in (0..=255u8).step_by(17) {
            for g in (0..=255u8).step_by(17) {
                for b in (0..=255u8).step_by(17) {
                    rgb.extend([r, g, b]);
                }
            }
        }
        let rgba: Vec<u8> = rgb
            .chunks_exact(3)
            .enumerate()
            .flat_map(|(i, p)| [p[0], p[1], p[2], i as u8])
            .collect();
        for (name, profile) in profiles {
            // Through bytes, as an upload brings it.
            let profile = ColorProfile::new_from_slice(&profile.encode().unwrap()).unwrap();
            let shaper = Shaper::new(&profile).unwrap_or_else(|| panic!("{name}: no shaper"));
            for (layout, src) in [(Layout::Rgb, &rgb), (Layout::Rgba, &rgba)] {
                let channels = src.len() / (rgb.len() / 3);
                let reference = profile
                    .create_transform_8bit(
                        layout,
                        &ColorProfile::new_srgb(),
                        layout,
                        TransformOptions::default(),
                    )
                    .unwrap();
                let mut want = vec![0; src.len()];
                reference.transform(src, &mut want).unwrap();
                let mut got = src.clone();
                shaper.apply(&mut got, channels);
                for (i, (&g, &w)) in got.iter().zip(&want).enumerate() {
                    let px = &src[i / channels * channels..][..channels];
                    assert!(g.abs_diff(w) <= 1, "{name} {px:?}: {g} vs moxcms {w}");
                }
            }
        }
    }
}
