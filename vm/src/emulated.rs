//! An emulated machine for host tests (here and in other crates): sparse emulated
//! physical memory, a bitmap frame allocator over emulated RAM, a TLB that really caches
//! translations (so a missing flush shows up as a stale translation), and a tiny "CPU"
//! that performs user accesses the way the MMU does — TLB, then the page tables — and
//! calls [`AddressSpace::resolve_fault`] on a fault, like the kernel's #PF handler.

use crate::fault::{Access, FaultOutcome, Segv};
use crate::frame::{
    BitmapFrameAllocator, FrameAllocator, PhysAddr, PhysFrame, PAGE_SHIFT, PAGE_SIZE,
};
use crate::paging::{hw_walk, HwTranslation};
use crate::persistent::PersistentSpace;
use crate::phys::{PhysMemory, TlbFlush};
use crate::space::AddressSpace;
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// Sparse physical memory: frames never written read as zeros.
#[derive(Debug, Default, Clone)]
pub struct EmulatedMemory {
    frames: BTreeMap<u64, Box<[u8; PAGE_SIZE as usize]>>,
}

impl EmulatedMemory {
    /// Empty (all-zero) memory.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of frames holding non-default contents (a memory-use measure).
    pub fn frames_touched(&self) -> usize {
        self.frames.len()
    }

    fn frame_mut(&mut self, n: u64) -> &mut [u8; PAGE_SIZE as usize] {
        self.frames
            .entry(n)
            .or_insert_with(|| Box::new([0u8; PAGE_SIZE as usize]))
    }
}

impl PhysMemory for EmulatedMemory {
    fn read_u64(&self, addr: PhysAddr) -> u64 {
        let mut b = [0u8; 8];
        self.read_bytes(addr, &mut b);
        u64::from_le_bytes(b)
    }

    fn write_u64(&mut self, addr: PhysAddr, value: u64) {
        self.write_bytes(addr, &value.to_le_bytes());
    }

    fn zero_frame(&mut self, frame: PhysFrame) {
        self.frames.remove(&frame.number());
    }

    fn copy_frame(&mut self, src: PhysFrame, dst: PhysFrame) {
        match self.frames.get(&src.number()).cloned() {
            Some(data) => {
                self.frames.insert(dst.number(), data);
            }
            None => {
                self.frames.remove(&dst.number());
            }
        }
    }

    fn read_bytes(&self, addr: PhysAddr, buf: &mut [u8]) {
        let mut a = addr.as_u64();
        let mut done = 0;
        while done < buf.len() {
            let off = (a % PAGE_SIZE) as usize;
            let n = (PAGE_SIZE as usize - off).min(buf.len() - done);
            match self.frames.get(&(a >> PAGE_SHIFT)) {
                Some(f) => buf[done..done + n].copy_from_slice(&f[off..off + n]),
                None => buf[done..done + n].fill(0),
            }
            done += n;
            a += n as u64;
        }
    }

    fn write_bytes(&mut self, addr: PhysAddr, data: &[u8]) {
        let mut a = addr.as_u64();
        let mut done = 0;
        while done < data.len() {
            let off = (a % PAGE_SIZE) as usize;
            let n = (PAGE_SIZE as usize - off).min(data.len() - done);
            self.frame_mut(a >> PAGE_SHIFT)[off..off + n].copy_from_slice(&data[done..done + n]);
            done += n;
            a += n as u64;
        }
    }
}

/// A TLB caching successful user translations per (root, virtual page) until flushed.
#[derive(Debug, Default, Clone)]
pub struct EmulatedTlb {
    entries: BTreeMap<(u64, u64), HwTranslation>,
    /// `flush_page` calls so far.
    pub page_flushes: u64,
    /// `flush_all` calls so far.
    pub full_flushes: u64,
}

