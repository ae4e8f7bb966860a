//! [`Radix`]: a sparse map from `u64` keys to non-zero `u64` values (0 = absent), as a
//! radix tree of 512-slot nodes whose height grows with the largest key stored. A lookup
//! costs one indexed load per level (2–4 levels for the keys `vm` uses: persistent page
//! numbers handed out by a bump allocator, physical frame numbers) instead of the
//! O(log n) comparisons of a balanced tree.
//!
//! Nodes live in a dense arena (`Vec`) and point to each other by index, so the
//! structure is plain data. Index 0 is an all-zero sentinel node: a missing child is
//! link 0, and a lookup simply walks through the sentinel to a 0 value, without a
//! branch per level. A node left empty is unlinked and the last node of the arena is
//! moved into its place (its parent link and its children's back links are updated),
//! so the arena always holds exactly the live nodes.

use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

/// Bits of key consumed per level.
const BITS: u32 = 9;
/// Slots per node.
const FAN: usize = 1 << BITS;
const MASK: u64 = FAN as u64 - 1;
/// Levels needed to cover every `u64` key.
const MAX_LEVELS: usize = u64::BITS.div_ceil(BITS) as usize;

type Slots = [u64; FAN];

fn zeroed() -> Box<Slots> {
    match vec![0u64; FAN].into_boxed_slice().try_into() {
        Ok(b) => b,
        Err(_) => Box::new([0; FAN]),
    }
}

/// Index of `key` in a node whose slots each cover `1 << shift` keys.
#[inline(always)]
fn index(key: u64, shift: u32) -> usize {
    ((key >> shift) & MASK) as usize
}

/// Words of a node's occupancy bitmap.
const OCCUPANCY_WORDS: usize = FAN / 64;

/// The first set bit of `bits` at or after `from`.
#[inline]
fn next_occupied(bits: &[u64; OCCUPANCY_WORDS], from: usize) -> Option<usize> {
    let mut w = from / 64;
    let mut word = *bits.get(w)? & (!0u64 << (from % 64));
    loop {
        if word != 0 {
            return Some(w * 64 + word.trailing_zeros() as usize);
        }
        w += 1;
        word = *bits.get(w)?;
    }
}

/// Bookkeeping of one node.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Meta {
    /// Non-zero slots.
    used: u16,
    /// Which slots are non-zero (bit `i % 64` of word `i / 64`): a search for
    /// the next key skips empty slots a word at a time.
    occupied: [u64; OCCUPANCY_WORDS],
    /// The slot of the parent that links here.
    slot: u16,
    /// The parent node (0: this is the root).
    parent: u32,
    /// Shift of the node's index: 0 for a leaf, 9 above it, ...
    shift: u32,
}

/// The kernel heap could not give the node arena room to grow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RadixFull;

/// A sparse `u64 -> u64` map; see the module documentation.
#[derive(Clone)]
pub(crate) struct Radix {
    /// Node slots; `nodes[0]` is the all-zero sentinel (once anything was stored). In
    /// a leaf a slot is the value; above, the index of the child node (0 = none).
    nodes: Vec<Box<Slots>>,
    /// Bookkeeping, parallel to `nodes`.
    meta: Vec<Meta>,
    /// The root node (0 = empty tree).
    root: u32,
    /// Shift of the root's index: keys below `1 << (shift + 9)` fit.
    shift: u32,
    /// Non-zero values stored.
    len: usize,
}

impl Radix {
    /// An empty map.
    pub(crate) const fn new() -> Radix {
        Radix {
            nodes: Vec::new(),
            meta: Vec::new(),
            root: 0,
            shift: 0,
            len: 0,
        }
    }

    /// Number of keys with a non-zero value.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Whether `key` is below the capacity of the current height.
    #[inline(always)]
    fn fits(&self, key: u64) -> bool {
        let top = self.shift + BITS;
        top >= u64::BITS || key >> top == 0
    }

    /// The value of `key` (0 if absent).
    #[inline]
    pub(crate) fn get(&self, key: u64) -> u64 {
        if !self.fits(key) {
            return 0;
        }
        let mut node = self.root as usize;
        let mut shift = self.shift;
        loop {
            let Some(slots) = self.nodes.get(node) else {
                return 0;
            };
            let v = slots[index(key, shift)];
            if shift == 0 {
                return v;
            }
            node = v as usize;
            shift -= BITS;
        }
    }

