//! Small CPU primitives: port I/O, interrupt flag, halting, control registers,
//! the TSC and SSE enablement. Thin safe wrappers so the rest of the image
//! carries as little `unsafe` as possible.

use x86::controlregs::{Cr0, Cr4};

/// Writes `value` to I/O port `port`.
///
/// # Safety
/// The port must belong to a device the caller's module owns (its driver), and
/// the write must not make the device touch memory (no DMA is set up through
/// legacy ports here); a write to another driver's port can break it.
pub unsafe fn outb(port: u16, value: u8) {
    // SAFETY: per this function's contract.
    unsafe { x86::io::outb(port, value) }
}

/// Reads I/O port `port`.
///
/// # Safety
/// As for [`outb`]: a read can have side effects on the device (it may
/// acknowledge or consume data), so the port must be the caller's device's.
pub unsafe fn inb(port: u16) -> u8 {
    // SAFETY: per this function's contract.
    unsafe { x86::io::inb(port) }
}

/// Writes a 32-bit `value` to I/O port `port`.
///
/// # Safety
/// As for [`outb`].
pub unsafe fn outl(port: u16, value: u32) {
    // SAFETY: per this function's contract.
    unsafe { x86::io::outl(port, value) }
}

/// Writes a 16-bit `value` to I/O port `port`.
///
/// # Safety
/// As for [`outb`].
pub unsafe fn outw(port: u16, value: u16) {
    // SAFETY: per this function's contract.
    unsafe { x86::io::outw(port, value) }
}

pub fn interrupts_enabled() -> bool {
    let flags: u64;
    // SAFETY: reads RFLAGS through the stack; no memory other than the
    // pushed word is touched.
    unsafe { core::arch::asm!("pushfq; pop {}", out(reg) flags, options(nomem, preserves_flags)) };
    flags & (1 << 9) != 0
}

pub fn enable_interrupts() {
    // SAFETY: the IDT is loaded before anyone calls this, so every interrupt
    // has a handler.
    unsafe { core::arch::asm!("sti", options(nomem, nostack)) }
}

pub fn disable_interrupts() {
    // SAFETY: clearing IF only delays interrupts.
    unsafe { core::arch::asm!("cli", options(nomem, nostack)) }
}

/// Runs `f` with interrupts disabled, restoring the previous state after.
pub fn without_interrupts<R>(f: impl FnOnce() -> R) -> R {
    let were_enabled = interrupts_enabled();
    if were_enabled {
        disable_interrupts();
    }
    let result = f();
    if were_enabled {
        enable_interrupts();
    }
    result
}

/// Sleeps until the next interrupt (atomically enabling interrupts first).
pub fn enable_interrupts_and_halt() {
    // SAFETY: `sti; hlt` waits for an interrupt; the IDT is loaded.
    unsafe { core::arch::asm!("sti; hlt", options(nomem, nostack)) }
}

/// Stops this CPU for good.
pub fn halt_forever() -> ! {
    loop {
        // SAFETY: with interrupts off `hlt` never returns except for NMI,
        // after which we halt again.
        unsafe { core::arch::asm!("cli; hlt", options(nomem, nostack)) }
    }
}

pub fn rdtsc() -> u64 {
    // SAFETY: rdtsc has no side effects; CR4.TSD is clear.
    unsafe { core::arch::x86_64::_rdtsc() }
}

pub fn read_cr2() -> u64 {
    // SAFETY: reading CR2 has no side effects.
    unsafe { x86::controlregs::cr2() as u64 }
}

pub fn read_cr3() -> u64 {
    // SAFETY: reading CR3 has no side effects.
    unsafe { x86::controlregs::cr3() }
}

/// Switches to the page tables rooted at physical `pml4` (flushing the TLB).
///
/// # Safety
/// `pml4` must be the frame of a valid PML4 that maps the kernel exactly as the
/// current one does (the upper half every address space shares), so that the
/// code, data and stack in use stay mapped at the same addresses.
pub unsafe fn write_cr3(pml4: u64) {
    // SAFETY: per this function's contract.
    unsafe { x86::controlregs::cr3_write(pml4) }
}

/// Invalidates the TLB entry of one page.
pub fn invlpg(vaddr: u64) {
    // SAFETY: invlpg only drops a cached translation.
    unsafe { x86::tlb::flush(vaddr as usize) }
}

