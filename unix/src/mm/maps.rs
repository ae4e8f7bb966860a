//! The address-space listing (`/proc/self/maps`) and the reasons printed with a
//! SIGSEGV.
//!
//! One line per remap-table range, in address order, Linux's format:
//!
//! ```text
//! 08048000-0804a000 r-xp 00000000 00:00 0          [text]
//! 0804a000-0804b000 rw-p 00000000 00:00 0          [data]
//! 0804b000-0804d000 rw-p 00000000 00:00 0          [heap]
//! 0804d000-0804e000 ---p 00000000 00:00 0          [guard]
//! affff000-b0000000 rw-p 00000000 00:00 0          [mmap]
//! bf7ff000-bf800000 ---p 00000000 00:00 0          [guard]
//! bffff000-c0000000 rw-p 00000000 00:00 0          [stack]
//! c0000000-c0001000 ---p 00000000 00:00 0          [guard]
//! ```
//!
//! Rights `r`/`w`/`x` and `p` (private) or `s` (an object's shared pages); the offset
//! is the object offset in bytes (0 for private memory); device and inode are 0. Names:
//! `[stack]` (the range holding the page below `STACK_TOP`), `[heap]` (inside
//! `[brk_base, break)`), `[text]`/`[data]`/`[rodata]` (inside one of the program's
//! segments: executable / writable / neither; `[text: page 0 mapped, no null guard]`
//! for code a Phantom image has on page 0), `[guard]`, `[object]`, else `[mmap]`.

use super::ProcessMemory;
use crate::exec::layout::{MMAP_TOP, PAGE, STACK_TOP};
use crate::exec::stack_and_guard;
use alloc::vec::Vec;
use core::fmt::Write;
use vm::remap::{Kind, Perms, Range, RemapTable};
use vm::{Segv, SegvReason};

/// The name of range `r` in the listing.
fn name(r: &Range, mem: &ProcessMemory) -> &'static str {
    let top_page = u64::from(STACK_TOP) / PAGE;
    let page = |a: u32| u64::from(a).div_ceil(PAGE);
    match r.mapping.kind {
        Kind::Guard => return "[guard]",
        Kind::Object { .. } => return "[object]",
        Kind::Anon => {}
    }
    if r.contains(top_page - 1) {
        return "[stack]";
    }
    if mem.brk_base != 0 {
        let (base, brk) = (page(mem.brk_base), page(mem.brk));
        if r.start >= base && r.end() <= brk {
            return "[heap]";
        }
    }
    if mem.in_image(r.start, r.end()) {
        let p = r.mapping.perms;
        return if r.start == 0 {
            // Only code may be on page 0 (a Phantom image linked by older binutils).
            "[text: page 0 mapped, no null guard]"
        } else if p.contains(Perms::EXEC) {
            "[text]"
        } else if p.contains(Perms::WRITE) {
            "[data]"
        } else {
            "[rodata]"
        };
    }
    "[mmap]"
}

/// Append the listing line of `r` to `out`.
fn line(out: &mut alloc::string::String, r: &Range, mem: &ProcessMemory) {
    let p = r.mapping.perms;
    let flag = |on: bool, c: char| if on { c } else { '-' };
    let (shared, offset) = match r.mapping.kind {
        Kind::Object { offset, .. } => ('s', offset.saturating_mul(PAGE)),
        _ => ('p', 0),
    };
    let head_start = out.len();
    // Writing to a String cannot fail.
    let _ = write!(
        out,
        "{:08x}-{:08x} {}{}{}{} {:08x} 00:00 0",
        r.start.saturating_mul(PAGE),
        r.end().saturating_mul(PAGE),
        flag(p.contains(Perms::READ), 'r'),
        flag(p.contains(Perms::WRITE), 'w'),
        flag(p.contains(Perms::EXEC), 'x'),
        shared,
        offset,
    );
    // Pad so the names line up (column 49, as Linux pads).
    while out.len() - head_start < 49 {
        out.push(' ');
    }
    out.push_str(name(r, mem));
    out.push('\n');
}

/// Longest listing line: 49 columns before the name, the longest name, `\n`.
const LINE_MAX: usize = 49 + 40 + 1;

/// The text of `/proc/self/maps` for `remap` (see the module documentation).
/// Its buffer is reserved up front, fallibly (16384 ranges make about 1.4 MiB):
/// `ENOMEM` when the kernel's heap cannot hold it, never a failed allocation.
pub fn maps_text(remap: &RemapTable, mem: &ProcessMemory) -> Result<Vec<u8>, crate::Errno> {
    let mut out = alloc::string::String::new();
    out.try_reserve_exact(remap.len().saturating_mul(LINE_MAX))
        .map_err(|_| crate::Errno::ENOMEM)?;
    for r in remap.iter() {
        line(&mut out, &r, mem);
    }
    Ok(out.into_bytes())
}

/// Why `segv` happened, in the words of the layout, for the console line the
/// kernel prints when it kills a process: "guard page above break", "stack limit",
/// "guard page above the stack top", "null page", "below the stack limit",
/// "unmapped", "write to read-only page", …. Stateless: the guards are recognised
/// by their place in `remap` (the one at `STACK_TOP`, the one just below the stack;
/// any other guard is the heap's).
pub fn describe_segv(remap: &RemapTable, segv: &Segv) -> &'static str {
    let page = segv.addr / PAGE;
    let top_page = u64::from(STACK_TOP) / PAGE;
    match segv.reason {
        SegvReason::Guard if page == top_page => "guard page above the stack top",
        SegvReason::Guard => match stack_and_guard(remap) {
            Some((_, g)) if g.contains(page) => "stack limit (guard page below the stack)",
            _ => "guard page above break",
        },
        SegvReason::Unmapped if page == 0 => "null page (page 0 is never mapped)",
        SegvReason::Unmapped if page >= u64::from(MMAP_TOP) / PAGE && page < top_page => {
            "stack limit (below the stack's guard page)"
        }
        SegvReason::Unmapped => "unmapped",
        SegvReason::WriteToReadOnly => "write to read-only page",
        SegvReason::NoAccess => "no access (PROT_NONE page)",
        SegvReason::ExecNonExec => "execution of non-executable page",
        SegvReason::KernelAddress => "kernel address",
        SegvReason::OutOfMemory => "out of memory",
    }
}
