//! `mmaptest [MODE]`: `mmap`, `munmap`, `mprotect` and `madvise`
//! end to end, against `docs/abi.md` ("Memory"). Without MODE, one line per
//! check, then `{"test":"mmaptest",…}`; exit 0 if all pass:
//!
//! - anonymous private `mmap` returns page-aligned zeroed memory, readable
//!   and writable; a second mapping does not overlap it and lies below it
//!   (top-down from 0xB0000000); a length that is not a page multiple gets
//!   whole pages; a free hint is used, a taken one is not (and nothing is
//!   replaced); the ignored flags (`NORESERVE`, `POPULATE`, `STACK`) work;
//! - `MAP_FIXED` at a chosen free address (0x40000000) maps exactly there;
//!   `MAP_FIXED_NOREPLACE` over it is `EEXIST`, at a free address maps
//!   there; `MAP_FIXED` over part of a mapping replaces that part with zero
//!   pages and leaves the rest;
//! - `munmap` of a middle page leaves the others (and `/proc/self/maps`
//!   shows the hole); `munmap` of a span with holes is fine;
//! - `mprotect` to `PROT_READ` keeps the data readable and shows `r--p`,
//!   back to read/write works; code written to a page and made `R-X` runs;
//! - `MADV_DONTNEED` makes a written page read as zero again (its
//!   neighbour keeps its data), on `mmap` memory and on the heap, but leaves
//!   the program's own `.data` as it is; the other advice changes nothing;
//! - `/proc/self/maps` shows an `[mmap]` line for a live mapping and none
//!   after `munmap`; 2000 `mmap`/touch/`munmap` rounds leave the listing as
//!   it was; 32 MiB mapped, every page written and verified; 2 GiB mapped
//!   untouched, its first and last pages used;
//! - the heap cannot grow onto a mapping: `brk` stops one guard page short
//!   of it (`ENOMEM`);
//! - errors: `mmap` with length 0, `MAP_SHARED` anonymous, both or neither of
//!   `SHARED`/`PRIVATE`, an unknown flag or `PROT_*` bit, an unaligned
//!   offset, an unaligned `MAP_FIXED` address → `EINVAL`; a file mapping →
//!   `EBADF` (fd not open) or `ENODEV` (fd open); length 0xF0000000 →
//!   `ENOMEM`; `MAP_FIXED` below 0x10000 → `EPERM`, reaching 0xB0000000 or
//!   over the guard above the break → `ENOMEM`; `munmap` unaligned, of
//!   length 0, of the guard above the break, of the stack, of its guards,
//!   past 4 GiB → `EINVAL`; `mprotect` of an unmapped range or a guard →
//!   `ENOMEM`, of the stack, with an unknown bit, unaligned → `EINVAL`;
//!   `madvise` unaligned or with unknown advice → `EINVAL`, of an unmapped
//!   range → `ENOMEM`.
//!
//! Modes that must die of SIGSEGV (status 139; each its own boot module):
//! `unmapped` (read a page after `munmap`), `readonly` (write after
//! `mprotect(PROT_READ)`), `none` (read a `PROT_NONE` mapping), `noexec`
//! (call into a read/write page). If the access returns they print
//! `NOT KILLED` and a failing test line, exit 0.
//!
//! `maxmap`: the 16384-range limit (`MAX_MAP_COUNT`) — see [`maxmap`];
//! its own test line.

#![no_std]
#![no_main]

use core::sync::atomic::{AtomicU32, Ordering};
use programs::Checker;
use ulibc::malloc::{brk, current_break};
use ulibc::prelude::*;
use ulibc::sys::{madvise, mmap, mmap_anon, mprotect, munmap};

ulibc::entry!(main);

const PAGE: usize = 4096;
const MMAP_MIN: usize = 0x1_0000;
const MMAP_TOP: usize = 0xB000_0000;
const STACK_TOP: usize = 0xC000_0000;
/// Where the `MAP_FIXED` checks map (free on phantom-unix's layout: the heap
/// starts near 0x0805_0000, `mmap` fills down from 0xB000_0000).
const FIXED_AT: usize = 0x4000_0000;
/// Where the hint checks map.
const HINT_AT: usize = 0x5000_0000;
/// Unmapped on our layout (checked in `/proc/self/maps` first).
const HOLE_AT: usize = 0x6000_0000;
const RW: u32 = PROT_READ | PROT_WRITE;

/// In `.data` (non-zero initialiser): `MADV_DONTNEED` must leave it alone.
static DATA_WORD: AtomicU32 = AtomicU32::new(0x1234_5678);

/// `/proc/self/maps`, read whole (a snapshot taken at `open`).
struct Maps {
    buf: [u8; 16384],
    len: usize,
}

/// One line: `start-end perms offset dev inode name`.
#[derive(Clone, Copy)]
struct MapLine<'a> {
    start: usize,
    end: usize,
    perms: &'a [u8],
    name: &'a [u8],
    text: &'a [u8],
}

fn parse_hex(s: &[u8]) -> Option<usize> {
    if s.is_empty() || s.len() > 8 {
        return None;
    }
    let mut v = 0usize;
    for &b in s {
        let d = (b as char).to_digit(16)?;
        v = (v << 4) | d as usize;
    }
    Some(v)
}

impl<'a> MapLine<'a> {
    fn parse(text: &'a [u8]) -> Option<Self> {
        let mut fields = text.split(|&b| b == b' ').filter(|f| !f.is_empty());
        let range = fields.next()?;
        let dash = range.iter().position(|&b| b == b'-')?;
        let start = parse_hex(&range[..dash])?;
        let end = parse_hex(&range[dash + 1..])?;
        let perms = fields.next()?;
        let name = fields.next_back().unwrap_or(b"");
        Some(Self {
            start,
            end,
            perms,
            name,
            text,
        })
    }
}

impl Maps {
    fn read() -> Result<Self, Errno> {
        let f = File::open_read(c"/proc/self/maps")?;
        let mut m = Maps {
            buf: [0; 16384],
            len: 0,
        };
        m.len = f.read_full(&mut m.buf)?;
        Ok(m)
    }

