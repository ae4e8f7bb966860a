//! Leaving QEMU: the last serial line `{"event":"shutdown","status":N}`, then
//! `isa-debug-exit` (QEMU exits with `N << 1 | 1`), then ACPI power-off as a
//! fallback, then a halt.

use super::{cpu, serial};
use core::fmt::Write;

pub const STATUS_OK: u32 = 0;
pub const STATUS_TEST_FAILED: u32 = 1;
pub const STATUS_KERNEL_EXCEPTION: u32 = 2;
pub const STATUS_KERNEL_PANIC: u32 = 3;

const DEBUG_EXIT_PORT: u16 = 0xf4;

pub fn shutdown(status: u32) -> ! {
    cpu::disable_interrupts();
    // Formatted without allocating or locking: we may come from a fault.
    serial::begin_line_unlocked();
    let _ = writeln!(
        serial::Unlocked,
        "{{\"event\":\"shutdown\",\"status\":{status}{}}}",
        kernel::json::nonce_field()
    );
    // SAFETY: the debug-exit device and the ACPI power-off ports belong to this
    // module; the machine is being stopped, so no other driver runs any more.
    unsafe {
        cpu::outl(DEBUG_EXIT_PORT, status);
        // No debug-exit device: QEMU's PIIX4 and ICH9 ACPI power-off ports.
        cpu::outw(0x604, 0x2000);
        cpu::outw(0xb004, 0x2000);
    }
    cpu::halt_forever()
}
