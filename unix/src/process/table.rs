//! The process table: each process's Unix identity (pid, parent, name), its
//! run state and exit status, the round-robin run queue and the first
//! failure (the status the machine shuts down with). Plain data, tested on
//! the host; the kernel stores its per-process thread context (registers,
//! kernel stack, FPU state, the address space while off the CPU) as the
//! `T` of each entry and does nothing else with processes.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::String;
use alloc::vec::Vec;

/// A process id (1 is the first; 0 means "none", as a parent of boot modules).
pub type Pid = u32;

/// Where a process is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunState {
    /// On the run queue.
    Ready,
    /// On the CPU (the table's current process).
    Running,
    /// Waiting for [`ProcessTable::wake`].
    Blocked,
    /// Ended with this status (exit status, or 128 + signal); off the CPU,
    /// waiting to be reaped.
    Exited(u32),
}

/// One process: identity, run state and the kernel's context for it.
#[derive(Debug)]
pub struct ProcessEntry<T> {
    /// Its id.
    pub pid: Pid,
    /// Its parent's id (0 for a boot module).
    pub ppid: Pid,
    /// Its name (the program's base name).
    pub name: String,
    /// Where it is in its life.
    pub state: RunState,
    /// What the kernel keeps to run it.
    pub context: T,
}

/// See the module documentation.
#[derive(Debug)]
pub struct ProcessTable<T> {
    processes: BTreeMap<Pid, ProcessEntry<T>>,
    run_queue: VecDeque<Pid>,
    current: Option<Pid>,
    next_pid: Pid,
    first_failure: Option<u32>,
}

impl<T> Default for ProcessTable<T> {
    fn default() -> Self {
        ProcessTable::new()
    }
}

impl<T> ProcessTable<T> {
    /// An empty table; the first pid is 1.
    pub const fn new() -> ProcessTable<T> {
        ProcessTable {
            processes: BTreeMap::new(),
            run_queue: VecDeque::new(),
            current: None,
            next_pid: 1,
            first_failure: None,
        }
    }

    /// Add a ready process (at the end of the run queue) and return its pid;
    /// the context back when the pids are exhausted.
    pub fn spawn(&mut self, name: &str, ppid: Pid, context: T) -> Result<Pid, T> {
        let pid = self.next_pid;
        let Some(next) = pid.checked_add(1) else {
            return Err(context);
        };
        self.next_pid = next;
        self.processes.insert(
            pid,
            ProcessEntry {
                pid,
                ppid,
                name: name.into(),
                state: RunState::Ready,
                context,
            },
        );
        self.run_queue.push_back(pid);
        Ok(pid)
    }

    /// Whether no process is left (exited ones count until reaped).
    pub fn is_empty(&self) -> bool {
        self.processes.is_empty()
    }

    /// Number of processes (exited ones count until reaped).
    pub fn len(&self) -> usize {
        self.processes.len()
    }

    /// The process `pid`.
    pub fn get(&self, pid: Pid) -> Option<&ProcessEntry<T>> {
        self.processes.get(&pid)
    }

    /// The process `pid`, mutable.
    pub fn get_mut(&mut self, pid: Pid) -> Option<&mut ProcessEntry<T>> {
        self.processes.get_mut(&pid)
    }

    /// The process on the CPU.
    pub fn current(&self) -> Option<&ProcessEntry<T>> {
        self.processes.get(&self.current?)
    }

    /// Remove every exited process (they are off the CPU) and return them,
    /// so the kernel frees their contexts.
    pub fn reap(&mut self) -> Vec<ProcessEntry<T>> {
        let exited: Vec<Pid> = self
            .processes
            .values()
            .filter(|p| matches!(p.state, RunState::Exited(_)))
            .map(|p| p.pid)
            .collect();
        exited
            .into_iter()
            .filter_map(|pid| self.processes.remove(&pid))
            .collect()
    }

    /// Put the next ready process on the CPU: it becomes current and
    /// `Running`. `None` when none is ready (or one is already running).
    pub fn run_next(&mut self) -> Option<&mut ProcessEntry<T>> {
        if self.current.is_some() {
            return None;
        }
        while let Some(pid) = self.run_queue.pop_front() {
            let Some(p) = self.processes.get_mut(&pid) else {
                continue;
            };
            if p.state != RunState::Ready {
                continue;
            }
            p.state = RunState::Running;
            self.current = Some(pid);
            return self.processes.get_mut(&pid);
        }
        None
    }

    /// Take the current process off the CPU in `state` (`Ready` queues it
    /// again at the end; `Exited` records a non-zero status as the first
    /// failure) and return it. `Running` is not a state to leave in: it is
    /// taken as `Ready`.
    pub fn leave_cpu(&mut self, state: RunState) -> Option<&mut ProcessEntry<T>> {
        let pid = self.current.take()?;
        let state = match state {
            RunState::Running => RunState::Ready,
            s => s,
        };
        match state {
            RunState::Ready => self.run_queue.push_back(pid),
            RunState::Exited(status) => self.record_status(status),
            _ => {}
        }
        let p = self.processes.get_mut(&pid)?;
        p.state = state;
        Some(p)
    }

    /// Make a blocked process ready again (at the end of the run queue).
    /// Anything else is unchanged. Returns whether it woke.
    pub fn wake(&mut self, pid: Pid) -> bool {
        match self.processes.get_mut(&pid) {
            Some(p) if p.state == RunState::Blocked => {
                p.state = RunState::Ready;
                self.run_queue.push_back(pid);
                true
            }
            _ => false,
        }
    }

    /// End every live process that is off the CPU with `status` (the
    /// deadline: called from the idle context, so none is running) and return
    /// them. The run queue empties.
    pub fn kill_all(&mut self, status: u32) -> Vec<&mut ProcessEntry<T>> {
        self.run_queue.clear();
        let current = self.current;
        let mut victims: Vec<&mut ProcessEntry<T>> = self
            .processes
            .values_mut()
            .filter(|p| !matches!(p.state, RunState::Exited(_)) && Some(p.pid) != current)
            .collect();
        for p in victims.iter_mut() {
            p.state = RunState::Exited(status);
        }
        if !victims.is_empty() {
            self.first_failure.get_or_insert(status);
        }
        victims
    }

    /// Note an exit status: the first non-zero one is the shutdown status.
    fn record_status(&mut self, status: u32) {
        if status != 0 {
            self.first_failure.get_or_insert(status);
        }
    }

    /// The shutdown status: the first non-zero exit status, else 0.
    pub fn shutdown_status(&self) -> u32 {
        self.first_failure.unwrap_or(0)
    }

    /// The shutdown status, forgotten: the table then counts failures anew
    /// (the idle loop returns it when the last process is gone, and may be
    /// started again for another set of processes).
    pub fn take_shutdown_status(&mut self) -> u32 {
        self.first_failure.take().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests;
