//! Unit tests of every table operation, including each error path.

use alloc::string::ToString;
use alloc::vec;
use alloc::vec::Vec;

use crate::table::Start;
use crate::*;

const R: Perms = Perms::READ;
const RW: Perms = Perms::READ.union(Perms::WRITE);
const RX: Perms = Perms::READ.union(Perms::EXEC);

fn anon(base: Ppn, perms: Perms) -> Mapping {
    Mapping::anon(base, perms)
}

fn range(start: Vpn, pages: u64, mapping: Mapping) -> Range {
    Range {
        start,
        pages,
        mapping,
    }
}

fn ok(t: &RemapTable) {
    t.check_invariants().expect("invariants");
}

fn ranges(t: &RemapTable) -> Vec<Range> {
    t.iter().collect()
}

// ---------------------------------------------------------------- map / translate

#[test]
fn new_table_is_empty() {
    let t = RemapTable::new();
    assert!(t.is_empty());
    assert_eq!(t.len(), 0);
    assert_eq!(t.translate(0), None);
    assert_eq!(t.range_containing(u64::MAX), None);
    assert_eq!(t, RemapTable::default());
    ok(&t);
}

#[test]
fn map_and_translate() {
    let mut t = RemapTable::new();
    t.map(10, 5, anon(100, RW)).unwrap();
    ok(&t);
    assert_eq!(t.len(), 1);
    assert_eq!(t.translate(9), None);
    assert_eq!(t.translate(15), None);
    let tr = t.translate(12).unwrap();
    assert_eq!(
        tr,
        Translation {
            vpn: 12,
            page: 102,
            perms: RW,
            kind: Kind::Anon,
            cow: false,
            range_start: 10,
            range_pages: 5
        }
    );
    assert_eq!(t.range_containing(14), Some(range(10, 5, anon(100, RW))));
    assert_eq!(t.range_containing(15), None);
}

#[test]
fn translate_adjusts_object_offset() {
    let mut t = RemapTable::new();
    t.map(0, 8, Mapping::object(50, R, 7, 3)).unwrap();
    let tr = t.translate(5).unwrap();
    assert_eq!(tr.page, 55);
    assert_eq!(tr.kind, Kind::Object { id: 7, offset: 8 });
}

#[test]
fn range_helpers() {
    let r = range(10, 5, anon(0, R));
    assert_eq!(r.end(), 15);
    assert!(r.contains(10) && r.contains(14));
    assert!(!r.contains(9) && !r.contains(15));
    assert_eq!(range(u64::MAX - 1, 5, anon(0, R)).end(), u64::MAX);
    assert_eq!(r.translate(15), None);
    assert_eq!(r.clip(0, 10), None);
    assert_eq!(r.clip(12, 100), Some(range(12, 3, anon(2, R))));
}

#[test]
fn map_rejects_empty_and_overflow() {
    let mut t = RemapTable::new();
    assert_eq!(t.map(5, 0, anon(0, R)), Err(RemapError::EmptyRange));
    assert_eq!(t.map(u64::MAX, 1, anon(0, R)), Err(RemapError::Overflow));
    assert_eq!(
        t.map(u64::MAX - 3, 5, anon(0, R)),
        Err(RemapError::Overflow)
    );
    assert_eq!(t.map(1, u64::MAX, anon(0, R)), Err(RemapError::Overflow));
    assert_eq!(
        t.map(0, 2, anon(u64::MAX - 1, R)),
        Err(RemapError::Overflow)
    );
    assert_eq!(
        t.map(0, 2, Mapping::object(0, R, 1, u64::MAX - 1)),
        Err(RemapError::Overflow)
    );
    assert!(t.is_empty());
    // The largest representable spans are fine.
    t.map(u64::MAX - 1, 1, anon(u64::MAX - 1, R)).unwrap();
    t.map(0, u64::MAX - 1, anon(0, RW)).unwrap();
    ok(&t);
    assert_eq!(t.len(), 2);
    assert_eq!(t.translate(u64::MAX - 1).unwrap().page, u64::MAX - 1);
    assert_eq!(t.translate(u64::MAX), None);
}

#[test]
fn map_rejects_overlap_reporting_lowest_page() {
    let mut t = RemapTable::new();
    t.map(10, 10, anon(0, R)).unwrap();
    t.map(30, 10, anon(100, R)).unwrap();
    let before = t.clone();
    assert_eq!(
        t.map(5, 10, anon(500, R)),
        Err(RemapError::Overlap { at: 10 })
    );
    assert_eq!(
        t.map(12, 2, anon(500, R)),
        Err(RemapError::Overlap { at: 12 })
    );
    assert_eq!(
        t.map(19, 20, anon(500, R)),
        Err(RemapError::Overlap { at: 19 })
    );
    assert_eq!(
        t.map(20, 11, anon(500, R)),
        Err(RemapError::Overlap { at: 30 })
    );
    assert_eq!(
        t.map(0, 100, anon(500, R)),
        Err(RemapError::Overlap { at: 10 })
    );
    assert_eq!(t, before);
    t.map(20, 10, anon(500, R)).unwrap();
    ok(&t);
}

// ---------------------------------------------------------------- merging

#[test]
fn contiguous_neighbours_merge() {
    let mut t = RemapTable::new();
    t.map(0, 4, anon(100, RW)).unwrap();
    t.map(8, 4, anon(108, RW)).unwrap();
    assert_eq!(t.len(), 2);
    t.map(4, 4, anon(104, RW)).unwrap();
    ok(&t);
    assert_eq!(ranges(&t), vec![range(0, 12, anon(100, RW))]);
}

