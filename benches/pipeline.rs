//! Criterion benches of the whole job per input kind (each stage alone: `stages.rs`).
//!
//! Inputs: the generated `testdata/` files, plus the real photos in
//! `../shared/bench-inputs/` when that folder exists (they are never copied into the
//! repository). Every iteration checks its result, and `cargo bench -- --test` runs
//! each bench once as a test.
//!
//! ```sh
//! cargo bench --bench pipeline                 # measure
//! cargo bench --bench pipeline -- --test       # smoke-run every bench once
//! ```

use std::hint::black_box;
use std::path::{Path, PathBuf};

use avatar_engine::{process, Policy, Upload};
use criterion::{criterion_group, criterion_main, Criterion};

/// (label, path) of every bench input that exists on this machine.
fn inputs() -> Vec<(String, PathBuf)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut v: Vec<(String, PathBuf)> = [
        "photo_landscape_800x600.jpg",
        "size_1024x1024_max.jpg",
        "png_rgba8_circle_600x600.png",
        "gif_still_600x600.gif",
    ]
    .iter()
    .map(|n| (format!("testdata/{n}"), root.join("testdata").join(n)))
    .collect();
    if let Ok(dir) = std::fs::read_dir(root.join("../shared/bench-inputs")) {
        let mut real: Vec<PathBuf> = dir
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                matches!(
                    p.extension().and_then(|e| e.to_str()),
                    Some("jpg" | "png" | "gif")
                )
            })
            .collect();
        real.sort();
        v.extend(real.into_iter().map(|p| {
            (
                format!("shared/{}", p.file_name().unwrap().to_string_lossy()),
                p,
            )
        }));
    }
    v
}

fn whole_job(c: &mut Criterion) {
    let policy = Policy::default();
    let mut group = c.benchmark_group("process");
    group.sample_size(20);
    for (label, path) in inputs() {
        let bytes = std::fs::read(&path).unwrap();
        group.bench_function(&label, |b| {
            b.iter(|| {
                let avatar = process(&policy, &Upload::new(black_box(&bytes))).unwrap();
                assert_eq!(avatar.renditions.len(), policy.sizes.len());
                avatar
            })
        });
    }
    group.finish();
}

criterion_group!(benches, whole_job);
criterion_main!(benches);
