//! The Unix personality on the machine: the state every process shares (the
//! VFS, the open file descriptions, the console), each process's fd table,
//! boot modules turned into processes, the syscall context the `unix` crate
//! runs calls in, and serial input fed to the console's line discipline.
//!
//! Locks: [`UNIX`] is taken with interrupts off, before `vmm`'s lock (user
//! copies inside a syscall) and never inside it. Syscalls run with
//! interrupts off (the gate's entry stub clears IF), so the serial interrupt
//! can take [`UNIX`] without deadlock.

use super::process::{self, Pid};
use super::thread::FpuState;
use super::trap::TrapFrame;
use super::{cpu, heap, memory, serial, timer, vmm};
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use kernel::json::JsonLine;
use kernel::multiboot::Module;
use spin::{Mutex, MutexGuard};
use unix::abi::Siginfo;
use unix::console::{ConsoleOutput, Received, Tty};
use unix::exec::{self, BootCommand, PersistentImage, ProcessStart};
use unix::file::{FdTable, OpenFiles};
use unix::mm::{ProcessMemory, SpaceAccess};
use unix::process::{Ended, ProcView, ProcessState, WaitFor};
use unix::signal::UserRegs;
use unix::syscall::{native, Parts, ProcessInfo, SyscallContext, SyscallResult};
use unix::system::SystemState;
use unix::user::{Fault, UserMemory, UserPtr};
use unix::vfs::{RamfsLimits, Vfs};
use unix::wait::WaitQueues;
use unix::Errno;
use vm::{AddressSpace, PhysFrame, UserSpace};

/// Console output: the serial port.
pub struct SerialOut;

impl ConsoleOutput for SerialOut {
    fn write_bytes(&mut self, data: &[u8]) {
        serial::write_bytes(data);
    }
}

/// What every process shares, and the per-process fd tables.
pub struct UnixState {
    vfs: Vfs,
    files: OpenFiles,
    tty: Tty<SerialOut>,
    processes: BTreeMap<Pid, ProcessState>,
    /// System-wide state (the host name).
    system: SystemState,
    /// Blocked processes, by what they wait for.
    waiting: WaitQueues,
    /// Room for the processes a call wakes (kept between calls).
    wake_list: Vec<Pid>,
}

impl UnixState {
    /// Releases the Unix state of ended process `pid` (its descriptors) and
    /// returns whom that wakes: its parent `ppid` if it waits for a child or
    /// catches `SIGCHLD` (which it is sent), the processes waiting on pipes it
    /// held.
    fn process_gone(&mut self, pid: Pid, ppid: Pid) -> Vec<Pid> {
        if let Some(mut process) = self.processes.remove(&pid) {
            // Lock order: Unix, then the process table.
            process::record_group(pid, process.pgid.unwrap_or(pid));
            process.release(&mut self.files);
            unix::syscall::fs::reap_orphans(&mut self.vfs, &self.files);
        }
        self.vfs.remove_process(pid);
        self.waiting.remove(pid);
        let mut woken = Vec::new();
        self.pipe_wakeups(&mut woken);
        if ppid != 0 && self.waiting.child_ended(ppid) {
            woken.push(ppid);
        }
        // SIGCHLD for a parent that catches it (its default is to ignore).
        let sigchld = unix::abi::signal::SIGCHLD;
        let catches = self
            .processes
            .get(&ppid)
            .is_some_and(|p| p.signals.caught() & (1 << sigchld) != 0);
        if catches {
            woken.extend(self.post_signal(ppid, sigchld, process::current_pid()));
        }
        woken
    }

    /// Every live process as `kill` sees it.
    fn process_list(&self) -> Vec<ProcessInfo> {
        self.processes
            .iter()
            .map(|(&pid, p)| process_info(pid, p))
            .collect()
    }

    fn process_info(&self, pid: Pid) -> Option<ProcessInfo> {
        self.processes.get(&pid).map(|p| process_info(pid, p))
    }

    /// Makes `signal` pending for `pid`; a process waiting in a call is woken
    /// (the call is interrupted or restarted when it runs).
    fn post_signal(&mut self, pid: Pid, signal: u32, current: Option<Pid>) -> Option<Pid> {
        let p = self.processes.get_mut(&pid)?;
        p.signals.pending |= 1 << signal;
        SIGNALS_PENDING.store(true, Ordering::Relaxed);
        if Some(pid) == current {
            return None;
        }
        self.waiting.remove(pid);
        Some(pid)
    }

    /// The kernel sends `signal` to process `p` (the console's Ctrl-C, a
    /// timer): pending if it catches it, nothing if it ignores it, else the
    /// process ends (the running one at its next return to ring 3). Returns
    /// whom that wakes.
    fn send_signal(&mut self, p: ProcessInfo, signal: u32, current: Option<Pid>) -> Vec<Pid> {
        if p.caught & (1 << signal) != 0 {
            return self
                .post_signal(p.pid, signal, current)
                .into_iter()
                .collect();
        }
        if !unix::signal::terminates(signal, p.ignored) {
            return Vec::new();
        }
        if Some(p.pid) == current {
            process::kill_current_later(signal);
            return Vec::new();
        }
        self.end_process(p.pid, Ended::Killed(signal))
    }

