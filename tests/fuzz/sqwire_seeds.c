/* sqwire_seeds.c - writes seeds for fuzz_sqwire into the folder given:
 * parameters of a task of whole outputs (median, quantile, hist with and
 * without a range) and payloads of finished values, each behind the
 * harness's selector byte (even: parameters, odd: payload). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgegrid.h"
#include "struct_qwire.h"
#include "wire_le.h"

static void put(const char *dir, const char *name, const uint8_t *b, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b, 1, n, f) != n || fclose(f) != 0)
        exit(1);
}

static uint64_t bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}

/* Parameters: qops over nseg segments of len elements each. */
static size_t params(uint8_t *b, unsigned qops, int range, uint32_t nseg,
                     uint64_t len)
{
    uint8_t *p = b + 1;
    /* q values only for the ops that take them, as the options' check
     * wants */
    uint32_t nq = (qops & (EG_QOP_QUANTILE | EG_QOP_APPROX)) ? 2 : 0;
    b[0] = 0;
    memset(p, 0, EG_SQP_FIXED + 8 * (size_t)(nq + nseg));
    memcpy(p, EG_SQP_MAGIC, 4);
    eg_put_le(p + 4, EG_SQ_VERSION, 2);
    p[6] = EG_F32;
    p[7] = (uint8_t)qops;
    p[10] = (uint8_t)range;
    eg_put_le(p + 12, 4, 4);  /* bins */
    eg_put_le(p + 16, nq, 4);
    eg_put_le(p + 20, nseg, 4);
    eg_put_le(p + 24, bits(0.01), 8);
    eg_put_le(p + 32, bits(range ? -1.0 : 0.0), 8);
    eg_put_le(p + 40, bits(range ? 1.0 : 0.0), 8);
    eg_put_le(p + 48, 12, 8);
    for (uint32_t i = 0; i < nq; i++)
        eg_put_le(p + EG_SQP_FIXED + 8 * i, bits(i ? 0.99 : 0.5), 8);
    for (uint32_t i = 0; i < nseg; i++)
        eg_put_le(p + EG_SQP_FIXED + 8 * (nq + i), len, 8);
    return 1 + EG_SQP_FIXED + 8 * (size_t)(nq + nseg);
}

/* A payload: median and hist of 2 bins (edges per output when `edges`),
 * segments of 10 elements, 6 in the first bin and 3 in the second, one
 * NaN. */
static size_t payload(uint8_t *b, uint32_t nseg, int edges)
{
    uint8_t *p = b + 1;
    size_t rec = eg_sqrec_size(EG_QOP_MEDIAN | EG_QOP_HIST, 0, 2, edges);
    b[0] = 1;
    memset(p, 0, EG_SQR_FIXED + rec * nseg);
    memcpy(p, EG_SQR_MAGIC, 4);
    eg_put_le(p + 4, EG_SQ_VERSION, 2);
    p[6] = EG_QOP_MEDIAN | EG_QOP_HIST;
    p[7] = edges ? EG_SQR_EDGES : 0;
    eg_put_le(p + 8, nseg, 4);
    eg_put_le(p + 16, 2, 4);
    eg_put_le(p + 20, 1, 4);
    eg_put_le(p + 24, 3, 8);
    eg_put_le(p + 32, 10 * (uint64_t)nseg, 8);
    for (uint32_t i = 0; i < nseg; i++) {
        uint8_t *r = p + EG_SQR_FIXED + rec * i;
        eg_put_le(r, 10, 8);
        r[8] = EG_NUM_F64;
        eg_put_le(r + 9, bits(0.25 * i), 8);
        eg_put_le(r + 17, 6, 8);
        eg_put_le(r + 25, 3, 8);
        uint8_t *t = r + 33 + (edges ? 24 : 0);
        for (int k = 0; edges && k < 3; k++)
            eg_put_le(r + 33 + 8 * k, bits(k * 0.5), 8);
        eg_put_le(t + 16, 1, 8); /* nan */
    }
    return 1 + EG_SQR_FIXED + rec * nseg;
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    uint8_t *b = malloc(1 << 16);
    if (!b)
        return 1;
    const char *dir = argv[1];
    put(dir, "params_median", b, params(b, EG_QOP_MEDIAN, 0, 1, 100));
    put(dir, "params_all", b,
        params(b, EG_QOP_MEDIAN | EG_QOP_QUANTILE | EG_QOP_APPROX |
                      EG_QOP_HIST, 1, 3, 7));
    put(dir, "params_hist_auto", b, params(b, EG_QOP_HIST, 0, 2, 0));
    put(dir, "payload_one", b, payload(b, 1, 0));
    put(dir, "payload_edges", b, payload(b, 3, 1));
    free(b);
    return 0;
}
