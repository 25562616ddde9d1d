//! Every refusal has its documented code: formats, types, sizes, frames, truncation.

use avatar_engine::{probe, process, Policy, Upload};

use crate::support::{fixture, policy_with, CODES};

fn code(policy: &Policy, bytes: &[u8]) -> &'static str {
    process(policy, &Upload::new(bytes)).map_or_else(|e| e.code(), |_| "ok")
}

#[test]
fn only_jpeg_png_gif_are_accepted() {
    for bytes in [
        &b""[..],
        b"RIFF\x24\0\0\0WEBPVP8 \x18\0\0\0",
        b"BM\x36\0\0\0\0\0\0\0\x36\0\0\0",
        b"II*\0\x08\0\0\0",
        b"<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"/>",
        b"%PDF-1.4\n",
        b"just some text",
        b"\xFF\xD8",
        b"\x89PNG\r\n",
    ] {
        assert_eq!(code(&Policy::default(), bytes), "bad_image", "{bytes:?}");
    }
}

#[test]
fn declared_content_type_must_match() {
    let png = fixture("png_rgb8_600x600.png");
    let with = |ct| process(&Policy::default(), &Upload::new(&png).with_content_type(ct));
    assert!(with("image/png").is_ok());
    for ct in [
        "image/svg+xml",
        "image/jpeg",
        "image/gif",
        "text/html",
        "application/octet-stream",
    ] {
        let e = with(ct).unwrap_err();
        assert_eq!(e.code(), "bad_image", "{ct}");
        assert!(e.detail().contains("image/png"), "{e}");
    }
}

#[test]
fn side_limits_are_inclusive() {
    let p = Policy::default();
    assert_eq!(code(&p, &fixture("size_512x512_min.jpg")), "ok");
    assert_eq!(code(&p, &fixture("size_1024x1024_max.jpg")), "ok");
    assert_eq!(
        code(&p, &fixture("size_511x700_too_small.jpg")),
        "too_small"
    );
    assert_eq!(
        code(&p, &fixture("size_1025x800_too_large.jpg")),
        "too_large"
    );
    // Limits apply to the displayed size: orientation fixtures are 640x512 shown.
    let narrow = policy_with(|p| p.max_side = 600);
    assert_eq!(code(&narrow, &fixture("orientation_6.jpg")), "too_large");
}

/// Headers claiming huge images on tiny files are refused from the header alone.
#[test]
fn huge_headers_are_too_large() {
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    png.extend_from_slice(&100_000u32.to_be_bytes());
    png.extend_from_slice(&100_000u32.to_be_bytes());
    png.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(code(&Policy::default(), &png), "too_large");
    let jpeg = b"\xFF\xD8\xFF\xC0\0\x0b\x08\xFF\xFF\xFF\xFF\x01\x01\x11\0";
    assert_eq!(code(&Policy::default(), jpeg), "too_large");
    let gif = b"GIF89a\xFF\xFF\xFF\xFF\0\0\0";
    assert_eq!(code(&Policy::default(), gif), "too_large");
    // With a loose side limit the memory budget still refuses it before decoding.
    let loose = policy_with(|p| p.max_side = 100_000);
    assert_eq!(code(&loose, &png), "too_large");
}

#[test]
fn input_byte_cap() {
    let p = policy_with(|p| p.max_input_bytes = 1000);
    let e = process(&p, &Upload::new(&fixture("photo_landscape_800x600.jpg"))).unwrap_err();
    assert_eq!(e.code(), "too_large");
    assert!(e.detail().contains("1000"));
}

#[test]
fn frame_limit() {
    let gif = fixture("gif_animated_3_frames_600x600.gif");
    assert_eq!(code(&policy_with(|p| p.max_frames = 3), &gif), "ok");
    assert_eq!(
        code(&policy_with(|p| p.max_frames = 2), &gif),
        "too_many_frames"
    );
    assert_eq!(probe(&gif).unwrap().frames, 3);
}

#[test]
fn unusable_policy_is_invalid_arguments() {
    let bytes = fixture("photo_landscape_800x600.jpg");
    assert_eq!(
        code(&policy_with(|p| p.sizes.clear()), &bytes),
        "invalid_arguments"
    );
    assert_eq!(
        code(&policy_with(|p| p.jpeg_quality = 0), &bytes),
        "invalid_arguments"
    );
}

/// Every fixture cut short anywhere after its signature is refused with a documented
/// code, and never rendered from invented data.
#[test]
fn truncated_files_are_refused() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
    let policy = Policy::default();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let n = bytes.len();
        let cuts: Vec<usize> = (1..40).map(|k| n * k / 40).chain([n - 1, n - 2]).collect();
        for cut in cuts {
            let c = code(&policy, &bytes[..cut]);
            assert!(
                c != "ok" && CODES.contains(&c),
                "{} cut at {cut}/{n}: {c}",
                path.display()
            );
        }
    }
}

