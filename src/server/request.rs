//! Slack-style request shapes: arguments from the query, a urlencoded or multipart
//! body (JSON where a method allows it), and the errors Slack names for bad shapes.
//!
//! Everything is read under hard caps, streaming, so a hostile body costs the server
//! kilobytes: at most [`MAX_FIELDS`] arguments and [`MAX_FIELD_BYTES`] of argument
//! names and values (query and body together, JSON bodies included), and nothing of a
//! multipart body beyond that until its `image` part has been admitted by the caller
//! (who authenticates and reserves memory for it first). Parsing is incremental over
//! chunks of at most a few KiB of argument data, so it never holds an async worker
//! for long.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::{Body, BodyDataStream, Bytes};
use axum::http::{header, HeaderMap};
use futures_util::StreamExt;

/// Most arguments in one call, query and body together (Slack's methods take a few;
/// `users.profile.set`'s fields travel inside one `profile` argument).
pub const MAX_FIELDS: usize = 64;

/// Most bytes of argument names and values in one call, query and body together;
/// also the largest JSON or urlencoded body. Past it: `too_large`.
pub const MAX_FIELD_BYTES: usize = 64 << 10;

/// Most bytes of an oversized or refused body read and thrown away after the answer
/// has gone out, so that its client (the official SDKs among them, which send the
/// whole body before reading) gets the JSON answer instead of a broken pipe. A body
/// declared longer is answered at once and its connection closed unread. Draining
/// costs time, not memory: nothing drained is kept, and it stops after
/// [`DRAIN_TIME`].
pub const DISCARD_CAP: u64 = 64 << 20;

/// Longest a refused body is drained.
pub const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(30);

/// An uploaded file part.
pub struct FilePart {
    pub content_type: Option<String>,
    pub bytes: Bytes,
    /// Whatever the caller's admission gave this part (its share of the body
    /// budget): released when the part is dropped.
    #[expect(dead_code, reason = "held for its drop, never read")]
    pub hold: Box<dyn Send + Sync>,
}

/// Every argument of a call, by name, and the `image` file if one was sent.
#[derive(Default)]
pub struct Args {
    pub fields: Vec<(String, String)>,
    pub image: Option<FilePart>,
    /// The bearer token from `Authorization`, if any.
    pub bearer: Option<String>,
    /// A POST whose body was empty: for a method that needs POST data, Slack's
    /// `request_timeout` ("POST data missing or truncated").
    pub empty_post: bool,
    /// Slack's warning about the body's charset parameter, if one applies:
    /// `missing_charset` (JSON without one) or `superfluous_charset` (a form type
    /// with one).
    pub warning: Option<&'static str>,
    /// Argument bytes so far, against [`MAX_FIELD_BYTES`].
    field_bytes: usize,
}

impl Args {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `Authorization: Bearer` first, then a `token` argument. (A JSON body is read
    /// only with a bearer token, so its `token` member is never the credential.)
    pub fn token(&self) -> Option<&str> {
        self.bearer.as_deref().or_else(|| self.get("token"))
    }

    fn push(&mut self, name: String, value: String) -> Result<(), &'static str> {
        check_name(&name)?;
        if self.fields.len() >= MAX_FIELDS {
            return Err("invalid_form_data");
        }
        self.field_bytes += name.len() + value.len();
        if self.field_bytes > MAX_FIELD_BYTES {
            return Err("too_large");
        }
        self.fields.push((name, value));
        Ok(())
    }
}

/// Which bodies a method takes.
#[derive(Clone, Copy)]
pub struct Accepts {
    pub json: bool,
    pub multipart: bool,
}

/// The arguments of the request head: the bearer token and the query's fields.
pub fn head(headers: &HeaderMap, query: Option<&str>) -> Result<Args, &'static str> {
    let mut args = Args {
        bearer: bearer(headers),
        ..Args::default()
    };
    for (name, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        args.push(name.into_owned(), value.into_owned())?;
    }
    Ok(args)
}

/// The client's address, as the accept loop recorded it.
pub fn peer(extensions: &axum::http::Extensions) -> Option<std::net::IpAddr> {
    extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip())
}

