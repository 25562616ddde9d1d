//! Admission guards: what a request holds while it runs (an image job's place, an
//! anonymous upload's slot), each released by its drop, however the request ends
//! (answered, failed, or dropped because its client went away).

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// One admitted image job: counted in its counter from [`Admitted::try_new`] until
/// dropped.
pub struct Admitted(Arc<AtomicUsize>);

impl Admitted {
    /// Admits one more job, unless `max` are admitted already.
    pub fn try_new(count: &Arc<AtomicUsize>, max: usize) -> Option<Admitted> {
        count
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| {
                gauge().increment(1.0);
                Admitted(Arc::clone(count))
            })
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
        gauge().decrement(1.0);
    }
}

/// The `avatar_jobs_admitted` gauge of whichever recorder is installed, moved by one
/// with each admission and its end (never set, so no update is lost to a race).
fn gauge() -> metrics::Gauge {
    metrics::gauge!(super::metrics::JOBS_ADMITTED)
}

/// Client addresses with an image part being read before its call could be
/// authenticated (a body whose `token` argument comes after the image): one such
/// upload per address at a time, so anonymous clients cannot hold the body budget
/// from one address. (Clients that send the token first, in `Authorization` or as an
/// earlier argument, are authenticated before their image is read.)
#[derive(Default, Clone)]
pub struct AnonymousUploads(Arc<Mutex<HashSet<Option<IpAddr>>>>);

/// An address's anonymous upload, until dropped.
pub struct AnonymousUpload {
    uploads: AnonymousUploads,
    peer: Option<IpAddr>,
}

impl AnonymousUploads {
    /// The slot of `peer` (`None`: an unknown address, one slot for all), unless it is
    /// taken.
    pub fn try_take(&self, peer: Option<IpAddr>) -> Option<AnonymousUpload> {
        let mut held = self.0.lock().unwrap_or_else(|p| p.into_inner());
        held.insert(peer).then(|| AnonymousUpload {
            uploads: self.clone(),
            peer,
        })
    }
}

impl Drop for AnonymousUpload {
    fn drop(&mut self) {
        let mut held = self.uploads.0.lock().unwrap_or_else(|p| p.into_inner());
        held.remove(&self.peer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guards_release_their_places_when_dropped() {
        let count = Arc::new(AtomicUsize::new(0));
        let a = Admitted::try_new(&count, 2).unwrap();
        let b = Admitted::try_new(&count, 2).unwrap();
        assert!(Admitted::try_new(&count, 2).is_none());
        drop(a);
        assert!(Admitted::try_new(&count, 2).is_some());
        drop(b);
        assert_eq!(count.load(Ordering::SeqCst), 0);

        let uploads = AnonymousUploads::default();
        let ip = Some(IpAddr::from([10, 0, 0, 1]));
        let held = uploads.try_take(ip).unwrap();
        assert!(uploads.try_take(ip).is_none());
        assert!(uploads
            .try_take(Some(IpAddr::from([10, 0, 0, 2])))
            .is_some());
        drop(held);
        assert!(uploads.try_take(ip).is_some());
    }
}
