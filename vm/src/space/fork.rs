//! Fork: a child address space with the parent's mappings, in O(windows + ranges):
//! every private window is frozen as a copy-on-write layer that parent and child see
//! through (see `crate::persistent` layers), and the parent's page tables are made
//! read-only at the top level in one entry.

use super::*;

impl AddressSpace {
    /// Fork: a child address space with the same mappings. Each private window's
    /// contents become a frozen layer both spaces see through: the parent's window
    /// keeps its numbers, the child gets a window of the same length, and every
    /// private range (in both) becomes copy-on-write — a write copies the page into
    /// the writer's own window. No page is touched and no frame count changes: the cost
    /// is O(windows + ranges), whatever the parent has touched. The parent's user half
    /// is write-protected at the root (one entry; the protection moves down lazily as
    /// it writes) and its TLB flushed. Object and guard ranges are shared as they are.
    /// The child's page tables start empty.
    pub fn fork<M: Machine + ?Sized>(
        &mut self,
        ps: &mut PersistentSpace,
        m: &mut M,
    ) -> Result<AddressSpace, VmError> {
        let plan = ps.plan_fork(self.windows.iter())?;
        let mut child_windows: Vec<(Ppn, u64)> = Vec::new();
        child_windows
            .try_reserve_exact(self.windows.0.len())
            .map_err(|_| VmError::OutOfMemory)?;
        child_windows.extend(plan.child_windows());
        let upper = self.table.kernel_upper(m);
        let child_table = PageTable::new(m, &upper)?;
        let child_remap = match self
            .remap
            .try_fork_copy(|r| plan.child_page(r.mapping.base).unwrap_or(u64::MAX))
        {
            Ok(c) => c,
            Err(e) => {
                child_table.destroy(m);
                return Err(e.into());
            }
        };
        if let Err(e) = ps.commit_fork(&plan) {
            // Nothing reserves numbers between the plan and here.
            log::error!("fork: {e}");
            child_table.destroy(m);
            return Err(VmError::Inconsistent(e));
        }
        if self.table.write_protect_user(m) {
            m.flush_all(self.table.root());
        }
        Ok(AddressSpace {
            remap: child_remap,
            windows: Windows(child_windows),
            table: child_table,
        })
    }
}
