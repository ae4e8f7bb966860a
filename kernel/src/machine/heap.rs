//! The kernel heap (`alloc`): a global allocator over a list of regions.
//!
//! A small region inside the image's `.bss` serves the first allocations
//! (parsing the boot information needs `Vec` and `String`); once the memory
//! plan is known, a large region carved from free physical memory is added.
//!
//! The heap grows from the frame allocator: when it is [`low`] (less than an
//! eighth of it, at least 1 MiB, left), [`grow_if_low`] — called where no lock
//! is held: at syscall and page-fault entry, before a process starts — adds a
//! region of contiguous frames (an eighth of the heap, 4 to 32 MiB), up to
//! half of all frames; [`shrink_idle`] gives a grown region back once nothing
//! is allocated in it. An allocation that fails stops the kernel, so programs
//! must never be the ones to exhaust it: when the heap is low and cannot grow,
//! every syscall that may allocate for the caller answers `ENOMEM`, and at
//! [`critical`] (a quarter of the reserve left) a page fault that may allocate
//! kills the faulting process ("out of memory") and no new process starts.
//! Each single operation allocates far less than the gap between the two, so
//! the heap never runs dry on a program's behalf. A process may also hold at
//! most [`process_share`], a quarter of the heap's largest size (see
//! `process.rs`: the heap its own calls and faults allocated), once the heap
//! holds that much.

use super::{cpu, memory};
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
#[inline]
pub fn low() -> bool {
    USED.load(Ordering::Relaxed) > LOW_ABOVE.load(Ordering::Relaxed)
}

/// Whether the heap is critically low: faults that may allocate kill the
/// faulting process, no new process starts.
pub fn critical() -> bool {
    USED.load(Ordering::Relaxed) > CRITICAL_ABOVE.load(Ordering::Relaxed)
}

/// The bootstrap region, the boot region, and the regions growth adds.
const MAX_REGIONS: usize = 32;
/// Regions below this index (bootstrap, boot) are never given back.
const FIXED_REGIONS: usize = 2;

/// The most bytes the heap may grow to (set at boot: half of all frames).
static MAX_TOTAL: AtomicUsize = AtomicUsize::new(0);

/// Sets the most the heap may grow to, in bytes.
pub fn set_max_total(bytes: usize) {
    MAX_TOTAL.store(bytes, Ordering::Relaxed);
}

/// The bytes of heap one process may hold once the heap holds that much in
/// all: a quarter of the heap's largest size (so no single program can
/// exhaust it).
pub fn process_share() -> usize {
    max_total() / 4
}

/// The heap's largest size.
fn max_total() -> usize {
    MAX_TOTAL
        .load(Ordering::Relaxed)
        .max(TOTAL.load(Ordering::Relaxed))
}

/// Whether a process charged with `charge` bytes must be refused more: it
/// holds more than [`process_share`] while the heap holds more than that in
/// all (an idle system refuses nobody for a charge that drifted).
pub fn over_share(charge: usize) -> bool {
    let share = process_share();
    charge > share && USED.load(Ordering::Relaxed) > share
}

/// Bytes handed out now.
#[inline]
pub fn used_bytes() -> usize {
    USED.load(Ordering::Relaxed)
}

/// Regions growth added that are still there.
static GROWN: AtomicUsize = AtomicUsize::new(0);

/// Frames per bitmap word of the frame allocator (growth takes whole words).
const FRAMES_PER_WORD: usize = 64;

/// When the heap is [`low`]: adds a region of contiguous frames, if the
/// heap may still grow and such a run is free. Call with no lock held (it
/// takes the frame allocator's, then the heap's).
#[inline]
pub fn grow_if_low() {
    if low() {
        grow();
    }
}

/// Adds a region (see [`grow_if_low`]).
#[cold]
#[inline(never)]
fn grow() {
    let total = TOTAL.load(Ordering::Relaxed);
    let step = (total / 8).clamp(4 << 20, 32 << 20);
    let words = step / (FRAMES_PER_WORD * 4096);
    let bytes = words * FRAMES_PER_WORD * 4096;
    if total + bytes > MAX_TOTAL.load(Ordering::Relaxed) {
        return;
    }
    let Some(frame) = memory::with_machine(|m| m.frames.alloc_contiguous_words(words)) else {
        return;
    };
    let start = memory::phys_to_virt(frame.start().0);
    if !add_region_raw(start as usize, bytes) {
        memory::free_contiguous(frame, words * FRAMES_PER_WORD);
        return;
    }
    GROWN.fetch_add(1, Ordering::Relaxed);
    report("heap_grow", bytes);
}

/// `{"event":"heap_grow"|"heap_shrink","bytes":…,"total_bytes":…}`.
fn report(event: &str, bytes: usize) {
    super::serial::write_line(
        &kernel::json::JsonLine::new("event", event)
            .u64("bytes", bytes as u64)
            .u64("total_bytes", TOTAL.load(Ordering::Relaxed) as u64)
            .finish(),
    );
}

/// Gives back the grown regions nothing is allocated in, while the heap
/// would not be low without them. Call with no lock held.
pub fn shrink_idle() {
    if GROWN.load(Ordering::Relaxed) == 0 {
        return;
    }
    // Taken out under the heap's lock, freed to the frame allocator after.
    let mut freed: [Option<(usize, usize)>; MAX_REGIONS] = [None; MAX_REGIONS];
    cpu::without_interrupts(|| {
        let mut regions = HEAP.regions.lock();
        for (i, slot) in regions.iter_mut().enumerate().skip(FIXED_REGIONS) {
            let Some(r) = slot else { continue };
            let size = r.end - r.start;
            let total = TOTAL.load(Ordering::Relaxed);
            let reserve = ((total - size) / 8).max(1 << 20);
            let idle = r.heap.used() == 0;
            if idle && USED.load(Ordering::Relaxed) + reserve * 2 < total - size {
                freed[i] = Some((r.start, size));
                *slot = None;
                GROWN.fetch_sub(1, Ordering::Relaxed);
                TOTAL.fetch_sub(size, Ordering::Relaxed);
                set_marks(TOTAL.load(Ordering::Relaxed));
            }
        }
    });
    for (start, size) in freed.into_iter().flatten() {
        if let Some(frame) = vm::PhysFrame::from_start(memory::direct_map_to_phys(start as u64)) {
            memory::free_contiguous(frame, size / 4096);
        }
        report("heap_shrink", size);
    }
}

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
