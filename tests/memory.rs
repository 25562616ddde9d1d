//! Peak heap use of hostile and honest jobs, measured by a counting global allocator.
//!
//! A binary of its own (the allocator is process-wide) with one test, so nothing else
//! allocates while a job is measured. Every job must stay within `Policy::max_alloc`;
//! bombs refused from their headers must not allocate their claimed size at all.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use avatar_engine::{process, Policy, Upload};

#[path = "support/generate.rs"]
mod generate;

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let now = CURRENT.fetch_add(by, Relaxed) + by;
    PEAK.fetch_max(now, Relaxed);
}

// SAFETY: every call is forwarded to `System` unchanged; only counters are updated.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            CURRENT.fetch_sub(layout.size(), Relaxed);
            grew(new_size);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs the job and returns its answer code and the peak bytes allocated above what
/// was live when it started.
fn peak_of(policy: &Policy, bytes: &[u8]) -> (&'static str, usize) {
    let base = CURRENT.load(Relaxed);
    PEAK.store(base, Relaxed);
    let code = process(policy, &Upload::new(bytes)).map_or_else(|e| e.code(), |_| "ok");
    (code, PEAK.load(Relaxed) - base)
}

const MIB: usize = 1 << 20;

fn crc_chunk(out: &mut Vec<u8>, kind: &[u8; 4], body: &[u8]) {
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(body);
    let crc = crc32fast::hash(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// A PNG that declares `w`×`h` RGBA and carries a few bytes of (zero) image data.
fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    let mut p = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    crc_chunk(&mut p, b"IHDR", &ihdr);
    crc_chunk(
        &mut p,
        b"IDAT",
        &miniz_oxide::deflate::compress_to_vec_zlib(&[0; 64], 6),
    );
    crc_chunk(&mut p, b"IEND", &[]);
    p
}

/// A baseline JPEG frame header of `w`×`h` with a scan of a few bytes.
fn jpeg_claiming(w: u16, h: u16) -> Vec<u8> {
    let mut j = vec![0xFF, 0xD8, 0xFF, 0xC0, 0, 17, 8];
    j.extend_from_slice(&h.to_be_bytes());
    j.extend_from_slice(&w.to_be_bytes());
    j.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
    j.extend_from_slice(&[0xFF, 0xDA, 0, 12, 3, 1, 0, 2, 0x11, 3, 0x11, 0, 63, 0]);
    j.extend_from_slice(&[0x12, 0x34, 0xFF, 0xD9]);
    j
}

/// A GIF whose logical screen is `w`×`h`, with one 1×1 frame.
fn gif_claiming(w: u16, h: u16) -> Vec<u8> {
    let mut g = b"GIF89a".to_vec();
    g.extend_from_slice(&w.to_le_bytes());
    g.extend_from_slice(&h.to_le_bytes());
    g.extend_from_slice(&[0x80, 0, 0, 0, 0, 0, 255, 255, 255]);
    g.extend_from_slice(&[0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 0x01, 0, 0x3B]);
    g
}

/// A real PNG of `side`² grey zeros: a decompression bomb (~1000:1) that is honest
/// about its size.
fn zero_png(side: u32) -> Vec<u8> {
    let data = vec![0u8; (side * side) as usize];
    generate::png_with(
        side,
        side,
        png::ColorType::Grayscale,
        png::BitDepth::Eight,
        &data,
        None,
        None,
        &[],
    )
}

/// A `side`² animated GIF of `frames` frames, each a flat colour.
fn flat_gif(side: u16, frames: usize) -> Vec<u8> {
    let frames: Vec<generate::GifFrame> = (0..frames)
        .map(|i| generate::gif_frame(0, 0, side, side, move |_, _| (i % 16) as u8))
        .collect();
    generate::gif(side, side, &frames, Some(gif::Repeat::Infinite))
}

#[test]
fn peak_heap_stays_within_the_budget_and_bombs_allocate_nothing() {
    // A loose policy: only the memory budget stands between a header and its claim.
    let mut loose = Policy::default();
    loose.min_side = 1;
    loose.max_side = 100_000;

    // Headers claiming 65535² (16 GiB of RGBA) on bodies of a few dozen bytes.
    for (name, bytes) in [
        ("PNG 65535x65535", png_claiming(65535, 65535)),
        ("JPEG 65535x65535", jpeg_claiming(65535, 65535)),
        ("GIF screen 65535x65535", gif_claiming(65535, 65535)),
    ] {
        let (code, peak) = peak_of(&loose, &bytes);
        assert_eq!(code, "too_large", "{name}");
        assert!(peak < MIB, "{name}: {peak} bytes allocated");
    }

    // A 16000² zero PNG (~250 KB, 1 GiB of RGBA): refused from its header.
    let bomb = zero_png(16000);
    let (code, peak) = peak_of(&loose, &bomb);
    assert_eq!(code, "too_large");
    assert!(peak < bomb.len() + MIB, "16000² bomb: {peak} bytes");

    // A 3000² zero PNG the budget allows: decoded, and the job stays inside max_alloc.
    let (code, peak) = peak_of(&loose, &zero_png(3000));
    assert_eq!(code, "ok");
    assert!(peak as u64 <= loose.max_alloc, "3000² job peaked at {peak}");

    // Honest maximum-size jobs under the default policy, against the budget, and an
    // animation whose peak does not grow with its frame count (frames are streamed).
    let policy = Policy::default();
    let photo = generate::jpeg(&generate::photo(1024, 1024, 4, 6), 90, |_| {});
    let (code, jpeg_peak) = peak_of(&policy, &photo);
    assert_eq!(code, "ok");
    assert!(jpeg_peak as u64 <= policy.max_alloc);
    assert!(jpeg_peak < 48 * MIB, "1024² JPEG job peaked at {jpeg_peak}");
    let (code, two) = peak_of(&policy, &flat_gif(1024, 2));
    assert_eq!(code, "ok");
    let (code, fifty) = peak_of(&policy, &flat_gif(1024, 50));
    assert_eq!(code, "ok");
    assert!(fifty as u64 <= policy.max_alloc);
    assert!(
        fifty < two + two / 2,
        "50 frames peaked at {fifty}, 2 frames at {two}"
    );
    eprintln!(
        "peak heap: 1024² JPEG {} MiB, 1024² GIF 2 frames {} MiB, 50 frames {} MiB",
        jpeg_peak / MIB,
        two / MIB,
        fifty / MIB
    );
}
