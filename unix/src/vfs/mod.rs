//! The virtual file system: path resolution and the nodes of the three file systems.
//!
//! ```text
//! /                 root directory (read-only)
//! /dev/console      the console (character device)
//! /dev/null         reads EOF, swallows writes
//! /dev/zero         reads zeros, swallows writes
//! /boot/<name>      every boot module, read-only, backed by the module's bytes
//! /tmp/...          the RAM file system (ramfs), writable
//! /proc/<pid>/...   a live process: cmdline, maps, status (read-only snapshots the
//!                   syscall layer generates when they are opened)
//! /proc/self        the caller's /proc/<pid>
//! /proc/meminfo     the system's memory
//! ```
//!
//! Nodes are named by [`NodeId`], a plain value (no pointers), so open files and fd
//! tables that hold them are plain data. Paths are byte strings; a relative path
//! starts at the caller's current directory ([`PathContext`]). Resolution follows Linux: repeated
//! slashes collapse, `.` and `..` work (`..` of `/` is `/`), a component longer than
//! 255 bytes or a path of 4096 bytes or more is `ENAMETOOLONG`, a non-directory in
//! the middle (or before a trailing slash) is `ENOTDIR`, a missing component
//! `ENOENT`. Device reads and writes are done by the syscall layer (they need the
//! console and user memory); the VFS stores and describes.

pub mod cpio;
pub mod initfs;
pub mod ramfs;

use crate::abi::{dtype, mode, open_flags as of, Stat, NAME_MAX, PATH_MAX};
use crate::errno::Errno;
use alloc::string::String;
use alloc::vec::Vec;
pub use ramfs::{Ino, Ramfs, RamfsLimits, RAM_ROOT};

/// A node of the VFS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NodeId {
    /// `/`.
    Root,
    /// `/dev`.
    DevDir,
    /// `/boot`.
    BootDir,
    /// `/dev/console`.
    Console,
    /// `/dev/null`.
    Null,
    /// `/dev/zero`.
    Zero,
    /// `/boot/<name>`: the boot file with this index.
    Boot(u32),
    /// A RAM file system node (`Ram(RAM_ROOT)` is `/tmp`).
    Ram(Ino),
    /// `/proc`.
    ProcDir,
    /// `/proc/meminfo`: the system's memory (a snapshot taken at `open`).
    ProcMeminfo,
    /// `/proc/<pid>`: a live process's directory.
    ProcPid(u32),
    /// `/proc/<pid>/<file>` (a snapshot taken at `open`).
    ProcPidFile(u32, ProcFile),
    /// A file or directory of the root file system's initramfs tree (never 0:
    /// its root is [`NodeId::Root`]).
    Init(u32),
    /// A pipe (no name: made by `pipe`), by its number in
    /// [`crate::file::OpenFiles`].
    Pipe(u32),
}

/// The files of a `/proc/<pid>` directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProcFile {
    /// `cmdline`: its arguments, each followed by a NUL.
    Cmdline,
    /// `maps`: its address space, as `/proc/self/maps`.
    Maps,
    /// `status`: name, state, ids and memory, one `Name:\tvalue` line each.
    Status,
}

impl ProcFile {
    /// Every file, with its name, in listing order.
    pub const ALL: [(&'static [u8], ProcFile); 3] = [
        (b"cmdline", ProcFile::Cmdline),
        (b"maps", ProcFile::Maps),
        (b"status", ProcFile::Status),
    ];
}

/// Inode numbers of `/proc/<pid>` and its files: `PROC_INO_BASE + pid * 4 + k`.
const PROC_INO_BASE: u32 = 0x20_0000;

/// Where a path is resolved: the caller's current directory (for relative
/// paths) and its pid (what `/proc/self` names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathContext {
    /// The current directory.
    pub cwd: NodeId,
    /// The caller's pid.
    pub pid: u32,
}

impl PathContext {
    /// Process `pid` with the root as its current directory.
    pub fn root(pid: u32) -> PathContext {
        PathContext {
            cwd: NodeId::Root,
            pid,
        }
    }
}

/// Inode number `stat` gives `/proc/self` in a listing of `/proc`.
const PROC_SELF_INO: u32 = 8;

/// The type of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// A directory.
    Dir,
    /// A regular file.
    File,
    /// A character device.
    CharDev,
    /// A pipe.
    Fifo,
}

