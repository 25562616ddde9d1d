//! The constant tables of a baseline JPEG: ITU-T T.81 Annex K's example quantisation
//! tables (scaled by quality the way libjpeg does) and its standard Huffman tables, the
//! zig-zag order, and what the encoder derives from them.

/// Annex K.1, luminance, natural (row-major) order; libjpeg's tables at quality 50.
const LUMA_QUANT: [u16; 64] = [
    16, 11, 10, 16, 24, 40, 51, 61, //
    12, 12, 14, 19, 26, 58, 60, 55, //
    14, 13, 16, 24, 40, 57, 69, 56, //
    14, 17, 22, 29, 51, 87, 80, 62, //
    18, 22, 37, 56, 68, 109, 103, 77, //
    24, 35, 55, 64, 81, 104, 113, 92, //
    49, 64, 78, 87, 103, 121, 120, 101, //
    72, 92, 95, 98, 112, 100, 103, 99,
];

/// Annex K.1, chrominance, natural order.
const CHROMA_QUANT: [u16; 64] = [
    17, 18, 24, 47, 99, 99, 99, 99, //
    18, 21, 26, 66, 99, 99, 99, 99, //
    24, 26, 56, 99, 99, 99, 99, 99, //
    47, 66, 99, 99, 99, 99, 99, 99, //
    99, 99, 99, 99, 99, 99, 99, 99, //
    99, 99, 99, 99, 99, 99, 99, 99, //
    99, 99, 99, 99, 99, 99, 99, 99, //
    99, 99, 99, 99, 99, 99, 99, 99,
];

/// `ZIGZAG[k]` is the natural (row-major) index of the `k`-th coefficient in zig-zag
/// order.
pub(super) const ZIGZAG: [u8; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, //
    17, 24, 32, 25, 18, 11, 4, 5, //
    12, 19, 26, 33, 40, 48, 41, 34, //
    27, 20, 13, 6, 7, 14, 21, 28, //
    35, 42, 49, 56, 57, 50, 43, 36, //
    29, 22, 15, 23, 30, 37, 44, 51, //
    58, 59, 52, 45, 38, 31, 39, 46, //
    53, 60, 61, 54, 47, 55, 62, 63,
];

/// A Huffman table as a DHT segment carries it: how many codes of each length 1–16,
/// then the symbols in code order.
pub(super) struct HuffmanSpec {
    pub counts: [u8; 16],
    pub symbols: &'static [u8],
}

/// Annex K.3, table K.3: luminance DC differences.
pub(super) const LUMA_DC: HuffmanSpec = HuffmanSpec {
    counts: [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0],
    symbols: &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
};

/// Annex K.3, table K.4: chrominance DC differences.
pub(super) const CHROMA_DC: HuffmanSpec = HuffmanSpec {
    counts: [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0],
    symbols: &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
};

/// Annex K.3, table K.5: luminance AC (run, size) symbols.
pub(super) const LUMA_AC: HuffmanSpec = HuffmanSpec {
    counts: [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d],
    symbols: &[
        0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61,
        0x07, 0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52,
        0xd1, 0xf0, 0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25,
        0x26, 0x27, 0x28, 0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45,
        0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64,
        0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83,
        0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99,
        0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6,
        0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3,
        0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8,
        0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa,
    ],
};

/// Annex K.3, table K.6: chrominance AC (run, size) symbols.
pub(super) const CHROMA_AC: HuffmanSpec = HuffmanSpec {
    counts: [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77],
    symbols: &[
        0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61,
        0x71, 0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33,
        0x52, 0xf0, 0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18,
        0x19, 0x1a, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44,
        0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63,
        0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a,
        0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97,
        0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4,
        0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca,
        0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7,
        0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa,
    ],
};

/// A Huffman table ready for encoding: for each symbol, its code in the low `len` bits.
#[derive(Clone)]
pub(super) struct HuffmanCodes {
    pub code: [u16; 256],
    pub len: [u8; 256],
}

impl HuffmanCodes {
    /// Canonical codes from a spec (T.81 Annex C): codes of each length are consecutive,
    /// and one longer is the next code shifted left.
    pub(super) fn new(spec: &HuffmanSpec) -> Self {
        Self::from_counts(&spec.counts, spec.symbols)
    }

    /// Canonical codes for a DHT table: `counts[l - 1]` codes of length `l`, assigned
    /// to `symbols` in order.
    pub(super) fn from_counts(counts: &[u8; 16], symbols: &[u8]) -> Self {
        let mut codes = HuffmanCodes {
            code: [0; 256],
            len: [0; 256],
        };
        let mut code = 0u16;
        let mut symbols = symbols.iter();
        for (len, &count) in (1u8..).zip(counts) {
            for _ in 0..count {
                let &symbol = symbols.next().expect("spec counts match its symbols");
                codes.code[usize::from(symbol)] = code;
                codes.len[usize::from(symbol)] = len;
                code += 1;
            }
            code <<= 1;
        }
        codes
    }
}

