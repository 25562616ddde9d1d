//! Reading the colour description an upload carries, from its headers only.
//!
//! JPEG: the APP2 `ICC_PROFILE` chunks (numbered 1..=n, gathered in order, before the
//! first scan) and the frame's component count. PNG: `iCCP` (zlib-inflated with a hard
//! cap), else `sRGB`, else `cHRM` and `gAMA`, all before the first `IDAT`. GIF carries
//! none in practice. Anything malformed reads as "no profile" (sRGB, as browsers
//! treat an untagged image), never as an error.

use crate::probe::jpeg_segments::marker::{DAC, DHT, EOI, JPG, SOS};
use crate::probe::jpeg_segments::Segments;
use crate::probe::png::chunk_at;
use crate::sniff::Format;

/// The largest ICC profile read, in bytes (after inflating a PNG `iCCP`); larger ones
/// are ignored. Camera and phone profiles are 0.5–60 KiB; big printer (CMYK LUT)
/// profiles reach 2–3 MiB.
pub const MAX_PROFILE_BYTES: usize = 4 << 20;

/// What the headers say about the pixels' colours.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Described {
    /// Nothing usable: the pixels are taken as sRGB.
    Untagged,
    /// The PNG `sRGB` chunk: already sRGB.
    Srgb,
    /// An embedded ICC profile, whole.
    Icc(Vec<u8>),
    /// PNG `cHRM` and/or `gAMA` without `iCCP` or `sRGB`.
    Chromaticities {
        /// White, red, green, blue chromaticities (x, y); sRGB's when absent.
        primaries: Option<[[f64; 2]; 4]>,
        /// Encoding gamma (`gAMA` / 100000, e.g. 0.45455); sRGB's curve when absent.
        gamma: Option<f64>,
    },
}

/// The colour description of an upload, and whether its pixels are gray (one channel
/// plus perhaps alpha in the file) — a gray profile fits only gray pixels and an RGB
/// profile only colour ones.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Embedded {
    pub described: Described,
    pub gray: bool,
    /// Components of the JPEG frame (1, 3 or 4), or 0 for PNG/GIF.
    pub jpeg_components: u8,
}

impl Embedded {
    /// Bytes the profile adds to the job's memory: its own bytes.
    pub fn bytes(&self) -> u64 {
        match &self.described {
            Described::Icc(p) => p.len() as u64,
            _ => 0,
        }
    }
}

/// Reads the colour description of `bytes` (already sniffed as `format`).
pub(crate) fn read(bytes: &[u8], format: Format) -> Embedded {
    let mut out = match format {
        Format::Jpeg => jpeg(bytes),
        Format::Png => png(bytes),
        Format::Gif => None,
    }
    .unwrap_or(Embedded {
        described: Described::Untagged,
        gray: false,
        jpeg_components: 0,
    });
    if let Described::Icc(p) = &out.described {
        if p.len() > MAX_PROFILE_BYTES {
            out.described = Described::Untagged;
        }
    }
    out
}

const ICC_SIGNATURE: &[u8] = b"ICC_PROFILE\0";

fn jpeg(bytes: &[u8]) -> Option<Embedded> {
    let mut walk = Segments::after_soi(bytes)?;
    let mut chunks: Vec<(u8, u8, &[u8])> = Vec::new();
    let mut components = 0u8;
    // Up to the first scan, which is not read: its data can be most of the file.
    while !matches!(walk.peek_marker(), None | Some(SOS | EOI)) {
        let Ok(seg) = walk.read() else { break };
        match seg.marker {
            // SOFn (not DHT C4, JPG C8, DAC CC): the component count.
            0xC0..=0xCF if !matches!(seg.marker, DHT | JPG | DAC) => {
                components = *seg.body.get(5).unwrap_or(&0);
            }
            0xE2 if seg.body.starts_with(ICC_SIGNATURE) && seg.body.len() >= 14 => {
                let (seq, count) = (seg.body[12], seg.body[13]);
                chunks.push((seq, count, &seg.body[14..]));
            }
            _ => {}
        }
    }
    Some(Embedded {
        described: gather_icc(chunks).map_or(Described::Untagged, Described::Icc),
        gray: components == 1,
        jpeg_components: components,
    })
}

/// The profile from its numbered chunks: every sequence number 1..=count exactly once,
/// all with the same count. Anything else is ignored (libjpeg's rule).
fn gather_icc(mut chunks: Vec<(u8, u8, &[u8])>) -> Option<Vec<u8>> {
    let count = chunks.first()?.1;
    if count == 0 || chunks.len() != usize::from(count) || chunks.iter().any(|c| c.1 != count) {
        return None;
    }
    chunks.sort_by_key(|c| c.0);
    if chunks.iter().zip(1..=count).any(|(c, want)| c.0 != want) {
        return None;
    }
    let total: usize = chunks.iter().map(|c| c.2.len()).sum();
    if total > MAX_PROFILE_BYTES {
        return None;
    }
    Some(chunks.iter().flat_map(|c| c.2.iter().copied()).collect())
}

fn png(bytes: &[u8]) -> Option<Embedded> {
    let mut pos = 8;
    let (mut icc, mut srgb, mut chrm, mut gama) = (None, false, None, None);
    let mut gray = false;
    while let Some((kind, data)) = chunk_at(bytes, pos) {
        pos += 12 + data.len();
        match kind {
            b"IHDR" => gray = matches!(data.get(9), Some(0 | 4)),
            b"IDAT" | b"IEND" => break,
            b"iCCP" if icc.is_none() => icc = Some(inflate_iccp(data)),
            b"sRGB" => srgb = true,
            b"cHRM" if data.len() == 32 => {
                let v = |i: usize| {
                    f64::from(u32::from_be_bytes(
                        data[i * 4..i * 4 + 4].try_into().unwrap(),
                    )) / 100_000.0
                };
                chrm = Some([[v(0), v(1)], [v(2), v(3)], [v(4), v(5)], [v(6), v(7)]]);
            }
            b"gAMA" if data.len() == 4 => {
                let g = u32::from_be_bytes(data.try_into().unwrap());
                gama = (g > 0).then(|| f64::from(g) / 100_000.0);
            }
            _ => {}
        }
    }
    let described = match (icc, srgb) {
        (Some(Some(profile)), _) => Described::Icc(profile),
        // A damaged iCCP is ignored, as the rest of a malformed profile would be.
        (Some(None), _) => Described::Untagged,
        (None, true) => Described::Srgb,
        (None, false) if chrm.is_some() || gama.is_some() => Described::Chromaticities {
            primaries: chrm,
            gamma: gama,
        },
        (None, false) => Described::Untagged,
    };
    Some(Embedded {
        described,
        gray,
        jpeg_components: 0,
    })
}

/// An `iCCP` chunk's profile: name (1–79 bytes), NUL, method 0, zlib data inflated to
/// at most [`MAX_PROFILE_BYTES`].
fn inflate_iccp(data: &[u8]) -> Option<Vec<u8>> {
    let nul = data.iter().take(80).position(|&b| b == 0)?;
    let (&method, zlib) = data.get(nul + 1..)?.split_first()?;
    if method != 0 {
        return None;
    }
    fdeflate::decompress_to_vec_bounded(zlib, MAX_PROFILE_BYTES).ok()
}
