//! `errno`: the ABI's error numbers (Phantom's BSD values, from `phantom-abi`,
//! the kernel's own definition), and the global `errno` the syscall wrappers
//! set on failure.

use core::sync::atomic::{AtomicI32, Ordering};

pub use phantom_abi::Errno;

/// `strerror(3)`.
pub fn strerror(e: Errno) -> &'static str {
    e.message()
}

/// The C `errno`: set by every failing wrapper, never cleared by a
/// successful one. Exported under the C name for C code.
#[unsafe(export_name = "errno")]
pub static ERRNO: AtomicI32 = AtomicI32::new(0);

/// The current value of `errno`.
pub fn errno() -> Errno {
    Errno(ERRNO.load(Ordering::Relaxed) as u32)
}

/// Sets `errno`.
pub fn set_errno(e: Errno) {
    ERRNO.store(e.0 as i32, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_messages() {
        assert_eq!(Errno::EFAULT.0, 14);
        assert_eq!(Errno::ENOENT.name(), "ENOENT");
        assert_eq!(format!("{}", Errno::ENOENT), "No such file or directory");
        assert_eq!(
            (Errno::EAGAIN.0, Errno::ENOSYS.0, Errno::ENOTEMPTY.0),
            (35, 78, 66)
        );
        assert_eq!(format!("{:?}", Errno::ENOSYS), "ENOSYS");
        assert_eq!(format!("{}", Errno(999)), "Unknown error 999");
        assert_eq!(format!("{:?}", Errno(999)), "Errno(999)");
        assert_eq!(strerror(Errno::ENOTTY), "Inappropriate ioctl for device");
    }

    #[test]
    fn errno_global() {
        let _lock = crate::errno_lock();
        set_errno(Errno::EBADF);
        assert_eq!(errno(), Errno::EBADF);
    }
}
