//! The `cargo xtask` command line: parsing (pure, unit-tested) and the
//! mapping of `qemu` flags onto [`RunOptions`].

use std::path::PathBuf;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::qemu::{Firmware, RunOptions, DEFAULT_TIMEOUT, INTERACTIVE_TIMEOUT};

/// `cargo xtask help`.
pub const USAGE: &str = "\
cargo xtask — build and boot phantom-unix

USAGE:
    cargo xtask build [--quiet]
    cargo xtask qemu [OPTIONS] [-- 'MODULE [ARGS…]' …]
    cargo xtask help

build   Builds the kernel (release, x86_64-unknown-none) into
        target/x86_64-unknown-none/release/kernel.

qemu    Builds the kernel (unless --no-build), boots it in QEMU (TCG) with the
        given boot modules, streams the serial console and exits with the
        kernel's shutdown status. Each MODULE is one argument: a file path
        followed by its arguments, e.g. -- '/tmp/prog a b' ./other
        (the kernel sees the whole string, path included, as its command line).

OPTIONS (qemu):
    --append 'K=V …'   kernel command line (repeatable; joined with spaces),
                       e.g. log=debug, ktest=all, ktest=a,b, crash=ud|pf|de|gp|wx|stack
    --timeout S        kill QEMU after S seconds without a shutdown line
                       (default 120; 3600 with --gdb or at a terminal)
    --kvm              use KVM (-accel kvm -cpu host,-arch-capabilities); fails
                       if /dev/kvm is unusable. TCG is the default: see
                       docs/testing.md for why
    --icount           deterministic TSC: -icount shift=0,sleep=off (TCG only)
    --memory MIB       guest memory in MiB (default 512)
    --gdb              -s -S: QEMU waits for gdb on localhost:1234
    --no-build         do not build the kernel first
    --kernel PATH      boot this kernel image instead
    --cpu MODEL        -cpu MODEL under TCG (default: QEMU's qemu64)
    --seabios          firmware: QEMU's default (the default under TCG)
    --qboot            firmware: qboot (the default under --kvm, when installed)
    --bios PATH        use this firmware image
    --qemu-arg ARG     pass ARG to QEMU as is (repeatable)
    --quiet            do not echo the console; print only the verdict
    --no-initramfs     do not pass the root file system's initramfs (by
                       default the last module: /bin with every program)

EXIT STATUS (qemu):
    the kernel's shutdown status (0 ok, 1 ktest failed, 2 kernel exception,
    3 kernel panic, …); 121 could not start; 122 no shutdown line (kernel
    reset or crashed); 124 timeout; 125 KVM internal error; 130 QEMU
    stopped by a signal (Ctrl-C).
";

/// Parsed `cargo xtask` command.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Print [`USAGE`].
    Help,
    /// Build the kernel.
    Build {
        /// Pass `--quiet` to cargo.
        quiet: bool,
    },
    /// Boot in QEMU.
    Qemu(QemuArgs),
}

/// Flags of `cargo xtask qemu`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QemuArgs {
    /// `--kvm`.
    pub kvm: bool,
    /// `--timeout S`.
    pub timeout: Option<Duration>,
    /// `--gdb`.
    pub gdb: bool,
    /// `--append` pieces, in order.
    pub append: Vec<String>,
    /// `--icount`.
    pub icount: bool,
    /// `--memory MIB`.
    pub memory_mib: Option<u32>,
    /// `--no-build`.
    pub no_build: bool,
    /// `--kernel PATH`.
    pub kernel: Option<PathBuf>,
    /// `--cpu MODEL`.
    pub cpu: Option<String>,
    /// `--seabios` / `--bios PATH`.
    pub firmware: Option<Firmware>,
    /// `--qemu-arg ARG`s.
    pub qemu_args: Vec<String>,
    /// `--quiet`.
    pub quiet: bool,
    /// `--no-initramfs`.
    pub no_initramfs: bool,
    /// Module specs, `"path args…"` each.
    pub modules: Vec<String>,
}

fn value<'a>(flag: &str, it: &mut impl Iterator<Item = &'a String>) -> Result<&'a String> {
    it.next()
        .ok_or_else(|| Error::Usage(format!("{flag} needs a value")))
}

