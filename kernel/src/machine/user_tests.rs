//! In-kernel tests of ring 3: hand-assembled 32-bit programs enter user mode
//! in compatibility mode, call the kernel through the LDT call gate, exit
//! with a status, and are killed with the right signal when they fault.

use super::ktest::{kassert, ktest};
use super::{cpu, memory, process, timer, userland, vmm};
use alloc::string::String;
use alloc::vec::Vec;
use remap::Perms;
use unix::abi::signal::{SIGILL, SIGSEGV, SIGTRAP};
use unix::mm::ProcessMemory;
use unix::signal::killed_status;

const CODE_VPN: u64 = 0x08048;
const STACK_VPN: u64 = 0xbffff;
const CODE: u32 = 0x0804_8000;

/// Loads `code` at 0x08048000 (read + execute) with one stack page below
/// 0xC0000000 and spawns it.
fn load_program(code: &[u8]) -> Result<(), String> {
    let mut space = vmm::new_address_space().map_err(|e| alloc::format!("{e}"))?;
    cpu::without_interrupts(|| {
        let mut vmm = vmm::VMM.lock();
        let ps = &mut vmm.persistent;
        space
            .map_anon(ps, CODE_VPN, 1, Perms::READ | Perms::WRITE)
            .map_err(|e| alloc::format!("{e}"))?;
        space
            .map_anon(ps, STACK_VPN, 1, Perms::READ | Perms::WRITE)
            .map_err(|e| alloc::format!("{e}"))?;
        memory::with_machine(|m| {
            space
                .write_user(ps, m, CODE_VPN << 12, code)
                .map_err(|e| alloc::format!("{e}"))?;
            space
                .protect(m, CODE_VPN, 1, Perms::READ | Perms::EXEC)
                .map_err(|e| alloc::format!("{e}"))
        })
    })?;
    userland::spawn(
        "ring3-test",
        space,
        CODE,
        ((STACK_VPN + 1) << 12) as u32 - 16,
        ProcessMemory::default(),
        unix::process::cmdline_of(&[b"ring3-test"]),
    )
    .ok_or("no kernel stack for the test process")?;
    Ok(())
}

/// Runs `code` as the only process; returns its exit status.
fn run_program(code: &[u8]) -> Result<u32, String> {
    let frames_before = memory::free_frames();
    load_program(code)?;
    let status = process::run_until_all_exit(None);
    let frames_after = memory::free_frames();
    kassert!(
        frames_after == frames_before,
        "frames leaked: {frames_before} -> {frames_after}"
    );
    Ok(status)
}

/// A tiny assembler for the few i386 instructions these tests need.
#[derive(Default)]
struct Asm(Vec<u8>);

impl Asm {
    fn mov_eax(mut self, value: u32) -> Self {
        self.0.push(0xb8);
        self.0.extend_from_slice(&value.to_le_bytes());
        self
    }
    fn push(mut self, value: u32) -> Self {
        self.0.push(0x68);
        self.0.extend_from_slice(&value.to_le_bytes());
        self
    }
    /// `lcall $0x7, $0`: the syscall gate.
    fn gate(mut self) -> Self {
        self.0.extend_from_slice(&[0x9a, 0, 0, 0, 0, 0x07, 0x00]);
        self
    }
    /// A syscall with cdecl arguments: push them, a fake return address,
    /// `eax` = number, the gate, then pop the stack back.
    fn syscall(mut self, number: u32, args: &[u32]) -> Self {
        for &arg in args.iter().rev() {
            self = self.push(arg);
        }
        self = self.push(0).mov_eax(number).gate();
        self.0
            .extend_from_slice(&[0x83, 0xc4, (4 * (args.len() + 1)) as u8]); // add esp, n
        self
    }
    /// `push eax` then exit with it.
    fn exit_with_eax(mut self) -> Self {
        self.0.extend_from_slice(&[0x50, 0x6a, 0x00]); // push eax; push 0
        self.mov_eax(0).gate()
    }
    fn bytes(mut self, bytes: &[u8]) -> Self {
        self.0.extend_from_slice(bytes);
        self
    }
    fn len(&self) -> u32 {
        self.0.len() as u32
    }
}

fn ring3_calls_the_gate_and_exits_with_a_status() -> Result<(), String> {
    // write(1, msg, len); exit(42)
    let message = b"hello from ring 3\n";
    let program_len = Asm::default()
        .syscall(67, &[1, 0, 0])
        .syscall(0, &[42])
        .len();
    let code = Asm::default()
        .syscall(67, &[1, CODE + program_len, message.len() as u32])
        .syscall(0, &[42])
        .bytes(message);
    let status = run_program(&code.0)?;
    kassert!(status == 42, "exit status {status}, expected 42");
    Ok(())
}
ktest!(ring3_calls_the_gate_and_exits_with_a_status);

