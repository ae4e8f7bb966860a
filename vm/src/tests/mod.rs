//! Host tests of address spaces over the emulated machine: each fault outcome, each
//! Segv reason, copy-on-write fork isolation, growth, tables as a rebuildable cache,
//! leak accounting; and (in `prop`) random operation sequences against the invariants.

mod fork;
mod prop;

use crate::emulated::{CpuError, EmulatedMachine, HwFault};
use crate::remap::Perms;
use crate::*;

pub(crate) const RW: Perms = Perms::READ.union(Perms::WRITE);
pub(crate) const RO: Perms = Perms::READ;
pub(crate) const RX: Perms = Perms::READ.union(Perms::EXEC);

/// Fake kernel upper half: two entries pointing at frames outside the emulated RAM.
pub(crate) fn upper() -> [u64; KERNEL_ENTRIES] {
    let mut u = [0u64; KERNEL_ENTRIES];
    u[0] = 0x7000 | 3;
    u[255] = 0x8000 | 3;
    u
}

fn setup(frames: u64) -> (EmulatedMachine, PersistentSpace, AddressSpace) {
    let mut m = EmulatedMachine::new(frames);
    let ps = PersistentSpace::new();
    let a = AddressSpace::new(&mut m, &upper()).unwrap();
    (m, ps, a)
}

/// Frames in use must be exactly those held by the persistent space and page tables.
pub(crate) fn assert_accounted(
    m: &EmulatedMachine,
    ps: &PersistentSpace,
    spaces: &[&AddressSpace],
) {
    let tables: u64 = spaces.iter().map(|s| s.table_frames()).sum();
    assert_eq!(
        m.frames_in_use(),
        ps.frames_held() as u64 + tables,
        "frame leak or double use"
    );
    assert_eq!(m.bad_frees, 0);
    ps.check_invariants().unwrap();
    for s in spaces {
        s.audit(ps, m).unwrap();
        m.audit_tlb(s, ps).unwrap();
        s.remap().check_invariants().unwrap();
    }
}

fn read_u64(
    m: &mut EmulatedMachine,
    a: &mut AddressSpace,
    ps: &mut PersistentSpace,
    va: u64,
) -> u64 {
    let mut b = [0u8; 8];
    m.user_read(a, ps, va, &mut b).unwrap();
    u64::from_le_bytes(b)
}

fn write_u64(
    m: &mut EmulatedMachine,
    a: &mut AddressSpace,
    ps: &mut PersistentSpace,
    va: u64,
    v: u64,
) {
    m.user_write(a, ps, va, &v.to_le_bytes()).unwrap();
}

fn segv(addr: u64, reason: SegvReason) -> Segv {
    Segv { addr, reason }
}

#[test]
fn zero_fill_then_spurious_then_minor() {
    let (mut m, mut ps, mut a) = setup(64);
    a.map_anon(&mut ps, 0x10, 4, RW).unwrap();
    let va = 0x10 << 12;
    assert_eq!(
        a.resolve_fault(&mut ps, &mut m, va + 5, Access::Read),
        Ok(FaultOutcome::ZeroFilled)
    );
    // Exclusive frame in a writable range: mapped writable at once.
    assert_eq!(
        a.resolve_fault(&mut ps, &mut m, va, Access::Write),
        Ok(FaultOutcome::Spurious)
    );
    assert_eq!(read_u64(&mut m, &mut a, &mut ps, va), 0);
    write_u64(&mut m, &mut a, &mut ps, va + 8, 0xfeed);
    assert_eq!(m.faults, []); // the PTE was already good
    assert_eq!(a.drop_tables(&mut m), 1);
    assert_eq!(a.table_frames(), 1);
    assert_eq!(
        a.resolve_fault(&mut ps, &mut m, va, Access::Write),
        Ok(FaultOutcome::Minor)
    );
    assert_eq!(read_u64(&mut m, &mut a, &mut ps, va + 8), 0xfeed);
    assert_eq!(
        (ps.resident_pages(), a.resident_pages(&ps).unwrap().0),
        (1, 1)
    );
    assert_accounted(&m, &ps, &[&a]);
    a.destroy(&mut ps, &mut m);
    assert_eq!(
        (m.frames_in_use(), ps.frames_held(), ps.resident_pages()),
        (0, 0, 0)
    );
}

