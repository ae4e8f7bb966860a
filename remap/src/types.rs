//! The value types of the remap table: page numbers, permissions, mapping kinds,
//! mappings, ranges and single-page translations.
//!
//! A [`Range`] says "virtual pages `start .. start + pages` show persistent pages
//! `base .. base + pages`". Per-page values (base, object offset) are derived by adding
//! the page's distance from the range start, always with checked arithmetic.

use bitflags::bitflags;

/// A virtual page number (a virtual address divided by the page size).
pub type Vpn = u64;
/// A persistent page number: a page of the one big persistent page space.
pub type Ppn = u64;

bitflags! {
    /// Access rights user code has to a range.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct Perms: u8 {
        /// Reads are allowed.
        const READ = 1;
        /// Writes are allowed.
        const WRITE = 2;
        /// Instruction fetches are allowed.
        const EXEC = 4;
    }
}

/// What backs a range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Private anonymous memory (heap, stack, bss, data after load).
    Anon,
    /// Pages of a persistent object. `offset` is in pages and belongs to the range's
    /// first page (in a [`Translation`], to the translated page).
    Object {
        /// The object's id.
        id: u64,
        /// Page offset within the object.
        offset: u64,
    },
    /// A guard: touching it is a fault (SIGSEGV), never a mapping. Its base is kept and
    /// adjusted like any other base, so guards obey the same merge rule as the rest
    /// (two guards merge only when their bases are contiguous).
    Guard,
}

impl Kind {
    /// The kind of the page `delta` pages further on: the object offset advances.
    /// `None` if the offset would overflow.
    #[inline]
    pub fn advanced(self, delta: u64) -> Option<Kind> {
        match self {
            Kind::Object { id, offset } => Some(Kind::Object {
                id,
                offset: offset.checked_add(delta)?,
            }),
            other => Some(other),
        }
    }

    /// The kind of the page `delta` pages earlier. `None` if the offset would go below 0.
    pub fn retreated(self, delta: u64) -> Option<Kind> {
        match self {
            Kind::Object { id, offset } => Some(Kind::Object {
                id,
                offset: offset.checked_sub(delta)?,
            }),
            other => Some(other),
        }
    }
}

/// Where a range's first page goes and how it may be accessed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mapping {
    /// Persistent page of the range's first page; page `i` of the range is `base + i`.
    pub base: Ppn,
    /// Access rights.
    pub perms: Perms,
    /// What backs the range.
    pub kind: Kind,
    /// Copy-on-write: the persistent pages may be shared; a write must copy first.
    pub cow: bool,
}

impl Mapping {
    /// Private anonymous memory at persistent base `base`, not copy-on-write.
    pub const fn anon(base: Ppn, perms: Perms) -> Self {
        Mapping {
            base,
            perms,
            kind: Kind::Anon,
            cow: false,
        }
    }

    /// Pages of object `id` from page `offset` on, at persistent base `base`.
    pub const fn object(base: Ppn, perms: Perms, id: u64, offset: u64) -> Self {
        Mapping {
            base,
            perms,
            kind: Kind::Object { id, offset },
            cow: false,
        }
    }

    /// A guard with no permissions at (irrelevant) base `base`.
    pub const fn guard(base: Ppn) -> Self {
        Mapping {
            base,
            perms: Perms::empty(),
            kind: Kind::Guard,
            cow: false,
        }
    }

    /// The mapping of the page `delta` pages further on (base and object offset
    /// advanced). `None` on overflow.
    #[inline]
    pub fn advanced(&self, delta: u64) -> Option<Mapping> {
        Some(Mapping {
            base: self.base.checked_add(delta)?,
            kind: self.kind.advanced(delta)?,
            ..*self
        })
    }

    /// Whether `pages` pages from this mapping on stay inside the `u64` space: the
    /// exclusive end of the persistent base and of the object offset are representable.
    pub fn fits(&self, pages: u64) -> bool {
        self.advanced(pages).is_some()
    }
}

/// A maximal run of virtual pages `start .. start + pages` with one mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Range {
    /// First virtual page.
    pub start: Vpn,
    /// Number of pages; always > 0 in a table.
    pub pages: u64,
    /// Mapping of the first page.
    pub mapping: Mapping,
}

impl Range {
    /// The exclusive end page, `start + pages`. Ranges in a table never overflow; for a
    /// hand-built range that would, this saturates at `u64::MAX`.
    pub fn end(&self) -> Vpn {
        self.start.saturating_add(self.pages)
    }

    /// Whether `vpn` is one of this range's pages.
    #[inline]
    pub fn contains(&self, vpn: Vpn) -> bool {
        vpn >= self.start && vpn - self.start < self.pages
    }

    /// The translation of `vpn` through this range, or `None` if `vpn` is outside it
    /// (or the range is malformed so that the page's base would overflow).
    #[inline]
    pub fn translate(&self, vpn: Vpn) -> Option<Translation> {
        if !self.contains(vpn) {
            return None;
        }
        let m = self.mapping.advanced(vpn - self.start)?;
        Some(Translation {
            vpn,
            page: m.base,
            perms: m.perms,
            kind: m.kind,
            cow: m.cow,
            range_start: self.start,
            range_pages: self.pages,
        })
    }

    /// The part of this range inside `[lo, hi)`, with base and offset adjusted, or
    /// `None` if they do not intersect.
    pub fn clip(&self, lo: Vpn, hi: Vpn) -> Option<Range> {
        let start = self.start.max(lo);
        let end = self.end().min(hi);
        if start >= end {
            return None;
        }
        Some(Range {
            start,
            pages: end - start,
            mapping: self.mapping.advanced(start - self.start)?,
        })
    }

    /// Whether `next` continues this range seamlessly, so the two may be one range:
    /// adjacent, and `next`'s mapping is this mapping advanced by `pages` (same perms,
    /// cow and kind; contiguous base; for objects the same id and contiguous offset).
    pub fn merges_with(&self, next: &Range) -> bool {
        self.start.checked_add(self.pages) == Some(next.start)
            && self.mapping.advanced(self.pages) == Some(next.mapping)
    }
}

/// What one virtual page translates to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Translation {
    /// The translated virtual page.
    pub vpn: Vpn,
    /// Its persistent page: `base + (vpn - range_start)`.
    pub page: Ppn,
    /// Access rights.
    pub perms: Perms,
    /// Backing, with an object offset adjusted to this page.
    pub kind: Kind,
    /// Copy-on-write bit.
    pub cow: bool,
    /// Start of the range holding the page.
    pub range_start: Vpn,
    /// Length of the range holding the page.
    pub range_pages: u64,
}
