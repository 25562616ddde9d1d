//! The progressive path against the sequential one and two other decoders.
//!
//! jpeg-encoder writes progressive files with spectral selection only, so these tests
//! also carry a small progressive *re-encoder* with successive approximation (what
//! libjpeg's default progressive script uses): it takes the quantised coefficients of
//! a sequential file and writes them again as a DC first pass and refinement, AC first
//! passes and refinements (T.81 G.1.2, after libjpeg's `jcphuff.c`). The coefficients
//! are the same, so our progressive decode must equal our sequential decode byte for
//! byte, and zune-jpeg and jpeg-decoder must agree with it.

use jpeg_encoder::{ColorType, Encoder, SamplingFactor};

use super::entropy::{decode_block, Bits, Block};
use super::frame::{self, read_frame, ZIGZAG};
use super::tests::{assert_agrees_with_both, difference, jpeg_decoder, picture, zune, SAMPLINGS};
use super::{pipelined, progressive};
use crate::probe::jpeg::marker::{DQT, SOF0, SOS};
use crate::probe::jpeg_segments::Segments;
use crate::probe::probe;

/// A scan of the script: components (indices), spectral band, approximation bits.
struct ScanSpec {
    components: Vec<usize>,
    start: usize,
    end: usize,
    high: u32,
    low: u32,
}

fn spec(components: &[usize], start: usize, end: usize, high: u32, low: u32) -> ScanSpec {
    ScanSpec {
        components: components.to_vec(),
        start,
        end,
        high,
        low,
    }
}

/// libjpeg's default script for YCbCr (`jcparam.c` `jpeg_simple_progression`), and
/// its equivalent for one component.
fn libjpeg_script(components: usize) -> Vec<ScanSpec> {
    if components == 1 {
        return vec![
            spec(&[0], 0, 0, 0, 1),
            spec(&[0], 1, 5, 0, 2),
            spec(&[0], 6, 63, 0, 2),
            spec(&[0], 1, 63, 2, 1),
            spec(&[0], 0, 0, 1, 0),
            spec(&[0], 1, 63, 1, 0),
        ];
    }
    vec![
        spec(&[0, 1, 2], 0, 0, 0, 1),
        spec(&[0], 1, 5, 0, 2),
        spec(&[2], 1, 63, 0, 1),
        spec(&[1], 1, 63, 0, 1),
        spec(&[0], 6, 63, 0, 2),
        spec(&[0], 1, 63, 2, 1),
        spec(&[0, 1, 2], 0, 0, 1, 0),
        spec(&[2], 1, 63, 1, 0),
        spec(&[1], 1, 63, 1, 0),
        spec(&[0], 1, 63, 1, 0),
    ]
}

/// The quantised coefficients of a sequential file, per component, in the layout
/// the progressive decoder uses (MCU-padded block grid, row by row).
struct Coefficients {
    width: usize,
    height: usize,
    /// (id, h, v) per component, h and v as the MCU uses them (1, 1 for gray).
    components: Vec<(u8, usize, usize)>,
    blocks: Vec<Vec<Block>>,
    mcus: (usize, usize),
    /// The file's DQT segments and its frame header (marker and all).
    dqt: Vec<u8>,
    sof: Vec<u8>,
}

