//! The page-table editor: real x86_64 4-level page tables for the low (user) half of an
//! address space, 4 KiB pages only, written through [`PhysMemory`]. It owns the table
//! frames of the low half (never the data frames they point to, and never the kernel's
//! upper-half tables, whose root entries are copied in at creation). Also the hardware's
//! view of a translation ([`hw_walk`]), used by audits and by the emulated CPU.

use crate::frame::{FrameAllocator, PhysAddr, PhysFrame, PAGE_SHIFT};
use crate::phys::PhysMemory;
use core::fmt;
use x86::bits64::paging::{
    PAddr, PDEntry, PDFlags, PDPTEntry, PDPTFlags, PML4Entry, PML4Flags, PTEntry, PTFlags,
};

/// First address of the kernel (upper) half; user addresses are below it.
pub const USER_END: u64 = 0x0000_8000_0000_0000;
/// First virtual page number that is not a user page.
pub const USER_END_VPN: u64 = USER_END >> PAGE_SHIFT;
/// Entries per table.
pub const ENTRIES: usize = 512;
/// Number of PML4 entries of the upper (kernel) half.
pub const KERNEL_ENTRIES: usize = 256;

/// The bits of an x86_64 paging entry, as raw `u64` masks: the one vocabulary
/// for code that reads or builds entries by hand (`vm`'s walks, the kernel's
/// own image and stack mappings); the typed entries come from the `x86` crate.
pub mod bits {
    /// Present.
    pub const PRESENT: u64 = 1;
    /// Writable.
    pub const WRITABLE: u64 = 1 << 1;
    /// User-accessible.
    pub const USER: u64 = 1 << 2;
    /// A large page (2 MiB in a PD, 1 GiB in a PDPT).
    pub const HUGE: u64 = 1 << 7;
    /// Global (kept across CR3 loads when CR4.PGE is on).
    pub const GLOBAL: u64 = 1 << 8;
    /// No-execute (reserved without EFER.NXE).
    pub const NO_EXEC: u64 = 1 << 63;
    /// The physical address field.
    pub const ADDRESS_MASK: u64 = 0x000f_ffff_ffff_f000;
}
use bits::{ADDRESS_MASK, HUGE, NO_EXEC, PRESENT, USER, WRITABLE};

/// Errors of the page-table editor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PagingError {
    /// The address is not in the user (low) half.
    NotUserAddress(u64),
    /// No frame for a page table.
    OutOfMemory,
}

impl fmt::Display for PagingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PagingError::NotUserAddress(a) => write!(f, "{a:#x} is not a user address"),
            PagingError::OutOfMemory => write!(f, "no frame for a page table"),
        }
    }
}

/// Physical frame an entry (of any level) points to.
fn entry_frame(e: u64) -> Option<PhysFrame> {
    PhysFrame::from_start(e & ADDRESS_MASK)
}

/// Entry pointing to a next-level table (`level` = level of the table holding it).
fn table_entry(level: u8, child: PhysFrame) -> u64 {
    let a = PAddr(child.start().as_u64());
    match level {
        4 => PML4Entry::new(a, PML4Flags::P | PML4Flags::RW | PML4Flags::US).0,
        3 => PDPTEntry::new(a, PDPTFlags::P | PDPTFlags::RW | PDPTFlags::US).0,
        _ => PDEntry::new(a, PDFlags::P | PDFlags::RW | PDFlags::US).0,
    }
}

/// Leaf permissions of a user page, the inputs to [`leaf_entry`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeafPerms {
    /// Set the WRITABLE bit.
    pub writable: bool,
    /// Leave NX clear.
    pub executable: bool,
}

