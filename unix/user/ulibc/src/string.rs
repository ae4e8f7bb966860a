//! String helpers: C strings, byte strings shown as text, a fixed-capacity
//! formatting buffer, and number parsing — all without allocation.

use crate::errno::Errno;
use core::ffi::{CStr, c_char};
use core::fmt;

/// `strlen(s)`: bytes before the NUL.
///
/// # Safety
/// `s` must point to a NUL-terminated string.
pub unsafe fn strlen(s: *const c_char) -> usize {
    // SAFETY: per the contract.
    unsafe { CStr::from_ptr(s) }.count_bytes()
}

/// The C string at `p`, with any lifetime the caller chooses.
///
/// # Safety
/// `p` must point to a NUL-terminated string that lives and does not change
/// for `'a`.
pub unsafe fn cstr_at<'a>(p: *const c_char) -> &'a CStr {
    // SAFETY: per the contract.
    unsafe { CStr::from_ptr(p) }
}

/// The longest UTF-8 prefix of `bytes` as `&str`.
pub fn utf8_prefix(bytes: &[u8]) -> &str {
    match core::str::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => {
            // SAFETY-free: `valid_up_to` bytes are valid UTF-8.
            core::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or("")
        }
    }
}

/// Shows bytes as text: valid UTF-8 as is, each invalid sequence as U+FFFD.
/// `println!("{}", Bytes(name))`.
#[derive(Clone, Copy)]
pub struct Bytes<'a>(pub &'a [u8]);

impl fmt::Display for Bytes<'_> {
    /// Valid UTF-8 honours width and alignment (`{:<10}`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Ok(s) = core::str::from_utf8(self.0) {
            return f.pad(s);
        }
        for chunk in self.0.utf8_chunks() {
            f.write_str(chunk.valid())?;
            if !chunk.invalid().is_empty() {
                f.write_str("\u{FFFD}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Bytes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for chunk in self.0.utf8_chunks() {
            for c in chunk.valid().chars() {
                write!(f, "{}", c.escape_debug())?;
            }
            for b in chunk.invalid() {
                write!(f, "\\x{b:02x}")?;
            }
        }
        f.write_str("\"")
    }
}

/// A string of at most `N` bytes on the stack; `write!` into it. Text past
/// the capacity is dropped (cut at a character boundary) and
/// [`ArrayString::truncated`] says so.
pub struct ArrayString<const N: usize> {
    buf: [u8; N],
    len: usize,
    truncated: bool,
}

impl<const N: usize> ArrayString<N> {
    /// An empty string.
    pub const fn new() -> Self {
        Self {
            buf: [0; N],
            len: 0,
            truncated: false,
        }
    }
    /// The text.
    pub fn as_str(&self) -> &str {
        // The buffer only ever receives whole characters.
        utf8_prefix(&self.buf[..self.len])
    }
    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
    /// Whether some text did not fit.
    pub fn truncated(&self) -> bool {
        self.truncated
    }
    /// Empties it.
    pub fn clear(&mut self) {
        self.len = 0;
        self.truncated = false;
    }
}

impl<const N: usize> Default for ArrayString<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> fmt::Write for ArrayString<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = N - self.len;
        let mut take = s.len().min(room);
        while !s.is_char_boundary(take) {
            take -= 1;
        }
        self.buf[self.len..self.len + take].copy_from_slice(&s.as_bytes()[..take]);
        self.len += take;
        if take < s.len() {
            self.truncated = true;
        }
        Ok(())
    }
}

impl<const N: usize> fmt::Display for ArrayString<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Formats into an [`ArrayString`] of capacity `N`:
/// `let s = format_array::<64>(format_args!("{x}"));`
pub fn format_array<const N: usize>(args: fmt::Arguments<'_>) -> ArrayString<N> {
    let mut s = ArrayString::new();
    let _ = fmt::write(&mut s, args);
    s
}

/// The longest path [`with_cstr`] accepts, NUL included (`PATH_MAX` is
/// larger on Linux; longer paths give `ENAMETOOLONG`).
pub const PATH_BUF: usize = 1024;

