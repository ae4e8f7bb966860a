//! `stack-stress [BYTES|overflow]` (issue 6): recursion that grows the stack
//! downward page by page. With BYTES (default 6M; suffixes K, M), recurses
//! until about BYTES of stack are in use, each frame holding 1 KiB stamped
//! with its depth, and verifies every frame on the way back: the stack grew
//! on demand within the limit (`RLIMIT_STACK`, 8 MiB by default). Ends with
//! `{"test":"stack-stress",…}`, exit 0 on pass.
//!
//! With `overflow`, recurses without bound: the process must die of
//! SIGSEGV at the guard page below the stack limit (status 139) while the
//! other modules go on; if recursion ever stops, prints `NOT KILLED`.
//!
//! Raising the limit with `setrlimit` and going deeper comes when the ABI
//! numbers `getrlimit`/`setrlimit`.

#![no_std]
#![no_main]

use core::hint::black_box;
use programs::Checker;
use ulibc::prelude::*;
use ulibc::string::parse_size;

ulibc::entry!(main);

const FRAME: usize = 1024;

/// Recurses until a frame lies below `limit`; returns (levels, bad frames
/// found on the way back).
#[inline(never)]
fn dive(depth: u32, limit: usize, bottom: &mut usize) -> (u32, u32) {
    let mut frame = [0u32; FRAME / 4];
    for (i, w) in frame.iter_mut().enumerate() {
        *w = depth.wrapping_mul(0x9E37_79B1) ^ i as u32;
    }
    let frame = black_box(frame);
    let here = frame.as_ptr() as usize;
    *bottom = (*bottom).min(here);
    let (levels, below) = if here > limit {
        dive(depth + 1, limit, bottom)
    } else {
        (depth, 0)
    };
    let ok = frame
        .iter()
        .enumerate()
        .all(|(i, &w)| w == depth.wrapping_mul(0x9E37_79B1) ^ i as u32);
    (levels, below + u32::from(!ok))
}

#[inline(never)]
#[allow(unconditional_recursion)]
fn overflow(depth: u64) -> u64 {
    let frame = black_box([depth; FRAME / 8]);
    overflow(depth + 1).wrapping_add(frame[depth as usize % frame.len()])
}

fn main(args: Args) -> i32 {
    if args.bytes(1) == Some(b"overflow") {
        println!("stack-stress: recursing without bound (expect SIGSEGV at the stack guard)");
        let n = overflow(0);
        return programs::not_killed(
            "stack-stress",
            format_args!("unbounded recursion returned {n}"),
        );
    }
    let bytes = args.bytes(1).and_then(parse_size).unwrap_or(6 << 20) as usize;
    let mut c = Checker::new("stack-stress");
    let local = 0u8;
    let top = &raw const local as usize;
    let mut bottom = top;
    let (depth, bad) = dive(0, top.saturating_sub(bytes), &mut bottom);
    c.check(
        "deep recursion keeps every frame",
        bad == 0 && top - bottom >= bytes,
        format_args!(
            "{depth} frames, {} KiB of stack (down to {bottom:#x}), {bad} bad",
            (top - bottom) >> 10
        ),
    );
    c.finish()
}
