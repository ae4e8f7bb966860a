//! The native personality — Phantom's ABI (`docs/abi.md`): the call gate's syscall
//! number in `eax`, 32-bit cdecl arguments on the user stack, Phantom's numbers
//! ([`crate::abi::nr`]) picking the handler, and the result encoded as `eax` (value,
//! −1 on error) and `edx` (errno, 0 on success). Handlers are the one Unix core in
//! the sibling modules; a second personality (Linux's `int 0x80`) is another number
//! table and encoder over the same handlers.

use super::{fs, ids, info, mem, pipes, proc, signals, SyscallContext, SyscallResult};
use crate::abi::nr;
use crate::errno::Errno;
use crate::user::{copy_from_user, UserMemory, UserPtr};

/// Most arguments a call takes.
pub use crate::abi::nr::MAX_ARGS;

/// The registers a finished call returns to user space with: `(eax, edx)`.
pub fn encode(result: Result<u32, Errno>) -> (u32, u32) {
    match result {
        Ok(v) => (v, 0),
        Err(e) => (u32::MAX, e.number()),
    }
}

/// Number of 32-bit arguments syscall `nr` takes (the ABI's table; 0 for numbers
/// not in it).
pub use crate::abi::nr::arg_count;

/// Read the arguments of syscall `nr` from the user stack: at the gate, `[esp]` is
/// the stub's return address and `arg i` is at `esp + 4 + 4 i`. Only the words the
/// call takes are read, in one copy; a bad stack is `EFAULT`.
#[inline(never)]
pub fn read_args(
    mem: &mut (impl UserMemory + ?Sized),
    esp: u32,
    nr: u32,
) -> Result<[u32; MAX_ARGS], Errno> {
    let count = arg_count(nr).min(MAX_ARGS);
    let mut bytes = [0u8; 4 * MAX_ARGS];
    let at = UserPtr(esp).offset(4).ok_or(Errno::EFAULT)?;
    copy_from_user(mem, at, &mut bytes[..4 * count])?;
    let mut args = [0u32; MAX_ARGS];
    for (a, word) in args.iter_mut().zip(bytes.chunks_exact(4)).take(count) {
        *a = u32::from_le_bytes([word[0], word[1], word[2], word[3]]);
    }
    Ok(args)
}

/// Run syscall `nr` with the arguments on the user stack at `esp` (the gate's entry
/// point: reads them with [`read_args`], then [`dispatch`]).
pub fn dispatch_from_stack<C: SyscallContext + ?Sized>(
    ctx: &mut C,
    nr: u32,
    esp: u32,
) -> SyscallResult {
    let args = if arg_count(nr) == 0 {
        [0; MAX_ARGS]
    } else {
        match read_args(&mut ctx.parts().mem, esp, nr) {
            Ok(a) => a,
            Err(e) => return SyscallResult::err(e),
        }
    };
    dispatch(ctx, nr, args)
}

/// A blocked call `nr` (arguments on the user stack at `esp`) that a caught
/// signal interrupts and does not restart: what it returns (`EINTR`) and what
/// it leaves behind — a `nanosleep` writes the time it had left at its `rem`
/// (when not NULL), and any sleep's deadline goes.
pub fn interrupted_from_stack<C: SyscallContext + ?Sized>(
    ctx: &mut C,
    nr: u32,
    esp: u32,
) -> SyscallResult {
    let now = ctx.monotonic_ns();
    let left = ctx
        .parts()
        .process
        .sleep_until
        .take()
        .map(|deadline| deadline.saturating_sub(now));
    if let (nr::NANOSLEEP, Some(left)) = (nr, left) {
        let args = read_args(&mut ctx.parts().mem, esp, nr);
        let stored = args.and_then(|a| info::store_remaining(ctx, UserPtr(a[1]), left));
        if let Err(e) = stored {
            return SyscallResult::err(e);
        }
    }
    SyscallResult::err(Errno::EINTR)
}