    /// The `ITIMER_REAL` timers due at `now`: `SIGALRM` to each (re-armed by
    /// its period); returns whom that wakes and the next expiry.
    fn fire_alarms(&mut self, now: u64, current: Option<Pid>) -> (Vec<Pid>, u64) {
        let mut due = Vec::new();
        let mut next = u64::MAX;
        for (&pid, p) in self.processes.iter_mut() {
            let Some(alarm) = p.alarm.as_mut() else {
                continue;
            };
            if alarm.at_ns <= now {
                due.push(pid);
                if alarm.interval_ns == 0 {
                    p.alarm = None;
                    continue;
                }
                // A period missed while nobody looked is not made up.
                let periods = (now - alarm.at_ns) / alarm.interval_ns + 1;
                alarm.at_ns = alarm
                    .at_ns
                    .saturating_add(periods.saturating_mul(alarm.interval_ns));
            }
            next = next.min(alarm.at_ns);
        }
        let mut woken = Vec::new();
        let sigalrm = unix::abi::signal::SIGALRM;
        for pid in due {
            if let Some(info) = self.process_info(pid) {
                woken.extend(self.send_signal(info, sigalrm, current));
            }
        }
        (woken, next)
    }

    /// Ends process `pid` (not the current one) so; returns whom that wakes.
    fn end_process(&mut self, pid: Pid, ended: Ended) -> Vec<Pid> {
        let Some((ppid, name)) = process::end_other(pid, ended) else {
            return Vec::new();
        };
        log::warn!("pid {pid} ({name}) ended: {ended:?}");
        let woken = self.process_gone(pid, ppid);
        process::exit_line(pid, &name, ended);
        woken
    }

    /// The action of a signal that `pid` catches and may take now (pending,
    /// not blocked), which interrupts the call it waits in.
    fn interrupting_action(&mut self, pid: Pid) -> Option<unix::signal::SigAction> {
        let p = self.processes.get_mut(&pid)?;
        let signal = p.signals.deliverable()?;
        let action = p.signals.actions[signal as usize];
        if action.handler <= unix::signal::SIG_IGN {
            return None;
        }
        Some(action)
    }

    /// The processes waiting on pipes that changed since the last look.
    fn pipe_wakeups(&mut self, woken: &mut Vec<Pid>) {
        while let Some(n) = self.files.take_pipe_event() {
            self.waiting.pipe_changed(n, woken);
        }
    }

    fn new() -> UnixState {
        // The RAM file system lives in the kernel heap: a quarter of it at
        // most, so filling /tmp is ENOSPC for the program, never a kernel out
        // of memory (a growing file briefly needs its old and new buffer).
        let (_, heap_bytes) = heap::usage();
        let ramfs_bytes = (heap_bytes / 4).min(RamfsLimits::default().max_bytes);
        let limits = RamfsLimits {
            max_bytes: ramfs_bytes,
            max_file: ramfs_bytes as u64,
            ..RamfsLimits::default()
        };
        UnixState {
            vfs: Vfs::with_ramfs_limits(limits),
            files: OpenFiles::new(),
            tty: Tty::new(SerialOut),
            processes: BTreeMap::new(),
            system: SystemState::default(),
            waiting: WaitQueues::new(),
            wake_list: Vec::new(),
        }
    }
}

/// What `kill` and process groups see of process `pid` in state `p`.
fn process_info(pid: Pid, p: &ProcessState) -> ProcessInfo {
    let (ignored, caught) = p.signals.dispositions();
    ProcessInfo {
        pid,
        pgid: p.pgid.unwrap_or(pid),
        ignored,
        caught,
    }
}

static UNIX: Mutex<Option<UnixState>> = Mutex::new(None);

fn with_unix<R>(f: impl FnOnce(&mut UnixState) -> R) -> R {
    cpu::without_interrupts(|| f(UNIX.lock().get_or_insert_with(UnixState::new)))
}

/// The running process's memory, through the checked copies of `vm`.
pub struct CurrentUser;

impl CurrentUser {
    /// Runs a copy; if it fails on a stack page not grown yet, grows the
    /// stack (as a fault from the program would) and tries again.
    fn copy(
        &mut self,
        addr: UserPtr,
        mut op: impl FnMut(&mut UserSpace<'_>) -> Result<(), Fault>,
    ) -> Result<(), Fault> {
        let mut attempt = || {
            vmm::with_current(|space, ps, m| op(&mut UserSpace::new(space, ps, m))).unwrap_or(Err(
                Fault::Bad {
                    addr: u64::from(addr.0),
                },
            ))
        };
        match attempt() {
            Err(Fault::Bad { addr: at }) if vmm::grow_current_stack(at) => attempt(),
            result => result,
        }
    }
}

impl SpaceAccess for CurrentUser {
    fn with_space<R>(&mut self, f: impl FnOnce(&mut UserSpace<'_>) -> R) -> Option<R> {
        vmm::with_current(|space, ps, m| f(&mut UserSpace::new(space, ps, m)))
    }
}

impl UserMemory for CurrentUser {
    fn read(&mut self, addr: UserPtr, buf: &mut [u8]) -> Result<(), Fault> {
        self.copy(addr, |user| user.read(addr, buf))
    }

