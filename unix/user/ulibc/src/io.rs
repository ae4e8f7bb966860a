//! Output: [`write_all`], a buffered [`FdWriter`] for `core::fmt`, and the
//! `print!`/`println!`/`eprint!`/`eprintln!` macros over fds 1 and 2.
//!
//! Each macro call formats into a 1 KiB buffer on the stack and issues one
//! `write` (more only for longer output), so lines from concurrent
//! processes do not interleave mid-line and nothing stays buffered at exit.

use crate::errno::Errno;
use crate::sys;
use crate::types::Fd;
use core::fmt;

/// Writes all of `data` to `fd`, retrying short writes and `EINTR`. A write
/// that makes no progress gives `EIO`.
pub fn write_all(fd: Fd, mut data: &[u8]) -> Result<(), Errno> {
    while !data.is_empty() {
        match sys::write(fd, data) {
            Ok(0) => return Err(Errno::EIO),
            Ok(n) => data = &data[n.min(data.len())..],
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A `fmt::Write` sink that buffers `N` bytes on the stack and writes them
/// to an fd when full, on [`FdWriter::flush`] and on drop. The first error
/// is kept ([`FdWriter::error`]); later output is dropped.
pub struct FdWriter<const N: usize = 1024> {
    fd: Fd,
    buf: [u8; N],
    len: usize,
    error: Option<Errno>,
}

impl<const N: usize> FdWriter<N> {
    /// A writer to `fd`.
    pub const fn new(fd: Fd) -> Self {
        Self {
            fd,
            buf: [0; N],
            len: 0,
            error: None,
        }
    }

    /// Appends bytes.
    pub fn write_bytes(&mut self, mut data: &[u8]) {
        while !data.is_empty() && self.error.is_none() {
            if self.len == N {
                self.flush();
                continue;
            }
            let take = data.len().min(N - self.len);
            self.buf[self.len..self.len + take].copy_from_slice(&data[..take]);
            self.len += take;
            data = &data[take..];
        }
    }

    /// Writes out what is buffered.
    pub fn flush(&mut self) {
        if self.len > 0
            && self.error.is_none()
            && let Err(e) = write_all(self.fd, &self.buf[..self.len])
        {
            self.error = Some(e);
        }
        self.len = 0;
    }

    /// The first write error, if any.
    pub fn error(&self) -> Option<Errno> {
        self.error
    }

    /// Flushes and returns the outcome.
    pub fn finish(mut self) -> Result<(), Errno> {
        self.flush();
        match self.error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

impl<const N: usize> fmt::Write for FdWriter<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.write_bytes(s.as_bytes());
        Ok(())
    }
}

impl<const N: usize> Drop for FdWriter<N> {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Formats `args` (and a newline if asked) to `fd` with one buffered
/// writer. What `print!` and friends call.
pub fn print_to(fd: Fd, args: fmt::Arguments<'_>, newline: bool) -> Result<(), Errno> {
    let mut w = FdWriter::<1024>::new(fd);
    let _ = fmt::write(&mut w, args);
    if newline {
        w.write_bytes(b"\n");
    }
    w.finish()
}

/// Prints to standard output.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => {{
        let _ = $crate::io::print_to($crate::types::STDOUT, format_args!($($arg)*), false);
    }};
}

/// Prints a line to standard output.
#[macro_export]
macro_rules! println {
    () => {{
        let _ = $crate::io::write_all($crate::types::STDOUT, b"\n");
    }};
    ($($arg:tt)*) => {{
        let _ = $crate::io::print_to($crate::types::STDOUT, format_args!($($arg)*), true);
    }};
}

/// Prints to standard error.
#[macro_export]
macro_rules! eprint {
    ($($arg:tt)*) => {{
        let _ = $crate::io::print_to($crate::types::STDERR, format_args!($($arg)*), false);
    }};
}

/// Prints a line to standard error.
#[macro_export]
macro_rules! eprintln {
    () => {{
        let _ = $crate::io::write_all($crate::types::STDERR, b"\n");
    }};
    ($($arg:tt)*) => {{
        let _ = $crate::io::print_to($crate::types::STDERR, format_args!($($arg)*), true);
    }};
}

/// Writes a JSON string literal: quotes, and escapes for `"`, `\` and
/// control characters.
pub struct JsonStr<'a>(pub &'a str);

impl fmt::Display for JsonStr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for c in self.0.chars() {
            match c {
                '"' => f.write_str("\\\"")?,
                '\\' => f.write_str("\\\\")?,
                '\n' => f.write_str("\\n")?,
                '\r' => f.write_str("\\r")?,
                '\t' => f.write_str("\\t")?,
                c if (c as u32) < 0x20 => write!(f, "\\u{:04x}", c as u32)?,
                c => write!(f, "{c}")?,
            }
        }
        f.write_str("\"")
    }
}

/// Prints the console's test line `{"test":name,"result":"pass"|"fail","detail":…}`
/// on standard output.
pub fn test_line(name: &str, pass: bool, detail: &str) {
    crate::println!(
        "{{\"test\":{},\"result\":\"{}\",\"detail\":{}}}",
        JsonStr(name),
        if pass { "pass" } else { "fail" },
        JsonStr(detail)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_escapes() {
        assert_eq!(
            format!("{}", JsonStr("a\"b\\c\nd\u{1}")),
            "\"a\\\"b\\\\c\\nd\\u0001\""
        );
    }

    #[test]
    fn writer_reports_errors() {
        let _lock = crate::errno_lock();
        // On the host the stub fails with ENOSYS.
        let mut w = FdWriter::<4>::new(1);
        w.write_bytes(b"abcdef");
        assert_eq!(w.error(), Some(Errno::ENOSYS));
        assert_eq!(print_to(1, format_args!("x"), true), Err(Errno::ENOSYS));
    }
}
