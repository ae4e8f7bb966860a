//! The kernel side of the syscall gate: reads the number and the cdecl
//! arguments from the trap frame and the user stack, runs the call, and
//! writes the result to `eax` and the errno to `edx` (docs/abi.md).

use super::trap::TrapFrame;
use super::{process, serial, vmm};

const EFAULT: u32 = 14;
const EBADF: u32 = 9;
const ENOSYS: u32 = 38;

/// Reads the 32-bit argument `index` from the user stack (`[esp+4+4*index]`).
fn user_arg(frame: &TrapFrame, index: u64) -> Result<u32, u32> {
    let mut word = [0u8; 4];
    let at = (frame.rsp & 0xffff_ffff) + 4 + 4 * index;
    match vmm::with_current(|space, ps, m| space.read_user(ps, m, at, &mut word)) {
        Some(Ok(())) => Ok(u32::from_le_bytes(word)),
        _ => Err(EFAULT),
    }
}

fn user_bytes(address: u32, len: u32) -> Result<alloc::vec::Vec<u8>, u32> {
    let mut buf = alloc::vec![0u8; len.min(4096) as usize];
    match vmm::with_current(|space, ps, m| space.read_user(ps, m, u64::from(address), &mut buf)) {
        Some(Ok(())) => Ok(buf),
        _ => Err(EFAULT),
    }
}

fn dispatch(frame: &TrapFrame) -> Result<u32, u32> {
    match frame.rax as u32 {
        0 => process::exit_current(user_arg(frame, 0)? & 0xff),
        33 => Ok(process::current().map_or(0, |(pid, _)| pid)),
        67 => {
            let (fd, buf, count) = (
                user_arg(frame, 0)?,
                user_arg(frame, 1)?,
                user_arg(frame, 2)?,
            );
            if fd != 1 && fd != 2 {
                return Err(EBADF);
            }
            let bytes = user_bytes(buf, count)?;
            serial::write_bytes(&bytes);
            Ok(bytes.len() as u32)
        }
        _ => Err(ENOSYS),
    }
}

/// Handles one syscall; the result goes back in `eax`/`edx`.
pub fn handle(frame: &mut TrapFrame) {
    let (eax, edx) = match dispatch(frame) {
        Ok(value) => (value, 0),
        Err(errno) => (u32::MAX, errno),
    };
    frame.rax = u64::from(eax);
    frame.rdx = u64::from(edx);
}
