//! The encoder checked from outside: files decoded by two independent decoders
//! (jpeg-decoder and zune-jpeg), quality and size held against jpeg-encoder writing the
//! same format, every edge size, strips against one pass.

use super::*;

/// A 600² crop of the generated landscape photo, RGB.
fn photo() -> Square {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/photo_landscape_800x600.jpg"
    );
    let bytes = std::fs::read(path).unwrap();
    let mut decoder = jpeg_decoder::Decoder::new(&bytes[..]);
    let rgb = decoder.decode().unwrap();
    let data = rgb
        .chunks_exact(800 * 3)
        .flat_map(|row| &row[100 * 3..700 * 3])
        .copied()
        .collect();
    Square::new(600, 3, data)
}

/// Smooth ramps and a sharp-edged checker, `channels` 3 or 4.
fn synthetic(side: u32, channels: usize) -> Square {
    let mut data = Vec::new();
    for y in 0..side {
        for x in 0..side {
            let check = if (x / 7 + y / 5) % 2 == 0 { 0 } else { 90 };
            data.extend_from_slice(
                &[
                    (x * 255 / side) as u8,
                    (y * 255 / side) as u8,
                    (check + (x ^ y) % 100) as u8,
                    (x + y) as u8,
                ][..channels],
            );
        }
    }
    Square::new(side, channels, data)
}

fn decode_both(jpeg: &[u8], side: u32) -> [Vec<u8>; 2] {
    let mut d = jpeg_decoder::Decoder::new(jpeg);
    let a = d.decode().unwrap();
    let info = d.info().unwrap();
    assert_eq!(
        (u32::from(info.width), u32::from(info.height)),
        (side, side)
    );
    let options = zune_core::options::DecoderOptions::default()
        .jpeg_set_out_colorspace(zune_core::colorspace::ColorSpace::RGB);
    let b = zune_jpeg::JpegDecoder::new_with_options(
        zune_core::bytestream::ZCursor::new(jpeg),
        options,
    )
    .decode()
    .unwrap();
    [a, b]
}

/// PSNR in dB of `decoded` RGB against the RGB (or RGB of RGBA) of `sq`.
fn psnr(sq: &Square, decoded: &[u8]) -> f64 {
    let source = sq.data.chunks_exact(sq.channels).flat_map(|p| &p[..3]);
    let (sum, n) = source.zip(decoded).fold((0.0, 0usize), |(s, n), (&a, &b)| {
        (s + (f64::from(a) - f64::from(b)).powi(2), n + 1)
    });
    assert_eq!(n, decoded.len());
    10.0 * (255.0f64 * 255.0 / (sum / n as f64).max(1e-9)).log10()
}

/// jpeg-encoder writing the same format: 4:2:0, averaged chroma, standard tables.
fn reference(sq: &Square, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = jpeg_encoder::Encoder::new(&mut out, quality);
    enc.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
    enc.set_chroma_subsampling_method(jpeg_encoder::ChromaSubsamplingMethod::Average);
    let color = match sq.channels {
        3 => jpeg_encoder::ColorType::Rgb,
        _ => jpeg_encoder::ColorType::Rgba,
    };
    enc.encode(&sq.data, sq.side as u16, sq.side as u16, color)
        .unwrap();
    out
}

/// Our PSNR through each decoder is within `slack` dB of jpeg-encoder's file through
/// the same decoder.
fn as_good_as_reference(sq: &Square, quality: u8, slack: f64) {
    let ours = decode_both(&encode(sq, quality).unwrap(), sq.side);
    let theirs = decode_both(&reference(sq, quality), sq.side);
    for (decoder, (a, b)) in ["jpeg-decoder", "zune-jpeg"]
        .iter()
        .zip(ours.iter().zip(&theirs))
    {
        let (a, b) = (psnr(sq, a), psnr(sq, b));
        assert!(
            a >= b - slack,
            "{}² × {} q{quality} via {decoder}: {a:.2} vs {b:.2} dB",
            sq.side,
            sq.channels
        );
    }
}

#[test]
fn a_photo_matches_jpeg_encoder_in_quality_and_size() {
    let sq = photo();
    for quality in [50, 85, 95] {
        let ours = encode(&sq, quality).unwrap();
        let theirs = reference(&sq, quality);
        let [a, b] = decode_both(&ours, 600);
        let [ra, _] = decode_both(&theirs, 600);
        let (ours_db, theirs_db) = (psnr(&sq, &a), psnr(&sq, &ra));
        assert!(
            ours_db >= theirs_db - 0.1,
            "q{quality}: {ours_db:.2} vs {theirs_db:.2} dB"
        );
        let [_, rb] = decode_both(&theirs, 600);
        let (ours_db, theirs_db) = (psnr(&sq, &b), psnr(&sq, &rb));
        assert!(
            ours_db >= theirs_db - 0.1,
            "q{quality} zune-jpeg: {ours_db:.2} vs {theirs_db:.2}"
        );
        assert!(
            ours.len() <= theirs.len() * 102 / 100,
            "q{quality}: {} vs {} bytes",
            ours.len(),
            theirs.len()
        );
        // Same tables, same quality scaling: same DQT payload.
        let dqt = |f: &[u8]| f.windows(4).position(|w| w == [0xFF, 0xDB, 0x00, 132]);
        let (i, j) = (dqt(&ours).unwrap(), dqt(&theirs).map(|j| j + 4));
        if let Some(j) = j {
            assert_eq!(ours[i + 4..i + 4 + 130], theirs[j..j + 130]);
        }
    }
}

