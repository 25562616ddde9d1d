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
mod metrics;
mod request;
mod store;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use object_store::ObjectStore;

use api::App;
use config::Config;
use store::AvatarStore;

/// Flags of `avatar serve`.
#[derive(clap::Args)]
pub struct Serve {
    /// The TOML config: teams, users, tokens and rate limits (see
    /// src/bin/avatar/serve/example.toml).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// Address and port to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Directory of the file store.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// `file` (in --data), `memory`, or `s3://BUCKET` (credentials, region and
    /// endpoint from the usual AWS_* environment variables).
    #[arg(long, value_name = "STORE", default_value = "file")]
    pub store: String,
    /// Base of every URL in answers [default: `http://` and the listen address].
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// Image jobs run at once [default: one per core].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub jobs: Option<u32>,
    /// Image jobs that may wait for a slot; more get `ratelimited` [default: 4 × jobs].
    #[arg(long, value_name = "N")]
    pub queue: Option<usize>,
    /// Uploaded images held at once, MiB; more get `ratelimited` [default: room for
    /// jobs + queue + 2 largest uploads].
    #[arg(long = "max-buffered", value_name = "MiB")]
    pub max_buffered_mib: Option<usize>,
    /// Longest a client may take to send a request's headers, and to start its next
    /// request on a kept-alive connection, seconds.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = seconds)]
    pub header_timeout: Duration,
    /// Most connections open at once; one more is answered 429 and closed.
    #[arg(long, value_name = "N", default_value_t = 512,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
    /// Least severe request-log events written to stderr (off, error, warn, info,
    /// debug, trace).
    #[arg(long, value_name = "LEVEL", default_value = "info")]
    pub log_level: tracing_subscriber::filter::LevelFilter,
    /// How request-log lines are written: `text` (key=value) or `json` (one JSON
    /// object a line, for log shippers).
    #[arg(long, value_name = "FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,
}

/// Seconds, 0 < s <= 3600, fractions allowed.
fn seconds(v: &str) -> Result<Duration, String> {
    v.parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0 && *s <= 3600.0)
        .map(Duration::from_secs_f64)
        .ok_or(format!("expected seconds, 0 < s <= 3600, got {v:?}"))
}

fn object_store(serve: &Serve) -> Result<Arc<dyn ObjectStore>, String> {
    match serve.store.as_str() {
        "memory" => Ok(Arc::new(object_store::memory::InMemory::new())),
        url if url.starts_with("s3://") => {
            let bucket = &url["s3://".len()..];
            object_store::aws::AmazonS3Builder::from_env()
                .with_bucket_name(bucket)
                .build()
                .map(|s| Arc::new(s) as Arc<dyn ObjectStore>)
                .map_err(|e| format!("S3 store {url}: {e}"))
        }
        "file" => {
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
        other => Err(format!(
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
    let jobs = serve.jobs.map_or(cores, |j| j as usize);
    let queue = serve.queue.unwrap_or(4 * jobs);
    // The largest request body: the engine's largest upload and room for arguments.
    let max_body = config.policy.max_input_bytes + (64 << 10);
    let hygiene = listen::Hygiene {
        header_timeout: serve.header_timeout,
        max_connections: serve.max_connections as usize,
    };
    let buffered_kib = serve
        .max_buffered_mib
        .map_or((jobs + queue + 2) * max_body.div_ceil(1024), |mib| {
            mib * 1024
        });
    let logs = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(serve.log_level)
        .with_ansi(false)
        .with_target(false);
    if serve.log_format == "json" {
        logs.json().flatten_event(true).init();
    } else {
        logs.init();
    }
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
        let metrics = metrics::install()?;
        let app = Arc::new(App {
            config,
            store,
            public_url: serve.public_url.map_or_else(
                || format!("http://{local}"),
                |u| u.trim_end_matches('/').to_owned(),
            ),
            limiter: Default::default(),
            failures: Default::default(),
            removed: RwLock::new(removed),
            locks: Mutex::default(),
            work: Arc::new(tokio::sync::Semaphore::new(jobs)),
            admitted: Arc::new(AtomicUsize::new(0)),
            max_admitted: jobs + queue,
            running: Arc::new(AtomicUsize::new(0)),
            max_body,
            buffered: Arc::new(tokio::sync::Semaphore::new(buffered_kib)),
            anonymous: Default::default(),
            readiness: Default::default(),
            metrics,
        });
        // One line on stdout when ready, so scripts and tests know the port.
        println!("{{\"ok\":true,\"listening\":\"{local}\",\"garbage_collected\":{collected}}}");
        listen::serve(listener, api::router(app), hygiene, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await;
        Ok(())
    })
}
