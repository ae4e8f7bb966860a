//! Model-based test of process memory: random sequences of `brk`, `mmap`
//! (hinted, `MAP_FIXED`, `MAP_FIXED_NOREPLACE`), `munmap`, `mprotect`, `madvise`,
//! `setrlimit(RLIMIT_STACK)`, stack growth and CPU reads/writes run against an exec'd
//! program on the emulated machine and against a naive page-by-page model. After every
//! step the results agree, the remap table shows exactly the model's pages (guards,
//! rights), every value read is the model's, and the tables and frame counts are
//! consistent; at the end every frame is back.

use proptest::prelude::*;
use std::collections::BTreeMap;
use unix::abi::map::{MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_PRIVATE, MAP_SHARED};
use unix::abi::rlimit::{RLIMIT_STACK, RLIM_INFINITY};
use unix::abi::Rlimit;
use unix::exec::builder::{ElfBuilder, PF_R, PF_W, PF_X};
use unix::exec::exec;
use unix::exec::layout::{MMAP_MIN, MMAP_TOP, STACK_LIMIT_MAX, STACK_TOP};
use unix::mm::grow_stack;
use unix::mm::{self, MmapRequest, ProcessMemory};
use unix::Errno;
use vm::emulated::{CpuError, EmulatedMachine};
use vm::remap::{Kind, Perms};
use vm::{AddressSpace, PersistentSpace, UserSpace};

const P: u64 = 4096;
const BASE: u32 = 0x0804_b000;
const ZONE: u32 = 0x4000_0000;
const TOP_PAGE: u64 = STACK_TOP as u64 / P;
const MMAP_TOP_PAGE: u64 = MMAP_TOP as u64 / P;
const MIN_PAGE: u64 = MMAP_MIN as u64 / P;

/// What the model knows of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Page {
    Guard,
    /// Memory with these `PROT_*` rights; `val` is the word at the page's start.
    Mem {
        prot: u32,
        val: u32,
    },
}

#[derive(Debug, Clone)]
enum Op {
    Brk(u32),
    Mmap {
        addr: u32,
        len: u32,
        prot: u32,
        flags: u32,
    },
    Munmap {
        addr: u32,
        len: u32,
    },
    Mprotect {
        addr: u32,
        len: u32,
        prot: u32,
    },
    DontNeed {
        addr: u32,
        len: u32,
    },
    StackLimit(u32),
    GrowStack(u32),
    Write {
        addr: u32,
        val: u32,
    },
    Read(u32),
}

/// Page-aligned addresses in the interesting places (and a few unaligned ones).
fn addr() -> impl Strategy<Value = u32> {
    prop_oneof![
        (0u32..40).prop_map(|k| ZONE + k * P as u32),
        (0u32..48).prop_map(|k| BASE - 2 * P as u32 + k * P as u32),
        (0u32..20).prop_map(|k| MMAP_TOP - 16 * P as u32 + k * P as u32),
        (0u32..3).prop_map(|k| 0x0804_8000 + k * P as u32),
        Just(0u32),
        Just(MMAP_MIN - P as u32),
        Just(ZONE + 1),
        Just(STACK_TOP - P as u32),
        Just(0xFFFF_F000),
    ]
}

