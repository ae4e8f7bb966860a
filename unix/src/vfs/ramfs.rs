//! The RAM file system mounted at `/tmp`: directories and regular files held as plain
//! data (inode numbers and byte vectors), with limits on total bytes, node count and
//! file size so a program cannot exhaust the kernel heap (`ENOSPC`, `EFBIG`).
//!
//! Names go with `unlink`, `rmdir` and `rename`. A file whose last name goes while
//! it is open stays, nameless (an *orphan*, `st_nlink` 0), readable and writable
//! through its descriptors, and still counts against the limits, until
//! [`Ramfs::reap`] finds it closed.

use crate::errno::Errno;
use alloc::collections::{BTreeMap, BTreeSet};
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
    /// Files without a name that were open when it went.
    orphans: BTreeSet<Ino>,
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
            orphans: BTreeSet::new(),
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
        Self::check_name(name)?;
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

    /// Whether `ino` is a file without a name (see the module documentation).
    pub fn is_orphan(&self, ino: Ino) -> bool {
        self.orphans.contains(&ino)
    }

    /// The name of `ino` in its directory (`None` for the root and orphans).
    pub fn name_of(&self, ino: Ino) -> Option<&[u8]> {
        let parent = self.nodes.get(&ino)?.parent;
        match &self.nodes.get(&parent)?.body {
            Body::Dir(d) if ino != RAM_ROOT => d
                .iter()
                .find(|&(_, &i)| i == ino)
                .map(|(name, _)| name.as_slice()),
            _ => None,
        }
    }

    /// A name that may go into a directory: `EINVAL` for empty, `.`, `..` or one
    /// holding `/`; `ENAMETOOLONG` past 255 bytes.
    fn check_name(name: &[u8]) -> Result<(), Errno> {
        if name.is_empty() || name == b"." || name == b".." || name.contains(&b'/') {
            return Err(Errno::EINVAL);
        }
        if name.len() > crate::abi::NAME_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        Ok(())
    }

    /// Stamp directory `dir` as changed.
    fn touch(&mut self, dir: Ino, now: u32) {
        if let Some(n) = self.nodes.get_mut(&dir) {
            n.mtime = now;
            n.ctime = now;
        }
    }

    /// Drop node `ino`, which no directory names any more: gone at once, or an
    /// orphan while `open` says it is open.
    fn drop_node(&mut self, ino: Ino, open: bool) {
        if open {
            self.orphans.insert(ino);
            return;
        }
        if let Some(RamNode {
            body: Body::File(v),
            ..
        }) = self.nodes.remove(&ino)
        {
            self.used_bytes -= v.len();
        }
    }

    /// Free the orphans `is_open` says nobody has open any more.
    pub fn reap(&mut self, is_open: impl Fn(Ino) -> bool) {
        let closed: alloc::vec::Vec<Ino> = self
            .orphans
            .iter()
            .copied()
            .filter(|&i| !is_open(i))
            .collect();
        for ino in closed {
            self.orphans.remove(&ino);
            self.drop_node(ino, false);
        }
    }

    /// `unlink`: remove the name `name` of a file from directory `dir`; the file
    /// stays as an orphan when `is_open` says it is open. `EISDIR` for a directory.
    pub fn unlink(
        &mut self,
        dir: Ino,
        name: &[u8],
        now: u32,
        is_open: impl Fn(Ino) -> bool,
    ) -> Result<(), Errno> {
        let ino = self.child(dir, name)?;
        if self.nodes.get(&ino).is_some_and(RamNode::is_dir) {
            return Err(Errno::EISDIR);
        }
        self.remove_entry(dir, name);
        self.touch(dir, now);
        self.drop_node(ino, is_open(ino));
        Ok(())
    }

    /// `rmdir`: remove the empty directory `name` of `dir`. `ENOTDIR` for a file,
    /// `ENOTEMPTY` when it holds anything.
    pub fn rmdir(&mut self, dir: Ino, name: &[u8], now: u32) -> Result<(), Errno> {
        let ino = self.child(dir, name)?;
        match self.nodes.get(&ino).map(|n| &n.body) {
            Some(Body::Dir(d)) if d.is_empty() => {}
            Some(Body::Dir(_)) => return Err(Errno::ENOTEMPTY),
            _ => return Err(Errno::ENOTDIR),
        }
        self.remove_entry(dir, name);
        self.touch(dir, now);
        self.nodes.remove(&ino);
        Ok(())
    }

    fn remove_entry(&mut self, dir: Ino, name: &[u8]) -> Option<Ino> {
        match self.nodes.get_mut(&dir).map(|n| &mut n.body) {
            Some(Body::Dir(d)) => d.remove(name),
            _ => None,
        }
    }

    /// Whether `ino` is `ancestor` or inside it.
    fn within(&self, mut ino: Ino, ancestor: Ino) -> bool {
        // Parents lead to the root in at most one step per node.
        for _ in 0..=self.nodes.len() {
            if ino == ancestor {
                return true;
            }
            match self.nodes.get(&ino) {
                Some(n) if n.parent != ino => ino = n.parent,
                _ => return false,
            }
        }
        false
    }

    /// `rename`: the node `from_name` of `from_dir` becomes `to_name` of `to_dir`,
    /// replacing what that named (a file by a file, an empty directory by a
    /// directory; the replaced file stays as an orphan while open). Renaming a
    /// node to itself does nothing. `EINVAL` for moving a directory into itself,
    /// `ENOTDIR` / `EISDIR` for a directory over a file / a file over a directory,
    /// `ENOTEMPTY` over a directory that holds something.
    #[allow(clippy::too_many_arguments)]
    pub fn rename(
        &mut self,
        from_dir: Ino,
        from_name: &[u8],
        to_dir: Ino,
        to_name: &[u8],
        now: u32,
        is_open: impl Fn(Ino) -> bool,
    ) -> Result<(), Errno> {
        let ino = self.child(from_dir, from_name)?;
        Self::check_name(to_name)?;
        let moving_dir = self.nodes.get(&ino).is_some_and(RamNode::is_dir);
        match self.nodes.get(&to_dir).map(|n| &n.body) {
            Some(Body::Dir(_)) => {}
            Some(Body::File(_)) => return Err(Errno::ENOTDIR),
            None => return Err(Errno::ENOENT),
        }
        if moving_dir && self.within(to_dir, ino) {
            return Err(Errno::EINVAL);
        }
        let replaced = match self.child(to_dir, to_name) {
            Ok(t) if t == ino => return Ok(()),
            Ok(t) => {
                match (moving_dir, self.nodes.get(&t).map(|n| &n.body)) {
                    (true, Some(Body::Dir(d))) if d.is_empty() => {}
                    (true, Some(Body::Dir(_))) => return Err(Errno::ENOTEMPTY),
                    (true, _) => return Err(Errno::ENOTDIR),
                    (false, Some(Body::Dir(_))) => return Err(Errno::EISDIR),
                    (false, _) => {}
                }
                Some(t)
            }
            Err(Errno::ENOENT) => None,
            Err(e) => return Err(e),
        };
        let mut key = Vec::new();
        key.try_reserve(to_name.len()).map_err(|_| Errno::ENOSPC)?;
        key.extend_from_slice(to_name);
        // Nothing fails from here on.
        self.remove_entry(from_dir, from_name);
        if let Some(Body::Dir(d)) = self.nodes.get_mut(&to_dir).map(|n| &mut n.body) {
            d.insert(key, ino);
        }
        if let Some(n) = self.nodes.get_mut(&ino) {
            n.parent = to_dir;
            n.ctime = now;
        }
        self.touch(from_dir, now);
        self.touch(to_dir, now);
        if let Some(t) = replaced {
            let open = is_open(t);
            self.drop_node(t, open);
        }
        Ok(())
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

    #[test]
    fn unlink_rmdir_and_orphans() {
        let mut fs = Ramfs::default();
        let f = fs.create(RAM_ROOT, b"f", 0o644, false, 0).unwrap();
        fs.write_at(f, 0, b"data", 0).unwrap();
        let d = fs.create(RAM_ROOT, b"d", 0o755, true, 0).unwrap();
        fs.create(d, b"inner", 0o644, false, 0).unwrap();
        assert_eq!(fs.unlink(RAM_ROOT, b"d", 1, |_| false), Err(Errno::EISDIR));
        assert_eq!(fs.rmdir(RAM_ROOT, b"f", 1), Err(Errno::ENOTDIR));
        assert_eq!(fs.rmdir(RAM_ROOT, b"d", 1), Err(Errno::ENOTEMPTY));
        assert_eq!(
            fs.unlink(RAM_ROOT, b"nope", 1, |_| false),
            Err(Errno::ENOENT)
        );
        // Unlinked while open: nameless, still readable, still counted.
        fs.unlink(RAM_ROOT, b"f", 2, |i| i == f).unwrap();
        assert_eq!(fs.child(RAM_ROOT, b"f"), Err(Errno::ENOENT));
        assert!(fs.is_orphan(f));
        assert_eq!(fs.data(f).unwrap(), b"data");
        assert_eq!(fs.used_bytes(), 4);
        fs.reap(|i| i == f);
        assert_eq!(fs.used_bytes(), 4);
        fs.reap(|_| false);
        assert_eq!(fs.data(f), Err(Errno::ENOENT));
        assert_eq!(fs.used_bytes(), 0);
        fs.unlink(d, b"inner", 3, |_| false).unwrap();
        fs.rmdir(RAM_ROOT, b"d", 3).unwrap();
        assert_eq!(fs.node_count(), 1);
        assert_eq!(fs.node(RAM_ROOT).unwrap().mtime, 3);
    }

    #[test]
    fn rename_moves_replaces_and_refuses() {
        let mut fs = Ramfs::default();
        let a = fs.create(RAM_ROOT, b"a", 0o644, false, 0).unwrap();
        fs.write_at(a, 0, b"A", 0).unwrap();
        let b = fs.create(RAM_ROOT, b"b", 0o644, false, 0).unwrap();
        fs.write_at(b, 0, b"BB", 0).unwrap();
        let d = fs.create(RAM_ROOT, b"d", 0o755, true, 0).unwrap();
        let e = fs.create(d, b"e", 0o755, true, 0).unwrap();
        // A file over a file: the old one goes (its bytes too).
        fs.rename(RAM_ROOT, b"a", RAM_ROOT, b"b", 1, |_| false)
            .unwrap();
        assert_eq!(fs.child(RAM_ROOT, b"b"), Ok(a));
        assert_eq!(fs.child(RAM_ROOT, b"a"), Err(Errno::ENOENT));
        assert_eq!(fs.data(b), Err(Errno::ENOENT));
        assert_eq!(fs.used_bytes(), 1);
        // Into a directory, and its name there.
        fs.rename(RAM_ROOT, b"b", d, b"moved", 2, |_| false)
            .unwrap();
        assert_eq!(fs.child(d, b"moved"), Ok(a));
        assert_eq!(fs.node(a).unwrap().parent, d);
        assert_eq!(fs.name_of(a), Some(&b"moved"[..]));
        // Itself: nothing.
        fs.rename(d, b"moved", d, b"moved", 3, |_| false).unwrap();
        assert_eq!(fs.child(d, b"moved"), Ok(a));
        // A directory into itself or below.
        assert_eq!(
            fs.rename(RAM_ROOT, b"d", e, b"x", 3, |_| false),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            fs.rename(RAM_ROOT, b"d", d, b"x", 3, |_| false),
            Err(Errno::EINVAL)
        );
        // Type clashes.
        assert_eq!(
            fs.rename(d, b"moved", d, b"e", 3, |_| false),
            Err(Errno::EISDIR)
        );
        assert_eq!(
            fs.rename(d, b"e", d, b"moved", 3, |_| false),
            Err(Errno::ENOTDIR)
        );
        let f = fs.create(RAM_ROOT, b"full", 0o755, true, 0).unwrap();
        fs.create(f, b"x", 0o644, false, 0).unwrap();
        assert_eq!(
            fs.rename(d, b"e", RAM_ROOT, b"full", 3, |_| false),
            Err(Errno::ENOTEMPTY)
        );
        assert_eq!(
            fs.rename(d, b"e", RAM_ROOT, b"..", 3, |_| false),
            Err(Errno::EINVAL)
        );
        // A directory over an empty one; it moves with its parent link.
        fs.rename(RAM_ROOT, b"full", d, b"e", 4, |_| false).unwrap();
        assert_eq!(fs.child(d, b"e"), Ok(f));
        assert_eq!(fs.node(e), None);
        assert_eq!(fs.node(f).unwrap().parent, d);
        // Replacing an open file keeps it as an orphan.
        let g = fs.create(RAM_ROOT, b"g", 0o644, false, 0).unwrap();
        fs.write_at(g, 0, b"GGG", 0).unwrap();
        let h = fs.create(RAM_ROOT, b"h", 0o644, false, 0).unwrap();
        fs.rename(RAM_ROOT, b"h", RAM_ROOT, b"g", 5, |i| i == g)
            .unwrap();
        assert!(fs.is_orphan(g));
        assert_eq!(fs.data(g).unwrap(), b"GGG");
        assert_eq!(fs.child(RAM_ROOT, b"g"), Ok(h));
    }
}
