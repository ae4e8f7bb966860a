//! The allocator core: boundary-tagged chunks in one contiguous heap grown
//! and shrunk at its end through a [`HeapSource`] (`sbrk`), segregated
//! free lists, immediate coalescing. Generic over the source so the host
//! tests drive it over a plain memory arena.
//!
//! Layout (W = the word size, 4 on i686):
//!
//! ```text
//! chunk c:  [prev_size: W][size | flags: W][payload …            ]
//!                         payload = c + 2W, 16-byte aligned
//! ```
//!
//! - sizes are multiples of 16, at least [`MIN_CHUNK`]; flag `CINUSE` says
//!   the chunk is allocated, `PINUSE` that the chunk before it is;
//! - a free chunk holds its free-list links (`fd`, `bk`) at the start of its
//!   payload and its size in the *next* chunk's `prev_size` (the footer),
//!   which is how `free` finds a free predecessor to merge with;
//! - the last chunk, `top`, spans to the break; it is never in a list, and
//!   it always has room for at least a header ([`MIN_CHUNK`] bytes);
//! - invariants: no two free chunks are adjacent, and no free chunk touches
//!   `top` (frees coalesce at once); every free chunk is in the list of its
//!   size class. [`Heap::check`] verifies all of it.
//!
//! Size classes: sizes below 1024 each have an exact list (step 16); larger
//! ones have four lists per power of two, searched best-fit. A bitmap of
//! non-empty lists finds the next larger class at once. Requests are served
//! from a list, else carved from `top`, which grows by `sbrk` in steps of at
//! least [`TOP_PAD`] and is given back (`sbrk` with a negative increment)
//! when more than [`TRIM_THRESHOLD`] is free at the end.

use crate::errno::Errno;
use core::mem::size_of;
use core::ptr;

/// Where heap memory comes from: `sbrk`.
pub trait HeapSource {
    /// Moves the break by `incr` bytes; returns the old break. Fails (e.g.
    /// `ENOMEM`) without moving it.
    fn sbrk(&mut self, incr: isize) -> Result<usize, Errno>;
}

const W: usize = size_of::<usize>();
/// Alignment of every pointer `malloc` returns.
pub const ALIGN: usize = 16;
const HDR: usize = 2 * W;
/// The smallest chunk: a header and the two free-list links, rounded to 16.
pub const MIN_CHUNK: usize = (4 * W).next_multiple_of(ALIGN);
const CINUSE: usize = 1;
const PINUSE: usize = 2;
const FLAGS: usize = ALIGN - 1;
const SMALL_LIMIT: usize = 1024;
const NSMALL: usize = SMALL_LIMIT / ALIGN;
const NBINS: usize = NSMALL + 4 * (usize::BITS as usize - 10);
const PAGE: usize = 4096;
/// Minimum growth of the heap per `sbrk`.
pub const TOP_PAD: usize = 128 * 1024;
/// Free memory at the end of the heap above this is given back.
pub const TRIM_THRESHOLD: usize = 256 * 1024;
/// What stays in `top` after a trim.
const TOP_KEEP: usize = 64 * 1024;
/// Largest request: sizes stay far from overflow.
const MAX_REQUEST: usize = isize::MAX as usize / 2;

/// Sums from [`Heap::check`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HeapStats {
    /// Allocated chunks.
    pub used_chunks: usize,
    /// Bytes in allocated chunks (headers included).
    pub used_bytes: usize,
    /// Free chunks in the lists.
    pub free_chunks: usize,
    /// Bytes in free chunks.
    pub free_bytes: usize,
    /// Bytes in `top`.
    pub top_bytes: usize,
    /// Heap size: from the first chunk to the break.
    pub heap_bytes: usize,
}

/// The allocator over one heap.
pub struct Heap<S: HeapSource> {
    source: S,
    /// First chunk (0: not initialised).
    base: usize,
    /// The top chunk.
    top: usize,
    /// The break: the end of `top`.
    brk: usize,
    bins: [usize; NBINS],
    bitmap: [u32; NBINS.div_ceil(32)],
}

