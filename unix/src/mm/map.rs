//! Anonymous mappings: `mmap`, `munmap`, `mprotect`, `madvise` (the rules are in
//! `docs/abi.md`, "Memory").
//!
//! - `mmap` maps private anonymous memory only. Without `MAP_FIXED` it uses the hint
//!   when the span there is free and inside `[MMAP_MIN, MMAP_TOP)`, else the highest
//!   free span below `MMAP_TOP` (top-down, so the heap below keeps its room). Every
//!   mapping is a range of its own persistent window; pages are Zero until touched.
//! - The stack reservation `[MMAP_TOP, 4 GiB)` and guard pages belong to the kernel:
//!   `MAP_FIXED`, `munmap` and `mprotect` refuse spans that reach them (so the guard
//!   above the break and the stack's guards cannot be removed from user space).
//!   Anything else — the program's own segments and heap included — may be replaced,
//!   unmapped or re-protected, as on Linux.
//! - `madvise(MADV_DONTNEED)` releases the pages of private ranges outside the program
//!   image: their frames go back and they read as zero on the next touch.

use super::{check_map_count, covering, guard_in, mmap_top_page, page_of, pages_of, ProcessMemory};
use crate::abi::{madv, map as mf, prot};
use crate::errno::Errno;
use crate::exec::layout::{MMAP_MIN, PAGE};
use vm::remap::{Kind, Perms, RemapTable, Vpn};
use vm::Growth;
use vm::UserSpace;

/// How many ranges changing pages `[start, end)` can add: a range that
/// straddles an edge is split there, and a range containing the whole span is
/// split in two (`middle` adds the span itself as a range of its own, as
/// `mprotect` and `MAP_FIXED` do; `munmap` removes it). Whole ranges never
/// add anything, so a process at the range limit can always unmap or
/// re-protect whole mappings.
fn ranges_added(remap: &RemapTable, start: Vpn, end: Vpn, middle: bool) -> usize {
    let straddles = |vpn: Vpn| remap.range_containing(vpn).filter(|r| r.start < vpn);
    match (straddles(start), straddles(end)) {
        (Some(a), Some(b)) if a.start == b.start => 1 + usize::from(middle),
        (left, right) => {
            usize::from(middle) * (usize::from(left.is_some()) + usize::from(right.is_some()))
        }
    }
}

/// The arguments of `mmap(addr, len, prot, flags, fd, offset)`, as the user passed
/// them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MmapRequest {
    /// Hint, or the exact address with `MAP_FIXED`.
    pub addr: u32,
    /// Length in bytes (rounded up to pages).
    pub len: u32,
    /// `PROT_*` bits.
    pub prot: u32,
    /// `MAP_*` flags.
    pub flags: u32,
    /// File descriptor (ignored with `MAP_ANONYMOUS`; pass −1).
    pub fd: u32,
    /// File offset (must be page-aligned; ignored with `MAP_ANONYMOUS`).
    pub offset: u32,
}

/// The access rights of `PROT_*` bits; `EINVAL` for unknown bits.
pub fn perms_of(p: u32) -> Result<Perms, Errno> {
    if p & !prot::PROT_MASK != 0 {
        return Err(Errno::EINVAL);
    }
    let mut perms = Perms::empty();
    if p & prot::PROT_READ != 0 {
        perms |= Perms::READ;
    }
    if p & prot::PROT_WRITE != 0 {
        perms |= Perms::WRITE;
    }
    if p & prot::PROT_EXEC != 0 {
        perms |= Perms::EXEC;
    }
    Ok(perms)
}

/// `mmap`: map `req.len` bytes of private anonymous memory and return its address.
/// `fd_is_open` says whether a descriptor is open (for the errors of file mappings,
/// which are not supported).
///
/// Errors, in this order: `EINVAL` (unaligned offset, unknown flags, neither or both
/// of `MAP_SHARED`/`MAP_PRIVATE`, length 0, unknown `PROT_*` bits); for a file
/// mapping `EBADF` (fd not open) else `ENODEV`; `EINVAL` for shared anonymous
/// memory; `ENOMEM` for a length above 4 GiB − 4 KiB; with `MAP_FIXED`:
/// `EINVAL` (unaligned `addr`), `EPERM` (below `MMAP_MIN`), `ENOMEM` (the span
/// reaches the stack reservation or covers a guard page), `EEXIST`
/// (`MAP_FIXED_NOREPLACE` over a mapping); `ENOMEM` when no free span fits or the
/// range count would pass `MAX_MAP_COUNT`.
pub fn mmap(
    us: &mut UserSpace<'_>,
    req: MmapRequest,
    fd_is_open: impl FnOnce(u32) -> bool,
) -> Result<u32, Errno> {
    if u64::from(req.offset) % PAGE != 0 || req.flags & !mf::MAP_KNOWN != 0 {
        return Err(Errno::EINVAL);
    }
    let shared = match req.flags & mf::MAP_TYPE {
        mf::MAP_PRIVATE => false,
        mf::MAP_SHARED => true,
        _ => return Err(Errno::EINVAL),
    };
    if req.len == 0 {
        return Err(Errno::EINVAL);
    }
    let perms = perms_of(req.prot)?;
    if req.flags & mf::MAP_ANONYMOUS == 0 {
        return Err(if fd_is_open(req.fd) {
            Errno::ENODEV
        } else {
            Errno::EBADF
        });
    }
    if shared {
        return Err(Errno::EINVAL);
    }
    let pages = pages_of(req.len);
    let lo = page_of(MMAP_MIN);
    let top = mmap_top_page();
    if pages > top - lo {
        return Err(Errno::ENOMEM);
    }
    let fixed = req.flags & (mf::MAP_FIXED | mf::MAP_FIXED_NOREPLACE) != 0;
    let start = if fixed {
        if u64::from(req.addr) % PAGE != 0 {
            return Err(Errno::EINVAL);
        }
        let start = page_of(req.addr);
        if start < lo {
            return Err(Errno::EPERM);
        }
        let end = start + pages;
        if end > top || guard_in(us.remap(), start, end) {
            return Err(Errno::ENOMEM);
        }
        let occupied = us.remap().find_free(pages, start, end) != Some(start);
        if occupied && req.flags & mf::MAP_FIXED_NOREPLACE != 0 {
            return Err(Errno::EEXIST);
        }
        check_map_count(
            us.remap(),
            1 + ranges_added(us.remap(), start, start + pages, false),
        )?;
        if occupied {
            us.unmap(start, pages).map_err(Errno::from)?;
        }
        start
    } else {
        check_map_count(us.remap(), 1)?;
        let hint = page_of(req.addr);
        let hint_fits = hint >= lo
            && hint + pages <= top
            && us.remap().find_free(pages, hint, hint + pages) == Some(hint);
        if hint_fits {
            hint
        } else {
            us.remap()
                .find_free_top_down(pages, lo, top)
                .ok_or(Errno::ENOMEM)?
        }
    };
    us.map_anon_growable(start, pages, perms, Growth { below: 0, above: 0 })
        .map_err(Errno::from)?;
    // `start + pages <= MMAP_TOP`: the address fits 32 bits.
    u32::try_from(start * PAGE).map_err(|_| Errno::ENOMEM)
}

