//! `init`: the first process. It prints a banner (the system's `uname` and
//! its pid), lists `/boot` with `getdents` (name, type, size), and exits 0
//! (starting the shell needs fork and exec, which are not there yet).

#![no_std]
#![no_main]

use ulibc::fs::read_dir;
use ulibc::prelude::*;
use ulibc::string::format_array;
use ulibc::sys;
use ulibc::types::field_bytes;

ulibc::entry!(main);

fn kind(d: u8) -> &'static str {
    match d {
        DT_REG => "file",
        DT_DIR => "dir",
        DT_CHR => "chr",
        _ => "?",
    }
}

fn main(_args: Args) -> i32 {
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
    let dir = match read_dir(c"/boot") {
        Ok(d) => d,
        Err(e) => {
            eprintln!("init: /boot: {e}");
            return 1;
        }
    };
    println!("init: /boot:");
    let mut status = 0;
    let mut count = 0;
    for entry in dir {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                eprintln!("init: reading /boot: {e}");
                status = 1;
                break;
            }
        };
        if entry.name() == b"." || entry.name() == b".." {
            continue;
        }
        count += 1;
        let path = format_array::<300>(format_args!("/boot/{}", Bytes(entry.name())));
        let size = ulibc::string::with_cstr(path.as_bytes(), sys::stat);
        match size {
            Ok(st) => println!(
                "  {:<24} {:<4} {:>9} bytes",
                Bytes(entry.name()),
                kind(entry.kind),
                st.st_size
            ),
            Err(e) => println!(
                "  {:<24} {:<4} (stat: {e})",
                Bytes(entry.name()),
                kind(entry.kind)
            ),
        }
    }
    println!("init: {count} entries; done");
    status
}