impl LeafPerms {
    /// The rights of a page mapped with `perms` whose frame is `exclusive`ly
    /// its own (else shared, so copy-on-write): writable only when both allow
    /// it; executable when `perms` say so or the MMU has no NX (`nx` false).
    pub fn of(perms: remap::Perms, exclusive: bool, nx: bool) -> LeafPerms {
        LeafPerms {
            writable: perms.contains(remap::Perms::WRITE) && exclusive,
            executable: perms.contains(remap::Perms::EXEC) || !nx,
        }
    }
}

/// A present, user-accessible 4 KiB leaf entry mapping `frame`.
pub fn leaf_entry(frame: PhysFrame, perms: LeafPerms) -> PTEntry {
    let mut flags = PTFlags::P | PTFlags::US;
    if perms.writable {
        flags |= PTFlags::RW;
    }
    if !perms.executable {
        flags |= PTFlags::XD;
    }
    PTEntry::new(PAddr(frame.start().as_u64()), flags)
}

/// Index into the table of `level` (4 = PML4 .. 1 = PT) for virtual page `vpn`.
fn index(vpn: u64, level: u8) -> u64 {
    (vpn >> (9 * (level as u32 - 1))) & 511
}

fn slot(table: PhysFrame, i: u64) -> PhysAddr {
    PhysAddr(table.start().as_u64() + i * 8)
}

/// What the MMU would do with a user access, from the tables alone (no TLB).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HwTranslation {
    /// The data frame.
    pub frame: PhysFrame,
    /// Writable at every level.
    pub writable: bool,
    /// User-accessible at every level.
    pub user: bool,
    /// Executable (NX clear at every level).
    pub executable: bool,
    /// The raw leaf entry.
    pub leaf: u64,
}

/// Walk the 4-level tables under `root` for `vaddr` as the MMU does (present required at
/// every level; RW and US are the AND of all levels, NX the OR). `None` if any level is
/// not present, a large page is met (never used for user pages), or `vaddr` is not a
/// user address.
pub fn hw_walk<M: PhysMemory + ?Sized>(
    m: &M,
    root: PhysFrame,
    vaddr: u64,
) -> Option<HwTranslation> {
    if vaddr >= USER_END {
        return None;
    }
    let vpn = vaddr >> PAGE_SHIFT;
    let mut table = root;
    let (mut w, mut u, mut x) = (true, true, true);
    for level in (1..=4u8).rev() {
        let e = m.read_u64(slot(table, index(vpn, level)));
        if e & PRESENT == 0 || (level > 1 && e & HUGE != 0) {
            return None;
        }
        w &= e & WRITABLE != 0;
        u &= e & USER != 0;
        x &= e & NO_EXEC == 0;
        table = entry_frame(e)?;
        if level == 1 {
            return Some(HwTranslation {
                frame: table,
                writable: w,
                user: u,
                executable: x,
                leaf: e,
            });
        }
    }
    None
}

/// The low half of one address space's page tables.
///
/// Holds its root (PML4) frame and counts the table frames below it. Data frames are
/// never allocated or freed here. Destroy with [`PageTable::destroy`] to free the root.
#[derive(Debug, PartialEq, Eq)]
pub struct PageTable {
    root: PhysFrame,
    /// Low-half table frames below the root.
    tables: u64,
}

impl PageTable {
    /// A fresh root: empty low half, upper half = `kernel_upper` (PML4 entries 256..511).
    pub fn new<M: PhysMemory + FrameAllocator + ?Sized>(
        m: &mut M,
        kernel_upper: &[u64; KERNEL_ENTRIES],
    ) -> Result<PageTable, PagingError> {
        let root = m.alloc_frame().ok_or(PagingError::OutOfMemory)?;
        m.zero_frame(root);
        for (i, &e) in kernel_upper.iter().enumerate() {
            if e != 0 {
                m.write_u64(slot(root, (KERNEL_ENTRIES + i) as u64), e);
            }
        }
        Ok(PageTable { root, tables: 0 })
    }

    /// The PML4 frame (what CR3 is loaded with).
    pub fn root(&self) -> PhysFrame {
        self.root
    }

