//! Property tests: random operation sequences on a [`RemapTable`] against a naive
//! page-by-page model, over a small page universe so that ranges collide, split and
//! merge often, plus hostile values near `u64::MAX`. After every step the table's
//! invariants hold and every page translates exactly as the model says; the table's
//! ranges are exactly the model's maximal runs. A second property checks free-space
//! search against a brute-force reference.

use std::collections::BTreeMap;

use proptest::collection::vec;
use proptest::prelude::*;
use remap::{Kind, Mapping, Perms, Ppn, Range, RemapError, RemapTable, Translation, Vpn};

/// Pages `0..UNIVERSE` are checked one by one after every step.
const UNIVERSE: u64 = 256;
/// Operations that would make the model hold more pages than this are skipped.
const MODEL_LIMIT: u64 = 1 << 12;

fn config() -> ProptestConfig {
    let d = ProptestConfig::default();
    ProptestConfig {
        cases: d.cases.max(1000),
        ..d
    }
}

// ------------------------------------------------------------------------ the model

/// One page of the model: persistent page, perms, kind (offset of this page), cow.
type Page = (Ppn, Perms, Kind, bool);

fn page_of(m: &Mapping, delta: u64) -> Option<Page> {
    let kind = match m.kind {
        Kind::Object { id, offset } => Kind::Object {
            id,
            offset: offset.checked_add(delta)?,
        },
        k => k,
    };
    Some((m.base.checked_add(delta)?, m.perms, kind, m.cow))
}

fn mapping_of(p: &Page) -> Mapping {
    Mapping {
        base: p.0,
        perms: p.1,
        kind: p.2,
        cow: p.3,
    }
}

/// Whether `pages` pages from `m` on keep base and offset representable.
fn model_fits(m: &Mapping, pages: u64) -> bool {
    page_of(m, pages).is_some()
}

#[derive(Clone, Default, Debug)]
struct Model {
    pages: BTreeMap<Vpn, Page>,
}

impl Model {
    /// The maximal runs of pages that continue each other.
    fn runs(&self) -> Vec<Range> {
        let mut out: Vec<Range> = Vec::new();
        for (&v, p) in &self.pages {
            if let Some(last) = out.last_mut() {
                let next = last.start + last.pages;
                if next == v && page_of(&last.mapping, last.pages) == Some(*p) {
                    last.pages += 1;
                    continue;
                }
            }
            out.push(Range {
                start: v,
                pages: 1,
                mapping: mapping_of(p),
            });
        }
        out
    }

    fn run_starting_at(&self, start: Vpn) -> Option<Range> {
        self.runs().into_iter().find(|r| r.start == start)
    }

    fn run_containing(&self, v: Vpn) -> Option<Range> {
        self.runs()
            .into_iter()
            .find(|r| v >= r.start && v - r.start < r.pages)
    }

    fn first_mapped(&self, start: Vpn, end: Vpn) -> Option<Vpn> {
        self.pages.range(start..end).next().map(|(&v, _)| v)
    }

    fn insert_run(&mut self, start: Vpn, pages: u64, m: &Mapping) {
        for d in 0..pages {
            self.pages
                .insert(start + d, page_of(m, d).expect("checked fits"));
        }
    }

    fn expand(pieces: &[Range]) -> Vec<(Vpn, Page)> {
        pieces
            .iter()
            .flat_map(|r| (0..r.pages).map(move |d| (r.start + d, page_of(&r.mapping, d).unwrap())))
            .collect()
    }

    fn slice(&self, start: Vpn, end: Vpn) -> Vec<(Vpn, Page)> {
        self.pages
            .range(start..end)
            .map(|(&v, p)| (v, *p))
            .collect()
    }
}

/// The table agrees with the model in every observable way.
fn check(t: &RemapTable, m: &Model) -> Result<(), TestCaseError> {
    if let Err(e) = t.check_invariants() {
        return Err(TestCaseError::fail(format!("invariant: {e}")));
    }
    let runs = m.runs();
    let ranges: Vec<Range> = t.iter().collect();
    prop_assert_eq!(&ranges, &runs);
    prop_assert_eq!(t.len(), runs.len());
    prop_assert_eq!(t.is_empty(), runs.is_empty());
    let expected = |v: Vpn| -> Option<Translation> {
        let i = runs.partition_point(|r| r.start <= v);
        let r = runs.get(i.checked_sub(1)?)?;
        if v - r.start >= r.pages {
            return None;
        }
        let p = m.pages.get(&v)?;
        Some(Translation {
            vpn: v,
            page: p.0,
            perms: p.1,
            kind: p.2,
            cow: p.3,
            range_start: r.start,
            range_pages: r.pages,
        })
    };
    let extra: Vec<Vpn> = m.pages.keys().copied().filter(|&v| v >= UNIVERSE).collect();
    for v in (0..UNIVERSE).chain(extra).chain([u64::MAX]) {
        let want = expected(v);
        prop_assert_eq!(t.translate(v), want, "translate({})", v);
        prop_assert_eq!(
            want.is_some(),
            m.pages.contains_key(&v),
            "model page {} not in a run",
            v
        );
        let rc = t.range_containing(v);
        prop_assert_eq!(
            rc.map(|r| (r.start, r.pages)),
            want.map(|w| (w.range_start, w.range_pages))
        );
    }
    Ok(())
}

