//! What a QEMU run produced, and how it maps to a verdict and an exit code.
//!
//! The kernel's `{"event":"shutdown","status":N}` line is authoritative: QEMU's
//! own exit code (`(N << 1) | 1` through `isa-debug-exit`) only confirms it.
//! A run without a shutdown line failed, whatever QEMU returned: a triple
//! fault under `-no-reboot` makes QEMU exit 0.

use std::fmt;

use serde_json::Value;

use crate::serial;

/// Exit code of `cargo xtask qemu` when the run timed out (as `timeout(1)`).
pub const EXIT_TIMEOUT: i32 = 124;
/// Exit code when QEMU stopped with "KVM internal error".
pub const EXIT_KVM_ERROR: i32 = 125;
/// Exit code when QEMU ended without a shutdown line from the kernel.
pub const EXIT_NO_SHUTDOWN: i32 = 122;
/// Exit code when QEMU was stopped by a signal from outside (Ctrl-C), as a
/// shell reports SIGINT.
pub const EXIT_INTERRUPTED: i32 = 130;
/// Exit code when the run could not even start (no QEMU, no kernel, bad args).
pub const EXIT_HARNESS: i32 = 121;

/// The result of one boot.
#[derive(Debug, Clone, Default)]
pub struct RunOutcome {
    /// Status from the kernel's last shutdown line, if there was one.
    pub status: Option<i32>,
    /// QEMU's exit code (`None` if it was killed by a signal).
    pub qemu_exit: Option<i32>,
    /// QEMU was killed because the timeout expired.
    pub timed_out: bool,
    /// QEMU reported "KVM internal error" and was killed.
    pub kvm_error: bool,
    /// QEMU was stopped by a signal we did not send (Ctrl-C, `kill`).
    pub interrupted: bool,
    /// The serial console, `\r\n` turned into `\n`.
    pub serial: String,
    /// QEMU's own stderr (its error messages).
    pub qemu_stderr: String,
    /// Every JSON object line, in order.
    pub json: Vec<Value>,
    /// Lines that start with `{` but are not JSON objects.
    pub malformed: Vec<String>,
    /// The accelerator used: `"tcg"` or `"kvm"`.
    pub accel: String,
    /// How long QEMU ran.
    pub elapsed: std::time::Duration,
    /// The boot's nonce: the kernel's lines carry it (`None`: take every line).
    pub nonce: Option<String>,
}

/// How a run ended, most serious first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// KVM failed ("KVM internal error"); QEMU was killed.
    KvmError,
    /// No shutdown line before the timeout; QEMU was killed.
    TimedOut,
    /// QEMU was stopped from outside (Ctrl-C) before a shutdown line.
    Interrupted,
    /// QEMU ended without a shutdown line: the kernel reset or crashed.
    NoShutdown,
    /// The kernel shut down with this status (0 = success).
    Shutdown(i32),
}

impl Verdict {
    /// The process exit code `cargo xtask qemu` uses for this verdict.
    pub fn exit_code(self) -> i32 {
        match self {
            Verdict::KvmError => EXIT_KVM_ERROR,
            Verdict::TimedOut => EXIT_TIMEOUT,
            Verdict::Interrupted => EXIT_INTERRUPTED,
            Verdict::NoShutdown => EXIT_NO_SHUTDOWN,
            Verdict::Shutdown(status) => status,
        }
    }

    /// Did the kernel shut down with status 0?
    pub fn is_success(self) -> bool {
        self == Verdict::Shutdown(0)
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::KvmError => write!(
                f,
                "KVM internal error: the accelerator failed (QEMU pauses on it; it was \
                 killed). Run without --kvm (TCG)."
            ),
            Verdict::TimedOut => write!(f, "timed out: no shutdown line from the kernel"),
            Verdict::Interrupted => write!(f, "QEMU was stopped by a signal (Ctrl-C?)"),
            Verdict::NoShutdown => write!(f, "no shutdown line: kernel reset or crashed"),
            Verdict::Shutdown(0) => write!(f, "kernel shut down with status 0 (ok)"),
            Verdict::Shutdown(s) => write!(
                f,
                "kernel shut down with status {s} ({})",
                status_meaning(*s)
            ),
        }
    }
}