#[test]
fn every_segv_reason() {
    let (mut m, mut ps, mut a) = setup(64);
    a.map_anon(&mut ps, 0x10, 1, RO).unwrap();
    a.map_guard(0x11, 1).unwrap();
    a.map_anon(&mut ps, 0x12, 1, Perms::empty()).unwrap();
    a.map_anon(&mut ps, 0x13, 1, RW).unwrap();
    let mut f = |va, acc| a.resolve_fault(&mut ps, &mut m, va, acc);
    assert_eq!(
        f(0x5000, Access::Read),
        Err(segv(0x5000, SegvReason::Unmapped))
    );
    assert_eq!(
        f(0x11008, Access::Read),
        Err(segv(0x11008, SegvReason::Guard))
    );
    assert_eq!(
        f(0x12000, Access::Read),
        Err(segv(0x12000, SegvReason::NoAccess))
    );
    assert_eq!(
        f(0x10fff, Access::Write),
        Err(segv(0x10fff, SegvReason::WriteToReadOnly))
    );
    assert_eq!(
        f(0x13000, Access::Exec),
        Err(segv(0x13000, SegvReason::ExecNonExec))
    );
    for k in [USER_END, u64::MAX, 0xffff_8000_0000_0000] {
        assert_eq!(f(k, Access::Read), Err(segv(k, SegvReason::KernelAddress)));
    }
    assert_eq!(f(0x10000, Access::Read), Ok(FaultOutcome::ZeroFilled));
    // Nothing was mapped by the refused faults.
    assert_eq!(ps.resident_pages(), 1);
    assert_accounted(&m, &ps, &[&a]);
    // Out of memory: exhaust the frames, then fault.
    while m.frames.alloc_frame().is_some() {}
    assert_eq!(
        a.resolve_fault(&mut ps, &mut m, 0x13000, Access::Read),
        Err(segv(0x13000, SegvReason::OutOfMemory))
    );
    assert!(a
        .resolve_fault(&mut ps, &mut m, 0x13000, Access::Read)
        .unwrap_err()
        .is_out_of_memory());
    assert_eq!(ps.resident_pages(), 1);
}

#[test]
fn oom_for_a_page_table_is_a_consistent_segv() {
    let (mut m, mut ps, mut a) = setup(2); // root + one frame
    a.map_anon(&mut ps, 0x10, 1, RW).unwrap();
    let e = a
        .resolve_fault(&mut ps, &mut m, 0x10000, Access::Write)
        .unwrap_err();
    assert_eq!(e.reason, SegvReason::OutOfMemory);
    // The tables are walked (and built) before a data frame is taken.
    assert_eq!(ps.resident_pages(), 0);
    assert_accounted(&m, &ps, &[&a]);
    a.destroy(&mut ps, &mut m);
    assert_eq!(m.frames_in_use(), 0);
}

#[test]
fn exec_permission_controls_nx() {
    let (mut m, mut ps, mut a) = setup(64);
    a.map_anon(&mut ps, 0x400, 2, RX).unwrap();
    m.access(&mut a, &mut ps, 0x400123, Access::Exec).unwrap();
    let e = a.page_table().lookup(&m, 0x400000).unwrap();
    assert!(!e.is_instruction_fetching_disabled() && !e.is_writeable() && e.is_user_mode_allowed());
    assert_eq!(
        m.access(&mut a, &mut ps, 0x400123, Access::Write),
        Err(CpuError::Segv(segv(0x400123, SegvReason::WriteToReadOnly)))
    );
    a.protect(&mut m, 0x400, 2, RO).unwrap();
    assert_eq!(
        m.access(&mut a, &mut ps, 0x400123, Access::Exec),
        Err(CpuError::Segv(segv(0x400123, SegvReason::ExecNonExec)))
    );
    m.access(&mut a, &mut ps, 0x400123, Access::Read).unwrap();
    assert!(a
        .page_table()
        .lookup(&m, 0x400000)
        .unwrap()
        .is_instruction_fetching_disabled());
    assert_accounted(&m, &ps, &[&a]);
}