/// `munmap(addr, len)`: unmap every page of the span (holes are fine); their frames
/// go back. `EINVAL`: unaligned `addr`, length 0, a span reaching the stack
/// reservation (or past 4 GiB) or covering a guard page. `ENOMEM`: splitting a range
/// would pass `MAX_MAP_COUNT`.
pub fn munmap(us: &mut UserSpace<'_>, addr: u32, len: u32) -> Result<u32, Errno> {
    if u64::from(addr) % PAGE != 0 || len == 0 {
        return Err(Errno::EINVAL);
    }
    let start = page_of(addr);
    let end = start + pages_of(len);
    if end > mmap_top_page() || guard_in(us.remap(), start, end) {
        return Err(Errno::EINVAL);
    }
    check_map_count(us.remap(), ranges_added(us.remap(), start, end, false))?;
    us.unmap(start, end - start).map_err(|_| Errno::EINVAL)?;
    Ok(0)
}

/// `mprotect(addr, len, prot)`: set the rights of every page of the span; a length of
/// 0 does nothing. `EINVAL`: unaligned `addr`, unknown `PROT_*` bits, a span reaching
/// the stack reservation. `ENOMEM`: a span past 4 GiB, a page of it unmapped or a
/// guard, or too many ranges. Refused calls change nothing.
pub fn mprotect(us: &mut UserSpace<'_>, addr: u32, len: u32, prot: u32) -> Result<u32, Errno> {
    if u64::from(addr) % PAGE != 0 {
        return Err(Errno::EINVAL);
    }
    let perms = perms_of(prot)?;
    if len == 0 {
        return Ok(0);
    }
    let start = page_of(addr);
    let end = start + pages_of(len);
    if end > (1u64 << 32) / PAGE {
        return Err(Errno::ENOMEM);
    }
    if end > mmap_top_page() {
        return Err(Errno::EINVAL);
    }
    let pieces = covering(us.remap(), start, end)?;
    if pieces.iter().any(|r| r.mapping.kind == Kind::Guard) {
        return Err(Errno::ENOMEM);
    }
    check_map_count(us.remap(), ranges_added(us.remap(), start, end, true))?;
    us.protect(start, end - start, perms).map_err(Errno::from)?;
    Ok(0)
}

/// `madvise(addr, len, advice)`: `MADV_NORMAL`, `MADV_RANDOM`, `MADV_SEQUENTIAL`,
/// `MADV_WILLNEED` are accepted hints; `MADV_DONTNEED` releases the pages of the
/// private ranges in the span outside the program image (they read as zero on the
/// next touch; the image's own pages are left as they are, as if re-read). A length
/// of 0 does nothing. `EINVAL`: unaligned `addr`, unknown advice, a span past 4 GiB.
/// `ENOMEM`: a page of the span is unmapped (guard pages count as mapped).
pub fn madvise(
    us: &mut UserSpace<'_>,
    mem: &ProcessMemory,
    addr: u32,
    len: u32,
    advice: u32,
) -> Result<u32, Errno> {
    if u64::from(addr) % PAGE != 0 || advice > madv::MADV_DONTNEED {
        return Err(Errno::EINVAL);
    }
    if len == 0 {
        return Ok(0);
    }
    let start = page_of(addr);
    let end = start + pages_of(len);
    if end > (1u64 << 32) / PAGE {
        return Err(Errno::EINVAL);
    }
    let pieces = covering(us.remap(), start, end)?;
    if advice != madv::MADV_DONTNEED {
        return Ok(0);
    }
    for r in pieces {
        if r.mapping.kind != Kind::Anon {
            continue;
        }
        for (lo, hi) in mem.outside_image(r.start, r.end()) {
            let Some(part) = r.clip(lo, hi) else {
                continue;
            };
            us.discard_contents(&part).map_err(Errno::from)?;
        }
    }
    Ok(0)
}
