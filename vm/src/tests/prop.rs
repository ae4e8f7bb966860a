//! Property test: random sequences of map / unmap / protect / grow / shrink / fork /
//! destroy / user accesses (through the emulated MMU and TLB, and through the syscall
//! path) / table drop and rebuild, on up to three address spaces over emulated memory.
//! After every step: every present PTE and every cached TLB entry agrees with the remap
//! table and the persistent space; every value written is still read back from the
//! right space only; frames in use are exactly those the persistent space and the page
//! tables hold. At the end, destroying every space frees every frame. Small-memory
//! cases exercise the out-of-memory paths, which must leave everything consistent.

use super::{assert_accounted, upper};
use crate::emulated::{CpuError, EmulatedMachine};
use crate::remap::{Kind, Perms, Vpn};
use crate::*;
use proptest::prelude::*;
use std::collections::BTreeMap;

/// A page: absolute, or inside the `pick`-th range of the space, so that most accesses
/// hit mapped memory.
#[derive(Debug, Clone, Copy)]
enum Page {
    Abs(Vpn),
    In(usize, u64),
}

#[derive(Debug, Clone)]
enum Op {
    Map {
        s: usize,
        start: Vpn,
        pages: u64,
        perms: u8,
        guard: bool,
        below: u64,
        above: u64,
    },
    Unmap {
        s: usize,
        start: Page,
        pages: u64,
    },
    Protect {
        s: usize,
        start: Page,
        pages: u64,
        perms: u8,
    },
    GrowUp {
        s: usize,
        pick: usize,
        extra: u64,
    },
    GrowDown {
        s: usize,
        pick: usize,
        extra: u64,
    },
    /// `grow_down_to` from a page inside the picked range (`at` pages into it).
    GrowDownTo {
        s: usize,
        pick: usize,
        at: u64,
        extra: u64,
    },
    Shrink {
        s: usize,
        pick: usize,
        n: u64,
    },
    /// A guard page is mapped at the end of the picked range (if free), then the
    /// range grows behind it; the guard may end at most `room` pages above its page.
    GrowBehindGuard {
        s: usize,
        pick: usize,
        extra: u64,
        room: u64,
    },
    Fork {
        s: usize,
    },
    Destroy {
        s: usize,
    },
    Touch {
        s: usize,
        vpn: Page,
        access: Access,
        value: u64,
    },
    Syscall {
        s: usize,
        vpn: Page,
        write: bool,
        value: u64,
    },
    DropTables {
        s: usize,
    },
    Rebuild {
        s: usize,
    },
}

/// Pages near a few interesting places: low memory, a 1 GiB (PDPT entry) boundary, the
/// top of the user half.
fn vpn() -> impl Strategy<Value = Vpn> {
    (
        prop_oneof![Just(0x10u64), Just(0x3ffe8), Just(USER_END_VPN - 0x30)],
        0u64..0x30,
    )
        .prop_map(|(b, o)| b + o)
}

fn page() -> impl Strategy<Value = Page> {
    prop_oneof![
        1 => vpn().prop_map(Page::Abs),
        4 => (any::<usize>(), any::<u64>()).prop_map(|(p, d)| Page::In(p, d)),
    ]
}

fn map_op() -> impl Strategy<Value = Op> {
    (
        0usize..3,
        vpn(),
        1u64..12,
        0u8..8,
        prop::bool::weighted(0.15),
        0u64..6,
        0u64..6,
    )
        .prop_map(|(s, start, pages, perms, guard, below, above)| Op::Map {
            s,
            start,
            pages,
            perms,
            guard,
            below,
            above,
        })
}

