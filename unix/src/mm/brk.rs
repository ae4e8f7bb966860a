//! The program break (`brk`, Linux semantics): the heap is `[brk_base, brk)`, its
//! pages end at the break's page boundary, and **a guard page always sits just above
//! the break's page**.
//!
//! - Growing extends the heap's last range in place and moves the guard up with it:
//!   [`AddressSpace::grow_up_behind_guard`], one remap-table walk, O(log ranges)
//!   whatever the heap's size, no page-table work and no allocation. Cases it does not
//!   cover (the first growth, a heap tail that is not plain read-write heap, a full
//!   window) take the general path: take the guard away, grow the last range
//!   ([`AddressSpace::grow_up`]) or map a new one, put the guard back above the new
//!   end. The heap's first range is created by the first growth with room in its
//!   persistent window to grow up to the mmap region's top, so later growth never
//!   moves anything. New pages are Zero: they read as zeros (also after a shrink: the
//!   pages were released).
//! - Shrinking unmaps the tail — its pages and frames go back at once — and moves the
//!   guard down.
//! - Refusals (`ENOMEM`, nothing changes): the new heap and its guard would reach a
//!   mapping (an `mmap`), the stack reservation (`MMAP_TOP`), `RLIMIT_DATA`, or the
//!   persistent space is out of numbers.

use super::{mmap_top_page, page_of, ProcessMemory};
use crate::abi::rlimit::RLIMIT_DATA;
use crate::errno::Errno;
use vm::remap::{Kind, Perms, Vpn};
use vm::UserSpace;
use vm::{AddressSpace, Growth};

/// The heap's access rights.
const HEAP_PERMS: Perms = Perms::READ.union(Perms::WRITE);

/// `brk(addr)`: move the break to `addr` and return it. An address below the heap's
/// base (0 in particular) changes nothing and returns the current break. A refused
/// move is `ENOMEM` and changes nothing.
pub fn set_break(us: &mut UserSpace<'_>, mem: &mut ProcessMemory, addr: u32) -> Result<u32, Errno> {
    if mem.brk_base == 0 {
        return if addr == 0 {
            Ok(mem.brk)
        } else {
            Err(Errno::ENOMEM)
        };
    }
    if addr < mem.brk_base {
        return Ok(mem.brk);
    }
    if addr - mem.brk_base > mem.limits[RLIMIT_DATA as usize].rlim_cur {
        return Err(Errno::ENOMEM);
    }
    let base = page_of(mem.brk_base);
    let old_end = u64::from(mem.brk).div_ceil(vm::PAGE_SIZE).max(base);
    let new_end = u64::from(addr).div_ceil(vm::PAGE_SIZE);
    if new_end > old_end {
        grow(us, base, old_end, new_end)?;
    } else if new_end < old_end {
        shrink(us, old_end, new_end)?;
    }
    mem.brk = addr;
    Ok(addr)
}

/// Whether page `vpn` is a guard.
fn is_guard(space: &AddressSpace, vpn: Vpn) -> bool {
    space
        .remap()
        .translate(vpn)
        .is_some_and(|t| t.kind == Kind::Guard)
}

/// Grow the heap's pages from `old_end` to `new_end`, moving the guard from
/// `old_end` (if there) to `new_end`.
fn grow(us: &mut UserSpace<'_>, base: Vpn, old_end: Vpn, new_end: Vpn) -> Result<(), Errno> {
    let top = mmap_top_page();
    // The new guard page must lie below the stack reservation too.
    if new_end >= top {
        return Err(Errno::ENOMEM);
    }
    let extra = new_end - old_end;
    // The common case in one step: the heap's last range ends at the old end with the
    // guard page right above it; it grows in place and the guard moves up with it
    // (same checks and result as below). Anything else takes the general path.
    if old_end > base {
        let grown = us.grow_up_behind_guard(old_end, extra, top, |r| {
            r.start >= base && r.mapping.perms == HEAP_PERMS
        });
        if grown.is_ok() {
            return Ok(());
        }
    }
    // Everything above the old guard up to and including the new guard is free...
    if us.remap().find_free(extra, old_end + 1, new_end + 1) != Some(old_end + 1) {
        return Err(Errno::ENOMEM);
    }
    // ...and the old guard's page holds the guard or nothing.
    let guard_here = is_guard(us.space(), old_end);
    if !guard_here && us.remap().translate(old_end).is_some() {
        return Err(Errno::ENOMEM);
    }
    if guard_here {
        us.unmap(old_end, 1).map_err(Errno::from)?;
    }
    if extend(us, base, old_end, extra, top - new_end).is_err() {
        if guard_here {
            // The page was the guard's a moment ago: it is free.
            let _ = us.map_guard(old_end, 1);
        }
        return Err(Errno::ENOMEM);
    }
    if us.map_guard(new_end, 1).is_err() {
        // Checked free above; undo rather than leave the heap unguarded.
        let _ = us.unmap(old_end, extra);
        let _ = us.map_guard(old_end, 1);
        return Err(Errno::ENOMEM);
    }
    Ok(())
}

/// Map `extra` heap pages at `old_end` (free): in place when the heap's last range
/// is a plain read-write private range of the heap with window room, else as a new
/// range with room to grow up by `room` pages.
fn extend(
    us: &mut UserSpace<'_>,
    base: Vpn,
    old_end: Vpn,
    extra: u64,
    room: u64,
) -> Result<(), vm::VmError> {
    if old_end > base {
        let last = us.remap().range_containing(old_end - 1).filter(|r| {
            r.start >= base && r.mapping.kind == Kind::Anon && r.mapping.perms == HEAP_PERMS
        });
        if let Some(r) = last {
            if us.grow_up(r.start, extra).is_ok() {
                return Ok(());
            }
        }
    }
    us.map_anon_growable(
        old_end,
        extra,
        HEAP_PERMS,
        Growth {
            below: 0,
            above: room,
        },
    )
}

/// Remove the heap's pages from `new_end` to `old_end` (their frames go back) and
/// move the guard from `old_end` (if there) down to `new_end`.
fn shrink(us: &mut UserSpace<'_>, old_end: Vpn, new_end: Vpn) -> Result<(), Errno> {
    let guard_here = is_guard(us.space(), old_end);
    let pages = old_end - new_end + u64::from(guard_here);
    us.unmap(new_end, pages).map_err(Errno::from)?;
    us.map_guard(new_end, 1).map_err(Errno::from)?;
    Ok(())
}