// ------------------------------------------------------------------------ operations

#[derive(Clone, Copy, Debug)]
enum BaseChoice {
    /// `base = start + 1000`: separately mapped neighbours are contiguous.
    Linear,
    Fixed(Ppn),
}

#[derive(Clone, Copy, Debug)]
enum KindChoice {
    Anon,
    Guard,
    /// Object with offset = start (contiguous across neighbours).
    ObjectLinear(u64),
    Object(u64, u64),
}

#[derive(Clone, Copy, Debug)]
enum Pick {
    /// The start of the i-th (mod len) range, so operations on ranges mostly succeed.
    Existing(usize),
    Any(Vpn),
}

#[derive(Clone, Copy, Debug)]
enum Rebase {
    /// Child base = start + 5000: child neighbours become contiguous.
    Linear,
    Scattered,
    /// A base that overflows.
    Overflow,
}

#[derive(Clone, Copy, Debug)]
enum Op {
    Map {
        start: Vpn,
        pages: u64,
        base: BaseChoice,
        perms: Perms,
        kind: KindChoice,
        cow: bool,
    },
    Unmap {
        start: Vpn,
        pages: u64,
    },
    Protect {
        start: Vpn,
        pages: u64,
        perms: Perms,
    },
    /// Protect or unmap a span starting inside the i-th range and ending near it, so
    /// that it is mostly (not always) mapped.
    Near {
        i: usize,
        skip: u64,
        pages: u64,
        perms: Perms,
        unmap: bool,
    },
    GrowUp {
        pick: Pick,
        extra: u64,
    },
    GrowDown {
        pick: Pick,
        extra: u64,
    },
    ShrinkUp {
        pick: Pick,
        pages: u64,
    },
    Fork {
        keep_child: bool,
        rebase: Rebase,
        strict: bool,
    },
}

fn vpn() -> impl Strategy<Value = Vpn> {
    prop_oneof![
        12 => 0..UNIVERSE,
        1 => (0..8u64).prop_map(|d| u64::MAX - d),
    ]
}

fn count() -> impl Strategy<Value = u64> {
    prop_oneof![
        10 => 0..24u64,
        2 => 0..UNIVERSE,
        1 => (0..8u64).prop_map(|d| u64::MAX - d),
    ]
}

fn big_or_small() -> impl Strategy<Value = u64> {
    prop_oneof![
        6 => 0..600u64,
        1 => 0..4u64,
        1 => (0..40u64).prop_map(|d| u64::MAX - d),
    ]
}

fn perms() -> impl Strategy<Value = Perms> {
    prop_oneof![
        2 => Just(Perms::READ | Perms::WRITE),
        1 => Just(Perms::READ),
        1 => (0..8u8).prop_map(Perms::from_bits_truncate),
    ]
}

