//! Hardening: no program can spy on another through the machine's state.
//! Segment selectors are per process (saved and restored on every switch,
//! clean at start).

use tests::{assert_all_tests_pass, assert_no_leak, assert_status, Boot};

#[test]
fn segment_selectors_do_not_leak_between_processes() {
    // `segprobe set` loads FS and GS and checks they stay; two watchers, run
    // in the same time slices, check theirs stay clean (FS = GS = 0).
    let out = Boot::new()
        .module("segprobe set 400")
        .module("segprobe watch 400")
        .module("segprobe watch 400")
        .run();
    assert_status(&out, 0);
    assert_all_tests_pass(&out, 3);
    assert_no_leak(&out);
}

#[test]
fn with_umip_a_program_cannot_read_the_descriptor_tables() {
    // QEMU's `-cpu max` has UMIP, SMEP and SMAP: the kernel turns them all on
    // (and the ABI test still passes with them on).
    let out = Boot::new()
        .with(|o| o.cpu = Some("max".into()))
        .module("umipprobe")
        .module("abitest")
        .run();
    let cpu = out.event("cpu").expect("the kernel's cpu line");
    for feature in ["umip", "smep", "smap"] {
        assert_eq!(cpu[feature], true, "{feature} on: {cpu}");
    }
    let signal = out
        .events("signal")
        .into_iter()
        .find(|e| e["name"] == "umipprobe")
        .unwrap_or_else(|| panic!("umipprobe was not killed\n{}", out.report()));
    assert_eq!(signal["signal"], 11, "SIGSEGV for the #GP: {signal}");
    assert!(
        !tests::console(&out).contains("GDT base"),
        "sgdt succeeded\n{}",
        out.report()
    );
    assert_eq!(
        out.tests().iter().filter(|t| t.passed).count(),
        1,
        "{}",
        out.report()
    );
    assert_no_leak(&out);
}

#[test]
fn a_cpu_without_nx_runs_programs() {
    // Without NX, bit 63 of a page-table entry is reserved: the kernel must not
    // set it (every process used to fault on it forever).
    let out = Boot::new()
        .with(|o| o.cpu = Some("qemu64,-nx".into()))
        .module("hello")
        .module("abitest")
        .run();
    assert_status(&out, 0);
    let cpu = out.event("cpu").expect("the kernel's cpu line");
    assert_eq!(cpu["nx"], false, "{cpu}");
    assert!(
        tests::console(&out).contains("hello, world"),
        "{}",
        out.report()
    );
    assert_all_tests_pass(&out, 1);
    assert_no_leak(&out);
}

#[test]
fn a_long_read_is_cut_into_slices_and_the_deadline_holds() {
    // A 400 MiB read of /dev/zero into fresh memory used to keep interrupts
    // off for most of a second, losing ticks, so `timeout=2` killed only
    // after ~64 s. Calls now return a partial count after a time slice, and
    // the deadline is kept by the TSC.
    let out = Boot::new()
        .memory_mib(1024)
        .append("timeout=2")
        .module("bigread 400")
        .run();
    assert_status(&out, 137);
    assert_all_tests_pass(&out, 1);
    let deadline = out.event("deadline").expect("the deadline kill");
    let at = tests::u64_field(deadline, "at_ns");
    assert!(
        (2_000_000_000..3_000_000_000).contains(&at),
        "killed at {at} ns, not within 3 s\n{}",
        out.report()
    );
    assert_no_leak(&out);
}

#[test]
fn every_process_starts_with_a_clean_fpu_state() {
    // Built as an FXSAVE image (x87 and MXCSR defaults, zero XMM), never
    // captured from the CPU, which holds whoever ran last.
    let out = Boot::new()
        .module("fpuprobe")
        .module("abitest")
        .module("fpuprobe")
        .run();
    assert_status(&out, 0);
    assert_all_tests_pass(&out, 3);
    assert_no_leak(&out);
}
