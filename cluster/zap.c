/* zap.c - the ZAP handler: one REP socket, one request at a time.
 *
 * A request (RFC 27) is: version "1.0", request id, domain, address,
 * routing id, mechanism, then the mechanism's credentials (for CURVE, the
 * client's 32-byte public key).  The reply is: version, request id, status
 * code ("200" admits, "400" refuses), status text, user id, metadata. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "engine_grid.h"
#include "zap.h"
#include "zsock.h"

#define ZAP_PARTS 7

struct eg_zap {
    void *rep;
    char *dir;
    eg_allow allow;
    eg_allow_names names;
    uint8_t *live;     /* live[uid - 1]: that name's key is allowed now */
    uint32_t live_n;   /* names when live was made */
};

/* Marks the names that have a key on list `a`, so a message's sender is
 * checked without walking the keys. */
static eg_status mark_live(eg_zap *z, const eg_allow *a, eg_error *err)
{
    uint8_t *live = calloc(z->names.n ? z->names.n : 1, 1);
    if (!live)
        return eg_error_set(err, EG_ENOMEM, "ZAP handler: out of memory");
    for (size_t k = 0; k < a->nkeys; k++)
        live[a->keys[k].uid - 1] = 1;
    free(z->live);
    z->live = live;
    z->live_n = z->names.n;
    return EG_OK;
}

eg_status eg_zap_open(eg_zap **out, void *zctx, const char *allow_dir,
                      eg_error *err)
{
    *out = NULL;
    eg_zap *z = calloc(1, sizeof *z);
    if (!z || !(z->dir = strdup(allow_dir))) {
        free(z);
        return eg_error_set(err, EG_ENOMEM, "ZAP handler: out of memory");
    }
    eg_status st = eg_allow_load(&z->allow, &z->names, allow_dir, err);
    if (st == EG_OK)
        st = mark_live(z, &z->allow, err);
    if (st == EG_OK && z->allow.nkeys == 0)
        st = eg_error_set(err, EG_EUSAGE,
                          "--allow %s holds no NAME.pub key "
                          "files: no worker could connect",
                          allow_dir);
    if (st == EG_OK && !(z->rep = zmq_socket(zctx, ZMQ_REP)))
        st = eg_zmq_error(err, "zmq_socket", "ZAP REP");
    int zero = 0;
    if (st == EG_OK &&
        zmq_setsockopt(z->rep, ZMQ_LINGER, &zero, sizeof zero) != 0)
        st = eg_zmq_error(err, "zmq_setsockopt", "ZMQ_LINGER");
    /* Only one handler may serve a context: a second bind fails here
     * rather than letting clients in unchecked. */
    if (st == EG_OK && zmq_bind(z->rep, EG_ZAP_ENDPOINT) != 0)
        st = eg_zmq_error(err, "zmq_bind", EG_ZAP_ENDPOINT);
    if (st != EG_OK) {
        eg_zap_close(&z);
        return st;
    }
    *out = z;
    return EG_OK;
}

void eg_zap_close(eg_zap **zp)
{
    if (!zp || !*zp)
        return;
    eg_zap *z = *zp;
    eg_zsock_close(&z->rep);
    eg_allow_free(&z->allow);
    eg_allow_names_free(&z->names);
    free(z->live);
    free(z->dir);
    free(z);
    *zp = NULL;
}

eg_status eg_zap_reload(eg_zap *z, eg_error *err)
{
    eg_allow fresh;
    eg_status st = eg_allow_load(&fresh, &z->names, z->dir, err);
    if (st == EG_OK)
        st = mark_live(z, &fresh, err);
    if (st != EG_OK) {
        eg_allow_free(&fresh);
        return st;
    }
    eg_allow_free(&z->allow);
    z->allow = fresh;
    return EG_OK;
}

size_t eg_zap_count(const eg_zap *z)
{
    return z->allow.nkeys;
}

const char *eg_zap_dir(const eg_zap *z)
{
    return z->dir;
}

void *eg_zap_socket(eg_zap *z)
{
    return z->rep;
}

