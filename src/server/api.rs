//! The HTTP surface: Slack's methods (HTTP 200 with `{"ok":false,"error":..}`),
//! ZITADEL's avatar delete, and the rendition files.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, delete, get};
use axum::Router;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use crate::{
    probe_upload, process_probed, Avatar, Cancel, CropBox, Error, ErrorKind, Format, Policy, Upload,
};

use super::admission::{Admitted, AnonymousUploads};
use super::auth::{authenticate, Caller, FailureLimiter, Needs, RateLimiter, Tier};
use super::config::{valid_id, Config, TokenType, User};
use super::identicon;
use super::log::{log_requests, LogSlot, SlackCode};
use super::profile::Edit;
use super::request::{self, Accepts, Args};
use super::state::{Profile, Refused, StateDb, StateError, Stored};
use super::store::{now, AvatarStore};

/// Longest a client may take to send its request body.
const BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// Longest an image job may run; then the engine stops it (`request_timeout`). The
/// heaviest upload the default policy admits takes a few seconds on one core.
const JOB_TIMEOUT: Duration = Duration::from_secs(60);

/// Cancels its handle when dropped: the request future owns one per image job, so a
/// client that goes away stops the job it started.
struct CancelOnDrop(Cancel);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

pub struct App {
    pub config: Config,
    pub store: AvatarStore,
    /// Profile pointers, sequences and version states, shared by every instance.
    pub state: StateDb,
    /// Unique among instances and restarts: mixed into every new version key.
    pub nonce: [u8; 16],
    /// Counts the uploads of this instance, for the same purpose.
    pub uploads: AtomicU64,
    /// Base of every URL in responses, without a trailing slash.
    pub public_url: String,
    pub limiter: RateLimiter,
    /// Failed authentications per client address (`rate_limits.auth_failures`).
    pub failures: FailureLimiter,
    /// Users this instance knows `admin.users.remove` removed: a cache for the
    /// authentication that runs before a body is read; the state database is asked
    /// before any call runs ([`App::begin`]).
    pub removed: RwLock<HashSet<String>>,
    /// Image jobs running at once (`--jobs`, default one per core). A job's permit is
    /// held by its blocking task, so it is released when the CPU work ends, even if
    /// the client has gone and its request was dropped.
    pub work: Arc<Semaphore>,
    /// Image jobs admitted (running or waiting for a slot), and the most admitted at
    /// once: `--jobs` + `--queue`. Counted down by [`Admitted`]'s drop, whichever
    /// way the job ends.
    pub admitted: Arc<AtomicUsize>,
    pub max_admitted: usize,
    /// Image jobs whose CPU work is running now (logged at `debug`).
    pub running: Arc<AtomicUsize>,
    /// Largest request body, in bytes.
    pub max_body: usize,
    /// Bytes of uploaded images held at once, in KiB permits (`--max-buffered`): an
    /// image part reserves its body's declared length (or `max_body` if undeclared)
    /// once its call is authenticated, before it is read, and releases it when the
    /// call ends; past the budget, `ratelimited`.
    pub buffered: Arc<Semaphore>,
    /// Image parts being read before their call is authenticated, per address.
    pub anonymous: AnonymousUploads,
    /// The last readiness check of the store and when it ran: `/readyz` reads the
    /// store at most once a second, however often it is asked.
    pub readiness: tokio::sync::Mutex<Option<(std::time::Instant, bool)>>,
    /// Renders the Prometheus text for `/metrics`; no such route without it.
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
}

pub fn router(app: Arc<App>) -> Router {
    let routes = Router::new();
    let routes = match app.metrics {
        Some(_) => routes.route("/metrics", get(prometheus)),
        None => routes,
    };
    routes
        .route("/api/users.setPhoto", any(set_photo))
        .route("/api/users.deletePhoto", any(delete_photo))
        .route("/api/users.profile.get", any(profile_get))
        .route("/api/users.profile.set", any(profile_set))
        .route("/api/admin.users.remove", any(users_remove))
        .route("/management/v1/users/{user}/avatar", delete(zitadel_delete))
        .route("/avatars/{user}/{version}/{file}", get(avatar_file))
        .route("/api/{method}", any(unknown_method))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .layer(axum::middleware::map_response(no_sniffing))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&app),
            throttle_guessing,
        ))
        .layer(axum::middleware::from_fn(log_requests))
        .with_state(app)
}

/// `GET /healthz`: 200 while the process serves requests (liveness; nothing is
/// checked, so a slow store never gets a live server restarted).
async fn healthz() -> Response {
    slack(json!({"ok": true}))
}

/// `GET /readyz`: 200 when the object store and the state database answer a read,
/// 503 when either does not (readiness: a load balancer sends no uploads to an
/// instance that cannot store them). Anyone may ask, so the answer is reused for a
/// second: at most one read of each a second, whoever asks and however often.
async fn readyz(State(app): State<Arc<App>>) -> Response {
    let ready = {
        let mut last = app.readiness.lock().await;
        match *last {
            Some((at, ready)) if at.elapsed() < std::time::Duration::from_secs(1) => ready,
            _ => {
                let ready = app.store.reachable().await && app.state.reachable().await;
                *last = Some((std::time::Instant::now(), ready));
                ready
            }
        }
    };
    if ready {
        slack(json!({"ok": true}))
    } else {
        let mut r = slack_error("store_unreachable");
        *r.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        r
    }
}

