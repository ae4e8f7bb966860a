//! File syscalls: `open`, `close`, `read`, `write`, `lseek`, `getdents`, `fstat`,
//! `stat`, `ioctl` — over the VFS, the devices and the console.
//!
//! `/proc/self/maps` is generated when it is opened, from the caller's remap table
//! ([`crate::mm::maps_text`]), and kept with the open file description: reads in
//! pieces see one consistent listing, and a descriptor shared with another process
//! shows the opener's address space (as on Linux).
//!
//! Transfers: file bytes are copied straight from the kernel's copy to user memory;
//! data from user memory goes through a [`CHUNK`]-byte stack buffer. Every piece stays
//! inside one user page, so when a user buffer turns bad part-way the call returns
//! the bytes transferred so far (as Linux does), and `EFAULT` only when none were.
//! Counts are capped at [`MAX_RW_COUNT`].

use super::{BlockOn, Budget, SyscallContext, SyscallResult};

/// Bytes a file read copies between two looks at its time budget.
const BUDGET_PIECE: usize = 64 * 1024;
use crate::abi::{
    encode_dirent, getdents_reclen, ioc, ioctl as io, seek, Dirent, MAX_RW_COUNT, PATH_MAX,
};
use crate::console::{Console, ConsoleInput};
use crate::errno::Errno;
use crate::file::{FileId, OpenFile};
use crate::user::{
    copy_from_user, copy_to_user, copy_to_user_partial, read_user_cstring, read_user_u32, read_val,
    write_val, UserPtr,
};
use crate::vfs::{NodeId, NodeKind, ProcFile};
use alloc::vec::Vec;

/// Bytes moved per step from user memory (a divisor of the page size).
pub const CHUNK: usize = 512;

/// Zeros for `/dev/zero`.
static ZEROS: [u8; 4096] = [0; 4096];

/// Seconds of the realtime clock (file time stamps).
fn now_secs<C: SyscallContext + ?Sized>(ctx: &C) -> u32 {
    (ctx.realtime_ns() / 1_000_000_000) as u32
}

/// The pieces of `[addr, addr + len)`: at most [`CHUNK`] bytes, never crossing a
/// `CHUNK` boundary (hence never a page boundary). Yields `(offset, length)`.
fn chunks(addr: UserPtr, len: usize) -> impl Iterator<Item = (usize, usize)> {
    let mut done = 0usize;
    core::iter::from_fn(move || {
        if done >= len {
            return None;
        }
        let here = (u64::from(addr.0) + done as u64) as usize;
        let n = (CHUNK - here % CHUNK).min(len - done);
        let piece = (done, n);
        done += n;
        Some(piece)
    })
}

/// Copy `count` bytes from user `buf` in [`CHUNK`]-byte pieces through a stack
/// buffer, handing each to `sink`, which returns how many bytes it took (fewer
/// than the piece stops the copy), within the call's time budget. Returns the
/// bytes taken and the error that stopped the copy, if any.
pub(super) fn copy_in_pieces(
    mem: &mut (impl crate::user::UserMemory + ?Sized),
    clock: &dyn super::Clock,
    buf: UserPtr,
    count: usize,
    mut sink: impl FnMut(&[u8]) -> Result<usize, Errno>,
) -> (usize, Option<Errno>) {
    let mut bounce = [0u8; CHUNK];
    let budget = Budget::start(clock);
    let mut done = 0usize;
    for (off, n) in chunks(buf, count) {
        if budget.spent(clock, done) {
            break;
        }
        let piece = &mut bounce[..n];
        let at = buf.offset(off as u64).ok_or(Errno::EFAULT);
        if let Err(e) = at.and_then(|at| copy_from_user(mem, at, piece)) {
            return (done, Some(e));
        }
        match sink(piece) {
            Ok(w) => {
                done += w;
                if w < n {
                    break;
                }
            }
            Err(e) => return (done, Some(e)),
        }
    }
    (done, None)
}

/// Combine a partial count and the error that stopped it.
fn partial(done: usize, err: Option<Errno>) -> Result<u32, Errno> {
    match err {
        Some(e) if done == 0 => Err(e),
        _ => Ok(done as u32),
    }
}

