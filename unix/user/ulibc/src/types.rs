//! The ABI's data layouts and constants (`docs/abi.md`, "Data layouts"):
//! Linux i386 values and `#[repr(C)]` structures whose sizes and field
//! offsets are checked at compile time.

use core::mem::{offset_of, size_of};

/// A file descriptor.
pub type Fd = i32;
/// Standard input.
pub const STDIN: Fd = 0;
/// Standard output.
pub const STDOUT: Fd = 1;
/// Standard error.
pub const STDERR: Fd = 2;

/// `open` flags (Linux values).
pub mod o {
    /// Read only.
    pub const RDONLY: u32 = 0;
    /// Write only.
    pub const WRONLY: u32 = 1;
    /// Read and write.
    pub const RDWR: u32 = 2;
    /// Create if missing.
    pub const CREAT: u32 = 0x40;
    /// With `CREAT`: fail if it exists.
    pub const EXCL: u32 = 0x80;
    /// Truncate to length 0.
    pub const TRUNC: u32 = 0x200;
    /// Every write appends.
    pub const APPEND: u32 = 0x400;
    /// Fail unless a directory.
    pub const DIRECTORY: u32 = 0x10000;
}

/// `lseek` whence values.
pub mod seek {
    /// From the start.
    pub const SET: u32 = 0;
    /// From the current offset.
    pub const CUR: u32 = 1;
    /// From the end.
    pub const END: u32 = 2;
}

/// File type bits of `st_mode`.
pub mod s {
    /// Mask of the type bits.
    pub const IFMT: u16 = 0o170000;
    /// Regular file.
    pub const IFREG: u16 = 0o100000;
    /// Directory.
    pub const IFDIR: u16 = 0o040000;
    /// Character device.
    pub const IFCHR: u16 = 0o020000;
}

/// `d_type` values of a directory entry.
pub mod dt {
    /// Unknown.
    pub const UNKNOWN: u8 = 0;
    /// Character device.
    pub const CHR: u8 = 2;
    /// Directory.
    pub const DIR: u8 = 4;
    /// Regular file.
    pub const REG: u8 = 8;
}

/// `ioctl` requests.
pub mod ioctl {
    /// Get the terminal attributes (`struct termios`).
    pub const TCGETS: u32 = 0x5401;
    /// Get the window size (`struct winsize`).
    pub const TIOCGWINSZ: u32 = 0x5413;
}

/// Clock ids of `clock_gettime`.
pub mod clock {
    /// Wall-clock time.
    pub const REALTIME: u32 = 0;
    /// Time since boot, never going back.
    pub const MONOTONIC: u32 = 1;
}

/// Resources of `getrlimit`/`setrlimit` (Linux numbers).
pub mod rlimit {
    /// CPU time, seconds.
    pub const CPU: u32 = 0;
    /// Largest file.
    pub const FSIZE: u32 = 1;
    /// Largest data segment (the heap).
    pub const DATA: u32 = 2;
    /// Largest stack.
    pub const STACK: u32 = 3;
    /// Largest core file.
    pub const CORE: u32 = 4;
    /// Open descriptors.
    pub const NOFILE: u32 = 7;
    /// No limit.
    pub const INFINITY: u32 = 0xFFFF_FFFF;
}

/// `mmap`/`mprotect` protection bits (`PROT_*`, Linux values).
pub mod prot {
    /// `PROT_NONE`: no access.
    pub const NONE: u32 = 0;
    /// `PROT_READ`.
    pub const READ: u32 = 1;
    /// `PROT_WRITE` (implies readable on x86).
    pub const WRITE: u32 = 2;
    /// `PROT_EXEC`.
    pub const EXEC: u32 = 4;
    /// `PROT_READ | PROT_WRITE`.
    pub const RW: u32 = READ | WRITE;
}

