//! `malloc-stress [OPS] [SEED]`: random `malloc`/`free`/`realloc`/
//! `calloc`/`memalign` of mixed sizes (a few bytes to 1 MiB) on up to 512
//! live blocks, OPS operations (default 20000) from SEED (default 1). Every
//! block is filled with a pattern of its own and verified on `realloc` (the
//! kept prefix) and on `free`; `calloc` memory must be zero; the heap's
//! invariants are walked every 500 operations. Then `alloc::vec::Vec`,
//! `Box` and `String` through the global allocator. At the end everything
//! is freed: no chunk may stay allocated and the heap must have been
//! trimmed back. Ends with `{"test":"malloc-stress",…}`; exit 0 on pass.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;
use programs::{Checker, Rng, pattern};
use ulibc::malloc;
use ulibc::prelude::*;
use ulibc::string::parse_u64;

ulibc::entry!(main);

const SLOTS: usize = 512;

#[derive(Clone, Copy)]
struct Block {
    p: *mut u8,
    len: usize,
    tag: u32,
}

const EMPTY: Block = Block {
    p: core::ptr::null_mut(),
    len: 0,
    tag: 0,
};

fn fill(b: &Block, from: usize) {
    for i in from..b.len {
        // SAFETY: the block has `len` bytes.
        unsafe { *b.p.add(i) = pattern(b.tag, i) };
    }
}

fn verify(b: &Block, len: usize) -> Option<usize> {
    // SAFETY: the block has at least `len` bytes.
    (0..len).find(|&i| unsafe { *b.p.add(i) } != pattern(b.tag, i))
}

fn size(rng: &mut Rng) -> usize {
    (match rng.below(16) {
        0..=7 => rng.below(64),
        8..=12 => rng.below(4096),
        13..=14 => rng.below(64 << 10),
        _ => rng.below(1 << 20),
    }) as usize
}

fn main(args: Args) -> i32 {
    let ops = args.bytes(1).and_then(parse_u64).unwrap_or(20_000);
    let seed = args.bytes(2).and_then(parse_u64).unwrap_or(1);
    let mut c = Checker::new("malloc-stress");
    let mut rng = Rng::new(seed);
    let mut blocks = [EMPTY; SLOTS];
    let mut tag = 0u32;
    let mut bad = 0u32;
    let mut peak = 0usize;
    let start_break = malloc::current_break().unwrap_or(0);

    for op in 0..ops {
        let slot = rng.below(SLOTS as u64) as usize;
        let b = blocks[slot];
        if b.p.is_null() {
            let n = size(&mut rng);
            tag = tag.wrapping_add(1);
            let kind = rng.below(8);
            let p = match kind {
                0 => malloc::calloc(1, n),
                1 => malloc::memalign(1 << (5 + rng.below(8)), n),
                _ => malloc::malloc(n),
            };
            if p.is_null() {
                c.check(
                    "allocation",
                    false,
                    format_args!("op {op}: {n} bytes: {}", ulibc::errno::errno()),
                );
                return c.finish();
            }
            // SAFETY: `p` has `n` bytes.
            let dirty = kind == 0 && (0..n).any(|i| unsafe { *p.add(i) } != 0);
            if dirty {
                bad += 1;
                c.check("calloc zeroed", false, format_args!("op {op}: {n} bytes"));
            }
            let nb = Block { p, len: n, tag };
            fill(&nb, 0);
            blocks[slot] = nb;
        } else if rng.below(3) == 0 {
            let n = size(&mut rng);
            // SAFETY: `b.p` is allocated and not used after a move.
            let q = unsafe { malloc::realloc(b.p, n) };
            if q.is_null() && n != 0 {
                c.check(
                    "realloc",
                    false,
                    format_args!("op {op}: {} → {n} bytes", b.len),
                );
                return c.finish();
            }
            let moved = Block {
                p: q,
                len: n,
                tag: b.tag,
            };
            if n != 0 {
                if let Some(i) = verify(&moved, b.len.min(n)) {
                    bad += 1;
                    c.check(
                        "realloc keeps contents",
                        false,
                        format_args!("op {op}: byte {i} of {}", b.len.min(n)),
                    );
                }
                fill(&moved, b.len.min(n));
                blocks[slot] = moved;
            } else {
                blocks[slot] = EMPTY;
            }
        } else {
            if let Some(i) = verify(&b, b.len) {
                bad += 1;
                c.check(
                    "contents intact at free",
                    false,
                    format_args!("op {op}: byte {i} of {}", b.len),
                );
            }
            // SAFETY: allocated, dropped from the table.
            unsafe { malloc::free(b.p) };
            blocks[slot] = EMPTY;
        }
        if op % 500 == 0 {
            match malloc::check() {
                Ok(st) => peak = peak.max(st.heap_bytes),
                Err(e) => {
                    c.check("heap invariants", false, format_args!("op {op}: {e}"));
                    return c.finish();
                }
            }
        }
        if bad > 10 {
            break;
        }
    }
    c.check(
        "operations",
        bad == 0,
        format_args!("{ops} ops, {bad} bad, peak heap {} KiB", peak >> 10),
    );

    // The alloc crate through the global allocator.
    let mut v: Vec<u32> = Vec::new();
    for i in 0..100_000u32 {
        v.push(i.wrapping_mul(2_654_435_761));
    }
    let ok = v
        .iter()
        .enumerate()
        .all(|(i, &x)| x == (i as u32).wrapping_mul(2_654_435_761));
    let boxed = Box::new([7u8; 10_000]);
    let mut s = String::new();
    for i in 0..1000 {
        let _ = write!(s, "{i},");
    }
    c.check(
        "Vec, Box, String",
        ok && boxed.iter().all(|&b| b == 7) && s.len() == 3890 && s.starts_with("0,1,2,"),
        format_args!("{} u32s, string of {} bytes", v.len(), s.len()),
    );
    drop((v, boxed, s));

    for b in blocks.iter_mut().filter(|b| !b.p.is_null()) {
        if verify(b, b.len).is_some() {
            bad += 1;
        }
        // SAFETY: allocated, dropped from the table.
        unsafe { malloc::free(b.p) };
        *b = EMPTY;
    }
    match malloc::check() {
        Ok(st) => {
            c.check(
                "all freed",
                st.used_chunks == 0 && bad == 0,
                format_args!("{st:?}"),
            );
            c.check(
                "heap trimmed at the end",
                st.top_bytes <= ulibc::malloc::heap::TRIM_THRESHOLD,
                format_args!(
                    "{} KiB past the start break {start_break:#x}",
                    st.heap_bytes >> 10
                ),
            );
        }
        Err(e) => {
            c.check("heap invariants at the end", false, format_args!("{e}"));
        }
    }
    c.finish()
}
