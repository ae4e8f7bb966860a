//! Open file descriptions ([`OpenFiles`], system-wide) and per-process file
//! descriptor tables ([`FdTable`]).
//!
//! As in Unix, a descriptor names an open file description (node, offset, access
//! mode, append flag) that several descriptors — later, of several processes after
//! `fork`/`dup` — may share; it is reference counted and disappears with its last
//! descriptor. Both tables are plain data (ids and [`NodeId`]s), so they can be
//! saved with a process.

use crate::abi::open_flags as of;
use crate::errno::Errno;
use crate::pipe::{Pipe, PIPES_MAX};
use crate::vfs::NodeId;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;

/// Descriptors per process (`EMFILE` beyond).
pub const FD_MAX: usize = 64;
/// Open file descriptions in the system (`ENFILE` beyond).
pub const OPEN_FILES_MAX: usize = 4096;
/// Most bytes the contents snapshots of all open descriptions may hold together
/// (`/proc/self/maps` listings, taken at `open`): `ENOMEM` beyond.
pub const SNAPSHOT_BYTES_MAX: usize = 4 << 20;

/// Names an open file description in [`OpenFiles`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub u32);

/// An open file description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenFile {
    /// What is open.
    pub node: NodeId,
    /// The file offset (for directories: the index of the next entry).
    pub offset: u64,
    /// Opened for reading.
    pub readable: bool,
    /// Opened for writing.
    pub writable: bool,
    /// `O_APPEND`: every write goes to the end.
    pub append: bool,
    /// `O_NONBLOCK`: a read or write that would wait fails with `EAGAIN`.
    pub nonblock: bool,
    refs: u32,
}

impl OpenFile {
    /// A description of `node` for `open` flags `flags` (offset 0).
    pub fn new(node: NodeId, flags: u32) -> OpenFile {
        let acc = flags & of::O_ACCMODE;
        OpenFile {
            node,
            offset: 0,
            readable: acc == of::O_RDONLY || acc == of::O_RDWR,
            writable: acc == of::O_WRONLY || acc == of::O_RDWR,
            append: flags & of::O_APPEND != 0,
            nonblock: flags & of::O_NONBLOCK != 0,
            refs: 1,
        }
    }

    /// The status flags `fcntl(F_GETFL)` reports: the access mode, `O_APPEND`,
    /// `O_NONBLOCK`.
    pub fn status_flags(&self) -> u32 {
        let access = match (self.readable, self.writable) {
            (true, true) => of::O_RDWR,
            (false, true) => of::O_WRONLY,
            _ => of::O_RDONLY,
        };
        access
            | if self.append { of::O_APPEND } else { 0 }
            | if self.nonblock { of::O_NONBLOCK } else { 0 }
    }

    /// Number of descriptors referring to it.
    pub fn refs(&self) -> u32 {
        self.refs
    }
}

/// All open file descriptions of the system, and the contents snapshots some of them
/// read from (a generated file's text, taken when it was opened).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OpenFiles {
    files: BTreeMap<u32, OpenFile>,
    next: u32,
    snapshots: BTreeMap<u32, Vec<u8>>,
    snapshot_bytes: usize,
    pipes: BTreeMap<u32, Pipe>,
    next_pipe: u32,
    /// Pipes changed since the kernel last looked (see
    /// [`OpenFiles::take_pipe_event`]).
    pipe_events: Vec<u32>,
}

impl OpenFiles {
    /// None open.
    pub fn new() -> OpenFiles {
        OpenFiles::default()
    }

    /// Number of open descriptions.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether none is open.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Register `file` (with one reference). `ENFILE` when the table is full.
    pub fn insert(&mut self, file: OpenFile) -> Result<FileId, Errno> {
        if self.files.len() >= OPEN_FILES_MAX {
            return Err(Errno::ENFILE);
        }
        let mut id = self.next;
        while self.files.contains_key(&id) {
            id = id.wrapping_add(1);
        }
        self.next = id.wrapping_add(1);
        self.files.insert(id, OpenFile { refs: 1, ..file });
        Ok(FileId(id))
    }

    /// Register `file` reading from the snapshot `data` (a generated file's contents,
    /// dropped with the description). `ENOMEM` when all snapshots together would pass
    /// [`SNAPSHOT_BYTES_MAX`], `ENFILE` when the table is full.
    pub fn insert_with_data(&mut self, file: OpenFile, data: Vec<u8>) -> Result<FileId, Errno> {
        let bytes = self
            .snapshot_bytes
            .checked_add(data.len())
            .filter(|&b| b <= SNAPSHOT_BYTES_MAX)
            .ok_or(Errno::ENOMEM)?;
        let id = self.insert(file)?;
        self.snapshot_bytes = bytes;
        self.snapshots.insert(id.0, data);
        Ok(id)
    }

