//! Filtered PNG rows to deflate blocks (RFC 1951): literals, plus runs of zero bytes as
//! distance-1 matches (filtered photos are mostly small values and flat areas long
//! zero runs), coded with a Huffman table built for each block from its own histogram.
//!
//! Each strip of the image is one dynamic block. A strip that is not the last ends with
//! an empty stored block (zlib's sync flush), which leaves the stream on a byte boundary,
//! so strips compressed in parallel are simply concatenated.

use super::huffman;

/// The shortest zero run coded as a match (a literal zero, then matches). Shorter runs
/// cost about as much either way; as literals they keep the coder on its fast path.
const MIN_RUN: usize = 16;

/// Deflate's longest match.
const MAX_MATCH: usize = 258;

/// Length symbols 257..=285: (first length, extra bits), RFC 1951 §3.2.5.
const LENGTHS: [(u16, u8); 29] = [
    (3, 0),
    (4, 0),
    (5, 0),
    (6, 0),
    (7, 0),
    (8, 0),
    (9, 0),
    (10, 0),
    (11, 1),
    (13, 1),
    (15, 1),
    (17, 1),
    (19, 2),
    (23, 2),
    (27, 2),
    (31, 2),
    (35, 3),
    (43, 3),
    (51, 3),
    (59, 3),
    (67, 4),
    (83, 4),
    (99, 4),
    (115, 4),
    (131, 5),
    (163, 5),
    (195, 5),
    (227, 5),
    (258, 0),
];

/// For a match length 3..=258: its length symbol's index in [`LENGTHS`].
const LENGTH_INDEX: [u8; MAX_MATCH + 1] = {
    let mut table = [0u8; MAX_MATCH + 1];
    let mut i = 0;
    while i < LENGTHS.len() {
        let (first, extra) = LENGTHS[i];
        let last = if i + 1 < LENGTHS.len() {
            LENGTHS[i + 1].0 as usize - 1
        } else {
            MAX_MATCH
        };
        let mut len = first as usize;
        while len <= last && len < first as usize + (1 << extra) {
            table[len] = i as u8;
            len += 1;
        }
        i += 1;
    }
    table
};

/// The order code-length code lengths are written in (RFC 1951 §3.2.7).
const CODE_LENGTH_ORDER: [usize; 19] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];

const END_OF_BLOCK: usize = 256;

/// Bits into bytes, least significant first.
struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    count: u32,
}

impl BitWriter {
    /// Appends the low `len` (≤ 32) bits of `bits`.
    #[inline(always)]
    fn put(&mut self, bits: u32, len: u32) {
        self.acc |= u64::from(bits) << self.count;
        self.count += len;
        if self.count >= 32 {
            self.out.extend_from_slice(&(self.acc as u32).to_le_bytes());
            self.acc >>= 32;
            self.count -= 32;
        }
    }

    /// Zero bits up to the next byte boundary, and everything pending written out.
    fn align(&mut self) {
        let bytes = self.count.div_ceil(8) as usize;
        self.out.extend_from_slice(&self.acc.to_le_bytes()[..bytes]);
        self.acc = 0;
        self.count = 0;
    }
}

/// Whether `MIN_RUN` zeros start at `i`: a literal zero there, then matches. Two
/// 8-byte compares, so the branch on it is predictable on photo data (zeros alone are
/// common there, long runs rare), unlike a branch on every zero byte.
#[inline(always)]
fn run_starts(data: &[u8], i: usize) -> bool {
    data.get(i..i + MIN_RUN).is_some_and(|w| {
        let word = |k: usize| u64::from_ne_bytes(w[k..k + 8].try_into().expect("8 bytes"));
        word(0) | word(8) == 0
    })
}

/// How many zeros follow position `i` of `data` (stopping at the first non-zero).
#[inline(always)]
fn zeros_from(data: &[u8], i: usize) -> usize {
    data[i..].iter().take_while(|&&b| b == 0).count()
}

/// The next match length (3–258) to take from a run of `left` ≥ 3 zeros: as long as
/// possible, except never leaving 1 or 2 zeros after a full match (no match codes them),
/// so take 3 fewer then.
#[inline(always)]
fn next_match(left: usize) -> usize {
    let n = left.min(MAX_MATCH);
    if (1..3).contains(&(left - n)) {
        n - 3
    } else {
        n
    }
}

