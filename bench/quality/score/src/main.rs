//! Scores pairs of images with SSIMULACRA2 (the rust-av `ssimulacra2` crate).
//!
//! Reads lines `WIDTH HEIGHT REFERENCE DISTORTED` on standard input, each file raw
//! little-endian f32 RGB, sRGB-encoded, 0..1, row-major; prints one score per line.

use std::io::{BufRead, Write};

use ssimulacra2::{compute_frame_ssimulacra2, ColorPrimaries, Rgb, TransferCharacteristic};

fn load(path: &str, w: usize, h: usize) -> Result<Rgb, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    if bytes.len() != w * h * 12 {
        return Err(format!("{path}: {} bytes, expected {}", bytes.len(), w * h * 12));
    }
    let px: Vec<[f32; 3]> = bytes
        .chunks_exact(12)
        .map(|c| {
            let f = |i: usize| f32::from_le_bytes([c[i], c[i + 1], c[i + 2], c[i + 3]]);
            [f(0), f(4), f(8)]
        })
        .collect();
    Rgb::new(px, w, h, TransferCharacteristic::SRGB, ColorPrimaries::BT709)
        .map_err(|e| format!("{path}: {e}"))
}

fn main() -> Result<(), String> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for line in std::io::stdin().lock().lines() {
        let line = line.map_err(|e| e.to_string())?;
        let f: Vec<&str> = line.split_whitespace().collect();
        let [w, h, a, b] = f[..] else {
            return Err(format!("bad line: {line}"));
        };
        let w: usize = w.parse().map_err(|_| format!("bad width: {line}"))?;
        let h: usize = h.parse().map_err(|_| format!("bad height: {line}"))?;
        let score = compute_frame_ssimulacra2(load(a, w, h)?, load(b, w, h)?)
            .map_err(|e| format!("{line}: {e}"))?;
        writeln!(out, "{score:.4}").map_err(|e| e.to_string())?;
        out.flush().map_err(|e| e.to_string())?;
    }
    Ok(())
}
