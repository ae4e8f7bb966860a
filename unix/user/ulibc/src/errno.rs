//! `errno`: Linux's error numbers (the ABI uses them), their names and
//! messages, and the global `errno` the syscall wrappers set on failure.

use core::fmt;
use core::sync::atomic::{AtomicI32, Ordering};

/// An error number as the kernel returns it in `edx` (always positive).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(transparent)]
pub struct Errno(pub u32);

macro_rules! errnos {
    ($($name:ident = $value:expr, $text:expr;)*) => {
        impl Errno {
            $(
                #[doc = $text]
                pub const $name: Errno = Errno($value);
            )*

            /// The symbolic name (`"ENOENT"`), or `"E?"` for numbers the
            /// ABI does not define.
            pub fn name(self) -> &'static str {
                match self {
                    $(Errno::$name => stringify!($name),)*
                    _ => "E?",
                }
            }

            /// The message `strerror` gives (Linux's wording).
            pub fn message(self) -> &'static str {
                match self {
                    $(Errno::$name => $text,)*
                    _ => "Unknown error",
                }
            }
        }
    };
}

errnos! {
    EPERM = 1, "Operation not permitted";
    ENOENT = 2, "No such file or directory";
    ESRCH = 3, "No such process";
    EINTR = 4, "Interrupted system call";
    EIO = 5, "Input/output error";
    E2BIG = 7, "Argument list too long";
    ENOEXEC = 8, "Exec format error";
    EBADF = 9, "Bad file descriptor";
    ECHILD = 10, "No child processes";
    EAGAIN = 11, "Resource temporarily unavailable";
    ENOMEM = 12, "Cannot allocate memory";
    EACCES = 13, "Permission denied";
    EFAULT = 14, "Bad address";
    EEXIST = 17, "File exists";
    ENODEV = 19, "No such device";
    ENOTDIR = 20, "Not a directory";
    EISDIR = 21, "Is a directory";
    EINVAL = 22, "Invalid argument";
    ENFILE = 23, "Too many open files in system";
    EMFILE = 24, "Too many open files";
    ENOTTY = 25, "Inappropriate ioctl for device";
    EFBIG = 27, "File too large";
    ENOSPC = 28, "No space left on device";
    ESPIPE = 29, "Illegal seek";
    EROFS = 30, "Read-only file system";
    ERANGE = 34, "Numerical result out of range";
    ENAMETOOLONG = 36, "File name too long";
    ENOSYS = 38, "Function not implemented";
    ENOTEMPTY = 39, "Directory not empty";
    EOVERFLOW = 75, "Value too large for defined data type";
}

/// `strerror(3)`.
pub fn strerror(e: Errno) -> &'static str {
    e.message()
}

impl fmt::Display for Errno {
    /// The message, as `strerror` gives it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.name() == "E?" {
            write!(f, "Unknown error {}", self.0)
        } else {
            f.write_str(self.message())
        }
    }
}

impl fmt::Debug for Errno {
    /// The symbolic name, e.g. `ENOENT`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.name() == "E?" {
            write!(f, "Errno({})", self.0)
        } else {
            f.write_str(self.name())
        }
    }
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
