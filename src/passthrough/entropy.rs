//! Huffman decoding of a sequential scan into 8×8 blocks of quantised coefficients,
//! for [`walk`](super::walk) to find where each restart interval's coded data ends.
//!
//! The bit reader keeps up to 64 bits, most significant first, and refills eight bytes
//! at a time when none of them is `FF` (a stuffed `FF 00` or a marker). At a marker,
//! or at the end of the data, it feeds zero bits and counts them: a scan that
//! consumed any of them was cut short, and is an error here (the file is then not
//! passed through).
//!
//! Codes of up to [`LOOKUP_BITS`] bits are decoded with one table look-up; AC codes
//! whose value also fits in those bits come out of a second table already extended
//! (run, value and length in one entry). Longer codes walk the canonical code ranges.

/// Zig-zag position → natural (row-major) position in an 8×8 block (T.81 figure A.6).
const ZIGZAG: [u8; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/// One 8×8 block of quantised coefficients.
pub(super) type Block = [i16; 64];

/// Bits decoded by one table look-up.
const LOOKUP_BITS: u32 = 9;
const LOOKUP_SIZE: usize = 1 << LOOKUP_BITS;

/// Why a scan could not be decoded here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ScanError {
    /// A bit pattern that is no code of the table.
    BadCode,
    /// A DC difference category above 11 or a run past the 64th coefficient.
    BadValue,
    /// The data ran out (or reached a marker) before the last block.
    Short,
    /// No `RSTn` where the restart interval puts one.
    MissingRestart,
}

/// One Huffman table, ready for decoding.
pub(super) struct Huffman {
    /// For every [`LOOKUP_BITS`]-bit prefix: `length << 8 | symbol` of the code it
    /// starts with, or 0 if that code is longer.
    lookup: [u16; LOOKUP_SIZE],
    /// For AC tables: `value << 8 | run << 4 | bits` for prefixes that hold a whole
    /// code and its value bits (value in -128..=127); 0 otherwise.
    ac_fast: [i16; LOOKUP_SIZE],
    /// For each code length: the largest code of that length, or -1 if none.
    max_code: [i32; 17],
    /// For each code length: index in `symbols` of a code minus the code.
    offset: [i32; 17],
    symbols: [u8; 256],
}

impl Huffman {
    /// A table from the DHT counts of codes per length (1–16) and the symbols in code
    /// order; `None` if the counts describe no prefix code.
    pub fn new(counts: &[u8; 16], symbols: &[u8], ac: bool) -> Option<Huffman> {
        let mut table = Huffman {
            lookup: [0; LOOKUP_SIZE],
            ac_fast: [0; LOOKUP_SIZE],
            max_code: [-1; 17],
            offset: [0; 17],
            symbols: [0; 256],
        };
        table
            .symbols
            .get_mut(..symbols.len())?
            .copy_from_slice(symbols);
        let (mut code, mut k) = (0i32, 0usize);
        for len in 1..=16 {
            let count = usize::from(counts[len - 1]);
            table.offset[len] = k as i32 - code;
            for _ in 0..count {
                if code >= 1 << len {
                    return None;
                }
                if len as u32 <= LOOKUP_BITS {
                    let shift = LOOKUP_BITS - len as u32;
                    let first = (code as usize) << shift;
                    let entry = (len as u16) << 8 | u16::from(symbols[k]);
                    table.lookup[first..first + (1 << shift)].fill(entry);
                }
                code += 1;
                k += 1;
            }
            if count > 0 {
                table.max_code[len] = code - 1;
            }
            code <<= 1;
        }
        if ac {
            table.fill_ac_fast();
        }
        Some(table)
    }

    fn fill_ac_fast(&mut self) {
        for (prefix, &entry) in self.lookup.iter().enumerate() {
            let (len, symbol) = (u32::from(entry >> 8), entry & 0xFF);
            let (run, size) = (symbol >> 4, u32::from(symbol & 15));
            if len == 0 || size == 0 || len + size > LOOKUP_BITS {
                continue;
            }
            let raw = (prefix as u32 >> (LOOKUP_BITS - len - size)) & ((1 << size) - 1);
            let value = extend(raw, size);
            if (-128..=127).contains(&value) {
                self.ac_fast[prefix] =
                    (value * 256) as i16 | (run << 4) as i16 | (len + size) as i16;
            }
        }
    }

