//! Starting a program: validate its ELF ([`elf`]), map its segments ([`load`](mod@load)), build
//! its initial stack ([`stack`]) in a fresh address space laid out as [`layout`] says.
//! [`builder`] writes ELF images (valid and broken) for tests.
//!
//! The kernel's path for a boot module:
//!
//! ```
//! use unix::exec::{exec, stack::BootCommand};
//! use vm::emulated::EmulatedMachine;
//! use vm::{AddressSpace, PersistentSpace};
//!
//! let elf = unix::exec::builder::ElfBuilder::minimal().build();
//! let mut m = EmulatedMachine::new(64);
//! let mut ps = PersistentSpace::new();
//! let mut space = AddressSpace::new(&mut m, &[0; vm::KERNEL_ENTRIES]).unwrap();
//! let cmd = BootCommand::parse("/some/dir/hello a b").unwrap();
//! let start = exec(&elf[..], &cmd.argv_bytes(), &[], &mut space, &mut ps, &mut m).unwrap();
//! assert_eq!(start.entry, 0x0804_8000 + 0x54);
//! assert_eq!(start.esp % 16, 12);
//! space.destroy(&mut ps, &mut m);
//! ```

pub mod builder;
pub mod elf;
pub mod load;
pub mod stack;

use crate::errno::Errno;
use core::fmt;
use vm::remap::Perms;
use vm::{AddressSpace, Growth, Machine, PersistentSpace, VmError};

pub use elf::{validate, ElfError, LoadPlan, Segment};
pub use load::{load, ExecImage, LoadError, LoadStats, PersistentImage};
pub use stack::{build_initial_stack, BootCommand, InitialStack};

/// The 32-bit process layout (`docs/abi.md`).
pub mod layout {
    /// Page size.
    pub const PAGE: u64 = 4096;
    /// Lowest address a segment may use (page 0 is never mapped).
    pub const LOAD_START: u32 = 0x1000;
    /// The stack's top (exclusive); the page at this address is a guard.
    pub const STACK_TOP: u32 = 0xC000_0000;
    /// How far the stack may grow down from [`STACK_TOP`] (its rlimit): 8 MiB.
    pub const STACK_LIMIT: u32 = 8 << 20;
    /// The guard page below the stack's limit.
    pub const STACK_GUARD_BELOW: u32 = STACK_TOP - STACK_LIMIT - PAGE as u32;
    /// End (exclusive) of the range segments may use: below the stack's lower guard.
    pub const LOAD_END: u32 = STACK_GUARD_BELOW;
}

use layout::{PAGE, STACK_GUARD_BELOW, STACK_LIMIT, STACK_TOP};

/// Where a new process starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessStart {
    /// Initial `eip`.
    pub entry: u32,
    /// Initial `esp`.
    pub esp: u32,
    /// The initial program break: the page-aligned end of the highest segment (the
    /// heap starts here; nothing is mapped at it yet).
    pub brk: u32,
    /// First page of the stack range (it grows down from here on faults, to
    /// [`layout::STACK_TOP`] − [`layout::STACK_LIMIT`]).
    pub stack_start: u32,
    /// What loading the segments did.
    pub load: LoadStats,
}

/// Why a program could not be started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecError {
    /// The file is not an acceptable executable (`ENOEXEC`).
    Elf(ElfError),
    /// Mapping the segments failed.
    Load(LoadError),
    /// The arguments do not fit (`E2BIG`).
    Args(Errno),
    /// Setting up the stack failed.
    Stack(VmError),
    /// No frame for the stack's first pages.
    OutOfMemory,
}

impl ExecError {
    /// The errno an `execve` would return.
    pub fn errno(&self) -> Errno {
        match self {
            ExecError::Elf(_) => Errno::ENOEXEC,
            ExecError::Args(e) => *e,
            ExecError::Load(_) | ExecError::Stack(_) | ExecError::OutOfMemory => Errno::ENOMEM,
        }
    }
}

impl fmt::Display for ExecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExecError::Elf(e) => write!(f, "ENOEXEC: {e}"),
            ExecError::Load(e) => write!(f, "ENOMEM: {e}"),
            ExecError::Args(e) => write!(f, "{}: arguments do not fit the stack", e.name()),
            ExecError::Stack(e) => write!(f, "ENOMEM: setting up the stack: {e}"),
            ExecError::OutOfMemory => f.write_str("ENOMEM: out of memory for the stack"),
        }
    }
}

