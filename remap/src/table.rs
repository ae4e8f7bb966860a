//! [`RemapTable`]: the ordered, non-overlapping, maximally merged set of ranges of one
//! address space, with the range operations the VM layer needs (map, unmap, protect,
//! grow/shrink in place, free-space search, copy-on-write fork).
//!
//! Ranges live in a `BTreeMap` keyed by their first page, so finding the range of a page
//! is O(log ranges), independent of how many pages the range has. After every mutation
//! the touched neighbourhood is re-merged, so [`RemapTable::check_invariants`] always
//! holds: sorted, non-overlapping, every range non-empty and free of overflow, and no two
//! neighbours that [`Range::merges_with`] each other.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::ops::Bound::{Excluded, Unbounded};

use crate::{Kind, Mapping, Perms, Ppn, Range, RemapError, Translation, Vpn};

/// The remap table of one address space: virtual page ranges onto persistent pages.
///
/// Page numbers are full `u64`s, but a range's exclusive end (`start + pages`), its
/// persistent base's end (`base + pages`) and an object offset's end must all be
/// representable, so page `u64::MAX` can never be mapped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RemapTable {
    pub(crate) ranges: BTreeMap<Vpn, Range>,
}

/// The exclusive end of `[start, start + pages)`, refusing empty and overflowing spans.
fn span_end(start: Vpn, pages: u64) -> Result<Vpn, RemapError> {
    if pages == 0 {
        return Err(RemapError::EmptyRange);
    }
    start.checked_add(pages).ok_or(RemapError::Overflow)
}

/// Whether `fork` treats the range as private writable memory (made copy-on-write).
fn private_writable(r: &Range) -> bool {
    r.mapping.kind == Kind::Anon && r.mapping.perms.contains(Perms::WRITE)
}

/// Whether `fork` gives the child its own copy of the range's pages (rebases it).
fn private(r: &Range) -> bool {
    r.mapping.kind == Kind::Anon
}

/// `r` clipped to `[lo, hi)`; `Overflow` only for a range that breaks the invariants.
fn clip(r: &Range, lo: Vpn, hi: Vpn) -> Result<Range, RemapError> {
    r.clip(lo, hi).ok_or(RemapError::Overflow)
}

impl RemapTable {
    /// An empty table.
    pub const fn new() -> Self {
        RemapTable {
            ranges: BTreeMap::new(),
        }
    }

