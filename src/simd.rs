//! The one place that decides whether code runs with AVX2.
//!
//! Hot loops (the JPEG encoder's strips and block walk, the PNG encoder's strips) are
//! written once in plain Rust and marked `#[inline(always)]`; [`widest`] compiles the
//! caller's closure a second time with AVX2 enabled, so LLVM vectorises them 32 bytes
//! wide, and picks that copy at run time when the CPU has AVX2. Same code, so same
//! output: no fused multiply-add is enabled, and tests compare the two copies.

/// Runs `f`, compiled for AVX2 when this CPU has it (x86-64 only; elsewhere as is).
#[inline(always)]
pub(crate) fn widest<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        #[target_feature(enable = "avx2")]
        fn with_avx2<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        #[allow(unsafe_code)]
        // SAFETY: `with_avx2` needs nothing but AVX2, which this CPU has: checked
        // just above.
        return unsafe { with_avx2(f) };
    }
    f()
}
