//! The committed `testdata/` is exactly what the generator makes.

use crate::support::generate;

#[test]
fn committed_fixtures_match_the_generator() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
    let generated = generate::all();
    for (name, bytes) in &generated {
        let committed = std::fs::read(dir.join(name))
            .unwrap_or_else(|e| panic!("{name}: {e}; run `cargo run --example gen_testdata`"));
        assert!(
            committed == *bytes,
            "{name} differs from the generator's output; regenerate"
        );
    }
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    on_disk.sort();
    let mut names: Vec<String> = generated.into_iter().map(|(n, _)| n).collect();
    names.sort();
    assert_eq!(
        on_disk, names,
        "testdata/ holds files the generator does not make"
    );
}

/// The independent rotation helpers agree with the EXIF definitions on a 3x2 grid.
#[test]
fn generator_rotations_follow_exif() {
    let img = generate::Img::new(3, 2, 3, |x, y| [(y * 3 + x) as u8, 0, 0, 255]);
    let first = |i: &generate::Img| i.data.chunks_exact(3).map(|p| p[0]).collect::<Vec<_>>();
    assert_eq!(first(&img.rot_cw()), [3, 0, 4, 1, 5, 2]);
    assert_eq!(first(&img.rot_ccw()), [2, 5, 1, 4, 0, 3]);
    assert_eq!(first(&img.transpose()), [0, 3, 1, 4, 2, 5]);
    assert_eq!(first(&img.transverse()), [5, 2, 4, 1, 3, 0]);
}
