//! `stackbench [icount|wall] [N]`: `stack_growth`, the cost per page of
//! growing the stack downward. One sample is one page: the stack
//! pointer moves down 4096 bytes and a word is written at it — the first
//! touch of a new stack page, which the kernel must add to the stack on the
//! fault (`sub $4096, %esp; mov %ecx, (%esp)` between two `lfence; rdtsc`,
//! in one assembly loop so no other code touches the stack meanwhile). The
//! loop starts 64 KiB below where the program's own stack use ends.
//!
//! N samples (default: as many pages as the stack limit leaves room for, at
//! most 16384; at least 1000 are needed). With the default 8 MiB
//! `RLIMIT_STACK` that is ~2000 pages; if `setrlimit` works the limit is
//! first raised to 96 MiB and N = 16384. The empty-sample median (the same
//! loop without the write) is subtracted. For comparison the same program
//! measures the zero-fill fault (first write to a `.bss` page, 2048 samples)
//! and reports both on the `stack_growth` line:
//! `{"bench":"stack_growth","level":"user",…,"zero_fill":…,"rlimit_stack":…}`
//! then verifies every stack page kept its word. Linux, same QEMU: ≈ 11,600
//! instructions per page (its zero-fill fault: ≈ 6,400).

#![no_std]
#![no_main]

use core::cell::UnsafeCell;
use ulibc::bench::{Mode, Stats, report, timestamp, timing_overhead};
use ulibc::prelude::*;
use ulibc::string::{format_array, parse_u64};
use ulibc::sys;

ulibc::entry!(main);

const PAGE: usize = 4096;
const MIB: usize = 1 << 20;
/// The ABI's stack top (exclusive).
const STACK_TOP: usize = 0xC000_0000;
/// The limit asked for with `setrlimit` (the kernel accepts up to 256 MiB).
const RAISED_LIMIT: usize = 96 * MIB;
/// Most samples.
const MAX_SAMPLES: usize = 16384;
/// Fewest samples worth a figure.
const MIN_SAMPLES: usize = 1000;
/// Left untouched between the program's stack and the measured pages.
const SKIP: usize = 64 * 1024;
/// Pages kept free above the limit (its guard, rounding).
const MARGIN_PAGES: usize = 4;
/// Zero-fill samples.
const ZERO_PAGES: usize = 2048;

struct Samples(UnsafeCell<[u32; MAX_SAMPLES]>);
// SAFETY: one thread.
unsafe impl Sync for Samples {}
static SAMPLES: Samples = Samples(UnsafeCell::new([0; MAX_SAMPLES]));

struct Wide(UnsafeCell<[u64; MAX_SAMPLES]>);
// SAFETY: one thread.
unsafe impl Sync for Wide {}
static WIDE: Wide = Wide(UnsafeCell::new([0; MAX_SAMPLES]));

#[repr(C, align(4096))]
struct Zero(UnsafeCell<[u8; ZERO_PAGES * PAGE]>);
// SAFETY: one thread; accessed through raw pointers.
unsafe impl Sync for Zero {}
/// In `.bss`: anonymous zero-fill pages.
static ZERO: Zero = Zero(UnsafeCell::new([0; ZERO_PAGES * PAGE]));

// `__stackbench_walk(samples, n, skip, touch)` (cdecl; `n` ≥ 1): moves
// `esp` down `skip` bytes, then `n` times: `lfence; rdtsc`, `esp` down one
// page, (if `touch`) a write of the countdown at `esp`, `lfence; rdtsc`;
// each sample's ticks (low 32 bits) go to `samples[i]`. Restores `esp` and
// returns it as it was when the walk began (after saving registers).
#[cfg(target_arch = "x86")]
core::arch::global_asm!(
    ".pushsection .text.__stackbench_walk,\"ax\",@progbits",
    ".globl __stackbench_walk",
    ".type __stackbench_walk,@function",
    ".p2align 4",
    "__stackbench_walk:",
    "    push ebp",
    "    push ebx",
    "    push esi",
    "    push edi",
    "    mov esi, [esp + 20]",
    "    mov ecx, [esp + 24]",
    "    mov eax, [esp + 28]",
    "    mov ebx, [esp + 32]",
    "    mov ebp, esp",
    "    sub esp, eax",
    "    test ebx, ebx",
    "    jz 3f",
    "2:",
    "    lfence",
    "    rdtsc",
    "    mov edi, eax",
    "    sub esp, 4096",
    "    mov dword ptr [esp], ecx",
    "    lfence",
    "    rdtsc",
    "    sub eax, edi",
    "    mov dword ptr [esi], eax",
    "    add esi, 4",
    "    dec ecx",
    "    jnz 2b",
    "    jmp 4f",
    "3:",
    "    lfence",
    "    rdtsc",
    "    mov edi, eax",
    "    sub esp, 4096",
    "    lfence",
    "    rdtsc",
    "    sub eax, edi",
    "    mov dword ptr [esi], eax",
    "    add esi, 4",
    "    dec ecx",
    "    jnz 3b",
    "4:",
    "    mov esp, ebp",
    "    mov eax, ebp",
    "    pop edi",
    "    pop esi",
    "    pop ebx",
    "    pop ebp",
    "    ret",
    ".size __stackbench_walk, . - __stackbench_walk",
    ".popsection",
);

