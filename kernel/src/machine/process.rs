//! Running processes: the idle context that picks the next process,
//! preemption by the timer, blocking, exit and death by signal, over
//! `unix::process::ProcessTable` (which owns each process's identity, run
//! state and exit status, and the round-robin queue). The kernel keeps only
//! what runs a process: its [`ThreadContext`].
//!
//! Each process has one thread. The idle context is the boot stack: it runs
//! [`run_until_all_exit`], switching to the next ready process and getting
//! control back whenever a process yields, blocks, is preempted or exits.
//! The running process's address space sits in `vmm` as the current one
//! (loaded in CR3); the others keep theirs in their table entry.

use super::thread::{self, FpuState, Thread};
use super::trap::TrapFrame;
use super::{cpu, gdt, serial, vmm};
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use kernel::json::JsonLine;
use spin::Mutex;
use unix::process::{Ended, ProcessTable, RunState};
use vm::{AddressSpace, Segv};

pub use unix::process::Pid;

/// The signals the kernel raises: Phantom's (BSD) numbers, from the one ABI.
use unix::abi::signal::{SIGKILL, SIGSEGV};
use unix::signal::name as signal_name;

/// What the kernel keeps to run a process: its thread (registers on its
/// kernel stack, FPU state) and its address space while it is off the CPU
/// (while it runs, the space is `vmm`'s current one).
pub struct ThreadContext {
    space: Option<AddressSpace>,
    thread: Box<Thread>,
    /// Kernel heap bytes its calls and faults allocated and did not free
    /// (while it runs: [`CURRENT_HEAP_CHARGE`]).
    heap_charge: u64,
}

static TABLE: Mutex<ProcessTable<ThreadContext>> = Mutex::new(ProcessTable::new());

/// The idle context's saved stack pointer.
static IDLE_RSP: AtomicU64 = AtomicU64::new(0);

/// The running process's pid (0: none), readable without the table lock.
static CURRENT_PID: AtomicU32 = AtomicU32::new(0);

/// The running process's kernel-heap charge (see [`charge_heap`]), kept here
/// while it is on the CPU so the syscall path reads it without the table lock.
static CURRENT_HEAP_CHARGE: AtomicU64 = AtomicU64::new(0);

/// Charges the running process with `delta` bytes of kernel heap: what a call
/// or fault of its allocated less what it freed. Approximate by design — a
/// call that frees another's memory (the last close of a shared pipe) lowers
/// the caller's charge, never below 0 — and exact where it matters: memory a
/// process keeps (ranges, page-number nodes, descriptors, snapshots) is
/// charged to the process whose calls made it.
pub fn charge_heap(delta: i64) {
    let now = CURRENT_HEAP_CHARGE.load(Ordering::Relaxed);
    let new = now.saturating_add_signed(delta);
    CURRENT_HEAP_CHARGE.store(new, Ordering::Relaxed);
}

/// The running process's kernel-heap charge, in bytes.
pub fn heap_charge() -> u64 {
    CURRENT_HEAP_CHARGE.load(Ordering::Relaxed)
}

/// Moves `bytes` of the running process's charge to process `child` (the
/// kernel state a fork made for it).
pub fn move_heap_charge_to(child: Pid, bytes: u64) {
    charge_heap(-(bytes.min(i64::MAX as u64) as i64));
    with_table(|t| {
        if let Some(p) = t.get_mut(child) {
            p.context.heap_charge = p.context.heap_charge.saturating_add(bytes);
        }
    });
}

/// Process `pid`'s kernel-heap charge, in bytes.
pub fn heap_charge_of(pid: Pid) -> Option<u64> {
    if current_pid() == Some(pid) {
        return Some(heap_charge());
    }
    with_table(|t| t.get(pid).map(|p| p.context.heap_charge))
}

/// The running process's pid.
pub fn current_pid() -> Option<Pid> {
    Some(CURRENT_PID.load(Ordering::Relaxed)).filter(|&pid| pid != 0)
}

fn with_table<R>(f: impl FnOnce(&mut ProcessTable<ThreadContext>) -> R) -> R {
    cpu::without_interrupts(|| f(&mut TABLE.lock()))
}

/// Creates a ready process that starts in ring 3 at `entry` with stack
/// pointer `user_esp`; gives `space` back when no kernel stack can be had.
pub fn spawn(
    name: &str,
    space: AddressSpace,
    entry: u32,
    user_esp: u32,
) -> Result<Pid, AddressSpace> {
    let frame = TrapFrame {
        rip: u64::from(entry),
        rsp: u64::from(user_esp),
        ..user_frame_template()
    };
    // Boot modules have no parent.
    spawn_thread(name, 0, space, frame, FpuState::initial())
}