/// Calls `f` with `bytes` as a NUL-terminated C string copied on the stack.
/// `EINVAL` if `bytes` holds a NUL, `ENAMETOOLONG` if it does not fit.
pub fn with_cstr<T>(bytes: &[u8], f: impl FnOnce(&CStr) -> Result<T, Errno>) -> Result<T, Errno> {
    if bytes.contains(&0) {
        return Err(Errno::EINVAL);
    }
    if bytes.len() >= PATH_BUF {
        return Err(Errno::ENAMETOOLONG);
    }
    let mut buf = [0u8; PATH_BUF];
    buf[..bytes.len()].copy_from_slice(bytes);
    match CStr::from_bytes_with_nul(&buf[..=bytes.len()]) {
        Ok(c) => f(c),
        Err(_) => Err(Errno::EINVAL),
    }
}

/// Parses a decimal (or `0x` hexadecimal) unsigned number; `None` on
/// anything else or overflow.
pub fn parse_u64(s: &[u8]) -> Option<u64> {
    let (digits, radix) = match s {
        [b'0', b'x' | b'X', rest @ ..] => (rest, 16),
        _ => (s, 10),
    };
    if digits.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for &b in digits {
        let d = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' if radix == 16 => b - b'a' + 10,
            b'A'..=b'F' if radix == 16 => b - b'A' + 10,
            b'_' => continue,
            _ => return None,
        };
        v = v.checked_mul(radix)?.checked_add(u64::from(d))?;
    }
    Some(v)
}

/// Parses a decimal number with an optional size suffix `K`, `M` or `G`
/// (powers of 1024): `"64M"` → 67108864.
pub fn parse_size(s: &[u8]) -> Option<u64> {
    let (num, shift) = match s.last() {
        Some(b'K' | b'k') => (&s[..s.len() - 1], 10),
        Some(b'M' | b'm') => (&s[..s.len() - 1], 20),
        Some(b'G' | b'g') => (&s[..s.len() - 1], 30),
        _ => (s, 0),
    };
    parse_u64(num)?.checked_mul(1u64 << shift)
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::fmt::Write;

    #[test]
    fn c_strings() {
        // SAFETY: a literal C string.
        assert_eq!(unsafe { strlen(c"hello".as_ptr()) }, 5);
        assert_eq!(with_cstr(b"/boot/x", |c| Ok(c.to_bytes().len())), Ok(7));
        assert_eq!(with_cstr(b"a\0b", |_| Ok(())), Err(Errno::EINVAL));
        assert_eq!(
            with_cstr(&[b'a'; PATH_BUF], |_| Ok(())),
            Err(Errno::ENAMETOOLONG)
        );
    }

    #[test]
    fn bytes_display() {
        assert_eq!(format!("{}", Bytes(b"ab\xffc")), "ab\u{FFFD}c");
        assert_eq!(format!("{:<4}|", Bytes(b"ab")), "ab  |");
        assert_eq!(format!("{:?}", Bytes(b"a\"\xff")), "\"a\\\"\\xff\"");
        assert_eq!(utf8_prefix(b"ok\xff"), "ok");
    }

    #[test]
    fn array_string_truncates_on_char_boundary() {
        let mut s = ArrayString::<5>::new();
        write!(s, "ab").unwrap();
        write!(s, "cé!").unwrap(); // 'é' is 2 bytes: "abcé" = 5 bytes
        assert_eq!(s.as_str(), "abcé");
        assert!(s.truncated());
        let mut s = ArrayString::<4>::new();
        write!(s, "abcé").unwrap();
        assert_eq!(s.as_str(), "abc");
        assert_eq!(
            format_array::<16>(format_args!("{}-{}", 1, 2)).as_str(),
            "1-2"
        );
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_u64(b"123"), Some(123));
        assert_eq!(parse_u64(b"0x1F"), Some(31));
        assert_eq!(parse_u64(b"1_000"), Some(1000));
        assert_eq!(parse_u64(b""), None);
        assert_eq!(parse_u64(b"0x"), None);
        assert_eq!(parse_u64(b"12a"), None);
        assert_eq!(parse_u64(b"99999999999999999999999"), None);
        assert_eq!(parse_size(b"64M"), Some(64 << 20));
        assert_eq!(parse_size(b"4k"), Some(4096));
        assert_eq!(parse_size(b"7"), Some(7));
        assert_eq!(parse_size(b"G"), None);
    }
}
