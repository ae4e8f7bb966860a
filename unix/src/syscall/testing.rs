//! A host stand-in for the kernel's syscall context, for tests (unit, integration,
//! doc): an emulated machine with a real [`AddressSpace`] (so user pointers are
//! checked against a real remap table), a VFS, open files, an fd table with the
//! console on 0–2, a [`Tty`] writing into a `Vec`, and a settable clock.
//!
//! Memory of a fresh [`TestContext`], laid out like a process (`docs/abi.md`):
//! [`TestContext::BUF`] is [`TestContext::BUF_PAGES`] read-write pages,
//! [`TestContext::RO`] one read-only page, [`TestContext::GUARD`] a guard page (these
//! three stand for the program image, which spans `[BUF, HEAP)`); the heap is empty
//! at [`TestContext::HEAP`] with its guard page there; the stack is one page below
//! `0xC0000000` with its guards (above the top, below the 8 MiB limit); everything
//! else is unmapped. Not used on any kernel path (its helpers panic on misuse, like
//! test code does).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::native::{dispatch, MAX_ARGS};
use super::{Parts, SyscallContext, SyscallResult};
use crate::console::Tty;
use crate::errno::Errno;
use crate::exec::{build_initial_stack, layout::STACK_TOP, setup_stack};
use crate::file::{FdTable, OpenFiles};
use crate::mm::ProcessMemory;
use crate::process::{Ended, ProcessState, ProcessTable, RunState, WaitFor};
use crate::system::SystemState;
use crate::vfs::Vfs;
use alloc::boxed::Box;
use alloc::vec::Vec;
use vm::emulated::EmulatedMachine;
use vm::remap::Perms;
use vm::{AddressSpace, PersistentSpace, UserSpace};

/// See the module documentation.
pub struct TestContext {
    /// Emulated memory, frames, TLB.
    pub machine: EmulatedMachine,
    /// The persistent page space.
    pub ps: PersistentSpace,
    /// The process's address space.
    pub space: AddressSpace,
    /// Its Unix state (descriptors, break, limits).
    pub process: ProcessState,
    /// Open file descriptions.
    pub files: OpenFiles,
    /// The file systems.
    pub vfs: Vfs,
    /// The console (output collects in `tty.out`).
    pub tty: Tty<Vec<u8>>,
    /// System-wide state (the host name).
    pub system: SystemState,
    /// `getpid`.
    pub pid: u32,
    /// `getppid`.
    pub ppid: u32,
    /// `CLOCK_MONOTONIC`, ns.
    pub monotonic_ns: u64,
    /// `CLOCK_REALTIME`, ns.
    pub realtime_ns: u64,
    /// The caller's children (`fork`): their address spaces and Unix state until
    /// they end ([`TestContext::end_child`]).
    pub children: ProcessTable<Option<(AddressSpace, ProcessState)>>,
    /// The entry point of the last image `execve` loaded.
    pub exec_entry: Option<u32>,
    /// The expiries `setitimer` told the kernel of, in order.
    pub alarms_set: Vec<u64>,
}

impl Default for TestContext {
    fn default() -> Self {
        Self::new()
    }
}

impl TestContext {
    /// Start of the read-write scratch memory.
    pub const BUF: u32 = 0x0001_0000;
    /// Its size in pages.
    pub const BUF_PAGES: u32 = 16;
    /// A read-only page.
    pub const RO: u32 = 0x0004_0000;
    /// A guard page.
    pub const GUARD: u32 = 0x0005_0000;
    /// The heap's base (the end of the "image"); its guard page is here.
    pub const HEAP: u32 = 0x0010_0000;

    /// A fresh context: pid 1, ppid 0, clocks at 0, console on fds 0–2.
    pub fn new() -> TestContext {
        let mut machine = EmulatedMachine::new(1 << 12);
        let mut ps = PersistentSpace::new();
        let mut space = AddressSpace::new(&mut machine, &[0; vm::KERNEL_ENTRIES]).unwrap();
        let rw = Perms::READ | Perms::WRITE;
        space
            .map_anon(
                &mut ps,
                u64::from(Self::BUF) >> 12,
                u64::from(Self::BUF_PAGES),
                rw,
            )
            .unwrap();
        space
            .map_anon(&mut ps, u64::from(Self::RO) >> 12, 1, Perms::READ)
            .unwrap();
        space.map_guard(u64::from(Self::GUARD) >> 12, 1).unwrap();
        space.map_guard(u64::from(Self::HEAP) >> 12, 1).unwrap();
        let stack = build_initial_stack(&[b"test"], &[], STACK_TOP).unwrap();
        setup_stack(
            &stack,
            &mut UserSpace::new(&mut space, &mut ps, &mut machine),
        )
        .unwrap();
        let mut files = OpenFiles::new();
        let fds = FdTable::with_console(&mut files).unwrap();
        let process = ProcessState::with_memory(
            fds,
            ProcessMemory::with_heap(alloc::vec![(Self::BUF, Self::HEAP)], Self::HEAP),
        );
        let mut vfs = Vfs::new();
        vfs.add_process(1);
        TestContext {
            machine,
            ps,
            space,
            process,
            files,
            vfs,
            tty: Tty::new(Vec::new()),
            system: SystemState::default(),
            pid: 1,
            ppid: 0,
            monotonic_ns: 0,
            realtime_ns: 0,
            exec_entry: None,
            alarms_set: Vec::new(),
            children: {
                // Pid 1 is the caller itself; children come after it.
                let mut table = ProcessTable::new();
                let _ = table.spawn("test", 0, None);
                table
            },
        }
    }