/// `mmap` flags (`MAP_*`, Linux i386 values). The kernel maps private
/// anonymous memory only: `PRIVATE | ANONYMOUS`, `fd` −1, offset 0.
pub mod map {
    /// `MAP_SHARED` (refused for anonymous memory: `EINVAL`).
    pub const SHARED: u32 = 0x01;
    /// `MAP_PRIVATE`.
    pub const PRIVATE: u32 = 0x02;
    /// `MAP_FIXED`: exactly at `addr`, replacing what is there.
    pub const FIXED: u32 = 0x10;
    /// `MAP_ANONYMOUS`: memory, not a file (`fd` and `offset` ignored).
    pub const ANONYMOUS: u32 = 0x20;
    /// `MAP_NORESERVE` (accepted, ignored).
    pub const NORESERVE: u32 = 0x4000;
    /// `MAP_POPULATE` (accepted, ignored).
    pub const POPULATE: u32 = 0x8000;
    /// `MAP_STACK` (accepted, ignored).
    pub const STACK: u32 = 0x20000;
    /// `MAP_FIXED_NOREPLACE`: exactly at `addr`, `EEXIST` if taken.
    pub const FIXED_NOREPLACE: u32 = 0x10_0000;
    /// `MAP_PRIVATE | MAP_ANONYMOUS`, the usual flags.
    pub const ANON: u32 = PRIVATE | ANONYMOUS;
    /// `MAP_FAILED`: what C's `mmap` returns on error.
    pub const FAILED: usize = usize::MAX;
}

/// `madvise` advice (`MADV_*`, Linux values).
pub mod madv {
    /// `MADV_NORMAL`.
    pub const NORMAL: u32 = 0;
    /// `MADV_RANDOM`.
    pub const RANDOM: u32 = 1;
    /// `MADV_SEQUENTIAL`.
    pub const SEQUENTIAL: u32 = 2;
    /// `MADV_WILLNEED`.
    pub const WILLNEED: u32 = 3;
    /// `MADV_DONTNEED`: drop the pages of private memory; they read as
    /// zero on the next touch.
    pub const DONTNEED: u32 = 4;
}

/// `struct rlimit`: `{u32 rlim_cur, u32 rlim_max}`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rlimit {
    /// The soft limit (the one enforced).
    pub rlim_cur: u32,
    /// The hard limit (the ceiling of `rlim_cur`).
    pub rlim_max: u32,
}

/// `struct stat`: Linux i386's, 64 bytes.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stat {
    /// Device.
    pub st_dev: u32,
    /// Inode number.
    pub st_ino: u32,
    /// Type and permission bits.
    pub st_mode: u16,
    /// Link count.
    pub st_nlink: u16,
    /// Owner.
    pub st_uid: u16,
    /// Group.
    pub st_gid: u16,
    /// Device number, for devices.
    pub st_rdev: u32,
    /// Size in bytes.
    pub st_size: u32,
    /// Preferred I/O size.
    pub st_blksize: u32,
    /// 512-byte blocks allocated.
    pub st_blocks: u32,
    /// Access time, seconds.
    pub st_atime: u32,
    /// Access time, nanoseconds.
    pub st_atime_nsec: u32,
    /// Modification time, seconds.
    pub st_mtime: u32,
    /// Modification time, nanoseconds.
    pub st_mtime_nsec: u32,
    /// Status change time, seconds.
    pub st_ctime: u32,
    /// Status change time, nanoseconds.
    pub st_ctime_nsec: u32,
    /// Unused.
    pub unused: [u32; 2],
}

impl Stat {
    /// The type bits of `st_mode`.
    pub fn file_type(&self) -> u16 {
        self.st_mode & s::IFMT
    }
    /// A regular file?
    pub fn is_file(&self) -> bool {
        self.file_type() == s::IFREG
    }
    /// A directory?
    pub fn is_dir(&self) -> bool {
        self.file_type() == s::IFDIR
    }
    /// A character device?
    pub fn is_char_device(&self) -> bool {
        self.file_type() == s::IFCHR
    }
}

/// The fixed head of a `struct linux_dirent` record; the NUL-terminated name
/// follows at offset 10, then padding, and the type in the record's last
/// byte. Records are 4-byte aligned. Parse a `getdents` buffer with
/// [`Dirents`].
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinuxDirentHead {
    /// Inode number.
    pub d_ino: u32,
    /// Offset to pass to `lseek` to continue after this entry.
    pub d_off: u32,
    /// Length of the whole record.
    pub d_reclen: u16,
}

/// Offset of `d_name` in a `linux_dirent` record.
pub const DIRENT_NAME_OFFSET: usize = 10;

/// One record of a `getdents` buffer, borrowed from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dirent<'a> {
    /// Inode number.
    pub ino: u32,
    /// Offset of the next entry.
    pub off: u32,
    /// The name, without its NUL.
    pub name: &'a [u8],
    /// One of [`dt`].
    pub kind: u8,
}

