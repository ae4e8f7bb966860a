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
use core::cmp::Ordering;
use core::fmt;
use core::ops::Bound::{Excluded, Unbounded};
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::{Kind, Mapping, Perms, Ppn, Range, RemapError, Translation, Vpn};

/// A range's key in the map: its first page.
///
/// The key can be changed in place ([`Start::shift`]) so that an operation that moves
/// a range's start without passing any other range — a guard moving up with the break,
/// the stack growing down into free pages — re-keys its entry instead of removing and
/// re-inserting it. `BTreeMap` allows that: a key may change as long as its order
/// relative to every other key in the map stays the same (only a change of that order
/// is a logic error). The atomic is for interior mutability that keeps the table
/// `Sync`; relaxed loads and stores are plain moves.
pub(crate) struct Start(AtomicU64);

impl Start {
    /// The key of a range starting at page `v`.
    #[inline]
    pub(crate) const fn new(v: Vpn) -> Start {
        Start(AtomicU64::new(v))
    }

    /// The page.
    #[inline]
    pub(crate) fn get(&self) -> Vpn {
        self.0.load(Relaxed)
    }

    /// Change the key in place to `v`. The caller guarantees that no other key of
    /// the map lies between the old and the new value (nor equals the new one).
    #[inline]
    fn shift(&self, v: Vpn) {
        self.0.store(v, Relaxed);
    }
}

impl Clone for Start {
    fn clone(&self) -> Self {
        Start::new(self.get())
    }
}

impl PartialEq for Start {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl Eq for Start {}

impl PartialOrd for Start {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Start {
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        self.get().cmp(&other.get())
    }
}

impl fmt::Debug for Start {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.get())
    }
}

/// Shorthand for a key.
#[inline]
fn key(v: Vpn) -> Start {
    Start::new(v)
}

/// The remap table of one address space: virtual page ranges onto persistent pages.
///
/// Page numbers are full `u64`s, but a range's exclusive end (`start + pages`), its
/// persistent base's end (`base + pages`) and an object offset's end must all be
/// representable, so page `u64::MAX` can never be mapped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RemapTable {
    pub(crate) ranges: BTreeMap<Start, Range>,
}

/// The exclusive end of `[start, start + pages)`, refusing empty and overflowing spans.
fn span_end(start: Vpn, pages: u64) -> Result<Vpn, RemapError> {
    if pages == 0 {
        return Err(RemapError::EmptyRange);
    }
    start.checked_add(pages).ok_or(RemapError::Overflow)
}

/// Whether `fork` treats the range as private memory: made copy-on-write in both
/// tables (writable or not: `mprotect` may make it writable later) and rebased in the
/// child, which owns its private pages.
fn private(r: &Range) -> bool {
    r.mapping.kind == Kind::Anon
}

/// `r` clipped to `[lo, hi)`; `Overflow` only for a range that breaks the invariants.
fn clip(r: &Range, lo: Vpn, hi: Vpn) -> Result<Range, RemapError> {
    r.clip(lo, hi).ok_or(RemapError::Overflow)
}

