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
