/* test_gen.c - eg_gen_npy: determinism, numpy compatibility, the statistics
 * of each distribution, and the condition number of ill-conditioned sums,
 * all measured by numpy and Python's exact math.fsum (/usr/bin/python3, with
 * Debian's python3-numpy) on the written files.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "edgegrid.h"
#include "tempdir_suite.h"
#include "testutil.h"

TU_TEMPDIR_SUITE(gen, "test_gen");

static void gen(const char *name, uint64_t count, eg_dtype t, eg_dist dist,
                double cond, uint64_t seed)
{
    char path[TU_PATH_CAP];
    path_of(path, name);
    eg_gen_opts o = {count, t, dist, cond, seed};
    eg_error err = {0};
    eg_status st = eg_gen_npy(path, &o, &err);
    cr_assert_eq(st, EG_OK, "%s: %s", name, err.msg);
}

static void *read_whole(const char *name, size_t *len)
{
    char path[TU_PATH_CAP];
    path_of(path, name);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    cr_assert_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    cr_assert(n >= 0);
    rewind(f);
    char *p = malloc((size_t)n + 1);
    cr_assert_not_null(p);
    cr_assert_eq(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    p[n] = '\0';
    *len = (size_t)n;
    return p;
}

static int same_file(const char *a, const char *b)
{
    size_t la, lb;
    char *pa = read_whole(a, &la), *pb = read_whole(b, &lb);
    int same = la == lb && memcmp(pa, pb, la) == 0;
    free(pa);
    free(pb);
    return same;
}

/* Runs `code` with D = the test directory and numpy imported; what it
 * prints to D/out.txt comes back as a string (caller frees). */
static char *python(const char *code)
{
    char script[TU_PATH_CAP], cmd[2 * TU_PATH_CAP];
    path_of(script, "check.py");
    FILE *f = fopen(script, "w");
    cr_assert_not_null(f);
    fprintf(f,
            "import numpy as np, math, sys, os\n"
            "D = sys.argv[1]\n"
            "out = open(os.path.join(D, 'out.txt'), 'w')\n"
            "def load(name):\n"
            "    return np.load(os.path.join(D, name))\n"
            "%s\n"
            "out.close()\n",
            code);
    cr_assert_eq(fclose(f), 0);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s %s", script, dir);
    int rc = system(cmd);
    cr_assert_eq(rc, 0,
                 "python check failed (%d): needs /usr/bin/python3 "
                 "with numpy (Debian python3-numpy)",
                 rc);
    size_t len;
    return read_whole("out.txt", &len);
}

/* No "<name>.tmp.<pid>" or other stray file may be left in the directory
 * besides `allowed` entries. */
static int count_entries(void)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            cr_assert(strstr(e->d_name, ".tmp.") == NULL,
                      "temporary file %s left behind", e->d_name);
            n++;
        }
    }
    closedir(d);
    return n;
}

static const eg_dtype all_types[] = {EG_F32, EG_F64, EG_I8,  EG_U8,  EG_I16,
                                     EG_U16, EG_I32, EG_U32, EG_I64, EG_U64};

/* ---------------------------------------------------------- determinism */

Test(gen, same_seed_same_bytes)
{
    const eg_dist dists[] = {EG_DIST_UNIFORM, EG_DIST_NORMAL, EG_DIST_ILL};
    const eg_dtype types[] = {EG_F64, EG_I16, EG_F32};
    for (int k = 0; k < 3; k++) {
        gen("a.npy", 100003, types[k], dists[k], 1e12, 7);
        gen("b.npy", 100003, types[k], dists[k], 1e12, 7);
        gen("c.npy", 100003, types[k], dists[k], 1e12, 8);
        cr_assert(same_file("a.npy", "b.npy"), "dist %d: seed 7 twice", k);
        cr_assert(!same_file("a.npy", "c.npy"), "dist %d: seeds 7 and 8", k);
    }
    cr_assert_eq(count_entries(), 3);
}

