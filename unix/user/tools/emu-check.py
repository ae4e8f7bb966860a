#!/usr/bin/env python3
"""emu-check: runs every user program under gate-emu.py and checks its exit
status and output — a smoke test of crt0, ulibc and the programs against the
ABI without the kernel. Build first (./build.sh). Exits 1 if a case failed.

usage: emu-check.py [-v]
"""

import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
EMU = os.path.join(HERE, "gate-emu.py")
BIN = os.path.normpath(os.path.join(HERE, "../../../target/user/i686-unknown-linux-gnu/release"))

# (modules, {program name: expected status}, regexes the output must match)
CASES = [
    (["hello"], {"hello": 0}, [r"(?m)^hello, world$"]),
    (["echo a b   c"], {"echo": 0}, [r"(?m)^a b c$"]),
    (["echo -n x"], {"echo": 0}, [r"(?m)^x\{"]),
    (["cat /boot/cat"], {"cat": 0}, [r"\x7fELF"]),
    (["cat /nope /boot/cat"], {"cat": 1}, [r"cat: /nope: No such file or directory", r"\x7fELF"]),
    (["init"], {"init": 0}, [r"init: /boot:", r"init +file"]),
    (["abitest"], {"abitest": 0}, [r'"test":"abitest","result":"pass"']),
    (["badptr"], {"badptr": 0}, [r'"test":"badptr","result":"pass"']),
    (["enoent"], {"enoent": 0}, [r'"test":"enoent","result":"pass"']),
    (["hlt"], {"hlt": 139}, []),
    (["cli"], {"cli": 139}, []),
    (["ioport"], {"ioport": 139}, []),
    *[([f"jmpkernel {m}"], {"jmpkernel": 139}, [])
      for m in ("near", "top", "low", "call", "far", "gate", "data")],
    *[([f"peek {m}"], {"peek": 139}, [])
      for m in ("guard", "top", "null", "low", "vga", "text", "rodata")],
    (["secret 1", "peek other"], {"secret": 0, "peek": 139}, [r'"test":"secret","result":"pass"']),
    (["spin 1", "spinprint"], {"spin": 0, "spinprint": 0}, [r'"test":"spinprint","result":"pass"']),
    (["syscallbench wall 10000"], {"syscallbench": 0}, [r'"bench":"syscall_null","level":"user","mode":"wall","unit":"ns"']),
    (["faultbench wall 256"], {"faultbench": 0},
     [r'"bench":"fault_zero_fill"', r'"bench":"fault_minor"', r'"bench":"fault_cow_copy"', r'"bench":"memcpy_1MiB"']),
    (["sbrkbench wall"], {"sbrkbench": 0},
     [r'"bench":"sbrk_touch_1MiB","level":"user","mode":"wall"', r'"bench":"sbrk_touch_64MiB"', r'"bench":"sbrk_touch_1GiB"']),
    (["stackbench wall"], {"stackbench": 0}, [r'"bench":"stack_growth","level":"user","mode":"wall"']),
    (["sh -c echo a\\ b 'c  d' ; cat /nope ; echo st=$? ; cd /boot ; ls -l ; stat sh ; cd .. ; pwd ; nope ; exit 7"],
     {"sh": 7}, [r"(?m)^a b c d$", r"cat: /nope: No such file or directory", r"(?m)^st=1$",
                 r"(?m)^-r.x.*\d+ sh$", r"File: sh", r"(?m)^/$", r"sh: nope: command not found"]),
    (["sh -c write f one two ; cat f ; ls ; exit"], {"sh": 0}, [r"(?m)^one two$", r"(?m)^f$"]),
    (["sh -c echo 'open"], {"sh": 2}, [r"unterminated '"]),
    (["malloc-stress 20000"], {"malloc-stress": 0}, [r'"test":"malloc-stress","result":"pass"']),
    (["sbrk-stress 16M 2"], {"sbrk-stress": 0}, [r'"test":"sbrk-stress","result":"pass"']),
    (["stack-stress"], {"stack-stress": 0}, [r'"test":"stack-stress","result":"pass"', r"setrlimit\(RLIMIT_STACK, 64 MiB\).*: ok", r"deeper recursion.*: ok"]),
    (["stack-stress overflow"], {"stack-stress": 139}, []),
    # mmaptest's full run needs /proc/self/maps and our layout: kernel only.
    *[([f"mmaptest {m}"], {"mmaptest": 139}, [])
      for m in ("unmapped", "readonly", "none", "noexec")],
    (["guard-test null"], {"guard-test": 139}, []),
    (["guard-test brk"], {"guard-test": 139}, []),
    # The stack cases need phantom-unix's layout: under Linux they skip (0).
    *[([f"guard-test {m}"], {"guard-test": 0}, [r"skipped"])
      for m in ("stack-top", "stack-limit", "stack-deep", "read-guard")],
]


def main():
    verbose = "-v" in sys.argv
    failed = 0
    for modules, want, patterns in CASES:
        label = " + ".join(repr(m) for m in modules)
        try:
            out = subprocess.run([sys.executable, EMU, *modules], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120,
                                 cwd=BIN).stdout.decode(errors="replace")
        except subprocess.TimeoutExpired:
            print(f"FAIL {label}: timeout")
            failed += 1
            continue
        exits = {}
        for m in re.finditer(r'\{"event":"exit",[^}]*\}', out):
            e = json.loads(m.group(0))
            exits[e["name"]] = e["status"]
        problems = [f"{name} exited {exits.get(name)} (want {st})"
                    for name, st in want.items() if exits.get(name) != st]
        problems += [f"no match for {p!r}" for p in patterns if not re.search(p, out)]
        if "NOT KILLED" in out and any(st >= 128 for st in want.values()):
            problems.append("NOT KILLED")
        if problems:
            failed += 1
            print(f"FAIL {label}: " + "; ".join(problems))
            if verbose:
                print(out)
        else:
            print(f"ok   {label}")
    print(f"emu-check: {len(CASES) - failed} of {len(CASES)} cases passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