#[cfg(target_arch = "x86")]
unsafe extern "C" {
    fn __stackbench_walk(samples: *mut u32, n: usize, skip: usize, touch: u32) -> usize;
}

/// Walks the stack down `samples.len()` pages below `skip` bytes under the
/// current stack pointer, timing each step (see `__stackbench_walk`); with
/// `touch`, each step writes its countdown at the new page: page `k`
/// (1-based) holds `n + 1 − k` at `start − skip − 4096·k`, where `start`
/// is returned.
///
/// # Safety
/// The `skip + 4096·n` bytes below the stack pointer must be stack the
/// kernel can grow into.
unsafe fn walk_down(samples: &mut [u32], skip: usize, touch: bool) -> usize {
    if samples.is_empty() {
        return 0;
    }
    #[cfg(target_arch = "x86")]
    // SAFETY: per the contract; the samples are written within the slice.
    return unsafe {
        __stackbench_walk(samples.as_mut_ptr(), samples.len(), skip, u32::from(touch))
    };
    #[cfg(not(target_arch = "x86"))]
    {
        let _ = (skip, touch);
        0
    }
}

/// Where the stack's top is: the ABI's `0xC0000000` if `esp` is below it
/// within `limit`, else (under another kernel, e.g. `gate-emu` on Linux) a
/// guess above the argument strings.
fn stack_top(esp: usize, limit: usize, args: &Args) -> usize {
    if esp < STACK_TOP && esp > STACK_TOP - limit {
        return STACK_TOP;
    }
    let highest = args
        .iter()
        .map(|a| a.as_ptr() as usize)
        .max()
        .unwrap_or(esp);
    // The environment's strings and more lie above argv's: assume 64 KiB.
    highest.next_multiple_of(PAGE) + 64 * 1024
}

