//! `avatar serve`: the library's [`avatar_engine::server`] behind flags (built with
//! `--features server`), served with its connection limits until interrupted.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use avatar_engine::server::{
    install_prometheus, open_store, serve, Config, Hygiene, Server, StateDb,
};

/// Flags of `avatar serve`.
#[derive(clap::Args)]
pub struct Serve {
    /// The TOML config: teams, users, tokens and rate limits (see
    /// src/server/example.toml).
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
    /// The state database (profile pointers, sequences, what the sweep may delete):
    /// `sqlite://PATH` or `postgres://USER:PASSWORD@HOST/DB`. Instances that share the
    /// store and this database serve as one [default: `sqlite://DATA/state.db` for
    /// the file store, `sqlite::memory:` for the memory store; required for S3].
    #[arg(long, value_name = "URL")]
    pub state: Option<String>,
    /// How old an unreferenced version must be before the sweep deletes it, and how
    /// often the sweep runs, seconds (longer than any upload takes).
    #[arg(long, value_name = "SECS", default_value = "900", value_parser = seconds)]
    pub sweep_grace: Duration,
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

/// Starts the server and runs until interrupted. Errors are start-up failures.
pub fn run(serve_args: Serve) -> Result<(), String> {
    let text = std::fs::read_to_string(&serve_args.config)
        .map_err(|e| format!("cannot read {}: {e}", serve_args.config.display()))?;
    let config =
        Config::parse(&text).map_err(|e| format!("{}: {e}", serve_args.config.display()))?;
    let store =
        open_store(&serve_args.store, serve_args.data.as_deref()).map_err(|e| match serve_args
            .store
            .as_str()
        {
            "file" if serve_args.data.is_none() => "the file store needs --data DIR".into(),
            _ => e.to_string(),
        })?;
    let state_url = match (&serve_args.state, serve_args.store.as_str()) {
        (Some(url), _) => url.clone(),
        (None, "memory") => "sqlite::memory:".to_owned(),
        (None, "file") => match &serve_args.data {
            Some(dir) => format!("sqlite://{}", dir.join("state.db").display()),
            None => return Err("the file store needs --data DIR".into()),
        },
        (None, other) => {
            return Err(format!(
                "--store {other} needs --state (postgres://… or sqlite://…): the profile \
                 pointers live in a database, not in the object store"
            ))
        }
    };
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let jobs = serve_args.jobs.map_or(cores, |j| j as usize);
    let hygiene = Hygiene {
        header_timeout: serve_args.header_timeout,
        max_connections: serve_args.max_connections as usize,
    };
    let logs = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(serve_args.log_level)
        .with_ansi(false)
        .with_target(false);
    if serve_args.log_format == "json" {
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
        let listener = tokio::net::TcpListener::bind(serve_args.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", serve_args.listen))?;
        let local = listener.local_addr().map_err(|e| e.to_string())?;
        let public_url = serve_args
            .public_url
            .unwrap_or_else(|| format!("http://{local}"));
        let state = StateDb::open(&state_url).await.map_err(|e| e.to_string())?;
        let mut builder = Server::builder(config, store, state, public_url)
            .jobs(jobs)
            .grace(serve_args.sweep_grace)
            .metrics(install_prometheus().map_err(|e| e.to_string())?);
        if let Some(queue) = serve_args.queue {
            builder = builder.queue(queue);
        }
        if let Some(mib) = serve_args.max_buffered_mib {
            builder = builder.max_buffered(mib.saturating_mul(1 << 20));
        }
        let server = builder.build().await.map_err(|e| e.to_string())?;
        // One line on stdout when ready, so scripts and tests know the port.
        println!(
            "{{\"ok\":true,\"listening\":\"{local}\",\"garbage_collected\":{}}}",
            server.swept()
        );
        serve(listener, server.router(), hygiene, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await;
        Ok(())
    })
}
