//! The syscall layer: the one Unix core that every personality calls. A personality
//! ([`native`]: Phantom's call gate, numbers and `eax`/`edx`) fetches a call's
//! arguments, picks the handler by its number table and encodes the result; the
//! handlers run against a [`SyscallContext`] — everything the kernel lends the
//! call: the process's ids and user memory, its fd table, the open file
//! descriptions, the VFS, the console, the clock and the system state.
//!
//! One file per family: [`fs`] (files, directories, the console,
//! `/proc/self/maps`), [`info`] (time, sleeps, `uname`, the host name), [`ids`]
//! (ids, process groups, `umask`, `personality`, `ssyslog`), [`mem`] (`brk`, the
//! mmap family, `getrlimit`/`setrlimit`), [`proc`] (`fork`, `waitpid`). Every call returns a personality-neutral
//! [`SyscallResult`]: `Return` with the value or the [`Errno`], `Exit`, or `Block`
//! — the call found nothing to do yet and changed nothing, so the kernel can sleep
//! the process "about to make this call" and simply run it again later
//! (restartable, as the persistence design needs). Arguments are untrusted: every
//! pointer goes through [`crate::user`], every count is bounded, transfers go in
//! page-sized pieces (a 2 GiB `read` never allocates more than a small stack
//! buffer), and nothing here panics.
//!
//! ```
//! use unix::syscall::{native, SyscallResult};
//! # use unix::syscall::testing::TestContext;
//! let mut ctx = TestContext::new(); // a host stand-in for the kernel's context
//! let r = native::dispatch(&mut ctx, unix::abi::nr::GETPID, [0; 6]);
//! assert_eq!(r, SyscallResult::Return(Ok(1)));
//! if let SyscallResult::Return(result) = r {
//!     assert_eq!(native::encode(result), (1, 0)); // eax, edx
//! }
//! ```

pub mod fs;
pub mod ids;
pub mod info;
pub mod mem;
pub mod native;
pub mod pipes;
pub mod proc;
pub mod signals;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

use crate::console::Console;
use crate::errno::Errno;
use crate::exec::ProcessStart;
use crate::file::OpenFiles;
use crate::mm::SpaceAccess;
use crate::process::{Ended, ProcessState, WaitFor};
use crate::system::SystemState;
use crate::user::UserMemory;
use crate::vfs::Vfs;
use alloc::boxed::Box;

/// What a syscall asks the kernel to do next, in personality-neutral terms (the
/// personality encodes it: [`native::encode`] for Phantom's `eax`/`edx`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyscallResult {
    /// Return to user space with this value or error.
    Return(Result<u32, Errno>),
    /// `_exit`: end the process with this status (already `& 0xff`).
    Exit(u8),
    /// Nothing to do yet and nothing changed: sleep until the event, then run the
    /// same call again (rewind to the gate call, registers as at entry).
    Block(BlockOn),
    /// The call raised this signal for the caller, whose action is the default
    /// one: the process ends, killed by it (`SIGPIPE` on a pipe without reader).
    Signal(u32),
}

/// What a blocked call waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockOn {
    /// A line (or end of file) on the console.
    ConsoleInput,
    /// The monotonic clock reaching this many nanoseconds (a sleep).
    Deadline(u64),
    /// One of the caller's children ending (`waitpid`).
    Child,
    /// A change to this pipe (data, room, an end closed).
    Pipe(u32),
    /// Only a signal (`sigsuspend`).
    Signal,
    /// Any pipe changing or a console line (`poll` looks again), or the
    /// monotonic clock reaching the deadline, if any.
    Poll(Option<u64>),
}

impl BlockOn {
    /// Whether a handler with `SA_RESTART` restarts the call (else it fails
    /// with `EINTR`): not for sleeps, `poll` and `sigsuspend`, as on Linux.
    pub fn restartable(self) -> bool {
        matches!(
            self,
            BlockOn::ConsoleInput | BlockOn::Child | BlockOn::Pipe(_)
        )
    }
}

impl SyscallResult {
    /// Success with value `v`.
    pub fn ok(v: u32) -> SyscallResult {
        SyscallResult::Return(Ok(v))
    }

    /// Failure with `e`.
    pub fn err(e: Errno) -> SyscallResult {
        SyscallResult::Return(Err(e))
    }
}

impl From<Result<u32, Errno>> for SyscallResult {
    fn from(r: Result<u32, Errno>) -> Self {
        SyscallResult::Return(r)
    }
}

/// The monotonic clock, lent to calls that bound their own running time.
pub trait Clock {
    /// Nanoseconds since boot.
    fn monotonic_ns(&self) -> u64;
}

/// A clock that stands still at this many nanoseconds (host tests).
impl Clock for u64 {
    fn monotonic_ns(&self) -> u64 {
        *self
    }
}

