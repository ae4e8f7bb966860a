//! The kernel command line: `key=value` words separated by spaces.
//!
//! A first word that is a path (the kernel image, as QEMU and GRUB put it)
//! is skipped. Known keys: `log=<level>` (error, warn, info, debug, trace, off),
//! `ktest=all|name,name…` (run in-kernel tests whose names contain one of the
//! patterns, then shut down), `crash=ud|pf|de|gp|bp|wx|stack` (raise that exception
//! after boot, to test the trap path), `bench=icount|wall` (run the in-kernel
//! benchmarks, reporting guest instructions or nanoseconds, then shut down),
//! `timeout=<seconds>` (kill every process still running that long after
//! boot — SIGKILL, status 137 — and shut down), `nonce=<1–32 letters and
//! digits>` (ends every machine line the kernel prints; see `json`),
//! `init=/PATH` (start that program of the root file system after the boot
//! modules).
//! Anything else is reported back as a warning, never fatal.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use log::LevelFilter;

/// Which in-kernel tests to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TestSelection {
    All,
    Matching(Vec<String>),
}

impl TestSelection {
    /// A test runs when the selection is `all` or one pattern occurs in its
    /// name.
    pub fn selects(&self, name: &str) -> bool {
        match self {
            Self::All => true,
            Self::Matching(patterns) => patterns.iter().any(|p| name.contains(p.as_str())),
        }
    }
}

/// An exception the kernel raises on purpose after boot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Crash {
    /// `ud2`: invalid opcode, vector 6.
    InvalidOpcode,
    /// A read of an unmapped kernel address: page fault, vector 14.
    PageFault,
    /// Division by zero, vector 0.
    DivideError,
    /// A non-canonical address: general protection, vector 13.
    GeneralProtection,
    /// `int3`: breakpoint, vector 3 — the kernel reports it and goes on.
    Breakpoint,
    /// A write into the kernel's own text: page fault, vector 14 (the image is
    /// mapped write-xor-execute).
    WriteText,
    /// Unbounded recursion on the kernel stack: it runs into the unmapped page
    /// below the stack, and the page fault that cannot be pushed becomes a
    /// double fault, vector 8 (on its own stack).
    StackOverflow,
}

/// How benchmark figures are reported: the TSC counts guest instructions
/// under QEMU's `-icount shift=0`, else it is converted to nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BenchMode {
    Icount,
    Wall,
}

impl BenchMode {
    pub fn name(self) -> &'static str {
        match self {
            Self::Icount => "icount",
            Self::Wall => "wall",
        }
    }

    pub fn unit(self) -> &'static str {
        match self {
            Self::Icount => "instructions",
            Self::Wall => "ns",
        }
    }
}

/// The parsed command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelOptions {
    pub log_level: LevelFilter,
    pub ktest: Option<TestSelection>,
    pub crash: Option<Crash>,
    pub bench: Option<BenchMode>,
    pub timeout_seconds: Option<u64>,
    /// The boot's nonce for machine lines.
    pub nonce: Option<String>,
    /// `init=PATH`: a program of the root file system to start as a process
    /// (after the boot modules), with argv `[PATH]`.
    pub init: Option<String>,
    /// Words that were not understood, with the reason.
    pub warnings: Vec<String>,
}

impl Default for KernelOptions {
    fn default() -> Self {
        Self {
            log_level: LevelFilter::Info,
            ktest: None,
            crash: None,
            timeout_seconds: None,
            bench: None,
            nonce: None,
            init: None,
            warnings: Vec::new(),
        }
    }
}

