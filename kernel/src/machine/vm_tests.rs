//! In-kernel tests of the remap core on the real machine: faults resolved
//! through the remap table, page tables dropped and rebuilt mid-run,
//! copy-on-write isolation after a fork, refused accesses, and every frame
//! returned at teardown.

use super::ktest::{kassert, ktest};
use super::{memory, vmm};
use alloc::string::String;
use remap::Perms;
use vm::{Access, AddressSpace, SegvReason};

const BASE_VPN: u64 = 0x400; // 4 MiB
const PAGES: u64 = 64;

fn address(i: u64) -> u64 {
    (BASE_VPN + i) << 12
}

fn pattern(i: u64, salt: u64) -> u64 {
    (i << 32) ^ salt ^ 0x5eed_0000_cafe
}

fn write(i: u64, value: u64) {
    // SAFETY: the test mapped [BASE_VPN, BASE_VPN + PAGES) read-write in
    // the current address space; the first touch faults through vm.
    unsafe { core::ptr::write_volatile(address(i) as *mut u64, value) }
}

fn read(i: u64) -> u64 {
    // SAFETY: as for `write`.
    unsafe { core::ptr::read_volatile(address(i) as *const u64) }
}

/// Maps the test range in a fresh address space and makes it current.
fn setup() -> Result<(), String> {
    let mut space = vmm::new_address_space().map_err(|e| alloc::format!("{e}"))?;
    {
        let mut vmm = vmm::VMM.lock();
        space
            .map_anon(
                &mut vmm.persistent,
                BASE_VPN,
                PAGES,
                Perms::READ | Perms::WRITE,
            )
            .map_err(|e| alloc::format!("{e}"))?;
        space
            .map_guard(BASE_VPN + PAGES, 1)
            .map_err(|e| alloc::format!("{e}"))?;
    }
    kassert!(
        vmm::activate(space).is_none(),
        "another address space was current"
    );
    Ok(())
}

fn teardown() {
    if let Some(space) = vmm::deactivate() {
        vmm::destroy(space);
    }
}

fn check_all(salt: u64) -> Result<(), String> {
    for i in 0..PAGES {
        let value = read(i);
        kassert!(
            value == pattern(i, salt),
            "page {i} holds {value:#x}, expected {:#x}",
            pattern(i, salt)
        );
    }
    Ok(())
}

/// Runs `body` between setup and teardown and checks no frame leaked.
fn with_space(body: impl FnOnce() -> Result<(), String>) -> Result<(), String> {
    let frames_before = memory::free_frames();
    setup()?;
    let result = body();
    teardown();
    let frames_after = memory::free_frames();
    result?;
    kassert!(
        frames_after == frames_before,
        "frames leaked: {frames_before} free before, {frames_after} after"
    );
    Ok(())
}

fn faults_resolve_through_the_remap_table() -> Result<(), String> {
    with_space(|| {
        let before = vmm::FAULTS.snapshot();
        for i in 0..PAGES {
            write(i, pattern(i, 1));
        }
        let after = vmm::FAULTS.snapshot();
        kassert!(
            after[1] - before[1] == PAGES,
            "{} zero-fill faults for {PAGES} pages",
            after[1] - before[1]
        );
        check_all(1)?;
        let audit =
            vmm::with_current(|space, ps, m| space.audit(ps, m)).ok_or("no current space")?;
        let stats = audit?;
        kassert!(
            stats.ptes == PAGES,
            "{} PTEs after touching {PAGES} pages",
            stats.ptes
        );
        Ok(())
    })
}
ktest!(faults_resolve_through_the_remap_table);