/// The longest a call keeps working before it returns what it has done: a long
/// transfer (a 400 MiB `read` of `/dev/zero`, a huge `write`) stops after the
/// piece that passes this and returns its partial count, so a timer tick or a
/// deadline is never held off for long (the kernel runs calls with interrupts
/// off).
pub const TIME_SLICE_NS: u64 = 10_000_000;

/// A call's time budget: [`TIME_SLICE_NS`] from its start.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    until: u64,
}

impl Budget {
    /// A budget starting now.
    pub fn start(clock: &dyn Clock) -> Budget {
        Budget {
            until: clock.monotonic_ns().saturating_add(TIME_SLICE_NS),
        }
    }

    /// Whether the call should stop after `done` bytes: it has done something and
    /// its time is up.
    pub fn spent(&self, clock: &dyn Clock, done: usize) -> bool {
        done > 0 && clock.monotonic_ns() >= self.until
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
    /// The monotonic clock.
    pub clock: &'a dyn Clock,
}

/// A live process as `kill` and process groups see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessInfo {
    /// Its pid.
    pub pid: u32,
    /// Its process group.
    pub pgid: u32,
    /// The signals it ignores (bit `n` for signal `n`).
    pub ignored: u32,
    /// The signals it catches with a handler.
    pub caught: u32,
}

/// Everything a syscall may use, provided by the kernel for the calling process
/// (host tests: [`testing::TestContext`]).
pub trait SyscallContext {
    /// Checked access to the caller's memory and its address space (e.g.
    /// [`vm::UserSpace`] lent by the kernel).
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
    /// Whether the kernel's own memory (its heap) is low: calls that may allocate
    /// for the caller then answer `ENOMEM` rather than exhaust it.
    fn kernel_memory_low(&self) -> bool {
        false
    }
    /// Whether it is critically low: even `munmap` (which may split a range) is
    /// refused.
    fn kernel_memory_critical(&self) -> bool {
        false
    }
    /// Borrow the caller's memory, its process state, the open files, the VFS and the
    /// console.
    fn parts(&mut self) -> Parts<'_, Self::Mem<'_>, Self::Term>;
    /// `fork`: make a child that is a copy of the caller — its address space forked,
    /// its registers as at this call, the call returning 0 in it — with Unix state
    /// `state`, and return its pid. On failure `state` comes back with the errno
    /// (`EAGAIN`: no room for a process; `ENOMEM`).
    fn fork_process(&mut self, state: Box<ProcessState>)
        -> Result<u32, (Errno, Box<ProcessState>)>;
    /// `execve`'s machine part: load `image` (an executable's bytes) with `argv`
    /// and `envp` into a new address space and, only when that worked, make it
    /// the caller's (the old one is released), restart the caller at the new
    /// program's entry with its start frame, and name it `name`. On error the
    /// caller's image is untouched.
    fn replace_image(
        &mut self,
        name: &[u8],
        image: &[u8],
        argv: &[&[u8]],
        envp: &[&[u8]],
    ) -> Result<ProcessStart, Errno>;
    /// How many processes exist, zombies included (the user's count for
    /// `RLIMIT_NPROC`: root is the only user).
    fn process_count(&self) -> usize;
    /// Every live process (not the ended ones), the caller included.
    fn process_list(&mut self) -> alloc::vec::Vec<ProcessInfo>;
    /// Live process `pid`, the caller included (`None`: none such).
    fn process_info(&mut self, pid: u32) -> Option<ProcessInfo> {
        self.process_list().into_iter().find(|p| p.pid == pid)
    }
    /// End process `pid` (not the caller) so, now: as if it had exited, its
    /// memory and descriptors released and its parent told.
    fn end_process(&mut self, pid: u32, ended: Ended);
    /// Make `signal` pending for process `pid` (which catches it), and wake it
    /// if it waits in a call (the call is then interrupted or restarted).
    fn post_signal(&mut self, pid: u32, signal: u32);
    /// Process `pid` as `/proc/<pid>` shows it (`None`: no such live process).
    fn process_view(&mut self, pid: u32) -> Option<crate::process::ProcView>;
    /// The caller's `ITIMER_REAL` timer (in its state) was set to expire at
    /// `at_ns` (monotonic): the kernel looks at it then.
    fn alarm_set(&mut self, at_ns: u64);
    /// The system's memory figures, for `/proc/meminfo`.
    fn memory_info(&self) -> crate::system::MemInfo;
    /// `waitpid`'s look at the caller's children (see
    /// [`crate::process::ProcessTable::ended_child`]): an ended one `which`
    /// selects, removed when `take`; `None` while they all run; `ECHILD` without one.
    fn ended_child(&mut self, which: WaitFor, take: bool) -> Result<Option<(u32, Ended)>, Errno>;
}

#[cfg(test)]
mod tests;
