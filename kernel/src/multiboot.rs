//! Multiboot 1 boot information: a checked parser that never trusts the
//! loader.
//!
//! The loader hands the kernel a physical address; every structure it points
//! at (command line, module list, memory map) is read through [`PhysRead`], so
//! the same code runs on the host over a byte buffer. Malformed input —
//! truncated memory-map entries, a module whose end lies before its start,
//! strings without a terminator, absurd counts — is a [`ParseError`], never a
//! panic.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// The value a Multiboot 1 loader leaves in `eax`.
pub const BOOTLOADER_MAGIC: u32 = 0x2BAD_B002;
/// Longest C string accepted from the loader (command lines).
pub const MAX_STRING: usize = 4096;
/// Most modules accepted; more is treated as corrupt information.
pub const MAX_MODULES: u32 = 256;
/// Longest memory map accepted, in bytes.
pub const MAX_MMAP_BYTES: u32 = 64 * 1024;

const FLAG_MEM: u32 = 1 << 0;
const FLAG_CMDLINE: u32 = 1 << 2;
const FLAG_MODS: u32 = 1 << 3;
const FLAG_MMAP: u32 = 1 << 6;
const INFO_SIZE: usize = 52;
const MODULE_ENTRY_SIZE: u64 = 16;
const MMAP_ENTRY_MIN: u32 = 20;

/// A span of physical memory that cannot be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unreadable;

/// Reads physical memory. The kernel implements it over its direct map; host
/// tests over a byte vector.
pub trait PhysRead {
    /// Fills `buf` from physical address `addr`, or fails if any byte of the
    /// span is not readable memory.
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), Unreadable>;
}

/// What a region of the firmware's memory map holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemoryKind {
    Usable,
    Reserved,
    AcpiReclaimable,
    AcpiNvs,
    Defective,
    Other(u32),
}

impl MemoryKind {
    fn from_raw(raw: u32) -> Self {
        match raw {
            1 => Self::Usable,
            2 => Self::Reserved,
            3 => Self::AcpiReclaimable,
            4 => Self::AcpiNvs,
            5 => Self::Defective,
            other => Self::Other(other),
        }
    }
}

/// One entry of the memory map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryRegion {
    pub start: u64,
    pub len: u64,
    pub kind: MemoryKind,
}

/// One boot module: physical `[start, end)` and its command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Module {
    pub start: u64,
    pub end: u64,
    pub cmdline: String,
}

impl Module {
    pub fn size(&self) -> u64 {
        self.end - self.start
    }
}

/// Everything the kernel takes from the loader.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BootInfo {
    /// Kernel command line, empty when the loader gave none.
    pub cmdline: String,
    /// Conventional memory below 1 MiB and extended memory above it, KiB.
    pub mem_lower_kib: u32,
    pub mem_upper_kib: u32,
    pub memory_map: Vec<MemoryRegion>,
    pub modules: Vec<Module>,
    /// Physical spans the information itself occupies (the info block, the
    /// module list, the memory map, strings): the frame allocator must not
    /// hand them out while the kernel still reads them.
    pub occupied: Vec<(u64, u64)>,
}

/// Why the boot information was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseError {
    BadMagic(u32),
    Unreadable { what: &'static str, addr: u64 },
    StringNotTerminated { what: &'static str, addr: u64 },
    TooManyModules(u32),
    ModuleEndBeforeStart { index: usize, start: u64, end: u64 },
    MemoryMapTooLong(u32),
    TruncatedMemoryMapEntry { offset: u32, size: u32 },
    NoMemoryInformation,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadMagic(m) => write!(f, "not booted by a Multiboot 1 loader (magic {m:#x})"),
            Self::Unreadable { what, addr } => write!(f, "{what} at {addr:#x} is not readable"),
            Self::StringNotTerminated { what, addr } => {
                write!(
                    f,
                    "{what} at {addr:#x} has no terminator within {MAX_STRING} bytes"
                )
            }
            Self::TooManyModules(n) => write!(f, "{n} modules (at most {MAX_MODULES})"),
            Self::ModuleEndBeforeStart { index, start, end } => {
                write!(
                    f,
                    "module {index} ends ({end:#x}) before it starts ({start:#x})"
                )
            }
            Self::MemoryMapTooLong(n) => write!(f, "memory map of {n} bytes is too long"),
            Self::TruncatedMemoryMapEntry { offset, size } => {
                write!(
                    f,
                    "memory map entry at offset {offset} (size {size}) is truncated"
                )
            }
            Self::NoMemoryInformation => {
                write!(f, "the loader gave neither a memory map nor memory sizes")
            }
        }
    }
}

