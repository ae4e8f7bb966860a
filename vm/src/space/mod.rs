//! [`AddressSpace`]: one process's view of memory — its remap table (the truth), the
//! persistent windows its private ranges live in, and its page-table cache — with the
//! operations that keep the three consistent: map/unmap/protect/grow/shrink, fork
//! (copy-on-write), fault resolution, user-address translation, and dropping /
//! rebuilding the page tables.
//!
//! The operations live by family: mapping, unmapping, protecting and the page-table
//! cache here; growth in place in `grow`, fork in `fork`, user copies in `copy`,
//! the audit in `audit`, and fault resolution in [`crate::fault`].
//!
//! Ownership: an `AddressSpace` owns its remap table, window records and page-table
//! frames. The [`PersistentSpace`] and the [`Machine`] (memory, frames, TLB) are shared
//! by all address spaces and passed to every call, so the kernel can keep them behind
//! one lock.

use crate::fault::{Access, Segv, SegvReason};
use crate::frame::{PhysAddr, PhysFrame, PAGE_SHIFT, PAGE_SIZE};
use crate::paging::{
    hw_walk, leaf_entry, LeafPerms, PageTable, PagingError, KERNEL_ENTRIES, USER_END_VPN,
};
use crate::persistent::{PersistError, PersistentSpace};
use crate::phys::Machine;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use remap::{Kind, Mapping, Perms, Ppn, Range, RemapError, RemapTable, Vpn};
use x86::bits64::paging::PTEntry;

mod audit;
mod copy;
mod fork;
mod grow;
mod user;

pub use user::UserSpace;

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
    /// The persistent page is not in one of this address space's windows (a bug
    /// in the caller: a space only fills and shares into its own pages).
    ForeignPage {
        /// The persistent page.
        ppn: Ppn,
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
            VmError::ForeignPage { ppn } => {
                write!(f, "persistent page {ppn:#x} is not in this space's windows")
            }
            VmError::Inconsistent(e) => write!(f, "internal inconsistency: {e}"),
        }
    }
}

impl From<RemapError> for VmError {
    fn from(e: RemapError) -> Self {
        match e {
            // One out-of-memory, whichever structure ran out.
            RemapError::OutOfMemory => VmError::OutOfMemory,
            e => VmError::Remap(e),
        }
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
pub(crate) fn check_access(kind: Kind, perms: Perms, access: Access) -> Result<(), SegvReason> {
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
pub(crate) fn entry_allows(e: PTEntry, access: Access) -> bool {
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
pub(crate) struct Windows(Vec<(Ppn, u64)>);

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
    pub(crate) remap: RemapTable,
    /// Persistent windows of this space's private ranges: start -> length in pages.
    /// Every private range lies inside one window; all ranges of one window have the
    /// same `start - base` distance, so virtual disjointness implies persistent
    /// disjointness.
    pub(crate) windows: Windows,
    pub(crate) table: PageTable,
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

    /// Pages of this space's private ranges that show a frame, and how many of them
    /// are the space's own (the rest it sees through a frozen layer of a fork).
    /// O(pages shown); `OutOfMemory` when the kernel has no room to list them.
    pub fn resident_pages(&self, ps: &PersistentSpace) -> Result<(u64, u64), VmError> {
        let (mut shown, mut own) = (0, 0);
        for r in self.remap.iter().filter(|r| r.mapping.kind == Kind::Anon) {
            ps.for_each_shown(r.mapping.base, r.pages, |_, _, is_own| {
                shown += 1;
                own += u64::from(is_own);
            })?;
        }
        Ok((shown, own))
    }

    fn check_user_span(start: Vpn, pages: u64) -> Result<Vpn, VmError> {
        match start.checked_add(pages) {
            Some(end) if pages > 0 && end <= USER_END_VPN => Ok(end),
            _ => Err(VmError::NotUserRange { start, pages }),
        }
    }

    /// The window holding persistent page `ppn`.
    pub(crate) fn window_of(&self, ppn: Ppn) -> Option<(Ppn, u64)> {
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
                released += ps.release_span(r.mapping.base, r.pages, m);
            }
        }
        if removed.iter().any(|r| r.mapping.kind == Kind::Anon) {
            self.prune_windows(ps, m);
        }
        released
    }

    /// Release windows no private range lies in any more (housekeeping: skipped when
    /// the kernel has no memory for its list).
    fn prune_windows<M: Machine + ?Sized>(&mut self, ps: &mut PersistentSpace, m: &mut M) {
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
        self.windows.0.retain(|&(s, len)| {
            let in_use = used.binary_search(&s).is_ok();
            if !in_use {
                ps.release_window(s, len, m);
            }
            in_use
        });
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
        let nx = m.nx_supported();
        for r in self.remap.iter() {
            if r.mapping.kind == Kind::Guard || r.mapping.perms.is_empty() {
                continue;
            }
            let mut result = Ok(());
            ps.for_each_shown(r.mapping.base, r.pages, |p, f, own| {
                if result.is_err() {
                    return;
                }
                let va = (r.start + (p - r.mapping.base)) << PAGE_SHIFT;
                let exclusive = own && ps.refcount(f) == 1;
                let entry = leaf_entry(f, LeafPerms::of(r.mapping.perms, exclusive, nx));
                result = self.table.map_page(m, va, entry).map(|_| n += 1);
            })?;
            result?;
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
        // Every private range lies in one of the windows.
        for (start, len) in self.windows.iter() {
            ps.release_window(start, len, m);
        }
    }
}
