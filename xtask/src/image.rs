//! Where things are in the workspace, and building the kernel image.
//!
//! The kernel is an ordinary workspace member built for the bare-metal target
//! `x86_64-unknown-none` in release mode; the root `.cargo/config.toml` holds
//! its rustflags, so cargo is always run from the workspace root.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Error, Result};

/// The Rust target the kernel is built for.
pub const KERNEL_TARGET: &str = "x86_64-unknown-none";
/// The Rust target of the user programs.
pub const USER_TARGET: &str = "i686-unknown-linux-gnu";
/// The kernel's package (and binary) name.
pub const KERNEL_PACKAGE: &str = "kernel";

/// The workspace root (the parent of this crate's folder).
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// Cargo's target directory: `$CARGO_TARGET_DIR` when set (relative paths
/// are taken from the workspace root), else `<root>/target`.
pub fn target_dir() -> PathBuf {
    resolve_target_dir(
        &workspace_root(),
        env::var_os("CARGO_TARGET_DIR").map(PathBuf::from),
    )
}

fn resolve_target_dir(root: &Path, from_env: Option<PathBuf>) -> PathBuf {
    match from_env {
        Some(dir) if dir.as_os_str().is_empty() => root.join("target"),
        Some(dir) if dir.is_absolute() => dir,
        Some(dir) => root.join(dir),
        None => root.join("target"),
    }
}

/// Where `cargo xtask build` puts the bootable kernel ELF.
pub fn kernel_path() -> PathBuf {
    target_dir()
        .join(KERNEL_TARGET)
        .join("release")
        .join(KERNEL_PACKAGE)
}

/// The cargo to run: the one that started us (`$CARGO`), else `cargo`.
fn cargo() -> PathBuf {
    env::var_os("CARGO")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("cargo"))
}

/// The arguments of the kernel build, after `cargo`.
pub fn kernel_build_args() -> Vec<String> {
    vec![
        "build".into(),
        "--package".into(),
        KERNEL_PACKAGE.into(),
        "--release".into(),
        "--target".into(),
        KERNEL_TARGET.into(),
    ]
}

/// Build the kernel (release, bare-metal target) and return its path.
///
/// Cargo's own output goes to our stderr; when `quiet`, cargo is passed
/// `--quiet` (errors are still shown).
pub fn build_kernel(quiet: bool) -> Result<PathBuf> {
    let root = workspace_root();
    let mut cmd = Command::new(cargo());
    cmd.args(kernel_build_args()).current_dir(&root);
    if quiet {
        cmd.arg("--quiet");
    }
    // Keep the nested build in the same target dir we look the image up in.
    cmd.env("CARGO_TARGET_DIR", target_dir());
    let status = cmd
        .status()
        .map_err(|e| Error::Io(format!("running {}", cargo().display()), e))?;
    if !status.success() {
        return Err(Error::Build(format!(
            "`cargo {}` exited with {status} (is the target installed? run scripts/setup.sh)",
            kernel_build_args().join(" ")
        )));
    }
    let path = kernel_path();
    if !path.is_file() {
        return Err(Error::KernelNotFound(path));
    }
    Ok(path)
}

/// The user-space workspace (libc and programs, built for i686).
pub fn user_workspace() -> PathBuf {
    workspace_root().join("unix/user")
}

/// Where the user programs are built: program names given to
/// `cargo xtask qemu` are looked up here.
pub fn user_programs_dir() -> PathBuf {
    target_dir().join("user").join(USER_TARGET).join("release")
}

/// Build the user programs (release, `i686-unknown-linux-gnu`).
pub fn build_user_programs(quiet: bool) -> Result<PathBuf> {
    let mut cmd = Command::new(cargo());
    cmd.args(["build", "--release"])
        .current_dir(user_workspace());
    if quiet {
        cmd.arg("--quiet");
    }
    cmd.env("CARGO_TARGET_DIR", target_dir().join("user"));
    let status = cmd
        .status()
        .map_err(|e| Error::Io(format!("running {}", cargo().display()), e))?;
    if !status.success() {
        return Err(Error::Build(format!(
            "building the user programs in {} exited with {status} (is the {USER_TARGET} target installed? run scripts/setup.sh)",
            user_workspace().display()
        )));
    }
    Ok(user_programs_dir())
}

