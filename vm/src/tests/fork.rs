//! Fork at range level: what a fork costs (no page state, no frame count, no PTE
//! below the root changes), what the first writes cost afterwards, collapse when a
//! child goes, masks after a release, and chains of forks.

use super::*;

/// A space with `pages` touched pages of private memory at page 0x100.
fn touched(pages: u64) -> (EmulatedMachine, PersistentSpace, AddressSpace) {
    let (mut m, mut ps, mut p) = setup(pages * 3 + 64);
    p.map_anon(&mut ps, 0x100, pages, RW).unwrap();
    for i in 0..pages {
        write_u64(&mut m, &mut p, &mut ps, (0x100 + i) << 12, i + 1);
    }
    (m, ps, p)
}

/// Every leaf entry of a space, raw (address and bits as stored).
fn raw_leaves(m: &EmulatedMachine, a: &AddressSpace) -> Vec<(u64, u64)> {
    let mut v = Vec::new();
    a.page_table()
        .for_each_leaf(m, |va, e| v.push((va, e.address().as_u64())));
    v
}

#[test]
fn fork_touches_no_page_state_and_no_leaf_entry() {
    let (mut m, mut ps, mut p) = touched(300);
    let resident = ps.resident_pages();
    let frames = m.frames_in_use();
    let leaves = raw_leaves(&m, &p);
    let c = p.fork(&mut ps, &mut m).unwrap();
    // No page state, no count: one table root for the child is all that was allocated.
    assert_eq!(ps.resident_pages(), resident);
    assert_eq!(m.frames_in_use(), frames + 1);
    let f = ps.frame(p.remap().translate(0x100).unwrap().page).unwrap();
    assert_eq!(ps.refcount(f), 1);
    // The parent's leaves still point where they did, but are read-only in effect.
    assert_eq!(raw_leaves(&m, &p), leaves);
    for i in 0..300 {
        let va = (0x100 + i) << 12;
        assert!(!p.page_table().lookup(&m, va).unwrap().is_writeable());
        assert_eq!(m.mmu(p.root(), va, Access::Write), Err(HwFault::Protection));
    }
    assert_eq!(ps.layer_count(), (2, 1));
    assert_accounted(&m, &ps, &[&p, &c]);
}

#[test]
fn child_that_exits_at_once_leaves_the_parent_no_copy() {
    let (mut m, mut ps, mut p) = touched(64);
    for _ in 0..50 {
        let c = p.fork(&mut ps, &mut m).unwrap();
        c.destroy(&mut ps, &mut m);
        // The frozen layer collapsed into the parent: nothing is frozen any more.
        assert_eq!(ps.layer_count(), (1, 0));
    }
    let frames = m.frames_in_use();
    m.faults.clear();
    for i in 0..64 {
        write_u64(&mut m, &mut p, &mut ps, (0x100 + i) << 12, 1000 + i);
    }
    // Every write takes its page over: no copy, no new frame (tables aside).
    assert!(m.faults.iter().all(|f| *f == FaultOutcome::CowTakenOver));
    assert_eq!(m.frames_in_use(), frames);
    for i in 0..64 {
        assert_eq!(
            read_u64(&mut m, &mut p, &mut ps, (0x100 + i) << 12),
            1000 + i
        );
    }
    assert_accounted(&m, &ps, &[&p]);
    p.destroy(&mut ps, &mut m);
    assert_eq!((m.frames_in_use(), ps.resident_pages()), (0, 0));
    assert_eq!(ps.layer_count(), (0, 0));
}

