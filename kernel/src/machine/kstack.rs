//! Kernel stacks with guard pages: every thread's kernel stack lives in a
//! region of its own in the higher half (PML4 slot 384, shared by every
//! address space), in a 64 KiB slot whose top 32 KiB are the stack's pages
//! (4 KiB frames) and whose lower 32 KiB stay unmapped. A stack that
//! overflows runs into that gap: the page fault cannot be delivered on the
//! stack, so it becomes a double fault, which runs on its own IST stack and
//! stops the kernel with a report — never a silent overwrite of whatever lay
//! below the stack.

use super::memory;
use super::thread::KERNEL_STACK_SIZE;
use spin::Mutex;
use vm::paging::bits::{ADDRESS_MASK, NO_EXEC, PRESENT, WRITABLE};
use vm::{FrameAllocator, PhysFrame};

/// First address of the region (PML4 slot 384).
const REGION: u64 = 0xffff_c000_0000_0000;
const PML4_SLOT: usize = 384;
/// Bytes per slot: the stack on top, the unmapped gap below.
const SLOT: u64 = 64 * 1024;
/// Slots available (64 MiB of address space: 32 page tables, made at init so
/// that the frames a process costs come back exactly when it is reaped).
const SLOTS: usize = 1024;
const STACK_PAGES: u64 = KERNEL_STACK_SIZE as u64 / 4096;

struct Region {
    /// Which slots hold a stack.
    used: [u64; SLOTS / 64],
    /// The region's PDPT frame, once created.
    pdpt: Option<u64>,
}

static REGION_STATE: Mutex<Region> = Mutex::new(Region {
    used: [0; SLOTS / 64],
    pdpt: None,
});

fn entry_ptr(table: u64, index: u64) -> *mut u64 {
    (memory::phys_to_virt(table) as *mut u64).wrapping_add(index as usize)
}

fn alloc_zeroed_frame() -> Option<u64> {
    let f = memory::with_machine(|m| m.frames.alloc_frame())?;
    let phys = f.start().as_u64();
    // SAFETY: a frame just allocated for this module, reached through the
    // direct map, referred to by nothing else yet.
    unsafe { core::ptr::write_bytes(memory::phys_to_virt(phys) as *mut u8, 0, 4096) };
    Some(phys)
}

/// Creates the region's PDPT and hooks it into the kernel's PML4. Must run
/// before the first address space is created (each copies the kernel's upper
/// half); later changes below the PDPT are seen by every address space.
pub fn init(kernel_pml4: u64) -> bool {
    let Some(pdpt) = alloc_zeroed_frame() else {
        return false;
    };
    // Every table of the region, now: a stack later costs only its own frames.
    let mut va = REGION;
    while va < REGION + SLOTS as u64 * SLOT {
        if pte_for(pdpt, va).is_none() {
            return false;
        }
        va += 2 << 20;
    }
    // SAFETY: the kernel's PML4 is live; slot 384 is unused (the direct map is
    // slot 256, the image 511), so writing it adds a mapping and disturbs none.
    unsafe {
        core::ptr::write_volatile(
            entry_ptr(kernel_pml4, PML4_SLOT as u64),
            pdpt | PRESENT | WRITABLE,
        )
    };
    REGION_STATE.lock().pdpt = Some(pdpt);
    true
}

/// The page-table entry slot for `va` in the region, creating the tables on
/// the way (`None` when a frame is missing).
fn pte_for(pdpt: u64, va: u64) -> Option<*mut u64> {
    let mut table = pdpt;
    for shift in [30u64, 21] {
        let e = entry_ptr(table, (va >> shift) & 511);
        // SAFETY: `e` is an entry of one of this region's tables (reached from
        // its PDPT), inside the direct map.
        let mut next = unsafe { core::ptr::read_volatile(e) } & ADDRESS_MASK;
        if next == 0 {
            next = alloc_zeroed_frame()?;
            // SAFETY: as above; the new table is zeroed and linked once.
            unsafe { core::ptr::write_volatile(e, next | PRESENT | WRITABLE) };
        }
        table = next;
    }
    Some(entry_ptr(table, (va >> 12) & 511))
}

/// A thread's kernel stack: mapped pages with an unmapped gap below.
pub struct KernelStack {
    slot: usize,
}

impl KernelStack {
    /// A fresh, zeroed stack, or `None` when no slot or frame is left.
    pub fn new() -> Option<KernelStack> {
        let mut r = REGION_STATE.lock();
        let pdpt = r.pdpt?;
        let slot = (0..SLOTS).find(|&s| r.used[s / 64] & (1 << (s % 64)) == 0)?;
        let nx = if super::cpu::nx_enabled() { NO_EXEC } else { 0 };
        let top = REGION + (slot as u64 + 1) * SLOT;
        let mut mapped = 0;
        for i in 0..STACK_PAGES {
            let va = top - (i + 1) * 4096;
            let frame = alloc_zeroed_frame();
            let pte = pte_for(pdpt, va);
            match (frame, pte) {
                (Some(f), Some(pte)) => {
                    // SAFETY: `pte` is this slot's entry, unused (the slot was
                    // free, and freeing clears its entries).
                    unsafe { core::ptr::write_volatile(pte, f | PRESENT | WRITABLE | nx) };
                    mapped += 1;
                }
                (f, _) => {
                    if let Some(f) = f.and_then(PhysFrame::from_start) {
                        memory::with_machine(|m| m.frames.free_frame(f));
                    }
                    drop(r);
                    unmap_pages(pdpt, top, mapped);
                    return None;
                }
            }
        }
        r.used[slot / 64] |= 1 << (slot % 64);
        Some(KernelStack { slot })
    }

    /// The stack's top (exclusive): where the first push lands below.
    pub fn top(&self) -> u64 {
        REGION + (self.slot as u64 + 1) * SLOT
    }

    /// The stack's lowest mapped address; the page below it is the gap.
    #[cfg(feature = "ktests")]
    pub fn bottom(&self) -> u64 {
        self.top() - KERNEL_STACK_SIZE as u64
    }
}

/// Unmaps the `pages` top pages below `top` and frees their frames.
fn unmap_pages(pdpt: u64, top: u64, pages: u64) {
    for i in 0..pages {
        let va = top - (i + 1) * 4096;
        let Some(pte) = pte_for(pdpt, va) else {
            continue;
        };
        // SAFETY: `pte` is an entry of this region's tables for a page of a
        // stack nobody runs on any more (the caller's contract).
        let e = unsafe { core::ptr::replace(pte, 0) };
        super::cpu::invlpg(va);
        if let Some(f) = PhysFrame::from_start(e & ADDRESS_MASK) {
            if e & PRESENT != 0 {
                memory::with_machine(|m| m.frames.free_frame(f));
            }
        }
    }
}

impl Drop for KernelStack {
    /// Frees the stack (its thread never runs again: threads are reaped by the
    /// idle context, off their stacks).
    fn drop(&mut self) {
        let mut r = REGION_STATE.lock();
        let Some(pdpt) = r.pdpt else {
            return;
        };
        r.used[self.slot / 64] &= !(1 << (self.slot % 64));
        drop(r);
        unmap_pages(pdpt, self.top(), STACK_PAGES);
    }
}
