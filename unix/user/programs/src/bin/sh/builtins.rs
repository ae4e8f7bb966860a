//! The builtins: the table the shell looks commands up in, and each command.

use super::*;

pub(crate) type Builtin = fn(&mut Shell, &[&[u8]]) -> i32;

/// The builtins: name, usage, what it does, the function.
pub(crate) const BUILTINS: &[(&str, &str, &str, Builtin)] = &[
    ("help", "help", "this list", help),
    (
        "wait",
        "wait [PID]",
        "wait for the background jobs (or the one ending in PID)",
        wait,
    ),
    ("jobs", "jobs", "list the background jobs", jobs),
    (
        "export",
        "export NAME[=VALUE]…",
        "pass variables to the programs the shell runs",
        export,
    ),
    ("unset", "unset NAME…", "remove variables", unset),
    ("echo", "echo [-n] [ARG…]", "print the arguments", echo),
    (
        "cat",
        "cat [FILE…]",
        "print files (stdin without FILE or for -)",
        cat,
    ),
    (
        "ls",
        "ls [-l] [-a] [PATH…]",
        "list directories (/ after directories; -l: mode, size)",
        ls,
    ),
    ("stat", "stat PATH…", "a file's status", stat),
    (
        "cd",
        "cd [DIR]",
        "change the current directory ($HOME, /tmp, without DIR)",
        cd,
    ),
    ("pwd", "pwd", "print the current directory", pwd),
    (
        "write",
        "write FILE [TEXT…]",
        "create or overwrite FILE with TEXT and a newline (/tmp is writable)",
        write,
    ),
    (
        "uname",
        "uname [-a|-snrvm]",
        "the system's name (-a: everything)",
        uname,
    ),
    ("pid", "pid", "the shell's process id and its parent's", pid),
    (
        "maps",
        "maps",
        "the shell's address space (/proc/self/maps)",
        maps,
    ),
    (
        "mem",
        "mem",
        "the program break (brk(0)), the program's end, the stack and data limits",
        mem,
    ),
    ("date", "date", "the time of CLOCK_REALTIME (UTC)", date),
    (
        "time",
        "time [COMMAND…]",
        "time a command (without one: the uptime)",
        time,
    ),
    ("true", "true", "status 0", |_, _| 0),
    ("false", "false", "status 1", |_, _| 1),
    (
        "exit",
        "exit [N]",
        "leave the shell with status N (default: the last status)",
        exit,
    ),
];

pub(crate) fn help(_: &mut Shell, _: &[&[u8]]) -> i32 {
    let mut w = FdWriter::<2048>::new(STDOUT);
    let _ = writeln!(
        w,
        "phantom-unix sh: these builtins, and the programs of /bin by name (ls /bin)"
    );
    for b in BUILTINS {
        let _ = writeln!(w, "  {:<22} {}", b.1, b.2);
    }
    let _ = writeln!(
        w,
        "quotes '…' \"…\", \\x, $? (last status), $$ (pid), ; between commands, # comments"
    );
    w.finish().map_or(1, |()| 0)
}

pub(crate) fn echo(_: &mut Shell, argv: &[&[u8]]) -> i32 {
    let (newline, words) = match argv.get(1) {
        Some(&b"-n") => (false, &argv[2..]),
        _ => (true, &argv[1..]),
    };
    let mut w = FdWriter::<1024>::new(STDOUT);
    for (i, a) in words.iter().enumerate() {
        if i > 0 {
            w.write_bytes(b" ");
        }
        w.write_bytes(a);
    }
    if newline {
        w.write_bytes(b"\n");
    }
    w.finish().map_or(1, |()| 0)
}

