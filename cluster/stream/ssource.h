/* ssource.h - where a stream box's records come from:
 *
 *   -                      stdin, a byte stream (lines or raw records)
 *   zmq+tcp://HOST:PORT    a PULL socket bound there, that producers PUSH
 *                          to; each message a payload
 *   mqtt://HOST:PORT/FILTER  an MQTT subscription (libmosquitto), QoS 1,
 *                          wildcards + and #, a persistent session (clean
 *                          session off) whose client id is the box's name,
 *                          so what was published while it was away comes
 *                          when it returns; each message a payload
 *
 * eg_ss_poll waits at most the time given and hands what arrived to the
 * caller's function: a stream chunk (stdin) or one whole message with its
 * topic (MQTT; NULL for ZeroMQ). */
#ifndef EG_STREAM_SSOURCE_H
#define EG_STREAM_SSOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "edgegrid.h"

typedef enum eg_ss_kind { EG_SS_STDIN, EG_SS_ZMQ, EG_SS_MQTT } eg_ss_kind;

typedef struct eg_ss_opts {
    const char *name; /* MQTT client id (the box's name) */
    int insecure;     /* a ZeroMQ bind off loopback */
    void *zctx;       /* the ZeroMQ context */
} eg_ss_opts;

typedef void (*eg_ss_fn)(void *ctx, const char *topic, const uint8_t *data,
                         size_t len, int message);

typedef struct eg_ss eg_ss;

/* Which kind `from` names; -1 for none (a usage error to report). */
int eg_ss_kind_of(const char *from);
eg_status eg_ss_open(eg_ss **out, const char *from, const eg_ss_opts *o,
                     eg_error *err);
void eg_ss_close(eg_ss **s);
/* Waits up to timeout_ms for data and hands it to fn; sets *eof when the
 * source has ended (stdin closed).  Network sources never end; a broker
 * that goes away is reconnected to (eg_ss_reconnects counts it) while the
 * caller's windows go on closing. */
eg_status eg_ss_poll(eg_ss *s, int timeout_ms, eg_ss_fn fn, void *ctx, int *eof,
                     eg_error *err);
/* Messages taken since the start (stdin: reads). */
uint64_t eg_ss_messages(const eg_ss *s);
/* Reconnections to the broker since the start. */
uint64_t eg_ss_reconnects(const eg_ss *s);

#endif