/// The description of `fd` (a copy) and its id.
fn file_of<M, C: ?Sized>(p: &super::Parts<'_, M, C>, fd: u32) -> Result<(FileId, OpenFile), Errno> {
    let id = p.process.fds.get(fd)?;
    let f = *p.files.get(id).ok_or(Errno::EBADF)?;
    Ok((id, f))
}

/// `open(path, flags, mode)`: the lowest free descriptor.
pub fn open<C: SyscallContext + ?Sized>(
    ctx: &mut C,
    path: UserPtr,
    flags: u32,
    mode: u32,
) -> Result<u32, Errno> {
    let now = now_secs(ctx);
    let pid = ctx.pid();
    let node = {
        let mut p = ctx.parts();
        let path = read_user_cstring(&mut p.mem, path, PATH_MAX)?;
        // Fail before any side effect (O_CREAT, O_TRUNC) if no descriptor is free.
        let fd_limit = p.process.fd_limit();
        p.process.fds.lowest_free(fd_limit)?;
        p.vfs.open(
            p.process.paths(pid),
            &path,
            flags,
            mode & !p.process.umask,
            now,
        )?
    };
    let snapshot = match node {
        NodeId::ProcMeminfo => Some(ctx.memory_info().text()),
        NodeId::ProcPidFile(pid, f) => {
            let view = ctx.process_view(pid).ok_or(Errno::ENOENT)?;
            Some(match f {
                ProcFile::Cmdline => view.cmdline,
                ProcFile::Maps => view.maps,
                ProcFile::Status => view.status_text(pid),
            })
        }
        _ => None,
    };
    let p = ctx.parts();
    let fd_limit = p.process.fd_limit();
    let file = OpenFile::new(node, flags);
    let id = if let Some(text) = snapshot {
        p.files.insert_with_data(file, text)?
    } else {
        p.files.insert(file)?
    };
    let fd = p.process.fds.install(id, fd_limit).inspect_err(|_| {
        p.files.release(id);
    })?;
    if flags & crate::abi::open_flags::O_CLOEXEC != 0 {
        p.process.fds.set_cloexec(fd, true)?;
    }
    Ok(fd)
}

/// `creat(path, mode)`: `open(path, O_CREAT | O_WRONLY | O_TRUNC, mode)`.
pub fn creat<C: SyscallContext + ?Sized>(
    ctx: &mut C,
    path: UserPtr,
    mode: u32,
) -> Result<u32, Errno> {
    use crate::abi::open_flags::{O_CREAT, O_TRUNC, O_WRONLY};
    open(ctx, path, O_CREAT | O_WRONLY | O_TRUNC, mode)
}

/// `close(fd)`. An unlinked file closed for the last time goes.
pub fn close<C: SyscallContext + ?Sized>(ctx: &mut C, fd: u32) -> Result<u32, Errno> {
    let p = ctx.parts();
    p.process.fds.close(fd, p.files)?;
    reap_orphans(p.vfs, p.files);
    Ok(0)
}

/// Free the unlinked files no description has open any more (after a close).
pub fn reap_orphans(vfs: &mut crate::vfs::Vfs, files: &crate::file::OpenFiles) {
    vfs.reap_orphans(|node| files.is_open(node));
}

/// Read the path argument at `path` (at most `PATH_MAX` bytes with its NUL).
fn read_path<C: SyscallContext + ?Sized>(ctx: &mut C, path: UserPtr) -> Result<Vec<u8>, Errno> {
    read_user_cstring(&mut ctx.parts().mem, path, PATH_MAX)
}

/// `chdir(path)`: the caller's current directory becomes `path` (`ENOTDIR` for
/// anything but a directory).
pub fn chdir<C: SyscallContext + ?Sized>(ctx: &mut C, path: UserPtr) -> Result<u32, Errno> {
    let pid = ctx.pid();
    let path = read_path(ctx, path)?;
    let p = ctx.parts();
    let node = p.vfs.lookup(p.process.paths(pid), &path)?;
    if p.vfs.kind(node)? != NodeKind::Dir {
        return Err(Errno::ENOTDIR);
    }
    p.process.cwd = node;
    Ok(0)
}

