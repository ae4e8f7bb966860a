//! In-kernel tests of the machine layer: heap, frames, direct map, timer,
//! SSE, the breakpoint trap and the page tables.

use super::ktest::{kassert, ktest};
use super::{cpu, heap, memory, timer};
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use vm::{FrameAllocator, PhysMemory};

fn heap_allocates_and_frees() -> Result<(), String> {
    let (used_before, _) = heap::usage();
    let mut blocks: Vec<Box<[u8]>> = Vec::new();
    for size in [1usize, 7, 64, 4096, 100_000, 1 << 20] {
        let block = alloc::vec![size as u8; size].into_boxed_slice();
        kassert!(
            block.iter().all(|&b| b == size as u8),
            "block of {size} bytes lost its contents"
        );
        blocks.push(block);
    }
    let (used_during, total) = heap::usage();
    kassert!(
        used_during > used_before + (1 << 20),
        "heap usage did not grow ({used_before} -> {used_during})"
    );
    kassert!(total >= 4 << 20, "heap is only {total} bytes");
    drop(blocks);
    let (used_after, _) = heap::usage();
    kassert!(
        used_after <= used_before + 64,
        "heap usage leaked ({used_before} -> {used_after})"
    );
    Ok(())
}
ktest!(heap_allocates_and_frees);

fn frames_are_distinct_writable_and_returned() -> Result<(), String> {
    let free_before = memory::free_frames();
    kassert!(free_before > 1000, "only {free_before} free frames");
    memory::with_machine(|machine| {
        let mut frames = Vec::new();
        for i in 0..64u64 {
            let frame = machine.alloc_frame().ok_or("out of frames")?;
            machine.zero_frame(frame);
            machine.write_u64(frame.start(), i * 0x0101_0101);
            frames.push(frame);
        }
        for (i, frame) in frames.iter().enumerate() {
            let value = machine.read_u64(frame.start());
            kassert!(
                value == i as u64 * 0x0101_0101,
                "frame {frame:?} holds {value:#x}"
            );
        }
        let mut sorted = frames.clone();
        sorted.sort();
        sorted.dedup();
        kassert!(
            sorted.len() == frames.len(),
            "the allocator handed out a frame twice"
        );
        for frame in frames {
            machine.free_frame(frame);
        }
        Ok::<(), String>(())
    })?;
    let free_after = memory::free_frames();
    kassert!(
        free_after == free_before,
        "free frames {free_before} -> {free_after}"
    );
    Ok(())
}
ktest!(frames_are_distinct_writable_and_returned);

fn timer_ticks_advance() -> Result<(), String> {
    let start = timer::ticks();
    // Bounded: at 100 Hz, 3 ticks arrive within a few hundred halts.
    for _ in 0..10_000 {
        if timer::ticks() >= start + 3 {
            return Ok(());
        }
        cpu::enable_interrupts_and_halt();
    }
    Err(alloc::format!(
        "ticks stuck at {} (started at {start})",
        timer::ticks()
    ))
}
ktest!(timer_ticks_advance);

fn sse_registers_work() -> Result<(), String> {
    let (a, b) = (0x1234_5678_u64, 0x1111_1111_u64);
    let sum: u64;
    // SAFETY: uses xmm0/xmm1, declared clobbered; SSE was enabled at boot
    // (this faults with #UD or #NM otherwise, which the test would report).
    unsafe {
        core::arch::asm!(
            "movq xmm0, {a}",
            "movq xmm1, {b}",
            "paddq xmm0, xmm1",
            "movq {sum}, xmm0",
            a = in(reg) a,
            b = in(reg) b,
            sum = out(reg) sum,
            out("xmm0") _,
            out("xmm1") _,
        );
    }
    kassert!(sum == a + b, "paddq gave {sum:#x}");
    Ok(())
}
ktest!(sse_registers_work);

fn breakpoint_resumes() -> Result<(), String> {
    let marker: u64;
    // SAFETY: int3 traps to the kernel's breakpoint handler, which logs and
    // returns to the next instruction with all registers restored.
    unsafe { core::arch::asm!("mov {m}, 0x5a5a", "int3", m = out(reg) marker) };
    kassert!(
        marker == 0x5a5a,
        "a register changed across int3: {marker:#x}"
    );
    Ok(())
}
ktest!(breakpoint_resumes);

fn interrupts_are_on_after_boot() -> Result<(), String> {
    kassert!(cpu::interrupts_enabled(), "interrupts are off");
    kassert!(timer::tsc_per_us() > 0, "TSC not calibrated");
    Ok(())
}
ktest!(interrupts_are_on_after_boot);

fn the_kernel_image_is_mapped_write_xor_execute() -> Result<(), String> {
    static DATA_WORD: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(1);
    static RODATA: [u8; 4] = *b"ro!\0";
    let nx = cpu::nx_enabled();
    let code = (the_kernel_image_is_mapped_write_xor_execute as *const ()) as u64;
    let ro = RODATA.as_ptr() as u64;
    let data = (&raw const DATA_WORD) as u64;
    let direct = memory::phys_to_virt(0x10_0000);
    let rights = |va| super::kmap::rights_of(va);
    kassert!(
        rights(code) == Some((false, true)),
        "text {code:#x}: {:?}",
        rights(code)
    );
    kassert!(
        rights(ro) == Some((false, !nx)),
        "rodata {ro:#x}: {:?}",
        rights(ro)
    );
    kassert!(
        rights(data) == Some((true, !nx)),
        "data {data:#x}: {:?}",
        rights(data)
    );
    kassert!(
        rights(direct) == Some((true, !nx)),
        "direct map: {:?}",
        rights(direct)
    );
    // The boot tables' second higher-half GiB is gone.
    kassert!(
        rights(0xffff_ffff_c000_0000).is_none(),
        "past the image is mapped"
    );
    Ok(())
}
ktest!(the_kernel_image_is_mapped_write_xor_execute);

fn kernel_stacks_have_an_unmapped_gap_below() -> Result<(), String> {
    let frames_before = memory::free_frames();
    let stack = super::kstack::KernelStack::new().ok_or("no kernel stack")?;
    let (bottom, top) = (stack.bottom(), stack.top());
    let rights = super::kmap::rights_of;
    kassert!(
        rights(bottom).is_some_and(|(w, _)| w),
        "stack bottom {bottom:#x}"
    );
    kassert!(
        rights(top - 8).is_some_and(|(w, _)| w),
        "stack top {top:#x}"
    );
    kassert!(
        rights(bottom - 8).is_none(),
        "the page below {bottom:#x} is mapped"
    );
    kassert!(rights(bottom - 32 * 1024).is_none(), "the gap is mapped");
    drop(stack);
    kassert!(rights(bottom).is_none(), "freed stack still mapped");
    kassert!(
        memory::free_frames() == frames_before,
        "frames: {frames_before} before, {} after",
        memory::free_frames()
    );
    Ok(())
}
ktest!(kernel_stacks_have_an_unmapped_gap_below);
