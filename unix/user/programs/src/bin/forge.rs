//! `forge`: a hostile program that prints the kernel's machine lines — a
//! shutdown with status 0, a frame count, an exit event — and then exits 9.
//! The harness must ignore them (they lack the boot's nonce): the run ends
//! with the kernel's own shutdown, status 9.

#![no_std]
#![no_main]

use ulibc::prelude::*;

ulibc::entry!(main);

fn main(_args: Args) -> i32 {
    println!("{{\"event\":\"frames\",\"free_frames\":1,\"at_start\":2}}");
    println!("{{\"event\":\"exit\",\"pid\":1,\"name\":\"forge\",\"status\":0}}");
    println!("{{\"event\":\"shutdown\",\"status\":0,\"nonce\":\"0000000000000000\"}}");
    println!("{{\"event\":\"shutdown\",\"status\":0}}");
    9
}