    fn lines(&self) -> impl Iterator<Item = MapLine<'_>> {
        self.buf[..self.len]
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .filter_map(MapLine::parse)
    }

    fn count(&self) -> usize {
        self.lines().count()
    }

    /// The line whose range holds all of `[start, end)`.
    fn covering(&self, start: usize, end: usize) -> Option<MapLine<'_>> {
        self.lines().find(|l| l.start <= start && end <= l.end)
    }

    /// The first line meeting `[start, end)`.
    fn overlapping(&self, start: usize, end: usize) -> Option<MapLine<'_>> {
        self.lines().find(|l| l.start < end && start < l.end)
    }

    fn free(&self, start: usize, end: usize) -> bool {
        self.overlapping(start, end).is_none()
    }

    /// The first line named `name`.
    fn named(&self, name: &[u8]) -> Option<MapLine<'_>> {
        self.lines().find(|l| l.name == name)
    }
}

fn byte(addr: usize) -> u8 {
    // SAFETY: the callers pass addresses of live mappings (or, in the kill
    // modes, addresses that must fault).
    unsafe { (addr as *const u8).read_volatile() }
}

fn set_byte(addr: usize, v: u8) {
    // SAFETY: as for `byte`.
    unsafe { (addr as *mut u8).write_volatile(v) }
}

fn word(addr: usize) -> u32 {
    // SAFETY: as for `byte`; `addr` is 4-aligned.
    unsafe { (addr as *const u32).read_volatile() }
}

fn set_word(addr: usize, v: u32) {
    // SAFETY: as for `byte`; `addr` is 4-aligned.
    unsafe { (addr as *mut u32).write_volatile(v) }
}

/// Writes `tag`'s pattern over `[addr, addr + len)`.
fn fill(addr: usize, len: usize, tag: u32) {
    for i in 0..len {
        set_byte(addr + i, programs::pattern(tag, i));
    }
}

/// The first offset of `[addr, addr + len)` not holding `tag`'s pattern.
fn verify(addr: usize, len: usize, tag: u32) -> Option<usize> {
    (0..len).find(|&i| byte(addr + i) != programs::pattern(tag, i))
}

/// The first non-zero offset of `[addr, addr + len)`.
fn nonzero(addr: usize, len: usize) -> Option<usize> {
    (0..len).find(|&i| byte(addr + i) != 0)
}

/// `mmap` with raw arguments (the error checks pass odd ones on purpose).
fn mmap_raw(
    addr: usize,
    len: usize,
    prot: u32,
    flags: u32,
    fd: Fd,
    off: u32,
) -> Result<usize, Errno> {
    // SAFETY: a MAP_FIXED call only ever targets addresses this program
    // chose as free (or its own test mappings); refused calls change
    // nothing.
    unsafe { mmap(addr as *mut u8, len, prot, flags, fd, off) }.map(|a| a as usize)
}

fn unmap(addr: usize, len: usize) -> Result<(), Errno> {
    // SAFETY: the callers unmap their own test mappings, or spans the
    // kernel must refuse.
    unsafe { munmap(addr as *mut u8, len) }
}

fn protect(addr: usize, len: usize, p: u32) -> Result<(), Errno> {
    // SAFETY: the callers re-protect their own test mappings, or spans the
    // kernel must refuse.
    unsafe { mprotect(addr as *mut u8, len, p) }
}

fn advise(addr: usize, len: usize, advice: u32) -> Result<(), Errno> {
    // SAFETY: DONTNEED only on test memory, our `.data` (which the ABI
    // leaves as it is) or spans the kernel must refuse.
    unsafe { madvise(addr as *mut u8, len, advice) }
}

/// `Checker::expect_ok` for an address: shown in hex.
fn addr_ok(c: &mut Checker, what: &str, r: Result<usize, Errno>) -> Option<usize> {
    match r {
        Ok(a) => {
            c.check(what, true, format_args!("{a:#x}"));
            Some(a)
        }
        Err(e) => {
            c.check(what, false, format_args!("-1 {e:?}"));
            None
        }
    }
}

fn anon(len: usize, p: u32) -> Result<usize, Errno> {
    mmap_anon(len, p).map(|a| a as usize)
}

/// Shows an address result in hex.
struct Hex<T>(T);

impl core::fmt::Display for Hex<Result<usize, Errno>> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            Ok(a) => write!(f, "{a:#x}"),
            Err(e) => write!(f, "-1 {e:?}"),
        }
    }
}

impl core::fmt::Display for Hex<Option<usize>> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            Some(a) => write!(f, "{a:#x}"),
            None => f.write_str("none"),
        }
    }
}

/// Shows a maps line (or its absence) in a check's detail.
struct Shown<'a>(Option<MapLine<'a>>);

impl core::fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            Some(l) => write!(f, "{:?}", Bytes(l.text)),
            None => f.write_str("no line"),
        }
    }
}

fn main(args: Args) -> i32 {
    match args.str(1) {
        None | Some("all") => run(),
        Some("maxmap") => maxmap(),
        Some(mode) => kill_mode(mode),
    }
}

fn run() -> i32 {
    let mut c = Checker::new("mmaptest");
    let maps0 = match Maps::read() {
        Ok(m) => m,
        Err(e) => {
            c.check("/proc/self/maps", false, format_args!("open/read: {e}"));
            return c.finish();
        }
    };
    let start_lines = maps0.count();
    c.check(
        "/proc/self/maps readable",
        start_lines > 0 && maps0.named(b"[stack]").is_some(),
        format_args!("{start_lines} lines, {}", Shown(maps0.named(b"[stack]"))),
    );

    basics(&mut c);
    hints_and_fixed(&mut c);
    unmapping(&mut c);
    protection(&mut c);
    advice(&mut c);
    heap_meets_mapping(&mut c);
    errors(&mut c);
    churn(&mut c, start_lines);
    big(&mut c, 32 << 20);
    huge(&mut c, 2 << 30);
    c.finish()
}

