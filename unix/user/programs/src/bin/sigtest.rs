//! `sigtest`: signal handlers from a program's side. A handler runs on
//! `raise` and returns to the interrupted code (its registers and locals
//! intact); `SA_SIGINFO` handlers get `si_signo` and `si_code`; a blocked
//! signal waits in `sigpending` and runs when unblocked; `SA_RESETHAND`; a
//! blocked `read` is interrupted with `EINTR`, or restarted with
//! `SA_RESTART`; a stack overflow is caught on an alternate stack with
//! `si_addr` at the stack's guard; a `SIGSEGV` handler sees the null
//! address. One line per check, then `{"test":"sigtest",…}`.

#![no_std]
#![no_main]

use core::sync::atomic::{AtomicU32, Ordering};
use programs::Checker;
use ulibc::prelude::*;
use ulibc::sys::{self, Action, ChildEnd};

ulibc::entry!(main);

const SIGUSR1: u32 = 30;
const SIGUSR2: u32 = 31;
const SIGSEGV: u32 = 11;

static HITS: AtomicU32 = AtomicU32::new(0);
static LAST_SIGNO: AtomicU32 = AtomicU32::new(0);
static LAST_CODE: AtomicU32 = AtomicU32::new(0);

extern "C" fn count(sig: i32) {
    HITS.fetch_add(1, Ordering::SeqCst);
    LAST_SIGNO.store(sig as u32, Ordering::SeqCst);
}

extern "C" fn with_info(sig: i32, info: *mut Siginfo, _ctx: *mut u8) {
    // SAFETY: the kernel passes its siginfo_t, on the handler's stack.
    let info = unsafe { &*info };
    LAST_SIGNO.store(sig as u32 | info.si_signo << 8, Ordering::SeqCst);
    LAST_CODE.store(info.si_code, Ordering::SeqCst);
}

/// The stack overflow's handler: on the alternate stack, `si_addr` must be
/// the guard below the 8 MiB stack limit (or the page above it); it cannot
/// return (the fault would repeat), so it ends the child with the verdict.
extern "C" fn overflow(_sig: i32, info: *mut Siginfo, _ctx: *mut u8) {
    // SAFETY: as above.
    let addr = unsafe { (*info).si_addr };
    let guard = 0xC000_0000u32 - (8 << 20) - 4096;
    let local = 0u8;
    let on_alt = (&raw const local) as usize >= ALT.as_ptr() as usize
        && ((&raw const local) as usize) < ALT.as_ptr() as usize + ALT_SIZE;
    sys::_exit(if addr >= guard && addr < guard + 4096 && on_alt {
        0
    } else {
        1
    })
}

extern "C" fn null_handler(_sig: i32, info: *mut Siginfo, _ctx: *mut u8) {
    // SAFETY: as above.
    let addr = unsafe { (*info).si_addr };
    sys::_exit(if addr == 0 { 0 } else { 1 })
}

const ALT_SIZE: usize = 64 * 1024;

/// The alternate stack: writable memory of the program's own (`.bss`).
struct AltStack(core::cell::UnsafeCell<[u8; ALT_SIZE]>);
// SAFETY: only the kernel writes it (signal frames), on one thread.
unsafe impl Sync for AltStack {}
static ALT: AltStack = AltStack(core::cell::UnsafeCell::new([0; ALT_SIZE]));

impl AltStack {
    fn as_ptr(&self) -> *mut u8 {
        self.0.get().cast()
    }
}

#[inline(never)]
#[allow(unconditional_recursion)]
fn recurse(depth: u32) -> u32 {
    let mut pad = [0u8; 1024];
    pad[0] = depth as u8;
    // SAFETY: none needed: volatile keeps the frame from being optimised away.
    unsafe { core::ptr::write_volatile(&mut pad[1], 1) };
    // Used after the call, so the recursion cannot become a loop.
    let below = recurse(depth + 1);
    core::hint::black_box(&pad);
    below + u32::from(pad[0])
}

fn child(run: impl FnOnce() -> i32) -> Option<ChildEnd> {
    match sys::fork() {
        Ok(0) => sys::_exit(run()),
        Ok(pid) => sys::waitpid(pid as i32, 0).ok().flatten().map(|(_, e)| e),
        Err(_) => None,
    }
}

