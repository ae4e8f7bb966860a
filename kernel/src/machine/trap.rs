//! Interrupts and exceptions: the IDT, 256 assembly entry stubs, the saved
//! register frame and the Rust dispatcher.
//!
//! Every vector enters through a 16-byte stub that pushes a dummy error code
//! (where the CPU pushes none) and the vector number, then `trap_common`
//! saves the general registers and calls [`trap_dispatch`]. The syscall call
//! gate (LDT selector 0x07) enters at `syscall_gate_entry`, which reshapes
//! the gate's frame (RIP, CS, RSP, SS) into an interrupt frame, so every
//! entry from ring 3 leaves the same [`TrapFrame`] at the top of the
//! thread's kernel stack and leaves through `trap_return` and `iretq`.
//!
//! A kernel-mode exception is reported (vector, name, error code, RIP, CR2,
//! mode) as a log line and a JSON event, then the machine shuts down with
//! status 2 — never a triple-fault reboot loop. `int3` is reported and
//! resumed. A user-mode exception kills the process with a signal.

use super::vmm::{self, FaultError};
use super::{cpu, gdt, ktest, process, shutdown, syscall, timer};
use core::fmt::Write;
use x86::dtables::{lidt, DescriptorTablePointer};

/// Registers saved on every trap, in stack order (lowest address first).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct TrapFrame {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    pub vector: u64,
    pub error_code: u64,
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

impl TrapFrame {
    pub fn is_user_mode(&self) -> bool {
        self.cs & 3 == 3
    }
}

pub const VECTOR_BREAKPOINT: u64 = 3;
pub const VECTOR_DOUBLE_FAULT: u64 = 8;
pub const VECTOR_PAGE_FAULT: u64 = 14;
/// First vector of the remapped legacy PIC.
pub const IRQ_BASE: u64 = 32;
/// A vector whose handler does nothing: the bare cost of the trap path.
pub const VECTOR_NOP: u64 = 0x81;
/// The `vector` field of a frame built by the syscall gate (not an IDT
/// vector: `int 0x80` from ring 3 is a general protection fault).
pub const SYSCALL_MARKER: u64 = 0x100;
pub const VECTOR_DEBUG: u64 = 1;
const RFLAGS_TF: u64 = 1 << 8;

core::arch::global_asm!(
    r#"
    .section .text.traps, "ax"
    .balign 16
    .global trap_stubs
trap_stubs:
    .set vector, 0
    .rept 256
    .balign 16
    .if (vector == 8) || (vector == 10) || (vector == 11) || (vector == 12) || (vector == 13) || (vector == 14) || (vector == 17) || (vector == 21) || (vector == 29) || (vector == 30)
    .else
    push 0
    .endif
    push vector
    jmp trap_common
    .set vector, vector + 1
    .endr

trap_common:
    push rax
    push rbx
    push rcx
    push rdx
    push rsi
    push rdi
    push rbp
    push r8
    push r9
    push r10
    push r11
    push r12
    push r13
    push r14
    push r15
    cld
    mov rdi, rsp
    call {dispatch}
    .global trap_return
trap_return:
    pop r15
    pop r14
    pop r13
    pop r12
    pop r11
    pop r10
    pop r9
    pop r8
    pop rbp
    pop rdi
    pop rsi
    pop rdx
    pop rcx
    pop rbx
    pop rax
    add rsp, 16
    iretq

    /* The call gate arrives on TSS.RSP0 with [rsp] = RIP, CS, RSP, SS and
       the user's flags still live (IF may be set: an interrupt may come at
       any instruction here, on this same stack, below rsp). Insert RFLAGS
       to make an interrupt frame, then clear IF, DF, TF, NT and AC. */
    .global syscall_gate_entry
syscall_gate_entry:
    sub rsp, 8
    push rax
    mov rax, [rsp + 16]
    mov [rsp + 8], rax
    mov rax, [rsp + 24]
    mov [rsp + 16], rax
    pushfq
    pop rax
    mov [rsp + 24], rax
    pop rax
    push 2
    popfq
    push 0
    push {syscall_marker}
    jmp trap_common
    "#,
    dispatch = sym trap_dispatch,
    syscall_marker = const SYSCALL_MARKER,
);

