//! Cancellation and deadlines: a job stops at its next check with `cancelled`,
//! promptly, mid-animation and mid-resize, and a handle that never fires changes
//! nothing.

use std::time::{Duration, Instant};

use avatar_engine::{process, Cancel, ErrorKind, Policy, Upload};

use crate::support::{fixture, generate, policy_with};

/// Runs `bytes` under `policy` with `cancel`, cancelling it from another thread
/// `after` the start (if given); returns the result's kind and how long after the
/// cancel (or the start) the job returned.
fn run(
    policy: &Policy,
    bytes: &[u8],
    cancel: &Cancel,
    after: Option<Duration>,
) -> (Result<(), ErrorKind>, Duration) {
    let start = Instant::now();
    std::thread::scope(|s| {
        if let Some(after) = after {
            let cancel = cancel.clone();
            s.spawn(move || {
                std::thread::sleep(after);
                cancel.cancel();
            });
        }
        let result = process(policy, &Upload::new(bytes).with_cancel(cancel))
            .map(|_| ())
            .map_err(|e| e.kind());
        (
            result,
            start.elapsed().saturating_sub(after.unwrap_or_default()),
        )
    })
}

#[test]
fn a_cancelled_animation_stops_within_a_frame() {
    let gif = generate::slow_gif(24);
    let (whole, took) = run(&Policy::default(), &gif, &Cancel::new(), None);
    assert_eq!(whole, Ok(()));
    let after = took / 4;
    let (cut, late) = run(&Policy::default(), &gif, &Cancel::new(), Some(after));
    assert_eq!(cut, Err(ErrorKind::Cancelled));
    eprintln!("animation: whole job {took:?}, returned {late:?} after the cancel");
    // One frame of every size is about a twenty-fourth of the job.
    assert!(
        late < took / 6,
        "{late:?} after the cancel, whole job {took:?}"
    );
}

#[test]
fn a_deadline_stops_a_still_job_between_renditions() {
    let photo = fixture("photo_landscape_800x600.jpg");
    // Many large sizes: a long job made of many short steps.
    let policy = policy_with(|p| p.sizes = (0..16).map(|i| 1024 - 32 * i).collect());
    let (whole, took) = run(&policy, &photo, &Cancel::new(), None);
    assert_eq!(whole, Ok(()));
    let deadline = took / 4;
    let (cut, late) = run(&policy, &photo, &Cancel::with_timeout(deadline), None);
    assert_eq!(cut, Err(ErrorKind::Cancelled));
    let overshoot = late.saturating_sub(deadline);
    eprintln!("still: whole job {took:?}, deadline {deadline:?}, overshoot {overshoot:?}");
    // Past the deadline: at most the renditions already in flight (16 in all).
    assert!(
        overshoot < took / 3,
        "{overshoot:?} past the deadline, whole job {took:?}"
    );
}

#[test]
fn a_handle_that_never_fires_changes_nothing() {
    let photo = fixture("photo_landscape_800x600.jpg");
    let plain = process(&Policy::default(), &Upload::new(&photo)).unwrap();
    let cancel = Cancel::with_timeout(Duration::from_secs(3600));
    let with = process(
        &Policy::default(),
        &Upload::new(&photo).with_cancel(&cancel),
    )
    .unwrap();
    assert_eq!(plain, with);
    assert!(!cancel.is_cancelled());
    // Cancelled before it starts: nothing is decoded.
    let gone = Cancel::new();
    gone.cancel();
    let e = process(&Policy::default(), &Upload::new(&photo).with_cancel(&gone)).unwrap_err();
    assert_eq!((e.code(), e.kind()), ("cancelled", ErrorKind::Cancelled));
    assert!(gone.is_cancelled() && gone.clone() == gone);
    let passed = Cancel::with_deadline(Instant::now());
    let e = process(
        &Policy::default(),
        &Upload::new(&photo).with_cancel(&passed),
    )
    .unwrap_err();
    assert!(e.detail().contains("deadline"), "{e}");
}