    /// Table frames held, root included.
    pub fn frames_held(&self) -> u64 {
        self.tables + 1
    }

    /// The upper-half PML4 entries of this root.
    pub fn kernel_upper<M: PhysMemory + ?Sized>(&self, m: &M) -> [u64; KERNEL_ENTRIES] {
        let mut out = [0u64; KERNEL_ENTRIES];
        for (i, e) in out.iter_mut().enumerate() {
            *e = m.read_u64(slot(self.root, (KERNEL_ENTRIES + i) as u64));
        }
        out
    }

    /// The address of the leaf entry for `vaddr` when the tables above it
    /// exist (nothing is created), whatever the entry holds, and whether every
    /// level above it allows writes.
    fn existing_leaf_slot<M: PhysMemory + ?Sized>(
        &self,
        m: &M,
        vaddr: u64,
    ) -> Option<(PhysAddr, bool)> {
        if vaddr >= USER_END {
            return None;
        }
        let vpn = vaddr >> PAGE_SHIFT;
        let mut table = self.root;
        let mut writable = true;
        for level in (2..=4u8).rev() {
            let e = m.read_u64(slot(table, index(vpn, level)));
            if e & PRESENT == 0 || e & HUGE != 0 {
                return None;
            }
            writable &= e & WRITABLE != 0;
            table = entry_frame(e)?;
        }
        Some((slot(table, index(vpn, 1)), writable))
    }

    /// The present leaf entry for `vaddr`, if any, with the rights it has in effect:
    /// WRITABLE only when every level above allows writes too.
    pub fn lookup<M: PhysMemory + ?Sized>(&self, m: &M, vaddr: u64) -> Option<PTEntry> {
        let (at, writable) = self.existing_leaf_slot(m, vaddr)?;
        let e = m.read_u64(at);
        let e = if writable { e } else { e & !WRITABLE };
        (e & PRESENT != 0).then_some(PTEntry(e))
    }

    /// Make the whole user half read-only in one stroke (a fork): WRITABLE is cleared
    /// on the root's user entries, so every page below becomes read-only whatever its
    /// own entry says. A write then faults, and the walk that resolves it pushes the
    /// protection down one level at a time along its path ([`PageTable::leaf_slot`]),
    /// so only the regions written ever pay for it. The caller flushes the TLB when
    /// this returns true (an entry changed).
    pub fn write_protect_user<M: PhysMemory + ?Sized>(&mut self, m: &mut M) -> bool {
        let mut changed = false;
        for i in 0..KERNEL_ENTRIES as u64 {
            let at = slot(self.root, i);
            let e = m.read_u64(at);
            if e & PRESENT != 0 && e & WRITABLE != 0 {
                m.write_u64(at, e & !WRITABLE);
                changed = true;
            }
        }
        changed
    }

    /// Install `entry` for `vaddr`, creating intermediate tables (PRESENT|WRITABLE|USER)
    /// as needed. Returns the entry it replaced, if one was present.
    pub fn map_page<M: PhysMemory + FrameAllocator + ?Sized>(
        &mut self,
        m: &mut M,
        vaddr: u64,
        entry: PTEntry,
    ) -> Result<Option<PTEntry>, PagingError> {
        let at = self.leaf_slot(m, vaddr, true)?;
        let old = m.read_u64(at);
        m.write_u64(at, entry.0);
        Ok((old & PRESENT != 0).then_some(PTEntry(old)))
    }