/// An optimal table for symbol frequencies `freqs` (T.81 K.2): code lengths at most 16
/// bits, and no code of all 1 bits, which T.81 reserves. Returns the DHT counts and
/// the symbols in code order (by length, then value). Unused symbols get no code.
pub(super) fn optimal_table(freqs: &[u32; 256]) -> ([u8; 16], Vec<u8>) {
    // A reserved 257th symbol, used once, takes the all-ones code and is then dropped
    // (libjpeg's `jpeg_gen_optimal_table` does the same).
    let mut with_reserved = freqs.to_vec();
    with_reserved.push(1);
    let mut lengths = crate::encode::png::huffman::lengths(&with_reserved, 16);
    // The all-ones code is the last code of the longest length, which canonical order
    // gives to the highest symbol of that length: make that the reserved one. Swapping
    // lengths with a real symbol that had the longest only shortens that symbol's code.
    let longest = lengths.iter().copied().max().unwrap_or(0);
    if lengths[256] != longest {
        if let Some(s) = (0..256).rev().find(|&s| lengths[s] == longest) {
            lengths.swap(s, 256);
        }
    }
    let mut counts = [0u8; 16];
    let mut symbols = Vec::new();
    for len in 1..=16u8 {
        for (symbol, _) in lengths[..256]
            .iter()
            .enumerate()
            .filter(|&(_, &l)| l == len)
        {
            counts[usize::from(len) - 1] += 1;
            symbols.push(symbol as u8);
        }
    }
    (counts, symbols)
}

/// `table` scaled to `quality` (1–100, clamped) as libjpeg's `jpeg_quality_scaling`
/// does, every entry kept within 1–255 for a baseline file; natural order.
fn scaled(table: &[u16; 64], quality: u8) -> [u8; 64] {
    let quality = u32::from(quality.clamp(1, 100));
    let scale = if quality < 50 {
        5000 / quality
    } else {
        200 - quality * 2
    };
    table.map(|v| ((u32::from(v) * scale + 50) / 100).clamp(1, 255) as u8)
}

/// AAN's per-frequency output scale, `cos(k·π/16)·√2` for `k` > 0: the float DCT in
/// [`super::dct`] leaves its coefficients multiplied by `8 · s(u) · s(v)`.
pub(super) const AAN_SCALE: [f64; 8] = [
    1.0,
    1.387_039_845,
    1.306_562_965,
    1.175_875_602,
    1.0,
    0.785_694_958,
    0.541_196_100,
    0.275_899_379,
];

/// One component's quantisation: the table as written to DQT (zig-zag order) and the
/// multipliers that turn the DCT's raw output into quantised coefficients.
pub(super) struct Quantizer {
    /// The DQT payload: 64 entries in zig-zag order.
    pub zigzag: [u8; 64],
    /// `1 / (q · 8 · s(u) · s(v))` indexed as the DCT leaves its output: transposed,
    /// `u * 8 + v` for horizontal frequency `u` and vertical `v`.
    pub multipliers: [f32; 64],
}

impl Quantizer {
    fn new(natural: [u8; 64]) -> Self {
        let zigzag = ZIGZAG.map(|n| natural[usize::from(n)]);
        let mut multipliers = [0.0; 64];
        for (i, m) in multipliers.iter_mut().enumerate() {
            let (u, v) = (i / 8, i % 8);
            let q = f64::from(natural[v * 8 + u]);
            *m = (1.0 / (q * 8.0 * AAN_SCALE[u] * AAN_SCALE[v])) as f32;
        }
        Quantizer {
            zigzag,
            multipliers,
        }
    }
}

/// Everything an encode at one quality needs: quantisers and Huffman codes for luma
/// (index 0) and chroma (index 1).
pub(super) struct Tables {
    pub quant: [Quantizer; 2],
    pub dc: [HuffmanCodes; 2],
    pub ac: [HuffmanCodes; 2],
}

impl Tables {
    pub(super) fn new(quality: u8) -> Self {
        Self::split(quality, quality)
    }

    /// Luma quantised at `quality`, chroma at `chroma_quality` (both libjpeg's 1–100).
    pub(super) fn split(quality: u8, chroma_quality: u8) -> Self {
        Tables {
            quant: [
                Quantizer::new(scaled(&LUMA_QUANT, quality)),
                Quantizer::new(scaled(&CHROMA_QUANT, chroma_quality)),
            ],
            dc: [HuffmanCodes::new(&LUMA_DC), HuffmanCodes::new(&CHROMA_DC)],
            ac: [HuffmanCodes::new(&LUMA_AC), HuffmanCodes::new(&CHROMA_AC)],
        }
    }
}