/// The records of a `getdents` result. Yields `Err(())` once, then stops,
/// on a malformed record (a length that is too short, not 4-aligned, runs
/// past the buffer, or a name without its NUL).
#[derive(Clone, Debug)]
pub struct Dirents<'a> {
    buf: &'a [u8],
}

impl<'a> Dirents<'a> {
    /// Iterates over `buf`, the bytes `getdents` filled.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    /// The bytes not parsed yet.
    pub fn remaining(&self) -> &'a [u8] {
        self.buf
    }
}

impl<'a> Iterator for Dirents<'a> {
    type Item = Result<Dirent<'a>, ()>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.buf.is_empty() {
            return None;
        }
        let buf = core::mem::take(&mut self.buf);
        let u32_at = |o: usize| u32::from_le_bytes([buf[o], buf[o + 1], buf[o + 2], buf[o + 3]]);
        if buf.len() < DIRENT_NAME_OFFSET + 2 {
            return Some(Err(()));
        }
        let reclen = usize::from(u16::from_le_bytes([buf[8], buf[9]]));
        if reclen < DIRENT_NAME_OFFSET + 2 || reclen > buf.len() || reclen % 4 != 0 {
            return Some(Err(()));
        }
        let record = &buf[..reclen];
        let name_area = &record[DIRENT_NAME_OFFSET..reclen - 1];
        let Some(nul) = name_area.iter().position(|&b| b == 0) else {
            return Some(Err(()));
        };
        self.buf = &buf[reclen..];
        Some(Ok(Dirent {
            ino: u32_at(0),
            off: u32_at(4),
            name: &name_area[..nul],
            kind: record[reclen - 1],
        }))
    }
}

/// `struct utsname` (Linux `new_utsname`): six NUL-terminated fields of 65
/// bytes.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Utsname {
    /// Operating system name.
    pub sysname: [u8; 65],
    /// Host name.
    pub nodename: [u8; 65],
    /// Release.
    pub release: [u8; 65],
    /// Version.
    pub version: [u8; 65],
    /// Hardware.
    pub machine: [u8; 65],
    /// Domain name.
    pub domainname: [u8; 65],
}

impl Default for Utsname {
    fn default() -> Self {
        Self {
            sysname: [0; 65],
            nodename: [0; 65],
            release: [0; 65],
            version: [0; 65],
            machine: [0; 65],
            domainname: [0; 65],
        }
    }
}

/// The bytes of a NUL-terminated field, up to the NUL (or the whole field).
pub fn field_bytes(field: &[u8]) -> &[u8] {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    &field[..end]
}

/// `struct termios` (Linux i386, 36 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Termios {
    /// Input modes.
    pub c_iflag: u32,
    /// Output modes.
    pub c_oflag: u32,
    /// Control modes.
    pub c_cflag: u32,
    /// Local modes.
    pub c_lflag: u32,
    /// Line discipline.
    pub c_line: u8,
    /// Control characters.
    pub c_cc: [u8; 19],
}

/// `struct winsize`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Winsize {
    /// Rows.
    pub ws_row: u16,
    /// Columns.
    pub ws_col: u16,
    /// Width in pixels.
    pub ws_xpixel: u16,
    /// Height in pixels.
    pub ws_ypixel: u16,
}

/// `struct timespec` as the ABI defines it: two 32-bit unsigned fields.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timespec {
    /// Seconds.
    pub tv_sec: u32,
    /// Nanoseconds, below 10⁹.
    pub tv_nsec: u32,
}

impl Timespec {
    /// The time in nanoseconds.
    pub fn as_nanos(&self) -> u64 {
        u64::from(self.tv_sec) * 1_000_000_000 + u64::from(self.tv_nsec)
    }
}

// The layouts the ABI fixes. These hold for the i686 target (and for the
// host, where no field is pointer-sized).
const _: () = {
    assert!(size_of::<Stat>() == 64);
    assert!(offset_of!(Stat, st_mode) == 8);
    assert!(offset_of!(Stat, st_rdev) == 16);
    assert!(offset_of!(Stat, st_size) == 20);
    assert!(offset_of!(Stat, st_atime) == 32);
    assert!(offset_of!(Stat, st_ctime_nsec) == 52);
    assert!(offset_of!(Stat, unused) == 56);
    assert!(offset_of!(LinuxDirentHead, d_reclen) == 8);
    assert!(size_of::<Utsname>() == 6 * 65);
    assert!(offset_of!(Utsname, machine) == 4 * 65);
    assert!(size_of::<Termios>() == 36);
    assert!(offset_of!(Termios, c_line) == 16);
    assert!(offset_of!(Termios, c_cc) == 17);
    assert!(size_of::<Winsize>() == 8);
    assert!(size_of::<Timespec>() == 8);
    assert!(size_of::<Rlimit>() == 8);
};