/// An empty vector with room for `n` elements, reserved fallibly: an operation
/// over thousands of ranges refuses with `OutOfMemory` (changing nothing) rather
/// than fail an allocation.
fn vec_with_room<T>(n: usize) -> Result<Vec<T>, RemapError> {
    let mut v = Vec::new();
    v.try_reserve_exact(n)
        .map_err(|_| RemapError::OutOfMemory)?;
    Ok(v)
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
        let (_, r) = self.ranges.range(..=key(vpn)).next_back()?;
        r.contains(vpn).then_some(*r)
    }

    /// The range starting exactly at page `start`. O(log ranges).
    pub fn range_at(&self, start: Vpn) -> Option<Range> {
        self.ranges.get(&key(start)).copied()
    }

    /// What page `vpn` translates to, or `None` if it is unmapped. O(log ranges).
    #[inline]
    pub fn translate(&self, vpn: Vpn) -> Option<Translation> {
        self.ranges.range(..=key(vpn)).next_back()?.1.translate(vpn)
    }

    /// The range with the highest start below `vpn`: the one holding page `vpn - 1`
    /// if it is mapped, else the nearest range entirely below `vpn`. O(log ranges).
    pub fn range_before(&self, vpn: Vpn) -> Option<Range> {
        self.ranges.range(..key(vpn)).next_back().map(|(_, r)| *r)
    }

    /// The ranges with pages in `[start, end)`, in order, unclipped. O(log ranges) to
    /// the first, then O(1) per range.
    pub fn overlapping(&self, start: Vpn, end: Vpn) -> impl Iterator<Item = Range> + '_ {
        self.overlapping_refs(start, end).copied()
    }

    /// The ranges intersecting `[start, end)`, in order, unclipped (none if the span is
    /// empty).
    fn overlapping_refs(&self, start: Vpn, end: Vpn) -> impl Iterator<Item = &Range> + '_ {
        let end = end.max(start);
        let first = self
            .ranges
            .range(..key(start))
            .next_back()
            .map(|(_, r)| r)
            .filter(|r| start < end && r.end() > start);
        first
            .into_iter()
            .chain(self.ranges.range(key(start)..key(end)).map(|(_, r)| r))
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
        if let Some(r) = self.overlapping_refs(start, end).next() {
            return Err(RemapError::Overlap {
                at: r.start.max(start),
            });
        }
        self.ranges.insert(
            key(start),
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
        let n = self.overlapping_refs(start, end).count();
        let mut hit: Vec<Range> = vec_with_room(n)?;
        hit.extend(self.overlapping_refs(start, end).copied());
        let mut removed = vec_with_room(n)?;
        let mut keep = vec_with_room(2)?;
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
            self.ranges.remove(&key(r.start));
        }
        for r in keep {
            self.ranges.insert(key(r.start), r);
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
        let n = self.overlapping_refs(start, end).count();
        let mut hit: Vec<Range> = vec_with_room(n)?;
        hit.extend(self.overlapping_refs(start, end).copied());
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
        let mut pieces = vec_with_room(hit.len() + 2)?;
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
            self.ranges.remove(&key(r.start));
        }
        for r in pieces {
            self.ranges.insert(key(r.start), r);
        }
        self.merge_span(start, end);
        let mut out = vec_with_room(self.overlapping_refs(start, end).count())?;
        for r in self.overlapping_refs(start, end) {
            out.push(clip(r, start, end)?);
        }
        Ok(out)
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
            .get(&key(start))
            .ok_or(RemapError::NotARangeStart { at: start })?;
        let old_end = r.end();
        let new_end = old_end.checked_add(extra).ok_or(RemapError::Overflow)?;
        let new_pages = r.pages.checked_add(extra).ok_or(RemapError::Overflow)?;
        if !r.mapping.fits(new_pages) {
            return Err(RemapError::Overflow);
        }
        let next = self.ranges.range(key(old_end)..).next().map(|(_, n)| *n);
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
                    self.ranges.remove(&key(n.start));
                }
            }
        }
        self.ranges.insert(key(start), grown);
        Ok(grown)
    }

    /// Extend the range right below the guard page at `guard` (a one-page guard range)
    /// upwards by `extra` pages in place while the guard moves up by `extra` pages, so
    /// it again sits right at the grown end: a `brk` that keeps its guard just above
    /// the break, in one operation instead of unmap guard, grow, map guard. O(log
    /// ranges): one walk, the guard's entry re-keyed in place.
    ///
    /// The moved guard merges with a compatible successor, as [`RemapTable::map`]
    /// would; the grown range keeps its base (the new pages continue the persistent
    /// window). Returns the range now holding the grown pages: `start .. guard +
    /// extra` unless it merged with the moved guard (then it is longer).
    ///
    /// Errors, in this order: `EmptyRange` (extra == 0), `Overflow` (the moved guard's
    /// end overflows), `NotAGuard { at: guard }` (no one-page guard range starts at
    /// `guard`), `NotMapped { at: guard - 1 }` (no range ends right at the guard;
    /// `at` saturates at 0), `Overflow` (the grown range's base or offset end
    /// overflows), `NoRoom` (the moved guard would end above `limit`, or a page of
    /// `[guard + 1, guard + 1 + extra)` is mapped). On error nothing changes.
    pub fn grow_up_behind_guard(
        &mut self,
        guard: Vpn,
        extra: u64,
        limit: Vpn,
    ) -> Result<Range, RemapError> {
        self.grow_up_behind_guard_checked(guard, extra, limit, |_| Ok(()))
    }

    /// [`RemapTable::grow_up_behind_guard`] with the caller's own check: once the
    /// table's checks passed, `check` gets the range below the guard (before growth)
    /// and may refuse with its error, before anything changes. One walk for the whole
    /// operation.
    pub fn grow_up_behind_guard_checked<E: From<RemapError>>(
        &mut self,
        guard: Vpn,
        extra: u64,
        limit: Vpn,
        check: impl FnOnce(&Range) -> Result<(), E>,
    ) -> Result<Range, E> {
        if extra == 0 {
            return Err(RemapError::EmptyRange.into());
        }
        let guard_start = guard.checked_add(extra).ok_or(RemapError::Overflow)?;
        let guard_end = guard_start.checked_add(1).ok_or(RemapError::Overflow)?;
        // One walk down from the moved guard's successor: that successor (if one
        // starts right there), whatever lies in the way, the guard, the range below.
        let mut walk = self.ranges.range_mut(..=key(guard_end)).rev().peekable();
        let next = walk.next_if(|(_, n)| n.start == guard_end).map(|(_, n)| *n);
        let mut in_the_way = false;
        while walk.next_if(|(_, o)| o.start > guard).is_some() {
            in_the_way = true;
        }
        let (guard_key, g) = walk
            .next()
            .filter(|(_, g)| g.start == guard && g.pages == 1 && g.mapping.kind == Kind::Guard)
            .ok_or(RemapError::NotAGuard { at: guard })?;
        let below = RemapError::NotMapped {
            at: guard.saturating_sub(1),
        };
        let (_, r) = walk.next().filter(|(_, r)| r.end() == guard).ok_or(below)?;
        // `r.start + r.pages + extra == guard_start`: representable.
        let new_pages = r.pages + extra;
        if !r.mapping.fits(new_pages) {
            return Err(RemapError::Overflow.into());
        }
        if guard_end > limit || in_the_way {
            return Err(RemapError::NoRoom.into());
        }
        check(r)?;
        let start = r.start;
        let grown = Range {
            pages: new_pages,
            ..*r
        };
        let moved = Range {
            start: guard_start,
            ..*g
        };
        // Only the moved guard's successor can have become compatible with it, and the
        // grown range only with the moved guard.
        let merges = next.is_some_and(|n| moved.merges_with(&n)) || grown.merges_with(&moved);
        if !merges {
            // In place: no key lies in `[guard, guard_start]` but the guard's, so
            // re-keying it keeps the order.
            *r = grown;
            *g = moved;
            guard_key.shift(guard_start);
            return Ok(grown);
        }
        // Rare (a guard with a contiguous base): the general way, merging like `map`.
        self.ranges.remove(&key(guard));
        self.ranges.insert(key(start), grown);
        self.ranges.insert(key(guard_start), moved);
        self.merge_span(start, guard_end);
        Ok(self
            .range_containing(start)
            .ok_or(RemapError::NotARangeStart { at: start })?)
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
        self.grow_down_checked(start, extra, |_| Ok(()))
    }

    /// [`RemapTable::grow_down`] with the caller's own check: once the table's checks
    /// passed, `check` gets the range (before growth) and may refuse with its error,
    /// before anything changes. One walk for the whole operation.
    pub fn grow_down_checked<E: From<RemapError>>(
        &mut self,
        start: Vpn,
        extra: u64,
        check: impl FnOnce(&Range) -> Result<(), E>,
    ) -> Result<Range, E> {
        if extra == 0 {
            return Err(RemapError::EmptyRange.into());
        }
        self.grow_down_walk(
            start,
            |r| match r {
                Some(r) if r.start == start => Ok(extra),
                _ => Err(RemapError::NotARangeStart { at: start }),
            },
            check,
        )
    }

    /// Extend the range holding page `holding` downwards so that it starts at
    /// `new_start` (stack growth to a faulting page, without knowing where the stack
    /// starts): [`RemapTable::grow_down`] by `start - new_start` pages, with the
    /// caller's own check as in [`RemapTable::grow_down_checked`]. One walk.
    ///
    /// Errors, in this order: `NotMapped { at: holding }` (no range holds it),
    /// `EmptyRange` (the range starts at or below `new_start` already), then those of
    /// `grow_down` after `NotARangeStart`, then `check`'s.
    pub fn grow_down_to_checked<E: From<RemapError>>(
        &mut self,
        holding: Vpn,
        new_start: Vpn,
        check: impl FnOnce(&Range) -> Result<(), E>,
    ) -> Result<Range, E> {
        self.grow_down_walk(
            holding,
            |r| match r {
                Some(r) if r.contains(holding) => r
                    .start
                    .checked_sub(new_start)
                    .filter(|&extra| extra > 0)
                    .ok_or(RemapError::EmptyRange),
                _ => Err(RemapError::NotMapped { at: holding }),
            },
            check,
        )
    }

    /// Grow the highest range starting at or below `anchor` down by the number of
    /// pages `extra_of` gives for it (or refuses with), after the table's checks and
    /// `check`: one walk, the entry re-keyed in place unless it merges.
    fn grow_down_walk<E: From<RemapError>>(
        &mut self,
        anchor: Vpn,
        extra_of: impl FnOnce(Option<&Range>) -> Result<u64, RemapError>,
        check: impl FnOnce(&Range) -> Result<(), E>,
    ) -> Result<Range, E> {
        // One walk: the range and its predecessor.
        let mut walk = self.ranges.range_mut(..=key(anchor)).rev();
        let first = walk.next();
        let extra = extra_of(first.as_ref().map(|(_, r)| &**r))?;
        let Some((start_key, r)) = first else {
            // `extra_of` refuses a missing range.
            return Err(RemapError::NotMapped { at: anchor }.into());
        };
        let start = r.start;
        let prev = walk.next().map(|(_, p)| *p);
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
        let grown = Range {
            start: new_start,
            pages,
            mapping: Mapping {
                base,
                kind,
                ..r.mapping
            },
        };
        if prev.is_some_and(|p| p.end() > new_start) {
            return Err(RemapError::NoRoom.into());
        }
        check(r)?;
        // Only the predecessor can have become compatible.
        if let Some(p) = prev.filter(|p| p.merges_with(&grown)) {
            if let Some(pages) = p.pages.checked_add(pages) {
                let merged = Range { pages, ..p };
                self.ranges.remove(&key(start));
                if let Some(slot) = self.ranges.get_mut(&key(p.start)) {
                    *slot = merged;
                }
                return Ok(merged);
            }
        }
        // In place: the predecessor ends at or below `new_start`, so re-keying keeps
        // the order.
        *r = grown;
        start_key.shift(new_start);
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
            .get(&key(start))
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
            self.ranges.remove(&key(start));
        } else if let Some(slot) = self.ranges.get_mut(&key(start)) {
            slot.pages = keep;
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
        for (next, r) in self.ranges.range(key(cursor)..) {
            let next = next.get();
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
        for r in self.ranges.range(..key(cursor)).rev().map(|(_, r)| r) {
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
    /// Every private range (kind `Anon`, writable or not) becomes `cow = true` in
    /// both tables (the parent is re-merged first, as marking can make neighbours
    /// compatible). For every private range of the marked parent, in ascending order,
    /// `rebase(&range)` gives the child's persistent base for it: the child owns its
    /// private pages (the VM layer gives it its own windows seeing the parent's
    /// contents). Guard and object ranges are copied unchanged. The child is merged
    /// too.
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
            if private(r) {
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
            child.ranges.insert(key(c.start), c);
        }
        child.merge_span(0, Vpn::MAX);
        (parent, child, err)
    }

    /// Merge every pair of compatible neighbours from the range before `lo` up to and
    /// including the range starting at `hi`.
    fn merge_span(&mut self, lo: Vpn, hi: Vpn) {
        let first = self
            .ranges
            .range(..key(lo))
            .next_back()
            .or_else(|| self.ranges.range(key(lo)..).next())
            .map(|(k, _)| k.get());
        let Some(mut at) = first else { return };
        loop {
            let Some(cur) = self.ranges.get(&key(at)).copied() else {
                return;
            };
            let Some(next) = self
                .ranges
                .range((Excluded(key(at)), Unbounded))
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
                    self.ranges.remove(&key(next.start));
                    if let Some(slot) = self.ranges.get_mut(&key(at)) {
                        slot.pages = pages;
                    }
                    continue;
                }
            }
            at = next.start;
        }
    }

    /// Check the table's invariants: keys match starts, ranges non-empty, no end / base /
    /// offset overflow, sorted and non-overlapping, and no two compatible neighbours
    /// left unmerged. Returns a description of the first violation.
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut prev: Option<&Range> = None;
        for (k, r) in &self.ranges {
            if k.get() != r.start {
                return Err(format!("key {k:?} holds range {r:?}"));
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