#[test]
fn every_edge_size_and_both_layouts_decode_as_well_as_the_reference() {
    for side in (1..=18).chain([23, 24, 31, 33, 72, 257]) {
        for channels in [3, 4] {
            // A misplaced block or wrong edge padding costs whole decibels.
            as_good_as_reference(&synthetic(side, channels), 90, 0.5);
        }
    }
}

/// Up to [`FULL_CHROMA_MAX_SIDE`] the chroma is not subsampled: columns alternating
/// red and blue one pixel apart come back red and blue (4:2:0 makes them all purple).
/// Larger squares are 4:2:0, as the SOF0 sampling factors say.
#[test]
fn small_squares_keep_every_pixel_colour() {
    let luma_sampling = |jpeg: &[u8]| {
        let sof = jpeg.windows(2).position(|w| w == [0xFF, SOF0]).unwrap();
        jpeg[sof + 11]
    };
    for side in [8, 24, FULL_CHROMA_MAX_SIDE] {
        let data = (0..side * side)
            .flat_map(|i| {
                if i % 2 == 0 {
                    [230, 20, 20]
                } else {
                    [20, 20, 230]
                }
            })
            .collect();
        let sq = Square::new(side, 3, data);
        let jpeg = encode(&sq, 90).unwrap();
        assert_eq!(luma_sampling(&jpeg), 0x11, "side {side}");
        for decoded in decode_both(&jpeg, side) {
            for (px, want) in decoded.chunks_exact(3).zip(sq.data.chunks_exact(3)) {
                assert!(
                    px[0].abs_diff(want[0]) <= 40 && px[2].abs_diff(want[2]) <= 40,
                    "side {side}: {px:?} for {want:?}"
                );
            }
        }
    }
    let larger = encode(&synthetic(FULL_CHROMA_MAX_SIDE + 1, 3), 90).unwrap();
    assert_eq!(luma_sampling(&larger), 0x22);
}

#[test]
fn flat_images_at_the_extremes_of_quality_and_value() {
    for value in [0u8, 255] {
        for quality in [1, 100] {
            let sq = Square::new(40, 3, vec![value; 40 * 40 * 3]);
            let [a, b] = decode_both(&encode(&sq, quality).unwrap(), 40);
            assert!(
                a.iter().chain(&b).all(|&v| v.abs_diff(value) <= 1),
                "{value} q{quality}"
            );
        }
    }
    // Noise at q100: the largest coefficients and DC differences.
    let mut seed = 1u32;
    let data = (0..64 * 64 * 3)
        .map(|_| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            if seed >> 31 == 1 {
                255
            } else {
                0
            }
        })
        .collect();
    let noise = Square::new(64, 3, data);
    as_good_as_reference(&noise, 100, 0.1);
}

#[test]
fn strips_decode_exactly_as_one_pass() {
    for side in [1024, 600, 257] {
        let sq = synthetic(side, 3);
        let strips = encode(&sq, 85).unwrap();
        let one_pass = encode_in_strips(&sq, 85, u32::MAX, OPTIMAL_TABLES_MAX_SIDE, 0).unwrap();
        let [a, b] = decode_both(&strips, side);
        let [c, d] = decode_both(&one_pass, side);
        assert!(a == c && b == d, "side {side}");
        let restarts = strips
            .windows(2)
            .filter(|w| w[0] == 0xFF && (0xD0..=0xD7).contains(&w[1]))
            .count();
        assert_eq!(restarts, side.div_ceil(STRIP_ROWS) as usize - 1);
        assert_eq!(
            one_pass.windows(2).filter(|w| w == &[0xFF, 0xDD]).count(),
            0,
            "one pass has no DRI"
        );
        // Each restart costs its marker, a padding byte and fresh DC codes: bytes.
        assert!(
            strips.len() <= one_pass.len() + 24 * restarts,
            "side {side}"
        );
    }
}

#[test]
fn output_is_the_same_on_every_thread_count() {
    let sq = synthetic(600, 3);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let one = pool.install(|| encode(&sq, 85).unwrap());
    assert_eq!(one, encode(&sq, 85).unwrap());
}

#[test]
fn refuses_what_it_cannot_encode() {
    let mut sq = synthetic(8, 3);
    sq.channels = 2;
    assert_eq!(encode(&sq, 85).unwrap_err().code(), "internal_error");
    let sq = Square::new(0, 3, Vec::new());
    assert_eq!(encode(&sq, 85).unwrap_err().code(), "internal_error");
}

