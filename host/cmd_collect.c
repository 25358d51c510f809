/* cmd_collect.c - `edgegrid collect`: merges the window states that
 * stream boxes push, per (window, key), exactly once per box, and prints
 * one line per window and key with the boxes that reported it.  Runs
 * until SIGINT/SIGTERM, then prints what still waits (naming the missing
 * boxes) and its totals on stderr. */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "cli.h"
#include "collect.h"
#include "curve.h"
#include "sframe.h"
#include "stream_out.h"
#include "zap.h"
#include "zsock.h"

static const char collect_help[] =
    "usage: edgegrid collect --bind tcp://IP:PORT [--expect BOX,BOX,... | "
    "--boxes N] [options]\n"
    "\n"
    "Receives the window states of 'edgegrid stream --push' boxes, merges\n"
    "each (window, key) across the boxes and prints the window's line with\n"
    "\"boxes\" once every expected box has reported it, or after --wait with\n"
    "\"missing\" naming the others.  A box's state for a window is taken "
    "once:\n"
    "copies are dropped and counted.\n"
    "\n"
    "  --bind ENDPOINT      where boxes push to (tcp://127.0.0.1:* picks a\n"
    "                       port; the endpoint is named on stderr)\n"
    "  --expect BOXES       the boxes' names, comma-separated\n"
    "  --boxes N            or: a window is complete with N boxes\n"
    "  --wait SPEC          how long a window waits for the missing boxes\n"
    "                       after its first state (default 10s)\n"
    "  --state-dir DIR      remember the windows printed in DIR (fsync'd\n"
    "                       before the boxes are acknowledged): restarted\n"
    "                       with the same DIR, the collector prints none\n"
    "                       of them again\n"
    "  --json               the line format (the only one; accepted)\n"
    "\n"
    "security (README, \"Grid security\"):\n"
    "  --curve-secret FILE  the collector's secret key; with --allow DIR\n"
    "  --allow DIR          the boxes' public keys (NAME.pub): CURVE, and a\n"
    "                       box must push under its key's name\n"
    "  --insecure           allow plain TCP on an address that is not\n"
    "                       loopback\n"
    "\n"
#ifdef EDGEGRID_TEST_HOOKS
    "\n"
    "testing aids (fault injection; builds with EDGEGRID_TEST_HOOKS only):\n"
    "  --die-after-record K kill itself (SIGKILL) once the K-th printed\n"
    "                       window is recorded, before its acks\n"
#endif
    "exit status: 0 stopped, 1 runtime failure, 2 bad usage.\n";

enum {
    OPT_BIND = 256,
    OPT_EXPECT,
    OPT_BOXES,
    OPT_WAIT,
    OPT_JSON,
    OPT_SECRET,
    OPT_ALLOW,
    OPT_INSECURE,
    OPT_STATE_DIR,
    OPT_DIE_AFTER
};

typedef struct copts {
    const char *bind, *expect, *secret, *allow, *state_dir;
    unsigned boxes, die_after;
    int64_t wait_us;
    int insecure;
} copts;

typedef struct crun {
    void *sock;
    eg_zap *zap;
    uint64_t bad_frames, old_frames, refused_shown;
    unsigned die_after, records;
} crun;

static volatile sig_atomic_t stop_signals;

static void on_signal(int sig)
{
    (void)sig;
    stop_signals = (sig_atomic_t)(stop_signals + 1);
}

