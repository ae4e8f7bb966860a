//! The heap: `malloc`, `free`, `realloc`, `calloc`, `memalign`
//! over `sbrk`, and the global allocator of the `alloc` crate.
//!
//! [`heap`] is the allocator proper (segregated free lists, boundary tags,
//! coalescing, trimming; generic over its memory source and host-tested).
//! This module binds it to the process break:
//!
//! - [`brk`]/[`sbrk`] over syscall `brk` (256). The ABI does not fix `brk`'s
//!   semantics yet; the wrapper assumes Linux's — `brk(0)` returns the
//!   current break, `brk(addr)` returns the new break, or on failure either
//!   the old break (Linux) or `-1` with an errno — and handles both;
//! - [`malloc`], [`free`], [`realloc`], [`calloc`], [`memalign`],
//!   [`usable_size`] on one process-wide heap (single-threaded: a flag
//!   catches re-entry, e.g. from a future signal handler); failures return
//!   null and set `errno` to `ENOMEM`;
//! - on the i686 target: the C symbols `malloc`, `free`, `realloc`,
//!   `calloc`, `memalign`, and `#[global_allocator]` so programs can use
//!   `extern crate alloc` (`Vec`, `Box`, `String`).
//!
//! Do not move the break with [`sbrk`] while the heap is in use: the heap
//! then refuses to grow (`ENOMEM`) rather than overwrite foreign memory.

pub mod heap;

use crate::errno::{Errno, set_errno};
use crate::syscall::{split, stub};
use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::ptr;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
pub use heap::{ALIGN, Heap, HeapSource, HeapStats};

/// The break as last set (0: not asked yet).
static BREAK: AtomicUsize = AtomicUsize::new(0);

/// The raw `brk(addr)` syscall: the kernel's answer, as is.
pub fn brk_raw(addr: usize) -> Result<u32, Errno> {
    // SAFETY: brk takes no pointer it dereferences.
    split(unsafe { stub::__ulibc_sys_brk(addr) })
}

/// The current break.
pub fn current_break() -> Result<usize, Errno> {
    match BREAK.load(Ordering::Relaxed) {
        0 => {
            let b = brk_raw(0)? as usize;
            BREAK.store(b, Ordering::Relaxed);
            Ok(b)
        }
        b => Ok(b),
    }
}

/// `brk(addr)`: sets the break to `addr`. `ENOMEM` if the kernel refused.
pub fn brk(addr: usize) -> Result<(), Errno> {
    match brk_raw(addr) {
        Ok(b) if b as usize == addr => {
            BREAK.store(addr, Ordering::Relaxed);
            Ok(())
        }
        Ok(b) => {
            BREAK.store(b as usize, Ordering::Relaxed);
            set_errno(Errno::ENOMEM);
            Err(Errno::ENOMEM)
        }
        Err(e) => Err(e),
    }
}

/// `sbrk(incr)`: moves the break by `incr` bytes and returns the old one.
pub fn sbrk(incr: isize) -> Result<usize, Errno> {
    let old = current_break()?;
    if incr == 0 {
        return Ok(old);
    }
    let new = old.checked_add_signed(incr).ok_or(Errno::ENOMEM)?;
    brk(new)?;
    Ok(old)
}

/// The heap's memory source: the process break.
pub struct Brk;

impl HeapSource for Brk {
    fn sbrk(&mut self, incr: isize) -> Result<usize, Errno> {
        sbrk(incr)
    }
}

/// The process heap behind a re-entry flag.
struct Global {
    busy: AtomicBool,
    heap: UnsafeCell<Heap<Brk>>,
}

// SAFETY: access goes through `with`, which refuses concurrent entry.
unsafe impl Sync for Global {}

static GLOBAL: Global = Global {
    busy: AtomicBool::new(false),
    heap: UnsafeCell::new(Heap::new(Brk)),
};

fn with<T>(f: impl FnOnce(&mut Heap<Brk>) -> T) -> T {
    if GLOBAL.busy.swap(true, Ordering::Acquire) {
        crate::eprintln!("malloc: re-entered");
        crate::crt0::abort();
    }
    // SAFETY: the flag gives us the only reference.
    let r = f(unsafe { &mut *GLOBAL.heap.get() });
    GLOBAL.busy.store(false, Ordering::Release);
    r
}

