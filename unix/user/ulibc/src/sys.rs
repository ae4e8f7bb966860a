//! Typed wrappers for every syscall of `docs/abi.md`.
//!
//! Two layers: [`raw`] takes raw pointers and returns the kernel's
//! `Result<u32, Errno>` as is (the tests use it to pass bad pointers on
//! purpose); the functions of this module take slices, `CStr`s and
//! structures and return Rust types. Every failure also sets the global
//! [`errno`](crate::errno::errno).

use crate::errno::Errno;
use crate::syscall::{split, stub};
use crate::types::{
    Dirent, Fd, Rlimit, Stat, TIOCGETA, TIOCGWINSZ, Termios, Timespec, Timeval, Utsname, Winsize,
};
use core::ffi::CStr;

/// The syscalls with raw pointer arguments, as the ABI defines them.
///
/// # Safety (all functions)
/// The kernel reads or writes memory at the pointers given; bad pointers
/// must give `EFAULT`, but memory the process owns is overwritten as asked.
#[allow(clippy::missing_safety_doc)]
pub mod raw {
    use super::*;

    /// `_exit(status)`: never returns.
    pub fn exit(status: i32) -> ! {
        // SAFETY: `_exit` takes no pointer.
        unsafe { stub::__ulibc_sys_exit(status as usize) };
        // The kernel never returns from `_exit`; if it does, die loudly.
        crate::crt0::abort()
    }

    /// `getpagesize()`.
    pub fn getpagesize() -> Result<u32, Errno> {
        // SAFETY: no pointer.
        split(unsafe { stub::__ulibc_sys_getpagesize() })
    }

    /// `uname(buf)`.
    pub unsafe fn uname(buf: *mut Utsname) -> Result<u32, Errno> {
        // SAFETY: per the caller.
        split(unsafe { stub::__ulibc_sys_uname(buf as usize) })
    }

    /// `time(tloc)`; `tloc` may be null.
    pub unsafe fn time(tloc: *mut u64) -> Result<u32, Errno> {
        // SAFETY: per the caller.
        split(unsafe { stub::__ulibc_sys_time(tloc as usize) })
    }

    /// `clock_gettime(clock, ts)`.
    pub unsafe fn clock_gettime(clock: u32, ts: *mut Timespec) -> Result<u32, Errno> {
        // SAFETY: per the caller.
        split(unsafe { stub::__ulibc_sys_clock_gettime(clock as usize, ts as usize) })
    }

    /// `getpid()`.
    pub fn getpid() -> Result<u32, Errno> {
        // SAFETY: no pointer.
        split(unsafe { stub::__ulibc_sys_getpid() })
    }

    /// `getppid()`.
    pub fn getppid() -> Result<u32, Errno> {
        // SAFETY: no pointer.
        split(unsafe { stub::__ulibc_sys_getppid() })
    }

    /// `open(path, flags, mode)`.
    pub unsafe fn open(path: *const u8, flags: u32, mode: u32) -> Result<u32, Errno> {
        // SAFETY: per the caller.
        split(unsafe { stub::__ulibc_sys_open(path as usize, flags as usize, mode as usize) })
    }

    /// `waitpid(pid, status, options)`; `status` may be null.
    pub unsafe fn waitpid(pid: i32, status: *mut u32, options: u32) -> Result<u32, Errno> {
        // SAFETY: per the caller.
        split(unsafe { stub::__ulibc_sys_waitpid(pid as usize, status as usize, options as usize) })
    }

    /// `execve(path, argv, envp)`: NUL-terminated strings, NULL-terminated
    /// arrays (either may be null: empty). Returns only on failure.
    pub unsafe fn execve(
        path: *const u8,
        argv: *const *const u8,
        envp: *const *const u8,
    ) -> Result<u32, Errno> {
        // SAFETY: per the caller.
        split(unsafe { stub::__ulibc_sys_execve(path as usize, argv as usize, envp as usize) })
    }

    /// `pipe(fds)`.
    pub unsafe fn pipe(fds: *mut [u32; 2]) -> Result<u32, Errno> {
        // SAFETY: per the caller.
        split(unsafe { stub::__ulibc_sys_pipe(fds as usize) })
    }

    /// `close(fd)`.
    pub fn close(fd: Fd) -> Result<u32, Errno> {
        // SAFETY: no pointer.
        split(unsafe { stub::__ulibc_sys_close(fd as usize) })
    }

    /// `read(fd, buf, count)`.
    pub unsafe fn read(fd: Fd, buf: *mut u8, count: usize) -> Result<u32, Errno> {
        // SAFETY: per the caller.
        split(unsafe { stub::__ulibc_sys_read(fd as usize, buf as usize, count) })
    }

    /// `write(fd, buf, count)`.
    pub unsafe fn write(fd: Fd, buf: *const u8, count: usize) -> Result<u32, Errno> {
        // SAFETY: per the caller.
        split(unsafe { stub::__ulibc_sys_write(fd as usize, buf as usize, count) })
    }

