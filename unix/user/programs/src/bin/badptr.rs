//! `badptr`: every syscall given a bad user pointer must fail with `EFAULT`
//! — never a kernel fault, never a partial effect on memory it must not
//! touch. Checks, each printed on its own line:
//!
//! - `write(1, p, n)` from the null page (0x10), the stack's top guard
//!   (0xC0000000), the last page (0xFFFFF000), a range wrapping past 4 GiB
//!   (0xFFFFFFFE), the kernel's physical load address (0x00100000, not
//!   mapped here), another process's page (0x30000000, mapped only by
//!   `secret`); a buffer running from our last `.bss` page into the
//!   unmapped page above it (`_end - 2`, 8 bytes, into a `/tmp` file) gives
//!   `EFAULT` or a short count of at most the 2 readable bytes (Linux);
//! - `read` from `/dev/zero` into the null page and into our read-only
//!   `.rodata` (which must stay unchanged);
//! - `open` of a path at 0x10 and of a path with no NUL before unmapped
//!   memory; `stat`, `fstat`, `uname`, `time`, `clock_gettime`,
//!   `getdents`, `ioctl(TCGETS)` with bad output pointers;
//! - the call gate with `esp` itself bad (0x10, 0xFFFFFFFC, `_end - 8`):
//!   the arguments cannot be read.
//!
//! Ends with `{"test":"badptr","result":"pass"|"fail",…}`; exit 0 if all
//! passed, else 1.

#![no_std]
#![no_main]

use core::sync::atomic::{AtomicU8, Ordering};
use programs::Checker;
use ulibc::prelude::*;
use ulibc::string::with_cstr;
use ulibc::sys::{self, raw};
use ulibc::syscall::nr;

ulibc::entry!(main);

/// The page right below `_end`: the last page of `.bss` (see `link.ld`).
#[repr(C, align(4096))]
struct TailPage([AtomicU8; 4096]);

#[unsafe(link_section = ".phantom_tail")]
static TAIL: TailPage = TailPage([const { AtomicU8::new(0) }; 4096]);

/// Read-only data that a faulty kernel might overwrite.
static RODATA: [u8; 16] = *b"read-only bytes!";

// `u64 badstack(u32 esp, u32 nr)`: makes syscall `nr` with `esp` set to the
// given value (so the arguments the kernel reads at esp+4… are bad), then
// restores the stack. Returns edx:eax.
#[cfg(target_arch = "x86")]
core::arch::global_asm!(
    ".pushsection .text.badptr_badstack,\"ax\",@progbits",
    ".globl badptr_badstack",
    "badptr_badstack:",
    "    pushl %ebp",
    "    movl %esp, %ebp",
    "    movl 12(%ebp), %eax",
    "    movl 8(%ebp), %esp",
    "    lcall $7, $0",
    "    movl %ebp, %esp",
    "    popl %ebp",
    "    ret",
    ".popsection",
    options(att_syntax),
);

unsafe extern "C" {
    fn badptr_badstack(esp: usize, nr: u32) -> u64;
}

