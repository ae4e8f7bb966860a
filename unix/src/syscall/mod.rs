//! The syscall layer: [`dispatch`] decodes a call (number and cdecl arguments, as
//! `docs/abi.md` defines them) and runs it against a [`SyscallContext`] — everything
//! the kernel lends the call: the process's ids and user memory, its fd table, the
//! open file descriptions, the VFS, the console and the clock.
//!
//! One file per family: [`fs`] (files, the console, `/proc/self/maps`), [`info`]
//! (ids, time, `uname`, page size), [`mem`] (`brk`, the mmap family,
//! `getrlimit`/`setrlimit`). Every call returns a [`SyscallResult`]: `Done` with the
//! `eax`/`edx` pair the gate returns, `Exit`, or `Block` — the call found nothing to
//! do yet and changed nothing, so the kernel can sleep the process "about to make
//! this call" and simply run it again later (restartable, as the persistence design
//! needs). Arguments are untrusted: every pointer goes through [`crate::user`], every
//! count is bounded, transfers go in page-sized pieces (a 2 GiB `read` never
//! allocates more than a small stack buffer), and nothing here panics.
//!
//! ```
//! use unix::syscall::{dispatch, SyscallResult};
//! # use unix::syscall::testing::TestContext;
//! let mut ctx = TestContext::new(); // a host stand-in for the kernel's context
//! let r = dispatch(&mut ctx, unix::abi::nr::GETPID, [0; 6]);
//! assert_eq!(r, SyscallResult::Done { eax: 1, edx: 0 });
//! ```

pub mod fs;
pub mod ids;
pub mod info;
pub mod mem;
pub mod testing;

use crate::abi::nr;
use crate::console::Console;
use crate::errno::Errno;
use crate::file::OpenFiles;
use crate::mm::SpaceAccess;
use crate::process::ProcessState;
use crate::system::SystemState;
use crate::user::{read_user_u32, UserMemory, UserPtr};
use crate::vfs::Vfs;

/// Most arguments a call takes.
pub use crate::abi::nr::MAX_ARGS;

/// What a syscall asks the kernel to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyscallResult {
    /// Return to user space with these registers (`edx` = 0 on success, else the
    /// errno and `eax` = −1).
    Done {
        /// Return value.
        eax: u32,
        /// Errno, 0 on success.
        edx: u32,
    },
    /// `_exit`: end the process with this status (already `& 0xff`).
    Exit(u8),
    /// Nothing to do yet and nothing changed: sleep until the event, then run the
    /// same call again (rewind to the gate call, registers as at entry).
    Block(BlockOn),
}

/// What a blocked call waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockOn {
    /// A line (or end of file) on the console.
    ConsoleInput,
    /// The monotonic clock reaching this many nanoseconds (a sleep).
    Deadline(u64),
}

impl SyscallResult {
    /// Success with value `v`.
    pub fn ok(v: u32) -> SyscallResult {
        SyscallResult::Done { eax: v, edx: 0 }
    }

    /// Failure with `e`.
    pub fn err(e: Errno) -> SyscallResult {
        SyscallResult::Done {
            eax: u32::MAX,
            edx: e.number(),
        }
    }
}

impl From<Result<u32, Errno>> for SyscallResult {
    fn from(r: Result<u32, Errno>) -> Self {
        match r {
            Ok(v) => SyscallResult::ok(v),
            Err(e) => SyscallResult::err(e),
        }
    }
}

/// The mutable things a call works on, borrowed together from the kernel.
pub struct Parts<'a, M, C: ?Sized> {
    /// The calling process's memory: checked copies ([`UserMemory`]) and the address
    /// space itself ([`SpaceAccess`]).
    pub mem: M,
    /// Its Unix state: descriptors, break, limits.
    pub process: &'a mut ProcessState,
    /// The system's open file descriptions.
    pub files: &'a mut OpenFiles,
    /// The file systems.
    pub vfs: &'a mut Vfs,
    /// The console.
    pub console: &'a mut C,
    /// System-wide state (the host name).
    pub system: &'a mut SystemState,
}

/// Everything a syscall may use, provided by the kernel for the calling process
/// (host tests: [`testing::TestContext`]).
pub trait SyscallContext {
    /// Checked access to the caller's memory and its address space (e.g.
    /// [`crate::user::VmUser`]).
    type Mem<'a>: UserMemory + SpaceAccess
    where
        Self: 'a;
    /// The console.
    type Term: Console + ?Sized;

    /// The caller's process id.
    fn pid(&self) -> u32;
    /// Its parent's (0 for boot modules).
    fn ppid(&self) -> u32;
    /// Nanoseconds since boot (`CLOCK_MONOTONIC`).
    fn monotonic_ns(&self) -> u64;
    /// Nanoseconds since the epoch (`CLOCK_REALTIME`); by default the boot epoch,
    /// i.e. the monotonic clock.
    fn realtime_ns(&self) -> u64 {
        self.monotonic_ns()
    }
    /// Borrow the caller's memory, its process state, the open files, the VFS and the
    /// console.
    fn parts(&mut self) -> Parts<'_, Self::Mem<'_>, Self::Term>;
}

/// Number of 32-bit arguments syscall `nr` takes (the ABI's table; 0 for numbers
/// not in it).
pub use crate::abi::nr::arg_count;

/// Read the arguments of syscall `nr` from the user stack: at the gate, `[esp]` is
/// the stub's return address and `arg i` is at `esp + 4 + 4 i`. Only the words the
/// call takes are read; a bad stack is `EFAULT`.
pub fn read_args(
    mem: &mut (impl UserMemory + ?Sized),
    esp: u32,
    nr: u32,
) -> Result<[u32; MAX_ARGS], Errno> {
    let mut args = [0u32; MAX_ARGS];
    for (i, a) in args.iter_mut().enumerate().take(arg_count(nr)) {
        let at = UserPtr(esp).offset(4 + 4 * i as u64).ok_or(Errno::EFAULT)?;
        *a = read_user_u32(mem, at)?;
    }
    Ok(args)
}

