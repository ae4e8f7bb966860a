//! Signals: which signal a CPU exception in ring 3 raises, a signal's name,
//! the exit status of a process it kills, and a process's signal state as
//! plain data ([`SignalState`]: actions, blocked and pending sets, alternate
//! stack) with the rules of what a signal does. The numbers are Phantom's
//! (BSD's), from the one ABI.

use crate::abi::signal::{self, SIGBUS, SIGFPE, SIGILL, SIGSEGV, SIGTRAP};

/// The signal an x86 exception `vector` raised in ring 3 sends: divide error,
/// x87/SIMD errors and device-not-available are `SIGFPE`; debug and
/// breakpoint `SIGTRAP`; invalid opcode `SIGILL`; alignment check `SIGBUS`;
/// everything else (#GP, #SS, #NP, a bound range, …) `SIGSEGV`.
pub fn for_exception(vector: u64) -> u32 {
    match vector {
        0 | 7 | 16 | 19 => SIGFPE,
        1 | 3 => SIGTRAP,
        6 => SIGILL,
        17 => SIGBUS,
        _ => SIGSEGV,
    }
}

/// The name of `signal` ("SIG?" for a number the ABI does not define).
pub fn name(signal: u32) -> &'static str {
    signal::ALL
        .iter()
        .find(|&&(_, value)| value == u64::from(signal))
        .map_or("SIG?", |&(name, _)| name)
}

/// The highest signal number.
pub const SIGNAL_MAX: u32 = 31;

/// Whether `signal`'s default action is to do nothing: `SIGCHLD`, `SIGURG`,
/// `SIGWINCH`, `SIGINFO`, `SIGCONT`, and the stop signals (stopping is not
/// supported: a stop signal is ignored).
pub fn ignored_by_default(signal: u32) -> bool {
    use crate::abi::signal::*;
    matches!(
        signal,
        SIGCHLD | SIGURG | SIGWINCH | SIGINFO | SIGCONT | SIGSTOP | SIGTSTP | SIGTTIN | SIGTTOU
    )
}

/// Whether `signal` ends a process whose ignored set is `ignored` (bit `n` for
/// signal `n`). `SIGKILL` always does.
pub fn terminates(signal: u32, ignored: u32) -> bool {
    let bit = 1u32.checked_shl(signal).unwrap_or(0);
    signal == crate::abi::signal::SIGKILL || !(ignored_by_default(signal) || ignored & bit != 0)
}

/// `SIG_DFL`: the default action.
pub const SIG_DFL: u32 = 0;
/// `SIG_IGN`: ignore the signal.
pub const SIG_IGN: u32 = 1;

/// What a process does with one signal (`sigaction`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SigAction {
    /// `SIG_DFL`, `SIG_IGN` or the handler's address.
    pub handler: u32,
    /// Signals blocked while the handler runs.
    pub mask: u32,
    /// `SA_*` flags.
    pub flags: u32,
}

/// An alternate signal stack (`sigaltstack`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AltStack {
    /// Lowest address.
    pub sp: u32,
    /// Size in bytes.
    pub size: u32,
}

/// Signals that can be neither caught, ignored nor blocked.
pub const UNBLOCKABLE: u32 =
    (1 << crate::abi::signal::SIGKILL) | (1 << crate::abi::signal::SIGSTOP);

/// A process's signals. Plain data, copied by `fork`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SignalState {
    /// The action of each signal (index 0 unused).
    pub actions: [SigAction; 32],
    /// Blocked signals (bit `n` for signal `n`).
    pub blocked: u32,
    /// Signals sent and not delivered yet.
    pub pending: u32,
    /// The alternate stack, if one is set.
    pub altstack: Option<AltStack>,
    /// A handler runs on the alternate stack now.
    pub on_altstack: bool,
    /// While in `sigsuspend`: the mask it replaced, which the handler's frame
    /// saves (so `sigreturn` puts it back).
    pub suspended_mask: Option<u32>,
}

impl SignalState {
    /// The signals it ignores (`SIG_IGN`).
    pub fn ignored(&self) -> u32 {
        self.dispositions().0
    }

    /// The signals it catches (a handler function).
    pub fn caught(&self) -> u32 {
        self.dispositions().1
    }

    /// (ignored, caught) in one pass over the actions.
    pub fn dispositions(&self) -> (u32, u32) {
        let (mut ignored, mut caught) = (0u32, 0u32);
        let mut bit = 1u32;
        for a in &self.actions[1..] {
            bit <<= 1;
            match a.handler {
                SIG_DFL => {}
                SIG_IGN => ignored |= bit,
                _ => caught |= bit,
            }
        }
        (ignored, caught)
    }

    /// Make `action` the action of `signal`; a pending `signal` the action
    /// ignores is dropped.
    pub fn set_action(&mut self, signal: u32, action: SigAction) {
        if let Some(slot) = self.actions.get_mut(signal as usize) {
            *slot = action;
        }
        let ignores =
            action.handler == SIG_IGN || (action.handler == SIG_DFL && ignored_by_default(signal));
        if ignores {
            self.pending &= !1u32.checked_shl(signal).unwrap_or(0);
        }
    }