fn read_u32(buf: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]])
}

fn read_u64(buf: &[u8], at: usize) -> u64 {
    u64::from(read_u32(buf, at)) | (u64::from(read_u32(buf, at + 4)) << 32)
}

fn read_exact(
    mem: &impl PhysRead,
    what: &'static str,
    addr: u64,
    buf: &mut [u8],
) -> Result<(), ParseError> {
    mem.read(addr, buf)
        .map_err(|Unreadable| ParseError::Unreadable { what, addr })
}

/// Reads a NUL-terminated string of at most [`MAX_STRING`] bytes; returns it
/// (invalid UTF-8 replaced) and its length including the terminator.
fn read_c_string(
    mem: &impl PhysRead,
    what: &'static str,
    addr: u64,
) -> Result<(String, u64), ParseError> {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 64];
    while bytes.len() < MAX_STRING {
        let at = addr
            .checked_add(bytes.len() as u64)
            .ok_or(ParseError::Unreadable { what, addr })?;
        // Read byte by byte near the end of readable memory: a chunk may
        // straddle it even though the string ends before.
        let want = chunk.len().min(MAX_STRING - bytes.len());
        let got = if mem.read(at, &mut chunk[..want]).is_ok() {
            want
        } else {
            read_exact(mem, what, at, &mut chunk[..1])?;
            1
        };
        if let Some(nul) = chunk[..got].iter().position(|&b| b == 0) {
            bytes.extend_from_slice(&chunk[..nul]);
            let len = bytes.len() as u64 + 1;
            return Ok((String::from_utf8_lossy(&bytes).into_owned(), len));
        }
        bytes.extend_from_slice(&chunk[..got]);
    }
    Err(ParseError::StringNotTerminated { what, addr })
}

/// Parses the Multiboot 1 information at physical `info_addr`, given the
/// magic value the loader left in `eax`.
pub fn parse(magic: u32, info_addr: u64, mem: &impl PhysRead) -> Result<BootInfo, ParseError> {
    if magic != BOOTLOADER_MAGIC {
        return Err(ParseError::BadMagic(magic));
    }
    let mut info = [0u8; INFO_SIZE];
    read_exact(mem, "boot information", info_addr, &mut info)?;
    let flags = read_u32(&info, 0);
    let mut boot = BootInfo {
        occupied: alloc::vec![(info_addr, info_addr + INFO_SIZE as u64)],
        ..BootInfo::default()
    };

    if flags & FLAG_MEM != 0 {
        boot.mem_lower_kib = read_u32(&info, 4);
        boot.mem_upper_kib = read_u32(&info, 8);
    }
    if flags & FLAG_CMDLINE != 0 {
        let addr = u64::from(read_u32(&info, 16));
        let (cmdline, len) = read_c_string(mem, "kernel command line", addr)?;
        boot.occupied.push((addr, addr + len));
        boot.cmdline = cmdline;
    }
    if flags & FLAG_MODS != 0 {
        parse_modules(
            &mut boot,
            read_u32(&info, 20),
            u64::from(read_u32(&info, 24)),
            mem,
        )?;
    }
    if flags & FLAG_MMAP != 0 {
        parse_memory_map(
            &mut boot,
            read_u32(&info, 44),
            u64::from(read_u32(&info, 48)),
            mem,
        )?;
    } else if flags & FLAG_MEM != 0 {
        // No map: describe the two classic areas from the sizes alone.
        boot.memory_map.push(MemoryRegion {
            start: 0,
            len: u64::from(boot.mem_lower_kib) * 1024,
            kind: MemoryKind::Usable,
        });
        boot.memory_map.push(MemoryRegion {
            start: 0x10_0000,
            len: u64::from(boot.mem_upper_kib) * 1024,
            kind: MemoryKind::Usable,
        });
    } else {
        return Err(ParseError::NoMemoryInformation);
    }
    Ok(boot)
}

