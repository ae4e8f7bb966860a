//! `spinprint [COUNT]`: prints COUNT (default 5) lines `spinprint: tick i`,
//! busy-waiting about 20 M TSC ticks between them without syscalls, then
//! `{"test":"spinprint","result":"pass",…}` and exits 0. Run beside `spin`:
//! if the spinning module starved it, the line never appears.

#![no_std]
#![no_main]

use ulibc::prelude::*;
use ulibc::string::parse_u64;

ulibc::entry!(main);

fn main(args: Args) -> i32 {
    let count = args.bytes(1).and_then(parse_u64).unwrap_or(5);
    for i in 0..count {
        println!("spinprint: tick {i}");
        programs::busy_wait(20_000_000);
    }
    ulibc::io::test_line(
        "spinprint",
        true,
        "ran to completion beside the other modules",
    );
    0
}
