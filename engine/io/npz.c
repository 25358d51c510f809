/* npz.c - a structured result as a numpy .npz: a zip archive of stored
 * (uncompressed) .npy members, "<op>.npy" per op plus "groups.npy", as
 * np.savez writes them, so that numpy.load reads it.  Written to
 * "<path>.tmp.<pid>" and renamed into place. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "npy.h"

/* Members over 4 GiB would need zip64 records. */
#define ZIP_MAX 0xffffffffull

typedef struct zmember {
    char name[32];
    uint32_t crc, size, offset;
} zmember;

/* CRC-32 (zip's, reflected 0xedb88320) eight bytes a step (slice-by-8):
 * results run to hundreds of MiB, which the bit-at-a-time loop took
 * seconds over.  The tables are built per call (8 KiB, microseconds),
 * so no state outlives it. */
static uint32_t crc32_update(uint32_t crc, const unsigned char *p, size_t n)
{
    uint32_t t[8][256];
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
        t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int s = 1; s < 8; s++)
            t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
    crc = ~crc;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint32_t a = crc ^ ((uint32_t)p[i] | (uint32_t)p[i + 1] << 8 |
                            (uint32_t)p[i + 2] << 16 |
                            (uint32_t)p[i + 3] << 24);
        crc = t[7][a & 0xff] ^ t[6][(a >> 8) & 0xff] ^
              t[5][(a >> 16) & 0xff] ^ t[4][a >> 24] ^ t[3][p[i + 4]] ^
              t[2][p[i + 5]] ^ t[1][p[i + 6]] ^ t[0][p[i + 7]];
    }
    for (; i < n; i++)
        crc = (crc >> 8) ^ t[0][(crc ^ p[i]) & 0xff];
    return ~crc;
}

static void le16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static void le32(unsigned char *p, uint32_t v)
{
    for (int k = 0; k < 4; k++)
        p[k] = (unsigned char)(v >> (8 * k));
}

typedef struct zout {
    FILE *f;
    const char *tmp;
    uint64_t at;
    eg_status st;
    eg_error *err;
} zout;

static void put(zout *z, const void *p, size_t n)
{
    if (z->st != EG_OK || n == 0)
        return;
    if (fwrite(p, 1, n, z->f) != n)
        z->st = eg_error_set(z->err, EG_EIO, "%s: write failed: %s", z->tmp,
                             strerror(errno));
    z->at += n;
}

/* One member: the .npy bytes (header, then little-endian 8-byte values). */
static void member(zout *z, zmember *m, const char *name, eg_dtype dt,
                   unsigned ndim, const uint64_t *shape, const void *data,
                   uint64_t n)
{
    char hdr[4096];
    size_t hl = eg_npy_format_header(hdr, sizeof hdr, dt, ndim, shape, 0);
    uint64_t size = hl + 8 * n;
    if (z->st != EG_OK)
        return;
    if (hl == 0 || size > ZIP_MAX || z->at > ZIP_MAX) {
        z->st = eg_error_set(z->err, EG_EINPUT,
                             "%s: the result is over 4 GiB, more than an "
                             "npz without zip64 holds",
                             z->tmp);
        return;
    }
    snprintf(m->name, sizeof m->name, "%s.npy", name);
    /* Values go out in little-endian order, as the header says ('<'). */
    unsigned char *bytes = malloc(8 * n + 1);
    if (!bytes) {
        z->st = eg_error_set(z->err, EG_ENOMEM, "npz: out of memory");
        return;
    }
    const unsigned char *src = data;
    int little = eg_npy_host_little();
    for (uint64_t i = 0; i < n; i++)
        for (int k = 0; k < 8; k++)
            bytes[8 * i + k] = src[8 * i + (little ? k : 7 - k)];
    m->crc = crc32_update(0, (const unsigned char *)hdr, hl);
    m->crc = crc32_update(m->crc, bytes, 8 * n);
    m->size = (uint32_t)size;
    m->offset = (uint32_t)z->at;
    size_t nl = strlen(m->name);
    unsigned char lh[30] = {0};
    le32(lh, 0x04034b50);
    le16(lh + 4, 20);            /* version needed: 2.0 */
    le16(lh + 10, 0);            /* time */
    le16(lh + 12, (1 << 5) | 1); /* date: 1980-01-01 */
    le32(lh + 14, m->crc);
    le32(lh + 18, m->size);
    le32(lh + 22, m->size);
    le16(lh + 26, (unsigned)nl);
    put(z, lh, sizeof lh);
    put(z, m->name, nl);
    put(z, hdr, hl);
    put(z, bytes, 8 * n);
    free(bytes);
}

static void central(zout *z, const zmember *ms, unsigned nm)
{
    uint64_t start = z->at;
    for (unsigned i = 0; i < nm; i++) {
        size_t nl = strlen(ms[i].name);
        unsigned char ch[46] = {0};
        le32(ch, 0x02014b50);
        le16(ch + 4, 20);
        le16(ch + 6, 20);
        le16(ch + 14, (1 << 5) | 1);
        le32(ch + 16, ms[i].crc);
        le32(ch + 20, ms[i].size);
        le32(ch + 24, ms[i].size);
        le16(ch + 28, (unsigned)nl);
        le32(ch + 42, ms[i].offset);
        put(z, ch, sizeof ch);
        put(z, ms[i].name, nl);
    }
    if (z->at > ZIP_MAX && z->st == EG_OK)
        z->st = eg_error_set(z->err, EG_EINPUT, "%s: over 4 GiB", z->tmp);
    unsigned char end[22] = {0};
    le32(end, 0x06054b50);
    le16(end + 8, nm);
    le16(end + 10, nm);
    le32(end + 12, (uint32_t)(z->at - start));
    le32(end + 16, (uint32_t)start);
    put(z, end, sizeof end);
}