/* numpy reads every file with the right dtype and shape, and np.save of
 * what it read gives back our bytes exactly (header padding included). */
Test(gen, numpy_reads_and_rewrites_identically)
{
    char code[4096] = "";
    for (size_t k = 0; k < sizeof all_types / sizeof all_types[0]; k++) {
        for (int d = 0; d < 2; d++) {
            char name[64];
            snprintf(name, sizeof name, "%s_%d.npy",
                     eg_dtype_name(all_types[k]), d);
            gen(name, 1001, all_types[k], (eg_dist)d, 0, 3);
            char line[256];
            snprintf(line, sizeof line,
                     "a = load('%s'); np.save(os.path.join(D, 'r_%s'), a)\n"
                     "out.write('%%s %%s %%s\\n' %% (a.dtype.name, "
                     "a.shape, a.flags.c_contiguous))\n",
                     name, name);
            strcat(code, line);
        }
    }
    gen("empty.npy", 0, EG_F32, EG_DIST_ILL, 1e10, 1);
    strcat(code, "a = load('empty.npy'); np.save(os.path.join(D, "
                 "'r_empty.npy'), a)\n"
                 "out.write('%s %s\\n' % (a.dtype.name, a.shape))\n");
    char *out = python(code);
    char *line = out;
    for (size_t k = 0; k < sizeof all_types / sizeof all_types[0]; k++) {
        for (int d = 0; d < 2; d++) {
            char want[64];
            snprintf(want, sizeof want, "%s (1001,) True\n",
                     eg_dtype_numpy_name(all_types[k]));
            cr_assert(strncmp(line, want, strlen(want)) == 0,
                      "numpy read '%.40s', want '%s'", line, want);
            line += strlen(want);
            char ours[64], theirs[80];
            snprintf(ours, sizeof ours, "%s_%d.npy",
                     eg_dtype_name(all_types[k]), d);
            snprintf(theirs, sizeof theirs, "r_%s", ours);
            cr_assert(same_file(ours, theirs), "%s differs from np.save's",
                      ours);
        }
    }
    cr_assert_str_eq(line, "float32 (0,)\n");
    cr_assert(same_file("empty.npy", "r_empty.npy"));
    free(out);
}

/* ------------------------------------------------------- distributions */

/* mean, variance, min and max as numpy computes them in float64 */
typedef struct stats {
    double mean, var, min, max, kurt;
} stats;

static stats measure(const char *name)
{
    char code[512];
    snprintf(code, sizeof code,
             "a = load('%s').astype(np.float64)\n"
             "m = a.mean(); v = a.var()\n"
             "k = ((a - m) ** 4).mean() / v ** 2\n"
             "out.write('%%r %%r %%r %%r %%r' %% (m, v, a.min(), a.max(), "
             "k))\n",
             name);
    char *out = python(code);
    stats s;
    cr_assert_eq(sscanf(out, "%lf %lf %lf %lf %lf", &s.mean, &s.var, &s.min,
                        &s.max, &s.kurt),
                 5, "%s", out);
    free(out);
    return s;
}

/* |got - want| <= tol * scale */
#define near(got, want, tol, scale)                                            \
    cr_assert(fabs((got) - (want)) <= (tol) * (scale),                         \
              "%s = %.17g, want %.17g within %g", #got, (double)(got),         \
              (double)(want), (tol) * (scale))

Test(gen, uniform_floats)
{
    /* U[-1, 1): mean 0 (sd of the mean ~5.8e-4 at 1e6), var 1/3 (sd ~3e-4),
     * kurtosis 1.8 */
    const eg_dtype types[] = {EG_F32, EG_F64};
    for (int k = 0; k < 2; k++) {
        gen("u.npy", 1000000, types[k], EG_DIST_UNIFORM, 0, 11);
        stats s = measure("u.npy");
        near(s.mean, 0.0, 5e-3, 1.0);
        near(s.var, 1.0 / 3.0, 3e-3, 1.0);
        near(s.kurt, 1.8, 0.02, 1.0);
        cr_assert(s.min >= -1.0 && s.min < -0.999, "min %g", s.min);
        cr_assert(s.max < 1.0 && s.max > 0.999, "max %g", s.max);
    }
}

