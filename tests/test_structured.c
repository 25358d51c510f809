/* test_structured.c - structured reductions from the public API: per-axis
 * and per-group results against loops written here, each output element
 * bitwise equal to eg_reduce of its elements alone, the same bits on two
 * POCL devices and the host, the .npz bytes, and every refusal. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgegrid.h"
#include "engine_fixture.h"
#include "testutil.h"

static eg_struct_opts axes2(unsigned r, unsigned c, int axis)
{
    eg_struct_opts so;
    eg_struct_opts_init(&so);
    so.shape_ndim = 2;
    so.shape[0] = r;
    so.shape[1] = c;
    so.naxes = 1;
    so.axes[0] = axis;
    return so;
}

static eg_reduce_opts opts(unsigned ops, uint64_t chunk)
{
    eg_reduce_opts o;
    eg_reduce_opts_init(&o);
    o.ops = ops;
    o.chunk_elems = chunk;
    return o;
}

#define OPS3                                                                   \
    (EG_OPS_BIT(EG_OP_SUM) | EG_OPS_BIT(EG_OP_MIN) | EG_OPS_BIT(EG_OP_ARGMAX))

Test(structured, integer_columns_and_rows_against_loops)
{
    enum { R = 1000, C = 7 };
    int32_t *x = malloc(R * C * sizeof *x);
    tu_fill(x, EG_I32, R * C, 3, -1000, 1000);
    eg_engine *e = tu_open_engine("host");
    for (int axis = 0; axis < 2; axis++) {
        eg_struct_opts so = axes2(R, C, axis == 0 ? 0 : -1);
        eg_reduce_opts o = opts(OPS3, 0);
        eg_sresult r;
        eg_error err;
        cr_assert_eq(
            eg_reduce_structured(e, x, NULL, R * C, EG_I32, &so, &o, &r, &err),
            EG_OK, "%s", err.msg);
        unsigned nout = axis == 0 ? C : R, len = axis == 0 ? R : C;
        cr_assert_eq(r.ndim, 1);
        cr_assert_eq(r.shape[0], nout);
        cr_assert_eq(r.op[EG_OP_SUM].kind, EG_NUM_I64);
        cr_assert_eq(r.op[EG_OP_ARGMAX].kind, EG_NUM_I64);
        for (unsigned k = 0; k < nout; k++) {
            int64_t sum = 0, mn = INT64_MAX, mx = INT64_MIN, amx = -1;
            for (unsigned p = 0; p < len; p++) {
                int32_t v = axis == 0 ? x[p * C + k] : x[k * C + p];
                sum += v;
                mn = v < mn ? v : mn;
                if (v > mx) {
                    mx = v;
                    amx = p;
                }
            }
            cr_assert_eq(((int64_t *)r.op[EG_OP_SUM].data)[k], sum);
            cr_assert_eq(((int64_t *)r.op[EG_OP_MIN].data)[k], mn);
            cr_assert_eq(((int64_t *)r.op[EG_OP_ARGMAX].data)[k], amx,
                         "axis %d element %u", axis, k);
        }
        eg_sresult_free(&r);
        eg_sresult_free(&r); /* harmless twice */
    }
    eg_engine_close(&e);
    free(x);
}

/* Each column with the bits of eg_reduce of that column alone, across
 * several chunks; on two POCL devices and on the host. */
static void columns_alone(const char *spec)
{
    enum { R = 300000, C = 3 };
    const unsigned ops = (1u << EG_OP_COUNT_ALL) - 1 - EG_OPS_BIT(EG_OP_DOT);
    double *x = malloc(R * C * sizeof *x);
    double *col = malloc(R * sizeof *col);
    tu_fill(x, EG_F64, R * C, 11, -1e3, 1e6);
    eg_engine *e = tu_open_engine(spec);
    eg_engine *h = tu_open_engine("host");
    for (int m = 0; m < 2; m++) {
        eg_struct_opts so = axes2(R, C, 0);
        eg_reduce_opts o = opts(ops, 65536 * 4);
        o.mode = m ? EG_MODE_EXACT : EG_MODE_FAST;
        eg_sresult r;
        eg_error err;
        cr_assert_eq(
            eg_reduce_structured(e, x, NULL, R * C, EG_F64, &so, &o, &r, &err),
            EG_OK, "%s", err.msg);
        cr_assert_str_empty(r.r.notes, "%s", r.r.notes);
        uint64_t total = 0;
        for (size_t d = 0; d < r.r.ndevices; d++)
            total += r.r.devices[d].elements;
        cr_assert_eq(total, (uint64_t)R * C);
        for (unsigned c = 0; c < C; c++) {
            for (unsigned i = 0; i < R; i++)
                col[i] = x[i * C + c];
            eg_result one;
            cr_assert_eq(eg_reduce(h, col, NULL, R, EG_F64, &o, &one, &err),
                         EG_OK, "%s", err.msg);
            for (unsigned op = 0; op < EG_OP_COUNT_ALL; op++) {
                if (!(ops & EG_OPS_BIT(op)))
                    continue;
                /* counts are int64 arrays, the flat count a uint64 */
                if (op != EG_OP_COUNT)
                    cr_assert_eq(r.op[op].kind, one.value[op].kind);
                uint64_t a, b;
                memcpy(&a, (const char *)r.op[op].data + 8 * c, 8);
                memcpy(&b, &one.value[op].v, 8);
                cr_assert_eq(a, b,
                             "%s: mode %d column %u %s: %016llx vs "
                             "%016llx",
                             spec, m, c, eg_op_name((eg_op)op),
                             (unsigned long long)a, (unsigned long long)b);
            }
        }
        eg_sresult_free(&r);
    }
    eg_engine_close(&e);
    eg_engine_close(&h);
    free(x);
    free(col);
}

