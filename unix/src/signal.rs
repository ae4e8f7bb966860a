//! Signals: which signal a CPU exception in ring 3 raises, a signal's name,
//! the exit status of a process it kills, and what a signal does to a process
//! (its default action, or ignored: a process sets either with `signal`; there
//! are no handlers yet). The numbers are Phantom's (BSD's), from the one ABI.

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

/// The highest signal number.
pub const SIGNAL_MAX: u32 = 31;

/// Whether `signal`'s default action is to do nothing: `SIGCHLD`, `SIGURG`,
/// `SIGWINCH`, `SIGINFO`, `SIGCONT`, and the stop signals (stopping is not
/// supported: a stop signal is ignored).
pub fn ignored_by_default(signal: u32) -> bool {
    use crate::abi::signal::*;
    matches!(
        signal,
        SIGCHLD | SIGURG | SIGWINCH | SIGINFO | SIGCONT | SIGSTOP | SIGTSTP | SIGTTIN | SIGTTOU
    )
}

/// Whether `signal` ends a process whose ignored set is `ignored` (bit `n` for
/// signal `n`). `SIGKILL` always does.
pub fn terminates(signal: u32, ignored: u32) -> bool {
    let bit = 1u32.checked_shl(signal).unwrap_or(0);
    signal == crate::abi::signal::SIGKILL || !(ignored_by_default(signal) || ignored & bit != 0)
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
