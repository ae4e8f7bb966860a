//! The persistent page space: one huge `u64` space of persistent page numbers, handed
//! out as non-overlapping *windows* by a bump allocator, the sparse per-page state
//! (a page without an entry is [`PageState::Zero`]) in a radix tree keyed by page
//! number, and the copy-on-write layers of forked windows (`layers`). Resident pages point at physical
//! frames; frames are reference counted so that several pages (a parent's and a forked
//! child's) can share one frame's contents copy-on-write.
//!
//! Plain data only (page numbers, frame numbers, counts): this is what snapshots will
//! persist. Frames are freed through the caller's [`FrameAllocator`] when their count
//! drops to zero.

use crate::frame::{FrameAllocator, PhysFrame};
use crate::phys::Machine;
use crate::radix::Radix;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use remap::Ppn;

mod layers;

pub use layers::{ForkPlan, Found, Lookup};
use layers::{Frozen, Layer};

/// First persistent page number handed out (0 is never a window page).
pub const FIRST_PPN: Ppn = 1 << 12;
/// Unused numbers left between two windows, so that ranges of different windows can
/// never have contiguous bases (and so never merge in a remap table).
pub const WINDOW_GAP: u64 = 1;

/// State of one persistent page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PageState {
    /// Never written (or released): reads as zeros, holds no frame.
    Zero,
    /// In memory, in this frame (which may be shared with other pages: see
    /// [`PersistentSpace::refcount`]).
    Resident(PhysFrame),
}

/// Errors of the persistent space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersistError {
    /// The page-number space is exhausted (a window of this size no longer fits).
    NumbersExhausted,
    /// The page is already resident (or otherwise not Zero) and was expected Zero.
    NotZero(Ppn),
    /// The page is not resident.
    NotResident(Ppn),
    /// A page span leaves the `u64` page-number space.
    BadRange,
    /// The kernel's memory could not hold the bookkeeping of one more page.
    OutOfMemory,
}

impl fmt::Display for PersistError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PersistError::NumbersExhausted => write!(f, "persistent page numbers exhausted"),
            PersistError::NotZero(p) => write!(f, "persistent page {p:#x} is not zero"),
            PersistError::NotResident(p) => write!(f, "persistent page {p:#x} is not resident"),
            PersistError::BadRange => write!(f, "page span overflows"),
            PersistError::OutOfMemory => write!(f, "no kernel memory for page bookkeeping"),
        }
    }
}

/// The persistent page space (one per system; the kernel keeps it behind a lock).
///
/// Page states and frame counts are kept in radix trees ([`Radix`]) keyed by page and
/// by frame number: a fault looks both up in a few indexed loads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersistentSpace {
    /// Next unreserved page number.
    next: Ppn,
    /// Resident pages: page number -> frame number + 1 (absent: Zero).
    pages: Radix,
    /// Reference count of every frame held, keyed by frame number (absent: 0).
    refs: Radix,
    /// Copy-on-write layers of forked windows, keyed by first page number (see
    /// [`layers`]); windows never forked have none.
    layers: BTreeMap<Ppn, Layer>,
    /// The frozen layers those windows see through, keyed by their store.
    frozen: BTreeMap<Ppn, Frozen>,
    /// Number of [`MASKED`] entries in `pages`.
    masks: u64,
}

/// A `pages` value that stores no frame but hides what the frozen layers below a
/// window show (the page was released after a fork: it reads as zeros).
const MASKED: u64 = u64::MAX;

impl Default for PersistentSpace {
    fn default() -> Self {
        Self::new()
    }
}

/// The frame a `pages` value names (frame number + 1; 0 and [`MASKED`] name none).
fn frame_of(v: u64) -> Option<PhysFrame> {
    if v == MASKED {
        return None;
    }
    PhysFrame::from_number(v.wrapping_sub(1))
}

/// The `pages` value naming `frame`.
fn page_value(frame: PhysFrame) -> u64 {
    frame.number() + 1
}

impl PersistentSpace {
    /// Give back the room the page and frame-count trees kept from their
    /// peak (after an address space went: see `Radix::shrink_arena`).
    pub fn trim(&mut self) {
        self.pages.shrink_arena();
        self.refs.shrink_arena();
    }

    /// An empty space.
    pub const fn new() -> PersistentSpace {
        PersistentSpace {
            next: FIRST_PPN,
            pages: Radix::new(),
            refs: Radix::new(),
            layers: BTreeMap::new(),
            frozen: BTreeMap::new(),
            masks: 0,
        }
    }

