//! An independent GIF reader for tests: block parser, LZW via weezl, and its own
//! compositing (disposal, transparency, clipping). Shares no code with the engine or
//! the `gif` crate's frame handling, so it can judge both the engine's decoding of
//! sources and its encoding of renditions.

/// Every frame as displayed (RGBA screens), with delays and the loop count.
pub struct Anim {
    pub w: usize,
    pub h: usize,
    /// NETSCAPE2.0 loop count if present (0 = forever).
    pub loops: Option<u16>,
    pub frames: Vec<(Vec<u8>, u16)>,
}

pub fn decode(b: &[u8]) -> Anim {
    assert!(b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a"));
    let w = usize::from(u16::from_le_bytes([b[6], b[7]]));
    let h = usize::from(u16::from_le_bytes([b[8], b[9]]));
    let flags = b[10];
    let mut pos = 13;
    let global = colour_table(b, &mut pos, flags).unwrap_or_default();
    let mut screen = vec![0u8; w * h * 4];
    let mut anim = Anim {
        w,
        h,
        loops: None,
        frames: vec![],
    };
    let (mut dispose, mut transparent, mut delay) = (0u8, None, 0u16);
    let sub_blocks = |pos: &mut usize| -> Vec<u8> {
        let mut data = vec![];
        loop {
            let n = usize::from(b[*pos]);
            *pos += 1;
            if n == 0 {
                return data;
            }
            data.extend_from_slice(&b[*pos..*pos + n]);
            *pos += n;
        }
    };
    loop {
        match b[pos] {
            0x3B => return anim,
            0x21 => {
                let label = b[pos + 1];
                pos += 2;
                let data = sub_blocks(&mut pos);
                match label {
                    0xF9 => {
                        dispose = (data[0] >> 2) & 7;
                        delay = u16::from_le_bytes([data[1], data[2]]);
                        transparent = (data[0] & 1 == 1).then_some(data[3]);
                    }
                    0xFF if data.starts_with(b"NETSCAPE2.0") => {
                        anim.loops = Some(u16::from_le_bytes([data[12], data[13]]));
                    }
                    _ => {}
                }
            }
            0x2C => {
                let r = |i: usize| usize::from(u16::from_le_bytes([b[pos + i], b[pos + i + 1]]));
                let (fx, fy, fw, fh) = (r(1), r(3), r(5), r(7));
                let fflags = b[pos + 9];
                pos += 10;
                let palette = colour_table(b, &mut pos, fflags).unwrap_or_else(|| global.clone());
                assert_eq!(
                    fflags & 0x40,
                    0,
                    "interlaced frames are not used by these tests"
                );
                let min_code = b[pos];
                pos += 1;
                let data = sub_blocks(&mut pos);
                let mut indices = weezl::decode::Decoder::new(weezl::BitOrder::Lsb, min_code)
                    .decode(&data)
                    .expect("LZW");
                indices.resize(fw * fh, 0);
                let saved = screen.clone();
                for y in 0..fh {
                    for x in 0..fw {
                        let (sx, sy) = (fx + x, fy + y);
                        let i = indices[y * fw + x];
                        if sx >= w || sy >= h || Some(i) == transparent {
                            continue;
                        }
                        let c = palette.get(usize::from(i)).copied().unwrap_or([0, 0, 0]);
                        screen[(sy * w + sx) * 4..][..4].copy_from_slice(&[c[0], c[1], c[2], 255]);
                    }
                }
                anim.frames.push((screen.clone(), delay));
                match dispose {
                    2 => {
                        for y in fy..(fy + fh).min(h) {
                            for x in fx..(fx + fw).min(w) {
                                screen[(y * w + x) * 4..][..4].fill(0);
                            }
                        }
                    }
                    3 => screen = saved,
                    _ => {}
                }
                (dispose, transparent, delay) = (0, None, 0);
            }
            other => panic!("unexpected GIF block 0x{other:02X} at {pos}"),
        }
    }
}

/// The colour table at `pos` that `flags` (screen or image descriptor) announces, if any.
fn colour_table(b: &[u8], pos: &mut usize, flags: u8) -> Option<Vec<[u8; 3]>> {
    if flags & 0x80 == 0 {
        return None;
    }
    let n = 2usize << (flags & 7);
    let table = b[*pos..*pos + 3 * n]
        .chunks_exact(3)
        .map(|c| [c[0], c[1], c[2]])
        .collect();
    *pos += 3 * n;
    Some(table)
}
