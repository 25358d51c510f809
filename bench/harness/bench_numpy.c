/* bench_numpy.c - numpy as a yardstick, run the way a numpy user runs it:
 * np.load into memory (not a memory map, which would time the page cache),
 * then the plain array methods.  The script answers with one flat JSON
 * object {"version": "...", "sum@N": seconds, ...} that is read back here. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_numpy.h"
#include "bench_spawn.h"

/* Kept as lines: ISO C promises string literals only up to 4095 chars. */
static const char *const script_lines[] = {
    "import json, sys, time",
    "def main():",
    "    try:",
    "        import numpy as np",
    "    except Exception as e:",
    "        print(json.dumps({'error': 'numpy is not importable: %s' % e}))",
    "        return",
    "    xpath, ypath = sys.argv[1], sys.argv[2]",
    "    reps, min_s = int(sys.argv[3]), float(sys.argv[4])",
    "    max_reps = int(sys.argv[5])",
    "    x = np.load(xpath, mmap_mode=None)",
    "    y = np.load(ypath, mmap_mode=None) if ypath != '-' else None",
    "    ops = {",
    "        'sum': lambda a, b: a.sum(),",
    "        'mean': lambda a, b: a.mean(),",
    "        'var': lambda a, b: a.var(),",
    "        'std': lambda a, b: a.std(),",
    "        'min': lambda a, b: a.min(),",
    "        'max': lambda a, b: a.max(),",
    "        'argmin': lambda a, b: a.argmin(),",
    "        'argmax': lambda a, b: a.argmax(),",
    "        'l1': lambda a, b: np.linalg.norm(a, 1),",
    "        'l2': lambda a, b: np.linalg.norm(a),",
    "        'dot': lambda a, b: np.dot(a, b),",
    "        'fused': lambda a, b: (a.size, a.sum(), a.mean(), a.min(),",
    "                               a.max(), a.std()),",
    "    }",
    "    out = {'version': np.__version__}",
    "    for job in sys.argv[6:]:",
    "        op, n = job.split('@')",
    "        n = int(n)",
    "        f = ops.get(op)",
    "        if f is None or (op == 'dot' and y is None):",
    "            continue",
    "        a, b = x[:n], (y[:n] if y is not None else None)",
    "        f(a, b)",
    "        times, total = [], 0.0",
    "        while len(times) < max(reps, 1) or (total < min_s and",
    "                                            len(times) < max_reps):",
    "            t0 = time.perf_counter()",
    "            f(a, b)",
    "            t = time.perf_counter() - t0",
    "            times.append(t)",
    "            total += t",
    "        times.sort()",
    "        m = len(times)",
    "        mid = times[m // 2]",
    "        out[job] = mid if m % 2 else 0.5 * (times[m // 2 - 1] + mid)",
    "        out[job + '#reps'] = m",
    "    print(json.dumps(out))",
    "main()",
};

#define NLINES (sizeof script_lines / sizeof script_lines[0])

static char *join_script(void)
{
    size_t len = 1;
    char *s, *p;

    for (size_t i = 0; i < NLINES; i++)
        len += strlen(script_lines[i]) + 1;
    if ((s = malloc(len)) == NULL)
        return NULL;
    p = s;
    for (size_t i = 0; i < NLINES; i++) {
        size_t n = strlen(script_lines[i]);
        memcpy(p, script_lines[i], n);
        p += n;
        *p++ = '\n';
    }
    *p = '\0';
    return s;
}

int bench_numpy_has(const char *op)
{
    static const char *const ops[] = {"sum", "mean", "var", "std", "min",
                                      "max", "argmin", "argmax", "l1", "l2",
                                      "dot", "fused"};

    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        if (strcmp(op, ops[i]) == 0)
            return 1;
    }
    return 0;
}

/* ------------------------------------------------------------ .npy out */

static const char *npy_descr(eg_dtype t)
{
    static const char *const codes[EG_DTYPE_COUNT] = {
        "f4", "f8", "i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8"};
    return (unsigned)t < EG_DTYPE_COUNT ? codes[t] : "V1";
}

