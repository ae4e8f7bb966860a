//! `forkbench [icount|wall]`: what processes cost. `fork_exit_wait_1MiB`,
//! `_64MiB`, `_1GiB` — `fork`, the child `_exit(0)`, the parent `waitpid`,
//! with that much memory touched (written) by the parent first;
//! `fork_exec_wait` (the child execs `/bin/true`); then
//! `pipe_round_trip` (one byte to a child and back) and `pipe_64MiB` (64 MiB
//! through a pipe in 64 KiB writes, to a child that reads it all),
//! `signal_self_roundtrip` (`kill(getpid(), SIGUSR1)`, an empty handler, and
//! the return to the interrupted code). One
//! `{"bench":…,"level":"user",…}` line each (median, p99 of the samples, the
//! timing overhead subtracted). Linux 6.1 on the same QEMU: ≈ 366,000,
//! 6,830,000 and 103,700,000 instructions for the fork rows, 13,200 for the
//! round trip, 224,000,000 for 64 MiB (docs/benchmarks.md).

#![no_std]
#![no_main]

use core::cell::UnsafeCell;
use ulibc::bench::{Mode, report, timestamp, timing_overhead};
use ulibc::prelude::*;
use ulibc::sys::{self, ChildEnd};

ulibc::entry!(main);

const MAX_SAMPLES: usize = 2000;

struct Samples(UnsafeCell<[u64; MAX_SAMPLES]>);
// SAFETY: one thread.
unsafe impl Sync for Samples {}
static SAMPLES: Samples = Samples(UnsafeCell::new([0; MAX_SAMPLES]));

/// One fork+exit+wait, timed; `None` if anything failed.
fn fork_exit_wait() -> Option<u64> {
    let t0 = timestamp();
    let pid = match sys::fork() {
        Ok(0) => sys::_exit(0),
        Ok(pid) => pid,
        Err(_) => return None,
    };
    let r = sys::waitpid(pid as i32, 0);
    let t1 = timestamp();
    (r == Ok(Some((pid, ChildEnd::Exited(0))))).then_some(t1 - t0)
}

