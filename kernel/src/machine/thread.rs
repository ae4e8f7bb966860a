//! Threads as the machine sees them: a kernel stack whose top holds the
//! user register frame, a saved kernel stack pointer, and the FPU/SSE state.
//!
//! Switching threads is switching kernel stacks ([`switch`]): the outgoing
//! thread's callee-saved registers are pushed on its stack and its RSP saved;
//! the incoming one's are popped. A new thread's stack is laid out so that
//! its first switch "returns" into `trap_return`, which pops the initial
//! [`TrapFrame`] and `iretq`s into ring 3. The FPU/SSE state is saved with
//! `fxsave` when a thread leaves the CPU and restored with `fxrstor` when it
//! comes back; the kernel itself never touches it (soft-float target).

use super::gdt;
use super::kstack::KernelStack;
use super::trap::{self, TrapFrame};
use alloc::boxed::Box;

/// Size of each thread's kernel stack (with an unmapped gap below it: see
/// `kstack`).
pub const KERNEL_STACK_SIZE: usize = 32 * 1024;

/// The 512-byte `fxsave` area.
#[repr(C, align(16))]
#[derive(Clone)]
pub struct FpuState([u8; 512]);

impl FpuState {
    /// The state a new thread starts with, built as an FXSAVE image rather than
    /// captured from the CPU (which holds the running thread's registers): the
    /// x87 control word as `fninit` leaves it (0x037F: every exception masked,
    /// 64-bit precision), every x87 register empty, MXCSR 0x1F80 (SSE
    /// exceptions masked, round to nearest), every other byte — XMM registers
    /// included — zero.
    pub const INITIAL: FpuState = {
        const FCW: usize = 0;
        const MXCSR: usize = 24;
        let mut image = [0u8; 512];
        let fcw = 0x037fu16.to_le_bytes();
        let mxcsr = 0x1f80u32.to_le_bytes();
        image[FCW] = fcw[0];
        image[FCW + 1] = fcw[1];
        image[MXCSR] = mxcsr[0];
        image[MXCSR + 1] = mxcsr[1];
        image[MXCSR + 2] = mxcsr[2];
        image[MXCSR + 3] = mxcsr[3];
        FpuState(image)
    };

    /// [`FpuState::INITIAL`] on the heap, for a thread to keep.
    pub fn initial() -> Box<FpuState> {
        Box::new(Self::INITIAL)
    }

    /// The image's bytes.
    pub fn bytes(&self) -> &[u8; 512] {
        &self.0
    }

    /// An image of `bytes`, which must be safe to load: their MXCSR's
    /// reserved bits clear (`unix::signal::parse_frame` sees to it), the rest
    /// `fxrstor` takes as it is.
    pub fn from_bytes(bytes: &[u8; 512]) -> FpuState {
        FpuState(*bytes)
    }

    /// Loads [`FpuState::INITIAL`] into the CPU (from a static: no copy).
    pub fn restore_initial() {
        static INITIAL: FpuState = FpuState::INITIAL;
        INITIAL.restore();
    }

    pub fn save(&mut self) {
        // SAFETY: writes exactly 512 bytes into this 16-byte aligned area.
        unsafe { core::arch::asm!("fxsave64 [{}]", in(reg) self.0.as_mut_ptr()) }
    }

    pub fn restore(&self) {
        // SAFETY: the area holds a state written by fxsave (initial() or
        // save()), so fxrstor loads a valid state.
        unsafe { core::arch::asm!("fxrstor64 [{}]", in(reg) self.0.as_ptr()) }
    }
}

/// A thread's kernel context.
pub struct Thread {
    stack: KernelStack,
    /// The kernel RSP saved while the thread is off the CPU.
    pub saved_rsp: u64,
    pub fpu: Box<FpuState>,
}

core::arch::global_asm!(
    r#"
    .section .text.switch, "ax"
    .global switch_kernel_stacks
/* switch_kernel_stacks(save_rsp: *mut u64 [rdi], load_rsp: u64 [rsi])
   Saves the callee-saved registers and the data segment selectors (the
   outgoing process's: the kernel never changes DS/ES/FS/GS after boot, so they
   hold what the process last loaded), then loads the incoming context's. */
switch_kernel_stacks:
    push rbp
    push rbx
    push r12
    push r13
    push r14
    push r15
    mov eax, ds
    push rax
    mov eax, es
    push rax
    mov eax, fs
    push rax
    mov eax, gs
    push rax
    mov [rdi], rsp
    mov rsp, rsi
    pop rax
    mov gs, ax
    pop rax
    mov fs, ax
    pop rax
    mov es, ax
    pop rax
    mov ds, ax
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbx
    pop rbp
    ret
    "#
);

extern "C" {
    fn switch_kernel_stacks(save_rsp: *mut u64, load_rsp: u64);
}

/// Words `switch_kernel_stacks` pushes: six callee-saved registers and four
/// segment selectors (GS, FS, ES, DS from the lowest address up).
const SWITCH_FRAME_WORDS: usize = 10;

/// The data segment selectors every process starts with: DS and ES the user
/// data segment, FS and GS null.
const INITIAL_SELECTORS: [u64; 4] = [0, 0, gdt::USER_DATA as u64, gdt::USER_DATA as u64];

impl Thread {
    /// A thread that enters ring 3 with `frame` on its first switch; `None`
    /// when no kernel stack can be had.
    pub fn new_user(frame: TrapFrame, fpu: Box<FpuState>) -> Option<Box<Thread>> {
        let stack = KernelStack::new()?;
        let mut thread = Box::new(Thread {
            stack,
            saved_rsp: 0,
            fpu,
        });
        let top = thread.stack_top();
        let frame_size = core::mem::size_of::<TrapFrame>() as u64;
        let frame_at = top - frame_size;
        let return_at = frame_at - 8;
        let rsp = return_at - (SWITCH_FRAME_WORDS as u64) * 8;
        // The frame (frame_at..top), the return slot below it and the selector
        // slots at the bottom of the switch frame (the callee-saved slots
        // between are already 0); the frame size is a multiple of 8.
        // SAFETY: every write lands inside this thread's own 16-byte aligned
        // stack, at the slots just listed.
        unsafe {
            core::ptr::write(frame_at as *mut TrapFrame, frame);
            core::ptr::write(return_at as *mut u64, trap::trap_return_address());
            core::ptr::write(rsp as *mut [u64; 4], INITIAL_SELECTORS);
        }
        thread.saved_rsp = rsp;
        Some(thread)
    }

    /// The top of the kernel stack (where ring-3 entries push their frame).
    pub fn stack_top(&self) -> u64 {
        self.stack.top()
    }
}

/// Saves the current context into `*save_rsp` and resumes the context whose
/// stack pointer is `load_rsp`; returns when someone switches back.
///
/// # Safety
/// Interrupts must be off; `save_rsp` must be valid for a write of a `u64` and
/// stay so until the saved context is resumed (a boxed thread, or the idle
/// context's static); `load_rsp` must come from an earlier switch away from a
/// thread that is still alive (or from [`Thread::new_user`]), and
/// `kernel_stack_top` must be the top of that thread's kernel stack.
pub unsafe fn switch(save_rsp: *mut u64, load_rsp: u64, kernel_stack_top: Option<u64>) {
    if let Some(top) = kernel_stack_top {
        gdt::set_kernel_stack(top);
    }
    // SAFETY: per this function's contract.
    unsafe { switch_kernel_stacks(save_rsp, load_rsp) }
}
