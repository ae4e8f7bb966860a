//! A reader of `newc` cpio archives (the initramfs format): untrusted input, so
//! every field is checked and a bad archive is an error, never a panic.

use core::fmt;

/// `newc` header magic.
const MAGIC: &[u8; 6] = b"070701";
/// Header size: the magic and 13 eight-digit hex fields.
const HEADER: usize = 110;
/// The name of the last entry.
const TRAILER: &[u8] = b"TRAILER!!!";

/// One entry of an archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpioEntry<'a> {
    /// Its path, as stored (no NUL).
    pub name: &'a [u8],
    /// `st_mode`: type and permission bits.
    pub mode: u32,
    /// Its contents.
    pub data: &'a [u8],
}

/// Why an archive is refused, and at which byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpioError {
    /// Offset of the bad entry.
    pub at: usize,
    /// What is wrong.
    pub why: &'static str,
}

impl fmt::Display for CpioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad cpio archive at byte {}: {}", self.at, self.why)
    }
}

/// Whether `bytes` start like a `newc` archive.
pub fn is_cpio(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

/// The entries of the archive `bytes`, up to its trailer. Yields an error (and
/// then nothing) for a malformed entry.
pub fn entries(bytes: &[u8]) -> impl Iterator<Item = Result<CpioEntry<'_>, CpioError>> + '_ {
    let mut at = 0usize;
    let mut done = false;
    core::iter::from_fn(move || {
        if done {
            return None;
        }
        match parse_one(bytes, at) {
            Ok(None) => {
                done = true;
                None
            }
            Ok(Some((entry, next))) => {
                at = next;
                Some(Ok(entry))
            }
            Err(e) => {
                done = true;
                Some(Err(e))
            }
        }
    })
}

/// One 8-digit hex field of the header at `at`.
fn field(bytes: &[u8], at: usize, index: usize) -> Result<u32, CpioError> {
    let bad = CpioError {
        at,
        why: "bad hex field",
    };
    let start = at + 6 + index * 8;
    let digits = bytes.get(start..start + 8).ok_or(bad)?;
    let text = core::str::from_utf8(digits).map_err(|_| bad)?;
    u32::from_str_radix(text, 16).map_err(|_| bad)
}

/// `n` rounded up to a multiple of 4.
fn align4(n: usize) -> Option<usize> {
    n.checked_add(3).map(|v| v & !3)
}

/// The entry at `at` and the offset of the next, or `None` at the trailer.
fn parse_one(bytes: &[u8], at: usize) -> Result<Option<(CpioEntry<'_>, usize)>, CpioError> {
    let err = |why| CpioError { at, why };
    let header = bytes
        .get(at..at.checked_add(HEADER).ok_or(err("too long"))?)
        .ok_or(err("truncated header"))?;
    if &header[..6] != MAGIC {
        return Err(err("not a newc header"));
    }
    let mode = field(bytes, at, 1)?;
    let size = field(bytes, at, 6)? as usize;
    let namesize = field(bytes, at, 11)? as usize;
    if namesize == 0 || namesize > 4096 {
        return Err(err("bad name size"));
    }
    let name_start = at + HEADER;
    let name = bytes
        .get(name_start..name_start + namesize)
        .ok_or(err("truncated name"))?;
    let (&nul, name) = name.split_last().ok_or(err("empty name"))?;
    if nul != 0 || name.contains(&0) {
        return Err(err("name not NUL-terminated"));
    }
    if name == TRAILER {
        return Ok(None);
    }
    let data_start = align4(name_start + namesize).ok_or(err("too long"))?;
    let data_end = data_start.checked_add(size).ok_or(err("too long"))?;
    let data = bytes
        .get(data_start..data_end)
        .ok_or(err("truncated data"))?;
    let next = align4(data_end).ok_or(err("too long"))?;
    Ok(Some((CpioEntry { name, mode, data }, next)))
}

/// Build a `newc` archive of `entries` (path, mode, data): the writer the build
/// and the tests use.
pub fn build(entries: &[(&[u8], u32, &[u8])]) -> alloc::vec::Vec<u8> {
    let mut out = alloc::vec::Vec::new();
    let mut push = |name: &[u8], mode: u32, data: &[u8], ino: usize| {
        let fields = [
            ino as u32,
            mode,
            0,
            0,
            1,
            0,
            data.len() as u32,
            0,
            0,
            0,
            0,
            name.len() as u32 + 1,
            0,
        ];
        out.extend_from_slice(MAGIC);
        for f in fields {
            out.extend_from_slice(alloc::format!("{f:08X}").as_bytes());
        }
        out.extend_from_slice(name);
        out.push(0);
        while out.len() % 4 != 0 {
            out.push(0);
        }
        out.extend_from_slice(data);
        while out.len() % 4 != 0 {
            out.push(0);
        }
    };
    for (i, &(name, mode, data)) in entries.iter().enumerate() {
        push(name, mode, data, i + 1);
    }
    push(TRAILER, 0, &[], 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn round_trip_and_truncations_are_errors() {
        let a = build(&[
            (b"bin", 0o40755, b""),
            (b"bin/hello", 0o100755, b"\x7fELF..."),
            (b"etc/motd", 0o100644, b"welcome\n"),
        ]);
        assert!(is_cpio(&a));
        let got: Vec<_> = entries(&a).collect::<Result<_, _>>().unwrap();
        assert_eq!(got.len(), 3);
        assert_eq!(got[1].name, b"bin/hello");
        assert_eq!(got[1].mode, 0o100755);
        assert_eq!(got[2].data, b"welcome\n");
        for cut in 0..a.len() {
            // Without its trailer's name an archive is an error.
            let r: Result<Vec<_>, _> = entries(&a[..cut]).collect();
            assert!(r.is_err() || cut >= a.len() - 3, "cut {cut}: {r:?}");
        }
    }
}
