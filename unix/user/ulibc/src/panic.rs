//! The panic handler (prints the message to stderr and exits with status
//! 101, as Rust's std does) and the empty `rust_eh_personality` the
//! precompiled `core` refers to even with `panic = "abort"`.

#[cfg(not(test))]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    crate::eprintln!("{}: panic: {}", crate::crt0::args().program(), info);
    crate::sys::_exit(101)
}

/// Never called: nothing unwinds with `panic = "abort"`.
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub extern "C" fn rust_eh_personality() {}
