//! Signals: `kill`, `raise`, `signal`, `sigaction`, `sigprocmask`,
//! `sigpending`, `sigsuspend`, `siginterrupt`, `sigaltstack`, and the
//! `ITIMER_REAL` timer that sends `SIGALRM` (`setitimer`, `getitimer`). What a signal does is decided here (its
//! action in the target's [`crate::signal::SignalState`]); the kernel delivers
//! caught signals (it builds the handler's frame on the user stack, see
//! docs/abi.md) and ends processes.

use super::{BlockOn, ProcessInfo, SyscallContext, SyscallResult};
use crate::abi::itimer::ITIMER_REAL;
use crate::abi::sigflags::{
    MINSIGSTKSZ, SA_RESTART, SIG_BLOCK, SIG_SETMASK, SIG_UNBLOCK, SS_DISABLE, SS_ONSTACK,
};
use crate::abi::signal::{SIGKILL, SIGSTOP};
use crate::abi::{Itimerval, Sigaction, StackT};
use crate::errno::Errno;
use crate::process::Ended;
use crate::signal::{terminates, AltStack, SigAction, SIGNAL_MAX, SIG_IGN, UNBLOCKABLE};
use crate::user::{read_user_u32, read_val, write_val, UserPtr};
use alloc::vec::Vec;

/// `kill(pid, sig)`: send `sig` to process `pid` (> 0), to the caller's process
/// group (0), to group `-pid` (< -1), or to every process but pid 1 and the
/// caller (-1). A signal a target catches becomes pending for it (its handler
/// runs when it next returns to user mode; a call it waits in is interrupted);
/// one it ignores (by default or by `signal`) does nothing; any other ends it,
/// killed by the signal — the caller included (then the call does not
/// return). `sig` 0 only checks that a target exists. `EINVAL` for a signal
/// number past 31, `ESRCH` when no process matches.
pub fn kill<C: SyscallContext + ?Sized>(ctx: &mut C, pid: u32, sig: u32) -> SyscallResult {
    if sig > SIGNAL_MAX {
        return SyscallResult::err(Errno::EINVAL);
    }
    let me = ctx.pid();
    if (pid as i32) > 0 {
        // One process: looked up, not searched for.
        let Some(target) = ctx.process_info(pid) else {
            return SyscallResult::err(Errno::ESRCH);
        };
        return match sig != 0 && signal_one(ctx, &target, sig) {
            true => SyscallResult::Signal(sig),
            false => SyscallResult::ok(0),
        };
    }
    let my_group = {
        let p = ctx.parts();
        p.process.pgid.unwrap_or(me)
    };
    let chosen = |p: &ProcessInfo| match pid as i32 {
        -1 => p.pid != 1 && p.pid != me,
        0 => p.pgid == my_group,
        g => p.pgid == g.unsigned_abs(),
    };
    let targets: Vec<ProcessInfo> = ctx.process_list().into_iter().filter(chosen).collect();
    if targets.is_empty() {
        return SyscallResult::err(Errno::ESRCH);
    }
    if sig == 0 {
        return SyscallResult::ok(0);
    }
    let mut caller_dies = false;
    for t in &targets {
        caller_dies |= signal_one(ctx, t, sig);
    }
    if caller_dies {
        SyscallResult::Signal(sig)
    } else {
        SyscallResult::ok(0)
    }
}

/// Sends `sig` (1 to 31) to `target`: pending if it catches it, nothing if it
/// ignores it, else it ends — except the caller, for whom `true` says it must
/// end with `sig` when the call returns.
fn signal_one<C: SyscallContext + ?Sized>(ctx: &mut C, target: &ProcessInfo, sig: u32) -> bool {
    let bit = 1u32 << sig;
    if target.caught & bit != 0 {
        ctx.post_signal(target.pid, sig);
    } else if terminates(sig, target.ignored) {
        if target.pid == ctx.pid() {
            return true;
        }
        ctx.end_process(target.pid, Ended::Killed(sig));
    }
    false
}

/// `raise(sig)`: `kill(getpid(), sig)`.
pub fn raise<C: SyscallContext + ?Sized>(ctx: &mut C, sig: u32) -> SyscallResult {
    let me = ctx.pid();
    kill(ctx, me, sig)
}

/// A signal number whose action may change: 1 to 31 but `SIGKILL`, `SIGSTOP`.
fn settable(sig: u32) -> Result<usize, Errno> {
    if sig == 0 || sig > SIGNAL_MAX || sig == SIGKILL || sig == SIGSTOP {
        return Err(Errno::EINVAL);
    }
    Ok(sig as usize)
}

/// `signal(sig, handler)`: `SIG_DFL` (0), `SIG_IGN` (1) or a handler for
/// `sig` (BSD semantics: `SA_RESTART`); returns the previous handler.
/// `SIGKILL`, `SIGSTOP`, 0 and numbers past 31 are `EINVAL`.
pub fn signal<C: SyscallContext + ?Sized>(
    ctx: &mut C,
    sig: u32,
    handler: u32,
) -> Result<u32, Errno> {
    let i = settable(sig)?;
    let p = ctx.parts();
    let old = p.process.signals.actions[i].handler;
    let action = SigAction {
        handler,
        mask: 0,
        flags: if handler > SIG_IGN { SA_RESTART } else { 0 },
    };
    p.process.signals.set_action(sig, action);
    Ok(old)
}

