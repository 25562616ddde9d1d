//! The reference upload server as a library (feature `server`): Slack's
//! `users.setPhoto`, `users.deletePhoto`, `users.profile.get`, `users.profile.set` and
//! `admin.users.remove`,
//! ZITADEL's `DELETE /management/v1/users/{id}/avatar`, the renditions at
//! content-addressed URLs, and `/healthz`, `/readyz` and (when asked) `/metrics`, as an
//! [`axum::Router`] to serve alone or [nest](axum::Router::nest) into an app of your own.
//! `avatar serve` is this module behind command-line flags.
//!
//! ```no_run
//! use std::net::SocketAddr;
//! use avatar_engine::server::{open_store, Config, Server, StateDb};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = Config::parse(&std::fs::read_to_string("avatars.toml")?)?;
//! let store = open_store("file", Some("/var/lib/avatars".as_ref()))?;
//! // Profile pointers: SQLite for one machine, PostgreSQL for several.
//! let state = StateDb::open("sqlite:///var/lib/avatars/state.db").await?;
//! // Every URL in answers starts with the public URL: include the mount point.
//! let avatars = Server::builder(config, store, state, "https://example.com/avatar")
//!     .build()
//!     .await?;
//! let app = axum::Router::new().nest("/avatar", avatars.router());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! // The client's address (ConnectInfo) keys the per-address limits.
//! axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await?;
//! # Ok(()) }
//! ```
//!
//! What a router does not bring with it: connection limits (a cap on open
//! connections, a deadline for request headers, a bound on header bytes). Those belong
//! to the listener; [`serve`] applies them, and an app serving with `axum::serve`
//! should put its own in front (a reverse proxy, or hyper's builder as [`serve`] does).
//!
//! Image work runs on tokio's blocking pool, at most [`Builder::jobs`] at once with
//! [`Builder::queue`] more waiting; beyond that, callers get `ratelimited`. The
//! renditions live in the object store, and everything that must be atomic (profile
//! pointers and text, sequences, version states) in the [`StateDb`]: see `DESIGN.md`
//! for the layout and what several instances guarantee.

mod admission;
mod api;
mod auth;
mod config;
mod identicon;
mod listen;
mod log;
mod metrics;
mod profile;
mod request;
mod state;
mod store;
mod sweep;

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::{Arc, RwLock};
use std::time::Duration;

pub use metrics_exporter_prometheus::PrometheusHandle;
pub use object_store;
use object_store::ObjectStore;

use api::App;
pub use config::Config;
pub use listen::{serve, Hygiene, MAX_HEAD_BYTES};
pub use state::StateDb;
use store::AvatarStore;

/// A server that cannot start: a bad config, a store that cannot be opened or read,
/// a metrics recorder already installed. The message names the fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupError(pub(crate) String);

impl std::fmt::Display for SetupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SetupError {}

/// Opens the object store `spec` names, as `avatar serve --store` does:
/// - `file`: the directory `data` (created if missing; the staging files of puts a
///   crash cut short are deleted first, so call this before the server writes);
/// - `memory`: in this process, gone when it ends (tests, trials);
/// - `s3://BUCKET`: an S3-compatible bucket, with credentials, region and endpoint
///   from the usual `AWS_*` environment variables (`AWS_ENDPOINT`,
///   `AWS_ALLOW_HTTP=true` for a plain-HTTP endpoint).
pub fn open_store(
    spec: &str,
    data: Option<&std::path::Path>,
) -> Result<Arc<dyn ObjectStore>, SetupError> {
    let fail = |e: String| SetupError(e);
    match spec {
        "memory" => Ok(Arc::new(object_store::memory::InMemory::new())),
        url if url.starts_with("s3://") => {
            let bucket = &url["s3://".len()..];
            object_store::aws::AmazonS3Builder::from_env()
                .with_bucket_name(bucket)
                .build()
                .map(|s| Arc::new(s) as Arc<dyn ObjectStore>)
                .map_err(|e| fail(format!("S3 store {url}: {e}")))
        }
        "file" => {
            let dir = data.ok_or_else(|| fail("the file store needs a data directory".into()))?;
            std::fs::create_dir_all(dir)
                .map_err(|e| fail(format!("cannot create {}: {e}", dir.display())))?;
            // Before anything writes: the staging files of puts a crash cut short.
            store::remove_staged_uploads(dir)
                .map_err(|e| fail(format!("start-up clean-up of {}: {e}", dir.display())))?;
            object_store::local::LocalFileSystem::new_with_prefix(dir)
                .map(|s| Arc::new(s) as Arc<dyn ObjectStore>)
                .map_err(|e| fail(format!("data dir {}: {e}", dir.display())))
        }
        other => Err(fail(format!(
            "store {other:?}: expected file, memory or s3://BUCKET"
        ))),
    }
}

