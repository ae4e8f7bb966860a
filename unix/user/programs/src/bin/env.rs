//! `env`: prints its environment, one `NAME=value` per line.

#![no_std]
#![no_main]

use ulibc::prelude::*;

ulibc::entry!(main);

fn main(_args: Args) -> i32 {
    for var in ulibc::env() {
        println!("{}", Bytes(var.to_bytes()));
    }
    0
}