fn bin_index(size: usize) -> usize {
    if size < SMALL_LIMIT {
        size / ALIGN
    } else {
        let lg = (usize::BITS - 1 - size.leading_zeros()) as usize;
        (NSMALL + (lg - 10) * 4 + ((size >> (lg - 2)) & 3)).min(NBINS - 1)
    }
}

fn request_size(n: usize) -> Option<usize> {
    if n > MAX_REQUEST {
        return None;
    }
    Some((n + HDR).next_multiple_of(ALIGN).max(MIN_CHUNK))
}

// Word access. Every address passed is inside the heap, word aligned, as
// the invariants above guarantee.
unsafe fn get(addr: usize) -> usize {
    // SAFETY: per the caller.
    unsafe { ptr::read(addr as *const usize) }
}
unsafe fn set(addr: usize, v: usize) {
    // SAFETY: per the caller.
    unsafe { ptr::write(addr as *mut usize, v) }
}

impl<S: HeapSource> Heap<S> {
    /// An empty heap over `source` (nothing is asked of it until the first
    /// allocation).
    pub const fn new(source: S) -> Self {
        Self {
            source,
            base: 0,
            top: 0,
            brk: 0,
            bins: [0; NBINS],
            bitmap: [0; NBINS.div_ceil(32)],
        }
    }

    /// The source.
    pub fn source(&mut self) -> &mut S {
        &mut self.source
    }

    // --- chunk fields -----------------------------------------------------

    unsafe fn head(&self, c: usize) -> usize {
        // SAFETY: `c` is a chunk.
        unsafe { get(c + W) }
    }
    unsafe fn set_head(&mut self, c: usize, v: usize) {
        // SAFETY: `c` is a chunk.
        unsafe { set(c + W, v) }
    }
    unsafe fn size(&self, c: usize) -> usize {
        // SAFETY: `c` is a chunk.
        unsafe { self.head(c) & !FLAGS }
    }
    /// Writes the footer of free chunk `c` (the next chunk's `prev_size`).
    unsafe fn set_foot(&mut self, c: usize, size: usize) {
        // SAFETY: `c` is a free chunk, never top: `c + size` is a chunk.
        unsafe { set(c + size, size) }
    }
    unsafe fn set_pinuse(&mut self, c: usize, on: bool) {
        // SAFETY: `c` is a chunk (or top).
        unsafe {
            let h = self.head(c);
            self.set_head(c, if on { h | PINUSE } else { h & !PINUSE });
        }
    }

    // --- free lists ---------------------------------------------------------

    unsafe fn insert(&mut self, c: usize) {
        // SAFETY: `c` is a free chunk with its size set.
        let i = bin_index(unsafe { self.size(c) });
        let head = self.bins[i];
        // SAFETY: the payload of a free chunk holds its links; `head` is a
        // free chunk too.
        unsafe {
            set(c + HDR, head); // fd
            set(c + HDR + W, 0); // bk
            if head != 0 {
                set(head + HDR + W, c);
            }
        }
        self.bins[i] = c;
        self.bitmap[i / 32] |= 1 << (i % 32);
    }

    unsafe fn unlink(&mut self, c: usize) {
        // SAFETY: `c` is a free chunk in its list.
        unsafe {
            let i = bin_index(self.size(c));
            let fd = get(c + HDR);
            let bk = get(c + HDR + W);
            if bk == 0 {
                self.bins[i] = fd;
            } else {
                set(bk + HDR, fd);
            }
            if fd != 0 {
                set(fd + HDR + W, bk);
            }
            if self.bins[i] == 0 {
                self.bitmap[i / 32] &= !(1 << (i % 32));
            }
        }
    }

    /// A free chunk of at least `size` bytes, still in its list.
    fn find_fit(&self, size: usize) -> Option<usize> {
        let i = bin_index(size);
        if i >= NSMALL {
            // Best fit within this class.
            let mut best = 0;
            let mut best_size = usize::MAX;
            let mut c = self.bins[i];
            while c != 0 {
                // SAFETY: list members are free chunks.
                let s = unsafe { self.size(c) };
                if s >= size && s < best_size {
                    best = c;
                    best_size = s;
                    if s == size {
                        break;
                    }
                }
                // SAFETY: as above.
                c = unsafe { get(c + HDR) };
            }
            if best != 0 {
                return Some(best);
            }
        } else if self.bins[i] != 0 {
            return Some(self.bins[i]);
        }
        // Any chunk of a larger class fits.
        let mut j = i + 1;
        while j < NBINS {
            let word = self.bitmap[j / 32] >> (j % 32);
            if word == 0 {
                j = (j / 32 + 1) * 32;
                continue;
            }
            j += word.trailing_zeros() as usize;
            return Some(self.bins[j]);
        }
        None
    }