/// `GET /metrics`: the Prometheus text (see `metrics.rs` for the list). Open like the
/// probes (counts only, nothing about users); rendering is in memory, no store call.
async fn prometheus(State(app): State<Arc<App>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        app.metrics.as_ref().map(|m| m.render()).unwrap_or_default(),
    )
        .into_response()
}

/// Marks a response whose request failed authentication (an unknown token), for
/// [`throttle_guessing`].
#[derive(Clone, Copy)]
struct AuthFailed;

/// Per client address: past `rate_limits.auth_failures` failed authentications this
/// minute, every request is `ratelimited` before anything of it is read.
async fn throttle_guessing(
    State(app): State<Arc<App>>,
    request: Request,
    next: axum::middleware::Next,
) -> Response {
    let peer = request::peer(request.extensions());
    let limit = app.config.rate_limits.auth_failures;
    if let Some(ip) = peer {
        if let Err(retry) = app.failures.check(ip, limit) {
            return ratelimited(retry);
        }
    }
    let response = next.run(request).await;
    if let (Some(ip), Some(AuthFailed)) = (peer, response.extensions().get::<AuthFailed>()) {
        app.failures.failed(ip);
    }
    response
}

/// Every response: browsers must not guess a type other than the declared one (an
/// image that also parses as HTML stays an image), and whatever is served is not
/// allowed to run or load anything, even when opened directly.
async fn no_sniffing(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    response
}

// ---------------------------------------------------------------- responses

fn slack(body: Value) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

fn slack_error(code: &'static str) -> Response {
    slack_error_warned(code, None)
}

/// `{"ok":false,"error":code}`, with Slack's `warning` when given, marked with its code
/// for the request log and, for `invalid_auth`, as a failed authentication.
fn slack_error_warned(code: &'static str, warning: Option<&'static str>) -> Response {
    let mut r = slack(warned(json!({"ok": false, "error": code}), warning));
    r.extensions_mut().insert(SlackCode(code));
    if code == "invalid_auth" {
        r.extensions_mut().insert(AuthFailed);
    }
    r
}

/// `body` with Slack's `warning` (and its copy in `response_metadata.warnings`).
fn warned(mut body: Value, warning: Option<&'static str>) -> Value {
    if let (Some(w), Some(o)) = (warning, body.as_object_mut()) {
        o.insert("warning".into(), w.into());
        o.insert("response_metadata".into(), json!({"warnings": [w]}));
    }
    body
}

fn ratelimited(retry_after: u64) -> Response {
    let mut r = slack_error("ratelimited");
    *r.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after.max(1)));
    r
}

/// A failed Slack call: the wire code, or a complete response (rate limiting).
enum Fail {
    Code(&'static str),
    Response(Box<Response>),
}

impl From<&'static str> for Fail {
    fn from(code: &'static str) -> Self {
        Fail::Code(code)
    }
}

impl From<StateError> for Fail {
    fn from(e: StateError) -> Self {
        tracing::warn!(error = %e.0, "state database call failed");
        metrics::counter!(super::metrics::STORE_ERRORS).increment(1);
        Fail::Code("internal_error")
    }
}

impl From<Refused> for Fail {
    fn from(r: Refused) -> Self {
        match r {
            Refused::Db(e) => e.into(),
            Refused::Code(code) => Fail::Code(code),
        }
    }
}

impl From<object_store::Error> for Fail {
    fn from(_: object_store::Error) -> Self {
        metrics::counter!(super::metrics::STORE_ERRORS).increment(1);
        Fail::Code("internal_error")
    }
}

/// The response to a Slack call, with Slack's `warning` (and its copy in
/// `response_metadata.warnings`) when the request earned one.
fn answer(result: Result<Value, Fail>, warning: Option<&'static str>) -> Response {
    match result {
        Ok(v) => slack(warned(v, warning)),
        Err(Fail::Code(code)) => slack_error_warned(code, warning),
        Err(Fail::Response(r)) => *r,
    }
}

// ---------------------------------------------------------------- shared steps

impl App {
    /// One Slack call: [`begin`](Self::begin) (read the request, authenticate and
    /// rate-limit its caller for `spec`), then `method` on the arguments and caller,
    /// then its [`answer`] with the request's warning.
    async fn call(
        &self,
        spec: Spec,
        request: Request,
        method: impl AsyncFnOnce(&Args, Caller) -> Result<Value, Fail>,
    ) -> Response {
        match self.begin(spec, request).await {
            Ok((args, caller)) => {
                let result = method(&args, caller).await;
                answer(result, args.warning)
            }
            Err(fail) => answer(Err(fail), None),
        }
    }