    /// `lseek(fd, offset, whence)`.
    pub fn lseek(fd: Fd, offset: i32, whence: u32) -> Result<u32, Errno> {
        // SAFETY: no pointer.
        split(unsafe { stub::__ulibc_sys_lseek(fd as usize, offset as usize, whence as usize) })
    }

    /// `getdents(fd, buf, count)`.
    pub unsafe fn getdents(fd: Fd, buf: *mut u8, count: usize) -> Result<u32, Errno> {
        // SAFETY: per the caller.
        split(unsafe { stub::__ulibc_sys_getdents(fd as usize, buf as usize, count) })
    }

    /// `fstat(fd, st)`.
    pub unsafe fn fstat(fd: Fd, st: *mut Stat) -> Result<u32, Errno> {
        // SAFETY: per the caller.
        split(unsafe { stub::__ulibc_sys_fstat(fd as usize, st as usize) })
    }

    /// `stat(path, st)`.
    pub unsafe fn stat(path: *const u8, st: *mut Stat) -> Result<u32, Errno> {
        // SAFETY: per the caller.
        split(unsafe { stub::__ulibc_sys_stat(path as usize, st as usize) })
    }

    /// `getrlimit(resource, rlim)`.
    pub unsafe fn getrlimit(resource: u32, rlim: *mut Rlimit) -> Result<u32, Errno> {
        // SAFETY: per the caller.
        split(unsafe { stub::__ulibc_sys_getrlimit(resource as usize, rlim as usize) })
    }

    /// `setrlimit(resource, rlim)`.
    pub unsafe fn setrlimit(resource: u32, rlim: *const Rlimit) -> Result<u32, Errno> {
        // SAFETY: per the caller.
        split(unsafe { stub::__ulibc_sys_setrlimit(resource as usize, rlim as usize) })
    }

    /// `mmap(addr, len, prot, flags, fd, offset)`: the address mapped.
    /// With `MAP_FIXED` the memory at `addr` is replaced.
    pub unsafe fn mmap(
        addr: usize,
        len: usize,
        prot: u32,
        flags: u32,
        fd: Fd,
        offset: u32,
    ) -> Result<u32, Errno> {
        // SAFETY: per the caller.
        split(unsafe {
            stub::__ulibc_sys_mmap(
                addr,
                len,
                prot as usize,
                flags as usize,
                fd as usize,
                offset as usize,
            )
        })
    }

    /// `munmap(addr, len)`.
    pub unsafe fn munmap(addr: usize, len: usize) -> Result<u32, Errno> {
        // SAFETY: per the caller.
        split(unsafe { stub::__ulibc_sys_munmap(addr, len) })
    }

    /// `mprotect(addr, len, prot)`.
    pub unsafe fn mprotect(addr: usize, len: usize, prot: u32) -> Result<u32, Errno> {
        // SAFETY: per the caller.
        split(unsafe { stub::__ulibc_sys_mprotect(addr, len, prot as usize) })
    }

    /// `madvise(addr, len, advice)`.
    pub unsafe fn madvise(addr: usize, len: usize, advice: u32) -> Result<u32, Errno> {
        // SAFETY: per the caller.
        split(unsafe { stub::__ulibc_sys_madvise(addr, len, advice as usize) })
    }

    /// `readdir(fd, ent)`: 1 with an entry stored, 0 at the end.
    pub unsafe fn readdir(fd: Fd, ent: *mut Dirent) -> Result<u32, Errno> {
        // SAFETY: per the caller.
        split(unsafe { stub::__ulibc_sys_readdir(fd as usize, ent as usize) })
    }

    /// `ssyslog(level, msg)`.
    pub unsafe fn ssyslog(level: u32, msg: *const u8) -> Result<u32, Errno> {
        // SAFETY: per the caller.
        split(unsafe { stub::__ulibc_sys_ssyslog(level as usize, msg as usize) })
    }

    /// `nanosleep(req, rem)`.
    pub unsafe fn nanosleep(req: *const Timespec, rem: *mut Timespec) -> Result<u32, Errno> {
        // SAFETY: per the caller.
        split(unsafe { stub::__ulibc_sys_nanosleep(req as usize, rem as usize) })
    }

    /// `gettimeofday(tv, tz)`.
    pub unsafe fn gettimeofday(tv: *mut Timeval, tz: usize) -> Result<u32, Errno> {
        // SAFETY: per the caller.
        split(unsafe { stub::__ulibc_sys_gettimeofday(tv as usize, tz) })
    }

    /// `gethostname(buf, len)`.
    pub unsafe fn gethostname(buf: *mut u8, len: usize) -> Result<u32, Errno> {
        // SAFETY: per the caller.
        split(unsafe { stub::__ulibc_sys_gethostname(buf as usize, len) })
    }

    /// `sethostname(name, len)`.
    pub unsafe fn sethostname(name: *const u8, len: usize) -> Result<u32, Errno> {
        // SAFETY: per the caller.
        split(unsafe { stub::__ulibc_sys_sethostname(name as usize, len) })
    }

