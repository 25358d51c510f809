/* structured.h - structured reductions as an array of partial states.
 *
 * A plan maps every output element e to its "segment": the elements it
 * reduces, in a fixed order (C order along the reduced axes; row order
 * within a group).  Segment position p of element e lives at memory offset
 * out_offset(e) + seg_offset(e, p) of each source.  The segment is cut into
 * chunks of the job's chunk size from p = 0, every chunk becomes lane
 * records (on any device: they all give the same bits) and one chunk state,
 * and the chunk states merge in chunk order: the bits of reducing that
 * segment alone as a 1-D array.
 *
 * Axis mode is the one-group case of group mode: one group, whose segment
 * is the reduced axes, and `rest` outputs per group (the kept axes).
 */
#ifndef EG_STRUCTURED_H
#define EG_STRUCTURED_H

#include <stddef.h>
#include <stdint.h>

#include "edgegrid.h"
#include "source.h"
#include "state.h"

/* How one source's memory maps logical (C-order) coordinates. */
/* Threads (slices of rows) of --by's grouping and permutation, at most. */
#define EG_STRUCT_MAX_SLICES 16
/* Rows whose keys and slots a pass of them takes at once. */
#define EG_STRUCT_KEY_BLOCK 16384

typedef struct eg_struct_view {
    const unsigned char *base;    /* stored bytes */
    int swap;                     /* not native byte order */
    uint64_t stride[EG_MAX_DIMS]; /* elements per step along each axis */
} eg_struct_view;

typedef struct eg_struct_plan {
    eg_dtype dtype;
    size_t size; /* bytes per element */
    unsigned ndim;
    uint64_t dim[EG_MAX_DIMS];         /* the input's logical shape */
    int by;                            /* group mode */
    unsigned nred, red[EG_MAX_DIMS];   /* reduced axes, ascending */
    unsigned nkeep, keep[EG_MAX_DIMS]; /* kept axes, ascending */
    uint64_t rest;                     /* outputs per group */
    uint64_t nout;                     /* ngroups * rest */
    uint64_t ngroups;
    uint64_t seg_len; /* axis mode: elements per segment */
    uint64_t *gstart; /* group mode: ngroups + 1 starts ... */
    uint64_t *rows;   /* ... into rows, ascending per group */
    int64_t *gkeys;   /* group mode: each group's key */
    /* Group mode, from eg_struct_group to the permutations: the rows cut
     * into nslice slices in order, [slice[s], slice[s + 1]), one a thread.
     * A row's slot is its key minus key_lo where slot_keys (a dense key
     * range; the keys, borrowed, at `keys` until eg_struct_prepare is done
     * with them), else gid[r], its group.  soff[s * nslots + slot] is
     * where slice s's first row of that slot goes in group order, so the
     * slices scatter at once and each group keeps its rows ascending. */
    unsigned nslice;
    uint64_t slice[EG_STRUCT_MAX_SLICES + 1];
    int slot_keys;
    const eg_source *keys;
    eg_dtype key_dtype;
    uint64_t key_lo, nslots;
    uint32_t *soff;
    uint32_t *gid; /* (sparse keys) each row's group */
    int permuted;     /* the views are eg_struct_permute's
                         copies: segment (g, j) at
                         j * rows + gstart[g], contiguous */
    int keys_unsigned;
    unsigned out_ndim;
    uint64_t out_shape[EG_MAX_DIMS];
    eg_struct_view x, y;
    int has_y;
} eg_struct_plan;

/* Checks the options against the input's shape and fills the plan's shapes
 * and axes (not the views or the groups).  argmin/argmax with more than one
 * reduced axis is EG_EUSAGE; a bad or repeated axis too. */
eg_status eg_struct_plan_shape(eg_struct_plan *p, const eg_array_info *info,
                               const eg_struct_opts *so, unsigned ops,
                               eg_error *err);

/* A source's view for the plan's logical shape (C or Fortran order). */
void eg_struct_plan_view(const eg_struct_plan *p, const eg_source *src,
                         eg_struct_view *v);