/// Parse the arguments after `cargo xtask`.
pub fn parse(args: &[String]) -> Result<Command> {
    let Some((cmd, rest)) = args.split_first() else {
        return Ok(Command::Help);
    };
    match cmd.as_str() {
        "help" | "-h" | "--help" => Ok(Command::Help),
        "build" => {
            let mut quiet = false;
            for a in rest {
                match a.as_str() {
                    "--quiet" | "-q" => quiet = true,
                    other => {
                        return Err(Error::Usage(format!("build: unknown argument {other:?}")))
                    }
                }
            }
            Ok(Command::Build { quiet })
        }
        "qemu" | "run" => parse_qemu(rest).map(Command::Qemu),
        other => Err(Error::Usage(format!("unknown command {other:?}"))),
    }
}

fn parse_qemu(args: &[String]) -> Result<QemuArgs> {
    let mut q = QemuArgs::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        // `--flag=value` is the same as `--flag value`.
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let mut val = |flag: &str| -> Result<String> {
            match &inline {
                Some(v) => Ok(v.clone()),
                None => value(flag, &mut it).cloned(),
            }
        };
        match flag {
            "--" => {
                q.modules.extend(it.by_ref().cloned());
            }
            "--kvm" => q.kvm = true,
            "--gdb" => q.gdb = true,
            "--icount" => q.icount = true,
            "--no-build" => q.no_build = true,
            "--quiet" | "-q" => q.quiet = true,
            "--no-initramfs" => q.no_initramfs = true,
            "--seabios" => q.firmware = Some(Firmware::SeaBios),
            "--qboot" => q.firmware = Some(Firmware::Qboot),
            "--bios" => q.firmware = Some(Firmware::Path(val(flag)?.into())),
            "--append" => q.append.push(val(flag)?),
            "--kernel" => q.kernel = Some(val(flag)?.into()),
            "--cpu" => q.cpu = Some(val(flag)?),
            "--qemu-arg" => q.qemu_args.push(val(flag)?),
            "--timeout" => {
                let v = val(flag)?;
                let secs: f64 = v
                    .parse()
                    .ok()
                    .filter(|s: &f64| s.is_finite() && *s > 0.0)
                    .ok_or_else(|| {
                        Error::Usage(format!(
                            "--timeout {v:?}: give a positive number of seconds"
                        ))
                    })?;
                q.timeout = Some(Duration::from_secs_f64(secs));
            }
            "--memory" => {
                let v = val(flag)?;
                let v = v.strip_suffix(['M', 'm']).unwrap_or(&v);
                q.memory_mib = Some(v.parse().map_err(|_| {
                    Error::Usage(format!("--memory {v:?}: give MiB as a whole number"))
                })?);
            }
            f if f.starts_with('-') => {
                return Err(Error::Usage(format!("qemu: unknown option {f:?}")));
            }
            _ => q.modules.push(arg.clone()),
        }
    }
    Ok(q)
}

