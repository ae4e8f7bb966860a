//! Tests of path resolution, open semantics, stat and directory entries.

use super::*;
use crate::abi::open_flags::*;

static HELLO: &[u8] = b"hello module";

/// Process 1 at the root.
const AT: PathContext = PathContext {
    cwd: NodeId::Root,
    pid: 1,
};

fn vfs() -> Vfs {
    let mut v = Vfs::new();
    v.add_boot_file("hello", HELLO).unwrap();
    v.add_boot_file("cat", b"cat bytes").unwrap();
    v
}

#[test]
fn resolution() {
    let v = vfs();
    assert_eq!(v.lookup(AT, b"/"), Ok(NodeId::Root));
    assert_eq!(v.lookup(AT, b"///"), Ok(NodeId::Root));
    assert_eq!(v.lookup(AT, b"/dev/console"), Ok(NodeId::Console));
    assert_eq!(v.lookup(AT, b"//dev///null"), Ok(NodeId::Null));
    assert_eq!(v.lookup(AT, b"/dev/./zero"), Ok(NodeId::Zero));
    assert_eq!(v.lookup(AT, b"/boot/../dev/zero"), Ok(NodeId::Zero));
    assert_eq!(v.lookup(AT, b"/../../boot/hello"), Ok(NodeId::Boot(0)));
    assert_eq!(v.lookup(AT, b"boot/cat"), Ok(NodeId::Boot(1)));
    assert_eq!(v.lookup(AT, b"/tmp"), Ok(NodeId::Ram(RAM_ROOT)));
    assert_eq!(v.lookup(AT, b"/tmp/"), Ok(NodeId::Ram(RAM_ROOT)));
    assert_eq!(v.lookup(AT, b"/tmp/.."), Ok(NodeId::Root));
    assert_eq!(v.lookup(AT, b"/dev/.."), Ok(NodeId::Root));
    assert_eq!(v.lookup(AT, b"."), Ok(NodeId::Root));
    assert_eq!(v.lookup(AT, b""), Err(Errno::ENOENT));
    assert_eq!(v.lookup(AT, b"/nope"), Err(Errno::ENOENT));
    assert_eq!(v.lookup(AT, b"/nope/x"), Err(Errno::ENOENT));
    assert_eq!(v.lookup(AT, b"/boot/hello/"), Err(Errno::ENOTDIR));
    assert_eq!(v.lookup(AT, b"/boot/hello/x"), Err(Errno::ENOTDIR));
    assert_eq!(v.lookup(AT, b"/boot/hello/."), Err(Errno::ENOTDIR));
    assert_eq!(v.lookup(AT, b"/boot/hello/.."), Err(Errno::ENOTDIR));
    assert_eq!(v.lookup(AT, b"/dev/null/"), Err(Errno::ENOTDIR));
}

#[test]
fn name_limits() {
    let v = vfs();
    let mut long = b"/tmp/".to_vec();
    long.extend_from_slice(&[b'a'; 256]);
    assert_eq!(v.lookup(AT, &long), Err(Errno::ENAMETOOLONG));
    let mut ok = b"/tmp/".to_vec();
    ok.extend_from_slice(&[b'a'; 255]);
    assert_eq!(v.lookup(AT, &ok), Err(Errno::ENOENT));
    let path: Vec<u8> = core::iter::repeat_n(b"/.", 2048)
        .flatten()
        .copied()
        .collect();
    assert_eq!(path.len(), 4096);
    assert_eq!(v.lookup(AT, &path), Err(Errno::ENAMETOOLONG));
    assert_eq!(v.lookup(AT, &path[..4094]), Ok(NodeId::Root));
}