#[test]
fn fork_shares_then_copies_then_takes_over() {
    let (mut m, mut ps, mut p) = setup(64);
    p.map_anon(&mut ps, 0x10, 2, RW).unwrap();
    let va = 0x10 << 12;
    write_u64(&mut m, &mut p, &mut ps, va, 0xaaaa);
    write_u64(&mut m, &mut p, &mut ps, va + 0x1000, 0xbbbb);
    let frame = ps.frame(p.remap().translate(0x10).unwrap().page).unwrap();
    let mut c = p.fork(&mut ps, &mut m).unwrap();
    // No per-page work: no count changed, no page state was copied.
    assert_eq!(ps.refcount(frame), 1);
    assert_eq!(ps.frames_held(), 2);
    assert_eq!(ps.resident_pages(), 2);
    assert_eq!(
        ps.frame(c.remap().translate(0x10).unwrap().page),
        Some(frame)
    );
    assert!(p.remap().iter().all(|r| r.mapping.cow) && c.remap().iter().all(|r| r.mapping.cow));
    // Different persistent pages, same contents.
    assert_ne!(
        p.remap().translate(0x10).unwrap().page,
        c.remap().translate(0x10).unwrap().page
    );
    assert_accounted(&m, &ps, &[&p, &c]);
    // The parent's PTE is now read-only: the MMU refuses the write.
    assert_eq!(m.mmu(p.root(), va, Access::Write), Err(HwFault::Protection));
    // Child reads: minor fault on the shared frame, read-only PTE.
    m.faults.clear();
    assert_eq!(read_u64(&mut m, &mut c, &mut ps, va), 0xaaaa);
    assert_eq!(m.faults, [FaultOutcome::Minor]);
    assert!(!c.page_table().lookup(&m, va).unwrap().is_writeable());
    // Child writes: copy.
    m.faults.clear();
    write_u64(&mut m, &mut c, &mut ps, va, 0xc1);
    assert_eq!(m.faults, [FaultOutcome::CowCopied]);
    assert_eq!(ps.refcount(frame), 1);
    assert_eq!(ps.frames_held(), 3);
    assert_accounted(&m, &ps, &[&p, &c]);
    // Parent writes: sole owner now, takes over without copying.
    m.faults.clear();
    write_u64(&mut m, &mut p, &mut ps, va, 0x91);
    assert_eq!(m.faults, [FaultOutcome::CowTakenOver]);
    assert_eq!(
        ps.frame(p.remap().translate(0x10).unwrap().page),
        Some(frame)
    );
    assert_eq!(read_u64(&mut m, &mut p, &mut ps, va), 0x91);
    assert_eq!(read_u64(&mut m, &mut c, &mut ps, va), 0xc1);
    // Second page: parent writes first (copy), child then takes over.
    m.faults.clear();
    write_u64(&mut m, &mut p, &mut ps, va + 0x1000, 0x92);
    write_u64(&mut m, &mut c, &mut ps, va + 0x1000, 0xc2);
    assert_eq!(
        m.faults,
        [FaultOutcome::CowCopied, FaultOutcome::CowTakenOver]
    );
    assert_eq!(read_u64(&mut m, &mut p, &mut ps, va + 0x1000), 0x92);
    assert_eq!(read_u64(&mut m, &mut c, &mut ps, va + 0x1000), 0xc2);
    assert_eq!(ps.frames_held(), 4);
    assert_accounted(&m, &ps, &[&p, &c]);
    c.destroy(&mut ps, &mut m);
    assert_eq!(ps.frames_held(), 2);
    p.destroy(&mut ps, &mut m);
    assert_eq!(
        (m.frames_in_use(), ps.frames_held(), ps.resident_pages()),
        (0, 0, 0)
    );
}

#[test]
fn zero_page_in_cow_range_fills_independently() {
    let (mut m, mut ps, mut p) = setup(64);
    p.map_anon(&mut ps, 0x10, 1, RW).unwrap();
    let mut c = p.fork(&mut ps, &mut m).unwrap();
    assert_eq!(ps.resident_pages(), 0);
    m.faults.clear();
    write_u64(&mut m, &mut p, &mut ps, 0x10000, 1);
    write_u64(&mut m, &mut c, &mut ps, 0x10000, 2);
    assert_eq!(
        m.faults,
        [FaultOutcome::ZeroFilled, FaultOutcome::ZeroFilled]
    );
    assert_eq!(read_u64(&mut m, &mut p, &mut ps, 0x10000), 1);
    assert_eq!(read_u64(&mut m, &mut c, &mut ps, 0x10000), 2);
    assert_accounted(&m, &ps, &[&p, &c]);
    p.destroy(&mut ps, &mut m);
    c.destroy(&mut ps, &mut m);
    assert_eq!(m.frames_in_use(), 0);
}

#[test]
fn read_only_private_range_survives_parent_unmap_and_protect() {
    let (mut m, mut ps, mut p) = setup(64);
    p.map_anon(&mut ps, 0x10, 1, RW).unwrap();
    write_u64(&mut m, &mut p, &mut ps, 0x10000, 0x5a);
    p.protect(&mut m, 0x10, 1, RO).unwrap();
    let mut c = p.fork(&mut ps, &mut m).unwrap();
    // The child has its own persistent page (own window) sharing the frame.
    let pp = p.remap().translate(0x10).unwrap().page;
    let cp = c.remap().translate(0x10).unwrap().page;
    assert_ne!(pp, cp);
    assert_eq!(ps.frame(pp), ps.frame(cp));
    // Parent makes it writable again and writes: must copy (frame shared).
    p.protect(&mut m, 0x10, 1, RW).unwrap();
    m.faults.clear();
    write_u64(&mut m, &mut p, &mut ps, 0x10000, 0x77);
    assert_eq!(m.faults, [FaultOutcome::CowCopied]);
    assert_eq!(read_u64(&mut m, &mut c, &mut ps, 0x10000), 0x5a);
    p.unmap(&mut ps, &mut m, 0x10, 1).unwrap();
    assert_eq!(read_u64(&mut m, &mut c, &mut ps, 0x10000), 0x5a);
    assert_accounted(&m, &ps, &[&p, &c]);
    p.destroy(&mut ps, &mut m);
    c.destroy(&mut ps, &mut m);
    assert_eq!(m.frames_in_use(), 0);
}

