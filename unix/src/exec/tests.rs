//! Tests of ELF validation (one case per refusal reason), loading (sharing, copying,
//! zero fill, copy-on-write) and process start-up.

use super::builder::*;
use super::elf::{PageSource, MAX_IMAGE_BYTES};
use super::layout::*;
use super::*;
use alloc::vec::Vec;
use vm::emulated::{CpuError, EmulatedMachine};
use vm::{Access, AddressSpace, PersistentSpace, SegvReason, UserSpace};

fn refuse(bytes: &[u8]) -> ElfError {
    let e = validate(bytes).expect_err("must be refused");
    assert_eq!(e.errno(), Errno::ENOEXEC);
    assert!(!alloc::format!("{e}").is_empty());
    e
}

/// Text (2 pages of code), data (1.5 pages of bytes + bss), like a real program.
fn program() -> ElfBuilder {
    let mut b = ElfBuilder::new();
    let text: Vec<u8> = (0..0x1800u32).map(|i| (i % 251) as u8 | 1).collect();
    b.load(0x0804_8000 + 0x1000, PF_R | PF_X, text, 0x1800);
    let data: Vec<u8> = (0..0x1800u32).map(|i| (i % 13) as u8 + 1).collect();
    b.load(0x0804_b000 + 0x10, PF_R | PF_W, data, 0x5000);
    b.other(0x6474_e551, Vec::new()); // PT_GNU_STACK: ignored
    b.entry = 0x0804_9000;
    b
}

#[test]
fn accepts_valid_programs() {
    let plan = validate(&ElfBuilder::minimal().build()).unwrap();
    assert_eq!(plan.entry, 0x0804_8054);
    assert_eq!(plan.segments.len(), 1);
    assert_eq!(plan.segments[0].perms, Perms::READ | Perms::EXEC);
    assert_eq!(plan.image_end(), 0x0804_9000);
    let plan = validate(&program().build()).unwrap();
    assert_eq!(plan.segments.len(), 2);
    let data = plan.segments[1];
    assert_eq!((data.first_page(), data.pages()), (0x0804b, 6));
    assert_eq!(plan.total_pages(), 2 + 6);
    assert_eq!(plan.image_end(), 0x0805_1000);
    // An all-.bss segment reads nothing from the file: its offset may lie anywhere.
    let mut b = program();
    b.load(0x0900_0000, PF_R | PF_W, Vec::new(), 0x2000);
    b.phdrs[3].offset = Some(0x7fff_0000);
    assert_eq!(validate(&b.build()).unwrap().segments.len(), 3);
    // An empty PT_LOAD is ignored.
    let mut b = program();
    b.load(0x0900_0000, PF_R, Vec::new(), 0);
    assert_eq!(validate(&b.build()).unwrap().segments.len(), 2);
}

#[test]
fn page_sources() {
    let bytes = program().build();
    let plan = validate(&bytes).unwrap();
    let text = plan.segments[0];
    let off = text.offset;
    assert_eq!(off % 4096, 0);
    assert_eq!(text.page_source(0), PageSource::File { file_offset: off });
    assert_eq!(
        text.page_source(1),
        PageSource::Partial {
            file_offset: off + 4096,
            len: 0x800
        }
    );
    let data = plan.segments[1];
    // vaddr is 0x10 into its page: the first page starts 0x10 bytes before p_offset.
    assert_eq!(
        data.page_source(0),
        PageSource::File {
            file_offset: data.offset - 0x10
        }
    );
    assert_eq!(
        data.page_source(1),
        PageSource::Partial {
            file_offset: data.offset - 0x10 + 4096,
            len: 0x810
        }
    );
    assert_eq!(data.page_source(2), PageSource::Zero);
    assert_eq!(data.page_source(4), PageSource::Zero);
}