    /// Number of ranges.
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    /// Whether no page is mapped.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// All ranges, sorted by start.
    pub fn iter(&self) -> impl Iterator<Item = Range> + '_ {
        self.ranges.values().copied()
    }

    /// The range holding page `vpn`. O(log ranges).
    pub fn range_containing(&self, vpn: Vpn) -> Option<Range> {
        let (_, r) = self.ranges.range(..=vpn).next_back()?;
        r.contains(vpn).then_some(*r)
    }

    /// What page `vpn` translates to, or `None` if it is unmapped. O(log ranges).
    #[inline]
    pub fn translate(&self, vpn: Vpn) -> Option<Translation> {
        self.ranges.range(..=vpn).next_back()?.1.translate(vpn)
    }

    /// The ranges intersecting `[start, end)`, in order, unclipped.
    fn overlapping(&self, start: Vpn, end: Vpn) -> impl Iterator<Item = &Range> + '_ {
        let first = self
            .ranges
            .range(..start)
            .next_back()
            .map(|(_, r)| r)
            .filter(|r| r.end() > start);
        first
            .into_iter()
            .chain(self.ranges.range(start..end).map(|(_, r)| r))
    }

    /// Map `[start, start + pages)` with `mapping` (for the first page).
    ///
    /// Errors: `EmptyRange` (pages == 0), `Overflow` (the span's end, or the base or
    /// object offset of its end, overflows), `Overlap { at }` (lowest mapped page of
    /// the span). On error nothing changes. The new range is merged with compatible
    /// neighbours.
    pub fn map(&mut self, start: Vpn, pages: u64, mapping: Mapping) -> Result<(), RemapError> {
        let end = span_end(start, pages)?;
        if !mapping.fits(pages) {
            return Err(RemapError::Overflow);
        }
        if let Some(r) = self.overlapping(start, end).next() {
            return Err(RemapError::Overlap {
                at: r.start.max(start),
            });
        }
        self.ranges.insert(
            start,
            Range {
                start,
                pages,
                mapping,
            },
        );
        self.merge_span(start, end);
        Ok(())
    }

    /// Remove whatever is mapped in `[start, start + pages)` (POSIX `munmap`: holes are
    /// fine), splitting ranges at the edges. Returns the removed pieces, sorted and
    /// clipped to the span, with bases and object offsets adjusted, so the caller can
    /// release their persistent pages and PTEs.
    ///
    /// Errors: `EmptyRange`, `Overflow` (the span's end overflows). On error nothing
    /// changes.
    pub fn unmap(&mut self, start: Vpn, pages: u64) -> Result<Vec<Range>, RemapError> {
        let end = span_end(start, pages)?;
        let hit: Vec<Range> = self.overlapping(start, end).copied().collect();
        let mut removed = Vec::with_capacity(hit.len());
        let mut keep = Vec::new();
        for r in &hit {
            if r.start < start {
                keep.push(clip(r, r.start, start)?);
            }
            removed.push(clip(r, start, end)?);
            if r.end() > end {
                keep.push(clip(r, end, r.end())?);
            }
        }
        for r in &hit {
            self.ranges.remove(&r.start);
        }
        for r in keep {
            self.ranges.insert(r.start, r);
        }
        Ok(removed)
    }

    /// Set the permissions of every page in `[start, start + pages)`, splitting ranges at
    /// the edges and merging what became compatible. Returns the span's ranges in their
    /// new state, sorted and clipped to the span (they cover it exactly), so the caller
    /// can invalidate PTEs.
    ///
    /// Errors: `EmptyRange`, `Overflow`, `NotMapped { at }` (lowest unmapped page of the
    /// span). On error nothing changes.
    pub fn protect(
        &mut self,
        start: Vpn,
        pages: u64,
        perms: Perms,
    ) -> Result<Vec<Range>, RemapError> {
        let end = span_end(start, pages)?;
        let hit: Vec<Range> = self.overlapping(start, end).copied().collect();
        let mut cursor = start;
        for r in &hit {
            if r.start > cursor {
                return Err(RemapError::NotMapped { at: cursor });
            }
            cursor = r.end();
        }
        if cursor < end {
            return Err(RemapError::NotMapped { at: cursor });
        }
        let mut pieces = Vec::with_capacity(hit.len() + 2);
        for r in &hit {
            if r.start < start {
                pieces.push(clip(r, r.start, start)?);
            }
            let mut mid = clip(r, start, end)?;
            mid.mapping.perms = perms;
            pieces.push(mid);
            if r.end() > end {
                pieces.push(clip(r, end, r.end())?);
            }
        }
        for r in &hit {
            self.ranges.remove(&r.start);
        }
        for r in pieces {
            self.ranges.insert(r.start, r);
        }
        self.merge_span(start, end);
        self.overlapping(start, end)
            .map(|r| clip(r, start, end))
            .collect()
    }

    /// Extend the range starting at `start` upwards by `extra` pages in place (`sbrk`):
    /// base unchanged, the new pages continue the persistent window. O(log ranges).
    ///
    /// Returns the range now holding the grown pages. That is `start ..
    /// old_end + extra` unless the grown range became contiguous with a compatible
    /// successor and merged with it (then it is longer).
    ///
    /// Errors, in this order: `EmptyRange` (extra == 0), `NotARangeStart { at: start }`,
    /// `Overflow` (new end, base end or offset end overflows), `NoRoom` (a page of
    /// `[end, end + extra)` is mapped). On error nothing changes.
    pub fn grow_up(&mut self, start: Vpn, extra: u64) -> Result<Range, RemapError> {
        if extra == 0 {
            return Err(RemapError::EmptyRange);
        }
        let r = *self
            .ranges
            .get(&start)
            .ok_or(RemapError::NotARangeStart { at: start })?;
        let old_end = r.end();
        let new_end = old_end.checked_add(extra).ok_or(RemapError::Overflow)?;
        let new_pages = r.pages.checked_add(extra).ok_or(RemapError::Overflow)?;
        if !r.mapping.fits(new_pages) {
            return Err(RemapError::Overflow);
        }
        let next = self.ranges.range(old_end..).next().map(|(_, n)| *n);
        let mut grown = Range {
            pages: new_pages,
            ..r
        };
        if let Some(n) = next {
            if n.start < new_end {
                return Err(RemapError::NoRoom);
            }
            // Only the successor can have become compatible.
            if grown.merges_with(&n) {
                if let Some(pages) = new_pages.checked_add(n.pages) {
                    grown.pages = pages;
                    self.ranges.remove(&n.start);
                }
            }
        }
        self.ranges.insert(start, grown);
        Ok(grown)
    }

    /// Extend the range starting at `start` downwards by `extra` pages (stack growth):
    /// the new start is `start - extra` and the base (and an object offset) moves down
    /// by `extra` too, so existing pages keep their persistent pages. O(log ranges).
    ///
    /// Returns the range now holding the grown pages: `start - extra .. old_end` unless
    /// it merged with a compatible predecessor (then it starts lower).
    ///
    /// Errors, in this order: `EmptyRange`, `NotARangeStart { at: start }`, `Overflow`
    /// (`start - extra` below page 0), `BaseUnderflow` (base or object offset below 0),
    /// `NoRoom` (a page of `[start - extra, start)` is mapped). On error nothing changes.
    pub fn grow_down(&mut self, start: Vpn, extra: u64) -> Result<Range, RemapError> {
        if extra == 0 {
            return Err(RemapError::EmptyRange);
        }
        let r = *self
            .ranges
            .get(&start)
            .ok_or(RemapError::NotARangeStart { at: start })?;
        let new_start = start.checked_sub(extra).ok_or(RemapError::Overflow)?;
        let base = r
            .mapping
            .base
            .checked_sub(extra)
            .ok_or(RemapError::BaseUnderflow)?;
        let kind = r
            .mapping
            .kind
            .retreated(extra)
            .ok_or(RemapError::BaseUnderflow)?;
        // Cannot overflow: new_start + pages + extra == r.end(), which is representable.
        let pages = r.pages.checked_add(extra).ok_or(RemapError::Overflow)?;
        let prev = self.ranges.range(..start).next_back().map(|(_, p)| *p);
        let mut grown = Range {
            start: new_start,
            pages,
            mapping: Mapping {
                base,
                kind,
                ..r.mapping
            },
        };
        if let Some(p) = prev {
            if p.end() > new_start {
                return Err(RemapError::NoRoom);
            }
            // Only the predecessor can have become compatible.
            if p.merges_with(&grown) {
                if let Some(pages) = p.pages.checked_add(pages) {
                    grown = Range { pages, ..p };
                }
            }
        }
        self.ranges.remove(&start);
        self.ranges.insert(grown.start, grown);
        Ok(grown)
    }

    /// Remove the last `pages_removed_from_end` pages of the range starting at `start`
    /// (`brk` shrink). Returns the removed tail piece (base and offset adjusted) so the
    /// caller can release its pages. Removing all pages removes the range.
    ///
    /// Errors, in this order: `EmptyRange`, `NotARangeStart { at: start }`,
    /// `ShrinkTooFar { at, pages }` (the range has fewer pages). On error nothing changes.
    pub fn shrink_up(
        &mut self,
        start: Vpn,
        pages_removed_from_end: u64,
    ) -> Result<Range, RemapError> {
        if pages_removed_from_end == 0 {
            return Err(RemapError::EmptyRange);
        }
        let r = *self
            .ranges
            .get(&start)
            .ok_or(RemapError::NotARangeStart { at: start })?;
        let keep = r
            .pages
            .checked_sub(pages_removed_from_end)
            .ok_or(RemapError::ShrinkTooFar {
                at: start,
                pages: r.pages,
            })?;
        // `start + keep` is inside the range, so this cannot fail.
        let tail_start = start.checked_add(keep).ok_or(RemapError::Overflow)?;
        let tail = clip(&r, tail_start, r.end())?;
        if keep == 0 {
            self.ranges.remove(&start);
        } else {
            self.ranges.insert(start, Range { pages: keep, ..r });
        }
        Ok(tail)
    }

    /// The lowest start `s` with `lo <= s`, `s + pages <= hi` and `[s, s + pages)`
    /// entirely unmapped; `None` if there is none (or `pages == 0`). O(ranges in the
    /// searched window).
    pub fn find_free(&self, pages: u64, lo: Vpn, hi: Vpn) -> Option<Vpn> {
        if pages == 0 || lo >= hi {
            return None;
        }
        let mut cursor = match self.range_containing(lo) {
            Some(r) => r.end(),
            None => lo,
        };
        for (&next, r) in self.ranges.range(cursor..) {
            let fit_end = cursor.checked_add(pages)?;
            if fit_end > hi {
                return None;
            }
            if fit_end <= next {
                return Some(cursor);
            }
            cursor = r.end();
        }
        let fit_end = cursor.checked_add(pages)?;
        (fit_end <= hi).then_some(cursor)
    }

    /// The highest start `s` with `lo <= s`, `s + pages <= hi` and `[s, s + pages)`
    /// entirely unmapped (mmap-style top-down placement); `None` if there is none (or
    /// `pages == 0`). O(ranges in the searched window).
    pub fn find_free_top_down(&self, pages: u64, lo: Vpn, hi: Vpn) -> Option<Vpn> {
        if pages == 0 || lo >= hi {
            return None;
        }
        // `hi > lo >= 0`, so `hi - 1` does not underflow.
        let mut cursor = match self.range_containing(hi - 1) {
            Some(r) => r.start,
            None => hi,
        };
        for r in self.ranges.range(..cursor).rev().map(|(_, r)| r) {
            let s = cursor.checked_sub(pages)?;
            if s < lo {
                return None;
            }
            if s >= r.end() {
                return Some(s);
            }
            cursor = r.start;
        }
        let s = cursor.checked_sub(pages)?;
        (s >= lo).then_some(s)
    }

    /// Copy the table for a forked child.
    ///
    /// Every private writable range (kind `Anon` with `WRITE`) becomes `cow = true` in
    /// both tables (the parent is re-merged first, as marking can make neighbours
    /// compatible). For every private range (kind `Anon`, writable or not) of the marked
    /// parent, in ascending order, `rebase(&range)` gives the child's persistent base
    /// for it: the child owns its private pages (the VM layer gives it its own windows
    /// sharing the page contents). Read-only private ranges keep their `cow` bit. Guard
    /// and object ranges are copied unchanged. The child is merged too.
    ///
    /// `rebase` must return a base with `base + range.pages` representable. If it does
    /// not, that range is left out of the child (touching it faults there), which is
    /// fail-safe; use [`RemapTable::try_fork_copy`] to get an error instead.
    pub fn fork_copy(&mut self, rebase: impl FnMut(&Range) -> Ppn) -> RemapTable {
        let (parent, child, _) = self.fork_parts(rebase);
        *self = parent;
        child
    }

    /// Like [`RemapTable::fork_copy`], but a base from `rebase` that overflows is an
    /// error (`Overflow`), and then nothing changes in `self`.
    pub fn try_fork_copy(
        &mut self,
        rebase: impl FnMut(&Range) -> Ppn,
    ) -> Result<RemapTable, RemapError> {
        let (parent, child, err) = self.fork_parts(rebase);
        if let Some(e) = err {
            return Err(e);
        }
        *self = parent;
        Ok(child)
    }

    /// The marked parent, the child (without ranges whose rebased base overflows) and
    /// the first such error.
    fn fork_parts(
        &self,
        mut rebase: impl FnMut(&Range) -> Ppn,
    ) -> (RemapTable, RemapTable, Option<RemapError>) {
        let mut parent = self.clone();
        for r in parent.ranges.values_mut() {
            if private_writable(r) {
                r.mapping.cow = true;
            }
        }
        parent.merge_span(0, Vpn::MAX);
        let mut child = RemapTable::new();
        let mut err = None;
        for r in parent.ranges.values() {
            let mut c = *r;
            if private(r) {
                c.mapping.base = rebase(r);
                if !c.mapping.fits(c.pages) {
                    err.get_or_insert(RemapError::Overflow);
                    continue;
                }
            }
            child.ranges.insert(c.start, c);
        }
        child.merge_span(0, Vpn::MAX);
        (parent, child, err)
    }

    /// Merge every pair of compatible neighbours from the range before `lo` up to and
    /// including the range starting at `hi`.
    fn merge_span(&mut self, lo: Vpn, hi: Vpn) {
        let first = self
            .ranges
            .range(..lo)
            .next_back()
            .or_else(|| self.ranges.range(lo..).next())
            .map(|(&k, _)| k);
        let Some(mut key) = first else { return };
        loop {
            let Some(cur) = self.ranges.get(&key).copied() else {
                return;
            };
            let Some(next) = self
                .ranges
                .range((Excluded(key), Unbounded))
                .next()
                .map(|(_, r)| *r)
            else {
                return;
            };
            if next.start > hi {
                return;
            }
            if cur.merges_with(&next) {
                if let Some(pages) = cur.pages.checked_add(next.pages) {
                    self.ranges.remove(&next.start);
                    self.ranges.insert(key, Range { pages, ..cur });
                    continue;
                }
            }
            key = next.start;
        }
    }

    /// Check the table's invariants: keys match starts, ranges non-empty, no end / base /
    /// offset overflow, sorted and non-overlapping, and no two compatible neighbours
    /// left unmerged. Returns a description of the first violation.
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut prev: Option<&Range> = None;
        for (&key, r) in &self.ranges {
            if key != r.start {
                return Err(format!("key {key:#x} holds range {r:?}"));
            }
            if r.pages == 0 {
                return Err(format!("empty range {r:?}"));
            }
            if r.start.checked_add(r.pages).is_none() {
                return Err(format!("range end overflows: {r:?}"));
            }
            if !r.mapping.fits(r.pages) {
                return Err(format!("base or offset end overflows: {r:?}"));
            }
            if let Some(p) = prev {
                if p.end() > r.start {
                    return Err(format!("overlap: {p:?} and {r:?}"));
                }
                if p.merges_with(r) {
                    return Err(format!("unmerged neighbours: {p:?} and {r:?}"));
                }
            }
            prev = Some(r);
        }
        Ok(())
    }
}
