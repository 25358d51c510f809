/* zsock.c - socket construction for the grid.  Every option is set
 * deliberately; the comment beside each says why. */
#include "zsock.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "engine_grid.h"
#include "frame.h"
#include "zap.h"

eg_status eg_zmq_error(eg_error *err, const char *call, const char *what)
{
    int e = zmq_errno();
    eg_status code = EG_ENET;
    if (e == EINVAL || e == EPROTONOSUPPORT || e == ENOCOMPATPROTO)
        code = EG_EUSAGE;
    return eg_error_set(err, code, "%s %s: %s", call, what, zmq_strerror(e));
}

static eg_status set_int(void *s, int opt, int v, const char *name,
                         eg_error *err)
{
    if (zmq_setsockopt(s, opt, &v, sizeof v) != 0)
        return eg_zmq_error(err, "zmq_setsockopt", name);
    return EG_OK;
}

static eg_status set_i64(void *s, int opt, int64_t v, const char *name,
                         eg_error *err)
{
    if (zmq_setsockopt(s, opt, &v, sizeof v) != 0)
        return eg_zmq_error(err, "zmq_setsockopt", name);
    return EG_OK;
}

static eg_status make(void *ctx, int type, void **out, eg_error *err)
{
    *out = zmq_socket(ctx, type);
    if (!*out)
        return eg_zmq_error(err, "zmq_socket", "");
    return EG_OK;
}

static eg_status finish_bind(void **s, const char *endpoint, eg_status st,
                             eg_error *err)
{
    if (st == EG_OK && zmq_bind(*s, endpoint) != 0)
        st = eg_zmq_error(err, "zmq_bind", endpoint);
    if (st != EG_OK)
        eg_zsock_close(s);
    return st;
}

static eg_status finish_connect(void **s, const char *endpoint, eg_status st,
                                eg_error *err)
{
    if (st == EG_OK && zmq_connect(*s, endpoint) != 0)
        st = eg_zmq_error(err, "zmq_connect", endpoint);
    if (st != EG_OK)
        eg_zsock_close(s);
    return st;
}

/* A peer that sends more than this is not one of ours: libzmq drops the
 * connection before buffering the message.  The limit applies to the ZMTP
 * frame as it arrives, which under CURVE is the encrypted MESSAGE command:
 * 33 bytes more than the message ("\x07MESSAGE", nonce, MAC, flags). */
#define CURVE_ENVELOPE 64
static int64_t max_size(size_t max_in)
{
    return (int64_t)(max_in + CURVE_ENVELOPE);
}

static eg_status set_str(void *s, int opt, const char *v, const char *name,
                         eg_error *err)
{
    if (zmq_setsockopt(s, opt, v, strlen(v)) != 0)
        return eg_zmq_error(err, "zmq_setsockopt", name);
    return EG_OK;
}

/* A server: CURVE with the ZAP handler deciding who gets in (zap.h), or
 * plain.  Either way a connection that has not finished its handshake
 * within 5 s is dropped, so idle or half-open connections (a port scan, a
 * stranger) hold nothing for long; an honest handshake takes
 * milliseconds. */
static eg_status server_opts(void *s, const eg_curve_keys *curve,
                             eg_error *err)
{
    eg_status st = set_int(s, ZMQ_HANDSHAKE_IVL, 5000, "ZMQ_HANDSHAKE_IVL",
                           err);
    if (!curve || st != EG_OK)
        return st;
    st = set_int(s, ZMQ_CURVE_SERVER, 1, "ZMQ_CURVE_SERVER", err);
    if (st == EG_OK)
        st = set_str(s, ZMQ_CURVE_SECRETKEY, curve->secret_key,
                     "ZMQ_CURVE_SECRETKEY", err);
    if (st == EG_OK)
        st = set_str(s, ZMQ_ZAP_DOMAIN, EG_ZAP_DOMAIN, "ZMQ_ZAP_DOMAIN", err);
    return st;
}

/* A client: it knows the server's public key before it connects, so a
 * man in the middle cannot complete the handshake. */
static eg_status client_opts(void *s, const eg_curve_keys *curve,
                             eg_error *err)
{
    if (!curve)
        return EG_OK;
    eg_status st = set_str(s, ZMQ_CURVE_SERVERKEY, curve->server_key,
                           "ZMQ_CURVE_SERVERKEY", err);
    if (st == EG_OK)
        st = set_str(s, ZMQ_CURVE_PUBLICKEY, curve->public_key,
                     "ZMQ_CURVE_PUBLICKEY", err);
    if (st == EG_OK)
        st = set_str(s, ZMQ_CURVE_SECRETKEY, curve->secret_key,
                     "ZMQ_CURVE_SECRETKEY", err);
    return st;
}

