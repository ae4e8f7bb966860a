//! `jmpkernel [MODE]`: transfers control somewhere a user program must not
//! run. Each mode must get the process killed (SIGSEGV, status 139) while
//! the kernel goes on; if control comes back, prints `NOT KILLED` and exits
//! 0. Modes (default `near`):
//!
//! - `near`: `jmp` to 0xC0000000 (the guard above the stack; kernel-side of
//!   the classic 3/1 split) — #PF on instruction fetch;
//! - `top`: `jmp` to 0xFFFFF000, the last page of the 4 GiB space;
//! - `low`: `jmp` to 0x00100000, where the kernel image sits physically
//!   (must not be mapped in a user space);
//! - `call`: `call` to 0xC0001000;
//! - `far`: `ljmp $0x08, $0` — a far jump to the kernel's code selector
//!   (#GP: DPL 0);
//! - `gate`: `ljmp $0x07, $0` — a *jump* through the syscall call gate
//!   (only `lcall` may use it; #GP);
//! - `data`: `jmp` into our own writable, non-executable `.bss` (#PF with
//!   NX set in the page tables; a kernel without NX lets it run).

#![no_std]
#![no_main]

use ulibc::prelude::*;

ulibc::entry!(main);

/// A `ret` instruction in writable data, for the `data` mode.
static mut DATA_RET: [u8; 4] = [0xC3, 0xC3, 0xC3, 0xC3];

fn jump_to(addr: usize) {
    // SAFETY: deliberately jumps outside our code; the kernel must kill us.
    // Coming back (only possible for `data`) goes through a `ret`.
    unsafe { core::arch::asm!("call {a}", a = in(reg) addr, clobber_abi("C")) };
}

fn main(args: Args) -> i32 {
    let mode = args.str(1).unwrap_or("near");
    println!("jmpkernel: mode {mode} (expect SIGSEGV)");
    match mode {
        "near" => {
            // SAFETY: see jump_to.
            unsafe { core::arch::asm!("jmp {a}", a = in(reg) 0xC000_0000usize, options(noreturn)) }
        }
        "top" => {
            // SAFETY: see jump_to.
            unsafe { core::arch::asm!("jmp {a}", a = in(reg) 0xFFFF_F000usize, options(noreturn)) }
        }
        "low" => {
            // SAFETY: see jump_to.
            unsafe { core::arch::asm!("jmp {a}", a = in(reg) 0x0010_0000usize, options(noreturn)) }
        }
        "call" => jump_to(0xC000_1000),
        // SAFETY: a far jump the CPU must refuse (#GP).
        "far" => unsafe { core::arch::asm!("ljmp $0x08, $0", options(att_syntax, noreturn)) },
        // SAFETY: a jump through a call gate the CPU must refuse (#GP).
        "gate" => unsafe { core::arch::asm!("ljmp $0x07, $0", options(att_syntax, noreturn)) },
        "data" => jump_to(&raw mut DATA_RET as usize),
        other => {
            eprintln!("jmpkernel: unknown mode {other} (near, top, low, call, far, gate, data)");
            return 2;
        }
    }
    programs::not_killed("jmpkernel", format_args!("mode {mode}: control came back"))
}