fn coefficients(jpeg: &[u8]) -> Coefficients {
    let layout = frame::parse(jpeg).expect("a sequential file the fast path takes");
    let (mut dqt, mut sof, mut ids) = (Vec::new(), Vec::new(), Vec::new());
    let mut segments = Segments::after_soi(jpeg).unwrap();
    loop {
        let s = segments.read().unwrap();
        match s.marker {
            DQT => dqt.extend_from_slice(&jpeg[s.start..s.end]),
            SOF0 => {
                sof = jpeg[s.start..s.end].to_vec();
                ids = read_frame(s.body).unwrap().2.iter().map(|c| c.0).collect();
            }
            SOS => break,
            _ => {}
        }
    }
    let (mcus_across, mcu_rows) = layout.mcus();
    let components: Vec<(u8, usize, usize)> = layout
        .components
        .iter()
        .zip(&ids)
        .map(|(c, &id)| (id, c.h, c.v))
        .collect();
    let mut blocks: Vec<Vec<Block>> = components
        .iter()
        .map(|&(_, h, v)| vec![[0; 64]; mcus_across * h * mcu_rows * v])
        .collect();
    let mut bits = Bits::new(layout.scan);
    let mut predictors = [0i32; 3];
    let mut done = 0;
    for my in 0..mcu_rows {
        for mx in 0..mcus_across {
            if layout.restart_interval > 0 && done > 0 && done % layout.restart_interval == 0 {
                bits.restart(done / layout.restart_interval - 1).unwrap();
                predictors = [0; 3];
            }
            done += 1;
            for (c, component) in layout.components.iter().enumerate() {
                let (dc, ac) = (
                    layout.dc_tables[component.dc].as_deref().unwrap(),
                    layout.ac_tables[component.ac].as_deref().unwrap(),
                );
                let across = mcus_across * component.h;
                for y in 0..component.v {
                    for x in 0..component.h {
                        let at = (my * component.v + y) * across + mx * component.h + x;
                        decode_block(&mut bits, &mut blocks[c][at], dc, ac, &mut predictors[c])
                            .unwrap();
                    }
                }
            }
        }
    }
    Coefficients {
        width: layout.width,
        height: layout.height,
        components,
        blocks,
        mcus: (mcus_across, mcu_rows),
        dqt,
        sof,
    }
}

/// Bits out, most significant first, with a zero byte stuffed after every `FF`.
#[derive(Default)]
struct BitWriter {
    out: Vec<u8>,
    byte: u8,
    filled: u32,
}

impl BitWriter {
    fn put(&mut self, value: u32, count: u32) {
        for i in (0..count).rev() {
            self.byte = self.byte << 1 | ((value >> i) & 1) as u8;
            self.filled += 1;
            if self.filled == 8 {
                self.out.push(self.byte);
                if self.byte == 0xFF {
                    self.out.push(0);
                }
                (self.byte, self.filled) = (0, 0);
            }
        }
    }

    /// Pads to a whole byte with one bits.
    fn flush(&mut self) {
        while self.filled != 0 {
            self.put(1, 1);
        }
    }

    /// DC categories 0–11: four bits each.
    fn dc_symbol(&mut self, size: u32) {
        self.put(size, 4);
    }

    /// Every symbol 0–255 has a code: 0–253 eight bits (the symbol itself), 254 and
    /// 255 nine bits (508, 509), so no table has to be fitted to the data.
    fn symbol(&mut self, symbol: u8) {
        match symbol {
            0..=253 => self.put(u32::from(symbol), 8),
            _ => self.put(508 + u32::from(symbol - 254), 9),
        }
    }
}

/// The DHT body of the table [`BitWriter::symbol`] codes with, as AC table 0, or
/// of the DC table [`BitWriter::dc_symbol`] codes with, as DC table 0.
fn universal_table(ac: bool) -> Vec<u8> {
    let mut counts = [0u8; 16];
    let symbols: Vec<u8> = if ac {
        counts[7] = 254;
        counts[8] = 2;
        (0..=255).collect()
    } else {
        counts[3] = 12;
        (0..12).collect()
    };
    let mut body = vec![u8::from(ac) << 4];
    body.extend_from_slice(&counts);
    body.extend(symbols);
    body
}

fn segment(marker: u8, body: &[u8]) -> Vec<u8> {
    let mut s = vec![0xFF, marker];
    s.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
    s.extend_from_slice(body);
    s
}

/// The magnitude category of `v` and its value bits (T.81 F.1.2.1).
fn category(v: i32) -> (u32, u32) {
    let size = 32 - v.unsigned_abs().leading_zeros();
    let bits = if v < 0 { v - 1 } else { v } as u32 & ((1 << size) - 1);
    (size, bits)
}

/// A scan's encoder state: DC predictors, the pending end-of-band run and the
/// correction bits that go with it.
struct ScanWriter<'a> {
    w: BitWriter,
    scan: &'a ScanSpec,
    predictors: [i32; 3],
    eob_run: u32,
    pending: Vec<u32>,
}

