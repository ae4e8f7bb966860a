//! Unix processes from boot modules: programs run with their argv, print to
//! the console, read /boot, get EFAULT and ENOENT where they should, are
//! killed (not the kernel) when they misbehave, cannot see each other's or
//! the kernel's memory, and share the CPU; malformed ELF modules are refused
//! with ENOEXEC while the others run.

use std::path::PathBuf;
use tests::{
    assert_no_leak, assert_status, console, exits, u64_field, Boot, RunOutcome, TempFile, Value,
};

fn program(name: &str) -> PathBuf {
    xtask::user_programs_dir().join(name)
}

/// The exit status of the last process named `name` to end (a forked child
/// has its parent's name, and ends first).
fn exit_status(out: &RunOutcome, name: &str) -> u64 {
    exits(out)
        .into_iter()
        .rev()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no exit event for {name}\n{}", out.report()))
        .1
}

/// The signal event of `name`, if it was killed.
fn signal_of<'a>(out: &'a RunOutcome, name: &str) -> Option<&'a Value> {
    out.events("signal").into_iter().find(|e| e["name"] == name)
}

#[test]
fn hello_prints_and_exits_zero() {
    let out = Boot::new().module("hello").run();
    assert_status(&out, 0);
    assert!(console(&out).contains("hello, world\n"), "{}", out.report());
    let exit = out.event("exit").expect("an exit event");
    assert_eq!(
        u64_field(exit, "pid"),
        1,
        "the first module is pid 1: {exit}"
    );
    assert_eq!(exit["name"], "hello");
    assert_eq!(u64_field(exit, "status"), 0);
}

#[test]
fn echo_prints_its_arguments() {
    let out = Boot::new()
        .module("echo a b c")
        .module("echo  spaced   words")
        .run();
    assert_status(&out, 0);
    let text = console(&out);
    assert!(
        text.contains("\na b c\n") || text.starts_with("a b c\n"),
        "{}",
        out.report()
    );
    assert!(text.contains("spaced words\n"), "{}", out.report());
}

#[test]
fn cat_prints_a_boot_module() {
    let data = TempFile::with_text("poem", "the quick brown fox\njumps over\nthe lazy dog\n");
    let name = data
        .path()
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let out = Boot::new()
        .module(format!("cat /boot/{name}"))
        .module(data.path_str())
        .run();
    // The data module is not a program: refused with ENOEXEC, still in /boot.
    assert_status(&out, 0);
    assert!(
        console(&out).contains("the quick brown fox\njumps over\nthe lazy dog\n"),
        "{}",
        out.report()
    );
    assert_eq!(exit_status(&out, "cat"), 0);
    let refused = out.events("exec_error");
    assert_eq!(refused.len(), 1, "{}", out.report());
    assert_eq!(u64_field(refused[0], "errno"), 8, "{}", refused[0]);
}

#[test]
fn cat_of_a_missing_file_fails_with_a_message() {
    let out = Boot::new().module("cat /boot/nothing-here").run();
    assert_status(&out, 1);
    assert!(
        console(&out).contains("cat: /boot/nothing-here:"),
        "{}",
        out.report()
    );
}

#[test]
fn console_input_is_line_edited_echoed_and_read() {
    // "helo", backspace, "lo": the line discipline erases the extra 'o';
    // Ctrl-D on an empty line is end of file, so cat exits.
    let out = Boot::new()
        .module("cat")
        .input(b"helo\x7flo world\nsecond line\n\x04")
        .run();
    assert_status(&out, 0);
    let text = console(&out);
    // The echo shows the erase ("\x08 \x08"; it may be interleaved with
    // the boot log, as typing is); only cat's copy has the edited line.
    assert!(
        text.contains("\x08 \x08"),
        "echo with erase\n{}",
        out.report()
    );
    assert!(
        text.contains("hello world\n"),
        "cat's copy of the edited line\n{}",
        out.report()
    );
    assert!(text.contains("second line\n"), "{}", out.report());
    assert_eq!(exit_status(&out, "cat"), 0);
}