eg_status eg_zsock_bind_tasks(void *ctx, const char *endpoint, size_t max_in,
                              const eg_curve_keys *curve, void **out,
                              eg_error *err)
{
    eg_status st = make(ctx, ZMQ_ROUTER, out, err);
    if (st != EG_OK)
        return st;
    void *s = *out;
    st = server_opts(s, curve, err);
    /* Sending to a worker that has gone must fail (EHOSTUNREACH) instead
     * of vanishing silently: the task is put back at once. */
    if (st == EG_OK)
        st = set_int(s, ZMQ_ROUTER_MANDATORY, 1, "ZMQ_ROUTER_MANDATORY",
                     err);
    /* Tasks go out only against credit, so a worker's queue holds at most
     * its credit plus a few heartbeats; the mark is a backstop for a peer
     * that stops reading (the send then fails with EAGAIN, never blocks). */
    if (st == EG_OK)
        st = set_int(s, ZMQ_SNDHWM, 1000, "ZMQ_SNDHWM", err);
    /* Control frames are small and read as they come. */
    if (st == EG_OK)
        st = set_int(s, ZMQ_RCVHWM, 10000, "ZMQ_RCVHWM", err);
    /* When the job ends nothing queued is worth waiting for: outstanding
     * tasks are duplicates of finished work, heartbeats are moot. */
    if (st == EG_OK)
        st = set_int(s, ZMQ_LINGER, 0, "ZMQ_LINGER", err);
    /* Control frames are small; a multi-megabyte one is garbage. */
    if (st == EG_OK)
        st = set_i64(s, ZMQ_MAXMSGSIZE, max_size(max_in), "ZMQ_MAXMSGSIZE",
                     err);
    return finish_bind(out, endpoint, st, err);
}

eg_status eg_zsock_bind_results(void *ctx, const char *endpoint,
                                size_t max_in, const eg_curve_keys *curve,
                                void **out, eg_error *err)
{
    eg_status st = make(ctx, ZMQ_PULL, out, err);
    if (st != EG_OK)
        return st;
    void *s = *out;
    st = server_opts(s, curve, err);
    /* Results are a few hundred bytes and never outnumber the credit
     * granted; a generous mark never throttles an honest grid. */
    if (st == EG_OK)
        st = set_int(s, ZMQ_RCVHWM, 10000, "ZMQ_RCVHWM", err);
    if (st == EG_OK)
        st = set_int(s, ZMQ_LINGER, 0, "ZMQ_LINGER", err);
    /* A result frame has a fixed size (header, name, encoded state). */
    if (st == EG_OK)
        st = set_i64(s, ZMQ_MAXMSGSIZE, max_size(max_in), "ZMQ_MAXMSGSIZE",
                     err);
    return finish_bind(out, endpoint, st, err);
}

/* Reconnecting: quickly at first, so a restarted coordinator is found
 * within a tenth of a second, then backing off to a second so a long
 * absence does not turn into a connection storm. */
static eg_status reconnect_opts(void *s, eg_error *err)
{
    eg_status st = set_int(s, ZMQ_RECONNECT_IVL, 100, "ZMQ_RECONNECT_IVL",
                           err);
    if (st == EG_OK)
        st = set_int(s, ZMQ_RECONNECT_IVL_MAX, 1000,
                     "ZMQ_RECONNECT_IVL_MAX", err);
    return st;
}

eg_status eg_zsock_connect_tasks(void *ctx, const char *endpoint,
                                 size_t max_in, const eg_curve_keys *curve,
                                 void **out, eg_error *err)
{
    eg_status st = eg_zsock_tasks_socket(ctx, max_in, curve, out, err);
    return st == EG_OK ? finish_connect(out, endpoint, st, err) : st;
}

eg_status eg_zsock_tasks_socket(void *ctx, size_t max_in,
                                const eg_curve_keys *curve, void **out,
                                eg_error *err)
{
    eg_status st = make(ctx, ZMQ_DEALER, out, err);
    if (st != EG_OK)
        return st;
    void *s = *out;
    st = client_opts(s, curve, err);
    if (st == EG_OK)
        st = reconnect_opts(s, err);
    /* Queue nothing for a coordinator that is not connected: a READY or
     * heartbeat sent into the void would arrive stale.  The worker retries
     * READY until one gets through. */
    if (st == EG_OK)
        st = set_int(s, ZMQ_IMMEDIATE, 1, "ZMQ_IMMEDIATE", err);
    /* Control frames out are few (credit, heartbeats); this bounds what
     * piles up if the coordinator stalls. */
    if (st == EG_OK)
        st = set_int(s, ZMQ_SNDHWM, 100, "ZMQ_SNDHWM", err);
    /* Tasks in are bounded by the credit granted; heartbeats add a few. */
    if (st == EG_OK)
        st = set_int(s, ZMQ_RCVHWM, 1000, "ZMQ_RCVHWM", err);
    /* On leaving, give the last RETURN/BYE frames a second to get out,
     * never longer: a worker must be able to stop. */
    if (st == EG_OK)
        st = set_int(s, ZMQ_LINGER, 1000, "ZMQ_LINGER", err);
    /* The largest legitimate frame is a task's data part. */
    if (st == EG_OK)
        st = set_i64(s, ZMQ_MAXMSGSIZE, max_size(max_in), "ZMQ_MAXMSGSIZE",
                     err);
    if (st != EG_OK)
        eg_zsock_close(out);
    return st;
}

