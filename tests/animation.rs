//! Animated GIF in, animated GIF renditions out: frames, delays, loops, disposal,
//! transparency and clipping, checked against an independent compositor.

use avatar_engine::{process, Format, Policy, Upload};
use gif::{DisposalMethod, Repeat};

use crate::support::generate::{gif, gif_frame, tiles, GifFrame};
use crate::support::{gifref, policy_with};

fn small_policy(sizes: Vec<u32>) -> Policy {
    policy_with(|p| {
        p.min_side = 1;
        p.sizes = sizes;
    })
}

/// A 120x100 animation exercising every disposal, transparency, a zero delay, a frame
/// reaching outside the screen, and an unchanged frame.
fn every_disposal() -> Vec<u8> {
    let mut frames: Vec<GifFrame> = vec![];
    frames.push(gif_frame(0, 0, 120, 100, tiles(10, 0)));
    let mut f = gif_frame(10, 10, 30, 30, tiles(5, 3));
    (f.dispose, f.delay) = (DisposalMethod::Background, 0);
    frames.push(f);
    let mut f = gif_frame(
        50,
        20,
        40,
        40,
        |x, y| if x < 20 { 0 } else { tiles(4, 6)(x, y) },
    );
    (f.dispose, f.delay, f.transparent) = (DisposalMethod::Previous, 5, Some(0));
    frames.push(f);
    let mut f = gif_frame(100, 50, 60, 60, tiles(7, 9));
    f.delay = 20;
    frames.push(f);
    let mut f = gif_frame(0, 0, 120, 100, |x, y| {
        if (40..80).contains(&x) && y > 30 {
            1
        } else {
            0
        }
    });
    f.transparent = Some(0);
    frames.push(f);
    let mut f = gif_frame(0, 0, 1, 1, |_, _| 0);
    (f.transparent, f.delay) = (Some(0), 7);
    frames.push(f);
    gif(120, 100, &frames, Some(Repeat::Finite(3)))
}

#[test]
fn frames_match_an_independent_compositing_of_the_source() {
    let source = every_disposal();
    let reference = gifref::decode(&source);
    assert_eq!(reference.frames.len(), 6);
    let avatar = process(&small_policy(vec![120, 40]), &Upload::new(&source)).unwrap();
    assert!(avatar.is_animated());
    for r in &avatar.renditions {
        assert_eq!((r.format, r.frames), (Format::Gif, 6));
        let out = gifref::decode(&r.bytes);
        assert_eq!((out.w, out.h), (r.size as usize, r.size as usize));
        assert_eq!(out.loops, Some(3), "loop count");
        let delays: Vec<u16> = out.frames.iter().map(|f| f.1).collect();
        assert_eq!(delays, [10, 0, 5, 20, 10, 7], "size {}", r.size);
    }
    // At 120 the square is the screen plus 10-pixel transparent bars, unresized, so
    // every pixel must match the reference exactly.
    let out = gifref::decode(&avatar.rendition(120).unwrap().bytes);
    for (k, ((want, _), (got, _))) in reference.frames.iter().zip(&out.frames).enumerate() {
        for y in 0..120 {
            for x in 0..120 {
                let g = &got[(y * 120 + x) * 4..][..4];
                if !(10..110).contains(&y) {
                    assert_eq!(g[3], 0, "frame {k}: bar pixel ({x},{y}) not transparent");
                    continue;
                }
                let w = &want[((y - 10) * 120 + x) * 4..][..4];
                if w[3] == 0 {
                    assert_eq!(
                        g[3], 0,
                        "frame {k}: ({x},{y}) should be transparent, is {g:?}"
                    );
                } else {
                    assert_eq!(g, w, "frame {k}: pixel ({x},{y})");
                }
            }
        }
    }
}

#[test]
fn transparent_source_pixels_stay_transparent_when_resized() {
    let source = every_disposal();
    let avatar = process(&small_policy(vec![60]), &Upload::new(&source)).unwrap();
    let out = gifref::decode(&avatar.renditions[0].bytes);
    // Frame 1 cleared (10..40, 10..40) of the screen to transparent: at half size,
    // screen (25, 25) is output (12, 17) (5 rows of bars above).
    let (f1, _) = &out.frames[2];
    assert_eq!(
        f1[(17 * 60 + 12) * 4 + 3],
        0,
        "cleared area must be transparent"
    );
    assert_eq!(f1[(40 * 60 + 50) * 4 + 3], 255);
}

