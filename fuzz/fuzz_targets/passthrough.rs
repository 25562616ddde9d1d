//! Differential: the JPEG pass-through (its Huffman-only scan walk and the rebuilt
//! file) against zune-jpeg and jpeg-decoder. Whatever the engine would serve in place
//! of a square baseline JPEG must decode to exactly the source's pixels, by both.
#![no_main]

#[path = "../../tests/support/invariants.rs"]
#[allow(dead_code)]
mod invariants;
#[path = "../../tests/support/fuzz_input.rs"]
#[allow(dead_code)]
mod fuzz_input;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(e) = fuzz_input::run_passthrough(data) {
        panic!("{e}");
    }
});
