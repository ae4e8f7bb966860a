//! Criterion benchmarks of the remap table: the cost of `translate` and `grow_up`
//! against the number of ranges (1 … 100k) and against the size of the range (a heap of
//! 1 MiB … 1 GiB in 4 KiB pages). The point to show: cost grows with log(ranges) and
//! not at all with the range's page count — `sbrk` is O(1) whatever the heap size.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use remap::{Mapping, Perms, RemapTable, Vpn};

const RW: Perms = Perms::READ.union(Perms::WRITE);
/// Ranges are placed `1 << GAP_SHIFT` pages apart, so a range can grow for as many
/// iterations as criterion runs without reaching its neighbour.
const GAP_SHIFT: u32 = 40;
const PAGES_PER_MIB: u64 = 256;

/// A table of `n` one-page ranges spread far apart.
fn spread_table(n: u64) -> RemapTable {
    let mut t = RemapTable::new();
    for i in 0..n {
        t.map(i << GAP_SHIFT, 1, Mapping::anon(i * 2, RW))
            .expect("benchmark table maps");
    }
    t
}

/// A process-like table: text, a heap of `heap_pages`, a guard, and a stack far above.
fn heap_table(heap_pages: u64) -> (RemapTable, Vpn) {
    let mut t = RemapTable::new();
    let heap = 0x1000;
    t.map(0x10, 0x100, Mapping::anon(0, Perms::READ | Perms::EXEC))
        .expect("text");
    t.map(heap, heap_pages, Mapping::anon(0x10_0000, RW))
        .expect("heap");
    t.map(1 << 50, 1, Mapping::guard(0)).expect("guard");
    t.map((1 << 50) + 16, 256, Mapping::anon(1 << 40, RW))
        .expect("stack");
    (t, heap)
}

/// A fixed pseudo-random sequence of indices below `n` (xorshift), to defeat caching
/// of one path through the tree.
fn indices(n: u64, count: usize) -> Vec<u64> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..count)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        })
        .collect()
}

fn by_range_count(c: &mut Criterion) {
    let mut g = c.benchmark_group("ranges");
    for n in [1u64, 100, 10_000, 100_000] {
        let table = spread_table(n);
        let vpns: Vec<Vpn> = indices(n, 1024)
            .into_iter()
            .map(|i| i << GAP_SHIFT)
            .collect();
        g.bench_with_input(BenchmarkId::new("translate", n), &vpns, |b, vpns| {
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) % vpns.len();
                black_box(table.translate(black_box(vpns[i])))
            })
        });
        g.bench_function(BenchmarkId::new("grow_up", n), |b| {
            let mut t = table.clone();
            let start = (n / 2) << GAP_SHIFT;
            b.iter(|| black_box(t.grow_up(black_box(start), 1)))
        });
    }
    g.finish();
}

fn by_heap_size(c: &mut Criterion) {
    let mut g = c.benchmark_group("heap");
    for mib in [1u64, 16, 256, 1024] {
        let pages = mib * PAGES_PER_MIB;
        let (table, heap) = heap_table(pages);
        let vpns: Vec<Vpn> = indices(pages, 1024).into_iter().map(|i| heap + i).collect();
        g.bench_with_input(BenchmarkId::new("translate_MiB", mib), &vpns, |b, vpns| {
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) % vpns.len();
                black_box(table.translate(black_box(vpns[i])))
            })
        });
        g.bench_function(BenchmarkId::new("grow_up_MiB", mib), |b| {
            let mut t = table.clone();
            b.iter(|| black_box(t.grow_up(black_box(heap), 1)))
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(1));
    targets = by_range_count, by_heap_size
}
criterion_main!(benches);
