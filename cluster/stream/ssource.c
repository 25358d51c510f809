/* ssource.c - stdin, ZeroMQ PULL and MQTT sources (ssource.h). */
/* F_SETPIPE_SZ is a Linux extension. */
#define _GNU_SOURCE 1

#include "ssource.h"

#include <errno.h>
#include <fcntl.h>
#include <mosquitto.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "curve.h"
#include "engine_grid.h"
#include "zsock.h"

#define STDIN_CHUNK (1u << 20)
/* The largest ZeroMQ message taken: bigger ones are not records. */
#define ZMQ_MSG_MAX (16u << 20)

struct eg_ss {
    eg_ss_kind kind;
    uint8_t *buf;
    void *sock;
    struct mosquitto *mq;
    char filter[512];
    int connected;
    double retry_at;
    uint64_t messages, reconnects;
    /* the current poll's callback, for libmosquitto's */
    eg_ss_fn fn;
    void *ctx;
};

int eg_ss_kind_of(const char *from)
{
    if (strcmp(from, "-") == 0)
        return EG_SS_STDIN;
    if (strncmp(from, "zmq+tcp://", 10) == 0)
        return EG_SS_ZMQ;
    if (strncmp(from, "mqtt://", 7) == 0)
        return EG_SS_MQTT;
    return -1;
}

static void on_connect(struct mosquitto *m, void *arg, int rc)
{
    eg_ss *s = arg;
    if (rc != 0)
        return;
    s->connected = 1;
    /* Subscribing again on every connect is harmless with a persistent
     * session and needed when the broker lost it. */
    mosquitto_subscribe(m, NULL, s->filter, 1);
}

static void on_disconnect(struct mosquitto *m, void *arg, int rc)
{
    (void)m;
    (void)rc;
    ((eg_ss *)arg)->connected = 0;
}

static void on_message(struct mosquitto *m, void *arg,
                       const struct mosquitto_message *msg)
{
    (void)m;
    eg_ss *s = arg;
    s->messages++;
    if (s->fn)
        s->fn(s->ctx, msg->topic, msg->payload, (size_t)msg->payloadlen, 1);
}