#[test]
fn open_flags() {
    let mut v = vfs();
    assert_eq!(
        v.open(AT, b"/boot/hello", O_RDONLY, 0, 0),
        Ok(NodeId::Boot(0))
    );
    assert_eq!(
        v.open(AT, b"/boot/hello", O_WRONLY, 0, 0),
        Err(Errno::EROFS)
    );
    assert_eq!(v.open(AT, b"/boot/hello", O_RDWR, 0, 0), Err(Errno::EROFS));
    assert_eq!(
        v.open(AT, b"/boot/hello", O_RDONLY | O_TRUNC, 0, 0),
        Err(Errno::EROFS)
    );
    assert_eq!(
        v.open(AT, b"/boot/new", O_WRONLY | O_CREAT, 0o644, 0),
        Err(Errno::EROFS)
    );
    assert_eq!(
        v.open(AT, b"/new", O_WRONLY | O_CREAT, 0o644, 0),
        Err(Errno::EROFS)
    );
    assert_eq!(
        v.open(AT, b"/dev/new", O_WRONLY | O_CREAT, 0o644, 0),
        Err(Errno::EROFS)
    );
    assert_eq!(v.open(AT, b"/boot/hello", 3, 0, 0), Err(Errno::EINVAL));
    assert_eq!(
        v.open(AT, b"/boot/hello", O_RDONLY | O_DIRECTORY, 0, 0),
        Err(Errno::ENOTDIR)
    );
    assert_eq!(
        v.open(AT, b"/boot/hello", O_CREAT | O_EXCL, 0, 0),
        Err(Errno::EEXIST)
    );
    assert_eq!(
        v.open(AT, b"/boot", O_RDONLY | O_DIRECTORY, 0, 0),
        Ok(NodeId::BootDir)
    );
    assert_eq!(v.open(AT, b"/boot", O_WRONLY, 0, 0), Err(Errno::EISDIR));
    assert_eq!(v.open(AT, b"/tmp", O_RDWR, 0, 0), Err(Errno::EISDIR));
    assert_eq!(
        v.open(AT, b"/tmp", O_RDONLY | O_CREAT, 0, 0),
        Err(Errno::EISDIR)
    );
    assert_eq!(
        v.open(AT, b"/tmp/x/", O_RDWR | O_CREAT, 0, 0),
        Err(Errno::EISDIR)
    );
    assert_eq!(
        v.open(AT, b"/tmp/nodir/x", O_RDWR | O_CREAT, 0, 0),
        Err(Errno::ENOENT)
    );
    assert_eq!(
        v.open(AT, b"/tmp/missing", O_RDONLY, 0, 0),
        Err(Errno::ENOENT)
    );
    assert_eq!(
        v.open(AT, b"/dev/null", O_WRONLY | O_TRUNC, 0, 0),
        Ok(NodeId::Null)
    );
    assert_eq!(
        v.open(AT, b"/dev/console", O_RDWR, 0, 0),
        Ok(NodeId::Console)
    );

    let f = v.open(AT, b"/tmp/f", O_WRONLY | O_CREAT, 0o640, 9).unwrap();
    assert!(matches!(f, NodeId::Ram(_)));
    assert_eq!(v.write_at(f, 0, b"abc", 10), Ok(3));
    assert_eq!(
        v.open(AT, b"/tmp/f", O_WRONLY | O_CREAT | O_EXCL, 0, 0),
        Err(Errno::EEXIST)
    );
    assert_eq!(v.open(AT, b"/tmp/f", O_RDONLY, 0, 0), Ok(f));
    assert_eq!(v.file_data(f).unwrap(), b"abc");
    assert_eq!(v.open(AT, b"/tmp/f/", O_RDONLY, 0, 0), Err(Errno::ENOTDIR));
    assert_eq!(v.open(AT, b"/tmp//f", O_WRONLY | O_TRUNC, 0, 11), Ok(f));
    assert_eq!(v.file_data(f).unwrap(), b"");
    let st = v.stat(f).unwrap();
    assert_eq!(u32::from(st.st_mode), mode::S_IFREG | 0o640);
    assert_eq!(st.st_mtime, 11);
}

#[test]
fn directories_and_entries() {
    let mut v = vfs();
    let d = v.mkdir(AT, b"/tmp/d", 0o755, 1).unwrap();
    assert_eq!(v.mkdir(AT, b"/tmp/d", 0o755, 1), Err(Errno::EEXIST));
    assert_eq!(v.mkdir(AT, b"/boot/d", 0o755, 1), Err(Errno::EROFS));
    let f = v
        .open(AT, b"/tmp/d/file", O_CREAT | O_WRONLY, 0o600, 2)
        .unwrap();
    assert_eq!(v.lookup(AT, b"/tmp/d/../d/file"), Ok(f));
    assert_eq!(v.lookup(AT, b"/tmp/d/./.."), Ok(NodeId::Ram(RAM_ROOT)));

    let names = |v: &Vfs, dir: NodeId| -> Vec<(Vec<u8>, u8)> {
        (0..)
            .map_while(|i| v.dir_entry(dir, i).unwrap())
            .map(|e| (e.name.to_vec(), e.dtype))
            .collect()
    };
    let dt = |n: &str, t: u8| (n.as_bytes().to_vec(), t);
    assert_eq!(
        names(&v, NodeId::Root),
        [
            dt(".", 4),
            dt("..", 4),
            dt("boot", 4),
            dt("dev", 4),
            dt("proc", 4),
            dt("tmp", 4)
        ]
    );
    assert_eq!(
        names(&v, NodeId::DevDir),
        [
            dt(".", 4),
            dt("..", 4),
            dt("console", 2),
            dt("null", 2),
            dt("zero", 2)
        ]
    );
    assert_eq!(
        names(&v, NodeId::BootDir),
        [dt(".", 4), dt("..", 4), dt("hello", 8), dt("cat", 8)]
    );
    assert_eq!(
        names(&v, NodeId::Ram(RAM_ROOT)),
        [dt(".", 4), dt("..", 4), dt("d", 4)]
    );
    assert_eq!(names(&v, d), [dt(".", 4), dt("..", 4), dt("file", 8)]);
    assert_eq!(v.dir_entry(NodeId::Null, 0), Err(Errno::ENOTDIR));
    assert_eq!(v.dir_entry(f, 0), Err(Errno::ENOTDIR));
    // `..` of /tmp is /, inode 1.
    assert_eq!(
        v.dir_entry(NodeId::Ram(RAM_ROOT), 1).unwrap().unwrap().ino,
        1
    );
    assert_eq!(v.dir_entry(NodeId::Root, u64::MAX), Ok(None));
    assert_eq!(v.stat(NodeId::Ram(RAM_ROOT)).unwrap().st_nlink, 3);
}

