//! The PNG rendition encoder: 8-bit RGB or RGBA, non-interlaced, rows filtered per row
//! ([`filter`]), then deflated ([`deflate`]) in strips of [`STRIP_ROWS`] rows that
//! compress in parallel, each with its own Huffman table, joined into one zlib stream.
//! Written for this job (see DESIGN.md): the `png` crate's fastest mode (fdeflate) is a
//! single sequential stream, which kept a 1024² RGBA encode on one core.
//!
//! Chunks written: IHDR, one IDAT, IEND. Nothing else, so no metadata.

mod deflate;
mod filter;
pub(super) mod huffman;

use crate::alloc::try_with_capacity;
use crate::canvas::Square;
use crate::error::Error;

/// Rows per independently compressed strip. 64 rows of a 1024² RGBA square are 256 KiB
/// of filtered data: enough for a Huffman table to pay for itself (~100 bytes), small
/// enough that a 1024 rendition splits into 16 tasks.
const STRIP_ROWS: usize = 64;

/// zlib header: deflate, 32 KiB window, no dictionary, "fastest" level; a multiple of 31.
const ZLIB_HEADER: [u8; 2] = [0x78, 0x01];

/// Encodes an RGB or RGBA square.
pub(crate) fn encode(sq: &Square) -> Result<Vec<u8>, Error> {
    let side = sq.side as usize;
    let bpp = sq.channels;
    let row_bytes = side * bpp;
    if !matches!(bpp, 3 | 4) || side == 0 || sq.data.len() != side * row_bytes {
        return Err(Error::internal(format!(
            "PNG encoder given {} bytes for a {side}² square of {bpp} channels",
            sq.data.len()
        )));
    }
    let strips = super::strips(side, STRIP_ROWS);
    let compress = |top: usize, rows: usize| -> Result<(Vec<u8>, u32), Error> {
        let mut filtered = try_with_capacity(rows * (row_bytes + 1), "PNG filtered rows")?;
        filtered.resize(rows * (row_bytes + 1), 0);
        // Filtered photos deflate to well under half; the vector grows if not.
        let out = try_with_capacity(filtered.len() / 2 + 64, "PNG output")?;
        Ok(crate::simd::widest(Strip {
            sq,
            top,
            rows,
            filtered,
            out,
        }))
    };
    let parts = super::each_strip(&strips, compress)?;

    let mut checksum = 1;
    for (&(_, rows), (_, part)) in strips.iter().zip(&parts) {
        checksum = adler32_combine(checksum, *part, rows * (row_bytes + 1));
    }
    let idat_len = ZLIB_HEADER.len() + parts.iter().map(|(p, _)| p.len()).sum::<usize>() + 4;
    let idat_len =
        u32::try_from(idat_len).map_err(|_| Error::internal("PNG: compressed data over 4 GiB"))?;

    let mut out = try_with_capacity(idat_len as usize + 64, "PNG output")?;
    out.extend_from_slice(b"\x89PNG\r\n\x1a\n");
    let mut ihdr = [0u8; 13];
    ihdr[..4].copy_from_slice(&sq.side.to_be_bytes());
    ihdr[4..8].copy_from_slice(&sq.side.to_be_bytes());
    // Bit depth 8; colour type 6 (RGBA) or 2 (RGB); deflate; adaptive filters; no
    // interlace.
    ihdr[8..].copy_from_slice(&[8, if bpp == 4 { 6 } else { 2 }, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &[&ihdr]);
    let mut pieces: Vec<&[u8]> = vec![&ZLIB_HEADER];
    pieces.extend(parts.iter().map(|(p, _)| &p[..]));
    let trailer = checksum.to_be_bytes();
    pieces.push(&trailer);
    chunk(&mut out, b"IDAT", &pieces);
    chunk(&mut out, b"IEND", &[]);
    Ok(out)
}

/// [`strip`] and its arguments, for [`widest`](crate::simd::widest).
struct Strip<'a> {
    sq: &'a Square,
    top: usize,
    rows: usize,
    filtered: Vec<u8>,
    out: Vec<u8>,
}

impl crate::simd::Kernel for Strip<'_> {
    type Output = (Vec<u8>, u32);
    #[inline(always)]
    fn run(self) -> Self::Output {
        strip(self.sq, self.top, self.rows, self.filtered, self.out)
    }
}

/// Filters rows `top..top + rows` into `filtered` (sized for them) and deflates them
/// into `out` as one block (the final one if the strip ends the image). Returns the
/// block and the Adler-32 of the filtered bytes.
#[inline(always)]
fn strip(
    sq: &Square,
    top: usize,
    rows: usize,
    mut filtered: Vec<u8>,
    out: Vec<u8>,
) -> (Vec<u8>, u32) {
    let side = sq.side as usize;
    let bpp = sq.channels;
    let row_bytes = side * bpp;
    let mut scratch = vec![0u8; 4 * row_bytes];
    let zero_row = vec![0u8; row_bytes];
    for (y, dst) in (top..top + rows).zip(filtered.chunks_exact_mut(row_bytes + 1)) {
        let row = &sq.data[y * row_bytes..(y + 1) * row_bytes];
        let prev = match y {
            0 => &zero_row[..],
            _ => &sq.data[(y - 1) * row_bytes..y * row_bytes],
        };
        filter::filter_row(row, prev, bpp, &mut scratch, dst);
    }
    let checksum = adler32(&filtered);
    (deflate::block(&filtered, top + rows == side, out), checksum)
}

/// Appends a chunk whose data is `pieces` concatenated: length, type, data, CRC.
pub(crate) fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], pieces: &[&[u8]]) {
    let len: usize = pieces.iter().map(|p| p.len()).sum();
    out.extend_from_slice(&(len as u32).to_be_bytes());
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    out.extend_from_slice(kind);
    for piece in pieces {
        crc.update(piece);
        out.extend_from_slice(piece);
    }
    out.extend_from_slice(&crc.finalize().to_be_bytes());
}

fn adler32(data: &[u8]) -> u32 {
    let mut a = simd_adler32::Adler32::new();
    a.write(data);
    a.finish()
}

/// The Adler-32 of `A` followed by `B`, from `adler32(A)`, `adler32(B)` and `B`'s
/// length (zlib's `adler32_combine`).
fn adler32_combine(first: u32, second: u32, second_len: usize) -> u32 {
    const BASE: u64 = 65_521;
    let rem = second_len as u64 % BASE;
    let (a1, b1) = (u64::from(first & 0xFFFF), u64::from(first >> 16));
    let (a2, b2) = (u64::from(second & 0xFFFF), u64::from(second >> 16));
    let a = (a1 + a2 + BASE - 1) % BASE;
    let b = (rem * a1 % BASE + b1 + b2 + BASE - rem) % BASE;
    (b << 16 | a) as u32
}

#[cfg(test)]
mod tests;
