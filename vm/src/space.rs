//! [`AddressSpace`]: one process's view of memory — its remap table (the truth), the
//! persistent windows its private ranges live in, and its page-table cache — with the
//! operations that keep the three consistent: map/unmap/protect/grow/shrink, fork
//! (copy-on-write), fault resolution, user-address translation, and dropping /
//! rebuilding the page tables.
//!
//! Ownership: an `AddressSpace` owns its remap table, window records and page-table
//! frames. The [`PersistentSpace`] and the [`Machine`] (memory, frames, TLB) are shared
//! by all address spaces and passed to every call, so the kernel can keep them behind
//! one lock.

use crate::fault::{Access, FaultOutcome, Segv, SegvReason};
use crate::frame::{PhysAddr, PhysFrame, PAGE_SHIFT, PAGE_SIZE};
use crate::paging::{
    hw_walk, leaf_entry, LeafPerms, PageTable, PagingError, KERNEL_ENTRIES, USER_END, USER_END_VPN,
};
use crate::persistent::{PersistError, PersistentSpace};
use crate::phys::Machine;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use remap::{Kind, Mapping, Perms, Ppn, Range, RemapError, RemapTable, Vpn};
use x86::bits64::paging::PTEntry;

/// Default room (in pages) reserved in a private range's persistent window below and
/// above the range for in-place growth: 2^20 pages = 4 GiB, a whole 32-bit space.
pub const DEFAULT_GROW_ROOM: u64 = 1 << 20;

/// What a cached translation (a PTE or a TLB entry) grants user code, as
/// [`AddressSpace::check_translation`] checks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Granted {
    /// User-accessible.
    pub user: bool,
    /// Writable.
    pub writable: bool,
    /// Executable.
    pub executable: bool,
}

/// More page flushes than this in one operation become one full flush.
const FLUSH_PAGES_MAX: usize = 16;

/// Errors of address-space operations (not faults: those give a [`Segv`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VmError {
    /// The remap table refused the operation (overlap, not mapped, ...).
    Remap(RemapError),
    /// No frame (for a page table or a page).
    OutOfMemory,
    /// The span is empty, overflows, or reaches the kernel half.
    NotUserRange {
        /// First page of the span.
        start: Vpn,
        /// Number of pages.
        pages: u64,
    },
    /// Persistent page numbers are exhausted.
    NumbersExhausted,
    /// Growing the range starting at `start` would leave its persistent window.
    WindowFull {
        /// The range's first page.
        start: Vpn,
    },
    /// Only private (anonymous) ranges can grow or shrink.
    NotGrowable {
        /// The range's first page.
        start: Vpn,
    },
    /// An internal consistency check failed (a bug, reported instead of corrupting).
    Inconsistent(PersistError),
}

impl fmt::Display for VmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VmError::Remap(e) => write!(f, "remap: {e}"),
            VmError::OutOfMemory => write!(f, "out of memory"),
            VmError::NotUserRange { start, pages } => {
                write!(f, "pages {start:#x}+{pages} are not a user range")
            }
            VmError::NumbersExhausted => write!(f, "persistent page numbers exhausted"),
            VmError::WindowFull { start } => {
                write!(f, "range at page {start:#x} cannot grow further in place")
            }
            VmError::NotGrowable { start } => write!(f, "range at page {start:#x} is not private"),
            VmError::Inconsistent(e) => write!(f, "internal inconsistency: {e}"),
        }
    }
}

impl From<RemapError> for VmError {
    fn from(e: RemapError) -> Self {
        VmError::Remap(e)
    }
}

impl From<PagingError> for VmError {
    fn from(e: PagingError) -> Self {
        match e {
            PagingError::OutOfMemory => VmError::OutOfMemory,
            PagingError::NotUserAddress(a) => VmError::NotUserRange {
                start: a >> PAGE_SHIFT,
                pages: 1,
            },
        }
    }
}

impl From<PersistError> for VmError {
    fn from(e: PersistError) -> Self {
        match e {
            PersistError::NumbersExhausted => VmError::NumbersExhausted,
            PersistError::OutOfMemory => VmError::OutOfMemory,
            other => VmError::Inconsistent(other),
        }
    }
}

