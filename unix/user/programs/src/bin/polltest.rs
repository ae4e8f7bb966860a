//! `polltest`: waiting for several things at once, and timers. `poll` times
//! out after its timeout, wakes when a child writes to a pipe, reports
//! `POLLHUP` when the writer goes and `POLLNVAL` for a closed descriptor, and
//! fails with `EINTR` (never restarted) when a handler runs; `sigsuspend`
//! waits with a mask and puts the old one back; `setitimer` sends `SIGALRM`
//! once and then every period, `getitimer` and `alarm` report what is left, a
//! child's uncaught `SIGALRM` kills it; a `nanosleep` a handler interrupts
//! fails with `EINTR` and stores the time it had left. One line per check, then
//! `{"test":"polltest",…}`.

#![no_std]
#![no_main]

use core::sync::atomic::{AtomicU32, Ordering};
use programs::Checker;
use ulibc::prelude::*;
use ulibc::sys::{self, Action, ChildEnd};
use ulibc::types::{
    CLOCK_MONOTONIC, Itimerval, POLLHUP, POLLIN, POLLNVAL, POLLOUT, Pollfd, SA_RESTART, SIG_BLOCK,
    SIGALRM, SIGUSR1,
};

ulibc::entry!(main);

static ALARMS: AtomicU32 = AtomicU32::new(0);
static USR1: AtomicU32 = AtomicU32::new(0);

extern "C" fn on_alarm(_sig: i32) {
    ALARMS.fetch_add(1, Ordering::SeqCst);
}

extern "C" fn on_usr1(_sig: i32) {
    USR1.fetch_add(1, Ordering::SeqCst);
}

/// Milliseconds of the monotonic clock.
fn now_ms() -> u64 {
    sys::clock_gettime(CLOCK_MONOTONIC).map_or(0, |t| t.as_nanos() / 1_000_000)
}

fn pollfd(fd: Fd, events: u16) -> Pollfd {
    Pollfd {
        fd,
        events,
        revents: 0,
    }
}

/// A timer of `value_ms`, then every `interval_ms`.
fn timer(value_ms: u32, interval_ms: u32) -> Itimerval {
    let ms = |v: u32| ((v / 1000) as i32, (v % 1000 * 1000) as i32);
    let ((vs, vu), (is, iu)) = (ms(value_ms), ms(interval_ms));
    Itimerval {
        it_interval_sec: is,
        it_interval_usec: iu,
        it_value_sec: vs,
        it_value_usec: vu,
    }
}