impl KernelOptions {
    pub fn parse(cmdline: &str) -> Self {
        let mut options = Self::default();
        let mut words = cmdline.split_ascii_whitespace().peekable();
        // Loaders put the kernel image's path first (QEMU, GRUB): skip it.
        if words.peek().is_some_and(|first| first.starts_with('/')) {
            words.next();
        }
        for word in words {
            let (key, value) = word.split_once('=').unwrap_or((word, ""));
            match key {
                "log" => match value.parse::<LevelFilter>() {
                    Ok(level) => options.log_level = level,
                    Err(_) => options
                        .warnings
                        .push(alloc::format!("log={value}: unknown level")),
                },
                "ktest" => {
                    options.ktest = Some(if value.is_empty() || value == "all" {
                        TestSelection::All
                    } else {
                        TestSelection::Matching(
                            value
                                .split(',')
                                .filter(|p| !p.is_empty())
                                .map(ToString::to_string)
                                .collect(),
                        )
                    })
                }
                "crash" => match value {
                    "ud" => options.crash = Some(Crash::InvalidOpcode),
                    "pf" => options.crash = Some(Crash::PageFault),
                    "de" => options.crash = Some(Crash::DivideError),
                    "gp" => options.crash = Some(Crash::GeneralProtection),
                    "bp" => options.crash = Some(Crash::Breakpoint),
                    "wx" => options.crash = Some(Crash::WriteText),
                    "stack" => options.crash = Some(Crash::StackOverflow),
                    _ => options.warnings.push(alloc::format!(
                        "crash={value}: expected ud, pf, de, gp, bp, wx or stack"
                    )),
                },
                "timeout" => match value.parse::<u64>() {
                    Ok(seconds) if seconds > 0 => options.timeout_seconds = Some(seconds),
                    _ => options
                        .warnings
                        .push(alloc::format!("timeout={value}: expected seconds > 0")),
                },
                "nonce" if crate::json::valid_nonce(value) => {
                    options.nonce = Some(value.to_string())
                }
                "nonce" => options.warnings.push(alloc::format!(
                    "nonce: expected 1 to {} letters and digits",
                    crate::json::NONCE_MAX
                )),
                "init" if value.starts_with('/') && value.len() <= 255 => {
                    options.init = Some(value.to_string())
                }
                "init" => options
                    .warnings
                    .push(alloc::format!("init={value}: expected an absolute path")),
                "bench" => match value {
                    "icount" => options.bench = Some(BenchMode::Icount),
                    "wall" => options.bench = Some(BenchMode::Wall),
                    _ => options
                        .warnings
                        .push(alloc::format!("bench={value}: expected icount or wall")),
                },
                _ => options
                    .warnings
                    .push(alloc::format!("{word}: unknown option")),
            }
        }
        options
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn empty_line_gives_defaults() {
        assert_eq!(KernelOptions::parse(""), KernelOptions::default());
        assert_eq!(KernelOptions::parse("   "), KernelOptions::default());
    }

    #[test]
    fn known_keys() {
        let o = KernelOptions::parse("log=debug ktest=heap,frames crash=pf");
        assert_eq!(o.log_level, LevelFilter::Debug);
        assert_eq!(
            o.ktest,
            Some(TestSelection::Matching(alloc::vec![
                "heap".into(),
                "frames".into()
            ]))
        );
        assert_eq!(o.crash, Some(Crash::PageFault));
        assert!(o.warnings.is_empty());
        assert_eq!(
            KernelOptions::parse("ktest=all").ktest,
            Some(TestSelection::All)
        );
        assert_eq!(
            KernelOptions::parse("ktest").ktest,
            Some(TestSelection::All)
        );
        let o = KernelOptions::parse("/build/kernel log=warn");
        assert_eq!(o.log_level, LevelFilter::Warn);
        assert!(o.warnings.is_empty());
    }

    #[test]
    fn init_takes_an_absolute_path() {
        let o = KernelOptions::parse("init=/bin/init");
        assert_eq!(o.init.as_deref(), Some("/bin/init"));
        let o = KernelOptions::parse("init=bin/init init=");
        assert_eq!((o.init, o.warnings.len()), (None, 2));
    }

    #[test]
    fn bad_words_are_warnings() {
        let o = KernelOptions::parse("log=loud crash=boom bench=fast frobnicate");
        assert_eq!(o.log_level, LevelFilter::Info);
        assert_eq!(o.crash, None);
        assert_eq!(o.bench, None);
        assert_eq!(o.warnings.len(), 4);
        assert_eq!(
            KernelOptions::parse("bench=icount").bench,
            Some(BenchMode::Icount)
        );
        assert_eq!(
            KernelOptions::parse("bench=wall").bench,
            Some(BenchMode::Wall)
        );
    }

    #[test]
    fn selection_matches_substrings() {
        let s = TestSelection::Matching(alloc::vec!["heap".into()]);
        assert!(s.selects("machine::heap::alloc_large"));
        assert!(!s.selects("machine::frames::distinct"));
        assert!(TestSelection::All.selects("anything"));
    }

    proptest! {
        #[test]
        fn any_line_parses(line in ".{0,200}") {
            let _ = KernelOptions::parse(&line);
        }
    }
}