    /// The physical address of the leaf entry (PT slot) for `vaddr`, creating
    /// intermediate tables (PRESENT|WRITABLE|USER) as needed, so a caller can read and
    /// then write the entry with one walk. For a `write`, a level left read-only by
    /// [`PageTable::write_protect_user`] is made writable again after its children are
    /// made read-only (the protection moves one level down), so that the leaf entry
    /// alone decides. Valid until the tables are next pruned
    /// ([`PageTable::unmap_range`], [`PageTable::drop_tables`]).
    #[inline]
    pub fn leaf_slot<M: PhysMemory + FrameAllocator + ?Sized>(
        &mut self,
        m: &mut M,
        vaddr: u64,
        write: bool,
    ) -> Result<PhysAddr, PagingError> {
        if vaddr >= USER_END {
            return Err(PagingError::NotUserAddress(vaddr));
        }
        let vpn = vaddr >> PAGE_SHIFT;
        // Unrolled: this walk is on the page-fault path.
        let pdpt = self.next_table(m, self.root, vpn, 4, write)?;
        let pd = self.next_table(m, pdpt, vpn, 3, write)?;
        let pt = self.next_table(m, pd, vpn, 2, write)?;
        Ok(slot(pt, index(vpn, 1)))
    }

    /// The table that the entry for `vpn` in `table` (of `level` > 1) points to,
    /// created if absent; for a `write`, made writable (see [`PageTable::leaf_slot`]).
    #[inline(always)]
    fn next_table<M: PhysMemory + FrameAllocator + ?Sized>(
        &mut self,
        m: &mut M,
        table: PhysFrame,
        vpn: u64,
        level: u8,
        write: bool,
    ) -> Result<PhysFrame, PagingError> {
        let at = slot(table, index(vpn, level));
        let e = m.read_u64(at);
        if e & (PRESENT | HUGE) == PRESENT {
            let child = entry_frame(e).ok_or(PagingError::OutOfMemory)?;
            if write && e & WRITABLE == 0 {
                push_down_write_protection(m, at, e, child);
            }
            Ok(child)
        } else {
            self.new_table(m, at, level)
        }
    }

    /// Install a fresh, zeroed table of `level - 1` in the entry at `at` (of `level`).
    #[cold]
    #[inline(never)]
    fn new_table<M: PhysMemory + FrameAllocator + ?Sized>(
        &mut self,
        m: &mut M,
        at: PhysAddr,
        level: u8,
    ) -> Result<PhysFrame, PagingError> {
        let t = m.alloc_frame().ok_or(PagingError::OutOfMemory)?;
        m.zero_frame(t);
        m.write_u64(at, table_entry(level, t));
        self.tables += 1;
        Ok(t)
    }

    /// Clear the leaf entry for `vaddr`; returns it if it was present. Tables stay.
    pub fn unmap_page<M: PhysMemory + ?Sized>(&mut self, m: &mut M, vaddr: u64) -> Option<PTEntry> {
        let (at, _) = self.existing_leaf_slot(m, vaddr)?;
        let old = m.read_u64(at);
        if old & PRESENT == 0 {
            return None;
        }
        m.write_u64(at, 0);
        Some(PTEntry(old))
    }

    /// Clear every present leaf in pages `[start_vpn, start_vpn + pages)` (clipped to the
    /// user half), calling `seen(vaddr, old_entry)` for each, and free every table that
    /// becomes empty. Cost is proportional to the tables present, not to `pages`.
    pub fn unmap_range<M: PhysMemory + FrameAllocator + ?Sized>(
        &mut self,
        m: &mut M,
        start_vpn: u64,
        pages: u64,
        mut seen: impl FnMut(u64, PTEntry),
    ) -> u64 {
        let mut n = 0;
        self.edit_range(m, start_vpn, pages, true, &mut |vpn, e| {
            seen(vpn << PAGE_SHIFT, PTEntry(e));
            n += 1;
            0
        });
        n
    }

    /// Clear WRITABLE on every present writable leaf in the page range, calling
    /// `seen(vaddr, old_entry)` for each one changed. Returns how many changed.
    pub fn write_protect_range<M: PhysMemory + FrameAllocator + ?Sized>(
        &mut self,
        m: &mut M,
        start_vpn: u64,
        pages: u64,
        mut seen: impl FnMut(u64, PTEntry),
    ) -> u64 {
        let mut n = 0;
        self.edit_range(m, start_vpn, pages, false, &mut |vpn, e| {
            if e & WRITABLE != 0 {
                seen(vpn << PAGE_SHIFT, PTEntry(e));
                n += 1;
                e & !WRITABLE
            } else {
                e
            }
        });
        n
    }

