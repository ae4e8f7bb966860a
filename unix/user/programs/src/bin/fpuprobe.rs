//! `fpuprobe`: checks the FPU/SSE state a process starts with, before using
//! any: x87 control word 0x037F, MXCSR 0x1F80, XMM0–XMM7 all zero (nothing of
//! another process or of the kernel). One `{"test":"fpuprobe",…}` line; exit 0
//! when it holds.

#![no_std]
#![no_main]

use ulibc::prelude::*;
use ulibc::string::format_array;

// The state is read first thing in `main`; ulibc's crt0 before it sets up the
// arguments without leaving anything in the XMM registers or changing the
// control words, so what is read is what the kernel gave.
ulibc::entry!(main);

fn main(_args: Args) -> i32 {
    let mut xmm = [0u8; 128];
    let (mut fcw, mut mxcsr) = (0u16, 0u32);
    #[cfg(target_arch = "x86")]
    // SAFETY: stores 16 bytes per register into `xmm` (128 bytes, unaligned
    // stores), the control word and MXCSR into locals.
    unsafe {
        core::arch::asm!(
            "movdqu [{p}], xmm0", "movdqu [{p} + 16], xmm1", "movdqu [{p} + 32], xmm2",
            "movdqu [{p} + 48], xmm3", "movdqu [{p} + 64], xmm4", "movdqu [{p} + 80], xmm5",
            "movdqu [{p} + 96], xmm6", "movdqu [{p} + 112], xmm7",
            "fnstcw [{c}]", "stmxcsr [{m}]",
            p = in(reg) xmm.as_mut_ptr(), c = in(reg) &mut fcw, m = in(reg) &mut mxcsr,
            options(nostack, preserves_flags)
        );
    }
    let clean = fcw == 0x037f && mxcsr == 0x1f80 && xmm.iter().all(|&b| b == 0);
    let nonzero = xmm.iter().filter(|&&b| b != 0).count();
    let detail = format_array::<96>(format_args!(
        "fcw {fcw:#06x}, mxcsr {mxcsr:#06x}, {nonzero} non-zero XMM bytes"
    ));
    ulibc::io::test_line("fpuprobe", clean, detail.as_str());
    i32::from(!clean)
}
