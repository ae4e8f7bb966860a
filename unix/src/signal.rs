//! Signals, as far as the kernel raises them today: which signal a CPU
//! exception in ring 3 raises, a signal's name, and the exit status of a
//! process it kills. The numbers are Phantom's (BSD's), from the one ABI.

use crate::abi::signal::{self, SIGBUS, SIGFPE, SIGILL, SIGSEGV, SIGTRAP};

/// The signal an x86 exception `vector` raised in ring 3 sends: divide error,
/// x87/SIMD errors and device-not-available are `SIGFPE`; debug and
/// breakpoint `SIGTRAP`; invalid opcode `SIGILL`; alignment check `SIGBUS`;
/// everything else (#GP, #SS, #NP, a bound range, …) `SIGSEGV`.
pub fn for_exception(vector: u64) -> u32 {
    match vector {
        0 | 7 | 16 | 19 => SIGFPE,
        1 | 3 => SIGTRAP,
        6 => SIGILL,
        17 => SIGBUS,
        _ => SIGSEGV,
    }
}

/// The name of `signal` ("SIG?" for a number the ABI does not define).
pub fn name(signal: u32) -> &'static str {
    signal::ALL
        .iter()
        .find(|&&(_, value)| value == u64::from(signal))
        .map_or("SIG?", |&(name, _)| name)
}

/// The exit status of a process killed by `signal`, as a shell shows it.
pub fn killed_status(signal: u32) -> u32 {
    crate::process::Ended::Killed(signal).shell_status()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::signal::SIGKILL;

    #[test]
    fn exceptions_raise_bsd_signals() {
        assert_eq!(for_exception(0), 8);
        assert_eq!(for_exception(3), 5);
        assert_eq!(for_exception(6), 4);
        assert_eq!(for_exception(17), 10, "SIGBUS is 10 on BSD, not Linux's 7");
        assert_eq!(for_exception(13), 11);
        assert_eq!(for_exception(14), 11);
    }

    #[test]
    fn names_and_statuses() {
        assert_eq!(name(SIGSEGV), "SIGSEGV");
        assert_eq!(name(SIGBUS), "SIGBUS");
        assert_eq!(name(7), "SIGEMT");
        assert_eq!(name(SIGKILL), "SIGKILL");
        assert_eq!(name(0), "SIG?");
        assert_eq!(name(1000), "SIG?");
        assert_eq!(killed_status(SIGKILL), 137);
    }
}