/// The body's length as declared by `Content-Length`.
fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// Reads a POST body into `args`, the `image` part at most `max_body` bytes.
///
/// `admit_file(args, bytes)` is called when the image part begins, with the
/// arguments read so far and the bytes the part may take; it authenticates the call
/// and reserves memory, or refuses (its error is returned). Nothing of the part is
/// read before it returns.
///
/// On any error the rest of the body is drained ([`drain_later`]), so the client
/// receives the answer.
pub async fn body<E: From<&'static str>>(
    args: &mut Args,
    headers: &HeaderMap,
    body: Body,
    accepts: Accepts,
    max_body: usize,
    admit_file: impl FnMut(&Args, usize) -> Result<Box<dyn Send + Sync>, E>,
) -> Result<(), E> {
    let declared = declared_length(headers);
    // Far past the limit: answered at once, and the connection closes unread.
    if declared.is_some_and(|n| n > DISCARD_CAP) {
        return Err("too_large".into());
    }
    let mut stream = body.into_data_stream();
    let result = if declared.is_some_and(|n| n > max_body as u64) {
        Err("too_large".into())
    } else {
        parse(
            args,
            headers,
            &mut stream,
            declared,
            accepts,
            max_body,
            admit_file,
        )
        .await
    };
    if result.is_err() {
        drain_later(stream);
    }
    result
}

/// Reads and drops the rest of a body (at most [`DISCARD_CAP`] bytes, for at most
/// [`DRAIN_TIME`]) in a task of its own, so the answer goes out at once while the
/// client finishes sending.
pub fn drain_later(mut stream: BodyDataStream) {
    tokio::spawn(async move {
        let _ = tokio::time::timeout(DRAIN_TIME, async {
            let mut total = 0u64;
            while let Some(Ok(chunk)) = stream.next().await {
                total += chunk.len() as u64;
                if total > DISCARD_CAP {
                    return;
                }
            }
        })
        .await;
    });
}

async fn parse<E: From<&'static str>>(
    args: &mut Args,
    headers: &HeaderMap,
    stream: &mut BodyDataStream,
    declared: Option<u64>,
    accepts: Accepts,
    max_body: usize,
    admit_file: impl FnMut(&Args, usize) -> Result<Box<dyn Send + Sync>, E>,
) -> Result<(), E> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or(""));
    let Some(content_type) = content_type else {
        // An empty POST (arguments in the query, or none) needs no type.
        let bytes = read_capped(stream, MAX_FIELD_BYTES).await?;
        args.empty_post = bytes.is_empty();
        return if args.empty_post {
            Ok(())
        } else {
            Err("missing_post_type".into())
        };
    };
    let mut parts = content_type.split(';').map(str::trim);
    let mime = parts.next().unwrap_or("").to_ascii_lowercase();
    let params: Vec<(String, String)> = parts
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| {
            (
                k.trim().to_ascii_lowercase(),
                v.trim().trim_matches('"').to_owned(),
            )
        })
        .collect();
    let charset = params.iter().find(|(k, _)| k == "charset").map(|(_, v)| v);
    if let Some(charset) = charset {
        if !charset.eq_ignore_ascii_case("utf-8") && !charset.eq_ignore_ascii_case("utf8") {
            return Err("invalid_charset".into());
        }
    }
    let form = matches!(
        mime.as_str(),
        "application/x-www-form-urlencoded" | "multipart/form-data"
    );
    args.warning = match (form, charset.is_some()) {
        (true, true) => Some("superfluous_charset"),
        (false, false) if mime == "application/json" => Some("missing_charset"),
        _ => None,
    };
    match mime.as_str() {
        "application/x-www-form-urlencoded" => {
            let bytes = read_capped(stream, MAX_FIELD_BYTES - args.field_bytes).await?;
            args.empty_post = bytes.is_empty();
            if std::str::from_utf8(&bytes).is_err() {
                return Err("invalid_charset".into());
            }
            for (name, value) in form_urlencoded::parse(&bytes) {
                args.push(name.into_owned(), value.into_owned())?;
            }
            Ok(())
        }
        "multipart/form-data" if accepts.multipart => {
            let boundary = params
                .iter()
                .find(|(k, _)| k == "boundary")
                .map(|(_, v)| v.clone())
                .ok_or("invalid_form_data")?;
            let reserve = declared.map_or(max_body, |n| (n as usize).min(max_body));
            multipart(args, stream, boundary, (reserve, max_body), admit_file).await
        }
        "application/json" if accepts.json => {
            // Slack takes a JSON call's token from Authorization only; without one,
            // the body is not worth reading.
            if args.bearer.is_none() {
                return Err("not_authed".into());
            }
            let bytes = read_capped(stream, MAX_FIELD_BYTES - args.field_bytes).await?;
            args.empty_post = bytes.is_empty();
            let value: serde_json::Value =
                serde_json::from_slice(&bytes).map_err(|_| "invalid_json")?;
            let object = value.as_object().ok_or("invalid_json")?;
            for (k, v) in object {
                let v = match v {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Number(n) => n.to_string(),
                    serde_json::Value::Bool(b) => b.to_string(),
                    serde_json::Value::Array(_) => return Err("invalid_array_arg".into()),
                    // As its JSON text, as a form would carry it (`users.profile.set`'s
                    // `profile`).
                    serde_json::Value::Object(_) => v.to_string(),
                    // Not given (Slack's SDKs drop unset arguments; others send null).
                    serde_json::Value::Null => continue,
                };
                args.push(k.clone(), v)?;
            }
            Ok(())
        }
        _ => Err("invalid_post_type".into()),
    }
}

