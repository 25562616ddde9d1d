//! The default avatar before any upload (or after deletePhoto): a symmetric 5×5 block
//! pattern in a colour derived from the user id, like GitHub's identicons — no font
//! needed, distinct per user, rendered by the engine from its pixels.

use crate::{process_pixels, Policy, RawImage, Rendition};
use sha2::{Digest, Sha256};

/// Side of the generated source image, in pixels.
pub const SIDE: u32 = 512;

/// The default avatar of `user` at every size of `policy`.
pub fn renditions(user: &str, policy: &Policy) -> Result<Vec<Rendition>, String> {
    let pixels = source_pixels(user);
    RawImage::rgb8(SIDE, SIDE, &pixels)
        .and_then(|image| process_pixels(policy, &image, None, None))
        .map_err(|e| e.to_string())
}

/// A stable short hash of the pattern, for `avatar_hash` and ETags.
pub fn hash(user: &str) -> String {
    hex(&Sha256::digest(format!("identicon:{user}").as_bytes())[..6])
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The pattern as `SIDE`×`SIDE` RGB pixels.
fn source_pixels(user: &str) -> Vec<u8> {
    let digest = Sha256::digest(format!("identicon:{user}").as_bytes());
    let colour = [digest[0] / 2 + 64, digest[1] / 2 + 64, digest[2] / 2 + 64];
    let background = [240u8, 240, 240];
    let cell = SIDE / 6; // five cells and a half-cell margin each side
    let margin = (SIDE - 5 * cell) / 2;
    let mut pixels = Vec::with_capacity((SIDE * SIDE * 3) as usize);
    for y in 0..SIDE {
        for x in 0..SIDE {
            let on =
                x >= margin && y >= margin && x < margin + 5 * cell && y < margin + 5 * cell && {
                    let (cx, cy) = ((x - margin) / cell, (y - margin) / cell);
                    let col = cx.min(4 - cx); // mirrored left-right
                    digest[3 + (cy * 3 + col) as usize] & 1 == 1
                };
            pixels.extend_from_slice(if on { &colour } else { &background });
        }
    }
    pixels
}