    /// The lowest pending signal that is not blocked, if any.
    pub fn deliverable(&self) -> Option<u32> {
        let ready = self.pending & !self.blocked;
        (ready != 0).then(|| ready.trailing_zeros())
    }

    /// The mask a handler's frame saves: the one `sigsuspend` replaced, if the
    /// process is in it (it then ends), else the mask in force.
    pub fn frame_mask(&mut self) -> u32 {
        self.suspended_mask.take().unwrap_or(self.blocked)
    }

    /// Leave `sigsuspend` without a handler: its mask goes back.
    pub fn end_suspend(&mut self) {
        if let Some(mask) = self.suspended_mask.take() {
            self.blocked = mask;
        }
    }

    /// What `execve` keeps: handlers go back to `SIG_DFL` (the code is gone),
    /// ignored signals stay ignored, the mask and pending signals stay, the
    /// alternate stack goes.
    pub fn exec(&mut self) {
        for a in self.actions.iter_mut() {
            if a.handler > SIG_IGN {
                *a = SigAction::default();
            }
        }
        self.altstack = None;
        self.on_altstack = false;
    }
}

/// The exit status of a process killed by `signal`, as a shell shows it.
pub fn killed_status(signal: u32) -> u32 {
    crate::process::Ended::Killed(signal).shell_status()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::signal::SIGKILL;

    #[test]
    fn exceptions_raise_bsd_signals() {
        assert_eq!(for_exception(0), 8);
        assert_eq!(for_exception(3), 5);
        assert_eq!(for_exception(6), 4);
        assert_eq!(for_exception(17), 10, "SIGBUS is 10 on BSD, not Linux's 7");
        assert_eq!(for_exception(13), 11);
        assert_eq!(for_exception(14), 11);
    }

    #[test]
    fn names_and_statuses() {
        assert_eq!(name(SIGSEGV), "SIGSEGV");
        assert_eq!(name(SIGBUS), "SIGBUS");
        assert_eq!(name(7), "SIGEMT");
        assert_eq!(name(SIGKILL), "SIGKILL");
        assert_eq!(name(0), "SIG?");
        assert_eq!(name(1000), "SIG?");
        assert_eq!(killed_status(SIGKILL), 137);
    }
}

/// Where a handler returns to: a user address nothing ever maps. The
/// handler's `ret` faults there, and the kernel, seeing an instruction fetch
/// at exactly this address, restores the interrupted context from the frame
/// below the stack pointer (`sigreturn`). Needs no code in the process.
pub const SIGRETURN_ADDR: u32 = 0xFFFF_E000;

/// Marks a signal frame's saved context ("SIGF").
const FRAME_MAGIC: u32 = 0x5349_4746;

/// The user registers a signal frame saves and `sigreturn` restores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UserRegs {
    /// General registers.
    pub eax: u32,
    /// .
    pub ebx: u32,
    /// .
    pub ecx: u32,
    /// .
    pub edx: u32,
    /// .
    pub esi: u32,
    /// .
    pub edi: u32,
    /// .
    pub ebp: u32,
    /// The stack pointer.
    pub esp: u32,
    /// The instruction pointer.
    pub eip: u32,
    /// The flags.
    pub eflags: u32,
}

/// The flags a program may set: CF PF AF ZF SF TF DF OF and AC; IF is always
/// set, IOPL 0, no virtual-8086 or nested task.
pub fn user_eflags(eflags: u32) -> u32 {
    (eflags & 0x0004_0DD5) | 0x202
}

/// Size of a signal frame: the handler's return address and three arguments,
/// `siginfo_t`, the saved context, padding, and the 512-byte FPU/SSE image.
pub const FRAME_SIZE: u32 = FPU_OFFSET + 512;
const INFO_OFFSET: u32 = 16;
const CONTEXT_OFFSET: u32 = INFO_OFFSET + crate::abi::Siginfo::SIZE as u32;
const CONTEXT_WORDS: usize = 13;
/// The FPU image's offset: 16-aligned when the frame starts at 12 mod 16.
const FPU_OFFSET: u32 = 132;

/// A signal frame to write on the user stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Where it starts: the handler's stack pointer (`esp + 4` is 16-aligned,
    /// as the i386 ABI has it at a function's entry).
    pub esp: u32,
    /// Its bytes, from `esp` up.
    pub bytes: [u8; FRAME_SIZE as usize],
}

