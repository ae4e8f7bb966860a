//! `sbrk-stress [TARGET] [ROUNDS] [SEED]`: grows the heap with
//! `sbrk` to TARGET bytes (default 256M; suffixes K, M, G) in random steps
//! (one page to 4 MiB), writes a pattern to every new page, verifies every
//! page, then shrinks back in random steps verifying what remains, ROUNDS
//! times (default 4). Checks: the break starts at or above `_end`; pages
//! returned by a shrink come back zeroed when the heap grows again (no data
//! survives a shrink); `brk` past the stack (0xFFFFF000) and into the
//! stack's reservation (0xBFFFF000) fail with `ENOMEM` and the process goes
//! on; the break ends exactly where it started. Ends with
//! `{"test":"sbrk-stress",…}`; exit 0 on pass.

#![no_std]
#![no_main]

use programs::{Checker, Rng};
use ulibc::malloc::{brk, sbrk};
use ulibc::prelude::*;
use ulibc::string::{parse_size, parse_u64};

ulibc::entry!(main);

const PAGE: usize = 4096;

unsafe extern "C" {
    static _end: u8;
}

fn word(addr: usize) -> *mut u32 {
    addr as *mut u32
}

fn stamp(page: usize, round: u64) -> u32 {
    (page as u32).wrapping_mul(0x9E37_79B1) ^ round as u32
}

fn main(args: Args) -> i32 {
    let target = args.bytes(1).and_then(parse_size).unwrap_or(256 << 20) as usize;
    let rounds = args.bytes(2).and_then(parse_u64).unwrap_or(4);
    let seed = args.bytes(3).and_then(parse_u64).unwrap_or(1);
    let mut c = Checker::new("sbrk-stress");
    let mut rng = Rng::new(seed);

    let start = match sbrk(0) {
        Ok(b) => b,
        Err(e) => {
            c.check("sbrk(0)", false, format_args!("{e}"));
            return c.finish();
        }
    };
    let end = &raw const _end as usize;
    c.check(
        "break starts above _end",
        start >= end,
        format_args!("break {start:#x}, _end {end:#x}"),
    );
    // Work on whole pages from the first page boundary above the break.
    let base = start.next_multiple_of(PAGE);
    let target = target.next_multiple_of(PAGE).max(PAGE);
    let mut zero_ok = true;
    let mut pattern_ok = true;
    let mut grows = 0u64;
    'rounds: for round in 0..rounds {
        // Grow.
        let mut top = sbrk(0).unwrap_or(start);
        while top < base + target {
            let step = ((1 + rng.below(1024)) as usize * PAGE).min(base + target - top);
            let want = if top < base { base - top + step } else { step };
            match sbrk(want as isize) {
                Ok(old) if old == top => {}
                r => {
                    c.check(
                        "grow",
                        false,
                        format_args!("round {round}: sbrk({want}) at {top:#x}: {r:?}"),
                    );
                    break 'rounds;
                }
            }
            let new_top = top + want;
            let first = top.next_multiple_of(PAGE).max(base);
            for page in (first..new_top).step_by(PAGE) {
                let p = (page - base) / PAGE;
                // SAFETY: the page is inside the heap we just grew.
                unsafe {
                    if word(page).read_volatile() != 0 || word(page + PAGE - 4).read_volatile() != 0
                    {
                        zero_ok = false;
                    }
                    word(page).write_volatile(stamp(p, round));
                    word(page + PAGE - 4).write_volatile(!stamp(p, round));
                }
            }
            top = new_top;
            grows += 1;
        }
        // Verify every page.
        for page in (base..top).step_by(PAGE) {
            let p = (page - base) / PAGE;
            // SAFETY: inside the heap.
            let ok = unsafe {
                word(page).read_volatile() == stamp(p, round)
                    && word(page + PAGE - 4).read_volatile() == !stamp(p, round)
            };
            pattern_ok &= ok;
        }
        // Shrink back to the start in random steps.
        while top > start {
            let step = ((1 + rng.below(1024)) as usize * PAGE).min(top - start);
            if sbrk(-(step as isize)).is_err() {
                c.check(
                    "shrink",
                    false,
                    format_args!("round {round}: sbrk(-{step}) at {top:#x}"),
                );
                break 'rounds;
            }
            top -= step;
            // The page just below the new break still holds its pattern.
            if top >= base + PAGE {
                let page = (top - PAGE) / PAGE * PAGE;
                let p = (page - base) / PAGE;
                // SAFETY: inside the heap.
                pattern_ok &= unsafe { word(page).read_volatile() == stamp(p, round) };
            }
        }
    }
    c.check(
        "every page kept its pattern",
        pattern_ok,
        format_args!(
            "{rounds} rounds to {} MiB, {grows} grow steps",
            target >> 20
        ),
    );
    c.check(
        "pages come back zeroed after a shrink",
        zero_ok,
        format_args!(""),
    );
    let past = brk(0xFFFF_F000);
    c.check(
        "brk past the stack fails with ENOMEM",
        past == Err(Errno::ENOMEM),
        format_args!("brk(0xFFFFF000) = {past:?}"),
    );
    let local = 0u8;
    if (&raw const local as usize) < 0xC000_0000 {
        // Our layout: the stack's reservation ends at 0xC0000000.
        let into = brk(0xC000_0000 - PAGE);
        c.check(
            "brk into the stack reservation fails with ENOMEM",
            into == Err(Errno::ENOMEM),
            format_args!("brk(0xBFFFF000) = {into:?}"),
        );
        if into.is_ok() {
            let _ = brk(start);
        }
    } else {
        println!(
            "sbrk-stress: stack above 0xC0000000: not phantom-unix's layout; brk into the stack not tried"
        );
    }
    let now = sbrk(0);
    c.check(
        "the break is back at its start",
        now == Ok(start),
        format_args!("{now:?}, start {start:#x}"),
    );
    c.finish()
}
