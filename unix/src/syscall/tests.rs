//! Host tests of every syscall, including the EFAULT paths, over a real address space
//! on the emulated machine ([`TestContext`]).

use super::native::{dispatch_from_stack, read_args};
use super::testing::TestContext as Ctx;
use super::*;
use crate::abi::open_flags::*;
use crate::abi::{dtype, mode, nr::*, Stat};
use crate::console::ConsoleInput;
use crate::process::Ended;
use alloc::string::String;

const BUF: u32 = Ctx::BUF;
const BUF_END: u32 = Ctx::BUF + Ctx::BUF_PAGES * 4096;
const RO: u32 = Ctx::RO;
const GUARD: u32 = Ctx::GUARD;
const UNMAPPED: u32 = 0x0900_0000;

static MODULE: &[u8] = b"#!module bytes\n0123456789";

fn ctx() -> Ctx {
    let mut c = Ctx::new();
    c.vfs.add_boot_file("hello", MODULE).unwrap();
    c
}

/// Put `path` at the end of the scratch buffer and open it.
fn open(c: &mut Ctx, path: &[u8], flags: u32) -> Result<u32, Errno> {
    let at = BUF_END - 0x1000;
    c.put_cstr(at, path);
    match c.call(OPEN, &[at, flags, 0o644]) {
        SyscallResult::Return(r) => r,
        other => panic!("{other:?}"),
    }
}

#[test]
fn ids_pagesize_exit_unknown() {
    let mut c = ctx();
    c.pid = 7;
    c.ppid = 3;
    assert_eq!(c.ok(GETPID, &[]), 7);
    assert_eq!(c.ok(GETPPID, &[]), 3);
    assert_eq!(c.ok(GETPAGESIZE, &[]), 4096);
    assert_eq!(c.call(EXIT, &[0x1_2345]), SyscallResult::Exit(0x45));
    assert_eq!(c.call(EXIT, &[u32::MAX]), SyscallResult::Exit(0xff));
    // Phantom's numbers this kernel does not implement yet, free numbers, and
    // numbers past every group: ENOSYS, with eax = -1.
    for nr in [6, 11, 99, 125, 259, 277, 515, 521, 1024, 2048, u32::MAX] {
        assert_eq!(c.fails(nr, &[1, 2, 3]), Errno::ENOSYS, "nr {nr}");
    }
    assert_eq!(c.call(999, &[]), SyscallResult::err(Errno::ENOSYS));
    // The native encoding: eax = -1, edx = 78.
    assert_eq!(native::encode(Err(Errno::ENOSYS)), (u32::MAX, 78));
    assert_eq!(native::encode(Ok(7)), (7, 0));
    c.finish();
}

#[test]
fn uname_and_efault() {
    let mut c = ctx();
    assert_eq!(c.ok(UNAME, &[BUF]), 0);
    let u = c.get(BUF, 6 * 257);
    assert_eq!(&u[..13], b"phantom-unix\0");
    assert_eq!(&u[257..265], b"phantom\0");
    assert_eq!(&u[4 * 257..4 * 257 + 5], b"i686\0");
    // The whole 1542 bytes must be writable.
    assert_eq!(c.fails(UNAME, &[BUF_END - 1541]), Errno::EFAULT);
    assert_eq!(c.ok(UNAME, &[BUF_END - 1542]), 0);
    for bad in [
        0,
        RO,
        GUARD,
        UNMAPPED,
        BUF_END - 100,
        0xffff_ff00,
        0xC000_0000,
    ] {
        assert_eq!(c.fails(UNAME, &[bad]), Errno::EFAULT, "{bad:#x}");
    }
    c.finish();
}

#[test]
fn time_and_clocks() {
    let mut c = ctx();
    c.realtime_ns = 1_700_000_000_123_456_789;
    c.monotonic_ns = 5_000_000_042;
    let secs = 1_700_000_000;
    assert_eq!(c.ok(TIME, &[0]), secs);
    assert_eq!(c.ok(TIME, &[BUF]), secs);
    // time_t is 64 bits: all eight bytes are stored.
    c.put(BUF, &[0xAA; 8]);
    c.realtime_ns = 0x1_0000_0005 * 1_000_000_000;
    assert_eq!(c.ok(TIME, &[BUF]), 5);
    assert_eq!(c.get(BUF, 8), 0x1_0000_0005u64.to_le_bytes());
    c.realtime_ns = 1_700_000_000_123_456_789;
    assert_eq!(c.fails(TIME, &[RO]), Errno::EFAULT);
    assert_eq!(c.fails(TIME, &[BUF_END - 7]), Errno::EFAULT);
    // gettimeofday: struct timeval {long tv_sec; long tv_usec}; NULL stores nothing.
    assert_eq!(c.ok(GETTIMEOFDAY, &[BUF, 0]), 0);
    assert_eq!(c.get(BUF, 4), secs.to_le_bytes());
    assert_eq!(c.get(BUF + 4, 4), 123_456u32.to_le_bytes());
    assert_eq!(c.ok(GETTIMEOFDAY, &[0, 0]), 0);
    assert_eq!(c.fails(GETTIMEOFDAY, &[RO, 0]), Errno::EFAULT);
    assert_eq!(c.ok(CLOCK_GETTIME, &[1, BUF]), 0);
    assert_eq!(c.get(BUF, 8), [5, 0, 0, 0, 42, 0, 0, 0]);
    assert_eq!(c.ok(CLOCK_GETTIME, &[0, BUF]), 0);
    let ts = c.get(BUF, 8);
    assert_eq!(ts[..4], secs.to_le_bytes());
    assert_eq!(ts[4..], 123_456_789u32.to_le_bytes());
    assert_eq!(c.fails(CLOCK_GETTIME, &[2, BUF]), Errno::EINVAL);
    assert_eq!(c.fails(CLOCK_GETTIME, &[1, 0]), Errno::EFAULT);
    assert_eq!(c.fails(CLOCK_GETTIME, &[1, BUF_END - 4]), Errno::EFAULT);
    c.finish();
}

#[test]
fn open_close_errors() {
    let mut c = ctx();
    assert_eq!(open(&mut c, b"/boot/hello", O_RDONLY), Ok(3));
    assert_eq!(open(&mut c, b"/dev/null", O_WRONLY), Ok(4));
    assert_eq!(c.ok(CLOSE, &[3]), 0);
    assert_eq!(open(&mut c, b"/dev/zero", O_RDONLY), Ok(3)); // lowest free
    assert_eq!(c.fails(CLOSE, &[3 + 100]), Errno::EBADF);
    assert_eq!(c.fails(CLOSE, &[u32::MAX]), Errno::EBADF);
    assert_eq!(c.ok(CLOSE, &[3]), 0);
    assert_eq!(c.fails(CLOSE, &[3]), Errno::EBADF);
    assert_eq!(open(&mut c, b"/boot/missing", O_RDONLY), Err(Errno::ENOENT));
    assert_eq!(open(&mut c, b"/nowhere/x", O_RDONLY), Err(Errno::ENOENT));
    assert_eq!(open(&mut c, b"", O_RDONLY), Err(Errno::ENOENT));
    assert_eq!(open(&mut c, b"/boot/hello", O_WRONLY), Err(Errno::EROFS));
    assert_eq!(
        open(&mut c, b"/boot/hello/x", O_RDONLY),
        Err(Errno::ENOTDIR)
    );
    assert_eq!(open(&mut c, b"/tmp", O_WRONLY), Err(Errno::EISDIR));
    // Bad path pointers: NULL, unmapped, guard, a string running into unmapped memory.
    for bad in [0, UNMAPPED, GUARD] {
        assert_eq!(c.fails(OPEN, &[bad, 0, 0]), Errno::EFAULT);
    }
    c.put(BUF_END - 4, b"/tmp");
    assert_eq!(c.fails(OPEN, &[BUF_END - 4, 0, 0]), Errno::EFAULT);
    // A path of 4096 bytes without NUL: too long.
    let long = alloc::vec![b'/'; 4096];
    c.put(BUF, &long);
    assert_eq!(c.fails(OPEN, &[BUF, 0, 0]), Errno::ENAMETOOLONG);
    c.put(BUF + 4095, &[0]);
    assert_eq!(c.ok(OPEN, &[BUF, 0, 0]), 3); // 4095 slashes: "/"
    c.finish();
}

#[test]
fn emfile_does_not_create() {
    let mut c = ctx();
    for fd in 3..64 {
        assert_eq!(open(&mut c, b"/dev/null", O_RDONLY), Ok(fd));
    }
    assert_eq!(open(&mut c, b"/dev/null", O_RDONLY), Err(Errno::EMFILE));
    assert_eq!(
        open(&mut c, b"/tmp/new", O_CREAT | O_WRONLY),
        Err(Errno::EMFILE)
    );
    assert_eq!(
        c.vfs.lookup(crate::vfs::PathContext::root(1), b"/tmp/new"),
        Err(Errno::ENOENT)
    );
    c.ok(CLOSE, &[40]);
    assert_eq!(open(&mut c, b"/tmp/new", O_CREAT | O_WRONLY), Ok(40));
    c.finish();
}

#[test]
fn ramfs_read_write_seek_append_trunc() {
    let mut c = ctx();
    let fd = open(&mut c, b"/tmp/f", O_CREAT | O_RDWR).unwrap();
    c.put(BUF, b"hello world");
    assert_eq!(c.ok(WRITE, &[fd, BUF, 11]), 11);
    assert_eq!(c.ok(LSEEK, &[fd, 0, 1]), 11);
    assert_eq!(c.ok(LSEEK, &[fd, 6, 0]), 6);
    assert_eq!(c.ok(READ, &[fd, BUF + 100, 100]), 5);
    assert_eq!(c.get(BUF + 100, 5), b"world");
    assert_eq!(c.ok(READ, &[fd, BUF + 100, 100]), 0); // EOF
    assert_eq!(c.ok(LSEEK, &[fd, 100, 0]), 100);
    assert_eq!(c.ok(READ, &[fd, BUF + 100, 100]), 0); // past the end: offset stays
    assert_eq!(c.ok(LSEEK, &[fd, 0, 1]), 100);
    assert_eq!(c.ok(LSEEK, &[fd, (-5i32) as u32, 2]), 6);
    assert_eq!(c.fails(LSEEK, &[fd, (-100i32) as u32, 1]), Errno::EINVAL);
    assert_eq!(c.fails(LSEEK, &[fd, 0, 3]), Errno::EINVAL);
    // Write past the end: a hole of zeros.
    assert_eq!(c.ok(LSEEK, &[fd, 13, 0]), 13);
    assert_eq!(c.ok(WRITE, &[fd, BUF, 1]), 1);
    assert_eq!(
        c.vfs
            .file_data(
                c.vfs
                    .lookup(crate::vfs::PathContext::root(1), b"/tmp/f")
                    .unwrap()
            )
            .unwrap(),
        b"hello world\0\0h"
    );
    c.ok(CLOSE, &[fd]);
    // O_APPEND writes at the end whatever the offset.
    let fd = open(&mut c, b"/tmp/f", O_WRONLY | O_APPEND).unwrap();
    assert_eq!(c.ok(WRITE, &[fd, BUF, 5]), 5);
    assert_eq!(c.ok(LSEEK, &[fd, 0, 1]), 19);
    c.ok(CLOSE, &[fd]);
    // O_TRUNC empties it.
    let fd = open(&mut c, b"/tmp/f", O_RDONLY | O_TRUNC).unwrap();
    assert_eq!(c.ok(READ, &[fd, BUF, 100]), 0);
    // Access modes are enforced.
    assert_eq!(c.fails(WRITE, &[fd, BUF, 1]), Errno::EBADF);
    let wfd = open(&mut c, b"/tmp/f", O_WRONLY).unwrap();
    assert_eq!(c.fails(READ, &[wfd, BUF, 1]), Errno::EBADF);
    let st = c
        .vfs
        .stat(
            c.vfs
                .lookup(crate::vfs::PathContext::root(1), b"/tmp/f")
                .unwrap(),
        )
        .unwrap();
    assert_eq!(st.st_size, 0);
    c.finish();
}

