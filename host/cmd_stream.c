/* cmd_stream.c - `edgegrid stream`: windowed reductions of a live source,
 * one JSON line per closed window and key, optionally pushed to `edgegrid
 * collect`.  Runs until its input ends (stdin) or SIGINT/SIGTERM, then
 * closes every open window, waits a little for the collector's
 * acknowledgements and prints its totals on stderr. */
#include <getopt.h>
#include <inttypes.h>
#include <malloc.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "cli.h"
#include "curve.h"
#include "push.h"
#include "quant_cli.h"
#include "record.h"
#include "sframe.h"
#include "ssource.h"
#include "stream_out.h"
#include "sysdep.h"
#include "window.h"

static const char stream_help[] =
    "usage: edgegrid stream --from SOURCE --window SPEC [options]\n"
    "\n"
    "Reduces a live stream in windows, per channel and key, and prints one\n"
    "JSON line per window and key when the window closes.\n"
    "\n"
    "  --from SOURCE        - (stdin), zmq+tcp://HOST:PORT (a PULL socket\n"
    "                       producers push to), or mqtt://HOST:PORT/FILTER\n"
    "                       (QoS 1, + and # wildcards, a persistent session\n"
    "                       named after --name)\n"
    "  --format F           raw, csv (default) or json\n"
    "  --dtype T            raw: the C type of a value (default f64)\n"
    "  --channels C         raw: values per record (default 1); csv: the\n"
    "                       values a line must have (default: the first\n"
    "                       good line's)\n"
    "  --fields a,b,...     json: the channels\n"
    "  --time processing|event\n"
    "                       window by arrival (default) or by the records'\n"
    "                       own times (csv: the first number of a line;\n"
    "                       json: --time-field), in seconds or, from 1e11,\n"
    "                       milliseconds since the epoch\n"
    "  --time-field NAME    json: the event time\n"
    "  --window SPEC        10s, 500ms, 2m, 1h: time windows; 1000: every\n"
    "                       1,000 records of a key\n"
    "  --slide SPEC         hopping time windows that start every SPEC\n"
    "  --lateness SPEC      event time: watermark = latest time - SPEC\n"
    "                       (default 0)\n"
    "  --key SPEC           topic:N (the N-th MQTT topic level) or\n"
    "                       field:NAME (json)\n"
    "  --ops LIST           fast ops as 'edgegrid reduce' (not dot), and\n"
    "                       approx_quantile and hist (hist needs --range:\n"
    "                       a window cannot know its min and max up front)\n"
    "  --mode fast|exact    as 'edgegrid reduce'\n"
    "  --nan propagate|omit, --ddof D   as 'edgegrid reduce'\n"
    "  --q LIST, --rel-err E, --bins N, --range LO,HI   as 'edgegrid reduce'\n"
    "  --json               the line format (the only one; accepted)\n"
    "\n"
    "pushing window states to 'edgegrid collect':\n"
    "  --push tcp://HOST:PORT   the collector's --bind\n"
    "  --name BOX           this box's name (also the MQTT client id)\n"
    "  --curve-secret FILE  this box's secret key; with --server-key,\n"
    "  --server-key FILE    the collector's public key: CURVE\n"
    "  --insecure           allow plain TCP off loopback\n"
    "  --outbox N           window states kept until acknowledged (default\n"
    "                       100000); past it they are counted unsent\n"
    "  --drain SPEC         at the end, wait up to SPEC for acknowledgements\n"
    "                       (default 5s)\n"
    "\n"
    "Bad records are counted (\"bad\" of the next line; the first few are\n"
    "named on stderr), late ones counted in their key's next line; the\n"
    "totals go to stderr as one JSON line at the end.\n"
    "exit status: 0 input ended or stopped, 1 runtime failure, 2 bad usage.\n";

enum {
    OPT_FROM = 256,
    OPT_FORMAT,
    OPT_DTYPE,
    OPT_CHANNELS,
    OPT_FIELDS,
    OPT_TIME,
    OPT_TIME_FIELD,
    OPT_WINDOW,
    OPT_SLIDE,
    OPT_LATENESS,
    OPT_KEY,
    OPT_OPS,
    OPT_MODE,
    OPT_NAN,
    OPT_DDOF,
    OPT_JSON,
    OPT_PUSH,
    OPT_NAME,
    OPT_SECRET,
    OPT_SERVER_KEY,
    OPT_INSECURE,
    OPT_OUTBOX,
    OPT_DRAIN,
    OPT_QUANT /* .. OPT_QUANT + QUANT_OPT_COUNT - 1: quant_cli.h */
};