Test(gen, uniform_integers)
{
    /* uniform over the whole range: mean (lo + hi) / 2, var (2^(2b) - 1)/12 */
    const eg_dtype types[] = {EG_I8,  EG_U8,  EG_I16, EG_U16,
                              EG_I32, EG_U32, EG_I64, EG_U64};
    for (int k = 0; k < 8; k++) {
        eg_dtype t = types[k];
        gen("u.npy", 1000000, t, EG_DIST_UNIFORM, 0, 12);
        stats s = measure("u.npy");
        double bits = 8.0 * (double)eg_dtype_size(t);
        double range = ldexp(1.0, (int)bits);
        double lo = eg_dtype_is_signed(t) ? -range / 2 : 0;
        double hi = lo + range - 1;
        near(s.mean, (lo + hi) / 2, 5e-3, range);
        near(s.var, (range * range - 1) / 12, 1e-2, range * range / 12);
        if (bits <= 16) { /* 1e6 draws hit both ends of small types */
            cr_assert_eq(s.min, lo, "%s min", eg_dtype_name(t));
            cr_assert_eq(s.max, hi, "%s max", eg_dtype_name(t));
        }
        cr_assert(s.min >= lo && s.max <= hi);
    }
}

Test(gen, normal_floats)
{
    /* N(0, 1): sd of the mean 1e-3, of the variance ~1.4e-3; kurtosis 3 */
    const eg_dtype types[] = {EG_F32, EG_F64};
    for (int k = 0; k < 2; k++) {
        gen("n.npy", 1000000, types[k], EG_DIST_NORMAL, 0, 13);
        stats s = measure("n.npy");
        near(s.mean, 0.0, 6e-3, 1.0);
        near(sqrt(s.var), 1.0, 6e-3, 1.0);
        near(s.kurt, 3.0, 0.05, 1.0);
        cr_assert(s.min < -4.0 && s.max > 4.0, "tails %g %g", s.min, s.max);
    }
}

Test(gen, normal_integers)
{
    /* round(z * 2^bits / 8), unsigned shifted by 2^(bits-1), clamped */
    const eg_dtype types[] = {EG_I16, EG_U16, EG_I32, EG_U32, EG_I64, EG_U64};
    for (int k = 0; k < 6; k++) {
        eg_dtype t = types[k];
        gen("n.npy", 1000000, t, EG_DIST_NORMAL, 0, 14);
        stats s = measure("n.npy");
        double bits = 8.0 * (double)eg_dtype_size(t);
        double sigma = ldexp(1.0, (int)bits - 3);
        double centre = eg_dtype_is_signed(t) ? 0 : ldexp(1.0, (int)bits - 1);
        near(s.mean, centre, 6e-3, sigma);
        near(sqrt(s.var), sigma, 6e-3, sigma);
        near(s.kurt, 3.0, 0.05, 1.0);
    }
    /* i8: sigma 32, clamped to [-128, 127] */
    gen("n8.npy", 1000000, EG_I8, EG_DIST_NORMAL, 0, 15);
    stats s = measure("n8.npy");
    near(sqrt(s.var), 32.0, 0.01, 32.0);
    cr_assert_eq(s.min, -128);
    cr_assert_eq(s.max, 127);
}

/* ------------------------------------------------------- ill-conditioned */

/* The condition number sum|x| / |sum x| measured exactly with math.fsum,
 * the relative error of numpy's own (pairwise) float64 sum, and the lag-1
 * autocorrelation of the exponents (near 1 before GenSum's final random
 * permutation, whose second half has steadily falling exponents). */
