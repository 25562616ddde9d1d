//! Renditions carry no metadata: checked on the bytes.

use avatar_engine::Format;

use crate::support::render;

/// Every JPEG marker in `jpeg` up to the first SOS.
fn jpeg_markers(jpeg: &[u8]) -> Vec<u8> {
    assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
    let mut markers = vec![];
    let mut pos = 2;
    while pos + 4 <= jpeg.len() {
        assert_eq!(jpeg[pos], 0xFF, "marker expected at {pos}");
        let m = jpeg[pos + 1];
        markers.push(m);
        if m == 0xDA {
            break;
        }
        pos += 2 + usize::from(u16::from_be_bytes([jpeg[pos + 2], jpeg[pos + 3]]));
    }
    markers
}

fn png_chunks(png: &[u8]) -> Vec<[u8; 4]> {
    let mut chunks = vec![];
    let mut pos = 8;
    while pos + 8 <= png.len() {
        let len = u32::from_be_bytes(png[pos..pos + 4].try_into().unwrap()) as usize;
        chunks.push(png[pos + 4..pos + 8].try_into().unwrap());
        pos += 12 + len;
    }
    chunks
}

#[test]
fn no_exif_gps_comments_or_text_survive() {
    for name in [
        "jpeg_exif_gps_comment_640x640.jpg",
        "png_exif_orientation6_text_600x520.png",
        "orientation_6.jpg",
        "png_rgba8_circle_600x600.png",
    ] {
        for r in &render(name).renditions {
            for needle in [
                &b"Exif"[..],
                b"GenCamera",
                b"avatar-engine",
                b"Baker",
                b"secret",
                b"GPS",
            ] {
                assert!(
                    !r.bytes.windows(needle.len()).any(|w| w == needle),
                    "{name} {}: found {needle:?}",
                    r.size
                );
            }
            match r.format {
                Format::Jpeg => {
                    for m in jpeg_markers(&r.bytes) {
                        // APP0 (JFIF) only; no APP1..APP15, no COM.
                        assert!(
                            !(0xE1..=0xEF).contains(&m) && m != 0xFE,
                            "{name} {}: marker {m:02X}",
                            r.size
                        );
                    }
                }
                _ => {
                    for c in png_chunks(&r.bytes) {
                        assert!(
                            [*b"IHDR", *b"PLTE", *b"tRNS", *b"IDAT", *b"IEND"].contains(&c),
                            "{name} {}: chunk {}",
                            r.size,
                            String::from_utf8_lossy(&c)
                        );
                    }
                }
            }
        }
    }
}
