//! Pipes: a bounded byte queue between a read end and a write end, each an open
//! file description in [`crate::file::OpenFiles`] (which owns the pipes and ends a
//! pipe with its last description). Plain data. A call that finds a pipe empty
//! (to read) or full (to write) blocks on it; every change to a pipe is noted as
//! an event, which the kernel turns into wake-ups ([`crate::wait::WaitQueues`]).

use alloc::collections::VecDeque;

/// Bytes a pipe holds.
pub const PIPE_CAPACITY: usize = 64 * 1024;
/// Writes of at most this many bytes are atomic: never interleaved with others,
/// never cut short by a full pipe (they wait for room instead).
pub const PIPE_BUF: usize = 4096;
/// Pipes in the whole system (`ENFILE` beyond): their buffers live in the kernel
/// heap.
pub const PIPES_MAX: usize = 64;

/// One pipe. See the module documentation.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pipe {
    data: VecDeque<u8>,
    /// The read end is still open.
    pub reader: bool,
    /// The write end is still open.
    pub writer: bool,
}

impl Pipe {
    /// A pipe with both ends open.
    pub fn new() -> Pipe {
        Pipe {
            data: VecDeque::new(),
            reader: true,
            writer: true,
        }
    }

    /// Bytes waiting to be read.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether nothing waits to be read.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Room left.
    pub fn room(&self) -> usize {
        PIPE_CAPACITY - self.data.len()
    }

    /// How many of `count` bytes a write may put in now: all of an atomic write
    /// (≤ [`PIPE_BUF`]) or none, else as many as fit.
    pub fn writable_now(&self, count: usize) -> usize {
        if count <= PIPE_BUF && count > self.room() {
            0
        } else {
            count.min(self.room())
        }
    }

    /// Append `bytes` (the caller checked the room). `false` when the kernel has
    /// no memory for them (nothing was added).
    pub fn push(&mut self, bytes: &[u8]) -> bool {
        if self.data.try_reserve(bytes.len()).is_err() {
            return false;
        }
        self.data.extend(bytes);
        true
    }

    /// The first `n` bytes waiting, as at most two slices.
    pub fn peek(&self, n: usize) -> (&[u8], &[u8]) {
        let (a, b) = self.data.as_slices();
        let a = &a[..n.min(a.len())];
        let b = &b[..(n - a.len()).min(b.len())];
        (a, b)
    }

    /// Drop the first `n` bytes (they were read).
    pub fn consume(&mut self, n: usize) {
        self.data.drain(..n.min(self.data.len()));
        if self.data.is_empty() && self.data.capacity() > PIPE_BUF {
            // Give a big buffer back to the heap between bursts; a small one
            // stays for the next write (no allocation per message).
            self.data = VecDeque::new();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_writes_wait_for_room_big_ones_fill_it() {
        let mut p = Pipe::new();
        assert!(p.push(&[1u8; PIPE_CAPACITY - 100]));
        assert_eq!(p.writable_now(100), 100);
        assert_eq!(p.writable_now(101), 0, "atomic: all or nothing");
        assert_eq!(p.writable_now(PIPE_BUF + 1), 100, "big: what fits");
        let (a, b) = p.peek(10);
        assert_eq!(a.len() + b.len(), 10);
        p.consume(PIPE_CAPACITY);
        assert!(p.is_empty());
        assert_eq!(p.room(), PIPE_CAPACITY);
    }
}
