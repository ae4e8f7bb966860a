//! System-wide Unix state that is not a file: the host name (`gethostname`,
//! `sethostname`, `uname`'s node name). Plain data, so it persists with the rest.

use crate::abi::{SystemNames, DEFAULT_HOSTNAME, HOST_NAME_MAX};
use crate::errno::Errno;
use alloc::vec::Vec;

/// See the module documentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemState {
    hostname: Vec<u8>,
    /// What `uname` reports besides the host name.
    pub names: SystemNames,
}

impl Default for SystemState {
    fn default() -> Self {
        SystemState {
            hostname: DEFAULT_HOSTNAME.to_vec(),
            names: SystemNames::default(),
        }
    }
}

impl SystemState {
    /// The host name.
    pub fn hostname(&self) -> &[u8] {
        &self.hostname
    }

    /// Set the host name: at most [`HOST_NAME_MAX`] bytes (`ENAMETOOLONG` beyond),
    /// no NUL inside (`EINVAL`). Empty is allowed, as on Linux and BSD.
    pub fn set_hostname(&mut self, name: &[u8]) -> Result<(), Errno> {
        if name.len() > HOST_NAME_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        if name.contains(&0) {
            return Err(Errno::EINVAL);
        }
        self.hostname.clear();
        self.hostname
            .try_reserve(name.len())
            .map_err(|_| Errno::ENOMEM)?;
        self.hostname.extend_from_slice(name);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostname_is_bounded_and_has_no_nul() {
        let mut s = SystemState::default();
        assert_eq!(s.hostname(), b"phantom");
        s.set_hostname(b"box").unwrap();
        assert_eq!(s.hostname(), b"box");
        assert_eq!(s.set_hostname(&[b'a'; 256]), Err(Errno::ENAMETOOLONG));
        assert_eq!(s.set_hostname(b"a\0b"), Err(Errno::EINVAL));
        assert_eq!(s.hostname(), b"box");
        s.set_hostname(&[b'a'; 255]).unwrap();
        s.set_hostname(b"").unwrap();
        assert_eq!(s.hostname(), b"");
    }
}
