//! Pipes and descriptor operations: `pipe`, reads and writes of a pipe's ends
//! (called from [`super::fs::read`] / [`super::fs::write`]), `dup`, `dup2`,
//! `fcntl`.

use super::fs::copy_in_pieces;
use super::{BlockOn, Parts, SyscallContext, SyscallResult};
use crate::abi::signal::SIGPIPE;
use crate::errno::Errno;
use crate::user::{copy_to_user, copy_to_user_partial, UserMemory, UserPtr};

/// `pipe(int fds[2])`: a new pipe; `fds[0]` its read end, `fds[1]` its write end
/// (the two lowest free descriptors). `EMFILE` without two free descriptors,
/// `ENFILE` at the system's pipe limit, `EFAULT` for a bad `fds` (nothing made).
pub fn pipe<C: SyscallContext + ?Sized>(ctx: &mut C, fds: UserPtr) -> Result<u32, Errno> {
    let mut p = ctx.parts();
    let limit = p.process.fd_limit();
    // Check the array first: a failed copy afterwards would leak the pipe.
    copy_to_user(&mut p.mem, fds, &[0; 8])?;
    let (read, write) = p.files.create_pipe()?;
    let installed = p.process.fds.install(read, limit).and_then(|r| {
        p.process
            .fds
            .install(write, limit)
            .map(|w| (r, w))
            .inspect_err(|_| {
                let _ = p.process.fds.remove(r);
            })
    });
    let (r, w) = match installed {
        Ok(fds) => fds,
        Err(e) => {
            p.files.release(read);
            p.files.release(write);
            return Err(e);
        }
    };
    let mut pair = [0u8; 8];
    pair[..4].copy_from_slice(&r.to_le_bytes());
    pair[4..].copy_from_slice(&w.to_le_bytes());
    copy_to_user(&mut p.mem, fds, &pair)?;
    Ok(0)
}

/// `read` of pipe `n`'s read end: what is there, up to `count`; 0 (end of file)
/// when it is empty and its write end is closed; blocks while it is empty
/// (`EAGAIN` for a `nonblock` description).
pub fn read_pipe<M: UserMemory, T: ?Sized>(
    p: &mut Parts<'_, M, T>,
    n: u32,
    nonblock: bool,
    buf: UserPtr,
    count: usize,
) -> SyscallResult {
    let Some(pipe) = p.files.pipe(n) else {
        return SyscallResult::err(Errno::EBADF);
    };
    if pipe.is_empty() {
        return match (pipe.writer, nonblock) {
            (false, _) => SyscallResult::ok(0),
            (true, true) => SyscallResult::err(Errno::EAGAIN),
            (true, false) => SyscallResult::Block(BlockOn::Pipe(n)),
        };
    }
    let (a, b) = pipe.peek(count);
    let (mut done, mut err) = copy_to_user_partial(&mut p.mem, buf, a);
    if err.is_none() && !b.is_empty() {
        let (d, e) = match buf.offset(done as u64) {
            Some(at) => copy_to_user_partial(&mut p.mem, at, b),
            None => (0, Some(Errno::EFAULT)),
        };
        done += d;
        err = e;
    }
    if let Some(pipe) = p.files.pipe_mut(n) {
        pipe.consume(done);
    }
    match err {
        Some(e) if done == 0 => SyscallResult::err(e),
        _ => SyscallResult::ok(done as u32),
    }
}

