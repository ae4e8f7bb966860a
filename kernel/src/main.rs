//! The bootable phantom-unix image for `x86_64-unknown-none`.
//!
//! Everything that touches the machine lives in [`machine`]; on any other
//! target this binary only says how to build it, so the host crates and the
//! kernel's pure library test with plain `cargo test`.
#![cfg_attr(target_os = "none", no_std)]
#![cfg_attr(target_os = "none", no_main)]

#[cfg(target_os = "none")]
extern crate alloc;

#[cfg(target_os = "none")]
mod machine;

#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!("the kernel image is built for x86_64-unknown-none: run `cargo xtask build`");
    std::process::exit(2);
}
