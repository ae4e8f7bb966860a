//! Physical frames: the `PhysAddr`/`PhysFrame` newtypes, the [`FrameAllocator`] trait the
//! rest of `vm` allocates through, and [`BitmapFrameAllocator`], the kernel's real frame
//! allocator (safe, built from the firmware's list of usable physical ranges).

use alloc::vec::Vec;
use core::fmt;
use core::ops::Range;

/// Size of a base page / frame in bytes.
pub const PAGE_SIZE: u64 = 4096;
/// log2 of [`PAGE_SIZE`].
pub const PAGE_SHIFT: u32 = 12;
/// Physical addresses are at most 52 bits wide on x86_64 (MAXPHYADDR).
pub const MAX_PHYS_ADDR: u64 = 1 << 52;

/// A physical address.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct PhysAddr(pub u64);

impl PhysAddr {
    /// The raw address.
    pub const fn as_u64(self) -> u64 {
        self.0
    }
    /// The frame containing this address.
    pub const fn frame(self) -> PhysFrame {
        PhysFrame(self.0 & !(PAGE_SIZE - 1))
    }
    /// Offset of this address inside its frame.
    pub const fn frame_offset(self) -> u64 {
        self.0 & (PAGE_SIZE - 1)
    }
}

impl fmt::Debug for PhysAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhysAddr({:#x})", self.0)
    }
}

/// A 4 KiB-aligned physical frame, identified by its start address (always aligned and
/// below [`MAX_PHYS_ADDR`], so it can be put into a page-table entry without checks).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PhysFrame(u64);

impl PhysFrame {
    /// The frame starting at `addr`, or `None` if `addr` is not 4 KiB aligned or not a
    /// valid physical address.
    pub const fn from_start(addr: u64) -> Option<PhysFrame> {
        if addr.is_multiple_of(PAGE_SIZE) && addr < MAX_PHYS_ADDR {
            Some(PhysFrame(addr))
        } else {
            None
        }
    }
    /// The frame with frame number `n` (address `n * 4096`), if valid.
    pub const fn from_number(n: u64) -> Option<PhysFrame> {
        if n < (MAX_PHYS_ADDR >> PAGE_SHIFT) {
            Some(PhysFrame(n << PAGE_SHIFT))
        } else {
            None
        }
    }
    /// Start address of the frame.
    pub const fn start(self) -> PhysAddr {
        PhysAddr(self.0)
    }
    /// Frame number (address / 4096).
    pub const fn number(self) -> u64 {
        self.0 >> PAGE_SHIFT
    }
    /// The address `offset` bytes into this frame (`offset` is taken modulo 4096).
    pub const fn addr_at(self, offset: u64) -> PhysAddr {
        PhysAddr(self.0 + (offset & (PAGE_SIZE - 1)))
    }
}

impl fmt::Debug for PhysFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhysFrame({:#x})", self.0)
    }
}

/// Source of physical frames. Frames handed out are owned by the caller until given back
/// with [`FrameAllocator::free_frame`]; their contents are unspecified (callers zero them).
pub trait FrameAllocator {
    /// A free frame, or `None` when physical memory is exhausted.
    fn alloc_frame(&mut self) -> Option<PhysFrame>;
    /// Give a frame back. Implementations must tolerate bad input (a frame they never
    /// handed out, a double free) without corrupting their state.
    fn free_frame(&mut self, frame: PhysFrame);
}

/// Why [`BitmapFrameAllocator::try_free`] refused a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// The frame is not part of any usable range this allocator manages.
    Foreign(PhysFrame),
    /// The frame is already free.
    DoubleFree(PhysFrame),
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::Foreign(fr) => write!(f, "frame {:#x} is not managed here", fr.0),
            FrameError::DoubleFree(fr) => write!(f, "frame {:#x} freed twice", fr.0),
        }
    }
}

/// One contiguous run of usable frames with its own bitmap (bit set = frame free).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Region {
    /// First frame number.
    start: u64,
    /// Number of frames.
    frames: u64,
    /// `frames` bits, bit set = free; bits past `frames` in the last word are always 0.
    words: Vec<u64>,
}

/// A bitmap frame allocator over a set of usable physical ranges.
///
/// One bitmap per contiguous region (so holes in the physical map cost nothing); a
/// next-search hint makes allocation O(1) amortised. A double free or the free of a frame
/// outside every region is refused with a [`FrameError`] (logged when it arrives through
/// the [`FrameAllocator`] trait) and never changes the allocator's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BitmapFrameAllocator {
    regions: Vec<Region>,
    free: u64,
    total: u64,
    /// (region index, word index) where the next search starts.
    hint: (usize, usize),
}