    /// End child `pid` so (it must have been forked): its memory and descriptors
    /// are released, and it waits for `waitpid` as an ended child.
    pub fn end_child(&mut self, pid: u32, ended: Ended) {
        let entry = self.children.get_mut(pid).unwrap();
        entry.state = RunState::Exited(ended);
        self.vfs.remove_process(pid);
        if let Some((space, mut state)) = entry.context.take() {
            entry.group = Some(state.pgid.unwrap_or(pid));
            state.release(&mut self.files);
            space.destroy(&mut self.ps, &mut self.machine);
        }
    }

    /// Write `data` into user memory at `addr` (as the process would).
    pub fn put(&mut self, addr: u32, data: &[u8]) {
        self.space
            .write_user(&mut self.ps, &mut self.machine, u64::from(addr), data)
            .unwrap();
    }

    /// Write `s` and a NUL at `addr`; returns `addr`.
    pub fn put_cstr(&mut self, addr: u32, s: &[u8]) -> u32 {
        self.put(addr, s);
        self.put(addr + s.len() as u32, &[0]);
        addr
    }

    /// Read `len` bytes of user memory at `addr`.
    pub fn get(&mut self, addr: u32, len: usize) -> Vec<u8> {
        let mut v = alloc::vec![0; len];
        self.space
            .read_user(&mut self.ps, &mut self.machine, u64::from(addr), &mut v)
            .unwrap();
        v
    }

    /// Run a syscall.
    pub fn call(&mut self, nr: u32, args: &[u32]) -> SyscallResult {
        let mut a = [0u32; MAX_ARGS];
        a[..args.len()].copy_from_slice(args);
        dispatch(self, nr, a)
    }

    /// Run a syscall, expecting success; returns `eax`.
    pub fn ok(&mut self, nr: u32, args: &[u32]) -> u32 {
        match self.call(nr, args) {
            SyscallResult::Return(Ok(v)) => v,
            other => panic!("syscall {nr} {args:x?}: {other:?}"),
        }
    }

    /// Run a syscall, expecting failure; returns the errno.
    pub fn fails(&mut self, nr: u32, args: &[u32]) -> Errno {
        match self.call(nr, args) {
            SyscallResult::Return(Err(e)) => e,
            other => panic!("syscall {nr} {args:x?} did not fail: {other:?}"),
        }
    }

    /// Release everything the address space holds and check no frame leaked.
    pub fn finish(mut self) {
        while let Some(pid) = self.live_child() {
            self.end_child(pid, Ended::Exited(0));
        }
        self.process.release(&mut self.files);
        assert!(self.files.is_empty(), "open files left: {:?}", self.files);
        self.space.destroy(&mut self.ps, &mut self.machine);
        assert_eq!(self.machine.frames_in_use(), 0);
    }
}

impl TestContext {
    /// A forked child that has not ended.
    fn live_child(&self) -> Option<u32> {
        (self.pid + 1..)
            .take(crate::process::PROCESS_MAX + 1)
            .find(|&p| self.children.get(p).is_some_and(|e| e.context.is_some()))
    }
}

impl SyscallContext for TestContext {
    type Mem<'a> = vm::UserSpace<'a>;
    type Term = Tty<Vec<u8>>;

    fn pid(&self) -> u32 {
        self.pid
    }
    fn ppid(&self) -> u32 {
        self.ppid
    }
    fn monotonic_ns(&self) -> u64 {
        self.monotonic_ns
    }
    fn realtime_ns(&self) -> u64 {
        self.realtime_ns
    }
    fn parts(&mut self) -> Parts<'_, Self::Mem<'_>, Self::Term> {
        Parts {
            mem: vm::UserSpace::new(&mut self.space, &mut self.ps, &mut self.machine),
            process: &mut self.process,
            files: &mut self.files,
            vfs: &mut self.vfs,
            console: &mut self.tty,
            system: &mut self.system,
            clock: &self.monotonic_ns,
        }
    }

