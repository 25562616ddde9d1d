//! Huffman coding of quantised blocks into entropy-coded bytes (T.81 F.1.2), with the
//! 0xFF byte stuffing and restart padding a scan needs.

use super::tables::HuffmanCodes;

/// Bits into bytes, most significant first, a 0x00 after every 0xFF.
pub(super) struct BitWriter {
    out: Vec<u8>,
    /// Pending bits in the low `count` bits (higher bits are stale).
    acc: u64,
    count: u32,
}

impl BitWriter {
    /// Writes after whatever `out` holds.
    pub(super) fn new(out: Vec<u8>) -> Self {
        BitWriter {
            out,
            acc: 0,
            count: 0,
        }
    }

    /// Appends the low `len` bits of `bits`; `len` at most 32.
    #[inline(always)]
    fn put(&mut self, bits: u32, len: u32) {
        self.acc = (self.acc << len) | u64::from(bits);
        self.count += len;
        if self.count >= 32 {
            self.count -= 32;
            let word = (self.acc >> self.count) as u32;
            // A byte is 0xFF exactly where `!word` has a zero byte.
            let inverted = !word;
            if inverted.wrapping_sub(0x0101_0101) & word & 0x8080_8080 == 0 {
                self.out.extend_from_slice(&word.to_be_bytes());
            } else {
                for byte in word.to_be_bytes() {
                    self.push(byte);
                }
            }
        }
    }

    #[inline(always)]
    fn push(&mut self, byte: u8) {
        self.out.push(byte);
        if byte == 0xFF {
            self.out.push(0x00);
        }
    }

    /// Pads the last byte with 1 bits (T.81 F.1.2.3) and writes out every pending bit,
    /// as the end of a scan or of a restart interval requires.
    fn flush(&mut self) {
        let pad = (8 - self.count % 8) % 8;
        self.put((1 << pad) - 1, pad);
        while self.count >= 8 {
            self.count -= 8;
            self.push((self.acc >> self.count) as u8);
        }
    }

    pub(super) fn into_bytes(mut self) -> Vec<u8> {
        self.flush();
        self.out
    }

    /// Codes one block of quantised coefficients in zig-zag order; `previous_dc` is the
    /// component's DC predictor, updated. The same walk as [`symbols`], written out:
    /// through a closure per symbol it cost 22% more instructions per job (callgrind).
    #[inline(always)]
    pub(super) fn block(
        &mut self,
        coefficients: &[i16; 64],
        previous_dc: &mut i16,
        dc: &HuffmanCodes,
        ac: &HuffmanCodes,
    ) {
        let diff = coefficients[0].wrapping_sub(*previous_dc);
        *previous_dc = coefficients[0];
        let (size, bits) = magnitude(diff);
        self.put(
            u32::from(dc.code[size as usize]) << size | bits,
            u32::from(dc.len[size as usize]) + size,
        );

        let mut nonzero = 0u64;
        for (k, &c) in coefficients.iter().enumerate().skip(1) {
            nonzero |= u64::from(c != 0) << k;
        }
        let mut last = 0;
        while nonzero != 0 {
            let k = nonzero.trailing_zeros();
            nonzero &= nonzero - 1;
            let mut run = k - last - 1;
            last = k;
            while run >= 16 {
                self.put(u32::from(ac.code[0xF0]), u32::from(ac.len[0xF0]));
                run -= 16;
            }
            let (size, bits) = magnitude(coefficients[k as usize]);
            let symbol = (run << 4 | size) as usize;
            self.put(
                u32::from(ac.code[symbol]) << size | bits,
                u32::from(ac.len[symbol]) + size,
            );
        }
        if last != 63 {
            self.put(u32::from(ac.code[0x00]), u32::from(ac.len[0x00]));
        }
    }
}

/// How often each symbol of the four tables occurs: luma DC, luma AC, chroma DC,
/// chroma AC, as [`symbols`] produces them (T.81 K.2's first pass).
pub(super) struct Frequencies(pub [[u32; 256]; 4]);