/// The body, which must be at most `cap` bytes (else `too_large`).
async fn read_capped(stream: &mut BodyDataStream, cap: usize) -> Result<Vec<u8>, &'static str> {
    let mut kept = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| "request_timeout")?;
        if kept.len() + chunk.len() > cap {
            return Err("too_large");
        }
        kept.extend_from_slice(&chunk);
    }
    Ok(kept)
}

/// A multipart body, streaming: argument parts into `args`, the `image` part (once
/// `admit_file` has admitted it, reserving `sizes.0` bytes) into a buffer of at most
/// `sizes.1` bytes. Until the image is admitted, the stream itself stops after
/// [`MAX_FIELD_BYTES`] and a little framing, so that no part header, preamble or
/// endless part can make the parser buffer more.
async fn multipart<E: From<&'static str>>(
    args: &mut Args,
    stream: &mut BodyDataStream,
    boundary: String,
    (reserve, max_body): (usize, usize),
    mut admit_file: impl FnMut(&Args, usize) -> Result<Box<dyn Send + Sync>, E>,
) -> Result<(), E> {
    /// Room for the boundaries and part headers of [`MAX_FIELDS`] small parts.
    const FRAMING: u64 = 32 << 10;
    let allowance = AtomicU64::new(MAX_FIELD_BYTES as u64 + FRAMING);
    let seen = AtomicU64::new(0);
    let limited = stream.by_ref().map(|chunk| {
        let chunk = chunk.map_err(std::io::Error::other)?;
        let total = seen.fetch_add(chunk.len() as u64, Ordering::Relaxed) + chunk.len() as u64;
        if total > allowance.load(Ordering::Relaxed) {
            return Err(std::io::Error::other("over the allowance"));
        }
        Ok(chunk)
    });
    let mut form = multer::Multipart::new(limited, boundary);
    // Why multer stopped: past the allowance, an empty body, or malformed.
    let failed = |e: multer::Error| -> &'static str {
        match e {
            multer::Error::StreamReadFailed(_)
                if seen.load(Ordering::Relaxed) > allowance.load(Ordering::Relaxed) =>
            {
                "too_large"
            }
            multer::Error::StreamReadFailed(_) => "request_timeout",
            // A multipart POST with no data at all is missing, not malformed.
            _ if seen.load(Ordering::Relaxed) == 0 => "request_timeout",
            _ => "invalid_form_data",
        }
    };
    let mut parts = 0;
    while let Some(mut field) = form.next_field().await.map_err(failed)? {
        parts += 1;
        if parts > MAX_FIELDS {
            return Err("invalid_form_data".into());
        }
        let name = field.name().unwrap_or("").to_owned();
        if name == "image" || field.file_name().is_some() {
            if name != "image" || args.image.is_some() {
                check_name(&name)?;
                return Err("invalid_form_data".into());
            }
            let content_type = field.content_type().map(|m| m.to_string());
            let hold = admit_file(args, reserve)?;
            allowance.fetch_add(max_body as u64, Ordering::Relaxed);
            let mut bytes = Vec::with_capacity(reserve);
            while let Some(chunk) = field.chunk().await.map_err(failed)? {
                if bytes.len() + chunk.len() > max_body {
                    return Err("too_large".into());
                }
                bytes.extend_from_slice(&chunk);
            }
            args.image = Some(FilePart {
                content_type,
                bytes: Bytes::from(bytes),
                hold,
            });
        } else {
            let mut value = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(failed)? {
                if args.field_bytes + name.len() + value.len() + chunk.len() > MAX_FIELD_BYTES {
                    return Err("too_large".into());
                }
                value.extend_from_slice(&chunk);
            }
            let value = String::from_utf8(value).map_err(|_| "invalid_form_data")?;
            args.push(name, value)?;
        }
    }
    Ok(())
}

/// The token of an `Authorization: Bearer` header.
pub fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

/// Slack refuses array arguments (`name[]`) and names outside `[A-Za-z0-9_.]`.
fn check_name(name: &str) -> Result<(), &'static str> {
    if name.contains('[') || name.contains(']') {
        return Err("invalid_array_arg");
    }
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
    {
        return Err("invalid_arg_name");
    }
    Ok(())
}
