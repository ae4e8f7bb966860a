//! `stack-stress [BYTES [DEEP]]|overflow`: recursion that grows
//! the stack downward page by page. With BYTES (default 6M; suffixes K, M),
//! recurses until about BYTES of stack are in use, each frame holding 1 KiB
//! stamped with its depth, and verifies every frame on the way back: the
//! stack grew on demand within the limit (`RLIMIT_STACK`, 8 MiB by
//! default, which `getrlimit` must report). Then raises the limit with
//! `setrlimit(RLIMIT_STACK)` to 64 MiB, checks that `getrlimit` reports it
//! (and, on phantom-unix's layout, that `/proc/self/maps` shows the guard
//! moved to 0xC0000000 − 64 MiB − 4096), and recurses again to DEEP
//! (default 48M; at most 64 MiB − 1 MiB) verifying every frame; lowering
//! the limit below what the stack now uses (16 MiB) is `EINVAL` on our
//! layout, as is `rlim_cur > rlim_max`, and the limit stays. Ends with `{"test":"stack-stress",…}`, exit 0 on
//! pass.
//!
//! With `overflow`, recurses without bound: the process must die of
//! SIGSEGV at the guard page below the stack limit (status 139) while the
//! other modules go on; if recursion ever stops, prints `NOT KILLED`.

#![no_std]
#![no_main]

use core::hint::black_box;
use programs::Checker;
use ulibc::prelude::*;
use ulibc::string::parse_size;
use ulibc::sys::{getrlimit, setrlimit};

ulibc::entry!(main);

const FRAME: usize = 1024;
const STACK_TOP: usize = 0xC000_0000;
/// The raised `RLIMIT_STACK`.
const RAISED: u32 = 64 << 20;

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

/// A `getrlimit`/`setrlimit` value, in hex.
struct Lim<'a>(&'a Result<Rlimit, Errno>);

impl core::fmt::Display for Lim<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            Ok(r) => write!(f, "cur {:#x}, max {:#x}", r.rlim_cur, r.rlim_max),
            Err(e) => write!(f, "-1 {e:?}"),
        }
    }
}

/// Recurses until `bytes` of stack below `top` are in use; checks every
/// frame came back intact.
fn deep(c: &mut Checker, what: &str, top: usize, bytes: usize) -> bool {
    let mut bottom = top;
    let (depth, bad) = dive(0, top.saturating_sub(bytes), &mut bottom);
    c.check(
        what,
        bad == 0 && top - bottom >= bytes,
        format_args!(
            "{depth} frames, {} KiB of stack (down to {bottom:#x}), {bad} bad",
            (top - bottom) >> 10
        ),
    )
}

/// The `[guard]` line of `/proc/self/maps` inside the stack reservation
/// (`0xB0000000..0xC0000000`): the guard below the stack limit.
fn stack_guard() -> Option<usize> {
    let f = File::open_read(c"/proc/self/maps").ok()?;
    let mut buf = [0u8; 8192];
    let n = f.read_full(&mut buf).ok()?;
    buf[..n].split(|&b| b == b'\n').find_map(|line| {
        if !line.ends_with(b"[guard]") {
            return None;
        }
        let dash = line.iter().position(|&b| b == b'-')?;
        let start = core::str::from_utf8(&line[..dash]).ok()?;
        let start = usize::from_str_radix(start, 16).ok()?;
        (0xB000_0000..STACK_TOP).contains(&start).then_some(start)
    })
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
    let deeper = args.bytes(2).and_then(parse_size).unwrap_or(48 << 20) as usize;
    let deeper = deeper.min(RAISED as usize - (1 << 20));
    let mut c = Checker::new("stack-stress");
    let local = 0u8;
    let top = &raw const local as usize;
    let ours = (STACK_TOP - (8 << 20)..STACK_TOP).contains(&top);

    let before = getrlimit(RLIMIT_STACK);
    c.check(
        "getrlimit(RLIMIT_STACK): 8 MiB soft by default",
        matches!(before, Ok(r) if r.rlim_cur == 8 << 20),
        format_args!("{}", Lim(&before)),
    );
    deep(&mut c, "deep recursion keeps every frame", top, bytes);

    // Raise the limit and go deeper.
    let max = before.map_or(RLIM_INFINITY, |r| r.rlim_max.max(RAISED));
    let raised = Rlimit {
        rlim_cur: RAISED,
        rlim_max: max,
    };
    let set = setrlimit(RLIMIT_STACK, raised);
    c.check(
        "setrlimit(RLIMIT_STACK, 64 MiB)",
        set.is_ok(),
        format_args!("{}: {set:?}", Lim(&Ok(raised))),
    );
    if set.is_err() {
        return c.finish();
    }
    let after = getrlimit(RLIMIT_STACK);
    c.check(
        "getrlimit reports it",
        after == Ok(raised),
        format_args!("{}", Lim(&after)),
    );
    if ours {
        let want = STACK_TOP - RAISED as usize - 4096;
        let g = stack_guard();
        c.check(
            "/proc/self/maps: the guard below the stack moved",
            g == Some(want),
            format_args!("guard at {:#x} (0: none), want {want:#x}", g.unwrap_or(0)),
        );
    }
    deep(
        &mut c,
        "deeper recursion under the raised limit keeps every frame",
        top,
        deeper,
    );

    // Refusals change nothing.
    if ours && deeper > 17 << 20 {
        let low = Rlimit {
            rlim_cur: 16 << 20,
            rlim_max: max,
        };
        let r = setrlimit(RLIMIT_STACK, low);
        c.check(
            "setrlimit below the stack in use: EINVAL",
            r == Err(Errno::EINVAL),
            format_args!("{}: {r:?}", Lim(&Ok(low))),
        );
    }
    let inverted = Rlimit {
        rlim_cur: RAISED,
        rlim_max: RAISED - 4096,
    };
    let r = setrlimit(RLIMIT_STACK, inverted);
    c.check(
        "setrlimit rlim_cur > rlim_max: EINVAL",
        r == Err(Errno::EINVAL),
        format_args!("{}: {r:?}", Lim(&Ok(inverted))),
    );
    let still = getrlimit(RLIMIT_STACK);
    c.check(
        "  … the limit is unchanged",
        still == Ok(raised),
        format_args!("{}", Lim(&still)),
    );
    c.finish()
}