/// Anonymous private memory: aligned, zeroed, read/write, no overlap,
/// top-down, whole pages, `[mmap]` in the listing and gone after `munmap`.
fn basics(c: &mut Checker) {
    let (la, lb) = (3 * PAGE, 5 * PAGE);
    let Some(a) = addr_ok(c, "mmap 3 pages rw anonymous private", anon(la, RW)) else {
        return;
    };
    c.check(
        "address page-aligned, below 0xB0000000",
        a % PAGE == 0 && a >= MMAP_MIN && a + la <= MMAP_TOP,
        format_args!("{a:#x}"),
    );
    let z = nonzero(a, la);
    c.check(
        "memory is zero",
        z.is_none(),
        format_args!("first non-zero byte at {}", Hex(z)),
    );
    fill(a, la, 0xA);
    let bad = verify(a, la, 0xA);
    c.check(
        "written and read back",
        bad.is_none(),
        format_args!("first bad byte at {}", Hex(bad)),
    );

    let Some(b) = addr_ok(c, "second mmap 5 pages", anon(lb, RW)) else {
        return;
    };
    c.check(
        "mappings do not overlap",
        b + lb <= a || a + la <= b,
        format_args!("[{a:#x}, {:#x}) and [{b:#x}, {:#x})", a + la, b + lb),
    );
    c.check(
        "top-down: the second lies below the first",
        b + lb <= a,
        format_args!("{b:#x} + {lb:#x} <= {a:#x}"),
    );
    let z = nonzero(b, lb);
    c.check(
        "second is zero",
        z.is_none(),
        format_args!("first non-zero byte at {}", Hex(z)),
    );
    fill(b, lb, 0xB);
    let (ba, bb) = (verify(a, la, 0xA), verify(b, lb, 0xB));
    c.check(
        "each keeps its own data",
        ba.is_none() && bb.is_none(),
        format_args!("first: {}, second: {}", Hex(ba), Hex(bb)),
    );

    match Maps::read() {
        Ok(m) => {
            let l = m.covering(a, a + la);
            c.check(
                "/proc/self/maps: [mmap] line, rw-p, for a live mapping",
                l.is_some_and(|l| l.name == b"[mmap]" && l.perms == b"rw-p"),
                format_args!("{}", Shown(l)),
            );
        }
        Err(e) => {
            c.check("/proc/self/maps", false, format_args!("{e}"));
        }
    }

    // A length that is not a page multiple gets whole pages.
    if let Some(p) = addr_ok(c, "mmap 100 bytes", anon(100, RW)) {
        set_byte(p + PAGE - 1, 0x5A);
        let m = Maps::read().ok();
        let l = m.as_ref().and_then(|m| m.covering(p, p + PAGE));
        c.check(
            "100 bytes get a whole page (last byte writable)",
            byte(p + PAGE - 1) == 0x5A && l.is_some(),
            format_args!("{}", Shown(l)),
        );
        c.expect_ok("munmap 100 bytes (the whole page)", unmap(p, 100));
        let m = Maps::read().ok();
        let l = m.as_ref().and_then(|m| m.overlapping(p, p + PAGE));
        c.check(
            "page gone after munmap(…, 100)",
            m.is_some() && l.is_none(),
            format_args!("{}", Shown(l)),
        );
    }

    c.expect_ok("munmap first", unmap(a, la));
    c.expect_ok("munmap second", unmap(b, lb));
    match Maps::read() {
        Ok(m) => {
            let l = m.overlapping(a, a + la).or(m.overlapping(b, b + lb));
            c.check(
                "/proc/self/maps: no line after munmap",
                l.is_none(),
                format_args!("{}", Shown(l)),
            );
        }
        Err(e) => {
            c.check("/proc/self/maps after munmap", false, format_args!("{e}"));
        }
    }

    // The flags the kernel accepts and ignores.
    let flags = MAP_ANON | MAP_NORESERVE | MAP_POPULATE | MAP_STACK;
    if let Some(p) = addr_ok(
        c,
        "mmap with MAP_NORESERVE|MAP_POPULATE|MAP_STACK",
        mmap_raw(0, 2 * PAGE, RW, flags, -1, 0),
    ) {
        fill(p, 2 * PAGE, 0x5);
        let bad = verify(p, 2 * PAGE, 0x5);
        c.check(
            "  … usable",
            bad.is_none(),
            format_args!("first bad byte at {}", Hex(bad)),
        );
        let _ = unmap(p, 2 * PAGE);
    }
}

