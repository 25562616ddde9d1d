//! Letterbox and crop, checked on the pixels of the renditions.

use avatar_engine::{process, CropBox, Format, Upload};

use crate::support::generate::{circle_alpha, photo, png, with_alpha};
use crate::support::{decode_rendition, fixture, near, policy_with};

/// 800x600 → a 800x800 square with 100-pixel black bars above and below; at 1024 the
/// bars are 128 pixels.
#[test]
fn opaque_letterbox_bars_are_black_and_centred() {
    let avatar = process(
        &Default::default(),
        &Upload::new(&fixture("photo_landscape_800x600.jpg")),
    )
    .unwrap();
    let d = decode_rendition(avatar.rendition(1024).unwrap());
    for x in (0..1024).step_by(37) {
        for y in [0, 60, 120, 903, 960, 1023] {
            assert!(
                near(&d.px(x, y)[..3], &[0, 0, 0], 10),
                "bar pixel ({x},{y}) is {:?}",
                d.px(x, y)
            );
        }
        for y in [140, 512, 880] {
            assert!(
                d.px(x, y)[..3].iter().any(|&c| c > 20),
                "picture pixel ({x},{y}) is black"
            );
        }
    }
}

#[test]
fn letterbox_background_colour_is_configurable() {
    let policy = policy_with(|p| p.background = [255, 255, 255]);
    let avatar = process(
        &policy,
        &Upload::new(&fixture("photo_portrait_600x900.jpg")),
    )
    .unwrap();
    let d = decode_rendition(avatar.rendition(512).unwrap());
    // 600x900 on 900: bars of 150 on each side, 85 at 512.
    for (x, y) in [(5, 5), (60, 256), (450, 500), (506, 10)] {
        assert!(
            near(&d.px(x, y)[..3], &[255, 255, 255], 10),
            "({x},{y}) is {:?}",
            d.px(x, y)
        );
    }
}

/// A transparent source gets transparent bars.
#[test]
fn transparent_letterbox_bars_are_transparent() {
    let img = with_alpha(&photo(700, 560, 3, 0), circle_alpha(700, 560));
    let bytes = png(&img, png::ColorType::Rgba, png::BitDepth::Eight, &[]);
    let avatar = process(&Default::default(), &Upload::new(&bytes)).unwrap();
    let r = avatar.rendition(1024).unwrap();
    assert_eq!(r.format, Format::Png);
    let d = decode_rendition(r);
    // 700x560 on 700: 70-pixel bars; at 1024, ~102.
    for x in (0..1024).step_by(50) {
        assert_eq!(d.px(x, 20)[3], 0, "top bar at x={x}");
        assert_eq!(d.px(x, 1010)[3], 0, "bottom bar at x={x}");
    }
    assert_eq!(d.px(512, 512)[3], 255);
}

/// A crop box gives no bars and exactly the chosen region.
#[test]
fn crop_box_replaces_the_letterbox() {
    let bytes = fixture("photo_landscape_800x600.jpg");
    let upload = Upload::new(&bytes).with_crop(CropBox::new(100, 0, 600));
    let avatar = process(&Default::default(), &upload).unwrap();
    let d = decode_rendition(avatar.rendition(1024).unwrap());
    for (x, y) in [(512, 3), (512, 1020), (3, 512), (1020, 512)] {
        assert!(
            d.px(x, y)[..3].iter().any(|&c| c > 20),
            "({x},{y}) looks like a bar"
        );
    }
}

#[test]
fn crop_box_outside_the_image_is_invalid_arguments() {
    let bytes = fixture("photo_landscape_800x600.jpg");
    for c in [
        CropBox::new(201, 0, 600),
        CropBox::new(0, 0, 601),
        CropBox::new(0, 0, 0),
        CropBox::new(u32::MAX, u32::MAX, u32::MAX),
        CropBox::new(1, 1, u32::MAX - 1),
    ] {
        let e = process(&Default::default(), &Upload::new(&bytes).with_crop(c)).unwrap_err();
        assert_eq!(e.code(), "invalid_arguments", "{c:?}");
    }
    assert_eq!(
        CropBox::from_parts(Some(1), Some(2), None)
            .unwrap_err()
            .code(),
        "invalid_arguments"
    );
}