fn main(_args: Args) -> i32 {
    let mut c = Checker::new("polltest");
    let Ok((r, w)) = sys::pipe() else {
        return c.finish();
    };

    // A timeout with nothing ready.
    let t0 = now_ms();
    let mut fds = [pollfd(r, POLLIN)];
    let n = sys::poll(&mut fds, 50);
    let waited = now_ms() - t0;
    c.check(
        "poll times out",
        n == Ok(0) && waited >= 50 && fds[0].revents == 0,
        format_args!("{n:?} after {waited} ms, revents {:#x}", fds[0].revents),
    );
    // The write end is ready at once; a closed descriptor is POLLNVAL.
    let mut fds = [pollfd(w, POLLOUT), pollfd(40, POLLIN)];
    let n = sys::poll(&mut fds, 0);
    c.check(
        "poll: room to write, a bad descriptor",
        n == Ok(2) && fds[0].revents == POLLOUT && fds[1].revents == POLLNVAL,
        format_args!("{n:?}, {:#x} {:#x}", fds[0].revents, fds[1].revents),
    );
    // A child writes after a while: poll without a limit wakes.
    match sys::fork() {
        Ok(0) => {
            let _ = sys::sleepmsec(30);
            let _ = sys::write(w, b"x");
            sys::_exit(0);
        }
        Ok(_) => {
            let mut fds = [pollfd(r, POLLIN)];
            let n = sys::poll(&mut fds, -1);
            c.check(
                "poll wakes when a child writes",
                n == Ok(1) && fds[0].revents == POLLIN,
                format_args!("{n:?}, revents {:#x}", fds[0].revents),
            );
            let _ = sys::waitpid(-1, 0);
        }
        Err(e) => {
            c.check("fork", false, format_args!("{e}"));
        }
    }
    let mut byte = [0u8; 1];
    let _ = sys::read(r, &mut byte);
    let _ = sys::close(w);
    let mut fds = [pollfd(r, POLLIN)];
    let n = sys::poll(&mut fds, -1);
    c.check(
        "poll: POLLHUP when the writer is gone",
        n == Ok(1) && fds[0].revents == POLLHUP,
        format_args!("{n:?}, revents {:#x}", fds[0].revents),
    );
    let _ = sys::close(r);

    // A one-shot timer interrupts poll (SA_RESTART does not restart it).
    let _ = sys::sigaction(SIGALRM, Action::Handler(on_alarm), 0, SA_RESTART);
    let Ok((r, w)) = sys::pipe() else {
        return c.finish();
    };
    let old = sys::setitimer(&timer(40, 0));
    let mut fds = [pollfd(r, POLLIN)];
    let n = sys::poll(&mut fds, 5000);
    c.check(
        "SIGALRM interrupts poll with EINTR",
        n == Err(Errno::EINTR) && ALARMS.load(Ordering::SeqCst) == 1 && old.is_ok(),
        format_args!("{n:?}, {} alarms", ALARMS.load(Ordering::SeqCst)),
    );
    let left = sys::getitimer();
    c.check(
        "a one-shot timer is disarmed after it fired",
        left.is_ok_and(|t| t.it_value_sec == 0 && t.it_value_usec == 0),
        format_args!("{left:?}"),
    );

    // A periodic timer, waited for with sigsuspend.
    let blocked = 1u32 << SIGALRM;
    let _ = sys::sigprocmask(SIG_BLOCK, blocked);
    let _ = sys::setitimer(&timer(20, 20));
    let before = ALARMS.load(Ordering::SeqCst);
    let mut suspends_ok = true;
    for _ in 0..3 {
        suspends_ok &= sys::sigsuspend(0) == Errno::EINTR;
        suspends_ok &= sys::sigprocmask(SIG_BLOCK, 0) == Ok(blocked);
    }
    let periodic = ALARMS.load(Ordering::SeqCst) - before;
    let off = sys::setitimer(&timer(0, 0));
    c.check(
        "a periodic timer, sigsuspend waits and restores the mask",
        suspends_ok && periodic == 3,
        format_args!("{periodic} alarms, masks kept {suspends_ok}, old {off:?}"),
    );
    let _ = sys::sigprocmask(ulibc::types::SIG_SETMASK, 0);

    // sigsuspend with a signal from a child.
    let _ = sys::sigaction(SIGUSR1, Action::Handler(on_usr1), 0, 0);
    let _ = sys::sigprocmask(SIG_BLOCK, 1 << SIGUSR1);
    let me = sys::getpid().unwrap_or(0) as i32;
    match sys::fork() {
        Ok(0) => {
            let _ = sys::sleepmsec(20);
            let _ = sys::kill(me, SIGUSR1);
            sys::_exit(0);
        }
        Ok(_) => {
            let e = sys::sigsuspend(0);
            let mask = sys::sigprocmask(SIG_BLOCK, 0);
            c.check(
                "sigsuspend: a child's SIGUSR1 ends it",
                e == Errno::EINTR && USR1.load(Ordering::SeqCst) == 1 && mask == Ok(1 << SIGUSR1),
                format_args!("{e:?}, mask {mask:?}"),
            );
            let _ = sys::waitpid(-1, 0);
        }
        Err(e) => {
            c.check("fork", false, format_args!("{e}"));
        }
    }
    let _ = sys::sigprocmask(ulibc::types::SIG_SETMASK, 0);

    // alarm() reports what the previous one had left.
    let first = sys::alarm(10);
    let second = sys::alarm(0);
    c.check(
        "alarm returns the seconds left",
        first == 0 && (9..=10).contains(&second),
        format_args!("{first}, then {second}"),
    );

    // A handler interrupts a 2 s nanosleep after 100 ms: EINTR, ~1.9 s left.
    let _ = sys::sigaction(SIGALRM, Action::Handler(on_alarm), 0, 0);
    let _ = sys::setitimer(&timer(100, 0));
    let req = ulibc::types::Timespec {
        tv_sec: 2,
        tv_nsec: 0,
    };
    let mut rem = ulibc::types::Timespec::default();
    let slept = sys::nanosleep_rem(&req, &mut rem);
    let left_ms = rem.as_nanos() / 1_000_000;
    c.check(
        "an interrupted nanosleep says what was left",
        slept == Err(Errno::EINTR) && (1_500..2_000).contains(&left_ms),
        format_args!("{slept:?}, {left_ms} ms left"),
    );

    // An uncaught SIGALRM ends a child, as wait reports.
    match sys::fork() {
        Ok(0) => {
            let _ = sys::signal(SIGALRM, sys::Disposition::Default);
            let _ = sys::setitimer(&timer(20, 0));
            let _ = sys::sigsuspend(0);
            sys::_exit(0);
        }
        Ok(_) => {
            let end = sys::waitpid(-1, 0);
            c.check(
                "an uncaught SIGALRM kills",
                matches!(end, Ok(Some((_, ChildEnd::Signaled(14))))),
                format_args!("{end:?}"),
            );
        }
        Err(e) => {
            c.check("fork", false, format_args!("{e}"));
        }
    }
    let _ = (sys::close(r), sys::close(w));
    c.finish()
}