/// Room for in-place growth of a new private range, in pages, inside its window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Growth {
    /// Pages the range may grow downwards (stack).
    pub below: u64,
    /// Pages the range may grow upwards (heap).
    pub above: u64,
}

impl Default for Growth {
    fn default() -> Self {
        Growth {
            below: DEFAULT_GROW_ROOM,
            above: DEFAULT_GROW_ROOM,
        }
    }
}

/// Counts of one audit (see [`AddressSpace::audit`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AuditStats {
    /// Present leaf PTEs.
    pub ptes: u64,
    /// Table frames reachable from the root (root included).
    pub table_frames: u64,
}

/// Collects TLB invalidations of one operation.
struct Flusher {
    pages: [u64; FLUSH_PAGES_MAX],
    n: usize,
    all: bool,
}

impl Flusher {
    fn new() -> Self {
        Flusher {
            pages: [0; FLUSH_PAGES_MAX],
            n: 0,
            all: false,
        }
    }
    fn add(&mut self, vaddr: u64) {
        if self.n < FLUSH_PAGES_MAX {
            self.pages[self.n] = vaddr;
            self.n += 1;
        } else {
            self.all = true;
        }
    }
    fn finish<M: Machine + ?Sized>(self, m: &mut M, root: PhysFrame) {
        if self.all {
            m.flush_all(root);
        } else {
            for &va in &self.pages[..self.n] {
                m.flush_page(root, va);
            }
        }
    }
}

/// The access check of the remap table's view, shared by faults and audits.
fn check_access(kind: Kind, perms: Perms, access: Access) -> Result<(), SegvReason> {
    if kind == Kind::Guard {
        return Err(SegvReason::Guard);
    }
    match access {
        Access::Read if perms.is_empty() => Err(SegvReason::NoAccess),
        Access::Write if !perms.contains(Perms::WRITE) => Err(SegvReason::WriteToReadOnly),
        Access::Exec if !perms.contains(Perms::EXEC) => Err(SegvReason::ExecNonExec),
        _ => Ok(()),
    }
}

/// Whether a present leaf entry already permits `access` from user mode.
fn entry_allows(e: PTEntry, access: Access) -> bool {
    e.is_present()
        && e.is_user_mode_allowed()
        && match access {
            Access::Read => true,
            Access::Write => e.is_writeable(),
            Access::Exec => !e.is_instruction_fetching_disabled(),
        }
}

/// The persistent windows of an address space's private ranges, (start, length in
/// pages), sorted by start: a binary search finds the window of a page in a few
/// loads (growth looks it up on every `brk` and stack fault). New windows come from a
/// bump allocator, so they are appended at the end.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Windows(Vec<(Ppn, u64)>);

impl Windows {
    /// The windows of `list`, sorted; for a start given twice the last length counts.
    fn from_list(list: impl IntoIterator<Item = (Ppn, u64)>) -> Windows {
        let mut v: Vec<(Ppn, u64)> = list.into_iter().collect();
        // Stable: equal starts keep their order, and the last of them is kept.
        v.sort_by_key(|&(s, _)| s);
        let mut out: Vec<(Ppn, u64)> = Vec::with_capacity(v.len());
        for w in v {
            match out.last_mut() {
                Some(last) if last.0 == w.0 => *last = w,
                _ => out.push(w),
            }
        }
        Windows(out)
    }

    /// The window holding persistent page `ppn`.
    #[inline]
    fn holding(&self, ppn: Ppn) -> Option<(Ppn, u64)> {
        let i = self.0.partition_point(|&(s, _)| s <= ppn);
        let (s, l) = *self.0.get(i.checked_sub(1)?)?;
        (ppn - s < l).then_some((s, l))
    }

    /// The length of the window starting at `start` (0 if none does).
    fn len_of(&self, start: Ppn) -> u64 {
        self.0
            .binary_search_by_key(&start, |&(s, _)| s)
            .map_or(0, |i| self.0[i].1)
    }

    /// Room for one more window, reserved fallibly (the list doubles as it grows).
    fn reserve_one(&mut self) -> Result<(), VmError> {
        self.0.try_reserve(1).map_err(|_| VmError::OutOfMemory)
    }

