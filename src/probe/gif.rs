//! GIF: the logical screen and every frame descriptor, walked with the `gif` crate
//! with LZW decoding skipped, so counting frames costs no pixel work.

use super::RawHeader;
use crate::error::Error;
use crate::orient::Orientation;

pub(super) fn probe(bytes: &[u8], frame_cap: u32) -> Result<RawHeader, Error> {
    // The logical screen size sits at bytes 6..10; read it first so a huge screen on
    // a short file is reported by size, like the other formats.
    let Some(screen) = bytes.get(6..13) else {
        return Err(Error::bad_image(
            "GIF: truncated inside the screen descriptor",
        ));
    };
    let width = u32::from(u16::from_le_bytes([screen[0], screen[1]]));
    let height = u32::from(u16::from_le_bytes([screen[2], screen[3]]));
    let mut frames = 0u32;
    let mut has_alpha = false;
    let mut options = gif::DecodeOptions::new();
    options.skip_frame_decoding(true);
    options.set_color_output(gif::ColorOutput::Indexed);
    let mut decoder = match options.read_info(bytes) {
        Ok(d) => d,
        Err(e) => {
            return Ok(RawHeader {
                width,
                height,
                frames,
                orientation: Orientation::Normal,
                has_alpha,
                defect: Some(Error::bad_image(format!("GIF: {e}")).with_source(e)),
            })
        }
    };
    let defect = loop {
        match decoder.next_frame_info() {
            Ok(Some(frame)) => {
                frames += 1;
                has_alpha |= frame.transparent.is_some()
                    || (frames == 1 && !covers_screen(frame, width, height));
                if frames > frame_cap {
                    break None;
                }
            }
            Ok(None) if frames == 0 => break Some(Error::bad_image("GIF: no frames")),
            Ok(None) => break None,
            Err(e) => {
                break Some(
                    Error::bad_image(format!("GIF: frame {}: {e}", frames + 1)).with_source(e),
                )
            }
        }
    };
    Ok(RawHeader {
        width,
        height,
        frames,
        orientation: Orientation::Normal,
        has_alpha,
        defect,
    })
}

/// Whether a frame's rectangle covers the whole logical screen (if not, the rest of
/// the first frame shows as transparent, as browsers render it).
fn covers_screen(frame: &gif::Frame<'_>, width: u32, height: u32) -> bool {
    frame.left == 0
        && frame.top == 0
        && u32::from(frame.width) >= width
        && u32::from(frame.height) >= height
}