#[test]
fn incompatible_neighbours_stay_apart() {
    let cases = [
        (anon(0, RW), anon(5, RW)), // base not contiguous
        (anon(0, RW), anon(4, R)),  // perms differ
        (
            anon(0, RW),
            Mapping {
                cow: true,
                ..anon(4, RW)
            },
        ),
        (anon(0, RW), Mapping::object(4, RW, 1, 0)),
        (Mapping::object(0, R, 1, 0), Mapping::object(4, R, 2, 4)), // id differs
        (Mapping::object(0, R, 1, 0), Mapping::object(4, R, 1, 5)), // offset gap
        (Mapping::guard(0), Mapping::guard(0)),                     // guard bases not contiguous
        (Mapping::guard(0), anon(4, Perms::empty())),
    ];
    for (a, b) in cases {
        let mut t = RemapTable::new();
        t.map(0, 4, a).unwrap();
        t.map(4, 4, b).unwrap();
        ok(&t);
        assert_eq!(t.len(), 2, "{a:?} / {b:?}");
    }
}

#[test]
fn objects_and_guards_merge_when_contiguous() {
    let mut t = RemapTable::new();
    t.map(0, 4, Mapping::object(10, R, 3, 20)).unwrap();
    t.map(4, 4, Mapping::object(14, R, 3, 24)).unwrap();
    t.map(20, 1, Mapping::guard(0)).unwrap();
    t.map(21, 1, Mapping::guard(1)).unwrap();
    ok(&t);
    assert_eq!(
        ranges(&t),
        vec![
            range(0, 8, Mapping::object(10, R, 3, 20)),
            range(20, 2, Mapping::guard(0))
        ]
    );
}

// ---------------------------------------------------------------- unmap

#[test]
fn unmap_middle_splits_and_returns_adjusted_piece() {
    let mut t = RemapTable::new();
    t.map(10, 10, Mapping::object(100, RW, 1, 50)).unwrap();
    let removed = t.unmap(13, 4).unwrap();
    ok(&t);
    assert_eq!(removed, vec![range(13, 4, Mapping::object(103, RW, 1, 53))]);
    assert_eq!(
        ranges(&t),
        vec![
            range(10, 3, Mapping::object(100, RW, 1, 50)),
            range(17, 3, Mapping::object(107, RW, 1, 57)),
        ]
    );
    // Mapping the hole back with the same window re-merges.
    t.map(13, 4, Mapping::object(103, RW, 1, 53)).unwrap();
    ok(&t);
    assert_eq!(t.len(), 1);
}

#[test]
fn unmap_holes_is_fine() {
    let mut t = RemapTable::new();
    assert_eq!(t.unmap(0, 100), Ok(vec![]));
    t.map(10, 5, anon(0, R)).unwrap();
    assert_eq!(t.unmap(0, 10), Ok(vec![]));
    assert_eq!(t.unmap(15, 10), Ok(vec![]));
    assert_eq!(t.len(), 1);
}

#[test]
fn unmap_across_ranges_and_holes() {
    let mut t = RemapTable::new();
    t.map(0, 10, anon(0, R)).unwrap();
    t.map(20, 10, anon(100, RW)).unwrap();
    t.map(40, 10, Mapping::guard(7)).unwrap();
    let removed = t.unmap(5, 40).unwrap();
    ok(&t);
    assert_eq!(
        removed,
        vec![
            range(5, 5, anon(5, R)),
            range(20, 10, anon(100, RW)),
            range(40, 5, Mapping::guard(7)),
        ]
    );
    assert_eq!(
        ranges(&t),
        vec![range(0, 5, anon(0, R)), range(45, 5, Mapping::guard(12))]
    );
}

#[test]
fn unmap_errors_and_whole_space() {
    let mut t = RemapTable::new();
    t.map(0, 10, anon(0, R)).unwrap();
    t.map(u64::MAX - 10, 10, anon(0, R)).unwrap();
    assert_eq!(t.unmap(3, 0), Err(RemapError::EmptyRange));
    assert_eq!(t.unmap(3, u64::MAX), Err(RemapError::Overflow));
    assert_eq!(t.unmap(u64::MAX, 1), Err(RemapError::Overflow));
    assert_eq!(t.len(), 2);
    let removed = t.unmap(0, u64::MAX).unwrap();
    assert_eq!(removed.len(), 2);
    assert!(t.is_empty());
}

// ---------------------------------------------------------------- protect

#[test]
fn protect_middle_splits() {
    let mut t = RemapTable::new();
    t.map(0, 10, anon(100, RW)).unwrap();
    let changed = t.protect(3, 4, R).unwrap();
    ok(&t);
    assert_eq!(changed, vec![range(3, 4, anon(103, R))]);
    assert_eq!(
        ranges(&t),
        vec![
            range(0, 3, anon(100, RW)),
            range(3, 4, anon(103, R)),
            range(7, 3, anon(107, RW)),
        ]
    );
    // Protecting it back merges all three.
    let changed = t.protect(3, 4, RW).unwrap();
    ok(&t);
    assert_eq!(changed, vec![range(3, 4, anon(103, RW))]);
    assert_eq!(ranges(&t), vec![range(0, 10, anon(100, RW))]);
}

#[test]
fn protect_merges_across_pieces_and_returns_clipped_new_state() {
    let mut t = RemapTable::new();
    t.map(0, 4, anon(0, R)).unwrap();
    t.map(4, 4, anon(4, RW)).unwrap();
    t.map(8, 4, anon(8, RX)).unwrap();
    assert_eq!(t.len(), 3);
    let changed = t.protect(2, 8, R).unwrap();
    ok(&t);
    assert_eq!(changed, vec![range(2, 8, anon(2, R))]);
    assert_eq!(
        ranges(&t),
        vec![range(0, 10, anon(0, R)), range(10, 2, anon(10, RX))]
    );
}

