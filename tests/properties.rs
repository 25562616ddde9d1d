//! Property tests: no input panics; every valid request gives exact sizes.

use avatar_engine::{process, CropBox, Policy, Upload};
use proptest::prelude::*;

use crate::support::generate::{photo, png, with_alpha};
use crate::support::{decode_rendition, fixture, CODES};

fn tiny_policy(sizes: Vec<u32>) -> Policy {
    let mut p = Policy::default();
    p.min_side = 1;
    p.max_side = 96;
    p.sizes = sizes;
    p
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Arbitrary bytes, with and without a valid magic prefix, never panic and
    /// answer with a documented code.
    #[test]
    fn arbitrary_bytes_never_panic(prefix in 0usize..4, body in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let magic: &[u8] = [&b""[..], b"\xFF\xD8\xFF", b"\x89PNG\r\n\x1a\n", b"GIF89a"][prefix];
        let bytes = [magic, &body].concat();
        if let Err(e) = process(&tiny_policy(vec![16]), &Upload::new(&bytes)) {
            prop_assert!(CODES.contains(&e.code()));
        }
        let _ = avatar_engine::probe(&bytes);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Corrupting bytes of real fixtures never panics.
    #[test]
    fn corrupted_fixtures_never_panic(
        which in 0usize..4,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let name = ["size_512x512_min.jpg", "png_palette_trns_600x600.png",
                    "gif_animated_3_frames_600x600.gif", "jpeg_progressive_700x700.jpg"][which];
        let mut bytes = fixture(name);
        for (at, value) in edits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        let mut policy = Policy::default();
        policy.sizes = vec![32];
        if let Err(e) = process(&policy, &Upload::new(&bytes)) {
            prop_assert!(CODES.contains(&e.code()), "{}", e);
        }
    }

    /// For random image sizes, rendition sizes and crop boxes, every rendition is
    /// exactly size×size, and a crop is refused exactly when it does not fit.
    #[test]
    fn every_rendition_is_exactly_its_size(
        w in 1u32..96, h in 1u32..96, alpha in any::<bool>(),
        sizes in proptest::collection::btree_set(1u32..200, 1..5),
        crop in proptest::option::of((0u32..100, 0u32..100, 0u32..100)),
    ) {
        let img = photo(w, h, w * 31 + h, 0);
        let bytes = if alpha {
            png(&with_alpha(&img, |x, _| if x == 0 { 0 } else { 255 }), png::ColorType::Rgba, png::BitDepth::Eight, &[])
        } else {
            png(&img, png::ColorType::Rgb, png::BitDepth::Eight, &[])
        };
        let sizes: Vec<u32> = sizes.into_iter().rev().collect();
        let mut upload = Upload::new(&bytes);
        upload.crop = crop.map(|(x, y, s)| CropBox::new(x, y, s));
        let fits = crop.is_none_or(|(x, y, s)| s >= 1 && x + s <= w && y + s <= h);
        match process(&tiny_policy(sizes.clone()), &upload) {
            Ok(avatar) => {
                prop_assert!(fits);
                prop_assert_eq!(avatar.renditions.len(), sizes.len());
                for (r, s) in avatar.renditions.iter().zip(&sizes) {
                    prop_assert_eq!(r.size, *s);
                    decode_rendition(r);
                }
            }
            Err(e) => {
                prop_assert!(!fits, "{}", e);
                prop_assert_eq!(e.code(), "invalid_arguments");
            }
        }
    }
}
