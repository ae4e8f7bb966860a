//! `spin [SECONDS]`: an infinite loop with no syscalls (only the timer can
//! take the CPU away). With SECONDS, stops after that long by the TSC
//! (rate measured once at start against `CLOCK_MONOTONIC`) and exits 0, so
//! a test can end; without, spins forever. Used with `spinprint` to show a
//! spinning module does not starve the others.

#![no_std]
#![no_main]

use ulibc::prelude::*;
use ulibc::string::parse_u64;

ulibc::entry!(main);

fn main(args: Args) -> i32 {
    match args.bytes(1).and_then(parse_u64) {
        None => {
            println!("spin: spinning forever");
            loop {
                core::hint::spin_loop();
            }
        }
        Some(seconds) => {
            let per_us = ulibc::bench::tsc_ticks_per_us(20_000_000).unwrap_or(1000);
            println!("spin: spinning {seconds} s ({per_us} TSC ticks/us)");
            programs::busy_wait(seconds * 1_000_000 * per_us);
            println!("spin: done");
            0
        }
    }
}