    /// The next symbol. The reader must hold at least 16 bits.
    #[inline(always)]
    pub(super) fn decode(&self, bits: &mut Bits) -> Result<u8, ScanError> {
        let entry = self.lookup[bits.peek(LOOKUP_BITS)];
        if entry != 0 {
            bits.consume(u32::from(entry >> 8));
            return Ok(entry as u8);
        }
        self.decode_long(bits)
    }

    #[cold]
    fn decode_long(&self, bits: &mut Bits) -> Result<u8, ScanError> {
        let code16 = bits.peek(16) as i32;
        for len in LOOKUP_BITS as usize + 1..=16 {
            let code = code16 >> (16 - len);
            if code <= self.max_code[len] {
                bits.consume(len as u32);
                let index = (self.offset[len] + code) as usize;
                return self.symbols.get(index).copied().ok_or(ScanError::BadCode);
            }
        }
        Err(ScanError::BadCode)
    }
}

/// `raw`, an `size`-bit magnitude category value, as the signed number it codes
/// (T.81 F.2.2.1 EXTEND).
#[inline(always)]
pub(super) fn extend(raw: u32, size: u32) -> i32 {
    let v = raw as i32;
    // Top bit clear: negative, v - (2^size - 1).
    v + (((v >> (size - 1)) - 1) & (1 - (1 << size)))
}

/// The scan's bits, most significant first, with stuffed zero bytes removed.
pub(super) struct Bits<'a> {
    data: &'a [u8],
    /// Where the current restart interval's data begins in `data`.
    start: usize,
    pos: usize,
    /// Unread bits, left-aligned.
    acc: u64,
    /// How many bits of `acc` are loaded.
    pub(super) count: u32,
    /// How many of the loaded bits are zero padding after a marker or the end.
    padding: u32,
    at_marker: bool,
}

impl<'a> Bits<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Bits {
            data,
            start: 0,
            pos: 0,
            acc: 0,
            count: 0,
            padding: 0,
            at_marker: false,
        }
    }

    #[inline(always)]
    fn peek(&self, n: u32) -> usize {
        (self.acc >> (64 - n)) as usize
    }

    #[inline(always)]
    fn consume(&mut self, n: u32) {
        self.acc <<= n;
        self.count -= n;
    }

    /// The next `n` (1–16) bits as a number.
    #[inline(always)]
    pub(super) fn take(&mut self, n: u32) -> u32 {
        let v = self.peek(n) as u32;
        self.consume(n);
        v
    }

    /// Loads bits until at least 57 are held.
    #[inline(always)]
    pub(super) fn refill(&mut self) {
        if self.count > 56 {
            return;
        }
        if let Some(next) = self.data.get(self.pos..self.pos + 8) {
            let word = u64::from_be_bytes(next.try_into().unwrap_or([0xFF; 8]));
            // No FF byte among the eight: take as many whole bytes as fit.
            let inverted = !word;
            let has_ff =
                inverted.wrapping_sub(0x0101_0101_0101_0101) & word & 0x8080_8080_8080_8080;
            if has_ff == 0 {
                let n = (64 - self.count) / 8;
                self.acc |= (word >> (64 - 8 * n)) << (64 - self.count - 8 * n);
                self.pos += n as usize;
                self.count += 8 * n;
                return;
            }
        }
        self.refill_slowly();
    }

    #[cold]
    fn refill_slowly(&mut self) {
        while self.count <= 56 {
            let mut byte = 0;
            if !self.at_marker {
                match self.data.get(self.pos..) {
                    Some([0xFF, 0x00, ..]) => {
                        byte = 0xFF;
                        self.pos += 2;
                    }
                    Some([0xFF, ..]) | Some([]) | None => self.at_marker = true,
                    Some([b, ..]) => {
                        byte = *b;
                        self.pos += 1;
                    }
                }
            }
            if self.at_marker {
                self.padding += 8;
            }
            self.acc |= u64::from(byte) << (56 - self.count);
            self.count += 8;
        }
    }

    /// Whether any padding bit was consumed: the data was too short.
    pub fn overran(&self) -> bool {
        self.count < self.padding
    }

    /// Steps over the `RSTn` marker expected next (`n` = `index % 8`) and starts
    /// afresh after it.
    pub fn restart(&mut self, index: usize) -> Result<(), ScanError> {
        if self.overran() {
            return Err(ScanError::Short);
        }
        let mut pos = self.pos;
        while self.data.get(pos..pos + 2) == Some(&[0xFF, 0xFF]) {
            pos += 1;
        }
        if self.data.get(pos..pos + 2) != Some(&[0xFF, 0xD0 + (index % 8) as u8]) {
            return Err(ScanError::MissingRestart);
        }
        *self = Bits::new(self.data);
        self.start = pos + 2;
        self.pos = pos + 2;
        Ok(())
    }

    /// The bytes of `data` that the bits consumed in this restart interval came from:
    /// from its start to the byte holding the last consumed bit (a stuffed `FF 00`
    /// whole), and nothing after. `None` if the data ran short.
    pub fn consumed(&self) -> Option<std::ops::Range<usize>> {
        if self.overran() {
            return None;
        }
        let loaded = &self.data[self.start..self.pos];
        // Data bytes loaded: every byte, less the zero of each stuffed FF 00.
        let stuffed = loaded.windows(2).filter(|w| w == &[0xFF, 0x00]).count();
        let unread = (self.count - self.padding) as usize;
        let used_bits = 8 * (loaded.len() - stuffed) - unread;
        let mut left = used_bits.div_ceil(8);
        let mut end = self.start;
        while left > 0 {
            end += if self.data[end] == 0xFF { 2 } else { 1 };
            left -= 1;
        }
        Some(self.start..end)
    }
}

