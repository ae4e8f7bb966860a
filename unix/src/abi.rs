//! The data of the native ABI (`docs/abi.md`): syscall numbers, flag values, and the
//! byte layouts of the structures copied to user space (`struct stat`,
//! `struct linux_dirent`, `struct termios`, `struct winsize`, `struct utsname`,
//! `struct timespec`). Everything is 32-bit little-endian; every encoder produces the
//! exact bytes user space reads.

use alloc::vec::Vec;

/// Syscall numbers (Phantom's where it has them; `docs/abi.md`), shared with
/// user space through the `phantom-abi` crate.
pub use phantom_abi::nr;

/// `mmap`/`mprotect` protection bits (Linux values).
pub mod prot {
    /// No access.
    pub const PROT_NONE: u32 = 0;
    /// Pages may be read.
    pub const PROT_READ: u32 = 1;
    /// Pages may be written.
    pub const PROT_WRITE: u32 = 2;
    /// Pages may be executed.
    pub const PROT_EXEC: u32 = 4;
    /// Every bit accepted.
    pub const PROT_MASK: u32 = PROT_READ | PROT_WRITE | PROT_EXEC;
}

/// `mmap` flags (Linux i386 values).
pub mod map {
    /// Shared mapping (not supported: `EINVAL` for anonymous, `ENODEV` for files).
    pub const MAP_SHARED: u32 = 0x01;
    /// Private copy-on-write mapping.
    pub const MAP_PRIVATE: u32 = 0x02;
    /// The sharing type's bits.
    pub const MAP_TYPE: u32 = 0x03;
    /// Place the mapping exactly at `addr`, replacing what is there.
    pub const MAP_FIXED: u32 = 0x10;
    /// Not backed by a file: zero-filled memory (`fd` and `offset` are ignored).
    pub const MAP_ANONYMOUS: u32 = 0x20;
    /// Accepted and ignored (memory is never reserved ahead).
    pub const MAP_NORESERVE: u32 = 0x4000;
    /// Accepted and ignored (pages still fault in on first touch).
    pub const MAP_POPULATE: u32 = 0x8000;
    /// Accepted and ignored.
    pub const MAP_STACK: u32 = 0x2_0000;
    /// Like `MAP_FIXED`, but `EEXIST` instead of replacing anything.
    pub const MAP_FIXED_NOREPLACE: u32 = 0x10_0000;
    /// Every flag accepted; any other bit is `EINVAL`.
    pub const MAP_KNOWN: u32 = MAP_TYPE
        | MAP_FIXED
        | MAP_ANONYMOUS
        | MAP_NORESERVE
        | MAP_POPULATE
        | MAP_STACK
        | MAP_FIXED_NOREPLACE;
}

/// `madvise` advice values (Linux).
pub mod madv {
    /// No special treatment.
    pub const MADV_NORMAL: u32 = 0;
    /// Expect random access (a hint; ignored).
    pub const MADV_RANDOM: u32 = 1;
    /// Expect sequential access (a hint; ignored).
    pub const MADV_SEQUENTIAL: u32 = 2;
    /// Expect access soon (a hint; ignored).
    pub const MADV_WILLNEED: u32 = 3;
    /// Drop the pages: private anonymous pages read as zero on the next touch.
    pub const MADV_DONTNEED: u32 = 4;
}

/// Resource limits (`getrlimit`/`setrlimit`; Linux numbers).
pub mod rlimit {
    /// CPU time in seconds (stored, not enforced).
    pub const RLIMIT_CPU: u32 = 0;
    /// Largest file size (stored, not enforced).
    pub const RLIMIT_FSIZE: u32 = 1;
    /// Largest data segment: the heap (`brk`) may not grow beyond it.
    pub const RLIMIT_DATA: u32 = 2;
    /// Largest stack: encoded by the guard page below the stack.
    pub const RLIMIT_STACK: u32 = 3;
    /// Largest core file (stored, not enforced).
    pub const RLIMIT_CORE: u32 = 4;
    /// Open descriptors (reported as 64, the fd table's size).
    pub const RLIMIT_NOFILE: u32 = 7;
    /// Number of resources; higher numbers are `EINVAL`.
    pub const RLIM_NLIMITS: u32 = 16;
    /// No limit.
    pub const RLIM_INFINITY: u32 = 0xFFFF_FFFF;
}

