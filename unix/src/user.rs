//! Checked access to a process's memory from the kernel.
//!
//! Every user pointer a syscall receives goes through these helpers: [`UserPtr`] is a
//! 32-bit user address, [`UserMemory`] the checked copy primitive the kernel provides
//! (over the remap table: [`vm::UserSpace`] implements it), and
//! [`copy_from_user`], [`copy_to_user`], [`read_user_u32`], [`read_val`], [`write_val`],
//! [`read_user_cstring`] turn any bad pointer into `EFAULT` (or `ENOMEM` when the
//! memory exists but no frame is left), never a kernel fault or a panic.
//!
//! Transfers are split at user page boundaries ([`page_chunks`]), so a copy that fails
//! part-way knows exactly how many bytes went through: `read`/`write` return that
//! partial count, as Linux does.

use crate::abi::{Pod, MAX_POD};
use crate::errno::Errno;
use alloc::vec::Vec;
use vm::{Segv, SegvReason, UserSpace};

/// Size of a user page: the hardware's, as `vm` defines it.
pub const USER_PAGE: u64 = vm::PAGE_SIZE;

// The page size the ABI promises user space is the hardware's.
const _: () = assert!(crate::abi::PAGE_SIZE as u64 == vm::PAGE_SIZE);

/// One past the highest address a 32-bit process can name.
pub const USER_LIMIT: u64 = 1 << 32;

/// A user-space address (32-bit), unchecked until used through [`UserMemory`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct UserPtr(pub u32);

impl UserPtr {
    /// The NULL pointer.
    pub const NULL: UserPtr = UserPtr(0);

    /// Whether this is NULL.
    pub fn is_null(self) -> bool {
        self.0 == 0
    }

    /// The pointer `n` bytes further on, or `None` past 4 GiB.
    pub fn offset(self, n: u64) -> Option<UserPtr> {
        let a = u64::from(self.0).checked_add(n)?;
        u32::try_from(a).ok().map(UserPtr)
    }
}

/// A refused user access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// No accessible memory at `addr` (unmapped, guard, read-only for a write, kernel
    /// half, past 4 GiB): `EFAULT`.
    Bad {
        /// The first refused address.
        addr: u64,
    },
    /// The memory is valid but no frame was available: `ENOMEM`.
    OutOfMemory {
        /// The address being made resident.
        addr: u64,
    },
}

impl Fault {
    /// The errno a syscall returns for this fault.
    pub fn errno(self) -> Errno {
        match self {
            Fault::Bad { .. } => Errno::EFAULT,
            Fault::OutOfMemory { .. } => Errno::ENOMEM,
        }
    }
}

impl From<Fault> for Errno {
    fn from(f: Fault) -> Errno {
        f.errno()
    }
}

impl From<Segv> for Fault {
    fn from(s: Segv) -> Fault {
        if s.reason == SegvReason::OutOfMemory {
            Fault::OutOfMemory { addr: s.addr }
        } else {
            Fault::Bad { addr: s.addr }
        }
    }
}

/// Checked copies between the kernel and one process's memory.
///
/// Implementations check every byte against the process's remap table (faulting pages
/// in as the MMU would) and must never panic. A failed copy may have transferred a
/// prefix; callers that need exact partial counts split at page boundaries.
pub trait UserMemory {
    /// Copy `buf.len()` bytes from user address `addr`.
    fn read(&mut self, addr: UserPtr, buf: &mut [u8]) -> Result<(), Fault>;
    /// Copy `data` to user address `addr`.
    fn write(&mut self, addr: UserPtr, data: &[u8]) -> Result<(), Fault>;
}

impl<T: UserMemory + ?Sized> UserMemory for &mut T {
    fn read(&mut self, addr: UserPtr, buf: &mut [u8]) -> Result<(), Fault> {
        (**self).read(addr, buf)
    }
    fn write(&mut self, addr: UserPtr, data: &[u8]) -> Result<(), Fault> {
        (**self).write(addr, data)
    }
}

/// Whether `[addr, addr + len)` lies inside the 32-bit space (a span that wraps or
/// passes 4 GiB is refused without touching memory).
fn span_ok(addr: UserPtr, len: usize) -> Result<(), Fault> {
    let end = u64::from(addr.0).checked_add(len as u64);
    match end {
        Some(e) if e <= USER_LIMIT => Ok(()),
        _ => Err(Fault::Bad {
            addr: u64::from(addr.0),
        }),
    }
}

