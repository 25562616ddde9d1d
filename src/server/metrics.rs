//! Prometheus metrics (`GET /metrics`), with the `metrics` crates: a global recorder
//! whose text the handler renders. Every label comes from a fixed set (route names,
//! wire codes, HTTP statuses, input formats), so no client can grow the series.
//!
//! | metric | type | labels | what |
//! |---|---|---|---|
//! | `avatar_requests_total` | counter | `route`, `outcome` | requests answered; outcome is the Slack code (`ok` or the error) or else the HTTP status |
//! | `avatar_job_seconds` | histogram | `format` | time of one image job, from probe to the last rendition (`jpg`, `png`, `gif`, `identicon`) |
//! | `avatar_rejections_total` | counter | `code` | uploads the engine refused, by wire code |
//! | `avatar_store_errors_total` | counter | — | object store calls that failed |
//! | `avatar_jobs_admitted` | gauge | — | image jobs running or queued (queue depth + running) |
//! | `avatar_jobs_running` | gauge | — | image jobs whose CPU work is running |

use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

pub const REQUESTS: &str = "avatar_requests_total";
pub const JOB_SECONDS: &str = "avatar_job_seconds";
pub const REJECTIONS: &str = "avatar_rejections_total";
pub const STORE_ERRORS: &str = "avatar_store_errors_total";
pub const JOBS_ADMITTED: &str = "avatar_jobs_admitted";
pub const JOBS_RUNNING: &str = "avatar_jobs_running";

/// Job-time buckets, in seconds: a 1024² still takes ~0.01–0.03, a large GIF seconds.
const JOB_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0,
];

/// Installs the process's recorder and starts its upkeep (histograms are drained every
/// 5 s); the handle renders the text for `/metrics`. Call once, inside the runtime.
pub fn install() -> Result<PrometheusHandle, String> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(JOB_SECONDS.into()), &JOB_BUCKETS)
        .and_then(|b| b.install_recorder())
        .map_err(|e| format!("metrics: {e}"))?;
    metrics::describe_counter!(REQUESTS, "Requests answered, by route and outcome");
    metrics::describe_histogram!(
        JOB_SECONDS,
        metrics::Unit::Seconds,
        "Time of one image job, by input format"
    );
    metrics::describe_counter!(REJECTIONS, "Uploads refused by the engine, by wire code");
    metrics::describe_counter!(STORE_ERRORS, "Object store calls that failed");
    metrics::describe_gauge!(JOBS_ADMITTED, "Image jobs running or waiting for a slot");
    metrics::describe_gauge!(JOBS_RUNNING, "Image jobs whose CPU work is running");
    let upkeep = handle.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tick.tick().await;
            upkeep.run_upkeep();
        }
    });
    Ok(handle)
}

/// The `route` label of a request path: the Slack method for the five served, or the
/// route's name; never the client's own text.
pub fn route(path: &str) -> &'static str {
    match path {
        "/api/users.setPhoto" => "users.setPhoto",
        "/api/users.deletePhoto" => "users.deletePhoto",
        "/api/users.profile.get" => "users.profile.get",
        "/api/users.profile.set" => "users.profile.set",
        "/api/admin.users.remove" => "admin.users.remove",
        "/healthz" => "healthz",
        "/readyz" => "readyz",
        "/metrics" => "metrics",
        p if p.starts_with("/api/") => "unknown_method",
        p if p.starts_with("/avatars/") => "avatar_file",
        p if p.starts_with("/management/v1/users/") => "zitadel",
        _ => "other",
    }
}