    /// `creat(path, mode)`.
    pub unsafe fn creat(path: *const u8, mode: u32) -> Result<u32, Errno> {
        // SAFETY: per the caller.
        split(unsafe { stub::__ulibc_sys_creat(path as usize, mode as usize) })
    }

    /// `ioctl(fd, request, data, len)`.
    pub unsafe fn ioctl(fd: Fd, request: u32, data: usize, len: usize) -> Result<u32, Errno> {
        // SAFETY: per the caller.
        split(unsafe { stub::__ulibc_sys_ioctl(fd as usize, request as usize, data, len) })
    }
}

/// `_exit(status)`: ends the process at once, without `atexit` handlers
/// (see [`crate::exit`]). The kernel keeps `status & 0xff`.
pub fn _exit(status: i32) -> ! {
    raw::exit(status)
}

/// `getpagesize()`: 4096.
pub fn getpagesize() -> Result<usize, Errno> {
    raw::getpagesize().map(|v| v as usize)
}

/// `uname()`.
pub fn uname() -> Result<Utsname, Errno> {
    let mut u = Utsname::default();
    // SAFETY: `u` is a writable `Utsname`.
    unsafe { raw::uname(&mut u) }?;
    Ok(u)
}

/// `time(NULL)`: seconds since the epoch of `CLOCK_REALTIME`.
pub fn time() -> Result<u32, Errno> {
    // SAFETY: a null `tloc` is allowed and means no store.
    unsafe { raw::time(core::ptr::null_mut()) }
}

/// `clock_gettime(clock)`; `clock` is one of [`phantom_abi::clock`].
pub fn clock_gettime(clock: u32) -> Result<Timespec, Errno> {
    let mut ts = Timespec::default();
    // SAFETY: `ts` is a writable `Timespec`.
    unsafe { raw::clock_gettime(clock, &mut ts) }?;
    Ok(ts)
}

/// `getpid()`.
pub fn getpid() -> Result<u32, Errno> {
    raw::getpid()
}

/// `getppid()`: 0 for boot modules.
pub fn getppid() -> Result<u32, Errno> {
    raw::getppid()
}

/// `open(path, flags, mode)`; `flags` from [`phantom_abi::open_flags`]. The new fd.
pub fn open(path: &CStr, flags: u32, mode: u32) -> Result<Fd, Errno> {
    // SAFETY: `path` is NUL-terminated.
    unsafe { raw::open(path.as_ptr().cast(), flags, mode) }.map(|fd| fd as Fd)
}

/// `close(fd)`.
pub fn close(fd: Fd) -> Result<(), Errno> {
    raw::close(fd).map(drop)
}

/// `read(fd, buf)`: the number of bytes read, 0 at end of file.
pub fn read(fd: Fd, buf: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: `buf` is writable for its length.
    unsafe { raw::read(fd, buf.as_mut_ptr(), buf.len()) }.map(|n| n as usize)
}

/// `write(fd, buf)`: the number of bytes written (maybe fewer than asked).
pub fn write(fd: Fd, buf: &[u8]) -> Result<usize, Errno> {
    // SAFETY: `buf` is readable for its length.
    unsafe { raw::write(fd, buf.as_ptr(), buf.len()) }.map(|n| n as usize)
}

/// `lseek(fd, offset, whence)`: the new offset.
pub fn lseek(fd: Fd, offset: i32, whence: u32) -> Result<u32, Errno> {
    raw::lseek(fd, offset, whence)
}

/// `getdents(fd, buf)`: bytes of `linux_dirent` records written into `buf`
/// (0 at the end of the directory); parse them with
/// [`Dirents`](crate::types::Dirents).
pub fn getdents(fd: Fd, buf: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: `buf` is writable for its length.
    unsafe { raw::getdents(fd, buf.as_mut_ptr(), buf.len()) }.map(|n| n as usize)
}

/// `fstat(fd)`.
pub fn fstat(fd: Fd) -> Result<Stat, Errno> {
    let mut st = Stat::default();
    // SAFETY: `st` is a writable `Stat`.
    unsafe { raw::fstat(fd, &mut st) }?;
    Ok(st)
}

/// `stat(path)`.
pub fn stat(path: &CStr) -> Result<Stat, Errno> {
    let mut st = Stat::default();
    // SAFETY: `path` is NUL-terminated, `st` a writable `Stat`.
    unsafe { raw::stat(path.as_ptr().cast(), &mut st) }?;
    Ok(st)
}

/// `getrlimit(resource)`; `resource` from [`phantom_abi::rlimit`].
pub fn getrlimit(resource: u32) -> Result<Rlimit, Errno> {
    let mut r = Rlimit::default();
    // SAFETY: `r` is a writable `Rlimit`.
    unsafe { raw::getrlimit(resource, &mut r) }?;
    Ok(r)
}