/// The registers a process starts with in ring 3 (rip and rsp to fill in).
fn user_frame_template() -> TrapFrame {
    TrapFrame {
        r15: 0,
        r14: 0,
        r13: 0,
        r12: 0,
        r11: 0,
        r10: 0,
        r9: 0,
        r8: 0,
        rbp: 0,
        rdi: 0,
        rsi: 0,
        rdx: 0,
        rcx: 0,
        rbx: 0,
        rax: 0,
        vector: 0,
        error_code: 0,
        rip: 0,
        cs: u64::from(gdt::USER_CODE32),
        rflags: 0x202,
        rsp: 0,
        ss: u64::from(gdt::USER_DATA),
    }
}

/// Creates a ready process, child of `ppid`, that enters ring 3 with `frame`
/// and FPU state `fpu`; gives `space` back when no kernel stack or no table
/// entry can be had.
fn spawn_thread(
    name: &str,
    ppid: Pid,
    space: AddressSpace,
    frame: TrapFrame,
    fpu: Box<FpuState>,
) -> Result<Pid, AddressSpace> {
    let Some(thread) = Thread::new_user(frame, fpu) else {
        return Err(space);
    };
    let context = ThreadContext {
        space: Some(space),
        thread,
        heap_charge: 0,
    };
    with_table(|t| t.spawn(name, ppid, context)).map_err(|context| {
        context
            .space
            .expect("the context given back is the one built above, with the space")
    })
}

/// Creates the child of a `fork` by the current process: its address space
/// `space`, the registers of `frame` (the parent's at the call) with the call
/// returning 0, the parent's FPU state as it is now, the parent's name.
/// Gives `space` back when no kernel stack or table entry can be had.
pub fn spawn_forked(space: AddressSpace, frame: &TrapFrame) -> Result<Pid, AddressSpace> {
    let Some((parent, name)) = current() else {
        return Err(space);
    };
    let mut frame = *frame;
    frame.rax = 0;
    frame.rdx = 0;
    let mut fpu = FpuState::initial();
    fpu.save();
    spawn_thread(&name, parent, space, frame, fpu)
}

/// The idle loop: runs processes until none is left, then returns the
/// shutdown status (0 if every process exited 0, else the first non-zero).
/// At `deadline` (ns since boot, [`super::timer::now_ns`]: the TSC, which keeps
/// counting while interrupts are off) every process still alive is killed.
pub fn run_until_all_exit(deadline: Option<u64>) -> u32 {
    loop {
        cpu::disable_interrupts();
        if deadline.is_some_and(|d| super::timer::now_ns() >= d) {
            kill_all(Ended::Killed(SIGKILL));
        }
        // The idle context holds no lock: a grown heap region gone idle goes
        // back to the frame allocator.
        super::heap::shrink_idle();
        let next = {
            let mut t = TABLE.lock();
            // Reap: an exited process is off the CPU, so its stack can go.
            drop(t.reap());
            if t.is_empty() {
                let status = t.take_shutdown_status();
                drop(t);
                super::heap::shrink_idle();
                cpu::enable_interrupts();
                return status;
            }
            t.run_next().map(|p| {
                CURRENT_PID.store(p.pid, Ordering::Relaxed);
                let context = &mut p.context;
                CURRENT_HEAP_CHARGE.store(context.heap_charge, Ordering::Relaxed);
                if let Some(space) = context.space.take() {
                    vmm::activate(space);
                }
                context.thread.fpu.restore();
                (context.thread.saved_rsp, context.thread.stack_top())
            })
        };
        match next {
            // SAFETY: interrupts are off (disabled at the loop's top); the idle
            // static outlives every switch; `rsp` and `stack_top` are the
            // picked process's, which is alive (only the idle context reaps).
            Some((rsp, stack_top)) => unsafe {
                thread::switch(IDLE_RSP.as_ptr(), rsp, Some(stack_top))
            },
            // Nothing ready: sleep until an interrupt (timer, console) may
            // have woken someone.
            None => cpu::enable_interrupts_and_halt(),
        }
    }
}