/// Hints and `MAP_FIXED` / `MAP_FIXED_NOREPLACE`.
fn hints_and_fixed(c: &mut Checker) {
    let Ok(m) = Maps::read() else {
        c.check("/proc/self/maps", false, format_args!("unreadable"));
        return;
    };
    let free = m.free(FIXED_AT, FIXED_AT + 0x10_0000) && m.free(HINT_AT, HINT_AT + 0x10_0000);
    c.check(
        "0x40000000 and 0x50000000 free (1 MiB each)",
        free,
        format_args!(
            "{} / {}",
            Shown(m.overlapping(FIXED_AT, FIXED_AT + 0x10_0000)),
            Shown(m.overlapping(HINT_AT, HINT_AT + 0x10_0000))
        ),
    );
    if !free {
        return;
    }

    // A free hint is used (rounded down to its page); a taken one is not.
    let h = mmap_raw(HINT_AT + 0x123, 2 * PAGE, RW, MAP_ANON, -1, 0);
    c.check(
        "mmap hint 0x50000123 (free): mapped at 0x50000000",
        h == Ok(HINT_AT),
        format_args!("{}", Hex(h)),
    );
    if h == Ok(HINT_AT) {
        fill(HINT_AT, 2 * PAGE, 0x4);
        let h2 = mmap_raw(HINT_AT, PAGE, RW, MAP_ANON, -1, 0);
        let bad = verify(HINT_AT, 2 * PAGE, 0x4);
        c.check(
            "mmap hint 0x50000000 (taken): elsewhere, nothing replaced",
            matches!(h2, Ok(a) if a != HINT_AT) && bad.is_none(),
            format_args!("{}, first bad byte at {}", Hex(h2), Hex(bad)),
        );
        if let Ok(a) = h2 {
            let _ = unmap(a, PAGE);
        }
        let _ = unmap(HINT_AT, 2 * PAGE);
    }

    // MAP_FIXED at a chosen free address.
    let fixed = MAP_ANON | MAP_FIXED;
    let f = mmap_raw(FIXED_AT, 3 * PAGE, RW, fixed, -1, 0);
    c.check(
        "MAP_FIXED at free 0x40000000: exactly there",
        f == Ok(FIXED_AT),
        format_args!("{}", Hex(f)),
    );
    if f != Ok(FIXED_AT) {
        return;
    }
    let z = nonzero(FIXED_AT, 3 * PAGE);
    fill(FIXED_AT, 3 * PAGE, 0xF);
    let bad = verify(FIXED_AT, 3 * PAGE, 0xF);
    c.check(
        "  … zero, then written and read back",
        z.is_none() && bad.is_none(),
        format_args!("non-zero at {}, bad at {}", Hex(z), Hex(bad)),
    );
    let m = Maps::read().ok();
    let l = m
        .as_ref()
        .and_then(|m| m.covering(FIXED_AT, FIXED_AT + 3 * PAGE));
    c.check(
        "  … /proc/self/maps shows it as [mmap]",
        l.is_some_and(|l| l.name == b"[mmap]" && l.start == FIXED_AT),
        format_args!("{}", Shown(l)),
    );

    let nr = MAP_ANON | MAP_FIXED_NOREPLACE;
    c.expect_err(
        "MAP_FIXED_NOREPLACE over it",
        mmap_raw(FIXED_AT + PAGE, PAGE, RW, nr, -1, 0),
        Errno::EEXIST,
    );
    let bad = verify(FIXED_AT, 3 * PAGE, 0xF);
    c.check(
        "  … left it intact",
        bad.is_none(),
        format_args!("bad at {}", Hex(bad)),
    );
    let n = mmap_raw(FIXED_AT + 0x8000, PAGE, RW, nr, -1, 0);
    c.check(
        "MAP_FIXED_NOREPLACE at free 0x40008000: exactly there",
        n == Ok(FIXED_AT + 0x8000),
        format_args!("{}", Hex(n)),
    );
    if n.is_ok() {
        let _ = unmap(FIXED_AT + 0x8000, PAGE);
    }

    // MAP_FIXED over the middle page: replaced (zero, read-only), the
    // others keep their data.
    let mid = FIXED_AT + PAGE;
    let r = mmap_raw(mid, PAGE, PROT_READ, fixed, -1, 0);
    c.check(
        "MAP_FIXED over the middle page (PROT_READ)",
        r == Ok(mid),
        format_args!("{}", Hex(r)),
    );
    if r == Ok(mid) {
        let z = nonzero(mid, PAGE);
        let b0 = verify(FIXED_AT, PAGE, 0xF);
        let b2 = (0..PAGE).find(|&i| byte(mid + PAGE + i) != programs::pattern(0xF, 2 * PAGE + i));
        c.check(
            "  … the middle reads zero, its neighbours keep their data",
            z.is_none() && b0.is_none() && b2.is_none(),
            format_args!(
                "middle non-zero at {}, first bad at {}, third bad at {}",
                Hex(z),
                Hex(b0),
                Hex(b2)
            ),
        );
        let m = Maps::read().ok();
        let l = m.as_ref().and_then(|m| m.covering(mid, mid + PAGE));
        c.check(
            "  … /proc/self/maps: the middle page r--p",
            l.is_some_and(|l| l.perms == b"r--p" && l.start == mid && l.end == mid + PAGE),
            format_args!("{}", Shown(l)),
        );
    }
    c.expect_ok("munmap the MAP_FIXED span", unmap(FIXED_AT, 3 * PAGE));
}

/// `munmap` of part of a mapping, and of spans with holes.
fn unmapping(c: &mut Checker) {
    let Some(a) = addr_ok(
        c,
        "mmap 3 pages (for munmap of the middle)",
        anon(3 * PAGE, RW),
    ) else {
        return;
    };
    fill(a, 3 * PAGE, 0x3);
    c.expect_ok("munmap the middle page", unmap(a + PAGE, PAGE));
    let b0 = verify(a, PAGE, 0x3);
    let b2 = (0..PAGE).find(|&i| byte(a + 2 * PAGE + i) != programs::pattern(0x3, 2 * PAGE + i));
    c.check(
        "  … first and last pages keep their data",
        b0.is_none() && b2.is_none(),
        format_args!("first bad at {}, last bad at {}", Hex(b0), Hex(b2)),
    );
    let m = Maps::read().ok();
    let (hole, first, last) = match &m {
        Some(m) => (
            m.overlapping(a + PAGE, a + 2 * PAGE).is_none(),
            m.covering(a, a + PAGE).is_some(),
            m.covering(a + 2 * PAGE, a + 3 * PAGE).is_some(),
        ),
        None => (false, false, false),
    };
    c.check(
        "  … /proc/self/maps shows the hole",
        hole && first && last,
        format_args!("hole {hole}, first page listed {first}, last page listed {last}"),
    );
    c.expect_ok("munmap the whole span, hole included", unmap(a, 3 * PAGE));
    let m = Maps::read().ok();
    let l = m.as_ref().and_then(|m| m.overlapping(a, a + 3 * PAGE));
    c.check(
        "  … nothing left",
        m.is_some() && l.is_none(),
        format_args!("{}", Shown(l)),
    );
    c.expect_ok(
        "munmap of an unmapped span (a hole) is fine",
        unmap(a, 3 * PAGE),
    );
}

/// Position-independent `mov $42, %eax; ret`.
const CODE: [u8; 6] = [0xB8, 42, 0, 0, 0, 0xC3];

