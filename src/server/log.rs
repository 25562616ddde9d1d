//! Structured request logs, through `tracing`: one event per request with its id,
//! client address, method, path, status, Slack error code, user and latency.
//!
//! Never logged: the query (tokens may travel there), headers (the bearer token),
//! bodies. The path is logged escaped (`Debug`), so a hostile path cannot forge lines.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

/// Where a handler records who the request turned out to be from.
#[derive(Clone, Default)]
pub struct LogSlot(Arc<Mutex<Option<String>>>);

impl LogSlot {
    pub fn set_user(&self, user: &str) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(user.to_owned());
    }

    fn user(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// The Slack error code a response carries, for the log.
#[derive(Clone, Copy)]
pub struct SlackCode(pub &'static str);

/// Longest path logged, in characters.
const MAX_PATH: usize = 200;

/// Logs every request, and answers with its id in `x-request-id`: the client's own
/// (1–64 characters of `A-Za-z0-9._-`) or a new one.
pub async fn log_requests(mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            (1..=64).contains(&v.len())
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        })
        .map_or_else(new_id, str::to_owned);
    let slot = LogSlot::default();
    request.extensions_mut().insert(slot.clone());
    let method = request.method().clone();
    let path: String = request.uri().path().chars().take(MAX_PATH).collect();
    let peer =
        super::request::peer(request.extensions()).map_or_else(String::new, |ip| ip.to_string());
    let mut response = next.run(request).await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", v);
    }
    let error = response.extensions().get::<SlackCode>().map_or("", |c| c.0);
    let status = response.status();
    let outcome = match error {
        "" if response
            .headers()
            .get("content-type")
            .is_some_and(|v| v.as_bytes().starts_with(b"application/json"))
            && status.is_success() =>
        {
            "ok"
        }
        "" => status.as_str(),
        code => code,
    };
    metrics::counter!(
        super::metrics::REQUESTS,
        "route" => super::metrics::route(&path),
        "outcome" => outcome.to_owned()
    )
    .increment(1);
    tracing::info!(
        request_id = %id,
        peer = %peer,
        method = %method,
        path = ?path,
        status = response.status().as_u16(),
        error = error,
        user = slot.user().as_deref().unwrap_or(""),
        latency_ms = format_args!("{:.2}", started.elapsed().as_secs_f64() * 1e3),
        "request"
    );
    response
}

/// A request id unique in this process and unlikely to repeat across restarts.
fn new_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    static BOOT: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let boot = *BOOT.get_or_init(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
    });
    format!(
        "{:08x}-{:x}",
        boot as u32,
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}
