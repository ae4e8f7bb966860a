#!/usr/bin/env python3
"""gate-emu: run phantom-unix user programs on a Linux x86_64 host.

A development aid for `unix/user`, not part of the kernel: it runs our static
ELF32 programs natively as 32-bit Linux processes under ptrace and plays the
kernel's side of `docs/abi.md`:

- at exec it rewrites the start stack into the ABI's layout
  (`[esp]=0xFFFFFFFF, argc, argv, envp, 0`) and gives argv[0] without
  directories, as the kernel does for boot modules;
- every `lcall $0x7, $0` faults on Linux (there is no such gate): the fault
  is caught, `eax` is the syscall number, the arguments are read at esp+4…
  through process_vm_readv (a bad pointer gives EFAULT, as the ABI wants),
  the call is served here, and the process resumes after the `lcall` with
  `eax` = result and `edx` = errno;
- the numbers, argument counts, errno values, flag values and structure
  layouts all come from `abi.json` beside this script, generated from the
  `phantom-abi` crate the kernel and ulibc use (a test keeps it current);
  host errors are translated to the ABI's (BSD) errno by name;
- `brk` is Linux's own, run inside the process by injecting an
  `int $0x80` for one step; so are `getrlimit`/`setrlimit` (Linux's
  `ugetrlimit`/`setrlimit`) and `mmap`, `munmap`, `mprotect`, `madvise`
  (Linux's `mmap2`, …), after the argument checks of `docs/abi.md` that
  Linux does not make (anonymous private memory only: `EINVAL`,
  `EBADF`/`ENODEV` for file mappings);
- `/boot/<name>` holds every module given, `/tmp` a scratch directory,
  `/dev/null`, `/dev/zero`, `/dev/console` (fds 0, 1, 2 are the console);
- any other fault kills the process with status 128 + signal, and the
  emulator prints the kernel's lines: `{"event":"exit",…}` per process and
  `{"event":"shutdown","status":N}` when all have exited.

Memory isolation, guard pages and preemption are Linux's here, not ours: the
emulator checks the user side (crt0, libc, programs) against the ABI, not the
kernel.

usage: gate-emu.py [--quiet] 'PROG [ARGS…]' ['PROG2 …' …]
Modules run concurrently, as boot modules do.
"""

import ctypes
import ctypes.util
import errno as E
import json
import os
import shutil
import signal
import stat as S
import struct
import sys
import tempfile
import time

libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
libc.ptrace.restype = ctypes.c_long
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]

PTRACE_TRACEME, PTRACE_PEEKTEXT, PTRACE_POKETEXT, PTRACE_CONT, PTRACE_KILL = 0, 1, 4, 7, 8
PTRACE_SINGLESTEP = 9
PTRACE_GETREGS, PTRACE_SETREGS, PTRACE_SETOPTIONS = 12, 13, 0x4200
PTRACE_O_EXITKILL = 0x100000

REG_NAMES = ("r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi orig_rax "
             "rip cs eflags rsp ss fs_base gs_base ds es fs gs").split()


class Regs(ctypes.Structure):
    _fields_ = [(n, ctypes.c_ulonglong) for n in REG_NAMES]


class IoVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "abi.json")) as _f:
    ABI = json.load(_f)
ERRNO = ABI["errno"]
FLAGS = ABI["flags"]
STRUCTS = ABI["structs"]
O = FLAGS["open"]

LCALL_GATE = bytes([0x9A, 0, 0, 0, 0, ABI["gate_selector"], 0x00])  # lcall $0x7, $0


def abi_errno(host_errno):
    """The ABI's number for a host errno, by name (EIO if the ABI lacks it)."""
    return ERRNO.get(E.errorcode.get(host_errno, ""), ERRNO["EIO"])