extern "C" {
    static trap_stubs: u8;
    static syscall_gate_entry: u8;
    static trap_return: u8;
}

/// Address of the call gate's entry stub.
pub fn syscall_entry_address() -> u64 {
    (&raw const syscall_gate_entry) as u64
}

/// Address a new thread "returns" to: it pops the [`TrapFrame`] above it
/// and `iretq`s to ring 3.
pub fn trap_return_address() -> u64 {
    (&raw const trap_return) as u64
}

const STUB_SIZE: u64 = 16;

#[repr(C, align(16))]
#[derive(Clone, Copy)]
struct Gate([u64; 2]);

static mut IDT: [Gate; 256] = [Gate([0, 0]); 256];

fn gate(handler: u64, ist: u8, dpl: u8) -> Gate {
    let type_attr: u64 = 0x8E | (u64::from(dpl & 3) << 5); // present, 64-bit interrupt gate
    let low = (handler & 0xffff)
        | (u64::from(gdt::KERNEL_CODE) << 16)
        | (u64::from(ist & 7) << 32)
        | (type_attr << 40)
        | (((handler >> 16) & 0xffff) << 48);
    Gate([low, handler >> 32])
}

/// Builds and loads the IDT: every vector to its stub, the double fault on
/// its own stack, `int3` callable from ring 3.
pub fn init() {
    let stubs = (&raw const trap_stubs) as u64;
    // SAFETY: runs once at boot with interrupts off; the IDT static lives for
    // the whole run, so the address given to lidt stays valid.
    unsafe {
        let idt = &raw mut IDT;
        for vector in 0..256u64 {
            let ist = if vector == VECTOR_DOUBLE_FAULT {
                gdt::DOUBLE_FAULT_IST
            } else {
                0
            };
            let dpl = if vector == VECTOR_BREAKPOINT { 3 } else { 0 };
            (*idt)[vector as usize] = gate(stubs + vector * STUB_SIZE, ist, dpl);
        }
        let pointer = DescriptorTablePointer::new(&*idt);
        lidt(&pointer);
    }
}

pub fn exception_name(vector: u64) -> &'static str {
    match vector {
        0 => "divide error",
        1 => "debug",
        2 => "non-maskable interrupt",
        3 => "breakpoint",
        4 => "overflow",
        5 => "bound range exceeded",
        6 => "invalid opcode",
        7 => "device not available",
        8 => "double fault",
        10 => "invalid TSS",
        11 => "segment not present",
        12 => "stack-segment fault",
        13 => "general protection",
        14 => "page fault",
        16 => "x87 floating-point error",
        17 => "alignment check",
        18 => "machine check",
        19 => "SIMD floating-point exception",
        20 => "virtualization exception",
        21 => "control protection",
        _ => "reserved exception",
    }
}

/// NMI, double fault and machine check: events of the machine, whatever mode
/// they interrupt — never a signal for the program that happened to run.
const VECTOR_NMI: u64 = 2;
const VECTOR_MACHINE_CHECK: u64 = 18;

extern "C" fn trap_dispatch(frame: &mut TrapFrame) {
    // The gate's entry stub clears AC itself; interrupts and exceptions from
    // ring 3 may arrive with the program's AC set.
    if frame.vector != SYSCALL_MARKER {
        cpu::clear_ac();
    }
    match frame.vector {
        SYSCALL_MARKER => syscall::handle(frame),
        VECTOR_NOP => {}
        VECTOR_PAGE_FAULT => page_fault(frame),
        VECTOR_BREAKPOINT if !frame.is_user_mode() => {
            log::info!("breakpoint at {:#x}, resuming", frame.rip);
        }
        VECTOR_DEBUG if !frame.is_user_mode() => {
            // A user program can set TF and then enter the call gate: the
            // single-step trap lands on the stub's first instruction. Drop
            // TF here; the user's saved flags keep it.
            frame.rflags &= !RFLAGS_TF;
        }
        VECTOR_NMI | VECTOR_DOUBLE_FAULT | VECTOR_MACHINE_CHECK => fatal_exception(
            frame,
            if frame.is_user_mode() {
                "a machine event while a program ran (not the program's fault)"
            } else {
                ""
            },
        ),
        v if v < IRQ_BASE && frame.is_user_mode() => process::user_exception(frame),
        v if v < IRQ_BASE => fatal_exception(frame, ""),
        v if v < IRQ_BASE + 16 => {
            timer::handle_irq((v - IRQ_BASE) as u8);
            if frame.is_user_mode() {
                process::deliver_pending_kill();
                super::userland::deliver_signal(frame);
            }
            if v == IRQ_BASE && frame.is_user_mode() {
                process::preempt();
            }
        }
        v => log::warn!("unexpected interrupt vector {v}"),
    }
}