impl Frequencies {
    /// Counts one block of component `table` (0 luma, 1 chroma).
    pub(super) fn block(&mut self, coefficients: &[i16; 64], previous_dc: &mut i16, table: usize) {
        symbols(coefficients, previous_dc, |is_ac, symbol, _, _| {
            self.0[table * 2 + usize::from(is_ac)][usize::from(symbol)] += 1;
        });
    }
}

/// Walks a block's Huffman symbols in order, as [`BitWriter::block`] codes them:
/// `emit(is_ac, symbol, size, bits)` for the
/// DC difference category, then each AC run/size (ZRL 0xF0 and EOB 0x00 included),
/// each followed by its `size` extra bits.
#[inline(always)]
fn symbols(
    coefficients: &[i16; 64],
    previous_dc: &mut i16,
    mut emit: impl FnMut(bool, u8, u32, u32),
) {
    let diff = coefficients[0].wrapping_sub(*previous_dc);
    *previous_dc = coefficients[0];
    let (size, bits) = magnitude(diff);
    emit(false, size as u8, size, bits);

    let mut nonzero = 0u64;
    for (k, &c) in coefficients.iter().enumerate().skip(1) {
        nonzero |= u64::from(c != 0) << k;
    }
    let mut last = 0;
    while nonzero != 0 {
        let k = nonzero.trailing_zeros();
        nonzero &= nonzero - 1;
        let mut run = k - last - 1;
        last = k;
        while run >= 16 {
            emit(true, 0xF0, 0, 0);
            run -= 16;
        }
        let (size, bits) = magnitude(coefficients[k as usize]);
        emit(true, (run << 4 | size) as u8, size, bits);
    }
    if last != 63 {
        emit(true, 0x00, 0, 0);
    }
}

/// A coefficient's size category and its `size` low bits as T.81 F.1.2.1 codes them
/// (negative values as `value − 1` in two's complement, truncated).
#[inline(always)]
fn magnitude(value: i16) -> (u32, u32) {
    let size = 16 - value.unsigned_abs().leading_zeros();
    let bits = (i32::from(value) - i32::from(value < 0)) as u32 & ((1 << size) - 1);
    (size, bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magnitude_categories() {
        assert_eq!(magnitude(0), (0, 0));
        assert_eq!(magnitude(1), (1, 1));
        assert_eq!(magnitude(-1), (1, 0));
        assert_eq!(magnitude(5), (3, 0b101));
        assert_eq!(magnitude(-5), (3, 0b010));
        assert_eq!(magnitude(2047), (11, 0x7FF));
        assert_eq!(magnitude(-2047), (11, 0));
    }

    #[test]
    fn stuffs_0xff_and_pads_with_ones() {
        let mut w = BitWriter::new(vec![0xAA]);
        // 0xFF, 0x12, 0xFF, 0x34 in one word, then 3 bits 0b101.
        w.put(0xFF12_FF34, 32);
        w.put(0b101, 3);
        assert_eq!(
            w.into_bytes(),
            [0xAA, 0xFF, 0x00, 0x12, 0xFF, 0x00, 0x34, 0b1011_1111]
        );
        // A word without 0xFF goes out whole; a padded 0xFF gets stuffed too.
        let mut w = BitWriter::new(Vec::new());
        w.put(0x0102_FE7F, 32);
        w.put(0x7F, 7);
        assert_eq!(w.into_bytes(), [0x01, 0x02, 0xFE, 0x7F, 0xFF, 0x00]);
    }

    #[test]
    fn many_short_codes_keep_their_order() {
        let mut w = BitWriter::new(Vec::new());
        for i in 0..100u32 {
            w.put(i % 8, 3);
        }
        let bytes = w.into_bytes();
        let bit = |n: usize| (bytes[n / 8] >> (7 - n % 8)) & 1;
        for i in 0..100usize {
            let v = (0..3).fold(0, |v, b| v << 1 | bit(3 * i + b));
            assert_eq!(u32::from(v), i as u32 % 8);
        }
    }
}