pub(crate) fn cat(sh: &mut Shell, argv: &[&[u8]]) -> i32 {
    let mut buf = [0u8; 4096];
    let stdin: &[&[u8]] = &[b"-"];
    let files = if argv.len() > 1 { &argv[1..] } else { stdin };
    let mut status = 0;
    for &f in files {
        let r = if f == b"-" {
            ulibc::fs::copy(STDIN, STDOUT, &mut buf)
        } else {
            match sh.resolve(f).and_then(|p| p.with_c(File::open_read)) {
                Ok(file) => ulibc::fs::copy(file.fd(), STDOUT, &mut buf),
                Err(e) => Err(ulibc::fs::CopyError::Read(e)),
            }
        };
        match r {
            Ok(_) => {}
            Err(ulibc::fs::CopyError::Read(e)) => {
                eprintln!("cat: {}: {e}", Bytes(f));
                status = 1;
            }
            Err(ulibc::fs::CopyError::Write(e)) => {
                eprintln!("cat: write error: {e}");
                return 1;
            }
        }
    }
    status
}

/// `-rw-r--r--` for a mode.
pub(crate) fn mode_string(mode: u16) -> [u8; 10] {
    let mut m = *b"----------";
    m[0] = match u32::from(mode) & S_IFMT {
        S_IFDIR => b'd',
        S_IFCHR => b'c',
        S_IFREG => b'-',
        _ => b'?',
    };
    for (i, c) in b"rwxrwxrwx".iter().enumerate() {
        if mode & (0o400 >> i) != 0 {
            m[1 + i] = *c;
        }
    }
    m
}

pub(crate) fn kind_name(st: &Stat) -> &'static str {
    match st.file_type() {
        S_IFREG if st.st_size == 0 => "regular empty file",
        S_IFREG => "regular file",
        S_IFDIR => "directory",
        S_IFCHR => "character special file",
        _ => "unknown",
    }
}

/// One `ls` line: `name` (with `/` for a directory), or with `long` the
/// mode, links, owner, size first.
pub(crate) fn ls_line(
    w: &mut FdWriter<2048>,
    name: &[u8],
    st: Result<Stat, Errno>,
    dir: bool,
    long: bool,
) {
    let slash = if dir { "/" } else { "" };
    if !long {
        let _ = writeln!(w, "{}{slash}", Bytes(name));
        return;
    }
    match st {
        Ok(st) => {
            let m = mode_string(st.st_mode);
            let _ = writeln!(
                w,
                "{} {:>2} {:>3} {:>3} {:>9} {}{slash}",
                Bytes(&m),
                st.st_nlink,
                st.st_uid,
                st.st_gid,
                st.st_size,
                Bytes(name)
            );
        }
        Err(e) => {
            let _ = writeln!(w, "?????????? (stat: {e}) {}{slash}", Bytes(name));
        }
    }
}

/// Most entries `ls` sorts (more are listed after them, unsorted).
pub(crate) const LS_MAX: usize = 512;
/// Bytes of names `ls` keeps for sorting.
pub(crate) const LS_NAMES: usize = 16384;

/// Directory entries kept for sorting: names in one buffer.
pub(crate) struct Listing {
    pub(crate) names: [u8; LS_NAMES],
    pub(crate) used: usize,
    pub(crate) entries: [(u16, u16, u8); LS_MAX],
    pub(crate) count: usize,
}

impl Listing {
    pub(crate) fn add(&mut self, name: &[u8], kind: u8) -> bool {
        if self.count == LS_MAX || self.used + name.len() > LS_NAMES {
            return false;
        }
        self.names[self.used..self.used + name.len()].copy_from_slice(name);
        self.entries[self.count] = (self.used as u16, name.len() as u16, kind);
        self.used += name.len();
        self.count += 1;
        true
    }

    pub(crate) fn name(&self, i: usize) -> &[u8] {
        let (off, len, _) = self.entries[i];
        &self.names[usize::from(off)..usize::from(off) + usize::from(len)]
    }
}

/// Lists one entry of directory `dir`.
pub(crate) fn ls_entry(w: &mut FdWriter<2048>, dir: &Path, name: &[u8], kind: u8, long: bool) {
    let st = if long || kind == DT_UNKNOWN {
        let mut p = Path::new(dir.bytes());
        p.push(name).and_then(|()| p.with_c(sys::stat))
    } else {
        Err(Errno::ENOSYS)
    };
    let is_dir = match kind {
        DT_UNKNOWN => st.map(|s| s.is_dir()).unwrap_or(false),
        k => k == DT_DIR,
    };
    ls_line(w, name, st, is_dir, long);
}

