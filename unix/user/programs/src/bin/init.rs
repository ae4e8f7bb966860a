//! `init`: the first process of the root file system (`init=/bin/init` on the
//! kernel command line). It prints a banner (the system's `uname` and its
//! pid) and `/etc/motd`, runs the shell `/bin/sh` on the console (with init's
//! own arguments, so `init FILE` runs a script), reaps every orphan that
//! comes to it meanwhile, and exits 0 when the shell has ended (the kernel
//! then shuts down); a shell killed by a signal is reported and gives status
//! 1.

#![no_std]
#![no_main]

use ulibc::prelude::*;
use ulibc::sys::{self, ChildEnd};
use ulibc::types::field_bytes;

ulibc::entry!(main);

fn main(args: Args) -> i32 {
    let pid = sys::getpid().unwrap_or(0);
    match sys::uname() {
        Ok(u) => println!(
            "init: {} {} {} ({}) — pid {}",
            Bytes(field_bytes(&u.sysname)),
            Bytes(field_bytes(&u.release)),
            Bytes(field_bytes(&u.version)),
            Bytes(field_bytes(&u.machine)),
            pid
        ),
        Err(e) => println!("init: phantom-unix — pid {pid} (uname: {e})"),
    }
    if let Ok(motd) = File::open_read(c"/etc/motd") {
        let mut buf = [0u8; 1024];
        while let Ok(n @ 1..) = motd.read(&mut buf) {
            print!("{}", Bytes(&buf[..n]));
        }
    }
    let mut argv: [&[u8]; 16] = [b"sh"; 16];
    let mut argc = 1;
    for a in args.iter().skip(1).take(15) {
        argv[argc] = a.to_bytes();
        argc += 1;
    }
    let shell = match sys::fork() {
        Ok(0) => {
            // As login does: the shell starts in its home directory.
            let _ = sys::chdir(b"/tmp");
            let e = sys::execve(b"/bin/sh", &argv[..argc], &[b"PATH=/bin", b"HOME=/tmp"]);
            eprintln!("init: cannot run /bin/sh: {e}");
            sys::_exit(127)
        }
        Ok(child) => child,
        Err(e) => {
            eprintln!("init: fork: {e}");
            return 1;
        }
    };
    let mut status = 0;
    loop {
        match sys::waitpid(-1, 0) {
            Ok(Some((child, end))) if child == shell => match end {
                ChildEnd::Exited(_) => println!("init: the shell ended; shutting down"),
                ChildEnd::Signaled(signal) => {
                    eprintln!("init: the shell was killed by signal {signal}");
                    status = 1;
                }
            },
            Ok(_) => {}
            Err(_) => return status,
        }
    }
}
