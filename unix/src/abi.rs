//! The native ABI as the kernel side sees it: everything the gate's contract
//! defines comes from the `phantom-abi` crate (re-exported here, so there is one
//! definition for kernel and user space); this module adds only what the kernel
//! encodes that has no C structure of its own — the system's names for `uname`, and
//! the records of the `getdents` extension.

use alloc::vec::Vec;

pub use phantom_abi::*;

/// What `uname` reports; the node name is the host name (`sethostname`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SystemNames {
    /// Operating system name.
    pub sysname: &'static str,
    /// Release.
    pub release: &'static str,
    /// Version.
    pub version: &'static str,
    /// Hardware.
    pub machine: &'static str,
    /// Domain name.
    pub domainname: &'static str,
}

impl Default for SystemNames {
    fn default() -> Self {
        SystemNames {
            sysname: "phantom-unix",
            release: env!("CARGO_PKG_VERSION"),
            version: "#1",
            machine: "i686",
            domainname: "(none)",
        }
    }
}

impl SystemNames {
    /// The `struct utsname` of these names with host name `nodename` (each field
    /// cut to 256 bytes and NUL-terminated).
    pub fn utsname(&self, nodename: &[u8]) -> Utsname {
        let mut u = Utsname::zeroed();
        set_field(&mut u.sysname, self.sysname.as_bytes());
        set_field(&mut u.nodename, nodename);
        set_field(&mut u.release, self.release.as_bytes());
        set_field(&mut u.version, self.version.as_bytes());
        set_field(&mut u.machine, self.machine.as_bytes());
        set_field(&mut u.domainname, self.domainname.as_bytes());
        u
    }
}

/// The host name a system starts with.
pub const DEFAULT_HOSTNAME: &[u8] = b"phantom";

/// Append one `getdents` record to `out`: `u32 d_ino`, `u32 d_off` (the cursor of
/// the next entry), `u16 d_reclen`, the NUL-terminated name, zero padding, and
/// `d_type` in the record's last byte (the layout of Linux's `struct linux_dirent`).
pub fn encode_dirent(out: &mut Vec<u8>, ino: u32, next_off: u32, name: &[u8], dtype: u8) {
    let reclen = getdents_reclen(name.len());
    let start = out.len();
    out.extend_from_slice(&ino.to_le_bytes());
    out.extend_from_slice(&next_off.to_le_bytes());
    out.extend_from_slice(&(reclen as u16).to_le_bytes());
    out.extend_from_slice(name);
    out.resize(start + reclen - 1, 0);
    out.push(dtype);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_is_phantoms_48_bytes() {
        let s = Stat {
            st_dev: 0x0102_0304,
            st_ino: 5,
            st_mode: 0o100644,
            st_nlink: 1,
            st_uid: 2,
            st_gid: 3,
            st_rdev: 0x0501,
            st_size: 1234,
            st_atime: 0x1_0000_000a,
            st_mtime: 11,
            st_ctime: 12,
        };
        let b = s.to_bytes();
        assert_eq!(b.len(), 48);
        assert_eq!(&b[0..4], &[4, 3, 2, 1]);
        assert_eq!(&b[4..8], &5u32.to_le_bytes());
        assert_eq!(&b[8..10], &0o100644u16.to_le_bytes());
        assert_eq!(&b[10..12], &1u16.to_le_bytes());
        assert_eq!(&b[12..14], &2u16.to_le_bytes());
        assert_eq!(&b[14..16], &3u16.to_le_bytes());
        assert_eq!(&b[16..20], &0x501u32.to_le_bytes());
        assert_eq!(&b[20..24], &1234u32.to_le_bytes());
        assert_eq!(&b[24..32], &0x1_0000_000au64.to_le_bytes());
        assert_eq!(&b[32..40], &11u64.to_le_bytes());
        assert_eq!(&b[40..48], &12u64.to_le_bytes());
        assert_eq!(Stat::from_bytes(&b), s);
    }

    #[test]
    fn dirent_records_are_aligned_and_typed() {
        let mut out = Vec::new();
        encode_dirent(&mut out, 7, 1, b".", dtype::DT_DIR);
        // 10 + "." + NUL + type = 13 -> 16.
        assert_eq!(out.len(), 16);
        assert_eq!(&out[0..4], &7u32.to_le_bytes());
        assert_eq!(&out[4..8], &1u32.to_le_bytes());
        assert_eq!(&out[8..10], &16u16.to_le_bytes());
        assert_eq!(&out[10..16], &[b'.', 0, 0, 0, 0, dtype::DT_DIR]);
        encode_dirent(&mut out, 8, 2, b"abcdef", dtype::DT_REG);
        assert_eq!(out.len(), 16 + 20);
        assert_eq!(&out[26..32], b"abcdef");
        assert_eq!(out[32], 0);
        assert_eq!(out[35], dtype::DT_REG);
        for n in 0..300 {
            let r = getdents_reclen(n);
            assert_eq!(r % 4, 0);
            assert!(r >= 10 + n + 2 && r < 10 + n + 2 + 4);
        }
    }

    #[test]
    fn phantom_dirent_utsname_and_small_structs() {
        let d = Dirent::new(9, b"hello").to_bytes();
        assert_eq!(d.len(), 520);
        assert_eq!(&d[0..4], &9u32.to_le_bytes());
        assert_eq!(&d[4..6], &[0, 0]);
        assert_eq!(&d[6..8], &5u16.to_le_bytes());
        assert_eq!(&d[8..14], b"hello\0");
        let long = [b'x'; 600];
        let d = Dirent::new(1, &long);
        assert_eq!(d.d_namlen, 511);
        assert_eq!(d.d_name[511], 0);

        let u = SystemNames::default().utsname(b"node").to_bytes();
        assert_eq!(u.len(), 6 * 257);
        assert_eq!(&u[..13], b"phantom-unix\0");
        assert_eq!(&u[257..262], b"node\0");
        assert_eq!(&u[4 * 257..4 * 257 + 5], b"i686\0");
        let big = SystemNames::default().utsname(&[b'n'; 300]);
        assert_eq!(big.nodename[255], b'n');
        assert_eq!(big.nodename[256], 0);

        assert_eq!(
            Timespec::from_ns(3_000_000_007).to_bytes(),
            [3, 0, 0, 0, 7, 0, 0, 0]
        );
        assert_eq!(Winsize::CONSOLE.to_bytes(), [24, 0, 80, 0, 0, 0, 0, 0]);
        let t = Termios::console().to_bytes();
        assert_eq!(t.len(), 44);
        assert_eq!(t[16 + termios::VEOF], 0x04);
        assert_eq!(t[16 + termios::VERASE], 0x7f);
        assert_eq!(ioctl::TIOCGWINSZ, 0x4008_7468);
        assert_eq!(ioctl::TIOCGETA, 0x402c_7413);
    }
}
