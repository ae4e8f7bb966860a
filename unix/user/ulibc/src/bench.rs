//! Benchmark support for user programs: `rdtsc` timestamps, the two
//! reporting modes of the kernel's benchmarks, statistics, and the JSON
//! line `{"bench":…,"level":"user","mode":…,"unit":…,"median":…,"p99":…,"n":…,"value":…}`.
//!
//! Modes (the same as the kernel's `bench=icount|wall`): under QEMU TCG with
//! `-icount shift=0,sleep=off` the TSC advances once per guest instruction,
//! so `icount` figures are TSC ticks reported as `instructions`; `wall`
//! converts ticks to ns with a TSC rate measured against
//! `clock_gettime(CLOCK_MONOTONIC)`.

use crate::errno::Errno;
use crate::io::JsonStr;
use crate::sys;
use crate::types::CLOCK_MONOTONIC;

/// Reads the TSC after the instructions before it have completed
/// (`lfence; rdtsc`), as the kernel's benchmarks do.
#[inline(always)]
pub fn timestamp() -> u64 {
    #[cfg(target_arch = "x86")]
    {
        let lo: u32;
        let hi: u32;
        // SAFETY: `lfence` and `rdtsc` only read the TSC (CR4.TSD is clear:
        // the kernel lets ring 3 read it).
        unsafe {
            core::arch::asm!(
                "lfence",
                "rdtsc",
                out("eax") lo,
                out("edx") hi,
                options(nomem, nostack, preserves_flags)
            );
        }
        (u64::from(hi) << 32) | u64::from(lo)
    }
    #[cfg(not(target_arch = "x86"))]
    {
        0
    }
}

/// How figures are reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// TSC ticks = guest instructions (QEMU `-icount shift=0`).
    Icount,
    /// Nanoseconds, from a TSC rate measured at start.
    Wall {
        /// TSC ticks per microsecond (≥ 1).
        ticks_per_us: u64,
    },
    /// Raw TSC ticks (when no clock was available to convert them).
    Cycles,
}

impl Mode {
    /// From a program argument: `icount` or `wall` (the default). `wall`
    /// calibrates the TSC, which takes about 100 ms, and falls back to
    /// [`Mode::Cycles`] if `clock_gettime` fails.
    pub fn from_arg(arg: Option<&str>) -> Result<Mode, Errno> {
        match arg {
            Some("icount") => Ok(Mode::Icount),
            None | Some("wall") => Ok(match tsc_ticks_per_us(100_000_000) {
                Ok(t) => Mode::Wall { ticks_per_us: t },
                Err(_) => Mode::Cycles,
            }),
            Some("cycles") => Ok(Mode::Cycles),
            Some(_) => Err(Errno::EINVAL),
        }
    }

    /// The `mode` field.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Icount => "icount",
            Mode::Wall { .. } => "wall",
            Mode::Cycles => "cycles",
        }
    }

    /// The `unit` field.
    pub fn unit(self) -> &'static str {
        match self {
            Mode::Icount => "instructions",
            Mode::Wall { .. } => "ns",
            Mode::Cycles => "cycles",
        }
    }

    /// Converts TSC ticks to the unit.
    pub fn convert(self, ticks: u64) -> u64 {
        match self {
            Mode::Icount | Mode::Cycles => ticks,
            Mode::Wall { ticks_per_us } => ticks.saturating_mul(1000) / ticks_per_us.max(1),
        }
    }
}

fn monotonic_ns() -> Result<u64, Errno> {
    sys::clock_gettime(CLOCK_MONOTONIC).map(|t| t.as_nanos())
}

