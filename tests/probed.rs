//! Probe once: `probe_upload` then `process_probed` is `process`, with the header facts
//! in between, and the second half still holds the upload to the policy it is given.

use avatar_engine::{probe_upload, process, process_probed, Limit, Policy, Upload};

use crate::support::policy_with;

fn testdata(name: &str) -> Vec<u8> {
    std::fs::read(format!("testdata/{name}")).unwrap()
}

#[test]
fn the_two_halves_give_what_process_gives() {
    let policy = Policy::default();
    for name in [
        "photo_landscape_800x600.jpg",
        "png_rgba8_circle_600x600.png",
        "gif_animated_3_frames_600x600.gif",
        "orientation_6.jpg",
    ] {
        let bytes = testdata(name);
        let upload = Upload::new(&bytes);
        let probed = probe_upload(&policy, upload).unwrap();
        assert_eq!(
            *probed.info(),
            avatar_engine::probe(&bytes).unwrap(),
            "{name}"
        );
        let whole = process(&policy, &upload).unwrap();
        let halves = process_probed(&policy, &probed).unwrap();
        assert!(
            whole.renditions == halves.renditions,
            "{name}: renditions differ"
        );
        assert!(whole.posters == halves.posters, "{name}: posters differ");
    }
}

#[test]
fn the_first_half_refuses_what_process_refuses_before_decoding() {
    let policy = Policy::default();
    let photo = testdata("photo_landscape_800x600.jpg");
    let mut cut = photo.clone();
    cut.truncate(photo.len() / 2);
    let small = testdata("size_511x700_too_small.jpg");
    let big = testdata("size_1025x800_too_large.jpg");
    let gif = testdata("gif_animated_3_frames_600x600.gif");
    let two_frames = policy_with(|p| p.max_frames = 2);
    let cases: [(&Policy, Upload, &str); 6] = [
        (&policy, Upload::new(b"<svg/>"), "bad_image"),
        (
            &policy,
            Upload::new(&photo).with_content_type("image/png"),
            "bad_image",
        ),
        (&policy, Upload::new(&cut), "bad_image"),
        (&policy, Upload::new(&small), "too_small"),
        (&policy, Upload::new(&big), "too_large"),
        (&two_frames, Upload::new(&gif), "too_many_frames"),
    ];
    for (policy, upload, code) in cases {
        let probed = probe_upload(policy, upload).map(|p| *p.info()).unwrap_err();
        let whole = process(policy, &upload).unwrap_err();
        assert_eq!(probed.code(), code, "{probed}");
        assert_eq!(probed.to_string(), whole.to_string());
    }
}

/// A server may change the policy after probing (it adds the upload's own side to the
/// sizes); a stricter one is still enforced in the second half, without a new probe.
#[test]
fn the_second_half_checks_the_policy_it_is_given() {
    let photo = testdata("photo_landscape_800x600.jpg");
    let gif = testdata("gif_animated_3_frames_600x600.gif");
    let probed = probe_upload(&Policy::default(), Upload::new(&photo)).unwrap();
    let narrow = policy_with(|p| p.max_side = 700);
    let e = process_probed(&narrow, &probed).unwrap_err();
    assert_eq!((e.code(), e.limit()), ("too_large", Some(Limit::Side)));
    let tight = policy_with(|p| p.max_alloc = 1 << 20);
    let e = process_probed(&tight, &probed).unwrap_err();
    assert_eq!((e.code(), e.limit()), ("too_large", Some(Limit::Memory)));
    let probed = probe_upload(&Policy::default(), Upload::new(&gif)).unwrap();
    let two = policy_with(|p| p.max_frames = 2);
    let e = process_probed(&two, &probed).unwrap_err();
    assert_eq!(
        (e.code(), e.limit()),
        ("too_many_frames", Some(Limit::Frames))
    );
    // And a looser one is used as given: the photo's own side added.
    let probed = probe_upload(&Policy::default(), Upload::new(&photo)).unwrap();
    let with_800 = policy_with(|p| p.sizes.push(800));
    let avatar = process_probed(&with_800, &probed).unwrap();
    assert!(avatar.rendition(800).is_some());
}