static eg_status open_mqtt(eg_ss *s, const char *from, const eg_ss_opts *o,
                           eg_error *err)
{
    const char *hp = from + 7;
    const char *slash = strchr(hp, '/');
    const char *colon = strrchr(hp, ':');
    if (!slash || slash[1] == '\0' || !colon || colon > slash)
        return eg_error_set(err, EG_EUSAGE,
                            "--from %s: expected mqtt://HOST:PORT/FILTER",
                            from);
    char host[256];
    size_t hl = (size_t)(colon - hp);
    if (hl == 0 || hl >= sizeof host)
        return eg_error_set(err, EG_EUSAGE, "--from %s: bad host", from);
    memcpy(host, hp, hl);
    host[hl] = '\0';
    char *end = NULL;
    long port = strtol(colon + 1, &end, 10);
    if (end != slash || port <= 0 || port > 65535)
        return eg_error_set(err, EG_EUSAGE, "--from %s: bad port", from);
    if (strlen(slash + 1) >= sizeof s->filter ||
        mosquitto_sub_topic_check(slash + 1) != MOSQ_ERR_SUCCESS)
        return eg_error_set(err, EG_EUSAGE,
                            "--from %s: '%s' is not an MQTT topic filter", from,
                            slash + 1);
    snprintf(s->filter, sizeof s->filter, "%s", slash + 1);
    mosquitto_lib_init();
    s->mq = mosquitto_new(o->name, false, s);
    if (!s->mq)
        return eg_error_set(err, EG_ENOMEM, "mqtt: mosquitto_new: %s",
                            strerror(errno));
    mosquitto_connect_callback_set(s->mq, on_connect);
    mosquitto_disconnect_callback_set(s->mq, on_disconnect);
    mosquitto_message_callback_set(s->mq, on_message);
    int rc = mosquitto_connect(s->mq, host, (int)port, 30);
    if (rc != MOSQ_ERR_SUCCESS)
        return eg_error_set(
            err, EG_ENET, "mqtt: connect %s:%ld: %s", host, port,
            rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
    return EG_OK;
}

eg_status eg_ss_open(eg_ss **out, const char *from, const eg_ss_opts *o,
                     eg_error *err)
{
    *out = NULL;
    int kind = eg_ss_kind_of(from);
    if (kind < 0)
        return eg_error_set(err, EG_EUSAGE,
                            "--from %s: expected -, zmq+tcp://HOST:PORT or "
                            "mqtt://HOST:PORT/FILTER",
                            from);
    eg_ss *s = calloc(1, sizeof *s);
    if (!s)
        return eg_error_set(err, EG_ENOMEM, "stream: out of memory");
    s->kind = (eg_ss_kind)kind;
    eg_status st = EG_OK;
    if (kind == EG_SS_STDIN) {
#ifdef F_SETPIPE_SZ
        /* A pipe hands over at most its size per read (64 KiB by
         * default); a bigger one halves the reads and wake-ups.  Best
         * effort: a file or a terminal is left as it is. */
        (void)fcntl(0, F_SETPIPE_SZ, (int)STDIN_CHUNK);
#endif
        s->buf = malloc(STDIN_CHUNK);
        if (!s->buf)
            st = eg_error_set(err, EG_ENOMEM, "stream: out of memory");
    } else if (kind == EG_SS_ZMQ) {
        const char *ep = from + 4;
        st = eg_endpoint_check_plain(ep, "--from", o->insecure, err);
        if (st == EG_OK && !(s->sock = zmq_socket(o->zctx, ZMQ_PULL)))
            st = eg_zmq_error(err, "zmq_socket", "PULL");
        int hwm = 100000;
        int64_t max = ZMQ_MSG_MAX;
        if (st == EG_OK &&
            (zmq_setsockopt(s->sock, ZMQ_RCVHWM, &hwm, sizeof hwm) != 0 ||
             zmq_setsockopt(s->sock, ZMQ_MAXMSGSIZE, &max, sizeof max) != 0))
            st = eg_zmq_error(err, "zmq_setsockopt", ep);
        if (st == EG_OK && zmq_bind(s->sock, ep) != 0)
            st = eg_zmq_error(err, "zmq_bind", ep);
    } else {
        st = open_mqtt(s, from, o, err);
    }
    if (st != EG_OK) {
        eg_ss_close(&s);
        return st;
    }
    *out = s;
    return EG_OK;
}

void eg_ss_close(eg_ss **ps)
{
    eg_ss *s = *ps;
    if (!s)
        return;
    if (s->mq) {
        mosquitto_disconnect(s->mq);
        mosquitto_destroy(s->mq);
        mosquitto_lib_cleanup();
    }
    eg_zsock_close(&s->sock);
    free(s->buf);
    free(s);
    *ps = NULL;
}

static eg_status poll_stdin(eg_ss *s, int timeout_ms, eg_ss_fn fn, void *ctx,
                            int *eof, eg_error *err)
{
    struct pollfd p = {.fd = 0, .events = POLLIN};
    int r = poll(&p, 1, timeout_ms);
    if (r < 0 && errno != EINTR)
        return eg_error_set(err, EG_EIO, "stdin: poll: %s", strerror(errno));
    if (r <= 0)
        return EG_OK;
    ssize_t n = read(0, s->buf, STDIN_CHUNK);
    if (n < 0) {
        if (errno == EINTR || errno == EAGAIN)
            return EG_OK;
        return eg_error_set(err, EG_EIO, "stdin: read: %s", strerror(errno));
    }
    if (n == 0) {
        *eof = 1;
        return EG_OK;
    }
    s->messages++;
    fn(ctx, NULL, s->buf, (size_t)n, 0);
    return EG_OK;
}

static eg_status poll_zmq(eg_ss *s, int timeout_ms, eg_ss_fn fn, void *ctx,
                          eg_error *err)
{
    zmq_pollitem_t it = {.socket = s->sock, .events = ZMQ_POLLIN};
    if (zmq_poll(&it, 1, timeout_ms) < 0 && zmq_errno() != EINTR)
        return eg_zmq_error(err, "zmq_poll", "source");
    /* A bounded batch per poll, so windows still close on time. */
    zmq_msg_t m;
    zmq_msg_init(&m);
    for (int i = 0; i < 4096; i++) {
        /* Read in place from libzmq's message: no copy before the
         * windows take the records. */
        if (zmq_msg_recv(&m, s->sock, ZMQ_DONTWAIT) < 0)
            break;
        s->messages++;
        int more = zmq_msg_more(&m);
        fn(ctx, NULL, zmq_msg_data(&m), zmq_msg_size(&m), 1);
        if (more)
            eg_zsock_drain(s->sock);
    }
    zmq_msg_close(&m);
    return EG_OK;
}

static eg_status poll_mqtt(eg_ss *s, int timeout_ms, eg_ss_fn fn, void *ctx,
                           eg_error *err)
{
    (void)err;
    s->fn = fn;
    s->ctx = ctx;
    int rc = mosquitto_loop(s->mq, timeout_ms, 1);
    if (rc != MOSQ_ERR_SUCCESS) {
        /* The broker went away: try again at most every half second, and
         * let the caller's windows go on closing meanwhile. */
        double now = eg_now();
        if (now >= s->retry_at) {
            s->retry_at = now + 0.5;
            if (mosquitto_reconnect(s->mq) == MOSQ_ERR_SUCCESS)
                s->reconnects++;
        }
        if (timeout_ms > 0) {
            struct pollfd none;
            poll(&none, 0, timeout_ms > 100 ? 100 : timeout_ms);
        }
    }
    s->fn = NULL;
    return EG_OK;
}

eg_status eg_ss_poll(eg_ss *s, int timeout_ms, eg_ss_fn fn, void *ctx, int *eof,
                     eg_error *err)
{
    *eof = 0;
    if (timeout_ms < 0)
        timeout_ms = 0;
    switch (s->kind) {
    case EG_SS_STDIN:
        return poll_stdin(s, timeout_ms, fn, ctx, eof, err);
    case EG_SS_ZMQ:
        return poll_zmq(s, timeout_ms, fn, ctx, err);
    case EG_SS_MQTT:
        return poll_mqtt(s, timeout_ms, fn, ctx, err);
    }
    return EG_OK;
}

uint64_t eg_ss_messages(const eg_ss *s)
{
    return s->messages;
}
uint64_t eg_ss_reconnects(const eg_ss *s)
{
    return s->reconnects;
}
