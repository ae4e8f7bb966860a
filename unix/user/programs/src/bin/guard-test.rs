//! `guard-test CASE`: one guard per run (each case its own boot
//! module, since there is no fork yet). The "must die" cases print
//! `NOT KILLED` and exit 0 if the access returns; the kernel must kill them
//! with SIGSEGV (status 139) and name the guard. Cases, for phantom-unix's
//! layout (stack top 0xC0000000, `RLIMIT_STACK` 8 MiB):
//!
//! - `null`: read address 0 (page 0 is never mapped) — must die;
//! - `brk`: write the page just above the break (the guard above the
//!   break) — must die;
//! - `stack-top`: write 0xC0000000 (the guard above the stack top) — must
//!   die;
//! - `stack-limit`: write 0xC0000000 − 8 MiB − 4096 (the guard below the
//!   stack limit) — must die;
//! - `stack-deep`: write 0xC0000000 − 8 MiB + 16, far below the current
//!   stack but inside its limit — the stack must grow there; passes and
//!   exits 0;
//! - `read-guard`: `read` from `/dev/zero` into a 16-byte buffer whose last 8
//!   bytes are the guard above the stack — `EFAULT` or a short count of at
//!   most 8, never a write into the guard; passes and exits 0.

#![no_std]
#![no_main]

use ulibc::malloc::sbrk;
use ulibc::prelude::*;
use ulibc::sys::raw;

ulibc::entry!(main);

const STACK_TOP: usize = 0xC000_0000;
const STACK_LIMIT: usize = 8 << 20;
const PAGE: usize = 4096;

fn touch(addr: usize) -> u32 {
    // SAFETY: deliberately touches a guard (or, for `stack-deep`, the
    // stack's reserved range); the kernel decides.
    unsafe {
        let p = addr as *mut u32;
        p.write_volatile(0x6A6A_6A6A);
        p.read_volatile()
    }
}

fn main(args: Args) -> i32 {
    let case = args.str(1).unwrap_or("");
    let local = 0u8;
    if case.starts_with("stack") || case == "read-guard" {
        let sp = &raw const local as usize;
        if !(STACK_TOP - STACK_LIMIT..STACK_TOP).contains(&sp) {
            println!(
                "guard-test: stack at {sp:#x}: not phantom-unix's layout, case {case} skipped"
            );
            return 0;
        }
    }
    println!("guard-test: case {case}");
    match case {
        "null" => {
            // SAFETY: reads page 0; the kernel must kill us.
            let v = unsafe { core::ptr::null::<u32>().read_volatile() };
            programs::not_killed("guard-test", format_args!("null: read {v:#x} at 0"))
        }
        "brk" => match sbrk(0) {
            Ok(b) => {
                let guard = b.next_multiple_of(PAGE);
                touch(guard);
                programs::not_killed(
                    "guard-test",
                    format_args!("brk: wrote {guard:#x}, above the break {b:#x}"),
                )
            }
            Err(e) => {
                eprintln!("guard-test: sbrk(0): {e}");
                1
            }
        },
        "stack-top" => {
            touch(STACK_TOP);
            programs::not_killed(
                "guard-test",
                format_args!("stack-top: wrote {STACK_TOP:#x}"),
            )
        }
        "stack-limit" => {
            let a = STACK_TOP - STACK_LIMIT - PAGE;
            touch(a);
            programs::not_killed("guard-test", format_args!("stack-limit: wrote {a:#x}"))
        }
        "stack-deep" => {
            let a = STACK_TOP - STACK_LIMIT + 16;
            let v = touch(a);
            ulibc::io::test_line(
                "guard-test",
                v == 0x6A6A_6A6A,
                "stack-deep: the stack grew to its limit",
            );
            i32::from(v != 0x6A6A_6A6A)
        }
        "read-guard" => {
            let buf = STACK_TOP - 8;
            let r = match File::open_read(c"/dev/zero") {
                // SAFETY: 8 bytes of our stack's top page, then the guard;
                // the kernel must not write into the guard.
                Ok(f) => unsafe { raw::read(f.fd(), buf as *mut u8, 16) },
                Err(e) => Err(e),
            };
            let ok = matches!(r, Err(Errno::EFAULT)) || matches!(r, Ok(n) if n <= 8);
            let detail = ulibc::string::format_array::<96>(format_args!(
                "read into {buf:#x}, 16 bytes: {r:?}"
            ));
            ulibc::io::test_line("guard-test", ok, detail.as_str());
            i32::from(!ok)
        }
        other => {
            eprintln!(
                "guard-test: unknown case {other:?} (null, brk, stack-top, stack-limit, stack-deep, read-guard)"
            );
            2
        }
    }
}
