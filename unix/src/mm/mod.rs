//! Process memory management on top of [`vm::AddressSpace`]: the program break
//! ([`brk`](mod@brk)), anonymous mappings ([`map`]: `mmap`, `munmap`, `mprotect`,
//! `madvise`), resource limits ([`limits`]: `RLIMIT_STACK` moves the guard below the
//! stack) and the address-space listing ([`maps`]: `/proc/self/maps`, SIGSEGV
//! reasons) — the layout `exec::layout` and `docs/abi.md` ("Process layout")
//! describe.
//!
//! The remap table is the truth; the per-process state this module keeps,
//! [`ProcessMemory`], is plain data (the heap's base and the current break, the
//! program image's span, the resource limits), so a process can be saved with it.
//! The stack's limit is not in it: the guard page below the stack encodes it, so the
//! fault path ([`grow_stack`]) needs no per-process state.
//!
//! Every function takes hostile 32-bit arguments: lengths near 0 and 4 GiB, unaligned
//! or wrapping addresses. All arithmetic is done in `u64` page numbers, every refusal
//! is an [`Errno`], nothing panics, and a refused call changes nothing.
//!
//! The kernel lends the address space through [`SpaceAccess`] (its implementation runs
//! the closure under the VM lock on the current address space).

pub mod brk;
pub mod limits;
pub mod map;
pub mod maps;
pub mod stack;

#[cfg(test)]
mod tests;

use crate::abi::rlimit::{RLIMIT_NOFILE, RLIMIT_NPROC, RLIMIT_STACK, RLIM_NLIMITS};

/// The user's process limit a new process has (`RLIMIT_NPROC` soft): the
/// process table's size less 16, so a fork bomb leaves room for the
/// commands that clean it up (`ps`, `kill`).
pub const NPROC_DEFAULT: u32 = crate::process::PROCESS_MAX as u32 - 16;
use crate::abi::Rlimit;
use crate::errno::Errno;
use crate::exec::layout::{MMAP_TOP, PAGE, STACK_LIMIT};
use crate::exec::ProcessStart;
use crate::file::FD_MAX;
use alloc::vec::Vec;
use vm::remap::{Kind, Range, RemapTable, Vpn};
use vm::UserSpace;

pub use brk::set_break;
pub use limits::{getrlimit, set_stack_limit, setrlimit};
pub use map::{madvise, mmap, mprotect, munmap, MmapRequest};
pub use maps::{describe_segv, maps_text};
pub use stack::{grow_stack, resolve_fault_or_grow_stack};

/// The answer when a syscall's caller has no address space: a kernel bug (every
/// process has one), logged and answered `EIO`.
pub fn no_address_space() -> Errno {
    log::error!("mm: a memory call from a process without an address space");
    Errno::EIO
}

