//! Writes a copy of a JPEG tagged with a generated ICC profile (APP2 `ICC_PROFILE`,
//! right after SOI), for measuring what colour management costs a job:
//!
//! ```sh
//! cargo run --release --example tag_icc -- IN.jpg OUT.jpg display-p3
//! ```
//!
//! Profiles: `display-p3`, `adobe-rgb`, `pro-photo`, `srgb` (made by moxcms from their
//! published primaries and curves).

use moxcms::ColorProfile;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output, name] = &args[..] else {
        eprintln!("usage: tag_icc IN.jpg OUT.jpg display-p3|adobe-rgb|pro-photo|srgb");
        std::process::exit(2);
    };
    let profile = match name.as_str() {
        "display-p3" => ColorProfile::new_display_p3(),
        "adobe-rgb" => ColorProfile::new_adobe_rgb(),
        "pro-photo" => ColorProfile::new_pro_photo_rgb(),
        "srgb" => ColorProfile::new_srgb(),
        other => {
            eprintln!("unknown profile {other}");
            std::process::exit(2);
        }
    };
    let icc = profile.encode().expect("encode profile");
    let jpeg = std::fs::read(input).expect("read input");
    assert!(jpeg.starts_with(&[0xFF, 0xD8]), "not a JPEG");
    let mut out = jpeg[..2].to_vec();
    for (i, part) in icc.chunks(65_519 - 14).enumerate() {
        out.extend_from_slice(&[0xFF, 0xE2]);
        out.extend_from_slice(&(part.len() as u16 + 16).to_be_bytes());
        out.extend_from_slice(b"ICC_PROFILE\0");
        out.extend([i as u8 + 1, icc.len().div_ceil(65_519 - 14) as u8]);
        out.extend_from_slice(part);
    }
    out.extend_from_slice(&jpeg[2..]);
    std::fs::write(output, out).expect("write output");
}