/// `struct rlimit`: `{u32 rlim_cur, u32 rlim_max}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rlimit {
    /// The soft limit (the one enforced).
    pub cur: u32,
    /// The hard limit (the ceiling of `cur`).
    pub max: u32,
}

impl Rlimit {
    /// Size of the encoding.
    pub const SIZE: usize = 8;
    /// No limit at all.
    pub const INFINITE: Rlimit = Rlimit {
        cur: rlimit::RLIM_INFINITY,
        max: rlimit::RLIM_INFINITY,
    };

    /// The 8 bytes user space reads.
    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        put_u32(&mut b, 0, self.cur);
        put_u32(&mut b, 4, self.max);
        b
    }

    /// Decode the 8 bytes user space wrote.
    pub fn from_bytes(b: [u8; Self::SIZE]) -> Rlimit {
        Rlimit {
            cur: u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            max: u32::from_le_bytes([b[4], b[5], b[6], b[7]]),
        }
    }
}

/// The page size user space sees (`getpagesize`).
pub const PAGE_SIZE: u32 = 4096;

/// Longest path accepted, including its terminating NUL (Linux `PATH_MAX`).
pub const PATH_MAX: usize = 4096;
/// Longest path component (Linux `NAME_MAX`).
pub const NAME_MAX: usize = 255;

/// Largest byte count one `read`/`write` transfers (Linux `MAX_RW_COUNT`), so the
/// result always fits a positive `ssize_t`.
pub const MAX_RW_COUNT: u32 = 0x7fff_f000;

/// `open` flags (Linux values).
pub mod open_flags {
    /// Access mode mask.
    pub const O_ACCMODE: u32 = 3;
    /// Read only.
    pub const O_RDONLY: u32 = 0;
    /// Write only.
    pub const O_WRONLY: u32 = 1;
    /// Read and write.
    pub const O_RDWR: u32 = 2;
    /// Create the file if it does not exist.
    pub const O_CREAT: u32 = 0x40;
    /// With `O_CREAT`: fail if the file exists.
    pub const O_EXCL: u32 = 0x80;
    /// Truncate a regular file to length 0.
    pub const O_TRUNC: u32 = 0x200;
    /// Every write appends.
    pub const O_APPEND: u32 = 0x400;
    /// Fail unless the path is a directory.
    pub const O_DIRECTORY: u32 = 0x10000;
}

/// `lseek` whence values.
pub mod seek {
    /// From the start.
    pub const SEEK_SET: u32 = 0;
    /// From the current offset.
    pub const SEEK_CUR: u32 = 1;
    /// From the end.
    pub const SEEK_END: u32 = 2;
}

/// `clock_gettime` clock ids.
pub mod clock {
    /// Wall-clock time (the boot epoch plus time since boot).
    pub const CLOCK_REALTIME: u32 = 0;
    /// Time since boot.
    pub const CLOCK_MONOTONIC: u32 = 1;
}

/// `ioctl` requests.
pub mod ioctl {
    /// Get the terminal attributes (`struct termios`).
    pub const TCGETS: u32 = 0x5401;
    /// Get the window size (`struct winsize`).
    pub const TIOCGWINSZ: u32 = 0x5413;
}

/// File type and permission bits of `st_mode`.
pub mod mode {
    /// File type mask.
    pub const S_IFMT: u32 = 0o170000;
    /// Regular file.
    pub const S_IFREG: u32 = 0o100000;
    /// Directory.
    pub const S_IFDIR: u32 = 0o040000;
    /// Character device.
    pub const S_IFCHR: u32 = 0o020000;
}