#[test]
fn write_efault_and_partial() {
    let mut c = ctx();
    let fd = open(&mut c, b"/tmp/f", O_CREAT | O_RDWR).unwrap();
    for bad in [0, UNMAPPED, GUARD, 0xC000_0000, 0xffff_f000] {
        assert_eq!(c.fails(WRITE, &[fd, bad, 10]), Errno::EFAULT);
        assert_eq!(c.fails(WRITE, &[1, bad, 10]), Errno::EFAULT);
    }
    assert!(c.tty.out.is_empty());
    // Reading a read-only page is fine.
    assert_eq!(c.ok(WRITE, &[fd, RO, 16]), 16);
    // A buffer running into unmapped memory: the mapped part is written.
    c.put(BUF_END - 3, b"xyz");
    assert_eq!(c.ok(WRITE, &[1, BUF_END - 3, 100]), 3);
    assert_eq!(c.tty.out, b"xyz");
    assert_eq!(c.ok(WRITE, &[fd, BUF_END - 3, 100]), 3);
    let data = c
        .vfs
        .file_data(
            c.vfs
                .lookup(crate::vfs::PathContext::root(1), b"/tmp/f")
                .unwrap(),
        )
        .unwrap();
    assert_eq!(data.len(), 19);
    assert_eq!(&data[16..], b"xyz");
    // Zero bytes: nothing checked, nothing written.
    assert_eq!(c.ok(WRITE, &[1, 0, 0]), 0);
    assert_eq!(c.fails(WRITE, &[99, BUF, 1]), Errno::EBADF);
    c.finish();
}

#[test]
fn read_efault_and_partial() {
    let mut c = ctx();
    let fd = open(&mut c, b"/boot/hello", O_RDONLY).unwrap();
    for bad in [0, RO, GUARD, UNMAPPED] {
        assert_eq!(c.fails(READ, &[fd, bad, 10]), Errno::EFAULT, "{bad:#x}");
    }
    // Nothing was consumed by the failures.
    assert_eq!(c.ok(LSEEK, &[fd, 0, 1]), 0);
    // Straddling into unmapped memory: the first 4 bytes land, the offset follows.
    assert_eq!(c.ok(READ, &[fd, BUF_END - 4, 100]), 4);
    assert_eq!(c.get(BUF_END - 4, 4), b"#!mo");
    assert_eq!(c.ok(LSEEK, &[fd, 0, 1]), 4);
    assert_eq!(c.ok(READ, &[fd, BUF, 1000]), MODULE.len() as u32 - 4);
    assert_eq!(c.get(BUF, MODULE.len() - 4), &MODULE[4..]);
    // Directories are not read.
    let d = open(&mut c, b"/boot", O_RDONLY).unwrap();
    assert_eq!(c.fails(READ, &[d, BUF, 10]), Errno::EISDIR);
    let t = open(&mut c, b"/tmp", O_RDONLY).unwrap();
    assert_eq!(c.fails(READ, &[t, BUF, 10]), Errno::EISDIR);
    assert_eq!(c.fails(READ, &[t, BUF, 0]), Errno::EISDIR);
    c.finish();
}

#[test]
fn dev_zero_and_null() {
    let mut c = ctx();
    let z = open(&mut c, b"/dev/zero", O_RDWR).unwrap();
    c.put(BUF, &[0xaa; 64]);
    assert_eq!(c.ok(READ, &[z, BUF, 64]), 64);
    assert_eq!(c.get(BUF, 64), [0; 64]);
    // 2 GiB into a 64 KiB buffer followed by unmapped memory: the buffer's worth, in
    // page-sized pieces (no kernel allocation of the count).
    assert_eq!(c.ok(READ, &[z, BUF, 0x8000_0000]), Ctx::BUF_PAGES * 4096);
    assert_eq!(c.ok(READ, &[z, BUF, u32::MAX]), Ctx::BUF_PAGES * 4096);
    assert_eq!(c.fails(READ, &[z, UNMAPPED, 0x8000_0000]), Errno::EFAULT);
    assert_eq!(
        c.ok(WRITE, &[z, UNMAPPED, 0x8000_0000]),
        crate::abi::MAX_RW_COUNT
    );
    let n = open(&mut c, b"/dev/null", O_RDWR).unwrap();
    assert_eq!(c.ok(READ, &[n, BUF, 10]), 0);
    assert_eq!(c.ok(WRITE, &[n, BUF, 10]), 10);
    assert_eq!(c.ok(WRITE, &[n, 0, u32::MAX]), crate::abi::MAX_RW_COUNT);
    assert_eq!(c.fails(LSEEK, &[n, 0, 0]), Errno::ESPIPE);
    assert_eq!(c.fails(LSEEK, &[0, 0, 0]), Errno::ESPIPE);
    c.finish();
}

#[test]
fn console_read_blocks_and_restarts() {
    let mut c = ctx();
    // Nothing typed: Block, and nothing changed.
    let before = c.tty.clone();
    assert_eq!(
        c.call(READ, &[0, BUF, 100]),
        SyscallResult::Block(BlockOn::ConsoleInput)
    );
    assert_eq!(c.tty, before);
    // A zero-byte read does not block.
    assert_eq!(c.ok(READ, &[0, BUF, 0]), 0);
    for &b in b"ls -l\rnext\n" {
        c.tty.receive(b);
    }
    assert_eq!(c.tty.out, b"ls -l\nnext\n"); // echo
                                             // The restarted call now gets one line.
    assert_eq!(c.ok(READ, &[0, BUF, 100]), 6);
    assert_eq!(c.get(BUF, 6), b"ls -l\n");
    // A bad buffer: EFAULT, and the line stays for the next read.
    assert_eq!(c.fails(READ, &[0, UNMAPPED, 100]), Errno::EFAULT);
    assert_eq!(c.tty.input(), ConsoleInput::Line(b"next\n"));
    // Straddling: the bytes that fit are consumed, the rest stays.
    assert_eq!(c.ok(READ, &[0, BUF_END - 2, 100]), 2);
    assert_eq!(c.ok(READ, &[0, BUF, 100]), 3);
    assert_eq!(c.get(BUF, 3), b"xt\n");
    // Ctrl-D: end of file, once.
    c.tty.receive(0x04);
    assert_eq!(c.ok(READ, &[2, BUF, 100]), 0);
    assert!(matches!(
        c.call(READ, &[0, BUF, 100]),
        SyscallResult::Block(_)
    ));
    // Writes go to the console output.
    c.tty.out.clear();
    c.put(BUF, b"out\n");
    assert_eq!(c.ok(WRITE, &[2, BUF, 4]), 4);
    assert_eq!(c.tty.out, b"out\n");
    c.finish();
}

#[test]
fn console_via_dev_console() {
    let mut c = ctx();
    let fd = open(&mut c, b"/dev/console", O_WRONLY).unwrap();
    c.put(BUF, &[b'x'; 3000]);
    assert_eq!(c.ok(WRITE, &[fd, BUF + 7, 3000 - 7]), 3000 - 7);
    assert_eq!(c.tty.out.len(), 3000 - 7);
    assert_eq!(c.fails(READ, &[fd, BUF, 1]), Errno::EBADF);
    c.finish();
}

/// Decode `struct linux_dirent` records: (ino, off, name, type).
fn dirents(bytes: &[u8]) -> Vec<(u32, u32, Vec<u8>, u8)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let ino = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
        let off = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap());
        let reclen = u16::from_le_bytes(bytes[at + 8..at + 10].try_into().unwrap()) as usize;
        assert_eq!(reclen % 4, 0);
        let rec = &bytes[at..at + reclen];
        let name_end = rec[10..].iter().position(|&b| b == 0).unwrap();
        out.push((ino, off, rec[10..10 + name_end].to_vec(), rec[reclen - 1]));
        at += reclen;
    }
    out
}

