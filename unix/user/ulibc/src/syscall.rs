//! The raw syscall interface: numbers and the call-gate stubs.
//!
//! Each stub is Phantom's three instructions, `mov $NR, %eax; lcall $0x7, $0;
//! ret`, called with the C calling convention: at the `lcall`, `[esp]` is the
//! return address into the wrapper and `[esp+4]`, `[esp+8]`, … are `arg0`,
//! `arg1`, … — exactly the stack `docs/abi.md` specifies. The kernel returns
//! the result in `eax` and errno in `edx`; a cdecl function returning a
//! 64-bit value returns it in `edx:eax`, so each stub is declared as
//! returning `u64` and [`split`] turns that into a `Result`. The kernel
//! preserves `ebx`, `esi`, `edi`, `ebp` (the cdecl callee-saved registers),
//! so the stubs need no saving of their own; `ecx` and the flags are
//! caller-saved anyway.
//!
//! [`syscall`] reaches any number (unknown ones give `ENOSYS`).
//!
//! On other architectures (the host unit tests) every stub is a fake that
//! fails with `ENOSYS`.

use crate::errno::{Errno, set_errno};

/// What the host fakes answer for every call: eax = -1, edx = `ENOSYS`.
#[cfg(not(target_arch = "x86"))]
const HOST_ENOSYS: u64 = ((Errno::ENOSYS.0 as u64) << 32) | 0xFFFF_FFFF;

/// Syscall numbers (`docs/abi.md`; Phantom's where it has them), shared with
/// the kernel through the `phantom-abi` crate.
pub use phantom_abi::nr;

/// Splits a stub's `edx:eax` into the ABI's result: `edx` = 0 is success
/// with `eax` the value; otherwise `edx` is the errno (and `eax` = −1), and
/// the global `errno` is set.
#[inline]
pub fn split(ret: u64) -> Result<u32, Errno> {
    let value = ret as u32;
    let err = (ret >> 32) as u32;
    if err == 0 {
        Ok(value)
    } else {
        let e = Errno(err);
        set_errno(e);
        Err(e)
    }
}

