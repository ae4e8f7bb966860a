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
use crate::mm::SpaceAccess;
use crate::user::{
    copy_from_user, copy_to_user, copy_to_user_partial, read_user_cstring, read_user_u32,
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
    let node = {
        let mut p = ctx.parts();
        let path = read_user_cstring(&mut p.mem, path, PATH_MAX)?;
        // Fail before any side effect (O_CREAT, O_TRUNC) if no descriptor is free.
        let fd_limit = p.process.fd_limit();
        p.process.fds.lowest_free(fd_limit)?;
        p.vfs.open(&path, flags, mode & !p.process.umask, now)?
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
    let mut p = ctx.parts();
    let fd_limit = p.process.fd_limit();
    let file = OpenFile::new(node, flags);
    let id = if let Some(text) = snapshot {
        p.files.insert_with_data(file, text)?
    } else if node == NodeId::ProcMaps {
        let memory = &p.process.memory;
        let text = p
            .mem
            .with_space(|us| crate::mm::maps_text(us.remap(), memory))
            .ok_or(Errno::ENOENT)??;
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

/// `close(fd)`.
pub fn close<C: SyscallContext + ?Sized>(ctx: &mut C, fd: u32) -> Result<u32, Errno> {
    let p = ctx.parts();
    p.process.fds.close(fd, p.files)?;
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
        NodeId::Root
        | NodeId::DevDir
        | NodeId::BootDir
        | NodeId::ProcDir
        | NodeId::ProcSelf
        | NodeId::ProcPid(_) => Err(Errno::EISDIR),
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
        NodeId::ProcMaps | NodeId::ProcMeminfo | NodeId::ProcPidFile(..) => {
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
        NodeId::Root
        | NodeId::DevDir
        | NodeId::BootDir
        | NodeId::ProcDir
        | NodeId::ProcSelf
        | NodeId::ProcPid(_) => return Err(Errno::EISDIR),
        NodeId::Boot(_)
        | NodeId::ProcMaps
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
        (seek::SEEK_END, NodeKind::File) if f.node == NodeId::ProcMaps => {
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
    let mut p = ctx.parts();
    let path = read_user_cstring(&mut p.mem, path, PATH_MAX)?;
    let st = p.vfs.stat(p.vfs.lookup(&path)?)?;
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
