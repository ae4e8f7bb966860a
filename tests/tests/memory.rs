//! Memory that grows in place: the heap (brk with its guard page), the
//! stack (growth on demand, its limit, the guards above and below), malloc
//! over sbrk, the address-space listing — and no frame leaked by any run.

use tests::{
    assert_all_tests_pass, assert_no_leak, assert_status, console, exits, Boot, RunOutcome,
};

/// The exit statuses of the processes called `name`, in order.
fn exit_status(out: &RunOutcome, name: &str) -> Vec<u64> {
    exits(out)
        .into_iter()
        .filter(|(n, _)| n == name)
        .map(|(_, s)| s)
        .collect()
}

#[test]
fn sbrk_grows_and_shrinks_in_place_and_returns_every_frame() {
    // Scaled down under TCG: 64 MiB, 2 rounds (the default is 256 MiB, 4).
    let out = Boot::new().module("sbrk-stress 64M 2").run();
    assert_status(&out, 0);
    assert_all_tests_pass(&out, 1);
    assert!(
        console(&out).contains("the break is back at its start"),
        "{}",
        out.report()
    );
    assert_no_leak(&out);
}

#[test]
fn malloc_free_realloc_calloc_keep_their_contents() {
    let out = Boot::new().module("malloc-stress").run();
    assert_status(&out, 0);
    assert_all_tests_pass(&out, 1);
    assert_no_leak(&out);
}

#[test]
fn the_stack_grows_to_its_limit_and_an_overflow_dies_at_the_guard() {
    let out = Boot::new()
        .module("stack-stress")
        .module("stack-stress overflow")
        .module("hello")
        .run();
    let statuses = exit_status(&out, "stack-stress");
    assert_eq!(statuses.len(), 2, "{}", out.report());
    assert!(
        statuses.contains(&0) && statuses.contains(&139),
        "{statuses:?}\n{}",
        out.report()
    );
    let signal = out.event("signal").expect("the overflow is killed");
    assert_eq!(signal["signame"], "SIGSEGV");
    assert!(
        signal["reason"]
            .as_str()
            .is_some_and(|r| r.contains("stack limit")),
        "{signal}"
    );
    // The other modules went on.
    assert_eq!(exit_status(&out, "hello"), [0]);
    assert_status(&out, 139);
    assert_no_leak(&out);
}

#[test]
fn each_guard_is_a_sigsegv_naming_it() {
    let cases = [
        ("null", "0x0", "null page"),
        ("brk", "", "guard page above break"),
        ("stack-top", "0xc0000000", "guard page above the stack top"),
        ("stack-limit", "0xbf7ff000", "stack limit"),
    ];
    let mut boot = Boot::new();
    for (case, _, _) in cases {
        boot = boot.module(format!("guard-test {case}"));
    }
    let out = boot
        .module("guard-test stack-deep")
        .module("guard-test read-guard")
        .run();
    let signals = out.events("signal");
    assert_eq!(signals.len(), cases.len(), "{}", out.report());
    for (case, addr, reason) in cases {
        let found = signals.iter().any(|s| {
            s["signame"] == "SIGSEGV"
                && (addr.is_empty() || s["addr"] == addr)
                && s["reason"].as_str().is_some_and(|r| r.contains(reason))
        });
        assert!(
            found,
            "guard-test {case}: no SIGSEGV at {addr:?} naming {reason:?}\n{}",
            out.report()
        );
    }
    // stack-deep may touch up to the limit; read-guard gets EFAULT or a
    // short count, never writing into the guard.
    assert_all_tests_pass(&out, 2);
    assert_no_leak(&out);
}

#[test]
fn the_address_space_is_listed_in_proc_self_maps() {
    let out = Boot::new().module("cat /proc/self/maps").run();
    assert_status(&out, 0);
    let text = console(&out);
    for name in ["[text]", "[stack]", "[guard]"] {
        assert!(text.contains(name), "{name} missing\n{}", out.report());
    }
    assert!(
        text.contains("c0000000-c0001000 ---p"),
        "the guard above the stack top\n{}",
        out.report()
    );
}

#[test]
fn mmap_munmap_mprotect_work_and_refused_accesses_die() {
    let out = Boot::new()
        .module("mmaptest")
        .module("mmaptest maxmap")
        .module("mmaptest unmapped")
        .module("mmaptest readonly")
        .module("mmaptest none")
        .module("mmaptest noexec")
        .run();
    assert_all_tests_pass(&out, 2);
    let reasons: Vec<String> = out
        .events("signal")
        .iter()
        .map(|s| {
            assert_eq!(s["signame"], "SIGSEGV", "{s}");
            s["reason"].as_str().unwrap_or_default().to_string()
        })
        .collect();
    for reason in [
        "unmapped",
        "write to read-only page",
        "no access (PROT_NONE page)",
        "execution of non-executable page",
    ] {
        assert!(
            reasons.iter().any(|r| r == reason),
            "{reason:?} not in {reasons:?}\n{}",
            out.report()
        );
    }
    assert_eq!(
        exit_status(&out, "mmaptest")
            .iter()
            .filter(|&&s| s == 139)
            .count(),
        4
    );
    assert_no_leak(&out);
}
