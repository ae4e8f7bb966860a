//! `vm` owns memory management above the hardware: the persistent page space (page
//! numbers, per-page state, frame reference counts), physical frames behind an abstract
//! allocator (with the kernel's real [`BitmapFrameAllocator`]), the page-table cache of
//! each address space (real x86_64 4-level entries written through an abstract
//! [`PhysMemory`]), and [`AddressSpace`]: remap table + page tables, with map / unmap /
//! protect / grow / fork and page-fault resolution (zero fill, copy-on-write).
//!
//! `vm` never touches hardware itself: the kernel implements [`PhysMemory`],
//! [`FrameAllocator`] (or uses [`BitmapFrameAllocator`]) and [`TlbFlush`] — together a
//! [`Machine`] — and passes them in. Host tests use [`emulated::EmulatedMachine`].
//!
//! Data flow of a fault: `#PF(vaddr)` → [`AddressSpace::resolve_fault`] → remap table
//! (`vpn → persistent page`) → [`PersistentSpace`] (`page → frame`, allocating or
//! copying) → PTE `vpn → frame` → retry, or a [`Segv`].
//!
//! What the kernel provides:
//! - [`PhysMemory`]: `read_u64`, `write_u64`, `zero_frame`, `copy_frame`, `read_bytes`,
//!   `write_bytes` over its direct map;
//! - [`FrameAllocator`]: `alloc_frame`, `free_frame` (use [`BitmapFrameAllocator`]);
//! - [`TlbFlush`]: `flush_page(root, vaddr)` (`invlpg` if `root` is in CR3) and
//!   `flush_all(root)` (CR3 reload if it is);
//! - one [`PersistentSpace`] and the [`AddressSpace`]s, passed `&mut` to each call
//!   together with the machine, e.g. all behind one lock.
//!
//! ```
//! use vm::emulated::EmulatedMachine;
//! use vm::remap::Perms;
//! use vm::{Access, AddressSpace, FaultOutcome, PersistentSpace};
//!
//! let mut m = EmulatedMachine::new(64);
//! let mut ps = PersistentSpace::new();
//! let mut space = AddressSpace::new(&mut m, &[0; vm::KERNEL_ENTRIES]).unwrap();
//! space.map_anon(&mut ps, 0x10, 4, Perms::READ | Perms::WRITE).unwrap();
//! let outcome = space.resolve_fault(&mut ps, &mut m, 0x10_008, Access::Write);
//! assert_eq!(outcome, Ok(FaultOutcome::ZeroFilled));
//! space.write_user(&mut ps, &mut m, 0x10_008, b"hello").unwrap();
//! let mut child = space.fork(&mut ps, &mut m).unwrap();
//! let mut buf = [0; 5];
//! child.read_user(&mut ps, &mut m, 0x10_008, &mut buf).unwrap();
//! assert_eq!(&buf, b"hello");
//! child.destroy(&mut ps, &mut m);
//! space.destroy(&mut ps, &mut m);
//! assert_eq!(m.frames_in_use(), 0);
//! ```

#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

pub mod emulated;
mod errno;
pub mod fault;
pub mod frame;
pub mod paging;
pub mod persistent;
pub mod phys;
mod radix;
pub mod space;

#[cfg(test)]
mod tests;

pub use fault::{Access, FaultOutcome, Segv, SegvReason};
pub use frame::{
    BitmapFrameAllocator, FrameAllocator, FrameError, PhysAddr, PhysFrame, PAGE_SHIFT, PAGE_SIZE,
};
pub use paging::{PageTable, PagingError, KERNEL_ENTRIES, USER_END, USER_END_VPN};
pub use persistent::{PageState, PersistError, PersistentSpace};
pub use phys::{Machine, PhysMemory, TlbFlush};
pub use remap;
pub use space::{AddressSpace, AuditStats, Growth, UserSpace, VmError, DEFAULT_GROW_ROOM};