/// The frame for a handler of `signal` with `info`, interrupting `regs` (with
/// FPU image `fpu`), whose mask was `blocked` and which ran on the alternate
/// stack or not, placed below `stack_top`. `None` when it would not fit
/// below `stack_top`.
pub fn build_frame(
    signal: u32,
    info: &crate::abi::Siginfo,
    regs: &UserRegs,
    blocked: u32,
    on_altstack: bool,
    fpu: &[u8; 512],
    stack_top: u32,
) -> Option<Frame> {
    use crate::abi::Pod;
    let below = stack_top.checked_sub(FRAME_SIZE + 16)?;
    let esp = (below & !15) + 12;
    let mut bytes = [0u8; FRAME_SIZE as usize];
    let mut put = |at: u32, v: u32| {
        bytes[at as usize..at as usize + 4].copy_from_slice(&v.to_le_bytes());
    };
    put(0, SIGRETURN_ADDR);
    put(4, signal);
    put(8, esp + INFO_OFFSET);
    put(12, esp + CONTEXT_OFFSET);
    let context = [
        FRAME_MAGIC,
        blocked,
        u32::from(on_altstack),
        regs.eax,
        regs.ebx,
        regs.ecx,
        regs.edx,
        regs.esi,
        regs.edi,
        regs.ebp,
        regs.esp,
        regs.eip,
        regs.eflags,
    ];
    for (i, v) in context.iter().enumerate() {
        put(CONTEXT_OFFSET + 4 * i as u32, *v);
    }
    let info_at = INFO_OFFSET as usize;
    info.write_bytes(&mut bytes[info_at..info_at + crate::abi::Siginfo::SIZE]);
    bytes[FPU_OFFSET as usize..].copy_from_slice(fpu);
    Some(Frame { esp, bytes })
}

/// What a signal frame restores: the registers (flags made safe), the mask
/// (signals that cannot be blocked removed), whether the interrupted code ran
/// on the alternate stack, and the FPU image (its MXCSR's reserved bits
/// cleared). `None` when `bytes` ([`FRAME_SIZE`] of them from the frame's
/// start) is not a frame the kernel wrote.
pub fn parse_frame(bytes: &[u8]) -> Option<(UserRegs, u32, bool, [u8; 512])> {
    if bytes.len() < FRAME_SIZE as usize {
        return None;
    }
    let word =
        |at: usize| u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    let c = CONTEXT_OFFSET as usize;
    let w: [u32; CONTEXT_WORDS] = core::array::from_fn(|i| word(c + 4 * i));
    if w[0] != FRAME_MAGIC {
        return None;
    }
    let regs = UserRegs {
        eax: w[3],
        ebx: w[4],
        ecx: w[5],
        edx: w[6],
        esi: w[7],
        edi: w[8],
        ebp: w[9],
        esp: w[10],
        eip: w[11],
        eflags: user_eflags(w[12]),
    };
    let mut fpu = [0u8; 512];
    fpu.copy_from_slice(&bytes[FPU_OFFSET as usize..FRAME_SIZE as usize]);
    // MXCSR (bytes 24..28): only the bits every SSE CPU defines (0–15, DAZ
    // aside), so `fxrstor` cannot fault on it.
    let mxcsr = u32::from_le_bytes([fpu[24], fpu[25], fpu[26], fpu[27]]) & 0xFFBF;
    fpu[24..28].copy_from_slice(&mxcsr.to_le_bytes());
    Some((regs, w[1] & !UNBLOCKABLE, w[2] != 0, fpu))
}

#[cfg(test)]
mod frame_tests {
    use super::*;

    #[test]
    fn a_frame_round_trips_and_forgeries_are_refused_or_tamed() {
        let regs = UserRegs {
            eax: 1,
            esp: 0xBFFF_F000,
            eip: 0x0804_8123,
            eflags: 0xFFFF_FFFF,
            ..UserRegs::default()
        };
        let info = crate::abi::Siginfo {
            si_signo: 11,
            si_addr: 0xdead_0000,
            ..Default::default()
        };
        let mut fpu = [0u8; 512];
        fpu[24..28].copy_from_slice(&0xFFFF_FFFFu32.to_le_bytes());
        let f = build_frame(11, &info, &regs, 1 << 9 | 1 << 2, true, &fpu, 0xC000_0000).unwrap();
        assert_eq!((f.esp + 4) % 16, 0, "the i386 ABI's alignment at entry");
        assert_eq!((f.esp + FPU_OFFSET) % 16, 0, "fxsave's alignment");
        assert!(f.esp + FRAME_SIZE <= 0xC000_0000);
        let (back, blocked, alt, fpu_back) = parse_frame(&f.bytes).unwrap();
        assert_eq!(back.eflags & 0x3000, 0, "no IOPL from a forged frame");
        assert_eq!(back.eflags & 0x200, 0x200, "IF stays on");
        assert_eq!(
            (back.eax, back.esp, back.eip),
            (1, 0xBFFF_F000, 0x0804_8123)
        );
        assert_eq!(blocked, 1 << 2, "SIGKILL cannot be blocked");
        assert!(alt);
        assert_eq!(
            u32::from_le_bytes(fpu_back[24..28].try_into().unwrap()),
            0xFFBF
        );
        let mut forged = f.bytes;
        forged[CONTEXT_OFFSET as usize] ^= 1;
        assert!(parse_frame(&forged).is_none());
        assert!(parse_frame(&f.bytes[..100]).is_none());
        assert!(build_frame(11, &info, &regs, 0, false, &fpu, 100).is_none());
    }
}
