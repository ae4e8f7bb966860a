//! The one error type of the xtask: every message says what went wrong and
//! what to do about it.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Why the xtask could not do what it was asked.
#[derive(Debug)]
pub enum Error {
    /// Bad command line for `cargo xtask` itself.
    Usage(String),
    /// The QEMU binary is not installed (or not on `PATH`).
    QemuNotFound(PathBuf),
    /// The kernel image is missing: it was not built yet.
    KernelNotFound(PathBuf),
    /// `cargo build` of the kernel failed (its output went to the terminal).
    Build(String),
    /// A boot module could not be turned into a `-initrd` entry.
    Module(String),
    /// `--kvm` was asked for but KVM cannot be used here.
    Kvm(String),
    /// An I/O error, with what we were doing when it happened.
    Io(String, io::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(msg) => write!(f, "{msg} (see `cargo xtask help`)"),
            Error::QemuNotFound(qemu) => write!(
                f,
                "{} not found: run scripts/setup.sh (it installs Debian's qemu-system-x86)",
                qemu.display()
            ),
            Error::KernelNotFound(path) => write!(
                f,
                "kernel image {} does not exist: run `cargo xtask build` first \
                 (or drop --no-build)",
                path.display()
            ),
            Error::Build(msg) => write!(f, "kernel build failed: {msg}"),
            Error::Module(msg) => write!(f, "boot module: {msg}"),
            Error::Kvm(msg) => write!(f, "--kvm: {msg}"),
            Error::Io(what, err) => write!(f, "{what}: {err}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(_, err) => Some(err),
            _ => None,
        }
    }
}

/// Shorthand used across the crate.
pub type Result<T> = std::result::Result<T, Error>;
