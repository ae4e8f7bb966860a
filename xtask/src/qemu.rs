//! Booting the kernel in QEMU and watching its serial console.
//!
//! [`run`] starts `qemu-system-x86_64` with the kernel, the boot modules and
//! the kernel command line, streams the serial console live (when asked)
//! while capturing it, and ends in one of four ways (see [`Verdict`]): the
//! kernel's shutdown line, a timeout (QEMU is killed), a "KVM internal error"
//! (QEMU pauses on it; it is killed at once), or QEMU ending without a
//! shutdown line. It never waits on anything without a deadline.
//!
//! [`Verdict`]: crate::Verdict

use std::ffi::{OsStr, OsString};
use std::fs::OpenOptions;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::image;
use crate::modules::{initrd_arg, ModuleResolver};
use crate::outcome::RunOutcome;
use crate::serial::{self, SerialParser};

/// The QEMU binary looked up on `PATH`.
pub const QEMU: &str = "qemu-system-x86_64";
/// The fast firmware shipped with Debian's QEMU; used under KVM when present.
pub const QBOOT: &str = "/usr/share/qemu/qboot.rom";
/// What QEMU prints (and then pauses) when KVM cannot go on.
pub const KVM_ERROR_MARKER: &str = "KVM internal error";
/// Default timeout of one run.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);
/// Default timeout when a person is at the keyboard or a debugger attached.
pub const INTERACTIVE_TIMEOUT: Duration = Duration::from_secs(3600);
/// Default guest memory.
pub const DEFAULT_MEMORY_MIB: u32 = 512;
/// How long QEMU may take to exit after the kernel printed its shutdown line.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// How long a killed QEMU gets to close its pipes before we stop reading.
const DRAIN_GRACE: Duration = Duration::from_secs(5);

/// Which firmware QEMU starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Firmware {
    /// Under KVM qboot when [`QBOOT`] exists (SeaBIOS takes ~3.5 s to reach
    /// the kernel there); under TCG SeaBIOS, as fast there. (qboot leaves
    /// the local APIC's virtual wire to the kernel, which sets it itself.)
    Auto,
    /// QEMU's default firmware (SeaBIOS).
    SeaBios,
    /// qboot ([`QBOOT`]), the minimal fast firmware.
    Qboot,
    /// This firmware image (`-bios PATH`).
    Path(PathBuf),
}

/// Everything one boot needs.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The kernel ELF (Multiboot 1 with address fields).
    pub kernel: PathBuf,
    /// Boot modules, `"path arg1 arg2"` each (see [`crate::modules`]).
    pub modules: Vec<String>,
    /// Resolves module names to files (the hook for program names).
    pub resolver: ModuleResolver,
    /// The kernel command line (`log=debug ktest=all …`).
    pub append: String,
    /// Use KVM (`-accel kvm -cpu host,-arch-capabilities`) instead of TCG.
    pub kvm: bool,
    /// Kill QEMU after this long without a shutdown line.
    pub timeout: Duration,
    /// Deterministic TSC: `-icount shift=0,sleep=off` (TCG only).
    pub icount: bool,
    /// Guest memory in MiB.
    pub memory_mib: u32,
    /// Copy the serial console (and QEMU's stderr) to ours, live.
    pub echo: bool,
    /// Pass our stdin (a terminal) to the serial port. When false QEMU's
    /// stdin is `/dev/null` (or `input`), so a run never blocks on input.
    pub interactive: bool,
    /// Bytes typed on the serial console (when not interactive), then end of
    /// input. QEMU hands them to the guest's UART as it accepts them.
    pub input: Vec<u8>,
    /// More bytes to type, each once the console has shown its text (in
    /// order: the second waits for the first): e.g. a Ctrl-C once a program
    /// says it runs.
    pub input_when: Vec<(String, Vec<u8>)>,
    /// Wait for gdb: `-s -S` (gdb on localhost:1234, CPU halted at start).
    pub gdb: bool,
    /// `-cpu MODEL` (TCG only; KVM always uses `host,-arch-capabilities`).
    pub cpu: Option<String>,
    /// Which firmware to start.
    pub firmware: Firmware,
    /// The QEMU binary.
    pub qemu: PathBuf,
    /// More QEMU arguments, appended last (disks, tracing, …).
    pub extra_args: Vec<String>,
    /// The root file system's initramfs (a `newc` cpio archive), passed as the
    /// last module; `None`: no root file system beyond the kernel's own.
    pub initramfs: Option<PathBuf>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            kernel: image::kernel_path(),
            modules: Vec::new(),
            resolver: ModuleResolver::default(),
            append: String::new(),
            kvm: false,
            timeout: DEFAULT_TIMEOUT,
            icount: false,
            memory_mib: DEFAULT_MEMORY_MIB,
            echo: false,
            interactive: false,
            input: Vec::new(),
            input_when: Vec::new(),
            gdb: false,
            cpu: None,
            firmware: Firmware::Auto,
            qemu: PathBuf::from(QEMU),
            extra_args: Vec::new(),
            initramfs: None,
        }
    }
}

