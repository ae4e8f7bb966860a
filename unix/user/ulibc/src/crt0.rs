//! crt0: the process entry, arguments, environment and exit.
//!
//! The kernel starts a process at `_start` with (`docs/abi.md`, "Process
//! start") `[esp]` = `0xFFFFFFFF` (a fake return address), `[esp+4]` =
//! `argc`, `[esp+8]` = `argv`, `[esp+12]` = `envp`, every general register 0.
//! `_start` clears `ebp` (the end of the frame chain), aligns the stack to
//! 16 bytes as the i386 System V ABI wants at a call, and calls
//! `start(argc, argv, envp)`, which saves them and calls the program's
//! `main` — declared with [`entry!`] — then [`exit`]s with its result.

use crate::string::cstr_at;
use core::ffi::{CStr, c_char};
use core::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

#[cfg(all(target_arch = "x86", not(test)))]
core::arch::global_asm!(
    ".pushsection .text._start,\"ax\",@progbits",
    ".globl _start",
    ".type _start,@function",
    "_start:",
    "    xorl %ebp, %ebp",
    "    movl 4(%esp), %eax",
    "    movl 8(%esp), %ecx",
    "    movl 12(%esp), %edx",
    "    andl $-16, %esp",
    "    subl $4, %esp",
    "    pushl %edx",
    "    pushl %ecx",
    "    pushl %eax",
    "    call {start}",
    "    ud2",
    ".size _start, . - _start",
    ".popsection",
    start = sym start,
    options(att_syntax),
);

static ARGC: AtomicUsize = AtomicUsize::new(0);
static ARGV: AtomicPtr<*const c_char> = AtomicPtr::new(core::ptr::null_mut());
static ENVP: AtomicPtr<*const c_char> = AtomicPtr::new(core::ptr::null_mut());

#[cfg(not(test))]
unsafe extern "Rust" {
    /// The program's `main`, defined by [`entry!`].
    fn __ulibc_main(args: Args) -> i32;
}

/// Called by `_start` with the kernel's `argc`, `argv`, `envp`.
#[cfg(not(test))]
extern "C" fn start(argc: i32, argv: *const *const c_char, envp: *const *const c_char) -> ! {
    ARGC.store(argc.max(0) as usize, Ordering::Relaxed);
    ARGV.store(argv.cast_mut(), Ordering::Relaxed);
    ENVP.store(envp.cast_mut(), Ordering::Relaxed);
    // SAFETY: `__ulibc_main` is the program's `main` with this signature,
    // defined by `entry!` (the link fails without it).
    let code = unsafe { __ulibc_main(args()) };
    exit(code)
}

/// Declares the program's `main`: `entry!(main)` with
/// `fn main(args: Args) -> i32`. The result is the exit status.
///
/// ```ignore
/// #![no_std]
/// #![no_main]
/// use ulibc::prelude::*;
/// ulibc::entry!(main);
/// fn main(args: Args) -> i32 {
///     println!("{} arguments", args.len());
///     0
/// }
/// ```
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        #[doc(hidden)]
        #[unsafe(no_mangle)]
        pub fn __ulibc_main(args: $crate::Args) -> i32 {
            let main: fn($crate::Args) -> i32 = $main;
            main(args)
        }
    };
}

/// The command-line arguments (`argv[0]` is the program's name).
/// `Copy`; iterate with [`Args::iter`] or `for a in args`.
#[derive(Clone, Copy, Debug)]
pub struct Args {
    argc: usize,
    argv: *const *const c_char,
}

/// The arguments the process started with.
pub fn args() -> Args {
    let argv = ARGV.load(Ordering::Relaxed);
    // SAFETY: ARGV and ARGC were set together from the kernel's start stack.
    unsafe { Args::from_raw(ARGC.load(Ordering::Relaxed), argv) }
}

impl Args {
    /// Arguments from a C `argc`/`argv` pair. A null `argv` is empty; a null
    /// entry before `argc` ends the list there.
    ///
    /// # Safety
    /// `argv` must be null or point to `argc` pointers, each null or to a
    /// NUL-terminated string, all living for the rest of the program.
    pub unsafe fn from_raw(argc: usize, argv: *const *const c_char) -> Self {
        let mut n = 0;
        if !argv.is_null() {
            // SAFETY: per the contract, `argv` holds `argc` readable entries.
            while n < argc && !unsafe { *argv.add(n) }.is_null() {
                n += 1;
            }
        }
        Self { argc: n, argv }
    }

    /// The number of arguments (`argc`).
    pub fn len(&self) -> usize {
        self.argc
    }

    /// No arguments at all (not even a program name)?
    pub fn is_empty(&self) -> bool {
        self.argc == 0
    }

    /// Argument `i` as a C string.
    pub fn get(&self, i: usize) -> Option<&'static CStr> {
        if i >= self.argc {
            return None;
        }
        // SAFETY: `i < argc`, and `from_raw` checked the entry is non-null
        // and NUL-terminated, living forever.
        Some(unsafe { cstr_at(*self.argv.add(i)) })
    }

    /// Argument `i` as bytes (without the NUL).
    pub fn bytes(&self, i: usize) -> Option<&'static [u8]> {
        self.get(i).map(CStr::to_bytes)
    }

    /// Argument `i` as `&str`; `None` if missing or not UTF-8.
    pub fn str(&self, i: usize) -> Option<&'static str> {
        self.get(i).and_then(|c| c.to_str().ok())
    }

    /// The program's name (`argv[0]`), or `""`.
    pub fn program(&self) -> &'static str {
        self.str(0).unwrap_or("")
    }

    /// Iterates over every argument, `argv[0]` included.
    pub fn iter(&self) -> ArgsIter {
        ArgsIter {
            args: *self,
            next: 0,
        }
    }
}

