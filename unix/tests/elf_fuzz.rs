//! Fuzzing the ELF validator with proptest: arbitrary bytes, arbitrary bytes behind a
//! valid header, and mutations of valid executables (byte flips, truncation, field
//! overwrites with boundary values). No input may panic; every accepted plan must
//! satisfy the loader's invariants and load, with the exact bytes the ELF describes.

use proptest::prelude::*;
use unix::exec::builder::{ElfBuilder, PF_R, PF_W, PF_X, PT_NOTE};
use unix::exec::layout::{LOAD_END, LOAD_START};
use unix::exec::{load, validate, ElfError, LoadPlan, PersistentImage};
use vm::emulated::EmulatedMachine;
use vm::remap::Perms;
use vm::{AddressSpace, PersistentSpace, UserSpace};

/// A valid program with text, rodata, data+bss and a note.
fn base_elf() -> Vec<u8> {
    let mut b = ElfBuilder::new();
    b.load(0x0804_8000 + 0x100, PF_R | PF_X, vec![0x90; 0x1200], 0x1200);
    b.load(
        0x0804_a000,
        PF_R,
        (0..0x800u32).map(|i| i as u8).collect(),
        0x800,
    );
    b.load(0x0804_c020, PF_R | PF_W, vec![7; 0x900], 0x3000);
    b.other(PT_NOTE, vec![1, 2, 3, 4]);
    b.entry = 0x0804_8100;
    b.build()
}

/// The invariants the loader relies on.
fn check_plan(plan: &LoadPlan, len: usize) {
    assert!(!plan.segments.is_empty() && plan.segments.len() <= 16);
    let mut prev_end = 0;
    let mut bytes = 0u64;
    for s in &plan.segments {
        assert!(s.memsz > 0 && s.filesz <= s.memsz);
        assert!(s.filesz == 0 || u64::from(s.offset) + u64::from(s.filesz) <= len as u64);
        assert_eq!(s.vaddr % 4096, s.offset % 4096);
        // Only an image whose code starts on page 0 gets page 0 mapped.
        assert!(s.vaddr >= LOAD_START || (plan.page_zero_mapped && s.first_page() == 0));
        assert!(u64::from(s.vaddr) + u64::from(s.memsz) <= u64::from(LOAD_END));
        assert!(s.first_page() >= prev_end, "segments share a page");
        prev_end = s.end_page();
        bytes += s.pages() * 4096;
    }
    assert!(bytes <= 1 << 30);
    assert!(plan.segments.iter().any(|s| s.perms.contains(Perms::EXEC)
        && plan.entry >= s.vaddr
        && u64::from(plan.entry) < u64::from(s.vaddr) + u64::from(s.memsz)));
}

/// Load an accepted file both ways and compare every file-backed byte.
fn load_and_compare(bytes: &[u8], plan: &LoadPlan) {
    let mut m = EmulatedMachine::new(1 << 14);
    let mut ps = PersistentSpace::new();
    let image = PersistentImage::copy_in(&mut ps, &mut m, bytes).unwrap();
    for shared in [false, true] {
        let mut space = AddressSpace::new(&mut m, &[0; vm::KERNEL_ENTRIES]).unwrap();
        if shared {
            load(
                plan,
                &image,
                &mut UserSpace::new(&mut space, &mut ps, &mut m),
            )
            .unwrap();
        } else {
            load(
                plan,
                bytes,
                &mut UserSpace::new(&mut space, &mut ps, &mut m),
            )
            .unwrap();
        }
        for s in &plan.segments {
            if s.perms.is_empty() {
                // PROT_NONE: make it readable to look at it.
                space
                    .protect(&mut m, s.first_page(), s.pages(), Perms::READ)
                    .unwrap();
            }
            // The file part and (at most) one page of what follows.
            let n = (s.filesz + 4096).min(s.memsz) as usize;
            let mut got = vec![0u8; n];
            space
                .read_user(&mut ps, &mut m, u64::from(s.vaddr), &mut got)
                .unwrap();
            let f = s.offset as usize;
            let mut want = vec![0u8; n];
            if s.filesz > 0 {
                want[..s.filesz as usize].copy_from_slice(&bytes[f..f + s.filesz as usize]);
            }
            assert_eq!(got, want);
        }
        space.destroy(&mut ps, &mut m);
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: usize, bit: u8 },
    Byte { at: usize, value: u8 },
    Word { at: usize, value: u32 },
    Truncate { len: usize },
}

