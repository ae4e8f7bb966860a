//! The RAM file system mounted at `/tmp`: directories and regular files held as plain
//! data (inode numbers and byte vectors), with limits on total bytes, node count and
//! file size so a program cannot exhaust the kernel heap (`ENOSPC`, `EFBIG`).

use crate::errno::Errno;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;

/// A RAM file system inode number.
pub type Ino = u32;

/// Inode number of the file system's root directory (`/tmp`).
pub const RAM_ROOT: Ino = 0x1_0000;

/// Limits of one RAM file system.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RamfsLimits {
    /// Most bytes all files together may hold.
    pub max_bytes: usize,
    /// Most nodes (files and directories, the root included).
    pub max_nodes: usize,
    /// Largest file size (at most `i32::MAX`: offsets are 32-bit).
    pub max_file: u64,
}

impl Default for RamfsLimits {
    /// 16 MiB of file data, 4096 nodes, 16 MiB per file.
    fn default() -> Self {
        RamfsLimits {
            max_bytes: 16 << 20,
            max_nodes: 4096,
            max_file: 16 << 20,
        }
    }
}

/// What a node holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// A regular file's bytes.
    File(Vec<u8>),
    /// A directory: name → inode, sorted by name.
    Dir(BTreeMap<Vec<u8>, Ino>),
}

/// One node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RamNode {
    /// The directory holding it (the root: itself).
    pub parent: Ino,
    /// Permission bits (`0o777` mask).
    pub perm: u16,
    /// Last modification (seconds).
    pub mtime: u32,
    /// Last status change (seconds).
    pub ctime: u32,
    /// Contents.
    pub body: Body,
}

impl RamNode {
    /// Whether this is a directory.
    pub fn is_dir(&self) -> bool {
        matches!(self.body, Body::Dir(_))
    }
}

/// The file system. See the module documentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ramfs {
    nodes: BTreeMap<Ino, RamNode>,
    next: Ino,
    used_bytes: usize,
    limits: RamfsLimits,
}

impl Default for Ramfs {
    fn default() -> Self {
        Self::new(RamfsLimits::default())
    }
}

