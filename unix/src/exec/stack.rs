//! The initial user stack of a new process, and the boot-module command line that
//! becomes its argv.
//!
//! Layout (as Phantom builds it; `docs/abi.md`), from the top down: the envp strings,
//! the envp array (NULL-terminated), the argv strings, padding, the argv array
//! (NULL-terminated), then the start frame
//!
//! ```text
//! [esp+16] = 0
//! [esp+12] = envp      (address of the envp array)
//! [esp+8]  = argv      (address of the argv array, = esp + 20)
//! [esp+4]  = argc
//! [esp]    = 0xFFFFFFFF (fake return address)
//! ```
//!
//! `esp ≡ 12 (mod 16)`: `_start(argc, argv, envp)` sees the stack exactly as a cdecl
//! function called from 16-byte-aligned code does (`esp + 4` is 16-byte aligned), which
//! the i686 SSE code of user programs assumes.

use crate::errno::Errno;
use alloc::string::String;
use alloc::vec::Vec;

/// Most bytes the strings, arrays and start frame may take (128 KiB).
pub const MAX_ARG_BYTES: usize = 128 * 1024;

/// The fake return address at `[esp]`.
pub const FAKE_RETURN: u32 = 0xFFFF_FFFF;

/// The bytes of an initial stack: they occupy `[esp, top)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitialStack {
    /// The initial `esp`.
    pub esp: u32,
    /// The stack's contents from `esp` up to the top.
    pub bytes: Vec<u8>,
    /// Address of the argv array.
    pub argv: u32,
    /// Address of the envp array.
    pub envp: u32,
}

/// Build the initial stack for `argv` and `envp` below `top` (exclusive, e.g.
/// `0xC000_0000`). More than [`MAX_ARG_BYTES`] in all, or a stack that would not fit
/// below `top`, is `E2BIG`.
pub fn build_initial_stack(
    argv: &[&[u8]],
    envp: &[&[u8]],
    top: u32,
) -> Result<InitialStack, Errno> {
    let strings = |v: &[&[u8]]| -> Option<usize> {
        v.iter()
            .try_fold(0usize, |acc, s| acc.checked_add(s.len())?.checked_add(1))
    };
    let env_str = strings(envp).ok_or(Errno::E2BIG)?;
    let arg_str = strings(argv).ok_or(Errno::E2BIG)?;
    let arrays = argv
        .len()
        .checked_add(envp.len())
        .and_then(|n| n.checked_add(2))
        .and_then(|n| n.checked_mul(4))
        .ok_or(Errno::E2BIG)?;
    // Strings + arrays + frame + worst-case padding (3 + 3 + 15).
    let bound = env_str
        .checked_add(arg_str)
        .and_then(|n| n.checked_add(arrays))
        .and_then(|n| n.checked_add(20 + 21))
        .ok_or(Errno::E2BIG)?;
    if bound > MAX_ARG_BYTES || bound as u64 > u64::from(top) {
        return Err(Errno::E2BIG);
    }
    let top = u64::from(top);
    let env_str_start = top - env_str as u64;
    let envp_arr = (env_str_start - 4 * (envp.len() as u64 + 1)) & !3;
    let arg_str_start = envp_arr - arg_str as u64;
    let esp_max = (arg_str_start & !3) - 4 * (argv.len() as u64 + 1) - 20;
    let esp = ((esp_max - 12) & !15) + 12;
    let argv_arr = esp + 20;

    let mut bytes = alloc::vec![0u8; (top - esp) as usize];
    let mut put = |addr: u64, data: &[u8]| {
        let at = (addr - esp) as usize;
        bytes[at..at + data.len()].copy_from_slice(data);
    };
    // Strings, and the arrays pointing at them.
    let mut place = |strings: &[&[u8]], str_start: u64, arr: u64| {
        let mut s = str_start;
        for (i, text) in strings.iter().enumerate() {
            put(s, text);
            put(s + text.len() as u64, &[0]);
            put(arr + 4 * i as u64, &(s as u32).to_le_bytes());
            s += text.len() as u64 + 1;
        }
        put(arr + 4 * strings.len() as u64, &0u32.to_le_bytes());
    };
    place(envp, env_str_start, envp_arr);
    place(argv, arg_str_start, argv_arr);
    // The start frame.
    let mut put = |addr: u64, v: u32| {
        let at = (addr - esp) as usize;
        bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
    };
    put(esp, FAKE_RETURN);
    put(esp + 4, argv.len() as u32);
    put(esp + 8, argv_arr as u32);
    put(esp + 12, envp_arr as u32);
    put(esp + 16, 0);
    Ok(InitialStack {
        esp: esp as u32,
        bytes,
        argv: argv_arr as u32,
        envp: envp_arr as u32,
    })
}

/// A boot module's command line, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootCommand {
    /// The first word as given (e.g. `/work/target/.../hello`).
    pub path: String,
    /// Its file name without directories (e.g. `hello`): `argv[0]` and the module's
    /// name in `/boot`.
    pub name: String,
    /// The arguments: `name` followed by the other words.
    pub argv: Vec<String>,
}

