//! The one rejection type: why an upload was refused, as a wire code plus a detail.

use std::fmt;

/// Whose fault a [`Rejection`] is, and which wire code it travels as.
///
/// The codes are Slack's `users.setPhoto` error strings, so a server can answer
/// `{"ok":false,"error":code}` without a translation table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RejectionKind {
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
}

impl RejectionKind {
    /// The wire error string, e.g. `"bad_image"`.
    pub const fn code(self) -> &'static str {
        match self {
            RejectionKind::BadImage => "bad_image",
            RejectionKind::TooLarge => "too_large",
            RejectionKind::TooSmall => "too_small",
            RejectionKind::TooManyFrames => "too_many_frames",
            RejectionKind::InvalidArguments => "invalid_arguments",
            RejectionKind::Internal => "internal_error",
        }
    }

    /// Every kind, in declaration order (useful to check that a code is documented).
    pub const ALL: [RejectionKind; 6] = [
        RejectionKind::BadImage,
        RejectionKind::TooLarge,
        RejectionKind::TooSmall,
        RejectionKind::TooManyFrames,
        RejectionKind::InvalidArguments,
        RejectionKind::Internal,
    ];
}

/// Why an upload was refused.
///
/// [`code`](Rejection::code) is the machine-readable wire string; `Display` prints
/// `code: detail`, where the detail names the fault in words, for example
/// `too_large: image is 4000x3000 as displayed; the largest side allowed is 1024`.
///
/// # Design
/// One struct with a small [`RejectionKind`] rather than an enum of payloads: callers
/// branch on the kind (a handful of wire codes), while the detail is for humans and
/// logs and may be reworded between versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    kind: RejectionKind,
    detail: String,
}

impl Rejection {
    /// A rejection of `kind` with a human-readable `detail`.
    pub fn new(kind: RejectionKind, detail: impl Into<String>) -> Self {
        Rejection {
            kind,
            detail: detail.into(),
        }
    }

    pub(crate) fn bad_image(detail: impl Into<String>) -> Self {
        Self::new(RejectionKind::BadImage, detail)
    }

    pub(crate) fn too_large(detail: impl Into<String>) -> Self {
        Self::new(RejectionKind::TooLarge, detail)
    }

    pub(crate) fn too_many_frames(max_frames: u32) -> Self {
        Self::new(
            RejectionKind::TooManyFrames,
            format!("GIF has more than {max_frames} frames"),
        )
    }

    pub(crate) fn invalid_arguments(detail: impl Into<String>) -> Self {
        Self::new(RejectionKind::InvalidArguments, detail)
    }

    pub(crate) fn internal(detail: impl Into<String>) -> Self {
        Self::new(RejectionKind::Internal, detail)
    }

    /// Which kind of fault this is.
    pub fn kind(&self) -> RejectionKind {
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
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.detail)
    }
}

impl std::error::Error for Rejection {}
