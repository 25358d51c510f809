/* curve_coord.c - the coordinator's side of grid security: which transport
 * its endpoints may use, its CURVE keys, the ZAP handler served from its
 * loop (and reloaded on SIGHUP), and who sent a message. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "coord_internal.h"
#include "engine_grid.h"
#include "sysdep.h"

/* Requests answered per pass of the loop, so a flood of handshakes cannot
 * starve the job's own sockets. */
#define ZAP_BATCH 256

static void event(eg_coord *c, eg_coord_event_kind kind, const char *worker,
                  const char *fmt, ...) EG_PRINTF(4, 5);

static void event(eg_coord *c, eg_coord_event_kind kind, const char *worker,
                  const char *fmt, ...)
{
    if (!c->o.event_fn)
        return;
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    eg_coord_event ev = {kind, eg_now(), 0, 0, worker, text};
    c->o.event_fn(c->o.event_ctx, &ev);
}

eg_status coord_curve_open(eg_coord *c, eg_curve_keys *keys, int *curve,
                           eg_error *err)
{
    const eg_coord_opts *o = &c->o;
    const eg_curve_start start = {
        .secret = o->curve_secret,
        .peer = o->allow_dir,
        .secret_alone = "--curve-secret needs --allow DIR (the workers' "
                        "public keys)",
        .peer_alone = "--allow needs --curve-secret FILE (the coordinator's "
                      "secret key)",
        .tasks = o->tasks_endpoint,
        .results = o->results_endpoint,
        .insecure = o->insecure};
    eg_status st = eg_curve_begin(&start, keys, curve, err);
    if (st != EG_OK || !*curve)
        return st;
    st = eg_zap_open(&c->zap, c->zctx, o->allow_dir, err);
    if (o->reload)
        c->reload_seen = *o->reload;
    return st;
}

/* Reads the allow-list again; on failure the old one stays in force. */
static int reload(eg_coord *c)
{
    eg_error err;
    size_t before = eg_zap_count(c->zap);
    if (eg_zap_reload(c->zap, &err) != EG_OK) {
        event(c, EG_EV_ALLOW, "",
              "allow-list not reloaded (%s); the %zu "
              "key(s) loaded before stay in force",
              err.msg, before);
        return 0;
    }
    event(c, EG_EV_ALLOW, "",
          "allow-list %s reloaded: %zu key(s) (%zu "
          "before)",
          eg_zap_dir(c->zap), eg_zap_count(c->zap), before);
    return 1;
}

int coord_curve_serve(eg_coord *c)
{
    if (!c->zap)
        return 0;
    int reloaded = 0;
    if (c->o.reload && *c->o.reload != c->reload_seen) {
        c->reload_seen = *c->o.reload;
        reloaded = reload(c);
    }
    eg_zap_verdict v;
    for (int k = 0; k < ZAP_BATCH && eg_zap_serve(c->zap, &v); k++) {
        if (v.allowed)
            continue;
        c->refused++;
        event(c, EG_EV_REFUSED, "", "handshake refused from %s: %s%s%s",
              v.address[0] ? v.address : "?", v.why, v.key[0] ? "; key " : "",
              v.key);
    }
    return reloaded;
}

uint32_t coord_curve_uid(eg_coord *c, zmq_msg_t *m)
{
    if (!c->zap)
        return 0;
    return eg_zap_uid(c->zap, zmq_msg_gets(m, "User-Id"));
}

const char *coord_curve_name(const eg_coord *c, uint32_t uid)
{
    return c->zap ? eg_zap_name(c->zap, uid) : "";
}
