//! Information and time syscalls: `uname`, `gethostname`/`sethostname`, `time`,
//! `gettimeofday`, `clock_gettime`, and the sleeps `sleepmsec`/`nanosleep` (the
//! page size is answered inline by [`super::dispatch`]).

use super::{BlockOn, SyscallContext, SyscallResult};
use crate::abi::{clock, Timespec, Timeval, HOST_NAME_MAX};
use crate::errno::Errno;
use crate::user::{copy_from_user, copy_to_user, read_val, write_val, UserPtr};

/// `uname(buf)`: Phantom's `struct utsname` (six fields of 257 bytes); the node name
/// is the host name.
pub fn uname<C: SyscallContext + ?Sized>(ctx: &mut C, buf: UserPtr) -> Result<u32, Errno> {
    let p = ctx.parts();
    let u = p.system.names.utsname(p.system.hostname());
    let mut mem = p.mem;
    write_val(&mut mem, buf, &u)?;
    Ok(0)
}

/// `gethostname(buf, len)`: the name and its NUL; `len` too small for both is
/// `ENAMETOOLONG` (Phantom's error), nothing written.
pub fn gethostname<C: SyscallContext + ?Sized>(
    ctx: &mut C,
    buf: UserPtr,
    len: u32,
) -> Result<u32, Errno> {
    let mut p = ctx.parts();
    let name = p.system.hostname();
    if (len as usize) <= name.len() {
        return Err(Errno::ENAMETOOLONG);
    }
    let mut out = [0u8; HOST_NAME_MAX + 1];
    out[..name.len()].copy_from_slice(name);
    copy_to_user(&mut p.mem, buf, &out[..=name.len()])?;
    Ok(0)
}

/// `sethostname(name, len)`: `len` bytes (not NUL-terminated); longer than
/// [`HOST_NAME_MAX`] is `ENAMETOOLONG`, a NUL inside is `EINVAL`.
pub fn sethostname<C: SyscallContext + ?Sized>(
    ctx: &mut C,
    name: UserPtr,
    len: u32,
) -> Result<u32, Errno> {
    if len as usize > HOST_NAME_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    let mut p = ctx.parts();
    let mut buf = [0u8; HOST_NAME_MAX];
    let buf = &mut buf[..len as usize];
    copy_from_user(&mut p.mem, name, buf)?;
    p.system.set_hostname(buf)?;
    Ok(0)
}

/// `time(tloc)`: seconds of the realtime clock; the 64-bit `time_t` is also stored
/// at `tloc` (8 bytes) unless `tloc` is NULL. `eax` holds the low 32 bits.
pub fn time<C: SyscallContext + ?Sized>(ctx: &mut C, tloc: UserPtr) -> Result<u32, Errno> {
    let secs = ctx.realtime_ns() / 1_000_000_000;
    if !tloc.is_null() {
        copy_to_user(&mut ctx.parts().mem, tloc, &secs.to_le_bytes())?;
    }
    Ok(secs as u32)
}

/// `gettimeofday(tv, tz)`: the realtime clock as a `struct timeval` (two `long`s);
/// `tv` NULL stores nothing; `tz` is ignored (no time zones).
pub fn gettimeofday<C: SyscallContext + ?Sized>(ctx: &mut C, tv: UserPtr) -> Result<u32, Errno> {
    if !tv.is_null() {
        let now = Timeval::from_ns(ctx.realtime_ns());
        write_val(&mut ctx.parts().mem, tv, &now)?;
    }
    Ok(0)
}

/// `clock_gettime(clockid, tp)`: `CLOCK_REALTIME` or `CLOCK_MONOTONIC`, else `EINVAL`.
pub fn clock_gettime<C: SyscallContext + ?Sized>(
    ctx: &mut C,
    clockid: u32,
    tp: UserPtr,
) -> Result<u32, Errno> {
    let ns = match clockid {
        clock::CLOCK_REALTIME => ctx.realtime_ns(),
        clock::CLOCK_MONOTONIC => ctx.monotonic_ns(),
        _ => return Err(Errno::EINVAL),
    };
    write_val(&mut ctx.parts().mem, tp, &Timespec::from_ns(ns))?;
    Ok(0)
}

/// `sleepmsec(msec)` (Phantom's): sleep `msec` milliseconds; negative is `EINVAL`.
pub fn sleepmsec<C: SyscallContext + ?Sized>(ctx: &mut C, msec: u32) -> SyscallResult {
    if (msec as i32) < 0 {
        return SyscallResult::err(Errno::EINVAL);
    }
    sleep(ctx, u64::from(msec) * 1_000_000)
}

/// `nanosleep(req, rem)`: sleep for the `struct timespec` at `req` (Phantom's two
/// `long`s); a negative or ≥ 10⁹ `tv_nsec`, or a negative `tv_sec`, is `EINVAL`.
/// A caught signal interrupts it with `EINTR` (never restarted), and the time
/// it had left is then stored at `rem` unless NULL ([`store_remaining`]).
pub fn nanosleep<C: SyscallContext + ?Sized>(ctx: &mut C, req: UserPtr) -> SyscallResult {
    // A sleep in progress has read its request already (the call is re-run when it
    // wakes): go straight on, as the deadline was fixed at the first entry.
    if ctx.parts().process.sleep_until.is_some() {
        return sleep(ctx, 0);
    }
    let ts: Timespec = match read_val(&mut ctx.parts().mem, req) {
        Ok(ts) => ts,
        Err(e) => return SyscallResult::err(e),
    };
    match ts.valid_nanos() {
        Some(ns) => sleep(ctx, ns),
        None => SyscallResult::err(Errno::EINVAL),
    }
}

/// An interrupted `nanosleep` with `left_ns` still to sleep: that time, as a
/// `struct timespec` at `rem`, unless `rem` is NULL. A bad `rem` is `EFAULT`.
pub fn store_remaining<C: SyscallContext + ?Sized>(
    ctx: &mut C,
    rem: UserPtr,
    left_ns: u64,
) -> Result<(), Errno> {
    if rem.is_null() {
        return Ok(());
    }
    write_val(&mut ctx.parts().mem, rem, &Timespec::from_ns(left_ns))
}

/// The restartable sleep: the first entry fixes the deadline in the process state and
/// blocks; each re-run (after a wake-up) returns 0 once the deadline has passed.
fn sleep<C: SyscallContext + ?Sized>(ctx: &mut C, duration_ns: u64) -> SyscallResult {
    let now = ctx.monotonic_ns();
    let process = ctx.parts().process;
    let deadline = *process
        .sleep_until
        .get_or_insert(now.saturating_add(duration_ns));
    if now >= deadline {
        process.sleep_until = None;
        SyscallResult::ok(0)
    } else {
        SyscallResult::Block(BlockOn::Deadline(deadline))
    }
}
