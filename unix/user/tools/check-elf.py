#!/usr/bin/env python3
"""check-elf: checks that user programs have the shape docs/abi.md and the
kernel's ELF loader want. For each file given:

- ELF32, little-endian, ET_EXEC, EM_386, version 1;
- no PT_INTERP, no PT_DYNAMIC, no PT_TLS;
- every PT_LOAD: p_offset ≡ p_vaddr (mod 4096), p_filesz ≤ p_memsz, not on
  page 0, below the stack region (0xC0000000), inside the file;
- no two PT_LOADs share a page (each starts on its own page);
- the entry point lies in an executable PT_LOAD;
- no segment is both writable and executable.

Prints one line per file; exits 1 if any check failed.
"""

import struct
import sys

PAGE = 4096
PT_LOAD, PT_DYNAMIC, PT_INTERP, PT_TLS = 1, 2, 3, 7
PF_X, PF_W = 1, 2


def check(path):
    data = open(path, "rb").read()
    errors = []
    if data[:4] != b"\x7fELF":
        return ["not an ELF file"]
    if data[4] != 1:
        errors.append("not ELF32")
    if data[5] != 1:
        errors.append("not little-endian")
    (e_type, e_machine, e_version, e_entry, e_phoff, _shoff, _flags, _ehsize,
     e_phentsize, e_phnum) = struct.unpack_from("<HHIIIIIHHH", data, 16)
    if e_type != 2:
        errors.append(f"e_type {e_type}, not ET_EXEC")
    if e_machine != 3:
        errors.append(f"e_machine {e_machine}, not EM_386")
    if e_version != 1:
        errors.append("e_version not 1")
    if e_phentsize != 32 or e_phoff + e_phnum * 32 > len(data):
        return errors + ["bad program header table"]
    loads = []
    for i in range(e_phnum):
        p_type, p_offset, p_vaddr, _paddr, p_filesz, p_memsz, p_flags, p_align = \
            struct.unpack_from("<IIIIIIII", data, e_phoff + i * 32)
        if p_type in (PT_INTERP, PT_DYNAMIC, PT_TLS):
            errors.append(f"phdr {i}: type {p_type} (interp/dynamic/tls) not allowed")
        if p_type != PT_LOAD:
            continue
        if p_offset % PAGE != p_vaddr % PAGE:
            errors.append(f"phdr {i}: offset {p_offset:#x} not congruent to vaddr {p_vaddr:#x}")
        if p_filesz > p_memsz:
            errors.append(f"phdr {i}: filesz > memsz")
        if p_vaddr < PAGE:
            errors.append(f"phdr {i}: on page 0")
        if p_vaddr + p_memsz > 0xC000_0000:
            errors.append(f"phdr {i}: reaches the stack region")
        if p_offset + p_filesz > len(data):
            errors.append(f"phdr {i}: past the end of the file")
        if p_flags & PF_W and p_flags & PF_X:
            errors.append(f"phdr {i}: writable and executable")
        if p_memsz:
            loads.append((p_vaddr // PAGE, (p_vaddr + p_memsz - 1) // PAGE, p_flags, i))
    loads.sort()
    for (a0, a1, _, i), (b0, _b1, _, j) in zip(loads, loads[1:]):
        if b0 <= a1:
            errors.append(f"phdrs {i} and {j} share page {b0 * PAGE:#x}")
    if not any(lo * PAGE <= e_entry <= hi * PAGE + PAGE - 1 and f & PF_X for lo, hi, f, _ in loads):
        errors.append(f"entry {e_entry:#x} not in an executable segment")
    return errors


def main():
    bad = 0
    for path in sys.argv[1:]:
        errors = check(path)
        if errors:
            bad += 1
            print(f"check-elf: {path}: " + "; ".join(errors))
        else:
            print(f"check-elf: {path}: ok")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
