//! Several `avatar serve` instances over one bucket of a real S3-compatible server
//! (Garage) and one real PostgreSQL, both installed by `tests/services/install.sh`
//! and started here on loopback with generated configs, one pair per test. Each test
//! is one of the guarantees issue #17 names; the design before the state database
//! broke the first four (sequences read and written back by two instances at once,
//! and a start-up sweep that deleted what other instances were publishing).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use avatar_engine::server::object_store::{self, ObjectStore};
use serde_json::Value;

use super::profile::{change_fields_at_once, FIELDS};
use super::{assert_complete, curl, scratch, start_with_env, write_temp, Server, CONFIG};
use crate::support::fixture;

/// PostgreSQL's bin directory and the garage binary, installed once per machine.
fn services() -> &'static (PathBuf, PathBuf) {
    static INSTALLED: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/services/install.sh");
        let out = Command::new("bash")
            .arg(&script)
            .stderr(Stdio::inherit())
            .output()
            .expect("bash");
        assert!(
            out.status.success(),
            "tests/services/install.sh failed (it needs cargo, and apt-get as root or \
             through sudo for PostgreSQL)"
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let mut lines = text.lines();
        let pg = PathBuf::from(lines.next().unwrap());
        let garage = PathBuf::from(lines.next().unwrap());
        (pg, garage)
    })
}

