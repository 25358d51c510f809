/* struct_qwire.c - the wire forms of the quantile ops per axis and per
 * group on the grid (struct_qwire.h): a task's parameters and its
 * payload of finished per-output values, decoded and checked before any
 * use.  Apart from struct_qgrid.c so the frame decoder and its fuzz
 * harness need only this and the quantile options. */
#include <string.h>

#include "engine_grid.h"
#include "error.h"
#include "struct_qwire.h"

static double bitsd(uint64_t u)
{
    double d;
    memcpy(&d, &u, 8);
    return d;
}

/* Bytes of one segment's record in a payload. */
size_t eg_sqrec_size(unsigned qops, size_t nq, unsigned bins, int edges)
{
    size_t n = 8;
    if (qops & EG_QOP_QUANTILE)
        n += 9 * nq;
    if (qops & EG_QOP_APPROX)
        n += 9 * nq;
    if (qops & EG_QOP_MEDIAN)
        n += 9;
    if (qops & EG_QOP_HIST)
        n += 8 * (size_t)bins + (edges ? 8 * ((size_t)bins + 1) : 0) + 24;
    return n;
}

eg_status eg_sqparams_decode(const uint8_t *p, size_t len, eg_sqparams *s,
                             eg_error *err)
{
    if (len < EG_SQP_FIXED || memcmp(p, EG_SQP_MAGIC, 4) != 0)
        return eg_error_set(err, EG_EINPUT,
                            "segment quantile parameters: bad magic or size");
    if (eg_get_le(p + 4, 2) != EG_SQ_VERSION)
        return eg_error_set(err, EG_EINPUT,
                            "segment quantile parameters: version %llu, "
                            "this build reads %u",
                            (unsigned long long)eg_get_le(p + 4, 2),
                            EG_SQ_VERSION);
    memset(s, 0, sizeof *s);
    uint64_t nq = eg_get_le(p + 16, 4), nseg = eg_get_le(p + 20, 4);
    if (p[6] >= EG_DTYPE_COUNT || p[7] == 0 ||
        (p[7] &
         ~(EG_QOP_MEDIAN | EG_QOP_QUANTILE | EG_QOP_APPROX | EG_QOP_HIST)) ||
        p[8] >= EG_QM_COUNT || p[9] > EG_NAN_OMIT || p[10] > 1 || p[11] ||
        nq > EG_QUANT_MAX_Q || nseg == 0 || nseg > EG_SGRID_SEGS_MAX)
        return eg_error_set(err, EG_EINPUT,
                            "segment quantile parameters: "
                            "a field out of range");
    if (len != EG_SQP_FIXED + 8 * nq + 8 * nseg)
        return eg_error_set(err, EG_EINPUT,
                            "segment quantile parameters: "
                            "%zu bytes for %llu q and %llu segments",
                            len, (unsigned long long)nq,
                            (unsigned long long)nseg);
    eg_quant_opts_init(&s->qo);
    s->dtype = (eg_dtype)p[6];
    s->qo.qops = p[7];
    s->qo.method = (eg_qmethod)p[8];
    s->qo.nan = (eg_nan_policy)p[9];
    s->qo.have_range = p[10];
    s->qo.bins = (unsigned)eg_get_le(p + 12, 4);
    s->qo.nq = (size_t)nq;
    s->qo.rel_err = bitsd(eg_get_le(p + 24, 8));
    s->qo.lo = bitsd(eg_get_le(p + 32, 8));
    s->qo.hi = bitsd(eg_get_le(p + 40, 8));
    s->first = eg_get_le(p + 48, 8);
    for (size_t i = 0; i < s->qo.nq; i++)
        s->qo.q[i] = bitsd(eg_get_le(p + EG_SQP_FIXED + 8 * i, 8));
    s->nseg = (uint32_t)nseg;
    s->lens = p + EG_SQP_FIXED + 8 * nq;
    eg_error why;
    if (eg_quant_opts_check(&s->qo, &why) != EG_OK)
        return eg_error_set(err, EG_EINPUT, "segment quantile parameters: %s",
                            why.msg);
    if (s->first > UINT64_MAX - nseg)
        return eg_error_set(err, EG_EINPUT,
                            "segment quantile parameters: "
                            "first output out of range");
    return EG_OK;
}

eg_status eg_sqgrid_params_check(const uint8_t *p, size_t len, eg_dtype t,
                                 uint64_t first, uint32_t nseg, uint64_t count,
                                 eg_error *err)
{
    eg_sqparams s;
    eg_status st = eg_sqparams_decode(p, len, &s, err);
    if (st != EG_OK)
        return st;
    if (s.dtype != t || s.nseg != nseg || s.first != first)
        return eg_error_set(err, EG_EINPUT,
                            "segment quantile parameters: "
                            "dtype, segments or first output disagree with "
                            "the task");
    uint64_t sum = 0;
    for (uint32_t i = 0; i < s.nseg; i++) {
        uint64_t n = eg_get_le(s.lens + 8 * (size_t)i, 8);
        if (n > count - sum)
            return eg_error_set(err, EG_EINPUT,
                                "segment quantile "
                                "parameters: segment lengths exceed the "
                                "task's %llu elements",
                                (unsigned long long)count);
        sum += n;
    }
    if (sum != count)
        return eg_error_set(err, EG_EINPUT,
                            "segment quantile parameters: "
                            "segment lengths add up to %llu, not the task's "
                            "%llu elements",
                            (unsigned long long)sum, (unsigned long long)count);
    return EG_OK;
}

