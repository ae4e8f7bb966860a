//! The Unix personality: processes, fd tables, VFS, ELF loading and syscalls.
//!
//! Filled in by the "Unix processes from boot modules" issue; today it only
//! fixes the crate's place in the workspace and its rule: no `unsafe` here.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