impl RunOptions {
    /// The firmware path to pass with `-bios`, if any.
    pub fn bios(&self) -> Option<PathBuf> {
        match &self.firmware {
            Firmware::Auto if self.kvm => Some(PathBuf::from(QBOOT)).filter(|p| p.is_file()),
            Firmware::Auto => None,
            Firmware::Qboot => Some(PathBuf::from(QBOOT)),
            Firmware::SeaBios => None,
            Firmware::Path(p) => Some(p.clone()),
        }
    }
}

/// The QEMU command line (without the binary) for these options, the
/// `-initrd` value already built and the firmware already chosen.
pub fn qemu_args(opts: &RunOptions, initrd: Option<&str>, bios: Option<&Path>) -> Vec<OsString> {
    fn os(s: impl AsRef<OsStr>) -> OsString {
        s.as_ref().to_owned()
    }
    let mut a = vec![os("-kernel"), os(&opts.kernel)];
    if let Some(initrd) = initrd {
        a.extend([os("-initrd"), os(initrd)]);
    }
    if !opts.append.is_empty() {
        a.extend([os("-append"), os(&opts.append)]);
    }
    a.extend(
        [
            "-display",
            "none",
            "-serial",
            "stdio",
            "-no-reboot",
            "-device",
            "isa-debug-exit,iobase=0xf4,iosize=0x04",
            "-m",
        ]
        .map(os),
    );
    a.push(os(format!("{}M", opts.memory_mib)));
    if opts.kvm {
        a.extend(["-accel", "kvm", "-cpu", "host,-arch-capabilities"].map(os));
    } else {
        a.extend(["-accel", "tcg"].map(os));
        if let Some(cpu) = &opts.cpu {
            a.extend([os("-cpu"), os(cpu)]);
        }
    }
    if opts.icount {
        a.extend(["-icount", "shift=0,sleep=off"].map(os));
    }
    if opts.gdb {
        a.extend(["-s", "-S"].map(os));
    }
    if let Some(bios) = bios {
        a.extend([os("-bios"), os(bios)]);
    }
    a.extend(opts.extra_args.iter().map(os));
    a
}

/// Can this process use `/dev/kvm`? `Err` says why not.
pub fn kvm_usable() -> std::result::Result<(), String> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
        .map(drop)
        .map_err(|e| format!("/dev/kvm cannot be opened ({e})"))
}

/// What QEMU prints when a signal (SIGINT, SIGTERM, SIGHUP) stops it.
pub const SIGNAL_MARKER: &str = "terminating on signal";

/// Is `text` QEMU's report of a KVM failure?
pub fn is_kvm_error(text: &str) -> bool {
    text.contains(KVM_ERROR_MARKER)
}

/// Find `program` on `PATH` (or check it, when it is a path).
pub fn find_program(program: &Path) -> Option<PathBuf> {
    if program.components().count() > 1 {
        return program.is_file().then(|| program.to_path_buf());
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|p| p.is_file())
    })
}

/// Check the options before starting anything.
fn validate(opts: &RunOptions) -> Result<()> {
    if opts.kvm && opts.icount {
        return Err(Error::Usage(
            "--icount needs TCG (it counts emulated instructions); drop --kvm".into(),
        ));
    }
    if opts.memory_mib < 16 {
        return Err(Error::Usage(format!(
            "--memory {} MiB is too small (at least 16)",
            opts.memory_mib
        )));
    }
    if opts.timeout.is_zero() {
        return Err(Error::Usage("--timeout must be positive".into()));
    }
    Ok(())
}

enum Msg {
    Out(Vec<u8>),
    Err(Vec<u8>),
    OutEof,
    ErrEof,
}