/// Run syscall `nr` with the arguments on the user stack at `esp` (the gate's entry
/// point: reads them with [`read_args`], then [`dispatch`]).
pub fn dispatch_from_stack<C: SyscallContext + ?Sized>(
    ctx: &mut C,
    nr: u32,
    esp: u32,
) -> SyscallResult {
    let args = if arg_count(nr) == 0 {
        [0; MAX_ARGS]
    } else {
        match read_args(&mut ctx.parts().mem, esp, nr) {
            Ok(a) => a,
            Err(e) => return SyscallResult::err(e),
        }
    };
    dispatch(ctx, nr, args)
}

/// Run syscall `nr` with `args`. Unknown numbers give `ENOSYS`.
pub fn dispatch<C: SyscallContext + ?Sized>(
    ctx: &mut C,
    nr: u32,
    args: [u32; MAX_ARGS],
) -> SyscallResult {
    let [a0, a1, a2, a3, a4, a5] = args;
    let r = match nr {
        nr::GETPID => Ok(ctx.pid()),
        nr::EXIT => return SyscallResult::Exit((a0 & 0xff) as u8),
        nr::SSYSLOG => ids::ssyslog(ctx, a0, UserPtr(a1)),
        nr::GETPAGESIZE => Ok(crate::abi::PAGE_SIZE),
        nr::PERSONALITY => ids::personality(ctx, a0),
        nr::UNAME => info::uname(ctx, UserPtr(a0)),
        // Nothing is buffered on its way to a disk yet.
        nr::SYNC => Ok(0),
        nr::SLEEPMSEC => return info::sleepmsec(ctx, a0),
        nr::NANOSLEEP => return info::nanosleep(ctx, UserPtr(a0)),
        nr::TIME => info::time(ctx, UserPtr(a0)),
        nr::GETTIMEOFDAY => info::gettimeofday(ctx, UserPtr(a0)),
        nr::CLOCK_GETTIME => info::clock_gettime(ctx, a0, UserPtr(a1)),
        // One thread per process: its thread id is its pid.
        nr::GETTID => Ok(ctx.pid()),
        nr::GETPPID => Ok(ctx.ppid()),
        nr::GETUID
        | nr::GETUID32
        | nr::GETEUID
        | nr::GETEUID32
        | nr::GETGID
        | nr::GETGID32
        | nr::GETEGID
        | nr::GETEGID32 => Ok(crate::abi::ROOT_ID),
        nr::SETUID | nr::SETUID32 | nr::SETGID | nr::SETGID32 => ids::set_id(a0),
        nr::SETREUID | nr::SETREUID32 | nr::SETREGID | nr::SETREGID32 => ids::set_ids(&[a0, a1]),
        nr::SETRESUID | nr::SETRESUID32 | nr::SETRESGID | nr::SETRESGID32 => {
            ids::set_ids(&[a0, a1, a2])
        }
        nr::SETGROUPS | nr::SETGROUPS32 => ids::setgroups(ctx, a0, UserPtr(a1)),
        nr::GETPGID => ids::getpgid(ctx, a0),
        nr::GETPGRP => ids::getpgrp(ctx),
        nr::SETPGID => ids::setpgid(ctx, a0, a1),
        nr::SETPGRP => ids::setpgid(ctx, 0, 0),
        nr::UMASK => ids::umask(ctx, a0),
        nr::GETHOSTNAME => info::gethostname(ctx, UserPtr(a0), a1),
        nr::SETHOSTNAME => info::sethostname(ctx, UserPtr(a0), a1),
        nr::OPEN => fs::open(ctx, UserPtr(a0), a1, a2),
        nr::CREAT => fs::creat(ctx, UserPtr(a0), a1),
        nr::CLOSE => fs::close(ctx, a0),
        nr::READ => return fs::read(ctx, a0, UserPtr(a1), a2),
        nr::WRITE => fs::write(ctx, a0, UserPtr(a1), a2),
        nr::LSEEK => fs::lseek(ctx, a0, a1 as i32, a2),
        nr::GETDENTS => fs::getdents(ctx, a0, UserPtr(a1), a2),
        nr::READDIR => fs::readdir(ctx, a0, UserPtr(a1)),
        nr::FSTAT => fs::fstat(ctx, a0, UserPtr(a1)),
        nr::STAT | nr::LSTAT => fs::stat(ctx, UserPtr(a0), UserPtr(a1)),
        nr::IOCTL => fs::ioctl(ctx, a0, a1, UserPtr(a2), a3),
        nr::BRK => mem::brk(ctx, a0),
        nr::MMAP => mem::mmap(
            ctx,
            crate::mm::MmapRequest {
                addr: a0,
                len: a1,
                prot: a2,
                flags: a3,
                fd: a4,
                offset: a5,
            },
        ),
        nr::MUNMAP => mem::munmap(ctx, a0, a1),
        nr::MPROTECT => mem::mprotect(ctx, a0, a1, a2),
        nr::MADVISE => mem::madvise(ctx, a0, a1, a2),
        nr::GETRLIMIT => mem::getrlimit(ctx, a0, UserPtr(a1)),
        nr::SETRLIMIT => mem::setrlimit(ctx, a0, UserPtr(a1)),
        _ => Err(Errno::ENOSYS),
    };
    r.into()
}

#[cfg(test)]
mod tests;
