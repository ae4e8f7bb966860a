//! [`UserSpace`]: an address space lent to the Unix layer for one system call —
//! the operations a memory call and a user copy need, and nothing that reaches
//! physical memory. It bundles the address space, the persistent space and the
//! machine behind private fields: code holding a `UserSpace` can map, unmap,
//! protect, grow and copy through the remap table, but cannot write an
//! arbitrary physical address (it never sees the [`Machine`]). Only the kernel,
//! which owns the machine, makes one ([`UserSpace::new`]).

use super::*;

/// See the module documentation.
pub struct UserSpace<'a> {
    space: &'a mut AddressSpace,
    ps: &'a mut PersistentSpace,
    m: &'a mut dyn Machine,
}

impl<'a> UserSpace<'a> {
    /// Lend `space` with the shared persistent space and the machine.
    #[inline]
    pub fn new(
        space: &'a mut AddressSpace,
        ps: &'a mut PersistentSpace,
        m: &'a mut dyn Machine,
    ) -> UserSpace<'a> {
        UserSpace { space, ps, m }
    }

    /// The remap table (read-only).
    #[inline]
    pub fn remap(&self) -> &RemapTable {
        self.space.remap()
    }

    /// The address space (read-only: its windows, resident pages, audit).
    #[inline]
    pub fn space(&self) -> &AddressSpace {
        self.space
    }

    /// [`AddressSpace::map_anon`].
    #[inline]
    pub fn map_anon(&mut self, start: Vpn, pages: u64, perms: Perms) -> Result<(), VmError> {
        self.space.map_anon(self.ps, start, pages, perms)
    }

    /// [`AddressSpace::map_anon_growable`].
    #[inline]
    pub fn map_anon_growable(
        &mut self,
        start: Vpn,
        pages: u64,
        perms: Perms,
        room: Growth,
    ) -> Result<(), VmError> {
        self.space
            .map_anon_growable(self.ps, start, pages, perms, room)
    }

    /// [`AddressSpace::map_guard`].
    #[inline]
    pub fn map_guard(&mut self, start: Vpn, pages: u64) -> Result<(), VmError> {
        self.space.map_guard(start, pages)
    }

    /// [`AddressSpace::unmap`].
    #[inline]
    pub fn unmap(&mut self, start: Vpn, pages: u64) -> Result<u64, VmError> {
        self.space.unmap(self.ps, self.m, start, pages)
    }

    /// [`AddressSpace::protect`].
    #[inline]
    pub fn protect(&mut self, start: Vpn, pages: u64, perms: Perms) -> Result<(), VmError> {
        self.space.protect(self.m, start, pages, perms)
    }

    /// [`AddressSpace::grow_up`].
    #[inline]
    pub fn grow_up(&mut self, start: Vpn, extra: u64) -> Result<Range, VmError> {
        self.space.grow_up(self.ps, start, extra)
    }

    /// [`AddressSpace::grow_up_behind_guard`].
    #[inline]
    pub fn grow_up_behind_guard(
        &mut self,
        guard: Vpn,
        extra: u64,
        limit: Vpn,
        accept: impl FnOnce(&Range) -> bool,
    ) -> Result<Range, VmError> {
        self.space
            .grow_up_behind_guard(self.ps, guard, extra, limit, accept)
    }

    /// [`AddressSpace::grow_down_to`].
    #[inline]
    pub fn grow_down_to(&mut self, holding: Vpn, new_start: Vpn) -> Result<Range, VmError> {
        self.space.grow_down_to(self.ps, holding, new_start)
    }

    /// Drop the contents of `part`, a piece of one of this space's private
    /// ranges (`madvise(MADV_DONTNEED)`): its PTEs are invalidated and flushed,
    /// then its pages go back to Zero and read as zero on the next touch. The
    /// mapping stays. Returns how many pages were not Zero; `ForeignPage` when
    /// `part` is not private memory of this space.
    pub fn discard_contents(&mut self, part: &Range) -> Result<u64, VmError> {
        if part.mapping.kind != Kind::Anon {
            return Err(VmError::NotGrowable { start: part.start });
        }
        self.own_page(part.mapping.base)?;
        Ok(self
            .space
            .discard(self.ps, self.m, core::slice::from_ref(part)))
    }

    /// [`PersistentSpace::share`]: the Zero persistent page `dst` (one of this
    /// space's window pages, e.g. a freshly mapped segment) shares `src`'s frame
    /// (an image page). Returns whether `src` was resident; `ForeignPage` when
    /// `dst` is not this space's.
    #[inline]
    pub fn share_page(&mut self, src: Ppn, dst: Ppn) -> Result<bool, VmError> {
        self.own_page(dst)?;
        Ok(self.ps.share(src, dst)?)
    }

    /// [`PersistentSpace::fill_page`]: the Zero persistent page `ppn` gets `data`
    /// in a fresh frame. Returns whether a frame was allocated; `ForeignPage`
    /// when `ppn` is not this space's.
    #[inline]
    pub fn fill_page(&mut self, ppn: Ppn, data: &[u8]) -> Result<bool, VmError> {
        self.own_page(ppn)?;
        Ok(self.ps.fill_page(self.m, ppn, data)?)
    }

    /// `Ok` when persistent page `ppn` lies in one of this space's windows.
    fn own_page(&self, ppn: Ppn) -> Result<(), VmError> {
        match self.space.window_of(ppn) {
            Some(_) => Ok(()),
            None => Err(VmError::ForeignPage { ppn }),
        }
    }

    /// [`AddressSpace::read_user`].
    #[inline]
    pub fn read_user(&mut self, vaddr: u64, buf: &mut [u8]) -> Result<(), Segv> {
        self.space.read_user(self.ps, self.m, vaddr, buf)
    }

    /// [`AddressSpace::write_user`].
    #[inline]
    pub fn write_user(&mut self, vaddr: u64, data: &[u8]) -> Result<(), Segv> {
        self.space.write_user(self.ps, self.m, vaddr, data)
    }
}
