//! The root file system's own files: a read-only tree unpacked from an initramfs
//! (a `newc` cpio boot module: `/bin/<programs>`, `/etc/motd`, …). File contents
//! stay where the archive is (boot module memory, reserved for the whole run);
//! the tree holds names and slices.

use super::cpio::{self, CpioError};
use crate::abi::mode;
use alloc::vec::Vec;

/// Most nodes the tree holds (entries beyond are skipped).
pub const INITFS_NODES_MAX: usize = 8192;

/// One file or directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitNode {
    /// The directory holding it (0: the root).
    pub parent: u32,
    /// Its name.
    pub name: Vec<u8>,
    /// A directory (else a regular file).
    pub dir: bool,
    /// Permission bits.
    pub perm: u32,
    /// A file's contents.
    pub data: &'static [u8],
}

/// See the module documentation. Node 0 is the root (`/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Initfs {
    nodes: Vec<InitNode>,
}

impl Default for Initfs {
    fn default() -> Self {
        Initfs {
            nodes: alloc::vec![InitNode {
                parent: 0,
                name: Vec::new(),
                dir: true,
                perm: 0o755,
                data: &[],
            }],
        }
    }
}

/// What unpacking an archive did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Unpacked {
    /// Files and directories added.
    pub added: usize,
    /// Entries skipped: another type (links, devices), a bad or taken name, a
    /// name under `reserved`, or the tree full.
    pub skipped: usize,
}

impl Initfs {
    /// Node `i`.
    pub fn node(&self, i: u32) -> Option<&InitNode> {
        self.nodes.get(i as usize)
    }

    /// Number of nodes (the root included).
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether only the root is there.
    pub fn is_empty(&self) -> bool {
        self.nodes.len() == 1
    }

    /// The entry `name` of directory `dir`.
    pub fn child(&self, dir: u32, name: &[u8]) -> Option<u32> {
        self.nodes
            .iter()
            .enumerate()
            .skip(1)
            .find(|(_, n)| n.parent == dir && n.name == name)
            .map(|(i, _)| i as u32)
    }

    /// The children of `dir`, in the order they were added.
    pub fn children(&self, dir: u32) -> impl Iterator<Item = (u32, &InitNode)> + '_ {
        self.nodes
            .iter()
            .enumerate()
            .skip(1)
            .filter(move |(_, n)| n.parent == dir)
            .map(|(i, n)| (i as u32, n))
    }

    /// Add the regular files and directories of `archive` (missing parent
    /// directories are made). Top-level names in `reserved` (the kernel's own
    /// directories) are skipped. A malformed archive stops at the bad entry:
    /// what came before stays, and the error is returned with the counts.
    pub fn unpack(
        &mut self,
        archive: &'static [u8],
        reserved: &[&[u8]],
    ) -> (Unpacked, Option<CpioError>) {
        let mut done = Unpacked::default();
        for entry in cpio::entries(archive) {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => return (done, Some(e)),
            };
            let kind = entry.mode & mode::S_IFMT;
            let dir = kind == mode::S_IFDIR;
            if !(dir || kind == mode::S_IFREG) {
                done.skipped += 1;
                continue;
            }
            match self.add(entry.name, dir, entry.mode & 0o7777, entry.data, reserved) {
                Some(()) => done.added += 1,
                None => done.skipped += 1,
            }
        }
        (done, None)
    }

    /// Add the node at `path` (relative, `/`-separated; `./` and leading slashes
    /// are allowed); `None` when it cannot be.
    fn add(
        &mut self,
        path: &[u8],
        dir: bool,
        perm: u32,
        data: &'static [u8],
        reserved: &[&[u8]],
    ) -> Option<()> {
        let parts: Vec<&[u8]> = path
            .split(|&b| b == b'/')
            .filter(|p| !p.is_empty() && *p != b".")
            .collect();
        let (&last, dirs) = parts.split_last()?;
        if parts
            .iter()
            .any(|p| *p == b".." || p.len() > crate::abi::NAME_MAX)
        {
            return None;
        }
        if reserved.contains(&parts[0]) {
            return None;
        }
        let mut at = 0u32;
        for &d in dirs {
            at = match self.child(at, d) {
                Some(i) if self.nodes[i as usize].dir => i,
                Some(_) => return None,
                None => self.push(at, d, true, 0o755, &[])?,
            };
        }
        match self.child(at, last) {
            // A directory given after its contents: take its permissions.
            Some(i) if dir && self.nodes[i as usize].dir => {
                self.nodes[i as usize].perm = perm;
                Some(())
            }
            Some(_) => None,
            None => self.push(at, last, dir, perm, data).map(drop),
        }
    }

    fn push(
        &mut self,
        parent: u32,
        name: &[u8],
        dir: bool,
        perm: u32,
        data: &'static [u8],
    ) -> Option<u32> {
        if self.nodes.len() >= INITFS_NODES_MAX || self.nodes.try_reserve(1).is_err() {
            return None;
        }
        let mut owned = Vec::new();
        owned.try_reserve_exact(name.len()).ok()?;
        owned.extend_from_slice(name);
        self.nodes.push(InitNode {
            parent,
            name: owned,
            dir,
            perm,
            data: if dir { &[] } else { data },
        });
        Some((self.nodes.len() - 1) as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unpacks_files_and_makes_missing_directories() {
        let archive = cpio::build(&[
            (b"./bin/hello", 0o100755, b"ELF"),
            (b"bin", 0o40711, b""),
            (b"etc/motd", 0o100644, b"hi\n"),
            (b"dev/evil", 0o100644, b"x"),
            (b"../escape", 0o100644, b"x"),
            (b"bin/link", 0o120777, b"hello"),
            (b"bin/hello", 0o100644, b"again"),
        ]);
        let archive: &'static [u8] = alloc::boxed::Box::leak(archive.into_boxed_slice());
        let mut fs = Initfs::default();
        let (done, err) = fs.unpack(archive, &[b"dev"]);
        assert_eq!(err, None);
        assert_eq!(
            done,
            Unpacked {
                added: 3,
                skipped: 4
            }
        );
        let bin = fs.child(0, b"bin").unwrap();
        assert_eq!(fs.node(bin).unwrap().perm, 0o711);
        let hello = fs.child(bin, b"hello").unwrap();
        assert_eq!(fs.node(hello).unwrap().data, b"ELF");
        let etc = fs.child(0, b"etc").unwrap();
        assert!(fs.node(etc).unwrap().dir);
        assert_eq!(fs.children(0).count(), 2);
        assert!(fs.child(0, b"dev").is_none());
        // A truncated archive: what came before stays, the error is reported.
        let cut: &'static [u8] = &archive[..archive.len() - 20];
        let mut fs = Initfs::default();
        let (done, err) = fs.unpack(cut, &[]);
        assert!(err.is_some());
        assert!(done.added >= 3);
    }
}
