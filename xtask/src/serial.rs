//! Reading the kernel's serial console: lines, and the JSON lines in them.
//!
//! The kernel writes human log lines and machine lines; a machine line is one
//! JSON object on a line of its own, starting with `{`. A line that starts
//! with `{` but does not parse as an object is kept aside as *malformed* (a
//! log line interleaved into a JSON line shows up there).

use serde_json::Value;

/// What one serial line is.
#[derive(Debug, Clone, PartialEq)]
pub enum Line {
    /// A JSON object (a machine line).
    Json(Value),
    /// Starts with `{` but is not a JSON object.
    Malformed(String),
    /// A human log line (or an empty one).
    Text,
}

/// Classify one line (without its line ending; a trailing `\r` is ignored).
pub fn classify(line: &str) -> Line {
    let line = line.trim_end_matches(['\r', '\n']).trim_start();
    if !line.starts_with('{') {
        return Line::Text;
    }
    match serde_json::from_str::<Value>(line.trim_end()) {
        Ok(v @ Value::Object(_)) => Line::Json(v),
        _ => Line::Malformed(line.to_string()),
    }
}

/// Every JSON object line of a whole serial transcript, in order.
pub fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .filter_map(|l| match classify(l) {
            Line::Json(v) => Some(v),
            _ => None,
        })
        .collect()
}

/// Whether `v` is one of the kernel's lines: it carries the boot's nonce (every
/// line does when there is none, e.g. a transcript read back without one).
/// Programs cannot read the nonce, so a line a program prints is never the
/// kernel's.
pub fn from_kernel(v: &Value, nonce: Option<&str>) -> bool {
    nonce.is_none_or(|n| v.get("nonce").and_then(Value::as_str) == Some(n))
}

/// If `v` is the kernel's `{"event":"shutdown","status":N}`, its status.
pub fn shutdown_status(v: &Value, nonce: Option<&str>) -> Option<i64> {
    if v.get("event")?.as_str()? == "shutdown" && from_kernel(v, nonce) {
        v.get("status")?.as_i64()
    } else {
        None
    }
}

/// The nonce given as `nonce=…` in kernel command line `append`, if any.
pub fn nonce_in(append: &str) -> Option<&str> {
    append
        .split_ascii_whitespace()
        .find_map(|w| w.strip_prefix("nonce="))
}