/* Group mode: groups the plan's rows by the integer keys of source `keys`
 * (one a row, which must stay open until the permutations are done);
 * fills ngroups, gstart, gkeys, nout, out_shape, the slices and slots the
 * permutations take, and with_rows the rows of each group (for
 * argmin/argmax).  `name` names the keys in messages.  Parallel over the
 * slices: a dense key range is counted in tables of slots, others are
 * sorted (their distinct keys) and searched. */
eg_status eg_struct_group(eg_struct_plan *p, const eg_source *keys,
                          int with_rows, const char *name, eg_error *err);

/* Group mode: the slots of rows [r0, r0 + n) into out (one slice's, n at
 * most EG_STRUCT_KEY_BLOCK), their keys read through kbuf (8 bytes a
 * row); EG_EIO when a file of keys fails to read. */
eg_status eg_struct_slots(const eg_struct_plan *p, uint64_t r0, uint64_t n,
                          void *kbuf, uint32_t *out, eg_error *err);

/* Group mode: a native-order copy of v's elements with every group's rows
 * side by side, [rest][rows] in group order (*out, malloc'ed), written in
 * one pass that reads each slice of rows in order, the slices at once:
 * segments then need no gather.
 * A view with no base (src a file too large to copy, eg_source_open_rows)
 * is read from src with pread in row ranges: a file changed under the
 * reads is EG_EIO. */
eg_status eg_struct_permute(const eg_struct_plan *p, const eg_struct_view *v,
                            const eg_source *src, void **out, eg_error *err);

void eg_struct_plan_free(eg_struct_plan *p);

static inline uint64_t eg_struct_group_len(const eg_struct_plan *p, uint64_t g)
{
    return p->by ? p->gstart[g + 1] - p->gstart[g] : p->seg_len;
}

/* Memory offset (elements) of output e's segment start in view v. */
uint64_t eg_struct_out_offset(const eg_struct_plan *p, const eg_struct_view *v,
                              uint64_t e);

/* s when output e's segment starts at e * s in v's memory for every e
 * (axis mode, kept axes laid out in C order), else 0. */
uint64_t eg_struct_out_step(const eg_struct_plan *p, const eg_struct_view *v);

/* 1 when positions [p0, p0 + n) of every segment are consecutive in v's
 * memory (offset p0 + q), so no gather is needed (native order only). */
int eg_struct_seg_contiguous(const eg_struct_plan *p, const eg_struct_view *v);

/* Copies positions [p0, p0 + n) of output e's segment, in native order, to
 * dst (n elements). */
void eg_struct_gather(const eg_struct_plan *p, const eg_struct_view *v,
                      uint64_t e, uint64_t p0, uint64_t n, void *dst);

/* The same for outputs [e0, e0 + nb) at once: output e0 + k to
 * dst + k * ld elements.  Reads across the outputs position by position,
 * for columns that lie side by side in memory. */
void eg_struct_gather_block(const eg_struct_plan *p, const eg_struct_view *v,
                            uint64_t e0, uint64_t nb, uint64_t p0, uint64_t n,
                            void *dst, uint64_t ld);

/* The input's index that segment position `pos` of output e stands for, as
 * argmin/argmax report it: the index along the reduced axis, or the row. */
static inline uint64_t eg_struct_index(const eg_struct_plan *p, uint64_t e,
                                       uint64_t pos)
{
    return p->by ? p->rows[p->gstart[e / p->rest] + pos] : pos;
}

/* Axis mode on sources with no stored bytes (eg_source_open_rows, a file
 * too large to copy): 1 when the plan cuts into pieces of whole segments
 * that eg_source_piece_bytes holds (reduced axes last or first, C order). */
int eg_struct_pieces_fit(const eg_struct_plan *p);
/* Runs such a plan piece by piece: each piece's elements read with pread
 * (a file changed under the reads is EG_EIO), reduced as an array of its
 * own into its outputs of out: the bits of eg_struct_run on the whole. */
eg_status eg_struct_run_pieces(eg_engine *e, const eg_struct_plan *p,
                               const eg_source *x, const eg_source *y,
                               const eg_reduce_opts *o, eg_sresult *out,
                               eg_error *err);

