/* pull_probe.c - the yardstick of a ZeroMQ stream source: a bare libzmq
 * PULL socket bound at argv[1] that receives argv[2] messages as fast as
 * it can and prints one JSON line with its rate, timed from the first
 * message to the last (bench/stream/stream_bench.py runs it beside
 * `edgegrid stream --from zmq+tcp://...` on the same messages). */
#include <stdio.h>
#include <stdlib.h>
#include <zmq.h>

#include "edgegrid.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: pull_probe ENDPOINT MESSAGES\n");
        return 2;
    }
    long n = strtol(argv[2], NULL, 10);
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_PULL);
    int hwm = 100000;
    zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm);
    if (zmq_bind(s, argv[1]) != 0) {
        fprintf(stderr, "pull_probe: bind %s: %s\n", argv[1],
                zmq_strerror(zmq_errno()));
        return 1;
    }
    fprintf(stderr, "pull_probe: listening\n");
    zmq_msg_t m;
    zmq_msg_init(&m);
    double t0 = 0;
    long long bytes = 0;
    for (long i = 0; i < n; i++) {
        if (zmq_msg_recv(&m, s, 0) < 0)
            return 1;
        if (i == 0)
            t0 = eg_now();
        bytes += (long long)zmq_msg_size(&m);
    }
    double dt = eg_now() - t0;
    printf("{\"messages\": %ld, \"bytes\": %lld, \"seconds\": %.6f}\n", n,
           bytes, dt);
    zmq_msg_close(&m);
    zmq_close(s);
    zmq_ctx_term(ctx);
    return 0;
}
