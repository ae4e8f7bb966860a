//! The process table: each process's Unix identity (pid, parent, name), its
//! run state and exit status, the round-robin run queue, the zombies waiting
//! for their parent's `waitpid`, re-parenting of orphans, the process limit and
//! the first failure (the status the machine shuts down with). Plain data, tested on
//! the host; the kernel stores its per-process thread context (registers,
//! kernel stack, FPU state, the address space while off the CPU) as the
//! `T` of each entry and does nothing else with processes.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::String;
use alloc::vec::Vec;

/// A process id (1 is the first; 0 means "none", as a parent of boot modules).
pub type Pid = u32;

/// The most processes (zombies included) the table holds: a fork past it is
/// `EAGAIN`, so a fork bomb cannot exhaust the kernel.
pub const PROCESS_MAX: usize = 128;

/// How a process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// `_exit(code)`.
    Exited(u8),
    /// Killed by this signal.
    Killed(u32),
}

impl Ended {
    /// The status `waitpid` stores, as Linux and the BSDs encode it: the exit code
    /// in bits 8–15, or the signal in bits 0–6 (`WIFEXITED`, `WEXITSTATUS`,
    /// `WIFSIGNALED`, `WTERMSIG`).
    pub fn wait_status(self) -> u32 {
        match self {
            Ended::Exited(code) => u32::from(code) << 8,
            Ended::Killed(signal) => signal & 0x7f,
        }
    }

    /// The status a shell shows (`$?`): the exit code, or 128 + the signal.
    pub fn shell_status(self) -> u32 {
        match self {
            Ended::Exited(code) => u32::from(code),
            Ended::Killed(signal) => 128 + signal,
        }
    }
}

/// Which children a `waitpid` waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitFor {
    /// Any child (`pid` -1).
    Any,
    /// This child.
    Pid(Pid),
    /// Any child in this process group (`pid` 0: the caller's; `-pgid`).
    Group(Pid),
}

/// An ended child that its parent has not waited for yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zombie {
    /// Its parent.
    pub ppid: Pid,
    /// Its name.
    pub name: String,
    /// How it ended.
    pub ended: Ended,
    /// The process group it ended in ([`ProcessEntry::group`]).
    pub group: Option<Pid>,
}

/// Where a process is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunState {
    /// On the run queue.
    Ready,
    /// On the CPU (the table's current process).
    Running,
    /// Waiting for [`ProcessTable::wake`].
    Blocked,
    /// Ended so; off the CPU, waiting to be reaped (then a zombie, if its
    /// parent lives and has not waited for it yet).
    Exited(Ended),
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
    /// The process group it ended in, recorded by the kernel when it releases
    /// the process's Unix state (which holds the group while it lives): what
    /// `waitpid(-pgid)` matches once the process has ended.
    pub group: Option<Pid>,
}

