//! The kernel heap (`alloc`): a global allocator over a list of regions.
//!
//! A small region inside the image's `.bss` serves the first allocations
//! (parsing the boot information needs `Vec` and `String`); once the memory
//! plan is known, a large region carved from free physical memory is added.
//!
//! The heap is a fixed size, and an allocation that fails stops the kernel, so
//! programs must never be the ones to exhaust it: [`low`] (less than an eighth
//! of the heap, at least 1 MiB, left) makes every syscall that may allocate for
//! the caller answer `ENOMEM`, and [`critical`] (a quarter of that) makes a page
//! fault that may allocate kill the faulting process ("out of memory") and
//! refuses new processes. Each single operation allocates far less than the
//! gap between the two, so the heap never runs dry on a program's behalf.

use super::cpu;
use core::alloc::{GlobalAlloc, Layout};
use core::ptr::NonNull;
use core::sync::atomic::{AtomicUsize, Ordering};
use linked_list_allocator::Heap;
use spin::Mutex;

const BOOTSTRAP_SIZE: usize = 512 * 1024;

/// Bytes handed out (approximately: the layouts' sizes), kept beside the
/// regions so the syscall and fault paths can check headroom with one load.
static USED: AtomicUsize = AtomicUsize::new(0);
/// Bytes of all regions.
static TOTAL: AtomicUsize = AtomicUsize::new(0);

/// Bytes in use above which the heap is [`low`] and [`critical`] (set when a
/// region is added: the total less an eighth of it, at least 1 MiB; less a
/// quarter of that).
static LOW_ABOVE: AtomicUsize = AtomicUsize::new(0);
static CRITICAL_ABOVE: AtomicUsize = AtomicUsize::new(0);

fn set_marks(total: usize) {
    let reserve = (total / 8).max(1 << 20);
    LOW_ABOVE.store(total.saturating_sub(reserve), Ordering::Relaxed);
    CRITICAL_ABOVE.store(total.saturating_sub(reserve / 4), Ordering::Relaxed);
}

/// Whether the heap is low: calls that may allocate for a program are refused.
pub fn low() -> bool {
    USED.load(Ordering::Relaxed) > LOW_ABOVE.load(Ordering::Relaxed)
}

/// Whether the heap is critically low: faults that may allocate kill the
/// faulting process, no new process starts.
pub fn critical() -> bool {
    USED.load(Ordering::Relaxed) > CRITICAL_ABOVE.load(Ordering::Relaxed)
}

const MAX_REGIONS: usize = 4;

#[repr(C, align(4096))]
struct Bootstrap([u8; BOOTSTRAP_SIZE]);

static mut BOOTSTRAP: Bootstrap = Bootstrap([0; BOOTSTRAP_SIZE]);

struct Region {
    heap: Heap,
    start: usize,
    end: usize,
}

struct KernelHeap {
    regions: Mutex<[Option<Region>; MAX_REGIONS]>,
}

#[global_allocator]
static HEAP: KernelHeap = KernelHeap {
    regions: Mutex::new([const { None }; MAX_REGIONS]),
};

// SAFETY: every region is memory the kernel owns exclusively for the heap
// (the bootstrap array, or frames the memory plan removed from the frame
// allocator); `Heap` hands out disjoint blocks within it, and the lock is
// taken with interrupts off so a handler cannot re-enter it.
unsafe impl GlobalAlloc for KernelHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        cpu::without_interrupts(|| {
            let mut regions = self.regions.lock();
            for region in regions.iter_mut().flatten() {
                if let Ok(block) = region.heap.allocate_first_fit(layout) {
                    USED.fetch_add(layout.size(), Ordering::Relaxed);
                    return block.as_ptr();
                }
            }
            core::ptr::null_mut()
        })
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        cpu::without_interrupts(|| {
            let mut regions = self.regions.lock();
            let address = ptr as usize;
            if let Some(region) = regions
                .iter_mut()
                .flatten()
                .find(|r| r.start <= address && address < r.end)
            {
                // SAFETY: `ptr` came from this region's `allocate_first_fit`
                // with the same layout (GlobalAlloc contract).
                unsafe { region.heap.deallocate(NonNull::new_unchecked(ptr), layout) }
                USED.fetch_sub(layout.size(), Ordering::Relaxed);
            }
        })
    }
}

fn add_region_raw(start: usize, size: usize) -> bool {
    cpu::without_interrupts(|| {
        let mut regions = HEAP.regions.lock();
        let Some(slot) = regions.iter_mut().find(|r| r.is_none()) else {
            return false;
        };
        let mut heap = Heap::empty();
        // SAFETY: the callers pass memory that is mapped, writable, unused
        // and never handed to anything else (see `init_bootstrap` and
        // `add_region`).
        unsafe { heap.init(start as *mut u8, size) };
        *slot = Some(Region {
            heap,
            start,
            end: start + size,
        });
        let total = TOTAL.fetch_add(size, Ordering::Relaxed) + size;
        set_marks(total);
        true
    })
}

/// Makes the bootstrap region available. Call first thing at boot.
pub fn init_bootstrap() {
    add_region_raw((&raw mut BOOTSTRAP) as usize, BOOTSTRAP_SIZE);
}

/// Adds `[start, start + size)` (virtual, in the direct map) to the heap.
///
/// The caller guarantees that memory is mapped and used by nothing else, ever.
pub fn add_region(start: u64, size: u64) -> bool {
    add_region_raw(start as usize, size as usize)
}

/// Bytes in use and total, over all regions.
pub fn usage() -> (usize, usize) {
    cpu::without_interrupts(|| {
        let regions = HEAP.regions.lock();
        regions.iter().flatten().fold((0, 0), |(used, size), r| {
            (used + r.heap.used(), size + r.heap.size())
        })
    })
}
