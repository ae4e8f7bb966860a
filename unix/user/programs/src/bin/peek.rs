//! `peek [MODE]`: reads (or writes) memory a process must not reach. Each
//! mode must get the process killed with SIGSEGV (status 139) while the
//! kernel goes on; if the access returns, prints `NOT KILLED` with what it
//! saw and exits 0. Modes (default `guard`):
//!
//! - `guard`: read 0xC0000000, the guard page above the stack;
//! - `top`: read 0xFFFFF000, the last page of the 4 GiB space;
//! - `null`: read address 0 (page 0 is never mapped);
//! - `low`: read 0x00100000, the kernel image's physical address (boot page
//!   tables identity-map low memory: none of it may leak into a process);
//! - `vga`: read 0x000B8000 (legacy video memory, same reason);
//! - `other`: read 0x30000000, where the `secret` program (started as
//!   another boot module) keeps a page of known bytes: that page belongs to
//!   `secret`'s address space only — seeing it here prints `LEAK` (waits
//!   0.5 s first, so `secret` has filled it);
//! - `text`: write to our own code page (read-only);
//! - `rodata`: write to our own `.rodata` (read-only).

#![no_std]
#![no_main]

use ulibc::prelude::*;

ulibc::entry!(main);

/// The first word of the `secret` program's page.
const SECRET_WORD: u32 = 0x5EC2_E700;

static RODATA: [u32; 4] = [1, 2, 3, 4];

fn read(addr: usize) -> u32 {
    // SAFETY: deliberately reads memory we do not own; the kernel must
    // deliver SIGSEGV.
    unsafe { core::ptr::read_volatile(addr as *const u32) }
}

fn write(addr: usize) {
    // SAFETY: deliberately writes read-only memory; the kernel must deliver
    // SIGSEGV.
    unsafe { core::ptr::write_volatile(addr as *mut u32, 0xDEAD_BEEF) }
}

/// Waits `ms` milliseconds by `CLOCK_MONOTONIC` (or about that many TSC
/// ticks × 10⁶ if there is no clock).
fn wait_ms(ms: u64) {
    let now = || ulibc::sys::clock_gettime(CLOCK_MONOTONIC).map(|t| t.as_nanos());
    match now() {
        Ok(start) => while now().is_ok_and(|t| t - start < ms * 1_000_000) {},
        Err(_) => programs::busy_wait(ms * 1_000_000),
    }
}

fn main(args: Args) -> i32 {
    let mode = args.str(1).unwrap_or("guard");
    println!("peek: mode {mode} (expect SIGSEGV)");
    let addr = match mode {
        "guard" => 0xC000_0000,
        "top" => 0xFFFF_F000,
        "null" => 0,
        "low" => 0x0010_0000,
        "vga" => 0x000B_8000,
        "other" => 0x3000_0000,
        "text" => {
            write(main as *const () as usize);
            return programs::not_killed("peek", format_args!("mode text: wrote our code page"));
        }
        "rodata" => {
            write(RODATA.as_ptr() as usize);
            return programs::not_killed("peek", format_args!("mode rodata: wrote our .rodata"));
        }
        other => {
            eprintln!(
                "peek: unknown mode {other} (guard, top, null, low, vga, other, text, rodata)"
            );
            return 2;
        }
    };
    if mode == "other" {
        // Give `secret` (started alongside) time to fill its page first.
        wait_ms(500);
    }
    let v = read(addr);
    if mode == "other" && v == SECRET_WORD {
        println!("LEAK: peek read secret's page at {addr:#x}");
    }
    programs::not_killed(
        "peek",
        format_args!("mode {mode}: read {v:#010x} at {addr:#x}"),
    )
}