/// See the module documentation.
#[derive(Debug)]
pub struct ProcessTable<T> {
    processes: BTreeMap<Pid, ProcessEntry<T>>,
    zombies: BTreeMap<Pid, Zombie>,
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
            zombies: BTreeMap::new(),
            run_queue: VecDeque::new(),
            current: None,
            next_pid: 1,
            first_failure: None,
        }
    }

    /// Add a ready process (at the end of the run queue) and return its pid;
    /// the context back when the table is full ([`PROCESS_MAX`]) or the pids are
    /// exhausted.
    pub fn spawn(&mut self, name: &str, ppid: Pid, context: T) -> Result<Pid, T> {
        if self.processes.len() + self.zombies.len() >= PROCESS_MAX {
            return Err(context);
        }
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
                group: None,
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
    /// so the kernel frees their contexts; one whose parent lives stays as a
    /// zombie until the parent waits for it.
    pub fn reap(&mut self) -> Vec<ProcessEntry<T>> {
        let exited: Vec<Pid> = self
            .processes
            .values()
            .filter(|p| matches!(p.state, RunState::Exited(_)))
            .map(|p| p.pid)
            .collect();
        let gone: Vec<ProcessEntry<T>> = exited
            .into_iter()
            .filter_map(|pid| self.processes.remove(&pid))
            .collect();
        for p in &gone {
            if let RunState::Exited(ended) = p.state {
                if self.is_alive(p.ppid) {
                    self.zombies.insert(
                        p.pid,
                        Zombie {
                            ppid: p.ppid,
                            name: p.name.clone(),
                            ended,
                            group: p.group,
                        },
                    );
                }
            }
        }
        gone
    }

    /// Whether `pid` is a process that has not ended.
    pub fn is_alive(&self, pid: Pid) -> bool {
        self.processes
            .get(&pid)
            .is_some_and(|p| !matches!(p.state, RunState::Exited(_)))
    }

    /// The zombies (ended children not waited for yet).
    pub fn zombies(&self) -> impl Iterator<Item = (Pid, &Zombie)> + '_ {
        self.zombies.iter().map(|(&pid, z)| (pid, z))
    }

    /// `waitpid` for `parent`: an ended child that `which` selects, with how it
    /// ended — removed from the table when `take` (else only looked at);
    /// `Ok(None)` when such children live but none has ended; `Err(())` when
    /// `parent` has no such child (`ECHILD`). An ended child not reaped yet is
    /// taken too (its context dropped here). `group_of` gives a live
    /// process's group (for [`WaitFor::Group`]); an ended one's is recorded.
    #[allow(clippy::result_unit_err)]
    pub fn ended_child(
        &mut self,
        parent: Pid,
        which: WaitFor,
        take: bool,
        group_of: &dyn Fn(Pid) -> Option<Pid>,
    ) -> Result<Option<(Pid, Ended)>, ()> {
        let selected = |pid: Pid, recorded: Option<Pid>| match which {
            WaitFor::Any => true,
            WaitFor::Pid(p) => p == pid,
            WaitFor::Group(g) => recorded.or_else(|| group_of(pid)) == Some(g),
        };
        let zombie = self
            .zombies
            .iter()
            .find(|(&pid, z)| z.ppid == parent && selected(pid, z.group))
            .map(|(&pid, z)| (pid, z.ended));
        if let Some((pid, ended)) = zombie {
            if take {
                self.zombies.remove(&pid);
            }
            return Ok(Some((pid, ended)));
        }
        let mut live = false;
        let mut ended_now = None;
        for p in self.processes.values() {
            if p.ppid != parent || !selected(p.pid, p.group) {
                continue;
            }
            match p.state {
                RunState::Exited(ended) => {
                    ended_now = Some((p.pid, ended));
                    break;
                }
                _ => live = true,
            }
        }
        if let Some((pid, ended)) = ended_now {
            if take {
                self.processes.remove(&pid);
            }
            return Ok(Some((pid, ended)));
        }
        if live {
            Ok(None)
        } else {
            Err(())
        }
    }

    /// What `pid` ending so changes beside its own state: its status counts for
    /// the shutdown when it has no parent (a child's is its parent's business,
    /// through `waitpid`), and its children are re-parented.
    fn note_end(&mut self, pid: Pid, ended: Ended) {
        if self.processes.get(&pid).is_some_and(|p| p.ppid == 0) {
            self.record_status(ended.shell_status());
        }
        self.orphan_children(pid);
    }

    /// `pid` ended: its live children get pid 1 as their parent (or none, when
    /// pid 1 is gone or is `pid` itself), its zombies are forgotten.
    fn orphan_children(&mut self, pid: Pid) {
        let init = if pid != 1 && self.is_alive(1) { 1 } else { 0 };
        for p in self.processes.values_mut() {
            if p.ppid == pid {
                p.ppid = init;
            }
        }
        self.zombies.retain(|_, z| z.ppid != pid);
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
    /// again at the end; `Exited` records a non-zero status of a process
    /// without parent as the first failure and re-parents its children) and
    /// return it. `Running` is not a state to leave in: it is
    /// taken as `Ready`.
    pub fn leave_cpu(&mut self, state: RunState) -> Option<&mut ProcessEntry<T>> {
        let pid = self.current.take()?;
        let state = match state {
            RunState::Running => RunState::Ready,
            s => s,
        };
        match state {
            RunState::Ready => self.run_queue.push_back(pid),
            RunState::Exited(ended) => self.note_end(pid, ended),
            _ => {}
        }
        let p = self.processes.get_mut(&pid)?;
        p.state = state;
        Some(p)
    }

    /// End a live process that is off the CPU (a signal from another process,
    /// or from the console) so, as [`ProcessTable::leave_cpu`] with `Exited`
    /// would: its status counts for the shutdown if it has no parent, its
    /// children are re-parented. Returns it (its context is the kernel's to
    /// free); `None` for the current process, an ended one or an unknown pid.
    pub fn end(&mut self, pid: Pid, ended: Ended) -> Option<&mut ProcessEntry<T>> {
        if self.current == Some(pid) || !self.is_alive(pid) {
            return None;
        }
        self.note_end(pid, ended);
        self.run_queue.retain(|&p| p != pid);
        let p = self.processes.get_mut(&pid)?;
        p.state = RunState::Exited(ended);
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
    pub fn kill_all(&mut self, ended: Ended) -> Vec<&mut ProcessEntry<T>> {
        self.run_queue.clear();
        self.zombies.clear();
        let current = self.current;
        let mut victims: Vec<&mut ProcessEntry<T>> = self
            .processes
            .values_mut()
            .filter(|p| !matches!(p.state, RunState::Exited(_)) && Some(p.pid) != current)
            .collect();
        for p in victims.iter_mut() {
            p.state = RunState::Exited(ended);
            // Nobody waits for them any more.
            p.ppid = 0;
        }
        if !victims.is_empty() {
            self.first_failure.get_or_insert(ended.shell_status());
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
