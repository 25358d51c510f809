/* qselect_vec.h - the vector spelling of a selection pass (qselect.c) over
 * float data: each key made once, then tested against every bucket. */
#ifndef EG_QSELECT_VEC_H
#define EG_QSELECT_VEC_H

#include <stddef.h>
#include <stdint.h>

#include "edgegrid.h"

/* One bucket of the pass: the keys' top `fixed` bits equal prefix; its
 * next 16 bits are counted into hist, or (hist NULL) the keys appended to
 * keys[len..cap). */
typedef struct eg_select_vgroup {
    uint64_t prefix;
    unsigned fixed;
    uint64_t *hist;
    uint64_t *keys;
    uint64_t len, cap;
} eg_select_vgroup;

/* Whether the vector passes take these buckets of dtype t: float data, 1
 * to MAX buckets, each digit 16 bits below its prefix, and a prefix of 0
 * bits (every key) only as the first pass's one bucket. */
static inline int eg_select_vgroups_ok(eg_dtype t, const eg_select_vgroup *g,
                                       size_t ng, size_t max)
{
    unsigned w = t == EG_F32 ? 32 : 64;
    if ((t != EG_F32 && t != EG_F64) || ng == 0 || ng > max)
        return 0;
    for (size_t j = 0; j < ng; j++)
        if ((g[j].hist && g[j].fixed + 16 > w) || g[j].fixed >= w ||
            (g[j].fixed == 0 && ng != 1))
            return 0;
    return 1;
}

/* Runs the pass over data[0..k) for the largest k <= n the vectors cover,
 * adds the NaNs seen to *nan and returns k (0: no AVX-512, not a float
 * dtype, or a bucket the vectors do not handle). */
uint64_t eg_select_pass_avx512(eg_dtype t, const void *data, uint64_t n,
                               eg_select_vgroup *g, size_t ng, uint64_t *nan);

/* The same in portable vectors (qselect_portable.c), for CPUs without
 * AVX-512: 0 only for a dtype or bucket it does not handle. */
uint64_t eg_select_pass_portable(eg_dtype t, const void *data, uint64_t n,
                                 eg_select_vgroup *g, size_t ng,
                                 uint64_t *nan);

#endif
