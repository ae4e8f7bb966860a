//! Helpers for the QEMU integration tests in `tests/tests/*.rs`.
//!
//! Each test boots the kernel image once under TCG with a short timeout and
//! asserts on the JSON lines of its serial console, through the same runner
//! as `cargo xtask qemu` ([`xtask::run`]). The image is built once per test
//! binary (a no-op when `cargo xtask build` already ran).
//!
//! Environment knobs:
//! - `PHANTOM_KERNEL=PATH`: boot this image, build nothing.
//! - `PHANTOM_NO_BUILD=1`: do not build; boot `target/x86_64-unknown-none/release/kernel`.
//! - `PHANTOM_TEST_TIMEOUT=S`: per-boot timeout in seconds (default 60).
//! - `PHANTOM_TEST_ACCEL=kvm`: boot under KVM instead of TCG (opt-in; see
//!   docs/testing.md for why TCG is the default here).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

pub use serde_json::Value;
pub use xtask::{RunOptions, RunOutcome, TestLine, Verdict};

/// Default per-boot timeout of a test.
pub const TEST_TIMEOUT: Duration = Duration::from_secs(60);

/// The kernel image to boot, built on first use (once per test binary)
/// together with the user programs.
///
/// Panics with cargo's message if the build fails.
pub fn kernel() -> PathBuf {
    static KERNEL: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    KERNEL
        .get_or_init(|| {
            if let Some(path) = std::env::var_os("PHANTOM_KERNEL") {
                return Ok(PathBuf::from(path));
            }
            if std::env::var_os("PHANTOM_NO_BUILD").is_some_and(|v| v != "0") {
                return Ok(xtask::kernel_path());
            }
            xtask::build(true).map_err(|e| e.to_string())
        })
        .clone()
        .unwrap_or_else(|e| panic!("cannot build the kernel image: {e}"))
}

fn test_timeout() -> Duration {
    std::env::var("PHANTOM_TEST_TIMEOUT")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|&s| s > 0)
        .map(Duration::from_secs)
        .unwrap_or(TEST_TIMEOUT)
}

fn use_kvm() -> bool {
    std::env::var("PHANTOM_TEST_ACCEL").is_ok_and(|v| v == "kvm")
}

/// One boot, described step by step: `Boot::new().append("ktest=all").run()`.
#[derive(Clone, Debug)]
pub struct Boot {
    opts: RunOptions,
}

impl Default for Boot {
    fn default() -> Self {
        Self::new()
    }
}

impl Boot {
    /// A boot of the test kernel: no modules, empty command line, TCG,
    /// [`TEST_TIMEOUT`], console not echoed.
    pub fn new() -> Self {
        Boot {
            opts: RunOptions {
                kernel: kernel(),
                timeout: test_timeout(),
                kvm: use_kvm(),
                echo: false,
                interactive: false,
                ..RunOptions::default()
            },
        }
    }

    /// Add to the kernel command line.
    pub fn append(mut self, kv: &str) -> Self {
        if !self.opts.append.is_empty() {
            self.opts.append.push(' ');
        }
        self.opts.append.push_str(kv);
        self
    }

    /// Add a boot module: `"path arg1 arg2"`.
    pub fn module(mut self, spec: impl Into<String>) -> Self {
        self.opts.modules.push(spec.into());
        self
    }

    /// Pass the root file system's initramfs (`/bin/<every program>`,
    /// `/etc/motd`) as the last module, as `cargo xtask qemu` does.
    pub fn root_fs(mut self) -> Self {
        self.opts.initramfs = Some(xtask::initramfs_path());
        self
    }

    /// Bytes typed on the serial console once it has shown `text`.
    pub fn input_when(mut self, text: &str, bytes: &[u8]) -> Self {
        self.opts.input_when.push((text.into(), bytes.to_vec()));
        self
    }

    /// Bytes typed on the serial console after boot (then end of input).
    pub fn input(mut self, bytes: &[u8]) -> Self {
        self.opts.input = bytes.to_vec();
        self
    }

    /// Guest memory in MiB.
    pub fn memory_mib(mut self, mib: u32) -> Self {
        self.opts.memory_mib = mib;
        self
    }

    /// Override the timeout.
    pub fn timeout(mut self, t: Duration) -> Self {
        self.opts.timeout = t;
        self
    }

    /// Change any other option.
    pub fn with(mut self, f: impl FnOnce(&mut RunOptions)) -> Self {
        f(&mut self.opts);
        self
    }

    /// The options as they stand.
    pub fn options(&self) -> &RunOptions {
        &self.opts
    }

    /// Boot; panics only if QEMU could not be started at all.
    pub fn run(self) -> RunOutcome {
        xtask::run(&self.opts).unwrap_or_else(|e| panic!("cannot start QEMU: {e}"))
    }
}