fn main(args: Args) -> i32 {
    let Ok(mode) = Mode::from_arg(args.str(1)) else {
        eprintln!("usage: stackbench [icount|wall] [N]");
        return 2;
    };
    let asked = args.bytes(2).and_then(parse_u64).map(|v| v as usize);

    // The stack limit: raised if setrlimit allows, else what it is.
    let mut limit = 8 * MIB;
    let mut raised = false;
    match sys::getrlimit(RLIMIT_STACK) {
        Ok(r) => {
            if r.rlim_cur != RLIM_INFINITY {
                limit = r.rlim_cur as usize;
            }
            let want = RAISED_LIMIT.min(if r.rlim_max == RLIM_INFINITY {
                usize::MAX
            } else {
                r.rlim_max as usize
            });
            if want > limit {
                let new = Rlimit {
                    rlim_cur: want as u32,
                    rlim_max: r.rlim_max,
                };
                match sys::setrlimit(RLIMIT_STACK, new) {
                    Ok(()) => {
                        limit = want;
                        raised = true;
                    }
                    Err(e) => eprintln!(
                        "stackbench: setrlimit(RLIMIT_STACK, {} MiB): {e}; staying at {} MiB",
                        want / MIB,
                        limit / MIB
                    ),
                }
            }
        }
        Err(e) => eprintln!("stackbench: getrlimit(RLIMIT_STACK): {e}; assuming 8 MiB"),
    }

    // SAFETY: the only references to the sample arrays, in one thread.
    let all = unsafe { &mut *SAMPLES.0.get() };
    // SAFETY: as above.
    let wide = unsafe { &mut *WIDE.0.get() };
    all.fill(1); // fault the sample arrays in before measuring
    wide.fill(1);

    let esp = {
        let here = 0u8;
        core::hint::black_box(&raw const here) as usize
    };
    let top = stack_top(esp, limit, &args);
    let bottom = top.saturating_sub(limit);
    let room = esp.saturating_sub(SKIP + PAGE + bottom) / PAGE;
    let room = room.saturating_sub(MARGIN_PAGES);
    let n = asked.unwrap_or(MAX_SAMPLES).min(room).min(MAX_SAMPLES);
    if n < MIN_SAMPLES {
        eprintln!(
            "stackbench: room for only {n} stack pages below {esp:#x} (limit {} MiB): need {MIN_SAMPLES}",
            limit / MIB
        );
        return 1;
    }
    println!(
        "stackbench: RLIMIT_STACK {} MiB{}, {n} pages below {:#x}",
        limit / MIB,
        if raised { " (raised)" } else { "" },
        esp - SKIP
    );

    // Zero-fill first, for comparison (as faultbench measures it).
    let zsamples = &mut wide[..ZERO_PAGES];
    let zero_overhead = timing_overhead(zsamples);
    for (i, s) in zsamples.iter_mut().enumerate() {
        // SAFETY: a page of ZERO, ours.
        let p = unsafe { ZERO.0.get().cast::<u8>().add(i * PAGE) };
        let t0 = timestamp();
        // SAFETY: as above.
        unsafe { p.write_volatile(1) };
        *s = timestamp() - t0;
    }
    for s in zsamples.iter_mut() {
        *s = s.saturating_sub(zero_overhead);
    }
    let zero_median = mode.convert(Stats::of(zsamples).median);

    // The empty loop first (no fault: nothing is written), then the real one.
    let samples = &mut all[..n];
    // SAFETY: the pages are within the limit (counted above); nothing is
    // written to them in this call.
    unsafe { walk_down(samples, SKIP, false) };
    for (w, &s) in wide.iter_mut().zip(samples.iter()) {
        *w = u64::from(s);
    }
    let overhead = Stats::of(&mut wide[..n]).median;
    // SAFETY: as above; the writes go to the stack below us.
    let start = unsafe { walk_down(samples, SKIP, true) };
    for (w, &s) in wide.iter_mut().zip(samples.iter()) {
        *w = u64::from(s);
    }

    // Each page kept its word.
    let bad = (1..=n)
        .filter(|&k| {
            let p = (start - SKIP - PAGE * k) as *const u32;
            // SAFETY: a stack page grown above; nothing has used it since
            // (our own frames stay far above `start − SKIP`).
            unsafe { p.read_volatile() != (n + 1 - k) as u32 }
        })
        .count();

    // Does the cost depend on the depth? Medians of the first and the last
    // tenth of the pages (before sorting).
    let tenth = (n / 10).max(1);
    let mut part = [0u64; MAX_SAMPLES / 10 + 1];
    let mut decile = |from: usize| {
        let p = &mut part[..tenth];
        for (d, &s) in p.iter_mut().zip(&wide[from..from + tenth]) {
            *d = s.saturating_sub(overhead);
        }
        mode.convert(Stats::of(p).median)
    };
    let (shallow, deep) = (decile(0), decile(n - tenth));
    let extra = format_array::<256>(format_args!(
        ",\"overhead\":{},\"first_tenth\":{shallow},\"last_tenth\":{deep},\"zero_fill\":{zero_median},\"zero_fill_n\":{ZERO_PAGES},\"rlimit_stack\":{limit},\"case\":\"esp down 4096, first write\"",
        mode.convert(overhead),
    ));
    let st = report(
        "stack_growth",
        mode,
        &mut wide[..n],
        overhead,
        extra.as_str(),
    );
    if let Some(ratio) = (st.median * 100).checked_div(zero_median) {
        println!(
            "stackbench: stack growth {} vs zero-fill fault {zero_median} {} per page ({}.{:02}x)",
            st.median,
            mode.unit(),
            ratio / 100,
            ratio % 100
        );
    }
    if bad > 0 {
        eprintln!("stackbench: {bad} of {n} stack pages lost their word");
        return 1;
    }
    0
}
