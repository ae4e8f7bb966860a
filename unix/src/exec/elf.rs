//! The ELF validator: turns the bytes of an executable into a [`LoadPlan`] or an
//! [`ElfError`] naming exactly what is wrong (every error is `ENOEXEC`).
//!
//! Only ELF32 i386 static `ET_EXEC` files are accepted. The input is hostile: the
//! header and the program headers are read field by field into goblin's `elf32` types
//! with bounds-checked little-endian reads (goblin's own parsers are not used on
//! untrusted bytes, as they may allocate by untrusted counts), all arithmetic is
//! checked, and this module never indexes or panics — it is fuzzed with arbitrary and
//! mutated inputs.
//!
//! Accepted: `PT_LOAD` segments (at most [`MAX_LOAD_SEGMENTS`]) with
//! `p_filesz ≤ p_memsz`, the file bytes (if any) inside the file,
//! `p_vaddr ≡ p_offset (mod 4096)`, every page inside
//! `[`[`LOAD_START`]`, `[`LOAD_END`]`)` (never the stack region), no page shared by
//! two segments, at most [`MAX_IMAGE_BYTES`] of pages in all, and the entry inside an
//! executable segment.
//!
//! Page 0, as Phantom links programs (at address 0): a page-0 segment that holds only
//! the ELF metadata — the headers, the program header table, notes — and is neither
//! writable nor executable nor holds the entry is skipped (current binutils put the
//! headers alone in the first `PT_LOAD`). An executable segment starting on page 0
//! (older binutils put headers and `.text` in one R+X segment at 0) is loaded with
//! page 0 mapped for that process only ([`LoadPlan::page_zero_mapped`]): its null
//! guard is lost. Any other segment on page 0 is refused. `PT_INTERP` and `PT_DYNAMIC` are refused (no
//! dynamic linking); other program header types (`PT_NOTE`, `PT_TLS`,
//! `PT_GNU_STACK`, ...) are ignored.
#![deny(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

use super::layout::{LOAD_END, LOAD_START, PAGE};
use alloc::vec::Vec;
use core::fmt;
use goblin::elf::header::{
    EI_CLASS, EI_DATA, EI_VERSION, ELFCLASS32, ELFCLASS64, ELFDATA2LSB, ELFMAG, EM_386, ET_DYN,
    ET_EXEC, EV_CURRENT, SIZEOF_IDENT,
};
use goblin::elf::program_header::{PF_R, PF_W, PF_X, PT_DYNAMIC, PT_INTERP, PT_LOAD, PT_NOTE};
use goblin::elf32::header::{Header, SIZEOF_EHDR};
use goblin::elf32::program_header::{ProgramHeader, SIZEOF_PHDR};
use vm::remap::Perms;

/// Most `PT_LOAD` segments accepted.
pub const MAX_LOAD_SEGMENTS: usize = 16;
/// Most program headers accepted (of any type).
pub const MAX_PROGRAM_HEADERS: u16 = 64;
/// Most bytes of pages all segments together may cover (1 GiB).
pub const MAX_IMAGE_BYTES: u64 = 1 << 30;