fn main(_args: Args) -> i32 {
    let mut c = Checker::new("sigtest");

    // A handler runs and returns to the interrupted code.
    let r = sys::sigaction(SIGUSR1, Action::Handler(count), 0, 0);
    c.check("sigaction", r.is_ok(), format_args!("{:?}", r.map(|_| ())));
    let before = core::hint::black_box(0x1234_5678u32);
    let raised = sys::raise(SIGUSR1);
    let after = core::hint::black_box(before);
    c.check(
        "a handler runs on raise and returns, locals intact",
        raised.is_ok() && HITS.load(Ordering::SeqCst) == 1 && after == 0x1234_5678,
        format_args!("{raised:?}, hits {}", HITS.load(Ordering::SeqCst)),
    );
    // SA_SIGINFO.
    let _ = sys::sigaction(SIGUSR2, Action::Info(with_info), 0, 0);
    let _ = sys::raise(SIGUSR2);
    let got = LAST_SIGNO.load(Ordering::SeqCst);
    c.check(
        "a SA_SIGINFO handler gets si_signo and si_code SI_USER",
        got == SIGUSR2 | SIGUSR2 << 8 && LAST_CODE.load(Ordering::SeqCst) == SI_USER,
        format_args!("{got:#x} code {:#x}", LAST_CODE.load(Ordering::SeqCst)),
    );
    // Blocked, pending, delivered when unblocked.
    let _ = sys::sigprocmask(SIG_BLOCK, 1 << SIGUSR1);
    let _ = sys::raise(SIGUSR1);
    let pending = sys::sigpending();
    let hits = HITS.load(Ordering::SeqCst);
    let _ = sys::sigprocmask(SIG_UNBLOCK, 1 << SIGUSR1);
    c.check(
        "a blocked signal waits, then runs when unblocked",
        pending == Ok(1 << SIGUSR1) && hits == 1 && HITS.load(Ordering::SeqCst) == 2,
        format_args!(
            "pending {pending:?}, hits {hits} then {}",
            HITS.load(Ordering::SeqCst)
        ),
    );
    // SA_RESETHAND: the second one kills (SIGUSR1's default).
    let end = child(|| {
        let _ = sys::sigaction(SIGUSR1, Action::Handler(count), 0, SA_RESETHAND);
        let _ = sys::raise(SIGUSR1);
        let _ = sys::raise(SIGUSR1);
        0
    });
    c.check(
        "SA_RESETHAND: once handled, then the default action",
        end == Some(ChildEnd::Signaled(SIGUSR1)),
        format_args!("{end:?}"),
    );
    // EINTR and SA_RESTART for a read that waits.
    for (flags, name) in [(0, "EINTR"), (SA_RESTART, "SA_RESTART")] {
        let Ok((r, w)) = sys::pipe() else {
            c.check("pipe", false, format_args!(""));
            continue;
        };
        let pid = match sys::fork() {
            Ok(0) => {
                let _ = sys::sigaction(SIGUSR1, Action::Handler(count), 0, flags);
                let _ = sys::close(w);
                let mut b = [0u8; 1];
                let got = sys::read(r, &mut b);
                let ok = match flags {
                    0 => got == Err(Errno::EINTR),
                    _ => got == Ok(1) && b[0] == b'x',
                };
                sys::_exit(if ok { 0 } else { 1 })
            }
            Ok(pid) => pid,
            Err(_) => continue,
        };
        let _ = sys::close(r);
        let _ = sys::sleepmsec(50);
        let _ = sys::kill(pid as i32, SIGUSR1);
        let _ = sys::sleepmsec(50);
        // After EINTR the child is gone: EPIPE here, SIGPIPE ignored.
        let _ = sys::signal(13, sys::Disposition::Ignore);
        let _ = sys::write(w, b"x");
        let end = sys::waitpid(pid as i32, 0);
        let _ = sys::close(w);
        c.check(
            name,
            matches!(end, Ok(Some((_, ChildEnd::Exited(0))))),
            format_args!("{end:?}"),
        );
    }
    let end = child(|| {
        let _ = sys::sigaction(SIGSEGV, Action::Info(null_handler), 0, 0);
        // SAFETY: none: the null guard faults, as intended.
        unsafe { core::ptr::read_volatile(core::ptr::null::<u32>()) as i32 }
    });
    c.check(
        "SIGSEGV handler: si_addr 0",
        end == Some(ChildEnd::Exited(0)),
        format_args!("{end:?}"),
    );
    let end = child(|| recurse(0) as i32);
    c.check(
        "without a handler a stack overflow is SIGSEGV",
        end == Some(ChildEnd::Signaled(SIGSEGV)),
        format_args!("{end:?}"),
    );
    // Stack overflow caught on the alternate stack.
    let end = child(|| {
        // SAFETY: ALT is reserved for the handler (nothing else uses it).
        if unsafe { sys::sigaltstack(ALT.as_ptr(), ALT_SIZE) }.is_err() {
            return 2;
        }
        let _ = sys::sigaction(SIGSEGV, Action::Info(overflow), 0, SA_ONSTACK);
        recurse(0) as i32
    });
    c.check(
        "a stack overflow is caught on sigaltstack with si_addr at the guard",
        end == Some(ChildEnd::Exited(0)),
        format_args!("{end:?}"),
    );
    // SIGCHLD for a parent that catches it.
    let before = HITS.load(Ordering::SeqCst);
    let _ = sys::sigaction(20, Action::Handler(count), 0, SA_RESTART);
    let end = child(|| 0);
    let _ = sys::sleepmsec(1);
    c.check(
        "a parent that catches SIGCHLD gets it when a child ends",
        end == Some(ChildEnd::Exited(0)) && HITS.load(Ordering::SeqCst) == before + 1,
        format_args!(
            "{end:?}, hits {} -> {}",
            before,
            HITS.load(Ordering::SeqCst)
        ),
    );
    c.finish()
}
