//! `avatar serve`: the reference upload server (built with `--features server`).
//!
//! Slack-compatible `users.setPhoto`, `users.deletePhoto`, `users.profile.get`,
//! `admin.users.remove`, ZITADEL's `DELETE /management/v1/users/{id}/avatar`, and the
//! renditions at content-addressed URLs, over an object store: local disk by default,
//! in memory, or S3-compatible. Image work runs on the blocking pool, one job per
//! core, with a bounded queue; beyond it callers get `ratelimited`.

mod admission;
mod api;
mod auth;
mod config;
mod identicon;
mod listen;
mod log;
mod request;
mod store;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, RwLock};

use object_store::ObjectStore;

use api::App;
use config::Config;
use store::AvatarStore;

/// Flags of `avatar serve`.
pub struct Serve {
    pub listen: SocketAddr,
    pub data: Option<PathBuf>,
    pub config: PathBuf,
    /// `file` (default: `--data`), `memory`, or `s3://BUCKET` (credentials, region
    /// and endpoint from the usual `AWS_*` environment variables).
    pub store: Option<String>,
    pub public_url: Option<String>,
    /// Largest request body, bytes. Default: the engine's `max_input_bytes` + 64 KiB.
    pub max_body: usize,
    /// Image jobs run at once. Default: one per core.
    pub jobs: usize,
    /// Image jobs that may wait for a slot; more get `ratelimited`. Default: 4 × jobs.
    pub queue: Option<usize>,
    /// Uploaded images held at once, in MiB; more get `ratelimited`. Default: enough
    /// for `jobs + queue + 2` largest uploads.
    pub max_buffered_mib: Option<usize>,
    /// Header deadline (also the keep-alive idle limit) and connection cap.
    pub hygiene: listen::Hygiene,
    /// Least severe request-log events written to stderr. Default `info` (one line
    /// per request); `off` for none.
    pub log_level: tracing_subscriber::filter::LevelFilter,
}

pub fn parse(args: &[String]) -> Result<Serve, String> {
    let mut serve = Serve {
        listen: "127.0.0.1:8080".parse().expect("a valid address"),
        data: None,
        config: PathBuf::new(),
        store: None,
        public_url: None,
        max_body: avatar_engine::Policy::default().max_input_bytes + (64 << 10),
        jobs: std::thread::available_parallelism().map_or(2, |n| n.get()),
        queue: None,
        max_buffered_mib: None,
        hygiene: listen::Hygiene::default(),
        log_level: tracing_subscriber::filter::LevelFilter::INFO,
    };
    let mut config = None;
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().cloned().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--listen" => {
                let v = value()?;
                serve.listen = v.parse().map_err(|e| format!("--listen {v:?}: {e}"))?;
            }
            "--data" => serve.data = Some(PathBuf::from(value()?)),
            "--config" => config = Some(PathBuf::from(value()?)),
            "--store" => serve.store = Some(value()?),
            "--public-url" => serve.public_url = Some(value()?.trim_end_matches('/').to_owned()),
            "--jobs" => {
                let v = value()?;
                serve.jobs = v
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or(format!("--jobs {v:?}: expected a positive integer"))?;
            }
            "--max-buffered" => {
                let v = value()?;
                serve.max_buffered_mib = Some(
                    v.parse()
                        .map_err(|_| format!("--max-buffered {v:?}: expected MiB"))?,
                );
            }
            "--queue" => {
                let v = value()?;
                serve.queue = Some(
                    v.parse()
                        .map_err(|_| format!("--queue {v:?}: expected an integer"))?,
                );
            }
            "--header-timeout" => {
                let v = value()?;
                let secs: f64 = v
                    .parse()
                    .ok()
                    .filter(|s: &f64| s.is_finite() && *s > 0.0 && *s <= 3600.0)
                    .ok_or(format!(
                        "--header-timeout {v:?}: expected seconds, 0 < s <= 3600"
                    ))?;
                serve.hygiene.header_timeout = std::time::Duration::from_secs_f64(secs);
            }
            "--max-connections" => {
                let v = value()?;
                serve.hygiene.max_connections = v.parse().ok().filter(|&n| n > 0).ok_or(
                    format!("--max-connections {v:?}: expected a positive integer"),
                )?;
            }
            "--log-level" => {
                let v = value()?;
                serve.log_level = v.parse().map_err(|_| {
                    format!("--log-level {v:?}: expected off, error, warn, info, debug or trace")
                })?;
            }
            other => return Err(format!("unknown serve flag {other}")),
        }
    }
    serve.config = config.ok_or("serve needs --config FILE")?;
    Ok(serve)
}

