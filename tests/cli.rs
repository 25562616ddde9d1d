//! The `avatar` command, run as a user would.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn avatar(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_avatar"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(bytes) = stdin {
        input.write_all(bytes).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn assert_success(out: &Output) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn json(out: &Output) -> Value {
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    assert_eq!(
        text.lines().count(),
        1,
        "one JSON line expected, got {text:?}"
    );
    serde_json::from_str(&text).unwrap()
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("avatar-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn render_writes_every_size_and_reports_it() {
    let dir = tempdir("render");
    let out = avatar(
        &[
            "render",
            "testdata/photo_landscape_800x600.jpg",
            "--out",
            dir.to_str().unwrap(),
        ],
        None,
    );
    assert_success(&out);
    let v = json(&out);
    assert_eq!(v["ok"], true);
    assert_eq!(
        v["source"],
        serde_json::json!({"format":"jpeg","width":800,"height":600,"frames":1})
    );
    let renditions = v["renditions"].as_array().unwrap();
    let sizes: Vec<u64> = renditions
        .iter()
        .map(|r| r["size"].as_u64().unwrap())
        .collect();
    assert_eq!(sizes, [1024, 512, 192, 72, 48, 32, 24]);
    for r in renditions {
        let path = r["path"].as_str().unwrap();
        assert!(path.ends_with(&format!("{}.jpg", r["size"])), "{path}");
        assert_eq!(
            std::fs::metadata(path).unwrap().len(),
            r["bytes"].as_u64().unwrap()
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn render_reads_stdin_with_every_flag() {
    let dir = tempdir("stdin");
    let bytes = std::fs::read("testdata/png_rgba8_circle_600x600.png").unwrap();
    let out = avatar(
        &[
            "render",
            "-",
            "--out",
            dir.to_str().unwrap(),
            "--crop",
            "50,50,500",
            "--content-type",
            "image/png",
            "--sizes",
            "128,16",
            "--min-side",
            "100",
            "--max-side",
            "600",
            "--max-frames",
            "1",
            "--quality",
            "70",
        ],
        Some(&bytes),
    );
    assert_success(&out);
    let v = json(&out);
    assert_eq!(v["renditions"][0]["format"], "png");
    assert!(dir.join("128.png").exists() && dir.join("16.png").exists());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn rejection_is_json_with_exit_1_and_writes_nothing() {
    let dir = tempdir("reject");
    let out = avatar(
        &[
            "render",
            "testdata/size_1025x800_too_large.jpg",
            "--out",
            dir.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    assert_eq!(
        (v["ok"].as_bool(), v["error"].as_str()),
        (Some(false), Some("too_large"))
    );
    assert!(v["detail"].as_str().unwrap().contains("1025x800"));
    assert!(!dir.exists());
    let out = avatar(
        &[
            "render",
            "-",
            "--out",
            dir.to_str().unwrap(),
            "--content-type",
            "image/jpeg",
        ],
        Some(b"GIF89a"),
    );
    assert_eq!(json(&out)["error"], "bad_image");
}

#[test]
fn usage_and_io_errors_exit_2() {
    for args in [
        &["render"][..],
        &["render", "testdata/photo_landscape_800x600.jpg"],
        &[
            "render",
            "testdata/photo_landscape_800x600.jpg",
            "--out",
            "x",
            "--crop",
            "1,2",
        ],
        &[
            "render",
            "testdata/photo_landscape_800x600.jpg",
            "--out",
            "x",
            "--nope",
        ],
        &["render", "testdata/does-not-exist.jpg", "--out", "x"],
        &[
            "render",
            "testdata/photo_landscape_800x600.jpg",
            "--out",
            "testdata/photo_landscape_800x600.jpg/sub",
        ],
        &["explode"],
    ] {
        let out = avatar(args, None);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("avatar:"),
            "{args:?}"
        );
    }
}

#[test]
fn probe_reports_header_facts() {
    let out = avatar(&["probe", "testdata/orientation_6.jpg"], None);
    assert_eq!(out.status.code(), Some(0));
    let v = json(&out);
    assert_eq!(v["width"], 640);
    assert_eq!(v["stored_width"], 512);
    assert_eq!(v["orientation"], 6);
    assert_eq!(v["frames"], 1);
    let out = avatar(&["probe", "-"], Some(b"nope"));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["error"], "bad_image");
}

#[test]
fn animated_gif_reports_frames_and_writes_posters() {
    let dir = tempdir("anim");
    let out = avatar(
        &[
            "render",
            "testdata/gif_animated_3_frames_600x600.gif",
            "--out",
            dir.to_str().unwrap(),
            "--sizes",
            "64,16",
        ],
        None,
    );
    assert_success(&out);
    let v = json(&out);
    assert_eq!(v["animated"], true);
    assert_eq!(v["source"]["frames"], 3);
    for r in v["renditions"].as_array().unwrap() {
        assert_eq!(
            (r["format"].as_str(), r["frames"].as_u64()),
            (Some("gif"), Some(3))
        );
    }
    let posters: Vec<&str> = v["posters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path"].as_str().unwrap())
        .collect();
    assert!(posters[0].ends_with("64.still.jpg"), "{posters:?}");
    assert!(dir.join("64.gif").exists() && dir.join("16.still.jpg").exists());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bench_reports_every_input() {
    let dir = tempdir("bench");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy("testdata/size_512x512_min.jpg", dir.join("a.jpg")).unwrap();
    std::fs::copy("testdata/png_palette_trns_600x600.png", dir.join("b.png")).unwrap();
    std::fs::write(dir.join("notes.txt"), "not an image").unwrap();
    let out = avatar(
        &[
            "bench",
            dir.to_str().unwrap(),
            "--iterations",
            "2",
            "--warmup",
            "0",
            "--threads",
            "1",
            "--in-flight",
            "2",
        ],
        None,
    );
    assert_success(&out);
    let v = json(&out);
    assert_eq!(
        (v["threads"].as_u64(), v["in_flight"].as_u64()),
        (Some(1), Some(2))
    );
    let results = v["results"].as_array().unwrap();
    let names: Vec<&str> = results
        .iter()
        .map(|r| r["input"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a.jpg", "b.png"]);
    for r in results {
        assert_eq!(r["iters"], 4);
        assert!(r["ms_per_job"].as_f64().unwrap() > 0.0 && r["jobs_per_s"].as_f64().unwrap() > 0.0);
        assert!(r["output_bytes"].as_u64().unwrap() > 1000);
    }
    assert!(v["peak_rss_kb"].as_u64().unwrap() > 0);
    assert_eq!(
        avatar(&["bench", dir.join("missing").to_str().unwrap()], None)
            .status
            .code(),
        Some(2)
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// Every seed image, whole or cut short, through `avatar render` on standard input: exit
/// 0 or 1, one JSON line, a documented code, and an answer within a generous time
/// budget (a hang guard, not a speed target).
#[test]
fn render_answers_every_seed_with_json_and_exit_0_or_1() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/probe");
    let out = tempdir("seeds");
    let mut seeds: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    seeds.sort();
    assert!(!seeds.is_empty());
    for path in seeds {
        let bytes = std::fs::read(&path).unwrap();
        let out_dir = out.to_str().unwrap();
        let started = std::time::Instant::now();
        let result = avatar(
            &[
                "render",
                "-",
                "--out",
                out_dir,
                "--min-side",
                "1",
                "--sizes",
                "64,16",
            ],
            Some(&bytes),
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "{}: no answer within 10 s",
            path.display()
        );
        let v = json(&result);
        match result.status.code() {
            Some(0) => assert_eq!(v["ok"], true),
            Some(1) => {
                assert_eq!(v["ok"], false);
                let code = v["error"].as_str().unwrap();
                assert!(
                    crate::support::CODES.contains(&code) && code != "internal_error",
                    "{}: {code}",
                    path.display()
                );
            }
            other => panic!("{}: exit {other:?}", path.display()),
        }
    }
    let _ = std::fs::remove_dir_all(&out);
}

/// `-h/--help` on the command and every subcommand prints help on stdout and exits
/// 0, naming every flag with its default; `-V/--version` prints the version.
#[test]
fn every_subcommand_has_help_and_the_command_a_version() {
    let mut subcommands = vec![
        (
            "render",
            &[
                "--out",
                "--crop",
                "--sizes",
                "--quality",
                "--filter",
                "--background",
                "--still-posters",
                "--jpeg-passthrough",
                "--max-alloc",
                "--max-output-bytes",
                "[default: 85]",
            ][..],
        ),
        ("probe", &["<INPUT>"][..]),
        (
            "bench",
            &["--iterations", "--threads", "--in-flight", "[default: 20]"][..],
        ),
    ];
    if cfg!(feature = "server") {
        subcommands.push((
            "serve",
            &[
                "--config",
                "--header-timeout",
                "--max-connections",
                "[default: 512]",
            ][..],
        ));
    }
    for (sub, wanted) in subcommands {
        for flag in ["-h", "--help"] {
            let out = avatar(&[sub, flag], None);
            assert_eq!(out.status.code(), Some(0), "{sub} {flag}");
            let help = String::from_utf8_lossy(&out.stdout);
            for w in wanted {
                assert!(help.contains(w), "{sub} {flag}: no {w} in\n{help}");
            }
        }
    }
    let out = avatar(&["--help"], None);
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    for sub in ["render", "probe", "bench"] {
        assert!(help.contains(sub), "{help}");
    }
    for flag in ["-V", "--version"] {
        let out = avatar(&[flag], None);
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            format!("avatar {}", env!("CARGO_PKG_VERSION"))
        );
    }
}
