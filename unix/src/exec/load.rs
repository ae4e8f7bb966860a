//! Mapping a validated [`LoadPlan`] into an [`AddressSpace`].
//!
//! Every segment becomes one private (anonymous) range with the segment's rights and
//! no growth room. Its pages get their contents without touching page tables:
//!
//! - a page made only of file bytes **shares the image's persistent page** when the
//!   image lives in the persistent space ([`ExecImage::persistent_page`]; see
//!   [`PersistentImage`]): the range's persistent page becomes resident in the same
//!   frame (`PersistentSpace::share`), so the frame's count is > 1, the page is mapped
//!   read-only on a fault, and the first write copies it (the fault path's
//!   copy-on-write) — nothing is copied at load time;
//! - the page where the file data ends and `.bss` begins gets a fresh frame with the
//!   file bytes and a zero tail (copied: the tail must read as zero); a segment's
//!   last page with no `.bss` is shared like a full one when the whole page lies in
//!   the file (the bytes past `p_filesz` then show the following file bytes, as in
//!   Linux — never bytes from beyond the file);
//! - `.bss` pages stay Zero: a fault fills them lazily;
//! - for an image that is not in the persistent space (a plain byte slice), the
//!   file-backed pages are copied eagerly into fresh frames (all-zero pages stay Zero).

use super::elf::{LoadPlan, PageSource};
use super::layout::PAGE;
use alloc::vec::Vec;
use core::fmt;
use vm::remap::{Ppn, Vpn};
use vm::{Growth, Machine, PersistentSpace, PhysFrame, UserSpace, VmError};

/// The bytes of an executable and, optionally, where its pages live in the persistent
/// space.
pub trait ExecImage {
    /// The file's bytes.
    fn bytes(&self) -> &[u8];

    /// The persistent page holding file bytes `[i * 4096, (i + 1) * 4096)`, if the file
    /// lives page-aligned in the persistent space. Only asked for pages that lie
    /// entirely inside the file.
    fn persistent_page(&self, _i: u64) -> Option<Ppn> {
        None
    }
}

impl ExecImage for [u8] {
    fn bytes(&self) -> &[u8] {
        self
    }
}

impl ExecImage for &[u8] {
    fn bytes(&self) -> &[u8] {
        self
    }
}

/// An executable whose pages are persistent pages `[base, base + pages)` (file page
/// `i` is page `base + i`), so processes can share them copy-on-write.
///
/// The image holds one reference to each of its resident frames for ever (it is
/// never released), so a frame registered with [`PersistentImage::from_frames`] — a
/// boot module's own memory — is never handed to the frame allocator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PersistentImage<'a> {
    bytes: &'a [u8],
    base: Ppn,
}

impl<'a> PersistentImage<'a> {
    /// Number of pages `len` bytes occupy.
    fn pages_of(len: usize) -> u64 {
        (len as u64).div_ceil(PAGE)
    }

    /// Register an image that is already in memory: `frames` are the frames holding
    /// `bytes` (frame `i` holds bytes `[i * 4096, ...)`; a boot module loaded at a
    /// page-aligned address). Reserves persistent pages for it and makes them
    /// resident in those frames. Extra frames are ignored; missing ones leave the
    /// pages Zero (they then read as zeros, so supply all of them).
    pub fn from_frames(
        ps: &mut PersistentSpace,
        bytes: &'a [u8],
        frames: impl IntoIterator<Item = PhysFrame>,
    ) -> Result<PersistentImage<'a>, VmError> {
        let pages = Self::pages_of(bytes.len()).max(1);
        let base = ps.reserve_window(pages)?;
        for (i, f) in (0..pages).zip(frames) {
            ps.make_resident(base + i, f)?;
        }
        Ok(PersistentImage { bytes, base })
    }

    /// Copy `bytes` into fresh frames (for an image that is not page-aligned in
    /// memory, and for host tests). All-zero pages stay Zero.
    pub fn copy_in<M: Machine + ?Sized>(
        ps: &mut PersistentSpace,
        m: &mut M,
        bytes: &'a [u8],
    ) -> Result<PersistentImage<'a>, VmError> {
        let pages = Self::pages_of(bytes.len()).max(1);
        let base = ps.reserve_window(pages)?;
        for (i, chunk) in bytes.chunks(PAGE as usize).enumerate() {
            ps.fill_page(m, base + i as u64, chunk)?;
        }
        Ok(PersistentImage { bytes, base })
    }

    /// An image registered before (e.g. after a restore): `bytes` at persistent pages
    /// from `base`.
    pub fn from_parts(bytes: &'a [u8], base: Ppn) -> PersistentImage<'a> {
        PersistentImage { bytes, base }
    }

    /// The first persistent page.
    pub fn base(&self) -> Ppn {
        self.base
    }

    /// Number of persistent pages.
    pub fn pages(&self) -> u64 {
        Self::pages_of(self.bytes.len())
    }
}

