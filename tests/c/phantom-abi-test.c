/*
 * phantom-abi-test: a freestanding C program built the way Phantom builds its
 * own (gcc -m32 -static -nostdlib, linked at address 0) against phantom.h,
 * written from Phantom's headers. It checks every layout and value of the
 * native ABI that the one-ABI issue lists: syscall numbers, struct stat (48
 * bytes), struct utsname (6 x 257), the 64-bit time_t of time(), Phantom's open
 * flags, readdir (117) with Phantom's 520-byte dirent, the four-argument
 * ioctl, BSD errno values in edx, mmap/mprotect/munmap on 516/517/522 and
 * ENOSYS on 513/514, the simple calls, and page 0 (skipped when it holds only
 * the headers; mapped, as its text, when code starts there: -DPAGE0_CODE).
 *
 * Output: one line per check, then {"test":"phantom-c-abi",...}; exit status
 * 0 when every check passed.
 */
#include "phantom.h"

/* Phantom's stub: movl $SYS_x, %eax; lcall $0x7, $0; ret. Declared as
 * returning long long, so the C caller sees edx:eax: errno, value. */
#define STUB(name, nr)                                              \
    __asm__(".text\n.globl " #name "\n.type " #name ",@function\n" \
            #name ":\n\tmovl $" #nr ", %eax\n\tlcall $7, $0\n\tret\n");

STUB(sys_exit, 0)
STUB(sys_ssyslog, 1)
STUB(sys_getpagesize, 2)
STUB(sys_personality, 3)
STUB(sys_uname, 4)
STUB(sys_sync, 5)
STUB(sys_sleepmsec, 16)
STUB(sys_time, 18)
STUB(sys_gettid, 32)
STUB(sys_getpid, 33)
STUB(sys_getuid, 34)
STUB(sys_getgid, 43)
STUB(sys_getpgrp, 37)
STUB(sys_setuid, 58)
STUB(sys_open, 64)
STUB(sys_close, 65)
STUB(sys_read, 66)
STUB(sys_write, 67)
STUB(sys_lseek, 68)
STUB(sys_creat, 69)
STUB(sys_fstat, 98)
STUB(sys_readdir, 117)
STUB(sys_stat, 118)
STUB(sys_gethostname, 128)
STUB(sys_sethostname, 129)
STUB(sys_ioctl, 260)
STUB(sys_umask, 263)
STUB(sys_mincore, 513)
STUB(sys_mlock, 514)
STUB(sys_mmap, 516)
STUB(sys_mprotect, 517)
STUB(sys_munmap, 522)
STUB(sys_unknown, 4000)

long long sys_exit(int status);
long long sys_ssyslog(int level, const char *msg);
long long sys_getpagesize(void);
long long sys_personality(unsigned persona);
long long sys_uname(struct utsname *u);
long long sys_sync(void);
long long sys_sleepmsec(int msec);
long long sys_time(time_t *t);
long long sys_gettid(void);
long long sys_getpid(void);
long long sys_getuid(void);
long long sys_getgid(void);
long long sys_getpgrp(void);
long long sys_setuid(int id);
long long sys_open(const char *path, int flags, int mode);
long long sys_close(int fd);
long long sys_read(int fd, void *buf, size_t n);
long long sys_write(int fd, const void *buf, size_t n);
long long sys_lseek(int fd, int off, int whence);
long long sys_creat(const char *path, int mode);
long long sys_fstat(int fd, struct stat *st);
long long sys_readdir(int fd, struct dirent *e);
long long sys_stat(const char *path, struct stat *st);
long long sys_gethostname(char *buf, int len);
long long sys_sethostname(const char *name, int len);
long long sys_ioctl(int fd, int request, void *data, size_t len);
long long sys_umask(int mask);
long long sys_mincore(void *addr, size_t len, unsigned char *vec);
long long sys_mlock(void *addr, size_t len);
long long sys_mmap(void *addr, size_t len, int prot, int flags, int fd, int off);
long long sys_mprotect(void *addr, size_t len, int prot);
long long sys_munmap(void *addr, size_t len);
long long sys_unknown(void);

#define VAL(r) ((int)(r))
#define ERR(r) ((int)((unsigned long long)(r) >> 32))

/* gcc may emit calls to these for structure copies and initialisers. */
void *memset(void *d, int c, size_t n) {
    unsigned char *p = d;
    while (n--) *p++ = (unsigned char)c;
    return d;
}
void *memcpy(void *d, const void *s, size_t n) {
    unsigned char *p = d;
    const unsigned char *q = s;
    while (n--) *p++ = *q++;
    return d;
}
static size_t slen(const char *s) {
    size_t n = 0;
    while (s[n]) n++;
    return n;
}
static int seq(const char *a, const char *b) {
    while (*a && *a == *b) a++, b++;
    return *a == *b;
}
static int starts(const char *s, const char *prefix) {
    while (*prefix)
        if (*s++ != *prefix++) return 0;
    return 1;
}
static void puts1(const char *s) { sys_write(1, s, slen(s)); }
static void putnum(unsigned v) {
    char b[12];
    int i = 11;
    b[i] = 0;
    do b[--i] = (char)('0' + v % 10); while ((v /= 10) && i);
    puts1(b + i);
}

static unsigned checks, failures;
static const char *failed_first;

static void check(const char *what, int ok) {
    checks++;
    puts1("phantom-c: ");
    puts1(what);
    puts1(ok ? ": ok\n" : ": FAIL\n");
    if (!ok && !failures++) failed_first = what;
}

/* A struct with a canary after it: the kernel must write exactly sizeof. */
#define CANARY 0x5a5a5a5au

static const char *base_name(const char *p) {
    const char *b = p;
    for (; *p; p++)
        if (*p == '/') b = p + 1;
    return b;
}

static char maps[8192];

__attribute__((force_align_arg_pointer, noreturn)) void _start(int argc, char **argv) {
    const char *self = argc > 0 ? base_name(argv[0]) : "phantom-abi-test";
    char path[300] = "/boot/";
    memcpy(path + 6, self, slen(self) + 1);

    /* Layouts, as the compiler lays them out from phantom.h. */
    check("sizeof(struct stat) == 48", sizeof(struct stat) == 48);
    check("st_atime at 24, st_ctime at 40",
          __builtin_offsetof(struct stat, st_atime) == 24 &&
              __builtin_offsetof(struct stat, st_ctime) == 40);
    check("sizeof(struct utsname) == 1542", sizeof(struct utsname) == 1542);
    check("sizeof(struct dirent) == 520", sizeof(struct dirent) == 520);
    check("sizeof(time_t) == 8", sizeof(time_t) == 8);

    /* Basics. */
    check("getpagesize() == 4096", VAL(sys_getpagesize()) == 4096);
    check("getpid() > 0", VAL(sys_getpid()) > 0);
    check("gettid() == getpid()", VAL(sys_gettid()) == VAL(sys_getpid()));
    check("getuid() == getgid() == 0", VAL(sys_getuid()) == 0 && VAL(sys_getgid()) == 0);
    check("setuid(0) == 0", sys_setuid(0) == 0);
    check("getpgrp() == getpid()", VAL(sys_getpgrp()) == VAL(sys_getpid()));
    check("personality(0xffffffff) == 0", sys_personality(0xffffffffu) == 0);
    check("sync() == 0", sys_sync() == 0);
    check("ssyslog(6, msg) == 0", sys_ssyslog(6, "phantom-abi-test: hello from C") == 0);
    check("sleepmsec(10) == 0", sys_sleepmsec(10) == 0);
    {
        int old = VAL(sys_umask(077));
        check("umask: old value returned", VAL(sys_umask(old)) == 077);
    }

    /* struct stat: 48 bytes, nothing more. */
    {
        struct { struct stat st; unsigned canary; } s;
        s.canary = CANARY;
        long long r = sys_stat(path, &s.st);
        check("stat(/boot/self) == 0", r == 0);
        check("stat: a regular file", (s.st.st_mode & S_IFMT) == S_IFREG);
        check("stat: size beyond the ELF header", s.st.st_size > 52);
        check("stat: writes 48 bytes, not 64", s.canary == CANARY);
        int fd = VAL(sys_open(path, O_RDONLY, 0));
        struct { struct stat st; unsigned canary; } f;
        f.canary = CANARY;
        check("fstat == stat", sys_fstat(fd, &f.st) == 0 && f.st.st_size == s.st.st_size &&
                                   f.st.st_ino == s.st.st_ino && f.canary == CANARY);
        check("lseek(fd, 0, SEEK_END) == st_size", VAL(sys_lseek(fd, 0, SEEK_END)) == s.st.st_size);
        check("lseek whence 7: EINVAL (22)", ERR(sys_lseek(fd, 0, 7)) == EINVAL);
        sys_close(fd);
        check("close(fd) twice: EBADF (9)", ERR(sys_close(fd)) == EBADF);
        long long miss = sys_stat("/boot/no-such-file", &s.st);
        check("stat of a missing file: -1, ENOENT (2)", VAL(miss) == -1 && ERR(miss) == ENOENT);
    }

    /* struct utsname: six fields of 257 bytes. */
    {
        struct { struct utsname u; unsigned canary; } s;
        s.canary = CANARY;
        check("uname() == 0", sys_uname(&s.u) == 0);
        check("uname: sysname set", s.u.sysname[0] != 0);
        check("uname: machine i686 at offset 1028", seq(s.u.machine, "i686"));
        check("uname: writes 1542 bytes, nothing more", s.canary == CANARY);
    }

    /* time(): a 64-bit time_t. */
    {
        struct { time_t t; unsigned canary; } s;
        s.t = 0xffffffffffffffffull;
        s.canary = CANARY;
        long long r = sys_time(&s.t);
        check("time(&t): eax is the low half of t", (unsigned)VAL(r) == (unsigned)s.t);
        check("time(&t): all 8 bytes stored", (s.t >> 32) == 0);
        check("time(&t): nothing past them", s.canary == CANARY);
    }

    /* Phantom's open flags on /tmp. */
    {
        const char *f = "/tmp/phantom-c";
        check("O_TEMPORARY (0x40, Linux's O_CREAT) does not create",
              ERR(sys_open(f, O_WRONLY | O_TEMPORARY, 0644)) == ENOENT);
        int fd = VAL(sys_open(f, O_CREAT | O_WRONLY, 0644));
        check("O_CREAT (0x100) creates", fd >= 0);
        check("write 3 bytes", VAL(sys_write(fd, "abc", 3)) == 3);
        sys_close(fd);
        check("O_CREAT|O_EXCL on it: EEXIST (17)",
              ERR(sys_open(f, O_CREAT | O_EXCL | O_WRONLY, 0644)) == EEXIST);
        fd = VAL(sys_open(f, O_WRONLY | O_APPEND, 0));
        sys_lseek(fd, 0, SEEK_SET);
        check("O_APPEND (0x8) appends", VAL(sys_write(fd, "de", 2)) == 2);
        sys_close(fd);
        struct stat st;
        check("size 5 after the append", sys_stat(f, &st) == 0 && st.st_size == 5);
        fd = VAL(sys_open(f, O_WRONLY | O_TRUNC, 0));
        check("O_TRUNC (0x200) truncates", sys_fstat(fd, &st) == 0 && st.st_size == 0);
        sys_close(fd);
        fd = VAL(sys_creat(f, 0644));
        check("creat() opens for writing", fd >= 0 && VAL(sys_write(fd, "x", 1)) == 1);
        char c;
        check("read on creat's fd: EBADF", ERR(sys_read(fd, &c, 1)) == EBADF);
        sys_close(fd);
        char longname[300] = "/tmp/";
        for (int i = 5; i < 5 + 280; i++) longname[i] = 'n';
        longname[285] = 0;
        check("a 280-byte name: ENAMETOOLONG (63)",
              ERR(sys_open(longname, O_CREAT | O_WRONLY, 0644)) == ENAMETOOLONG);
        check("open(/boot, O_WRONLY): EISDIR (21)", ERR(sys_open("/boot", O_WRONLY, 0)) == EISDIR);
    }

    /* readdir (117): one Phantom dirent per call, 1 / 0 at the end. */
    {
        int fd = VAL(sys_open("/boot", O_RDONLY, 0));
        struct { struct dirent e; unsigned canary; } d;
        int entries = 0, found = 0, clean = 1;
        long long r;
        for (;;) {
            d.canary = CANARY;
            r = sys_readdir(fd, &d.e);
            if (VAL(r) != 1) break;
            entries++;
            if (d.e.d_name[d.e.d_namlen] != 0 || slen(d.e.d_name) != d.e.d_namlen) clean = 0;
            if (d.canary != CANARY) clean = 0;
            if (seq(d.e.d_name, self)) found = 1;
        }
        check("readdir: 0 at the end, no error", r == 0);
        check("readdir: entries NUL-terminated, d_namlen right, 520 bytes", clean && entries >= 3);
        check("readdir: lists this program", found);
        check("readdir at the end stays at the end", sys_readdir(fd, &d.e) == 0);
        sys_close(fd);
        int file = VAL(sys_open(path, O_RDONLY, 0));
        check("readdir on a file: ENOTDIR (20)", ERR(sys_readdir(file, &d.e)) == ENOTDIR);
        sys_close(file);
    }

    /* ioctl: four arguments, BSD-encoded requests. */
    {
        struct winsize w;
        check("TIOCGWINSZ is BSD-encoded (0x40087468)", TIOCGWINSZ == 0x40087468u);
        check("ioctl(1, TIOCGWINSZ, &w, 8) == 0",
              sys_ioctl(1, TIOCGWINSZ, &w, sizeof w) == 0 && w.ws_col == 80);
        check("ioctl with len 4 < 8: EINVAL", ERR(sys_ioctl(1, TIOCGWINSZ, &w, 4)) == EINVAL);
        check("Linux's TIOCGWINSZ (0x5413): ENOTTY (25)",
              ERR(sys_ioctl(1, 0x5413, &w, sizeof w)) == ENOTTY);
    }

    /* The mmap group at Phantom's numbers. */
    {
        long long r = sys_mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        char *p = (char *)VAL(r);
        check("mmap (516) maps anonymous memory", ERR(r) == 0 && p != 0);
        p[0] = 'x';
        p[8191] = 'y';
        check("the mapping is writable", p[0] == 'x' && p[8191] == 'y');
        check("mprotect (517) == 0", sys_mprotect(p, 4096, PROT_READ) == 0);
        check("munmap (522) == 0", sys_munmap(p, 8192) == 0);
        check("mincore (513) is not mmap: ENOSYS (78)", ERR(sys_mincore(p, 4096, 0)) == ENOSYS);
        check("mlock (514) is not mprotect: ENOSYS (78)", ERR(sys_mlock(p, 4096)) == ENOSYS);
        long long u = sys_unknown();
        check("an unknown number: -1, ENOSYS (78)", VAL(u) == -1 && ERR(u) == ENOSYS);
    }

    /* Host name (128, 129). */
    {
        char b[64];
        check("sethostname(\"cbox\", 4) == 0", sys_sethostname("cboxzz", 4) == 0);
        check("gethostname == \"cbox\"", sys_gethostname(b, sizeof b) == 0 && seq(b, "cbox"));
        check("gethostname with no room for the NUL: ENAMETOOLONG",
              ERR(sys_gethostname(b, 4)) == ENAMETOOLONG);
        struct utsname u;
        sys_uname(&u);
        check("uname's nodename is the host name", seq(u.nodename, "cbox"));
        sys_sethostname("phantom", 7);
    }

    /* Page 0. */
    {
        int fd = VAL(sys_open("/proc/self/maps", O_RDONLY, 0));
        int n = 0, r;
        while (n < (int)sizeof maps - 1 && (r = VAL(sys_read(fd, maps + n, sizeof maps - 1 - n))) > 0)
            n += r;
        maps[n] = 0;
        sys_close(fd);
#ifdef PAGE0_CODE
        unsigned word;
        __asm__ volatile("movl 0, %0" : "=r"(word));
        check("code on page 0: page 0 is mapped, the ELF header is there", word == 0x464c457fu);
        check("/proc/self/maps says page 0 is mapped",
              starts(maps, "00000000-") && starts(maps + 49, "[text: page 0 mapped"));
#else
        check("headers-only page 0 skipped: nothing mapped at 0", !starts(maps, "00000000-"));
        check("the text is at 0x1000", starts(maps, "00001000-"));
#endif
    }

    if (failures) {
        puts1("{\"test\":\"phantom-c-abi\",\"result\":\"fail\",\"detail\":\"");
        putnum(failures);
        puts1(" of ");
        putnum(checks);
        puts1(" failed, first: ");
        puts1(failed_first);
        puts1("\"}\n");
    } else {
        puts1("{\"test\":\"phantom-c-abi\",\"result\":\"pass\",\"detail\":\"");
        putnum(checks);
        puts1(" checks passed\"}\n");
    }
    sys_exit(failures ? 1 : 0);
    for (;;) {
    }
}
