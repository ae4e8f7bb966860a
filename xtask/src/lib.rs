//! phantom-unix's build and run tool, as a library the `tests` crate reuses.
//!
//! `cargo xtask build` builds the kernel image; `cargo xtask qemu` boots it in
//! QEMU with boot modules and watches the serial console. One runner serves
//! both the command line and the integration tests:
//!
//! ```no_run
//! use xtask::{run, RunOptions};
//! let outcome = run(&RunOptions {
//!     append: "ktest=all".into(),
//!     ..RunOptions::default()
//! })
//! .expect("QEMU started");
//! assert!(outcome.verdict().is_success(), "{}", outcome.report());
//! assert!(outcome.tests().iter().all(|t| t.passed));
//! ```

pub mod cli;
mod error;
pub mod image;
pub mod modules;
mod outcome;
pub mod qemu;
pub mod serial;

pub use error::{Error, Result};
pub use image::{
    build, build_initramfs, build_kernel, build_user_programs, initramfs_path, kernel_path,
    user_programs_dir, workspace_root,
};
pub use modules::{Module, ModuleResolver};
pub use outcome::{
    status_meaning, RunOutcome, TestLine, Verdict, EXIT_HARNESS, EXIT_INTERRUPTED, EXIT_KVM_ERROR,
    EXIT_NO_SHUTDOWN, EXIT_TIMEOUT,
};
pub use qemu::{run, Firmware, RunOptions};