    /// Make sure the next `updates` calls of [`Radix::update`] cannot make the node
    /// arena grow: its two vectors get room for every node they may add. The one
    /// allocation here that can be large (a vector doubling) is fallible; the
    /// nodes themselves are small.
    #[inline]
    pub(crate) fn reserve_for(&mut self, updates: usize) -> Result<(), RadixFull> {
        self.reserve_nodes(updates.saturating_mul(MAX_LEVELS + 1))
    }

    /// Room for `updates` insertions whose keys all lie in one span of `span`
    /// consecutive keys (a fork's destination window): they share their nodes,
    /// so at most `ceil(span / 512^k) + 1` new nodes per level `k`, plus the
    /// levels a taller root adds — never more than [`Radix::reserve_for`] asks.
    pub(crate) fn reserve_for_span(&mut self, updates: usize, span: u64) -> Result<(), RadixFull> {
        let mut nodes = MAX_LEVELS;
        let mut per_node = FAN as u64;
        for _ in 0..MAX_LEVELS {
            nodes = nodes.saturating_add(span.div_ceil(per_node) as usize + 1);
            per_node = per_node.saturating_mul(FAN as u64);
        }
        self.reserve_nodes(nodes.min(updates.saturating_mul(MAX_LEVELS + 1)))
    }

    /// Room in the arena for `n` more nodes; nothing changes when there is none.
    #[inline]
    fn reserve_nodes(&mut self, n: usize) -> Result<(), RadixFull> {
        // `meta` grows with `nodes` (same length, same reservations).
        if self.nodes.capacity() - self.nodes.len() >= n
            && self.meta.capacity() - self.meta.len() >= n
        {
            return Ok(());
        }
        self.grow_arena(n)
    }

    #[cold]
    fn grow_arena(&mut self, n: usize) -> Result<(), RadixFull> {
        self.nodes.try_reserve(n).map_err(|_| RadixFull)?;
        self.meta.try_reserve(n).map_err(|_| RadixFull)
    }

    /// Give back arena room far beyond what the live nodes need (after many
    /// nodes went): the vectors keep their peak capacity otherwise. Fallible
    /// and optional — when the heap has no room for the smaller copy, nothing
    /// changes. Never call it between [`Radix::reserve_for`] and the updates it
    /// reserved for.
    pub(crate) fn shrink_arena(&mut self) {
        fn shrunk<T>(v: &mut Vec<T>) {
            let keep = v.len() + v.len() / 2 + 16;
            if v.capacity() <= 2 * keep {
                return;
            }
            let mut copy = Vec::new();
            if copy.try_reserve_exact(keep).is_ok() {
                // Moves the elements (the nodes' boxes are not copied).
                copy.extend(core::mem::take(v));
                *v = copy;
            }
        }
        shrunk(&mut self.nodes);
        shrunk(&mut self.meta);
    }

    /// Arena capacity in nodes (tests).
    #[cfg(test)]
    pub(crate) fn arena_capacity(&self) -> usize {
        self.nodes.capacity()
    }

    /// A fresh all-zero node with bookkeeping `meta` (`used` 0).
    fn alloc_node(&mut self, meta: Meta) -> u32 {
        if self.nodes.is_empty() {
            self.nodes.push(zeroed());
            self.meta.push(Meta::default());
        }
        self.nodes.push(zeroed());
        self.meta.push(meta);
        (self.nodes.len() - 1) as u32
    }

    /// Slot `i` of node `n` became non-zero.
    #[inline]
    fn mark(&mut self, n: u32, i: usize) {
        let m = &mut self.meta[n as usize];
        m.occupied[i / 64] |= 1 << (i % 64);
        m.used += 1;
    }

    /// Slot `i` of node `n` became zero.
    #[inline]
    fn unmark(&mut self, n: u32, i: usize) {
        let m = &mut self.meta[n as usize];
        m.occupied[i / 64] &= !(1 << (i % 64));
        m.used -= 1;
    }