Test(structured, host_columns_have_the_bits_of_each_column_alone)
{
    columns_alone("host");
}

Test(structured, two_pocl_devices_give_the_host_bits)
{
    setenv("POCL_DEVICES", "pthread pthread", 1);
    eg_device_info *devs = NULL;
    size_t n = 0;
    eg_error err;
    cr_assert_eq(eg_devices_list(&devs, &n, NULL, 0, &err), EG_OK);
    size_t cpus = 0;
    for (size_t i = 0; i < n; i++)
        cpus += devs[i].kind == EG_DEV_CPU;
    free(devs);
    if (cpus < 2)
        cr_skip_test("two POCL devices are not present");
    columns_alone("0,1");
}

Test(structured, groups_ascending_with_row_indices)
{
    enum { N = 5000 };
    double *x = malloc(N * sizeof *x);
    int16_t keys[N];
    tu_fill(x, EG_F64, N, 5, -10, 10);
    for (int i = 0; i < N; i++)
        keys[i] = (int16_t)((i * 7919) % 13 - 6); /* -6 .. 6, unsorted */
    eg_engine *e = tu_open_engine("host");
    eg_struct_opts so;
    eg_struct_opts_init(&so);
    so.keys = keys;
    so.key_dtype = EG_I16;
    so.nkeys = N;
    eg_reduce_opts o = opts(EG_OPS_BIT(EG_OP_COUNT) | EG_OPS_BIT(EG_OP_MAX) |
                                EG_OPS_BIT(EG_OP_ARGMIN),
                            0);
    eg_sresult r;
    eg_error err;
    cr_assert_eq(eg_reduce_structured(e, x, NULL, N, EG_F64, &so, &o, &r, &err),
                 EG_OK, "%s", err.msg);
    cr_assert_eq(r.ngroups, 13);
    cr_assert_eq(r.ndim, 1);
    cr_assert_eq(r.shape[0], 13);
    for (int g = 0; g < 13; g++) {
        cr_assert_eq(r.groups[g], g - 6);
        int64_t cnt = 0, amin = -1;
        double mx = -INFINITY, mn = INFINITY;
        for (int i = 0; i < N; i++) {
            if (keys[i] != g - 6)
                continue;
            cnt++;
            mx = x[i] > mx ? x[i] : mx;
            if (x[i] < mn) {
                mn = x[i];
                amin = i;
            }
        }
        cr_assert_eq(((int64_t *)r.op[EG_OP_COUNT].data)[g], cnt);
        cr_assert_eq(((double *)r.op[EG_OP_MAX].data)[g], mx);
        cr_assert_eq(((int64_t *)r.op[EG_OP_ARGMIN].data)[g], amin);
    }
    eg_sresult_free(&r);
    eg_engine_close(&e);
    free(x);
}

