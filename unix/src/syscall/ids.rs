//! Identity syscalls: thread and process ids, the one user (root: every uid and gid
//! is 0), process groups, `umask`, `personality`, and `ssyslog`.
//!
//! There is one user, so the `set*id` calls accept 0 (and −1, "unchanged", where the
//! call has that convention) and refuse any other id with `EINVAL`, the error for an
//! id that does not exist.

use super::SyscallContext;
use crate::abi::ROOT_ID;
use crate::errno::Errno;
use crate::user::{copy_from_user, read_user_cstring, UserPtr};
use alloc::string::String;

/// "Leave unchanged" in `setre*id`/`setres*id`.
const UNCHANGED: u32 = u32::MAX;

/// `setuid(id)`, `setgid(id)` and their 32-bit twins: only root exists.
pub fn set_id(id: u32) -> Result<u32, Errno> {
    if id == ROOT_ID {
        Ok(0)
    } else {
        Err(Errno::EINVAL)
    }
}

/// `setreuid`, `setresuid`, `setregid`, `setresgid` (and 32-bit twins): each id is
/// root or "unchanged".
pub fn set_ids(ids: &[u32]) -> Result<u32, Errno> {
    if ids.iter().all(|&id| id == ROOT_ID || id == UNCHANGED) {
        Ok(0)
    } else {
        Err(Errno::EINVAL)
    }
}

/// `setgroups(n, list)`: the supplementary groups may only be none or root's.
pub fn setgroups<C: SyscallContext + ?Sized>(
    ctx: &mut C,
    n: u32,
    list: UserPtr,
) -> Result<u32, Errno> {
    const NGROUPS_MAX: u32 = 16;
    if n > NGROUPS_MAX {
        return Err(Errno::EINVAL);
    }
    let mut buf = [0u8; 4 * NGROUPS_MAX as usize];
    let buf = &mut buf[..4 * n as usize];
    copy_from_user(&mut ctx.parts().mem, list, buf)?;
    if buf.iter().all(|&b| b == 0) {
        Ok(0)
    } else {
        Err(Errno::EINVAL)
    }
}

/// The caller's process group (its own pid unless set).
fn own_pgid<C: SyscallContext + ?Sized>(ctx: &mut C) -> u32 {
    let pid = ctx.pid();
    ctx.parts().process.pgid.unwrap_or(pid)
}

/// `getpgid(pid)`: 0 or the caller's pid → the caller's group; another live
/// process → its group; else `ESRCH`.
pub fn getpgid<C: SyscallContext + ?Sized>(ctx: &mut C, pid: u32) -> Result<u32, Errno> {
    if pid == 0 || pid == ctx.pid() {
        return Ok(own_pgid(ctx));
    }
    ctx.process_info(pid).map(|p| p.pgid).ok_or(Errno::ESRCH)
}

/// `getpgrp()`.
pub fn getpgrp<C: SyscallContext + ?Sized>(ctx: &mut C) -> Result<u32, Errno> {
    Ok(own_pgid(ctx))
}

/// `setpgid(pid, pgid)`: the caller (pid 0 or its own) may lead its own group
/// (pgid 0 or its pid) or join a group that exists (a process's group: how a
/// shell puts a pipeline's stages in one job); a group nobody is in is
/// `EPERM`, another process `ESRCH`, a negative pgid `EINVAL`.
pub fn setpgid<C: SyscallContext + ?Sized>(ctx: &mut C, pid: u32, pgid: u32) -> Result<u32, Errno> {
    let me = ctx.pid();
    if (pgid as i32) < 0 {
        return Err(Errno::EINVAL);
    }
    if pid != 0 && pid != me {
        return Err(Errno::ESRCH);
    }
    let target = if pgid == 0 { me } else { pgid };
    if target != me && !ctx.process_list().iter().any(|p| p.pgid == target) {
        return Err(Errno::EPERM);
    }
    ctx.parts().process.pgid = Some(target);
    Ok(0)
}

/// `umask(mask)`: set the file-creation mask to `mask & 0777`, return the old one.
pub fn umask<C: SyscallContext + ?Sized>(ctx: &mut C, mask: u32) -> Result<u32, Errno> {
    let process = ctx.parts().process;
    let old = process.umask;
    process.umask = mask & 0o777;
    Ok(old)
}

/// `personality(persona)`: `0xFFFFFFFF` queries; 0 (the native ABI, the only one a
/// native program can have) may be set; anything else is `EINVAL`. Returns the
/// previous persona.
pub fn personality<C: SyscallContext + ?Sized>(ctx: &mut C, persona: u32) -> Result<u32, Errno> {
    let process = ctx.parts().process;
    let old = process.personality;
    match persona {
        u32::MAX => Ok(old),
        0 => {
            process.personality = 0;
            Ok(old)
        }
        _ => Err(Errno::EINVAL),
    }
}

/// Longest `ssyslog` message, in bytes.
pub const SYSLOG_MAX: usize = 1024;

/// `ssyslog(level, msg)` (Phantom's): log the NUL-terminated `msg` through the
/// kernel's log at syslog priority `level & 7` (0–3 error, 4 warning, 5–6 info,
/// 7 debug), tagged with the pid. Control characters are shown as `?`, so a
/// message cannot begin a line of its own (nor forge a machine line). Longer than
/// [`SYSLOG_MAX`] is `EINVAL`.
pub fn ssyslog<C: SyscallContext + ?Sized>(
    ctx: &mut C,
    level: u32,
    msg: UserPtr,
) -> Result<u32, Errno> {
    let pid = ctx.pid();
    let bytes = read_user_cstring(&mut ctx.parts().mem, msg, SYSLOG_MAX).map_err(|e| {
        if e == Errno::ENAMETOOLONG {
            Errno::EINVAL
        } else {
            e
        }
    })?;
    let mut text = String::new();
    text.try_reserve(bytes.len()).map_err(|_| Errno::ENOMEM)?;
    for ch in String::from_utf8_lossy(&bytes).chars() {
        text.push(if ch.is_control() { '?' } else { ch });
    }
    let level = match level & 7 {
        0..=3 => log::Level::Error,
        4 => log::Level::Warn,
        5 | 6 => log::Level::Info,
        _ => log::Level::Debug,
    };
    log::log!(target: "syslog", level, "pid {pid}: {text}");
    Ok(0)
}
