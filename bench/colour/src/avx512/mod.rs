//! Two AVX-512 kernels, 16 pixels (48 bytes) a step, one 32-bit lane a pixel: they
//! differ in how the tables are read (gathers, or permutes and arithmetic).
//! Both need AVX-512 F, BW and VBMI; the picture must be whole steps (1024² is).

pub mod gather;
pub mod poly;

use std::arch::x86_64::*;

/// The first 48 bytes of a 64-byte register: 16 RGB pixels.
const PIXELS: u64 = 0x0000_FFFF_FFFF_FFFF;

/// Byte shuffles between 16 packed RGB pixels and three registers of one channel in
/// the low byte of each 32-bit lane.
pub(crate) struct Shuffles {
    channel: [__m512i; 3],
    red_green: __m512i,
    blue: __m512i,
}

impl Shuffles {
    #[target_feature(enable = "avx512f")]
    pub(crate) fn new() -> Shuffles {
        let mut channel = [[0u8; 64]; 3];
        let mut red_green = [0u8; 64];
        let mut blue: [u8; 64] = std::array::from_fn(|i| i as u8);
        for i in 0..16 {
            for (c, table) in channel.iter_mut().enumerate() {
                table[4 * i] = (3 * i + c) as u8;
            }
            red_green[3 * i] = (4 * i) as u8;
            red_green[3 * i + 1] = (64 + 4 * i) as u8;
            blue[3 * i + 2] = (64 + 4 * i) as u8;
        }
        // SAFETY: each table is 64 bytes.
        let load = |t: &[u8; 64]| unsafe { _mm512_loadu_si512(t.as_ptr().cast()) };
        Shuffles {
            channel: channel.each_ref().map(load),
            red_green: load(&red_green),
            blue: load(&blue),
        }
    }

    /// The 16 pixels at `src` as three registers of 32-bit channel values.
    ///
    /// # Safety
    /// `src` must have 48 readable bytes; the CPU must have AVX-512 F, BW and VBMI.
    #[inline]
    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
    pub(crate) unsafe fn split(&self, src: *const u8) -> [__m512i; 3] {
        let v = _mm512_maskz_loadu_epi8(PIXELS, src.cast());
        let lanes = 0x1111_1111_1111_1111;
        self.channel
            .map(|order| _mm512_maskz_permutexvar_epi8(lanes, order, v))
    }

    /// Writes three registers of 32-bit channel values (0..=255) as 16 RGB pixels.
    ///
    /// # Safety
    /// `dst` must have 48 writable bytes; the CPU must have AVX-512 F, BW and VBMI.
    #[inline]
    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
    pub(crate) unsafe fn join(&self, [r, g, b]: [__m512i; 3], dst: *mut u8) {
        let rg = _mm512_permutex2var_epi8(r, self.red_green, g);
        let rgb = _mm512_permutex2var_epi8(rg, self.blue, b);
        _mm512_mask_storeu_epi8(dst.cast(), PIXELS, rgb);
    }
}