impl ScanWriter<'_> {
    fn emit_eob_run(&mut self) {
        if self.eob_run > 0 {
            let bits = 31 - self.eob_run.leading_zeros();
            self.w.symbol((bits << 4) as u8);
            if bits > 0 {
                self.w.put(self.eob_run & ((1 << bits) - 1), bits);
            }
            self.eob_run = 0;
            for b in std::mem::take(&mut self.pending) {
                self.w.put(b, 1);
            }
        }
    }

    fn block(&mut self, k: usize, block: &Block) {
        let scan = self.scan;
        let (low, high) = (scan.low, scan.high);
        if scan.start == 0 {
            let v = i32::from(block[0]) >> low;
            if high == 0 {
                let (size, bits) = category(v - self.predictors[k]);
                self.predictors[k] = v;
                self.w.dc_symbol(size);
                self.w.put(bits, size);
            } else {
                self.w.put((v & 1) as u32, 1);
            }
            return;
        }
        let zigzag = |k: usize| i32::from(block[usize::from(ZIGZAG[k])]);
        if high == 0 {
            let mut run = 0;
            for k in scan.start..=scan.end {
                let c = zigzag(k);
                let magnitude = c.abs() >> low;
                if magnitude == 0 {
                    run += 1;
                    continue;
                }
                self.emit_eob_run();
                while run > 15 {
                    self.w.symbol(0xF0);
                    run -= 16;
                }
                let (size, bits) = category(if c < 0 { -magnitude } else { magnitude });
                self.w.symbol((run << 4 | size) as u8);
                self.w.put(bits, size);
                run = 0;
            }
            if run > 0 {
                self.eob_run += 1;
                if self.eob_run == 0x7FFF {
                    self.emit_eob_run();
                }
            }
            return;
        }
        // Refinement: `last` is the last coefficient that becomes non-zero here.
        let magnitude = |k: usize| zigzag(k).abs() >> low;
        let last = (scan.start..=scan.end).rev().find(|&k| magnitude(k) == 1);
        let (mut run, mut corrections) = (0u32, Vec::new());
        for k in scan.start..=scan.end {
            let m = magnitude(k);
            if m == 0 {
                run += 1;
                continue;
            }
            while run > 15 && last.is_some_and(|last| k <= last) {
                self.emit_eob_run();
                self.w.symbol(0xF0);
                run -= 16;
                for b in corrections.drain(..) {
                    self.w.put(b, 1);
                }
            }
            if m > 1 {
                corrections.push((m & 1) as u32);
                continue;
            }
            self.emit_eob_run();
            self.w.symbol((run << 4 | 1) as u8);
            self.w.put(u32::from(zigzag(k) >= 0), 1);
            for b in corrections.drain(..) {
                self.w.put(b, 1);
            }
            run = 0;
        }
        if run > 0 || !corrections.is_empty() {
            self.eob_run += 1;
            self.pending.extend(corrections);
            if self.eob_run == 0x7FFF || self.pending.len() > 900 {
                self.emit_eob_run();
            }
        }
    }
}

