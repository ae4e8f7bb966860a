//! The ABI's data layouts and constants, from the `phantom-abi` crate that the
//! kernel uses too (one definition for both sides of the gate): Phantom's
//! `struct stat`, `struct utsname`, `struct dirent`, `struct timespec`, BSD
//! errno and `ioctl` encoding, Phantom's `open` flags, and the memory calls'
//! Linux values. This module adds only user-side conveniences: descriptor
//! names, `MAP_ANON`, and a parser of `getdents` buffers ([`Dirents`]).

// Each group also has its `ALL` table (for generated consumers); the globs
// make those ambiguous here, which is fine: user code names the constants.
#![allow(ambiguous_glob_reexports)]
pub use phantom_abi::clock::*;
pub use phantom_abi::dtype::*;
pub use phantom_abi::fcntl::*;
pub use phantom_abi::ioctl::*;
pub use phantom_abi::itimer::*;
pub use phantom_abi::madv::*;
pub use phantom_abi::map::*;
pub use phantom_abi::mode::*;
pub use phantom_abi::open_flags::*;
pub use phantom_abi::poll::*;
pub use phantom_abi::prot::*;
pub use phantom_abi::rlimit::*;
pub use phantom_abi::seek::*;
pub use phantom_abi::sigflags::*;
pub use phantom_abi::signal::*;
pub use phantom_abi::wait::*;
pub use phantom_abi::{
    Dirent, GETDENTS_NAME_OFFSET, Itimerval, Pod, Pollfd, Rlimit, Sigaction, Siginfo, StackT, Stat,
    Termios, Timespec, Timeval, Utsname, Winsize, field_bytes, ioc,
};

/// A file descriptor.
pub type Fd = i32;
/// Standard input.
pub const STDIN: Fd = 0;
/// Standard output.
pub const STDOUT: Fd = 1;
/// Standard error.
pub const STDERR: Fd = 2;

/// `MAP_PRIVATE | MAP_ANONYMOUS`, the usual `mmap` flags.
pub const MAP_ANON: u32 = MAP_PRIVATE | MAP_ANONYMOUS;

/// One record of a `getdents` buffer, borrowed from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GetdentsEntry<'a> {
    /// Inode number.
    pub ino: u32,
    /// Offset of the next entry.
    pub off: u32,
    /// The name, without its NUL.
    pub name: &'a [u8],
    /// One of the `DT_*` values.
    pub kind: u8,
}

/// The records of a `getdents` result (the extension's layout: `u32 d_ino`,
/// `u32 d_off`, `u16 d_reclen`, the NUL-terminated name, the type in the
/// record's last byte). Yields `Err(())` once, then stops, on a malformed
/// record (a length that is too short, not 4-aligned, runs past the buffer,
/// or a name without its NUL).
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
    type Item = Result<GetdentsEntry<'a>, ()>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.buf.is_empty() {
            return None;
        }
        let buf = core::mem::take(&mut self.buf);
        let u32_at = |o: usize| u32::from_le_bytes([buf[o], buf[o + 1], buf[o + 2], buf[o + 3]]);
        if buf.len() < GETDENTS_NAME_OFFSET + 2 {
            return Some(Err(()));
        }
        let reclen = usize::from(u16::from_le_bytes([buf[8], buf[9]]));
        if reclen < GETDENTS_NAME_OFFSET + 2 || reclen > buf.len() || reclen % 4 != 0 {
            return Some(Err(()));
        }
        let record = &buf[..reclen];
        let name_area = &record[GETDENTS_NAME_OFFSET..reclen - 1];
        let Some(nul) = name_area.iter().position(|&b| b == 0) else {
            return Some(Err(()));
        };
        self.buf = &buf[reclen..];
        Some(Ok(GetdentsEntry {
            ino: u32_at(0),
            off: u32_at(4),
            name: &name_area[..nul],
            kind: record[reclen - 1],
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    fn record(out: &mut Vec<u8>, ino: u32, off: u32, name: &[u8], kind: u8) {
        let reclen = phantom_abi::getdents_reclen(name.len());
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
        record(&mut buf, 1, 1, b".", DT_DIR);
        record(&mut buf, 7, 2, b"hello", DT_REG);
        record(&mut buf, 9, 3, b"ab", DT_CHR);
        let all: Vec<_> = Dirents::new(&buf).collect();
        assert_eq!(all.len(), 3);
        let e = all[1].unwrap();
        assert_eq!(
            (e.ino, e.off, e.name, e.kind),
            (7, 2, &b"hello"[..], DT_REG)
        );
        assert_eq!(all[2].unwrap().name, b"ab");
        assert_eq!(all[0].unwrap().kind, DT_DIR);
    }

    #[test]
    fn dirents_reject_malformed() {
        let mut buf = Vec::new();
        record(&mut buf, 7, 2, b"hello", DT_REG);
        let r: Vec<_> = Dirents::new(&buf[..buf.len() - 4]).collect();
        assert_eq!(r, [Err(())]);
        // Zero length would loop forever: must be an error.
        let mut bad = buf.clone();
        bad[8] = 0;
        bad[9] = 0;
        assert_eq!(Dirents::new(&bad).collect::<Vec<_>>(), [Err(())]);
        // Name without NUL.
        let mut bad = buf.clone();
        for b in &mut bad[GETDENTS_NAME_OFFSET..buf.len() - 1] {
            *b = b'x';
        }
        assert_eq!(Dirents::new(&bad).collect::<Vec<_>>(), [Err(())]);
        for len in 0..40 {
            let junk: Vec<u8> = (0..len).map(|i| (i * 37 + 5) as u8).collect();
            let _ = Dirents::new(&junk).count();
        }
    }

    #[test]
    fn phantom_layouts_hold_here_too() {
        assert_eq!(core::mem::size_of::<Stat>(), 48);
        assert_eq!(core::mem::size_of::<Utsname>(), 6 * 257);
        assert_eq!(core::mem::size_of::<Dirent>(), 520);
        assert_eq!(
            (O_APPEND, O_CREAT, O_TRUNC, O_EXCL),
            (8, 0x100, 0x200, 0x400)
        );
        assert_eq!(MAP_ANON, 0x22);
        let st = Stat {
            st_mode: (S_IFDIR | 0o755) as u16,
            ..Default::default()
        };
        assert!(st.is_dir() && !st.is_file());
    }
}