#define BAD_SHOWN 5

typedef struct sopts {
    const char *from, *format, *dtype, *fields, *time, *time_field;
    const char *window, *slide, *lateness, *key, *push, *name, *secret;
    const char *server_key;
    unsigned channels, ddof, ops;
    int have_channels, insecure;
    eg_mode mode;
    eg_nan_policy nan;
    uint64_t outbox;
    int64_t drain_us;
    eg_quant_opts q; /* approx_quantile, hist */
} sopts;

typedef struct srun {
    sopts o;
    eg_rec_cfg rc;
    char *field_text;
    eg_dtype dtype;
    unsigned channels; /* csv: 0 until the first good line */
    unsigned key_level;
    int event;
    eg_win_cfg wc;
    eg_win *win;
    eg_hist_plan plan; /* hist: the bins of every window */
    int have_plan;
    eg_push *push;
    char box[EG_SF_NAME_MAX + 1];
    /* This start's incarnation: count windows are numbered from it, so the
     * collector tells a restarted box's windows from copies by it. */
    uint64_t epoch;
    /* stdin: a line or record cut by a read */
    uint8_t *carry;
    size_t carry_len, carry_cap;
    uint64_t bad_pending, bad_total, lines;
    double last_arrival;
    int failed;
    eg_error err;
} srun;

static volatile sig_atomic_t stop_signals;

static void on_signal(int sig)
{
    (void)sig;
    stop_signals = (sig_atomic_t)(stop_signals + 1);
}

static int64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int parse_option(int c, const char *arg, void *ctx)
{
    sopts *o = ctx;
    switch (c) {
    case OPT_FROM:
        o->from = arg;
        break;
    case OPT_FORMAT:
        o->format = arg;
        break;
    case OPT_DTYPE:
        o->dtype = arg;
        break;
    case OPT_CHANNELS:
        if (cli_parse_uint(arg, &o->channels) != 0 || o->channels == 0 ||
            o->channels > EG_REC_MAX_CHANNELS)
            return cli_usage("stream", "--channels %s: expected 1 to %d", arg,
                             EG_REC_MAX_CHANNELS);
        o->have_channels = 1;
        break;
    case OPT_FIELDS:
        o->fields = arg;
        break;
    case OPT_TIME:
        o->time = arg;
        break;
    case OPT_TIME_FIELD:
        o->time_field = arg;
        break;
    case OPT_WINDOW:
        o->window = arg;
        break;
    case OPT_SLIDE:
        o->slide = arg;
        break;
    case OPT_LATENESS:
        o->lateness = arg;
        break;
    case OPT_KEY:
        o->key = arg;
        break;
    case OPT_OPS: {
        int rc = quant_cli_ops("stream", arg, &o->ops, &o->q);
        if (rc != CLI_EXIT_OK)
            return rc;
        /* Exact order statistics take passes over data a stream has
         * already let go of. */
        if (o->q.qops & (EG_QOP_MEDIAN | EG_QOP_QUANTILE))
            return cli_usage("stream", "--ops: median and quantile need "
                                       "several passes over the data; a "
                                       "stream has one (use approx_quantile)");
        if (o->ops & EG_OPS_BIT(EG_OP_DOT))
            return cli_usage("stream", "--ops: dot needs a second operand, "
                                       "which a stream does not have");
        break;
    }
    case OPT_MODE:
        if (cli_parse_mode(arg, &o->mode) != 0)
            return cli_usage("stream", "--mode %s: expected fast or exact",
                             arg);
        break;
    case OPT_NAN:
        if (strcmp(arg, "propagate") == 0)
            o->nan = EG_NAN_PROPAGATE;
        else if (strcmp(arg, "omit") == 0)
            o->nan = EG_NAN_OMIT;
        else
            return cli_usage("stream", "--nan %s: expected propagate or omit",
                             arg);
        break;
    case OPT_DDOF:
        if (cli_parse_uint(arg, &o->ddof) != 0 || o->ddof > 255)
            return cli_usage("stream", "--ddof %s: expected 0 to 255", arg);
        break;
    case OPT_JSON:
        break;
    case OPT_PUSH:
        o->push = arg;
        break;
    case OPT_NAME:
        o->name = arg;
        break;
    case OPT_SECRET:
        o->secret = arg;
        break;
    case OPT_SERVER_KEY:
        o->server_key = arg;
        break;
    case OPT_INSECURE:
        o->insecure = 1;
        break;
    case OPT_OUTBOX:
        if (cli_parse_count(arg, &o->outbox) != 0 || o->outbox == 0 ||
            o->outbox > 10000000)
            return cli_usage("stream", "--outbox %s: expected 1 to 1e7", arg);
        break;
    case OPT_DRAIN:
        if (stream_parse_duration(arg, 1, &o->drain_us) != 0)
            return cli_usage("stream",
                             "--drain %s: expected a duration such "
                             "as 5s",
                             arg);
        break;
    default:
        if (c >= OPT_QUANT && c < OPT_QUANT + QUANT_OPT_COUNT)
            return quant_cli_option("stream", c - OPT_QUANT, arg, &o->q);
        break;
    }
    return CLI_EXIT_OK;
}

