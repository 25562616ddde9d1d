//! The one error type: why a job did not produce renditions (the upload was refused,
//! the caller cancelled it, or the engine failed), as a wire code plus a detail.

use std::fmt;
use std::sync::Arc;

/// Whose fault an [`Error`] is, and which wire code it travels as.
///
/// The codes are Slack's `users.setPhoto` error strings, so a server can answer
/// `{"ok":false,"error":code}` without a translation table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// `bad_image`: not a JPEG, PNG or GIF; corrupt, truncated or unsupported data;
    /// or a declared Content-Type that disagrees with the bytes.
    BadImage,
    /// `too_large`: a displayed side is above [`Policy::max_side`](crate::Policy::max_side),
    /// the upload is above [`Policy::max_input_bytes`](crate::Policy::max_input_bytes), or
    /// the job would need more memory than [`Policy::max_alloc`](crate::Policy::max_alloc).
    TooLarge,
    /// `too_small`: a displayed side is below [`Policy::min_side`](crate::Policy::min_side).
    TooSmall,
    /// `too_many_frames`: an animated GIF has more than
    /// [`Policy::max_frames`](crate::Policy::max_frames) frames.
    TooManyFrames,
    /// `invalid_arguments`: the crop box or the policy itself is unusable.
    InvalidArguments,
    /// `internal_error`: the engine failed on an input it had accepted (an encoder
    /// error, or a caught panic). Never the caller's fault; please report it.
    Internal,
    /// `cancelled`: the caller's [`Cancel`](crate::Cancel) handle was cancelled, or its
    /// deadline passed, before the job finished. Not one of Slack's codes: a server
    /// whose client has gone answers nobody, and one that set a deadline answers as
    /// it would any timeout (Slack's `request_timeout`).
    Cancelled,
}

impl ErrorKind {
    /// The wire error string, e.g. `"bad_image"`.
    pub const fn code(self) -> &'static str {
        match self {
            ErrorKind::BadImage => "bad_image",
            ErrorKind::TooLarge => "too_large",
            ErrorKind::TooSmall => "too_small",
            ErrorKind::TooManyFrames => "too_many_frames",
            ErrorKind::InvalidArguments => "invalid_arguments",
            ErrorKind::Internal => "internal_error",
            ErrorKind::Cancelled => "cancelled",
        }
    }

    /// Every kind, in declaration order (useful to check that a code is documented).
    pub const ALL: [ErrorKind; 7] = [
        ErrorKind::BadImage,
        ErrorKind::TooLarge,
        ErrorKind::TooSmall,
        ErrorKind::TooManyFrames,
        ErrorKind::InvalidArguments,
        ErrorKind::Internal,
        ErrorKind::Cancelled,
    ];
}

/// Which limit of the [`Policy`](crate::Policy) an upload crossed: the cause behind
/// `too_large`, `too_small` and `too_many_frames`, for a caller that answers each
/// differently (HTTP 413 for bytes, a message about sides, …) without parsing the
/// detail. The wire codes stay Slack's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Limit {
    /// The upload's size in bytes: [`Policy::max_input_bytes`](crate::Policy::max_input_bytes).
    InputBytes,
    /// A displayed side, above [`Policy::max_side`](crate::Policy::max_side) or below
    /// [`Policy::min_side`](crate::Policy::min_side).
    Side,
    /// The memory the job would need: [`Policy::max_alloc`](crate::Policy::max_alloc),
    /// or an allocation the system refused.
    Memory,
    /// An encoded rendition's size: [`Policy::max_output_bytes`](crate::Policy::max_output_bytes).
    OutputBytes,
    /// An animated GIF's frame count: [`Policy::max_frames`](crate::Policy::max_frames).
    Frames,
}

/// Why a job produced no renditions: the upload was refused (most kinds), the caller
/// cancelled it ([`ErrorKind::Cancelled`]), or the engine failed
/// ([`ErrorKind::Internal`], never the input's fault).
///
/// [`code`](Error::code) is the machine-readable wire string; `Display` prints
/// `code: detail`, where the detail names the fault in words, for example
/// `too_large: image is 4000x3000 as displayed; the largest side allowed is 1024`.
/// [`limit`](Error::limit) names the policy limit crossed, if one was, and
/// [`source`](std::error::Error::source) is the codec's own error where one caused it.
///
/// # Design
/// One struct with a small [`ErrorKind`] rather than an enum of payloads: callers
/// branch on the kind (a handful of wire codes) and the limit, while the detail is
/// for humans and logs and may be reworded between versions.
#[derive(Debug, Clone)]
pub struct Error {
    kind: ErrorKind,
    limit: Option<Limit>,
    detail: String,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

/// Equal when kind, limit and detail are (the source is not compared).
impl PartialEq for Error {
    fn eq(&self, other: &Self) -> bool {
        (self.kind, self.limit, &self.detail) == (other.kind, other.limit, &other.detail)
    }
}

impl Eq for Error {}

impl Error {
    /// A rejection of `kind` with a human-readable `detail`.
    pub fn new(kind: ErrorKind, detail: impl Into<String>) -> Self {
        Error {
            kind,
            limit: None,
            detail: detail.into(),
            source: None,
        }
    }

    /// The same rejection, naming the policy limit that was crossed.
    pub fn with_limit(mut self, limit: Limit) -> Self {
        self.limit = Some(limit);
        self
    }

    /// The same rejection, with the error that caused it (a codec's).
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    pub(crate) fn bad_image(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadImage, detail)
    }

    /// `too_large` for crossing `limit`.
    pub(crate) fn too_large(limit: Limit, detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::TooLarge, detail).with_limit(limit)
    }

    pub(crate) fn too_many_frames(max_frames: u32) -> Self {
        Self::new(
            ErrorKind::TooManyFrames,
            format!("GIF has more than {max_frames} frames"),
        )
        .with_limit(Limit::Frames)
    }

    pub(crate) fn invalid_arguments(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidArguments, detail)
    }

    pub(crate) fn internal(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, detail)
    }

    /// Which kind of fault this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The wire error string, e.g. `"too_large"`.
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    /// The human-readable detail, without the code.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// The policy limit crossed, for `too_large`, `too_small` and `too_many_frames`.
    pub fn limit(&self) -> Option<Limit> {
        self.limit
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.detail)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// The name of [`Error`] before 0.2, when every failure was called a rejection.
#[deprecated(since = "0.2.0", note = "renamed to `Error`")]
pub type Rejection = Error;

/// The name of [`ErrorKind`] before 0.2.
#[deprecated(since = "0.2.0", note = "renamed to `ErrorKind`")]
pub type RejectionKind = ErrorKind;
