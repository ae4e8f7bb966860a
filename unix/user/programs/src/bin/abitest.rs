//! `abitest`: exercises every syscall of `docs/abi.md` the normal way and
//! checks the results: `getpagesize`, `uname`, `time`, `clock_gettime`,
//! `getpid`/`getppid`, `open`/`read`/`lseek`/`fstat`/`stat` on
//! `/boot/<argv[0]>` (its own ELF image), `getdents` on `/boot`,
//! `/dev/null`, `/dev/zero`, a file in `/tmp` (`O_CREAT`, `O_TRUNC`,
//! `O_APPEND`, `O_EXCL`), `readdir`, `ioctl` on the console and on a file,
//! Phantom's simple calls (ids, `umask`, `personality`, `ssyslog`, the
//! sleeps, the host name), and the errors `EBADF`, `ESPIPE`, `ENOTTY`,
//! `EISDIR`, `ENOTDIR`, `EINVAL`, `ENOSYS`. One line per check, then `{"test":"abitest",…}`; exit 0 if all
//! passed, else 1.

#![no_std]
#![no_main]

use programs::Checker;
use ulibc::fs::read_dir;
use ulibc::prelude::*;
use ulibc::string::{format_array, with_cstr};
use ulibc::sys;
use ulibc::types::field_bytes;

ulibc::entry!(main);

