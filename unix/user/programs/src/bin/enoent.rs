//! `enoent`: opening or `stat`ing missing paths fails with `ENOENT`:
//! `/no/such/file`, `/boot/no-such-module`, `/dev/no-such-device`,
//! `/tmp/missing` (also `stat`), and `O_CREAT` inside a missing directory
//! (`/tmp/no-such-dir/x`). Ends with `{"test":"enoent",…}`; exit 0 if all
//! passed, else 1.

#![no_std]
#![no_main]

use programs::Checker;
use ulibc::prelude::*;
use ulibc::sys;

ulibc::entry!(main);

fn main(_args: Args) -> i32 {
    let mut c = Checker::new("enoent");
    for path in [
        c"/no/such/file",
        c"/boot/no-such-module",
        c"/dev/no-such-device",
        c"/tmp/missing",
    ] {
        let what =
            ulibc::string::format_array::<64>(format_args!("open {}", Bytes(path.to_bytes())));
        c.expect_err(what.as_str(), sys::open(path, O_RDONLY, 0), Errno::ENOENT);
    }
    c.expect_err(
        "stat /tmp/missing",
        sys::stat(c"/tmp/missing"),
        Errno::ENOENT,
    );
    c.expect_err(
        "stat /no/such/file",
        sys::stat(c"/no/such/file"),
        Errno::ENOENT,
    );
    c.expect_err(
        "open /tmp/no-such-dir/x with O_CREAT",
        sys::open(c"/tmp/no-such-dir/x", O_CREAT | O_WRONLY, 0o644),
        Errno::ENOENT,
    );
    c.finish()
}