pub(crate) fn ls_dir(
    w: &mut FdWriter<2048>,
    dir: &Path,
    shown: &[u8],
    long: bool,
    all: bool,
) -> i32 {
    let entries = match dir.with_c(read_dir) {
        Ok(d) => d,
        Err(e) => {
            w.flush();
            eprintln!("ls: {}: {e}", Bytes(shown));
            return 1;
        }
    };
    let mut list = Listing {
        names: [0; LS_NAMES],
        used: 0,
        entries: [(0, 0, 0); LS_MAX],
        count: 0,
    };
    let mut status = 0;
    let mut overflow = false;
    for e in entries {
        let e = match e {
            Ok(e) => e,
            Err(err) => {
                w.flush();
                eprintln!("ls: reading {}: {err}", Bytes(shown));
                status = 1;
                break;
            }
        };
        if !all && e.name().first() == Some(&b'.') {
            continue;
        }
        if !overflow && list.add(e.name(), e.kind) {
            continue;
        }
        if !overflow {
            // Full: print the sorted part, then the rest as it comes.
            overflow = true;
            ls_sorted(w, dir, &mut list, long);
        }
        ls_entry(w, dir, e.name(), e.kind, long);
    }
    if !overflow {
        ls_sorted(w, dir, &mut list, long);
    }
    status
}

pub(crate) fn ls_sorted(w: &mut FdWriter<2048>, dir: &Path, list: &mut Listing, long: bool) {
    let mut order = [0u16; LS_MAX];
    for (i, o) in order.iter_mut().enumerate().take(list.count) {
        *o = i as u16;
    }
    let order = &mut order[..list.count];
    order.sort_unstable_by(|&a, &b| list.name(a.into()).cmp(list.name(b.into())));
    for &i in order.iter() {
        let kind = list.entries[usize::from(i)].2;
        ls_entry(w, dir, list.name(i.into()), kind, long);
    }
}

pub(crate) fn ls(sh: &mut Shell, argv: &[&[u8]]) -> i32 {
    let mut flags = [false; 2];
    let paths = match options(argv, b"la", &mut flags) {
        Ok(p) => p,
        Err(c) => {
            eprintln!("ls: invalid option -- '{}'", c as char);
            return usage("ls");
        }
    };
    let [long, all] = flags;
    let dot: &[&[u8]] = &[b"."];
    let paths = if paths.is_empty() { dot } else { paths };
    let mut w = FdWriter::<2048>::new(STDOUT);
    let mut status = 0;
    for (i, &p) in paths.iter().enumerate() {
        let path = match sh.resolve(p) {
            Ok(path) => path,
            Err(e) => {
                w.flush();
                eprintln!("ls: {}: {e}", Bytes(p));
                status = 1;
                continue;
            }
        };
        let st = match path.with_c(sys::stat) {
            Ok(st) => st,
            Err(e) => {
                w.flush();
                eprintln!("ls: {}: {e}", Bytes(p));
                status = 1;
                continue;
            }
        };
        if !st.is_dir() {
            ls_line(&mut w, p, Ok(st), false, long);
            continue;
        }
        if paths.len() > 1 {
            let _ = writeln!(w, "{}{}:", if i > 0 { "\n" } else { "" }, Bytes(p));
        }
        status |= ls_dir(&mut w, &path, p, long, all);
    }
    if w.finish().is_err() {
        return 1;
    }
    status
}

/// Days since 1970-01-01 → (year, month, day) (proleptic Gregorian).
pub(crate) fn civil(days: u32) -> (u32, u32, u32) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u32::from(m <= 2);
    (y, m, d)
}

/// `YYYY-MM-DD HH:MM:SS` for seconds since the epoch.
pub(crate) struct DateTime(u64);

