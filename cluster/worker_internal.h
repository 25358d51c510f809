/* worker_internal.h - a worker's two threads and what they share.
 *
 * The I/O thread (worker.c) owns the DEALER and PUSH sockets: it registers,
 * grants credit, heartbeats, queues tasks and answers shard queries, so a
 * long reduction never silences it.  The compute thread (worker_compute.c)
 * receives one task at a time over an inproc PAIR, reduces it, and sends
 * back the encoded RESULT or FAIL frame.  The engine is used by one thread
 * at a time: the compute thread, or the I/O thread itself for a small task
 * while the compute thread is idle (the PAIR hand-over orders the two). */
#ifndef EG_WORKER_INTERNAL_H
#define EG_WORKER_INTERNAL_H

#include <pthread.h>
#include <zmq.h>

#include "curve.h"
#include "frame.h"
#include "grid.h"

/* A task as it arrived: the parts of its message (the TASK frame, x, and y
 * for dot, and a SEGS task's lengths) and the decoded frame. */
typedef struct eg_worker_task {
    zmq_msg_t part[4];
    int nparts;
    eg_frame f;
} eg_worker_task;

void eg_worker_task_close(eg_worker_task *t);

typedef struct eg_worker_compute {
    const eg_worker_opts *o;
    eg_engine *engine;
    const char *name;
    void *pair;              /* its end of the inproc link */
    pthread_t thread;
    int started;
} eg_worker_compute;

/* Binds the inproc link on `main_pair` (already created) and starts the
 * thread with its own PAIR connected to it. */
eg_status eg_worker_compute_start(eg_worker_compute *w, void *zctx,
                                  void *main_pair, const char *addr,
                                  eg_error *err);
/* Room for any frame eg_worker_compute_run writes. */
size_t eg_worker_out_cap(void);
/* Reduces one task on the engine and writes the RESULT (or FAIL) frame
 * into out; returns its size (0: it did not fit).  One caller at a time:
 * the compute thread, or the I/O thread while the compute thread is idle
 * (small tasks, where a hand-over would cost more than the work). */
size_t eg_worker_compute_run(eg_worker_compute *w, eg_worker_task *t,
                             uint8_t *out, size_t cap, eg_result *stats);
/* Asks the thread to end (an empty message) and joins it. */
void eg_worker_compute_stop(eg_worker_compute *w, void *main_pair);

/* curve_worker.c: the security options checked (their pairing, plain TCP
 * only to loopback unless --insecure) and, with CURVE, the keys read (the
 * worker's pair and the coordinator's public key); *curve says which. */
eg_status eg_worker_curve_keys(const eg_worker_opts *o, eg_curve_keys *keys,
                               int *curve, eg_error *err);
/* A line about a handshake monitor event (ZMQ_EVENT_HANDSHAKE_*) in buf,
 * or NULL when it is nothing to tell. */
const char *eg_worker_handshake_text(unsigned event, uint32_t value,
                                     int curve, char *buf, size_t len);

#endif
