//! The official Slack SDKs — `slack_sdk` (Python) and `@slack/web-api` (Node) — driven
//! against the real server, unchanged but for their base URL. `tests/sdk/install.sh`
//! installs them (pinned, cached outside the repo) the first time; the scripts beside
//! it print what each SDK call returned, and these tests judge it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{scratch, slow_gif, start, start_with_flags, write_temp, Server, CONFIG};
use crate::support::{decode, fixture};
use avatar_engine::Format;

/// Where the installed SDKs are: (PYTHONPATH, NODE_PATH).
fn sdks() -> &'static (String, String) {
    static SDKS: OnceLock<(String, String)> = OnceLock::new();
    SDKS.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sdk/install.sh");
        let out = Command::new("bash").arg(&script).output().expect("bash");
        assert!(
            out.status.success(),
            "tests/sdk/install.sh failed (it needs python3 with pip, node >= 20, npm, and \
             PyPI and the npm registry):\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let mut lines = text.lines().map(str::to_owned);
        (lines.next().unwrap(), lines.next().unwrap())
    })
}

/// Runs one SDK's script (`python` or `node`) in `mode` against `s` as `token`; the
/// script may save files into `out_dir`. Returns the script's report (its last line).
fn drive(sdk: &str, s: &Server, token: &str, mode: &str, photo: &str, out_dir: &Path) -> Value {
    let (python_path, node_path) = sdks();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sdk");
    let mut command = match sdk {
        "python" => {
            let mut c = Command::new("python3");
            c.arg(dir.join("slack_python.py"))
                .env("PYTHONPATH", python_path);
            c
        }
        _ => {
            let mut c = Command::new("node");
            c.arg(dir.join("slack_node.cjs"))
                .env("NODE_PATH", node_path);
            c
        }
    };
    let out = command
        .args([&s.base, token, mode, photo])
        .arg(out_dir)
        .output()
        .expect("the SDK's interpreter");
    assert!(
        out.status.success(),
        "{sdk} script failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report = stdout.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("");
    serde_json::from_str(report).unwrap_or_else(|e| panic!("{sdk}: {e}: {stdout}"))
}

/// A step that succeeded: its response.
fn ok<'a>(out: &'a Value, step: &str) -> &'a Value {
    assert_eq!(out[step]["ok"], true, "{step}: {}", out[step]);
    &out[step]["data"]
}

/// A step that failed with Slack's error `code`, surfaced by the SDK as an API error.
fn failed(out: &Value, step: &str, code: &str) {
    assert_eq!(out[step]["error"], code, "{step}: {}", out[step]);
}

/// A scratch directory holding the photo every SDK sets (800×600, so a crop box
/// fits) as `photo.jpg`: (the directory, the photo's path).
fn photo(name: &str) -> (PathBuf, String) {
    let dir = scratch(name);
    let photo = write_temp(&dir, "photo.jpg", &fixture("photo_landscape_800x600.jpg"));
    (dir, photo)
}

/// Checks one SDK's `basic` run: a whole photo (`whole`), whose `image_512` the script
/// fetched into `dir`, then a cropped one from bytes or a buffer (`cropped`), each
/// followed by its profile.get step; a delete; an oversized upload and an unknown
/// method surfaced as Slack error codes.
fn check_basic(out: &Value, dir: &Path, whole: (&str, &str), cropped: (&str, &str)) {
    ok(out, whole.0);
    let first = &ok(out, whole.1)["profile"];
    assert_eq!(first["is_custom_image"], true, "{first}");
    let served = std::fs::read(dir.join("first_512.jpg")).unwrap();
    let decoded = decode(&served, Format::Jpeg);
    assert_eq!((decoded.w, decoded.h), (512, 512));

    ok(out, cropped.0);
    let second = &ok(out, cropped.1)["profile"];
    assert_eq!(second["is_custom_image"], true);
    assert_ne!(
        second["avatar_hash"], first["avatar_hash"],
        "the crop is a new avatar"
    );

    ok(out, "delete");
    assert_eq!(
        ok(out, "get_after_delete")["profile"]["is_custom_image"],
        false
    );
    failed(out, "set_oversized", "too_large");
    failed(out, "unknown_method", "unknown_method");
}