    /// Drop node `n` (empty, and already unlinked from its parent) by moving the last
    /// node into its place. Returns the index the moved node had (equal to `n` when
    /// `n` was the last).
    fn free_node(&mut self, n: u32) -> u32 {
        let last = (self.nodes.len() - 1) as u32;
        self.nodes.swap_remove(n as usize);
        self.meta.swap_remove(n as usize);
        if n != last {
            let m = self.meta[n as usize];
            if m.parent == 0 {
                self.root = n;
            } else {
                self.nodes[m.parent as usize][usize::from(m.slot)] = u64::from(n);
            }
            if m.shift != 0 {
                for i in 0..FAN {
                    let c = self.nodes[n as usize][i];
                    if c != 0 {
                        self.meta[c as usize].parent = n;
                    }
                }
            }
        }
        last
    }

    /// Grow the tree until `key` fits.
    fn grow_for(&mut self, key: u64) {
        while !self.fits(key) {
            if self.root != 0 {
                let r = self.alloc_node(Meta {
                    shift: self.shift + BITS,
                    ..Meta::default()
                });
                self.nodes[r as usize][0] = u64::from(self.root);
                self.mark(r, 0);
                self.meta[self.root as usize].parent = r;
                self.meta[self.root as usize].slot = 0;
                self.root = r;
            }
            self.shift += BITS;
        }
    }

    /// Set `key` to `f(old)` and return `old`. A zero result removes the key (freeing
    /// nodes left empty).
    pub(crate) fn update(&mut self, key: u64, f: impl FnOnce(u64) -> u64) -> u64 {
        // Path of (node, slot) from the root down, as far as it exists.
        let mut path = [(0u32, 0usize); MAX_LEVELS];
        let mut depth = 0;
        let mut old = 0;
        // Whether the walk reached the key's leaf slot (its leaf node exists).
        let mut leaf = false;
        if self.root != 0 && self.fits(key) {
            let mut node = self.root;
            let mut shift = self.shift;
            loop {
                let i = index(key, shift);
                path[depth] = (node, i);
                depth += 1;
                let v = self.nodes[node as usize][i];
                if shift == 0 {
                    old = v;
                    leaf = true;
                    break;
                }
                if v == 0 {
                    break;
                }
                node = v as u32;
                shift -= BITS;
            }
        }
        let new = f(old);
        if new == old {
            return old;
        }
        if old != 0 && new != 0 {
            // The full path exists: only the value changes.
            let (n, i) = path[depth - 1];
            self.nodes[n as usize][i] = new;
            return old;
        }
        if new != 0 {
            if leaf {
                // The leaf exists (a neighbour key is stored): fill its slot.
                let (n, i) = path[depth - 1];
                self.nodes[n as usize][i] = new;
                self.mark(n, i);
                self.len += 1;
            } else {
                self.insert_new(key, new);
            }
            return old;
        }
        // Remove: clear the leaf slot, then unlink and drop nodes left empty (each
        // unlinked from its parent before it is dropped, so that no live slot links to
        // it when the last node moves into its place).
        self.len -= 1;
        depth -= 1;
        let (mut n, i) = path[depth];
        self.nodes[n as usize][i] = 0;
        self.unmark(n, i);
        while self.meta[n as usize].used == 0 {
            if depth == 0 {
                // The root went: give the arena (and the sentinel) back.
                *self = Radix::new();
                return old;
            }
            depth -= 1;
            let (p, pi) = path[depth];
            self.nodes[p as usize][pi] = 0;
            self.unmark(p, pi);
            let moved = self.free_node(n);
            for e in &mut path[..=depth] {
                if e.0 == moved {
                    e.0 = n;
                }
            }
            n = path[depth].0;
        }
        old
    }

    /// Store non-zero `value` at the absent `key`, creating the missing nodes.
    fn insert_new(&mut self, key: u64, value: u64) {
        self.grow_for(key);
        if self.root == 0 {
            self.root = self.alloc_node(Meta {
                shift: self.shift,
                ..Meta::default()
            });
        }
        let mut node = self.root;
        let mut shift = self.shift;
        loop {
            let i = index(key, shift);
            if shift == 0 {
                self.nodes[node as usize][i] = value;
                self.mark(node, i);
                break;
            }
            let v = self.nodes[node as usize][i];
            node = if v != 0 {
                v as u32
            } else {
                let c = self.alloc_node(Meta {
                    slot: i as u16,
                    parent: node,
                    shift: shift - BITS,
                    ..Meta::default()
                });
                self.nodes[node as usize][i] = u64::from(c);
                self.mark(node, i);
                c
            };
            shift -= BITS;
        }
        self.len += 1;
    }