fn op() -> impl Strategy<Value = Op> {
    let s = 0usize..3;
    let access =
        prop_oneof![3 => Just(Access::Read), 4 => Just(Access::Write), 1 => Just(Access::Exec)];
    prop_oneof![
        5 => map_op(),
        1 => (s.clone(), page(), 1u64..16).prop_map(|(s, start, pages)| Op::Unmap { s, start, pages }),
        2 => (s.clone(), page(), 1u64..8, 0u8..8).prop_map(|(s, start, pages, perms)| Op::Protect { s, start, pages, perms }),
        2 => (s.clone(), any::<usize>(), 1u64..5).prop_map(|(s, pick, extra)| Op::GrowUp { s, pick, extra }),
        2 => (s.clone(), any::<usize>(), 1u64..5).prop_map(|(s, pick, extra)| Op::GrowDown { s, pick, extra }),
        1 => (s.clone(), any::<usize>(), any::<u64>(), 0u64..5)
            .prop_map(|(s, pick, at, extra)| Op::GrowDownTo { s, pick, at, extra }),
        1 => (s.clone(), any::<usize>(), 1u64..4).prop_map(|(s, pick, n)| Op::Shrink { s, pick, n }),
        2 => (s.clone(), any::<usize>(), 0u64..5, prop_oneof![3 => Just(u64::MAX), 1 => 0u64..6])
            .prop_map(|(s, pick, extra, room)| Op::GrowBehindGuard { s, pick, extra, room }),
        2 => s.clone().prop_map(|s| Op::Fork { s }),
        1 => s.clone().prop_map(|s| Op::Destroy { s }),
        12 => (s.clone(), page(), access, any::<u64>()).prop_map(|(s, vpn, access, value)| Op::Touch { s, vpn, access, value }),
        3 => (s.clone(), page(), any::<bool>(), any::<u64>()).prop_map(|(s, vpn, write, value)| Op::Syscall { s, vpn, write, value }),
        1 => s.clone().prop_map(|s| Op::DropTables { s }),
        1 => s.prop_map(|s| Op::Rebuild { s }),
    ]
}

/// Where in its page the model value of a page lives.
fn off(vpn: Vpn) -> u64 {
    (vpn * 8) % PAGE_SIZE
}

/// The Segv the remap table predicts for an access, if any.
fn predicted(space: &AddressSpace, vaddr: u64, access: Access) -> Option<SegvReason> {
    let Some(t) = space.remap().translate(vaddr >> PAGE_SHIFT) else {
        return Some(SegvReason::Unmapped);
    };
    if t.kind == Kind::Guard {
        return Some(SegvReason::Guard);
    }
    match access {
        Access::Read if t.perms.is_empty() => Some(SegvReason::NoAccess),
        Access::Write if !t.perms.contains(Perms::WRITE) => Some(SegvReason::WriteToReadOnly),
        Access::Exec if !t.perms.contains(Perms::EXEC) => Some(SegvReason::ExecNonExec),
        _ => None,
    }
}

struct World {
    m: EmulatedMachine,
    ps: PersistentSpace,
    spaces: Vec<AddressSpace>,
    /// Per space: the value last written at `off(vpn)` of page `vpn`.
    model: Vec<BTreeMap<Vpn, u64>>,
    small: bool,
}

impl World {
    fn check(&mut self) -> Result<(), TestCaseError> {
        let refs: Vec<&AddressSpace> = self.spaces.iter().collect();
        assert_accounted(&self.m, &self.ps, &refs);
        // Contents: read each model value straight from the persistent space's frame.
        for (space, model) in self.spaces.iter().zip(&mut self.model) {
            model.retain(|&vpn, _| space.remap().translate(vpn).is_some());
            for (&vpn, &want) in model.iter() {
                let t = space.remap().translate(vpn).unwrap();
                let got = match self.ps.frame(t.page) {
                    Some(f) => self.m.mem.read_u64(f.addr_at(off(vpn))),
                    None => 0,
                };
                prop_assert_eq!(got, want, "page {:#x} of a space lost its contents", vpn);
            }
        }
        Ok(())
    }

    /// Whether an error is acceptable: out of memory, only in small-memory runs.
    fn oom_ok(&self, e: &VmError) -> bool {
        self.small && *e == VmError::OutOfMemory
    }