fn len() -> impl Strategy<Value = u32> {
    prop_oneof![
        6 => (1u32..9).prop_map(|k| k * P as u32),
        1 => Just(1u32),
        1 => Just(0u32),
        // Huge lengths (the model is page by page, so only ones that fail for mmap:
        // more pages than the mmap region has).
        1 => Just(u32::MAX),
        1 => Just(MMAP_TOP - MMAP_MIN + P as u32),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let flags = prop_oneof![
        Just(MAP_PRIVATE | MAP_ANONYMOUS),
        Just(MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED),
        Just(MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE),
        Just(MAP_SHARED | MAP_ANONYMOUS),
        Just(MAP_PRIVATE),
    ];
    prop_oneof![
        3 => prop_oneof![
            (0u32..48, 0u32..3).prop_map(|(k, off)| BASE + k * P as u32 + [0, 1, 4095][off as usize]),
            Just(0u32),
            Just(BASE - 1),
            Just(MMAP_TOP - P as u32 + 1),
            Just(0xFFFF_F000),
            Just(u32::MAX),
        ].prop_map(Op::Brk),
        3 => (addr(), len(), 0u32..9, flags).prop_map(|(addr, len, prot, flags)| Op::Mmap { addr, len, prot, flags }),
        2 => (addr(), len()).prop_map(|(addr, len)| Op::Munmap { addr, len }),
        2 => (addr(), len(), 0u32..9).prop_map(|(addr, len, prot)| Op::Mprotect { addr, len, prot }),
        1 => (addr(), len()).prop_map(|(addr, len)| Op::DontNeed { addr, len }),
        1 => prop_oneof![
            (1u32..200).prop_map(|k| k * P as u32),
            Just(8u32 << 20),
            Just(STACK_LIMIT_MAX),
            Just(STACK_LIMIT_MAX + P as u32),
            Just(RLIM_INFINITY),
            Just(0u32),
            Just(5 * P as u32 + 77),
        ].prop_map(Op::StackLimit),
        2 => (1u32..260).prop_map(|k| Op::GrowStack(STACK_TOP - k * P as u32 + 8)),
        4 => (addr(), any::<u32>()).prop_map(|(addr, val)| Op::Write { addr, val }),
        3 => addr().prop_map(Op::Read),
    ]
}

struct World {
    m: EmulatedMachine,
    ps: PersistentSpace,
    space: AddressSpace,
    mem: ProcessMemory,
    model: BTreeMap<u64, Page>,
}

fn page(a: u32) -> u64 {
    u64::from(a) / P
}

impl World {
    fn new() -> World {
        let mut b = ElfBuilder::new();
        b.load(0x0804_8000, PF_R | PF_X, vec![0x90; 0x100], 0x100);
        b.load(0x0804_9000, PF_R | PF_W, vec![7; 0x100], 0x2000);
        b.entry = 0x0804_8000;
        let bytes = b.build();
        let mut m = EmulatedMachine::new(4096);
        let mut ps = PersistentSpace::new();
        let mut space = AddressSpace::new(&mut m, &[0; vm::KERNEL_ENTRIES]).unwrap();
        let start = exec(
            &bytes[..],
            &[b"m"],
            &[],
            &mut UserSpace::new(&mut space, &mut ps, &mut m),
        )
        .unwrap();
        let mem = ProcessMemory::new(&start);
        let mut w = World {
            m,
            ps,
            space,
            mem,
            model: BTreeMap::new(),
        };
        // The model starts as the table is, with the values the pages hold.
        let ranges: Vec<_> = w.space.remap().iter().collect();
        for r in ranges {
            for p in r.start..r.end() {
                let pg = match r.mapping.kind {
                    Kind::Guard => Page::Guard,
                    _ => Page::Mem {
                        prot: prot_of(r.mapping.perms),
                        val: w.cpu_read(p * P).unwrap_or(0),
                    },
                };
                w.model.insert(p, pg);
            }
        }
        w
    }

    fn cpu_read(&mut self, va: u64) -> Result<u32, CpuError> {
        let mut b = [0u8; 4];
        self.m
            .user_read(&mut self.space, &mut self.ps, va, &mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn absent(&self, lo: u64, hi: u64) -> bool {
        self.model.range(lo..hi).next().is_none()
    }

    fn any_guard(&self, lo: u64, hi: u64) -> bool {
        self.model.range(lo..hi).any(|(_, p)| *p == Page::Guard)
    }

    fn fill(&mut self, lo: u64, hi: u64, pg: Page) {
        for p in lo..hi {
            self.model.insert(p, pg);
        }
    }

    fn clear(&mut self, lo: u64, hi: u64) {
        let keys: Vec<u64> = self.model.range(lo..hi).map(|(&k, _)| k).collect();
        for k in keys {
            self.model.remove(&k);
        }
    }

    fn stack_start(&self) -> u64 {
        let mut s = TOP_PAGE;
        while matches!(self.model.get(&(s - 1)), Some(Page::Mem { .. })) {
            s -= 1;
        }
        s
    }

    fn stack_guard(&self) -> u64 {
        let s = self.stack_start();
        *self.model.range(..s).next_back().unwrap().0
    }

    // ---- The model's semantics (docs/abi.md, "Memory"). ----

    fn model_brk(&mut self, addr: u32) -> Result<u32, Errno> {
        let base = self.mem.brk_base;
        if addr < base {
            return Ok(self.mem.brk);
        }
        let old_end = u64::from(self.mem.brk).div_ceil(P);
        let new_end = u64::from(addr).div_ceil(P);
        if new_end > old_end {
            if new_end >= MMAP_TOP_PAGE || !self.absent(old_end + 1, new_end + 1) {
                return Err(Errno::ENOMEM);
            }
            if matches!(self.model.get(&old_end), Some(Page::Mem { .. })) {
                return Err(Errno::ENOMEM);
            }
            self.fill(old_end, new_end, Page::Mem { prot: 3, val: 0 });
            self.model.insert(new_end, Page::Guard);
        } else if new_end < old_end {
            self.clear(new_end, old_end);
            if self.model.get(&old_end) == Some(&Page::Guard) {
                self.model.remove(&old_end);
            }
            self.model.insert(new_end, Page::Guard);
        }
        Ok(addr)
    }

    fn model_mmap(&mut self, addr: u32, len: u32, prot: u32, flags: u32) -> Result<u32, Errno> {
        let shared = match flags & 3 {
            MAP_PRIVATE => false,
            MAP_SHARED => true,
            _ => return Err(Errno::EINVAL),
        };
        if len == 0 || prot > 7 {
            return Err(Errno::EINVAL);
        }
        if flags & MAP_ANONYMOUS == 0 {
            return Err(Errno::EBADF); // fd −1
        }
        if shared {
            return Err(Errno::EINVAL);
        }
        let pages = u64::from(len).div_ceil(P);
        if pages > MMAP_TOP_PAGE - MIN_PAGE {
            return Err(Errno::ENOMEM);
        }
        let start = if flags & (MAP_FIXED | MAP_FIXED_NOREPLACE) != 0 {
            if u64::from(addr) % P != 0 {
                return Err(Errno::EINVAL);
            }
            let s = page(addr);
            if s < MIN_PAGE {
                return Err(Errno::EPERM);
            }
            if s + pages > MMAP_TOP_PAGE || self.any_guard(s, s + pages) {
                return Err(Errno::ENOMEM);
            }
            if flags & MAP_FIXED_NOREPLACE != 0 && !self.absent(s, s + pages) {
                return Err(Errno::EEXIST);
            }
            s
        } else {
            let h = page(addr);
            if h >= MIN_PAGE && h + pages <= MMAP_TOP_PAGE && self.absent(h, h + pages) {
                h
            } else {
                let mut s = MMAP_TOP_PAGE - pages;
                loop {
                    match self.model.range(s..s + pages).next_back() {
                        None => break s,
                        Some((&q, _)) if q >= MIN_PAGE + pages => s = q - pages,
                        Some(_) => return Err(Errno::ENOMEM),
                    }
                }
            }
        };
        self.fill(start, start + pages, Page::Mem { prot, val: 0 });
        Ok((start * P) as u32)
    }

    fn model_munmap(&mut self, addr: u32, len: u32) -> Result<u32, Errno> {
        if u64::from(addr) % P != 0 || len == 0 {
            return Err(Errno::EINVAL);
        }
        let (s, e) = (page(addr), page(addr) + u64::from(len).div_ceil(P));
        if e > MMAP_TOP_PAGE || self.any_guard(s, e) {
            return Err(Errno::EINVAL);
        }
        self.clear(s, e);
        Ok(0)
    }

    fn model_mprotect(&mut self, addr: u32, len: u32, prot: u32) -> Result<u32, Errno> {
        if u64::from(addr) % P != 0 || prot > 7 {
            return Err(Errno::EINVAL);
        }
        if len == 0 {
            return Ok(0);
        }
        let (s, e) = (page(addr), page(addr) + u64::from(len).div_ceil(P));
        if e > (1 << 32) / P {
            return Err(Errno::ENOMEM);
        }
        if e > MMAP_TOP_PAGE {
            return Err(Errno::EINVAL);
        }
        if (s..e).any(|p| !matches!(self.model.get(&p), Some(Page::Mem { .. }))) {
            return Err(Errno::ENOMEM);
        }
        for p in s..e {
            if let Some(Page::Mem { prot: pr, .. }) = self.model.get_mut(&p) {
                *pr = prot;
            }
        }
        Ok(0)
    }

    fn model_dontneed(&mut self, addr: u32, len: u32) -> Result<u32, Errno> {
        if u64::from(addr) % P != 0 {
            return Err(Errno::EINVAL);
        }
        if len == 0 {
            return Ok(0);
        }
        let (s, e) = (page(addr), page(addr) + u64::from(len).div_ceil(P));
        if e > (1 << 32) / P {
            return Err(Errno::EINVAL);
        }
        if (s..e).any(|p| !self.model.contains_key(&p)) {
            return Err(Errno::ENOMEM);
        }
        // Pages of the program image keep their contents.
        let image: Vec<(u64, u64)> = self
            .mem
            .image
            .iter()
            .map(|&(s, e)| (page(s), page(e)))
            .collect();
        for (&p, pg) in self.model.range_mut(s..e) {
            if let Page::Mem { val, .. } = pg {
                if !image.iter().any(|&(s, e)| (s..e).contains(&p)) {
                    *val = 0;
                }
            }
        }
        Ok(0)
    }

    fn model_stack_limit(&mut self, bytes: u32) -> Result<(), Errno> {
        let bytes = if bytes == RLIM_INFINITY {
            STACK_LIMIT_MAX
        } else {
            bytes
        };
        if bytes > STACK_LIMIT_MAX {
            return Err(Errno::EINVAL);
        }
        let want = u64::from(bytes) / P;
        if want < TOP_PAGE - self.stack_start() {
            return Err(Errno::EINVAL);
        }
        let new_guard = TOP_PAGE - want - 1;
        let old = self.stack_guard();
        if new_guard < old && !self.absent(new_guard, old) {
            return Err(Errno::ENOMEM);
        }
        self.model.remove(&old);
        self.model.insert(new_guard, Page::Guard);
        Ok(())
    }

    fn model_grow(&mut self, addr: u32) -> bool {
        let p = page(addr);
        let s = self.stack_start();
        if p >= s || p < MMAP_TOP_PAGE || !self.absent(p, s) {
            return false;
        }
        self.fill(p, s, Page::Mem { prot: 3, val: 0 });
        true
    }

    // ---- One step against both. ----

    fn step(&mut self, op: &Op) -> Result<(), TestCaseError> {
        // The model first (it reads the break before the real call moves it).
        match *op {
            Op::Brk(a) => {
                let model = self.model_brk(a);
                let real = mm::set_break(
                    &mut vm::UserSpace::new(&mut self.space, &mut self.ps, &mut self.m),
                    &mut self.mem,
                    a,
                );
                prop_assert_eq!(real, model, "brk({:#x})", a);
            }
            Op::Mmap {
                addr,
                len,
                prot,
                flags,
            } => {
                let model = self.model_mmap(addr, len, prot, flags);
                let req = MmapRequest {
                    addr,
                    len,
                    prot,
                    flags,
                    fd: u32::MAX,
                    offset: 0,
                };
                let real = mm::mmap(
                    &mut vm::UserSpace::new(&mut self.space, &mut self.ps, &mut self.m),
                    req,
                    |_| false,
                );
                prop_assert_eq!(real, model, "{:?}", op);
            }
            Op::Munmap { addr, len } => {
                let model = self.model_munmap(addr, len);
                let real = mm::munmap(
                    &mut vm::UserSpace::new(&mut self.space, &mut self.ps, &mut self.m),
                    addr,
                    len,
                );
                prop_assert_eq!(real, model, "{:?}", op);
            }
            Op::Mprotect { addr, len, prot } => {
                let model = self.model_mprotect(addr, len, prot);
                let real = mm::mprotect(
                    &mut vm::UserSpace::new(&mut self.space, &mut self.ps, &mut self.m),
                    addr,
                    len,
                    prot,
                );
                prop_assert_eq!(real, model, "{:?}", op);
            }
            Op::DontNeed { addr, len } => {
                let model = self.model_dontneed(addr, len);
                let real = mm::madvise(
                    &mut vm::UserSpace::new(&mut self.space, &mut self.ps, &mut self.m),
                    &self.mem,
                    addr,
                    len,
                    4,
                );
                prop_assert_eq!(real, model, "{:?}", op);
            }
            Op::StackLimit(cur) => {
                let model = self.model_stack_limit(cur);
                let r = Rlimit {
                    rlim_cur: cur,
                    rlim_max: RLIM_INFINITY,
                };
                let real = mm::setrlimit(
                    &mut vm::UserSpace::new(&mut self.space, &mut self.ps, &mut self.m),
                    &mut self.mem,
                    RLIMIT_STACK,
                    r,
                );
                prop_assert_eq!(real, model, "{:?}", op);
            }
            Op::GrowStack(a) => {
                let model = self.model_grow(a);
                let real = grow_stack(&mut self.space, &self.ps, u64::from(a)).unwrap_or(false);
                prop_assert_eq!(real, model, "{:?}", op);
            }
            Op::Write { addr, val } => {
                let a = addr & !0xfff;
                let real = self.m.user_write(
                    &mut self.space,
                    &mut self.ps,
                    u64::from(a),
                    &val.to_le_bytes(),
                );
                match self.model.get_mut(&page(a)) {
                    Some(Page::Mem { prot, val: v }) if *prot & 2 != 0 => {
                        prop_assert!(real.is_ok(), "write {:#x}: {:?}", a, real);
                        *v = val;
                    }
                    other => prop_assert!(real.is_err(), "write {:#x} ok but model {:?}", a, other),
                }
            }
            Op::Read(addr) => {
                let a = addr & !0xfff;
                let real = self.cpu_read(u64::from(a));
                match self.model.get(&page(a)) {
                    Some(Page::Mem { prot, val }) if *prot != 0 => {
                        prop_assert_eq!(real.ok(), Some(*val), "read {:#x}", a)
                    }
                    other => prop_assert!(real.is_err(), "read {:#x} ok but model {:?}", a, other),
                }
            }
        }
        self.compare()
    }

    fn compare(&self) -> Result<(), TestCaseError> {
        let mut n = 0u64;
        for r in self.space.remap().iter() {
            for p in r.start..r.end() {
                let want = self.model.get(&p);
                let ok = match (r.mapping.kind, want) {
                    (Kind::Guard, Some(Page::Guard)) => true,
                    (Kind::Anon, Some(Page::Mem { prot, .. })) => prot_of(r.mapping.perms) == *prot,
                    _ => false,
                };
                prop_assert!(ok, "page {:#x}: table {:?}, model {:?}", p, r, want);
                n += 1;
            }
        }
        prop_assert_eq!(n, self.model.len() as u64);
        self.space
            .remap()
            .check_invariants()
            .map_err(TestCaseError::fail)?;
        self.space
            .audit(&self.ps, &self.m)
            .map_err(TestCaseError::fail)?;
        self.ps.check_invariants().map_err(TestCaseError::fail)?;
        Ok(())
    }
}

fn prot_of(p: Perms) -> u32 {
    u32::from(p.contains(Perms::READ))
        | u32::from(p.contains(Perms::WRITE)) << 1
        | u32::from(p.contains(Perms::EXEC)) << 2
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn memory_calls_match_the_page_model(ops in proptest::collection::vec(op(), 1..60)) {
        let mut w = World::new();
        w.compare()?;
        for op in &ops {
            w.step(op)?;
        }
        let World { mut m, mut ps, space, .. } = w;
        space.destroy(&mut ps, &mut m);
        prop_assert_eq!(m.frames_in_use(), 0);
    }
}