#[test]
fn protect_partially_unmapped_changes_nothing() {
    let mut t = RemapTable::new();
    t.map(0, 4, anon(0, RW)).unwrap();
    t.map(6, 4, anon(6, RW)).unwrap();
    let before = t.clone();
    assert_eq!(t.protect(2, 6, R), Err(RemapError::NotMapped { at: 4 }));
    assert_eq!(t.protect(8, 4, R), Err(RemapError::NotMapped { at: 10 }));
    assert_eq!(t.protect(20, 4, R), Err(RemapError::NotMapped { at: 20 }));
    assert_eq!(t.protect(4, 1, R), Err(RemapError::NotMapped { at: 4 }));
    assert_eq!(t, before);
}

#[test]
fn protect_errors() {
    let mut t = RemapTable::new();
    t.map(0, 4, anon(0, RW)).unwrap();
    assert_eq!(t.protect(0, 0, R), Err(RemapError::EmptyRange));
    assert_eq!(t.protect(1, u64::MAX, R), Err(RemapError::Overflow));
    assert_eq!(
        t.protect(0, u64::MAX, R),
        Err(RemapError::NotMapped { at: 4 })
    );
    assert_eq!(ranges(&t), vec![range(0, 4, anon(0, RW))]);
}

// ---------------------------------------------------------------- grow_up

#[test]
fn grow_up_extends_in_place() {
    let mut t = RemapTable::new();
    t.map(10, 4, anon(100, RW)).unwrap();
    let r = t.grow_up(10, 6).unwrap();
    ok(&t);
    assert_eq!(r, range(10, 10, anon(100, RW)));
    assert_eq!(t.translate(19).unwrap().page, 109);
}

#[test]
fn grow_up_into_neighbour_is_no_room() {
    let mut t = RemapTable::new();
    t.map(10, 4, anon(100, RW)).unwrap();
    t.map(20, 1, Mapping::guard(0)).unwrap();
    let before = t.clone();
    assert_eq!(t.grow_up(10, 7), Err(RemapError::NoRoom));
    assert_eq!(t.grow_up(10, 100), Err(RemapError::NoRoom));
    assert_eq!(t, before);
    // Exactly up to the neighbour is fine; then there is no room left.
    assert_eq!(t.grow_up(10, 6), Ok(range(10, 10, anon(100, RW))));
    assert_eq!(t.grow_up(10, 1), Err(RemapError::NoRoom));
    ok(&t);
}

#[test]
fn grow_up_merges_with_compatible_successor() {
    let mut t = RemapTable::new();
    t.map(0, 4, anon(100, RW)).unwrap();
    t.map(8, 4, anon(108, RW)).unwrap();
    let r = t.grow_up(0, 4).unwrap();
    ok(&t);
    assert_eq!(r, range(0, 12, anon(100, RW)));
    assert_eq!(t.len(), 1);
}

#[test]
fn grow_up_errors() {
    let mut t = RemapTable::new();
    t.map(10, 4, anon(100, RW)).unwrap();
    t.map(u64::MAX - 5, 4, anon(0, RW)).unwrap();
    t.map(100, 4, anon(u64::MAX - 4, RW)).unwrap();
    t.map(200, 4, Mapping::object(0, R, 1, u64::MAX - 4))
        .unwrap();
    let before = t.clone();
    assert_eq!(t.grow_up(10, 0), Err(RemapError::EmptyRange));
    assert_eq!(t.grow_up(11, 1), Err(RemapError::NotARangeStart { at: 11 }));
    assert_eq!(t.grow_up(50, 1), Err(RemapError::NotARangeStart { at: 50 }));
    assert_eq!(t.grow_up(u64::MAX - 5, 2), Err(RemapError::Overflow));
    assert_eq!(t.grow_up(10, u64::MAX), Err(RemapError::Overflow));
    assert_eq!(t.grow_up(100, 1), Err(RemapError::Overflow));
    assert_eq!(t.grow_up(200, 1), Err(RemapError::Overflow));
    assert_eq!(t, before);
    // One more page to the very top is still representable.
    t.grow_up(u64::MAX - 5, 1).unwrap();
    ok(&t);
}

// ---------------------------------------------------------------- grow_up_behind_guard

#[test]
fn grow_behind_guard_moves_the_guard() {
    let mut t = RemapTable::new();
    t.map(10, 4, anon(100, RW)).unwrap();
    t.map(14, 1, Mapping::guard(0)).unwrap();
    t.map(40, 2, anon(500, RW)).unwrap();
    let r = t.grow_up_behind_guard(14, 5, u64::MAX).unwrap();
    ok(&t);
    assert_eq!(r, range(10, 9, anon(100, RW)));
    assert_eq!(
        ranges(&t),
        vec![
            range(10, 9, anon(100, RW)),
            range(19, 1, Mapping::guard(0)),
            range(40, 2, anon(500, RW)),
        ]
    );
    // The new pages continue the persistent window.
    assert_eq!(t.translate(18).unwrap().page, 108);
    // Up to the page just below the next mapping (the guard's new page is free).
    t.grow_up_behind_guard(19, 20, u64::MAX).unwrap();
    ok(&t);
    assert_eq!(
        t.range_containing(39),
        Some(range(39, 1, Mapping::guard(0)))
    );
    assert_eq!(
        t.grow_up_behind_guard(39, 1, u64::MAX),
        Err(RemapError::NoRoom)
    );
}

