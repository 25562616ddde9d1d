//! GIF via the `gif` crate: the first frame, composited onto the logical screen as a
//! browser shows it (uncovered pixels transparent, frame rectangles clipped to the
//! screen).

use super::{decode_budget, Pixels};
use crate::alloc::try_zeroed;
use crate::error::Rejection;
use crate::probe::SourceInfo;

pub(super) fn decode_first_frame(bytes: &[u8], info: &SourceInfo) -> Result<Pixels, Rejection> {
    let fail = |e: gif::DecodingError| Rejection::bad_image(format!("GIF: {e}"));
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::RGBA);
    if let Some(limit) = std::num::NonZeroU64::new(decode_budget(info)) {
        options.set_memory_limit(gif::MemoryLimit::Bytes(limit));
    }
    let mut decoder = options.read_info(bytes).map_err(fail)?;
    let (sw, sh) = (u32::from(decoder.width()), u32::from(decoder.height()));
    let mut data = try_zeroed(sw as usize * sh as usize * 4, "GIF screen")?;
    let frame = decoder
        .read_next_frame()
        .map_err(fail)?
        .ok_or_else(|| Rejection::bad_image("GIF: no frames"))?;
    blit_rgba(&mut data, sw, sh, frame);
    Ok(Pixels {
        width: sw,
        height: sh,
        channels: 4,
        data,
    })
}

/// Draws an RGBA frame onto a `sw`×`sh` RGBA screen, clipped, skipping transparent
/// frame pixels (they show what is below).
pub(crate) fn blit_rgba(screen: &mut [u8], sw: u32, sh: u32, frame: &gif::Frame<'_>) {
    let (fx, fy) = (u32::from(frame.left), u32::from(frame.top));
    let (fw, fh) = (u32::from(frame.width), u32::from(frame.height));
    let visible_w = fw.min(sw.saturating_sub(fx)) as usize;
    let visible_h = fh.min(sh.saturating_sub(fy));
    if visible_w == 0 {
        return;
    }
    for row in 0..visible_h {
        let src_start = row as usize * fw as usize * 4;
        let Some(src) = frame.buffer.get(src_start..src_start + visible_w * 4) else {
            return;
        };
        let dst_start = ((fy + row) as usize * sw as usize + fx as usize) * 4;
        let dst = &mut screen[dst_start..dst_start + visible_w * 4];
        for (d, s) in dst.chunks_exact_mut(4).zip(src.chunks_exact(4)) {
            if s[3] != 0 {
                d.copy_from_slice(s);
            }
        }
    }
}