/// [`UserMemory`] over a lent address space ([`vm::UserSpace`]): the kernel's
/// implementation (and the host tests', over [`vm::emulated::EmulatedMachine`]).
impl UserMemory for UserSpace<'_> {
    fn read(&mut self, addr: UserPtr, buf: &mut [u8]) -> Result<(), Fault> {
        span_ok(addr, buf.len())?;
        self.read_user(u64::from(addr.0), buf).map_err(Fault::from)
    }

    fn write(&mut self, addr: UserPtr, data: &[u8]) -> Result<(), Fault> {
        span_ok(addr, data.len())?;
        self.write_user(u64::from(addr.0), data)
            .map_err(Fault::from)
    }
}

/// Split `[addr, addr + len)` into pieces that never cross a user page boundary:
/// yields `(offset from addr, length)`. Empty for `len == 0`.
pub fn page_chunks(addr: UserPtr, len: usize) -> impl Iterator<Item = (usize, usize)> {
    let mut done = 0usize;
    core::iter::from_fn(move || {
        if done >= len {
            return None;
        }
        let here = u64::from(addr.0).wrapping_add(done as u64);
        let room = (USER_PAGE - here % USER_PAGE) as usize;
        let n = room.min(len - done);
        let piece = (done, n);
        done += n;
        Some(piece)
    })
}

/// Copy `buf.len()` bytes from user `addr`. NULL or any bad byte → `EFAULT`.
pub fn copy_from_user(
    mem: &mut (impl UserMemory + ?Sized),
    addr: UserPtr,
    buf: &mut [u8],
) -> Result<(), Errno> {
    if buf.is_empty() {
        return Ok(());
    }
    if addr.is_null() {
        return Err(Errno::EFAULT);
    }
    mem.read(addr, buf).map_err(Errno::from)
}

/// Copy `data` to user `addr`. NULL or any bad byte → `EFAULT`.
pub fn copy_to_user(
    mem: &mut (impl UserMemory + ?Sized),
    addr: UserPtr,
    data: &[u8],
) -> Result<(), Errno> {
    if data.is_empty() {
        return Ok(());
    }
    if addr.is_null() {
        return Err(Errno::EFAULT);
    }
    mem.write(addr, data).map_err(Errno::from)
}

/// Write the ABI structure `value` to user `addr` (its [`Pod`] bytes). NULL or any
/// bad byte → `EFAULT`.
pub fn write_val<T: Pod>(
    mem: &mut (impl UserMemory + ?Sized),
    addr: UserPtr,
    value: &T,
) -> Result<(), Errno> {
    let mut buf = [0u8; MAX_POD];
    let bytes = buf.get_mut(..T::SIZE).ok_or(Errno::EINVAL)?;
    value.write_bytes(bytes);
    copy_to_user(mem, addr, bytes)
}

/// Read an ABI structure from user `addr`. NULL or any bad byte → `EFAULT`.
pub fn read_val<T: Pod>(mem: &mut (impl UserMemory + ?Sized), addr: UserPtr) -> Result<T, Errno> {
    let mut buf = [0u8; MAX_POD];
    let bytes = buf.get_mut(..T::SIZE).ok_or(Errno::EINVAL)?;
    copy_from_user(mem, addr, bytes)?;
    Ok(T::read_bytes(bytes))
}

/// Copy `data` to user `addr` page by page; returns how many bytes were copied before
/// the first fault (all of them on success) and that fault, if any.
pub fn copy_to_user_partial(
    mem: &mut (impl UserMemory + ?Sized),
    addr: UserPtr,
    data: &[u8],
) -> (usize, Option<Errno>) {
    if data.is_empty() {
        return (0, None);
    }
    if addr.is_null() {
        return (0, Some(Errno::EFAULT));
    }
    for (off, n) in page_chunks(addr, data.len()) {
        let Some(at) = addr.offset(off as u64) else {
            return (off, Some(Errno::EFAULT));
        };
        if let Err(f) = mem.write(at, &data[off..off + n]) {
            return (off, Some(f.errno()));
        }
    }
    (data.len(), None)
}

/// Read one little-endian `u32` at user `addr`.
pub fn read_user_u32(mem: &mut (impl UserMemory + ?Sized), addr: UserPtr) -> Result<u32, Errno> {
    let mut b = [0u8; 4];
    copy_from_user(mem, addr, &mut b)?;
    Ok(u32::from_le_bytes(b))
}