impl core::fmt::Display for DateTime {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let (y, mo, d) = civil((self.0 / 86_400) as u32);
        let t = self.0 % 86_400;
        write!(
            f,
            "{y:04}-{mo:02}-{d:02} {:02}:{:02}:{:02}",
            t / 3600,
            t / 60 % 60,
            t % 60
        )
    }
}

pub(crate) fn stat(sh: &mut Shell, argv: &[&[u8]]) -> i32 {
    if argv.len() < 2 {
        return usage("stat");
    }
    let mut status = 0;
    for &p in &argv[1..] {
        let st = match sh.resolve(p).and_then(|path| path.with_c(sys::stat)) {
            Ok(st) => st,
            Err(e) => {
                eprintln!("stat: cannot stat '{}': {e}", Bytes(p));
                status = 1;
                continue;
            }
        };
        let mut w = FdWriter::<1024>::new(STDOUT);
        let _ = writeln!(w, "  File: {}", Bytes(p));
        let _ = writeln!(w, "  Size: {:<10} {}", st.st_size, kind_name(&st));
        let _ = write!(
            w,
            "Device: {:<9} Inode: {:<10} Links: {}",
            st.st_dev, st.st_ino, st.st_nlink
        );
        if st.is_char_device() {
            let _ = write!(
                w,
                "  Device type: {},{}",
                st.st_rdev >> 8 & 0xfff,
                st.st_rdev & 0xff
            );
        }
        let _ = writeln!(w);
        let _ = writeln!(
            w,
            "Access: ({:04o}/{})  Uid: {}  Gid: {}",
            st.st_mode & 0o7777,
            Bytes(&mode_string(st.st_mode)),
            st.st_uid,
            st.st_gid
        );
        let _ = writeln!(w, "Access: {}", DateTime(st.st_atime));
        let _ = writeln!(w, "Modify: {}", DateTime(st.st_mtime));
        let _ = writeln!(w, "Change: {}", DateTime(st.st_ctime));
        if w.finish().is_err() {
            return 1;
        }
    }
    status
}

pub(crate) fn cd(sh: &mut Shell, argv: &[&[u8]]) -> i32 {
    if argv.len() > 2 {
        eprintln!("cd: too many arguments");
        return 2;
    }
    let home = sh.vars.get(b"HOME").unwrap_or(HOME).to_vec();
    let target = argv.get(1).copied().unwrap_or(&home);
    match sys::chdir(target) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("cd: {}: {e}", Bytes(target));
            1
        }
    }
}

pub(crate) fn pwd(_: &mut Shell, _: &[&[u8]]) -> i32 {
    let mut buf = [0u8; PATH_BUF];
    match sys::getcwd(&mut buf) {
        Ok(path) => {
            println!("{}", Bytes(path));
            0
        }
        Err(e) => {
            eprintln!("pwd: {e}");
            1
        }
    }
}

pub(crate) fn write(sh: &mut Shell, argv: &[&[u8]]) -> i32 {
    let Some(&name) = argv.get(1) else {
        return usage("write");
    };
    let file = sh
        .resolve(name)
        .and_then(|p| p.with_c(|c| File::open(c, O_WRONLY | O_CREAT | O_TRUNC, 0o644)));
    let file = match file {
        Ok(f) => f,
        Err(e) => {
            eprintln!("write: {}: {e}", Bytes(name));
            return 1;
        }
    };
    let mut text = [0u8; LINE + 2];
    let mut len = 0;
    for (i, word) in argv[2..].iter().enumerate() {
        let sep: &[u8] = if i > 0 { b" " } else { b"" };
        for part in [sep, word] {
            let Some(dst) = text.get_mut(len..len + part.len()) else {
                eprintln!("write: text too long");
                return 1;
            };
            dst.copy_from_slice(part);
            len += part.len();
        }
    }
    if argv.len() > 2 {
        text[len] = b'\n';
        len += 1;
    }
    match file.write_all(&text[..len]).and_then(|()| file.close()) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("write: {}: {e}", Bytes(name));
            1
        }
    }
}