fn parse_modules(
    boot: &mut BootInfo,
    count: u32,
    addr: u64,
    mem: &impl PhysRead,
) -> Result<(), ParseError> {
    if count > MAX_MODULES {
        return Err(ParseError::TooManyModules(count));
    }
    if count > 0 {
        boot.occupied
            .push((addr, addr + u64::from(count) * MODULE_ENTRY_SIZE));
    }
    for index in 0..count as usize {
        let mut entry = [0u8; MODULE_ENTRY_SIZE as usize];
        read_exact(
            mem,
            "module list",
            addr + index as u64 * MODULE_ENTRY_SIZE,
            &mut entry,
        )?;
        let start = u64::from(read_u32(&entry, 0));
        let end = u64::from(read_u32(&entry, 4));
        if end < start {
            return Err(ParseError::ModuleEndBeforeStart { index, start, end });
        }
        let string = u64::from(read_u32(&entry, 8));
        let cmdline = if string == 0 {
            String::new()
        } else {
            let (text, len) = read_c_string(mem, "module command line", string)?;
            boot.occupied.push((string, string + len));
            text
        };
        boot.modules.push(Module {
            start,
            end,
            cmdline,
        });
    }
    Ok(())
}

fn parse_memory_map(
    boot: &mut BootInfo,
    length: u32,
    addr: u64,
    mem: &impl PhysRead,
) -> Result<(), ParseError> {
    if length > MAX_MMAP_BYTES {
        return Err(ParseError::MemoryMapTooLong(length));
    }
    let mut map = alloc::vec![0u8; length as usize];
    read_exact(mem, "memory map", addr, &mut map)?;
    boot.occupied.push((addr, addr + u64::from(length)));
    // Each entry is `size: u32` followed by `size` bytes, of which the first
    // 20 are base (u64), length (u64) and type (u32).
    let mut offset: u32 = 0;
    while offset < length {
        let truncated = |size| ParseError::TruncatedMemoryMapEntry { offset, size };
        if length - offset < 4 {
            return Err(truncated(0));
        }
        let size = read_u32(&map, offset as usize);
        let body = offset as usize + 4;
        if size < MMAP_ENTRY_MIN || u64::from(size) > u64::from(length - offset - 4) {
            return Err(truncated(size));
        }
        let region = MemoryRegion {
            start: read_u64(&map, body),
            len: read_u64(&map, body + 8),
            kind: MemoryKind::from_raw(read_u32(&map, body + 16)),
        };
        if region.len > 0 {
            boot.memory_map.push(region);
        }
        offset += 4 + size;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Physical memory as one byte vector starting at address 0.
    struct Ram(Vec<u8>);

    impl PhysRead for Ram {
        fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), Unreadable> {
            let start = usize::try_from(addr).map_err(|_| Unreadable)?;
            let end = start.checked_add(buf.len()).ok_or(Unreadable)?;
            buf.copy_from_slice(self.0.get(start..end).ok_or(Unreadable)?);
            Ok(())
        }
    }

    impl Ram {
        fn put(&mut self, at: usize, bytes: &[u8]) {
            self.0[at..at + bytes.len()].copy_from_slice(bytes);
        }
        fn put_u32(&mut self, at: usize, v: u32) {
            self.put(at, &v.to_le_bytes());
        }
        fn put_u64(&mut self, at: usize, v: u64) {
            self.put(at, &v.to_le_bytes());
        }
    }

    const INFO: usize = 0x100;
    const CMDLINE: usize = 0x200;
    const MODS: usize = 0x300;
    const MMAP: usize = 0x400;
    const STRINGS: usize = 0x600;

    /// A well-formed image like QEMU's: a command line, two modules, a
    /// three-entry memory map.
    fn sample() -> Ram {
        let mut ram = Ram(alloc::vec![0; 0x1000]);
        ram.put_u32(INFO, FLAG_MEM | FLAG_CMDLINE | FLAG_MODS | FLAG_MMAP);
        ram.put_u32(INFO + 4, 639);
        ram.put_u32(INFO + 8, 523_136);
        ram.put_u32(INFO + 16, CMDLINE as u32);
        ram.put(CMDLINE, b"log=debug ktest=all\0");
        ram.put_u32(INFO + 20, 2);
        ram.put_u32(INFO + 24, MODS as u32);
        ram.put_u32(MODS, 0x20_0000);
        ram.put_u32(MODS + 4, 0x20_04d2);
        ram.put_u32(MODS + 8, STRINGS as u32);
        ram.put(STRINGS, b"/boot/hello a b\0");
        ram.put_u32(MODS + 16, 0x20_1000);
        ram.put_u32(MODS + 20, 0x21_2170);
        ram.put_u32(MODS + 24, (STRINGS + 0x40) as u32);
        ram.put(STRINGS + 0x40, b"cat\0");
        let entries = [
            (0u64, 0x9fc00u64, 1u32),
            (0x9fc00, 0x400, 2),
            (0x10_0000, 0x1ff0_0000, 1),
        ];
        for (i, (base, len, kind)) in entries.iter().enumerate() {
            let at = MMAP + i * 24;
            ram.put_u32(at, 20);
            ram.put_u64(at + 4, *base);
            ram.put_u64(at + 12, *len);
            ram.put_u32(at + 20, *kind);
        }
        ram.put_u32(INFO + 44, 72);
        ram.put_u32(INFO + 48, MMAP as u32);
        ram
    }

    #[test]
    fn parses_a_well_formed_image() {
        let boot = parse(BOOTLOADER_MAGIC, INFO as u64, &sample()).expect("valid");
        assert_eq!(boot.cmdline, "log=debug ktest=all");
        assert_eq!(boot.mem_upper_kib, 523_136);
        assert_eq!(boot.modules.len(), 2);
        assert_eq!(boot.modules[0].cmdline, "/boot/hello a b");
        assert_eq!(boot.modules[0].size(), 1234);
        assert_eq!(boot.modules[1].cmdline, "cat");
        assert_eq!(boot.modules[1].size(), 0x11170);
        assert_eq!(boot.memory_map.len(), 3);
        assert_eq!(boot.memory_map[2].kind, MemoryKind::Usable);
        assert_eq!(boot.memory_map[2].start, 0x10_0000);
        assert_eq!(boot.memory_map[1].kind, MemoryKind::Reserved);
        assert!(boot.occupied.contains(&(MMAP as u64, MMAP as u64 + 72)));
        assert!(boot.occupied.contains(&(MODS as u64, MODS as u64 + 32)));
    }

    #[test]
    fn wrong_magic_is_rejected() {
        assert_eq!(
            parse(0x1BAD_B002, INFO as u64, &sample()),
            Err(ParseError::BadMagic(0x1BAD_B002))
        );
    }

    #[test]
    fn module_ending_before_its_start_is_an_error() {
        let mut ram = sample();
        ram.put_u32(MODS + 20, 0x20_0fff);
        assert_eq!(
            parse(BOOTLOADER_MAGIC, INFO as u64, &ram),
            Err(ParseError::ModuleEndBeforeStart {
                index: 1,
                start: 0x20_1000,
                end: 0x20_0fff
            })
        );
    }

    #[test]
    fn truncated_memory_map_entry_is_an_error() {
        let mut ram = sample();
        // The map claims 70 bytes: the last entry is cut short.
        ram.put_u32(INFO + 44, 70);
        assert!(matches!(
            parse(BOOTLOADER_MAGIC, INFO as u64, &ram),
            Err(ParseError::TruncatedMemoryMapEntry { offset: 48, .. })
        ));
        // An entry whose size field is smaller than an entry.
        let mut ram = sample();
        ram.put_u32(MMAP + 24, 8);
        assert!(matches!(
            parse(BOOTLOADER_MAGIC, INFO as u64, &ram),
            Err(ParseError::TruncatedMemoryMapEntry {
                offset: 24,
                size: 8
            })
        ));
        // Only a size field left at the end.
        let mut ram = sample();
        ram.put_u32(INFO + 44, 74);
        assert!(matches!(
            parse(BOOTLOADER_MAGIC, INFO as u64, &ram),
            Err(ParseError::TruncatedMemoryMapEntry { offset: 72, .. })
        ));
    }

    #[test]
    fn pointers_outside_memory_are_errors() {
        let mut ram = sample();
        ram.put_u32(INFO + 24, 0xffff_fff0);
        assert!(matches!(
            parse(BOOTLOADER_MAGIC, INFO as u64, &ram),
            Err(ParseError::Unreadable {
                what: "module list",
                ..
            })
        ));
        assert!(matches!(
            parse(BOOTLOADER_MAGIC, 0xfff0, &sample()),
            Err(ParseError::Unreadable {
                what: "boot information",
                ..
            })
        ));
    }

    #[test]
    fn unterminated_strings_are_errors() {
        let mut ram = sample();
        // A command line running into the end of memory.
        ram.put_u32(INFO + 16, 0xff0);
        ram.put(0xff0, &[b'x'; 16]);
        assert!(matches!(
            parse(BOOTLOADER_MAGIC, INFO as u64, &ram),
            Err(ParseError::Unreadable {
                what: "kernel command line",
                ..
            })
        ));
        // A command line longer than the limit.
        let mut big = Ram(alloc::vec![b'y'; 3 * MAX_STRING]);
        big.put(0, &sample().0[..0x1000]);
        big.put_u32(INFO + 16, 0x1000);
        assert!(matches!(
            parse(BOOTLOADER_MAGIC, INFO as u64, &big),
            Err(ParseError::StringNotTerminated { .. })
        ));
    }

    #[test]
    fn absurd_counts_are_errors() {
        let mut ram = sample();
        ram.put_u32(INFO + 20, 100_000);
        assert_eq!(
            parse(BOOTLOADER_MAGIC, INFO as u64, &ram),
            Err(ParseError::TooManyModules(100_000))
        );
        let mut ram = sample();
        ram.put_u32(INFO + 44, u32::MAX);
        assert_eq!(
            parse(BOOTLOADER_MAGIC, INFO as u64, &ram),
            Err(ParseError::MemoryMapTooLong(u32::MAX))
        );
    }

    #[test]
    fn sizes_alone_describe_memory_without_a_map() {
        let mut ram = sample();
        ram.put_u32(INFO, FLAG_MEM);
        let boot = parse(BOOTLOADER_MAGIC, INFO as u64, &ram).expect("valid");
        assert_eq!(boot.memory_map.len(), 2);
        assert_eq!(boot.memory_map[1].len, 523_136 * 1024);
        ram.put_u32(INFO, 0);
        assert_eq!(
            parse(BOOTLOADER_MAGIC, INFO as u64, &ram),
            Err(ParseError::NoMemoryInformation)
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// Any bytes at all, anywhere: an answer, never a panic.
        #[test]
        fn arbitrary_memory_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2048), info in 0u64..2100) {
            let _ = parse(BOOTLOADER_MAGIC, info, &Ram(bytes));
        }

        /// Corrupting any word of a valid image gives a result or an error.
        #[test]
        fn corrupted_image_never_panics(at in 0usize..0x700, value in any::<u32>()) {
            let mut ram = sample();
            ram.put_u32(at & !3, value);
            if let Ok(boot) = parse(BOOTLOADER_MAGIC, INFO as u64, &ram) {
                for module in &boot.modules {
                    prop_assert!(module.end >= module.start);
                }
            }
        }
    }
}
