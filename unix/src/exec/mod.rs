//! Starting a program: validate its ELF ([`elf`]), map its segments ([`load`](mod@load)), build
//! its initial stack ([`stack`]) in a fresh address space laid out as [`layout`] says.
//! [`builder`] writes ELF images (valid and broken) for tests.
//!
//! The kernel's path for a boot module:
//!
//! ```
//! use unix::exec::{exec, stack::BootCommand};
//! use vm::emulated::EmulatedMachine;
//! use vm::{AddressSpace, PersistentSpace, UserSpace};
//!
//! let elf = unix::exec::builder::ElfBuilder::minimal().build();
//! let mut m = EmulatedMachine::new(64);
//! let mut ps = PersistentSpace::new();
//! let mut space = AddressSpace::new(&mut m, &[0; vm::KERNEL_ENTRIES]).unwrap();
//! let cmd = BootCommand::parse("/some/dir/hello a b").unwrap();
//! let mut us = UserSpace::new(&mut space, &mut ps, &mut m);
//! let start = exec(&elf[..], &cmd.argv_bytes(), &[], &mut us).unwrap();
//! assert_eq!(start.entry, 0x0804_8000 + 0x54);
//! assert_eq!(start.esp % 16, 12);
//! space.destroy(&mut ps, &mut m);
//! ```

#[cfg(any(test, feature = "testing"))]
pub mod builder;
pub mod elf;
pub mod load;
pub mod stack;

use crate::errno::Errno;
use alloc::vec::Vec;
use core::fmt;
use vm::remap::{Kind, Perms, Range, RemapTable, Vpn};
use vm::{Growth, UserSpace, VmError};

pub use elf::{validate, ElfError, LoadPlan, Segment};
pub use load::{load, ExecImage, LoadError, LoadStats, PersistentImage};
pub use stack::{build_initial_stack, BootCommand, InitialStack};

/// The 32-bit process layout (`docs/abi.md`, "Process layout"), low to high:
///
/// ```text
/// 0x00000000  page 0: never mapped (null guard) — except for a Phantom image
///             whose code starts at 0 (see [`elf`]): then it is its text
/// p_vaddr…    the program's segments (text, rodata, data+bss)
/// brk_base    the heap [brk_base, brk), growing up; a guard page just above the
///             break's page (always)
///   …         free: the heap grows up, mmap fills top-down
/// MMAP_TOP    (0xB0000000) top of the mmap region; the stack reservation above it
///   …         unmapped: room for the stack to grow to a raised RLIMIT_STACK
/// guard       the page at STACK_TOP − limit − 4096: encodes the stack's limit
///   …         the stack's growth area (unmapped until touched)
/// stack       [stack_start, STACK_TOP), growing down on faults
/// STACK_TOP   (0xC0000000) a guard page (catches copy-out runaways)
/// ```
pub mod layout {
    /// Page size (the hardware's, as `vm` defines it).
    pub const PAGE: u64 = vm::PAGE_SIZE;
    /// Lowest address a segment may use, but for code on page 0 (see [`super::elf`]).
    pub const LOAD_START: u32 = 0x1000;
    /// The stack's top (exclusive); the page at this address is a guard.
    pub const STACK_TOP: u32 = 0xC000_0000;
    /// The default stack limit (`RLIMIT_STACK`): 8 MiB.
    pub const STACK_LIMIT: u32 = 8 << 20;
    /// The largest stack limit `setrlimit` accepts: 256 MiB − 4 KiB, so the guard
    /// below the limit never leaves the stack reservation.
    pub const STACK_LIMIT_MAX: u32 = (256 << 20) - PAGE as u32;
    /// Bottom of the stack reservation and top (exclusive) of the mmap region and of
    /// the heap (its guard page included): `STACK_TOP − 256 MiB` = `0xB0000000`.
    /// Nothing but the stack and its guards is ever mapped at or above it.
    pub const MMAP_TOP: u32 = STACK_TOP - (256 << 20);
    /// Lowest address `mmap` uses or accepts (Linux's default `mmap_min_addr`).
    pub const MMAP_MIN: u32 = 0x1_0000;
    /// The guard page below the default stack limit.
    pub const STACK_GUARD_BELOW: u32 = STACK_TOP - STACK_LIMIT - PAGE as u32;
    /// End (exclusive) of the range segments may use: one page below [`MMAP_TOP`],
    /// so the heap's guard page always fits below the stack reservation.
    pub const LOAD_END: u32 = MMAP_TOP - PAGE as u32;
    /// Most ranges one address space may hold (`mmap`, `mprotect`, `munmap` that
    /// would need more give `ENOMEM`; Linux's `vm.max_map_count` is 65530): bounds the
    /// kernel memory a process can pin through its remap table.
    pub const MAX_MAP_COUNT: usize = 16384;
}

use layout::{MMAP_TOP, PAGE, STACK_GUARD_BELOW, STACK_LIMIT_MAX, STACK_TOP};

