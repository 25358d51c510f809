/* engine_grid.h - the engine's one internal contract with the grid
 * (cluster/): the engine at the level of partial states, for producers and
 * carriers of states beside the public API.  The grid's worker reduces task
 * ranges; its collector merges states and finishes them.
 *
 * cluster/ includes edgegrid.h and this header, nothing else of the engine:
 * the headers named here (the state and its wire form, the little-endian
 * words of every wire form, sources, the error helpers) are reached through it by relative path, and no other engine
 * folder is on the grid's include path. */
#ifndef EG_ENGINE_GRID_H
#define EG_ENGINE_GRID_H

#include "edgegrid.h"
#include "../core/error.h"
#include "../io/source.h"
#include "../state/state.h"
#include "../state/wire_le.h"

/* Default chunk: 4 Mi elements (16 MiB of f32), a multiple of a lane; the
 * coordinator cuts tasks on the same grid. */
#define EG_DEFAULT_CHUNK_ELEMS (1024u * EG_LANE_ELEMS)

/* Reduces elements [first, first + count) of x (and y for dot) into `out`,
 * whose indices are global (first included).  Fills stats->devices,
 * ndevices, seconds, bytes and notes; nothing else of stats. */
eg_status eg_engine_reduce_range(eg_engine *e, const eg_source *x,
                                 const eg_source *y, uint64_t first,
                                 uint64_t count, const eg_reduce_opts *o,
                                 eg_state *out, eg_result *stats,
                                 eg_error *err);

/* Finalizes a merged state into out->value, mode and shape.  With x (may be
 * NULL when the data lives elsewhere) it also takes x's shape and turns
 * argmin/argmax of Fortran-order arrays into C-order indices. */
eg_status eg_result_finish(const eg_state *s, const eg_source *x,
                           const eg_reduce_opts *o, eg_result *out,
                           eg_error *err);

/* Folds n values at x (host memory), whose first has index `base` in its
 * window, into acc (acc (+) their state): the canonical lanes taken in
 * order, fast or exact as `groups` says (EG_G_* of state.h).  Streams fold
 * their windows' buffered records with it (cluster/stream/); runs of whole
 * lanes folded one after another give the bits of one chunk of them. */
void eg_state_fold_values(eg_state *acc, const void *x, uint64_t n,
                          eg_dtype dtype, unsigned groups, uint64_t base);
/* The state of those values alone: eg_state_init, then the fold. */
void eg_state_of_values(const void *x, uint64_t n, eg_dtype dtype,
                        unsigned groups, uint64_t base, eg_state *out);

/* ------------------------------------------- structured jobs on the grid
 *
 * The coordinator plans a structured job (--axis, --by) into tasks, each
 * chunk c of the segments of nseg consecutive output elements; a worker
 * reduces each gathered segment chunk into its chunk state; the collector
 * files them as a one-box run does.  Same bits as `reduce --chunk CHUNK`. */

/* Most segments one task holds (its RESULT carries one state each). */
#define EG_SGRID_SEGS_MAX 1024u

typedef struct eg_sgrid eg_sgrid;

typedef struct eg_sgrid_task {
    uint64_t e0, nseg; /* output elements [e0, e0 + nseg) */
    uint64_t c, p0;    /* chunk c of each segment, from position p0 */
    uint64_t count;    /* elements per operand, all segments together */
} eg_sgrid_task;

/* Plans x (and y for dot) with the options' axes or keys at `chunk`
 * elements per chunk (a lane multiple): shapes, groups, tasks.  Usage and
 * input errors as eg_reduce_file_structured gives them.  x and y must
 * outlive the plan. */
eg_status eg_sgrid_open(eg_sgrid **g, const eg_source *x, const eg_source *y,
                        const eg_struct_opts *so, const eg_reduce_opts *o,
                        uint64_t chunk, eg_error *err);
uint64_t eg_sgrid_ntasks(const eg_sgrid *g);
const eg_sgrid_task *eg_sgrid_task_at(const eg_sgrid *g, uint64_t t);
uint64_t eg_sgrid_chunk(const eg_sgrid *g);
eg_dtype eg_sgrid_dtype(const eg_sgrid *g);
/* Each segment's elements in task t (lens[nseg]). */
void eg_sgrid_task_lens(const eg_sgrid *g, uint64_t t, uint64_t *lens);
/* Task t's elements of x (which = 0) or y, native order, segment after
 * segment, into dst (count elements). */
void eg_sgrid_task_data(const eg_sgrid *g, uint64_t t, int which, void *dst);
/* NULL when s can be state i of task t (dtype, groups, length, indices
 * within the chunk), else why not. */
const char *eg_sgrid_check(const eg_sgrid *g, uint64_t t, uint64_t i,
                           const eg_state *s);