/// `fchdir(fd)`: the current directory becomes the directory open at `fd`.
pub fn fchdir<C: SyscallContext + ?Sized>(ctx: &mut C, fd: u32) -> Result<u32, Errno> {
    let p = ctx.parts();
    let (_, f) = file_of(&p, fd)?;
    if p.vfs.kind(f.node)? != NodeKind::Dir {
        return Err(Errno::ENOTDIR);
    }
    p.process.cwd = f.node;
    Ok(0)
}

/// `getcwd(buf, size)`: the current directory's absolute path and a NUL at
/// `buf`; returns the length with the NUL (Phantom's and Linux's call).
/// `ERANGE` when `size` has no room for both, `ENOENT` when the directory was
/// removed.
pub fn getcwd<C: SyscallContext + ?Sized>(
    ctx: &mut C,
    buf: UserPtr,
    size: u32,
) -> Result<u32, Errno> {
    let mut p = ctx.parts();
    let mut path = p.vfs.path_of(p.process.cwd)?;
    if path.len() + 1 > size as usize {
        return Err(Errno::ERANGE);
    }
    path.push(0);
    copy_to_user(&mut p.mem, buf, &path)?;
    Ok(path.len() as u32)
}

/// `mkdir(path, mode)`: a directory in `/tmp` with `mode & ~umask`; `EEXIST`,
/// `EROFS` outside `/tmp`.
pub fn mkdir<C: SyscallContext + ?Sized>(
    ctx: &mut C,
    path: UserPtr,
    mode: u32,
) -> Result<u32, Errno> {
    let (now, pid) = (now_secs(ctx), ctx.pid());
    let path = read_path(ctx, path)?;
    let p = ctx.parts();
    p.vfs
        .mkdir(p.process.paths(pid), &path, mode & !p.process.umask, now)?;
    Ok(0)
}

/// `rmdir(path)`: remove an empty directory (see [`crate::vfs::Vfs::rmdir`]).
pub fn rmdir<C: SyscallContext + ?Sized>(ctx: &mut C, path: UserPtr) -> Result<u32, Errno> {
    let (now, pid) = (now_secs(ctx), ctx.pid());
    let path = read_path(ctx, path)?;
    let p = ctx.parts();
    p.vfs.rmdir(p.process.paths(pid), &path, now)?;
    Ok(0)
}

/// `unlink(path)`: remove a file's name; open descriptors still read and write
/// it until the last closes (see [`crate::vfs::Vfs::unlink`]).
pub fn unlink<C: SyscallContext + ?Sized>(ctx: &mut C, path: UserPtr) -> Result<u32, Errno> {
    let (now, pid) = (now_secs(ctx), ctx.pid());
    let path = read_path(ctx, path)?;
    let p = ctx.parts();
    let files = &*p.files;
    p.vfs
        .unlink(p.process.paths(pid), &path, now, |n| files.is_open(n))?;
    Ok(0)
}

/// `rename(from, to)` (extension): within `/tmp`, replacing `to` (see
/// [`crate::vfs::Vfs::rename`]).
pub fn rename<C: SyscallContext + ?Sized>(
    ctx: &mut C,
    from: UserPtr,
    to: UserPtr,
) -> Result<u32, Errno> {
    let (now, pid) = (now_secs(ctx), ctx.pid());
    let from = read_path(ctx, from)?;
    let to = read_path(ctx, to)?;
    let p = ctx.parts();
    let files = &*p.files;
    p.vfs
        .rename(p.process.paths(pid), &from, &to, now, |n| files.is_open(n))?;
    Ok(0)
}