/// What a kernel shutdown status means (the kernel's contract).
pub fn status_meaning(status: i32) -> &'static str {
    match status {
        0 => "ok",
        1 => "an in-kernel test failed, or a program's exit status",
        2 => "kernel exception, or a program's exit status",
        3 => "kernel panic, or a program's exit status",
        s if s > 128 => "a program killed by a signal: 128 + signal",
        _ => "a program's exit status",
    }
}

/// One `{"test":…}` line.
#[derive(Debug, Clone, PartialEq)]
pub struct TestLine {
    /// The test's name.
    pub name: String,
    /// `result == "pass"`.
    pub passed: bool,
    /// The `detail` field (`null` when absent).
    pub detail: Value,
}

impl RunOutcome {
    /// The verdict: KVM error, then timeout, then the shutdown line.
    pub fn verdict(&self) -> Verdict {
        if self.kvm_error {
            Verdict::KvmError
        } else if let Some(status) = self.status {
            // A shutdown line is authoritative even if QEMU then had to be
            // killed (it printed it but did not leave through 0xf4).
            Verdict::Shutdown(status)
        } else if self.timed_out {
            Verdict::TimedOut
        } else if self.interrupted {
            Verdict::Interrupted
        } else {
            Verdict::NoShutdown
        }
    }

    /// The exit code `cargo xtask qemu` uses.
    pub fn exit_code(&self) -> i32 {
        self.verdict().exit_code()
    }

    /// Did QEMU leave through `isa-debug-exit` with the status of the
    /// shutdown line (`(status << 1) | 1`, truncated to 8 bits as every exit
    /// code is)?
    pub fn exit_consistent(&self) -> bool {
        match (self.status, self.qemu_exit) {
            (Some(s), Some(e)) => ((s << 1) | 1) & 0xff == e,
            _ => false,
        }
    }

    /// The kernel's JSON lines with `"event": name` (those with the boot's
    /// nonce), in order.
    pub fn events(&self, name: &str) -> Vec<&Value> {
        self.json
            .iter()
            .filter(|v| v.get("event").and_then(Value::as_str) == Some(name))
            .filter(|v| serial::from_kernel(v, self.nonce.as_deref()))
            .collect()
    }

    /// `{"event":…}` lines that do not carry the boot's nonce: a program
    /// printed them; they are not the kernel's and count for nothing.
    pub fn forged_events(&self) -> Vec<&Value> {
        self.json
            .iter()
            .filter(|v| v.get("event").is_some())
            .filter(|v| !serial::from_kernel(v, self.nonce.as_deref()))
            .collect()
    }

    /// The first JSON line with `"event": name`.
    pub fn event(&self, name: &str) -> Option<&Value> {
        self.events(name).into_iter().next()
    }

    /// The `{"test":…}` lines, in order.
    pub fn tests(&self) -> Vec<TestLine> {
        self.json
            .iter()
            .filter_map(|v| {
                let name = v.get("test")?.as_str()?.to_string();
                Some(TestLine {
                    name,
                    passed: v.get("result").and_then(Value::as_str) == Some("pass"),
                    detail: v.get("detail").cloned().unwrap_or(Value::Null),
                })
            })
            .collect()
    }

    /// The `{"bench":…}` lines, in order.
    pub fn benches(&self) -> Vec<&Value> {
        self.json
            .iter()
            .filter(|v| v.get("bench").is_some())
            .collect()
    }

    /// The first `{"bench": name, …}` line.
    pub fn bench(&self, name: &str) -> Option<&Value> {
        self.json
            .iter()
            .find(|v| v.get("bench").and_then(Value::as_str) == Some(name))
    }

    /// The last `n` serial lines.
    pub fn tail(&self, n: usize) -> String {
        serial::tail(&self.serial, n)
    }