/// A fresh nonce for one boot: 16 hex digits from the OS's random source (or
/// the clock and the process id where there is none).
pub fn fresh_nonce() -> String {
    use std::io::Read;
    let mut b = [0u8; 8];
    let random = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut b));
    if random.is_err() {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        b = (t ^ (u64::from(std::process::id()) << 32)).to_le_bytes();
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The last `n` lines of `text` (fewer if it has fewer).
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(n);
    let mut out = lines[start..].join("\n");
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

/// Incremental line splitter + JSON extractor, fed with raw byte chunks as
/// they arrive from QEMU.
#[derive(Debug, Default)]
pub struct SerialParser {
    pending: Vec<u8>,
    /// Every byte received, as text (lossy UTF-8), `\r` kept.
    pub raw: Vec<u8>,
    /// JSON object lines, in order.
    pub json: Vec<Value>,
    /// Lines that start with `{` but are not JSON objects.
    pub malformed: Vec<String>,
}

impl SerialParser {
    /// Feed a chunk; returns the JSON values completed by it.
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<Value> {
        self.raw.extend_from_slice(chunk);
        self.pending.extend_from_slice(chunk);
        let mut found = Vec::new();
        while let Some(pos) = self.pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=pos).collect();
            self.take_line(&line, &mut found);
        }
        found
    }

    /// End of stream: a last line without `\n` is still a line.
    pub fn finish(&mut self) -> Vec<Value> {
        let mut found = Vec::new();
        if !self.pending.is_empty() {
            let line = std::mem::take(&mut self.pending);
            self.take_line(&line, &mut found);
        }
        found
    }

    fn take_line(&mut self, line: &[u8], found: &mut Vec<Value>) {
        let text = String::from_utf8_lossy(line);
        match classify(&text) {
            Line::Json(v) => {
                self.json.push(v.clone());
                found.push(v);
            }
            Line::Malformed(s) => self.malformed.push(s),
            Line::Text => {}
        }
    }

    /// The transcript as text, `\r\n` turned into `\n`.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.raw).replace("\r\n", "\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn classify_lines() {
        assert_eq!(classify("[INFO] booting"), Line::Text);
        assert_eq!(classify(""), Line::Text);
        assert_eq!(
            classify("{\"event\":\"boot\"}\r"),
            Line::Json(json!({"event": "boot"}))
        );
        assert_eq!(
            classify("  {\"a\":1}  "),
            Line::Json(json!({"a": 1})),
            "surrounding blanks are fine"
        );
        assert!(matches!(classify("{\"a\":1"), Line::Malformed(_)));
        assert!(matches!(classify("{ not json"), Line::Malformed(_)));
        assert_eq!(
            classify("[1,2]"),
            Line::Text,
            "only objects are machine lines"
        );
        assert_eq!(classify("x {\"a\":1}"), Line::Text, "must start the line");
    }

    #[test]
    fn json_lines_of_a_transcript() {
        let t =
            "hello\r\n{\"event\":\"boot\"}\r\n{\"test\":\"t\",\"result\":\"pass\"}\nbye\n{bad\n";
        let v = json_lines(t);
        assert_eq!(v.len(), 2);
        assert_eq!(v[1]["test"], "t");
    }

    #[test]
    fn shutdown_status_only_from_shutdown_events() {
        assert_eq!(
            shutdown_status(&json!({"event":"shutdown","status":3}), None),
            Some(3)
        );
        assert_eq!(
            shutdown_status(&json!({"event":"boot","status":3}), None),
            None
        );
        assert_eq!(shutdown_status(&json!({"event":"shutdown"}), None), None);
        // With a nonce, only the line carrying it counts.
        let n = Some("c0ffee");
        assert_eq!(
            shutdown_status(&json!({"event":"shutdown","status":3}), n),
            None
        );
        assert_eq!(
            shutdown_status(&json!({"event":"shutdown","status":3,"nonce":"bad"}), n),
            None
        );
        assert_eq!(
            shutdown_status(&json!({"event":"shutdown","status":3,"nonce":"c0ffee"}), n),
            Some(3)
        );
        assert_eq!(nonce_in("log=debug nonce=ab12 x=1"), Some("ab12"));
        assert_eq!(nonce_in("log=debug"), None);
        let (a, b) = (fresh_nonce(), fresh_nonce());
        assert_eq!(a.len(), 16);
        assert_ne!(a, b);
        assert_eq!(
            shutdown_status(&json!({"event":"shutdown","status":"3"}), None),
            None
        );
    }

    #[test]
    fn parser_handles_lines_split_across_chunks() {
        let mut p = SerialParser::default();
        assert!(p.feed(b"log line\r\n{\"event\":").is_empty());
        let got = p.feed(b"\"boot\"}\r\n{\"x\":1}");
        assert_eq!(got, vec![json!({"event":"boot"})]);
        assert_eq!(p.finish(), vec![json!({"x":1})]);
        assert_eq!(p.json.len(), 2);
        assert_eq!(p.text(), "log line\n{\"event\":\"boot\"}\n{\"x\":1}");
    }

    #[test]
    fn parser_keeps_malformed_lines() {
        let mut p = SerialParser::default();
        p.feed(b"{\"event\":\"mem[WARN] oops\n");
        assert_eq!(p.malformed.len(), 1);
        assert!(p.json.is_empty());
    }

    #[test]
    fn parser_survives_invalid_utf8() {
        let mut p = SerialParser::default();
        p.feed(b"\xff\xfe\n{\"a\":1}\n");
        assert_eq!(p.json, vec![json!({"a":1})]);
    }

    #[test]
    fn tail_takes_last_lines() {
        assert_eq!(tail("a\nb\nc\n", 2), "b\nc\n");
        assert_eq!(tail("a\nb", 5), "a\nb\n");
        assert_eq!(tail("", 5), "");
    }
}
