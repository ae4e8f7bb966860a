/*
 * phantom.h: the Phantom OS Unix ABI as a C program sees it, written from
 * Phantom's own headers (include/kernel/syscalls.h, include/sys/stat.h,
 * include/sys/utsname.h, include/dirent.h, include/sys/fcntl.h,
 * include/errno.h, include/sys/ioccom.h, include/time.h). Freestanding: no libc.
 * Used by phantom-abi-test.c, which checks that phantom-unix implements it.
 */
#ifndef PHANTOM_H
#define PHANTOM_H

typedef unsigned char u_int8_t;
typedef unsigned short u_int16_t;
typedef unsigned int u_int32_t;
typedef unsigned long long u_int64_t;
typedef unsigned int size_t;

/* include/phantom_types.h */
typedef unsigned int dev_t;
typedef unsigned int ino_t;
typedef unsigned short mode_t;
typedef int off_t;
typedef u_int64_t time_t;

/* include/kernel/syscalls.h ("Don't you ever change.") */
#define SYS__exit          0
#define SYS_ssyslog        1
#define SYS_getpagesize    2
#define SYS_personality    3
#define SYS_uname          4
#define SYS_sync           5
#define SYS_sleepmsec      16
#define SYS_time           18
#define SYS_gettid         32
#define SYS_getpid         33
#define SYS_getuid         34
#define SYS_getuid32       35
#define SYS_getpgid        36
#define SYS_getpgrp        37
#define SYS_getppid        38
#define SYS_getegid        39
#define SYS_geteuid        41
#define SYS_getgid         43
#define SYS_setgid         45
#define SYS_setuid         58
#define SYS_open           64
#define SYS_close          65
#define SYS_read           66
#define SYS_write          67
#define SYS_lseek          68
#define SYS_creat          69
#define SYS_fstat          98
#define SYS_readdir        117
#define SYS_stat           118
#define SYS_gethostname    128
#define SYS_sethostname    129
#define SYS_brk            256
#define SYS_ioctl          260
#define SYS_umask          263
#define SYS_madvise        512
#define SYS_mincore        513
#define SYS_mlock          514
#define SYS_mmap           516
#define SYS_mprotect       517
#define SYS_munmap         522

/* include/sys/fcntl.h */
#define O_RDONLY    0
#define O_WRONLY    1
#define O_RDWR      2
#define O_APPEND    0x0008
#define O_TEMPORARY 0x0040
#define O_CREAT     0x0100
#define O_TRUNC     0x0200
#define O_EXCL      0x0400

/* include/sys/unistd.h */
#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2

/* include/sys/stat.h */
#define S_IFIFO 0x1000
#define S_IFCHR 0x2000
#define S_IFDIR 0x4000
#define S_IFREG 0x8000
#define S_IFMT  0xF000

struct stat {
    dev_t st_dev;
    ino_t st_ino;
    mode_t st_mode;
    short st_nlink;
    short st_uid;
    short st_gid;
    dev_t st_rdev;
    off_t st_size;
    time_t st_atime;
    time_t st_mtime;
    time_t st_ctime;
};

/* include/sys/utsname.h */
#define _UTSNAME_LENGTH 257
struct utsname {
    char sysname[_UTSNAME_LENGTH];
    char nodename[_UTSNAME_LENGTH];
    char release[_UTSNAME_LENGTH];
    char version[_UTSNAME_LENGTH];
    char machine[_UTSNAME_LENGTH];
    char domainname[_UTSNAME_LENGTH];
};

/* include/dirent.h */
#define FILENAME_MAX 512
struct dirent {
    long d_ino;
    unsigned short d_reclen;
    unsigned short d_namlen;
    char d_name[FILENAME_MAX];
};

/* include/time.h */
struct timespec {
    long seconds;
    long nanoseconds;
};

/* include/sys/ioccom.h */
#define IOCPARM_MASK 0x1fff
#define IOC_VOID     0x20000000
#define IOC_OUT      0x40000000
#define IOC_IN       0x80000000
#define _IOC(inout, group, num, len) \
    ((unsigned long)(inout | ((len & IOCPARM_MASK) << 16) | ((group) << 8) | (num)))
#define _IOR(g, n, t) _IOC(IOC_OUT, (g), (n), sizeof(t))

/* BSD's TIOCGWINSZ (phantom-unix serves it on the console). */
struct winsize {
    unsigned short ws_row, ws_col, ws_xpixel, ws_ypixel;
};
#define TIOCGWINSZ _IOR('t', 104, struct winsize)

/* include/errno.h (BSD numbering) */
#define EPERM        1
#define ENOENT       2
#define EBADF        9
#define EDEADLK      11
#define ENOMEM       12
#define EFAULT       14
#define EEXIST       17
#define ENOTDIR      20
#define EISDIR       21
#define EINVAL       22
#define ENOTTY       25
#define ESPIPE       29
#define EAGAIN       35
#define ENAMETOOLONG 63
#define ENOTEMPTY    66
#define ENOSYS       78

/* mmap: Phantom numbers the calls but defines no flags; phantom-unix uses
 * Linux's values (docs/abi.md). */
#define PROT_READ     1
#define PROT_WRITE    2
#define MAP_PRIVATE   0x02
#define MAP_ANONYMOUS 0x20

#endif