/// `setrlimit(resource, limit)`.
pub fn setrlimit(resource: u32, limit: Rlimit) -> Result<(), Errno> {
    // SAFETY: `limit` is a readable `Rlimit`.
    unsafe { raw::setrlimit(resource, &limit) }.map(drop)
}

/// `mmap(addr, len, prot, flags, fd, offset)`: `len` bytes (rounded up
/// to pages) of private anonymous memory, zero until written; `prot` from
/// [`phantom_abi::prot`], `flags` from [`phantom_abi::map`] (the kernel
/// wants `MAP_ANON`, `fd` −1 and `offset` 0). Without `MAP_FIXED`, `addr`
/// is a hint (null: the kernel chooses). The mapping's address.
///
/// # Safety
/// With `MAP_FIXED`, whatever was at `[addr, addr + len)` — the program's
/// own data, heap or another mapping — is replaced by zero pages: nothing
/// the program still uses may live there. (Without it nothing existing is
/// touched; [`mmap_anon`] is the safe form.)
pub unsafe fn mmap(
    addr: *mut u8,
    len: usize,
    prot: u32,
    flags: u32,
    fd: Fd,
    offset: u32,
) -> Result<*mut u8, Errno> {
    // SAFETY: per the caller.
    unsafe { raw::mmap(addr as usize, len, prot, flags, fd, offset) }.map(|a| a as usize as *mut u8)
}

/// `mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)`: fresh zeroed
/// memory where the kernel chooses (top-down below the stack reservation).
pub fn mmap_anon(len: usize, prot: u32) -> Result<*mut u8, Errno> {
    // SAFETY: without MAP_FIXED the kernel only uses free address space.
    unsafe {
        mmap(
            core::ptr::null_mut(),
            len,
            prot,
            crate::types::MAP_ANON,
            -1,
            0,
        )
    }
}

/// `munmap(addr, len)`: unmaps every page of `[addr, addr + ⌈len⌉)` (holes
/// are fine); touching them afterwards is SIGSEGV.
///
/// # Safety
/// Nothing the program still uses may lie in the span.
pub unsafe fn munmap(addr: *mut u8, len: usize) -> Result<(), Errno> {
    // SAFETY: per the caller.
    unsafe { raw::munmap(addr as usize, len) }.map(drop)
}

/// `mprotect(addr, len, prot)`: sets the rights of every page of the span.
///
/// # Safety
/// Code that reads, writes or runs the span afterwards must be allowed to
/// by `prot` (else SIGSEGV); Rust references into it must agree.
pub unsafe fn mprotect(addr: *mut u8, len: usize, prot: u32) -> Result<(), Errno> {
    // SAFETY: per the caller.
    unsafe { raw::mprotect(addr as usize, len, prot) }.map(drop)
}

/// `madvise(addr, len, advice)`; `advice` from [`phantom_abi::madv`].
///
/// # Safety
/// `MADV_DONTNEED` makes the private pages of the span read as zero again:
/// nothing the program still needs may live there.
pub unsafe fn madvise(addr: *mut u8, len: usize, advice: u32) -> Result<(), Errno> {
    // SAFETY: per the caller.
    unsafe { raw::madvise(addr as usize, len, advice) }.map(drop)
}

/// `ioctl(fd, TIOCGETA)`: the terminal's attributes (`ENOTTY` if `fd` is not
/// the console).
pub fn tcgetattr(fd: Fd) -> Result<Termios, Errno> {
    let mut t = Termios::default();
    // SAFETY: TIOCGETA writes one `Termios` at the pointer.
    unsafe { raw::ioctl(fd, TIOCGETA, (&raw mut t) as usize, Termios::SIZE) }?;
    Ok(t)
}

/// `ioctl(fd, TIOCGWINSZ)`: the terminal's size.
pub fn get_winsize(fd: Fd) -> Result<Winsize, Errno> {
    let mut w = Winsize::default();
    // SAFETY: TIOCGWINSZ writes one `Winsize` at the pointer.
    unsafe { raw::ioctl(fd, TIOCGWINSZ, (&raw mut w) as usize, Winsize::SIZE) }?;
    Ok(w)
}

/// `isatty(fd)`: whether `TIOCGETA` succeeds.
pub fn isatty(fd: Fd) -> bool {
    tcgetattr(fd).is_ok()
}

/// Calls without pointer arguments that cannot fail in a way the caller must
/// handle specially: `Err` carries the errno.
macro_rules! plain_calls {
    ($($(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty),*) = $stub:ident;)*) => {$(
        $(#[$doc])*
        pub fn $name($($arg: $ty),*) -> Result<u32, Errno> {
            // SAFETY: the call takes no pointer.
            split(unsafe { stub::$stub($($arg as usize),*) })
        }
    )*};
}