#[test]
fn protect_invalidates_ptes_and_tlb() {
    let (mut m, mut ps, mut a) = setup(64);
    a.map_anon(&mut ps, 0x10, 4, RW).unwrap();
    for i in 0..4 {
        write_u64(&mut m, &mut a, &mut ps, (0x10 + i) << 12, i);
    }
    assert_eq!(m.tlb.entries(a.root()).count(), 4);
    a.protect(&mut m, 0x11, 2, RO).unwrap();
    assert_eq!(a.remap().len(), 3);
    m.audit_tlb(&a, &ps).unwrap();
    assert_eq!(
        m.access(&mut a, &mut ps, 0x11000, Access::Write),
        Err(CpuError::Segv(segv(0x11000, SegvReason::WriteToReadOnly)))
    );
    assert_eq!(read_u64(&mut m, &mut a, &mut ps, 0x12000), 2);
    write_u64(&mut m, &mut a, &mut ps, 0x13000, 33);
    a.protect(&mut m, 0x10, 4, Perms::empty()).unwrap();
    assert_eq!(
        m.access(&mut a, &mut ps, 0x13000, Access::Read),
        Err(CpuError::Segv(segv(0x13000, SegvReason::NoAccess)))
    );
    a.protect(&mut m, 0x10, 4, RW).unwrap();
    assert_eq!(a.remap().len(), 1);
    assert_eq!(read_u64(&mut m, &mut a, &mut ps, 0x13000), 33);
    assert_eq!(
        a.protect(&mut m, 0x10, 5, RO),
        Err(VmError::Remap(remap::RemapError::NotMapped { at: 0x14 }))
    );
    assert_accounted(&m, &ps, &[&a]);
}

#[test]
fn unmap_releases_pages_and_tables() {
    let (mut m, mut ps, mut a) = setup(256);
    a.map_anon(&mut ps, 0x10, 1024, RW).unwrap();
    for i in (0..1024).step_by(100) {
        write_u64(&mut m, &mut a, &mut ps, (0x10 + i) << 12, i);
    }
    assert_eq!(ps.resident_pages(), 11);
    assert_eq!(a.table_frames(), 1 + 1 + 1 + 2); // root, PDPT, PD, 2 PTs
    assert_eq!(a.unmap(&mut ps, &mut m, 0x10 + 250, 300).unwrap(), 3);
    assert_eq!(ps.resident_pages(), 8);
    assert_eq!(a.remap().len(), 2);
    assert_eq!(
        m.access(&mut a, &mut ps, (0x10 + 300) << 12, Access::Read),
        Err(CpuError::Segv(segv(
            (0x10 + 300) << 12,
            SegvReason::Unmapped
        )))
    );
    assert_eq!(read_u64(&mut m, &mut a, &mut ps, (0x10 + 600) << 12), 600);
    assert_accounted(&m, &ps, &[&a]);
    // A huge unmap over holes costs only what is present.
    assert_eq!(a.unmap(&mut ps, &mut m, 0, USER_END_VPN).unwrap(), 8);
    assert_eq!(a.table_frames(), 1);
    assert_eq!(a.windows().count(), 0);
    assert_accounted(&m, &ps, &[&a]);
    assert_eq!(
        a.unmap(&mut ps, &mut m, USER_END_VPN - 1, 2),
        Err(VmError::NotUserRange {
            start: USER_END_VPN - 1,
            pages: 2
        })
    );
}