    /// A report for a failed assertion: verdict, QEMU's stderr, serial tail.
    pub fn report(&self) -> String {
        let mut s = format!(
            "verdict: {} (QEMU exit {:?}, {} accel, {:.1?})\n",
            self.verdict(),
            self.qemu_exit,
            self.accel,
            self.elapsed
        );
        if !self.qemu_stderr.trim().is_empty() {
            s.push_str("--- QEMU stderr ---\n");
            s.push_str(&serial::tail(&self.qemu_stderr, 20));
        }
        if !self.malformed.is_empty() {
            s.push_str(&format!("--- malformed JSON lines: {:?}\n", self.malformed));
        }
        s.push_str("--- last 40 serial lines ---\n");
        s.push_str(&self.tail(40));
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn outcome(status: Option<i32>, qemu_exit: Option<i32>) -> RunOutcome {
        RunOutcome {
            status,
            qemu_exit,
            accel: "tcg".into(),
            ..Default::default()
        }
    }

    #[test]
    fn shutdown_line_is_authoritative() {
        assert_eq!(outcome(Some(0), Some(1)).verdict(), Verdict::Shutdown(0));
        assert_eq!(outcome(Some(0), Some(1)).exit_code(), 0);
        assert_eq!(outcome(Some(2), Some(5)).exit_code(), 2);
        // Triple fault under -no-reboot: QEMU exits 0, no shutdown line.
        assert_eq!(outcome(None, Some(0)).verdict(), Verdict::NoShutdown);
        assert_eq!(outcome(None, Some(0)).exit_code(), EXIT_NO_SHUTDOWN);
        // QEMU says 1 (= status 0) but the kernel never printed it: failure.
        assert_eq!(outcome(None, Some(1)).verdict(), Verdict::NoShutdown);
    }

    #[test]
    fn failures_rank_kvm_then_status_then_timeout() {
        let mut o = outcome(None, None);
        o.timed_out = true;
        assert_eq!(o.verdict(), Verdict::TimedOut);
        assert_eq!(o.exit_code(), EXIT_TIMEOUT);
        o.status = Some(0);
        assert_eq!(o.verdict(), Verdict::Shutdown(0), "printed, then hung");
        o.kvm_error = true;
        assert_eq!(o.verdict(), Verdict::KvmError);
        assert_eq!(o.exit_code(), EXIT_KVM_ERROR);
        let mut o = outcome(None, Some(0));
        o.interrupted = true;
        assert_eq!(o.verdict(), Verdict::Interrupted);
        assert_eq!(o.exit_code(), EXIT_INTERRUPTED);
    }

    #[test]
    fn exit_consistency() {
        assert!(outcome(Some(0), Some(1)).exit_consistent());
        assert!(outcome(Some(3), Some(7)).exit_consistent());
        assert!(outcome(Some(200), Some(401 & 0xff)).exit_consistent());
        assert!(!outcome(Some(0), Some(0)).exit_consistent());
        assert!(!outcome(Some(0), None).exit_consistent());
    }

    #[test]
    fn verdict_messages() {
        assert_eq!(
            Verdict::NoShutdown.to_string(),
            "no shutdown line: kernel reset or crashed"
        );
        assert!(Verdict::Shutdown(2).to_string().contains("exception"));
        assert!(Verdict::KvmError.to_string().contains("KVM internal error"));
        assert!(Verdict::Shutdown(0).is_success());
        assert!(!Verdict::Shutdown(1).is_success());
    }

    #[test]
    fn views_on_json_lines() {
        let mut o = outcome(Some(0), Some(1));
        o.json = vec![
            json!({"event":"boot"}),
            json!({"event":"module","index":0}),
            json!({"event":"module","index":1}),
            json!({"bench":"boot_to_ready","value":5}),
            json!({"test":"a","result":"pass"}),
            json!({"test":"b","result":"fail","detail":"x"}),
            json!({"event":"shutdown","status":0}),
        ];
        assert_eq!(o.events("module").len(), 2);
        assert_eq!(o.event("module").unwrap()["index"], 0);
        assert!(o.event("exception").is_none());
        assert_eq!(o.bench("boot_to_ready").unwrap()["value"], 5);
        assert_eq!(o.benches().len(), 1);
        let t = o.tests();
        assert_eq!(t.len(), 2);
        assert!(t[0].passed && !t[1].passed);
        assert_eq!(t[0].detail, Value::Null);
        assert_eq!(t[1].detail, "x");
    }

    #[test]
    fn report_has_verdict_and_tail() {
        let mut o = outcome(None, Some(0));
        o.serial = (0..100).map(|i| format!("line {i}\n")).collect();
        o.qemu_stderr = "qemu: oops\n".into();
        let r = o.report();
        assert!(r.contains("no shutdown line"));
        assert!(r.contains("qemu: oops"));
        assert!(r.contains("line 99") && r.contains("line 60") && !r.contains("line 59\n"));
    }
}
