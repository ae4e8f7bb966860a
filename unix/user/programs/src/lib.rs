//! Shared code of the test programs: a [`Checker`] that prints one line per
//! check and a final console test line
//! `{"test":name,"result":"pass"|"fail","detail":…}`, and helpers for the
//! programs that must be killed by the kernel.

#![no_std]

use core::fmt::{self, Write};
use ulibc::Errno;
use ulibc::io::test_line;
use ulibc::println;
use ulibc::string::ArrayString;

/// Runs checks, prints each, and sums them up.
pub struct Checker {
    name: &'static str,
    total: u32,
    failed: u32,
    failures: ArrayString<512>,
}

impl Checker {
    /// A checker for test `name` (the test line's `"test"` field).
    pub fn new(name: &'static str) -> Self {
        Self {
            name,
            total: 0,
            failed: 0,
            failures: ArrayString::new(),
        }
    }

    /// Records one check: prints `name: what: detail: ok|FAIL`.
    pub fn check(&mut self, what: &str, ok: bool, detail: fmt::Arguments<'_>) -> bool {
        self.total += 1;
        println!(
            "{}: {}: {}: {}",
            self.name,
            what,
            detail,
            if ok { "ok" } else { "FAIL" }
        );
        if !ok {
            self.failed += 1;
            let sep = if self.failures.as_bytes().is_empty() {
                ""
            } else {
                "; "
            };
            let _ = write!(self.failures, "{sep}{what}: {detail}");
        }
        ok
    }

    /// Checks that `r` failed with `want`.
    pub fn expect_err<T: fmt::Debug>(
        &mut self,
        what: &str,
        r: Result<T, Errno>,
        want: Errno,
    ) -> bool {
        match r {
            Err(e) => self.check(what, e == want, format_args!("-1 {e:?} (want {want:?})")),
            Ok(v) => self.check(
                what,
                false,
                format_args!("returned {v:?} (want -1 {want:?})"),
            ),
        }
    }

    /// Checks that `r` succeeded, giving its value.
    pub fn expect_ok<T: fmt::Debug>(&mut self, what: &str, r: Result<T, Errno>) -> Option<T> {
        match r {
            Ok(v) => {
                self.check(what, true, format_args!("{v:?}"));
                Some(v)
            }
            Err(e) => {
                self.check(what, false, format_args!("-1 {e:?}"));
                None
            }
        }
    }

    /// Number of failed checks so far.
    pub fn failed(&self) -> u32 {
        self.failed
    }

    /// Prints the test line and returns the exit status: 0 if every check
    /// passed, else 1.
    pub fn finish(self) -> i32 {
        let pass = self.failed == 0 && self.total > 0;
        let detail: ArrayString<640> = if pass {
            ulibc::string::format_array(format_args!("{} checks passed", self.total))
        } else {
            ulibc::string::format_array(format_args!(
                "{} of {} checks failed: {}",
                self.failed, self.total, self.failures
            ))
        };
        test_line(self.name, pass, detail.as_str());
        if pass { 0 } else { 1 }
    }
}

/// For programs the kernel must kill: reached only if the forbidden
/// operation returned. Prints `NOT KILLED: <what>` and the failing test
/// line, and returns exit status 0 (a killed process exits with 128 + the
/// signal, so the test tells the two apart by status and by this line).
pub fn not_killed(test: &str, what: fmt::Arguments<'_>) -> i32 {
    let detail: ArrayString<256> = ulibc::string::format_array(what);
    println!("NOT KILLED: {}", detail);
    test_line(test, false, detail.as_str());
    0
}

/// Busy-waits `ticks` TSC ticks without a syscall.
pub fn busy_wait(ticks: u64) {
    let start = ulibc::bench::timestamp();
    while ulibc::bench::timestamp().wrapping_sub(start) < ticks {
        core::hint::spin_loop();
    }
}

/// xorshift64*: deterministic pseudo-random numbers for the stress
/// programs (same seed, same run).
pub struct Rng(u64);

impl Rng {
    /// A generator; seed 0 is replaced by a fixed non-zero one.
    pub fn new(seed: u64) -> Self {
        Rng(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform-ish in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// The byte a stress program writes at `offset` of a block tagged `tag`.
pub fn pattern(tag: u32, offset: usize) -> u8 {
    (tag as usize ^ offset.wrapping_mul(0x9E37_79B1) >> 7) as u8
}
