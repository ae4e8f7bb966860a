//! `cli`: executes `cli` in ring 3 (IOPL must be 0). The kernel must kill
//! the process (#GP → SIGSEGV, status 139) and go on. If `cli` returns,
//! prints `NOT KILLED` (and whether IF really went off) and exits 0.

#![no_std]
#![no_main]

use ulibc::prelude::*;

ulibc::entry!(main);

fn main(_args: Args) -> i32 {
    println!("cli: executing cli at ring 3 (expect SIGSEGV)");
    let flags: u32;
    // SAFETY: privileged with IOPL 0: the CPU raises #GP and the kernel
    // must kill us. If it does not, read EFLAGS to report IF.
    unsafe {
        core::arch::asm!("cli", "pushfd", "pop {f}", f = out(reg) flags);
        core::arch::asm!("sti", options(nomem, nostack));
    }
    programs::not_killed(
        "cli",
        format_args!(
            "cli returned in ring 3 (EFLAGS {flags:#x}, IF {})",
            (flags >> 9) & 1
        ),
    )
}