fn spawn_reader<R: Read + Send + 'static>(
    mut src: R,
    tx: mpsc::Sender<Msg>,
    is_err: bool,
    echo: bool,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let mut buf = [0u8; 4096];
        loop {
            match src.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let chunk = &buf[..n];
                    if echo {
                        // Echo failures (closed terminal) must not stop capture.
                        if is_err {
                            let mut e = io::stderr().lock();
                            let _ = e.write_all(chunk).and_then(|_| e.flush());
                        } else {
                            let mut o = io::stdout().lock();
                            let _ = o.write_all(chunk).and_then(|_| o.flush());
                        }
                    }
                    let msg = if is_err {
                        Msg::Err(chunk.to_vec())
                    } else {
                        Msg::Out(chunk.to_vec())
                    };
                    if tx.send(msg).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = tx.send(if is_err { Msg::ErrEof } else { Msg::OutEof });
    })
}

/// Stop QEMU: SIGTERM first (so it restores the terminal), SIGKILL after 2 s.
fn stop(child: &mut Child) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    if let Ok(pid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: kill(2) on the pid of our own child, which has not been
        // reaped yet (try_wait above saw it running), so the pid is still ours.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
    }
    let until = Instant::now() + Duration::from_secs(2);
    while Instant::now() < until {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
}

/// While alive, Ctrl-C does not kill the xtask (interactive runs): QEMU gets
/// the SIGINT, exits and restores the terminal, and the xtask reports.
struct IgnoreSigint {
    previous: libc::sighandler_t,
}

impl IgnoreSigint {
    fn new() -> Self {
        // SAFETY: signal(2) with SIG_IGN installs no handler code of ours.
        let previous = unsafe { libc::signal(libc::SIGINT, libc::SIG_IGN) };
        IgnoreSigint { previous }
    }
}

impl Drop for IgnoreSigint {
    fn drop(&mut self) {
        // SAFETY: restores the disposition signal(2) returned in `new`.
        unsafe {
            libc::signal(libc::SIGINT, self.previous);
        }
    }
}