#[test]
fn parent_and_child_see_only_their_own_writes() {
    let (mut m, mut ps, mut p) = touched(8);
    let mut c = p.fork(&mut ps, &mut m).unwrap();
    let va = |i: u64| (0x100 + i) << 12;
    write_u64(&mut m, &mut p, &mut ps, va(0), 0x90);
    write_u64(&mut m, &mut c, &mut ps, va(1), 0xc1);
    assert_eq!(read_u64(&mut m, &mut c, &mut ps, va(0)), 1);
    assert_eq!(read_u64(&mut m, &mut p, &mut ps, va(1)), 2);
    assert_eq!(read_u64(&mut m, &mut p, &mut ps, va(0)), 0x90);
    assert_eq!(read_u64(&mut m, &mut c, &mut ps, va(1)), 0xc1);
    // A grandchild sees the child's view at its fork, not later writes of either.
    let mut g = c.fork(&mut ps, &mut m).unwrap();
    write_u64(&mut m, &mut c, &mut ps, va(2), 0xc2);
    write_u64(&mut m, &mut p, &mut ps, va(3), 0x93);
    assert_eq!(read_u64(&mut m, &mut g, &mut ps, va(1)), 0xc1);
    assert_eq!(read_u64(&mut m, &mut g, &mut ps, va(2)), 3);
    assert_eq!(read_u64(&mut m, &mut g, &mut ps, va(3)), 4);
    assert_accounted(&m, &ps, &[&p, &c, &g]);
    // The middle one goes first: the others keep their views.
    c.destroy(&mut ps, &mut m);
    assert_eq!(read_u64(&mut m, &mut g, &mut ps, va(1)), 0xc1);
    assert_eq!(read_u64(&mut m, &mut p, &mut ps, va(1)), 2);
    assert_accounted(&m, &ps, &[&p, &g]);
    p.destroy(&mut ps, &mut m);
    assert_eq!(read_u64(&mut m, &mut g, &mut ps, va(0)), 1);
    assert_eq!(read_u64(&mut m, &mut g, &mut ps, va(3)), 4);
    assert_accounted(&m, &ps, &[&g]);
    assert_eq!(ps.layer_count(), (1, 0));
    g.destroy(&mut ps, &mut m);
    assert_eq!((m.frames_in_use(), ps.layer_count()), (0, (0, 0)));
}

#[test]
fn released_pages_read_zero_after_fork_even_when_grown_back() {
    let (mut m, mut ps, mut p) = touched(8);
    let c = p.fork(&mut ps, &mut m).unwrap();
    // Shrink the parent's range by 4 pages and grow it back in place: the pages
    // read as zeros, not as the frozen contents the child still sees.
    p.shrink_up(&mut ps, &mut m, 0x100, 4).unwrap();
    p.grow_up(&ps, 0x100, 4).unwrap();
    for i in 4..8 {
        assert_eq!(read_u64(&mut m, &mut p, &mut ps, (0x100 + i) << 12), 0);
    }
    assert_accounted(&m, &ps, &[&p, &c]);
    c.destroy(&mut ps, &mut m);
    for i in 0..8 {
        let want = if i < 4 { i + 1 } else { 0 };
        assert_eq!(read_u64(&mut m, &mut p, &mut ps, (0x100 + i) << 12), want);
    }
    assert_accounted(&m, &ps, &[&p]);
    p.destroy(&mut ps, &mut m);
    assert_eq!(m.frames_in_use(), 0);
}

#[test]
fn kernel_writes_through_translate_user_break_the_sharing() {
    let (mut m, mut ps, mut p) = touched(2);
    let mut c = p.fork(&mut ps, &mut m).unwrap();
    // The parent's leaf is writable but its root entry is not: a kernel copy into
    // the parent must not land in the frame the child still sees.
    p.write_user(&mut ps, &mut m, 0x100 << 12, &7u64.to_le_bytes())
        .unwrap();
    assert_eq!(read_u64(&mut m, &mut c, &mut ps, 0x100 << 12), 1);
    assert_eq!(read_u64(&mut m, &mut p, &mut ps, 0x100 << 12), 7);
    assert_accounted(&m, &ps, &[&p, &c]);
}

#[test]
fn a_forked_stack_grows_down_page_by_page() {
    let (mut m, mut ps, mut p) = setup(600);
    p.map_anon_growable(
        &mut ps,
        0x800,
        2,
        RW,
        Growth {
            below: 512,
            above: 0,
        },
    )
    .unwrap();
    write_u64(&mut m, &mut p, &mut ps, 0x801 << 12, 7);
    let mut c = p.fork(&mut ps, &mut m).unwrap();
    let mut start = 0x800;
    for _ in 0..200 {
        c.grow_down_to(&ps, start, start - 1).unwrap();
        start -= 1;
        write_u64(&mut m, &mut c, &mut ps, start << 12, start);
    }
    assert_eq!(read_u64(&mut m, &mut c, &mut ps, 0x801 << 12), 7);
    assert_accounted(&m, &ps, &[&p, &c]);
}