static int name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > EG_SF_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x21 || s[i] > 0x7e || s[i] == '"' || s[i] == '\\')
            return 0;
    return 1;
}

/* Turns the options into the run's settings; a usage error names the
 * option at fault. */
static int configure(srun *r)
{
    sopts *o = &r->o;
    if (!o->from)
        return cli_usage("stream", "--from is required");
    int kind = eg_ss_kind_of(o->from);
    if (kind < 0)
        return cli_usage("stream",
                         "--from %s: expected -, "
                         "zmq+tcp://HOST:PORT or "
                         "mqtt://HOST:PORT/FILTER",
                         o->from);
    if (!o->window)
        return cli_usage("stream", "--window is required (10s, 500ms, or a "
                                   "record count such as 1000)");
    const char *fmt = o->format ? o->format : "csv";
    if (strcmp(fmt, "raw") == 0)
        r->rc.format = EG_FMT_RAW;
    else if (strcmp(fmt, "csv") == 0)
        r->rc.format = EG_FMT_CSV;
    else if (strcmp(fmt, "json") == 0)
        r->rc.format = EG_FMT_JSON;
    else
        return cli_usage("stream", "--format %s: expected raw, csv or json",
                         fmt);
    r->event = 0;
    if (o->time && strcmp(o->time, "event") == 0)
        r->event = 1;
    else if (o->time && strcmp(o->time, "processing") != 0)
        return cli_usage("stream", "--time %s: expected processing or event",
                         o->time);
    r->dtype = EG_F64;
    if (o->dtype) {
        eg_error err;
        if (r->rc.format != EG_FMT_RAW)
            return cli_usage("stream", "--dtype is for --format raw; csv and "
                                       "json values are read as f64");
        if (eg_dtype_parse(o->dtype, &r->dtype, &err) != EG_OK)
            return cli_usage("stream", "--dtype: %s", err.msg);
    }
    /* The window. */
    memset(&r->wc, 0, sizeof r->wc);
    uint64_t count;
    int64_t size = 0, slide = 0, late = 0;
    if (cli_parse_count(o->window, &count) == 0) {
        if (count == 0)
            return cli_usage("stream",
                             "--window %s: a count window needs at "
                             "least one record",
                             o->window);
        if (o->slide)
            return cli_usage("stream",
                             "--slide is for time windows; "
                             "--window %s counts records",
                             o->window);
        if (r->event)
            return cli_usage("stream",
                             "--time event is for time windows; "
                             "--window %s counts records",
                             o->window);
        r->wc.kind = EG_WIN_COUNT;
        r->wc.count = count;
    } else if (stream_parse_duration(o->window, 0, &size) == 0) {
        r->wc.kind = EG_WIN_TIME;
        slide = size;
        if (o->slide) {
            if (stream_parse_duration(o->slide, 0, &slide) != 0)
                return cli_usage("stream",
                                 "--slide %s: expected a duration "
                                 "such as 2s",
                                 o->slide);
            if (slide > size)
                return cli_usage("stream",
                                 "--slide %s is longer than "
                                 "--window %s",
                                 o->slide, o->window);
        }
    } else {
        return cli_usage("stream",
                         "--window %s: expected a duration (10s, "
                         "500ms, 2m, 1h) or a record count",
                         o->window);
    }
    if (o->lateness) {
        if (!r->event)
            return cli_usage("stream", "--lateness is for --time event");
        if (stream_parse_duration(o->lateness, 1, &late) != 0)
            return cli_usage("stream",
                             "--lateness %s: expected a duration "
                             "such as 2s",
                             o->lateness);
    }
    r->wc.size_us = size;
    r->wc.slide_us = slide;
    r->wc.lateness_us = late;
    r->wc.event_time = r->event;
    /* Channels and fields. */
    if (r->rc.format == EG_FMT_JSON) {
        if (!o->fields)
            return cli_usage("stream", "--format json needs --fields (the "
                                       "channels)");
        if (r->event && !o->time_field)
            return cli_usage("stream", "--time event on json needs "
                                       "--time-field");
        r->field_text = strdup(o->fields);
        if (!r->field_text)
            return CLI_EXIT_FAIL;
        for (char *save = NULL, *t = strtok_r(r->field_text, ",", &save); t;
             t = strtok_r(NULL, ",", &save)) {
            if (r->rc.nfields == EG_REC_MAX_CHANNELS)
                return cli_usage("stream", "--fields: at most %d",
                                 EG_REC_MAX_CHANNELS);
            r->rc.fields[r->rc.nfields++] = t;
        }
        if (r->rc.nfields == 0)
            return cli_usage("stream", "--fields: no field names");
        if (o->have_channels && o->channels != r->rc.nfields)
            return cli_usage("stream", "--channels %u but --fields names %u",
                             o->channels, r->rc.nfields);
        r->channels = r->rc.nfields;
        if (r->event)
            r->rc.time_field = o->time_field;
    } else {
        if (o->fields)
            return cli_usage("stream", "--fields is for --format json");
        if (o->time_field)
            return cli_usage("stream", "--time-field is for --format json "
                                       "(csv: the first number)");
        if (r->rc.format == EG_FMT_RAW) {
            if (r->event)
                return cli_usage("stream", "--time event needs csv or json "
                                           "records (raw ones carry no time)");
            r->channels = o->have_channels ? o->channels : 1;
        } else {
            r->rc.csv_time = r->event;
            r->channels = o->have_channels ? o->channels : 0;
        }
    }
    /* The key. */
    if (o->key) {
        unsigned level;
        if (strncmp(o->key, "topic:", 6) == 0 &&
            cli_parse_uint(o->key + 6, &level) == 0 && level >= 1) {
            if (kind != EG_SS_MQTT)
                return cli_usage("stream", "--key %s needs an mqtt:// source",
                                 o->key);
            r->key_level = level;
        } else if (strncmp(o->key, "field:", 6) == 0 && o->key[6]) {
            if (r->rc.format != EG_FMT_JSON)
                return cli_usage("stream", "--key %s needs --format json",
                                 o->key);
            r->rc.key_field = o->key + 6;
        } else {
            return cli_usage("stream",
                             "--key %s: expected topic:N (N >= 1) "
                             "or field:NAME",
                             o->key);
        }
    }
    /* The box. */
    if (o->name && !name_ok(o->name))
        return cli_usage("stream",
                         "--name '%s': 1 to %d printable "
                         "characters, no blanks or quotes",
                         o->name, EG_SF_NAME_MAX);
    if ((o->push || kind == EG_SS_MQTT) && !o->name)
        return cli_usage("stream", "%s needs --name (the box's name)",
                         o->push ? "--push" : "an mqtt:// source");
    if (o->name) {
        snprintf(r->box, sizeof r->box, "%s", o->name);
    } else {
        char host[256] = "";
        gethostname(host, sizeof host - 1);
        host[sizeof host - 1] = '\0';
        snprintf(r->box, sizeof r->box, "%.*s", EG_SF_NAME_MAX, host);
        for (char *p = r->box; *p; p++)
            if (*p < 0x21 || *p > 0x7e || *p == '"' || *p == '\\')
                *p = '_';
    }
    if ((o->secret != NULL) != (o->server_key != NULL))
        return cli_usage("stream", "--curve-secret and --server-key come "
                                   "together");
    if (!o->push && (o->secret || o->outbox || o->drain_us >= 0))
        return cli_usage("stream", "--curve-secret, --outbox and --drain "
                                   "are for --push");
    if (o->push) {
        eg_error err;
        if (strncmp(o->push, "tcp://", 6) != 0)
            return cli_usage("stream", "--push %s: expected tcp://HOST:PORT",
                             o->push);
        if (!o->secret && eg_endpoint_check_plain(o->push, "--push",
                                                  o->insecure, &err) != EG_OK) {
            cli_errorf("stream: %s", err.msg);
            return CLI_EXIT_USAGE;
        }
    }
    r->wc.channels = r->channels ? r->channels : 1;
    r->wc.dtype = r->dtype;
    r->wc.groups = eg_groups_for(o->ops, o->mode, r->dtype);
    if (o->q.qops) {
        eg_error err;
        o->q.nan = o->nan; /* one --nan for every op */
        int rc = quant_cli_check("stream", &o->q);
        if (rc != CLI_EXIT_OK)
            return rc;
        if ((o->q.qops & EG_QOP_HIST) && !o->q.have_range)
            return cli_usage("stream", "--ops hist needs --range LO,HI: a "
                                       "window cannot know its min and max "
                                       "before it closes");
        if (o->q.qops & EG_QOP_APPROX) {
            r->wc.sketch = 1;
            if (eg_sketch_k_for(o->q.rel_err, &r->wc.sketch_k, &err) != EG_OK)
                return cli_usage("stream", "%s", err.msg);
        }
        if (o->q.qops & EG_QOP_HIST) {
            if (eg_hist_plan_make(&r->plan, r->dtype, o->q.bins, 1, o->q.lo,
                                  o->q.hi, 0, 0, 0, &err) != EG_OK)
                return cli_usage("stream", "%s", err.msg);
            r->have_plan = 1;
            r->wc.hist = &r->plan;
        }
    } else if (o->q.nq || o->q.have_range) {
        return cli_usage("stream", "--q and --range are for approx_quantile "
                                   "and hist in --ops");
    }
    /* 4 MiB of buffered values: a lane per channel for a few keys, short
     * buffers for many (1,000 keys x 8 channels stay within 32 MiB). */
    r->wc.buffer_budget = 4u << 20;
    return CLI_EXIT_OK;
}