/// A GIF whose only frame claims 65535x65535 on a 600x600 screen: the frame is never
/// trusted for allocation (the decoder's memory limit refuses it).
#[test]
fn gif_frame_larger_than_screen_is_refused_not_allocated() {
    let gif = |left: u16, w: u16, h: u16| {
        let mut g = b"GIF89a".to_vec();
        g.extend_from_slice(&600u16.to_le_bytes());
        g.extend_from_slice(&600u16.to_le_bytes());
        g.extend_from_slice(&[0x80, 0, 0, 0, 0, 0, 255, 255, 255]);
        g.push(0x2C);
        for v in [left, 0, w, h] {
            g.extend_from_slice(&v.to_le_bytes());
        }
        g.extend_from_slice(&[0, 2, 2, 0x44, 0x01, 0, 0x3B]);
        g
    };
    assert_eq!(code(&Policy::default(), &gif(0, 65535, 65535)), "bad_image");
    // A frame wholly outside the screen draws nothing: the result is a transparent
    // square or a decode error, never a panic or an out-of-screen write.
    let c = code(&Policy::default(), &gif(60000, 10, 10));
    assert!(c == "ok" || c == "bad_image", "{c}");
}

/// A palette PNG whose `PLTE` is not whole 3-byte entries (here 50 bytes: 16 entries
/// and 2 stray bytes, every CRC valid) made the `png` crate panic inside its palette
/// expansion, and the engine answer `internal_error`; found by `fuzz/run.sh process`.
/// The PNG spec calls such a chunk an error and libpng refuses it: `bad_image`, named.
/// Same for a palette of more than 256 entries and an empty one.
#[test]
fn a_palette_that_is_not_whole_entries_is_bad_image() {
    use crate::support::generate;
    let (w, h) = (512u32, 512u32);
    let indices: Vec<u8> = (0..w * h).map(|i| (i % 17) as u8).collect();
    let palette: Vec<u8> = (0..17u8).flat_map(|i| [i * 15, 255 - i * 15, i]).collect();
    let file = generate::png_with(
        w,
        h,
        png::ColorType::Indexed,
        png::BitDepth::Eight,
        &indices,
        Some(&palette),
        None,
        &[],
    );
    assert_eq!(code(&Policy::default(), &file), "ok");
    // Rewrites the PLTE chunk's data (its CRC recomputed).
    let with_plte = |data: &[u8]| {
        let at = file.windows(4).position(|w| w == b"PLTE").unwrap() - 4;
        let len = u32::from_be_bytes(file[at..at + 4].try_into().unwrap()) as usize;
        let mut out = file[..at].to_vec();
        generate::png_chunk(&mut out, b"PLTE", data);
        out.extend_from_slice(&file[at + 12 + len..]);
        out
    };
    for (data, what) in [
        (&palette[..50], "50 bytes"),
        (&[][..], "0 bytes"),
        (&[7u8; 771][..], "771 bytes"),
    ] {
        let bad = with_plte(data);
        let e = process(&Policy::default(), &Upload::new(&bad)).unwrap_err();
        assert_eq!(e.code(), "bad_image", "{what}: {e}");
        assert!(e.to_string().contains("PLTE"), "{what}: {e}");
    }
}

/// Each policy limit crossed is named by [`Error::limit`] under its Slack code, so
/// a server can tell bytes (413) from sides without reading the detail; shape faults
/// name no limit.
#[test]
fn every_limit_is_matchable() {
    use avatar_engine::Limit;
    let photo = fixture("photo_landscape_800x600.jpg");
    let limit = |policy: &Policy, bytes: &[u8]| {
        let e = process(policy, &Upload::new(bytes)).unwrap_err();
        (e.code(), e.limit())
    };
    let cases = [
        (
            policy_with(|p| p.max_input_bytes = 1000),
            &photo,
            "too_large",
            Limit::InputBytes,
        ),
        (
            policy_with(|p| p.max_side = 700),
            &photo,
            "too_large",
            Limit::Side,
        ),
        (
            policy_with(|p| p.min_side = 700),
            &photo,
            "too_small",
            Limit::Side,
        ),
        (
            policy_with(|p| p.max_alloc = 1 << 20),
            &photo,
            "too_large",
            Limit::Memory,
        ),
        (
            policy_with(|p| p.max_output_bytes = 1000),
            &photo,
            "too_large",
            Limit::OutputBytes,
        ),
    ];
    for (policy, bytes, code, want) in &cases {
        assert_eq!(limit(policy, bytes), (*code, Some(*want)));
    }
    let gif = fixture("gif_animated_3_frames_600x600.gif");
    assert_eq!(
        limit(&policy_with(|p| p.max_frames = 2), &gif),
        ("too_many_frames", Some(Limit::Frames))
    );
    assert_eq!(limit(&Policy::default(), b"nope"), ("bad_image", None));
}

/// A codec's own error is the rejection's `source()`, not only words in the detail.
#[test]
fn codec_errors_are_the_source() {
    use std::error::Error;
    let gif = fixture("gif_animated_3_frames_600x600.gif");
    // Cut inside the second frame's data: the gif crate's error.
    let cut = &gif[..gif.len() * 2 / 3];
    let e = process(&Policy::default(), &Upload::new(cut)).unwrap_err();
    assert_eq!(e.code(), "bad_image", "{e}");
    let source = e.source().unwrap_or_else(|| panic!("no source: {e}"));
    assert!(
        source.downcast_ref::<gif::DecodingError>().is_some(),
        "{source:?}"
    );
    assert!(
        e.to_string().contains(&source.to_string()),
        "{e} / {source}"
    );
}

/// The names before 0.2 still compile and mean the same types.
#[test]
#[allow(deprecated)]
fn the_old_names_are_aliases() {
    let e: avatar_engine::Rejection =
        process(&Policy::default(), &Upload::new(b"nope")).unwrap_err();
    assert_eq!(e.kind(), avatar_engine::RejectionKind::BadImage);
    assert_eq!(e.code(), "bad_image");
}
