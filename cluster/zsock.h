/* zsock.h - the grid's ZeroMQ sockets, each with its options chosen on
 * purpose (the reasons sit next to each setting in zsock.c), and ZeroMQ
 * errors turned into one line that names the call and the endpoint:
 * "zmq_bind tcp://127.0.0.1:5555: Address already in use". */
#ifndef EG_ZSOCK_H
#define EG_ZSOCK_H

#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#include "curve.h"
#include "edgegrid.h"

/* Sets err from zmq_errno(); bad endpoints are usage errors (exit 2),
 * everything else a network failure (exit 1). */
eg_status eg_zmq_error(eg_error *err, const char *call, const char *what);

/* Coordinator: the ROUTER workers' DEALERs connect to (control traffic and
 * tasks) and the PULL their PUSHes connect to (results).  `max_in` is the
 * largest frame a legitimate peer sends to that socket.  With `curve` (its
 * secret key), both are CURVE servers whose clients the ZAP handler of the
 * same context judges (zap.h: bind it first); NULL: plain TCP. */
eg_status eg_zsock_bind_tasks(void *ctx, const char *endpoint, size_t max_in,
                              const eg_curve_keys *curve, void **out,
                              eg_error *err);
eg_status eg_zsock_bind_results(void *ctx, const char *endpoint,
                                size_t max_in, const eg_curve_keys *curve,
                                void **out, eg_error *err);
/* Worker: the DEALER (tasks in, control out) and the PUSH (results out).
 * With `curve` (its own pair and the coordinator's public key), CURVE
 * clients; NULL: plain TCP. */
eg_status eg_zsock_connect_tasks(void *ctx, const char *endpoint,
                                 size_t max_in, const eg_curve_keys *curve,
                                 void **out, eg_error *err);
/* The same DEALER, not yet connected: for a caller that must watch it
 * (a monitor) before its first handshake can happen. */
eg_status eg_zsock_tasks_socket(void *ctx, size_t max_in,
                                const eg_curve_keys *curve, void **out,
                                eg_error *err);
eg_status eg_zsock_connect_results(void *ctx, const char *endpoint,
                                   const eg_curve_keys *curve, void **out,
                                   eg_error *err);

/* Starts a monitor of `sock` for disconnects and returns the PAIR socket
 * its events arrive on.  `name` makes the inproc address unique. */
eg_status eg_zsock_monitor(void *ctx, void *sock, const char *name,
                           void **out, eg_error *err);
/* The same for another set of events (ZMQ_EVENT_* bits). */
eg_status eg_zsock_monitor_events(void *ctx, void *sock, const char *name,
                                  int events, void **out, eg_error *err);
/* Reads one monitor event: its type and value (the fd for disconnects).
 * 0 on success, -1 when none is waiting. */
int eg_zsock_monitor_read(void *pair, unsigned *event, uint32_t *value);

/* The endpoint a socket actually bound ("tcp://127.0.0.1:41234" for
 * "tcp://127.0.0.1:*"). */
eg_status eg_zsock_endpoint(void *sock, char *buf, size_t len, eg_error *err);

/* Closes a socket and nulls the pointer; harmless on NULL. */
void eg_zsock_close(void **sock);

/* Receives the rest of a multipart message and throws it away; returns the
 * number of parts dropped. */
unsigned eg_zsock_drain(void *sock);
/* Whether the message just received has more parts. */
int eg_zsock_more(void *sock);

#endif