    /// Reserve a window of `pages` fresh page numbers (all Zero) and return its first
    /// number. Windows never overlap and are separated by [`WINDOW_GAP`] numbers.
    pub fn reserve_window(&mut self, pages: u64) -> Result<Ppn, PersistError> {
        let start = self.next;
        let next = start
            .checked_add(pages)
            .and_then(|e| e.checked_add(WINDOW_GAP))
            .ok_or(PersistError::NumbersExhausted)?;
        self.next = next;
        Ok(start)
    }

    /// First page number not yet handed out by [`PersistentSpace::reserve_window`].
    pub fn next_unreserved(&self) -> Ppn {
        self.next
    }

    /// State of page `ppn`.
    pub fn state(&self, ppn: Ppn) -> PageState {
        match self.frame(ppn) {
            Some(f) => PageState::Resident(f),
            None => PageState::Zero,
        }
    }

    /// The frame page `ppn` of a window shows: its own, or one of a frozen layer
    /// below (see [`PersistentSpace::lookup`]).
    pub fn frame(&self, ppn: Ppn) -> Option<PhysFrame> {
        match self.lookup(ppn).found {
            Found::Own(f) | Found::Below(f) => Some(f),
            Found::Zero => None,
        }
    }

    /// The frame stored at persistent page `store` itself, layers aside (the fault
    /// path's lookup for a window never forked).
    #[inline]
    pub(crate) fn stored_frame(&self, store: Ppn) -> Option<PhysFrame> {
        frame_of(self.pages.get(store))
    }

    /// Number of resident pages referencing `frame` (0 if the space does not hold it).
    #[inline]
    pub fn refcount(&self, frame: PhysFrame) -> u32 {
        u32::try_from(self.refs.get(frame.number())).unwrap_or(u32::MAX)
    }

    /// Number of resident pages (pages that hold a frame).
    pub fn resident_pages(&self) -> usize {
        self.pages.len() - self.masks as usize
    }

    /// Number of copy-on-write layers: (forked windows, frozen layers).
    pub fn layer_count(&self) -> (usize, usize) {
        (self.layers.len(), self.frozen.len())
    }

    /// Number of distinct frames held (each is freed when its count reaches zero).
    pub fn frames_held(&self) -> usize {
        self.refs.len()
    }

