//! Physical memory: the direct map, the memory plan applied at boot (heap
//! region, frame allocator), and [`KernelMachine`], the kernel's
//! implementation of what `vm` needs from the hardware.

use super::boot::{DIRECT_MAP, DIRECT_MAP_SIZE};
use super::{cpu, heap};
use alloc::vec::Vec;
use kernel::memplan::{self, Span};
use kernel::multiboot::{self, BootInfo, MemoryKind};
use spin::Mutex;
use vm::{BitmapFrameAllocator, FrameAllocator, PhysAddr, PhysFrame, PhysMemory, TlbFlush};

/// The one frame allocator, filled from the memory plan at boot.
pub static FRAMES: Mutex<Option<BitmapFrameAllocator>> = Mutex::new(None);

extern "C" {
    static __image_start_phys: u8;
    static __bss_end_phys: u8;
}

/// The kernel image's physical span (its symbols are absolute addresses).
fn image_span() -> Span {
    Span {
        start: (&raw const __image_start_phys) as u64,
        end: (&raw const __bss_end_phys) as u64,
    }
}

/// Virtual address of physical `addr` in the direct map.
pub fn phys_to_virt(addr: u64) -> u64 {
    DIRECT_MAP + addr
}

/// Physical address of `virt`, an address in the direct map.
pub fn direct_map_to_phys(virt: u64) -> u64 {
    virt - DIRECT_MAP
}

/// Gives `count` frames from `first` on back to the frame allocator (a
/// region the heap grew by).
pub fn free_contiguous(first: PhysFrame, count: usize) {
    with_machine(|m| {
        for n in first.number()..first.number() + count as u64 {
            if let Some(frame) = PhysFrame::from_number(n) {
                m.frames.free_frame(frame);
            }
        }
    });
}

/// Whether `[addr, addr + len)` lies inside the direct map.
fn direct_mapped(addr: u64, len: u64) -> bool {
    addr.checked_add(len)
        .is_some_and(|end| end <= DIRECT_MAP_SIZE)
}

/// Reads physical memory through the direct map for the Multiboot parser.
pub struct DirectMapReader;

impl multiboot::PhysRead for DirectMapReader {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), multiboot::Unreadable> {
        if !direct_mapped(addr, buf.len() as u64) {
            return Err(multiboot::Unreadable);
        }
        // SAFETY: the span is inside the boot direct map (checked above), which
        // maps all of the first 4 GiB; reading RAM or MMIO holes there has no
        // side effects QEMU cares about for the loader's tables.
        unsafe {
            core::ptr::copy_nonoverlapping(
                phys_to_virt(addr) as *const u8,
                buf.as_mut_ptr(),
                buf.len(),
            );
        }
        Ok(())
    }
}

/// What the memory plan decided, for the boot summary.
pub struct MemorySummary {
    pub total_bytes: u64,
    pub usable_bytes: u64,
    pub heap: Span,
    pub free_frames: u64,
}

/// Applies the memory plan: reserves the first MiB, the kernel image, the
/// modules and the boot information, adds a heap region, and hands every
/// other usable page to the frame allocator.
pub fn init(boot: &BootInfo) -> MemorySummary {
    let mut reserved = alloc::vec![
        Span {
            start: 0,
            end: 0x10_0000
        },
        image_span()
    ];
    reserved.extend(boot.modules.iter().map(|m| Span {
        start: m.start,
        end: m.end,
    }));
    reserved.extend(
        boot.occupied
            .iter()
            .map(|&(start, end)| Span { start, end }),
    );

    let usable_bytes: u64 = boot
        .memory_map
        .iter()
        .filter(|r| r.kind == MemoryKind::Usable)
        .map(|r| r.len)
        .sum();
    // Physical memory size: the end of the highest usable region.
    let total_bytes = boot
        .memory_map
        .iter()
        .filter(|r| r.kind == MemoryKind::Usable)
        .map(|r| r.start.saturating_add(r.len))
        .max()
        .unwrap_or(0);
    if total_bytes > DIRECT_MAP_SIZE {
        log::warn!(
            "only the first {} GiB of physical memory are used",
            DIRECT_MAP_SIZE >> 30
        );
    }
    let mut free = memplan::free_spans(&boot.memory_map, &reserved, DIRECT_MAP_SIZE);

    // An eighth of memory for the heap, between 4 and 64 MiB.
    let heap_size = (usable_bytes / 8).clamp(4 << 20, 64 << 20);
    let heap = memplan::take_contiguous(&mut free, heap_size)
        .or_else(|| memplan::take_contiguous(&mut free, 1 << 20))
        .unwrap_or(Span { start: 0, end: 0 });
    // It may grow to half of memory.
    heap::set_max_total((usable_bytes / 2) as usize);
    if !heap.is_empty() {
        heap::add_region(phys_to_virt(heap.start), heap.len());
    } else {
        log::warn!("no room for a heap region beyond the bootstrap heap");
    }

    let ranges: Vec<core::ops::Range<u64>> = free.iter().map(|s| s.start..s.end).collect();
    let frames = BitmapFrameAllocator::new(&ranges);
    let free_frames = frames.free_frames();
    *FRAMES.lock() = Some(frames);
    MemorySummary {
        total_bytes,
        usable_bytes,
        heap,
        free_frames,
    }
}

