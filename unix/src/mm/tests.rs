//! Host tests of the process memory calls on an exec'd program in an emulated
//! machine: brk growth/shrink and its guard, mmap/munmap/mprotect/madvise semantics
//! and errors, MAP_FIXED, RLIMIT_STACK moving the guard, the maps listing, SIGSEGV
//! reasons, and a grid of hostile arguments.

use super::*;
use crate::abi::madv::*;
use crate::abi::map::*;
use crate::abi::prot::*;
use crate::abi::rlimit::*;
use crate::exec::builder::{ElfBuilder, PF_R, PF_W, PF_X};
use crate::exec::exec;
use crate::exec::layout::*;
use crate::mm::grow_stack;
use alloc::string::String;
use vm::emulated::{CpuError, EmulatedMachine};
use vm::remap::Perms;
use vm::{Access, Segv, SegvReason};
use vm::{AddressSpace, PersistentSpace};

const P: u32 = 4096;
const RW: u32 = PROT_READ | PROT_WRITE;
const ANON: u32 = MAP_PRIVATE | MAP_ANONYMOUS;

/// A started program: text at 0x08048000 (1 page), data+bss at 0x08049000 (2 pages).
struct Proc {
    m: EmulatedMachine,
    ps: PersistentSpace,
    space: AddressSpace,
    mem: ProcessMemory,
    base_frames: u64,
}

impl Proc {
    fn new() -> Proc {
        let mut b = ElfBuilder::new();
        b.load(0x0804_8000, PF_R | PF_X, alloc::vec![0x90; 0x100], 0x100);
        b.load(0x0804_9000, PF_R | PF_W, alloc::vec![7; 0x100], 0x2000);
        b.entry = 0x0804_8000;
        let bytes = b.build();
        let mut m = EmulatedMachine::new(1 << 14);
        let mut ps = PersistentSpace::new();
        let mut space = AddressSpace::new(&mut m, &[0; vm::KERNEL_ENTRIES]).unwrap();
        let start = exec(
            &bytes[..],
            &[b"prog"],
            &[],
            &mut UserSpace::new(&mut space, &mut ps, &mut m),
        )
        .unwrap();
        assert_eq!(start.brk, 0x0804_b000);
        assert_eq!(
            start.image,
            [(0x0804_8000, 0x0804_9000), (0x0804_9000, 0x0804_b000)]
        );
        let base_frames = m.frames_in_use();
        Proc {
            m,
            ps,
            space,
            mem: ProcessMemory::new(&start),
            base_frames,
        }
    }

    fn brk(&mut self, addr: u32) -> Result<u32, Errno> {
        let r = set_break(
            &mut vm::UserSpace::new(&mut self.space, &mut self.ps, &mut self.m),
            &mut self.mem,
            addr,
        );
        self.check();
        r
    }

    fn mmap(&mut self, addr: u32, len: u32, prot: u32, flags: u32) -> Result<u32, Errno> {
        let req = MmapRequest {
            addr,
            len,
            prot,
            flags,
            fd: u32::MAX,
            offset: 0,
        };
        let r = mmap(
            &mut vm::UserSpace::new(&mut self.space, &mut self.ps, &mut self.m),
            req,
            |fd| fd < 3,
        );
        self.check();
        r
    }

    fn munmap(&mut self, addr: u32, len: u32) -> Result<u32, Errno> {
        let r = munmap(
            &mut vm::UserSpace::new(&mut self.space, &mut self.ps, &mut self.m),
            addr,
            len,
        );
        self.check();
        r
    }

    fn mprotect(&mut self, addr: u32, len: u32, prot: u32) -> Result<u32, Errno> {
        let r = mprotect(
            &mut vm::UserSpace::new(&mut self.space, &mut self.ps, &mut self.m),
            addr,
            len,
            prot,
        );
        self.check();
        r
    }

    fn madvise(&mut self, addr: u32, len: u32, advice: u32) -> Result<u32, Errno> {
        let r = madvise(
            &mut vm::UserSpace::new(&mut self.space, &mut self.ps, &mut self.m),
            &self.mem,
            addr,
            len,
            advice,
        );
        self.check();
        r
    }

    fn setrlimit(&mut self, resource: u32, cur: u32, max: u32) -> Result<(), Errno> {
        let r = setrlimit(
            &mut vm::UserSpace::new(&mut self.space, &mut self.ps, &mut self.m),
            &mut self.mem,
            resource,
            Rlimit {
                rlim_cur: cur,
                rlim_max: max,
            },
        );
        self.check();
        r
    }

    fn getrlimit(&self, resource: u32) -> Result<Rlimit, Errno> {
        getrlimit(&self.space, &self.mem, resource)
    }

    /// A CPU write of `v` at `addr` (faults resolved, no stack growth).
    fn write(&mut self, addr: u32, v: u32) -> Result<(), CpuError> {
        self.m.user_write(
            &mut self.space,
            &mut self.ps,
            u64::from(addr),
            &v.to_le_bytes(),
        )
    }

