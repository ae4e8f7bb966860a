//! `unix/user/tools/abi.json` is generated from this crate — the syscall table,
//! errno, every flag group, the structure layouts — for consumers that are not
//! Rust (the gate emulator `unix/user/tools/gate-emu.py`). This test keeps the
//! committed file equal to what the crate defines; regenerate it with
//! `PHANTOM_ABI_REGENERATE=1 cargo test -p phantom-abi --test generated`.

use phantom_abi::nr::{Origin, TABLE};
use phantom_abi::*;
use serde_json::{json, Map, Value};
use std::path::PathBuf;

fn group(all: &[(&str, u64)]) -> Value {
    Value::Object(
        all.iter()
            .map(|&(n, v)| (n.to_string(), json!(v)))
            .collect(),
    )
}

fn layout(size: usize, fields: &[(&str, usize, usize)]) -> Value {
    json!({
        "size": size,
        "fields": fields.iter().map(|&(n, o, s)| json!([n, o, s])).collect::<Vec<_>>(),
    })
}

fn generated() -> Value {
    let syscalls: Vec<Value> = TABLE
        .iter()
        .map(|c| {
            json!({
                "nr": c.nr,
                "name": c.name,
                "args": c.args,
                "origin": match c.origin {
                    Origin::Phantom => "phantom",
                    Origin::Extension => "extension",
                },
            })
        })
        .collect();
    let errno: Map<String, Value> = Errno::ALL
        .iter()
        .map(|e| (e.name().to_string(), json!(e.number())))
        .collect();
    json!({
        "comment": "Generated from the phantom-abi crate (unix/abi); do not edit. \
                    Regenerate: PHANTOM_ABI_REGENERATE=1 cargo test -p phantom-abi --test generated",
        "gate_selector": GATE_SELECTOR,
        "page_size": PAGE_SIZE,
        "syscalls": syscalls,
        "errno": errno,
        "flags": {
            "open": group(open_flags::ALL),
            "fcntl": group(fcntl::ALL),
            "seek": group(seek::ALL),
            "mode": group(mode::ALL),
            "prot": group(prot::ALL),
            "map": group(map::ALL),
            "madv": group(madv::ALL),
            "rlimit": group(rlimit::ALL),
            "wait": group(wait::ALL),
            "poll": group(poll::ALL),
            "itimer": group(itimer::ALL),
            "sigflags": group(sigflags::ALL),
            "clock": group(clock::ALL),
            "dtype": group(dtype::ALL),
            "signal": group(signal::ALL),
            "ioctl": group(ioctl::ALL),
        },
        "structs": {
            "stat": layout(Stat::SIZE, Stat::FIELDS),
            "utsname": layout(Utsname::SIZE, Utsname::FIELDS),
            "dirent": layout(Dirent::SIZE, Dirent::FIELDS),
            "timespec": layout(Timespec::SIZE, Timespec::FIELDS),
            "timeval": layout(Timeval::SIZE, Timeval::FIELDS),
            "itimerval": layout(Itimerval::SIZE, Itimerval::FIELDS),
            "pollfd": layout(Pollfd::SIZE, Pollfd::FIELDS),
            "rlimit": layout(Rlimit::SIZE, Rlimit::FIELDS),
            "sigaction": layout(Sigaction::SIZE, Sigaction::FIELDS),
            "siginfo": layout(Siginfo::SIZE, Siginfo::FIELDS),
            "stack_t": layout(StackT::SIZE, StackT::FIELDS),
            "termios": layout(Termios::SIZE, Termios::FIELDS),
            "winsize": layout(Winsize::SIZE, Winsize::FIELDS),
        },
    })
}

fn committed_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../user/tools/abi.json")
}

#[test]
fn abi_json_is_generated_from_the_crate() {
    let text = serde_json::to_string_pretty(&generated()).unwrap() + "\n";
    let path = committed_path();
    if std::env::var_os("PHANTOM_ABI_REGENERATE").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == text,
        "{} is stale: regenerate it with \
         `PHANTOM_ABI_REGENERATE=1 cargo test -p phantom-abi --test generated`",
        path.display()
    );
}

#[test]
fn the_table_keeps_phantoms_numbers() {
    // Spot checks against include/kernel/syscalls.h, and no number twice.
    let by_name = |n: &str| TABLE.iter().find(|c| c.name == n).map(|c| c.nr);
    for (name, nr) in [
        ("_exit", 0),
        ("uname", 4),
        ("time", 18),
        ("getpid", 33),
        ("open", 64),
        ("readdir", 117),
        ("stat", 118),
        ("gethostname", 128),
        ("brk", 256),
        ("ioctl", 260),
        ("umask", 263),
        ("sigsuspend", 273),
        ("madvise", 512),
        ("mincore", 513),
        ("mlock", 514),
        ("mmap", 516),
        ("mprotect", 517),
        ("munmap", 522),
        ("create_port", 1024),
        ("phantom_runclass", 2096),
    ] {
        assert_eq!(by_name(name), Some(nr), "{name}");
    }
    let mut nrs: Vec<u32> = TABLE.iter().map(|c| c.nr).collect();
    nrs.sort_unstable();
    let n = nrs.len();
    nrs.dedup();
    assert_eq!(nrs.len(), n, "a number is used twice");
    for c in TABLE {
        assert_eq!(nr::arg_count(c.nr), usize::from(c.args), "{}", c.name);
        assert!(usize::from(c.args) <= nr::MAX_ARGS);
    }
    assert_eq!(nr::arg_count(9999), 0);
    assert_eq!(nr::lookup(117).map(|c| c.name), Some("readdir"));
}

#[test]
fn gate_emulator_takes_its_numbers_from_the_generated_file() {
    let emu = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../user/tools/gate-emu.py"),
    )
    .unwrap();
    assert!(emu.contains("abi.json"), "gate-emu.py must load abi.json");
    // Every call it serves is named by its C name and must be in the table.
    let served: Vec<&str> = emu
        .lines()
        .filter_map(|l| l.trim().strip_prefix("def sys_"))
        .filter_map(|l| l.split('(').next())
        .collect();
    assert!(!served.is_empty());
    for name in served {
        let c_name = if name == "exit" { "_exit" } else { name };
        assert!(
            TABLE.iter().any(|c| c.name == c_name),
            "gate-emu.py serves {name}, which the ABI does not define"
        );
    }
}

#[test]
fn docs_abi_names_every_call_of_the_table() {
    let doc = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/abi.md"),
    )
    .unwrap();
    for c in TABLE {
        assert!(
            doc.contains(&format!("`{}", c.name)),
            "docs/abi.md does not mention {} ({})",
            c.name,
            c.nr
        );
    }
    for e in Errno::ALL
        .iter()
        .filter(|e| e.number() >= Errno::FIRST_EXTENSION)
    {
        assert!(
            doc.contains(&format!("`{}` {}", e.name(), e.number())),
            "{e:?}"
        );
    }
}