    fn apply(&mut self, op: Op) -> Result<(), TestCaseError> {
        let n = self.spaces.len();
        let resolve = |sp: &AddressSpace, p: Page| -> Vpn {
            match p {
                Page::Abs(v) => v,
                Page::In(pick, d) => {
                    let len = sp.remap().len();
                    if len == 0 {
                        return 0x10 + d % 0x30;
                    }
                    let r = sp.remap().iter().nth(pick % len).unwrap();
                    r.start + d % r.pages
                }
            }
        };
        let pick_range = |sp: &AddressSpace, pick: usize| -> Option<Vpn> {
            let len = sp.remap().len();
            (len > 0).then(|| sp.remap().iter().nth(pick % len).unwrap().start)
        };
        match op {
            Op::Map {
                s,
                start,
                pages,
                perms,
                guard,
                below,
                above,
            } => {
                let sp = &mut self.spaces[s % n];
                let before = sp.remap().clone();
                let r = if guard {
                    sp.map_guard(start, pages)
                } else {
                    let perms = Perms::from_bits_truncate(perms);
                    sp.map_anon_growable(&mut self.ps, start, pages, perms, Growth { below, above })
                };
                if r.is_err() {
                    prop_assert_eq!(&before, sp.remap());
                }
            }
            Op::Unmap { s, start, pages } => {
                let start = resolve(&self.spaces[s % n], start);
                let end = start + pages;
                let r = self.spaces[s % n].unmap(&mut self.ps, &mut self.m, start, pages);
                if end > USER_END_VPN {
                    prop_assert_eq!(r, Err(VmError::NotUserRange { start, pages }));
                } else {
                    prop_assert!(r.is_ok(), "unmap failed: {:?}", r);
                    self.model[s % n].retain(|&v, _| v < start || v >= end);
                }
            }
            Op::Protect {
                s,
                start,
                pages,
                perms,
            } => {
                let sp = &mut self.spaces[s % n];
                let start = resolve(sp, start);
                let before = sp.remap().clone();
                if sp
                    .protect(&mut self.m, start, pages, Perms::from_bits_truncate(perms))
                    .is_err()
                {
                    prop_assert_eq!(&before, sp.remap());
                }
            }
            Op::GrowUp { s, pick, extra } | Op::GrowDown { s, pick, extra } => {
                let up = matches!(op, Op::GrowUp { .. });
                let sp = &mut self.spaces[s % n];
                if let Some(start) = pick_range(sp, pick) {
                    let before = sp.remap().clone();
                    let r = if up {
                        sp.grow_up(&self.ps, start, extra)
                    } else {
                        sp.grow_down(&self.ps, start, extra)
                    };
                    match r {
                        Ok(_) => prop_assert_eq!(sp.remap().len() <= before.len(), true),
                        Err(VmError::Inconsistent(e)) => {
                            prop_assert!(false, "inconsistent: {:?}", e)
                        }
                        Err(_) => prop_assert_eq!(&before, sp.remap()),
                    }
                }
            }
            Op::GrowDownTo { s, pick, at, extra } => {
                let sp = &mut self.spaces[s % n];
                if let Some(start) = pick_range(sp, pick) {
                    let r = sp.remap().range_at(start).unwrap();
                    let holding = r.start + at % r.pages;
                    let new_start = r.start.saturating_sub(extra);
                    let before = sp.remap().clone();
                    match sp.grow_down_to(&self.ps, holding, new_start) {
                        Ok(g) => prop_assert!(g.start <= new_start && g.contains(holding)),
                        Err(VmError::Inconsistent(e)) => {
                            prop_assert!(false, "inconsistent: {:?}", e)
                        }
                        Err(_) => prop_assert_eq!(&before, sp.remap()),
                    }
                }
            }
            Op::GrowBehindGuard {
                s,
                pick,
                extra,
                room,
            } => {
                let sp = &mut self.spaces[s % n];
                if let Some(start) = pick_range(sp, pick) {
                    let end = sp.remap().range_at(start).map_or(start, |r| r.end());
                    if end < USER_END_VPN && sp.remap().translate(end).is_none() {
                        sp.map_guard(end, 1).unwrap();
                    }
                    let before = sp.remap().clone();
                    let limit = end.saturating_add(room);
                    match sp.grow_up_behind_guard(&self.ps, end, extra, limit, |_| true) {
                        Ok(r) => {
                            prop_assert_eq!(sp.remap().len() <= before.len(), true);
                            prop_assert!(r.end() >= end + extra);
                            let g = sp.remap().translate(end + extra).map(|t| t.kind);
                            prop_assert_eq!(g, Some(Kind::Guard));
                        }
                        Err(VmError::Inconsistent(e)) => {
                            prop_assert!(false, "inconsistent: {:?}", e)
                        }
                        Err(_) => prop_assert_eq!(&before, sp.remap()),
                    }
                }
            }
            Op::Shrink { s, pick, n: k } => {
                let sp = &mut self.spaces[s % n];
                if let Some(start) = pick_range(sp, pick) {
                    let before = sp.remap().clone();
                    if sp.shrink_up(&mut self.ps, &mut self.m, start, k).is_err() {
                        prop_assert_eq!(&before, sp.remap());
                    }
                }
            }
            Op::Fork { s } => {
                if n < 3 {
                    match self.spaces[s % n].fork(&mut self.ps, &mut self.m) {
                        Ok(child) => {
                            self.spaces.push(child);
                            let model = self.model[s % n].clone();
                            self.model.push(model);
                        }
                        Err(e) => prop_assert!(self.oom_ok(&e), "fork failed: {:?}", e),
                    }
                }
            }
            Op::Destroy { s } => {
                if n > 1 {
                    let sp = self.spaces.remove(s % n);
                    self.model.remove(s % n);
                    sp.destroy(&mut self.ps, &mut self.m);
                }
            }
            Op::Touch {
                s,
                vpn,
                access,
                value,
            } => {
                let vpn = resolve(&self.spaces[s % n], vpn);
                let va = (vpn << PAGE_SHIFT) + off(vpn);
                let sp = &mut self.spaces[s % n];
                let expect = predicted(sp, va, access);
                let r = self.m.access(sp, &mut self.ps, va, access);
                match (r, expect) {
                    (Ok(pa), None) => match access {
                        Access::Read => {
                            let got = self.m.mem.read_u64(pa);
                            prop_assert_eq!(got, self.model[s % n].get(&vpn).copied().unwrap_or(0));
                        }
                        Access::Write => {
                            self.m.mem.write_u64(pa, value);
                            self.model[s % n].insert(vpn, value);
                        }
                        Access::Exec => {}
                    },
                    (Err(CpuError::Segv(e)), Some(reason)) => {
                        prop_assert_eq!(e, Segv { addr: va, reason });
                    }
                    (Err(CpuError::Segv(e)), None) if self.small && e.is_out_of_memory() => {}
                    (r, expect) => prop_assert!(
                        false,
                        "access {:?} at {:#x}: {:?}, expected {:?}",
                        access,
                        va,
                        r,
                        expect
                    ),
                }
            }
            Op::Syscall {
                s,
                vpn,
                write,
                value,
            } => {
                let vpn = resolve(&self.spaces[s % n], vpn);
                let va = (vpn << PAGE_SHIFT) + off(vpn);
                let sp = &mut self.spaces[s % n];
                let access = if write { Access::Write } else { Access::Read };
                let expect = predicted(sp, va, access);
                let r = if write {
                    sp.write_user(&mut self.ps, &mut self.m, va, &value.to_le_bytes())
                        .map(|_| value)
                } else {
                    let mut b = [0u8; 8];
                    sp.read_user(&mut self.ps, &mut self.m, va, &mut b)
                        .map(|_| u64::from_le_bytes(b))
                };
                match (r, expect) {
                    (Ok(v), None) => {
                        if write {
                            self.model[s % n].insert(vpn, v);
                        } else {
                            prop_assert_eq!(v, self.model[s % n].get(&vpn).copied().unwrap_or(0));
                        }
                    }
                    (Err(e), Some(reason)) => prop_assert_eq!(e, Segv { addr: va, reason }),
                    (Err(e), None) if self.small && e.is_out_of_memory() => {}
                    (r, expect) => prop_assert!(
                        false,
                        "syscall {:?} at {:#x}: {:?}, expected {:?}",
                        access,
                        va,
                        r,
                        expect
                    ),
                }
            }
            Op::DropTables { s } => {
                self.spaces[s % n].drop_tables(&mut self.m);
                prop_assert_eq!(self.spaces[s % n].table_frames(), 1);
            }
            Op::Rebuild { s } => {
                if let Err(e) = self.spaces[s % n].rebuild_tables(&self.ps, &mut self.m) {
                    prop_assert!(self.oom_ok(&e), "rebuild failed: {:?}", e);
                }
            }
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1200))]
    #[test]
    fn address_spaces_stay_consistent(
        frames in prop_oneof![3 => Just(1u64 << 20), 1 => 4u64..40],
        prefix in prop::collection::vec(map_op(), 1..4),
        ops in prop::collection::vec(op(), 1..60),
    ) {
        let mut m = EmulatedMachine::new(frames);
        let first = AddressSpace::new(&mut m, &upper()).unwrap();
        let mut w = World {
            m,
            ps: PersistentSpace::new(),
            spaces: vec![first],
            model: vec![BTreeMap::new()],
            small: frames < 1000,
        };
        for op in prefix.into_iter().chain(ops) {
            w.apply(op)?;
            w.check()?;
        }
        for sp in w.spaces.drain(..) {
            sp.destroy(&mut w.ps, &mut w.m);
        }
        prop_assert_eq!(w.m.frames_in_use(), 0);
        prop_assert_eq!(w.ps.frames_held(), 0);
        prop_assert_eq!(w.ps.resident_pages(), 0);
        prop_assert_eq!(w.m.bad_frees, 0);
        prop_assert!(w.m.tlb.is_empty());
    }
}
