/* window.h - windows over a stream of records: which windows a record
 * falls in, one eg_state per (window, key, channel) fed from the records
 * buffered for it, and when a window closes.
 *
 *   count windows    every N records of a key: [i*N, (i+1)*N) by index
 *   time windows     [k*slide, k*slide + size) in microseconds since the
 *                    epoch; slide == size is tumbling, smaller is hopping
 *
 * A time window closes when the watermark reaches its end (Flink's rule).
 * With processing time the watermark is the clock the caller passes; with
 * event time it is the largest record time seen minus the lateness, and
 * the caller may push it further (an idle source, eg_win_advance).  A
 * record is folded into every window of its time that is still open; one
 * whose windows have all closed is late: folded into none, counted in the
 * late field of its key's next closed window and in the totals.
 *
 * Records of a window are buffered per channel and folded through the
 * engine's lane code (eg_state_fold_values), so the window's state is the
 * engine's state of those values in arrival order. */
#ifndef EG_STREAM_WINDOW_H
#define EG_STREAM_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#include "engine_grid.h"
#include "hist.h"
#include "sketch.h"

typedef enum eg_win_kind { EG_WIN_COUNT = 1, EG_WIN_TIME = 2 } eg_win_kind;

typedef struct eg_win_cfg {
    eg_win_kind kind;
    uint64_t count;            /* count windows: records per window */
    int64_t size_us, slide_us; /* time windows */
    int64_t lateness_us;       /* event time: watermark = max - lateness */
    int event_time;
    unsigned channels;
    eg_dtype dtype;
    unsigned groups;      /* EG_G_* of state.h, EG_G_EXACT included */
    size_t buffer_budget; /* bytes all windows may buffer; past it a
                             window folds at its present size */
    /* approx_quantile: a log-bucket sketch of k mantissa bits per channel,
     * fed from the same buffers as the state (sketch.h). */
    int sketch;
    unsigned sketch_k;
    /* hist: a count state per channel over this plan (the caller's, alive
     * while the windows are), or NULL.  A window cannot learn its min and
     * max before it closes, so the plan's range is the user's. */
    const eg_hist_plan *hist;
} eg_win_cfg;

/* A closed window of one key, handed to the caller's emit function. */
typedef struct eg_win_closed {
    eg_win_kind kind;
    int64_t start, end;
    const char *key; /* "" when has_key is 0 */
    int has_key;
    uint64_t count; /* records folded in */
    uint64_t late;  /* late records of this key since its last
                       closed window */
    unsigned channels;
    const eg_state *states; /* one per channel */
    const eg_sketch *sketches;  /* one per channel, or NULL */
    const eg_hist_state *hists; /* one per channel, or NULL */
} eg_win_closed;

typedef void (*eg_win_emit_fn)(void *ctx, const eg_win_closed *w);

typedef struct eg_win eg_win;

typedef struct eg_win_totals {
    uint64_t records, late, windows, keys;
    size_t buffered_bytes;
} eg_win_totals;

eg_status eg_win_open(eg_win **out, const eg_win_cfg *cfg, eg_error *err);
void eg_win_close(eg_win **w);

/* Adds nrec records (record-major: nrec x channels values of the dtype) of
 * one key, all of time t_us (processing time: the arrival clock; ignored
 * for count windows).  Windows the records close (count windows, or the
 * event-time watermark they move) are emitted before it returns. */
eg_status eg_win_add(eg_win *w, const char *key, int has_key, int64_t t_us,
                     const void *vals, uint64_t nrec, eg_win_emit_fn emit,
                     void *ctx, eg_error *err);

/* Moves the watermark to at least wm_us and emits every window it closes,
 * in order of their ends (then starts, then keys by first arrival).
 * INT64_MAX closes everything, as at the end of the input. */
void eg_win_advance(eg_win *w, int64_t wm_us, eg_win_emit_fn emit, void *ctx);

/* The largest event time seen (INT64_MIN before any), and the watermark. */
int64_t eg_win_max_time(const eg_win *w);
int64_t eg_win_watermark(const eg_win *w);
/* The end of the earliest open window, INT64_MAX when none is open. */
int64_t eg_win_next_close(const eg_win *w);
void eg_win_totals_get(const eg_win *w, eg_win_totals *t);

#endif
