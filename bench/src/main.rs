//! `make bench`: boots the kernel in two modes — deterministic (TCG with
//! `-icount shift=0,sleep=off`, where the TSC counts guest instructions) and
//! wall-clock (TCG, or KVM with `--kvm`) — once running the in-kernel cases
//! (`bench=<mode>`) and once running the ring-3 benchmark programs
//! (`syscallbench`, `faultbench`, `sbrkbench`, `stackbench`, `forkbench`), and writes the figures as
//! `bench/results/bench.json` and `bench/results/bench.svg`, with Linux's
//! figures on the same QEMU beside ours.
//!
//! Usage: `cargo run -p bench --release -- [--kvm] [--no-build] [--out DIR]`.

mod report;

use report::Figure;
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use xtask::{build, run, workspace_root, RunOptions};

const BENCH_TIMEOUT: Duration = Duration::from_secs(900);
/// Room for the 1 GiB segment-moving baseline (two copies) and a 1 GiB heap.
const BENCH_MEMORY_MIB: u32 = 3072;

struct Args {
    kvm: bool,
    build: bool,
    out: PathBuf,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        kvm: false,
        build: true,
        out: workspace_root().join("bench/results"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--kvm" => args.kvm = true,
            "--no-build" => args.build = false,
            "--out" => args.out = it.next().ok_or("--out needs a directory")?.into(),
            "-h" | "--help" => {
                return Err(
                    "usage: cargo run -p bench --release -- [--kvm] [--no-build] [--out DIR]"
                        .into(),
                )
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    Ok(args)
}

/// The ring-3 benchmark programs (unix/user), each given the mode.
const USER_BENCHMARKS: [&str; 5] = [
    "syscallbench",
    "faultbench",
    "sbrkbench",
    "stackbench",
    "forkbench",
];

/// What one benchmark boot runs: the in-kernel cases, or user programs.
#[derive(Clone, Copy)]
enum Level {
    Kernel,
    User,
}

/// Boots the kernel in `mode` — with `bench=<mode>` for the in-kernel cases,
/// or with the benchmark programs as boot modules — and returns the figures.
fn run_mode(mode: &str, level: Level, kvm: bool) -> Result<(Vec<Figure>, String), String> {
    let (append, modules) = match level {
        Level::Kernel => (format!("bench={mode}"), Vec::new()),
        Level::User => (
            String::new(),
            USER_BENCHMARKS
                .iter()
                .map(|program| format!("{program} {mode}"))
                .collect(),
        ),
    };
    let options = RunOptions {
        append,
        modules,
        icount: mode == "icount",
        kvm,
        timeout: BENCH_TIMEOUT,
        memory_mib: BENCH_MEMORY_MIB,
        // forkbench execs /bin/true from the root file system.
        initramfs: Some(xtask::initramfs_path()),
        ..RunOptions::default()
    };
    eprintln!(
        "bench: booting in {mode} mode ({})",
        if kvm { "KVM" } else { "TCG" }
    );
    let outcome = run(&options).map_err(|e| format!("QEMU did not run: {e}"))?;
    if !outcome.verdict().is_success() {
        return Err(format!("the {mode} run failed:\n{}", outcome.report()));
    }
    let figures: Vec<Figure> = outcome
        .benches()
        .into_iter()
        .filter_map(Figure::from_json)
        .collect();
    if figures.is_empty() {
        return Err(format!(
            "the {mode} run printed no figures:\n{}",
            outcome.tail(30)
        ));
    }
    Ok((figures, outcome.accel.clone()))
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    if args.build {
        if let Err(e) = build(true) {
            eprintln!("bench: kernel build failed: {e}");
            return ExitCode::FAILURE;
        }
    }
    let mut figures = Vec::new();
    let mut accels = Vec::new();
    let runs = [
        ("icount", Level::Kernel, false),
        ("icount", Level::User, false),
        ("wall", Level::Kernel, args.kvm),
        ("wall", Level::User, args.kvm),
    ];
    for (mode, level, kvm) in runs {
        match run_mode(mode, level, kvm) {
            Ok((mut found, accel)) => {
                figures.append(&mut found);
                accels.push(json!({"mode": mode, "accel": accel}));
            }
            Err(message) => {
                eprintln!("bench: {message}");
                return ExitCode::FAILURE;
            }
        }
    }
    let qemu_version = std::process::Command::new("qemu-system-x86_64")
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.lines().next().map(str::to_string))
        .unwrap_or_default();
    let meta = json!({
        "qemu": qemu_version,
        "runs": accels,
        "host_cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "linux_reference": "Linux 6.1 (Debian), i386 program, same QEMU, -icount shift=0,sleep=off",
    });
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        eprintln!("bench: cannot create {}: {e}", args.out.display());
        return ExitCode::FAILURE;
    }
    let json_path = args.out.join("bench.json");
    let svg_path = args.out.join("bench.svg");
    let report = report::json_report(&figures, meta);
    let written = serde_json::to_string_pretty(&report)
        .map_err(|e| e.to_string())
        .and_then(|text| std::fs::write(&json_path, text + "\n").map_err(|e| e.to_string()))
        .and_then(|()| {
            std::fs::write(&svg_path, report::svg_chart(&figures)).map_err(|e| e.to_string())
        });
    if let Err(e) = written {
        eprintln!("bench: cannot write the reports: {e}");
        return ExitCode::FAILURE;
    }
    print!("{}", report::text_table(&figures));
    for (name, value) in report::derived_ratios(&figures) {
        println!("{name:<40} {value:>12.3}");
    }
    println!("wrote {} and {}", json_path.display(), svg_path.display());
    ExitCode::SUCCESS
}
