//! A tiny ELF32 writer for tests (here, in the kernel's QEMU tests, in benchmarks):
//! builds valid static i386 executables and, by editing its public fields, every kind
//! of broken one the validator must refuse. Not used on any kernel path.
//!
//! ```
//! use unix::exec::builder::{ElfBuilder, PF_R, PF_W};
//! let mut b = ElfBuilder::minimal();
//! b.load(0x0804_a000, PF_R | PF_W, b"data".to_vec(), 0x3000); // .data + .bss
//! let bytes = b.build();
//! assert!(unix::exec::validate(&bytes).is_ok());
//! ```

use alloc::vec::Vec;

pub use goblin::elf::header::{EM_386, EM_X86_64, ET_DYN, ET_EXEC};
pub use goblin::elf::program_header::{PF_R, PF_W, PF_X, PT_DYNAMIC, PT_INTERP, PT_LOAD, PT_NOTE};

/// One program header and the file bytes it describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhdrSpec {
    /// `p_type`.
    pub p_type: u32,
    /// `p_flags`.
    pub p_flags: u32,
    /// `p_vaddr` (also written as `p_paddr`).
    pub p_vaddr: u32,
    /// `p_memsz`.
    pub p_memsz: u32,
    /// `p_align`.
    pub p_align: u32,
    /// The bytes placed in the file for this header.
    pub contents: Vec<u8>,
    /// `p_offset`; `None`: the first offset after everything before that is congruent
    /// to `p_vaddr` modulo 4096 (the contents are written there), or `p_vaddr % 4096`
    /// for empty contents.
    pub offset: Option<u32>,
    /// `p_filesz`; `None`: `contents.len()`.
    pub filesz: Option<u32>,
}

/// An ELF32 file under construction. Every field is what ends up in the file. The
/// file is as long as the furthest contents: an explicit far offset with contents
/// makes a big file (give it no contents to point outside the file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElfBuilder {
    /// `e_ident[EI_CLASS]` (1 = 32-bit).
    pub class: u8,
    /// `e_ident[EI_DATA]` (1 = little-endian).
    pub data: u8,
    /// `e_ident[EI_VERSION]` and `e_version`.
    pub version: u8,
    /// `e_type`.
    pub e_type: u16,
    /// `e_machine`.
    pub machine: u16,
    /// `e_entry`.
    pub entry: u32,
    /// `e_phentsize`.
    pub phentsize: u16,
    /// `e_phoff`; `None`: right after the header (52).
    pub phoff: Option<u32>,
    /// `e_phnum`; `None`: the number of program headers.
    pub phnum: Option<u16>,
    /// The program headers, in file order.
    pub phdrs: Vec<PhdrSpec>,
}

/// Size of the ELF32 header.
pub const EHDR_SIZE: u32 = 52;
/// Size of an ELF32 program header.
pub const PHDR_SIZE: u32 = 32;
/// `jmp .` — the code of [`ElfBuilder::minimal`].
pub const SPIN: [u8; 2] = [0xeb, 0xfe];

impl Default for ElfBuilder {
    fn default() -> Self {
        ElfBuilder {
            class: 1,
            data: 1,
            version: 1,
            e_type: ET_EXEC,
            machine: EM_386,
            entry: 0,
            phentsize: PHDR_SIZE as u16,
            phoff: None,
            phnum: None,
            phdrs: Vec::new(),
        }
    }
}

impl ElfBuilder {
    /// No program headers yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// A valid executable: one read+execute `PT_LOAD` of `jmp .` at `0x08048054`
    /// (file offset 0x54, right after the header and its one program header), the
    /// entry point.
    pub fn minimal() -> Self {
        let mut b = Self::new();
        b.load(0x0804_8054, PF_R | PF_X, SPIN.to_vec(), SPIN.len() as u32);
        b.entry = 0x0804_8054;
        b
    }