#[test]
fn grow_behind_guard_merges_like_map() {
    // The moved guard merges with a compatible guard right above it.
    let mut t = RemapTable::new();
    t.map(10, 4, anon(100, RW)).unwrap();
    t.map(14, 1, Mapping::guard(0)).unwrap();
    t.map(18, 2, Mapping::guard(1)).unwrap();
    assert_eq!(
        t.grow_up_behind_guard(14, 3, u64::MAX),
        Ok(range(10, 7, anon(100, RW)))
    );
    ok(&t);
    assert_eq!(
        ranges(&t),
        vec![range(10, 7, anon(100, RW)), range(17, 3, Mapping::guard(0))]
    );
    // A guard range growing into contiguity with the guard it pushes merges with it.
    let mut t = RemapTable::new();
    t.map(10, 2, Mapping::guard(0)).unwrap();
    t.map(12, 1, Mapping::guard(7)).unwrap();
    assert_eq!(
        t.grow_up_behind_guard(12, 5, u64::MAX),
        Ok(range(10, 8, Mapping::guard(0)))
    );
    ok(&t);
    assert_eq!(ranges(&t), vec![range(10, 8, Mapping::guard(0))]);
}

#[test]
fn grow_behind_guard_errors() {
    let mut t = RemapTable::new();
    t.map(10, 4, anon(100, RW)).unwrap();
    t.map(14, 1, Mapping::guard(0)).unwrap();
    t.map(20, 2, anon(200, RW)).unwrap();
    t.map(30, 2, anon(300, RW)).unwrap();
    t.map(33, 1, Mapping::guard(0)).unwrap();
    t.map(100, 4, anon(u64::MAX - 4, RW)).unwrap();
    t.map(104, 1, Mapping::guard(0)).unwrap();
    t.map(u64::MAX - 5, 2, anon(0, RW)).unwrap();
    t.map(u64::MAX - 3, 1, Mapping::guard(0)).unwrap();
    t.map(50, 2, anon(600, RW)).unwrap();
    t.map(52, 2, Mapping::guard(0)).unwrap();
    let before = t.clone();
    assert_eq!(
        t.grow_up_behind_guard(14, 0, u64::MAX),
        Err(RemapError::EmptyRange)
    );
    // The moved guard's end overflows.
    assert_eq!(
        t.grow_up_behind_guard(14, u64::MAX - 14, u64::MAX),
        Err(RemapError::Overflow)
    );
    assert_eq!(
        t.grow_up_behind_guard(u64::MAX - 3, 3, u64::MAX),
        Err(RemapError::Overflow)
    );
    // Not a guard: unmapped, inside a guard, anon, a guard of two pages.
    for at in [15, 11, 20, 52] {
        assert_eq!(
            t.grow_up_behind_guard(at, 1, u64::MAX),
            Err(RemapError::NotAGuard { at })
        );
    }
    // A guard with nothing right below it.
    assert_eq!(
        t.grow_up_behind_guard(33, 1, u64::MAX),
        Err(RemapError::NotMapped { at: 32 })
    );
    // The grown range's base end overflows.
    assert_eq!(
        t.grow_up_behind_guard(104, 1, u64::MAX),
        Err(RemapError::Overflow)
    );
    // The moved guard would reach the range at 20, or pass the limit.
    assert_eq!(
        t.grow_up_behind_guard(14, 6, u64::MAX),
        Err(RemapError::NoRoom)
    );
    assert_eq!(
        t.grow_up_behind_guard(14, 20, u64::MAX),
        Err(RemapError::NoRoom)
    );
    assert_eq!(t.grow_up_behind_guard(14, 2, 16), Err(RemapError::NoRoom));
    assert_eq!(t, before);
    t.grow_up_behind_guard(14, 2, 17).unwrap();
    t.grow_up_behind_guard(16, 3, u64::MAX).unwrap();
    ok(&t);
    assert_eq!(
        t.range_containing(19),
        Some(range(19, 1, Mapping::guard(0)))
    );
    // A guard at page 0 has nothing below it.
    let mut t = RemapTable::new();
    t.map(0, 1, Mapping::guard(0)).unwrap();
    assert_eq!(
        t.grow_up_behind_guard(0, 1, u64::MAX),
        Err(RemapError::NotMapped { at: 0 })
    );
}

// ---------------------------------------------------------------- range_before, overlapping

#[test]
fn range_before_and_overlapping() {
    let mut t = RemapTable::new();
    assert_eq!(t.range_before(10), None);
    assert_eq!(t.overlapping(0, u64::MAX).count(), 0);
    t.map(10, 4, anon(100, RW)).unwrap();
    t.map(20, 2, Mapping::guard(0)).unwrap();
    assert_eq!(t.range_before(10), None);
    assert_eq!(t.range_before(11), Some(range(10, 4, anon(100, RW))));
    assert_eq!(t.range_before(20), Some(range(10, 4, anon(100, RW))));
    assert_eq!(
        t.range_before(u64::MAX),
        Some(range(20, 2, Mapping::guard(0)))
    );
    let o: Vec<Range> = t.overlapping(13, 21).collect();
    assert_eq!(
        o,
        vec![range(10, 4, anon(100, RW)), range(20, 2, Mapping::guard(0))]
    );
    assert_eq!(t.overlapping(14, 20).count(), 0);
    assert_eq!(t.overlapping(12, 12).count(), 0);
    assert_eq!(t.overlapping(13, 11).count(), 0);
}

// ---------------------------------------------------------------- grow_down

#[test]
fn grow_down_moves_start_and_base() {
    let mut t = RemapTable::new();
    t.map(100, 4, anon(1000, RW)).unwrap();
    let r = t.grow_down(100, 10).unwrap();
    ok(&t);
    assert_eq!(r, range(90, 14, anon(990, RW)));
    // Existing pages keep their persistent pages.
    assert_eq!(t.translate(100).unwrap().page, 1000);
    assert_eq!(t.translate(90).unwrap().page, 990);
    assert_eq!(
        t.grow_down(100, 1),
        Err(RemapError::NotARangeStart { at: 100 })
    );
}

