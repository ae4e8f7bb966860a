//! Copy-on-write layers of persistent windows: what makes a fork cost O(windows +
//! ranges) instead of O(pages).
//!
//! A fork *freezes* each window of the parent: its pages stay where they are and
//! become a read-only layer that two windows — the parent's, which keeps its numbers
//! but stores its pages anew elsewhere, and the child's fresh one — see through
//! wherever they have no page of their own. Nothing is done per
//! page: no frame count changes, no page state is copied. Per-page work happens only
//! when a page is first written (the writer copies it into its own window) or released
//! (a *mask* hides what the layers below hold, so the page reads as zeros again).
//!
//! A frozen layer lives while windows see through it. When the last but one goes
//! (a child exits or execs), the layer *collapses* into the one left: that window's
//! own pages move over the frozen ones (costing what its copy-on-write faults already
//! cost) and the window keeps its numbers but stores its pages at the layer's. So a
//! parent whose children come and go keeps a chain of at most as many layers as it
//! has live children forked after one another, and a child that exits at once leaves
//! the parent with no per-page work.
//!
//! The state is plain data (page numbers, counts), like the rest of the persistent
//! space: snapshots persist it as it is.

use super::{frame_of, PersistError, PersistentSpace, MASKED};
use crate::frame::{FrameAllocator, PhysFrame};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use remap::Ppn;

/// A layered window: one that stores its own pages at `store` and sees through a
/// frozen layer where it has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layer {
    /// Length in pages (a window's length never changes).
    pub(crate) pages: u64,
    /// First number of the pages this window's own pages are stored at.
    pub(crate) store: Ppn,
    /// The frozen layer (its store) seen where this window has no page of its own.
    pub(crate) below: Option<Ppn>,
}

/// A frozen layer, keyed by the first number its pages are stored at: read-only
/// while windows (or frozen layers) see through it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Frozen {
    /// Length in pages.
    pub(crate) pages: u64,
    /// The frozen layer seen through this one.
    pub(crate) below: Option<Ppn>,
    /// How many windows and frozen layers see through it (2 when it is made; at 1
    /// it collapses into that one, at 0 it is released).
    pub(crate) users: u32,
}

/// What a page of a window shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// A frame of the window's own (its count may still be above 1: an image's page).
    Own(PhysFrame),
    /// A frame of a frozen layer below: read-only for this window; a write copies it.
    Below(PhysFrame),
    /// Zeros: nothing is stored for the page anywhere it can see.
    Zero,
}

/// Where a page of a window is stored and what it shows (see
/// [`PersistentSpace::lookup`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lookup {
    /// The persistent page that holds the window's own copy (where a fault stores a
    /// new frame): the page itself unless the window is layered.
    pub store: Ppn,
    /// What the page shows.
    pub found: Found,
}

/// The windows of one fork, planned before anything changes (see
/// [`PersistentSpace::plan_fork`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForkPlan {
    /// The first page number the plan hands out.
    first: Ppn,
    /// (the parent's window, its length, where the parent's pages will be stored,
    /// the child's window), sorted by the parent's window.
    windows: Vec<(Ppn, u64, Ppn, Ppn)>,
    /// The first number after the plan.
    next: Ppn,
}

impl ForkPlan {
    /// The child's windows: (first page, length).
    pub fn child_windows(&self) -> impl Iterator<Item = (Ppn, u64)> + '_ {
        self.windows.iter().map(|&(_, len, _, c)| (c, len))
    }

    /// The child's page for the parent's window page `ppn` (same offset in the
    /// child's window of the same length).
    pub fn child_page(&self, ppn: Ppn) -> Option<Ppn> {
        let i = self.windows.partition_point(|&(s, ..)| s <= ppn);
        let (s, len, _, c) = *self.windows.get(i.checked_sub(1)?)?;
        let off = ppn - s;
        (off < len).then_some(c + off)
    }
}

impl PersistentSpace {
    /// The layered window holding `ppn`, with its first page.
    #[inline]
    fn layer_of(&self, ppn: Ppn) -> Option<(Ppn, Layer)> {
        let (&k, l) = self.layers.range(..=ppn).next_back()?;
        (ppn - k < l.pages).then_some((k, *l))
    }

    /// Whether `ppn` lies in a window that stores its pages elsewhere and may see
    /// through a frozen layer (a forked window).
    pub fn is_layered(&self, ppn: Ppn) -> bool {
        self.layer_of(ppn).is_some()
    }

    /// The persistent page where the page `ppn` of a window is stored.
    #[inline]
    pub fn store_of(&self, ppn: Ppn) -> Ppn {
        match self.layer_of(ppn) {
            Some((k, l)) => l.store + (ppn - k),
            None => ppn,
        }
    }

