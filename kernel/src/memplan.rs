//! The physical-memory plan: from the firmware's memory map and the spans the
//! kernel must keep (its image, the boot modules, the boot information, the
//! first megabyte), the page-aligned free ranges that feed the heap and the
//! frame allocator.

use crate::multiboot::{MemoryKind, MemoryRegion};
use alloc::vec::Vec;

pub use vm::PAGE_SIZE;

/// A half-open physical span `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Span {
    pub start: u64,
    pub end: u64,
}

impl Span {
    pub fn len(&self) -> u64 {
        self.end - self.start
    }
    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }
}

/// Usable memory below `limit`, minus every reserved span, shrunk to whole
/// pages, sorted and disjoint.
pub fn free_spans(map: &[MemoryRegion], reserved: &[Span], limit: u64) -> Vec<Span> {
    let mut free: Vec<Span> = Vec::new();
    for region in map.iter().filter(|r| r.kind == MemoryKind::Usable) {
        let end = region.start.saturating_add(region.len).min(limit);
        let span = Span {
            start: align_up(region.start),
            end: end & !(PAGE_SIZE - 1),
        };
        if !span.is_empty() {
            free.push(span);
        }
    }
    // Firmware maps may overlap or mark the same memory twice: anything any
    // non-usable entry covers is taken out as well.
    let mut holes: Vec<Span> = reserved.to_vec();
    holes.extend(
        map.iter()
            .filter(|r| r.kind != MemoryKind::Usable)
            .map(|r| Span {
                start: r.start,
                end: r.start.saturating_add(r.len),
            }),
    );
    for hole in holes {
        let hole = Span {
            start: hole.start & !(PAGE_SIZE - 1),
            end: align_up(hole.end),
        };
        free = free.into_iter().flat_map(|s| subtract(s, hole)).collect();
    }
    free.sort();
    // Merge spans that touch (duplicated usable entries).
    let mut merged: Vec<Span> = Vec::with_capacity(free.len());
    for span in free {
        match merged.last_mut() {
            Some(last) if span.start <= last.end => last.end = last.end.max(span.end),
            _ => merged.push(span),
        }
    }
    merged
}

/// Removes `size` bytes (page-rounded) from the start of the first free span
/// big enough; returns the span taken.
pub fn take_contiguous(free: &mut Vec<Span>, size: u64) -> Option<Span> {
    let size = align_up(size);
    let index = free.iter().position(|s| s.len() >= size)?;
    let span = &mut free[index];
    let taken = Span {
        start: span.start,
        end: span.start + size,
    };
    span.start += size;
    if span.is_empty() {
        free.remove(index);
    }
    Some(taken)
}

fn align_up(x: u64) -> u64 {
    x.saturating_add(PAGE_SIZE - 1) & !(PAGE_SIZE - 1)
}

fn subtract(span: Span, hole: Span) -> impl Iterator<Item = Span> {
    let below = Span {
        start: span.start,
        end: span.end.min(hole.start),
    };
    let above = Span {
        start: span.start.max(hole.end),
        end: span.end,
    };
    [below, above].into_iter().filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn usable(start: u64, len: u64) -> MemoryRegion {
        MemoryRegion {
            start,
            len,
            kind: MemoryKind::Usable,
        }
    }

    #[test]
    fn reserved_spans_are_cut_out_and_pages_aligned() {
        let map = [usable(0, 0x9fc00), usable(0x10_0000, 0x1ff0_0000)];
        let reserved = [
            Span {
                start: 0,
                end: 0x10_0000,
            },
            Span {
                start: 0x10_0000,
                end: 0x18_0123,
            },
            Span {
                start: 0x20_0000,
                end: 0x20_04d2,
            },
        ];
        let free = free_spans(&map, &reserved, u64::MAX);
        assert_eq!(
            free,
            [
                Span {
                    start: 0x18_1000,
                    end: 0x20_0000
                },
                Span {
                    start: 0x20_1000,
                    end: 0x2000_0000
                }
            ]
        );
    }

    #[test]
    fn limit_and_non_usable_entries_apply() {
        let map = [
            usable(0x10_0000, 0x1_0000_0000),
            MemoryRegion {
                start: 0x30_0000,
                len: 0x1000,
                kind: MemoryKind::Reserved,
            },
        ];
        let free = free_spans(&map, &[], 0x8000_0000);
        assert_eq!(
            free,
            [
                Span {
                    start: 0x10_0000,
                    end: 0x30_0000
                },
                Span {
                    start: 0x30_1000,
                    end: 0x8000_0000
                }
            ]
        );
    }

    #[test]
    fn take_contiguous_takes_the_first_fit_and_shrinks() {
        let mut free = alloc::vec![
            Span {
                start: 0x1000,
                end: 0x3000
            },
            Span {
                start: 0x10_0000,
                end: 0x20_0000
            }
        ];
        assert_eq!(
            take_contiguous(&mut free, 0x2800),
            Some(Span {
                start: 0x10_0000,
                end: 0x10_3000
            })
        );
        assert_eq!(free[1].start, 0x10_3000);
        assert_eq!(
            take_contiguous(&mut free, 0x2000),
            Some(Span {
                start: 0x1000,
                end: 0x3000
            })
        );
        assert_eq!(free.len(), 1);
        assert_eq!(take_contiguous(&mut free, 0x100_0000), None);
    }

    proptest! {
        #[test]
        fn free_spans_avoid_reserved_and_stay_in_usable(
            regions in proptest::collection::vec((0u64..1 << 24, 0u64..1 << 22, 1u32..4), 0..8),
            reserved in proptest::collection::vec((0u64..1 << 24, 0u64..1 << 20), 0..8),
        ) {
            let map: Vec<MemoryRegion> = regions.iter().map(|&(s, l, k)| MemoryRegion {
                start: s, len: l, kind: if k == 1 { MemoryKind::Usable } else { MemoryKind::Reserved },
            }).collect();
            let reserved: Vec<Span> = reserved.iter().map(|&(s, l)| Span { start: s, end: s + l }).collect();
            let free = free_spans(&map, &reserved, u64::MAX);
            for w in free.windows(2) {
                prop_assert!(w[0].end < w[1].start);
            }
            for span in &free {
                prop_assert!(span.start % PAGE_SIZE == 0 && span.end % PAGE_SIZE == 0 && !span.is_empty());
                let mut page = span.start;
                while page < span.end {
                    let in_usable = map.iter().any(|r| r.kind == MemoryKind::Usable && r.start <= page && page + PAGE_SIZE <= r.start + r.len);
                    let in_bad = map.iter().any(|r| r.kind != MemoryKind::Usable && r.start < page + PAGE_SIZE && page < r.start + r.len);
                    let in_reserved = reserved.iter().any(|r| r.start < page + PAGE_SIZE && page < r.end);
                    prop_assert!(in_usable && !in_bad && !in_reserved, "page {:#x}", page);
                    page += PAGE_SIZE;
                }
            }
        }
    }
}