impl NodeKind {
    /// The `d_type` of a directory entry of this kind.
    pub fn dtype(self) -> u8 {
        match self {
            NodeKind::Dir => dtype::DT_DIR,
            NodeKind::File => dtype::DT_REG,
            NodeKind::CharDev => dtype::DT_CHR,
            NodeKind::Fifo => dtype::DT_FIFO,
        }
    }
}

/// One directory entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirEntry<'a> {
    /// Inode number.
    pub ino: u32,
    /// Name.
    pub name: &'a [u8],
    /// `d_type`.
    pub dtype: u8,
}

/// Device ids (`st_dev`) of the file systems.
mod dev {
    pub const ROOTFS: u32 = 1;
    pub const DEVFS: u32 = 2;
    pub const BOOTFS: u32 = 3;
    pub const RAMFS: u32 = 4;
    pub const PROCFS: u32 = 5;
    pub const PIPEFS: u32 = 6;
}

/// Inode number of the root file system's first initramfs node.
const INIT_INO_BASE: u32 = 0x10_0000;
/// Inode number of the first boot file.
const BOOT_INO_BASE: u32 = 0x1000;
/// Most boot files.
pub const MAX_BOOT_FILES: usize = 1024;

/// A read-only file in `/boot`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct BootFile {
    name: String,
    data: &'static [u8],
}

/// The result of walking a path.
struct Walk<'p> {
    /// The directory holding the last component.
    parent: NodeId,
    /// The last component, if the path ends in a name (not `/`, `.` or `..`).
    name: Option<&'p [u8]>,
    /// The node the path names, or why not.
    node: Result<NodeId, Errno>,
    /// The path ends with a slash: the node must be a directory.
    dir_required: bool,
}

/// The VFS: boot files and the RAM file system. See the module documentation.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Vfs {
    boot: Vec<BootFile>,
    ram: Ramfs,
    init: initfs::Initfs,
    /// The live processes `/proc` lists: pid → its name there (decimal).
    procs: alloc::collections::BTreeMap<u32, Vec<u8>>,
}

impl Vfs {
    /// No boot files, an empty `/tmp` with default limits.
    pub fn new() -> Vfs {
        Vfs::default()
    }

    /// No boot files, an empty `/tmp` with `limits`.
    pub fn with_ramfs_limits(limits: RamfsLimits) -> Vfs {
        Vfs {
            boot: Vec::new(),
            ram: Ramfs::new(limits),
            init: initfs::Initfs::default(),
            procs: alloc::collections::BTreeMap::new(),
        }
    }

    /// The RAM file system.
    pub fn ramfs(&self) -> &Ramfs {
        &self.ram
    }

    /// Process `pid` exists: `/proc/<pid>` appears.
    pub fn add_process(&mut self, pid: u32) {
        self.procs.insert(pid, alloc::format!("{pid}").into_bytes());
    }

    /// Process `pid` ended: `/proc/<pid>` goes.
    pub fn remove_process(&mut self, pid: u32) {
        self.procs.remove(&pid);
    }

    /// Unpack an initramfs (a `newc` cpio archive in memory that lives for the
    /// whole run) into the root file system: `/bin`, `/etc`, … beside the
    /// kernel's own directories (entries under `dev`, `boot`, `tmp`, `proc` are
    /// skipped).
    pub fn unpack_initramfs(
        &mut self,
        archive: &'static [u8],
    ) -> (initfs::Unpacked, Option<cpio::CpioError>) {
        self.init
            .unpack(archive, &[b"dev", b"boot", b"tmp", b"proc"])
    }

    /// Make `data` readable as `/boot/<name>`. `EEXIST` if the name is taken,
    /// `EINVAL` for an empty name, `.`, `..` or one containing `/` or NUL,
    /// `ENAMETOOLONG` above 255 bytes, `ENOSPC` beyond [`MAX_BOOT_FILES`].
    pub fn add_boot_file(&mut self, name: &str, data: &'static [u8]) -> Result<NodeId, Errno> {
        let b = name.as_bytes();
        if b.is_empty() || name == "." || name == ".." || b.contains(&b'/') || b.contains(&0) {
            return Err(Errno::EINVAL);
        }
        if b.len() > NAME_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        if self.boot.iter().any(|f| f.name == name) {
            return Err(Errno::EEXIST);
        }
        if self.boot.len() >= MAX_BOOT_FILES {
            return Err(Errno::ENOSPC);
        }
        self.boot.push(BootFile {
            name: String::from(name),
            data,
        });
        Ok(NodeId::Boot(self.boot.len() as u32 - 1))
    }

