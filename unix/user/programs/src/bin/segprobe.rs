//! `segprobe set|watch [ms]`: the segment-register probe pair. For `ms`
//! milliseconds (default 300, many time slices), `set` loads FS and GS with
//! the user data selector and checks they keep it across preemption;
//! `watch` checks its own DS/ES stay the user data selector and FS/GS stay
//! null — no other process's selectors leak in. Each prints its verdict as a
//! `{"test":…}` line and exits 0 on success, 1 otherwise.

#![no_std]
#![no_main]

use ulibc::prelude::*;
use ulibc::string::{format_array, parse_u64};
use ulibc::sys;

ulibc::entry!(main);

/// The user data selector (GDT index 4, RPL 3), as the kernel sets DS/ES.
const USER_DATA: u16 = 0x23;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Selectors {
    ds: u16,
    es: u16,
    fs: u16,
    gs: u16,
}

fn selectors() -> Selectors {
    let (ds, es, fs, gs): (u16, u16, u16, u16);
    #[cfg(target_arch = "x86")]
    // SAFETY: reading segment registers has no side effects.
    unsafe {
        core::arch::asm!(
            "mov {0:x}, ds", "mov {1:x}, es", "mov {2:x}, fs", "mov {3:x}, gs",
            out(reg) ds, out(reg) es, out(reg) fs, out(reg) gs,
            options(nomem, nostack, preserves_flags)
        );
    }
    #[cfg(not(target_arch = "x86"))]
    {
        (ds, es, fs, gs) = (USER_DATA, USER_DATA, 0, 0);
    }
    Selectors { ds, es, fs, gs }
}

fn load_fs_gs(sel: u16) {
    #[cfg(target_arch = "x86")]
    // SAFETY: `sel` is the user data selector, a valid data segment for ring 3;
    // nothing in this program uses FS or GS.
    unsafe {
        core::arch::asm!("mov fs, {0:x}", "mov gs, {0:x}", in(reg) sel, options(nostack, preserves_flags));
    }
    #[cfg(not(target_arch = "x86"))]
    let _ = sel;
}

fn now_ms() -> u64 {
    sys::clock_gettime(CLOCK_MONOTONIC).map_or(0, |t| t.as_nanos() / 1_000_000)
}

fn main(args: Args) -> i32 {
    let mode = args.bytes(1).unwrap_or(b"");
    let ms = args.bytes(2).and_then(parse_u64).unwrap_or(300);
    let want = match mode {
        b"set" => {
            load_fs_gs(USER_DATA);
            Selectors {
                ds: USER_DATA,
                es: USER_DATA,
                fs: USER_DATA,
                gs: USER_DATA,
            }
        }
        b"watch" => Selectors {
            ds: USER_DATA,
            es: USER_DATA,
            fs: 0,
            gs: 0,
        },
        _ => {
            eprintln!("usage: segprobe set|watch [ms]");
            return 2;
        }
    };
    let name = if mode == b"set" {
        "segprobe-set"
    } else {
        "segprobe-watch"
    };
    let start = now_ms();
    let mut samples = 0u64;
    let mut bad = None;
    while now_ms().saturating_sub(start) < ms {
        let s = selectors();
        samples += 1;
        if s != want && bad.is_none() {
            bad = Some(s);
        }
    }
    let detail = match bad {
        None => format_array::<128>(format_args!("{samples} samples, selectors {want:x?}")),
        Some(s) => format_array::<128>(format_args!("saw {s:x?}, want {want:x?}")),
    };
    ulibc::io::test_line(name, bad.is_none(), detail.as_str());
    i32::from(bad.is_some())
}
