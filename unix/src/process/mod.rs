//! The per-process state the Unix layer keeps beyond the address space: the fd table,
//! the memory state (break, image span, resource limits), the file-creation mask, the
//! process group and the personality word. Plain data — ids,
//! addresses, numbers — so it can be saved with the process; the kernel keeps one
//! [`ProcessState`] per pid and lends it to each syscall through
//! [`crate::syscall::Parts`].

pub mod table;

pub use table::{Ended, Pid, ProcessEntry, ProcessTable, RunState, WaitFor, Zombie, PROCESS_MAX};

use crate::exec::ProcessStart;
use crate::file::{FdTable, OpenFiles};
use crate::mm::ProcessMemory;
use alloc::string::String;
use alloc::vec::Vec;

/// One process's Unix state. See the module documentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessState {
    /// Its descriptors.
    pub fds: FdTable,
    /// Its memory state (program break, image span, resource limits).
    pub memory: ProcessMemory,
    /// The file-creation mask (`umask`), 9 permission bits.
    pub umask: u32,
    /// Its process group, when set by `setpgid`/`setpgrp` (else its own pid).
    pub pgid: Option<u32>,
    /// The word `personality` stores and reports (0: the native ABI).
    pub personality: u32,
    /// The deadline (monotonic ns) of the sleep the process is in, fixed when the
    /// sleep began, so the re-run call knows when to return.
    pub sleep_until: Option<u64>,
    /// Its signals: actions, blocked and pending sets, alternate stack.
    pub signals: crate::signal::SignalState,
    /// Its arguments, each followed by a NUL (`/proc/<pid>/cmdline`), at most
    /// [`CMDLINE_MAX`] bytes.
    pub cmdline: Vec<u8>,
    /// Its current directory (`chdir`): where relative paths start.
    pub cwd: crate::vfs::NodeId,
    /// The `ITIMER_REAL` timer (`setitimer`, `alarm`), while armed.
    pub alarm: Option<Alarm>,
}

/// An armed `ITIMER_REAL` timer: when it sends `SIGALRM` next and how often after
/// that (monotonic nanoseconds; interval 0: once).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Alarm {
    /// The next expiry.
    pub at_ns: u64,
    /// The period after it (0: none).
    pub interval_ns: u64,
}

/// Most bytes of a process's arguments kept for `/proc/<pid>/cmdline`.
pub const CMDLINE_MAX: usize = 4096;

/// A process as `/proc/<pid>` shows it, gathered by the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcView {
    /// Its name.
    pub name: String,
    /// Where it is in its life.
    pub state: RunState,
    /// Its parent.
    pub ppid: u32,
    /// Its process group.
    pub pgid: u32,
    /// Its arguments (NUL after each).
    pub cmdline: Vec<u8>,
    /// `/proc/<pid>/maps`.
    pub maps: Vec<u8>,
    /// Ranges of its remap table.
    pub ranges: u64,
    /// Pages of its private memory that show a frame, and how many of them are
    /// its own (the rest it shares with a fork relative).
    pub resident: (u64, u64),
    /// Its program break.
    pub brk: u32,
    /// Kernel heap bytes charged to it (what its calls and faults allocated
    /// and kept).
    pub kernel_heap: u64,
}

impl ProcView {
    /// The text of `/proc/<pid>/status`.
    pub fn status_text(&self, pid: u32) -> Vec<u8> {
        let state = match self.state {
            RunState::Running => "R (running)",
            RunState::Ready => "R (ready)",
            RunState::Blocked => "S (sleeping)",
            RunState::Exited(_) => "Z (zombie)",
        };
        let (shown, own) = self.resident;
        alloc::format!(
            "Name:\t{}\nState:\t{state}\nPid:\t{pid}\nPPid:\t{}\nPgid:\t{}\n\
             Ranges:\t{}\nResidentPages:\t{shown}\nOwnPages:\t{own}\nSharedPages:\t{}\n\
             Brk:\t{:#x}\nKernelHeap:\t{} kB\n",
            self.name,
            self.ppid,
            self.pgid,
            self.ranges,
            shown - own.min(shown),
            self.brk,
            self.kernel_heap.div_ceil(1024),
        )
        .into_bytes()
    }
}

/// `args` as `/proc/<pid>/cmdline` keeps them: each followed by a NUL, cut at
/// [`CMDLINE_MAX`] bytes.
pub fn cmdline_of(args: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for a in args {
        if out.len() + a.len() + 1 > CMDLINE_MAX {
            break;
        }
        out.extend_from_slice(a);
        out.push(0);
    }
    out
}

/// The file-creation mask of a new process.
pub const DEFAULT_UMASK: u32 = 0o022;

impl Default for ProcessState {
    fn default() -> Self {
        ProcessState::with_memory(FdTable::default(), ProcessMemory::default())
    }
}

impl ProcessState {
    /// The state of a process `exec` started (`start`) with descriptors `fds`.
    pub fn new(fds: FdTable, start: &ProcessStart) -> ProcessState {
        ProcessState::with_memory(fds, ProcessMemory::new(start))
    }

    /// The state of a process with descriptors `fds` and memory state `memory`; the
    /// other fields as a new process has them.
    pub fn with_memory(fds: FdTable, memory: ProcessMemory) -> ProcessState {
        ProcessState {
            fds,
            memory,
            umask: DEFAULT_UMASK,
            pgid: None,
            personality: 0,
            sleep_until: None,
            signals: crate::signal::SignalState::default(),
            cmdline: Vec::new(),
            cwd: crate::vfs::NodeId::Root,
            alarm: None,
        }
    }

    /// A boot module's state: the console on fds 0–2, the memory of `start`.
    pub fn boot_module(
        open: &mut OpenFiles,
        start: &ProcessStart,
    ) -> Result<ProcessState, crate::Errno> {
        Ok(ProcessState::new(FdTable::with_console(open)?, start))
    }

    /// The state of a child `fork` makes of process `pid`: descriptors sharing the
    /// same open files, the same memory state, limits, mask and personality, in
    /// the same process group and current directory; no sleep in progress and no
    /// timer armed (POSIX: a child's timers are cleared).
    pub fn fork(&self, pid: u32, open: &mut OpenFiles) -> Result<ProcessState, crate::Errno> {
        Ok(ProcessState {
            fds: self.fds.fork(open)?,
            memory: self.memory.clone(),
            umask: self.umask,
            pgid: Some(self.pgid.unwrap_or(pid)),
            personality: self.personality,
            sleep_until: None,
            // A child starts with no pending signal.
            signals: crate::signal::SignalState {
                pending: 0,
                ..self.signals.clone()
            },
            cmdline: self.cmdline.clone(),
            cwd: self.cwd,
            alarm: None,
        })
    }

    /// Where its paths resolve, as process `pid`.
    pub fn paths(&self, pid: u32) -> crate::vfs::PathContext {
        crate::vfs::PathContext { cwd: self.cwd, pid }
    }

    /// How many descriptors it may have open: its `RLIMIT_NOFILE` soft limit, at
    /// most the table's size.
    pub fn fd_limit(&self) -> usize {
        let soft = self.memory.limits[crate::abi::rlimit::RLIMIT_NOFILE as usize].rlim_cur;
        (soft as usize).min(crate::file::FD_MAX)
    }

    /// Release what the process holds outside its address space (its descriptors);
    /// the kernel destroys the address space itself.
    pub fn release(&mut self, open: &mut OpenFiles) {
        self.fds.close_all(open);
    }
}
