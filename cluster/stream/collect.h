/* collect.h - the stream collector's table: window frames from many boxes,
 * merged per (window, key), each box's state taken exactly once.
 *
 * A state is keyed by (box, window, key), and a count window's also by
 * the box's epoch (its numbering starts again when the box does): one
 * already held, or one for a window already printed, is dropped and
 * counted.  A (window, key) is
 * printed once every expected box has reported it, or when `wait` seconds
 * have passed since its first state (naming the boxes still missing); its
 * boxes' states are merged in box-name order, each one's indices shifted
 * past those before it, so the result does not depend on arrival order.
 * Only after printing, and recording the window as printed (on disk with
 * a state directory, cdone.h, one fsync for all the windows printed since
 * the last eg_coll_flush), are the boxes acknowledged, so a frame a
 * collector lost by dying before it printed comes again to the next one,
 * and one it printed is known as such after a restart. */
#ifndef EG_STREAM_COLLECT_H
#define EG_STREAM_COLLECT_H

#include <stddef.h>
#include <stdint.h>

#include "sframe.h"

#define EG_COLL_MAX_BOXES 256
#define EG_COLL_RID_MAX 256

typedef struct eg_coll_cfg {
    const char *const *expect; /* box names, or NULL */
    unsigned nexpect;
    unsigned boxes; /* without expect: this many boxes */
    double wait_s;
    const char *state_dir; /* the printed set's journal, or NULL */
    /* Called with the emit context and how many windows a flush has just
     * recorded, before their acks (a test build's fault injection), or
     * NULL. */
    void (*recorded)(void *ctx, unsigned windows);
} eg_coll_cfg;

/* What a printed (window, key) holds. */
typedef struct eg_coll_line {
    const eg_sf_window *w;    /* head, ops, mode, dtype, channels; count,
                                 late and bad summed over the boxes; the
                                 merged states in w->moments */
    const char *const *boxes; /* that reported, in name order */
    unsigned nboxes;
    const char *const *missing;
    unsigned nmissing;
} eg_coll_line;

typedef void (*eg_coll_emit_fn)(void *ctx, const eg_coll_line *l);
/* Acknowledges one box's frame to the connection it came from. */
typedef void (*eg_coll_ack_fn)(void *ctx, const uint8_t *rid, size_t rid_len,
                               const eg_sf_head *h);

typedef struct eg_coll_totals {
    uint64_t states, printed, complete, duplicates, after, refused;
    uint64_t recovered; /* printed ids read from the state directory */
    size_t pending;
} eg_coll_totals;

typedef struct eg_coll eg_coll;

eg_status eg_coll_open(eg_coll **out, const eg_coll_cfg *cfg, eg_error *err);
void eg_coll_close(eg_coll **c);

/* Takes one decoded window frame that came from connection rid.  EG_OK
 * when taken or dropped as a duplicate (both counted); EG_EINPUT, with the
 * reason, when refused (a box not expected, ops or channels that differ
 * from the other boxes' for the same window). */
eg_status eg_coll_take(eg_coll *c, const eg_sf_window *w, const uint8_t *rid,
                       size_t rid_len, double now, eg_coll_emit_fn emit,
                       eg_coll_ack_fn ack, void *ctx, eg_error *err);
/* Records what was printed since the last flush (one fsync with a state
 * directory) and sends its acks: call it after a batch of eg_coll_take
 * and after eg_coll_tick; take and tick acknowledge nothing printed. */
void eg_coll_flush(eg_coll *c, eg_coll_ack_fn ack, void *ctx);
/* Prints what has waited long enough. */
void eg_coll_tick(eg_coll *c, double now, eg_coll_emit_fn emit,
                  eg_coll_ack_fn ack, void *ctx);
/* Seconds until the next (window, key) times out; -1 when none waits. */
double eg_coll_next_due(const eg_coll *c, double now);
void eg_coll_totals_get(const eg_coll *c, eg_coll_totals *t);
/* Set once the printed set could not be written (the error names the
 * file); from then on nothing is acknowledged and the caller should stop. */
const eg_error *eg_coll_failure(const eg_coll *c);

#endif