fn or_null(r: Result<*mut u8, Errno>) -> *mut u8 {
    r.unwrap_or_else(|e| {
        set_errno(e);
        ptr::null_mut()
    })
}

/// `malloc(n)`: 16-byte aligned, or null with `errno` = `ENOMEM`.
pub fn malloc(n: usize) -> *mut u8 {
    or_null(with(|h| h.malloc(n)))
}

/// `free(p)`. Freeing a pointer not from `malloc`, or twice, aborts.
///
/// # Safety
/// `p` is null or came from this allocator and is not used afterwards.
pub unsafe fn free(p: *mut u8) {
    // SAFETY: per the contract.
    with(|h| unsafe { h.free(p) })
}

/// `realloc(p, n)`; on failure returns null and leaves `p` allocated.
///
/// # Safety
/// As for [`free`]; on success the old pointer must not be used.
pub unsafe fn realloc(p: *mut u8, n: usize) -> *mut u8 {
    // SAFETY: per the contract.
    or_null(with(|h| unsafe { h.realloc(p, n) }))
}

/// `calloc(count, size)`: zeroed; null on overflow.
pub fn calloc(count: usize, size: usize) -> *mut u8 {
    or_null(with(|h| h.calloc(count, size)))
}

/// `memalign(align, n)`, `align` a power of two.
pub fn memalign(align: usize, n: usize) -> *mut u8 {
    or_null(with(|h| h.memalign(align, n)))
}

/// Usable bytes at `p` (at least what was asked).
///
/// # Safety
/// `p` is null or an allocated pointer from this allocator.
pub unsafe fn usable_size(p: *mut u8) -> usize {
    // SAFETY: per the contract.
    with(|h| unsafe { h.usable_size(p) })
}

/// Walks the heap and checks its invariants (for tests and stress
/// programs).
pub fn check() -> Result<HeapStats, &'static str> {
    with(|h| h.check())
}

/// The allocator of the `alloc` crate, over the same heap.
pub struct Malloc;

// SAFETY: blocks come from the heap with at least the layout's size and
// alignment, and are freed there.
unsafe impl GlobalAlloc for Malloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= ALIGN {
            malloc(layout.size())
        } else {
            memalign(layout.align(), layout.size())
        }
    }

    unsafe fn dealloc(&self, p: *mut u8, _layout: Layout) {
        // SAFETY: `p` came from `alloc`.
        unsafe { free(p) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= ALIGN {
            calloc(1, layout.size())
        } else {
            let p = memalign(layout.align(), layout.size());
            if !p.is_null() {
                // SAFETY: `p` has `size` bytes.
                unsafe { ptr::write_bytes(p, 0, layout.size()) };
            }
            p
        }
    }

    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if layout.align() <= ALIGN {
            // SAFETY: `p` came from `alloc` with this layout.
            unsafe { realloc(p, new_size) }
        } else {
            let q = memalign(layout.align(), new_size);
            if !q.is_null() {
                // SAFETY: both blocks hold at least the smaller size.
                unsafe {
                    ptr::copy_nonoverlapping(p, q, layout.size().min(new_size));
                    free(p);
                }
            }
            q
        }
    }
}

#[cfg(all(target_arch = "x86", not(test)))]
#[global_allocator]
static ALLOCATOR: Malloc = Malloc;

/// The C entry points.
#[cfg(all(target_arch = "x86", not(test)))]
mod c_api {
    use core::ffi::c_void;

    #[unsafe(export_name = "malloc")]
    extern "C" fn c_malloc(n: usize) -> *mut c_void {
        super::malloc(n).cast()
    }

    #[unsafe(export_name = "free")]
    unsafe extern "C" fn c_free(p: *mut c_void) {
        // SAFETY: the C contract of free.
        unsafe { super::free(p.cast()) }
    }

    #[unsafe(export_name = "realloc")]
    unsafe extern "C" fn c_realloc(p: *mut c_void, n: usize) -> *mut c_void {
        // SAFETY: the C contract of realloc.
        unsafe { super::realloc(p.cast(), n).cast() }
    }

    #[unsafe(export_name = "calloc")]
    extern "C" fn c_calloc(count: usize, size: usize) -> *mut c_void {
        super::calloc(count, size).cast()
    }

    #[unsafe(export_name = "memalign")]
    extern "C" fn c_memalign(align: usize, n: usize) -> *mut c_void {
        super::memalign(align, n).cast()
    }
}