impl Ramfs {
    /// An empty file system (just its root directory, mode 0o1777).
    pub fn new(limits: RamfsLimits) -> Ramfs {
        let mut nodes = BTreeMap::new();
        nodes.insert(
            RAM_ROOT,
            RamNode {
                parent: RAM_ROOT,
                perm: 0o1777,
                mtime: 0,
                ctime: 0,
                body: Body::Dir(BTreeMap::new()),
            },
        );
        Ramfs {
            nodes,
            next: RAM_ROOT + 1,
            used_bytes: 0,
            limits: RamfsLimits {
                max_file: limits.max_file.min(i32::MAX as u64),
                ..limits
            },
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> RamfsLimits {
        self.limits
    }

    /// Bytes held by all files.
    pub fn used_bytes(&self) -> usize {
        self.used_bytes
    }

    /// Number of nodes (the root included).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The node `ino`.
    pub fn node(&self, ino: Ino) -> Option<&RamNode> {
        self.nodes.get(&ino)
    }

    /// The child `name` of directory `dir`.
    pub fn child(&self, dir: Ino, name: &[u8]) -> Result<Ino, Errno> {
        match self.nodes.get(&dir).map(|n| &n.body) {
            Some(Body::Dir(d)) => d.get(name).copied().ok_or(Errno::ENOENT),
            Some(Body::File(_)) => Err(Errno::ENOTDIR),
            None => Err(Errno::ENOENT),
        }
    }

    /// The `index`th entry of directory `dir` (by name order): name and inode.
    pub fn entry(&self, dir: Ino, index: usize) -> Result<Option<(&[u8], Ino)>, Errno> {
        Ok(self.entries_from(dir, index)?.next())
    }

    /// The entries of directory `dir` from the `index`th on, in name order.
    pub fn entries_from(
        &self,
        dir: Ino,
        index: usize,
    ) -> Result<impl Iterator<Item = (&[u8], Ino)> + '_, Errno> {
        match self.nodes.get(&dir).map(|n| &n.body) {
            Some(Body::Dir(d)) => Ok(d.iter().skip(index).map(|(k, &v)| (k.as_slice(), v))),
            Some(Body::File(_)) => Err(Errno::ENOTDIR),
            None => Err(Errno::ENOENT),
        }
    }

    /// Number of subdirectories of `dir`.
    pub fn subdirs(&self, dir: Ino) -> usize {
        match self.nodes.get(&dir).map(|n| &n.body) {
            Some(Body::Dir(d)) => d
                .values()
                .filter(|i| self.nodes.get(i).is_some_and(RamNode::is_dir))
                .count(),
            _ => 0,
        }
    }

    /// Create `name` in directory `dir` (must not exist): a file, or a directory.
    pub fn create(
        &mut self,
        dir: Ino,
        name: &[u8],
        perm: u32,
        is_dir: bool,
        now: u32,
    ) -> Result<Ino, Errno> {
        if name.is_empty() || name == b"." || name == b".." || name.contains(&b'/') {
            return Err(Errno::EINVAL);
        }
        if name.len() > crate::abi::NAME_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        match self.child(dir, name) {
            Ok(_) => return Err(Errno::EEXIST),
            Err(Errno::ENOENT) if self.nodes.contains_key(&dir) => {}
            Err(e) => return Err(e),
        }
        if self.nodes.len() >= self.limits.max_nodes {
            return Err(Errno::ENOSPC);
        }
        let ino = self.next;
        let next = ino.checked_add(1).ok_or(Errno::ENOSPC)?;
        let mut key = Vec::new();
        key.try_reserve(name.len()).map_err(|_| Errno::ENOSPC)?;
        key.extend_from_slice(name);
        let body = if is_dir {
            Body::Dir(BTreeMap::new())
        } else {
            Body::File(Vec::new())
        };
        if let Some(RamNode {
            body: Body::Dir(d),
            mtime,
            ctime,
            ..
        }) = self.nodes.get_mut(&dir)
        {
            d.insert(key, ino);
            *mtime = now;
            *ctime = now;
        }
        self.nodes.insert(
            ino,
            RamNode {
                parent: dir,
                perm: (perm & 0o7777) as u16,
                mtime: now,
                ctime: now,
                body,
            },
        );
        self.next = next;
        Ok(ino)
    }

    /// The bytes of file `ino`.
    pub fn data(&self, ino: Ino) -> Result<&[u8], Errno> {
        match self.nodes.get(&ino).map(|n| &n.body) {
            Some(Body::File(v)) => Ok(v),
            Some(Body::Dir(_)) => Err(Errno::EISDIR),
            None => Err(Errno::ENOENT),
        }
    }

    /// The file `ino` for writing, with the room the byte limit leaves.
    fn file_mut(&mut self, ino: Ino) -> Result<(&mut RamNode, usize), Errno> {
        let room = self.limits.max_bytes.saturating_sub(self.used_bytes);
        match self.nodes.get_mut(&ino) {
            Some(n) if n.is_dir() => Err(Errno::EISDIR),
            Some(n) => Ok((n, room)),
            None => Err(Errno::ENOENT),
        }
    }

    /// Write `data` at `offset` of file `ino` (a hole before it reads as zeros).
    /// Writes as much as the limits allow: a short count, or `EFBIG` / `ENOSPC` if
    /// nothing fits.
    pub fn write_at(
        &mut self,
        ino: Ino,
        offset: u64,
        data: &[u8],
        now: u32,
    ) -> Result<usize, Errno> {
        let max_file = self.limits.max_file;
        let (node, room) = self.file_mut(ino)?;
        let Body::File(v) = &mut node.body else {
            return Err(Errno::EISDIR);
        };
        if data.is_empty() {
            return Ok(0);
        }
        if offset >= max_file {
            return Err(Errno::EFBIG);
        }
        let cur = v.len() as u64;
        let mut end = offset.saturating_add(data.len() as u64).min(max_file);
        // Growth beyond the current length is limited by the byte budget.
        let limit_end = cur.saturating_add(room as u64);
        if end > limit_end {
            end = limit_end;
        }
        if end <= offset {
            return Err(Errno::ENOSPC);
        }
        let n = (end - offset) as usize;
        let new_len = (end.max(cur)) as usize;
        let growth = new_len - v.len();
        v.try_reserve(growth).map_err(|_| Errno::ENOSPC)?;
        if growth > 0 {
            v.resize(new_len, 0);
        }
        let off = offset as usize;
        v[off..off + n].copy_from_slice(&data[..n]);
        node.mtime = now;
        node.ctime = now;
        self.used_bytes += growth;
        Ok(n)
    }

    /// Set the length of file `ino` (growing with zeros).
    pub fn truncate(&mut self, ino: Ino, len: u64, now: u32) -> Result<(), Errno> {
        let max_file = self.limits.max_file;
        let (node, room) = self.file_mut(ino)?;
        let Body::File(v) = &mut node.body else {
            return Err(Errno::EISDIR);
        };
        if len > max_file {
            return Err(Errno::EFBIG);
        }
        let cur = v.len();
        let len = len as usize;
        if len > cur {
            let growth = len - cur;
            if growth > room {
                return Err(Errno::ENOSPC);
            }
            v.try_reserve(growth).map_err(|_| Errno::ENOSPC)?;
            v.resize(len, 0);
        } else {
            v.truncate(len);
            v.shrink_to_fit();
        }
        node.mtime = now;
        node.ctime = now;
        self.used_bytes = self.used_bytes + len - cur;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_write_read_truncate() {
        let mut fs = Ramfs::default();
        let f = fs.create(RAM_ROOT, b"a", 0o644, false, 5).unwrap();
        assert_eq!(
            fs.create(RAM_ROOT, b"a", 0o644, false, 5),
            Err(Errno::EEXIST)
        );
        assert_eq!(fs.write_at(f, 0, b"hello", 6), Ok(5));
        assert_eq!(fs.write_at(f, 8, b"!", 6), Ok(1));
        assert_eq!(fs.data(f).unwrap(), b"hello\0\0\0!");
        assert_eq!(fs.used_bytes(), 9);
        fs.truncate(f, 2, 7).unwrap();
        assert_eq!(fs.data(f).unwrap(), b"he");
        assert_eq!(fs.used_bytes(), 2);
        fs.truncate(f, 4, 7).unwrap();
        assert_eq!(fs.data(f).unwrap(), b"he\0\0");
        assert_eq!(fs.node(f).unwrap().mtime, 7);
        let d = fs.create(RAM_ROOT, b"d", 0o755, true, 8).unwrap();
        assert_eq!(fs.data(d), Err(Errno::EISDIR));
        assert_eq!(fs.child(RAM_ROOT, b"d"), Ok(d));
        assert_eq!(fs.child(f, b"x"), Err(Errno::ENOTDIR));
        assert_eq!(fs.entry(RAM_ROOT, 0).unwrap(), Some((&b"a"[..], f)));
        assert_eq!(fs.entry(RAM_ROOT, 1).unwrap(), Some((&b"d"[..], d)));
        assert_eq!(fs.entry(RAM_ROOT, 2).unwrap(), None);
        assert_eq!(fs.subdirs(RAM_ROOT), 1);
        assert_eq!(fs.create(RAM_ROOT, b"..", 0, false, 0), Err(Errno::EINVAL));
        assert_eq!(
            fs.create(RAM_ROOT, &[b'x'; 256], 0, false, 0),
            Err(Errno::ENAMETOOLONG)
        );
    }

    #[test]
    fn limits() {
        let mut fs = Ramfs::new(RamfsLimits {
            max_bytes: 10,
            max_nodes: 3,
            max_file: 8,
        });
        let f = fs.create(RAM_ROOT, b"a", 0o644, false, 0).unwrap();
        assert_eq!(fs.write_at(f, 6, b"abcdef", 0), Ok(2)); // file size limit
        assert_eq!(fs.write_at(f, 8, b"x", 0), Err(Errno::EFBIG));
        let g = fs.create(RAM_ROOT, b"b", 0o644, false, 0).unwrap();
        assert_eq!(fs.write_at(g, 0, b"abcdef", 0), Ok(2)); // byte budget
        assert_eq!(fs.write_at(g, 0, b"XY", 0), Ok(2)); // overwrite needs no room
        assert_eq!(fs.write_at(g, 2, b"z", 0), Err(Errno::ENOSPC));
        assert_eq!(fs.truncate(g, 5, 0), Err(Errno::ENOSPC));
        assert_eq!(
            fs.create(RAM_ROOT, b"c", 0o644, false, 0),
            Err(Errno::ENOSPC)
        );
        assert_eq!(fs.write_at(g, 0, b"", 0), Ok(0));
    }
}