fn interesting_u32() -> impl Strategy<Value = u32> {
    prop_oneof![
        Just(0u32),
        Just(1),
        Just(0xfff),
        Just(0x1000),
        Just(0x1001),
        Just(0x7fff_ffff),
        Just(0x8000_0000),
        Just(0xbf7f_f000),
        Just(0xc000_0000),
        Just(0xffff_f000),
        Just(0xffff_ffff),
        Just(0x0804_8000),
        any::<u32>(),
    ]
}

fn mutation(len: usize) -> impl Strategy<Value = Mutation> {
    // Most mutations hit the header and program headers, where the checks are.
    let hot: usize = 52 + 4 * 32;
    prop_oneof![
        (0..len, 0u8..8).prop_map(|(at, bit)| Mutation::Flip { at, bit }),
        (0..hot, any::<u8>()).prop_map(|(at, value)| Mutation::Byte { at, value }),
        (0..hot / 4, interesting_u32()).prop_map(|(w, value)| Mutation::Word { at: w * 4, value }),
        (0..len).prop_map(|len| Mutation::Truncate { len }),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    match *m {
        Mutation::Flip { at, bit } => {
            if let Some(b) = bytes.get_mut(at) {
                *b ^= 1 << bit;
            }
        }
        Mutation::Byte { at, value } => {
            if let Some(b) = bytes.get_mut(at) {
                *b = value;
            }
        }
        Mutation::Word { at, value } => {
            if at + 4 <= bytes.len() {
                bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
            }
        }
        Mutation::Truncate { len } => bytes.truncate(len),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..700)) {
        if let Ok(plan) = validate(&bytes) {
            check_plan(&plan, bytes.len());
        }
    }

    #[test]
    fn arbitrary_bytes_behind_a_valid_header(tail in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut bytes = base_elf()[..52].to_vec();
        bytes.extend_from_slice(&tail);
        if let Ok(plan) = validate(&bytes) {
            check_plan(&plan, bytes.len());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn mutated_elves_never_panic(
        muts in proptest::collection::vec(mutation(base_elf().len()), 1..5)
    ) {
        let mut bytes = base_elf();
        for m in &muts {
            apply(&mut bytes, m);
        }
        match validate(&bytes) {
            Ok(plan) => {
                check_plan(&plan, bytes.len());
                load_and_compare(&bytes, &plan);
            }
            Err(e) => {
                // Every refusal is ENOEXEC with a message.
                prop_assert_eq!(e.errno(), unix::Errno::ENOEXEC);
                prop_assert!(!e.to_string().is_empty());
            }
        }
    }
}

/// One segment of a random but valid layout: page slot, offset in page, sizes.
fn segment() -> impl Strategy<Value = (u32, u32, u32, u32, u8)> {
    (0u32..4, 0u32..4096, 0u32..3 * 4096, 0u32..3 * 4096, 0u8..8)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Random valid layouts load to exactly the bytes they describe (file bytes, then
    /// zeros), whether the pages are shared or copied.
    #[test]
    fn random_layouts_load_exactly(segs in proptest::collection::vec(segment(), 1..4)) {
        let mut b = ElfBuilder::new();
        for (i, &(slot, off, filesz, extra, flags)) in segs.iter().enumerate() {
            // Slots 16 pages apart keep the segments disjoint.
            let vaddr = 0x0100_0000 + (i as u32 * 4 + slot) * 16 * 4096 + off;
            let contents: Vec<u8> = (0..filesz).map(|k| (k % 255) as u8 + 1).collect();
            let memsz = (filesz + extra).max(1);
            let f = u32::from(flags) & (PF_R | PF_W);
            b.load(vaddr, if i == 0 { PF_R | PF_X } else { f }, contents, memsz);
        }
        b.entry = b.phdrs[0].p_vaddr;
        let bytes = b.build();
        let plan = validate(&bytes).unwrap();
        check_plan(&plan, bytes.len());
        load_and_compare(&bytes, &plan);
    }
}

#[test]
fn base_is_valid() {
    let bytes = base_elf();
    let plan = validate(&bytes).unwrap();
    check_plan(&plan, bytes.len());
    load_and_compare(&bytes, &plan);
    assert!(matches!(
        validate(&bytes[..40]),
        Err(ElfError::Truncated { len: 40 })
    ));
}