/// Run code on the calling process's address space, with the persistent space and the
/// machine — what the memory syscalls and `/proc/self/maps` need beyond checked
/// copies. The kernel implements it with its `vmm::with_current`; host tests over
/// an emulated machine.
pub trait SpaceAccess {
    /// Run `f` on the address space, lent as a [`UserSpace`] (which never shows
    /// the machine: the Unix layer cannot reach physical memory); `None` if the
    /// caller has none.
    fn with_space<R>(&mut self, f: impl FnOnce(&mut UserSpace<'_>) -> R) -> Option<R>;

    /// [`SpaceAccess::with_space`] for a call that answers an errno: a caller
    /// without an address space gets [`no_address_space`]'s.
    fn with_user_space<R>(
        &mut self,
        f: impl FnOnce(&mut UserSpace<'_>) -> Result<R, Errno>,
    ) -> Result<R, Errno> {
        self.with_space(f)
            .unwrap_or_else(|| Err(no_address_space()))
    }
}

impl<T: SpaceAccess + ?Sized> SpaceAccess for &mut T {
    fn with_space<R>(&mut self, f: impl FnOnce(&mut UserSpace<'_>) -> R) -> Option<R> {
        (**self).with_space(f)
    }
}

impl SpaceAccess for UserSpace<'_> {
    fn with_space<R>(&mut self, f: impl FnOnce(&mut UserSpace<'_>) -> R) -> Option<R> {
        Some(f(self))
    }
}

/// Number of resource limits kept.
pub const LIMITS: usize = RLIM_NLIMITS as usize;

/// A process's memory state beyond its remap table: plain data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessMemory {
    /// The program's segments: page-aligned `[start, end)` spans, sorted (names in
    /// the maps listing; `MADV_DONTNEED` leaves their pages alone).
    pub image: Vec<(u32, u32)>,
    /// The heap's first address: the page-aligned end of the image. 0: no heap
    /// (`brk` only reports 0).
    pub brk_base: u32,
    /// The current break (byte granularity; the heap's pages end at its page
    /// boundary, the guard page sits there).
    pub brk: u32,
    /// Resource limits, indexed by `RLIMIT_*`. For `RLIMIT_STACK` only `max` is used:
    /// the soft limit is where the guard below the stack is.
    pub limits: [Rlimit; LIMITS],
}

impl Default for ProcessMemory {
    /// No image, no heap, default limits.
    fn default() -> Self {
        ProcessMemory {
            image: Vec::new(),
            brk_base: 0,
            brk: 0,
            limits: default_limits(),
        }
    }
}

/// The limits of a new process: no limit, except `RLIMIT_STACK` (8 MiB soft,
/// unlimited hard), `RLIMIT_NOFILE` (the fd table's 64) and `RLIMIT_NPROC`
/// ([`NPROC_DEFAULT`] soft, the process table's size hard).
pub fn default_limits() -> [Rlimit; LIMITS] {
    let mut l = [Rlimit::INFINITE; LIMITS];
    l[RLIMIT_NPROC as usize] = Rlimit {
        rlim_cur: NPROC_DEFAULT,
        rlim_max: crate::process::PROCESS_MAX as u32,
    };
    l[RLIMIT_STACK as usize].rlim_cur = STACK_LIMIT;
    l[RLIMIT_NOFILE as usize] = Rlimit {
        rlim_cur: FD_MAX as u32,
        rlim_max: FD_MAX as u32,
    };
    l
}

impl ProcessMemory {
    /// The state of a process `exec` just started: the heap empty at `start.brk`.
    pub fn new(start: &ProcessStart) -> ProcessMemory {
        ProcessMemory::with_heap(start.image.clone(), start.brk)
    }

    /// An image of the segment spans `image` and an empty heap at `brk_base`
    /// (page-aligned; the guard page at it must be mapped, as `exec` does).
    pub fn with_heap(image: Vec<(u32, u32)>, brk_base: u32) -> ProcessMemory {
        ProcessMemory {
            image,
            brk_base,
            brk: brk_base,
            ..ProcessMemory::default()
        }
    }

    /// Whether pages `[start, end)` lie inside one segment of the program image.
    pub fn in_image(&self, start: Vpn, end: Vpn) -> bool {
        self.image
            .iter()
            .any(|&(s, e)| start >= page_of(s) && end <= u64::from(e).div_ceil(PAGE))
    }

    /// The parts of pages `[start, end)` outside the program image, in order.
    pub fn outside_image(&self, start: Vpn, end: Vpn) -> Vec<(Vpn, Vpn)> {
        let mut out = Vec::new();
        let mut cursor = start;
        for &(s, e) in &self.image {
            let (s, e) = (page_of(s), u64::from(e).div_ceil(PAGE));
            if e <= cursor {
                continue;
            }
            if s >= end {
                break;
            }
            if s > cursor {
                out.push((cursor, s));
            }
            cursor = cursor.max(e);
        }
        if cursor < end {
            out.push((cursor, end));
        }
        out
    }

    /// The heap's pages: `[brk_base page, break's end page)`.
    pub fn heap_pages(&self) -> (Vpn, Vpn) {
        (
            u64::from(self.brk_base).div_ceil(PAGE),
            u64::from(self.brk).div_ceil(PAGE),
        )
    }
}

/// Page number of a 32-bit address.
pub(crate) fn page_of(addr: u32) -> Vpn {
    u64::from(addr) / PAGE
}

/// The first page of the stack reservation (= end of the mmap region).
pub(crate) fn mmap_top_page() -> Vpn {
    page_of(MMAP_TOP)
}

/// Number of pages `len` bytes cover (rounded up); never overflows in `u64`.
pub(crate) fn pages_of(len: u32) -> u64 {
    u64::from(len).div_ceil(PAGE)
}

/// Whether a guard range has pages in `[lo, hi)`. O(log ranges + ranges in the span).
pub(crate) fn guard_in(remap: &RemapTable, lo: Vpn, hi: Vpn) -> bool {
    remap
        .overlapping(lo, hi)
        .any(|r| r.mapping.kind == Kind::Guard)
}

/// The ranges covering `[lo, hi)` clipped to it, if every page is mapped; `ENOMEM`
/// when a page is not (as the memory calls answer) or the list does not fit in
/// the kernel's memory. O(k log ranges) for k ranges in the span.
pub(crate) fn covering(remap: &RemapTable, lo: Vpn, hi: Vpn) -> Result<Vec<Range>, Errno> {
    // At most one piece per range of the table: reserved fallibly, as thousands of
    // ranges make a large list.
    let mut out = Vec::new();
    out.try_reserve_exact(remap.overlapping(lo, hi).count())
        .map_err(|_| Errno::ENOMEM)?;
    let mut cursor = lo;
    while cursor < hi {
        let r = remap.range_containing(cursor).ok_or(Errno::ENOMEM)?;
        out.push(r.clip(cursor, hi).ok_or(Errno::ENOMEM)?);
        cursor = r.end();
    }
    Ok(out)
}

/// `ENOMEM` when an operation that may add `extra` ranges would pass
/// [`crate::exec::layout::MAX_MAP_COUNT`].
pub(crate) fn check_map_count(remap: &RemapTable, extra: usize) -> Result<(), Errno> {
    if remap.len().saturating_add(extra) > crate::exec::layout::MAX_MAP_COUNT {
        Err(Errno::ENOMEM)
    } else {
        Ok(())
    }
}