    fn write(&mut self, addr: UserPtr, data: &[u8]) -> Result<(), Fault> {
        self.copy(addr, |user| user.write(addr, data))
    }
}

/// The syscall context of the running process. The shared Unix state is
/// locked only when a call needs it (`getpid` does not); syscalls run with
/// interrupts off, so the lock needs no more.
struct Context<'f> {
    pid: Pid,
    state: Option<MutexGuard<'static, Option<UnixState>>>,
    /// The caller's registers at the gate (what a `fork` copies, what an
    /// `execve` restarts).
    frame: &'f mut TrapFrame,
    /// The kernel heap's bytes in use when the call took the Unix lock: what
    /// the call allocates from then on is charged to the caller. Calls that
    /// never take it (`getpid`) allocate nothing and pay nothing.
    heap_at_lock: usize,
}

impl<'a> Context<'a> {
    /// The context of a call `pid` makes with registers `frame` (nothing locked).
    fn new(pid: Pid, frame: &'a mut TrapFrame) -> Context<'a> {
        Context {
            pid,
            state: None,
            frame,
            heap_at_lock: 0,
        }
    }

    /// Takes the Unix lock for the rest of the call (first growing the heap
    /// if it is low: no lock is held yet).
    fn lock(&mut self) -> &mut MutexGuard<'static, Option<UnixState>> {
        if self.state.is_none() {
            heap::grow_if_low();
            self.heap_at_lock = heap::used_bytes();
        }
        self.state.get_or_insert_with(|| UNIX.lock())
    }

    /// The shared Unix state, locked for the rest of the call.
    fn unix(&mut self) -> &mut UnixState {
        self.lock().get_or_insert_with(UnixState::new)
    }
}

impl SyscallContext for Context<'_> {
    type Mem<'b>
        = CurrentUser
    where
        Self: 'b;
    type Term = Tty<SerialOut>;

    fn pid(&self) -> u32 {
        self.pid
    }

    fn ppid(&self) -> u32 {
        process::parent_of(self.pid).unwrap_or(0)
    }

    fn monotonic_ns(&self) -> u64 {
        timer::now_ns()
    }

    fn kernel_memory_low(&self) -> bool {
        heap::low() || heap::over_share(process::heap_charge() as usize)
    }

    fn kernel_memory_critical(&self) -> bool {
        heap::critical()
    }

