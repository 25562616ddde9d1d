//! How fuzz input bytes become a job, and the round-trip check — shared, by `#[path]`,
//! between the fuzz targets in `fuzz/` and the corpus replay in the integration tests,
//! so a corpus or regression file means the same thing in both.
//!
//! A `process` input is [`KNOBS_LEN`] bytes of knobs (derived with `arbitrary`), then
//! the upload. All-zero knobs are a loose policy that accepts the small seed images:
//! sides 1–100 000, up to 64 frames, sizes 64/32/16/8, a 64 MiB budget.

use arbitrary::{Arbitrary, Unstructured};

use avatar_engine::{process, CropBox, Filter, Policy, Upload};

use super::invariants::check_answer;

/// Bytes of knobs before the upload in a `process` input.
pub const KNOBS_LEN: usize = 24;

#[derive(Arbitrary, Debug, Default, Clone, Copy)]
struct Knobs {
    min_side: u8,
    max_side: u16,
    max_frames: u8,
    size_count: u8,
    sizes: [u16; 4],
    quality: u8,
    crop_on: bool,
    crop: [u16; 3],
    content_type: u8,
    posters: bool,
    no_passthrough: bool,
    filter: u8,
    max_alloc_mib: u8,
}

/// One `process` job: the policy, crop box, declared Content-Type and upload bytes.
pub struct Job<'a> {
    pub policy: Policy,
    pub crop: Option<CropBox>,
    pub content_type: Option<&'static str>,
    pub bytes: &'a [u8],
}

/// Splits fuzz input into knobs and upload and maps the knobs to a job.
pub fn job(data: &[u8]) -> Job<'_> {
    let (head, bytes) = data.split_at(data.len().min(KNOBS_LEN));
    let k = Knobs::arbitrary(&mut Unstructured::new(head)).unwrap_or_default();
    let mut policy = Policy::default();
    policy.min_side = 1 + u32::from(k.min_side);
    policy.max_side = 100_000 - u32::from(k.max_side);
    policy.max_frames = 64 - u32::from(k.max_frames % 64);
    let default_sizes = [64, 32, 16, 8];
    policy.sizes = (0..=usize::from(k.size_count % 4))
        .map(|i| match k.sizes[i] {
            0 => default_sizes[i],
            s => 1 + u32::from(s % 300),
        })
        .collect();
    policy.jpeg_quality = match k.quality {
        0 => 85,
        q => 1 + q % 100,
    };
    policy.max_alloc = (64 - u64::from(k.max_alloc_mib % 64)) << 20;
    policy.still_posters = k.posters;
    policy.jpeg_passthrough = !k.no_passthrough;
    policy.filter = [
        Filter::Lanczos3,
        Filter::CatmullRom,
        Filter::Mitchell,
        Filter::Box,
    ][usize::from(k.filter % 4)];
    let crop = k.crop_on.then(|| {
        CropBox::new(
            u32::from(k.crop[0]),
            u32::from(k.crop[1]),
            u32::from(k.crop[2]),
        )
    });
    let content_type = [
        None,
        Some("image/jpeg"),
        Some("image/png"),
        Some("image/gif"),
        Some("image/webp"),
        Some("text/plain; charset=utf-8"),
    ][usize::from(k.content_type % 6)];
    Job {
        policy,
        crop,
        content_type,
        bytes,
    }
}

/// Runs `data` as a `process` job and checks the answer against the contract.
pub fn run_process(data: &[u8]) -> Result<(), String> {
    let job = job(data);
    let mut upload = Upload::new(job.bytes);
    if let Some(crop) = job.crop {
        upload = upload.with_crop(crop);
    }
    if let Some(ct) = job.content_type {
        upload = upload.with_content_type(ct);
    }
    check_answer(&job.policy, &process(&job.policy, &upload))
}

