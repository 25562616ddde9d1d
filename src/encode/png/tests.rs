//! The encoder checked from outside: two independent decoders (the `png` crate and
//! zune-png) must give back exactly the pixels, and the file must be no larger than the
//! `png` crate's fastest mode writes.

use super::*;

/// A 600² crop of the generated landscape photo, with a soft alpha ramp and a fully
/// transparent band (as letterbox bars are) when `channels` is 4.
fn photo(channels: usize) -> Square {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/photo_landscape_800x600.jpg"
    );
    let bytes = std::fs::read(path).unwrap();
    let rgb = jpeg_decoder::Decoder::new(&bytes[..]).decode().unwrap();
    let mut data = Vec::new();
    for (y, row) in rgb.chunks_exact(800 * 3).enumerate() {
        for (x, px) in row[100 * 3..700 * 3].chunks_exact(3).enumerate() {
            data.extend_from_slice(px);
            if channels == 4 {
                data.push(if y < 80 { 0 } else { (x / 3 + y / 5) as u8 });
            }
        }
    }
    Square::new(600, channels, data)
}

fn decode_both(png: &[u8], sq: &Square) {
    let mut reader = png::Decoder::new(std::io::Cursor::new(png))
        .read_info()
        .unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (sq.side, sq.side));
    assert_eq!(info.color_type.samples(), sq.channels);
    assert!(buf == sq.data, "png crate: {}² × {}", sq.side, sq.channels);
    let zune = zune_png::PngDecoder::new(zune_core::bytestream::ZCursor::new(png))
        .decode_raw()
        .unwrap();
    assert!(zune == sq.data, "zune-png: {}² × {}", sq.side, sq.channels);
}

fn reference(sq: &Square) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, sq.side, sq.side);
    encoder.set_color(if sq.channels == 4 {
        png::ColorType::Rgba
    } else {
        png::ColorType::Rgb
    });
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(&sq.data).unwrap();
    writer.finish().unwrap();
    out
}

#[test]
fn photos_round_trip_exactly_and_no_larger_than_the_png_crate_fast_mode() {
    for channels in [3, 4] {
        let sq = photo(channels);
        let ours = encode(&sq).unwrap();
        decode_both(&ours, &sq);
        let theirs = reference(&sq);
        assert!(
            ours.len() <= theirs.len(),
            "{channels} channels: {} vs {} bytes",
            ours.len(),
            theirs.len()
        );
    }
}

#[test]
fn every_edge_size_round_trips() {
    let mut seed = 11u32;
    for side in (1..=9).chain([63, 64, 65, 129, 200]) {
        for channels in [3, 4] {
            // Alternate rows of noise and flat colour: literals, short and long runs.
            let row_bytes = side as usize * channels;
            let data = (0..side as usize * row_bytes)
                .map(|i| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    if (i / row_bytes).is_multiple_of(2) {
                        (seed >> 24) as u8
                    } else {
                        77
                    }
                })
                .collect();
            let sq = Square::new(side, channels, data);
            decode_both(&encode(&sq).unwrap(), &sq);
        }
    }
}

#[test]
fn output_is_the_same_on_every_thread_count() {
    let sq = photo(4);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let one = pool.install(|| encode(&sq).unwrap());
    assert_eq!(one, encode(&sq).unwrap());
}

#[test]
fn adler32_of_parts_combines_to_that_of_the_whole() {
    let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7 + i / 13) as u8).collect();
    for cut in [0, 1, 5552, 65_521, 100_000, 200_000] {
        let (a, b) = data.split_at(cut);
        assert_eq!(
            adler32_combine(adler32(a), adler32(b), b.len()),
            adler32(&data),
            "{cut}"
        );
    }
}

#[test]
fn refuses_what_it_cannot_encode() {
    let sq = Square::new(2, 2, vec![0; 8]);
    assert_eq!(encode(&sq).unwrap_err().code(), "internal_error");
}

#[test]
fn the_vector_path_writes_the_same_bytes_as_the_portable_one() {
    // On a CPU without AVX2 both calls take the portable path and this proves nothing;
    // CI machines have it.
    for channels in [3, 4] {
        let sq = photo(channels);
        let side = sq.side as usize;
        let rows = side.min(STRIP_ROWS);
        let filtered = || vec![0u8; rows * (side * channels + 1)];
        let portable = strip(&sq, 0, rows, filtered(), Vec::new());
        let fastest = crate::simd::widest(Strip {
            sq: &sq,
            top: 0,
            rows,
            filtered: filtered(),
            out: Vec::new(),
        });
        assert!(portable == fastest, "{channels} channels");
    }
}