#[test]
fn refuses_bad_headers() {
    let good = ElfBuilder::minimal().build();
    assert_eq!(refuse(&good[..30]), ElfError::Truncated { len: 30 });
    assert_eq!(refuse(&[]), ElfError::Truncated { len: 0 });
    assert_eq!(refuse(b"\x7fEL"), ElfError::Truncated { len: 3 });
    assert_eq!(
        refuse(b"MZ\x90\x00 not an elf at all, long enough to be a header......"),
        ElfError::BadMagic
    );
    let with = |f: &dyn Fn(&mut ElfBuilder)| {
        let mut b = ElfBuilder::minimal();
        f(&mut b);
        b.build()
    };
    assert_eq!(refuse(&with(&|b| b.class = 2)), ElfError::Elf64);
    assert_eq!(
        refuse(&with(&|b| b.class = 0)),
        ElfError::BadClass { class: 0 }
    );
    assert_eq!(
        refuse(&with(&|b| b.data = 2)),
        ElfError::NotLittleEndian { data: 2 }
    );
    assert_eq!(refuse(&with(&|b| b.version = 0)), ElfError::BadVersion);
    assert_eq!(
        refuse(&with(&|b| b.machine = EM_X86_64)),
        ElfError::WrongMachine { machine: 62 }
    );
    assert_eq!(refuse(&with(&|b| b.e_type = ET_DYN)), ElfError::Dynamic);
    assert_eq!(
        refuse(&with(&|b| b.e_type = 1)),
        ElfError::NotExecutable { e_type: 1 }
    );
    assert_eq!(
        refuse(&with(&|b| b.phentsize = 40)),
        ElfError::BadProgramHeaderSize { size: 40 }
    );
    assert_eq!(
        refuse(&with(&|b| b.phnum = Some(0))),
        ElfError::NoProgramHeaders
    );
    assert_eq!(
        refuse(&with(&|b| b.phnum = Some(65))),
        ElfError::TooManyProgramHeaders { count: 65 }
    );
    assert_eq!(
        refuse(&with(&|b| b.phnum = Some(0xffff))),
        ElfError::TooManyProgramHeaders { count: 0xffff }
    );
    // The table runs past the end of the file.
    let bytes = with(&|b| b.phnum = Some(3));
    assert!(matches!(
        refuse(&bytes),
        ElfError::ProgramHeadersOutsideFile { count: 3, .. }
    ));
    let mut far = good.clone();
    far[28..32].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
    assert!(matches!(
        refuse(&far),
        ElfError::ProgramHeadersOutsideFile { .. }
    ));
    // Truncated in the middle of the program headers.
    assert!(matches!(
        refuse(&good[..60]),
        ElfError::ProgramHeadersOutsideFile { len: 60, .. }
    ));
}

#[test]
fn refuses_bad_segments() {
    let with = |f: &dyn Fn(&mut ElfBuilder)| {
        let mut b = program();
        f(&mut b);
        refuse(&b.build())
    };
    assert_eq!(
        with(&|b| {
            b.other(PT_INTERP, b"/lib/ld-linux.so.2\0".to_vec());
        }),
        ElfError::Interpreter
    );
    assert_eq!(
        with(&|b| {
            b.other(PT_DYNAMIC, alloc::vec![0; 16]);
        }),
        ElfError::DynamicSection
    );
    assert_eq!(
        with(&|b| {
            for i in 0..15 {
                b.load(0x1000_0000 + i * 0x1000, PF_R, alloc::vec![1], 1);
            }
        }),
        ElfError::TooManyLoadSegments { count: 17 }
    );
    let mut only_note = ElfBuilder::new();
    only_note.other(PT_NOTE, alloc::vec![0; 8]);
    assert_eq!(refuse(&only_note.build()), ElfError::NoLoadSegments);
    let mut only_empty = ElfBuilder::new();
    only_empty.load(0x0804_8000, PF_R | PF_X, Vec::new(), 0);
    assert_eq!(refuse(&only_empty.build()), ElfError::NoLoadSegments);
    assert!(matches!(
        with(&|b| b.phdrs[1].p_memsz = 0x100),
        ElfError::FileSizeExceedsMemSize {
            index: 1,
            filesz: 0x1800,
            memsz: 0x100
        }
    ));
    assert!(matches!(
        with(&|b| b.phdrs[1].filesz = Some(0x4000)),
        ElfError::SegmentOutsideFile { index: 1, .. }
    ));
    assert!(matches!(
        with(&|b| {
            b.phdrs[1].offset = Some(0xffff_f010);
            b.phdrs[1].contents.clear();
            b.phdrs[1].filesz = Some(0x1800);
        }),
        ElfError::SegmentOutsideFile { index: 1, .. }
    ));
    assert!(matches!(
        with(&|b| {
            b.phdrs[0].offset = Some(0x1000);
            b.phdrs[0].p_vaddr += 4;
        }),
        ElfError::Misaligned { index: 0, .. }
    ));
    // Page 0: data there is refused (only Phantom's metadata page or code may be
    // there, see `page_zero_as_phantom_links`).
    assert!(matches!(
        with(&|b| {
            b.phdrs[1].p_vaddr = 0x10;
            b.phdrs[1].offset = Some(0x2010);
        }),
        ElfError::SegmentOnPageZero {
            index: 1,
            vaddr: 0x10
        }
    ));
    // The stack region, the kernel-ish top, wrapping past 4 GiB.
    for vaddr in [0xBFFF_0000u32, LOAD_END - 0x1000, 0xC000_0000, 0xFFFF_F000] {
        assert!(matches!(
            with(&|b| {
                b.phdrs[1].p_vaddr = vaddr + 0x10;
            }),
            ElfError::SegmentOutsideUserRange { index: 1, .. }
        ));
    }
    assert!(matches!(
        with(&|b| b.phdrs[1].p_memsz = 0xffff_0000),
        ElfError::SegmentOutsideUserRange { index: 1, .. }
    ));
    // Overlap: data on the text's last page, or the same range twice.
    assert_eq!(
        with(&|b| b.phdrs[1].p_vaddr = 0x0804_a010),
        ElfError::SegmentsOverlap {
            first: 0,
            second: 1
        }
    );
    assert_eq!(
        with(&|b| {
            let t = b.phdrs[0].clone();
            b.phdrs.push(t);
        }),
        ElfError::SegmentsOverlap {
            first: 0,
            second: 3
        }
    );
    // Huge p_memsz (inside the user range, but more than 1 GiB).
    assert!(matches!(
        with(&|b| {
            b.phdrs[1].p_vaddr = 0x1000_0010;
            b.phdrs[1].p_memsz = 0x5000_0000;
        }),
        ElfError::ImageTooLarge { .. }
    ));
    // Entry outside text: in data, past the end, zero.
    for entry in [0x0804_b010, 0x0804_a800, 0, 0x0804_8fff] {
        assert_eq!(
            with(&|b| b.entry = entry),
            ElfError::EntryNotExecutable { entry }
        );
    }
}