#[test]
fn the_shell_runs_builtins_typed_on_the_console() {
    let out = Boot::new()
        .module("sh")
        .input(b"echo hi there\nwrite note from the shell\ncat note\nls /boot\nnosuchcmd\nexit 3\n")
        .run();
    assert_status(&out, 3);
    let text = console(&out);
    assert!(text.contains("hi there\n"), "{}", out.report());
    assert!(
        text.contains("from the shell\n"),
        "a file written in /tmp and read back\n{}",
        out.report()
    );
    assert!(
        text.contains("sh: nosuchcmd: command not found"),
        "{}",
        out.report()
    );
    assert_eq!(exit_status(&out, "sh"), 3);
}

#[test]
fn bad_pointers_give_efault_and_missing_paths_enoent() {
    let out = Boot::new().module("badptr").module("enoent").run();
    assert_status(&out, 0);
    for test in out.tests() {
        assert!(
            test.passed,
            "{} failed: {}\n{}",
            test.name,
            test.detail,
            out.report()
        );
    }
    assert_eq!(exit_status(&out, "badptr"), 0);
    assert_eq!(exit_status(&out, "enoent"), 0);
    assert!(!console(&out).contains("NOT "), "{}", out.report());
}

#[test]
fn every_syscall_of_the_abi_behaves() {
    let out = Boot::new().module("abitest").run();
    assert_status(&out, 0);
    let tests = out.tests();
    assert!(!tests.is_empty(), "{}", out.report());
    for test in tests {
        assert!(
            test.passed,
            "{} failed: {}\n{}",
            test.name,
            test.detail,
            out.report()
        );
    }
}

#[test]
fn privileged_instructions_and_kernel_jumps_kill_only_the_program() {
    let out = Boot::new()
        .module("hlt")
        .module("cli")
        .module("jmpkernel")
        .module("ioport")
        .module("hello")
        .run();
    for name in ["hlt", "cli", "jmpkernel", "ioport"] {
        let status = exit_status(&out, name);
        assert!(
            status == 139 || status == 132,
            "{name} exited {status}\n{}",
            out.report()
        );
        let signal = signal_of(&out, name).unwrap_or_else(|| panic!("no signal line for {name}"));
        assert!(
            signal["signame"] == "SIGSEGV" || signal["signame"] == "SIGILL",
            "{signal}"
        );
        assert!(
            signal["addr"].as_str().is_some_and(|a| a.starts_with("0x")),
            "{signal}"
        );
        assert!(
            signal["reason"].as_str().is_some_and(|r| !r.is_empty()),
            "{signal}"
        );
    }
    assert!(!console(&out).contains("NOT KILLED"), "{}", out.report());
    // The kernel went on: the last module ran and the machine shut down.
    assert_eq!(exit_status(&out, "hello"), 0);
    assert!(console(&out).contains("hello, world"), "{}", out.report());
    assert_eq!(out.events("shutdown").len(), 1);
}

#[test]
fn a_process_cannot_read_another_or_the_kernel() {
    let out = Boot::new()
        .module("secret 2")
        .module("peek other")
        .module("peek low")
        .module("peek top")
        .module("peek guard")
        .module("peek null")
        .run();
    let text = console(&out);
    assert!(
        !text.contains("LEAK") && !text.contains("NOT KILLED"),
        "{}",
        out.report()
    );
    let peeks: Vec<_> = exits(&out)
        .into_iter()
        .filter(|(n, _)| n == "peek")
        .collect();
    assert_eq!(peeks.len(), 5, "{}", out.report());
    assert!(
        peeks.iter().all(|(_, s)| *s == 139),
        "every peek dies of SIGSEGV: {peeks:?}"
    );
    assert_eq!(
        exit_status(&out, "secret"),
        0,
        "the secret page stayed intact\n{}",
        out.report()
    );
}

#[test]
fn an_infinite_loop_does_not_starve_another_module() {
    let out = Boot::new()
        .append("timeout=3")
        .module("spin")
        .module("spinprint")
        .run();
    assert_eq!(exit_status(&out, "spinprint"), 0, "{}", out.report());
    assert_eq!(
        exit_status(&out, "spin"),
        137,
        "spin is killed at the deadline\n{}",
        out.report()
    );
    let order = exits(&out);
    assert_eq!(
        order[0].0, "spinprint",
        "spinprint finished while spin spun: {order:?}"
    );
    assert_status(&out, 137);
}