/// Boot the kernel once and report what happened.
///
/// `Err` means the run could not start (no QEMU, no kernel, bad module, KVM
/// unusable). Everything that happens after QEMU started, including a
/// timeout, is an `Ok` [`RunOutcome`]: look at its [`RunOutcome::verdict`].
pub fn run(opts: &RunOptions) -> Result<RunOutcome> {
    validate(opts)?;
    let qemu = find_program(&opts.qemu).ok_or_else(|| Error::QemuNotFound(opts.qemu.clone()))?;
    if !opts.kernel.is_file() {
        return Err(Error::KernelNotFound(opts.kernel.clone()));
    }
    if opts.kvm {
        kvm_usable().map_err(|why| {
            Error::Kvm(format!(
                "{why}; run without --kvm (TCG, the default), or fix access to /dev/kvm"
            ))
        })?;
    }
    let mut modules = opts.resolver.resolve_all(&opts.modules)?;
    if let Some(archive) = &opts.initramfs {
        modules.push(ModuleResolver { programs_dir: None }.resolve(
            archive.to_str().ok_or_else(|| {
                Error::Module(format!("path {} is not valid UTF-8", archive.display()))
            })?,
        )?);
    }
    let initrd = initrd_arg(&modules);
    let bios = opts.bios();
    // The boot's nonce: the kernel ends each of its machine lines with it, and
    // only lines carrying it count as the kernel's (a program cannot forge them).
    let mut opts = opts.clone();
    let nonce = match serial::nonce_in(&opts.append) {
        Some(n) => n.to_string(),
        None => {
            let n = serial::fresh_nonce();
            if !opts.append.is_empty() {
                opts.append.push(' ');
            }
            opts.append.push_str(&format!("nonce={n}"));
            n
        }
    };
    let opts = &opts;
    let args = qemu_args(opts, initrd.as_deref(), bios.as_deref());

    let mut cmd = Command::new(&qemu);
    cmd.args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(if opts.interactive {
            Stdio::inherit()
        } else if !opts.input.is_empty() || !opts.input_when.is_empty() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
    let started = Instant::now();
    let mut child = cmd.spawn().map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => Error::QemuNotFound(qemu.clone()),
        _ => Error::Io(format!("starting {}", qemu.display()), e),
    })?;

    // What to type: the input at once, then each triggered piece; a thread,
    // so a guest that never reads cannot block the runner. The pipe closes
    // (end of input) when everything was typed.
    let (typing, to_type) = mpsc::channel::<Vec<u8>>();
    if let Some(mut stdin) = child.stdin.take() {
        thread::spawn(move || {
            for bytes in to_type {
                if stdin
                    .write_all(&bytes)
                    .and_then(|()| stdin.flush())
                    .is_err()
                {
                    break;
                }
            }
        });
    }
    let _ = typing.send(opts.input.clone());
    let mut pending_input = opts.input_when.clone().into_iter();
    let mut next_input = pending_input.next();
    let mut typing = (next_input.is_some()).then_some(typing);
    let mut console_text = String::new();

    // Set after the spawn, so QEMU keeps the default SIGINT disposition.
    let _sigint = opts.interactive.then(IgnoreSigint::new);

    let (tx, rx) = mpsc::channel();
    let out = child.stdout.take().expect("stdout is piped");
    let err = child.stderr.take().expect("stderr is piped");
    let readers = [
        spawn_reader(out, tx.clone(), false, opts.echo),
        spawn_reader(err, tx, true, opts.echo),
    ];

    let mut parser = SerialParser::default();
    let mut stderr_buf: Vec<u8> = Vec::new();
    let mut status: Option<i32> = None;
    let mut timed_out = false;
    let mut kvm_error = false;
    let mut eofs = 0;
    let mut deadline = started + opts.timeout;
    let mut killed = false;

    while eofs < 2 {
        let now = Instant::now();
        if now >= deadline {
            if killed {
                break; // pipes still open long after the kill: stop reading
            }
            if status.is_none() {
                timed_out = true;
            }
            stop(&mut child);
            killed = true;
            deadline = Instant::now() + DRAIN_GRACE;
            continue;
        }
        match rx.recv_timeout(deadline - now) {
            Ok(Msg::Out(chunk)) => {
                if let Some((text, bytes)) = &next_input {
                    console_text.push_str(&String::from_utf8_lossy(&chunk));
                    if console_text.contains(text.as_str()) {
                        if let Some(t) = &typing {
                            let _ = t.send(bytes.clone());
                        }
                        console_text.clear();
                        next_input = pending_input.next();
                        if next_input.is_none() {
                            typing = None;
                        }
                    } else if console_text.len() > 1 << 16 {
                        let cut = console_text.len() - text.len();
                        let cut = (cut..console_text.len())
                            .find(|&i| console_text.is_char_boundary(i))
                            .unwrap_or(0);
                        console_text.drain(..cut);
                    }
                }
                for v in parser.feed(&chunk) {
                    if let Some(s) = serial::shutdown_status(&v, Some(&nonce)) {
                        status = Some(s as i32);
                        deadline = deadline.min(Instant::now() + SHUTDOWN_GRACE);
                    }
                }
                if opts.kvm && !kvm_error && is_kvm_error(&String::from_utf8_lossy(&chunk)) {
                    kvm_error = true;
                }
            }
            Ok(Msg::Err(chunk)) => {
                stderr_buf.extend_from_slice(&chunk);
                if opts.kvm && !kvm_error && is_kvm_error(&String::from_utf8_lossy(&stderr_buf)) {
                    kvm_error = true;
                }
            }
            Ok(Msg::OutEof) | Ok(Msg::ErrEof) => eofs += 1,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        if kvm_error && !killed {
            // QEMU pauses after this error instead of exiting: stop it now,
            // but keep reading what is left in the pipes.
            stop(&mut child);
            killed = true;
            deadline = Instant::now() + DRAIN_GRACE;
        }
    }
    for v in parser.finish() {
        if let Some(s) = serial::shutdown_status(&v, Some(&nonce)) {
            status = Some(s as i32);
        }
    }
    if !killed {
        // Pipes closed: QEMU is exiting. Give it a bounded time to do so.
        let until = Instant::now() + SHUTDOWN_GRACE;
        loop {
            match child.try_wait() {
                Ok(Some(_)) => break,
                _ if Instant::now() >= until => {
                    stop(&mut child);
                    killed = true;
                    break;
                }
                _ => thread::sleep(Duration::from_millis(10)),
            }
        }
    }
    let exit = child
        .wait()
        .map_err(|e| Error::Io("waiting for QEMU".into(), e))?;
    let elapsed = started.elapsed();
    if eofs == 2 {
        for r in readers {
            let _ = r.join();
        }
    }
    let qemu_stderr = String::from_utf8_lossy(&stderr_buf).into_owned();
    let interrupted = !killed && (exit.code().is_none() || qemu_stderr.contains(SIGNAL_MARKER));
    Ok(RunOutcome {
        status,
        qemu_exit: exit.code(),
        timed_out,
        kvm_error,
        interrupted,
        serial: parser.text(),
        qemu_stderr,
        json: parser.json,
        malformed: parser.malformed,
        accel: if opts.kvm { "kvm" } else { "tcg" }.into(),
        elapsed,
        nonce: Some(nonce),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(a: &[OsString]) -> Vec<String> {
        a.iter().map(|s| s.to_string_lossy().into_owned()).collect()
    }

    fn opts() -> RunOptions {
        RunOptions {
            kernel: PathBuf::from("/k/kernel"),
            ..RunOptions::default()
        }
    }

    #[test]
    fn default_tcg_command_line() {
        let a = strings(&qemu_args(&opts(), None, None));
        assert_eq!(
            a,
            [
                "-kernel",
                "/k/kernel",
                "-display",
                "none",
                "-serial",
                "stdio",
                "-no-reboot",
                "-device",
                "isa-debug-exit,iobase=0xf4,iosize=0x04",
                "-m",
                "512M",
                "-accel",
                "tcg"
            ]
        );
    }

    #[test]
    fn all_the_options() {
        let o = RunOptions {
            append: "log=debug ktest=all".into(),
            icount: true,
            gdb: true,
            memory_mib: 128,
            cpu: Some("max".into()),
            extra_args: vec!["-d".into(), "int".into()],
            ..opts()
        };
        let a = strings(&qemu_args(&o, Some("/m1 a,/m2"), Some(Path::new("/q.rom"))));
        let joined = a.join(" ");
        assert!(
            joined.contains("-initrd /m1 a,/m2 -append log=debug ktest=all"),
            "{joined}"
        );
        assert!(joined.contains("-m 128M -accel tcg -cpu max -icount shift=0,sleep=off -s -S"));
        assert!(joined.ends_with("-bios /q.rom -d int"), "{joined}");
        assert!(!joined.contains("kvm"));
    }

    #[test]
    fn kvm_command_line() {
        let o = RunOptions {
            kvm: true,
            cpu: Some("ignored".into()),
            ..opts()
        };
        let joined = strings(&qemu_args(&o, None, None)).join(" ");
        assert!(
            joined.contains("-accel kvm -cpu host,-arch-capabilities"),
            "{joined}"
        );
        assert!(!joined.contains("tcg") && !joined.contains("ignored"));
    }

    #[test]
    fn bad_option_combinations_are_refused() {
        let o = RunOptions {
            kvm: true,
            icount: true,
            ..opts()
        };
        assert!(matches!(validate(&o), Err(Error::Usage(_))));
        let o = RunOptions {
            timeout: Duration::ZERO,
            ..opts()
        };
        assert!(validate(&o).is_err());
        let o = RunOptions {
            memory_mib: 1,
            ..opts()
        };
        assert!(validate(&o).is_err());
        assert!(validate(&opts()).is_ok());
    }

    #[test]
    fn firmware_choice() {
        let o = RunOptions {
            firmware: Firmware::SeaBios,
            ..opts()
        };
        assert_eq!(o.bios(), None);
        let o = RunOptions {
            firmware: Firmware::Path("/x.rom".into()),
            ..opts()
        };
        assert_eq!(o.bios(), Some(PathBuf::from("/x.rom")));
        assert_eq!(opts().bios(), None, "TCG: SeaBIOS");
        let kvm = RunOptions {
            kvm: true,
            ..opts()
        };
        assert_eq!(kvm.bios().is_some(), Path::new(QBOOT).is_file());
        let q = RunOptions {
            firmware: Firmware::Qboot,
            ..opts()
        };
        assert_eq!(q.bios(), Some(PathBuf::from(QBOOT)));
    }

    #[test]
    fn kvm_error_marker() {
        assert!(is_kvm_error(
            "KVM internal error. Suberror: 1\nemulation failure\n"
        ));
        assert!(!is_kvm_error("KVM: entry failed"));
    }

    #[test]
    fn missing_programs_and_kernels_are_clear_errors() {
        assert!(find_program(Path::new("sh")).is_some());
        assert!(find_program(Path::new("no-such-program-xyz")).is_none());
        let o = RunOptions {
            qemu: PathBuf::from("no-such-qemu-xyz"),
            ..opts()
        };
        let err = run(&o).unwrap_err();
        assert!(err.to_string().contains("scripts/setup.sh"), "{err}");
        if find_program(Path::new(QEMU)).is_some() {
            let err = run(&opts()).unwrap_err();
            assert!(matches!(err, Error::KernelNotFound(_)), "{err}");
            assert!(err.to_string().contains("cargo xtask build"));
        }
    }
}
