//! The machine half of the kernel: everything that runs on bare metal.
//!
//! Boot order ([`kernel_entry`]): bootstrap heap, serial and logger, GDT/TSS,
//! IDT, Multiboot information, memory plan (heap region, frame allocator),
//! kernel command line, SSE, PIC/PIT timer and TSC calibration, interrupts on,
//! boot summary. Then the command line decides: raise a deliberate
//! exception, run the benchmarks, run in-kernel tests, or run every boot
//! module as a Unix process and shut down when all have exited.

mod bench;
mod boot;
mod cpu;
mod gdt;
mod heap;
mod kmap;
mod kstack;
pub(crate) mod ktest;
mod logger;
mod memory;
mod process;
mod serial;
mod shutdown;
mod syscall;
#[cfg(feature = "ktests")]
mod tests;
mod thread;
mod timer;
mod trap;
#[cfg(feature = "ktests")]
mod user_tests;
mod userland;
#[cfg(feature = "ktests")]
mod vm_tests;
mod vmm;

use core::fmt::Write;
use kernel::cmdline::{Crash, KernelOptions};
use kernel::json::{Escaped, JsonLine};
use kernel::multiboot;

/// Entered from the boot stub in long mode, on the boot stack, with the
/// loader's magic and the physical address of its information.
extern "C" fn kernel_entry(magic: u32, info_addr: u32) -> ! {
    boot::drop_identity_map();
    heap::init_bootstrap();
    serial::init();
    logger::init(log::LevelFilter::Info);
    gdt::init(trap::syscall_entry_address());
    trap::init();

    let boot = match multiboot::parse(magic, u64::from(info_addr), &memory::DirectMapReader) {
        Ok(boot) => boot,
        Err(error) => {
            log::error!("bad boot information: {error}");
            shutdown::shutdown(shutdown::STATUS_KERNEL_PANIC);
        }
    };
    let options = KernelOptions::parse(&boot.cmdline);
    if let Some(nonce) = &options.nonce {
        kernel::json::set_nonce(nonce);
    }
    serial::write_line(
        &JsonLine::new("event", "boot")
            .str("kernel", "phantom-unix")
            .str("version", env!("CARGO_PKG_VERSION"))
            .finish(),
    );
    logger::init(options.log_level);
    for warning in &options.warnings {
        log::warn!("kernel command line: {warning}");
    }
    cpu::enable_sse();
    let protections = cpu::enable_protections();
    let summary = memory::init(&boot);
    if !kstack::init(boot::kernel_pml4_phys()) {
        log::error!("no frame for the kernel stacks' tables");
        shutdown::shutdown(shutdown::STATUS_KERNEL_PANIC);
    }
    let wx = match kmap::protect_kernel_image() {
        Ok(l) => {
            log::info!(
                "kernel image W^X: text {:#x}..{:#x} r-x, rodata ..{:#x} r--, data ..{:#x} rw-",
                l.text.0,
                l.text.1,
                l.rodata.1,
                l.data.1
            );
            true
        }
        Err(why) => {
            log::warn!("kernel image left read-write-execute: {why}");
            false
        }
    };

    let nx = cpu::nx_enabled();
    if !nx {
        log::warn!("this CPU has no NX bit: data pages are executable");
    }
    log::info!(
        "CPU protections: UMIP {}, SMEP {}, SMAP {}, NX {}",
        protections.umip,
        protections.smep,
        protections.smap,
        nx
    );
    serial::write_line(
        &JsonLine::new("event", "cpu")
            .bool("umip", protections.umip)
            .bool("smep", protections.smep)
            .bool("smap", protections.smap)
            .bool("nx", nx)
            .bool("kernel_wx", wx)
            .finish(),
    );
    timer::init();
    serial::enable_input_interrupt();
    cpu::enable_interrupts();

    report_boot(&boot, &summary);

    if let Some(crash) = options.crash {
        raise(crash);
    }
    if let Some(mode) = options.bench {
        bench::run(mode);
    }
    if let Some(selection) = &options.ktest {
        ktest::run(selection);
    }
    let deadline = options
        .timeout_seconds
        .map(|s| s.saturating_mul(1_000_000_000));
    let status = userland::run_modules(&boot.modules, options.init.as_deref(), deadline);
    shutdown::shutdown(status)
}