    fn parts(&mut self) -> Parts<'_, CurrentUser, Tty<SerialOut>> {
        let pid = self.pid;
        let guard = self.lock();
        let UnixState {
            vfs,
            files,
            tty,
            processes,
            system,
            ..
        } = guard.get_or_insert_with(UnixState::new);
        Parts {
            mem: CurrentUser,
            process: processes.entry(pid).or_default(),
            files,
            vfs,
            console: tty,
            system,
            clock: &KernelClock,
        }
    }

    fn fork_process(
        &mut self,
        state: Box<ProcessState>,
    ) -> Result<u32, (Errno, Box<ProcessState>)> {
        // Locks: UNIX (held from here to the end of the call), then vmm's, then
        // the process table's.
        self.unix();
        let heap_before = heap::used_bytes();
        let space = match vmm::fork_current() {
            Some(Ok(space)) => space,
            Some(Err(e)) => return Err((Errno::from(e), state)),
            None => return Err((Errno::ESRCH, state)),
        };
        match process::spawn_forked(space, self.frame) {
            Ok(child) => {
                let unix = self.unix();
                unix.processes.insert(child, *state);
                unix.vfs.add_process(child);
                // What the child's making allocated is the child's to hold.
                let made = heap::used_bytes().saturating_sub(heap_before);
                process::move_heap_charge_to(child, made as u64);
                Ok(child)
            }
            Err(space) => {
                vmm::destroy(space);
                Err((Errno::EAGAIN, state))
            }
        }
    }

    fn replace_image(
        &mut self,
        name: &[u8],
        image: &[u8],
        argv: &[&[u8]],
        envp: &[&[u8]],
    ) -> Result<ProcessStart, Errno> {
        let (space, start) = load_program(image, argv, envp).map_err(|(errno, _)| errno)?;
        if let Some(old) = vmm::activate(space) {
            vmm::destroy(old);
        }
        process::restart_current(self.frame, start.entry, start.esp);
        process::rename_current(&String::from_utf8_lossy(name));
        Ok(start)
    }

    fn process_list(&mut self) -> Vec<ProcessInfo> {
        self.unix().process_list()
    }

    fn process_info(&mut self, pid: u32) -> Option<ProcessInfo> {
        self.unix().process_info(pid)
    }

    fn end_process(&mut self, pid: u32, ended: Ended) {
        let woken = self.unix().end_process(pid, ended);
        for other in woken {
            process::wake(other);
        }
    }

    fn process_count(&self) -> usize {
        process::count()
    }

    fn alarm_set(&mut self, at_ns: u64) {
        NEXT_ALARM_NS.fetch_min(at_ns, Ordering::Relaxed);
    }

    fn post_signal(&mut self, pid: u32, signal: u32) {
        let me = self.pid;
        if let Some(woken) = self.unix().post_signal(pid, signal, Some(me)) {
            process::wake(woken);
        }
    }

    fn process_view(&mut self, pid: u32) -> Option<ProcView> {
        let state = self.unix().processes.get(&pid)?;
        let (pgid, cmdline, brk) = (
            state.pgid.unwrap_or(pid),
            state.cmdline.clone(),
            state.memory.brk,
        );
        let memory = state.memory.clone();
        let (name, run_state, ppid) = process::identity(pid)?;
        let view_space = |space: &AddressSpace, ps: &vm::PersistentSpace| {
            (
                unix::mm::maps_text(space.remap(), &memory).unwrap_or_default(),
                space.remap().len() as u64,
                space.resident_pages(ps).unwrap_or((0, 0)),
            )
        };
        let (maps, ranges, resident) = if process::current_pid() == Some(pid) {
            vmm::with_current(|space, ps, _| view_space(space, ps))?
        } else {
            process::with_space_of(pid, |space| {
                cpu::without_interrupts(|| view_space(space, &vmm::VMM.lock().persistent))
            })?
        };
        Some(ProcView {
            name,
            state: run_state,
            ppid,
            pgid,
            cmdline,
            maps,
            ranges,
            resident,
            brk,
            kernel_heap: process::heap_charge_of(pid).unwrap_or(0),
        })
    }

    fn memory_info(&self) -> unix::system::MemInfo {
        let (resident_pages, frames_held, (forked_windows, frozen_layers)) =
            cpu::without_interrupts(|| {
                let vmm = vmm::VMM.lock();
                let ps = &vmm.persistent;
                (ps.resident_pages(), ps.frames_held(), ps.layer_count())
            });
        let (heap_used, heap_total) = heap::usage();
        let [minor, zero_filled, cow_copied, cow_taken_over, _] = vmm::FAULTS.snapshot();
        unix::system::MemInfo {
            frames_total: memory::total_frames(),
            frames_free: memory::free_frames(),
            resident_pages: resident_pages as u64,
            frames_held: frames_held as u64,
            forked_windows: forked_windows as u64,
            frozen_layers: frozen_layers as u64,
            heap_used: heap_used as u64,
            heap_total: heap_total as u64,
            processes: process::count() as u64,
            faults_minor: minor,
            faults_zero_filled: zero_filled,
            faults_cow_copied: cow_copied,
            faults_cow_taken_over: cow_taken_over,
        }
    }

    fn ended_child(&mut self, which: WaitFor, take: bool) -> Result<Option<(u32, Ended)>, Errno> {
        let parent = self.pid;
        let unix = self.unix();
        let group_of = |pid: Pid| unix.processes.get(&pid).map(|p| p.pgid.unwrap_or(pid));
        process::ended_child(parent, which, take, &group_of).map_err(|()| Errno::ECHILD)
    }
}

/// Runs the syscall the current process made (`eax` = number, arguments on
/// the user stack at `esp`); returns `(eax, edx)`. A call that must wait
/// blocks the process and runs again from the start when woken: it changed
/// nothing, so the process is "about to make this call" meanwhile.
pub fn syscall(frame: &mut TrapFrame) -> (u32, u32) {
    let (nr, esp) = (frame.rax as u32, frame.rsp as u32);
    let Some(pid) = process::current_pid() else {
        return (u32::MAX, unix::Errno::ESRCH.number());
    };
    loop {
        let mut context = Context::new(pid, frame);
        let result = native::dispatch_from_stack(&mut context, nr, esp);
        // A call that never took the Unix lock (`getpid`) changed nothing
        // shared: nothing to look at after it.
        if context.state.is_some() {
            let heap_at_lock = context.heap_at_lock;
            if let Some(state) = context.state.as_mut().and_then(|g| g.as_mut()) {
                // A call may have made a signal pending for its caller (a
                // write to a pipe without reader, a SIGPIPE it catches).
                if state
                    .processes
                    .get(&pid)
                    .is_some_and(|p| p.signals.deliverable().is_some())
                {
                    SIGNALS_PENDING.store(true, Ordering::Relaxed);
                }
                if state.files.has_pipe_events() {
                    // Woken under the Unix lock (the lock order is Unix, then
                    // the process table), from a list that keeps its room.
                    let mut woken = core::mem::take(&mut state.wake_list);
                    state.pipe_wakeups(&mut woken);
                    for other in woken.drain(..) {
                        process::wake(other);
                    }
                    state.wake_list = woken;
                }
            }
            drop(context);
            process::charge_heap(heap::used_bytes() as i64 - heap_at_lock as i64);
        } else {
            drop(context);
        }
        match result {
            SyscallResult::Return(r) => return native::encode(r),
            SyscallResult::Exit(status) => process::exit_current(Ended::Exited(status)),
            SyscallResult::Signal(signal) => {
                process::kill_current(signal, frame.rip, "raised by its system call")
            }
            SyscallResult::Block(on) => {
                with_unix(|state| state.waiting.park(pid, on));
                process::block_current();
                // Woken by a signal it catches: the call is interrupted
                // (EINTR), or starts again after the handler (SA_RESTART: the
                // return address goes back to the `lcall $7, $0`, 7 bytes).
                if let Some(action) = with_unix(|state| state.interrupting_action(pid)) {
                    if action.flags & unix::abi::sigflags::SA_RESTART != 0 && on.restartable() {
                        frame.rip -= GATE_CALL_LEN;
                        return (frame.rax as u32, frame.rdx as u32);
                    }
                    // EINTR, and what the call leaves behind (a nanosleep's
                    // time left at its `rem`).
                    let mut context = Context::new(pid, frame);
                    let result = native::interrupted_from_stack(&mut context, nr, esp);
                    drop(context);
                    if let SyscallResult::Return(r) = result {
                        return native::encode(r);
                    }
                    return native::encode(Err(Errno::EINTR));
                }
            }
        }
    }
}

