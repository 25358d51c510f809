/* hist_spread.h - the spread counters of the vector histogram loops
 * (hist_avx512.c, hist_portable.c).
 *
 * With few bins, neighbouring values often fall in one bin, and each
 * increment then waits on the previous one's store (a chain of
 * store-to-load forwards, the cost of a 10-bin histogram of normal data).
 * So with up to EG_SPREAD_BINS_MAX bins lane l counts into copy l % 4 of
 * its bin (counter bin << EG_SPREAD_SHIFT | l % 4), 32-bit counters folded
 * into the state at the end of each call. */
#ifndef EG_HIST_SPREAD_H
#define EG_HIST_SPREAD_H

#include <stdint.h>
#include <string.h>

#include "hist.h"

#define EG_SPREAD_SHIFT 2u
#define EG_SPREAD_BINS_MAX 512u
/* 32-bit copies: fold them before any can reach 2^32 */
#define EG_SPREAD_CHUNK (1ull << 30)

typedef struct eg_hist_spread {
    uint32_t c[EG_SPREAD_BINS_MAX << EG_SPREAD_SHIFT];
} eg_hist_spread;

/* The counters of a call: the spread copies with few bins, zeroed, else
 * NULL (the state's own counts serve). */
static inline uint32_t *eg_hist_spread_begin(eg_hist_spread *sp, unsigned nbins)
{
    if (nbins > EG_SPREAD_BINS_MAX)
        return NULL;
    memset(sp->c, 0, ((size_t)nbins << EG_SPREAD_SHIFT) * sizeof sp->c[0]);
    return sp->c;
}

/* The copies (c from eg_hist_spread_begin) added into s. */
static inline void eg_hist_spread_fold(const uint32_t *c, eg_hist_state *s)
{
    if (!c)
        return;
    for (unsigned b = 0; b < s->nbins; b++) {
        const uint32_t *k = c + ((size_t)b << EG_SPREAD_SHIFT);
        uint64_t sum = 0;
        for (unsigned l = 0; l < (1u << EG_SPREAD_SHIFT); l++)
            sum += k[l];
        s->counts[b] += sum;
    }
}

/* A vector loop over the n values at v into the counters c (the spread
 * copies, or NULL: the state's counts); returns how many it counted. */
typedef uint64_t (*eg_hist_blocks_fn)(const eg_hist_plan *p, eg_hist_state *s,
                                      uint32_t *c, const void *v, uint64_t n);

/* blocks over the n values of es bytes at v, in chunks the 32-bit copies
 * hold, each chunk's copies folded into s; returns how many were counted
 * (blocks leaves the tail of a chunk short of its vector width). */
static inline uint64_t eg_hist_spread_run(const eg_hist_plan *p,
                                          eg_hist_state *s,
                                          eg_hist_blocks_fn blocks,
                                          const void *v, size_t es, uint64_t n)
{
    uint64_t done = 0;
    eg_hist_spread sp;
    while (done < n) {
        uint64_t k = n - done < EG_SPREAD_CHUNK ? n - done : EG_SPREAD_CHUNK;
        uint32_t *c = eg_hist_spread_begin(&sp, p->nbins);
        uint64_t d = blocks(p, s, c, (const char *)v + done * es, k);
        eg_hist_spread_fold(c, s);
        done += d;
        if (d < k)
            break;
    }
    return done;
}

#endif