/// `sigaction(sig, act, oact)`: Phantom's 16-byte `struct sigaction`. `oact`
/// (unless NULL) gets the current action, then `act` (unless NULL) replaces it
/// (`sa_sigaction` with `SA_SIGINFO`, else `sa_handler`). `EINVAL` for a bad
/// signal or for changing `SIGKILL`/`SIGSTOP` (reading them is fine),
/// `EFAULT` for bad pointers (nothing changes).
pub fn sigaction<C: SyscallContext + ?Sized>(
    ctx: &mut C,
    sig: u32,
    act: UserPtr,
    oact: UserPtr,
) -> Result<u32, Errno> {
    if sig == 0 || sig > SIGNAL_MAX {
        return Err(Errno::EINVAL);
    }
    let mut p = ctx.parts();
    let new = if act.is_null() {
        None
    } else {
        settable(sig)?;
        Some(read_val::<Sigaction>(&mut p.mem, act)?)
    };
    if !oact.is_null() {
        let a = p.process.signals.actions[sig as usize];
        let siginfo = a.flags & crate::abi::sigflags::SA_SIGINFO != 0;
        let old = Sigaction {
            sa_handler: if siginfo { 0 } else { a.handler },
            sa_sigaction: if siginfo { a.handler } else { 0 },
            sa_mask: a.mask,
            sa_flags: a.flags,
        };
        write_val(&mut p.mem, oact, &old)?;
    }
    if let Some(new) = new {
        let siginfo = new.sa_flags & crate::abi::sigflags::SA_SIGINFO != 0;
        let handler = if siginfo {
            new.sa_sigaction
        } else {
            new.sa_handler
        };
        let action = SigAction {
            handler,
            mask: new.sa_mask & !UNBLOCKABLE,
            flags: new.sa_flags,
        };
        p.process.signals.set_action(sig, action);
    }
    Ok(0)
}

/// `sigprocmask(how, set, oset)`: `SIG_BLOCK` adds `*set` to the blocked
/// signals, `SIG_UNBLOCK` removes it, `SIG_SETMASK` replaces them (`SIGKILL`
/// and `SIGSTOP` are never blocked); `oset` (unless NULL) gets the old mask;
/// `set` NULL only reads. `EINVAL` for another `how`.
pub fn sigprocmask<C: SyscallContext + ?Sized>(
    ctx: &mut C,
    how: u32,
    set: UserPtr,
    oset: UserPtr,
) -> Result<u32, Errno> {
    let mut p = ctx.parts();
    let old = p.process.signals.blocked;
    let new = if set.is_null() {
        None
    } else {
        let s = read_user_u32(&mut p.mem, set)?;
        Some(match how {
            SIG_BLOCK => old | s,
            SIG_UNBLOCK => old & !s,
            SIG_SETMASK => s,
            _ => return Err(Errno::EINVAL),
        })
    };
    if !oset.is_null() {
        crate::user::copy_to_user(&mut p.mem, oset, &old.to_le_bytes())?;
    }
    if let Some(new) = new {
        p.process.signals.blocked = new & !UNBLOCKABLE & !1;
    }
    Ok(0)
}

/// `sigpending(set)`: the signals sent and blocked, not delivered yet.
pub fn sigpending<C: SyscallContext + ?Sized>(ctx: &mut C, set: UserPtr) -> Result<u32, Errno> {
    let mut p = ctx.parts();
    let pending = p.process.signals.pending & p.process.signals.blocked;
    crate::user::copy_to_user(&mut p.mem, set, &pending.to_le_bytes())?;
    Ok(0)
}

/// `sigaltstack(ss, oss)` (extension 276): `oss` (unless NULL) gets the current
/// alternate stack (`SS_ONSTACK` while a handler runs on it, `SS_DISABLE`
/// without one); `ss` (unless NULL) sets or (`SS_DISABLE`) removes it.
/// `EPERM` while running on it, `ENOMEM` below `MINSIGSTKSZ` (2048 bytes),
/// `EINVAL` for other flags or a stack past 4 GiB.
pub fn sigaltstack<C: SyscallContext + ?Sized>(
    ctx: &mut C,
    ss: UserPtr,
    oss: UserPtr,
) -> Result<u32, Errno> {
    let mut p = ctx.parts();
    let new = if ss.is_null() {
        None
    } else {
        Some(read_val::<StackT>(&mut p.mem, ss)?)
    };
    if !oss.is_null() {
        let signals = &p.process.signals;
        let old = match signals.altstack {
            Some(a) => StackT {
                ss_sp: a.sp,
                ss_size: a.size,
                ss_flags: if signals.on_altstack { SS_ONSTACK } else { 0 },
            },
            None => StackT {
                ss_sp: 0,
                ss_size: 0,
                ss_flags: SS_DISABLE,
            },
        };
        write_val(&mut p.mem, oss, &old)?;
    }
    if let Some(new) = new {
        if p.process.signals.on_altstack {
            return Err(Errno::EPERM);
        }
        p.process.signals.altstack = match new.ss_flags {
            SS_DISABLE => None,
            0 => {
                if new.ss_size < MINSIGSTKSZ {
                    return Err(Errno::ENOMEM);
                }
                new.ss_sp.checked_add(new.ss_size).ok_or(Errno::EINVAL)?;
                Some(AltStack {
                    sp: new.ss_sp,
                    size: new.ss_size,
                })
            }
            _ => return Err(Errno::EINVAL),
        };
    }
    Ok(0)
}

