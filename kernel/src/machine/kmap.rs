//! The kernel image's own mapping, write-xor-execute: once frames can be
//! allocated, the boot tables' 2 MiB read-write-execute pages of the image
//! (the higher half at `KERNEL_VMA`) are replaced by 4 KiB pages with the
//! sections' rights — `.text` read + execute, `.rodata` (and the ktest table)
//! read-only no-execute, `.data`/`.bss` read-write no-execute — and the
//! direct map of physical memory becomes no-execute. CR0.WP (set at boot)
//! makes the read-only pages read-only for the kernel too. On a CPU without
//! NX the no-execute bits are left clear (they would be reserved bits). The
//! page below the boot stack is left unmapped: its guard.
//!
//! The upper half is shared by every address space (each PML4 points at the
//! same PDPT), so changing the PDPT entry changes it everywhere.

use super::boot::KERNEL_VMA;
use super::{cpu, memory};
use vm::paging::bits::*;
use vm::FrameAllocator;

extern "C" {
    static __text_start: u8;
    static __rodata_start: u8;
    static __data_start: u8;
    static __bss_end_phys: u8;
    static mut boot_pdpt_high: u8;
    static mut boot_pd: u8;
    static boot_stack_guard: u8;
}

const PAGE: u64 = vm::PAGE_SIZE;
/// The PDPT slot of the higher half's first GiB (`KERNEL_VMA` = −2 GiB).
const HIGH_SLOT: usize = 510;

/// What the image mapping looks like now, for the boot report and the tests.
#[derive(Clone, Copy, Debug)]
pub struct ImageLayout {
    pub text: (u64, u64),
    pub rodata: (u64, u64),
    pub data: (u64, u64),
}

/// The sections' virtual spans.
pub fn layout() -> ImageLayout {
    let text = (&raw const __text_start) as u64;
    let rodata = (&raw const __rodata_start) as u64;
    let data = (&raw const __data_start) as u64;
    let end = (&raw const __bss_end_phys) as u64 + KERNEL_VMA;
    ImageLayout {
        text: (text, rodata),
        rodata: (rodata, data),
        data: (data, end),
    }
}

fn table(frame_phys: u64) -> *mut u64 {
    memory::phys_to_virt(frame_phys) as *mut u64
}

/// A zeroed frame for a page table, from the frame allocator.
fn zeroed_table() -> Option<u64> {
    let frame = memory::with_machine(|m| m.frames.alloc_frame())?;
    let phys = frame.start().as_u64();
    // SAFETY: the frame was just allocated for this table and nothing else
    // refers to it; the direct map covers it.
    unsafe { core::ptr::write_bytes(table(phys), 0, 512) };
    Some(phys)
}

/// Remaps the image W^X and makes the direct map no-execute. Returns the
/// layout, or why it left the boot mapping in place (no frame).
pub fn protect_kernel_image() -> Result<ImageLayout, &'static str> {
    let nx = if cpu::nx_enabled() { NO_EXEC } else { 0 };
    let l = layout();
    let pd = zeroed_table().ok_or("no frame for the image's page directory")?;
    let guard = (&raw const boot_stack_guard) as u64;
    let mut va = l.text.0;
    while va < l.data.1 {
        if va == guard {
            // The boot stack's guard page stays unmapped.
            va += PAGE;
            continue;
        }
        let offset = va - KERNEL_VMA;
        let pd_index = (offset >> 21) as usize;
        // SAFETY: `pd` is this function's fresh table; indices are < 512 (the
        // image is far smaller than 1 GiB).
        let pde = unsafe { table(pd).add(pd_index) };
        // SAFETY: as above.
        let mut pt = unsafe { *pde } & !0xfff & !NO_EXEC;
        if pt == 0 {
            pt = zeroed_table().ok_or("no frame for an image page table")?;
            // SAFETY: as above.
            unsafe { *pde = pt | PRESENT | WRITABLE };
        }
        let rights = if va < l.text.1 {
            PRESENT
        } else if va < l.rodata.1 {
            PRESENT | nx
        } else {
            PRESENT | WRITABLE | nx
        };
        // SAFETY: `pt` is one of this function's fresh tables.
        unsafe { *table(pt).add(((offset >> 12) & 511) as usize) = offset | rights | GLOBAL };
        va += PAGE;
    }
    // The new directory maps every page of the image that runs (text, rodata,
    // data, bss — the boot stack included) at the same addresses, so nothing
    // in use disappears; the CR3 reload then flushes the old translations. The
    // direct map's 2 MiB pages keep their frames and only lose execute rights
    // (nothing executes from it).
    // SAFETY: the boot PDPT and PD are the kernel's statics, used by the MMU
    // only, and the switch keeps every page in use mapped (above).
    unsafe {
        let pdpt = &raw mut boot_pdpt_high as *mut u64;
        core::ptr::write_volatile(pdpt.add(HIGH_SLOT), pd | PRESENT | WRITABLE);
        core::ptr::write_volatile(pdpt.add(HIGH_SLOT + 1), 0);
        if nx != 0 {
            let direct = &raw mut boot_pd as *mut u64;
            for i in 0..4 * 512 {
                let e = core::ptr::read_volatile(direct.add(i));
                if e & (PRESENT | HUGE) == PRESENT | HUGE {
                    core::ptr::write_volatile(direct.add(i), e | NO_EXEC);
                }
            }
        }
        x86::controlregs::cr3_write(x86::controlregs::cr3());
    }
    Ok(l)
}

/// The rights the MMU gives kernel address `va`: (writable, executable), or
/// `None` when it is not mapped. Walks the live tables.
#[cfg(feature = "ktests")]
pub fn rights_of(va: u64) -> Option<(bool, bool)> {
    let mut phys = cpu::read_cr3() & !0xfff;
    let mut writable = true;
    let mut executable = true;
    for level in (1..=4u32).rev() {
        let index = ((va >> (12 + 9 * (level - 1))) & 511) as usize;
        // SAFETY: `phys` is a page-table frame reached from CR3, inside the
        // direct map; reading an entry has no side effect.
        let e = unsafe { core::ptr::read_volatile(table(phys).add(index)) };
        if e & PRESENT == 0 {
            return None;
        }
        writable &= e & WRITABLE != 0;
        executable &= e & NO_EXEC == 0;
        if level > 1 && e & HUGE != 0 {
            return Some((writable, executable));
        }
        phys = e & ADDRESS_MASK;
    }
    Some((writable, executable))
}
