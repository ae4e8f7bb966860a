//! Unix error numbers: [`Errno`] is the ABI's (`phantom-abi`: Phantom's BSD values),
//! re-exported so kernel code writes `unix::Errno`; inside the kernel every failure
//! is a typed `Result<_, Errno>` ([`SysResult`]), turned into `eax = -1`,
//! `edx = errno` only by the personality that encodes the result.

pub use phantom_abi::Errno;

/// Result of a kernel-side Unix operation.
pub type SysResult<T> = Result<T, Errno>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_phantoms() {
        let table = [
            (Errno::EPERM, 1),
            (Errno::ENOENT, 2),
            (Errno::EIO, 5),
            (Errno::ENOEXEC, 8),
            (Errno::EBADF, 9),
            (Errno::EDEADLK, 11),
            (Errno::ENOMEM, 12),
            (Errno::EFAULT, 14),
            (Errno::EINVAL, 22),
            (Errno::ERANGE, 34),
            (Errno::EAGAIN, 35),
            (Errno::ELOOP, 62),
            (Errno::ENAMETOOLONG, 63),
            (Errno::ENOTEMPTY, 66),
            (Errno::ENOLCK, 77),
            (Errno::ENOSYS, 78),
            (Errno::EOVERFLOW, 84),
        ];
        for (e, n) in table {
            assert_eq!(e.number(), n, "{e:?}");
            assert_eq!(Errno::from_number(n), Some(e));
        }
        assert_eq!(Errno::from_number(0), None);
        assert_eq!(Errno::from_number(82), None);
    }

    #[test]
    fn names_and_display() {
        assert_eq!(Errno::ENOENT.name(), "ENOENT");
        assert_eq!(alloc::format!("{}", Errno::EFAULT), "Bad address");
        assert_eq!(alloc::format!("{:?}", Errno::EFAULT), "EFAULT");
        assert_eq!(alloc::format!("{:?}", Errno(999)), "Errno(999)");
        for &e in Errno::ALL {
            assert!(e.name().starts_with('E'));
            assert_eq!(Errno::from_number(e.number()), Some(e));
        }
    }
}
