//! The common PNG — 8-bit RGB or RGBA, not interlaced, no tRNS — decoded with its two
//! halves overlapped: one task inflates the IDAT stream (fdeflate) and hands on
//! [`SEGMENT_ROWS`] filtered rows at a time; another undoes the row filters as they
//! arrive. Inflating is about two thirds of such a decode and unfiltering the rest, so
//! on two threads the serial part of a PNG job shrinks by about a third. On one
//! thread each segment is unfiltered as soon as it is inflated, with no copies.
//!
//! Anything else (palette, gray, 16-bit, tRNS, interlacing, unknown critical chunks,
//! IDATs that are not consecutive) returns `None` and goes to the `png` crate.

use std::sync::mpsc;

use fdeflate::Decompressor;

use super::unfilter::unfilter_row;
use crate::alloc::try_zeroed;
use crate::decode::Pixels;
use crate::error::Rejection;
use crate::probe::png::chunk_at;

/// Filtered rows handed from the inflating task to the unfiltering one at a time.
const SEGMENT_ROWS: usize = 16;

/// The file's layout, when it is one this path decodes.
struct Simple<'a> {
    width: usize,
    height: usize,
    bpp: usize,
    idat: Vec<&'a [u8]>,
}

/// Deflate's longest back-reference: what the inflater must keep of earlier output.
const WINDOW: usize = 32 * 1024;

/// Decodes `bytes` if it is a simple PNG (see the module docs) of `width`×`height`;
/// `Ok(None)` if it is not.
///
/// Memory: the pixels, a window of [`WINDOW`] + [`SEGMENT_ROWS`] filtered rows, the
/// IDAT data joined when it comes in several chunks (taken only when it is no larger
/// than a stored stream of the rows would be), and on two threads the segments in
/// flight (at most the image's filtered rows): within [`decode_budget`]'s 12 bytes per
/// pixel.
///
/// [`decode_budget`]: crate::decode::decode_budget
///
/// # Errors
/// `bad_image` for a bad CRC, corrupt or short image data, or an unknown row filter;
/// `too_large` if a buffer cannot be allocated.
pub(super) fn decode(bytes: &[u8], width: u32, height: u32) -> Result<Option<Pixels>, Rejection> {
    let Some(png) = simple(bytes)? else {
        return Ok(None);
    };
    if (png.width, png.height) != (width as usize, height as usize) {
        return Ok(None);
    }
    // Sizes the policy already bounded; checked anyway, so that a policy with no
    // limits cannot make them wrap. The `png` crate refuses what does not fit.
    let sizes = png.width.checked_mul(png.bpp).and_then(|stride| {
        let line = stride.checked_add(1)?;
        let rows_len = png.height.checked_mul(line)?;
        let window = line.checked_mul(SEGMENT_ROWS)?.checked_add(WINDOW)?;
        Some((stride, rows_len, window))
    });
    let Some((stride, rows_len, window_len)) = sizes else {
        return Ok(None);
    };
    let line = stride + 1;
    let idat_len: usize = png.idat.iter().map(|c| c.len()).sum();
    // A stored (uncompressed) stream: 5 bytes per 65 535, plus zlib's 6.
    if idat_len > rows_len.saturating_add(rows_len / 8192 + 64) {
        return Ok(None);
    }
    // One contiguous zlib stream: IDATs split it at arbitrary bytes.
    let joined;
    let stream: &[u8] = match png.idat[..] {
        [one] => one,
        _ => {
            joined = png.idat.concat();
            &joined
        }
    };
    // No overflow: smaller than `rows_len`.
    let mut data = try_zeroed(png.height * stride, "decoded PNG")?;
    let zero_row = try_zeroed(stride, "PNG row")?;
    let mut window = try_zeroed(window_len, "PNG inflate window")?;
    let unfilter_rows = |rows: &[u8], first: usize, data: &mut [u8]| -> Result<(), Rejection> {
        for (k, row) in rows.chunks_exact(line).enumerate() {
            let y = first + k;
            let (above, rest) = data.split_at_mut(y * stride);
            let prev = match y {
                0 => &zero_row[..],
                _ => &above[(y - 1) * stride..],
            };
            let out = &mut rest[..stride];
            match png.bpp {
                4 => unfilter_row::<4>(row, prev, out)?,
                _ => unfilter_row::<3>(row, prev, out)?,
            }
        }
        Ok(())
    };
    if rayon::current_num_threads() < 2 {
        inflate(stream, &mut window, rows_len, line, |first, rows| {
            unfilter_rows(rows, first, &mut data)
        })?;
    } else {
        let (send, receive) = mpsc::channel::<(usize, Vec<u8>)>();
        let (inflated, unfiltered) = rayon::join(
            move || {
                inflate(stream, &mut window, rows_len, line, |first, rows| {
                    // The receiver hangs up only after an error of its own, which is
                    // the one reported; inflating stops there.
                    send.send((first, rows.to_vec()))
                        .map_err(|_| Rejection::internal("PNG: unfiltering stopped"))
                })
            },
            || -> Result<usize, Rejection> {
                let mut done = 0;
                for (first, rows) in receive {
                    unfilter_rows(&rows, first, &mut data)?;
                    done = first + rows.len() / line;
                }
                Ok(done)
            },
        );
        // The unfiltering task's error first: it is why inflating stopped, if it did.
        let unfiltered = unfiltered?;
        inflated?;
        if unfiltered != png.height {
            return Err(Rejection::internal("PNG: rows went missing between tasks"));
        }
    }
    Ok(Some(Pixels {
        width,
        height,
        channels: png.bpp,
        data,
    }))
}

