//! The structures that cross the gate, as Phantom's headers lay them out, each
//! defined once: a `#[repr(C)]` struct (user space passes a pointer to one) whose
//! size and field offsets are asserted at compile time on every target that builds
//! this crate (the x86_64 kernel and the i686 user space), and a [`Pod`]
//! encoding that the kernel writes through its checked user copies.
//!
//! The encoding is field by field, little-endian, at the asserted offsets — the
//! same bytes as the struct's memory on i686 — so no `unsafe` byte view is needed.

/// Largest structure of the ABI, in bytes (the kernel's stack buffers are this big).
pub const MAX_POD: usize = 2048;

/// A plain-data structure of the ABI: a fixed size, no padding, every bit pattern
/// valid.
pub trait Pod: Sized + Copy {
    /// Size in bytes.
    const SIZE: usize;
    /// Write the `SIZE` bytes user space reads into `out[..SIZE]`.
    ///
    /// # Panics
    /// If `out` is shorter than `SIZE`.
    fn write_bytes(&self, out: &mut [u8]);
    /// Read a value from `b[..SIZE]`.
    ///
    /// # Panics
    /// If `b` is shorter than `SIZE`.
    fn read_bytes(b: &[u8]) -> Self;
}

/// A field type: little-endian bytes of a fixed length.
pub trait Field: Copy {
    /// Write `self` into `out` (exactly its size).
    fn put(&self, out: &mut [u8]);
    /// Read from `b` (exactly its size).
    fn get(b: &[u8]) -> Self;
}

macro_rules! int_fields {
    ($($t:ty),*) => {$(
        impl Field for $t {
            fn put(&self, out: &mut [u8]) {
                out.copy_from_slice(&self.to_le_bytes());
            }
            fn get(b: &[u8]) -> Self {
                let mut a = [0u8; core::mem::size_of::<$t>()];
                a.copy_from_slice(b);
                <$t>::from_le_bytes(a)
            }
        }
    )*};
}
int_fields!(u8, u16, u32, u64, i16, i32, i64);

impl<const N: usize> Field for [u8; N] {
    fn put(&self, out: &mut [u8]) {
        out.copy_from_slice(self);
    }
    fn get(b: &[u8]) -> Self {
        let mut a = [0u8; N];
        a.copy_from_slice(b);
        a
    }
}

