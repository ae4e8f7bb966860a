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