/* ------------------------------------------------------------ the output */

static void on_closed(void *ctx, const eg_win_closed *c)
{
    srun *r = ctx;
    eg_sf_window w;
    memset(&w, 0, sizeof w);
    snprintf(w.h.box, sizeof w.h.box, "%s", r->box);
    w.h.has_key = c->has_key;
    snprintf(w.h.key, sizeof w.h.key, "%s", c->key);
    w.h.kind = (uint8_t)c->kind;
    w.h.start = c->start;
    w.h.end = c->end;
    w.h.epoch = r->epoch;
    w.count = c->count;
    w.late = c->late;
    /* Bad records have no key or window: they go with the next line. */
    w.bad = r->bad_pending;
    r->bad_pending = 0;
    w.ops = r->o.ops;
    w.nan = (uint8_t)r->o.nan;
    w.ddof = (uint8_t)r->o.ddof;
    w.mode = (uint8_t)r->o.mode;
    w.dtype = (uint8_t)r->dtype;
    w.channels = (uint16_t)c->channels;
    w.moments = (eg_state *)c->states;
    if (r->o.q.qops) {
        w.q = r->o.q;
        w.sketches = (eg_sketch *)c->sketches;
        w.hists = (eg_hist_state *)c->hists;
        w.plan = r->have_plan ? &r->plan : NULL;
    }
    stream_print_line(stdout, &w, r->box, NULL, 0, NULL, 0);
    r->lines++;
    if (r->push && eg_push_window(r->push, &w, eg_now()) != 0) {
        eg_push_totals t;
        eg_push_totals_get(r->push, &t);
        if (t.unsent == 1)
            cli_errorf("stream: the outbox is full (the collector is not "
                       "acknowledging): window states are counted unsent");
    }
}