    // --- growth -------------------------------------------------------------

    fn init(&mut self) -> Result<(), Errno> {
        let old = self.source.sbrk(0)?;
        // The first payload must be 16-aligned.
        let c = (old + HDR).next_multiple_of(ALIGN) - HDR;
        // Every later step is a multiple of the page size, so the break
        // stays congruent to `c` modulo 16: top's size is a chunk size.
        let size = (c - old) + TOP_PAD;
        let at = self.source.sbrk(size as isize)?;
        if at != old {
            return Err(Errno::ENOMEM);
        }
        self.base = c;
        self.top = c;
        self.brk = old + size;
        // SAFETY: the new memory is ours; top spans to the break.
        unsafe { self.set_head(c, (self.brk - c) | PINUSE) };
        Ok(())
    }

    /// Grows `top` to at least `need` bytes (keeping `MIN_CHUNK` spare).
    fn grow_top(&mut self, need: usize) -> Result<(), Errno> {
        let have = self.brk - self.top;
        if have >= need + MIN_CHUNK {
            return Ok(());
        }
        let short = need + MIN_CHUNK - have;
        let mut incr = (short + TOP_PAD).next_multiple_of(PAGE);
        let old = match self.source.sbrk(incr as isize) {
            Ok(old) => old,
            Err(_) => {
                incr = short.next_multiple_of(PAGE);
                self.source.sbrk(incr as isize)?
            }
        };
        if old != self.brk {
            // Someone else moved the break: give it back, refuse.
            let _ = self.source.sbrk(-(incr as isize));
            return Err(Errno::ENOMEM);
        }
        self.brk += incr;
        // SAFETY: top spans to the new break.
        unsafe {
            let flags = self.head(self.top) & PINUSE;
            self.set_head(self.top, (self.brk - self.top) | flags);
        }
        Ok(())
    }

    /// Gives memory at the end back when `top` holds more than the
    /// threshold.
    fn trim(&mut self) {
        let have = self.brk - self.top;
        if have <= TRIM_THRESHOLD {
            return;
        }
        let release = (have - TOP_KEEP) / PAGE * PAGE;
        if release == 0 || self.source.sbrk(-(release as isize)).is_err() {
            return;
        }
        self.brk -= release;
        // SAFETY: top spans to the new break, at least TOP_KEEP bytes.
        unsafe {
            let flags = self.head(self.top) & PINUSE;
            self.set_head(self.top, (self.brk - self.top) | flags);
        }
    }

    // --- the allocator ------------------------------------------------------

    /// Marks free chunk `c` (already unlinked) allocated with `size` bytes,
    /// splitting off the rest as a free chunk when it is big enough.
    unsafe fn take(&mut self, c: usize, size: usize) {
        // SAFETY: `c` is a free, unlinked chunk of at least `size` bytes.
        unsafe {
            let csize = self.size(c);
            let pin = self.head(c) & PINUSE;
            if csize - size >= MIN_CHUNK {
                self.set_head(c, size | CINUSE | pin);
                let r = c + size;
                self.set_head(r, (csize - size) | PINUSE);
                self.set_foot(r, csize - size);
                self.insert(r);
            } else {
                self.set_head(c, csize | CINUSE | pin);
                self.set_pinuse(c + csize, true);
            }
        }
    }

    /// `malloc(n)`: a 16-aligned block of at least `n` bytes, or null
    /// (`ENOMEM`).
    pub fn malloc(&mut self, n: usize) -> Result<*mut u8, Errno> {
        let size = request_size(n).ok_or(Errno::ENOMEM)?;
        if self.base == 0 {
            self.init()?;
        }
        if let Some(c) = self.find_fit(size) {
            // SAFETY: `c` is a free chunk in its list, at least `size`.
            unsafe {
                self.unlink(c);
                self.take(c, size);
            }
            return Ok((c + HDR) as *mut u8);
        }
        self.grow_top(size)?;
        let c = self.top;
        // SAFETY: top has at least size + MIN_CHUNK bytes.
        unsafe {
            let pin = self.head(c) & PINUSE;
            self.set_head(c, size | CINUSE | pin);
            self.top = c + size;
            self.set_head(self.top, (self.brk - self.top) | PINUSE);
        }
        Ok((c + HDR) as *mut u8)
    }