/// Symbol frequencies of `data` as [`block`] codes it: every byte a literal, except
/// that a zero followed by at least `MIN_RUN - 1` more becomes a literal zero and
/// distance-1 matches ([`next_match`]).
#[inline(always)]
fn histogram(data: &[u8]) -> [u32; 286] {
    // Literals counted in four interleaved tables, so that runs of one byte value do
    // not wait on their own previous increment.
    let mut lanes = [[0u32; 256]; 4];
    let mut freq = [0u32; 286];
    let mut i = 0;
    while i < data.len() {
        // Four literals at once where no run can start (see `block`).
        if let Some(window) = data.get(i..i + 11) {
            if u64::from_ne_bytes(window[3..11].try_into().expect("8 bytes")) != 0 {
                for (lane, &b) in lanes.iter_mut().zip(&window[..4]) {
                    lane[usize::from(b)] += 1;
                }
                i += 4;
                continue;
            }
        }
        lanes[i % 4][usize::from(data[i])] += 1;
        i += 1;
        if run_starts(data, i - 1) {
            let run = zeros_from(data, i);
            let mut left = run;
            while left >= 3 {
                let n = next_match(left);
                freq[257 + usize::from(LENGTH_INDEX[n])] += 1;
                left -= n;
            }
            freq[0] += left as u32;
            i += run;
        }
    }
    for lane in &lanes {
        for (f, &n) in freq.iter_mut().zip(lane) {
            *f += n;
        }
    }
    freq
}

/// Bytes per sampled piece, and one piece in `SAMPLE_EVERY` is counted.
const SAMPLE_BYTES: usize = 4096;
const SAMPLE_EVERY: usize = 4;

/// Frequencies from a quarter of `data` (every fourth 4 KiB piece; a strip's rows are
/// alike, and counting was a third of the time), plus one for every symbol so each
/// literal and length has a code whatever the rest holds.
fn sampled_histogram(data: &[u8]) -> [u32; 286] {
    let mut freq = [1u32; 286];
    for piece in data.chunks(SAMPLE_BYTES).step_by(SAMPLE_EVERY) {
        for (f, n) in freq.iter_mut().zip(histogram(piece)) {
            *f += n;
        }
    }
    freq
}

