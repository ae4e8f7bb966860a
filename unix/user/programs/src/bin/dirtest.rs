//! `dirtest`: directories and names. `mkdir`, `chdir` and `getcwd` (and
//! relative paths from there), `rename` over a file and into a directory, a
//! file `unlink`ed while open still read through its descriptor, `rmdir` of
//! a non-empty directory refused and of the current one accepted (`getcwd`
//! then fails). Works in `/tmp/dirtest`. One line per check, then
//! `{"test":"dirtest",…}`.

#![no_std]
#![no_main]

use programs::Checker;
use ulibc::fs::File;
use ulibc::prelude::*;
use ulibc::sys;
use ulibc::types::{O_CREAT, O_RDONLY, O_WRONLY};

ulibc::entry!(main);

fn write_file(path: &[u8], data: &[u8]) -> Result<(), Errno> {
    let f = ulibc::string::with_cstr(path, |p| File::open(p, O_WRONLY | O_CREAT, 0o644))?;
    f.write_all(data)?;
    f.close()
}

fn main(_args: Args) -> i32 {
    let mut c = Checker::new("dirtest");
    let mut cwd = [0u8; 256];
    c.expect_ok("mkdir /tmp/dirtest", sys::mkdir(b"/tmp/dirtest", 0o755));
    c.expect_err(
        "mkdir again",
        sys::mkdir(b"/tmp/dirtest", 0o755),
        Errno::EEXIST,
    );
    c.expect_err(
        "mkdir outside /tmp",
        sys::mkdir(b"/etc/x", 0o755),
        Errno::EROFS,
    );
    c.expect_ok("chdir", sys::chdir(b"/tmp/dirtest"));
    let here = sys::getcwd(&mut cwd).map(|p| p == b"/tmp/dirtest");
    c.check("getcwd", here == Ok(true), format_args!("{here:?}"));
    c.expect_ok("mkdir sub (relative)", sys::mkdir(b"sub", 0o755));
    c.expect_ok("a file (relative)", write_file(b"a", b"first"));
    c.expect_ok("another", write_file(b"b", b"second"));
    c.expect_ok("rename a over b", sys::rename(b"a", b"b"));
    let st = ulibc::string::with_cstr(b"/tmp/dirtest/b", sys::stat);
    c.check(
        "b is now a's",
        st.is_ok_and(|s| s.st_size == 5),
        format_args!("{:?}", st.map(|s| s.st_size)),
    );
    c.expect_err(
        "a is gone",
        ulibc::string::with_cstr(b"a", sys::stat),
        Errno::ENOENT,
    );
    c.expect_ok("rename into sub", sys::rename(b"b", b"sub/c"));
    c.expect_err(
        "a directory into itself",
        sys::rename(b"sub", b"sub/deeper"),
        Errno::EINVAL,
    );
    // Unlinked while open: still read through the descriptor.
    let f = ulibc::string::with_cstr(b"sub/c", |p| File::open(p, O_RDONLY, 0));
    c.expect_ok("unlink an open file", sys::unlink(b"sub/c"));
    let mut buf = [0u8; 16];
    let n = f.as_ref().map_err(|e| *e).and_then(|f| f.read(&mut buf));
    c.check(
        "its descriptor still reads it",
        n == Ok(5) && &buf[..5] == b"first",
        format_args!("{n:?}"),
    );
    if let Ok(f) = f {
        let _ = f.close();
    }
    c.expect_err("unlink a directory", sys::unlink(b"sub"), Errno::EISDIR);
    c.expect_ok("a file in sub", write_file(b"sub/d", b"x"));
    c.expect_err("rmdir non-empty", sys::rmdir(b"sub"), Errno::ENOTEMPTY);
    c.expect_ok("unlink sub/d", sys::unlink(b"sub/d"));
    c.expect_ok("chdir sub", sys::chdir(b"sub"));
    c.expect_ok(
        "rmdir the current directory",
        sys::rmdir(b"/tmp/dirtest/sub"),
    );
    c.expect_err(
        "getcwd of a removed directory",
        sys::getcwd(&mut cwd),
        Errno::ENOENT,
    );
    c.expect_ok("chdir ..", sys::chdir(b"/tmp"));
    c.expect_ok("rmdir /tmp/dirtest", sys::rmdir(b"dirtest"));
    c.finish()
}