static void measure_cond(const char *name, double *cond, double *np_err,
                         double *autocorr)
{
    char code[1024];
    snprintf(code, sizeof code,
             "a = load('%s')\n"
             "x = [float(v) for v in a]\n"
             "s = math.fsum(x)\n"
             "c = math.fsum(abs(v) for v in x) / abs(s)\n"
             "e = abs(float(np.sum(a.astype(np.float64))) - s) / abs(s)\n"
             "l = np.log2(np.abs(a.astype(np.float64)) + 1e-300)\n"
             "r = np.corrcoef(l[:-1], l[1:])[0, 1] if a.size > 2 else 0.0\n"
             "out.write('%%r %%r %%r %%s %%d' %% (c, e, r, a.dtype.name, "
             "a.size))\n",
             name);
    char *out = python(code);
    char dtname[32];
    unsigned long long n;
    cr_assert_eq(sscanf(out, "%lf %lf %lf %31s %llu", cond, np_err, autocorr,
                        dtname, &n),
                 5, "%s", out);
    free(out);
}

Test(gen, ill_condition_numbers)
{
    static const struct {
        eg_dtype t;
        double cond;
        uint64_t count;
    } cases[] = {
        {EG_F64, 1e8, 100000},  {EG_F64, 1e16, 100000}, {EG_F64, 1e32, 20000},
        {EG_F64, 1e100, 20000}, {EG_F64, 2.0, 10000},   {EG_F64, 1.0, 1000},
        {EG_F32, 1e6, 100000},  {EG_F32, 1e20, 20000},  {EG_F64, 1e16, 10},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        gen("ill.npy", cases[k].count, cases[k].t, EG_DIST_ILL, cases[k].cond,
            21);
        double cond, np_err, autocorr;
        measure_cond("ill.npy", &cond, &np_err, &autocorr);
        /* the brief allows a factor of 100; the generator aims at 1% */
        cr_assert(cond >= cases[k].cond / 1.01 && cond <= cases[k].cond * 1.01,
                  "%s asked cond %g, got %.6g", eg_dtype_name(cases[k].t),
                  cases[k].cond, cond);
        if (cases[k].cond == 1.0)
            cr_assert_eq(cond, 1.0);
        if (cases[k].count >= 10000 && cases[k].cond > 2.0)
            cr_assert(fabs(autocorr) < 0.05,
                      "cond %g: exponents are "
                      "correlated (%g): not permuted?",
                      cases[k].cond, autocorr);
    }
    /* the cancellation is real: a float64 sum of 1e16-conditioned data
     * loses most of its digits */
    gen("ill.npy", 100000, EG_F64, EG_DIST_ILL, 1e16, 5);
    double cond, np_err, autocorr;
    measure_cond("ill.npy", &cond, &np_err, &autocorr);
    cr_assert(np_err > 1e-6, "numpy's sum is off by only %g", np_err);
}

/* --------------------------------------------------------- streaming */

/* 1e8 elements (100 MB) are written with a small, fixed buffer. */
Test(gen, streams_large_counts)
{
    struct rusage ru;
    cr_assert_eq(getrusage(RUSAGE_SELF, &ru), 0);
    long before = ru.ru_maxrss;
    gen("big.npy", 100000000, EG_U8, EG_DIST_UNIFORM, 0, 1);
    cr_assert_eq(getrusage(RUSAGE_SELF, &ru), 0);
    cr_assert(ru.ru_maxrss - before < 32 * 1024, "max RSS grew by %ld KiB",
              ru.ru_maxrss - before);
    char path[TU_PATH_CAP];
    path_of(path, "big.npy");
    struct stat sb;
    cr_assert_eq(stat(path, &sb), 0);
    cr_assert_eq(sb.st_size, 128 + 100000000);
}

/* ------------------------------------------------------------ errors */

static eg_status gen_status(const char *path, uint64_t count, eg_dtype t,
                            eg_dist dist, double cond, eg_error *err)
{
    eg_gen_opts o = {count, t, dist, cond, 1};
    memset(err, 0, sizeof *err);
    return eg_gen_npy(path, &o, err);
}

