//! Encode → process → decode: a valid JPEG, PNG or GIF built from the bytes must be
//! accepted, give every size decodable with no metadata, and (square PNG with
//! transparency) come back pixel-exact at its own size.
#![no_main]

#[path = "../../tests/support/invariants.rs"]
#[allow(dead_code)]
mod invariants;
#[path = "../../tests/support/fuzz_input.rs"]
#[allow(dead_code)]
mod fuzz_input;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(e) = fuzz_input::run_roundtrip(data) {
        panic!("{e}");
    }
});
