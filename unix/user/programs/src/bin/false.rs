//! `false`: does nothing and exits 1.

#![no_std]
#![no_main]

use ulibc::prelude::*;

ulibc::entry!(main);

fn main(_args: Args) -> i32 {
    1
}
