//! Processes: `fork`/`vfork`, `execve`, `waitpid`/`wait`. The kernel makes the copy
//! ([`SyscallContext::fork_process`]: address space, registers, a table entry)
//! and keeps who ended ([`SyscallContext::ended_child`], over
//! [`crate::process::ProcessTable`]); what the child inherits of the Unix state
//! and what `waitpid` answers is decided here.

use super::{BlockOn, SyscallContext, SyscallResult};
use crate::abi::wait::{WNOHANG, WUNTRACED};
use crate::abi::PATH_MAX;
use crate::errno::Errno;
use crate::exec::stack::MAX_ARG_BYTES;
use crate::mm::ProcessMemory;
use crate::process::WaitFor;
use crate::user::{copy_to_user, read_user_cstring, read_user_u32, UserMemory, UserPtr};
use crate::vfs::NodeKind;
use alloc::boxed::Box;
use alloc::vec::Vec;

/// Most strings `argv` and `envp` may hold together.
pub const MAX_ARGS: usize = 4096;

/// The strings of a NULL-terminated array of string pointers at `array` (NULL:
/// none), charged to `budget` (bytes left, NULs included): `E2BIG` past it or
/// past [`MAX_ARGS`] strings, `EFAULT` for a bad pointer.
fn read_strings(
    mem: &mut (impl UserMemory + ?Sized),
    array: UserPtr,
    budget: &mut usize,
    count: &mut usize,
) -> Result<Vec<Vec<u8>>, Errno> {
    let mut out = Vec::new();
    if array.is_null() {
        return Ok(out);
    }
    for i in 0u64.. {
        let at = array.offset(i * 4).ok_or(Errno::EFAULT)?;
        let ptr = read_user_u32(mem, at)?;
        if ptr == 0 {
            return Ok(out);
        }
        *count += 1;
        if *count > MAX_ARGS || *budget == 0 {
            return Err(Errno::E2BIG);
        }
        let s = match read_user_cstring(mem, UserPtr(ptr), *budget) {
            Err(Errno::ENAMETOOLONG) => return Err(Errno::E2BIG),
            r => r?,
        };
        *budget -= s.len() + 1;
        out.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
        out.push(s);
    }
    Ok(out)
}

/// `execve(path, argv, envp)`: run the program at `path` in this process. The old
/// image is replaced only once the new one is loaded: on any error the caller
/// goes on with `ENOENT`/`ENOTDIR` (no such file), `EACCES` (not a regular file,
/// or no execute permission), `ENOEXEC` (not a valid executable), `E2BIG` (the
/// strings pass 128 KiB or 4096 entries), `EFAULT`, `ENOMEM`. On success the call
/// does not return: the program starts with Phantom's start frame (docs/abi.md)
/// and a fresh memory state; descriptors stay open but those marked
/// close-on-exec (`FD_CLOEXEC`, `O_CLOEXEC`).
pub fn execve<C: SyscallContext + ?Sized>(
    ctx: &mut C,
    path: UserPtr,
    argv: UserPtr,
    envp: UserPtr,
) -> Result<u32, Errno> {
    let pid = ctx.pid();
    let (name, image, args, env) = {
        let mut p = ctx.parts();
        let path = read_user_cstring(&mut p.mem, path, PATH_MAX)?;
        let (mut budget, mut count) = (MAX_ARG_BYTES, 0);
        let args = read_strings(&mut p.mem, argv, &mut budget, &mut count)?;
        let env = read_strings(&mut p.mem, envp, &mut budget, &mut count)?;
        let node = p.vfs.lookup(p.process.paths(pid), &path)?;
        if p.vfs.kind(node)? != NodeKind::File {
            return Err(Errno::EACCES);
        }
        if u32::from(p.vfs.stat(node)?.st_mode) & 0o111 == 0 {
            return Err(Errno::EACCES);
        }
        let data = p.vfs.file_data(node)?;
        let mut image = Vec::new();
        image
            .try_reserve_exact(data.len())
            .map_err(|_| Errno::ENOMEM)?;
        image.extend_from_slice(data);
        let name = path.rsplit(|&b| b == b'/').next().unwrap_or(&path).to_vec();
        (name, image, args, env)
    };
    let args: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
    let env: Vec<&[u8]> = env.iter().map(Vec::as_slice).collect();
    let start = ctx.replace_image(&name, &image, &args, &env)?;
    let p = ctx.parts();
    let limits = p.process.memory.limits;
    p.process.memory = ProcessMemory::new(&start);
    p.process.memory.limits = limits;
    p.process.sleep_until = None;
    p.process.cmdline = crate::process::cmdline_of(&args);
    p.process.signals.exec();
    p.process.fds.close_on_exec(p.files);
    super::fs::reap_orphans(p.vfs, p.files);
    Ok(0)
}

/// `fork()` (and `vfork()`, which is the same here): the child gets a copy of the
/// caller's Unix state — descriptors sharing the same open files (and so their
/// offsets), memory state, limits, creation mask, group — and of its address
/// space (copy-on-write at range level). Returns the child's pid; the child sees
/// 0. `EAGAIN` when the user has `RLIMIT_NPROC` processes or the process table
/// is full, `ENOMEM` when memory is short.
pub fn fork<C: SyscallContext + ?Sized>(ctx: &mut C) -> Result<u32, Errno> {
    let pid = ctx.pid();
    let count = ctx.process_count();
    let state = {
        let p = ctx.parts();
        let nproc = p.process.memory.limits[crate::abi::rlimit::RLIMIT_NPROC as usize].rlim_cur;
        if count >= nproc as usize {
            return Err(Errno::EAGAIN);
        }
        Box::new(p.process.fork(pid, p.files)?)
    };
    ctx.fork_process(state).map_err(|(e, mut state)| {
        state.release(ctx.parts().files);
        e
    })
}

/// `waitpid(pid, status, options)`: wait for child `pid` (> 0), any child (-1),
/// any child in the caller's process group (0) or in group `-pid` (< -1) to end, store its status
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
        -1 => WaitFor::Any,
        0 => {
            let me = ctx.pid();
            WaitFor::Group(ctx.parts().process.pgid.unwrap_or(me))
        }
        g => WaitFor::Group(g.unsigned_abs()),
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