#[test]
fn getdents_format_and_iteration() {
    let mut c = ctx();
    let fd = open(&mut c, b"/dev", O_RDONLY | O_DIRECTORY).unwrap();
    let n = c.ok(GETDENTS, &[fd, BUF, 4096]) as usize;
    let ents = dirents(&c.get(BUF, n));
    let names: Vec<&[u8]> = ents.iter().map(|e| e.2.as_slice()).collect();
    assert_eq!(names, [&b"."[..], b"..", b"console", b"null", b"zero"]);
    assert_eq!(
        ents.iter().map(|e| e.3).collect::<Vec<_>>(),
        [
            dtype::DT_DIR,
            dtype::DT_DIR,
            dtype::DT_CHR,
            dtype::DT_CHR,
            dtype::DT_CHR
        ]
    );
    assert_eq!(
        ents.iter().map(|e| e.1).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    assert_eq!(ents[1].0, 1); // .. is /
                              // Exact bytes of the first record: ino 2, off 1, reclen 16, ".", NUL, padding,
                              // DT_DIR in the last byte.
    let mut first = alloc::vec![2, 0, 0, 0, 1, 0, 0, 0, 16, 0, b'.', 0, 0, 0, 0];
    first.push(dtype::DT_DIR);
    assert_eq!(c.get(BUF, 16), first);
    assert_eq!(ents.iter().map(|e| e.0).collect::<Vec<_>>()[2..], [4, 5, 6]);
    assert_eq!(c.ok(GETDENTS, &[fd, BUF, 4096]), 0); // the end
                                                     // Rewind, then read with a small buffer: whole records only, continuing after.
    assert_eq!(c.ok(LSEEK, &[fd, 0, 0]), 0);
    assert_eq!(c.fails(GETDENTS, &[fd, BUF, 11]), Errno::EINVAL);
    assert_eq!(c.ok(GETDENTS, &[fd, BUF, 31]), 16);
    let n = c.ok(GETDENTS, &[fd, BUF, 4096]) as usize;
    assert_eq!(dirents(&c.get(BUF, n)).len(), 4);
    // Errors.
    assert_eq!(c.ok(LSEEK, &[fd, 0, 0]), 0);
    assert_eq!(c.fails(GETDENTS, &[fd, UNMAPPED, 4096]), Errno::EFAULT);
    assert_eq!(c.fails(GETDENTS, &[fd, RO, 4096]), Errno::EFAULT);
    // A buffer straddling into unmapped memory: the records that fit before it.
    assert_eq!(c.ok(GETDENTS, &[fd, BUF_END - 30, 4096]), 16);
    assert_eq!(c.ok(LSEEK, &[fd, 0, 1]), 1);
    assert_eq!(c.fails(LSEEK, &[fd, 0, 2]), Errno::EINVAL);
    let f = open(&mut c, b"/boot/hello", O_RDONLY).unwrap();
    assert_eq!(c.fails(GETDENTS, &[f, BUF, 4096]), Errno::ENOTDIR);
    assert_eq!(c.fails(GETDENTS, &[1, BUF, 4096]), Errno::ENOTDIR);
    assert_eq!(c.fails(GETDENTS, &[63, BUF, 4096]), Errno::EBADF);
    // /tmp lists what was created, and /boot the modules.
    open(&mut c, b"/tmp/b", O_CREAT | O_WRONLY).unwrap();
    open(&mut c, b"/tmp/a", O_CREAT | O_WRONLY).unwrap();
    let t = open(&mut c, b"/tmp/", O_RDONLY).unwrap();
    let n = c.ok(GETDENTS, &[t, BUF, 4096]) as usize;
    let names: Vec<Vec<u8>> = dirents(&c.get(BUF, n)).into_iter().map(|e| e.2).collect();
    assert_eq!(names, [&b"."[..], b"..", b"a", b"b"]);
    let b = open(&mut c, b"/boot", O_RDONLY).unwrap();
    let n = c.ok(GETDENTS, &[b, BUF, 4096]) as usize;
    let e = dirents(&c.get(BUF, n));
    assert_eq!((e[2].2.as_slice(), e[2].3), (&b"hello"[..], dtype::DT_REG));
    c.finish();
}

#[test]
fn stat_and_fstat_layout() {
    let mut c = ctx();
    c.put_cstr(BUF, b"/boot/hello");
    assert_eq!(c.ok(STAT, &[BUF, BUF + 256]), 0);
    let b = c.get(BUF + 256, 64);
    // Phantom's 48-byte struct stat: nothing written past it.
    assert_eq!(&b[48..], &[0; 16]);
    let b = c.get(BUF + 256, 48);
    let expected = c
        .vfs
        .stat(
            c.vfs
                .lookup(crate::vfs::PathContext::root(1), b"/boot/hello")
                .unwrap(),
        )
        .unwrap();
    assert_eq!(b, expected.to_bytes());
    assert_eq!(
        u16::from_le_bytes([b[8], b[9]]) as u32,
        mode::S_IFREG | 0o555
    );
    assert_eq!(
        u32::from_le_bytes(b[20..24].try_into().unwrap()),
        MODULE.len() as u32
    );
    assert_eq!(c.ok(FSTAT, &[1, BUF + 256]), 0);
    let b = c.get(BUF + 256, 48);
    assert_eq!(
        u16::from_le_bytes([b[8], b[9]]) as u32 & mode::S_IFMT,
        mode::S_IFCHR
    );
    assert_eq!(u32::from_le_bytes(b[16..20].try_into().unwrap()), 0x501);
    c.put_cstr(BUF, b"/tmp");
    assert_eq!(c.ok(STAT, &[BUF, BUF + 256]), 0);
    let st = c.get(BUF + 256, 48);
    assert_eq!(
        u16::from_le_bytes([st[8], st[9]]) as u32 & mode::S_IFMT,
        mode::S_IFDIR
    );
    // Errors.
    c.put_cstr(BUF, b"/nope");
    assert_eq!(c.fails(STAT, &[BUF, BUF + 256]), Errno::ENOENT);
    c.put_cstr(BUF, b"/boot/hello");
    assert_eq!(c.fails(STAT, &[BUF, RO]), Errno::EFAULT);
    assert_eq!(c.fails(STAT, &[BUF, BUF_END - 47]), Errno::EFAULT);
    assert_eq!(c.ok(STAT, &[BUF, BUF_END - 48]), 0);
    assert_eq!(c.fails(STAT, &[0, BUF + 256]), Errno::EFAULT);
    assert_eq!(c.fails(FSTAT, &[1, 0]), Errno::EFAULT);
    assert_eq!(c.fails(FSTAT, &[9, BUF]), Errno::EBADF);
    assert_eq!(Stat::SIZE, 48);
    c.finish();
}

#[test]
fn ioctl_console_only() {
    use crate::abi::ioctl::{TIOCGETA, TIOCGWINSZ};
    let mut c = ctx();
    assert_eq!((TIOCGETA, TIOCGWINSZ), (0x402c_7413, 0x4008_7468));
    assert_eq!(c.ok(IOCTL, &[0, TIOCGETA, BUF, 44]), 0);
    let t = c.get(BUF, 44);
    assert_eq!(t, crate::abi::Termios::console().to_bytes());
    assert_eq!(c.ok(IOCTL, &[1, TIOCGWINSZ, BUF, 8]), 0);
    assert_eq!(c.get(BUF, 8), [24, 0, 80, 0, 0, 0, 0, 0]);
    // The buffer's length is the fourth argument: too small is EINVAL.
    assert_eq!(c.fails(IOCTL, &[1, TIOCGWINSZ, BUF, 7]), Errno::EINVAL);
    assert_eq!(c.fails(IOCTL, &[0, TIOCGETA, BUF, 36]), Errno::EINVAL);
    assert_eq!(c.fails(IOCTL, &[1, TIOCGWINSZ, RO, 8]), Errno::EFAULT);
    assert_eq!(c.fails(IOCTL, &[1, TIOCGWINSZ, 0, 8]), Errno::EFAULT);
    // Linux's request numbers mean nothing here.
    assert_eq!(c.fails(IOCTL, &[1, 0x5413, BUF, 8]), Errno::ENOTTY);
    assert_eq!(c.fails(IOCTL, &[1, 0x5401, BUF, 64]), Errno::ENOTTY);
    let f = open(&mut c, b"/boot/hello", O_RDONLY).unwrap();
    assert_eq!(c.fails(IOCTL, &[f, TIOCGETA, BUF, 44]), Errno::ENOTTY);
    let n = open(&mut c, b"/dev/null", O_RDONLY).unwrap();
    assert_eq!(c.fails(IOCTL, &[n, TIOCGETA, BUF, 44]), Errno::ENOTTY);
    assert_eq!(c.fails(IOCTL, &[50, TIOCGETA, BUF, 44]), Errno::EBADF);
    c.finish();
}

#[test]
fn arguments_from_the_user_stack() {
    let mut c = ctx();
    // [esp] = return address, then write(1, BUF + 64, 3).
    let esp = BUF + 0x800;
    c.put(BUF + 64, b"abc");
    let mut frame = Vec::new();
    for w in [0xdead_beef, 1, BUF + 64, 3] {
        frame.extend_from_slice(&u32::to_le_bytes(w));
    }
    c.put(esp, &frame);
    assert_eq!(
        dispatch_from_stack(&mut c, WRITE, esp),
        SyscallResult::ok(3)
    );
    assert_eq!(c.tty.out, b"abc");
    // Arguments beyond the mapped stack: EFAULT; none needed: fine.
    assert_eq!(
        dispatch_from_stack(&mut c, WRITE, BUF_END - 8),
        SyscallResult::err(Errno::EFAULT)
    );
    assert_eq!(
        dispatch_from_stack(&mut c, GETPID, UNMAPPED),
        SyscallResult::ok(1)
    );
    assert_eq!(
        dispatch_from_stack(&mut c, EXIT, u32::MAX - 2),
        SyscallResult::err(Errno::EFAULT)
    );
    let mut mem = crate::user::FlatMemory::new(0x1000, 32);
    mem.bytes[4..8].copy_from_slice(&7u32.to_le_bytes());
    assert_eq!(read_args(&mut mem, 0x1000, CLOSE).unwrap()[0], 7);
    assert_eq!(read_args(&mut mem, 0x1000, 12345).unwrap(), [0; 6]);
    c.finish();
}

#[test]
fn brk_and_the_mmap_family_through_dispatch() {
    use crate::abi::{map::*, prot::*};
    use crate::exec::layout::MMAP_TOP;
    let mut c = ctx();
    let heap = Ctx::HEAP;
    assert_eq!(c.ok(BRK, &[0]), heap);
    assert_eq!(c.ok(BRK, &[heap + 8192 + 7]), heap + 8192 + 7);
    c.put(heap + 8192, b"heap");
    assert_eq!(c.get(heap + 8192, 4), b"heap");
    assert_eq!(c.fails(BRK, &[0xFFFF_F000]), Errno::ENOMEM);
    assert_eq!(c.fails(BRK, &[0xBFFF_F000]), Errno::ENOMEM);
    assert_eq!(c.ok(BRK, &[1]), heap + 8192 + 7);
    // A user copy into the guard above the break stops at it.
    let zero = open(&mut c, b"/dev/zero", O_RDONLY).unwrap();
    c.put(heap + 3 * 4096 - 4, b"abcd");
    assert_eq!(c.ok(READ, &[zero, heap + 3 * 4096 - 2, 4]), 2);
    assert_eq!(c.get(heap + 3 * 4096 - 4, 4), b"ab\0\0");
    assert_eq!(c.fails(READ, &[zero, heap + 3 * 4096, 4]), Errno::EFAULT);
    assert_eq!(c.ok(BRK, &[heap]), heap);

    // mmap's six arguments come from the user stack.
    let esp = BUF + 0x800;
    let mut frame = Vec::new();
    for w in [
        0xdead_beef,
        0,
        3 * 4096,
        PROT_READ | PROT_WRITE,
        MAP_PRIVATE | MAP_ANONYMOUS,
        u32::MAX,
        0,
    ] {
        frame.extend_from_slice(&u32::to_le_bytes(w));
    }
    c.put(esp, &frame);
    let a = MMAP_TOP - 3 * 4096;
    assert_eq!(dispatch_from_stack(&mut c, MMAP, esp), SyscallResult::ok(a));
    c.put(a + 4096, b"mapped");
    assert_eq!(c.get(a + 4096, 6), b"mapped");
    assert_eq!(c.ok(MPROTECT, &[a, 4096, PROT_READ]), 0);
    assert_eq!(
        c.fails(READ, &[zero, a, 4]),
        Errno::EFAULT,
        "read into read-only"
    );
    assert_eq!(c.ok(MADVISE, &[a + 4096, 4096, 4]), 0);
    assert_eq!(c.get(a + 4096, 6), [0; 6]);
    assert_eq!(c.ok(MUNMAP, &[a, 3 * 4096]), 0);
    assert_eq!(c.fails(MUNMAP, &[a + 1, 4096]), Errno::EINVAL);
    // A file mapping: EBADF for a closed descriptor, ENODEV for an open one.
    assert_eq!(
        c.fails(MMAP, &[0, 4096, PROT_READ, MAP_PRIVATE, 9, 0]),
        Errno::EBADF
    );
    c.ok(CLOSE, &[zero]);
    assert_eq!(
        c.fails(MMAP, &[0, 4096, PROT_READ, MAP_PRIVATE, 0, 0]),
        Errno::ENODEV
    );
    assert_eq!(
        c.fails(
            MMAP,
            &[0, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, u32::MAX, 0]
        ),
        Errno::EINVAL
    );
    c.finish();
}

#[test]
fn rlimits_through_dispatch() {
    use crate::abi::rlimit::*;
    let mut c = ctx();
    assert_eq!(c.ok(GETRLIMIT, &[RLIMIT_STACK, BUF]), 0);
    assert_eq!(
        c.get(BUF, 8),
        [&(8u32 << 20).to_le_bytes()[..], &u32::MAX.to_le_bytes()].concat()
    );
    assert_eq!(c.fails(GETRLIMIT, &[RLIMIT_STACK, RO]), Errno::EFAULT);
    assert_eq!(c.fails(GETRLIMIT, &[RLIMIT_STACK, 0]), Errno::EFAULT);
    assert_eq!(c.fails(GETRLIMIT, &[99, BUF]), Errno::EINVAL);
    c.put(
        BUF,
        &[&(16u32 << 20).to_le_bytes()[..], &u32::MAX.to_le_bytes()].concat(),
    );
    assert_eq!(c.ok(SETRLIMIT, &[RLIMIT_STACK, BUF]), 0);
    assert_eq!(c.ok(GETRLIMIT, &[RLIMIT_STACK, BUF + 64]), 0);
    assert_eq!(c.get(BUF + 64, 4), (16u32 << 20).to_le_bytes());
    assert_eq!(c.fails(SETRLIMIT, &[RLIMIT_STACK, GUARD]), Errno::EFAULT);
    c.put(
        BUF,
        &[&(1u32 << 30).to_le_bytes()[..], &u32::MAX.to_le_bytes()].concat(),
    );
    assert_eq!(c.fails(SETRLIMIT, &[RLIMIT_STACK, BUF]), Errno::EINVAL);
    c.finish();
}

#[test]
fn proc_self_maps() {
    let mut c = ctx();
    let want = crate::mm::maps_text(c.space.remap(), &c.process.memory).unwrap();
    assert!(want.ends_with(b"[guard]\n"));
    let fd = open(&mut c, b"/proc/self/maps", O_RDONLY).unwrap();
    assert_eq!(c.files.snapshot_bytes(), want.len());
    // Read in small pieces: one consistent listing, even if the map changes.
    c.ok(BRK, &[Ctx::HEAP + 4096]);
    let mut got = Vec::new();
    loop {
        let n = c.ok(READ, &[fd, BUF, 100]) as usize;
        if n == 0 {
            break;
        }
        got.extend(c.get(BUF, n));
    }
    assert_eq!(got, want);
    let text = String::from_utf8(got).unwrap();
    assert!(
        text.contains("00010000-00020000 rw-p 00000000 00:00 0          [data]\n"),
        "{text}"
    );
    assert!(
        text.contains("bffff000-c0000000 rw-p 00000000 00:00 0          [stack]\n"),
        "{text}"
    );
    assert_eq!(c.ok(LSEEK, &[fd, 0, 2]), want.len() as u32);
    assert_eq!(c.ok(LSEEK, &[fd, 10, 0]), 10);
    assert_eq!(c.ok(READ, &[fd, BUF, 8]), 8);
    assert_eq!(c.get(BUF, 8), want[10..18]);
    assert_eq!(c.fails(WRITE, &[fd, BUF, 1]), Errno::EBADF);
    assert_eq!(c.ok(FSTAT, &[fd, BUF]), 0);
    let st = c.get(BUF, 64);
    assert_eq!(
        u32::from(u16::from_le_bytes([st[8], st[9]])),
        mode::S_IFREG | 0o444
    );
    // A second open sees the new heap.
    let fd2 = open(&mut c, b"/proc/self/maps", O_RDONLY).unwrap();
    let n = c.ok(READ, &[fd2, BUF, 4096]) as usize;
    let now = String::from_utf8(c.get(BUF, n)).unwrap();
    assert!(
        now.contains("00100000-00101000 rw-p 00000000 00:00 0          [heap]\n"),
        "{now}"
    );
    c.ok(CLOSE, &[fd2]);
    c.ok(CLOSE, &[fd]);
    assert_eq!(c.files.snapshot_bytes(), 0);
    assert_eq!(
        open(&mut c, b"/proc/self/maps", O_WRONLY),
        Err(Errno::EACCES)
    );
    assert_eq!(
        open(&mut c, b"/proc/self/maps", O_RDONLY | O_TRUNC),
        Err(Errno::EACCES)
    );
    assert_eq!(
        open(&mut c, b"/proc/self/x", O_RDONLY | O_CREAT),
        Err(Errno::EROFS)
    );
    assert_eq!(open(&mut c, b"/proc/other", O_RDONLY), Err(Errno::ENOENT));
    // Directories.
    for (path, names) in [
        (
            &b"/proc"[..],
            &[&b"."[..], b"..", b"meminfo", b"self", b"1"][..],
        ),
        (
            b"/proc/self/",
            &[b".", b"..", b"cmdline", b"maps", b"status"],
        ),
        (b"/", &[b".", b"..", b"boot", b"dev", b"proc", b"tmp"]),
    ] {
        let fd = open(&mut c, path, O_RDONLY | O_DIRECTORY).unwrap();
        let n = c.ok(GETDENTS, &[fd, BUF, 4096]) as usize;
        let entries = dirents(&c.get(BUF, n));
        let got: Vec<&[u8]> = entries.iter().map(|e| &e.2[..]).collect();
        assert_eq!(got, names, "{}", String::from_utf8_lossy(path));
        assert_eq!(c.fails(READ, &[fd, BUF, 4]), Errno::EISDIR);
        c.ok(CLOSE, &[fd]);
    }
    let path = c.put_cstr(BUF + 0x200, b"/proc/self/maps");
    assert_eq!(c.ok(STAT, &[path, BUF]), 0);
    c.finish();
}

#[test]
fn open_flags_are_phantoms() {
    assert_eq!(
        (O_APPEND, O_TEMPORARY, O_CREAT, O_TRUNC, O_EXCL),
        (0x8, 0x40, 0x100, 0x200, 0x400)
    );
    let mut c = ctx();
    // Linux's O_CREAT (0x40) is Phantom's O_TEMPORARY: it does not create.
    assert_eq!(
        open(&mut c, b"/tmp/lx", 0x40 | O_WRONLY),
        Err(Errno::ENOENT)
    );
    let fd = open(&mut c, b"/tmp/p", O_CREAT | O_WRONLY).unwrap();
    c.put(BUF, b"abc");
    assert_eq!(c.ok(WRITE, &[fd, BUF, 3]), 3);
    assert_eq!(
        open(&mut c, b"/tmp/p", O_CREAT | O_EXCL),
        Err(Errno::EEXIST)
    );
    let fd = open(&mut c, b"/tmp/p", O_WRONLY | O_APPEND).unwrap();
    assert_eq!(c.ok(WRITE, &[fd, BUF, 3]), 3);
    assert_eq!(
        c.vfs
            .stat(
                c.vfs
                    .lookup(crate::vfs::PathContext::root(1), b"/tmp/p")
                    .unwrap()
            )
            .unwrap()
            .st_size,
        6
    );
    // creat truncates.
    c.put_cstr(BUF + 256, b"/tmp/p");
    let fd = c.ok(CREAT, &[BUF + 256, 0o600]);
    assert_eq!(
        c.vfs
            .stat(
                c.vfs
                    .lookup(crate::vfs::PathContext::root(1), b"/tmp/p")
                    .unwrap()
            )
            .unwrap()
            .st_size,
        0
    );
    assert_eq!(c.fails(READ, &[fd, BUF, 1]), Errno::EBADF);
    c.finish();
}

#[test]
fn readdir_returns_one_phantom_dirent_per_call() {
    let mut c = ctx();
    let d = open(&mut c, b"/boot", O_RDONLY).unwrap();
    let mut names = Vec::new();
    loop {
        c.put(BUF, &[0xEE; 600]);
        match c.ok(READDIR, &[d, BUF]) {
            0 => break,
            1 => {}
            n => panic!("readdir returned {n}"),
        }
        let rec = c.get(BUF, 520);
        assert_eq!(&rec[4..6], &[0, 0], "d_reclen is 0");
        let namlen = usize::from(u16::from_le_bytes([rec[6], rec[7]]));
        assert_eq!(rec[8 + namlen], 0, "NUL-terminated");
        assert_eq!(c.get(BUF + 520, 1), [0xEE], "nothing past 520 bytes");
        names.push(rec[8..8 + namlen].to_vec());
    }
    assert_eq!(names, [&b"."[..], b"..", b"hello"]);
    // At the end it stays at the end; lseek rewinds.
    assert_eq!(c.ok(READDIR, &[d, BUF]), 0);
    assert_eq!(c.ok(LSEEK, &[d, 0, 0]), 0);
    assert_eq!(c.ok(READDIR, &[d, BUF]), 1);
    assert_eq!(c.fails(READDIR, &[d, RO]), Errno::EFAULT);
    assert_eq!(c.fails(READDIR, &[d, BUF_END - 519]), Errno::EFAULT);
    let f = open(&mut c, b"/boot/hello", O_RDONLY).unwrap();
    assert_eq!(c.fails(READDIR, &[f, BUF]), Errno::ENOTDIR);
    assert_eq!(c.fails(READDIR, &[77, BUF]), Errno::EBADF);
    c.finish();
}

#[test]
fn phantoms_simple_calls() {
    let mut c = ctx();
    c.pid = 5;
    assert_eq!(c.ok(GETTID, &[]), 5);
    for nr in [
        GETUID, GETUID32, GETEUID, GETEUID32, GETGID, GETGID32, GETEGID, GETEGID32,
    ] {
        assert_eq!(c.ok(nr, &[]), 0, "nr {nr}");
    }
    for nr in [SETUID, SETUID32, SETGID, SETGID32] {
        assert_eq!(c.ok(nr, &[0]), 0);
        assert_eq!(c.fails(nr, &[1000]), Errno::EINVAL);
    }
    assert_eq!(c.ok(SETREUID, &[u32::MAX, 0]), 0);
    assert_eq!(c.fails(SETRESGID, &[0, 0, 7]), Errno::EINVAL);
    c.put(BUF, &[0; 8]);
    assert_eq!(c.ok(SETGROUPS, &[2, BUF]), 0);
    assert_eq!(c.ok(SETGROUPS, &[0, 0]), 0);
    c.put(BUF, &[1, 0, 0, 0]);
    assert_eq!(c.fails(SETGROUPS, &[1, BUF]), Errno::EINVAL);
    assert_eq!(c.fails(SETGROUPS, &[1000, BUF]), Errno::EINVAL);
    // Process groups: a process leads its own.
    assert_eq!(c.ok(GETPGRP, &[]), 5);
    assert_eq!(c.ok(GETPGID, &[0]), 5);
    assert_eq!(c.ok(GETPGID, &[5]), 5);
    assert_eq!(c.fails(GETPGID, &[99]), Errno::ESRCH);
    assert_eq!(c.ok(SETPGID, &[0, 0]), 0);
    assert_eq!(c.ok(SETPGRP, &[]), 0);
    assert_eq!(c.fails(SETPGID, &[0, 42]), Errno::EPERM);
    assert_eq!(c.fails(SETPGID, &[42, 0]), Errno::ESRCH);
    assert_eq!(c.fails(SETPGID, &[0, u32::MAX]), Errno::EINVAL);
    // umask returns the old mask and keeps 9 bits; new files get mode & ~umask.
    assert_eq!(c.ok(UMASK, &[0o077]), 0o022);
    assert_eq!(c.ok(UMASK, &[0o7777]), 0o077);
    assert_eq!(c.ok(UMASK, &[0o022]), 0o777);
    // personality: query, set native, refuse the rest.
    assert_eq!(c.ok(PERSONALITY, &[u32::MAX]), 0);
    assert_eq!(c.ok(PERSONALITY, &[0]), 0);
    assert_eq!(c.fails(PERSONALITY, &[8]), Errno::EINVAL);
    assert_eq!(c.ok(SYNC, &[]), 0);
    // ssyslog: a bounded message; control characters cannot start a line.
    c.put_cstr(BUF, b"hello\n{\"event\":\"shutdown\",\"status\":0}");
    assert_eq!(c.ok(SSYSLOG, &[6, BUF]), 0);
    assert_eq!(c.fails(SSYSLOG, &[6, 0]), Errno::EFAULT);
    c.put(BUF, &[b'x'; 2000]);
    c.put(BUF + 2000, &[0]);
    assert_eq!(c.fails(SSYSLOG, &[6, BUF]), Errno::EINVAL);
    c.finish();
}

#[test]
fn host_name() {
    let mut c = ctx();
    assert_eq!(c.ok(GETHOSTNAME, &[BUF, 64]), 0);
    assert_eq!(c.get(BUF, 8), b"phantom\0");
    // Too small for the name and its NUL.
    assert_eq!(c.fails(GETHOSTNAME, &[BUF, 7]), Errno::ENAMETOOLONG);
    assert_eq!(c.ok(GETHOSTNAME, &[BUF, 8]), 0);
    c.put(BUF, b"box1");
    assert_eq!(c.ok(SETHOSTNAME, &[BUF, 3]), 0);
    c.put(BUF, &[0xEE; 16]);
    assert_eq!(c.ok(GETHOSTNAME, &[BUF, 16]), 0);
    assert_eq!(c.get(BUF, 5), b"box\0\xEE");
    assert_eq!(c.ok(UNAME, &[BUF]), 0);
    assert_eq!(c.get(BUF + 257, 4), b"box\0");
    assert_eq!(c.fails(SETHOSTNAME, &[BUF, 256]), Errno::ENAMETOOLONG);
    assert_eq!(c.fails(SETHOSTNAME, &[BUF, u32::MAX]), Errno::ENAMETOOLONG);
    assert_eq!(c.fails(SETHOSTNAME, &[RO - 2, 4]), Errno::EFAULT);
    assert_eq!(c.fails(GETHOSTNAME, &[RO, 16]), Errno::EFAULT);
    c.put(BUF, b"a\0b");
    assert_eq!(c.fails(SETHOSTNAME, &[BUF, 3]), Errno::EINVAL);
    c.finish();
}

#[test]
fn sleeps_block_until_their_deadline_and_are_restartable() {
    let mut c = ctx();
    c.monotonic_ns = 1_000;
    assert_eq!(
        c.call(SLEEPMSEC, &[5]),
        SyscallResult::Block(BlockOn::Deadline(5_001_000))
    );
    // Woken early: the same call blocks again on the same deadline.
    c.monotonic_ns = 3_000_000;
    assert_eq!(
        c.call(SLEEPMSEC, &[5]),
        SyscallResult::Block(BlockOn::Deadline(5_001_000))
    );
    c.monotonic_ns = 5_001_000;
    assert_eq!(c.ok(SLEEPMSEC, &[5]), 0);
    assert_eq!(c.ok(SLEEPMSEC, &[0]), 0);
    assert_eq!(c.fails(SLEEPMSEC, &[u32::MAX]), Errno::EINVAL);
    // nanosleep reads Phantom's struct timespec {long seconds; long nanoseconds}.
    c.put(BUF, &[1, 0, 0, 0, 10, 0, 0, 0]);
    assert_eq!(
        c.call(NANOSLEEP, &[BUF, 0]),
        SyscallResult::Block(BlockOn::Deadline(5_001_000 + 1_000_000_010))
    );
    c.monotonic_ns += 2_000_000_000;
    assert_eq!(c.ok(NANOSLEEP, &[BUF, 0]), 0);
    c.put(BUF, &[0, 0, 0, 0, 0, 0xCA, 0x9A, 0x3B]); // 10^9 ns
    assert_eq!(c.fails(NANOSLEEP, &[BUF, 0]), Errno::EINVAL);
    c.put(BUF, &[0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0]); // -1 s
    assert_eq!(c.fails(NANOSLEEP, &[BUF, 0]), Errno::EINVAL);
    assert_eq!(c.fails(NANOSLEEP, &[0, 0]), Errno::EFAULT);
    c.put(BUF, &[0; 8]);
    assert_eq!(c.ok(NANOSLEEP, &[BUF, 0]), 0);
    c.finish();
}

#[test]
fn an_interrupted_nanosleep_stores_the_time_it_had_left() {
    use super::native::interrupted_from_stack;
    let mut c = ctx();
    c.monotonic_ns = 1_000;
    // nanosleep(&{3 s, 0}, rem = BUF + 16), arguments on the stack at esp.
    let esp = BUF + 0x800;
    c.put(BUF, &[3, 0, 0, 0, 0, 0, 0, 0]);
    let mut frame = Vec::new();
    for w in [0xdead_beef, BUF, BUF + 16] {
        frame.extend_from_slice(&u32::to_le_bytes(w));
    }
    c.put(esp, &frame);
    assert_eq!(
        dispatch_from_stack(&mut c, NANOSLEEP, esp),
        SyscallResult::Block(BlockOn::Deadline(3_000_001_000))
    );
    // A signal 1.25 s later: EINTR, 1.75 s left at rem, the deadline gone.
    c.monotonic_ns += 1_250_000_000;
    assert_eq!(
        interrupted_from_stack(&mut c, NANOSLEEP, esp),
        SyscallResult::err(Errno::EINTR)
    );
    let rem = c.get(BUF + 16, 8);
    assert_eq!(rem[..4], 1u32.to_le_bytes(), "seconds left");
    assert_eq!(rem[4..], 750_000_000u32.to_le_bytes(), "nanoseconds left");
    assert_eq!(c.process.sleep_until, None);
    // The next nanosleep starts afresh.
    assert_eq!(
        dispatch_from_stack(&mut c, NANOSLEEP, esp),
        SyscallResult::Block(BlockOn::Deadline(c.monotonic_ns + 3_000_000_000))
    );
    // NULL rem: nothing stored; a bad rem: EFAULT.
    c.put(esp + 8, &0u32.to_le_bytes());
    assert_eq!(
        interrupted_from_stack(&mut c, NANOSLEEP, esp),
        SyscallResult::err(Errno::EINTR)
    );
    assert_eq!(
        dispatch_from_stack(&mut c, NANOSLEEP, esp),
        SyscallResult::Block(BlockOn::Deadline(c.monotonic_ns + 3_000_000_000))
    );
    c.put(esp + 8, &UNMAPPED.to_le_bytes());
    assert_eq!(
        interrupted_from_stack(&mut c, NANOSLEEP, esp),
        SyscallResult::err(Errno::EFAULT)
    );
    // Another call interrupted: EINTR, nothing written.
    c.put(BUF + 16, &[0; 8]);
    assert_eq!(
        interrupted_from_stack(&mut c, READ, esp),
        SyscallResult::err(Errno::EINTR)
    );
    assert_eq!(c.get(BUF + 16, 8), [0; 8]);
    c.finish();
}

#[test]
fn a_budget_is_spent_only_after_some_work_and_its_slice() {
    use core::cell::Cell;
    struct Ticking(Cell<u64>);
    impl Clock for Ticking {
        fn monotonic_ns(&self) -> u64 {
            self.0.get()
        }
    }
    let clock = Ticking(Cell::new(1_000));
    let b = Budget::start(&clock);
    assert!(!b.spent(&clock, 4096));
    clock.0.set(1_000 + TIME_SLICE_NS);
    assert!(b.spent(&clock, 4096));
    // Nothing done yet: a call always makes progress first.
    assert!(!b.spent(&clock, 0));
}

#[test]
fn a_lowered_nofile_limit_is_enforced() {
    use crate::abi::rlimit::RLIMIT_NOFILE;
    let mut c = ctx();
    // rlim_cur 5, rlim_max 64.
    c.put(BUF, &[5, 0, 0, 0, 64, 0, 0, 0]);
    assert_eq!(c.ok(SETRLIMIT, &[RLIMIT_NOFILE, BUF]), 0);
    assert_eq!(open(&mut c, b"/dev/null", O_RDONLY), Ok(3));
    assert_eq!(open(&mut c, b"/dev/null", O_RDONLY), Ok(4));
    assert_eq!(open(&mut c, b"/dev/null", O_RDONLY), Err(Errno::EMFILE));
    // Nothing was created on the refused open.
    assert_eq!(
        open(&mut c, b"/tmp/not-created", O_CREAT | O_WRONLY),
        Err(Errno::EMFILE)
    );
    assert!(c
        .vfs
        .lookup(crate::vfs::PathContext::root(1), b"/tmp/not-created")
        .is_err());
    assert_eq!(c.ok(CLOSE, &[4]), 0);
    assert_eq!(open(&mut c, b"/dev/null", O_RDONLY), Ok(4));
    c.finish();
}

// ---------------------------------------------------------------- fork, waitpid

#[test]
fn fork_copies_state_and_shares_open_files() {
    let mut c = ctx();
    c.put(BUF, b"before");
    let fd = open(&mut c, b"/boot/hello", O_RDONLY).unwrap();
    let child = c.ok(FORK, &[]);
    assert_eq!(child, 2);
    let (space, state) = c.children.get(child).unwrap().context.as_ref().unwrap();
    // The child's descriptors name the same open files (one more reference each).
    let id = state.fds.get(fd).unwrap();
    assert_eq!(c.process.fds.get(fd), Ok(id));
    assert_eq!(c.files.get(id).unwrap().refs(), 2);
    assert_eq!(state.pgid, Some(1), "same group as the parent");
    assert!(space
        .remap()
        .iter()
        .all(|r| r.mapping.kind != vm::remap::Kind::Anon || r.mapping.cow));
    // The parent writes after the fork: the child's copy keeps what was there.
    c.put(BUF, b"after!");
    let (space, _) = c.children.get_mut(child).unwrap().context.as_mut().unwrap();
    let mut seen = [0u8; 6];
    space
        .read_user(&mut c.ps, &mut c.machine, u64::from(BUF), &mut seen)
        .unwrap();
    assert_eq!(&seen, b"before");
    assert_eq!(c.ok(VFORK, &[]), 3, "vfork is fork");
    c.finish();
}

#[test]
fn waitpid_reports_how_a_child_ended() {
    let mut c = ctx();
    assert_eq!(c.fails(WAITPID, &[u32::MAX, 0, 0]), Errno::ECHILD);
    let a = c.ok(FORK, &[]);
    let b = c.ok(FORK, &[]);
    assert_eq!(c.ok(WAITPID, &[u32::MAX, BUF, 1]), 0, "WNOHANG: none ended");
    assert_eq!(
        c.call(WAITPID, &[a, BUF, 0]),
        SyscallResult::Block(BlockOn::Child)
    );
    assert_eq!(c.fails(WAITPID, &[99, BUF, 0]), Errno::ECHILD);
    assert_eq!(c.fails(WAITPID, &[a, BUF, 0x100]), Errno::EINVAL);
    c.end_child(a, Ended::Killed(11));
    // A bad status pointer: EFAULT, and the child is still there to wait for.
    assert_eq!(c.fails(WAITPID, &[a, UNMAPPED, 0]), Errno::EFAULT);
    assert_eq!(c.ok(WAITPID, &[u32::MAX, BUF, 0]), a);
    assert_eq!(c.get(BUF, 4), 11u32.to_le_bytes(), "WTERMSIG 11");
    assert_eq!(c.fails(WAITPID, &[a, BUF, 0]), Errno::ECHILD, "reaped once");
    c.end_child(b, Ended::Exited(3));
    assert_eq!(c.ok(WAIT, &[BUF]), b);
    assert_eq!(c.get(BUF, 4), (3u32 << 8).to_le_bytes(), "WEXITSTATUS 3");
    assert_eq!(c.fails(WAIT, &[0]), Errno::ECHILD);
    c.finish();
}

#[test]
fn waitpid_of_a_process_group_waits_for_that_group_only() {
    let mut c = ctx();
    let a = c.ok(FORK, &[]);
    let b = c.ok(FORK, &[]);
    // a stays in the caller's group (1, inherited); b leads a group of its own.
    c.children
        .get_mut(b)
        .unwrap()
        .context
        .as_mut()
        .unwrap()
        .1
        .pgid = Some(b);
    let minus = |g: u32| (g as i32).wrapping_neg() as u32;
    assert_eq!(c.ok(WAITPID, &[0, BUF, 1]), 0, "group 0: a lives");
    assert_eq!(c.ok(WAITPID, &[minus(b), BUF, 1]), 0, "group b: b lives");
    assert_eq!(c.fails(WAITPID, &[minus(77), BUF, 1]), Errno::ECHILD);
    c.end_child(b, Ended::Exited(5));
    // b ended in its own group: the caller's group does not see it.
    assert_eq!(c.ok(WAITPID, &[0, BUF, 1]), 0);
    assert_eq!(c.ok(WAITPID, &[minus(b), BUF, 0]), b);
    assert_eq!(c.get(BUF, 4), (5u32 << 8).to_le_bytes());
    c.end_child(a, Ended::Exited(6));
    assert_eq!(c.fails(WAITPID, &[minus(b), BUF, 0]), Errno::ECHILD);
    assert_eq!(c.ok(WAITPID, &[0, BUF, 0]), a);
    c.finish();
}

#[test]
fn fork_past_the_process_limit_is_eagain_and_leaks_nothing() {
    let mut c = ctx();
    let fd = open(&mut c, b"/boot/hello", O_RDONLY).unwrap();
    let id = c.process.fds.get(fd).unwrap();
    // The user's limit first (RLIMIT_NPROC), then, raised, the table's.
    let nproc = crate::mm::NPROC_DEFAULT as usize;
    for _ in 1..nproc {
        c.ok(FORK, &[]);
    }
    let refs = c.files.get(id).unwrap().refs();
    assert_eq!(c.fails(FORK, &[]), Errno::EAGAIN);
    assert_eq!(c.files.get(id).unwrap().refs(), refs);
    c.put(BUF, &[0xff; 8]);
    c.ok(SETRLIMIT, &[crate::abi::rlimit::RLIMIT_NPROC, BUF]);
    for _ in nproc..crate::process::PROCESS_MAX {
        c.ok(FORK, &[]);
    }
    let refs = c.files.get(id).unwrap().refs();
    assert_eq!(c.fails(FORK, &[]), Errno::EAGAIN);
    assert_eq!(c.files.get(id).unwrap().refs(), refs);
    c.finish();
}

// ---------------------------------------------------------------- pipe, dup, dup2

#[test]
fn pipe_moves_bytes_blocks_and_ends() {
    let mut c = ctx();
    c.ok(PIPE, &[BUF]);
    let fds = c.get(BUF, 8);
    let (r, w) = (
        u32::from_le_bytes(fds[..4].try_into().unwrap()),
        u32::from_le_bytes(fds[4..].try_into().unwrap()),
    );
    assert_eq!((r, w), (3, 4));
    let out = BUF + 0x100;
    assert_eq!(
        c.call(READ, &[r, out, 16]),
        SyscallResult::Block(BlockOn::Pipe(0)),
        "empty: the reader waits"
    );
    c.put(BUF + 0x200, b"abcdef");
    assert_eq!(c.ok(WRITE, &[w, BUF + 0x200, 6]), 6);
    assert_eq!(c.files.take_pipe_event(), Some(0), "the write is an event");
    assert_eq!(c.files.take_pipe_event(), None, "once");
    assert_eq!(c.ok(READ, &[r, out, 4]), 4);
    assert_eq!(c.get(out, 4), b"abcd");
    assert_eq!(c.fails(WRITE, &[r, BUF, 1]), Errno::EBADF);
    assert_eq!(c.fails(LSEEK, &[r, 0, 0]), Errno::ESPIPE);
    // A bad destination: EFAULT, and the bytes stay in the pipe.
    assert_eq!(c.fails(READ, &[r, UNMAPPED, 2]), Errno::EFAULT);
    // The writer goes: what is left, then end of file.
    c.ok(CLOSE, &[w]);
    assert_eq!(c.ok(READ, &[r, out, 16]), 2);
    assert_eq!(c.ok(READ, &[r, out, 16]), 0);
    c.ok(CLOSE, &[r]);
    assert_eq!(c.files.pipes(), 0, "both ends closed: the pipe is gone");
    c.finish();
}

#[test]
fn a_full_pipe_blocks_atomic_writes_and_a_lone_writer_gets_sigpipe() {
    let mut c = ctx();
    c.ok(PIPE, &[BUF]);
    let (r, w) = (3, 4);
    // Fill it from the read-write scratch buffer, 16 pages at a time.
    let mut filled = 0;
    while filled < crate::pipe::PIPE_CAPACITY {
        match c.call(WRITE, &[w, BUF, Ctx::BUF_PAGES * 4096]) {
            SyscallResult::Return(Ok(n)) => filled += n as usize,
            other => panic!("{other:?} after {filled}"),
        }
    }
    assert_eq!(
        c.call(WRITE, &[w, BUF, 1]),
        SyscallResult::Block(BlockOn::Pipe(0))
    );
    c.ok(READ, &[r, BUF, 100]);
    assert_eq!(
        c.ok(WRITE, &[w, BUF, 100]),
        100,
        "an atomic write that fits"
    );
    assert_eq!(
        c.call(WRITE, &[w, BUF, 101]),
        SyscallResult::Block(BlockOn::Pipe(0))
    );
    c.ok(CLOSE, &[r]);
    assert_eq!(
        c.call(WRITE, &[w, BUF, 1]),
        SyscallResult::Signal(crate::abi::signal::SIGPIPE)
    );
    c.finish();
}

#[test]
fn dup_and_dup2_share_the_open_file() {
    let mut c = ctx();
    let fd = open(&mut c, b"/boot/hello", O_RDONLY).unwrap();
    let d = c.ok(DUP, &[fd]);
    assert_eq!(d, fd + 1);
    c.ok(READ, &[d, BUF, 2]);
    assert_eq!(c.ok(LSEEK, &[fd, 0, 1]), 2, "one offset for both");
    assert_eq!(c.ok(DUP2, &[fd, 10]), 10);
    assert_eq!(c.ok(DUP2, &[fd, fd]), fd);
    assert_eq!(c.ok(DUP2, &[fd, 1]), 1, "replaces stdout");
    let id = c.process.fds.get(fd).unwrap();
    assert_eq!(c.files.get(id).unwrap().refs(), 4);
    assert_eq!(c.fails(DUP2, &[fd, 64]), Errno::EBADF);
    assert_eq!(c.fails(DUP, &[40]), Errno::EBADF);
    c.finish();
}

// ---------------------------------------------------------------- execve

/// Put a NULL-terminated array of strings at `at` (strings after it); returns `at`.
fn put_strings(c: &mut Ctx, at: u32, strings: &[&[u8]]) -> u32 {
    let mut s = at + 4 * (strings.len() as u32 + 1);
    for (i, text) in strings.iter().enumerate() {
        c.put(at + 4 * i as u32, &s.to_le_bytes());
        c.put_cstr(s, text);
        s += text.len() as u32 + 1;
    }
    c.put(at + 4 * strings.len() as u32, &0u32.to_le_bytes());
    at
}

#[test]
fn execve_replaces_the_image_only_when_the_new_one_loads() {
    let mut c = ctx();
    let elf: &'static [u8] = crate::exec::builder::ElfBuilder::minimal().build().leak();
    c.vfs.add_boot_file("prog", elf).unwrap();
    let argv = put_strings(&mut c, BUF + 0x800, &[b"prog", b"arg"]);
    let envp = put_strings(&mut c, BUF + 0xc00, &[b"PATH=/bin"]);
    let path = |c: &mut Ctx, p: &[u8]| c.put_cstr(BUF + 0x400, p);
    // Errors leave the caller as it was.
    let before = c.space.remap().clone();
    let p = path(&mut c, b"/nope");
    assert_eq!(c.fails(EXECVE, &[p, argv, envp]), Errno::ENOENT);
    let p = path(&mut c, b"/boot");
    assert_eq!(c.fails(EXECVE, &[p, argv, envp]), Errno::EACCES);
    let p = path(&mut c, b"/boot/hello");
    assert_eq!(c.fails(EXECVE, &[p, argv, envp]), Errno::ENOEXEC);
    assert_eq!(open(&mut c, b"/tmp/x", O_CREAT | O_WRONLY), Ok(3));
    let p = path(&mut c, b"/tmp/x");
    assert_eq!(
        c.fails(EXECVE, &[p, argv, envp]),
        Errno::EACCES,
        "mode 0644"
    );
    let p = path(&mut c, b"/boot/prog");
    assert_eq!(c.fails(EXECVE, &[p, UNMAPPED, envp]), Errno::EFAULT);
    let bad = put_strings(&mut c, BUF + 0x1000, &[b"prog"]);
    c.put(bad + 4, &UNMAPPED.to_le_bytes());
    assert_eq!(c.fails(EXECVE, &[p, bad, envp]), Errno::EFAULT);
    assert_eq!(c.space.remap(), &before);
    assert_eq!(c.exec_entry, None);
    // Too much: E2BIG.
    let big = BUF + 0x2000;
    c.put(big, &[b'x'; 0x4000]);
    c.put(big + 0x4000, &[0]);
    let many: Vec<u32> = core::iter::repeat_n(big, 9).chain([0]).collect();
    for (i, p) in many.iter().enumerate() {
        c.put(BUF + 0x7000 + 4 * i as u32, &p.to_le_bytes());
    }
    let p = path(&mut c, b"/boot/prog");
    assert_eq!(c.fails(EXECVE, &[p, BUF + 0x7000, envp]), Errno::E2BIG);
    // Success: a new image, a new memory state, the descriptors stay.
    c.process.memory.brk += 0x1000;
    assert_eq!(c.ok(EXECVE, &[p, argv, 0]), 0);
    assert!(c.exec_entry.is_some());
    assert_ne!(c.space.remap(), &before);
    assert_eq!(c.process.memory.brk, c.process.memory.brk_base);
    assert!(c.process.fds.get(3).is_ok());
    c.finish();
}

#[test]
fn proc_meminfo_is_a_read_only_snapshot() {
    let mut c = ctx();
    assert_eq!(open(&mut c, b"/proc/meminfo", O_RDWR), Err(Errno::EACCES));
    let fd = open(&mut c, b"/proc/meminfo", O_RDONLY).unwrap();
    let n = c.ok(READ, &[fd, BUF, 4096]) as usize;
    let text = String::from_utf8(c.get(BUF, n)).unwrap();
    for name in [
        "MemTotal:",
        "MemFree:",
        "ResidentPages:",
        "FrozenLayers:",
        "FaultsCowCopy:",
    ] {
        assert!(text.contains(name), "{name} in {text}");
    }
    assert!(text.contains("MemTotal:        16384 kB"), "{text}");
    c.finish();
}

// ---------------------------------------------------------------- kill, signal

#[test]
fn kill_ends_children_unless_they_ignore_and_signal_sets_ignore() {
    use crate::abi::signal::{SIGCHLD, SIGINT, SIGKILL, SIGTERM};
    let mut c = ctx();
    let a = c.ok(FORK, &[]);
    let b = c.ok(FORK, &[]);
    assert_eq!(c.fails(KILL, &[99, SIGTERM]), Errno::ESRCH);
    assert_eq!(c.fails(KILL, &[a, 32]), Errno::EINVAL);
    assert_eq!(c.ok(KILL, &[a, 0]), 0, "0 only checks");
    // b ignores SIGINT; both get it.
    c.children
        .get_mut(b)
        .unwrap()
        .context
        .as_mut()
        .unwrap()
        .1
        .signals
        .actions[SIGINT as usize]
        .handler = crate::signal::SIG_IGN;
    // The caller is in the group too: it ignores SIGINT, as a shell does.
    assert_eq!(c.ok(SIGNAL, &[SIGINT, 1]), 0);
    assert_eq!(c.ok(KILL, &[0, SIGINT]), 0, "the caller's group");
    assert_eq!(c.ok(WAITPID, &[a, BUF, 1]), a, "a was killed");
    assert_eq!(c.get(BUF, 4), SIGINT.to_le_bytes());
    assert_eq!(c.ok(WAITPID, &[b, BUF, 1]), 0, "b ignores SIGINT");
    assert_eq!(c.ok(KILL, &[b, SIGCHLD]), 0, "ignored by default");
    assert_eq!(c.ok(WAITPID, &[b, BUF, 1]), 0);
    assert_eq!(c.ok(KILL, &[b, SIGKILL]), 0);
    assert_eq!(c.ok(WAITPID, &[b, BUF, 0]), b);
    // signal(): SIG_IGN / SIG_DFL, the old one back; SIGKILL and handlers refused.
    assert_eq!(c.ok(SIGNAL, &[SIGTERM, 1]), 0);
    assert_eq!(c.ok(SIGNAL, &[SIGTERM, 0]), 1);
    assert_eq!(c.fails(SIGNAL, &[SIGKILL, 1]), Errno::EINVAL);
    assert_eq!(c.ok(SIGNAL, &[SIGTERM, 0x0804_8000]), 0, "a handler");
    assert_eq!(c.ok(SIGNAL, &[SIGTERM, 0]), 0x0804_8000);
    // The caller itself: the call raises the signal.
    assert_eq!(c.call(KILL, &[1, SIGTERM]), SyscallResult::Signal(SIGTERM));
    c.ok(SIGNAL, &[SIGTERM, 1]);
    assert_eq!(c.ok(KILL, &[1, SIGTERM]), 0, "ignored now");
    c.finish();
}

#[test]
fn proc_pid_shows_live_processes() {
    let mut c = ctx();
    c.process.cmdline = crate::process::cmdline_of(&[b"test", b"-x"]);
    let child = c.ok(FORK, &[]);
    let path = alloc::format!("/proc/{child}/status");
    let fd = open(&mut c, path.as_bytes(), O_RDONLY).unwrap();
    let n = c.ok(READ, &[fd, BUF, 4096]) as usize;
    let text = String::from_utf8(c.get(BUF, n)).unwrap();
    assert!(
        text.contains(&alloc::format!("Pid:\t{child}\nPPid:\t1\n")),
        "{text}"
    );
    assert!(text.contains("Pgid:\t1\n"), "{text}");
    c.ok(CLOSE, &[fd]);
    let path = alloc::format!("/proc/{child}/cmdline");
    let fd = open(&mut c, path.as_bytes(), O_RDONLY).unwrap();
    let n = c.ok(READ, &[fd, BUF, 4096]) as usize;
    assert_eq!(c.get(BUF, n), b"test\0-x\0", "inherited by fork");
    c.ok(CLOSE, &[fd]);
    let path = alloc::format!("/proc/{child}/maps");
    let fd = open(&mut c, path.as_bytes(), O_RDONLY).unwrap();
    assert!(c.ok(READ, &[fd, BUF, 4096]) > 0);
    c.ok(CLOSE, &[fd]);
    assert_eq!(open(&mut c, b"/proc/1/status", O_RDWR), Err(Errno::EACCES));
    c.end_child(child, Ended::Exited(0));
    let path = alloc::format!("/proc/{child}/status");
    assert_eq!(open(&mut c, path.as_bytes(), O_RDONLY), Err(Errno::ENOENT));
    assert_eq!(
        open(&mut c, b"/proc/01/status", O_RDONLY),
        Err(Errno::ENOENT)
    );
    c.finish();
}

#[test]
fn sigaction_sigprocmask_sigpending_sigaltstack() {
    use crate::abi::sigflags::*;
    use crate::abi::signal::{SIGKILL, SIGUSR1};
    let mut c = ctx();
    let act = crate::abi::Sigaction {
        sa_handler: 0x0804_8100,
        sa_sigaction: 0,
        sa_mask: 1 << SIGKILL | 1 << 3,
        sa_flags: SA_RESTART,
    };
    c.put(BUF, &{
        let mut b = [0u8; 16];
        crate::abi::Pod::write_bytes(&act, &mut b);
        b
    });
    assert_eq!(c.ok(SIGACTION, &[SIGUSR1, BUF, BUF + 0x100]), 0);
    assert_eq!(c.get(BUF + 0x100, 4), [0; 4], "the old action: SIG_DFL");
    let a = c.process.signals.actions[SIGUSR1 as usize];
    assert_eq!(
        (a.handler, a.mask, a.flags),
        (0x0804_8100, 1 << 3, SA_RESTART)
    );
    assert_eq!(c.fails(SIGACTION, &[SIGKILL, BUF, 0]), Errno::EINVAL);
    assert_eq!(
        c.ok(SIGACTION, &[SIGKILL, 0, BUF + 0x100]),
        0,
        "reading is fine"
    );
    assert_eq!(c.fails(SIGACTION, &[SIGUSR1, UNMAPPED, 0]), Errno::EFAULT);
    assert_eq!(c.fails(SIGACTION, &[32, 0, 0]), Errno::EINVAL);
    // kill of the caller for a caught signal: pending, delivered by the kernel.
    c.ok(KILL, &[1, SIGUSR1]);
    assert_eq!(c.process.signals.pending, 1 << SIGUSR1);
    // The mask.
    c.put(BUF, &(1u32 << SIGUSR1 | 1 << SIGKILL).to_le_bytes());
    assert_eq!(c.ok(SIGPROCMASK, &[SIG_BLOCK, BUF, BUF + 4]), 0);
    assert_eq!(
        c.process.signals.blocked,
        1 << SIGUSR1,
        "SIGKILL never blocked"
    );
    assert_eq!(c.ok(SIGPENDING, &[BUF + 8]), 0);
    assert_eq!(c.get(BUF + 8, 4), (1u32 << SIGUSR1).to_le_bytes());
    assert_eq!(c.fails(SIGPROCMASK, &[9, BUF, 0]), Errno::EINVAL);
    assert_eq!(c.ok(SIGPROCMASK, &[SIG_UNBLOCK, BUF, 0]), 0);
    assert_eq!(c.process.signals.blocked, 0);
    // The alternate stack.
    let ss = |sp: u32, size: u32, flags: u32| {
        let mut b = [0u8; 12];
        b[..4].copy_from_slice(&sp.to_le_bytes());
        b[4..8].copy_from_slice(&size.to_le_bytes());
        b[8..].copy_from_slice(&flags.to_le_bytes());
        b
    };
    c.put(BUF, &ss(BUF + 0x1000, 1024, 0));
    assert_eq!(c.fails(SIGALTSTACK, &[BUF, 0]), Errno::ENOMEM);
    c.put(BUF, &ss(BUF + 0x1000, 8192, 0));
    assert_eq!(c.ok(SIGALTSTACK, &[BUF, BUF + 0x40]), 0);
    assert_eq!(
        c.get(BUF + 0x48, 4),
        SS_DISABLE.to_le_bytes(),
        "none before"
    );
    assert_eq!(c.ok(SIGALTSTACK, &[0, BUF + 0x40]), 0);
    assert_eq!(c.get(BUF + 0x40, 8), ss(BUF + 0x1000, 8192, 0)[..8]);
    c.put(BUF, &ss(0, 0, 2));
    assert_eq!(c.fails(SIGALTSTACK, &[BUF, 0]), Errno::EINVAL);
    c.finish();
}

#[test]
fn fcntl_dupfd_cloexec_and_nonblocking_pipes() {
    use crate::abi::fcntl::*;
    let mut c = ctx();
    let fd = open(&mut c, b"/boot/hello", O_RDONLY | O_CLOEXEC).unwrap();
    assert_eq!(c.ok(FCNTL, &[fd, F_GETFD, 0]), FD_CLOEXEC);
    assert_eq!(c.ok(FCNTL, &[fd, F_SETFD, 0]), 0);
    assert_eq!(c.ok(FCNTL, &[fd, F_GETFD, 0]), 0);
    assert_eq!(c.ok(FCNTL, &[fd, F_DUPFD, 10]), 10);
    assert_eq!(
        c.ok(FCNTL, &[10, F_GETFD, 0]),
        0,
        "a duplicate does not close on exec"
    );
    assert_eq!(c.ok(FCNTL, &[fd, F_GETFL, 0]), O_RDONLY);
    assert_eq!(c.fails(FCNTL, &[fd, 99, 0]), Errno::EINVAL);
    assert_eq!(c.fails(FCNTL, &[40, F_GETFD, 0]), Errno::EBADF);
    assert_eq!(c.fails(FCNTL, &[fd, F_DUPFD, 64]), Errno::EINVAL);
    c.ok(PIPE, &[BUF]);
    let (r, w) = (fd + 1, fd + 2);
    assert_eq!(c.ok(FCNTL, &[r, F_SETFL, O_NONBLOCK]), 0);
    assert_eq!(c.ok(FCNTL, &[r, F_GETFL, 0]), O_RDONLY | O_NONBLOCK);
    assert_eq!(c.fails(READ, &[r, BUF, 1]), Errno::EAGAIN, "empty: no wait");
    assert_eq!(c.ok(FCNTL, &[w, F_SETFL, O_NONBLOCK]), 0);
    let mut filled = 0;
    while let SyscallResult::Return(Ok(n)) = c.call(WRITE, &[w, BUF, 4096]) {
        filled += n as usize;
    }
    assert_eq!(filled, crate::pipe::PIPE_CAPACITY);
    assert_eq!(c.fails(WRITE, &[w, BUF, 1]), Errno::EAGAIN, "full: no wait");
    // close-on-exec on exec.
    c.ok(FCNTL, &[w, F_SETFD, FD_CLOEXEC]);
    let elf: &'static [u8] = crate::exec::builder::ElfBuilder::minimal().build().leak();
    c.vfs.add_boot_file("prog", elf).unwrap();
    let p = c.put_cstr(BUF + 0x400, b"/boot/prog");
    assert_eq!(c.ok(EXECVE, &[p, 0, 0]), 0);
    assert!(c.process.fds.get(w).is_err(), "closed by exec");
    assert!(c.process.fds.get(r).is_ok());
    c.finish();
}

/// Call `nr` with the paths `paths` (put in the scratch buffer's last page).
fn path_call(c: &mut Ctx, nr: u32, paths: &[&[u8]], more: &[u32]) -> Result<u32, Errno> {
    let mut args = Vec::new();
    let mut at = BUF_END - 0x1000;
    for p in paths {
        args.push(c.put_cstr(at, p));
        at += 0x400;
    }
    args.extend_from_slice(more);
    match c.call(nr, &args) {
        SyscallResult::Return(r) => r,
        other => panic!("{other:?}"),
    }
}

/// `getcwd` into the scratch buffer, as text.
fn cwd(c: &mut Ctx) -> Vec<u8> {
    let n = c.ok(GETCWD, &[BUF, 256]) as usize;
    let mut path = c.get(BUF, n);
    assert_eq!(path.pop(), Some(0));
    path
}

#[test]
fn directories_cwd_unlink_rename() {
    let mut c = ctx();
    assert_eq!(cwd(&mut c), b"/");
    assert_eq!(path_call(&mut c, MKDIR, &[b"/tmp/d"], &[0o777]), Ok(0));
    let st = c.vfs.stat(
        c.vfs
            .lookup(crate::vfs::PathContext::root(1), b"/tmp/d")
            .unwrap(),
    );
    assert_eq!(
        u32::from(st.unwrap().st_mode),
        mode::S_IFDIR | 0o755,
        "umask 022"
    );
    assert_eq!(
        path_call(&mut c, MKDIR, &[b"/tmp/d"], &[0o777]),
        Err(Errno::EEXIST)
    );
    assert_eq!(
        path_call(&mut c, MKDIR, &[b"/bin2"], &[0o777]),
        Err(Errno::EROFS)
    );
    assert_eq!(
        path_call(&mut c, MKDIR, &[b"/tmp/no/x"], &[0o777]),
        Err(Errno::ENOENT)
    );
    // chdir, relative paths, getcwd.
    assert_eq!(path_call(&mut c, CHDIR, &[b"/tmp/d"], &[]), Ok(0));
    assert_eq!(cwd(&mut c), b"/tmp/d");
    assert_eq!(c.fails(GETCWD, &[BUF, 6]), Errno::ERANGE);
    assert_eq!(c.ok(GETCWD, &[BUF, 7]), 7);
    let fd = open(&mut c, b"f", O_CREAT | O_WRONLY).unwrap();
    c.put(BUF, b"hello");
    assert_eq!(c.ok(WRITE, &[fd, BUF, 5]), 5);
    c.ok(CLOSE, &[fd]);
    let probe = open(&mut c, b"/tmp/d/f", O_RDONLY).unwrap();
    c.ok(CLOSE, &[probe]);
    let probe = open(&mut c, b"../d/./f", O_RDONLY).unwrap();
    c.ok(CLOSE, &[probe]);
    assert_eq!(path_call(&mut c, CHDIR, &[b"f"], &[]), Err(Errno::ENOTDIR));
    assert_eq!(
        path_call(&mut c, CHDIR, &[b"nope"], &[]),
        Err(Errno::ENOENT)
    );
    assert_eq!(path_call(&mut c, CHDIR, &[b".."], &[]), Ok(0));
    assert_eq!(cwd(&mut c), b"/tmp");
    let dir = open(&mut c, b"/proc", O_RDONLY | O_DIRECTORY).unwrap();
    assert_eq!(c.ok(FCHDIR, &[dir]), 0);
    assert_eq!(cwd(&mut c), b"/proc");
    let file = open(&mut c, b"/tmp/d/f", O_RDONLY).unwrap();
    assert_eq!(c.fails(FCHDIR, &[file]), Errno::ENOTDIR);
    assert_eq!(c.fails(FCHDIR, &[40]), Errno::EBADF);
    // /proc/self is the caller's /proc/<pid>.
    let probe = open(&mut c, b"self/status", O_RDONLY).unwrap();
    c.ok(CLOSE, &[probe]);
    assert_eq!(path_call(&mut c, CHDIR, &[b"self"], &[]), Ok(0));
    assert_eq!(cwd(&mut c), b"/proc/1");
    assert_eq!(path_call(&mut c, CHDIR, &[b"/tmp"], &[]), Ok(0));
    // rename: move, replace, refuse.
    assert_eq!(path_call(&mut c, RENAME, &[b"d/f", b"g"], &[]), Ok(0));
    assert_eq!(open(&mut c, b"d/f", O_RDONLY), Err(Errno::ENOENT));
    assert_eq!(
        path_call(&mut c, RENAME, &[b"g", b"/boot/g"], &[]),
        Err(Errno::EXDEV)
    );
    assert_eq!(
        path_call(&mut c, RENAME, &[b"/boot/hello", b"/tmp/h"], &[]),
        Err(Errno::EXDEV)
    );
    assert_eq!(
        path_call(&mut c, RENAME, &[b"/boot/hello", b"/boot/h"], &[]),
        Err(Errno::EROFS)
    );
    assert_eq!(
        path_call(&mut c, RENAME, &[b"/tmp/d", b"/tmp/d/e"], &[]),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        path_call(&mut c, RENAME, &[b"/tmp", b"/tmp/x"], &[]),
        Err(Errno::EBUSY)
    );
    assert_eq!(
        path_call(&mut c, RENAME, &[b"g", b"d"], &[]),
        Err(Errno::EISDIR)
    );
    assert_eq!(
        path_call(&mut c, RENAME, &[b"nope", b"x"], &[]),
        Err(Errno::ENOENT)
    );
    // unlink while open: the descriptor still reads it; the bytes go at the close.
    let used = c.vfs.ramfs().used_bytes();
    let open_g = open(&mut c, b"g", O_RDONLY).unwrap();
    assert_eq!(path_call(&mut c, UNLINK, &[b"g"], &[]), Ok(0));
    assert_eq!(open(&mut c, b"g", O_RDONLY), Err(Errno::ENOENT));
    assert_eq!(c.ok(READ, &[open_g, BUF, 100]), 5);
    assert_eq!(c.get(BUF, 5), b"hello");
    assert_eq!(c.ok(FSTAT, &[open_g, BUF]), 0);
    let st = c.get(BUF, 48);
    assert_eq!(
        u16::from_le_bytes([st[10], st[11]]),
        0,
        "st_nlink of an unlinked file"
    );
    assert_eq!(c.vfs.ramfs().used_bytes(), used);
    c.ok(CLOSE, &[file]); // the old /tmp/d/f description (same node)
    assert_eq!(c.vfs.ramfs().used_bytes(), used, "still open at open_g");
    c.ok(CLOSE, &[open_g]);
    assert_eq!(c.vfs.ramfs().used_bytes(), used - 5);
    assert_eq!(path_call(&mut c, UNLINK, &[b"d"], &[]), Err(Errno::EISDIR));
    assert_eq!(
        path_call(&mut c, UNLINK, &[b"/dev/null"], &[]),
        Err(Errno::EROFS)
    );
    assert_eq!(path_call(&mut c, RMDIR, &[b"/tmp"], &[]), Err(Errno::EBUSY));
    assert_eq!(
        path_call(&mut c, RMDIR, &[b"/proc"], &[]),
        Err(Errno::EROFS)
    );
    // rmdir of the current directory: getcwd and relative paths then fail.
    assert_eq!(path_call(&mut c, CHDIR, &[b"d"], &[]), Ok(0));
    assert_eq!(path_call(&mut c, RMDIR, &[b"/tmp/d"], &[]), Ok(0));
    assert_eq!(c.fails(GETCWD, &[BUF, 256]), Errno::ENOENT);
    assert_eq!(open(&mut c, b"x", O_CREAT | O_WRONLY), Err(Errno::ENOENT));
    assert_eq!(path_call(&mut c, CHDIR, &[b"/"], &[]), Ok(0));
    c.ok(CLOSE, &[dir]);
    c.finish();
}

/// Put `pollfd`s `(fd, events)` at `BUF` and poll them.
fn poll_call(c: &mut Ctx, fds: &[(i32, u16)], timeout: i32) -> SyscallResult {
    for (i, &(fd, events)) in fds.iter().enumerate() {
        let mut e = [0u8; 8];
        e[..4].copy_from_slice(&fd.to_le_bytes());
        e[4..6].copy_from_slice(&events.to_le_bytes());
        e[6..].copy_from_slice(&0xffffu16.to_le_bytes());
        c.put(BUF + 8 * i as u32, &e);
    }
    c.call(POLL, &[BUF, fds.len() as u32, timeout as u32])
}

/// The `revents` of entry `i` at `BUF`.
fn revents(c: &mut Ctx, i: u32) -> u16 {
    let b = c.get(BUF + 8 * i + 6, 2);
    u16::from_le_bytes([b[0], b[1]])
}

#[test]
fn poll_pipes_console_and_timeouts() {
    use crate::abi::poll::*;
    let mut c = ctx();
    c.ok(PIPE, &[BUF + 0x800]);
    let fds = c.get(BUF + 0x800, 8);
    let r = u32::from_le_bytes(fds[..4].try_into().unwrap()) as i32;
    let w = u32::from_le_bytes(fds[4..].try_into().unwrap()) as i32;
    // The write end has room; the read end nothing: one ready.
    let res = poll_call(
        &mut c,
        &[(r, POLLIN), (w, POLLOUT), (-1, POLLIN), (40, POLLIN)],
        0,
    );
    assert_eq!(res, SyscallResult::ok(2));
    assert_eq!(revents(&mut c, 0), 0);
    assert_eq!(revents(&mut c, 1), POLLOUT);
    assert_eq!(revents(&mut c, 2), 0, "a negative fd is skipped");
    assert_eq!(revents(&mut c, 3), POLLNVAL);
    // Nothing ready: it waits (no limit, or until its deadline).
    assert_eq!(
        poll_call(&mut c, &[(r, POLLIN)], -1),
        SyscallResult::Block(BlockOn::Poll(None))
    );
    c.monotonic_ns = 1_000_000_000;
    assert_eq!(
        poll_call(&mut c, &[(r, POLLIN)], 250),
        SyscallResult::Block(BlockOn::Poll(Some(1_250_000_000)))
    );
    // A re-run keeps the deadline fixed at the first entry, then times out.
    c.monotonic_ns = 1_100_000_000;
    assert_eq!(
        poll_call(&mut c, &[(r, POLLIN)], 250),
        SyscallResult::Block(BlockOn::Poll(Some(1_250_000_000)))
    );
    c.monotonic_ns = 1_250_000_000;
    assert_eq!(poll_call(&mut c, &[(r, POLLIN)], 250), SyscallResult::ok(0));
    assert_eq!(c.process.sleep_until, None);
    // Data: POLLIN; the console is writable, a file always ready.
    c.put(BUF + 0x900, b"x");
    c.ok(WRITE, &[w as u32, BUF + 0x900, 1]);
    let file = open(&mut c, b"/boot/hello", O_RDONLY).unwrap() as i32;
    let res = poll_call(
        &mut c,
        &[(r, POLLIN | POLLOUT), (1, POLLOUT | POLLIN), (file, POLLIN)],
        -1,
    );
    assert_eq!(res, SyscallResult::ok(3));
    assert_eq!(revents(&mut c, 0), POLLIN);
    assert_eq!(revents(&mut c, 1), POLLOUT, "no console line yet");
    assert_eq!(revents(&mut c, 2), POLLIN);
    // The writer goes: POLLHUP even when not asked for.
    c.ok(CLOSE, &[w as u32]);
    assert_eq!(poll_call(&mut c, &[(r, 0)], 0), SyscallResult::ok(1));
    assert_eq!(revents(&mut c, 0), POLLHUP);
    // Limits and bad memory.
    assert_eq!(c.fails(POLL, &[BUF, POLL_MAX_TEST + 1, 0]), Errno::EINVAL);
    assert_eq!(c.fails(POLL, &[UNMAPPED, 1, 0]), Errno::EFAULT);
    assert_eq!(c.ok(POLL, &[UNMAPPED, 0, 0]), 0, "nothing to look at");
    c.ok(CLOSE, &[r as u32]);
    c.ok(CLOSE, &[file as u32]);
    c.finish();
}

const POLL_MAX_TEST: u32 = super::fs::POLL_MAX;

#[test]
fn sigsuspend_swaps_the_mask_until_a_signal() {
    use crate::abi::signal::{SIGUSR1, SIGUSR2};
    let mut c = ctx();
    c.process.signals.actions[SIGUSR1 as usize].handler = 0x1234;
    c.process.signals.blocked = 1 << SIGUSR1;
    // Wait with SIGUSR1 unblocked.
    c.put(BUF, &(1u32 << SIGUSR2).to_le_bytes());
    assert_eq!(
        c.call(SIGSUSPEND, &[BUF]),
        SyscallResult::Block(BlockOn::Signal)
    );
    assert_eq!(c.process.signals.blocked, 1 << SIGUSR2);
    assert_eq!(c.process.signals.suspended_mask, Some(1 << SIGUSR1));
    // Woken without a signal: it waits again, the mask as it was set.
    c.put(BUF, &0u32.to_le_bytes());
    assert_eq!(
        c.call(SIGSUSPEND, &[BUF]),
        SyscallResult::Block(BlockOn::Signal)
    );
    assert_eq!(c.process.signals.blocked, 1 << SIGUSR2);
    // The signal: EINTR; the handler's frame saves the old mask.
    c.process.signals.pending |= 1 << SIGUSR1;
    assert_eq!(c.fails(SIGSUSPEND, &[BUF]), Errno::EINTR);
    assert_eq!(c.process.signals.frame_mask(), 1 << SIGUSR1);
    assert_eq!(c.process.signals.suspended_mask, None);
    // A bad mask changes nothing.
    c.process.signals.pending = 0;
    assert_eq!(c.fails(SIGSUSPEND, &[UNMAPPED]), Errno::EFAULT);
    assert_eq!(c.process.signals.suspended_mask, None);
    // siginterrupt flips SA_RESTART.
    use crate::abi::sigflags::SA_RESTART;
    c.ok(SIGINTERRUPT, &[SIGUSR1, 0]);
    assert_ne!(
        c.process.signals.actions[SIGUSR1 as usize].flags & SA_RESTART,
        0
    );
    c.ok(SIGINTERRUPT, &[SIGUSR1, 1]);
    assert_eq!(
        c.process.signals.actions[SIGUSR1 as usize].flags & SA_RESTART,
        0
    );
    assert_eq!(c.fails(SIGINTERRUPT, &[9, 1]), Errno::EINVAL);
    assert!(!BlockOn::Signal.restartable() && !BlockOn::Poll(None).restartable());
    assert!(BlockOn::Pipe(0).restartable() && BlockOn::Child.restartable());
    c.finish();
}

#[test]
fn setitimer_arms_reports_and_disarms() {
    use crate::abi::itimer::*;
    let mut c = ctx();
    c.monotonic_ns = 5_000_000_000;
    let itv = |c: &mut Ctx, at: u32, v: (i32, i32), i: (i32, i32)| {
        let mut b = Vec::new();
        for x in [i.0, i.1, v.0, v.1] {
            b.extend_from_slice(&x.to_le_bytes());
        }
        c.put(at, &b);
    };
    let read = |c: &mut Ctx, at: u32| -> Vec<i32> {
        c.get(at, 16)
            .chunks(4)
            .map(|w| i32::from_le_bytes(w.try_into().unwrap()))
            .collect()
    };
    itv(&mut c, BUF, (2, 500_000), (1, 0));
    assert_eq!(c.ok(SETITIMER, &[ITIMER_REAL, BUF, BUF + 0x100]), 0);
    assert_eq!(read(&mut c, BUF + 0x100), [0, 0, 0, 0], "none before");
    assert_eq!(c.alarms_set, [7_500_000_000]);
    c.monotonic_ns = 6_000_000_000;
    assert_eq!(c.ok(GETITIMER, &[ITIMER_REAL, BUF + 0x200]), 0);
    assert_eq!(read(&mut c, BUF + 0x200), [1, 0, 1, 500_000]);
    // The child of a fork has no timer; exec keeps it.
    let mut child = c.process.fork(1, &mut c.files).unwrap();
    assert_eq!(child.alarm, None);
    child.release(&mut c.files);
    // Bad input changes nothing.
    itv(&mut c, BUF, (0, 1_000_000), (0, 0));
    assert_eq!(c.fails(SETITIMER, &[ITIMER_REAL, BUF, 0]), Errno::EINVAL);
    itv(&mut c, BUF, (-1, 0), (0, 0));
    assert_eq!(c.fails(SETITIMER, &[ITIMER_REAL, BUF, 0]), Errno::EINVAL);
    itv(&mut c, BUF, (1, 0), (0, 0));
    assert_eq!(c.fails(SETITIMER, &[ITIMER_VIRTUAL, BUF, 0]), Errno::EINVAL);
    assert_eq!(
        c.fails(SETITIMER, &[ITIMER_REAL, UNMAPPED, 0]),
        Errno::EFAULT
    );
    assert_eq!(
        c.fails(SETITIMER, &[ITIMER_REAL, BUF, UNMAPPED]),
        Errno::EFAULT
    );
    assert_eq!(c.fails(GETITIMER, &[ITIMER_PROF, BUF]), Errno::EINVAL);
    assert!(c.process.alarm.is_some());
    // A zero value disarms, reporting the old one.
    itv(&mut c, BUF, (0, 0), (0, 0));
    assert_eq!(c.ok(SETITIMER, &[ITIMER_REAL, BUF, BUF + 0x100]), 0);
    assert_eq!(read(&mut c, BUF + 0x100), [1, 0, 1, 500_000]);
    assert_eq!(c.process.alarm, None);
    assert_eq!(c.alarms_set.len(), 1);
    c.finish();
}