/// Resolves a page fault through the current address space, or reports it.
fn page_fault(frame: &mut TrapFrame) {
    /// Error-code bit: a reserved bit was set in a paging entry.
    const PF_RESERVED_BIT: u64 = 1 << 3;
    if frame.error_code & PF_RESERVED_BIT != 0 {
        // The kernel wrote a bad entry (e.g. NX on a CPU without it): retrying
        // would fault forever, and it is no program's fault.
        fatal_exception(
            frame,
            "a page-table entry has a reserved bit set (a kernel bug)",
        );
    }
    let addr = cpu::read_cr2();
    if frame.is_user_mode() && addr == u64::from(unix::signal::SIGRETURN_ADDR) && frame.rip == addr
    {
        // A signal handler returned (see `unix::signal::SIGRETURN_ADDR`).
        return super::userland::sigreturn(frame);
    }
    let user = frame.is_user_mode();
    if user {
        // No lock is held in ring 3: the heap may take frames now.
        super::heap::grow_if_low();
    }
    let heap_before = super::heap::used_bytes();
    let resolved = vmm::handle_page_fault(addr, frame.error_code);
    let heap_after = super::heap::used_bytes();
    if user && heap_after != heap_before {
        process::charge_heap(heap_after as i64 - heap_before as i64);
    }
    match resolved {
        Ok(_) => {}
        Err(FaultError::Segv(segv)) if frame.is_user_mode() => {
            process::signal_for_fault(frame, segv)
        }
        Err(FaultError::NoAddressSpace) => fatal_exception(frame, "no address space maps it"),
        Err(FaultError::VmLockHeld) => {
            fatal_exception(frame, "page fault while holding the VM lock")
        }
        Err(FaultError::Segv(segv)) => {
            // Kernel-mode access the address space refuses (user mode comes
            // with Unix processes).
            log::error!("{segv}");
            fatal_exception(frame, "the address space refuses the access")
        }
    }
}

/// Reports an exception the kernel cannot handle and stops the machine.
fn fatal_exception(frame: &TrapFrame, detail: &str) -> ! {
    cpu::disable_interrupts();
    let cr2 = if frame.vector == VECTOR_PAGE_FAULT {
        cpu::read_cr2()
    } else {
        0
    };
    let mode = if frame.is_user_mode() {
        "user"
    } else {
        "kernel"
    };
    let name = exception_name(frame.vector);
    let mut out = super::serial::Unlocked;
    // Formatted without allocating: the heap lock may be what faulted.
    let _ = write!(
        out,
        "\n!!! {mode}-mode exception {} ({name}), error code {:#x}, rip {:#x}, cr2 {:#x}, rsp {:#x} {detail}\n",
        frame.vector, frame.error_code, frame.rip, cr2, frame.rsp
    );
    let _ = writeln!(
        out,
        "{{\"event\":\"exception\",\"vector\":{},\"name\":\"{name}\",\"error_code\":{},\"rip\":\"{:#x}\",\"cr2\":\"{:#x}\",\"mode\":\"{mode}\"{}}}",
        frame.vector,
        frame.error_code,
        frame.rip,
        cr2,
        kernel::json::nonce_field()
    );
    ktest::report_interrupted_test(format_args!(
        "{mode}-mode exception {} ({name}) at {:#x}",
        frame.vector, frame.rip
    ));
    shutdown::shutdown(shutdown::STATUS_KERNEL_EXCEPTION)
}
