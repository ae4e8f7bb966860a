//! Random syscall sequences with hostile arguments against the host context: no call
//! may panic, every failure is `eax = -1` with a known errno, the address space stays
//! consistent (remap invariants, page-table audit), the kernel's guard pages survive
//! every memory call, and nothing leaks.

use proptest::prelude::*;
use unix::abi::nr;
use unix::exec::layout::{MMAP_TOP, STACK_TOP};
use unix::syscall::testing::TestContext as Ctx;
use unix::syscall::{native, SyscallResult};
use unix::Errno;
use vm::remap::Kind;

/// The implemented calls, picked most often.
const NUMBERS: [u32; 49] = [
    nr::EXIT,
    nr::SSYSLOG,
    nr::GETPAGESIZE,
    nr::PERSONALITY,
    nr::UNAME,
    nr::SLEEPMSEC,
    nr::NANOSLEEP,
    nr::TIME,
    nr::GETTIMEOFDAY,
    nr::CLOCK_GETTIME,
    nr::GETPID,
    nr::GETPPID,
    nr::SETUID,
    nr::SETRESGID,
    nr::SETGROUPS,
    nr::GETPGID,
    nr::SETPGID,
    nr::UMASK,
    nr::GETHOSTNAME,
    nr::SETHOSTNAME,
    nr::OPEN,
    nr::CREAT,
    nr::CLOSE,
    nr::READ,
    nr::WRITE,
    nr::LSEEK,
    nr::GETDENTS,
    nr::READDIR,
    nr::FSTAT,
    nr::STAT,
    nr::IOCTL,
    nr::BRK,
    nr::MMAP,
    nr::MUNMAP,
    nr::MPROTECT,
    nr::MADVISE,
    nr::GETRLIMIT,
    nr::SETRLIMIT,
    nr::FORK,
    nr::EXECVE,
    nr::WAITPID,
    nr::PIPE,
    nr::DUP,
    nr::DUP2,
    nr::MMAP,
    nr::MMAP,
    nr::MUNMAP,
    nr::READ,
    12345,
];

/// Interesting argument values (descriptors, counts, whence, clock ids, prot,
/// advice and resources come from the small numbers).
const SPECIAL: [u32; 26] = [
    Ctx::BUF,
    Ctx::BUF + 0x100,
    Ctx::BUF + 0x200,
    Ctx::BUF + Ctx::BUF_PAGES * 4096 - 3,
    Ctx::RO,
    Ctx::GUARD,
    Ctx::HEAP,
    Ctx::HEAP + 1,
    Ctx::HEAP + 0x3000,
    0x4000_0000,
    MMAP_TOP - 0x1000,
    MMAP_TOP,
    STACK_TOP - 0x1000,
    STACK_TOP,
    0xFFFF_F000,
    u32::MAX,
    0x7fff_ffff,
    0x8000_0000,
    0x5401,
    0x5413,
    0x40 | 0x2, // O_CREAT | O_RDWR
    0x22,       // MAP_PRIVATE | MAP_ANONYMOUS
    0x32,       // ... | MAP_FIXED
    0x10_0022,  // ... | MAP_FIXED_NOREPLACE
    0x1000,
    0x10_0000,
];

/// One argument: a cheap strategy (proptest's unions are slow to generate in debug
/// builds): a selector and a random word.
fn arg() -> impl Strategy<Value = u32> {
    (0u32..8, any::<u32>()).prop_map(|(sel, r)| match sel {
        0..=2 => r % 70,
        3..=5 => SPECIAL[(r as usize) % SPECIAL.len()],
        6 => (r % 64 + 1) * 4096, // page-multiple lengths and addresses
        _ => r,
    })
}

fn call() -> impl Strategy<Value = (u32, [u32; 6])> {
    (
        (0u32..6, any::<u32>()).prop_map(|(sel, r)| match sel {
            0 => r,
            // Any number of the ABI's table, implemented or not.
            1 => nr::TABLE[(r as usize) % nr::TABLE.len()].nr,
            _ => NUMBERS[(r as usize) % NUMBERS.len()],
        }),
        [arg(), arg(), arg(), arg(), arg(), arg()],
    )
}

/// The guards the kernel maps must outlive any call.
fn guards_intact(c: &Ctx) -> Result<(), TestCaseError> {
    let kind = |addr: u64| c.space.remap().translate(addr / 4096).map(|t| t.kind);
    prop_assert_eq!(kind(u64::from(STACK_TOP)), Some(Kind::Guard));
    prop_assert!(unix::exec::stack_limit(c.space.remap()).is_some());
    let heap_end = u64::from(c.process.memory.brk).div_ceil(4096) * 4096;
    prop_assert_eq!(kind(heap_end), Some(Kind::Guard));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn hostile_sequences(calls in proptest::collection::vec(call(), 1..40), input in any::<u8>()) {
        let mut c = Ctx::new();
        c.vfs.add_boot_file("hello", b"hello bytes").unwrap();
        // Useful strings in the scratch buffer: paths the calls may pick up.
        c.put_cstr(Ctx::BUF, b"/tmp/f");
        c.put_cstr(Ctx::BUF + 0x100, b"/boot/hello");
        c.put_cstr(Ctx::BUF + 0x200, b"/proc/self/maps");
        c.tty.receive(input);
        c.tty.receive(b'\n');
        for (nr, a) in calls {
            match c.call(nr, &a) {
                SyscallResult::Return(r) => {
                    let (eax, edx) = native::encode(r);
                    if edx != 0 {
                        prop_assert_eq!(eax, u32::MAX);
                        prop_assert!(Errno::from_number(edx).is_some(), "errno {}", edx);
                    }
                }
                SyscallResult::Exit(_) | SyscallResult::Block(_) | SyscallResult::Signal(_) => {}
            }
            c.space.remap().check_invariants().map_err(TestCaseError::fail)?;
            guards_intact(&c)?;
        }
        c.space.audit(&c.ps, &c.machine).map_err(TestCaseError::fail)?;
        c.ps.check_invariants().map_err(TestCaseError::fail)?;
        c.finish();
    }
}
