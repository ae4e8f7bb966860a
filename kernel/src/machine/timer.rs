//! Time and the legacy interrupt controller: the PIC (remapped to vectors
//! 32–47, routing IRQ 4 to the serial console), the PIT as a periodic tick
//! at [`TICK_HZ`], and the TSC calibrated against the PIT.
//!
//! The PIC reaches the CPU through the local APIC's LINT0 in "virtual wire"
//! mode. SeaBIOS sets that up, qboot does not, so the kernel programs it.

use super::boot::DIRECT_MAP;
use super::cpu;
use core::sync::atomic::{AtomicU64, Ordering};

pub const TICK_HZ: u32 = 100;
const PIT_HZ: u32 = 1_193_182;
const PIC1: u16 = 0x20;
const PIC2: u16 = 0xa0;

/// Writes a port of the PICs (0x20/0x21, 0xA0/0xA1), the PIT (0x40–0x43) or
/// the PIT gate (0x61).
fn port_out(port: u16, value: u8) {
    // SAFETY: callers in this module name only the PIC, PIT and gate ports,
    // which belong to this driver alone; none of them makes a device touch
    // memory.
    unsafe { cpu::outb(port, value) }
}

/// Reads one of [`port_out`]'s ports.
fn port_in(port: u16) -> u8 {
    // SAFETY: as for `port_out`.
    unsafe { cpu::inb(port) }
}

static TICKS: AtomicU64 = AtomicU64::new(0);
static TSC_PER_US: AtomicU64 = AtomicU64::new(1000);

const LAPIC_BASE: u64 = 0xfee0_0000;
const LAPIC_SPURIOUS: u64 = 0xf0;
const LAPIC_LINT0: u64 = 0x350;
const LAPIC_LINT1: u64 = 0x360;

fn lapic_write(register: u64, value: u32) {
    // SAFETY: the local APIC's registers sit at LAPIC_BASE (the reset value
    // of IA32_APIC_BASE, which the kernel never moves), inside the direct
    // map; 32-bit aligned MMIO writes are how they are programmed.
    unsafe { core::ptr::write_volatile((DIRECT_MAP + LAPIC_BASE + register) as *mut u32, value) }
}

/// Enables the local APIC with LINT0 as ExtINT (the PIC's output) and LINT1
/// as NMI: the "virtual wire" of the MP specification.
fn enable_virtual_wire() {
    lapic_write(LAPIC_SPURIOUS, 0x100 | 0xff);
    lapic_write(LAPIC_LINT0, 0x700);
    lapic_write(LAPIC_LINT1, 0x400);
}

/// Remaps the PICs, starts the PIT and leaves only IRQ 0 (timer) and IRQ 4
/// (COM1) unmasked.
pub fn init() {
    enable_virtual_wire();
    // ICW1..ICW4: edge triggered, cascade, vectors 32 and 40, 8086 mode.
    port_out(PIC1, 0x11);
    port_out(PIC2, 0x11);
    port_out(PIC1 + 1, 32);
    port_out(PIC2 + 1, 40);
    port_out(PIC1 + 1, 4);
    port_out(PIC2 + 1, 2);
    port_out(PIC1 + 1, 1);
    port_out(PIC2 + 1, 1);
    port_out(PIC1 + 1, 0xee);
    port_out(PIC2 + 1, 0xff);

    calibrate_tsc();

    let divisor = PIT_HZ / TICK_HZ;
    port_out(0x43, 0x34); // channel 0, lobyte/hibyte, mode 2 (rate generator)
    port_out(0x40, (divisor & 0xff) as u8);
    port_out(0x40, (divisor >> 8) as u8);
}

/// Measures the TSC over 10 ms of PIT channel 2 (one-shot, polled).
fn calibrate_tsc() {
    let count = PIT_HZ / 100;
    let gate = port_in(0x61);
    port_out(0x61, (gate & !0x02) | 0x01);
    port_out(0x43, 0xb0); // channel 2, lobyte/hibyte, mode 0
    port_out(0x42, (count & 0xff) as u8);
    port_out(0x42, (count >> 8) as u8);
    let start = cpu::rdtsc();
    let mut spins = 0u64;
    while port_in(0x61) & 0x20 == 0 && spins < 50_000_000 {
        spins += 1;
    }
    let elapsed = cpu::rdtsc() - start;
    port_out(0x61, gate);
    let per_us = (elapsed / 10_000).max(1);
    TSC_PER_US.store(per_us, Ordering::Relaxed);
    log::debug!("TSC: {per_us} ticks per µs");
}

pub fn tsc_per_us() -> u64 {
    TSC_PER_US.load(Ordering::Relaxed)
}

/// Nanoseconds since kernel entry, from the TSC: unlike [`ticks`], it does not
/// lose time while interrupts are off.
pub fn now_ns() -> u64 {
    let cycles = cpu::rdtsc().saturating_sub(super::boot::entry_tsc());
    cycles.saturating_mul(1000) / tsc_per_us().max(1)
}

/// Timer ticks since the PIT started (the in-kernel tests watch it advance).
#[cfg(feature = "ktests")]
pub fn ticks() -> u64 {
    TICKS.load(Ordering::Relaxed)
}

/// Called by the trap dispatcher for IRQ `irq` (0–15).
pub fn handle_irq(irq: u8) {
    // IRQ 7 and 15 may be spurious: the in-service register says.
    if irq == 7 || irq == 15 {
        let pic = if irq == 7 { PIC1 } else { PIC2 };
        port_out(pic, 0x0b);
        if port_in(pic) & 0x80 == 0 {
            if irq == 15 {
                port_out(PIC1, 0x20);
            }
            return;
        }
    }
    match irq {
        0 => {
            TICKS.fetch_add(1, Ordering::Relaxed);
            super::userland::timer_tick();
        }
        4 => super::serial::receive(super::userland::console_input),
        _ => {}
    }
    if irq >= 8 {
        port_out(PIC2, 0x20);
    }
    port_out(PIC1, 0x20);
}
