/* test_regressions.c - hostile inputs that once got through, each replayed
 * through the engine API: what the fuzzers (tests/fuzz/) and the bad-input
 * catalogue (tests/cli/test_bad_input_catalogue.py) found, plus a check that
 * the committed fuzz seeds still match this build's formats.
 *
 * A fuzzer finding goes here as the exact bytes of its crash file and the
 * assertion that the module now refuses (or correctly handles) them. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "edgegrid.h"
#include "npy.h"
#include "source.h"
#include "state.h"

/* The folder of this file, where the fuzz corpus lives (CMake compiles
 * with absolute paths). */
static void tests_dir(char *out, size_t cap)
{
    snprintf(out, cap, "%s", __FILE__);
    char *slash = strrchr(out, '/');
    if (slash)
        *slash = '\0';
}

/* --------------------------------------------------------- inputs */

/* /dev/zero as a path was read until memory ran out (catalogue). */
Test(regressions, character_device_path_is_refused)
{
    eg_source *src = NULL;
    eg_error err = {0};
    eg_input_opts raw = {1, EG_U8};
    cr_assert_eq(eg_source_open(&src, "/dev/zero", &raw, &err), EG_EINPUT);
    cr_assert(strstr(err.msg, "/dev/zero: is a character device"), "%s",
              err.msg);
    cr_assert_null(src);
}

/* A pipe that never ends (stdin from /dev/zero) stops at the stdin limit
 * with bad input, instead of exhausting memory. */
Test(regressions, endless_pipe_stops_at_the_stdin_limit)
{
    setenv("EDGEGRID_MAX_STDIN", "64Ki", 1);
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t child = fork();
    cr_assert_geq(child, 0);
    if (child == 0) {
        /* writes until the reader gives up (SIGPIPE ends it) */
        close(fds[0]);
        char zeros[4096] = {0};
        for (;;)
            if (write(fds[1], zeros, sizeof zeros) < 0)
                _exit(0);
    }
    close(fds[1]);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fds[0]);
    eg_source *src = NULL;
    eg_error err = {0};
    eg_input_opts raw = {1, EG_U8};
    cr_assert_eq(eg_source_open(&src, path, &raw, &err), EG_EINPUT);
    cr_assert(strstr(err.msg, "more than 65536 bytes"), "%s", err.msg);
    cr_assert(strstr(err.msg, "EDGEGRID_MAX_STDIN"), "%s", err.msg);
    close(fds[0]);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);

    /* exactly the limit is fine */
    setenv("EDGEGRID_MAX_STDIN", "3", 1);
    cr_assert_eq(pipe(fds), 0);
    cr_assert_eq(write(fds[1], "abc", 3), 3);
    close(fds[1]);
    snprintf(path, sizeof path, "/proc/self/fd/%d", fds[0]);
    cr_assert_eq(eg_source_open(&src, path, &raw, &err), EG_OK, "%s",
                 err.msg);
    cr_assert_eq(eg_source_info(src)->count, 3);
    eg_source_close(&src);
    close(fds[0]);
}

Test(regressions, bad_stdin_limit_is_a_usage_error)
{
    const char *bad[] = {"x", "-1", "1Qi", "1e9", " 5", "99999999999999999999",
                         "17179869184Ti"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv("EDGEGRID_MAX_STDIN", bad[i], 1);
        int fds[2];
        cr_assert_eq(pipe(fds), 0);
        close(fds[1]);
        char path[64];
        snprintf(path, sizeof path, "/proc/self/fd/%d", fds[0]);
        eg_source *src = NULL;
        eg_error err = {0};
        eg_input_opts raw = {1, EG_U8};
        cr_assert_eq(eg_source_open(&src, path, &raw, &err), EG_EUSAGE,
                     "EDGEGRID_MAX_STDIN=%s", bad[i]);
        cr_assert(strstr(err.msg, "EDGEGRID_MAX_STDIN"), "%s", err.msg);
        close(fds[0]);
    }
}