#[test]
fn the_vector_paths_match_the_portable_ones() {
    // On a CPU without AVX2 both calls take the portable path and this proves nothing;
    // CI machines have it.
    let tables = Tables::new(85);
    let photo = photo();
    let ramps = synthetic(72, 4);
    for (sq, channels) in [(&photo, 3), (&ramps, 4)] {
        let job = Rows {
            sq,
            top: 0,
            rows: sq.side as usize,
            tables: &tables,
        };
        // Every quantised block, through the portable walk and the dispatched one.
        let collect = |fast: bool| {
            let mut blocks: Vec<([i16; 64], usize)> = Vec::new();
            let mut keep = |c: &[i16; 64], k: usize| blocks.push((*c, k));
            match (channels, fast) {
                (3, false) => walk::<3, _>(&job, &mut keep),
                (3, true) => crate::simd::widest(Walk::<3, _>(&job, &mut keep)),
                (_, false) => walk::<4, _>(&job, &mut keep),
                (_, true) => crate::simd::widest(Walk::<4, _>(&job, &mut keep)),
            }
            blocks
        };
        let (portable, fastest) = (collect(false), collect(true));
        assert!(portable == fastest, "{channels} channels: blocks");
        // And the Annex K strip, which has its own copy of the loop: the same bytes.
        let (portable, fastest) = match channels {
            3 => (
                strip::<3>(&job, Vec::new()),
                crate::simd::widest(Strip::<3>(&job, Vec::new())),
            ),
            _ => (
                strip::<4>(&job, Vec::new()),
                crate::simd::widest(Strip::<4>(&job, Vec::new())),
            ),
        };
        assert!(portable == fastest, "{channels} channels: strip bytes");
    }
}

#[test]
fn small_squares_get_tables_of_their_own_same_pixels_fewer_bytes() {
    let photo = photo();
    let crop = |side: u32| {
        let data = photo
            .data
            .chunks_exact(600 * 3)
            .take(side as usize)
            .flat_map(|row| &row[..side as usize * 3])
            .copied()
            .collect();
        Square::new(side, 3, data)
    };
    let flat = Square::new(16, 3, vec![77; 16 * 16 * 3]);
    for sq in [
        crop(256),
        crop(192),
        crop(72),
        crop(24),
        synthetic(48, 4),
        synthetic(1, 3),
        flat,
    ] {
        // Both 4:2:0, so the pixels must be the same.
        let own = encode_in_strips(&sq, 85, STRIP_ROWS, OPTIMAL_TABLES_MAX_SIDE, 0).unwrap();
        let annex_k = encode_in_strips(&sq, 85, STRIP_ROWS, 0, 0).unwrap();
        assert_eq!(
            decode_both(&own, sq.side),
            decode_both(&annex_k, sq.side),
            "{}",
            sq.side
        );
        assert!(
            own.len() < annex_k.len(),
            "{}: {} vs {}",
            sq.side,
            own.len(),
            annex_k.len()
        );
    }
    // Larger squares keep the Annex K tables.
    let big = synthetic(OPTIMAL_TABLES_MAX_SIDE + 16, 3);
    assert_eq!(
        encode(&big, 85).unwrap(),
        encode_in_strips(&big, 85, STRIP_ROWS, 0, 0).unwrap()
    );
}

/// 4:4:4 squares above [`FINE_CHROMA_MAX_SIDE`] quantise chroma [`COARSE_CHROMA_STEP`]
/// qualities lower; up to it, and in 4:2:0, chroma gets the requested quality. Read
/// from the DQT segment: the last zig-zag entry of Annex K's chroma table is 99, which
/// libjpeg scales to 30 at q85 and 69 at q65; luma's (99 too) stays 30.
#[test]
fn larger_full_chroma_squares_quantise_chroma_more_coarsely() {
    let last_entries = |jpeg: &[u8]| -> Vec<(u8, u8)> {
        let at = jpeg.windows(2).position(|w| w == [0xFF, DQT]).unwrap();
        let len = usize::from(u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]));
        jpeg[at + 4..at + 2 + len]
            .chunks_exact(65)
            .map(|t| (t[0], t[64]))
            .collect()
    };
    assert_eq!(COARSE_CHROMA_STEP, 20);
    for (side, chroma) in [
        (FINE_CHROMA_MAX_SIDE, 30),
        (FINE_CHROMA_MAX_SIDE + 1, 69),
        (FULL_CHROMA_MAX_SIDE, 69),
        (FULL_CHROMA_MAX_SIDE + 1, 30),
    ] {
        let jpeg = encode(&synthetic(side, 3), 85).unwrap();
        assert_eq!(last_entries(&jpeg), [(0, 30), (1, chroma)], "side {side}");
    }
    // The step never goes below quality 1.
    let jpeg = encode(&synthetic(48, 3), 10).unwrap();
    assert_eq!(last_entries(&jpeg)[1], (1, 255));
}