/// Turns on SSE (the i686 user programs and Rust floats use xmm registers):
/// CR0.MP set, CR0.EM and CR0.TS clear, CR4.OSFXSR and CR4.OSXMMEXCPT set.
pub fn enable_sse() {
    // SAFETY: these bits only enable FPU/SSE instructions; FXSAVE support is
    // part of x86_64.
    unsafe {
        let mut cr0 = x86::controlregs::cr0();
        cr0.remove(Cr0::CR0_EMULATE_COPROCESSOR | Cr0::CR0_TASK_SWITCHED);
        cr0.insert(Cr0::CR0_MONITOR_COPROCESSOR);
        x86::controlregs::cr0_write(cr0);
        let mut cr4 = x86::controlregs::cr4();
        cr4.insert(Cr4::CR4_ENABLE_SSE | Cr4::CR4_UNMASKED_SSE);
        x86::controlregs::cr4_write(cr4);
    }
}

/// The protections [`enable_protections`] turned on, for the boot report.
#[derive(Clone, Copy, Debug, Default)]
pub struct Protections {
    /// CR4.UMIP: `sgdt`, `sidt`, `sldt`, `smsw`, `str` fault in ring 3.
    pub umip: bool,
    /// CR4.SMEP: the kernel never executes user pages.
    pub smep: bool,
    /// CR4.SMAP: the kernel never touches user pages (it copies through the
    /// direct map, never through user addresses).
    pub smap: bool,
}

/// Whether SMAP is on: the trap entry then clears `EFLAGS.AC` (`clac`).
static SMAP_ON: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// Turns on what this CPU has of UMIP, SMEP and SMAP (CPUID leaf 7), and
/// CR0.NE (native x87 error reporting). CR0.WP is on since the boot stub.
pub fn enable_protections() -> Protections {
    let leaf7 = x86::cpuid::CpuId::new().get_extended_feature_info();
    let has = |f: fn(&x86::cpuid::ExtendedFeatures) -> bool| leaf7.as_ref().is_some_and(f);
    let p = Protections {
        umip: has(x86::cpuid::ExtendedFeatures::has_umip),
        smep: has(x86::cpuid::ExtendedFeatures::has_smep),
        smap: has(x86::cpuid::ExtendedFeatures::has_smap),
    };
    // UMIP and SMEP only restrict ring 3 and the kernel's execution of user
    // pages (the kernel never runs user code in ring 0); SMAP only restricts
    // kernel accesses to user pages, which the kernel never makes (user copies
    // go through the direct map), and every trap entry clears AC. CR0.NE
    // changes how x87 errors are reported, to the native #MF.
    // SAFETY: each CR4 bit is set only when CPUID reports the feature, and
    // none of them forbids anything the kernel does (above).
    unsafe {
        let mut cr4 = x86::controlregs::cr4();
        if p.umip {
            cr4.insert(Cr4::CR4_ENABLE_UMIP);
        }
        if p.smep {
            cr4.insert(Cr4::CR4_ENABLE_SMEP);
        }
        if p.smap {
            cr4.insert(Cr4::CR4_ENABLE_SMAP);
        }
        x86::controlregs::cr4_write(cr4);
        let mut cr0 = x86::controlregs::cr0();
        cr0.insert(Cr0::CR0_NUMERIC_ERROR);
        x86::controlregs::cr0_write(cr0);
    }
    SMAP_ON.store(p.smap, core::sync::atomic::Ordering::Relaxed);
    NX_ON.store(read_nx(), core::sync::atomic::Ordering::Relaxed);
    p
}

/// Clears `EFLAGS.AC` when SMAP is on (a ring-3 program may enter with AC
/// set, which would lift SMAP for the kernel).
#[inline]
pub fn clear_ac() {
    if SMAP_ON.load(core::sync::atomic::Ordering::Relaxed) {
        // SAFETY: `clac` exists when SMAP does (checked above) and only
        // clears EFLAGS.AC.
        unsafe { core::arch::asm!("clac", options(nomem, nostack)) }
    }
}

/// Whether EFER.NXE is on (the boot stub sets it when the CPU has NX), read
/// once by [`enable_protections`] (the fault path asks on every fault).
static NX_ON: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// Whether EFER.NXE is on: the no-execute bit of page-table entries exists.
pub fn nx_enabled() -> bool {
    NX_ON.load(core::sync::atomic::Ordering::Relaxed)
}

fn read_nx() -> bool {
    // SAFETY: reading EFER has no side effects.
    let efer = unsafe { x86::msr::rdmsr(x86::msr::IA32_EFER) };
    efer & (1 << 11) != 0
}