/// `write` to pipe `n`'s write end: `SIGPIPE` (the default action ends the
/// writer; ignored or caught, `EPIPE`) when its read end is closed; an atomic write (≤ `PIPE_BUF`) waits
/// until it fits whole, a bigger one puts in what fits; blocks while nothing
/// fits (`EAGAIN` for a `nonblock` description).
pub fn write_pipe<M: UserMemory, T: ?Sized>(
    p: &mut Parts<'_, M, T>,
    n: u32,
    nonblock: bool,
    buf: UserPtr,
    count: usize,
) -> SyscallResult {
    let Some(pipe) = p.files.pipe(n) else {
        return SyscallResult::err(Errno::EBADF);
    };
    if !pipe.reader {
        // SIGPIPE: the default ends the writer; ignored or caught (it is then
        // pending), the write fails with EPIPE.
        let signals = &mut p.process.signals;
        let action = signals.actions[SIGPIPE as usize].handler;
        if action == crate::signal::SIG_DFL {
            return SyscallResult::Signal(SIGPIPE);
        }
        if action != crate::signal::SIG_IGN {
            signals.pending |= 1 << SIGPIPE;
        }
        return SyscallResult::err(Errno::EPIPE);
    }
    if count == 0 {
        return SyscallResult::ok(0);
    }
    let fits = pipe.writable_now(count);
    if fits == 0 {
        return if nonblock {
            SyscallResult::err(Errno::EAGAIN)
        } else {
            SyscallResult::Block(BlockOn::Pipe(n))
        };
    }
    let files = &mut *p.files;
    let (done, err) = copy_in_pieces(&mut p.mem, p.clock, buf, fits, |piece| {
        if files.pipe_mut(n).is_some_and(|pipe| pipe.push(piece)) {
            Ok(piece.len())
        } else {
            Err(Errno::ENOMEM)
        }
    });
    match err {
        Some(e) if done == 0 => SyscallResult::err(e),
        _ => SyscallResult::ok(done as u32),
    }
}

/// `dup(fd)`: the lowest free descriptor, naming the same open file.
pub fn dup<C: SyscallContext + ?Sized>(ctx: &mut C, fd: u32) -> Result<u32, Errno> {
    let p = ctx.parts();
    let id = p.process.fds.get(fd)?;
    let limit = p.process.fd_limit();
    p.files.add_ref(id)?;
    p.process.fds.install(id, limit).inspect_err(|_| {
        p.files.release(id);
    })
}

/// `dup2(fd, to)`: `to` names the same open file as `fd` (closing what `to` named
/// first); `to == fd` only checks `fd`. `EBADF` for a bad `fd` or a `to` past the
/// descriptor limit.
pub fn dup2<C: SyscallContext + ?Sized>(ctx: &mut C, fd: u32, to: u32) -> Result<u32, Errno> {
    let p = ctx.parts();
    let id = p.process.fds.get(fd)?;
    if to as usize >= p.process.fd_limit() {
        return Err(Errno::EBADF);
    }
    if to == fd {
        return Ok(to);
    }
    p.files.add_ref(id)?;
    if let Ok(old) = p.process.fds.remove(to) {
        p.files.release(old);
        super::fs::reap_orphans(p.vfs, p.files);
    }
    p.process.fds.set(to, id);
    Ok(to)
}

/// `fcntl(fd, cmd, arg)`: `F_DUPFD` (the lowest free descriptor ≥ `arg`),
/// `F_GETFD`/`F_SETFD` (`FD_CLOEXEC`), `F_GETFL` (access mode, `O_APPEND`,
/// `O_NONBLOCK`), `F_SETFL` (sets `O_APPEND` and `O_NONBLOCK`, the rest is
/// ignored). `EBADF` for a bad `fd` or an `arg` past the limit, `EINVAL` for
/// another command, `EMFILE` when no descriptor is free.
pub fn fcntl<C: SyscallContext + ?Sized>(
    ctx: &mut C,
    fd: u32,
    cmd: u32,
    arg: u32,
) -> Result<u32, Errno> {
    use crate::abi::fcntl::*;
    use crate::abi::open_flags::{O_APPEND, O_NONBLOCK};
    let p = ctx.parts();
    let id = p.process.fds.get(fd)?;
    let limit = p.process.fd_limit();
    match cmd {
        F_DUPFD => {
            if arg as usize >= limit {
                return Err(Errno::EINVAL);
            }
            let to = (arg..limit as u32)
                .find(|&d| p.process.fds.get(d).is_err())
                .ok_or(Errno::EMFILE)?;
            p.files.add_ref(id)?;
            p.process.fds.set(to, id);
            Ok(to)
        }
        F_GETFD => Ok(u32::from(p.process.fds.cloexec(fd)?)),
        F_SETFD => {
            p.process.fds.set_cloexec(fd, arg & FD_CLOEXEC != 0)?;
            Ok(0)
        }
        F_GETFL => Ok(p.files.get(id).ok_or(Errno::EBADF)?.status_flags()),
        F_SETFL => {
            let f = p.files.get_mut(id).ok_or(Errno::EBADF)?;
            f.append = arg & O_APPEND != 0;
            f.nonblock = arg & O_NONBLOCK != 0;
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}
