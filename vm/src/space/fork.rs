//! Fork: a child address space with the parent's mappings, private pages shared
//! copy-on-write.

use super::*;

impl AddressSpace {
    /// Fork: a child address space with the same mappings. Private ranges get fresh
    /// persistent windows in the child (same offsets inside them) whose pages share the
    /// parent's frames (frame reference counts go up, O(resident pages)); writable
    /// private ranges become copy-on-write in both; the parent's writable PTEs are
    /// write-protected and its TLB flushed. Object and guard ranges are shared as is.
    /// The child's page tables start empty.
    pub fn fork<M: Machine + ?Sized>(
        &mut self,
        ps: &mut PersistentSpace,
        m: &mut M,
    ) -> Result<AddressSpace, VmError> {
        let upper = self.table.kernel_upper(m);
        let child_table = PageTable::new(m, &upper)?;
        // One fresh child window per parent window (all of them are in use).
        let mut wmap: BTreeMap<Ppn, Ppn> = BTreeMap::new();
        for (ws, wl) in self.windows.iter() {
            match ps.reserve_window(wl) {
                Ok(c) => {
                    wmap.insert(ws, c);
                }
                Err(e) => {
                    child_table.destroy(m);
                    return Err(e.into());
                }
            }
        }
        let rebase = |base: Ppn| -> Option<Ppn> {
            let (&ws, &cs) = wmap.range(..=base).next_back()?;
            Some(cs + (base - ws))
        };
        // Every private range is rebased onto the child's windows (the child owns its
        // pages); a base that does not fit is an error and changes nothing.
        let child_remap = match self
            .remap
            .try_fork_copy(|r| rebase(r.mapping.base).unwrap_or(u64::MAX))
        {
            Ok(c) => c,
            Err(e) => {
                child_table.destroy(m);
                return Err(e.into());
            }
        };
        let child_windows =
            Windows::from_list(wmap.iter().map(|(ws, cs)| (*cs, self.windows.len_of(*ws))));
        let child = AddressSpace {
            remap: child_remap,
            windows: child_windows,
            table: child_table,
        };
        // Share contents, then write-protect the parent's writable PTEs.
        let mut fl = Flusher::new();
        let private: Vec<Range> = self
            .remap
            .iter()
            .filter(|r| r.mapping.kind == Kind::Anon)
            .collect();
        for r in &private {
            let shared = rebase(r.mapping.base)
                .ok_or(VmError::Inconsistent(PersistError::NotResident(
                    r.mapping.base,
                )))
                .and_then(|cb| Ok(ps.share_range(r.mapping.base, cb, r.pages)?));
            if let Err(e) = shared {
                fl.finish(m, self.table.root());
                child.destroy(ps, m);
                return Err(e);
            }
            if r.mapping.perms.contains(Perms::WRITE) {
                self.table
                    .write_protect_range(m, r.start, r.pages, |va, _| fl.add(va));
            }
        }
        fl.finish(m, self.table.root());
        Ok(child)
    }
}