/// Kills every process (from the idle context: none is on the CPU).
fn kill_all(ended: Ended) {
    let victims: Vec<_> = with_table(|t| {
        t.kill_all(ended)
            .into_iter()
            .map(|p| (p.pid, p.name.clone(), p.context.space.take()))
            .collect()
    });
    if !victims.is_empty() {
        serial::write_line(
            &JsonLine::new("event", "deadline")
                .u64("at_ns", super::timer::now_ns())
                .u64("killed", victims.len() as u64)
                .finish(),
        );
    }
    for (pid, name, space) in victims {
        log::warn!("pid {pid} ({name}) ended at the deadline: {ended:?}");
        report_exit(pid, 0, &name, ended);
        if let Some(space) = space {
            vmm::destroy(space);
        }
    }
}

/// Reports an exit and releases the process's Unix state (waking its parent
/// `ppid` if it waits for a child).
fn report_exit(pid: Pid, ppid: Pid, name: &str, ended: Ended) {
    super::userland::process_ended(pid, ppid);
    exit_line(pid, name, ended);
}

/// The `{"event":"exit"…}` line.
pub fn exit_line(pid: Pid, name: &str, ended: Ended) {
    serial::write_line(
        &JsonLine::new("event", "exit")
            .u64("pid", u64::from(pid))
            .str("name", name)
            .u64("status", u64::from(ended.shell_status()))
            .finish(),
    );
}

/// Takes the current process off the CPU in `state` and switches to the
/// idle context; returns when the process is scheduled again (never for
/// `Exited`). Interrupts must be off.
fn leave_cpu(state: RunState) {
    let save = {
        let mut t = TABLE.lock();
        let Some(p) = t.leave_cpu(state) else {
            return;
        };
        CURRENT_PID.store(0, Ordering::Relaxed);
        let space = vmm::deactivate();
        let context = &mut p.context;
        context.heap_charge = CURRENT_HEAP_CHARGE.swap(0, Ordering::Relaxed);
        context.thread.fpu.save();
        match state {
            RunState::Exited(_) => {
                if let Some(space) = space {
                    vmm::destroy(space);
                }
            }
            _ => context.space = space,
        }
        &raw mut context.thread.saved_rsp
    };
    // `save` points into the current process's boxed thread, which lives until
    // the idle context reaps it after it has left the CPU; IDLE_RSP was saved
    // by the idle context's own switch, and the idle context never exits.
    // SAFETY: interrupts are off (the callers disable them); both stack
    // pointers belong to live contexts, as said above.
    unsafe { thread::switch(save, IDLE_RSP.load(Ordering::Relaxed), None) };
}

/// Timer tick from ring 3: back to the idle context, which picks the next
/// ready process (round robin; the same one if it is alone) and checks its
/// deadline.
pub fn preempt() {
    leave_cpu(RunState::Ready);
}

/// Blocks the current process until [`wake`].
pub fn block_current() {
    cpu::without_interrupts(|| leave_cpu(RunState::Blocked));
}

/// Makes a blocked process ready again.
pub fn wake(pid: Pid) {
    with_table(|t| t.wake(pid));
}

/// The running process's pid and name.
pub fn current() -> Option<(Pid, String)> {
    with_table(|t| t.current().map(|p| (p.pid, p.name.clone())))
}

/// `waitpid` for `parent` (see `unix::process::ProcessTable::ended_child`);
/// a taken child's context (its kernel stack) is dropped here: it is off the CPU.
#[allow(clippy::result_unit_err)]
pub fn ended_child(
    parent: Pid,
    which: unix::process::WaitFor,
    take: bool,
    group_of: &dyn Fn(Pid) -> Option<Pid>,
) -> Result<Option<(Pid, Ended)>, ()> {
    with_table(|t| t.ended_child(parent, which, take, group_of))
}

/// Records the process group `pid` ends in (its Unix state, which held it,
/// is being released), for `waitpid(-pgid)`.
pub fn record_group(pid: Pid, pgid: Pid) {
    with_table(|t| {
        if let Some(p) = t.get_mut(pid) {
            p.group = Some(pgid);
        }
    });
}

/// Makes the current process, in a syscall whose registers are `frame`, start
/// over in ring 3 at `entry` with stack pointer `esp` (an `execve`): every
/// other register cleared, the FPU state a new process's.
pub fn restart_current(frame: &mut TrapFrame, entry: u32, esp: u32) {
    *frame = TrapFrame {
        rip: u64::from(entry),
        rsp: u64::from(esp),
        rflags: 0x202,
        ..user_frame_template()
    };
    FpuState::restore_initial();
}

/// Renames the current process (its program changed).
pub fn rename_current(name: &str) {
    with_table(|t| {
        if let Some(pid) = t.current().map(|p| p.pid) {
            if let Some(p) = t.get_mut(pid) {
                p.name = name.into();
            }
        }
    });
}

