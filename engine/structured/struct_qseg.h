/* struct_qseg.h - the quantile ops of one short segment on one thread.
 *
 * A structured job has one segment per output element, often short (a row
 * of 8 channels, a group of a few rows).  eg_quant's passes are built for
 * long data (threads, 2^16-count histograms, the engine's min/max pass),
 * and their setup dwarfs a short segment.  Here a segment's keys (the
 * order-preserving image of quant_key.h) are sorted whole (qsort when
 * few, else a radix sort by bytes), which finds the
 * very keys the selection passes find, and numpy's arithmetic
 * (quant_numpy.h) turns them into values: the same bits as eg_quant.  The
 * sketch and the histogram are the flat ops' own states. */
#ifndef EG_STRUCT_QSEG_H
#define EG_STRUCT_QSEG_H

#include <stdint.h>

#include "edgegrid.h"
#include "hist.h"

/* Segments up to this many elements take this path; longer ones go
 * through eg_quant, whose passes use every core. */
#define EG_QSEG_MAX (UINT64_C(1) << 16)

typedef struct eg_qseg {
    const eg_quant_opts *qo;
    eg_dtype dtype;
    const eg_hist_plan *shared; /* hist with a given range: one plan */
    uint64_t *keys, *tmp;       /* scratch keys, cap each */
    eg_hist_state h;            /* scratch counts */
    double *edges;              /* nbins + 1 scratch edges */
    unsigned k;                 /* the sketch's mantissa bits */
} eg_qseg;

/* cap: the longest segment it will be given (at most EG_QSEG_MAX). */
eg_status eg_qseg_init(eg_qseg *w, const eg_quant_opts *qo, eg_dtype t,
                       const eg_hist_plan *shared, uint64_t cap,
                       eg_error *err);
void eg_qseg_free(eg_qseg *w);

/* The ops of qo over n <= EG_QSEG_MAX elements at data (native order),
 * into r as eg_quant fills it, except that r->counts and r->edges point
 * into w's scratch (valid until the next call; never free them). */
eg_status eg_qseg_run(eg_qseg *w, const void *data, uint64_t n,
                      eg_quant_result *r, eg_error *err);

/* The arrays of a per-output quantile result (struct_quant.c), shared by
 * the one-box run and the grid's collector (struct_qgrid.c), so both lay
 * out and type their results alike. */
typedef struct eg_squant_work {
    eg_number *quant, *approx, *median; /* [nq][nout], [nq][nout], [nout] */
} eg_squant_work;

/* Allocates q's hist arrays and w's value arrays for nout outputs. */
eg_status eg_squant_alloc(const eg_quant_opts *qo, uint64_t nout,
                          eg_squant_result *q, eg_squant_work *w,
                          eg_error *err);
/* Output e's values from its own eg_quant (or eg_qseg) result. */
void eg_squant_store(const eg_quant_opts *qo, uint64_t nout, uint64_t e,
                     const eg_quant_result *r, eg_squant_result *q,
                     eg_squant_work *w);
/* When st is EG_OK, turns w's values into q's typed arrays (one kind per
 * array, float64 when kinds mix); frees w either way. */
eg_status eg_squant_settle(const eg_quant_opts *qo, uint64_t nout,
                           eg_squant_work *w, eg_squant_result *q,
                           eg_status st, eg_error *err);

/* Output e's failure (why, from eg_quant or eg_qseg) as the one-box run
 * words it: "INPUT, column [i]: ..." (or "group K, ..."); returns st. */
struct eg_struct_plan;
eg_status eg_squant_segment_error(const struct eg_struct_plan *p, uint64_t e,
                                  const char *input, eg_status st,
                                  const eg_error *why, eg_error *err);

#endif