#[test]
fn grow_in_place_within_window() {
    let (mut m, mut ps, mut a) = setup(64);
    // Heap: may grow up by 4 pages. Stack: may grow down by 2.
    a.map_anon_growable(&mut ps, 0x100, 2, RW, Growth { below: 0, above: 4 })
        .unwrap();
    a.map_anon_growable(&mut ps, 0x800, 1, RW, Growth { below: 2, above: 0 })
        .unwrap();
    write_u64(&mut m, &mut a, &mut ps, 0x101000, 7);
    write_u64(&mut m, &mut a, &mut ps, 0x800ff8, 9);
    let r = a.grow_up(&ps, 0x100, 3).unwrap();
    assert_eq!((r.start, r.pages), (0x100, 5));
    assert_eq!(
        a.grow_up(&ps, 0x100, 2),
        Err(VmError::WindowFull { start: 0x100 })
    );
    a.grow_up(&ps, 0x100, 1).unwrap();
    assert_eq!(read_u64(&mut m, &mut a, &mut ps, 0x105000), 0);
    write_u64(&mut m, &mut a, &mut ps, 0x105000, 5);
    assert_eq!(read_u64(&mut m, &mut a, &mut ps, 0x101000), 7);
    let r = a.grow_down(&ps, 0x800, 2).unwrap();
    assert_eq!((r.start, r.pages), (0x7fe, 3));
    assert_eq!(
        a.grow_down(&ps, 0x7fe, 1),
        Err(VmError::WindowFull { start: 0x7fe })
    );
    write_u64(&mut m, &mut a, &mut ps, 0x7fe000, 3);
    assert_eq!(read_u64(&mut m, &mut a, &mut ps, 0x800ff8), 9);
    // Growth into a mapped neighbour is refused by the remap table.
    a.map_guard(0x7fc, 1).unwrap();
    assert_eq!(
        a.grow_up(&ps, 0x7fc, 1),
        Err(VmError::NotGrowable { start: 0x7fc })
    );
    assert_eq!(
        a.grow_up(&ps, 0x101, 1),
        Err(VmError::Remap(remap::RemapError::NotARangeStart {
            at: 0x101
        }))
    );
    // Shrink releases the tail.
    let before = ps.resident_pages();
    let tail = a.shrink_up(&mut ps, &mut m, 0x100, 2).unwrap();
    assert_eq!((tail.start, tail.pages), (0x104, 2));
    assert_eq!(ps.resident_pages(), before - 1);
    assert_eq!(
        m.access(&mut a, &mut ps, 0x105000, Access::Read),
        Err(CpuError::Segv(segv(0x105000, SegvReason::Unmapped)))
    );
    // Growing again gives zero pages, not the old contents.
    a.grow_up(&ps, 0x100, 2).unwrap();
    assert_eq!(read_u64(&mut m, &mut a, &mut ps, 0x105000), 0);
    assert_accounted(&m, &ps, &[&a]);
    a.destroy(&mut ps, &mut m);
    assert_eq!(m.frames_in_use(), 0);
}

#[test]
fn grow_behind_guard_moves_the_guard_without_table_work() {
    let (mut m, mut ps, mut a) = setup(64);
    let yes = |_: &remap::Range| true;
    // Heap of 2 pages that may grow up by 4, its guard page, a mapping above.
    a.map_anon_growable(&mut ps, 0x100, 2, RW, Growth { below: 0, above: 4 })
        .unwrap();
    a.map_guard(0x102, 1).unwrap();
    a.map_anon(&mut ps, 0x108, 1, RW).unwrap();
    write_u64(&mut m, &mut a, &mut ps, 0x101000, 7);
    assert_eq!(
        m.access(&mut a, &mut ps, 0x102000, Access::Write),
        Err(CpuError::Segv(segv(0x102000, SegvReason::Guard)))
    );
    let r = a
        .grow_up_behind_guard(&ps, 0x102, 2, u64::MAX, yes)
        .unwrap();
    assert_eq!((r.start, r.pages), (0x100, 4));
    // The guard's old page is heap now; the guard sits right above the heap.
    write_u64(&mut m, &mut a, &mut ps, 0x102000, 5);
    assert_eq!(read_u64(&mut m, &mut a, &mut ps, 0x103000), 0);
    assert_eq!(read_u64(&mut m, &mut a, &mut ps, 0x101000), 7);
    assert_eq!(
        m.access(&mut a, &mut ps, 0x104000, Access::Read),
        Err(CpuError::Segv(segv(0x104000, SegvReason::Guard)))
    );
    assert_accounted(&m, &ps, &[&a]);
    // Refusals change nothing: the limit, the window, no guard, the caller.
    let before = a.remap().clone();
    assert_eq!(
        a.grow_up_behind_guard(&ps, 0x104, 1, 0x105, yes),
        Err(VmError::Remap(remap::RemapError::NoRoom))
    );
    assert_eq!(
        a.grow_up_behind_guard(&ps, 0x104, 3, u64::MAX, yes),
        Err(VmError::WindowFull { start: 0x100 })
    );
    assert_eq!(
        a.grow_up_behind_guard(&ps, 0x109, 1, u64::MAX, yes),
        Err(VmError::Remap(remap::RemapError::NotAGuard { at: 0x109 }))
    );
    assert_eq!(
        a.grow_up_behind_guard(&ps, 0x104, 1, u64::MAX, |r| r.start > 0x100),
        Err(VmError::NotGrowable { start: 0x100 })
    );
    assert_eq!(
        a.grow_up_behind_guard(&ps, 0x104, 0, u64::MAX, yes),
        Err(VmError::Remap(remap::RemapError::EmptyRange))
    );
    assert_eq!(a.remap(), &before);
    // Only private ranges grow.
    a.map_guard(0x20, 1).unwrap();
    a.map_guard(0x21, 1).unwrap();
    assert_eq!(
        a.grow_up_behind_guard(&ps, 0x21, 1, u64::MAX, yes),
        Err(VmError::NotGrowable { start: 0x20 })
    );
    a.unmap(&mut ps, &mut m, 0x20, 2).unwrap();
    // A mapping right above the guard's new page is fine; on it is not.
    a.unmap(&mut ps, &mut m, 0x108, 1).unwrap();
    a.map_anon(&mut ps, 0x106, 1, RW).unwrap();
    let before = a.remap().clone();
    assert_eq!(
        a.grow_up_behind_guard(&ps, 0x104, 2, u64::MAX, yes),
        Err(VmError::Remap(remap::RemapError::NoRoom))
    );
    assert_eq!(a.remap(), &before);
    a.grow_up_behind_guard(&ps, 0x104, 1, 0x106, yes).unwrap();
    assert_eq!(
        a.remap().range_at(0x105).map(|g| g.mapping.kind),
        Some(remap::Kind::Guard)
    );
    assert_accounted(&m, &ps, &[&a]);
    a.destroy(&mut ps, &mut m);
    assert_eq!(m.frames_in_use(), 0);
}