    /// Set `key` to `value` (0 removes it); returns the old value.
    pub(crate) fn set(&mut self, key: u64, value: u64) -> u64 {
        self.update(key, |_| value)
    }

    /// The first key in `[from, end)` with a non-zero value, and the value.
    pub(crate) fn next(&self, from: u64, end: u64) -> Option<(u64, u64)> {
        self.next_upto(from, end.checked_sub(1)?)
    }

    /// The first key in `[from, last]` with a non-zero value, and the value.
    fn next_upto(&self, from: u64, last: u64) -> Option<(u64, u64)> {
        if from > last || self.root == 0 || !self.fits(from) {
            return None;
        }
        self.next_in(self.root, self.shift, 0, from, last)
    }

    /// [`Radix::next_upto`] inside node `n` (a real node) with index shift `shift`,
    /// which covers keys from `base`.
    fn next_in(&self, n: u32, shift: u32, base: u64, from: u64, last: u64) -> Option<(u64, u64)> {
        let (slots, meta) = (self.nodes.get(n as usize)?, self.meta.get(n as usize)?);
        let mut i = if from > base {
            ((from - base) >> shift) as usize
        } else {
            0
        };
        // Slots of a top level that would lie beyond `u64::MAX` are never used.
        let used_slots = FAN.min(((u64::MAX >> shift) as usize).saturating_add(1));
        while let Some(j) = next_occupied(&meta.occupied, i) {
            if j >= used_slots {
                return None;
            }
            let key = base + ((j as u64) << shift);
            if key > last {
                return None;
            }
            let v = slots[j];
            if shift == 0 {
                return Some((key, v));
            }
            if let Some(hit) = self.next_in(v as u32, shift - BITS, key, from, last) {
                return Some(hit);
            }
            i = j + 1;
        }
        None
    }

    /// Every (key, value) with a non-zero value, in key order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.range_upto(0, Some(u64::MAX))
    }

    /// Every (key, value) in `[from, end)` with a non-zero value, in key order.
    pub(crate) fn range(&self, from: u64, end: u64) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.range_upto(from, end.checked_sub(1))
    }

    /// Every (key, value) in `[from, last]` (nothing if `last` is `None`).
    fn range_upto(&self, from: u64, last: Option<u64>) -> impl Iterator<Item = (u64, u64)> + '_ {
        let mut cursor = Some(from);
        core::iter::from_fn(move || {
            let (k, v) = self.next_upto(cursor?, last?)?;
            cursor = k.checked_add(1);
            Some((k, v))
        })
    }

    /// Check the structure: the sentinel is zero, every other node is reachable from
    /// the root exactly once with matching bookkeeping (parent, slot, level, count of
    /// non-zero slots, never empty), and the length matches. Returns the first
    /// violation.
    pub(crate) fn check(&self) -> Result<(), &'static str> {
        if self.nodes.len() != self.meta.len() {
            return Err("bookkeeping length wrong");
        }
        if self.root == 0 {
            return if self.nodes.is_empty() && self.len == 0 && self.shift == 0 {
                Ok(())
            } else {
                Err("empty tree holds nodes")
            };
        }
        if self.nodes[0].iter().any(|&v| v != 0) {
            return Err("sentinel not zero");
        }
        let mut seen = vec![false; self.nodes.len()];
        seen[0] = true;
        let mut values = 0usize;
        let mut stack = vec![(self.root, 0u32, 0usize, self.shift)];
        while let Some((n, parent, slot, shift)) = stack.pop() {
            let (Some(slots), Some(meta)) = (self.nodes.get(n as usize), self.meta.get(n as usize))
            else {
                return Err("link out of range");
            };
            if core::mem::replace(&mut seen[n as usize], true) {
                return Err("node reachable twice");
            }
            if (meta.parent, usize::from(meta.slot), meta.shift) != (parent, slot, shift) {
                return Err("node bookkeeping wrong");
            }
            let nonzero = slots.iter().filter(|&&v| v != 0).count();
            if nonzero == 0 || nonzero != usize::from(meta.used) {
                return Err("node count wrong or node empty");
            }
            let marked = slots
                .iter()
                .enumerate()
                .all(|(i, &v)| (v != 0) == (meta.occupied[i / 64] >> (i % 64) & 1 != 0));
            if !marked {
                return Err("occupancy bitmap wrong");
            }
            if shift == 0 {
                values += nonzero;
            } else {
                stack.extend(
                    slots
                        .iter()
                        .enumerate()
                        .filter(|&(_, &v)| v != 0)
                        .map(|(i, &v)| (v as u32, n, i, shift - BITS)),
                );
            }
        }
        if seen.iter().any(|&s| !s) {
            return Err("node not reachable");
        }
        if values != self.len {
            return Err("length wrong");
        }
        Ok(())
    }
}

