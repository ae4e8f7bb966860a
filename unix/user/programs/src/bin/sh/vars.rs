//! Shell variables: `NAME=value` sets one, `$NAME` / `${NAME}` expands it
//! (empty when unset), `export NAME[=value]` passes it to the programs the
//! shell runs (with what the shell's own environment held, `PATH` and `HOME`
//! at least), `unset NAME` removes it.

use alloc::vec::Vec;

/// See the module documentation.
pub(crate) struct Vars {
    /// (name, value, exported)
    list: Vec<(Vec<u8>, Vec<u8>, bool)>,
}

/// The length of the variable name `bytes` starts with (0: none): a letter or
/// `_`, then letters, digits, `_`.
pub(crate) fn name_len(bytes: &[u8]) -> usize {
    match bytes.first() {
        Some(b) if b.is_ascii_alphabetic() || *b == b'_' => bytes
            .iter()
            .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
            .unwrap_or(bytes.len()),
        _ => 0,
    }
}

impl Vars {
    /// The shell's environment, exported, with `PATH=/bin` and `HOME=/tmp`
    /// when it lacks them.
    pub(crate) fn from_environment() -> Vars {
        let mut v = Vars { list: Vec::new() };
        v.set(b"PATH", b"/bin", true);
        v.set(b"HOME", b"/tmp", true);
        for entry in ulibc::env() {
            if let Some((name, value)) = assignment(entry.to_bytes()) {
                v.set(name, value, true);
            }
        }
        v
    }

    /// The value of `name`.
    pub(crate) fn get(&self, name: &[u8]) -> Option<&[u8]> {
        self.list
            .iter()
            .find(|(n, ..)| n == name)
            .map(|(_, v, _)| v.as_slice())
    }

    /// Set `name` (exported if it was, or if `export`).
    pub(crate) fn set(&mut self, name: &[u8], value: &[u8], export: bool) {
        match self.list.iter_mut().find(|(n, ..)| n == name) {
            Some(slot) => {
                slot.1 = value.to_vec();
                slot.2 |= export;
            }
            None => self.list.push((name.to_vec(), value.to_vec(), export)),
        }
    }

    /// Mark `name` exported (set to empty when unset).
    pub(crate) fn export(&mut self, name: &[u8]) {
        match self.list.iter_mut().find(|(n, ..)| n == name) {
            Some(slot) => slot.2 = true,
            None => self.list.push((name.to_vec(), Vec::new(), true)),
        }
    }

    /// Remove `name`.
    pub(crate) fn unset(&mut self, name: &[u8]) {
        self.list.retain(|(n, ..)| n != name);
    }

    /// The environment for a program: `NAME=value` of every exported one.
    pub(crate) fn environment(&self) -> Vec<Vec<u8>> {
        self.list
            .iter()
            .filter(|(.., e)| *e)
            .map(|(n, v, _)| {
                let mut s = n.clone();
                s.push(b'=');
                s.extend_from_slice(v);
                s
            })
            .collect()
    }
}

/// `NAME=value` (a valid name before the `=`): the two parts.
pub(crate) fn assignment(word: &[u8]) -> Option<(&[u8], &[u8])> {
    let n = name_len(word);
    (n > 0 && word.get(n) == Some(&b'=')).then(|| (&word[..n], &word[n + 1..]))
}