#[test]
fn grow_in_place_at_any_size_is_cheap() {
    let (mut m, mut ps, mut a) = setup(64);
    a.map_anon(&mut ps, 0x1000, 1, RW).unwrap();
    a.grow_up(&ps, 0x1000, (1 << 20) - 1).unwrap();
    write_u64(&mut m, &mut a, &mut ps, (0x1000 + (1 << 20) - 1) << 12, 1);
    assert_eq!(
        a.grow_up(&ps, 0x1000, 2),
        Err(VmError::WindowFull { start: 0x1000 })
    );
    a.destroy(&mut ps, &mut m);
    assert_eq!(m.frames_in_use(), 0);
}

#[test]
fn tables_are_a_rebuildable_cache() {
    let (mut m, mut ps, mut a) = setup(128);
    a.map_anon(&mut ps, 0x10, 8, RW).unwrap();
    a.map_anon(&mut ps, 0x3ffff, 2, Perms::all()).unwrap(); // crosses a 1 GiB boundary
    a.map_anon(&mut ps, USER_END_VPN - 1, 1, RO).unwrap();
    for va in [0x10000, 0x17000, 0x3ffff000, 0x40000000] {
        write_u64(&mut m, &mut a, &mut ps, va, va);
    }
    assert_eq!(read_u64(&mut m, &mut a, &mut ps, USER_END - 8), 0);
    let tables = a.table_frames();
    assert!(tables > 6);
    let n = a.drop_tables(&mut m);
    assert_eq!(n, 5);
    assert_eq!(a.table_frames(), 1);
    assert!(m.tlb.entries(a.root()).next().is_none());
    assert_eq!(a.page_table().kernel_upper(&m), upper());
    assert_accounted(&m, &ps, &[&a]);
    assert_eq!(a.rebuild_tables(&ps, &mut m).unwrap(), 5);
    assert_eq!(a.table_frames(), tables);
    assert_accounted(&m, &ps, &[&a]);
    m.faults.clear();
    for va in [0x10000, 0x17000, 0x3ffff000, 0x40000000] {
        assert_eq!(read_u64(&mut m, &mut a, &mut ps, va), va);
    }
    assert_eq!(m.faults, []);
    a.destroy(&mut ps, &mut m);
    assert_eq!(m.frames_in_use(), 0);
}