/// Compresses `data` as one dynamic-Huffman block, appended to `out`. `last` sets
/// BFINAL; otherwise the block is followed by an empty stored block so that the next
/// block starts on a byte boundary.
#[inline(always)]
pub(super) fn block(data: &[u8], last: bool, out: Vec<u8>) -> Vec<u8> {
    let (mut w, lit) = block_header(data, last, out);

    // The hot loop keeps the bit accumulator in locals (a closure or method borrowing
    // the writer kept it in memory, at twice the time) and writes into a buffer sized
    // for the worst case (a literal is at most 14 bits; a match codes ≥ 3 bytes in at
    // most 20): every write stores 8 bytes and advances by the whole bytes it held.
    let mut out = std::mem::take(&mut w.out);
    let mut pos = out.len();
    // Room for the next `GROW` input bytes at worst, topped up every `GROW` bytes: the
    // buffer grows with the output, not to twice the input up front (zeroing and
    // faulting in that much memory cost more than the coding).
    const GROW: usize = 16 * 1024;
    let mut room_until = 0;
    let (mut acc, mut count) = (w.acc, w.count);
    // Whole bytes out first, so at most 7 bits are pending before each write.
    while count >= 8 {
        out.push(acc as u8);
        pos += 1;
        acc >>= 8;
        count -= 8;
    }
    macro_rules! put {
        ($bits:expr, $len:expr) => {{
            acc |= u64::from($bits) << count;
            count += $len;
            out[pos..pos + 8].copy_from_slice(&acc.to_le_bytes());
            pos += (count / 8) as usize;
            acc >>= count & !7;
            count &= 7;
        }};
    }
    let mut i = 0;
    while i < data.len() {
        if i >= room_until {
            // The next GROW bytes as literals: at most 14 bits each, plus the 8-byte
            // store. A run ensures its own room and ends the piece.
            room_until = i + GROW;
            let need = pos + 2 * GROW + 16;
            if out.len() < need {
                out.resize(need, 0);
            }
        }
        // Four literals in one write when no run starts at any of them.
        // (A run of `MIN_RUN` starting at any of them would cover bytes i + 3..i + 11.)
        if let Some(window) = data.get(i..i + 11) {
            let middle = u64::from_ne_bytes(window[3..11].try_into().expect("8 bytes"));
            if middle != 0 {
                let a = u64::from(lit[usize::from(window[0])]);
                let b = u64::from(lit[usize::from(window[1])]);
                let c = u64::from(lit[usize::from(window[2])]);
                let d = u64::from(lit[usize::from(window[3])]);
                let (la, lb, lc, ld) = (a >> 16, b >> 16, c >> 16, d >> 16);
                let bits = a & 0xFFFF
                    | (b & 0xFFFF) << la
                    | (c & 0xFFFF) << (la + lb)
                    | (d & 0xFFFF) << (la + lb + lc);
                acc |= bits << count;
                count += (la + lb + lc + ld) as u32;
                out[pos..pos + 8].copy_from_slice(&acc.to_le_bytes());
                pos += (count / 8) as usize;
                acc >>= count & !7;
                count &= 7;
                i += 4;
                continue;
            }
        }
        let code = lit[usize::from(data[i])];
        put!(code & 0xFFFF, code >> 16);
        i += 1;
        if run_starts(data, i - 1) {
            let run = zeros_from(data, i);
            // Matches are 255–258 long but for the last two; each ≤ 20 bits; then
            // ≤ 2 literal zeros.
            let need = pos + (run / 255 + 4) * 3 + 16;
            if out.len() < need {
                out.resize(need, 0);
            }
            room_until = 0;
            let mut left = run;
            while left >= 3 {
                let n = next_match(left);
                let k = usize::from(LENGTH_INDEX[n]);
                let (first, extra) = LENGTHS[k];
                let code = lit[257 + k];
                let len = code >> 16;
                // Length code, its extra bits, then distance code 0 (a 0 bit).
                put!(
                    code & 0xFFFF | (n as u32 - u32::from(first)) << len,
                    len + u32::from(extra) + 1
                );
                left -= n;
            }
            for _ in 0..left {
                let code = lit[0];
                put!(code & 0xFFFF, code >> 16);
            }
            i += run;
        }
    }
    out.truncate(pos);
    (w.acc, w.count, w.out) = (acc, count, out);
    block_end(w, &lit, last)
}

/// The block's Huffman code for `data` (from a sampled histogram) and its header
/// written after `out`: BFINAL (`last`), BTYPE, the code lengths. Returns the writer
/// and each literal/length symbol's code and length in one word (code | length << 16).
fn block_header(data: &[u8], last: bool, out: Vec<u8>) -> (BitWriter, Vec<u32>) {
    let freq = sampled_histogram(data);
    // 14 bits at most, so that four literals always fit one 56-bit write.
    let lit_lengths = huffman::lengths(&freq, 14);
    let lit_codes = huffman::codes(&lit_lengths);
    let lit: Vec<u32> = lit_codes
        .iter()
        .zip(&lit_lengths)
        .map(|(&c, &l)| u32::from(c) | u32::from(l) << 16)
        .collect();
    // Two distance codes of one bit each, a complete code: distance 1 (code 0) is the
    // only one used, and strict inflaters refuse some incomplete codes.
    let dist_lengths = [1u8, 1];
    let mut w = BitWriter {
        out,
        acc: 0,
        count: 0,
    };
    w.put(u32::from(last), 1);
    w.put(2, 2); // BTYPE 10: dynamic Huffman codes
    write_code_lengths(&mut w, &lit_lengths, &dist_lengths);
    (w, lit)
}

/// End of block, then (unless `last`) an empty stored block so the next block starts
/// on a byte boundary; the bytes written.
fn block_end(mut w: BitWriter, lit: &[u32], last: bool) -> Vec<u8> {
    w.put(lit[END_OF_BLOCK] & 0xFFFF, lit[END_OF_BLOCK] >> 16);
    if !last {
        w.put(0, 3); // BFINAL 0, BTYPE 00: stored
        w.align();
        w.out.extend_from_slice(&[0x00, 0x00, 0xFF, 0xFF]); // LEN 0, NLEN
    }
    w.align();
    w.out
}