/// Assert that the kernel shut down with `status`, through `isa-debug-exit`,
/// with exactly one shutdown line; print the run's report otherwise.
pub fn assert_status(out: &RunOutcome, status: i32) {
    assert_eq!(
        out.verdict(),
        Verdict::Shutdown(status),
        "unexpected end of the run\n{}",
        out.report()
    );
    assert_eq!(
        out.events("shutdown").len(),
        1,
        "exactly one shutdown line expected\n{}",
        out.report()
    );
    assert!(
        out.exit_consistent(),
        "QEMU did not leave through isa-debug-exit with (status << 1) | 1\n{}",
        out.report()
    );
    assert!(
        out.malformed.is_empty(),
        "malformed JSON lines on the console: {:?}\n{}",
        out.malformed,
        out.report()
    );
}

/// The unsigned integer field `key` of `v`, or a panic naming it.
pub fn u64_field(v: &Value, key: &str) -> u64 {
    v.get(key)
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("{key} is not an unsigned integer in {v}"))
}

/// A `"0x…"` hex string field of `v`, parsed.
pub fn hex_field(v: &Value, key: &str) -> u64 {
    let s = v
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{key} is not a string in {v}"));
    let digits = s
        .strip_prefix("0x")
        .unwrap_or_else(|| panic!("{key} = {s:?} does not start with 0x in {v}"));
    u64::from_str_radix(digits, 16).unwrap_or_else(|e| panic!("{key} = {s:?}: {e}"))
}

/// A file that is deleted when dropped. Its path has no spaces (QEMU's
/// multiboot loader needs that).
#[derive(Debug)]
pub struct TempFile {
    path: PathBuf,
}

impl TempFile {
    /// A fresh file of exactly `size` bytes, named after `tag`, with content
    /// that differs from file to file.
    pub fn with_size(tag: &str, size: usize) -> TempFile {
        let salt = Self::next_number();
        let content: Vec<u8> = (0..size).map(|i| (i * 7 + salt) as u8).collect();
        Self::with_bytes(tag, &content)
    }

    /// A fresh file holding `text`.
    pub fn with_text(tag: &str, text: &str) -> TempFile {
        Self::with_bytes(tag, text.as_bytes())
    }

    /// A fresh file holding `bytes`, named after `tag`.
    pub fn with_bytes(tag: &str, bytes: &[u8]) -> TempFile {
        let dir = std::env::temp_dir().join("phantom-tests");
        fs::create_dir_all(&dir).expect("create the temp folder");
        let path = dir.join(format!(
            "{tag}-{}-{}",
            std::process::id(),
            Self::next_number()
        ));
        fs::write(&path, bytes).expect("write a temp module");
        TempFile { path }
    }

    fn next_number() -> usize {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        COUNTER.fetch_add(1, Ordering::Relaxed)
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Its path as text, for a module spec.
    pub fn path_str(&self) -> String {
        self.path.display().to_string()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// The console as text, CR LF turned back into LF (the kernel writes LF as
/// CR LF on the serial port).
pub fn console(out: &RunOutcome) -> String {
    out.serial.replace("\r\n", "\n")
}

/// The exit events, as (name, status), in order.
pub fn exits(out: &RunOutcome) -> Vec<(String, u64)> {
    out.events("exit")
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap_or("?").to_string(),
                u64_field(e, "status"),
            )
        })
        .collect()
}

/// Every frame the processes used is free again once they are gone (the
/// kernel's `{"event":"frames"…}` line after the last exit).
pub fn assert_no_leak(out: &RunOutcome) {
    let frames = out
        .event("frames")
        .unwrap_or_else(|| panic!("no frames event\n{}", out.report()));
    assert_eq!(
        u64_field(frames, "free_frames"),
        u64_field(frames, "at_start"),
        "frames leaked: {frames}\n{}",
        out.report()
    );
}

/// Exactly `expected` `{"test":…}` lines, all passed.
pub fn assert_all_tests_pass(out: &RunOutcome, expected: usize) {
    let tests = out.tests();
    assert_eq!(tests.len(), expected, "{}", out.report());
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn field_helpers() {
        let v = json!({"n": 5, "rip": "0xffff8000", "bad": "12"});
        assert_eq!(u64_field(&v, "n"), 5);
        assert_eq!(hex_field(&v, "rip"), 0xffff_8000);
        assert!(std::panic::catch_unwind(|| hex_field(&v, "bad")).is_err());
        assert!(std::panic::catch_unwind(|| u64_field(&v, "rip")).is_err());
    }

    #[test]
    fn temp_files_have_the_size_asked_and_go_away() {
        let p;
        {
            let f = TempFile::with_size("unit", 1234);
            p = f.path().to_path_buf();
            assert_eq!(fs::metadata(&p).unwrap().len(), 1234);
            assert!(!f.path_str().contains(' '));
        }
        assert!(!p.exists());
    }
}