macro_rules! stubs {
    ($($(#[$doc:meta])* $name:ident = $nr:path, ($($arg:ident),*);)*) => {
        $(
            #[cfg(target_arch = "x86")]
            core::arch::global_asm!(
                concat!(".pushsection .text.", stringify!($name), ",\"ax\",@progbits"),
                concat!(".globl ", stringify!($name)),
                concat!(".type ", stringify!($name), ",@function"),
                ".p2align 4",
                concat!(stringify!($name), ":"),
                "    movl ${nr}, %eax",
                "    lcall $7, $0",
                "    ret",
                concat!(".size ", stringify!($name), ", . - ", stringify!($name)),
                ".popsection",
                nr = const $nr,
                options(att_syntax),
            );
        )*

        /// The call-gate stubs, one per syscall: cdecl, result in `edx:eax`
        /// (errno in the high half). Use [`split`] on the result.
        #[cfg(target_arch = "x86")]
        pub mod stub {
            unsafe extern "C" {
                $(
                    $(#[$doc])*
                    pub fn $name($($arg: usize),*) -> u64;
                )*
            }
        }

        /// Host fakes of the stubs: every call fails with `ENOSYS`.
        #[cfg(not(target_arch = "x86"))]
        #[allow(clippy::missing_safety_doc)]
        pub mod stub {
            $(
                $(#[$doc])*
                pub unsafe extern "C" fn $name($($arg: usize),*) -> u64 {
                    $(let _ = $arg;)*
                    super::HOST_ENOSYS
                }
            )*
        }
    };
}

stubs! {
    /// `_exit(status)`.
    __ulibc_sys_exit = nr::EXIT, (status);
    /// `getpagesize()`.
    __ulibc_sys_getpagesize = nr::GETPAGESIZE, ();
    /// `uname(buf)`.
    __ulibc_sys_uname = nr::UNAME, (buf);
    /// `time(tloc)`: stores the 64-bit `time_t` at `tloc` unless NULL.
    __ulibc_sys_time = nr::TIME, (tloc);
    /// `ssyslog(level, msg)`.
    __ulibc_sys_ssyslog = nr::SSYSLOG, (level, msg);
    /// `personality(persona)`.
    __ulibc_sys_personality = nr::PERSONALITY, (persona);
    /// `sync()`.
    __ulibc_sys_sync = nr::SYNC, ();
    /// `sleepmsec(msec)`.
    __ulibc_sys_sleepmsec = nr::SLEEPMSEC, (msec);
    /// `nanosleep(req, rem)`.
    __ulibc_sys_nanosleep = nr::NANOSLEEP, (req, rem);
    /// `gettimeofday(tv, tz)`.
    __ulibc_sys_gettimeofday = nr::GETTIMEOFDAY, (tv, tz);
    /// `gettid()`.
    __ulibc_sys_gettid = nr::GETTID, ();
    /// `getuid()`.
    __ulibc_sys_getuid = nr::GETUID, ();
    /// `geteuid()`.
    __ulibc_sys_geteuid = nr::GETEUID, ();
    /// `getgid()`.
    __ulibc_sys_getgid = nr::GETGID, ();
    /// `getegid()`.
    __ulibc_sys_getegid = nr::GETEGID, ();
    /// `setuid(id)`.
    __ulibc_sys_setuid = nr::SETUID, (id);
    /// `setgid(id)`.
    __ulibc_sys_setgid = nr::SETGID, (id);
    /// `getpgrp()`.
    __ulibc_sys_getpgrp = nr::GETPGRP, ();
    /// `getpgid(pid)`.
    __ulibc_sys_getpgid = nr::GETPGID, (pid);
    /// `setpgid(pid, pgid)`.
    __ulibc_sys_setpgid = nr::SETPGID, (pid, pgid);
    /// `umask(mask)`.
    __ulibc_sys_umask = nr::UMASK, (mask);
    /// `gethostname(buf, len)`.
    __ulibc_sys_gethostname = nr::GETHOSTNAME, (buf, len);
    /// `sethostname(name, len)`.
    __ulibc_sys_sethostname = nr::SETHOSTNAME, (name, len);
    /// `creat(path, mode)`.
    __ulibc_sys_creat = nr::CREAT, (path, mode);
    /// `readdir(fd, dirent)`: one Phantom `struct dirent` per call.
    __ulibc_sys_readdir = nr::READDIR, (fd, dirent);
    /// `clock_gettime(clock, ts)`.
    __ulibc_sys_clock_gettime = nr::CLOCK_GETTIME, (clock, ts);
    /// `getpid()`.
    __ulibc_sys_getpid = nr::GETPID, ();
    /// `getppid()`.
    __ulibc_sys_getppid = nr::GETPPID, ();
    /// `open(path, flags, mode)`.
    __ulibc_sys_open = nr::OPEN, (path, flags, mode);
    /// `close(fd)`.
    __ulibc_sys_close = nr::CLOSE, (fd);
    /// `read(fd, buf, count)`.
    __ulibc_sys_read = nr::READ, (fd, buf, count);
    /// `write(fd, buf, count)`.
    __ulibc_sys_write = nr::WRITE, (fd, buf, count);
    /// `lseek(fd, offset, whence)`.
    __ulibc_sys_lseek = nr::LSEEK, (fd, offset, whence);
    /// `getdents(fd, buf, count)`.
    __ulibc_sys_getdents = nr::GETDENTS, (fd, buf, count);
    /// `fstat(fd, st)`.
    __ulibc_sys_fstat = nr::FSTAT, (fd, st);
    /// `stat(path, st)`.
    __ulibc_sys_stat = nr::STAT, (path, st);
    /// `brk(addr)`.
    __ulibc_sys_brk = nr::BRK, (addr);
    /// `ioctl(fd, request, data, len)`: Phantom's four arguments.
    __ulibc_sys_ioctl = nr::IOCTL, (fd, request, data, len);
    /// `getrlimit(resource, rlim)`.
    __ulibc_sys_getrlimit = nr::GETRLIMIT, (resource, rlim);
    /// `setrlimit(resource, rlim)`.
    __ulibc_sys_setrlimit = nr::SETRLIMIT, (resource, rlim);
    /// `madvise(addr, len, advice)`.
    __ulibc_sys_madvise = nr::MADVISE, (addr, len, advice);
    /// `mmap(addr, len, prot, flags, fd, offset)`: six arguments
    /// on the stack.
    __ulibc_sys_mmap = nr::MMAP, (addr, len, prot, flags, fd, offset);
    /// `mprotect(addr, len, prot)`.
    __ulibc_sys_mprotect = nr::MPROTECT, (addr, len, prot);
    /// `munmap(addr, len)`.
    __ulibc_sys_munmap = nr::MUNMAP, (addr, len);
    /// `fork()`: the child's pid, 0 in the child.
    __ulibc_sys_fork = nr::FORK, ();
    /// `waitpid(pid, status, options)`.
    __ulibc_sys_waitpid = nr::WAITPID, (pid, status, options);
    /// `pipe(fds)`.
    __ulibc_sys_pipe = nr::PIPE, (fds);
    /// `kill(pid, sig)`.
    __ulibc_sys_kill = nr::KILL, (pid, sig);
    /// `signal(sig, handler)`: `SIG_DFL` 0, `SIG_IGN` 1 or a handler.
    __ulibc_sys_signal = nr::SIGNAL, (sig, handler);
    /// `sigaction(sig, act, oact)`.
    __ulibc_sys_sigaction = nr::SIGACTION, (sig, act, oact);
    /// `sigprocmask(how, set, oset)`.
    __ulibc_sys_sigprocmask = nr::SIGPROCMASK, (how, set, oset);
    /// `sigpending(set)`.
    __ulibc_sys_sigpending = nr::SIGPENDING, (set);
    /// `sigaltstack(ss, oss)`.
    __ulibc_sys_sigaltstack = nr::SIGALTSTACK, (ss, oss);
    /// `execve(path, argv, envp)`.
    __ulibc_sys_execve = nr::EXECVE, (path, argv, envp);
    /// `dup(fd)`.
    __ulibc_sys_dup = nr::DUP, (fd);
    /// `dup2(fd, to)`.
    __ulibc_sys_dup2 = nr::DUP2, (fd, to);
    /// `chdir(path)`.
    __ulibc_sys_chdir = nr::CHDIR, (path);
    /// `fchdir(fd)`.
    __ulibc_sys_fchdir = nr::FCHDIR, (fd);
    /// `getcwd(buf, size)`: the length with the NUL.
    __ulibc_sys_getcwd = nr::GETCWD, (buf, size);
    /// `mkdir(path, mode)`.
    __ulibc_sys_mkdir = nr::MKDIR, (path, mode);
    /// `rmdir(path)`.
    __ulibc_sys_rmdir = nr::RMDIR, (path);
    /// `unlink(path)`.
    __ulibc_sys_unlink = nr::UNLINK, (path);
    /// `rename(from, to)` (extension).
    __ulibc_sys_rename = nr::RENAME, (from, to);
    /// `poll(fds, nfds, timeout)` (extension).
    __ulibc_sys_poll = nr::POLL, (fds, nfds, timeout);
    /// `sigsuspend(mask)`.
    __ulibc_sys_sigsuspend = nr::SIGSUSPEND, (mask);
    /// `siginterrupt(sig, flag)`.
    __ulibc_sys_siginterrupt = nr::SIGINTERRUPT, (sig, flag);
    /// `setitimer(which, new, old)`.
    __ulibc_sys_setitimer = nr::SETITIMER, (which, new, old);
    /// `getitimer(which, curr)`.
    __ulibc_sys_getitimer = nr::GETITIMER, (which, curr);
}

// The generic stub: `__ulibc_syscall(nr, a0, …, a5)`. It turns the caller's
// frame `[ret][nr][a0]…` into the ABI's `[ret][a0]…` in place — the return
// address moves into `nr`'s slot (an argument slot belongs to the callee in
// cdecl) — makes the call, and returns with `jmp *(%esp)`, which leaves
// `esp` exactly where a `ret` would have. Nothing live is ever below `esp`.
#[cfg(target_arch = "x86")]
core::arch::global_asm!(
    ".pushsection .text.__ulibc_syscall,\"ax\",@progbits",
    ".globl __ulibc_syscall",
    ".type __ulibc_syscall,@function",
    ".p2align 4",
    "__ulibc_syscall:",
    "    movl 4(%esp), %eax",
    "    popl %ecx",
    "    movl %ecx, (%esp)",
    "    lcall $7, $0",
    "    jmp *(%esp)",
    ".size __ulibc_syscall, . - __ulibc_syscall",
    ".popsection",
    options(att_syntax),
);

#[cfg(target_arch = "x86")]
unsafe extern "C" {
    fn __ulibc_syscall(
        nr: u32,
        a0: usize,
        a1: usize,
        a2: usize,
        a3: usize,
        a4: usize,
        a5: usize,
    ) -> u64;
}

#[cfg(not(target_arch = "x86"))]
unsafe extern "C" fn __ulibc_syscall(
    _: u32,
    _: usize,
    _: usize,
    _: usize,
    _: usize,
    _: usize,
    _: usize,
) -> u64 {
    HOST_ENOSYS
}

/// Any syscall by number with up to six arguments (unused ones are passed
/// as 0). Sets `errno` on failure.
///
/// # Safety
/// The kernel may read or write memory at any argument that the syscall
/// treats as a pointer, and `_exit` does not return: the caller answers for
/// what the call does.
pub unsafe fn syscall(nr: u32, args: &[usize]) -> Result<u32, Errno> {
    let a = |i: usize| args.get(i).copied().unwrap_or(0);
    // SAFETY: the stub follows the ABI; the caller answers for the effects.
    split(unsafe { __ulibc_syscall(nr, a(0), a(1), a(2), a(3), a(4), a(5)) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_success_and_error() {
        let _lock = crate::errno_lock();
        assert_eq!(split(42), Ok(42));
        assert_eq!(split(0xFFFF_FFFF), Ok(0xFFFF_FFFF));
        assert_eq!(split((14u64 << 32) | 0xFFFF_FFFF), Err(Errno::EFAULT));
        assert_eq!(crate::errno::errno(), Errno::EFAULT);
    }

    #[test]
    fn host_fakes_fail_with_enosys() {
        let _lock = crate::errno_lock();
        // SAFETY: the host fake touches nothing.
        let r = unsafe { stub::__ulibc_sys_getpid() };
        assert_eq!(split(r), Err(Errno::ENOSYS));
        // SAFETY: as above.
        assert_eq!(unsafe { syscall(nr::GETPID, &[]) }, Err(Errno::ENOSYS));
        assert_eq!(crate::sys::mmap_anon(4096, 3), Err(Errno::ENOSYS));
        // SAFETY: the host fakes touch nothing.
        let r = unsafe { crate::sys::raw::munmap(0x1000, 4096) };
        assert_eq!(r, Err(Errno::ENOSYS));
    }

    #[test]
    fn memory_numbers() {
        assert_eq!(
            (nr::MADVISE, nr::MMAP, nr::MPROTECT, nr::MUNMAP),
            (512, 516, 517, 522)
        );
        assert_eq!((nr::BRK, nr::GETRLIMIT, nr::SETRLIMIT), (256, 274, 275));
    }
}