static int parse_option(int c, const char *arg, void *ctx)
{
    copts *o = ctx;
    switch (c) {
    case OPT_BIND:
        o->bind = arg;
        break;
    case OPT_EXPECT:
        o->expect = arg;
        break;
    case OPT_BOXES:
        if (cli_parse_uint(arg, &o->boxes) != 0 || o->boxes == 0 ||
            o->boxes > EG_COLL_MAX_BOXES)
            return cli_usage("collect", "--boxes %s: expected 1 to %d", arg,
                             EG_COLL_MAX_BOXES);
        break;
    case OPT_WAIT:
        if (stream_parse_duration(arg, 1, &o->wait_us) != 0)
            return cli_usage("collect",
                             "--wait %s: expected a duration such "
                             "as 10s",
                             arg);
        break;
    case OPT_JSON:
        break;
    case OPT_SECRET:
        o->secret = arg;
        break;
    case OPT_ALLOW:
        o->allow = arg;
        break;
    case OPT_INSECURE:
        o->insecure = 1;
        break;
    case OPT_STATE_DIR:
        o->state_dir = arg;
        break;
#ifdef EDGEGRID_TEST_HOOKS
    case OPT_DIE_AFTER:
        if (cli_parse_uint(arg, &o->die_after) != 0 || o->die_after == 0)
            return cli_usage("collect", "--die-after-record %s: expected a "
                                        "count from 1",
                             arg);
        break;
#endif
    default:
        break;
    }
    return CLI_EXIT_OK;
}

static void on_line(void *ctx, const eg_coll_line *l)
{
    (void)ctx;
    stream_print_line(stdout, l->w, NULL, l->boxes, l->nboxes, l->missing,
                      l->nmissing);
}

/* The fault injection of a test build: dies where a power cut would
 * leave a window printed and recorded but not acknowledged. */
static void on_recorded(void *ctx, unsigned windows)
{
    crun *r = ctx;
    r->records += windows;
    if (r->die_after && r->records >= r->die_after)
        raise(SIGKILL);
}

static void on_ack(void *ctx, const uint8_t *rid, size_t rid_len,
                   const eg_sf_head *h)
{
    crun *r = ctx;
    uint8_t buf[512];
    size_t n = eg_sf_encode_ack(h, buf, sizeof buf);
    if (n == 0 || rid_len == 0)
        return;
    /* A box that has gone (ROUTER_MANDATORY: EHOSTUNREACH) or stalled
     * (EAGAIN) misses its ack and sends the state again; the copy is
     * known and acknowledged then. */
    if (zmq_send(r->sock, rid, rid_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) ==
        (int)rid_len)
        zmq_send(r->sock, buf, n, ZMQ_DONTWAIT);
}

static void serve_frames(crun *r, eg_coll *c, eg_sf_window *w, uint8_t *rid)
{
    for (int i = 0; i < 1024; i++) {
        int rl = zmq_recv(r->sock, rid, EG_COLL_RID_MAX, ZMQ_DONTWAIT);
        if (rl < 0)
            return;
        if (!eg_zsock_more(r->sock))
            continue;
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, r->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&msg);
            continue;
        }
        eg_zsock_drain(r->sock);
        int type;
        eg_error err;
        eg_status st = eg_sf_decode(zmq_msg_data(&msg), zmq_msg_size(&msg),
                                    &type, w, &err);
        if (st == EG_OK && type != EG_SF_WINDOW)
            st = eg_error_set(&err, EG_EINPUT, "stream frame: not a window");
        /* With CURVE a box pushes under its key's name and no other, so
         * no box can report for another. */
        const char *uid = r->zap ? zmq_msg_gets(&msg, "User-Id") : NULL;
        if (st == EG_OK && r->zap && (!uid || strcmp(uid, w->h.box) != 0))
            st = eg_error_set(&err, EG_EINPUT,
                              "collect: box '%s' pushed under the key of '%s'",
                              w->h.box, uid ? uid : "?");
        if (st == EG_OK)
            st = eg_coll_take(c, w, rid, (size_t)rl, eg_now(), on_line, on_ack,
                              r, &err);
        zmq_msg_close(&msg);
        if (st != EG_OK) {
            /* A box of an older version: counted apart, so that an
             * upgrade left half done shows. */
            if (w->h.version != 0 && w->h.version < EG_SF_VERSION)
                r->old_frames++;
            r->bad_frames++;
            if (r->bad_frames <= 5)
                cli_errorf("collect: frame dropped: %s", err.msg);
        }
    }
}