    /// The snapshot the description `id` reads from, if it has one.
    pub fn data(&self, id: FileId) -> Option<&[u8]> {
        self.snapshots.get(&id.0).map(Vec::as_slice)
    }

    /// Bytes held by all snapshots.
    pub fn snapshot_bytes(&self) -> usize {
        self.snapshot_bytes
    }

    /// The description `id`.
    pub fn get(&self, id: FileId) -> Option<&OpenFile> {
        self.files.get(&id.0)
    }

    /// Whether some description has `node` open.
    pub fn is_open(&self, node: NodeId) -> bool {
        self.files.values().any(|f| f.node == node)
    }

    /// Moves the offset of `id` (nothing if it is gone).
    pub fn set_offset(&mut self, id: FileId, offset: u64) {
        if let Some(file) = self.get_mut(id) {
            file.offset = offset;
        }
    }

    /// The description `id`, mutable.
    pub fn get_mut(&mut self, id: FileId) -> Option<&mut OpenFile> {
        self.files.get_mut(&id.0)
    }

    /// One more descriptor refers to `id`.
    pub fn add_ref(&mut self, id: FileId) -> Result<(), Errno> {
        let f = self.files.get_mut(&id.0).ok_or(Errno::EBADF)?;
        f.refs = f.refs.checked_add(1).ok_or(Errno::ENFILE)?;
        Ok(())
    }

    /// One descriptor less refers to `id`; returns the description if that was the
    /// last one (it is then gone, and with it its end of a pipe).
    pub fn release(&mut self, id: FileId) -> Option<OpenFile> {
        let f = self.files.get_mut(&id.0)?;
        f.refs = f.refs.saturating_sub(1);
        if f.refs == 0 {
            if let Some(d) = self.snapshots.remove(&id.0) {
                self.snapshot_bytes = self.snapshot_bytes.saturating_sub(d.len());
            }
            let f = self.files.remove(&id.0)?;
            if let NodeId::Pipe(n) = f.node {
                self.close_pipe_end(n, f.readable);
            }
            Some(f)
        } else {
            None
        }
    }

    /// A new pipe: its read end's and its write end's descriptions. `ENFILE` when
    /// the system has [`PIPES_MAX`] pipes or no room for two descriptions.
    pub fn create_pipe(&mut self) -> Result<(FileId, FileId), Errno> {
        if self.pipes.len() >= PIPES_MAX || self.files.len() + 2 > OPEN_FILES_MAX {
            return Err(Errno::ENFILE);
        }
        let mut n = self.next_pipe;
        while self.pipes.contains_key(&n) {
            n = n.wrapping_add(1);
        }
        self.next_pipe = n.wrapping_add(1);
        self.pipes.insert(n, Pipe::new());
        let read = self.insert(OpenFile::new(NodeId::Pipe(n), of::O_RDONLY))?;
        let write = self.insert(OpenFile::new(NodeId::Pipe(n), of::O_WRONLY))?;
        Ok((read, write))
    }

    /// Pipe `n`.
    pub fn pipe(&self, n: u32) -> Option<&Pipe> {
        self.pipes.get(&n)
    }

    /// Pipe `n`, to read or write it (the change is noted as an event).
    pub fn pipe_mut(&mut self, n: u32) -> Option<&mut Pipe> {
        if !self.pipe_events.contains(&n) {
            self.pipe_events.push(n);
        }
        self.pipes.get_mut(&n)
    }

    /// Number of pipes.
    pub fn pipes(&self) -> usize {
        self.pipes.len()
    }

    /// Whether some pipe changed since the last [`OpenFiles::take_pipe_event`].
    #[inline]
    pub fn has_pipe_events(&self) -> bool {
        !self.pipe_events.is_empty()
    }

    /// A pipe that changed (data in or out, an end closed) since it was last
    /// taken: whoever waits on it may go on. `None` when no pipe changed.
    pub fn take_pipe_event(&mut self) -> Option<u32> {
        self.pipe_events.pop()
    }

