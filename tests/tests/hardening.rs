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

/// `heapbomb` (each kept page in a window of its own) gets `ENOMEM`, the
/// kernel goes on: `hello` after it still runs, nothing leaks.
/// The heap grows from the frame allocator on the way (never past half of
/// memory) and gives every grown region back once the bomb is gone.
fn heapbomb_on(memory_mib: u32) {
    let out = Boot::new()
        .memory_mib(memory_mib)
        .module("heapbomb")
        .module("hello")
        .run();
    assert_status(&out, 0);
    assert_all_tests_pass(&out, 1);
    assert!(
        tests::console(&out).contains("hello, world"),
        "{}",
        out.report()
    );
    let boot_heap = out
        .event("memory")
        .map(|e| e["heap_bytes"].as_u64().unwrap_or(0));
    let grown: Vec<u64> = out
        .events("heap_grow")
        .iter()
        .filter_map(|e| e["total_bytes"].as_u64())
        .collect();
    let shrunk: Vec<u64> = out
        .events("heap_shrink")
        .iter()
        .filter_map(|e| e["total_bytes"].as_u64())
        .collect();
    let max = grown.iter().copied().max().unwrap_or(0);
    assert!(
        !grown.is_empty() && max <= u64::from(memory_mib) << 19,
        "the heap grew to {max} (at most half of memory)\n{}",
        out.report()
    );
    assert_eq!(shrunk.len(), grown.len(), "{}", out.report());
    // The boot heap plus the bootstrap region is what is left.
    let left = shrunk.last().copied().unwrap_or(0);
    assert!(
        boot_heap.is_some_and(|b| left >= b && left < b + (1 << 20)),
        "{left} left of {boot_heap:?}\n{}",
        out.report()
    );
    assert_no_leak(&out);
}

#[test]
fn exhausting_the_kernel_heap_is_enomem_on_128_mib() {
    heapbomb_on(128);
}

#[test]
fn exhausting_the_kernel_heap_is_enomem_on_512_mib() {
    heapbomb_on(512);
}

#[test]
fn eight_processes_at_the_range_limit_on_128_mib_do_not_panic_the_kernel() {
    let mut boot = Boot::new().memory_mib(128);
    for _ in 0..8 {
        boot = boot.module("mmaptest maxmap");
    }
    let out = boot.run();
    // Some of them get ENOMEM where they expect room (status 1): the point is
    // that the kernel answers instead of panicking, and gets everything back.
    assert!(
        matches!(out.verdict(), tests::Verdict::Shutdown(0 | 1)),
        "{}",
        out.report()
    );
    assert!(out.event("panic").is_none(), "{}", out.report());
    assert_eq!(out.events("exit").len(), 8, "{}", out.report());
    assert_no_leak(&out);
}

#[test]
fn more_processes_than_the_heap_holds_are_refused_with_enomem() {
    let mut boot = Boot::new().memory_mib(64);
    for _ in 0..255 {
        boot = boot.module("hello");
    }
    let out = boot.run();
    assert_status(&out, 0);
    let refused = out.events("exec_error");
    let ran = out.events("exit");
    assert_eq!(refused.len() + ran.len(), 255, "{}", out.report());
    assert!(!ran.is_empty(), "{}", out.report());
    for e in &refused {
        assert_eq!(e["error"], "ENOMEM", "{e}");
    }
    assert_no_leak(&out);
}