    fn caller(&self, token: Option<&str>, needs: Needs) -> Result<Caller, Fail> {
        let removed = self.removed.read().unwrap_or_else(|p| p.into_inner());
        let caller = match authenticate(&self.config, |u| removed.contains(u), token, needs) {
            Ok(c) => c,
            // Slack names the scope wanted and the scopes the token has.
            Err("missing_scope") => {
                let provided = token
                    .and_then(|t| self.config.token(t))
                    .map(|t| t.scopes.join(","))
                    .unwrap_or_default();
                return Err(Fail::Response(Box::new(slack(json!({
                    "ok": false,
                    "error": "missing_scope",
                    "needed": needs.scope,
                    "provided": provided,
                })))));
            }
            Err(code) => return Err(Fail::Code(code)),
        };
        self.limiter
            .check(&self.config.rate_limits, &caller.token.token, needs.tier)
            .map_err(|retry| Fail::Response(Box::new(ratelimited(retry))))?;
        Ok(caller)
    }

    /// Reads the request and authenticates its caller for `spec` (rate limit
    /// included), spending as little as it can on a caller that fails: a token in
    /// `Authorization` or the query is checked before the body is read, a token in
    /// the body before its image part is; an image part is read only into memory
    /// reserved from the body budget (`--max-buffered`), and before authentication
    /// only one at a time per client address. A refused body is drained (not kept)
    /// after the answer, so the client reads the answer.
    async fn begin(&self, spec: Spec, request: Request) -> Result<(Args, Caller), Fail> {
        let (parts, body) = request.into_parts();
        if parts.method != Method::GET && parts.method != Method::POST {
            let mut r = slack_error("method_not_allowed");
            *r.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
            r.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, POST"));
            return Err(Fail::Response(Box::new(r)));
        }
        let peer = request::peer(&parts.extensions);
        let log = parts.extensions.get::<LogSlot>().cloned();
        let refuse = |fail: Fail, body: Body| {
            request::drain_later(body.into_data_stream());
            Err(fail)
        };
        let mut args = match request::head(&parts.headers, parts.uri.query()) {
            Ok(args) => args,
            Err(code) => return refuse(code.into(), body),
        };
        let mut caller = None;
        if args.token().is_some() {
            match self.caller(args.token(), spec.needs) {
                Ok(c) => caller = Some(c),
                Err(fail) => return refuse(fail, body),
            }
        }
        if parts.method == Method::POST {
            let admit = |args: &Args, bytes: usize| -> Result<Box<dyn Send + Sync>, Fail> {
                if caller.is_none() && args.token().is_some() {
                    caller = Some(self.caller(args.token(), spec.needs)?);
                }
                let anonymous = match caller {
                    Some(_) => None,
                    None => Some(
                        self.anonymous
                            .try_take(peer)
                            .ok_or_else(|| Fail::Response(Box::new(ratelimited(1))))?,
                    ),
                };
                let kib = u32::try_from(bytes.div_ceil(1024)).unwrap_or(u32::MAX);
                let reserved = Arc::clone(&self.buffered)
                    .try_acquire_many_owned(kib)
                    .map_err(|_| Fail::Response(Box::new(ratelimited(1))))?;
                Ok(Box::new((reserved, anonymous)))
            };
            let read = request::body(
                &mut args,
                &parts.headers,
                body,
                spec.accepts,
                self.max_body,
                admit,
            );
            match tokio::time::timeout(BODY_TIMEOUT, read).await {
                Ok(read) => read?,
                Err(_) => return Err("request_timeout".into()),
            }
        }
        let caller = match caller {
            Some(c) => c,
            None => self.caller(args.token(), spec.needs)?,
        };
        if let Some(log) = log {
            log.set_user(&caller.user.id);
        }
        if self.is_removed(&caller.user.id).await? {
            return Err("account_inactive".into());
        }
        Ok((args, caller))
    }

    /// Whether `user` was removed, on any instance (the state database says; a yes is
    /// remembered in [`App::removed`]).
    async fn is_removed(&self, user: &str) -> Result<bool, Fail> {
        let removed = self.state.is_removed(user).await?;
        if removed {
            self.removed
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .insert(user.to_owned());
        }
        Ok(removed)
    }

    fn url(&self, user: &str, version: &str, file: &str) -> String {
        format!("{}/avatars/{user}/{version}/{file}", self.public_url)
    }

    /// `image_*`, `avatar_hash` and `is_custom_image` of a profile.
    fn image_fields(&self, user: &str, profile: &Profile) -> Map<String, Value> {
        let served = &self.config.policy.sizes;
        let mut m = Map::new();
        match (&profile.version, &profile.original_ext) {
            (Some(v), Some(original)) => {
                for r in &profile.renditions {
                    if served.contains(&r.size) {
                        let file = format!("{}.{}", r.size, r.ext);
                        m.insert(format!("image_{}", r.size), self.url(user, v, &file).into());
                    }
                }
                let file = format!("original.{original}");
                m.insert("image_original".into(), self.url(user, v, &file).into());
                m.insert("avatar_hash".into(), v[..12].into());
                m.insert("is_custom_image".into(), true.into());
            }
            _ => {
                let base = format!("{}/avatars/_default/{user}", self.public_url);
                for size in served {
                    m.insert(format!("image_{size}"), format!("{base}/{size}.jpg").into());
                }
                m.insert(
                    "image_original".into(),
                    format!("{base}/original.jpg").into(),
                );
                m.insert("avatar_hash".into(), identicon::hash(user).into());
                m.insert("is_custom_image".into(), false.into());
            }
        }
        m
    }