    /// The chunk of a pointer `malloc` returned, checked to be allocated.
    fn chunk_of(&self, p: *mut u8) -> usize {
        let c = p as usize - HDR;
        let ok = self.base != 0
            && c >= self.base
            && c < self.top
            && (c + HDR).is_multiple_of(ALIGN)
            // SAFETY: `c` is inside the heap (checked above).
            && unsafe { self.head(c) } & CINUSE != 0;
        if !ok {
            heap_corrupt("free/realloc of a pointer that is not allocated");
        }
        c
    }

    /// `free(p)`; null is ignored. A pointer that is not allocated (double
    /// free, foreign pointer) aborts when the header shows it.
    ///
    /// # Safety
    /// `p` is null or came from this heap and is not used afterwards.
    pub unsafe fn free(&mut self, p: *mut u8) {
        if p.is_null() {
            return;
        }
        let c = self.chunk_of(p);
        // SAFETY: `c` is an allocated chunk.
        unsafe { self.release(c) };
    }

    /// Frees allocated chunk `c`, coalescing with free neighbours and top.
    unsafe fn release(&mut self, mut c: usize) {
        // SAFETY: `c` is an allocated chunk; neighbours are found through
        // the invariants.
        unsafe {
            let mut size = self.size(c);
            let next = c + size;
            if self.head(c) & PINUSE == 0 {
                let prev_size = get(c);
                c -= prev_size;
                self.unlink(c);
                size += prev_size;
            }
            let pin = self.head(c) & PINUSE;
            if next == self.top {
                self.top = c;
                self.set_head(c, (self.brk - c) | pin);
                self.trim();
                return;
            }
            if self.head(next) & CINUSE == 0 {
                self.unlink(next);
                size += self.size(next);
            }
            self.set_head(c, size | pin);
            self.set_foot(c, size);
            self.set_pinuse(c + size, false);
            self.insert(c);
        }
    }

    /// Cuts allocated chunk `c` down to `size` bytes, freeing the rest.
    unsafe fn shrink(&mut self, c: usize, size: usize) {
        // SAFETY: `c` is an allocated chunk of at least `size` bytes.
        unsafe {
            let csize = self.size(c);
            if csize - size < MIN_CHUNK {
                return;
            }
            let pin = self.head(c) & PINUSE;
            self.set_head(c, size | CINUSE | pin);
            let r = c + size;
            self.set_head(r, (csize - size) | CINUSE | PINUSE);
            self.release(r);
        }
    }

    /// `realloc(p, n)`: grows or shrinks in place when it can (into a free
    /// neighbour or `top`), else moves. `realloc(null, n)` = `malloc(n)`;
    /// `realloc(p, 0)` frees and returns null. On failure `p` is untouched.
    ///
    /// # Safety
    /// As for [`Heap::free`]; after a success only the result is used.
    pub unsafe fn realloc(&mut self, p: *mut u8, n: usize) -> Result<*mut u8, Errno> {
        if p.is_null() {
            return self.malloc(n);
        }
        if n == 0 {
            // SAFETY: per the contract.
            unsafe { self.free(p) };
            return Ok(ptr::null_mut());
        }
        let size = request_size(n).ok_or(Errno::ENOMEM)?;
        let c = self.chunk_of(p);
        // SAFETY: `c` is allocated; the neighbours follow the invariants.
        unsafe {
            let csize = self.size(c);
            if size <= csize {
                self.shrink(c, size);
                return Ok(p);
            }
            let next = c + csize;
            if next == self.top {
                if self.grow_top(size - csize).is_ok() {
                    let pin = self.head(c) & PINUSE;
                    self.set_head(c, size | CINUSE | pin);
                    self.top = c + size;
                    self.set_head(self.top, (self.brk - self.top) | PINUSE);
                    return Ok(p);
                }
            } else if self.head(next) & CINUSE == 0 && csize + self.size(next) >= size {
                let total = csize + self.size(next);
                self.unlink(next);
                let pin = self.head(c) & PINUSE;
                self.set_head(c, total | CINUSE | pin);
                self.set_pinuse(c + total, true);
                self.shrink(c, size);
                return Ok(p);
            }
            let q = self.malloc(n)?;
            ptr::copy_nonoverlapping(p, q, csize - HDR);
            self.free(p);
            Ok(q)
        }
    }