/// `d_type` values of directory entries.
pub mod dtype {
    /// Regular file.
    pub const DT_REG: u8 = 8;
    /// Directory.
    pub const DT_DIR: u8 = 4;
    /// Character device.
    pub const DT_CHR: u8 = 2;
}

/// Linux i386 `struct stat` (64 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stat {
    /// Device id of the file system.
    pub dev: u32,
    /// Inode number.
    pub ino: u32,
    /// Type and permissions.
    pub mode: u16,
    /// Link count.
    pub nlink: u16,
    /// Owner.
    pub uid: u16,
    /// Group.
    pub gid: u16,
    /// Device id of a device node.
    pub rdev: u32,
    /// Size in bytes.
    pub size: u32,
    /// Preferred I/O size.
    pub blksize: u32,
    /// 512-byte blocks allocated.
    pub blocks: u32,
    /// Access time (seconds).
    pub atime: u32,
    /// Modification time (seconds).
    pub mtime: u32,
    /// Status change time (seconds).
    pub ctime: u32,
}

impl Stat {
    /// Size of the encoding.
    pub const SIZE: usize = 64;

    /// The 64 bytes user space reads.
    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        put_u32(&mut b, 0, self.dev);
        put_u32(&mut b, 4, self.ino);
        put_u16(&mut b, 8, self.mode);
        put_u16(&mut b, 10, self.nlink);
        put_u16(&mut b, 12, self.uid);
        put_u16(&mut b, 14, self.gid);
        put_u32(&mut b, 16, self.rdev);
        put_u32(&mut b, 20, self.size);
        put_u32(&mut b, 24, self.blksize);
        put_u32(&mut b, 28, self.blocks);
        put_u32(&mut b, 32, self.atime);
        // 36: st_atime_nsec
        put_u32(&mut b, 40, self.mtime);
        // 44: st_mtime_nsec
        put_u32(&mut b, 48, self.ctime);
        // 52: st_ctime_nsec, 56..64: unused
        b
    }
}

/// `struct timespec` as this ABI defines it: `{u32 sec, u32 nsec}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timespec {
    /// Seconds.
    pub sec: u32,
    /// Nanoseconds, `< 1_000_000_000`.
    pub nsec: u32,
}

impl Timespec {
    /// Size of the encoding.
    pub const SIZE: usize = 8;

    /// From nanoseconds (seconds wrap at 2^32, in the year 2106).
    pub fn from_ns(ns: u64) -> Timespec {
        Timespec {
            sec: (ns / 1_000_000_000) as u32,
            nsec: (ns % 1_000_000_000) as u32,
        }
    }

    /// The 8 bytes user space reads.
    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        put_u32(&mut b, 0, self.sec);
        put_u32(&mut b, 4, self.nsec);
        b
    }
}

/// `struct winsize`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Winsize {
    /// Rows.
    pub rows: u16,
    /// Columns.
    pub cols: u16,
    /// Width in pixels (0: unknown).
    pub xpixel: u16,
    /// Height in pixels (0: unknown).
    pub ypixel: u16,
}

impl Default for Winsize {
    /// A classic 24 × 80 terminal.
    fn default() -> Self {
        Winsize {
            rows: 24,
            cols: 80,
            xpixel: 0,
            ypixel: 0,
        }
    }
}

impl Winsize {
    /// Size of the encoding.
    pub const SIZE: usize = 8;

    /// The 8 bytes user space reads.
    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        put_u16(&mut b, 0, self.rows);
        put_u16(&mut b, 2, self.cols);
        put_u16(&mut b, 4, self.xpixel);
        put_u16(&mut b, 6, self.ypixel);
        b
    }
}

/// Linux's (kernel) `struct termios`: 36 bytes, `NCCS` = 19.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Termios {
    /// Input modes.
    pub iflag: u32,
    /// Output modes.
    pub oflag: u32,
    /// Control modes.
    pub cflag: u32,
    /// Local modes.
    pub lflag: u32,
    /// Line discipline.
    pub line: u8,
    /// Control characters.
    pub cc: [u8; 19],
}

impl Termios {
    /// Size of the encoding.
    pub const SIZE: usize = 36;

