//! `forkbomb`: every process forks as fast as it can until the kernel says
//! `EAGAIN` (its process limit), then waits for its children and exits. The
//! first process checks that the limit was met (not a kernel failure), that
//! everything was reaped (`ECHILD`), and that a fork works again afterwards.
//! `{"test":"forkbomb",…}`; exit 0 if all passed. `forkbomb hold`: every
//! process stays (waiting for a signal) once the limit is met, as a real bomb
//! does, until it is killed.

#![no_std]
#![no_main]

use programs::Checker;
use ulibc::prelude::*;
use ulibc::sys::{self, ChildEnd};

ulibc::entry!(main);

/// Fork until refused; returns (children made, the error that stopped it).
/// A child goes on forking itself (returns `None` there).
fn bomb() -> Option<(u32, Errno)> {
    let mut made = 0;
    loop {
        match sys::fork() {
            Ok(0) => made = 0,
            Ok(_) => made += 1,
            Err(e) => return Some((made, e)),
        }
    }
}

/// Wait for every child; true if all exited 0.
fn reap_all() -> bool {
    let mut all_zero = true;
    loop {
        match sys::waitpid(-1, 0) {
            Ok(Some((_, end))) => all_zero &= end == ChildEnd::Exited(0),
            Err(Errno::ECHILD) => return all_zero,
            _ => return false,
        }
    }
}

fn main(args: Args) -> i32 {
    let first = sys::getpid().unwrap_or(0);
    let (made, stop) = bomb().unwrap_or((0, Errno::EINVAL));
    if args.bytes(1) == Some(b"hold") {
        if sys::getpid().unwrap_or(0) == first {
            println!("forkbomb: holding ({made} children, then {stop:?})");
        }
        loop {
            let _ = sys::sigsuspend(0);
        }
    }
    if sys::getpid().unwrap_or(0) != first {
        // A child of the bomb: wait for its own, and give the slot back.
        let ok = reap_all() && stop == Errno::EAGAIN;
        sys::_exit(if ok { 0 } else { 1 });
    }
    let mut c = Checker::new("forkbomb");
    c.check(
        "the bomb meets the process limit: EAGAIN",
        stop == Errno::EAGAIN && made > 0,
        format_args!("{made} children, then {stop:?}"),
    );
    c.check(
        "every process of the bomb was reaped and exited 0",
        reap_all(),
        format_args!(""),
    );
    let again = match sys::fork() {
        Ok(0) => sys::_exit(0),
        Ok(pid) => sys::waitpid(pid as i32, 0),
        Err(e) => Err(e),
    };
    c.check(
        "a fork works again afterwards",
        matches!(again, Ok(Some((_, ChildEnd::Exited(0))))),
        format_args!("{again:?}"),
    );
    c.finish()
}
