//! The GDT and the TSS.
//!
//! Selectors: 0x08 kernel code (64-bit), 0x10 kernel data, 0x1b user code
//! (32-bit, compatibility mode), 0x23 user data, 0x30 the TSS, 0x40 the LDT.
//! There is deliberately no 64-bit user code segment: ring 3 cannot leave
//! compatibility mode, so it can never see r8–r15 or the upper halves of
//! registers the kernel used. The TSS carries RSP0 (the
//! kernel stack for entries from ring 3) and IST1, a separate stack for
//! double faults so a kernel stack overflow is still reported.
//!
//! The LDT holds the seed's syscall entry: a 64-bit call gate (16 bytes, LDT
//! slots 0 and 1) reached from ring 3 as selector 0x07 (index 0, TI=1,
//! RPL 3), DPL 3, into the kernel's code segment at the syscall entry stub.
//! DS and ES hold the user data selector everywhere (64-bit code ignores
//! them; compatibility-mode code faults on a null DS).

use x86::bits64::task::TaskStateSegment;
use x86::dtables::{lgdt, DescriptorTablePointer};
use x86::segmentation::{load_ds, load_es, load_fs, load_gs, load_ss, SegmentSelector};
use x86::Ring;

pub const KERNEL_CODE: u16 = 0x08;
pub const KERNEL_DATA: u16 = 0x10;
pub const USER_CODE32: u16 = 0x18 | 3;
pub const USER_DATA: u16 = 0x20 | 3;
pub const TSS_SELECTOR: u16 = 0x30;
pub const LDT_SELECTOR: u16 = 0x40;

/// IST index (1-based, as the IDT encodes it) of the double-fault stack.
pub const DOUBLE_FAULT_IST: u8 = 1;
const IST_STACK_SIZE: usize = 16 * 1024;

const GDT_ENTRIES: usize = 10;
const LDT_ENTRIES: usize = 2;

#[repr(C, align(16))]
struct Stack([u8; IST_STACK_SIZE]);

static mut DOUBLE_FAULT_STACK: Stack = Stack([0; IST_STACK_SIZE]);
static mut TSS: TaskStateSegment = TaskStateSegment::new();
static mut GDT: [u64; GDT_ENTRIES] = [0; GDT_ENTRIES];
static mut LDT: [u64; LDT_ENTRIES] = [0; LDT_ENTRIES];

/// The two descriptor words of a 64-bit available TSS at `base`.
fn tss_descriptor(base: u64, limit: u64) -> (u64, u64) {
    let low = (limit & 0xffff)
        | ((base & 0xff_ffff) << 16)
        | (0x89 << 40) // present, DPL 0, type 9 (available 64-bit TSS)
        | (((limit >> 16) & 0xf) << 48)
        | (((base >> 24) & 0xff) << 56);
    (low, base >> 32)
}

/// The two descriptor words of an LDT at `base` with `limit`.
fn ldt_descriptor(base: u64, limit: u64) -> (u64, u64) {
    let (low, high) = tss_descriptor(base, limit);
    // Same layout as the TSS descriptor, type 2 (LDT) instead of 9.
    ((low & !(0xf << 40)) | (0x2 << 40), high)
}

/// The two words of a 64-bit call gate to `target` in the kernel code
/// segment, callable from ring 3.
fn call_gate(target: u64) -> (u64, u64) {
    let low = (target & 0xffff)
        | (u64::from(KERNEL_CODE) << 16)
        | (0xEC << 40) // present, DPL 3, type 0xC (64-bit call gate)
        | (((target >> 16) & 0xffff) << 48);
    (low, target >> 32) // the upper half's type bits must stay 0
}

/// Loads the GDT, TSS and LDT and reloads every segment register.
pub fn init(syscall_entry: u64) {
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
        (*gdt)[slot(TSS_SELECTOR)] = tss_low;
        (*gdt)[slot(TSS_SELECTOR) + 1] = tss_high;
        let ldt = &raw mut LDT;
        let (gate_low, gate_high) = call_gate(syscall_entry);
        *ldt = [gate_low, gate_high];
        let (ldt_low, ldt_high) = ldt_descriptor(ldt as u64, (LDT_ENTRIES * 8 - 1) as u64);
        (*gdt)[slot(LDT_SELECTOR)] = ldt_low;
        (*gdt)[slot(LDT_SELECTOR) + 1] = ldt_high;
        let pointer = DescriptorTablePointer::new(&*gdt);
        lgdt(&pointer);
        reload_code_segment();
        load_ss(SegmentSelector::new(KERNEL_DATA >> 3, Ring::Ring0));
        let user_data = SegmentSelector::from_raw(USER_DATA);
        load_ds(user_data);
        load_es(user_data);
        x86::dtables::load_ldtr(SegmentSelector::from_raw(LDT_SELECTOR));
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

/// Sets the stack the CPU switches to on entry from ring 3 (interrupts and
/// the call gate alike).
pub fn set_kernel_stack(top: u64) {
    let tss = &raw mut TSS;
    // SAFETY: single CPU; the TSS is read by the CPU only on a privilege
    // change, which cannot happen in the middle of this store because the
    // caller runs in ring 0. The packed array is copied, never referenced.
    unsafe {
        let mut rsp = (*tss).rsp;
        rsp[0] = top;
        (*tss).rsp = rsp;
    }
}