/// `sigsuspend(mask)`: wait for a signal with `*mask` as the blocked set; when a
/// handler ran it fails with `EINTR`, and the old mask is back (the handler's
/// frame saved it). A signal that ends the process ends it. Never restarted.
pub fn sigsuspend<C: SyscallContext + ?Sized>(ctx: &mut C, mask: UserPtr) -> SyscallResult {
    let mut p = ctx.parts();
    // A re-run after a wake-up has the mask in place already.
    if p.process.signals.suspended_mask.is_none() {
        let new = match read_user_u32(&mut p.mem, mask) {
            Ok(m) => m,
            Err(e) => return SyscallResult::err(e),
        };
        let s = &mut p.process.signals;
        s.suspended_mask = Some(s.blocked);
        s.blocked = new & !UNBLOCKABLE & !1;
    }
    if p.process.signals.deliverable().is_some() {
        // Delivered on the way out, with the old mask in its frame.
        return SyscallResult::err(Errno::EINTR);
    }
    SyscallResult::Block(BlockOn::Signal)
}

/// `siginterrupt(sig, flag)`: whether `sig`'s handler interrupts a waiting call
/// (`flag` ≠ 0: `EINTR`) or restarts it (0: `SA_RESTART`). `EINVAL` as
/// `sigaction`.
pub fn siginterrupt<C: SyscallContext + ?Sized>(
    ctx: &mut C,
    sig: u32,
    flag: u32,
) -> Result<u32, Errno> {
    let sig = settable(sig)?;
    let a = &mut ctx.parts().process.signals.actions[sig];
    if flag != 0 {
        a.flags &= !SA_RESTART;
    } else {
        a.flags |= SA_RESTART;
    }
    Ok(0)
}

/// The caller's `ITIMER_REAL` as `getitimer` reports it at `now`.
fn itimer_now(alarm: Option<crate::process::Alarm>, now: u64) -> Itimerval {
    match alarm {
        Some(a) => Itimerval::from_nanos(a.at_ns.saturating_sub(now), a.interval_ns),
        None => Itimerval::from_nanos(0, 0),
    }
}

/// `getitimer(which, curr)`: the time left to the next `SIGALRM` and the
/// period. Only `ITIMER_REAL` (else `EINVAL`).
pub fn getitimer<C: SyscallContext + ?Sized>(
    ctx: &mut C,
    which: u32,
    curr: UserPtr,
) -> Result<u32, Errno> {
    if which != ITIMER_REAL {
        return Err(Errno::EINVAL);
    }
    let now = ctx.monotonic_ns();
    let mut p = ctx.parts();
    let v = itimer_now(p.process.alarm, now);
    write_val(&mut p.mem, curr, &v)?;
    Ok(0)
}

/// `setitimer(which, new, old)`: arm `ITIMER_REAL` to send `SIGALRM` after
/// `new.it_value`, then every `new.it_interval` (0: once); a zero `it_value`
/// disarms it. `old` (unless NULL) gets the previous setting. `EINVAL` for
/// another timer or a bad time (`tv_usec` ∉ [0, 10⁶), negative), `EFAULT`.
/// The timer survives `execve`; a child of `fork` starts without one.
pub fn setitimer<C: SyscallContext + ?Sized>(
    ctx: &mut C,
    which: u32,
    new: UserPtr,
    old: UserPtr,
) -> Result<u32, Errno> {
    if which != ITIMER_REAL {
        return Err(Errno::EINVAL);
    }
    let now = ctx.monotonic_ns();
    let at = {
        let mut p = ctx.parts();
        let v: Itimerval = read_val(&mut p.mem, new)?;
        let (value, interval) = v.valid_nanos().ok_or(Errno::EINVAL)?;
        if !old.is_null() {
            let before = itimer_now(p.process.alarm, now);
            write_val(&mut p.mem, old, &before)?;
        }
        p.process.alarm = (value > 0).then(|| crate::process::Alarm {
            at_ns: now.saturating_add(value),
            interval_ns: interval,
        });
        p.process.alarm.map(|a| a.at_ns)
    };
    if let Some(at) = at {
        ctx.alarm_set(at);
    }
    Ok(0)
}