/* A chunk size far larger than the input (through the API: the CLI caps
 * --chunk) once sized the byte-swap scratch as chunk * itemsize, which
 * wraps for chunk >= 2^61 and left a tiny buffer for the swapped copy. */
Test(regressions, huge_chunk_on_big_endian_input)
{
    enum { N = 300000 }; /* past the small-input path */
    char path[] = "/tmp/eg_regress_XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    uint64_t shape[1] = {N};
    char head[256] = {0};
    size_t hlen = eg_npy_format_header(head, sizeof head, EG_F64, 1, shape, 0);
    cr_assert_gt(hlen, 0);
    char *descr = strstr(head + 10, "'<f8'"); /* past the magic */
    cr_assert_not_null(descr);
    descr[1] = '>';
    cr_assert_eq(write(fd, head, hlen), (ssize_t)hlen);
    unsigned char be[8 * 1024];
    for (size_t i = 0; i < N;) {
        size_t k = 0;
        for (; k < 1024 && i < N; k++, i++) {
            double v = (double)(i % 977) - 400.5;
            unsigned char le[8];
            memcpy(le, &v, 8);
            for (int b = 0; b < 8; b++)
                be[8 * k + (size_t)b] = le[7 - b];
        }
        cr_assert_eq(write(fd, be, 8 * k), (ssize_t)(8 * k));
    }
    close(fd);

    eg_engine *e = NULL;
    eg_error err;
    cr_assert_eq(eg_engine_open(&e, "host", &err), EG_OK, "%s", err.msg);
    eg_reduce_opts o;
    eg_reduce_opts_init(&o);
    o.ops = (1u << EG_OP_COUNT_ALL) - 1 - EG_OPS_BIT(EG_OP_DOT);
    eg_result want, got;
    o.chunk_elems = 1024 * EG_LANE_ELEMS; /* one chunk holds it all */
    cr_assert_eq(eg_reduce_file(e, path, NULL, NULL, &o, &want, &err), EG_OK,
                 "%s", err.msg);
    const uint64_t huge[] = {UINT64_C(1) << 61, UINT64_C(1) << 62,
                             UINT64_MAX - (EG_LANE_ELEMS - 1)};
    for (size_t k = 0; k < sizeof huge / sizeof huge[0]; k++) {
        o.chunk_elems = huge[k];
        eg_status st = eg_reduce_file(e, path, NULL, NULL, &o, &got, &err);
        cr_assert_eq(st, EG_OK, "chunk %llu: %s",
                     (unsigned long long)huge[k], err.msg);
        cr_assert(!memcmp(got.value, want.value, sizeof want.value),
                  "chunk %llu changed the result",
                  (unsigned long long)huge[k]);
    }
    eg_engine_close(&e);
    unlink(path);
}

/* ------------------------------------------------------ fuzz seeds */

/* Every committed seed of fuzz_state is a state this build decodes: a
 * wire-format change must come with new seeds (tests/fuzz/state_seeds.c),
 * or the fuzzer would start from inputs the decoder refuses at once. */
Test(regressions, fuzz_state_seeds_decode)
{
    char dir[4096], path[4200];
    tests_dir(dir, sizeof dir);
    strncat(dir, "/fuzz/corpus/state", sizeof dir - strlen(dir) - 1);
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "%s: %s", dir, strerror(errno));
    size_t len = eg_state_encoded_size(), seen = 0;
    uint8_t *buf = malloc(len + 4);
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        if (ent->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
        FILE *f = fopen(path, "rb");
        cr_assert_not_null(f, "%s", path);
        size_t got = fread(buf, 1, len + 4, f);
        fclose(f);
        cr_assert_eq(got, len + 4, "%s: %zu bytes, want 4 + %zu", path, got,
                     len);
        eg_state s;
        eg_error err;
        cr_assert_eq(eg_state_decode(&s, buf + 4, len, &err), EG_OK,
                     "%s: %s (regenerate with tests/fuzz/state_seeds.c)", path,
                     err.msg);
        seen++;
    }
    closedir(d);
    free(buf);
    cr_assert_geq(seen, 1);
}