macro_rules! pod {
    (
        $(#[$doc:meta])*
        pub struct $name:ident ($size:expr) {
            $($(#[$fdoc:meta])* pub $field:ident : $ty:ty = $off:expr,)*
        }
    ) => {
        $(#[$doc])*
        #[repr(C)]
        #[derive(Clone, Copy, PartialEq, Eq, Debug)]
        pub struct $name {
            $($(#[$fdoc])* pub $field: $ty,)*
        }

        // The layout Phantom's header fixes, on this target.
        const _: () = {
            assert!(core::mem::size_of::<$name>() == $size);
            $(assert!(core::mem::offset_of!($name, $field) == $off);)*
            assert!(0 $(+ core::mem::size_of::<$ty>())* == $size, "no implicit padding");
            assert!($size <= MAX_POD);
        };

        impl Pod for $name {
            const SIZE: usize = $size;
            fn write_bytes(&self, out: &mut [u8]) {
                $(Field::put(&self.$field, &mut out[$off..$off + core::mem::size_of::<$ty>()]);)*
            }
            fn read_bytes(b: &[u8]) -> Self {
                $name { $($field: Field::get(&b[$off..$off + core::mem::size_of::<$ty>()]),)* }
            }
        }

        impl $name {
            /// Size in bytes.
            pub const SIZE: usize = $size;
            /// Every field's name, offset and size (for generated consumers and docs).
            pub const FIELDS: &'static [(&'static str, usize, usize)] =
                &[$((stringify!($field), $off, core::mem::size_of::<$ty>())),*];

            /// The bytes user space reads.
            pub fn to_bytes(&self) -> [u8; $size] {
                let mut b = [0u8; $size];
                self.write_bytes(&mut b);
                b
            }
            /// Decode the bytes user space wrote.
            pub fn from_bytes(b: &[u8; $size]) -> Self {
                Self::read_bytes(b)
            }
            /// All fields zero.
            pub fn zeroed() -> Self {
                Self::read_bytes(&[0u8; $size])
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::zeroed()
            }
        }
    };
}

pod! {
    /// `struct stat` (Phantom's `include/sys/stat.h`, 48 bytes): the first 24 bytes
    /// as Linux i386's, then three 64-bit `time_t`.
    pub struct Stat (48) {
        /// Device of the file system.
        pub st_dev: u32 = 0,
        /// Inode number.
        pub st_ino: u32 = 4,
        /// Type and permissions (`mode_t` is 16 bits).
        pub st_mode: u16 = 8,
        /// Link count.
        pub st_nlink: u16 = 10,
        /// Owner.
        pub st_uid: u16 = 12,
        /// Group.
        pub st_gid: u16 = 14,
        /// Device number of a device node.
        pub st_rdev: u32 = 16,
        /// Size in bytes (`off_t` is 32 bits).
        pub st_size: u32 = 20,
        /// Access time, seconds.
        pub st_atime: u64 = 24,
        /// Modification time, seconds.
        pub st_mtime: u64 = 32,
        /// Status change time, seconds.
        pub st_ctime: u64 = 40,
    }
}

impl Stat {
    /// The type bits of `st_mode`.
    pub fn file_type(&self) -> u32 {
        u32::from(self.st_mode) & crate::mode::S_IFMT
    }
    /// A regular file?
    pub fn is_file(&self) -> bool {
        self.file_type() == crate::mode::S_IFREG
    }
    /// A directory?
    pub fn is_dir(&self) -> bool {
        self.file_type() == crate::mode::S_IFDIR
    }
    /// A character device?
    pub fn is_char_device(&self) -> bool {
        self.file_type() == crate::mode::S_IFCHR
    }
}

/// Length of one `utsname` field (Phantom's `_UTSNAME_LENGTH`).
pub const UTSNAME_LENGTH: usize = 257;

pod! {
    /// `struct utsname` (Phantom's `include/sys/utsname.h`): six NUL-terminated
    /// fields of 257 bytes.
    pub struct Utsname (6 * 257) {
        /// Operating system name.
        pub sysname: [u8; 257] = 0,
        /// Host name.
        pub nodename: [u8; 257] = 257,
        /// Release.
        pub release: [u8; 257] = 514,
        /// Version.
        pub version: [u8; 257] = 771,
        /// Hardware.
        pub machine: [u8; 257] = 1028,
        /// Domain name.
        pub domainname: [u8; 257] = 1285,
    }
}

/// Longest name a `struct dirent` holds, NUL included (Phantom's `FILENAME_MAX`).
pub const DIRENT_NAME_MAX: usize = 512;

pod! {
    /// `struct dirent` (Phantom's `include/dirent.h`, 520 bytes): what `readdir`
    /// (117) fills, one entry per call.
    pub struct Dirent (520) {
        /// Inode number.
        pub d_ino: u32 = 0,
        /// Always 0, as in Phantom (one record per call, of fixed size).
        pub d_reclen: u16 = 4,
        /// Length of the name, without its NUL.
        pub d_namlen: u16 = 6,
        /// The name, NUL-terminated.
        pub d_name: [u8; 512] = 8,
    }
}

impl Dirent {
    /// The entry for `name` (cut to 511 bytes) with inode `ino`; `d_reclen` 0.
    pub fn new(ino: u32, name: &[u8]) -> Dirent {
        let n = name.len().min(DIRENT_NAME_MAX - 1);
        let mut d = Dirent::zeroed();
        d.d_ino = ino;
        d.d_namlen = n as u16;
        d.d_name[..n].copy_from_slice(&name[..n]);
        d
    }

    /// The name's bytes.
    pub fn name(&self) -> &[u8] {
        let n = usize::from(self.d_namlen).min(DIRENT_NAME_MAX);
        &self.d_name[..n]
    }
}

pod! {
    /// `struct timespec` (Phantom's `include/time.h`: two `long`s, 8 bytes).
    pub struct Timespec (8) {
        /// Seconds.
        pub tv_sec: i32 = 0,
        /// Nanoseconds, in `[0, 10⁹)`.
        pub tv_nsec: i32 = 4,
    }
}

impl Timespec {
    /// From nanoseconds (seconds wrap in 2038, as a 32-bit `long` does).
    pub fn from_ns(ns: u64) -> Timespec {
        Timespec {
            tv_sec: (ns / 1_000_000_000) as i32,
            tv_nsec: (ns % 1_000_000_000) as i32,
        }
    }

    /// The time in nanoseconds (negative fields count as 0).
    pub fn as_nanos(&self) -> u64 {
        self.tv_sec.max(0) as u64 * 1_000_000_000 + self.tv_nsec.max(0) as u64
    }

    /// The time in nanoseconds, if the fields are valid (`tv_sec ≥ 0`,
    /// `0 ≤ tv_nsec < 10⁹`), as a duration argument must be.
    pub fn valid_nanos(&self) -> Option<u64> {
        if self.tv_sec < 0 || !(0..1_000_000_000).contains(&self.tv_nsec) {
            return None;
        }
        Some(self.tv_sec as u64 * 1_000_000_000 + self.tv_nsec as u64)
    }
}

pod! {
    /// `struct timeval` (two `long`s, 8 bytes): `gettimeofday`.
    pub struct Timeval (8) {
        /// Seconds.
        pub tv_sec: i32 = 0,
        /// Microseconds, in `[0, 10⁶)`.
        pub tv_usec: i32 = 4,
    }
}

impl Timeval {
    /// From nanoseconds.
    pub fn from_ns(ns: u64) -> Timeval {
        Timeval {
            tv_sec: (ns / 1_000_000_000) as i32,
            tv_usec: (ns % 1_000_000_000 / 1000) as i32,
        }
    }
}

pod! {
    /// `struct itimerval` (two `struct timeval`s, 16 bytes): `setitimer`,
    /// `getitimer`.
    pub struct Itimerval (16) {
        /// `it_interval.tv_sec`: the period after an expiry (0 with
        /// `it_interval_usec` 0: once).
        pub it_interval_sec: i32 = 0,
        /// `it_interval.tv_usec`.
        pub it_interval_usec: i32 = 4,
        /// `it_value.tv_sec`: the time to the next expiry (0 with
        /// `it_value_usec` 0: disarmed).
        pub it_value_sec: i32 = 8,
        /// `it_value.tv_usec`.
        pub it_value_usec: i32 = 12,
    }
}

impl Itimerval {
    /// Nanoseconds of a `(tv_sec, tv_usec)` pair, if valid (`tv_sec ≥ 0`,
    /// `0 ≤ tv_usec < 10⁶`).
    fn nanos(sec: i32, usec: i32) -> Option<u64> {
        if sec < 0 || !(0..1_000_000).contains(&usec) {
            return None;
        }
        Some(sec as u64 * 1_000_000_000 + usec as u64 * 1000)
    }

    /// `(value, interval)` in nanoseconds, if both are valid.
    pub fn valid_nanos(&self) -> Option<(u64, u64)> {
        Some((
            Self::nanos(self.it_value_sec, self.it_value_usec)?,
            Self::nanos(self.it_interval_sec, self.it_interval_usec)?,
        ))
    }

    /// The timer `(value, interval)` in nanoseconds as `getitimer` reports it
    /// (a time left below a microsecond shows as one, so an armed timer never
    /// reads as disarmed).
    pub fn from_nanos(value: u64, interval: u64) -> Itimerval {
        let value = if value > 0 { value.max(1000) } else { 0 };
        let v = Timeval::from_ns(value);
        let i = Timeval::from_ns(interval);
        Itimerval {
            it_interval_sec: i.tv_sec,
            it_interval_usec: i.tv_usec,
            it_value_sec: v.tv_sec,
            it_value_usec: v.tv_usec,
        }
    }
}

pod! {
    /// `struct pollfd` (8 bytes, as BSD and Linux): `poll`.
    pub struct Pollfd (8) {
        /// The descriptor (negative: skipped).
        pub fd: i32 = 0,
        /// The events asked for.
        pub events: u16 = 4,
        /// The events found (written by `poll`).
        pub revents: u16 = 6,
    }
}

pod! {
    /// `struct rlimit` (extension): `{u32 rlim_cur, u32 rlim_max}`.
    pub struct Rlimit (8) {
        /// The soft limit (the one enforced).
        pub rlim_cur: u32 = 0,
        /// The hard limit (the ceiling of `rlim_cur`).
        pub rlim_max: u32 = 4,
    }
}

impl Rlimit {
    /// No limit at all.
    pub const INFINITE: Rlimit = Rlimit {
        rlim_cur: crate::rlimit::RLIM_INFINITY,
        rlim_max: crate::rlimit::RLIM_INFINITY,
    };
}

/// Control characters in a BSD `struct termios`.
pub const NCCS: usize = 20;

pod! {
    /// `struct termios` (BSD's, 44 bytes; `TIOCGETA`).
    pub struct Termios (44) {
        /// Input modes.
        pub c_iflag: u32 = 0,
        /// Output modes.
        pub c_oflag: u32 = 4,
        /// Control modes.
        pub c_cflag: u32 = 8,
        /// Local modes.
        pub c_lflag: u32 = 12,
        /// Control characters (`VEOF` 0, `VERASE` 3, `VKILL` 5, `VINTR` 8, `VQUIT` 9,
        /// `VMIN` 16, `VTIME` 17).
        pub c_cc: [u8; 20] = 16,
        /// Input speed.
        pub c_ispeed: u32 = 36,
        /// Output speed.
        pub c_ospeed: u32 = 40,
    }
}

/// Termios flag and index values (BSD's).
pub mod termios {
    /// `c_cc` index of end of file.
    pub const VEOF: usize = 0;
    /// `c_cc` index of erase.
    pub const VERASE: usize = 3;
    /// `c_cc` index of line kill.
    pub const VKILL: usize = 5;
    /// `c_cc` index of interrupt.
    pub const VINTR: usize = 8;
    /// `c_cc` index of quit.
    pub const VQUIT: usize = 9;
    /// `c_cc` index of the minimum count of a non-canonical read.
    pub const VMIN: usize = 16;
    /// `c_cc` index of the timeout of a non-canonical read.
    pub const VTIME: usize = 17;
    /// Map CR to NL on input.
    pub const ICRNL: u32 = 0x100;
    /// Post-process output.
    pub const OPOST: u32 = 0x1;
    /// Map NL to CR NL on output.
    pub const ONLCR: u32 = 0x2;
    /// 8-bit characters.
    pub const CS8: u32 = 0x300;
    /// Enable the receiver.
    pub const CREAD: u32 = 0x800;
    /// Echo erase as backspace-space-backspace.
    pub const ECHOE: u32 = 0x2;
    /// Echo NL after line kill.
    pub const ECHOK: u32 = 0x4;
    /// Echo input.
    pub const ECHO: u32 = 0x8;
    /// Signals from INTR and QUIT.
    pub const ISIG: u32 = 0x80;
    /// Canonical input (line editing).
    pub const ICANON: u32 = 0x100;
    /// Extended input processing.
    pub const IEXTEN: u32 = 0x400;
}

impl Termios {
    /// What the console reports: canonical mode with echo, `ICRNL`, `OPOST|ONLCR`,
    /// 38400 baud 8N1, and the usual control characters.
    pub fn console() -> Termios {
        use termios::*;
        let mut cc = [0u8; NCCS];
        cc[VEOF] = 0x04; // ^D
        cc[VERASE] = 0x7f; // DEL
        cc[VKILL] = 0x15; // ^U
        cc[VINTR] = 0x03; // ^C
        cc[VQUIT] = 0x1c; // ^\
        cc[VMIN] = 1;
        cc[VTIME] = 0;
        Termios {
            c_iflag: ICRNL,
            c_oflag: OPOST | ONLCR,
            c_cflag: CS8 | CREAD,
            c_lflag: ISIG | ICANON | ECHO | ECHOE | ECHOK | IEXTEN,
            c_cc: cc,
            c_ispeed: 38400,
            c_ospeed: 38400,
        }
    }
}

pod! {
    /// `struct winsize` (8 bytes; `TIOCGWINSZ`).
    pub struct Winsize (8) {
        /// Rows.
        pub ws_row: u16 = 0,
        /// Columns.
        pub ws_col: u16 = 2,
        /// Width in pixels (0: unknown).
        pub ws_xpixel: u16 = 4,
        /// Height in pixels (0: unknown).
        pub ws_ypixel: u16 = 6,
    }
}

impl Winsize {
    /// A classic 24 × 80 terminal.
    pub const CONSOLE: Winsize = Winsize {
        ws_row: 24,
        ws_col: 80,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
}

/// The bytes of a NUL-terminated field, up to the NUL (or the whole field).
pub fn field_bytes(field: &[u8]) -> &[u8] {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    &field[..end]
}

/// Copy `text` into a NUL-terminated field (cut so the NUL always fits).
pub fn set_field(field: &mut [u8], text: &[u8]) {
    field.fill(0);
    let n = text.len().min(field.len().saturating_sub(1));
    field[..n].copy_from_slice(&text[..n]);
}

/// Length of the `struct linux_dirent`-style record `getdents` (extension) writes
/// for a name of `name_len` bytes: `d_ino`, `d_off`, `d_reclen` (10 bytes), the name
/// and its NUL, the type byte, rounded up to 4.
pub const fn getdents_reclen(name_len: usize) -> usize {
    (GETDENTS_NAME_OFFSET + name_len + 2 + 3) & !3
}

/// Offset of the name in a `getdents` record.
pub const GETDENTS_NAME_OFFSET: usize = 10;

pod! {
    /// `struct sigaction` (Phantom's `include/signal.h`, 16 bytes): `sa_handler`
    /// is used unless `sa_flags` has `SA_SIGINFO`, then `sa_sigaction`
    /// (`SIG_DFL` 0 and `SIG_IGN` 1 in either).
    pub struct Sigaction (16) {
        /// `void (*)(int)`.
        pub sa_handler: u32 = 0,
        /// `void (*)(int, siginfo_t *, void *)`.
        pub sa_sigaction: u32 = 4,
        /// Signals blocked while the handler runs (besides the signal itself,
        /// unless `SA_NODEFER`).
        pub sa_mask: u32 = 8,
        /// `SA_*` flags.
        pub sa_flags: u32 = 12,
    }
}

pod! {
    /// `siginfo_t` (Phantom's `include/signal.h`, 52 bytes): what a
    /// `SA_SIGINFO` handler gets as its second argument.
    pub struct Siginfo (52) {
        /// The signal.
        pub si_signo: u32 = 0,
        /// An errno value (0).
        pub si_errno: u32 = 4,
        /// Why: `SI_USER` 0x10001 for `kill`, else the fault's code
        /// (`SEGV_MAPERR` 1, `SEGV_ACCERR` 2).
        pub si_code: u32 = 8,
        /// The trap number of a hardware-raised signal.
        pub si_trapno: u32 = 12,
        /// The sending process (`kill`).
        pub si_pid: u32 = 16,
        /// Its user id (0).
        pub si_uid: u32 = 20,
        /// Exit value or signal (unused).
        pub si_status: u32 = 24,
        /// POSIX.1b value (unused).
        pub si_int: u32 = 28,
        /// POSIX.1b value (unused).
        pub si_ptr: u32 = 32,
        /// Timer overrun (unused).
        pub si_overrun: u32 = 36,
        /// Timer id (unused).
        pub si_timerid: u32 = 40,
        /// The faulting address of `SIGSEGV`, `SIGBUS`, `SIGILL`, `SIGFPE`.
        pub si_addr: u32 = 44,
        /// A file descriptor (unused).
        pub si_fd: u32 = 48,
    }
}

pod! {
    /// `stack_t` (BSD's, 12 bytes): an alternate signal stack for `sigaltstack`.
    pub struct StackT (12) {
        /// Its lowest address.
        pub ss_sp: u32 = 0,
        /// Its size in bytes.
        pub ss_size: u32 = 4,
        /// `SS_ONSTACK` 1 (in use; reported), `SS_DISABLE` 4.
        pub ss_flags: u32 = 8,
    }
}