#[test]
fn stat_of_each_kind() {
    let v = vfs();
    let st = v.stat(NodeId::Boot(0)).unwrap();
    assert_eq!(u32::from(st.st_mode), mode::S_IFREG | 0o555);
    assert_eq!(st.st_size as usize, HELLO.len());
    let st = v.stat(NodeId::Console).unwrap();
    assert_eq!(u32::from(st.st_mode) & mode::S_IFMT, mode::S_IFCHR);
    assert_eq!(st.st_rdev, 0x501);
    let st = v.stat(NodeId::Root).unwrap();
    assert_eq!(u32::from(st.st_mode) & mode::S_IFMT, mode::S_IFDIR);
    assert_eq!(st.st_ino, 1);
    assert_eq!(v.stat(NodeId::Boot(9)), Err(Errno::ENOENT));
    assert_eq!(v.stat(NodeId::Ram(3)), Err(Errno::ENOENT));
    // Inode numbers are distinct.
    let mut inos: Vec<u32> = [
        NodeId::Root,
        NodeId::DevDir,
        NodeId::BootDir,
        NodeId::Console,
        NodeId::Null,
        NodeId::Zero,
        NodeId::Boot(0),
        NodeId::Boot(1),
        NodeId::Ram(RAM_ROOT),
    ]
    .iter()
    .map(|&n| v.ino(n))
    .collect();
    inos.sort_unstable();
    inos.dedup();
    assert_eq!(inos.len(), 9);
}

#[test]
fn boot_file_names() {
    let mut v = vfs();
    assert_eq!(v.add_boot_file("hello", b""), Err(Errno::EEXIST));
    assert_eq!(v.add_boot_file("", b""), Err(Errno::EINVAL));
    assert_eq!(v.add_boot_file("a/b", b""), Err(Errno::EINVAL));
    assert_eq!(v.add_boot_file("..", b""), Err(Errno::EINVAL));
    let long = "x".repeat(256);
    assert_eq!(v.add_boot_file(&long, b""), Err(Errno::ENAMETOOLONG));
    assert_eq!(v.boot_file("hello"), Some(HELLO));
    assert_eq!(v.boot_file("nope"), None);
}

#[test]
fn one_walk_lists_what_the_indexed_entries_list() {
    let mut v = Vfs::new();
    for i in 0..300 {
        let name = alloc::format!("/tmp/f{i:03}");
        v.open(AT, name.as_bytes(), O_WRONLY | O_CREAT, 0o644, 0)
            .unwrap();
    }
    let tmp = v.lookup(AT, b"/tmp").unwrap();
    for dir in [
        tmp,
        v.lookup(AT, b"/").unwrap(),
        v.lookup(AT, b"/dev").unwrap(),
    ] {
        for start in [0u64, 1, 2, 3, 150, 301, 302, 400] {
            let walked: Vec<(u64, u32, Vec<u8>)> = v
                .dir_entries(dir, start)
                .unwrap()
                .map(|(next, e)| (next, e.ino, e.name.to_vec()))
                .collect();
            let mut indexed = Vec::new();
            let mut i = start;
            while let Some(e) = v.dir_entry(dir, i).unwrap() {
                i += 1;
                indexed.push((i, e.ino, e.name.to_vec()));
            }
            assert_eq!(walked, indexed, "{dir:?} from {start}");
        }
    }
    let file = v.lookup(AT, b"/tmp/f000").unwrap();
    assert!(matches!(v.dir_entries(file, 0), Err(Errno::ENOTDIR)));
}