/// Ends process `pid`, which is not on the CPU, so (a signal from another
/// process or the console): its address space is destroyed here; returns its
/// parent and name for the caller to release its Unix state and report it.
/// `None` when it is the current process, has ended or does not exist.
pub fn end_other(pid: Pid, ended: Ended) -> Option<(Pid, String)> {
    let (ppid, name, space) = with_table(|t| {
        let p = t.end(pid, ended)?;
        Some((p.ppid, p.name.clone(), p.context.space.take()))
    })?;
    if let Some(space) = space {
        vmm::destroy(space);
    }
    Some((ppid, name))
}

/// A signal that ends the current process at its next return to ring 3 (the
/// console's Ctrl-C arrives in an interrupt while it runs); 0: none.
static PENDING_KILL: AtomicU32 = AtomicU32::new(0);

/// Ends the current process with `signal` when it next returns to ring 3.
pub fn kill_current_later(signal: u32) {
    PENDING_KILL.store(signal, Ordering::Relaxed);
}

/// At a return to ring 3 from an interrupt: the kill [`kill_current_later`]
/// asked for, if any.
pub fn deliver_pending_kill() {
    let signal = PENDING_KILL.swap(0, Ordering::Relaxed);
    if signal != 0 && current_pid().is_some() {
        kill_current(signal, 0, "signalled");
    }
}

/// Process `pid`'s name, run state and parent.
pub fn identity(pid: Pid) -> Option<(String, RunState, Pid)> {
    with_table(|t| t.get(pid).map(|p| (p.name.clone(), p.state, p.ppid)))
}

/// Runs `f` on the address space of process `pid`, which is off the CPU.
pub fn with_space_of<R>(pid: Pid, f: impl FnOnce(&AddressSpace) -> R) -> Option<R> {
    with_table(|t| t.get(pid)?.context.space.as_ref().map(f))
}

/// Number of processes (zombies included).
pub fn count() -> usize {
    with_table(|t| t.len() + t.zombies().count())
}

/// The parent of process `pid` (0 for a boot module).
pub fn parent_of(pid: Pid) -> Option<Pid> {
    with_table(|t| t.get(pid).map(|p| p.ppid))
}

/// Ends the current process so; never returns.
pub fn exit_current(ended: Ended) -> ! {
    cpu::disable_interrupts();
    if let Some((pid, name)) = current() {
        report_exit(pid, parent_of(pid).unwrap_or(0), &name, ended);
    }
    // Records a non-zero status as the first failure.
    leave_cpu(RunState::Exited(ended));
    unreachable!("an exited process was scheduled again");
}

/// Kills the current process with `signal`, naming the address and reason.
pub fn kill_current(signal: u32, addr: u64, reason: &str) -> ! {
    if let Some((pid, name)) = current() {
        log::warn!(
            "pid {pid} ({name}) killed by {}: {reason} at {addr:#x}",
            signal_name(signal)
        );
        serial::write_line(
            &JsonLine::new("event", "signal")
                .u64("pid", u64::from(pid))
                .str("name", &name)
                .u64("signal", u64::from(signal))
                .str("signame", signal_name(signal))
                .hex("addr", addr)
                .str("reason", reason)
                .finish(),
        );
    }
    exit_current(Ended::Killed(signal))
}

/// A page fault the address space refuses: `SIGSEGV` for the program's
/// handler (`si_addr` the address), or the end of the process, the reason
/// naming the guard ("guard page above break", "stack limit …", "guard page
/// above the stack top") from its remap table.
pub fn signal_for_fault(frame: &mut TrapFrame, segv: Segv) {
    let code = if segv.reason == vm::SegvReason::Unmapped {
        unix::abi::sigflags::SEGV_MAPERR
    } else {
        unix::abi::sigflags::SEGV_ACCERR
    };
    if super::userland::deliver_fault_signal(frame, SIGSEGV, segv.addr as u32, code) {
        return;
    }
    let reason = vmm::with_current(|space, _, _| unix::mm::describe_segv(space.remap(), &segv))
        .unwrap_or(segv.reason.description());
    kill_current(SIGSEGV, segv.addr, reason)
}

/// Any other exception raised in ring 3: its signal for the program's
/// handler, or the end of the process.
pub fn user_exception(frame: &mut TrapFrame) {
    let signal = unix::signal::for_exception(frame.vector);
    if super::userland::deliver_fault_signal(frame, signal, frame.rip as u32, 0) {
        return;
    }
    let reason = super::trap::exception_name(frame.vector);
    kill_current(signal, frame.rip, reason)
}
