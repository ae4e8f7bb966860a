//! Random syscall sequences with hostile arguments against the host context: no call
//! may panic, every failure is `eax = -1` with a known errno, and nothing leaks.

use proptest::prelude::*;
use unix::abi::nr;
use unix::syscall::testing::TestContext as Ctx;
use unix::syscall::SyscallResult;
use unix::Errno;

const NUMBERS: [u32; 17] = [
    nr::EXIT,
    nr::GETPAGESIZE,
    nr::UNAME,
    nr::TIME,
    nr::CLOCK_GETTIME,
    nr::GETPID,
    nr::GETPPID,
    nr::OPEN,
    nr::CLOSE,
    nr::READ,
    nr::WRITE,
    nr::LSEEK,
    nr::GETDENTS,
    nr::FSTAT,
    nr::STAT,
    nr::IOCTL,
    12345,
];

fn arg() -> impl Strategy<Value = u32> {
    prop_oneof![
        0u32..70, // descriptors, small counts, whence, clock ids
        Just(Ctx::BUF),
        Just(Ctx::BUF + 0x100),
        Just(Ctx::BUF + Ctx::BUF_PAGES * 4096 - 3),
        Just(Ctx::RO),
        Just(Ctx::GUARD),
        Just(0xC000_0000),
        Just(u32::MAX),
        Just(0x7fff_ffff),
        Just(0x5401),
        Just(0x5413),
        Just(0x40 | 0x2), // O_CREAT | O_RDWR
        any::<u32>(),
    ]
}

fn call() -> impl Strategy<Value = (u32, [u32; 3])> {
    (
        prop_oneof![proptest::sample::select(NUMBERS.to_vec()), any::<u32>()],
        [arg(), arg(), arg()],
    )
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
        c.tty.receive(input);
        c.tty.receive(b'\n');
        for (nr, a) in calls {
            match c.call(nr, &a) {
                SyscallResult::Done { eax, edx } => {
                    if edx != 0 {
                        prop_assert_eq!(eax, u32::MAX);
                        prop_assert!(Errno::from_number(edx).is_some(), "errno {}", edx);
                    }
                }
                SyscallResult::Exit(_) | SyscallResult::Block(_) => {}
            }
        }
        c.finish();
    }
}