    /// `calloc(count, size)`: zeroed; `ENOMEM` on overflow.
    pub fn calloc(&mut self, count: usize, size: usize) -> Result<*mut u8, Errno> {
        let n = count.checked_mul(size).ok_or(Errno::ENOMEM)?;
        let p = self.malloc(n)?;
        // SAFETY: `p` has at least `n` bytes.
        unsafe { ptr::write_bytes(p, 0, n) };
        Ok(p)
    }

    /// `memalign(align, n)`: `align` a power of two.
    pub fn memalign(&mut self, align: usize, n: usize) -> Result<*mut u8, Errno> {
        if !align.is_power_of_two() {
            return Err(Errno::EINVAL);
        }
        if align <= ALIGN {
            return self.malloc(n);
        }
        let size = request_size(n).ok_or(Errno::ENOMEM)?;
        let extra = align.checked_add(MIN_CHUNK).ok_or(Errno::ENOMEM)?;
        let p = self.malloc(size.checked_add(extra).ok_or(Errno::ENOMEM)?)? as usize;
        let mut c = p - HDR;
        if !p.is_multiple_of(align) {
            // Free a leading chunk of at least MIN_CHUNK bytes.
            let ap = (p + MIN_CHUNK).next_multiple_of(align);
            let ac = ap - HDR;
            let lead = ac - c;
            // SAFETY: `c` is allocated with room for the lead, `ac` and
            // `size` bytes after it.
            unsafe {
                let csize = self.size(c);
                let pin = self.head(c) & PINUSE;
                self.set_head(c, lead | CINUSE | pin);
                self.set_head(ac, (csize - lead) | CINUSE | PINUSE);
                self.release(c);
            }
            c = ac;
        }
        // SAFETY: `c` is allocated with at least `size` bytes.
        unsafe { self.shrink(c, size) };
        Ok((c + HDR) as *mut u8)
    }

    /// Bytes usable at `p` (at least what was asked).
    ///
    /// # Safety
    /// `p` is null or allocated from this heap.
    pub unsafe fn usable_size(&self, p: *mut u8) -> usize {
        if p.is_null() {
            return 0;
        }
        let c = self.chunk_of(p);
        // SAFETY: `c` is allocated.
        unsafe { self.size(c) - HDR }
    }

    /// The current break as the heap knows it (0 before the first use).
    pub fn brk(&self) -> usize {
        self.brk
    }