/// Records a new process's Unix state: the console as fds 0, 1 and 2, its
/// memory state (break, limits) and its arguments (`cmdline`).
fn process_started(pid: Pid, memory: ProcessMemory, cmdline: Vec<u8>) {
    with_unix(|state| match FdTable::with_console(&mut state.files) {
        Ok(fds) => {
            let mut process = ProcessState::with_memory(fds, memory);
            process.cmdline = cmdline;
            state.processes.insert(pid, process);
            state.vfs.add_process(pid);
        }
        Err(e) => log::error!("pid {pid}: no console descriptors: {e}"),
    });
}

/// Releases an ended process's Unix state (its descriptors) and wakes its
/// parent `ppid` if it waits for a child.
pub fn process_ended(pid: Pid, ppid: Pid) {
    for other in with_unix(|state| state.process_gone(pid, ppid)) {
        process::wake(other);
    }
}

/// Length of the call-gate instruction `lcall $7, $0` (a restarted call goes
/// back to it).
const GATE_CALL_LEN: u64 = 7;

/// Whether some process may have a signal pending (checked before taking the
/// Unix lock on every return to ring 3).
static SIGNALS_PENDING: AtomicBool = AtomicBool::new(false);

/// On a return to ring 3 (after a syscall or an interrupt): the lowest
/// pending, unblocked signal of the running process — its default action, or
/// its handler started on a frame pushed on the user stack (or the alternate
/// one).
pub fn deliver_signal(frame: &mut TrapFrame) {
    if !SIGNALS_PENDING.load(Ordering::Relaxed) || !frame.is_user_mode() {
        return;
    }
    let Some(pid) = process::current_pid() else {
        return;
    };
    let next = with_unix(|state| {
        let signal = state.processes.get_mut(&pid).and_then(|p| {
            let Some(signal) = p.signals.deliverable() else {
                p.signals.end_suspend();
                return None;
            };
            p.signals.pending &= !(1 << signal);
            let action = p.signals.actions[signal as usize];
            if action.handler <= unix::signal::SIG_IGN {
                // No handler frame will save sigsuspend's mask.
                p.signals.end_suspend();
            }
            Some((signal, action))
        });
        if !state.processes.values().any(|p| p.signals.pending != 0) {
            SIGNALS_PENDING.store(false, Ordering::Relaxed);
        }
        signal
    });
    let Some((signal, action)) = next else {
        return;
    };
    match action.handler {
        unix::signal::SIG_IGN => {}
        unix::signal::SIG_DFL => {
            if unix::signal::terminates(signal, 0) {
                process::kill_current(signal, frame.rip, "signalled");
            }
        }
        _ => {
            let info = Siginfo {
                si_signo: signal,
                si_code: unix::abi::sigflags::SI_USER,
                ..Siginfo::default()
            };
            if !run_handler(frame, pid, signal, action, &info) {
                process::kill_current(
                    unix::abi::signal::SIGSEGV,
                    frame.rsp,
                    "no room for a signal frame",
                );
            }
        }
    }
}

/// A signal a fault raised (`SIGSEGV` at `addr`, `SIGILL`, `SIGFPE`, …): runs
/// the program's handler when it has one and the signal is not blocked;
/// `false` when the process must end instead.
pub fn deliver_fault_signal(frame: &mut TrapFrame, signal: u32, addr: u32, code: u32) -> bool {
    let Some(pid) = process::current_pid() else {
        return false;
    };
    let action = with_unix(|state| {
        let p = state.processes.get(&pid)?;
        let action = p.signals.actions[signal as usize];
        (action.handler > unix::signal::SIG_IGN && p.signals.blocked & (1 << signal) == 0)
            .then_some(action)
    });
    let Some(action) = action else {
        return false;
    };
    let info = Siginfo {
        si_signo: signal,
        si_code: code,
        si_trapno: frame.vector as u32,
        si_addr: addr,
        ..Siginfo::default()
    };
    run_handler(frame, pid, signal, action, &info)
}

