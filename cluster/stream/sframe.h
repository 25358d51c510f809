/* sframe.h - the stream frame: one closed window of one key from one box,
 * as a box pushes it to a collector, and the collector's acknowledgement.
 *
 * Little-endian, versioned, every size checked on decode:
 *
 *   "EGSF" u16 version (3) u16 type (1 window, 2 ack)
 *   u8 box_len, box;  u8 has_key, u8 key_len, key
 *   u8 window kind (1 count, 2 time), i64 start, i64 end
 *   u64 epoch (the box's incarnation: drawn at its start, never 0)
 *   window only:
 *   u64 count, late, bad;  u32 ops, u8 nan, u8 ddof, u8 mode, u8 dtype
 *   u8 qops (0, or EG_QOP_APPROX | EG_QOP_HIST), and when not 0 the
 *       quantile ops' settings: u8 nq, nq f64 q, f64 rel_err, u32 bins,
 *       f64 lo, f64 hi  (f64: IEEE bits)
 *   u16 channels, u16 nstates, then nstates op states:
 *       u16 kind, u16 channel, u32 len, len bytes
 *   channel by channel: its moments, then its sketch when qops has
 *   approx_quantile, then its histogram when qops has hist.
 *
 * Version 3 added the epoch: a count window is numbered from its box's
 * start, so only (box, epoch, window, key) names it once the box has
 * restarted.  Versions 1 and 2 (no epoch) are refused, and the collector
 * counts them ("old"): taking them would bring back the restarted box's
 * windows dropped as copies.
 *
 * The payload is a list of op states so that states of other kinds (a
 * quantile sketch, a histogram) join it as new kinds beside the one kind
 * there is now: EG_SF_MOMENTS, the engine's eg_state in its own versioned
 * wire form (eg_state_encode), which every fast op and exact mode read.
 * A decoder refuses a kind it does not know, so an old collector never
 * merges half a window. */
#ifndef EG_STREAM_SFRAME_H
#define EG_STREAM_SFRAME_H

#include <stddef.h>
#include <stdint.h>

#include "engine_grid.h"
#include "hist.h"
#include "sketch.h"
#include "record.h"

#define EG_SF_VERSION 3 /* the one written and read */
#define EG_SF_WINDOW 1
#define EG_SF_ACK 2
#define EG_SF_NAME_MAX 64
#define EG_SF_MAX_CHANNELS EG_REC_MAX_CHANNELS

/* Op state kinds.  Add a kind here, its encoder in eg_sf_encode's loop and
 * its decoder in decode_states, and a merge in collect.c. */
enum { EG_SF_MOMENTS = 1, EG_SF_SKETCH = 2, EG_SF_HIST = 3 };

/* No frame is larger: a sketch grows with the log of its values' range,
 * so a window of sketches has no fixed size; past this it is not sent
 * (the box counts it unsent). */
#define EG_SF_FRAME_MAX ((size_t)64 << 20)

typedef struct eg_sf_head {
    char box[EG_SF_NAME_MAX + 1];
    int has_key;
    char key[EG_REC_KEY_MAX + 1];
    uint8_t kind; /* eg_win_kind */
    int64_t start, end;
    uint64_t epoch;   /* the box's incarnation */
    unsigned version; /* set by the decoder: the frame's, also when it
                         refuses an old one */
} eg_sf_head;

typedef struct eg_sf_window {
    eg_sf_head h;
    uint64_t count, late, bad;
    uint32_t ops;
    uint8_t nan, ddof, mode, dtype;
    uint16_t channels;
    eg_state *moments; /* channels states; the caller's memory */
    /* approx_quantile and hist (version 2): their settings (q.qops 0 when
     * neither), one sketch and one histogram per channel and the bins'
     * plan.  The caller's memory; to decode, EG_SF_MAX_CHANNELS of each,
     * zeroed at first: the decoder frees what an earlier frame left. */
    eg_quant_opts q;
    eg_sketch *sketches;
    eg_hist_state *hists;
    eg_hist_plan *plan;
    unsigned sketch_k; /* set by the decoder: the sketches' k */
} eg_sf_window;

/* Frees what decoding left in w's sketches, histograms and plan. */
void eg_sf_window_free_quant(eg_sf_window *w);

/* Bytes a window frame of `channels` channels of fast ops takes at most,
 * and the bytes of this window's frame. */
size_t eg_sf_window_size(unsigned channels);
size_t eg_sf_window_len(const eg_sf_window *w);
size_t eg_sf_ack_size(void);

/* Encode into buf (cap bytes); return the length, 0 if it does not fit. */
size_t eg_sf_encode_window(const eg_sf_window *w, uint8_t *buf, size_t cap);
size_t eg_sf_encode_ack(const eg_sf_head *h, uint8_t *buf, size_t cap);

/* Decodes either type: *type gets EG_SF_WINDOW or EG_SF_ACK.  For a
 * window, w->moments must hold EG_SF_MAX_CHANNELS states.  Errors are one
 * line starting "stream frame: ". */
eg_status eg_sf_decode(const uint8_t *buf, size_t len, int *type,
                       eg_sf_window *w, eg_error *err);

#endif
