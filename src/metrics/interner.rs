//! Interns strings (deal ids, rep ids) to dense indexes, for millions of distinct ids.
//!
//! The strings live in one arena; the table is one flat array of 8-byte slots, each the upper
//! half of the string's hash (its tag) and its index. A slot's position comes from the tag
//! alone (multiply-shift onto the table's length, any length), so growing rehashes without
//! touching the strings, and a caller that knows the hashes of the ids to come can prefetch
//! their slots: with millions of deals a lookup is a cache miss, and misses overlap.

pub fn hash_bytes(b: &[u8]) -> u64 {
    use std::hash::Hasher;
    let mut h = rustc_hash::FxHasher::default();
    h.write(b);
    // Fx mixes poorly into the high bits for short inputs; one multiply-xorshift round fixes it.
    let x = h.finish();
    let x = (x ^ (x >> 32)).wrapping_mul(0xd6e8_feb8_6659_fd93);
    x ^ (x >> 32)
}

/// Slots per string: the table is grown once it is more than this full (7 in 10).
const LOAD_NUM: usize = 7;
const LOAD_DEN: usize = 10;

pub struct Interner {
    /// `tag << 32 | (index + 1)`, 0 for an empty slot.
    slots: Vec<u64>,
    bytes: Vec<u8>,
    /// `starts[i]..starts[i + 1]` is string `i` in `bytes`.
    starts: Vec<u32>,
    /// Strings longer than u32 offsets allow fall back to these (never in practice).
    wide: Option<Vec<usize>>,
    last: u32,
    last_hash: u64,
}

impl std::fmt::Debug for Interner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Interner({} strings)", self.len())
    }
}

impl Default for Interner {
    fn default() -> Interner {
        Interner::with_capacity(0)
    }
}

fn tag_of(h: u64) -> u32 {
    (h >> 32) as u32
}

impl Interner {
    pub fn with_capacity(n: usize) -> Interner {
        let mut starts = Vec::with_capacity(n + 1);
        starts.push(0);
        Interner {
            slots: vec![0; slots_for(n)],
            bytes: Vec::with_capacity(n * 10),
            starts,
            wide: None,
            last: u32::MAX,
            last_hash: 0,
        }
    }

    fn home(&self, tag: u32) -> usize {
        ((tag as u64 * self.slots.len() as u64) >> 32) as usize
    }

    /// Hints that `h`'s slot will be looked up soon.
    #[inline]
    pub fn prefetch(&self, h: u64) {
        let at = self.home(tag_of(h));
        prefetch(self.slots.as_ptr().wrapping_add(at));
    }

    fn bytes_of(&self, i: u32) -> &[u8] {
        let i = i as usize;
        match &self.wide {
            Some(ends) => {
                let start = if i == 0 { 0 } else { ends[i - 1] };
                &self.bytes[start..ends[i]]
            }
            None => &self.bytes[self.starts[i] as usize..self.starts[i + 1] as usize],
        }
    }

    pub fn str(&self, i: u32) -> &str {
        // The arena only ever receives whole `&str`s, so every slice is valid UTF-8.
        std::str::from_utf8(self.bytes_of(i)).expect("arena holds UTF-8")
    }

    /// The slot holding `s`, or the empty slot where it would go.
    fn probe(&self, h: u64, s: &[u8]) -> (usize, Option<u32>) {
        let tag = tag_of(h);
        let n = self.slots.len();
        let mut at = self.home(tag);
        loop {
            let slot = self.slots[at];
            if slot == 0 {
                return (at, None);
            }
            if (slot >> 32) as u32 == tag {
                let i = (slot as u32) - 1;
                if self.bytes_of(i) == s {
                    return (at, Some(i));
                }
            }
            at += 1;
            if at == n {
                at = 0;
            }
        }
    }

