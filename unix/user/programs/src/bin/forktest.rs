//! `forktest`: `fork` and `waitpid` from a program's side. The child's pid and
//! parent, memory isolated both ways after a fork (globals, heap, stack, a big
//! touched mapping), descriptors sharing their open file (one offset),
//! `waitpid` statuses (`_exit(7)`, death by SIGSEGV), `WNOHANG`, `ECHILD`, and
//! many fork+exit+wait rounds (the kernel checks no frame leaked at the end).
//! One line per check, then `{"test":"forktest",…}`; exit 0 if all passed.

#![no_std]
#![no_main]

extern crate alloc;

use programs::Checker;
use ulibc::prelude::*;
use ulibc::sys::{self, ChildEnd};

ulibc::entry!(main);

static mut GLOBAL: u32 = 1;

/// Runs `child` in a forked child that exits with its result; returns how
/// the child ended.
fn in_child(c: &mut Checker, what: &str, child: impl FnOnce() -> i32) -> Option<ChildEnd> {
    match sys::fork() {
        Ok(0) => sys::_exit(child()),
        Ok(pid) => match sys::waitpid(pid as i32, 0) {
            Ok(Some((p, end))) if p == pid => Some(end),
            other => {
                c.check(what, false, format_args!("waitpid: {other:?}"));
                None
            }
        },
        Err(e) => {
            c.check(what, false, format_args!("fork: {e:?}"));
            None
        }
    }
}

fn main(_args: Args) -> i32 {
    let mut c = Checker::new("forktest");
    let me = sys::getpid().unwrap_or(0);

    // Ids.
    let end = in_child(&mut c, "child ids", || {
        let ok = sys::getppid() == Ok(me) && sys::getpid().is_ok_and(|p| p != me);
        if ok { 0 } else { 1 }
    });
    c.check(
        "child: own pid, parent is the caller",
        end == Some(ChildEnd::Exited(0)),
        format_args!("{end:?}"),
    );

    // Memory: the child's writes stay in the child; the parent's in the parent.
    let heap = alloc::boxed::Box::new([7u8; 64]);
    let mut stack_word = 5u32;
    let big = sys::mmap_anon(8 << 20, 3).unwrap_or(core::ptr::null_mut());
    let pages = if big.is_null() { 0 } else { (8 << 20) / 4096 };
    for i in 0..pages {
        // SAFETY: inside the 8 MiB read-write mapping just made.
        unsafe { big.add(i * 4096).write_volatile(i as u8) };
    }
    let heap_ptr = heap.as_ptr() as *mut u8;
    let stack_ptr = &raw mut stack_word;
    let end = in_child(&mut c, "child writes", || {
        // SAFETY: the child's own copies of the parent's objects.
        unsafe {
            let saw = GLOBAL == 1 && *heap_ptr == 7 && *stack_ptr == 5;
            GLOBAL = 2;
            *heap_ptr = 8;
            *stack_ptr = 6;
            let mut big_ok = true;
            for i in 0..pages {
                big_ok &= big.add(i * 4096).read_volatile() == i as u8;
                big.add(i * 4096).write_volatile(0xee);
            }
            if saw && big_ok { 0 } else { 1 }
        }
    });
    c.check(
        "the child sees the parent's memory as it was",
        end == Some(ChildEnd::Exited(0)),
        format_args!("{end:?}"),
    );
    // SAFETY: the parent's own objects.
    let (g, h, s) = unsafe { (GLOBAL, *heap_ptr, stack_word) };
    let mut big_ok = true;
    for i in 0..pages {
        // SAFETY: inside the mapping.
        big_ok &= unsafe { big.add(i * 4096).read_volatile() } == i as u8;
    }
    c.check(
        "the child's writes are invisible to the parent",
        g == 1 && h == 7 && s == 5 && big_ok && pages > 0,
        format_args!("global {g}, heap {h}, stack {s}, 8 MiB intact {big_ok}"),
    );
    // The parent writes after the fork; a child forked before does not see it.
    match sys::fork() {
        Ok(0) => {
            sys::sleepmsec(30).ok();
            // SAFETY: the child's copy.
            let v = unsafe { GLOBAL };
            sys::_exit(if v == 1 { 0 } else { 1 })
        }
        Ok(pid) => {
            // SAFETY: the parent's own global.
            unsafe { GLOBAL = 3 };
            let r = sys::waitpid(pid as i32, 0);
            c.check(
                "the parent's writes are invisible to the child",
                r == Ok(Some((pid, ChildEnd::Exited(0)))),
                format_args!("{r:?}"),
            );
        }
        Err(e) => {
            c.check("fork", false, format_args!("{e:?}"));
        }
    }

    // Descriptors: parent and child share the open file and its offset.
    let path = c"/tmp/forktest";
    match File::open(path, O_RDWR | O_CREAT | O_TRUNC, 0o644) {
        Ok(f) => {
            let fd = f.fd();
            let end = in_child(&mut c, "child writes a file", || {
                match File::from_fd(fd).write_all(b"child,") {
                    Ok(()) => 0,
                    Err(_) => 1,
                }
            });
            let wrote = f.write_all(b"parent");
            let mut buf = [0u8; 32];
            let n = f.seek(0, 0).and_then(|_| f.read(&mut buf)).unwrap_or(0);
            c.check(
                "a shared descriptor has one offset",
                end == Some(ChildEnd::Exited(0)) && wrote.is_ok() && &buf[..n] == b"child,parent",
                format_args!("{end:?}, {:?}", Bytes(&buf[..n])),
            );
        }
        Err(e) => {
            c.check("open /tmp/forktest", false, format_args!("{e:?}"));
        }
    }

    // Statuses.
    let end = in_child(&mut c, "exit 7", || 7);
    c.check(
        "WEXITSTATUS 7",
        end == Some(ChildEnd::Exited(7)),
        format_args!("{end:?}"),
    );
    let end = in_child(&mut c, "segv", || {
        // SAFETY: none: the null guard kills the child, as intended.
        unsafe { core::ptr::null_mut::<u32>().write_volatile(1) };
        0
    });
    c.check(
        "WTERMSIG 11",
        end == Some(ChildEnd::Signaled(11)),
        format_args!("{end:?}"),
    );
    // WNOHANG, then a blocking wait for any child.
    match sys::fork() {
        Ok(0) => {
            sys::sleepmsec(50).ok();
            sys::_exit(0)
        }
        Ok(pid) => {
            let early = sys::waitpid(-1, 1);
            let late = sys::waitpid(-1, 0);
            c.check(
                "WNOHANG answers at once, then waitpid(-1) waits",
                early == Ok(None) && late == Ok(Some((pid, ChildEnd::Exited(0)))),
                format_args!("{early:?} {late:?}"),
            );
        }
        Err(e) => {
            c.check("fork", false, format_args!("{e:?}"));
        }
    }
    let none = sys::waitpid(-1, 0);
    c.check(
        "ECHILD without children",
        none == Err(Errno::ECHILD),
        format_args!("{none:?}"),
    );

    // Many rounds.
    let mut rounds = 0;
    for _ in 0..300 {
        match sys::fork() {
            Ok(0) => sys::_exit(0),
            Ok(pid) if sys::waitpid(pid as i32, 0) == Ok(Some((pid, ChildEnd::Exited(0)))) => {
                rounds += 1
            }
            _ => break,
        }
    }
    c.check(
        "300 fork+exit+wait rounds",
        rounds == 300,
        format_args!("{rounds}"),
    );
    c.finish()
}