/// Why an executable is refused. Each one is `ENOEXEC`; `Display` names the cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElfError {
    /// The file is shorter than an ELF32 header.
    Truncated {
        /// The file's length.
        len: usize,
    },
    /// The file does not start with `\x7fELF`.
    BadMagic,
    /// An ELF64 file.
    Elf64,
    /// An ELF class other than 32 or 64 bits.
    BadClass {
        /// `e_ident[EI_CLASS]`.
        class: u8,
    },
    /// Not little-endian.
    NotLittleEndian {
        /// `e_ident[EI_DATA]`.
        data: u8,
    },
    /// `e_ident[EI_VERSION]` or `e_version` is not 1.
    BadVersion,
    /// `ET_DYN`: a position-independent executable or shared object.
    Dynamic,
    /// Some other file type (relocatable, core, ...).
    NotExecutable {
        /// `e_type`.
        e_type: u16,
    },
    /// Not for the i386.
    WrongMachine {
        /// `e_machine`.
        machine: u16,
    },
    /// `e_phentsize` is not 32.
    BadProgramHeaderSize {
        /// `e_phentsize`.
        size: u16,
    },
    /// No program headers.
    NoProgramHeaders,
    /// More than [`MAX_PROGRAM_HEADERS`] program headers.
    TooManyProgramHeaders {
        /// `e_phnum`.
        count: u16,
    },
    /// The program header table does not fit in the file.
    ProgramHeadersOutsideFile {
        /// `e_phoff`.
        offset: u32,
        /// `e_phnum`.
        count: u16,
        /// The file's length.
        len: usize,
    },
    /// A `PT_INTERP` header: the program wants a dynamic linker.
    Interpreter,
    /// A `PT_DYNAMIC` header: the program needs dynamic relocation.
    DynamicSection,
    /// More than [`MAX_LOAD_SEGMENTS`] `PT_LOAD` headers.
    TooManyLoadSegments {
        /// How many there are.
        count: usize,
    },
    /// No non-empty `PT_LOAD` segment.
    NoLoadSegments,
    /// `p_filesz > p_memsz`.
    FileSizeExceedsMemSize {
        /// Program header index.
        index: usize,
        /// `p_filesz`.
        filesz: u32,
        /// `p_memsz`.
        memsz: u32,
    },
    /// The segment's file bytes are not inside the file.
    SegmentOutsideFile {
        /// Program header index.
        index: usize,
        /// `p_offset`.
        offset: u32,
        /// `p_filesz`.
        filesz: u32,
        /// The file's length.
        len: usize,
    },
    /// `p_vaddr` and `p_offset` differ modulo the page size.
    Misaligned {
        /// Program header index.
        index: usize,
        /// `p_vaddr`.
        vaddr: u32,
        /// `p_offset`.
        offset: u32,
    },
    /// A segment on page 0 that is neither Phantom's metadata page nor code (only
    /// those two may be there).
    SegmentOnPageZero {
        /// Program header index.
        index: usize,
        /// `p_vaddr`.
        vaddr: u32,
    },
    /// The segment leaves the user load range (`[LOAD_START, LOAD_END)`).
    SegmentOutsideUserRange {
        /// Program header index.
        index: usize,
        /// `p_vaddr`.
        vaddr: u32,
        /// `p_memsz`.
        memsz: u32,
    },
    /// Two segments share a page.
    SegmentsOverlap {
        /// Program header index of one.
        first: usize,
        /// Program header index of the other.
        second: usize,
    },
    /// The segments cover more than [`MAX_IMAGE_BYTES`].
    ImageTooLarge {
        /// Bytes of pages covered.
        bytes: u64,
    },
    /// The entry point is not inside an executable segment.
    EntryNotExecutable {
        /// `e_entry`.
        entry: u32,
    },
}

impl ElfError {
    /// The errno of every validation failure.
    pub fn errno(&self) -> crate::errno::Errno {
        crate::errno::Errno::ENOEXEC
    }
}