impl BootCommand {
    /// Split `cmdline` on spaces (runs of spaces count as one); `argv[0]` is the first
    /// word's file name without directories. `None` if there is no word or the file
    /// name is empty, `.`, `..` or longer than 255 bytes.
    pub fn parse(cmdline: &str) -> Option<BootCommand> {
        let mut words = cmdline.split(' ').filter(|w| !w.is_empty());
        let path = words.next()?;
        let name = path.rsplit('/').next().unwrap_or(path);
        if name.is_empty() || name == "." || name == ".." || name.len() > crate::abi::NAME_MAX {
            return None;
        }
        let mut argv = Vec::new();
        argv.push(String::from(name));
        argv.extend(words.map(String::from));
        Some(BootCommand {
            path: String::from(path),
            name: String::from(name),
            argv,
        })
    }

    /// `argv` as byte strings, for [`build_initial_stack`].
    pub fn argv_bytes(&self) -> Vec<&[u8]> {
        self.argv.iter().map(|s| s.as_bytes()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u32_at(st: &InitialStack, addr: u32) -> u32 {
        let at = (addr - st.esp) as usize;
        u32::from_le_bytes(st.bytes[at..at + 4].try_into().unwrap())
    }

    fn cstr_at(st: &InitialStack, addr: u32) -> &[u8] {
        let at = (addr - st.esp) as usize;
        let end = st.bytes[at..].iter().position(|&b| b == 0).unwrap();
        &st.bytes[at..at + end]
    }

    #[test]
    fn layout_as_the_abi_says() {
        let top = 0xC000_0000;
        let st = build_initial_stack(&[b"echo", b"a", b"bc"], &[b"X=1"], top).unwrap();
        assert_eq!(st.esp % 16, 12);
        assert_eq!(st.esp as usize + st.bytes.len(), top as usize);
        assert_eq!(u32_at(&st, st.esp), 0xFFFF_FFFF);
        assert_eq!(u32_at(&st, st.esp + 4), 3);
        let argv = u32_at(&st, st.esp + 8);
        let envp = u32_at(&st, st.esp + 12);
        assert_eq!(u32_at(&st, st.esp + 16), 0);
        assert_eq!((argv, envp), (st.argv, st.envp));
        assert_eq!(argv, st.esp + 20);
        assert_eq!(argv % 4, 0);
        assert_eq!(envp % 4, 0);
        let args: Vec<&[u8]> = (0..3)
            .map(|i| cstr_at(&st, u32_at(&st, argv + 4 * i)))
            .collect();
        assert_eq!(args, [&b"echo"[..], b"a", b"bc"]);
        assert_eq!(u32_at(&st, argv + 12), 0);
        assert_eq!(cstr_at(&st, u32_at(&st, envp)), b"X=1");
        assert_eq!(u32_at(&st, envp + 4), 0);
        // Phantom's order, top down: envp strings, envp array, argv strings, argv array.
        assert!(u32_at(&st, envp) > envp);
        assert!(envp > u32_at(&st, argv + 8));
        assert!(u32_at(&st, argv) > argv + 12);
        // Every string lies inside the stack.
        assert_eq!(st.bytes.last(), Some(&0));
    }

    #[test]
    fn empty_argv_and_envp() {
        let st = build_initial_stack(&[], &[], 0xC000_0000).unwrap();
        assert_eq!(st.esp % 16, 12);
        assert_eq!(u32_at(&st, st.esp + 4), 0);
        assert_eq!(u32_at(&st, st.argv), 0);
        assert_eq!(u32_at(&st, st.envp), 0);
    }

    #[test]
    fn too_big_is_e2big() {
        let big = alloc::vec![b'x'; MAX_ARG_BYTES];
        assert_eq!(
            build_initial_stack(&[&big], &[], 0xC000_0000),
            Err(Errno::E2BIG)
        );
        assert_eq!(build_initial_stack(&[b"a"], &[], 16), Err(Errno::E2BIG));
        let many: Vec<&[u8]> = (0..40_000).map(|_| &b""[..]).collect();
        assert_eq!(
            build_initial_stack(&many, &[], 0xC000_0000),
            Err(Errno::E2BIG)
        );
    }

    #[test]
    fn cmdline_split() {
        let c = BootCommand::parse("/work/target/release/echo  a b   c ").unwrap();
        assert_eq!(c.name, "echo");
        assert_eq!(c.path, "/work/target/release/echo");
        assert_eq!(c.argv, ["echo", "a", "b", "c"]);
        assert_eq!(BootCommand::parse("hello").unwrap().argv, ["hello"]);
        assert_eq!(BootCommand::parse("   "), None);
        assert_eq!(BootCommand::parse(""), None);
        assert_eq!(BootCommand::parse("/boot/ x"), None);
        assert_eq!(BootCommand::parse("/a/.. x"), None);
        assert_eq!(c.argv_bytes(), [&b"echo"[..], b"a", b"b", b"c"]);
    }
}
