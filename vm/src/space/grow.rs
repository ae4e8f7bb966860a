//! Growing and shrinking private ranges in place: the heap's break (`grow_up`,
//! `grow_up_behind_guard`, `shrink_up`) and the stack (`grow_down`, `grow_down_to`),
//! each one remap-table operation inside the range's persistent window.

use super::*;

/// Whether window pages `[base, base + pages)` next to range `r` read as zeros: a
/// forked (copy-on-write) range's window may show a frozen layer's pages.
fn reads_zero(ps: &PersistentSpace, r: &Range, base: Ppn, pages: u64) -> bool {
    if r.mapping.cow {
        ps.shows_only_zeros(base, pages)
    } else {
        ps.all_zero(base, pages)
    }
}

impl AddressSpace {
    /// The private range starting exactly at `start`.
    fn private_range_at(&self, start: Vpn) -> Result<(Range, Ppn, u64), VmError> {
        let r = self
            .remap
            .range_at(start)
            .ok_or(RemapError::NotARangeStart { at: start })?;
        if r.mapping.kind != Kind::Anon {
            return Err(VmError::NotGrowable { start });
        }
        let (ws, wl) = self
            .window_of(r.mapping.base)
            .ok_or(VmError::WindowFull { start })?;
        Ok((r, ws, wl))
    }

    /// Grow the private range starting at `start` upwards by `extra` pages in place
    /// (`sbrk`): O(log ranges) whatever the size. The new pages are Zero. Returns the
    /// range now holding them.
    pub fn grow_up(
        &mut self,
        ps: &PersistentSpace,
        start: Vpn,
        extra: u64,
    ) -> Result<Range, VmError> {
        let (r, ws, wl) = self.private_range_at(start)?;
        if extra == 0 {
            return Err(RemapError::EmptyRange.into());
        }
        Self::check_user_span(start, r.pages.saturating_add(extra))?;
        // Virtual room first: pages of sibling ranges of the same window are in use.
        if self.remap.find_free(extra, r.end(), r.end() + extra) != Some(r.end()) {
            return Err(RemapError::NoRoom.into());
        }
        let new_base_end = r
            .mapping
            .base
            .checked_add(r.pages)
            .and_then(|e| e.checked_add(extra))
            .ok_or(VmError::WindowFull { start })?;
        if new_base_end > ws + wl {
            return Err(VmError::WindowFull { start });
        }
        if !reads_zero(ps, &r, r.mapping.base + r.pages, extra) {
            return Err(VmError::Inconsistent(PersistError::NotZero(
                r.mapping.base + r.pages,
            )));
        }
        Ok(self.remap.grow_up(start, extra)?)
    }

    /// Grow the private range right below the guard page at `guard` upwards by `extra`
    /// pages in place while the guard moves up by `extra` pages (`brk` keeping its
    /// guard just above the break): one remap-table walk
    /// ([`RemapTable::grow_up_behind_guard`]), O(log ranges) whatever the sizes. The
    /// moved guard must end at or below `limit` (and inside the user half); `accept`
    /// sees the range (once the table's checks passed) and may refuse it. The new
    /// pages are Zero. Returns the range now holding them.
    ///
    /// No page-table work: guard pages never have PTEs, nor do the free pages the
    /// guard moves onto, so the range's new pages (the guard's old page among them)
    /// get theirs on their first fault.
    ///
    /// Errors, in this order: the remap table's (`EmptyRange`, `Overflow`,
    /// `NotAGuard`, `NotMapped`, `NoRoom`), then `NotGrowable` (not private, or
    /// refused by `accept`), `WindowFull` (no room left in its persistent window),
    /// `Inconsistent`. On error nothing changes.
    pub fn grow_up_behind_guard(
        &mut self,
        ps: &PersistentSpace,
        guard: Vpn,
        extra: u64,
        limit: Vpn,
        accept: impl FnOnce(&Range) -> bool,
    ) -> Result<Range, VmError> {
        let windows = &self.windows;
        self.remap
            .grow_up_behind_guard_checked(guard, extra, limit.min(USER_END_VPN), |r| {
                let start = r.start;
                if r.mapping.kind != Kind::Anon || !accept(r) {
                    return Err(VmError::NotGrowable { start });
                }
                let (ws, wl) = windows
                    .holding(r.mapping.base)
                    .ok_or(VmError::WindowFull { start })?;
                // The remap table checked that the base end does not overflow.
                let new_pages_base = r.mapping.base + r.pages;
                if new_pages_base + extra > ws + wl {
                    return Err(VmError::WindowFull { start });
                }
                if !reads_zero(ps, r, new_pages_base, extra) {
                    return Err(VmError::Inconsistent(PersistError::NotZero(new_pages_base)));
                }
                Ok(())
            })
    }