impl fmt::Display for ElfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ElfError::Truncated { len } => {
                write!(f, "truncated: {len} bytes, shorter than an ELF32 header")
            }
            ElfError::BadMagic => f.write_str("not an ELF file (bad magic)"),
            ElfError::Elf64 => f.write_str("ELF64 file: only ELF32 i386 executables run"),
            ElfError::BadClass { class } => write!(f, "unknown ELF class {class}"),
            ElfError::NotLittleEndian { data } => {
                write!(f, "not little-endian (EI_DATA {data})")
            }
            ElfError::BadVersion => f.write_str("unknown ELF version"),
            ElfError::Dynamic => {
                f.write_str("ET_DYN (PIE or shared object): only static ET_EXEC runs")
            }
            ElfError::NotExecutable { e_type } => {
                write!(f, "ELF type {e_type} is not an executable (ET_EXEC)")
            }
            ElfError::WrongMachine { machine } => {
                write!(f, "wrong machine {machine} (only EM_386 = 3)")
            }
            ElfError::BadProgramHeaderSize { size } => {
                write!(f, "program header size {size} (expected {SIZEOF_PHDR})")
            }
            ElfError::NoProgramHeaders => f.write_str("no program headers"),
            ElfError::TooManyProgramHeaders { count } => {
                write!(
                    f,
                    "{count} program headers (at most {MAX_PROGRAM_HEADERS})"
                )
            }
            ElfError::ProgramHeadersOutsideFile { offset, count, len } => write!(
                f,
                "program header table ({count} at offset {offset:#x}) outside the file of {len} bytes"
            ),
            ElfError::Interpreter => {
                f.write_str("PT_INTERP: dynamically linked (no interpreter support)")
            }
            ElfError::DynamicSection => {
                f.write_str("PT_DYNAMIC: needs dynamic relocation (only static executables run)")
            }
            ElfError::TooManyLoadSegments { count } => {
                write!(f, "{count} PT_LOAD segments (at most {MAX_LOAD_SEGMENTS})")
            }
            ElfError::NoLoadSegments => f.write_str("no loadable segment"),
            ElfError::FileSizeExceedsMemSize {
                index,
                filesz,
                memsz,
            } => write!(
                f,
                "segment {index}: p_filesz {filesz:#x} larger than p_memsz {memsz:#x}"
            ),
            ElfError::SegmentOutsideFile {
                index,
                offset,
                filesz,
                len,
            } => write!(
                f,
                "segment {index}: file bytes {offset:#x}+{filesz:#x} outside the file of {len} bytes"
            ),
            ElfError::Misaligned {
                index,
                vaddr,
                offset,
            } => write!(
                f,
                "segment {index}: p_vaddr {vaddr:#x} and p_offset {offset:#x} differ modulo the page size"
            ),
            ElfError::SegmentOnPageZero { index, vaddr } => {
                write!(f, "segment {index}: at {vaddr:#x}, on page 0 (only metadata or code may be there)")
            }
            ElfError::SegmentOutsideUserRange {
                index,
                vaddr,
                memsz,
            } => write!(
                f,
                "segment {index}: {vaddr:#x}+{memsz:#x} outside the user load range {LOAD_START:#x}..{LOAD_END:#x}"
            ),
            ElfError::SegmentsOverlap { first, second } => {
                write!(f, "segments {first} and {second} overlap (share a page)")
            }
            ElfError::ImageTooLarge { bytes } => write!(
                f,
                "segments cover {bytes:#x} bytes (at most {MAX_IMAGE_BYTES:#x}): huge p_memsz"
            ),
            ElfError::EntryNotExecutable { entry } => {
                write!(f, "entry point {entry:#x} is not in an executable segment")
            }
        }
    }
}

impl core::error::Error for ElfError {}

/// Where the bytes of one page of a segment come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageSource {
    /// All 4096 bytes are file bytes from `file_offset` (page-aligned in the file):
    /// the page can share the file's page.
    File {
        /// File offset of the page's first byte.
        file_offset: u32,
    },
    /// The first `len` bytes come from the file at `file_offset`, the rest is zero
    /// (the page where the file data ends and `.bss` begins).
    Partial {
        /// File offset of the page's first byte.
        file_offset: u32,
        /// File bytes at the start of the page (`0 < len < 4096`).
        len: u32,
    },
    /// All zero (`.bss`).
    Zero,
}

/// One loadable segment, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// Index of its program header.
    pub index: usize,
    /// `p_vaddr`.
    pub vaddr: u32,
    /// `p_memsz` (> 0).
    pub memsz: u32,
    /// `p_offset`.
    pub offset: u32,
    /// `p_filesz`.
    pub filesz: u32,
    /// Access rights (from `p_flags`).
    pub perms: Perms,
}

// The values are u32s widened to u64, so sums and products by PAGE cannot overflow;
// saturating operations keep even a hand-built, unvalidated `Segment` panic-free.
impl Segment {
    /// First virtual page.
    pub fn first_page(&self) -> u64 {
        u64::from(self.vaddr) / PAGE
    }

    /// Exclusive end page.
    pub fn end_page(&self) -> u64 {
        u64::from(self.vaddr)
            .saturating_add(u64::from(self.memsz))
            .div_ceil(PAGE)
    }

    /// Number of pages.
    pub fn pages(&self) -> u64 {
        self.end_page().saturating_sub(self.first_page())
    }

    /// Exclusive end of the virtual bytes that come from the file
    /// (`p_vaddr + p_filesz`).
    pub fn data_end(&self) -> u64 {
        u64::from(self.vaddr).saturating_add(u64::from(self.filesz))
    }