pub(crate) fn uname(_: &mut Shell, argv: &[&[u8]]) -> i32 {
    let mut flags = [false; 6];
    let rest = match options(argv, b"asnrvm", &mut flags) {
        Ok(r) => r,
        Err(c) => {
            eprintln!("uname: invalid option -- '{}'", c as char);
            return usage("uname");
        }
    };
    if !rest.is_empty() {
        eprintln!("uname: extra operand '{}'", Bytes(rest[0]));
        return usage("uname");
    }
    let u = match sys::uname() {
        Ok(u) => u,
        Err(e) => {
            eprintln!("uname: {e}");
            return 1;
        }
    };
    let [all, mut sn, n, r, v, m] = flags;
    if !flags.iter().any(|&f| f) {
        sn = true;
    }
    let fields: [(bool, &[u8]); 5] = [
        (sn, &u.sysname),
        (n, &u.nodename),
        (r, &u.release),
        (v, &u.version),
        (m, &u.machine),
    ];
    let mut w = FdWriter::<512>::new(STDOUT);
    let mut first = true;
    for (on, field) in fields {
        if on || all {
            if !first {
                w.write_bytes(b" ");
            }
            w.write_bytes(field_bytes(field));
            first = false;
        }
    }
    w.write_bytes(b"\n");
    w.finish().map_or(1, |()| 0)
}

pub(crate) fn pid(sh: &mut Shell, _: &[&[u8]]) -> i32 {
    match (sys::getpid(), sys::getppid()) {
        (Ok(p), Ok(pp)) => {
            println!("pid {p} (parent {pp})");
            sh.pid = p;
            0
        }
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("pid: {e}");
            1
        }
    }
}

pub(crate) fn maps(_: &mut Shell, _: &[&[u8]]) -> i32 {
    match File::open_read(c"/proc/self/maps") {
        Ok(f) => {
            let mut buf = [0u8; 4096];
            match ulibc::fs::copy(f.fd(), STDOUT, &mut buf) {
                Ok(_) => 0,
                Err(e) => {
                    eprintln!("maps: /proc/self/maps: {e:?}");
                    1
                }
            }
        }
        Err(Errno::ENOENT) => {
            eprintln!(
                "maps: /proc/self/maps: {} (the kernel does not provide it yet)",
                Errno::ENOENT
            );
            1
        }
        Err(e) => {
            eprintln!("maps: /proc/self/maps: {e}");
            1
        }
    }
}

unsafe extern "C" {
    /// The page-aligned end of `.bss` (`link.ld`).
    static _end: u8;
}

pub(crate) fn mem(_: &mut Shell, _: &[&[u8]]) -> i32 {
    let end = &raw const _end as usize;
    let esp = {
        let here = 0u8;
        core::hint::black_box(&raw const here) as usize
    };
    let status = match ulibc::malloc::brk_raw(0) {
        Ok(b) => {
            let b = b as usize;
            println!(
                "break {b:#010x} (program end {end:#010x}, heap {} KiB); stack near {esp:#010x}",
                b.saturating_sub(end) >> 10
            );
            0
        }
        Err(e) => {
            println!("program end {end:#010x}; stack near {esp:#010x}");
            eprintln!(
                "mem: brk: {e}{}",
                if e == Errno::ENOSYS {
                    " (the kernel has no brk yet)"
                } else {
                    ""
                }
            );
            1
        }
    };
    let limits = [("STACK", RLIMIT_STACK), ("DATA", RLIMIT_DATA)];
    for (name, r) in limits {
        if let Ok(l) = sys::getrlimit(r) {
            let mut w = FdWriter::<128>::new(STDOUT);
            let _ = write!(w, "RLIMIT_{}: ", name);
            for (i, v) in [l.rlim_cur, l.rlim_max].into_iter().enumerate() {
                let sep = if i == 0 { "" } else { " / hard " };
                if v == RLIM_INFINITY {
                    let _ = write!(w, "{sep}unlimited");
                } else {
                    let _ = write!(w, "{sep}{} KiB", v >> 10);
                }
            }
            let _ = writeln!(w);
        }
    }
    status
}

