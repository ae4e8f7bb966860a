//! The kernel side of the syscall gate: takes the number from `eax` and the
//! user stack pointer from the trap frame, runs the call in the `unix` crate
//! (which reads the cdecl arguments at `[esp+4]…` through checked copies),
//! and writes the result to `eax` and the errno to `edx` (docs/abi.md).

use super::trap::TrapFrame;
use super::userland;

/// Handles one syscall; the result goes back in `eax`/`edx`.
pub fn handle(frame: &mut TrapFrame) {
    let (eax, edx) = userland::syscall(frame);
    frame.rax = u64::from(eax);
    frame.rdx = u64::from(edx);
    userland::deliver_signal(frame);
}