Test(structured, refusals)
{
    float x[12] = {0};
    float k[4] = {0};
    int32_t keys[3] = {0};
    eg_engine *e = tu_open_engine("host");
    eg_reduce_opts o = opts(EG_OPS_DEFAULT, 0);
    eg_reduce_opts oa = opts(EG_OPS_BIT(EG_OP_ARGMIN), 0);
    eg_sresult r;
    eg_error err;
    struct {
        int axes[2];
        unsigned naxes;
        const eg_reduce_opts *o;
        eg_status want;
        const char *needle;
    } cases[] = {
        {{2, 0}, 1, &o, EG_EUSAGE, "out of bounds"},
        {{-3, 0}, 1, &o, EG_EUSAGE, "out of bounds"},
        {{1, -1}, 2, &o, EG_EUSAGE, "repeated"},
        {{0, 1}, 2, &oa, EG_EUSAGE, "one axis"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        eg_struct_opts so = axes2(4, 3, 0);
        so.naxes = cases[i].naxes;
        memcpy(so.axes, cases[i].axes, sizeof cases[i].axes);
        cr_assert_eq(eg_reduce_structured(e, x, NULL, 12, EG_F32, &so,
                                          cases[i].o, &r, &err),
                     cases[i].want, "case %zu", i);
        cr_assert(strstr(err.msg, cases[i].needle), "%s", err.msg);
    }
    eg_struct_opts so = axes2(4, 3, 0);
    so.naxes = 0;
    so.keys = k;
    so.key_dtype = EG_F32;
    so.nkeys = 4;
    cr_assert_eq(
        eg_reduce_structured(e, x, NULL, 12, EG_F32, &so, &o, &r, &err),
        EG_EINPUT);
    cr_assert(strstr(err.msg, "integers"), "%s", err.msg);
    so.keys = keys;
    so.key_dtype = EG_I32;
    so.nkeys = 3;
    cr_assert_eq(
        eg_reduce_structured(e, x, NULL, 12, EG_F32, &so, &o, &r, &err),
        EG_EINPUT);
    cr_assert(strstr(err.msg, "3 keys for 4 rows"), "%s", err.msg);
    so.naxes = 1;
    so.nkeys = 4;
    cr_assert_eq(
        eg_reduce_structured(e, x, NULL, 12, EG_F32, &so, &o, &r, &err),
        EG_EUSAGE);
    so = axes2(5, 3, 0);
    cr_assert_eq(
        eg_reduce_structured(e, x, NULL, 12, EG_F32, &so, &o, &r, &err),
        EG_EINPUT);
    cr_assert_eq(eg_status_exit_code(EG_EINPUT), 2);
    eg_engine_close(&e);
}

/* memmem is a GNU extension; the tests are C11. */
static int holds(const unsigned char *buf, size_t n, const void *pat, size_t m)
{
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(buf + i, pat, m) == 0)
            return 1;
    return 0;
}

/* The archive's bytes: local headers, the members' .npy headers, the end
 * record.  numpy reading it back is tests/cli/test_structured.py's job. */
Test(structured, npz_bytes)
{
    double x[6] = {1, 2, 3, 4, 5, 6};
    eg_engine *e = tu_open_engine("host");
    eg_struct_opts so = axes2(2, 3, 0);
    eg_reduce_opts o = opts(EG_OPS_BIT(EG_OP_SUM) | EG_OPS_BIT(EG_OP_COUNT), 0);
    eg_sresult r;
    eg_error err;
    cr_assert_eq(eg_reduce_structured(e, x, NULL, 6, EG_F64, &so, &o, &r, &err),
                 EG_OK, "%s", err.msg);
    char dir[256], path[300];
    cr_assert_eq(tu_tempdir(dir, sizeof dir, "npz"), 0);
    snprintf(path, sizeof path, "%s/r.npz", dir);
    cr_assert_eq(eg_sresult_write_npz(&r, path, &err), EG_OK, "%s", err.msg);
    FILE *f = fopen(path, "rb");
    cr_assert(f);
    unsigned char buf[4096];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    cr_assert(n > 22);
    cr_assert_eq(memcmp(buf, "PK\3\4", 4), 0);
    cr_assert_eq(memcmp(buf + n - 22, "PK\5\6", 4), 0);
    cr_assert_eq(buf[n - 22 + 8], 2); /* two members */
    cr_assert(holds(buf, n, "count.npy", 9));
    cr_assert(holds(buf, n, "sum.npy", 7));
    cr_assert(holds(buf, n, "'descr': '<f8'", 14));
    cr_assert(holds(buf, n, "'descr': '<i8'", 14));
    cr_assert(holds(buf, n, "'shape': (3,)", 13));
    double want[3] = {5, 7, 9};
    cr_assert(holds(buf, n, want, sizeof want));
    /* A directory that does not exist: an error, nothing left behind. */
    snprintf(path, sizeof path, "%s/no/such/r.npz", dir);
    cr_assert_neq(eg_sresult_write_npz(&r, path, &err), EG_OK);
    eg_sresult_free(&r);
    tu_tempdir_remove(dir);
    eg_engine_close(&e);
}