/// The boot summary: memory, modules and the time from entry to ready.
fn report_boot(boot: &multiboot::BootInfo, summary: &memory::MemorySummary) {
    let ready = cpu::rdtsc();
    let cycles = ready.saturating_sub(boot::entry_tsc());
    let us = cycles as f64 / timer::tsc_per_us() as f64;
    log::info!(
        "memory: {} MiB usable of {} MiB, heap {} MiB at {:#x}, {} free frames",
        summary.usable_bytes >> 20,
        summary.total_bytes >> 20,
        summary.heap.len() >> 20,
        summary.heap.start,
        summary.free_frames
    );
    serial::write_line(
        &JsonLine::new("event", "memory")
            .u64("total_bytes", summary.total_bytes)
            .u64("usable_bytes", summary.usable_bytes)
            .u64("heap_bytes", summary.heap.len())
            .u64("free_frames", summary.free_frames)
            .finish(),
    );
    log::info!(
        "{} boot module(s); kernel command line: {:?}",
        boot.modules.len(),
        boot.cmdline
    );
    for (index, module) in boot.modules.iter().enumerate() {
        log::info!(
            "module {index}: {:#x}..{:#x} ({} bytes) {:?}",
            module.start,
            module.end,
            module.size(),
            module.cmdline
        );
        serial::write_line(
            &JsonLine::new("event", "module")
                .u64("index", index as u64)
                .u64("start", module.start)
                .u64("end", module.end)
                .u64("size", module.size())
                .str("cmdline", &module.cmdline)
                .finish(),
        );
    }
    log::info!("ready: {cycles} TSC cycles ({us:.1} µs) from kernel entry");
    serial::write_line(
        &JsonLine::new("bench", "boot_to_ready")
            .str("unit", "cycles")
            .u64("value", cycles)
            .f64("us", us)
            .u64("n", 1)
            .finish(),
    );
}

/// Recurses without end, 512 bytes of stack per level (for `crash=stack`).
#[allow(unconditional_recursion)]
fn overflow_the_stack(depth: u64) -> u64 {
    let frame = core::hint::black_box([depth; 64]);
    overflow_the_stack(depth + 1).wrapping_add(frame[63])
}

/// Raises the exception the command line asked for.
fn raise(crash: Crash) {
    log::info!("raising {crash:?} on request");
    // Each arm faults on purpose: the trap handler reports the exception and
    // shuts the machine down (int3: resumes with every register intact).
    match crash {
        // SAFETY: see above; ud2 only raises #UD.
        Crash::InvalidOpcode => unsafe { core::arch::asm!("ud2") },
        // SAFETY: see above; the address is unmapped, the read faults.
        Crash::PageFault => unsafe {
            core::ptr::read_volatile(0xffff_9000_dead_0000_usize as *const u64);
        },
        // SAFETY: see above; the division by zero raises #DE.
        Crash::DivideError => unsafe {
            core::arch::asm!("xor edx, edx", "xor eax, eax", "xor ecx, ecx", "div ecx", out("eax") _, out("edx") _, out("ecx") _)
        },
        // SAFETY: see above; a non-canonical address raises #GP.
        Crash::GeneralProtection => unsafe {
            core::ptr::read_volatile(0x8000_0000_0000_0000_usize as *const u64);
        },
        // SAFETY: see above; int3 returns to the next instruction.
        Crash::Breakpoint => unsafe { core::arch::asm!("int3") },
        // SAFETY: see above; the kernel's text is mapped read-only, so the
        // write faults before it changes anything.
        Crash::WriteText => unsafe {
            core::ptr::write_volatile((raise as *const ()) as *mut u8, 0xcc);
        },
        Crash::StackOverflow => {
            overflow_the_stack(0);
        }
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    cpu::disable_interrupts();
    // No allocation and no lock here: the panic may come from either.
    let mut out = serial::Unlocked;
    let _ = writeln!(out, "\n!!! kernel panic: {info}");
    let _ = write!(out, "{{\"event\":\"panic\",\"message\":\"");
    let _ = write!(Escaped(&mut out), "{info}");
    let _ = writeln!(out, "\"{}}}", kernel::json::nonce_field());
    ktest::report_interrupted_test(format_args!("kernel panic: {}", info.message()));
    shutdown::shutdown(shutdown::STATUS_KERNEL_PANIC)
}
