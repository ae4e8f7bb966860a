//! `heapbomb`: tries to exhaust the kernel's heap. Each round maps 1 GiB with
//! `MAP_FIXED` at a new address, unmaps all of it but its first page, and
//! touches that page: every kept page sits in a persistent window of its own,
//! so it costs kernel memory (page-number tree nodes, a range) far beyond its
//! frame. The kernel must answer `ENOMEM` at some point — from `mmap` or
//! `munmap` — and go on. One `{"test":"heapbomb",…}` line; exit 0 when the
//! refusal came as `ENOMEM`.

#![no_std]
#![no_main]

use ulibc::prelude::*;
use ulibc::string::format_array;
use ulibc::sys::raw;

ulibc::entry!(main);

const GIB: usize = 1 << 30;
const PAGE: usize = 4096;
const BASE: usize = 0x1000_0000;

fn main(_args: Args) -> i32 {
    let mut at = BASE;
    let mut round = 0u32;
    let outcome = loop {
        if at + GIB > 0xB000_0000 {
            break Err("ran out of address space");
        }
        // SAFETY: the span is this program's own, below the stack reservation
        // and above its image; MAP_FIXED replaces nothing it uses.
        let r = unsafe { raw::mmap(at, GIB, PROT_READ | PROT_WRITE, MAP_ANON | MAP_FIXED, -1, 0) };
        if let Err(e) = r {
            break Ok(("mmap", e));
        }
        // SAFETY: the pages unmapped are the ones just mapped.
        if let Err(e) = unsafe { raw::munmap(at + PAGE, GIB - PAGE) } {
            break Ok(("munmap", e));
        }
        // SAFETY: the first page of the mapping stays mapped and writable.
        unsafe { core::ptr::write_volatile(at as *mut u32, round) };
        at += PAGE;
        round += 1;
    };
    let (pass, detail) = match outcome {
        Ok((call, e)) => (
            e == Errno::ENOMEM,
            format_array::<128>(format_args!(
                "{call} refused with {e:?} after {round} rounds"
            )),
        ),
        Err(why) => (
            false,
            format_array::<128>(format_args!("{why} after {round} rounds")),
        ),
    };
    ulibc::io::test_line("heapbomb", pass, detail.as_str());
    i32::from(!pass)
}
