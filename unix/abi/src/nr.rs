//! Syscall numbers with their names and argument counts: the one table that the
//! kernel's dispatcher, ulibc's stubs, the gate emulator (`unix/user/tools/abi.json`,
//! generated from it) and `docs/abi.md` follow.
//!
//! Phantom's numbers (`include/kernel/syscalls.h`, "Don't you ever change") are all
//! here, whether this kernel implements them or not (an unimplemented one answers
//! `ENOSYS`); a number Phantom names is never used for anything else. Calls Phantom
//! lacks are extensions on numbers that are free in the matching group.

/// Where a number comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Named by Phantom's `syscalls.h`.
    Phantom,
    /// Ours, on a number Phantom leaves free.
    Extension,
}

/// One syscall of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Call {
    /// The number, in `eax`.
    pub nr: u32,
    /// The C name.
    pub name: &'static str,
    /// How many 32-bit cdecl words the kernel reads at `esp + 4`.
    pub args: u8,
    /// Phantom's or ours.
    pub origin: Origin,
}

macro_rules! syscalls {
    (
        phantom { $($(#[$pdoc:meta])* $pname:ident = $pnr:expr, $pcname:expr, $pargs:expr;)* }
        extensions { $($(#[$edoc:meta])* $ename:ident = $enr:expr, $ecname:expr, $eargs:expr;)* }
    ) => {
        $(
            $(#[$pdoc])*
            #[doc = concat!("`", $pcname, "` (Phantom), ", stringify!($pargs), " argument(s).")]
            pub const $pname: u32 = $pnr;
        )*
        $(
            $(#[$edoc])*
            #[doc = concat!("`", $ecname, "` (extension), ", stringify!($eargs), " argument(s).")]
            pub const $ename: u32 = $enr;
        )*

        /// Every syscall, Phantom's first, each group in numeric order.
        pub const TABLE: &[Call] = &[
            $(Call { nr: $pnr, name: $pcname, args: $pargs, origin: Origin::Phantom },)*
            $(Call { nr: $enr, name: $ecname, args: $eargs, origin: Origin::Extension },)*
        ];

        /// Arguments syscall `nr` takes (0 for a number not in the table).
        #[inline]
        pub const fn arg_count(nr: u32) -> usize {
            if (nr as usize) < ARGS_BELOW_1024.len() {
                ARGS_BELOW_1024[nr as usize] as usize
            } else {
                match nr {
                    $($pnr => $pargs,)*
                    $($enr => $eargs,)*
                    _ => 0,
                }
            }
        }
    };
}

syscalls! {
    phantom {
        EXIT = 0, "_exit", 1;
        SSYSLOG = 1, "ssyslog", 2;
        GETPAGESIZE = 2, "getpagesize", 0;
        PERSONALITY = 3, "personality", 1;
        UNAME = 4, "uname", 1;
        SYNC = 5, "sync", 0;
        SYSINFO = 6, "sysinfo", 1;
        SYSFS = 7, "sysfs", 3;
        KLOGCTL = 8, "klogctl", 3;
        SHUTDOWN = 9, "shutdown", 2;
        REBOOT = 10, "reboot", 1;
        SLEEPMSEC = 16, "sleepmsec", 1;
        NANOSLEEP = 17, "nanosleep", 2;
        TIME = 18, "time", 1;
        STIME = 19, "stime", 1;
        GETITIMER = 20, "getitimer", 2;
        SETITIMER = 21, "setitimer", 3;
        GETTIMEOFDAY = 22, "gettimeofday", 2;
        GETTID = 32, "gettid", 0;
        GETPID = 33, "getpid", 0;
        GETUID = 34, "getuid", 0;
        GETUID32 = 35, "getuid32", 0;
        GETPGID = 36, "getpgid", 1;
        GETPGRP = 37, "getpgrp", 0;
        GETPPID = 38, "getppid", 0;
        GETEGID = 39, "getegid", 0;
        GETEGID32 = 40, "getegid32", 0;
        GETEUID = 41, "geteuid", 0;
        GETEUID32 = 42, "geteuid32", 0;
        GETGID = 43, "getgid", 0;
        GETGID32 = 44, "getgid32", 0;
        SETGID = 45, "setgid", 1;
        SETGID32 = 46, "setgid32", 1;
        SETGROUPS = 47, "setgroups", 2;
        SETGROUPS32 = 48, "setgroups32", 2;
        SETPGID = 49, "setpgid", 2;
        SETREGID = 50, "setregid", 2;
        SETREGID32 = 51, "setregid32", 2;
        SETRESGID = 52, "setresgid", 3;
        SETRESGID32 = 53, "setresgid32", 3;
        SETRESUID = 54, "setresuid", 3;
        SETRESUID32 = 55, "setresuid32", 3;
        SETREUID = 56, "setreuid", 2;
        SETREUID32 = 57, "setreuid32", 2;
        SETUID = 58, "setuid", 1;
        SETUID32 = 59, "setuid32", 1;
        SETPGRP = 60, "setpgrp", 0;
        OPEN = 64, "open", 3;
        CLOSE = 65, "close", 1;
        READ = 66, "read", 3;
        WRITE = 67, "write", 3;
        LSEEK = 68, "lseek", 3;
        CREAT = 69, "creat", 2;
        CHDIR = 70, "chdir", 1;
        LINK = 71, "link", 2;
        UNLINK = 72, "unlink", 1;
        LLSEEK = 73, "_llseek", 5;
        CHROOT = 74, "chroot", 1;
        MKDIR = 75, "mkdir", 2;
        RMDIR = 76, "rmdir", 1;
        DUP = 77, "dup", 1;
        DUP2 = 78, "dup2", 2;
        GETCWD = 79, "getcwd", 2;
        LSTAT = 80, "lstat", 2;
        LSTAT64 = 81, "lstat64", 2;
        MKNOD = 82, "mknod", 3;
        PIPE = 83, "pipe", 1;
        SYMLINK = 84, "symlink", 2;
        MOUNT = 85, "mount", 5;
        UMOUNT = 86, "umount", 2;
        TRUNCATE = 87, "truncate", 2;
        TRUNCATE64 = 88, "truncate64", 3;
        FCHDIR = 89, "fchdir", 1;
        FCHMOD = 90, "fchmod", 2;
        FCHOWN = 91, "fchown", 3;
        FCHOWN32 = 92, "fchown32", 3;
        FCNTL = 93, "fcntl", 3;
        FCNTL64 = 94, "fcntl64", 3;
        FDATASYNC = 95, "fdatasync", 1;
        FLOCK = 96, "flock", 2;
        FSTAT = 98, "fstat", 2;
        FSTAT64 = 99, "fstat64", 2;
        FSTATFS = 100, "fstatfs", 2;
        FSYNC = 101, "fsync", 1;
        FTRUNCATE = 103, "ftruncate", 2;
        FTRUNCATE64 = 104, "ftruncate64", 3;
        UTIME = 105, "utime", 2;
        CHMOD = 106, "chmod", 2;
        CHOWN = 107, "chown", 3;
        CHOWN32 = 108, "chown32", 3;
        ACCESS = 109, "access", 2;
        LCHOWN = 110, "lchown", 3;
        LCHOWN32 = 111, "lchown32", 3;
        PREAD = 112, "pread", 4;
        PWRITE = 113, "pwrite", 4;
        READV = 114, "readv", 3;
        WRITEV = 115, "writev", 3;
        READLINK = 116, "readlink", 3;
        READDIR = 117, "readdir", 2;
        STAT = 118, "stat", 2;
        GETPROPERTY = 119, "getproperty", 4;
        SETPROPERTY = 120, "setproperty", 3;
        LISTPROPERTIES = 121, "listproperties", 4;
        GETHOSTNAME = 128, "gethostname", 2;
        SETHOSTNAME = 129, "sethostname", 2;
        SOCKET = 130, "socket", 3;
        BIND = 131, "bind", 3;
        ACCEPT = 132, "accept", 3;
        CONNECT = 133, "connect", 3;
        LISTEN = 134, "listen", 2;
        RECV = 135, "recv", 4;
        RECVFROM = 136, "recvfrom", 6;
        RECVMSG = 137, "recvmsg", 3;
        SEND = 138, "send", 4;
        SENDTO = 139, "sendto", 6;
        SENDMSG = 140, "sendmsg", 3;
        SENDFILE = 141, "sendfile", 4;
        SETSOCKOPT = 142, "setsockopt", 5;
        SOCKETCALL = 143, "socketcall", 2;
        SOCKETPAIR = 144, "socketpair", 4;
        GETPEERNAME = 145, "getpeername", 3;
        GETSOCKNAME = 146, "getsockname", 3;
        GETSOCKOPT = 147, "getsockopt", 5;
        NAME2IP = 180, "name2ip", 3;
        BRK = 256, "brk", 1;
        FORK = 257, "fork", 0;
        VFORK = 258, "vfork", 0;
        NICE = 259, "nice", 1;
        IOCTL = 260, "ioctl", 4;
        KILL = 261, "kill", 2;
        UMASK = 263, "umask", 1;
        CLONE = 264, "clone", 5;
        WAIT = 265, "wait", 1;
        WAITPID = 266, "waitpid", 3;
        SIGPENDING = 267, "sigpending", 1;
        SIGPROCMASK = 268, "sigprocmask", 3;
        RAISE = 269, "raise", 1;
        SIGACTION = 270, "sigaction", 3;
        SIGNAL = 271, "signal", 2;
        SIGINTERRUPT = 272, "siginterrupt", 2;
        SIGSUSPEND = 273, "sigsuspend", 1;
        MADVISE = 512, "madvise", 3;
        MINCORE = 513, "mincore", 3;
        MLOCK = 514, "mlock", 2;
        MLOCKALL = 515, "mlockall", 1;
        MMAP = 516, "mmap", 6;
        MPROTECT = 517, "mprotect", 3;
        MREMAP = 518, "mremap", 5;
        MSYNC = 519, "msync", 3;
        MUNLOCK = 520, "munlock", 2;
        MUNLOCKALL = 521, "munlockall", 0;
        MUNMAP = 522, "munmap", 2;
        CREATE_PORT = 1024, "create_port", 2;
        CLOSE_PORT = 1025, "close_port", 1;
        DELETE_PORT = 1026, "delete_port", 1;
        FIND_PORT = 1027, "find_port", 1;
        GET_PORT_INFO = 1028, "get_port_info", 2;
        GET_PORT_BUFSIZE = 1029, "get_port_bufsize", 1;
        GET_PORT_BUFSIZE_ETC = 1030, "get_port_bufsize_etc", 3;
        GET_PORT_COUNT = 1031, "get_port_count", 1;
        READ_PORT = 1032, "read_port", 4;
        READ_PORT_ETC = 1033, "read_port_etc", 6;
        WRITE_PORT = 1034, "write_port", 4;
        WRITE_PORT_ETC = 1035, "write_port_etc", 6;
        SET_PORT_OWNER = 1036, "set_port_owner", 2;
        GET_NEXT_PORT_INFO = 1037, "get_next_port_info", 3;
        PHANTOM_RUN = 2048, "phantom_run", 4;
        PHANTOM_METHOD = 2049, "phantom_method", 4;
        PHANTOM_TOOBJECT = 2050, "phantom_toobject", 2;
        PHANTOM_FROMOBJECT = 2051, "phantom_fromobject", 3;
        PHANTOM_INTMETHOD = 2052, "phantom_intmethod", 3;
        PHANTOM_STRMETHOD = 2053, "phantom_strmethod", 4;
        PHANTOM_RUNCLASS = 2096, "phantom_runclass", 3;
    }
    extensions {
        /// In Phantom's time group.
        CLOCK_GETTIME = 23, "clock_gettime", 2;
        /// On the number Phantom's file group leaves commented out.
        GETDENTS = 97, "getdents", 3;
        /// On the number Phantom's file group leaves free between `fsync` and
        /// `ftruncate`.
        RENAME = 102, "rename", 2;
        /// After the network group's socket calls: waits on descriptors.
        POLL = 148, "poll", 3;
        /// On the number Phantom's processes group leaves free between `kill`
        /// and `umask`.
        EXECVE = 262, "execve", 3;
        /// After Phantom's signal calls, in the processes group.
        GETRLIMIT = 274, "getrlimit", 2;
        /// After `getrlimit`.
        SETRLIMIT = 275, "setrlimit", 2;
        /// After `setrlimit`: the alternate signal stack.
        SIGALTSTACK = 276, "sigaltstack", 2;
    }
}

/// The argument counts of the numbers below 1024 (every group but the ports and
/// the object calls), indexed by number: the gate's lookup is one load.
const ARGS_BELOW_1024: [u8; 1024] = {
    let mut a = [0u8; 1024];
    let mut i = 0;
    while i < TABLE.len() {
        if TABLE[i].nr < 1024 {
            a[TABLE[i].nr as usize] = TABLE[i].args;
        }
        i += 1;
    }
    a
};

/// Most arguments any call takes.
pub const MAX_ARGS: usize = 6;

/// The table entry of number `nr`.
pub fn lookup(nr: u32) -> Option<&'static Call> {
    TABLE.iter().find(|c| c.nr == nr)
}