impl BitmapFrameAllocator {
    /// An allocator owning every whole frame inside `ranges` (physical byte ranges,
    /// end exclusive; in any order, overlaps allowed; partial frames at the edges and
    /// anything at or above [`MAX_PHYS_ADDR`] are ignored). All frames start free.
    pub fn new(ranges: &[Range<u64>]) -> BitmapFrameAllocator {
        let mut runs: Vec<(u64, u64)> = ranges
            .iter()
            .filter_map(|r| {
                let start = r.start.checked_add(PAGE_SIZE - 1)? >> PAGE_SHIFT;
                let end = r.end.min(MAX_PHYS_ADDR) >> PAGE_SHIFT;
                (start < end).then_some((start, end))
            })
            .collect();
        runs.sort_unstable();
        let mut merged: Vec<(u64, u64)> = Vec::with_capacity(runs.len());
        for (s, e) in runs {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        let mut total = 0;
        let regions = merged
            .into_iter()
            .map(|(s, e)| {
                let frames = e - s;
                total += frames;
                let nwords = frames.div_ceil(64) as usize;
                let mut words = alloc::vec![u64::MAX; nwords];
                let tail = frames % 64;
                if tail != 0 {
                    if let Some(last) = words.last_mut() {
                        *last = (1u64 << tail) - 1;
                    }
                }
                Region {
                    start: s,
                    frames,
                    words,
                }
            })
            .collect();
        BitmapFrameAllocator {
            regions,
            free: total,
            total,
            hint: (0, 0),
        }
    }

    /// An allocator owning the whole frames of one physical byte range.
    pub fn with_range(range: Range<u64>) -> BitmapFrameAllocator {
        Self::new(core::slice::from_ref(&range))
    }

    /// Number of frames managed.
    pub fn total_frames(&self) -> u64 {
        self.total
    }
    /// Number of frames currently free.
    pub fn free_frames(&self) -> u64 {
        self.free
    }
    /// Number of frames currently handed out (or reserved).
    pub fn allocated_frames(&self) -> u64 {
        self.total - self.free
    }

    /// (region index, bit index) of a frame, if managed.
    fn locate(&self, frame: PhysFrame) -> Option<(usize, u64)> {
        let n = frame.number();
        let idx = self
            .regions
            .partition_point(|r| r.start <= n)
            .checked_sub(1)?;
        let r = &self.regions[idx];
        (n - r.start < r.frames).then_some((idx, n - r.start))
    }

    /// Whether `frame` is managed here and currently free.
    pub fn is_free(&self, frame: PhysFrame) -> bool {
        match self.locate(frame) {
            Some((ri, bit)) => self.regions[ri].words[(bit / 64) as usize] & (1 << (bit % 64)) != 0,
            None => false,
        }
    }

    /// Whether `frame` belongs to one of the usable ranges.
    pub fn manages(&self, frame: PhysFrame) -> bool {
        self.locate(frame).is_some()
    }

    /// Allocate a frame (same as the trait method).
    pub fn alloc(&mut self) -> Option<PhysFrame> {
        if self.free == 0 {
            return None;
        }
        let nregions = self.regions.len();
        let (mut ri, mut wi) = self.hint;
        if ri >= nregions {
            ri = 0;
            wi = 0;
        }
        // At most one full lap: every word once, one step per region change, plus the
        // start word once more.
        let total_words: usize = self.regions.iter().map(|r| r.words.len()).sum();
        for _ in 0..=total_words + nregions {
            let region = &mut self.regions[ri];
            if let Some(word) = region.words.get_mut(wi) {
                if *word != 0 {
                    let bit = word.trailing_zeros() as u64;
                    *word &= !(1u64 << bit);
                    self.free -= 1;
                    self.hint = (ri, wi);
                    let n = region.start + wi as u64 * 64 + bit;
                    return PhysFrame::from_number(n);
                }
                wi += 1;
            } else {
                ri = (ri + 1) % nregions;
                wi = 0;
            }
        }
        // `free` said there was a frame but none was found: the count is wrong. Never
        // reached unless the state was corrupted; report rather than loop.
        log::error!("frame allocator: free count {} but no free bit", self.free);
        None
    }

    /// Allocate `words × 64` physically contiguous frames starting on a
    /// 64-frame boundary (a run of whole free bitmap words, for the kernel
    /// heap's regions); the first frame, or `None` when no such run is free.
    /// O(bitmap words).
    pub fn alloc_contiguous_words(&mut self, words: usize) -> Option<PhysFrame> {
        if words == 0 || (words as u64).saturating_mul(64) > self.free {
            return None;
        }
        for region in &mut self.regions {
            let mut run = 0;
            for wi in 0..region.words.len() {
                // A whole word of free frames (the last, partial word never is).
                if region.words[wi] == u64::MAX {
                    run += 1;
                } else {
                    run = 0;
                }
                if run == words {
                    let first = wi + 1 - words;
                    region.words[first..=wi].fill(0);
                    self.free -= words as u64 * 64;
                    return PhysFrame::from_number(region.start + first as u64 * 64);
                }
            }
        }
        None
    }

    /// Return a frame, refusing frames not managed here and frames already free.
    pub fn try_free(&mut self, frame: PhysFrame) -> Result<(), FrameError> {
        let (ri, bit) = self.locate(frame).ok_or(FrameError::Foreign(frame))?;
        let wi = (bit / 64) as usize;
        let mask = 1u64 << (bit % 64);
        let word = &mut self.regions[ri].words[wi];
        if *word & mask != 0 {
            return Err(FrameError::DoubleFree(frame));
        }
        *word |= mask;
        self.free += 1;
        // Prefer refilling low holes first: keeps the search short after frees.
        if (ri, wi) < self.hint {
            self.hint = (ri, wi);
        }
        Ok(())
    }

    /// Mark every managed frame overlapping the physical byte range `range` as in use
    /// (for memory that is usable but already taken: the kernel image, boot modules).
    /// Returns how many frames changed from free to used.
    pub fn reserve_range(&mut self, range: Range<u64>) -> u64 {
        let first = range.start >> PAGE_SHIFT;
        let end = range.end.min(MAX_PHYS_ADDR).div_ceil(PAGE_SIZE);
        let mut taken = 0;
        for r in &mut self.regions {
            let s = first.max(r.start);
            let e = end.min(r.start + r.frames);
            for n in s..e {
                let bit = n - r.start;
                let word = &mut r.words[(bit / 64) as usize];
                let mask = 1u64 << (bit % 64);
                if *word & mask != 0 {
                    *word &= !mask;
                    taken += 1;
                }
            }
        }
        self.free -= taken;
        taken
    }
}

impl FrameAllocator for BitmapFrameAllocator {
    fn alloc_frame(&mut self) -> Option<PhysFrame> {
        self.alloc()
    }

