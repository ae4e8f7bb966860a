//! Reading lines: from a file descriptor, with long lines read to their end and
//! refused.

use super::*;
/// What [`Reader::next_line`] found.
pub(crate) enum Line {
    /// A line (without its newline): a range of the reader's buffer.
    Text(Range<usize>),
    /// A line longer than the buffer, read to its end and dropped.
    TooLong,
    /// End of input.
    Eof,
    /// `read` failed.
    Error(Errno),
}

/// Splits what `read` returns into lines, whatever the reads' sizes.
pub(crate) struct Reader {
    pub(crate) fd: Fd,
    pub(crate) buf: [u8; LINE],
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) eof: bool,
}

impl Reader {
    pub(crate) fn new(fd: Fd) -> Self {
        Self {
            fd,
            buf: [0; LINE],
            start: 0,
            end: 0,
            eof: false,
        }
    }

    pub(crate) fn next_line(&mut self) -> Line {
        let mut too_long = false;
        loop {
            let pending = self.buf.get(self.start..self.end).unwrap_or(&[]);
            if let Some(i) = pending.iter().position(|&b| b == b'\n') {
                let line = self.start..self.start + i;
                self.start += i + 1;
                return if too_long {
                    Line::TooLong
                } else {
                    Line::Text(line)
                };
            }
            if self.eof {
                // A last line without a newline still counts.
                if self.start < self.end {
                    let line = self.start..self.end;
                    self.start = self.end;
                    return if too_long {
                        Line::TooLong
                    } else {
                        Line::Text(line)
                    };
                }
                return if too_long { Line::TooLong } else { Line::Eof };
            }
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            if self.end == self.buf.len() {
                // No newline in a full buffer: drop it, keep reading to the
                // end of the line.
                too_long = true;
                self.end = 0;
            }
            match sys::read(self.fd, &mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.end = (self.end + n).min(self.buf.len()),
                Err(Errno::EINTR) => {}
                Err(e) => return Line::Error(e),
            }
        }
    }
}
