//! `umipprobe`: runs `sgdt`, `sidt` and `str` in ring 3. With UMIP on (CPUs
//! that have it, e.g. QEMU's `-cpu max`) the first of them raises #GP and the
//! kernel kills the program with SIGSEGV; without UMIP they succeed and the
//! program prints what it learned (the kernel's table addresses) and exits 3.

#![no_std]
#![no_main]

use ulibc::prelude::*;

ulibc::entry!(main);

fn main(_args: Args) -> i32 {
    let mut gdtr = [0u8; 6];
    let mut idtr = [0u8; 6];
    let tr: u16;
    #[cfg(target_arch = "x86")]
    // SAFETY: the stores go to the two local 6-byte buffers; `str` writes a
    // register. Under UMIP each instruction faults instead.
    unsafe {
        core::arch::asm!(
            "sgdt [{g}]", "sidt [{i}]", "str {t:x}",
            g = in(reg) gdtr.as_mut_ptr(), i = in(reg) idtr.as_mut_ptr(), t = out(reg) tr,
            options(nostack, preserves_flags)
        );
    }
    #[cfg(not(target_arch = "x86"))]
    {
        tr = 0;
    }
    let base = |d: &[u8; 6]| u32::from_le_bytes([d[2], d[3], d[4], d[5]]);
    println!(
        "umipprobe: no UMIP: GDT base {:#x}, IDT base {:#x}, TR {:#x}",
        base(&gdtr),
        base(&idtr),
        tr
    );
    3
}
