//! `rm [-f] [-r] PATH…`: removes each file; `-r` removes directories with all
//! they hold; `-f` is silent about paths that do not exist. Exit 1 if one could
//! not be removed, 2 on bad usage.

#![no_std]
#![no_main]

use ulibc::fs::read_dir;
use ulibc::prelude::*;
use ulibc::sys;

ulibc::entry!(main);

/// Deepest directory nesting `-r` follows.
const MAX_DEPTH: usize = 32;

/// Removes `path`: a file, or with `recursive` a directory and its contents.
fn remove(path: &[u8], recursive: bool, depth: usize) -> Result<(), Errno> {
    match sys::unlink(path) {
        Err(Errno::EISDIR) if recursive => {}
        other => return other,
    }
    if depth >= MAX_DEPTH {
        return Err(Errno::ENAMETOOLONG);
    }
    // Remove the entries one listing at a time (the listing changes as they go).
    loop {
        let mut child = [0u8; 512];
        let mut found = None;
        let dir = ulibc::string::with_cstr(path, read_dir)?;
        for entry in dir {
            let entry = entry?;
            let name = entry.name();
            if name == b"." || name == b".." {
                continue;
            }
            let len = path.len() + 1 + name.len();
            if len > child.len() {
                return Err(Errno::ENAMETOOLONG);
            }
            child[..path.len()].copy_from_slice(path);
            child[path.len()] = b'/';
            child[path.len() + 1..len].copy_from_slice(name);
            found = Some(len);
            break;
        }
        match found {
            Some(len) => remove(&child[..len], true, depth + 1)?,
            None => break,
        }
    }
    sys::rmdir(path)
}

fn main(args: Args) -> i32 {
    let (mut force, mut recursive) = (false, false);
    let mut status = 0;
    let mut any = false;
    for a in args.iter().skip(1) {
        let a = a.to_bytes();
        if !any && a.len() > 1 && a[0] == b'-' && a[1..].iter().all(|c| b"fr".contains(c)) {
            force |= a.contains(&b'f');
            recursive |= a.contains(&b'r');
            continue;
        }
        any = true;
        match remove(a, recursive, 0) {
            Ok(()) => {}
            Err(Errno::ENOENT) if force => {}
            Err(e) => {
                eprintln!("rm: {}: {e}", Bytes(a));
                status = 1;
            }
        }
    }
    if !any && !force {
        eprintln!("usage: rm [-f] [-r] PATH…");
        return 2;
    }
    status
}
