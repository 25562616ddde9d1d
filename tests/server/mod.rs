//! `avatar serve`, started for real on loopback and driven with curl (and a raw socket
//! for a truncated body). Built only with `--features server`. Attacks on the server
//! are in [`attacks`], the official Slack SDKs in [`sdk`].

mod attacks;
mod cluster;
mod library;
mod profile;
mod sdk;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::support::{decode, fixture, generate};
use avatar_engine::Format;

const CONFIG: &str = r#"
[[team]]
id = "T1"

[[team]]
id = "T2"

[[user]]
id = "U1"
team = "T1"
name = "ada"

[[user]]
id = "U2"
team = "T1"
name = "grace"
admin = true

[[user]]
id = "U3"
team = "T1"
name = "owner"
primary_owner = true

[[user]]
id = "U4"
team = "T1"
name = "gone"
deleted = true

[[user]]
id = "U5"
team = "T2"
name = "other"

[[user]]
id = "B1"
team = "T1"
name = "bot"
is_bot = true

[[token]]
token = "t-ada"
user = "U1"
type = "user"
scopes = ["users.profile:read", "users.profile:write"]

[[token]]
token = "t-admin"
user = "U2"
type = "user"
scopes = ["users.profile:read", "users.profile:write", "admin.users:write", "users:read.email"]

[[token]]
token = "t-read"
user = "U1"
type = "user"
scopes = ["users.profile:read"]

[[token]]
token = "t-revoked"
user = "U1"
type = "user"
scopes = ["users.profile:write"]
revoked = true

[[token]]
token = "t-expired"
user = "U1"
type = "user"
scopes = ["users.profile:write"]
expired = true

[[token]]
token = "t-gone"
user = "U4"
type = "user"
scopes = ["users.profile:write"]

[[token]]
token = "t-bot"
user = "B1"
type = "bot"
scopes = ["users.profile:read", "users.profile:write"]

[[token]]
token = "t-other"
user = "U5"
type = "user"
scopes = ["users.profile:read", "users.profile:write", "admin.users:write"]

[[token]]
token = "t-owner"
user = "U3"
type = "user"
scopes = ["users.profile:write"]

[rate_limits]
tier2 = 1000
tier3 = 1000
tier4 = 1000
scope = "instance"
"#;