/// Read a NUL-terminated string at user `addr` of at most `max` bytes including the
/// NUL; returns it without the NUL. No NUL within `max` bytes → `ENAMETOOLONG`; an
/// unreadable byte before the NUL → `EFAULT`. Never reads past the page holding the NUL.
pub fn read_user_cstring(
    mem: &mut (impl UserMemory + ?Sized),
    addr: UserPtr,
    max: usize,
) -> Result<Vec<u8>, Errno> {
    if addr.is_null() {
        return Err(Errno::EFAULT);
    }
    let mut out = Vec::new();
    let mut chunk = [0u8; CSTRING_CHUNK];
    let mut done = 0usize;
    while done < max {
        let at = addr.offset(done as u64).ok_or(Errno::EFAULT)?;
        let room = (USER_PAGE - u64::from(at.0) % USER_PAGE) as usize;
        let n = room.min(CSTRING_CHUNK).min(max - done);
        let piece = &mut chunk[..n];
        mem.read(at, piece).map_err(Errno::from)?;
        if let Some(nul) = piece.iter().position(|&b| b == 0) {
            out.try_reserve(nul).map_err(|_| Errno::ENOMEM)?;
            out.extend_from_slice(&piece[..nul]);
            return Ok(out);
        }
        out.try_reserve(n).map_err(|_| Errno::ENOMEM)?;
        out.extend_from_slice(piece);
        done += n;
    }
    Err(Errno::ENAMETOOLONG)
}

/// Bytes read per step by [`read_user_cstring`] (a small kernel-stack buffer).
const CSTRING_CHUNK: usize = 256;

/// A flat, bounds-checked user memory for tests: `len` bytes at `base`, everything
/// else faults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlatMemory {
    /// First valid address.
    pub base: u32,
    /// The bytes.
    pub bytes: Vec<u8>,
}

impl FlatMemory {
    /// `len` zero bytes at `base`.
    pub fn new(base: u32, len: usize) -> FlatMemory {
        FlatMemory {
            base,
            bytes: alloc::vec![0; len],
        }
    }

    fn range(&self, addr: UserPtr, len: usize) -> Result<core::ops::Range<usize>, Fault> {
        let bad = Fault::Bad {
            addr: u64::from(addr.0),
        };
        let start = addr.0.checked_sub(self.base).ok_or(bad)? as usize;
        let end = start.checked_add(len).ok_or(bad)?;
        if end > self.bytes.len() {
            return Err(Fault::Bad {
                addr: u64::from(self.base) + self.bytes.len() as u64,
            });
        }
        Ok(start..end)
    }
}