/* Threads for a pass over `rows` rows (struct_par.c), and the pass:
 * fn(ctx, t) for t in [0, nt), each on a thread of its own. */
unsigned eg_struct_threads(uint64_t rows);
void eg_struct_par(unsigned nt, void (*fn)(void *ctx, unsigned t), void *ctx);

/* Runs a planned job on the engine's devices into out (see edgegrid.h). */
eg_status eg_struct_run(eg_engine *e, const eg_struct_plan *p,
                        const eg_reduce_opts *o, eg_sresult *out,
                        eg_error *err);

/* Where the states of a structured job end up, on one box or on the grid:
 * each output's state finalized into the result arrays; the chunk states
 * of multi-chunk segments kept in slots until they merge in chunk order.
 * Which path an output takes mirrors eg_engine_reduce_range for a 1-D
 * array of its length, so every output has the bits of its segment alone. */
typedef struct eg_struct_out {
    const eg_struct_plan *p;
    const eg_reduce_opts *o;
    unsigned groups;
    uint64_t chunk;
    eg_value *vals[EG_OP_COUNT_ALL];
    /* Each op's kind where an output has no byte of its own: what every
     * output of a float fast-mode job has (f64, counts u64, indices i64).
     * kinds[op] is allocated (zeroed) by the first output of another kind
     * and holds 1 + the kind of such outputs, 0 elsewhere: a job whose
     * outputs all have the usual kind writes no byte per output. */
    unsigned char dkind[EG_OP_COUNT_ALL];
    _Atomic(unsigned char *) kinds[EG_OP_COUNT_ALL];
    eg_state *states; /* chunk states of multi-chunk segments */
    uint64_t *sbase;  /* per group: its first slot, or UINT64_MAX */
} eg_struct_out;

/* Chunks of a segment of `len` elements (1 for an empty one). */
static inline uint64_t eg_struct_chunks(uint64_t len, uint64_t chunk)
{
    return len <= chunk ? 1 : (len + chunk - 1) / chunk;
}

/* The accumulator groups a job of these options computes. */
unsigned eg_struct_groups(const eg_struct_plan *p, const eg_reduce_opts *o);

eg_status eg_struct_out_init(eg_struct_out *so, const eg_struct_plan *p,
                             const eg_reduce_opts *o, uint64_t chunk,
                             eg_error *err);
/* Finalizes output e's whole state into the arrays (tmp: scratch). */
eg_status eg_struct_out_store(eg_struct_out *so, uint64_t e,
                              const eg_state *s, eg_result *tmp,
                              eg_error *why);
/* Chunk c's state of output e: into its slot, or finalized when it is the
 * segment's only chunk.  Threads may call it for distinct (e, c). */
eg_status eg_struct_out_chunk(eg_struct_out *so, uint64_t e, uint64_t c,
                              const eg_state *cs, eg_result *tmp,
                              eg_error *why);
/* Merges the slots in chunk order and stores them; fail(ctx, e, why) for
 * each output that cannot be finalized. */
void eg_struct_out_merge(eg_struct_out *so, eg_result *tmp,
                         void (*fail)(void *ctx, uint64_t e,
                                      const eg_error *why),
                         void *ctx);
/* Moves the arrays into out->op[] (one kind per op). */
void eg_struct_out_settle(eg_struct_out *so, eg_sresult *out);
void eg_struct_out_free(eg_struct_out *so);

/* The segmented lane pass (struct_short.c): up to EG_SHORT_BATCH outputs
 * whose segments are one lane each (1 to EG_LANE_ELEMS elements, read in
 * place), reduced side by side into so's arrays with the bits of each
 * segment alone.  Unused entries of a batch repeat its first (their
 * results are not stored). */
#define EG_SHORT_BATCH 8
typedef struct eg_short_batch {
    int n;                         /* outputs, 1 to EG_SHORT_BATCH */
    int uniform;                   /* all EG_SHORT_BATCH of len[0], entry i
                                      at x[0] + i * len[0] (y alike) */
    uint64_t e[EG_SHORT_BATCH];    /* their output elements */
    uint64_t len[EG_SHORT_BATCH];  /* their segments' lengths */
    const void *x[EG_SHORT_BATCH]; /* their first elements, native order */
    const void *y[EG_SHORT_BATCH]; /* (dot's second operand) */
} eg_short_batch;