fn page_tables_are_a_cache_dropped_and_rebuilt_mid_run() -> Result<(), String> {
    with_space(|| {
        for i in 0..PAGES {
            write(i, pattern(i, 2));
        }
        // Drop every table: the next reads refault as minor faults.
        let dropped =
            vmm::with_current(|space, _, m| space.drop_tables(m)).ok_or("no current space")?;
        kassert!(dropped == PAGES, "dropped {dropped} PTEs");
        let before = vmm::FAULTS.snapshot();
        check_all(2)?;
        let after = vmm::FAULTS.snapshot();
        kassert!(
            after[0] - before[0] == PAGES,
            "{} minor faults after dropping the tables",
            after[0] - before[0]
        );
        // Rebuild eagerly from the remap table: no fault at all afterwards.
        let rebuilt = vmm::with_current(|space, ps, m| space.rebuild_tables(ps, m))
            .ok_or("no current space")?;
        kassert!(rebuilt == Ok(PAGES), "rebuilt {rebuilt:?} PTEs");
        let before = vmm::FAULTS.snapshot();
        check_all(2)?;
        kassert!(
            vmm::FAULTS.snapshot() == before,
            "faults after an eager rebuild"
        );
        Ok(())
    })
}
ktest!(page_tables_are_a_cache_dropped_and_rebuilt_mid_run);

fn fork_is_copy_on_write_and_isolated() -> Result<(), String> {
    with_space(|| {
        for i in 0..PAGES {
            write(i, pattern(i, 3));
        }
        let child: AddressSpace = vmm::fork_current()
            .ok_or("no current space")?
            .map_err(|e| alloc::format!("{e}"))?;
        // Parent writes: every page is copied, the child keeps the old data.
        let before = vmm::FAULTS.snapshot();
        for i in 0..PAGES {
            write(i, pattern(i, 4));
        }
        let after = vmm::FAULTS.snapshot();
        kassert!(
            after[2] - before[2] == PAGES,
            "{} COW copies",
            after[2] - before[2]
        );
        let parent = vmm::activate(child).ok_or("parent vanished")?;
        // The child still sees the data from before the fork. Its frames are
        // exclusive now: reading the first half maps them writable at once,
        // and a first write to the second half takes the page over.
        let half = PAGES / 2;
        let child_view = (0..half).find(|&i| read(i) != pattern(i, 3));
        let before = vmm::FAULTS.snapshot();
        for i in half..PAGES {
            write(i, pattern(i, 5));
        }
        let after = vmm::FAULTS.snapshot();
        let child_rest = (half..PAGES).find(|&i| read(i) != pattern(i, 5));
        let child = vmm::activate(parent).ok_or("child vanished")?;
        vmm::destroy(child);
        kassert!(
            child_view.is_none(),
            "the child sees the parent's write at page {child_view:?}"
        );
        kassert!(
            child_rest.is_none(),
            "the child lost its own write at page {child_rest:?}"
        );
        kassert!(
            after[3] - before[3] == PAGES - half,
            "{} COW take-overs",
            after[3] - before[3]
        );
        kassert!(
            after[2] == before[2],
            "{} needless COW copies",
            after[2] - before[2]
        );
        check_all(4)
    })
}
ktest!(fork_is_copy_on_write_and_isolated);

fn refused_accesses_are_segv_not_mappings() -> Result<(), String> {
    with_space(|| {
        let check = |addr: u64, access: Access, want: SegvReason| -> Result<(), String> {
            let result = vmm::with_current(|space, ps, m| space.resolve_fault(ps, m, addr, access))
                .ok_or("no current space")?;
            match result {
                Err(segv) if segv.reason == want && segv.addr == addr => Ok(()),
                other => Err(alloc::format!(
                    "access {access:?} at {addr:#x}: {other:?}, expected {want:?}"
                )),
            }
        };
        check(address(PAGES), Access::Read, SegvReason::Guard)?;
        check(address(PAGES + 1), Access::Write, SegvReason::Unmapped)?;
        check(0, Access::Read, SegvReason::Unmapped)?;
        check(
            0xffff_8000_0000_0000,
            Access::Read,
            SegvReason::KernelAddress,
        )?;
        check(address(0), Access::Exec, SegvReason::ExecNonExec)?;
        Ok(())
    })
}
ktest!(refused_accesses_are_segv_not_mappings);