#[test]
fn error_messages_name_the_cause() {
    let cases: [(ElfError, &str); 6] = [
        (ElfError::Elf64, "ELF64"),
        (ElfError::WrongMachine { machine: 62 }, "machine 62"),
        (ElfError::Interpreter, "PT_INTERP"),
        (
            ElfError::SegmentsOverlap {
                first: 0,
                second: 1,
            },
            "overlap",
        ),
        (ElfError::EntryNotExecutable { entry: 5 }, "entry point 0x5"),
        (
            ElfError::ImageTooLarge {
                bytes: MAX_IMAGE_BYTES + 1,
            },
            "huge p_memsz",
        ),
    ];
    for (e, word) in cases {
        let s = alloc::format!("{e}");
        assert!(s.contains(word), "{s:?} lacks {word:?}");
        let x = alloc::format!("{}", ExecError::Elf(e));
        assert!(x.starts_with("ENOEXEC: "), "{x}");
    }
}

struct World {
    m: EmulatedMachine,
    ps: PersistentSpace,
}

impl World {
    fn new() -> World {
        World {
            m: EmulatedMachine::new(4096),
            ps: PersistentSpace::new(),
        }
    }
    fn space(&mut self) -> AddressSpace {
        AddressSpace::new(&mut self.m, &[0; vm::KERNEL_ENTRIES]).unwrap()
    }
    fn read(&mut self, s: &mut AddressSpace, addr: u32, len: usize) -> Vec<u8> {
        let mut v = alloc::vec![0; len];
        s.read_user(&mut self.ps, &mut self.m, u64::from(addr), &mut v)
            .unwrap();
        v
    }
}

/// The bytes the process must see in `[vaddr, vaddr + memsz)` of every segment.
fn check_image(w: &mut World, s: &mut AddressSpace, bytes: &[u8], plan: &LoadPlan) {
    for seg in &plan.segments {
        let got = w.read(s, seg.vaddr, seg.memsz as usize);
        let mut want = alloc::vec![0u8; seg.memsz as usize];
        let f = seg.offset as usize;
        want[..seg.filesz as usize].copy_from_slice(&bytes[f..f + seg.filesz as usize]);
        assert_eq!(got, want, "segment {}", seg.index);
        // Below p_vaddr in the first page: the file bytes before p_offset.
        let pre = seg.vaddr % 4096;
        let page = seg.vaddr - pre;
        assert_eq!(w.read(s, page, pre as usize), bytes[f - pre as usize..f]);
    }
}

