//! System-wide Unix state that is not a file: the host name (`gethostname`,
//! `sethostname`, `uname`'s node name), and the memory figures `/proc/meminfo`
//! shows ([`MemInfo`], which the kernel fills in). Plain data, so it persists
//! with the rest.

use crate::abi::{SystemNames, DEFAULT_HOSTNAME, HOST_NAME_MAX};
use crate::errno::Errno;
use alloc::vec::Vec;

/// See the module documentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemState {
    hostname: Vec<u8>,
    /// What `uname` reports besides the host name.
    pub names: SystemNames,
}

impl Default for SystemState {
    fn default() -> Self {
        SystemState {
            hostname: DEFAULT_HOSTNAME.to_vec(),
            names: SystemNames::default(),
        }
    }
}

impl SystemState {
    /// The host name.
    pub fn hostname(&self) -> &[u8] {
        &self.hostname
    }

    /// Set the host name: at most [`HOST_NAME_MAX`] bytes (`ENAMETOOLONG` beyond),
    /// no NUL inside (`EINVAL`). Empty is allowed, as on Linux and BSD.
    pub fn set_hostname(&mut self, name: &[u8]) -> Result<(), Errno> {
        if name.len() > HOST_NAME_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        if name.contains(&0) {
            return Err(Errno::EINVAL);
        }
        self.hostname.clear();
        self.hostname
            .try_reserve(name.len())
            .map_err(|_| Errno::ENOMEM)?;
        self.hostname.extend_from_slice(name);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostname_is_bounded_and_has_no_nul() {
        let mut s = SystemState::default();
        assert_eq!(s.hostname(), b"phantom");
        s.set_hostname(b"box").unwrap();
        assert_eq!(s.hostname(), b"box");
        assert_eq!(s.set_hostname(&[b'a'; 256]), Err(Errno::ENAMETOOLONG));
        assert_eq!(s.set_hostname(b"a\0b"), Err(Errno::EINVAL));
        assert_eq!(s.hostname(), b"box");
        s.set_hostname(&[b'a'; 255]).unwrap();
        s.set_hostname(b"").unwrap();
        assert_eq!(s.hostname(), b"");
    }
}

/// The system's memory, as `/proc/meminfo` shows it: what a user watching
/// `sbrk`, stack growth and `fork` needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MemInfo {
    /// Physical frames in all.
    pub frames_total: u64,
    /// Frames free.
    pub frames_free: u64,
    /// Persistent pages that hold a frame.
    pub resident_pages: u64,
    /// Distinct frames those pages hold (fewer when pages share frames).
    pub frames_held: u64,
    /// Windows seeing through a frozen layer (forked) and frozen layers.
    pub forked_windows: u64,
    /// Frozen layers (what forks share until a write copies it).
    pub frozen_layers: u64,
    /// Kernel heap bytes in use, and in all.
    pub heap_used: u64,
    /// Kernel heap bytes in all.
    pub heap_total: u64,
    /// Processes (zombies included).
    pub processes: u64,
    /// Page faults since boot by outcome: a page table entry filled for a
    /// resident page.
    pub faults_minor: u64,
    /// A page zero-filled.
    pub faults_zero_filled: u64,
    /// A shared page copied on a write.
    pub faults_cow_copied: u64,
    /// A copy-on-write page taken over without a copy.
    pub faults_cow_taken_over: u64,
}

impl MemInfo {
    /// The text of `/proc/meminfo`: `Name: value [unit]` lines.
    pub fn text(&self) -> Vec<u8> {
        use core::fmt::Write;
        struct Out(Vec<u8>);
        impl Write for Out {
            fn write_str(&mut self, s: &str) -> core::fmt::Result {
                self.0.extend_from_slice(s.as_bytes());
                Ok(())
            }
        }
        let kib = |frames: u64| frames * 4;
        let mut out = Out(Vec::new());
        let _ = write!(
            out,
            "MemTotal:        {} kB\nMemFree:         {} kB\n\
             ResidentPages:   {}\nFramesHeld:      {}\n\
             ForkedWindows:   {}\nFrozenLayers:    {}\n\
             KernelHeapUsed:  {} kB\nKernelHeapTotal: {} kB\n\
             Processes:       {}\n\
             FaultsMinor:     {}\nFaultsZeroFill:  {}\n\
             FaultsCowCopy:   {}\nFaultsCowTakeOver: {}\n",
            kib(self.frames_total),
            kib(self.frames_free),
            self.resident_pages,
            self.frames_held,
            self.forked_windows,
            self.frozen_layers,
            self.heap_used / 1024,
            self.heap_total / 1024,
            self.processes,
            self.faults_minor,
            self.faults_zero_filled,
            self.faults_cow_copied,
            self.faults_cow_taken_over,
        );
        out.0
    }
}
