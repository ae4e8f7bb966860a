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