#[test]
fn eager_load_copies_file_pages() {
    let mut w = World::new();
    let bytes = program().build();
    let plan = validate(&bytes).unwrap();
    let mut s = w.space();
    let stats = load(
        &plan,
        &bytes[..],
        &mut UserSpace::new(&mut s, &mut w.ps, &mut w.m),
    )
    .unwrap();
    // text: 1 full + 1 partial; data: 1 full + 1 partial, then 4 bss pages.
    assert_eq!(
        stats,
        LoadStats {
            shared: 0,
            copied: 4,
            zero: 4
        }
    );
    assert_eq!(w.m.frames_in_use(), 1 + 4); // the root table + 4 pages
    check_image(&mut w, &mut s, &bytes, &plan);
    s.destroy(&mut w.ps, &mut w.m);
    assert_eq!(w.m.frames_in_use(), 0);
}

#[test]
fn persistent_image_is_shared_copy_on_write() {
    let mut w = World::new();
    let bytes = program().build();
    let plan = validate(&bytes).unwrap();
    let image = PersistentImage::copy_in(&mut w.ps, &mut w.m, &bytes).unwrap();
    let image_frames = w.m.frames_in_use();
    assert_eq!(image.pages(), (bytes.len() as u64).div_ceil(4096));
    let mut a = w.space();
    let mut b = w.space();
    let sa = load(
        &plan,
        &image,
        &mut UserSpace::new(&mut a, &mut w.ps, &mut w.m),
    )
    .unwrap();
    let sb = load(
        &plan,
        &image,
        &mut UserSpace::new(&mut b, &mut w.ps, &mut w.m),
    )
    .unwrap();
    // Only the page where data ends and bss begins is copied (the text's last page
    // has no bss and lies inside the file: shared).
    assert_eq!(
        sa,
        LoadStats {
            shared: 3,
            copied: 1,
            zero: 4
        }
    );
    assert_eq!(sa, sb);
    check_image(&mut w, &mut a, &bytes, &plan);
    check_image(&mut w, &mut b, &bytes, &plan);
    // The text page of both processes is the image's frame.
    let text_page = image.base() + u64::from(plan.segments[0].offset) / 4096;
    let frame = w.ps.frame(text_page).unwrap();
    assert_eq!(w.ps.refcount(frame), 3);
    // Writing the shared data page copies it: the other process and the image keep
    // the original bytes.
    let data_va = plan.segments[1].vaddr;
    w.m.user_write(&mut a, &mut w.ps, u64::from(data_va), b"XYZ")
        .unwrap();
    assert_eq!(w.read(&mut a, data_va, 3), b"XYZ");
    assert_eq!(w.read(&mut b, data_va, 3), [1, 2, 3]);
    check_image(&mut w, &mut b, &bytes, &plan);
    // Text is not writable; bss is, and starts zero.
    let text_va = u64::from(plan.segments[0].vaddr);
    assert!(matches!(
        w.m.user_write(&mut a, &mut w.ps, text_va, b"x"),
        Err(CpuError::Segv(vm::Segv {
            reason: SegvReason::WriteToReadOnly,
            ..
        }))
    ));
    let bss = 0x0804_e000;
    w.m.user_write(&mut a, &mut w.ps, bss, b"b").unwrap();
    assert!(w.m.access(&mut a, &mut w.ps, text_va, Access::Exec).is_ok());
    a.audit(&w.ps, &w.m).unwrap();
    a.destroy(&mut w.ps, &mut w.m);
    b.destroy(&mut w.ps, &mut w.m);
    // Only the image's frames remain, still holding the file.
    assert_eq!(w.m.frames_in_use(), image_frames);
    assert_eq!(w.ps.refcount(frame), 1);
    w.ps.check_invariants().unwrap();
}

#[test]
fn image_from_frames_shares_module_memory() {
    let mut w = World::new();
    let bytes = program().build();
    let plan = validate(&bytes).unwrap();
    // The "module": frames already holding the file.
    let frames: Vec<_> = (0..(bytes.len() as u64).div_ceil(4096))
        .map(|i| {
            let f = vm::FrameAllocator::alloc_frame(&mut w.m).unwrap();
            let chunk = &bytes[(i * 4096) as usize..bytes.len().min(((i + 1) * 4096) as usize)];
            vm::PhysMemory::write_bytes(&mut w.m, f.start(), chunk);
            f
        })
        .collect();
    let image = PersistentImage::from_frames(&mut w.ps, &bytes, frames.iter().copied()).unwrap();
    let mut s = w.space();
    let st = load(
        &plan,
        &image,
        &mut UserSpace::new(&mut s, &mut w.ps, &mut w.m),
    )
    .unwrap();
    assert_eq!(st.shared, 3);
    check_image(&mut w, &mut s, &bytes, &plan);
    s.destroy(&mut w.ps, &mut w.m);
    for f in &frames {
        assert_eq!(w.ps.refcount(*f), 1);
    }
}

