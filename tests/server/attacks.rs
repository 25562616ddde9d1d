//! What an anonymous client can make the server spend, tried for real on loopback:
//! junk bodies (memory), budget holders, trickling and idle connections, too many
//! connections, abandoned jobs (CPU past `--jobs`), and what the request log keeps.
//! Each test is bounded in count and time.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::{curl, scratch, slow_gif, start, start_with_flags, write_temp, Server, CONFIG};
use crate::support::{fixture, generate};

impl Server {
    fn addr(&self) -> &str {
        self.base.trim_start_matches("http://")
    }

    /// A `VmHWM` / `VmRSS`-style line of the server's `/proc/PID/status`, in KiB.
    fn status_kib(&self, key: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no {key} in {status}"))
    }
}

/// Sends `head` then `body` on a new connection (write errors ignored: the server may
/// answer early) and returns everything the server sends until it closes.
fn exchange(addr: &str, head: &str, body: &[u8]) -> String {
    let mut sock = TcpStream::connect(addr).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let _ = sock.write_all(head.as_bytes());
    let _ = sock.write_all(body);
    let mut reply = Vec::new();
    let _ = sock.read_to_end(&mut reply);
    String::from_utf8_lossy(&reply).into_owned()
}

fn post_head(method: &str, content_type: &str, len: usize, auth: Option<&str>) -> String {
    let auth = auth.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    format!(
        "POST /api/{method} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{auth}\
         Content-Type: {content_type}\r\nContent-Length: {len}\r\n\r\n"
    )
}

fn error_of(reply: &str) -> String {
    let body = reply.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    let v: serde_json::Value =
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {reply:.300}"));
    v["error"].as_str().unwrap_or("ok").to_owned()
}

/// Six junk bodies at once (16 MiB of `a&a&…`, 16 MiB of JSON array, 300k empty
/// multipart parts; none with a token), and one with a valid token but 16 MiB of
/// arguments: each gets its Slack error, the server's peak RSS stays far under the
/// 256 MiB the issue aims at (it reached 1.33 GiB before the caps), and another
/// client's calls keep being answered meanwhile.
#[test]
fn junk_bodies_cost_kilobytes() {
    let s = start("junk");
    let addr = s.addr().to_owned();
    let before = s.status_kib("VmRSS:");
    let form: Vec<u8> = b"a&".repeat(8 << 20);
    let json: Vec<u8> = [&b"["[..], &b"0,".repeat(8 << 20), b"0]"].concat();
    let parts: Vec<u8> = [
        &b"--zz\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n\r\n".repeat(300_000)[..],
        b"--zz--\r\n",
    ]
    .concat();
    let authed: Vec<u8> = [&b"token=t-ada&x="[..], &vec![b'a'; 16 << 20]].concat();
    fn case<'a>(
        method: &str,
        content_type: &str,
        body: &'a [u8],
        want: &'static str,
    ) -> (String, &'a [u8], &'static str) {
        (
            post_head(method, content_type, body.len(), None),
            body,
            want,
        )
    }
    let (urlencoded, multipart) = (
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=zz",
    );
    let cases = [
        case("users.setPhoto", urlencoded, &form, "too_large"),
        case("users.profile.get", urlencoded, &form, "too_large"),
        case(
            "admin.users.remove",
            "application/json",
            &json,
            "not_authed",
        ),
        case(
            "admin.users.remove",
            "application/json",
            &json,
            "not_authed",
        ),
        case("users.setPhoto", multipart, &parts, "invalid_form_data"),
        case("users.deletePhoto", multipart, &parts, "invalid_form_data"),
        case("users.setPhoto", urlencoded, &authed, "too_large"),
    ];
    let mut slowest = Duration::ZERO;
    std::thread::scope(|scope| {
        let junk: Vec<_> = cases
            .iter()
            .map(|(head, body, want)| {
                let addr = &addr;
                scope.spawn(move || {
                    let reply = exchange(addr, head, body);
                    assert_eq!(error_of(&reply), *want, "{head}");
                })
            })
            .collect();
        while junk.iter().any(|h| !h.is_finished()) {
            let t = Instant::now();
            assert_eq!(s.profile("t-ada", None).code(), "ok");
            slowest = slowest.max(t.elapsed());
            std::thread::sleep(Duration::from_millis(20));
        }
        for h in junk {
            h.join().unwrap();
        }
    });
    let peak = s.status_kib("VmHWM:");
    eprintln!(
        "junk bodies: RSS {before} KiB before, peak {peak} KiB; slowest other call {slowest:?}"
    );
    assert!(peak < 128 << 10, "peak RSS {peak} KiB");
    // Generous: before the caps, parsing junk stalled other calls for up to 0.8 s.
    assert!(slowest < Duration::from_secs(2), "{slowest:?}");
}