typedef struct shead {
    unsigned qops, flags;
    uint32_t nseg, nq, bins, passes;
    uint64_t first, count;
    size_t rec;
} shead;

static int num_ok(const uint8_t *d)
{
    return d[0] <= EG_NUM_U64;
}

eg_status eg_sqgrid_payload_check(const uint8_t *p, size_t len, uint64_t *count,
                                  eg_error *err)
{
    shead h;
    if (len < EG_SQR_FIXED || memcmp(p, EG_SQR_MAGIC, 4) != 0)
        return eg_error_set(err, EG_EINPUT,
                            "segment quantile payload: bad magic or size");
    if (eg_get_le(p + 4, 2) != EG_SQ_VERSION)
        return eg_error_set(err, EG_EINPUT,
                            "segment quantile payload: version %llu, this "
                            "build reads %u",
                            (unsigned long long)eg_get_le(p + 4, 2),
                            EG_SQ_VERSION);
    h.qops = p[6];
    h.flags = p[7];
    h.nseg = (uint32_t)eg_get_le(p + 8, 4);
    h.nq = (uint32_t)eg_get_le(p + 12, 4);
    h.bins = (uint32_t)eg_get_le(p + 16, 4);
    h.passes = (uint32_t)eg_get_le(p + 20, 4);
    h.first = eg_get_le(p + 24, 8);
    h.count = eg_get_le(p + 32, 8);
    int hist = (h.qops & EG_QOP_HIST) != 0;
    if (h.qops == 0 ||
        (h.qops &
         ~(EG_QOP_MEDIAN | EG_QOP_QUANTILE | EG_QOP_APPROX | EG_QOP_HIST)) ||
        h.flags > EG_SQR_EDGES || (h.flags && !hist) || h.nseg == 0 ||
        h.nseg > EG_SGRID_SEGS_MAX || h.nq > EG_QUANT_MAX_Q ||
        (hist ? h.bins == 0 || h.bins > EG_HIST_MAX_BINS : h.bins != 0) ||
        h.passes > (1u << 16) || h.first > UINT64_MAX - h.nseg)
        return eg_error_set(err, EG_EINPUT,
                            "segment quantile payload: a "
                            "field out of range");
    h.rec = eg_sqrec_size(h.qops, h.nq, h.bins, h.flags & EG_SQR_EDGES);
    if ((len - EG_SQR_FIXED) / h.rec != h.nseg || (len - EG_SQR_FIXED) % h.rec)
        return eg_error_set(err, EG_EINPUT,
                            "segment quantile payload: %zu "
                            "bytes for %u segments",
                            len, h.nseg);
    uint64_t total = 0;
    const uint8_t *d = p + EG_SQR_FIXED;
    for (uint32_t i = 0; i < h.nseg; i++, d += h.rec) {
        uint64_t n = eg_get_le(d, 8);
        if (n > h.count - total)
            return eg_error_set(err, EG_EINPUT,
                                "segment quantile payload: "
                                "segments hold more than its elements");
        total += n;
        const uint8_t *v = d + 8;
        size_t nums = ((h.qops & EG_QOP_QUANTILE) ? h.nq : 0) +
                      ((h.qops & EG_QOP_APPROX) ? h.nq : 0) +
                      ((h.qops & EG_QOP_MEDIAN) ? 1 : 0);
        for (size_t k = 0; k < nums; k++, v += 9)
            if (!num_ok(v))
                return eg_error_set(err, EG_EINPUT,
                                    "segment quantile "
                                    "payload: a value of unknown kind");
        if (!hist)
            continue;
        /* Every element is counted once: in a bin, below, above or NaN. */
        uint64_t sum = 0;
        for (uint32_t b = 0; b < h.bins + 3; b++) {
            const uint8_t *c = b < h.bins ? v + 8 * (size_t)b
                                          : v + 8 * (size_t)h.bins +
                                                ((h.flags & EG_SQR_EDGES)
                                                     ? 8 * ((size_t)h.bins + 1)
                                                     : 0) +
                                                8 * (size_t)(b - h.bins);
            uint64_t k = eg_get_le(c, 8);
            if (k > n - sum)
                return eg_error_set(err, EG_EINPUT,
                                    "segment quantile "
                                    "payload: hist counts exceed the "
                                    "segment");
            sum += k;
        }
        if (sum != n)
            return eg_error_set(err, EG_EINPUT,
                                "segment quantile payload: "
                                "hist counts do not add up to the segment");
    }
    if (total != h.count)
        return eg_error_set(err, EG_EINPUT,
                            "segment quantile payload: "
                            "segments hold %llu elements, it says %llu",
                            (unsigned long long)total,
                            (unsigned long long)h.count);
    *count = h.count;
    return EG_OK;
}
