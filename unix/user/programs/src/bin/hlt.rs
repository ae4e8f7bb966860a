//! `hlt`: executes the privileged `hlt` in ring 3. The kernel must kill the
//! process (#GP → SIGSEGV, status 139) and go on. If `hlt` returns, prints
//! `NOT KILLED` and exits 0.

#![no_std]
#![no_main]

use ulibc::prelude::*;

ulibc::entry!(main);

fn main(_args: Args) -> i32 {
    println!("hlt: executing hlt at ring 3 (expect SIGSEGV)");
    // SAFETY: privileged: the CPU raises #GP; the kernel must kill us.
    unsafe { core::arch::asm!("hlt", options(nomem, nostack)) };
    programs::not_killed("hlt", format_args!("hlt returned in ring 3"))
}