impl UserMemory for FlatMemory {
    fn read(&mut self, addr: UserPtr, buf: &mut [u8]) -> Result<(), Fault> {
        let r = self.range(addr, buf.len())?;
        buf.copy_from_slice(&self.bytes[r]);
        Ok(())
    }
    fn write(&mut self, addr: UserPtr, data: &[u8]) -> Result<(), Fault> {
        let r = self.range(addr, data.len())?;
        self.bytes[r].copy_from_slice(data);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vm::emulated::EmulatedMachine;
    use vm::remap::Perms;
    use vm::{AddressSpace, PersistentSpace};

    fn setup() -> (EmulatedMachine, PersistentSpace, AddressSpace) {
        let mut m = EmulatedMachine::new(256);
        let ps = PersistentSpace::new();
        let space = AddressSpace::new(&mut m, &[0; vm::KERNEL_ENTRIES]).unwrap();
        (m, ps, space)
    }

    #[test]
    fn chunks_split_at_pages() {
        let v: Vec<_> = page_chunks(UserPtr(0x1ff0), 0x20).collect();
        assert_eq!(v, [(0, 0x10), (0x10, 0x10)]);
        let v: Vec<_> = page_chunks(UserPtr(0x2000), 0x2001).collect();
        assert_eq!(v, [(0, 0x1000), (0x1000, 0x1000), (0x2000, 1)]);
        assert_eq!(page_chunks(UserPtr(5), 0).count(), 0);
        let v: Vec<_> = page_chunks(UserPtr(0xffff_fff0), 0x20).collect();
        assert_eq!(v, [(0, 0x10), (0x10, 0x10)]);
    }

    #[test]
    fn vm_user_copies_and_faults() {
        let (mut m, mut ps, mut space) = setup();
        space
            .map_anon(&mut ps, 0x10, 2, Perms::READ | Perms::WRITE)
            .unwrap();
        space.map_anon(&mut ps, 0x20, 1, Perms::READ).unwrap();
        let mut u = UserSpace::new(&mut space, &mut ps, &mut m);
        copy_to_user(&mut u, UserPtr(0x10ffe), b"abcd").unwrap();
        let mut b = [0u8; 4];
        copy_from_user(&mut u, UserPtr(0x10ffe), &mut b).unwrap();
        assert_eq!(&b, b"abcd");
        assert_eq!(read_user_u32(&mut u, UserPtr(0x10ffe)), Ok(0x6463_6261));
        copy_to_user(&mut u, UserPtr(0x11000), &7u32.to_le_bytes()).unwrap();
        // NULL, unmapped, straddling the end, read-only, past 4 GiB.
        assert_eq!(read_user_u32(&mut u, UserPtr(0)), Err(Errno::EFAULT));
        assert_eq!(read_user_u32(&mut u, UserPtr(0x5000)), Err(Errno::EFAULT));
        assert_eq!(read_user_u32(&mut u, UserPtr(0x11ffe)), Err(Errno::EFAULT));
        assert_eq!(
            copy_to_user(&mut u, UserPtr(0x20000), &1u32.to_le_bytes()),
            Err(Errno::EFAULT)
        );
        assert_eq!(read_user_u32(&mut u, UserPtr(0x20000)), Ok(0));
        assert_eq!(
            read_user_u32(&mut u, UserPtr(0xffff_fffe)),
            Err(Errno::EFAULT)
        );
        // Partial copies stop at the page that faults.
        let data = [1u8; 0x1800];
        assert_eq!(
            copy_to_user_partial(&mut u, UserPtr(0x11800), &data),
            (0x800, Some(Errno::EFAULT))
        );
        assert_eq!(
            copy_to_user_partial(&mut u, UserPtr(0x10000), &data),
            (0x1800, None)
        );
        space.destroy(&mut ps, &mut m);
        assert_eq!(m.frames_in_use(), 0);
    }

    #[test]
    fn cstrings() {
        let (mut m, mut ps, mut space) = setup();
        space
            .map_anon(&mut ps, 0x10, 1, Perms::READ | Perms::WRITE)
            .unwrap();
        let mut u = UserSpace::new(&mut space, &mut ps, &mut m);
        copy_to_user(&mut u, UserPtr(0x10ffa), b"hello\0").unwrap();
        assert_eq!(
            read_user_cstring(&mut u, UserPtr(0x10ffa), 4096).unwrap(),
            b"hello"
        );
        // The NUL is on the last mapped byte: the next page is never touched.
        assert_eq!(
            read_user_cstring(&mut u, UserPtr(0x10ffa), 6).unwrap(),
            b"hello"
        );
        assert_eq!(
            read_user_cstring(&mut u, UserPtr(0x10ffa), 5),
            Err(Errno::ENAMETOOLONG)
        );
        copy_to_user(&mut u, UserPtr(0x10ffa), b"hellox").unwrap();
        assert_eq!(
            read_user_cstring(&mut u, UserPtr(0x10ffa), 4096),
            Err(Errno::EFAULT)
        );
        assert_eq!(
            read_user_cstring(&mut u, UserPtr::NULL, 4096),
            Err(Errno::EFAULT)
        );
        // A page of non-NUL bytes then the limit.
        copy_to_user(&mut u, UserPtr(0x10000), &[b'a'; 4096]).unwrap();
        assert_eq!(
            read_user_cstring(&mut u, UserPtr(0x10000), 4096),
            Err(Errno::ENAMETOOLONG)
        );
        space.destroy(&mut ps, &mut m);
    }

    #[test]
    fn flat_memory() {
        let mut f = FlatMemory::new(0x1000, 16);
        copy_to_user(&mut f, UserPtr(0x1008), &[1; 8]).unwrap();
        assert_eq!(
            copy_to_user(&mut f, UserPtr(0x1009), &[1; 8]),
            Err(Errno::EFAULT)
        );
        assert_eq!(read_user_u32(&mut f, UserPtr(0xfff)), Err(Errno::EFAULT));
        assert_eq!(read_user_u32(&mut f, UserPtr(0x100c)), Ok(0x0101_0101));
    }
}