    fn close_pipe_end(&mut self, n: u32, read_end: bool) {
        let gone = match self.pipe_mut(n) {
            Some(p) => {
                if read_end {
                    p.reader = false;
                } else {
                    p.writer = false;
                }
                !p.reader && !p.writer
            }
            None => false,
        };
        if gone {
            self.pipes.remove(&n);
        }
    }
}

/// One process's file descriptors: `fd → FileId`, at most [`FD_MAX`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FdTable {
    slots: [Option<FileId>; FD_MAX],
    /// Close-on-exec (`FD_CLOEXEC`): bit `fd`.
    cloexec: u64,
}

impl Default for FdTable {
    fn default() -> Self {
        FdTable {
            slots: [None; FD_MAX],
            cloexec: 0,
        }
    }
}

impl FdTable {
    /// No descriptor open.
    pub fn new() -> FdTable {
        FdTable::default()
    }

    /// The table of a boot module: fds 0, 1 and 2 on one read-write description of
    /// `/dev/console`.
    pub fn with_console(open: &mut OpenFiles) -> Result<FdTable, Errno> {
        let id = open.insert(OpenFile::new(NodeId::Console, of::O_RDWR))?;
        open.add_ref(id)?;
        open.add_ref(id)?;
        let mut t = FdTable::new();
        t.slots[0] = Some(id);
        t.slots[1] = Some(id);
        t.slots[2] = Some(id);
        Ok(t)
    }

    /// The description `fd` refers to; `EBADF` if none.
    pub fn get(&self, fd: u32) -> Result<FileId, Errno> {
        self.slots
            .get(fd as usize)
            .copied()
            .flatten()
            .ok_or(Errno::EBADF)
    }

    /// The lowest free descriptor below `limit` (the process's `RLIMIT_NOFILE`,
    /// at most [`FD_MAX`]); `EMFILE` if all are used.
    pub fn lowest_free(&self, limit: usize) -> Result<u32, Errno> {
        self.slots
            .iter()
            .take(limit)
            .position(Option::is_none)
            .map(|fd| fd as u32)
            .ok_or(Errno::EMFILE)
    }

    /// Put `id` at the lowest free descriptor below `limit` and return it (the
    /// caller's reference moves into the table). `EMFILE` if all are used.
    pub fn install(&mut self, id: FileId, limit: usize) -> Result<u32, Errno> {
        let fd = self.lowest_free(limit)?;
        self.slots[fd as usize] = Some(id);
        self.cloexec &= !(1 << fd);
        Ok(fd)
    }

    /// Make `fd` name `id` (the caller took the reference and emptied the slot);
    /// an `fd` past [`FD_MAX`] is ignored (callers check it against the limit).
    pub fn set(&mut self, fd: u32, id: FileId) {
        if let Some(slot) = self.slots.get_mut(fd as usize) {
            *slot = Some(id);
            self.cloexec &= !(1 << fd);
        }
    }

    /// Remove descriptor `fd` and return what it referred to (the reference moves
    /// to the caller). `EBADF` if it is not open.
    pub fn remove(&mut self, fd: u32) -> Result<FileId, Errno> {
        let id = self
            .slots
            .get_mut(fd as usize)
            .and_then(Option::take)
            .ok_or(Errno::EBADF)?;
        self.cloexec &= !(1 << fd);
        Ok(id)
    }

    /// Whether `fd` closes on `execve`; `EBADF` if it is not open.
    pub fn cloexec(&self, fd: u32) -> Result<bool, Errno> {
        self.get(fd)?;
        Ok(self.cloexec & (1 << fd) != 0)
    }

    /// Make `fd` close on `execve` or not; `EBADF` if it is not open.
    pub fn set_cloexec(&mut self, fd: u32, on: bool) -> Result<(), Errno> {
        self.get(fd)?;
        if on {
            self.cloexec |= 1 << fd;
        } else {
            self.cloexec &= !(1 << fd);
        }
        Ok(())
    }

    /// `execve`: close the descriptors marked close-on-exec.
    pub fn close_on_exec(&mut self, open: &mut OpenFiles) {
        for fd in 0..FD_MAX as u32 {
            if self.cloexec & (1 << fd) != 0 {
                let _ = self.close(fd, open);
            }
        }
    }

    /// `close(fd)`.
    pub fn close(&mut self, fd: u32, open: &mut OpenFiles) -> Result<(), Errno> {
        let id = self.remove(fd)?;
        open.release(id);
        Ok(())
    }

