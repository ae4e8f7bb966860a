//! The vocabulary of page faults: the [`Access`] that faulted, what resolving it did
//! ([`FaultOutcome`]) and why an access is refused ([`Segv`], [`SegvReason`]).

use core::fmt;

/// Kind of user access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// A data read.
    Read,
    /// A data write.
    Write,
    /// An instruction fetch.
    Exec,
}

impl Access {
    /// The access described by an x86 page-fault error code: bit 4 (I/D) set means an
    /// instruction fetch, else bit 1 (W/R) set means a write, else a read.
    pub fn from_pf_error_code(code: u64) -> Access {
        if code & (1 << 4) != 0 {
            Access::Exec
        } else if code & (1 << 1) != 0 {
            Access::Write
        } else {
            Access::Read
        }
    }
}

/// What [`crate::AddressSpace::resolve_fault`] did; in every case the access now
/// succeeds when retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultOutcome {
    /// The page was resident; only the PTE was missing (or too weak and now upgraded).
    Minor,
    /// The page was Zero: a frame was allocated, zeroed and made resident.
    ZeroFilled,
    /// Write to a page whose frame was shared: the contents were copied to a new frame.
    CowCopied,
    /// Write to a copy-on-write page whose frame is no longer shared: it was simply
    /// made writable.
    CowTakenOver,
    /// The PTE already allowed the access (another CPU or a stale TLB entry): nothing
    /// to do.
    Spurious,
}

/// Why an access is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SegvReason {
    /// No range maps the page.
    Unmapped,
    /// The page belongs to a guard range.
    Guard,
    /// A read of a range with no permissions at all (`PROT_NONE`). On x86 every present
    /// page is readable, so any non-empty permission set (even write- or exec-only)
    /// allows reads.
    NoAccess,
    /// A write to a range without WRITE.
    WriteToReadOnly,
    /// An instruction fetch from a range without EXEC.
    ExecNonExec,
    /// The address is in the kernel half (not a user address).
    KernelAddress,
    /// The access is legal but no frame (for the page or a page table) was available.
    /// Not the program's fault: the kernel may kill it (SIGKILL/SIGBUS) or wait and
    /// retry. Nothing was changed that needs undoing.
    OutOfMemory,
}

/// A refused user access: the faulting address and the reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Segv {
    /// The faulting virtual address (as given, not page aligned).
    pub addr: u64,
    /// Why it was refused.
    pub reason: SegvReason,
}

impl Segv {
    /// Whether this is the resource failure [`SegvReason::OutOfMemory`] rather than a
    /// program error.
    pub fn is_out_of_memory(&self) -> bool {
        self.reason == SegvReason::OutOfMemory
    }
}

impl SegvReason {
    /// A short phrase for messages ("guard page", "unmapped address", …).
    pub fn description(self) -> &'static str {
        match self {
            SegvReason::Unmapped => "unmapped address",
            SegvReason::Guard => "guard page",
            SegvReason::NoAccess => "no access permitted",
            SegvReason::WriteToReadOnly => "write to read-only memory",
            SegvReason::ExecNonExec => "execution of non-executable memory",
            SegvReason::KernelAddress => "kernel address",
            SegvReason::OutOfMemory => "out of memory",
        }
    }
}

impl fmt::Display for Segv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {:#x}", self.reason.description(), self.addr)
    }
}

/// Fault resolution: the page-table cache filled from the remap table and the
/// persistent space, or the access refused with its reason.
mod resolve {
    use super::*;
    use crate::frame::PhysFrame;
    use crate::frame::PAGE_SHIFT;
    use crate::paging::{leaf_entry, LeafPerms, USER_END};
    use crate::persistent::{Found, Lookup, PersistentSpace};
    use crate::phys::Machine;
    use crate::space::{check_access, entry_allows, AddressSpace};
    use x86::bits64::paging::PTEntry;

