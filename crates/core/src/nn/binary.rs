//! A bounds-checked little-endian cursor over a binary checkpoint file, shared by the GGUF and
//! E5S1 readers. Every read names what it was reading, and a failure becomes the format's own
//! error (file, byte offset, message) through the constructor the reader was given.

use std::path::Path;

/// Makes a format's error from the file, the byte offset and a message.
pub(crate) type MakeError<E> = fn(&Path, usize, String) -> E;

/// The cursor; `at` is the offset of the next byte.
pub(crate) struct ByteCursor<'a, E> {
    bytes: &'a [u8],
    pub(crate) at: usize,
    path: &'a Path,
    make_error: MakeError<E>,
}

impl<'a, E> ByteCursor<'a, E> {
    /// A cursor at the start of `bytes`, read from `path`.
    pub(crate) fn new(bytes: &'a [u8], path: &'a Path, make_error: MakeError<E>) -> Self {
        Self {
            bytes,
            at: 0,
            path,
            make_error,
        }
    }

    /// An error at the current offset.
    pub(crate) fn error(&self, message: impl Into<String>) -> E {
        (self.make_error)(self.path, self.at, message.into())
    }

    /// Bytes not read yet.
    pub(crate) fn left(&self) -> usize {
        self.bytes.len() - self.at
    }

    /// The next `n` bytes.
    pub(crate) fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], E> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len())
            .ok_or_else(|| {
                self.error(format!(
                    "file ends while reading {what} ({n} bytes needed, {} left)",
                    self.left()
                ))
            })?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    /// The next `N` bytes as an array.
    pub(crate) fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], E> {
        Ok(self.take(N, what)?.try_into().expect("N bytes"))
    }

    /// A little-endian `u16`.
    pub(crate) fn u16(&mut self, what: &str) -> Result<u16, E> {
        Ok(u16::from_le_bytes(self.array(what)?))
    }

    /// A little-endian `u32`.
    pub(crate) fn u32(&mut self, what: &str) -> Result<u32, E> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    /// A little-endian `i32`.
    pub(crate) fn i32(&mut self, what: &str) -> Result<i32, E> {
        Ok(i32::from_le_bytes(self.array(what)?))
    }

    /// A little-endian `u64`.
    pub(crate) fn u64(&mut self, what: &str) -> Result<u64, E> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    /// A little-endian `f32`.
    pub(crate) fn f32(&mut self, what: &str) -> Result<f32, E> {
        Ok(f32::from_le_bytes(self.array(what)?))
    }

    /// Checks that `n` items of at least `min_size` bytes each fit in the rest of the file, so
    /// a corrupt count cannot make the reader allocate or loop without bound.
    pub(crate) fn check_count(&self, n: u64, min_size: usize, what: &str) -> Result<usize, E> {
        let left = self.left() as u64;
        if n.saturating_mul(min_size as u64) > left {
            return Err(self.error(format!(
                "{what} is {n}, more than the {left} bytes left in the file can hold"
            )));
        }
        Ok(n as usize)
    }
}