    /// Runs `f` on the blocking pool once one of the job slots is free; refuses with
    /// `ratelimited` when `max_admitted` jobs are already running or waiting.
    ///
    /// Safe to cancel: if the request is dropped (its client went away) while waiting,
    /// its admission is returned by [`Admitted`]'s drop; once running, the job's slot
    /// and admission belong to the blocking task and are returned when `f` returns,
    /// so `--jobs` bounds the CPU work actually running, not the requests still
    /// listening. `f` gets the job's [`Cancel`] handle, which fires when the request
    /// is dropped (the engine then stops at its next check) or after [`JOB_TIMEOUT`].
    async fn image_job<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Cancel) -> T + Send + 'static,
    ) -> Result<T, Fail> {
        let admitted = Admitted::try_new(&self.admitted, self.max_admitted)
            .ok_or_else(|| Fail::Response(Box::new(ratelimited(1))))?;
        let permit = Arc::clone(&self.work)
            .acquire_owned()
            .await
            .map_err(|_| Fail::Code("internal_error"))?;
        let running = Arc::clone(&self.running);
        let cancel = Cancel::with_timeout(JOB_TIMEOUT);
        // Fires when this future is dropped, finished or not (a finished job ignores it).
        let _on_drop = CancelOnDrop(cancel.clone());
        tokio::task::spawn_blocking(move || {
            // Counted apart from the permits, so the log shows what really ran at once.
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            metrics::gauge!(super::metrics::JOBS_RUNNING).increment(1.0);
            tracing::debug!(running = now, "image job started");
            let started = std::time::Instant::now();
            let result = f(&cancel);
            running.fetch_sub(1, Ordering::SeqCst);
            metrics::gauge!(super::metrics::JOBS_RUNNING).decrement(1.0);
            tracing::debug!(
                cancelled = cancel.is_cancelled(),
                ms = started.elapsed().as_millis() as u64,
                "image job ended"
            );
            drop((permit, admitted));
            result
        })
        .await
        .map_err(|_| Fail::Code("internal_error"))
    }

    /// Points the user's profile at nothing and deletes what it pointed at. Returns the
    /// new profile. When nothing was set, `users.deletePhoto` changes nothing (no new
    /// sequence); ZITADEL's `RemoveHumanAvatar` records its event on every call, so
    /// its sequence and change date rise all the same.
    async fn clear_avatar(&self, user: &str, how: Clear) -> Result<Profile, Fail> {
        let remove_user = how == Clear::RemoveUser;
        let when = now();
        let (before, after) = self
            .state
            .change(user, when, remove_user, |profile| {
                if profile.version.is_none() && how == Clear::Photo {
                    return Ok(false);
                }
                profile.version = None;
                profile.renditions.clear();
                profile.original_ext = None;
                profile.record_change(when);
                profile.removed |= remove_user;
                Ok(true)
            })
            .await?;
        if remove_user {
            self.removed
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .insert(user.to_owned());
            // Every version of the user is retired: the sweep forgets them.
            self.store.delete_version(user, None).await?;
        } else if let Some(old) = before.version.filter(|_| after.version.is_none()) {
            self.retire(user, &old).await?;
        }
        Ok(after)
    }

    /// Deletes a retired version's objects, then forgets it (a crash in between leaves
    /// it to the sweep).
    async fn retire(&self, user: &str, version: &str) -> Result<(), Fail> {
        self.store.delete_version(user, Some(version)).await?;
        self.state.forget_version(user, version).await?;
        Ok(())
    }

    /// A key for a new version: the upload's content hash with this instance's nonce
    /// and upload count, so two uploads never share one, even of the same bytes (a
    /// shared key would let one request's clean-up delete another's objects).
    fn version_key(&self, content: &[u8]) -> String {
        let mut hasher = Sha256::new();
        hasher.update(content);
        hasher.update(self.nonce);
        hasher.update(self.uploads.fetch_add(1, Ordering::Relaxed).to_le_bytes());
        identicon::hex(&hasher.finalize()[..16])
    }
}

/// Which call clears an avatar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Clear {
    /// `users.deletePhoto`: nothing to clear is no change.
    Photo,
    /// ZITADEL's avatar delete: a change (new sequence) on every call.
    AvatarEvent,
    /// `admin.users.remove`: the avatar and the user.
    RemoveUser,
}

const WRITE: &str = "users.profile:write";
const READ: &str = "users.profile:read";
const ADMIN: &str = "admin.users:write";
/// Without it, profiles are answered without their `email` (as Slack does).
const READ_EMAIL: &str = "users:read.email";

/// What a Slack method accepts and needs of its caller.
#[derive(Clone, Copy)]
struct Spec {
    accepts: Accepts,
    needs: Needs,
}

/// setPhoto and deletePhoto: form or multipart, user tokens with the write scope, Tier 2.
const WRITE_TIER2: Spec = Spec {
    accepts: Accepts {
        json: false,
        multipart: true,
    },
    needs: Needs {
        scope: WRITE,
        bots: false,
        tier: Tier::Two,
    },
};

/// profile.set: form, multipart or JSON (the Python SDK sends JSON), user tokens with
/// the write scope, Tier 3.
const WRITE_TIER3: Spec = Spec {
    accepts: Accepts {
        json: true,
        multipart: true,
    },
    needs: Needs {
        scope: WRITE,
        bots: false,
        tier: Tier::Three,
    },
};