    impl AddressSpace {
        /// Resolve a user page fault at `vaddr` for `access`.
        ///
        /// Translates through the remap table; refuses guard, unmapped, kernel-half and
        /// permission-violating accesses with a [`Segv`]; makes a Zero page resident in a
        /// fresh zeroed frame; copies a shared frame on write (or takes it over when it is
        /// no longer shared); installs the PTE (writable only if the range allows writes and
        /// the frame is exclusively this page's; NX unless executable) and flushes the old
        /// translation if one was replaced. Never panics on any input.
        pub fn resolve_fault<M: Machine + ?Sized>(
            &mut self,
            ps: &mut PersistentSpace,
            m: &mut M,
            vaddr: u64,
            access: Access,
        ) -> Result<FaultOutcome, Segv> {
            let segv = |reason| Segv {
                addr: vaddr,
                reason,
            };
            if vaddr >= USER_END {
                return Err(segv(SegvReason::KernelAddress));
            }
            let vpn = vaddr >> PAGE_SHIFT;
            let page_va = vpn << PAGE_SHIFT;
            let t = self
                .remap
                .translate(vpn)
                .ok_or(segv(SegvReason::Unmapped))?;
            check_access(t.kind, t.perms, access).map_err(segv)?;
            // One walk: the leaf slot is read (spurious check) and written through `at`.
            let at = self
                .table
                .leaf_slot(m, page_va, access == Access::Write)
                .map_err(|_| segv(SegvReason::OutOfMemory))?;
            let current = PTEntry(m.read_u64(at));
            // Only a forked (copy-on-write) range can see through a frozen layer.
            let Lookup { store, found } = if t.cow {
                ps.lookup(t.page)
            } else {
                Lookup {
                    store: t.page,
                    found: ps.stored_frame(t.page).map_or(Found::Zero, Found::Own),
                }
            };
            let copy = |m: &mut M, ps: &mut PersistentSpace, f: PhysFrame, shared: bool| {
                let n = m.alloc_frame().ok_or(segv(SegvReason::OutOfMemory))?;
                m.copy_frame(f, n);
                let stored = if shared {
                    ps.replace_frame(store, n, m).map(|_| ())
                } else {
                    ps.make_resident(store, n)
                };
                if let Err(e) = stored {
                    log::error!("resolve_fault: {e}");
                    m.free_frame(n);
                    return Err(segv(SegvReason::OutOfMemory));
                }
                Ok((n, FaultOutcome::CowCopied, true))
            };
            // (frame, outcome, whether the frame is exclusively this page's)
            let (frame, outcome, exclusive) = match found {
                Found::Zero => {
                    let f = m.alloc_frame().ok_or(segv(SegvReason::OutOfMemory))?;
                    m.zero_frame(f);
                    if let Err(e) = ps.make_resident(store, f) {
                        log::error!("resolve_fault: {e}");
                        m.free_frame(f);
                        return Err(segv(SegvReason::OutOfMemory));
                    }
                    (f, FaultOutcome::ZeroFilled, true)
                }
                Found::Below(f) if access == Access::Write => {
                    if ps.take_over_below(t.page) {
                        (f, FaultOutcome::CowTakenOver, true)
                    } else {
                        copy(m, ps, f, false)?
                    }
                }
                Found::Own(f) if access == Access::Write && ps.refcount(f) > 1 => {
                    copy(m, ps, f, true)?
                }
                Found::Own(f) | Found::Below(f) => {
                    if current.address().as_u64() == f.start().as_u64()
                        && entry_allows(current, access)
                    {
                        return Ok(FaultOutcome::Spurious);
                    }
                    let own = matches!(found, Found::Own(_));
                    let outcome = if access == Access::Write && t.cow {
                        FaultOutcome::CowTakenOver
                    } else {
                        FaultOutcome::Minor
                    };
                    (f, outcome, own && ps.refcount(f) == 1)
                }
            };
            let entry = leaf_entry(frame, LeafPerms::of(t.perms, exclusive, m.nx_supported()));
            m.write_u64(at, entry.0);
            if current.is_present() {
                m.flush_page(self.table.root(), page_va);
            }
            Ok(outcome)
        }
    }
}