/// `read(fd, buf, count)`. On the console: one line at most, `Block` when none is
/// ready.
pub fn read<C: SyscallContext + ?Sized>(
    ctx: &mut C,
    fd: u32,
    buf: UserPtr,
    count: u32,
) -> SyscallResult {
    let mut p = ctx.parts();
    let (id, f) = match file_of(&p, fd) {
        Ok(x) => x,
        Err(e) => return SyscallResult::err(e),
    };
    if !f.readable {
        return SyscallResult::err(Errno::EBADF);
    }
    let count = count.min(MAX_RW_COUNT) as usize;
    let r = match f.node {
        NodeId::Root | NodeId::DevDir | NodeId::BootDir | NodeId::ProcDir | NodeId::ProcPid(_) => {
            Err(Errno::EISDIR)
        }
        NodeId::Ram(_) | NodeId::Init(_) if p.vfs.kind(f.node) == Ok(NodeKind::Dir) => {
            Err(Errno::EISDIR)
        }
        _ if count == 0 => Ok(0),
        NodeId::Console => match p.console.input() {
            ConsoleInput::Empty if f.nonblock => Err(Errno::EAGAIN),
            ConsoleInput::Empty => return SyscallResult::Block(BlockOn::ConsoleInput),
            ConsoleInput::Eof => {
                p.console.consume(0);
                Ok(0)
            }
            ConsoleInput::Line(line) => {
                let n = line.len().min(count);
                let (done, err) = copy_to_user_partial(&mut p.mem, buf, &line[..n]);
                p.console.consume(done);
                partial(done, err)
            }
        },
        NodeId::Pipe(n) => return super::pipes::read_pipe(&mut p, n, f.nonblock, buf, count),
        NodeId::Null => Ok(0),
        NodeId::Zero => {
            let budget = Budget::start(p.clock);
            let mut done = 0;
            let mut err = None;
            for (off, n) in crate::user::page_chunks(buf, count) {
                if budget.spent(p.clock, done) {
                    break;
                }
                let Some(at) = buf.offset(off as u64) else {
                    err = Some(Errno::EFAULT);
                    break;
                };
                if let Err(e) = copy_to_user(&mut p.mem, at, &ZEROS[..n]) {
                    err = Some(e);
                    break;
                }
                done += n;
            }
            partial(done, err)
        }
        NodeId::ProcMeminfo | NodeId::ProcPidFile(..) => {
            let data = p.files.data(id).unwrap_or(&[]);
            let start = usize::try_from(f.offset)
                .unwrap_or(usize::MAX)
                .min(data.len());
            let n = (data.len() - start).min(count);
            let (done, err) = copy_to_user_partial(&mut p.mem, buf, &data[start..start + n]);
            p.files.set_offset(id, f.offset + done as u64);
            partial(done, err)
        }
        NodeId::Boot(_) | NodeId::Ram(_) | NodeId::Init(_) => match p.vfs.file_data(f.node) {
            Err(e) => Err(e),
            Ok(data) => {
                let start = usize::try_from(f.offset)
                    .unwrap_or(usize::MAX)
                    .min(data.len());
                let n = (data.len() - start).min(count);
                let budget = Budget::start(p.clock);
                let (mut done, mut err) = (0, None);
                for piece in data[start..start + n].chunks(BUDGET_PIECE) {
                    if budget.spent(p.clock, done) {
                        break;
                    }
                    let Some(at) = buf.offset(done as u64) else {
                        err = Some(Errno::EFAULT);
                        break;
                    };
                    let (d, e) = copy_to_user_partial(&mut p.mem, at, piece);
                    done += d;
                    if e.is_some() {
                        err = e;
                        break;
                    }
                }
                // Past the end nothing is read and the offset stays.
                p.files.set_offset(id, f.offset + done as u64);
                partial(done, err)
            }
        },
    };
    r.into()
}

/// `write(fd, buf, count)`.
pub fn write<C: SyscallContext + ?Sized>(
    ctx: &mut C,
    fd: u32,
    buf: UserPtr,
    count: u32,
) -> SyscallResult {
    {
        let mut p = ctx.parts();
        match file_of(&p, fd) {
            Ok((_, f)) if f.writable => {
                if let NodeId::Pipe(n) = f.node {
                    let count = count.min(MAX_RW_COUNT) as usize;
                    return super::pipes::write_pipe(&mut p, n, f.nonblock, buf, count);
                }
            }
            Ok(_) => return SyscallResult::err(Errno::EBADF),
            Err(e) => return SyscallResult::err(e),
        }
    }
    write_file(ctx, fd, buf, count).into()
}

