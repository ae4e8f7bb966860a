//! `ulibc` — the C library of phantom-unix user programs, written in Rust.
//!
//! Programs are static ELF32 i386 executables (`#![no_std]`, `#![no_main]`)
//! that talk to the kernel through the seed's call gate (see
//! `docs/abi.md`). This crate gives them:
//!
//! - [`crt0`]: the `_start` entry, [`Args`]/[`env`], [`entry!`], [`exit`] and
//!   [`atexit`];
//! - [`syscall`]: the raw call-gate stubs and the syscall numbers;
//! - [`sys`]: typed wrappers for every syscall of the ABI (`Result<_, Errno>`,
//!   plus the global [`errno`](errno::errno));
//! - [`types`]: the ABI's data layouts (`Stat`, `linux_dirent`, `Utsname`,
//!   `Termios`, `Winsize`, `Timespec`) and constants;
//! - [`fs`]: [`File`](fs::File) and directory listing over the wrappers;
//! - [`io`]: `print!`/`println!`/`eprint!`/`eprintln!` (one `write` per call);
//! - [`string`]: C-string and number helpers, a fixed-capacity formatter;
//! - [`mem`]: `memcpy`/`memmove`/`memset`/`memcmp`/`bcmp`, the C symbols the
//!   compiler calls (compiler-builtins does not provide them on this target);
//! - [`bench`]: `rdtsc` timing and the benchmark JSON lines;
//! - [`malloc`]: the heap: `malloc`/`free`/`realloc`/`calloc`/
//!   `memalign` over `sbrk` (syscall `brk`), and the global allocator of the
//!   `alloc` crate.
//!
//! The pure parts are unit-tested on the host with
//! `cargo test -p ulibc --target x86_64-unknown-linux-gnu`; there the
//! syscall stubs are replaced by fakes that fail with `ENOSYS`.

#![cfg_attr(not(test), no_std)]

pub mod bench;
pub mod crt0;
pub mod errno;
pub mod fs;
pub mod io;
pub mod malloc;
pub mod mem;
mod panic;
pub mod string;
pub mod sys;
pub mod syscall;
pub mod types;

pub use core::ffi::CStr;

/// Serialises the host tests that set or read the global `errno`.
#[cfg(test)]
pub(crate) static ERRNO_TEST_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[cfg(test)]
pub(crate) fn errno_lock() -> std::sync::MutexGuard<'static, ()> {
    ERRNO_TEST_LOCK.lock().unwrap_or_else(|e| e.into_inner())
}
pub use crt0::{Args, atexit, env, exit, getenv};
pub use errno::Errno;
/// The ABI definitions (`phantom-abi`), for the name tables (`signal::ALL`, …).
pub use phantom_abi as abi;

/// What most programs need: `use ulibc::prelude::*;`.
pub mod prelude {
    pub use crate::crt0::{Args, exit};
    pub use crate::errno::Errno;
    pub use crate::fs::File;
    pub use crate::string::Bytes;
    pub use crate::types::*;
    pub use crate::{entry, eprint, eprintln, print, println};
    pub use core::ffi::CStr;
}
