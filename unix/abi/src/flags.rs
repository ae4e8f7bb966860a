//! Flag and constant values of the native ABI: Phantom's where its headers define
//! them (`include/sys/fcntl.h`, `include/sys/stat.h`, `include/sys/ioccom.h`,
//! `include/signal.h`), and Linux's for the memory calls Phantom numbers but never
//! specified (`mmap`, `madvise`, resource limits). `docs/abi.md` marks which is which.

macro_rules! consts {
    ($(#[$mdoc:meta])* $module:ident : $ty:ty { $($(#[$doc:meta])* $name:ident = $value:expr;)* }) => {
        $(#[$mdoc])*
        pub mod $module {
            $(
                $(#[$doc])*
                pub const $name: $ty = $value;
            )*
            /// Every name and value of this group (for generated consumers).
            pub const ALL: &[(&str, u64)] = &[$((stringify!($name), $name as u64)),*];
        }
    };
}

consts! {
    /// `open` flags: Phantom's (`include/sys/fcntl.h`); `O_NONBLOCK`, `O_DIRECTORY` and
    /// `O_CLOEXEC` are extensions with FreeBSD's values. `O_TEXT`, `O_BINARY`,
    /// `O_SHORT_LIVED` are accepted and mean nothing here.
    open_flags: u32 {
        /// Read only.
        O_RDONLY = 0;
        /// Write only.
        O_WRONLY = 1;
        /// Read and write.
        O_RDWR = 2;
        /// Access mode mask.
        O_ACCMODE = 3;
        /// Non-blocking I/O (extension, FreeBSD's value).
        O_NONBLOCK = 0x0004;
        /// Every write appends.
        O_APPEND = 0x0008;
        /// The file disappears when its last descriptor closes.
        O_TEMPORARY = 0x0040;
        /// Create the file if it does not exist.
        O_CREAT = 0x0100;
        /// Truncate a regular file to length 0.
        O_TRUNC = 0x0200;
        /// With `O_CREAT`: fail if the file exists.
        O_EXCL = 0x0400;
        /// A hint that the file will not live long (ignored).
        O_SHORT_LIVED = 0x1000;
        /// Text mode (ignored: no translation is ever made).
        O_TEXT = 0x4000;
        /// Binary mode (the only mode).
        O_BINARY = 0x8000;
        /// Fail unless the path is a directory (extension, FreeBSD's value).
        O_DIRECTORY = 0x0002_0000;
        /// Close on `execve` (extension, FreeBSD's value).
        O_CLOEXEC = 0x0010_0000;
    }
}

consts! {
    /// `fcntl` commands (Phantom's, equal to Linux's for 0–14).
    fcntl: u32 {
        /// Duplicate a descriptor.
        F_DUPFD = 0;
        /// Get the close-on-exec flag.
        F_GETFD = 1;
        /// Set the close-on-exec flag.
        F_SETFD = 2;
        /// Get the status flags.
        F_GETFL = 3;
        /// Set the status flags.
        F_SETFL = 4;
        /// The close-on-exec flag of `F_GETFD`/`F_SETFD`.
        FD_CLOEXEC = 1;
    }
}

consts! {
    /// `lseek` whence values.
    seek: u32 {
        /// From the start.
        SEEK_SET = 0;
        /// From the current offset.
        SEEK_CUR = 1;
        /// From the end.
        SEEK_END = 2;
    }
}

consts! {
    /// File type and permission bits of `st_mode` (Phantom's, equal to Linux's).
    mode: u32 {
        /// File type mask.
        S_IFMT = 0xF000;
        /// FIFO.
        S_IFIFO = 0x1000;
        /// Character device.
        S_IFCHR = 0x2000;
        /// Block device.
        S_IFBLK = 0x3000;
        /// Directory.
        S_IFDIR = 0x4000;
        /// Regular file.
        S_IFREG = 0x8000;
        /// Owner may read.
        S_IRUSR = 0x0100;
        /// Owner may write.
        S_IWUSR = 0x0080;
        /// Owner may execute.
        S_IXUSR = 0x0040;
    }
}

consts! {
    /// `mmap`/`mprotect` protection bits (Linux's values).
    prot: u32 {
        /// No access.
        PROT_NONE = 0;
        /// Pages may be read.
        PROT_READ = 1;
        /// Pages may be written.
        PROT_WRITE = 2;
        /// Pages may be executed.
        PROT_EXEC = 4;
        /// Every bit accepted.
        PROT_MASK = 7;
    }
}

consts! {
    /// `mmap` flags (Linux i386's values).
    map: u32 {
        /// Shared mapping (not supported: `EINVAL` for anonymous, `ENODEV` for files).
        MAP_SHARED = 0x01;
        /// Private copy-on-write mapping.
        MAP_PRIVATE = 0x02;
        /// The sharing type's bits.
        MAP_TYPE = 0x03;
        /// Place the mapping exactly at `addr`, replacing what is there.
        MAP_FIXED = 0x10;
        /// Not backed by a file: zero-filled memory (`fd` and `offset` are ignored).
        MAP_ANONYMOUS = 0x20;
        /// Accepted and ignored (memory is never reserved ahead).
        MAP_NORESERVE = 0x4000;
        /// Accepted and ignored (pages still fault in on first touch).
        MAP_POPULATE = 0x8000;
        /// Accepted and ignored.
        MAP_STACK = 0x2_0000;
        /// Like `MAP_FIXED`, but `EEXIST` instead of replacing anything.
        MAP_FIXED_NOREPLACE = 0x10_0000;
        /// Every flag accepted; any other bit is `EINVAL`.
        MAP_KNOWN = MAP_TYPE
            | MAP_FIXED
            | MAP_ANONYMOUS
            | MAP_NORESERVE
            | MAP_POPULATE
            | MAP_STACK
            | MAP_FIXED_NOREPLACE;
        /// What a failed `mmap` returns (`(void *)-1`).
        MAP_FAILED = 0xFFFF_FFFF;
    }
}

consts! {
    /// `madvise` advice values (Linux's).
    madv: u32 {
        /// No special treatment.
        MADV_NORMAL = 0;
        /// Expect random access (a hint; ignored).
        MADV_RANDOM = 1;
        /// Expect sequential access (a hint; ignored).
        MADV_SEQUENTIAL = 2;
        /// Expect access soon (a hint; ignored).
        MADV_WILLNEED = 3;
        /// Drop the pages: private anonymous pages read as zero on the next touch.
        MADV_DONTNEED = 4;
    }
}

consts! {
    /// Resource limits (`getrlimit`/`setrlimit`, extensions; Linux's numbers).
    rlimit: u32 {
        /// CPU time in seconds (stored, not enforced).
        RLIMIT_CPU = 0;
        /// Largest file size (stored, not enforced).
        RLIMIT_FSIZE = 1;
        /// Largest data segment: the heap (`brk`) may not grow beyond it.
        RLIMIT_DATA = 2;
        /// Largest stack: encoded by the guard page below the stack.
        RLIMIT_STACK = 3;
        /// Largest core file (stored, not enforced).
        RLIMIT_CORE = 4;
        /// Processes of the user (root is the only one), zombies included: `fork`
        /// past the soft limit is `EAGAIN`.
        RLIMIT_NPROC = 6;
        /// Open descriptors.
        RLIMIT_NOFILE = 7;
        /// Number of resources; higher numbers are `EINVAL`.
        RLIM_NLIMITS = 16;
        /// No limit.
        RLIM_INFINITY = 0xFFFF_FFFF;
    }
}

consts! {
    /// `waitpid` options (BSD's and Linux's values; Phantom's header names none).
    wait: u32 {
        /// Return 0 at once when no child has ended yet.
        WNOHANG = 1;
        /// Also report stopped children (accepted; no process stops here).
        WUNTRACED = 2;
    }
}

consts! {
    /// `poll` events (the values BSD and Linux share): in `events` what to wait
    /// for, in `revents` what is so (`POLLERR`, `POLLHUP`, `POLLNVAL` always
    /// reported).
    poll: u16 {
        /// Data to read (or end of file).
        POLLIN = 0x1;
        /// Urgent data (never, here).
        POLLPRI = 0x2;
        /// Room to write.
        POLLOUT = 0x4;
        /// An error: a pipe's write end without reader.
        POLLERR = 0x8;
        /// Hung up: a pipe's read end without writer.
        POLLHUP = 0x10;
        /// Not an open descriptor.
        POLLNVAL = 0x20;
    }
}

consts! {
    /// `setitimer`/`getitimer` timers (BSD's and Linux's values); only
    /// `ITIMER_REAL` exists here.
    itimer: u32 {
        /// Real time: `SIGALRM` at expiry.
        ITIMER_REAL = 0;
        /// Process virtual time (not supported: `EINVAL`).
        ITIMER_VIRTUAL = 1;
        /// Profiling time (not supported: `EINVAL`).
        ITIMER_PROF = 2;
    }
}

consts! {
    /// `sigaction` flags and signal constants (BSD's values; Phantom's header
    /// has the structure but names no flags).
    sigflags: u32 {
        /// Run the handler on the alternate stack (`sigaltstack`).
        SA_ONSTACK = 0x0001;
        /// A blocked call interrupted by the signal starts again after the
        /// handler (else it fails with `EINTR`).
        SA_RESTART = 0x0002;
        /// The action goes back to `SIG_DFL` when the handler starts.
        SA_RESETHAND = 0x0004;
        /// The signal is not blocked while its handler runs.
        SA_NODEFER = 0x0010;
        /// The handler takes `(int, siginfo_t *, void *)`: `sa_sigaction`.
        SA_SIGINFO = 0x0040;
        /// `sigprocmask`: add to the mask.
        SIG_BLOCK = 1;
        /// `sigprocmask`: remove from the mask.
        SIG_UNBLOCK = 2;
        /// `sigprocmask`: set the mask.
        SIG_SETMASK = 3;
        /// `stack_t.ss_flags`: the alternate stack is in use.
        SS_ONSTACK = 1;
        /// `stack_t.ss_flags`: no alternate stack.
        SS_DISABLE = 4;
        /// Smallest alternate stack `sigaltstack` accepts (`ENOMEM` below).
        MINSIGSTKSZ = 2048;
        /// `si_code` of a signal sent by `kill`.
        SI_USER = 0x10001;
        /// `si_code` of a `SIGSEGV` at an address nothing maps.
        SEGV_MAPERR = 1;
        /// `si_code` of a `SIGSEGV` the permissions refused.
        SEGV_ACCERR = 2;
    }
}

consts! {
    /// `clock_gettime` clock ids (extension; Linux's numbers).
    clock: u32 {
        /// Wall-clock time (the boot epoch plus time since boot).
        CLOCK_REALTIME = 0;
        /// Time since boot.
        CLOCK_MONOTONIC = 1;
    }
}

consts! {
    /// `d_type` values of `getdents` records (extension; BSD's and Linux's values).
    dtype: u8 {
        /// Unknown.
        DT_UNKNOWN = 0;
        /// Pipe.
        DT_FIFO = 1;
        /// Character device.
        DT_CHR = 2;
        /// Directory.
        DT_DIR = 4;
        /// Regular file.
        DT_REG = 8;
    }
}

consts! {
    /// Signal numbers (Phantom's, which are BSD's: `include/signal.h`).
    signal: u32 {
        /// Hangup.
        SIGHUP = 1;
        /// Interrupt (Ctrl-C).
        SIGINT = 2;
        /// Quit (Ctrl-\).
        SIGQUIT = 3;
        /// Illegal instruction.
        SIGILL = 4;
        /// Trace trap.
        SIGTRAP = 5;
        /// `abort()`.
        SIGABRT = 6;
        /// EMT instruction.
        SIGEMT = 7;
        /// Floating-point exception.
        SIGFPE = 8;
        /// Kill (cannot be caught or ignored).
        SIGKILL = 9;
        /// Bus error.
        SIGBUS = 10;
        /// Segmentation violation.
        SIGSEGV = 11;
        /// Bad system call.
        SIGSYS = 12;
        /// Write on a pipe nobody reads.
        SIGPIPE = 13;
        /// Alarm clock.
        SIGALRM = 14;
        /// Termination.
        SIGTERM = 15;
        /// Urgent condition on a socket.
        SIGURG = 16;
        /// Stop (cannot be caught).
        SIGSTOP = 17;
        /// Stop from the terminal.
        SIGTSTP = 18;
        /// Continue.
        SIGCONT = 19;
        /// A child stopped or exited.
        SIGCHLD = 20;
        /// Background read from the terminal.
        SIGTTIN = 21;
        /// Background write to the terminal.
        SIGTTOU = 22;
        /// I/O possible.
        SIGIO = 23;
        /// CPU time limit exceeded.
        SIGXCPU = 24;
        /// File size limit exceeded.
        SIGXFSZ = 25;
        /// Virtual timer.
        SIGVTALRM = 26;
        /// Profiling timer.
        SIGPROF = 27;
        /// Window size changed.
        SIGWINCH = 28;
        /// Information request.
        SIGINFO = 29;
        /// User signal 1.
        SIGUSR1 = 30;
        /// User signal 2.
        SIGUSR2 = 31;
    }
}

/// BSD `ioctl` request encoding (Phantom's `include/sys/ioccom.h`): direction in
/// the top three bits, parameter length in bits 16–28, group in 8–15, number in 0–7.
pub mod ioc {
    /// Mask of the parameter length (13 bits).
    pub const IOCPARM_MASK: u32 = 0x1fff;
    /// No parameter.
    pub const IOC_VOID: u32 = 0x2000_0000;
    /// The kernel copies the parameter out (to the caller).
    pub const IOC_OUT: u32 = 0x4000_0000;
    /// The kernel copies the parameter in (from the caller).
    pub const IOC_IN: u32 = 0x8000_0000;
    /// Both directions.
    pub const IOC_INOUT: u32 = IOC_IN | IOC_OUT;
    /// The direction bits.
    pub const IOC_DIRMASK: u32 = IOC_VOID | IOC_OUT | IOC_IN;

    /// `_IOC(inout, group, num, len)`.
    pub const fn ioc(inout: u32, group: u8, num: u8, len: usize) -> u32 {
        inout | ((len as u32 & IOCPARM_MASK) << 16) | ((group as u32) << 8) | num as u32
    }
    /// `_IOR(group, num, len)`: the kernel writes `len` bytes to the caller.
    pub const fn ior(group: u8, num: u8, len: usize) -> u32 {
        ioc(IOC_OUT, group, num, len)
    }
    /// `_IOW(group, num, len)`: the kernel reads `len` bytes from the caller.
    pub const fn iow(group: u8, num: u8, len: usize) -> u32 {
        ioc(IOC_IN, group, num, len)
    }
    /// `IOCPARM_LEN(request)`.
    pub const fn parm_len(request: u32) -> usize {
        ((request >> 16) & IOCPARM_MASK) as usize
    }
}

/// `ioctl` requests the kernel serves (BSD-encoded, BSD's numbers; extensions).
pub mod ioctl {
    use super::ioc::{ior, iow};
    use crate::layout::{Termios, Winsize};

    /// `TIOCGETA`: get the terminal attributes (`struct termios`, BSD's 44 bytes).
    pub const TIOCGETA: u32 = ior(b't', 19, Termios::SIZE);
    /// `TIOCGWINSZ`: get the window size (`struct winsize`).
    pub const TIOCGWINSZ: u32 = ior(b't', 104, Winsize::SIZE);
    /// `TIOCSPGRP`: make the `int` process group at `data` the console's
    /// foreground group (the one Ctrl-C signals).
    pub const TIOCSPGRP: u32 = iow(b't', 118, 4);
    /// `TIOCGPGRP`: store the console's foreground group (`int`; 0: none).
    pub const TIOCGPGRP: u32 = ior(b't', 119, 4);
    /// Every request, by name (for generated consumers).
    pub const ALL: &[(&str, u64)] = &[
        ("TIOCGETA", TIOCGETA as u64),
        ("TIOCGWINSZ", TIOCGWINSZ as u64),
        ("TIOCSPGRP", TIOCSPGRP as u64),
        ("TIOCGPGRP", TIOCGPGRP as u64),
    ];
}