    /// Call `f(vaddr, entry)` for every present leaf of the low half, in address order.
    pub fn for_each_leaf<M: PhysMemory + ?Sized>(&self, m: &M, mut f: impl FnMut(u64, PTEntry)) {
        scan(m, self.root, 4, 0, 0, USER_END_VPN, !0, &mut |vpn, e| {
            f(vpn << PAGE_SHIFT, PTEntry(e))
        });
    }

    /// Number of table frames reachable from the root through the low half, root
    /// included (an audit: it must equal [`PageTable::frames_held`]).
    pub fn reachable_tables<M: PhysMemory + ?Sized>(&self, m: &M) -> u64 {
        fn count<M: PhysMemory + ?Sized>(m: &M, table: PhysFrame, level: u8, entries: u64) -> u64 {
            let mut n = 1;
            if level > 1 {
                for i in 0..entries {
                    let e = m.read_u64(slot(table, i));
                    if e & PRESENT != 0 && e & HUGE == 0 {
                        if let Some(child) = entry_frame(e) {
                            n += count(m, child, level - 1, ENTRIES as u64);
                        }
                    }
                }
            }
            n
        }
        count(m, self.root, 4, KERNEL_ENTRIES as u64)
    }

    /// Free every low-half table frame, leaving an empty low half under the same root
    /// (the upper half is untouched). Data frames are not touched. The caller flushes the
    /// TLB. Returns the number of present leaves that were dropped.
    pub fn drop_tables<M: PhysMemory + FrameAllocator + ?Sized>(&mut self, m: &mut M) -> u64 {
        let n = self.unmap_range(m, 0, USER_END_VPN, |_, _| {});
        debug_assert_eq!(self.tables, 0);
        n
    }

    /// Drop every low-half table and free the root. The caller must have switched CR3
    /// away from this root first.
    /// The leaf tables are freed without being read (nothing will look at
    /// them again, and a table is zeroed when it is next allocated): the cost is
    /// the entries of the upper three levels, not every PTE.
    pub fn destroy<M: PhysMemory + FrameAllocator + ?Sized>(mut self, m: &mut M) {
        let root = self.root;
        self.free_below(m, root, 4, KERNEL_ENTRIES as u64);
        debug_assert_eq!(self.tables, 0);
        m.free_frame(root);
    }

    /// Free every table linked from the first `entries` entries of `table`
    /// (of `level` ≥ 2), leaving `table`'s own entries as they are.
    fn free_below<M: PhysMemory + FrameAllocator + ?Sized>(
        &mut self,
        m: &mut M,
        table: PhysFrame,
        level: u8,
        entries: u64,
    ) {
        for i in 0..entries {
            let e = m.read_u64(slot(table, i));
            if e & PRESENT == 0 || e & HUGE != 0 {
                continue;
            }
            let Some(child) = entry_frame(e) else {
                continue;
            };
            if level > 2 {
                self.free_below(m, child, level - 1, ENTRIES as u64);
            }
            m.free_frame(child);
            self.tables = self.tables.saturating_sub(1);
        }
    }

    fn edit_range<M: PhysMemory + FrameAllocator + ?Sized>(
        &mut self,
        m: &mut M,
        start_vpn: u64,
        pages: u64,
        prune: bool,
        leaf: &mut dyn FnMut(u64, u64) -> u64,
    ) {
        let lo = start_vpn.min(USER_END_VPN);
        let hi = start_vpn.saturating_add(pages).min(USER_END_VPN);
        if lo < hi {
            let root = self.root;
            self.edit(m, root, 4, 0, lo, hi, prune, leaf);
        }
    }

