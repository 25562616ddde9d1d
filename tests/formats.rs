//! Every input kind renders to every size, in the right output format and colours.

use avatar_engine::{Format, Policy};

use crate::support::{
    decode, decode_rendition, fixture, near, policy_with, psnr, render, render_with,
};

/// (fixture, expected output format)
const RENDERABLE: &[(&str, Format)] = &[
    ("photo_landscape_800x600.jpg", Format::Jpeg),
    ("photo_portrait_600x900.jpg", Format::Jpeg),
    ("size_512x512_min.jpg", Format::Jpeg),
    ("size_1024x1024_max.jpg", Format::Jpeg),
    ("jpeg_progressive_700x700.jpg", Format::Jpeg),
    ("jpeg_optimized_huffman_700x700.jpg", Format::Jpeg),
    ("jpeg_restart_interval_600x600.jpg", Format::Jpeg),
    ("jpeg_gray_600x600.jpg", Format::Jpeg),
    ("jpeg_cmyk_600x600.jpg", Format::Jpeg),
    ("jpeg_ycck_600x600.jpg", Format::Jpeg),
    ("jpeg_exif_gps_comment_640x640.jpg", Format::Jpeg),
    ("png_rgb8_600x600.png", Format::Jpeg),
    ("png_rgba8_circle_600x600.png", Format::Png),
    ("png_rgba8_all_opaque_600x600.png", Format::Jpeg),
    ("png_gray8_600x600.png", Format::Jpeg),
    ("png_gray_alpha8_600x600.png", Format::Png),
    ("png_rgb16_600x600.png", Format::Jpeg),
    ("png_palette_600x600.png", Format::Jpeg),
    ("png_palette_trns_600x600.png", Format::Png),
    ("png_interlaced_rgb8_600x600.png", Format::Jpeg),
    ("png_exif_orientation6_text_600x520.png", Format::Jpeg),
    ("gif_still_600x600.gif", Format::Jpeg),
    ("gif_transparent_600x600.gif", Format::Png),
    ("gif_small_first_frame_600x600.gif", Format::Png),
    ("gif_animated_3_frames_600x600.gif", Format::Gif),
];

#[test]
fn every_fixture_gives_every_size_exactly() {
    let sizes = Policy::default().sizes;
    for &(name, format) in RENDERABLE {
        let avatar = render(name);
        let got: Vec<u32> = avatar.renditions.iter().map(|r| r.size).collect();
        assert_eq!(got, sizes, "{name}");
        for r in &avatar.renditions {
            assert_eq!(r.format, format, "{name} at {}", r.size);
            decode_rendition(r);
        }
        assert_eq!(avatar.transparent(), format == Format::Png, "{name}");
        assert_eq!(avatar.is_animated(), format == Format::Gif, "{name}");
    }
}

fn quadrant_centres(name: &str) -> Vec<[u8; 4]> {
    let avatar = render(name);
    let d = decode_rendition(avatar.rendition(1024).unwrap());
    [(256, 256), (768, 256), (256, 768), (768, 768)]
        .iter()
        .map(|&(x, y)| d.px(x, y))
        .collect()
}

/// CMYK and YCCK (Adobe, inverted) come out in their colours, not as a negative.
#[test]
fn cmyk_and_ycck_are_not_negatives() {
    let expected = [[0, 255, 255], [255, 0, 255], [255, 255, 0], [255, 0, 0]];
    for name in ["jpeg_cmyk_600x600.jpg", "jpeg_ycck_600x600.jpg"] {
        for (got, want) in quadrant_centres(name).iter().zip(expected) {
            assert!(
                near(&got[..3], &want, 40),
                "{name}: {got:?} should be near {want:?}"
            );
        }
    }
}

#[test]
fn gray_sources_stay_gray() {
    for name in ["jpeg_gray_600x600.jpg", "png_gray8_600x600.png"] {
        let d = decode_rendition(render(name).rendition(512).unwrap());
        for p in d.rgba.chunks_exact(4) {
            assert!(
                p[0].abs_diff(p[1]) <= 6 && p[1].abs_diff(p[2]) <= 6,
                "{name}: {p:?}"
            );
        }
    }
}