plain_calls! {
    /// `gettid()`: the thread id (one thread per process: the pid).
    gettid() = __ulibc_sys_gettid;
    /// `getuid()`: always 0 (root is the only user).
    getuid() = __ulibc_sys_getuid;
    /// `geteuid()`.
    geteuid() = __ulibc_sys_geteuid;
    /// `getgid()`.
    getgid() = __ulibc_sys_getgid;
    /// `getegid()`.
    getegid() = __ulibc_sys_getegid;
    /// `setuid(id)`: only 0 exists (`EINVAL` otherwise).
    setuid(id: u32) = __ulibc_sys_setuid;
    /// `setgid(id)`.
    setgid(id: u32) = __ulibc_sys_setgid;
    /// `getpgrp()`.
    getpgrp() = __ulibc_sys_getpgrp;
    /// `getpgid(pid)`.
    getpgid(pid: u32) = __ulibc_sys_getpgid;
    /// `setpgid(pid, pgid)`.
    setpgid(pid: u32, pgid: u32) = __ulibc_sys_setpgid;
    /// `umask(mask)`: the previous mask.
    umask(mask: u32) = __ulibc_sys_umask;
    /// `personality(persona)`: `0xFFFFFFFF` queries.
    personality(persona: u32) = __ulibc_sys_personality;
    /// `sync()`.
    sync() = __ulibc_sys_sync;
    /// `sleepmsec(msec)`: Phantom's millisecond sleep.
    sleepmsec(msec: u32) = __ulibc_sys_sleepmsec;
}

/// `fork()`: the child's pid in the parent, 0 in the child.
pub fn fork() -> Result<u32, Errno> {
    // SAFETY: no pointer.
    split(unsafe { stub::__ulibc_sys_fork() })
}

/// Most arguments and environment strings [`execve`] passes.
pub const EXEC_ARGS_MAX: usize = 256;
/// Most bytes of them, NULs included.
pub const EXEC_BYTES_MAX: usize = 16 * 1024;

/// `execve(path, argv, envp)`: replaces the program; returns only the error.
/// `ENAMETOOLONG`/`E2BIG` when the strings do not fit ulibc's buffers
/// ([`EXEC_ARGS_MAX`], [`EXEC_BYTES_MAX`]).
pub fn execve(path: &[u8], argv: &[&[u8]], envp: &[&[u8]]) -> Errno {
    let mut bytes = [0u8; EXEC_BYTES_MAX];
    let mut used = 0usize;
    let mut ptrs = [core::ptr::null::<u8>(); EXEC_ARGS_MAX + 2];
    let base = bytes.as_mut_ptr();
    // Copy `s` and a NUL into `bytes`; its address.
    let mut store = |s: &[u8]| -> Option<*const u8> {
        if s.contains(&0) || used + s.len() + 1 > EXEC_BYTES_MAX {
            return None;
        }
        // SAFETY: `used + s.len() + 1 <= EXEC_BYTES_MAX`: inside `bytes`.
        let at = unsafe { base.add(used) };
        // SAFETY: as above; `s` does not overlap `bytes`.
        unsafe {
            core::ptr::copy_nonoverlapping(s.as_ptr(), at, s.len());
            at.add(s.len()).write(0);
        }
        used += s.len() + 1;
        Some(at.cast_const())
    };
    let Some(path) = store(path) else {
        return Errno::ENAMETOOLONG;
    };
    if argv.len() + envp.len() > EXEC_ARGS_MAX {
        return Errno::E2BIG;
    }
    for (i, a) in argv.iter().enumerate() {
        match store(a) {
            Some(p) => ptrs[i] = p,
            None => return Errno::E2BIG,
        }
    }
    let env_at = argv.len() + 1;
    for (i, e) in envp.iter().enumerate() {
        match store(e) {
            Some(p) => ptrs[env_at + i] = p,
            None => return Errno::E2BIG,
        }
    }
    // SAFETY: every pointer names a NUL-terminated string in `bytes`; both
    // arrays end with a null pointer.
    match unsafe { raw::execve(path, ptrs.as_ptr(), ptrs[env_at..].as_ptr()) } {
        Err(e) => e,
        Ok(_) => Errno::EINVAL,
    }
}

/// `kill(pid, sig)`: `pid` > 0 a process, 0 the caller's group, -1 all but
/// pid 1 and the caller, < -1 the group `-pid`.
pub fn kill(pid: i32, sig: u32) -> Result<(), Errno> {
    // SAFETY: no pointer.
    split(unsafe { stub::__ulibc_sys_kill(pid as usize, sig as usize) }).map(drop)
}

/// What a process does with a signal: its default action, or nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// `SIG_DFL`.
    Default,
    /// `SIG_IGN`.
    Ignore,
}

/// `signal(sig, disposition)`: the previous disposition.
pub fn signal(sig: u32, disposition: Disposition) -> Result<Disposition, Errno> {
    let handler = match disposition {
        Disposition::Default => 0,
        Disposition::Ignore => 1,
    };
    // SAFETY: no pointer (0 and 1 are not handler addresses).
    let old = split(unsafe { stub::__ulibc_sys_signal(sig as usize, handler) })?;
    Ok(if old == 1 {
        Disposition::Ignore
    } else {
        Disposition::Default
    })
}

