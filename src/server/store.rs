//! The renditions in an object store: `avatars/<user>/<version>/<size>.<ext>` and
//! `.../original.<ext>`, one upload's objects under a version key of its own (the
//! content's hash and a nonce, so no two uploads share a key), written before
//! anything points at them. What points at them, and when a version may be deleted,
//! is in the state database ([`super::state`]), not here: the object store is asked
//! for nothing but puts, gets, lists and deletes.
//!
//! The local store writes each object to `<path>#<n>` and renames it into place; a
//! kill during a put leaves that staging file, which the store's own listing never
//! shows. [`remove_staged_uploads`] deletes those an hour old at start-up.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use futures_util::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, PutPayload};

use super::state::{Profile, Stored};

#[derive(Clone)]
pub struct AvatarStore {
    inner: Arc<dyn ObjectStore>,
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

pub fn object_path(user: &str, version: &str, file: &str) -> Path {
    Path::from(format!("avatars/{user}/{version}/{file}"))
}

type Result<T> = std::result::Result<T, object_store::Error>;

impl AvatarStore {
    pub fn new(inner: Arc<dyn ObjectStore>) -> Self {
        AvatarStore { inner }
    }

    /// Whether the store answers: a read of a key nobody writes, which finds nothing
    /// (or something) when the store is up and fails when it is not.
    pub async fn reachable(&self) -> bool {
        match self.inner.head(&Path::from("readyz")).await {
            Ok(_) | Err(object_store::Error::NotFound { .. }) => true,
            Err(_) => false,
        }
    }

    /// The pointer the server kept in the store before the state database
    /// (`profiles/<user>.json`), if there is one: imported once at start-up.
    pub async fn legacy_profile(&self, user: &str) -> Result<Option<Profile>> {
        let path = Path::from(format!("profiles/{user}.json"));
        let bytes = match self.inner.get(&path).await {
            Ok(got) => got.bytes().await?,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        #[derive(serde::Deserialize)]
        struct Legacy {
            version: Option<String>,
            renditions: Vec<Stored>,
            original_ext: Option<String>,
            sequence: u64,
            created: u64,
            changed: u64,
            removed: bool,
        }
        // Unreadable: nothing to import (the objects stay until the sweep's grace).
        Ok(serde_json::from_slice::<Legacy>(&bytes)
            .ok()
            .map(|l| Profile {
                version: l.version,
                renditions: l.renditions,
                original_ext: l.original_ext,
                sequence: l.sequence,
                created: l.created,
                changed: l.changed,
                removed: l.removed,
                fields: Default::default(),
            }))
    }

    /// Writes one object of a version (before any pointer names it).
    pub async fn put_object(
        &self,
        user: &str,
        version: &str,
        file: String,
        bytes: Vec<u8>,
    ) -> Result<()> {
        self.inner
            .put(&object_path(user, version, &file), PutPayload::from(bytes))
            .await
            .map(|_| ())
    }

    pub async fn get_object(
        &self,
        user: &str,
        version: &str,
        file: &str,
    ) -> Result<Option<Vec<u8>>> {
        match self.inner.get(&object_path(user, version, file)).await {
            Ok(got) => Ok(Some(got.bytes().await?.to_vec())),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every object under `avatars/`, with its last write time.
    pub fn list_avatars(
        &self,
    ) -> futures_util::stream::BoxStream<'static, Result<object_store::ObjectMeta>> {
        self.inner.list(Some(&Path::from("avatars")))
    }

    /// Deletes every object of one version, or of every version when `version` is
    /// `None`; returns how many went.
    pub async fn delete_version(&self, user: &str, version: Option<&str>) -> Result<usize> {
        let prefix = match version {
            Some(v) => Path::from(format!("avatars/{user}/{v}")),
            None => Path::from(format!("avatars/{user}")),
        };
        let paths: Vec<Path> = self
            .inner
            .list(Some(&prefix))
            .map_ok(|m| m.location)
            .try_collect()
            .await?;
        let count = paths.len();
        for p in paths {
            match self.inner.delete(&p).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(count)
    }
}

/// Age past which a staging file is a dead put's (no put takes an hour).
const STAGED_AGE: std::time::Duration = std::time::Duration::from_secs(3600);

/// Deletes, under the local store's root `dir`, the staging files of puts that never
/// finished: `object_store`'s `LocalFileSystem` writes `<path>#<digits>` and renames it,
/// and hides such names from listings, so no sweep sees them. Only files last
/// written over [`STAGED_AGE`] ago go: another process sharing the directory may be
/// writing the younger ones.
pub fn remove_staged_uploads(dir: &std::path::Path) -> std::io::Result<()> {
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let entries = match std::fs::read_dir(&d) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                pending.push(entry.path());
            } else if kind.is_file()
                && is_staging_name(&entry.file_name().to_string_lossy())
                && entry
                    .metadata()?
                    .modified()
                    .ok()
                    .and_then(|m| m.elapsed().ok())
                    .is_some_and(|age| age > STAGED_AGE)
            {
                match std::fs::remove_file(entry.path()) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
            }
        }
    }
    Ok(())
}

/// `name#123`: the form of `LocalFileSystem`'s staging files.
fn is_staging_name(name: &str) -> bool {
    name.rsplit_once('#').is_some_and(|(base, n)| {
        !base.is_empty() && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staging_names_are_recognised() {
        assert!(is_staging_name("24.jpg#1"));
        assert!(is_staging_name("U1.json#123"));
        assert!(!is_staging_name("24.jpg"));
        assert!(!is_staging_name("24.jpg#"));
        assert!(!is_staging_name("#12"));
        assert!(!is_staging_name("24.jpg#1a"));
    }
}