/// profile.get: form or multipart, bots allowed, the read scope, Tier 4.
const READ_TIER4: Spec = Spec {
    accepts: Accepts {
        json: false,
        multipart: true,
    },
    needs: Needs {
        scope: READ,
        bots: true,
        tier: Tier::Four,
    },
};

/// admin.users.remove: form, multipart or JSON, an admin user token, Tier 2.
const ADMIN_TIER2: Spec = Spec {
    accepts: Accepts {
        json: true,
        multipart: true,
    },
    needs: Needs {
        scope: ADMIN,
        bots: false,
        tier: Tier::Two,
    },
};

// ---------------------------------------------------------------- unknown methods

/// Any other `/api/<method>`: Slack's `unknown_method` with the method's name, HTTP 200
/// so the official SDKs raise it as an API error with that code (the Node SDK turns
/// any other status into a bare HTTP error).
async fn unknown_method(Path(name): Path<String>) -> Response {
    let name: String = name.chars().take(100).collect();
    slack(json!({"ok": false, "error": "unknown_method", "req_method": name}))
}

// ---------------------------------------------------------------- users.setPhoto

async fn set_photo(State(app): State<Arc<App>>, request: Request) -> Response {
    app.call(WRITE_TIER2, request, async |args, caller| {
        set_photo_inner(&app, args, caller).await
    })
    .await
}

async fn set_photo_inner(app: &Arc<App>, args: &Args, caller: Caller) -> Result<Value, Fail> {
    let crop = crop_box(args)?;
    // The crop is the picture the avatar is made from: it must be as large as the
    // smallest image accepted whole (Slack's 512), or it would be upscaled to 1024
    // from a few pixels (and the upload's own square, image_original, would not exist).
    if crop.is_some_and(|c| c.w < app.config.policy.min_side) {
        return Err(Fail::Code("too_small"));
    }
    let image = args.image.as_ref().ok_or(if args.empty_post {
        "request_timeout"
    } else {
        "invalid_arguments"
    })?;
    let content_type = declared_type(image.content_type.as_deref());
    let bytes = image.bytes.clone();

    let mut content = Sha256::new();
    content.update(&bytes);
    if let Some(c) = crop {
        content.update(format!("crop:{},{},{}", c.x, c.y, c.w));
    }
    let version = app.version_key(&content.finalize());

    let policy = app.config.policy.clone();
    let job = app
        .image_job(move |cancel| render(policy, &bytes, content_type.as_deref(), crop, cancel))
        .await?;
    let (avatar, side) = job.map_err(Fail::Code)?;

    store_avatar(app, caller.user.id.as_str(), &version, &avatar, side).await
}

/// The avatar job of `users.setPhoto` under the configured `policy`: its sizes plus
/// the square at the upload's own resolution (`image_original`: the picture as sent,
/// without its metadata), and that side. Errors are wire codes.
fn render(
    mut policy: Policy,
    bytes: &[u8],
    content_type: Option<&str>,
    crop: Option<CropBox>,
    cancel: &Cancel,
) -> Result<(Avatar, u32), &'static str> {
    let mut upload = Upload::new(bytes).with_cancel(cancel);
    if let Some(declared) = content_type {
        upload = upload.with_content_type(declared);
    }
    if let Some(c) = crop {
        upload = upload.with_crop(c);
    }
    let code = |e: Error| {
        metrics::counter!(super::metrics::REJECTIONS, "code" => e.code()).increment(1);
        match e.kind() {
            // The client has gone (nobody reads this) or the job ran too long.
            ErrorKind::Cancelled => "request_timeout",
            _ => e.code(),
        }
    };
    let started = std::time::Instant::now();
    // Headers read once: for the original's side, then for the job.
    let probed = probe_upload(&policy, upload).map_err(code)?;
    let info = probed.info();
    let side = crop.map_or(info.width.max(info.height), |c| c.w);
    if (policy.min_side..=policy.max_side).contains(&side) && !policy.sizes.contains(&side) {
        policy.sizes.push(side);
    }
    let made = process_probed(&policy, &probed);
    metrics::histogram!(super::metrics::JOB_SECONDS, "format" => info.format.extension())
        .record(started.elapsed().as_secs_f64());
    made.map(|a| (a, side)).map_err(code)
}

/// Registers `version`, writes `avatar`'s renditions under it, then points `user`'s
/// profile at them (one transaction) and deletes the version it replaced. If any step
/// fails, the version's objects are deleted (or left to the sweep) and nothing points
/// at them.
async fn store_avatar(
    app: &Arc<App>,
    user: &str,
    version: &str,
    avatar: &Avatar,
    side: u32,
) -> Result<Value, Fail> {
    app.state.begin_version(user, version, now()).await?;
    let published = publish(app, user, version, avatar, side).await;
    let (before, after) = match published {
        Ok(changed) => changed,
        Err(fail) => {
            // Best effort: what is left is the sweep's once the grace period passes.
            if app.store.delete_version(user, Some(version)).await.is_ok() {
                let _ = app.state.forget_version(user, version).await;
            }
            return Err(fail);
        }
    };
    if let Some(old) = before.version.filter(|o| o != version) {
        app.retire(user, &old).await?;
    }
    Ok(json!({"ok": true, "profile": app.image_fields(user, &after)}))
}

