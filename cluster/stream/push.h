/* push.h - a stream box's side of `--push`: window frames go to the
 * collector over a DEALER and stay in an outbox until the collector
 * acknowledges them (it does once the window is printed), sent again
 * every few seconds until then, so a collector that restarts gets them
 * again and one that stalls holds them up but loses none.  A full outbox
 * (a collector gone too long) refuses new frames, and those are counted
 * as unsent: never dropped without a count. */
#ifndef EG_STREAM_PUSH_H
#define EG_STREAM_PUSH_H

#include <stddef.h>
#include <stdint.h>

#include "curve.h"
#include "sframe.h"

typedef struct eg_push eg_push;

typedef struct eg_push_totals {
    uint64_t queued; /* frames taken into the outbox */
    uint64_t acked;  /* acknowledged by the collector */
    uint64_t resent; /* sends after the first */
    uint64_t unsent; /* refused (outbox full) or still unacknowledged at
                        the end */
    size_t pending;
} eg_push_totals;

/* Connects to the collector at endpoint (curve: CURVE keys, or NULL);
 * `cap` frames at most wait in the outbox; unacknowledged frames go again
 * every resend_s seconds. */
eg_status eg_push_open(eg_push **out, void *zctx, const char *endpoint,
                       const eg_curve_keys *curve, size_t cap, double resend_s,
                       eg_error *err);
void eg_push_close(eg_push **p);

/* Queues a window frame and tries to send it; 0, or -1 when the outbox is
 * full (the frame is counted unsent). */
int eg_push_window(eg_push *p, const eg_sf_window *w, double now);
/* Reads acknowledgements and resends what is due. */
void eg_push_service(eg_push *p, double now);
void *eg_push_socket(eg_push *p);
/* At the end: counts what is still pending as unsent. */
void eg_push_give_up(eg_push *p);
void eg_push_totals_get(const eg_push *p, eg_push_totals *t);

#endif
