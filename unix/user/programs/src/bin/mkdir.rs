//! `mkdir [-p] DIR…`: makes each DIR (mode 0777 less the umask); `-p` makes the
//! missing parents too and accepts a DIR that exists. Exit 1 if one could not
//! be made, 2 on bad usage.

#![no_std]
#![no_main]

use ulibc::prelude::*;
use ulibc::sys;

ulibc::entry!(main);

/// Makes `dir`, and with `parents` every missing directory on its way.
fn make(dir: &[u8], parents: bool) -> Result<(), Errno> {
    if !parents {
        return sys::mkdir(dir, 0o777);
    }
    // Each prefix ending before a `/` (and the whole path), in order.
    let ends = dir
        .iter()
        .enumerate()
        .filter(|&(i, &b)| b == b'/' && i > 0)
        .map(|(i, _)| i)
        .chain(core::iter::once(dir.len()));
    for end in ends {
        match sys::mkdir(&dir[..end], 0o777) {
            Ok(()) | Err(Errno::EEXIST) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn main(args: Args) -> i32 {
    let mut parents = false;
    let mut status = 0;
    let mut any = false;
    for a in args.iter().skip(1) {
        let a = a.to_bytes();
        if a == b"-p" && !any {
            parents = true;
            continue;
        }
        any = true;
        if let Err(e) = make(a, parents) {
            eprintln!("mkdir: {}: {e}", Bytes(a));
            status = 1;
        }
    }
    if !any {
        eprintln!("usage: mkdir [-p] DIR…");
        return 2;
    }
    status
}