/// Starts the handler `action` of `signal` for the running process `pid`:
/// writes the signal frame (saved registers, mask, FPU image, `siginfo_t`)
/// below its stack (or at the top of its alternate stack), blocks the
/// handler's mask, and points `frame` at the handler. `false` when the frame
/// cannot be written (a bad stack): nothing changed.
fn run_handler(
    frame: &mut TrapFrame,
    pid: Pid,
    signal: u32,
    action: unix::signal::SigAction,
    info: &Siginfo,
) -> bool {
    use unix::abi::sigflags::{SA_NODEFER, SA_ONSTACK, SA_RESETHAND};
    let Some((blocked, on_altstack, altstack)) = with_unix(|state| {
        let s = &mut state.processes.get_mut(&pid)?.signals;
        Some((s.frame_mask(), s.on_altstack, s.altstack))
    }) else {
        return false;
    };
    let switch = action.flags & SA_ONSTACK != 0 && !on_altstack;
    let (top, to_alt) = match altstack {
        Some(a) if switch => (a.sp.saturating_add(a.size), true),
        _ => (frame.rsp as u32, false),
    };
    let regs = UserRegs {
        eax: frame.rax as u32,
        ebx: frame.rbx as u32,
        ecx: frame.rcx as u32,
        edx: frame.rdx as u32,
        esi: frame.rsi as u32,
        edi: frame.rdi as u32,
        ebp: frame.rbp as u32,
        esp: frame.rsp as u32,
        eip: frame.rip as u32,
        eflags: frame.rflags as u32,
    };
    let mut fpu = FpuState::INITIAL;
    fpu.save();
    let Some(image) =
        unix::signal::build_frame(signal, info, &regs, blocked, on_altstack, fpu.bytes(), top)
    else {
        return false;
    };
    if CurrentUser.write(UserPtr(image.esp), &image.bytes).is_err() {
        return false;
    }
    with_unix(|state| {
        if let Some(p) = state.processes.get_mut(&pid) {
            let s = &mut p.signals;
            s.blocked |= action.mask;
            if action.flags & SA_NODEFER == 0 {
                s.blocked |= 1 << signal;
            }
            s.blocked &= !unix::signal::UNBLOCKABLE;
            if action.flags & SA_RESETHAND != 0 {
                s.actions[signal as usize] = unix::signal::SigAction::default();
            }
            s.on_altstack |= to_alt;
        }
    });
    frame.rsp = u64::from(image.esp);
    frame.rip = u64::from(action.handler);
    // The handler starts with the direction flag clear (the i386 ABI) and no
    // single-stepping, and with a fresh FPU state.
    frame.rflags &= !(1 << 10 | 1 << 8);
    FpuState::restore_initial();
    true
}

/// A handler returned (its `ret` fetched from
/// [`unix::signal::SIGRETURN_ADDR`]): the context its frame saved comes back
/// — registers, mask, alternate-stack state, FPU image. A frame the kernel did
/// not write ends the process with `SIGSEGV`.
pub fn sigreturn(frame: &mut TrapFrame) {
    let start = (frame.rsp as u32).wrapping_sub(4);
    let mut bytes = [0u8; unix::signal::FRAME_SIZE as usize];
    let parsed = CurrentUser
        .read(UserPtr(start), &mut bytes)
        .ok()
        .and_then(|()| unix::signal::parse_frame(&bytes));
    let Some((regs, blocked, on_altstack, fpu)) = parsed else {
        process::kill_current(
            unix::abi::signal::SIGSEGV,
            frame.rip,
            "return from a signal handler without its frame",
        );
    };
    let Some(pid) = process::current_pid() else {
        return;
    };
    with_unix(|state| {
        if let Some(p) = state.processes.get_mut(&pid) {
            p.signals.blocked = blocked;
            p.signals.on_altstack = on_altstack;
            if p.signals.deliverable().is_some() {
                SIGNALS_PENDING.store(true, Ordering::Relaxed);
            }
        }
    });
    frame.rax = u64::from(regs.eax);
    frame.rbx = u64::from(regs.ebx);
    frame.rcx = u64::from(regs.ecx);
    frame.rdx = u64::from(regs.edx);
    frame.rsi = u64::from(regs.esi);
    frame.rdi = u64::from(regs.edi);
    frame.rbp = u64::from(regs.ebp);
    frame.rsp = u64::from(regs.esp);
    frame.rip = u64::from(regs.eip);
    frame.rflags = u64::from(regs.eflags);
    FpuState::from_bytes(&fpu).restore();
    // A signal unblocked by the restored mask is taken now.
    deliver_signal(frame);
}

/// Serial input: one byte into the line discipline; a completed line wakes
/// the readers.
pub fn console_input(byte: u8) {
    let current = process::current_pid();
    let woken = with_unix(|state| match state.tty.receive(byte) {
        Received::LineReady => state.waiting.console_ready(),
        Received::Nothing | Received::Signal { pgid: 0, .. } => Vec::new(),
        Received::Signal { signal, pgid } => {
            let mut woken = Vec::new();
            for p in state.process_list() {
                if p.pgid == pgid {
                    woken.extend(state.send_signal(p, signal, current));
                }
            }
            woken
        }
    });
    for pid in woken {
        process::wake(pid);
    }
}