/// Probes `data`: a success must agree with `sniff` and give non-zero sides and at
/// least one frame; a failure must be `bad_image`.
pub fn run_probe(data: &[u8]) -> Result<(), String> {
    let sniffed = avatar_engine::sniff(data);
    match avatar_engine::probe(data) {
        Ok(info) => {
            if sniffed.as_ref().ok() != Some(&info.format) {
                return Err(format!("probe says {}, sniff {sniffed:?}", info.format));
            }
            if info.width == 0 || info.height == 0 || info.frames == 0 {
                return Err(format!("empty image: {info:?}"));
            }
            Ok(())
        }
        Err(e) if e.code() == "bad_image" => Ok(()),
        Err(e) => Err(format!("probe rejected with {e}")),
    }
}

#[derive(Arbitrary, Debug)]
struct Picture {
    width: u8,
    height: u8,
    format: u8,
    alpha: u8,
}

/// Builds a valid image from `data` (sides 1–256, JPEG, PNG RGB/RGBA or GIF; pixels
/// from the bytes), runs it through `process` with the source side among the sizes,
/// and checks the answer (every size decodes, no metadata), then the pixels: for a
/// square PNG source with transparency, the PNG rendition at the source's own size is
/// the source exactly.
pub fn run_roundtrip(data: &[u8]) -> Result<(), String> {
    let mut u = Unstructured::new(data);
    let pic = Picture::arbitrary(&mut u).map_err(|e| e.to_string())?;
    let (w, h) = (u32::from(pic.width) + 1, u32::from(pic.height) + 1);
    let fill = u.take_rest();
    let byte = |i: usize| {
        if fill.is_empty() {
            0x80
        } else {
            fill[i % fill.len()]
        }
    };
    let format = pic.format % 3;
    // Alpha: opaque, or the bytes' own values (so some pixels are transparent).
    let alpha = format == 1 && pic.alpha % 2 == 1;
    let channels = if alpha { 4 } else { 3 };
    let pixels: Vec<u8> = (0..(w * h) as usize * channels)
        .map(|i| {
            if alpha && i % 4 == 3 {
                byte(i) | 1
            } else {
                byte(i)
            }
        })
        .collect();
    let source = match format {
        0 => {
            let mut out = Vec::new();
            jpeg_encoder::Encoder::new(&mut out, 90)
                .encode(&pixels, w as u16, h as u16, jpeg_encoder::ColorType::Rgb)
                .map_err(|e| e.to_string())?;
            out
        }
        1 => {
            let mut out = Vec::new();
            let mut enc = png::Encoder::new(&mut out, w, h);
            enc.set_color(if alpha {
                png::ColorType::Rgba
            } else {
                png::ColorType::Rgb
            });
            let mut writer = enc.write_header().map_err(|e| e.to_string())?;
            writer
                .write_image_data(&pixels)
                .map_err(|e| e.to_string())?;
            writer.finish().map_err(|e| e.to_string())?;
            out
        }
        _ => {
            let frame = gif::Frame::from_rgb_speed(w as u16, h as u16, &pixels, 30);
            let mut out = Vec::new();
            let mut enc =
                gif::Encoder::new(&mut out, w as u16, h as u16, &[]).map_err(|e| e.to_string())?;
            enc.write_frame(&frame).map_err(|e| e.to_string())?;
            drop(enc);
            out
        }
    };
    let side = w.max(h);
    let mut policy = Policy::default();
    policy.min_side = 1;
    policy.sizes = vec![side, (side / 3).max(1) + 1, 1];
    policy.sizes.sort_unstable_by(|a, b| b.cmp(a));
    policy.sizes.dedup();
    let answer = process(&policy, &Upload::new(&source));
    check_answer(&policy, &answer)?;
    let avatar = answer.map_err(|e| format!("a valid {w}x{h} image was rejected: {e}"))?;
    // Only square sources keep their pixels at full size (a letterbox adds bars).
    if format == 1 && w == h {
        let r = avatar
            .rendition(side)
            .ok_or("no rendition at the source's size")?;
        if r.format == avatar_engine::Format::Png {
            let decoded = decode_png(&r.bytes)?;
            let expected: Vec<u8> = if alpha {
                pixels.clone()
            } else {
                pixels
                    .chunks_exact(3)
                    .flat_map(|p| [p[0], p[1], p[2], 255])
                    .collect()
            };
            if decoded != expected {
                return Err("PNG at the source's size is not the source".into());
            }
        }
    }
    Ok(())
}

