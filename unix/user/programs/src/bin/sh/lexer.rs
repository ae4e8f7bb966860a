//! The lexer: a line split into words — blanks, quotes, backslashes, `$?` and
//! `$$`, `$NAME` and `${NAME}`, `;`, the operators `|`, `<`, `>`, `>>`, `2>&1`, and comments.

use super::vars::Vars;
use super::*;
/// One token of a line: a word (a range of the words buffer), `;` or an
/// operator.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Token {
    Word(u16, u16),
    Semicolon,
    /// `|`.
    Pipe,
    /// `<` (the next word is the file).
    From,
    /// `>`.
    To,
    /// `>>`.
    Append,
    /// `2>&1`.
    ErrToOut,
}

/// What ended a command (see [`Words::split`] with `one`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum End {
    /// `;`, or the end of the line.
    Then,
    /// `&`: run it in the background.
    Background,
    /// `&&`: run the next only if this one succeeded.
    And,
    /// `||`: run the next only if this one failed.
    Or,
}

/// Why a line could not be split.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SplitError {
    Quote(u8),
    TooManyWords,
    TooLong,
}

/// The tokens of one line, their bytes unquoted and expanded.
pub(crate) struct Words {
    pub(crate) buf: [u8; WORDS_BUF],
    pub(crate) len: usize,
    pub(crate) tokens: [Token; MAX_WORDS],
    pub(crate) count: usize,
    /// What ended the last command split with `one`.
    pub(crate) end: End,
}

impl Words {
    pub(crate) fn new() -> Self {
        Self {
            buf: [0; WORDS_BUF],
            len: 0,
            tokens: [Token::Semicolon; MAX_WORDS],
            count: 0,
            end: End::Then,
        }
    }

    pub(crate) fn push_byte(&mut self, b: u8) -> Result<(), SplitError> {
        let slot = self.buf.get_mut(self.len).ok_or(SplitError::TooLong)?;
        *slot = b;
        self.len += 1;
        Ok(())
    }

    pub(crate) fn push_bytes(&mut self, bytes: &[u8]) -> Result<(), SplitError> {
        bytes.iter().try_for_each(|&b| self.push_byte(b))
    }

    pub(crate) fn push_token(&mut self, t: Token) -> Result<(), SplitError> {
        let slot = self
            .tokens
            .get_mut(self.count)
            .ok_or(SplitError::TooManyWords)?;
        *slot = t;
        self.count += 1;
        Ok(())
    }