/// The TSC clock, for calls that bound their running time.
struct KernelClock;

impl unix::syscall::Clock for KernelClock {
    fn monotonic_ns(&self) -> u64 {
        timer::now_ns()
    }
}

/// The earliest `ITIMER_REAL` expiry of any process (`u64::MAX`: none); the
/// timer tick looks at the processes' timers only once it has passed.
static NEXT_ALARM_NS: AtomicU64 = AtomicU64::new(u64::MAX);

/// Timer tick: wakes the sleepers whose deadline has passed, sends `SIGALRM`
/// for the timers due. Before the first process there is no Unix state, and
/// none is built here.
pub fn timer_tick() {
    let now = timer::now_ns();
    let current = process::current_pid();
    let woken = cpu::without_interrupts(|| {
        let mut guard = UNIX.lock();
        let Some(state) = guard.as_mut() else {
            return Vec::new();
        };
        let mut woken = state.waiting.deadlines_passed(now);
        if now >= NEXT_ALARM_NS.load(Ordering::Relaxed) {
            let (more, next) = state.fire_alarms(now, current);
            NEXT_ALARM_NS.store(next, Ordering::Relaxed);
            woken.extend(more);
        }
        woken
    });
    for pid in woken {
        process::wake(pid);
    }
}

/// A boot module's bytes, in the direct map.
fn module_bytes(module: &Module) -> &'static [u8] {
    // SAFETY: the memory plan reserves module frames for the whole run (never
    // in the frame allocator or heap), the direct map covers them, and nothing
    // writes them (processes share them copy-on-write: a write copies first).
    unsafe {
        core::slice::from_raw_parts(
            memory::phys_to_virt(module.start) as *const u8,
            module.size() as usize,
        )
    }
}

/// Starts one boot module as a process; on failure reports it and goes on.
/// A module that is not a program (a data file for `/boot`) never becomes a
/// process, so it does not count for the shutdown status.
fn start_module(index: usize, module: &Module) {
    let report = |name: &str, error: &dyn core::fmt::Display, errno: unix::Errno| {
        log::error!("module {index} ({name}): cannot execute: {error}");
        serial::write_line(
            &JsonLine::new("event", "exec_error")
                .u64("module", index as u64)
                .str("name", name)
                .u64("errno", u64::from(errno.number()))
                .str("error", errno.name())
                .str("reason", &alloc::format!("{error}"))
                .finish(),
        );
    };
    let Some(command) = BootCommand::parse(&module.cmdline) else {
        report(
            "?",
            &"the module's command line names no program",
            unix::Errno::ENOENT,
        );
        return;
    };
    let bytes = module_bytes(module);
    heap::grow_if_low();
    if heap::low() {
        // A process costs kernel heap (its kernel stack, tables, Unix state):
        // refuse it rather than run the kernel out of memory.
        return report(
            &command.name,
            &"the kernel's memory is low: no new process",
            unix::Errno::ENOMEM,
        );
    }
    let mut space = match vmm::new_address_space() {
        Ok(space) => space,
        Err(e) => return report(&command.name, &e, unix::Errno::ENOMEM),
    };
    // A name already in /boot (the same program twice) keeps the first.
    let _ = with_unix(|state| state.vfs.add_boot_file(&command.name, bytes));
    let started = cpu::without_interrupts(|| {
        let mut vmm = vmm::VMM.lock();
        let ps = &mut vmm.persistent;
        memory::with_machine(|m| {
            let frames =
                (module.start / 4096..module.end.div_ceil(4096)).filter_map(PhysFrame::from_number);
            let image = PersistentImage::from_frames(ps, bytes, frames)
                .map_err(|e| (alloc::format!("ENOMEM: {e}"), unix::Errno::ENOMEM))?;
            let mut us = UserSpace::new(&mut space, ps, m);
            exec::exec(&image, &command.argv_bytes(), &[], &mut us)
                .map_err(|e| (alloc::format!("{e}"), e.errno()))
        })
    });
    match started {
        Ok(start) => {
            let memory = ProcessMemory::new(&start);
            let cmdline = unix::process::cmdline_of(&command.argv_bytes());
            let Some(pid) = spawn(
                &command.name,
                space,
                start.entry,
                start.esp,
                memory,
                cmdline,
            ) else {
                return report(
                    &command.name,
                    &"no kernel stack for a new process",
                    unix::Errno::ENOMEM,
                );
            };
            log::debug!(
                "module {index}: pid {pid} {:?} entry {:#x}",
                command.argv,
                start.entry
            );
            if start.page_zero_mapped {
                log::warn!(
                    "pid {pid} ({}): code on page 0: page 0 mapped, no null guard for it",
                    command.name
                );
            }
        }
        Err((error, errno)) => {
            vmm::destroy(space);
            report(&command.name, &error, errno);
        }
    }
}

