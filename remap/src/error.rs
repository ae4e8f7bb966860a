//! Typed errors of remap-table operations.
//!
//! Every input to the table may come from a hostile user-space syscall, so every
//! failure is a value of [`RemapError`], never a panic.

use core::fmt;

use crate::Vpn;

/// Why a remap-table operation was refused. A refused operation changes nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RemapError {
    /// A page count (or growth/shrink amount) of zero was given.
    EmptyRange,
    /// Arithmetic left the `u64` page-number space: `start + pages` (the exclusive end)
    /// overflows, `start - extra` goes below page 0, or the persistent base / object
    /// offset of the last page would overflow.
    Overflow,
    /// `map` (or growth) would cover page `at`, which is already mapped. `at` is the
    /// lowest such page.
    Overlap {
        /// The lowest already-mapped page of the requested span.
        at: Vpn,
    },
    /// Page `at` of a span that must be fully mapped is not mapped. `at` is the lowest
    /// such page.
    NotMapped {
        /// The lowest unmapped page of the requested span.
        at: Vpn,
    },
    /// Growing a range in place is impossible: the pages it would grow into are not free.
    NoRoom,
    /// The operation names a range by its first page, and no range starts at `at`.
    NotARangeStart {
        /// The page that was given as a range start.
        at: Vpn,
    },
    /// An operation that moves a guard page along found no one-page guard range
    /// starting at `at`.
    NotAGuard {
        /// The page where the guard was expected.
        at: Vpn,
    },
    /// Growing downwards would take the persistent base (or the object offset) below 0.
    BaseUnderflow,
    /// `shrink_up` was asked to remove more pages than the range at `at` has (`pages`).
    ShrinkTooFar {
        /// The start of the range that was to shrink.
        at: Vpn,
        /// How many pages that range has.
        pages: u64,
    },
    /// The working list of an operation over many ranges did not fit in memory (the
    /// table is unchanged).
    OutOfMemory,
}

impl fmt::Display for RemapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            RemapError::EmptyRange => f.write_str("empty page range"),
            RemapError::Overflow => f.write_str("page number arithmetic overflows"),
            RemapError::Overlap { at } => write!(f, "page {at:#x} is already mapped"),
            RemapError::NotMapped { at } => write!(f, "page {at:#x} is not mapped"),
            RemapError::NoRoom => f.write_str("no free pages to grow into"),
            RemapError::NotARangeStart { at } => write!(f, "no range starts at page {at:#x}"),
            RemapError::NotAGuard { at } => write!(f, "no guard page starts at page {at:#x}"),
            RemapError::BaseUnderflow => {
                f.write_str("persistent base or object offset would go below zero")
            }
            RemapError::ShrinkTooFar { at, pages } => {
                write!(f, "range at page {at:#x} has only {pages} pages to remove")
            }
            RemapError::OutOfMemory => f.write_str("no memory for the operation's list of ranges"),
        }
    }
}

impl core::error::Error for RemapError {}
