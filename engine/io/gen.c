/* gen.c - data sets for tests and benchmarks: eg_gen_npy.
 *
 * The same options always give the same bytes: the only randomness is a
 * xoshiro256** stream seeded from the seed by splitmix64, drawn a fixed
 * number of times per element, and held in a local struct (no global state).
 *
 * Distributions:
 *   uniform  floats in [-1, 1) on a 2^-53 (f64) or 2^-24 (f32) grid;
 *            integers uniform over the type's whole range.
 *   normal   mean 0, standard deviation 1 (Marsaglia's polar method).
 *            Integers: round(z * 2^bits / 8), clamped to the type, so the
 *            type's range spans +-4 sigma; unsigned types are centred on
 *            2^(bits-1).
 *   ill      floats only: the sum is ill-conditioned, with condition number
 *            sum|x| / |sum x| close to opts.cond (Ogita, Rump and Oishi,
 *            "Accurate sum and dot product", SIAM J. Sci. Comput. 26(6),
 *            2005, section 6, GenSum).  Built in memory, so at most
 *            EG_GEN_ILL_MAX elements.  A final element sets the exact sum
 *            so that the condition number lands on cond (within 1% from a
 *            few elements up; one element always has cond 1).  cond = 1
 *            gives all non-negative values.  cond may reach 2^992 (f64)
 *            or 2^96 (f32), where the values are still finite.
 *
 * uniform and normal stream in blocks: any count needs the same memory.  The
 * file is written to "<path>.tmp.<pid>" and renamed into place when complete,
 * so a failed run leaves nothing behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "edgegrid.h"
#include "error.h"
#include "npy.h"

/* ill data sets are permuted in memory; 1e8 f64 elements take 800 MB. */
#define EG_GEN_ILL_MAX 100000000ull
/* Elements generated and written per block. */
#define BLOCK_ELEMS 65536u

/* ------------------------------------------------------------ the stream */

typedef struct rng {
    uint64_t s[4];
    int has_spare; /* polar method makes normals in pairs */
    double spare;
} rng;

