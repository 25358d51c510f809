/* qselect_pass.h - one radix-selection pass's counting on a block of
 * values, on one thread: the part of selection that both a box's passes
 * (qselect.c, over the host's threads) and a grid worker's task
 * (eg_select_pass_counts) run.  Private to engine/quant. */
#ifndef EG_QSELECT_PASS_H
#define EG_QSELECT_PASS_H

#include <stdint.h>

#include "qselect.h"
#include "quant_scan.h"

/* One bucket searched in a pass: by its next digit, or collected. */
typedef struct sel_group {
    uint64_t prefix;
    unsigned fixed;
    int collect;
    uint64_t *hist[EG_QSCAN_MAX_THREADS]; /* 2^digit each */
    uint64_t *keys[EG_QSCAN_MAX_THREADS]; /* collect: up to cap each */
    uint64_t len[EG_QSCAN_MAX_THREADS];
    uint64_t cap;
} sel_group;

typedef struct sel_pass {
    const eg_select *s;
    size_t ngroups;
    sel_group g[EG_SELECT_MAX_RANKS];
    uint64_t nan[EG_QSCAN_MAX_THREADS];
    uint64_t keys[EG_QSCAN_MAX_THREADS];
} sel_pass;

/* Counts (or collects) the n values at data into every group of the pass
 * `ctx` (a sel_pass) with thread th's counters; an eg_qscan block
 * function. */
void eg_select_pass_block(void *ctx, unsigned th, const void *data,
                          uint64_t n);

#endif