/// A signal handler: `extern "C" fn(signal)`.
pub type Handler = extern "C" fn(i32);
/// A `SA_SIGINFO` handler: `extern "C" fn(signal, info, context)`.
pub type InfoHandler = extern "C" fn(i32, *mut crate::types::Siginfo, *mut u8);

/// What `sigaction` installs for a signal.
#[derive(Clone, Copy)]
pub enum Action {
    /// `SIG_DFL` or `SIG_IGN`.
    Disposition(Disposition),
    /// A handler (with `flags`, `SA_SIGINFO` aside).
    Handler(Handler),
    /// A `SA_SIGINFO` handler.
    Info(InfoHandler),
}

/// `sigaction(sig, action, mask, flags)`: installs `action`; returns the
/// previous `struct sigaction`.
pub fn sigaction(
    sig: u32,
    action: Action,
    mask: u32,
    flags: u32,
) -> Result<crate::types::Sigaction, Errno> {
    use crate::types::SA_SIGINFO;
    let act = match action {
        Action::Disposition(d) => crate::types::Sigaction {
            sa_handler: matches!(d, Disposition::Ignore) as u32,
            sa_sigaction: 0,
            sa_mask: mask,
            sa_flags: flags & !SA_SIGINFO,
        },
        Action::Handler(h) => crate::types::Sigaction {
            sa_handler: h as usize as u32,
            sa_sigaction: 0,
            sa_mask: mask,
            sa_flags: flags & !SA_SIGINFO,
        },
        Action::Info(h) => crate::types::Sigaction {
            sa_handler: 0,
            sa_sigaction: h as usize as u32,
            sa_mask: mask,
            sa_flags: flags | SA_SIGINFO,
        },
    };
    let mut old = crate::types::Sigaction::default();
    // SAFETY: both point to 16-byte `Sigaction`s of this frame; the handler
    // addresses are functions of this program.
    split(unsafe {
        stub::__ulibc_sys_sigaction(
            sig as usize,
            (&raw const act) as usize,
            (&raw mut old) as usize,
        )
    })?;
    Ok(old)
}

/// `sigprocmask(how, set)`: `SIG_BLOCK`, `SIG_UNBLOCK`, `SIG_SETMASK`; the old
/// mask.
pub fn sigprocmask(how: u32, set: u32) -> Result<u32, Errno> {
    let mut old = 0u32;
    // SAFETY: both point to `u32`s of this frame.
    split(unsafe {
        stub::__ulibc_sys_sigprocmask(
            how as usize,
            (&raw const set) as usize,
            (&raw mut old) as usize,
        )
    })?;
    Ok(old)
}

/// `sigpending()`: the blocked signals waiting.
pub fn sigpending() -> Result<u32, Errno> {
    let mut set = 0u32;
    // SAFETY: points to a `u32` of this frame.
    split(unsafe { stub::__ulibc_sys_sigpending((&raw mut set) as usize) })?;
    Ok(set)
}

/// `sigaltstack(sp, size)`: run `SA_ONSTACK` handlers on `[sp, sp + size)`.
///
/// # Safety
/// The memory must stay reserved for handlers while they may run.
pub unsafe fn sigaltstack(sp: *mut u8, size: usize) -> Result<(), Errno> {
    let ss = crate::types::StackT {
        ss_sp: sp as usize as u32,
        ss_size: size as u32,
        ss_flags: 0,
    };
    // SAFETY: points to a `StackT` of this frame; the old one is not asked for.
    split(unsafe { stub::__ulibc_sys_sigaltstack((&raw const ss) as usize, 0) }).map(drop)
}

/// `raise(sig)`: the signal to this process.
pub fn raise(sig: u32) -> Result<(), Errno> {
    kill(getpid()? as i32, sig)
}

/// `tcsetpgrp(fd, pgid)` (`ioctl TIOCSPGRP`): make `pgid` the terminal's
/// foreground group (the one Ctrl-C signals).
pub fn tcsetpgrp(fd: Fd, pgid: u32) -> Result<(), Errno> {
    let v = pgid;
    // SAFETY: `v` is a readable `u32` of the size the request names.
    unsafe {
        raw::ioctl(
            fd,
            phantom_abi::ioctl::TIOCSPGRP,
            (&raw const v) as usize,
            4,
        )
    }
    .map(drop)
}

/// `tcgetpgrp(fd)` (`ioctl TIOCGPGRP`): the foreground group (0: none).
pub fn tcgetpgrp(fd: Fd) -> Result<u32, Errno> {
    let mut v = 0u32;
    // SAFETY: `v` is a writable `u32` of the size the request names.
    unsafe { raw::ioctl(fd, phantom_abi::ioctl::TIOCGPGRP, (&raw mut v) as usize, 4) }?;
    Ok(v)
}

