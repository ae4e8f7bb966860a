//! The GDT and the TSS.
//!
//! Selectors: 0x08 kernel code (64-bit), 0x10 kernel data, 0x1b user code
//! (32-bit, compatibility mode), 0x23 user data, 0x2b user code (64-bit,
//! unused so far), 0x30 the TSS. The TSS carries RSP0 (the kernel stack for
//! entries from ring 3) and IST1, a separate stack for double faults so a
//! kernel stack overflow is still reported.

use x86::bits64::task::TaskStateSegment;
use x86::dtables::{lgdt, DescriptorTablePointer};
use x86::segmentation::{load_ds, load_es, load_fs, load_gs, load_ss, SegmentSelector};
use x86::Ring;

pub const KERNEL_CODE: u16 = 0x08;
pub const KERNEL_DATA: u16 = 0x10;
pub const USER_CODE32: u16 = 0x18 | 3;
pub const USER_DATA: u16 = 0x20 | 3;
pub const USER_CODE64: u16 = 0x28 | 3;
pub const TSS_SELECTOR: u16 = 0x30;

/// IST index (1-based, as the IDT encodes it) of the double-fault stack.
pub const DOUBLE_FAULT_IST: u8 = 1;
const IST_STACK_SIZE: usize = 16 * 1024;

const GDT_ENTRIES: usize = 8;

#[repr(C, align(16))]
struct Stack([u8; IST_STACK_SIZE]);

static mut DOUBLE_FAULT_STACK: Stack = Stack([0; IST_STACK_SIZE]);
static mut TSS: TaskStateSegment = TaskStateSegment::new();
static mut GDT: [u64; GDT_ENTRIES] = [0; GDT_ENTRIES];

/// The two descriptor words of a 64-bit available TSS at `base`.
fn tss_descriptor(base: u64, limit: u64) -> (u64, u64) {
    let low = (limit & 0xffff)
        | ((base & 0xff_ffff) << 16)
        | (0x89 << 40) // present, DPL 0, type 9 (available 64-bit TSS)
        | (((limit >> 16) & 0xf) << 48)
        | (((base >> 24) & 0xff) << 56);
    (low, base >> 32)
}

/// Loads the GDT and the TSS and reloads every segment register.
pub fn init() {
    let tss_base = (&raw const TSS) as u64;
    let (tss_low, tss_high) = tss_descriptor(
        tss_base,
        (core::mem::size_of::<TaskStateSegment>() - 1) as u64,
    );
    let ist_top = (&raw const DOUBLE_FAULT_STACK) as u64 + IST_STACK_SIZE as u64;
    // SAFETY: runs once on the boot CPU with interrupts off, before anything
    // else refers to GDT or TSS; the statics live for the whole run, so the
    // addresses given to lgdt and ltr stay valid.
    unsafe {
        let tss = &raw mut TSS;
        (*tss).ist[usize::from(DOUBLE_FAULT_IST) - 1] = ist_top;
        (*tss).iomap_base = core::mem::size_of::<TaskStateSegment>() as u16;
        let gdt = &raw mut GDT;
        let slot = |selector: u16| usize::from(selector >> 3);
        (*gdt)[slot(KERNEL_CODE)] = 0x00AF_9A00_0000_FFFF; // 64-bit, DPL 0
        (*gdt)[slot(KERNEL_DATA)] = 0x00CF_9200_0000_FFFF;
        (*gdt)[slot(USER_CODE32)] = 0x00CF_FA00_0000_FFFF; // 32-bit, DPL 3
        (*gdt)[slot(USER_DATA)] = 0x00CF_F200_0000_FFFF; // DPL 3
        (*gdt)[slot(USER_CODE64)] = 0x00AF_FA00_0000_FFFF; // 64-bit, DPL 3
        (*gdt)[slot(TSS_SELECTOR)] = tss_low;
        (*gdt)[slot(TSS_SELECTOR) + 1] = tss_high;
        let pointer = DescriptorTablePointer::new(&*gdt);
        lgdt(&pointer);
        reload_code_segment();
        let data = SegmentSelector::new(KERNEL_DATA >> 3, Ring::Ring0);
        load_ds(data);
        load_es(data);
        load_ss(data);
        load_fs(SegmentSelector::from_raw(0));
        load_gs(SegmentSelector::from_raw(0));
        x86::task::load_tr(SegmentSelector::from_raw(TSS_SELECTOR));
    }
}

/// Reloads CS with the kernel code selector through a far return.
///
/// # Safety
/// The loaded GDT must have a 64-bit code descriptor at [`KERNEL_CODE`].
unsafe fn reload_code_segment() {
    // SAFETY: per the function contract the selector is valid; the far
    // return lands on the next instruction.
    unsafe {
        core::arch::asm!(
            "push {sel}",
            "lea {tmp}, [rip + 2f]",
            "push {tmp}",
            "retfq",
            "2:",
            sel = const KERNEL_CODE as u64,
            tmp = lateout(reg) _,
        );
    }
}
