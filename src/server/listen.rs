//! Connection hygiene: the accept loop, with a cap on open connections, a deadline for
//! each request's headers (which is also the keep-alive idle limit), a bound on the
//! bytes a connection may buffer before its headers end, and a graceful stop.
//!
//! `axum::serve` sets none of these (hyper's header-read timeout needs a timer that
//! only a hand-built connection builder can be given), so connections are served
//! here with hyper's HTTP/1 builder directly.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::connect_info::IntoMakeServiceWithConnectInfo;
use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower_service::Service;

/// Limits on connections (flags and defaults: `avatar serve --help`).
#[derive(Clone, Copy, Debug)]
pub struct Hygiene {
    /// Longest a client may take to send a request's headers, counted from when the
    /// server is ready to read them: from the connection's start, or from the end of
    /// the previous response on a kept-alive connection (so it is also how long an
    /// idle connection stays open). `--header-timeout`, default 10 s.
    pub header_timeout: Duration,
    /// Most connections open at once; one more is answered 429 `ratelimited` with
    /// `Retry-After: 1` and closed. `--max-connections`, default 512 (keep it below
    /// the process's descriptor limit, `ulimit -n`, less what the store needs).
    pub max_connections: usize,
}

/// Bytes a connection may buffer while reading a request head (request line and
/// headers, query included); a longer head is refused with 431. hyper's default is
/// ~400 KiB, which a few hundred idle connections would turn into a lot of memory.
pub const MAX_HEAD_BYTES: usize = 64 << 10;

/// Connections being refused at once (each is read for up to [`REFUSAL_TIME`] so that
/// its client receives the answer, not a reset); past it, excess connections are
/// closed unanswered.
const MAX_REFUSING: usize = 64;
const REFUSAL_TIME: Duration = Duration::from_secs(1);

const REFUSAL: &[u8] = b"HTTP/1.1 429 Too Many Requests\r\n\
content-type: application/json; charset=utf-8\r\n\
retry-after: 1\r\n\
x-content-type-options: nosniff\r\n\
connection: close\r\n\
content-length: 34\r\n\r\n\
{\"ok\":false,\"error\":\"ratelimited\"}";

/// Serves `router` on `listener` until `stop` completes, then lets the connections
/// finish their requests (at most 30 s more).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    hygiene: Hygiene,
    stop: impl std::future::Future<Output = ()>,
) {
    let mut make: IntoMakeServiceWithConnectInfo<Router, SocketAddr> =
        router.into_make_service_with_connect_info::<SocketAddr>();
    let slots = Arc::new(Semaphore::new(hygiene.max_connections));
    let refusing = Arc::new(Semaphore::new(MAX_REFUSING));
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(hygiene.header_timeout)
        .max_buf_size(MAX_HEAD_BYTES)
        .keep_alive(true);
    tokio::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                // Out of descriptors or memory for a moment: back off, do not spin.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            if let Ok(refusal) = Arc::clone(&refusing).try_acquire_owned() {
                tokio::spawn(async move {
                    refuse(stream).await;
                    drop(refusal);
                });
            }
            continue;
        };
        let _ = stream.set_nodelay(true);
        let Ok(service) = make.call(peer).await;
        let connection =
            builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A connection's errors (timeouts, resets, malformed heads) are its own.
            let _ = connection.await;
            drop(slot);
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(Duration::from_secs(30), graceful.shutdown()).await;
}

/// Answers a connection over the cap with 429 and closes it. What the client sent is
/// read first (for at most [`REFUSAL_TIME`]), so that closing does not reset the
/// connection before the client has read the answer.
async fn refuse(mut stream: TcpStream) {
    let _ = tokio::time::timeout(REFUSAL_TIME, async {
        let mut buf = [0u8; 1024];
        let mut head = Vec::new();
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 8192 {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        let _ = stream.write_all(REFUSAL).await;
        let _ = stream.shutdown().await;
        // Until the client closes: its request body (if any) is not left unread.
        while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {}
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::REFUSAL;

    #[test]
    fn the_refusal_is_a_complete_response() {
        let text = std::str::from_utf8(REFUSAL).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["error"], "ratelimited");
    }
}