impl IntoIterator for Args {
    type Item = &'static CStr;
    type IntoIter = ArgsIter;
    fn into_iter(self) -> ArgsIter {
        self.iter()
    }
}

/// Iterator over [`Args`].
#[derive(Clone, Debug)]
pub struct ArgsIter {
    args: Args,
    next: usize,
}

impl Iterator for ArgsIter {
    type Item = &'static CStr;
    fn next(&mut self) -> Option<&'static CStr> {
        let a = self.args.get(self.next)?;
        self.next += 1;
        Some(a)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.args.len() - self.next;
        (left, Some(left))
    }
}

impl ExactSizeIterator for ArgsIter {}

/// The environment, `NAME=value` strings (empty for boot modules).
pub fn env() -> EnvIter {
    EnvIter {
        envp: ENVP.load(Ordering::Relaxed),
        next: 0,
    }
}

/// Iterator over the environment.
#[derive(Clone, Debug)]
pub struct EnvIter {
    envp: *const *const c_char,
    next: usize,
}

impl Iterator for EnvIter {
    type Item = &'static CStr;
    fn next(&mut self) -> Option<&'static CStr> {
        if self.envp.is_null() {
            return None;
        }
        // SAFETY: `envp` is the kernel's NULL-terminated array; we stop at
        // the NULL.
        let p = unsafe { *self.envp.add(self.next) };
        if p.is_null() {
            return None;
        }
        self.next += 1;
        // SAFETY: a non-null entry is a NUL-terminated string on the stack.
        Some(unsafe { cstr_at(p) })
    }
}

/// `getenv(name)`: the value of `name=value` in the environment.
pub fn getenv(name: &[u8]) -> Option<&'static [u8]> {
    env().find_map(|kv| {
        let kv = kv.to_bytes();
        kv.strip_prefix(name)
            .and_then(|rest| rest.strip_prefix(b"="))
    })
}

/// Most `atexit` handlers (C requires at least 32).
pub const ATEXIT_MAX: usize = 32;
static ATEXIT: [AtomicUsize; ATEXIT_MAX] = [const { AtomicUsize::new(0) }; ATEXIT_MAX];
static ATEXIT_COUNT: AtomicUsize = AtomicUsize::new(0);

/// `atexit(f)`: `f` runs at [`exit`], the last registered first.
/// `ENOMEM` when [`ATEXIT_MAX`] handlers are registered.
pub fn atexit(f: fn()) -> Result<(), crate::Errno> {
    let n = ATEXIT_COUNT.load(Ordering::Relaxed);
    if n >= ATEXIT_MAX {
        return Err(crate::Errno::ENOMEM);
    }
    ATEXIT[n].store(f as *const () as usize, Ordering::Relaxed);
    ATEXIT_COUNT.store(n + 1, Ordering::Relaxed);
    Ok(())
}

/// Runs the `atexit` handlers, last registered first (each once, even if
/// a handler calls `exit` itself).
pub fn run_atexit() {
    loop {
        let n = ATEXIT_COUNT.load(Ordering::Relaxed);
        if n == 0 {
            break;
        }
        ATEXIT_COUNT.store(n - 1, Ordering::Relaxed);
        let f = ATEXIT[n - 1].load(Ordering::Relaxed);
        // SAFETY: the slot holds a `fn()` stored by `atexit`.
        let f: fn() = unsafe { core::mem::transmute::<usize, fn()>(f) };
        f();
    }
}

/// `exit(status)`: runs the `atexit` handlers, then `_exit(status)`.
/// (Output is unbuffered between calls: nothing to flush.)
pub fn exit(status: i32) -> ! {
    run_atexit();
    crate::sys::_exit(status)
}

/// Ends the process with an invalid instruction (`ud2`): the kernel kills
/// it with `SIGILL`. Used where continuing is impossible.
pub fn abort() -> ! {
    #[cfg(target_arch = "x86")]
    // SAFETY: `ud2` raises #UD; it touches no memory.
    unsafe {
        core::arch::asm!("ud2", options(nomem, nostack, noreturn))
    }
    #[cfg(not(target_arch = "x86"))]
    panic!("abort")
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::ptr::null;

    #[test]
    fn args_from_raw() {
        let a = c"prog";
        let b = c"x y";
        let argv = [a.as_ptr(), b.as_ptr(), null()];
        // SAFETY: argv holds two valid strings and a NULL.
        let args = unsafe { Args::from_raw(2, argv.as_ptr()) };
        assert_eq!(args.len(), 2);
        assert_eq!(args.program(), "prog");
        assert_eq!(args.str(1), Some("x y"));
        assert_eq!(args.bytes(1), Some(&b"x y"[..]));
        assert_eq!(args.get(2), None);
        assert_eq!(args.iter().count(), 2);
        assert_eq!(args.iter().len(), 2);
        // argc larger than the list: stops at the NULL.
        // SAFETY: as above; the NULL ends the list.
        let args = unsafe { Args::from_raw(5, argv.as_ptr()) };
        assert_eq!(args.len(), 2);
        // SAFETY: a null argv is allowed.
        assert!(unsafe { Args::from_raw(3, null()) }.is_empty());
    }

    static RAN: AtomicUsize = AtomicUsize::new(0);

    #[test]
    fn atexit_order() {
        fn first() {
            assert_eq!(RAN.swap(2, Ordering::Relaxed), 1);
        }
        fn second() {
            assert_eq!(RAN.swap(1, Ordering::Relaxed), 0);
        }
        atexit(first).unwrap();
        atexit(second).unwrap();
        run_atexit();
        assert_eq!(RAN.load(Ordering::Relaxed), 2);
    }
}
