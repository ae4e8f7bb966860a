//! In-kernel tests: `#[test]`-like functions that run inside QEMU.
//!
//! `ktest!(name);` after a `fn name() -> Result<(), String>` registers it in
//! the `.ktests` link section. `ktest=all` or `ktest=pattern,…` on the kernel
//! command line runs the selected tests in link order, one JSON line each
//! (`{"test":…,"result":"pass"|"fail","detail":…}`), then a summary, then the
//! kernel shuts down with status 0 (all passed) or 1. A panic or fatal
//! exception inside a test reports that test as failed before shutting down.

use super::{serial, shutdown};
use alloc::string::String;
use core::fmt::Write;
use core::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use kernel::cmdline::TestSelection;
use kernel::json::{Escaped, JsonLine};

/// One registered test.
#[repr(C)]
pub struct KTest {
    pub name: &'static str,
    pub run: fn() -> Result<(), String>,
}

/// Registers `fn $name() -> Result<(), String>` as an in-kernel test.
#[cfg_attr(not(feature = "ktests"), allow(unused_macros))]
macro_rules! ktest {
    ($name:ident) => {
        const _: () = {
            #[used]
            #[link_section = ".ktests"]
            static TEST: $crate::machine::ktest::KTest = $crate::machine::ktest::KTest {
                name: concat!(module_path!(), "::", stringify!($name)),
                run: $name,
            };
        };
    };
}
#[cfg_attr(not(feature = "ktests"), allow(unused_imports))]
pub(crate) use ktest;

/// Fails the enclosing test with a message unless `cond` holds.
#[cfg_attr(not(feature = "ktests"), allow(unused_macros))]
macro_rules! kassert {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err(alloc::format!($($fmt)+));
        }
    };
}
#[cfg_attr(not(feature = "ktests"), allow(unused_imports))]
pub(crate) use kassert;

extern "C" {
    static __ktests_start: u8;
    static __ktests_end: u8;
}

fn all_tests() -> &'static [KTest] {
    // SAFETY: the linker script brackets the `.ktests` section, which holds
    // only `KTest` statics emitted by `ktest!` (aligned, contiguous, same
    // type), with these two symbols.
    unsafe {
        let start = (&raw const __ktests_start).cast::<KTest>();
        let end = (&raw const __ktests_end).cast::<KTest>();
        let count = (end as usize - start as usize) / core::mem::size_of::<KTest>();
        core::slice::from_raw_parts(start, count)
    }
}

/// Name of the test running now (for reports from panic and fault paths).
static CURRENT_NAME: AtomicPtr<u8> = AtomicPtr::new(core::ptr::null_mut());
static CURRENT_LEN: AtomicUsize = AtomicUsize::new(0);

fn set_current(name: Option<&'static str>) {
    let (ptr, len) = name.map_or((core::ptr::null_mut(), 0), |n| {
        (n.as_ptr() as *mut u8, n.len())
    });
    CURRENT_LEN.store(len, Ordering::SeqCst);
    CURRENT_NAME.store(ptr, Ordering::SeqCst);
}

fn current() -> Option<&'static str> {
    let ptr = CURRENT_NAME.load(Ordering::SeqCst);
    if ptr.is_null() {
        return None;
    }
    let len = CURRENT_LEN.load(Ordering::SeqCst);
    all_tests()
        .iter()
        .map(|t| t.name)
        .find(|n| core::ptr::eq(n.as_ptr(), ptr) && n.len() == len)
}

/// Called from the panic handler and fatal traps: reports the running test
/// (if any) as failed, without allocating.
pub fn report_interrupted_test(reason: core::fmt::Arguments<'_>) {
    if let Some(name) = current() {
        serial::begin_line_unlocked();
        let mut out = serial::Unlocked;
        let _ = write!(
            out,
            "{{\"test\":\"{name}\",\"result\":\"fail\",\"detail\":\""
        );
        let _ = Escaped(&mut out).write_fmt(reason);
        let _ = writeln!(out, "\"{}}}", kernel::json::nonce_field());
    }
}

/// Runs the selected tests and shuts down.
pub fn run(selection: &TestSelection) -> ! {
    let (mut passed, mut failed) = (0u64, 0u64);
    for test in all_tests().iter().filter(|t| selection.selects(t.name)) {
        set_current(Some(test.name));
        let result = (test.run)();
        set_current(None);
        let line = match &result {
            Ok(()) => JsonLine::new("test", test.name)
                .str("result", "pass")
                .finish(),
            Err(detail) => JsonLine::new("test", test.name)
                .str("result", "fail")
                .str("detail", detail)
                .finish(),
        };
        serial::write_line(&line);
        match result {
            Ok(()) => passed += 1,
            Err(_) => failed += 1,
        }
    }
    serial::write_line(
        &JsonLine::new("event", "ktest_summary")
            .u64("passed", passed)
            .u64("failed", failed)
            .finish(),
    );
    if passed + failed == 0 {
        log::error!("no in-kernel test matches the selection");
    }
    let ok = failed == 0 && passed > 0;
    shutdown::shutdown(if ok {
        shutdown::STATUS_OK
    } else {
        shutdown::STATUS_TEST_FAILED
    })
}