/// Where a new process starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessStart {
    /// Initial `eip`.
    pub entry: u32,
    /// Initial `esp`.
    pub esp: u32,
    /// The initial program break: the page-aligned end of the highest segment. The
    /// heap starts here, empty; the page at it is the guard above the break.
    pub brk: u32,
    /// The program's segments as page-aligned `[start, end)` address spans, sorted.
    pub image: Vec<(u32, u32)>,
    /// First page of the stack range (it grows down from here on faults, to
    /// [`layout::STACK_TOP`] − [`layout::STACK_LIMIT`] by default).
    pub stack_start: u32,
    /// What loading the segments did.
    pub load: LoadStats,
    /// Code starts on page 0: it is mapped, the process has no null guard.
    pub page_zero_mapped: bool,
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
/// contents, and the guard page below the default limit
/// ([`layout::STACK_GUARD_BELOW`]). The range's persistent window has room below for
/// the largest limit ([`layout::STACK_LIMIT_MAX`]), so a raised `RLIMIT_STACK` never
/// runs out of window before it reaches its guard. Returns the stack range's first
/// page address.
pub fn setup_stack(stack: &InitialStack, us: &mut UserSpace<'_>) -> Result<u32, ExecError> {
    let top_page = u64::from(STACK_TOP) / PAGE;
    let guard_page = u64::from(STACK_GUARD_BELOW) / PAGE;
    let max_pages = u64::from(STACK_LIMIT_MAX) / PAGE;
    let pages = (stack.bytes.len() as u64)
        .div_ceil(PAGE)
        .clamp(1, top_page - guard_page - 1);
    let start = top_page - pages;
    us.map_guard(top_page, 1).map_err(ExecError::Stack)?;
    us.map_anon_growable(
        start,
        pages,
        Perms::READ | Perms::WRITE,
        Growth {
            below: max_pages - pages,
            above: 0,
        },
    )
    .map_err(ExecError::Stack)?;
    us.map_guard(guard_page, 1).map_err(ExecError::Stack)?;
    us.write_user(u64::from(stack.esp), &stack.bytes)
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

/// The highest range with pages in `[lo, hi)`: the one holding page `hi - 1` if it is
/// mapped, else the highest one entirely below `hi` that ends above `lo`. O(log ranges).
pub fn highest_range_below(remap: &RemapTable, lo: Vpn, hi: Vpn) -> Option<Range> {
    if lo >= hi {
        return None;
    }
    remap.range_before(hi).filter(|r| r.end() > lo)
}

/// The stack range (the one holding the page below [`layout::STACK_TOP`]) and the
/// guard range just below it (the guard that encodes the limit), if the address
/// space has both.
pub fn stack_and_guard(remap: &RemapTable) -> Option<(Range, Range)> {
    let top_page = u64::from(STACK_TOP) / PAGE;
    let stack = remap.range_containing(top_page - 1)?;
    if stack.mapping.kind != Kind::Anon {
        return None;
    }
    let guard = highest_range_below(remap, u64::from(MMAP_TOP) / PAGE, stack.start)?;
    (guard.mapping.kind == Kind::Guard).then_some((stack, guard))
}

/// The stack limit (`RLIMIT_STACK`, bytes) the guard below the stack encodes:
/// `STACK_TOP − guard end`. `None` without a stack and its guard.
pub fn stack_limit(remap: &RemapTable) -> Option<u32> {
    let (_, guard) = stack_and_guard(remap)?;
    let bytes = (u64::from(STACK_TOP) / PAGE).checked_sub(guard.end())? * PAGE;
    u32::try_from(bytes).ok()
}

/// Start a program in the empty address space `space`: validate `image`, build the
/// initial stack for `argv`/`envp`, map the segments ([`load()`]) and the stack
/// ([`setup_stack`]). Validation and the argument check happen before anything is
/// mapped; on a later failure the caller destroys `space`.
pub fn exec(
    image: &(impl ExecImage + ?Sized),
    argv: &[&[u8]],
    envp: &[&[u8]],
    us: &mut UserSpace<'_>,
) -> Result<ProcessStart, ExecError> {
    let plan = validate(image.bytes())?;
    let stack = build_initial_stack(argv, envp, STACK_TOP).map_err(ExecError::Args)?;
    let stats = load(&plan, image, us)?;
    let brk = plan.image_end();
    // The guard above the (empty) heap: the image ends below LOAD_END, so it is free.
    us.map_guard(u64::from(brk) / PAGE, 1)
        .map_err(ExecError::Stack)?;
    let stack_start = setup_stack(&stack, us)?;
    // Segments end below LOAD_END < 4 GiB, so their page addresses fit 32 bits.
    let image = plan
        .segments
        .iter()
        .map(|s| ((s.first_page() * PAGE) as u32, (s.end_page() * PAGE) as u32))
        .collect();
    Ok(ProcessStart {
        entry: plan.entry,
        esp: stack.esp,
        brk,
        image,
        stack_start,
        load: stats,
        page_zero_mapped: plan.page_zero_mapped,
    })
}

#[cfg(test)]
mod tests;