    /// Add window `[start, start + len)` (replacing one with the same start); the
    /// caller reserved room with [`Windows::reserve_one`].
    fn insert(&mut self, start: Ppn, len: u64) {
        match self.0.binary_search_by_key(&start, |&(s, _)| s) {
            Ok(i) => self.0[i].1 = len,
            Err(i) => self.0.insert(i, (start, len)),
        }
    }

    fn iter(&self) -> impl Iterator<Item = (Ppn, u64)> + '_ {
        self.0.iter().copied()
    }
}

/// One process's address space. See the module documentation.
///
/// There is no `Drop` cleanup (it cannot reach the shared persistent space and frame
/// allocator): call [`AddressSpace::destroy`], or the pages and table frames leak.
#[derive(Debug)]
pub struct AddressSpace {
    remap: RemapTable,
    /// Persistent windows of this space's private ranges: start -> length in pages.
    /// Every private range lies inside one window; all ranges of one window have the
    /// same `start - base` distance, so virtual disjointness implies persistent
    /// disjointness.
    windows: Windows,
    table: PageTable,
}

impl AddressSpace {
    /// An empty address space whose page-table root carries `kernel_upper` as PML4
    /// entries 256..511.
    pub fn new<M: Machine + ?Sized>(
        m: &mut M,
        kernel_upper: &[u64; KERNEL_ENTRIES],
    ) -> Result<AddressSpace, VmError> {
        Ok(AddressSpace {
            remap: RemapTable::new(),
            windows: Windows::default(),
            table: PageTable::new(m, kernel_upper)?,
        })
    }

    /// Rebuild an address space from its persistent state (a remap table and the
    /// windows of its private ranges, as returned by [`AddressSpace::into_parts`]) with
    /// a fresh, empty page-table root. Every private range must lie inside one window.
    pub fn restore<M: Machine + ?Sized>(
        m: &mut M,
        kernel_upper: &[u64; KERNEL_ENTRIES],
        remap: RemapTable,
        windows: impl IntoIterator<Item = (Ppn, u64)>,
    ) -> Result<AddressSpace, VmError> {
        let windows = Windows::from_list(windows);
        for r in remap.iter().filter(|r| r.mapping.kind == Kind::Anon) {
            let inside = windows
                .holding(r.mapping.base)
                .is_some_and(|(s, l)| r.mapping.base + r.pages <= s + l);
            if !inside {
                return Err(VmError::WindowFull { start: r.start });
            }
        }
        Ok(AddressSpace {
            remap,
            windows,
            table: PageTable::new(m, kernel_upper)?,
        })
    }

    /// Give up the page tables (the cache) and return the persistent state: the remap
    /// table and the windows. The pages stay in the persistent space; bring the space
    /// back with [`AddressSpace::restore`]. The kernel must have switched CR3 away.
    pub fn into_parts<M: Machine + ?Sized>(self, m: &mut M) -> (RemapTable, Vec<(Ppn, u64)>) {
        let root = self.table.root();
        self.table.destroy(m);
        m.flush_all(root);
        (self.remap, self.windows.0)
    }

    /// The remap table (read-only: change it through this type's methods).
    pub fn remap(&self) -> &RemapTable {
        &self.remap
    }

    /// The page-table root to load into CR3.
    pub fn root(&self) -> PhysFrame {
        self.table.root()
    }

    /// The page-table editor (read-only).
    pub fn page_table(&self) -> &PageTable {
        &self.table
    }

    /// Page-table frames held, root included.
    pub fn table_frames(&self) -> u64 {
        self.table.frames_held()
    }

