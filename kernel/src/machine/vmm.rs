//! The kernel's virtual-memory state: the one persistent page space, the
//! address space loaded in CR3, and the page-fault path into
//! `vm::AddressSpace::resolve_fault`.
//!
//! Lock order: [`VMM`] first, then the frame allocator (inside
//! [`memory::with_machine`]). The fault handler only `try_lock`s [`VMM`]: a
//! fault taken while the kernel holds it is a kernel bug and is reported as
//! such instead of deadlocking.

use super::{boot, cpu, memory};
use core::sync::atomic::{AtomicU64, Ordering};
use spin::Mutex;
use vm::{
    Access, AddressSpace, FaultOutcome, PersistentSpace, PhysAddr, PhysMemory, Segv, SegvReason,
    VmError, KERNEL_ENTRIES,
};

/// Everything behind the VM lock.
pub struct Vmm {
    pub persistent: PersistentSpace,
    /// The address space whose root is in CR3 (None: the kernel's own tables).
    pub current: Option<AddressSpace>,
}

pub static VMM: Mutex<Vmm> = Mutex::new(Vmm {
    persistent: PersistentSpace::new(),
    current: None,
});

/// How many faults ended in each outcome, since boot.
pub struct FaultCounts {
    pub minor: AtomicU64,
    pub zero_filled: AtomicU64,
    pub cow_copied: AtomicU64,
    pub cow_taken_over: AtomicU64,
    pub spurious: AtomicU64,
}

pub static FAULTS: FaultCounts = FaultCounts {
    minor: AtomicU64::new(0),
    zero_filled: AtomicU64::new(0),
    cow_copied: AtomicU64::new(0),
    cow_taken_over: AtomicU64::new(0),
    spurious: AtomicU64::new(0),
};

impl FaultCounts {
    fn count(&self, outcome: FaultOutcome) {
        let counter = match outcome {
            FaultOutcome::Minor => &self.minor,
            FaultOutcome::ZeroFilled => &self.zero_filled,
            FaultOutcome::CowCopied => &self.cow_copied,
            FaultOutcome::CowTakenOver => &self.cow_taken_over,
            FaultOutcome::Spurious => &self.spurious,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// (minor, zero-filled, COW copied, COW taken over, spurious).
    pub fn snapshot(&self) -> [u64; 5] {
        [
            &self.minor,
            &self.zero_filled,
            &self.cow_copied,
            &self.cow_taken_over,
            &self.spurious,
        ]
        .map(|c| c.load(Ordering::Relaxed))
    }
}

/// The kernel's PML4 entries 256..511, which every address space shares.
pub fn kernel_upper_half() -> [u64; KERNEL_ENTRIES] {
    let root = boot::kernel_pml4_phys();
    memory::with_machine(|m| {
        core::array::from_fn(|i| m.read_u64(PhysAddr(root + ((256 + i) as u64) * 8)))
    })
}

/// A new, empty address space sharing the kernel's upper half.
pub fn new_address_space() -> Result<AddressSpace, VmError> {
    let upper = kernel_upper_half();
    memory::with_machine(|m| AddressSpace::new(m, &upper))
}

/// Makes `space` current (loads its root into CR3); returns the one it replaces.
pub fn activate(space: AddressSpace) -> Option<AddressSpace> {
    cpu::without_interrupts(|| {
        let mut vmm = VMM.lock();
        // SAFETY: every address space's PML4 shares the kernel's upper half
        // (`AddressSpace::new` copies it), so the kernel stays mapped.
        unsafe { cpu::write_cr3(space.root().start().as_u64()) };
        vmm.current.replace(space)
    })
}

/// Goes back to the kernel's own tables and returns the current address space.
pub fn deactivate() -> Option<AddressSpace> {
    cpu::without_interrupts(|| {
        let mut vmm = VMM.lock();
        // SAFETY: the boot PML4 is the kernel's own table.
        unsafe { cpu::write_cr3(boot::kernel_pml4_phys()) };
        vmm.current.take()
    })
}

/// Runs `f` on the current address space with the persistent space and the
/// machine (interrupts off, VM lock and frame lock held). `None` when no
/// address space is current.
pub fn with_current<R>(
    f: impl FnOnce(&mut AddressSpace, &mut PersistentSpace, &mut memory::KernelMachine<'_>) -> R,
) -> Option<R> {
    cpu::without_interrupts(|| {
        let mut vmm = VMM.lock();
        let Vmm {
            persistent,
            current,
        } = &mut *vmm;
        let space = current.as_mut()?;
        Some(memory::with_machine(|m| f(space, persistent, m)))
    })
}

/// Releases an address space that is not current.
pub fn destroy(space: AddressSpace) {
    cpu::without_interrupts(|| {
        let mut vmm = VMM.lock();
        debug_assert!(cpu::read_cr3() & !0xfff != space.root().start().as_u64());
        memory::with_machine(|m| space.destroy(&mut vmm.persistent, m));
        vmm.persistent.trim();
    })
}

/// Forks the current address space; the child is returned, not activated.
pub fn fork_current() -> Option<Result<AddressSpace, VmError>> {
    with_current(|space, persistent, m| space.fork(persistent, m))
}

/// Why a page fault could not be resolved.
pub enum FaultError {
    /// No address space is current (a kernel access to an unmapped address).
    NoAddressSpace,
    /// The fault came while the VM lock was held: a kernel bug.
    VmLockHeld,
    /// The address space refuses the access.
    Segv(Segv),
}

/// Resolves a page fault at `addr` with the CPU's error code through the
/// current address space.
pub fn handle_page_fault(addr: u64, error_code: u64) -> Result<FaultOutcome, FaultError> {
    let Some(mut vmm) = VMM.try_lock() else {
        return Err(FaultError::VmLockHeld);
    };
    let Vmm {
        persistent,
        current,
    } = &mut *vmm;
    let space = current.as_mut().ok_or(FaultError::NoAddressSpace)?;
    let access = Access::from_pf_error_code(error_code);
    if super::heap::critical() {
        // Resolving may allocate (persistent-space nodes, page tables): the
        // faulting process dies of it rather than the kernel.
        return Err(FaultError::Segv(Segv {
            addr,
            reason: SegvReason::OutOfMemory,
        }));
    }
    let outcome = memory::with_machine(|m| {
        unix::mm::resolve_fault_or_grow_stack(space, persistent, m, addr, access)
    })
    .map_err(FaultError::Segv)?;
    FAULTS.count(outcome);
    Ok(outcome)
}

/// Grows the current address space's stack to cover `addr` if it lies in
/// the growth area (for user copies made by syscalls). Returns whether it grew.
pub fn grow_current_stack(addr: u64) -> bool {
    with_current(|space, persistent, _| {
        unix::mm::grow_stack(space, persistent, addr).unwrap_or(false)
    })
    .unwrap_or(false)
}