/// `write` to anything but a pipe.
fn write_file<C: SyscallContext + ?Sized>(
    ctx: &mut C,
    fd: u32,
    buf: UserPtr,
    count: u32,
) -> Result<u32, Errno> {
    let now = now_secs(ctx);
    let mut p = ctx.parts();
    let (id, f) = file_of(&p, fd)?;
    if !f.writable {
        return Err(Errno::EBADF);
    }
    let count = count.min(MAX_RW_COUNT) as usize;
    match f.node {
        NodeId::Null | NodeId::Zero => return Ok(count as u32),
        NodeId::Root | NodeId::DevDir | NodeId::BootDir | NodeId::ProcDir | NodeId::ProcPid(_) => {
            return Err(Errno::EISDIR)
        }
        NodeId::Boot(_)
        | NodeId::ProcMeminfo
        | NodeId::ProcPidFile(..)
        | NodeId::Pipe(_)
        | NodeId::Init(_) => return Err(Errno::EBADF),
        NodeId::Console | NodeId::Ram(_) => {}
    }
    if count == 0 {
        return Ok(0);
    }
    let mut offset = if f.append {
        p.vfs.size(f.node)
    } else {
        f.offset
    };
    let (vfs, console) = (&mut *p.vfs, &mut *p.console);
    let (done, err) = copy_in_pieces(&mut p.mem, p.clock, buf, count, |piece| {
        if f.node == NodeId::Console {
            console.write(piece);
            return Ok(piece.len());
        }
        let w = vfs.write_at(f.node, offset, piece, now)?;
        offset += w as u64;
        Ok(w)
    });
    if f.node != NodeId::Console {
        p.files.set_offset(id, offset);
    }
    partial(done, err)
}

/// `lseek(fd, offset, whence)`: `ESPIPE` on devices; on directories the offset is
/// the index of the next entry (`SEEK_END` is `EINVAL`).
pub fn lseek<C: SyscallContext + ?Sized>(
    ctx: &mut C,
    fd: u32,
    offset: i32,
    whence: u32,
) -> Result<u32, Errno> {
    let p = ctx.parts();
    let (id, f) = file_of(&p, fd)?;
    let kind = p.vfs.kind(f.node)?;
    let base = match (whence, kind) {
        (_, NodeKind::CharDev | NodeKind::Fifo) => return Err(Errno::ESPIPE),
        (seek::SEEK_SET, _) => 0i64,
        (seek::SEEK_CUR, _) => i64::try_from(f.offset).map_err(|_| Errno::EOVERFLOW)?,
        (seek::SEEK_END, NodeKind::File) if p.files.data(id).is_some() => {
            p.files.data(id).map_or(0, <[u8]>::len) as i64
        }
        (seek::SEEK_END, NodeKind::File) => p.vfs.size(f.node) as i64,
        _ => return Err(Errno::EINVAL),
    };
    let new = base + i64::from(offset);
    if new < 0 {
        return Err(Errno::EINVAL);
    }
    if new > i64::from(i32::MAX) {
        return Err(Errno::EOVERFLOW);
    }
    p.files.set_offset(id, new as u64);
    Ok(new as u32)
}

/// `getdents(fd, buf, count)`: as many whole `struct linux_dirent` records as fit;
/// 0 at the end; `EINVAL` if not even the next one fits.
pub fn getdents<C: SyscallContext + ?Sized>(
    ctx: &mut C,
    fd: u32,
    buf: UserPtr,
    count: u32,
) -> Result<u32, Errno> {
    let mut p = ctx.parts();
    let (id, f) = file_of(&p, fd)?;
    let count = count.min(MAX_RW_COUNT) as usize;
    let mut record: Vec<u8> = Vec::new();
    let mut written = 0usize;
    let mut index = f.offset;
    let mut err = None;
    for (next, e) in p.vfs.dir_entries(f.node, index)? {
        let reclen = getdents_reclen(e.name.len());
        if written + reclen > count {
            if written == 0 {
                return Err(Errno::EINVAL);
            }
            break;
        }
        record.clear();
        encode_dirent(
            &mut record,
            e.ino,
            u32::try_from(next).unwrap_or(u32::MAX),
            e.name,
            e.dtype,
        );
        let at = buf.offset(written as u64).ok_or(Errno::EFAULT);
        if let Err(e) = at.and_then(|at| copy_to_user(&mut p.mem, at, &record)) {
            err = Some(e);
            break;
        }
        written += reclen;
        index = next;
    }
    p.files.set_offset(id, index);
    partial(written, err)
}

