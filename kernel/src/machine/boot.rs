//! The Multiboot 1 header and the 32-bit entry stub that enters long mode.
//!
//! QEMU's `-kernel` loads Multiboot 1 images only, and refuses ELF64 unless
//! the header carries the load addresses itself (flag bit 16, the "a.out
//! kludge"). The stub runs identity-mapped at 1 MiB in 32-bit protected mode:
//! it records the TSC, zeroes `.bss`, builds the boot page tables (identity
//! map and direct map of the first 4 GiB, the kernel's 2 GiB at
//! `KERNEL_VMA`, all with 2 MiB pages), enables PAE, long mode and NX, and
//! jumps to [`super::kernel_entry`] in the higher half with the loader's
//! magic and information address.

use core::arch::global_asm;

/// Where the kernel image is linked (the top 2 GiB of the address space).
pub const KERNEL_VMA: u64 = 0xFFFF_FFFF_8000_0000;
/// Where all physical memory is mapped (the first 4 GiB by the boot stub).
pub const DIRECT_MAP: u64 = 0xFFFF_8000_0000_0000;
/// How much physical memory the direct map covers.
pub const DIRECT_MAP_SIZE: u64 = 4 << 30;

/// Boot stack size; the stub's and then the kernel's initial thread's.
pub const BOOT_STACK_SIZE: usize = 64 * 1024;

global_asm!(
    r#"
    .set MB_MAGIC, 0x1BADB002
    .set MB_FLAGS, (1 << 0) | (1 << 1) | (1 << 16)
    .set KERNEL_VMA, 0xFFFFFFFF80000000

    .section .multiboot_header, "a"
    .balign 4
mb_header:
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)
    .long mb_header
    .long __image_start_phys
    .long __load_end_phys
    .long __bss_end_phys
    .long _start32

    .section .boot, "ax"
    .code32
    .global _start32
_start32:
    cli
    cld
    mov edi, eax
    mov esi, ebx
    rdtsc
    mov [boot_tsc - KERNEL_VMA], eax
    mov [boot_tsc - KERNEL_VMA + 4], edx

    /* Zero .bss (the loader should, but the stub's tables live there). */
    mov eax, offset __load_end_phys
    mov ecx, offset __bss_end_phys
    sub ecx, eax
    push edi
    mov edi, eax
    xor eax, eax
    rep stosb
    pop edi

    mov esp, offset boot_stack_top - KERNEL_VMA

    /* Long mode needs CPUID leaf 0x80000001 with LM (bit 29). */
    mov eax, 0x80000000
    cpuid
    cmp eax, 0x80000001
    jb no_long_mode
    mov eax, 0x80000001
    cpuid
    test edx, 1 << 29
    jz no_long_mode
    mov ebp, edx            /* keep the NX bit (20) for later */

    /* boot_pd: four tables of 512 2-MiB pages, the first 4 GiB. */
    mov ecx, 0
1:
    mov eax, ecx
    shl eax, 21
    or eax, 0x83            /* present | writable | huge */
    mov edx, ecx
    shr edx, 11             /* high dword of ecx * 2 MiB */
    mov [boot_pd - KERNEL_VMA + ecx * 8], eax
    mov [boot_pd - KERNEL_VMA + ecx * 8 + 4], edx
    inc ecx
    cmp ecx, 2048
    jne 1b

    /* boot_pdpt_low: 4 entries -> boot_pd tables (identity and direct map). */
    mov ecx, 0
2:
    mov eax, ecx
    shl eax, 12
    add eax, offset boot_pd - KERNEL_VMA
    or eax, 0x3
    mov [boot_pdpt_low - KERNEL_VMA + ecx * 8], eax
    inc ecx
    cmp ecx, 4
    jne 2b

    /* boot_pdpt_high[510..512] -> first 2 GiB (the kernel at -2 GiB). */
    mov eax, offset boot_pd - KERNEL_VMA
    or eax, 0x3
    mov [boot_pdpt_high - KERNEL_VMA + 510 * 8], eax
    add eax, 0x1000
    mov [boot_pdpt_high - KERNEL_VMA + 511 * 8], eax

    mov eax, offset boot_pdpt_low - KERNEL_VMA
    or eax, 0x3
    mov [boot_pml4 - KERNEL_VMA], eax
    mov [boot_pml4 - KERNEL_VMA + 256 * 8], eax
    mov eax, offset boot_pdpt_high - KERNEL_VMA
    or eax, 0x3
    mov [boot_pml4 - KERNEL_VMA + 511 * 8], eax

    mov eax, offset boot_pml4 - KERNEL_VMA
    mov cr3, eax

    mov eax, cr4
    or eax, 1 << 5          /* PAE */
    mov cr4, eax

    mov ecx, 0xC0000080     /* EFER */
    rdmsr
    or eax, 1 << 8          /* LME */
    test ebp, 1 << 20
    jz 3f
    or eax, 1 << 11         /* NXE */
