/* bench_data.c - allocation and deterministic filling of the bench arrays.
 * Floats are uniform in [0, 1), like numpy's random(); integers stay within
 * -100..200 so no integer sum, square or product can overflow and every
 * dtype takes the same path through the engine as real data would. */
#include <stdlib.h>
#include <string.h>

#include "bench_data.h"

#define FILL_FLOAT(type)                                                   \
    do {                                                                   \
        type *p = buf;                                                     \
        for (uint64_t i = 0; i < count; i++)                               \
            p[i] = (type)((double)(eg_splitmix64(&s) >> 11) * 0x1p-53);       \
    } while (0)

#define FILL_INT(type, lo)                                                 \
    do {                                                                   \
        type *p = buf;                                                     \
        for (uint64_t i = 0; i < count; i++)                               \
            p[i] = (type)((int)(eg_splitmix64(&s) % 201u) + (lo));            \
    } while (0)

static void fill(void *buf, eg_dtype t, uint64_t count, uint64_t seed)
{
    uint64_t s = seed;

    switch (t) {
    case EG_F32: FILL_FLOAT(float); break;
    case EG_F64: FILL_FLOAT(double); break;
    case EG_I8: FILL_INT(int8_t, -100); break;
    case EG_U8: FILL_INT(uint8_t, 0); break;
    case EG_I16: FILL_INT(int16_t, -100); break;
    case EG_U16: FILL_INT(uint16_t, 0); break;
    case EG_I32: FILL_INT(int32_t, -100); break;
    case EG_U32: FILL_INT(uint32_t, 0); break;
    case EG_I64: FILL_INT(int64_t, -100); break;
    case EG_U64: FILL_INT(uint64_t, 0); break;
    default: memset(buf, 0, count * eg_dtype_size(t)); break;
    }
}

/* Page-aligned, so every contender (and the roof's aligned vector loads)
 * starts on the same footing; at least one byte so a zero count works. */
static void *alloc_filled(eg_dtype t, uint64_t count, uint64_t seed)
{
    void *p = NULL;
    size_t bytes = (size_t)count * eg_dtype_size(t);

    if (posix_memalign(&p, 4096, bytes ? bytes : 1) != 0)
        return NULL;
    fill(p, t, count, seed);
    return p;
}

int bench_data_alloc(bench_data *d, eg_dtype t, uint64_t count, int with_y)
{
    memset(d, 0, sizeof *d);
    if (count > SIZE_MAX / eg_dtype_size(t))
        return -1;
    d->dtype = t;
    d->count = count;
    if ((d->x = alloc_filled(t, count, 1)) == NULL)
        return -1;
    if (with_y && (d->y = alloc_filled(t, count, 2)) == NULL) {
        bench_data_free(d);
        return -1;
    }
    return 0;
}

void bench_data_free(bench_data *d)
{
    free(d->x);
    free(d->y);
    d->x = NULL;
    d->y = NULL;
    d->count = 0;
}