/// Where `cargo xtask build` writes the initramfs.
pub fn initramfs_path() -> PathBuf {
    target_dir().join("initramfs.cpio")
}

/// The text of `/etc/motd`.
const MOTD: &str = "phantom-unix: Unix processes in a remapped persistent page space.\n\
Programs are in /bin; try: ls /bin, echo hi | wc -c, cat /proc/self/maps, help\n";

/// `/etc/demo.sh`: what `make run` shows without a terminal (a pipeline, a
/// redirection, a program killed by SIGSEGV at a guard, a background job).
const DEMO: &str = "echo '$ echo hi | cat | wc -c'
echo hi | cat | wc -c
echo '$ ls /bin | wc -l'
ls /bin | wc -l
echo '$ echo hello > /tmp/greeting; cat < /tmp/greeting'
echo hello > /tmp/greeting; cat < /tmp/greeting
echo '$ guard-test null   # a program killed by SIGSEGV at the null guard'
guard-test null
echo status $?
echo '$ sleep 0.2 & ps ; wait   # a background job'
sleep 0.2 & ps ; wait
echo '$ forktest | wc -l'
forktest | wc -l
";

/// Write the initramfs (a `newc` cpio archive the kernel unpacks into its root
/// file system): `/bin/<every user program>` (mode 0755) and `/etc/motd`.
pub fn build_initramfs() -> Result<PathBuf> {
    let dir = user_programs_dir();
    let mut programs: Vec<(String, Vec<u8>)> = Vec::new();
    let entries =
        std::fs::read_dir(&dir).map_err(|e| Error::Io(format!("reading {}", dir.display()), e))?;
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if !path.is_file() || name.contains('.') {
            continue;
        }
        let bytes = std::fs::read(&path)
            .map_err(|e| Error::Io(format!("reading {}", path.display()), e))?;
        if bytes.starts_with(b"\x7fELF") {
            programs.push((format!("bin/{name}"), bytes));
        }
    }
    programs.sort();
    let mut list: Vec<(&[u8], u32, &[u8])> = vec![(b"bin", 0o40755, b""), (b"etc", 0o40755, b"")];
    for (name, bytes) in &programs {
        list.push((name.as_bytes(), 0o100755, bytes));
    }
    list.push((b"etc/motd", 0o100644, MOTD.as_bytes()));
    list.push((b"etc/demo.sh", 0o100644, DEMO.as_bytes()));
    let archive = unix::vfs::cpio::build(&list);
    let out = initramfs_path();
    std::fs::write(&out, archive)
        .map_err(|e| Error::Io(format!("writing {}", out.display()), e))?;
    Ok(out)
}

/// Build everything a boot needs: the user programs and the initramfs of
/// them, then the kernel. Returns the kernel's path.
pub fn build(quiet: bool) -> Result<PathBuf> {
    build_user_programs(quiet)?;
    build_initramfs()?;
    build_kernel(quiet)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_dir_follows_cargo_rules() {
        let root = Path::new("/ws");
        assert_eq!(resolve_target_dir(root, None), Path::new("/ws/target"));
        assert_eq!(
            resolve_target_dir(root, Some(PathBuf::from("/tmp/t"))),
            Path::new("/tmp/t")
        );
        assert_eq!(
            resolve_target_dir(root, Some(PathBuf::from("out"))),
            Path::new("/ws/out")
        );
        assert_eq!(
            resolve_target_dir(root, Some(PathBuf::new())),
            Path::new("/ws/target")
        );
    }

    #[test]
    fn workspace_root_holds_the_workspace_manifest() {
        assert!(workspace_root().join("Cargo.toml").is_file());
        assert!(workspace_root().join("xtask").is_dir());
    }

    #[test]
    fn kernel_path_is_the_release_image() {
        let p = kernel_path();
        assert!(
            p.ends_with("x86_64-unknown-none/release/kernel"),
            "{}",
            p.display()
        );
    }
}
