//! `perfloop sig|pipe|fork N`: N rounds of one operation and nothing else, for
//! profiling the kernel under QEMU (docs/benchmarks.md, "Profiling"): `sig` is
//! `kill(getpid(), SIGUSR1)` with an empty handler, `pipe` one byte to a child
//! and back, `fork` fork + `_exit(0)` + `waitpid` with 1 MiB touched. Two runs
//! with different N, their executed blocks counted and subtracted, give the
//! cost of one round without the boot and the start.

#![no_std]
#![no_main]

use ulibc::prelude::*;
use ulibc::sys;

ulibc::entry!(main);

const SIGUSR1: u32 = 30;

extern "C" fn empty_handler(_sig: i32) {}

fn main(args: Args) -> i32 {
    let rounds = args
        .str(2)
        .and_then(|s| ulibc::string::parse_u64(s.as_bytes()));
    let (Some(what), Some(rounds)) = (args.str(1), rounds) else {
        eprintln!("usage: perfloop sig|pipe|fork N");
        return 2;
    };
    match what {
        "sig" => {
            let _ = sys::sigaction(SIGUSR1, sys::Action::Handler(empty_handler), 0, 0);
            let me = sys::getpid().unwrap_or(0) as i32;
            for _ in 0..rounds {
                let _ = sys::kill(me, SIGUSR1);
            }
        }
        "pipe" => {
            let (Ok((to_r, to_w)), Ok((back_r, back_w))) = (sys::pipe(), sys::pipe()) else {
                eprintln!("perfloop: pipe: {}", ulibc::errno::errno());
                return 1;
            };
            if let Ok(0) = sys::fork() {
                let _ = (sys::close(to_w), sys::close(back_r));
                let mut b = [0u8; 1];
                while sys::read(to_r, &mut b) == Ok(1) {
                    let _ = sys::write(back_w, &b);
                }
                sys::_exit(0)
            }
            let _ = (sys::close(to_r), sys::close(back_w));
            let mut b = [0u8; 1];
            for _ in 0..rounds {
                let _ = (sys::write(to_w, &b), sys::read(back_r, &mut b));
            }
        }
        "fork" => {
            let Ok(region) = sys::mmap_anon(1 << 20, 3) else {
                eprintln!("perfloop: mmap: {}", ulibc::errno::errno());
                return 1;
            };
            for page in 0..256 {
                // SAFETY: inside the 1 MiB read-write mapping just made.
                unsafe { region.add(page * 4096).write_volatile(1) };
            }
            for _ in 0..rounds {
                match sys::fork() {
                    Ok(0) => sys::_exit(0),
                    Ok(pid) => {
                        let _ = sys::waitpid(pid as i32, 0);
                    }
                    Err(e) => {
                        eprintln!("perfloop: fork: {e:?}");
                        return 1;
                    }
                }
            }
        }
        _ => {
            eprintln!("usage: perfloop sig|pipe|fork N");
            return 2;
        }
    }
    0
}