/// The objects of `version`, then the profile's flip to it; the profile before and
/// after.
async fn publish(
    app: &Arc<App>,
    user: &str,
    version: &str,
    avatar: &Avatar,
    side: u32,
) -> Result<(Profile, Profile), Fail> {
    let served = &app.config.policy.sizes;
    let mut stored = Vec::new();
    let mut original_ext = None;
    let mut files = Vec::new();
    for r in &avatar.renditions {
        let ext = r.format.extension().to_owned();
        if r.size == side {
            files.push((format!("original.{ext}"), r.bytes.clone()));
            original_ext = Some(ext.clone());
        }
        if served.contains(&r.size) {
            files.push((format!("{}.{ext}", r.size), r.bytes.clone()));
            stored.push(Stored { size: r.size, ext });
        }
    }
    // All at once: over a network store, one round trip instead of eight.
    futures_util::future::try_join_all(
        files
            .into_iter()
            .map(|(file, bytes)| app.store.put_object(user, version, file, bytes)),
    )
    .await?;
    let when = now();
    let changed = app
        .state
        .change(user, when, false, |profile| {
            // Removed on another instance while this upload ran.
            if profile.removed {
                return Err("account_inactive");
            }
            profile.version = Some(version.to_owned());
            profile.renditions = stored;
            profile.original_ext = original_ext;
            profile.record_change(when);
            Ok(true)
        })
        .await?;
    Ok(changed)
}

/// The image part's type as a declaration the engine must hold the bytes to, or
/// `None` when the client declared nothing specific: no type, an empty one, or
/// `application/octet-stream`, which is what the official SDKs send for bytes and
/// buffers (the engine then goes by the bytes alone). Any other type, `image/*` or
/// not, is checked against the bytes.
fn declared_type(part_type: Option<&str>) -> Option<String> {
    let essence = part_type?.split(';').next()?.trim();
    (!essence.is_empty() && !essence.eq_ignore_ascii_case("application/octet-stream"))
        .then(|| essence.to_owned())
}

/// `crop_x`, `crop_y`, `crop_w`: all three non-negative integers, or none.
fn crop_box(args: &Args) -> Result<Option<CropBox>, Fail> {
    let parse = |name| args.get(name).map(|v| v.trim().parse::<u32>());
    match (parse("crop_x"), parse("crop_y"), parse("crop_w")) {
        (None, None, None) => Ok(None),
        (Some(Ok(x)), Some(Ok(y)), Some(Ok(w))) => Ok(Some(CropBox::new(x, y, w))),
        _ => Err(Fail::Code("invalid_arguments")),
    }
}

// ---------------------------------------------------------------- users.deletePhoto

async fn delete_photo(State(app): State<Arc<App>>, request: Request) -> Response {
    app.call(WRITE_TIER2, request, async |_, caller| {
        app.clear_avatar(&caller.user.id, Clear::Photo).await?;
        Ok(json!({"ok": true}))
    })
    .await
}

// ---------------------------------------------------------------- users.profile.get

async fn profile_get(State(app): State<Arc<App>>, request: Request) -> Response {
    app.call(READ_TIER4, request, async |args, caller| {
        let user = app.team_member(&caller, args.get("user"))?;
        let profile = app.state.profile(&user.id).await?;
        if profile.removed {
            return Err("user_not_found".into());
        }
        Ok(json!({"ok": true, "profile": app.profile_json(&caller, user, &profile)}))
    })
    .await
}

impl App {
    /// The user `id` names in the caller's team (the caller when `None`), or
    /// `user_not_found`: users of other teams are not told apart from unknown ids.
    fn team_member(&self, caller: &Caller, id: Option<&str>) -> Result<&User, Fail> {
        let id = id.unwrap_or(&caller.user.id);
        self.config
            .users
            .iter()
            .find(|u| u.id == id && u.team == caller.user.team)
            .ok_or(Fail::Code("user_not_found"))
    }

    /// A whole profile as `users.profile.get` answers it: the text fields (the email
    /// only for a token with `users:read.email`), then the image fields.
    fn profile_json(&self, caller: &Caller, user: &User, profile: &Profile) -> Map<String, Value> {
        let with_email = caller.token.scopes.iter().any(|s| s == READ_EMAIL);
        let mut fields = profile.fields.render(&user.name, now(), with_email);
        fields.extend(self.image_fields(&user.id, profile));
        fields
    }
}

// ---------------------------------------------------------------- users.profile.set

async fn profile_set(State(app): State<Arc<App>>, request: Request) -> Response {
    app.call(WRITE_TIER3, request, async |args, caller| {
        profile_set_inner(&app, args, caller).await
    })
    .await
}