    /// Where page `i` of the segment (`0 ≤ i < pages`) gets its bytes. The bytes of the
    /// first page below `p_vaddr` are the file bytes before `p_offset`, as in Linux; the
    /// bytes after `p_vaddr + p_filesz` are zero.
    pub fn page_source(&self, i: u64) -> PageSource {
        let page_va = self.first_page().saturating_add(i).saturating_mul(PAGE);
        let data_end = self.data_end();
        if self.filesz == 0 || page_va >= data_end {
            return PageSource::Zero;
        }
        // Validated: `offset ≡ vaddr (mod PAGE)`, hence `offset ≥ vaddr % PAGE`.
        let file_start = u64::from(self.offset).saturating_sub(u64::from(self.vaddr) % PAGE);
        let file_offset = file_start.saturating_add(i.saturating_mul(PAGE));
        let file_offset = u32::try_from(file_offset).unwrap_or(u32::MAX);
        if page_va.saturating_add(PAGE) <= data_end {
            PageSource::File { file_offset }
        } else {
            PageSource::Partial {
                file_offset,
                // < PAGE here.
                len: data_end.saturating_sub(page_va) as u32,
            }
        }
    }
}

/// A validated executable: what to map where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadPlan {
    /// `e_entry`.
    pub entry: u32,
    /// The non-empty `PT_LOAD` segments, sorted by address, pairwise page-disjoint.
    pub segments: Vec<Segment>,
    /// An executable segment starts on page 0: the process has no null guard.
    pub page_zero_mapped: bool,
    /// The program header index of a page-0 metadata segment that was skipped.
    pub skipped_header_segment: Option<usize>,
}

impl LoadPlan {
    /// The page-aligned end of the highest segment: where the heap (break) starts.
    pub fn image_end(&self) -> u32 {
        let end = self.segments.iter().map(Segment::end_page).max();
        // Every segment ends at most at LOAD_END < 4 GiB.
        end.map_or(LOAD_START, |p| {
            u32::try_from(p.saturating_mul(PAGE)).unwrap_or(LOAD_END)
        })
    }

    /// Pages covered by all segments.
    pub fn total_pages(&self) -> u64 {
        self.segments
            .iter()
            .map(Segment::pages)
            .fold(0, u64::saturating_add)
    }
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    let end = at.checked_add(2)?;
    let s = b.get(at..end)?;
    Some(u16::from_le_bytes([*s.first()?, *s.get(1)?]))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    let end = at.checked_add(4)?;
    let s: [u8; 4] = b.get(at..end)?.try_into().ok()?;
    Some(u32::from_le_bytes(s))
}

/// Read the ELF32 header (the caller checked `len ≥ SIZEOF_EHDR`).
fn read_header(b: &[u8]) -> Option<Header> {
    let mut e_ident = [0u8; SIZEOF_IDENT];
    e_ident.copy_from_slice(b.get(..SIZEOF_IDENT)?);
    Some(Header {
        e_ident,
        e_type: u16_at(b, 16)?,
        e_machine: u16_at(b, 18)?,
        e_version: u32_at(b, 20)?,
        e_entry: u32_at(b, 24)?,
        e_phoff: u32_at(b, 28)?,
        e_shoff: u32_at(b, 32)?,
        e_flags: u32_at(b, 36)?,
        e_ehsize: u16_at(b, 40)?,
        e_phentsize: u16_at(b, 42)?,
        e_phnum: u16_at(b, 44)?,
        e_shentsize: u16_at(b, 46)?,
        e_shnum: u16_at(b, 48)?,
        e_shstrndx: u16_at(b, 50)?,
    })
}

/// Read the program header at byte offset `at` (bounds checked).
fn read_phdr(b: &[u8], at: usize) -> Option<ProgramHeader> {
    let f = |i: usize| u32_at(b, at.checked_add(i)?);
    Some(ProgramHeader {
        p_type: f(0)?,
        p_offset: f(4)?,
        p_vaddr: f(8)?,
        p_paddr: f(12)?,
        p_filesz: f(16)?,
        p_memsz: f(20)?,
        p_flags: f(24)?,
        p_align: f(28)?,
    })
}