impl PartialEq for Radix {
    fn eq(&self, other: &Radix) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl Eq for Radix {}

impl fmt::Debug for Radix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    #[test]
    fn the_arena_gives_back_room_after_many_nodes_went() {
        let mut r = Radix::new();
        // Keys 512 apart: a leaf each.
        for k in 0..2000u64 {
            r.set(k << 9, k + 1);
        }
        let peak = r.arena_capacity();
        for k in 10..2000u64 {
            r.set(k << 9, 0);
        }
        assert_eq!(r.arena_capacity(), peak, "removal alone keeps the room");
        r.shrink_arena();
        assert!(
            r.arena_capacity() < peak / 8,
            "{} of {peak}",
            r.arena_capacity()
        );
        r.check().unwrap();
        for k in 0..10u64 {
            assert_eq!(r.get(k << 9), k + 1);
        }
        // Nothing more to give: a second call keeps it as it is.
        let cap = r.arena_capacity();
        r.shrink_arena();
        assert_eq!(r.arena_capacity(), cap);
    }

    #[test]
    fn grows_shrinks_and_frees() {
        let mut r = Radix::new();
        assert_eq!(r.get(5), 0);
        assert_eq!(r.set(5, 7), 0);
        assert_eq!(r.set(u64::MAX, 9), 0);
        assert_eq!(r.set(1 << 40, 3), 0);
        assert_eq!((r.get(5), r.get(u64::MAX), r.get(1 << 40)), (7, 9, 3));
        assert_eq!(r.len(), 3);
        r.check().unwrap();
        assert_eq!(
            r.iter().collect::<Vec<_>>(),
            [(5, 7), (1 << 40, 3), (u64::MAX, 9)]
        );
        assert_eq!(r.next(6, u64::MAX), Some((1 << 40, 3)));
        assert_eq!(r.next(6, 1 << 40), None);
        assert_eq!(r.set(u64::MAX, 0), 9);
        assert_eq!(r.set(5, 0), 7);
        assert_eq!(r.set(1 << 40, 0), 3);
        r.check().unwrap();
        assert_eq!((r.len(), r.nodes.len(), r.root), (0, 0, 0));
    }

    proptest! {
        /// Room reserved for a span is enough: filling any keys of the span
        /// (in a tree that already holds other keys) never grows the arena.
        #[test]
        fn a_span_reservation_is_enough(
            existing in proptest::collection::vec(any::<u64>(), 0..8),
            start in any::<u64>(),
            span in 1u64..5000,
            picks in proptest::collection::vec(any::<u64>(), 1..300),
        ) {
            let mut r = Radix::new();
            for k in existing {
                r.set(k, 1);
            }
            let span = span.min(u64::MAX - start);
            prop_assume!(span > 0);
            let keys: Vec<u64> = picks.iter().map(|p| start + p % span).collect();
            r.reserve_for_span(keys.len(), span).unwrap();
            let (nodes, meta) = (r.nodes.capacity(), r.meta.capacity());
            for k in keys {
                r.set(k, 2);
            }
            prop_assert_eq!((r.nodes.capacity(), r.meta.capacity()), (nodes, meta));
            r.check().unwrap();
        }
    }