    fn free_frame(&mut self, frame: PhysFrame) {
        if let Err(e) = self.try_free(frame) {
            log::error!("frame allocator: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn f(n: u64) -> PhysFrame {
        PhysFrame::from_number(n).unwrap()
    }

    #[test]
    fn builds_from_unaligned_overlapping_ranges() {
        let a = BitmapFrameAllocator::new(&[
            0x1800..0x5000,   // frames 2,3,4
            0x4000..0x6000,   // frames 4,5 (overlap)
            0x10000..0x10fff, // no whole frame
            0x20000..0x21000, // frame 0x20
        ]);
        assert_eq!(a.total_frames(), 5);
        assert!(a.manages(f(2)) && a.manages(f(5)) && a.manages(f(0x20)));
        assert!(!a.manages(f(1)) && !a.manages(f(6)) && !a.manages(f(0x10)));
    }

    #[test]
    fn exhausts_then_refuses_bad_frees() {
        let mut a = BitmapFrameAllocator::with_range(0..3 * PAGE_SIZE);
        let got: BTreeSet<_> = (0..3).map(|_| a.alloc_frame().unwrap()).collect();
        assert_eq!(got.len(), 3);
        assert_eq!(a.alloc_frame(), None);
        assert_eq!(a.try_free(f(7)), Err(FrameError::Foreign(f(7))));
        assert_eq!(a.try_free(f(1)), Ok(()));
        assert_eq!(a.try_free(f(1)), Err(FrameError::DoubleFree(f(1))));
        a.free_frame(f(1)); // logged, no effect
        assert_eq!(a.free_frames(), 1);
        assert_eq!(a.alloc_frame(), Some(f(1)));
    }

    #[test]
    fn reserve_range_takes_frames_out() {
        let mut a = BitmapFrameAllocator::with_range(0..10 * PAGE_SIZE);
        assert_eq!(a.reserve_range(0x1800..0x3001), 3); // frames 1,2,3
        assert_eq!(a.reserve_range(0x1000..0x2000), 0);
        assert_eq!(a.free_frames(), 7);
        let got: BTreeSet<_> = core::iter::from_fn(|| a.alloc_frame())
            .map(|f| f.number())
            .collect();
        assert_eq!(got, [0, 4, 5, 6, 7, 8, 9].into_iter().collect());
    }

    #[test]
    fn contiguous_runs_of_whole_words() {
        // 300 frames: words 0–3 whole, word 4 partial (44 frames).
        let mut a = BitmapFrameAllocator::with_range(0x10_0000..0x10_0000 + 300 * 4096);
        let base = 0x100;
        assert_eq!(
            a.alloc_contiguous_words(5),
            None,
            "the partial word never counts"
        );
        let one = a.alloc().unwrap();
        assert_eq!(one, f(base));
        // Word 0 is no longer whole: the run starts at word 1.
        assert_eq!(a.alloc_contiguous_words(3), Some(f(base + 64)));
        assert_eq!(a.free_frames(), 300 - 1 - 192);
        assert_eq!(a.alloc_contiguous_words(1), None);
        assert!(!a.is_free(f(base + 64)) && !a.is_free(f(base + 255)));
        for n in base + 64..base + 256 {
            a.try_free(f(n)).unwrap();
        }
        assert_eq!(a.alloc_contiguous_words(2), Some(f(base + 64)));
        assert_eq!(a.alloc_contiguous_words(0), None);
    }

    #[test]
    fn empty_allocator() {
        let mut a = BitmapFrameAllocator::new(&[]);
        assert_eq!(a.alloc_frame(), None);
        assert_eq!(a.try_free(f(0)), Err(FrameError::Foreign(f(0))));
    }

    #[derive(Debug, Clone)]
    enum Op {
        Alloc,
        Free(usize),
        FreeAny(u64),
        Reserve(u64, u64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => Just(Op::Alloc),
            3 => any::<usize>().prop_map(Op::Free),
            2 => (0u64..400).prop_map(Op::FreeAny),
            1 => (0u64..400, 0u64..8).prop_map(|(s, l)| Op::Reserve(s, l)),
        ]
    }

    fn ranges() -> impl Strategy<Value = Vec<Range<u64>>> {
        prop::collection::vec((0u64..380 * PAGE_SIZE, 0u64..100 * PAGE_SIZE), 0..5)
            .prop_map(|v| v.into_iter().map(|(s, l)| s..s + l).collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]
        #[test]
        fn bitmap_allocator_matches_model(ranges in ranges(), ops in prop::collection::vec(op(), 0..300)) {
            let mut a = BitmapFrameAllocator::new(&ranges);
            // Model: the usable frame set and the free subset.
            let usable: BTreeSet<u64> = ranges
                .iter()
                .flat_map(|r| r.start.div_ceil(PAGE_SIZE)..r.end / PAGE_SIZE)
                .collect();
            let mut free = usable.clone();
            let mut handed: Vec<u64> = Vec::new();
            prop_assert_eq!(a.total_frames(), usable.len() as u64);
            for op in ops {
                match op {
                    Op::Alloc => match a.alloc_frame() {
                        Some(fr) => {
                            prop_assert!(free.remove(&fr.number()), "allocated a non-free frame {:?}", fr);
                            handed.push(fr.number());
                        }
                        None => prop_assert!(free.is_empty()),
                    },
                    Op::Free(i) => {
                        if !handed.is_empty() {
                            let n = handed.swap_remove(i % handed.len());
                            prop_assert_eq!(a.try_free(f(n)), Ok(()));
                            free.insert(n);
                        }
                    }
                    Op::FreeAny(n) => {
                        let expect = if !usable.contains(&n) {
                            Err(FrameError::Foreign(f(n)))
                        } else if free.contains(&n) {
                            Err(FrameError::DoubleFree(f(n)))
                        } else {
                            handed.retain(|&h| h != n);
                            free.insert(n);
                            Ok(())
                        };
                        prop_assert_eq!(a.try_free(f(n)), expect);
                    }
                    Op::Reserve(s, l) => {
                        let mut expect = 0;
                        for n in s..s + l {
                            if free.remove(&n) {
                                expect += 1;
                                handed.push(n);
                            }
                        }
                        prop_assert_eq!(a.reserve_range(s * PAGE_SIZE..(s + l) * PAGE_SIZE), expect);
                    }
                }
                prop_assert_eq!(a.free_frames(), free.len() as u64);
                for n in [0u64, 1, 50, 199, 399] {
                    prop_assert_eq!(a.is_free(f(n)), free.contains(&n));
                }
            }
            // Drain: exactly the model's free frames come out.
            let mut rest = BTreeSet::new();
            while let Some(fr) = a.alloc_frame() {
                prop_assert!(rest.insert(fr.number()));
            }
            prop_assert_eq!(rest, free);
        }
    }
}
