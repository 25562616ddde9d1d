//! Recently used conversions, by profile bytes: building one (parsing, curve tables,
//! the sRGB-content check) costs ~1 ms, and uploads repeat a handful of profiles
//! (each phone maker's Display P3, the camera makers' Adobe RGB).
//!
//! At most [`ENTRIES`] profiles of at most [`MAX_KEY_BYTES`] each are kept, keyed by
//! their exact bytes (no hash is trusted for equality), least recently used dropped
//! first. Profiles that are ignored or sRGB are cached too, as "nothing to do".

use std::sync::Mutex;

use super::{Converter, Source};

/// Profiles kept.
const ENTRIES: usize = 8;

/// Largest profile kept, in bytes; larger (LUT) profiles are rebuilt every time.
const MAX_KEY_BYTES: usize = 64 << 10;

struct Entry {
    profile: Vec<u8>,
    source: Source,
    channels: usize,
    converter: Option<Converter>,
}

static CACHE: Mutex<Vec<Entry>> = Mutex::new(Vec::new());

/// The cached transform for `(profile, source, channels)`, or `make()`'s, cached.
pub(super) fn get_or_insert(
    (profile, source, channels): (&[u8], Source, usize),
    make: impl FnOnce() -> Option<Converter>,
) -> Option<Converter> {
    if profile.len() > MAX_KEY_BYTES {
        return make();
    }
    let matches = |e: &Entry| e.source == source && e.channels == channels && e.profile == profile;
    {
        let mut cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(i) = cache.iter().position(matches) {
            // Most recently used last.
            let entry = cache.remove(i);
            let found = entry.converter.clone();
            cache.push(entry);
            return found;
        }
    }
    // Built outside the lock: two jobs may build the same one; the second wins.
    let converter = make();
    let mut cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
    cache.retain(|e| !matches(e));
    if cache.len() >= ENTRIES {
        cache.remove(0);
    }
    cache.push(Entry {
        profile: profile.to_vec(),
        source,
        channels,
        converter: converter.clone(),
    });
    converter
}