    /// Close every descriptor (process exit).
    pub fn close_all(&mut self, open: &mut OpenFiles) {
        for slot in &mut self.slots {
            if let Some(id) = slot.take() {
                open.release(id);
            }
        }
    }

    /// A copy of this table sharing the same descriptions (`fork`).
    pub fn fork(&self, open: &mut OpenFiles) -> Result<FdTable, Errno> {
        let mut t = FdTable::new();
        for (fd, slot) in self.slots.iter().enumerate() {
            if let Some(id) = *slot {
                if let Err(e) = open.add_ref(id) {
                    t.close_all(open);
                    return Err(e);
                }
                t.slots[fd] = Some(id);
            }
        }
        t.cloexec = self.cloexec;
        Ok(t)
    }

    /// The open descriptors, in order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, FileId)> + '_ {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(fd, s)| s.map(|id| (fd as u32, id)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptors() {
        let mut open = OpenFiles::new();
        let mut t = FdTable::with_console(&mut open).unwrap();
        assert_eq!(open.len(), 1);
        let con = t.get(0).unwrap();
        assert_eq!(open.get(con).unwrap().refs(), 3);
        assert!(open.get(con).unwrap().readable && open.get(con).unwrap().writable);
        let id = open
            .insert(OpenFile::new(NodeId::Null, of::O_WRONLY))
            .unwrap();
        assert_eq!(t.install(id, FD_MAX), Ok(3));
        t.close(1, &mut open).unwrap();
        assert_eq!(open.get(con).unwrap().refs(), 2);
        let id2 = open
            .insert(OpenFile::new(NodeId::Zero, of::O_RDONLY))
            .unwrap();
        assert_eq!(t.install(id2, FD_MAX), Ok(1)); // lowest free
        assert_eq!(t.close(1, &mut open), Ok(()));
        assert_eq!(t.close(1, &mut open), Err(Errno::EBADF));
        assert_eq!(t.get(64), Err(Errno::EBADF));
        assert_eq!(t.get(u32::MAX), Err(Errno::EBADF));
        assert_eq!(t.close(u32::MAX, &mut open), Err(Errno::EBADF));
        assert!(open.get(id2).is_none());
        let child = t.fork(&mut open).unwrap();
        assert_eq!(open.get(con).unwrap().refs(), 4);
        t.close_all(&mut open);
        assert_eq!(child.iter().count(), 3);
        let mut child = child;
        child.close_all(&mut open);
        assert!(open.is_empty());
    }

    #[test]
    fn emfile_at_64() {
        let mut open = OpenFiles::new();
        let mut t = FdTable::with_console(&mut open).unwrap();
        for fd in 3..64 {
            let id = open.insert(OpenFile::new(NodeId::Null, 0)).unwrap();
            assert_eq!(t.install(id, FD_MAX), Ok(fd));
        }
        let id = open.insert(OpenFile::new(NodeId::Null, 0)).unwrap();
        assert_eq!(t.install(id, FD_MAX), Err(Errno::EMFILE));
        open.release(id);
        t.close_all(&mut open);
        assert!(open.is_empty());
    }

    #[test]
    fn snapshots_are_bounded_and_released() {
        let mut open = OpenFiles::new();
        let f = OpenFile::new(NodeId::ProcMeminfo, of::O_RDONLY);
        let a = open.insert_with_data(f, alloc::vec![1; 100]).unwrap();
        assert_eq!(open.data(a), Some(&[1u8; 100][..]));
        assert_eq!(open.snapshot_bytes(), 100);
        assert_eq!(
            open.insert_with_data(f, alloc::vec![0; SNAPSHOT_BYTES_MAX]),
            Err(Errno::ENOMEM)
        );
        let b = open
            .insert_with_data(f, alloc::vec![2; SNAPSHOT_BYTES_MAX - 100])
            .unwrap();
        open.add_ref(b).unwrap();
        open.release(b);
        assert_eq!(open.snapshot_bytes(), SNAPSHOT_BYTES_MAX);
        open.release(b);
        open.release(a);
        assert_eq!(open.snapshot_bytes(), 0);
        assert!(open.is_empty());
        assert_eq!(open.data(a), None);
    }

    #[test]
    fn enfile() {
        let mut open = OpenFiles::new();
        for _ in 0..OPEN_FILES_MAX {
            open.insert(OpenFile::new(NodeId::Null, 0)).unwrap();
        }
        assert_eq!(
            open.insert(OpenFile::new(NodeId::Null, 0)),
            Err(Errno::ENFILE)
        );
    }
}