/// `pipe()`: (read end, write end).
pub fn pipe() -> Result<(Fd, Fd), Errno> {
    let mut fds = [0u32; 2];
    // SAFETY: `fds` is a writable pair of words.
    unsafe { raw::pipe(&mut fds) }?;
    Ok((fds[0] as Fd, fds[1] as Fd))
}

/// `dup(fd)`: a new descriptor for the same open file.
pub fn dup(fd: Fd) -> Result<Fd, Errno> {
    // SAFETY: no pointer.
    split(unsafe { stub::__ulibc_sys_dup(fd as usize) }).map(|v| v as Fd)
}

/// `dup2(fd, to)`: `to` now names `fd`'s open file.
pub fn dup2(fd: Fd, to: Fd) -> Result<Fd, Errno> {
    // SAFETY: no pointer.
    split(unsafe { stub::__ulibc_sys_dup2(fd as usize, to as usize) }).map(|v| v as Fd)
}

/// How a child ended, decoded from a `waitpid` status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildEnd {
    /// `_exit(code)` (`WIFEXITED`, `WEXITSTATUS`).
    Exited(u8),
    /// Killed by a signal (`WIFSIGNALED`, `WTERMSIG`).
    Signaled(u32),
}

impl ChildEnd {
    /// Decode a `waitpid` status.
    pub fn from_status(status: u32) -> ChildEnd {
        match status & 0x7f {
            0 => ChildEnd::Exited((status >> 8) as u8),
            signal => ChildEnd::Signaled(signal),
        }
    }
}

/// `waitpid(pid, options)`: the pid of an ended child (`pid` > 0: that one; -1:
/// any) and how it ended; `Ok(None)` with `WNOHANG` when none has ended yet.
pub fn waitpid(pid: i32, options: u32) -> Result<Option<(u32, ChildEnd)>, Errno> {
    let mut status = 0u32;
    // SAFETY: `status` is a writable `u32`.
    match unsafe { raw::waitpid(pid, &mut status, options) }? {
        0 => Ok(None),
        child => Ok(Some((child, ChildEnd::from_status(status)))),
    }
}

/// `readdir(fd)`: the next entry of the directory open at `fd`, `None` at the
/// end.
pub fn readdir(fd: Fd) -> Result<Option<Dirent>, Errno> {
    let mut d = Dirent::default();
    // SAFETY: `d` is a writable `Dirent`.
    match unsafe { raw::readdir(fd, &mut d) }? {
        0 => Ok(None),
        _ => Ok(Some(d)),
    }
}

/// `ssyslog(level, msg)`: a line in the kernel's log.
pub fn ssyslog(level: u32, msg: &CStr) -> Result<(), Errno> {
    // SAFETY: `msg` is NUL-terminated.
    unsafe { raw::ssyslog(level, msg.as_ptr().cast()) }.map(drop)
}

/// `nanosleep(req, NULL)`.
pub fn nanosleep(req: &Timespec) -> Result<(), Errno> {
    // SAFETY: `req` is a readable `Timespec`; no remainder is asked for.
    unsafe { raw::nanosleep(req, core::ptr::null_mut()) }.map(drop)
}

/// `nanosleep(req, &rem)`: on `EINTR` (a handler ran), `rem` holds the time
/// that was left.
pub fn nanosleep_rem(req: &Timespec, rem: &mut Timespec) -> Result<(), Errno> {
    // SAFETY: `req` is a readable, `rem` a writable `Timespec`.
    unsafe { raw::nanosleep(req, rem) }.map(drop)
}

/// `gettimeofday(&tv, NULL)`.
pub fn gettimeofday() -> Result<Timeval, Errno> {
    let mut tv = Timeval::default();
    // SAFETY: `tv` is a writable `Timeval`.
    unsafe { raw::gettimeofday(&mut tv, 0) }?;
    Ok(tv)
}

/// `gethostname(buf)`: the name's length (without its NUL) in `buf`.
pub fn gethostname(buf: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: `buf` is writable for its length.
    unsafe { raw::gethostname(buf.as_mut_ptr(), buf.len()) }?;
    Ok(buf.iter().position(|&b| b == 0).unwrap_or(buf.len()))
}

/// `sethostname(name)`.
pub fn sethostname(name: &[u8]) -> Result<(), Errno> {
    // SAFETY: `name` is readable for its length.
    unsafe { raw::sethostname(name.as_ptr(), name.len()) }.map(drop)
}

/// A call taking one path.
fn path_call(path: &[u8], call: impl FnOnce(usize) -> u64) -> Result<(), Errno> {
    crate::string::with_cstr(path, |c| split(call(c.as_ptr() as usize)).map(drop))
}

/// `chdir(path)`: the current directory becomes `path`.
pub fn chdir(path: &[u8]) -> Result<(), Errno> {
    // SAFETY: a NUL-terminated path of this frame.
    path_call(path, |p| unsafe { stub::__ulibc_sys_chdir(p) })
}

/// `fchdir(fd)`: the current directory becomes the directory open at `fd`.
pub fn fchdir(fd: Fd) -> Result<(), Errno> {
    // SAFETY: no pointer.
    split(unsafe { stub::__ulibc_sys_fchdir(fd as usize) }).map(drop)
}