    /// A CPU read at `addr`.
    fn read(&mut self, addr: u32) -> Result<u32, CpuError> {
        let mut b = [0u8; 4];
        self.m
            .user_read(&mut self.space, &mut self.ps, u64::from(addr), &mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    /// The reason a write at `addr` is refused.
    fn refused(&mut self, addr: u32) -> SegvReason {
        match self.write(addr, 1) {
            Err(CpuError::Segv(Segv { reason, .. })) => reason,
            other => panic!("write at {addr:#x}: {other:?}"),
        }
    }

    fn kind_at(&self, addr: u32) -> Option<Kind> {
        self.space
            .remap()
            .translate(u64::from(addr) / 4096)
            .map(|t| t.kind)
    }

    fn check(&self) {
        self.space.remap().check_invariants().unwrap();
        self.space.audit(&self.ps, &self.m).unwrap();
        self.ps.check_invariants().unwrap();
    }

    fn maps(&self) -> String {
        String::from_utf8(maps_text(self.space.remap(), &self.mem).unwrap()).unwrap()
    }

    fn finish(self) {
        let Proc {
            mut m,
            mut ps,
            space,
            ..
        } = self;
        space.destroy(&mut ps, &mut m);
        assert_eq!(m.frames_in_use(), 0);
    }
}

const BASE: u32 = 0x0804_b000;

#[test]
fn brk_reports_and_ignores_low_addresses() {
    let mut p = Proc::new();
    assert_eq!(p.brk(0), Ok(BASE));
    assert_eq!(p.brk(BASE - 1), Ok(BASE));
    assert_eq!(p.brk(0x1000), Ok(BASE));
    assert_eq!(p.brk(BASE), Ok(BASE));
    assert_eq!(p.kind_at(BASE), Some(Kind::Guard));
    assert_eq!(p.refused(BASE), SegvReason::Guard);
    // No heap at all (a process state without exec): only 0 is answered.
    let mut none = ProcessMemory::default();
    assert_eq!(
        set_break(
            &mut vm::UserSpace::new(&mut p.space, &mut p.ps, &mut p.m),
            &mut none,
            0
        ),
        Ok(0)
    );
    assert_eq!(
        set_break(
            &mut vm::UserSpace::new(&mut p.space, &mut p.ps, &mut p.m),
            &mut none,
            BASE
        ),
        Err(Errno::ENOMEM)
    );
    p.finish();
}

#[test]
fn brk_grows_and_shrinks_in_place_with_its_guard() {
    let mut p = Proc::new();
    let ranges = p.space.remap().len();
    // Byte granularity: one byte needs one page; the guard sits above it.
    assert_eq!(p.brk(BASE + 1), Ok(BASE + 1));
    assert_eq!(p.kind_at(BASE), Some(Kind::Anon));
    assert_eq!(p.kind_at(BASE + P), Some(Kind::Guard));
    assert_eq!(p.space.remap().len(), ranges + 1);
    let windows = p.space.windows().count();
    // Growth extends the same range in place: no new range, no new window.
    assert_eq!(p.brk(BASE + 10 * P), Ok(BASE + 10 * P));
    assert_eq!(p.space.remap().len(), ranges + 1);
    assert_eq!(p.space.windows().count(), windows);
    let heap = p
        .space
        .remap()
        .range_containing(u64::from(BASE) / 4096)
        .unwrap();
    assert_eq!((heap.start, heap.pages), (u64::from(BASE) / 4096, 10));
    assert_eq!(p.kind_at(BASE + 10 * P), Some(Kind::Guard));
    assert_eq!(p.kind_at(BASE + P), Some(Kind::Anon));
    for i in 0..10 {
        assert_eq!(p.read(BASE + i * P), Ok(0));
        p.write(BASE + i * P, 0xAB00 + i).unwrap();
    }
    assert_eq!(p.refused(BASE + 10 * P), SegvReason::Guard);
    let frames = p.m.frames_in_use();
    // Shrink to the middle of page 3: pages 4..10 go back with their frames.
    assert_eq!(p.brk(BASE + 3 * P + 5), Ok(BASE + 3 * P + 5));
    assert_eq!(p.m.frames_in_use(), frames - 6);
    assert_eq!(p.kind_at(BASE + 4 * P), Some(Kind::Guard));
    assert_eq!(p.kind_at(BASE + 5 * P), None);
    assert_eq!(p.read(BASE + 3 * P), Ok(0xAB03));
    // Grown again, the returned pages read as zero; the kept ones keep their data.
    assert_eq!(p.brk(BASE + 10 * P), Ok(BASE + 10 * P));
    for i in 4..10 {
        assert_eq!(p.read(BASE + i * P), Ok(0), "page {i}");
    }
    assert_eq!(p.read(BASE + 2 * P), Ok(0xAB02));
    // Back to the start: the heap range is gone, the guard is at the base, every
    // heap frame is back.
    assert_eq!(p.brk(BASE), Ok(BASE));
    assert_eq!(p.space.remap().len(), ranges);
    assert_eq!(p.kind_at(BASE), Some(Kind::Guard));
    assert_eq!(p.m.frames_in_use(), p.base_frames);
    p.finish();
}

#[test]
fn brk_refuses_the_mmap_region_and_the_stack_reservation() {
    let mut p = Proc::new();
    let block = BASE + 16 * P;
    assert_eq!(p.mmap(block, P, RW, ANON | MAP_FIXED), Ok(block));
    // The guard may sit right below the mapping, not on it.
    assert_eq!(p.brk(block - P), Ok(block - P));
    assert_eq!(p.kind_at(block - P), Some(Kind::Guard));
    assert_eq!(p.kind_at(block), Some(Kind::Anon));
    assert_eq!(p.brk(block - P + 1), Err(Errno::ENOMEM));
    assert_eq!(p.brk(block), Err(Errno::ENOMEM));
    assert_eq!(p.brk(0x9000_0000), Err(Errno::ENOMEM));
    assert_eq!(p.brk(0), Ok(block - P));
    assert_eq!(p.kind_at(block - P), Some(Kind::Guard));
    assert_eq!(p.kind_at(block - 2 * P), Some(Kind::Anon));
    p.finish();

    let mut p = Proc::new();
    for bad in [
        MMAP_TOP - P + 1,
        MMAP_TOP,
        0xBFFF_F000,
        STACK_TOP,
        0xFFFF_F000,
        u32::MAX,
    ] {
        assert_eq!(p.brk(bad), Err(Errno::ENOMEM), "{bad:#x}");
        assert_eq!(p.brk(0), Ok(BASE));
    }
    // The largest heap: its guard is the last page below MMAP_TOP. Nothing is
    // touched, so this costs no frame.
    assert_eq!(p.brk(MMAP_TOP - P), Ok(MMAP_TOP - P));
    assert_eq!(p.kind_at(MMAP_TOP - P), Some(Kind::Guard));
    p.write(MMAP_TOP - 2 * P, 5).unwrap();
    assert_eq!(p.brk(BASE + P), Ok(BASE + P));
    assert_eq!(p.m.frames_in_use(), p.base_frames);
    p.finish();
}

#[test]
fn brk_respects_rlimit_data() {
    let mut p = Proc::new();
    p.setrlimit(RLIMIT_DATA, 2 * P, RLIM_INFINITY).unwrap();
    assert_eq!(p.brk(BASE + 2 * P), Ok(BASE + 2 * P));
    assert_eq!(p.brk(BASE + 2 * P + 1), Err(Errno::ENOMEM));
    assert_eq!(p.brk(0), Ok(BASE + 2 * P));
    p.finish();
}

#[test]
fn brk_survives_a_reprotected_or_unmapped_heap_tail() {
    let mut p = Proc::new();
    p.brk(BASE + 4 * P).unwrap();
    p.write(BASE, 1).unwrap();
    // The heap's last page read-only: growth maps a new range above it.
    p.mprotect(BASE + 3 * P, P, PROT_READ).unwrap();
    assert_eq!(p.brk(BASE + 6 * P), Ok(BASE + 6 * P));
    p.write(BASE + 5 * P, 2).unwrap();
    assert_eq!(p.refused(BASE + 3 * P), SegvReason::WriteToReadOnly);
    // Unmapping the top of the heap leaves a hole; growth maps above the break.
    p.munmap(BASE + 5 * P, P).unwrap();
    assert_eq!(p.brk(BASE + 7 * P), Ok(BASE + 7 * P));
    assert_eq!(p.refused(BASE + 5 * P), SegvReason::Unmapped);
    p.write(BASE + 6 * P, 3).unwrap();
    // Shrinking over all of it works and returns every frame.
    assert_eq!(p.brk(BASE), Ok(BASE));
    assert_eq!(p.m.frames_in_use(), p.base_frames);
    assert_eq!(p.kind_at(BASE), Some(Kind::Guard));
    p.finish();
}

#[test]
fn mmap_places_top_down_and_zero_fills() {
    let mut p = Proc::new();
    let a = p.mmap(0, 3 * P, RW, ANON).unwrap();
    assert_eq!(a, MMAP_TOP - 3 * P);
    let b = p.mmap(0, 1, PROT_READ, ANON).unwrap();
    assert_eq!(b, a - P);
    assert_eq!(p.read(a + 2 * P), Ok(0));
    p.write(a + 2 * P + 8, 42).unwrap();
    assert_eq!(p.read(a + 2 * P + 8), Ok(42));
    assert_eq!(p.refused(b), SegvReason::WriteToReadOnly);
    // A free hint is used (rounded down to its page); an occupied one is not.
    let h = p.mmap(0x4000_0123, 2 * P, RW, ANON).unwrap();
    assert_eq!(h, 0x4000_0000);
    let c = p.mmap(a, P, RW, ANON).unwrap();
    assert_eq!(c, b - P);
    // Hints below MMAP_MIN or reaching the stack reservation are ignored.
    assert_eq!(p.mmap(0x1000, P, RW, ANON), Ok(c - P));
    assert_eq!(p.mmap(MMAP_TOP - P, 2 * P, RW, ANON), Ok(c - 3 * P));
    // PROT_NONE: mapped, but no access.
    let n = p.mmap(0, P, PROT_NONE, ANON).unwrap();
    assert_eq!(
        p.read(n),
        Err(CpuError::Segv(Segv {
            addr: u64::from(n),
            reason: SegvReason::NoAccess
        }))
    );
    // munmap gives the frames back.
    p.munmap(a, 3 * P).unwrap();
    assert_eq!(p.kind_at(a), None);
    assert_eq!(p.m.frames_in_use(), p.base_frames);
    // A huge mapping costs nothing until touched.
    let big = p.mmap(0, 1 << 30, RW, ANON).unwrap();
    p.write(big + (1 << 29), 9).unwrap();
    p.munmap(big, 1 << 30).unwrap();
    // No room left: ENOMEM.
    assert_eq!(p.mmap(0, 0xF000_0000, RW, ANON), Err(Errno::ENOMEM));
    p.finish();
}

#[test]
fn mmap_argument_errors() {
    let mut p = Proc::new();
    let req = |p: &mut Proc, addr, len, prot, flags, fd, offset| {
        let r = MmapRequest {
            addr,
            len,
            prot,
            flags,
            fd,
            offset,
        };
        let out = mmap(
            &mut vm::UserSpace::new(&mut p.space, &mut p.ps, &mut p.m),
            r,
            |fd| fd < 3,
        );
        p.check();
        out
    };
    let before = p.space.remap().clone();
    for (addr, len, prot, flags, fd, off, want) in [
        (0, 0, RW, ANON, u32::MAX, 0, Errno::EINVAL),
        (0, P, RW, ANON, u32::MAX, 1, Errno::EINVAL),
        (0, P, RW, ANON, u32::MAX, 0xFFF, Errno::EINVAL),
        (0, P, RW, ANON | 0x40, u32::MAX, 0, Errno::EINVAL),
        (0, P, RW, ANON | 0x8000_0000, u32::MAX, 0, Errno::EINVAL),
        (0, P, RW, MAP_ANONYMOUS, u32::MAX, 0, Errno::EINVAL),
        (
            0,
            P,
            RW,
            MAP_SHARED | MAP_PRIVATE | MAP_ANONYMOUS,
            u32::MAX,
            0,
            Errno::EINVAL,
        ),
        (
            0,
            P,
            RW,
            MAP_SHARED | MAP_ANONYMOUS,
            u32::MAX,
            0,
            Errno::EINVAL,
        ),
        (0, P, 8, ANON, u32::MAX, 0, Errno::EINVAL),
        (0, P, 0x0100_0000, ANON, u32::MAX, 0, Errno::EINVAL),
        (0, P, RW, MAP_PRIVATE, u32::MAX, 0, Errno::EBADF),
        (0, P, RW, MAP_PRIVATE, 64, 0, Errno::EBADF),
        (0, P, RW, MAP_PRIVATE, 1, 0, Errno::ENODEV),
        (0, P, RW, MAP_SHARED, 1, 0, Errno::ENODEV),
        (0, u32::MAX, RW, ANON, u32::MAX, 0, Errno::ENOMEM),
        (0, 0xFFFF_F001, RW, ANON, u32::MAX, 0, Errno::ENOMEM),
        (
            0x4000_0001,
            P,
            RW,
            ANON | MAP_FIXED,
            u32::MAX,
            0,
            Errno::EINVAL,
        ),
        (0, P, RW, ANON | MAP_FIXED, u32::MAX, 0, Errno::EPERM),
        (0xF000, P, RW, ANON | MAP_FIXED, u32::MAX, 0, Errno::EPERM),
        (
            MMAP_TOP - P,
            2 * P,
            RW,
            ANON | MAP_FIXED,
            u32::MAX,
            0,
            Errno::ENOMEM,
        ),
        (
            MMAP_TOP,
            P,
            RW,
            ANON | MAP_FIXED,
            u32::MAX,
            0,
            Errno::ENOMEM,
        ),
        (
            STACK_TOP - P,
            P,
            RW,
            ANON | MAP_FIXED,
            u32::MAX,
            0,
            Errno::ENOMEM,
        ),
        (
            0xFFFF_F000,
            P,
            RW,
            ANON | MAP_FIXED,
            u32::MAX,
            0,
            Errno::ENOMEM,
        ),
        (BASE, P, RW, ANON | MAP_FIXED, u32::MAX, 0, Errno::ENOMEM),
        (
            BASE - P,
            2 * P,
            RW,
            ANON | MAP_FIXED,
            u32::MAX,
            0,
            Errno::ENOMEM,
        ),
        (
            0x0804_9000,
            P,
            RW,
            ANON | MAP_FIXED_NOREPLACE,
            u32::MAX,
            0,
            Errno::EEXIST,
        ),
    ] {
        assert_eq!(
            req(&mut p, addr, len, prot, flags, fd, off),
            Err(want),
            "mmap({addr:#x}, {len:#x}, {prot}, {flags:#x}, {fd}, {off:#x})"
        );
        assert_eq!(p.space.remap(), &before);
    }
    // Flags that are accepted and ignored; the fd is ignored for anonymous memory.
    let a = req(
        &mut p,
        0,
        P,
        RW,
        ANON | MAP_NORESERVE | MAP_POPULATE | MAP_STACK,
        5,
        0,
    );
    assert!(a.is_ok());
    p.finish();
}

#[test]
fn map_fixed_replaces() {
    let mut p = Proc::new();
    let a = p.mmap(0x4000_0000, 4 * P, RW, ANON | MAP_FIXED).unwrap();
    assert_eq!(a, 0x4000_0000);
    for i in 0..4 {
        p.write(a + i * P, 100 + i).unwrap();
    }
    // Replace the middle two pages: fresh, zero, read-only; the others keep data.
    let frames = p.m.frames_in_use();
    assert_eq!(p.mmap(a + P, 2 * P, PROT_READ, ANON | MAP_FIXED), Ok(a + P));
    assert_eq!(p.m.frames_in_use(), frames - 2);
    assert_eq!(p.read(a), Ok(100));
    assert_eq!(p.read(a + P), Ok(0));
    assert_eq!(p.read(a + 3 * P), Ok(103));
    assert_eq!(p.refused(a + 2 * P), SegvReason::WriteToReadOnly);
    // Over the program's own data segment, as Linux allows.
    assert_eq!(p.read(0x0804_9000), Ok(0x0707_0707));
    assert_eq!(
        p.mmap(0x0804_9000, P, RW, ANON | MAP_FIXED),
        Ok(0x0804_9000)
    );
    assert_eq!(p.read(0x0804_9000), Ok(0));
    // NOREPLACE into free space works.
    assert_eq!(
        p.mmap(0x5000_0000, P, RW, ANON | MAP_FIXED_NOREPLACE),
        Ok(0x5000_0000)
    );
    p.finish();
}

#[test]
fn munmap_rules() {
    let mut p = Proc::new();
    let a = p.mmap(0x4000_0000, 8 * P, RW, ANON | MAP_FIXED).unwrap();
    p.write(a + 3 * P, 1).unwrap();
    // Split in the middle; a span with holes is fine.
    assert_eq!(p.munmap(a + 2 * P, 2 * P), Ok(0));
    assert_eq!(p.kind_at(a + P), Some(Kind::Anon));
    assert_eq!(p.kind_at(a + 3 * P), None);
    assert_eq!(p.munmap(a, 16 * P), Ok(0));
    assert_eq!(p.kind_at(a + 7 * P), None);
    assert_eq!(p.munmap(0x6000_0000, 1), Ok(0));
    let before = p.space.remap().clone();
    for (addr, len) in [
        (a + 1, P),
        (a, 0),
        (MMAP_TOP - P, 2 * P),
        (MMAP_TOP, P),
        (STACK_TOP - P, P),
        (STACK_TOP, P),
        (0xFFFF_F000, P),
        (0xFFFF_F000, u32::MAX),
        (0, u32::MAX),
        (BASE, P),
        (0x0804_8000, 0x10_0000),
    ] {
        assert_eq!(
            p.munmap(addr, len),
            Err(Errno::EINVAL),
            "munmap({addr:#x}, {len:#x})"
        );
        assert_eq!(p.space.remap(), &before);
    }
    // The program's text may go, as on Linux.
    assert_eq!(p.munmap(0x0804_8000, P), Ok(0));
    p.finish();
}

#[test]
fn mprotect_rules() {
    let mut p = Proc::new();
    let a = p.mmap(0x4000_0000, 4 * P, RW, ANON | MAP_FIXED).unwrap();
    p.write(a + P, 7).unwrap();
    assert_eq!(p.mprotect(a + P, P, PROT_READ), Ok(0));
    assert_eq!(p.refused(a + P), SegvReason::WriteToReadOnly);
    assert_eq!(p.read(a + P), Ok(7));
    p.write(a, 1).unwrap();
    assert_eq!(p.mprotect(a, 4 * P, PROT_NONE), Ok(0));
    assert!(matches!(
        p.read(a),
        Err(CpuError::Segv(Segv {
            reason: SegvReason::NoAccess,
            ..
        }))
    ));
    assert_eq!(p.mprotect(a, 4 * P - 1, RW), Ok(0));
    assert_eq!(p.read(a + P), Ok(7));
    assert_eq!(
        p.space
            .remap()
            .range_containing(u64::from(a) / 4096)
            .unwrap()
            .pages,
        4
    );
    assert_eq!(p.mprotect(a, 0, PROT_READ), Ok(0));
    let before = p.space.remap().clone();
    for (addr, len, prot, want) in [
        (a + 1, P, RW, Errno::EINVAL),
        (a, P, 8, Errno::EINVAL),
        (a, P, 0x0100_0000, Errno::EINVAL),
        (a, 5 * P, RW, Errno::ENOMEM),
        (a - P, 2 * P, RW, Errno::ENOMEM),
        (BASE, P, RW, Errno::ENOMEM),
        (MMAP_TOP - P, 2 * P, RW, Errno::EINVAL),
        (STACK_TOP - P, P, RW, Errno::EINVAL),
        (0xFFFF_F000, 2 * P, RW, Errno::ENOMEM),
        (0xFFFF_F000, u32::MAX, RW, Errno::ENOMEM),
    ] {
        assert_eq!(
            p.mprotect(addr, len, prot),
            Err(want),
            "mprotect({addr:#x}, {len:#x}, {prot})"
        );
        assert_eq!(p.space.remap(), &before);
    }
    // The text may be made writable.
    assert_eq!(p.mprotect(0x0804_8000, P, RW | PROT_EXEC), Ok(0));
    p.write(0x0804_8000, 0xC3).unwrap();
    p.finish();
}

#[test]
fn madvise_dontneed_zeroes_private_memory_only() {
    let mut p = Proc::new();
    let a = p.mmap(0, 4 * P, RW, ANON).unwrap();
    for i in 0..4 {
        p.write(a + i * P, 50 + i).unwrap();
    }
    p.brk(BASE + 2 * P).unwrap();
    p.write(BASE, 9).unwrap();
    p.write(0x0804_9000, 11).unwrap();
    let ranges = p.space.remap().clone();
    let frames = p.m.frames_in_use();
    assert_eq!(p.madvise(a + P, 2 * P, MADV_DONTNEED), Ok(0));
    assert_eq!(p.m.frames_in_use(), frames - 2);
    assert_eq!(p.space.remap(), &ranges);
    assert_eq!(p.read(a), Ok(50));
    assert_eq!(p.read(a + P), Ok(0));
    assert_eq!(p.read(a + 2 * P), Ok(0));
    assert_eq!(p.read(a + 3 * P), Ok(53));
    // The heap and its guard (guards count as mapped); the image is left alone.
    assert_eq!(p.madvise(BASE, 3 * P, MADV_DONTNEED), Ok(0));
    assert_eq!(p.read(BASE), Ok(0));
    assert_eq!(p.madvise(0x0804_8000, 3 * P, MADV_DONTNEED), Ok(0));
    assert_eq!(p.read(0x0804_9000), Ok(11));
    // Hints, errors.
    for advice in [MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED] {
        assert_eq!(p.madvise(a, P, advice), Ok(0));
    }
    assert_eq!(p.madvise(a, 0, MADV_DONTNEED), Ok(0));
    assert_eq!(p.madvise(a + 1, P, MADV_NORMAL), Err(Errno::EINVAL));
    assert_eq!(p.madvise(a, P, 5), Err(Errno::EINVAL));
    assert_eq!(p.madvise(a, P, 8), Err(Errno::EINVAL));
    assert_eq!(p.madvise(a - P, 2 * P, MADV_NORMAL), Err(Errno::ENOMEM));
    assert_eq!(
        p.madvise(0xFFFF_F000, 2 * P, MADV_NORMAL),
        Err(Errno::EINVAL)
    );
    assert_eq!(p.read(a), Ok(50));
    p.finish();
}

#[test]
fn stack_limit_is_the_guard() {
    let mut p = Proc::new();
    let top = u64::from(STACK_TOP);
    assert_eq!(
        p.getrlimit(RLIMIT_STACK),
        Ok(Rlimit {
            rlim_cur: STACK_LIMIT,
            rlim_max: RLIM_INFINITY
        })
    );
    assert_eq!(p.kind_at(STACK_GUARD_BELOW), Some(Kind::Guard));
    // Growth works anywhere in the growth area, not at or below the guard.
    let deep = STACK_TOP - STACK_LIMIT + 16;
    assert_eq!(
        grow_stack(&mut p.space, &p.ps, u64::from(STACK_GUARD_BELOW)),
        Ok(false)
    );
    assert_eq!(
        grow_stack(&mut p.space, &p.ps, u64::from(STACK_GUARD_BELOW) - 1),
        Ok(false)
    );
    assert_eq!(grow_stack(&mut p.space, &p.ps, top), Ok(false));
    assert_eq!(grow_stack(&mut p.space, &p.ps, top - 1), Ok(false));
    assert_eq!(
        grow_stack(&mut p.space, &p.ps, u64::from(MMAP_TOP) - 1),
        Ok(false)
    );
    assert_eq!(grow_stack(&mut p.space, &p.ps, 0x1_0000_0000), Ok(false));
    // Raise to 16 MiB: the guard moves down, the old one is gone.
    p.setrlimit(RLIMIT_STACK, 16 << 20, RLIM_INFINITY).unwrap();
    assert_eq!(p.getrlimit(RLIMIT_STACK).unwrap().rlim_cur, 16 << 20);
    let guard16 = STACK_TOP - (16 << 20) - P;
    assert_eq!(p.kind_at(guard16), Some(Kind::Guard));
    assert_eq!(p.kind_at(STACK_GUARD_BELOW), None);
    assert_eq!(grow_stack(&mut p.space, &p.ps, u64::from(deep)), Ok(true));
    p.write(deep, 3).unwrap();
    let twelve = STACK_TOP - (12 << 20);
    assert_eq!(grow_stack(&mut p.space, &p.ps, u64::from(twelve)), Ok(true));
    p.write(twelve, 4).unwrap();
    assert_eq!(
        grow_stack(&mut p.space, &p.ps, u64::from(guard16)),
        Ok(false)
    );
    // Lowering below the stack's extent: EINVAL; to exactly it: the guard touches it.
    let before = p.space.remap().clone();
    assert_eq!(
        p.setrlimit(RLIMIT_STACK, 8 << 20, RLIM_INFINITY),
        Err(Errno::EINVAL)
    );
    assert_eq!(p.space.remap(), &before);
    p.setrlimit(RLIMIT_STACK, 12 << 20, RLIM_INFINITY).unwrap();
    assert_eq!(p.kind_at(twelve - P), Some(Kind::Guard));
    assert_eq!(
        grow_stack(&mut p.space, &p.ps, u64::from(twelve) - 1),
        Ok(false)
    );
    // Byte values round down to pages.
    p.setrlimit(RLIMIT_STACK, (13 << 20) + 100, RLIM_INFINITY)
        .unwrap();
    assert_eq!(p.getrlimit(RLIMIT_STACK).unwrap().rlim_cur, 13 << 20);
    // The largest limit and the refusals around it.
    p.setrlimit(RLIMIT_STACK, STACK_LIMIT_MAX, RLIM_INFINITY)
        .unwrap();
    assert_eq!(p.kind_at(MMAP_TOP), Some(Kind::Guard));
    assert_eq!(
        grow_stack(&mut p.space, &p.ps, u64::from(MMAP_TOP) + 4096),
        Ok(true)
    );
    p.write(MMAP_TOP + P, 1).unwrap();
    assert_eq!(
        p.setrlimit(RLIMIT_STACK, STACK_LIMIT_MAX + P, RLIM_INFINITY),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        p.setrlimit(RLIMIT_STACK, 256 << 20, RLIM_INFINITY),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        p.setrlimit(RLIMIT_STACK, 0, RLIM_INFINITY),
        Err(Errno::EINVAL)
    );
    p.setrlimit(RLIMIT_STACK, RLIM_INFINITY, RLIM_INFINITY)
        .unwrap();
    assert_eq!(p.getrlimit(RLIMIT_STACK).unwrap().rlim_cur, STACK_LIMIT_MAX);
    // The stored hard limit, cur > max, unknown resources, NOFILE.
    assert_eq!(
        p.setrlimit(RLIMIT_STACK, 2 << 20, 1 << 20),
        Err(Errno::EINVAL)
    );
    assert_eq!(p.setrlimit(RLIM_NLIMITS, 1, 1), Err(Errno::EINVAL));
    assert_eq!(p.setrlimit(u32::MAX, 1, 1), Err(Errno::EINVAL));
    assert_eq!(p.getrlimit(RLIM_NLIMITS), Err(Errno::EINVAL));
    assert_eq!(
        p.getrlimit(RLIMIT_NOFILE),
        Ok(Rlimit {
            rlim_cur: 64,
            rlim_max: 64
        })
    );
    assert_eq!(p.setrlimit(RLIMIT_NOFILE, 64, 65), Err(Errno::EPERM));
    p.setrlimit(RLIMIT_NOFILE, 32, 64).unwrap();
    assert_eq!(
        p.getrlimit(RLIMIT_NOFILE),
        Ok(Rlimit {
            rlim_cur: 32,
            rlim_max: 64
        })
    );
    p.setrlimit(RLIMIT_CORE, 0, 0).unwrap();
    assert_eq!(
        p.getrlimit(RLIMIT_CORE),
        Ok(Rlimit {
            rlim_cur: 0,
            rlim_max: 0
        })
    );
    p.finish();
}

#[test]
fn stack_limit_guard_needs_free_pages() {
    let mut p = Proc::new();
    // Nothing can be mapped in the reservation from user space, but a lower guard
    // must not land on a mapping if one is there (e.g. the kernel put it there).
    p.space
        .map_anon(
            &mut p.ps,
            u64::from(STACK_TOP - (20 << 20)) / 4096,
            1,
            Perms::READ,
        )
        .unwrap();
    assert_eq!(
        p.setrlimit(RLIMIT_STACK, 32 << 20, RLIM_INFINITY),
        Err(Errno::ENOMEM)
    );
    assert_eq!(p.getrlimit(RLIMIT_STACK).unwrap().rlim_cur, STACK_LIMIT);
    p.setrlimit(RLIMIT_STACK, 16 << 20, RLIM_INFINITY).unwrap();
    p.finish();
}

#[test]
fn maps_listing() {
    let mut p = Proc::new();
    p.brk(BASE + 2 * P + 1).unwrap();
    let a = p.mmap(0, 2 * P, RW, ANON).unwrap();
    p.mmap(0, P, PROT_READ | PROT_EXEC, ANON).unwrap();
    assert_eq!(a, 0xafff_e000);
    let want = "\
08048000-08049000 r-xp 00000000 00:00 0          [text]
08049000-0804b000 rw-p 00000000 00:00 0          [data]
0804b000-0804e000 rw-p 00000000 00:00 0          [heap]
0804e000-0804f000 ---p 00000000 00:00 0          [guard]
afffd000-afffe000 r-xp 00000000 00:00 0          [mmap]
afffe000-b0000000 rw-p 00000000 00:00 0          [mmap]
bf7ff000-bf800000 ---p 00000000 00:00 0          [guard]
bffff000-c0000000 rw-p 00000000 00:00 0          [stack]
c0000000-c0001000 ---p 00000000 00:00 0          [guard]
";
    assert_eq!(p.maps(), want);
    // A read-only image segment is [rodata]; without the image's spans, [mmap].
    let mut mem = p.mem.clone();
    mem.image.clear();
    assert!(String::from_utf8(maps_text(p.space.remap(), &mem).unwrap())
        .unwrap()
        .starts_with("08048000-08049000 r-xp 00000000 00:00 0          [mmap]\n"));
    p.mprotect(0x0804_9000, P, PROT_READ).unwrap();
    assert!(p
        .maps()
        .contains("08049000-0804a000 r--p 00000000 00:00 0          [rodata]\n"));
    p.finish();
}

#[test]
fn segv_reasons() {
    let mut p = Proc::new();
    p.brk(BASE + 1).unwrap();
    let why = |p: &mut Proc, addr: u32| {
        let segv = match p.write(addr, 0) {
            Err(CpuError::Segv(s)) => s,
            other => panic!("{addr:#x}: {other:?}"),
        };
        describe_segv(p.space.remap(), &segv)
    };
    assert_eq!(why(&mut p, BASE + P), "guard page above break");
    assert_eq!(why(&mut p, STACK_TOP), "guard page above the stack top");
    assert_eq!(
        why(&mut p, STACK_GUARD_BELOW + 5),
        "stack limit (guard page below the stack)"
    );
    assert_eq!(
        why(&mut p, STACK_GUARD_BELOW - 4),
        "stack limit (below the stack's guard page)"
    );
    assert_eq!(why(&mut p, 8), "null page (page 0 is never mapped)");
    assert_eq!(why(&mut p, 0x2000_0000), "unmapped");
    assert_eq!(why(&mut p, 0x0804_8000), "write to read-only page");
    let n = p.mmap(0, P, PROT_NONE, ANON).unwrap();
    let r = p.read(n).unwrap_err();
    let CpuError::Segv(s) = r else {
        panic!("{r:?}")
    };
    assert_eq!(
        describe_segv(p.space.remap(), &s),
        "no access (PROT_NONE page)"
    );
    let s = Segv {
        addr: 0x0804_9000,
        reason: SegvReason::ExecNonExec,
    };
    assert_eq!(
        describe_segv(p.space.remap(), &s),
        "execution of non-executable page"
    );
    p.finish();
}

#[test]
fn map_count_is_bounded() {
    let mut p = Proc::new();
    let a = p
        .mmap(
            0x1000_0000,
            2 * MAX_MAP_COUNT as u32 * P,
            RW,
            ANON | MAP_FIXED,
        )
        .unwrap();
    let mut i = 0;
    let err = loop {
        // Every other page read-only: one more range each time.
        match mprotect(
            &mut vm::UserSpace::new(&mut p.space, &mut p.ps, &mut p.m),
            a + 2 * i * P,
            P,
            PROT_READ,
        ) {
            Ok(_) => i += 1,
            Err(e) => break e,
        }
    };
    assert_eq!(err, Errno::ENOMEM);
    assert!(p.space.remap().len() <= MAX_MAP_COUNT);
    assert_eq!(p.mmap(0, P, RW, ANON), Err(Errno::ENOMEM));
    // Splitting the untouched tail in two would need one more range...
    let tail = a + 2 * i * P;
    assert_eq!(p.munmap(tail + P, P), Err(Errno::ENOMEM));
    // ...but whole ranges can always go, at the limit too (nothing splits),
    // and re-protecting a whole range adds nothing either.
    assert_eq!(
        mprotect(
            &mut vm::UserSpace::new(&mut p.space, &mut p.ps, &mut p.m),
            a,
            P,
            PROT_READ | PROT_WRITE
        )
        .map(|_| ()),
        Ok(())
    );
    assert!(p.munmap(a + P, P).is_ok());
    assert!(p
        .munmap(tail, 2 * MAX_MAP_COUNT as u32 * P - 2 * i * P)
        .is_ok());
    p.check();
    p.finish();
}

/// Every call with addresses and lengths near 0 and 4 GiB and around the layout's
/// boundaries: no panic, a known result, consistent tables, no leak.
#[test]
fn hostile_grid() {
    let addrs = [
        0u32,
        1,
        0xFFF,
        0x1000,
        0xF000,
        0x1_0000,
        BASE - P,
        BASE,
        BASE + 1,
        0x4000_0000,
        MMAP_TOP - P,
        MMAP_TOP - 1,
        MMAP_TOP,
        STACK_GUARD_BELOW,
        STACK_TOP - P,
        STACK_TOP,
        0x7FFF_FFFF,
        0x8000_0000,
        0xFFFF_E000,
        0xFFFF_F000,
        0xFFFF_FFFF,
    ];
    let lens = [
        0u32,
        1,
        0xFFF,
        0x1000,
        0x1001,
        0x10_0000,
        0x7FFF_FFFF,
        0x8000_0000,
        0xFFFF_E000,
        0xFFFF_F000,
        0xFFFF_F001,
        0xFFFF_FFFF,
    ];
    let mut p = Proc::new();
    let known = |r: Result<u32, Errno>| {
        assert!(
            matches!(
                r,
                Ok(_)
                    | Err(Errno::EINVAL
                        | Errno::ENOMEM
                        | Errno::EPERM
                        | Errno::EEXIST
                        | Errno::EBADF
                        | Errno::ENODEV)
            ),
            "{r:?}"
        );
    };
    for &addr in &addrs {
        known(p.brk(addr));
        for &len in &lens {
            for flags in [
                ANON,
                ANON | MAP_FIXED,
                ANON | MAP_FIXED_NOREPLACE,
                MAP_PRIVATE,
            ] {
                let r = p.mmap(addr, len, RW, flags);
                known(r);
                if let Ok(a) = r {
                    assert_eq!(a % P, 0);
                    assert!(a >= MMAP_MIN && u64::from(a) + u64::from(len) <= u64::from(MMAP_TOP));
                }
            }
            known(p.mprotect(addr, len, PROT_READ));
            known(p.madvise(addr, len, MADV_DONTNEED));
            known(p.munmap(addr, len));
            // The kernel's guards survive everything.
            assert_eq!(p.kind_at(STACK_TOP), Some(Kind::Guard));
            assert!(stack_limit_ok(&p));
            let heap_end = p.mem.brk.div_ceil(P) * P;
            assert_eq!(
                p.kind_at(heap_end),
                Some(Kind::Guard),
                "heap guard at {heap_end:#x}"
            );
        }
        known(p.setrlimit(RLIMIT_STACK, addr, RLIM_INFINITY).map(|_| 0));
    }
    p.finish();
}

fn stack_limit_ok(p: &Proc) -> bool {
    crate::exec::stack_limit(p.space.remap()).is_some()
}

#[test]
fn space_access_through_vm_user() {
    let mut p = Proc::new();
    let mut user = UserSpace::new(&mut p.space, &mut p.ps, &mut p.m);
    let n = user.with_space(|us| us.remap().len());
    assert_eq!(n, Some(p.space.remap().len()));
    p.finish();
}

#[test]
fn brk_of_a_shared_access_is_restartable_state() {
    // The memory state is plain data: a copy restores the same answers.
    let mut p = Proc::new();
    p.brk(BASE + 5 * P).unwrap();
    let saved = p.mem.clone();
    assert_eq!(
        saved.heap_pages(),
        (u64::from(BASE) / 4096, u64::from(BASE) / 4096 + 5)
    );
    assert_eq!(p.brk(0), Ok(BASE + 5 * P));
    p.finish();
}

#[test]
fn access_helpers_see_the_stack() {
    let mut p = Proc::new();
    assert!(p.read(STACK_TOP - 4).is_ok());
    assert!(matches!(
        p.m.access(
            &mut p.space,
            &mut p.ps,
            u64::from(STACK_TOP - 2 * P),
            Access::Read
        ),
        Err(CpuError::Segv(Segv {
            reason: SegvReason::Unmapped,
            ..
        }))
    ));
    p.finish();
}

#[test]
fn image_spans_with_gaps() {
    let mem = ProcessMemory::with_heap(alloc::vec![(0x1000, 0x3000), (0x10000, 0x11000)], 0x11000);
    assert!(mem.in_image(1, 3));
    assert!(!mem.in_image(1, 4));
    assert!(mem.in_image(0x10, 0x11));
    assert_eq!(
        mem.outside_image(0, 0x20),
        [(0, 1), (3, 0x10), (0x11, 0x20)]
    );
    assert_eq!(mem.outside_image(2, 3), []);
    assert_eq!(mem.outside_image(2, 5), [(3, 5)]);
    assert_eq!(mem.outside_image(0x12, 0x13), [(0x12, 0x13)]);
    // An mmap in the gap between two segments is not image: DONTNEED clears it.
    let mut p = Proc::new();
    p.mem.image = alloc::vec![(0x0804_8000, 0x0804_9000), (0x3000_0000, 0x3000_1000)];
    let a = p.mmap(0x1000_0000, P, RW, ANON | MAP_FIXED).unwrap();
    p.write(a, 5).unwrap();
    p.madvise(a, P, MADV_DONTNEED).unwrap();
    assert_eq!(p.read(a), Ok(0));
    p.finish();
}