/// Installs a Prometheus recorder as the process's `metrics` recorder (with the job
/// time histogram's buckets) and returns its handle for [`Builder::metrics`]. Call it
/// once, inside a tokio runtime (it starts the recorder's upkeep task). An app with a
/// recorder of its own skips this: the server's metrics go to whatever recorder is
/// installed (names and labels: `DESIGN.md`, README).
pub fn install_prometheus() -> Result<PrometheusHandle, SetupError> {
    metrics::install().map_err(SetupError)
}

/// 16 bytes no other instance or start of this one has: a hash of the process id, the
/// time in nanoseconds and the host name.
fn nonce() -> [u8; 16] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(std::process::id().to_le_bytes());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    h.update(nanos.to_le_bytes());
    h.update(std::fs::read("/proc/sys/kernel/hostname").unwrap_or_default());
    h.update(std::fs::read("/proc/sys/kernel/random/boot_id").unwrap_or_default());
    let mut n = [0u8; 16];
    n.copy_from_slice(&h.finalize()[..16]);
    n
}

/// Moves a pointer the server kept in the object store before the state database
/// (`profiles/<user>.json`, up to 0.2) into the database, if the database has never
/// seen a change of that user; so an upgrade keeps every avatar (and the sweep,
/// which deletes versions the database does not know, leaves them alone).
/// Returns the user's profile as the database then has it.
async fn import_legacy(
    state: &StateDb,
    store: &AvatarStore,
    user: &str,
) -> Result<state::Profile, String> {
    let profile = state.profile(user).await.map_err(|e| e.0)?;
    if profile.sequence != 0 {
        return Ok(profile);
    }
    let Some(legacy) = store
        .legacy_profile(user)
        .await
        .map_err(|e| e.to_string())?
    else {
        return Ok(profile);
    };
    if let Some(v) = &legacy.version {
        // Already registered by an instance that imported it and died before the flip.
        if !state.knows(user, v).await.map_err(|e| e.0)? {
            state
                .begin_version(user, v, store::now())
                .await
                .map_err(|e| e.0)?;
        }
    }
    let (_, after) = state
        .change(user, store::now(), false, |p| {
            if p.sequence != 0 {
                return Ok(false); // another instance imported it first
            }
            *p = legacy;
            Ok(true)
        })
        .await
        .map_err(|e| match e {
            state::Refused::Db(e) => e.0,
            state::Refused::Code(c) => c.to_owned(),
        })?;
    Ok(after)
}

/// Builds a [`Server`]: [`Server::builder`], the setters, then [`Builder::build`].
#[must_use]
pub struct Builder {
    config: Config,
    store: Arc<dyn ObjectStore>,
    state: StateDb,
    grace: Duration,
    public_url: String,
    jobs: usize,
    queue: Option<usize>,
    max_buffered: Option<usize>,
    metrics: Option<PrometheusHandle>,
}

impl Builder {
    /// Image jobs run at once. Default: one per core (`available_parallelism`).
    pub fn jobs(mut self, jobs: usize) -> Self {
        self.jobs = jobs.max(1);
        self
    }

    /// Image jobs that may wait for a slot; more get `ratelimited`. Default: 4 × jobs.
    pub fn queue(mut self, queue: usize) -> Self {
        self.queue = Some(queue);
        self
    }

    /// Bytes of uploaded images held at once, in bytes; more get `ratelimited`.
    /// Default: room for every running and queued job plus two more, each with the
    /// largest upload the policy admits.
    pub fn max_buffered(mut self, bytes: usize) -> Self {
        self.max_buffered = Some(bytes);
        self
    }

    /// How old a version nothing points at must be before the sweep deletes it, and
    /// how often each instance sweeps. Default: 15 minutes. Keep it above the longest
    /// upload (body 30 s + job 60 s + the store's writes): an upload slower than this
    /// is refused `internal_error` rather than published without its objects.
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// Serves `GET /metrics` from this Prometheus recorder (see
    /// [`install_prometheus`]). Default: no `/metrics` route.
    pub fn metrics(mut self, handle: PrometheusHandle) -> Self {
        self.metrics = Some(handle);
        self
    }