    /// The bytes of `/boot/<name>`.
    pub fn boot_file(&self, name: &str) -> Option<&'static [u8]> {
        self.boot.iter().find(|f| f.name == name).map(|f| f.data)
    }

    /// The type of `node`; `ENOENT` for a node that does not exist.
    pub fn kind(&self, node: NodeId) -> Result<NodeKind, Errno> {
        Ok(match node {
            NodeId::Root | NodeId::DevDir | NodeId::BootDir | NodeId::ProcDir => NodeKind::Dir,
            NodeId::Console | NodeId::Null | NodeId::Zero => NodeKind::CharDev,
            NodeId::ProcMeminfo => NodeKind::File,
            NodeId::ProcPid(pid) | NodeId::ProcPidFile(pid, _)
                if !self.procs.contains_key(&pid) =>
            {
                return Err(Errno::ENOENT)
            }
            NodeId::ProcPid(_) => NodeKind::Dir,
            NodeId::ProcPidFile(..) => NodeKind::File,
            NodeId::Pipe(_) => NodeKind::Fifo,
            NodeId::Init(i) => match self.init.node(i) {
                Some(n) if n.dir => NodeKind::Dir,
                Some(_) => NodeKind::File,
                None => return Err(Errno::ENOENT),
            },
            NodeId::Boot(i) => {
                self.boot.get(i as usize).ok_or(Errno::ENOENT)?;
                NodeKind::File
            }
            NodeId::Ram(ino) => match self.ram.node(ino) {
                Some(n) if n.is_dir() => NodeKind::Dir,
                Some(_) => NodeKind::File,
                None => return Err(Errno::ENOENT),
            },
        })
    }

    fn is_dir(&self, node: NodeId) -> bool {
        self.kind(node) == Ok(NodeKind::Dir)
    }

    /// The directory holding `node` (`/` for `/`).
    fn parent(&self, node: NodeId) -> NodeId {
        match node {
            NodeId::Ram(ino) if ino != RAM_ROOT => self
                .ram
                .node(ino)
                .map_or(NodeId::Root, |n| NodeId::Ram(n.parent)),
            NodeId::Console | NodeId::Null | NodeId::Zero => NodeId::DevDir,
            NodeId::Boot(_) => NodeId::BootDir,
            NodeId::ProcMeminfo | NodeId::ProcPid(_) => NodeId::ProcDir,
            NodeId::ProcPidFile(pid, _) => NodeId::ProcPid(pid),
            NodeId::Init(i) => match self.init.node(i).map(|n| n.parent) {
                Some(p) if p != 0 => NodeId::Init(p),
                _ => NodeId::Root,
            },
            _ => NodeId::Root,
        }
    }

    /// The entry `name` of directory `dir`, for process `pid` (`/proc/self`).
    fn child(&self, dir: NodeId, name: &[u8], pid: u32) -> Result<NodeId, Errno> {
        match dir {
            NodeId::Root => match name {
                b"dev" => Ok(NodeId::DevDir),
                b"boot" => Ok(NodeId::BootDir),
                b"tmp" => Ok(NodeId::Ram(RAM_ROOT)),
                b"proc" => Ok(NodeId::ProcDir),
                _ => self
                    .init
                    .child(0, name)
                    .map(NodeId::Init)
                    .ok_or(Errno::ENOENT),
            },
            NodeId::Init(i) if self.init.node(i).is_some_and(|n| n.dir) => self
                .init
                .child(i, name)
                .map(NodeId::Init)
                .ok_or(Errno::ENOENT),
            NodeId::ProcDir => match name {
                b"self" if self.procs.contains_key(&pid) => Ok(NodeId::ProcPid(pid)),
                b"meminfo" => Ok(NodeId::ProcMeminfo),
                digits => core::str::from_utf8(digits)
                    .ok()
                    .filter(|d| !d.starts_with('0'))
                    .and_then(|d| d.parse::<u32>().ok())
                    .filter(|pid| self.procs.contains_key(pid))
                    .map(NodeId::ProcPid)
                    .ok_or(Errno::ENOENT),
            },
            NodeId::ProcPid(pid) if self.procs.contains_key(&pid) => ProcFile::ALL
                .iter()
                .find(|(n, _)| *n == name)
                .map(|&(_, f)| NodeId::ProcPidFile(pid, f))
                .ok_or(Errno::ENOENT),
            NodeId::DevDir => match name {
                b"console" => Ok(NodeId::Console),
                b"null" => Ok(NodeId::Null),
                b"zero" => Ok(NodeId::Zero),
                _ => Err(Errno::ENOENT),
            },
            NodeId::BootDir => self
                .boot
                .iter()
                .position(|f| f.name.as_bytes() == name)
                .map(|i| NodeId::Boot(i as u32))
                .ok_or(Errno::ENOENT),
            NodeId::Ram(ino) => self.ram.child(ino, name).map(NodeId::Ram),
            _ => Err(Errno::ENOTDIR),
        }
    }

    /// Walk `path` component by component (from `at.cwd` when relative).
    fn walk<'p>(&self, at: PathContext, path: &'p [u8]) -> Result<Walk<'p>, Errno> {
        if path.is_empty() {
            return Err(Errno::ENOENT);
        }
        if path.len() >= PATH_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        let dir_required = path.last() == Some(&b'/');
        let mut comps = path
            .split(|&c| c == b'/')
            .filter(|c| !c.is_empty())
            .peekable();
        let mut cur = if path[0] == b'/' {
            NodeId::Root
        } else {
            at.cwd
        };
        // A current directory that went (rmdir) holds nothing.
        self.kind(cur)?;
        while let Some(comp) = comps.next() {
            let last = comps.peek().is_none();
            if comp.len() > NAME_MAX {
                return Err(Errno::ENAMETOOLONG);
            }
            if !self.is_dir(cur) {
                return Err(Errno::ENOTDIR);
            }
            match comp {
                b"." => {}
                b".." => cur = self.parent(cur),
                name if last => {
                    return Ok(Walk {
                        parent: cur,
                        name: Some(name),
                        node: self.child(cur, name, at.pid),
                        dir_required,
                    })
                }
                name => cur = self.child(cur, name, at.pid)?,
            }
        }
        Ok(Walk {
            parent: self.parent(cur),
            name: None,
            node: Ok(cur),
            dir_required: true,
        })
    }

    /// The node `path` names.
    pub fn lookup(&self, at: PathContext, path: &[u8]) -> Result<NodeId, Errno> {
        let w = self.walk(at, path)?;
        let node = w.node?;
        if w.dir_required && !self.is_dir(node) {
            return Err(Errno::ENOTDIR);
        }
        Ok(node)
    }

    /// Open `path` with `open` flags (`docs/abi.md`), creating a RAM file with
    /// permission bits `perm` for `O_CREAT` and truncating for `O_TRUNC`; `now` (seconds)
    /// stamps what changes. Returns the node; the caller makes the open file.
    pub fn open(
        &mut self,
        at: PathContext,
        path: &[u8],
        flags: u32,
        perm: u32,
        now: u32,
    ) -> Result<NodeId, Errno> {
        let acc = flags & of::O_ACCMODE;
        if acc == 3 {
            return Err(Errno::EINVAL);
        }
        let writing = acc != of::O_RDONLY;
        let w = self.walk(at, path)?;
        let node = match w.node {
            Ok(node) => {
                if flags & of::O_CREAT != 0 && flags & of::O_EXCL != 0 {
                    return Err(Errno::EEXIST);
                }
                node
            }
            Err(Errno::ENOENT) if flags & of::O_CREAT != 0 => {
                let Some(name) = w.name else {
                    return Err(Errno::ENOENT);
                };
                if w.dir_required {
                    return Err(Errno::EISDIR);
                }
                if flags & of::O_DIRECTORY != 0 {
                    return Err(Errno::EINVAL);
                }
                let NodeId::Ram(dir) = w.parent else {
                    return Err(Errno::EROFS);
                };
                let ino = self.ram.create(dir, name, perm & 0o777, false, now)?;
                return Ok(NodeId::Ram(ino));
            }
            Err(e) => return Err(e),
        };
        let kind = self.kind(node)?;
        if kind != NodeKind::Dir && (w.dir_required || flags & of::O_DIRECTORY != 0) {
            return Err(Errno::ENOTDIR);
        }
        if kind == NodeKind::Dir && (writing || flags & of::O_CREAT != 0) {
            return Err(Errno::EISDIR);
        }
        let truncate = flags & of::O_TRUNC != 0 && kind == NodeKind::File;
        if matches!(node, NodeId::Boot(_) | NodeId::Init(_)) && (writing || truncate) {
            return Err(Errno::EROFS);
        }
        if matches!(node, NodeId::ProcMeminfo | NodeId::ProcPidFile(..)) && (writing || truncate) {
            return Err(Errno::EACCES);
        }
        if let (true, NodeId::Ram(ino)) = (truncate, node) {
            self.ram.truncate(ino, 0, now)?;
        }
        Ok(node)
    }

    /// Create directory `path` in the RAM file system with permission bits `perm`.
    pub fn mkdir(
        &mut self,
        at: PathContext,
        path: &[u8],
        perm: u32,
        now: u32,
    ) -> Result<NodeId, Errno> {
        let w = self.walk(at, path)?;
        let name = match (w.node, w.name) {
            (Ok(_), _) => return Err(Errno::EEXIST),
            (Err(Errno::ENOENT), Some(name)) => name,
            (Err(e), _) => return Err(e),
        };
        let NodeId::Ram(dir) = w.parent else {
            return Err(Errno::EROFS);
        };
        self.ram
            .create(dir, name, perm & 0o777, true, now)
            .map(NodeId::Ram)
    }

    /// The RAM directory and name a path's last component is in, for calls that
    /// change a name: `EROFS` outside `/tmp`, `EBUSY` for `/tmp` itself, `EINVAL`
    /// for a path ending in `.` or `..`.
    fn ram_entry<'p>(&self, at: PathContext, path: &'p [u8]) -> Result<(Ino, &'p [u8]), Errno> {
        let w = self.walk(at, path)?;
        let node = w.node?;
        let Some(name) = w.name else {
            return Err(match node {
                NodeId::Ram(RAM_ROOT) => Errno::EBUSY,
                NodeId::Ram(_) => Errno::EINVAL,
                _ => Errno::EROFS,
            });
        };
        if w.dir_required && !self.is_dir(node) {
            return Err(Errno::ENOTDIR);
        }
        match w.parent {
            NodeId::Ram(dir) => Ok((dir, name)),
            _ if node == NodeId::Ram(RAM_ROOT) => Err(Errno::EBUSY),
            _ => Err(Errno::EROFS),
        }
    }

    /// `unlink(path)`: remove a file's name in `/tmp`; a file still open
    /// (`is_open`) stays readable through its descriptors until they close.
    /// `EISDIR` for a directory, `EROFS` outside `/tmp`.
    pub fn unlink(
        &mut self,
        at: PathContext,
        path: &[u8],
        now: u32,
        is_open: impl Fn(NodeId) -> bool,
    ) -> Result<(), Errno> {
        let (dir, name) = self.ram_entry(at, path)?;
        self.ram
            .unlink(dir, name, now, |ino| is_open(NodeId::Ram(ino)))
    }

    /// `rmdir(path)`: remove an empty directory in `/tmp` (`ENOTEMPTY`,
    /// `ENOTDIR`, `EBUSY` for `/tmp`, `EROFS` elsewhere).
    pub fn rmdir(&mut self, at: PathContext, path: &[u8], now: u32) -> Result<(), Errno> {
        let (dir, name) = self.ram_entry(at, path)?;
        self.ram.rmdir(dir, name, now)
    }

    /// `rename(from, to)` within `/tmp` (see [`Ramfs::rename`]); `EXDEV` between
    /// `/tmp` and another file system, `EROFS` within a read-only one.
    pub fn rename(
        &mut self,
        at: PathContext,
        from: &[u8],
        to: &[u8],
        now: u32,
        is_open: impl Fn(NodeId) -> bool,
    ) -> Result<(), Errno> {
        let source = self.ram_entry(at, from);
        // The target may not exist yet: only its directory must.
        let w = self.walk(at, to)?;
        let target = match (w.parent, w.name) {
            (NodeId::Ram(dir), Some(name)) => match w.node {
                Ok(_) | Err(Errno::ENOENT) => Ok((dir, name)),
                Err(e) => Err(e),
            },
            (_, None) => Err(match w.node {
                Ok(NodeId::Ram(RAM_ROOT)) => Errno::EBUSY,
                Ok(NodeId::Ram(_)) => Errno::EINVAL,
                Ok(_) => Errno::EXDEV,
                Err(e) => e,
            }),
            _ => Err(Errno::EXDEV),
        };
        let ((from_dir, from_name), (to_dir, to_name)) = match (source, target) {
            (Ok(s), Ok(t)) => (s, t),
            (Err(Errno::EROFS), Err(Errno::EXDEV)) => return Err(Errno::EROFS),
            (Err(Errno::EROFS), Ok(_)) => return Err(Errno::EXDEV),
            (Err(e), _) | (_, Err(e)) => return Err(e),
        };
        let moving = self.ram.child(from_dir, from_name)?;
        if w.dir_required && self.ram.node(moving).is_some_and(|n| !n.is_dir()) {
            return Err(Errno::ENOTDIR);
        }
        self.ram
            .rename(from_dir, from_name, to_dir, to_name, now, |ino| {
                is_open(NodeId::Ram(ino))
            })
    }

    /// Free the unlinked RAM files nobody has open any more (`is_open`).
    pub fn reap_orphans(&mut self, is_open: impl Fn(NodeId) -> bool) {
        self.ram.reap(|ino| is_open(NodeId::Ram(ino)));
    }

    /// The absolute path of directory (or file) `node`, as `getcwd` reports it;
    /// `ENOENT` for a node that no longer has a name.
    pub fn path_of(&self, node: NodeId) -> Result<Vec<u8>, Errno> {
        let mut names: Vec<&[u8]> = Vec::new();
        let mut cur = node;
        let mut len = 0usize;
        while cur != NodeId::Root {
            self.kind(cur)?;
            let name = self.name_of(cur).ok_or(Errno::ENOENT)?;
            len += name.len() + 1;
            if len >= PATH_MAX {
                return Err(Errno::ENAMETOOLONG);
            }
            names.push(name);
            cur = self.parent(cur);
        }
        let mut path = Vec::new();
        path.try_reserve(len.max(1)).map_err(|_| Errno::ENOMEM)?;
        for name in names.iter().rev() {
            path.push(b'/');
            path.extend_from_slice(name);
        }
        if path.is_empty() {
            path.push(b'/');
        }
        Ok(path)
    }

    /// The name of `node` in the directory holding it (`None` for `/`, for
    /// pipes and for files without a name).
    fn name_of(&self, node: NodeId) -> Option<&[u8]> {
        Some(match node {
            NodeId::Root | NodeId::Pipe(_) => return None,
            NodeId::DevDir => b"dev",
            NodeId::BootDir => b"boot",
            NodeId::ProcDir => b"proc",
            NodeId::Console => b"console",
            NodeId::Null => b"null",
            NodeId::Zero => b"zero",
            NodeId::ProcMeminfo => b"meminfo",
            NodeId::Ram(RAM_ROOT) => b"tmp",
            NodeId::Ram(ino) => return self.ram.name_of(ino),
            NodeId::Boot(i) => return self.boot.get(i as usize).map(|f| f.name.as_bytes()),
            NodeId::Init(i) => return self.init.node(i).map(|n| n.name.as_slice()),
            NodeId::ProcPid(pid) => return self.procs.get(&pid).map(Vec::as_slice),
            NodeId::ProcPidFile(_, f) => {
                return ProcFile::ALL
                    .iter()
                    .find(|&&(_, x)| x == f)
                    .map(|&(n, _)| n)
            }
        })
    }

    /// The size in bytes of a file (0 for directories and devices).
    pub fn size(&self, node: NodeId) -> u64 {
        self.file_data(node).map_or(0, |d| d.len() as u64)
    }

    /// The bytes of a regular file (a boot file or a RAM file).
    pub fn file_data(&self, node: NodeId) -> Result<&[u8], Errno> {
        match node {
            NodeId::Boot(i) => self
                .boot
                .get(i as usize)
                .map(|f| f.data)
                .ok_or(Errno::ENOENT),
            NodeId::Ram(ino) => self.ram.data(ino),
            NodeId::Init(i) => match self.init.node(i) {
                Some(n) if !n.dir => Ok(n.data),
                Some(_) => Err(Errno::EISDIR),
                None => Err(Errno::ENOENT),
            },
            _ => Err(if self.is_dir(node) {
                Errno::EISDIR
            } else {
                Errno::EINVAL
            }),
        }
    }

    /// Write `data` at `offset` of a RAM file (see [`Ramfs::write_at`]).
    pub fn write_at(
        &mut self,
        node: NodeId,
        offset: u64,
        data: &[u8],
        now: u32,
    ) -> Result<usize, Errno> {
        match node {
            NodeId::Ram(ino) => self.ram.write_at(ino, offset, data, now),
            NodeId::Boot(_) | NodeId::Init(_) => Err(Errno::EROFS),
            _ => Err(if self.is_dir(node) {
                Errno::EISDIR
            } else {
                Errno::EINVAL
            }),
        }
    }

    /// The `struct stat` of `node`.
    pub fn stat(&self, node: NodeId) -> Result<Stat, Errno> {
        let dir = |dev: u32, ino: u32, perm: u32, nlink: usize| Stat {
            st_dev: dev,
            st_ino: ino,
            st_mode: (mode::S_IFDIR | perm) as u16,
            st_nlink: nlink.min(u16::MAX as usize) as u16,
            ..Stat::default()
        };
        let chr = |ino: u32, perm: u32, major: u32, minor: u32| Stat {
            st_dev: dev::DEVFS,
            st_ino: ino,
            st_mode: (mode::S_IFCHR | perm) as u16,
            st_nlink: 1,
            st_rdev: (major << 8) | minor,
            ..Stat::default()
        };
        let file = |dev: u32, ino: u32, perm: u32, size: u64| Stat {
            st_dev: dev,
            st_ino: ino,
            st_mode: (mode::S_IFREG | perm) as u16,
            st_nlink: 1,
            st_size: size.min(u32::MAX as u64) as u32,
            ..Stat::default()
        };
        Ok(match node {
            NodeId::Root => dir(dev::ROOTFS, 1, 0o755, 6),
            NodeId::ProcDir => dir(dev::PROCFS, 7, 0o555, 3),
            NodeId::ProcMeminfo => file(dev::PROCFS, 10, 0o444, 0),
            NodeId::ProcPid(pid) | NodeId::ProcPidFile(pid, _)
                if !self.procs.contains_key(&pid) =>
            {
                return Err(Errno::ENOENT)
            }
            NodeId::ProcPid(pid) => dir(dev::PROCFS, PROC_INO_BASE + pid * 4, 0o555, 2),
            NodeId::ProcPidFile(pid, f) => {
                let k = ProcFile::ALL.iter().position(|&(_, x)| x == f).unwrap_or(0) as u32;
                file(dev::PROCFS, PROC_INO_BASE + pid * 4 + 1 + k, 0o444, 0)
            }
            NodeId::DevDir => dir(dev::DEVFS, 2, 0o755, 2),
            NodeId::BootDir => dir(dev::BOOTFS, 3, 0o555, 2),
            NodeId::Console => chr(4, 0o620, 5, 1),
            NodeId::Null => chr(5, 0o666, 1, 3),
            NodeId::Zero => chr(6, 0o666, 1, 5),
            NodeId::Init(i) => {
                let n = self.init.node(i).ok_or(Errno::ENOENT)?;
                if n.dir {
                    dir(dev::ROOTFS, INIT_INO_BASE + i, n.perm, 2)
                } else {
                    file(dev::ROOTFS, INIT_INO_BASE + i, n.perm, n.data.len() as u64)
                }
            }
            NodeId::Pipe(n) => Stat {
                st_dev: dev::PIPEFS,
                st_ino: n,
                st_mode: (mode::S_IFIFO | 0o600) as u16,
                st_nlink: 1,
                ..Stat::default()
            },
            NodeId::Boot(i) => {
                let f = self.boot.get(i as usize).ok_or(Errno::ENOENT)?;
                file(dev::BOOTFS, BOOT_INO_BASE + i, 0o555, f.data.len() as u64)
            }
            NodeId::Ram(ino) => {
                let n = self.ram.node(ino).ok_or(Errno::ENOENT)?;
                let mut st = match &n.body {
                    ramfs::Body::Dir(_) => dir(
                        dev::RAMFS,
                        ino,
                        u32::from(n.perm),
                        2 + self.ram.subdirs(ino),
                    ),
                    ramfs::Body::File(v) => Stat {
                        st_nlink: u16::from(!self.ram.is_orphan(ino)),
                        ..file(dev::RAMFS, ino, u32::from(n.perm), v.len() as u64)
                    },
                };
                st.st_atime = u64::from(n.mtime);
                st.st_mtime = u64::from(n.mtime);
                st.st_ctime = u64::from(n.ctime);
                st
            }
        })
    }

    /// The inode number of `node` (as `stat` reports it).
    pub fn ino(&self, node: NodeId) -> u32 {
        self.stat(node).map_or(0, |s| s.st_ino)
    }

    /// Entry `index` of directory `dir`: 0 is `.`, 1 is `..`, then the children in a
    /// stable order (creation order in `/boot`, name order in `/tmp`). `None` past
    /// the end; `ENOTDIR` if `dir` is not a directory.
    pub fn dir_entry(&self, dir: NodeId, index: u64) -> Result<Option<DirEntry<'_>>, Errno> {
        if !self.is_dir(dir) {
            return Err(if self.kind(dir).is_err() {
                Errno::ENOENT
            } else {
                Errno::ENOTDIR
            });
        }
        let dot = |name: &'static [u8], node: NodeId| DirEntry {
            ino: self.ino(node),
            name,
            dtype: dtype::DT_DIR,
        };
        let fixed = |name: &'static [u8], node: NodeId| {
            let kind = self.kind(node).unwrap_or(NodeKind::File);
            DirEntry {
                ino: self.ino(node),
                name,
                dtype: kind.dtype(),
            }
        };
        match index {
            0 => return Ok(Some(dot(b".", dir))),
            1 => return Ok(Some(dot(b"..", self.parent(dir)))),
            _ => {}
        }
        let Ok(i) = usize::try_from(index - 2) else {
            return Ok(None);
        };
        let init_entry = |dir: u32, i: usize| {
            self.init.children(dir).nth(i).map(|(c, n)| DirEntry {
                ino: INIT_INO_BASE + c,
                name: n.name.as_slice(),
                dtype: if n.dir { dtype::DT_DIR } else { dtype::DT_REG },
            })
        };
        const ROOT_FIXED: [(&[u8], NodeId); 4] = [
            (b"boot", NodeId::BootDir),
            (b"dev", NodeId::DevDir),
            (b"proc", NodeId::ProcDir),
            (b"tmp", NodeId::Ram(RAM_ROOT)),
        ];
        Ok(match dir {
            NodeId::Root => match ROOT_FIXED.get(i) {
                Some(&(n, node)) => Some(fixed(n, node)),
                None => init_entry(0, i - ROOT_FIXED.len()),
            },
            NodeId::Init(d) => init_entry(d, i),
            NodeId::DevDir => [
                (&b"console"[..], NodeId::Console),
                (b"null", NodeId::Null),
                (b"zero", NodeId::Zero),
            ]
            .get(i)
            .map(|&(n, node)| fixed(n, node)),
            NodeId::ProcDir => match i {
                0 => Some(fixed(b"meminfo", NodeId::ProcMeminfo)),
                1 => Some(DirEntry {
                    ino: PROC_SELF_INO,
                    name: b"self",
                    dtype: dtype::DT_DIR,
                }),
                _ => self.procs.iter().nth(i - 2).map(|(&pid, name)| DirEntry {
                    ino: PROC_INO_BASE + pid * 4,
                    name: name.as_slice(),
                    dtype: dtype::DT_DIR,
                }),
            },
            NodeId::ProcPid(pid) => ProcFile::ALL
                .get(i)
                .map(|&(n, f)| fixed(n, NodeId::ProcPidFile(pid, f))),
            NodeId::BootDir => self.boot.get(i).map(|f| DirEntry {
                ino: BOOT_INO_BASE + i as u32,
                name: f.name.as_bytes(),
                dtype: dtype::DT_REG,
            }),
            NodeId::Ram(ino) => self.ram.entry(ino, i)?.map(|(name, child)| {
                let kind = self.kind(NodeId::Ram(child)).unwrap_or(NodeKind::File);
                DirEntry {
                    ino: child,
                    name,
                    dtype: kind.dtype(),
                }
            }),
            _ => None,
        })
    }
}