    /// Walks the whole heap and the lists and checks every invariant.
    pub fn check(&self) -> Result<HeapStats, &'static str> {
        let mut st = HeapStats::default();
        if self.base == 0 {
            return Ok(st);
        }
        st.heap_bytes = self.brk - self.base;
        let mut c = self.base;
        let mut prev_in_use = true;
        let mut prev_size = 0;
        // SAFETY: the walk follows sizes from `base` and stops at `top`;
        // each size is checked to stay inside the heap before it is used.
        unsafe {
            while c < self.top {
                let h = self.head(c);
                let s = h & !FLAGS;
                if s < MIN_CHUNK || !s.is_multiple_of(ALIGN) || c + s > self.top {
                    return Err("chunk size out of range");
                }
                if (h & PINUSE != 0) != prev_in_use {
                    return Err("PINUSE does not match the previous chunk");
                }
                if !prev_in_use && get(c) != prev_size {
                    return Err("footer does not match the free chunk's size");
                }
                if h & CINUSE != 0 {
                    st.used_chunks += 1;
                    st.used_bytes += s;
                } else {
                    if !prev_in_use {
                        return Err("two adjacent free chunks");
                    }
                    st.free_chunks += 1;
                    st.free_bytes += s;
                }
                prev_in_use = h & CINUSE != 0;
                prev_size = s;
                c += s;
            }
            if c != self.top {
                return Err("the chunk walk misses top");
            }
            if !prev_in_use {
                return Err("a free chunk touches top");
            }
            let th = self.head(self.top);
            if th & PINUSE == 0 || th & CINUSE != 0 || th & !FLAGS != self.brk - self.top {
                return Err("bad top header");
            }
            if self.brk - self.top < MIN_CHUNK {
                return Err("top smaller than MIN_CHUNK");
            }
            st.top_bytes = self.brk - self.top;
            // Every list member is a free chunk of its class.
            let mut listed = 0;
            for (i, &head) in self.bins.iter().enumerate() {
                let bit = self.bitmap[i / 32] & (1 << (i % 32)) != 0;
                if bit != (head != 0) {
                    return Err("bitmap does not match the lists");
                }
                let mut n = head;
                let mut back = 0;
                while n != 0 {
                    if n < self.base || n >= self.top || self.head(n) & CINUSE != 0 {
                        return Err("a list holds a chunk that is not free");
                    }
                    if bin_index(self.size(n)) != i {
                        return Err("a chunk is in the wrong list");
                    }
                    if get(n + HDR + W) != back {
                        return Err("broken back link");
                    }
                    listed += 1;
                    if listed > st.free_chunks {
                        return Err("lists hold more chunks than the heap (a cycle?)");
                    }
                    back = n;
                    n = get(n + HDR);
                }
            }
            if listed != st.free_chunks {
                return Err("a free chunk is missing from the lists");
            }
        }
        Ok(st)
    }
}

