//! What every answer of `process` must satisfy, checked on the output bytes with
//! decoders independent of the engine's (jpeg-decoder, png, gif).
//!
//! Shared, by `#[path]`, between the integration tests (corpus replay) and the fuzz
//! targets in `fuzz/`, so both hold the engine to the same contract.

use avatar_engine::{Avatar, Error, Format, Policy, Rendition};

/// Every wire code a rejection may carry, as documented on `ErrorKind`.
pub const CODES: [&str; 6] = [
    "bad_image",
    "too_large",
    "too_small",
    "too_many_frames",
    "invalid_arguments",
    "internal_error",
];

/// Checks one answer: a rejection has a documented code and is not `internal_error`
/// (that is a caught panic or encoder failure: always a bug); a success has exactly the
/// requested sizes, in order, each decoding to `size`×`size` with no metadata.
pub fn check_answer(policy: &Policy, answer: &Result<Avatar, Error>) -> Result<(), String> {
    let avatar = match answer {
        Err(e) if e.code() == "internal_error" => return Err(format!("internal error: {e}")),
        Err(e) if CODES.contains(&e.code()) => return Ok(()),
        Err(e) => return Err(format!("undocumented code: {e}")),
        Ok(avatar) => avatar,
    };
    let sizes: Vec<u32> = avatar.renditions.iter().map(|r| r.size).collect();
    if sizes != policy.sizes {
        return Err(format!("sizes {sizes:?}, asked for {:?}", policy.sizes));
    }
    if !avatar.posters.is_empty() {
        let sizes: Vec<u32> = avatar.posters.iter().map(|r| r.size).collect();
        if sizes != policy.sizes {
            return Err(format!("poster sizes {sizes:?}"));
        }
    }
    for r in avatar.renditions.iter().chain(&avatar.posters) {
        check_rendition(r).map_err(|e| format!("{} {}: {e}", r.format, r.size))?;
    }
    Ok(())
}

/// One rendition decodes to `size`×`size` (and to `frames` frames) and has no metadata.
pub fn check_rendition(r: &Rendition) -> Result<(), String> {
    let (w, h, frames) = match r.format {
        Format::Jpeg => {
            jpeg_segments_are_bare(&r.bytes)?;
            let mut d = jpeg_decoder::Decoder::new(&r.bytes[..]);
            d.decode().map_err(|e| format!("jpeg-decoder: {e}"))?;
            let info = d.info().ok_or("jpeg-decoder: no info")?;
            (u32::from(info.width), u32::from(info.height), 1)
        }
        Format::Png => {
            png_chunks_are_bare(&r.bytes)?;
            let mut d = png::Decoder::new(std::io::Cursor::new(&r.bytes))
                .read_info()
                .map_err(|e| format!("png: {e}"))?;
            let mut buf = vec![0; d.output_buffer_size().ok_or("png: no output size")?];
            let frame = d.next_frame(&mut buf).map_err(|e| format!("png: {e}"))?;
            (frame.width, frame.height, 1)
        }
        Format::Gif => {
            gif_blocks_are_bare(&r.bytes)?;
            let mut options = gif::DecodeOptions::new();
            options.set_color_output(gif::ColorOutput::Indexed);
            let mut d = options
                .read_info(&r.bytes[..])
                .map_err(|e| format!("gif: {e}"))?;
            let (w, h) = (u32::from(d.width()), u32::from(d.height()));
            let mut frames = 0;
            while d
                .read_next_frame()
                .map_err(|e| format!("gif: {e}"))?
                .is_some()
            {
                frames += 1;
            }
            (w, h, frames)
        }
        other => return Err(format!("unexpected rendition format {other}")),
    };
    if (w, h) != (r.size, r.size) {
        return Err(format!("decodes to {w}x{h}"));
    }
    if frames != r.frames {
        return Err(format!("{frames} frames, reported {}", r.frames));
    }
    Ok(())
}

/// Before the first scan: only SOI, JFIF APP0, tables, SOF0 and DRI. No APP1..APP15
/// (EXIF, XMP, ICC, Adobe) and no COM.
pub fn jpeg_segments_are_bare(jpeg: &[u8]) -> Result<(), String> {
    if jpeg.get(..2) != Some(&[0xFF, 0xD8]) {
        return Err("no SOI".into());
    }
    let mut pos = 2;
    loop {
        let head = jpeg.get(pos..pos + 4).ok_or("ends before the scan")?;
        if head[0] != 0xFF {
            return Err(format!("no marker at {pos}"));
        }
        match head[1] {
            0xDA => return Ok(()),
            0xE0 if jpeg.get(pos + 4..pos + 9) == Some(b"JFIF\0") => {}
            0xC0 | 0xC4 | 0xDB | 0xDD => {}
            m => return Err(format!("segment FF{m:02X} before the scan")),
        }
        pos += 2 + usize::from(u16::from_be_bytes([head[2], head[3]]));
    }
}

/// Only IHDR, PLTE, tRNS, IDAT and IEND: no text, EXIF, ICC, gamma or time chunks.
pub fn png_chunks_are_bare(png: &[u8]) -> Result<(), String> {
    let mut pos = 8;
    while pos < png.len() {
        let head = png.get(pos..pos + 8).ok_or("truncated chunk header")?;
        let len = u32::from_be_bytes(head[..4].try_into().unwrap()) as usize;
        let kind = &head[4..8];
        if ![&b"IHDR"[..], b"PLTE", b"tRNS", b"IDAT", b"IEND"].contains(&kind) {
            return Err(format!("chunk {}", String::from_utf8_lossy(kind)));
        }
        pos += 12 + len;
    }
    Ok(())
}

/// Only graphic control and the NETSCAPE2.0 loop extension: no comments, plain text
/// or other application extensions (XMP, ICC).
pub fn gif_blocks_are_bare(gif: &[u8]) -> Result<(), String> {
    let at = |i: usize| gif.get(i).copied().ok_or("truncated GIF");
    let table = |flags: u8| {
        if flags & 0x80 != 0 {
            3 << ((flags & 7) + 1)
        } else {
            0
        }
    };
    let sub_blocks = |mut i: usize| -> Result<usize, String> {
        loop {
            let n = usize::from(at(i)?);
            i += 1 + n;
            if n == 0 {
                return Ok(i);
            }
        }
    };
    let mut pos = 13 + table(at(10)?);
    loop {
        match at(pos)? {
            0x3B => return Ok(()),
            0x21 => {
                let label = at(pos + 1)?;
                let netscape = label == 0xFF && gif.get(pos + 3..pos + 14) == Some(b"NETSCAPE2.0");
                if label != 0xF9 && !netscape {
                    return Err(format!("extension 0x{label:02X}"));
                }
                pos = sub_blocks(pos + 2)?;
            }
            0x2C => {
                let flags = at(pos + 9)?;
                pos = sub_blocks(pos + 10 + table(flags) + 1)?;
            }
            b => return Err(format!("block 0x{b:02X} at {pos}")),
        }
    }
}
