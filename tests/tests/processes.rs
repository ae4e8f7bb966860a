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

#[test]
fn the_shell_runs_pipelines_of_programs_from_the_root_file_system() {
    let out = Boot::new()
        .root_fs()
        .module("sh -c echo hi | cat | wc -c ; echo one two > /tmp/f ; wc -w < /tmp/f ; nosuch ; echo st $? ; guard-test null ; echo st $?")
        .run();
    assert_status(&out, 0);
    let console = tests::console(&out);
    let initramfs = out.event("initramfs").expect("the initramfs was unpacked");
    assert!(initramfs["added"].as_u64().unwrap_or(0) > 10, "{initramfs}");
    for want in [
        "\n3\n",
        "\n2\n",
        "sh: nosuch: command not found\n",
        "st 127\n",
        "Segmentation fault\n",
        "st 139\n",
    ] {
        assert!(console.contains(want), "{want:?} missing\n{}", out.report());
    }
    assert_no_leak(&out);
}

#[test]
fn init_from_the_root_file_system_runs_the_demo_and_shuts_down() {
    let out = Boot::new().root_fs().module("init /etc/demo.sh").run();
    assert_status(&out, 0);
    let console = tests::console(&out);
    assert!(
        console.contains("init: the shell ended"),
        "{}",
        out.report()
    );
    assert!(console.contains("\nhello\n"), "{}", out.report());
    assert_no_leak(&out);
    // And `init=` starts it from the root file system itself (no module).
    let out = Boot::new()
        .root_fs()
        .with(|o| o.append = "init=/bin/nosuch".into())
        .run();
    let refused = out.events("exec_error");
    assert!(
        refused
            .iter()
            .any(|e| e["name"] == "/bin/nosuch" && e["errno"] == 2),
        "{}",
        out.report()
    );
}

#[test]
fn a_fork_of_64_mib_copies_no_page_by_the_kernels_counters() {
    let out = Boot::new().module("forkcost").run();
    assert_status(&out, 0);
    assert_all_tests_pass(&out, 1);
    assert_no_leak(&out);
}

#[test]
fn ctrl_c_ends_the_foreground_job_and_not_the_shell() {
    let out = Boot::new()
        .root_fs()
        .module("sh")
        .input(b"spin\n")
        .input_when("spin: spinning", b"\x03")
        .input_when("$ ", b"echo after $?\nkill -9 $$\n")
        .run();
    let console = tests::console(&out);
    assert!(console.contains("^C"), "{}", out.report());
    assert!(
        console.contains("after 130"),
        "spin ended by SIGINT\n{}",
        out.report()
    );
    // The shell ignores SIGINT, not SIGKILL: it dies of its own `kill -9 $$`.
    assert_status(&out, 137);
    assert_no_leak(&out);
}

#[test]
fn the_shell_runs_background_jobs_and_and_or_lists() {
    let out = Boot::new()
        .root_fs()
        .module("sh -c sleep 0.3 & echo started ; jobs ; wait ; echo waited $? ; false && echo no || echo yes ; true || echo no2 && echo yes2")
        .run();
    assert_status(&out, 0);
    let console = tests::console(&out);
    for want in [
        "[1] ",
        "started\n",
        "running\n",
        "waited 0\n",
        "yes\n",
        "yes2\n",
    ] {
        assert!(console.contains(want), "{want:?} missing\n{}", out.report());
    }
    assert!(
        !console.contains("no\n") && !console.contains("no2\n"),
        "{}",
        out.report()
    );
    assert_no_leak(&out);
}

#[test]
fn ps_and_proc_pid_show_a_background_job() {
    let out = Boot::new()
        .root_fs()
        .module("sh -c sleep 1 & ps ; cat /proc/2/status ; cat /proc/2/maps ; wait")
        .run();
    assert_status(&out, 0);
    let console = tests::console(&out);
    for want in [
        "  PID  PPID  PGID STAT",
        "sleep 1\n",
        "Name:\tsleep\n",
        "PPid:\t1\n",
        "State:\tS (sleeping)\n",
        "[stack]",
    ] {
        assert!(console.contains(want), "{want:?} missing\n{}", out.report());
    }
    assert_no_leak(&out);
}

