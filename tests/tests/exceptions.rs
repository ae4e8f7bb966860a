//! Kernel exceptions (`crash=…` on the kernel command line) are reported
//! with their vector, error code, RIP, CR2 and mode, and end the run with
//! status 2 and one shutdown line — never a reboot.

use tests::{assert_status, hex_field, u64_field, Boot, RunOutcome, Value};

/// Boot with `crash=what`; check everything common to all exceptions and
/// return the exception event.
fn crash(what: &str, vector: u64) -> (RunOutcome, Value) {
    let out = Boot::new().append(&format!("crash={what}")).run();
    assert_status(&out, 2);
    assert_eq!(
        out.events("boot").len(),
        1,
        "the kernel booted more than once (reboot?)\n{}",
        out.report()
    );
    let exc = out.events("exception");
    assert_eq!(
        exc.len(),
        1,
        "one exception event expected\n{}",
        out.report()
    );
    let e = exc[0].clone();
    assert_eq!(u64_field(&e, "vector"), vector, "{e}");
    assert_eq!(e["mode"], "kernel", "{e}");
    assert!(e["name"].as_str().is_some_and(|n| !n.is_empty()), "{e}");
    assert!(e.get("error_code").is_some_and(Value::is_u64), "{e}");
    assert_ne!(hex_field(&e, "rip"), 0, "{e}");
    let _ = hex_field(&e, "cr2");
    (out, e)
}

#[test]
fn invalid_opcode_is_reported() {
    crash("ud", 6);
}

#[test]
fn page_fault_reports_cr2() {
    let (_, e) = crash("pf", 14);
    // The error code of a page fault is never above its defined bits.
    assert!(u64_field(&e, "error_code") < 0x10000, "{e}");
}

#[test]
fn divide_error_is_reported() {
    crash("de", 0);
}

#[test]
fn general_protection_is_reported() {
    crash("gp", 13);
}

#[test]
fn a_write_to_the_kernel_text_faults() {
    // The image is mapped write-xor-execute: the text is read-only even for
    // the kernel (CR0.WP), so the write is a page fault (error code: present,
    // write) at the text's address, not a silent change of code.
    let (out, e) = crash("wx", 14);
    assert_eq!(
        u64_field(&e, "error_code") & 0b11,
        0b11,
        "present + write: {e}"
    );
    assert!(hex_field(&e, "cr2") >= 0xffff_ffff_8000_0000, "{e}");
    let cpu = out.event("cpu").expect("the cpu line");
    assert_eq!(cpu["kernel_wx"], true, "{cpu}");
}

#[test]
fn a_kernel_stack_overflow_is_a_reported_double_fault() {
    // The page below the stack is unmapped: the overflow's page fault cannot be
    // pushed and becomes a double fault, taken on its own stack and reported —
    // not a silent overwrite of what lies below the stack.
    crash("stack", 8);
}
