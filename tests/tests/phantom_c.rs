//! Phantom's own way of building programs, on this kernel: a freestanding C
//! program (`tests/c/phantom-abi-test.c`) compiled with `gcc -m32 -static
//! -nostdlib` against a header written from Phantom's headers
//! (`tests/c/phantom.h`) and linked at address 0, as Phantom links. It checks
//! every layout and value of the native ABI (struct stat, utsname, time_t,
//! open flags, readdir's dirent, four-argument ioctl, BSD errno, the mmap
//! group's numbers, the simple calls) and page 0: skipped when it holds only
//! the headers (current binutils), mapped as the text when code starts there
//! (older binutils' single R+X segment, reproduced with `-z noseparate-code`).

use std::path::{Path, PathBuf};
use std::process::Command;
use tests::{assert_all_tests_pass, assert_no_leak, assert_status, Boot};

fn source_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("c")
}

/// Compile the test program as `name` with `extra` flags; the binary's path.
fn build(name: &str, extra: &[&str]) -> PathBuf {
    let out_dir = xtask::image::target_dir().join("phantom-c");
    std::fs::create_dir_all(&out_dir).expect("create target/phantom-c");
    let out = out_dir.join(name);
    let status = Command::new("gcc")
        .args([
            "-m32",
            "-std=gnu11",
            "-O1",
            "-ffreestanding",
            "-fno-pic",
            "-no-pie",
            "-fno-stack-protector",
            "-fno-asynchronous-unwind-tables",
            "-fno-builtin",
            "-nostdlib",
            "-static",
            "-Wall",
            "-Wextra",
            "-Werror",
            // Phantom links its programs at address 0.
            "-Wl,-Ttext-segment,0",
        ])
        .args(extra)
        .arg("-o")
        .arg(&out)
        .arg(source_dir().join("phantom-abi-test.c"))
        .status()
        .expect("gcc must be installed (scripts/setup.sh installs it)");
    assert!(status.success(), "gcc failed to build {name}");
    out
}

fn load_segments(elf: &Path) -> Vec<(u32, u32)> {
    let b = std::fs::read(elf).unwrap();
    let u32_at = |o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap());
    let (phoff, phnum) = (
        u32_at(28) as usize,
        u16::from_le_bytes([b[44], b[45]]) as usize,
    );
    (0..phnum)
        .map(|i| phoff + 32 * i)
        .filter(|&at| u32_at(at) == 1)
        .map(|at| (u32_at(at + 8), u32_at(at + 24)))
        .collect()
}

fn run(elf: &Path) {
    let out = Boot::new().module(elf.to_str().unwrap()).run();
    assert_status(&out, 0);
    assert_all_tests_pass(&out, 1);
    assert_no_leak(&out);
}

#[test]
fn phantom_c_program_with_headers_alone_on_page_0() {
    let elf = build("phantom-abi-test", &[]);
    // Current binutils: a read-only PT_LOAD of the headers (and the build-id
    // note) at 0, the text on its own page.
    let loads = load_segments(&elf);
    assert_eq!(loads[0], (0, 4), "a read-only page-0 segment: {loads:x?}");
    assert!(loads[1..].iter().all(|&(v, _)| v >= 0x1000), "{loads:x?}");
    run(&elf);
}

#[test]
fn phantom_c_program_with_code_on_page_0() {
    let elf = build(
        "phantom-abi-test-page0",
        &["-DPAGE0_CODE", "-Wl,-z,noseparate-code"],
    );
    // Older binutils' layout: headers and text in one R+X segment at 0.
    let loads = load_segments(&elf);
    assert_eq!(loads[0], (0, 5), "an R+X page-0 segment: {loads:x?}");
    run(&elf);
}