/// `mprotect`, and code in a mapping.
fn protection(c: &mut Checker) {
    let Some(a) = addr_ok(c, "mmap 2 pages (for mprotect)", anon(2 * PAGE, RW)) else {
        return;
    };
    fill(a, 2 * PAGE, 0x7);
    c.expect_ok("mprotect PROT_READ", protect(a, 2 * PAGE, PROT_READ));
    let bad = verify(a, 2 * PAGE, 0x7);
    c.check(
        "  … still readable, same data",
        bad.is_none(),
        format_args!("bad at {}", Hex(bad)),
    );
    let m = Maps::read().ok();
    let l = m.as_ref().and_then(|m| m.covering(a, a + 2 * PAGE));
    c.check(
        "  … /proc/self/maps shows r--p",
        l.is_some_and(|l| l.perms == b"r--p"),
        format_args!("{}", Shown(l)),
    );
    c.expect_ok(
        "mprotect back to PROT_READ|PROT_WRITE",
        protect(a, 2 * PAGE, RW),
    );
    fill(a, 2 * PAGE, 0x8);
    let bad = verify(a, 2 * PAGE, 0x8);
    c.check(
        "  … writable again",
        bad.is_none(),
        format_args!("bad at {}", Hex(bad)),
    );
    c.expect_ok(
        "mprotect with length 0 does nothing",
        protect(a, 0, PROT_NONE),
    );
    c.expect_ok("mprotect PROT_NONE", protect(a + PAGE, PAGE, PROT_NONE));
    let m = Maps::read().ok();
    let l = m.as_ref().and_then(|m| m.covering(a + PAGE, a + 2 * PAGE));
    c.check(
        "  … /proc/self/maps shows ---p",
        l.is_some_and(|l| l.perms == b"---p"),
        format_args!("{}", Shown(l)),
    );
    c.expect_ok("munmap it", unmap(a, 2 * PAGE));

    // Code: written while read/write, run once read/execute.
    let Some(x) = addr_ok(c, "mmap 1 page rw (for code)", anon(PAGE, RW)) else {
        return;
    };
    for (i, &b) in CODE.iter().enumerate() {
        set_byte(x + i, b);
    }
    if c.expect_ok(
        "mprotect PROT_READ|PROT_EXEC",
        protect(x, PAGE, PROT_READ | PROT_EXEC),
    )
    .is_some()
    {
        // SAFETY: the page holds `mov $42, %eax; ret` and is executable.
        let f: extern "C" fn() -> u32 = unsafe { core::mem::transmute(x) };
        let v = f();
        c.check(
            "code in the mapping runs",
            v == 42,
            format_args!("returned {v}"),
        );
        let m = Maps::read().ok();
        let l = m.as_ref().and_then(|m| m.covering(x, x + PAGE));
        c.check(
            "  … /proc/self/maps shows r-xp",
            l.is_some_and(|l| l.perms == b"r-xp"),
            format_args!("{}", Shown(l)),
        );
    }
    let _ = unmap(x, PAGE);
}

/// `madvise`: hints change nothing; `DONTNEED` zeroes private memory but
/// not the program's own segments.
fn advice(c: &mut Checker) {
    let Some(a) = addr_ok(c, "mmap 2 pages (for madvise)", anon(2 * PAGE, RW)) else {
        return;
    };
    fill(a, 2 * PAGE, 0x9);
    let hints = [MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED];
    let r: Result<(), Errno> = hints.iter().try_for_each(|&h| advise(a, 2 * PAGE, h));
    let bad = verify(a, 2 * PAGE, 0x9);
    c.check(
        "madvise NORMAL/RANDOM/SEQUENTIAL/WILLNEED accepted, data kept",
        r.is_ok() && bad.is_none(),
        format_args!("{r:?}, bad at {}", Hex(bad)),
    );
    c.expect_ok(
        "madvise DONTNEED of the first page",
        advise(a, PAGE, MADV_DONTNEED),
    );
    let z = nonzero(a, PAGE);
    let b2 = (0..PAGE).find(|&i| byte(a + PAGE + i) != programs::pattern(0x9, PAGE + i));
    c.check(
        "  … it reads as zero again, the second keeps its data",
        z.is_none() && b2.is_none(),
        format_args!("non-zero at {}, second bad at {}", Hex(z), Hex(b2)),
    );
    fill(a, PAGE, 0x6);
    let bad = verify(a, PAGE, 0x6);
    c.check(
        "  … and is writable again",
        bad.is_none(),
        format_args!("bad at {}", Hex(bad)),
    );
    c.expect_ok(
        "madvise with length 0 does nothing",
        advise(a, 0, MADV_DONTNEED),
    );
    let bad = verify(a, PAGE, 0x6);
    c.check(
        "  … data kept",
        bad.is_none(),
        format_args!("bad at {}", Hex(bad)),
    );
    let _ = unmap(a, 2 * PAGE);

    // The heap: its private pages go too.
    match current_break() {
        Ok(b) => {
            let base = b.next_multiple_of(PAGE);
            if brk(base + PAGE).is_ok() {
                set_word(base, 0xDEAD_BEEF);
                let r = advise(base, PAGE, MADV_DONTNEED);
                let v = word(base);
                c.check(
                    "madvise DONTNEED on a heap page: reads zero",
                    r.is_ok() && v == 0,
                    format_args!("{r:?}, word {v:#x}"),
                );
                let back = brk(b);
                c.check("  … break restored", back.is_ok(), format_args!("{back:?}"));
            } else {
                c.check(
                    "brk one page (for madvise)",
                    false,
                    format_args!("{}", ulibc::errno::errno()),
                );
            }
        }
        Err(e) => {
            c.check("brk(0)", false, format_args!("{e}"));
        }
    }

    // The program's own .data is left as it is.
    DATA_WORD.store(0x9ABC_DEF0, Ordering::SeqCst);
    let page = (&raw const DATA_WORD as usize) & !(PAGE - 1);
    let r = advise(page, PAGE, MADV_DONTNEED);
    let v = DATA_WORD.load(Ordering::SeqCst);
    c.check(
        "madvise DONTNEED on our .data leaves it as it is",
        r.is_ok() && v == 0x9ABC_DEF0,
        format_args!(
            "{r:?}, word at {:#x} = {v:#x}",
            &raw const DATA_WORD as usize
        ),
    );
}