/// RGBA8 pixels of a PNG, with the png crate.
fn decode_png(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut d = png::Decoder::new(std::io::Cursor::new(bytes));
    d.set_transformations(png::Transformations::EXPAND | png::Transformations::ALPHA);
    let mut r = d.read_info().map_err(|e| e.to_string())?;
    let mut buf = vec![0; r.output_buffer_size().ok_or("no size")?];
    let info = r.next_frame(&mut buf).map_err(|e| e.to_string())?;
    buf.truncate(info.buffer_size());
    Ok(buf)
}

/// Largest frame the pass-through target decodes, in pixels: the inputs are at most
/// 64 KiB, and neither decoder here has the engine's memory budget.
#[cfg(any(fuzzing, feature = "benchmarks"))]
const PASSTHROUGH_MAX_PIXELS: u32 = 1 << 20;

/// The pass-through against two decoders. When the engine would serve `data`'s own
/// coded data (a square baseline JPEG that zune-jpeg, the engine's decoder, reads),
/// the served file must decode, and must show exactly what the source shows by both
/// zune-jpeg and jpeg-decoder (where jpeg-decoder reads the source). A difference
/// that only one decoder sees is that decoder's misreading when it also disagrees
/// with the other decoder about the source or the served file (beyond the two
/// decoders' chroma rounding); otherwise it is a finding.
///
/// The files in `fuzz/regressions/passthrough/` are such misreadings, each checked
/// with libjpeg-turbo (through Pillow), which decodes every source and its served
/// file to identical pixels: two zune-jpeg reads the served file differently in its
/// last two rows, one jpeg-decoder reads its source 207 levels away from zune-jpeg
/// and libjpeg. Where jpeg-decoder refuses the source (one file has a zero in a
/// quantisation table), nothing here can referee, so only decoding is asked.
#[cfg(any(fuzzing, feature = "benchmarks"))]
pub fn run_passthrough(data: &[u8]) -> Result<(), String> {
    use avatar_engine::stages;
    match avatar_engine::probe(data) {
        Ok(info)
            if info.stored_width.saturating_mul(info.stored_height) <= PASSTHROUGH_MAX_PIXELS => {}
        _ => return Ok(()),
    }
    let Ok((info, zune_source)) = stages::decode(data) else {
        return Ok(());
    };
    let Some(served) = stages::passthrough(data, &info) else {
        return Ok(());
    };
    let (_, zune_served) =
        stages::decode(&served).map_err(|e| format!("zune-jpeg: the served file fails: {e}"))?;
    let reference = |bytes: &[u8]| jpeg_decoder::Decoder::new(bytes).decode();
    let Ok(reference_source) = reference(data) else {
        return Ok(());
    };
    let reference_served = reference(&served)
        .map_err(|e| format!("jpeg-decoder reads the source but not the served file: {e}"))?;
    let zune_sees = zune_served.data != zune_source.data;
    let reference_sees = reference_served != reference_source;
    let agree = rgb_close(&reference_source, &zune_source.data, 24)
        && rgb_close(&reference_served, &zune_served.data, 24);
    match (zune_sees, reference_sees) {
        (true, true) => {
            Err("both decoders: the served file's pixels differ from the source's".into())
        }
        (true, false) | (false, true) if agree => Err(format!(
            "{}: the served file's pixels differ from the source's",
            if zune_sees {
                "zune-jpeg"
            } else {
                "jpeg-decoder"
            }
        )),
        _ => Ok(()),
    }
}

/// Whether every sample of `reference` (RGB, or gray expanded to RGB) is within
/// `tolerance` of `rgb`.
#[cfg(any(fuzzing, feature = "benchmarks"))]
fn rgb_close(reference: &[u8], rgb: &[u8], tolerance: u8) -> bool {
    if reference.len() == rgb.len() {
        reference
            .iter()
            .zip(rgb)
            .all(|(a, b)| a.abs_diff(*b) <= tolerance)
    } else if reference.len() * 3 == rgb.len() {
        reference
            .iter()
            .zip(rgb.chunks_exact(3))
            .all(|(a, p)| p.iter().all(|b| a.abs_diff(*b) <= tolerance))
    } else {
        false
    }
}