/// The dynamic block header after BTYPE: HLIT, HDIST, HCLEN, the code-length code and
/// both tables' lengths run-length coded with symbols 16, 17 and 18.
fn write_code_lengths(w: &mut BitWriter, lit: &[u8], dist: &[u8]) {
    let hlit = 257.max(lit.iter().rposition(|&l| l > 0).map_or(0, |p| p + 1));
    let lengths: Vec<u8> = lit[..hlit].iter().chain(dist).copied().collect();

    // (symbol, extra bits, extra length) for the concatenated lengths.
    let mut symbols: Vec<(u8, u8, u8)> = Vec::new();
    let mut i = 0;
    while i < lengths.len() {
        let l = lengths[i];
        let run = lengths[i..].iter().take_while(|&&x| x == l).count();
        let mut left = run;
        if l == 0 {
            while left >= 11 {
                let n = left.min(138);
                symbols.push((18, (n - 11) as u8, 7));
                left -= n;
            }
            if left >= 3 {
                symbols.push((17, (left - 3) as u8, 3));
                left = 0;
            }
        } else {
            symbols.push((l, 0, 0));
            left -= 1;
            while left >= 3 {
                let n = left.min(6);
                symbols.push((16, (n - 3) as u8, 2));
                left -= n;
            }
        }
        for _ in 0..left {
            symbols.push((l, 0, 0));
        }
        i += run;
    }

    let mut freq = [0u32; 19];
    for &(s, _, _) in &symbols {
        freq[usize::from(s)] += 1;
    }
    let cl_lengths = huffman::lengths(&freq, 7);
    let cl_codes = huffman::codes(&cl_lengths);
    let hclen = 4.max(
        CODE_LENGTH_ORDER
            .iter()
            .rposition(|&s| cl_lengths[s] > 0)
            .map_or(0, |p| p + 1),
    );
    w.put((hlit - 257) as u32, 5);
    w.put((dist.len() - 1) as u32, 5);
    w.put((hclen - 4) as u32, 4);
    for &s in &CODE_LENGTH_ORDER[..hclen] {
        w.put(u32::from(cl_lengths[s]), 3);
    }
    for (s, extra, extra_len) in symbols {
        let s = usize::from(s);
        w.put(u32::from(cl_codes[s]), u32::from(cl_lengths[s]));
        w.put(u32::from(extra), u32::from(extra_len));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inflate(stream: &[u8]) -> Vec<u8> {
        miniz_oxide::inflate::decompress_to_vec(stream).expect("a valid deflate stream")
    }

    #[test]
    fn length_symbols_cover_every_match_length() {
        for len in 3..=MAX_MATCH {
            let (first, extra) = LENGTHS[usize::from(LENGTH_INDEX[len])];
            let first = usize::from(first);
            assert!(
                first <= len && len - first < 1 << extra || len == 258,
                "{len}"
            );
        }
        assert_eq!(LENGTHS[usize::from(LENGTH_INDEX[258])], (258, 0));
        assert_eq!(LENGTHS[usize::from(LENGTH_INDEX[257])], (227, 5));
    }

    #[test]
    fn blocks_inflate_to_their_input_alone_and_joined() {
        let mut seed = 3u32;
        let mut noise = |n: usize| -> Vec<u8> {
            (0..n)
                .map(|_| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    (seed >> 24) as u8
                })
                .collect()
        };
        // Zero runs of every awkward length around the match limits, noise, one byte.
        let mut runs = Vec::new();
        for n in [
            1usize, 2, 3, 4, 5, 6, 258, 259, 260, 261, 262, 516, 517, 1000,
        ] {
            runs.extend(std::iter::repeat_n(0, n));
            runs.push(7);
        }
        let inputs = [runs, noise(5000), vec![0; 70_000], vec![42], vec![0]];
        for input in &inputs {
            assert_eq!(&inflate(&block(input, true, Vec::new())), input);
        }
        let mut joined = Vec::new();
        for (k, input) in inputs.iter().enumerate() {
            joined = block(input, k == inputs.len() - 1, joined);
        }
        assert_eq!(inflate(&joined), inputs.concat());
    }

    #[test]
    fn long_zero_runs_cost_almost_nothing() {
        let out = block(&vec![0; 1 << 20], true, Vec::new());
        assert!(out.len() < 1 << 20 >> 9, "{} bytes", out.len());
    }
}