/// A free loopback port (bound, then released for the server to take).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until `port` on loopback takes connections.
fn wait_for_port(port: u16, what: &str, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "{what} did not start:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A process stopped by SIGTERM (then SIGKILL) when dropped.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One PostgreSQL and one Garage for a test, and what instances need to reach them.
struct Backends {
    dir: PathBuf,
    state_url: String,
    s3_env: Vec<(String, String)>,
    _postgres: Daemon,
    _garage: Daemon,
}

const KEY_ID: &str = "GK0123456789abcdef01234567";
const SECRET: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn backends(name: &str) -> Backends {
    let (pg_bin, garage) = services();
    let dir = scratch(&format!("cluster-{name}"));

    // PostgreSQL refuses to run as root: as root, the cluster belongs to `postgres`.
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    let as_owner = |program: &Path| {
        if root {
            let mut c = Command::new("setpriv");
            c.args([
                "--reuid=postgres",
                "--regid=postgres",
                "--init-groups",
                "--",
            ]);
            c.arg(program);
            c
        } else {
            Command::new(program)
        }
    };
    let pg_dir = dir.join("pg");
    std::fs::create_dir_all(&pg_dir).unwrap();
    if root {
        let ok = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&dir)
            .status()
            .unwrap();
        assert!(ok.success());
    }
    let init = as_owner(&pg_bin.join("initdb"))
        .args(["-A", "trust", "-U", "avatar", "--no-sync", "-D"])
        .arg(pg_dir.join("data"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("initdb.log")).unwrap())
        .status()
        .unwrap();
    assert!(
        init.success(),
        "initdb: {}",
        std::fs::read_to_string(dir.join("initdb.log")).unwrap_or_default()
    );
    let pg_port = free_port();
    let pg_log = dir.join("postgres.log");
    let postgres = as_owner(&pg_bin.join("postgres"))
        .arg("-D")
        .arg(pg_dir.join("data"))
        .args(["-p", &pg_port.to_string(), "-k"])
        .arg(&pg_dir)
        .args([
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "fsync=off",
            "-c",
            "max_connections=100",
        ])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&pg_log).unwrap())
        .spawn()
        .unwrap();
    let postgres = Daemon(postgres);

    let rpc = free_port();
    let s3 = free_port();
    let config = dir.join("garage.toml");
    std::fs::write(
        &config,
        format!(
            "metadata_dir = \"{0}/meta\"\ndata_dir = \"{0}/data\"\ndb_engine = \"sqlite\"\n\
             replication_factor = 1\nrpc_bind_addr = \"127.0.0.1:{rpc}\"\n\
             rpc_public_addr = \"127.0.0.1:{rpc}\"\nrpc_secret = \"{SECRET}\"\n\n\
             [s3_api]\ns3_region = \"garage\"\napi_bind_addr = \"127.0.0.1:{s3}\"\n",
            dir.join("garage").display()
        ),
    )
    .unwrap();
    let garage_log = dir.join("garage.log");
    let garage = Command::new(garage)
        .arg("-c")
        .arg(&config)
        .args(["server", "--single-node", "--default-bucket"])
        .env("GARAGE_ALLOW_WORLD_READABLE_SECRETS", "true")
        .env("GARAGE_DEFAULT_ACCESS_KEY", KEY_ID)
        .env("GARAGE_DEFAULT_SECRET_KEY", SECRET)
        .env("GARAGE_DEFAULT_BUCKET", "avatars")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&garage_log).unwrap())
        .spawn()
        .unwrap();
    let garage = Daemon(garage);
    wait_for_port(pg_port, "postgres", &pg_log);
    wait_for_port(s3, "garage", &garage_log);

    let s3_env = [
        ("AWS_ACCESS_KEY_ID", KEY_ID.to_owned()),
        ("AWS_SECRET_ACCESS_KEY", SECRET.to_owned()),
        ("AWS_REGION", "garage".to_owned()),
        ("AWS_ENDPOINT", format!("http://127.0.0.1:{s3}")),
        ("AWS_ALLOW_HTTP", "true".to_owned()),
        ("AWS_VIRTUAL_HOSTED_STYLE_REQUEST", "false".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let b = Backends {
        dir,
        state_url: format!("postgres://avatar@127.0.0.1:{pg_port}/postgres"),
        s3_env,
        _postgres: postgres,
        _garage: garage,
    };
    b.wait_until_ready();
    b
}

impl Backends {
    /// Starts instance `n` over the shared bucket and database, with `flags`.
    fn instance(&self, n: usize, flags: &[&str]) -> Server {
        let data = self.dir.join(format!("instance-{n}"));
        std::fs::create_dir_all(&data).unwrap();
        let mut all = vec!["--store", "s3://avatars", "--state", &self.state_url];
        all.extend_from_slice(flags);
        start_with_env(&data, CONFIG, &all, &self.s3_env)
    }

    /// The bucket, as the test sees it.
    fn bucket(&self) -> impl ObjectStore {
        let endpoint = &self
            .s3_env
            .iter()
            .find(|(k, _)| k == "AWS_ENDPOINT")
            .unwrap()
            .1;
        object_store::aws::AmazonS3Builder::new()
            .with_bucket_name("avatars")
            .with_access_key_id(KEY_ID)
            .with_secret_access_key(SECRET)
            .with_region("garage")
            .with_endpoint(endpoint)
            .with_allow_http(true)
            .build()
            .unwrap()
    }

    /// `fixture` written under the test's directory; its path.
    fn file(&self, name: &str, fixture_name: &str) -> String {
        let dir = self.dir.join("files");
        std::fs::create_dir_all(&dir).unwrap();
        write_temp(&dir, name, &fixture(fixture_name))
    }

    /// The versions with objects in the bucket.
    fn versions(&self) -> Vec<String> {
        let mut versions: Vec<String> = self
            .keys()
            .iter()
            .map(|k| k.split('/').nth(2).unwrap().to_owned())
            .collect();
        versions.dedup();
        versions
    }

    /// Keys under `avatars/` in the bucket.
    fn keys(&self) -> Vec<String> {
        use futures_util::TryStreamExt;
        let bucket = self.bucket();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            bucket
                .list(Some(&"avatars".into()))
                .map_ok(|m| m.location.to_string())
                .try_collect()
                .await
                .unwrap()
        })
    }

    /// Garage answers S3 calls a moment after it listens (its single-node layout is
    /// applied at start): wait for the bucket to list.
    fn wait_until_ready(&self) {
        use futures_util::TryStreamExt;
        let bucket = self.bucket();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        rt.block_on(async {
            loop {
                let listed: Result<Vec<_>, _> = bucket.list(None).try_collect().await;
                match listed {
                    Ok(_) => return,
                    Err(e) if Instant::now() > deadline => panic!("garage never ready: {e}"),
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        });
    }
}

/// The profile an instance reports, without the host part of its URLs (each
/// instance names itself in them).
fn reported(s: &Server) -> Value {
    let mut p = s.profile("t-ada", None).json();
    for (_, v) in p["profile"].as_object_mut().unwrap().iter_mut() {
        if let Some(url) = v.as_str() {
            if let Some(path) = url.strip_prefix(&s.base) {
                *v = path.into();
            }
        }
    }
    p
}

#[test]
fn sequences_rise_by_one_per_change_across_instances() {
    let b = backends("sequences");
    let instances: Vec<Server> = (0..3).map(|n| b.instance(n, &[])).collect();
    let per_client = 12;
    let sequences: Vec<u64> = std::thread::scope(|scope| {
        let clients: Vec<_> = (0..6)
            .map(|c| {
                let s = &instances[c % 3];
                scope.spawn(move || {
                    (0..per_client)
                        .map(|_| s.zitadel_sequence("t-ada", "U1"))
                        .collect::<Vec<u64>>()
                })
            })
            .collect();
        clients
            .into_iter()
            .flat_map(|c| c.join().unwrap())
            .collect()
    });
    let mut sorted = sequences.clone();
    sorted.sort_unstable();
    sorted.dedup();
    // Every change got its own sequence, and none was skipped or lost.
    assert_eq!(
        sorted.len(),
        sequences.len(),
        "a sequence was handed out twice"
    );
    assert_eq!(sorted, (1..=sequences.len() as u64).collect::<Vec<_>>());
}

#[test]
fn racing_sets_and_deletes_end_in_one_state_every_instance_reports() {
    let b = backends("race");
    let instances: Vec<Server> = (0..3).map(|n| b.instance(n, &[])).collect();
    let files = [
        (b.file("a.jpg", "photo_landscape_800x600.jpg"), "image/jpeg"),
        (b.file("b.jpg", "size_512x512_min.jpg"), "image/jpeg"),
        (b.file("c.png", "png_rgba8_circle_600x600.png"), "image/png"),
    ];
    for round in 0..3 {
        std::thread::scope(|scope| {
            for (i, (f, mime)) in files.iter().enumerate() {
                let s = &instances[(i + round) % 3];
                scope.spawn(move || {
                    assert_eq!(s.set_photo("t-ada", f, mime, &[]).code(), "ok");
                    if i == 1 {
                        assert_eq!(s.delete_photo("t-ada").code(), "ok");
                    }
                });
            }
        });
        // One state, the same through every instance, and every URL resolves.
        let first = reported(&instances[0]);
        for s in &instances {
            assert_eq!(reported(s), first);
            assert_complete(s, "t-ada");
        }
        // One set of objects at most: each replaced version was deleted.
        let versions = b.versions();
        assert!(versions.len() <= 1, "{versions:?}");
    }
}

#[test]
fn a_starting_instance_never_sweeps_what_others_publish() {
    let b = backends("restart");
    let a = b.instance(0, &[]);
    let c = b.instance(1, &[]);
    let photo = b.file("p.jpg", "size_512x512_min.jpg");
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        let restarts = scope.spawn(|| {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                // Starting sweeps; dropping kills it.
                drop(b.instance(2 + n % 2, &[]));
                n += 1;
            }
            n
        });
        for i in 0..16 {
            let s = if i % 2 == 0 { &a } else { &c };
            assert_eq!(s.set_photo("t-ada", &photo, "image/jpeg", &[]).code(), "ok");
            // Acknowledged: served, through the other instance too, until replaced.
            assert_complete(&a, "t-ada");
            assert_complete(&c, "t-ada");
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(
            restarts.join().unwrap() >= 2,
            "the restarting instance never restarted"
        );
    });
}