/// Checks in this order: the arguments' form and the profile's shape
/// (`invalid_arguments`, `invalid_profile`), whose profile (`user_not_found`,
/// `not_admin`, `not_app_admin`, `cannot_update_admin_user`), the email's changer
/// (`not_admin`), the values (see `profile.rs`), then the write (`email_taken`,
/// `profile_set_failed`).
async fn profile_set_inner(app: &Arc<App>, args: &Args, caller: Caller) -> Result<Value, Fail> {
    let edit = Edit::from_arguments(args.get("profile"), args.get("name"), args.get("value"))?;
    let target = app.team_member(&caller, args.get("user"))?;
    let own = target.id == caller.user.id;
    let admin = caller.user.admin || caller.user.primary_owner;
    if !own {
        if target.deleted || app.is_removed(&target.id).await? {
            return Err("user_not_found".into());
        }
        if !admin {
            return Err("not_admin".into());
        }
        if target.is_bot && !caller.user.primary_owner {
            return Err("not_app_admin".into());
        }
        if (target.admin || target.primary_owner) && !caller.user.primary_owner {
            return Err("cannot_update_admin_user".into());
        }
    }
    // Only an admin changes an email, and (Slack's documentation) never their own.
    if edit.sets_email() && (!admin || own) {
        return Err("not_admin".into());
    }
    edit.check()?;
    let when = now();
    let changed = app
        .state
        .change_in_team(&target.id, &target.team, when, |profile| {
            // Removed on another instance since the checks above.
            if profile.removed {
                return Err(if own {
                    "account_inactive"
                } else {
                    "user_not_found"
                });
            }
            // A call that changes nothing (an expired status aside) is no change.
            let fields = edit.applied(&profile.fields, when);
            if fields == profile.fields.as_of(when) {
                return Ok(false);
            }
            profile.fields = fields;
            profile.record_change(when);
            Ok(true)
        })
        .await;
    let (_, after) = changed.map_err(|refused| match refused {
        Refused::Db(e) => {
            tracing::warn!(error = %e.0, "profile write failed");
            metrics::counter!(super::metrics::STORE_ERRORS).increment(1);
            Fail::Code("profile_set_failed")
        }
        Refused::Code(code) => Fail::Code(code),
    })?;
    Ok(json!({"ok": true, "profile": app.profile_json(&caller, target, &after)}))
}

// ---------------------------------------------------------------- admin.users.remove

async fn users_remove(State(app): State<Arc<App>>, request: Request) -> Response {
    app.call(ADMIN_TIER2, request, async |args, caller| {
        let team = args.get("team_id").ok_or("invalid_arguments")?;
        let target = args.get("user_id").ok_or("invalid_arguments")?;
        if !app.config.teams.iter().any(|t| t.id == team) {
            return Err("team_not_found".into());
        }
        if !(caller.user.admin || caller.user.primary_owner) || caller.user.team != team {
            return Err("invalid_permissions".into());
        }
        let user = app
            .config
            .users
            .iter()
            .find(|u| u.id == target && u.team == team)
            .ok_or("user_not_found")?;
        if user.deleted || app.is_removed(&user.id).await? {
            return Err("user_already_deleted".into());
        }
        if user.primary_owner {
            return Err("cannot_modify_primary_owner".into());
        }
        app.clear_avatar(&user.id, Clear::RemoveUser).await?;
        Ok(json!({"ok": true}))
    })
    .await
}

// ---------------------------------------------------------------- ZITADEL

fn zitadel_error(status: StatusCode, code: u32, message: &str) -> Response {
    let body = json!({"code": code, "message": message, "details": []});
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn zitadel_delete(
    State(app): State<Arc<App>>,
    Path(target): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(token) = request::bearer(&headers) else {
        return zitadel_error(StatusCode::UNAUTHORIZED, 16, "auth header missing");
    };
    // Who is calling (any valid token); what they may do is checked below.
    let any = Needs {
        scope: "",
        bots: true,
        tier: Tier::Two,
    };
    // Whether the token's user was removed, from the state database, before Slack's
    // order of checks runs.
    let token_user = app.config.token(&token).map(|t| t.user.clone());
    let removed = match &token_user {
        Some(u) => match app.is_removed(u).await {
            Ok(r) => r,
            Err(_) => {
                return zitadel_error(StatusCode::INTERNAL_SERVER_ERROR, 13, "internal error")
            }
        },
        None => false,
    };
    let caller = match authenticate(&app.config, |_| removed, Some(&token), any) {
        Ok(c) => c,
        Err(e) => {
            let mut r = zitadel_error(StatusCode::UNAUTHORIZED, 16, e);
            if e == "invalid_auth" {
                r.extensions_mut().insert(AuthFailed);
            }
            return r;
        }
    };
    if let Err(retry) = app
        .limiter
        .check(&app.config.rate_limits, &caller.token.token, Tier::Two)
    {
        let mut r = zitadel_error(StatusCode::TOO_MANY_REQUESTS, 8, "rate limited");
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(retry.max(1)));
        return r;
    }
    let Some(user) = app
        .config
        .users
        .iter()
        .find(|u| u.id == target && !u.deleted)
    else {
        return zitadel_error(StatusCode::NOT_FOUND, 5, "user not found");
    };
    match app.is_removed(&user.id).await {
        Ok(false) => {}
        Ok(true) => return zitadel_error(StatusCode::NOT_FOUND, 5, "user not found"),
        Err(_) => return zitadel_error(StatusCode::INTERNAL_SERVER_ERROR, 13, "internal error"),
    }
    // A user outside the caller's organisation (or the one named by the header) is
    // not found, exactly as an unknown id is: which ids exist elsewhere is not told.
    let org = headers.get("x-zitadel-orgid").and_then(|v| v.to_str().ok());
    if org.is_some_and(|o| o != user.team) || caller.user.team != user.team {
        return zitadel_error(StatusCode::NOT_FOUND, 5, "user not found");
    }
    let has = |scope: &str| caller.token.scopes.iter().any(|s| s == scope);
    let allowed = caller.token.kind == TokenType::User
        && ((caller.user.id == user.id && has(WRITE))
            || (has(ADMIN)
                && (caller.user.admin || caller.user.primary_owner)
                && caller.user.team == user.team));
    if !allowed {
        return zitadel_error(StatusCode::FORBIDDEN, 7, "permission denied");
    }
    match app.clear_avatar(&user.id, Clear::AvatarEvent).await {
        Ok(p) => {
            let body = json!({"details": {
                "sequence": p.sequence.to_string(),
                "creationDate": rfc3339(p.created),
                "changeDate": rfc3339(p.changed),
                "resourceOwner": user.team,
            }});
            (
                [(header::CONTENT_TYPE, "application/json")],
                body.to_string(),
            )
                .into_response()
        }
        Err(_) => zitadel_error(StatusCode::INTERNAL_SERVER_ERROR, 13, "internal error"),
    }
}

