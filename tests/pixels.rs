//! Pixels in: `process_pixels` renders already-decoded RGB/RGBA exactly as `process`
//! renders the same pixels decoded from a file, under the same checks.

use avatar_engine::{process, process_pixels, CropBox, Format, Policy, RawImage, Upload};

use crate::support::{decode_rendition, generate, policy_with};

#[test]
fn pixels_render_as_the_same_pixels_from_a_file() {
    let img = generate::photo(700, 600, 3, 40);
    let png = generate::png(&img, png::ColorType::Rgb, png::BitDepth::Eight, &[]);
    let raw = RawImage::rgb8(700, 600, &img.data).unwrap();
    for crop in [None, Some(CropBox::new(50, 40, 560))] {
        let mut upload = Upload::new(&png);
        upload.crop = crop;
        let from_file = process(&Policy::default(), &upload).unwrap().renditions;
        let from_pixels = process_pixels(&Policy::default(), &raw, crop, None).unwrap();
        assert_eq!(from_pixels, from_file, "crop {crop:?}");
        assert!(from_pixels.iter().all(|r| r.format == Format::Jpeg));
    }
}

#[test]
fn transparent_pixels_give_png_with_their_alpha() {
    let (w, h) = (600u32, 600u32);
    // Opaque red, with a fully transparent left half.
    let rgba: Vec<u8> = (0..w * h)
        .flat_map(|i| {
            if i % w < w / 2 {
                [0, 0, 0, 0]
            } else {
                [255, 0, 0, 255]
            }
        })
        .collect();
    let raw = RawImage::rgba8(w, h, &rgba).unwrap();
    let out = process_pixels(&policy_with(|p| p.sizes = vec![64]), &raw, None, None).unwrap();
    assert_eq!(out[0].format, Format::Png);
    let d = decode_rendition(&out[0]);
    let at = |x: usize, y: usize| &d.rgba[(y * 64 + x) * 4..(y * 64 + x) * 4 + 4];
    assert_eq!(at(2, 32), [0, 0, 0, 0]);
    assert_eq!(at(60, 32), [255, 0, 0, 255]);
}

#[test]
fn pixels_meet_the_same_checks() {
    let grey = vec![90u8; 300 * 300 * 3];
    let small = RawImage::rgb8(300, 300, &grey).unwrap();
    let e = process_pixels(&Policy::default(), &small, None, None).unwrap_err();
    assert_eq!(e.code(), "too_small");
    let big = vec![0u8; 2000 * 600 * 3];
    let wide = RawImage::rgb8(2000, 600, &big).unwrap();
    let e = process_pixels(&Policy::default(), &wide, None, None).unwrap_err();
    assert_eq!(e.code(), "too_large");
    assert_eq!(
        RawImage::rgb8(10, 10, &grey).unwrap_err().code(),
        "invalid_arguments"
    );
    assert_eq!(
        RawImage::rgba8(300, 300, &grey).unwrap_err().code(),
        "invalid_arguments"
    );
    let ok = vec![90u8; 600 * 600 * 3];
    let raw = RawImage::rgb8(600, 600, &ok).unwrap();
    let e = process_pixels(
        &Policy::default(),
        &raw,
        Some(CropBox::new(100, 100, 600)),
        None,
    )
    .unwrap_err();
    assert_eq!(e.code(), "invalid_arguments");
}