impl EmulatedTlb {
    /// Cached translations under `root`: (page-aligned virtual address, translation).
    pub fn entries(&self, root: PhysFrame) -> impl Iterator<Item = (u64, HwTranslation)> + '_ {
        let r = root.start().as_u64();
        self.entries
            .range((r, 0)..=(r, u64::MAX))
            .map(|(&(_, vpn), &t)| (vpn << PAGE_SHIFT, t))
    }

    /// Number of cached translations.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl TlbFlush for EmulatedTlb {
    fn flush_page(&mut self, root: PhysFrame, vaddr: u64) {
        self.page_flushes += 1;
        self.entries
            .remove(&(root.start().as_u64(), vaddr >> PAGE_SHIFT));
    }

    fn flush_all(&mut self, root: PhysFrame) {
        self.full_flushes += 1;
        let r = root.start().as_u64();
        self.entries.retain(|&(er, _), _| er != r);
    }
}

/// Why the emulated MMU refused an access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HwFault {
    /// No present translation.
    NotPresent,
    /// Present but without the needed right.
    Protection,
}

/// Why an emulated user access failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpuError {
    /// The fault handler refused the access.
    Segv(Segv),
    /// The fault handler claimed success but the access kept faulting (a bug).
    Livelock {
        /// The address that kept faulting.
        addr: u64,
        /// The last outcome the handler reported.
        last: FaultOutcome,
    },
}

/// The machine of host tests: memory, frames (RAM from [`EmulatedMachine::RAM_BASE`]),
/// TLB, and a log of fault outcomes.
#[derive(Debug, Clone)]
pub struct EmulatedMachine {
    /// Physical memory.
    pub mem: EmulatedMemory,
    /// Frame allocator over the emulated RAM.
    pub frames: BitmapFrameAllocator,
    /// The TLB.
    pub tlb: EmulatedTlb,
    /// Outcomes of the faults resolved by [`EmulatedMachine::access`], in order.
    pub faults: Vec<FaultOutcome>,
    /// Frees the allocator refused (double free, foreign frame): always 0 without bugs.
    pub bad_frees: u64,
}

impl EmulatedMachine {
    /// Physical address where the emulated RAM starts.
    pub const RAM_BASE: u64 = 0x10_0000;

    /// A machine with `frames` frames of RAM.
    pub fn new(frames: u64) -> Self {
        EmulatedMachine {
            mem: EmulatedMemory::new(),
            frames: BitmapFrameAllocator::with_range(
                Self::RAM_BASE..Self::RAM_BASE + frames * PAGE_SIZE,
            ),
            tlb: EmulatedTlb::default(),
            faults: Vec::new(),
            bad_frees: 0,
        }
    }

    /// The MMU: translate a user access through the TLB, else the page tables under
    /// `root` (caching the result). A refused access drops the TLB entry, as a page
    /// fault does on x86.
    pub fn mmu(
        &mut self,
        root: PhysFrame,
        vaddr: u64,
        access: Access,
    ) -> Result<PhysAddr, HwFault> {
        let key = (root.start().as_u64(), vaddr >> PAGE_SHIFT);
        let allows = |t: &HwTranslation| {
            t.user
                && match access {
                    Access::Read => true,
                    Access::Write => t.writable,
                    Access::Exec => t.executable,
                }
        };
        let t = match self.tlb.entries.get(&key) {
            Some(t) => *t,
            None => match hw_walk(&self.mem, root, vaddr) {
                Some(t) => t,
                None => return Err(HwFault::NotPresent),
            },
        };
        if allows(&t) {
            self.tlb.entries.insert(key, t);
            Ok(t.frame.addr_at(vaddr))
        } else {
            self.tlb.entries.remove(&key);
            Err(HwFault::Protection)
        }
    }

    /// A user access as the CPU + kernel perform it: MMU, and on a fault the fault
    /// handler, then retry.
    pub fn access(
        &mut self,
        space: &mut AddressSpace,
        ps: &mut PersistentSpace,
        vaddr: u64,
        access: Access,
    ) -> Result<PhysAddr, CpuError> {
        let mut last = None;
        for _ in 0..3 {
            if let Ok(pa) = self.mmu(space.root(), vaddr, access) {
                return Ok(pa);
            }
            let outcome = space
                .resolve_fault(ps, self, vaddr, access)
                .map_err(CpuError::Segv)?;
            self.faults.push(outcome);
            last = Some(outcome);
        }
        Err(CpuError::Livelock {
            addr: vaddr,
            last: last.unwrap_or(FaultOutcome::Spurious),
        })
    }

