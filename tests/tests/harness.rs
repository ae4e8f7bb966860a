//! The runner itself: a hung guest is killed at the timeout, and a QEMU that
//! ends without a shutdown line is a failure, never a pass.

use std::time::Duration;

use tests::{Boot, TempFile, Verdict};

#[test]
fn a_stopped_guest_times_out_and_is_killed() {
    // -S: the CPU never starts, so no shutdown line ever comes.
    let out = Boot::new()
        .timeout(Duration::from_secs(2))
        .with(|o| o.extra_args.push("-S".into()))
        .run();
    assert_eq!(out.verdict(), Verdict::TimedOut, "{}", out.report());
    assert_eq!(out.exit_code(), xtask::EXIT_TIMEOUT);
    assert!(out.elapsed < Duration::from_secs(15), "{:?}", out.elapsed);
}

#[test]
fn qemu_failing_without_shutdown_line_is_a_failure() {
    // Not a kernel: QEMU refuses it and exits, with no shutdown line.
    let junk = TempFile::with_size("not-a-kernel", 8192);
    let out = Boot::new()
        .with(|o| o.kernel = junk.path().to_path_buf())
        .run();
    assert_eq!(out.verdict(), Verdict::NoShutdown, "{}", out.report());
    assert_eq!(out.exit_code(), xtask::EXIT_NO_SHUTDOWN);
    assert!(!out.qemu_stderr.is_empty(), "QEMU's error message is kept");
}