pub(crate) fn date(_: &mut Shell, _: &[&[u8]]) -> i32 {
    match sys::clock_gettime(CLOCK_REALTIME) {
        Ok(t) => {
            println!("{} UTC", DateTime(t.tv_sec.max(0) as u64));
            0
        }
        Err(e) => {
            eprintln!("date: clock_gettime: {e}");
            1
        }
    }
}

/// `{s}.{ms}s` for nanoseconds.
pub(crate) struct Secs(u64);

impl core::fmt::Display for Secs {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "{}.{:06}s",
            self.0 / 1_000_000_000,
            self.0 % 1_000_000_000 / 1000
        )
    }
}

pub(crate) fn time(sh: &mut Shell, argv: &[&[u8]]) -> i32 {
    let now = || sys::clock_gettime(CLOCK_MONOTONIC).map(|t| t.as_nanos());
    if argv.len() < 2 {
        return match now() {
            Ok(ns) => {
                println!("up {} (CLOCK_MONOTONIC)", Secs(ns));
                0
            }
            Err(e) => {
                eprintln!("time: clock_gettime: {e}");
                1
            }
        };
    }
    let (t0, c0) = (now(), timestamp());
    let status = sh.run(&argv[1..]);
    let (c1, t1) = (timestamp(), now());
    match (t0, t1) {
        (Ok(t0), Ok(t1)) => eprintln!(
            "real {}  ({} TSC ticks)",
            Secs(t1.saturating_sub(t0)),
            c1.wrapping_sub(c0)
        ),
        (Err(e), _) | (_, Err(e)) => eprintln!("time: clock_gettime: {e}"),
    }
    status
}

pub(crate) fn exit(sh: &mut Shell, argv: &[&[u8]]) -> i32 {
    let code = match argv.get(1) {
        None => sh.status,
        Some(a) => {
            let (neg, digits) = match a.strip_prefix(b"-") {
                Some(d) => (true, d),
                None => (false, *a),
            };
            match parse_u64(digits) {
                Some(v) => {
                    let v = (v & 0xff) as i32;
                    if neg { (256 - v) & 0xff } else { v }
                }
                None => {
                    eprintln!("exit: {}: numeric argument required", Bytes(a));
                    2
                }
            }
        }
    };
    if argv.len() > 2 {
        eprintln!("exit: too many arguments");
        return 1;
    }
    sh.exit = Some(code);
    code
}

pub(crate) fn wait(sh: &mut Shell, argv: &[&[u8]]) -> i32 {
    match argv.get(1) {
        None => sh.wait_jobs(None),
        Some(a) => match parse_u64(a).and_then(|p| u32::try_from(p).ok()) {
            Some(pid) => sh.wait_jobs(Some(pid)),
            None => usage("wait"),
        },
    }
}

pub(crate) fn jobs(sh: &mut Shell, _argv: &[&[u8]]) -> i32 {
    for &(n, pid) in sh.jobs.iter().filter(|j| j.1 != 0) {
        println!("[{n}] {pid} running");
    }
    0
}

pub(crate) fn export(sh: &mut Shell, argv: &[&[u8]]) -> i32 {
    if argv.len() < 2 {
        for var in sh.vars.environment() {
            println!("export {}", Bytes(&var));
        }
        return 0;
    }
    for a in &argv[1..] {
        match super::vars::assignment(a) {
            Some((name, value)) => sh.vars.set(name, value, true),
            None if super::vars::name_len(a) == a.len() => sh.vars.export(a),
            None => {
                eprintln!("export: {}: not a variable name", Bytes(a));
                return 1;
            }
        }
    }
    0
}

pub(crate) fn unset(sh: &mut Shell, argv: &[&[u8]]) -> i32 {
    for a in &argv[1..] {
        sh.vars.unset(a);
    }
    0
}