    /// Splits `line`; `status` and `pid` expand `$?` and `$$`. With
    /// `one`, stops after the first command (its `;` is not kept). Returns
    /// how many bytes of `line` it used.
    pub(crate) fn split(
        &mut self,
        line: &[u8],
        status: i32,
        pid: u32,
        vars: &Vars,
        one: bool,
    ) -> Result<usize, SplitError> {
        self.len = 0;
        self.count = 0;
        self.end = End::Then;
        let mut i = 0;
        // Start of the word being built, if one is.
        let mut word: Option<usize> = None;
        while let Some(&b) = line.get(i) {
            i += 1;
            match b {
                b' ' | b'\t' | b'\r' | b'\x0b' | b'\x0c' | b';' => {
                    if let Some(start) = word.take() {
                        self.end_word(start)?;
                    }
                    if b == b';' {
                        if one {
                            return Ok(i);
                        }
                        self.push_token(Token::Semicolon)?;
                    }
                }
                b'&' | b'|' if matches!((b, line.get(i)), (b'&', _) | (b'|', Some(b'|'))) => {
                    // `&&`, `||` and `&` end a command, as `;` does.
                    if let Some(start) = word.take() {
                        self.end_word(start)?;
                    }
                    let end = match (b, line.get(i)) {
                        (b'&', Some(b'&')) => End::And,
                        (b'&', _) => End::Background,
                        _ => End::Or,
                    };
                    if end != End::Background {
                        i += 1;
                    }
                    if one {
                        self.end = end;
                        return Ok(i);
                    }
                    self.push_token(Token::Semicolon)?;
                }
                b'|' | b'<' | b'>' => {
                    if let Some(start) = word.take() {
                        // `2>&1` is one operator when `2` stands alone.
                        if b == b'>'
                            && self.len - start == 1
                            && self.buf[start] == b'2'
                            && line.get(i..i + 2) == Some(b"&1")
                        {
                            self.len = start;
                            self.push_token(Token::ErrToOut)?;
                            i += 2;
                            continue;
                        }
                        self.end_word(start)?;
                    }
                    let t = match b {
                        b'|' => Token::Pipe,
                        b'<' => Token::From,
                        _ if line.get(i) == Some(&b'>') => {
                            i += 1;
                            Token::Append
                        }
                        _ => Token::To,
                    };
                    self.push_token(t)?;
                }
                b'#' if word.is_none() => {
                    i = line.len();
                    break;
                }
                b'\'' => {
                    word.get_or_insert(self.len);
                    let len = line[i..]
                        .iter()
                        .position(|&c| c == b'\'')
                        .ok_or(SplitError::Quote(b'\''))?;
                    self.push_bytes(&line[i..i + len])?;
                    i += len + 1;
                }
                b'"' => {
                    word.get_or_insert(self.len);
                    loop {
                        match line.get(i) {
                            None => return Err(SplitError::Quote(b'"')),
                            Some(b'"') => {
                                i += 1;
                                break;
                            }
                            Some(b'\\') if matches!(line.get(i + 1), Some(b'"' | b'\\' | b'$')) => {
                                self.push_byte(line[i + 1])?;
                                i += 2;
                            }
                            Some(b'$') if matches!(line.get(i + 1), Some(b'?' | b'$')) => {
                                self.push_var(line[i + 1], status, pid)?;
                                i += 2;
                            }
                            Some(b'$')
                                if super::vars::name_len(&line[i + 1..]) > 0
                                    || line.get(i + 1) == Some(&b'{') =>
                            {
                                match self.push_named(&line[i + 1..], vars)? {
                                    Some(n) => i += 1 + n,
                                    None => {
                                        self.push_byte(b'$')?;
                                        i += 1;
                                    }
                                }
                            }
                            Some(&c) => {
                                self.push_byte(c)?;
                                i += 1;
                            }
                        }
                    }
                }
                b'\\' => {
                    word.get_or_insert(self.len);
                    // A trailing backslash stands for itself.
                    let c = line.get(i).copied().unwrap_or(b'\\');
                    self.push_byte(c)?;
                    i += 1;
                }
                b'$' if matches!(line.get(i), Some(b'?' | b'$')) => {
                    word.get_or_insert(self.len);
                    self.push_var(line[i], status, pid)?;
                    i += 1;
                }
                b'$' if super::vars::name_len(&line[i..]) > 0 || line.get(i) == Some(&b'{') => {
                    word.get_or_insert(self.len);
                    if let Some(n) = self.push_named(&line[i..], vars)? {
                        i += n;
                    } else {
                        self.push_byte(b'$')?;
                    }
                }
                _ => {
                    word.get_or_insert(self.len);
                    self.push_byte(b)?;
                }
            }
        }
        if let Some(start) = word {
            self.end_word(start)?;
        }
        Ok(i)
    }

    pub(crate) fn end_word(&mut self, start: usize) -> Result<(), SplitError> {
        // WORDS_BUF < 65536: both fit.
        self.push_token(Token::Word(start as u16, (self.len - start) as u16))
    }

    /// `NAME` or `{NAME}` at the start of `rest` (after a `$`): its value
    /// pushed, and how many bytes of `rest` it took; `None` when `rest` names
    /// no variable.
    pub(crate) fn push_named(
        &mut self,
        rest: &[u8],
        vars: &Vars,
    ) -> Result<Option<usize>, SplitError> {
        let (name, used) = match rest.first() {
            Some(b'{') => {
                let n = super::vars::name_len(&rest[1..]);
                if n == 0 || rest.get(1 + n) != Some(&b'}') {
                    return Ok(None);
                }
                (&rest[1..1 + n], n + 2)
            }
            _ => {
                let n = super::vars::name_len(rest);
                if n == 0 {
                    return Ok(None);
                }
                (&rest[..n], n)
            }
        };
        self.push_bytes(vars.get(name).unwrap_or(b""))?;
        Ok(Some(used))
    }

    pub(crate) fn push_var(&mut self, which: u8, status: i32, pid: u32) -> Result<(), SplitError> {
        let v = if which == b'?' { status as u32 } else { pid };
        let s = ulibc::string::format_array::<12>(format_args!("{v}"));
        self.push_bytes(s.as_bytes())
    }

    pub(crate) fn word(&self, t: Token) -> &[u8] {
        match t {
            Token::Word(start, len) => {
                let (s, l) = (usize::from(start), usize::from(len));
                self.buf.get(s..s + l).unwrap_or(&[])
            }
            Token::Semicolon => b";",
            Token::Pipe => b"|",
            Token::From => b"<",
            Token::To => b">",
            Token::Append => b">>",
            Token::ErrToOut => b"2>&1",
        }
    }
}