/* 1 when a job's one-lane segments can take eg_struct_short: a float dtype
 * in fast mode, the ops it finishes, segments readable in place. */
int eg_struct_short_ok(const eg_struct_plan *p, const eg_reduce_opts *o,
                       unsigned groups, int xcontig, int ycontig);
/* Stores the batch's results; returns the mask of entries it left alone
 * (a lane for the careful path: NaN, infinities, overflow, f64 l2 out of
 * Blue's middle range), for the caller to reduce the generic way. */
unsigned eg_struct_short(eg_struct_out *so, const eg_short_batch *b);
/* 1 when a job's rows can take eg_struct_short_sums: a float dtype in
 * fast mode, no op but count, sum and mean. */
int eg_struct_short_sums_ok(const eg_struct_out *so);
/* nbatch * EG_SHORT_BATCH rows of `len` (1 to EG_LANE_ELEMS) elements one
 * after the other from x (native order), outputs e0 on: the segmented lane
 * pass of eg_struct_short for the sum alone, from the rows straight to
 * the result arrays.  A row the fast path cannot take (a non-finite
 * accumulator) is left to careful(ctx, e). */
void eg_struct_short_sums(eg_struct_out *so, const void *x, uint64_t e0,
                          uint64_t nbatch, uint64_t len,
                          void (*careful)(void *ctx, uint64_t e), void *ctx);
/* The same for the ops of eg_struct_short_rows_ok (count, sum, mean,
 * min, max, argmin, argmax, var, std; axis mode, a float dtype in fast
 * mode): the min/max and var lanes of eg_struct_short and its finishing,
 * each batch finished while the next one's lanes run. */
int eg_struct_short_rows_ok(const eg_struct_out *so);
void eg_struct_short_rows(eg_struct_out *so, const void *x, uint64_t e0,
                          uint64_t nbatch, uint64_t len,
                          void (*careful)(void *ctx, uint64_t e), void *ctx);
/* After a thread's last eg_struct_short: its stores to the result arrays
 * (some bypass the caches) are ordered before whatever the thread does
 * next, so the threads that join it see them. */
void eg_struct_short_fence(void);

/* --by with few outputs without the copy in group order (struct_stream.c):
 * the rows read once, in slices, into each output's pending lane.  The
 * pending lanes' bytes at most (all slices): measured on a 32 MiB L3,
 * float32, two slices, K = 300 streams as fast as the copy and K = 1,000
 * 15% slower (bench/README.md, --by). */
#define EG_STREAM_MAX_BYTES ((uint64_t)16 << 20)
/* 1 when a grouped plan (views not permuted) takes eg_struct_run_stream:
 * stored sources, pending lanes within EG_STREAM_MAX_BYTES (test builds:
 * forced either way by $EDGEGRID_TEST_BY_PATH, "copy" or "stream"). */
int eg_struct_stream_ok(const eg_struct_plan *p);
/* Runs such a plan with the keys still open (p->keys): the bits of
 * eg_struct_permute and eg_struct_run. */
eg_status eg_struct_run_stream(eg_engine *e, const eg_struct_plan *p,
                               const eg_reduce_opts *o, eg_sresult *out,
                               eg_error *err);

/* Plans a structured job over sources x (and y) as eg_reduce_file_structured
 * does: shapes, groups and (group mode) the permuted copies, which *xs and
 * *ys own (free them after the plan). */
eg_status eg_struct_prepare(eg_struct_plan *p, const eg_source *x,
                            const eg_source *y, const eg_struct_opts *so,
                            const eg_reduce_opts *o, void **xs, void **ys,
                            eg_error *err);
/* Fills out's shapes, groups (moved from the plan) and input figures. */
void eg_struct_result_meta(eg_struct_plan *p, const eg_source *x, int has_y,
                           const eg_reduce_opts *o, eg_sresult *out);

#endif