/// `readdir(fd, dirent)` (Phantom's 117): the next entry of the directory open at
/// `fd` as one Phantom `struct dirent` (520 bytes). Returns 1 when an entry was
/// stored, 0 at the end; the same cursor as `getdents` (`lseek(fd, 0, SEEK_SET)`
/// rewinds). `ENOTDIR` for a file that is not a directory.
pub fn readdir<C: SyscallContext + ?Sized>(
    ctx: &mut C,
    fd: u32,
    dirent: UserPtr,
) -> Result<u32, Errno> {
    let mut p = ctx.parts();
    let (id, f) = file_of(&p, fd)?;
    let Some(e) = p.vfs.dir_entry(f.node, f.offset)? else {
        return Ok(0);
    };
    write_val(&mut p.mem, dirent, &Dirent::new(e.ino, e.name))?;
    p.files.set_offset(id, f.offset + 1);
    Ok(1)
}

/// `fstat(fd, statbuf)`.
pub fn fstat<C: SyscallContext + ?Sized>(
    ctx: &mut C,
    fd: u32,
    statbuf: UserPtr,
) -> Result<u32, Errno> {
    let mut p = ctx.parts();
    let (_, f) = file_of(&p, fd)?;
    let st = p.vfs.stat(f.node)?;
    write_val(&mut p.mem, statbuf, &st)?;
    Ok(0)
}

/// `stat(path, statbuf)`.
pub fn stat<C: SyscallContext + ?Sized>(
    ctx: &mut C,
    path: UserPtr,
    statbuf: UserPtr,
) -> Result<u32, Errno> {
    let pid = ctx.pid();
    let mut p = ctx.parts();
    let path = read_user_cstring(&mut p.mem, path, PATH_MAX)?;
    let st = p.vfs.stat(p.vfs.lookup(p.process.paths(pid), &path)?)?;
    write_val(&mut p.mem, statbuf, &st)?;
    Ok(0)
}

/// `ioctl(fd, request, data, len)` (Phantom's four arguments, BSD-encoded
/// requests): `TIOCGETA`, `TIOCGWINSZ`, `TIOCSPGRP` (a positive group, else
/// `EINVAL`) and `TIOCGPGRP` on the console; `ENOTTY` for any other
/// request or file. `len` is the size of the caller's buffer at `data`: smaller than
/// the request's parameter is `EINVAL`.
pub fn ioctl<C: SyscallContext + ?Sized>(
    ctx: &mut C,
    fd: u32,
    request: u32,
    data: UserPtr,
    len: u32,
) -> Result<u32, Errno> {
    let mut p = ctx.parts();
    let (_, f) = file_of(&p, fd)?;
    if f.node != NodeId::Console {
        return Err(Errno::ENOTTY);
    }
    if !matches!(
        request,
        io::TIOCGETA | io::TIOCGWINSZ | io::TIOCSPGRP | io::TIOCGPGRP
    ) {
        return Err(Errno::ENOTTY);
    }
    if (len as usize) < ioc::parm_len(request) {
        return Err(Errno::EINVAL);
    }
    match request {
        io::TIOCGETA => write_val(&mut p.mem, data, &p.console.termios())?,
        io::TIOCGWINSZ => write_val(&mut p.mem, data, &p.console.winsize())?,
        io::TIOCGPGRP => copy_to_user(&mut p.mem, data, &p.console.foreground().to_le_bytes())?,
        _ => {
            let pgid = read_user_u32(&mut p.mem, data)?;
            if pgid == 0 || (pgid as i32) < 0 {
                return Err(Errno::EINVAL);
            }
            p.console.set_foreground(pgid);
        }
    }
    Ok(0)
}

