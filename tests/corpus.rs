//! Every fuzz seed and regression file, replayed through the checks the fuzz targets
//! make (so CI checks them without libFuzzer), each with a stall guard.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

#[cfg(feature = "benchmarks")]
use crate::support::fuzz_input::run_passthrough;
use crate::support::fuzz_input::{run_probe, run_process, run_roundtrip, KNOBS_LEN};
use crate::support::generate;

/// Longest any one file may take to answer. The files are tiny (at most a few KB and
/// 256² pixels); this catches hangs, it is not a speed target.
const STALL_GUARD: Duration = Duration::from_secs(1);

type Check = fn(&[u8]) -> Result<(), String>;

const TARGETS: &[(&str, Check)] = &[
    ("probe", run_probe),
    ("process", run_process),
    ("roundtrip", run_roundtrip),
    // Needs `avatar_engine::stages`.
    #[cfg(feature = "benchmarks")]
    ("passthrough", run_passthrough),
];

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    v.retain(|p| {
        p.file_name()
            .is_some_and(|n| n != ".gitkeep" && n != "README.md")
    });
    v.sort();
    v
}

/// Runs `check` on `bytes` on its own thread; a hang fails after [`STALL_GUARD`].
fn answer_within_guard(check: Check, bytes: Vec<u8>, what: &str) {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(check(&bytes));
    });
    match rx.recv_timeout(STALL_GUARD) {
        Ok(Ok(())) => {}
        Ok(Err(e)) => panic!("{what}: {e}"),
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{what}: no answer within {STALL_GUARD:?}"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("{what}: the check panicked"),
    }
}

#[test]
fn every_seed_and_regression_replays_cleanly() {
    for &(target, check) in TARGETS {
        let seeds = files(&fuzz_dir().join("corpus").join(target));
        assert!(!seeds.is_empty(), "no seeds for {target}: run gen_testdata");
        let regressions = files(&fuzz_dir().join("regressions").join(target));
        for path in seeds.iter().chain(&regressions) {
            let bytes = std::fs::read(path).unwrap();
            answer_within_guard(check, bytes, &path.display().to_string());
        }
    }
}

#[test]
fn committed_seeds_match_the_generator() {
    assert_eq!(generate::PROCESS_KNOBS_LEN, KNOBS_LEN);
    let generated = generate::corpus();
    for (target, name, bytes) in &generated {
        let path = fuzz_dir().join("corpus").join(target).join(name);
        let committed = std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e}; run `cargo run --example gen_testdata`",
                path.display()
            )
        });
        assert!(
            committed == *bytes,
            "{} differs from the generator",
            path.display()
        );
    }
    for &(target, _) in TARGETS {
        let on_disk = files(&fuzz_dir().join("corpus").join(target)).len();
        let made = generated.iter().filter(|(t, _, _)| *t == target).count();
        assert_eq!(
            on_disk, made,
            "fuzz/corpus/{target} holds files the generator does not make"
        );
    }
}

/// The seeds are what they claim: zero knobs accept every uncut seed image, and the
/// cut ones are refused as `bad_image`.
#[test]
fn zero_knobs_accept_whole_seeds_and_refuse_cut_ones() {
    use avatar_engine::{process, Upload};
    for (name, bytes) in generate::seeds() {
        let mut data = vec![0u8; KNOBS_LEN];
        data.extend_from_slice(&bytes);
        let job = crate::support::fuzz_input::job(&data);
        let answer = process(&job.policy, &Upload::new(job.bytes));
        if name.starts_with("cut") {
            assert_eq!(answer.unwrap_err().code(), "bad_image", "{name}");
        } else {
            assert!(answer.is_ok(), "{name}: {:?}", answer.err());
        }
    }
}

/// The pass-through seeds reach what the target checks: the walk takes each of them,
/// and what a file hid after its last block is not in what would be served.
#[cfg(feature = "benchmarks")]
#[test]
fn passthrough_seeds_are_passed_through() {
    use avatar_engine::stages;
    for path in files(&fuzz_dir().join("corpus").join("passthrough")) {
        let bytes = std::fs::read(&path).unwrap();
        let (info, _) = stages::decode(&bytes).unwrap();
        let served = stages::passthrough(&bytes, &info)
            .unwrap_or_else(|| panic!("{}: not passed through", path.display()));
        assert!(served.len() <= bytes.len(), "{}", path.display());
        for hidden in [&b"<b>hi"[..], b"Exif", b"note"] {
            assert!(
                !served.windows(hidden.len()).any(|w| w == hidden),
                "{}: serves {hidden:?}",
                path.display()
            );
        }
    }
}
