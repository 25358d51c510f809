/* sframe.h - the stream frame: one closed window of one key from one box,
 * as a box pushes it to a collector, and the collector's acknowledgement.
 *
 * Little-endian, versioned, every size checked on decode:
 *
 *   "EGSF" u16 version (1) u16 type (1 window, 2 ack)
 *   u8 box_len, box;  u8 has_key, u8 key_len, key
 *   u8 window kind (1 count, 2 time), i64 start, i64 end
 *   window only:
 *   u64 count, late, bad;  u32 ops, u8 nan, u8 ddof, u8 mode, u8 dtype
 *   u16 channels, u16 nstates, then nstates op states:
 *       u16 kind, u16 channel, u32 len, len bytes
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

#define EG_SF_VERSION 1
#define EG_SF_WINDOW 1
#define EG_SF_ACK 2
#define EG_SF_NAME_MAX 64
#define EG_SF_MAX_CHANNELS EG_REC_MAX_CHANNELS

/* Op state kinds.  Add a kind here, its encoder in eg_sf_encode's loop and
 * its decoder in decode_states, and a merge in collect.c. */
enum { EG_SF_MOMENTS = 1 };

typedef struct eg_sf_head {
    char box[EG_SF_NAME_MAX + 1];
    int has_key;
    char key[EG_REC_KEY_MAX + 1];
    uint8_t kind; /* eg_win_kind */
    int64_t start, end;
} eg_sf_head;

typedef struct eg_sf_window {
    eg_sf_head h;
    uint64_t count, late, bad;
    uint32_t ops;
    uint8_t nan, ddof, mode, dtype;
    uint16_t channels;
    eg_state *moments; /* channels states; the caller's memory */
    /* approx_quantile and hist of a box's own window, for its line: one
     * sketch and one histogram per channel (NULL when not asked for) and
     * the options they answer.  Not in the wire form of this version, so
     * a box refuses --push with those ops; the decoder leaves them NULL. */
    const eg_quant_opts *qo;
    const eg_sketch *sketches;
    const eg_hist_state *hists;
    const eg_hist_plan *plan;
} eg_sf_window;

/* Bytes a window frame of `channels` channels takes at most. */
size_t eg_sf_window_size(unsigned channels);
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