/// Patches a copy of `hello` (an ELF32 executable) and writes it to a file.
fn broken_hello(tag: &str, patch: impl FnOnce(&mut Vec<u8>)) -> TempFile {
    let mut elf = std::fs::read(program("hello")).expect("hello is built");
    patch(&mut elf);
    TempFile::with_bytes(tag, &elf)
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

fn put_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// Offset of program header `i`'s field at `field`.
fn phdr(b: &[u8], i: usize, field: usize) -> usize {
    u32_at(b, 28) as usize + i * usize::from(u16::from_le_bytes([b[42], b[43]])) + field
}

/// Sets program header `i`'s field at `field` to `value`.
fn set_phdr(b: &mut [u8], i: usize, field: usize, value: u32) {
    let at = phdr(b, i, field);
    put_u32(b, at, value);
}

/// Index of the first and second PT_LOAD.
fn loads(b: &[u8]) -> (usize, usize) {
    let count = usize::from(u16::from_le_bytes([b[44], b[45]]));
    let found: Vec<usize> = (0..count)
        .filter(|&i| u32_at(b, phdr(b, i, 0)) == 1)
        .collect();
    (found[0], found[1])
}

#[test]
fn malformed_elf_modules_get_enoexec_and_the_others_run() {
    const P_OFFSET: usize = 4;
    const P_VADDR: usize = 8;
    const P_PADDR: usize = 12;
    const P_MEMSZ: usize = 20;
    // Each case with a word its reason must contain.
    let why = [
        "outside the file",
        "ELF64",
        "machine",
        "overlap",
        "outside the user load range",
        "entry point",
        "page 0",
    ];
    let cases = [
        broken_hello("truncated", |e| e.truncate(100)),
        broken_hello("elf64", |e| e[4] = 2),
        broken_hello("machine", |e| e[18] = 62),
        broken_hello("overlap", |e| {
            let (a, b) = loads(e);
            let va = u32_at(e, phdr(e, a, P_VADDR));
            let off = u32_at(e, phdr(e, b, P_OFFSET));
            set_phdr(e, b, P_VADDR, va + off % 4096);
            set_phdr(e, b, P_PADDR, va + off % 4096);
        }),
        broken_hello("memsz", |e| {
            let (_, b) = loads(e);
            set_phdr(e, b, P_MEMSZ, 0xfff0_0000);
        }),
        broken_hello("entry", |e| put_u32(e, 24, 0x10)),
        // Data on page 0 (only Phantom's metadata page or code may be there).
        broken_hello("page0", |e| {
            let (_, b) = loads(e);
            let off = u32_at(e, phdr(e, b, P_OFFSET));
            set_phdr(e, b, P_VADDR, off % 4096);
            set_phdr(e, b, P_PADDR, off % 4096);
        }),
    ];
    let mut boot = Boot::new();
    for case in &cases {
        boot = boot.module(case.path_str());
    }
    let out = boot.module("hello").run();
    assert_status(&out, 0);
    let refused = out.events("exec_error");
    assert_eq!(
        refused.len(),
        cases.len(),
        "every broken module is refused\n{}",
        out.report()
    );
    for (i, event) in refused.iter().enumerate() {
        assert_eq!(u64_field(event, "module"), i as u64, "{event}");
        assert_eq!(u64_field(event, "errno"), 8, "ENOEXEC: {event}");
        assert_eq!(event["error"], "ENOEXEC", "{event}");
        assert!(
            event["reason"].as_str().is_some_and(|r| r.contains(why[i])),
            "reason names '{}': {event}",
            why[i]
        );
    }
    assert!(out.serial.contains("ENOEXEC"), "logged on the console");
    assert_eq!(exit_status(&out, "hello"), 0, "{}", out.report());
}

#[test]
fn forged_machine_lines_are_ignored() {
    // `forge` prints a shutdown with status 0 (with and without a made-up
    // nonce), a frames line and an exit line, then exits 9.
    let out = Boot::new().module("forge").run();
    assert_status(&out, 9);
    assert_eq!(exit_status(&out, "forge"), 9, "{}", out.report());
    assert_eq!(out.events("exit").len(), 1, "{}", out.report());
    assert_eq!(out.forged_events().len(), 4, "{}", out.report());
    // One shutdown line (assert_status) and the kernel's own frames line.
    assert_no_leak(&out);
}
