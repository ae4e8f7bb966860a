//! In-kernel tests: `ktest=all` runs every one and they pass; `ktest=a,b`
//! runs exactly those.

use tests::{assert_status, Boot};

#[test]
fn all_ktests_pass() {
    let out = Boot::new().append("ktest=all").run();
    let tests = out.tests();
    assert!(!tests.is_empty(), "no test lines\n{}", out.report());
    let failed: Vec<_> = tests.iter().filter(|t| !t.passed).collect();
    assert!(
        failed.is_empty(),
        "failed ktests: {failed:#?}\n{}",
        out.report()
    );
    let mut names: Vec<_> = tests.iter().map(|t| t.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(
        names.len(),
        tests.len(),
        "a ktest ran twice\n{}",
        out.report()
    );
    assert_status(&out, 0);
}

#[test]
fn ktests_can_be_selected_by_name() {
    let all = Boot::new().append("ktest=all").run();
    let names: Vec<String> = all.tests().into_iter().map(|t| t.name).collect();
    assert!(!names.is_empty(), "no test lines\n{}", all.report());
    let chosen: Vec<&str> = names.iter().rev().take(2).map(String::as_str).collect();

    let out = Boot::new()
        .append(&format!("ktest={}", chosen.join(",")))
        .run();
    assert_status(&out, 0);
    let mut ran: Vec<String> = out.tests().into_iter().map(|t| t.name).collect();
    ran.sort();
    let mut want: Vec<String> = chosen.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(
        ran,
        want,
        "ktest={} ran other tests\n{}",
        chosen.join(","),
        out.report()
    );
}

/// The kernel must not depend on what the firmware left behind: qboot (the
/// fast firmware used under `--kvm`) does not put the local APIC in
/// virtual-wire mode as SeaBIOS does, so legacy PIC interrupts (the PIT tick)
/// only arrive because the kernel sets LINT0 to ExtINT itself.
#[test]
fn ktests_pass_under_qboot() {
    if !std::path::Path::new(xtask::qemu::QBOOT).is_file() {
        eprintln!("skipped: {} not installed", xtask::qemu::QBOOT);
        return;
    }
    let out = Boot::new()
        .append("ktest=all")
        .with(|o| o.firmware = xtask::Firmware::Qboot)
        .run();
    let failed: Vec<_> = out.tests().into_iter().filter(|t| !t.passed).collect();
    assert!(
        failed.is_empty(),
        "failed ktests: {failed:#?}\n{}",
        out.report()
    );
    assert_status(&out, 0);
}
