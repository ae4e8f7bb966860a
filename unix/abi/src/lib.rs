//! The native Unix ABI — Phantom's — defined once for both sides of the call gate
//! (`docs/abi.md`): the gate selector, the syscall table ([`nr`]: numbers, names,
//! argument counts), error numbers ([`Errno`], BSD's), flag values ([`open_flags`],
//! [`mode`], [`ioc`] …) and the `#[repr(C)]` structures with their encodings
//! ([`Stat`], [`Utsname`], [`Dirent`] …, [`Pod`]). The kernel's `unix` crate
//! dispatches and encodes through it; user space's `ulibc` (a separate i686
//! workspace) calls and decodes through it; `unix/user/tools/abi.json` is generated
//! from it (a test keeps it current). Plain data, no dependencies, `no_std`.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod errno;
pub mod flags;
pub mod layout;
pub mod nr;

pub use errno::Errno;
pub use flags::*;
pub use layout::*;

/// The call gate's selector: LDT index 0, TI = 1, RPL = 3. User stub:
/// `movl $NR, %eax; lcall $0x7, $0; ret`.
pub const GATE_SELECTOR: u16 = 0x07;

/// The page size user space sees (`getpagesize`).
pub const PAGE_SIZE: u32 = 4096;

/// Longest path accepted, including its terminating NUL.
pub const PATH_MAX: usize = 4096;
/// Longest path component.
pub const NAME_MAX: usize = 255;
/// Longest host name `sethostname` accepts (Phantom keeps it in 256 bytes with its
/// NUL).
pub const HOST_NAME_MAX: usize = 255;

/// Largest byte count one `read`/`write` transfers, so the result always fits a
/// positive 32-bit `ssize_t`.
pub const MAX_RW_COUNT: u32 = 0x7fff_f000;

/// The uid and gid of every process: one user, root.
pub const ROOT_ID: u32 = 0;
