//! `secret [SECONDS]`: the other half of `peek other`. Fills a page at the
//! fixed address 0x30000000 (its own `.phantom_secret` segment, see
//! `link.ld`) with a known pattern (0x5EC2E700 + i), then stays alive for
//! SECONDS (default 2, by `CLOCK_MONOTONIC`) so a `peek other` module can
//! try to read it, and finally checks its page is intact. Ends with
//! `{"test":"secret",…}`; exit 0 if the page was intact, else 1.

#![no_std]
#![no_main]

use core::sync::atomic::{AtomicU32, Ordering};
use programs::Checker;
use ulibc::prelude::*;
use ulibc::string::parse_u64;
use ulibc::sys;

ulibc::entry!(main);

#[repr(C, align(4096))]
struct SecretPage([AtomicU32; 1024]);

#[unsafe(link_section = ".phantom_secret")]
static SECRET: SecretPage = SecretPage([const { AtomicU32::new(0) }; 1024]);

const SECRET_WORD: u32 = 0x5EC2_E700;

fn main(args: Args) -> i32 {
    let seconds = args.bytes(1).and_then(parse_u64).unwrap_or(2);
    let mut c = Checker::new("secret");
    c.check(
        "page at 0x30000000",
        &raw const SECRET as usize == 0x3000_0000,
        format_args!("{:#x}", &raw const SECRET as usize),
    );
    for (i, w) in SECRET.0.iter().enumerate() {
        w.store(SECRET_WORD + i as u32, Ordering::Relaxed);
    }
    println!("secret: page at 0x30000000 filled; waiting {seconds} s");
    let start = sys::clock_gettime(CLOCK_MONOTONIC).map(|t| t.as_nanos());
    if let Ok(start) = start {
        while let Ok(now) = sys::clock_gettime(CLOCK_MONOTONIC) {
            if now.as_nanos().saturating_sub(start) >= seconds * 1_000_000_000 {
                break;
            }
            core::hint::spin_loop();
        }
    } else {
        programs::busy_wait(seconds * 1_000_000_000);
    }
    let intact = SECRET
        .0
        .iter()
        .enumerate()
        .all(|(i, w)| w.load(Ordering::Relaxed) == SECRET_WORD + i as u32);
    c.check("page intact", intact, format_args!("after {seconds} s"));
    c.finish()
}