fn main(args: Args) -> i32 {
    let Ok(mode) = Mode::from_arg(args.str(1)) else {
        eprintln!("usage: forkbench [icount|wall]");
        return 2;
    };
    // SAFETY: the only reference to SAMPLES, in one thread.
    let all = unsafe { &mut *SAMPLES.0.get() };
    all.fill(1);
    let overhead = timing_overhead(&mut all[..1000]);
    // fork+exit+wait at three sizes: the memory grows in one mapping, touched.
    let mut touched = 0usize;
    let mut region: *mut u8 = core::ptr::null_mut();
    let region_len = 1usize << 30;
    if let Ok(p) = sys::mmap_anon(region_len, 3) {
        region = p;
    }
    if region.is_null() {
        eprintln!("forkbench: no 1 GiB mapping: {}", ulibc::errno::errno());
        return 1;
    }
    for (name, size, n) in [
        ("fork_exit_wait_1MiB", 1usize << 20, 400usize),
        ("fork_exit_wait_64MiB", 64 << 20, 200),
        ("fork_exit_wait_1GiB", 1 << 30, 100),
    ] {
        while touched < size {
            // SAFETY: inside the 1 GiB read-write mapping.
            unsafe { region.add(touched).write_volatile(1) };
            touched += 4096;
        }
        // Warm up the path (and the parent's tables after a fork).
        for _ in 0..5 {
            let _ = fork_exit_wait();
        }
        let samples = &mut all[..n];
        for s in samples.iter_mut() {
            match fork_exit_wait() {
                Some(t) => *s = t,
                None => {
                    eprintln!("forkbench: {name}: {}", ulibc::errno::errno());
                    return 1;
                }
            }
        }
        report(name, mode, samples, overhead, "");
    }
    // SAFETY: the mapping made above; nothing refers to it any more.
    let _ = unsafe { sys::munmap(region, region_len) };

    // fork, the child execs /bin/true, the parent waits.
    let samples = &mut all[..200];
    for s in samples.iter_mut() {
        let t0 = timestamp();
        let pid = match sys::fork() {
            Ok(0) => {
                let e = sys::execve(b"/bin/true", &[b"true"], &[]);
                eprintln!("forkbench: exec /bin/true: {e}");
                sys::_exit(127)
            }
            Ok(pid) => pid,
            Err(e) => {
                eprintln!("forkbench: fork: {e:?}");
                return 1;
            }
        };
        let r = sys::waitpid(pid as i32, 0);
        *s = timestamp() - t0;
        if r != Ok(Some((pid, ChildEnd::Exited(0)))) {
            eprintln!("forkbench: fork_exec_wait: {r:?}");
            return 1;
        }
    }
    report("fork_exec_wait", mode, samples, overhead, "");

    // One byte there and back.
    let (Ok((to_r, to_w)), Ok((back_r, back_w))) = (sys::pipe(), sys::pipe()) else {
        eprintln!("forkbench: pipe: {}", ulibc::errno::errno());
        return 1;
    };
    let child = match sys::fork() {
        Ok(0) => {
            let _ = (sys::close(to_w), sys::close(back_r));
            let mut b = [0u8; 1];
            while sys::read(to_r, &mut b) == Ok(1) {
                let _ = sys::write(back_w, &b);
            }
            sys::_exit(0)
        }
        Ok(pid) => pid,
        Err(e) => {
            eprintln!("forkbench: fork: {e:?}");
            return 1;
        }
    };
    let _ = (sys::close(to_r), sys::close(back_w));
    let samples = &mut all[..2000];
    let mut b = [0u8; 1];
    for _ in 0..20 {
        let _ = (sys::write(to_w, &b), sys::read(back_r, &mut b));
    }
    for s in samples.iter_mut() {
        let t0 = timestamp();
        let ok = sys::write(to_w, &b) == Ok(1) && sys::read(back_r, &mut b) == Ok(1);
        *s = timestamp() - t0;
        if !ok {
            eprintln!("forkbench: pipe round trip failed");
            return 1;
        }
    }
    let _ = (sys::close(to_w), sys::close(back_r));
    let _ = sys::waitpid(child as i32, 0);
    report("pipe_round_trip", mode, samples, overhead, "");

    // 64 MiB through a pipe.
    let block = [0x5au8; 65536];
    let samples = &mut all[..5];
    for s in samples.iter_mut() {
        let Ok((r, w)) = sys::pipe() else {
            return 1;
        };
        let t0 = timestamp();
        let child = match sys::fork() {
            Ok(0) => {
                let _ = sys::close(w);
                let mut buf = [0u8; 65536];
                let mut total = 0usize;
                while let Ok(n @ 1..) = sys::read(r, &mut buf) {
                    total += n;
                }
                sys::_exit(if total == 64 << 20 { 0 } else { 1 })
            }
            Ok(pid) => pid,
            Err(_) => return 1,
        };
        let _ = sys::close(r);
        for _ in 0..1024 {
            let mut rest = &block[..];
            while !rest.is_empty() {
                match sys::write(w, rest) {
                    Ok(n) => rest = &rest[n..],
                    Err(_) => return 1,
                }
            }
        }
        let _ = sys::close(w);
        let end = sys::waitpid(child as i32, 0);
        *s = timestamp() - t0;
        if end != Ok(Some((child, ChildEnd::Exited(0)))) {
            eprintln!("forkbench: the reader got less than 64 MiB: {end:?}");
            return 1;
        }
    }
    report("pipe_64MiB", mode, samples, overhead, "");

    // kill(getpid(), SIGUSR1), an empty handler, and back.
    let _ = sys::sigaction(SIGUSR1, sys::Action::Handler(empty_handler), 0, 0);
    let me = sys::getpid().unwrap_or(0) as i32;
    let samples = &mut all[..2000];
    for _ in 0..20 {
        let _ = sys::kill(me, SIGUSR1);
    }
    for s in samples.iter_mut() {
        let t0 = timestamp();
        let r = sys::kill(me, SIGUSR1);
        *s = timestamp() - t0;
        if r.is_err() {
            eprintln!("forkbench: kill: {r:?}");
            return 1;
        }
    }
    report("signal_self_roundtrip", mode, samples, overhead, "");
    0
}

const SIGUSR1: u32 = 30;

extern "C" fn empty_handler(_sig: i32) {}