#[test]
fn translate_user_faults_pages_in_and_breaks_cow() {
    let (mut m, mut ps, mut p) = setup(64);
    p.map_anon(&mut ps, 0x10, 2, RW).unwrap();
    p.write_user(&mut ps, &mut m, 0x10ffc, b"spans two pages")
        .unwrap();
    let mut buf = [0u8; 15];
    p.read_user(&mut ps, &mut m, 0x10ffc, &mut buf).unwrap();
    assert_eq!(&buf, b"spans two pages");
    let mut c = p.fork(&mut ps, &mut m).unwrap();
    c.write_user(&mut ps, &mut m, 0x11000, b"CHILD").unwrap();
    p.read_user(&mut ps, &mut m, 0x10ffc, &mut buf).unwrap();
    assert_eq!(&buf, b"spans two pages");
    c.read_user(&mut ps, &mut m, 0x10ffc, &mut buf).unwrap();
    assert_eq!(&buf, b"spanCHILD pages");
    assert_eq!(
        c.read_user(&mut ps, &mut m, 0x11ffc, &mut buf),
        Err(segv(0x12000, SegvReason::Unmapped))
    );
    assert_eq!(
        c.translate_user(&mut ps, &mut m, USER_END, Access::Read),
        Err(segv(USER_END, SegvReason::KernelAddress))
    );
    assert_eq!(
        c.read_user(&mut ps, &mut m, u64::MAX - 2, &mut buf)
            .unwrap_err()
            .reason,
        SegvReason::KernelAddress
    );
    assert_accounted(&m, &ps, &[&p, &c]);
}

#[test]
fn object_ranges_are_shared_not_released() {
    let (mut m, mut ps, mut p) = setup(64);
    let obj = ps.reserve_window(4).unwrap();
    p.map_object(0x20, 4, RW, obj, 7, 0).unwrap();
    write_u64(&mut m, &mut p, &mut ps, 0x21000, 42);
    let mut c = p.fork(&mut ps, &mut m).unwrap();
    assert_eq!(read_u64(&mut m, &mut c, &mut ps, 0x21000), 42);
    write_u64(&mut m, &mut c, &mut ps, 0x21000, 43);
    assert_eq!(read_u64(&mut m, &mut p, &mut ps, 0x21000), 43);
    assert_accounted(&m, &ps, &[&p, &c]);
    p.unmap(&mut ps, &mut m, 0x20, 4).unwrap();
    c.destroy(&mut ps, &mut m);
    assert_eq!(ps.resident_pages(), 1); // the object's page stays
    ps.release_range(obj, 4, &mut m);
    p.destroy(&mut ps, &mut m);
    assert_eq!(m.frames_in_use(), 0);
}

#[test]
fn bad_requests_are_typed_errors() {
    let (mut m, mut ps, mut a) = setup(64);
    a.map_anon(&mut ps, 0x10, 2, RW).unwrap();
    let next = ps.next_unreserved();
    assert_eq!(
        a.map_anon(&mut ps, 0x11, 2, RW),
        Err(VmError::Remap(remap::RemapError::Overlap { at: 0x11 }))
    );
    assert_eq!(
        ps.next_unreserved(),
        next,
        "a refused map spends no numbers"
    );
    assert_eq!(
        a.map_anon(&mut ps, 0x100, 0, RW),
        Err(VmError::NotUserRange {
            start: 0x100,
            pages: 0
        })
    );
    assert_eq!(
        a.map_anon(&mut ps, u64::MAX, 2, RW),
        Err(VmError::NotUserRange {
            start: u64::MAX,
            pages: 2
        })
    );
    assert_eq!(
        a.map_anon(&mut ps, 0x100, u64::MAX / 2, RW),
        Err(VmError::NotUserRange {
            start: 0x100,
            pages: u64::MAX / 2
        })
    );
    assert_eq!(
        a.map_anon_growable(
            &mut ps,
            0x100,
            1,
            RW,
            Growth {
                below: u64::MAX,
                above: 1
            }
        ),
        Err(VmError::NumbersExhausted)
    );
    assert_eq!(
        a.grow_down(&ps, 0x10, 0x11),
        Err(VmError::Remap(remap::RemapError::Overflow))
    );
    assert_eq!(
        a.grow_up(&ps, 0x10, 0),
        Err(VmError::Remap(remap::RemapError::EmptyRange))
    );
    assert_eq!(
        a.grow_down(&ps, 0x10, 0),
        Err(VmError::Remap(remap::RemapError::EmptyRange))
    );
    assert_eq!(
        a.grow_up(&ps, 0x10, u64::MAX),
        Err(VmError::NotUserRange {
            start: 0x10,
            pages: u64::MAX
        })
    );
    assert_eq!(
        a.shrink_up(&mut ps, &mut m, 0x10, 3),
        Err(VmError::Remap(remap::RemapError::ShrinkTooFar {
            at: 0x10,
            pages: 2
        }))
    );
    assert_accounted(&m, &ps, &[&a]);
}