#[test]
fn exec_sets_up_stack_and_guards() {
    let mut w = World::new();
    let bytes = program().build();
    let mut s = w.space();
    let cmd = BootCommand::parse("/x/prog one two").unwrap();
    let start = exec(
        &bytes[..],
        &cmd.argv_bytes(),
        &[b"HOME=/"],
        &mut UserSpace::new(&mut s, &mut w.ps, &mut w.m),
    )
    .unwrap();
    assert_eq!(start.entry, 0x0804_9000);
    assert_eq!(start.brk, 0x0805_1000);
    assert_eq!(
        start.image,
        [(0x0804_9000, 0x0804_b000), (0x0804_b000, 0x0805_1000)]
    );
    assert_eq!(start.stack_start, STACK_TOP - 4096);
    // The guard above the (empty) heap.
    assert_eq!(
        s.remap().translate(0x0805_1000 / 4096).map(|t| t.kind),
        Some(vm::remap::Kind::Guard)
    );
    assert_eq!(stack_limit(s.remap()), Some(STACK_LIMIT));
    let frame = w.read(&mut s, start.esp, 20);
    let word = |i: usize| u32::from_le_bytes(frame[4 * i..4 * i + 4].try_into().unwrap());
    assert_eq!((word(0), word(1), word(4)), (0xFFFF_FFFF, 3, 0));
    let argv1 = u32::from_le_bytes(w.read(&mut s, word(2) + 4, 4).try_into().unwrap());
    assert_eq!(w.read(&mut s, argv1, 4), b"one\0");
    // Guards above the top and below the limit; the gap between is unmapped until the
    // stack grows.
    for (addr, reason) in [
        (u64::from(STACK_TOP), SegvReason::Guard),
        (u64::from(STACK_GUARD_BELOW), SegvReason::Guard),
        (u64::from(STACK_TOP) - 2 * 4096, SegvReason::Unmapped),
    ] {
        let r = w.m.access(&mut s, &mut w.ps, addr, Access::Read);
        assert!(
            matches!(r, Err(CpuError::Segv(vm::Segv { reason: r, .. })) if r == reason),
            "{addr:#x}: {r:?}"
        );
    }
    // The stack range can grow down to the limit.
    let top_page = u64::from(STACK_TOP) / 4096;
    let limit_pages = u64::from(STACK_LIMIT) / 4096;
    s.grow_down(&w.ps, top_page - 1, limit_pages - 1).unwrap();
    // Its window has room down to the largest limit (once the guard moves there).
    s.unmap(&mut w.ps, &mut w.m, u64::from(STACK_GUARD_BELOW) / 4096, 1)
        .unwrap();
    let max_pages = u64::from(STACK_LIMIT_MAX) / 4096;
    s.grow_down(&w.ps, top_page - limit_pages, max_pages - limit_pages)
        .unwrap();
    assert_eq!(
        s.grow_down(&w.ps, top_page - max_pages, 1),
        Err(VmError::WindowFull {
            start: top_page - max_pages
        })
    );
    assert_eq!(u64::from(MMAP_TOP) / 4096, top_page - max_pages - 1);
    s.destroy(&mut w.ps, &mut w.m);
    assert_eq!(w.m.frames_in_use(), 0);
}