    /// User-mode write of `data` at `vaddr`, byte range by byte range through the MMU.
    pub fn user_write(
        &mut self,
        space: &mut AddressSpace,
        ps: &mut PersistentSpace,
        vaddr: u64,
        data: &[u8],
    ) -> Result<(), CpuError> {
        let mut done = 0;
        while done < data.len() {
            let va = vaddr + done as u64;
            let pa = self.access(space, ps, va, Access::Write)?;
            let n = ((PAGE_SIZE - va % PAGE_SIZE) as usize).min(data.len() - done);
            self.mem.write_bytes(pa, &data[done..done + n]);
            done += n;
        }
        Ok(())
    }

    /// User-mode read of `buf.len()` bytes at `vaddr` through the MMU.
    pub fn user_read(
        &mut self,
        space: &mut AddressSpace,
        ps: &mut PersistentSpace,
        vaddr: u64,
        buf: &mut [u8],
    ) -> Result<(), CpuError> {
        let mut done = 0;
        while done < buf.len() {
            let va = vaddr + done as u64;
            let pa = self.access(space, ps, va, Access::Read)?;
            let n = ((PAGE_SIZE - va % PAGE_SIZE) as usize).min(buf.len() - done);
            self.mem.read_bytes(pa, &mut buf[done..done + n]);
            done += n;
        }
        Ok(())
    }

    /// Check every TLB entry cached for `space` with
    /// [`AddressSpace::check_translation`] (a stale entry means a missing flush).
    pub fn audit_tlb(&self, space: &AddressSpace, ps: &PersistentSpace) -> Result<usize, String> {
        let mut n = 0;
        for (va, t) in self.tlb.entries(space.root()) {
            space
                .check_translation(
                    ps,
                    va,
                    t.frame,
                    crate::space::Granted {
                        user: t.user,
                        writable: t.writable,
                        executable: t.executable,
                    },
                    true,
                )
                .map_err(|e| format!("stale TLB entry: {e}"))?;
            n += 1;
        }
        Ok(n)
    }

    /// Frames currently handed out by the allocator.
    pub fn frames_in_use(&self) -> u64 {
        self.frames.allocated_frames()
    }
}

impl PhysMemory for EmulatedMachine {
    fn read_u64(&self, addr: PhysAddr) -> u64 {
        self.mem.read_u64(addr)
    }
    fn write_u64(&mut self, addr: PhysAddr, value: u64) {
        self.mem.write_u64(addr, value)
    }
    fn zero_frame(&mut self, frame: PhysFrame) {
        self.mem.zero_frame(frame)
    }
    fn copy_frame(&mut self, src: PhysFrame, dst: PhysFrame) {
        self.mem.copy_frame(src, dst)
    }
    fn read_bytes(&self, addr: PhysAddr, buf: &mut [u8]) {
        self.mem.read_bytes(addr, buf)
    }
    fn write_bytes(&mut self, addr: PhysAddr, data: &[u8]) {
        self.mem.write_bytes(addr, data)
    }
}

impl FrameAllocator for EmulatedMachine {
    fn alloc_frame(&mut self) -> Option<PhysFrame> {
        self.frames.alloc_frame()
    }
    fn free_frame(&mut self, frame: PhysFrame) {
        // A freed frame must not be in use by anyone: poison it so a use after free
        // reads garbage rather than the old contents.
        match self.frames.try_free(frame) {
            Ok(()) => self
                .mem
                .write_bytes(frame.start(), &[0xdd; PAGE_SIZE as usize]),
            Err(e) => {
                log::error!("emulated machine: {e}");
                self.bad_frees += 1;
            }
        }
    }
}

impl TlbFlush for EmulatedMachine {
    fn flush_page(&mut self, root: PhysFrame, vaddr: u64) {
        self.tlb.flush_page(root, vaddr)
    }
    fn flush_all(&mut self, root: PhysFrame) {
        self.tlb.flush_all(root)
    }
}
