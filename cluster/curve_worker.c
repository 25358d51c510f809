/* curve_worker.c - the worker's side of grid security: its keys, the
 * plain-TCP rule for the endpoints it connects to, and what a failed
 * handshake means, in words. */
#include <stdio.h>
#include <string.h>

#include "curve.h"
#include "engine_grid.h"
#include "worker_internal.h"

eg_status eg_worker_curve_keys(const eg_worker_opts *o, eg_curve_keys *keys,
                               int *curve, eg_error *err)
{
    const eg_curve_start start = {
        .secret = o->curve_secret,
        .peer = o->server_key,
        .secret_alone = "--curve-secret needs --server-key FILE (the "
                        "coordinator's public key)",
        .peer_alone = "--server-key needs --curve-secret FILE (this "
                      "worker's secret key)",
        .tasks = o->tasks_endpoint,
        .results = o->results_endpoint,
        .insecure = o->insecure};
    eg_status st = eg_curve_begin(&start, keys, curve, err);
    if (st == EG_OK && *curve)
        st = eg_curve_read_public(o->server_key, keys->server_key, err);
    if (st != EG_OK)
        eg_curve_wipe(keys, sizeof *keys);
    return st;
}

const char *eg_worker_handshake_text(unsigned event, uint32_t value, int curve,
                                     char *buf, size_t len)
{
    switch (event) {
    case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
        snprintf(buf, len,
                 "the coordinator refused this worker's key at the "
                 "CURVE handshake (ZAP status %u): is its .pub file in the "
                 "coordinator's --allow directory?",
                 (unsigned)value);
        return buf;
    case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
        if (value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH)
            snprintf(
                buf, len, "handshake failed: %s",
                curve ? "the coordinator does not use CURVE"
                      : "the coordinator uses CURVE; give --curve-secret and "
                        "--server-key");
        else if (value == ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC)
            snprintf(buf, len,
                     "CURVE handshake failed (a cryptographic "
                     "error: is --server-key the coordinator's key?)");
        else
            snprintf(buf, len, "handshake failed (protocol error 0x%x)",
                     (unsigned)value);
        return buf;
    case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
        snprintf(buf, len,
                 "handshake failed; the coordinator closed the "
                 "connection (%s)",
                 curve ? "is --server-key the coordinator's public key?"
                       : "does it use CURVE? then give --curve-secret and "
                         "--server-key");
        return buf;
    default:
        return NULL;
    }
}