static void rng_seed(rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int k = 0; k < 4; k++)
        r->s[k] = eg_splitmix64(&x);
    r->has_spare = 0;
    r->spare = 0.0;
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* xoshiro256** (Blackman and Vigna). */
static uint64_t rng_next(rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform in [-1, 1) on the grid k * 2^-p (p = 53 or 24): every value is
 * exact in the target type. */
static double rng_sym(rng *r, int p)
{
    int64_t k = (int64_t)(rng_next(r) >> (63 - p)) - ((int64_t)1 << p);
    return ldexp((double)k, -p);
}

/* Uniform in [0, 1) with 53 random bits. */
static double rng_unit(rng *r)
{
    return ldexp((double)(rng_next(r) >> 11), -53);
}

/* A uniform in [0.5, 1) on the same grid, with a random sign. */
static double rng_half_to_one(rng *r, int p)
{
    uint64_t bits = rng_next(r);
    uint64_t k = ((uint64_t)1 << (p - 1)) | (bits >> (65 - p));
    double v = ldexp((double)k, -p);
    return (bits & 1) ? -v : v;
}

/* Uniform integer in [0, range), unbiased by rejection. */
static uint64_t rng_below(rng *r, uint64_t range)
{
    uint64_t threshold = (0 - range) % range;
    for (;;) {
        uint64_t x = rng_next(r);
        if (x >= threshold)
            return x % range;
    }
}

/* Standard normal by Marsaglia's polar method. */
static double rng_normal(rng *r)
{
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    double u, v, s;
    do {
        u = rng_sym(r, 53);
        v = rng_sym(r, 53);
        s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    double m = sqrt(-2.0 * log(s) / s);
    r->spare = v * m;
    r->has_spare = 1;
    return u * m;
}

/* ------------------------------------------------------------- elements */

static uint64_t float_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static uint64_t double_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static unsigned int_bits(eg_dtype t)
{
    return (unsigned)eg_dtype_size(t) * 8;
}

/* Element bit patterns, in the low eg_dtype_size bytes.  Integer types take
 * the top bits of a draw; two's complement makes them uniform for signed
 * types too. */
static uint64_t uniform_bits(rng *r, eg_dtype t)
{
    if (t == EG_F64)
        return double_bits(rng_sym(r, 53));
    if (t == EG_F32)
        return float_bits((float)rng_sym(r, 24));
    return rng_next(r) >> (64 - int_bits(t));
}

/* round(z * 2^bits / 8) clamped to the type (see the top of the file). */
static uint64_t normal_int_bits(double z, eg_dtype t)
{
    unsigned bits = int_bits(t);
    double sigma = ldexp(1.0, (int)bits - 3);
    double top = ldexp(1.0, (int)bits - 1); /* 2^(bits-1) */
    uint64_t mask = bits == 64 ? UINT64_MAX : (((uint64_t)1 << bits) - 1);
    if (eg_dtype_is_signed(t)) {
        double v = round(z * sigma);
        if (v >= top)
            return mask >> 1; /* INT_MAX */
        if (v < -top)
            return ((mask >> 1) + 1) & mask; /* INT_MIN */
        return (uint64_t)(int64_t)v & mask;
    }
    double v = round(top + z * sigma);
    if (v < 0)
        return 0;
    if (v >= 2 * top)
        return mask;
    return (uint64_t)v;
}

static uint64_t normal_bits(rng *r, eg_dtype t)
{
    double z = rng_normal(r);
    if (t == EG_F64)
        return double_bits(z);
    if (t == EG_F32)
        return float_bits((float)z);
    return normal_int_bits(z, t);
}

/* Writes the low `size` bytes of v, least significant first. */
static void store_le(unsigned char *out, uint64_t v, size_t size)
{
    for (size_t k = 0; k < size; k++, v >>= 8)
        out[k] = (unsigned char)(v & 0xff);
}

/* ---------------------------------------------------------- the output */

/* The output goes to the kernel in writes of this size: the page cache
 * gives a write folios up to its size (2 MiB at most on x86-64), and a file
 * kept in large folios reads back faster, by pread or a map, than one in
 * 4 KiB pages; stdio's 4 KiB writes left the demo's own data set at half
 * the read speed of a file numpy wrote (bench/README.md, "Files").  8 MiB
 * is several whole 2 MiB folios and keeps gen's memory small. */
#define OUT_WRITE_BYTES ((size_t)8 << 20)

typedef struct out_file {
    int fd;
    const char *path;
    char *tmp;
    unsigned char *buf; /* OUT_WRITE_BYTES, filled before each write */
    size_t used;
} out_file;

static eg_status io_error(eg_error *err, const char *what, const char *path,
                          int errnum)
{
    char text[128];
    if (strerror_r(errnum, text, sizeof text) != 0)
        text[0] = '\0';
    return eg_error_set(err, errnum == ENOMEM ? EG_ENOMEM : EG_EIO,
                        "%s: %s: %s", path, what, text);
}

static eg_status out_open(out_file *o, const char *path, eg_error *err)
{
    o->path = path;
    o->fd = -1;
    o->used = 0;
    size_t cap = strlen(path) + 32;
    o->tmp = malloc(cap);
    o->buf = malloc(OUT_WRITE_BYTES);
    if (o->tmp == NULL || o->buf == NULL) {
        free(o->tmp);
        free(o->buf);
        o->tmp = NULL;
        o->buf = NULL;
        return eg_error_set(err, EG_ENOMEM, "%s: out of memory", path);
    }
    snprintf(o->tmp, cap, "%s.tmp.%ld", path, (long)getpid());
    o->fd = open(o->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (o->fd < 0) {
        eg_status st = io_error(err, "cannot create", o->tmp, errno);
        free(o->tmp);
        free(o->buf);
        o->tmp = NULL;
        o->buf = NULL;
        return st;
    }
    return EG_OK;
}

/* Hands the buffered bytes to the kernel. */
static eg_status out_flush(out_file *o, eg_error *err)
{
    size_t done = 0;
    while (done < o->used) {
        ssize_t n = write(o->fd, o->buf + done, o->used - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return io_error(err, "write failed", o->tmp, errno);
        done += (size_t)n;
    }
    o->used = 0;
    return EG_OK;
}

static eg_status out_write(out_file *o, const void *p, size_t n, eg_error *err)
{
    const unsigned char *b = p;
    while (n > 0) {
        size_t room = OUT_WRITE_BYTES - o->used;
        size_t k = n < room ? n : room;
        memcpy(o->buf + o->used, b, k);
        o->used += k;
        b += k;
        n -= k;
        if (o->used == OUT_WRITE_BYTES) {
            eg_status st = out_flush(o, err);
            if (st != EG_OK)
                return st;
        }
    }
    return EG_OK;
}

/* Drops the temporary file (after an error). */
static void out_abort(out_file *o)
{
    if (o->fd >= 0)
        close(o->fd);
    if (o->tmp != NULL)
        remove(o->tmp);
    free(o->tmp);
    free(o->buf);
    o->fd = -1;
    o->tmp = NULL;
    o->buf = NULL;
}

/* Writes what is left, closes (which may fail when the disk is full) and
 * renames the temporary file to its final name. */
static eg_status out_commit(out_file *o, eg_error *err)
{
    eg_status st = out_flush(o, err);
    if (st != EG_OK) {
        out_abort(o);
        return st;
    }
    int fd = o->fd;
    o->fd = -1;
    if (close(fd) != 0) {
        st = io_error(err, "write failed", o->tmp, errno);
        out_abort(o);
        return st;
    }
    if (rename(o->tmp, o->path) != 0) {
        st = io_error(err, "cannot rename into place", o->path, errno);
        out_abort(o);
        return st;
    }
    free(o->tmp);
    free(o->buf);
    o->tmp = NULL;
    o->buf = NULL;
    return EG_OK;
}

static eg_status write_header(out_file *o, const eg_gen_opts *opts,
                              eg_error *err)
{
    char header[256];
    uint64_t shape[1] = {opts->count};
    size_t n =
        eg_npy_format_header(header, sizeof header, opts->dtype, 1, shape, 0);
    if (n == 0)
        return eg_error_set(err, EG_EINTERNAL, "%s: header too long", o->path);
    return out_write(o, header, n, err);
}

/* uniform and normal: generate and write one block at a time. */
static eg_status stream_elements(out_file *o, const eg_gen_opts *opts,
                                 eg_error *err)
{
    size_t size = eg_dtype_size(opts->dtype);
    unsigned char *block = malloc((size_t)BLOCK_ELEMS * size);
    if (block == NULL)
        return eg_error_set(err, EG_ENOMEM, "%s: out of memory", o->path);
    rng r;
    rng_seed(&r, opts->seed);
    eg_status st = EG_OK;
    for (uint64_t done = 0; done < opts->count && st == EG_OK;) {
        uint64_t left = opts->count - done;
        size_t n = left < BLOCK_ELEMS ? (size_t)left : BLOCK_ELEMS;
        for (size_t k = 0; k < n; k++) {
            uint64_t v = opts->dist == EG_DIST_NORMAL
                             ? normal_bits(&r, opts->dtype)
                             : uniform_bits(&r, opts->dtype);
            store_le(block + k * size, v, size);
        }
        st = out_write(o, block, n * size, err);
        done += n;
    }
    free(block);
    return st;
}

/* ------------------------------------------------- the exact accumulator */

/* A fixed-point two's-complement number: limb[0] holds the bits below 2^0
 * (64 fraction bits), limb[n-1] the top and the sign.  Adding a double is
 * exact while the double is a multiple of 2^-64 and the total fits, which
 * the ill generator guarantees (all its values lie on a 2^-53 grid and below
 * 2^(b+90)).  This is what makes the cancellation in GenSum real: the running
 * sum is never rounded. */
#define ACC_MAX_LIMBS 20

typedef struct acc {
    uint64_t limb[ACC_MAX_LIMBS];
    unsigned n;
} acc;

static void acc_init(acc *a, unsigned n)
{
    memset(a->limb, 0, sizeof a->limb);
    a->n = n;
}

/* Adds (neg = 0) or subtracts (neg = 1) m * 2^p, p >= 0 counted from the
 * accumulator's lowest bit, carrying or borrowing upward. */
static void acc_add_bits(acc *a, uint64_t m, unsigned p, int neg)
{
    unsigned k = p / 64, off = p % 64;
    uint64_t part[2] = {m << off, off ? m >> (64 - off) : 0};
    uint64_t carry = 0;
    for (unsigned i = k; i < a->n; i++) {
        uint64_t add = (i - k < 2 ? part[i - k] : 0);
        if (i - k >= 2 && carry == 0)
            break;
        uint64_t old = a->limb[i];
        if (!neg) {
            uint64_t s = old + add;
            uint64_t c1 = s < old;
            a->limb[i] = s + carry;
            carry = c1 | (a->limb[i] < s);
        } else {
            uint64_t d = old - add;
            uint64_t b1 = old < add;
            a->limb[i] = d - carry;
            carry = b1 | (d < carry);
        }
    }
}

static void acc_add(acc *a, double x)
{
    if (x == 0.0)
        return;
    int e;
    double m = frexp(fabs(x), &e); /* |x| = m * 2^e, 0.5 <= m < 1 */
    uint64_t mant = (uint64_t)ldexp(m, 53);
    int p = e - 53 + 64;
    if (p < 0) { /* below the grid; the generator never gets here */
        mant >>= -p;
        p = 0;
    }
    acc_add_bits(a, mant, (unsigned)p, x < 0);
}

static unsigned leading_zeros(uint64_t v)
{
    unsigned n = 0;
    for (uint64_t bit = (uint64_t)1 << 63; bit != 0 && !(v & bit); bit >>= 1)
        n++;
    return n;
}

/* The accumulator rounded to nearest: to a double, or (as_float) to a float
 * returned as a double.  Takes the top 64 significant bits and ORs every bit
 * below them into the lowest one, so one correctly rounded integer
 * conversion rounds the whole value. */
static double acc_round(const acc *a, int as_float)
{
    uint64_t v[ACC_MAX_LIMBS];
    unsigned n = a->n;
    memcpy(v, a->limb, n * sizeof v[0]);
    int neg = (v[n - 1] >> 63) != 0;
    if (neg) { /* two's complement negation */
        uint64_t carry = 1;
        for (unsigned i = 0; i < n; i++) {
            v[i] = ~v[i] + carry;
            carry = carry && v[i] == 0;
        }
    }
    unsigned h = n;
    while (h > 0 && v[h - 1] == 0)
        h--;
    if (h == 0)
        return 0.0;
    h--;
    unsigned lz = leading_zeros(v[h]);
    uint64_t top = v[h] << lz, sticky = 0;
    if (h > 0) {
        if (lz > 0) {
            top |= v[h - 1] >> (64 - lz);
            sticky = v[h - 1] << lz;
        } else {
            sticky = v[h - 1];
        }
        for (unsigned i = 0; i + 1 < h; i++)
            sticky |= v[i];
    }
    top |= sticky != 0;
    int scale = (int)(64 * h) - (int)lz - 64;
    double r = as_float ? (double)(float)top : (double)top;
    r = ldexp(r, scale);
    return neg ? -r : r;
}

/* ------------------------------------------------------------ GenSum */

typedef struct ill_gen {
    rng r;
    int p; /* grid bits: 53 (f64) or 24 (f32) */
    int as_float;
    double b;      /* log2(cond): the largest exponent */
    int same_sign; /* cond == 1: all elements non-negative */
    acc sum, abs_sum;
    unsigned char *vals;
    size_t size;
} ill_gen;

static void ill_put(ill_gen *g, uint64_t i, double x)
{
    if (g->as_float) {
        float f = (float)x;
        memcpy(g->vals + i * 4, &f, 4);
    } else {
        memcpy(g->vals + i * 8, &x, 8);
    }
    acc_add(&g->sum, x);
    acc_add(&g->abs_sum, fabs(x));
}

/* The element that takes the exact running sum to target: fl(target - S). */
static double ill_cancel(ill_gen *g, double target)
{
    acc_add(&g->sum, -target);
    double y = acc_round(&g->sum, g->as_float);
    acc_add(&g->sum, target);
    return -y;
}

/* First half: random mantissas, exponents uniform in 0..b, the first one at
 * b (so sum|x| is about 2^b or more) and the last at 0. */
static void ill_first_half(ill_gen *g, uint64_t n1)
{
    int bmax = (int)floor(g->b + 0.5);
    for (uint64_t i = 0; i < n1; i++) {
        int e;
        double r;
        if (i == 0) {
            e = bmax;
            r = rng_half_to_one(&g->r, g->p);
        } else {
            e = i == n1 - 1 ? 0 : (int)floor(g->b * rng_unit(&g->r) + 0.5);
            r = rng_sym(&g->r, g->p);
        }
        double x = ldexp(r, e);
        ill_put(g, i, g->same_sign ? fabs(x) : x);
    }
}

/* Second half: each element cancels the exact running sum down to a fresh
 * random value whose exponent falls linearly from b to 0. */
static void ill_second_half(ill_gen *g, uint64_t from, uint64_t to)
{
    uint64_t m = to - from;
    for (uint64_t j = 0; j < m; j++) {
        double frac = m > 1 ? (double)(m - 1 - j) / (double)(m - 1) : 0.0;
        int e = (int)floor(g->b * frac + 0.5);
        double t = ldexp(rng_sym(&g->r, g->p), e);
        ill_put(g, from + j, ill_cancel(g, t));
    }
}

/* The last element sets the exact sum S_n to +-T chosen so that
 * (sum|x|) / |S_n| = cond.  With A = sum|x| and S the sum so far, the last
 * element is sign(S) * T - S; if T < |S| it adds |S| - T to A, else T - |S|,
 * so T = (A + |S|) / (cond + 1) or (A - |S|) / (cond - 1). */
static void ill_last(ill_gen *g, uint64_t i, double cond)
{
    double s = acc_round(&g->sum, 0);
    double a = acc_round(&g->abs_sum, 0);
    double as = fabs(s);
    double t = (a + as) / (cond + 1.0);
    if (t >= as)
        t = (a - as) / (cond - 1.0);
    /* keep T on the grid so the accumulator stays exact (any double of 1 or
     * more is already a multiple of 2^-52) */
    if (t < 1.0) {
        t = ldexp(nearbyint(ldexp(t, g->p)), -g->p);
        if (t == 0.0)
            t = ldexp(1.0, -g->p);
    }
    if (g->as_float)
        t = (float)t;
    ill_put(g, i, ill_cancel(g, s < 0 ? -t : t));
}

static void ill_shuffle(ill_gen *g, uint64_t n)
{
    unsigned char tmp[8];
    size_t size = g->size;
    for (uint64_t i = n; i > 1; i--) {
        uint64_t j = rng_below(&g->r, i);
        unsigned char *a = g->vals + (i - 1) * size, *b = g->vals + j * size;
        memcpy(tmp, a, size);
        memcpy(a, b, size);
        memcpy(b, tmp, size);
    }
}

/* Largest log2(cond): values reach about 2^(b+30) for 1e8 elements, and must
 * stay finite in the type. */
static double ill_max_b(eg_dtype t)
{
    return t == EG_F32 ? 96.0 : 992.0;
}

static void ill_build(ill_gen *g, uint64_t n, double cond)
{
    /* fraction limb + 2^(b+30) values + 2^56 for cond near 1 + sign */
    unsigned bits = 64 + (unsigned)ceil(g->b) + 30 + 56 + 2;
    acc_init(&g->sum, bits / 64 + 2);
    acc_init(&g->abs_sum, bits / 64 + 2);
    if (g->same_sign || n == 1) {
        ill_first_half(g, n);
    } else {
        uint64_t n1 = n / 2;
        ill_first_half(g, n1);
        ill_second_half(g, n1, n - 1);
        ill_last(g, n - 1, cond);
    }
    ill_shuffle(g, n);
}

static eg_status write_ill(out_file *o, const eg_gen_opts *opts, eg_error *err)
{
    uint64_t n = opts->count;
    ill_gen g;
    memset(&g, 0, sizeof g);
    rng_seed(&g.r, opts->seed);
    g.as_float = opts->dtype == EG_F32;
    g.p = g.as_float ? 24 : 53;
    g.size = eg_dtype_size(opts->dtype);
    g.b = log2(opts->cond);
    g.same_sign = opts->cond == 1.0;
    g.vals = malloc(n > 0 ? (size_t)n * g.size : 1);
    if (g.vals == NULL) {
        return eg_error_set(err, EG_ENOMEM,
                            "%s: out of memory for %llu ill-conditioned "
                            "elements",
                            o->path, (unsigned long long)n);
    }
    if (n > 0)
        ill_build(&g, n, opts->cond);

    /* write in blocks, little-endian whatever the host */
    eg_status st = EG_OK;
    unsigned char block[4096];
    size_t per = sizeof block / g.size;
    for (uint64_t done = 0; done < n && st == EG_OK;) {
        size_t k = n - done < per ? (size_t)(n - done) : per;
        for (size_t i = 0; i < k; i++) {
            uint64_t bits = 0;
            if (g.as_float) {
                float f;
                memcpy(&f, g.vals + (done + i) * 4, 4);
                bits = float_bits(f);
            } else {
                memcpy(&bits, g.vals + (done + i) * 8, 8);
            }
            store_le(block + i * g.size, bits, g.size);
        }
        st = out_write(o, block, k * g.size, err);
        done += k;
    }
    free(g.vals);
    return st;
}

/* ------------------------------------------------------------- the API */

static eg_status check_opts(const char *path, const eg_gen_opts *o,
                            eg_error *err)
{
    if (path == NULL || path[0] == '\0' || o == NULL)
        return eg_error_set(err, EG_EUSAGE, "gen: no output file given");
    if ((int)o->dtype < 0 || o->dtype >= EG_DTYPE_COUNT)
        return eg_error_set(err, EG_EUSAGE, "gen: invalid dtype");
    if (o->dist != EG_DIST_UNIFORM && o->dist != EG_DIST_NORMAL &&
        o->dist != EG_DIST_ILL)
        return eg_error_set(err, EG_EUSAGE, "gen: invalid distribution");
    if (o->count > (UINT64_MAX - 4096) / 8) {
        return eg_error_set(err, EG_EUSAGE, "gen: --count %llu is too large",
                            (unsigned long long)o->count);
    }
    if (o->dist != EG_DIST_ILL)
        return EG_OK;
    if (!eg_dtype_is_float(o->dtype)) {
        return eg_error_set(err, EG_EUSAGE,
                            "gen: --dist ill needs a float dtype (f32 or "
                            "f64), not %s",
                            eg_dtype_name(o->dtype));
    }
    if (o->count > EG_GEN_ILL_MAX) {
        return eg_error_set(err, EG_EUSAGE,
                            "gen: --dist ill builds the data in memory and "
                            "is limited to %llu elements (asked for %llu)",
                            EG_GEN_ILL_MAX, (unsigned long long)o->count);
    }
    double bmax = ill_max_b(o->dtype);
    if (!(o->cond >= 1.0) || !(log2(o->cond) <= bmax)) {
        return eg_error_set(err, EG_EUSAGE,
                            "gen: --cond %g is out of range for %s (1 to "
                            "2^%.0f)",
                            o->cond, eg_dtype_name(o->dtype), bmax);
    }
    return EG_OK;
}

eg_status eg_gen_npy(const char *path, const eg_gen_opts *opts, eg_error *err)
{
    eg_status st = check_opts(path, opts, err);
    if (st != EG_OK)
        return st;
    out_file o;
    st = out_open(&o, path, err);
    if (st != EG_OK)
        return st;
    st = write_header(&o, opts, err);
    if (st == EG_OK) {
        st = opts->dist == EG_DIST_ILL ? write_ill(&o, opts, err)
                                       : stream_elements(&o, opts, err);
    }
    if (st != EG_OK) {
        out_abort(&o);
        return st;
    }
    return out_commit(&o, err);
}