    /// What the console reports: canonical mode with echo, `ICRNL`, `OPOST|ONLCR`,
    /// 38400 baud 8N1, and Linux's default control characters.
    pub fn console() -> Termios {
        const ICRNL: u32 = 0o400;
        const OPOST: u32 = 0o1;
        const ONLCR: u32 = 0o4;
        const B38400: u32 = 0o17;
        const CS8: u32 = 0o60;
        const CREAD: u32 = 0o200;
        const ISIG: u32 = 0o1;
        const ICANON: u32 = 0o2;
        const ECHO: u32 = 0o10;
        const ECHOE: u32 = 0o20;
        const ECHOK: u32 = 0o40;
        const IEXTEN: u32 = 0o100000;
        let mut cc = [0u8; 19];
        cc[0] = 0x03; // VINTR ^C
        cc[1] = 0x1c; // VQUIT ^\
        cc[2] = 0x7f; // VERASE DEL
        cc[3] = 0x15; // VKILL ^U
        cc[4] = 0x04; // VEOF ^D
        cc[5] = 0; // VTIME
        cc[6] = 1; // VMIN
        Termios {
            iflag: ICRNL,
            oflag: OPOST | ONLCR,
            cflag: B38400 | CS8 | CREAD,
            lflag: ISIG | ICANON | ECHO | ECHOE | ECHOK | IEXTEN,
            line: 0,
            cc,
        }
    }

    /// The 36 bytes user space reads.
    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        put_u32(&mut b, 0, self.iflag);
        put_u32(&mut b, 4, self.oflag);
        put_u32(&mut b, 8, self.cflag);
        put_u32(&mut b, 12, self.lflag);
        b[16] = self.line;
        b[17..].copy_from_slice(&self.cc);
        b
    }
}

/// Linux `struct new_utsname`: six NUL-padded fields of 65 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utsname {
    /// Operating system name.
    pub sysname: &'static str,
    /// Host name.
    pub nodename: &'static str,
    /// Release.
    pub release: &'static str,
    /// Version.
    pub version: &'static str,
    /// Hardware.
    pub machine: &'static str,
    /// Domain name.
    pub domainname: &'static str,
}

impl Default for Utsname {
    fn default() -> Self {
        Utsname {
            sysname: "phantom-unix",
            nodename: "phantom",
            release: env!("CARGO_PKG_VERSION"),
            version: "#1",
            machine: "i686",
            domainname: "(none)",
        }
    }
}

impl Utsname {
    /// Length of one field.
    pub const FIELD: usize = 65;
    /// Size of the encoding.
    pub const SIZE: usize = 6 * Self::FIELD;

    /// The 390 bytes user space reads (fields longer than 64 bytes are cut).
    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        let fields = [
            self.sysname,
            self.nodename,
            self.release,
            self.version,
            self.machine,
            self.domainname,
        ];
        for (i, f) in fields.iter().enumerate() {
            let n = f.len().min(Self::FIELD - 1);
            let at = i * Self::FIELD;
            b[at..at + n].copy_from_slice(&f.as_bytes()[..n]);
        }
        b
    }
}

/// Length of the `struct linux_dirent` record of a name of `name_len` bytes:
/// `d_ino`, `d_off`, `d_reclen` (10 bytes), the name and its NUL, the type byte,
/// rounded up to 4.
pub const fn dirent_reclen(name_len: usize) -> usize {
    (10 + name_len + 2 + 3) & !3
}

/// Append one `struct linux_dirent` record to `out`: `d_ino`, `d_off` (the cursor of
/// the next entry), `d_reclen`, the NUL-terminated name, zero padding, and `d_type` in
/// the record's last byte.
pub fn encode_dirent(out: &mut Vec<u8>, ino: u32, next_off: u32, name: &[u8], dtype: u8) {
    let reclen = dirent_reclen(name.len());
    let start = out.len();
    out.extend_from_slice(&ino.to_le_bytes());
    out.extend_from_slice(&next_off.to_le_bytes());
    out.extend_from_slice(&(reclen as u16).to_le_bytes());
    out.extend_from_slice(name);
    out.resize(start + reclen - 1, 0);
    out.push(dtype);
}

