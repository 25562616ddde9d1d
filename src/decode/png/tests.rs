//! The pipelined path checked against the `png` crate on the same files: same pixels
//! on one thread and two, the same refusals, and `None` for what it leaves alone.

use super::*;
use crate::canvas::Square;
use crate::encode::encode;
use crate::encode::png::chunk;
use crate::probe::probe;
use crate::sniff::Format;

/// A `side`² square of smooth gradients with noise (so every row filter gets chosen)
/// and, with 4 channels, an alpha ramp.
fn square(side: u32, channels: usize) -> Square {
    let mut seed = 7u32;
    let mut data = Vec::new();
    for y in 0..side {
        for x in 0..side {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let noise = seed >> 28;
            let px = [
                x * 3 + noise,
                y * 2 + (x ^ y) % 7,
                (x + y) / 2 + noise,
                x + y,
            ];
            data.extend(px[..channels].iter().map(|&v| v as u8));
        }
    }
    Square::new(side, channels, data)
}

fn on_threads<T: Send>(n: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .unwrap()
        .install(f)
}

/// `png` with its IDAT data re-cut into chunks of `size` bytes (CRCs recomputed).
fn recut(png: &[u8], size: usize) -> Vec<u8> {
    let mut out = png[..8].to_vec();
    let mut idat = Vec::new();
    let mut pos = 8;
    while let Some((kind, data)) = chunk_at(png, pos) {
        pos += 12 + data.len();
        match kind {
            b"IDAT" => idat.extend_from_slice(data),
            _ => {
                if !idat.is_empty() {
                    for piece in idat.chunks(size) {
                        chunk(&mut out, b"IDAT", &[piece]);
                    }
                    idat.clear();
                }
                chunk(&mut out, kind, &[data]);
            }
        }
    }
    out
}

use crate::probe::png::chunk_at;

#[test]
fn photos_decode_to_the_png_crates_pixels_on_one_thread_and_two() {
    for channels in [3, 4] {
        for side in [1, 2, 17, 300] {
            let file = encode(&square(side, channels), Format::Png, 85).unwrap();
            for file in [file.clone(), recut(&file, 1), recut(&file, 1000)] {
                let info = probe(&file).unwrap();
                let want = decode_general(&file, &info).unwrap();
                for threads in [1, 2] {
                    let got = on_threads(threads, || {
                        pipelined::decode(&file, info.stored_width, info.stored_height)
                    });
                    assert_eq!(
                        got.unwrap().as_ref(),
                        Some(&want),
                        "{side}² × {channels}, {threads} threads"
                    );
                }
            }
        }
    }
}

/// An RGBA PNG compressed by miniz at level 9, rows filtered None, Sub or Up in turn,
/// whose pixels repeat every 26 rows (31 KiB back), so the stream is full of distant
/// back-references across segments.
fn far_matches() -> Vec<u8> {
    let (side, bpp) = (300usize, 4usize);
    let stride = side * bpp;
    let sq = square(side as u32, bpp);
    let pixel = |y: usize| &sq.data[(y % 26) * stride..(y % 26 + 1) * stride];
    let mut raw = Vec::new();
    for y in 0..side {
        let kind = (y % 3) as u8;
        raw.push(kind);
        let row = pixel(y);
        for i in 0..stride {
            let prediction = match kind {
                1 if i >= bpp => row[i - bpp],
                2 if y > 0 => pixel(y - 1)[i],
                _ => 0,
            };
            raw.push(row[i].wrapping_sub(prediction));
        }
    }
    let mut file = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = (side as u32).to_be_bytes().repeat(2);
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    chunk(&mut file, b"IHDR", &[&ihdr]);
    let zlib = miniz_oxide::deflate::compress_to_vec_zlib(&raw, 9);
    for piece in zlib.chunks(8192) {
        chunk(&mut file, b"IDAT", &[piece]);
    }
    chunk(&mut file, b"IEND", &[&[]]);
    file
}

#[test]
fn distant_back_references_decode_right() {
    let file = far_matches();
    let info = probe(&file).unwrap();
    let want = decode_general(&file, &info).unwrap();
    for threads in [1, 2] {
        let got = on_threads(threads, || pipelined::decode(&file, 300, 300));
        assert_eq!(got.unwrap().as_ref(), Some(&want), "{threads} threads");
    }
}

#[test]
fn broken_data_is_refused_on_both_paths() {
    let file = encode(&square(64, 4), Format::Png, 85).unwrap();
    let info = probe(&file).unwrap();
    let idat_at = 8 + 25;
    let (_, idat) = chunk_at(&file, idat_at).unwrap();
    let rest = &file[idat_at + 12 + idat.len()..];
    let with_idat = |data: &[u8]| {
        let mut out = file[..idat_at].to_vec();
        chunk(&mut out, b"IDAT", &[data]);
        out.extend_from_slice(rest);
        out
    };
    // Cut short, garbage, a filter type that does not exist (the first row's filter
    // byte lives in the first stored block of a stream we write by hand).
    let mut stored = vec![0x78, 0x01, 0x01];
    let raw: Vec<u8> = (0..64)
        .flat_map(|_| {
            let mut row = vec![9u8];
            row.extend(std::iter::repeat_n(1, 64 * 4));
            row
        })
        .collect();
    stored.extend_from_slice(&(raw.len() as u16).to_le_bytes());
    stored.extend_from_slice(&(!(raw.len() as u16)).to_le_bytes());
    stored.extend_from_slice(&raw);
    let cases = [
        ("cut short", with_idat(&idat[..idat.len() / 2])),
        ("garbage", with_idat(&vec![0xAB; idat.len()])),
        ("filter 9", with_idat(&stored)),
    ];
    for (what, bad) in cases {
        for threads in [1, 2] {
            let got = on_threads(threads, || {
                pipelined::decode(&bad, info.stored_width, info.stored_height)
            });
            assert_eq!(
                got.unwrap_err().code(),
                "bad_image",
                "{what}, {threads} threads"
            );
        }
        assert_eq!(
            decode_general(&bad, &info).unwrap_err().code(),
            "bad_image",
            "{what}"
        );
    }
    let mut bad_crc = file.clone();
    bad_crc[idat_at + 8] ^= 1;
    let got = pipelined::decode(&bad_crc, info.stored_width, info.stored_height);
    assert_eq!(got.unwrap_err().code(), "bad_image");
}

#[test]
fn what_it_does_not_handle_goes_to_the_png_crate() {
    let rgb = encode(&square(8, 3), Format::Png, 85).unwrap();
    let (w, h) = (8, 8);
    // tRNS after PLTE-less IHDR: inserted before the first IDAT.
    let mut trns = rgb[..33].to_vec();
    chunk(&mut trns, b"tRNS", &[&[0, 1, 0, 2, 0, 3]]);
    trns.extend_from_slice(&rgb[33..]);
    // Interlaced: the IHDR byte flipped (and its CRC recomputed).
    let mut laced = rgb[..8].to_vec();
    let (_, ihdr) = chunk_at(&rgb, 8).unwrap();
    let mut ihdr = ihdr.to_vec();
    ihdr[12] = 1;
    chunk(&mut laced, b"IHDR", &[&ihdr]);
    laced.extend_from_slice(&rgb[33..]);
    for (what, file) in [("tRNS", trns), ("interlaced", laced)] {
        assert_eq!(pipelined::decode(&file, w, h).unwrap(), None, "{what}");
    }
    assert_eq!(
        pipelined::decode(&rgb, w + 1, h).unwrap(),
        None,
        "other size"
    );
    assert!(pipelined::decode(&rgb, w, h).unwrap().is_some());
}