/// The heap may not grow onto a mapping: its guard must fit below it.
fn heap_meets_mapping(c: &mut Checker) {
    let Ok(b) = current_break() else {
        c.check("brk(0)", false, format_args!("{}", ulibc::errno::errno()));
        return;
    };
    let g = b.next_multiple_of(PAGE);
    let at = g + 2 * PAGE;
    let nr = MAP_ANON | MAP_FIXED_NOREPLACE;
    let r = mmap_raw(at, PAGE, RW, nr, -1, 0);
    if !c.check(
        "mmap two pages above the break's guard",
        r == Ok(at),
        format_args!("break {b:#x}, at {at:#x}: {}", Hex(r)),
    ) {
        return;
    }
    let up1 = brk(g + PAGE);
    c.check(
        "brk up to one page (guard) below the mapping",
        up1.is_ok(),
        format_args!("brk({:#x}): {up1:?}", g + PAGE),
    );
    let up2 = brk(g + 2 * PAGE);
    c.check(
        "brk whose guard would land on the mapping: ENOMEM",
        up2 == Err(Errno::ENOMEM),
        format_args!("brk({:#x}): {up2:?}", g + 2 * PAGE),
    );
    let back = brk(b);
    c.check("  … break restored", back.is_ok(), format_args!("{back:?}"));
    let _ = unmap(at, PAGE);
}

