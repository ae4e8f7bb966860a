//! Processes: `fork`/`vfork`, `waitpid`/`wait`. The kernel makes the copy
//! ([`SyscallContext::fork_process`]: address space, registers, a table entry)
//! and keeps who ended ([`SyscallContext::ended_child`], over
//! [`crate::process::ProcessTable`]); what the child inherits of the Unix state
//! and what `waitpid` answers is decided here.

use super::{BlockOn, SyscallContext, SyscallResult};
use crate::abi::wait::{WNOHANG, WUNTRACED};
use crate::errno::Errno;
use crate::process::WaitFor;
use crate::user::{copy_to_user, UserPtr};
use alloc::boxed::Box;

/// `fork()` (and `vfork()`, which is the same here): the child gets a copy of the
/// caller's Unix state — descriptors sharing the same open files (and so their
/// offsets), memory state, limits, creation mask, group — and of its address
/// space (copy-on-write at range level). Returns the child's pid; the child sees
/// 0. `EAGAIN` when the process table is full, `ENOMEM` when memory is short.
pub fn fork<C: SyscallContext + ?Sized>(ctx: &mut C) -> Result<u32, Errno> {
    let pid = ctx.pid();
    let state = {
        let p = ctx.parts();
        Box::new(p.process.fork(pid, p.files)?)
    };
    ctx.fork_process(state).map_err(|(e, mut state)| {
        state.release(ctx.parts().files);
        e
    })
}

/// `waitpid(pid, status, options)`: wait for child `pid` (> 0) or any child (-1;
/// 0 and `-pgid` too, as groups are not told apart yet) to end, store its status
/// (`WIFEXITED`/`WEXITSTATUS`, `WIFSIGNALED`/`WTERMSIG` encoding) at `status`
/// unless NULL, and return its pid. `WNOHANG`: 0 at once when none has ended.
/// `ECHILD` without such a child, `EINVAL` for unknown options, `EFAULT` for a bad
/// `status` (the child is then still there to wait for). Blocks otherwise: the
/// call runs again when a child ends.
pub fn waitpid<C: SyscallContext + ?Sized>(
    ctx: &mut C,
    pid: u32,
    status: UserPtr,
    options: u32,
) -> SyscallResult {
    if options & !(WNOHANG | WUNTRACED) != 0 {
        return SyscallResult::err(Errno::EINVAL);
    }
    let which = match pid as i32 {
        p if p > 0 => WaitFor::Pid(pid),
        _ => WaitFor::Any,
    };
    match ctx.ended_child(which, false) {
        Err(e) => SyscallResult::err(e),
        Ok(None) if options & WNOHANG != 0 => SyscallResult::ok(0),
        Ok(None) => SyscallResult::Block(BlockOn::Child),
        Ok(Some((child, ended))) => {
            if !status.is_null() {
                let bytes = ended.wait_status().to_le_bytes();
                if let Err(e) = copy_to_user(&mut ctx.parts().mem, status, &bytes) {
                    return SyscallResult::err(e);
                }
            }
            // Taken only once its status is stored.
            match ctx.ended_child(WaitFor::Pid(child), true) {
                Ok(Some(_)) => SyscallResult::ok(child),
                Ok(None) | Err(_) => SyscallResult::err(Errno::ECHILD),
            }
        }
    }
}
