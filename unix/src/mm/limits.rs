//! Resource limits: `getrlimit`/`setrlimit`.
//!
//! `RLIMIT_STACK`'s soft limit *is* the position of the guard page below the stack
//! (`STACK_TOP − limit − 4096`): setting it moves the guard, getting it reads the
//! guard, and stack growth consults nothing else. Limits are whole pages (a value is
//! rounded down); the largest is [`STACK_LIMIT_MAX`] (256 MiB − 4 KiB), and
//! `RLIM_INFINITY` as the soft limit means that largest value. `RLIMIT_DATA` bounds
//! the heap (`brk`); `RLIMIT_NPROC` bounds `fork`; the other resources are stored and
//! reported, not enforced, except `RLIMIT_NOFILE`, which cannot exceed the fd table's
//! 64 (`EPERM`). There are no
//! privileges: a process may raise its hard limits.

use super::{mmap_top_page, ProcessMemory, LIMITS};
use crate::abi::rlimit::{RLIMIT_NOFILE, RLIMIT_STACK, RLIM_INFINITY};
use crate::abi::Rlimit;
use crate::errno::Errno;
use crate::exec::layout::{PAGE, STACK_LIMIT_MAX, STACK_TOP};
use crate::exec::{stack_and_guard, stack_limit};
use crate::file::FD_MAX;
use vm::AddressSpace;
use vm::UserSpace;

/// The index of `resource`, or `EINVAL`.
fn index(resource: u32) -> Result<usize, Errno> {
    usize::try_from(resource)
        .ok()
        .filter(|&i| i < LIMITS)
        .ok_or(Errno::EINVAL)
}

/// `getrlimit(resource)`: the stored limits; for `RLIMIT_STACK` the soft limit is read
/// from the guard below the stack.
pub fn getrlimit(
    space: &AddressSpace,
    mem: &ProcessMemory,
    resource: u32,
) -> Result<Rlimit, Errno> {
    let mut l = mem.limits[index(resource)?];
    if resource == RLIMIT_STACK {
        if let Some(cur) = stack_limit(space.remap()) {
            l.rlim_cur = cur;
        }
    }
    Ok(l)
}

/// `setrlimit(resource, new)`. `EINVAL`: unknown resource, `cur > max`, a stack limit
/// above [`STACK_LIMIT_MAX`] (other than `RLIM_INFINITY`) or below the stack's
/// current extent, or no stack to limit; `ENOMEM`: the new guard would land on a
/// mapping; `EPERM`: `RLIMIT_NOFILE` above 64. Nothing changes on error.
pub fn setrlimit(
    us: &mut UserSpace<'_>,
    mem: &mut ProcessMemory,
    resource: u32,
    new: Rlimit,
) -> Result<(), Errno> {
    let i = index(resource)?;
    if new.rlim_cur > new.rlim_max {
        return Err(Errno::EINVAL);
    }
    if resource == RLIMIT_NOFILE && new.rlim_max > FD_MAX as u32 {
        return Err(Errno::EPERM);
    }
    if resource == RLIMIT_STACK {
        let bytes = if new.rlim_cur == RLIM_INFINITY {
            STACK_LIMIT_MAX
        } else {
            new.rlim_cur
        };
        set_stack_limit(us, bytes)?;
    }
    mem.limits[i] = new;
    Ok(())
}

/// Move the guard below the stack so the stack may grow to `bytes` (rounded down to
/// pages) below `STACK_TOP`: the guard goes to `STACK_TOP − limit − 4096`. `EINVAL`:
/// above [`STACK_LIMIT_MAX`], below the stack's current extent, or no stack and guard;
/// `ENOMEM`: something is mapped where the guard or the new growth area would be.
pub fn set_stack_limit(us: &mut UserSpace<'_>, bytes: u32) -> Result<(), Errno> {
    if bytes > STACK_LIMIT_MAX {
        return Err(Errno::EINVAL);
    }
    let want = u64::from(bytes) / PAGE;
    let (stack, guard) = stack_and_guard(us.remap()).ok_or(Errno::EINVAL)?;
    let top = u64::from(STACK_TOP) / PAGE;
    if want < top - stack.start {
        return Err(Errno::EINVAL);
    }
    // `want <= STACK_LIMIT_MAX / PAGE`, so the guard stays at or above MMAP_TOP.
    let new_guard = top - want - 1;
    if new_guard < mmap_top_page() {
        return Err(Errno::EINVAL);
    }
    if guard.start == new_guard && guard.pages == 1 {
        return Ok(());
    }
    // The guard is the highest range below the stack: only a lower guard needs the
    // pages between it and the old guard to be free.
    if new_guard < guard.start
        && us
            .remap()
            .find_free(guard.start - new_guard, new_guard, guard.start)
            != Some(new_guard)
    {
        return Err(Errno::ENOMEM);
    }
    us.unmap(guard.start, guard.pages).map_err(Errno::from)?;
    if us.map_guard(new_guard, 1).is_err() {
        let _ = us.map_guard(guard.start, guard.pages);
        return Err(Errno::ENOMEM);
    }
    Ok(())
}