/// Measures the TSC rate against `CLOCK_MONOTONIC` over at least `span_ns`,
/// starting and ending on a clock change so a coarse clock (a timer tick)
/// costs at most one tick of error over the span.
pub fn tsc_ticks_per_us(span_ns: u64) -> Result<u64, Errno> {
    let wait_change = |from: u64| -> Result<(u64, u64), Errno> {
        loop {
            let now = monotonic_ns()?;
            if now != from {
                return Ok((now, timestamp()));
            }
        }
    };
    let (t0, c0) = wait_change(monotonic_ns()?)?;
    let (mut t1, mut c1);
    loop {
        (t1, c1) = wait_change(t0)?;
        if t1.saturating_sub(t0) >= span_ns {
            break;
        }
    }
    if t1 <= t0 {
        return Err(Errno::EIO);
    }
    Ok(((c1 - c0).saturating_mul(1000) / (t1 - t0)).max(1))
}

/// The median and 99th percentile of a set of samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stats {
    /// 50th percentile.
    pub median: u64,
    /// 99th percentile.
    pub p99: u64,
    /// Number of samples.
    pub n: u64,
}

impl Stats {
    /// Sorts `samples` and picks the percentiles (`n * q / 100`-th), as the
    /// kernel's benchmarks do.
    pub fn of(samples: &mut [u64]) -> Stats {
        samples.sort_unstable();
        let n = samples.len() as u64;
        let pick = |q: u64| {
            let i = ((n * q) / 100).min(n.saturating_sub(1)) as usize;
            samples.get(i).copied().unwrap_or(0)
        };
        Stats {
            median: pick(50),
            p99: pick(99),
            n,
        }
    }
}

/// The cost of taking a sample with nothing in it: the median of `n` empty
/// measurements. Subtract it from every sample.
pub fn timing_overhead(samples: &mut [u64]) -> u64 {
    for s in samples.iter_mut() {
        let t0 = timestamp();
        let t1 = timestamp();
        *s = t1 - t0;
    }
    Stats::of(samples).median
}

/// Subtracts `overhead` from each sample, computes the statistics, converts
/// them to `mode`'s unit and prints the benchmark line. `extra` is appended
/// as more JSON fields (`,"k":v…`, or empty).
pub fn report(name: &str, mode: Mode, samples: &mut [u64], overhead: u64, extra: &str) -> Stats {
    for s in samples.iter_mut() {
        *s = s.saturating_sub(overhead);
    }
    let raw = Stats::of(samples);
    let st = Stats {
        median: mode.convert(raw.median),
        p99: mode.convert(raw.p99),
        n: raw.n,
    };
    crate::println!(
        "{{\"bench\":{},\"level\":\"user\",\"mode\":\"{}\",\"unit\":\"{}\",\"median\":{},\"p99\":{},\"n\":{},\"value\":{}{}}}",
        JsonStr(name),
        mode.name(),
        mode.unit(),
        st.median,
        st.p99,
        st.n,
        st.median,
        extra
    );
    st
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_pick_like_the_kernel() {
        let mut s: Vec<u64> = (1..=100).rev().collect();
        assert_eq!(
            Stats::of(&mut s),
            Stats {
                median: 51,
                p99: 100,
                n: 100
            }
        );
        assert_eq!(
            Stats::of(&mut []),
            Stats {
                median: 0,
                p99: 0,
                n: 0
            }
        );
        assert_eq!(
            Stats::of(&mut [7]),
            Stats {
                median: 7,
                p99: 7,
                n: 1
            }
        );
    }

    #[test]
    fn modes() {
        let _lock = crate::errno_lock();
        assert_eq!(Mode::from_arg(Some("icount")), Ok(Mode::Icount));
        assert_eq!(Mode::from_arg(Some("bogus")), Err(Errno::EINVAL));
        // No clock on the host: wall falls back to cycles.
        assert_eq!(Mode::from_arg(Some("wall")), Ok(Mode::Cycles));
        assert_eq!(Mode::Wall { ticks_per_us: 2000 }.convert(4000), 2000);
        assert_eq!(Mode::Icount.unit(), "instructions");
        assert_eq!(Mode::Wall { ticks_per_us: 1 }.unit(), "ns");
    }
}
