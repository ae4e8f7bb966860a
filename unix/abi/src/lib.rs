//! The native Unix ABI's numbers (`docs/abi.md`), in one place for both sides
//! of the call gate: the kernel's `unix` crate dispatches on them and user
//! space's `ulibc` (a separate i686 workspace) puts them in `eax`. Plain
//! constants, no dependencies, `no_std`.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

/// Syscall numbers (Phantom's where it has them; `docs/abi.md`).
pub mod nr {
    /// `_exit(status)`.
    pub const EXIT: u32 = 0;
    /// `getpagesize()`.
    pub const GETPAGESIZE: u32 = 2;
    /// `uname(struct utsname *)`.
    pub const UNAME: u32 = 4;
    /// `time(u32 *tloc)`.
    pub const TIME: u32 = 18;
    /// `clock_gettime(clockid, struct timespec *)`.
    pub const CLOCK_GETTIME: u32 = 23;
    /// `getpid()`.
    pub const GETPID: u32 = 33;
    /// `getppid()`.
    pub const GETPPID: u32 = 38;
    /// `open(path, flags, mode)`.
    pub const OPEN: u32 = 64;
    /// `close(fd)`.
    pub const CLOSE: u32 = 65;
    /// `read(fd, buf, count)`.
    pub const READ: u32 = 66;
    /// `write(fd, buf, count)`.
    pub const WRITE: u32 = 67;
    /// `lseek(fd, offset, whence)`.
    pub const LSEEK: u32 = 68;
    /// `getdents(fd, buf, count)`.
    pub const GETDENTS: u32 = 97;
    /// `fstat(fd, struct stat *)`.
    pub const FSTAT: u32 = 98;
    /// `stat(path, struct stat *)`.
    pub const STAT: u32 = 118;
    /// `brk(addr)`: set the program break (Linux semantics, `docs/abi.md`).
    pub const BRK: u32 = 256;
    /// `ioctl(fd, request, arg)`.
    pub const IOCTL: u32 = 260;
    /// `getrlimit(resource, struct rlimit *)`.
    pub const GETRLIMIT: u32 = 274;
    /// `setrlimit(resource, const struct rlimit *)`.
    pub const SETRLIMIT: u32 = 275;
    /// `madvise(addr, len, advice)`: first of the mmap family.
    pub const MADVISE: u32 = 512;
    /// `mmap(addr, len, prot, flags, fd, offset)`.
    pub const MMAP: u32 = 513;
    /// `mprotect(addr, len, prot)`.
    pub const MPROTECT: u32 = 514;
    /// `munmap(addr, len)`: last of the mmap family.
    pub const MUNMAP: u32 = 522;
}
