//! Wait queues: which processes are blocked, keyed by what they wait for
//! ([`BlockOn`]): a console line, a child's end, a pipe, a deadline of the monotonic
//! clock, any of those (`poll`), or only a signal (`sigsuspend`: no queue; a signal
//! wakes any waiter). Plain data
//! (pids and nanoseconds). The kernel parks a process here when its call returns
//! `Block`, and wakes what an event releases: a line completed on the console, the
//! clock passing deadlines, a process ending.

use crate::syscall::BlockOn;
use alloc::collections::BTreeSet;
use alloc::vec::Vec;

/// See the module documentation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WaitQueues {
    console: Vec<u32>,
    /// Parents in `waitpid`.
    parents: Vec<u32>,
    /// `(pipe, pid)`: readers of an empty pipe, writers of a full one.
    pipes: Vec<(u32, u32)>,
    /// `(deadline, pid)`, earliest first.
    deadlines: BTreeSet<(u64, u32)>,
    /// In `poll`: woken by any pipe change or console line (and their deadline,
    /// if any, in `deadlines`).
    pollers: Vec<u32>,
}

impl WaitQueues {
    /// Empty queues.
    pub fn new() -> WaitQueues {
        WaitQueues::default()
    }

    /// Park `pid` until `on` happens. A process waits for one thing at a time: an
    /// earlier entry of the same pid is replaced.
    pub fn park(&mut self, pid: u32, on: BlockOn) {
        self.remove(pid);
        match on {
            BlockOn::ConsoleInput => self.console.push(pid),
            BlockOn::Child => self.parents.push(pid),
            BlockOn::Pipe(n) => self.pipes.push((n, pid)),
            BlockOn::Deadline(at) => {
                self.deadlines.insert((at, pid));
            }
            BlockOn::Poll(deadline) => {
                self.pollers.push(pid);
                if let Some(at) = deadline {
                    self.deadlines.insert((at, pid));
                }
            }
            BlockOn::Signal => {}
        }
    }

    /// Every poller, woken by an event: out of the queues (their deadlines too).
    fn take_pollers(&mut self, woken: &mut Vec<u32>) {
        if self.pollers.is_empty() {
            return;
        }
        let pollers = core::mem::take(&mut self.pollers);
        self.deadlines.retain(|(_, p)| !pollers.contains(p));
        woken.extend(pollers);
    }

    /// A console line (or end of file) arrived: every reader, in the order they came.
    pub fn console_ready(&mut self) -> Vec<u32> {
        let mut woken = core::mem::take(&mut self.console);
        self.take_pollers(&mut woken);
        woken
    }

    /// A child of `parent` ended: whether `parent` was waiting (it is no more).
    pub fn child_ended(&mut self, parent: u32) -> bool {
        let before = self.parents.len();
        self.parents.retain(|&p| p != parent);
        self.parents.len() != before
    }

    /// Pipe `n` changed: everyone waiting on it, in the order they came, is
    /// appended to `woken`.
    pub fn pipe_changed(&mut self, n: u32, woken: &mut Vec<u32>) {
        self.pipes.retain(|&(p, pid)| {
            if p == n {
                woken.push(pid);
            }
            p != n
        });
        self.take_pollers(woken);
    }

    /// The clock reads `now_ns`: every sleeper whose deadline has passed, earliest
    /// first.
    pub fn deadlines_passed(&mut self, now_ns: u64) -> Vec<u32> {
        let mut due = Vec::new();
        while let Some(&(at, pid)) = self.deadlines.first() {
            if at > now_ns {
                break;
            }
            self.deadlines.pop_first();
            due.push(pid);
        }
        if !due.is_empty() && !self.pollers.is_empty() {
            self.pollers.retain(|p| !due.contains(p));
        }
        due
    }

    /// The earliest deadline anyone waits for.
    pub fn next_deadline(&self) -> Option<u64> {
        self.deadlines.first().map(|&(at, _)| at)
    }

    /// Forget `pid` (it ended).
    pub fn remove(&mut self, pid: u32) {
        self.console.retain(|&p| p != pid);
        self.parents.retain(|&p| p != pid);
        self.pipes.retain(|&(_, p)| p != pid);
        self.deadlines.retain(|&(_, p)| p != pid);
        self.pollers.retain(|&p| p != pid);
    }

    /// How many processes wait.
    pub fn len(&self) -> usize {
        let timed_pollers = self
            .deadlines
            .iter()
            .filter(|(_, p)| self.pollers.contains(p));
        self.console.len()
            + self.parents.len()
            + self.pipes.len()
            + self.deadlines.len()
            + self.pollers.len()
            - timed_pollers.count()
    }

    /// True when nobody waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queues_release_what_each_event_releases() {
        let mut q = WaitQueues::new();
        q.park(1, BlockOn::ConsoleInput);
        q.park(2, BlockOn::Deadline(50));
        q.park(3, BlockOn::Deadline(10));
        q.park(4, BlockOn::ConsoleInput);
        assert_eq!(q.len(), 4);
        assert_eq!(q.next_deadline(), Some(10));
        assert_eq!(q.deadlines_passed(9), Vec::<u32>::new());
        assert_eq!(q.deadlines_passed(10), [3]);
        assert_eq!(q.console_ready(), [1, 4]);
        assert_eq!(q.console_ready(), Vec::<u32>::new());
        // Re-parking replaces; removal forgets.
        q.park(2, BlockOn::ConsoleInput);
        assert_eq!(q.deadlines_passed(u64::MAX), Vec::<u32>::new());
        q.remove(2);
        assert!(q.is_empty());
    }

    #[test]
    fn pollers_wake_on_any_event_once() {
        let mut q = WaitQueues::new();
        q.park(1, BlockOn::Poll(Some(100)));
        q.park(2, BlockOn::Poll(None));
        q.park(3, BlockOn::Pipe(7));
        q.park(4, BlockOn::Signal);
        assert_eq!(q.len(), 3, "sigsuspend waits in no queue");
        // Another pipe: the pollers look again, and their deadline goes.
        let mut woken = Vec::new();
        q.pipe_changed(8, &mut woken);
        assert_eq!(woken, [1, 2]);
        assert_eq!(q.deadlines_passed(u64::MAX), Vec::<u32>::new());
        assert_eq!(q.len(), 1);
        // A deadline wakes its poller only, out of the poll queue too.
        q.park(1, BlockOn::Poll(Some(100)));
        q.park(2, BlockOn::Poll(None));
        assert_eq!(q.deadlines_passed(100), [1]);
        assert_eq!(q.console_ready(), [2]);
        woken.clear();
        q.pipe_changed(7, &mut woken);
        assert_eq!(woken, [3]);
        assert!(q.is_empty());
    }
}