/// `getcwd(buf)`: the current directory's path in `buf` (without the NUL).
pub fn getcwd(buf: &mut [u8]) -> Result<&[u8], Errno> {
    // SAFETY: `buf` is writable for its length.
    let n = split(unsafe { stub::__ulibc_sys_getcwd(buf.as_mut_ptr() as usize, buf.len()) })?;
    Ok(&buf[..(n as usize).saturating_sub(1)])
}

/// `mkdir(path, mode)`.
pub fn mkdir(path: &[u8], mode: u32) -> Result<(), Errno> {
    // SAFETY: a NUL-terminated path of this frame.
    path_call(path, |p| unsafe {
        stub::__ulibc_sys_mkdir(p, mode as usize)
    })
}

/// `rmdir(path)`: remove an empty directory.
pub fn rmdir(path: &[u8]) -> Result<(), Errno> {
    // SAFETY: a NUL-terminated path of this frame.
    path_call(path, |p| unsafe { stub::__ulibc_sys_rmdir(p) })
}

/// `unlink(path)`: remove a file's name.
pub fn unlink(path: &[u8]) -> Result<(), Errno> {
    // SAFETY: a NUL-terminated path of this frame.
    path_call(path, |p| unsafe { stub::__ulibc_sys_unlink(p) })
}

/// `rename(from, to)`.
pub fn rename(from: &[u8], to: &[u8]) -> Result<(), Errno> {
    crate::string::with_cstr(from, |f| {
        crate::string::with_cstr(to, |t| {
            // SAFETY: two NUL-terminated paths of this frame.
            split(unsafe { stub::__ulibc_sys_rename(f.as_ptr() as usize, t.as_ptr() as usize) })
                .map(drop)
        })
    })
}

/// `poll(fds, timeout_ms)`: how many entries have `revents` (negative
/// timeout: no limit).
pub fn poll(fds: &mut [crate::types::Pollfd], timeout_ms: i32) -> Result<u32, Errno> {
    // `Pollfd` is `repr(C)` with Phantom's layout (8 bytes, no padding).
    // SAFETY: `fds` is writable for its length.
    split(unsafe {
        stub::__ulibc_sys_poll(fds.as_mut_ptr() as usize, fds.len(), timeout_ms as usize)
    })
}

/// `sigsuspend(mask)`: wait for a signal with `mask` blocked; returns the
/// error (`EINTR` after a handler ran).
pub fn sigsuspend(mask: u32) -> Errno {
    // SAFETY: points to a `u32` of this frame.
    match split(unsafe { stub::__ulibc_sys_sigsuspend((&raw const mask) as usize) }) {
        Err(e) => e,
        Ok(_) => Errno::EINTR,
    }
}

/// `siginterrupt(sig, interrupt)`: a handler of `sig` interrupts waiting calls
/// (`EINTR`) or restarts them.
pub fn siginterrupt(sig: u32, interrupt: bool) -> Result<(), Errno> {
    // SAFETY: no pointer.
    split(unsafe { stub::__ulibc_sys_siginterrupt(sig as usize, usize::from(interrupt)) }).map(drop)
}

/// `setitimer(ITIMER_REAL, new)`: the previous setting.
pub fn setitimer(new: &crate::types::Itimerval) -> Result<crate::types::Itimerval, Errno> {
    let mut old = crate::types::Itimerval::from_nanos(0, 0);
    // SAFETY: both point to `Itimerval`s of this frame.
    split(unsafe {
        stub::__ulibc_sys_setitimer(
            crate::types::ITIMER_REAL as usize,
            (new as *const crate::types::Itimerval) as usize,
            (&raw mut old) as usize,
        )
    })?;
    Ok(old)
}

/// `getitimer(ITIMER_REAL)`.
pub fn getitimer() -> Result<crate::types::Itimerval, Errno> {
    let mut cur = crate::types::Itimerval::from_nanos(0, 0);
    // SAFETY: points to an `Itimerval` of this frame.
    split(unsafe {
        stub::__ulibc_sys_getitimer(crate::types::ITIMER_REAL as usize, (&raw mut cur) as usize)
    })?;
    Ok(cur)
}

/// `alarm(seconds)`: `SIGALRM` in `seconds` (0 cancels); the seconds the
/// previous alarm had left (rounded, at least 1 when one was armed).
pub fn alarm(seconds: u32) -> u32 {
    let new = crate::types::Itimerval {
        it_interval_sec: 0,
        it_interval_usec: 0,
        it_value_sec: seconds.min(i32::MAX as u32) as i32,
        it_value_usec: 0,
    };
    match setitimer(&new) {
        Ok(old) if old.it_value_sec > 0 || old.it_value_usec > 0 => {
            (old.it_value_sec as u32 + u32::from(old.it_value_usec >= 500_000)).max(1)
        }
        _ => 0,
    }
}