#[test]
fn grow_down_object_moves_offset() {
    let mut t = RemapTable::new();
    t.map(100, 4, Mapping::object(1000, R, 9, 10)).unwrap();
    assert_eq!(
        t.grow_down(100, 10),
        Ok(range(90, 14, Mapping::object(990, R, 9, 0)))
    );
    assert_eq!(t.grow_down(90, 1), Err(RemapError::BaseUnderflow));
}

#[test]
fn grow_down_errors() {
    let mut t = RemapTable::new();
    t.map(5, 4, anon(1000, RW)).unwrap();
    t.map(100, 4, anon(3, RW)).unwrap();
    t.map(50, 4, Mapping::guard(0)).unwrap();
    t.map(60, 4, anon(1000, RW)).unwrap();
    let before = t.clone();
    assert_eq!(t.grow_down(100, 0), Err(RemapError::EmptyRange));
    assert_eq!(
        t.grow_down(101, 1),
        Err(RemapError::NotARangeStart { at: 101 })
    );
    assert_eq!(t.grow_down(5, 6), Err(RemapError::Overflow));
    assert_eq!(t.grow_down(5, u64::MAX), Err(RemapError::Overflow));
    assert_eq!(t.grow_down(100, 4), Err(RemapError::BaseUnderflow));
    assert_eq!(t.grow_down(60, 7), Err(RemapError::NoRoom));
    assert_eq!(t.grow_down(60, 60), Err(RemapError::NoRoom));
    assert_eq!(t, before);
    assert_eq!(t.grow_down(100, 3), Ok(range(97, 7, anon(0, RW))));
    assert_eq!(t.grow_down(60, 6), Ok(range(54, 10, anon(994, RW))));
    assert_eq!(t.grow_down(5, 5), Ok(range(0, 9, anon(995, RW))));
    ok(&t);
}

#[test]
fn grow_down_merges_with_compatible_predecessor() {
    let mut t = RemapTable::new();
    t.map(0, 4, anon(100, RW)).unwrap();
    t.map(8, 4, anon(108, RW)).unwrap();
    assert_eq!(t.grow_down(8, 4), Ok(range(0, 12, anon(100, RW))));
    ok(&t);
    assert_eq!(t.len(), 1);
}

// ---------------------------------------------------------------- shrink_up

#[test]
fn shrink_up_returns_tail() {
    let mut t = RemapTable::new();
    t.map(10, 10, Mapping::object(100, RW, 2, 30)).unwrap();
    assert_eq!(
        t.shrink_up(10, 3),
        Ok(range(17, 3, Mapping::object(107, RW, 2, 37)))
    );
    ok(&t);
    assert_eq!(
        ranges(&t),
        vec![range(10, 7, Mapping::object(100, RW, 2, 30))]
    );
    assert_eq!(
        t.shrink_up(10, 7),
        Ok(range(10, 7, Mapping::object(100, RW, 2, 30)))
    );
    assert!(t.is_empty());
}

#[test]
fn shrink_up_errors() {
    let mut t = RemapTable::new();
    t.map(10, 10, anon(0, RW)).unwrap();
    let before = t.clone();
    assert_eq!(t.shrink_up(10, 0), Err(RemapError::EmptyRange));
    assert_eq!(
        t.shrink_up(11, 1),
        Err(RemapError::NotARangeStart { at: 11 })
    );
    assert_eq!(
        t.shrink_up(10, 11),
        Err(RemapError::ShrinkTooFar { at: 10, pages: 10 })
    );
    assert_eq!(
        t.shrink_up(10, u64::MAX),
        Err(RemapError::ShrinkTooFar { at: 10, pages: 10 })
    );
    assert_eq!(t, before);
}

// ---------------------------------------------------------------- find_free

#[test]
fn find_free_bottom_up_and_top_down() {
    let mut t = RemapTable::new();
    assert_eq!(t.find_free(4, 0, 100), Some(0));
    assert_eq!(t.find_free_top_down(4, 0, 100), Some(96));
    t.map(0, 10, anon(0, R)).unwrap();
    t.map(12, 3, anon(0, R)).unwrap();
    t.map(20, 10, anon(0, R)).unwrap();
    t.map(90, 10, anon(0, R)).unwrap();
    assert_eq!(t.find_free(2, 0, 100), Some(10));
    assert_eq!(t.find_free(3, 0, 100), Some(15));
    assert_eq!(t.find_free(5, 5, 100), Some(15));
    assert_eq!(t.find_free(6, 0, 100), Some(30));
    assert_eq!(t.find_free(60, 0, 100), Some(30));
    assert_eq!(t.find_free(61, 0, 100), None);
    assert_eq!(t.find_free(2, 11, 100), Some(15));
    assert_eq!(t.find_free(1, 11, 100), Some(11));
    assert_eq!(t.find_free(5, 15, 19), None);
    assert_eq!(t.find_free(4, 15, 19), Some(15));
    assert_eq!(t.find_free_top_down(2, 0, 100), Some(88));
    assert_eq!(t.find_free_top_down(2, 0, 95), Some(88));
    assert_eq!(t.find_free_top_down(60, 0, 100), Some(30));
    assert_eq!(t.find_free_top_down(61, 0, 100), None);
    assert_eq!(t.find_free_top_down(5, 0, 30), Some(15));
    assert_eq!(t.find_free_top_down(3, 0, 15), None);
    assert_eq!(t.find_free_top_down(2, 0, 15), Some(10));
    assert_eq!(t.find_free_top_down(2, 11, 15), None);
    assert_eq!(t.find_free_top_down(1, 11, 15), Some(11));
}