#[test]
fn frame_limit_counts_frames() {
    let frames = |n: usize| -> Vec<u8> {
        let mut v = vec![gif_frame(0, 0, 512, 512, tiles(64, 0))];
        v.extend((1..n).map(|i| gif_frame(i as u16, 0, 1, 1, |_, _| 1)));
        gif(512, 512, &v, Some(Repeat::Infinite))
    };
    let fifty = process(
        &policy_with(|p| p.sizes = vec![32]),
        &Upload::new(&frames(50)),
    )
    .unwrap();
    assert_eq!(fifty.renditions[0].frames, 50);
    assert_eq!(gifref::decode(&fifty.renditions[0].bytes).frames.len(), 50);
    let e = process(&Policy::default(), &Upload::new(&frames(51))).unwrap_err();
    assert_eq!(e.code(), "too_many_frames");
}

#[test]
fn single_frame_gif_is_a_still() {
    let one = gif(
        512,
        512,
        &[gif_frame(0, 0, 512, 512, tiles(64, 0))],
        Some(Repeat::Infinite),
    );
    let avatar = process(&policy_with(|p| p.sizes = vec![64]), &Upload::new(&one)).unwrap();
    assert!(!avatar.is_animated());
    assert_eq!(
        (avatar.renditions[0].format, avatar.renditions[0].frames),
        (Format::Jpeg, 1)
    );
    assert!(avatar.posters.is_empty());
}

#[test]
fn still_posters_are_the_first_frame_and_optional() {
    let source = every_disposal();
    let avatar = process(&small_policy(vec![120, 40]), &Upload::new(&source)).unwrap();
    let sizes: Vec<u32> = avatar.posters.iter().map(|r| r.size).collect();
    assert_eq!(sizes, [120, 40]);
    // The first frame is opaque, so the poster is a JPEG (black bars, like any still).
    assert!(avatar
        .posters
        .iter()
        .all(|r| r.format == Format::Jpeg && r.frames == 1));
    let mut policy = small_policy(vec![40]);
    policy.still_posters = false;
    assert!(process(&policy, &Upload::new(&source))
        .unwrap()
        .posters
        .is_empty());
}

/// Frames that repeat the picture cost almost nothing: ten identical frames are far
/// smaller than ten times one.
#[test]
fn unchanged_frames_are_not_rewritten() {
    let make = |n: usize| {
        gif(
            120,
            120,
            &(0..n)
                .map(|_| gif_frame(0, 0, 120, 120, tiles(6, 2)))
                .collect::<Vec<_>>(),
            None,
        )
    };
    let size = |n: usize| {
        let a = process(&small_policy(vec![120]), &Upload::new(&make(n))).unwrap();
        assert_eq!(
            gifref::decode(&a.renditions[0].bytes).loops,
            None,
            "no loop block when the source has none"
        );
        a.renditions[0].bytes.len()
    };
    let (two, ten) = (size(2), size(10));
    assert!(
        ten < two + 8 * 64,
        "10 frames: {ten} bytes, 2 frames: {two} bytes"
    );
}

/// A letterboxed animation (two flat frames, 150x100): in every frame of every size
/// the bars are exactly transparent and the picture's edge pixels exactly the frame's
/// colour — the resize never runs across the picture's edge.
#[test]
fn letterbox_bars_are_exact_in_every_frame() {
    use crate::support::generate::GIF_PALETTE;
    let frames = [
        gif_frame(0, 0, 150, 100, |_, _| 2),
        gif_frame(0, 0, 150, 100, |_, _| 4),
    ];
    let source = gif(150, 100, &frames, Some(Repeat::Infinite));
    let sizes = vec![150, 64, 33, 24];
    let avatar = process(&small_policy(sizes), &Upload::new(&source)).unwrap();
    for r in &avatar.renditions {
        let anim = gifref::decode(&r.bytes);
        let side = r.size as usize;
        // The 150x100 picture scaled to `side` wide, its height rounded, centred.
        let h = (100.0 * side as f64 / 150.0).round() as usize;
        let top = (side - h) / 2;
        for ((screen, _), colour) in anim.frames.iter().zip([2usize, 4]) {
            let [r0, g0, b0] = GIF_PALETTE[colour];
            for y in 0..side {
                for x in 0..side {
                    let px = &screen[(y * side + x) * 4..][..4];
                    if y < top || y >= top + h {
                        assert_eq!(px[3], 0, "{side}: bar ({x},{y})");
                    } else if y < top + 2 || y + 2 >= top + h || x < 2 || x + 2 >= side {
                        assert_eq!(px, [r0, g0, b0, 255], "{side}: edge ({x},{y})");
                    }
                }
            }
        }
    }
}

