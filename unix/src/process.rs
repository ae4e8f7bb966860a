//! The per-process state the Unix layer keeps beyond the address space: the fd table
//! and the memory state (break, image span, resource limits). Plain data — ids,
//! addresses, numbers — so it can be saved with the process; the kernel keeps one
//! [`ProcessState`] per pid and lends it to each syscall through
//! [`crate::syscall::Parts`].

use crate::exec::ProcessStart;
use crate::file::{FdTable, OpenFiles};
use crate::mm::ProcessMemory;

/// One process's Unix state. See the module documentation.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProcessState {
    /// Its descriptors.
    pub fds: FdTable,
    /// Its memory state (program break, image span, resource limits).
    pub memory: ProcessMemory,
}

impl ProcessState {
    /// The state of a process `exec` started (`start`) with descriptors `fds`.
    pub fn new(fds: FdTable, start: &ProcessStart) -> ProcessState {
        ProcessState {
            fds,
            memory: ProcessMemory::new(start),
        }
    }

    /// A boot module's state: the console on fds 0–2, the memory of `start`.
    pub fn boot_module(
        open: &mut OpenFiles,
        start: &ProcessStart,
    ) -> Result<ProcessState, crate::Errno> {
        Ok(ProcessState::new(FdTable::with_console(open)?, start))
    }

    /// Release what the process holds outside its address space (its descriptors);
    /// the kernel destroys the address space itself.
    pub fn release(&mut self, open: &mut OpenFiles) {
        self.fds.close_all(open);
    }
}