#[test]
fn find_free_hostile_inputs() {
    let mut t = RemapTable::new();
    assert_eq!(t.find_free(0, 0, 100), None);
    assert_eq!(t.find_free_top_down(0, 0, 100), None);
    assert_eq!(t.find_free(1, 100, 100), None);
    assert_eq!(t.find_free_top_down(1, 100, 50), None);
    assert_eq!(t.find_free(u64::MAX, 0, u64::MAX), Some(0));
    assert_eq!(t.find_free_top_down(u64::MAX, 0, u64::MAX), Some(0));
    assert_eq!(t.find_free(u64::MAX, 1, u64::MAX), None);
    assert_eq!(t.find_free_top_down(u64::MAX, 1, u64::MAX), None);
    t.map(u64::MAX - 10, 5, anon(0, R)).unwrap();
    assert_eq!(t.find_free(6, u64::MAX - 12, u64::MAX), None);
    assert_eq!(t.find_free(5, u64::MAX - 12, u64::MAX), Some(u64::MAX - 5));
    assert_eq!(
        t.find_free_top_down(5, u64::MAX - 12, u64::MAX),
        Some(u64::MAX - 5)
    );
    assert_eq!(
        t.find_free_top_down(2, u64::MAX - 12, u64::MAX - 5),
        Some(u64::MAX - 12)
    );
}

// ---------------------------------------------------------------- fork_copy

#[test]
fn fork_marks_every_private_range_cow_and_rebases_child() {
    let mut t = RemapTable::new();
    t.map(0, 4, anon(100, RX)).unwrap(); // text: rebased, copy-on-write too
    t.map(4, 4, anon(200, RW)).unwrap(); // data
    t.map(8, 1, Mapping::guard(0)).unwrap();
    t.map(20, 4, Mapping::object(300, RW, 5, 0)).unwrap(); // shared object
    t.map(30, 8, anon(400, RW)).unwrap(); // stack
    let mut seen = Vec::new();
    let child = t.fork_copy(|r| {
        seen.push(*r);
        r.mapping.base + 10_000
    });
    ok(&t);
    ok(&child);
    let cow = |m: Mapping| Mapping { cow: true, ..m };
    assert_eq!(
        seen,
        vec![
            range(0, 4, cow(anon(100, RX))),
            range(4, 4, cow(anon(200, RW))),
            range(30, 8, cow(anon(400, RW)))
        ]
    );
    assert_eq!(
        ranges(&t),
        vec![
            range(0, 4, cow(anon(100, RX))),
            range(4, 4, cow(anon(200, RW))),
            range(8, 1, Mapping::guard(0)),
            range(20, 4, Mapping::object(300, RW, 5, 0)),
            range(30, 8, cow(anon(400, RW))),
        ]
    );
    assert_eq!(
        ranges(&child),
        vec![
            range(0, 4, cow(anon(10_100, RX))),
            range(4, 4, cow(anon(10_200, RW))),
            range(8, 1, Mapping::guard(0)),
            range(20, 4, Mapping::object(300, RW, 5, 0)),
            range(30, 8, cow(anon(10_400, RW))),
        ]
    );
}

#[test]
fn fork_marking_merges_neighbours_before_rebase() {
    let mut t = RemapTable::new();
    t.map(
        0,
        4,
        Mapping {
            cow: true,
            ..anon(0, RW)
        },
    )
    .unwrap();
    t.map(4, 4, anon(4, RW)).unwrap();
    assert_eq!(t.len(), 2);
    let mut calls = 0;
    let child = t.fork_copy(|r| {
        calls += 1;
        assert_eq!(r.pages, 8);
        1000
    });
    assert_eq!(calls, 1);
    assert_eq!(t.len(), 1);
    assert_eq!(
        ranges(&child),
        vec![range(
            0,
            8,
            Mapping {
                cow: true,
                ..anon(1000, RW)
            }
        )]
    );
}

#[test]
fn fork_child_merges_contiguous_rebases() {
    let mut t = RemapTable::new();
    t.map(0, 4, anon(0, RW)).unwrap();
    t.map(4, 4, anon(50, RW)).unwrap();
    let mut next = 1000;
    let child = t.fork_copy(|r| {
        let b = next;
        next += r.pages;
        b
    });
    ok(&child);
    assert_eq!(t.len(), 2);
    assert_eq!(
        ranges(&child),
        vec![range(
            0,
            8,
            Mapping {
                cow: true,
                ..anon(1000, RW)
            }
        )]
    );
}

#[test]
fn fork_with_overflowing_rebase() {
    let mut t = RemapTable::new();
    t.map(0, 4, anon(0, RW)).unwrap();
    t.map(10, 4, anon(100, R)).unwrap();
    let before = t.clone();
    assert_eq!(t.try_fork_copy(|_| u64::MAX - 1), Err(RemapError::Overflow));
    assert_eq!(t, before);
    let child = t.fork_copy(|r| {
        if r.start == 0 {
            u64::MAX - 1
        } else {
            r.mapping.base + 1000
        }
    });
    ok(&child);
    assert!(t.translate(0).unwrap().cow);
    let cow = |m: Mapping| Mapping { cow: true, ..m };
    assert_eq!(ranges(&child), vec![range(10, 4, cow(anon(1100, R)))]);
    // A read-only private range that cannot be rebased is an error too.
    let before = t.clone();
    assert_eq!(
        t.try_fork_copy(|r| if r.start == 10 { u64::MAX - 1 } else { 7 }),
        Err(RemapError::Overflow)
    );
    assert_eq!(t, before);
    let child = t.try_fork_copy(|_| 7).unwrap();
    assert_eq!(child.translate(1).unwrap().page, 8);
}

// ---------------------------------------------------------------- invariants, errors

