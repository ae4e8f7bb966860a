//! User-address translation and the checked copies to and from user memory (what
//! a syscall's pointers go through).

use super::*;

impl AddressSpace {
    /// The physical address behind user address `vaddr` for `access`, resolving the
    /// fault first if the PTE does not allow it yet (so a syscall can touch a page the
    /// program never did). A write access breaks copy-on-write sharing. Valid until the
    /// next change to this address space.
    pub fn translate_user<M: Machine + ?Sized>(
        &mut self,
        ps: &mut PersistentSpace,
        m: &mut M,
        vaddr: u64,
        access: Access,
    ) -> Result<PhysAddr, Segv> {
        // The common case — the page is mapped with the rights asked for — stays
        // small and inline; resolving a fault is out of line.
        match self.translate_mapped(m, vaddr, access) {
            Some(pa) => Ok(pa),
            None => self.translate_after_fault(ps, m, vaddr, access),
        }
    }

    /// The physical address behind `vaddr` if its PTE allows `access` now.
    #[inline]
    fn translate_mapped<M: Machine + ?Sized>(
        &self,
        m: &M,
        vaddr: u64,
        access: Access,
    ) -> Option<PhysAddr> {
        let e = self.table.lookup(m, vaddr)?;
        entry_allows(e, access).then(|| PhysAddr(e.address().as_u64() + (vaddr & (PAGE_SIZE - 1))))
    }

    /// [`AddressSpace::translate_user`] when the PTE refuses: resolve the fault,
    /// then look again.
    #[cold]
    #[inline(never)]
    fn translate_after_fault<M: Machine + ?Sized>(
        &mut self,
        ps: &mut PersistentSpace,
        m: &mut M,
        vaddr: u64,
        access: Access,
    ) -> Result<PhysAddr, Segv> {
        for _ in 0..2 {
            self.resolve_fault(ps, m, vaddr, access)?;
            if let Some(pa) = self.translate_mapped(m, vaddr, access) {
                return Ok(pa);
            }
        }
        log::error!(
            "translate_user: fault at {vaddr:#x} resolved but PTE still refuses {access:?}"
        );
        Err(Segv {
            addr: vaddr,
            reason: SegvReason::OutOfMemory,
        })
    }

    /// Copy `buf.len()` bytes from user address `vaddr` (checked, faulting pages in).
    /// On error part of `buf` may have been filled.
    pub fn read_user<M: Machine + ?Sized>(
        &mut self,
        ps: &mut PersistentSpace,
        m: &mut M,
        vaddr: u64,
        buf: &mut [u8],
    ) -> Result<(), Segv> {
        let mut done = 0usize;
        while done < buf.len() {
            let va = vaddr.checked_add(done as u64).ok_or(Segv {
                addr: u64::MAX,
                reason: SegvReason::KernelAddress,
            })?;
            let pa = self.translate_user(ps, m, va, Access::Read)?;
            let n = ((PAGE_SIZE - pa.frame_offset()) as usize).min(buf.len() - done);
            m.read_bytes(pa, &mut buf[done..done + n]);
            done += n;
        }
        Ok(())
    }

    /// Copy `data` to user address `vaddr` (checked, faulting pages in, breaking
    /// copy-on-write). On error a prefix may have been written.
    pub fn write_user<M: Machine + ?Sized>(
        &mut self,
        ps: &mut PersistentSpace,
        m: &mut M,
        vaddr: u64,
        data: &[u8],
    ) -> Result<(), Segv> {
        let mut done = 0usize;
        while done < data.len() {
            let va = vaddr.checked_add(done as u64).ok_or(Segv {
                addr: u64::MAX,
                reason: SegvReason::KernelAddress,
            })?;
            let pa = self.translate_user(ps, m, va, Access::Write)?;
            let n = ((PAGE_SIZE - pa.frame_offset()) as usize).min(data.len() - done);
            m.write_bytes(pa, &data[done..done + n]);
            done += n;
        }
        Ok(())
    }
}