/// Where a scan's restart markers fall: before every `interval`th MCU (0: none). Also
/// records, per restart interval, the bytes its MCUs were decoded from.
pub(super) struct Restarts {
    interval: usize,
    mcus_done: usize,
    seen: usize,
    /// The consumed bytes of each finished interval, in the scan's data.
    consumed: Vec<std::ops::Range<usize>>,
}

impl Restarts {
    pub fn new(interval: usize) -> Self {
        Restarts {
            interval,
            mcus_done: 0,
            seen: 0,
            consumed: Vec::new(),
        }
    }

    /// Once the scan's last MCU is decoded: the bytes each interval's MCUs were
    /// decoded from, in order (restart markers, fill bytes and anything else between
    /// them left out). `None` if the data ran short.
    pub fn finish(mut self, bits: &Bits) -> Option<Vec<std::ops::Range<usize>>> {
        self.consumed.push(bits.consumed()?);
        Some(self.consumed)
    }

    /// Call before each MCU: steps `bits` over the `RSTn` due before it, if one is.
    /// Returns whether one was, so that the caller resets its predictors.
    pub fn before_mcu(&mut self, bits: &mut Bits) -> Result<bool, ScanError> {
        let due =
            self.interval > 0 && self.mcus_done > 0 && self.mcus_done.is_multiple_of(self.interval);
        if due {
            self.consumed.push(bits.consumed().ok_or(ScanError::Short)?);
            bits.restart(self.seen)?;
            self.seen += 1;
        }
        self.mcus_done += 1;
        Ok(due)
    }
}