#[test]
fn check_invariants_detects_violations() {
    let mut t = RemapTable::new();
    t.ranges.insert(Start::new(0), range(0, 4, anon(0, R)));
    t.ranges.insert(Start::new(4), range(4, 4, anon(4, R)));
    assert!(t.check_invariants().unwrap_err().contains("unmerged"));
    t.ranges.insert(Start::new(4), range(3, 4, anon(40, R)));
    assert!(t.check_invariants().is_err());
    t.ranges.insert(Start::new(4), range(4, 0, anon(40, R)));
    assert!(t.check_invariants().is_err());
    t.ranges.insert(Start::new(4), range(5, 4, anon(40, R)));
    assert!(t.check_invariants().is_err());
    t.ranges
        .insert(Start::new(4), range(4, u64::MAX, anon(40, R)));
    assert!(t.check_invariants().is_err());
    t.ranges
        .insert(Start::new(4), range(4, 2, anon(u64::MAX, R)));
    assert!(t.check_invariants().is_err());
    t.ranges.remove(&Start::new(4));
    t.ranges.insert(Start::new(3), range(3, 2, anon(40, R)));
    assert!(t.check_invariants().unwrap_err().contains("overlap"));
}

#[test]
fn errors_display() {
    let all = [
        RemapError::EmptyRange,
        RemapError::Overflow,
        RemapError::Overlap { at: 1 },
        RemapError::NotMapped { at: 2 },
        RemapError::NoRoom,
        RemapError::NotARangeStart { at: 3 },
        RemapError::BaseUnderflow,
        RemapError::ShrinkTooFar { at: 4, pages: 5 },
        RemapError::NotAGuard { at: 6 },
    ];
    for e in all {
        assert!(!e.to_string().is_empty());
    }
    assert_eq!(
        RemapError::NotMapped { at: 0x10 }.to_string(),
        "page 0x10 is not mapped"
    );
}

// ---------------------------------------------------------------- in-place ops, property

/// The operations that re-key an entry in place (`grow_up_behind_guard`, `grow_down`)
/// against references built from `map`/`unmap`/`grow_up` (themselves checked against a
/// page model in `tests/model.rs`), and `range_before`/`overlapping` against a scan,
/// on random tables over a small page universe.
mod in_place {
    use super::*;
    use proptest::collection::vec;
    use proptest::prelude::*;

    const UNIVERSE: u64 = 96;

    #[derive(Clone, Copy, Debug)]
    enum Op {
        /// Map `pages` at `start`: a guard (base `base`) or anon (base `start + base`).
        Map {
            start: Vpn,
            pages: u64,
            guard: bool,
            base: u64,
        },
        /// Map a one-page guard with base `base` right at the end of the picked range.
        PlaceGuard { pick: usize, base: u64 },
        /// `grow_up_behind_guard` at the end of the picked range (mostly one below a
        /// guard page).
        GrowBehind { pick: usize, extra: u64, limit: Vpn },
        /// `grow_down` on the picked range.
        GrowDown { pick: usize, extra: u64 },
        /// `grow_down_to_checked` holding page `holding` (mostly inside the picked
        /// range) down to `new_start`, with a check that refuses when `refuse`.
        GrowDownTo {
            pick: usize,
            holding: u64,
            new_start: Vpn,
            refuse: bool,
        },
    }

    fn base() -> impl Strategy<Value = u64> {
        prop_oneof![
            3 => Just(1000u64),
            2 => 0..8u64,
            1 => (0..8u64).prop_map(|d| u64::MAX - d),
        ]
    }

