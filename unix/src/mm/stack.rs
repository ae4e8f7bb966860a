//! Stack growth, the policy in one place: the page-fault path
//! ([`resolve_fault_or_grow_stack`]) and the retry of a user copy made by a
//! syscall both grow the stack through [`grow_stack`].

use crate::exec::layout::{MMAP_TOP, PAGE, STACK_TOP};
use vm::remap::RemapError;
use vm::{Access, AddressSpace, FaultOutcome, Machine, PersistentSpace, Segv, SegvReason, VmError};

/// Grow the stack down to cover `addr` when `addr` lies in its growth area: strictly
/// between the end of the guard below the stack (which encodes `RLIMIT_STACK`) and
/// the stack range's first page. The remap table is the only state consulted, so the
/// fault path needs nothing per process, and it costs one remap-table walk: the range
/// holding the page below [`STACK_TOP`] grows down to `addr`'s page if that
/// span is unmapped, so a fault at or below the guard finds the guard in the way.
/// Returns whether it grew; `Ok(false)` means the address is not a stack-growth
/// address (an ordinary bad access). Errors (window full) are also bad accesses for
/// the caller.
pub fn grow_stack(
    space: &mut AddressSpace,
    ps: &PersistentSpace,
    addr: u64,
) -> Result<bool, VmError> {
    let page = addr / PAGE;
    let top_page = u64::from(STACK_TOP) / PAGE;
    if page >= top_page || page < u64::from(MMAP_TOP) / PAGE {
        return Ok(false);
    }
    match space.grow_down_to(ps, top_page - 1, page) {
        Ok(_) => Ok(true),
        // No stack, `addr` inside it already, something (the guard) in the way, or
        // not private memory: not a stack-growth address.
        Err(
            VmError::Remap(
                RemapError::NotMapped { .. } | RemapError::EmptyRange | RemapError::NoRoom,
            )
            | VmError::NotGrowable { .. },
        ) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Resolve a user page fault; an unmapped address in the stack's growth area
/// first grows the stack down to it (the stack grows on demand, up to its
/// limit, never past another mapping). The refusal is the first fault's.
pub fn resolve_fault_or_grow_stack<M: Machine + ?Sized>(
    space: &mut AddressSpace,
    ps: &mut PersistentSpace,
    m: &mut M,
    addr: u64,
    access: Access,
) -> Result<FaultOutcome, Segv> {
    match space.resolve_fault(ps, m, addr, access) {
        Err(segv) if segv.reason == SegvReason::Unmapped => match grow_stack(space, ps, addr) {
            Ok(true) => space.resolve_fault(ps, m, addr, access),
            _ => Err(segv),
        },
        other => other,
    }
}