/// Most descriptors one `poll` looks at (`EINVAL` beyond): the table's size.
pub const POLL_MAX: u32 = crate::file::FD_MAX as u32;

/// What descriptor `fd` is ready for now (`poll`'s `revents` before masking).
fn poll_ready<M, C: crate::console::Console + ?Sized>(p: &super::Parts<'_, M, C>, fd: u32) -> u16 {
    use crate::abi::poll::{POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT};
    let Ok((_, f)) = file_of(p, fd) else {
        return POLLNVAL;
    };
    match f.node {
        NodeId::Pipe(n) => match p.files.pipe(n) {
            Some(pipe) if f.readable => {
                let data = if pipe.is_empty() { 0 } else { POLLIN };
                data | if pipe.writer { 0 } else { POLLHUP }
            }
            Some(pipe) if pipe.reader => {
                if pipe.room() >= crate::pipe::PIPE_BUF {
                    POLLOUT
                } else {
                    0
                }
            }
            _ => POLLERR,
        },
        NodeId::Console => {
            let input = match p.console.input() {
                ConsoleInput::Empty => 0,
                ConsoleInput::Line(_) | ConsoleInput::Eof => POLLIN,
            };
            input | POLLOUT
        }
        // Files and the other devices never make a reader or writer wait.
        _ => POLLIN | POLLOUT,
    }
}

/// `poll(fds, nfds, timeout)` (extension): look at `nfds` `struct pollfd`s,
/// store each one's `revents` (what it asked for in `events` that is so, plus
/// `POLLERR`, `POLLHUP`, `POLLNVAL`) and return how many have some; wait until
/// one has, for at most `timeout` ms (negative: without limit, 0: not at all).
/// Pipes and the console can make it wait; files are always ready. A negative
/// `fd` is skipped. `EINVAL` for `nfds` past [`POLL_MAX`], `EFAULT`, `EINTR`
/// when a handler ran (never restarted).
pub fn poll<C: SyscallContext + ?Sized>(
    ctx: &mut C,
    fds: UserPtr,
    nfds: u32,
    timeout_ms: i32,
) -> SyscallResult {
    use crate::abi::poll::{POLLERR, POLLHUP, POLLNVAL};
    use crate::abi::Pollfd;
    if nfds > POLL_MAX {
        return SyscallResult::err(Errno::EINVAL);
    }
    let now = ctx.monotonic_ns();
    let mut p = ctx.parts();
    let mut entries = [Pollfd {
        fd: -1,
        events: 0,
        revents: 0,
    }; POLL_MAX as usize];
    let entries = &mut entries[..nfds as usize];
    for (i, e) in entries.iter_mut().enumerate() {
        let at = fds.offset(i as u64 * Pollfd::SIZE as u64);
        match at
            .ok_or(Errno::EFAULT)
            .and_then(|at| read_val(&mut p.mem, at))
        {
            Ok(v) => *e = v,
            Err(err) => return SyscallResult::err(err),
        }
    }
    let mut ready = 0u32;
    for e in entries.iter_mut() {
        e.revents = if e.fd < 0 {
            0
        } else {
            poll_ready(&p, e.fd as u32) & (e.events | POLLERR | POLLHUP | POLLNVAL)
        };
        ready += u32::from(e.revents != 0);
    }
    let deadline = match timeout_ms {
        t if t < 0 => None,
        t => Some(
            *p.process
                .sleep_until
                .get_or_insert(now.saturating_add(t as u64 * 1_000_000)),
        ),
    };
    if ready == 0 && deadline.is_none_or(|d| now < d) {
        return SyscallResult::Block(BlockOn::Poll(deadline));
    }
    p.process.sleep_until = None;
    for (i, e) in entries.iter().enumerate() {
        let at = fds.offset(i as u64 * Pollfd::SIZE as u64 + 6);
        let stored = at
            .ok_or(Errno::EFAULT)
            .and_then(|at| copy_to_user(&mut p.mem, at, &e.revents.to_le_bytes()));
        if let Err(err) = stored {
            return SyscallResult::err(err);
        }
    }
    SyscallResult::ok(ready)
}