    fn extra() -> impl Strategy<Value = u64> {
        prop_oneof![
            6 => 0..12u64,
            1 => 0..UNIVERSE,
            1 => (0..4u64).prop_map(|d| u64::MAX - d),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0..UNIVERSE, 1..8u64, prop::bool::weighted(0.3), base())
                .prop_map(|(start, pages, guard, base)| Op::Map { start, pages, guard, base }),
            2 => (any::<usize>(), prop_oneof![3 => Just(0u64), 1 => base()])
                .prop_map(|(pick, base)| Op::PlaceGuard { pick, base }),
            4 => (any::<usize>(), extra(), prop_oneof![3 => Just(u64::MAX), 1 => 0..UNIVERSE + 16])
                .prop_map(|(pick, extra, limit)| Op::GrowBehind { pick, extra, limit }),
            3 => (any::<usize>(), extra()).prop_map(|(pick, extra)| Op::GrowDown { pick, extra }),
            3 => (any::<usize>(), any::<u64>(), 0..UNIVERSE + 8, prop::bool::weighted(0.2))
                .prop_map(|(pick, holding, new_start, refuse)| Op::GrowDownTo {
                    pick,
                    holding,
                    new_start,
                    refuse,
                }),
        ]
    }

    /// The start of the `pick`-th range (`u64::MAX - 1` in an empty table), or of the
    /// `pick`-th range directly below a one-page guard when `below_guard` and there is one.
    fn pick_start(t: &RemapTable, pick: usize, below_guard: bool) -> Vpn {
        let all = ranges(t);
        if all.is_empty() {
            return u64::MAX - 1;
        }
        let below: Vec<Vpn> = all
            .windows(2)
            .filter(|w| {
                w[1].start == w[0].end() && w[1].pages == 1 && w[1].mapping.kind == Kind::Guard
            })
            .map(|w| w[0].start)
            .collect();
        if below_guard && !below.is_empty() {
            below[pick % below.len()]
        } else {
            all[pick % all.len()].start
        }
    }

    fn reference_grow_behind(
        t: &RemapTable,
        guard: Vpn,
        extra: u64,
        limit: Vpn,
    ) -> (Result<Range, RemapError>, RemapTable) {
        let mut c = t.clone();
        let result = (|| {
            if extra == 0 {
                return Err(RemapError::EmptyRange);
            }
            let guard_start = guard.checked_add(extra).ok_or(RemapError::Overflow)?;
            let guard_end = guard_start.checked_add(1).ok_or(RemapError::Overflow)?;
            let g = t
                .range_at(guard)
                .filter(|g| g.pages == 1 && g.mapping.kind == Kind::Guard)
                .ok_or(RemapError::NotAGuard { at: guard })?;
            let r = guard
                .checked_sub(1)
                .and_then(|below| t.range_containing(below))
                .filter(|r| r.end() == guard)
                .ok_or(RemapError::NotMapped {
                    at: guard.saturating_sub(1),
                })?;
            if !r.mapping.fits(r.pages + extra) {
                return Err(RemapError::Overflow);
            }
            if guard_end > limit || t.find_free(extra, guard + 1, guard_end) != Some(guard + 1) {
                return Err(RemapError::NoRoom);
            }
            c.unmap(guard, 1).expect("unmap guard");
            c.grow_up(r.start, extra)
                .expect("grow into the freed pages");
            c.map(guard_start, 1, g.mapping)
                .expect("map the moved guard");
            Ok(c.range_containing(r.start).expect("grown"))
        })();
        if result.is_err() {
            c = t.clone();
        }
        (result, c)
    }

    fn reference_grow_down(
        t: &RemapTable,
        start: Vpn,
        extra: u64,
    ) -> (Result<Range, RemapError>, RemapTable) {
        let mut c = t.clone();
        let result = (|| {
            if extra == 0 {
                return Err(RemapError::EmptyRange);
            }
            let r = t
                .range_at(start)
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
            if t.find_free(extra, new_start, start) != Some(new_start) {
                return Err(RemapError::NoRoom);
            }
            let mapping = Mapping {
                base,
                kind,
                ..r.mapping
            };
            c.unmap(start, r.pages).expect("unmap the range");
            c.map(new_start, r.pages + extra, mapping)
                .expect("map it grown down");
            Ok(c.range_containing(new_start).expect("grown"))
        })();
        if result.is_err() {
            c = t.clone();
        }
        (result, c)
    }

    /// `range_before` and `overlapping` agree with a scan of the ranges.
    fn check_queries(t: &RemapTable) -> Result<(), TestCaseError> {
        let all = ranges(t);
        for v in (0..UNIVERSE + 24).chain([u64::MAX - 1, u64::MAX]) {
            let want = all.iter().rev().find(|r| r.start < v).copied();
            prop_assert_eq!(t.range_before(v), want, "range_before({})", v);
            prop_assert_eq!(t.range_at(v), all.iter().find(|r| r.start == v).copied());
        }
        for (lo, hi) in [
            (0, UNIVERSE),
            (7, 8),
            (8, 7),
            (5, 5),
            (30, 60),
            (50, u64::MAX),
        ] {
            let want: Vec<Range> = all
                .iter()
                .filter(|r| lo < hi && r.start < hi && r.end() > lo)
                .copied()
                .collect();
            let got: Vec<Range> = t.overlapping(lo, hi).collect();
            prop_assert_eq!(got, want, "overlapping({}, {})", lo, hi);
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1500))]

        #[test]
        fn in_place_ops_match_references(ops in vec(op(), 1..40)) {
            let mut t = RemapTable::new();
            for op in ops {
                match op {
                    Op::Map { start, pages, guard, base } => {
                        let mapping = if guard {
                            Mapping::guard(base)
                        } else {
                            anon(start.wrapping_add(base), RW)
                        };
                        let _ = t.map(start, pages, mapping);
                    }
                    Op::PlaceGuard { pick, base } => {
                        let start = pick_start(&t, pick, false);
                        if let Some(r) = t.range_at(start) {
                            if t.translate(r.end()).is_none() {
                                let _ = t.map(r.end(), 1, Mapping::guard(base));
                            }
                        }
                    }
                    Op::GrowBehind { pick, extra, limit } => {
                        let start = pick_start(&t, pick, true);
                        let guard = t.range_at(start).map_or(start, |r| r.end());
                        let (want, after) = reference_grow_behind(&t, guard, extra, limit);
                        let got = t.grow_up_behind_guard(guard, extra, limit);
                        prop_assert_eq!(got, want);
                        prop_assert_eq!(&t, &after);
                    }
                    Op::GrowDownTo { pick, holding, new_start, refuse } => {
                        let holding = match t.range_at(pick_start(&t, pick, false)) {
                            Some(r) if holding % 8 != 0 => r.start + holding % r.pages,
                            _ => holding % (UNIVERSE + 8),
                        };
                        let (plain, after) = match t.range_containing(holding) {
                            None => (Err(RemapError::NotMapped { at: holding }), t.clone()),
                            Some(r) if new_start >= r.start => {
                                (Err(RemapError::EmptyRange), t.clone())
                            }
                            Some(r) => reference_grow_down(&t, r.start, r.start - new_start),
                        };
                        let (want, after) = if refuse && plain.is_ok() {
                            (Err(RemapError::Overlap { at: 0 }), t.clone())
                        } else {
                            (plain, after)
                        };
                        let mut seen = None;
                        let got = t.grow_down_to_checked(holding, new_start, |r| {
                            seen = Some(*r);
                            if refuse {
                                Err(RemapError::Overlap { at: 0 })
                            } else {
                                Ok(())
                            }
                        });
                        prop_assert_eq!(got, want);
                        prop_assert_eq!(&t, &after);
                        // The check runs, on the range as it was, exactly when the
                        // table's own checks passed.
                        prop_assert_eq!(seen.is_some(), plain.is_ok());
                        if let Some(r) = seen {
                            prop_assert!(r.contains(holding));
                        }
                    }
                    Op::GrowDown { pick, extra } => {
                        let start = pick_start(&t, pick, false);
                        let (want, after) = reference_grow_down(&t, start, extra);
                        let got = t.grow_down(start, extra);
                        prop_assert_eq!(got, want);
                        prop_assert_eq!(&t, &after);
                    }
                }
                if let Err(e) = t.check_invariants() {
                    return Err(TestCaseError::fail(e));
                }
                check_queries(&t)?;
            }
        }
    }
}
