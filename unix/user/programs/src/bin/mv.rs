//! `mv FROM TO` / `mv FROM… DIR`: renames FROM to TO, or moves each FROM into
//! the directory DIR under its own name. Exit 1 if one could not be moved, 2 on
//! bad usage.

#![no_std]
#![no_main]

use ulibc::prelude::*;
use ulibc::sys;

ulibc::entry!(main);

/// `dir/` + the last component of `path`, in `out`.
fn into<'a>(dir: &[u8], path: &[u8], out: &'a mut [u8]) -> Result<&'a [u8], Errno> {
    let trimmed = path.strip_suffix(b"/").unwrap_or(path);
    let name = trimmed.rsplit(|&b| b == b'/').next().unwrap_or(trimmed);
    let len = dir.len() + 1 + name.len();
    if len > out.len() {
        return Err(Errno::ENAMETOOLONG);
    }
    out[..dir.len()].copy_from_slice(dir);
    out[dir.len()] = b'/';
    out[dir.len() + 1..len].copy_from_slice(name);
    Ok(&out[..len])
}

fn main(args: Args) -> i32 {
    let n = args.len();
    if n < 3 {
        eprintln!("usage: mv FROM TO | mv FROM… DIR");
        return 2;
    }
    let target = args.bytes(n - 1).unwrap_or(b"");
    let target_is_dir = ulibc::string::with_cstr(target, sys::stat).is_ok_and(|st| st.is_dir());
    if n > 3 && !target_is_dir {
        eprintln!("mv: {}: not a directory", Bytes(target));
        return 2;
    }
    let mut status = 0;
    for i in 1..n - 1 {
        let from = args.bytes(i).unwrap_or(b"");
        let mut buf = [0u8; 1024];
        let to = if target_is_dir {
            into(target, from, &mut buf)
        } else {
            Ok(target)
        };
        if let Err(e) = to.and_then(|to| sys::rename(from, to)) {
            eprintln!("mv: {} -> {}: {e}", Bytes(from), Bytes(target));
            status = 1;
        }
    }
    status
}
