//! `remap` owns the remap table of an address space: an ordered interval map from
//! virtual page ranges to mappings onto the one big persistent page space (persistent
//! base page, permissions, kind — anonymous, object or guard — and a copy-on-write bit).
//!
//! It is the single source of truth for what a process can see; hardware page tables
//! are a cache derived from it. Lookups cost O(log ranges), never O(pages), so `sbrk`
//! and stack growth extend one range in place whatever its size. It is a pure data
//! structure: `no_std` + `alloc`, no `unsafe`, no kernel types. Every input may come
//! from a hostile syscall, so all failures are typed [`RemapError`]s, never panics.
//!
//! ```
//! use remap::{Mapping, Perms, RemapError, RemapTable};
//!
//! let rw = Perms::READ | Perms::WRITE;
//! let mut t = RemapTable::new();
//! t.map(0x100, 4, Mapping::anon(5000, rw))?; // heap: 4 pages at persistent 5000..
//! t.map(0x200, 1, Mapping::guard(0))?;
//! let heap = t.grow_up(0x100, 12)?; // sbrk: O(log ranges), whatever the size
//! assert_eq!((heap.start, heap.pages), (0x100, 16));
//! assert_eq!(t.translate(0x10f).map(|tr| tr.page), Some(5015));
//! assert_eq!(t.grow_up(0x100, 0x100), Err(RemapError::NoRoom)); // the guard
//! # Ok::<(), RemapError>(())
//! ```

#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

mod error;
mod table;
mod types;

#[cfg(test)]
mod tests;

pub use error::RemapError;
pub use table::RemapTable;
pub use types::{Kind, Mapping, Perms, Ppn, Range, Translation, Vpn};