Test(gen, usage_errors)
{
    char path[TU_PATH_CAP];
    path_of(path, "x.npy");
    eg_error err;
    cr_assert_eq(gen_status(path, 10, EG_I32, EG_DIST_ILL, 1e8, &err),
                 EG_EUSAGE);
    cr_assert(strstr(err.msg, "i32") != NULL, "%s", err.msg);
    cr_assert_eq(gen_status(path, 100000001, EG_F64, EG_DIST_ILL, 1e8, &err),
                 EG_EUSAGE);
    cr_assert(strstr(err.msg, "100000001") != NULL, "%s", err.msg);
    cr_assert_eq(gen_status(path, 10, EG_F64, EG_DIST_ILL, 0.5, &err),
                 EG_EUSAGE);
    cr_assert_eq(gen_status(path, 10, EG_F64, EG_DIST_ILL, NAN, &err),
                 EG_EUSAGE);
    cr_assert_eq(gen_status(path, 10, EG_F64, EG_DIST_ILL, INFINITY, &err),
                 EG_EUSAGE);
    cr_assert_eq(gen_status(path, 10, EG_F32, EG_DIST_ILL, 1e35, &err),
                 EG_EUSAGE, "beyond float's range");
    cr_assert_eq(gen_status(path, 10, EG_DTYPE_COUNT, EG_DIST_UNIFORM, 0, &err),
                 EG_EUSAGE);
    cr_assert_eq(gen_status(path, 10, EG_F64, (eg_dist)9, 0, &err), EG_EUSAGE);
    cr_assert_eq(gen_status(NULL, 10, EG_F64, EG_DIST_UNIFORM, 0, &err),
                 EG_EUSAGE);
    cr_assert_eq(gen_status(path, UINT64_MAX, EG_F64, EG_DIST_UNIFORM, 0, &err),
                 EG_EUSAGE);
    cr_assert_eq(count_entries(), 0, "nothing was written");
}

Test(gen, write_errors_leave_nothing)
{
    char path[TU_PATH_CAP];
    eg_error err;
    path_of(path, "missing/x.npy");
    cr_assert_eq(gen_status(path, 10, EG_F64, EG_DIST_UNIFORM, 0, &err),
                 EG_EIO);
    cr_assert(strstr(err.msg, "missing/x.npy") != NULL, "%s", err.msg);

    /* the target is a directory: the rename fails, the temporary goes */
    path_of(path, "adir");
    cr_assert_eq(mkdir(path, 0700), 0);
    cr_assert_eq(gen_status(path, 10, EG_F64, EG_DIST_UNIFORM, 0, &err),
                 EG_EIO);
    cr_assert(strstr(err.msg, "adir") != NULL, "%s", err.msg);
    cr_assert_eq(count_entries(), 1, "only adir remains");

    /* success replaces an existing file */
    gen("x.npy", 10, EG_F64, EG_DIST_UNIFORM, 0, 1);
    gen("x.npy", 20, EG_F64, EG_DIST_UNIFORM, 0, 1);
    size_t len;
    free(read_whole("x.npy", &len));
    cr_assert_eq(len, 128 + 160);
    cr_assert_eq(count_entries(), 2);
}

/* "/dev/full" fails every write with ENOSPC, as a full disk would; the
 * failure must be reported, not lost in stdio's buffer. */
Test(gen, full_disk_is_an_error)
{
    eg_error err;
    struct stat sb;
    if (stat("/dev/full", &sb) != 0)
        cr_skip_test("no /dev/full");
    /* a directory we cannot fill: point the temp file at /dev/full through a
     * symlink named like it */
    char path[TU_PATH_CAP], tmp[TU_PATH_CAP + 32];
    path_of(path, "f.npy");
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    cr_assert_eq(symlink("/dev/full", tmp), 0);
    cr_assert_eq(gen_status(path, 1000000, EG_F64, EG_DIST_NORMAL, 0, &err),
                 EG_EIO);
    cr_assert(strstr(err.msg, "write failed") != NULL, "%s", err.msg);
    cr_assert_eq(access(path, F_OK), -1, "no output file");
    cr_assert_eq(count_entries(), 0, "the temporary is gone too");
}