/// Inflates the zlib `stream`, `rows_len` bytes of filtered rows of `line` bytes, in
/// `window` ([`WINDOW`] bytes of history plus one segment), calling
/// `ready(first_row, rows)` with every [`SEGMENT_ROWS`] rows (fewer at the end). Data
/// after the last row is ignored.
fn inflate(
    stream: &[u8],
    window: &mut [u8],
    rows_len: usize,
    line: usize,
    mut ready: impl FnMut(usize, &[u8]) -> Result<(), Rejection>,
) -> Result<(), Rejection> {
    let mut inflater = Decompressor::new();
    let segment = SEGMENT_ROWS * line;
    // `window[..start]` is history; the segment being inflated is `window[start..fill]`.
    let (mut input, mut start, mut fill, mut handed) = (stream, 0, 0, 0);
    while handed < rows_len {
        let end = start + segment.min(rows_len - handed);
        let (used, made) = inflater
            .read(input, &mut window[..end], fill, true)
            .map_err(|e| Rejection::bad_image(format!("PNG: image data is corrupt: {e:?}")))?;
        input = &input[used..];
        fill += made;
        if fill == end {
            ready(handed / line, &window[start..end])?;
            handed += end - start;
            let keep = end.min(WINDOW);
            window.copy_within(end - keep..end, 0);
            (start, fill) = (keep, keep);
        } else if used == 0 && made == 0 {
            return Err(Rejection::bad_image(format!(
                "PNG: image data ends after {} of {} rows",
                (handed + fill - start) / line,
                rows_len / line
            )));
        }
    }
    Ok(())
}

/// The file's IHDR and IDAT chunks if it is simple; `None` if anything calls for the
/// general decoder. Every chunk's CRC is checked on the way.
fn simple(bytes: &[u8]) -> Result<Option<Simple<'_>>, Rejection> {
    let mut pos = 8;
    let mut header = None;
    let mut idat: Vec<&[u8]> = Vec::new();
    let mut idat_ended = false;
    loop {
        let Some((kind, data)) = chunk_at(bytes, pos) else {
            return Ok(None);
        };
        let crc_at = pos + 8 + data.len();
        let stored = u32::from_be_bytes(
            bytes[crc_at..crc_at + 4]
                .try_into()
                .map_err(|_| Rejection::internal("PNG: CRC slice"))?,
        );
        let mut crc = crc32fast::Hasher::new();
        crc.update(kind);
        crc.update(data);
        // Fuzzers (`--cfg fuzzing`) skip CRCs, as the `png` crate does, so that
        // mutated files reach the inflater and the row filters.
        if !cfg!(fuzzing) && crc.finalize() != stored {
            return Err(Rejection::bad_image(format!(
                "PNG: CRC mismatch in the {} chunk",
                String::from_utf8_lossy(kind)
            )));
        }
        pos = crc_at + 4;
        match kind {
            b"IHDR" if header.is_none() && data.len() == 13 => {
                let w = u32::from_be_bytes([data[0], data[1], data[2], data[3]]);
                let h = u32::from_be_bytes([data[4], data[5], data[6], data[7]]);
                let bpp = match (data[8], data[9]) {
                    (8, 2) => 3,
                    (8, 6) => 4,
                    _ => return Ok(None),
                };
                if data[10..] != [0, 0, 0] {
                    return Ok(None);
                }
                header = Some((w as usize, h as usize, bpp));
            }
            b"IDAT" if header.is_some() && !idat_ended => idat.push(data),
            b"IEND" => break,
            // Ancillary chunks (lower-case first letter) carry nothing this needs,
            // except tRNS; a palette is only a suggestion for RGB.
            b"tRNS" => return Ok(None),
            b"PLTE" => {}
            _ if kind[0].is_ascii_lowercase() => {}
            _ => return Ok(None),
        }
        if !idat.is_empty() && kind != b"IDAT" {
            idat_ended = true;
        }
    }
    let Some((width, height, bpp)) = header else {
        return Ok(None);
    };
    if idat.is_empty() || width == 0 || height == 0 {
        return Ok(None);
    }
    Ok(Some(Simple {
        width,
        height,
        bpp,
        idat,
    }))
}