fn main(_args: Args) -> i32 {
    let mut c = Checker::new("badptr");
    let end = (&raw const TAIL as usize) + 4096;
    assert_eq!(end % 4096, 0, "link.ld must put .phantom_tail last in .bss");

    for (what, addr, len) in [
        ("write from the null page", 0x10usize, 5usize),
        ("write from the stack top guard 0xC0000000", 0xC000_0000, 5),
        ("write from the last page 0xFFFFF000", 0xFFFF_F000, 16),
        ("write wrapping past 4 GiB", 0xFFFF_FFFE, 5),
        (
            "write from 0x00100000 (kernel load address)",
            0x0010_0000,
            16,
        ),
        (
            "write from 0x30000000 (only `secret` maps it)",
            0x3000_0000,
            16,
        ),
    ] {
        // SAFETY: a bad pointer on purpose; the kernel must refuse it.
        let r = unsafe { raw::write(STDOUT, addr as *const u8, len) };
        c.expect_err(what, r, Errno::EFAULT);
    }

    // A buffer whose first 2 bytes are ours and the rest unmapped: EFAULT,
    // or (as Linux may) a short count of just the readable bytes — never
    // more. Into a /tmp file, so the result can be checked.
    match with_cstr(b"/tmp/badptr", |p| {
        File::open(p, O_CREAT | O_RDWR | O_TRUNC, 0o644)
    }) {
        Ok(f) => {
            // SAFETY: the first 2 bytes are the end of our .bss; the kernel
            // must not read past them.
            let r = unsafe { raw::write(f.fd(), (end - 2) as *const u8, 8) };
            let size = f.stat().map(|s| s.st_size);
            c.check(
                "write running off .bss into unmapped memory",
                matches!(r, Err(Errno::EFAULT)) && size == Ok(0)
                    || matches!(r, Ok(n) if n <= 2 && size == Ok(n)),
                format_args!("{r:?}, file size {size:?} (want EFAULT, or at most 2 bytes)"),
            );
        }
        Err(e) => {
            c.check("create /tmp/badptr", false, format_args!("{e}"));
        }
    }

    match File::open_read(c"/dev/zero") {
        Ok(zero) => {
            // SAFETY: the kernel must refuse the null page.
            let r = unsafe { raw::read(zero.fd(), 0x10 as *mut u8, 4) };
            c.expect_err("read into the null page", r, Errno::EFAULT);
            let ro = RODATA.as_ptr() as *mut u8;
            // SAFETY: read-only memory: the kernel must refuse to write it.
            let r = unsafe { raw::read(zero.fd(), ro, 4) };
            c.expect_err("read into read-only .rodata", r, Errno::EFAULT);
            // SAFETY: reading our own static (volatile: a faulty kernel may
            // have changed it behind the compiler's back).
            let now: [u8; 16] = unsafe { core::ptr::read_volatile(&raw const RODATA) };
            c.check(
                "read-only .rodata unchanged",
                now == *b"read-only bytes!",
                format_args!("{}", Bytes(&now)),
            );
        }
        Err(e) => {
            c.check("open /dev/zero", false, format_args!("{e}"));
        }
    }

    // SAFETY: bad pointers, refused by the kernel.
    c.expect_err(
        "open path at 0x10",
        unsafe { raw::open(0x10 as *const u8, O_RDONLY, 0) },
        Errno::EFAULT,
    );
    // A path with no NUL before unmapped memory: fill the tail page.
    for b in TAIL.0.iter() {
        b.store(b'a', Ordering::Relaxed);
    }
    let unterminated = end - 64;
    // SAFETY: the kernel must stop at the unmapped page and refuse.
    let r = unsafe { raw::open(unterminated as *const u8, O_RDONLY, 0) };
    c.expect_err(
        "open path without NUL before unmapped memory",
        r,
        Errno::EFAULT,
    );
    // SAFETY: a bad pointer on purpose; the kernel must refuse it.
    let r = unsafe { raw::stat(unterminated as *const u8, 0x10 as *mut Stat) };
    c.expect_err("stat path without NUL, bad buffer", r, Errno::EFAULT);

    // SAFETY: a bad pointer on purpose; the kernel must refuse it.
    let r = unsafe { raw::stat(c"/boot".as_ptr().cast(), 0x10 as *mut Stat) };
    c.expect_err("stat into the null page", r, Errno::EFAULT);
    // SAFETY: a bad pointer on purpose; the kernel must refuse it.
    let r = unsafe { raw::stat(c"/boot".as_ptr().cast(), 0xC000_0000 as *mut Stat) };
    c.expect_err("stat into the stack top guard", r, Errno::EFAULT);
    // SAFETY: a bad pointer on purpose; the kernel must refuse it.
    let r = unsafe { raw::fstat(STDOUT, 0x10 as *mut Stat) };
    c.expect_err("fstat into the null page", r, Errno::EFAULT);
    // SAFETY: a bad pointer on purpose; the kernel must refuse it.
    let r = unsafe { raw::fstat(STDOUT, RODATA.as_ptr() as *mut Stat) };
    c.expect_err("fstat into read-only .rodata", r, Errno::EFAULT);
    // SAFETY: a bad pointer on purpose; the kernel must refuse it.
    let r = unsafe { raw::uname(0x10 as *mut Utsname) };
    c.expect_err("uname into the null page", r, Errno::EFAULT);
    // SAFETY: a bad pointer on purpose; the kernel must refuse it.
    let r = unsafe { raw::uname((end - 100) as *mut Utsname) };
    c.expect_err("uname running off .bss", r, Errno::EFAULT);
    // SAFETY: a bad pointer on purpose; the kernel must refuse it.
    let r = unsafe { raw::time(0x10 as *mut u64) };
    c.expect_err("time into the null page", r, Errno::EFAULT);
    // SAFETY: a bad pointer on purpose; the kernel must refuse it.
    let r = unsafe { raw::clock_gettime(CLOCK_MONOTONIC, 0xC000_0000 as *mut Timespec) };
    c.expect_err("clock_gettime into the guard", r, Errno::EFAULT);
    // SAFETY: a bad pointer on purpose; the kernel must refuse it.
    let r = unsafe { raw::ioctl(STDOUT, TIOCGETA, 0x10, Termios::SIZE) };
    c.expect_err("ioctl(TCGETS) into the null page", r, Errno::EFAULT);
    match sys::open(c"/boot", O_RDONLY | O_DIRECTORY, 0) {
        Ok(dir) => {
            // SAFETY: a bad pointer on purpose; the kernel must refuse it.
            let r = unsafe { raw::getdents(dir, 0x10 as *mut u8, 1024) };
            c.expect_err("getdents into the null page", r, Errno::EFAULT);
            let _ = sys::close(dir);
        }
        Err(e) => {
            c.check("open /boot", false, format_args!("{e}"));
        }
    }

    // With esp = end - 8 the kernel finds fd 1 at esp+4 (still mapped) and
    // the buffer pointer at esp+8 = end (unmapped): EFAULT whatever order
    // it reads the arguments in.
    for (i, b) in [1u8, 0, 0, 0].into_iter().enumerate() {
        TAIL.0[4092 + i].store(b, Ordering::Relaxed);
    }
    for (what, esp) in [
        ("syscall with esp in the null page", 0x10usize),
        (
            "syscall with arguments past 4 GiB (esp 0xFFFFFFFC)",
            0xFFFF_FFFC,
        ),
        ("syscall with arguments running off .bss", end - 8),
    ] {
        // SAFETY: the stub restores esp; the kernel must refuse to read the
        // arguments.
        let r = ulibc::syscall::split(unsafe { badptr_badstack(esp, nr::WRITE) });
        c.expect_err(what, r, Errno::EFAULT);
    }
    c.finish()
}
