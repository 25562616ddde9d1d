//! The `image` feature: `DynamicImage` in, and renditions handed back as `image`
//! buffers, agreeing with what the byte-level API gives for the same pixels.

use avatar_engine::{
    process, process_image, process_pixels, render_image, render_images, CropBox, Format, Policy,
    RawImage, Upload,
};
use image::{DynamicImage, GrayImage, Rgb32FImage, RgbImage, RgbaImage};

use crate::support::{decode_rendition, generate, policy_with};

fn photo() -> RgbImage {
    let img = generate::photo(700, 600, 3, 40);
    RgbImage::from_raw(700, 600, img.data).unwrap()
}

#[test]
fn a_dynamic_image_renders_as_its_raw_pixels_do() {
    let rgb = photo();
    let policy = Policy::default();
    let raw = RawImage::rgb8(700, 600, rgb.as_raw()).unwrap();
    let want = process_pixels(&policy, &raw, None, None).unwrap();
    let got = process_image(&policy, &DynamicImage::ImageRgb8(rgb.clone()), None, None).unwrap();
    assert!(got == want, "RGB8 in place");
    // Other layouts are converted: 32-bit float RGB of the same values gives the same.
    let float = DynamicImage::ImageRgb8(rgb).to_rgb32f();
    let got = process_image(&policy, &Rgb32FImage::into(float), None, None).unwrap();
    assert!(got == want, "RGB32F converted");
    // Gray without alpha stays opaque (JPEG); RGBA with transparency gives PNG.
    let gray = GrayImage::from_fn(600, 600, |x, _| image::Luma([x as u8]));
    let got = process_image(&policy, &gray.into(), None, None).unwrap();
    assert!(got.iter().all(|r| r.format == Format::Jpeg));
    let disc = RgbaImage::from_fn(600, 600, |x, y| {
        let inside = (x as i32 - 300).pow(2) + (y as i32 - 300).pow(2) < 250 * 250;
        image::Rgba([200, 40, 40, if inside { 255 } else { 0 }])
    });
    let got = process_image(&policy, &disc.into(), Some(CropBox::new(0, 0, 600)), None).unwrap();
    assert!(got.iter().all(|r| r.format == Format::Png));
}

#[test]
fn renditions_come_back_as_the_pixels_the_encoders_were_given() {
    let bytes = std::fs::read("testdata/photo_landscape_800x600.jpg").unwrap();
    let policy = policy_with(|p| p.jpeg_passthrough = false);
    let upload = Upload::new(&bytes);
    let images = render_images(&policy, &upload).unwrap();
    let files = process(&policy, &upload).unwrap();
    assert_eq!(images.len(), files.renditions.len());
    for (image, file) in images.iter().zip(&files.renditions) {
        assert_eq!(image.size, file.size);
        let rgb = image.image.as_rgb8().expect("an opaque source gives RGB8");
        assert_eq!(rgb.dimensions(), (file.size, file.size));
        // The file is the JPEG (q85) of these pixels: close, not equal (misplaced or
        // wrongly resized pixels differ by tens of levels on this noisy photo).
        let decoded = decode_rendition(file);
        let rgb_of_file = decoded.rgba.chunks_exact(4).flat_map(|p| &p[..3]);
        let diff: f64 = rgb_of_file
            .zip(rgb.as_raw())
            .map(|(&a, &b)| f64::from(a.abs_diff(b)))
            .sum::<f64>()
            / rgb.as_raw().len() as f64;
        assert!(diff < 8.0, "{}: mean difference {diff}", file.size);
    }
    // Letterboxed: the bars are exactly the background, before any encoder.
    let big = &images[0].image.as_rgb8().unwrap();
    assert_eq!(big.get_pixel(512, 10).0, [0, 0, 0]);
    // Pixels in and out: a transparent disc comes back RGBA with its corners clear.
    let disc = RgbaImage::from_fn(600, 600, |x, y| {
        let inside = (x as i32 - 300).pow(2) + (y as i32 - 300).pow(2) < 250 * 250;
        image::Rgba([200, 40, 40, if inside { 255 } else { 0 }])
    });
    let out = render_image(&Policy::default(), &disc.into(), None, None).unwrap();
    for r in &out {
        let rgba = r
            .image
            .as_rgba8()
            .expect("a transparent source gives RGBA8");
        assert_eq!(rgba.get_pixel(0, 0).0[3], 0, "{}", r.size);
        let c = r.size / 2;
        assert_eq!(rgba.get_pixel(c, c).0, [200, 40, 40, 255], "{}", r.size);
    }
}

#[test]
fn image_buffers_meet_the_same_checks() {
    let tiny = RgbImage::new(100, 100);
    let e = process_image(&Policy::default(), &tiny.clone().into(), None, None).unwrap_err();
    assert_eq!(e.code(), "too_small");
    let e = render_image(&Policy::default(), &tiny.into(), None, None).unwrap_err();
    assert_eq!(e.code(), "too_small");
    let e = render_images(&Policy::default(), &Upload::new(b"GIF89a")).unwrap_err();
    assert_eq!(e.code(), "bad_image");
}