static int run(const copts *o, const char *const *expect, unsigned nexpect)
{
    eg_error err;
    crun r;
    memset(&r, 0, sizeof r);
    r.die_after = o->die_after;
    eg_coll *c = NULL;
    eg_coll_cfg cfg = {.expect = nexpect ? expect : NULL,
                       .nexpect = nexpect,
                       .boxes = o->boxes,
                       .wait_s = (double)o->wait_us / 1e6,
                       .state_dir = o->state_dir,
                       .recorded = on_recorded};
    eg_sf_window *w = calloc(1, sizeof *w);
    eg_state *moments = calloc(EG_SF_MAX_CHANNELS, sizeof *moments);
    eg_sketch *sketches = calloc(EG_SF_MAX_CHANNELS, sizeof *sketches);
    eg_hist_state *hists = calloc(EG_SF_MAX_CHANNELS, sizeof *hists);
    eg_hist_plan *plan = calloc(1, sizeof *plan);
    uint8_t rid[EG_COLL_RID_MAX];
    void *zctx = zmq_ctx_new();
    int rc = CLI_EXIT_OK;
    eg_status st = (w && moments && sketches && hists && plan && zctx)
                       ? EG_OK
                                          : eg_error_set(&err, EG_ENOMEM,
                                                         "collect: out of "
                                                         "memory");
    if (st == EG_OK)
        st = eg_coll_open(&c, &cfg, &err);
    eg_curve_keys keys;
    memset(&keys, 0, sizeof keys);
    if (st == EG_OK && o->secret) {
        if ((st = eg_curve_available(&err)) == EG_OK)
            st = eg_curve_read_secret(o->secret, keys.secret_key,
                                      keys.public_key, &err);
        /* The handler first: without one libzmq lets every client in. */
        if (st == EG_OK)
            st = eg_zap_open(&r.zap, zctx, o->allow, &err);
    }
    if (st == EG_OK)
        st = eg_zsock_bind_tasks(zctx, o->bind,
                                 EG_SF_FRAME_MAX,
                                 o->secret ? &keys : NULL, &r.sock, &err);
    eg_curve_wipe(&keys, sizeof keys);
    char ep[256];
    if (st == EG_OK)
        st = eg_zsock_endpoint(r.sock, ep, sizeof ep, &err);
    if (st != EG_OK) {
        rc = cli_engine_error(&err);
        goto out;
    }
    w->moments = moments;
    w->sketches = sketches;
    w->hists = hists;
    w->plan = plan;
    cli_errorf("collect: listening on %s%s", ep, o->secret ? " (CURVE)" : "");
    if (o->state_dir) {
        eg_coll_totals t0;
        eg_coll_totals_get(c, &t0);
        cli_errorf("collect: state in %s: %" PRIu64 " printed ids recovered",
                   o->state_dir, t0.recovered);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    while (!stop_signals && !eg_coll_failure(c)) {
        zmq_pollitem_t it[2] = {{.socket = r.sock, .events = ZMQ_POLLIN},
                                {.socket = r.zap ? eg_zap_socket(r.zap) : NULL,
                                 .events = ZMQ_POLLIN}};
        double due = eg_coll_next_due(c, eg_now());
        long ms = due < 0 ? 200 : (long)(due * 1000) + 1;
        if (ms > 200)
            ms = 200;
        zmq_poll(it, r.zap ? 2 : 1, ms);
        if (r.zap) {
            eg_zap_verdict v;
            while (eg_zap_serve(r.zap, &v))
                if (!v.allowed)
                    cli_errorf("collect: refused a box from %s: %s", v.address,
                               v.why ? v.why : "not allowed");
        }
        serve_frames(&r, c, w, rid);
        eg_coll_tick(c, eg_now(), on_line, on_ack, &r);
        eg_coll_flush(c, on_ack, &r);
    }
    /* Stopping: what still waits is printed now, with its missing boxes. */
    if (!eg_coll_failure(c)) {
        eg_coll_tick(c, eg_now() + cfg.wait_s + 1, on_line, on_ack, &r);
        eg_coll_flush(c, on_ack, &r);
    }
    eg_coll_totals t;
    eg_coll_totals_get(c, &t);
    fprintf(stderr,
            "{\"totals\": {\"states\": %" PRIu64 ", \"printed\": %" PRIu64
            ", \"complete\": %" PRIu64 ", \"duplicates\": %" PRIu64
            ", \"after\": %" PRIu64 ", \"refused\": %" PRIu64
            ", \"bad\": %" PRIu64 ", \"old\": %" PRIu64
            ", \"recovered\": %" PRIu64 "}}\n",
            t.states, t.printed, t.complete, t.duplicates, t.after, t.refused,
            r.bad_frames, r.old_frames, t.recovered);
    if (eg_coll_failure(c))
        rc = cli_engine_error(eg_coll_failure(c));
out:
    eg_zsock_close(&r.sock);
    eg_zap_close(&r.zap);
    eg_coll_close(&c);
    if (zctx)
        zmq_ctx_term(zctx);
    if (w)
        eg_sf_window_free_quant(w);
    free(moments);
    free(sketches);
    free(hists);
    free(plan);
    free(w);
    return rc;
}

int cmd_collect(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"bind", required_argument, NULL, OPT_BIND},
        {"expect", required_argument, NULL, OPT_EXPECT},
        {"boxes", required_argument, NULL, OPT_BOXES},
        {"wait", required_argument, NULL, OPT_WAIT},
        {"json", no_argument, NULL, OPT_JSON},
        {"curve-secret", required_argument, NULL, OPT_SECRET},
        {"allow", required_argument, NULL, OPT_ALLOW},
        {"insecure", no_argument, NULL, OPT_INSECURE},
        {"state-dir", required_argument, NULL, OPT_STATE_DIR},
#ifdef EDGEGRID_TEST_HOOKS
        {"die-after-record", required_argument, NULL, OPT_DIE_AFTER},
#endif
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    copts o;
    memset(&o, 0, sizeof o);
    o.wait_us = 10000000;
    int rc = cli_getopts("collect", collect_help, argc, argv, longopts,
                         parse_option, &o);
    if (rc == CLI_DONE)
        return CLI_EXIT_OK;
    if (rc != CLI_EXIT_OK)
        return rc;
    if (optind < argc)
        return cli_usage("collect", "unexpected argument '%s'", argv[optind]);
    if (!o.bind)
        return cli_usage("collect", "--bind is required");
    if (!o.expect && !o.boxes)
        return cli_usage("collect", "--expect BOXES or --boxes N is required");
    if (o.expect && o.boxes)
        return cli_usage("collect", "--expect and --boxes exclude each other");
    if ((o.secret != NULL) != (o.allow != NULL))
        return cli_usage("collect", "--curve-secret and --allow come "
                                    "together");
    eg_error err;
    if (!o.secret &&
        eg_endpoint_check_plain(o.bind, "--bind", o.insecure, &err) != EG_OK) {
        cli_errorf("collect: %s", err.msg);
        return CLI_EXIT_USAGE;
    }
    char *text = strdup(o.expect ? o.expect : "");
    const char *names[EG_COLL_MAX_BOXES];
    unsigned n = 0;
    if (!text)
        return CLI_EXIT_FAIL;
    for (char *save = NULL, *t = strtok_r(text, ",", &save); t;
         t = strtok_r(NULL, ",", &save)) {
        if (n == EG_COLL_MAX_BOXES || strlen(t) > EG_SF_NAME_MAX) {
            free(text);
            return cli_usage("collect",
                             "--expect: at most %d names of at "
                             "most %d characters",
                             EG_COLL_MAX_BOXES, EG_SF_NAME_MAX);
        }
        for (unsigned i = 0; i < n; i++)
            if (strcmp(names[i], t) == 0) {
                cli_usage("collect", "--expect names '%s' twice", t);
                free(text);
                return CLI_EXIT_USAGE;
            }
        names[n++] = t;
    }
    if (o.expect && n == 0) {
        free(text);
        return cli_usage("collect", "--expect: no box names");
    }
    rc = run(&o, names, n);
    free(text);
    return rc;
}
