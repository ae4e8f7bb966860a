//! Fuzzing the initramfs reader: an archive is untrusted input (a boot module
//! anyone can hand the kernel). Random bytes, and valid archives with random
//! bytes changed or cut, never panic the reader or the unpacking into the
//! root file system, and every entry the reader accepts lies inside the
//! archive.

use proptest::prelude::*;
use unix::vfs::cpio;
use unix::vfs::initfs::Initfs;

fn archive() -> Vec<u8> {
    cpio::build(&[
        (b"bin", 0o40755, b""),
        (b"bin/prog", 0o100755, b"\x7fELF program bytes"),
        (b"etc/motd", 0o100644, b"hello\n"),
        (b"etc/deep/er/file", 0o100600, b"x"),
        (b"link", 0o120777, b"bin/prog"),
    ])
}

fn check(bytes: Vec<u8>) -> Result<(), TestCaseError> {
    let leaked: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    let range = leaked.as_ptr_range();
    for entry in cpio::entries(leaked).flatten() {
        prop_assert!(range.contains(&entry.name.as_ptr()) || entry.name.is_empty());
        prop_assert!(entry.data.is_empty() || range.contains(&entry.data.as_ptr()));
    }
    let mut fs = Initfs::default();
    let _ = fs.unpack(leaked, &[b"dev"]);
    prop_assert!(fs.len() <= unix::vfs::initfs::INITFS_NODES_MAX);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut with_magic = b"070701".to_vec();
        with_magic.extend_from_slice(&bytes);
        check(bytes)?;
        check(with_magic)?;
    }

    #[test]
    fn damaged_archives(changes in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..8), cut in any::<usize>()) {
        let mut a = archive();
        for (at, b) in changes {
            let n = a.len();
            a[at % n] = b;
        }
        let len = a.len();
        a.truncate(cut % (len + 1));
        check(a)?;
    }
}
