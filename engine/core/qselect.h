/* qselect.h - exact order statistics by radix selection.
 *
 * The keys (quant_key.h) are cut into digits of 16 bits (8 for 8-bit
 * dtypes), most significant first.  A pass over the data counts, for every
 * bucket that still holds a wanted rank, how many keys fall on each value
 * of its next digit: an integer histogram, merged by addition across
 * threads, devices or workers, so the bits never depend on the split.  The
 * rank then picks one digit value, and the next pass looks inside it.  A
 * bucket of at most EG_SELECT_COLLECT keys is collected whole instead and
 * sorted, which ends that rank's search a pass early.  A dtype of W bits
 * takes at most W / 16 passes (one for 8 and 16 bits). */
#ifndef EG_QSELECT_H
#define EG_QSELECT_H

#include <stdint.h>

#include "source.h"

#define EG_SELECT_COLLECT (1u << 16)
#define EG_SELECT_MAX_RANKS (2 * EG_QUANT_MAX_Q + 2)

typedef struct eg_select_target {
    uint64_t rank;   /* 0-based, among the non-NaN keys */
    uint64_t prefix; /* the top `fixed` bits of its key */
    unsigned fixed;
    uint64_t local;  /* its rank within that bucket */
    uint64_t bucket; /* keys in that bucket */
    int done;
    uint64_t key; /* when done */
} eg_select_target;

typedef struct eg_select {
    eg_dtype dtype;
    unsigned width, digit; /* key bits, bits per pass */
    unsigned threads;
    uint64_t n, nan; /* non-NaN keys, NaNs (after the first pass) */
    unsigned passes;
    /* the first pass: a histogram of the top digit, or all the keys */
    uint64_t *top; /* 2^digit counts, or NULL */
    uint64_t *all; /* n sorted keys when the input was small */
    size_t ntargets;
    eg_select_target t[EG_SELECT_MAX_RANKS];
} eg_select;

/* The first pass: counts NaNs and non-NaN keys and their top digit. */
eg_status eg_select_first(eg_select *s, const eg_source *src, eg_error *err);

/* Finds the keys of ranks[0..nranks) (each < s->n) into keys[], with as
 * many further passes as they need. */
eg_status eg_select_ranks(eg_select *s, const eg_source *src,
                          const uint64_t *ranks, size_t nranks, uint64_t *keys,
                          eg_error *err);

void eg_select_free(eg_select *s);

#endif