impl From<ElfError> for ExecError {
    fn from(e: ElfError) -> Self {
        ExecError::Elf(e)
    }
}

impl From<LoadError> for ExecError {
    fn from(e: LoadError) -> Self {
        ExecError::Load(e)
    }
}

/// Map the stack of a new process and write `stack` at its top: a guard page at
/// [`layout::STACK_TOP`], a private read-write range just big enough for the initial
/// contents that may grow down to `STACK_TOP − STACK_LIMIT` (window room reserved),
/// and a guard page below that limit. Returns the stack range's first page address.
pub fn setup_stack<M: Machine + ?Sized>(
    stack: &InitialStack,
    space: &mut AddressSpace,
    ps: &mut PersistentSpace,
    m: &mut M,
) -> Result<u32, ExecError> {
    let top_page = u64::from(STACK_TOP) / PAGE;
    let limit_pages = u64::from(STACK_LIMIT) / PAGE;
    let pages = (stack.bytes.len() as u64)
        .div_ceil(PAGE)
        .clamp(1, limit_pages);
    let start = top_page - pages;
    space.map_guard(top_page, 1).map_err(ExecError::Stack)?;
    space
        .map_anon_growable(
            ps,
            start,
            pages,
            Perms::READ | Perms::WRITE,
            Growth {
                below: limit_pages - pages,
                above: 0,
            },
        )
        .map_err(ExecError::Stack)?;
    space
        .map_guard(u64::from(STACK_GUARD_BELOW) / PAGE, 1)
        .map_err(ExecError::Stack)?;
    space
        .write_user(ps, m, u64::from(stack.esp), &stack.bytes)
        .map_err(|s| {
            if s.is_out_of_memory() {
                ExecError::OutOfMemory
            } else {
                ExecError::Stack(VmError::NotUserRange {
                    start: s.addr / PAGE,
                    pages: 1,
                })
            }
        })?;
    Ok((start * PAGE) as u32)
}

/// Grow the stack down to cover `addr` when `addr` lies in its growth area: below
/// the stack range's current first page and at or above `STACK_TOP − limit`.
/// Returns whether it grew; `Ok(false)` means the address is not a stack-growth
/// address (an ordinary bad access). Errors (no room: something is mapped in
/// between, or the window is full) are also bad accesses for the caller.
pub fn grow_stack(
    space: &mut AddressSpace,
    ps: &PersistentSpace,
    addr: u64,
    limit: u32,
) -> Result<bool, VmError> {
    let top_page = u64::from(STACK_TOP) / PAGE;
    let lowest_page = u64::from(STACK_TOP.saturating_sub(limit)) / PAGE;
    let page = addr / PAGE;
    if page < lowest_page || page >= top_page {
        return Ok(false);
    }
    let Some(stack) = space.remap().range_containing(top_page - 1) else {
        return Ok(false);
    };
    if page >= stack.start {
        return Ok(false);
    }
    space.grow_down(ps, stack.start, stack.start - page)?;
    Ok(true)
}

/// Start a program in the empty address space `space`: validate `image`, build the
/// initial stack for `argv`/`envp`, map the segments ([`load()`]) and the stack
/// ([`setup_stack`]). Validation and the argument check happen before anything is
/// mapped; on a later failure the caller destroys `space`.
pub fn exec<M: Machine + ?Sized>(
    image: &(impl ExecImage + ?Sized),
    argv: &[&[u8]],
    envp: &[&[u8]],
    space: &mut AddressSpace,
    ps: &mut PersistentSpace,
    m: &mut M,
) -> Result<ProcessStart, ExecError> {
    let plan = validate(image.bytes())?;
    let stack = build_initial_stack(argv, envp, STACK_TOP).map_err(ExecError::Args)?;
    let stats = load(&plan, image, space, ps, m)?;
    let stack_start = setup_stack(&stack, space, ps, m)?;
    Ok(ProcessStart {
        entry: plan.entry,
        esp: stack.esp,
        brk: plan.image_end(),
        stack_start,
        load: stats,
    })
}

#[cfg(test)]
mod tests;