/// For zig-zag position `k`, where the DCT leaves that coefficient (see
/// [`Quantizer::multipliers`]).
pub(super) const ZIGZAG_TRANSPOSED: [u8; 64] = {
    let mut out = [0u8; 64];
    let mut k = 0;
    while k < 64 {
        let n = ZIGZAG[k];
        out[k] = (n % 8) * 8 + n / 8;
        k += 1;
    }
    out
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zigzag_is_a_permutation_walking_anti_diagonals() {
        let mut seen = [false; 64];
        for (k, &n) in ZIGZAG.iter().enumerate() {
            assert!(!seen[usize::from(n)]);
            seen[usize::from(n)] = true;
            if k > 0 {
                let (p, q) = (ZIGZAG[k - 1], n);
                // Consecutive entries are neighbours: one step along a diagonal, or
                // one step right or down at the edge.
                let (pr, pc, qr, qc) = (p / 8, p % 8, q / 8, q % 8);
                assert!(pr.abs_diff(qr) <= 1 && pc.abs_diff(qc) <= 1, "{p} -> {q}");
            }
        }
    }

    #[test]
    fn huffman_specs_are_complete_prefix_codes() {
        for spec in [&LUMA_DC, &CHROMA_DC, &LUMA_AC, &CHROMA_AC] {
            let total: usize = spec.counts.iter().map(|&c| usize::from(c)).sum();
            assert_eq!(total, spec.symbols.len());
            let codes = HuffmanCodes::new(spec);
            let used: Vec<(u16, u8)> = spec
                .symbols
                .iter()
                .map(|&s| (codes.code[usize::from(s)], codes.len[usize::from(s)]))
                .collect();
            // No code is a prefix of another, and none is all ones (T.81 C).
            for (i, &(a, la)) in used.iter().enumerate() {
                assert_ne!(u32::from(a), (1 << la) - 1);
                for &(b, lb) in &used[i + 1..] {
                    let l = la.min(lb);
                    assert_ne!(a >> (la - l), b >> (lb - l));
                }
            }
        }
        // Every (run, size) an 8-bit baseline encoder can emit has a code.
        for spec in [&LUMA_AC, &CHROMA_AC] {
            let codes = HuffmanCodes::new(spec);
            for run in 0..16 {
                for size in 1..=10 {
                    assert!(codes.len[run << 4 | size] > 0);
                }
            }
            assert!(codes.len[0x00] > 0 && codes.len[0xF0] > 0);
        }
    }

    #[test]
    fn quality_scaling_matches_libjpeg() {
        assert_eq!(scaled(&LUMA_QUANT, 50), LUMA_QUANT.map(|v| v as u8));
        assert_eq!(scaled(&LUMA_QUANT, 100), [1; 64]);
        // q85: scale 30 → (16·30 + 50) / 100 = 5, (99·30 + 50) / 100 = 30.
        assert_eq!(scaled(&LUMA_QUANT, 85)[0], 5);
        assert_eq!(scaled(&CHROMA_QUANT, 85)[63], 30);
        // q1: scale 5000 → clamped to the baseline maximum.
        assert_eq!(scaled(&CHROMA_QUANT, 1), [255; 64]);
        assert_eq!(scaled(&LUMA_QUANT, 0), scaled(&LUMA_QUANT, 1));
    }

    /// Kraft sum of a DHT table, in units of 2^-16.
    fn kraft(counts: &[u8; 16]) -> u32 {
        (1..=16).map(|l| u32::from(counts[l - 1]) << (16 - l)).sum()
    }

    #[test]
    fn optimal_tables_stay_within_16_bits_and_leave_the_all_ones_code_free() {
        // Fibonacci frequencies want codes far longer than 16 bits.
        let mut fib = [0u32; 256];
        let (mut a, mut b) = (1u32, 1u32);
        for f in fib.iter_mut().take(40) {
            *f = a;
            (a, b) = (b, a.saturating_add(b));
        }
        let mut one = [0u32; 256];
        one[0] = 5;
        let mut every = [0u32; 256];
        for (i, f) in every.iter_mut().enumerate() {
            *f = 1 + (i as u32 * 7919) % 1000;
        }
        for freqs in [fib, one, every] {
            let (counts, symbols) = optimal_table(&freqs);
            let used = freqs.iter().filter(|&&f| f > 0).count();
            assert_eq!(symbols.len(), used);
            assert_eq!(counts.iter().map(|&c| usize::from(c)).sum::<usize>(), used);
            // Strictly under 1: some code (the all-ones one) is left unused.
            assert!(kraft(&counts) < 1 << 16, "{counts:?}");
            let codes = HuffmanCodes::from_counts(&counts, &symbols);
            for &s in &symbols {
                let (code, len) = (codes.code[usize::from(s)], codes.len[usize::from(s)]);
                assert!((1..=16).contains(&len));
                assert_ne!(
                    u32::from(code),
                    (1u32 << len) - 1,
                    "symbol {s} has all ones"
                );
            }
        }
    }
}