fn object_store(serve: &Serve) -> Result<Arc<dyn ObjectStore>, String> {
    match serve.store.as_deref() {
        Some("memory") => Ok(Arc::new(object_store::memory::InMemory::new())),
        Some(url) if url.starts_with("s3://") => {
            let bucket = &url["s3://".len()..];
            object_store::aws::AmazonS3Builder::from_env()
                .with_bucket_name(bucket)
                .build()
                .map(|s| Arc::new(s) as Arc<dyn ObjectStore>)
                .map_err(|e| format!("S3 store {url}: {e}"))
        }
        None | Some("file") => {
            let dir = serve
                .data
                .clone()
                .ok_or("the file store needs --data DIR")?;
            std::fs::create_dir_all(&dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            // Before anything writes: the staging files of puts a crash cut short.
            store::remove_staged_uploads(&dir)
                .map_err(|e| format!("start-up clean-up of {}: {e}", dir.display()))?;
            object_store::local::LocalFileSystem::new_with_prefix(&dir)
                .map(|s| Arc::new(s) as Arc<dyn ObjectStore>)
                .map_err(|e| format!("data dir {}: {e}", dir.display()))
        }
        Some(other) => Err(format!(
            "--store {other:?}: expected file, memory or s3://BUCKET"
        )),
    }
}

/// Starts the server and runs until interrupted. Errors are start-up failures.
pub fn run(serve: Serve) -> Result<(), String> {
    let text = std::fs::read_to_string(&serve.config)
        .map_err(|e| format!("cannot read {}: {e}", serve.config.display()))?;
    let config = Config::parse(&text).map_err(|e| format!("{}: {e}", serve.config.display()))?;
    let store = AvatarStore::new(object_store(&serve)?);
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let jobs = serve.jobs;
    let queue = serve.queue.unwrap_or(4 * jobs);
    let buffered_kib = serve
        .max_buffered_mib
        .map_or((jobs + queue + 2) * serve.max_body.div_ceil(1024), |mib| {
            mib * 1024
        });
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(serve.log_level)
        .with_ansi(false)
        .with_target(false)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores)
        .max_blocking_threads(jobs + 2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async move {
        let collected = store
            .collect_garbage()
            .await
            .map_err(|e| format!("start-up clean-up: {e}"))?;
        let mut removed = HashSet::new();
        for u in &config.users {
            let p = store.profile(&u.id).await.map_err(|e| e.to_string())?;
            if p.removed {
                removed.insert(u.id.clone());
            }
        }
        let listener = tokio::net::TcpListener::bind(serve.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", serve.listen))?;
        let local = listener.local_addr().map_err(|e| e.to_string())?;
        let app = Arc::new(App {
            config,
            store,
            public_url: serve
                .public_url
                .unwrap_or_else(|| format!("http://{local}")),
            limiter: Default::default(),
            failures: Default::default(),
            removed: RwLock::new(removed),
            locks: Mutex::default(),
            work: Arc::new(tokio::sync::Semaphore::new(jobs)),
            admitted: Arc::new(AtomicUsize::new(0)),
            max_admitted: jobs + queue,
            running: Arc::new(AtomicUsize::new(0)),
            max_body: serve.max_body,
            buffered: Arc::new(tokio::sync::Semaphore::new(buffered_kib)),
            anonymous: Default::default(),
        });
        // One line on stdout when ready, so scripts and tests know the port.
        println!("{{\"ok\":true,\"listening\":\"{local}\",\"garbage_collected\":{collected}}}");
        listen::serve(listener, api::router(app), serve.hygiene, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await;
        Ok(())
    })
}