/// 16-bit, interlaced and 8-bit PNGs of the same picture give the same renditions.
#[test]
fn png_depths_and_interlacing_decode_to_the_same_pixels() {
    let reference = render("png_rgb8_600x600.png");
    for name in [
        "png_rgb16_600x600.png",
        "png_interlaced_rgb8_600x600.png",
        "png_rgba8_all_opaque_600x600.png",
    ] {
        assert_eq!(render(name).renditions, reference.renditions, "{name}");
    }
}

/// Palette PNG and GIF colours come through (tile colours from the shared palette).
#[test]
fn palette_colours_survive() {
    use crate::support::generate::{tiles, GIF_PALETTE};
    // Render at the source size so tiles map 1:1, then check tile centres.
    let policy = policy_with(|p| p.sizes = vec![600]);
    for (name, tile) in [
        ("png_palette_600x600.png", 40u32),
        ("gif_still_600x600.gif", 50),
    ] {
        let avatar = render_with(&policy, &fixture(name));
        let d = decode_rendition(&avatar.renditions[0]);
        for (x, y) in [(1, 1), (3, 0), (5, 7), (10, 2)] {
            let (cx, cy) = (x * tile + tile / 2, y * tile + tile / 2);
            let want = GIF_PALETTE[tiles(tile, 0)(cx, cy) as usize];
            assert!(
                near(&d.px(cx, cy)[..3], &want, 24),
                "{name} tile ({x},{y}): {:?} vs {want:?}",
                d.px(cx, cy)
            );
        }
    }
}

/// Transparent parts stay transparent and opaque parts opaque.
#[test]
fn transparency_is_kept() {
    let policy = policy_with(|p| p.sizes = vec![600]);
    // Left 150 columns use the transparent index; the left 100 of the palette PNG.
    for (name, clear_x, solid_x) in [
        ("gif_transparent_600x600.gif", 100, 300),
        ("png_palette_trns_600x600.png", 50, 300),
        ("png_rgba8_circle_600x600.png", 3, 300),
    ] {
        let d = decode_rendition(&render_with(&policy, &fixture(name)).renditions[0]);
        assert_eq!(d.px(clear_x, 3)[3], 0, "{name}");
        assert_eq!(d.px(solid_x, 300)[3], 255, "{name}");
    }
    // A first frame smaller than the screen leaves the rest transparent.
    let d = decode_rendition(
        &render_with(&policy, &fixture("gif_small_first_frame_600x600.gif")).renditions[0],
    );
    assert_eq!(d.px(50, 50)[3], 0);
    assert_eq!(d.px(250, 250)[3], 255);
}

/// The decoder handles optimised Huffman tables, progressive scans and restart
/// markers: the engine's rendition at the source size matches an independent decode
/// of the source (a garbage decode scores under 10 dB).
#[test]
fn jpeg_modes_match_an_independent_decoder() {
    for (name, side) in [
        ("jpeg_optimized_huffman_700x700.jpg", 700),
        ("jpeg_progressive_700x700.jpg", 700),
        ("jpeg_restart_interval_600x600.jpg", 600),
    ] {
        let policy = policy_with(|p| {
            p.sizes = vec![side];
            p.jpeg_quality = 95;
        });
        let bytes = fixture(name);
        let ours = decode_rendition(&render_with(&policy, &bytes).renditions[0]);
        let theirs = decode(&bytes, Format::Jpeg);
        let db = psnr(&ours.rgba, &theirs.rgba);
        assert!(db > 35.0, "{name}: {db:.1} dB");
    }
}

/// Renditions are faithful to the source: a resize of a flat-ish photo keeps its
/// mean colour, at every size.
#[test]
fn renditions_keep_the_mean_colour() {
    let avatar = render("size_1024x1024_max.jpg");
    let mean = |d: &crate::support::Decoded| {
        let n = (d.w * d.h) as f64;
        (0..3)
            .map(|i| d.rgba.chunks_exact(4).map(|p| f64::from(p[i])).sum::<f64>() / n)
            .collect::<Vec<_>>()
    };
    let base = mean(&decode_rendition(&avatar.renditions[0]));
    for r in &avatar.renditions[1..] {
        let m = mean(&decode_rendition(r));
        for i in 0..3 {
            assert!(
                (m[i] - base[i]).abs() < 4.0,
                "size {}: channel {i} {:.1} vs {:.1}",
                r.size,
                m[i],
                base[i]
            );
        }
    }
}
