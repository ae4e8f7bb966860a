//! The kernel's pure logic, kept apart from the bootable image so it is
//! unit-tested on the host with plain `cargo test`: Multiboot 1 parsing, the
//! kernel command line, the physical-memory plan (what is free for frames and
//! heap) and the JSON lines of the serial protocol.
//!
//! The image itself (`src/main.rs`, `src/machine/`) holds everything that
//! touches the hardware and all of the kernel's `unsafe`.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod cmdline;
pub mod json;
pub mod memplan;
pub mod multiboot;
