//! The one place where a [`VmError`] becomes a Unix errno (`phantom-abi`'s).
//!
//! Exhaustion and refusals the caller's arguments can cause are `ENOMEM`, as Linux
//! answers for the memory calls (no frame, no persistent page numbers, a window that
//! cannot grow, a span that is not free or not mapped or out of the user half). An
//! internal inconsistency — a state the callers' checks should have made impossible
//! — is logged as the bug it is and answered `EIO`, not disguised as `ENOMEM`.

use crate::VmError;
use phantom_abi::Errno;
use remap::RemapError;

impl From<VmError> for Errno {
    fn from(e: VmError) -> Errno {
        match e {
            VmError::OutOfMemory
            | VmError::NumbersExhausted
            | VmError::WindowFull { .. }
            | VmError::NotUserRange { .. }
            | VmError::NotGrowable { .. }
            | VmError::Remap(
                RemapError::EmptyRange
                | RemapError::Overflow
                | RemapError::Overlap { .. }
                | RemapError::NotMapped { .. }
                | RemapError::NoRoom
                | RemapError::OutOfMemory,
            ) => Errno::ENOMEM,
            VmError::Remap(_) | VmError::ForeignPage { .. } | VmError::Inconsistent(_) => {
                log::error!("vm: internal inconsistency: {e}");
                Errno::EIO
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exhaustion_is_enomem_and_bugs_are_eio() {
        assert_eq!(Errno::from(VmError::OutOfMemory), Errno::ENOMEM);
        assert_eq!(Errno::from(VmError::NumbersExhausted), Errno::ENOMEM);
        assert_eq!(
            Errno::from(VmError::Remap(RemapError::NotMapped { at: 3 })),
            Errno::ENOMEM
        );
        assert_eq!(
            Errno::from(VmError::Remap(RemapError::NotARangeStart { at: 3 })),
            Errno::EIO
        );
        assert_eq!(Errno::from(VmError::ForeignPage { ppn: 9 }), Errno::EIO);
    }
}