#[cfg(test)]
mod tests {
    use super::*;

    fn record(out: &mut Vec<u8>, ino: u32, off: u32, name: &[u8], kind: u8) {
        let reclen = (DIRENT_NAME_OFFSET + name.len() + 2).next_multiple_of(4);
        let start = out.len();
        out.extend_from_slice(&ino.to_le_bytes());
        out.extend_from_slice(&off.to_le_bytes());
        out.extend_from_slice(&(reclen as u16).to_le_bytes());
        out.extend_from_slice(name);
        out.resize(start + reclen - 1, 0);
        out.push(kind);
    }

    #[test]
    fn dirents_parse() {
        let mut buf = Vec::new();
        record(&mut buf, 1, 1, b".", dt::DIR);
        record(&mut buf, 7, 2, b"hello", dt::REG);
        record(&mut buf, 9, 3, b"ab", dt::CHR);
        let all: Vec<_> = Dirents::new(&buf).collect();
        assert_eq!(all.len(), 3);
        let e = all[1].unwrap();
        assert_eq!(
            (e.ino, e.off, e.name, e.kind),
            (7, 2, &b"hello"[..], dt::REG)
        );
        assert_eq!(all[2].unwrap().name, b"ab");
        assert_eq!(all[0].unwrap().kind, dt::DIR);
    }

    #[test]
    fn dirents_reject_malformed() {
        let mut buf = Vec::new();
        record(&mut buf, 7, 2, b"hello", dt::REG);
        // Truncated record.
        let r: Vec<_> = Dirents::new(&buf[..buf.len() - 4]).collect();
        assert_eq!(r, [Err(())]);
        // Zero length would loop forever: must be an error.
        let mut bad = buf.clone();
        bad[8] = 0;
        bad[9] = 0;
        assert_eq!(Dirents::new(&bad).collect::<Vec<_>>(), [Err(())]);
        // Name without NUL.
        let mut bad = buf.clone();
        for b in &mut bad[DIRENT_NAME_OFFSET..buf.len() - 1] {
            *b = b'x';
        }
        assert_eq!(Dirents::new(&bad).collect::<Vec<_>>(), [Err(())]);
        // Arbitrary bytes never panic.
        for len in 0..40 {
            let junk: Vec<u8> = (0..len).map(|i| (i * 37 + 5) as u8).collect();
            let _ = Dirents::new(&junk).count();
        }
    }

    #[test]
    fn stat_kinds_and_fields() {
        let st = Stat {
            st_mode: s::IFDIR | 0o755,
            ..Default::default()
        };
        assert!(st.is_dir() && !st.is_file());
        let mut u = Utsname::default();
        u.sysname[..5].copy_from_slice(b"Linux");
        assert_eq!(field_bytes(&u.sysname), b"Linux");
        assert_eq!(field_bytes(&[b'a'; 3]), b"aaa");
        assert_eq!(
            Timespec {
                tv_sec: 2,
                tv_nsec: 5
            }
            .as_nanos(),
            2_000_000_005
        );
    }

    #[test]
    fn memory_constants_are_linux_i386() {
        assert_eq!(
            (prot::NONE, prot::READ, prot::WRITE, prot::EXEC),
            (0, 1, 2, 4)
        );
        assert_eq!(
            (map::SHARED, map::PRIVATE, map::FIXED, map::ANONYMOUS),
            (1, 2, 0x10, 0x20)
        );
        assert_eq!(
            (map::NORESERVE, map::POPULATE, map::STACK),
            (0x4000, 0x8000, 0x20000)
        );
        assert_eq!(map::FIXED_NOREPLACE, 0x10_0000);
        assert_eq!(map::ANON, 0x22);
        assert_eq!((madv::NORMAL, madv::WILLNEED, madv::DONTNEED), (0, 3, 4));
        assert_eq!(rlimit::STACK, 3);
    }
}
