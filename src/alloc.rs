//! Fallible allocation: every pixel buffer is reserved with `try_reserve_exact`, so a
//! request the allocator cannot meet is a rejection, not an abort.

use crate::error::{Error, Limit};

/// A zeroed buffer of `len` bytes, or `too_large` naming `what` it was for.
pub(crate) fn try_zeroed(len: usize, what: &str) -> Result<Vec<u8>, Error> {
    try_filled(len, 0, what)
}

/// A buffer of `len` elements all equal to `value`.
pub(crate) fn try_filled<T: Clone>(len: usize, value: T, what: &str) -> Result<Vec<T>, Error> {
    let mut v = try_with_capacity(len, what)?;
    v.resize(len, value);
    Ok(v)
}

/// An empty buffer with room for `len` elements.
pub(crate) fn try_with_capacity<T>(len: usize, what: &str) -> Result<Vec<T>, Error> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| {
        let bytes = len.saturating_mul(std::mem::size_of::<T>());
        Error::too_large(
            Limit::Memory,
            format!("cannot allocate {bytes} bytes for the {what}"),
        )
    })?;
    Ok(v)
}
