//! Stopping a job the caller no longer wants: a cancellation handle, optionally with a
//! deadline, that the pipeline checks between stages and inside its long loops.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind};

/// A handle that stops a job: [`cancel`](Cancel::cancel) it from any thread, or give
/// it a deadline. Clones share one flag. Attach it with
/// [`Upload::with_cancel`](crate::Upload::with_cancel).
///
/// The job checks it before each stage (decode, colour conversion, placement), before
/// each rendition's resize and encode, and before each frame of an animation (and
/// each size of that frame), so it ends within about one rendition's or one frame's
/// work (a few milliseconds at 1024²) with the `cancelled` rejection
/// ([`ErrorKind::Cancelled`]). Nothing a cancelled job made is returned.
///
/// ```
/// use avatar_engine::{process, Cancel, Policy, ErrorKind, Upload};
/// let bytes = std::fs::read("testdata/photo_landscape_800x600.jpg").unwrap();
/// let cancel = Cancel::new();
/// cancel.cancel(); // e.g. from the thread that saw the client go away
/// let e = process(&Policy::default(), &Upload::new(&bytes).with_cancel(&cancel)).unwrap_err();
/// assert_eq!(e.kind(), ErrorKind::Cancelled);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Cancel {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    cancelled: AtomicBool,
    deadline: Option<Instant>,
}

impl Cancel {
    /// A handle that stops the job only when [`cancel`](Cancel::cancel) is called.
    pub fn new() -> Self {
        Cancel::default()
    }

    /// A handle that also stops the job once `deadline` has passed.
    pub fn with_deadline(deadline: Instant) -> Self {
        Cancel {
            inner: Arc::new(Inner {
                cancelled: AtomicBool::new(false),
                deadline: Some(deadline),
            }),
        }
    }

    /// A handle that also stops the job `timeout` from now.
    pub fn with_timeout(timeout: Duration) -> Self {
        Cancel::with_deadline(Instant::now() + timeout)
    }

    /// Stops every job this handle (or a clone) is attached to, at its next check.
    pub fn cancel(&self) {
        self.inner.cancelled.store(true, Ordering::Relaxed);
    }

    /// Whether a job attached to this handle would stop at its next check.
    pub fn is_cancelled(&self) -> bool {
        self.inner.cancelled.load(Ordering::Relaxed)
            || self.inner.deadline.is_some_and(|d| Instant::now() >= d)
    }

    /// `Err(cancelled)`, naming why, once the job should stop.
    pub(crate) fn check(&self) -> Result<(), Error> {
        if self.inner.cancelled.load(Ordering::Relaxed) {
            return Err(Error::new(
                ErrorKind::Cancelled,
                "the job was cancelled by its caller",
            ));
        }
        match self.inner.deadline {
            Some(d) if Instant::now() >= d => Err(Error::new(
                ErrorKind::Cancelled,
                "the job's deadline passed",
            )),
            _ => Ok(()),
        }
    }
}

/// Handles are equal when they share one flag (clones of each other).
impl PartialEq for Cancel {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Eq for Cancel {}

/// The checks a job makes: against its caller's handle, if it has one.
#[derive(Clone, Copy)]
pub(crate) struct Checks<'a>(pub Option<&'a Cancel>);

impl Checks<'_> {
    /// `Err(cancelled)` once the caller wants the job stopped.
    pub fn check(&self) -> Result<(), Error> {
        self.0.map_or(Ok(()), Cancel::check)
    }
}