impl Vfs {
    /// The entries of directory `dir` from the `index`th on (the cursor of
    /// [`Vfs::dir_entry`]), each with the index of the entry after it. One walk:
    /// listing a directory of n entries costs O(n), not O(n²).
    pub fn dir_entries(
        &self,
        dir: NodeId,
        index: u64,
    ) -> Result<impl Iterator<Item = (u64, DirEntry<'_>)> + '_, Errno> {
        // The first entry also validates `dir` (ENOTDIR, ENOENT).
        let first = self.dir_entry(dir, index)?;
        let ram = match dir {
            NodeId::Ram(ino) if index >= 2 => {
                let skip = usize::try_from(index - 2).map_err(|_| Errno::EOVERFLOW)?;
                Some(self.ram.entries_from(ino, skip)?)
            }
            _ => None,
        };
        let mut next = index;
        let mut ram = ram.map(|it| it.skip(1));
        let mut pending = first;
        Ok(core::iter::from_fn(move || {
            let e = pending.take()?;
            next += 1;
            pending = match ram.as_mut() {
                Some(it) => it.next().map(|(name, child)| DirEntry {
                    ino: child,
                    name,
                    dtype: self
                        .kind(NodeId::Ram(child))
                        .unwrap_or(NodeKind::File)
                        .dtype(),
                }),
                None => self.dir_entry(dir, next).ok().flatten(),
            };
            Some((next, e))
        }))
    }
}

#[cfg(test)]
mod tests;