/* A version 1.0 .npy of `count` elements at `data`, native byte order. */
static int write_npy(const char *path, const void *data, eg_dtype t,
                     uint64_t count, char *note, size_t note_len)
{
    const uint16_t probe = 1;
    char order = eg_dtype_size(t) == 1       ? '|'
                 : *(const char *)&probe ? '<'
                                             : '>';
    char header[256];
    int n = snprintf(header, sizeof header,
                     "{'descr': '%c%s', 'fortran_order': False, "
                     "'shape': (%llu,), }",
                     order, npy_descr(t), (unsigned long long)count);
    /* Pad with spaces to a 64-byte boundary, ending in '\n'. */
    size_t total = 10 + (size_t)n + 1;
    size_t pad = (64 - total % 64) % 64;
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0, 0};
    size_t hlen = (size_t)n + pad + 1;
    size_t bytes = (size_t)count * eg_dtype_size(t);
    FILE *f;
    int ok;

    memset(header + n, ' ', pad);
    header[(size_t)n + pad] = '\n';
    pre[8] = (unsigned char)(hlen & 0xff);
    pre[9] = (unsigned char)(hlen >> 8);
    if ((f = fopen(path, "wb")) == NULL) {
        snprintf(note, note_len, "numpy skipped: cannot create %s: %s", path,
                 strerror(errno));
        return -1;
    }
    ok = fwrite(pre, 1, sizeof pre, f) == sizeof pre &&
         fwrite(header, 1, hlen, f) == hlen &&
         fwrite(data, 1, bytes, f) == bytes;
    int e = errno;
    if (fclose(f) != 0 && ok) {
        ok = 0;
        e = errno;
    }
    if (!ok) {
        snprintf(note, note_len, "numpy skipped: cannot write %s: %s", path,
                 strerror(e));
        remove(path);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------- the answer */

/* Finds `key` in a flat JSON object of strings and numbers.  Returns 1 with
 * the number in *num (or the string, up to `len`, in str), 0 if absent. */
static int flat_get(const char *json, const char *key, double *num, char *str,
                    size_t len)
{
    const char *p = strchr(json, '{');
    size_t klen = strlen(key);

    if (p == NULL)
        return 0;
    p++;
    for (;;) {
        p += strspn(p, " \t\r\n,");
        if (*p != '"')
            return 0;
        const char *k = ++p;
        while (*p != '\0' && *p != '"')
            p += (*p == '\\' && p[1] != '\0') ? 2 : 1;
        if (*p != '"')
            return 0;
        int match = (size_t)(p - k) == klen && strncmp(k, key, klen) == 0;
        p++;
        p += strspn(p, " \t\r\n");
        if (*p++ != ':')
            return 0;
        p += strspn(p, " \t\r\n");
        if (*p == '"') {
            const char *v = ++p;
            while (*p != '\0' && *p != '"')
                p += (*p == '\\' && p[1] != '\0') ? 2 : 1;
            if (*p != '"')
                return 0;
            if (match && str != NULL) {
                snprintf(str, len, "%.*s", (int)(p - v), v);
                return 1;
            }
            p++;
        } else {
            char *end;
            double v = strtod(p, &end);
            if (end != p) {
                if (match && num != NULL) {
                    *num = v;
                    return 1;
                }
                p = end;
            } else {
                /* null, true or false: step over the word */
                size_t w = strspn(p, "abcdefghijklmnopqrstuvwxyz");
                if (w == 0)
                    return 0;
                p += w;
            }
        }
    }
}

static void read_answer(const char *json, const bench_data *d,
                        bench_numpy_job *jobs, size_t njobs)
{
    char key[64];
    double sec, reps;

    for (size_t i = 0; i < njobs; i++) {
        memset(&jobs[i].fig, 0, sizeof jobs[i].fig);
        snprintf(key, sizeof key, "%s@%llu", jobs[i].op,
                 (unsigned long long)jobs[i].count);
        if (!flat_get(json, key, &sec, NULL, 0))
            continue;
        snprintf(key, sizeof key, "%s@%llu#reps", jobs[i].op,
                 (unsigned long long)jobs[i].count);
        if (!flat_get(json, key, &reps, NULL, 0))
            reps = 0;
        bench_figure_set(&jobs[i].fig, sec, (unsigned)reps,
                         bench_bytes(d->dtype, jobs[i].count,
                                     strcmp(jobs[i].op, "dot") == 0));
    }
}

/* ------------------------------------------------------------ the run */

/* argv: python3 -c SCRIPT X.npy Y.npy|- REPS MIN_S MAX_REPS op@N ... */
static int run_python(const char *xpath, const char *ypath,
                      const bench_numpy_job *jobs, size_t njobs,
                      const bench_plan *plan, char **answer, char *note,
                      size_t note_len)
{
    char *script = join_script();
    char **argv = calloc(njobs + 10, sizeof *argv);
    char (*jobtext)[48] = calloc(njobs ? njobs : 1, sizeof *jobtext);
    char reps[16], min_s[32], max_reps[16];
    size_t a = 0;
    int rc = -1;

    if (script == NULL || argv == NULL || jobtext == NULL) {
        snprintf(note, note_len, "numpy skipped: out of memory");
        goto out;
    }
    snprintf(reps, sizeof reps, "%u", plan->min_reps);
    snprintf(min_s, sizeof min_s, "%g", plan->min_seconds);
    snprintf(max_reps, sizeof max_reps, "%u", plan->max_reps);
    argv[a++] = (char *)BENCH_PYTHON;
    argv[a++] = (char *)"-c";
    argv[a++] = script;
    argv[a++] = (char *)xpath;
    argv[a++] = (char *)(ypath ? ypath : "-");
    argv[a++] = reps;
    argv[a++] = min_s;
    argv[a++] = max_reps;
    for (size_t i = 0; i < njobs; i++) {
        snprintf(jobtext[i], sizeof jobtext[i], "%s@%llu", jobs[i].op,
                 (unsigned long long)jobs[i].count);
        argv[a++] = jobtext[i];
    }
    argv[a] = NULL;
    int st = bench_spawn(argv, answer);
    if (st != 0) {
        snprintf(note, note_len, "numpy skipped: %s %s", BENCH_PYTHON,
                 st < 0 ? "could not be started" : "failed");
        if (st > 0)
            snprintf(note + strlen(note), note_len - strlen(note),
                     " (exit status %d)", st);
        goto out;
    }
    if (*answer == NULL) {
        snprintf(note, note_len, "numpy skipped: out of memory");
        goto out;
    }
    rc = 0;
out:
    free(jobtext);
    free(argv);
    free(script);
    return rc;
}

int bench_numpy_run(const bench_data *d, bench_numpy_job *jobs, size_t njobs,
                    const bench_plan *plan, char *version, size_t vlen,
                    char *note, size_t note_len)
{
    char xpath[96], ypath[96];
    char *answer = NULL;
    uint64_t count = 0;
    int dot = 0, rc = -1;

    version[0] = '\0';
    note[0] = '\0';
    if (!bench_have_program(BENCH_PYTHON)) {
        snprintf(note, note_len, "numpy skipped: %s not found", BENCH_PYTHON);
        return -1;
    }
    for (size_t i = 0; i < njobs; i++) {
        if (jobs[i].count > count)
            count = jobs[i].count;
        dot |= strcmp(jobs[i].op, "dot") == 0;
    }
    dot = dot && d->y != NULL;
    snprintf(xpath, sizeof xpath, "/dev/shm/edgegrid-bench-%ld-x.npy",
             (long)getpid());
    snprintf(ypath, sizeof ypath, "/dev/shm/edgegrid-bench-%ld-y.npy",
             (long)getpid());
    if (write_npy(xpath, d->x, d->dtype, count, note, note_len) != 0)
        return -1;
    if (dot && write_npy(ypath, d->y, d->dtype, count, note, note_len) != 0)
        goto out;
    if (run_python(xpath, dot ? ypath : NULL, jobs, njobs, plan, &answer,
                   note, note_len) != 0)
        goto out;
    char err[256];
    if (flat_get(answer, "error", NULL, err, sizeof err)) {
        snprintf(note, note_len, "numpy skipped: %s", err);
        goto out;
    }
    if (!flat_get(answer, "version", NULL, version, vlen)) {
        snprintf(note, note_len, "numpy skipped: no answer from %s",
                 BENCH_PYTHON);
        goto out;
    }
    read_answer(answer, d, jobs, njobs);
    rc = 0;
out:
    free(answer);
    remove(xpath);
    if (dot)
        remove(ypath);
    return rc;
}
