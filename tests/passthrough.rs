//! A 1024² baseline JPEG needing no pixel change keeps its own coded data at 1024.

use avatar_engine::{process, CropBox, Format, Policy, Upload};

use crate::support::generate::{exif_app1, insert_segments, jpeg, photo};
use crate::support::{decode, policy_with, render_with};

/// The bytes from the first SOS marker on (scan header, entropy-coded data, EOI),
/// found by walking the marker segments before it.
fn from_first_scan(jpeg: &[u8]) -> &[u8] {
    let mut pos = 2;
    while jpeg[pos + 1] != 0xDA {
        assert_eq!(jpeg[pos], 0xFF, "marker expected at {pos}");
        pos += 2 + usize::from(u16::from_be_bytes([jpeg[pos + 2], jpeg[pos + 3]]));
    }
    &jpeg[pos..]
}

/// A 1024² baseline photo with an EXIF block (GPS included) and a comment.
fn tagged_source(quality: u8, orientation: u16) -> Vec<u8> {
    insert_segments(
        &jpeg(&photo(1024, 1024, 9, 12), quality, |_| {}),
        &[
            exif_app1(Some(orientation), true),
            (0xFE, b"secret comment".to_vec()),
        ],
    )
}

fn rendition_1024(policy: &Policy, upload: &Upload<'_>) -> Vec<u8> {
    let avatar = process(policy, upload).unwrap();
    let r = avatar.rendition(1024).unwrap();
    assert_eq!(r.format, Format::Jpeg);
    r.bytes.clone()
}

#[test]
fn unchanged_1024_jpeg_keeps_its_coded_data_without_metadata() {
    let src = tagged_source(80, 1);
    let out = rendition_1024(&Policy::default(), &Upload::new(&src));
    // Same scans, byte for byte, and so the same pixels: no generation loss.
    assert!(
        from_first_scan(&out) == from_first_scan(&src),
        "scan data differs"
    );
    assert!(src.len() < 200_000, "{}", src.len());
    let (a, b) = (decode(&out, Format::Jpeg), decode(&src, Format::Jpeg));
    assert!(a.rgba == b.rgba);
    for needle in [&b"Exif"[..], b"GPS", b"secret"] {
        assert!(!out.windows(needle.len()).any(|w| w == needle));
    }
    // A crop box covering the whole image changes nothing either.
    let whole = Upload::new(&src).with_crop(CropBox::new(0, 0, 1024));
    assert_eq!(rendition_1024(&Policy::default(), &whole), out);
}

#[test]
fn anything_that_changes_pixels_or_is_switched_off_is_re_encoded() {
    let src = tagged_source(80, 1);
    let re_encoded = |policy: &Policy, upload: &Upload<'_>| {
        let out = rendition_1024(policy, upload);
        assert_ne!(from_first_scan(&out), from_first_scan(&src));
        out
    };
    re_encoded(
        &policy_with(|p| p.jpeg_passthrough = false),
        &Upload::new(&src),
    );
    re_encoded(
        &Policy::default(),
        &Upload::new(&src).with_crop(CropBox::new(1, 0, 1023)),
    );
    // Shown rotated: the pixels move.
    let rotated = tagged_source(80, 6);
    let out = rendition_1024(&Policy::default(), &Upload::new(&rotated));
    assert_ne!(from_first_scan(&out), from_first_scan(&rotated));
    // Progressive: re-encoded as the baseline every rendition is.
    let progressive = jpeg(&photo(1024, 1024, 9, 12), 80, |e| e.set_progressive(true));
    let out = rendition_1024(&Policy::default(), &Upload::new(&progressive));
    assert_eq!(&out[out.len() - 2..], &[0xFF, 0xD9]);
    assert_ne!(from_first_scan(&out), from_first_scan(&progressive));
}

#[test]
fn near_lossless_sources_are_re_encoded_smaller() {
    let src = jpeg(&photo(1024, 1024, 9, 40), 100, |_| {});
    assert!(src.len() as u64 * 8 > avatar_engine::MAX_PASSTHROUGH_BITS_PER_PIXEL * 1024 * 1024);
    let avatar = render_with(&Policy::default(), &src);
    let out = &avatar.rendition(1024).unwrap().bytes;
    assert!(out.len() < src.len() / 2, "{} vs {}", out.len(), src.len());
}

/// Bytes hidden in the scan where no decoder reads them are not served. After the
/// last coded block, before EOI (an HTML payload placed there came back verbatim
/// before): the kept rendition is the clean file's, byte for byte. Before a restart
/// marker (which the spec does not allow, and our decoder leaves to zune-jpeg): the
/// rendition is re-encoded, so nothing of the payload survives either.
#[test]
fn bytes_no_decoder_reads_are_not_passed_through() {
    let payload = b"<script>alert(1)</script>";
    let served = |file: &[u8]| rendition_1024(&Policy::default(), &Upload::new(file));
    let has_script = |b: &[u8]| b.windows(7).any(|w| w == b"<script");
    for restart in [0u16, 3] {
        let clean = jpeg(&photo(1024, 1024, 9, 12), 80, |e| {
            if restart > 0 {
                e.set_restart_interval(restart);
            }
        });
        let mut before_eoi = clean.clone();
        let eoi = before_eoi.len() - 2;
        before_eoi.splice(eoi..eoi, payload.iter().copied());
        let kept = served(&before_eoi);
        assert!(
            !has_script(&kept),
            "restart {restart}: the payload was served"
        );
        assert_eq!(kept, served(&clean), "restart {restart}");
        assert_eq!(
            from_first_scan(&kept),
            from_first_scan(&clean),
            "restart {restart}: the clean file's scan, as coded"
        );
        if restart > 0 {
            let mut before_rst = clean.clone();
            let scan = before_rst.len() - from_first_scan(&before_rst).len();
            let rst = scan
                + before_rst[scan..]
                    .windows(2)
                    .position(|w| w == [0xFF, 0xD0])
                    .unwrap();
            before_rst.splice(rst..rst, payload.iter().chain(&[0xFF, 0xFF]).copied());
            assert!(!has_script(&served(&before_rst)));
        }
    }
}