/// A running server; killed (SIGKILL) when dropped.
struct Server {
    child: Child,
    base: String,
    data: PathBuf,
    /// Its standard error: the request log.
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("avatar-serve-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Starts `avatar serve` on an ephemeral port over `data` with `config` and extra
/// `flags`, and waits for its ready line.
fn start_with_flags(data: &Path, config: &str, flags: &[&str]) -> Server {
    start_with_env(data, config, flags, &[])
}

/// [`start_with_flags`] with `env` set for the server (the S3 store's `AWS_*`).
fn start_with_env(data: &Path, config: &str, flags: &[&str], env: &[(String, String)]) -> Server {
    let config_path = data.with_extension("toml");
    std::fs::write(&config_path, config).unwrap();
    let log = data.with_extension("log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_avatar"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(flags)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .arg("--config")
        .arg(&config_path)
        .arg("--data")
        .arg(data)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let ready: Value = serde_json::from_str(&line).unwrap_or_else(|e| {
        let log = std::fs::read_to_string(&log).unwrap_or_default();
        panic!("{line:?}: {e}\n{log}")
    });
    let base = format!("http://{}", ready["listening"].as_str().unwrap());
    Server {
        child,
        base,
        data: data.to_owned(),
        log,
    }
}

fn start_with(data: &Path, config: &str) -> Server {
    start_with_flags(data, config, &[])
}

fn start(name: &str) -> Server {
    start_with(&scratch(name), CONFIG)
}

/// One HTTP exchange with curl: (status, headers lower-cased, body).
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    /// The Slack error code, or "ok".
    fn code(&self) -> String {
        let v = self.json();
        if v["ok"] == true {
            "ok".into()
        } else {
            v["error"].as_str().unwrap().to_owned()
        }
    }
}

fn curl(args: &[&str]) -> Reply {
    let out = Command::new("curl")
        .args(["-s", "-i", "-H", "Expect:"])
        .args(args)
        .output()
        .expect("curl");
    let raw = out.stdout;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end: {}", String::from_utf8_lossy(&raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    }
}

/// `dir/slow.gif`: [`generate::slow_gif`] of `frames` frames (24 take the server about
/// a second). Returns its path.
fn slow_gif(dir: &Path, frames: u8) -> String {
    write_temp(dir, "slow.gif", &generate::slow_gif(frames))
}

fn write_temp(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p.to_str().unwrap().to_owned()
}

impl Server {
    fn api(&self, method: &str) -> String {
        format!("{}/api/{method}", self.base)
    }

    /// setPhoto with `file` as the image part of type `mime`, plus form fields.
    fn set_photo(&self, token: &str, file: &str, mime: &str, fields: &[&str]) -> Reply {
        let image = format!("image=@{file};type={mime}");
        let auth = format!("Authorization: Bearer {token}");
        let mut args = vec!["-H", auth.as_str(), "-F", image.as_str()];
        for f in fields {
            args.extend(["-F", f]);
        }
        let url = self.api("users.setPhoto");
        args.push(&url);
        curl(&args)
    }

    /// `t-ada`'s setPhoto of `file` (of type `mime`) in a curl of its own, not waited
    /// for (to kill the server part-way through it).
    fn set_photo_in_background(&self, file: &str, mime: &str) -> Child {
        Command::new("curl")
            .args(["-s", "-H", "Authorization: Bearer t-ada", "-F"])
            .arg(format!("image=@{file};type={mime}"))
            .arg(self.api("users.setPhoto"))
            .stdout(Stdio::null())
            .spawn()
            .unwrap()
    }

    fn profile(&self, token: &str, user: Option<&str>) -> Reply {
        let mut url = format!("{}?token={token}", self.api("users.profile.get"));
        if let Some(u) = user {
            url.push_str(&format!("&user={u}"));
        }
        curl(&[&url])
    }

    /// ZITADEL's avatar delete of `user` by `token`, which must succeed: the sequence
    /// it answers.
    fn zitadel_sequence(&self, token: &str, user: &str) -> u64 {
        let r = curl(&[
            "-X",
            "DELETE",
            "-H",
            &format!("Authorization: Bearer {token}"),
            &format!("{}/management/v1/users/{user}/avatar", self.base),
        ]);
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        r.json()["details"]["sequence"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    }

    fn delete_photo(&self, token: &str) -> Reply {
        curl(&[
            "-X",
            "POST",
            "-d",
            &format!("token={token}"),
            &self.api("users.deletePhoto"),
        ])
    }
}

/// Every `image_*` URL of a profile answer, with its size (`None` for original).
fn image_urls(profile: &Value) -> Vec<(Option<u32>, String)> {
    let p = profile["profile"].as_object().unwrap();
    let mut v: Vec<(Option<u32>, String)> = p
        .iter()
        .filter_map(|(k, v)| {
            let rest = k.strip_prefix("image_")?;
            Some((rest.parse().ok(), v.as_str()?.to_owned()))
        })
        .collect();
    v.sort();
    v
}

/// A browser may not take the response for anything but its declared type, nor run
/// or load anything from it.
fn assert_not_sniffable(r: &Reply) {
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(
        r.header("content-security-policy"),
        Some("default-src 'none'; sandbox")
    );
}

#[test]
fn upload_profile_fetch_delete_round_trip() {
    let s = start("round-trip");
    let dir = scratch("round-trip-files");
    let photo = write_temp(&dir, "photo.jpg", &fixture("photo_landscape_800x600.jpg"));

    // Before any upload: the generated default, not a custom image.
    let before = s.profile("t-ada", None);
    assert_eq!(before.code(), "ok");
    assert_eq!(before.json()["profile"]["is_custom_image"], false);
    let default_72 = before.json()["profile"]["image_72"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = curl(&[&default_72]);
    assert_eq!(r.status, 200);
    assert_not_sniffable(&r);
    assert_not_sniffable(&before);
    // Any well-formed id has a default avatar: the public route does not tell which
    // users exist.
    let unknown = curl(&[&default_72.replace("/U1/", "/U999/")]);
    assert_eq!(unknown.status, 200);
    assert_ne!(unknown.body, r.body);
    let d = decode(&r.body, Format::Jpeg);
    assert_eq!((d.w, d.h), (72, 72));

    let set = s.set_photo("t-ada", &photo, "image/jpeg", &[]);
    assert_eq!(set.code(), "ok", "{}", String::from_utf8_lossy(&set.body));
    let profile = s.profile("t-ada", None).json();
    assert_eq!(profile["profile"]["is_custom_image"], true);
    assert_eq!(profile["profile"]["real_name"], "ada");
    let urls = image_urls(&profile);
    let sizes: Vec<Option<u32>> = urls.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        sizes,
        [
            None,
            Some(24),
            Some(32),
            Some(48),
            Some(72),
            Some(192),
            Some(512),
            Some(1024)
        ]
    );
    for (size, url) in &urls {
        let r = curl(&[url]);
        assert_eq!(r.status, 200, "{url}");
        assert_eq!(r.header("content-type"), Some("image/jpeg"));
        assert!(r.header("cache-control").unwrap().contains("immutable"));
        assert_not_sniffable(&r);
        let d = decode(&r.body, Format::Jpeg);
        // image_original: the upload's own square (800 letterboxed), no metadata.
        assert_eq!(d.w, size.unwrap_or(800), "{url}");
        let etag = r.header("etag").unwrap().to_owned();
        let again = curl(&["-H", &format!("If-None-Match: {etag}"), url]);
        assert_eq!(again.status, 304);
    }

    // Only names the server hands out are served: no traversal or other keys.
    let version = urls[1].1.rsplit('/').nth(1).unwrap().to_owned();
    for path in [
        format!("/avatars/U1/{version}/..%2F..%2Fprofiles%2FU1.json"),
        format!("/avatars/U1/{version}/24.txt"),
        format!("/avatars/..%2Fprofiles/{version}/24.jpg"),
        "/avatars/U1/..%2F..%2Fprofiles/U1.json".to_owned(),
        "/avatars/_default/..%2FU1/72.jpg".to_owned(),
    ] {
        let r = curl(&["--path-as-is", &format!("{}{path}", s.base)]);
        assert_eq!(r.status, 404, "{path}");
    }

    // Replacing the photo: the old URLs stop resolving, the new ones work.
    let crop = s.set_photo(
        "t-ada",
        &photo,
        "image/jpeg",
        &["crop_x=100", "crop_y=0", "crop_w=600"],
    );
    assert_eq!(crop.code(), "ok");
    let replaced = image_urls(&s.profile("t-ada", None).json());
    assert_ne!(replaced, urls);
    assert_eq!(curl(&[&urls[1].1]).status, 404);
    assert_eq!(curl(&[&replaced[1].1]).status, 200);

    // deletePhoto: idempotent; the URLs stop resolving; back to the default.
    assert_eq!(s.delete_photo("t-ada").code(), "ok");
    assert_eq!(s.delete_photo("t-ada").code(), "ok");
    assert_eq!(curl(&[&replaced[1].1]).status, 404);
    let after = s.profile("t-ada", None).json();
    assert_eq!(after["profile"]["is_custom_image"], false);
    assert_eq!(after["profile"]["image_72"], default_72.as_str());
}

#[test]
fn auth_errors_are_slack_codes() {
    let s = start("auth");
    let dir = scratch("auth-files");
    let photo = write_temp(&dir, "p.jpg", &fixture("size_512x512_min.jpg"));
    let set = |token: &str| s.set_photo(token, &photo, "image/jpeg", &[]).code();
    assert_eq!(curl(&[&s.api("users.profile.get")]).code(), "not_authed");
    assert_eq!(set("nope"), "invalid_auth");
    assert_eq!(set("t-revoked"), "token_revoked");
    assert_eq!(set("t-expired"), "token_expired");
    assert_eq!(set("t-gone"), "account_inactive");
    assert_eq!(set("t-read"), "missing_scope");
    let scope = s.set_photo("t-read", &photo, "image/jpeg", &[]).json();
    assert_eq!(
        (&scope["needed"], &scope["provided"]),
        (
            &Value::from("users.profile:write"),
            &Value::from("users.profile:read")
        )
    );
    assert_eq!(set("t-bot"), "not_allowed_token_type");
    // A bot may read profiles; unknown and other-team users are not found.
    assert_eq!(s.profile("t-bot", Some("U1")).code(), "ok");
    assert_eq!(s.profile("t-ada", Some("U999")).code(), "user_not_found");
    assert_eq!(s.profile("t-ada", Some("U5")).code(), "user_not_found");
    // Errors are HTTP 200 with ok:false, as Slack sends them.
    assert_eq!(curl(&[&s.api("users.profile.get")]).status, 200);
}

#[test]
fn engine_rejections_map_one_to_one() {
    let s = start("rejections");
    let dir = scratch("rejections-files");
    let f = |name: &str, bytes: &[u8]| write_temp(&dir, name, bytes);
    let ok = f("ok.png", &fixture("png_rgb8_600x600.png"));
    let text = f("t.txt", b"hello, not an image");
    let small = f("small.jpg", &fixture("size_511x700_too_small.jpg"));
    let large = f("large.jpg", &fixture("size_1025x800_too_large.jpg"));
    let frames: Vec<generate::GifFrame> = (0..51)
        .map(|i| generate::gif_frame(0, 0, 16, 16, move |_, _| (i % 16) as u8))
        .collect();
    let many = f("many.gif", &generate::gif(512, 512, &frames, None));
    let set =
        |file: &str, mime: &str, fields: &[&str]| s.set_photo("t-ada", file, mime, fields).code();
    assert_eq!(set(&text, "image/png", &[]), "bad_image");
    assert_eq!(
        set(&ok, "image/jpeg", &[]),
        "bad_image",
        "Content-Type must match"
    );
    // A generic part type is no declaration (the official SDKs send one for bytes):
    // the bytes decide. A specific type must match them.
    assert_eq!(set(&text, "application/octet-stream", &[]), "bad_image");
    assert_eq!(set(&ok, "text/plain", &[]), "bad_image");
    assert_eq!(set(&small, "image/jpeg", &[]), "too_small");
    assert_eq!(set(&large, "image/jpeg", &[]), "too_large");
    assert_eq!(set(&many, "image/gif", &[]), "too_many_frames");
    assert_eq!(
        set(&ok, "image/png", &["crop_x=0", "crop_y=0"]),
        "invalid_arguments"
    );
    assert_eq!(
        set(&ok, "image/png", &["crop_x=0", "crop_y=0", "crop_w=601"]),
        "invalid_arguments"
    );
    assert_eq!(
        set(&ok, "image/png", &["crop_x=a", "crop_y=0", "crop_w=10"]),
        "invalid_arguments"
    );
    // None of these changed the profile.
    assert_eq!(
        s.profile("t-ada", None).json()["profile"]["is_custom_image"],
        false
    );
    assert_eq!(set(&ok, "image/png", &[]), "ok");
    assert_eq!(set(&ok, "application/octet-stream", &[]), "ok");
    // The smallest crop is the smallest image, 512 (Slack's minimum side); before, a
    // 10 px crop answered ok but left the profile showing the default avatar.
    for w in ["crop_w=10", "crop_w=511"] {
        assert_eq!(
            set(&ok, "image/png", &["crop_x=0", "crop_y=0", w]),
            "too_small"
        );
    }
    let p = s.profile("t-ada", None).json();
    assert_eq!(p["profile"]["is_custom_image"], true);
    let before = p["profile"]["image_original"].clone();
    assert_eq!(
        set(&ok, "image/png", &["crop_x=88", "crop_y=0", "crop_w=512"]),
        "ok"
    );
    let p = s.profile("t-ada", None).json();
    assert_eq!(p["profile"]["is_custom_image"], true);
    assert_ne!(p["profile"]["image_original"], before);
    let original = curl(&[p["profile"]["image_original"].as_str().unwrap()]);
    assert_eq!(decode(&original.body, Format::Jpeg).w, 512);
}

/// Methods the server does not have get Slack's `unknown_method` as JSON (HTTP 200,
/// which the official SDKs raise as that error code), and other HTTP verbs a JSON 405.
#[test]
fn unknown_methods_and_verbs_are_slack_errors() {
    let s = start("unknown");
    let r = curl(&["-X", "POST", "-d", "token=t-ada", &s.api("users.info")]);
    assert_eq!(r.status, 200);
    assert_eq!(r.code(), "unknown_method");
    assert_eq!(r.json()["req_method"], "users.info");
    let r = curl(&["-X", "PUT", &s.api("users.setPhoto")]);
    assert_eq!(r.status, 405);
    assert_eq!(r.code(), "method_not_allowed");
    assert_eq!(r.header("allow"), Some("GET, POST"));
}

#[test]
fn request_shapes_get_slack_errors() {
    let s = start("shapes");
    let url = s.api("users.deletePhoto");
    let auth = "Authorization: Bearer t-ada";
    let post = |ct: Option<&str>, body: &str| {
        let mut args = vec!["-X", "POST", "-H", auth];
        let header;
        if let Some(ct) = ct {
            header = format!("Content-Type: {ct}");
            args.extend(["-H", header.as_str()]);
        } else {
            args.extend(["-H", "Content-Type:"]);
        }
        args.extend(["--data-binary", body, url.as_str()]);
        curl(&args).code()
    };
    assert_eq!(post(None, "x=1"), "missing_post_type");
    assert_eq!(post(Some("application/json"), "{}"), "invalid_post_type");
    assert_eq!(post(Some("text/plain"), "x"), "invalid_post_type");
    assert_eq!(
        post(
            Some("application/x-www-form-urlencoded; charset=latin1"),
            "a=1"
        ),
        "invalid_charset"
    );
    assert_eq!(
        post(Some("multipart/form-data"), "--x\r\n"),
        "invalid_form_data"
    );
    assert_eq!(
        post(Some("multipart/form-data; boundary=zz"), "garbage"),
        "invalid_form_data"
    );
    assert_eq!(
        post(Some("application/x-www-form-urlencoded"), "bad-name=1"),
        "invalid_arg_name"
    );
    assert_eq!(
        post(Some("application/x-www-form-urlencoded"), "ids[]=1"),
        "invalid_array_arg"
    );
    assert_eq!(post(Some("application/x-www-form-urlencoded"), ""), "ok");
    // POST data missing: Slack's request_timeout, for a multipart body with nothing in
    // it, and for setPhoto (which needs its image) with no body at all.
    assert_eq!(
        post(Some("multipart/form-data; boundary=zz"), ""),
        "request_timeout"
    );
    let empty = curl(&["-X", "POST", "-H", auth, &s.api("users.setPhoto")]);
    assert_eq!(empty.code(), "request_timeout");

    // A body shorter than its Content-Length: request_timeout.
    let addr = s.base.trim_start_matches("http://");
    let mut sock = TcpStream::connect(addr).unwrap();
    write!(
        sock,
        "POST /api/users.setPhoto HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t-ada\r\n\
         Content-Type: multipart/form-data; boundary=zz\r\nContent-Length: 5000\r\n\r\n--zz\r\n"
    )
    .unwrap();
    sock.shutdown(std::net::Shutdown::Write).unwrap();
    let mut reply = String::new();
    let _ = sock.read_to_string(&mut reply);
    assert!(reply.contains("\"error\":\"request_timeout\""), "{reply}");

    // A body over the cap is refused from its Content-Length, unread.
    let mut sock = TcpStream::connect(addr).unwrap();
    write!(
        sock,
        "POST /api/users.setPhoto HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t-ada\r\n\
         Content-Type: multipart/form-data; boundary=zz\r\nContent-Length: 999999999\r\n\r\n"
    )
    .unwrap();
    let mut reply = String::new();
    let _ = sock.read_to_string(&mut reply);
    assert!(reply.contains("\"error\":\"too_large\""), "{reply}");

    // A body somewhat over the cap (20 MB against 16 MiB) is read to its end and
    // thrown away, so a client that sends it all before reading (as the official SDKs
    // do) gets the answer, not a broken pipe or a reset.
    let body = [
        &b"--zz\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a\"\r\n\r\n"[..],
        &vec![0u8; 20_000_000],
        b"\r\n--zz--\r\n",
    ]
    .concat();
    let mut sock = TcpStream::connect(addr).unwrap();
    write!(
        sock,
        "POST /api/users.setPhoto HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t-ada\r\n\
         Connection: close\r\nContent-Type: multipart/form-data; boundary=zz\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    sock.write_all(&body).expect("the whole body is read");
    let mut reply = String::new();
    let _ = sock.read_to_string(&mut reply);
    assert!(reply.contains("\"error\":\"too_large\""), "{reply}");
    // The same without a Content-Length (chunked).
    let dir = scratch("shapes-files");
    let big = write_temp(&dir, "big.jpg", &body[80..]);
    let image = format!("image=@{big};type=image/jpeg");
    let url = s.api("users.setPhoto");
    let chunked = [
        "-H",
        "Authorization: Bearer t-ada",
        "-H",
        "Transfer-Encoding: chunked",
        "-F",
        &image,
        &url,
    ];
    assert_eq!(curl(&chunked).code(), "too_large");
}

#[test]
fn rate_limits_answer_429_with_retry_after() {
    let config = CONFIG
        .replace("tier2 = 1000", "tier2 = 2")
        .replace("tier4 = 1000", "tier4 = 3");
    let s = start_with(&scratch("limits"), &config);
    for _ in 0..2 {
        assert_eq!(s.delete_photo("t-ada").code(), "ok");
    }
    let limited = s.delete_photo("t-ada");
    assert_eq!(limited.status, 429);
    assert_eq!(limited.code(), "ratelimited");
    let retry: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    // Tiers are counted apart: profile.get (Tier 4) still has its allowance.
    assert_eq!(s.profile("t-ada", None).code(), "ok");
}

/// `users.profile.set` is Tier 3, counted apart from the others.
#[test]
fn profile_set_is_limited_as_tier_3() {
    let s = start_with(
        &scratch("limits-tier3"),
        &CONFIG.replace("tier3 = 1000", "tier3 = 2"),
    );
    // A minute boundary may reset the count once; within 5 calls one is refused.
    let limited = (0..5)
        .map(|i| s.profile_set("t-ada", &[("name", "title"), ("value", &i.to_string())]))
        .find(|r| r.status == 429)
        .expect("profile.set was never limited");
    assert_eq!(limited.code(), "ratelimited");
    assert_eq!(
        s.delete_photo("t-ada").code(),
        "ok",
        "Tier 2 has its own count"
    );
}

/// Token guessing is throttled per client address: past `auth_failures` unknown tokens
/// in a minute, every request from that address is `ratelimited` (HTTP 429,
/// `Retry-After`), a valid token included, until the minute ends. (Before, invalid
/// tokens were never limited: thousands of guesses a second on one connection.)
#[test]
fn token_guessing_is_throttled_per_address() {
    let config = CONFIG.replace("tier2 = 1000", "tier2 = 1000\nauth_failures = 5");
    let s = start_with(&scratch("guessing"), &config);
    // A minute boundary may reset the count once; within 11 guesses one is refused.
    let mut refused = None;
    for i in 0..11 {
        let r = s.delete_photo(&format!("guess-{i}"));
        match (r.status, r.code().as_str()) {
            (200, "invalid_auth") => {}
            (429, "ratelimited") => {
                refused = Some(r);
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    let refused = refused.expect("guessing was never throttled");
    let retry: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    if retry >= 3 {
        // The same address with the right token waits too (the window still runs).
        assert_eq!(s.delete_photo("t-ada").status, 429);
    }
}

#[test]
fn admin_users_remove() {
    let s = start("remove");
    let dir = scratch("remove-files");
    let photo = write_temp(&dir, "p.jpg", &fixture("size_512x512_min.jpg"));
    assert_eq!(s.set_photo("t-ada", &photo, "image/jpeg", &[]).code(), "ok");
    let urls = image_urls(&s.profile("t-ada", None).json());
    let remove = |token: &str, body: &str, json: bool| {
        let auth = format!("Authorization: Bearer {token}");
        let ct = if json {
            "Content-Type: application/json"
        } else {
            "Content-Type: application/x-www-form-urlencoded"
        };
        curl(&[
            "-X",
            "POST",
            "-H",
            &auth,
            "-H",
            ct,
            "--data-binary",
            body,
            &s.api("admin.users.remove"),
        ])
        .code()
    };
    assert_eq!(
        remove("t-ada", "team_id=T1&user_id=U1", false),
        "missing_scope"
    );
    assert_eq!(
        remove("t-admin", "team_id=T9&user_id=U1", false),
        "team_not_found"
    );
    assert_eq!(
        remove("t-admin", "team_id=T2&user_id=U5", false),
        "invalid_permissions"
    );
    assert_eq!(
        remove("t-admin", "team_id=T1&user_id=U9", false),
        "user_not_found"
    );
    assert_eq!(
        remove("t-admin", "team_id=T1&user_id=U4", false),
        "user_already_deleted"
    );
    assert_eq!(
        remove("t-admin", "team_id=T1&user_id=U3", false),
        "cannot_modify_primary_owner"
    );
    assert_eq!(
        remove("t-admin", r#"{"team_id":"T1","user_id":"U1"}"#, true),
        "ok"
    );
    assert_eq!(
        remove("t-admin", "team_id=T1&user_id=U1", false),
        "user_already_deleted"
    );
    // Every rendition is gone, the user is gone, their tokens are inactive.
    for (_, url) in &urls {
        assert_eq!(curl(&[url]).status, 404);
    }
    let left = std::fs::read_dir(s.data.join("avatars/U1"))
        .map(|d| {
            d.flat_map(|e| std::fs::read_dir(e.unwrap().path()).unwrap())
                .count()
        })
        .unwrap_or(0);
    assert_eq!(left, 0, "objects left behind");
    assert_eq!(s.profile("t-admin", Some("U1")).code(), "user_not_found");
    assert_eq!(s.delete_photo("t-ada").code(), "account_inactive");
}

#[test]
fn zitadel_delete_avatar() {
    let s = start("zitadel");
    let dir = scratch("zitadel-files");
    let photo = write_temp(&dir, "p.jpg", &fixture("size_512x512_min.jpg"));
    let del = |token: Option<&str>, user: &str, org: Option<&str>| {
        let url = format!("{}/management/v1/users/{user}/avatar", s.base);
        let mut args = vec!["-X".to_owned(), "DELETE".to_owned()];
        if let Some(t) = token {
            args.extend(["-H".into(), format!("Authorization: Bearer {t}")]);
        }
        if let Some(o) = org {
            args.extend(["-H".into(), format!("x-zitadel-orgid: {o}")]);
        }
        args.push(url);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        curl(&refs)
    };
    let unauth = del(None, "U1", None);
    assert_eq!(
        (unauth.status, unauth.json()["code"].as_u64()),
        (401, Some(16))
    );
    assert_eq!(unauth.json()["details"], serde_json::json!([]));
    let bad = del(Some("nope"), "U1", None);
    assert_eq!((bad.status, bad.json()["code"].as_u64()), (401, Some(16)));
    let other = del(Some("t-ada"), "U2", None);
    assert_eq!(
        (other.status, other.json()["code"].as_u64()),
        (403, Some(7))
    );
    let missing = del(Some("t-admin"), "U999", None);
    assert_eq!(
        (missing.status, missing.json()["code"].as_u64()),
        (404, Some(5))
    );
    let wrong_org = del(Some("t-ada"), "U1", Some("T2"));
    assert_eq!(wrong_org.status, 404);

    assert_eq!(s.set_photo("t-ada", &photo, "image/jpeg", &[]).code(), "ok");
    let own = del(Some("t-ada"), "U1", Some("T1"));
    assert_eq!(own.status, 200);
    let details = &own.json()["details"];
    assert_eq!(details["resourceOwner"], "T1");
    let sequence =
        |details: &Value| -> u64 { details["sequence"].as_str().unwrap().parse().unwrap() };
    let first = sequence(details);
    assert!(details["creationDate"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        s.profile("t-ada", None).json()["profile"]["is_custom_image"],
        false
    );

    // An admin of the team may delete anyone's; every change raises the sequence.
    assert_eq!(s.set_photo("t-ada", &photo, "image/jpeg", &[]).code(), "ok");
    let by_admin = del(Some("t-admin"), "U1", None);
    assert_eq!(by_admin.status, 200);
    let second = sequence(&by_admin.json()["details"]);
    assert!(second > first + 1, "{first} then {second}");
    // With no avatar set, ZITADEL still records the removal: the sequence rises.
    let again = del(Some("t-admin"), "U1", None);
    assert_eq!(again.status, 200);
    let third = sequence(&again.json()["details"]);
    assert_eq!(third, second + 1);
    // An admin of another team may not, and is told only what an unknown id gets.
    let foreign = del(Some("t-other"), "U1", None);
    assert_eq!(
        (foreign.status, foreign.json()),
        (missing.status, missing.json())
    );
}

/// Every profile points to a complete set: each URL resolves and decodes.
fn assert_complete(s: &Server, token: &str) -> Option<String> {
    let p = s.profile(token, None).json();
    for (size, url) in image_urls(&p) {
        let r = curl(&[&url]);
        assert_eq!(r.status, 200, "{url}");
        let format = if url.ends_with(".png") {
            Format::Png
        } else {
            Format::Jpeg
        };
        let d = decode(&r.body, format);
        if let Some(size) = size {
            assert_eq!(d.w, size);
        }
    }
    p["profile"]["avatar_hash"].as_str().map(str::to_owned)
}

#[test]
fn kill_9_at_any_moment_leaves_complete_sets() {
    let data = scratch("crash");
    let dir = scratch("crash-files");
    let a = write_temp(&dir, "a.jpg", &fixture("photo_landscape_800x600.jpg"));
    let b = write_temp(&dir, "b.png", &fixture("png_rgba8_circle_600x600.png"));
    // Versions nothing points at are swept once a second old (default: 15 minutes).
    let grace = ["--sweep-grace", "1"];
    for round in 0..6u64 {
        let mut s = start_with_flags(&data, CONFIG, &grace);
        // Start an upload in the background and kill the server part-way through it.
        let (file, mime) = if round % 2 == 0 {
            (&a, "image/jpeg")
        } else {
            (&b, "image/png")
        };
        let mut upload = s.set_photo_in_background(file, mime);
        std::thread::sleep(std::time::Duration::from_millis(5 + round * 15));
        s.child.kill().unwrap(); // SIGKILL
        let _ = s.child.wait();
        let _ = upload.wait();
        drop(s);
        let s = start_with_flags(&data, CONFIG, &grace);
        assert_complete(&s, "t-ada");
    }
    // A crash between registering a version and flipping the pointer leaves a version
    // no profile names (the database says `publishing`); the first start after the
    // grace period sweeps it. Objects the database does not know at all (here, put
    // there by hand) go too once they are older than the grace period.
    let orphan = data.join("avatars/U1/00orphan00");
    std::fs::create_dir_all(&orphan).unwrap();
    let an_hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
    let aged = |f: &Path| {
        std::fs::File::options()
            .write(true)
            .open(f)
            .unwrap()
            .set_modified(an_hour_ago)
            .unwrap();
    };
    std::fs::write(orphan.join("24.jpg"), b"half a set").unwrap();
    aged(&orphan.join("24.jpg"));
    // A kill during a put leaves the local store's staging file (`<path>#<n>`), which
    // its listing hides: start-up removes those an hour old too (this once made the
    // test flaky).
    let staged = [
        orphan.join("32.jpg#3"),
        data.join("avatars/U1/x/1024.jpg#12"),
    ];
    for f in &staged {
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, b"cut short").unwrap();
        aged(f);
    }
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let s = start_with_flags(&data, CONFIG, &grace);
    assert!(
        !orphan.join("24.jpg").exists(),
        "orphan version not collected"
    );
    for f in &staged {
        assert!(!f.exists(), "staging file {} left", f.display());
    }
    let hash = assert_complete(&s, "t-ada");
    let versions: Vec<String> = std::fs::read_dir(data.join("avatars/U1"))
        .map(|d| {
            d.map(|e| e.unwrap().path())
                .filter(|p| {
                    std::fs::read_dir(p)
                        .map(|mut d| d.next().is_some())
                        .unwrap_or(false)
                })
                .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    assert!(versions.len() <= 1, "{versions:?}");
    if let (Some(h), Some(v)) = (hash, versions.first()) {
        assert!(v.starts_with(&h), "{v} vs {h}");
    }
}

#[test]
fn concurrent_set_and_delete_end_in_a_serial_state() {
    let s = start("race");
    let dir = scratch("race-files");
    let files = [
        write_temp(&dir, "a.jpg", &fixture("photo_landscape_800x600.jpg")),
        write_temp(&dir, "b.jpg", &fixture("size_512x512_min.jpg")),
        write_temp(&dir, "c.png", &fixture("png_rgba8_circle_600x600.png")),
    ];
    for _ in 0..3 {
        std::thread::scope(|scope| {
            for (i, f) in files.iter().enumerate() {
                let s = &s;
                scope.spawn(move || {
                    let mime = if f.ends_with(".png") {
                        "image/png"
                    } else {
                        "image/jpeg"
                    };
                    assert_eq!(s.set_photo("t-ada", f, mime, &[]).code(), "ok");
                    if i == 1 {
                        assert_eq!(s.delete_photo("t-ada").code(), "ok");
                    }
                });
            }
        });
        // The end state is one a serial order gives: no avatar, or one whole upload.
        assert_complete(&s, "t-ada");
        let on_disk = std::fs::read_dir(s.data.join("avatars/U1"))
            .map(|d| {
                d.filter(|e| {
                    std::fs::read_dir(e.as_ref().unwrap().path())
                        .map(|mut d| d.next().is_some())
                        .unwrap_or(false)
                })
                .count()
            })
            .unwrap_or(0);
        assert!(on_disk <= 1, "{on_disk} versions stored at once");
    }
}

/// A flood beyond `--jobs` + `--queue` gets `ratelimited` (HTTP 429), not a crash, and
/// the server keeps answering.
#[test]
fn excess_uploads_are_ratelimited_not_crashed() {
    let s = start_with_flags(&scratch("flood"), CONFIG, &["--jobs", "1", "--queue", "0"]);
    let dir = scratch("flood-files");
    // An animation: the slowest job, so the uploads overlap.
    let photo = write_temp(&dir, "p.gif", &fixture("gif_animated_3_frames_600x600.gif"));
    let codes: Vec<(u16, String)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..12)
            .map(|_| {
                let (s, photo) = (&s, &photo);
                scope.spawn(move || {
                    let r = s.set_photo("t-ada", photo, "image/gif", &[]);
                    (r.status, r.code())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (status, code) in &codes {
        assert!(
            (*status, code.as_str()) == (200, "ok")
                || (*status, code.as_str()) == (429, "ratelimited"),
            "{status} {code}"
        );
    }
    assert!(codes.iter().any(|(_, c)| c == "ok"), "{codes:?}");
    assert!(codes.iter().any(|(_, c)| c == "ratelimited"), "{codes:?}");
    assert_eq!(s.profile("t-ada", None).code(), "ok");
}

/// Request bodies past `--max-buffered` are refused before they are read.
#[test]
fn bodies_beyond_the_buffer_budget_are_ratelimited() {
    let s = start_with_flags(&scratch("buffered"), CONFIG, &["--max-buffered", "1"]);
    let dir = scratch("buffered-files");
    // ~1.2 MB: more than the 1 MiB budget.
    let big = write_temp(
        &dir,
        "big.png",
        &generate::png(
            &generate::photo(700, 600, 3, 40),
            png::ColorType::Rgb,
            png::BitDepth::Eight,
            &[],
        ),
    );
    assert!(std::fs::metadata(&big).unwrap().len() > 1 << 20);
    let refused = s.set_photo("t-ada", &big, "image/png", &[]);
    assert_eq!(
        (refused.status, refused.code().as_str()),
        (429, "ratelimited")
    );
    let small = write_temp(&dir, "small.jpg", &fixture("size_512x512_min.jpg"));
    assert_eq!(s.set_photo("t-ada", &small, "image/jpeg", &[]).code(), "ok");
}

/// Clients that go away while their job waits or runs give back its admission and its
/// job slot: after waves of aborted default-avatar GETs and aborted uploads of a slow
/// animation, on a server with one job slot and a short queue, uploads are admitted
/// again once the abandoned work has ended (before, each abandoned job left the
/// admission counter raised for good: `ratelimited` until restart).
#[test]
fn abandoned_requests_do_not_lock_the_server_out() {
    use std::time::{Duration, Instant};
    let s = start_with_flags(
        &scratch("abandon"),
        CONFIG,
        &["--jobs", "1", "--queue", "3"],
    );
    let dir = scratch("abandon-files");
    // About a second of work, so an abort lands mid-job.
    let slow = slow_gif(&dir, 24);
    let aborted = |args: &[&str]| {
        let _ = Command::new("curl")
            .args(["-s", "-o", "/dev/null"])
            .args(args)
            .output();
    };
    let default_avatar = format!("{}/avatars/_default/U1/512.jpg", s.base);
    let image = format!("image=@{slow};type=image/gif");
    let upload = s.api("users.setPhoto");
    for _ in 0..3 {
        std::thread::scope(|scope| {
            for _ in 0..12 {
                scope.spawn(|| aborted(&["-m", "0.05", &default_avatar]));
            }
            scope.spawn(|| {
                aborted(&[
                    "-m",
                    "0.4",
                    "-H",
                    "Authorization: Bearer t-ada",
                    "-F",
                    &image,
                    &upload,
                ])
            });
        });
    }
    let small = write_temp(&dir, "small.jpg", &fixture("size_512x512_min.jpg"));
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r = s.set_photo("t-ada", &small, "image/jpeg", &[]);
        match r.code().as_str() {
            "ok" => break,
            "ratelimited" => assert!(
                Instant::now() < deadline,
                "still ratelimited 60 s after every client left"
            ),
            other => panic!("{other}"),
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    // And the default avatars are served again.
    let r = curl(&[&default_avatar]);
    assert_eq!(r.status, 200);
}

/// Slack's charset warnings ride on the answer (`warning` and
/// `response_metadata.warnings`), and a JSON body's token is no credential: JSON calls
/// authenticate by `Authorization` only.
#[test]
fn charset_warnings_and_json_authentication() {
    let s = start("warnings");
    let remove = s.api("admin.users.remove");
    let json = r#"{"team_id":"T1","user_id":"U404"}"#;
    let r = curl(&[
        "-H",
        "Authorization: Bearer t-admin",
        "-H",
        "Content-Type: application/json",
        "-d",
        json,
        &remove,
    ]);
    let v = r.json();
    assert_eq!(v["error"], "user_not_found", "{v}");
    assert_eq!(v["warning"], "missing_charset");
    assert_eq!(v["response_metadata"]["warnings"][0], "missing_charset");
    let r = curl(&[
        "-H",
        "Authorization: Bearer t-admin",
        "-H",
        "Content-Type: application/json; charset=utf-8",
        "-d",
        json,
        &remove,
    ]);
    assert!(r.json().get("warning").is_none(), "{}", r.json());

    let with_token = r#"{"token":"t-admin","team_id":"T1","user_id":"U404"}"#;
    let r = curl(&[
        "-H",
        "Content-Type: application/json; charset=utf-8",
        "-d",
        with_token,
        &remove,
    ]);
    assert_eq!(r.code(), "not_authed");

    let r = curl(&[
        "-H",
        "Content-Type: application/x-www-form-urlencoded; charset=utf-8",
        "-d",
        "token=t-ada",
        &s.api("users.deletePhoto"),
    ]);
    let v = r.json();
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["warning"], "superfluous_charset");
    assert_eq!(v["response_metadata"]["warnings"][0], "superfluous_charset");
}

/// `[policy]` in the config sets the engine's policy: its sizes are what is served
/// (and the crop minimum is its `min_side`), and a bad key stops start-up with an
/// error naming it.
#[test]
fn the_policy_section_sets_what_is_served() {
    let config = format!(
        "{CONFIG}\n[policy]\nsizes = [256, 64]\njpeg_quality = 70\nbackground = \"ff0000\"\n"
    );
    let s = start_with(&scratch("policy"), &config);
    let dir = scratch("policy-files");
    let photo = write_temp(&dir, "photo.jpg", &fixture("photo_landscape_800x600.jpg"));
    assert_eq!(s.set_photo("t-ada", &photo, "image/jpeg", &[]).code(), "ok");
    let profile = s.profile("t-ada", None).json();
    let sizes: Vec<Option<u32>> = image_urls(&profile).into_iter().map(|(s, _)| s).collect();
    assert!(
        sizes.contains(&Some(256)) && sizes.contains(&Some(64)),
        "{sizes:?}"
    );
    assert!(
        !sizes.contains(&Some(1024)) && !sizes.contains(&Some(72)),
        "{sizes:?}"
    );
    let url = profile["profile"]["image_256"].as_str().unwrap().to_owned();
    let d = decode(&curl(&[&url]).body, Format::Jpeg);
    assert_eq!((d.w, d.h), (256, 256));
    // The letterbox bars are the configured red.
    let bar = d.px(128, 2);
    assert!(bar[0] > 200 && bar[1] < 40 && bar[2] < 40, "{bar:?}");

    for (section, key) in [
        ("jpeg_quality = 101", "jpeg_quality"),
        ("min_side = 0", "min_side"),
        ("filter = \"bicubic\"", "filter"),
        ("background = \"red\"", "background"),
        ("still_posters = true", "still_posters"),
        ("max_sides = 9", "max_sides"),
    ] {
        let data = scratch("policy-bad");
        let config_path = data.with_extension("toml");
        std::fs::write(&config_path, format!("{CONFIG}\n[policy]\n{section}\n")).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_avatar"))
            .args(["serve", "--listen", "127.0.0.1:0", "--config"])
            .arg(&config_path)
            .arg("--data")
            .arg(&data)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{section}: started");
        assert!(err.contains(key), "{section}: {err}");
    }
}

/// `/healthz` answers while the process runs; `/readyz` while its store answers, and
/// 503 once the store is gone (here: its directory replaced by a file).
#[test]
fn health_and_readiness() {
    let data = scratch("readyz");
    let s = start_with(&data, CONFIG);
    let health = curl(&[&format!("{}/healthz", s.base)]);
    assert_eq!((health.status, health.code().as_str()), (200, "ok"));
    let ready = curl(&[&format!("{}/readyz", s.base)]);
    assert_eq!((ready.status, ready.code().as_str()), (200, "ok"));
    std::fs::remove_dir_all(&data).unwrap();
    std::fs::write(&data, b"not a directory").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let gone = curl(&[&format!("{}/readyz", s.base)]);
    assert_eq!(
        (gone.status, gone.code().as_str()),
        (503, "store_unreachable")
    );
    let health = curl(&[&format!("{}/healthz", s.base)]);
    assert_eq!(health.status, 200);
    let _ = std::fs::remove_file(&data);
}

/// `/metrics` counts requests by route and outcome, refusals by code and job time by
/// format, in Prometheus' text format; a client's own method name never becomes a
/// label.
#[test]
fn metrics_count_requests_rejections_and_jobs() {
    let s = start("metrics");
    let dir = scratch("metrics-files");
    let photo = write_temp(&dir, "photo.jpg", &fixture("photo_landscape_800x600.jpg"));
    let junk = write_temp(&dir, "junk.jpg", b"not an image at all");
    assert_eq!(s.set_photo("t-ada", &photo, "image/jpeg", &[]).code(), "ok");
    assert_eq!(
        s.set_photo("t-ada", &junk, "image/jpeg", &[]).code(),
        "bad_image"
    );
    assert_eq!(
        curl(&[&s.api("users.evil{label}")]).code(),
        "unknown_method"
    );
    assert_eq!(
        s.profile_set("t-ada", &[("name", "status_emoji"), ("value", "x")])
            .code(),
        "invalid_emoji_not_allowed"
    );
    let m = curl(&[&format!("{}/metrics", s.base)]);
    assert_eq!(m.status, 200);
    let text = String::from_utf8(m.body).unwrap();
    let line = |name: &str, labels: &[&str]| -> f64 {
        let found = text
            .lines()
            .find(|l| l.starts_with(&format!("{name}{{")) && labels.iter().all(|k| l.contains(k)))
            .unwrap_or_else(|| panic!("no {name} {labels:?} in\n{text}"));
        found.rsplit(' ').next().unwrap().parse().unwrap()
    };
    let set = "route=\"users.setPhoto\"";
    assert_eq!(line("avatar_requests_total", &[set, "outcome=\"ok\""]), 1.0);
    assert_eq!(
        line("avatar_requests_total", &[set, "outcome=\"bad_image\""]),
        1.0
    );
    assert_eq!(
        line("avatar_requests_total", &["route=\"unknown_method\""]),
        1.0
    );
    let profile_set = "route=\"users.profile.set\"";
    assert_eq!(
        line(
            "avatar_requests_total",
            &[profile_set, "outcome=\"invalid_emoji_not_allowed\""]
        ),
        1.0
    );
    assert_eq!(
        line("avatar_rejections_total", &["code=\"bad_image\""]),
        1.0
    );
    assert_eq!(line("avatar_job_seconds_count", &["format=\"jpg\""]), 1.0);
    assert!(!text.contains("evil"), "{text}");
    assert!(text.contains("# TYPE avatar_jobs_admitted gauge"), "{text}");
}

/// `--log-format json`: every request-log line is one JSON object with the request's
/// fields.
#[test]
fn json_request_logs() {
    let s = start_with_flags(&scratch("json-logs"), CONFIG, &["--log-format", "json"]);
    assert_eq!(s.profile("t-ada", None).code(), "ok");
    assert_eq!(curl(&[&s.api("users.profile.get")]).code(), "not_authed");
    std::thread::sleep(std::time::Duration::from_millis(100));
    let log = std::fs::read_to_string(&s.log).unwrap();
    let requests: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .filter(|v: &Value| v["message"] == "request")
        .collect();
    assert_eq!(requests.len(), 2, "{log}");
    assert_eq!(requests[0]["user"], "U1");
    assert_eq!(requests[1]["error"], "not_authed");
    assert!(requests
        .iter()
        .all(|r| r["status"] == 200 && r["request_id"].is_string()));
}

/// A data directory written by 0.2, which kept each profile pointer in the store
/// (`profiles/<user>.json`): the first start imports it, so the avatar stays served
/// and its sequence goes on, though its objects are older than the sweep's grace.
#[test]
fn a_profile_kept_in_the_store_by_0_2_is_imported() {
    let data = scratch("legacy");
    let version = "0123456789abcdef0123456789abcdef";
    let photo = fixture("size_512x512_min.jpg");
    let avatar = avatar_engine::process(
        &avatar_engine::Policy::default(),
        &avatar_engine::Upload::new(&photo),
    )
    .unwrap();
    let dir = data.join(format!("avatars/U1/{version}"));
    std::fs::create_dir_all(&dir).unwrap();
    let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
    let mut renditions = Vec::new();
    for r in &avatar.renditions {
        let mut names = vec![format!("{}.jpg", r.size)];
        if r.size == 512 {
            names.push("original.jpg".into());
        }
        for name in names {
            let path = dir.join(name);
            std::fs::write(&path, &r.bytes).unwrap();
            let file = std::fs::File::options().write(true).open(&path).unwrap();
            file.set_modified(two_hours_ago).unwrap();
        }
        renditions.push(serde_json::json!({"size": r.size, "ext": "jpg"}));
    }
    std::fs::create_dir_all(data.join("profiles")).unwrap();
    let legacy = serde_json::json!({
        "version": version, "renditions": renditions, "original_ext": "jpg",
        "sequence": 5, "created": 100, "changed": 200, "removed": false,
    });
    std::fs::write(data.join("profiles/U1.json"), legacy.to_string()).unwrap();

    let s = start_with_flags(&data, CONFIG, &["--sweep-grace", "1"]);
    assert_eq!(
        assert_complete(&s, "t-ada").as_deref(),
        Some(&version[..12])
    );
    let del = curl(&[
        "-X",
        "DELETE",
        "-H",
        "Authorization: Bearer t-ada",
        &format!("{}/management/v1/users/U1/avatar", s.base),
    ]);
    assert_eq!(del.json()["details"]["sequence"], "6");
    // Imported once: a restart does not bring the cleared avatar back.
    drop(s);
    let s = start_with_flags(&data, CONFIG, &["--sweep-grace", "1"]);
    assert_eq!(
        s.profile("t-ada", None).json()["profile"]["is_custom_image"],
        false
    );
}
