//! `cargo xtask`: see [`xtask::cli::USAGE`].

use std::io::IsTerminal;
use std::process::ExitCode;

use xtask::cli::{self, Command};
use xtask::{Error, Verdict, EXIT_HARNESS};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = match cli::parse(&args) {
        Ok(Command::Help) => {
            print!("{}", cli::USAGE);
            0
        }
        Ok(Command::Build { quiet }) => match xtask::build(quiet) {
            Ok(path) => {
                if !quiet {
                    eprintln!("xtask: kernel image: {}", path.display());
                }
                0
            }
            Err(e) => fail(&e),
        },
        Ok(Command::Qemu(q)) => qemu(&q),
        Err(e) => fail(&e),
    };
    ExitCode::from(u8::try_from(code & 0xff).unwrap_or(1))
}

fn fail(e: &Error) -> i32 {
    eprintln!("xtask: error: {e}");
    match e {
        Error::Usage(_) => 2,
        _ => EXIT_HARNESS,
    }
}

fn qemu(q: &cli::QemuArgs) -> i32 {
    let kernel = if q.no_build || q.kernel.is_some() {
        xtask::kernel_path()
    } else {
        match xtask::build(true) {
            Ok(path) => path,
            Err(e) => return fail(&e),
        }
    };
    // Pass the keyboard through only when a person is there and watching.
    let interactive = std::io::stdin().is_terminal() && !q.quiet;
    let opts = q.run_options(interactive, kernel);
    if opts.gdb {
        eprintln!(
            "xtask: QEMU waits for gdb: gdb {} -ex 'target remote :1234'",
            opts.kernel.display()
        );
    }
    let outcome = match xtask::run(&opts) {
        Ok(o) => o,
        Err(e) => return fail(&e),
    };
    let verdict = outcome.verdict();
    match verdict {
        Verdict::Shutdown(_) => {
            if !outcome.exit_consistent() {
                eprintln!(
                    "xtask: warning: QEMU exit code {:?} does not match the shutdown line \
                     (expected (status << 1) | 1)",
                    outcome.qemu_exit
                );
            }
        }
        Verdict::TimedOut => {
            // The tail even when the console was echoed: it may be far above.
            eprint!("--- last 40 serial lines ---\n{}", outcome.tail(40));
        }
        Verdict::Interrupted => {}
        Verdict::NoShutdown | Verdict::KvmError => {
            if q.quiet {
                eprint!("{}", outcome.report());
            }
        }
    }
    match verdict {
        Verdict::TimedOut => eprintln!(
            "xtask: timed out after {:.0?} without a shutdown line; QEMU was killed \
             (raise it with --timeout S)",
            opts.timeout
        ),
        _ => eprintln!("xtask: {verdict}"),
    }
    verdict.exit_code()
}