#[test]
fn exec_errors_and_cleanup() {
    let mut w = World::new();
    let mut s = w.space();
    let bad = {
        let mut b = program();
        b.machine = EM_X86_64;
        b.build()
    };
    let e = exec(
        &bad[..],
        &[],
        &[],
        &mut UserSpace::new(&mut s, &mut w.ps, &mut w.m),
    )
    .unwrap_err();
    assert_eq!(e, ExecError::Elf(ElfError::WrongMachine { machine: 62 }));
    assert_eq!(e.errno(), Errno::ENOEXEC);
    assert!(s.remap().is_empty());
    let big = alloc::vec![b'x'; 200_000];
    let good = program().build();
    let e = exec(
        &good[..],
        &[&big[..]],
        &[],
        &mut UserSpace::new(&mut s, &mut w.ps, &mut w.m),
    )
    .unwrap_err();
    assert_eq!(e.errno(), Errno::E2BIG);
    assert!(s.remap().is_empty());
    // Loading into an occupied space fails and leaves only what was there.
    s.map_anon(&mut w.ps, 0x804c, 1, Perms::READ).unwrap();
    let plan = validate(&good).unwrap();
    let e = load(
        &plan,
        &good[..],
        &mut UserSpace::new(&mut s, &mut w.ps, &mut w.m),
    )
    .unwrap_err();
    assert!(matches!(e, LoadError::Vm(_)), "{e}");
    assert_eq!(s.remap().len(), 1);
    s.destroy(&mut w.ps, &mut w.m);
    assert_eq!(w.m.frames_in_use(), 0);
}

#[test]
fn out_of_memory_is_an_error() {
    let mut m = EmulatedMachine::new(3);
    let mut ps = PersistentSpace::new();
    let mut s = AddressSpace::new(&mut m, &[0; vm::KERNEL_ENTRIES]).unwrap();
    let bytes = program().build();
    let plan = validate(&bytes).unwrap();
    assert_eq!(
        load(
            &plan,
            &bytes[..],
            &mut UserSpace::new(&mut s, &mut ps, &mut m)
        ),
        Err(LoadError::OutOfMemory)
    );
    assert!(s.remap().is_empty());
    s.destroy(&mut ps, &mut m);
    assert_eq!(m.frames_in_use(), 0);
}

#[test]
fn page_zero_as_phantom_links() {
    // Current binutils with -Ttext-segment,0: a read-only PT_LOAD at 0 holding only
    // the ELF header and the program headers: skipped, the null guard stays.
    let mut b = program();
    let meta = (52 + 32 * 4) as u32;
    b.load(0, PF_R, Vec::new(), meta);
    b.phdrs[3].offset = Some(0);
    b.phdrs[3].filesz = Some(meta);
    let plan = validate(&b.build()).unwrap();
    assert_eq!(plan.skipped_header_segment, Some(3));
    assert!(!plan.page_zero_mapped);
    assert!(plan.segments.iter().all(|s| s.first_page() != 0));
    // The same page with more than metadata in it is data on page 0: refused.
    b.phdrs[3].filesz = Some(meta + 64);
    b.phdrs[3].p_memsz = meta + 64;
    assert!(matches!(
        refuse(&b.build()),
        ElfError::SegmentOnPageZero { index: 3, vaddr: 0 }
    ));
    // Writable, or holding the entry, it is not a metadata page either.
    b.phdrs[3].filesz = Some(meta);
    b.phdrs[3].p_memsz = meta;
    b.phdrs[3].p_flags = PF_R | PF_W;
    assert!(matches!(
        refuse(&b.build()),
        ElfError::SegmentOnPageZero { .. }
    ));
    // Notes widen the metadata: a page-0 segment covering headers and a note is
    // still metadata.
    let mut n = program();
    n.other(PT_NOTE, alloc::vec![0; 24]);
    let note_off = 52 + 5 * 32;
    n.phdrs[3].offset = Some(note_off);
    n.load(0, PF_R, Vec::new(), 1);
    n.phdrs[4].offset = Some(0);
    n.phdrs[4].filesz = Some(note_off + 24);
    n.phdrs[4].p_memsz = note_off + 24;
    let plan = validate(&n.build()).unwrap();
    assert_eq!(plan.skipped_header_segment, Some(4));

    // Older binutils: headers and .text in one R+X segment at 0, the entry in it:
    // loaded, page 0 mapped for this process.
    let mut old = ElfBuilder::new();
    let mut text = alloc::vec![0u8; 0x80];
    text.extend_from_slice(&SPIN);
    old.load(0, PF_R | PF_X, Vec::new(), 0x80 + SPIN.len() as u32);
    old.phdrs[0].offset = Some(0);
    old.phdrs[0].filesz = Some(0x80 + SPIN.len() as u32);
    old.entry = 0x80;
    let mut bytes = old.build();
    bytes.resize(0x80, 0);
    bytes.extend_from_slice(&SPIN);
    let plan = validate(&bytes).unwrap();
    assert!(plan.page_zero_mapped);
    assert_eq!(plan.segments[0].vaddr, 0);
    assert_eq!(plan.image_end(), 0x1000);
}