fn pick() -> impl Strategy<Value = Pick> {
    prop_oneof![
        4 => any::<usize>().prop_map(Pick::Existing),
        1 => vpn().prop_map(Pick::Any),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let base = prop_oneof![
        2 => Just(BaseChoice::Linear),
        2 => big_or_small().prop_map(BaseChoice::Fixed),
    ];
    let kind = prop_oneof![
        4 => Just(KindChoice::Anon),
        1 => Just(KindChoice::Guard),
        1 => (0..2u64).prop_map(KindChoice::ObjectLinear),
        1 => (0..2u64, big_or_small()).prop_map(|(i, o)| KindChoice::Object(i, o)),
    ];
    let rebase = prop_oneof![
        2 => Just(Rebase::Linear),
        2 => Just(Rebase::Scattered),
        1 => Just(Rebase::Overflow),
    ];
    prop_oneof![
        6 => (vpn(), count(), base, perms(), kind, prop::bool::weighted(0.2)).prop_map(
            |(start, pages, base, perms, kind, cow)| Op::Map { start, pages, base, perms, kind, cow }
        ),
        2 => (vpn(), count()).prop_map(|(start, pages)| Op::Unmap { start, pages }),
        3 => (vpn(), count(), perms()).prop_map(|(start, pages, perms)| Op::Protect { start, pages, perms }),
        4 => (any::<usize>(), 0..64u64, 1..64u64, perms(), prop::bool::weighted(0.3)).prop_map(
            |(i, skip, pages, perms, unmap)| Op::Near { i, skip, pages, perms, unmap }
        ),
        2 => (pick(), count()).prop_map(|(pick, extra)| Op::GrowUp { pick, extra }),
        2 => (pick(), count()).prop_map(|(pick, extra)| Op::GrowDown { pick, extra }),
        1 => (pick(), count()).prop_map(|(pick, pages)| Op::ShrinkUp { pick, pages }),
        1 => (any::<bool>(), rebase, any::<bool>())
            .prop_map(|(keep_child, rebase, strict)| Op::Fork { keep_child, rebase, strict }),
    ]
}

fn resolve_pick(m: &Model, pick: Pick) -> Vpn {
    match pick {
        Pick::Any(v) => v,
        Pick::Existing(i) => {
            let runs = m.runs();
            if runs.is_empty() {
                0
            } else {
                runs[i % runs.len()].start
            }
        }
    }
}

fn span(start: Vpn, pages: u64) -> Result<Vpn, RemapError> {
    if pages == 0 {
        return Err(RemapError::EmptyRange);
    }
    start.checked_add(pages).ok_or(RemapError::Overflow)
}

/// Apply `op` to the table and the model and compare results. Returns the (table,
/// model) to continue with (a fork may switch to the child).
fn step(
    t: &mut RemapTable,
    m: &mut Model,
    op: Op,
) -> Result<Option<(RemapTable, Model)>, TestCaseError> {
    match op {
        Op::Near {
            i,
            skip,
            pages,
            perms,
            unmap,
        } => {
            let runs = m.runs();
            let Some(r) = runs.get(i % runs.len().max(1)) else {
                return Ok(None);
            };
            let start = r.start + skip % r.pages;
            let room = r.start + r.pages - start;
            // Mostly inside the range, sometimes past its end.
            let pages = if pages % 4 == 0 {
                pages
            } else {
                1 + pages % room
            };
            let op = if unmap {
                Op::Unmap { start, pages }
            } else {
                Op::Protect {
                    start,
                    pages,
                    perms,
                }
            };
            return step(t, m, op);
        }
        Op::Map {
            start,
            pages,
            base,
            perms,
            kind,
            cow,
        } => {
            let base = match base {
                BaseChoice::Linear => start.wrapping_add(1000),
                BaseChoice::Fixed(b) => b,
            };
            let kind = match kind {
                KindChoice::Anon => Kind::Anon,
                KindChoice::Guard => Kind::Guard,
                KindChoice::ObjectLinear(id) => Kind::Object { id, offset: start },
                KindChoice::Object(id, offset) => Kind::Object { id, offset },
            };
            let mapping = Mapping {
                base,
                perms,
                kind,
                cow,
            };
            let want = span(start, pages).and_then(|end| {
                if !model_fits(&mapping, pages) {
                    return Err(RemapError::Overflow);
                }
                match m.first_mapped(start, end) {
                    Some(at) => Err(RemapError::Overlap { at }),
                    None => Ok(()),
                }
            });
            if want.is_ok() && pages > MODEL_LIMIT {
                return Ok(None);
            }
            let got = t.map(start, pages, mapping);
            prop_assert_eq!(got, want);
            if want.is_ok() {
                m.insert_run(start, pages, &mapping);
            }
        }
        Op::Unmap { start, pages } => {
            let got = t.unmap(start, pages);
            match span(start, pages) {
                Err(e) => prop_assert_eq!(got, Err(e)),
                Ok(end) => {
                    let pieces = got.map_err(|e| TestCaseError::fail(format!("unmap: {e}")))?;
                    prop_assert_eq!(Model::expand(&pieces), m.slice(start, end));
                    let keys: Vec<Vpn> = m.pages.range(start..end).map(|(&v, _)| v).collect();
                    for v in keys {
                        m.pages.remove(&v);
                    }
                }
            }
        }
        Op::Protect {
            start,
            pages,
            perms,
        } => {
            let before = t.clone();
            let got = t.protect(start, pages, perms);
            let want = span(start, pages).and_then(|end| {
                let mut v = start;
                while v < end && m.pages.contains_key(&v) {
                    v += 1;
                }
                if v < end {
                    Err(RemapError::NotMapped { at: v })
                } else {
                    Ok(end)
                }
            });
            match want {
                Err(e) => {
                    prop_assert_eq!(got, Err(e));
                    prop_assert_eq!(&*t, &before, "failed protect changed the table");
                }
                Ok(end) => {
                    let pieces = got.map_err(|e| TestCaseError::fail(format!("protect: {e}")))?;
                    for (_, p) in m.pages.range_mut(start..end) {
                        p.1 = perms;
                    }
                    prop_assert_eq!(Model::expand(&pieces), m.slice(start, end));
                }
            }
        }
        Op::GrowUp { pick, extra } => {
            let start = resolve_pick(m, pick);
            let want = (|| {
                if extra == 0 {
                    return Err(RemapError::EmptyRange);
                }
                let r = m
                    .run_starting_at(start)
                    .ok_or(RemapError::NotARangeStart { at: start })?;
                let end = r.start + r.pages;
                let new_end = end.checked_add(extra).ok_or(RemapError::Overflow)?;
                let new_pages = r.pages.checked_add(extra).ok_or(RemapError::Overflow)?;
                if !model_fits(&r.mapping, new_pages) {
                    return Err(RemapError::Overflow);
                }
                if m.first_mapped(end, new_end).is_some() {
                    return Err(RemapError::NoRoom);
                }
                Ok(r)
            })();
            if want.is_ok() && extra > MODEL_LIMIT {
                return Ok(None);
            }
            let before = t.clone();
            let got = t.grow_up(start, extra);
            match want {
                Err(e) => {
                    prop_assert_eq!(got, Err(e));
                    prop_assert_eq!(&*t, &before);
                }
                Ok(r) => {
                    m.insert_run(r.start, r.pages + extra, &r.mapping);
                    prop_assert_eq!(got, Ok(m.run_containing(start).unwrap()));
                }
            }
        }
        Op::GrowDown { pick, extra } => {
            let start = resolve_pick(m, pick);
            let want = (|| {
                if extra == 0 {
                    return Err(RemapError::EmptyRange);
                }
                let r = m
                    .run_starting_at(start)
                    .ok_or(RemapError::NotARangeStart { at: start })?;
                let new_start = start.checked_sub(extra).ok_or(RemapError::Overflow)?;
                let base = r
                    .mapping
                    .base
                    .checked_sub(extra)
                    .ok_or(RemapError::BaseUnderflow)?;
                let kind = match r.mapping.kind {
                    Kind::Object { id, offset } => Kind::Object {
                        id,
                        offset: offset.checked_sub(extra).ok_or(RemapError::BaseUnderflow)?,
                    },
                    k => k,
                };
                if m.first_mapped(new_start, start).is_some() {
                    return Err(RemapError::NoRoom);
                }
                Ok((
                    r,
                    new_start,
                    Mapping {
                        base,
                        kind,
                        ..r.mapping
                    },
                ))
            })();
            if want.is_ok() && extra > MODEL_LIMIT {
                return Ok(None);
            }
            let before = t.clone();
            let got = t.grow_down(start, extra);
            match want {
                Err(e) => {
                    prop_assert_eq!(got, Err(e));
                    prop_assert_eq!(&*t, &before);
                }
                Ok((_, new_start, mapping)) => {
                    m.insert_run(new_start, extra, &mapping);
                    prop_assert_eq!(got, Ok(m.run_containing(new_start).unwrap()));
                }
            }
        }
        Op::ShrinkUp { pick, pages } => {
            let start = resolve_pick(m, pick);
            let want = (|| {
                if pages == 0 {
                    return Err(RemapError::EmptyRange);
                }
                let r = m
                    .run_starting_at(start)
                    .ok_or(RemapError::NotARangeStart { at: start })?;
                if pages > r.pages {
                    return Err(RemapError::ShrinkTooFar {
                        at: start,
                        pages: r.pages,
                    });
                }
                let tail = r.start + r.pages - pages;
                Ok(Range {
                    start: tail,
                    pages,
                    mapping: mapping_of(&m.pages[&tail]),
                })
            })();
            let before = t.clone();
            let got = t.shrink_up(start, pages);
            prop_assert_eq!(got, want);
            match want {
                Err(_) => prop_assert_eq!(&*t, &before),
                Ok(tail) => {
                    for v in tail.start..tail.start + tail.pages {
                        m.pages.remove(&v);
                    }
                }
            }
        }
        Op::Fork {
            keep_child,
            rebase,
            strict,
        } => {
            let rebase_fn = |r: &Range| -> Ppn {
                match rebase {
                    Rebase::Linear => r.start.wrapping_add(5000),
                    Rebase::Scattered => r.start.wrapping_mul(3).wrapping_add(100_000 + r.pages),
                    Rebase::Overflow => u64::MAX - r.pages / 2,
                }
            };
            // Model: mark every private page of the parent copy-on-write, then rebase
            // each private run of it (the child owns its private pages).
            let mut parent = m.clone();
            for p in parent.pages.values_mut() {
                if p.2 == Kind::Anon {
                    p.3 = true;
                }
            }
            let targets: Vec<Range> = parent
                .runs()
                .into_iter()
                .filter(|r| r.mapping.kind == Kind::Anon)
                .collect();
            let mut child = parent.clone();
            let mut overflowed = false;
            for r in &targets {
                let moved = Mapping {
                    base: rebase_fn(r),
                    ..r.mapping
                };
                for v in r.start..r.start + r.pages {
                    child.pages.remove(&v);
                }
                if model_fits(&moved, r.pages) {
                    child.insert_run(r.start, r.pages, &moved);
                } else {
                    overflowed = true;
                }
            }
            let mut calls = Vec::new();
            let before = t.clone();
            let rebase_rec = |r: &Range| {
                calls.push(*r);
                rebase_fn(r)
            };
            let got = if strict {
                match t.try_fork_copy(rebase_rec) {
                    Err(e) => {
                        prop_assert!(overflowed, "try_fork_copy failed: {}", e);
                        prop_assert_eq!(e, RemapError::Overflow);
                        prop_assert_eq!(&*t, &before);
                        return Ok(None);
                    }
                    Ok(c) => {
                        prop_assert!(!overflowed);
                        c
                    }
                }
            } else {
                t.fork_copy(rebase_rec)
            };
            prop_assert_eq!(&calls, &targets);
            *m = parent;
            check(t, m)?;
            check(&got, &child)?;
            if keep_child {
                return Ok(Some((got, child)));
            }
        }
    }
    Ok(None)
}

// ------------------------------------------------------------------------ properties

proptest! {
    #![proptest_config(config())]

    #[test]
    fn operations_match_page_model(ops in vec(op(), 1..48)) {
        let mut t = RemapTable::new();
        let mut m = Model::default();
        for op in ops {
            if let Some((ct, cm)) = step(&mut t, &mut m, op)? {
                t = ct;
                m = cm;
            }
            check(&t, &m)?;
        }
    }

    #[test]
    fn find_free_matches_reference(
        maps in vec((vpn(), 1..20u64), 0..24),
        pages in count(),
        lo in prop_oneof![4 => 0..300u64, 1 => (0..30u64).prop_map(|d| u64::MAX - d)],
        hi in prop_oneof![4 => 0..300u64, 1 => (0..30u64).prop_map(|d| u64::MAX - d)],
    ) {
        let mut t = RemapTable::new();
        let mut m = Model::default();
        for (start, n) in maps {
            let mapping = Mapping::anon(start.wrapping_mul(7) % 1000, Perms::READ);
            if t.map(start, n, mapping).is_ok() {
                m.insert_run(start, n, &mapping);
            }
        }
        check(&t, &m)?;

        // Brute-force references over the page-level model.
        let lowest = (|| {
            if pages == 0 {
                return None;
            }
            let mut s = lo;
            loop {
                let e = s.checked_add(pages)?;
                if e > hi {
                    return None;
                }
                match m.pages.range(s..e).next() {
                    None => return Some(s),
                    Some((&v, _)) => s = v + 1,
                }
            }
        })();
        let highest = (|| {
            if pages == 0 {
                return None;
            }
            let mut e = hi;
            loop {
                let s = e.checked_sub(pages)?;
                if s < lo {
                    return None;
                }
                match m.pages.range(s..e).next_back() {
                    None => return Some(s),
                    Some((&v, _)) => e = v,
                }
            }
        })();
        let got = t.find_free(pages, lo, hi);
        let got_top = t.find_free_top_down(pages, lo, hi);
        for s in [got, got_top].into_iter().flatten() {
            prop_assert!(lo <= s);
            let e = s.checked_add(pages);
            prop_assert!(e.is_some_and(|e| e <= hi), "out of bounds: {} + {} > {}", s, pages, hi);
            prop_assert!(m.pages.range(s..s + pages).next().is_none(), "not free: {}", s);
        }
        prop_assert_eq!(got, lowest);
        prop_assert_eq!(got_top, highest);
    }
}
