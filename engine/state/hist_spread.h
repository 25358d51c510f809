/* hist_spread.h - the spread counters of the vector histogram loops
 * (hist_avx512.c, hist_portable.c).
 *
 * With few bins, neighbouring values often fall in one bin, and each
 * increment then waits on the previous one's store (a chain of
 * store-to-load forwards, the cost of a 10-bin histogram of normal data).
 * So with up to EG_SPREAD_BINS_MAX bins lane l counts into copy l % 4 of
 * its bin (counter bin << EG_SPREAD_SHIFT | l % 4), 32-bit counters folded
 * into the state at the end of each call.
 *
 * Up to EG_NARROW_BINS_MAX bins the same 32-bit counters serve in one copy
 * (shift 0): with many bins, chains are rare, but the state's 64-bit
 * counts of 4,096 bins (32 KiB) share L1 with the data and the queue, and
 * their increments took two thirds of a 4,096-bin histogram's time on an
 * Intel Xeon (bench/README.md, the narrow counters). */
#ifndef EG_HIST_SPREAD_H
#define EG_HIST_SPREAD_H

#include <stdint.h>
#include <string.h>

#include "hist.h"

#define EG_SPREAD_SHIFT 2u
#define EG_SPREAD_BINS_MAX 512u
#define EG_NARROW_BINS_MAX 4096u
/* 32-bit copies: fold them before any can reach 2^32 */
#define EG_SPREAD_CHUNK (1ull << 30)

_Static_assert(EG_NARROW_BINS_MAX >= EG_SPREAD_BINS_MAX << EG_SPREAD_SHIFT,
               "the narrow counters' room holds the spread copies");

typedef struct eg_hist_spread {
    uint32_t c[EG_NARROW_BINS_MAX];
} eg_hist_spread;

/* log2 of the copies per bin of the 32-bit counters for nbins bins. */
static inline unsigned eg_hist_spread_shift(unsigned nbins)
{
    return nbins <= EG_SPREAD_BINS_MAX ? EG_SPREAD_SHIFT : 0;
}

/* The counters of a call: 32-bit ones (with few bins, spread copies),
 * zeroed, or NULL past EG_NARROW_BINS_MAX bins (the state's own counts
 * serve). */
static inline uint32_t *eg_hist_spread_begin(eg_hist_spread *sp, unsigned nbins)
{
    if (nbins > EG_NARROW_BINS_MAX)
        return NULL;
    memset(sp->c, 0,
           ((size_t)nbins << eg_hist_spread_shift(nbins)) * sizeof sp->c[0]);
    return sp->c;
}

/* The copies (c from eg_hist_spread_begin) added into s. */
static inline void eg_hist_spread_fold(const uint32_t *c, eg_hist_state *s)
{
    if (!c)
        return;
    const unsigned shift = eg_hist_spread_shift(s->nbins);
    for (unsigned b = 0; b < s->nbins; b++) {
        const uint32_t *k = c + ((size_t)b << shift);
        uint64_t sum = 0;
        for (unsigned l = 0; l < (1u << shift); l++)
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
