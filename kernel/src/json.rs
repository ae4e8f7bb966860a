//! One JSON object per line: the machine-readable half of the serial console
//! (`{"event":…}`, `{"test":…}`, `{"bench":…}`), parsed by the tests and the
//! benchmark tools on the host.
//!
//! Every line the kernel writes ends with the boot's nonce (`"nonce":"…"`, from
//! `nonce=` on the command line, which programs cannot read): the harness takes
//! only lines with its nonce as the kernel's, so a program that prints
//! `{"event":"shutdown",…}` forges nothing.

use alloc::string::String;
use core::fmt::Write;

/// The `,"nonce":"…"` suffix of every kernel line (empty until set).
static NONCE_FIELD: spin::Once<String> = spin::Once::new();

/// Longest nonce accepted.
pub const NONCE_MAX: usize = 32;

/// Whether `nonce` is acceptable: 1 to [`NONCE_MAX`] ASCII letters and digits.
pub fn valid_nonce(nonce: &str) -> bool {
    (1..=NONCE_MAX).contains(&nonce.len()) && nonce.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Sets the boot's nonce (once; later calls and invalid nonces are ignored).
pub fn set_nonce(nonce: &str) {
    if valid_nonce(nonce) {
        NONCE_FIELD.call_once(|| alloc::format!(",\"nonce\":\"{nonce}\""));
    }
}

/// The `,"nonce":"…"` field to put before a kernel line's closing brace (for
/// lines formatted by hand on the fault paths), or `""` when no nonce is set.
pub fn nonce_field() -> &'static str {
    NONCE_FIELD.get().map_or("", String::as_str)
}

/// Builds one JSON object, field by field, with string escaping.
pub struct JsonLine {
    text: String,
}

impl JsonLine {
    /// Starts an object whose first field is `key: value` (a string).
    pub fn new(key: &str, value: &str) -> Self {
        let mut line = Self {
            text: String::from("{"),
        };
        line.str(key, value);
        line
    }

    fn key(&mut self, key: &str) {
        if self.text.len() > 1 {
            self.text.push(',');
        }
        push_escaped(&mut self.text, key);
        self.text.push(':');
    }

    pub fn str(&mut self, key: &str, value: &str) -> &mut Self {
        self.key(key);
        push_escaped(&mut self.text, value);
        self
    }

    pub fn u64(&mut self, key: &str, value: u64) -> &mut Self {
        self.key(key);
        let _ = write!(self.text, "{value}");
        self
    }

    pub fn i64(&mut self, key: &str, value: i64) -> &mut Self {
        self.key(key);
        let _ = write!(self.text, "{value}");
        self
    }

    /// A number with three decimals (JSON has no NaN or infinity: those
    /// become `null`).
    pub fn f64(&mut self, key: &str, value: f64) -> &mut Self {
        self.key(key);
        if value.is_finite() {
            let _ = write!(self.text, "{value:.3}");
        } else {
            self.text.push_str("null");
        }
        self
    }

    /// An address as a `"0x…"` string (JSON numbers lose precision past 2^53).
    pub fn hex(&mut self, key: &str, value: u64) -> &mut Self {
        self.key(key);
        let _ = write!(self.text, "\"{value:#x}\"");
        self
    }

    pub fn bool(&mut self, key: &str, value: bool) -> &mut Self {
        self.key(key);
        self.text.push_str(if value { "true" } else { "false" });
        self
    }

    /// Closes the object with the boot's nonce and returns the line (without a
    /// newline).
    pub fn finish(&mut self) -> String {
        let mut text = core::mem::take(&mut self.text);
        text.push_str(nonce_field());
        text.push('}');
        text
    }
}

fn push_escaped(out: &mut String, s: &str) {
    out.push('"');
    let _ = Escaped(&mut *out).write_str(s);
    out.push('"');
}

/// A `fmt::Write` adapter that escapes everything written through it for use
/// inside a JSON string, without allocating (for the panic and fault paths).
pub struct Escaped<W: Write>(pub W);

impl<W: Write> Write for Escaped<W> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for c in s.chars() {
            match c {
                '"' => self.0.write_str("\\\"")?,
                '\\' => self.0.write_str("\\\\")?,
                '\n' => self.0.write_str("\\n")?,
                '\r' => self.0.write_str("\\r")?,
                '\t' => self.0.write_str("\\t")?,
                c if (c as u32) < 0x20 => write!(self.0, "\\u{:04x}", c as u32)?,
                c => self.0.write_char(c)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_short_and_alphanumeric() {
        assert!(valid_nonce("a1B2"));
        assert!(!valid_nonce(""));
        assert!(!valid_nonce("a\"b"));
        assert!(!valid_nonce(&"x".repeat(33)));
        assert!(valid_nonce(&"x".repeat(32)));
    }

    #[test]
    fn builds_objects_with_escaping() {
        let line = JsonLine::new("event", "module")
            .u64("index", 2)
            .str("cmdline", "a \"b\"\\\n\u{1}")
            .hex("rip", 0xffff_ffff_8000_1000)
            .i64("delta", -5)
            .f64("us", 1.5)
            .f64("bad", f64::NAN)
            .bool("ok", true)
            .finish();
        assert_eq!(
            line,
            "{\"event\":\"module\",\"index\":2,\"cmdline\":\"a \\\"b\\\"\\\\\\n\\u0001\",\
             \"rip\":\"0xffffffff80001000\",\"delta\":-5,\"us\":1.500,\"bad\":null,\"ok\":true}"
        );
    }
}