/* ---------------------------------------------------------- the records */

static void bad_record(srun *r, const char *why)
{
    r->bad_pending++;
    r->bad_total++;
    if (r->bad_total <= BAD_SHOWN)
        cli_errorf("stream: bad record %" PRIu64 ": %s%s", r->bad_total, why,
                   r->bad_total == BAD_SHOWN
                       ? " (further bad records are counted, not shown)"
                       : "");
}

static void add(srun *r, const char *key, int has_key, int64_t t,
                const void *vals, uint64_t n)
{
    if (r->failed)
        return;
    if (eg_win_add(r->win, key, has_key, t, vals, n, on_closed, r, &r->err) !=
        EG_OK)
        r->failed = 1;
}

static int topic_key(srun *r, const char *topic, char *key)
{
    if (!r->key_level)
        return 0;
    if (!topic || !eg_rec_topic_level(topic, strlen(topic), r->key_level, key))
        return -1;
    return 1;
}

static void text_record(srun *r, const char *topic, const char *p, size_t len,
                        int64_t now)
{
    eg_rec rec;
    const char *why;
    if (r->rc.format == EG_FMT_CSV) {
        why = eg_rec_parse_csv(&r->rc, p, len, &r->channels, &rec);
        if (!why && r->wc.channels != r->channels) {
            /* The first line fixed the channel count after the windows were
             * opened for one: open them again for the count it found. */
            eg_win_close(&r->win);
            r->wc.channels = r->channels;
            if (eg_win_open(&r->win, &r->wc, &r->err) != EG_OK) {
                r->failed = 1;
                return;
            }
        }
    } else {
        why = eg_rec_parse_json(&r->rc, p, len, &rec);
    }
    if (why) {
        bad_record(r, why);
        return;
    }
    char key[EG_REC_KEY_MAX + 1] = "";
    int has_key = rec.has_key;
    if (has_key) {
        memcpy(key, rec.key, sizeof key);
    } else {
        int k = topic_key(r, topic, key);
        if (k < 0) {
            bad_record(r, "the topic has no such level for --key");
            return;
        }
        has_key = k;
    }
    int64_t t = now;
    if (r->event) {
        /* 2^62 us is 146,000 years: windows and the watermark stay far
         * from int64's end. */
        if (!(fabs(rec.t) < 4.6e12)) {
            bad_record(r, "the time is out of range");
            return;
        }
        t = (int64_t)llround(rec.t * 1e6);
    }
    add(r, key, has_key, t, rec.v, 1);
}