    /// Where page `ppn` of a window is stored and what it shows: its own frame, a
    /// frame of a frozen layer below, or zeros. O(log layers + depth of the chain).
    pub fn lookup(&self, ppn: Ppn) -> Lookup {
        let Some((k, l)) = self.layer_of(ppn) else {
            return Lookup {
                store: ppn,
                found: self.stored_frame(ppn).map_or(Found::Zero, Found::Own),
            };
        };
        let off = ppn - k;
        let store = l.store + off;
        let found = match self.pages.get(store) {
            MASKED => Found::Zero,
            0 => self.below_at(l.below, off),
            v => frame_of(v).map_or(Found::Zero, Found::Own),
        };
        Lookup { store, found }
    }

    /// What the frozen chain from `below` shows at offset `off`.
    fn below_at(&self, mut below: Option<Ppn>, off: u64) -> Found {
        while let Some(b) = below {
            match self.pages.get(b + off) {
                0 => {}
                MASKED => return Found::Zero,
                v => return frame_of(v).map_or(Found::Zero, Found::Below),
            }
            below = match self.frozen.get(&b) {
                Some(f) => f.below,
                None => {
                    log::error!("persistent space: missing frozen layer {b:#x}");
                    None
                }
            };
        }
        Found::Zero
    }

    /// For a write to window page `ppn` that shows a frozen layer's frame: when the
    /// frame is in the layer right below and nobody else can see it any more (the
    /// layer's other user stores its own page there) nor shares it, move it into the
    /// window's own store, so the write needs no copy. Returns whether it did.
    /// O(layers) to find the other user.
    pub fn take_over_below(&mut self, ppn: Ppn) -> bool {
        let Some((k, l)) = self.layer_of(ppn) else {
            return false;
        };
        let Some(b) = l.below else {
            return false;
        };
        let off = ppn - k;
        let v = self.pages.get(b + off);
        let Some(f) = frame_of(v) else {
            return false;
        };
        if self.refcount(f) != 1 || self.pages.get(l.store + off) != 0 {
            return false;
        }
        let other = self
            .layers
            .iter()
            .find(|(&w, o)| w != k && o.below == Some(b))
            .map(|(_, o)| o.store)
            .or_else(|| {
                self.frozen
                    .iter()
                    .find(|(_, o)| o.below == Some(b))
                    .map(|(&s, _)| s)
            });
        let hidden = match other {
            Some(o) => self.pages.get(o + off) != 0,
            None => self.frozen.get(&b).is_some_and(|fz| fz.users == 1),
        };
        if !hidden || self.pages.reserve_for(1).is_err() {
            return false;
        }
        self.pages.set(b + off, 0);
        self.pages.set(l.store + off, v);
        true
    }

    /// Plan the fork of `windows` (first page, length): for each, fresh numbers to
    /// store the parent's pages at from now on and a fresh window of the same length
    /// for the child. Nothing changes; `NumbersExhausted` when the numbers do not fit.
    /// Commit with [`PersistentSpace::commit_fork`] before anything else reserves
    /// numbers.
    pub fn plan_fork(
        &self,
        windows: impl IntoIterator<Item = (Ppn, u64)>,
    ) -> Result<ForkPlan, PersistError> {
        let mut list = Vec::new();
        let mut next = self.next;
        for (s, len) in windows {
            let mut fresh = || -> Result<Ppn, PersistError> {
                let start = next;
                next = start
                    .checked_add(len)
                    .and_then(|e| e.checked_add(super::WINDOW_GAP))
                    .ok_or(PersistError::NumbersExhausted)?;
                Ok(start)
            };
            let (p, c) = (fresh()?, fresh()?);
            list.try_reserve(1).map_err(|_| PersistError::OutOfMemory)?;
            list.push((s, len, p, c));
        }
        list.sort_unstable_by_key(|&(s, ..)| s);
        Ok(ForkPlan {
            first: self.next,
            windows: list,
            next,
        })
    }

    /// Carry out a fork planned by [`PersistentSpace::plan_fork`]: what every window
    /// of the parent stores is frozen where it is, and both the parent's window and
    /// the child's see through it. O(windows): no page is touched. `BadRange` when
    /// numbers were reserved since the plan (then nothing changes).
    pub fn commit_fork(&mut self, plan: &ForkPlan) -> Result<(), PersistError> {
        if self.next != plan.first {
            return Err(PersistError::BadRange);
        }
        self.next = plan.next;
        for &(s, pages, p, c) in &plan.windows {
            let (store, below) = match self.layers.get(&s) {
                Some(l) => (l.store, l.below),
                None => (s, None),
            };
            self.frozen.insert(
                store,
                Frozen {
                    pages,
                    below,
                    users: 2,
                },
            );
            self.layers.insert(
                s,
                Layer {
                    pages,
                    store: p,
                    below: Some(store),
                },
            );
            self.layers.insert(
                c,
                Layer {
                    pages,
                    store: c,
                    below: Some(store),
                },
            );
        }
        Ok(())
    }