eg_status eg_zsock_connect_results(void *ctx, const char *endpoint,
                                   const eg_curve_keys *curve, void **out,
                                   eg_error *err)
{
    eg_status st = make(ctx, ZMQ_PUSH, out, err);
    if (st != EG_OK)
        return st;
    void *s = *out;
    st = client_opts(s, curve, err);
    if (st == EG_OK)
        st = reconnect_opts(s, err);
    /* Results may wait through a short reconnect (they are still wanted
     * then), so no ZMQ_IMMEDIATE here; a result for a job that has ended
     * is refused by the next coordinator by its job id.  A result is a few
     * hundred bytes; past the mark the worker keeps them itself and holds
     * back their credit, which slows the coordinator down. */
    if (st == EG_OK)
        st = set_int(s, ZMQ_SNDHWM, 1000, "ZMQ_SNDHWM", err);
    if (st == EG_OK)
        st = set_int(s, ZMQ_LINGER, 1000, "ZMQ_LINGER", err);
    /* Only the peer's handshake ever arrives on a PUSH socket (the limit
     * applies to ZMTP commands too, so it cannot be 0). */
    if (st == EG_OK)
        st = set_i64(s, ZMQ_MAXMSGSIZE, 4096, "ZMQ_MAXMSGSIZE", err);
    return finish_connect(out, endpoint, st, err);
}

eg_status eg_zsock_monitor(void *ctx, void *sock, const char *name,
                           void **out, eg_error *err)
{
    return eg_zsock_monitor_events(ctx, sock, name, ZMQ_EVENT_DISCONNECTED,
                                   out, err);
}

eg_status eg_zsock_monitor_events(void *ctx, void *sock, const char *name,
                                  int events, void **out, eg_error *err)
{
    char addr[128];
    snprintf(addr, sizeof addr, "inproc://eg-monitor-%s-%p", name, sock);
    if (zmq_socket_monitor(sock, addr, events) != 0)
        return eg_zmq_error(err, "zmq_socket_monitor", addr);
    eg_status st = make(ctx, ZMQ_PAIR, out, err);
    if (st == EG_OK)
        st = set_int(*out, ZMQ_LINGER, 0, "ZMQ_LINGER", err);
    return finish_connect(out, addr, st, err);
}

int eg_zsock_monitor_read(void *pair, unsigned *event, uint32_t *value)
{
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, pair, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&m);
        return -1;
    }
    int ok = zmq_msg_size(&m) == 6;
    if (ok) {
        const uint8_t *p = zmq_msg_data(&m);
        /* libzmq writes the event in host byte order. */
        uint16_t ev;
        memcpy(&ev, p, 2);
        memcpy(value, p + 2, 4);
        *event = ev;
    }
    zmq_msg_close(&m);
    eg_zsock_drain(pair);  /* the endpoint part */
    return ok ? 0 : -1;
}

eg_status eg_zsock_endpoint(void *sock, char *buf, size_t len, eg_error *err)
{
    size_t n = len;
    if (zmq_getsockopt(sock, ZMQ_LAST_ENDPOINT, buf, &n) != 0)
        return eg_zmq_error(err, "zmq_getsockopt", "ZMQ_LAST_ENDPOINT");
    return EG_OK;
}

void eg_zsock_close(void **sock)
{
    if (sock && *sock) {
        zmq_close(*sock);
        *sock = NULL;
    }
}

int eg_zsock_more(void *sock)
{
    int more = 0;
    size_t n = sizeof more;
    if (zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &n) != 0)
        return 0;
    return more;
}

unsigned eg_zsock_drain(void *sock)
{
    unsigned dropped = 0;
    while (eg_zsock_more(sock)) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, sock, 0) < 0) {
            zmq_msg_close(&m);
            break;
        }
        zmq_msg_close(&m);
        dropped++;
    }
    return dropped;
}