#[test]
fn kill_9_of_one_instance_loses_nothing_acknowledged() {
    let b = backends("kill");
    // Unreferenced versions are swept a second after they are left.
    let grace = ["--sweep-grace", "1"];
    let survivor = b.instance(0, &grace);
    let photo = b.file("p.jpg", "photo_landscape_800x600.jpg");
    assert_eq!(
        survivor
            .set_photo("t-ada", &photo, "image/jpeg", &[])
            .code(),
        "ok"
    );
    // 7 sizes and the original, in the bucket.
    assert_eq!(b.keys().len(), 8, "{:?}", b.keys());
    let acknowledged = reported(&survivor);
    for round in 0..4u64 {
        let mut victim = b.instance(1, &grace);
        let mut upload = victim.set_photo_in_background(&photo, "image/jpeg");
        std::thread::sleep(Duration::from_millis(10 + round * 40));
        victim.child.kill().unwrap(); // SIGKILL
        let _ = victim.child.wait();
        let _ = upload.wait();
        // What the survivor reports is complete: the old avatar or a whole new one.
        assert_complete(&survivor, "t-ada");
    }
    // Nothing acknowledged was lost: the first upload is served until replaced; a
    // killed upload that reached its flip replaced it with a whole set.
    let now = reported(&survivor);
    if now == acknowledged {
        assert_complete(&survivor, "t-ada");
    }
    // What the killed uploads left is swept by the survivor's periodic sweep.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let versions = b.versions();
        if versions.len() <= 1 {
            break;
        }
        assert!(Instant::now() < deadline, "left behind: {versions:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_user_removed_on_one_instance_is_removed_on_all() {
    let b = backends("removed");
    let one = b.instance(0, &[]);
    let two = b.instance(1, &[]);
    let photo = b.file("p.jpg", "size_512x512_min.jpg");
    assert_eq!(
        two.set_photo("t-ada", &photo, "image/jpeg", &[]).code(),
        "ok"
    );
    // Known to `two` before the removal: it must not trust what it saw.
    assert_eq!(two.profile("t-ada", None).code(), "ok");
    let removed = curl(&[
        "-X",
        "POST",
        "-d",
        "token=t-admin&team_id=T1&user_id=U1",
        &one.api("admin.users.remove"),
    ]);
    assert_eq!(removed.code(), "ok");
    assert_eq!(two.profile("t-ada", None).code(), "account_inactive");
    assert_eq!(
        two.set_photo("t-ada", &photo, "image/jpeg", &[]).code(),
        "account_inactive"
    );
    assert_eq!(two.profile("t-admin", Some("U1")).code(), "user_not_found");
    assert!(b.keys().is_empty(), "{:?}", b.keys());
}

#[test]
fn a_shared_database_needs_the_rate_limit_scope_said() {
    let b = backends("scope");
    let data = b.dir.join("unsaid");
    let config = data.with_extension("toml");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(&config, CONFIG.replace("scope = \"instance\"\n", "")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_avatar"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--store",
            "s3://avatars",
            "--state",
        ])
        .arg(&b.state_url)
        .arg("--config")
        .arg(&config)
        .envs(b.s3_env.iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("[rate_limits] scope"), "{stderr}");
}