    /// Release pages `[ppn, ppn + pages)` of one window (they read as zeros again):
    /// its own pages are released, and where a frozen layer below still shows a page
    /// a mask hides it. O(pages stored in the span along the chain). Returns the
    /// number of own pages that held a frame.
    pub fn release_span(
        &mut self,
        ppn: Ppn,
        pages: u64,
        frames: &mut (impl FrameAllocator + ?Sized),
    ) -> u64 {
        let Some((k, l)) = self.layer_of(ppn) else {
            return self.release_range(ppn, pages, frames);
        };
        let off = ppn - k;
        let pages = pages.min(l.pages - off);
        let store = l.store + off;
        let freed = self.release_range(store, pages, frames);
        let Ok(shown) = self.stored_offsets(l.below, off, pages) else {
            log::error!("persistent space: no memory to mask released pages");
            return freed;
        };
        for o in shown {
            let at = store + o;
            if self.pages.reserve_for(1).is_err() {
                log::error!("persistent space: no memory to mask page {at:#x}");
                break;
            }
            if matches!(self.below_at(l.below, off + o), Found::Below(_)) {
                self.pages.set(at, MASKED);
                self.masks += 1;
            }
        }
        freed
    }

    /// Release a whole window (no range uses it any more): what it stores, and for a
    /// layered one its place above its frozen layer (which collapses into the one
    /// left seeing through it, or is released when none is). Returns the number of
    /// own pages that held a frame.
    pub fn release_window(
        &mut self,
        start: Ppn,
        pages: u64,
        frames: &mut (impl FrameAllocator + ?Sized),
    ) -> u64 {
        let Some(l) = self.layers.remove(&start) else {
            return self.release_range(start, pages, frames);
        };
        let freed = self.release_range(l.store, l.pages, frames);
        if let Some(b) = l.below {
            self.drop_user(b, frames);
        }
        freed
    }

    /// One user less sees through frozen layer `b`: at none left it is released (and
    /// its own frozen layer loses a user, and so on down); at one left it collapses
    /// into that one.
    fn drop_user(&mut self, b: Ppn, frames: &mut (impl FrameAllocator + ?Sized)) {
        let mut below = Some(b);
        while let Some(b) = below {
            let Some(f) = self.frozen.get_mut(&b) else {
                log::error!("persistent space: missing frozen layer {b:#x}");
                return;
            };
            f.users = f.users.saturating_sub(1);
            let f = *f;
            match f.users {
                0 => {
                    self.frozen.remove(&b);
                    self.release_range(b, f.pages, frames);
                    below = f.below;
                }
                1 => {
                    self.collapse(b, frames);
                    return;
                }
                _ => return,
            }
        }
    }

    /// Merge frozen layer `b`, which one window or frozen layer still sees through,
    /// into that one: its own pages (and masks) move over the frozen ones, and it
    /// stores its pages there from then on. O(pages the one above stores). Skipped,
    /// leaving a correct but longer chain, when the kernel has no memory for it.
    fn collapse(&mut self, b: Ppn, frames: &mut (impl FrameAllocator + ?Sized)) {
        let Some(frozen) = self.frozen.get(&b).copied() else {
            return;
        };
        let live = self
            .layers
            .iter()
            .find(|(_, l)| l.below == Some(b))
            .map(|(&k, l)| (Some(k), l.store));
        let upper = live.or_else(|| {
            self.frozen
                .iter()
                .find(|(_, f)| f.below == Some(b))
                .map(|(&k, _)| (None, k))
        });
        let Some((window, upper_store)) = upper else {
            log::error!("persistent space: frozen layer {b:#x} has no user");
            return;
        };
        let end = upper_store + frozen.pages;
        let own = self.pages.range(upper_store, end).count();
        let mut moved: Vec<(Ppn, u64)> = Vec::new();
        if moved.try_reserve_exact(own).is_err() || self.pages.reserve_for(own).is_err() {
            return;
        }
        moved.extend(self.pages.range(upper_store, end));
        for (p, v) in moved {
            self.pages.set(p, 0);
            let old = self.pages.set(b + (p - upper_store), v);
            if old == MASKED {
                self.masks -= 1;
            } else if let Some(f) = frame_of(old) {
                self.unref(f, frames);
            }
        }
        self.frozen.remove(&b);
        match window {
            Some(k) => {
                if let Some(l) = self.layers.get_mut(&k) {
                    l.store = b;
                    l.below = frozen.below;
                }
            }
            None => {
                // A frozen layer is keyed by its store: it moves to `b`, and what
                // saw through it sees through `b` now.
                if let Some(mut f) = self.frozen.remove(&upper_store) {
                    f.below = frozen.below;
                    self.frozen.insert(b, f);
                }
                for l in self.layers.values_mut() {
                    if l.below == Some(upper_store) {
                        l.below = Some(b);
                    }
                }
                for f in self.frozen.values_mut() {
                    if f.below == Some(upper_store) {
                        f.below = Some(b);
                    }
                }
            }
        }
    }