impl QemuArgs {
    /// The run these flags describe. `interactive`: stdin is a terminal;
    /// `kernel`: the image to boot when `--kernel` was not given.
    pub fn run_options(&self, interactive: bool, kernel: PathBuf) -> RunOptions {
        let timeout = self.timeout.unwrap_or(if self.gdb || interactive {
            INTERACTIVE_TIMEOUT
        } else {
            DEFAULT_TIMEOUT
        });
        let mut o = RunOptions {
            kernel: self.kernel.clone().unwrap_or(kernel),
            modules: self.modules.clone(),
            append: self.append.join(" "),
            kvm: self.kvm,
            timeout,
            icount: self.icount,
            echo: !self.quiet,
            interactive,
            gdb: self.gdb,
            cpu: self.cpu.clone(),
            extra_args: self.qemu_args.clone(),
            initramfs: (!self.no_initramfs).then(crate::image::initramfs_path),
            ..RunOptions::default()
        };
        if let Some(m) = self.memory_mib {
            o.memory_mib = m;
        }
        if let Some(f) = &self.firmware {
            o.firmware = f.clone();
        }
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    fn qemu(s: &[&str]) -> QemuArgs {
        match parse(&args(s)).unwrap() {
            Command::Qemu(q) => q,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn commands() {
        assert_eq!(parse(&[]).unwrap(), Command::Help);
        assert_eq!(parse(&args(&["help"])).unwrap(), Command::Help);
        assert_eq!(
            parse(&args(&["build"])).unwrap(),
            Command::Build { quiet: false }
        );
        assert_eq!(
            parse(&args(&["build", "--quiet"])).unwrap(),
            Command::Build { quiet: true }
        );
        assert!(parse(&args(&["build", "x"])).is_err());
        assert!(parse(&args(&["frobnicate"])).is_err());
        assert_eq!(qemu(&["run"]), QemuArgs::default());
    }

    #[test]
    fn qemu_flags() {
        let q = qemu(&[
            "qemu",
            "--kvm",
            "--timeout",
            "7.5",
            "--gdb",
            "--append",
            "log=debug",
            "--append=ktest=all",
            "--icount",
            "--memory",
            "256M",
            "--no-build",
            "--kernel",
            "/k",
            "--cpu",
            "max",
            "--qemu-arg",
            "-d",
            "--quiet",
            "--seabios",
        ]);
        assert!(q.kvm && q.gdb && q.icount && q.no_build && q.quiet);
        assert_eq!(q.timeout, Some(Duration::from_millis(7500)));
        assert_eq!(q.append, ["log=debug", "ktest=all"]);
        assert_eq!(q.memory_mib, Some(256));
        assert_eq!(q.kernel, Some(PathBuf::from("/k")));
        assert_eq!(q.cpu.as_deref(), Some("max"));
        assert_eq!(q.qemu_args, ["-d"]);
        assert_eq!(q.firmware, Some(Firmware::SeaBios));
        assert_eq!(qemu(&["qemu", "--qboot"]).firmware, Some(Firmware::Qboot));
        let q = qemu(&["qemu", "--bios", "/q.rom"]);
        assert_eq!(q.firmware, Some(Firmware::Path("/q.rom".into())));
    }

    #[test]
    fn modules_after_double_dash_and_positional() {
        let q = qemu(&["qemu", "/a x", "--kvm", "--", "/b y,z", "--not-a-flag"]);
        assert_eq!(q.modules, ["/a x", "/b y,z", "--not-a-flag"]);
        assert!(q.kvm);
    }

    #[test]
    fn bad_values_are_usage_errors() {
        for bad in [
            &["qemu", "--timeout"][..],
            &["qemu", "--timeout", "0"],
            &["qemu", "--timeout", "-3"],
            &["qemu", "--timeout", "soon"],
            &["qemu", "--memory", "lots"],
            &["qemu", "--frob"],
            &["qemu", "--append"],
        ] {
            let err = parse(&args(bad)).unwrap_err();
            assert!(matches!(err, Error::Usage(_)), "{bad:?}: {err}");
        }
    }

    #[test]
    fn run_options_defaults_and_timeouts() {
        let q = qemu(&["qemu", "--append", "a=1", "--append", "b=2", "--", "/m"]);
        let o = q.run_options(false, "/default/kernel".into());
        assert_eq!(o.kernel, PathBuf::from("/default/kernel"));
        assert_eq!(o.append, "a=1 b=2");
        assert_eq!(o.modules, ["/m"]);
        assert_eq!(o.timeout, DEFAULT_TIMEOUT);
        assert!(o.echo && !o.interactive && !o.kvm);
        assert_eq!(o.memory_mib, 512);
        assert_eq!(o.firmware, Firmware::Auto);
        // A person at a terminal or a debugger: a long timeout, still finite.
        assert_eq!(
            q.run_options(true, "/k".into()).timeout,
            INTERACTIVE_TIMEOUT
        );
        let g = qemu(&["qemu", "--gdb"]);
        assert_eq!(
            g.run_options(false, "/k".into()).timeout,
            INTERACTIVE_TIMEOUT
        );
        // An explicit timeout always wins.
        let t = qemu(&["qemu", "--gdb", "--timeout", "3"]);
        assert_eq!(
            t.run_options(true, "/k".into()).timeout,
            Duration::from_secs(3)
        );
        let k = qemu(&["qemu", "--kernel", "/mine", "--quiet"]);
        let o = k.run_options(false, "/k".into());
        assert_eq!(o.kernel, PathBuf::from("/mine"));
        assert!(!o.echo);
    }
}