3:
    wrmsr

    mov eax, cr0
    or eax, (1 << 31) | (1 << 16) | 1   /* PG | WP | PE */
    mov cr0, eax

    lgdt [boot_gdt_pointer]
    /* jmp far 0x08:start64_low, encoded by hand (ptr16:32 form) */
    .byte 0xea
    .long start64_low
    .word 0x08

no_long_mode:
    mov dx, 0x3f8
    mov esi, offset no_long_mode_message
4:
    lodsb
    test al, al
    jz 5f
    out dx, al
    jmp 4b
5:
    mov dx, 0xf4
    mov eax, 3
    out dx, eax
6:
    hlt
    jmp 6b

    .code64
start64_low:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor ax, ax
    mov fs, ax
    mov gs, ax
    movabs rax, offset start64_high
    jmp rax

    .balign 8
boot_gdt:
    .quad 0
    .quad 0x00AF9A000000FFFF    /* 0x08: kernel code, 64-bit */
    .quad 0x00CF92000000FFFF    /* 0x10: kernel data */
boot_gdt_end:
boot_gdt_pointer:
    .word boot_gdt_end - boot_gdt - 1
    .long boot_gdt

no_long_mode_message:
    .asciz "phantom-unix: this CPU has no long mode\n"

    .section .text.start64, "ax"
start64_high:
    movabs rsp, offset boot_stack_top
    xor rbp, rbp
    /* edi = magic, esi = info address (zero-extended by the 32-bit moves) */
    mov edi, edi
    mov esi, esi
    call {entry}
7:
    cli
    hlt
    jmp 7b

    .section .bss.boot, "aw", @nobits
    .balign 4096
    .global boot_pml4
boot_pml4:
    .skip 4096
boot_pdpt_low:
    .skip 4096
    .global boot_pdpt_high
boot_pdpt_high:
    .skip 4096
    .global boot_pd
boot_pd:
    .skip 4096 * 4
    /* A page left unmapped once the image is remapped (kmap): the boot
       stack's overflow faults there instead of running into boot_pd. */
    .balign 4096
    .global boot_stack_guard
boot_stack_guard:
    .skip 4096
boot_stack_bottom:
    .skip {stack_size}
    .global boot_stack_top
boot_stack_top:

    .section .data.boot_tsc, "aw"
    .balign 8
    .global boot_tsc
boot_tsc:
    .quad 0
    "#,
    entry = sym super::kernel_entry,
    stack_size = const BOOT_STACK_SIZE,
);

extern "C" {
    static boot_tsc: u64;
    static mut boot_pml4: u8;
}

/// The TSC value the stub read at its first instruction.
pub fn entry_tsc() -> u64 {
    // SAFETY: `boot_tsc` is written once by the boot stub before any Rust
    // code runs and never again; reading it is a plain load.
    unsafe { core::ptr::read_volatile(&raw const boot_tsc) }
}

/// Removes the boot stub's identity map of the low 4 GiB: from here on the
/// low half belongs to user address spaces, and a stray low pointer in the
/// kernel faults instead of reading physical memory.
pub fn drop_identity_map() {
    // SAFETY: the kernel runs only in the higher half (code, .bss stack, the
    // direct map), so nothing live points into the identity map; the CR3
    // reload flushes its cached translations.
    unsafe {
        let pml4 = &raw mut boot_pml4 as *mut u64;
        core::ptr::write_volatile(pml4, 0);
        x86::controlregs::cr3_write(x86::controlregs::cr3());
    }
}

/// The kernel's own PML4 (physical), whose upper half every address space shares.
pub fn kernel_pml4_phys() -> u64 {
    (&raw const boot_pml4) as u64 - KERNEL_VMA
}