/// Where the picture of a `w`×`h` image lies on a `side`² rendition, as the README
/// documents it: the long side fills, the short side is scaled and rounded to the
/// nearest pixel, then centred with the odd bar pixel after it.
fn fitted(w: u32, h: u32, side: u32) -> (u32, u32, u32, u32) {
    let long = w.max(h);
    let scale = |v: u32| ((f64::from(v) * f64::from(side) / f64::from(long)).round() as u32).max(1);
    let (fw, fh) = (scale(w), scale(h));
    ((side - fw) / 2, (side - fh) / 2, fw, fh)
}

/// A flat grey 800x600 (one pixel at the centre 1/255 transparent, so the output is
/// PNG): at every size the bars are exactly alpha 0 and every picture pixel near the
/// edge is exactly the grey at alpha 255 — no filter ran across the edge.
#[test]
fn transparent_bars_are_exact_and_the_picture_edge_keeps_its_colour() {
    for (w, h) in [(800u32, 600u32), (600, 900), (777, 1000)] {
        let img = with_alpha(
            &crate::support::generate::Img::new(w, h, 3, |_, _| [128, 128, 128, 255]),
            |x, y| if (x, y) == (w / 2, h / 2) { 254 } else { 255 },
        );
        let bytes = png(&img, png::ColorType::Rgba, png::BitDepth::Eight, &[]);
        let avatar = process(&Default::default(), &Upload::new(&bytes)).unwrap();
        for r in &avatar.renditions {
            assert_eq!(r.format, Format::Png);
            let d = decode_rendition(r);
            let (fx, fy, fw, fh) = fitted(w, h, r.size);
            for y in 0..r.size {
                for x in 0..r.size {
                    let inside = (fx..fx + fw).contains(&x) && (fy..fy + fh).contains(&y);
                    let edge = inside
                        && (x < fx + 3 || x + 3 >= fx + fw || y < fy + 3 || y + 3 >= fy + fh);
                    let px = d.px(x, y);
                    if !inside {
                        assert_eq!(px, [0; 4], "{w}x{h} at {}: bar ({x},{y})", r.size);
                    } else if edge {
                        assert_eq!(
                            px,
                            [128, 128, 128, 255],
                            "{w}x{h} at {}: picture edge ({x},{y})",
                            r.size
                        );
                    }
                }
            }
        }
    }
}

/// Opaque output, before JPEG coding: bars exactly `background`, and the picture
/// (flat) exactly its colour right up to its edge, at every size.
#[cfg(feature = "benchmarks")]
#[test]
fn opaque_bars_are_exactly_the_background_before_encoding() {
    use avatar_engine::stages;
    let (w, h) = (1000u32, 531u32);
    let img = crate::support::generate::Img::new(w, h, 3, |_, _| [40, 200, 90, 255]);
    let bytes = png(&img, png::ColorType::Rgb, png::BitDepth::Eight, &[]);
    let policy = policy_with(|p| {
        p.background = [250, 10, 60];
        p.min_side = 1;
    });
    let (info, pixels) = stages::decode(&bytes).unwrap();
    let square = stages::compose(&pixels, &info, None, &policy).unwrap();
    let sizes = [1024, 1000, 512, 192, 72, 48, 32, 24, 7];
    let out = stages::resize_all(&square, &sizes, policy.filter, |r| Ok(r.clone()));
    for (r, &side) in out.into_iter().zip(&sizes) {
        let r = r.unwrap();
        let (fx, fy, fw, fh) = fitted(w, h, side);
        for (i, px) in r.data.chunks_exact(3).enumerate() {
            let (x, y) = (i as u32 % side, i as u32 / side);
            let inside = (fx..fx + fw).contains(&x) && (fy..fy + fh).contains(&y);
            let want: &[u8] = if inside {
                &[40, 200, 90]
            } else {
                &[250, 10, 60]
            };
            assert_eq!(px, want, "{side}: ({x},{y})");
        }
    }
}