#[test]
fn the_small_tools_of_bin_work() {
    let out = Boot::new()
        .root_fs()
        .module("sh -c env ; true && echo t ; false || echo f ; ls /bin | head -n 2 ; head -n 1 /etc/motd ; sleep 0.1 ; kill -0 1 && echo alive")
        .run();
    assert_status(&out, 0);
    let console = tests::console(&out);
    for want in [
        "PATH=/bin\n",
        "\nt\n",
        "\nf\n",
        "abitest\nbadptr\n",
        "phantom-unix: Unix",
        "alive\n",
    ] {
        assert!(console.contains(want), "{want:?} missing\n{}", out.report());
    }
}

#[test]
fn signal_handlers_run_return_interrupt_and_catch_a_stack_overflow() {
    let out = Boot::new().module("sigtest").run();
    assert_status(&out, 0);
    assert_all_tests_pass(&out, 1);
    assert_no_leak(&out);
}

#[test]
fn the_shell_expands_and_exports_variables() {
    let out = Boot::new()
        .root_fs()
        .module("sh -c X=hello ; echo $X ${X}! ; export Y=world ; env ; unset X ; echo [$X]")
        .run();
    assert_status(&out, 0);
    let console = tests::console(&out);
    for want in ["hello hello!\n", "Y=world\n", "PATH=/bin\n", "[]\n"] {
        assert!(console.contains(want), "{want:?} missing\n{}", out.report());
    }
}

#[test]
fn poll_timers_and_sigsuspend_wait_as_unix_does() {
    let out = Boot::new().module("polltest").run();
    assert_status(&out, 0);
    assert_all_tests_pass(&out, 1);
    assert_no_leak(&out);
}

#[test]
fn directories_renames_and_unlinked_open_files() {
    let out = Boot::new().root_fs().module("dirtest").run();
    assert_status(&out, 0);
    assert_all_tests_pass(&out, 1);
    assert_no_leak(&out);
}

#[test]
fn mkdir_mv_rm_cd_and_pwd_from_the_shell() {
    let out = Boot::new()
        .root_fs()
        .module("sh -c pwd ; mkdir -p a/b/c ; echo hi > a/b/c/f ; mv a/b/c/f a/g ; cd a ; pwd ; ls ; cat g ; cd .. ; rm -r a ; ls a ; rm nope ; echo rm=$? ; rm -f nope ; echo rmf=$? ; cd /proc/self ; ls")
        .run();
    assert_status(&out, 0);
    let console = tests::console(&out);
    for want in [
        "/tmp\n",
        "/tmp/a\nb/\ng\nhi\n",
        "ls: a: No such file or directory",
        "rm: nope: No such file or directory\n",
        "\nrm=1\n",
        "\nrmf=0\n",
        "cmdline\nmaps\nstatus\n",
    ] {
        assert!(console.contains(want), "{want:?} missing\n{}", out.report());
    }
}

#[test]
fn a_fork_bomb_from_the_shell_leaves_it_room_to_clean_up() {
    // The bomb's processes stay at the user's limit (RLIMIT_NPROC, 112); the
    // shell, above it, still runs `ps` and `kill`.
    let out = Boot::new()
        .root_fs()
        .module("sh -c forkbomb hold & sleep 1 ; echo alive ; ps | wc -l ; kill -9 -1 ; wait ; echo done=$? ; ps | wc -l")
        .run();
    assert_status(&out, 0);
    let console = tests::console(&out);
    for want in ["forkbomb: holding", "\nalive\n", "\ndone=137\n"] {
        assert!(console.contains(want), "{want:?} missing\n{}", out.report());
    }
    // `ps | wc -l` at the limit: a header and at least the 112 processes.
    let counts: Vec<u32> = console
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    assert!(
        counts.first().is_some_and(|&n| n > 112) && counts.len() == 2,
        "{counts:?}\n{}",
        out.report()
    );
    assert_no_leak(&out);
}
