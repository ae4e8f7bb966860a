//! Access to physical memory: the [`PhysMemory`] trait (the kernel implements it over its
//! direct map), the [`TlbFlush`] hook, and [`Machine`], the bundle of everything `vm`
//! needs from the hardware (memory + frames + TLB).

use crate::frame::{FrameAllocator, PhysAddr, PhysFrame};

/// Reading and writing physical memory by address.
///
/// Contract `vm` keeps: `read_u64`/`write_u64` addresses are 8-byte aligned; the byte
/// slices of `read_bytes`/`write_bytes` never cross a frame boundary; every frame passed
/// was obtained from the [`FrameAllocator`] of the same machine.
pub trait PhysMemory {
    /// Read the 64-bit little-endian word at `addr`.
    fn read_u64(&self, addr: PhysAddr) -> u64;
    /// Write the 64-bit little-endian word at `addr`.
    fn write_u64(&mut self, addr: PhysAddr, value: u64);
    /// Fill `frame` with zeros.
    fn zero_frame(&mut self, frame: PhysFrame);
    /// Copy the 4096 bytes of `src` to `dst` (distinct frames).
    fn copy_frame(&mut self, src: PhysFrame, dst: PhysFrame);
    /// Copy `buf.len()` bytes starting at `addr` into `buf`.
    fn read_bytes(&self, addr: PhysAddr, buf: &mut [u8]);
    /// Copy `data` to physical memory starting at `addr`.
    fn write_bytes(&mut self, addr: PhysAddr, data: &[u8]);
}

/// TLB maintenance. `root` is the page-table root (PML4 frame) of the address space whose
/// translations changed: an implementation flushes only if that root is loaded in CR3
/// on this CPU (otherwise there is nothing cached, without PCIDs), e.g. with `invlpg`.
pub trait TlbFlush {
    /// Forget any cached translation of the page containing `vaddr` under `root`.
    fn flush_page(&mut self, root: PhysFrame, vaddr: u64);
    /// Forget every cached non-global translation under `root` (a CR3 reload).
    fn flush_all(&mut self, root: PhysFrame);
    /// Whether the MMU has the no-execute bit (EFER.NXE on). Without it bit 63 of an
    /// entry is reserved: `vm` then leaves it clear and every page is executable.
    fn nx_supported(&self) -> bool {
        true
    }
}

/// Everything `vm` needs from the machine. Blanket-implemented: the kernel implements the
/// three traits on one type (for example a struct borrowing its frame allocator, its
/// direct map and nothing else) and passes `&mut` of it to `vm` calls.
pub trait Machine: PhysMemory + FrameAllocator + TlbFlush {}

impl<T: PhysMemory + FrameAllocator + TlbFlush + ?Sized> Machine for T {}