/// `secs` since the epoch as RFC 3339 UTC (`2026-11-29T15:04:05Z`).
pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

// ---------------------------------------------------------------- files

async fn avatar_file(
    State(app): State<Arc<App>>,
    Path((user, version, file)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let not_found = || StatusCode::NOT_FOUND.into_response();
    // Only names the server itself hands out reach the store: no traversal, no
    // guessing at other keys.
    if !file_name_ok(&file) {
        return not_found();
    }
    if user == "_default" {
        if !valid_id(&version) {
            return not_found();
        }
        return default_file(&app, &version, &file, &headers).await;
    }
    let version_ok = version.len() == 32 && version.bytes().all(|b| b.is_ascii_hexdigit());
    if !valid_id(&user) || !version_ok {
        return not_found();
    }
    let Ok(profile) = app.state.profile(&user).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if profile.removed || profile.version.as_deref() != Some(version.as_str()) {
        return not_found();
    }
    let etag = format!("\"{version}-{file}\"");
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    match app.store.get_object(&user, &version, &file).await {
        Ok(Some(bytes)) => file_response(bytes, &file, etag),
        Ok(None) => not_found(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// `<size>.<ext>` or `original.<ext>`, with a rendition extension.
fn file_name_ok(file: &str) -> bool {
    let Some((stem, ext)) = file.split_once('.') else {
        return false;
    };
    matches!(ext, "jpg" | "png" | "gif")
        && (stem == "original" || (!stem.is_empty() && stem.bytes().all(|b| b.is_ascii_digit())))
}

fn file_response(bytes: Vec<u8>, file: &str, etag: String) -> Response {
    let mime = match file.rsplit('.').next() {
        Some("png") => "image/png",
        Some("gif") => "image/gif",
        _ => "image/jpeg",
    };
    (
        [
            (header::CONTENT_TYPE, mime.to_owned()),
            (
                header::CACHE_CONTROL,
                "public, max-age=31536000, immutable".to_owned(),
            ),
            (header::ETAG, etag),
        ],
        bytes,
    )
        .into_response()
}

/// The generated default avatar of `user` (an id [`avatar_file`] has checked):
/// `<size>.jpg` or `original.jpg`. Any well-formed id gets its identicon, known or not
/// (and removed or not), so this public route does not tell which users exist.
async fn default_file(app: &Arc<App>, user: &str, file: &str, headers: &HeaderMap) -> Response {
    let size = match file.strip_suffix(".jpg") {
        Some("original") => Some(512),
        Some(s) => s
            .parse::<u32>()
            .ok()
            .filter(|s| app.config.policy.sizes.contains(s)),
        None => None,
    };
    let Some(size) = size else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let etag = format!("\"default-{}-{size}\"", identicon::hash(user));
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    let user = user.to_owned();
    // A generated picture, not an upload: only the size and the encoding apply.
    let mut policy = app.config.policy.clone();
    policy.sizes = vec![size];
    policy.min_side = 1;
    policy.max_side = policy.max_side.max(identicon::SIDE);
    let made = app
        .image_job(move |_| {
            let started = std::time::Instant::now();
            let made = identicon::renditions(&user, &policy);
            metrics::histogram!(super::metrics::JOB_SECONDS, "format" => "identicon")
                .record(started.elapsed().as_secs_f64());
            made
        })
        .await;
    match made {
        Ok(Ok(mut r)) if r.len() == 1 && r[0].format == Format::Jpeg => {
            file_response(r.remove(0).bytes, file, etag)
        }
        Err(Fail::Response(r)) => *r,
        _ => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::declared_type;

    #[test]
    fn generic_or_missing_part_types_are_no_declaration() {
        for undeclared in [None, Some(""), Some("  "), Some("application/octet-stream")] {
            assert_eq!(declared_type(undeclared), None, "{undeclared:?}");
        }
        assert_eq!(declared_type(Some("Application/Octet-Stream; x=1")), None);
        assert_eq!(
            declared_type(Some("image/png; charset=binary")).as_deref(),
            Some("image/png")
        );
        assert_eq!(
            declared_type(Some("text/plain")).as_deref(),
            Some("text/plain")
        );
    }
}
