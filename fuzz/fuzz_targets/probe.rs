//! `sniff` + `probe` on arbitrary bytes: never a panic; a success agrees with `sniff`
//! and has non-zero sides and frames; a failure is `bad_image`.
#![no_main]

#[path = "../../tests/support/invariants.rs"]
#[allow(dead_code)]
mod invariants;
#[path = "../../tests/support/fuzz_input.rs"]
#[allow(dead_code)]
mod fuzz_input;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(e) = fuzz_input::run_probe(data) {
        panic!("{e}");
    }
});