    fn fork_process(
        &mut self,
        state: Box<ProcessState>,
    ) -> Result<u32, (Errno, Box<ProcessState>)> {
        let space = match self.space.fork(&mut self.ps, &mut self.machine) {
            Ok(space) => space,
            Err(e) => return Err((e.into(), state)),
        };
        match self
            .children
            .spawn("child", self.pid, Some((space, *state)))
        {
            Ok(pid) => {
                self.vfs.add_process(pid);
                Ok(pid)
            }
            Err(context) => {
                let (space, state) = context.unwrap();
                space.destroy(&mut self.ps, &mut self.machine);
                Err((Errno::EAGAIN, Box::new(state)))
            }
        }
    }

    fn replace_image(
        &mut self,
        _name: &[u8],
        image: &[u8],
        argv: &[&[u8]],
        envp: &[&[u8]],
    ) -> Result<crate::exec::ProcessStart, Errno> {
        let mut space = AddressSpace::new(&mut self.machine, &[0; vm::KERNEL_ENTRIES]).unwrap();
        let loaded = crate::exec::exec(
            image,
            argv,
            envp,
            &mut UserSpace::new(&mut space, &mut self.ps, &mut self.machine),
        );
        match loaded {
            Ok(start) => {
                let old = core::mem::replace(&mut self.space, space);
                old.destroy(&mut self.ps, &mut self.machine);
                self.exec_entry = Some(start.entry);
                Ok(start)
            }
            Err(e) => {
                space.destroy(&mut self.ps, &mut self.machine);
                Err(e.errno())
            }
        }
    }

    fn process_list(&mut self) -> Vec<super::ProcessInfo> {
        let me = super::ProcessInfo {
            pid: self.pid,
            pgid: self.process.pgid.unwrap_or(self.pid),
            ignored: self.process.signals.ignored(),
            caught: self.process.signals.caught(),
        };
        let children = (self.pid + 1..)
            .take(crate::process::PROCESS_MAX + 1)
            .filter_map(|pid| {
                let (_, state) = self.children.get(pid)?.context.as_ref()?;
                Some(super::ProcessInfo {
                    pid,
                    pgid: state.pgid.unwrap_or(pid),
                    ignored: state.signals.ignored(),
                    caught: state.signals.caught(),
                })
            });
        core::iter::once(me).chain(children).collect()
    }

    fn end_process(&mut self, pid: u32, ended: Ended) {
        self.end_child(pid, ended);
    }

    fn process_count(&self) -> usize {
        // The table holds the caller too (pid 1).
        self.children.len() + self.children.zombies().count()
    }

    fn alarm_set(&mut self, at_ns: u64) {
        self.alarms_set.push(at_ns);
    }

    fn post_signal(&mut self, pid: u32, signal: u32) {
        let state = if pid == self.pid {
            Some(&mut self.process)
        } else {
            self.children
                .get_mut(pid)
                .and_then(|e| e.context.as_mut())
                .map(|(_, s)| s)
        };
        if let Some(state) = state {
            state.signals.pending |= 1 << signal;
        }
    }

    fn process_view(&mut self, pid: u32) -> Option<crate::process::ProcView> {
        let (space, state, ppid, name) = if pid == self.pid {
            (&self.space, &self.process, self.ppid, "test")
        } else {
            let entry = self.children.get(pid)?;
            let (space, state) = entry.context.as_ref()?;
            (space, state, entry.ppid, "child")
        };
        Some(crate::process::ProcView {
            name: name.into(),
            state: RunState::Running,
            ppid,
            pgid: state.pgid.unwrap_or(pid),
            cmdline: state.cmdline.clone(),
            maps: crate::mm::maps_text(space.remap(), &state.memory).ok()?,
            ranges: space.remap().len() as u64,
            resident: space.resident_pages(&self.ps).ok()?,
            brk: state.memory.brk,
            kernel_heap: 0,
        })
    }

    fn memory_info(&self) -> crate::system::MemInfo {
        let (forked_windows, frozen_layers) = self.ps.layer_count();
        crate::system::MemInfo {
            frames_total: self.machine.frames.total_frames(),
            frames_free: self.machine.frames.free_frames(),
            resident_pages: self.ps.resident_pages() as u64,
            frames_held: self.ps.frames_held() as u64,
            forked_windows: forked_windows as u64,
            frozen_layers: frozen_layers as u64,
            processes: self.children.len() as u64,
            ..Default::default()
        }
    }

    fn ended_child(&mut self, which: WaitFor, take: bool) -> Result<Option<(u32, Ended)>, Errno> {
        let groups: alloc::vec::Vec<(u32, u32)> = (self.pid + 1..)
            .take(crate::process::PROCESS_MAX + 1)
            .filter_map(|pid| {
                let (_, state) = self.children.get(pid)?.context.as_ref()?;
                Some((pid, state.pgid.unwrap_or(pid)))
            })
            .collect();
        let group_of = |pid: u32| groups.iter().find(|g| g.0 == pid).map(|g| g.1);
        self.children
            .ended_child(self.pid, which, take, &group_of)
            .map_err(|()| Errno::ECHILD)
    }
}