    /// Edit leaves of `table` (of `level`, covering pages from `base`) within `[lo, hi)`.
    /// Returns whether the table is empty afterwards (only computed when pruning; the
    /// root is never reported empty). Tables left empty by earlier
    /// [`PageTable::unmap_page`] calls are pruned too.
    #[allow(clippy::too_many_arguments)]
    fn edit<M: PhysMemory + FrameAllocator + ?Sized>(
        &mut self,
        m: &mut M,
        table: PhysFrame,
        level: u8,
        base: u64,
        lo: u64,
        hi: u64,
        prune: bool,
        leaf: &mut dyn FnMut(u64, u64) -> u64,
    ) -> bool {
        let span = 1u64 << (9 * (level as u32 - 1));
        let first = (lo - base) / span;
        let last = (hi - 1 - base) / span;
        for i in first..=last {
            let at = slot(table, i);
            let e = m.read_u64(at);
            if e & PRESENT == 0 {
                continue;
            }
            let vbase = base + i * span;
            if level == 1 {
                let new = leaf(vbase, e);
                if new != e {
                    m.write_u64(at, new);
                }
                continue;
            }
            if e & HUGE != 0 {
                log::warn!("page table: unexpected large page in the user half at vpn {vbase:#x}");
                continue;
            }
            let Some(child) = entry_frame(e) else {
                continue;
            };
            let empty = self.edit(
                m,
                child,
                level - 1,
                vbase,
                lo.max(vbase),
                hi.min(vbase + span),
                prune,
                leaf,
            );
            if prune && empty {
                m.write_u64(at, 0);
                m.free_frame(child);
                self.tables = self.tables.saturating_sub(1);
            }
        }
        prune && level < 4 && (0..ENTRIES as u64).all(|i| m.read_u64(slot(table, i)) == 0)
    }
}

/// Move a read-only table entry's protection one level down: every present entry of
/// its `child` table loses WRITABLE, then the entry at `at` (holding `e`) regains it.
/// What any page allows does not change, so no TLB entry needs flushing.
#[cold]
#[inline(never)]
fn push_down_write_protection<M: PhysMemory + ?Sized>(
    m: &mut M,
    at: PhysAddr,
    e: u64,
    child: PhysFrame,
) {
    for i in 0..ENTRIES as u64 {
        let c = slot(child, i);
        let ce = m.read_u64(c);
        if ce & PRESENT != 0 && ce & WRITABLE != 0 {
            m.write_u64(c, ce & !WRITABLE);
        }
    }
    m.write_u64(at, e | WRITABLE);
}

/// Read-only counterpart of `PageTable::edit`. Leaves are reported with the rights in
/// effect: `mask` (start with `!0`) loses WRITABLE below a read-only level.
#[allow(clippy::too_many_arguments)]
fn scan<M: PhysMemory + ?Sized>(
    m: &M,
    table: PhysFrame,
    level: u8,
    base: u64,
    lo: u64,
    hi: u64,
    mask: u64,
    f: &mut dyn FnMut(u64, u64),
) {
    let span = 1u64 << (9 * (level as u32 - 1));
    for i in (lo - base) / span..=(hi - 1 - base) / span {
        let e = m.read_u64(slot(table, i));
        if e & PRESENT == 0 {
            continue;
        }
        let vbase = base + i * span;
        if level == 1 {
            f(vbase, e & mask);
        } else if e & HUGE == 0 {
            if let Some(child) = entry_frame(e) {
                let mask = if e & WRITABLE == 0 {
                    mask & !WRITABLE
                } else {
                    mask
                };
                scan(
                    m,
                    child,
                    level - 1,
                    vbase,
                    lo.max(vbase),
                    hi.min(vbase + span),
                    mask,
                    f,
                );
            }
        }
    }
}
