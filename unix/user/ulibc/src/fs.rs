//! Files and directories over the syscall wrappers: [`File`] (closed on
//! drop) and [`ReadDir`] (a directory's entries through `getdents`).

use crate::errno::Errno;
use crate::io::write_all;
use crate::string::with_cstr;
use crate::sys;
use crate::types::{Dirents, Fd, O_DIRECTORY, O_RDONLY, Stat};
use core::ffi::CStr;

/// An open file descriptor, closed when dropped.
#[derive(Debug)]
pub struct File {
    fd: Fd,
}

impl File {
    /// `open(path, flags, mode)`.
    pub fn open(path: &CStr, flags: u32, mode: u32) -> Result<Self, Errno> {
        sys::open(path, flags, mode).map(|fd| Self { fd })
    }

    /// Opens `path` (bytes, copied into a C string) with `flags`, mode 0o644.
    pub fn open_bytes(path: &[u8], flags: u32) -> Result<Self, Errno> {
        with_cstr(path, |c| Self::open(c, flags, 0o644))
    }

    /// Opens for reading.
    pub fn open_read(path: &CStr) -> Result<Self, Errno> {
        Self::open(path, O_RDONLY, 0)
    }

    /// Takes ownership of `fd`.
    pub fn from_fd(fd: Fd) -> Self {
        Self { fd }
    }

    /// The descriptor.
    pub fn fd(&self) -> Fd {
        self.fd
    }

    /// Gives up ownership: the fd stays open.
    pub fn into_fd(self) -> Fd {
        let fd = self.fd;
        core::mem::forget(self);
        fd
    }

    /// `read`.
    pub fn read(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        sys::read(self.fd, buf)
    }

    /// Reads until `buf` is full or end of file; the bytes read.
    pub fn read_full(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        let mut done = 0;
        while done < buf.len() {
            match self.read(&mut buf[done..]) {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(Errno::EINTR) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(done)
    }

    /// `write`.
    pub fn write(&self, buf: &[u8]) -> Result<usize, Errno> {
        sys::write(self.fd, buf)
    }

    /// Writes all of `buf`.
    pub fn write_all(&self, buf: &[u8]) -> Result<(), Errno> {
        write_all(self.fd, buf)
    }

    /// `lseek`.
    pub fn seek(&self, offset: i32, whence: u32) -> Result<u32, Errno> {
        sys::lseek(self.fd, offset, whence)
    }

    /// `fstat`.
    pub fn stat(&self) -> Result<Stat, Errno> {
        sys::fstat(self.fd)
    }

    /// Closes, reporting the error `drop` would ignore.
    pub fn close(self) -> Result<(), Errno> {
        sys::close(self.into_fd())
    }
}

impl Drop for File {
    fn drop(&mut self) {
        let _ = sys::close(self.fd);
    }
}

/// Copies everything readable from `from` to `to` through `buf`; the bytes
/// copied. Errors say which side failed.
pub fn copy(from: Fd, to: Fd, buf: &mut [u8]) -> Result<u64, CopyError> {
    let mut total = 0u64;
    loop {
        let n = match sys::read(from, buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(CopyError::Read(e)),
        };
        write_all(to, &buf[..n]).map_err(CopyError::Write)?;
        total += n as u64;
    }
}

/// Which side of a [`copy`] failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CopyError {
    /// Reading the source.
    Read(Errno),
    /// Writing the destination.
    Write(Errno),
}

/// Longest name a [`DirEntry`] holds.
pub const NAME_MAX: usize = 255;

/// One directory entry, owned (its name copied).
#[derive(Clone)]
pub struct DirEntry {
    /// Inode number.
    pub ino: u32,
    /// One of [`crate::types::dt`].
    pub kind: u8,
    name: [u8; NAME_MAX],
    name_len: usize,
}

impl DirEntry {
    /// The name (cut at [`NAME_MAX`] bytes).
    pub fn name(&self) -> &[u8] {
        &self.name[..self.name_len]
    }
}

/// The entries of a directory, read with `getdents` through a 1 KiB buffer.
pub struct ReadDir {
    file: File,
    buf: [u8; 1024],
    len: usize,
    pos: usize,
    done: bool,
}

/// Opens directory `path` for listing.
pub fn read_dir(path: &CStr) -> Result<ReadDir, Errno> {
    let file = File::open(path, O_RDONLY | O_DIRECTORY, 0)?;
    Ok(ReadDir {
        file,
        buf: [0; 1024],
        len: 0,
        pos: 0,
        done: false,
    })
}

impl Iterator for ReadDir {
    type Item = Result<DirEntry, Errno>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.done {
                return None;
            }
            if self.pos < self.len {
                let mut records = Dirents::new(&self.buf[self.pos..self.len]);
                match records.next() {
                    Some(Ok(d)) => {
                        let mut e = DirEntry {
                            ino: d.ino,
                            kind: d.kind,
                            name: [0; NAME_MAX],
                            name_len: d.name.len().min(NAME_MAX),
                        };
                        e.name[..e.name_len].copy_from_slice(&d.name[..e.name_len]);
                        self.pos = self.len - records.remaining().len();
                        return Some(Ok(e));
                    }
                    Some(Err(())) => {
                        self.done = true;
                        return Some(Err(Errno::EIO));
                    }
                    None => self.pos = self.len,
                }
            }
            match sys::getdents(self.file.fd(), &mut self.buf) {
                Ok(0) => self.done = true,
                Ok(n) => {
                    self.len = n.min(self.buf.len());
                    self.pos = 0;
                }
                Err(Errno::EINTR) => {}
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
    }
}