/// A colour that a later frame brings over a small area is kept: 200 grays in the
/// first frame, then a 12x12 red square. The red used to map to a gray, because the
/// shared palette was judged to cover the frame when at most 1 in 20 of its colours
/// was far off, whatever the area.
#[test]
fn a_new_colour_over_a_small_area_is_kept() {
    let side = 256u16;
    let mut palette: Vec<u8> = (0..255u32)
        .flat_map(|i| [(i * 200 / 255) as u8; 3])
        .collect();
    palette.extend([230, 20, 20]);
    let gradient = |x: u32, y: u32| ((x + y) * 199 / 510) as u8;
    let mut out = Vec::new();
    {
        let mut enc = gif::Encoder::new(&mut out, side, side, &palette).unwrap();
        for with_square in [false, true] {
            let buffer: Vec<u8> = (0..u32::from(side) * u32::from(side))
                .map(|i| {
                    let (x, y) = (i % u32::from(side), i / u32::from(side));
                    let square = (100..112).contains(&x) && (60..72).contains(&y);
                    if with_square && square {
                        255
                    } else {
                        gradient(x, y)
                    }
                })
                .collect();
            let frame = gif::Frame {
                width: side,
                height: side,
                delay: 10,
                buffer: std::borrow::Cow::Owned(buffer),
                ..gif::Frame::default()
            };
            enc.write_frame(&frame).unwrap();
        }
    }
    let avatar = process(&small_policy(vec![256]), &Upload::new(&out)).unwrap();
    let anim = gifref::decode(&avatar.renditions[0].bytes);
    let (screen, _) = &anim.frames[1];
    for (x, y) in [(100, 60), (105, 66), (111, 71)] {
        let px = &screen[(y * 256 + x) * 4..][..4];
        assert!(
            px[0].abs_diff(230) <= 16 && px[1].abs_diff(20) <= 16 && px[2].abs_diff(20) <= 16,
            "({x},{y}) is {px:?}, not red"
        );
    }
}

/// `max_output_bytes` bounds every rendition: an animation of noise, whose renditions
/// grow by about a byte per pixel per frame, is `too_large` once one passes it (and
/// the default lets the same file through at these sizes).
#[test]
fn a_rendition_past_max_output_bytes_is_too_large() {
    let frames: Vec<GifFrame> = (0..6u32)
        .map(|k| {
            gif_frame(0, 0, 128, 128, move |x, y| {
                let h = (x + 131 * y + 17_161 * k).wrapping_mul(2_654_435_761);
                (h >> 28) as u8
            })
        })
        .collect();
    let source = gif(128, 128, &frames, Some(Repeat::Infinite));
    let policy = |max: usize| {
        policy_with(|p| {
            p.min_side = 1;
            p.sizes = vec![256, 64];
            p.max_output_bytes = max;
        })
    };
    let whole = process(&policy(16 << 20), &Upload::new(&source)).unwrap();
    let largest = whole
        .renditions
        .iter()
        .map(|r| r.bytes.len())
        .max()
        .unwrap();
    assert!(largest > 60_000, "noise at 256: {largest} bytes");
    let err = process(&policy(40_000), &Upload::new(&source)).unwrap_err();
    assert_eq!(err.code(), "too_large");
    assert!(err.detail().contains("max_output_bytes"), "{err}");
    // Stills are held to it too.
    let still = gif(128, 128, &frames[..1], None);
    let err = process(&policy(1_000), &Upload::new(&still)).unwrap_err();
    assert_eq!(err.code(), "too_large", "{err}");
}

/// `Avatar::transparent` for animations: a square animation of opaque frames is not,
/// the same letterboxed (transparent bars) or with a transparent colour is.
#[test]
fn animations_say_whether_they_show_through() {
    let opaque = |w: u16, h: u16| {
        let frames = vec![
            gif_frame(0, 0, w, h, tiles(10, 0)),
            gif_frame(0, 0, w, h, tiles(10, 3)),
        ];
        gif(w, h, &frames, None)
    };
    let policy = small_policy(vec![64]);
    let square = process(&policy, &Upload::new(&opaque(80, 80))).unwrap();
    assert!(square.is_animated() && !square.transparent());
    let wide = process(&policy, &Upload::new(&opaque(120, 80))).unwrap();
    assert!(wide.is_animated() && wide.transparent());
    let keyed = process(&policy, &Upload::new(&every_disposal())).unwrap();
    assert!(keyed.transparent());
    // Stills as before: PNG for a transparent source, JPEG otherwise.
    let still = gif(80, 80, &[gif_frame(0, 0, 80, 80, tiles(10, 0))], None);
    assert!(!process(&policy, &Upload::new(&still))
        .unwrap()
        .transparent());
}