uint32_t eg_zap_uid(const eg_zap *z, const char *user_id)
{
    if (!user_id)
        return 0;
    /* A name is known, but is its key still on the list? */
    for (uint32_t i = 0; i < z->live_n; i++)
        if (strcmp(z->names.v[i], user_id) == 0)
            return z->live[i] ? i + 1 : 0;
    return 0;
}

const char *eg_zap_name(const eg_zap *z, uint32_t uid)
{
    return uid >= 1 && uid <= z->names.n ? z->names.v[uid - 1] : "";
}

static int part_is(zmq_msg_t *m, const char *text)
{
    size_t n = strlen(text);
    return zmq_msg_size(m) == n && memcmp(zmq_msg_data(m), text, n) == 0;
}

static void text_of(zmq_msg_t *m, char *buf, size_t len)
{
    size_t n = zmq_msg_size(m);
    if (n >= len)
        n = len - 1;
    memcpy(buf, zmq_msg_data(m), n);
    buf[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (buf[i] < ' ' || buf[i] > '~')
            buf[i] = '?';
}

/* Judges a request of `n` parts. */
static void judge(eg_zap *z, zmq_msg_t *p, int n, eg_zap_verdict *v)
{
    v->why = "malformed ZAP request";
    if (n != ZAP_PARTS || !part_is(&p[0], "1.0"))
        return;
    text_of(&p[3], v->address, sizeof v->address);
    if (!part_is(&p[2], EG_ZAP_DOMAIN)) {
        v->why = "foreign ZAP domain";
        return;
    }
    if (!part_is(&p[5], "CURVE") || zmq_msg_size(&p[6]) != EG_CURVE_KEY_BYTES) {
        v->why = "not a CURVE handshake";
        return;
    }
    const uint8_t *key = zmq_msg_data(&p[6]);
    zmq_z85_encode(v->key, key, EG_CURVE_KEY_BYTES);
    uint32_t uid = eg_allow_find(&z->allow, key);
    if (!uid) {
        v->why = "key not in the allow-list";
        return;
    }
    v->allowed = 1;
    v->why = "";
    snprintf(v->name, sizeof v->name, "%s", eg_zap_name(z, uid));
}

static void reply(eg_zap *z, zmq_msg_t *request_id, const eg_zap_verdict *v)
{
    const char *code = v->allowed ? "200" : "400";
    const char *text = v->allowed ? "OK" : v->why;
    zmq_send(z->rep, "1.0", 3, ZMQ_SNDMORE);
    if (request_id)
        zmq_msg_send(request_id, z->rep, ZMQ_SNDMORE);
    else
        zmq_send(z->rep, "", 0, ZMQ_SNDMORE);
    zmq_send(z->rep, code, 3, ZMQ_SNDMORE);
    zmq_send(z->rep, text, strlen(text), ZMQ_SNDMORE);
    zmq_send(z->rep, v->name, strlen(v->name), ZMQ_SNDMORE);
    zmq_send(z->rep, "", 0, 0);
}

int eg_zap_serve(eg_zap *z, eg_zap_verdict *v)
{
    memset(v, 0, sizeof *v);
    zmq_msg_t p[ZAP_PARTS];
    int n = 0;
    zmq_msg_init(&p[0]);
    if (zmq_msg_recv(&p[0], z->rep, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&p[0]);
        return 0;
    }
    n = 1;
    /* The rest of a multipart message is there with its first part. */
    while (n < ZAP_PARTS && zmq_msg_more(&p[n - 1])) {
        zmq_msg_init(&p[n]);
        if (zmq_msg_recv(&p[n], z->rep, 0) < 0) {
            zmq_msg_close(&p[n]);
            break;
        }
        n++;
    }
    if (zmq_msg_more(&p[n - 1]))
        n += (int)eg_zsock_drain(z->rep); /* too many parts: malformed */
    judge(z, p, n, v);
    reply(z, n >= 2 ? &p[1] : NULL, v);
    for (int i = 0; i < n && i < ZAP_PARTS; i++)
        zmq_msg_close(&p[i]);
    return 1;
}