    #[test]
    fn many_nodes_freed_in_any_order_stay_compact() {
        let mut r = Radix::new();
        let keys: Vec<u64> = (0..700u64).map(|i| i * 517 + (i % 3) * (1 << 30)).collect();
        for (n, &k) in keys.iter().enumerate() {
            assert_eq!(r.set(k, n as u64 + 1), 0);
        }
        r.check().unwrap();
        let peak = r.nodes.len();
        // Remove in a scrambled order, so that nodes in the middle of the arena go first.
        let mut order: Vec<usize> = (0..keys.len()).collect();
        order.sort_by_key(|&i| (i * 389) % keys.len());
        for (done, &i) in order.iter().enumerate() {
            assert_eq!(r.set(keys[i], 0), i as u64 + 1);
            if done % 8 == 0 {
                r.check().unwrap();
                assert!(r.nodes.len() <= peak);
            }
            for &j in &order[done + 1..done + 4.min(order.len() - done - 1) + 1] {
                assert_eq!(r.get(keys[j]), j as u64 + 1);
            }
        }
        r.check().unwrap();
        assert_eq!((r.len(), r.nodes.len()), (0, 0));
    }

    #[derive(Debug, Clone)]
    enum Op {
        Set(u64, u64),
        Add(u64),
        Next(u64, u64),
    }

    fn key() -> impl Strategy<Value = u64> {
        prop_oneof![
            // Few keys spread over several leaves and interior nodes, so that nodes
            // are freed (and the arena compacted) often.
            6 => (0u64..3, 0u64..4, 0u64..2).prop_map(|(a, b, c)| (a << 18) | (b << 9) | c),
            2 => 0u64..2048,
            1 => (0u64..64).prop_map(|k| k << 20),
            1 => any::<u64>(),
            1 => (0u64..4).prop_map(|k| u64::MAX - k),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (key(), prop_oneof![Just(0u64), 1u64..4]).prop_map(|(k, v)| Op::Set(k, v)),
            key().prop_map(Op::Add),
            (key(), key()).prop_map(|(a, b)| Op::Next(a, b)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]
        #[test]
        fn agrees_with_a_btreemap(ops in proptest::collection::vec(op(), 1..48)) {
            let mut r = Radix::new();
            let mut model: BTreeMap<u64, u64> = BTreeMap::new();
            for op in ops {
                match op {
                    Op::Set(k, v) => {
                        let old = if v == 0 { model.remove(&k) } else { model.insert(k, v) };
                        prop_assert_eq!(r.set(k, v), old.unwrap_or(0));
                    }
                    Op::Add(k) => {
                        let e = model.entry(k).or_insert(0);
                        *e += 1;
                        prop_assert_eq!(r.update(k, |v| v + 1), *e - 1);
                    }
                    Op::Next(a, b) => {
                        let want = if a < b {
                            model.range(a..b).next().map(|(&k, &v)| (k, v))
                        } else {
                            None
                        };
                        prop_assert_eq!(r.next(a, b), want);
                    }
                }
                prop_assert!(r.check().is_ok(), "{:?}", r.check());
                prop_assert_eq!(r.len(), model.len());
                for (&k, &v) in &model {
                    prop_assert_eq!(r.get(k), v);
                }
            }
            prop_assert!(r.iter().eq(model.iter().map(|(&k, &v)| (k, v))));
        }

        #[test]
        fn fill_then_empty_in_any_order(
            keys in proptest::collection::btree_set(
                (0u64..4, 0u64..8, 0u64..3).prop_map(|(a, b, c)| (a << 18) | (b << 9) | c),
                1..40,
            ),
            order in any::<u64>(),
        ) {
            let keys: Vec<u64> = keys.into_iter().collect();
            // Insert in a scrambled order (growth puts parents after children), then
            // remove in another.
            let mut insert = keys.clone();
            insert.sort_by_key(|&k| k.wrapping_mul(order | 1).rotate_left(17));
            let mut r = Radix::new();
            for &k in &insert {
                prop_assert_eq!(r.set(k, k + 1), 0);
            }
            prop_assert!(r.check().is_ok(), "{:?}", r.check());
            let mut remove = keys.clone();
            remove.sort_by_key(|&k| k.wrapping_mul(order.rotate_left(32) | 1).rotate_left(29));
            for (done, &k) in remove.iter().enumerate() {
                prop_assert_eq!(r.set(k, 0), k + 1);
                prop_assert!(r.check().is_ok(), "{:?}", r.check());
                for &j in &remove[done + 1..] {
                    prop_assert_eq!(r.get(j), j + 1);
                }
            }
            prop_assert_eq!((r.len(), r.nodes.len()), (0, 0));
        }
    }
}