/// `c` written again as a progressive file with `script`, restart markers every
/// `restart` MCUs (0: none).
fn reencode(c: &Coefficients, script: &[ScanSpec], restart: usize) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8];
    out.extend_from_slice(&c.dqt);
    let mut sof = c.sof.clone();
    sof[1] = 0xC2;
    out.extend_from_slice(&sof);
    out.extend(segment(0xC4, &universal_table(false)));
    out.extend(segment(0xC4, &universal_table(true)));
    if restart > 0 {
        out.extend(segment(0xDD, &(restart as u16).to_be_bytes()));
    }
    let hmax = c.components[0].1;
    let vmax = c.components[0].2;
    for scan in script {
        let mut header = vec![scan.components.len() as u8];
        for &k in &scan.components {
            header.extend_from_slice(&[c.components[k].0, 0x00]);
        }
        header.extend_from_slice(&[
            scan.start as u8,
            scan.end as u8,
            (scan.high << 4 | scan.low) as u8,
        ]);
        out.extend(segment(SOS, &header));
        let mut sw = ScanWriter {
            w: BitWriter::default(),
            scan,
            predictors: [0; 3],
            eob_run: 0,
            pending: Vec::new(),
        };
        // The blocks of each MCU, in order.
        let mut mcus: Vec<Vec<(usize, usize)>> = Vec::new();
        if let [k] = scan.components[..] {
            let (_, h, v) = c.components[k];
            let across = c.mcus.0 * h;
            let used = (
                (c.width * h).div_ceil(hmax).div_ceil(8),
                (c.height * v).div_ceil(vmax).div_ceil(8),
            );
            for by in 0..used.1 {
                for bx in 0..used.0 {
                    mcus.push(vec![(k, by * across + bx)]);
                }
            }
        } else {
            for my in 0..c.mcus.1 {
                for mx in 0..c.mcus.0 {
                    let mut mcu = Vec::new();
                    for &k in &scan.components {
                        let (_, h, v) = c.components[k];
                        for y in 0..v {
                            for x in 0..h {
                                mcu.push((k, (my * v + y) * c.mcus.0 * h + mx * h + x));
                            }
                        }
                    }
                    mcus.push(mcu);
                }
            }
        }
        for (n, mcu) in mcus.iter().enumerate() {
            if restart > 0 && n > 0 && n % restart == 0 {
                sw.emit_eob_run();
                sw.w.flush();
                sw.w.out
                    .extend_from_slice(&[0xFF, 0xD0 + ((n / restart - 1) % 8) as u8]);
                sw.predictors = [0; 3];
            }
            for &(k, at) in mcu {
                let position = scan.components.iter().position(|&s| s == k).unwrap();
                sw.block(position, &c.blocks[k][at]);
            }
        }
        sw.emit_eob_run();
        sw.w.flush();
        out.extend_from_slice(&sw.w.out);
    }
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}

/// The test picture as a JPEG: sequential, or progressive with `scans` scans per
/// component (jpeg-encoder's spectral selection).
fn encode(
    (width, height): (usize, usize),
    sampling: SamplingFactor,
    gray: bool,
    quality: u8,
    scans: Option<u8>,
) -> Vec<u8> {
    let rgb = picture(width, height, (width * 7 + height) as u32);
    let mut out = Vec::new();
    let mut encoder = Encoder::new(&mut out, quality);
    encoder.set_sampling_factor(sampling);
    if let Some(scans) = scans {
        encoder.set_progressive_scans(scans);
    }
    let (w, h) = (width as u16, height as u16);
    if gray {
        let luma: Vec<u8> = rgb.chunks_exact(3).map(|p| p[1]).collect();
        encoder.encode(&luma, w, h, ColorType::Luma).unwrap();
    } else {
        encoder.encode(&rgb, w, h, ColorType::Rgb).unwrap();
    }
    out
}

fn on_threads<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

fn ours(jpeg: &[u8], threads: usize) -> Option<Vec<u8>> {
    let info = probe(jpeg).unwrap();
    on_threads(threads, || {
        progressive::decode(jpeg, info.stored_width, info.stored_height)
    })
    .unwrap()
    .map(|p| p.data)
}

#[test]
fn successive_approximation_decodes_to_the_sequential_pixels() {
    for (width, height) in [(1, 1), (17, 9), (67, 45), (333, 251)] {
        for (s, sampling) in SAMPLINGS.into_iter().enumerate() {
            for gray in [false, true] {
                let label = format!("{width}x{height} {sampling:?} gray {gray}");
                let base = encode((width, height), sampling, gray, [85, 60, 95, 75][s], None);
                let expected =
                    on_threads(1, || pipelined::decode(&base, width as u32, height as u32))
                        .unwrap()
                        .unwrap()
                        .0
                        .data;
                let c = coefficients(&base);
                for restart in [0, 1, 5] {
                    let file = reencode(&c, &libjpeg_script(c.components.len()), restart);
                    let label = format!("{label} restart {restart}");
                    let one = ours(&file, 1).unwrap_or_else(|| panic!("{label}: not taken"));
                    assert!(
                        one == expected,
                        "{label}: differs from the sequential decode"
                    );
                    assert!(
                        ours(&file, 2).unwrap() == one,
                        "{label}: two threads differ"
                    );
                    assert_agrees_with_both(&label, &one, &file);
                }
            }
        }
    }
}