static eg_dtype npy_type(eg_number_kind k)
{
    return k == EG_NUM_I64 ? EG_I64 : k == EG_NUM_U64 ? EG_U64 : EG_F64;
}

/* The quantile ops' members (eg_sresult_write_npz_quant): a q axis first
 * for quantile and approx_quantile, a bins axis last for the counts. */
static unsigned quant_members(zout *z, zmember *ms, const eg_sresult *r,
                              const eg_squant_result *q)
{
    unsigned nm = 0, nd = r->ndim;
    uint64_t shape[EG_MAX_DIMS + 1];
    if (nd >= EG_MAX_DIMS) {
        z->st = eg_error_set(z->err, EG_EINPUT,
                             "%s: a result of %u dimensions has no room for "
                             "the q or bins axis",
                             z->tmp, nd);
        return 0;
    }
    shape[0] = q->nq;
    memcpy(shape + 1, r->shape, nd * sizeof *shape);
    if (q->qops & EG_QOP_QUANTILE)
        member(z, &ms[nm++], "quantile", npy_type(q->quantile.kind), nd + 1,
               shape, q->quantile.data, q->nq * q->nout);
    if (q->qops & EG_QOP_MEDIAN)
        member(z, &ms[nm++], "median", EG_F64, nd, r->shape, q->median.data,
               q->nout);
    if (q->qops & EG_QOP_APPROX)
        member(z, &ms[nm++], "approx_quantile", EG_F64, nd + 1, shape,
               q->approx.data, q->nq * q->nout);
    if (!(q->qops & EG_QOP_HIST))
        return nm;
    memcpy(shape, r->shape, nd * sizeof *shape);
    shape[nd] = q->nbins;
    /* counts below 2^63: the same bytes as int64, numpy's count dtype */
    member(z, &ms[nm++], "hist_counts", EG_I64, nd + 1, shape, q->counts,
           q->nout * q->nbins);
    shape[nd] = q->nbins + 1;
    if (q->shared_edges)
        member(z, &ms[nm++], "hist_edges", EG_F64, 1, shape + nd, q->edges,
               q->nbins + 1);
    else
        member(z, &ms[nm++], "hist_edges", EG_F64, nd + 1, shape, q->edges,
               q->nout * (q->nbins + 1));
    member(z, &ms[nm++], "hist_below", EG_I64, nd, r->shape, q->below,
           q->nout);
    member(z, &ms[nm++], "hist_above", EG_I64, nd, r->shape, q->above,
           q->nout);
    member(z, &ms[nm++], "hist_nan", EG_I64, nd, r->shape, q->nan, q->nout);
    return nm;
}

eg_status eg_sresult_write_npz(const eg_sresult *r, const char *path,
                               eg_error *err)
{
    return eg_sresult_write_npz_quant(r, NULL, path, err);
}

eg_status eg_sresult_write_npz_quant(const eg_sresult *r,
                                     const eg_squant_result *q,
                                     const char *path, eg_error *err)
{
    size_t cap = strlen(path) + 32;
    char *tmp = malloc(cap);
    if (!tmp)
        return eg_error_set(err, EG_ENOMEM, "%s: out of memory", path);
    snprintf(tmp, cap, "%s.tmp.%ld", path, (long)getpid());
    zout z = {.f = fopen(tmp, "wb"), .tmp = tmp, .err = err};
    if (!z.f) {
        eg_status st =
            eg_error_set(err, errno == ENOENT ? EG_ENOENT : EG_EIO,
                         "%s: cannot create: %s", tmp, strerror(errno));
        free(tmp);
        return st;
    }
    zmember ms[EG_OP_COUNT_ALL + 1 + 8];
    unsigned nm = 0;
    double *nans = NULL;
    for (unsigned op = 0; op < EG_OP_COUNT_ALL; op++) {
        if (!(r->r.ops & EG_OPS_BIT(op)))
            continue;
        const void *data = r->op[op].data;
        if (r->op[op].kind == EG_NUM_NONE) {
            /* No value anywhere (argmin over an empty axis): NaN. */
            if (!nans) {
                nans = malloc((r->nout ? r->nout : 1) * sizeof *nans);
                if (!nans) {
                    z.st = eg_error_set(err, EG_ENOMEM, "npz: out of memory");
                    break;
                }
                for (uint64_t i = 0; i < r->nout; i++)
                    nans[i] = NAN;
            }
            data = nans;
        }
        member(&z, &ms[nm++], eg_op_name((eg_op)op), npy_type(r->op[op].kind),
               r->ndim, r->shape, data, r->nout);
    }
    if (q && q->qops)
        nm += quant_members(&z, ms + nm, r, q);
    if (r->groups) {
        uint64_t gshape[1] = {r->ngroups};
        member(&z, &ms[nm++], "groups", r->groups_unsigned ? EG_U64 : EG_I64, 1,
               gshape, r->groups, r->ngroups);
    }
    central(&z, ms, nm);
    free(nans);
    if (fclose(z.f) != 0 && z.st == EG_OK)
        z.st = eg_error_set(err, EG_EIO, "%s: write failed: %s", tmp,
                            strerror(errno));
    if (z.st == EG_OK && rename(tmp, path) != 0)
        z.st = eg_error_set(err, EG_EIO, "%s: cannot rename into place: %s",
                            path, strerror(errno));
    if (z.st != EG_OK)
        remove(tmp);
    free(tmp);
    return z.st;
}