fn main(args: Args) -> i32 {
    let mut c = Checker::new("abitest");
    let name = args.bytes(0).unwrap_or(b"abitest");
    let name = name.rsplit(|&b| b == b'/').next().unwrap_or(name);

    // Basics.
    let ps = sys::getpagesize();
    c.check("getpagesize", ps == Ok(4096), format_args!("{ps:?}"));
    match sys::uname() {
        Ok(u) => c.check(
            "uname: sysname non-empty",
            !field_bytes(&u.sysname).is_empty(),
            format_args!(
                "{} {} {}",
                Bytes(field_bytes(&u.sysname)),
                Bytes(field_bytes(&u.release)),
                Bytes(field_bytes(&u.machine))
            ),
        ),
        Err(e) => c.check("uname", false, format_args!("-1 {e:?}")),
    };
    let t = sys::time();
    c.expect_ok("time(NULL)", t);
    let mut tloc = [0xAAAA_AAAAu32; 3];
    // SAFETY: tloc has room for the 8-byte time_t and one more word.
    let r = unsafe { sys::raw::time(tloc.as_mut_ptr().cast()) };
    c.check(
        "time(&t) stores a 64-bit time_t, nothing more",
        r == Ok(tloc[0]) && tloc[1] == 0 && tloc[2] == 0xAAAA_AAAA,
        format_args!("{r:?}, t = {tloc:x?}"),
    );
    let tv = sys::gettimeofday();
    c.check(
        "gettimeofday",
        matches!(tv, Ok(t) if (0..1_000_000).contains(&t.tv_usec)),
        format_args!("{tv:?}"),
    );
    let m1 = sys::clock_gettime(CLOCK_MONOTONIC);
    let m2 = sys::clock_gettime(CLOCK_MONOTONIC);
    c.check(
        "clock_gettime(MONOTONIC) never goes back",
        matches!((m1, m2), (Ok(a), Ok(b)) if a.as_nanos() <= b.as_nanos() && b.tv_nsec < 1_000_000_000),
        format_args!("{m1:?} then {m2:?}"),
    );
    c.expect_ok(
        "clock_gettime(REALTIME)",
        sys::clock_gettime(CLOCK_REALTIME),
    );
    c.expect_err("clock_gettime(99)", sys::clock_gettime(99), Errno::EINVAL);
    let pid = sys::getpid();
    c.check(
        "getpid > 0",
        matches!(pid, Ok(p) if p > 0),
        format_args!("{pid:?}"),
    );
    c.check(
        "getppid = 0 (boot module)",
        sys::getppid() == Ok(0),
        format_args!("{:?}", sys::getppid()),
    );
    c.check("gettid = getpid", sys::gettid() == pid, format_args!(""));
    c.check(
        "uid, euid, gid, egid = 0 (root)",
        [sys::getuid(), sys::geteuid(), sys::getgid(), sys::getegid()] == [Ok(0); 4],
        format_args!(""),
    );
    c.expect_ok("setuid(0)", sys::setuid(0));
    c.expect_err("setuid(1000)", sys::setuid(1000), Errno::EINVAL);
    c.check("getpgrp = pid", sys::getpgrp() == pid, format_args!(""));
    c.expect_ok("setpgid(0, 0)", sys::setpgid(0, 0));
    c.check(
        "umask starts at 022",
        sys::umask(0o077) == Ok(0o022),
        format_args!(""),
    );
    c.check(
        "umask returns the old mask",
        sys::umask(0o022) == Ok(0o077),
        format_args!(""),
    );
    c.check(
        "personality(0xffffffff) = 0",
        sys::personality(u32::MAX) == Ok(0),
        format_args!(""),
    );
    c.expect_ok("sync", sys::sync());
    c.expect_ok("ssyslog", sys::ssyslog(6, c"abitest says hello"));
    let t0 = sys::clock_gettime(CLOCK_MONOTONIC).map(|t| t.as_nanos());
    c.expect_ok("sleepmsec(20)", sys::sleepmsec(20));
    let t1 = sys::clock_gettime(CLOCK_MONOTONIC).map(|t| t.as_nanos());
    c.check(
        "sleepmsec(20) sleeps at least 20 ms",
        matches!((t0, t1), (Ok(a), Ok(b)) if b >= a + 20_000_000),
        format_args!("{t0:?} .. {t1:?}"),
    );
    c.expect_ok(
        "nanosleep(5 ms)",
        sys::nanosleep(&Timespec {
            tv_sec: 0,
            tv_nsec: 5_000_000,
        }),
    );
    c.expect_err(
        "nanosleep with tv_nsec = 1e9",
        sys::nanosleep(&Timespec {
            tv_sec: 0,
            tv_nsec: 1_000_000_000,
        }),
        Errno::EINVAL,
    );
    let mut host = [0u8; 64];
    c.expect_ok("sethostname", sys::sethostname(b"abitest-host"));
    let n = sys::gethostname(&mut host);
    c.check(
        "gethostname returns what was set",
        n == Ok(12) && &host[..13] == b"abitest-host\0",
        format_args!("{n:?}"),
    );
    c.expect_err(
        "gethostname into a buffer without room for the NUL",
        sys::gethostname(&mut host[..12]),
        Errno::ENAMETOOLONG,
    );
    if let Ok(u) = sys::uname() {
        c.check(
            "uname's node name is the host name",
            field_bytes(&u.nodename) == b"abitest-host",
            format_args!("{}", Bytes(field_bytes(&u.nodename))),
        );
    }
    c.expect_ok("sethostname back", sys::sethostname(b"phantom"));

    // Our own image in /boot.
    let path = format_array::<300>(format_args!("/boot/{}", Bytes(name)));
    match with_cstr(path.as_bytes(), |p| File::open(p, O_RDONLY, 0)) {
        Ok(f) => {
            let st = f.stat();
            let size = st.map(|s| s.st_size).unwrap_or(0);
            c.check(
                "fstat: a regular file",
                matches!(st, Ok(s) if s.is_file() && s.st_size > 52),
                format_args!("{path}: {st:?}"),
            );
            let mut head = [0u8; 4];
            let r = f.read_full(&mut head);
            c.check(
                "read: ELF magic",
                r == Ok(4) && head == *b"\x7fELF",
                format_args!("{r:?} {:?}", Bytes(&head)),
            );
            let end = f.seek(0, SEEK_END);
            c.check(
                "lseek(0, END) = size",
                end == Ok(size),
                format_args!("{end:?}, size {size}"),
            );
            let mut tail = [0u8; 8];
            c.expect_ok(
                "read at end of file = 0",
                f.read(&mut tail)
                    .and_then(|n| if n == 0 { Ok(n) } else { Err(Errno::EIO) }),
            );
            let back = f.seek(-4, SEEK_CUR);
            c.check(
                "lseek(-4, CUR)",
                back == Ok(size - 4),
                format_args!("{back:?}"),
            );
            c.check(
                "read the last 4 bytes",
                f.read(&mut tail) == Ok(4),
                format_args!(""),
            );
            c.check(
                "lseek(0, SET) = 0",
                f.seek(0, SEEK_SET) == Ok(0),
                format_args!(""),
            );
            c.expect_err(
                "lseek to a negative offset",
                f.seek(-1, SEEK_SET),
                Errno::EINVAL,
            );
            c.expect_err("lseek with whence 7", f.seek(0, 7), Errno::EINVAL);
            c.check(
                "read of 0 bytes = 0",
                f.read(&mut []) == Ok(0),
                format_args!(""),
            );
            let sst = with_cstr(path.as_bytes(), sys::stat);
            c.check("stat = fstat", sst == st, format_args!("{sst:?}"));
            c.expect_err(
                "ioctl(TIOCGETA) on a file",
                sys::tcgetattr(f.fd()),
                Errno::ENOTTY,
            );
            c.check(
                "/boot is read-only",
                with_cstr(path.as_bytes(), |p| sys::open(p, O_WRONLY, 0)).is_err(),
                format_args!(
                    "{:?}",
                    with_cstr(path.as_bytes(), |p| sys::open(p, O_WRONLY, 0))
                ),
            );
            c.expect_err(
                "open a file with O_DIRECTORY",
                with_cstr(path.as_bytes(), |p| sys::open(p, O_RDONLY | O_DIRECTORY, 0)),
                Errno::ENOTDIR,
            );
            let through = format_array::<320>(format_args!("{path}/x"));
            c.expect_err(
                "open a path through a file",
                with_cstr(through.as_bytes(), |p| sys::open(p, O_RDONLY, 0)),
                Errno::ENOTDIR,
            );
            let fd = f.fd();
            c.expect_ok("close", f.close());
            c.expect_err("read a closed fd", sys::read(fd, &mut tail), Errno::EBADF);
        }
        Err(e) => {
            c.check("open /boot/<argv[0]>", false, format_args!("{path}: {e}"));
        }
    }

    // /boot as a directory.
    let st = sys::stat(c"/boot");
    c.check(
        "stat /boot: a directory",
        matches!(st, Ok(s) if s.is_dir()),
        format_args!("{st:?}"),
    );
    c.expect_err(
        "open /boot for writing",
        sys::open(c"/boot", O_WRONLY, 0),
        Errno::EISDIR,
    );
    match read_dir(c"/boot") {
        Ok(dir) => {
            let mut found = false;
            let mut count = 0;
            let mut bad = None;
            for e in dir {
                match e {
                    Ok(e) => {
                        count += 1;
                        found |= e.name() == name && e.kind == DT_REG;
                    }
                    Err(e) => bad = Some(e),
                }
            }
            c.check(
                "getdents /boot lists us as a file",
                found && bad.is_none(),
                format_args!("{count} entries, error {bad:?}"),
            );
        }
        Err(e) => {
            c.check("open /boot", false, format_args!("{e}"));
        }
    }

    match File::open(c"/boot", O_RDONLY, 0) {
        Ok(dir) => {
            let mut found = false;
            let mut count = 0;
            let result = loop {
                match sys::readdir(dir.fd()) {
                    Ok(Some(e)) => {
                        count += 1;
                        found |= e.name() == name;
                    }
                    Ok(None) => break Ok(()),
                    Err(e) => break Err(e),
                }
            };
            c.check(
                "readdir(117) /boot lists us",
                found && result.is_ok() && count >= 3,
                format_args!("{count} entries, {result:?}"),
            );
        }
        Err(e) => {
            c.check("open /boot", false, format_args!("{e}"));
        }
    }

    // Devices.
    if let Some(null) = c.expect_ok("open /dev/null", File::open(c"/dev/null", O_RDWR, 0)) {
        c.check(
            "write /dev/null",
            null.write(b"hello") == Ok(5),
            format_args!(""),
        );
        let mut b = [1u8; 4];
        c.check(
            "read /dev/null = EOF",
            null.read(&mut b) == Ok(0),
            format_args!(""),
        );
        let st = null.stat();
        c.check(
            "/dev/null is a char device",
            matches!(st, Ok(s) if s.is_char_device()),
            format_args!("{st:?}"),
        );
    }
    if let Some(zero) = c.expect_ok("open /dev/zero", File::open(c"/dev/zero", O_RDONLY, 0)) {
        let mut b = [1u8; 16];
        let r = zero.read(&mut b);
        c.check(
            "read /dev/zero gives zeros",
            r == Ok(16) && b == [0; 16],
            format_args!("{r:?}"),
        );
    }

    // The console.
    let t = sys::tcgetattr(STDIN);
    c.check(
        "ioctl(0, TIOCGETA) on the console: canonical, echo",
        matches!(t, Ok(t) if t.c_lflag & 0x108 == 0x108),
        format_args!("{t:?}"),
    );
    // SAFETY: the buffer is 4 bytes, the request's parameter 8: refused.
    let r = unsafe { sys::raw::ioctl(STDOUT, TIOCGWINSZ, tloc.as_mut_ptr() as usize, 4) };
    c.expect_err(
        "ioctl with a buffer shorter than the request's",
        r,
        Errno::EINVAL,
    );
    let w = sys::get_winsize(STDOUT);
    c.expect_ok("ioctl(1, TIOCGWINSZ) on the console", w);
    c.expect_err(
        "lseek on the console",
        sys::lseek(STDOUT, 0, SEEK_SET),
        Errno::ESPIPE,
    );
    let st = sys::fstat(STDOUT);
    c.check(
        "fstat(1): a char device",
        matches!(st, Ok(s) if s.is_char_device()),
        format_args!("{st:?}"),
    );
    c.expect_err("write to fd -1", sys::write(-1, b"x"), Errno::EBADF);
    c.expect_err("close fd 999", sys::close(999), Errno::EBADF);

    // A file in /tmp.
    let tmp = format_array::<64>(format_args!("/tmp/abitest-{}", pid.unwrap_or(0)));
    let open_tmp = |flags| with_cstr(tmp.as_bytes(), |p| File::open(p, flags, 0o644));
    if let Some(f) = c.expect_ok("create a /tmp file", open_tmp(O_CREAT | O_RDWR | O_TRUNC)) {
        c.check("write it", f.write(b"hello") == Ok(5), format_args!(""));
        c.check("seek back", f.seek(0, SEEK_SET) == Ok(0), format_args!(""));
        let mut b = [0u8; 16];
        let r = f.read_full(&mut b);
        c.check(
            "read it back",
            r == Ok(5) && &b[..5] == b"hello",
            format_args!("{r:?} {:?}", Bytes(&b[..5])),
        );
    }
    if let Some(f) = c.expect_ok("open it O_APPEND", open_tmp(O_WRONLY | O_APPEND)) {
        c.check("append", f.write(b" world") == Ok(6), format_args!(""));
    }
    let st = with_cstr(tmp.as_bytes(), sys::stat);
    c.check(
        "size after append = 11",
        matches!(st, Ok(s) if s.st_size == 11 && s.is_file()),
        format_args!("{st:?}"),
    );
    if let Ok(f) = open_tmp(O_RDONLY) {
        let mut b = [0u8; 16];
        let r = f.read_full(&mut b);
        c.check(
            "contents",
            r == Ok(11) && &b[..11] == b"hello world",
            format_args!("{:?}", Bytes(&b[..r.unwrap_or(0)])),
        );
    }
    c.expect_err(
        "O_CREAT|O_EXCL on an existing file",
        open_tmp(O_CREAT | O_EXCL | O_WRONLY).map(|f| f.fd()),
        Errno::EEXIST,
    );
    if let Some(f) = c.expect_ok("reopen O_TRUNC", open_tmp(O_WRONLY | O_TRUNC)) {
        let st = f.stat();
        c.check(
            "truncated to 0",
            matches!(st, Ok(s) if s.st_size == 0),
            format_args!("{st:?}"),
        );
        let mut b = [0u8; 1];
        c.expect_err("read a write-only fd", f.read(&mut b), Errno::EBADF);
    }

    // Unknown syscalls.
    // SAFETY: an unknown number touches nothing.
    c.expect_err(
        "syscall 9999",
        unsafe { ulibc::syscall::syscall(9999, &[]) },
        Errno::ENOSYS,
    );
    // SAFETY: the same, with a number Phantom names and this kernel does not
    // implement yet (sysinfo).
    c.expect_err(
        "syscall 6 (sysinfo, not implemented)",
        unsafe { ulibc::syscall::syscall(6, &[0]) },
        Errno::ENOSYS,
    );
    c.finish()
}