impl ExecImage for PersistentImage<'_> {
    fn bytes(&self) -> &[u8] {
        self.bytes
    }
    fn persistent_page(&self, i: u64) -> Option<Ppn> {
        (i < self.pages()).then(|| self.base + i)
    }
}

/// What loading did, in pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoadStats {
    /// File pages shared with the image (copy-on-write).
    pub shared: u64,
    /// Pages given a fresh frame with copied bytes.
    pub copied: u64,
    /// Pages left Zero (`.bss`, or all-zero file bytes).
    pub zero: u64,
}

/// Why loading failed (after validation succeeded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadError {
    /// The address space refused a mapping (not empty where the image goes, or out
    /// of persistent page numbers).
    Vm(VmError),
    /// No frame for a page.
    OutOfMemory,
    /// The plan does not match the image's bytes (a plan validated for other bytes).
    PlanMismatch,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Vm(e) => write!(f, "mapping the image: {e}"),
            LoadError::OutOfMemory => f.write_str("out of memory loading the image"),
            LoadError::PlanMismatch => f.write_str("load plan does not match the image"),
        }
    }
}

impl From<VmError> for LoadError {
    fn from(e: VmError) -> Self {
        match e {
            VmError::OutOfMemory => LoadError::OutOfMemory,
            e => LoadError::Vm(e),
        }
    }
}

/// Map every segment of `plan` into `space` (which must have nothing mapped where
/// the segments go) with the contents of `image`, as the module documentation says.
/// On error, the segments mapped so far are unmapped again.
pub fn load(
    plan: &LoadPlan,
    image: &(impl ExecImage + ?Sized),
    us: &mut UserSpace<'_>,
) -> Result<LoadStats, LoadError> {
    let mut mapped: Vec<(Vpn, u64)> = Vec::new();
    let mut stats = LoadStats::default();
    let result = (|| {
        for seg in &plan.segments {
            let (start, pages) = (seg.first_page(), seg.pages());
            let none = Growth { below: 0, above: 0 };
            us.map_anon_growable(start, pages, seg.perms, none)?;
            mapped.push((start, pages));
            let base = us
                .remap()
                .translate(start)
                .map(|t| t.page)
                .ok_or(LoadError::PlanMismatch)?;
            for i in 0..pages {
                // (file offset, bytes from the file): a whole page may be shared.
                let (off, len) = match seg.page_source(i) {
                    PageSource::Zero => {
                        stats.zero += pages - i;
                        break;
                    }
                    PageSource::File { file_offset } => (file_offset as usize, PAGE as usize),
                    // The segment's last file page, with no .bss after its data: the
                    // rest of the page may show the following file bytes (as in
                    // Linux), so it can be shared when the whole page is in the file.
                    PageSource::Partial { file_offset, .. }
                        if seg.memsz == seg.filesz
                            && (file_offset as usize)
                                .checked_add(PAGE as usize)
                                .is_some_and(|end| end <= image.bytes().len()) =>
                    {
                        (file_offset as usize, PAGE as usize)
                    }
                    PageSource::Partial { file_offset, len } => {
                        (file_offset as usize, len as usize)
                    }
                };
                if len == PAGE as usize {
                    if let Some(src) = image.persistent_page(off as u64 / PAGE) {
                        if us.share_page(src, base + i)? {
                            stats.shared += 1;
                        } else {
                            stats.zero += 1;
                        }
                        continue;
                    }
                }
                let data = image
                    .bytes()
                    .get(off..off + len)
                    .ok_or(LoadError::PlanMismatch)?;
                if us.fill_page(base + i, data)? {
                    stats.copied += 1;
                } else {
                    stats.zero += 1;
                }
            }
        }
        Ok(())
    })();
    match result {
        Ok(()) => Ok(stats),
        Err(e) => {
            for (start, pages) in mapped {
                // Undo: the range exists (we mapped it), so this cannot fail.
                let _ = us.unmap(start, pages);
            }
            Err(e)
        }
    }
}
