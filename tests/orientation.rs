//! EXIF orientation is applied before anything else, checked on pixels.

use avatar_engine::{probe, CropBox, Orientation, Upload};

use crate::support::generate::QUADRANTS;
use crate::support::{decode_rendition, fixture, near, render};

/// Displayed picture: 640x512 quadrants with a white bar at the top-left. Letterboxed
/// to 640x640 (64-pixel bars above and below), shown at 1024 (scale 1.6).
#[test]
fn all_eight_orientations_display_the_same_picture() {
    let at = |x: u32, y: u32| (x * 1024 / 640, (y + 64) * 1024 / 640);
    for o in 1..=8u16 {
        let name = format!("orientation_{o}.jpg");
        let info = probe(&fixture(&name)).unwrap();
        assert_eq!(info.orientation, Orientation::from_exif(o).unwrap());
        assert_eq!(
            (info.width, info.height),
            (640, 512),
            "{name} displayed size"
        );
        let d = decode_rendition(render(&name).rendition(1024).unwrap());
        for (i, (x, y)) in [(160, 128), (480, 128), (160, 384), (480, 384)]
            .into_iter()
            .enumerate()
        {
            let (ox, oy) = at(x, y);
            assert!(
                near(&d.px(ox, oy)[..3], &QUADRANTS[i], 30),
                "{name}: quadrant {i} is {:?}",
                d.px(ox, oy)
            );
        }
        let (mx, my) = at(80, 10);
        assert!(
            near(&d.px(mx, my)[..3], &[255, 255, 255], 40),
            "{name}: marker bar missing"
        );
        let (bx, by) = at(480, 10);
        assert!(
            near(&d.px(bx, by)[..3], &QUADRANTS[1], 30),
            "{name}: marker bar on the wrong side"
        );
        // Bars: above and below the picture.
        assert!(near(&d.px(512, 40)[..3], &[0, 0, 0], 12), "{name}: top bar");
        assert!(
            near(&d.px(512, 1000)[..3], &[0, 0, 0], 12),
            "{name}: bottom bar"
        );
    }
}

/// PNG eXIf orientation is honoured too.
#[test]
fn png_exif_orientation_is_applied() {
    let name = "png_exif_orientation6_text_600x520.png";
    let info = probe(&fixture(name)).unwrap();
    assert_eq!(
        (
            info.stored_width,
            info.stored_height,
            info.width,
            info.height
        ),
        (520, 600, 600, 520)
    );
    let d = decode_rendition(render(name).rendition(1024).unwrap());
    // 600x520 letterboxed to 600x600 (40-pixel bars), shown at 1024.
    let at = |x: u32, y: u32| (x * 1024 / 600, (y + 40) * 1024 / 600);
    for (i, (x, y)) in [(150, 130), (450, 130), (150, 390), (450, 390)]
        .into_iter()
        .enumerate()
    {
        let (ox, oy) = at(x, y);
        assert!(
            near(&d.px(ox, oy)[..3], &QUADRANTS[i], 30),
            "quadrant {i} is {:?}",
            d.px(ox, oy)
        );
    }
}

/// The crop box is in displayed coordinates: the same box picks the same (green,
/// top-right) quadrant whatever the stored orientation.
#[test]
fn crop_box_refers_to_the_displayed_image() {
    for o in [1, 3, 6, 8] {
        let bytes = fixture(&format!("orientation_{o}.jpg"));
        let upload = Upload::new(&bytes).with_crop(CropBox::new(352, 0, 256));
        let avatar = avatar_engine::process(&Default::default(), &upload).unwrap();
        let d = decode_rendition(avatar.rendition(512).unwrap());
        for (x, y) in [(50, 100), (256, 256), (460, 460), (100, 500)] {
            assert!(
                near(&d.px(x, y)[..3], &QUADRANTS[1], 30),
                "orientation {o}: ({x},{y}) is {:?}",
                d.px(x, y)
            );
        }
    }
}