/// Unpacks a boot module that is a `newc` cpio archive into the root file
/// system (`/bin`, `/etc`, …) and reports it as `{"event":"initramfs",…}`.
fn unpack_initramfs(index: usize, bytes: &'static [u8]) {
    let (done, error) = with_unix(|state| state.vfs.unpack_initramfs(bytes));
    if let Some(e) = &error {
        log::error!("module {index}: initramfs: {e} (the files before it are there)");
    }
    let why = error.map(|e| alloc::format!("{e}")).unwrap_or_default();
    serial::write_line(
        &JsonLine::new("event", "initramfs")
            .u64("module", index as u64)
            .u64("added", done.added as u64)
            .u64("skipped", done.skipped as u64)
            .str("error", &why)
            .finish(),
    );
}

/// Loads the executable `image` with `argv` and `envp` into a new address
/// space: the space and where the program starts, or the errno and the reason
/// (the space is released).
fn load_program(
    image: &[u8],
    argv: &[&[u8]],
    envp: &[&[u8]],
) -> Result<(AddressSpace, ProcessStart), (Errno, String)> {
    let mut space =
        vmm::new_address_space().map_err(|e| (Errno::from(e), alloc::format!("{e}")))?;
    let loaded = cpu::without_interrupts(|| {
        let mut vmm = vmm::VMM.lock();
        let ps = &mut vmm.persistent;
        memory::with_machine(|m| {
            let mut us = UserSpace::new(&mut space, ps, m);
            exec::exec(image, argv, envp, &mut us)
        })
    });
    match loaded {
        Ok(start) => Ok((space, start)),
        Err(e) => {
            vmm::destroy(space);
            Err((e.errno(), alloc::format!("{e}")))
        }
    }
}

/// Starts `path` of the root file system as a process with argv `[path]` (the
/// command line's `init=`); reports an `exec_error` when it cannot.
fn start_init(path: &str) {
    let report = |error: &dyn core::fmt::Display, errno: unix::Errno| {
        log::error!("init {path}: cannot execute: {error}");
        serial::write_line(
            &JsonLine::new("event", "exec_error")
                .str("name", path)
                .u64("errno", u64::from(errno.number()))
                .str("error", errno.name())
                .str("reason", &alloc::format!("{error}"))
                .finish(),
        );
    };
    let image = with_unix(|state| {
        let node = state
            .vfs
            .lookup(unix::vfs::PathContext::root(1), path.as_bytes())?;
        let data = state.vfs.file_data(node)?;
        let mut copy = Vec::new();
        copy.try_reserve_exact(data.len())
            .map_err(|_| unix::Errno::ENOMEM)?;
        copy.extend_from_slice(data);
        Ok::<_, unix::Errno>(copy)
    });
    let image = match image {
        Ok(image) => image,
        Err(errno) => return report(&"not in the root file system", errno),
    };
    match load_program(&image, &[path.as_bytes()], &[]) {
        Ok((space, start)) => {
            let name = path.rsplit('/').next().unwrap_or(path);
            let memory = ProcessMemory::new(&start);
            let cmdline = unix::process::cmdline_of(&[path.as_bytes()]);
            if spawn(name, space, start.entry, start.esp, memory, cmdline).is_none() {
                report(&"no kernel stack for a new process", unix::Errno::ENOMEM);
            }
        }
        Err((errno, reason)) => report(&reason, errno),
    }
}

/// Creates a process with console descriptors and the memory state
/// `memory`; `None` (the address space destroyed) when no kernel stack can be
/// had.
pub fn spawn(
    name: &str,
    space: AddressSpace,
    entry: u32,
    esp: u32,
    memory: ProcessMemory,
    cmdline: Vec<u8>,
) -> Option<Pid> {
    match process::spawn(name, space, entry, esp) {
        Ok(pid) => {
            process_started(pid, memory, cmdline);
            Some(pid)
        }
        Err(space) => {
            vmm::destroy(space);
            None
        }
    }
}

/// Turns every boot module into a process (the first is pid 1), runs them
/// all to the end (or to `deadline`, in ns of [`timer::now_ns`], when every process
/// still alive is killed) and returns the shutdown status.
///
/// At the end it reports `{"event":"frames","free_frames":…,"at_start":…}`:
/// with every process gone, every frame they used (pages, page tables) must
/// be free again.
pub fn run_modules(modules: &[Module], init: Option<&str>, deadline: Option<u64>) -> u32 {
    let free_at_start = memory::free_frames();
    for (index, module) in modules.iter().enumerate() {
        let bytes = module_bytes(module);
        if unix::vfs::cpio::is_cpio(bytes) {
            unpack_initramfs(index, bytes);
        } else {
            start_module(index, module);
        }
    }
    if let Some(path) = init {
        start_init(path);
    }
    let status = process::run_until_all_exit(deadline);
    let free_at_end = memory::free_frames();
    if free_at_end != free_at_start {
        log::error!(
            "{} frames leaked by the processes",
            free_at_start.abs_diff(free_at_end)
        );
    }
    serial::write_line(
        &JsonLine::new("event", "frames")
            .u64("free_frames", free_at_end)
            .u64("at_start", free_at_start)
            .finish(),
    );
    status
}