fn perms_of(flags: u32) -> Perms {
    let mut p = Perms::empty();
    if flags & PF_R != 0 {
        p |= Perms::READ;
    }
    if flags & PF_W != 0 {
        p |= Perms::WRITE;
    }
    if flags & PF_X != 0 {
        p |= Perms::EXEC;
    }
    p
}

/// Validate the ELF header: an ELF32 little-endian i386 `ET_EXEC`.
fn check_header(bytes: &[u8]) -> Result<Header, ElfError> {
    let len = bytes.len();
    if bytes.get(..ELFMAG.len()) != Some(ELFMAG.as_slice()) {
        return Err(if len < ELFMAG.len() {
            ElfError::Truncated { len }
        } else {
            ElfError::BadMagic
        });
    }
    match bytes.get(EI_CLASS).copied() {
        Some(ELFCLASS32) => {}
        Some(ELFCLASS64) => return Err(ElfError::Elf64),
        Some(class) => return Err(ElfError::BadClass { class }),
        None => return Err(ElfError::Truncated { len }),
    }
    let h = match read_header(bytes) {
        Some(h) if len >= SIZEOF_EHDR => h,
        _ => return Err(ElfError::Truncated { len }),
    };
    let data = h.e_ident.get(EI_DATA).copied().unwrap_or(0);
    if data != ELFDATA2LSB {
        return Err(ElfError::NotLittleEndian { data });
    }
    if h.e_ident.get(EI_VERSION).copied() != Some(EV_CURRENT) || h.e_version != 1 {
        return Err(ElfError::BadVersion);
    }
    match h.e_type {
        ET_EXEC => {}
        ET_DYN => return Err(ElfError::Dynamic),
        e_type => return Err(ElfError::NotExecutable { e_type }),
    }
    if h.e_machine != EM_386 {
        return Err(ElfError::WrongMachine {
            machine: h.e_machine,
        });
    }
    if usize::from(h.e_phentsize) != SIZEOF_PHDR {
        return Err(ElfError::BadProgramHeaderSize {
            size: h.e_phentsize,
        });
    }
    if h.e_phnum == 0 {
        return Err(ElfError::NoProgramHeaders);
    }
    if h.e_phnum > MAX_PROGRAM_HEADERS {
        return Err(ElfError::TooManyProgramHeaders { count: h.e_phnum });
    }
    let table_end = usize::from(h.e_phnum)
        .checked_mul(SIZEOF_PHDR)
        .and_then(|n| n.checked_add(h.e_phoff as usize));
    if table_end.is_none_or(|end| end > len) {
        return Err(ElfError::ProgramHeadersOutsideFile {
            offset: h.e_phoff,
            count: h.e_phnum,
            len,
        });
    }
    Ok(h)
}

/// Validate one `PT_LOAD` header; `Ok(None)` for an empty one (`p_memsz == 0`).
fn check_load(index: usize, ph: &ProgramHeader, len: usize) -> Result<Option<Segment>, ElfError> {
    if ph.p_filesz > ph.p_memsz {
        return Err(ElfError::FileSizeExceedsMemSize {
            index,
            filesz: ph.p_filesz,
            memsz: ph.p_memsz,
        });
    }
    // An empty file range (a segment that is all .bss) reads nothing from the file.
    let file_end = u64::from(ph.p_offset).checked_add(u64::from(ph.p_filesz));
    if ph.p_filesz > 0 && file_end.is_none_or(|e| e > len as u64) {
        return Err(ElfError::SegmentOutsideFile {
            index,
            offset: ph.p_offset,
            filesz: ph.p_filesz,
            len,
        });
    }
    if u64::from(ph.p_vaddr) % PAGE != u64::from(ph.p_offset) % PAGE {
        return Err(ElfError::Misaligned {
            index,
            vaddr: ph.p_vaddr,
            offset: ph.p_offset,
        });
    }
    if ph.p_memsz == 0 {
        return Ok(None);
    }
    // Both are u32: the sum fits a u64. Page 0 is decided by `validate`.
    let end = u64::from(ph.p_vaddr).saturating_add(u64::from(ph.p_memsz));
    if end > u64::from(LOAD_END) {
        return Err(ElfError::SegmentOutsideUserRange {
            index,
            vaddr: ph.p_vaddr,
            memsz: ph.p_memsz,
        });
    }
    Ok(Some(Segment {
        index,
        vaddr: ph.p_vaddr,
        memsz: ph.p_memsz,
        offset: ph.p_offset,
        filesz: ph.p_filesz,
        perms: perms_of(ph.p_flags),
    }))
}