/* Files state i of task t (checked; each (t, i) once). */
void eg_sgrid_put(eg_sgrid *g, uint64_t t, uint64_t i, const eg_state *s);
/* Once every task is in: merges, finalizes and fills out (its shape,
 * groups and input figures; x as given to eg_sgrid_open). */
eg_status eg_sgrid_finish(eg_sgrid *g, const eg_source *x, int has_y,
                          eg_sresult *out, eg_error *err);
void eg_sgrid_close(eg_sgrid **g);

/* The worker's side: nseg segments of lens[i] elements side by side at x
 * (and y), each chunk p0.. of its segment, into out[nseg] chunk states
 * whose indices count from the segment's start. */
eg_status eg_reduce_segments(const void *x, const void *y,
                             const uint64_t *lens, uint64_t nseg, uint64_t p0,
                             eg_dtype dtype, const eg_reduce_opts *o,
                             eg_state *out, eg_error *err);

/* ------------------------------------------------- quantile jobs on the grid
 *
 * median, quantile, approx_quantile and hist over a grid (quant_grid.c):
 * the coordinator runs them as rounds of tasks over the same ranges as the
 * flat job.  A MINMAX round is an ordinary flat round (ops min,max, NaN
 * omitted) that gives hist its automatic range; a PASS round sends every
 * task the round's parameters (the "EGQP" part) and gets back a payload
 * ("EGQR") of integer counts: the histogram's, the sketch's, or one
 * selection pass's per searched bucket.  Counts merge by addition as they
 * arrive, so the bits never depend on the order, the split or the worker
 * count, and the answer is a one-box run's.  Rounds: one for hist (two
 * without --range), one for approx_quantile, and W / 16 selection passes
 * for a W-bit dtype (one for 8 and 16 bits), more only when a pass has
 * over EG_QGRID_GROUPS_MAX buckets to search. */

/* Largest payload of one task's result, and most buckets one selection
 * pass searches. */
#define EG_QGRID_PAYLOAD_MAX (32u << 20)
#define EG_QGRID_GROUPS_MAX 16u

typedef struct eg_qgrid eg_qgrid;

typedef enum eg_qround {
    EG_QROUND_DONE,   /* nothing left: eg_qgrid_result */
    EG_QROUND_MINMAX, /* a flat round of min,max with NaN omitted */
    EG_QROUND_PASS    /* a round of quantile tasks with the parameters */
} eg_qround;

/* The quantile ops of qo over `count` elements of dtype t (the name for
 * messages): checks the options (EG_EUSAGE) and plans the rounds. */
eg_status eg_qgrid_open(eg_qgrid **g, eg_dtype t, uint64_t count,
                        const eg_quant_opts *qo, const char *name,
                        eg_error *err);
/* The next round: its kind and, for a PASS, the parameters every task of
 * it carries (owned by g, valid until the next call). */
eg_status eg_qgrid_next(eg_qgrid *g, eg_qround *kind, const uint8_t **params,
                        size_t *len, eg_error *err);
/* What the round does, for messages ("selection pass 2"). */
const char *eg_qgrid_round_name(const eg_qgrid *g);
/* After a MINMAX round: the merged min/max state.  EG_EINPUT for data
 * with NaN under propagate (no automatic range, as numpy). */
eg_status eg_qgrid_minmax(eg_qgrid *g, const eg_state *s, eg_error *err);
/* NULL when payload can be a PASS result of a task of `count` elements in
 * the round running (kind, dtype, plan, buckets, counts adding up), else
 * why not. */
const char *eg_qgrid_check(const eg_qgrid *g, const uint8_t *payload,
                           size_t len, uint64_t count);
/* Adds a checked payload (each task's once). */
eg_status eg_qgrid_put(eg_qgrid *g, const uint8_t *payload, size_t len,
                       eg_error *err);
/* Every task of the PASS round is in: takes its counts in. */
eg_status eg_qgrid_round_end(eg_qgrid *g, eg_error *err);
/* Once eg_qgrid_next said DONE: the results, as eg_quant gives them
 * (passes: the selection's rounds). */
eg_status eg_qgrid_result(eg_qgrid *g, eg_quant_result *out, eg_error *err);
void eg_qgrid_close(eg_qgrid **g);

/* The frame decoder's side: the payload's own structure (magic, version,
 * kind, sizes; a sketch decoded whole) and the elements it says it
 * covers.  EG_EINPUT with the reason. */
eg_status eg_qgrid_payload_check(const uint8_t *p, size_t len,
                                 uint64_t *count, eg_error *err);
/* The worker's side: parameters checked for data of dtype t. */
eg_status eg_qgrid_params_check(const uint8_t *p, size_t len, eg_dtype t,
                                eg_error *err);
/* ... and n elements at data counted as they say, into a malloc'ed
 * payload (*out, *out_len bytes). */
eg_status eg_qgrid_task_run(const uint8_t *params, size_t plen,
                            const void *data, uint64_t n, eg_dtype t,
                            uint8_t **out, size_t *out_len, eg_error *err);
