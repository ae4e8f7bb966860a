//! `pipetest`: pipes between processes. Data from a child to its parent with end
//! of file when the writer closes, 4 MiB in 64 KiB writes with a checksum, a
//! ping-pong of one byte, `dup2` of a child's stdout onto a pipe, `SIGPIPE` for a
//! writer without reader, `fstat` (`S_IFIFO`), `lseek` (`ESPIPE`), and the wrong
//! end (`EBADF`). One line per check, then `{"test":"pipetest",…}`.

#![no_std]
#![no_main]

use programs::Checker;
use ulibc::prelude::*;
use ulibc::sys::{self, ChildEnd};

ulibc::entry!(main);

/// Reads everything until end of file; (bytes, sum of bytes, the first 64).
fn drain(fd: Fd) -> Result<(usize, u64, [u8; 64]), Errno> {
    let mut buf = [0u8; 4096];
    let mut head = [0u8; 64];
    let (mut total, mut sum) = (0usize, 0u64);
    loop {
        let n = sys::read(fd, &mut buf)?;
        if n == 0 {
            return Ok((total, sum, head));
        }
        for (i, &b) in buf[..n].iter().enumerate() {
            if total + i < 64 {
                head[total + i] = b;
            }
            sum += u64::from(b);
        }
        total += n;
    }
}

fn write_all(fd: Fd, mut data: &[u8]) -> Result<(), Errno> {
    while !data.is_empty() {
        let n = sys::write(fd, data)?;
        data = &data[n..];
    }
    Ok(())
}

/// Forks a child running `child` (its result is the exit status); returns its pid.
fn spawn(child: impl FnOnce() -> i32) -> Result<u32, Errno> {
    match sys::fork()? {
        0 => sys::_exit(child()),
        pid => Ok(pid),
    }
}

fn main(_args: Args) -> i32 {
    let mut c = Checker::new("pipetest");
    let Ok((r, w)) = sys::pipe() else {
        c.check("pipe", false, format_args!("failed"));
        return c.finish();
    };
    let st = sys::fstat(r);
    c.check(
        "fstat of a pipe: S_IFIFO",
        st.is_ok_and(|s| u32::from(s.st_mode) & 0xF000 == 0x1000),
        format_args!("{st:?}"),
    );
    let seek = sys::lseek(r, 0, 0);
    c.check(
        "lseek of a pipe: ESPIPE",
        seek == Err(Errno::ESPIPE),
        format_args!("{seek:?}"),
    );
    let wrong = sys::write(r, b"x");
    c.check(
        "write to the read end: EBADF",
        wrong == Err(Errno::EBADF),
        format_args!("{wrong:?}"),
    );

    // A child writes and exits; the parent reads to end of file.
    let child = spawn(|| {
        let _ = sys::close(r);
        let ok = write_all(w, b"hello through a pipe").is_ok();
        i32::from(!ok)
    });
    let _ = sys::close(w);
    let got = drain(r);
    let want = b"hello through a pipe";
    c.check(
        "child to parent, end of file when the writer is gone",
        matches!(got, Ok((n, _, head)) if n == want.len() && &head[..n] == want),
        format_args!("{:?}", got.map(|(n, s, _)| (n, s))),
    );
    let _ = sys::close(r);
    let end = child.and_then(|pid| sys::waitpid(pid as i32, 0));
    c.check(
        "the writer exited 0",
        matches!(end, Ok(Some((_, ChildEnd::Exited(0))))),
        format_args!("{end:?}"),
    );

    // 4 MiB in 64 KiB writes.
    if let Ok((r, w)) = sys::pipe() {
        let child = spawn(|| {
            let _ = sys::close(r);
            let mut block = [0u8; 65536];
            for (i, b) in block.iter_mut().enumerate() {
                *b = (i % 251) as u8;
            }
            for _ in 0..64 {
                if write_all(w, &block).is_err() {
                    return 1;
                }
            }
            0
        });
        let _ = sys::close(w);
        let want_sum: u64 = 64 * (0..65536u64).map(|i| i % 251).sum::<u64>();
        let got = drain(r);
        c.check(
            "4 MiB through a pipe, every byte in order",
            matches!(got, Ok((n, s, _)) if n == 64 * 65536 && s == want_sum),
            format_args!("{:?}", got.map(|(n, s, _)| (n, s))),
        );
        let _ = sys::close(r);
        let _ = child.and_then(|pid| sys::waitpid(pid as i32, 0));
    }

    // Ping-pong: one byte there and back, 200 times.
    if let (Ok((to_r, to_w)), Ok((back_r, back_w))) = (sys::pipe(), sys::pipe()) {
        let child = spawn(|| {
            // Its copies of the other ends go, or its read never sees the end.
            let _ = sys::close(to_w);
            let _ = sys::close(back_r);
            let mut b = [0u8; 1];
            while sys::read(to_r, &mut b) == Ok(1) {
                b[0] = b[0].wrapping_add(1);
                if sys::write(back_w, &b) != Ok(1) {
                    return 1;
                }
            }
            0
        });
        let _ = sys::close(to_r);
        let _ = sys::close(back_w);
        let mut ok = true;
        for i in 0..200u32 {
            let mut b = [i as u8];
            ok &= sys::write(to_w, &b) == Ok(1) && sys::read(back_r, &mut b) == Ok(1);
            ok &= b[0] == (i as u8).wrapping_add(1);
        }
        let _ = sys::close(to_w);
        let end = child.and_then(|pid| sys::waitpid(pid as i32, 0));
        c.check(
            "200 round trips of one byte",
            ok && matches!(end, Ok(Some((_, ChildEnd::Exited(0))))),
            format_args!("{end:?}"),
        );
        let _ = sys::close(back_r);
    }

    // dup2: the child's stdout is the pipe.
    if let Ok((r, w)) = sys::pipe() {
        let child = spawn(|| {
            if sys::dup2(w, 1).is_err() {
                return 1;
            }
            let _ = sys::close(w);
            let _ = sys::close(r);
            println!("via stdout");
            0
        });
        let _ = sys::close(w);
        let got = drain(r);
        c.check(
            "dup2 puts a child's stdout on a pipe",
            matches!(got, Ok((n, _, head)) if &head[..n] == b"via stdout\n"),
            format_args!("{:?}", got.map(|(n, _, h)| (n, h[0]))),
        );
        let _ = sys::close(r);
        let _ = child.and_then(|pid| sys::waitpid(pid as i32, 0));
    }

    // SIGPIPE: nobody reads.
    if let Ok((r, w)) = sys::pipe() {
        let _ = sys::close(r);
        let child = spawn(|| {
            let _ = sys::write(w, b"into the void");
            0
        });
        let end = child.and_then(|pid| sys::waitpid(pid as i32, 0));
        c.check(
            "a writer without reader dies of SIGPIPE",
            matches!(end, Ok(Some((_, ChildEnd::Signaled(13))))),
            format_args!("{end:?}"),
        );
        let _ = sys::close(w);
    }
    let d = sys::dup(0);
    c.check(
        "dup(0) gives the lowest free descriptor",
        d.is_ok_and(|fd| fd >= 3),
        format_args!("{d:?}"),
    );
    let bad = sys::dup2(0, 1000);
    c.check(
        "dup2 past the limit: EBADF",
        bad == Err(Errno::EBADF),
        format_args!("{bad:?}"),
    );
    c.finish()
}