fn gate_preserves_registers_and_returns_errno() -> Result<(), String> {
    // ebx, esi, edi, ebp survive getpid; an unknown syscall gives
    // eax = -1, edx = ENOSYS (78, BSD's); exit(edx + 100 * (registers intact)).
    let code = Asm::default()
        .bytes(&[0xbb, 0x11, 0x11, 0x11, 0x11]) // mov ebx, 0x11111111
        .bytes(&[0xbe, 0x22, 0x22, 0x22, 0x22]) // mov esi, 0x22222222
        .bytes(&[0xbf, 0x33, 0x33, 0x33, 0x33]) // mov edi, 0x33333333
        .bytes(&[0xbd, 0x44, 0x44, 0x44, 0x44]) // mov ebp, 0x44444444
        .mov_eax(9999)
        .gate()
        .bytes(&[0x89, 0xd1]) // mov ecx, edx (errno)
        .bytes(&[0x81, 0xfb, 0x11, 0x11, 0x11, 0x11, 0x75, 0x1e]) // cmp ebx; jne fail
        .bytes(&[0x81, 0xfe, 0x22, 0x22, 0x22, 0x22, 0x75, 0x16]) // cmp esi; jne fail
        .bytes(&[0x81, 0xff, 0x33, 0x33, 0x33, 0x33, 0x75, 0x0e]) // cmp edi; jne fail
        .bytes(&[0x81, 0xfd, 0x44, 0x44, 0x44, 0x44, 0x75, 0x06]) // cmp ebp; jne fail
        .bytes(&[0x83, 0xf8, 0xff, 0x74, 0x02]) // cmp eax, -1; je ok (skip the next 2 bytes)
        .bytes(&[0xeb, 0x05]) // fail: jmp +5 (status = errno only)
        .bytes(&[0x81, 0xc1, 0x64, 0x00, 0x00, 0x00]) // ok: add ecx, 100
        .bytes(&[0x89, 0xc8]) // mov eax, ecx
        .exit_with_eax();
    let status = run_program(&code.0)?;
    let expected = 100 + unix::Errno::ENOSYS.number();
    kassert!(
        status == expected,
        "status {status}: expected {expected}: 100 (registers intact, eax = -1) + ENOSYS"
    );
    Ok(())
}
ktest!(gate_preserves_registers_and_returns_errno);

fn faults_in_ring3_kill_with_a_signal() -> Result<(), String> {
    let cases: [(&str, &[u8], u32); 4] = [
        ("null read", &[0xa1, 0, 0, 0, 0], killed_status(SIGSEGV)), // mov eax, [0]
        ("hlt", &[0xf4], killed_status(SIGSEGV)),
        ("ud2", &[0x0f, 0x0b], killed_status(SIGILL)),
        (
            "write to code",
            &[0xc7, 0x05, 0x00, 0x80, 0x04, 0x08, 1, 0, 0, 0],
            killed_status(SIGSEGV),
        ),
    ];
    for (what, code, expected) in cases {
        let status = run_program(code)?;
        kassert!(
            status == expected,
            "{what}: status {status}, expected {expected}"
        );
    }
    Ok(())
}
ktest!(faults_in_ring3_kill_with_a_signal);

fn hostile_flags_at_the_gate_do_not_hurt_the_kernel() -> Result<(), String> {
    // pushfd; or dword [esp], FLAG; popfd
    let set_flag = |flag: u32| {
        let mut code = alloc::vec![0x9c, 0x81, 0x0c, 0x24];
        code.extend_from_slice(&flag.to_le_bytes());
        code.push(0x9d);
        code
    };
    // NT (nested task) set through the gate: the kernel's iretq must not
    // fault; the program goes on and exits 0.
    let nt = Asm::default()
        .bytes(&set_flag(1 << 14))
        .syscall(33, &[])
        .syscall(0, &[0]);
    let status = run_program(&nt.0)?;
    kassert!(status == 0, "NT through the gate: status {status}");
    // TF (single step) set by the instruction before the gate: the trap
    // lands on the kernel's entry stub, which absorbs it and clears TF (the
    // gate's return does not restore it), and the program goes on.
    // popfd takes effect after the next instruction: the lcall itself, so
    // the trap lands on the kernel's entry stub.
    let tf = Asm::default()
        .push(0)
        .mov_eax(33)
        .bytes(&set_flag(1 << 8))
        .gate()
        .bytes(&[0x83, 0xc4, 0x04]) // add esp, 4
        .syscall(0, &[0]);
    let status = run_program(&tf.0)?;
    kassert!(status == 0, "TF through the gate: status {status}");
    // TF set well before: the next ring-3 instruction traps: SIGTRAP.
    let early = Asm::default().bytes(&set_flag(1 << 8)).syscall(0, &[0]);
    let status = run_program(&early.0)?;
    kassert!(
        status == killed_status(SIGTRAP),
        "TF in ring 3: status {status}"
    );
    Ok(())
}
ktest!(hostile_flags_at_the_gate_do_not_hurt_the_kernel);

fn a_spinning_process_does_not_starve_another() -> Result<(), String> {
    // A spins forever; B, queued after it, exits 7. Only preemption lets B
    // run; the deadline then kills A (SIGKILL, 137).
    let frames_before = memory::free_frames();
    load_program(&Asm::default().bytes(&[0xeb, 0xfe]).0)?; // jmp $
    load_program(&Asm::default().syscall(0, &[7]).0)?;
    let status = process::run_until_all_exit(Some(timer::now_ns() + 500_000_000));
    let frames_after = memory::free_frames();
    kassert!(
        status == 7,
        "status {status}: the second process did not exit first"
    );
    kassert!(
        frames_after == frames_before,
        "frames leaked: {frames_before} -> {frames_after}"
    );
    Ok(())
}
ktest!(a_spinning_process_does_not_starve_another);