/// Clients changing different fields of one user through different instances at once:
/// every change survives, every instance reads the same profile, and each change
/// raised the ZITADEL sequence once. Two admins racing one email onto two users
/// through two instances: exactly one gets it (the database's unique key decides).
#[test]
fn profile_changes_through_every_instance_all_survive() {
    let b = backends("profile");
    let instances: Vec<Server> = (0..3).map(|n| b.instance(n, &[])).collect();
    let rounds = 6;
    change_fields_at_once(&instances, rounds);
    let reads: Vec<Value> = instances.iter().map(reported).collect();
    for read in &reads {
        assert_eq!(read, &reads[0], "instances disagree");
        for field in FIELDS {
            assert_eq!(read["profile"][field], format!("{field}-{}", rounds - 1));
        }
    }
    let sequence = instances[0].zitadel_sequence("t-ada", "U1");
    assert_eq!(sequence, (FIELDS.len() * rounds + 1) as u64);

    for round in 0..8 {
        let email = format!("shared-{round}@x.example");
        let codes: Vec<String> = std::thread::scope(|scope| {
            let calls = [
                ("t-admin", "U1", &instances[1]),
                ("t-owner", "U2", &instances[2]),
            ];
            let running: Vec<_> = calls
                .into_iter()
                .map(|(token, user, s)| {
                    let email = &email;
                    scope.spawn(move || {
                        s.profile_set(
                            token,
                            &[("user", user), ("name", "email"), ("value", email)],
                        )
                        .code()
                    })
                })
                .collect();
            running.into_iter().map(|c| c.join().unwrap()).collect()
        });
        let mut sorted = codes.clone();
        sorted.sort();
        assert_eq!(sorted, ["email_taken", "ok"], "round {round}: {codes:?}");
    }
}
