//! Unix processes made by `fork`: isolation both ways, shared descriptors,
//! `waitpid` statuses, many fork+exit+wait rounds without a leaked frame, and
//! a fork bomb that meets the process limit while the kernel goes on.

use tests::{assert_all_tests_pass, assert_no_leak, assert_status, Boot};

#[test]
fn forked_children_are_isolated_and_waited_for() {
    let out = Boot::new().module("forktest").run();
    assert_status(&out, 0);
    assert_all_tests_pass(&out, 1);
    assert_no_leak(&out);
    let signal = out
        .events("signal")
        .into_iter()
        .find(|e| e["name"] == "forktest")
        .unwrap_or_else(|| panic!("the SIGSEGV child was not killed\n{}", out.report()));
    assert_eq!(signal["signal"], 11, "{signal}");
}

#[test]
fn a_fork_bomb_meets_the_limit_and_the_kernel_goes_on() {
    let out = Boot::new().module("forkbomb").module("hello").run();
    assert_status(&out, 0);
    assert_all_tests_pass(&out, 1);
    assert!(
        tests::console(&out).contains("hello, world"),
        "{}",
        out.report()
    );
    assert_no_leak(&out);
}

#[test]
fn pipes_carry_data_between_processes() {
    let out = Boot::new().module("pipetest").run();
    assert_status(&out, 0);
    assert_all_tests_pass(&out, 1);
    assert_no_leak(&out);
}