def pack(struct_name, **values):
    """The bytes of ABI structure `struct_name` (layout from abi.json):
    integers little-endian, bytes NUL-padded (cut to leave room for a NUL)."""
    layout = STRUCTS[struct_name]
    out = bytearray(layout["size"])
    for name, off, size in layout["fields"]:
        v = values.get(name, 0)
        if isinstance(v, bytes):
            v = v[:size - 1]
            out[off:off + len(v)] = v
        else:
            out[off:off + size] = (v & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
    return bytes(out)


class Fault(Exception):
    """A user pointer the process cannot access: EFAULT."""


def ptrace(req, pid, addr=0, data=0):
    r = libc.ptrace(req, pid, ctypes.c_void_p(addr), ctypes.c_void_p(data))
    if r == -1 and ctypes.get_errno() != 0:
        raise OSError(ctypes.get_errno(), f"ptrace({req})")
    return r


class Proc:
    """One traced user process and its fd table."""

    def __init__(self, pid, name):
        self.pid = pid
        self.name = name
        self.fds = {0: Console(0), 1: Console(1), 2: Console(2)}

    def regs(self):
        r = Regs()
        ptrace(PTRACE_GETREGS, self.pid, 0, ctypes.addressof(r))
        return r

    def set_regs(self, r):
        ptrace(PTRACE_SETREGS, self.pid, 0, ctypes.addressof(r))

    def read(self, addr, n):
        if n == 0:
            return b""
        if addr < 0 or addr + n > 1 << 32:
            raise Fault()
        buf = ctypes.create_string_buffer(n)
        local = IoVec(ctypes.cast(buf, ctypes.c_void_p), n)
        remote = IoVec(ctypes.c_void_p(addr), n)
        got = libc.process_vm_readv(self.pid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
        if got != n:
            raise Fault()
        return buf.raw

    def write(self, addr, data):
        n = len(data)
        if n == 0:
            return
        if addr < 0 or addr + n > 1 << 32:
            raise Fault()
        buf = ctypes.create_string_buffer(bytes(data), n)
        local = IoVec(ctypes.cast(buf, ctypes.c_void_p), n)
        remote = IoVec(ctypes.c_void_p(addr), n)
        # process_vm_writev honours page protections: read-only pages fail.
        got = libc.process_vm_writev(self.pid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
        if got != n:
            raise Fault()

    def linux_syscall(self, nr, *args):
        """Runs Linux i386 syscall `nr` inside the process: `int $0x80`
        written over the current instruction, one single step, everything
        restored. Returns eax (Linux style: -errno on failure)."""
        saved = self.regs()
        eip = saved.rip & 0xFFFFFFFF
        libc.ptrace.restype = ctypes.c_ulong
        ctypes.set_errno(0)
        word = libc.ptrace(PTRACE_PEEKTEXT, self.pid, ctypes.c_void_p(eip), None)
        libc.ptrace.restype = ctypes.c_long
        ptrace(PTRACE_POKETEXT, self.pid, eip, (word & ~0xFFFF) | 0x80CD)
        r = Regs.from_buffer_copy(saved)
        r.rax = nr
        for reg, v in zip(("rbx", "rcx", "rdx", "rsi", "rdi", "rbp"), args):
            setattr(r, reg, v & 0xFFFFFFFF)
        self.set_regs(r)
        ptrace(PTRACE_SINGLESTEP, self.pid, 0, 0)
        _, status = os.waitpid(self.pid, 0)
        assert os.WIFSTOPPED(status), "injected syscall did not stop"
        result = self.regs().rax & 0xFFFFFFFF
        ptrace(PTRACE_POKETEXT, self.pid, eip, word)
        self.set_regs(saved)
        return result

    def u32(self, addr):
        return struct.unpack("<I", self.read(addr, 4))[0]

    def cstr(self, addr, limit=4096):
        out = b""
        while len(out) < limit:
            # Read up to the end of the page, so a string that ends just
            # before unmapped memory is fine.
            chunk = 4096 - (addr + len(out)) % 4096
            data = self.read(addr + len(out), chunk)
            nul = data.find(b"\0")
            if nul >= 0:
                return out + data[:nul]
            out += data
        raise OSError(E.ENAMETOOLONG, "path")

    def new_fd(self, obj):
        fd = 0
        while fd in self.fds:
            fd += 1
        self.fds[fd] = obj
        return fd

    def fd(self, n):
        n = n - (1 << 32) if n >= 1 << 31 else n
        if n not in self.fds:
            raise OSError(E.EBADF, "fd")
        return self.fds[n]


class Console:
    kind = "console"

    def __init__(self, host_fd):
        self.host_fd = host_fd

    def read(self, n):
        return os.read(0, n)

    def write(self, data):
        return os.write(1 if self.host_fd != 2 else 2, data)


class HostFile:
    kind = "file"

    def __init__(self, path, host_fd, readonly_fs):
        self.path = path
        self.host_fd = host_fd
        self.readonly_fs = readonly_fs
        self.dir_pos = 0

    def read(self, n):
        return os.read(self.host_fd, n)

    def write(self, data):
        return os.write(self.host_fd, data)


class Emulator:
    def __init__(self, modules, quiet=False):
        self.root = tempfile.mkdtemp(prefix="gate-emu-")
        for d in ("boot", "tmp", "dev"):
            os.mkdir(os.path.join(self.root, d))
        self.quiet = quiet
        self.specs = []
        for spec in modules:
            words = spec.split()
            path = words[0]
            if not os.path.exists(path):
                alt = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                   "../../../target/user/i686-unknown-linux-gnu/release", path)
                path = os.path.normpath(alt)
            name = os.path.basename(path)
            shutil.copy(path, os.path.join(self.root, "boot", name))
            self.specs.append((path, [name] + words[1:]))
        self.procs = {}
        self.statuses = []
        self.boot_time = time.time()

    # --- process start ---------------------------------------------------
    def spawn(self, path, argv):
        pid = os.fork()
        if pid == 0:
            try:
                libc.ptrace(PTRACE_TRACEME, 0, None, None)
                os.execv(path, argv)
            finally:
                os._exit(127)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSTOPPED(status), "no exec stop"
        ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_EXITKILL)
        p = Proc(pid, argv[0])
        # Linux start stack: [esp]=argc, argv…, NULL, envp…, NULL, auxv.
        # Build the ABI's: [esp]=0xFFFFFFFF, argc, argv, envp, 0 (below it).
        r = p.regs()
        esp = r.rsp & 0xFFFFFFFF
        argc = p.u32(esp)
        argv_ptr = esp + 4
        envp_ptr = argv_ptr + 4 * (argc + 1)
        new = esp - 32
        p.write(new, struct.pack("<IIIII", 0xFFFFFFFF, argc, argv_ptr, envp_ptr, 0))
        # An empty environment, as for boot modules: envp[0] = NULL.
        p.write(envp_ptr, b"\0\0\0\0")
        r.rsp = new
        for reg in ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp"):
            setattr(r, reg, 0)
        p.set_regs(r)
        self.procs[pid] = p
        ptrace(PTRACE_CONT, pid, 0, 0)

    def exit(self, p, status, reason=None):
        if reason:
            print(f"[emu] {p.name} (pid {p.pid}): {reason}", flush=True)
        print(json.dumps({"event": "exit", "pid": p.pid, "name": p.name, "status": status},
                         separators=(",", ":")), flush=True)
        self.statuses.append(status)
        del self.procs[p.pid]

    # --- the loop --------------------------------------------------------
    def run(self):
        for path, argv in self.specs:
            self.spawn(path, argv)
        while self.procs:
            pid, status = os.waitpid(-1, 0)
            p = self.procs.get(pid)
            if p is None:
                continue
            if os.WIFEXITED(status) or os.WIFSIGNALED(status):
                sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0
                self.exit(p, 128 + sig if sig else os.WEXITSTATUS(status), "died outside the ABI")
                continue
            sig = os.WSTOPSIG(status)
            if sig == signal.SIGSEGV and self.is_gate(p):
                self.syscall(p)
                continue
            if sig in (signal.SIGSEGV, signal.SIGILL, signal.SIGBUS, signal.SIGFPE, signal.SIGTRAP):
                r = p.regs()
                name = signal.Signals(sig).name
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                self.exit(p, 128 + (11 if sig == signal.SIGBUS else sig),
                          f"killed by {name} at eip {r.rip & 0xFFFFFFFF:#010x}")
                continue
            ptrace(PTRACE_CONT, pid, 0, sig)
        shutil.rmtree(self.root, ignore_errors=True)
        code = next((s for s in self.statuses if s != 0), 0)
        print(json.dumps({"event": "shutdown", "status": code}, separators=(",", ":")), flush=True)
        return code

    def is_gate(self, p):
        eip = p.regs().rip & 0xFFFFFFFF
        try:
            return p.read(eip, len(LCALL_GATE)) == LCALL_GATE
        except Fault:
            return False

    def syscall(self, p):
        r = p.regs()
        nr = r.rax & 0xFFFFFFFF
        esp = r.rsp & 0xFFFFFFFF
        handler = SYSCALLS.get(nr)
        result, err = 0xFFFFFFFF, 0
        if handler is None:
            err = ERRNO["ENOSYS"]
        else:
            fn, nargs = handler
            try:
                args = [p.u32(esp + 4 + 4 * i) for i in range(nargs)]
                result = fn(self, p, *args)
                if result is None:  # _exit
                    return
                result &= 0xFFFFFFFF
            except Fault:
                err = ERRNO["EFAULT"]
            except OSError as e:
                err = abi_errno(e.errno or E.EIO)
        if err:
            result = 0xFFFFFFFF
        r.rax, r.rdx = result, err
        r.rip = (r.rip & 0xFFFFFFFF) + len(LCALL_GATE)
        p.set_regs(r)
        ptrace(PTRACE_CONT, p.pid, 0, 0)

    # --- paths -----------------------------------------------------------
    def host_path(self, path):
        if not path.startswith(b"/"):
            path = b"/" + path
        parts = [x for x in path.split(b"/") if x not in (b"", b".")]
        if b".." in parts:
            raise OSError(E.EACCES, "..")
        host = os.path.join(self.root.encode(), *parts) if parts else self.root.encode()
        return b"/" + b"/".join(parts), host


# --- syscalls ---------------------------------------------------------------

def sys_exit(emu, p, status):
    os.kill(p.pid, signal.SIGKILL)
    os.waitpid(p.pid, 0)
    emu.exit(p, status & 0xFF)
    return None


def sys_getpagesize(emu, p):
    return 4096


HOSTNAME = [b"phantom"]


def sys_uname(emu, p, buf):
    p.write(buf, pack("utsname", sysname=b"phantom-unix", nodename=HOSTNAME[0],
                      release=b"0.1.0", version=b"gate-emu", machine=b"i686",
                      domainname=b"(none)"))
    return 0


def sys_gethostname(emu, p, buf, length):
    if length <= len(HOSTNAME[0]):
        raise OSError(E.ENAMETOOLONG, "gethostname")
    p.write(buf, HOSTNAME[0] + b"\0")
    return 0


def sys_sethostname(emu, p, name, length):
    if length > 255:
        raise OSError(E.ENAMETOOLONG, "sethostname")
    data = p.read(name, length)
    if b"\0" in data:
        raise OSError(E.EINVAL, "sethostname")
    HOSTNAME[0] = data
    return 0


def sys_time(emu, p, tloc):
    t = int(time.time())
    if tloc:
        p.write(tloc, struct.pack("<Q", t))
    return t & 0xFFFFFFFF


def sys_gettimeofday(emu, p, tv, tz):
    t = time.time_ns()
    if tv:
        p.write(tv, pack("timeval", tv_sec=t // 10**9, tv_usec=t % 10**9 // 1000))
    return 0


def sys_sleepmsec(emu, p, msec):
    if msec >= 1 << 31:
        raise OSError(E.EINVAL, "sleepmsec")
    time.sleep(msec / 1000)
    return 0


def sys_nanosleep(emu, p, req, rem):
    sec, nsec = struct.unpack("<ii", p.read(req, 8))
    if sec < 0 or not 0 <= nsec < 10**9:
        raise OSError(E.EINVAL, "nanosleep")
    time.sleep(sec + nsec / 1e9)
    return 0


def sys_ssyslog(emu, p, level, msg):
    text = p.cstr(msg, 1024).decode(errors="replace")
    print(f"[emu syslog] pid {p.pid}: " + "".join("?" if ord(c) < 32 else c for c in text),
          flush=True)
    return 0


def sys_gettid(emu, p):
    return p.pid


def sys_getuid(emu, p):
    return 0


sys_getuid32 = sys_geteuid = sys_geteuid32 = sys_getgid = sys_getgid32 = sys_getuid
sys_getegid = sys_getegid32 = sys_getuid


def sys_setuid(emu, p, uid):
    if uid != 0:
        raise OSError(E.EINVAL, "only root exists")
    return 0


sys_setuid32 = sys_setgid = sys_setgid32 = sys_setuid


def sys_getpgrp(emu, p):
    return p.pid


def sys_getpgid(emu, p, pid):
    if pid not in (0, p.pid):
        raise OSError(E.ESRCH, "getpgid")
    return p.pid


def sys_setpgid(emu, p, pid, pgid):
    if pid not in (0, p.pid):
        raise OSError(E.ESRCH, "setpgid")
    if pgid not in (0, p.pid):
        raise OSError(E.EPERM, "setpgid")
    return 0


def sys_umask(emu, p, mask):
    old = getattr(p, "umask", 0o022)
    p.umask = mask & 0o777
    return old


def sys_personality(emu, p, persona):
    if persona in (0, 0xFFFFFFFF):
        return 0
    raise OSError(E.EINVAL, "personality")


def sys_sync(emu, p):
    return 0


def sys_clock_gettime(emu, p, clock, ts):
    if clock == 0:
        t = time.time_ns()
    elif clock == 1:
        t = time.monotonic_ns()
    else:
        raise OSError(E.EINVAL, "clock")
    p.write(ts, struct.pack("<II", t // 10**9 & 0xFFFFFFFF, t % 10**9))
    return 0


def sys_getpid(emu, p):
    return p.pid


def sys_getppid(emu, p):
    return 0


def sys_open(emu, p, path_ptr, flags, mode):
    path, host = emu.host_path(p.cstr(path_ptr))
    if path == b"/dev/console":
        return p.new_fd(Console(1))
    if path == b"/dev/null":
        host = b"/dev/null"
    elif path == b"/dev/zero":
        host = b"/dev/zero"
    readonly = path == b"/boot" or path.startswith(b"/boot/")
    if readonly and (flags & 3 or flags & (O["O_CREAT"] | O["O_TRUNC"])):
        if os.path.isdir(host) and flags & 3:
            raise OSError(E.EISDIR, path)
        if not os.path.exists(host):
            raise OSError(E.ENOENT, path)
        raise OSError(E.EROFS, path)
    host_flags = flags & O["O_ACCMODE"]
    for name in ("O_CREAT", "O_EXCL", "O_TRUNC", "O_APPEND", "O_DIRECTORY", "O_NONBLOCK"):
        if flags & O[name]:
            host_flags |= getattr(os, name)
    fd = os.open(host, host_flags | os.O_CLOEXEC, mode & ~getattr(p, "umask", 0o022))
    return p.new_fd(HostFile(path, fd, readonly))


def sys_creat(emu, p, path_ptr, mode):
    return sys_open(emu, p, path_ptr, O["O_CREAT"] | O["O_WRONLY"] | O["O_TRUNC"], mode)


def sys_close(emu, p, fd):
    obj = p.fd(fd)
    del p.fds[fd - (1 << 32) if fd >= 1 << 31 else fd]
    if isinstance(obj, HostFile):
        os.close(obj.host_fd)
    return 0


def sys_read(emu, p, fd, buf, count):
    obj = p.fd(fd)
    p.write(buf, b"\0" * min(count, 1)) if count else None  # EFAULT first
    data = obj.read(min(count, 1 << 20))
    p.write(buf, data)
    return len(data)


def sys_write(emu, p, fd, buf, count):
    obj = p.fd(fd)
    data = p.read(buf, count)
    return obj.write(data)


def sys_lseek(emu, p, fd, offset, whence):
    obj = p.fd(fd)
    if obj.kind == "console":
        raise OSError(E.ESPIPE, "console")
    off = offset - (1 << 32) if offset >= 1 << 31 else offset
    if whence > 2:
        raise OSError(E.EINVAL, "whence")
    return os.lseek(obj.host_fd, off, whence)


def sys_getdents(emu, p, fd, buf, count):
    obj = p.fd(fd)
    if obj.kind != "file" or not S.S_ISDIR(os.fstat(obj.host_fd).st_mode):
        raise OSError(E.ENOTDIR, "getdents")
    host = os.readlink(f"/proc/self/fd/{obj.host_fd}")
    entries = [(".", os.stat(host)), ("..", os.stat(host))]
    entries += [(e.name, e.stat(follow_symlinks=False)) for e in sorted(os.scandir(host), key=lambda e: e.name)]
    out = b""
    i = obj.dir_pos
    while i < len(entries):
        name, st = entries[i]
        nb = name.encode()
        reclen = (10 + len(nb) + 2 + 3) & ~3
        kind = 4 if S.S_ISDIR(st.st_mode) else 2 if S.S_ISCHR(st.st_mode) else 8
        rec = struct.pack("<IIH", st.st_ino & 0xFFFFFFFF, i + 1, reclen) + nb
        rec = rec.ljust(reclen - 1, b"\0") + bytes([kind])
        if len(out) + reclen > count:
            break
        out += rec
        i += 1
    if not out and i < len(entries):
        raise OSError(E.EINVAL, "buffer too small")
    p.write(buf, out)
    obj.dir_pos = i
    return len(out)


def sys_readdir(emu, p, fd, ent):
    obj = p.fd(fd)
    if obj.kind != "file" or not S.S_ISDIR(os.fstat(obj.host_fd).st_mode):
        raise OSError(E.ENOTDIR, "readdir")
    host = os.readlink(f"/proc/self/fd/{obj.host_fd}")
    names = [".", ".."] + sorted(os.listdir(host))
    if obj.dir_pos >= len(names):
        return 0
    name = names[obj.dir_pos].encode()
    ino = os.stat(os.path.join(host, names[obj.dir_pos])).st_ino
    p.write(ent, pack("dirent", d_ino=ino, d_reclen=0, d_namlen=min(len(name), 511),
                      d_name=name))
    obj.dir_pos += 1
    return 1


def pack_stat(st, console=False):
    mode = st.st_mode
    if console:
        mode = S.S_IFCHR | 0o620
    return pack("stat", st_dev=st.st_dev, st_ino=st.st_ino, st_mode=mode,
                st_nlink=min(st.st_nlink, 0xFFFF), st_rdev=st.st_rdev,
                st_size=min(st.st_size, 0xFFFFFFFF), st_atime=int(st.st_atime),
                st_mtime=int(st.st_mtime), st_ctime=int(st.st_ctime))


def sys_fstat(emu, p, fd, buf):
    obj = p.fd(fd)
    if obj.kind == "console":
        data = pack_stat(os.stat("/dev/null"), console=True)
    else:
        data = pack_stat(os.fstat(obj.host_fd))
    p.write(buf, data)
    return 0


def sys_stat(emu, p, path_ptr, buf):
    path, host = emu.host_path(p.cstr(path_ptr))
    if path in (b"/dev/null", b"/dev/zero"):
        host = path
    if path == b"/dev/console":
        data = pack_stat(os.stat("/dev/null"), console=True)
    else:
        data = pack_stat(os.stat(host))
    p.write(buf, data)
    return 0


def sys_brk(emu, p, addr):
    # Linux's brk, run in the process: returns the new break, or the old one
    # when it refuses.
    return p.linux_syscall(45, addr)


def linux(p, nr, *args):
    """Linux i386 syscall `nr` in the process; -errno results raise."""
    r = p.linux_syscall(nr, *args)
    if r >= 0xFFFFF001:
        raise OSError(0x100000000 - r, f"linux syscall {nr}")
    return r


def sys_getrlimit(emu, p, resource, rlim):
    return linux(p, 191, resource, rlim)  # ugetrlimit: u32 fields


def sys_setrlimit(emu, p, resource, rlim):
    return linux(p, 75, resource, rlim)


M = FLAGS["map"]
MAP_SHARED, MAP_PRIVATE, MAP_ANONYMOUS = M["MAP_SHARED"], M["MAP_PRIVATE"], M["MAP_ANONYMOUS"]
MAP_KNOWN = M["MAP_KNOWN"]


def sys_mmap(emu, p, addr, length, prot, flags, fd, offset):
    # The ABI's checks, in its order; then Linux's mmap2.
    if offset % 4096 or flags & ~MAP_KNOWN or flags & 3 not in (MAP_SHARED, MAP_PRIVATE) \
            or length == 0 or prot & ~7:
        raise OSError(E.EINVAL, "mmap")
    if not flags & MAP_ANONYMOUS:
        fd = fd - (1 << 32) if fd & 0x80000000 else fd
        if fd not in p.fds:
            raise OSError(E.EBADF, "mmap")
        raise OSError(E.ENODEV, "mmap")
    if flags & MAP_SHARED:
        raise OSError(E.EINVAL, "mmap")
    return linux(p, 192, addr, length, prot, flags, 0xFFFFFFFF, 0)


def sys_munmap(emu, p, addr, length):
    return linux(p, 91, addr, length)


def sys_mprotect(emu, p, addr, length, prot):
    return linux(p, 125, addr, length, prot)


def sys_madvise(emu, p, addr, length, advice):
    if advice > 4:
        raise OSError(E.EINVAL, "madvise")
    return linux(p, 219, addr, length, advice)


IOCTL = FLAGS["ioctl"]


def sys_ioctl(emu, p, fd, request, data, length):
    obj = p.fd(fd)
    if obj.kind != "console" or request not in IOCTL.values():
        raise OSError(E.ENOTTY, "ioctl")
    if length < (request >> 16) & 0x1FFF:
        raise OSError(E.EINVAL, "ioctl")
    if request == IOCTL["TIOCGETA"]:  # canonical, echo (BSD termios)
        cc = bytearray(20)
        cc[0], cc[3], cc[5], cc[8], cc[9], cc[16] = 4, 0x7F, 0x15, 3, 0x1C, 1
        p.write(data, pack("termios", c_iflag=0x100, c_oflag=0x3, c_cflag=0xB00,
                           c_lflag=0x58E, c_cc=bytes(cc) + b"\0", c_ispeed=38400,
                           c_ospeed=38400))
    else:
        p.write(data, pack("winsize", ws_row=24, ws_col=80))
    return 0


# The served calls, by the ABI's names (numbers and argument counts from
# abi.json); `_exit` is `sys_exit`.
SYSCALLS = {
    c["nr"]: (globals()["sys_" + c["name"].lstrip("_")], c["args"])
    for c in ABI["syscalls"]
    if "sys_" + c["name"].lstrip("_") in globals()
}


def main():
    args = sys.argv[1:]
    quiet = "--quiet" in args
    args = [a for a in args if a != "--quiet"]
    if not args or args[0] in ("-h", "--help"):
        print(__doc__)
        return 2
    return Emulator(args, quiet).run()


if __name__ == "__main__":
    sys.exit(main())
