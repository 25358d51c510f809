/* fault_guard.c - a file cut short under a memory map ends the program with
 * one line naming it, never with a signal.
 *
 * pread makes a cut file a clear error (a short read), but some ways in
 * map it: `reduce`'s EDGEGRID_INGEST=auto where a map was timed faster,
 * EDGEGRID_INGEST=map, and the structured paths that gather across a file
 * too large to copy (README, "How files are read").
 * A page of a mapped file that another process truncated raises SIGBUS in
 * whichever thread touches it, POCL's included, and no library can answer
 * that safely; the program owns the process and can.  The engine catches
 * most cuts itself (a range that MADV_POPULATE_READ finds gone is its
 * ordinary changed-file error); this handler takes the rest: it finds the
 * faulting address's mapping in /proc/self/maps, writes what happened with
 * async-signal-safe calls only (open, read, stat, write) and exits 1.  A
 * SIGBUS anywhere else is left to its default action: the fault repeats
 * and the process dies as before, with a core where one is kept. */
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* Where a line is built: no malloc or stdio in a handler. */
typedef struct line {
    char b[4608];
    size_t n;
} line;

static void put(line *l, const char *s)
{
    while (*s && l->n < sizeof l->b - 1)
        l->b[l->n++] = *s++;
}

static void put_u64(line *l, uint64_t v)
{
    char d[21];
    size_t k = sizeof d;
    d[--k] = '\0';
    do
        d[--k] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    put(l, d + k);
}

/* Reads a hex number; returns the first character after it. */
static const char *hex(const char *s, uint64_t *v)
{
    *v = 0;
    for (;; s++) {
        char c = *s;
        unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                                            : 16u;
        if (d == 16)
            return s;
        *v = *v << 4 | d;
    }
}

/* One line of /proc/self/maps ("lo-hi perms offset dev inode path"):
 * whether it maps addr from a file, and then the path and the file byte. */
static int maps_line(const char *s, uint64_t addr, char *path, size_t cap,
                     uint64_t *at)
{
    uint64_t lo, hi, off = 0;
    s = hex(s, &lo);
    if (*s != '-')
        return 0;
    s = hex(s + 1, &hi);
    if (addr < lo || addr >= hi)
        return 0;
    for (int field = 0; field < 4; field++) { /* perms offset dev inode */
        while (*s == ' ')
            s++;
        if (field == 1)
            hex(s, &off);
        while (*s && *s != ' ')
            s++;
    }
    while (*s == ' ')
        s++;
    if (*s != '/')
        return 0; /* anonymous memory, a stack, [vdso]: not a file */
    size_t n = strlen(s);
    if (n >= cap)
        n = cap - 1;
    memcpy(path, s, n);
    path[n] = '\0';
    *at = off + (addr - lo);
    return 1;
}

/* The file mapped at addr: its path and the byte addr stands for. */
static int mapping_of(uint64_t addr, char *path, size_t cap, uint64_t *at)
{
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    char buf[8192];
    size_t have = 0;
    int found = 0;
    for (;;) {
        ssize_t got = read(fd, buf + have, sizeof buf - 1 - have);
        if (got <= 0)
            break;
        have += (size_t)got;
        size_t start = 0;
        for (size_t i = 0; i < have && !found; i++)
            if (buf[i] == '\n') {
                buf[i] = '\0';
                found = maps_line(buf + start, addr, path, cap, at);
                start = i + 1;
            }
        if (found)
            break;
        if (start == 0 && have == sizeof buf - 1)
            start = have; /* a line longer than the buffer: not a path */
        memmove(buf, buf + start, have - start);
        have -= start;
    }
    close(fd);
    return found;
}

static void on_sigbus(int sig, siginfo_t *si, void *ctx)
{
    (void)ctx;
    /* Threads that fault beside the first wait for its exit. */
    static atomic_flag reporting = ATOMIC_FLAG_INIT;
    static const char deleted[] = " (deleted)";
    char path[4096];
    uint64_t at = 0;
    if (si->si_code == BUS_ADRERR &&
        mapping_of((uint64_t)(uintptr_t)si->si_addr, path, sizeof path, &at)) {
        if (atomic_flag_test_and_set(&reporting))
            for (;;)
                pause();
        size_t n = strlen(path), dn = sizeof deleted - 1;
        int gone = n > dn && strcmp(path + n - dn, deleted) == 0;
        if (gone)
            path[n - dn] = '\0';
        struct stat now;
        int have = !gone && stat(path, &now) == 0;
        line l = {.n = 0};
        put(&l, "edgegrid: ");
        put(&l, path);
        if (have && (uint64_t)now.st_size > at) {
            /* still long enough: the disk failed, the file did not shrink */
            put(&l, ": an I/O error while it was mapped, at byte ");
        } else {
            put(&l, ": the file changed while it was read: ");
            if (have) {
                put(&l, "truncated to ");
                put_u64(&l, (uint64_t)now.st_size);
                put(&l, " bytes");
            } else {
                put(&l, "removed or replaced");
            }
            put(&l, " while mapped, read up to byte ");
        }
        put_u64(&l, at);
        put(&l, "\n");
        ssize_t w = write(STDERR_FILENO, l.b, l.n);
        (void)w;
        _exit(CLI_EXIT_FAIL);
    }
    /* Not a mapped file's: the default action, taken when the faulting
     * access repeats on return. */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigaction(sig, &dfl, NULL);
}

void cli_guard_mapped_files(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    (void)sigaction(SIGBUS, &sa, NULL);
}