fn errors(c: &mut Checker) {
    let anon_fl = MAP_ANON;
    c.expect_err(
        "mmap length 0",
        mmap_raw(0, 0, RW, anon_fl, -1, 0),
        Errno::EINVAL,
    );
    c.expect_err(
        "mmap MAP_FIXED at unaligned 0x40000800",
        mmap_raw(FIXED_AT + 0x800, PAGE, RW, anon_fl | MAP_FIXED, -1, 0),
        Errno::EINVAL,
    );
    c.expect_err(
        "mmap MAP_SHARED|MAP_ANONYMOUS",
        mmap_raw(0, PAGE, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0),
        Errno::EINVAL,
    );
    c.expect_err(
        "mmap MAP_SHARED|MAP_PRIVATE",
        mmap_raw(0, PAGE, RW, MAP_SHARED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
        Errno::EINVAL,
    );
    c.expect_err(
        "mmap neither SHARED nor PRIVATE",
        mmap_raw(0, PAGE, RW, MAP_ANONYMOUS, -1, 0),
        Errno::EINVAL,
    );
    c.expect_err(
        "mmap unknown flag 0x100 (MAP_GROWSDOWN)",
        mmap_raw(0, PAGE, RW, anon_fl | 0x100, -1, 0),
        Errno::EINVAL,
    );
    c.expect_err(
        "mmap unknown PROT bit 0x8",
        mmap_raw(0, PAGE, 0x8, anon_fl, -1, 0),
        Errno::EINVAL,
    );
    c.expect_err(
        "mmap offset 100 (unaligned)",
        mmap_raw(0, PAGE, RW, anon_fl, -1, 100),
        Errno::EINVAL,
    );
    c.expect_err(
        "mmap file, fd 99 not open",
        mmap_raw(0, PAGE, PROT_READ, MAP_PRIVATE, 99, 0),
        Errno::EBADF,
    );
    c.expect_err(
        "mmap file, fd -1 without MAP_ANONYMOUS",
        mmap_raw(0, PAGE, PROT_READ, MAP_PRIVATE, -1, 0),
        Errno::EBADF,
    );
    match File::open_read(c"/dev/zero") {
        Ok(f) => {
            c.expect_err(
                "mmap file, fd open (/dev/zero)",
                mmap_raw(0, PAGE, PROT_READ, MAP_PRIVATE, f.fd(), 0),
                Errno::ENODEV,
            );
        }
        Err(e) => {
            c.check("open /dev/zero", false, format_args!("{e}"));
        }
    }
    c.expect_err(
        "mmap length 0xF0000000",
        mmap_raw(0, 0xF000_0000, RW, anon_fl, -1, 0),
        Errno::ENOMEM,
    );
    c.expect_err(
        "mmap length 0xFFFFFFFF",
        mmap_raw(0, 0xFFFF_FFFF, RW, anon_fl, -1, 0),
        Errno::ENOMEM,
    );
    let fixed = anon_fl | MAP_FIXED;
    c.expect_err(
        "mmap MAP_FIXED at 0x1000 (below 0x10000)",
        mmap_raw(0x1000, PAGE, RW, fixed, -1, 0),
        Errno::EPERM,
    );
    c.expect_err(
        "mmap MAP_FIXED reaching 0xB0000000",
        mmap_raw(MMAP_TOP - PAGE, 2 * PAGE, RW, fixed, -1, 0),
        Errno::ENOMEM,
    );
    c.expect_err(
        "mmap MAP_FIXED in the stack reservation (0xBFFFF000)",
        mmap_raw(STACK_TOP - PAGE, PAGE, RW, fixed, -1, 0),
        Errno::ENOMEM,
    );
    let guard = current_break().map(|b| b.next_multiple_of(PAGE));
    if let Ok(g) = guard {
        c.expect_err(
            "mmap MAP_FIXED over the guard above the break",
            mmap_raw(g, PAGE, RW, fixed, -1, 0),
            Errno::ENOMEM,
        );
    }

    c.expect_err("munmap unaligned", unmap(FIXED_AT + 1, PAGE), Errno::EINVAL);
    c.expect_err("munmap length 0", unmap(FIXED_AT, 0), Errno::EINVAL);
    if let Ok(g) = guard {
        c.expect_err(
            "munmap the guard above the break",
            unmap(g, PAGE),
            Errno::EINVAL,
        );
    }
    c.expect_err(
        "munmap the stack's top page (0xBFFFF000)",
        unmap(STACK_TOP - PAGE, PAGE),
        Errno::EINVAL,
    );
    c.expect_err(
        "munmap the guard above the stack (0xC0000000)",
        unmap(STACK_TOP, PAGE),
        Errno::EINVAL,
    );
    if let Ok(m) = Maps::read() {
        // The guard below the stack limit: the [guard] line inside the
        // stack reservation.
        if let Some(l) = m
            .lines()
            .find(|l| l.name == b"[guard]" && (MMAP_TOP..STACK_TOP).contains(&l.start))
        {
            c.expect_err(
                "munmap the guard below the stack limit",
                unmap(l.start, PAGE),
                Errno::EINVAL,
            );
        } else {
            c.check(
                "[guard] below the stack in /proc/self/maps",
                false,
                format_args!("no line"),
            );
        }
    }
    c.expect_err(
        "munmap a span reaching 0xB0000000",
        unmap(MMAP_TOP - PAGE, 2 * PAGE),
        Errno::EINVAL,
    );
    c.expect_err(
        "munmap past 4 GiB",
        unmap(0xFFFF_F000, 2 * PAGE),
        Errno::EINVAL,
    );

    let hole_free = Maps::read().is_ok_and(|m| m.free(HOLE_AT, HOLE_AT + 0x10_0000));
    c.check("0x60000000 unmapped (1 MiB)", hole_free, format_args!(""));
    c.expect_err(
        "mprotect of an unmapped range",
        protect(HOLE_AT, PAGE, PROT_READ),
        Errno::ENOMEM,
    );
    if let Ok(g) = guard {
        c.expect_err(
            "mprotect the guard above the break",
            protect(g, PAGE, RW),
            Errno::ENOMEM,
        );
    }
    c.expect_err(
        "mprotect the stack (0xBFFFF000)",
        protect(STACK_TOP - PAGE, PAGE, PROT_READ),
        Errno::EINVAL,
    );
    c.expect_err(
        "mprotect unaligned",
        protect(FIXED_AT + 0x10, PAGE, PROT_READ),
        Errno::EINVAL,
    );
    c.expect_err(
        "mprotect PROT_GROWSDOWN (0x01000000)",
        protect(HOLE_AT, PAGE, 0x0100_0000 | PROT_READ),
        Errno::EINVAL,
    );
    c.expect_err(
        "madvise unaligned",
        advise(HOLE_AT + 8, PAGE, MADV_NORMAL),
        Errno::EINVAL,
    );
    if let Some(a) = addr_ok(c, "mmap 1 page (for madvise errors)", anon(PAGE, RW)) {
        c.expect_err(
            "madvise unknown advice 100",
            advise(a, PAGE, 100),
            Errno::EINVAL,
        );
        c.expect_err(
            "madvise running into unmapped memory",
            advise(a, 2 * PAGE, MADV_DONTNEED),
            Errno::ENOMEM,
        );
        let _ = unmap(a, PAGE);
    }
    c.expect_err(
        "madvise of an unmapped range",
        advise(HOLE_AT, PAGE, MADV_DONTNEED),
        Errno::ENOMEM,
    );
    // After all these refusals the listing is still sane.
    let l = Maps::read().ok().map(|m| m.count());
    c.check(
        "/proc/self/maps still readable",
        l.is_some(),
        format_args!("{l:?} lines"),
    );
}

/// Many rounds of mmap/touch/munmap: nothing accumulates.
fn churn(c: &mut Checker, start_lines: usize) {
    const ROUNDS: u32 = 2000;
    let mut failed = None;
    for i in 0..ROUNDS {
        let len = (1 + (i as usize % 4)) * PAGE;
        let a = match anon(len, RW) {
            Ok(a) => a,
            Err(e) => {
                failed = Some((i, "mmap", e));
                break;
            }
        };
        let mut p = a;
        while p < a + len {
            if word(p) != 0 {
                failed = Some((i, "non-zero page", Errno::EIO));
                break;
            }
            set_word(p, i);
            p += PAGE;
        }
        if failed.is_some() {
            break;
        }
        if let Err(e) = unmap(a, len) {
            failed = Some((i, "munmap", e));
            break;
        }
    }
    c.check(
        "2000 rounds of mmap, touch every page, munmap",
        failed.is_none(),
        format_args!("{failed:?}"),
    );
    let n = Maps::read().map(|m| m.count());
    c.check(
        "  … /proc/self/maps has as many lines as at the start",
        n == Ok(start_lines),
        format_args!("{n:?}, {start_lines} at the start"),
    );
}

/// A large mapping, every page written and verified.
fn big(c: &mut Checker, len: usize) {
    let Some(a) = addr_ok(c, "mmap 32 MiB", anon(len, RW)) else {
        return;
    };
    let stamp = |p: usize| (p as u32).wrapping_mul(0x9E37_79B1) ^ 0x5151;
    let mut p = a;
    while p < a + len {
        set_word(p, stamp(p));
        set_word(p + PAGE - 4, !stamp(p));
        p += PAGE;
    }
    let bad = (a..a + len)
        .step_by(PAGE)
        .find(|&p| word(p) != stamp(p) || word(p + PAGE - 4) != !stamp(p));
    c.check(
        "  … every page written and verified",
        bad.is_none(),
        format_args!("{} pages, first bad {}", len / PAGE, Hex(bad)),
    );
    c.expect_ok("munmap 32 MiB", unmap(a, len));
}

/// A mapping far larger than memory: untouched pages cost nothing.
fn huge(c: &mut Checker, len: usize) {
    let Some(a) = addr_ok(c, "mmap 2 GiB (untouched)", anon(len, RW)) else {
        return;
    };
    set_word(a, 0xF1F1_F1F1);
    set_word(a + len - 4, 0x1F1F_1F1F);
    let (first, last) = (word(a), word(a + len - 4));
    c.check(
        "  … its first and last pages work",
        first == 0xF1F1_F1F1 && last == 0x1F1F_1F1F,
        format_args!("{first:#x} at {a:#x}, {last:#x} at {:#x}", a + len - 4),
    );
    c.expect_ok("munmap 2 GiB", unmap(a, len));
}

/// The number of lines of `/proc/self/maps`, read in pieces (it may be far
/// larger than a buffer).
fn count_map_lines() -> Result<usize, Errno> {
    let f = File::open_read(c"/proc/self/maps")?;
    let mut buf = [0u8; 4096];
    let mut n = 0;
    loop {
        match f.read(&mut buf)? {
            0 => return Ok(n),
            k => n += buf[..k].iter().filter(|&&b| b == b'\n').count(),
        }
    }
}

/// `mmaptest maxmap`: the range limit (`MAX_MAP_COUNT` = 16384). One
/// mapping of 20000 pages, every other page made read-only until the
/// kernel refuses with `ENOMEM`; the process goes on, the listing holds at
/// most 16384 ranges; one-page mappings fill it to exactly 16384 (the next
/// is `ENOMEM`); then `munmap` of whole ranges — a one-page mapping, the
/// big mapping — needs no new range and must succeed (the ABI refuses only
/// a split past the limit), and everything is as before.
fn maxmap() -> i32 {
    const MAX: usize = 16384;
    const PAGES: usize = 20000;
    let mut c = Checker::new("mmaptest");
    let start = count_map_lines();
    c.check(
        "ranges at the start",
        start.is_ok(),
        format_args!("{start:?}"),
    );
    let Some(a) = addr_ok(&mut c, "mmap 20000 pages", anon(PAGES * PAGE, RW)) else {
        return c.finish();
    };
    let mut refused = None;
    let mut i = 0;
    while i < PAGES {
        if let Err(e) = protect(a + i * PAGE, PAGE, PROT_READ) {
            refused = Some((i, e));
            break;
        }
        i += 2;
    }
    c.check(
        "mprotect every other page: refused with ENOMEM at the limit",
        matches!(refused, Some((_, Errno::ENOMEM))),
        format_args!("{refused:?} (page index, errno)"),
    );
    let n = count_map_lines();
    c.check(
        "  … /proc/self/maps holds at most 16384 ranges, near the limit",
        matches!(n, Ok(n) if (MAX - 8..=MAX).contains(&n)),
        format_args!("{n:?}"),
    );
    // The process goes on: its pages keep their rights.
    set_word(a + PAGE, 0x77);
    let (rw, ro) = (word(a + PAGE), word(a));
    c.check(
        "  … the process goes on (rw page written, ro page read)",
        rw == 0x77 && ro == 0,
        format_args!("{rw:#x}, {ro:#x}"),
    );
    // Fill up to the limit with one-page mappings (one range each).
    let mut singles = [0usize; 16];
    let mut k = 0;
    let fill = loop {
        match anon(PAGE, RW) {
            Ok(p) if k < singles.len() => {
                singles[k] = p;
                k += 1;
            }
            Ok(p) => break Ok(p),
            Err(e) => break Err(e),
        }
    };
    let n = count_map_lines();
    c.check(
        "one-page mmaps until ENOMEM: exactly 16384 ranges",
        fill == Err(Errno::ENOMEM) && n == Ok(MAX),
        format_args!("{k} mapped, then {}; {n:?} ranges", Hex(fill)),
    );
    // At the limit, unmapping whole ranges needs no new one.
    if k > 0 {
        c.expect_ok(
            "munmap of a whole one-page mapping at the limit",
            unmap(singles[k - 1], PAGE),
        );
        k -= 1;
        let _ = anon(PAGE, RW).map(|p| {
            singles[k] = p;
            k += 1;
        });
    }
    c.expect_ok(
        "munmap of the whole 20000-page mapping at the limit (no split)",
        unmap(a, PAGES * PAGE),
    );
    for &p in &singles[..k] {
        let _ = unmap(p, PAGE);
    }
    let n = count_map_lines();
    c.check(
        "  … /proc/self/maps back to its start",
        n.is_ok() && n == start,
        format_args!("{n:?}, {start:?} at the start"),
    );
    let after = anon(PAGE, RW);
    c.check(
        "  … mmap works again",
        after.is_ok(),
        format_args!("{}", Hex(after)),
    );
    c.finish()
}

/// The modes that must die of SIGSEGV.
fn kill_mode(mode: &str) -> i32 {
    let die = |what: core::fmt::Arguments<'_>| programs::not_killed("mmaptest", what);
    match mode {
        "unmapped" => {
            let Ok(a) = anon(PAGE, RW) else {
                return fail(mode, "mmap");
            };
            set_word(a, 0x1234_5678);
            if unmap(a, PAGE).is_err() {
                return fail(mode, "munmap");
            }
            println!("mmaptest: unmapped: reading {a:#x} after munmap (expect SIGSEGV, unmapped)");
            let v = word(a);
            die(format_args!("unmapped: read {v:#x} at {a:#x} after munmap"))
        }
        "readonly" => {
            let Ok(a) = anon(PAGE, RW) else {
                return fail(mode, "mmap");
            };
            set_word(a, 0x1234_5678);
            if protect(a, PAGE, PROT_READ).is_err() {
                return fail(mode, "mprotect");
            }
            let v = word(a);
            println!(
                "mmaptest: readonly: {a:#x} reads {v:#x} after mprotect(PROT_READ); writing it (expect SIGSEGV, write to read-only page)"
            );
            set_word(a, 0x8765_4321);
            die(format_args!(
                "readonly: wrote {a:#x} after mprotect(PROT_READ)"
            ))
        }
        "none" => {
            let Ok(a) = anon(PAGE, PROT_NONE) else {
                return fail(mode, "mmap");
            };
            println!("mmaptest: none: reading PROT_NONE {a:#x} (expect SIGSEGV)");
            let v = word(a);
            die(format_args!("none: read {v:#x} at PROT_NONE {a:#x}"))
        }
        "noexec" => {
            let Ok(a) = anon(PAGE, RW) else {
                return fail(mode, "mmap");
            };
            for (i, &b) in CODE.iter().enumerate() {
                set_byte(a + i, b);
            }
            println!("mmaptest: noexec: calling into read/write {a:#x} (expect SIGSEGV)");
            // SAFETY: deliberately runs a non-executable page; the kernel
            // must kill us (NX).
            let f: extern "C" fn() -> u32 = unsafe { core::mem::transmute(a) };
            let v = f();
            die(format_args!(
                "noexec: ran code at read/write {a:#x}, returned {v}"
            ))
        }
        other => {
            eprintln!("mmaptest: unknown mode {other:?} (all, unmapped, readonly, none, noexec)");
            2
        }
    }
}

fn fail(mode: &str, what: &str) -> i32 {
    let e = ulibc::errno::errno();
    let detail = ulibc::string::format_array::<128>(format_args!("{mode}: {what} failed: {e}"));
    println!("mmaptest: {}", detail.as_str());
    ulibc::io::test_line("mmaptest", false, detail.as_str());
    1
}
