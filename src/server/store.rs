//! Avatars over an object store, never half-published.
//!
//! Layout:
//! - `avatars/<user>/<version>/<size>.<ext>` and `.../original.<ext>`: one upload's
//!   renditions, under a key derived from its content (SHA-256 of the bytes and crop),
//!   written before anything points at them;
//! - `profiles/<user>.json`: the pointer — current version, formats, ZITADEL sequence,
//!   dates, removed flag — replaced by one atomic put (the local store writes a
//!   temporary file and renames it; S3 and memory puts are atomic);
//! - after the pointer flips, the previous version's objects are deleted. A crash
//!   before the flip leaves an unreferenced version, a crash after it leaves the old
//!   one: [`AvatarStore::collect_garbage`] removes both at start-up. At every moment a
//!   profile points to a complete set or to none.
//! - the local store writes each object to `<path>#<n>` and renames it into place; a
//!   kill during a put leaves that staging file, which the store's own listing never
//!   shows. [`remove_staged_uploads`] deletes them at start-up.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use futures_util::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, PutPayload};
use serde::{Deserialize, Serialize};

/// One stored rendition, as the profile lists it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Stored {
    pub size: u32,
    pub ext: String,
}

/// The per-user pointer object.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Profile {
    /// Content key of the current avatar, if one is set.
    pub version: Option<String>,
    pub renditions: Vec<Stored>,
    pub original_ext: Option<String>,
    /// Increases on every change (ZITADEL's object sequence).
    pub sequence: u64,
    /// Seconds since the epoch of the first change and of the last.
    pub created: u64,
    pub changed: u64,
    /// Set by `admin.users.remove`.
    pub removed: bool,
}

#[derive(Clone)]
pub struct AvatarStore {
    inner: Arc<dyn ObjectStore>,
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn profile_path(user: &str) -> Path {
    Path::from(format!("profiles/{user}.json"))
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

    /// The user's pointer; the default (no avatar, sequence 0) if none was written.
    pub async fn profile(&self, user: &str) -> Result<Profile> {
        match self.inner.get(&profile_path(user)).await {
            Ok(got) => {
                let bytes = got.bytes().await?;
                serde_json::from_slice(&bytes).map_err(|e| object_store::Error::Generic {
                    store: "profile",
                    source: Box::new(e),
                })
            }
            Err(object_store::Error::NotFound { .. }) => Ok(Profile::default()),
            Err(e) => Err(e),
        }
    }

    /// Replaces the pointer in one put.
    pub async fn put_profile(&self, user: &str, profile: &Profile) -> Result<()> {
        let bytes = serde_json::to_vec(profile).expect("a profile always serialises");
        self.inner
            .put(&profile_path(user), PutPayload::from(bytes))
            .await
            .map(|_| ())
    }

    /// Writes one object of a version (before any pointer names it).
    pub async fn put_object(
        &self,
        user: &str,
        version: &str,
        file: &str,
        bytes: Vec<u8>,
    ) -> Result<()> {
        self.inner
            .put(&object_path(user, version, file), PutPayload::from(bytes))
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

    /// Deletes every object of one version, or of every version when `version` is
    /// `None`.
    pub async fn delete_version(&self, user: &str, version: Option<&str>) -> Result<()> {
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
        for p in paths {
            match self.inner.delete(&p).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Removes every version no profile points to (left by a crash between writing
    /// renditions and flipping the pointer, or between the flip and the clean-up).
    /// Returns how many objects went.
    pub async fn collect_garbage(&self) -> Result<usize> {
        let objects: Vec<Path> = self
            .inner
            .list(Some(&Path::from("avatars")))
            .map_ok(|m| m.location)
            .try_collect()
            .await?;
        let mut removed = 0;
        let mut current: std::collections::HashMap<String, Option<String>> = Default::default();
        for p in objects {
            let segments: Vec<String> = p.parts().map(|s| s.as_ref().to_owned()).collect();
            let [_, user, version, _] = &segments[..] else {
                continue;
            };
            if !current.contains_key(user) {
                let v = self.profile(user).await?.version;
                current.insert(user.clone(), v);
            }
            if current[user].as_deref() != Some(version.as_str()) {
                match self.inner.delete(&p).await {
                    Ok(()) | Err(object_store::Error::NotFound { .. }) => removed += 1,
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(removed)
    }
}

/// Deletes, under the local store's root `dir`, the staging files of puts that never
/// finished: `object_store`'s `LocalFileSystem` writes `<path>#<digits>` and renames it,
/// and hides such names from listings, so [`AvatarStore::collect_garbage`] cannot see
/// them. Only safe while no put is in flight (at start-up).
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
            } else if kind.is_file() && is_staging_name(&entry.file_name().to_string_lossy()) {
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