fn put_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn put_u16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_layout() {
        let s = Stat {
            dev: 0x0102_0304,
            ino: 5,
            mode: 0o100644,
            nlink: 1,
            uid: 2,
            gid: 3,
            rdev: 0x0501,
            size: 1234,
            blksize: 4096,
            blocks: 8,
            atime: 10,
            mtime: 11,
            ctime: 12,
        };
        let b = s.to_bytes();
        assert_eq!(&b[0..4], &[4, 3, 2, 1]);
        assert_eq!(&b[4..8], &5u32.to_le_bytes());
        assert_eq!(&b[8..10], &0o100644u16.to_le_bytes());
        assert_eq!(&b[10..12], &1u16.to_le_bytes());
        assert_eq!(&b[12..14], &2u16.to_le_bytes());
        assert_eq!(&b[14..16], &3u16.to_le_bytes());
        assert_eq!(&b[16..20], &0x501u32.to_le_bytes());
        assert_eq!(&b[20..24], &1234u32.to_le_bytes());
        assert_eq!(&b[24..28], &4096u32.to_le_bytes());
        assert_eq!(&b[28..32], &8u32.to_le_bytes());
        assert_eq!(&b[32..36], &10u32.to_le_bytes());
        assert_eq!(&b[36..40], &[0; 4]);
        assert_eq!(&b[40..44], &11u32.to_le_bytes());
        assert_eq!(&b[48..52], &12u32.to_le_bytes());
        assert_eq!(&b[52..64], &[0; 12]);
    }

    #[test]
    fn dirent_records_are_aligned_and_typed() {
        let mut out = Vec::new();
        encode_dirent(&mut out, 7, 1, b".", dtype::DT_DIR);
        // 10 + "." + NUL + type = 13 -> 16.
        assert_eq!(out.len(), 16);
        assert_eq!(&out[0..4], &7u32.to_le_bytes());
        assert_eq!(&out[4..8], &1u32.to_le_bytes());
        assert_eq!(&out[8..10], &16u16.to_le_bytes());
        assert_eq!(&out[10..16], &[b'.', 0, 0, 0, 0, dtype::DT_DIR]);
        // 10 + 6 + 2 = 18 -> 20.
        encode_dirent(&mut out, 8, 2, b"abcdef", dtype::DT_REG);
        assert_eq!(out.len(), 16 + 20);
        assert_eq!(&out[26..32], b"abcdef");
        assert_eq!(out[32], 0);
        assert_eq!(out[35], dtype::DT_REG);
        // 10 + 2 + 2 = 14 -> 16.
        assert_eq!(dirent_reclen(2), 16);
        for n in 0..300 {
            let r = dirent_reclen(n);
            assert_eq!(r % 4, 0);
            assert!(r >= 10 + n + 2 && r < 10 + n + 2 + 4);
        }
    }

    #[test]
    fn small_structs() {
        assert_eq!(
            Timespec::from_ns(3_000_000_007).to_bytes(),
            [3, 0, 0, 0, 7, 0, 0, 0]
        );
        assert_eq!(Winsize::default().to_bytes(), [24, 0, 80, 0, 0, 0, 0, 0]);
        let t = Termios::console().to_bytes();
        assert_eq!(t.len(), 36);
        assert_eq!(t[17 + 4], 0x04); // VEOF
        assert_eq!(t[17 + 2], 0x7f); // VERASE
        let u = Utsname::default().to_bytes();
        assert_eq!(&u[..13], b"phantom-unix\0");
        assert_eq!(&u[4 * 65..4 * 65 + 5], b"i686\0");
        let long = Utsname {
            nodename: "x123456789x123456789x123456789x123456789x123456789x123456789x123456789",
            ..Utsname::default()
        };
        let b = long.to_bytes();
        assert_eq!(b[65 + 64], 0);
    }
}