/// Frames free right now.
/// Frames the allocator manages in all.
pub fn total_frames() -> u64 {
    cpu::without_interrupts(|| FRAMES.lock().as_ref().map_or(0, |f| f.total_frames()))
}

/// Frames free.
pub fn free_frames() -> u64 {
    cpu::without_interrupts(|| FRAMES.lock().as_ref().map_or(0, |f| f.free_frames()))
}

/// The machine as `vm` sees it: physical memory through the direct map, the
/// frame allocator, and TLB invalidation on the current CPU.
pub struct KernelMachine<'a> {
    pub frames: &'a mut BitmapFrameAllocator,
}

/// Runs `f` with the kernel machine (frame allocator locked, interrupts off).
pub fn with_machine<R>(f: impl FnOnce(&mut KernelMachine<'_>) -> R) -> R {
    cpu::without_interrupts(|| {
        let mut guard = FRAMES.lock();
        let frames = guard
            .as_mut()
            .expect("frame allocator used before memory::init");
        f(&mut KernelMachine { frames })
    })
}

fn frame_ptr(addr: PhysAddr, len: usize) -> *mut u8 {
    assert!(
        direct_mapped(addr.0, len as u64),
        "physical access outside the direct map: {:#x}",
        addr.0
    );
    phys_to_virt(addr.0) as *mut u8
}

impl PhysMemory for KernelMachine<'_> {
    fn read_u64(&self, addr: PhysAddr) -> u64 {
        // SAFETY: `frame_ptr` checked the address is direct-mapped; vm only
        // passes aligned addresses of frames it got from this allocator.
        unsafe { core::ptr::read_volatile(frame_ptr(addr, 8) as *const u64) }
    }

    fn write_u64(&mut self, addr: PhysAddr, value: u64) {
        // SAFETY: as for `read_u64`; the frame is a page table vm owns.
        unsafe { core::ptr::write_volatile(frame_ptr(addr, 8) as *mut u64, value) }
    }

    fn zero_frame(&mut self, frame: PhysFrame) {
        // SAFETY: the frame is direct-mapped and owned by vm, which is
        // initialising it; nothing else references it.
        unsafe { core::ptr::write_bytes(frame_ptr(frame.start(), 4096), 0, 4096) }
    }

    fn copy_frame(&mut self, src: PhysFrame, dst: PhysFrame) {
        // SAFETY: distinct, direct-mapped frames (vm's contract), so the
        // copy does not overlap.
        unsafe {
            core::ptr::copy_nonoverlapping(
                frame_ptr(src.start(), 4096),
                frame_ptr(dst.start(), 4096),
                4096,
            )
        }
    }

    fn read_bytes(&self, addr: PhysAddr, buf: &mut [u8]) {
        // SAFETY: direct-mapped (checked), within one frame (vm's contract).
        unsafe {
            core::ptr::copy_nonoverlapping(frame_ptr(addr, buf.len()), buf.as_mut_ptr(), buf.len())
        }
    }

    fn write_bytes(&mut self, addr: PhysAddr, data: &[u8]) {
        // SAFETY: direct-mapped (checked), within one frame owned by vm.
        unsafe {
            core::ptr::copy_nonoverlapping(data.as_ptr(), frame_ptr(addr, data.len()), data.len())
        }
    }
}

impl FrameAllocator for KernelMachine<'_> {
    fn alloc_frame(&mut self) -> Option<PhysFrame> {
        self.frames.alloc_frame()
    }

    fn free_frame(&mut self, frame: PhysFrame) {
        self.frames.free_frame(frame)
    }
}

impl TlbFlush for KernelMachine<'_> {
    fn flush_page(&mut self, root: PhysFrame, vaddr: u64) {
        if cpu::read_cr3() & !0xfff == root.start().0 {
            cpu::invlpg(vaddr);
        }
    }

    fn flush_all(&mut self, root: PhysFrame) {
        let cr3 = cpu::read_cr3();
        if cr3 & !0xfff == root.start().0 {
            // SAFETY: reloading the current root changes no mapping.
            unsafe { cpu::write_cr3(cr3) };
        }
    }

    fn nx_supported(&self) -> bool {
        cpu::nx_enabled()
    }
}