/// Clients that declare a 16 MiB upload and then stall hold nothing unless they are
/// authenticated: twelve such connections (six stopped before any part, six inside an
/// image part that precedes any token) leave room for a real upload, and from one
/// address only one anonymous image part is read at a time (the others: 429).
#[test]
fn budget_holders_do_not_lock_out_uploads() {
    let s = start_with_flags(&scratch("holders"), CONFIG, &["--max-buffered", "20"]);
    let head = post_head(
        "users.setPhoto",
        "multipart/form-data; boundary=zz",
        16 << 20,
        None,
    );
    let image_first =
        "--zz\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.jpg\"\r\n\
                       Content-Type: image/jpeg\r\n\r\nJFIF";
    let mut holders = Vec::new();
    for _ in 0..6 {
        let mut sock = TcpStream::connect(s.addr()).unwrap();
        sock.write_all(head.as_bytes()).unwrap();
        holders.push(sock);
    }
    let mut refused = 0;
    for _ in 0..6 {
        let mut sock = TcpStream::connect(s.addr()).unwrap();
        sock.write_all(head.as_bytes()).unwrap();
        sock.write_all(image_first.as_bytes()).unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        let mut reply = [0u8; 512];
        if let Ok(n) = sock.read(&mut reply) {
            let reply = String::from_utf8_lossy(&reply[..n]);
            if n > 0 {
                assert!(reply.starts_with("HTTP/1.1 429"), "{reply}");
                assert!(reply.contains("\"error\":\"ratelimited\""), "{reply}");
                refused += 1;
            }
        }
        holders.push(sock);
    }
    assert_eq!(refused, 5, "all but one anonymous image part refused");
    let dir = scratch("holders-files");
    let photo = write_temp(&dir, "p.jpg", &fixture("size_512x512_min.jpg"));
    assert_eq!(s.set_photo("t-ada", &photo, "image/jpeg", &[]).code(), "ok");
    drop(holders);
}

/// With `--header-timeout 1`: connections that trickle their headers, and a kept-alive
/// connection left idle after its answer, are closed within about a second, while a
/// normal client is served.
#[test]
fn trickling_and_idle_connections_are_closed() {
    let s = start_with_flags(&scratch("trickle"), CONFIG, &["--header-timeout", "1"]);
    let started = Instant::now();
    let tricklers: Vec<_> = (0..20)
        .map(|_| {
            let addr = s.addr().to_owned();
            std::thread::spawn(move || {
                let mut sock = TcpStream::connect(&addr).unwrap();
                sock.write_all(b"GET /api/users.profile.get HTTP/1.1\r\n")
                    .unwrap();
                // One header byte every 200 ms, for at most 10 s.
                for _ in 0..50 {
                    if sock.write_all(b"X").is_err() {
                        return started.elapsed();
                    }
                    sock.set_read_timeout(Some(Duration::from_millis(200)))
                        .unwrap();
                    let mut b = [0u8; 256];
                    match sock.read(&mut b) {
                        Ok(_) => return started.elapsed(),
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                        Err(_) => return started.elapsed(),
                    }
                }
                panic!("a trickling connection stayed open 10 s");
            })
        })
        .collect();
    assert_eq!(s.profile("t-ada", None).code(), "ok");
    for t in tricklers {
        let closed = t.join().unwrap();
        assert!(closed < Duration::from_secs(5), "{closed:?}");
    }

    // Keep-alive: one full exchange, then silence.
    let mut sock = TcpStream::connect(s.addr()).unwrap();
    sock.write_all(b"GET /api/users.profile.get?token=t-ada HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let idle_from = Instant::now();
    let mut got = Vec::new();
    let mut b = [0u8; 4096];
    loop {
        match sock.read(&mut b) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&b[..n]),
            Err(e) => panic!("the idle connection was not closed: {e}"),
        }
    }
    assert!(String::from_utf8_lossy(&got).starts_with("HTTP/1.1 200"));
    assert!(idle_from.elapsed() < Duration::from_secs(5));
}