/// Validate `bytes` as an executable and plan its loading. Never panics.
pub fn validate(bytes: &[u8]) -> Result<LoadPlan, ElfError> {
    let h = check_header(bytes)?;
    let len = bytes.len();
    let mut segments: Vec<Segment> = Vec::new();
    let mut loads = 0usize;
    // The end of the file's metadata: the ELF header, the program header table and
    // any notes (checked in bounds by `check_header`; notes only widen it).
    let table_end = u64::from(h.e_phoff)
        .saturating_add(u64::from(h.e_phnum).saturating_mul(SIZEOF_PHDR as u64));
    let mut meta_end = table_end.max(SIZEOF_EHDR as u64);
    for index in 0..usize::from(h.e_phnum) {
        let at = index
            .checked_mul(SIZEOF_PHDR)
            .and_then(|o| o.checked_add(h.e_phoff as usize));
        let ph =
            at.and_then(|at| read_phdr(bytes, at))
                .ok_or(ElfError::ProgramHeadersOutsideFile {
                    offset: h.e_phoff,
                    count: h.e_phnum,
                    len,
                })?;
        match ph.p_type {
            PT_INTERP => return Err(ElfError::Interpreter),
            PT_DYNAMIC => return Err(ElfError::DynamicSection),
            PT_NOTE => {
                let end = u64::from(ph.p_offset).saturating_add(u64::from(ph.p_filesz));
                if end <= len as u64 {
                    meta_end = meta_end.max(end);
                }
            }
            PT_LOAD => {
                loads = loads.saturating_add(1);
                if loads > MAX_LOAD_SEGMENTS {
                    return Err(ElfError::TooManyLoadSegments { count: loads });
                }
                if let Some(s) = check_load(index, &ph, len)? {
                    segments.push(s);
                }
            }
            _ => {}
        }
    }
    let entry = h.e_entry;
    let holds_entry = |s: &Segment| {
        entry >= s.vaddr && u64::from(entry) < u64::from(s.vaddr).saturating_add(u64::from(s.memsz))
    };
    let mut skipped_header_segment = None;
    let mut page_zero_mapped = false;
    let mut kept = Vec::new();
    for s in segments {
        if s.first_page() != 0 {
            kept.push(s);
            continue;
        }
        let metadata_only = !s.perms.intersects(Perms::WRITE | Perms::EXEC)
            && !holds_entry(&s)
            && s.memsz == s.filesz
            && s.end_page() == 1
            && u64::from(s.offset).saturating_add(u64::from(s.filesz)) <= meta_end;
        if metadata_only && skipped_header_segment.is_none() {
            skipped_header_segment = Some(s.index);
        } else if s.perms.contains(Perms::EXEC) {
            page_zero_mapped = true;
            kept.push(s);
        } else {
            return Err(ElfError::SegmentOnPageZero {
                index: s.index,
                vaddr: s.vaddr,
            });
        }
    }
    let mut segments = kept;
    if segments.is_empty() {
        return Err(ElfError::NoLoadSegments);
    }
    segments.sort_by_key(|s| s.vaddr);
    for pair in segments.windows(2) {
        if let [a, b] = pair {
            if a.end_page() > b.first_page() {
                return Err(ElfError::SegmentsOverlap {
                    first: a.index,
                    second: b.index,
                });
            }
        }
    }
    let bytes_covered = segments
        .iter()
        .map(|s| s.pages().saturating_mul(PAGE))
        .fold(0u64, u64::saturating_add);
    if bytes_covered > MAX_IMAGE_BYTES {
        return Err(ElfError::ImageTooLarge {
            bytes: bytes_covered,
        });
    }
    let in_text = segments
        .iter()
        .any(|s| s.perms.contains(Perms::EXEC) && holds_entry(s));
    if !in_text {
        return Err(ElfError::EntryNotExecutable { entry });
    }
    Ok(LoadPlan {
        entry,
        segments,
        page_zero_mapped,
        skipped_header_segment,
    })
}
