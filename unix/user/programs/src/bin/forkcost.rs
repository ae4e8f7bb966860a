//! `forkcost`: what a fork does to memory, read from the kernel's counters in
//! `/proc/meminfo`. With 64 MiB touched, a fork whose child exits at once
//! copies no page, makes no page resident and takes (almost) no fault — the
//! few are the two stacks' first writes, whatever the size; a child that
//! writes 100 pages copies about 100; and after it, the parent writes all
//! 64 MiB again without a single copy (it takes its pages over); 10,000
//! fork+exit+wait rounds leave free memory, resident pages and the kernel
//! heap where they were. One line per check, then `{"test":"forkcost",…}`.

#![no_std]
#![no_main]

use programs::Checker;
use ulibc::prelude::*;
use ulibc::sys::{self, ChildEnd};

ulibc::entry!(main);

const TOUCHED: usize = 64 << 20;
const PAGES: usize = TOUCHED / 4096;

/// The value of `name` in `/proc/meminfo`.
fn meminfo(name: &[u8]) -> Option<u64> {
    let f = File::open_read(c"/proc/meminfo").ok()?;
    let mut buf = [0u8; 2048];
    let n = f.read_full(&mut buf).ok()?;
    let text = &buf[..n];
    let at = text.windows(name.len()).position(|w| w == name)? + name.len();
    let rest = &text[at..];
    let digits = rest
        .iter()
        .position(|b| b.is_ascii_digit())
        .map(|s| &rest[s..])?;
    let end = digits
        .iter()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(digits.len());
    ulibc::string::parse_u64(&digits[..end])
}

/// (resident pages, all faults, COW copies) from `/proc/meminfo`.
fn counters() -> Option<(u64, u64, u64)> {
    let faults = meminfo(b"FaultsMinor:")?
        + meminfo(b"FaultsZeroFill:")?
        + meminfo(b"FaultsCowCopy:")?
        + meminfo(b"FaultsCowTakeOver:")?;
    Some((
        meminfo(b"ResidentPages:")?,
        faults,
        meminfo(b"FaultsCowCopy:")?,
    ))
}

fn fork_and(child: impl FnOnce()) -> Option<ChildEnd> {
    match sys::fork() {
        Ok(0) => {
            child();
            sys::_exit(0)
        }
        Ok(pid) => sys::waitpid(pid as i32, 0).ok().flatten().map(|(_, e)| e),
        Err(_) => None,
    }
}

fn main(_args: Args) -> i32 {
    let mut c = Checker::new("forkcost");
    let Ok(region) = sys::mmap_anon(TOUCHED, 3) else {
        c.check(
            "mmap 64 MiB",
            false,
            format_args!("{}", ulibc::errno::errno()),
        );
        return c.finish();
    };
    for i in 0..PAGES {
        // SAFETY: inside the mapping just made.
        unsafe { region.add(i * 4096).write_volatile(i as u8) };
    }
    // Warm up: the first fork's own faults (this code, its stack) out of the way.
    let _ = fork_and(|| {});
    let before = counters();
    let end = fork_and(|| {});
    let after = counters();
    c.check(
        "the child exited",
        end == Some(ChildEnd::Exited(0)),
        format_args!("{end:?}"),
    );
    match (before, after) {
        (Some(b), Some(a)) => {
            c.check(
                "fork + exit with 64 MiB touched: no page copied",
                a.2 - b.2 <= 4,
                format_args!("{} copies", a.2 - b.2),
            );
            c.check(
                "no page made resident, a few faults (stacks), not 16384",
                a.0.abs_diff(b.0) <= 8 && a.1 - b.1 <= 16,
                format_args!("resident {} -> {}, {} faults", b.0, a.0, a.1 - b.1),
            );
        }
        other => {
            c.check("/proc/meminfo", false, format_args!("{other:?}"));
        }
    }
    let before = counters();
    let end = fork_and(|| {
        for i in 0..100 {
            // SAFETY: the child's copy of the mapping.
            unsafe { region.add(i * 4096).write_volatile(0xcc) };
        }
    });
    let after = counters();
    let copies = match (before, after) {
        (Some(b), Some(a)) => a.2 - b.2,
        _ => 0,
    };
    c.check(
        "a child writing 100 pages copies about 100",
        end == Some(ChildEnd::Exited(0)) && (100..=110).contains(&copies),
        format_args!("{copies} copies"),
    );
    let before = counters();
    let mut intact = true;
    for i in 0..PAGES {
        // SAFETY: inside the mapping.
        unsafe {
            intact &= region.add(i * 4096).read_volatile() == i as u8;
            region.add(i * 4096).write_volatile(0x11);
        }
    }
    let after = counters();
    let copies = match (before, after) {
        (Some(b), Some(a)) => a.2 - b.2,
        _ => u64::MAX,
    };
    c.check(
        "then the parent rewrites all 64 MiB without a copy, its data intact",
        intact && copies <= 4,
        format_args!("{copies} copies, intact {intact}"),
    );
    // 10,000 fork+exit+wait: frames, resident pages and kernel heap back where
    // they were.
    let before = (
        meminfo(b"MemFree:"),
        meminfo(b"ResidentPages:"),
        meminfo(b"KernelHeapUsed:"),
    );
    let mut rounds = 0;
    for _ in 0..10_000 {
        if fork_and(|| {}) != Some(ChildEnd::Exited(0)) {
            break;
        }
        rounds += 1;
    }
    let after = (
        meminfo(b"MemFree:"),
        meminfo(b"ResidentPages:"),
        meminfo(b"KernelHeapUsed:"),
    );
    let settled = match (before, after) {
        ((Some(f0), Some(r0), Some(h0)), (Some(f1), Some(r1), Some(h1))) => {
            f1.abs_diff(f0) <= 64 && r1.abs_diff(r0) <= 16 && h1.abs_diff(h0) <= 64
        }
        _ => false,
    };
    c.check(
        "10,000 fork+exit+wait leave frames, pages and kernel heap at baseline",
        rounds == 10_000 && settled,
        format_args!("{rounds} rounds; (free kB, resident, heap kB) {before:?} -> {after:?}"),
    );
    c.finish()
}