/* ... or every element of a source (a shard the worker opened), read in
 * parts of bounded size; its read errors (a file that shrank or changed)
 * are the engine's. */
eg_status eg_qgrid_task_run_source(const uint8_t *params, size_t plen,
                                   const eg_source *src, uint8_t **out,
                                   size_t *out_len, eg_error *err);

/* ------------------------- quantile ops per axis and per group on the grid
 *
 * median, quantile, approx_quantile and hist with --axis or --by
 * (struct_qgrid.c): a round of tasks, each the WHOLE segments of
 * consecutive outputs.  A worker runs the one-box per-segment code on them
 * and returns each output's finished values in a versioned payload
 * ("EGSR"); the collector places them by output index.  A segment's
 * values depend on its elements alone, so any worker, split or retry
 * gives the bits of `reduce --axis/--by` on one box.  A segment must fit
 * one task: EG_SQGRID_TASK_BYTES_MAX bytes (longer ones are refused,
 * EG_EUSAGE). */

/* Most data bytes of one such task (the frame's EG_TASK_BYTES_MAX). */
#define EG_SQGRID_TASK_BYTES_MAX (256u * 1024u * 1024u)

typedef struct eg_sqgrid eg_sqgrid;

typedef struct eg_sqgrid_task {
    uint64_t e0, nseg; /* output elements [e0, e0 + nseg), whole */
    uint64_t count;    /* elements, all segments together */
} eg_sqgrid_task;

/* Plans the quantile ops qo (its nan the job's) of x with the options'
 * axes or keys (o: the job's ordinary ops, for the plan's checks): tasks
 * of about task_elems elements (0: the most one task carries).  Usage and
 * input errors as eg_reduce_file_structured_quant gives them, and the
 * refusal of a segment longer than a task carries.  x must outlive it. */
eg_status eg_sqgrid_open(eg_sqgrid **g, const eg_source *x,
                         const eg_struct_opts *so, const eg_reduce_opts *o,
                         const eg_quant_opts *qo, uint64_t task_elems,
                         eg_error *err);
uint64_t eg_sqgrid_ntasks(const eg_sqgrid *g);
const eg_sqgrid_task *eg_sqgrid_task_at(const eg_sqgrid *g, uint64_t t);
/* Task t's elements, native order, segment after segment (count). */
void eg_sqgrid_task_data(const eg_sqgrid *g, uint64_t t, void *dst);
/* Task t's parameters ("EGSQ": the options and each segment's length),
 * malloc'ed (*len bytes); NULL when out of memory. */
void *eg_sqgrid_task_params(const eg_sqgrid *g, uint64_t t, size_t *len);
/* NULL when payload can be task t's result (ops, outputs, lengths), else
 * why not. */
const char *eg_sqgrid_check(const eg_sqgrid *g, uint64_t t,
                            const uint8_t *payload, size_t len);
/* Files a checked payload (each task's once). */
void eg_sqgrid_put(eg_sqgrid *g, uint64_t t, const uint8_t *payload,
                   size_t len);
/* Once every task is in: the results (moved into out), and with meta the
 * shapes, groups and input figures of the job (o its ordinary ops) for a
 * job that ran no ordinary ops. */
eg_status eg_sqgrid_finish(eg_sqgrid *g, const eg_source *x,
                           const eg_reduce_opts *o, eg_sresult *meta,
                           eg_squant_result *out, eg_error *err);
/* A worker's message for a failed task t ("output E: ..."), worded as the
 * one-box run words that output's failure ("INPUT, column [i]: ...") into
 * err; 0 (err untouched) when msg names no output of the task. */
int eg_sqgrid_name_failure(const eg_sqgrid *g, uint64_t t, const char *msg,
                           eg_status st, const char *input, eg_error *err);
void eg_sqgrid_close(eg_sqgrid **g);

/* The frame decoder's side: the payload's own structure (magic, version,
 * sizes, value kinds, hist counts adding up to each segment) and the
 * elements it covers.  EG_EINPUT with the reason. */
eg_status eg_sqgrid_payload_check(const uint8_t *p, size_t len,
                                  uint64_t *count, eg_error *err);
/* The worker's side: parameters checked against the task frame (dtype,
 * first output, segments, lengths adding up to count) ... */
eg_status eg_sqgrid_params_check(const uint8_t *p, size_t len, eg_dtype t,
                                 uint64_t first, uint32_t nseg,
                                 uint64_t count, eg_error *err);
/* ... and count elements at data run segment by segment, into a malloc'ed
 * payload (*out, *out_len).  A segment's data error (hist's automatic
 * range over NaN under propagate) names its output. */
eg_status eg_sqgrid_task_run(eg_engine *e, const uint8_t *params, size_t plen,
                             const void *data, uint64_t count, eg_dtype t,
                             uint8_t **out, size_t *out_len, eg_error *err);

#endif