    /// The offsets in `[off, off + pages)` at which the chain of frozen layers from
    /// `below` stores anything (a frame or a mask), sorted, each once.
    fn stored_offsets(
        &self,
        mut below: Option<Ppn>,
        off: u64,
        pages: u64,
    ) -> Result<Vec<u64>, PersistError> {
        let mut out: Vec<u64> = Vec::new();
        while let Some(b) = below {
            let base = b + off;
            let n = self.pages.range(base, base + pages).count();
            out.try_reserve(n).map_err(|_| PersistError::OutOfMemory)?;
            out.extend(self.pages.range(base, base + pages).map(|(p, _)| p - base));
            below = self.frozen.get(&b).and_then(|f| f.below);
        }
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }

    /// Visit every page of the window pages `[base, base + pages)` that shows a frame:
    /// (page, frame, whether it is the window's own). O(pages stored in the span
    /// along the chain).
    pub fn for_each_shown(
        &self,
        base: Ppn,
        pages: u64,
        mut f: impl FnMut(Ppn, PhysFrame, bool),
    ) -> Result<(), PersistError> {
        let Some((k, l)) = self.layer_of(base) else {
            for (p, fr) in self.resident_in(base, pages) {
                f(p, fr, true);
            }
            return Ok(());
        };
        let off = base - k;
        let pages = pages.min(l.pages - off);
        let store = l.store + off;
        let mut offsets = self.stored_offsets(l.below, off, pages)?;
        let own = self.pages.range(store, store + pages).count();
        offsets
            .try_reserve(own)
            .map_err(|_| PersistError::OutOfMemory)?;
        offsets.extend(
            self.pages
                .range(store, store + pages)
                .map(|(p, _)| p - store),
        );
        offsets.sort_unstable();
        offsets.dedup();
        for o in offsets {
            match self.lookup(base + o).found {
                Found::Own(fr) => f(base + o, fr, true),
                Found::Below(fr) => f(base + o, fr, false),
                Found::Zero => {}
            }
        }
        Ok(())
    }

    /// The layers' part of [`PersistentSpace::check_invariants`].
    pub(crate) fn check_layers(&self) -> Result<(), String> {
        let users_of = |b: Ppn| {
            self.layers.values().filter(|l| l.below == Some(b)).count()
                + self.frozen.values().filter(|f| f.below == Some(b)).count()
        };
        for (&k, f) in &self.frozen {
            if f.pages == 0 || users_of(k) != f.users as usize || f.users == 0 {
                return Err(format!(
                    "frozen layer {k:#x} {f:?}: {} see through it",
                    users_of(k)
                ));
            }
        }
        let mut windows: Vec<(Ppn, u64)> = Vec::new();
        for (&k, l) in &self.layers {
            windows.push((k, l.pages));
            windows.push((l.store, l.pages));
            let mut depth = 0;
            let mut below = l.below;
            while let Some(b) = below {
                let f = self
                    .frozen
                    .get(&b)
                    .ok_or_else(|| format!("layer {k:#x} sees missing layer {b:#x}"))?;
                if f.pages != l.pages {
                    return Err(format!("layer {k:#x} sees a layer of another size"));
                }
                depth += 1;
                if depth > self.frozen.len() {
                    return Err(format!("layer {k:#x}: cycle below"));
                }
                below = f.below;
            }
        }
        windows.extend(self.frozen.iter().map(|(&k, f)| (k, f.pages)));
        let mut masks = 0u64;
        for (p, v) in self.pages.iter() {
            if v != MASKED {
                continue;
            }
            masks += 1;
            if !windows.iter().any(|&(s, len)| p >= s && p - s < len) {
                return Err(format!("mask at {p:#x} outside every layer"));
            }
        }
        if masks != self.masks {
            return Err(format!("{masks} masks, {} counted", self.masks));
        }
        Ok(())
    }
}
