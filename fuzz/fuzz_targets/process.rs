//! `process` on arbitrary bytes under an arbitrary small policy, crop box and
//! Content-Type (the first `KNOBS_LEN` bytes, see `tests/support/fuzz_input.rs`).
//! Every success has exactly the requested sizes, each decoding (independent decoders)
//! with no metadata; every failure has a documented code other than `internal_error`.
#![no_main]

#[path = "../../tests/support/invariants.rs"]
#[allow(dead_code)]
mod invariants;
#[path = "../../tests/support/fuzz_input.rs"]
#[allow(dead_code)]
mod fuzz_input;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(e) = fuzz_input::run_process(data) {
        panic!("{e}");
    }
});