#[test]
fn python_sdk_sets_gets_and_deletes_photos() {
    let s = start("sdk-python");
    let (dir, photo) = photo("sdk-python-files");
    let out = drive("python", &s, "t-ada", "basic", &photo, &dir);
    check_basic(
        &out,
        &dir,
        ("set_from_path", "get_after_path"),
        ("set_from_bytes_cropped", "get_after_bytes"),
    );
    ok(&out, "set_from_file_object");
}

#[test]
fn node_sdk_sets_gets_and_deletes_photos() {
    let s = start("sdk-node");
    let (dir, photo) = photo("sdk-node-files");
    let out = drive("node", &s, "t-ada", "basic", &photo, &dir);
    check_basic(
        &out,
        &dir,
        ("set_from_buffer", "get_after_buffer"),
        ("set_from_buffer_cropped", "get_after_cropped"),
    );
    // @slack/web-api 8.2.0 sends a stream as JSON text, not as a file part (see the
    // script): the server's answer for a call without an image reaches the caller.
    failed(&out, "set_from_stream", "invalid_arguments");
}

/// `users.profile.set` from each SDK: `profile` as an object (the Python SDK sends a
/// JSON body, the Node SDK a form with the object as JSON text), `name` + `value`,
/// and two refusals surfaced as Slack error codes.
#[test]
fn sdks_set_profiles() {
    for sdk in ["python", "node"] {
        let s = start(&format!("sdk-profile-{sdk}"));
        let (dir, photo) = photo(&format!("sdk-profile-{sdk}-files"));
        let out = drive(sdk, &s, "t-ada", "profile", &photo, &dir);
        let set = &ok(&out, "set_profile")["profile"];
        assert_eq!(
            (&set["real_name"], &set["title"], &set["status_emoji"]),
            (
                &Value::from("Ada Lovelace"),
                &Value::from("Analyst"),
                &Value::from(":abacus:")
            ),
            "{sdk}: {set}"
        );
        assert_eq!(ok(&out, "set_name_value")["profile"]["pronouns"], "she/her");
        let read = &ok(&out, "get_after_set")["profile"];
        assert_eq!(
            (&read["title"], &read["pronouns"]),
            (&Value::from("Analyst"), &Value::from("she/her")),
            "{sdk}: {read}"
        );
        failed(&out, "set_bad_emoji", "invalid_emoji_not_allowed");
        failed(&out, "set_other_user", "not_admin");
    }
}

/// With one job slot and no queue, an upload that arrives while another user's slow
/// job runs is answered 429 with `Retry-After`; each SDK's own retry handling waits
/// and gets it through.
#[test]
fn sdks_retry_after_429() {
    let s = start_with_flags(
        &scratch("sdk-retry"),
        CONFIG,
        &["--jobs", "1", "--queue", "0", "--log-level", "debug"],
    );
    let dir = scratch("sdk-retry-files");
    let slow = slow_gif(&dir, 24);
    let (photo_dir, photo) = photo("sdk-retry-photo");
    for (round, sdk) in ["python", "node"].into_iter().enumerate() {
        let out = std::thread::scope(|scope| {
            let busy = scope.spawn(|| s.set_photo("t-admin", &slow, "image/gif", &[]));
            // Until the slow job holds the only slot.
            let deadline = Instant::now() + Duration::from_secs(20);
            let started = |log: &str| log.matches("image job started").count() > 2 * round;
            while !started(&std::fs::read_to_string(&s.log).unwrap()) {
                assert!(Instant::now() < deadline, "the slow job never started");
                std::thread::sleep(Duration::from_millis(20));
            }
            let out = drive(sdk, &s, "t-ada", "retry", &photo, &photo_dir);
            assert_eq!(busy.join().unwrap().code(), "ok");
            out
        });
        ok(&out, "set_after_429");
        let log = std::fs::read_to_string(&s.log).unwrap();
        let refused = log
            .lines()
            .filter(|l| l.contains("users.setPhoto") && l.contains("status=429"))
            .count();
        assert!(refused > round, "{sdk}: no 429 was answered\n{log}");
        if sdk == "node" {
            assert!(out["rate_limited_events"].as_u64().unwrap() >= 1, "{out}");
        }
    }
}