static void raw_records(srun *r, const char *topic, const uint8_t *p, size_t n,
                        int64_t now)
{
    char key[EG_REC_KEY_MAX + 1] = "";
    int has_key = topic_key(r, topic, key);
    if (has_key < 0) {
        bad_record(r, "the topic has no such level for --key");
        return;
    }
    add(r, key, has_key, now, p, n);
}

/* One payload: a whole message (ZeroMQ, MQTT) or a chunk of stdin. */
static void on_data(void *ctx, const char *topic, const uint8_t *data,
                    size_t len, int message)
{
    srun *r = ctx;
    int64_t now = wall_us();
    r->last_arrival = eg_now();
    size_t rs = (size_t)r->channels * eg_dtype_size(r->dtype);
    if (r->rc.format == EG_FMT_RAW) {
        if (message) {
            if (len == 0 || len % rs != 0)
                bad_record(r, "raw: a message that is not whole records");
            else
                raw_records(r, topic, data, len / rs, now);
            return;
        }
        size_t at = 0;
        if (r->carry_len) {
            size_t need = rs - r->carry_len;
            size_t take = need < len ? need : len;
            memcpy(r->carry + r->carry_len, data, take);
            r->carry_len += take;
            at = take;
            if (r->carry_len < rs)
                return;
            raw_records(r, topic, r->carry, 1, now);
            r->carry_len = 0;
        }
        size_t whole = (len - at) / rs;
        if (whole)
            raw_records(r, topic, data + at, whole, now);
        at += whole * rs;
        memcpy(r->carry, data + at, len - at);
        r->carry_len = len - at;
        return;
    }
    if (message && r->rc.format == EG_FMT_JSON) {
        text_record(r, topic, (const char *)data, len, now);
        return;
    }
    /* Lines: a message may hold several; stdin cuts them anywhere. */
    size_t at = 0;
    while (at < len) {
        const uint8_t *nl = memchr(data + at, '\n', len - at);
        size_t end = nl ? (size_t)(nl - data) : len;
        if (!nl && !message) {
            /* Keep at most one byte past the limit: enough to know the
             * line is too long, whatever else of it comes. */
            size_t take = end - at;
            size_t room = EG_REC_LINE_MAX + 1 - r->carry_len;
            if (take > room)
                take = room;
            memcpy(r->carry + r->carry_len, data + at, take);
            r->carry_len += take;
            return;
        }
        const char *line = (const char *)data + at;
        size_t ll = end - at;
        if (r->carry_len) {
            size_t take = ll;
            size_t room = EG_REC_LINE_MAX + 1 - r->carry_len;
            if (take > room)
                take = room;
            memcpy(r->carry + r->carry_len, line, take);
            line = (const char *)r->carry;
            ll = r->carry_len + take;
            r->carry_len = 0;
        }
        int blank = 1;
        for (size_t i = 0; i < ll && i <= EG_REC_LINE_MAX && blank; i++)
            blank = line[i] == ' ' || line[i] == '\t' || line[i] == '\r';
        if (ll > EG_REC_LINE_MAX)
            bad_record(r, "a line longer than 64 KiB");
        else if (!blank)
            text_record(r, topic, line, ll, now);
        at = end + 1;
    }
}

/* What is left in the carry at the end of stdin: a last line without its
 * newline is a record, a partial raw record is bad. */
static void flush_carry(srun *r)
{
    if (!r->carry_len)
        return;
    if (r->rc.format == EG_FMT_RAW) {
        bad_record(r, "raw: the input ends inside a record");
    } else {
        size_t n = r->carry_len;
        r->carry_len = 0;
        uint8_t nl = '\n';
        uint8_t *tmp = malloc(n + 1);
        if (tmp) {
            memcpy(tmp, r->carry, n);
            tmp[n] = nl;
            on_data(r, NULL, tmp, n + 1, 0);
            free(tmp);
        }
    }
}

