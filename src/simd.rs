//! The one place that decides whether code runs with AVX2.
//!
//! Hot loops (the JPEG encoder's strips and block walk, the PNG encoder's strips) are
//! written once in plain Rust and marked `#[inline(always)]`. Each is wrapped in a
//! [`Kernel`] whose `run` is `#[inline(always)]` too, and [`widest`] compiles it a
//! second time inside a function with AVX2 enabled, so LLVM vectorises it 32 bytes
//! wide, and picks that copy at run time when the CPU has AVX2. Same code, so same
//! output: no fused multiply-add is enabled, and tests compare the two copies.
//!
//! (A closure instead of a `Kernel` is not enough: its body is only hinted `inline`,
//! and with the loop forced into it LLVM left it out of the AVX2 copy — jobs took
//! 20–25% longer.)

/// A hot loop and its arguments. `run` must be `#[inline(always)]`, and so must what it
/// calls, or the AVX2 copy is not compiled.
pub(crate) trait Kernel {
    /// What the loop returns.
    type Output;
    /// Runs the loop.
    fn run(self) -> Self::Output;
}

/// Runs `kernel`, compiled for AVX2 when this CPU has it (x86-64 only; elsewhere as
/// is).
#[inline(always)]
pub(crate) fn widest<K: Kernel>(kernel: K) -> K::Output {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        #[target_feature(enable = "avx2")]
        fn with_avx2<K: Kernel>(kernel: K) -> K::Output {
            kernel.run()
        }
        #[allow(unsafe_code)]
        // SAFETY: `with_avx2` needs nothing but AVX2, which this CPU has: checked
        // just above.
        return unsafe { with_avx2(kernel) };
    }
    kernel.run()
}
