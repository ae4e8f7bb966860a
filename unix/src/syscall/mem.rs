//! Memory syscalls: `brk`, `mmap`, `munmap`, `mprotect`, `madvise`, `getrlimit`,
//! `setrlimit` — argument decoding over [`crate::mm`], which holds the rules.
//!
//! Each call borrows the caller's address space through [`SpaceAccess`] (under the
//! kernel's VM lock) together with its [`crate::process::ProcessState`]; a caller
//! without an address space (a kernel bug) gets `EIO`.

use super::SyscallContext;
use crate::abi::Rlimit;
use crate::errno::Errno;
use crate::mm::{self, MmapRequest, SpaceAccess};
use crate::user::{read_val, write_val, UserPtr};

/// `brk(addr)`: the new break, or the current one for an address below the heap.
/// A refused move is `-1`/`ENOMEM`.
pub fn brk<C: SyscallContext + ?Sized>(ctx: &mut C, addr: u32) -> Result<u32, Errno> {
    let mut p = ctx.parts();
    let memory = &mut p.process.memory;
    p.mem.with_user_space(|us| mm::set_break(us, memory, addr))
}

/// `mmap(addr, len, prot, flags, fd, offset)`: private anonymous memory.
pub fn mmap<C: SyscallContext + ?Sized>(ctx: &mut C, req: MmapRequest) -> Result<u32, Errno> {
    let mut p = ctx.parts();
    let fds = &p.process.fds;
    p.mem
        .with_user_space(|us| mm::mmap(us, req, |fd| fds.get(fd).is_ok()))
}

/// `munmap(addr, len)`.
pub fn munmap<C: SyscallContext + ?Sized>(ctx: &mut C, addr: u32, len: u32) -> Result<u32, Errno> {
    ctx.parts()
        .mem
        .with_user_space(|us| mm::munmap(us, addr, len))
}

/// `mprotect(addr, len, prot)`.
pub fn mprotect<C: SyscallContext + ?Sized>(
    ctx: &mut C,
    addr: u32,
    len: u32,
    prot: u32,
) -> Result<u32, Errno> {
    ctx.parts()
        .mem
        .with_user_space(|us| mm::mprotect(us, addr, len, prot))
}

/// `madvise(addr, len, advice)`.
pub fn madvise<C: SyscallContext + ?Sized>(
    ctx: &mut C,
    addr: u32,
    len: u32,
    advice: u32,
) -> Result<u32, Errno> {
    let mut p = ctx.parts();
    let memory = &p.process.memory;
    p.mem
        .with_user_space(|us| mm::madvise(us, memory, addr, len, advice))
}

/// `getrlimit(resource, rlim)`: `struct rlimit { u32 cur, max }` at `rlim`.
pub fn getrlimit<C: SyscallContext + ?Sized>(
    ctx: &mut C,
    resource: u32,
    rlim: UserPtr,
) -> Result<u32, Errno> {
    let mut p = ctx.parts();
    let memory = &p.process.memory;
    let l = p
        .mem
        .with_user_space(|us| mm::getrlimit(us.space(), memory, resource))?;
    write_val(&mut p.mem, rlim, &l)?;
    Ok(0)
}

/// `setrlimit(resource, rlim)`.
pub fn setrlimit<C: SyscallContext + ?Sized>(
    ctx: &mut C,
    resource: u32,
    rlim: UserPtr,
) -> Result<u32, Errno> {
    let mut p = ctx.parts();
    let new: Rlimit = read_val(&mut p.mem, rlim)?;
    let memory = &mut p.process.memory;
    p.mem
        .with_user_space(|us| mm::setrlimit(us, memory, resource, new))?;
    Ok(0)
}