/* ---------------------------------------------------------- the loop */

/* Moves the watermark by the clock: processing time always; event time
 * when the source has been silent for a window's length, so an idle
 * source still closes its windows (the watermark then runs on with the
 * clock from the last record's time). */
static void tick(srun *r)
{
    if (r->wc.kind != EG_WIN_TIME)
        return;
    if (!r->event) {
        eg_win_advance(r->win, wall_us(), on_closed, r);
        return;
    }
    double idle = eg_now() - r->last_arrival;
    int64_t max_t = eg_win_max_time(r->win);
    if (max_t != INT64_MIN && idle * 1e6 >= (double)r->wc.size_us)
        eg_win_advance(r->win,
                       max_t - r->wc.lateness_us + (int64_t)(idle * 1e6),
                       on_closed, r);
}

static int poll_ms(srun *r)
{
    int ms = 100;
    if (r->wc.kind == EG_WIN_TIME && !r->event) {
        int64_t next = eg_win_next_close(r->win);
        if (next != INT64_MAX) {
            int64_t d = next - wall_us();
            if (d < 0)
                d = 0;
            if (d / 1000 < ms)
                ms = (int)((d + 999) / 1000);
        }
    }
    return ms;
}

static void drain(srun *r)
{
    if (!r->push)
        return;
    double until = eg_now() + (double)r->o.drain_us / 1e6;
    for (;;) {
        eg_push_totals t;
        eg_push_service(r->push, eg_now());
        eg_push_totals_get(r->push, &t);
        if (t.pending == 0 || eg_now() >= until || stop_signals > 1)
            break;
        zmq_pollitem_t it = {.socket = eg_push_socket(r->push),
                             .events = ZMQ_POLLIN};
        zmq_poll(&it, 1, 50);
    }
    eg_push_give_up(r->push);
}

static void print_totals(srun *r, const eg_ss *src)
{
    eg_win_totals wt;
    eg_win_totals_get(r->win, &wt);
    fprintf(stderr,
            "{\"totals\": {\"box\": \"%s\", \"records\": %" PRIu64
            ", \"bad\": %" PRIu64 ", \"late\": %" PRIu64
            ", \"windows\": %" PRIu64 ", \"keys\": %" PRIu64
            ", \"messages\": %" PRIu64,
            r->box, wt.records, r->bad_total, wt.late, r->lines, wt.keys,
            src ? eg_ss_messages(src) : 0);
    if (src && eg_ss_reconnects(src))
        fprintf(stderr, ", \"reconnects\": %" PRIu64, eg_ss_reconnects(src));
    if (r->push) {
        eg_push_totals pt;
        eg_push_totals_get(r->push, &pt);
        /* The epoch names this start's count windows at the collector. */
        fprintf(stderr, ", \"epoch\": \"%016" PRIx64 "\"", r->epoch);
        fprintf(stderr,
                ", \"pushed\": %" PRIu64 ", \"acked\": %" PRIu64
                ", \"resent\": %" PRIu64 ", \"unsent\": %" PRIu64,
                pt.queued, pt.acked, pt.resent, pt.unsent);
    }
    fputs("}}\n", stderr);
    if (r->push) {
        eg_push_totals pt;
        eg_push_totals_get(r->push, &pt);
        if (pt.unsent)
            cli_errorf("stream: %" PRIu64 " window states were not "
                       "acknowledged by the collector (\"unsent\")",
                       pt.unsent);
    }
}