/// Whether the kernel may refuse call `nr` with `ENOMEM` to keep its own memory:
/// the calls that allocate kernel memory for the caller (ranges, page numbers,
/// open files, names) when it is low, and `munmap` (a split allocates a range)
/// only when it is critically low, so a process can still give memory back.
fn refused_for_kernel_memory<C: SyscallContext + ?Sized>(ctx: &C, nr: u32) -> bool {
    match nr {
        nr::MMAP
        | nr::MPROTECT
        | nr::MADVISE
        | nr::BRK
        | nr::SETRLIMIT
        | nr::OPEN
        | nr::CREAT
        | nr::MKDIR
        | nr::RENAME
        | nr::SETHOSTNAME
        | nr::FORK
        | nr::VFORK
        | nr::EXECVE
        | nr::PIPE
        | nr::DUP
        | nr::DUP2 => ctx.kernel_memory_low(),
        nr::MUNMAP => ctx.kernel_memory_critical(),
        _ => false,
    }
}

/// Run syscall `nr` with `args`. Unknown numbers give `ENOSYS`.
pub fn dispatch<C: SyscallContext + ?Sized>(
    ctx: &mut C,
    nr: u32,
    args: [u32; MAX_ARGS],
) -> SyscallResult {
    let [a0, a1, a2, a3, a4, a5] = args;
    if refused_for_kernel_memory(ctx, nr) {
        return SyscallResult::err(Errno::ENOMEM);
    }
    let r = match nr {
        nr::GETPID => Ok(ctx.pid()),
        nr::EXIT => return SyscallResult::Exit((a0 & 0xff) as u8),
        nr::SSYSLOG => ids::ssyslog(ctx, a0, UserPtr(a1)),
        nr::GETPAGESIZE => Ok(crate::abi::PAGE_SIZE),
        nr::PERSONALITY => ids::personality(ctx, a0),
        nr::UNAME => info::uname(ctx, UserPtr(a0)),
        // Nothing is buffered on its way to a disk yet.
        nr::SYNC => Ok(0),
        nr::SLEEPMSEC => return info::sleepmsec(ctx, a0),
        nr::NANOSLEEP => return info::nanosleep(ctx, UserPtr(a0)),
        nr::TIME => info::time(ctx, UserPtr(a0)),
        nr::GETTIMEOFDAY => info::gettimeofday(ctx, UserPtr(a0)),
        nr::CLOCK_GETTIME => info::clock_gettime(ctx, a0, UserPtr(a1)),
        // One thread per process: its thread id is its pid.
        nr::GETTID => Ok(ctx.pid()),
        nr::GETPPID => Ok(ctx.ppid()),
        nr::GETUID
        | nr::GETUID32
        | nr::GETEUID
        | nr::GETEUID32
        | nr::GETGID
        | nr::GETGID32
        | nr::GETEGID
        | nr::GETEGID32 => Ok(crate::abi::ROOT_ID),
        nr::SETUID | nr::SETUID32 | nr::SETGID | nr::SETGID32 => ids::set_id(a0),
        nr::SETREUID | nr::SETREUID32 | nr::SETREGID | nr::SETREGID32 => ids::set_ids(&[a0, a1]),
        nr::SETRESUID | nr::SETRESUID32 | nr::SETRESGID | nr::SETRESGID32 => {
            ids::set_ids(&[a0, a1, a2])
        }
        nr::SETGROUPS | nr::SETGROUPS32 => ids::setgroups(ctx, a0, UserPtr(a1)),
        nr::GETPGID => ids::getpgid(ctx, a0),
        nr::GETPGRP => ids::getpgrp(ctx),
        nr::SETPGID => ids::setpgid(ctx, a0, a1),
        nr::SETPGRP => ids::setpgid(ctx, 0, 0),
        nr::UMASK => ids::umask(ctx, a0),
        nr::GETHOSTNAME => info::gethostname(ctx, UserPtr(a0), a1),
        nr::SETHOSTNAME => info::sethostname(ctx, UserPtr(a0), a1),
        nr::OPEN => fs::open(ctx, UserPtr(a0), a1, a2),
        nr::CREAT => fs::creat(ctx, UserPtr(a0), a1),
        nr::CLOSE => fs::close(ctx, a0),
        nr::READ => return fs::read(ctx, a0, UserPtr(a1), a2),
        nr::WRITE => return fs::write(ctx, a0, UserPtr(a1), a2),
        nr::PIPE => pipes::pipe(ctx, UserPtr(a0)),
        nr::DUP => pipes::dup(ctx, a0),
        nr::DUP2 => pipes::dup2(ctx, a0, a1),
        nr::FCNTL | nr::FCNTL64 => pipes::fcntl(ctx, a0, a1, a2),
        nr::LSEEK => fs::lseek(ctx, a0, a1 as i32, a2),
        nr::CHDIR => fs::chdir(ctx, UserPtr(a0)),
        nr::FCHDIR => fs::fchdir(ctx, a0),
        nr::GETCWD => fs::getcwd(ctx, UserPtr(a0), a1),
        nr::MKDIR => fs::mkdir(ctx, UserPtr(a0), a1),
        nr::RMDIR => fs::rmdir(ctx, UserPtr(a0)),
        nr::UNLINK => fs::unlink(ctx, UserPtr(a0)),
        nr::RENAME => fs::rename(ctx, UserPtr(a0), UserPtr(a1)),
        nr::GETDENTS => fs::getdents(ctx, a0, UserPtr(a1), a2),
        nr::READDIR => fs::readdir(ctx, a0, UserPtr(a1)),
        nr::FSTAT => fs::fstat(ctx, a0, UserPtr(a1)),
        nr::STAT | nr::LSTAT => fs::stat(ctx, UserPtr(a0), UserPtr(a1)),
        nr::IOCTL => fs::ioctl(ctx, a0, a1, UserPtr(a2), a3),
        nr::BRK => mem::brk(ctx, a0),
        nr::FORK | nr::VFORK => proc::fork(ctx),
        nr::EXECVE => proc::execve(ctx, UserPtr(a0), UserPtr(a1), UserPtr(a2)),
        nr::WAITPID => return proc::waitpid(ctx, a0, UserPtr(a1), a2),
        nr::KILL => return signals::kill(ctx, a0, a1),
        nr::RAISE => return signals::raise(ctx, a0),
        nr::SIGNAL => signals::signal(ctx, a0, a1),
        nr::SIGACTION => signals::sigaction(ctx, a0, UserPtr(a1), UserPtr(a2)),
        nr::SIGPROCMASK => signals::sigprocmask(ctx, a0, UserPtr(a1), UserPtr(a2)),
        nr::SIGPENDING => signals::sigpending(ctx, UserPtr(a0)),
        nr::SIGALTSTACK => signals::sigaltstack(ctx, UserPtr(a0), UserPtr(a1)),
        nr::SIGSUSPEND => return signals::sigsuspend(ctx, UserPtr(a0)),
        nr::SIGINTERRUPT => signals::siginterrupt(ctx, a0, a1),
        nr::GETITIMER => signals::getitimer(ctx, a0, UserPtr(a1)),
        nr::SETITIMER => signals::setitimer(ctx, a0, UserPtr(a1), UserPtr(a2)),
        nr::POLL => return fs::poll(ctx, UserPtr(a0), a1, a2 as i32),
        nr::WAIT => return proc::waitpid(ctx, u32::MAX, UserPtr(a0), 0),
        nr::MMAP => mem::mmap(
            ctx,
            crate::mm::MmapRequest {
                addr: a0,
                len: a1,
                prot: a2,
                flags: a3,
                fd: a4,
                offset: a5,
            },
        ),
        nr::MUNMAP => mem::munmap(ctx, a0, a1),
        nr::MPROTECT => mem::mprotect(ctx, a0, a1, a2),
        nr::MADVISE => mem::madvise(ctx, a0, a1, a2),
        nr::GETRLIMIT => mem::getrlimit(ctx, a0, UserPtr(a1)),
        nr::SETRLIMIT => mem::setrlimit(ctx, a0, UserPtr(a1)),
        _ => Err(Errno::ENOSYS),
    };
    r.into()
}
