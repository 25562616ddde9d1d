//! Fallible allocation: every pixel buffer is reserved with `try_reserve_exact`, so a
//! request the allocator cannot meet is a rejection, not an abort.

use crate::error::Rejection;

/// A zeroed buffer of `len` bytes, or `too_large` naming `what` it was for.
pub(crate) fn try_zeroed(len: usize, what: &str) -> Result<Vec<u8>, Rejection> {
    try_filled(len, 0, what)
}

/// A buffer of `len` bytes all equal to `value`.
pub(crate) fn try_filled(len: usize, value: u8, what: &str) -> Result<Vec<u8>, Rejection> {
    let mut v = try_with_capacity(len, what)?;
    v.resize(len, value);
    Ok(v)
}

/// An empty buffer with room for `len` bytes.
pub(crate) fn try_with_capacity(len: usize, what: &str) -> Result<Vec<u8>, Rejection> {
    let mut v = Vec::new();
    v.try_reserve_exact(len)
        .map_err(|_| Rejection::too_large(format!("cannot allocate {len} bytes for the {what}")))?;
    Ok(v)
}