static int run(srun *r)
{
    eg_error err;
    void *zctx = zmq_ctx_new();
    eg_ss *src = NULL;
    int rc = CLI_EXIT_OK;
    if (!zctx) {
        cli_errorf("stream: zmq_ctx_new failed");
        return CLI_EXIT_FAIL;
    }
    r->epoch = eg_random64();
#ifdef M_TRIM_THRESHOLD
    /* libzmq's I/O thread allocates each message and this thread frees
     * it: past glibc's default 128 KiB of free memory at the heap's top
     * every free gave pages back and the next message faulted them in
     * again (100,000 page faults for 20,000 messages of 64 KiB, a third
     * of the ZeroMQ source's time).  16 MiB kept is the price, paid by
     * that source only. */
    if (eg_ss_kind_of(r->o.from) == EG_SS_ZMQ)
        mallopt(M_TRIM_THRESHOLD, 16 << 20);
#endif
    r->carry_cap = EG_REC_LINE_MAX + 16;
    r->carry = malloc(r->carry_cap);
    eg_status st = r->carry ? eg_win_open(&r->win, &r->wc, &err) : EG_ENOMEM;
    if (st == EG_OK && r->o.push) {
        eg_curve_keys keys, *curve = NULL;
        memset(&keys, 0, sizeof keys);
        if (r->o.secret) {
            if ((st = eg_curve_available(&err)) == EG_OK &&
                (st = eg_curve_read_secret(r->o.secret, keys.secret_key,
                                           keys.public_key, &err)) == EG_OK)
                st = eg_curve_read_public(r->o.server_key, keys.server_key,
                                          &err);
            curve = &keys;
        }
        if (st == EG_OK)
            st = eg_push_open(&r->push, zctx, r->o.push, curve,
                              (size_t)r->o.outbox, 2.0, &err);
        eg_curve_wipe(&keys, sizeof keys);
    }
    eg_ss_opts so = {.name = r->box, .insecure = r->o.insecure, .zctx = zctx};
    if (st == EG_OK)
        st = eg_ss_open(&src, r->o.from, &so, &err);
    if (st != EG_OK) {
        rc = cli_engine_error(&err);
        goto out;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    r->last_arrival = eg_now();
    int eof = 0;
    while (!eof && !stop_signals && !r->failed) {
        if ((st = eg_ss_poll(src, poll_ms(r), on_data, r, &eof, &err)) !=
            EG_OK) {
            rc = cli_engine_error(&err);
            goto out;
        }
        tick(r);
        if (r->push)
            eg_push_service(r->push, eg_now());
    }
    if (r->failed) {
        rc = cli_engine_error(&r->err);
        goto out;
    }
    flush_carry(r);
    /* The end of the input is the end of time: every window closes. */
    eg_win_advance(r->win, INT64_MAX, on_closed, r);
    drain(r);
    print_totals(r, src);
out:
    eg_ss_close(&src);
    eg_push_close(&r->push);
    eg_win_close(&r->win);
    free(r->carry);
    zmq_ctx_term(zctx);
    return rc;
}

int cmd_stream(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"from", required_argument, NULL, OPT_FROM},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"dtype", required_argument, NULL, OPT_DTYPE},
        {"channels", required_argument, NULL, OPT_CHANNELS},
        {"fields", required_argument, NULL, OPT_FIELDS},
        {"time", required_argument, NULL, OPT_TIME},
        {"time-field", required_argument, NULL, OPT_TIME_FIELD},
        {"window", required_argument, NULL, OPT_WINDOW},
        {"slide", required_argument, NULL, OPT_SLIDE},
        {"lateness", required_argument, NULL, OPT_LATENESS},
        {"key", required_argument, NULL, OPT_KEY},
        {"ops", required_argument, NULL, OPT_OPS},
        {"mode", required_argument, NULL, OPT_MODE},
        {"nan", required_argument, NULL, OPT_NAN},
        {"ddof", required_argument, NULL, OPT_DDOF},
        {"json", no_argument, NULL, OPT_JSON},
        {"push", required_argument, NULL, OPT_PUSH},
        {"name", required_argument, NULL, OPT_NAME},
        {"curve-secret", required_argument, NULL, OPT_SECRET},
        {"server-key", required_argument, NULL, OPT_SERVER_KEY},
        {"insecure", no_argument, NULL, OPT_INSECURE},
        {"outbox", required_argument, NULL, OPT_OUTBOX},
        {"drain", required_argument, NULL, OPT_DRAIN},
        QUANT_LONGOPTS(OPT_QUANT),
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    srun r;
    memset(&r, 0, sizeof r);
    r.o.ops = EG_OPS_DEFAULT;
    r.o.drain_us = -1;
    eg_quant_opts_init(&r.o.q);
    int rc = cli_getopts("stream", stream_help, argc, argv, longopts,
                         parse_option, &r.o);
    if (rc == CLI_DONE)
        return CLI_EXIT_OK;
    if (rc != CLI_EXIT_OK)
        return rc;
    if (optind < argc)
        return cli_usage("stream", "unexpected argument '%s'", argv[optind]);
    rc = configure(&r);
    if (rc == CLI_EXIT_OK) {
        if (!r.o.outbox)
            r.o.outbox = 100000;
        if (r.o.drain_us < 0)
            r.o.drain_us = 5000000;
        rc = run(&r);
    }
    free(r.field_text);
    if (r.have_plan)
        eg_hist_plan_free(&r.plan);
    return rc;
}