    /// Grow the private range starting at `start` downwards by `extra` pages in place
    /// (stack growth): one remap-table operation ([`RemapTable::grow_down`]),
    /// O(log ranges). The new pages are Zero. Returns the range now holding them.
    ///
    /// Errors, in this order: the remap table's (`EmptyRange`, `NotARangeStart`,
    /// `Overflow`, `BaseUnderflow`, `NoRoom`), then `NotGrowable` (not private),
    /// `WindowFull` (no room left below in its persistent window), `Inconsistent`.
    /// On error nothing changes.
    pub fn grow_down(
        &mut self,
        ps: &PersistentSpace,
        start: Vpn,
        extra: u64,
    ) -> Result<Range, VmError> {
        let windows = &self.windows;
        self.remap.grow_down_checked(start, extra, |r| {
            Self::check_grow_down(windows, ps, r, extra)
        })
    }

    /// Grow the private range holding page `holding` downwards in place so that it
    /// starts at `new_start` (the stack, to a faulting page below it): as
    /// [`AddressSpace::grow_down`], in one remap-table walk
    /// ([`RemapTable::grow_down_to_checked`]). Errors: the remap table's
    /// (`NotMapped { at: holding }`, `EmptyRange` when the range starts at or below
    /// `new_start`, `Overflow`, `BaseUnderflow`, `NoRoom`), then as `grow_down`.
    pub fn grow_down_to(
        &mut self,
        ps: &PersistentSpace,
        holding: Vpn,
        new_start: Vpn,
    ) -> Result<Range, VmError> {
        let windows = &self.windows;
        self.remap.grow_down_to_checked(holding, new_start, |r| {
            Self::check_grow_down(windows, ps, r, r.start - new_start)
        })
    }

    /// The address space's part of growing the range `r` down by `extra` pages (the
    /// remap table checked the rest): private, room in its window, the pages Zero.
    fn check_grow_down(
        windows: &Windows,
        ps: &PersistentSpace,
        r: &Range,
        extra: u64,
    ) -> Result<(), VmError> {
        let start = r.start;
        if r.mapping.kind != Kind::Anon {
            return Err(VmError::NotGrowable { start });
        }
        let (ws, _) = windows
            .holding(r.mapping.base)
            .ok_or(VmError::WindowFull { start })?;
        // The remap table checked that the base does not go below 0.
        let new_base = r.mapping.base - extra;
        if new_base < ws {
            return Err(VmError::WindowFull { start });
        }
        if !reads_zero(ps, r, new_base, extra) {
            return Err(VmError::Inconsistent(PersistError::NotZero(new_base)));
        }
        Ok(())
    }

    /// Remove the last `pages` pages of the private range starting at `start` (`brk`
    /// shrink): PTEs invalidated, TLB flushed, pages released. Returns the removed tail.
    pub fn shrink_up<M: Machine + ?Sized>(
        &mut self,
        ps: &mut PersistentSpace,
        m: &mut M,
        start: Vpn,
        pages: u64,
    ) -> Result<Range, VmError> {
        self.private_range_at(start)?;
        let tail = self.remap.shrink_up(start, pages)?;
        self.discard(ps, m, &[tail]);
        Ok(tail)
    }
}