/// Heap corruption or misuse: report and abort.
#[cold]
fn heap_corrupt(what: &str) -> ! {
    #[cfg(not(test))]
    {
        crate::eprintln!("malloc: {what}");
        crate::crt0::abort()
    }
    #[cfg(test)]
    panic!("malloc: {what}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The unsafe entry points, for tests that only pass live pointers.
    impl<S: HeapSource> Heap<S> {
        fn tfree(&mut self, p: *mut u8) {
            // SAFETY: tests pass pointers from this heap, once.
            unsafe { self.free(p) }
        }
        fn trealloc(&mut self, p: *mut u8, n: usize) -> Result<*mut u8, Errno> {
            // SAFETY: as above.
            unsafe { self.realloc(p, n) }
        }
        fn tusable(&self, p: *mut u8) -> usize {
            // SAFETY: as above.
            unsafe { self.usable_size(p) }
        }
    }

    /// A fake `sbrk` over a fixed arena.
    struct Arena {
        mem: Vec<u8>,
        brk: usize,
        calls: usize,
    }

    impl Arena {
        fn new(size: usize) -> Self {
            let mut mem = vec![0u8; size];
            // Start the break at an odd offset, as a real `_end` might be.
            let brk = mem.as_mut_ptr() as usize + 8;
            Self { mem, brk, calls: 0 }
        }
        fn start(&self) -> usize {
            self.mem.as_ptr() as usize + 8
        }
    }

    impl HeapSource for Arena {
        fn sbrk(&mut self, incr: isize) -> Result<usize, Errno> {
            self.calls += 1;
            let old = self.brk;
            let new = old.checked_add_signed(incr).ok_or(Errno::ENOMEM)?;
            if new < self.start() || new > self.mem.as_ptr() as usize + self.mem.len() {
                return Err(Errno::ENOMEM);
            }
            self.brk = new;
            Ok(old)
        }
    }

    /// xorshift64*: deterministic pseudo-random numbers.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    fn fill(p: *mut u8, n: usize, seed: u8) {
        for i in 0..n {
            // SAFETY: `p` has `n` bytes.
            unsafe { *p.add(i) = seed.wrapping_add(i as u8) };
        }
    }

    fn verify(p: *mut u8, n: usize, seed: u8) -> bool {
        // SAFETY: `p` has `n` bytes.
        (0..n).all(|i| unsafe { *p.add(i) } == seed.wrapping_add(i as u8))
    }

    #[test]
    fn bins_partition_sizes() {
        assert_eq!(bin_index(MIN_CHUNK), MIN_CHUNK / 16);
        assert_eq!(bin_index(1008), 63);
        assert_eq!(bin_index(1024), NSMALL);
        assert_eq!(bin_index(1279), NSMALL);
        assert_eq!(bin_index(1280), NSMALL + 1);
        assert_eq!(bin_index(2048), NSMALL + 4);
        assert!(bin_index(usize::MAX) < NBINS);
        let mut last = 0;
        for s in (MIN_CHUNK..1 << 22).step_by(16) {
            let i = bin_index(s);
            assert!(i >= last, "classes grow with size");
            last = i;
        }
    }

    #[test]
    fn basic_alloc_free_and_alignment() {
        let mut h = Heap::new(Arena::new(8 << 20));
        let a = h.malloc(1).unwrap();
        let b = h.malloc(100).unwrap();
        let c = h.malloc(5000).unwrap();
        for p in [a, b, c] {
            assert_eq!(p as usize % ALIGN, 0);
        }
        assert!(h.tusable(b) >= 100);
        fill(b, 100, 3);
        h.tfree(a);
        h.check().unwrap();
        let a2 = h.malloc(1).unwrap();
        assert_eq!(a2, a, "an exact-fit free chunk is reused");
        h.tfree(c);
        h.tfree(b);
        h.tfree(a2);
        let st = h.check().unwrap();
        assert_eq!(
            (st.used_chunks, st.free_chunks),
            (0, 0),
            "all merged into top"
        );
        assert_eq!(h.malloc(0).map(|p| p as usize % ALIGN), Ok(0));
    }

    #[test]
    fn coalescing_both_sides() {
        let mut h = Heap::new(Arena::new(8 << 20));
        let p: Vec<_> = (0..5).map(|_| h.malloc(64).unwrap()).collect();
        h.tfree(p[1]);
        h.tfree(p[3]);
        assert_eq!(h.check().unwrap().free_chunks, 2);
        h.tfree(p[2]); // merges with both neighbours
        let st = h.check().unwrap();
        assert_eq!(st.free_chunks, 1);
        let big = h.malloc(3 * 64).unwrap();
        assert_eq!(big, p[1], "the merged chunk serves a 3x request");
        h.check().unwrap();
    }

    #[test]
    fn realloc_in_place_and_moving() {
        let mut h = Heap::new(Arena::new(16 << 20));
        let a = h.malloc(100).unwrap();
        fill(a, 100, 9);
        // Next to top: grows in place.
        let a2 = h.trealloc(a, 10_000).unwrap();
        assert_eq!(a2, a);
        assert!(verify(a2, 100, 9));
        let b = h.malloc(100).unwrap();
        // Blocked by b: moves.
        let a3 = h.trealloc(a2, 20_000).unwrap();
        assert_ne!(a3, a2);
        assert!(verify(a3, 100, 9));
        h.check().unwrap();
        // Shrink in place.
        let a4 = h.trealloc(a3, 50).unwrap();
        assert_eq!(a4, a3);
        assert!(verify(a4, 50, 9));
        // Grow into the freed neighbour.
        let c = h.malloc(64).unwrap();
        let d = h.malloc(64).unwrap();
        h.tfree(d);
        fill(c, 64, 1);
        let c2 = h.trealloc(c, 100).unwrap();
        assert_eq!(c2, c);
        assert!(verify(c2, 64, 1));
        h.tfree(b);
        assert_eq!(h.trealloc(c2, 0), Ok(ptr::null_mut()));
        h.check().unwrap();
    }

    #[test]
    fn memalign_and_calloc() {
        let mut h = Heap::new(Arena::new(16 << 20));
        for align in [32, 64, 4096, 65536] {
            let _pad = h.malloc(24).unwrap();
            let p = h.memalign(align, 300).unwrap();
            assert_eq!(p as usize % align, 0);
            fill(p, 300, 7);
            h.check().unwrap();
        }
        assert_eq!(h.memalign(48, 10), Err(Errno::EINVAL));
        let z = h.malloc(256).unwrap();
        fill(z, 256, 0xAA);
        h.tfree(z);
        let z = h.calloc(16, 16).unwrap();
        // SAFETY: `z` has 256 bytes.
        assert!((0..256).all(|i| unsafe { *z.add(i) } == 0));
        assert_eq!(h.calloc(usize::MAX, 2), Err(Errno::ENOMEM));
        h.check().unwrap();
    }

    #[test]
    fn out_of_memory_is_an_error_and_the_heap_survives() {
        let mut h = Heap::new(Arena::new(1 << 20));
        assert_eq!(h.malloc(2 << 20), Err(Errno::ENOMEM));
        assert_eq!(h.malloc(usize::MAX), Err(Errno::ENOMEM));
        let p = h.malloc(1000).unwrap();
        fill(p, 1000, 5);
        let mut many = Vec::new();
        while let Ok(q) = h.malloc(10_000) {
            many.push(q);
        }
        assert!(many.len() > 50);
        assert!(verify(p, 1000, 5));
        h.check().unwrap();
        for q in many {
            h.tfree(q);
        }
        h.check().unwrap();
    }

    #[test]
    fn trim_gives_memory_back() {
        let mut h = Heap::new(Arena::new(64 << 20));
        let small = h.malloc(10).unwrap();
        let brk0 = h.brk();
        let big = h.malloc(8 << 20).unwrap();
        assert!(h.brk() >= brk0 + (8 << 20));
        h.tfree(big);
        assert!(
            h.brk() <= brk0 + TOP_KEEP + PAGE,
            "freed top memory returned"
        );
        h.check().unwrap();
        h.tfree(small);
        let st = h.check().unwrap();
        assert_eq!(st.used_chunks, 0);
        let brk = h.brk();
        assert_eq!(h.source().brk, brk);
    }

    #[test]
    #[should_panic(expected = "not allocated")]
    fn double_free_aborts() {
        let mut h = Heap::new(Arena::new(1 << 20));
        let p = h.malloc(10).unwrap();
        let _q = h.malloc(10).unwrap();
        h.tfree(p);
        h.tfree(p);
    }

    /// Random malloc/free/realloc/memalign against a list of live blocks,
    /// with contents checked and the invariants walked as it goes.
    #[test]
    fn random_operations_keep_contents_and_invariants() {
        for seed in 1..=4u64 {
            let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let mut h = Heap::new(Arena::new(64 << 20));
            let mut live: Vec<(*mut u8, usize, u8)> = Vec::new();
            for step in 0..3000 {
                let op = rng.below(10);
                if op < 4 || live.is_empty() {
                    let n = match rng.below(4) {
                        0 => rng.below(32),
                        1 => rng.below(1024),
                        2 => rng.below(16 << 10),
                        _ => rng.below(128 << 10),
                    } as usize;
                    let p = if rng.below(8) == 0 {
                        h.memalign(1 << (5 + rng.below(8)), n).unwrap()
                    } else {
                        h.malloc(n).unwrap()
                    };
                    let tag = rng.next() as u8;
                    fill(p, n, tag);
                    live.push((p, n, tag));
                } else if op < 8 {
                    let i = rng.below(live.len() as u64) as usize;
                    let (p, n, tag) = live.swap_remove(i);
                    assert!(verify(p, n, tag), "seed {seed} step {step}: contents");
                    h.tfree(p);
                } else {
                    let i = rng.below(live.len() as u64) as usize;
                    let (p, n, tag) = live[i];
                    let m = rng.below(64 << 10) as usize;
                    let q = h.trealloc(p, m).unwrap();
                    if m == 0 {
                        live.swap_remove(i);
                        continue;
                    }
                    assert!(
                        verify(q, n.min(m), tag),
                        "seed {seed} step {step}: realloc kept"
                    );
                    fill(q, m, tag);
                    live[i] = (q, m, tag);
                }
                if step % 64 == 0 {
                    let st = h
                        .check()
                        .unwrap_or_else(|e| panic!("seed {seed} step {step}: {e}"));
                    assert_eq!(st.used_chunks, live.len());
                }
            }
            for (p, n, tag) in live.drain(..) {
                assert!(verify(p, n, tag));
                h.tfree(p);
            }
            let st = h.check().unwrap();
            assert_eq!((st.used_chunks, st.free_chunks), (0, 0));
            assert!(st.top_bytes <= TRIM_THRESHOLD, "trimmed at the end");
        }
    }
}