    /// The persistent windows of the private ranges: (first page, length).
    pub fn windows(&self) -> impl Iterator<Item = (Ppn, u64)> + '_ {
        self.windows.iter()
    }

    /// Resident persistent pages of this space's private ranges.
    pub fn resident_pages(&self, ps: &PersistentSpace) -> u64 {
        self.remap
            .iter()
            .filter(|r| r.mapping.kind == Kind::Anon)
            .map(|r| ps.resident_in(r.mapping.base, r.pages).count() as u64)
            .sum()
    }

    fn check_user_span(start: Vpn, pages: u64) -> Result<Vpn, VmError> {
        match start.checked_add(pages) {
            Some(end) if pages > 0 && end <= USER_END_VPN => Ok(end),
            _ => Err(VmError::NotUserRange { start, pages }),
        }
    }

    /// The window holding persistent page `ppn`.
    fn window_of(&self, ppn: Ppn) -> Option<(Ppn, u64)> {
        self.windows.holding(ppn)
    }

    /// Map fresh zero-filled private memory at pages `[start, start + pages)`, with
    /// [`Growth::default`] room to grow in place both ways.
    pub fn map_anon(
        &mut self,
        ps: &mut PersistentSpace,
        start: Vpn,
        pages: u64,
        perms: Perms,
    ) -> Result<(), VmError> {
        self.map_anon_growable(ps, start, pages, perms, Growth::default())
    }

    /// Map fresh zero-filled private memory, reserving a persistent window with `room`
    /// pages below and above the range for [`AddressSpace::grow_down`] /
    /// [`AddressSpace::grow_up`].
    pub fn map_anon_growable(
        &mut self,
        ps: &mut PersistentSpace,
        start: Vpn,
        pages: u64,
        perms: Perms,
        room: Growth,
    ) -> Result<(), VmError> {
        let end = Self::check_user_span(start, pages)?;
        if self.remap.find_free(pages, start, end) != Some(start) {
            // Report the exact overlap without spending a window.
            return Err(self
                .remap
                .clone()
                .map(start, pages, Mapping::anon(0, perms))
                .err()
                .unwrap_or(RemapError::Overlap { at: start })
                .into());
        }
        let len = pages
            .checked_add(room.below)
            .and_then(|l| l.checked_add(room.above))
            .ok_or(VmError::NumbersExhausted)?;
        self.windows.reserve_one()?;
        let window = ps.reserve_window(len)?;
        let base = window + room.below;
        self.remap.map(start, pages, Mapping::anon(base, perms))?;
        self.windows.insert(window, len);
        Ok(())
    }

    /// Map a guard range: any access gives [`SegvReason::Guard`].
    pub fn map_guard(&mut self, start: Vpn, pages: u64) -> Result<(), VmError> {
        Self::check_user_span(start, pages)?;
        self.remap.map(start, pages, Mapping::guard(0))?;
        Ok(())
    }

    /// Map persistent pages `[base, base + pages)` owned by someone else (object `id`
    /// from page `offset`), shared: faults make them resident in place, unmapping does
    /// not release them, and a fork shares the same pages (not copy-on-write).
    pub fn map_object(
        &mut self,
        start: Vpn,
        pages: u64,
        perms: Perms,
        base: Ppn,
        id: u64,
        offset: u64,
    ) -> Result<(), VmError> {
        Self::check_user_span(start, pages)?;
        self.remap
            .map(start, pages, Mapping::object(base, perms, id, offset))?;
        Ok(())
    }

    /// Invalidate the PTEs of the pages of `removed`, flush the TLB, then release the
    /// private pages (in that order, so no CPU can reach a freed frame).
    fn discard<M: Machine + ?Sized>(
        &mut self,
        ps: &mut PersistentSpace,
        m: &mut M,
        removed: &[Range],
    ) -> u64 {
        let mut fl = Flusher::new();
        for r in removed {
            self.table
                .unmap_range(m, r.start, r.pages, |va, _| fl.add(va));
        }
        fl.finish(m, self.table.root());
        let mut released = 0;
        for r in removed {
            if r.mapping.kind == Kind::Anon {
                released += ps.release_range(r.mapping.base, r.pages, m);
            }
        }
        if removed.iter().any(|r| r.mapping.kind == Kind::Anon) {
            self.prune_windows();
        }
        released
    }

    /// Forget windows no private range lies in any more (housekeeping: skipped when
    /// the kernel has no memory for its list).
    fn prune_windows(&mut self) {
        let mut used: Vec<Ppn> = Vec::new();
        if used.try_reserve_exact(self.remap.len()).is_err() {
            return;
        }
        used.extend(
            self.remap
                .iter()
                .filter(|r| r.mapping.kind == Kind::Anon)
                .filter_map(|r| self.window_of(r.mapping.base).map(|(s, _)| s)),
        );
        used.sort_unstable();
        used.dedup();
        self.windows
            .0
            .retain(|(s, _)| used.binary_search(s).is_ok());
    }

    /// Unmap whatever is mapped in `[start, start + pages)` (holes are fine): PTEs are
    /// invalidated and the TLB flushed, private pages released. Returns the number of
    /// private pages that were not Zero.
    pub fn unmap<M: Machine + ?Sized>(
        &mut self,
        ps: &mut PersistentSpace,
        m: &mut M,
        start: Vpn,
        pages: u64,
    ) -> Result<u64, VmError> {
        Self::check_user_span(start, pages)?;
        let removed = self.remap.unmap(start, pages)?;
        Ok(self.discard(ps, m, &removed))
    }

    /// Set the permissions of `[start, start + pages)` (all of it must be mapped). The
    /// PTEs of the span are invalidated (refaulted with the new rights) and the TLB
    /// flushed.
    pub fn protect<M: Machine + ?Sized>(
        &mut self,
        m: &mut M,
        start: Vpn,
        pages: u64,
        perms: Perms,
    ) -> Result<(), VmError> {
        Self::check_user_span(start, pages)?;
        let pieces = self.remap.protect(start, pages, perms)?;
        let mut fl = Flusher::new();
        for r in &pieces {
            self.table
                .unmap_range(m, r.start, r.pages, |va, _| fl.add(va));
        }
        fl.finish(m, self.table.root());
        Ok(())
    }

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
        if !ps.all_zero(r.mapping.base + r.pages, extra) {
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
                if !ps.all_zero(new_pages_base, extra) {
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
        if !ps.all_zero(new_base, extra) {
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

    /// Fork: a child address space with the same mappings. Private ranges get fresh
    /// persistent windows in the child (same offsets inside them) whose pages share the
    /// parent's frames (frame reference counts go up, O(resident pages)); writable
    /// private ranges become copy-on-write in both; the parent's writable PTEs are
    /// write-protected and its TLB flushed. Object and guard ranges are shared as is.
    /// The child's page tables start empty.
    pub fn fork<M: Machine + ?Sized>(
        &mut self,
        ps: &mut PersistentSpace,
        m: &mut M,
    ) -> Result<AddressSpace, VmError> {
        let upper = self.table.kernel_upper(m);
        let child_table = PageTable::new(m, &upper)?;
        // One fresh child window per parent window (all of them are in use).
        let mut wmap: BTreeMap<Ppn, Ppn> = BTreeMap::new();
        for (ws, wl) in self.windows.iter() {
            match ps.reserve_window(wl) {
                Ok(c) => {
                    wmap.insert(ws, c);
                }
                Err(e) => {
                    child_table.destroy(m);
                    return Err(e.into());
                }
            }
        }
        let rebase = |base: Ppn| -> Option<Ppn> {
            let (&ws, &cs) = wmap.range(..=base).next_back()?;
            Some(cs + (base - ws))
        };
        // Every private range is rebased onto the child's windows (the child owns its
        // pages); a base that does not fit is an error and changes nothing.
        let child_remap = match self
            .remap
            .try_fork_copy(|r| rebase(r.mapping.base).unwrap_or(u64::MAX))
        {
            Ok(c) => c,
            Err(e) => {
                child_table.destroy(m);
                return Err(e.into());
            }
        };
        let child_windows =
            Windows::from_list(wmap.iter().map(|(ws, cs)| (*cs, self.windows.len_of(*ws))));
        let child = AddressSpace {
            remap: child_remap,
            windows: child_windows,
            table: child_table,
        };
        // Share contents, then write-protect the parent's writable PTEs.
        let mut fl = Flusher::new();
        let private: Vec<Range> = self
            .remap
            .iter()
            .filter(|r| r.mapping.kind == Kind::Anon)
            .collect();
        for r in &private {
            let shared = rebase(r.mapping.base)
                .ok_or(VmError::Inconsistent(PersistError::NotResident(
                    r.mapping.base,
                )))
                .and_then(|cb| Ok(ps.share_range(r.mapping.base, cb, r.pages)?));
            if let Err(e) = shared {
                fl.finish(m, self.table.root());
                child.destroy(ps, m);
                return Err(e);
            }
            if r.mapping.perms.contains(Perms::WRITE) {
                self.table
                    .write_protect_range(m, r.start, r.pages, |va, _| fl.add(va));
            }
        }
        fl.finish(m, self.table.root());
        Ok(child)
    }

    /// Resolve a user page fault at `vaddr` for `access`.
    ///
    /// Translates through the remap table; refuses guard, unmapped, kernel-half and
    /// permission-violating accesses with a [`Segv`]; makes a Zero page resident in a
    /// fresh zeroed frame; copies a shared frame on write (or takes it over when it is
    /// no longer shared); installs the PTE (writable only if the range allows writes and
    /// the frame is exclusively this page's; NX unless executable) and flushes the old
    /// translation if one was replaced. Never panics on any input.
    pub fn resolve_fault<M: Machine + ?Sized>(
        &mut self,
        ps: &mut PersistentSpace,
        m: &mut M,
        vaddr: u64,
        access: Access,
    ) -> Result<FaultOutcome, Segv> {
        let segv = |reason| Segv {
            addr: vaddr,
            reason,
        };
        if vaddr >= USER_END {
            return Err(segv(SegvReason::KernelAddress));
        }
        let vpn = vaddr >> PAGE_SHIFT;
        let page_va = vpn << PAGE_SHIFT;
        let t = self
            .remap
            .translate(vpn)
            .ok_or(segv(SegvReason::Unmapped))?;
        check_access(t.kind, t.perms, access).map_err(segv)?;
        // One walk: the leaf slot is read (spurious check) and written through `at`.
        let at = self
            .table
            .leaf_slot(m, page_va)
            .map_err(|_| segv(SegvReason::OutOfMemory))?;
        let current = PTEntry(m.read_u64(at));
        let may_write = t.perms.contains(Perms::WRITE);
        // (frame, outcome, whether the frame is exclusively this page's)
        let (frame, outcome, exclusive) = match ps.frame(t.page) {
            None => {
                let f = m.alloc_frame().ok_or(segv(SegvReason::OutOfMemory))?;
                m.zero_frame(f);
                if let Err(e) = ps.make_resident(t.page, f) {
                    log::error!("resolve_fault: {e}");
                    m.free_frame(f);
                    return Err(segv(SegvReason::OutOfMemory));
                }
                (f, FaultOutcome::ZeroFilled, true)
            }
            Some(f) => {
                let refs = ps.refcount(f);
                if access == Access::Write && refs > 1 {
                    let n = m.alloc_frame().ok_or(segv(SegvReason::OutOfMemory))?;
                    m.copy_frame(f, n);
                    if let Err(e) = ps.replace_frame(t.page, n, m) {
                        log::error!("resolve_fault: {e}");
                        m.free_frame(n);
                        return Err(segv(SegvReason::OutOfMemory));
                    }
                    (n, FaultOutcome::CowCopied, true)
                } else {
                    if current.address().as_u64() == f.start().as_u64()
                        && entry_allows(current, access)
                    {
                        return Ok(FaultOutcome::Spurious);
                    }
                    let outcome = if access == Access::Write && t.cow {
                        FaultOutcome::CowTakenOver
                    } else {
                        FaultOutcome::Minor
                    };
                    (f, outcome, refs == 1)
                }
            }
        };
        let entry = leaf_entry(
            frame,
            LeafPerms {
                writable: may_write && exclusive,
                executable: t.perms.contains(Perms::EXEC) || !m.nx_supported(),
            },
        );
        m.write_u64(at, entry.0);
        if current.is_present() {
            m.flush_page(self.table.root(), page_va);
        }
        Ok(outcome)
    }

    /// PTE rights for a page with `perms` in `frame`: writable only when the frame is
    /// exclusively this page's; executable when `perms` say so or the MMU has no NX.
    fn leaf_perms(ps: &PersistentSpace, perms: Perms, frame: PhysFrame, nx: bool) -> LeafPerms {
        LeafPerms {
            writable: perms.contains(Perms::WRITE) && ps.refcount(frame) == 1,
            executable: perms.contains(Perms::EXEC) || !nx,
        }
    }

    /// The physical address behind user address `vaddr` for `access`, resolving the
    /// fault first if the PTE does not allow it yet (so a syscall can touch a page the
    /// program never did). A write access breaks copy-on-write sharing. Valid until the
    /// next change to this address space.
    pub fn translate_user<M: Machine + ?Sized>(
        &mut self,
        ps: &mut PersistentSpace,
        m: &mut M,
        vaddr: u64,
        access: Access,
    ) -> Result<PhysAddr, Segv> {
        for _ in 0..2 {
            if let Some(e) = self.table.lookup(m, vaddr) {
                if entry_allows(e, access) {
                    return Ok(PhysAddr(e.address().as_u64() + (vaddr & (PAGE_SIZE - 1))));
                }
            }
            self.resolve_fault(ps, m, vaddr, access)?;
        }
        log::error!(
            "translate_user: fault at {vaddr:#x} resolved but PTE still refuses {access:?}"
        );
        Err(Segv {
            addr: vaddr,
            reason: SegvReason::OutOfMemory,
        })
    }

    /// Copy `buf.len()` bytes from user address `vaddr` (checked, faulting pages in).
    /// On error part of `buf` may have been filled.
    pub fn read_user<M: Machine + ?Sized>(
        &mut self,
        ps: &mut PersistentSpace,
        m: &mut M,
        vaddr: u64,
        buf: &mut [u8],
    ) -> Result<(), Segv> {
        let mut done = 0usize;
        while done < buf.len() {
            let va = vaddr.checked_add(done as u64).ok_or(Segv {
                addr: u64::MAX,
                reason: SegvReason::KernelAddress,
            })?;
            let pa = self.translate_user(ps, m, va, Access::Read)?;
            let n = ((PAGE_SIZE - pa.frame_offset()) as usize).min(buf.len() - done);
            m.read_bytes(pa, &mut buf[done..done + n]);
            done += n;
        }
        Ok(())
    }

    /// Copy `data` to user address `vaddr` (checked, faulting pages in, breaking
    /// copy-on-write). On error a prefix may have been written.
    pub fn write_user<M: Machine + ?Sized>(
        &mut self,
        ps: &mut PersistentSpace,
        m: &mut M,
        vaddr: u64,
        data: &[u8],
    ) -> Result<(), Segv> {
        let mut done = 0usize;
        while done < data.len() {
            let va = vaddr.checked_add(done as u64).ok_or(Segv {
                addr: u64::MAX,
                reason: SegvReason::KernelAddress,
            })?;
            let pa = self.translate_user(ps, m, va, Access::Write)?;
            let n = ((PAGE_SIZE - pa.frame_offset()) as usize).min(data.len() - done);
            m.write_bytes(pa, &data[done..done + n]);
            done += n;
        }
        Ok(())
    }

    /// Drop every low-half page table (the cache), flushing the TLB; the next accesses
    /// refault. Returns the number of PTEs dropped.
    pub fn drop_tables<M: Machine + ?Sized>(&mut self, m: &mut M) -> u64 {
        let n = self.table.drop_tables(m);
        m.flush_all(self.table.root());
        n
    }

    /// Rebuild the page tables from the remap table and the persistent space: drop
    /// them, then install a PTE for every resident page of every accessible range
    /// (eager prefault, e.g. after a restore). Returns the number of PTEs installed.
    pub fn rebuild_tables<M: Machine + ?Sized>(
        &mut self,
        ps: &PersistentSpace,
        m: &mut M,
    ) -> Result<u64, VmError> {
        self.drop_tables(m);
        let mut n = 0;
        for r in self.remap.iter() {
            if r.mapping.kind == Kind::Guard || r.mapping.perms.is_empty() {
                continue;
            }
            for (p, f) in ps.resident_in(r.mapping.base, r.pages) {
                let va = (r.start + (p - r.mapping.base)) << PAGE_SHIFT;
                let nx = m.nx_supported();
                let entry = leaf_entry(f, Self::leaf_perms(ps, r.mapping.perms, f, nx));
                self.table.map_page(m, va, entry)?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Release everything: page tables (root included) and every private page. The
    /// kernel must have switched CR3 to another root first. Object pages are not
    /// touched (they belong to their object).
    pub fn destroy<M: Machine + ?Sized>(self, ps: &mut PersistentSpace, m: &mut M) {
        let root = self.table.root();
        self.table.destroy(m);
        m.flush_all(root);
        for r in self.remap.iter() {
            if r.mapping.kind == Kind::Anon {
                ps.release_range(r.mapping.base, r.pages, m);
            }
        }
    }

    /// Check one cached translation (a PTE, or a TLB entry of an emulated machine)
    /// against the truth: `vaddr` must be mapped by an accessible non-guard range, its
    /// persistent page resident in `frame`, the translation user-accessible, writable
    /// only if the range allows writes and the frame is exclusive, executable exactly
    /// when the range is (or always, when the MMU has no NX: `nx` false). Returns why
    /// not.
    pub fn check_translation(
        &self,
        ps: &PersistentSpace,
        vaddr: u64,
        frame: PhysFrame,
        granted: Granted,
        nx: bool,
    ) -> Result<(), String> {
        let Granted {
            user,
            writable,
            executable,
        } = granted;
        let t = self
            .remap
            .translate(vaddr >> PAGE_SHIFT)
            .ok_or_else(|| format!("{vaddr:#x}: page not mapped"))?;
        if t.kind == Kind::Guard || t.perms.is_empty() {
            return Err(format!("{vaddr:#x}: inaccessible range {t:?}"));
        }
        let f = ps
            .frame(t.page)
            .ok_or_else(|| format!("{vaddr:#x}: page {:#x} not resident", t.page))?;
        if f != frame {
            return Err(format!(
                "{vaddr:#x}: maps {frame:?} but page {:#x} is in {f:?}",
                t.page
            ));
        }
        if !user {
            return Err(format!("{vaddr:#x}: not user-accessible"));
        }
        if writable && !(t.perms.contains(Perms::WRITE) && ps.refcount(f) == 1) {
            return Err(format!(
                "{vaddr:#x}: writable but perms {:?}, refcount {}",
                t.perms,
                ps.refcount(f)
            ));
        }
        if executable != (t.perms.contains(Perms::EXEC) || !nx) {
            return Err(format!(
                "{vaddr:#x}: executable={executable} but perms {:?}",
                t.perms
            ));
        }
        Ok(())
    }

    /// Check that the page tables are a faithful cache: every present leaf is allowed
    /// by the remap table (not a guard, some permission), points at the frame the
    /// persistent space holds for that page, is user-accessible, writable only if the
    /// range allows writes and the frame is exclusive, NX exactly when not executable,
    /// and the hardware walk agrees; and the reachable table frames match the count
    /// held. Returns a description of the first violation.
    pub fn audit<M: Machine + ?Sized>(
        &self,
        ps: &PersistentSpace,
        m: &M,
    ) -> Result<AuditStats, String> {
        let mut err: Option<String> = None;
        let mut ptes = 0;
        self.table.for_each_leaf(m, |va, e| {
            if err.is_some() {
                return;
            }
            ptes += 1;
            let Some(frame) = PhysFrame::from_start(e.address().as_u64()) else {
                err = Some(format!("PTE {e:?} at {va:#x}: bad address"));
                return;
            };
            let granted = Granted {
                user: e.is_user_mode_allowed(),
                writable: e.is_writeable(),
                executable: !e.is_instruction_fetching_disabled(),
            };
            let r = self.check_translation(ps, va, frame, granted, m.nx_supported());
            if let Err(why) = r {
                err = Some(format!("PTE {e:?}: {why}"));
                return;
            }
            match hw_walk(m, self.table.root(), va) {
                Some(h)
                    if h.leaf == e.0
                        && h.user
                        && h.writable == e.is_writeable()
                        && h.executable != e.is_instruction_fetching_disabled() => {}
                other => {
                    err = Some(format!(
                        "PTE {e:?} at {va:#x}: hardware walk gives {other:?}"
                    ))
                }
            }
        });
        if let Some(e) = err {
            return Err(e);
        }
        let table_frames = self.table.reachable_tables(m);
        if table_frames != self.table.frames_held() {
            return Err(format!(
                "{table_frames} table frames reachable, {} counted",
                self.table.frames_held()
            ));
        }
        for r in self.remap.iter() {
            if r.mapping.kind == Kind::Anon
                && self
                    .window_of(r.mapping.base)
                    .is_none_or(|(s, l)| r.mapping.base + r.pages > s + l)
            {
                return Err(format!("range {r:?} is outside its window"));
            }
        }
        Ok(AuditStats { ptes, table_frames })
    }
}
