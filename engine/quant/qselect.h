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

#include "quant_scan.h"
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
    unsigned threads; /* slots of a pass (quant_scan.h) */
    eg_qdevs *devs;   /* where the passes count; NULL: the host's cores */
    uint64_t n, nan; /* non-NaN keys, NaNs (after the first pass) */
    unsigned passes;
    /* the first pass: a histogram of the top digit, or all the keys */
    uint64_t *top; /* 2^digit counts, or NULL */
    uint64_t *all; /* n sorted keys when the input was small */
    size_t ntargets;
    eg_select_target t[EG_SELECT_MAX_RANKS];
} eg_select;

/* The first pass: counts NaNs and non-NaN keys and their top digit, on
 * devs (NULL: the host's cores), as every later pass of s. */
eg_status eg_select_first(eg_select *s, const eg_source *src, eg_qdevs *devs,
                          eg_error *err);

/* Finds the keys of ranks[0..nranks) (each < s->n) into keys[], with as
 * many further passes as they need. */
eg_status eg_select_ranks(eg_select *s, const eg_source *src,
                          const uint64_t *ranks, size_t nranks, uint64_t *keys,
                          eg_error *err);

void eg_select_free(eg_select *s);

/* One pass over n elements in memory, for a carrier that cuts the data
 * itself (a grid worker): adds to hist (2^16 counts, 2^8 for 8-bit dtypes)
 * the next digit of every key in the bucket (prefix, fixed), and the NaNs
 * to *nan.  The counts are those eg_select's own passes make. */
eg_status eg_select_pass_counts(const void *data, uint64_t n, eg_dtype t,
                                uint64_t prefix, unsigned fixed,
                                uint64_t *hist, uint64_t *nan, eg_error *err);

/* The wire form of one pass's counts (select_wire.c):
 *   "EGSP" u16 version u8 dtype u8 digit bits, u32 fixed, u64 prefix,
 *   u64 nan, then 2^digit u64 counts, little-endian.
 * The decoder checks the bucket against the dtype, the size and that the
 * counts' sum fits 64 bits; counts merge by addition. */
typedef struct eg_select_counts {
    eg_dtype dtype;
    unsigned digit, fixed;
    uint64_t prefix, nan;
    uint64_t *hist;          /* 2^digit; malloc'ed by decode */
} eg_select_counts;

size_t eg_select_counts_size(eg_dtype t);
void eg_select_counts_encode(const eg_select_counts *c, uint8_t *out);
eg_status eg_select_counts_decode(eg_select_counts *c, const uint8_t *in,
                                  size_t len, eg_error *err);
/* a += b; EG_EINPUT when they count different buckets. */
eg_status eg_select_counts_merge(eg_select_counts *a,
                                 const eg_select_counts *b, eg_error *err);
void eg_select_counts_free(eg_select_counts *c);

#endif
