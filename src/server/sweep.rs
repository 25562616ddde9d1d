//! The sweep: deletes the objects of versions nothing points at, as the state
//! database tells, once they are older than the grace period. Run at start-up and
//! then every grace period, by every instance; two sweeps never delete one version
//! twice or one being published (each version is claimed in the database first).

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::TryStreamExt;

use super::state::StateDb;
use super::store::{now, AvatarStore};

/// Deletes every version the database lists as not `current` whose state is older
/// than `grace`, then forgets it; returns how many objects went. Versions the
/// database does not know at all (left by a build before the database, or by hand)
/// are deleted too when `unregistered` is set and all their objects are older than
/// `grace`: a version being published is registered before its first object is
/// written, and its objects are younger than `grace` anyway.
pub async fn sweep(
    state: &StateDb,
    store: &AvatarStore,
    grace: Duration,
    unregistered: bool,
) -> Result<usize, String> {
    let started = now();
    let cutoff = started.saturating_sub(grace.as_secs());
    let mut deleted = 0;
    loop {
        let batch = state.sweepable(cutoff, 256).await.map_err(|e| e.0)?;
        let mut claimed = 0;
        for (user, version) in &batch {
            // Claimed rows leave the selection (their state's time becomes now).
            if state
                .claim_for_sweep(user, version, cutoff, now())
                .await
                .map_err(|e| e.0)?
            {
                claimed += 1;
                deleted += store
                    .delete_version(user, Some(version))
                    .await
                    .map_err(|e| e.to_string())?;
                state.forget_version(user, version).await.map_err(|e| e.0)?;
            }
        }
        if batch.is_empty() || claimed == 0 {
            break;
        }
    }
    if unregistered {
        deleted += sweep_unregistered(state, store, grace).await?;
    }
    Ok(deleted)
}

/// Deletes the versions in the object store that the database does not know, whose
/// objects were all last written over `grace` ago.
async fn sweep_unregistered(
    state: &StateDb,
    store: &AvatarStore,
    grace: Duration,
) -> Result<usize, String> {
    let objects = store
        .list_avatars()
        .try_collect::<Vec<_>>()
        .await
        .map_err(|e| e.to_string())?;
    let mut versions: BTreeMap<(String, String), bool> = BTreeMap::new();
    let old_enough = |meta: &object_store::ObjectMeta| {
        let age = age_of(meta.last_modified.timestamp());
        age.is_some_and(|a| a > grace)
    };
    for meta in &objects {
        let parts: Vec<&str> = meta.location.as_ref().split('/').collect();
        let [_, user, version, _] = parts[..] else {
            continue;
        };
        let old = versions
            .entry((user.to_owned(), version.to_owned()))
            .or_insert(true);
        *old &= old_enough(meta);
    }
    let mut deleted = 0;
    for ((user, version), old) in versions {
        if old && !state.knows(&user, &version).await.map_err(|e| e.0)? {
            deleted += store
                .delete_version(&user, Some(&version))
                .await
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(deleted)
}

/// How long ago `secs` since the epoch was; `None` if in the future.
fn age_of(secs: i64) -> Option<Duration> {
    let secs = u64::try_from(secs).ok()?;
    now().checked_sub(secs).map(Duration::from_secs)
}