#[test]
fn page_table_editor_basics() {
    let mut m = EmulatedMachine::new(64);
    let mut t = PageTable::new(&mut m, &upper()).unwrap();
    let f = m.frames.alloc_frame().unwrap();
    let e = paging::leaf_entry(
        f,
        paging::LeafPerms {
            writable: true,
            executable: false,
        },
    );
    assert!(t.map_page(&mut m, 0x1234_5000, e).unwrap().is_none());
    assert_eq!(t.map_page(&mut m, 0x1234_5000, e).unwrap().unwrap().0, e.0);
    assert_eq!(
        t.map_page(&mut m, USER_END, e).unwrap_err(),
        PagingError::NotUserAddress(USER_END)
    );
    assert_eq!(t.lookup(&m, 0x1234_5fff).unwrap().0, e.0);
    let h = paging::hw_walk(&m, t.root(), 0x1234_5000).unwrap();
    assert!(h.writable && h.user && !h.executable && h.frame == f);
    assert_eq!(t.frames_held(), 4);
    assert_eq!(t.unmap_page(&mut m, 0x1234_5000).unwrap().0, e.0);
    assert!(t.unmap_page(&mut m, 0x1234_5000).is_none());
    assert!(t.lookup(&m, 0x1234_5000).is_none());
    assert_eq!(t.frames_held(), 4); // unmap_page keeps tables
    t.drop_tables(&mut m);
    assert_eq!(t.frames_held(), 1);
    assert_eq!(t.reachable_tables(&m), 1);
    t.destroy(&mut m);
    m.frames.free_frame(f);
    assert_eq!(m.frames_in_use(), 0);
}

#[test]
fn pf_error_code_decoding() {
    assert_eq!(Access::from_pf_error_code(0b00100), Access::Read);
    assert_eq!(Access::from_pf_error_code(0b00111), Access::Write);
    assert_eq!(Access::from_pf_error_code(0b10101), Access::Exec);
}

#[test]
fn persistent_state_survives_dropping_the_space() {
    let (mut m, mut ps, mut a) = setup(64);
    a.map_anon(&mut ps, 0x10, 4, RW).unwrap();
    a.map_guard(0x14, 1).unwrap();
    write_u64(&mut m, &mut a, &mut ps, 0x12000, 0x1234);
    let (remap, windows) = a.into_parts(&mut m);
    assert_eq!(m.frames_in_use(), 1, "only the data frame is left");
    // What a snapshot would keep is plain data; restore it into a fresh root.
    let mut b = AddressSpace::restore(&mut m, &upper(), remap.clone(), windows.clone()).unwrap();
    assert_eq!(read_u64(&mut m, &mut b, &mut ps, 0x12000), 0x1234);
    assert_eq!(
        b.grow_up(&ps, 0x10, 1),
        Err(VmError::Remap(remap::RemapError::NoRoom))
    );
    assert_accounted(&m, &ps, &[&b]);
    // A table whose private range has no window is refused.
    assert_eq!(
        AddressSpace::restore(&mut m, &upper(), remap, []).map(|_| ()),
        Err(VmError::WindowFull { start: 0x10 })
    );
    b.destroy(&mut ps, &mut m);
    assert_eq!(m.frames_in_use(), 0);
}

/// A lent `UserSpace` fills and shares only its own window's pages: another
/// space's persistent page is refused and left as it was.
#[test]
fn user_space_fills_and_shares_only_its_own_pages() {
    let (mut m, mut ps, mut a) = setup(64);
    let mut b = AddressSpace::new(&mut m, &upper()).unwrap();
    a.map_anon(&mut ps, 0x10, 2, RW).unwrap();
    b.map_anon(&mut ps, 0x10, 1, RW).unwrap();
    let page_of = |s: &AddressSpace, vpn| s.remap().translate(vpn).unwrap().page;
    let (a0, a1, b0) = (page_of(&a, 0x10), page_of(&a, 0x11), page_of(&b, 0x10));

    let mut us = UserSpace::new(&mut a, &mut ps, &mut m);
    assert_eq!(us.fill_page(a0, b"hello"), Ok(true));
    assert_eq!(
        us.fill_page(a1, &[0; 16]),
        Ok(false),
        "zeros allocate nothing"
    );
    assert_eq!(
        us.fill_page(b0, b"spy"),
        Err(VmError::ForeignPage { ppn: b0 })
    );
    assert_eq!(us.share_page(a0, b0), Err(VmError::ForeignPage { ppn: b0 }));
    assert_eq!(us.share_page(a0, a1), Ok(true));
    let mut buf = [0u8; 5];
    us.read_user(0x11 * 4096, &mut buf).unwrap();
    assert_eq!(&buf, b"hello");
    assert_eq!(ps.state(b0), PageState::Zero);
    assert_accounted(&m, &ps, &[&a, &b]);
    b.destroy(&mut ps, &mut m);
    a.destroy(&mut ps, &mut m);
    assert_eq!(m.frames_in_use(), 0);
}