/// Past `--max-connections`, a new connection gets a clear 429 `ratelimited` with
/// `Retry-After`, not a timeout; once idle connections are closed, calls get through.
#[test]
fn connections_past_the_cap_are_refused_clearly() {
    let s = start_with_flags(
        &scratch("cap"),
        CONFIG,
        &["--max-connections", "4", "--header-timeout", "2"],
    );
    let idle: Vec<TcpStream> = (0..4)
        .map(|_| TcpStream::connect(s.addr()).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let refused = s.profile("t-ada", None);
    assert_eq!(refused.status, 429);
    assert_eq!(refused.code(), "ratelimited");
    assert_eq!(refused.header("retry-after"), Some("1"));
    for mut sock in idle {
        sock.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut b = [0u8; 64];
        assert!(
            matches!(sock.read(&mut b), Ok(0)),
            "idle connection not closed"
        );
    }
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(s.profile("t-ada", None).code(), "ok");
}

/// `--jobs 1` bounds the CPU work actually running, not the requests still
/// listening: an upload whose client hangs up mid-job keeps its slot until its job
/// ends, so two uploads that arrive after it never run beside it or each other. (The
/// log's `running` counts jobs inside their blocking task, apart from the permits that
/// are meant to bound them; before, the abandoned job's permit went with its request
/// and the next job started beside it.) And the abandoned job is cancelled: it ends
/// well before a whole job's time.
#[test]
fn jobs_is_a_true_ceiling() {
    let s = start_with_flags(
        &scratch("ceiling"),
        CONFIG,
        &["--jobs", "1", "--queue", "8", "--log-level", "debug"],
    );
    let dir = scratch("ceiling-files");
    let slow = slow_gif(&dir, 24);
    let image = format!("image=@{slow};type=image/gif");
    let _ = std::process::Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-m", "0.5"])
        .args([
            "-H",
            "Authorization: Bearer t-ada",
            "-F",
            &image,
            &s.api("users.setPhoto"),
        ])
        .output();
    let log = || std::fs::read_to_string(&s.log).unwrap();
    assert_eq!(log().matches("image job started").count(), 1, "{}", log());
    std::thread::scope(|scope| {
        for token in ["t-ada", "t-admin"] {
            let (s, slow) = (&s, &slow);
            scope.spawn(move || {
                assert_eq!(s.set_photo(token, slow, "image/gif", &[]).code(), "ok");
            });
        }
    });
    let log = log();
    let running: Vec<u32> = log
        .lines()
        .filter(|l| l.contains("image job started"))
        .filter_map(|l| {
            l.split("running=")
                .nth(1)?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .collect();
    assert_eq!(running, [1, 1, 1], "{log}");
    let ended: Vec<(bool, u64)> = log
        .lines()
        .filter(|l| l.contains("image job ended"))
        .filter_map(|l| {
            let field = |name: &str| l.split(name).nth(1)?.split_whitespace().next();
            Some((field("cancelled=")? == "true", field("ms=")?.parse().ok()?))
        })
        .collect();
    let [(true, abandoned), (false, whole), (false, _)] = ended[..] else {
        panic!("{ended:?}\n{log}");
    };
    assert!(
        abandoned < whole / 2,
        "abandoned job ran {abandoned} ms, a whole one {whole} ms"
    );
}

/// One log line per request, with its id, method, path, status, error code, user and
/// latency; the id is echoed in `x-request-id`; no token ever reaches the log.
#[test]
fn requests_are_logged_without_secrets() {
    let s = start("log");
    let dir = scratch("log-files");
    let photo = write_temp(&dir, "p.jpg", &fixture("size_512x512_min.jpg"));
    assert_eq!(s.set_photo("t-ada", &photo, "image/jpeg", &[]).code(), "ok");
    let r = curl(&[
        "-H",
        "x-request-id: trace-42",
        &format!("{}?token=t-ada", s.api("users.profile.get")),
    ]);
    assert_eq!(r.header("x-request-id"), Some("trace-42"));
    assert_eq!(s.profile("t-nope", None).code(), "invalid_auth");
    let log = std::fs::read_to_string(&s.log).unwrap();
    assert!(!log.contains("t-ada") && !log.contains("t-nope"), "{log}");
    let line = |needle: &str| {
        log.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle}: {log}"))
            .to_owned()
    };
    let upload = line("users.setPhoto");
    for field in [
        "request_id=",
        "method=POST",
        "status=200",
        "user=\"U1\"",
        "latency_ms=",
    ] {
        assert!(upload.contains(field), "{field}: {upload}");
    }
    assert!(line("trace-42").contains("users.profile.get"));
    let failed = line("invalid_auth");
    assert!(
        failed.contains("status=200") && failed.contains("user=\"\""),
        "{failed}"
    );
}

/// A square JPEG kept by the pass-through carried an HTML payload hidden between its
/// last coded block and EOI into `1024.jpg` and `original.jpg`. Now no served byte of
/// any rendition holds it, and every one is `nosniff` with a sandboxing CSP.
#[test]
fn no_hidden_payload_is_served() {
    let s = start("payload");
    let dir = scratch("payload-files");
    let mut jpeg = generate::jpeg(&generate::photo(1024, 1024, 9, 12), 90, |_| {});
    let eoi = jpeg.len() - 2;
    jpeg.splice(
        eoi..eoi,
        b"<script>alert(document.cookie)</script>".iter().copied(),
    );
    let path = write_temp(&dir, "p.jpg", &jpeg);
    let set = s.set_photo("t-ada", &path, "image/jpeg", &[]);
    assert_eq!(set.code(), "ok");
    let urls = super::image_urls(&s.profile("t-ada", None).json());
    assert_eq!(urls.len(), 8, "{urls:?}");
    for (_, url) in urls {
        let r = curl(&[&url]);
        assert_eq!(r.status, 200, "{url}");
        assert!(!r.body.windows(7).any(|w| w == b"<script"), "{url}");
        super::assert_not_sniffable(&r);
    }
}
