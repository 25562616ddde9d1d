//! Slack-style request shapes: arguments from the query, a urlencoded or multipart
//! body (JSON where a method allows it), and the errors Slack names for bad shapes.

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method};

/// An uploaded file part.
pub struct FilePart {
    pub content_type: Option<String>,
    pub bytes: Bytes,
}

/// Every argument of a call, by name, and the `image` file if one was sent.
#[derive(Default)]
pub struct Args {
    pub fields: Vec<(String, String)>,
    pub image: Option<FilePart>,
    /// The bearer token from `Authorization`, if any.
    pub bearer: Option<String>,
    /// The share of the server's body budget this call holds until it is dropped.
    pub hold: Option<tokio::sync::OwnedSemaphorePermit>,
    /// A POST whose body was empty: for a method that needs POST data, Slack's
    /// `request_timeout` ("POST data missing or truncated").
    pub empty_post: bool,
}

impl Args {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `Authorization: Bearer` first, then a `token` argument.
    pub fn token(&self) -> Option<&str> {
        self.bearer.as_deref().or_else(|| self.get("token"))
    }
}

/// Which bodies a method takes.
#[derive(Clone, Copy)]
pub struct Accepts {
    pub json: bool,
    pub multipart: bool,
}

/// Reads the whole request, at most `limit` bytes of body.
pub async fn read(
    method: &Method,
    query: Option<&str>,
    headers: &HeaderMap,
    body: Body,
    accepts: Accepts,
    limit: usize,
) -> Result<Args, &'static str> {
    let mut args = Args {
        bearer: bearer(headers),
        ..Args::default()
    };
    if let Some(q) = query {
        args.fields
            .extend(form_urlencoded::parse(q.as_bytes()).into_owned());
    }
    if *method == Method::POST {
        let declared = headers
            .get(axum::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        // Far past the limit: answered at once, and the connection closes unread.
        if declared.is_some_and(|n| n > DISCARD_CAP) {
            return Err("too_large");
        }
        let bytes = collect(body, limit, declared).await?;
        if declared.is_some_and(|n| n != bytes.len() as u64) {
            return Err("request_timeout");
        }
        args.empty_post = bytes.is_empty();
        let content_type = headers
            .get(axum::http::header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap_or(""));
        match content_type {
            // A multipart POST with no data at all is missing, not malformed.
            Some(ct)
                if bytes.is_empty()
                    && ct
                        .trim_start()
                        .to_ascii_lowercase()
                        .starts_with("multipart/") =>
            {
                return Err("request_timeout")
            }
            // An empty POST (arguments in the query, or none) needs no type.
            None if bytes.is_empty() => {}
            None => return Err("missing_post_type"),
            Some(ct) => parse_body(ct, bytes, accepts, &mut args).await?,
        }
    }
    for (name, _) in &args.fields {
        check_name(name)?;
    }
    Ok(args)
}

/// Most bytes of an oversized body read and thrown away, so that its client (the
/// official SDKs among them) gets the `too_large` answer instead of a broken pipe.
/// Past it the answer goes out at once and the connection closes unread. Reading
/// costs time, not memory: nothing past `limit` is kept, and the whole body is under
/// the caller's 30 s body timeout.
pub const DISCARD_CAP: u64 = 64 << 20;

/// The body, at most `limit` bytes kept (`declared`, its Content-Length, sizes the
/// buffer). A longer body is read to its end (up to [`DISCARD_CAP`]) without keeping
/// it, then `too_large`; a failing stream is `request_timeout`.
async fn collect(body: Body, limit: usize, declared: Option<u64>) -> Result<Bytes, &'static str> {
    use futures_util::StreamExt;
    let start = declared.map_or(0, |n| n.min(limit as u64) as usize);
    let mut kept = Vec::with_capacity(start);
    let mut total = 0u64;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| "request_timeout")?;
        total += chunk.len() as u64;
        if total > DISCARD_CAP {
            return Err("too_large");
        }
        if total <= limit as u64 {
            kept.extend_from_slice(&chunk);
        }
    }
    if total > limit as u64 {
        return Err("too_large");
    }
    Ok(Bytes::from(kept))
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

async fn parse_body(
    content_type: &str,
    bytes: Bytes,
    accepts: Accepts,
    args: &mut Args,
) -> Result<(), &'static str> {
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
    if let Some((_, charset)) = params.iter().find(|(k, _)| k == "charset") {
        if !charset.eq_ignore_ascii_case("utf-8") && !charset.eq_ignore_ascii_case("utf8") {
            return Err("invalid_charset");
        }
    }
    match mime.as_str() {
        "application/x-www-form-urlencoded" => {
            if std::str::from_utf8(&bytes).is_err() {
                return Err("invalid_charset");
            }
            args.fields
                .extend(form_urlencoded::parse(&bytes).into_owned());
            Ok(())
        }
        "multipart/form-data" if accepts.multipart => {
            let boundary = params
                .iter()
                .find(|(k, _)| k == "boundary")
                .map(|(_, v)| v.clone())
                .ok_or("invalid_form_data")?;
            multipart(bytes, boundary, args).await
        }
        "application/json" if accepts.json => {
            let value: serde_json::Value =
                serde_json::from_slice(&bytes).map_err(|_| "invalid_json")?;
            let object = value.as_object().ok_or("invalid_json")?;
            for (k, v) in object {
                let v = match v {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Number(n) => n.to_string(),
                    serde_json::Value::Bool(b) => b.to_string(),
                    serde_json::Value::Array(_) => return Err("invalid_array_arg"),
                    _ => return Err("invalid_arguments"),
                };
                args.fields.push((k.clone(), v));
            }
            Ok(())
        }
        _ => Err("invalid_post_type"),
    }
}

async fn multipart(bytes: Bytes, boundary: String, args: &mut Args) -> Result<(), &'static str> {
    let stream = futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(bytes) });
    let mut form = multer::Multipart::new(stream, boundary);
    while let Some(field) = form.next_field().await.map_err(|_| "invalid_form_data")? {
        let name = field.name().unwrap_or("").to_owned();
        if name == "image" || field.file_name().is_some() {
            if name != "image" || args.image.is_some() {
                check_name(&name)?;
                return Err("invalid_form_data");
            }
            let content_type = field.content_type().map(|m| m.to_string());
            let bytes = field.bytes().await.map_err(|_| "invalid_form_data")?;
            args.image = Some(FilePart {
                content_type,
                bytes,
            });
        } else {
            let text = field.text().await.map_err(|_| "invalid_form_data")?;
            args.fields.push((name, text));
        }
    }
    Ok(())
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