/// Decodes one block into `block` (natural order; only the coded coefficients are
/// written, so a block that should hold the whole must start all zeros), updating the
/// component's DC predictor.
#[inline(always)]
pub(super) fn decode_block(
    bits: &mut Bits,
    block: &mut [i16; 64],
    dc: &Huffman,
    ac: &Huffman,
    predictor: &mut i32,
) -> Result<(), ScanError> {
    if bits.count < 32 {
        bits.refill();
    }
    let size = u32::from(dc.decode(bits)?);
    if size > 0 {
        if size > 11 {
            return Err(ScanError::BadValue);
        }
        *predictor = predictor.wrapping_add(extend(bits.take(size), size));
    }
    block[0] = *predictor as i16;
    let mut k = 1;
    while k < 64 {
        if bits.count < 32 {
            bits.refill();
        }
        let fast = ac.ac_fast[bits.peek(LOOKUP_BITS)];
        if fast != 0 {
            bits.consume((fast & 15) as u32);
            k += ((fast >> 4) & 15) as usize;
            let Some(&natural) = ZIGZAG.get(k) else {
                return Err(ScanError::BadValue);
            };
            block[usize::from(natural)] = fast >> 8;
            k += 1;
            continue;
        }
        let symbol = ac.decode(bits)?;
        let (run, size) = (usize::from(symbol >> 4), u32::from(symbol & 15));
        if size == 0 {
            if run != 15 {
                break; // end of block
            }
            k += 16;
            continue;
        }
        k += run;
        let Some(&natural) = ZIGZAG.get(k) else {
            return Err(ScanError::BadValue);
        };
        block[usize::from(natural)] = extend(bits.take(size), size) as i16;
        k += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extend_matches_the_spec() {
        for size in 1..=15u32 {
            for raw in 0..1u32 << size {
                let expected = if raw < 1 << (size - 1) {
                    raw as i32 - (1 << size) + 1
                } else {
                    raw as i32
                };
                assert_eq!(extend(raw, size), expected, "size {size} raw {raw}");
            }
        }
    }

    #[test]
    fn stuffed_bytes_and_markers_are_read_as_the_spec_says() {
        // AB, FF (stuffed), CD, then a marker: zero padding follows.
        let data = [0xAB, 0xFF, 0x00, 0xCD, 0xFF, 0xD9];
        let mut bits = Bits::new(&data);
        bits.refill();
        assert_eq!(bits.take(8), 0xAB);
        assert_eq!(bits.take(8), 0xFF);
        assert_eq!(bits.take(8), 0xCD);
        assert!(!bits.overran());
        assert_eq!(bits.take(1), 0);
        assert!(bits.overran());
    }

    #[test]
    fn fast_refill_takes_whole_bytes() {
        let data: Vec<u8> = (1..=20).collect();
        let mut bits = Bits::new(&data);
        bits.refill();
        assert_eq!(bits.take(4), 0);
        assert_eq!(bits.take(12), 0x102);
        bits.refill();
        for expected in 3..=20 {
            if bits.count < 32 {
                bits.refill();
            }
            assert_eq!(bits.take(8), expected);
        }
        assert!(!bits.overran());
    }

    #[test]
    fn codes_longer_than_the_lookup_decode() {
        // One code of each length 1..=15 and two of length 16: the complete code
        // 0, 10, 110, ..., 1111111111111110, 1111111111111111 (the last one unused).
        let mut counts = [1u8; 16];
        counts[15] = 1;
        let symbols: Vec<u8> = (0..16).collect();
        let table = Huffman::new(&counts, &symbols, false).unwrap();
        for (len, symbol) in (1..=16u32).zip(0u8..) {
            // `len - 1` ones then a zero, then other bits.
            let code: u64 = ((1u64 << (len - 1)) - 1) << 1;
            let word = (code << (64 - len)) | (0x5555 >> len) << 48;
            // An FF byte in scan data is followed by a stuffed zero.
            let data: Vec<u8> = word
                .to_be_bytes()
                .iter()
                .flat_map(|&b| if b == 0xFF { vec![b, 0] } else { vec![b] })
                .collect();
            let mut bits = Bits::new(&data);
            bits.refill();
            assert_eq!(table.decode(&mut bits), Ok(symbol), "length {len}");
            if len < 16 {
                assert_eq!(bits.take(16 - len), 0x5555 >> len, "bits after the code");
            }
        }
    }

    #[test]
    fn over_full_counts_are_refused() {
        let mut counts = [0u8; 16];
        counts[0] = 3; // three codes of one bit
        assert!(Huffman::new(&counts, &[1, 2, 3], false).is_none());
    }
}
