//! Information syscalls: `uname`, `time`, `clock_gettime` (the ids and the page size
//! are answered inline by [`super::dispatch`]).

use super::SyscallContext;
use crate::abi::{clock, Timespec};
use crate::errno::Errno;
use crate::user::{copy_to_user, write_user_u32, UserPtr};

/// `uname(buf)`: Linux `struct new_utsname`.
pub fn uname<C: SyscallContext + ?Sized>(ctx: &mut C, buf: UserPtr) -> Result<u32, Errno> {
    let bytes = ctx.uname().to_bytes();
    copy_to_user(&mut ctx.parts().mem, buf, &bytes)?;
    Ok(0)
}

/// `time(tloc)`: seconds of the realtime clock, also stored at `tloc` unless NULL.
pub fn time<C: SyscallContext + ?Sized>(ctx: &mut C, tloc: UserPtr) -> Result<u32, Errno> {
    let secs = (ctx.realtime_ns() / 1_000_000_000) as u32;
    if !tloc.is_null() {
        write_user_u32(&mut ctx.parts().mem, tloc, secs)?;
    }
    Ok(secs)
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
    copy_to_user(&mut ctx.parts().mem, tp, &Timespec::from_ns(ns).to_bytes())?;
    Ok(0)
}