    /// Resident pages in `[base, base + pages)`, in order.
    pub fn resident_in(
        &self,
        base: Ppn,
        pages: u64,
    ) -> impl Iterator<Item = (Ppn, PhysFrame)> + '_ {
        self.pages
            .range(base, base.saturating_add(pages))
            .filter_map(|(p, v)| Some((p, frame_of(v)?)))
    }

    /// Whether every page of `[base, base + pages)` of a window reads as zeros
    /// (stores nothing, and shows nothing of a frozen layer below). A window never
    /// forked is checked as [`PersistentSpace::all_zero`] does; the caller that
    /// knows it was not forked (its range is not copy-on-write) calls that.
    pub fn shows_only_zeros(&self, base: Ppn, pages: u64) -> bool {
        let mut zero = true;
        let walked = self.for_each_shown(base, pages, |_, _, _| zero = false);
        walked.is_ok() && zero
    }

    /// Whether every page of `[base, base + pages)` of a window never forked is
    /// Zero (stores nothing).
    pub fn all_zero(&self, base: Ppn, pages: u64) -> bool {
        // A few pages (one `sbrk`, one stack page): direct lookups beat a tree walk.
        if pages <= 4 {
            return (base..base.saturating_add(pages)).all(|p| self.pages.get(p) == 0);
        }
        self.pages.next(base, base.saturating_add(pages)).is_none()
    }

    /// Room in both trees for `updates` more insertions (see
    /// [`Radix::reserve_for`]); nothing changes when there is none.
    #[inline]
    fn reserve(&mut self, updates: usize) -> Result<(), PersistError> {
        self.pages
            .reserve_for(updates)
            .and_then(|()| self.refs.reserve_for(updates))
            .map_err(|_| PersistError::OutOfMemory)
    }

    /// Take one more reference to `frame`.
    fn add_ref(&mut self, frame: PhysFrame) {
        self.refs.update(frame.number(), |c| c.saturating_add(1));
    }

    /// Make the Zero (or masked) page `ppn` resident in `frame`, a frame the caller
    /// just allocated (and filled); the space now owns one reference to it. `ppn` is
    /// where the page is stored ([`Lookup::store`]).
    pub fn make_resident(&mut self, ppn: Ppn, frame: PhysFrame) -> Result<(), PersistError> {
        self.reserve(1)?;
        let v = page_value(frame);
        let old = self
            .pages
            .update(ppn, |old| if old == 0 || old == MASKED { v } else { old });
        match old {
            0 => {}
            MASKED => self.masks -= 1,
            _ => return Err(PersistError::NotZero(ppn)),
        }
        self.add_ref(frame);
        Ok(())
    }

    /// Make the Zero page `dst` share the contents of `src`: if `src` is resident, `dst`
    /// becomes resident in the same frame (its count goes up) and `true` is returned; if
    /// `src` is Zero, `dst` stays Zero and `false` is returned.
    pub fn share(&mut self, src: Ppn, dst: Ppn) -> Result<bool, PersistError> {
        let dst = self.store_of(dst);
        if self.pages.get(dst) != 0 {
            return Err(PersistError::NotZero(dst));
        }
        let Some(frame) = self.stored_frame(src) else {
            return Ok(false);
        };
        self.reserve(1)?;
        self.pages.set(dst, page_value(frame));
        self.add_ref(frame);
        Ok(true)
    }

    /// Share every resident page of `[src, src + pages)` into the same offset of
    /// `[dst, dst + pages)` (a fork). O(resident pages of the source). The destination
    /// must be all Zero (checked first; nothing changes on error). Returns the number
    /// of pages shared.
    pub fn share_range(&mut self, src: Ppn, dst: Ppn, pages: u64) -> Result<u64, PersistError> {
        let dst_end = dst.checked_add(pages).ok_or(PersistError::BadRange)?;
        if let Some((p, _)) = self.pages.next(dst, dst_end) {
            return Err(PersistError::NotZero(p));
        }
        let mut list: Vec<(Ppn, PhysFrame)> = Vec::new();
        let n = self.resident_in(src, pages).count();
        list.try_reserve_exact(n)
            .map_err(|_| PersistError::OutOfMemory)?;
        list.extend(self.resident_in(src, pages));
        // New keys only in `pages`; the frames are already counted, so `refs`
        // only changes existing keys and needs no room.
        self.pages
            .reserve_for_span(list.len(), pages)
            .map_err(|_| PersistError::OutOfMemory)?;
        for &(p, frame) in &list {
            self.pages.set(dst + (p - src), page_value(frame));
            self.add_ref(frame);
        }
        Ok(list.len() as u64)
    }

    /// Give page `ppn` a new frame `new` (just allocated and filled by the caller, e.g.
    /// a copy-on-write copy), dropping its reference to the old one (freed at zero).
    /// Returns the old frame.
    pub fn replace_frame(
        &mut self,
        ppn: Ppn,
        new: PhysFrame,
        frames: &mut (impl FrameAllocator + ?Sized),
    ) -> Result<PhysFrame, PersistError> {
        self.reserve(1)?;
        let v = page_value(new);
        let old = self
            .pages
            .update(ppn, |old| if old == 0 || old == MASKED { old } else { v });
        let old = frame_of(old).ok_or(PersistError::NotResident(ppn))?;
        self.add_ref(new);
        self.unref(old, frames);
        Ok(old)
    }

    /// Release page `ppn` (it becomes Zero): drop its frame reference, freeing the frame
    /// when no page uses it any more. Returns whether a frame was freed.
    pub fn release(&mut self, ppn: Ppn, frames: &mut (impl FrameAllocator + ?Sized)) -> bool {
        match self.pages.set(ppn, 0) {
            MASKED => {
                self.masks -= 1;
                false
            }
            v => match frame_of(v) {
                Some(f) => self.unref(f, frames),
                None => false,
            },
        }
    }

    /// Make the Zero page `ppn` resident with `data` (at most one page; more is
    /// cut) at its start and zeros after, in a fresh frame. All-zero data allocates
    /// nothing and leaves the page Zero. Returns whether a frame was allocated.
    pub fn fill_page<M: Machine + ?Sized>(
        &mut self,
        m: &mut M,
        ppn: Ppn,
        data: &[u8],
    ) -> Result<bool, PersistError> {
        if data.iter().all(|&b| b == 0) {
            return Ok(false);
        }
        let data = data.get(..crate::PAGE_SIZE as usize).unwrap_or(data);
        let ppn = self.store_of(ppn);
        let f = m.alloc_frame().ok_or(PersistError::OutOfMemory)?;
        m.zero_frame(f);
        m.write_bytes(f.start(), data);
        if let Err(e) = self.make_resident(ppn, f) {
            m.free_frame(f);
            return Err(e);
        }
        Ok(true)
    }

    /// Release every page stored in `[base, base + pages)` (frames and masks:
    /// they all become Zero). O(non-zero pages in the range). Returns the number
    /// of pages that held a frame.
    pub fn release_range(
        &mut self,
        base: Ppn,
        pages: u64,
        frames: &mut (impl FrameAllocator + ?Sized),
    ) -> u64 {
        let end = base.saturating_add(pages);
        let mut n = 0;
        let mut from = base;
        while let Some((p, v)) = self.pages.next(from, end) {
            self.release(p, frames);
            n += u64::from(v != MASKED);
            from = p + 1;
        }
        n
    }

    /// Drop one reference to `frame`, freeing it at zero. Returns whether it was freed.
    fn unref(&mut self, frame: PhysFrame, frames: &mut (impl FrameAllocator + ?Sized)) -> bool {
        match self.refs.update(frame.number(), |c| c.saturating_sub(1)) {
            0 => {
                log::error!("persistent space: unref of unknown frame {frame:?}");
                false
            }
            1 => {
                frames.free_frame(frame);
                true
            }
            _ => false,
        }
    }

    /// Check that every frame's count equals the number of resident pages using it and
    /// that the trees are well formed. Returns a description of the first violation.
    pub fn check_invariants(&self) -> Result<(), String> {
        self.pages.check().map_err(|e| format!("page tree: {e}"))?;
        self.refs.check().map_err(|e| format!("frame tree: {e}"))?;
        self.check_layers()?;
        let mut counted: BTreeMap<u64, u64> = BTreeMap::new();
        for (p, v) in self.pages.iter() {
            if v == MASKED {
                continue;
            }
            let f = frame_of(v).ok_or_else(|| format!("page {p:#x} holds bad value {v:#x}"))?;
            *counted.entry(f.number()).or_insert(0) += 1;
            if p >= self.next {
                return Err(format!(
                    "page {p:#x} beyond reserved numbers {:#x}",
                    self.next
                ));
            }
        }
        if !counted.iter().map(|(&k, &v)| (k, v)).eq(self.refs.iter()) {
            return Err(format!(
                "frame counts {:?} != actual {:?}",
                self.refs, counted
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{BitmapFrameAllocator, PAGE_SIZE};

    #[test]
    fn windows_do_not_overlap_or_touch() {
        let mut ps = PersistentSpace::new();
        let a = ps.reserve_window(10).unwrap();
        let b = ps.reserve_window(5).unwrap();
        assert!(b >= a + 10 + WINDOW_GAP);
        assert_eq!(
            ps.reserve_window(u64::MAX),
            Err(PersistError::NumbersExhausted)
        );
        assert!(ps.reserve_window(1).is_ok());
    }

    #[test]
    fn share_replace_release_counts() {
        let mut fa = BitmapFrameAllocator::with_range(0..16 * PAGE_SIZE);
        let mut ps = PersistentSpace::new();
        let w = ps.reserve_window(8).unwrap();
        let f = fa.alloc_frame().unwrap();
        ps.make_resident(w, f).unwrap();
        assert_eq!(ps.make_resident(w, f), Err(PersistError::NotZero(w)));
        let c = ps.reserve_window(8).unwrap();
        assert_eq!(ps.share_range(w, c, 8), Ok(1));
        assert_eq!(ps.refcount(f), 2);
        assert_eq!(ps.frames_held(), 1);
        assert_eq!(ps.resident_pages(), 2);
        let g = fa.alloc_frame().unwrap();
        assert_eq!(ps.replace_frame(c, g, &mut fa), Ok(f));
        assert_eq!((ps.refcount(f), ps.refcount(g)), (1, 1));
        ps.check_invariants().unwrap();
        assert_eq!(ps.release_range(w, 8, &mut fa), 1);
        assert_eq!(ps.release_range(c, 8, &mut fa), 1);
        assert_eq!((ps.frames_held(), ps.resident_pages()), (0, 0));
        assert_eq!(fa.allocated_frames(), 0);
        assert_eq!(ps.state(w), PageState::Zero);
    }
}
