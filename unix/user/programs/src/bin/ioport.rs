//! `ioport`: writes to I/O port 0xF4 — QEMU's `isa-debug-exit`, which would
//! end the whole machine — from ring 3. With IOPL 0 and no I/O permission
//! bitmap, the CPU raises #GP: the kernel must kill the process (SIGSEGV,
//! status 139) and go on. If `outb` returns (and QEMU is still running),
//! prints `NOT KILLED` and exits 0.

#![no_std]
#![no_main]

use ulibc::prelude::*;

ulibc::entry!(main);

fn main(_args: Args) -> i32 {
    println!("ioport: outb to port 0xf4 at ring 3 (expect SIGSEGV)");
    // SAFETY: the CPU must refuse the port access (#GP).
    unsafe {
        core::arch::asm!("outb %al, %dx", in("al") 0x31u8, in("dx") 0xF4u16, options(att_syntax, nomem, nostack));
    }
    programs::not_killed(
        "ioport",
        format_args!("outb to port 0xf4 returned in ring 3"),
    )
}