    /// Opens the server on its store and state database: refuses a shared
    /// (PostgreSQL) database unless the config's `[rate_limits] scope` says the
    /// limits are per instance, then sweeps once (the versions
    /// nothing points at, older than the grace period, as the database tells, and
    /// the store's versions the database does not know) and starts the periodic
    /// sweep, a task of the current tokio runtime. Fails if the store or database
    /// cannot be read.
    pub async fn build(self) -> Result<Server, SetupError> {
        if self.state.is_shared() && self.config.rate_limits.scope.is_none() {
            return Err(SetupError(
                "[rate_limits] scope: instances that share a PostgreSQL state database \
                 keep their rate limits each in its own memory (N instances allow up to \
                 N times each limit); say scope = \"instance\" to run so"
                    .into(),
            ));
        }
        let store = AvatarStore::new(self.store);
        // One read of each profile: the 0.2 import, and the removed users' cache.
        let mut removed = HashSet::new();
        for u in &self.config.users {
            let profile = import_legacy(&self.state, &store, &u.id)
                .await
                .map_err(|e| SetupError(format!("reading the profile of {}: {e}", u.id)))?;
            if profile.removed {
                removed.insert(u.id.clone());
            }
        }
        let swept = sweep::sweep(&self.state, &store, self.grace, true)
            .await
            .map_err(|e| SetupError(format!("start-up sweep: {e}")))?;
        // The largest request body: the engine's largest upload and room for arguments.
        let max_body = self.config.policy.max_input_bytes + (64 << 10);
        let queue = self.queue.unwrap_or(4 * self.jobs);
        let buffered = self
            .max_buffered
            .unwrap_or((self.jobs + queue + 2) * max_body);
        let buffered_kib = buffered
            .div_ceil(1024)
            .min(tokio::sync::Semaphore::MAX_PERMITS);
        let app = App {
            config: self.config,
            store: store.clone(),
            state: self.state.clone(),
            nonce: nonce(),
            uploads: AtomicU64::new(0),
            public_url: self.public_url.trim_end_matches('/').to_owned(),
            limiter: Default::default(),
            failures: Default::default(),
            removed: RwLock::new(removed),
            work: Arc::new(tokio::sync::Semaphore::new(self.jobs)),
            admitted: Arc::new(AtomicUsize::new(0)),
            max_admitted: self.jobs + queue,
            running: Arc::new(AtomicUsize::new(0)),
            max_body,
            buffered: Arc::new(tokio::sync::Semaphore::new(buffered_kib)),
            anonymous: Default::default(),
            readiness: Default::default(),
            metrics: self.metrics,
        };
        let (state, grace) = (self.state, self.grace);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(grace.max(Duration::from_secs(1)));
            tick.tick().await;
            loop {
                tick.tick().await;
                if let Err(e) = sweep::sweep(&state, &store, grace, false).await {
                    tracing::warn!(error = %e, "sweep failed");
                }
            }
        });
        Ok(Server {
            app: Arc::new(app),
            swept,
        })
    }
}

/// A built server: its [`router`](Server::router) answers every route.
pub struct Server {
    app: Arc<App>,
    swept: usize,
}

impl Server {
    /// Starts building a server for `config` with its renditions in `store` and its
    /// profile pointers in `state`. Every URL in answers (`image_*`) begins with
    /// `public_url`, so when the router is nested under a path, the public URL ends
    /// with that path (`https://example.com/avatar`). Instances that share the store
    /// and the state database serve the same avatars, each request on any of them.
    pub fn builder(
        config: Config,
        store: Arc<dyn ObjectStore>,
        state: StateDb,
        public_url: impl Into<String>,
    ) -> Builder {
        Builder {
            config,
            store,
            state,
            grace: Duration::from_secs(15 * 60),
            public_url: public_url.into(),
            jobs: std::thread::available_parallelism().map_or(2, |n| n.get()),
            queue: None,
            max_buffered: None,
            metrics: None,
        }
    }

    /// The routes, with their request log and limits, ready to serve or to nest.
    /// Cheap: every router shares this server's state.
    pub fn router(&self) -> axum::Router {
        api::router(Arc::clone(&self.app))
    }

    /// How many objects of unreferenced versions the start-up clean-up removed.
    pub fn swept(&self) -> usize {
        self.swept
    }
}
