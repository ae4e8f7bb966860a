//! COM1: the serial console. Output for the log and the JSON lines, polled;
//! interrupt-safe (the lock is taken with interrupts off) and usable from
//! fault handlers, which bypass the lock.

use super::cpu;
use core::sync::atomic::{AtomicBool, Ordering};
use spin::Mutex;

const COM1: u16 = 0x3f8;

static LOCK: Mutex<()> = Mutex::new(());

/// Writes COM1's register `offset`.
fn com1_out(offset: u16, value: u8) {
    // SAFETY: COM1's eight registers belong to this driver alone (user drivers
    // are never granted them), and the UART does no DMA.
    unsafe { cpu::outb(COM1 + offset, value) }
}

/// Reads COM1's register `offset`.
fn com1_in(offset: u16) -> u8 {
    // SAFETY: as for `com1_out`.
    unsafe { cpu::inb(COM1 + offset) }
}

/// Turns on the receive interrupt (IRQ 4): input goes to [`receive`].
pub fn enable_input_interrupt() {
    com1_out(1, 0x01);
}

/// Called from IRQ 4: hands every received byte to `sink`.
pub fn receive(mut sink: impl FnMut(u8)) {
    // Bounded: the FIFO holds 16 bytes; a stuck "data ready" bit must not
    // hold the CPU.
    for _ in 0..64 {
        if com1_in(5) & 0x01 == 0 {
            break;
        }
        sink(com1_in(0));
    }
}

/// Programs COM1 for 115200 baud, 8N1, interrupts off. The FIFOs stay off:
/// turning them on discards what the UART already received (input typed
/// before the kernel started would be lost), and a console needs no FIFO.
pub fn init() {
    com1_out(1, 0x00);
    com1_out(3, 0x80);
    com1_out(0, 0x01);
    com1_out(1, 0x00);
    com1_out(3, 0x03);
    com1_out(2, 0x00);
    com1_out(4, 0x0b);
}

fn put_byte(byte: u8) {
    // Bounded wait for the transmitter; a missing UART must not hang us.
    for _ in 0..100_000 {
        if com1_in(5) & 0x20 != 0 {
            break;
        }
        core::hint::spin_loop();
    }
    com1_out(0, byte);
}

/// Whether the last byte written ended a line: the kernel's own lines (log,
/// JSON) always start on a fresh line, even after a program's partial one
/// (a shell prompt), so the host can parse them.
static AT_LINE_START: AtomicBool = AtomicBool::new(true);

/// Writes `bytes`, `\n` as `\r\n`, and remembers whether a line is open.
fn put_bytes(bytes: &[u8]) {
    for &byte in bytes {
        if byte == b'\n' {
            put_byte(b'\r');
        }
        put_byte(byte);
    }
    if let Some(&last) = bytes.last() {
        AT_LINE_START.store(last == b'\n', Ordering::Relaxed);
    }
}

/// Ends a line a program left open, so what follows starts a line.
fn begin_line() {
    if !AT_LINE_START.load(Ordering::Relaxed) {
        put_bytes(b"\n");
    }
}

/// Writes without taking the lock: for fault and panic paths, where the lock
/// may be held by the code that faulted.
pub fn write_str_unlocked(s: &str) {
    put_bytes(s.as_bytes());
}

/// Starts a fresh line without taking the lock (fault and panic paths,
/// before their JSON lines).
pub fn begin_line_unlocked() {
    begin_line();
}

/// Writes raw bytes (program output) atomically with respect to other
/// writers; `\n` becomes `\r\n`.
pub fn write_bytes(bytes: &[u8]) {
    cpu::without_interrupts(|| {
        let _guard = LOCK.lock();
        put_bytes(bytes);
    });
}

/// Writes one whole line of the kernel's (a log or JSON line) on a line of
/// its own: a line a program left open is ended first.
pub fn write_line(s: &str) {
    cpu::without_interrupts(|| {
        let _guard = LOCK.lock();
        begin_line();
        put_bytes(s.as_bytes());
        put_bytes(b"\n");
    });
}

/// A `core::fmt::Write` sink over the unlocked path, for formatting in fault
/// handlers without allocating.
pub struct Unlocked;

impl core::fmt::Write for Unlocked {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        write_str_unlocked(s);
        Ok(())
    }
}