    /// Add a `PT_LOAD` of `contents` at `vaddr` with `memsz` bytes in memory.
    pub fn load(&mut self, vaddr: u32, flags: u32, contents: Vec<u8>, memsz: u32) -> &mut Self {
        self.phdrs.push(PhdrSpec {
            p_type: PT_LOAD,
            p_flags: flags,
            p_vaddr: vaddr,
            p_memsz: memsz,
            p_align: 0x1000,
            contents,
            offset: None,
            filesz: None,
        });
        self
    }

    /// Add a program header of another type (e.g. `PT_INTERP`) with `contents`.
    pub fn other(&mut self, p_type: u32, contents: Vec<u8>) -> &mut Self {
        let len = contents.len() as u32;
        self.phdrs.push(PhdrSpec {
            p_type,
            p_flags: PF_R,
            p_vaddr: 0,
            p_memsz: len,
            p_align: 1,
            contents,
            offset: None,
            filesz: None,
        });
        self
    }

    /// The file: header, program headers, then each header's contents at its offset.
    pub fn build(&self) -> Vec<u8> {
        let phoff = self.phoff.unwrap_or(EHDR_SIZE);
        let phnum = self.phnum.unwrap_or(self.phdrs.len() as u16);
        let table_end = phoff as usize + self.phdrs.len() * PHDR_SIZE as usize;
        let mut out = alloc::vec![0u8; table_end.max(EHDR_SIZE as usize)];
        // Lay out the contents.
        let mut cursor = out.len() as u64;
        let mut placed = Vec::new();
        for p in &self.phdrs {
            let off = match p.offset {
                Some(o) => u64::from(o),
                // Nothing to place: the smallest congruent offset.
                None if p.contents.is_empty() => u64::from(p.p_vaddr) % 4096,
                None => {
                    let want = u64::from(p.p_vaddr) % 4096;
                    let mut o = cursor - cursor % 4096 + want;
                    if o < cursor {
                        o += 4096;
                    }
                    o
                }
            };
            if !p.contents.is_empty() {
                let end = off + p.contents.len() as u64;
                if end as usize > out.len() {
                    out.resize(end as usize, 0);
                }
                out[off as usize..end as usize].copy_from_slice(&p.contents);
                cursor = cursor.max(end);
            }
            placed.push(off as u32);
        }
        // Header.
        out[..4].copy_from_slice(b"\x7fELF");
        out[4] = self.class;
        out[5] = self.data;
        out[6] = self.version;
        let put16 =
            |o: &mut Vec<u8>, at: usize, v: u16| o[at..at + 2].copy_from_slice(&v.to_le_bytes());
        let put32 =
            |o: &mut Vec<u8>, at: usize, v: u32| o[at..at + 4].copy_from_slice(&v.to_le_bytes());
        put16(&mut out, 16, self.e_type);
        put16(&mut out, 18, self.machine);
        put32(&mut out, 20, u32::from(self.version));
        put32(&mut out, 24, self.entry);
        put32(&mut out, 28, phoff);
        put32(&mut out, 32, 0); // no section headers
        put32(&mut out, 36, 0);
        put16(&mut out, 40, EHDR_SIZE as u16);
        put16(&mut out, 42, self.phentsize);
        put16(&mut out, 44, phnum);
        put16(&mut out, 46, 40);
        put16(&mut out, 48, 0);
        put16(&mut out, 50, 0);
        // Program headers.
        for (i, (p, off)) in self.phdrs.iter().zip(placed).enumerate() {
            let at = phoff as usize + i * PHDR_SIZE as usize;
            let filesz = p.filesz.unwrap_or(p.contents.len() as u32);
            for (k, v) in [
                p.p_type, off, p.p_vaddr, p.p_vaddr, filesz, p.p_memsz, p.p_flags, p.p_align,
            ]
            .into_iter()
            .enumerate()
            {
                put32(&mut out, at + 4 * k, v);
            }
        }
        out
    }
}