    /// The index of the most recently interned or found string, if it is `s`: exports list a
    /// deal's events together, so this check saves most table lookups.
    fn last_is(&self, h: u64, s: &str) -> bool {
        self.last != u32::MAX && self.last_hash == h && self.bytes_of(self.last) == s.as_bytes()
    }

    pub fn intern(&mut self, s: &str) -> u32 {
        self.intern_hashed(hash_bytes(s.as_bytes()), s)
    }

    /// Interns with a hash computed by `hash_bytes` elsewhere (on another thread).
    pub fn intern_hashed(&mut self, h: u64, s: &str) -> u32 {
        if self.last_is(h, s) {
            return self.last;
        }
        let i = match self.probe(h, s.as_bytes()) {
            (_, Some(i)) => i,
            (at, None) => self.insert(at, h, s),
        };
        self.last = i;
        self.last_hash = h;
        i
    }

    fn insert(&mut self, at: usize, h: u64, s: &str) -> u32 {
        let i = self.len() as u32;
        self.bytes.extend_from_slice(s.as_bytes());
        match &mut self.wide {
            Some(ends) => ends.push(self.bytes.len()),
            None => match u32::try_from(self.bytes.len()) {
                Ok(end) => self.starts.push(end),
                Err(_) => {
                    let mut ends: Vec<usize> =
                        self.starts[1..].iter().map(|&e| e as usize).collect();
                    ends.push(self.bytes.len());
                    self.wide = Some(ends);
                }
            },
        }
        self.slots[at] = (tag_of(h) as u64) << 32 | (i as u64 + 1);
        if (self.len() + 1) * LOAD_DEN > self.slots.len() * LOAD_NUM {
            self.grow();
        }
        i
    }

    fn grow(&mut self) {
        let fresh = vec![0; slots_for(self.len() * 2)];
        let old = std::mem::replace(&mut self.slots, fresh);
        let n = self.slots.len();
        for slot in old.into_iter().filter(|&s| s != 0) {
            let mut at = self.home((slot >> 32) as u32);
            while self.slots[at] != 0 {
                at = if at + 1 == n { 0 } else { at + 1 };
            }
            self.slots[at] = slot;
        }
    }

    pub fn get(&self, s: &str) -> Option<u32> {
        self.probe(hash_bytes(s.as_bytes()), s.as_bytes()).1
    }

    pub fn len(&self) -> usize {
        match &self.wide {
            Some(ends) => ends.len(),
            None => self.starts.len() - 1,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn to_vec(&self) -> Vec<Box<str>> {
        (0..self.len() as u32).map(|i| self.str(i).into()).collect()
    }
}

/// Enough slots for `n` strings below the load limit, and never none.
fn slots_for(n: usize) -> usize {
    (n * LOAD_DEN / LOAD_NUM + 1).max(16)
}

#[inline]
fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint; it never faults, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch(p as *const i8, std::arch::x86_64::_MM_HINT_T0);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_get_dense_indexes_that_survive_growth() {
        let mut t = Interner::default();
        let ids: Vec<String> = (0..10_000).map(|i| format!("D{i:07}")).collect();
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(t.intern(id), i as u32);
        }
        for (i, id) in ids.iter().enumerate().rev() {
            assert_eq!(t.intern(id), i as u32);
            assert_eq!(t.get(id), Some(i as u32));
            assert_eq!(t.str(i as u32), id);
        }
        assert_eq!(t.len(), 10_000);
        assert_eq!(t.get("nope"), None);
        assert_eq!(t.intern(""), 10_000);
        assert_eq!(t.str(10_000), "");
    }

    #[test]
    fn colliding_tags_are_told_apart_by_their_bytes() {
        let mut t = Interner::with_capacity(4);
        // The same hash for two strings: the bytes decide.
        let a = t.intern_hashed(42, "a");
        let b = t.intern_hashed(42, "b");
        assert_ne!(a, b);
        assert_eq!(t.intern_hashed(42, "a"), a);
        assert_eq!(t.intern_hashed(42, "b"), b);
    }
}