#[test]
fn jpeg_encoders_spectral_selection_files_agree_with_two_decoders() {
    for (width, height) in [(8, 8), (67, 45), (300, 200)] {
        for (sampling, gray) in [
            (SamplingFactor::R_4_2_0, false),
            (SamplingFactor::R_4_4_4, false),
            (SamplingFactor::R_4_2_0, true),
        ] {
            for scans in [2, 9] {
                let file = encode((width, height), sampling, gray, 80, Some(scans));
                let label = format!("{width}x{height} {sampling:?} gray {gray} scans {scans}");
                let one = ours(&file, 1).unwrap_or_else(|| panic!("{label}: not taken"));
                assert!(
                    ours(&file, 2).unwrap() == one,
                    "{label}: two threads differ"
                );
                // jpeg-encoder quantises the same coefficients whether it writes them
                // progressively or not: our two paths must give the same pixels.
                let base = encode((width, height), sampling, gray, 80, None);
                let (w, h) = (width as u32, height as u32);
                let sequential = on_threads(1, || pipelined::decode(&base, w, h));
                assert!(
                    sequential.unwrap().unwrap().0.data == one,
                    "{label}: differs from the sequential file's decode"
                );
                // jpeg-decoder follows libjpeg, as we do. zune-jpeg's output for these
                // 4:2:0 files (DC in one scan per component) is up to 12 levels away
                // from both.
                let (max, mean) = difference(&one, &jpeg_decoder(&file));
                assert!(
                    max <= 3 && mean < 0.2,
                    "{label}: vs jpeg-decoder {max} {mean:.3}"
                );
            }
        }
    }
}

#[test]
fn cut_or_damaged_scans_never_panic_and_cut_ones_are_left_to_zune() {
    let base = encode((96, 80), SamplingFactor::R_4_2_0, false, 85, None);
    let file = reencode(&coefficients(&base), &libjpeg_script(3), 3);
    assert!(ours(&file, 1).is_some());
    let eoi = file.len() - 2;
    let last_sos = file.windows(2).rposition(|w| w == [0xFF, SOS]).unwrap();
    // Cut inside the last scan's data: EOI follows early, so the scan runs short.
    for cut in (last_sos + 14..eoi).step_by(5) {
        let cut_file = [&file[..cut], &[0xFF, 0xD9][..]].concat();
        assert!(ours(&cut_file, 1).is_none(), "cut at {cut} of {eoi}");
    }
    let mut decoded = 0;
    for at in (2..eoi).step_by(3) {
        for value in [0x00, 0x5A, 0xFF] {
            let mut broken = file.clone();
            broken[at] = value;
            let Ok(info) = probe(&broken) else { continue };
            for threads in [1, 2] {
                let got = on_threads(threads, || {
                    progressive::decode(&broken, info.stored_width, info.stored_height)
                });
                if let Ok(Some(p)) = got {
                    let size = info.stored_width as usize * info.stored_height as usize * 3;
                    assert_eq!(p.data.len(), size);
                    decoded += 1;
                }
            }
        }
    }
    assert!(decoded > 0, "no damaged file decoded at all");
}

#[test]
fn bundled_and_real_progressive_photos_agree_with_zune() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let bundled = root.join("testdata/jpeg_progressive_700x700.jpg");
    // The real photo is optional (../shared); the bundled file is always there.
    let real = root.join("../shared/bench-inputs/jpeg_progressive_1000x750.jpg");
    for (path, required) in [(bundled, true), (real, false)] {
        let Ok(file) = std::fs::read(&path) else {
            assert!(!required, "{} missing", path.display());
            continue;
        };
        let label = path.display();
        let one = ours(&file, 1).unwrap_or_else(|| panic!("{label}: not taken"));
        assert!(
            ours(&file, 2).unwrap() == one,
            "{label}: two threads differ"
        );
        let (max, mean) = difference(&one, &zune(&file));
        assert!(max <= 6 && mean < 0.6, "{label}: vs zune {max} {mean:.3}");
    }
}
