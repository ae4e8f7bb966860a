//! The Unix personality of phantom-unix: everything about Unix processes that is plain
//! logic, host-tested, and free of `unsafe` — the kernel drives it through traits.
//!
//! - [`errno`]: the ABI's error numbers ([`Errno`], Phantom's BSD values).
//! - [`abi`]: the ABI of the `phantom-abi` crate (numbers, flags, structures), plus
//!   the kernel-side encoders that have no C structure.
//! - [`user`]: checked user-memory copies ([`user::UserMemory`], `EFAULT` on bad
//!   pointers), implemented for [`vm::UserSpace`].
//! - [`exec`]: ELF32 validation and loading, the initial stack, the process layout.
//! - [`vfs`]: path resolution and the file systems (`/dev`, `/boot`, `/tmp`).
//! - [`file`](mod@file): open file descriptions and per-process fd tables.
//! - [`pipe`]: pipe buffers (owned by the open file descriptions).
//! - [`mm`]: process memory — `brk`, `mmap`/`munmap`/`mprotect`/`madvise`, resource
//!   limits (the stack's guard), `/proc/self/maps`, SIGSEGV reasons.
//! - [`process`]: [`process::ProcessState`], a process's plain-data Unix state.
//! - [`console`]: the [`console::Console`] trait and the canonical line discipline.
//! - [`syscall`]: the one Unix core over a [`syscall::SyscallContext`], and the
//!   personalities that reach it ([`syscall::native`]: Phantom's call gate).
//! - [`system`]: system-wide plain data (the host name).
//! - [`wait`]: wait queues keyed by what blocked processes wait for.
//!
//! Everything that must survive a restart (fd tables, open files, the RAM file
//! system) is plain data: ids and byte vectors, no pointers into the kernel heap.
//!
//! # How the kernel drives it
//!
//! Once: a [`vfs::Vfs`], an [`file::OpenFiles`], a [`console::Tty`] over the serial
//! port (its IRQ calls [`console::Tty::receive`]; `true` means: wake the processes
//! blocked on console input). Per boot module: split the command line, publish the
//! module in `/boot`, put its pages in the persistent space, [`exec::exec`] it into a
//! fresh address space (an error is `ENOEXEC` with a reason: log it, skip the
//! module), and keep a [`process::ProcessState`] for the process: its fds
//! ([`file::FdTable::with_console`]) and its memory state
//! ([`mm::ProcessMemory::new`] of the [`exec::ProcessStart`]). Per call gate entry:
//! [`syscall::native::dispatch_from_stack`] with the process's [`syscall::SyscallContext`]
//! (whose `Mem` gives checked copies and, through [`mm::SpaceAccess`], the address
//! space under the VM lock; whose `parts()` lends the `ProcessState`), then act on
//! the [`syscall::SyscallResult`] ([`syscall::native::encode`] gives `eax`/`edx`).
//! Per page fault the address space refuses as
//! unmapped: [`mm::resolve_fault_or_grow_stack`] (the stack's growth area), and a
//! user copy that fails there [`mm::grow_stack`] then retries; a
//! `SIGSEGV` is reported with [`mm::describe_segv`]'s reason.
//!
//! ```
//! use unix::console::Tty;
//! use unix::exec::{exec, BootCommand, PersistentImage};
//! use unix::file::OpenFiles;
//! use unix::process::ProcessState;
//! use unix::syscall::{native, SyscallResult};
//! use unix::vfs::Vfs;
//! use vm::emulated::EmulatedMachine;
//! use vm::{AddressSpace, PersistentSpace, UserSpace};
//!
//! let module: &'static [u8] = unix::exec::builder::ElfBuilder::minimal().build().leak();
//! let (mut m, mut ps) = (EmulatedMachine::new(256), PersistentSpace::new());
//! let (mut vfs, mut files) = (Vfs::new(), OpenFiles::new());
//!
//! let cmd = BootCommand::parse("/build/hello a b").unwrap();
//! vfs.add_boot_file(&cmd.name, module).unwrap();
//! // The kernel registers the module's own frames (`PersistentImage::from_frames`).
//! let image = PersistentImage::copy_in(&mut ps, &mut m, module).unwrap();
//! let mut space = AddressSpace::new(&mut m, &[0; vm::KERNEL_ENTRIES]).unwrap();
//! let mut us = UserSpace::new(&mut space, &mut ps, &mut m);
//! let start = exec(&image, &cmd.argv_bytes(), &[], &mut us).unwrap();
//! let process = ProcessState::boot_module(&mut files, &start).unwrap();
//! assert_eq!(process.memory.brk, start.brk);
//! // ... iretq to start.entry with esp = start.esp; at each gate entry:
//! # let mut ctx = unix::syscall::testing::TestContext::new();
//! match native::dispatch_from_stack(&mut ctx, unix::abi::nr::GETPID, 0) {
//!     SyscallResult::Return(r) => { let (eax, edx) = native::encode(r); /* iretq */ }
//!     SyscallResult::Exit(status) => { /* close fds, destroy the space */ }
//!     SyscallResult::Block(_) => { /* rewind to the lcall, sleep, retry later */ }
//!     SyscallResult::Signal(_) => { /* the default action: end the process */ }
//! }
//! # let _ = (start, process, Tty::new(Vec::<u8>::new()));
//! # space.destroy(&mut ps, &mut m);
//! ```
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

extern crate alloc;

pub mod abi;
pub mod console;
pub mod errno;
pub mod exec;
pub mod file;
pub mod mm;
pub mod pipe;
pub mod process;
pub mod signal;
pub mod syscall;
pub mod system;
pub mod user;
pub mod vfs;
pub mod wait;

pub use errno::Errno;
