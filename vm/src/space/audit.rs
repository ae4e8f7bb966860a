//! The audit: the page-table cache checked against the remap table and the
//! persistent space (tests and the kernel's self-checks).

use super::*;
use crate::persistent::Found;

impl AddressSpace {
    /// Check one cached translation (a PTE, or a TLB entry of an emulated machine)
    /// against the truth: `vaddr` must be mapped by an accessible non-guard range, its
    /// persistent page resident in `frame`, the translation user-accessible, writable
    /// only if the range allows writes and the frame is exclusive, executable exactly
    /// when the range is (or always, when the MMU has no NX: `nx` false). Returns why
    /// not.
    pub fn check_translation(
        &self,
        ps: &PersistentSpace,
        vaddr: u64,
        frame: PhysFrame,
        granted: Granted,
        nx: bool,
    ) -> Result<(), String> {
        let Granted {
            user,
            writable,
            executable,
        } = granted;
        let t = self
            .remap
            .translate(vaddr >> PAGE_SHIFT)
            .ok_or_else(|| format!("{vaddr:#x}: page not mapped"))?;
        if t.kind == Kind::Guard || t.perms.is_empty() {
            return Err(format!("{vaddr:#x}: inaccessible range {t:?}"));
        }
        let (f, own) = match ps.lookup(t.page).found {
            Found::Own(f) => (f, true),
            Found::Below(f) => (f, false),
            Found::Zero => return Err(format!("{vaddr:#x}: page {:#x} not resident", t.page)),
        };
        if f != frame {
            return Err(format!(
                "{vaddr:#x}: maps {frame:?} but page {:#x} is in {f:?}",
                t.page
            ));
        }
        if !user {
            return Err(format!("{vaddr:#x}: not user-accessible"));
        }
        if writable && !(t.perms.contains(Perms::WRITE) && own && ps.refcount(f) == 1) {
            return Err(format!(
                "{vaddr:#x}: writable but perms {:?}, own {own}, refcount {}",
                t.perms,
                ps.refcount(f)
            ));
        }
        if executable != LeafPerms::of(t.perms, false, nx).executable {
            return Err(format!(
                "{vaddr:#x}: executable={executable} but perms {:?}",
                t.perms
            ));
        }
        Ok(())
    }

    /// Check that the page tables are a faithful cache: every present leaf is allowed
    /// by the remap table (not a guard, some permission), points at the frame the
    /// persistent space holds for that page, is user-accessible, writable only if the
    /// range allows writes and the frame is exclusive, NX exactly when not executable,
    /// and the hardware walk agrees; and the reachable table frames match the count
    /// held. Returns a description of the first violation.
    pub fn audit<M: Machine + ?Sized>(
        &self,
        ps: &PersistentSpace,
        m: &M,
    ) -> Result<AuditStats, String> {
        let mut err: Option<String> = None;
        let mut ptes = 0;
        self.table.for_each_leaf(m, |va, e| {
            if err.is_some() {
                return;
            }
            ptes += 1;
            let Some(frame) = PhysFrame::from_start(e.address().as_u64()) else {
                err = Some(format!("PTE {e:?} at {va:#x}: bad address"));
                return;
            };
            let granted = Granted {
                user: e.is_user_mode_allowed(),
                writable: e.is_writeable(),
                executable: !e.is_instruction_fetching_disabled(),
            };
            let r = self.check_translation(ps, va, frame, granted, m.nx_supported());
            if let Err(why) = r {
                err = Some(format!("PTE {e:?}: {why}"));
                return;
            }
            match hw_walk(m, self.table.root(), va) {
                Some(h)
                    if h.frame == frame
                        && h.user
                        && h.writable == e.is_writeable()
                        && h.executable != e.is_instruction_fetching_disabled() => {}
                other => {
                    err = Some(format!(
                        "PTE {e:?} at {va:#x}: hardware walk gives {other:?}"
                    ))
                }
            }
        });
        if let Some(e) = err {
            return Err(e);
        }
        let table_frames = self.table.reachable_tables(m);
        if table_frames != self.table.frames_held() {
            return Err(format!(
                "{table_frames} table frames reachable, {} counted",
                self.table.frames_held()
            ));
        }
        for r in self.remap.iter() {
            if r.mapping.kind == Kind::Anon
                && self
                    .window_of(r.mapping.base)
                    .is_none_or(|(s, l)| r.mapping.base + r.pages > s + l)
            {
                return Err(format!("range {r:?} is outside its window"));
            }
            if r.mapping.kind == Kind::Anon && !r.mapping.cow && ps.is_layered(r.mapping.base) {
                return Err(format!(
                    "range {r:?} lies in a forked window but is not copy-on-write"
                ));
            }
        }
        Ok(AuditStats { ptes, table_frames })
    }
}
